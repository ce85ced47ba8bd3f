"""NumPy twin of the multinomial Newton kernel (``src_c/_multinomial_fast.pyx``).

Dense NumPy on the scores: the same objective, gradient, Hessian products,
preconditioned CG, line search and stopping rules, in the same order, so
the kernel's iterates can be checked one by one.  ``W`` has shape
``(n_features + 1, K)``, the bias row last.
"""
import numpy as np

ARMIJO = 0.01
ROUNDING = 64 * np.finfo(np.float64).eps
SLOPE_TOL = 0.1
PCG_MIX = 0.01
NULL_CURVATURE = 1e-14
MAX_LINE_SEARCH = 20
CONVERGED, MAX_ITER, LINE_SEARCH_FAILED = 0, 1, 4


def _scores(X, V, bias):
    return np.asarray(X @ V[:-1]) + bias * V[-1]


def _Xt(X, U, bias):
    return np.vstack([np.asarray(X.T @ U), bias * U.sum(axis=0)])


def _penalised(m, lam, reg_bias):
    """Boolean mask of the rows of W under the penalty."""
    rows = np.zeros(m, dtype=bool)
    if lam > 0:
        rows[:-1] = True
        rows[-1] = reg_bias
    return rows


def softmax(Z):
    """Row-wise probabilities and logsumexp (the maximum subtracted)."""
    mx = Z.max(axis=1, keepdims=True)
    E = np.exp(Z - mx)
    total = E.sum(axis=1, keepdims=True)
    return E / total, (mx + np.log(total)).ravel()


def loss_grad(X, y, s, W, *, bias, lam, reg_bias, fixed_first, Z=None):
    """``(f, G, P, L)`` at ``W`` (``Z``: the scores, when already known)."""
    n, K = X.shape[0], W.shape[1]
    if Z is None:
        Z = _scores(X, W, bias)
    P, L = softmax(Z)
    Y = np.zeros((n, K))
    Y[np.arange(n), y] = 1.0
    pen = _penalised(W.shape[0], lam, reg_bias)
    f = float(s @ (L - Z[np.arange(n), y])) + 0.5 * lam * float((W[pen] ** 2).sum())
    G = _Xt(X, s[:, None] * (P - Y), bias)
    G[pen] += lam * W[pen]
    if fixed_first:
        G[:, 0] = 0.0
    return f, G, P, L


def hess_diag(X, s, P, *, bias, lam, reg_bias):
    """``diag(H)`` (the preconditioner's source)."""
    H = s[:, None] * P * (1.0 - P)
    D = np.vstack([np.asarray(X.multiply(X).T @ H), bias * bias * H.sum(axis=0)])
    D[_penalised(D.shape[0], lam, reg_bias)] += lam
    return D


def hessp(X, s, P, V, *, bias, lam, reg_bias, fixed_first):
    """``H V`` at the probabilities ``P``."""
    R = _scores(X, V, bias)
    PR = P * R
    HV = _Xt(X, s[:, None] * (PR - P * PR.sum(axis=1, keepdims=True)), bias)
    pen = _penalised(V.shape[0], lam, reg_bias)
    HV[pen] += lam * V[pen]
    if fixed_first:
        HV[:, 0] = 0.0
    return HV


def loss_change(y, s, Z, P, L, T, t):
    """``f``'s loss part at ``Z + t T`` minus at ``Z``, computed directly."""
    U = t * T
    small = np.abs(U).max(axis=1) <= 1.0
    delta = np.empty(Z.shape[0])
    delta[small] = np.log1p((P[small] * np.expm1(U[small])).sum(axis=1))
    _, lse = softmax(Z[~small] + U[~small])
    delta[~small] = lse - L[~small]
    on = s != 0
    return float(s[on] @ (delta[on] - U[np.arange(Z.shape[0]), y][on]))


def slope(y, s, Z, T, t, lam, wTs, sTs):
    """``phi'(t)`` and ``phi''(t)`` along ``T = X~ S`` (the penalty's part
    from ``W.S`` and ``S.S``), and the bound on the first one's rounding
    error."""
    Q, _ = softmax(Z + t * T)
    mean = (Q * T).sum(axis=1)
    var = np.maximum((Q * T * T).sum(axis=1) - mean ** 2, 0.0)
    on = s != 0
    return (float(s[on] @ (mean - T[np.arange(Z.shape[0]), y])[on]) + lam * (wTs + t * sTs),
            float(s[on] @ var[on]) + lam * sTs,
            ROUNDING * float(s[on] @ np.abs(T[on]).max(axis=1)))


