"""Pure-NumPy twins of the kernels, for the exact-match tests.

Each twin runs the same algorithm as its Cython kernel with the same random
generator (:class:`XorShift`: splitmix64 seeding, xorshift64*, the same
Fisher-Yates shuffle) and the same order of floating-point operations, so
for the same seed it reproduces the kernel's iterates up to rounding.  Slow
on purpose: one Python step per coordinate, for small problems only.
The tests reach them through fixtures of ``conftest.py``.

Given the visiting order of another library (:class:`LibcRand` for
liblinear-official, :class:`SklearnLiblinearRand` for scikit-learn's copy of
liblinear) and its order of additions (``sums="sequential"``), the twins of
the dual and the L1 coordinate descent replay that library's iterates: the
algorithms are the same step for step, only the generators differ.
"""
import ctypes
import ctypes.util

import numpy as np
import scipy.sparse as sp

MASK = (1 << 64) - 1
#: Passes in a row that change nothing before the kernels end (``src_c/_status.pxd``).
STALL_PASSES = 10


class Stall:
    """``_status.stall_after_pass``: True once ``STALL_PASSES`` passes in a
    row measured the same active set size, the same largest violation and
    the same sum (to 1e-12 of it) as the pass before, with the same weights
    (the kernel compares a checksum of them, taken when the measures
    repeat; here the weights themselves)."""

    def __init__(self):
        self.still, self.n_active, self.largest, self.total = 0, -1, 0.0, 0.0
        self.weights = None

    def after_pass(self, n_active, largest, total, w):
        same = (n_active == self.n_active and largest == self.largest
                and abs(total - self.total) <= 1e-12 * abs(self.total))
        if same:
            unchanged = self.weights is not None and np.array_equal(w, self.weights)
            self.still = self.still + 1 if unchanged else 0
            self.weights = np.array(w, copy=True)
        else:
            self.still, self.weights = 0, None
        self.n_active, self.largest, self.total = n_active, largest, total
        return self.still >= STALL_PASSES


