"""How long each fit takes to stop after Ctrl-C, on an idle and on a loaded machine.

Runs every case of ``tests/test_interrupt.py`` (each estimator and solver,
with and without threads) and the CLI's ``train`` in a child process, sends
SIGINT two seconds into the fit and measures the time until the child has
caught ``KeyboardInterrupt`` (the child prints how long its fit ran; the
latency is the wall time from the signal to the ``except`` clause).  With
``--load N`` the script first starts N busy-loop processes (``while True:
pass``), as a shared CI machine would have, and stops them at the end.

    python bench/interrupt_latency.py --repeat 3 --load 0 --load 2 --out bench/results/INTERRUPT.md
"""
import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_interrupt import CASES  # noqa: E402  (the cases the tests run)

#: The child: the test's fit, timed from inside (the time the except clause
#: is reached, on the same clock as the parent's signal).
CHILD = """
import time
import numpy as np
import scipy.sparse as sp
rng = np.random.RandomState(0)
{data}
y = rng.randint(0, {classes}, size=X.shape[0]).astype(float)
{setup}
print("ready", flush=True)
try:
    est.fit(X, y)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def latency(code, after=2.0):
    """Seconds from SIGINT to the child's ``except KeyboardInterrupt``."""
    proc = subprocess.Popen([sys.executable, "-c", code], preexec_fn=_default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(proc.stderr.read())
        time.sleep(after)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    words = out.split()
    if not words or words[0] != "interrupted":
        raise RuntimeError(f"the fit was not interrupted: {out!r} {err[-500:]!r}")
    return float(words[1]) - sent


def cli_latency(tmp, after=6.0):
    """Seconds from SIGINT to ``fastlinear train``'s exit (status 130)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    data = Path(tmp) / "big.svm"
    if not data.exists():
        rng = np.random.RandomState(0)
        X = sp.random(20000, 2000, density=0.01, format="csr", random_state=rng)
        dump_svmlight_file(X, rng.randint(0, 2, size=20000), str(data), zero_based=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastlinear", "train", "-s", "3", "-c", "10000", "-e", "1e-15",
         "--max-iter", "100000000", str(data), str(Path(tmp) / "big.model")],
        preexec_fn=_default_sigint, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(after)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    if proc.returncode != 130:
        raise RuntimeError(f"fastlinear train exited {proc.returncode}, not 130")
    return elapsed


def measure(repeat, tmp):
    rows = {}
    for case in sorted(CASES):
        setup, classes, data = CASES[case]
        code = textwrap.dedent(CHILD).format(data=data, classes=classes, setup=setup)
        rows[case] = [latency(code) for _ in range(repeat)]
    # The CLI's figure includes the interpreter's exit (to status 130).
    rows["cli train -s 3 (to exit)"] = [cli_latency(tmp) for _ in range(repeat)]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", type=int, action="append",
                        help="busy-loop processes during a run (repeatable; default 0 and 2)")
    parser.add_argument("--out", help="write the Markdown table here as well")
    args = parser.parse_args(argv)
    loads = args.load or [0, 2]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for load in loads:
            busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(load)]
            try:
                results[load] = measure(args.repeat, tmp)
            finally:
                for proc in busy:
                    proc.kill()
                    proc.wait()
    cases = list(next(iter(results.values())))
    lines = [
        "# Ctrl-C latency",
        "",
        f"Seconds from SIGINT to `KeyboardInterrupt` in the fit (median and worst of "
        f"{args.repeat}), on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}; 'loaded' runs with busy-loop processes on the cores.",
        "Command: `python bench/interrupt_latency.py " + " ".join(argv or sys.argv[1:]) + "`",
        "",
        "| fit | " + " | ".join(f"{load} busy: median | worst" for load in loads) + " |",
        "|---|" + "---|---|" * len(loads),
    ]
    for case in cases:
        cells = []
        for load in loads:
            values = results[load][case]
            cells.append(f"{statistics.median(values):.3f} | {max(values):.3f}")
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
