"""L1 / elastic-net multinomial logistic regression: proximal Newton against scikit-learn's saga.

The problem is ``LogisticRegression(solver="saga", C=C, l1_ratio=r)`` on
K >= 3 classes; both solvers are judged by the objective (``C n`` times
scikit-learn's)::

    F = C sum_i CE_i + (1 - r)/2 ||coef||_F^2 + r ||coef||_1

Ours (``fastlinear._prox_newton.fit_multinomial_l1``) runs at ``--tol``; saga
runs at each tolerance of ``--saga-tols`` in turn until its objective is
within ``1e-6`` (relative) of ours or its time budget (``--saga-budget``
seconds per setting) is spent, and every saga run is reported.  Data:
a synthetic sparse 5-class set (20000 x 5000, 1 % nonzeros, fixed seed) and
20 Newsgroups (``sklearn.datasets.fetch_20newsgroups_vectorized`` from
``$FASTLINEAR_DATA``, default ``shared/data`` beside the checkout; never
downloaded).

    python bench/multinomial_l1.py [--sets synthetic news20] [--tol 1e-6]
"""
import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from fastlinear._prox_newton import fit_multinomial_l1

DATA = Path(os.environ.get("FASTLINEAR_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))

#: (set, C, l1_ratio) settings of the report.
SETTINGS = {
    "synthetic": [(0.1, 1.0), (0.1, 0.5), (0.03, 1.0), (0.03, 0.5)],
    "news20": [(1.0, 1.0), (1.0, 0.5)],
}


def synthetic(n=20000, d=5000, K=5, density=0.01, seed=0):
    """Sparse Gaussian features; labels drawn from a softmax of 500 true features."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    W = np.zeros((d, K))
    support = rng.choice(d, 500, replace=False)
    W[support] = 2.0 * rng.standard_normal((500, K))
    Z = X @ W
    P = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
    y = (P.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return X, y


def news20():
    from sklearn.datasets import fetch_20newsgroups_vectorized

    bunch = fetch_20newsgroups_vectorized(subset="train", data_home=str(DATA),
                                          download_if_missing=False)
    return bunch.data.tocsr(), bunch.target


def objective(X, y, coef, intercept, C, r):
    Z = np.asarray(X @ coef.T) + intercept
    ce = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    return (C * float(ce.sum()) + 0.5 * (1 - r) * float((coef ** 2).sum())
            + r * float(np.abs(coef).sum()))


def run(name, X, y, C, r, tol, saga_tols, budget):
    t = time.perf_counter()
    coef, intercept, n_iter, converged = fit_multinomial_l1(
        X, y, np.full(X.shape[0], C), r, tol=tol, max_iter=200)
    ours_time = time.perf_counter() - t
    F = objective(X, y, coef, intercept, C, r)
    row = dict(set=name, C=C, l1_ratio=r, ours_time=ours_time, ours_F=F, ours_iter=n_iter,
               ours_converged=converged, ours_nnz=int(np.count_nonzero(coef)), saga=[])
    print(f"{name} C={C} r={r}: ours {ours_time:.2f} s, F={F:.10g}, {n_iter} steps, "
          f"nnz={row['ours_nnz']}", flush=True)
    spent = 0.0
    for stol in saga_tols:
        if spent >= budget:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            m = SkLogisticRegression(solver="saga", C=C, l1_ratio=r, tol=stol,
                                     max_iter=1000).fit(X, y)
            el = time.perf_counter() - t
        spent += el
        Fs = objective(X, y, m.coef_, m.intercept_, C, r)
        row["saga"].append(dict(tol=stol, time=el, F=Fs, rel_gap=(Fs - F) / abs(F),
                                epochs=int(m.n_iter_[0]), nnz=int(np.count_nonzero(m.coef_))))
        print(f"    saga tol={stol:g}: {el:.2f} s, F={Fs:.10g} (gap {(Fs - F) / abs(F):+.2e}), "
              f"{int(m.n_iter_[0])} epochs, nnz={row['saga'][-1]['nnz']}", flush=True)
        if Fs <= F * (1 + 1e-6):
            break
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["synthetic", "news20"])
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--saga-tols", type=float, nargs="+", default=[1e-3, 1e-4, 1e-5])
    parser.add_argument("--saga-budget", type=float, default=60.0)
    parser.add_argument("--only", type=int, default=None,
                        help="run only this index of the set's settings")
    parser.add_argument("--json", default=None, help="append the rows to this file")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}", flush=True)
    rows = []
    for name in args.sets:
        X, y = synthetic() if name == "synthetic" else news20()
        print(f"{name}: {X.shape[0]} x {X.shape[1]}, nnz={X.nnz}, K={len(np.unique(y))}")
        for k, (C, r) in enumerate(SETTINGS[name]):
            if args.only is None or args.only == k:
                rows.append(run(name, X, y, C, r, args.tol, args.saga_tols, args.saga_budget))
    if args.json:
        with open(args.json, "a") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
