# cython: freethreading_compatible = True
"""Truncated Newton on L2-regularised multinomial logistic regression, on CSR data.

The problem, with ``W`` of shape ``(m, K)`` (``m = n_features + 1``, the
bias row last: feature-major, so a nonzero ``x_ij`` touches the contiguous
row ``W[j]``) and ``z_i = x~_i W``, ``x~_i = [x_i, bias]``::

    f(W) = sum_i s_i (logsumexp(z_i) - z_i[y_i])
           + lam/2 (||W[:-1]||_F^2 + reg_bias ||W[-1]||^2)

``s_i >= 0`` are per-sample costs.  With ``s_i = C``, ``lam = 1``,
``reg_bias = False`` and ``bias = 1`` it is the objective of scikit-learn's
multinomial ``LogisticRegression(C=C)``; ``reg_bias = True`` penalises the
bias weights as liblinear does.  ``fixed_first`` holds column 0 at zero
(class 0 is the reference class with no weights).

With ``p_i = softmax(z_i)`` and ``Y`` the one-hot labels::

    G = X~^T (s (P - Y)) + lam W                  (penalised rows only)
    H V = X~^T [s (P o R - P o rowsum(P o R))] + lam V,     R = X~ V

(``o`` is the elementwise product).  ``H`` is positive semi-definite; along
``W[j] += c (1, ..., 1)`` for an unpenalised row ``j`` (the bias row with
``reg_bias = False``, every row with ``lam = 0``) neither ``f`` nor the
probabilities change, so ``H`` is singular there.  The gradient is orthogonal
to that null space and so is every preconditioned conjugate gradient step
(the residual stays orthogonal to it in the ``M``-scaled space); the kernel
centres the unpenalised rows of the result across classes, the gauge
scikit-learn's lbfgs (started at zero) ends in.

The method is liblinear's truncated Newton with line search (C.-Y. Hsia,
Y. Zhu and C.-J. Lin, ACML 2017; C.-Y. Hsia, W.-L. Chiang and C.-J. Lin,
"Preconditioned conjugate gradient methods in truncated Newton frameworks
for large-scale linear classification", ACML 2018), on the ``m K`` variables:

1. Each step solves ``H S = -G`` by conjugate gradients preconditioned with
   ``M = (1 - a) + a diag(H)``, ``a = 0.01``, where
   ``diag(H)[j, c] = sum_i s_i x~_ij^2 p_ic (1 - p_ic) + lam`` (penalised)
   comes from the gradient's pass.  CG stops on liblinear's quadratic-model
   rule (``k (Q_k - Q_{k-1}) >= cgtol Q_k``, ``cgtol = min(eps_cg,
   sqrt(||G||_{M^-1}))``, ``eps_cg = 0.1``, 0.5 with ``warm_start``) or after
   ``max(number of free variables, 5)`` steps.
2. The step ``t`` along ``S``: ``T = X~ S`` is computed once, and
   ``phi(t) = f(W + t S) - f(W)`` (convex, ``phi'(0) = G.S < 0``) and its
   derivatives then cost O(n K) each.  The first trial is the full
   (Newton) step, unless the minimiser of ``phi`` lies below 1/2
   (``phi'(1/2) > 0``) or the full step fails Armijo's test; then it is a
   ``t`` near that minimiser, ``|phi'(t)| <= SLOPE_TOL |G.S|``, found by
   Newton steps on ``phi'`` kept inside the bracket of its sign change
   (its midpoint when a step leaves it; at most 20).  The trial must pass
   Armijo's test ``phi(t) <= 0.01 t G.S``, halving it until it does (at
   most 20 times).  ``phi'(1)`` is trusted only beyond its rounding error.
   With many classes the curvature of the loss grows along the first
   Newton directions (``p_ic (1 - p_ic)`` is largest at 1/2, far from the
   start's 1/K), so at large C the truncated Newton direction overshoots;
   backtracking from 1 then lands where many probabilities saturate and
   halves most later steps.  The line minimum took 20 Newsgroups at C = 100
   from 13 Newton steps to 9 (``bench/results/EXPERIMENTS.md``); where
   the full step is at least half the minimiser's and decreases enough,
   Newton's step is kept (going to the minimiser there cost 1.6x on a
   synthetic 20-class set at C = 1 and 10).  The decrease is computed
   directly (not as a difference of two objectives), per sample
   ``log1p(sum_c p_ic expm1(t T_ic)) - t T_iy`` when every ``|t T_ic| <=
   1`` (exact to rounding of the *change*), else ``logsumexp(z_i + t T_i)
   - logsumexp(z_i) - t T_iy``.
3. It stops when ``max |G| <= tol`` (scikit-learn lbfgs's test; the caller
   passes ``tol`` in the units of ``f``) and, with ``decrement`` and a
   penalty, ``1/2 G.diag(H)^-1 G <= tol`` (an estimate of ``f - f*``
   from the diagonal the gradient pass computes for the preconditioner, as
   ``_newton_fast``'s rule 3: the largest entry alone passes far from the
   optimum where many features are rare; with ``relative > 0`` also within
   ``relative |f|``, as ``_newton_fast``'s; and, as there, once a full
   step has gained more than ``CONFIRM_SHORTFALL`` times the estimate at its
   start, checked on the whole quadratic model by the next step's CG run
   to ``CONFIRM_CG`` of its constant: dense correlated columns with spread
   scales, three or four classes, stopped 3e-4 to 6e-3 above the optimal
   objective on the estimate alone, now within 1e-4; 20 Newsgroups and
   the synthetic sets take the same steps), when the line search finds no
   decrease (``LINE_SEARCH_FAILED``: the gradient is then at rounding level
   for the data's scale), or after ``max_iter`` Newton steps.  Near the
   optimum with a tiny ``tol`` the line search, which measures the decrease
   directly, keeps accepting decreases that ``f`` itself does not resolve
   while ``max |G|`` oscillates at rounding level: ``IDLE_STEPS`` accepted
   steps in a row that change ``f`` by less than ``ROUNDING |f|`` and do not
   lower ``max |G|`` below the lowest seen after a step end the solve as
   ``LINE_SEARCH_FAILED`` too (the caller's ``settle`` tells the optimum
   from steps that stopped resolving far from it), as
   ``fastlinear._newton_cholesky`` does.

Design rules of this module:

1. X arrives as a ``fastlinear._csr_fast.CSR`` (proved once per fit) and is
   read by rows only, once per product: the gradient pass computes scores,
   a stable softmax (the row maximum subtracted), the loss and scatters
   ``x~_i^T (s_i (p_i - e_{y_i}))`` (and the diagonal of ``H``); a Hessian
   product gathers ``r = x~_i V`` and scatters ``x~_i^T (s_i p_i o (r -
   p_i.r))`` in the same visit of the row.  No copy of X, no dense
   ``n x m`` temporary: the extra memory is the ``n x K`` scores, their
   probabilities and ``X~ S``, and ``O((n_threads + 8) m K)`` vectors.
   (Rule 5 trades a copy of X for speed when the caller passes one.)
2. Work is split over ``n_threads`` chunks of rows with about equal numbers
   of nonzeros (OpenMP, when the build has it); each chunk accumulates into
   its own ``m x K`` buffer, summed in chunk order, so the same input and
   thread count give the same bits.  Threads are used only when
   ``nnz(X) >= 4 m`` (summing the buffers costs ``O(n_threads m K)``), or
   with rule 5, which has no buffers.
3. Values are ``floating`` (float32 stays float32), indices ``int32`` or
   ``int64``; every accumulation is float64.
4. Every loop is bounded; ``_status.poll`` runs between products and, with
   one thread, every ``POLL_EVERY`` rows.  The inputs are checked at the
   ``def`` boundary; the loops run without the GIL.
5. Given ``XT``, the proved transpose of X (``fastlinear._csr_fast.transpose``),
   the transposed products gather instead of scatter: the pass over the rows
   stores each row's K terms (``n x K``, twice for the gradient's pass), and
   a pass over the columns sums them, ``out[j] = sum_i x_ij t_i``, into one
   row of ``out`` at a time.  Where the ``m x K`` result is much larger than
   the caches (20 Newsgroups: 130,000 x 20 doubles, 21 MB), scattering each
   row into it misses on every nonzero, while the gather reads the ``n x K``
   terms (1.8 MB) and writes ``out`` once: on 20 Newsgroups a Hessian
   product on one thread takes 60-64 ms instead of 86-139 ms
   (``bench/results/EXPERIMENTS.md``).  The column of ``XT`` lists its rows
   in order, so each sum adds the scatter's terms in the scatter's order:
   with one chunk the two modes give the same bits, and the gather gives
   those bits for any number of threads (both passes write disjoint
   entries: no per-thread buffers).
"""
import numpy as np

