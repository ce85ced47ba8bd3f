"""Pure-NumPy twin of the Crammer-Singer kernel (``src_c/_mcsvm_fast.pyx``).

The sequential dual method of Keerthi et al. (KDD 2008) with liblinear's
shrinking (``Solver_MCSVM_CS``), written one Python step at a time: the same
random generator, the same visiting order, the same per-sample permutations
of the classes and the same order of floating-point operations, so for the
same seed it reproduces the kernel's iterates up to rounding.  For small
problems only.
"""
import numpy as np

from _reference import Stall, XorShift

TINY = 1e-12


def sub_problem(A, ypos, c, n_act, B):
    """``a_m = min(c_m, (beta - B_m) / A)`` with ``beta`` making them sum to zero
    (``-C_i`` when ``y_i`` is inactive, ``ypos >= n_act``)."""
    D = list(B[:n_act])
    if ypos < n_act:
        D[ypos] += A * c
    D.sort(reverse=True)
    beta = D[0] - A * c
    r = 1
    while r < n_act and beta < r * D[r]:
        beta += D[r]
        r += 1
    beta /= r
    a_new = []
    for m in range(n_act):
        t = (beta - B[m]) / A
        bound = c if m == ypos else 0.0
        a_new.append(bound if bound < t else t)
    return a_new


def reference_cs(X, y, cost, n_classes, *, bias, tol, max_iter, seed):
    """Crammer-Singer by the sequential dual method, for CSR ``X``.

    Returns ``(W, alpha, n_iter, measure)``: ``W`` feature-major of shape
    (n_features + 1, K) with the bias row last, ``alpha`` of shape
    (n_samples, K), the passes run and the last pass's stopping measure.
    """
    X = X.tocsr()
    n, d = X.shape
    K = n_classes
    data, indices, indptr = X.data.astype(np.float64), X.indices, X.indptr
    y = [int(v) for v in y]
    cost = [float(c) for c in cost]
    W = np.zeros((d + 1, K))
    alpha = np.zeros((n, K))
    active = [K] * n            # active classes of each sample
    ypos = list(y)              # where y_i sits in its permutation
    perm = [list(range(K)) for _ in range(n)]
    order = []
    for i in range(n):
        if cost[i] == 0.0:
            continue
        sq = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            sq += data[k] * data[k]
        if sq + bias * bias > 0.0:
            order.append(i)
        else:  # x~_i = 0: the dual is linear in a_i, its minimiser set once
            alpha[i, :] = -cost[i] / (K - 1)
            alpha[i, y[i]] = cost[i]
    n_total = n_active = len(order)
    rng = XorShift(seed)
    eps_shrink = max(10.0 * tol, 1.0)
    from_all = True
    n_iter = 0
    stall = Stall()
    measure = np.inf

    def shrinkable(i, m, G, min_g):
        upper = cost[i] if m == ypos[i] else 0.0
        return alpha[i, perm[i][m]] == upper and G[m] < min_g

    while n_iter < max_iter:
        stopping = -np.inf
        rng.shuffle(order, n_active)
        s = 0
        while s < n_active:
            i = order[s]
            lo, hi = indptr[i], indptr[i + 1]
            c, p, a = cost[i], perm[i], alpha[i]
            n_act = active[i]
            G = [1.0] * n_act
            if ypos[i] < n_act:
                G[ypos[i]] = 0.0
            sq = 0.0
            for k in range(lo, hi):
                v = data[k]
                sq += v * v
                for m in range(n_act):
                    G[m] += W[indices[k], p[m]] * v
            if bias != 0.0:
                for m in range(n_act):
                    G[m] += W[d, p[m]] * bias
            A = sq + bias * bias
            min_g, max_g = np.inf, -np.inf
            for m in range(n_act):
                if a[p[m]] < 0.0 and G[m] < min_g:
                    min_g = G[m]
                if G[m] > max_g:
                    max_g = G[m]
            if ypos[i] < n_act and a[y[i]] < c and G[ypos[i]] < min_g:
                min_g = G[ypos[i]]
            m = 0
            while m < n_act:
                if shrinkable(i, m, G, min_g):
                    n_act -= 1
                    while n_act > m:
                        if not shrinkable(i, n_act, G, min_g):
                            p[m], p[n_act] = p[n_act], p[m]
                            G[m], G[n_act] = G[n_act], G[m]
                            if ypos[i] == n_act:
                                ypos[i] = m
                            elif ypos[i] == m:
                                ypos[i] = n_act
                            break
                        n_act -= 1
                m += 1
            active[i] = n_act
            if n_act <= 1:
                n_active -= 1
                order[s], order[n_active] = order[n_active], i
                continue
            s += 1
            if max_g - min_g <= TINY:
                continue
            stopping = max(stopping, max_g - min_g)
            B = [G[m] - A * a[p[m]] for m in range(n_act)]
            a_new = sub_problem(A, ypos[i], c, n_act, B)
            changes = []
            for m in range(n_act):
                delta = a_new[m] - a[p[m]]
                a[p[m]] = a_new[m]
                if abs(delta) >= TINY:
                    changes.append((p[m], delta))
            for k in range(lo, hi):
                for cls, delta in changes:
                    W[indices[k], cls] += delta * data[k]
            if bias != 0.0:
                for cls, delta in changes:
                    W[d, cls] += delta * bias
        n_iter += 1
        measure = max(stopping, 0.0)
        if stopping < eps_shrink:
            if stopping < tol and from_all:
                break
            n_active = n_total
            for i in order:
                active[i] = K
            eps_shrink = max(eps_shrink / 2.0, tol)
            from_all = True
        else:
            from_all = False
        if stall.after_pass(n_active, stopping, 0.0, W):
            break  # nothing changes any more (the kernel's STALLED)
    return W, alpha, n_iter, measure
