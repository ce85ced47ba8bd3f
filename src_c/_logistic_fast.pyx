# cython: freethreading_compatible = True
"""Multinomial logistic regression by mini-batch gradient descent on CSR data.

The problem (the objective of ``sklearn.linear_model.LogisticRegression``,
multinomial, so the optima can be compared directly)::

    J(W, b) = C sum_i s_i (-log P(y_i | x_i)) + 1/2 ||W||^2     (b not penalised)

    P(y = c | x) = exp(z_c) / sum_k exp(z_k),   z_c = w_c . x + b_c

with ``s_i`` the sample weights.  The kernel works on the logits ``z``:

* ``"softmax"``: K free weight vectors.
* ``"reference"`` (the course's form): class 0 has no weights and
  ``P(y=c|x) = exp(-v_c.x - d_c) / (1 + sum_{k>=1} exp(-v_k.x - d_k))``.  That
  is the softmax above with ``w_0 = 0, b_0 = 0`` pinned and ``w_c = -v_c``,
  ``b_c = -d_c``: the kernel runs the same code with column 0 frozen, and the
  wrapper reports ``coef_`` as logit weights (``v_c = -coef_[c]``).

Gradients (derived here; the assignment's softmax update has a sign slip).
Write ``p_ic = P(c | x_i)`` and ``y_ic = [y_i == c]``.  Since
``-log P(y_i|x_i) = logsumexp_k(z_ik) - z_{i,y_i}`` and
``d logsumexp / d z_c = p_ic``::

    d(-log P(y_i|x_i)) / d z_ic = p_ic - y_ic

    softmax:    dJ/dw_c = C sum_i s_i (p_ic - y_ic) x_i + w_c
                dJ/db_c = C sum_i s_i (p_ic - y_ic)
    reference:  z_ic = -v_c . x_i - d_c  for c >= 1, so the chain rule flips
                the sign:
                dJ/dv_c = C sum_i s_i (y_ic - p_ic) x_i + v_c
                dJ/dd_c = C sum_i s_i (y_ic - p_ic)

so gradient *descent* moves ``w_c`` by ``-eta (p_ic - y_ic) x_i`` (towards
``x_i`` for the true class, away from it for the others), and ``v_c`` by
``-eta (y_ic - p_ic) x_i``.  The tests check both against
``scipy.optimize.check_grad``.

The step.  With ``lam = 1 / (C n)`` the kernel descends ``J / (C n)``::

    F(W, b) = (1/n) sum_i s_i l_i(W, b) + lam/2 ||W||^2

and a mini-batch ``B`` (rows of a fresh random permutation each epoch)
gives the unbiased estimate ``g_B = (1/|B|) sum_{i in B} s_i x_i (p_i - y_i)^T
+ lam W``.  The update ``W <- W - eta g_B`` is applied as::

    W <- (1 - eta lam) W              (the L2 term: scale <- (1 - eta lam) scale)
    W <- W - eta/|B| sum_i s_i x_i (p_i - y_i)^T     (only rows j with x_ij != 0)

with ``W = scale * V`` stored feature-major (``V`` is n_features x K,
C-contiguous): a nonzero ``x_ij`` touches one contiguous row ``V[j, :]``, and
a step costs O(nnz(B) K), never O(n_features K) (Bottou's SGD trick; sklearn's
``WeightVector``).  ``V`` is folded back (``V *= scale``) when ``scale``
drops below 1e-9.

Variance reduction (SVRG; Johnson & Zhang, NIPS 2013), on by default in the
wrapper.  At the start of each epoch the snapshot pass (which also gives the
objective) stores the residuals ``r_i = s_i (p_i - y_i)`` at the snapshot and
the mean gradient ``m = (1/n) sum_i x_i r_i^T`` (``m_b`` for the intercept).
A step then uses ``s_i (p_i - y_i) - r_i`` in place of ``s_i (p_i - y_i)`` and
adds ``eta m``: still an unbiased gradient estimate, whose variance vanishes at
the optimum, so a constant step converges linearly instead of stalling at a
noise floor.  The dense term ``eta m`` is kept lazy too: ``W = scale * V +
beta * M`` (the :c:type:`Weights` struct; ``beta <- (1 - eta lam) beta -
eta``), so a step still costs O(nnz(B) K); the logits read ``scale V + beta
M`` row by row.

Design rules of this module:

1. X arrives as a ``fastlinear._csr_fast.CSR`` (structure and finite values
   proved once per fit): ``floating`` values (float32 stays float32),
   ``int32``/``int64`` indices.  Every accumulation and the weights are
   float64.  Softmax subtracts the row maximum.  The kernel checks the
   labels (in ``[0, K)``) and sample weights (finite, >= 0) itself.
2. Learning rate per epoch ``e`` (0-based, plus ``epoch_offset`` for
   ``partial_fit``): ``constant``: ``eta0``; ``invscaling``:
   ``eta0 / (e + 1) ** power_t``; ``adaptive``: ``eta0``, divided by 5 (at
   most ``max_decreases`` times, restarting from the best weights) when
   ``n_iter_no_change`` epochs fail to lower the best objective by
   ``tol * |best|`` *and* the objective rose meanwhile (noise: a step too
   long), or when it explodes.  Otherwise such a stall means convergence and
   the kernel stops, whatever the schedule.  With ``grad_tol > 0`` (SVRG
   only, whose snapshot pass computes the full gradient anyway), the kernel
   stops instead when the largest entry of the gradient of ``J`` is at most
   ``grad_tol`` (scikit-learn's lbfgs test, in ``J``'s units); a stall then
   only divides the step (adaptive) and the epochs go on.
3. The full objective ``J`` is evaluated at the start of every epoch and
   after the last one (a forward pass; for SVRG the snapshot pass) and
   recorded in ``curve``; the weights with the lowest ``J`` are kept and
   returned.  A non-finite or exploding objective (above 10x the starting
   one) restores the best weights and divides the step by 5 (adaptive) or
   stops with ``DIVERGED``.
4. The random permutation comes from the seeded generator of ``_random.pxd``
   and is shuffled again each epoch: the same seed gives the same iterates,
   bit for bit.
5. Every loop is bounded (epochs by ``max_iter``, batches by ``n_samples``);
   ``_status.poll`` runs every epoch and every ``POLL_EVERY`` rows.
6. One code path per job: :func:`_step` is one mini-batch update,
   :func:`_epoch` one pass of steps, :func:`_end_of_epoch` the objective and
   the stopping rule; the logits of a row are computed by one function,
   specialised at compile time for plain and SVRG weights (``mode_t``), so
   neither pays a branch per nonzero.
"""
import numpy as np

