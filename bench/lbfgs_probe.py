"""L-BFGS iterations before Newton in binary logistic regression: how many.

scikit-learn's default (lbfgs) was faster than fastlinear's Newton-Cholesky
on w8a (``LOGISTIC.md``): from the default start, Newton's first steps there
are damped, and each costs a Hessian (about nine products with X).  A binary
``solver="auto"`` fit now takes up to ``QUASI_NEWTON_ITER`` L-BFGS
iterations first (``fastlinear._newton_cholesky``, step 0b), on the one-pass
kernel ``fastlinear._newton_fast.logistic_loss_grad``.  This script measures
that choice against its alternatives, one thread for everyone (BLAS and
OpenMP):

* one loss-and-gradient evaluation: fastlinear's pass against scikit-learn's
  ``LinearModelLoss.loss_gradient`` (what its lbfgs calls), the median of
  ``--evals`` calls at a point of norm 0.1;
* for every set and C: scikit-learn's default fit; fastlinear's
  ``solver="newton-cholesky"`` (Newton alone); L-BFGS alone (scipy's
  L-BFGS-B with scikit-learn's options on fastlinear's pass, run to the
  gradient test); and fastlinear's default fit with the L-BFGS cap set to
  each of ``--caps``.  Times are the fastest of ``--repeat`` alternated
  rounds; ``it`` counts L-BFGS iterations and Newton steps; ``gap`` is the
  objective relative to the lowest of the row.

Sets: a9a and w8a (``bench/workloads.py``, training parts) and two
synthetic sparse 0/1 sets from a steep planted model (40,000 x 300, 4 % and
10 % of entries stored, 10-25 % positives).  ::

    FASTLINEAR_DATA=/work/shared/data python bench/lbfgs_probe.py
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fastlinear import LogisticRegression, _newton_cholesky, _newton_fast, logistic_objective  # noqa: E402, E501
from fastlinear._validation import proved_csr  # noqa: E402

from workloads import DataUnavailable, load_workload  # noqa: E402


def synthetic(seed, density, scale, shift, n=40_000, d=300):
    """Sparse 0/1 features, labels from a steep planted logistic model."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda k: np.ones(k))
    w = scale * rng.standard_normal(d)
    y = (rng.random(n) < expit(X @ w + shift)).astype(int)
    return X, y


def load(name):
    if name == "synthetic-4%":
        return synthetic(0, 0.04, 3.0, -5.0)
    if name == "synthetic-10%":
        return synthetic(1, 0.10, 1.0, -3.0)
    X, y = load_workload(name)[:2]
    return X, (np.asarray(y) == np.max(y)).astype(int)


def lbfgs_alone(Xp, y_pm, C, tol):
    """L-BFGS run to the gradient test; returns (result, evaluations)."""
    n, m = Xp.n_rows, Xp.n_cols + 1
    cost, g, count = np.full(n, float(C)), np.empty(m), [0]

    def fun(w):
        count[0] += 1
        return _newton_fast.logistic_loss_grad(Xp, y_pm, cost, w, g, bias=1.0), g.copy()

    res = so.minimize(fun, np.zeros(m), jac=True, method="L-BFGS-B",
                      options=dict(maxiter=1000, maxls=50, gtol=tol * C * n,
                                   ftol=64 * np.finfo(float).eps))
    return res, count[0]


def timed(fn):
    tic = time.perf_counter()
    out = fn()
    return time.perf_counter() - tic, out


def per_eval(Xp, X, y, n_calls):
    from sklearn._loss.loss import HalfBinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    rng = np.random.default_rng(0)
    n, d = X.shape
    w = rng.standard_normal(d + 1)
    w *= 0.1 / np.linalg.norm(w)
    y_pm = np.where(y == 1, 1.0, -1.0)
    cost, g = np.ones(n), np.empty(d + 1)
    linear_loss = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
    y01 = (y == 1).astype(np.float64)
    ours, theirs = [], []
    for _ in range(n_calls):
        ours.append(timed(lambda: _newton_fast.logistic_loss_grad(Xp, y_pm, cost, w, g,
                                                                   bias=1.0))[0])
        theirs.append(timed(lambda: linear_loss.loss_gradient(
            w, X, y01, l2_reg_strength=1.0, n_threads=1))[0])
    return float(np.median(ours)), float(np.median(theirs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+",
                        default=["a9a", "w8a", "synthetic-4%", "synthetic-10%"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.01, 1.0, 100.0])
    parser.add_argument("--caps", nargs="+", type=int, default=[10, 15, 25])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--evals", type=int, default=30)
    args = parser.parse_args(argv)
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    warnings.simplefilter("ignore", ConvergenceWarning)
    default_cap = _newton_cholesky.QUASI_NEWTON_ITER
    print(f"L-BFGS cap of solver='auto' in this build: {default_cap}")
    with threadpool_limits(1):
        for name in args.sets:
            try:
                X, y = load(name)
            except DataUnavailable as exc:
                print(f"{name}: skipped ({exc})")
                continue
            X = sp.csr_matrix(X, dtype=np.float64)
            Xp = proved_csr(X, caller="lbfgs_probe")
            y_pm = np.where(y == 1, 1.0, -1.0)
            t_ours, t_sk = per_eval(Xp, X, y, args.evals)
            print(f"{name} ({X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} nnz, "
                  f"{y.mean():.0%} positive): one evaluation {t_ours * 1e3:.2f} ms fastlinear, "
                  f"{t_sk * 1e3:.2f} ms scikit-learn ({t_sk / t_ours:.2f}x)")
            for C in args.Cs:
                fits = {"sklearn": lambda: SkLogisticRegression(C=C).fit(X, y),
                        "newton": lambda: LogisticRegression(
                            C=C, solver="newton-cholesky").fit(X, y),
                        "lbfgs": lambda: lbfgs_alone(Xp, y_pm, C, 1e-4)}
                for cap in args.caps:
                    def capped(cap=cap):
                        _newton_cholesky.QUASI_NEWTON_ITER = cap
                        try:
                            return LogisticRegression(C=C).fit(X, y)
                        finally:
                            _newton_cholesky.QUASI_NEWTON_ITER = default_cap
                    fits[f"cap {cap}"] = capped
                best = {}
                for _ in range(args.repeat):
                    for key, fit in fits.items():
                        t, out = timed(fit)
                        if t < best.get(key, (np.inf,))[0]:
                            best[key] = (t, out)
                J, its = {}, {}
                for key, (_, out) in best.items():
                    if key == "lbfgs":
                        J[key], its[key] = out[0].fun, f"{out[0].nit} it, {out[1]} evals"
                    else:
                        J[key], its[key] = logistic_objective(out, X, y, C=C), \
                            f"{out.n_iter_[0]} it"
                low = min(J.values())
                cells = [f"{key} {best[key][0]:.3f} s ({its[key]}, gap {J[key] / low - 1:.1e})"
                         for key in fits]
                print(f"  C={C:g}: " + " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
