"""Ctrl-C stops every fit long before it would have ended, and leaves the estimator unfitted.

Each case runs in a child process: a fit sized to run for far longer than
the test (tiny ``tol``, huge ``max_iter``, or an n = 10,000 kernel matrix)
starts, the parent sends SIGINT 2 s later and waits for the child to stop.
The bound on the time to stop is generous (``STOP_WITHIN``, 10 s), so that a
loaded CI machine does not fail the test; the latency itself (well under a
second) is measured by ``bench/interrupt_latency.py``.  With threads, the
child also checks that no worker keeps computing once ``KeyboardInterrupt``
reached it.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

#: Seconds a fit may take to stop after SIGINT (the child then sleeps 1 s for
#: its CPU check).  Generous on purpose: latency is measured in bench/.
STOP_WITHIN = 10.0
#: Seconds after which a child ends itself (SIGALRM), whatever it is doing:
#: a child whose test runner was killed before it could send SIGINT would
#: otherwise fit on, for hours, on a machine shared with other jobs.
CHILD_LIFETIME = 300

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = """
import sys, time
import numpy as np
import scipy.sparse as sp
rng = np.random.RandomState(0)
{data}
y = rng.randint(0, {classes}, size=X.shape[0]).astype(float)
{setup}
print("ready", flush=True)
start = time.perf_counter()
try:
    est.fit(X, y)
    print("finished", time.perf_counter() - start, flush=True)
except KeyboardInterrupt:
    cpu = time.process_time()
    time.sleep(1.0)
    print("interrupted", hasattr(est, "coef_") or hasattr(est, "dual_coef_"),
          time.process_time() - cpu, flush=True)
"""

SPARSE = ("X = sp.random(20000, 2000, density=0.01, format='csr', random_state=rng)\n"
          "X.data = rng.exponential(size=X.nnz)")
# Newton solves the sparse problem in a few steps; nearly collinear columns
# keep its conjugate gradients busy for many seconds.
COLLINEAR = "X = sp.csr_matrix(rng.randn(40000, 20) @ rng.randn(20, 600) + 1e-3 * rng.randn(40000, 600))"

CASES = {
    "dual": ("from fastlinear import LinearSVC\n"
             "est = LinearSVC(C=1e4, loss='hinge', tol=1e-15, max_iter=10**8)", 2, SPARSE),
    "primal": ("from fastlinear import LinearSVC\n"
               "est = LinearSVC(C=1e4, dual=False, tol=1e-300, max_iter=10**8)", 2, COLLINEAR),
    "one_vs_rest_threads": ("from fastlinear import LinearSVC\n"
                            "est = LinearSVC(C=1e4, loss='hinge', tol=1e-15, max_iter=10**8, n_jobs=2)", 4, SPARSE),
    # (On the sparse set coordinate descent reaches rounding level, where a
    # pass changes no weight, within 2 s and stops: the collinear columns
    # keep it moving.)
    "l1": ("from fastlinear import LinearSVC\n"
           "est = LinearSVC(penalty='l1', dual=False, C=1e4, tol=1e-300, max_iter=10**8)", 2, COLLINEAR),
    "crammer_singer": ("from fastlinear import LinearSVC\n"
                       "est = LinearSVC(multi_class='crammer_singer', C=1e4, tol=1e-15, max_iter=10**8)", 4, SPARSE),
    "svr": ("from fastlinear import LinearSVR\n"
            "est = LinearSVR(C=1e4, tol=1e-300, max_iter=10**8)", 2, SPARSE),
    # The mini-batch kernel with nothing to stop it (the exact solvers end
    # at rounding level even with tol=0: about 50 Newton steps here).
    "logistic": ("from fastlinear import LogisticRegression\n"
                 "est = LogisticRegression(C=1e4, solver='svrg', tol=0.0, n_iter_no_change=10**6, "
                 "max_iter=10**6)", 4, SPARSE),
    # Multinomial Newton-CG, 20 classes at C = 1e6: minutes of Newton steps.
    "logistic_newton_cg": ("from fastlinear import LogisticRegression\n"
                           "est = LogisticRegression(C=1e6, solver='newton-cg', tol=0.0, "
                           "max_iter=10**6)", 20, SPARSE),
    "logistic_l1": ("from fastlinear import LogisticRegression\n"
                    "est = LogisticRegression(solver='liblinear', l1_ratio=1, C=1e4, tol=1e-300, "
                    "max_iter=10**8)", 2, COLLINEAR),
    # The blocked Cholesky factorisation (n = 10,000: several seconds).
    "kernel_ridge": ("from fastlinear import KernelRidge\n"
                     "est = KernelRidge(kernel='rbf', gamma=0.1)", 2,
                     "X = rng.randn(10000, 5)"),
    "cv_threads": ("from fastlinear import LinearSVCCV\n"
                   "est = LinearSVCCV(Cs=[1e4], loss='hinge', tol=1e-15, max_iter=10**8, n_jobs=2)", 2, SPARSE),
}


def _default_sigint():
    """In the child, before exec: SIGINT back to its default disposition,
    and an alarm in ``CHILD_LIFETIME`` s (kept across exec; its default
    action ends the process).

    A process started in the background by a shell without job control
    inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler: the test would measure the runner's shell, not fastlinear.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.alarm(CHILD_LIFETIME)


