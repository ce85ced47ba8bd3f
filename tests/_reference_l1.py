"""Pure-NumPy twin of the L1-regularised squared-hinge kernel (``src_c/_l1_cd_fast.pyx``).

The same CDN steps as the kernel (liblinear's ``solve_l1r_l2_svc``: one
Newton step per coordinate, a backtracking line search, shrinking), the same
random generator and visiting order, and the same order of floating-point
operations: the derivatives in the kernel's four partial sums, the other
sums along a column left to right (``np.cumsum`` is sequential), so for the
same seed the iterates match the kernel's, bit for bit in practice.  One
Python step per coordinate: small problems only.
"""
import numpy as np

from _reference import Stall, XorShift

SIGMA = 0.01
MAX_LINE_SEARCH = 20


def _seqsum(a):
    """``a[0] + a[1] + ...`` left to right, as a C loop adds."""
    return float(np.cumsum(a)[-1]) if a.size else 0.0


def _sum4(a):
    """The kernel's four partial sums: ``a[r], a[r + 4], ...`` left to right
    for ``r = 0..3``, then ``(s0 + s1) + (s2 + s3)``."""
    s0, s1, s2, s3 = (_seqsum(a[r::4]) for r in range(4))
    return (s0 + s1) + (s2 + s3)


def reference_l1_cd(X, y, cost, *, bias, tol, max_iter, seed, shrinking=True, w0=None,
                    rng=None, sums="kernel"):
    """CDN for ``min ||w||_1 + sum_i C_i max(0, 1 - y_i w.x~_i)^2``.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
    y : labels in {-1, +1}; cost : the ``C_i >= 0``.
    bias : the constant feature's value (0: no intercept, its weight stays 0).
    tol, max_iter, seed, shrinking : as the kernel's.
    w0 : start point of shape (n_features + 1,), default zeros.
    rng : object with ``shuffle(order, n)``, default ``XorShift(seed)``: the
        kernel's visiting order.  ``bench/cd_passes.py`` passes liblinear's
        (the C library's ``rand() % (n - j)``).
    sums : ``"kernel"`` (the kernel's four partial sums) or ``"sequential"``
        (left to right, as liblinear's loops add).

    Returns
    -------
    w : ndarray of shape (n_features + 1,), the bias weight last.
    n_iter : int
    measure : float, the last pass's violation norm relative to the first's.
    """
    XT = X.T.tocsr()
    XT.sort_indices()
    n, d = X.shape
    y = np.asarray(y, dtype=np.float64)
    cost = np.asarray(cost, dtype=np.float64)
    w = np.zeros(d + 1) if w0 is None else np.array(w0, dtype=np.float64)
    if bias == 0:
        w[d] = 0.0
    n_used = float(np.count_nonzero(cost > 0))
    if n_used == 0:
        return np.zeros(d + 1), 0, 0.0

    # Column j as (rows, v = y_i x~_ij, C_i); the bias column is dense.
    columns = []
    for j in range(d):
        lo, hi = XT.indptr[j], XT.indptr[j + 1]
        rows = XT.indices[lo:hi]
        columns.append((rows, y[rows] * XT.data[lo:hi].astype(np.float64), cost[rows]))
    columns.append((np.arange(n), y * bias, cost))
    xj_sq = np.array([_seqsum((c * v) * v) for rows, v, c in columns])

    def b_from_w():
        b = np.ones(n)
        for j in range(d + (1 if bias != 0 else 0)):
            if w[j] != 0.0:
                rows, v, _ = columns[j]
                b[rows] += -w[j] * v
        return b

    b = b_from_w()
    n_total = d + (1 if bias != 0 else 0)
    order = list(range(n_total))
    n_active = n_total
    rng = XorShift(seed) if rng is None else rng
    add = {"kernel": _sum4, "sequential": _seqsum}[sums]
    gmax_old = np.inf
    norm1_init = 0.0
    measure = np.inf
    n_iter = 0
    stall = Stall()
    while n_iter < max_iter:
        rng.shuffle(order, n_active)
        gmax_new, gnorm1 = 0.0, 0.0
        threshold = gmax_old / n_used
        s = 0
        while s < n_active:
            j = order[s]
            rows, v, c = columns[j]
            bj = b[rows]
            t = np.where(bj > 0, c * v, 0.0)  # masked terms add 0
            G_loss = 2.0 * -add(t * bj)
            H = max(2.0 * add(t * v), 1e-12)
            Gp, Gn, wj = G_loss + 1.0, G_loss - 1.0, w[j]
            violation = 0.0
            if wj == 0.0:
                if Gp < 0.0:
                    violation = -Gp
                elif Gn > 0.0:
                    violation = Gn
                elif shrinking and Gp > threshold and Gn < -threshold:
                    n_active -= 1
                    order[s], order[n_active] = order[n_active], j
                    continue
            elif wj > 0.0:
                violation = abs(Gp)
            else:
                violation = abs(Gn)
            gmax_new = max(gmax_new, violation)
            gnorm1 += violation
            s += 1
            if Gp < H * wj:
                dj = -Gp / H
            elif Gn > H * wj:
                dj = -Gn / H
            else:
                dj = -wj
            if abs(dj) < 1e-12:
                continue
            # Backtracking line search.
            delta = abs(wj + dj) - abs(wj) + G_loss * dj
            d_old, loss_old = 0.0, 0.0
            for trial in range(MAX_LINE_SEARCH):
                d_diff = d_old - dj
                cond = abs(wj + dj) - abs(wj) - SIGMA * delta
                if xj_sq[j] * dj * dj + G_loss * dj + cond <= 0.0:
                    b[rows] += d_diff * v
                    break
                b_old = b[rows]
                if trial == 0:
                    loss_old = _seqsum(np.where(b_old > 0, (c * b_old) * b_old, 0.0))
                b_new = b_old + d_diff * v
                b[rows] = b_new
                loss_new = _seqsum(np.where(b_new > 0, (c * b_new) * b_new, 0.0))
                cond = cond + loss_new - loss_old
                if cond <= 0.0:
                    break
                d_old = dj
                dj *= 0.5
                delta *= 0.5
            else:
                w[j] = wj + dj
                b = b_from_w()
                continue
            w[j] = wj + dj
        if n_iter == 0:
            norm1_init = gnorm1
        n_iter += 1
        measure = gnorm1 / norm1_init if norm1_init > 0 else 0.0
        if gnorm1 <= tol * norm1_init:
            if n_active == n_total:
                break
            n_active = n_total
            gmax_old = np.inf
            continue
        if stall.after_pass(n_active, gmax_new, gnorm1, w):
            break  # nothing changes any more (the kernel's STALLED)
        gmax_old = gmax_new
    return w, n_iter, measure
