# cython: freethreading_compatible = True
"""Dual coordinate descent for L2-regularised logistic regression on CSR data.

The problem (liblinear's ``-s 7``, ``solve_l2r_lr_dual``; Yu, Huang & Lin,
"Dual coordinate descent methods for logistic regression and maximum entropy
models", Machine Learning 85, 2011, Algorithm 5)::

    primal  min_w  P(w) = 1/2 w.w + sum_i C_i log(1 + exp(-y_i w.x~_i))

    dual    min_a  D(a) = 1/2 w(a).w(a)
                          + sum_i [a_i log a_i + (C_i - a_i) log(C_i - a_i)
                                   - C_i log C_i]
            s.t.   0 <= a_i <= C_i,        w(a) = sum_i y_i a_i x~_i

with ``x~_i = [x_i, bias]`` (the bias weight is penalised, as liblinear's
``-B``) and ``P(w*) = -D(a*)``.  The entropy terms keep every ``a_i``
strictly inside ``(0, C_i)``, so there is no projection and no shrinking.

With ``w`` kept up to date, the one-variable problem in ``a_i`` is, for
``z = a_i`` (``s = +1``) or ``z = C_i - a_i`` (``s = -1``)::

    g(z) = z log z + (C - z) log(C - z) + a/2 (z - z_old)^2 + s b (z - z_old)
    a = ||x~_i||^2,   b = y_i w.x~_i

The side is chosen so that the minimiser lies in ``(0, C/2]``
(``s = -1`` when ``g_1'(C/2) = a (C/2 - a_i) + b < 0``): the small one of
``a_i`` and ``C_i - a_i`` is the variable, so it is never the difference of
two close numbers, and ``a_i`` and ``C_i - a_i`` are both stored.  Newton's
method on ``g`` starts at ``z_old`` (at ``z_old / 10`` when
``z_old > C/2``); a step that would leave ``(0, C)`` on the left is
replaced by ``z <- eta z`` (``eta = 0.1``).  Because ``g'`` is concave on
``(0, C/2]``, the iterates never pass the minimiser on the right.

Stopping (liblinear's): ``measure`` is the largest ``|g'(z)|`` at the start
of the subproblems of a pass; the kernel stops when it is below ``tol``.
The inner Newton loop stops when ``|g'(z)| < innereps`` (or after
``MAX_INNER_ITER + 1`` steps); ``innereps`` starts at ``1e-2`` and is
divided by 10 (down to ``min(1e-8, tol)``) after every pass whose total
Newton steps are at most a tenth of the samples.

Design rules of this module:

1. The intercept is a virtual constant feature of value ``bias`` appended to
   every row (liblinear's ``-B``): its weight is ``w[n_features]``; with
   ``bias = 0`` that weight stays 0.  X is never copied or augmented.
2. X arrives as a ``fastlinear._csr_fast.CSR``: its structure, finite values
   and squared row norms were proved once per fit, so the kernel reads its
   arrays as they are (``floating`` values, ``int32`` or ``int64``
   indices).  It checks what the proof does not cover (labels, costs, the
   start point, shapes) before it writes anything.  ``w``, ``alpha`` and
   every accumulation are float64.
3. The start point is the caller's ``alpha`` (zeros for a cold start),
   clipped into ``[e_i, C_i - e_i]`` with ``e_i = min(1e-3 C_i, 1e-8)``:
   a cold start is liblinear's start.  ``w`` is computed from it.
4. Samples with ``C_i = 0`` (zero sample weight) are left out: their
   ``a_i`` is 0 and never moves.
5. Each outer iteration visits the samples in a fresh random order drawn
   from the seeded generator of ``_random.pxd`` (the previous pass's order
   shuffled again, as liblinear does): the same seed gives the same
   iterates, bit for bit.
6. Every loop is bounded: ``max_iter`` passes, ``n`` coordinates a pass,
   ``MAX_INNER_ITER + 1`` Newton steps a coordinate.  ``_status.poll`` runs
   once per pass and every ``POLL_EVERY`` coordinates, so Ctrl-C and the
   fit's shared stop flag end a solve within milliseconds.
7. A pass whose derivatives are not finite (costs so large that ``w``
   overflows) ends the solve with ``DIVERGED``; the kernel then raises a
   ``ValueError``.  A ``z`` that would underflow to 0 (a margin beyond
   ~700) keeps its last positive value, and ``log(z / (C - z))`` is taken
   as two logarithms when the ratio is subnormal: liblinear would take
   ``log 0``.
8. Memory, as in ``_dual_cd_fast``: ``||x~_i||^2`` is recomputed in the
   same loop as ``w.x_i``, and the scalars, then the row, of the samples a
   few steps ahead in the order are prefetched.  A sample's scalars (``a_i``,
   ``C_i - a_i``, rule 9's logarithm and side, ``y_i``, ``C_i`` and its
   row's bounds) live in one 64-byte record aligned to a cache line, copied
   in after the checks and ``a_i`` and ``C_i - a_i`` copied back after the
   passes: the random visit then misses once a sample instead of in seven
   arrays.  Against the seven arrays, the same iterates, 1.05-1.07x faster
   on a9a and w8a at C = 1 (fits in separate processes;
   ``bench/results/EXPERIMENTS.md``).
9. ``log(z / (C - z))``, the one costly term of ``g'``, is kept per sample
   for the side and the ``z`` of its last update: a subproblem that starts
   at that ``z`` on that side (most of them, late in a solve) takes no
   logarithm to find that it is solved.  The kept value is the one the
   update computed from the same two numbers, so the iterates are those
   of computing it afresh, bit for bit.
10. When every stored value is 1 (``X.ones``: a9a, w8a, binary bags of
    words), the passes read only the indices (``_sparse.values_t``, as the
    hinge loss's dual kernel does): ``w.x_i`` is ``sum w[j]``, ``||x_i||^2``
    the row's length, a step adds ``d`` to each ``w[j]``, and no row is
    prefetched.  The same bits (a factor 1 is exact).
"""
import numpy as np

