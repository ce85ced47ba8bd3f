"""Binary L1 logistic regression (liblinear's ``-s 6``): fastlinear vs scikit-learn vs liblinear-official.

For every data set and C, in one process, alternating the contenders
(``--repeat`` rounds of: fastlinear, scikit-learn, liblinear-official), one
BLAS thread for everyone, all on the same problem:

* ``fastlinear.LogisticRegression(solver="liblinear", l1_ratio=1, C=C)``
  (newGLMNET, ``src_c/_glmnet_fast.pyx``);
* ``sklearn.linear_model.LogisticRegression(solver="liblinear", l1_ratio=1, C=C)``;
* liblinear-official ``-s 6 -c C -B 1 -e tol``;

all with ``tol`` = ``-e`` (default 1e-3: liblinear's default for ``-s 6``,
0.01, leaves objectives up to 0.5 % apart, so times would compare unequal
quality; scikit-learn's 1e-4 takes ~20 Newton steps and 10+ s on a9a at
C = 1) and the intercept as a penalised constant feature of value 1.  Each time is the median of the
rounds (the fit only: data conversion to each library's format is done
once, outside the timing); beside it the objective
``||[w; b]||_1 + C sum_i log(1 + exp(-y_i (w.x_i + b)))`` relative to the
lowest of the three (``gap``).

    python bench/l1_logistic.py --out bench/results/L1_LOGISTIC.md
    python bench/l1_logistic.py --sets a9a --Cs 0.1 1 --repeat 3

Data come from ``bench/workloads.py`` and the shared data folder
(``FASTLINEAR_DATA``); a set that is absent is skipped with a message.
"""
import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fastlinear  # noqa: E402
from fastlinear import LogisticRegression  # noqa: E402

from workloads import DataUnavailable, hardware, load_workload, machine_info  # noqa: E402


def objective(coef, intercept, X, y, C):
    """liblinear's ``-s 6`` objective with ``-B 1`` (labels +-1)."""
    t = np.where(y > 0, 1.0, -1.0)
    z = np.asarray(X @ coef).ravel() + intercept
    return float(C * np.sum(np.logaddexp(0.0, -t * z)) + np.abs(coef).sum() + abs(intercept))


def load(name):
    X, y = load_workload(name)[:2]
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, np.where(y > 0, 1.0, -1.0)


def contenders(X, y, tol):
    """name -> fit(C) returning (coef, intercept, n_iter)."""
    def ours(C):
        est = LogisticRegression(solver="liblinear", l1_ratio=1, C=C, tol=tol,
                                 max_iter=1000).fit(X, y)
        return est.coef_[0], float(est.intercept_[0]), int(est.n_iter_[0])

    def sklearn(C):
        est = SkLogisticRegression(solver="liblinear", l1_ratio=1, C=C, tol=tol,
                                   max_iter=1000).fit(X, y)
        return est.coef_[0], float(est.intercept_[0]), int(est.n_iter_[0])

    table = {"fastlinear": ours, "sklearn liblinear": sklearn}
    try:
        from liblinear import liblinear, liblinearutil
    except ImportError:
        print("liblinear-official is not installed: skipped", file=sys.stderr)
        return table
    prob = liblinear.problem(y, X)  # built once, outside the timing

    def official(C):
        model = liblinearutil.train(prob, liblinear.parameter(f"-s 6 -c {C} -B 1 -e {tol} -q"))
        w = np.array([model.w[j] for j in range(X.shape[1] + 1)])
        sign = 1.0 if model.get_labels()[0] == 1 else -1.0
        return sign * w[:-1], sign * w[-1], -1

    table["liblinear-official"] = official
    return table


def run(sets, Cs, repeat, tol):
    rows = []
    for name in sets:
        try:
            X, y = load(name)
        except DataUnavailable as error:
            print(f"{name}: skipped ({error})", file=sys.stderr)
            continue
        fits = contenders(X, y, tol)
        for C in Cs:
            times = {k: [] for k in fits}
            result = {}
            for _ in range(repeat):
                for k, fit in fits.items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        start = time.perf_counter()
                        coef, b, n_iter = fit(C)
                        times[k].append(time.perf_counter() - start)
                    result[k] = (objective(coef, b, X, y, C), n_iter, int(np.count_nonzero(coef)))
            best = min(r[0] for r in result.values())
            for k in fits:
                J, n_iter, nnz = result[k]
                rows.append(dict(set=name, shape=f"{X.shape[0]} x {X.shape[1]}", C=C, who=k,
                                 time=statistics.median(times[k]), J=J, gap=(J - best) / best,
                                 n_iter=n_iter, nnz=nnz))
                print(f"{name:5s} C={C:<5g} {k:18s} {rows[-1]['time']:8.4f} s  J={J:.8g}  "
                      f"gap={rows[-1]['gap']:.1e}  nnz={nnz}", flush=True)
    return rows


def markdown(rows, command, tol, repeat):
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Binary L1 logistic regression (liblinear -s 6)",
        "",
        f"Command: `{command}`",
        "",
        f"fastlinear {fastlinear.__version__}; hardware: {hardware(machine_info())} (shared "
        f"with other jobs), {cpu}, Python {platform.python_version()}, one BLAS thread.",
        "",
        f"Same problem for all three: `||[w; b]||_1 + C sum_i log(1 + exp(-y_i (w.x_i + b)))`, bias "
        f"feature 1 (`-B 1`, `intercept_scaling=1`), `tol`/`-e` = {tol:g}, liblinear's stopping rule. "
        f"Time: median of {repeat} alternating rounds, fit only. `gap`: objective relative to the "
        "lowest of the three. `nnz`: nonzero weights (of the features).",
        "",
        "| set | C | fastlinear (s) | sklearn liblinear (s) | liblinear-official (s) "
        "| x sklearn | x official "
        "| J fastlinear | gap fastlinear | gap sklearn | gap official | nnz (ours/official) "
        "| Newton steps (ours) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keyed = {(r["set"], r["C"], r["who"]): r for r in rows}
    seen = []
    for r in rows:
        if (r["set"], r["C"]) not in seen:
            seen.append((r["set"], r["C"]))
    for name, C in seen:
        ours = keyed[(name, C, "fastlinear")]
        sk = keyed[(name, C, "sklearn liblinear")]
        off = keyed.get((name, C, "liblinear-official"))
        off_time = off["time"] if off else float("nan")
        lines.append(
            f"| {name} ({ours['shape']}) | {C:g} | {ours['time']:.4f} | {sk['time']:.4f} | "
            f"{off_time:.4f} | {sk['time'] / ours['time']:.2f} | {off_time / ours['time']:.2f} | "
            f"{ours['J']:.8g} | {ours['gap']:.1e} | "
            f"{sk['gap']:.1e} | {off['gap'] if off else float('nan'):.1e} | "
            f"{ours['nnz']}/{off['nnz'] if off else '-'} | {ours['n_iter']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "w8a"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.01, 0.1, 1.0, 10.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tol", type=float, default=0.001)
    parser.add_argument("--out", default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1, user_api="blas"):
        rows = run(args.sets, args.Cs, args.repeat, args.tol)
    if args.out and rows:
        command = "python bench/l1_logistic.py " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.out).write_text(markdown(rows, command.strip(), args.tol, args.repeat))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