from libc.float cimport DBL_EPSILON
from libc.stdint cimport int32_t, int64_t
from libc.math cimport INFINITY, exp, expm1, fabs, isfinite, log, log1p, sqrt
from cython cimport floating
from cython.parallel cimport prange

from _sparse cimport index_t, row_dot_columns
from _status cimport (CONVERGED, DIVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, diagonal_decrement,
                      poll)

from fastlinear._csr_fast import require_proved

__all__ = ["GATHER_MIN_ENTRIES", "IDLE_RULE", "LINE_SEARCH_FAILED", "gather_pays", "hessp",
           "loss_grad", "newton"]


cdef extern from *:
    """
    #ifdef _OPENMP
    #define FL_MN_HAVE_OPENMP 1
    #else
    #define FL_MN_HAVE_OPENMP 0
    #endif
    """
    int FL_MN_HAVE_OPENMP


cdef enum:
    MAX_LINE_SEARCH = 20
    LS_FAILED = 4             # a status of this kernel (see _status.pxd)
    MIN_NNZ_PER_FEATURE = 4   # threads only with nnz(X) >= this * m (rule 2)

#: Status of :func:`newton` when the line search found no decrease.
LINE_SEARCH_FAILED = int(LS_FAILED)

cdef double ARMIJO = 0.01       # sufficient decrease of the line search
cdef double SLOPE_TOL = 0.1     # |phi'(t)| <= this |phi'(0)|: near enough the minimiser (rule 2)
cdef double ROUNDING = 64 * DBL_EPSILON   # a change of f below ROUNDING |f| is not resolved
cdef int IDLE_STEPS = 3         # such steps in a row without a lower max |G| end the solve (rule 3)

#: ``(ROUNDING, IDLE_STEPS)``: rule 3's test of a solve that no longer
#: moves, shared with ``fastlinear._newton_cholesky`` (one definition).
IDLE_RULE = (ROUNDING, IDLE_STEPS)
cdef double PCG_MIX = 0.01      # M = (1 - PCG_MIX) + PCG_MIX diag(H)
cdef double NULL_CURVATURE = 1.0e-14   # d.Hd <= this * d.diag(H)d: null space
cdef double CONFIRM_CG = 0.1    # a stop's check on the whole model: CG to this * eps_cg
cdef double CONFIRM_SHORTFALL = 2.0   # ... made once the estimate fell this short (rule 3)


cdef struct Problem:
    Py_ssize_t n            # samples
    Py_ssize_t m            # rows of W: n_features + 1 (the bias row last)
    Py_ssize_t K            # classes
    Py_ssize_t n_pen        # entries of W under the penalty (its first rows)
    const Py_ssize_t* y     # labels in [0, K) (NULL for hessp)
    const double* s         # costs
    double bias
    double lam
    bint fixed_first
    int n_use               # chunks of rows (rule 2)
    const Py_ssize_t* bounds   # n_use + 1 row bounds
    double* acc             # n_use x m K accumulators (n_use > 1)
    double* acc2            # n_use x m K accumulators (diag(H))
    double* scratch         # n_use x 2 K per-row vectors
    double* part            # n_use partial losses
    unsigned char* stop
    # Rule 5 (tdata NULL: scatter by rows).  tdata is floating like X's values.
    const void* tdata       # XT's values
    const void* tind        # XT's indices (rows of X): int64_t if t64 else int32_t
    const void* tptr        # XT's offsets, of the same type
    bint t64
    const Py_ssize_t* cbounds   # n_use + 1 bounds of the rows of W (the bias row last)
    double* terms           # n x K: each row's terms of the transposed product
    double* terms2          # n x K: its terms of diag(H)
    const double* zeros     # K zeros (the start of each gathered sum)


# ---------------------------------------------------------------- row helpers


cdef inline void _row_scores(const floating* data, const index_t* indices,
                             Py_ssize_t start, Py_ssize_t end, const double* V,
                             const Problem* p, double* z) noexcept nogil:
    """``z = x~_i V`` (K numbers) for the row ``start:end`` (the sums in
    registers, ``_sparse.row_dot_columns``)."""
    row_dot_columns(data, indices, start, end, V, p.K, V + (p.m - 1) * p.K, p.bias, z)


cdef inline void _row_scatter(const floating* data, const index_t* indices,
                              Py_ssize_t start, Py_ssize_t end, const double* t,
                              const Problem* p, bint squared,
                              double* acc) noexcept nogil:
    """``acc += x~_i^T t`` (or ``(x~_i o x~_i)^T t`` when ``squared``)."""
    cdef Py_ssize_t k, c, K = p.K
    cdef double* row
    cdef double a
    for k in range(start, end):
        a = data[k]
        if squared:
            a = a * a
        row = acc + indices[k] * K
        for c in range(K):
            row[c] += a * t[c]
    a = p.bias * p.bias if squared else p.bias
    row = acc + (p.m - 1) * K
    for c in range(K):
        row[c] += a * t[c]


cdef inline void _gather_column(const floating* tdata, const index_t* tind,
                                Py_ssize_t start, Py_ssize_t end, const double* R,
                                const Problem* p, bint squared,
                                double* out) noexcept nogil:
    """``out = sum_k x_k R[tind[k]]`` (``x_k^2`` when ``squared``) over one
    column of X, in its rows' order: the terms and the order of the scatter,
    so the same bits (rule 5)."""
    cdef Py_ssize_t k, c, K = p.K
    cdef const double* src
    cdef double a
    if not squared:
        row_dot_columns(tdata, tind, start, end, R, K, p.zeros, 0.0, out)
        return
    for c in range(K):
        out[c] = 0.0
    for k in range(start, end):
        a = tdata[k]
        a = a * a
        src = R + tind[k] * K
        for c in range(K):
            out[c] += a * src[c]