from libc.float cimport DBL_MIN
from libc.math cimport fabs, isfinite, log
from libc.stdint cimport int32_t, int64_t, uint64_t
from cython cimport floating

from _prefetch cimport prefetch
from _random cimport rng_seed, shuffle
from _sparse cimport (
    Ones,
    Valued,
    axpy_of,
    index_t,
    ones_dot_count,
    prefetch_row,
    row_axpy,
    row_dot_sqnorm,
    values_t,
)
from _status cimport CONVERGED, DIVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll

from fastlinear._csr_fast import require_proved

__all__ = ["logistic_dual_cd"]


cdef enum:
    MAX_INNER_ITER = 100   # Newton steps of a subproblem: at most this + 1
    ROW_PREFETCH = 4       # rows are prefetched this many coordinates ahead
    SAMPLE_PREFETCH = 8    # per-sample scalars, this many ahead

cdef double ETA = 0.1            # z <- ETA z when Newton leaves (0, C)
cdef double INNER_EPS = 1.0e-2   # first inner tolerance
cdef double INNER_EPS_MIN = 1.0e-8
cdef double START_SHARE = 1.0e-3  # rule 3: e_i = min(START_SHARE C_i, START_MAX)
cdef double START_MAX = 1.0e-8

cdef enum Bad:             # what _prepare refuses (rule 2)
    BAD_LABEL = 1
    BAD_START = 2
    BAD_W = 3


cdef struct Sample:
    # What a pass reads and writes of one sample, in one cache line (rule 8).
    double alpha           # a_i
    double rest            # C_i - a_i, kept alongside
    double logit           # log(z / (C_i - z)) at the last update (rule 9)
    double y               # +-1
    double cost            # C_i > 0
    Py_ssize_t start       # the row's stored values: start:end
    Py_ssize_t end
    signed char side       # the side s (+-1) of logit, 0 before any update


