"""Pure-NumPy twin of the newGLMNET kernel (``src_c/_glmnet_fast.pyx``).

The same outer Newton steps (gradient and Hessian diagonal per column,
outer shrinking), the same coordinate descent on the quadratic model (the
same generator and shuffles, inner shrinking, steps clipped to [-10, 10]),
the same line search, and sums along a column in the kernel's four lanes,
so for the same seed the iterates match the kernel's up to the rounding of
``exp``/``log1p``.  One Python step per coordinate: small
problems only.  ``history`` records ``(F(w), w)`` after every Newton step.
"""
import numpy as np
import scipy.sparse as sp

from _reference import XorShift

NU = 1e-12
SIGMA = 0.01
D_MIN = 1e-12
D_MAX = 10.0
MAX_INNER = 1000
MAX_LINE_SEARCH = 20
GRAM_MAX_VARS = 512


def _seqsum(a):
    return float(np.cumsum(a)[-1]) if a.size else 0.0


def _lanesum(a):
    """A column's sum as the kernel adds it (its rule 8): term ``q`` into
    lane ``q % 4``, each lane left to right, then ``(l0 + l1) + (l2 + l3)``."""
    l0, l1, l2, l3 = (_seqsum(a[r::4]) for r in range(4))
    return (l0 + l1) + (l2 + l3)


def _sigmoid(t):
    e = np.exp(np.minimum(t, 0.0))
    return np.where(t >= 0, 1.0 / (1.0 + np.exp(-np.maximum(t, 0.0))), e / (1.0 + e))


def _log1pexp_neg(t):
    return np.where(t >= 0, np.log1p(np.exp(-np.maximum(t, 0.0))),
                    -t + np.log1p(np.exp(np.minimum(t, 0.0))))


def _terms(y, cost, z):
    """Per-sample ``C_i xi(z_i)``, ``C_i xi'(z_i)``, ``C_i xi''(z_i)``."""
    ell = cost * _log1pexp_neg(y * z)
    gz = cost * (-y * _sigmoid(-y * z))
    s = _sigmoid(y * z)
    dz = cost * (s * (1.0 - s))
    return ell, gz, dz


def objective(X, y, cost, w, *, bias, l1, l2, reg_bias):
    """``F(w)`` of the kernel's problem."""
    z = X @ w[:-1] + bias * w[-1]
    lb, l2b = (l1, l2) if reg_bias else (0.0, 0.0)
    return (float(cost @ _log1pexp_neg(y * z)) + l1 * np.abs(w[:-1]).sum()
            + 0.5 * l2 * w[:-1] @ w[:-1] + lb * abs(w[-1]) + 0.5 * l2b * w[-1] ** 2)


def _violation(G, l1j, wj):
    if wj > 0:
        return abs(G + l1j)
    if wj < 0:
        return abs(G - l1j)
    return max(-(G + l1j), G - l1j, 0.0)


def _step(G, H, l1j, wj):
    if G + l1j < H * wj:
        return -(G + l1j) / H
    if G - l1j > H * wj:
        return -(G - l1j) / H
    return -wj


def promised_decrease(grad, hdiag, w, weights, variables):
    """The decrease that each coordinate's model ``g d + H d^2 / 2 + l1 |w +
    d|`` promises at its minimiser, summed over ``variables``."""
    total = 0.0
    for j in variables:
        l1j = weights[j][0]
        d = _step(grad[j], hdiag[j], l1j, w[j])
        total -= grad[j] * d + 0.5 * hdiag[j] * d * d + l1j * (abs(w[j] + d) - abs(w[j]))
    return total