from libc.math cimport INFINITY, exp, fabs, isfinite, log, pow
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy
from cython cimport floating

from _prefetch cimport prefetch
from _random cimport rng_seed, shuffle
from _sparse cimport index_t
from _status cimport CONVERGED, DIVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll

from fastlinear._csr_fast import require_proved

__all__ = ["Schedule", "minibatch_sgd", "objective"]


cpdef enum Schedule:
    LR_CONSTANT = 1
    LR_INVSCALING = 2
    LR_ADAPTIVE = 3


cdef enum:
    # Nonzeros ahead whose weight row is prefetched: the kernel is bound by
    # the latency of these random row reads (the weights exceed the cache).
    PREFETCH_AHEAD = 8

# The lazy L2 scale is folded into V below this value.
cdef double RESCALE_BELOW = 1e-9
# Adaptive schedule: divide the step by this; an objective above
# EXPLODE_FACTOR x the starting one counts as divergence.
cdef double ADAPTIVE_FACTOR = 5.0
cdef double EXPLODE_FACTOR = 10.0

# Compile-time specialisation of the logits: plain weights (W = scale V) or
# SVRG's (W = scale V + beta M).  The argument only selects the version.
ctypedef fused mode_t:
    char    # plain
    short   # SVRG


cdef struct Settings:
    # The solver's parameters (the ``settings`` dict of minibatch_sgd).
    double C
    double lam
    double eta0
    double power_t
    double tol
    int schedule
    int batch_size
    int max_iter
    int n_iter_no_change
    int max_decreases
    int epoch_offset
    int verbose
    bint fit_intercept
    bint reference
    bint variance_reduced
    bint track_objective
    double grad_tol        # > 0: stop on max |grad J| <= grad_tol (SVRG)


cdef struct Weights:
    # W = scale * V + beta * M, feature-major; rows of V (and of M, which
    # SVRG interleaves with V) are ld apart; b the intercepts.
    double* V
    double* M
    double* b
    Py_ssize_t n_features
    Py_ssize_t K
    Py_ssize_t ld
    double scale
    double beta


cdef struct Snapshot:
    # SVRG's control variate: residuals at the snapshot and their mean.
    double* R      # n_samples x K
    double* m_b    # K


