"""L1 / elastic-net logistic regression: do fastlinear and scikit-learn find the same model?

For each data set, ``C`` and ``l1_ratio`` of the grid, fastlinear's
``LogisticRegression(C=C, l1_ratio=r)`` is fitted at its default ``tol``
and at ``--tight-tol``, and scikit-learn's ``saga`` at ``tol=1e-10``
(``max_iter=--saga-max-iter`` epochs: a saga run that reaches it is reported
as not converged, with the gap it had).  Binary sets also compare
``solver="liblinear"`` (liblinear's problem: penalised intercept) with
scikit-learn's liblinear at ``tol=1e-10``, for ``l1_ratio=1``.

Every model is judged by one objective, :func:`fastlinear.logistic_objective`
(``C sum_i loss_i + (1 - r)/2 ||coef||^2 + r ||coef||_1``, the intercept
penalised only for liblinear), and by its nonzero coefficients:

* ``gap`` = ``F_fastlinear / F_sklearn - 1`` (negative: ours is lower);
* ``dz`` = the largest difference of the two models' decision functions
  on the training rows.  The logistic loss is strictly convex in the
  scores, so at the optimum the scores ``X coef + intercept`` are unique
  even where the coefficients are not (a9a's one-hot groups are linearly
  dependent: several supports reach the same objective); for K >= 3,
  after each row's mean over the classes is taken away;
* ``nnz`` = the count of nonzero coefficients of each, and ``diff`` the
  coefficients nonzero in exactly one of the two.

Data: a9a (LIBSVM, 32,561 x 123, binary), 20 Newsgroups vectorized (train,
11,314 x 130,107, 20 classes) from ``$FASTLINEAR_DATA`` (default
``shared/data`` beside the checkout; never downloaded), and a synthetic
sparse 5-class set (``multinomial_l1.synthetic`` at ``--synthetic-shape``).
One BLAS thread; fits one after another (the times are for orientation,
the speed tables are in the other reports).

    python bench/l1_same_solutions.py [--sets a9a synthetic news20] [--Cs 0.01 0.1 1 10]
"""
import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from threadpoolctl import threadpool_limits

from fastlinear import LogisticRegression, logistic_objective

sys.path.insert(0, str(Path(__file__).resolve().parent))
from multinomial_l1 import news20, synthetic  # noqa: E402

from workloads import DataUnavailable, find_shared_file, load_libsvm  # noqa: E402


def a9a():
    path = find_shared_file("a9a.bz2")
    if path is None:
        raise DataUnavailable("a9a.bz2 not found (set FASTLINEAR_DATA to the folder "
                              "holding the LIBSVM files).")
    X, y = load_libsvm(path, n_features=123)
    return X.tocsr(), y


def _fit(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est = make().fit(X, y)
        return time.perf_counter() - start, est


def _scores(est, X):
    """The decision function, each row's mean over the classes taken away
    for K >= 3 (the softmax model is the same for every shift)."""
    z = est.decision_function(X)
    return z - z.mean(axis=1, keepdims=True) if z.ndim == 2 else z


def _nonzero(est):
    coef = est.coef_
    coef = coef.toarray() if hasattr(coef, "toarray") else np.asarray(coef)
    return coef != 0


def compare(name, X, y, C, r, solver, ours_tols, sk_make, sk_label):
    """One grid cell: scikit-learn's reference fit, then ours at each tol."""
    sk_time, sk = _fit(sk_make, X, y)
    F_sk = logistic_objective(sk, X, y)
    sk_iter = int(np.max(sk.n_iter_))
    nz_sk = _nonzero(sk)
    z_sk = _scores(sk, X)
    row = dict(set=name, C=C, l1_ratio=r, solver=solver, reference=sk_label,
               ref_time=sk_time, ref_F=F_sk, ref_iter=sk_iter,
               ref_converged=sk_iter < sk.max_iter, ref_nnz=int(nz_sk.sum()), ours=[])
    for tol in ours_tols:
        t, est = _fit(lambda tol=tol: LogisticRegression(C=C, l1_ratio=r, solver=solver,
                                                         tol=tol, max_iter=1000), X, y)
        F = logistic_objective(est, X, y)
        nz = _nonzero(est)
        row["ours"].append(dict(tol=tol, time=t, F=F, gap=F / F_sk - 1.0,
                                dz=float(np.max(np.abs(_scores(est, X) - z_sk))),
                                n_iter=int(np.max(est.n_iter_)), nnz=int(nz.sum()),
                                diff=int((nz != nz_sk).sum())))
    return row


def print_row(row):
    ref = (f"{row['reference']}: {row['ref_time']:.2f} s, {row['ref_iter']}"
           f"{'' if row['ref_converged'] else ' (max_iter)'}, nnz {row['ref_nnz']}")
    ours = "; ".join(
        f"tol {o['tol']:g}: {o['time']:.2f} s, gap {o['gap']:+.1e}, dz {o['dz']:.0e}, "
        f"nnz {o['nnz']} "
        f"(diff {o['diff']})" for o in row["ours"])
    print(f"| {row['set']} | {row['solver']} | {row['C']:g} | {row['l1_ratio']:g} | {ref} | "
          f"{ours} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "synthetic", "news20"])
    parser.add_argument("--Cs", type=float, nargs="+", default=[0.01, 0.1, 1, 10])
    parser.add_argument("--l1-ratios", type=float, nargs="+", default=[1.0, 0.5])
    parser.add_argument("--tight-tol", type=float, default=1e-8)
    parser.add_argument("--saga-max-iter", type=int, default=10000)
    parser.add_argument("--synthetic-shape", type=int, nargs=2, default=[5000, 1000])
    parser.add_argument("--json", default=None, help="append the rows to this file")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}", flush=True)
    print("| set | solver | C | r | scikit-learn (time, iterations, nnz) | fastlinear |")
    print("|---|---|---|---|---|---|")
    ours_tols = [1e-4, args.tight_tol]
    for name in args.sets:
        try:
            if name == "a9a":
                X, y = a9a()
            elif name == "news20":
                X, y = news20()
            else:
                n, d = args.synthetic_shape
                X, y = synthetic(n=n, d=d, density=0.02)
        except (DataUnavailable, OSError) as exc:
            print(f"skipping {name}: {exc}", flush=True)
            continue
        binary = np.unique(y).shape[0] == 2
        for C in args.Cs:
            for r in args.l1_ratios:
                rows = []
                with threadpool_limits(1):
                    rows.append(compare(
                        name, X, y, C, r, "auto", ours_tols,
                        lambda C=C, r=r: SkLogisticRegression(
                            solver="saga", C=C, l1_ratio=r, tol=1e-10,
                            max_iter=args.saga_max_iter), "saga"))
                    if binary and r == 1.0:
                        rows.append(compare(
                            name, X, y, C, r, "liblinear", ours_tols,
                            lambda C=C: SkLogisticRegression(
                                solver="liblinear", C=C, l1_ratio=1.0, tol=1e-10,
                                max_iter=args.saga_max_iter), "liblinear"))
                for row in rows:
                    print_row(row)
                    if args.json:
                        with open(args.json, "a") as fh:
                            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
