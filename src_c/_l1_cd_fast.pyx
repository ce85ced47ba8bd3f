# cython: freethreading_compatible = True
"""Primal coordinate descent for the L1-regularised squared-hinge SVM, by columns.

The problem (liblinear's ``-s 5``)::

    min_w  F(w) = ||w||_1 + sum_i C_i max(0, b_i)^2,    b_i = 1 - y_i w.x~_i

with ``x~_i = [x_i, bias]``, ``y_i`` in {-1, +1} and ``C_i >= 0``.  The bias
weight ``w[n_features]`` is penalised like the others (liblinear's ``-B``
appends a constant feature; sklearn's ``intercept_scaling`` is its value).

The method is CDN (Yuan, Chang, Hsieh & Lin, "A comparison of optimization
methods and software for large-scale L1-regularized linear classification",
JMLR 2010, section 4.1.2; liblinear's ``solve_l1r_l2_svc``).  With ``b``
kept up to date, one variable ``w_j`` costs one pass over column ``j``::

    L'_j  = -2 sum_{b_i > 0} C_i y_i x~_ij b_i
    L''_j = max(2 sum_{b_i > 0} C_i x~_ij^2, 1e-12)     (a generalised second derivative)

and the Newton direction ``d`` minimises ``L'_j d + L''_j d^2 / 2 + |w_j + d|``
(a soft threshold).  A backtracking line search halves ``d`` (at most 20
times) until ``F`` decreases by ``sigma = 0.01`` times the model's decrease
``delta = |w_j + d| - |w_j| + L'_j d``; each trial first tries the cheap upper
bound ``xj_sq d^2 + L'_j d`` of the loss change (``xj_sq = sum_i C_i
x~_ij^2``), and only when it fails moves ``b`` along the column and sums the
exact loss change over the column's nonzeros.

The minimum-norm subgradient ``v_j`` (``|L'_j + sign(w_j)|``, or
``max(|L'_j| - 1, 0)`` at ``w_j = 0``) measures optimality; the kernel stops
when ``sum_j v_j`` in a pass falls to ``tol`` times its value in the first
pass (the caller scales ``tol`` as liblinear does).

Design rules of this module:

1. X arrives transposed, as the ``fastlinear._csr_fast.CSR`` proof of
   ``X.T`` (rows of ``X^T`` are the columns the method walks): structure,
   finite values and representable squared norms were proved once.  Values
   are ``floating`` (float32 stays float32), indices ``int32`` or
   ``int64``; ``w``, ``b`` and every accumulation are float64.  The kernel
   checks what the proof does not cover (labels, costs, the start point,
   shapes) before it writes anything.
2. The intercept is a virtual dense column of value ``bias``, visited like
   the others.  With ``bias = 0`` it is left out of the variables and its
   weight is set to 0.  X is never copied or augmented.
3. Samples with ``C_i = 0`` contribute nothing (every term carries ``C_i``);
   the shrinking threshold divides by the number of samples with
   ``C_i > 0`` (liblinear drops zero-weight samples before it solves).
4. Each pass visits the active variables in a fresh random order drawn from
   the seeded generator of ``_random.pxd``: the same seed gives the same
   iterates, bit for bit.
5. Shrinking as liblinear: a zero weight whose derivative lies inside
   ``(-1 + M/l, 1 - M/l)``, ``M`` the largest violation of the previous
   pass, leaves the active set; when the stopping rule holds on a shrunk
   set, the set is restored and one more pass must confirm it.
6. Every loop is bounded: ``max_iter`` passes, a pass by the active set
   (which only shrinks within it), 20 line-search trials.  ``_status.poll``
   runs once per pass and, within a pass, whenever the work since the last
   poll reaches ``POLL_EVERY * POLL_COLUMN_COST``, a coordinate counting as
   its column's nonzeros plus ``POLL_COLUMN_COST``: every ``POLL_EVERY``
   coordinates along short columns, sooner along long ones (one coordinate
   of a dense column costs a pass over all samples).  A step below 1e-12 is
   skipped (liblinear); after ``STALL_PASSES`` passes in a row that changed
   nothing (X's scale so extreme that every step is below it;
   ``_status.stall_after_pass``) the solve ends with ``STALLED`` instead of
   running on to ``max_iter``.
7. The column walks are the whole cost.  They mask rather than branch on
   ``b_i > 0`` (the branch is unpredictable; a masked term adds 0, which
   changes no sum), sum the derivatives in four partial sums (the additions
   need not wait on each other), and read ``b_i`` and ``C_i y_i`` side by
   side (one cache line per nonzero; ``C_i`` and ``y_i`` are its magnitude
   and sign, exactly).  Measured, CPU time per pass, one thread: on a9a
   the mask took a pass from 1.8-2.6 ms to 0.65-0.9 ms, the partial sums
   about 10 % more, the layout nothing (the samples fit in cache); on a
   synthetic 4M x 400 set (8M nonzeros) the layout gave 131-136 ms against
   148-219 ms with separate arrays.  The sums differ from liblinear's by
   rounding only; the NumPy twin of the tests sums the same way and
   matches bit for bit.
8. When a line search runs out of trials, ``b`` (moved by the rejected
   trials) is recomputed from ``w``, as liblinear does.  A derivative that
   overflows (costs so large that ``C_i x_ij^2`` is not representable) ends
   the solve and is reported, after the loop, as a ``ValueError``; ``w`` is
   then left where the solve stopped.
9. When every stored value is 1 (``XT.ones``: a9a, w8a, binary bags of
   words), the column walks read only the indices (``_sparse.values_t``,
   chosen at compile time), with the same bits: a factor 1 is exact.
"""
import numpy as np