cdef struct Monitor:
    # The stopping rule's state between epochs (rules 2 and 3).
    double eta
    double obj
    double best
    double start_obj
    int no_improve
    int decreases
    bint rose
    int status
    # The loss curve, grown by doubling as epochs run (never sized by
    # max_iter up front: max_iter may be 2**31 - 1).
    double* curve
    Py_ssize_t n_curve
    Py_ssize_t curve_cap
    bint curve_full  # realloc failed: the fit stops, the caller raises MemoryError


cdef struct Data:
    # The labels and weights every pass reads (X's arrays come typed).
    const int32_t* y
    const double* sw
    Py_ssize_t n_samples
    unsigned char* stop


cdef inline void _prefetch_row(const double* row, Py_ssize_t n) noexcept nogil:
    """Prefetch the cache lines (8 doubles each) of ``row[0:n]``."""
    cdef Py_ssize_t off
    for off in range(0, n, 8):
        prefetch(row + off)


cdef inline double _softmax_residual(double* z, Py_ssize_t K,
                                     Py_ssize_t yi) noexcept nogil:
    """Logits ``z`` -> ``p - e_y`` in place; returns ``-log p_y``.

    Stable: the maximum logit is subtracted before ``exp``.
    """
    cdef Py_ssize_t c
    cdef double m = -INFINITY, s = 0.0, zy
    for c in range(K):
        if z[c] > m:
            m = z[c]
    zy = z[yi] - m
    for c in range(K):
        z[c] = exp(z[c] - m)
        s += z[c]
    for c in range(K):
        z[c] = z[c] / s
    z[yi] -= 1.0
    return log(s) - zy


cdef inline double _row_residual(const floating* data, const index_t* indices,
                                 Py_ssize_t start, Py_ssize_t end,
                                 const Weights* w, Py_ssize_t yi, double* z,
                                 mode_t mode) noexcept nogil:
    """Logits of one row at ``w``, then ``z <- p - e_y``; returns ``-log p_y``."""
    cdef Py_ssize_t k, c, K = w.K, ld = w.ld
    cdef double xv, scale = w.scale, beta = w.beta
    cdef const double* row
    cdef const double* mrow
    for c in range(K):
        z[c] = 0.0
    for k in range(start, end):
        if k + PREFETCH_AHEAD < end:
            # SVRG interleaves V and M: one block of ld = 2K doubles.
            _prefetch_row(w.V + <Py_ssize_t>indices[k + PREFETCH_AHEAD] * ld,
                          ld if mode_t is short else K)
        xv = data[k]
        row = w.V + <Py_ssize_t>indices[k] * ld
        if mode_t is short:
            mrow = w.M + <Py_ssize_t>indices[k] * ld
            for c in range(K):
                z[c] += xv * (scale * row[c] + beta * mrow[c])
        else:
            for c in range(K):
                z[c] += xv * row[c]
    for c in range(K):
        if mode_t is short:
            z[c] += w.b[c]
        else:
            z[c] = scale * z[c] + w.b[c]
    return _softmax_residual(z, K, yi)


cdef double _sqnorm(const Weights* w) noexcept nogil:
    """``||V||^2`` over the first K entries of each of the n_features rows."""
    cdef Py_ssize_t j, c
    cdef double sq = 0.0
    for j in range(w.n_features):
        for c in range(w.K):
            sq += w.V[j * w.ld + c] * w.V[j * w.ld + c]
    return sq


cdef double _objective(const floating* data, const index_t* indices,
                       const index_t* indptr, const Data* d, const Weights* w,
                       double C, double* z) noexcept nogil:
    """``J = C sum_i s_i l_i + 1/2 scale^2 ||V||^2`` (a forward pass)."""
    cdef Py_ssize_t i
    cdef double loss = 0.0
    for i in range(d.n_samples):
        if d.sw[i] != 0.0:
            loss += d.sw[i] * _row_residual(data, indices, indptr[i], indptr[i + 1],
                                            w, d.y[i], z, <char>0)
    return C * loss + 0.5 * w.scale * w.scale * _sqnorm(w)