def _interrupt(code, after=2.0):
    """Run ``code`` in a child; SIGINT ``after`` s into the fit; (stdout, seconds to stop)."""
    proc = subprocess.Popen([sys.executable, "-c", code], preexec_fn=_default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(after)
        assert proc.poll() is None, "the fit ended before the signal: make it longer"
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        return out, time.perf_counter() - sent, err
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("case", sorted(CASES))
def test_ctrl_c_stops_the_fit(case):
    setup, classes, data = CASES[case]
    code = textwrap.dedent(CHILD).format(data=data, classes=classes, setup=setup)
    out, elapsed, err = _interrupt(code)
    assert out.startswith("interrupted"), (out, err)
    _, fitted, cpu_after = out.split()
    # The child exits 1 s after catching the interrupt (its CPU check).
    assert elapsed - 1.0 <= STOP_WITHIN, elapsed
    assert fitted == "False"  # no half-written attributes
    # No worker thread kept computing: one that did would use about the
    # whole second (more than half of it on a loaded two-core machine); a
    # BLAS thread spinning down after its last call uses a few hundredths.
    assert float(cpu_after) < 0.35


def test_cli_train_exits_130_and_writes_no_model(tmp_path):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.RandomState(0)
    X = sp.random(20000, 2000, density=0.01, format="csr", random_state=rng)
    y = rng.randint(0, 2, size=20000)
    data = tmp_path / "big.svm"
    dump_svmlight_file(X, y, str(data), zero_based=False)
    model = tmp_path / "big.model"
    argv = ["train", "-s", "3", "-c", "10000", "-e", "1e-15", "--max-iter", "100000000",
            str(data), str(model)]
    # What `python -m fastlinear` runs, with a line once the imports are
    # done: a signal during the imports (seconds on a loaded machine) would
    # come before the command exists to catch it.
    code = ("import sys\nfrom fastlinear.cli import main\nprint('ready', flush=True)\n"
            f"sys.exit(main({argv!r}))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], preexec_fn=_default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(3.0)  # reading the file, then fitting
        assert proc.poll() is None
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        elapsed = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert elapsed <= STOP_WITHIN
    assert err.strip().splitlines() == ["fastlinear train: interrupted"], err
    assert not model.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".fastlinear-")]


def test_cli_ctrl_c_as_the_command_ends_is_one_line(tmp_path):
    """A Ctrl-C sent when train has printed its last line reached Python as
    the command returned (a KeyboardInterrupt traceback, death by SIGINT);
    console() reports it as an interrupt and ignores Ctrl-C during the
    interpreter's shut-down.  The model file is whole."""
    import numpy as np
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    data = tmp_path / "small.svm"
    dump_svmlight_file(X, (X[:, 0] > 0).astype(int), str(data), zero_based=False)
    model = tmp_path / "small.model"
    code = ("import sys\nfrom fastlinear.cli import console\n"
            f"sys.argv = ['fastlinear', 'train', {str(data)!r}, {str(model)!r}]\n"
            "sys.exit(console())\n")
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-u", "-c", code], preexec_fn=_default_sigint,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert "model saved" in line, (line, err)
        assert "Traceback" not in err, err
        assert proc.returncode in (0, 130), (proc.returncode, err)
        assert err.strip() in ("", "fastlinear train: interrupted"), err
        assert model.read_text().startswith("solver_type ")