def _minimiser(y, s, Z, T, gTs, lam, wTs, sTs, lo, hi, t, d1, d2):
    for _ in range(MAX_LINE_SEARCH):
        if abs(d1) <= SLOPE_TOL * -gTs:
            break
        if d1 > 0:
            hi = t
        else:
            lo = t
        trial = t - d1 / d2 if d2 > 0 else lo
        if not lo < trial < hi:
            trial = 0.5 * (lo + hi)
        t = trial
        d1, d2, _ = slope(y, s, Z, T, t, lam, wTs, sTs)
    return t


def step_length(y, s, Z, P, L, T, gTs, lam, wTs, sTs):
    """The kernel's first trial of the line search: the full step, unless
    the minimiser of ``phi`` lies below 1/2 or the full step fails Armijo's
    test; then the bracketed Newton iterate near that minimiser."""
    d1, d2, noise = slope(y, s, Z, T, 1.0, lam, wTs, sTs)
    if not d1 > SLOPE_TOL * -gTs + noise:
        return 1.0
    h1, h2, _ = slope(y, s, Z, T, 0.5, lam, wTs, sTs)
    if h1 > 0:
        return _minimiser(y, s, Z, T, gTs, lam, wTs, sTs, 0.0, 0.5, 0.5, h1, h2)
    if loss_change(y, s, Z, P, L, T, 1.0) + lam * (wTs + 0.5 * sTs) <= ARMIJO * gTs:
        return 1.0
    return _minimiser(y, s, Z, T, gTs, lam, wTs, sTs, 0.5, 1.0, 1.0, d1, d2)


def newton(X, y, s, W0, *, bias, lam, reg_bias, fixed_first, tol, max_iter,
           warm_start=False, decrement=False):
    """The kernel's Newton iteration; returns ``(W, n_iter, status, max|G|)``."""

    def small(G, D):
        # max |G| <= tol and, with decrement and a penalty, 1/2 G.diag(H)^-1 G <= tol
        if not np.abs(G).max() <= tol:
            return False
        if not (decrement and lam > 0):
            return True
        curved = D > 0
        return 0.5 * np.sum(G[curved] * (G[curved] / D[curved])) <= tol

    X = X.tocsr()
    kw = dict(bias=bias, lam=lam, reg_bias=reg_bias)
    W = np.array(W0, dtype=np.float64)
    m, K = W.shape
    pen = _penalised(m, lam, reg_bias)
    size = m * (K - 1 if fixed_first else K)
    eps_cg = 0.5 if warm_start else 0.1
    Z = _scores(X, W, bias)
    _, G, P, L = loss_grad(X, y, s, W, fixed_first=fixed_first, Z=Z, **kw)
    D = hess_diag(X, s, P, **kw)
    gmax = np.abs(G).max()
    n_iter, status = 0, MAX_ITER
    if small(G, D):
        status = CONVERGED
    while status == MAX_ITER and n_iter < max_iter:
        M = (1 - PCG_MIX) + PCG_MIX * D
        S = np.zeros_like(W)
        r = -G.copy()
        zv = r / M
        d = zv.copy()
        zTr = (zv * r).sum()
        cgtol = min(eps_cg, np.sqrt(np.sqrt(zTr)))
        Q = 0.0
        for it in range(1, max(size, 5) + 1):
            Hd = hessp(X, s, P, d, fixed_first=fixed_first, **kw)
            dHd = (d * Hd).sum()
            if not dHd > NULL_CURVATURE * (d * d * D).sum():
                break
            alpha = zTr / dHd
            S += alpha * d
            r -= alpha * Hd
            newQ = -0.5 * ((S * r).sum() - (S * G).sum())
            Qdiff = newQ - Q
            if newQ <= 0 and Qdiff <= 0:
                if it * Qdiff >= cgtol * newQ:
                    break
            else:
                break
            Q = newQ
            zv = r / M
            znew = (zv * r).sum()
            d = zv + (znew / zTr) * d
            zTr = znew
        gTs = (G * S).sum()
        step = 0.0
        if gTs < 0:
            T = _scores(X, S, bias)
            wTs, sTs = (W[pen] * S[pen]).sum(), (S[pen] ** 2).sum()
            t = step_length(y, s, Z, P, L, T, gTs, lam, wTs, sTs)
            for _ in range(MAX_LINE_SEARCH):
                change = loss_change(y, s, Z, P, L, T, t) + lam * (t * wTs + 0.5 * t * t * sTs)
                if change <= ARMIJO * t * gTs:
                    step = t
                    break
                t *= 0.5
        n_iter += 1
        if step == 0.0:
            status = LINE_SEARCH_FAILED
            break
        Z = Z + step * T
        W = W + step * S
        _, G, P, L = loss_grad(X, y, s, W, fixed_first=fixed_first, Z=Z, **kw)
        D = hess_diag(X, s, P, **kw)
        gmax = np.abs(G).max()
        if small(G, D):
            status = CONVERGED
    if not fixed_first:
        W[~pen] -= W[~pen].mean(axis=1, keepdims=True)
    return W, n_iter, status, gmax