cdef double _snapshot(const floating* data, const index_t* indices,
                      const index_t* indptr, const Data* d, Weights* w,
                      const Settings* s, Snapshot* snap) noexcept nogil:
    """Full pass at the snapshot: objective, residuals and mean gradient.

    ``R[i] = s_i (p_i - y_i)`` (column 0 zero in the reference form),
    ``M = (1/n) sum_i x_i R[i]^T`` (feature-major) and ``m_b = (1/n) sum_i
    R[i]``; returns ``J``.  ``w`` holds the true weights (scale 1, beta 0).
    """
    cdef Py_ssize_t i, k, c, j, K = w.K, ld = w.ld
    cdef double loss = 0.0, s_i, xv
    cdef double inv_n = 1.0 / <double>d.n_samples
    cdef double* r
    cdef double* row
    for j in range(w.n_features):
        for c in range(K):
            w.M[j * ld + c] = 0.0
    for c in range(K):
        snap.m_b[c] = 0.0
    for i in range(d.n_samples):
        r = snap.R + i * K
        s_i = d.sw[i]
        if s_i == 0.0:
            for c in range(K):
                r[c] = 0.0
            continue
        loss += s_i * _row_residual(data, indices, indptr[i], indptr[i + 1],
                                    w, d.y[i], r, <char>0)
        for c in range(K):
            r[c] *= s_i * inv_n
        if s.reference:
            r[0] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            if k + PREFETCH_AHEAD < indptr[i + 1]:
                _prefetch_row(w.M + <Py_ssize_t>indices[k + PREFETCH_AHEAD] * ld, K)
            xv = data[k]
            row = w.M + <Py_ssize_t>indices[k] * ld
            for c in range(K):
                row[c] += xv * r[c]
        for c in range(K):
            snap.m_b[c] += r[c]
            r[c] *= <double>d.n_samples
    return s.C * loss + 0.5 * _sqnorm(w)


cdef void _step(const floating* data, const index_t* indices,
                const index_t* indptr, const Data* d, Weights* w,
                const Settings* s, const Snapshot* snap,
                const Py_ssize_t* rows, Py_ssize_t bsz, double eta,
                double* g, mode_t mode) noexcept nogil:
    """One mini-batch update of ``w`` on the samples ``rows[:bsz]``."""
    cdef Py_ssize_t r, i, k, c, K = w.K
    cdef double s_i, a, a_s, xv, gsum
    cdef double decay = 1.0 - eta * s.lam
    cdef const double* gr
    cdef double* row
    # Forward: residuals s_i (p_i - y_i) at the current weights, minus the
    # snapshot's for SVRG.
    for r in range(bsz):
        i = rows[r]
        s_i = d.sw[i]
        if s_i == 0.0:
            for c in range(K):
                g[r * K + c] = 0.0
            continue
        _row_residual(data, indices, indptr[i], indptr[i + 1], w, d.y[i],
                      g + r * K, mode)
        if s_i != 1.0:
            for c in range(K):
                g[r * K + c] *= s_i
        if s.reference:
            g[r * K] = 0.0
        if mode_t is short:
            for c in range(K):
                g[r * K + c] -= snap.R[i * K + c]
    # L2 term (and SVRG's mean gradient): lazily, in scalars.
    w.scale *= decay
    if mode_t is short:
        w.beta = decay * w.beta - eta
    # Loss term: W <- W - eta/|B| sum_i x_i g_i^T, rows of x_i only.
    a = eta / <double>bsz
    a_s = -a / w.scale
    for r in range(bsz):
        i = rows[r]
        gr = g + r * K
        for k in range(indptr[i], indptr[i + 1]):
            xv = a_s * data[k]
            row = w.V + <Py_ssize_t>indices[k] * w.ld
            for c in range(K):
                row[c] += xv * gr[c]
    if s.fit_intercept:
        for c in range(K):
            gsum = 0.0
            for r in range(bsz):
                gsum += g[r * K + c]
            w.b[c] -= a * gsum
            if mode_t is short:
                w.b[c] -= eta * snap.m_b[c]
    if w.scale < RESCALE_BELOW:
        for i in range(w.n_features):
            for c in range(K):
                w.V[i * w.ld + c] *= w.scale
        w.scale = 1.0


cdef int _epoch(const floating* data, const index_t* indices,
                const index_t* indptr, const Data* d, Weights* w,
                const Settings* s, const Snapshot* snap, Py_ssize_t* order,
                uint64_t* state, double eta, double* g,
                mode_t mode) except -1 nogil:
    """A pass of mini-batch steps in a fresh random order; 1 if stopped."""
    cdef Py_ssize_t start = 0, bsz, since_poll = 0
    cdef Py_ssize_t B = min(<Py_ssize_t>s.batch_size, d.n_samples)
    shuffle(order, d.n_samples, state)
    while start < d.n_samples:
        bsz = min(B, d.n_samples - start)
        _step(data, indices, indptr, d, w, s, snap, order + start, bsz, eta, g, mode)
        start += bsz
        since_poll += bsz
        if since_poll >= POLL_EVERY:
            since_poll = 0
            if poll(d.stop):
                return 1
    return 0