cdef void _gather_chunk(const floating* tdata, const Problem* p, int chunk,
                        const double* R, bint squared, double* out) noexcept nogil:
    """Rows ``cbounds[chunk]:cbounds[chunk + 1]`` of ``X~^T R`` (rule 5)."""
    cdef Py_ssize_t j, i, c, K = p.K
    cdef const int32_t* ind32 = <const int32_t*>p.tind
    cdef const int32_t* ptr32 = <const int32_t*>p.tptr
    cdef const int64_t* ind64 = <const int64_t*>p.tind
    cdef const int64_t* ptr64 = <const int64_t*>p.tptr
    cdef double a = p.bias * p.bias if squared else p.bias
    cdef double* row
    for j in range(p.cbounds[chunk], p.cbounds[chunk + 1]):
        row = out + j * K
        if j == p.m - 1:
            # The constant feature: every row, as the scatter adds it.
            for c in range(K):
                row[c] = 0.0
            for i in range(p.n):
                for c in range(K):
                    row[c] += a * R[i * K + c]
        elif p.t64:
            _gather_column(tdata, ind64, ptr64[j], ptr64[j + 1], R, p, squared, row)
        else:
            _gather_column(tdata, ind32, ptr32[j], ptr32[j + 1], R, p, squared, row)


cdef void _gather(const floating* tdata, const Problem* p, const double* R,
                  bint squared, double* out) noexcept nogil:
    """``out = X~^T R`` (``(X~ o X~)^T R`` when ``squared``), over the chunks
    of W's rows in threads (disjoint writes: the bits of one thread)."""
    cdef int c
    if p.n_use == 1:
        _gather_chunk(tdata, p, 0, R, squared, out)
    else:
        for c in prange(p.n_use, schedule="static", chunksize=1, num_threads=p.n_use):
            _gather_chunk(tdata, p, c, R, squared, out)


cdef inline double _softmax(const double* z, Py_ssize_t K, double* prob) noexcept nogil:
    """``prob = softmax(z)`` (the maximum subtracted); returns ``logsumexp(z)``."""
    cdef Py_ssize_t c
    cdef double mx = z[0], total = 0.0
    for c in range(1, K):
        if z[c] > mx:
            mx = z[c]
    for c in range(K):
        prob[c] = exp(z[c] - mx)
        total += prob[c]
    for c in range(K):
        prob[c] /= total
    return mx + log(total)


cdef inline double _dot(const double* a, const double* b, Py_ssize_t size) noexcept nogil:
    cdef Py_ssize_t k
    cdef double acc = 0.0
    for k in range(size):
        acc += a[k] * b[k]
    return acc


cdef void _reduce(const double* acc, int n_use, Py_ssize_t size,
                  double* out) noexcept nogil:
    """``out = sum_c acc[c]``, in chunk order (rule 2)."""
    cdef Py_ssize_t j
    cdef int c
    cdef double v
    for j in range(size):
        v = 0.0
        for c in range(n_use):
            v += acc[c * size + j]
        out[j] = v


# ------------------------------------------------------------------ products


cdef int _grad_chunk(const floating* data, const index_t* indices,
                     const index_t* indptr, const Problem* p, int chunk,
                     const double* W, double* Z, double* P, double* L,
                     double* G, double* D, double* loss,
                     bint may_poll) except -1 nogil:
    """The rows of chunk ``chunk``: probabilities, loss, ``G`` (and ``D``).

    The scores come from ``W`` when it is given (and are stored in ``Z``
    when that is given), else they are read from ``Z``.  ``P`` receives the
    probabilities, ``L`` (optional) the ``logsumexp`` of each row.
    """
    cdef Py_ssize_t i, c, j, K = p.K, size = p.m * p.K, yi
    cdef double* z = p.scratch + chunk * 2 * K
    cdef double* t = z + K
    cdef double* zi
    cdef double* pi
    cdef double lse, si, acc_loss = 0.0
    cdef bint gather = p.tdata != NULL
    if not gather:
        for j in range(size):
            G[j] = 0.0
        if D != NULL:
            for j in range(size):
                D[j] = 0.0
    for i in range(p.bounds[chunk], p.bounds[chunk + 1]):
        if may_poll and (i & (POLL_EVERY - 1)) == POLL_EVERY - 1 and poll(p.stop):
            return 1
        if W != NULL:
            zi = z if Z == NULL else Z + i * K
            _row_scores(data, indices, indptr[i], indptr[i + 1], W, p, zi)
        else:
            zi = Z + i * K
        pi = P + i * K
        lse = _softmax(zi, K, pi)
        if L != NULL:
            L[i] = lse
        si = p.s[i]
        if gather:
            t = p.terms + i * K
        if si == 0.0:
            if gather:
                for c in range(K):
                    t[c] = 0.0
                    p.terms2[i * K + c] = 0.0
            continue
        yi = p.y[i]
        acc_loss += si * (lse - zi[yi])
        for c in range(K):
            t[c] = si * pi[c]
        t[yi] -= si
        if not gather:
            _row_scatter(data, indices, indptr[i], indptr[i + 1], t, p, False, G)
        if D != NULL:
            if gather:
                t = p.terms2 + i * K
            for c in range(K):
                t[c] = si * pi[c] * (1.0 - pi[c])
            if not gather:
                _row_scatter(data, indices, indptr[i], indptr[i + 1], t, p, True, D)
    loss[0] = acc_loss
    return 0


cdef int _gradient(const floating* data, const index_t* indices,
                   const index_t* indptr, const Problem* p, const double* W,
                   bint from_W, double* Z, double* P, double* L, double* G,
                   double* D, double* f) except -1 nogil:
    """``f(W)``, ``G`` and (when ``D`` is given) ``diag(H)``, one pass over X.

    ``from_W``: compute the scores from ``W`` (into ``Z`` when given);
    otherwise ``Z`` holds the scores of ``W``.
    """
    cdef Py_ssize_t j, size = p.m * p.K
    cdef int c
    cdef double loss = 0.0, pen = 0.0
    cdef const double* Ws = W if from_W else NULL
    cdef bint gather = p.tdata != NULL
    # (With rule 5 the chunks store the rows' terms and leave G and D alone.)
    if p.n_use == 1:
        if _grad_chunk(data, indices, indptr, p, 0, Ws, Z, P, L, G, D, &loss, True):
            return 1
    else:
        for c in prange(p.n_use, schedule="static", chunksize=1, num_threads=p.n_use):
            _grad_chunk(data, indices, indptr, p, c, Ws, Z, P, L,
                        G if gather else p.acc + c * size,
                        D if gather or D == NULL else p.acc2 + c * size,
                        p.part + c, False)
        if not gather:
            _reduce(p.acc, p.n_use, size, G)
            if D != NULL:
                _reduce(p.acc2, p.n_use, size, D)
        for c in range(p.n_use):
            loss += p.part[c]
    if gather:
        _gather(<const floating*>p.tdata, p, p.terms, False, G)
        if D != NULL:
            _gather(<const floating*>p.tdata, p, p.terms2, True, D)
    for j in range(p.n_pen):
        G[j] += p.lam * W[j]
        pen += W[j] * W[j]
        if D != NULL:
            D[j] += p.lam
    if p.fixed_first:
        for j in range(p.m):
            G[j * p.K] = 0.0
    f[0] = loss + 0.5 * p.lam * pen
    return poll(p.stop)


