# cython: freethreading_compatible = True
"""The multiclass SVM of Crammer and Singer by a sequential dual method, on CSR data.

The problem (Crammer & Singer, "On the Algorithmic Implementation of
Multiclass Kernel-based Vector Machines", JMLR 2001; liblinear ``-s 4``)::

    primal  min_W  1/2 sum_m ||w_m||^2
                   + sum_i C_i max(0, max_{m != y_i} (1 + w_m.x~_i - w_{y_i}.x~_i))

    dual    min_a  1/2 sum_m ||w_m(a)||^2 + sum_{i,m} e_i^m a_i^m
            s.t.   a_i^m <= C_i [m == y_i],   sum_m a_i^m = 0   (every i)

with ``x~_i = [x_i, bias]``, ``e_i^m = [m != y_i]`` and ``w_m(a) = sum_i
a_i^m x~_i`` kept up to date; ``min P = -min D``.

The method (Keerthi, Sundararajan, Chang, Hsieh & Lin, "A Sequential Dual
Method for Large Scale Multi-Class Linear SVMs", KDD 2008; the appendix of
Fan et al., "LIBLINEAR", JMLR 2008; liblinear's ``Solver_MCSVM_CS``): visit
the samples in random order and minimise the dual over the K variables
``a_i = (a_i^m)_m`` of one sample, the others fixed.  With the partial
derivatives ``G_m = e_i^m + w_m.x~_i`` and ``A_i = ||x~_i||^2``, that
sub-problem is::

    min_a  1/2 A_i ||a||^2 + B.a   s.t.  a_m <= c_m,  sum_m a_m = 0
    B_m = G_m - A_i a_i^m,   c_m = C_i [m == y_i]

solved exactly by ``a_m = min(c_m, (beta - B_m) / A_i)`` with ``beta`` making
the sum zero: sort ``D_m = B_m + A_i c_m`` in decreasing order, grow ``r``
from 1 while ``S_r = D_0 + ... + D_{r-1} - A_i C_i < r D_r``, and take
``beta = S_r / r`` (Crammer & Singer's fixed point).  Over the active classes
only, the same formula holds: with ``y_i`` inactive (``a_i^{y_i} = C_i``),
the active variables sum to ``-C_i``.

Optimality of ``a_i``: ``max_m G_m <= min {G_m : a_i^m < c_m}``.  The
stopping measure of a pass is the largest gap ``max G - min G`` it met; the
solver stops after a pass over all variables whose measure is below ``tol``.

Design rules of this module:

1. The intercept is a virtual constant feature of value ``bias`` appended to
   every row (liblinear's ``-B``): its weights are the last row of ``W``;
   with ``bias = 0`` they never move.  X is never copied or augmented.
2. X arrives as a ``fastlinear._csr_fast.CSR``: its structure, finite values
   and squared row norms were proved once per fit, so the kernel reads its
   arrays as they are (``floating`` values, float32 stays float32; ``int32``
   or ``int64`` indices).  It checks what the proof does not cover (labels,
   costs, the start point, shapes) before it writes anything.  ``W``,
   ``alpha`` and every accumulation are float64.
3. ``W`` is stored feature-major, ``(n_features + 1, K)`` C-contiguous: a
   nonzero ``x_ij`` reads and writes one contiguous row of K weights.
4. Samples that cannot move are set aside before the first pass: those with
   ``C_i = 0`` (``a_i = 0``) and those with ``x~_i = 0`` (an empty row
   without intercept).  For the latter the dual is linear in ``a_i``, and its
   minimiser ``a_i^{y_i} = C_i``, ``a_i^m = -C_i / (K - 1)`` is set once
   (liblinear skips them at every visit and leaves ``a_i = 0``: feasible but
   not optimal, a duality gap of ``C_i`` each).
5. Each pass visits the active samples in a fresh random order drawn from the
   seeded generator of ``_random.pxd``: the same seed gives the same
   iterates, bit for bit.
6. Shrinking on two levels, as liblinear.  Within a sample, a class whose
   variable sits at its bound with ``G_m`` below the smallest free
   derivative leaves the sample's active classes; a sample with one active
   class left leaves the active samples.  When a pass's measure falls below
   ``eps_shrink`` (``max(10 tol, 1)`` at first, halved at each use down to
   ``tol``) everything is made active again, and only a pass that began from
   all variables can end the solve.
7. The per-sample integers live in one int32 row of ``K + 2``: the number of
   active classes, the position of ``y_i`` in the permutation, then the
   permutation of the classes whose first entries are the active ones (a
   position ``>=`` the count means inactive).
8. Memory latency is the bottleneck: the rows of ``W`` a sample reads are
   scattered over the whole of ``W``.  They are prefetched 32 nonzeros ahead,
   and a sample's state and ``alpha`` row (every cache line of both) a few
   samples ahead, its nonzeros a little later.  Measured on 20 newsgroups
   (``W`` of 20 MB, beyond L2): 35 to 45 % less time than without the
   prefetches of ``W`` and only the first line of the state; 16 or 64
   nonzeros ahead, prefetching only the lines of the active classes, or
   running on into the next sample's row were all slower.
9. Changes ``|d| < 1e-12`` are written to ``alpha`` but not applied to ``W``
   (liblinear): ``alpha`` stays feasible to rounding, and ``W`` differs from
   ``W(alpha)`` by at most ``1e-12 ||x~_i||`` per skipped change.
10. Every loop is bounded: the outer loop by ``max_iter``; a pass by the
    active set, where each visit either advances or shrinks it; the
    shrinking of classes by ``K``.  ``_status.poll`` runs once per pass and
    every ``POLL_EVERY`` visits, so Ctrl-C and the fit's shared stop flag end
    a solve within milliseconds.  After ``STALL_PASSES`` passes in a row in
    which nothing changed (rule 9: no change reached ``W``, X's scale being so
    extreme that every change is below 1e-12; ``_status.stall_after_pass``)
    the solve ends with ``STALLED`` instead of running on to ``max_iter``.
"""
import numpy as np

