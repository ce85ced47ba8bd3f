"""Hinge-loss dual coordinate descent accelerated: two measured experiments.

Neither is part of fastlinear (``bench/results/EXPERIMENTS.md`` says why).

**Anderson extrapolation** (Bertrand & Massias, "Anderson acceleration of
coordinate descent", AISTATS 2021): one-pass calls of fastlinear's kernel in
one fixed visiting order (seed 0 every pass, so the passes are one fixed
map); every ``M`` passes the last ``M + 1`` iterates are extrapolated
(regularised Anderson weights), projected onto the box, and kept only if
the dual objective is lower.  (One-pass calls cannot shrink.)

**Newton steps on the free set.**  At large C, coordinate descent on the hinge dual (liblinear
``-s 3``) crawls, because the free variables (``0 < a_i < C_i``) form an
ill-conditioned quadratic.  After ``after`` passes of fastlinear's kernel
without convergence, runs of passes alternate with one projected Newton step
on the variables that are free or may leave their bound (Bertsekas,
"Projected Newton methods for optimization problems with simple
constraints", SIAM J. Control Optim. 1982): conjugate gradients on
``Q_FF d = -G_F``, then the first step of ``1, 1/2, 1/4, ...`` whose
projection onto the box lowers the dual objective.  The stopping test stays
the kernel's (``max PG - min PG <= tol`` after a full pass); ``n_iter``
counts passes plus Newton steps.

Run::

    FASTLINEAR_DATA=/path/to/data python bench/hinge_accel.py w8a,news20 10,100
    FASTLINEAR_DATA=/path/to/data python bench/hinge_accel.py w8a,news20 10,100 --anderson 5

(``news20`` here is its first one-vs-rest problem.)
"""
import argparse
import time

import numpy as np
import scipy.sparse as sp

from fastlinear import _solvers
from fastlinear._problem import LinearProblem
from fastlinear._validation import proved_csr


def _dot(a, b):
    # OpenBLAS's dot was 30x slower than einsum on 130,000 entries with both
    # cores busy.
    return float(np.einsum("i,i", a, b))