cdef int _hess_chunk(const floating* data, const index_t* indices,
                     const index_t* indptr, const Problem* p, int chunk,
                     const double* P, const double* V, double* out,
                     bint may_poll) except -1 nogil:
    """Chunk ``chunk`` of ``X~^T [s (P o R - P o rowsum(P o R))]``, ``R = X~ V``."""
    cdef Py_ssize_t i, c, j, K = p.K, size = p.m * p.K
    cdef double* r = p.scratch + chunk * 2 * K
    cdef const double* pi
    cdef double si, pr
    cdef bint gather = p.tdata != NULL
    if not gather:
        for j in range(size):
            out[j] = 0.0
    for i in range(p.bounds[chunk], p.bounds[chunk + 1]):
        if may_poll and (i & (POLL_EVERY - 1)) == POLL_EVERY - 1 and poll(p.stop):
            return 1
        si = p.s[i]
        if gather:
            r = p.terms + i * K
        if si == 0.0:
            if gather:
                for c in range(K):
                    r[c] = 0.0
            continue
        _row_scores(data, indices, indptr[i], indptr[i + 1], V, p, r)
        pi = P + i * K
        pr = 0.0
        for c in range(K):
            pr += pi[c] * r[c]
        for c in range(K):
            r[c] = si * pi[c] * (r[c] - pr)
        if not gather:
            _row_scatter(data, indices, indptr[i], indptr[i + 1], r, p, False, out)
    return 0


cdef int _hess_vec(const floating* data, const index_t* indices,
                   const index_t* indptr, const Problem* p, const double* P,
                   const double* V, double* out) except -1 nogil:
    """``out = H V`` (column 0 of ``V`` must be zero with ``fixed_first``)."""
    cdef Py_ssize_t j, size = p.m * p.K
    cdef int c
    cdef bint gather = p.tdata != NULL
    if p.n_use == 1:
        if _hess_chunk(data, indices, indptr, p, 0, P, V, out, True):
            return 1
    else:
        for c in prange(p.n_use, schedule="static", chunksize=1, num_threads=p.n_use):
            _hess_chunk(data, indices, indptr, p, c, P, V,
                        out if gather else p.acc + c * size, False)
        if not gather:
            _reduce(p.acc, p.n_use, size, out)
    if gather:
        _gather(<const floating*>p.tdata, p, p.terms, False, out)
    for j in range(p.n_pen):
        out[j] += p.lam * V[j]
    if p.fixed_first:
        for j in range(p.m):
            out[j * p.K] = 0.0
    return poll(p.stop)


cdef void _scores_chunk(const floating* data, const index_t* indices,
                        const index_t* indptr, const Problem* p, int chunk,
                        const double* V, double* out) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(p.bounds[chunk], p.bounds[chunk + 1]):
        _row_scores(data, indices, indptr[i], indptr[i + 1], V, p, out + i * p.K)


cdef int _scores(const floating* data, const index_t* indices,
                 const index_t* indptr, const Problem* p, const double* V,
                 double* out) except -1 nogil:
    """``out = X~ V`` (disjoint writes: any split is exact)."""
    cdef int c
    for c in prange(p.n_use, schedule="static", chunksize=1, num_threads=p.n_use):
        _scores_chunk(data, indices, indptr, p, c, V, out)
    return poll(p.stop)


# ------------------------------------------------------------------- Newton


cdef inline Py_ssize_t _cg_cap(const Problem* p) noexcept nogil:
    """The most CG steps of one solve: the free variables, at least 5."""
    return max(p.m * (p.K - 1 if p.fixed_first else p.K), 5)


cdef int _pcg(const floating* data, const index_t* indices,
              const index_t* indptr, const Problem* p, const double* P,
              const double* g, const double* D, const double* M, double* s,
              double* r, double* d, double* Hd, double* z, double eps_cg,
              int* cg_iter) except -1 nogil:
    """Preconditioned CG on ``H S = -G`` with the quadratic stopping rule (1).

    A direction whose curvature is below ``NULL_CURVATURE`` times its
    curvature under ``diag(H)`` (``D``) lies in the numerical null space of
    ``H``: CG stops before it.  (liblinear's absolute test ``d.Hd <= 1e-16``
    stops every CG run once the gradient is small, whatever the scale.)
    """
    cdef Py_ssize_t k, size = p.m * p.K
    cdef double zTr, znewTrnew, alpha, beta, cgtol, dHd, dDd, Q = 0.0, newQ, Qdiff
    cdef int it = 0
    cdef Py_ssize_t max_cg = _cg_cap(p)
    for k in range(size):
        s[k] = 0.0
        r[k] = -g[k]
        z[k] = r[k] / M[k]
        d[k] = z[k]
    zTr = _dot(z, r, size)
    cgtol = min(eps_cg, sqrt(sqrt(zTr)))
    while it < max_cg:
        it += 1
        if _hess_vec(data, indices, indptr, p, P, d, Hd):
            cg_iter[0] = it
            return 1
        dHd = _dot(d, Hd, size)
        dDd = 0.0
        for k in range(size):
            dDd += d[k] * d[k] * D[k]
        if not (dHd > NULL_CURVATURE * dDd):
            break
        alpha = zTr / dHd
        for k in range(size):
            s[k] += alpha * d[k]
            r[k] -= alpha * Hd[k]
        # Q(s) = g.s + 1/2 s.H s = -1/2 (s.r - s.g) for the CG iterate.
        newQ = -0.5 * (_dot(s, r, size) - _dot(s, g, size))
        Qdiff = newQ - Q
        if newQ <= 0.0 and Qdiff <= 0.0:
            if it * Qdiff >= cgtol * newQ:
                break
        else:
            break
        Q = newQ
        for k in range(size):
            z[k] = r[k] / M[k]
        znewTrnew = _dot(z, r, size)
        beta = znewTrnew / zTr
        for k in range(size):
            d[k] = z[k] + beta * d[k]
        zTr = znewTrnew
    cg_iter[0] = it
    return 0


cdef inline double _moved_max(const double* zi, const double* ti, double t,
                              Py_ssize_t K) noexcept nogil:
    """``max_c z_ic + t T_ic`` (the shift of a stable softmax at ``W + t S``)."""
    cdef Py_ssize_t c
    cdef double u, mx = zi[0] + t * ti[0]
    for c in range(1, K):
        u = zi[c] + t * ti[c]
        if u > mx:
            mx = u
    return mx


cdef double _loss_change(const Problem* p, const double* Z, const double* P,
                         const double* L, const double* T,
                         double step) noexcept nogil:
    """``sum_i s_i (lse(z_i + step T_i) - lse(z_i) - step T_iy)`` (rule 2)."""
    cdef Py_ssize_t i, c, K = p.K
    cdef const double* zi
    cdef const double* ti
    cdef const double* pi
    cdef double acc = 0.0, big, u, x, mx, total, delta, si
    for i in range(p.n):
        si = p.s[i]
        if si == 0.0:
            continue
        zi = Z + i * K
        ti = T + i * K
        pi = P + i * K
        big = 0.0
        for c in range(K):
            u = fabs(step * ti[c])
            if u > big:
                big = u
        if big <= 1.0:
            x = 0.0
            for c in range(K):
                x += pi[c] * expm1(step * ti[c])
            delta = log1p(x)
        else:
            mx = _moved_max(zi, ti, step, K)
            total = 0.0
            for c in range(K):
                total += exp(zi[c] + step * ti[c] - mx)
            delta = mx + log(total) - L[i]
        acc += si * (delta - step * ti[p.y[i]])
    return acc


