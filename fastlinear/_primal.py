"""Primal Newton solver for the L2-regularised squared-hinge SVM (liblinear ``-s 2``).

The dual coordinate descent kernel is the right tool for most problems, but
when C is large and the data have few features (a9a at C = 100) it needs tens
of thousands of passes; the primal problem is then small and smooth enough
for Newton's method, as liblinear's ``-s 2`` (Lin, Weng & Keerthi, "Trust
Region Newton Method for Large-Scale Logistic Regression", JMLR 2008).

With ``z = X~ w`` (``X~`` is X with the constant bias column appended) and
``I = {i : y_i z_i < 1}``::

    f(w)   = 1/2 w.w + sum_i C_i max(0, 1 - y_i z_i)^2
    g(w)   = w - 2 X~^T (C y (1 - y z))_I
    H(w) v = v + 2 X~_I^T (C_I (X~_I v))          (a generalised Hessian)

Each Newton step solves ``H d = -g`` by conjugate gradients preconditioned
with the diagonal of ``H`` (as liblinear 2.x's TRON; to 10 % of ``||g||``, at
most 100 products) and takes the longest step ``t`` in
``1, 1/2, 1/4, ...`` (at most 30 halvings) that satisfies Armijo's condition.
It stops, as liblinear, when ``||g(w)|| <= tol * max(min(n_pos, n_neg), 1) / n
* ||g(0)||``, or after ``max_iter`` Newton steps.  At the solution the dual
variables follow from the primal (KKT): ``alpha_i = 2 C_i max(0, 1 - y_i z_i)``.
The heavy work is sparse matrix-vector products (scipy, C++).
"""
import numpy as np

_MAX_CG = 100
_MAX_HALVINGS = 30


def primal_newton(problem, w0, tol, max_iter):
    """Minimise the primal squared-hinge objective by Newton-CG with line search.

    Parameters
    ----------
    problem : fastlinear._problem.LinearProblem
        A ``squared_hinge`` problem (labels, costs, bias).
    w0 : ndarray of shape (n_features + 1,)
        Start point (the last entry is the bias weight).
    tol : float
        Relative tolerance on the gradient norm (liblinear's criterion).
    max_iter : int
        Maximal number of Newton steps.

    Returns
    -------
    w : ndarray of shape (n_features + 1,)
    alpha : ndarray of shape (n_samples,)
        Dual variables recovered from the primal solution.
    n_iter : int
        Newton steps taken (``max_iter`` means not converged).
    measure : float
        ``||g(w)|| / ||g(0)||`` at the end.
    """
    X = problem.X.to_scipy()
    y, sample_C, bias = problem.y, problem.cost, problem.bias
    n = X.shape[0]
    Xt = X.T.tocsr()  # one transposed copy: X~^T products stay row-major
    X_squared_t = Xt.multiply(Xt).tocsr()  # for the diagonal of H
    w = np.array(w0, dtype=np.float64, copy=True)

    def scores(v):
        return np.asarray(X @ v[:-1], dtype=np.float64) + bias * v[-1]

    def gradient(v, z):
        r = sample_C * y * np.maximum(0.0, 1.0 - y * z)
        g = np.empty_like(v)
        g[:-1] = v[:-1] - 2.0 * np.asarray(Xt @ r, dtype=np.float64)
        g[-1] = v[-1] - 2.0 * bias * r.sum()
        return g

    def objective(v, z):
        m = np.maximum(0.0, 1.0 - y * z)
        return 0.5 * (v @ v) + sample_C @ (m * m)

    n_pos = int(np.count_nonzero((y > 0) & (sample_C > 0)))
    n_neg = int(np.count_nonzero((y < 0) & (sample_C > 0)))
    g_zero = np.linalg.norm(gradient(np.zeros_like(w), np.zeros(n)))
    stop = tol * max(min(n_pos, n_neg), 1) / max(n, 1) * g_zero

    z = scores(w)
    f = objective(w, z)
    n_iter = 0
    while n_iter < max_iter:
        g = gradient(w, z)
        g_norm = np.linalg.norm(g)
        if g_norm <= stop:
            break
        # D = 2 C_i on the margin violators, 0 elsewhere: the generalised
        # Hessian is I + X~^T D X~ (two products with X, no row subset copy).
        curvature = np.where(y * z < 1.0, 2.0 * sample_C, 0.0)

        def hessp(v):
            u = np.asarray(X @ v[:-1], dtype=np.float64) + bias * v[-1]
            u *= curvature
            out = v.copy()
            out[:-1] += np.asarray(Xt @ u, dtype=np.float64)
            out[-1] += bias * u.sum()
            return out

        # Preconditioned conjugate gradients on H d = -g, to 10 % of ||g||;
        # M = diag(H) = 1 + 2 sum_I C_i x_ij^2.
        m_inv = np.empty_like(w)
        m_inv[:-1] = 1.0 / (1.0 + np.asarray(X_squared_t @ curvature, dtype=np.float64))
        m_inv[-1] = 1.0 / (1.0 + bias * bias * curvature.sum())
        d = np.zeros_like(w)
        r = -g
        s_ = m_inv * r
        p = s_.copy()
        rs = r @ s_
        for _ in range(_MAX_CG):
            if np.linalg.norm(r) <= 0.1 * g_norm:
                break
            Hp = hessp(p)
            step = rs / (p @ Hp)
            d += step * p
            r -= step * Hp
            s_ = m_inv * r
            rs_new = r @ s_
            p = s_ + (rs_new / rs) * p
            rs = rs_new
        # Armijo backtracking along d; X~ d once, then every trial is O(n).
        zd = scores(d)
        slope = g @ d
        t = 1.0
        for _ in range(_MAX_HALVINGS):
            w_new = w + t * d
            z_new = z + t * zd
            f_new = objective(w_new, z_new)
            if f_new <= f + 0.01 * t * slope:
                break
            t *= 0.5
        else:
            n_iter += 1
            break  # no decrease along a descent direction: at rounding level
        w, z, f = w_new, z_new, f_new
        n_iter += 1
    alpha = 2.0 * sample_C * np.maximum(0.0, 1.0 - y * z)
    g_norm = np.linalg.norm(gradient(w, z))
    return w, alpha, n_iter, g_norm / g_zero if g_zero > 0 else 0.0
