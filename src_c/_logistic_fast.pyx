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
beta * M`` with two scalars (``beta <- (1 - eta lam) beta - eta``), so a step
still costs O(nnz(B) K); the logits read ``scale V + beta M`` row by row.

Design rules of this module:

1. The kernel reads the caller's CSR arrays as they are: ``floating`` values
   (float32 stays float32), ``int32``/``int64`` indices; every accumulation
   and the weights are float64.  Softmax subtracts the row maximum.
2. Learning rate per epoch ``e`` (0-based, plus ``epoch_offset`` for
   ``partial_fit``): ``constant``: ``eta0``; ``invscaling``:
   ``eta0 / (e + 1) ** power_t``; ``adaptive``: ``eta0``, divided by 5 (at
   most ``max_decreases`` times, restarting from the best weights) when
   ``n_iter_no_change`` epochs fail to lower the best objective by
   ``tol * |best|`` *and* the objective rose meanwhile (noise: a step too
   long), or when it explodes.  Otherwise such a stall means convergence and
   the kernel stops, whatever the schedule.
3. The full objective ``J`` is evaluated at the start of every epoch and
   after the last one (a forward pass; for SVRG the snapshot pass) and
   recorded in ``curve``; the weights with the lowest ``J`` are kept and
   returned.  A non-finite or exploding objective (above 10x the starting
   one) restores the best weights and divides the step by 5 (adaptive) or
   stops with ``DIVERGED``.
4. The random permutation comes from the seeded generator of ``_random.pxd``
   and is shuffled again each epoch: the same seed gives the same iterates,
   bit for bit.
5. Every loop is bounded (epochs by ``max_iter``, batches by ``n_samples``).
   The kernel checks what it reads (``indptr`` monotone and inside
   ``indices``, column indices in ``[0, n_features)``, values finite, labels
   in ``[0, K)``, weights finite and >= 0) before it writes anything.