from libc.math cimport INFINITY, fabs, isfinite
from libc.stdint cimport int32_t, int64_t, uint64_t
from cython cimport floating

from _prefetch cimport prefetch
from _random cimport rng_seed, shuffle
from _sparse cimport index_t, prefetch_row, row_sqnorm
from _status cimport CONVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll
from _status cimport STALLED, Stall, stall_after_pass, stall_init

from fastlinear._csr_fast import require_proved

__all__ = ["crammer_singer"]


cdef enum:
    ROW_PREFETCH = 4       # rows are prefetched this many samples ahead
    SAMPLE_PREFETCH = 8    # per-sample state, this many ahead
    HEAD = 2               # rule 7: [active classes, position of y_i, ...]
    W_PREFETCH = 32        # rows of W are prefetched this many nonzeros ahead

cdef enum Bad:             # what _check refuses (rule 2)
    BAD_LABEL = 1
    BAD_START = 2

# Rule 9's threshold; a sample whose gap is below it is not updated.
cdef double TINY = 1e-12
# A warm start's |sum_m a_i^m| must be below this times C_i + sum_m |a_i^m|
# (the sub-problem's solution sums to zero up to rounding).
cdef double SUM_TOL = 1e-9


cdef struct Problem:
    # What a pass reads and writes, besides X.
    Py_ssize_t n_features
    Py_ssize_t K
    const int32_t* y       # class indices in [0, K)
    const double* cost     # C_i >= 0
    double* alpha          # n_samples x K
    double* W              # (n_features + 1) x K, the bias row last
    int32_t* state         # n_samples x (K + HEAD), rule 7
    double bias
    unsigned char* stop    # shared stop flag of the fit