cdef void _fold(Weights* w) noexcept nogil:
    """``V <- scale V + beta M``; ``scale <- 1``, ``beta <- 0``."""
    cdef Py_ssize_t j, c, ld = w.ld
    if w.beta != 0.0:
        for j in range(w.n_features):
            for c in range(w.K):
                w.V[j * ld + c] = w.scale * w.V[j * ld + c] + w.beta * w.M[j * ld + c]
    elif w.scale != 1.0:
        for j in range(w.n_features):
            for c in range(w.K):
                w.V[j * ld + c] *= w.scale
    w.scale = 1.0
    w.beta = 0.0


cdef void _copy_rows(double* dst, Py_ssize_t dst_ld, const double* src,
                     Py_ssize_t src_ld, Py_ssize_t n_rows, Py_ssize_t K) noexcept nogil:
    """``dst[j, :K] = src[j, :K]`` for rows ``ld`` apart."""
    cdef Py_ssize_t j
    if dst_ld == K and src_ld == K:
        if n_rows > 0:
            memcpy(dst, src, n_rows * K * sizeof(double))
        return
    for j in range(n_rows):
        memcpy(dst + j * dst_ld, src + j * src_ld, K * sizeof(double))


cdef void _keep_best(const Weights* w, double* Vbest, double* bbest) noexcept nogil:
    _copy_rows(Vbest, w.K, w.V, w.ld, w.n_features, w.K)
    memcpy(bbest, w.b, w.K * sizeof(double))


cdef void _restore(Weights* w, const double* Vbest, const double* bbest) noexcept nogil:
    _copy_rows(w.V, w.ld, Vbest, w.K, w.n_features, w.K)
    memcpy(w.b, bbest, w.K * sizeof(double))


cdef double _evaluate(const floating* data, const index_t* indices,
                      const index_t* indptr, const Data* d, Weights* w,
                      const Settings* s, Snapshot* snap, double* z) noexcept nogil:
    """``J`` at the current weights (folded); SVRG also refreshes its snapshot."""
    _fold(w)
    if s.variance_reduced:
        return _snapshot(data, indices, indptr, d, w, s, snap)
    return _objective(data, indices, indptr, d, w, s.C, z)


cdef bint _record(Monitor* mon, double value) noexcept nogil:
    """Append ``value`` to the loss curve; False when it cannot grow."""
    cdef double* grown
    cdef Py_ssize_t cap
    if mon.n_curve == mon.curve_cap:
        cap = 2 * mon.curve_cap if mon.curve_cap > 0 else 64
        grown = <double*> realloc(mon.curve, cap * sizeof(double))
        if grown == NULL:
            mon.curve_full = True
            return False
        mon.curve = grown
        mon.curve_cap = cap
    mon.curve[mon.n_curve] = value
    mon.n_curve += 1
    return True


cdef double _gradient_max(const Weights* w, const Settings* s,
                          const Snapshot* snap, Py_ssize_t n_samples) noexcept nogil:
    """``max |grad J|`` at the snapshot just taken (``w`` folded): ``C n M + W``
    for the weights, ``C n m_b`` for the intercepts (rule 3)."""
    cdef Py_ssize_t j, c
    cdef double g, largest = 0.0, cn = s.C * <double>n_samples
    for j in range(w.n_features):
        for c in range(w.K):
            g = fabs(cn * w.M[j * w.ld + c] + w.V[j * w.ld + c])
            if g > largest or g != g:
                largest = g
    if s.fit_intercept:
        for c in range(w.K):
            g = fabs(cn * snap.m_b[c])
            if g > largest or g != g:
                largest = g
    return largest