cdef struct Problem:
    # What one pass reads and writes, besides X.
    Py_ssize_t n_features
    const double* y        # +-1
    const double* cost     # C_i >= 0
    double* alpha          # a_i (the caller's array: the start, the solution)
    double* rest           # C_i - a_i, kept alongside
    Sample* samples        # the passes' copy of the samples' scalars (rule 8)
    double* w              # n_features + 1 weights, the bias weight last
    double bias
    unsigned char* stop    # shared stop flag of the fit


cdef struct Pass:
    double inner_eps       # the inner tolerance the pass uses
    double gmax            # largest |g'| at the subproblems' starts
    Py_ssize_t n_newton    # Newton steps taken
    bint bad               # a derivative was not finite (rule 7)


def logistic_dual_cd(X, const double[::1] y, const double[::1] cost,
                     double[::1] w, double[::1] alpha, *, double bias,
                     double tol, int max_iter, uint64_t seed, int verbose=0,
                     unsigned char[::1] stop=None, bint use_ones=True):
    """Solve the dual of L2-regularised logistic regression, in place.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    cost : ndarray of shape (n_samples,)
        The per-sample ``C_i >= 0`` (0 leaves the sample out).
    w : ndarray of shape (n_features + 1,)
        Output: ``sum_i y_i a_i x~_i``; ``w[n_features]`` is the weight of
        the virtual bias feature.
    alpha : ndarray of shape (n_samples,)
        The dual variables: the start point on entry (in ``[0, C_i]``;
        zeros for a cold start; clipped inside as the module docstring's
        rule 3), the solution on exit, strictly inside ``(0, C_i)`` (0 where
        ``C_i = 0``).
    bias : float
        Value of the constant feature (0 for no intercept).
    tol : float
        Stop when a pass's largest subproblem derivative is below ``tol``
        (liblinear's ``-e``; its default for ``-s 7`` is 0.1).
    max_iter : int
        Maximal number of outer iterations (passes).
    seed : int
        Seed of the visiting order.
    verbose : int, default=0
        > 0 prints liblinear-style progress and the dual objective.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    use_ones : bool, default=True
        Whether the passes read only the indices when every value of X is 1
        (``X.ones``, rule 10); False reads the values as stored (the same
        bits; kept for the tests and measurements).

    Returns
    -------
    n_iter : int
        Outer iterations run.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1) or ``INTERRUPTED`` (2, the stop
        flag was set by another thread).
    measure : float
        The last pass's largest subproblem derivative (compared with
        ``tol``).

    Raises
    ------
    ValueError
        For mismatched shapes, labels other than -1 and +1, negative or
        non-finite costs, a start point outside its box, or costs so large
        that ``w`` overflows.
    TypeError
        When X is not a proved CSR.
    """
    require_proved(X, "logistic_dual_cd")
    cdef Py_ssize_t n_samples = X.n_rows
    if (y.shape[0] != n_samples or cost.shape[0] != n_samples
            or alpha.shape[0] != n_samples):
        raise ValueError(
            "logistic_dual_cd: y, cost and alpha must have n_samples = %d "
            "elements, got %d, %d and %d."
            % (n_samples, y.shape[0], cost.shape[0], alpha.shape[0]))
    if w.shape[0] != X.n_cols + 1:
        raise ValueError(
            "logistic_dual_cd: w must have n_features + 1 = %d elements, "
            "got %d." % (X.n_cols + 1, w.shape[0]))
    if not (tol > 0) or not isfinite(tol) or max_iter < 1:
        raise ValueError("logistic_dual_cd: tol must be > 0 and finite and "
                         "max_iter >= 1, got tol=%r, max_iter=%d."
                         % (tol, max_iter))
    if not isfinite(bias):
        raise ValueError("logistic_dual_cd: bias must be finite, got %r."
                         % bias)
    if not isfinite(X.max_row_sq + bias * bias):
        raise ValueError("logistic_dual_cd: the squared row norms overflow "
                         "float64; rescale X.")
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError("logistic_dual_cd: stop must have one element, got "
                         "%d." % stop.shape[0])

    rest = np.empty(n_samples, dtype=np.float64)
    cdef double[::1] rest_v = rest
    # The samples' records, aligned to a cache line (rule 8).
    records = np.empty((n_samples + 1) * sizeof(Sample), dtype=np.uint8)
    cdef unsigned char[::1] records_v = records
    cdef size_t offset = (-<size_t>&records_v[0]) % sizeof(Sample)
    cdef Problem p
    p.n_features = X.n_cols
    p.y = &y[0] if n_samples > 0 else NULL
    p.cost = &cost[0] if n_samples > 0 else NULL
    p.alpha = &alpha[0] if n_samples > 0 else NULL
    p.rest = &rest_v[0] if n_samples > 0 else NULL
    p.samples = <Sample*>&records_v[offset]
    p.w = &w[0]
    p.bias = bias
    p.stop = &stop[0]
    cdef bint ones = use_ones and X.ones
    if X.data.dtype == np.float32:
        if X.indices.dtype == np.int32:
            return _run[float, int32_t](X.data, X.indices, X.indptr, &p, tol,
                                        max_iter, seed, verbose, ones)
        return _run[float, int64_t](X.data, X.indices, X.indptr, &p, tol,
                                    max_iter, seed, verbose, ones)
    if X.indices.dtype == np.int32:
        return _run[double, int32_t](X.data, X.indices, X.indptr, &p, tol,
                                     max_iter, seed, verbose, ones)
    return _run[double, int64_t](X.data, X.indices, X.indptr, &p, tol,
                                 max_iter, seed, verbose, ones)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Problem* p, double tol,
                 int max_iter, uint64_t seed, int verbose, bint ones):
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    order = np.empty(max(n_samples, 1), dtype=np.intp)
    cdef Py_ssize_t[::1] order_v = order
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t bad_row = -1, n_total = 0, i, k
    cdef int bad, n_iter = 0, status = CONVERGED
    cdef double measure = 0.0

    with nogil:
        bad = _prepare(X_data, X_ind, &indptr[0], n_samples, p, &order_v[0],
                       &n_total, &bad_row)
    if bad == BAD_LABEL:
        raise ValueError(
            "logistic_dual_cd: sample %d has a label other than -1 or +1 "
            "(got %r), or a cost C_i that is negative or not finite (got %r)."
            % (bad_row, p.y[bad_row], p.cost[bad_row]))
    if bad == BAD_START:
        raise ValueError(
            "logistic_dual_cd: the start point alpha is outside its box "
            "[0, C_i] at sample %d (alpha = %r, C_i = %r); pass zeros for a "
            "cold start." % (bad_row, p.alpha[bad_row], p.cost[bad_row]))
    if bad == BAD_W:
        raise ValueError(
            "logistic_dual_cd: w = sum_i y_i alpha_i x~_i overflows float64; "
            "lower C or rescale X.")
    if n_total > 0:
        with nogil:
            if ones:
                n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0],
                                n_total, tol, max_iter, seed, verbose,
                                &measure, &status, <Ones*>NULL)
            else:
                n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0],
                                n_total, tol, max_iter, seed, verbose,
                                &measure, &status, <Valued*>NULL)
            for k in range(n_total):    # the records back to the caller's arrays
                i = order_v[k]
                p.alpha[i] = p.samples[i].alpha
                p.rest[i] = p.samples[i].rest
    if status == DIVERGED:
        raise ValueError(
            "logistic_dual_cd: the derivatives overflow float64 (C_i times "
            "the squared row norms is too large); lower C or rescale X.")
    if verbose > 0:
        print("\noptimization finished, #iter = %d" % n_iter)
        if status == MAX_ITER:
            print("\nWARNING: reaching max number of iterations")
        print("Objective value = %f" % _dual_objective(p, n_samples))
    return n_iter, status, measure