cdef struct Work:
    # Scratch of one sample's sub-problem, K entries each.
    double* G              # derivatives, in permutation order
    double* B
    double* D              # B + A c, sorted
    double* a_new
    double* d_val          # the changes applied to W ...
    Py_ssize_t* d_ind      # ... and their classes


cdef struct Run:
    # Settings in, results out.
    double tol
    int max_iter
    uint64_t seed
    int verbose
    int n_iter
    int status
    double measure


def crammer_singer(X, const int32_t[::1] y, const double[::1] cost,
                   double[:, ::1] W, double[:, ::1] alpha, *, double bias,
                   double tol, int max_iter, uint64_t seed, int verbose=0,
                   unsigned char[::1] stop=None, bint warm_start=False):
    """Solve the Crammer-Singer dual by the sequential dual method, in place.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y : int32 array of shape (n_samples,), class indices in ``[0, K)``.
    cost : float64 array of shape (n_samples,), the per-sample ``C_i >= 0``.
    W : float64 array of shape (n_features + 1, K), C-contiguous, output:
        feature-major weights (``W[j, m]`` is feature ``j`` of class ``m``),
        the bias weights in the last row.  ``K >= 2``.
    alpha : float64 array of shape (n_samples, K), C-contiguous: output (the
        dual solution), and the start point with ``warm_start``.
    bias : value of the virtual constant feature (0 for no intercept).
    tol : stopping tolerance on ``max G - min G`` (liblinear's ``eps``; its
        default for ``-s 4`` is 0.1).
    max_iter : maximal number of passes.
    seed : seed of the visiting order.
    verbose : > 0 prints liblinear-style progress.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag (rule 10).
    warm_start : bool, default=False
        Start from the given ``alpha`` (checked feasible: ``a_i^m <= C_i [m ==
        y_i]``, ``sum_m a_i^m = 0``), with ``W`` computed from it; otherwise
        from ``alpha = 0``.

    Returns
    -------
    n_iter : int
        Passes run.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1), ``INTERRUPTED`` (2, the stop
        flag was set by another thread) or ``STALLED`` (6, rule 10).
    measure : float
        The last pass's stopping measure: the largest ``max G - min G`` of a
        sample it updated (0 when it updated none).
    """
    require_proved(X, "crammer_singer")
    cdef Py_ssize_t n_samples = X.n_rows, K = W.shape[1]
    if y.shape[0] != n_samples or cost.shape[0] != n_samples:
        raise ValueError("crammer_singer: y and cost must have n_samples = %d "
                         "elements, got %d and %d."
                         % (n_samples, y.shape[0], cost.shape[0]))
    if W.shape[0] != X.n_cols + 1 or K < 2 or K > 2**30:
        raise ValueError("crammer_singer: W must have shape (n_features + 1, "
                         "K) = (%d, K) with K >= 2 classes, got (%d, %d)."
                         % (X.n_cols + 1, W.shape[0], K))
    if alpha.shape[0] != n_samples or alpha.shape[1] != K:
        raise ValueError("crammer_singer: alpha must have shape (n_samples, "
                         "K) = (%d, %d), got (%d, %d)."
                         % (n_samples, K, alpha.shape[0], alpha.shape[1]))
    if not (tol > 0.0) or max_iter < 1:
        raise ValueError("crammer_singer: tol must be > 0 and max_iter >= 1, "
                         "got tol=%r and max_iter=%d." % (tol, max_iter))
    if not isfinite(bias):
        raise ValueError("crammer_singer: bias must be finite, got %r." % bias)
    if not isfinite(X.max_row_sq + bias * bias):
        raise ValueError("crammer_singer: the squared row norms overflow "
                         "float64; rescale X.")
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError("crammer_singer: stop must have one element.")
    if n_samples == 0:
        W[:, :] = 0.0
        return 0, int(CONVERGED), 0.0

    cdef Problem p
    p.n_features = X.n_cols
    p.K = K
    p.y = &y[0]
    p.cost = &cost[0]
    p.alpha = &alpha[0, 0]
    p.W = &W[0, 0]
    p.state = NULL
    p.bias = bias
    p.stop = &stop[0]
    cdef Run run
    run.tol = tol
    run.max_iter = max_iter
    run.seed = seed
    run.verbose = verbose
    run.n_iter = 0
    run.status = MAX_ITER
    run.measure = INFINITY
    if X.data.dtype == np.float32:
        if X.indices.dtype == np.int32:
            return _run[float, int32_t](X.data, X.indices, X.indptr, &p, &run,
                                        warm_start)
        return _run[float, int64_t](X.data, X.indices, X.indptr, &p, &run,
                                    warm_start)
    if X.indices.dtype == np.int32:
        return _run[double, int32_t](X.data, X.indices, X.indptr, &p, &run,
                                     warm_start)
    return _run[double, int64_t](X.data, X.indices, X.indptr, &p, &run,
                                 warm_start)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Problem* p, Run* run,
                 bint warm_start):
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1, K = p.K
    order = np.empty(n_samples, dtype=np.intp)
    state = np.empty((n_samples, K + HEAD), dtype=np.int32)
    scratch = np.empty((5, K), dtype=np.float64)
    changed = np.empty(K, dtype=np.intp)
    cdef Py_ssize_t[::1] order_v = order
    cdef int32_t[:, ::1] state_v = state
    cdef double[:, ::1] scratch_v = scratch
    cdef Py_ssize_t[::1] changed_v = changed
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t bad_row = -1, n_total = 0
    cdef int bad
    cdef Work wk
    wk.G = &scratch_v[0, 0]
    wk.B = &scratch_v[1, 0]
    wk.D = &scratch_v[2, 0]
    wk.a_new = &scratch_v[3, 0]
    wk.d_val = &scratch_v[4, 0]
    wk.d_ind = &changed_v[0]
    p.state = &state_v[0, 0]

    with nogil:
        bad = _check(p, n_samples, warm_start, &bad_row)
    if bad == BAD_LABEL:
        raise ValueError("crammer_singer: row %d has a label outside [0, %d) "
                         "or a cost C_i that is negative or not finite."
                         % (bad_row, K))
    if bad == BAD_START:
        raise ValueError("crammer_singer: the start point alpha is infeasible "
                         "at row %d: it needs alpha[i, m] <= C_i for m = y_i, "
                         "<= 0 otherwise, and sum_m alpha[i, m] = 0."
                         % bad_row)
    with nogil:
        n_total = _prepare(X_data, X_ind, &indptr[0], n_samples, p,
                           &order_v[0], warm_start)
        _solve(X_data, X_ind, &indptr[0], p, &order_v[0], n_total, &wk, run)
    if run.verbose > 0:
        print("\noptimization finished, #iter = %d" % run.n_iter)
        if run.status == MAX_ITER:
            print("WARNING: reaching max number of iterations")
    return run.n_iter, run.status, run.measure