cdef double _slope(const Problem* p, const double* Z, const double* T, double t,
                   double wTs, double sTs, double* d1, double* d2) noexcept nogil:
    """``phi'(t)`` and ``phi''(t)`` (rule 2): with ``q_i = softmax(z_i + t
    T_i)``, ``sum_i s_i (q_i.T_i - T_iy) + lam (W.S + t S.S)`` and ``sum_i
    s_i (q_i.T_i^2 - (q_i.T_i)^2) + lam S.S`` (the dots over the penalised
    rows).  Returns ``ROUNDING sum_i s_i max_c
    |T_ic|``, a bound on the rounding error of ``phi'(t)`` (its terms cancel
    near the optimum)."""
    cdef Py_ssize_t i, c, K = p.K
    cdef const double* zi
    cdef const double* ti
    cdef double si, mx, e, total, mean, sq, big, acc1 = 0.0, acc2 = 0.0, scale = 0.0
    for i in range(p.n):
        si = p.s[i]
        if si == 0.0:
            continue
        zi = Z + i * K
        ti = T + i * K
        mx = _moved_max(zi, ti, t, K)
        total = 0.0
        mean = 0.0
        sq = 0.0
        big = 0.0
        for c in range(K):
            e = exp(zi[c] + t * ti[c] - mx)
            total += e
            mean += e * ti[c]
            sq += e * ti[c] * ti[c]
            big = max(big, fabs(ti[c]))
        mean /= total
        acc1 += si * (mean - ti[p.y[i]])
        acc2 += si * max(sq / total - mean * mean, 0.0)
        scale += si * big
    d1[0] = acc1 + p.lam * (wTs + t * sTs)
    d2[0] = acc2 + p.lam * sTs
    return ROUNDING * scale


cdef double _minimiser(const Problem* p, const double* Z, const double* T,
                       double gTs, double wTs, double sTs, double lo, double hi,
                       double t, double slope, double curvature) noexcept nogil:
    """A ``t`` in ``[lo, hi]`` with ``|phi'(t)| <= SLOPE_TOL |G.S|`` (rule
    2), given ``phi'`` changes sign in the bracket and ``phi'(t) = slope``,
    ``phi''(t) = curvature`` at one of its ends: Newton steps on ``phi'``,
    the bracket's midpoint when a step leaves it."""
    cdef double trial, enough = SLOPE_TOL * -gTs
    cdef int _it
    for _it in range(MAX_LINE_SEARCH):
        if fabs(slope) <= enough:
            break
        if slope > 0.0:
            hi = t
        else:
            lo = t
        trial = t - slope / curvature if curvature > 0.0 else lo
        if not (lo < trial < hi):
            trial = 0.5 * (lo + hi)
        t = trial
        _slope(p, Z, T, t, wTs, sTs, &slope, &curvature)
    return t


cdef inline double _phi(const Problem* p, const double* Z, const double* P,
                        const double* L, const double* T, double t, double wTs,
                        double sTs) noexcept nogil:
    """``phi(t) = f(W + t S) - f(W)`` (rule 2)."""
    return _loss_change(p, Z, P, L, T, t) + p.lam * (t * wTs + 0.5 * t * t * sTs)


cdef int _line_search(const floating* data, const index_t* indices,
                      const index_t* indptr, const Problem* p, double* W,
                      double* Z, const double* P, const double* L, double* T,
                      const double* S, const double* g,
                      double* step) except -1 nogil:
    """The step along ``S`` (rule 2).

    On success ``W`` and the scores ``Z`` move to ``W + t S``; on failure
    (no sufficient decrease in 20 halvings) nothing moves and ``step`` is 0.
    """
    cdef Py_ssize_t k, size = p.m * p.K, nK = p.n * p.K
    cdef double gTs = _dot(g, S, size)
    cdef double wTs = _dot(W, S, p.n_pen), sTs = _dot(S, S, p.n_pen)
    cdef double t = 1.0, slope, curvature, half, half_curvature, noise
    cdef bint passed = False
    cdef int _trial
    step[0] = 0.0
    if not (gTs < 0.0):
        return 0    # not a descent direction: the gradient is at rounding level
    if _scores(data, indices, indptr, p, S, T):
        return 1
    noise = _slope(p, Z, T, 1.0, wTs, sTs, &slope, &curvature)
    if slope > SLOPE_TOL * -gTs + noise:
        _slope(p, Z, T, 0.5, wTs, sTs, &half, &half_curvature)
        if half > 0.0:
            t = _minimiser(p, Z, T, gTs, wTs, sTs, 0.0, 0.5, 0.5, half, half_curvature)
        elif _phi(p, Z, P, L, T, 1.0, wTs, sTs) <= ARMIJO * gTs:
            passed = True
        else:
            t = _minimiser(p, Z, T, gTs, wTs, sTs, 0.5, 1.0, 1.0, slope, curvature)
    for _trial in range(MAX_LINE_SEARCH):
        if passed or _phi(p, Z, P, L, T, t, wTs, sTs) <= ARMIJO * t * gTs:
            for k in range(nK):
                Z[k] += t * T[k]
            for k in range(size):
                W[k] += t * S[k]
            step[0] = t
            return 0
        t *= 0.5
    step[0] = 0.0
    return 0


cdef inline bint _small(double gmax, double tol, bint decrement, double share,
                        const double* g, const double* diag, Py_ssize_t size) noexcept nogil:
    """The stopping test (rule 3): ``max |G| <= tol`` and, with
    ``decrement``, ``_status.diagonal_decrement`` ``<= tol`` and, when
    ``share > 0`` (``relative |f|``), ``<= share``."""
    cdef double estimate
    if not gmax <= tol:
        return False
    if not decrement:
        return True
    estimate = diagonal_decrement(g, diag, size)
    return estimate <= tol and (share == 0.0 or estimate <= share)


cdef double _absmax(const double* a, Py_ssize_t size) noexcept nogil:
    """``max |a_k|`` (NaN if some entry is NaN)."""
    cdef Py_ssize_t k
    cdef double big = 0.0, v
    for k in range(size):
        v = fabs(a[k])
        if not (v <= big):
            big = v
    return big


# ------------------------------------------------------------ the boundary


def _check_labels(y_ind, Py_ssize_t n, Py_ssize_t K, str who):
    y = np.asarray(y_ind)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{who}: y_ind must have shape (n_samples,) = ({n},), "
                         f"got {y.shape}.")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{who}: y_ind must hold integer class indices, got "
                         f"dtype {y.dtype}; encode the labels with "
                         "sklearn.preprocessing.LabelEncoder.")
    if n > 0 and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"{who}: y_ind must lie in [0, K) = [0, {K}) (K = W.shape[1]), "
                         f"got values in [{y.min()}, {y.max()}].")
    return np.ascontiguousarray(y, dtype=np.intp)


def _check_costs(s, Py_ssize_t n, str who):
    cost = np.ascontiguousarray(s, dtype=np.float64)
    if cost.shape != (n,):
        raise ValueError(f"{who}: s must have shape (n_samples,) = ({n},), got {cost.shape}.")
    if not (np.all(np.isfinite(cost)) and np.all(cost >= 0)):
        raise ValueError(f"{who}: the sample costs s must be finite and >= 0 "
                         "(0 drops a sample).")
    return cost


def _check_matrix(a, str name, tuple shape, str who, *, bint out=False,
                  bint finite=True):
    """A float64 C-contiguous array of ``shape`` (writable when ``out``)."""
    if (not isinstance(a, np.ndarray) or a.dtype != np.float64
            or a.shape != shape or not a.flags.c_contiguous
            or (out and not a.flags.writeable)):
        what = (f"{type(a).__name__} of shape {a.shape}, dtype {a.dtype}"
                if isinstance(a, np.ndarray) else type(a).__name__)
        raise ValueError(
            f"{who}: {name} must be a {'writable ' if out else ''}C-contiguous "
            f"float64 ndarray of shape {shape}, got {what}; create it with "
            f"np.zeros({shape}).")
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{who}: {name} has NaN or infinite entries.")


