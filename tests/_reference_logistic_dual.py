"""Pure-NumPy twin of the logistic-regression dual CD kernel (``src_c/_logistic_dual_fast.pyx``).

The same algorithm as the kernel (liblinear's ``solve_l2r_lr_dual``; Yu,
Huang & Lin, Machine Learning 2011, Algorithm 5): the same start point, the
same random generator and visiting order, the same Newton steps on each
one-variable subproblem and the same order of floating-point operations
(dot products left to right, the bias term last), so for the same seed it
reproduces the kernel's iterates up to rounding of ``log``.  One Python step
per coordinate: small problems only.
"""
import math

import numpy as np

from _reference import XorShift

ETA = 0.1
MAX_INNER_ITER = 100


def reference_logistic_dual(X, y, cost, *, bias, tol, max_iter, seed, alpha0=None):
    """Dual CD for ``min 1/2 w.w + sum_i C_i log(1 + exp(-y_i w.x~_i))``.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
    y : labels in {-1, +1}; cost : the ``C_i >= 0``.
    bias : the constant feature's value.
    tol, max_iter, seed : as the kernel's.
    alpha0 : start point in ``[0, C_i]``, default zeros (liblinear's start).

    Returns
    -------
    w : ndarray of shape (n_features + 1,), the bias weight last.
    alpha : ndarray of shape (n_samples,)
    n_iter : int
    measure : float
        The last pass's largest subproblem derivative.
    """
    X = X.tocsr()
    n, d = X.shape
    data, indices, indptr = X.data.astype(np.float64), X.indices, X.indptr
    alpha = np.zeros(n) if alpha0 is None else np.array(alpha0, dtype=np.float64)
    rest = np.zeros(n)
    order = []
    for i in range(n):
        c = cost[i]
        if c > 0:
            e = min(1e-3 * c, 1e-8)
            alpha[i] = min(max(alpha[i], e), c - e)
            rest[i] = c - alpha[i]
            order.append(i)
        else:
            alpha[i] = 0.0
    w = np.zeros(d + 1)
    for i in order:
        ya = y[i] * alpha[i]
        for k in range(indptr[i], indptr[i + 1]):
            w[indices[k]] += ya * data[k]
        w[d] += ya * bias
    n_total = len(order)
    rng = XorShift(seed)
    inner_eps, inner_eps_min = 1e-2, min(1e-8, tol)
    n_iter, gmax = 0, 0.0
    while n_iter < max_iter and n_total > 0:
        rng.shuffle(order, n_total)
        gmax, n_newton = 0.0, 0
        for i in order:
            lo, hi = indptr[i], indptr[i + 1]
            dot, sq = 0.0, 0.0
            for k in range(lo, hi):
                dot += data[k] * w[indices[k]]
                sq += data[k] * data[k]
            b = y[i] * (dot + w[d] * bias)
            a = sq + bias * bias
            c = cost[i]
            # Minimise over the smaller of a_i and C_i - a_i (the minimiser
            # of that side lies in (0, C/2]).
            if 0.5 * a * (rest[i] - alpha[i]) + b < 0.0:
                sign, z_old = -1, rest[i]
            else:
                sign, z_old = 1, alpha[i]
            z = z_old
            if c - z < 0.5 * c:
                z = ETA * z
            gp = a * (z - z_old) + sign * b + math.log(z / (c - z))
            gmax = max(gmax, abs(gp))
            inner = 0
            while inner <= MAX_INNER_ITER:
                if abs(gp) < inner_eps:
                    break
                t = (c - z) * z  # the kernel's Newton step, one division
                z_new = z - gp * t / (a * t + c)
                if z_new > 0.0:
                    z = z_new
                elif ETA * z > 0.0:
                    z = ETA * z
                else:
                    break
                gp = a * (z - z_old) + sign * b + math.log(z / (c - z))
                inner += 1
            n_newton += inner
            if inner > 0:
                if sign == 1:
                    alpha[i], rest[i] = z, c - z
                else:
                    rest[i], alpha[i] = z, c - z
                step = sign * (z - z_old) * y[i]
                for k in range(lo, hi):
                    w[indices[k]] += step * data[k]
                w[d] += step * bias
        n_iter += 1
        if gmax < tol:
            break
        if n_newton <= n_total // 10:
            inner_eps = max(inner_eps_min, 0.1 * inner_eps)
    return w, alpha, n_iter, gmax