cdef bint _end_of_epoch(const floating* data, const index_t* indices,
                        const index_t* indptr, const Data* d, Weights* w,
                        const Settings* s, Snapshot* snap, Monitor* mon,
                        int epoch, double* Vbest, double* bbest,
                        double* z) noexcept nogil:
    """Evaluate ``J``, keep the best weights, apply rules 2-3; True to stop."""
    cdef bint gradient_rule = s.grad_tol > 0.0 and s.variance_reduced
    mon.obj = _evaluate(data, indices, indptr, d, w, s, snap, z)
    if not _record(mon, mon.obj):
        return True
    if epoch == 0:
        mon.start_obj = mon.obj
        if not isfinite(mon.obj):
            # Nothing better to return to: the start point is kept.
            mon.status = DIVERGED
            return True
    elif s.verbose > 0:
        with gil:
            print("-- Epoch %d: objective %.10g, learning rate %.4g"
                  % (epoch, mon.obj, mon.eta), flush=True)
    if gradient_rule and isfinite(mon.obj) and _gradient_max(
            w, s, snap, d.n_samples) <= s.grad_tol:
        # Converged here: these weights are the ones returned.
        mon.best = mon.obj
        _keep_best(w, Vbest, bbest)
        mon.status = CONVERGED
        return True
    if not isfinite(mon.obj) or mon.obj > EXPLODE_FACTOR * mon.start_obj + 1.0:
        # Diverging: back to the best weights, smaller step.
        _restore(w, Vbest, bbest)
        if s.variance_reduced:
            mon.obj = _snapshot(data, indices, indptr, d, w, s, snap)
        if s.schedule != LR_ADAPTIVE or mon.decreases >= s.max_decreases:
            mon.status = DIVERGED
            return True
        mon.eta /= ADAPTIVE_FACTOR
        mon.decreases += 1
        mon.no_improve = 0
        mon.rose = False
        return False
    # (Under the gradient rule any decrease counts: the objective's relative
    # change is no convergence test there, and near the optimum SVRG's steps
    # lower it by little while the gradient still shrinks.)
    if mon.obj < mon.best - (0.0 if gradient_rule else s.tol * fabs(mon.best)):
        mon.no_improve = 0
        mon.rose = False
    else:
        mon.no_improve += 1
        if mon.obj > mon.best:
            mon.rose = True
    if mon.obj < mon.best:
        mon.best = mon.obj
        _keep_best(w, Vbest, bbest)
    if mon.no_improve < s.n_iter_no_change:
        return False
    if (s.schedule == LR_ADAPTIVE and (mon.rose or gradient_rule)
            and mon.decreases < s.max_decreases):
        # Noise, not convergence: a smaller step from the best weights.
        mon.eta /= ADAPTIVE_FACTOR
        mon.decreases += 1
        mon.no_improve = 0
        mon.rose = False
        if mon.obj > mon.best:
            _restore(w, Vbest, bbest)
            if s.variance_reduced:
                _snapshot(data, indices, indptr, d, w, s, snap)
        return False
    if gradient_rule:
        mon.no_improve = 0  # a stall is not convergence: on to max_iter
        return False
    mon.status = CONVERGED
    return True


cdef Data _checked_data(X, const int32_t[::1] y, const double[::1] sample_weight,
                        double[:, ::1] W, double[::1] intercept, str who):
    """Rule 1's checks of what the proof does not cover; the labels and weights."""
    require_proved(X, who)
    if y.shape[0] != X.n_rows or sample_weight.shape[0] != X.n_rows:
        raise ValueError("%s: y and sample_weight must have n_samples = %d "
                         "elements." % (who, X.n_rows))
    if W.shape[0] != X.n_cols or W.shape[1] < 2 or intercept.shape[0] != W.shape[1]:
        raise ValueError("%s: W must have shape (n_features, K) with K >= 2 "
                         "and intercept K entries." % who)
    cdef Data d
    d.n_samples = X.n_rows
    d.y = &y[0] if d.n_samples > 0 else NULL
    d.sw = &sample_weight[0] if d.n_samples > 0 else NULL
    d.stop = NULL
    cdef Py_ssize_t i, K = W.shape[1], bad_row = -1
    with nogil:
        for i in range(d.n_samples):
            if (d.y[i] < 0 or d.y[i] >= K or not (d.sw[i] >= 0.0)
                    or not isfinite(d.sw[i])):
                bad_row = i
                break
    if bad_row >= 0:
        raise ValueError("%s: row %d has a label outside [0, %d) or a sample "
                         "weight that is negative or not finite." % (who, bad_row, K))
    return d


