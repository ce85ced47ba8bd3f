"""Pure-NumPy twins of the kernels, for the exact-match tests.

Each twin runs the same algorithm as its Cython kernel with the same random
generator (:class:`XorShift`: splitmix64 seeding, xorshift64*, the same
Fisher-Yates shuffle) and the same order of floating-point operations, so
for the same seed it reproduces the kernel's iterates up to rounding.  Slow
on purpose: one Python step per coordinate, for small problems only.
The tests reach them through fixtures of ``conftest.py``.
"""
import numpy as np

MASK = (1 << 64) - 1


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


def reference_dcd(X, y, sample_C, *, hinge, bias, tol, max_iter, seed, shrinking=True):
    """Dual coordinate descent for the SVM (``src_c/_dual_cd_fast.pyx``).

    Returns (w with the bias weight last, alpha, n_iter) for CSR X.
    """
    X = X.tocsr()
    n, d = X.shape
    data, indices, indptr = X.data.astype(np.float64), X.indices, X.indptr
    w = np.zeros(d + 1)
    alpha = np.zeros(n)
    upper = np.where(sample_C > 0, sample_C if hinge else np.inf, 0.0)
    diag = np.zeros(n) if hinge else np.where(sample_C > 0, 0.5 / np.where(sample_C > 0, sample_C, 1), 0.0)
    qd = np.array([np.dot(data[indptr[i]:indptr[i + 1]], data[indptr[i]:indptr[i + 1]])
                   for i in range(n)]) + bias * bias + diag
    order = [i for i in range(n) if upper[i] > 0]
    n_total = n_active = len(order)
    rng = XorShift(seed)
    pg_max_old, pg_min_old = np.inf, -np.inf
    n_iter = 0
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
        pg_max_old, pg_min_old = pg_max_new, pg_min_new
        if pg_max_old <= 0:
            pg_max_old = np.inf
        if pg_min_old >= 0:
            pg_min_old = -np.inf
    return w, alpha, n_iter