def _check_common(X, W, str who, double bias, double lam, bint fixed_first,
                  int n_threads, str wname="W"):
    """Shape ``(n, m, K)`` of the problem; the checks every entry point shares."""
    require_proved(X, who)
    cdef Py_ssize_t n = X.n_rows, m = X.n_cols + 1
    if not isinstance(W, np.ndarray) or W.ndim != 2 or W.shape[1] < 2:
        raise ValueError(f"{who}: {wname} must be a 2-d array of shape "
                         f"(n_features + 1, K) = ({m}, K) with K >= 2 classes, got "
                         f"{getattr(W, 'shape', type(W).__name__)}.")
    cdef Py_ssize_t K = W.shape[1]
    if not isfinite(bias):
        raise ValueError(f"{who}: bias must be finite, got {bias}.")
    if not (lam >= 0.0) or not isfinite(lam):
        raise ValueError(f"{who}: lam must be finite and >= 0, got {lam}.")
    if n_threads < 1:
        raise ValueError(f"{who}: n_threads must be >= 1, got {n_threads}.")
    if not isfinite(X.max_row_sq + bias * bias):
        raise ValueError(f"{who}: the squared row norms overflow float64; rescale X.")
    return n, m, K


def _check_first_column(V, str name, bint fixed_first, str who):
    if fixed_first and np.any(V[:, 0] != 0.0):
        raise ValueError(f"{who}: fixed_first=True holds column 0 of {name} at zero, "
                         f"but {name}[:, 0] has nonzero entries; set {name}[:, 0] = 0.")


#: Rule 5's threshold: the transposed products gather when W has at least
#: this many entries (2 MiB of float64, about where the scatter's target
#: leaves the caches) and at least as many rows as X.
GATHER_MIN_ENTRIES = 1 << 18


def gather_pays(Py_ssize_t n_samples, Py_ssize_t n_features, Py_ssize_t K):
    """Whether :func:`newton` should be given ``XT`` (rule 5).

    The scatter misses the cache at random rows of the ``m x K`` result, the
    gather at random rows of the ``n x K`` terms: the smaller of the two
    wins once the result no longer fits in the caches.  Measured on a
    2-core AMD EPYC Zen 4 (whole fits, ``bench/results/EXPERIMENTS.md``):
    20 Newsgroups (11,314 x 130,107, K = 20) 1.65x faster; text-like
    synthetic sets with K = 20: 1.17-1.18x at 20,000 features and 4,000-
    20,000 rows, 1.49x at 40,000 features and 10,000 rows, but 2.1x slower
    with 80,000 rows; 0.96-1.02x where ``m K`` is below the threshold (K = 5),
    0.87x on dna.
    """
    cdef Py_ssize_t m = n_features + 1
    return m * K >= GATHER_MIN_ENTRIES and m >= n_samples


def _chunk_bounds(counts, int n_use):
    """``n_use + 1`` bounds cutting ``len(counts)`` items (item ``k`` weighing
    ``counts[k] + 1``) into chunks of about equal weight."""
    cdef Py_ssize_t n = counts.shape[0]
    weight = np.cumsum(counts.astype(np.float64) + 1.0)
    bounds = np.full(n_use + 1, n, dtype=np.intp)
    bounds[0] = 0
    if n_use > 1:
        cut = weight[n - 1] * np.arange(1, n_use) / n_use
        bounds[1:n_use] = np.searchsorted(weight, cut, side="left") + 1
        bounds = np.minimum(np.maximum.accumulate(bounds), n)
    return bounds


def _workspace(X, Py_ssize_t m, Py_ssize_t K, int n_threads, XT=None):
    """Row chunks of about equal nonzeros and the per-chunk buffers (rule 2);
    with ``XT``, the chunks of W's rows and the rows' terms instead of the
    per-chunk accumulators (rule 5)."""
    cdef Py_ssize_t n = X.n_rows
    cdef int n_use = n_threads if FL_MN_HAVE_OPENMP else 1
    if X.nnz < MIN_NNZ_PER_FEATURE * m and XT is None:
        n_use = 1
    n_use = <int>min(n_use, max(n, 1))
    bounds = _chunk_bounds(np.diff(np.asarray(X.indptr)), n_use)
    acc = np.empty((2, n_use, m * K if n_use > 1 and XT is None else 1), dtype=np.float64)
    scratch = np.empty((n_use, 2 * K), dtype=np.float64)
    part = np.zeros(n_use, dtype=np.float64)
    columns = None
    if XT is not None:
        counts = np.append(np.diff(np.asarray(XT.indptr)), n)   # the bias row: every sample
        columns = (_chunk_bounds(counts, n_use),
                   np.empty((2, max(n, 1) * K), dtype=np.float64),
                   np.zeros(K, dtype=np.float64))
    return n_use, bounds, acc, scratch, part, columns


def _check_transpose(XT, X, str who):
    """``XT`` is None or a proved CSR shaped as X's transpose, with X's value type."""
    if XT is None:
        return
    require_proved(XT, who)
    if (XT.n_rows != X.n_cols or XT.n_cols != X.n_rows or XT.nnz != X.nnz
            or XT.data.dtype != X.data.dtype):
        raise ValueError(
            f"{who}: XT must be the transpose of X (fastlinear._csr_fast.transpose(X)): "
            f"shape ({X.n_cols}, {X.n_rows}) with {X.nnz} nonzeros of dtype "
            f"{X.data.dtype}, got shape ({XT.n_rows}, {XT.n_cols}) with {XT.nnz} "
            f"of dtype {XT.data.dtype}.")


cdef void _set_columns(Problem* p, XT, columns):
    """Rule 5's fields (``columns`` from :func:`_workspace`; XT is kept
    alive by the caller for the duration of the solve)."""
    cdef const Py_ssize_t[::1] cbounds = columns[0]
    cdef double[:, ::1] terms = columns[1]
    cdef const double[::1] zeros = columns[2]
    p.tdata = <const void*><size_t>XT.data.__array_interface__["data"][0]
    p.tind = <const void*><size_t>XT.indices.__array_interface__["data"][0]
    p.tptr = <const void*><size_t>XT.indptr.__array_interface__["data"][0]
    p.t64 = XT.indices.dtype == np.int64
    p.cbounds = &cbounds[0]
    p.terms = &terms[0, 0]
    p.terms2 = &terms[1, 0]
    p.zeros = &zeros[0]


cdef void _set_problem(Problem* p, Py_ssize_t n, Py_ssize_t m, Py_ssize_t K,
                       const Py_ssize_t[::1] y, const double[::1] s, double bias,
                       double lam, bint reg_bias, bint fixed_first, int n_use,
                       const Py_ssize_t[::1] bounds, double[:, :, ::1] acc,
                       double[:, ::1] scratch, double[::1] part,
                       unsigned char[::1] stop):
    p.n = n
    p.m = m
    p.K = K
    p.n_pen = 0 if lam == 0.0 else (m if reg_bias else m - 1) * K
    p.y = &y[0] if y is not None and n > 0 else NULL
    p.s = &s[0] if n > 0 else NULL
    p.bias = bias
    p.lam = lam
    p.fixed_first = fixed_first
    p.n_use = n_use
    p.bounds = &bounds[0]
    p.acc = &acc[0, 0, 0]
    p.acc2 = &acc[1, 0, 0]
    p.scratch = &scratch[0, 0]
    p.part = &part[0]
    p.stop = &stop[0]
    p.tdata = NULL