cdef int _check(const Problem* p, Py_ssize_t n_samples, bint warm_start,
                Py_ssize_t* bad_row) noexcept nogil:
    """Labels, costs and (warm start) the start point; 0 or a :class:`Bad`."""
    cdef Py_ssize_t i, m, K = p.K
    cdef int32_t yi
    cdef double c, total, size, upper
    cdef const double* a
    for i in range(n_samples):
        yi = p.y[i]
        c = p.cost[i]
        bad_row[0] = i
        if yi < 0 or yi >= K or not (c >= 0.0) or not isfinite(c):
            return BAD_LABEL
        if not warm_start:
            continue
        a = p.alpha + i * K
        total = 0.0
        size = 0.0
        for m in range(K):
            upper = c if m == yi else 0.0
            if not (a[m] <= upper) or not isfinite(a[m]):
                return BAD_START
            total += a[m]
            size += fabs(a[m])
        if fabs(total) > SUM_TOL * (c + size):
            return BAD_START
    bad_row[0] = -1
    return 0


cdef Py_ssize_t _prepare(const floating* data, const index_t* indices,
                         const index_t* indptr, Py_ssize_t n_samples,
                         Problem* p, Py_ssize_t* order,
                         bint warm_start) noexcept nogil:
    """Initial state of every sample, the start point, ``W(alpha)``.

    Lists the movable samples in ``order`` (rule 4) and returns their number.
    """
    cdef Py_ssize_t i, m, k, s, K = p.K, nf = p.n_features, n_total = 0
    cdef int32_t yi
    cdef int32_t* st
    cdef double c, v
    cdef double* a
    cdef double* row
    for i in range(n_samples):
        yi = p.y[i]
        c = p.cost[i]
        a = p.alpha + i * K
        st = p.state + i * (K + HEAD)
        st[0] = <int32_t>K
        st[1] = yi
        for m in range(K):
            st[HEAD + m] = <int32_t>m
        if c == 0.0 or not warm_start:
            for m in range(K):
                a[m] = 0.0
        if c == 0.0:
            continue
        if row_sqnorm(data, indptr[i], indptr[i + 1]) + p.bias * p.bias > 0.0:
            order[n_total] = i
            n_total += 1
        else:
            # x~_i = 0: the dual's minimiser in a_i (rule 4).
            for m in range(K):
                a[m] = -c / <double>(K - 1)
            a[yi] = c
    for k in range((nf + 1) * K):
        p.W[k] = 0.0
    if warm_start:
        for s in range(n_total):
            i = order[s]
            a = p.alpha + i * K
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                row = p.W + <Py_ssize_t>indices[k] * K
                for m in range(K):
                    row[m] += a[m] * v
            if p.bias != 0.0:
                row = p.W + nf * K
                for m in range(K):
                    row[m] += a[m] * p.bias
    return n_total


