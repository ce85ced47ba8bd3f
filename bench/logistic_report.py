"""LogisticRegression, defaults against defaults: fastlinear vs scikit-learn (and liblinear).

For every data set and C, in one process, alternating the contenders
(``--repeat`` rounds of: fastlinear, then each scikit-learn solver), one BLAS
thread for everyone (``--blas-threads default``: no limit, as a user who
sets none runs them):

* ``fastlinear.LogisticRegression(C=C)``: its defaults (``solver="auto"``,
  ``tol=1e-4``);
* ``sklearn.linear_model.LogisticRegression(C=C)``: its defaults (lbfgs);
* scikit-learn's other exact solvers at their defaults (``newton-cg``, and
  ``newton-cholesky`` where its Hessian is small), the fastest of which is
  reported as "fastest sklearn";
* with ``--liblinear``, liblinear's ``-s 0`` and ``-s 7`` against
  liblinear-official at the same ``-c``, ``-e`` and ``-B 1``, for each
  ``-e`` of ``--liblinear-tols`` (by default liblinear's ``0.01`` and
  scikit-learn's ``1e-4``; fastlinear's
  ``LogisticRegression(solver="liblinear", dual=...)`` fitted as
  ``fastlinear train`` fits it, :func:`fastlinear.cli.fit_as_liblinear`:
  ``-s 7`` continues with ``-s 0`` after 300 passes short of ``-e``, as
  liblinear-official does).

Each time is the median of the rounds; each objective (scikit-learn's ``J``,
:func:`fastlinear.logistic_objective`) is reported relative to the lowest
any contender reached (``gap``).  A fastlinear cell counts as "met" when it
is at least 1.5x faster than both scikit-learn figures and its objective is
no worse than scikit-learn's default's + 1e-6 (relative).

    python bench/logistic_report.py --out bench/results/LOGISTIC.md
    python bench/logistic_report.py --sets a9a dna --Cs 0.1 1 --repeat 3

Data come from ``bench/workloads.py`` and the shared data folder
(``FASTLINEAR_DATA``); a set that is absent is skipped with a message.
"""
import argparse
import contextlib
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
from fastlinear import LogisticRegression, _solver_table, logistic_objective  # noqa: E402
from fastlinear.cli import fit_as_liblinear  # noqa: E402
from fastlinear.datasets import load_libsvm  # noqa: E402

from workloads import (  # noqa: E402
    DataUnavailable,
    find_shared_file,
    hardware,
    load_workload,
    machine_info,
)

#: sklearn's newton-cholesky forms a (d K)^2 Hessian: only where it is small.
SK_CHOLESKY_MAX = 2000


def _libsvm(name, n_features):
    path = find_shared_file(name)
    if path is None:
        raise DataUnavailable(f"{name} not found in the shared data folder (FASTLINEAR_DATA)")
    X, y = load_libsvm(path, n_features=n_features)
    return X, y


def load(name):
    """(X, y) of a training set, int32 indices (scikit-learn's solvers need them)."""
    if name == "dna":
        X, y = _libsvm("dna.scale.bz2", 180)
    elif name == "satimage":
        X, y = _libsvm("satimage.scale.bz2", 36)
    else:
        X, y = load_workload(name)[:2]
    X = sp.csr_matrix(X)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


def _timed(make, X, y):
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start, est


def cell(X, y, C, repeat):
    """{contender: (median seconds, objective, n_iter, note)} for one (data, C)."""
    K = np.unique(y).shape[0]
    contenders = {
        "fastlinear": lambda: LogisticRegression(C=C),
        "sklearn lbfgs": lambda: SkLogisticRegression(C=C),
        "sklearn newton-cg": lambda: SkLogisticRegression(C=C, solver="newton-cg"),
    }
    if (X.shape[1] + 1) * (1 if K == 2 else K) <= SK_CHOLESKY_MAX:
        contenders["sklearn newton-cholesky"] = lambda: SkLogisticRegression(
            C=C, solver="newton-cholesky")
    times = {name: [] for name in contenders}
    fitted = {}
    for _ in range(repeat):
        for name, make in contenders.items():
            seconds, est = _timed(make, X, y)
            times[name].append(seconds)
            fitted[name] = est
    out = {}
    for name, est in fitted.items():
        note = getattr(est, "solver_", "")
        out[name] = (statistics.median(times[name]), logistic_objective(est, X, y),
                     int(np.max(est.n_iter_)), note)
    return out