def minibatch_sgd(X, const int32_t[::1] y, const double[::1] sample_weight,
                  double[:, ::1] W, double[::1] intercept,
                  dict settings, unsigned char[::1] stop=None, uint64_t seed=0):
    """Run up to ``max_iter`` epochs of mini-batch gradient descent, in place.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y : int32 array of shape (n_samples,), class indices in ``[0, K)``.
    sample_weight : float64 array of shape (n_samples,), finite, >= 0.
    W : float64 array of shape (n_features, K), C-contiguous: the start point
        on entry, the solution on exit (feature-major, true weights).
    intercept : float64 array of shape (K,), start point / solution.
    settings : dict
        The fields of :c:type:`Settings`: ``C`` (scales the recorded
        objective), ``lam`` (``1 / (C n)``), ``eta0`` and ``power_t``
        (``eta0 * lam < 1``), ``tol``, ``schedule`` (a :class:`Schedule`),
        ``batch_size``, ``max_iter``, ``n_iter_no_change``,
        ``max_decreases``, ``epoch_offset`` (epochs already run, for
        ``invscaling`` in ``partial_fit``), ``verbose``, ``fit_intercept``,
        ``reference`` (freeze column 0), ``variance_reduced`` (SVRG; implies
        ``track_objective``), ``track_objective`` (evaluate ``J`` at the
        start of each epoch and after the last; without it the kernel runs
        exactly ``max_iter`` epochs and returns the last iterate),
        ``grad_tol`` (optional, 0: SVRG stops on ``max |grad J| <= grad_tol``).
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    seed : int
        Seed of the row permutations.

    Returns
    -------
    n_iter : int
        Epochs run.
    status : int
        CONVERGED, MAX_ITER, INTERRUPTED or DIVERGED.
    eta : float
        The learning rate at the end (adaptive may have divided it).
    curve : float64 array of shape (n_iter + 1,) or (0,)
        ``J`` at the start of each epoch and after the last (empty without
        ``track_objective``).
    """
    cdef Data d = _checked_data(X, y, sample_weight, W, intercept, "minibatch_sgd")
    settings = dict(settings)
    settings.setdefault("grad_tol", 0.0)
    cdef Settings s = settings
    if s.variance_reduced:
        s.track_objective = True
    if (s.batch_size < 1 or s.max_iter < 1 or s.n_iter_no_change < 1
            or s.max_decreases < 0 or s.epoch_offset < 0):
        raise ValueError("minibatch_sgd: batch_size, max_iter and "
                         "n_iter_no_change must be >= 1.")
    if not (s.eta0 > 0.0) or not (s.eta0 * s.lam < 1.0) or not (s.lam >= 0.0):
        raise ValueError("minibatch_sgd: eta0 must be > 0 with eta0 * lam < 1; "
                         "got eta0=%r, lam=%r." % (s.eta0, s.lam))
    if s.schedule < LR_CONSTANT or s.schedule > LR_ADAPTIVE:
        raise ValueError("minibatch_sgd: unknown learning-rate schedule %d."
                         % s.schedule)
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    d.stop = &stop[0]
    if d.n_samples == 0:
        return 0, int(MAX_ITER), s.eta0, np.zeros(0)
    if X.data.dtype == np.float32:
        if X.indices.dtype == np.int32:
            return _run[float, int32_t](X.data, X.indices, X.indptr, &d, W,
                                        intercept, &s, seed)
        return _run[float, int64_t](X.data, X.indices, X.indptr, &d, W,
                                    intercept, &s, seed)
    if X.indices.dtype == np.int32:
        return _run[double, int32_t](X.data, X.indices, X.indptr, &d, W,
                                     intercept, &s, seed)
    return _run[double, int64_t](X.data, X.indices, X.indptr, &d, W,
                                 intercept, &s, seed)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Data* d, double[:, ::1] W,
                 double[::1] intercept, Settings* s, uint64_t seed):
    cdef Py_ssize_t n_features = W.shape[0], K = W.shape[1]
    cdef Py_ssize_t B = min(<Py_ssize_t>s.batch_size, d.n_samples)
    cdef bint vr = s.variance_reduced
    # SVRG interleaves V and M row by row (ld = 2K): a nonzero x_ij then
    # reads one contiguous 2K-double block instead of two far-apart rows.
    cdef Py_ssize_t ld = 2 * K if vr else K
    residual = np.empty((B, K), dtype=np.float64)
    snap_R = np.zeros((d.n_samples if vr else 1, K), dtype=np.float64)
    if vr:
        store = np.zeros((n_features, 2 * K), dtype=np.float64)
        store[:, :K] = np.asarray(W)
    else:
        store = W
    mean_b = np.zeros(K, dtype=np.float64)
    best_W = np.empty((n_features if s.track_objective else 0, K), dtype=np.float64)
    best_b = np.empty(K, dtype=np.float64)
    order = np.arange(d.n_samples, dtype=np.intp)
    cdef double[:, ::1] G = residual
    cdef double[:, ::1] Rv = snap_R
    cdef double[:, ::1] Sv = store
    cdef double[::1] mbv = mean_b
    cdef double[:, ::1] Vb = best_W
    cdef double[::1] bb = best_b
    cdef Py_ssize_t[::1] order_v = order
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL

    cdef Weights w
    w.V = &Sv[0, 0] if n_features > 0 else NULL
    w.M = w.V + K if (vr and n_features > 0) else NULL
    w.b = &intercept[0]
    w.n_features = n_features
    w.K = K
    w.ld = ld
    w.scale = 1.0
    w.beta = 0.0
    cdef Snapshot snap
    snap.R = &Rv[0, 0]
    snap.m_b = &mbv[0]
    cdef Monitor mon
    mon.eta = s.eta0
    mon.obj = 0.0
    mon.best = INFINITY
    mon.start_obj = INFINITY
    mon.no_improve = 0
    mon.decreases = 0
    mon.rose = False
    mon.status = MAX_ITER
    mon.curve = NULL
    mon.n_curve = 0
    mon.curve_cap = 0
    mon.curve_full = False
    cdef double* Vbest = &Vb[0, 0] if (n_features > 0 and s.track_objective) else NULL
    cdef double* g = &G[0, 0]
    cdef uint64_t state = rng_seed(seed)
    cdef Py_ssize_t j, c
    cdef int epoch = 0, stopped = 0

    with nogil:
        if s.reference:
            # Pin class 0: its column and intercept are zero and never move.
            for j in range(n_features):
                w.V[j * ld] = 0.0
            w.b[0] = 0.0
        if not s.fit_intercept:
            for c in range(K):
                w.b[c] = 0.0
        while True:
            if s.track_objective and _end_of_epoch(
                    X_data, X_ind, &indptr[0], d, &w, s, &snap, &mon, epoch,
                    Vbest, &bb[0], g):
                break
            if epoch >= s.max_iter:
                break
            if s.schedule == LR_INVSCALING:
                mon.eta = s.eta0 / pow(<double>(s.epoch_offset + epoch + 1), s.power_t)
            if vr:
                stopped = _epoch(X_data, X_ind, &indptr[0], d, &w, s, &snap,
                                 &order_v[0], &state, mon.eta, g, <short>0)
            else:
                stopped = _epoch(X_data, X_ind, &indptr[0], d, &w, s, &snap,
                                 &order_v[0], &state, mon.eta, g, <char>0)
            epoch += 1
            if stopped or poll(d.stop):
                mon.status = INTERRUPTED
                break
        if s.track_objective and mon.status != INTERRUPTED:
            if mon.status != DIVERGED and mon.obj > mon.best:
                _restore(&w, Vbest, &bb[0])
            w.scale = 1.0
            w.beta = 0.0
        _fold(&w)
    if vr:
        np.asarray(W)[:, :] = store[:, :K]
    curve = np.empty(mon.n_curve, dtype=np.float64)
    cdef double[::1] curve_v = curve
    if mon.n_curve > 0:
        memcpy(&curve_v[0], mon.curve, mon.n_curve * sizeof(double))
    free(mon.curve)
    if mon.curve_full:
        raise MemoryError("minibatch_sgd: the loss curve could not grow past %d epochs."
                          % mon.n_curve)
    return epoch, mon.status, mon.eta, curve