cdef inline void _prefetch_span(const void* start, Py_ssize_t n_bytes) noexcept nogil:
    """Ask for every cache line of ``n_bytes > 0`` bytes from ``start``."""
    cdef const char* first = <const char*>start
    cdef Py_ssize_t off
    for off in range(0, n_bytes, 64):
        prefetch(first + off)
    prefetch(first + n_bytes - 1)


cdef inline void _prefetch_weights(const double* row, Py_ssize_t K) noexcept nogil:
    """Ask for every cache line of a row of ``W`` (K doubles)."""
    cdef Py_ssize_t off
    for off in range(0, K, 8):
        prefetch(row + off)
    prefetch(row + K - 1)


cdef inline bint _shrinkable(double a, double upper, double g,
                             double min_g) noexcept nogil:
    """Whether a class leaves a sample's active set (rule 6)."""
    return a == upper and g < min_g


cdef void _sub_problem(double A, Py_ssize_t ypos, double c, Py_ssize_t n_act,
                       const double* B, double* D, double* a_new) noexcept nogil:
    """The minimiser of one sample's sub-problem over its active classes.

    ``ypos >= n_act`` when ``y_i`` is inactive (its variable fixed at
    ``C_i``, so the active ones sum to ``-C_i``).  K is small: an insertion
    sort orders ``D``.
    """
    cdef Py_ssize_t m, j, r
    cdef double beta, t
    for m in range(n_act):
        D[m] = B[m]
    if ypos < n_act:
        D[ypos] += A * c
    for m in range(1, n_act):
        t = D[m]
        j = m
        while j > 0 and D[j - 1] < t:
            D[j] = D[j - 1]
            j -= 1
        D[j] = t
    beta = D[0] - A * c
    r = 1
    while r < n_act and beta < r * D[r]:
        beta += D[r]
        r += 1
    beta /= r
    for m in range(n_act):
        t = (beta - B[m]) / A
        if m == ypos:
            a_new[m] = c if c < t else t
        else:
            a_new[m] = 0.0 if 0.0 < t else t