cdef inline double _logit(double z, double c) noexcept nogil:
    """``log(z / (c - z))``, with one logarithm where the ratio is a normal
    number and two where it is not: a ``z`` of order 1e-310 at ``C = 1e4``
    (a sample far beyond the margin at large C) makes the ratio underflow
    to 0, and ``log 0`` ended the solve as diverged."""
    cdef double ratio = z / (c - z)
    if ratio >= DBL_MIN:
        return log(ratio)
    return log(z) - log(c - z)


cdef double _dual_objective(const Problem* p, Py_ssize_t n_samples):
    """``D(a)`` of the module docstring, from the stored ``a`` and ``C - a``."""
    cdef double v = 0.0, c
    cdef Py_ssize_t i
    for i in range(p.n_features + 1):
        v += p.w[i] * p.w[i]
    v *= 0.5
    for i in range(n_samples):
        c = p.cost[i]
        if c > 0.0:
            v += (p.alpha[i] * log(p.alpha[i]) + p.rest[i] * log(p.rest[i])
                  - c * log(c))
    return v


cdef int _prepare(const floating* data, const index_t* indices,
                  const index_t* indptr, Py_ssize_t n_samples, Problem* p,
                  Py_ssize_t* order, Py_ssize_t* n_total,
                  Py_ssize_t* bad_row) noexcept nogil:
    """Check labels, costs and the start point, then clip the start point
    (rule 3), list the samples with ``C_i > 0`` and set ``w``.

    Nothing is written before every check has passed.  Returns 0, or a
    :class:`Bad` code with ``bad_row`` set.
    """
    cdef Py_ssize_t i, k, n_active = 0
    cdef double c, a, e, ya
    for i in range(n_samples):
        c = p.cost[i]
        if not (c >= 0.0) or not isfinite(c) or (p.y[i] != 1.0
                                                 and p.y[i] != -1.0):
            bad_row[0] = i
            return BAD_LABEL
        a = p.alpha[i]
        if not (a >= 0.0 and a <= c):
            bad_row[0] = i
            return BAD_START
    for i in range(n_samples):
        c = p.cost[i]
        if c > 0.0:
            e = START_SHARE * c
            if e > START_MAX:
                e = START_MAX
            a = p.alpha[i]
            if a < e:
                a = e
            elif a > c - e:
                a = c - e
            p.alpha[i] = a
            p.rest[i] = c - a
            p.samples[i].alpha = a
            p.samples[i].rest = c - a
            p.samples[i].y = p.y[i]
            p.samples[i].cost = c
            p.samples[i].start = indptr[i]
            p.samples[i].end = indptr[i + 1]
            p.samples[i].side = 0
            order[n_active] = i
            n_active += 1
        else:
            p.alpha[i] = 0.0
            p.rest[i] = 0.0
    n_total[0] = n_active
    for k in range(p.n_features + 1):
        p.w[k] = 0.0
    for k in range(n_active):
        i = order[k]
        ya = p.y[i] * p.alpha[i]
        row_axpy(ya, data, indices, indptr[i], indptr[i + 1], p.w)
        p.w[p.n_features] += ya * p.bias
    for k in range(p.n_features + 1):
        if not isfinite(p.w[k]):
            return BAD_W
    return 0