"""
import numpy as np

from libc.math cimport INFINITY, exp, fabs, isfinite, log, pow
from libc.stdint cimport int32_t, uint64_t
from libc.string cimport memcpy
from cython cimport floating

from _random cimport rng_seed, shuffle
from _prefetch cimport prefetch
from _sparse cimport csr_check, index_t

cpdef enum Schedule:
    LR_CONSTANT = 1
    LR_INVSCALING = 2
    LR_ADAPTIVE = 3

cpdef enum Status:
    CONVERGED = 0
    MAX_ITER = 1
    DIVERGED = 2

cdef enum:
    # Nonzeros ahead whose weight row is prefetched: the kernel is bound by
    # the latency of these random row reads (the weights exceed the cache).
    PREFETCH_AHEAD = 8


cdef inline void _prefetch_row(const double* row, Py_ssize_t n) noexcept nogil:
    """Prefetch the cache lines (8 doubles each) of ``row[0:n]``."""
    cdef Py_ssize_t off
    for off in range(0, n, 8):
        prefetch(row + off)


# The lazy L2 scale is folded into V below this value.
cdef double RESCALE_BELOW = 1e-9
# Adaptive schedule: divide the step by this; an objective above
# EXPLODE_FACTOR x the starting one counts as divergence.
cdef double ADAPTIVE_FACTOR = 5.0
cdef double EXPLODE_FACTOR = 10.0


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
                                 const double* V, Py_ssize_t ld,
                                 const double* b, double scale,
                                 Py_ssize_t K, Py_ssize_t yi,
                                 double* z) noexcept nogil:
    """Logits of one row, then ``z <- p - e_y``; returns ``-log p_y``.

    ``V`` rows are ``ld`` apart (``ld = K``, or ``2K`` when interleaved with
    SVRG's ``M``).
    """
    cdef Py_ssize_t k, c
    cdef double xv
    cdef const double* row
    for c in range(K):
        z[c] = 0.0
    for k in range(start, end):
        if k + PREFETCH_AHEAD < end:
            _prefetch_row(V + <Py_ssize_t>indices[k + PREFETCH_AHEAD] * ld, K)
        xv = data[k]
        row = V + <Py_ssize_t>indices[k] * ld
        for c in range(K):
            z[c] += xv * row[c]
    for c in range(K):
        z[c] = scale * z[c] + b[c]
    return _softmax_residual(z, K, yi)


cdef double _objective(const floating* data, const index_t* indices,
                       const index_t* indptr, Py_ssize_t n_samples,
                       Py_ssize_t n_features, Py_ssize_t K,
                       const int32_t* y, const double* sw,
                       const double* V, Py_ssize_t ld, const double* b,
                       double scale, double C, double* z) noexcept nogil:
    """``J = C sum_i s_i l_i + 1/2 scale^2 ||V||^2`` (a forward pass)."""
    cdef Py_ssize_t i
    cdef double loss = 0.0
    for i in range(n_samples):
        if sw[i] != 0.0:
            loss += sw[i] * _row_residual(data, indices, indptr[i], indptr[i + 1],
                                          V, ld, b, scale, K, y[i], z)
    return C * loss + 0.5 * scale * scale * _sqnorm(V, ld, n_features, K)


cdef double _sqnorm(const double* V, Py_ssize_t ld, Py_ssize_t n_features,
                    Py_ssize_t K) noexcept nogil:
    """``||V||^2`` over the first K entries of each of the n_features rows."""
    cdef Py_ssize_t j, c
    cdef double sq = 0.0
    for j in range(n_features):
        for c in range(K):
            sq += V[j * ld + c] * V[j * ld + c]
    return sq


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


cdef int _check(const floating* data, const index_t* indices, const index_t* indptr,
                Py_ssize_t n_samples, Py_ssize_t n_features, Py_ssize_t nnz,
                Py_ssize_t K, const int32_t* y, const double* sw,
                Py_ssize_t* bad_row) noexcept nogil:
    """0 if the input can be read safely, else an error code with ``bad_row``."""
    cdef Py_ssize_t i, k
    cdef int status = csr_check(indices, indptr, n_samples, n_features, nnz, bad_row)
    if status != 0:
        return status
    for i in range(n_samples):
        for k in range(indptr[i], indptr[i + 1]):
            if not isfinite(data[k]):
                bad_row[0] = i
                return 3
        if y[i] < 0 or y[i] >= K or not (sw[i] >= 0.0) or not isfinite(sw[i]):
            bad_row[0] = i
            return 4
    return 0


cdef double _snapshot(const floating* data, const index_t* indices,
                      const index_t* indptr, Py_ssize_t n_samples,
                      Py_ssize_t n_features, Py_ssize_t K,
                      const int32_t* y, const double* sw, bint reference,
                      const double* V, double* M, Py_ssize_t ld,
                      const double* b, double C,
                      double* R, double* m_b) noexcept nogil:
    """Full pass at the snapshot: objective, residuals and mean gradient.

    ``R[i] = s_i (p_i - y_i)`` (column 0 zero in the reference form),
    ``M = (1/n) sum_i x_i R[i]^T`` (feature-major) and ``m_b = (1/n) sum_i
    R[i]``; returns ``J``.  ``V`` holds the true weights (scale 1); rows of
    ``V`` and ``M`` are ``ld`` apart.
    """
    cdef Py_ssize_t i, k, c, j
    cdef double loss = 0.0, s_i, xv
    cdef double inv_n = 1.0 / <double>n_samples
    cdef double* r
    cdef double* row
    for j in range(n_features):
        for c in range(K):
            M[j * ld + c] = 0.0
    for c in range(K):
        m_b[c] = 0.0
    for i in range(n_samples):
        r = R + i * K
        s_i = sw[i]
        if s_i == 0.0:
            for c in range(K):
                r[c] = 0.0
            continue
        loss += s_i * _row_residual(data, indices, indptr[i], indptr[i + 1],
                                    V, ld, b, 1.0, K, y[i], r)
        for c in range(K):
            r[c] *= s_i * inv_n
        if reference:
            r[0] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            if k + PREFETCH_AHEAD < indptr[i + 1]:
                _prefetch_row(M + <Py_ssize_t>indices[k + PREFETCH_AHEAD] * ld, K)
            xv = data[k]
            row = M + <Py_ssize_t>indices[k] * ld
            for c in range(K):
                row[c] += xv * r[c]
        for c in range(K):
            m_b[c] += r[c]
            r[c] *= <double>n_samples
    return C * loss + 0.5 * _sqnorm(V, ld, n_features, K)


def minibatch_sgd(const floating[::1] data,
                  const index_t[::1] indices,
                  const index_t[::1] indptr,
                  const int32_t[::1] y,
                  const double[::1] sample_weight,
                  double[:, ::1] W,
                  double[::1] intercept,
                  double[::1] curve,
                  double C,
                  double lam,
                  bint fit_intercept,
                  bint reference,
                  bint variance_reduced,
                  int schedule,
                  double eta0,
                  double power_t,
                  int batch_size,
                  int max_iter,
                  double tol,
                  int n_iter_no_change,
                  int max_decreases,
                  bint track_objective,
                  int epoch_offset,
                  uint64_t seed,
                  int verbose=0):
    """Run up to ``max_iter`` epochs of mini-batch gradient descent, in place.

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X, shape (n_samples, n_features).
    y : int32 array of shape (n_samples,), class indices in ``[0, K)``.
    sample_weight : float64 array of shape (n_samples,), finite, >= 0.
    W : float64 array of shape (n_features, K), C-contiguous: the start point
        on entry, the solution on exit (feature-major, true weights).
    intercept : float64 array of shape (K,), start point / solution.
    curve : float64 array of shape (max_iter,), receives ``J`` per epoch
        (only with ``track_objective``).
    C : the C of ``J`` (only scales the recorded objective).
    lam : the L2 coefficient of the averaged objective, ``1 / (C n)``.
    fit_intercept : whether ``intercept`` moves.
    reference : freeze column 0 (``w_0 = 0, b_0 = 0``): the reference form.
    variance_reduced : use the SVRG control variate (module docstring);
        implies ``track_objective``.
    schedule : LR_CONSTANT, LR_INVSCALING or LR_ADAPTIVE.
    eta0, power_t : learning-rate parameters; ``eta0 * lam < 1``.
    batch_size : rows per mini-batch (>= 1).
    max_iter : maximal number of epochs (>= 1).
    tol, n_iter_no_change, max_decreases : stopping rule (module docstring).
    track_objective : evaluate ``J`` at the start of each epoch and after the
        last (stopping, best weights, ``curve``).  Without it the kernel runs
        exactly ``max_iter`` epochs and returns the last iterate
        (``partial_fit``).
    epoch_offset : epochs already run (``invscaling`` in ``partial_fit``).
    seed : seed of the row permutations.
    verbose : > 0 prints the objective after each epoch.

    Returns
    -------
    n_iter : int
        Epochs run.
    status : int
        CONVERGED, MAX_ITER or DIVERGED.
    eta : float
        The learning rate at the end (adaptive may have divided it).
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef Py_ssize_t n_features = W.shape[0]
    cdef Py_ssize_t K = W.shape[1]
    if n_samples < 0:
        raise ValueError("indptr must have at least one element.")
    if y.shape[0] != n_samples or sample_weight.shape[0] != n_samples:
        raise ValueError("y and sample_weight must have n_samples = %d elements."
                         % n_samples)
    if data.shape[0] != indices.shape[0]:
        raise ValueError("data and indices must have the same length.")
    if K < 2 or intercept.shape[0] != K:
        raise ValueError("W must have K >= 2 columns and intercept K entries.")
    if batch_size < 1 or max_iter < 1 or n_iter_no_change < 1 or max_decreases < 0:
        raise ValueError("batch_size, max_iter and n_iter_no_change must be >= 1.")
    if variance_reduced:
        track_objective = True
    if track_objective and curve.shape[0] < max_iter + 1:
        raise ValueError("curve must have max_iter + 1 entries.")
    if not (eta0 > 0.0) or not (eta0 * lam < 1.0) or not (lam >= 0.0):
        raise ValueError("eta0 must be > 0 with eta0 * lam < 1; got eta0=%r, lam=%r."
                         % (eta0, lam))
    if schedule != LR_CONSTANT and schedule != LR_INVSCALING and schedule != LR_ADAPTIVE:
        raise ValueError("unknown learning-rate schedule %d." % schedule)

    cdef Py_ssize_t bad_row = -1
    cdef int code = 0
    if n_samples > 0:
        with nogil:
            code = _check(&data[0] if data.shape[0] > 0 else NULL,
                          &indices[0] if indices.shape[0] > 0 else NULL,
                          &indptr[0], n_samples, n_features, indices.shape[0],
                          K, &y[0], &sample_weight[0], &bad_row)
    _raise_check(code, bad_row, n_features, K)
    if n_samples == 0:
        return 0, int(MAX_ITER), eta0

    cdef Py_ssize_t B = min(<Py_ssize_t>batch_size, n_samples)
    cdef Py_ssize_t n_keep = n_samples if variance_reduced else 0
    # SVRG interleaves V and M row by row (ld = 2K): a nonzero x_ij then
    # reads one contiguous 2K-double block instead of two far-apart rows.
    cdef Py_ssize_t ld = 2 * K if variance_reduced else K
    residual = np.empty((B, K), dtype=np.float64)
    snap_R = np.zeros((max(n_keep, 1), K), dtype=np.float64)
    if variance_reduced:
        store = np.zeros((n_features, 2 * K), dtype=np.float64)
        store[:, :K] = np.asarray(W)
    else:
        store = W
    mean_b = np.zeros(K, dtype=np.float64)
    best_W = np.empty((n_features if track_objective else 0, K), dtype=np.float64)
    best_b = np.empty(K, dtype=np.float64)
    order = np.arange(n_samples, dtype=np.intp)
    cdef double[:, ::1] G = residual
    cdef double[:, ::1] Rv = snap_R
    cdef double[:, ::1] Sv = store
    cdef double[::1] mbv = mean_b
    cdef double[:, ::1] Vb = best_W
    cdef double[::1] bb = best_b
    cdef Py_ssize_t[::1] order_v = order
    cdef double* V = &Sv[0, 0] if n_features > 0 else NULL
    cdef double* Vbest = &Vb[0, 0] if (n_features > 0 and track_objective) else NULL
    cdef double* g = &G[0, 0]
    cdef double* R = &Rv[0, 0]
    cdef double* M = V + K if n_features > 0 else NULL
    cdef double* m_b = &mbv[0]
    cdef double* bvec = &intercept[0]
    cdef double* bbest = &bb[0]
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const index_t* X_ptr = &indptr[0]
    cdef const int32_t* Y = &y[0]
    cdef const double* sw = &sample_weight[0]

    cdef uint64_t state = rng_seed(seed)
    # W = scale * V + beta * M  (beta stays 0 without variance reduction)
    cdef double scale = 1.0, beta = 0.0
    cdef double eta = eta0, decay, a, s_i, gsum, obj = 0.0, best = INFINITY
    cdef double start_obj = INFINITY, xv, a_s
    cdef Py_ssize_t epoch, start, bsz, r, i, k, c, j
    cdef const double* gr
    cdef double* row
    cdef int n_iter = 0, no_improve = 0, decreases = 0
    cdef bint rose = False, stop = False
    cdef int status = MAX_ITER

    with nogil:
        if reference:
            # Pin class 0: its column and intercept are zero and never move.
            for j in range(n_features):
                V[j * ld] = 0.0
            bvec[0] = 0.0
        if not fit_intercept:
            for c in range(K):
                bvec[c] = 0.0

        epoch = 0
        while True:
            if track_objective:
                # The snapshot: fold W into V, evaluate J (and the full
                # gradient for SVRG), keep the best weights, decide.
                _fold(V, M, ld, n_features, K, &scale, &beta)
                if variance_reduced:
                    obj = _snapshot(X_data, X_ind, X_ptr, n_samples, n_features,
                                    K, Y, sw, reference, V, M, ld, bvec, C, R, m_b)
                else:
                    obj = _objective(X_data, X_ind, X_ptr, n_samples, n_features,
                                     K, Y, sw, V, ld, bvec, 1.0, C, g)
                curve[epoch] = obj
                if epoch == 0:
                    start_obj = obj
                elif verbose > 0:
                    with gil:
                        print("-- Epoch %d: objective %.10g, learning rate %.4g"
                              % (epoch, obj, eta), flush=True)
                stop = False
                if not isfinite(obj) or obj > EXPLODE_FACTOR * start_obj + 1.0:
                    # Diverging: back to the best weights, smaller step.
                    _restore(V, ld, Vbest, n_features, bvec, bbest, K)
                    if variance_reduced:
                        obj = _snapshot(X_data, X_ind, X_ptr, n_samples,
                                        n_features, K, Y, sw, reference, V, M, ld, bvec,
                                        C, R, m_b)
                    if schedule != LR_ADAPTIVE or decreases >= max_decreases:
                        status = DIVERGED
                        break
                    eta /= ADAPTIVE_FACTOR
                    decreases += 1
                    no_improve = 0
                    rose = False
                else:
                    if obj < best - tol * fabs(best):
                        no_improve = 0
                        rose = False
                    else:
                        no_improve += 1
                        if obj > best:
                            rose = True
                    if obj < best:
                        best = obj
                        _copy_rows(Vbest, K, V, ld, n_features, K)
                        memcpy(bbest, bvec, K * sizeof(double))
                    if no_improve >= n_iter_no_change:
                        if (schedule == LR_ADAPTIVE and rose
                                and decreases < max_decreases):
                            # Noise, not convergence: a smaller step from the
                            # best weights.
                            eta /= ADAPTIVE_FACTOR
                            decreases += 1
                            no_improve = 0
                            rose = False
                            if obj > best:
                                _restore(V, ld, Vbest, n_features, bvec, bbest, K)
                                if variance_reduced:
                                    _snapshot(X_data, X_ind, X_ptr, n_samples,
                                              n_features, K, Y, sw, reference,
                                              V, M, ld, bvec, C, R, m_b)
                        else:
                            status = CONVERGED
                            break
            if epoch >= max_iter:
                break

            if schedule == LR_INVSCALING:
                eta = eta0 / pow(<double>(epoch_offset + epoch + 1), power_t)
            decay = 1.0 - eta * lam
            shuffle(&order_v[0], n_samples, &state)
            start = 0
            while start < n_samples:
                bsz = min(B, n_samples - start)
                # Forward: residuals s_i (p_i - y_i) at the current weights,
                # minus the snapshot's for SVRG.
                for r in range(bsz):
                    i = order_v[start + r]
                    s_i = sw[i]
                    if s_i == 0.0:
                        for c in range(K):
                            g[r * K + c] = 0.0
                        continue
                    if variance_reduced:
                        _row_residual_vr(X_data, X_ind, X_ptr[i], X_ptr[i + 1],
                                         V, M, ld, bvec, scale, beta, K, Y[i],
                                         g + r * K)
                    else:
                        _row_residual(X_data, X_ind, X_ptr[i], X_ptr[i + 1],
                                      V, ld, bvec, scale, K, Y[i], g + r * K)
                    if s_i != 1.0:
                        for c in range(K):
                            g[r * K + c] *= s_i
                    if reference:
                        g[r * K] = 0.0
                    if variance_reduced:
                        for c in range(K):
                            g[r * K + c] -= R[i * K + c]
                # L2 term (and SVRG's mean gradient): lazily, in scalars.
                scale *= decay
                if variance_reduced:
                    beta = decay * beta - eta
                # Loss term: W <- W - eta/|B| sum_i x_i g_i^T, rows of x_i only.
                a = eta / <double>bsz
                a_s = -a / scale
                for r in range(bsz):
                    i = order_v[start + r]
                    gr = g + r * K
                    for k in range(X_ptr[i], X_ptr[i + 1]):
                        xv = a_s * X_data[k]
                        row = V + <Py_ssize_t>X_ind[k] * ld
                        for c in range(K):
                            row[c] += xv * gr[c]
                if fit_intercept:
                    for c in range(K):
                        gsum = 0.0
                        for r in range(bsz):
                            gsum += g[r * K + c]
                        bvec[c] -= a * gsum
                        if variance_reduced:
                            bvec[c] -= eta * m_b[c]
                if scale < RESCALE_BELOW:
                    for j in range(n_features):
                        for c in range(K):
                            V[j * ld + c] *= scale
                    scale = 1.0
                start += bsz
            epoch += 1
            n_iter = epoch

        if track_objective:
            if status != DIVERGED and obj > best:
                _restore(V, ld, Vbest, n_features, bvec, bbest, K)
            scale = 1.0
            beta = 0.0
        _fold(V, M, ld, n_features, K, &scale, &beta)
    if variance_reduced:
        np.asarray(W)[:, :] = store[:, :K]
    return n_iter, int(status), eta


cdef inline void _row_residual_vr(const floating* data, const index_t* indices,
                                  Py_ssize_t start, Py_ssize_t end,
                                  const double* V, const double* M, Py_ssize_t ld,
                                  const double* b, double scale, double beta,
                                  Py_ssize_t K, Py_ssize_t yi,
                                  double* z) noexcept nogil:
    """``z <- p - e_y`` for ``W = scale V + beta M`` (SVRG's lazy form)."""
    cdef Py_ssize_t k, c
    cdef double xv
    cdef const double* row
    cdef const double* mrow
    for c in range(K):
        z[c] = 0.0
    # z = scale * x.V + beta * x.M + b, accumulated as x.(scale V + beta M).
    for k in range(start, end):
        if k + PREFETCH_AHEAD < end:
            # V and M rows are interleaved: one block of ld = 2K doubles.
            _prefetch_row(V + <Py_ssize_t>indices[k + PREFETCH_AHEAD] * ld, ld)
        xv = data[k]
        row = V + <Py_ssize_t>indices[k] * ld
        mrow = M + <Py_ssize_t>indices[k] * ld
        for c in range(K):
            z[c] += xv * (scale * row[c] + beta * mrow[c])
    for c in range(K):
        z[c] += b[c]
    _softmax_residual(z, K, yi)


cdef void _fold(double* V, const double* M, Py_ssize_t ld, Py_ssize_t n_features,
                Py_ssize_t K, double* scale, double* beta) noexcept nogil:
    """``V <- scale V + beta M``; ``scale <- 1``, ``beta <- 0``."""
    cdef Py_ssize_t j, c
    cdef double s = scale[0], bt = beta[0]
    if bt != 0.0:
        for j in range(n_features):
            for c in range(K):
                V[j * ld + c] = s * V[j * ld + c] + bt * M[j * ld + c]
    elif s != 1.0:
        for j in range(n_features):
            for c in range(K):
                V[j * ld + c] *= s
    scale[0] = 1.0
    beta[0] = 0.0


cdef void _restore(double* V, Py_ssize_t ld, const double* Vbest,
                   Py_ssize_t n_features, double* b, const double* bbest,
                   Py_ssize_t K) noexcept nogil:
    _copy_rows(V, ld, Vbest, K, n_features, K)
    memcpy(b, bbest, K * sizeof(double))


cdef _raise_check(int code, Py_ssize_t bad_row, Py_ssize_t n_features, Py_ssize_t K):
    if code == 1:
        raise ValueError("CSR structure is broken at row %d: indptr must be "
                         "non-decreasing, start at 0 and end at len(indices)."
                         % bad_row)
    if code == 2:
        raise ValueError("Row %d has a column index outside [0, %d)."
                         % (bad_row, n_features))
    if code == 3:
        raise ValueError("Row %d of X holds NaN or infinity." % bad_row)
    if code == 4:
        raise ValueError("Row %d has a label outside [0, %d) or a sample weight "
                         "that is negative or not finite." % (bad_row, K))


def objective_csr(const floating[::1] data,
                  const index_t[::1] indices,
                  const index_t[::1] indptr,
                  const int32_t[::1] y,
                  const double[::1] sample_weight,
                  const double[:, ::1] W,
                  const double[::1] intercept,
                  double C):
    """``J(W, b)`` for feature-major ``W`` (n_features x K); input as above."""
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef Py_ssize_t n_features = W.shape[0]
    cdef Py_ssize_t K = W.shape[1]
    cdef Py_ssize_t bad_row = -1
    cdef int code = 0
    if y.shape[0] != n_samples or sample_weight.shape[0] != n_samples or K < 1:
        raise ValueError("y and sample_weight must have n_samples entries.")
    if intercept.shape[0] != K or data.shape[0] != indices.shape[0]:
        raise ValueError("intercept must have K entries.")
    if n_samples > 0:
        with nogil:
            code = _check(&data[0] if data.shape[0] > 0 else NULL,
                          &indices[0] if indices.shape[0] > 0 else NULL,
                          &indptr[0], n_samples, n_features, indices.shape[0],
                          K, &y[0], &sample_weight[0], &bad_row)
    _raise_check(code, bad_row, n_features, K)
    z = np.empty(K, dtype=np.float64)
    cdef double[::1] zv = z
    cdef double obj
    with nogil:
        obj = _objective(&data[0] if data.shape[0] > 0 else NULL,
                         &indices[0] if indices.shape[0] > 0 else NULL,
                         &indptr[0], n_samples, n_features, K,
                         &y[0] if n_samples > 0 else NULL,
                         &sample_weight[0] if n_samples > 0 else NULL,
                         &W[0, 0] if n_features > 0 else NULL, K,
                         &intercept[0], 1.0, C, &zv[0])
    return obj