cdef bint _visit(const floating* data, const index_t* indices,
                 Py_ssize_t start, Py_ssize_t end, const Problem* p,
                 Py_ssize_t i, Work* wk, double* stopping) noexcept nogil:
    """One sample's step: derivatives, shrinking, sub-problem, update of W.

    Returns True when the sample has at most one active class left: it
    leaves the active samples.  Raises ``stopping`` to the sample's gap.
    """
    cdef Py_ssize_t K = p.K, nf = p.n_features, m, k, nz
    cdef int32_t* st = p.state + i * (K + HEAD)
    cdef int32_t* perm = st + HEAD
    cdef Py_ssize_t n_act = st[0], ypos = st[1]
    cdef double* a = p.alpha + i * K
    cdef double* G = wk.G
    cdef double* W = p.W
    cdef double c = p.cost[i], bias = p.bias
    cdef double v, sq = 0.0, A, min_g, max_g, d, t, g0, g1
    cdef Py_ssize_t p0, p1
    cdef bint pair
    cdef const double* row
    cdef double* wrow

    # G_m = e_i^m + w_m.x~_i over the active classes, the bias term last;
    # A = ||x~_i||^2 in the same pass.
    for m in range(n_act):
        G[m] = 1.0
    if ypos < n_act:
        G[ypos] = 0.0
    # Two active classes (every sample of a binary problem): the two sums in
    # registers.  ``G`` may alias ``W`` for the compiler, so the general loop
    # waits on each term's store before the next (a9a 1.5x slower); same
    # order, same bits.
    pair = n_act == 2
    p0 = perm[0] if pair else 0
    p1 = perm[1] if pair else 0
    g0 = G[0] if pair else 0.0
    g1 = G[1] if pair else 0.0
    for k in range(start, end):
        if k + W_PREFETCH < end:
            _prefetch_weights(W + <Py_ssize_t>indices[k + W_PREFETCH] * K, K)
        v = data[k]
        sq += v * v
        row = W + <Py_ssize_t>indices[k] * K
        if pair:
            g0 += row[p0] * v
            g1 += row[p1] * v
        else:
            for m in range(n_act):
                G[m] += row[perm[m]] * v
    if pair:
        G[0] = g0
        G[1] = g1
    if bias != 0.0:
        row = W + nf * K
        for m in range(n_act):
            G[m] += row[perm[m]] * bias
    A = sq + bias * bias

    # The extremes: max over all active classes, min over the free ones.
    min_g = INFINITY
    max_g = -INFINITY
    for m in range(n_act):
        if a[perm[m]] < 0.0 and G[m] < min_g:
            min_g = G[m]
        if G[m] > max_g:
            max_g = G[m]
    if ypos < n_act and a[perm[ypos]] < c and G[ypos] < min_g:
        min_g = G[ypos]

    # Shrink classes at their bound whose derivative is below every free one;
    # an active class from the end takes the place of each.
    m = 0
    while m < n_act:
        if _shrinkable(a[perm[m]], c if m == ypos else 0.0, G[m], min_g):
            n_act -= 1
            while n_act > m:
                if not _shrinkable(a[perm[n_act]], c if n_act == ypos else 0.0,
                                   G[n_act], min_g):
                    perm[m], perm[n_act] = perm[n_act], perm[m]
                    t = G[m]
                    G[m] = G[n_act]
                    G[n_act] = t
                    if ypos == n_act:
                        ypos = m
                    elif ypos == m:
                        ypos = n_act
                    break
                n_act -= 1
        m += 1
    st[0] = <int32_t>n_act
    st[1] = <int32_t>ypos
    if n_act <= 1:
        return True
    if max_g - min_g <= TINY:
        return False
    if max_g - min_g > stopping[0]:
        stopping[0] = max_g - min_g

    for m in range(n_act):
        wk.B[m] = G[m] - A * a[perm[m]]
    _sub_problem(A, ypos, c, n_act, wk.B, wk.D, wk.a_new)
    nz = 0
    for m in range(n_act):
        d = wk.a_new[m] - a[perm[m]]
        a[perm[m]] = wk.a_new[m]
        if fabs(d) >= TINY:
            wk.d_ind[nz] = perm[m]
            wk.d_val[nz] = d
            nz += 1
    if nz == 0:
        return False
    for k in range(start, end):
        v = data[k]
        wrow = W + <Py_ssize_t>indices[k] * K
        for m in range(nz):
            wrow[wk.d_ind[m]] += wk.d_val[m] * v
    if bias != 0.0:
        wrow = W + nf * K
        for m in range(nz):
            wrow[wk.d_ind[m]] += wk.d_val[m] * bias
    return False