from libc.math cimport INFINITY, copysign, fabs, isfinite
from libc.stdint cimport int32_t, int64_t, uint64_t
from cython cimport floating

from _columns cimport bad_label_message, check_columns, check_labels_costs
from _random cimport rng_seed, shuffle
from _sparse cimport Ones, Valued, index_t, value_at, values_t
from _status cimport CONVERGED, DIVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll
from _status cimport STALLED, Stall, stall_after_pass, stall_init


__all__ = ["l1_cd"]


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* v where b > 0, else +0.0, without a branch (rule 7): the sign of b is
       unpredictable, and compilers turn a select or a product with the
       indicator back into a branch. */
    static inline double fl_keep_if_positive(double v, double b) {
        uint64_t bits, mask = (uint64_t)0 - (uint64_t)(b > 0.0);
        memcpy(&bits, &v, sizeof bits);
        bits &= mask;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    """
    double keep_if_positive "fl_keep_if_positive"(double v, double b) noexcept nogil


cdef enum:
    MAX_LINE_SEARCH = 20
    POLL_COLUMN_COST = 64   # a coordinate's fixed cost, in nonzeros (rule 6)

cdef double SIGMA = 0.01    # sufficient decrease of the line search
cdef double H_MIN = 1.0e-12  # floor of the second derivative
cdef double D_MIN = 1.0e-12  # smaller Newton steps are skipped

cdef enum Bad:              # what _prepare refuses (rule 1)
    BAD_LABEL = 1
    BAD_W = 2


cdef struct Sample:
    # What a column walk reads and writes for sample i, in one cache line.
    double b               # 1 - y_i w.x~_i
    double cy              # C_i y_i (its sign is y_i's, also for C_i = 0)


cdef struct Problem:
    # What a pass reads and writes, besides X^T.
    Py_ssize_t n_samples
    Py_ssize_t n_features
    const double* y        # +-1
    const double* cost     # C_i >= 0
    double* w              # n_features + 1 weights, the bias weight last
    Sample* samples        # n_samples
    double* xj_sq          # n_features + 1: sum_i C_i x~_ij^2
    double bias
    double n_used          # samples with C_i > 0 (rule 3)
    double n_used_given    # the same for merged rows (l1_cd's n_used), or 0
    bint shrinking
    unsigned char* stop    # shared stop flag of the fit


cdef struct Pass:
    # The shrinking threshold a pass reads and the measures it takes.
    double gmax_old        # largest violation of the previous pass
    double gmax_new
    double gnorm1          # sum of the violations
    int n_reset            # line searches that ran out (b recomputed)
    bint overflow          # a derivative was not finite (rule 8)


def l1_cd(XT, const double[::1] y, const double[::1] cost, double[::1] w, *,
          double bias, double tol, int max_iter, uint64_t seed,
          bint shrinking=True, int verbose=0, unsigned char[::1] stop=None,
          bint use_ones=True, double n_used=0.0):
    """Minimise ``F`` by coordinate descent from the start point ``w``, in place.

    Parameters
    ----------
    XT : fastlinear._csr_fast.CSR of shape (n_features, n_samples)
        The proof of ``X.T`` in CSR form (the columns of X as rows), e.g.
        ``fastlinear._validation.proved_csr(X.T.tocsr())``.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    cost : ndarray of shape (n_samples,)
        The per-sample ``C_i >= 0``.
    w : ndarray of shape (n_features + 1,)
        The start point on entry (zeros for a cold start), the solution on
        exit; ``w[n_features]`` is the weight of the virtual bias feature.
    bias : float
        Value of the constant feature (0 for no intercept).
    tol : float
        Stop when the pass's violation norm is at most ``tol`` times the
        first pass's (already scaled by the caller as liblinear does).
    max_iter : int
        Maximal number of passes.
    seed : int
        Seed of the visiting order.
    shrinking : bool, default=True
        Whether to shrink the active set.
    verbose : int, default=0
        > 0 prints liblinear-style progress and the final objective.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    use_ones : bool, default=True
        Read only the indices when every stored value is 1 (``XT.ones``,
        rule 9); False reads the values anyway (for tests and measurements).
    n_used : float, default=0.0
        The samples of positive cost the rows stand for, when identical
        samples were merged into one row (``fastlinear._merge``): liblinear's
        shrinking threshold divides by it.  0: the rows of positive cost.

    Returns
    -------
    n_iter : int
        Passes run.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1), ``INTERRUPTED`` (2) or
        ``STALLED`` (6, rule 6).
    measure : float
        The last pass's violation norm relative to the first pass's.
    """
    check_columns(XT, y.shape[0], cost.shape[0], w.shape[0], bias, tol,
                  max_iter, "l1_cd")
    cdef Py_ssize_t n_samples = XT.n_cols, n_features = XT.n_rows
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError("l1_cd: stop must have one element.")

    sample_work = np.empty((max(n_samples, 1), 2), dtype=np.float64)
    sq_work = np.empty(n_features + 1, dtype=np.float64)
    cdef double[:, ::1] sample_v = sample_work
    cdef double[::1] sq_v = sq_work
    cdef Problem p
    p.n_samples = n_samples
    p.n_features = n_features
    p.y = &y[0] if n_samples > 0 else NULL
    p.cost = &cost[0] if n_samples > 0 else NULL
    p.w = &w[0]
    p.samples = <Sample*>&sample_v[0, 0]
    p.xj_sq = &sq_v[0]
    p.bias = bias
    p.n_used = 0.0
    p.n_used_given = n_used
    p.shrinking = shrinking
    p.stop = &stop[0]
    cdef bint ones = use_ones and XT.ones
    if XT.data.dtype == np.float32:
        if XT.indices.dtype == np.int32:
            return _run[float, int32_t](XT.data, XT.indices, XT.indptr, &p,
                                        tol, max_iter, seed, verbose, ones)
        return _run[float, int64_t](XT.data, XT.indices, XT.indptr, &p, tol,
                                    max_iter, seed, verbose, ones)
    if XT.indices.dtype == np.int32:
        return _run[double, int32_t](XT.data, XT.indices, XT.indptr, &p, tol,
                                     max_iter, seed, verbose, ones)
    return _run[double, int64_t](XT.data, XT.indices, XT.indptr, &p, tol,
                                 max_iter, seed, verbose, ones)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Problem* p, double tol,
                 int max_iter, uint64_t seed, int verbose, bint ones):
    cdef Py_ssize_t nf = p.n_features, j
    cdef Py_ssize_t n_total = nf + (1 if p.bias != 0.0 else 0)
    order = np.arange(max(n_total, 1), dtype=np.intp)
    cdef Py_ssize_t[::1] order_v = order
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    # A column's indices are never NULL, even in an X without values: NULL
    # marks the bias column (the column walks), and every feature would
    # read as one.
    cdef index_t no_values = 0
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else &no_values
    cdef Py_ssize_t bad_row = -1
    cdef int bad, n_iter = 0, status = MAX_ITER
    cdef double measure = INFINITY
    cdef bint finite = True

    with nogil:
        if ones:
            bad = _prepare(X_data, X_ind, &indptr[0], p, &bad_row, <Ones*>NULL)
        else:
            bad = _prepare(X_data, X_ind, &indptr[0], p, &bad_row, <Valued*>NULL)
    if bad == BAD_LABEL:
        raise ValueError(bad_label_message("l1_cd", bad_row))
    if bad == BAD_W:
        raise ValueError("l1_cd: the start point w has NaN or infinite "
                         "entries.")
    if p.n_used > 0.0 and p.n_used_given > 0.0:
        p.n_used = p.n_used_given
    if p.n_used == 0.0:
        # No sample counts: the minimiser of ||w||_1 alone.
        for j in range(nf + 1):
            p.w[j] = 0.0
        return 0, int(CONVERGED), 0.0
    with nogil:
        if ones:
            n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0], n_total,
                            tol, max_iter, seed, verbose, &measure, &status, <Ones*>NULL)
        else:
            n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0], n_total,
                            tol, max_iter, seed, verbose, &measure, &status, <Valued*>NULL)
        for j in range(nf + 1):
            if not isfinite(p.w[j]):
                finite = False
    if status == DIVERGED or not finite:
        raise ValueError("l1_cd: the derivatives overflow float64 (C_i times "
                         "the squared column norms is too large); lower C or "
                         "rescale X, e.g. with "
                         "sklearn.preprocessing.MaxAbsScaler.")
    if verbose > 0:
        print("\noptimization finished, #iter = %d" % n_iter)
        if status == MAX_ITER:
            print("WARNING: reaching max number of iterations")
        print("Objective value = %f" % _objective(p))
        print("#nonzeros/#features = %d/%d" % (_nnz(p), n_total))
    return n_iter, status, measure


cdef double _objective(const Problem* p) noexcept nogil:
    """``F(w)`` from ``w`` and ``b``."""
    cdef Py_ssize_t i, j
    cdef double acc = 0.0, bi
    for j in range(p.n_features + 1):
        acc += fabs(p.w[j])
    for i in range(p.n_samples):
        bi = p.samples[i].b
        if bi > 0.0:
            acc += fabs(p.samples[i].cy) * bi * bi
    return acc


cdef Py_ssize_t _nnz(const Problem* p) noexcept nogil:
    """Nonzero weights."""
    cdef Py_ssize_t j, count = 0
    for j in range(p.n_features + 1):
        if p.w[j] != 0.0:
            count += 1
    return count


# The three walks along a column ``j`` (rule 7).  A sparse column is
# ``indices[start:end]``, ``data[start:end]``; the bias column is passed as
# ``indices = NULL``: every sample, value ``p.bias``.  Each walk applies a
# one-sample step to every entry; the branch on the column's kind sits
# outside the loops.  In liblinear's terms ``v_i = y_i x~_ij``.

cdef inline void _derivative_step(const Sample* s, double x, double* g,
                                  double* h) noexcept nogil:
    # t = C_i v_i on b_i > 0, else 0 (adding 0 is adding nothing).
    cdef double bi = s.b
    cdef double t = keep_if_positive(s.cy * x, bi)
    g[0] -= t * bi
    h[0] += fabs(t * x)


cdef inline void _col_derivatives(const floating* data, const index_t* indices,
                                  Py_ssize_t start, Py_ssize_t end,
                                  const Problem* p, double* G_loss,
                                  double* H, const values_t* kind) noexcept nogil:
    """``G_loss = -sum_{b_i>0} C_i v_i b_i`` and ``H = sum_{b_i>0} C_i v_i^2``
    (not yet doubled), each in four partial sums (rule 7): entry ``q`` of the
    column goes to sum ``q % 4``; then ``(s0 + s1) + (s2 + s3)``."""
    cdef Py_ssize_t k, i, n = p.n_samples
    cdef double g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0
    cdef double h0 = 0.0, h1 = 0.0, h2 = 0.0, h3 = 0.0
    cdef const Sample* smp = p.samples
    if indices != NULL:
        k = start
        while k + 4 <= end:
            _derivative_step(&smp[indices[k]], value_at(kind, data, k), &g0, &h0)
            _derivative_step(&smp[indices[k + 1]], value_at(kind, data, k + 1), &g1, &h1)
            _derivative_step(&smp[indices[k + 2]], value_at(kind, data, k + 2), &g2, &h2)
            _derivative_step(&smp[indices[k + 3]], value_at(kind, data, k + 3), &g3, &h3)
            k += 4
        if k < end:
            _derivative_step(&smp[indices[k]], value_at(kind, data, k), &g0, &h0)
        if k + 1 < end:
            _derivative_step(&smp[indices[k + 1]], value_at(kind, data, k + 1), &g1, &h1)
        if k + 2 < end:
            _derivative_step(&smp[indices[k + 2]], value_at(kind, data, k + 2), &g2, &h2)
    else:
        i = 0
        while i + 4 <= n:
            _derivative_step(&smp[i], p.bias, &g0, &h0)
            _derivative_step(&smp[i + 1], p.bias, &g1, &h1)
            _derivative_step(&smp[i + 2], p.bias, &g2, &h2)
            _derivative_step(&smp[i + 3], p.bias, &g3, &h3)
            i += 4
        if i < n:
            _derivative_step(&smp[i], p.bias, &g0, &h0)
        if i + 1 < n:
            _derivative_step(&smp[i + 1], p.bias, &g1, &h1)
        if i + 2 < n:
            _derivative_step(&smp[i + 2], p.bias, &g2, &h2)
    G_loss[0] = (g0 + g1) + (g2 + g3)
    H[0] = (h0 + h1) + (h2 + h3)


cdef inline void _axpy_step(Sample* s, double ax) noexcept nogil:
    # b_i += a v_i = y_i (a x_ij): multiplying by +-1 is exact.
    s.b += ax * copysign(1.0, s.cy)


cdef inline void _col_axpy(double a, const floating* data,
                           const index_t* indices, Py_ssize_t start,
                           Py_ssize_t end, const Problem* p,
                           const values_t* kind) noexcept nogil:
    """``b_i += a v_i`` along the column."""
    cdef Py_ssize_t k, i
    cdef Sample* smp = p.samples
    cdef double ab = a * p.bias
    if indices != NULL:
        for k in range(start, end):
            _axpy_step(&smp[indices[k]], a * value_at(kind, data, k))
    else:
        for i in range(p.n_samples):
            _axpy_step(&smp[i], ab)


cdef inline void _move_step(Sample* s, double ax, double* old,
                            double* new) noexcept nogil:
    cdef double c = fabs(s.cy), bi = s.b
    cdef double pos = keep_if_positive(bi, bi)
    old[0] += c * pos * pos
    bi = bi + ax * copysign(1.0, s.cy)
    s.b = bi
    pos = keep_if_positive(bi, bi)
    new[0] += c * pos * pos


cdef inline double _col_move(double a, const floating* data,
                             const index_t* indices, Py_ssize_t start,
                             Py_ssize_t end, const Problem* p,
                             double* loss_old, const values_t* kind) noexcept nogil:
    """``b_i += a v_i`` along the column; returns ``sum C_i b_i^2`` over the
    new ``b_i > 0``, and the same sum over the old ones into ``loss_old``
    unless it is NULL."""
    cdef Py_ssize_t k, i
    cdef double new = 0.0, old = 0.0
    cdef double ab = a * p.bias
    cdef Sample* smp = p.samples
    if indices != NULL:
        for k in range(start, end):
            _move_step(&smp[indices[k]], a * value_at(kind, data, k), &old, &new)
    else:
        for i in range(p.n_samples):
            _move_step(&smp[i], ab, &old, &new)
    if loss_old != NULL:
        loss_old[0] = old
    return new


cdef void _set_b(const floating* data, const index_t* indices,
                 const index_t* indptr, const Problem* p, const values_t* kind) noexcept nogil:
    """``b = 1 - y * (X~ w)``, column by column."""
    cdef Py_ssize_t i, j
    for i in range(p.n_samples):
        p.samples[i].b = 1.0
    for j in range(p.n_features):
        if p.w[j] != 0.0:
            _col_axpy(-p.w[j], data, indices, indptr[j], indptr[j + 1], p, kind)
    if p.bias != 0.0 and p.w[p.n_features] != 0.0:
        _col_axpy(-p.w[p.n_features], data, <const index_t*>NULL, 0, 0, p, kind)


cdef int _prepare(const floating* data, const index_t* indices,
                  const index_t* indptr, Problem* p,
                  Py_ssize_t* bad_row, const values_t* kind) noexcept nogil:
    """Check labels, costs and the start point; set ``b``, ``xj_sq``, ``n_used``.

    Returns 0, or a :class:`Bad` code (with ``bad_row`` for labels and costs).
    """
    cdef Py_ssize_t i, j, k, nf = p.n_features
    cdef double v, acc
    cdef double n_used = 0.0
    bad_row[0] = check_labels_costs(p.y, p.cost, p.n_samples, &n_used)
    if bad_row[0] >= 0:
        return BAD_LABEL
    for j in range(nf + 1):
        if not isfinite(p.w[j]):
            return BAD_W
    p.n_used = n_used
    for i in range(p.n_samples):
        p.samples[i].cy = p.cost[i] * p.y[i]
    if p.bias == 0.0:
        p.w[nf] = 0.0      # rule 2
    for j in range(nf):
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            v = p.y[i] * value_at(kind, data, k)
            acc += p.cost[i] * v * v
        p.xj_sq[j] = acc
    acc = 0.0
    for i in range(p.n_samples):
        v = p.y[i] * p.bias
        acc += p.cost[i] * v * v
    p.xj_sq[nf] = acc
    _set_b(data, indices, indptr, p, kind)
    return 0


cdef bint _line_search(const floating* data, const index_t* indices,
                       Py_ssize_t start, Py_ssize_t end, const Problem* p,
                       double wj, double G_loss, double xsq,
                       double* d_io, const values_t* kind) noexcept nogil:
    """Backtrack from the Newton step ``d_io`` (module docstring).

    On return ``b`` matches ``w_j + d_io`` unless every trial failed (the
    return value is then True and ``b`` must be recomputed).
    """
    cdef double d = d_io[0], d_old = 0.0, d_diff, cond, delta
    cdef double loss_old = 0.0, loss_new
    cdef int trial
    delta = fabs(wj + d) - fabs(wj) + G_loss * d
    for trial in range(MAX_LINE_SEARCH):
        d_diff = d_old - d
        cond = fabs(wj + d) - fabs(wj) - SIGMA * delta
        if xsq * d * d + G_loss * d + cond <= 0.0:
            # The upper bound of the loss change already suffices.
            _col_axpy(d_diff, data, indices, start, end, p, kind)
            d_io[0] = d
            return False
        loss_new = _col_move(d_diff, data, indices, start, end, p,
                             &loss_old if trial == 0 else NULL, kind)
        cond = cond + loss_new - loss_old
        if cond <= 0.0:
            d_io[0] = d
            return False
        d_old = d
        d *= 0.5
        delta *= 0.5
    d_io[0] = d
    return True


cdef Py_ssize_t _pass(const floating* data, const index_t* indices,
                      const index_t* indptr, const Problem* p,
                      Py_ssize_t* order, Py_ssize_t n_active,
                      Pass* ps, const values_t* kind) except -1 nogil:
    """One pass over ``order[:n_active]``, in that order.

    Returns the new active set size: shrunk variables are swapped behind it.
    """
    cdef Py_ssize_t s = 0, j, start, end, nf = p.n_features
    cdef Py_ssize_t budget = <Py_ssize_t>POLL_EVERY * POLL_COLUMN_COST
    cdef const index_t* col
    cdef double G_loss, H, Gp, Gn, wj, d, violation
    cdef double gmax = 0.0, gnorm1 = 0.0
    cdef double threshold = ps.gmax_old / p.n_used
    cdef double* w = p.w
    cdef bint shrinking = p.shrinking
    ps.n_reset = 0
    ps.overflow = False
    while s < n_active:
        j = order[s]
        if j < nf:
            col = indices
            start = indptr[j]
            end = indptr[j + 1]
            budget -= end - start + POLL_COLUMN_COST
        else:
            col = NULL
            start = 0
            end = 0
            budget -= p.n_samples + POLL_COLUMN_COST
        if budget < 0:
            budget = <Py_ssize_t>POLL_EVERY * POLL_COLUMN_COST
            if poll(p.stop):
                break
        _col_derivatives(data, col, start, end, p, &G_loss, &H, kind)
        G_loss *= 2.0
        H *= 2.0
        if not (isfinite(G_loss) and isfinite(H)):
            ps.overflow = True
            break
        if H < H_MIN:
            H = H_MIN
        Gp = G_loss + 1.0
        Gn = G_loss - 1.0
        wj = w[j]
        violation = 0.0
        if wj == 0.0:
            if Gp < 0.0:
                violation = -Gp
            elif Gn > 0.0:
                violation = Gn
            elif shrinking and Gp > threshold and Gn < -threshold:
                n_active -= 1
                order[s] = order[n_active]
                order[n_active] = j
                continue
        elif wj > 0.0:
            violation = fabs(Gp)
        else:
            violation = fabs(Gn)
        if violation > gmax:
            gmax = violation
        gnorm1 += violation
        s += 1
        # The Newton direction: the minimiser of the one-variable model.
        if Gp < H * wj:
            d = -Gp / H
        elif Gn > H * wj:
            d = -Gn / H
        else:
            d = -wj
        if fabs(d) < D_MIN:
            continue
        if _line_search(data, col, start, end, p, wj, G_loss, p.xj_sq[j], &d, kind):
            w[j] = wj + d
            _set_b(data, indices, indptr, p, kind)
            ps.n_reset += 1
        else:
            w[j] = wj + d
    ps.gmax_new = gmax
    ps.gnorm1 = gnorm1
    return n_active


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, const Problem* p, Py_ssize_t* order,
                Py_ssize_t n_total, double tol, int max_iter, uint64_t seed,
                int verbose, double* measure, int* status,
                const values_t* kind) except -1 nogil:
    """Passes until the stopping rule holds over all variables, ``max_iter``,
    or a stop."""
    cdef Py_ssize_t n_active = n_total
    cdef uint64_t state = rng_seed(seed)
    cdef Pass ps
    cdef int n_iter = 0
    cdef double norm1_init = 0.0
    cdef Stall stall
    stall_init(&stall)
    ps.gmax_old = INFINITY
    status[0] = MAX_ITER
    while n_iter < max_iter:
        shuffle(order, n_active, &state)
        n_active = _pass(data, indices, indptr, p, order, n_active, &ps, kind)
        if ps.overflow:
            status[0] = DIVERGED
            break
        if n_iter == 0:
            norm1_init = ps.gnorm1
        n_iter += 1
        if verbose > 0:
            with gil:
                if ps.n_reset > 0:
                    print("#" * ps.n_reset, end="", flush=True)
                if n_iter % 10 == 0:
                    print(".", end="", flush=True)
        if poll(p.stop):
            status[0] = INTERRUPTED
            break
        measure[0] = ps.gnorm1 / norm1_init if norm1_init > 0.0 else 0.0
        if ps.gnorm1 <= tol * norm1_init:
            if n_active == n_total:
                status[0] = CONVERGED
                break
            # Shrinking may have hidden violators: one full pass decides.
            n_active = n_total
            if verbose > 0:
                with gil:
                    print("*", end="", flush=True)
            ps.gmax_old = INFINITY
            continue
        if stall_after_pass(&stall, n_active, ps.gmax_new, ps.gnorm1, p.w,
                            p.n_features + 1):
            status[0] = STALLED  # rule 6: no step changes w any more
            break
        ps.gmax_old = ps.gmax_new
    return n_iter