def objective(X, const int32_t[::1] y, const double[::1] sample_weight,
              double[:, ::1] W, double[::1] intercept, double C):
    """``J(W, b)`` for feature-major ``W`` (n_features x K); input as above."""
    cdef Data d = _checked_data(X, y, sample_weight, W, intercept, "objective")
    if X.data.dtype == np.float32:
        if X.indices.dtype == np.int32:
            return _objective_run[float, int32_t](X.data, X.indices, X.indptr, &d, W, intercept, C)
        return _objective_run[float, int64_t](X.data, X.indices, X.indptr, &d, W, intercept, C)
    if X.indices.dtype == np.int32:
        return _objective_run[double, int32_t](X.data, X.indices, X.indptr, &d, W, intercept, C)
    return _objective_run[double, int64_t](X.data, X.indices, X.indptr, &d, W, intercept, C)


cdef double _objective_run(const floating[::1] data, const index_t[::1] indices,
                           const index_t[::1] indptr, const Data* d,
                           double[:, ::1] W, double[::1] intercept, double C):
    cdef Weights w
    w.V = &W[0, 0] if W.shape[0] > 0 else NULL
    w.M = NULL
    w.b = &intercept[0]
    w.n_features = W.shape[0]
    w.K = W.shape[1]
    w.ld = W.shape[1]
    w.scale = 1.0
    w.beta = 0.0
    z = np.empty(w.K, dtype=np.float64)
    cdef double[::1] zv = z
    cdef double obj
    with nogil:
        obj = _objective(&data[0] if data.shape[0] > 0 else NULL,
                         &indices[0] if indices.shape[0] > 0 else NULL,
                         &indptr[0], d, &w, C, &zv[0])
    return obj