def reference_glmnet(X, y, cost, *, bias, l1, l2, reg_bias, rule, tol, max_iter, seed,
                     w0=None, gram=False, counts=None, decrement=False):
    """newGLMNET for ``sum_i C_i log(1 + exp(-y_i w.x~_i)) + l1 ||w||_1 + l2/2 ||w||^2``.

    ``rule`` is ``"relative"`` (liblinear's) or ``"gradient"``; ``tol`` is
    already scaled.  ``gram``: the kernel's rule 6 (it is given X by rows):
    a subproblem whose sparse cycles cost as much as forming the active
    Hessian forms it (``counts["gram"]`` counts them when ``counts`` is a
    dict).  ``decrement``: with ``rule="gradient"`` and a penalty, stop only
    when also :func:`promised_decrease` ``<= tol``.  Returns ``(w, n_iter,
    measure, history)``.
    """
    XT = X.T.tocsr()
    XT.sort_indices()
    XR = sp.csr_matrix(X)
    XR.sort_indices()
    n, d = X.shape
    y = np.asarray(y, dtype=np.float64)
    cost = np.asarray(cost, dtype=np.float64)
    w = np.zeros(d + 1) if w0 is None else np.array(w0, dtype=np.float64)
    if bias == 0:
        w[d] = 0.0
    n_used = float(np.count_nonzero(cost > 0))
    columns = []
    for j in range(d):
        lo, hi = XT.indptr[j], XT.indptr[j + 1]
        columns.append((XT.indices[lo:hi], XT.data[lo:hi].astype(np.float64)))
    n_total = d + (1 if bias != 0 else 0)
    lb, l2b = (l1, l2) if reg_bias else (0.0, 0.0)
    weights = [(l1, l2)] * d + [(lb, l2b)]

    z = np.zeros(n)
    for j in range(d):
        if w[j] != 0:
            rows, x = columns[j]
            z[rows] += w[j] * x
    if bias != 0 and w[d] != 0:
        z += w[d] * bias
    ell, gz, dz = _terms(y, cost, z)

    def grad_hess(j):
        if j < d:
            rows, x = columns[j]
            return _lanesum(x * gz[rows]), _lanesum((x * x) * dz[rows])
        return _lanesum(bias * gz), _lanesum((bias * bias) * dz)

    def hess_dot(j, xd):
        if j < d:
            rows, x = columns[j]
            return _lanesum((x * dz[rows]) * xd[rows])
        return _lanesum(dz * xd) * bias

    def axpy(a, j, v):
        if j < d:
            rows, x = columns[j]
            v[rows] += a * x
        else:
            v += a * bias

    def penalty(v):
        return (_seqsum(l1 * np.abs(v[:d]) + 0.5 * l2 * v[:d] * v[:d])
                + (lb * abs(v[d]) + 0.5 * l2b * v[d] * v[d]))

    def penalty_change(w, v):
        """R(v) - R(w) term by term, as the kernel sums it."""
        moved = v[:d] != w[:d]
        a, b = v[:d][moved], w[:d][moved]
        acc = _seqsum(l1 * (np.abs(a) - np.abs(b)) + 0.5 * l2 * (a - b) * (a + b))
        if v[d] != w[d]:
            acc += lb * (abs(v[d]) - abs(w[d])) + 0.5 * l2b * (v[d] - w[d]) * (v[d] + w[d])
        return acc

    gram_max = min(n_total, GRAM_MAX_VARS) if gram and n > 0 else 0
    row_nnz = np.diff(XR.indptr).astype(np.float64) + (1.0 if bias != 0 else 0.0)
    gram_cost = float((row_nnz * (row_nnz + 1.0)).sum()) / 2.0

    def col_len(j):
        return len(columns[j][0]) if j < d else n

    def gram_form(members):
        """The active block of the Hessian, sample by sample, as the kernel sums it."""
        var = sorted(members)
        pos = {j: a for a, j in enumerate(var)}
        na = len(var)
        Hm = np.zeros((na, na))
        for i in range(n):
            if dz[i] == 0.0:
                continue
            lo, hi = XR.indptr[i], XR.indptr[i + 1]
            entries = [(pos[c], float(v)) for c, v in zip(XR.indices[lo:hi], XR.data[lo:hi],
                                                          strict=True) if c in pos]
            if bias != 0 and d in pos:
                entries.append((pos[d], bias))
            for a, (pa, xa) in enumerate(entries):
                va = dz[i] * xa
                for pb, xb in entries[a:]:
                    Hm[pa, pb] += va * xb
        upper = np.triu(Hm, 1)
        return var, pos, np.triu(Hm) + upper.T

    order = list(range(d + 1))
    rng = XorShift(seed)
    grad = np.zeros(d + 1)
    hdiag = np.zeros(d + 1)
    gmax_old = np.inf
    inner_eps = 1.0
    gnorm1_init = 0.0
    n_iter = 0
    history = []
    while True:
        gmax = gnorm1 = 0.0
        active = n_total
        threshold = gmax_old / n_used
        s = 0
        while s < active:
            j = order[s]
            l1j, l2j = weights[j]
            G, H = grad_hess(j)
            G += l2j * w[j]
            H += NU + l2j
            grad[j], hdiag[j] = G, H
            if w[j] == 0 and G + l1j > threshold and G - l1j < -threshold:
                active -= 1
                order[s], order[active] = order[active], j
                continue
            v = _violation(G, l1j, w[j])
            gmax = max(gmax, v)
            gnorm1 += v
            s += 1
        if n_iter == 0:
            gnorm1_init = gnorm1
        if rule == "relative":
            measure = gnorm1 / gnorm1_init if gnorm1_init > 0 else 0.0
            if gnorm1 <= tol * gnorm1_init:
                break
        else:
            measure = gmax
            if gmax <= tol and not (
                    decrement and (l1 > 0 or l2 > 0)
                    and promised_decrease(grad, hdiag, w, weights, order[:active]) > tol):
                break
        if n_iter >= max_iter:
            break

        wpd = w.copy()
        xd = np.zeros(n)
        cycles = 0
        qp_gmax_old = np.inf
        qp_active = active
        in_gram = False
        spent = 0.0
        var = pos = Hm = hd = None  # the formed Hessian, once in_gram
        while cycles < MAX_INNER:
            qp_gmax = qp_gnorm1 = 0.0
            threshold = qp_gmax_old / n_used
            rng.shuffle(order, qp_active)
            s = 0
            while s < qp_active:
                j = order[s]
                l1j, l2j = weights[j]
                H = hdiag[j]
                wj = wpd[j]
                if in_gram:
                    a = pos[j]
                    G = grad[j] + (wj - w[j]) * (NU + l2j) + hd[a]
                else:
                    spent += col_len(j)
                    G = grad[j] + (wj - w[j]) * (NU + l2j) + hess_dot(j, xd)
                if wj == 0 and G + l1j > threshold and G - l1j < -threshold:
                    qp_active -= 1
                    order[s], order[qp_active] = order[qp_active], j
                    continue
                v = _violation(G, l1j, wj)
                qp_gmax = max(qp_gmax, v)
                qp_gnorm1 += v
                s += 1
                dj = _step(G, H, l1j, wj)
                if abs(dj) < D_MIN:
                    continue
                dj = min(max(dj, -D_MAX), D_MAX)
                wpd[j] = wj + dj
                if in_gram:
                    hd += dj * Hm[a]
                else:
                    spent += col_len(j)
                    axpy(dj, j, xd)
            cycles += 1
            if qp_gnorm1 <= inner_eps * gnorm1_init:
                if qp_active == active:
                    break
                qp_active = active
                qp_gmax_old = np.inf
                continue
            qp_gmax_old = qp_gmax
            if not in_gram and spent >= gram_cost and active <= gram_max:
                var, pos, Hm = gram_form(order[:active])
                dvec = wpd[var] - w[var]
                hd = np.array([_seqsum(Hm[a] * dvec) for a in range(len(var))])
                in_gram = True
                if counts is not None:
                    counts["gram"] = counts.get("gram", 0) + 1
        if in_gram:
            xd = np.zeros(n)
            for j in var:
                if wpd[j] != w[j]:
                    axpy(wpd[j] - w[j], j, xd)

        delta = _seqsum(grad * (wpd - w))
        delta += (l1 * _seqsum(np.abs(wpd[:d])) + lb * abs(wpd[d])) - (
            l1 * _seqsum(np.abs(w[:d])) + lb * abs(w[d]))
        for _ in range(MAX_LINE_SEARCH):
            new = cost * _log1pexp_neg(y * (z + xd))
            cond = penalty_change(w, wpd) + _seqsum(new - ell) - SIGMA * delta
            if cond <= 0:
                break
            wpd = 0.5 * (w + wpd)
            xd *= 0.5
            delta *= 0.5
        else:
            break
        w = wpd
        z = z + xd
        ell, gz, dz = _terms(y, cost, z)
        if cycles == 1:
            inner_eps *= 0.25
        n_iter += 1
        gmax_old = gmax
        history.append((float(_seqsum(ell) + penalty(w)), w.copy()))
    return w, n_iter, measure, history
