"""Exact Newton (``fastlinear._newton_cholesky``) against scikit-learn's lbfgs and newton-cholesky.

Binary a9a at several C, multinomial dna.scale and satimage.scale at C = 1:
the time of each solver at ``tol=1e-4`` (scikit-learn's default; the same
max-|gradient| rule for all three), median of ``--repeat`` runs alternated in
one process, and each solution's objective in the units of
``f = 1/2 ||W_R||^2 + C sum_i loss_i`` as the relative gap to the lowest
objective of a ``tol=1e-12`` run of the exact solvers.

    python bench/newton_cholesky_timing.py --repeat 3 [--threads 1] [--blas-threads 1]

``--blas-threads`` limits BLAS (scikit-learn's products and factorisations)
for every solver; by default scikit-learn runs with BLAS's own thread count,
as its users get it.
"""
import argparse
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import log_expit, logsumexp
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from threadpoolctl import threadpool_limits

from fastlinear import _newton_cholesky
from fastlinear._problem import LinearProblem
from fastlinear._validation import proved_csr
from fastlinear.datasets import load_libsvm

DATA = Path(os.environ.get("FASTLINEAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def binary_objective(X, y_pm, W, C):
    w = W.ravel()
    z = X @ w[:-1] + w[-1]
    return 0.5 * float(w[:-1] @ w[:-1]) - C * float(np.sum(log_expit(y_pm * z)))


def multinomial_objective(X, y_ind, W, C):
    Z = X @ W[:-1] + W[-1]
    return 0.5 * float(np.sum(W[:-1] ** 2)) + C * float(
        np.sum(logsumexp(Z, axis=1) - Z[np.arange(len(y_ind)), y_ind]))


def ours(X, y, C, tol, n_threads):
    Xc = proved_csr(X)
    classes = np.unique(y)
    cost = np.full(X.shape[0], float(C))
    if classes.shape[0] == 2:
        y_pm = np.where(y == classes[1], 1.0, -1.0)
        problem = LinearProblem(Xc, y_pm, cost, "logistic", 1.0, reg_bias=False, lam=1.0)
        sol = _newton_cholesky.binary(problem, tol=tol, max_iter=100, n_threads=n_threads)
        return sol.w.reshape(-1, 1), sol.n_iter
    y_ind = np.searchsorted(classes, y)
    W, n_iter, _, _ = _newton_cholesky.multinomial(
        Xc, y_ind, cost, classes.shape[0], bias=1.0, lam=1.0, reg_bias=False,
        fixed_first=False, tol=tol * cost.sum(), max_iter=100, n_threads=n_threads)
    return W, n_iter


def sklearn(solver):
    def fit(X, y, C, tol, n_threads):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = SkLogisticRegression(C=C, tol=tol, solver=solver, max_iter=10**4).fit(X, y)
        W = np.vstack([est.coef_.T, est.intercept_])
        return W, int(np.max(est.n_iter_))
    return fit


def objective(X, y, W, C):
    classes = np.unique(y)
    if classes.shape[0] == 2:
        return binary_objective(X, np.where(y == classes[1], 1.0, -1.0), W, C)
    return multinomial_objective(X, np.searchsorted(classes, y), W, C)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--blas-threads", type=int, default=None)
    args = parser.parse_args()
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args):
    cases = [("a9a", 123, C) for C in (0.01, 1.0, 100.0)]
    cases += [("dna.scale", 180, 1.0), ("satimage.scale", 36, 1.0)]
    solvers = {"fastlinear newton-cholesky": ours, "sklearn lbfgs": sklearn("lbfgs"),
               "sklearn newton-cholesky": sklearn("newton-cholesky")}
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Hessian threads {args.threads}, BLAS threads {args.blas_threads or 'default'}, "
          f"median of {args.repeat}")
    print("| data | C | solver | time (s) | iterations | objective | rel. gap |")
    print("|---|---|---|---|---|---|---|")
    for name, n_features, C in cases:
        X, y = load_libsvm(DATA / f"{name}.bz2", n_features=n_features)
        best = min(objective(X, y, fit(X, y, C, 1e-12, args.threads)[0], C)
                   for fit in (ours, sklearn("newton-cholesky")))
        times = {s: [] for s in solvers}
        results = {}
        for _ in range(args.repeat):
            for label, fit in solvers.items():
                start = time.perf_counter()
                results[label] = fit(X, y, C, 1e-4, args.threads)
                times[label].append(time.perf_counter() - start)
        for label in solvers:
            W, n_iter = results[label]
            f = objective(X, y, W, C)
            print(f"| {name} | {C:g} | {label} | {statistics.median(times[label]):.3f} | "
                  f"{n_iter} | {f:.10g} | {(f - best) / abs(best):.1e} |")


if __name__ == "__main__":
    main()
