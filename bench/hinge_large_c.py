"""LinearSVC with the hinge loss at large C: fastlinear against scikit-learn.

At C = 10 and 100 scikit-learn's dual coordinate descent (liblinear ``-s 3``)
runs to ``max_iter=1000`` passes on w8a, a9a and most one-vs-rest problems
of 20 Newsgroups without meeting ``tol=1e-4``.  For each (workload, C) the
two fits run alternately (``--rounds`` times, medians reported), each with
its defaults but ``loss="hinge"``, ``C``, ``random_state=0``; the table gives
the fit time, the passes (the most of any one-vs-rest problem), whether the
fit converged, and the primal objective ``1/2 (||w||^2 + b^2) + C sum_i
max(0, 1 - y_i (w.x_i + b))`` (summed over the one-vs-rest problems).  The last columns answer "how soon does
fastlinear reach scikit-learn's objective": the fewest passes of the grid
``REACH_GRID`` (``max_iter`` of a fresh fit) whose objective is no higher, and
that fit's time.

Run (a few minutes with one round; imdb and news20 about ten)::

    FASTLINEAR_DATA=/path/to/data python bench/hinge_large_c.py --rounds 1
    FASTLINEAR_DATA=/path/to/data python bench/hinge_large_c.py --workloads imdb,news20 --Cs 1,10,100
"""
import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC, linear_svc_objective

import workloads as wl

CS = (10.0, 100.0)
WORKLOADS = ("w8a", "a9a")
#: ``max_iter`` values tried for the time to reach scikit-learn's objective.
REACH_GRID = (25, 50, 100, 200, 400, 700, 1000)


def objective(clf, X, y):
    """The primal objective, summed over the one-vs-rest problems."""
    return float(np.sum(linear_svc_objective(clf, X, y)))


def fit(cls, X, y, C, max_iter=1000, loss="hinge", seed=0):
    """Fit ``cls`` (either library's LinearSVC); ``(clf, seconds, converged)``."""
    clf = cls(loss=loss, C=C, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(X, y)
        elapsed = time.perf_counter() - t0
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return clf, elapsed, converged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--Cs", default=",".join(f"{C:g}" for C in CS))
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, one thread, rounds={args.rounds}")
    print("| workload | C | sklearn s | sklearn passes | sklearn P | fastlinear s | "
          "fastlinear passes | converged | fastlinear P | speed-up | passes to sklearn's P | "
          "time to sklearn's P | speed-up to sklearn's P |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.workloads.split(","):
        X, y, _, _ = wl.load_workload(name)
        for C in (float(c) for c in args.Cs.split(",")):
            times = {"sklearn": [], "fastlinear": []}
            for _ in range(args.rounds):
                sk, t_sk, conv_sk = fit(SkLinearSVC, X, y, C)
                ours, t_ours, conv_ours = fit(LinearSVC, X, y, C)
                times["sklearn"].append(t_sk)
                times["fastlinear"].append(t_ours)
            p_sk, p_ours = objective(sk, X, y), objective(ours, X, y)
            reach = ("not within 1000", float("nan"))
            for max_iter in REACH_GRID:
                clf, t, _ = fit(LinearSVC, X, y, C, max_iter=max_iter)
                if objective(clf, X, y) <= p_sk:
                    reach = (str(int(np.max(clf.n_iter_))), t)
                    break
            t_sk, t_ours = np.median(times["sklearn"]), np.median(times["fastlinear"])
            print(f"| {name} | {C:g} | {t_sk:.2f} | {int(np.max(sk.n_iter_))} | {p_sk:.7g} | "
                  f"{t_ours:.2f} | {int(np.max(ours.n_iter_))} | {conv_ours} | {p_ours:.7g} | "
                  f"{t_sk / t_ours:.2f}x | {reach[0]} | {reach[1]:.2f} | "
                  f"{t_sk / reach[1]:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