cdef Py_ssize_t _epoch(const floating* data, const index_t* indices,
                       const index_t* indptr, const Problem* p,
                       Py_ssize_t* order, Py_ssize_t n_active, Work* wk,
                       double* stopping) except -1 nogil:
    """One pass over ``order[:n_active]``; returns the new active set size
    (shrunk samples are swapped behind it)."""
    cdef Py_ssize_t s = 0, i, j, visits = 0, K = p.K
    while s < n_active:
        if (visits & (POLL_EVERY - 1)) == POLL_EVERY - 1 and poll(p.stop):
            break
        visits += 1
        if s + SAMPLE_PREFETCH < n_active:
            j = order[s + SAMPLE_PREFETCH]
            prefetch(&indptr[j])
            prefetch(&p.cost[j])
            _prefetch_span(p.alpha + j * K, K * sizeof(double))
            _prefetch_span(p.state + j * (K + HEAD), (K + HEAD) * sizeof(int32_t))
        if s + ROW_PREFETCH < n_active:
            j = order[s + ROW_PREFETCH]
            prefetch_row(data, indices, indptr[j], indptr[j + 1])
        i = order[s]
        if _visit(data, indices, indptr[i], indptr[i + 1], p, i, wk, stopping):
            n_active -= 1
            order[s] = order[n_active]
            order[n_active] = i
            continue
        s += 1
    return n_active


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, Problem* p, Py_ssize_t* order,
                Py_ssize_t n_total, Work* wk, Run* run) except -1 nogil:
    """Passes until a pass from all variables measures below ``tol``
    (rule 6), ``max_iter`` passes, or a stop."""
    cdef Py_ssize_t n_active = n_total, k, ld = p.K + HEAD
    cdef uint64_t state = rng_seed(run.seed)
    cdef double eps_shrink = max(10.0 * run.tol, 1.0), stopping
    cdef bint from_all = True
    cdef Stall stall
    stall_init(&stall)
    run.status = MAX_ITER
    while run.n_iter < run.max_iter:
        stopping = -INFINITY
        shuffle(order, n_active, &state)
        n_active = _epoch(data, indices, indptr, p, order, n_active, wk,
                          &stopping)
        run.n_iter += 1
        run.measure = stopping if stopping > 0.0 else 0.0
        if run.verbose > 0 and run.n_iter % 10 == 0:
            with gil:
                print(".", end="", flush=True)
        if poll(p.stop):
            run.status = INTERRUPTED
            break
        if stopping < eps_shrink:
            if stopping < run.tol and from_all:
                run.status = CONVERGED
                break
            # Shrinking may have hidden violators: everything active again.
            n_active = n_total
            for k in range(n_total):
                p.state[order[k] * ld] = <int32_t>p.K
            eps_shrink = max(eps_shrink / 2.0, run.tol)
            from_all = True
            if run.verbose > 0:
                with gil:
                    print("*", end="", flush=True)
        else:
            from_all = False
        if stall_after_pass(&stall, n_active, stopping, 0.0, p.W,
                            (p.n_features + 1) * p.K):
            run.status = STALLED  # rule 10: no step changes W any more
            break
    return 0