def loss_grad(X, y_ind, s, W, G, P, *, double bias, double lam, bint reg_bias,
              bint fixed_first, int n_threads=1, XT=None):
    """``f(W)``, its gradient and the class probabilities, in one pass over X.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y_ind : ndarray of int of shape (n_samples,)
        Class indices in ``[0, K)``.
    s : ndarray of shape (n_samples,)
        Per-sample costs ``s_i >= 0``.
    W : ndarray of float64 of shape (n_features + 1, K)
        The weights, feature-major, the bias row last.
    G : ndarray of float64 of shape (n_features + 1, K)
        Receives the gradient of ``f``.
    P : ndarray of float64 of shape (n_samples, K)
        Receives the class probabilities ``softmax(x~_i W)``.
    bias : float
        Value of the constant feature (0: no intercept).
    lam : float
        Penalty strength ``>= 0``.
    reg_bias : bool
        Whether the bias row is penalised.
    fixed_first : bool
        Column 0 of ``W`` is held at zero (``G[:, 0]`` is set to 0).
    n_threads : int, default=1
        Chunks of rows the pass is split into (rule 2).
    XT : fastlinear._csr_fast.CSR, default=None
        X transposed (``fastlinear._csr_fast.transpose(X)``): the transposed
        product gathers by columns (rule 5).  The same result; the same bits
        as ``n_threads=1`` without it.

    Returns
    -------
    f : float
    """
    who = "loss_grad"
    n, m, K = _check_common(X, W, who, bias, lam, fixed_first, n_threads)
    y = _check_labels(y_ind, n, K, who)
    cost = _check_costs(s, n, who)
    _check_matrix(W, "W", (m, K), who)
    _check_first_column(W, "W", fixed_first, who)
    _check_matrix(G, "G", (m, K), who, out=True, finite=False)
    _check_matrix(P, "P", (n, K), who, out=True, finite=False)
    _check_transpose(XT, X, who)
    return _loss_grad_typed(X.data, X.indices, X.indptr, y, cost, W, G, P,
                            bias, lam, reg_bias, fixed_first, n_threads, X, XT)


def _loss_grad_typed(const floating[::1] data, const index_t[::1] indices,
                     const index_t[::1] indptr, const Py_ssize_t[::1] y,
                     const double[::1] s, const double[:, ::1] W,
                     double[:, ::1] G, double[:, ::1] P, double bias,
                     double lam, bint reg_bias, bint fixed_first,
                     int n_threads, X, XT):
    cdef Py_ssize_t n = P.shape[0], m = W.shape[0], K = W.shape[1]
    n_use, bounds, acc, scratch, part, columns = _workspace(X, m, K, n_threads, XT)
    stop = np.zeros(1, dtype=np.uint8)
    cdef Problem p
    _set_problem(&p, n, m, K, y, s, bias, lam, reg_bias, fixed_first, n_use,
                 bounds, acc, scratch, part, stop)
    if XT is not None:
        _set_columns(&p, XT, columns)
    cdef double f = 0.0
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        _gradient(X_data, X_ind, &indptr[0], &p, &W[0, 0], True, NULL,
                  &P[0, 0] if n > 0 else NULL, NULL, &G[0, 0], NULL, &f)
    return f


def hessp(X, s, P, V, HV, *, double bias, double lam, bint reg_bias,
          bint fixed_first, int n_threads=1, XT=None):
    """``HV = H V``, the Hessian of ``f`` at the probabilities ``P``, one pass over X.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    s : ndarray of shape (n_samples,)
        Per-sample costs ``s_i >= 0``.
    P : ndarray of float64 of shape (n_samples, K)
        Class probabilities at the point (from :func:`loss_grad`).
    V : ndarray of float64 of shape (n_features + 1, K)
        The direction (``V[:, 0]`` must be 0 with ``fixed_first``).
    HV : ndarray of float64 of shape (n_features + 1, K)
        Receives ``H V``.
    bias, lam, reg_bias, fixed_first, n_threads, XT
        As for :func:`loss_grad`.
    """
    who = "hessp"
    n, m, K = _check_common(X, V, who, bias, lam, fixed_first, n_threads, wname="V")
    cost = _check_costs(s, n, who)
    _check_matrix(P, "P", (n, K), who)
    _check_matrix(V, "V", (m, K), who)
    _check_first_column(V, "V", fixed_first, who)
    _check_matrix(HV, "HV", (m, K), who, out=True, finite=False)
    _check_transpose(XT, X, who)
    _hessp_typed(X.data, X.indices, X.indptr, cost, P, V, HV, bias, lam,
                 reg_bias, fixed_first, n_threads, X, XT)


def _hessp_typed(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, const double[::1] s,
                 const double[:, ::1] P, const double[:, ::1] V,
                 double[:, ::1] HV, double bias, double lam, bint reg_bias,
                 bint fixed_first, int n_threads, X, XT):
    cdef Py_ssize_t n = P.shape[0], m = V.shape[0], K = V.shape[1]
    n_use, bounds, acc, scratch, part, columns = _workspace(X, m, K, n_threads, XT)
    stop = np.zeros(1, dtype=np.uint8)
    cdef Problem p
    _set_problem(&p, n, m, K, None, s, bias, lam, reg_bias, fixed_first, n_use,
                 bounds, acc, scratch, part, stop)
    if XT is not None:
        _set_columns(&p, XT, columns)
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        _hess_vec(X_data, X_ind, &indptr[0], &p, &P[0, 0] if n > 0 else NULL,
                  &V[0, 0], &HV[0, 0])


def newton(X, y_ind, s, W, *, double bias, double lam, bint reg_bias,
           bint fixed_first, double tol, int max_iter, int n_threads=1,
           int verbose=0, unsigned char[::1] stop=None, bint warm_start=False,
           XT=None, bint decrement=False, double relative=0.0):
    """Minimise ``f`` from the start point ``W``, in place.

    Parameters
    ----------
    X, y_ind, s, bias, reg_bias
        As for :func:`loss_grad`.
    W : ndarray of float64 of shape (n_features + 1, K), C-contiguous
        The start point on entry, the solution on exit (the bias row last;
        unpenalised rows centred across classes unless ``fixed_first``).
    lam : float
        Penalty strength ``>= 0`` (0: no penalty; the minimum may then not
        exist, e.g. on separable data, and the run ends on ``max_iter``).
    fixed_first : bool
        Hold column 0 of ``W`` at zero (it must be zero on entry).
    tol : float
        Stop when ``max |G| <= tol``, in the units of ``f``.
    max_iter : int
        Maximal number of Newton steps.
    n_threads : int, default=1
        Chunks of rows the products are split into (rule 2).
    verbose : int, default=0
        > 0 prints one line per Newton step.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    warm_start : bool, default=False
        CG to ``eps_cg = 0.5`` instead of 0.1 (liblinear's rule for a given
        start point).
    XT : fastlinear._csr_fast.CSR, default=None
        X transposed: the transposed products gather by columns (rule 5).
    decrement : bool, default=False
        With ``lam > 0``, stop only when also ``1/2 G.diag(H)^-1 G <= tol``
        (rule 3).
    relative : float, default=0.0
        With ``decrement``, also ``1/2 G.diag(H)^-1 G <= relative |f|`` when
        positive (rule 3).

    Returns
    -------
    n_iter : int
        Newton steps taken.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1), ``INTERRUPTED`` (2), or
        ``LINE_SEARCH_FAILED`` (4) when the line search found no decrease
        (the gradient is then at rounding level for the data's scale).
    measure : float
        ``max |G|`` at the returned ``W``.
    """
    who = "newton"
    n, m, K = _check_common(X, W, who, bias, lam, fixed_first, n_threads)
    y = _check_labels(y_ind, n, K, who)
    cost = _check_costs(s, n, who)
    _check_matrix(W, "W", (m, K), who, out=True)
    _check_first_column(W, "W", fixed_first, who)
    if not (tol >= 0.0) or not isfinite(tol):
        raise ValueError(f"{who}: tol must be finite and >= 0, got {tol}.")
    if max_iter < 0:
        raise ValueError(f"{who}: max_iter must be >= 0, got {max_iter}.")
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError(f"{who}: stop must be a uint8 array of shape (1,).")
    if not (relative >= 0.0) or not isfinite(relative):
        raise ValueError(f"{who}: relative must be finite and >= 0, got {relative}.")
    _check_transpose(XT, X, who)
    n_iter, status, measure = _newton_typed(
        X.data, X.indices, X.indptr, y, cost, W, bias, lam, reg_bias,
        fixed_first, tol, decrement and lam > 0.0, relative, max_iter, n_threads, verbose,
        stop, warm_start, X, XT)
    if not isfinite(measure):
        raise ValueError(
            f"{who}: the gradient at the start point is not finite (the scores "
            "x~_i W overflow); start from W = 0 or rescale X.")
    return n_iter, status, measure