def lbfgs_to(X, y, C, target, repeat):
    """scikit-learn's lbfgs run to fastlinear's objective: the loosest ``tol``
    of a ladder (``max_iter=10**4``) whose objective is at most ``target``;
    ``(median seconds, tol)``, or ``(seconds of the tightest, None)``."""
    for tol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10):
        make = lambda: SkLogisticRegression(C=C, tol=tol, max_iter=10**4)  # noqa: E731
        seconds, est = _timed(make, X, y)
        if logistic_objective(est, X, y) <= target:
            times = [seconds] + [_timed(make, X, y)[0] for _ in range(repeat - 1)]
            return statistics.median(times), tol
    return seconds, None


class LiblinearFit:
    """``fit`` as ``fastlinear train`` fits ``est`` for the solver ``row``."""

    def __init__(self, est, row):
        self.est, self.row = est, row

    def fit(self, X, y):
        fit_as_liblinear(self.est, X, y, self.row)
        return self


def liblinear_cell(X, y, C, tol, repeat):
    """fastlinear's -s 0 / -s 7 against liblinear-official (same -c, -e, -B 1)."""
    from liblinear import liblinearutil

    rows = {}
    y_pm = np.where(y == np.unique(y)[1], 1, -1)
    problem = liblinearutil.problem(y_pm, X)
    for s, dual in ((0, False), (7, True)):
        ours, theirs = [], []
        for _ in range(repeat):
            make = lambda: LiblinearFit(LogisticRegression(  # noqa: E731
                C=C, solver="liblinear", dual=dual, tol=tol, max_iter=1000, random_state=0),
                _solver_table.by_number(s))
            t, est = _timed(make, X, y)
            est = est.est
            ours.append(t)
            start = time.perf_counter()
            model = liblinearutil.train(problem, f"-s {s} -c {C} -e {tol} -B 1 -q")
            theirs.append(time.perf_counter() - start)
        w = np.array(model.get_decfun()[0])
        b = model.get_decfun()[1]
        z = np.asarray(X @ w).ravel() + b
        J_lib = 0.5 * (w @ w + b * b) + C * np.logaddexp(0, -y_pm * z).sum()
        rows[f"-s {s}"] = (statistics.median(ours), logistic_objective(est, X, y),
                           statistics.median(theirs), J_lib)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+",
                        default=["a9a", "w8a", "dna", "satimage", "news20", "imdb"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.01, 0.1, 1.0, 10.0, 100.0])
    parser.add_argument("--big-Cs", nargs="+", type=float, default=[0.01, 1.0, 100.0],
                        help="the C grid of the large sets (news20, imdb, synthetic)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--liblinear", action="store_true")
    parser.add_argument("--liblinear-tols", nargs="+", type=float, default=[0.01, 1e-4],
                        help="the -e values of the --liblinear rows")
    parser.add_argument("--blas-threads", default="1",
                        help="BLAS threads for every contender: a number, or 'default' for no "
                             "limit (OpenBLAS's own: one per core; fastlinear's fit then "
                             "limits itself to its n_jobs)")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.blas_threads == "default":
        blas, blas_text = contextlib.nullcontext(), "BLAS threads at their default (no limit)"
    else:
        n_blas = int(args.blas_threads)
        blas = threadpool_limits(limits=n_blas, user_api="blas")
        blas_text = ("one BLAS thread" if n_blas == 1 else f"{n_blas} BLAS threads") + \
            " for every contender"
    lines = [
        "# LogisticRegression: defaults against defaults",
        "",
        f"fastlinear {fastlinear.__version__}; {hardware(machine_info())} "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"{blas_text}; times are medians of "
        f"{args.repeat} alternating rounds.",
        f"Command: `python bench/logistic_report.py {' '.join(argv or sys.argv[1:])}`",
        "",
        "gap = objective / lowest objective of the cell - 1.  x lbfgs, x fastest = "
        "scikit-learn's time / fastlinear's.",
        "",
        "| data | C | fastlinear s (solver, iters, gap) | lbfgs s (gap) | fastest sklearn s "
        "(solver, gap) | x lbfgs | x fastest | met | lbfgs to fastlinear's J: s (tol) "
        "| x equal J |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    with blas:
        for name in args.sets:
            try:
                X, y = load(name)
            except (DataUnavailable, OSError) as exc:
                print(f"skip {name}: {exc}", file=sys.stderr)
                continue
            big = X.shape[1] > 10_000
            for C in (args.big_Cs if big else args.Cs):
                res = cell(X, y, C, 1 if big else args.repeat)
                best = min(r[1] for r in res.values())
                ours = res["fastlinear"]
                lbfgs = res["sklearn lbfgs"]
                others = {k: v for k, v in res.items() if k.startswith("sklearn")}
                fastest = min(others, key=lambda k: others[k][0])
                fast = others[fastest]
                x_lbfgs, x_fast = lbfgs[0] / ours[0], fast[0] / ours[0]
                met = (min(x_lbfgs, x_fast) >= 1.5
                       and ours[1] <= lbfgs[1] * (1 + 1e-6))
                ratios.append((x_lbfgs, x_fast, met))
                gap = lambda r: r[1] / best - 1  # noqa: E731
                eq_time, eq_tol = lbfgs_to(X, y, C, ours[1] * (1 + 1e-6), 1 if big else args.repeat)
                eq = (f"{eq_time:.3f} ({eq_tol:g}) | {eq_time / ours[0]:.2f}" if eq_tol
                      else f"> {eq_time:.3f} (not reached at 1e-10) | > {eq_time / ours[0]:.2f}")
                row = (f"| {name} | {C:g} | {ours[0]:.3f} ({ours[3]}, {ours[2]}, {gap(ours):.1e}) "
                       f"| {lbfgs[0]:.3f} ({gap(lbfgs):.1e}) | {fast[0]:.3f} "
                       f"({fastest.split()[1]}, {gap(fast):.1e}) | {x_lbfgs:.2f} | {x_fast:.2f} "
                       f"| {'yes' if met else 'no'} | {eq} |")
                print(row, flush=True)
                lines.append(row)
                if not (args.liblinear and np.unique(y).shape[0] == 2):
                    continue
                for tol in args.liblinear_tols:
                    for s, (t, J, t_lib, J_lib) in liblinear_cell(X, y, C, tol, args.repeat).items():
                        lib_row = (f"| {name} liblinear {s} -e {tol:g} | {C:g} | {t:.3f} "
                                   f"(J / J_official - 1: {(J - J_lib) / J_lib:+.1e}) | | "
                                   f"liblinear-official {t_lib:.3f} (J {J_lib:.8g}) | "
                                   f"| {t_lib / t:.2f} | | | |")
                        print(lib_row, flush=True)
                        lines.append(lib_row)
    if ratios:
        xl = [r[0] for r in ratios]
        xf = [r[1] for r in ratios]
        lines += ["", f"Cells: {len(ratios)}; met {sum(r[2] for r in ratios)}; "
                  f"x lbfgs median {statistics.median(xl):.2f} (min {min(xl):.2f}); "
                  f"x fastest median {statistics.median(xf):.2f} (min {min(xf):.2f})."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