class XorShift:
    """Python copy of ``src_c/_random.pxd`` (splitmix64 + xorshift64*)."""

    def __init__(self, seed):
        z = (seed + 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        self.state = z or 0x9E3779B97F4A7C15

    def next(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & MASK
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & MASK

    def shuffle(self, a, n=None):
        n = len(a) if n is None else n
        for i in range(n - 1):
            j = i + ((self.next() * (n - i)) >> 64)
            a[i], a[j] = a[j], a[i]


class LibcRand:
    """liblinear's visiting order: ``j + rand() % (n - j)`` for ``j = 0..n-1``
    (``n`` draws per pass, the last one trivial), from the C library's
    ``rand()``, which liblinear-official calls in the same process.

    ``seed`` is passed to ``srand``: call :meth:`reseed` again before the
    twin runs, after liblinear-official ran from the same seed.
    """

    def __init__(self, seed):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"))
        self.seed = seed
        self.reseed()

    def reseed(self):
        self.libc.srand(self.seed)

    def shuffle(self, a, n=None):
        n = len(a) if n is None else n
        for j in range(n):
            i = j + self.libc.rand() % (n - j)
            a[i], a[j] = a[j], a[i]


class SklearnLiblinearRand:
    """scikit-learn's liblinear order (``sklearn/svm/src/newrand``): std::mt19937
    seeded with ``RandomState(random_state).randint(2**31 - 1)``, bounded by
    Lemire's multiply-and-reject, ``n`` draws per pass."""

    def __init__(self, random_state):
        seed = np.random.RandomState(random_state).randint(np.iinfo("i").max)
        # The legacy seeding of RandomState is std::mt19937's (init_genrand).
        self.mt = np.random.RandomState(seed)._bit_generator

    def below(self, r):
        m = int(self.mt.random_raw()) * r
        if (m & 0xFFFFFFFF) < r:
            t = ((1 << 32) - r) % r
            while (m & 0xFFFFFFFF) < t:
                m = int(self.mt.random_raw()) * r
        return m >> 32

    def shuffle(self, a, n=None):
        n = len(a) if n is None else n
        for i in range(n):
            j = i + self.below(n - i)
            a[i], a[j] = a[j], a[i]


def reference_dcd(X, y, sample_C, *, hinge, bias, tol, max_iter, seed, shrinking=True,
                  rng=None, sums="kernel"):
    """Dual coordinate descent for the SVM (``src_c/_dual_cd_fast.pyx``).

    ``rng`` (an object with ``shuffle(order, n)``, default ``XorShift(seed)``)
    and ``sums="sequential"`` (``Qbar_ii`` summed left to right from ``D_ii``,
    as liblinear does) let ``bench/cd_passes.py`` replay scikit-learn's
    liblinear.  Returns (w with the bias weight last, alpha, n_iter) for CSR X.
    """
    X = X.tocsr()
    n, d = X.shape
    data, indices, indptr = X.data.astype(np.float64), X.indices, X.indptr
    w = np.zeros(d + 1)
    alpha = np.zeros(n)
    upper = np.where(sample_C > 0, sample_C if hinge else np.inf, 0.0)
    diag = np.zeros(n) if hinge else np.where(sample_C > 0, 0.5 / np.where(sample_C > 0, sample_C, 1), 0.0)
    if sums == "kernel":
        qd = np.array([np.dot(data[indptr[i]:indptr[i + 1]], data[indptr[i]:indptr[i + 1]])
                       for i in range(n)]) + bias * bias + diag
    else:
        qd = diag.copy()
        for i in range(n):
            for k in range(indptr[i], indptr[i + 1]):
                qd[i] += data[k] * data[k]
            qd[i] += bias * bias
    order = [i for i in range(n) if upper[i] > 0]
    n_total = n_active = len(order)
    rng = XorShift(seed) if rng is None else rng
    pg_max_old, pg_min_old = np.inf, -np.inf
    n_iter = 0
    stall = Stall()
    while n_iter < max_iter:
        pg_max_new, pg_min_new = -np.inf, np.inf
        rng.shuffle(order, n_active)
        s = 0
        while s < n_active:
            i = order[s]
            lo, hi = indptr[i], indptr[i + 1]
            dot = 0.0
            for k in range(lo, hi):
                dot += data[k] * w[indices[k]]
            G = y[i] * (dot + w[d] * bias) - 1.0 + alpha[i] * diag[i]
            PG = 0.0
            if alpha[i] == 0.0:
                if G > pg_max_old and shrinking:
                    n_active -= 1
                    order[s], order[n_active] = order[n_active], i
                    continue
                elif G < 0.0:
                    PG = G
            elif alpha[i] == upper[i]:
                if G < pg_min_old and shrinking:
                    n_active -= 1
                    order[s], order[n_active] = order[n_active], i
                    continue
                elif G > 0.0:
                    PG = G
            else:
                PG = G
            pg_max_new = max(pg_max_new, PG)
            pg_min_new = min(pg_min_new, PG)
            if abs(PG) > 1e-12:
                a_old = alpha[i]
                alpha[i] = min(max(a_old - G / qd[i], 0.0), upper[i])
                step = (alpha[i] - a_old) * y[i]
                if step != 0.0:
                    for k in range(lo, hi):
                        w[indices[k]] += step * data[k]
                    w[d] += step * bias
            s += 1
        n_iter += 1
        if pg_max_new - pg_min_new <= tol:
            if n_active == n_total:
                break
            n_active = n_total
            pg_max_old, pg_min_old = np.inf, -np.inf
            continue
        if stall.after_pass(n_active, pg_max_new, pg_min_new, w):
            break  # nothing changes any more (the kernel's STALLED)
        pg_max_old, pg_min_old = pg_max_new, pg_min_new
        if pg_max_old <= 0:
            pg_max_old = np.inf
        if pg_min_old >= 0:
            pg_min_old = -np.inf
    return w, alpha, n_iter


def reference_newton(X, y, cost, *, regression, bias, epsilon, tol, max_iter, w0=None,
                     eps_cg=0.5):
    """Truncated Newton with line search (``src_c/_newton_fast.pyx``), in NumPy.

    Same steps in the same order: preconditioned CG with the quadratic
    stopping rule, Armijo backtracking by halves, liblinear 2.41's stopping
    rules.  Returns (w with the bias weight last, n_iter, ||g|| / ||g(0)||).
    """
    X = X.tocsr()
    n, d = X.shape
    m = d + 1
    Xb = lambda v: X @ v[:-1] + bias * v[-1]  # noqa: E731

    def Xt(u):
        out = np.empty(m)
        out[:-1] = X.T @ u
        out[-1] = bias * u.sum()
        return out

    def active(z):
        used = cost > 0
        if regression:
            r = z - y
            r = np.where(r < -epsilon, r + epsilon, np.where(r > epsilon, r - epsilon, 0.0))
            on = used & (np.abs(z - y) > epsilon)
        else:
            r = z - y
            on = used & (y * z < 1.0)
        return on, 2.0 * cost * r

    def grad(w, z):
        on, u = active(z)
        return w + Xt(np.where(on, u, 0.0)), on

    def loss(z):
        r = np.abs(z - y) - epsilon if regression else 1.0 - y * z
        return float(cost @ np.where(r > 0, r * r, 0.0))

    w = np.zeros(m) if w0 is None else np.array(w0, dtype=np.float64)
    g0, _ = grad(np.zeros(m), np.zeros(n))
    gnorm0 = np.linalg.norm(g0)
    z = Xb(w)
    f = 0.5 * w @ w + loss(z)
    g, on = grad(w, z)
    gnorm = np.linalg.norm(g)
    n_iter = 0
    if gnorm <= tol * gnorm0:
        return w, n_iter, gnorm / gnorm0
    while n_iter < max_iter:
        sq = X.multiply(X)
        diag = np.empty(m)
        diag[:-1] = sq.T @ np.where(on, 2.0 * cost, 0.0)
        diag[-1] = bias * bias * np.where(on, 2.0 * cost, 0.0).sum()
        M = (1 - 0.01) + 0.01 * (1.0 + diag)

        def hess(v):
            u = np.where(on, 2.0 * cost * Xb(v), 0.0)
            return v + Xt(u)

        s = np.zeros(m)
        r = -g.copy()
        zv = r / M
        dvec = zv.copy()
        zTr = zv @ r
        cgtol = min(eps_cg, np.sqrt(np.sqrt(zTr)))
        Q = 0.0
        for it in range(1, max(m, 5) + 1):
            Hd = hess(dvec)
            dHd = dvec @ Hd
            if not dHd > 1e-14 * (dvec * dvec) @ (1.0 + diag):  # the null space of H
                break
            alpha = zTr / dHd
            s += alpha * dvec
            r -= alpha * Hd
            newQ = -0.5 * (s @ r - s @ g)
            Qdiff = newQ - Q
            if newQ <= 0 and Qdiff <= 0:
                if it * Qdiff >= cgtol * newQ:
                    break
            else:
                break
            Q = newQ
            zv = r / M
            znew = zv @ r
            dvec = zv + (znew / zTr) * dvec
            zTr = znew
        # Line search along s.
        t_vec = Xb(s)
        gTs, wTw, wTs, sTs = g @ s, w @ w, w @ s, s @ s
        step = 1.0
        for _ in range(20):
            f_new = 0.5 * (wTw + 2 * step * wTs + step * step * sTs) + loss(z + step * t_vec)
            if f_new - f <= 0.01 * step * gTs:
                break
            step *= 0.5
        else:
            step = 0.0
        n_iter += 1
        if step == 0.0:
            break
        f_old = f
        z = z + step * t_vec
        w = w + step * s
        f = f_new
        g, on = grad(w, z)
        gnorm = np.linalg.norm(g)
        if gnorm <= tol * gnorm0 or abs(f_old - f) <= 1e-12 * abs(f):
            break
    return w, n_iter, gnorm / gnorm0


def reference_svr(X, y, cost, *, squared, epsilon, bias, tol, max_iter, seed, shrinking=True):
    """Dual coordinate descent for the SVR (the regression pass of
    ``src_c/_dual_cd_fast.pyx``; Ho & Lin's Algorithm 4).

    Returns (w with the bias weight last, beta, n_iter).
    """
    X = X.tocsr()
    n, d = X.shape
    data, indices, indptr = X.data.astype(np.float64), X.indices, X.indptr
    w = np.zeros(d + 1)
    beta = np.zeros(n)
    used = cost > 0
    upper = np.where(used, np.inf if squared else cost, 0.0)
    lam = np.where(used, 0.5 / np.where(used, cost, 1.0), 0.0) if squared else np.zeros(n)
    order = [i for i in range(n) if used[i]]
    n_total = n_active = len(order)
    rng = XorShift(seed)
    gmax_old = np.inf
    norm1_init = -1.0
    n_iter = 0
    stall = Stall()
    while n_iter < max_iter:
        gmax_new, norm1 = 0.0, 0.0
        rng.shuffle(order, n_active)
        s = 0
        while s < n_active:
            i = order[s]
            lo, hi = indptr[i], indptr[i + 1]
            dot, sq = 0.0, 0.0
            for k in range(lo, hi):
                dot += data[k] * w[indices[k]]
                sq += data[k] * data[k]
            G = dot + w[d] * bias - y[i] + lam[i] * beta[i]
            H = sq + bias * bias + lam[i]
            Gp, Gn = G + epsilon, G - epsilon
            viol = 0.0
            b = beta[i]
            if b == 0.0:
                if Gp < 0:
                    viol = -Gp
                elif Gn > 0:
                    viol = Gn
                elif Gp > gmax_old and Gn < -gmax_old and shrinking:
                    n_active -= 1
                    order[s], order[n_active] = order[n_active], i
                    continue
            elif b >= upper[i]:
                if Gp > 0:
                    viol = Gp
                elif Gp < -gmax_old and shrinking:
                    n_active -= 1
                    order[s], order[n_active] = order[n_active], i
                    continue
            elif b <= -upper[i]:
                if Gn < 0:
                    viol = -Gn
                elif Gn > gmax_old and shrinking:
                    n_active -= 1
                    order[s], order[n_active] = order[n_active], i
                    continue
            elif b > 0:
                viol = abs(Gp)
            else:
                viol = abs(Gn)
            gmax_new = max(gmax_new, viol)
            norm1 += viol
            if H <= 0:
                b_new = upper[i] if Gp < 0 else (-upper[i] if Gn > 0 else 0.0)
            elif Gp < H * b:
                b_new = b - Gp / H
            elif Gn > H * b:
                b_new = b - Gn / H
            else:
                b_new = 0.0
            if abs(b_new - b) >= 1e-12:
                b_new = min(max(b_new, -upper[i]), upper[i])
                step = b_new - b
                if step != 0.0:
                    beta[i] = b_new
                    for k in range(lo, hi):
                        w[indices[k]] += step * data[k]
                    w[d] += step * bias
            s += 1
        if n_iter == 0:
            norm1_init = norm1
        n_iter += 1
        if norm1 <= tol * norm1_init:
            if n_active == n_total:
                break
            n_active = n_total
            gmax_old = np.inf
            continue
        if stall.after_pass(n_active, gmax_new, norm1, w):
            break  # nothing changes any more (the kernel's STALLED)
        gmax_old = gmax_new
    return w, beta, n_iter


def hinge_pg_spread(X, y, alpha, cost, bias):
    """liblinear's stopping measure for the hinge dual at ``alpha``, in NumPy:
    ``max PG - min PG`` with ``G_i = y_i w(a) . x~_i - 1`` (``y`` in {-1, +1})."""
    Xt = np.hstack([np.asarray(sp.csr_matrix(X).todense()), np.full((X.shape[0], 1), bias)])
    w = Xt.T @ (y * alpha)
    G = y * (Xt @ w) - 1.0
    PG = np.where(alpha <= 0, np.minimum(G, 0), np.where(alpha >= cost, np.maximum(G, 0), G))
    return PG.max() - PG.min()