def _newton_typed(const floating[::1] data, const index_t[::1] indices,
                  const index_t[::1] indptr, const Py_ssize_t[::1] y,
                  const double[::1] s, double[:, ::1] W, double bias,
                  double lam, bint reg_bias, bint fixed_first, double tol,
                  bint decrement, double relative, int max_iter, int n_threads, int verbose,
                  unsigned char[::1] stop, bint warm_start, X, XT):
    cdef Py_ssize_t n = y.shape[0], m = W.shape[0], K = W.shape[1]
    cdef Py_ssize_t size = m * K, k, j, c
    n_use, bounds, acc, scratch, part, columns = _workspace(X, m, K, n_threads, XT)
    cdef Problem p
    _set_problem(&p, n, m, K, y, s, bias, lam, reg_bias, fixed_first, n_use,
                 bounds, acc, scratch, part, stop)
    if XT is not None:
        _set_columns(&p, XT, columns)
    # Per-sample work: scores Z, probabilities P, X~ S (T), logsumexp L.
    sample_work = np.zeros((3, max(n, 1) * K), dtype=np.float64)
    lse_work = np.zeros(max(n, 1), dtype=np.float64)
    vec_work = np.zeros((8, size), dtype=np.float64)
    cdef double[:, ::1] sw = sample_work
    cdef double[::1] lw = lse_work
    cdef double[:, ::1] vv = vec_work
    cdef double* Z = &sw[0, 0]
    cdef double* P = &sw[1, 0]
    cdef double* T = &sw[2, 0]
    cdef double* L = &lw[0]
    cdef double* g = &vv[0, 0]
    cdef double* S = &vv[1, 0]
    cdef double* r = &vv[2, 0]
    cdef double* d = &vv[3, 0]
    cdef double* Hd = &vv[4, 0]
    cdef double* zv = &vv[5, 0]
    cdef double* M = &vv[6, 0]
    cdef double* D = &vv[7, 0]
    cdef double* Wp = &W[0, 0]
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const index_t* X_ptr = &indptr[0]
    cdef double eps_cg = 0.5 if warm_start else 0.1
    cdef double f = 0.0, gmax = 0.0, step = 0.0, mean, f_before, best = INFINITY
    cdef double promised = 0.0, modelled
    cdef int n_iter = 0, cg_iter = 0, status = MAX_ITER, rc, idle = 0
    cdef bint confirming = False, caught_short = False
    cdef Py_ssize_t first_free = p.n_pen // K

    with nogil:
        rc = _gradient(X_data, X_ind, X_ptr, &p, Wp, True, Z, P, L, g, D, &f)
        if rc == 0:
            gmax = _absmax(g, size)
            if not (isfinite(gmax) and isfinite(f)):
                gmax = INFINITY   # the scores overflow: the wrapper raises
                status = DIVERGED
            elif _small(gmax, tol, decrement, relative * fabs(f), g, D, size):
                status = CONVERGED
            while status == MAX_ITER and n_iter < max_iter:
                if relative > 0.0:
                    promised = diagonal_decrement(g, D, size)
                for k in range(size):
                    M[k] = (1.0 - PCG_MIX) + PCG_MIX * D[k]
                rc = _pcg(X_data, X_ind, X_ptr, &p, P, g, D, M, S, r, d, Hd, zv,
                          eps_cg * CONFIRM_CG if confirming else eps_cg, &cg_iter)
                if rc != 0:
                    break
                if confirming:
                    # The stop the estimate allowed, on the whole quadratic
                    # model: its decrease -(G.S + S.H S / 2) at the CG iterate,
                    # unless CG ran to its cap short of its own rule.
                    modelled = 0.5 * (_dot(S, r, size) - _dot(S, g, size))
                    if verbose > 0:
                        with gil:
                            print("check of the stop on the whole model: decrease %5.3e "
                                  "(at most %5.3e) CG %3d" % (modelled, relative * fabs(f),
                                                              cg_iter), flush=True)
                    if cg_iter < _cg_cap(&p) and modelled <= relative * fabs(f):
                        status = CONVERGED
                        break
                    confirming = False
                rc = _line_search(X_data, X_ind, X_ptr, &p, Wp, Z, P, L, T, S, g, &step)
                if rc != 0:
                    break
                n_iter += 1
                if step == 0.0:
                    status = LS_FAILED
                    break
                f_before = f
                rc = _gradient(X_data, X_ind, X_ptr, &p, Wp, False, Z, P, L, g, D, &f)
                if rc != 0:
                    break
                gmax = _absmax(g, size)
                if verbose > 0:
                    with gil:
                        print("iter %2d f %5.3e max|g| %5.3e dec %5.3e CG %3d "
                              "step_size %4.2e" % (n_iter, f, gmax,
                                                   diagonal_decrement(g, D, size),
                                                   cg_iter, step), flush=True)
                if promised > 0.0 and step == 1.0 and f_before - f > CONFIRM_SHORTFALL * promised:
                    caught_short = True
                if _small(gmax, tol, decrement, relative * fabs(f), g, D, size):
                    if caught_short:
                        # The estimate fell short of a full step's decrease:
                        # the stop is checked by the next step's CG (above).
                        confirming = True
                    else:
                        status = CONVERGED
                elif f_before - f <= ROUNDING * fabs(f_before) and not gmax < best:
                    idle += 1
                    if idle >= IDLE_STEPS:
                        status = LS_FAILED
                else:
                    idle = 0
                best = min(best, gmax)
        if rc > 0:
            status = INTERRUPTED
        # The gauge: unpenalised rows centred across classes (f is unchanged).
        if not fixed_first and isfinite(gmax):
            for j in range(first_free, m):
                mean = 0.0
                for c in range(K):
                    mean += Wp[j * K + c]
                mean /= K
                for c in range(K):
                    Wp[j * K + c] -= mean
    return n_iter, status, gmax
