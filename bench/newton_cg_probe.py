"""The CG constant of the primal Newton kernel: 0.1 or 0.5 from the default start.

The primal Newton kernel (``src_c/_newton_fast.pyx``: liblinear's ``-s 0``,
``-s 2`` and ``-s 11``, and scikit-learn's ``newton-cg`` for binary
logistic regression) stops each step's conjugate gradients when
``k (Q_k - Q_{k-1}) >= min(eps_cg, sqrt(||g||_{M^-1})) Q_k``.  This script
times whole fits with the constant fixed to each of ``--eps-cg``
(``fastlinear._solvers.NEWTON_EPS_CG`` and ``NEWTON_EPS_CG_TIGHT`` both set
to it), alternated in one process (one thread, one BLAS thread), and
prints per set, solver and C the median time, Newton steps and the
objective relative to the row's lowest.  liblinear-official (the reference
for ``-s 0`` and ``-s 2``) runs in the same rounds on the same problem with
``-B 1`` and the same ``-e`` (``--tol``, 0.01 by default as liblinear's).

Solvers (``--solvers``):

* ``s0``: ``LogisticRegression(solver="liblinear", C=C, tol=0.01)``,
  liblinear's ``-s 0 -e 0.01``;
* ``s2``: ``LinearSVC(dual=False, C=C, tol=0.01)``, ``-s 2 -e 0.01``;
* ``newton-cg``: ``LogisticRegression(solver="newton-cg", C=C)``
  (scikit-learn's problem and stopping test, ``tol=1e-4``);
* ``s11``: ``LinearSVR(dual=False, loss="squared_epsilon_insensitive",
  C=C, tol=0.01)`` on the regression sets.

(``tol=0.01`` above stands for ``--tol``.)

::

    FASTLINEAR_DATA=/work/shared/data python bench/newton_cg_probe.py \\
        --sets a9a w8a --solvers s0 s2 newton-cg --Cs 0.01 1 100
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fastlinear import (  # noqa: E402
    LinearSVC,
    LinearSVR,
    LogisticRegression,
    _solvers,
    linear_svc_objective,
    linear_svr_objective,
    logistic_objective,
)

from workloads import DataUnavailable, load_workload  # noqa: E402

LIBLINEAR_TYPE = {"s0": 0, "s2": 2}
DEFAULTS = (_solvers.NEWTON_EPS_CG, _solvers.NEWTON_EPS_CG_TIGHT)


def _make(solver, C, tol):
    if solver == "s0":
        return LogisticRegression(solver="liblinear", C=C, tol=tol), logistic_objective
    if solver == "newton-cg":
        return LogisticRegression(solver="newton-cg", C=C), logistic_objective
    if solver == "s2":
        return LinearSVC(dual=False, C=C, tol=tol), linear_svc_objective
    return (LinearSVR(dual=False, loss="squared_epsilon_insensitive", C=C, tol=tol),
            linear_svr_objective)


def _liblinear(solver, X, y, C, tol):
    """A function timing one liblinear-official fit of the same problem, or None."""
    if solver not in LIBLINEAR_TYPE:
        return None
    try:
        from liblinear import liblinearutil
    except ImportError:
        return None
    labels = np.where(y == np.unique(y)[1], 1.0, -1.0)
    problem = liblinearutil.problem(labels, X)
    s = LIBLINEAR_TYPE[solver]

    def train():
        start = time.perf_counter()
        liblinearutil.train(problem, f"-s {s} -c {C} -e {tol} -B 1 -q")
        return time.perf_counter() - start
    return train


def row(X, y, solver, C, tol, eps_cgs, repeat):
    """{contender: (median seconds, n_iter, objective)}."""
    times = {e: [] for e in eps_cgs}
    fits = {}
    lib = _liblinear(solver, X, y, C, tol)
    lib_times = []
    for _ in range(repeat):
        for e in eps_cgs:
            _solvers.NEWTON_EPS_CG = _solvers.NEWTON_EPS_CG_TIGHT = e
            est, objective = _make(solver, C, tol)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                est.fit(X, y)
                times[e].append(time.perf_counter() - start)
            fits[e] = (int(np.max(est.n_iter_)), float(np.sum(objective(est, X, y))))
        if lib is not None:
            lib_times.append(lib())
    out = {e: (float(np.median(times[e])),) + fits[e] for e in eps_cgs}
    if lib_times:
        out["liblinear"] = (float(np.median(lib_times)), 0, np.nan)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "w8a"])
    parser.add_argument("--solvers", nargs="+", default=["s0", "s2", "newton-cg"],
                        choices=["s0", "s2", "newton-cg", "s11"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.01, 1.0, 100.0])
    parser.add_argument("--eps-cg", nargs="+", type=float, default=[0.1, 0.5])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tol", type=float, default=0.01,
                        help="tol of s0, s2, s11 (liblinear's -e); newton-cg keeps 1e-4")
    args = parser.parse_args(argv)
    base = " | ".join(f"eps_cg {e:g} s (it, gap)" for e in args.eps_cg)
    print(f"| set | solver | C | {base} | liblinear-official s | "
          f"x ({args.eps_cg[-1]:g} vs {args.eps_cg[0]:g}) |")
    print("|---|---|---|" + "---|" * (len(args.eps_cg) + 2))
    try:
        with threadpool_limits(1):
            _table(args)
    finally:
        _solvers.NEWTON_EPS_CG, _solvers.NEWTON_EPS_CG_TIGHT = DEFAULTS


def _table(args):
    """One printed row per set, solver and C."""
    for name in args.sets:
        try:
            X, y = load_workload(name)[:2]
        except (DataUnavailable, KeyError) as exc:
            print(f"skipped {name}: {exc}", file=sys.stderr)
            continue
        for solver in args.solvers:
            if (solver == "s11") != (name in ("imdb_ratings", "synthetic_regression")):
                continue
            for C in args.Cs:
                r = row(X, y, solver, C, args.tol, args.eps_cg, args.repeat)
                best = min(r[e][2] for e in args.eps_cg)
                cells = " | ".join(f"{r[e][0]:.3f} ({r[e][1]}, {r[e][2] / best - 1:.1e})"
                                   for e in args.eps_cg)
                lib = f"{r['liblinear'][0]:.3f}" if "liblinear" in r else ""
                ratio = r[args.eps_cg[0]][0] / r[args.eps_cg[-1]][0]
                print(f"| {name} | {solver} | {C:g} | {cells} | {lib} | {ratio:.2f} |",
                      flush=True)


if __name__ == "__main__":
    main()
