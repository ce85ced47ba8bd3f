"""LinearSVC with the hinge loss at large C: fastlinear against scikit-learn.

At C = 10 and 100 both dual coordinate descents (liblinear ``-s 3``) run to
``max_iter=1000`` passes on w8a and a9a without meeting ``tol=1e-4``.  For
each (workload, C) the two fits run alternately (``--rounds`` times, medians
reported), each with its defaults but ``loss="hinge"``, ``C``,
``random_state=0``; the table gives the fit time, the passes, whether the fit
converged, and the primal objective ``1/2 (||w||^2 + b^2) + C sum_i
max(0, 1 - y_i (w.x_i + b))``.  The last columns answer "how soon does
fastlinear reach scikit-learn's objective": the fewest passes of the grid
``REACH_GRID`` (``max_iter`` of a fresh fit) whose objective is no higher, and
that fit's time.

Run (a few minutes with one round)::

    FASTLINEAR_DATA=/path/to/data python bench/hinge_large_c.py --rounds 1
"""
import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC

import workloads as wl

CS = (10.0, 100.0)
WORKLOADS = ("w8a", "a9a")
#: ``max_iter`` values tried for the time to reach scikit-learn's objective.
REACH_GRID = (25, 50, 100, 200, 400, 700, 1000)


def objective(clf, X, y_pm, C):
    w, b = clf.coef_.ravel(), float(clf.intercept_[0])
    margin = 1.0 - y_pm * (X @ w + b)
    return 0.5 * (w @ w + b * b) + C * float(np.maximum(margin, 0.0).sum())


def fit(cls, X, y, C, max_iter=1000):
    clf = cls(loss="hinge", C=C, max_iter=max_iter, random_state=0)
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
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, one thread, rounds={args.rounds}")
    print("| workload | C | sklearn s | sklearn passes | sklearn P | fastlinear s | "
          "fastlinear passes | converged | fastlinear P | speed-up | passes to sklearn's P | "
          "time to sklearn's P | speed-up to sklearn's P |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.workloads.split(","):
        X, y, _, _ = wl.load_workload(name)
        y_pm = np.where(y == np.unique(y)[1], 1.0, -1.0)
        for C in CS:
            times = {"sklearn": [], "fastlinear": []}
            for _ in range(args.rounds):
                sk, t_sk, conv_sk = fit(SkLinearSVC, X, y, C)
                ours, t_ours, conv_ours = fit(LinearSVC, X, y, C)
                times["sklearn"].append(t_sk)
                times["fastlinear"].append(t_ours)
            p_sk, p_ours = objective(sk, X, y_pm, C), objective(ours, X, y_pm, C)
            reach = ("not within 1000", float("nan"))
            for max_iter in REACH_GRID:
                clf, t, _ = fit(LinearSVC, X, y, C, max_iter=max_iter)
                if objective(clf, X, y_pm, C) <= p_sk:
                    reach = (str(int(clf.n_iter_)), t)
                    break
            t_sk, t_ours = np.median(times["sklearn"]), np.median(times["fastlinear"])
            print(f"| {name} | {C:g} | {t_sk:.2f} | {int(sk.n_iter_)} | {p_sk:.7g} | "
                  f"{t_ours:.2f} | {int(ours.n_iter_)} | {conv_ours} | {p_ours:.7g} | "
                  f"{t_sk / t_ours:.2f}x | {reach[0]} | {reach[1]:.2f} | "
                  f"{t_sk / reach[1]:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