def free_newton_step(problem, alpha, w, *, cg_steps=50, cg_tol=1e-6):
    """One projected Newton step on the free set, in place on ``alpha`` and ``w``.

    Returns the step's work in passes over the rows it moved (nonzeros read).
    """
    X, y, cost, bias = problem.X.to_scipy(), problem.y, problem.cost, problem.bias
    G = y * (X @ w[:-1] + bias * w[-1]) - 1.0
    bound = ((alpha <= 0.0) & (G > 0.0)) | ((alpha >= cost) & (G < 0.0))
    F = np.flatnonzero((cost > 0.0) & ~bound)
    if F.size == 0:
        return 0.0
    yF, aF, cF = y[F], alpha[F], cost[F]
    XF = X[F]
    touched = np.zeros(X.shape[1], dtype=bool)
    touched[XF.indices] = True
    cols = np.flatnonzero(touched)
    column = np.cumsum(touched, dtype=XF.indices.dtype) - 1
    XF = sp.csr_matrix((XF.data, column[XF.indices], XF.indptr), shape=(F.size, cols.size))
    XFT = XF.T.tocsr()
    wF = np.append(w[cols], w[-1])

    def z_t(v):  # Z_F^T v, Z_F = diag(y_F) [X_F, bias], on the touched columns
        u = yF * v
        return np.append(XFT @ u, bias * u.sum())

    d = np.zeros(F.size)
    r = -G[F]
    p = r.copy()
    rr = rr0 = _dot(r, r)
    products = 1
    for _ in range(cg_steps):
        products += 2
        zp = z_t(p)
        pQp = _dot(zp, zp)
        if pQp <= 1e-300 or rr <= cg_tol**2 * rr0:
            break
        step = rr / pQp
        d += step * p
        r -= step * yF * (XF @ zp[:-1] + bias * zp[-1])
        rr_new = _dot(r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    t = 1.0
    for _ in range(20):
        products += 1
        delta = np.clip(aF + t * d, 0.0, cF) - aF
        dw = z_t(delta)
        # D(a + delta) - D(a) = w.dw + 1/2 dw.dw - sum(delta)
        if _dot(wF, dw) + 0.5 * _dot(dw, dw) - float(delta.sum()) < 0.0:
            alpha[F] += delta
            w[cols] += dw[:-1]
            w[-1] += dw[-1]
            break
        t *= 0.5
    return (X.nnz + products * XF.nnz) / (XF.nnz + F.size)


def hinge_newton(problem, *, tol=1e-4, max_iter=1000, seed=0, after=100, every=10,
                 balance=0.0, cg_steps=50):
    """Dual CD with Newton steps (module docstring).  ``every`` passes between
    steps, or ``balance`` times the step's work in passes if that is more."""
    sol = _solvers.dual_cd(problem, tol=tol, max_iter=min(after, max_iter), seed=seed)
    n_iter, steps = sol.n_iter, 0
    while sol.status == _solvers.Status.MAX_ITER and n_iter < max_iter:
        work = free_newton_step(problem, sol.alpha, sol.w, cg_steps=cg_steps)
        n_iter += 1
        steps += 1
        passes = min(max(every, int(np.ceil(balance * work))), max_iter - n_iter)
        if passes == 0:
            break
        sol = _solvers.dual_cd(problem, tol=tol, max_iter=passes, seed=seed + n_iter,
                               alpha0=sol.alpha)
        n_iter += sol.n_iter
    return sol._replace(n_iter=n_iter, solver=f"dual_cd+{steps} newton")


def anderson(problem, *, M=5, tol=1e-4, max_iter=1000):
    """Anderson-extrapolated passes (module docstring); ``n_iter`` counts passes."""
    alpha = np.zeros(problem.n_samples)
    history, accepted, n_iter = [alpha.copy()], 0, 0
    while n_iter < max_iter:
        sol = _solvers.dual_cd(problem, tol=tol, max_iter=1, seed=0, alpha0=alpha)
        alpha, n_iter = sol.alpha, n_iter + 1
        if sol.status == _solvers.Status.CONVERGED:
            break
        history.append(alpha.copy())
        if len(history) == M + 1:
            A = np.array(history)
            U = np.diff(A, axis=0)
            UU = U @ U.T
            UU += 1e-10 * np.linalg.norm(UU) * np.eye(M)
            z = np.linalg.solve(UU, np.ones(M))
            extrapolated = np.clip((z / z.sum()) @ A[1:], 0.0, problem.cost)
            if problem.dual(extrapolated) < problem.dual(alpha):
                alpha, accepted = extrapolated, accepted + 1
            history = [alpha.copy()]
    return sol._replace(alpha=alpha, w=problem.w_from_alpha(alpha), n_iter=n_iter,
                        solver=f"anderson, {accepted} kept")


def binary_problem(name, C):
    """The binary hinge problem of a workload (news20: class 0 against the rest)."""
    import workloads as wl

    X, y, _, _ = wl.load_workload(name)
    classes = np.unique(y)
    y_pm = np.where(y == classes[0 if name == "news20" else 1], 1.0, -1.0)
    return LinearProblem(X=proved_csr(X), y=y_pm, cost=np.full(X.shape[0], float(C)),
                         loss="hinge", bias=1.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", help="comma-separated, e.g. w8a,news20")
    parser.add_argument("Cs", help="comma-separated, e.g. 10,100")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--balance", type=float, default=0.0)
    parser.add_argument("--cg-steps", type=int, default=50)
    parser.add_argument("--anderson", type=int, default=0,
                        help="M > 0: run Anderson extrapolation instead of Newton steps")
    args = parser.parse_args()
    for name in args.workloads.split(","):
        for C in map(float, args.Cs.split(",")):
            problem = binary_problem(name, C)
            for variant in ("plain", "anderson" if args.anderson else "newton"):
                t0 = time.perf_counter()
                if variant == "plain":
                    sol = _solvers.dual_cd(problem, tol=1e-4, max_iter=1000, seed=0)
                elif variant == "anderson":
                    sol = anderson(problem, M=args.anderson)
                else:
                    sol = hinge_newton(problem, every=args.every, balance=args.balance,
                                       cg_steps=args.cg_steps)
                elapsed = time.perf_counter() - t0
                print(f"{name} C={C:g} {variant:8s} {sol.solver:22s} n_iter {sol.n_iter:4d} "
                      f"converged {sol.status == 0!s:5s} measure {sol.measure:.3g} "
                      f"time {elapsed:.2f} s P {problem.primal(sol.w):.8g} "
                      f"-D {-problem.dual(sol.alpha):.8g}", flush=True)


if __name__ == "__main__":
    main()
