"""NumPy twin of the proximal Newton pieces (``src_c/_prox_newton_fast.pyx``).

The objective ``F`` of L1 / elastic-net multinomial logistic regression,
its minimum-norm subgradient, and the coordinate descent on the quadratic
model in the kernel's order (cyclic over the active features, classes in
order, the same shrinking rule), so a kernel solve can be checked against
it entry by entry.  ``W`` has shape ``(n_features + 1, K)``, the bias row last.
"""
import numpy as np

H_MIN = 1e-12


def scores(X, W, bias):
    return np.asarray(X @ W[:-1]) + bias * W[-1]


def objective(X, y, s, W, *, bias, l1_ratio):
    """``F = sum_i s_i CE_i + (1 - r)/2 ||W[:-1]||^2 + r ||W[:-1]||_1``."""
    Z = scores(X, W, bias)
    lse = np.logaddexp.reduce(Z, axis=1)
    r = l1_ratio
    return (float(s @ (lse - Z[np.arange(len(y)), y]))
            + 0.5 * (1 - r) * float((W[:-1] ** 2).sum()) + r * float(np.abs(W[:-1]).sum()))


def smooth_gradient(X, y, s, W, *, bias, l1_ratio):
    """Gradient of the smooth part (loss and L2 term) and the probabilities."""
    Z = scores(X, W, bias)
    P = np.exp(Z - np.logaddexp.reduce(Z, axis=1)[:, None])
    E = P.copy()
    E[np.arange(len(y)), y] -= 1.0
    E *= s[:, None]
    G = np.vstack([np.asarray(X.T @ E), bias * E.sum(axis=0)])
    G[:-1] += (1 - l1_ratio) * W[:-1]
    return G, P


def min_norm_subgradient(G, W, l1_ratio):
    """Entrywise minimum-norm subgradient of ``F`` (the bias row: ``|G|``)."""
    r = l1_ratio
    V = np.abs(G).copy()
    Gp, Wp = G[:-1], W[:-1]
    V[:-1] = np.where(Wp > 0, np.abs(Gp + r), np.where(
        Wp < 0, np.abs(Gp - r), np.maximum(np.abs(Gp) - r, 0.0)))
    return V


def best_shift(w, lam, l1):
    """The kernel's ``_best_shift``: the ``c`` minimising the row penalty
    ``sum_k lam/2 (w_k - c)^2 + l1 |w_k - c|``, 0 unless it beats ``c = 0``."""
    K = len(w)

    def pen(c):
        v = w - c
        return float(np.sum(0.5 * lam * v * v + l1 * np.abs(v)))

    at_zero = best = pen(0.0)
    if best == 0.0:
        return 0.0
    best_c, total = 0.0, float(np.sum(w))
    candidates = []
    for q in range(K):
        candidates.append((w[q], -np.inf, np.inf))
        if lam > 0:
            below = int(np.sum(w <= w[q]))
            above = w[w > w[q]]
            hi = above.min() if above.size else np.inf
            candidates.append(((total - l1 * (2 * below - K) / lam) / K, w[q], hi))
    if lam > 0:
        candidates.append(((total + l1 * K / lam) / K, -np.inf, w.min()))
    for c, lo, hi in candidates:
        if (lo == -np.inf and hi == np.inf) or lo < c < hi:
            val = pen(c)
            if val < best:
                best, best_c = val, c
    return best_c if best < (1.0 - 1e-12) * at_zero else 0.0


def cd_model(X, s, P, G, W, active, *, bias, lam, l1, inner_tol, max_pass, mu=0.0):
    """The kernel's ``cd_model`` from ``D = 0``: returns ``(D, R, n_pass)``."""
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    n, nf = X.shape
    K = P.shape[1]
    Xb = np.hstack([X, np.full((n, 1), bias)])
    sp_ = s[:, None] * P
    h = sp_ * (1.0 - P)
    D = np.zeros_like(W)
    R = np.zeros((n, K))
    u = np.zeros(n)
    skip = np.zeros(W.shape, dtype=bool)
    n_used = max(1.0, float(np.count_nonzero(s)))
    worst_old, n_skipped, n_pass = np.inf, 0, 0
    while n_pass < max_pass:
        worst = 0.0
        cut = l1 - worst_old / n_used
        for j in active:
            pen = j < nf
            lam_j, l1_j = (lam, l1) if pen else (0.0, 0.0)
            x = Xb[:, j]
            mean = D[j].sum() / K
            for c in range(K):
                if skip[j, c]:
                    continue
                g = float(np.sum(x * sp_[:, c] * (R[:, c] - u))) + G[j, c] + lam_j * D[j, c]
                hh = float(np.sum(x * x * h[:, c])) + lam_j
                if mu > 0:   # the damping of the centred step
                    g += mu * (D[j, c] - mean)
                    hh += mu * (1.0 - 1.0 / K)
                z = W[j, c] + D[j, c]
                if pen and z == 0.0 and abs(g) < cut:
                    skip[j, c] = True
                    n_skipped += 1
                    continue
                if z > 0:
                    v = abs(g + l1_j)
                elif z < 0:
                    v = abs(g - l1_j)
                else:
                    v = max(abs(g) - l1_j, 0.0)
                worst = max(worst, v)
                if hh < H_MIN or not v > 0:
                    continue
                t = z - g / hh
                new = np.sign(t) * max(abs(t) - l1_j / hh, 0.0)
                dc = new - z
                if dc != 0.0:
                    D[j, c] += dc
                    mean += dc / K
                    R[:, c] += x * dc
                    u += P[:, c] * x * dc
        for j in active:
            if j >= nf:
                continue
            row = W[j] + D[j]
            c = best_shift(row, lam, l1)
            if c != 0.0:
                new = row - c
                new[np.abs(new) <= 1e-15 * abs(c)] = 0.0
                D[j] = new - W[j]
                skip[j] = False
                R -= c * Xb[:, j][:, None]
                u -= c * Xb[:, j]
        n_pass += 1
        if worst <= inner_tol:
            if n_skipped == 0:
                break
            skip[:] = False
            n_skipped, worst_old = 0, np.inf
            continue
        worst_old = worst
    return D, R, n_pass