cdef int _epoch(const floating* data, const index_t* indices,
                const index_t* indptr, const Problem* p,
                const Py_ssize_t* order, Py_ssize_t n_active,
                Pass* ps, values_t* values) except -1 nogil:
    """One pass over ``order[:n_active]``, in that order; returns 1 when the
    stop flag ended it early, else 0.

    The problem's fields are read into locals once: writes to ``w`` and
    ``alpha`` could otherwise alias them and force reloads.
    """
    cdef Py_ssize_t s, i, start, end, n_newton = 0
    cdef int inner, sign
    cdef double yi, c, sq, a, b, z, z_old, gp, t, z_new, d, lz
    cdef double gmax = 0.0, inner_eps = ps.inner_eps
    cdef bint bad = False
    cdef Sample* samples = p.samples
    cdef Sample* smp
    cdef double* w = p.w
    cdef Py_ssize_t nf = p.n_features
    cdef double bias = p.bias
    cdef double bias_sq = bias * bias
    for s in range(n_active):
        if (s & (POLL_EVERY - 1)) == POLL_EVERY - 1 and poll(p.stop):
            ps.gmax = gmax
            ps.n_newton = n_newton
            ps.bad = bad
            return 1
        # Rule 8: the record 8 coordinates ahead, the row 4 ahead.
        if s + SAMPLE_PREFETCH < n_active:
            prefetch(&samples[order[s + SAMPLE_PREFETCH]])
        if s + ROW_PREFETCH < n_active and values_t is Valued:
            smp = &samples[order[s + ROW_PREFETCH]]
            prefetch_row(data, indices, smp.start, smp.end)
        i = order[s]
        smp = &samples[i]
        start = smp.start
        end = smp.end
        yi = smp.y
        c = smp.cost
        if values_t is Ones:
            b = ones_dot_count(indices, start, end, w, &sq)
        else:
            b = row_dot_sqnorm(data, indices, start, end, w, &sq)
        b = yi * (b + w[nf] * bias)
        a = sq + bias_sq
        # The side whose minimiser lies in (0, C/2].
        if 0.5 * a * (smp.rest - smp.alpha) + b < 0.0:
            sign = -1
            z_old = smp.rest
        else:
            sign = 1
            z_old = smp.alpha
        z = z_old
        if c - z < 0.5 * c:
            z = ETA * z
            lz = _logit(z, c)
        elif smp.side == sign:
            lz = smp.logit     # rule 9: log(z_old / (c - z_old)), as computed then
        else:
            lz = _logit(z, c)
        gp = a * (z - z_old) + sign * b + lz
        if not isfinite(gp):
            bad = True
            break
        if fabs(gp) > gmax:
            gmax = fabs(gp)
        inner = 0
        while inner <= MAX_INNER_ITER:
            if fabs(gp) < inner_eps:
                break
            # The Newton step gp / g''(z), g''(z) = a + c / ((c - z) z), with
            # one division: the chain of divisions is what a step waits on.
            t = (c - z) * z
            z_new = z - gp * t / (a * t + c)
            if z_new > 0.0:
                z = z_new
            elif ETA * z > 0.0:
                z = ETA * z
            else:
                break          # rule 7: z would underflow to 0
            lz = _logit(z, c)
            gp = a * (z - z_old) + sign * b + lz
            inner += 1
        n_newton += inner
        if inner > 0:
            if sign == 1:
                smp.alpha = z
                smp.rest = c - z
            else:
                smp.rest = z
                smp.alpha = c - z
            smp.logit = lz     # log(z / (c - z)) of this z (rule 9)
            smp.side = sign
            d = sign * (z - z_old) * yi
            axpy_of(values, d, data, indices, start, end, w)
            w[nf] += d * bias
    ps.gmax = gmax
    ps.n_newton = n_newton
    ps.bad = bad
    return 0


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, Problem* p, Py_ssize_t* order,
                Py_ssize_t n_total, double tol, int max_iter, uint64_t seed,
                int verbose, double* measure, int* status,
                values_t* values) except -1 nogil:
    """Passes until ``measure < tol``, ``max_iter``, or a stop."""
    cdef uint64_t state = rng_seed(seed)
    cdef Pass ps
    cdef int n_iter = 0, stopped
    cdef double inner_eps_min = INNER_EPS_MIN if INNER_EPS_MIN < tol else tol
    ps.inner_eps = INNER_EPS
    status[0] = MAX_ITER
    while n_iter < max_iter:
        shuffle(order, n_total, &state)
        stopped = _epoch(data, indices, indptr, p, order, n_total, &ps, values)
        n_iter += 1
        measure[0] = ps.gmax
        if ps.bad:
            status[0] = DIVERGED
            break
        if verbose > 0 and n_iter % 10 == 0:
            with gil:
                print(".", end="", flush=True)
        if stopped or poll(p.stop):
            status[0] = INTERRUPTED
            break
        if ps.gmax < tol:
            status[0] = CONVERGED
            break
        if ps.n_newton <= n_total // 10:
            ps.inner_eps = 0.1 * ps.inner_eps
            if ps.inner_eps < inner_eps_min:
                ps.inner_eps = inner_eps_min
    return n_iter
