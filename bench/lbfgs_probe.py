"""L-BFGS on a fused logistic pass, against Newton: measured, then dropped.

scikit-learn's default (lbfgs) beats fastlinear's Newton methods on w8a
(``LOGISTIC.md``).  This script asks whether an L-BFGS of fastlinear's own,
on a one-pass loss-and-gradient kernel, would win there without losing
where Newton wins (a9a).  The kernel lives in
``bench/patches/fused_logistic_pass.diff`` (``_newton_fast.loss_grad_fused``:
each row read once, one ``exp`` and one ``log1p`` per row).  To repeat::

    git apply bench/patches/fused_logistic_pass.diff
    python setup.py build_ext --inplace -j 2
    python bench/lbfgs_probe.py
    git apply -R bench/patches/fused_logistic_pass.diff && python setup.py build_ext --inplace -j 2

Without the patch the script says so and stops.  One thread for everyone
(BLAS and OpenMP).  Printed, for a9a and w8a (``bench/workloads.py``):

* the time of one loss-and-gradient evaluation: the fused pass against
  scikit-learn's ``LinearModelLoss.loss_gradient`` (what its lbfgs calls),
  the median of ``--evals`` calls at a point of norm 0.1;
* for every C: scikit-learn's default fit, fastlinear's default fit, and
  scipy's L-BFGS-B with scikit-learn's options (``gtol=tol`` on the mean
  objective, ``maxls=50``, ``ftol=64 eps``) on the fused pass; then
  "hybrid": that L-BFGS capped at ``--cap`` iterations, followed by
  fastlinear's default fit warm-started from its point.  Times are the
  fastest of ``--repeat`` alternated rounds; ``gap`` is the objective
  relative to the lowest of the row.
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fastlinear import LogisticRegression, _newton_fast, logistic_objective  # noqa: E402
from fastlinear._validation import proved_csr  # noqa: E402

from workloads import DataUnavailable, load_workload  # noqa: E402


def int32_csr(X):
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def lbfgs(Xp, y_pm, C, tol, max_iter, counter):
    n, m = Xp.n_rows, Xp.n_cols + 1
    cost = np.full(n, float(C))
    g = np.empty(m)

    def fun(w):
        counter[0] += 1
        f = _newton_fast.loss_grad_fused(Xp, y_pm, cost, w, g, 1.0)
        return f, g.copy()

    return so.minimize(fun, np.zeros(m), jac=True, method="L-BFGS-B",
                       options=dict(maxiter=max_iter, maxls=50, gtol=tol * C * n,
                                    ftol=64 * np.finfo(float).eps))


def timed(fn):
    tic = time.perf_counter()
    out = fn()
    return time.perf_counter() - tic, out


def per_eval(X, y, n_calls):
    from sklearn._loss.loss import HalfBinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    rng = np.random.default_rng(0)
    n, d = X.shape
    w = rng.standard_normal(d + 1)
    w *= 0.1 / np.linalg.norm(w)
    Xp = proved_csr(X, caller="lbfgs_probe")
    y_pm = np.where(y == 1, 1.0, -1.0)
    cost, g = np.ones(n), np.empty(d + 1)
    linear_loss = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
    y01 = (y == 1).astype(np.float64)
    ours, theirs = [], []
    for _ in range(n_calls):
        ours.append(timed(lambda: _newton_fast.loss_grad_fused(Xp, y_pm, cost, w, g, 1.0))[0])
        theirs.append(timed(lambda: linear_loss.loss_gradient(
            w, X, y01, l2_reg_strength=1.0, n_threads=1))[0])
    return float(np.median(ours)), float(np.median(theirs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "w8a"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.01, 1.0, 100.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evals", type=int, default=30)
    parser.add_argument("--cap", type=int, default=10)
    args = parser.parse_args(argv)
    if not hasattr(_newton_fast, "loss_grad_fused"):
        print("lbfgs_probe: the fused pass is not built; apply "
              "bench/patches/fused_logistic_pass.diff first (see the docstring).")
        return 1
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        for name in args.sets:
            try:
                X, y = load_workload(name)[:2]
            except DataUnavailable as exc:
                print(f"{name}: skipped ({exc})")
                continue
            X = int32_csr(X)
            y = (np.asarray(y) == np.max(y)).astype(int)
            Xp = proved_csr(X, caller="lbfgs_probe")
            y_pm = np.where(y == 1, 1.0, -1.0)
            t_ours, t_sk = per_eval(X, y, args.evals)
            print(f"{name} ({X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} nnz): one evaluation "
                  f"{t_ours * 1e3:.2f} ms fused, {t_sk * 1e3:.2f} ms scikit-learn "
                  f"({t_sk / t_ours:.2f}x)")
            for C in args.Cs:
                best = {}
                for _ in range(args.repeat):
                    t, sk = timed(lambda: SkLogisticRegression(C=C).fit(X, y))
                    best["sk"] = min(best.get("sk", (np.inf,)), (t, sk), key=lambda r: r[0])
                    t, fl = timed(lambda: LogisticRegression(C=C).fit(X, y))
                    best["fl"] = min(best.get("fl", (np.inf,)), (t, fl), key=lambda r: r[0])
                    evals = [0]
                    t, res = timed(lambda: lbfgs(Xp, y_pm, C, 1e-4, 100, evals))
                    best["lbfgs"] = min(best.get("lbfgs", (np.inf,)), (t, (res, evals[0])),
                                        key=lambda r: r[0])

                    def hybrid():
                        res = lbfgs(Xp, y_pm, C, 1e-4, args.cap, [0])
                        est = LogisticRegression(C=C, warm_start=True)
                        est.classes_ = np.array([0, 1])
                        est.coef_ = res.x[None, :-1].copy()
                        est.intercept_ = res.x[-1:].copy()
                        return res, est.fit(X, y)

                    t, out = timed(hybrid)
                    best["hybrid"] = min(best.get("hybrid", (np.inf,)), (t, out),
                                         key=lambda r: r[0])
                sk, fl = best["sk"][1], best["fl"][1]
                res, n_eval = best["lbfgs"][1]
                h_res, h_est = best["hybrid"][1]
                J = {"sk": logistic_objective(sk, X, y, C=C),
                     "fl": logistic_objective(fl, X, y, C=C),
                     "lbfgs": res.fun, "hybrid": logistic_objective(h_est, X, y, C=C)}
                low = min(J.values())
                gap = {k: v / low - 1 for k, v in J.items()}
                print(f"  C={C:g}: scikit-learn lbfgs {best['sk'][0]:.3f} s ({sk.n_iter_[0]} it, "
                      f"gap {gap['sk']:.1e}) | fastlinear {best['fl'][0]:.3f} s ({fl.solver_}, "
                      f"{fl.n_iter_[0]} it, gap {gap['fl']:.1e}) | L-BFGS on the fused pass "
                      f"{best['lbfgs'][0]:.3f} s ({res.nit} it, {n_eval} evals, gap "
                      f"{gap['lbfgs']:.1e}) | hybrid {best['hybrid'][0]:.3f} s ({h_res.nit} it + "
                      f"{h_est.solver_} {h_est.n_iter_[0]} it, gap {gap['hybrid']:.1e})",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
