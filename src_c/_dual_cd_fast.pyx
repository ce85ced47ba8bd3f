"""Dual coordinate descent for the L2-regularised linear SVM on CSR data.

The problem (liblinear's ``solve_l2r_l1l2_svc``; Hsieh, Chang, Lin, Keerthi &
Sundararajan, "A Dual Coordinate Descent Method for Large-scale Linear SVM",
ICML 2008, Algorithm 3)::

    primal  min_w  1/2 w.w + sum_i C_i xi(w; x_i, y_i)
            xi = max(0, 1 - y_i w.x_i)        (L1 loss, "hinge")
            xi = max(0, 1 - y_i w.x_i)**2     (L2 loss, "squared_hinge")

    dual    min_a  1/2 a.Qbar.a - e.a   s.t.  0 <= a_i <= U_i
            Qbar = Q + D,  Q_ij = y_i y_j x_i.x_j
            L1 loss: U_i = C_i, D_ii = 0;  L2 loss: U_i = inf, D_ii = 1 / (2 C_i)

and ``w = sum_i y_i a_i x_i`` is kept up to date, so the partial derivative
``G_i = y_i w.x_i - 1 + D_ii a_i`` costs one sparse dot product and the
one-variable minimiser is ``a_i <- clip(a_i - G_i / Qbar_ii, 0, U_i)``.

Design rules of this module:

1. The intercept is a virtual constant feature of value ``bias`` appended to
   every row (liblinear's ``-B``): its weight is ``w[n_features]``; with
   ``bias = 0`` that weight never moves.  X is never copied or augmented.
2. The kernel reads the caller's arrays as they are: values are ``floating``
   (float32 stays float32), indices ``int32`` or ``int64``.  ``w``, ``a`` and
   every accumulation are float64.
3. Samples with ``C_i = 0`` (zero sample weight) are left out of the active
   set: their dual variable is fixed at 0 (for the L2 loss ``D_ii`` would be
   infinite).
4. Each outer iteration visits the active set in a fresh random order drawn
   from the seeded generator of ``_random.pxd``: the same seed gives the same
   iterates, bit for bit, whatever the thread scheduling.
5. Shrinking as liblinear: a variable at a bound whose gradient points out of
   the box by more than last iteration's extreme violation leaves the active
   set.  Convergence is ``max PG - min PG <= tol`` over the active set, where
   PG is the projected gradient; after shrinking, one more pass over all
   variables must confirm it before the kernel stops.
6. Every loop is bounded: the outer loop by ``max_iter``, the inner one by the
   active set size, which only decreases.  The kernel checks what it reads
   (``indptr`` monotone and inside ``indices``, every index inside
   ``[0, n_features)``, squared row norms finite) before it writes anything.
"""
import numpy as np

from libc.math cimport INFINITY, fabs, isfinite
from libc.stdint cimport uint64_t
from cython cimport floating

from _random cimport rng_seed, shuffle
from _sparse cimport index_t, row_axpy, row_dot, row_sqnorm

cpdef enum Loss:
    LOSS_HINGE = 1           # liblinear -s 3: L1-loss dual
    LOSS_SQUARED_HINGE = 2   # liblinear -s 1: L2-loss dual

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define FL_PREFETCH(p) __builtin_prefetch((const void*)(p), 0, 1)
    #else
    #define FL_PREFETCH(p) ((void)0)
    #endif
    """
    void FL_PREFETCH(const void* p) noexcept nogil

cdef enum:
    # How many positions ahead in the visiting order rows are prefetched.
    PREFETCH_DISTANCE = 6


def dual_cd_csr(const floating[::1] data,
                const index_t[::1] indices,
                const index_t[::1] indptr,
                const double[::1] y,
                const double[::1] sample_C,
                double[::1] w,
                double[::1] alpha,
                int loss,
                double bias,
                double tol,
                int max_iter,
                uint64_t seed,
                bint shrinking,
                int verbose=0):
    """Solve the dual SVM problem by coordinate descent, in place.

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X, shape (n_samples, n_features).
    y : ndarray of shape (n_samples,), labels in {-1, +1}.
    sample_C : ndarray of shape (n_samples,), the per-sample C_i >= 0.
    w : ndarray of shape (n_features + 1,), output; ``w[n_features]`` is the
        weight of the virtual bias feature.
    alpha : ndarray of shape (n_samples,), dual variables: the start point on
        entry (zeros for a cold start), the solution on exit.
    loss : LOSS_HINGE or LOSS_SQUARED_HINGE.
    bias : value of the virtual constant feature (0 for no intercept).
    tol : stopping tolerance on ``max PG - min PG``.
    max_iter : maximal number of outer iterations (passes).
    seed : seed of the visiting order.
    shrinking : whether to shrink the active set.
    verbose : > 0 prints liblinear-style progress.

    Returns
    -------
    n_iter : int
        Outer iterations run; ``n_iter == max_iter`` means not converged.
    violation : float
        ``max PG - min PG`` of the last pass.
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef Py_ssize_t n_features = w.shape[0] - 1
    if n_samples < 0:
        raise ValueError("indptr must have at least one element.")
    if (y.shape[0] != n_samples or sample_C.shape[0] != n_samples
            or alpha.shape[0] != n_samples):
        raise ValueError("y, sample_C and alpha must have n_samples = %d elements."
                         % n_samples)
    if data.shape[0] != indices.shape[0]:
        raise ValueError("data and indices must have the same length.")
    if loss != LOSS_HINGE and loss != LOSS_SQUARED_HINGE:
        raise ValueError("loss must be LOSS_HINGE (1) or LOSS_SQUARED_HINGE (2).")
    if not (tol > 0) or max_iter < 1:
        raise ValueError("tol must be > 0 and max_iter >= 1.")

    qd = np.empty(n_samples, dtype=np.float64)
    upper = np.empty(n_samples, dtype=np.float64)
    diag = np.empty(n_samples, dtype=np.float64)
    order = np.empty(n_samples, dtype=np.intp)
    cdef double[::1] qd_v = qd, upper_v = upper, diag_v = diag
    cdef Py_ssize_t[::1] order_v = order
    cdef int status
    cdef Py_ssize_t bad_row = -1
    cdef int n_iter = 0
    cdef double violation = INFINITY

    with nogil:
        status = _prepare(&data[0] if data.shape[0] > 0 else NULL,
                          &indices[0] if indices.shape[0] > 0 else NULL,
                          &indptr[0], n_samples, n_features, indices.shape[0],
                          &y[0] if n_samples > 0 else NULL,
                          &sample_C[0] if n_samples > 0 else NULL,
                          &alpha[0] if n_samples > 0 else NULL,
                          loss, bias, &w[0],
                          &qd_v[0] if n_samples > 0 else NULL,
                          &upper_v[0] if n_samples > 0 else NULL,
                          &diag_v[0] if n_samples > 0 else NULL,
                          &bad_row)
    if status == 1:
        raise ValueError("CSR structure is broken at row %d: indptr must be "
                         "non-decreasing and end at len(indices)." % bad_row)
    if status == 2:
        raise ValueError("Row %d has a column index outside [0, %d)."
                         % (bad_row, n_features))
    if status == 3:
        raise ValueError(
            "The squared norm of row %d overflows float64 (values of magnitude "
            "above ~1e154). Rescale X, e.g. with "
            "sklearn.preprocessing.MaxAbsScaler." % bad_row)
    if status == 4:
        raise ValueError("y must be -1 or +1 and sample_C finite and >= 0 "
                         "(row %d)." % bad_row)
    if status == 5:
        raise ValueError("The warm-start alpha is outside [0, U_i] at row %d." % bad_row)

    if n_samples == 0:
        return 0, 0.0
    with nogil:
        n_iter = _solve(&data[0] if data.shape[0] > 0 else NULL,
                        &indices[0] if indices.shape[0] > 0 else NULL,
                        &indptr[0], n_samples, n_features, &y[0], &alpha[0], &w[0],
                        &qd_v[0], &upper_v[0], &diag_v[0], &order_v[0],
                        bias, tol, max_iter, seed, shrinking, verbose,
                        &violation)
    return n_iter, violation


cdef int _prepare(const floating* data, const index_t* indices,
                  const index_t* indptr, Py_ssize_t n_samples,
                  Py_ssize_t n_features, Py_ssize_t nnz,
                  const double* y, const double* sample_C, const double* alpha,
                  int loss, double bias, double* w,
                  double* qd, double* upper, double* diag,
                  Py_ssize_t* bad_row) noexcept nogil:
    """Check the input, set ``Qbar_ii``, ``U_i``, ``D_ii`` and ``w`` from ``alpha``.

    Returns 0, or an error code (see ``dual_cd_csr``) with ``bad_row`` set.
    """
    cdef Py_ssize_t i, k, start, end
    cdef double sq, c
    for k in range(n_features + 1):
        w[k] = 0.0
    if indptr[0] != 0 or indptr[n_samples] != nnz:
        bad_row[0] = 0 if indptr[0] != 0 else n_samples - 1
        return 1
    for i in range(n_samples):
        start = indptr[i]
        end = indptr[i + 1]
        if end < start or end > nnz:
            bad_row[0] = i
            return 1
        for k in range(start, end):
            if indices[k] < 0 or indices[k] >= n_features:
                bad_row[0] = i
                return 2
        sq = row_sqnorm(data, start, end) + bias * bias
        if not isfinite(sq):
            bad_row[0] = i
            return 3
        c = sample_C[i]
        if (y[i] != 1.0 and y[i] != -1.0) or not (c >= 0.0) or not isfinite(c):
            bad_row[0] = i
            return 4
        if loss == LOSS_HINGE:
            upper[i] = c
            diag[i] = 0.0
        elif c > 0.0:
            upper[i] = INFINITY
            diag[i] = 0.5 / c
        else:
            upper[i] = 0.0
            diag[i] = 0.0
        qd[i] = sq + diag[i]
        if not (alpha[i] >= 0.0 and alpha[i] <= upper[i]):
            bad_row[0] = i
            return 5
        if alpha[i] != 0.0:
            row_axpy(y[i] * alpha[i], data, indices, start, end, w)
            w[n_features] += y[i] * alpha[i] * bias
    return 0


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, Py_ssize_t n_samples,
                Py_ssize_t n_features_bias,
                const double* y, double* alpha, double* w,
                const double* qd, const double* upper, const double* diag,
                Py_ssize_t* order, double bias, double tol, int max_iter,
                uint64_t seed, bint shrinking, int verbose,
                double* violation) noexcept nogil:
    """The coordinate descent loop (Algorithm 3 of Hsieh et al., 2008)."""
    cdef Py_ssize_t n_active = 0, s, i, j, start, end
    cdef Py_ssize_t n_total
    cdef uint64_t state = rng_seed(seed)
    cdef double G, PG, d, a_old, a_new, yi
    cdef double pg_max_old = INFINITY, pg_min_old = -INFINITY
    cdef double pg_max_new, pg_min_new
    cdef int n_iter = 0

    # Samples with U_i == 0 can never move: leave them out of the active set.
    for i in range(n_samples):
        if upper[i] > 0.0:
            order[n_active] = i
            n_active += 1
    n_total = n_active

    while n_iter < max_iter:
        pg_max_new = -INFINITY
        pg_min_new = INFINITY
        shuffle(order, n_active, &state)
        s = 0
        while s < n_active:
            if s + PREFETCH_DISTANCE < n_active:
                j = order[s + PREFETCH_DISTANCE]
                FL_PREFETCH(&indices[indptr[j]])
                FL_PREFETCH(&data[indptr[j]])
            i = order[s]
            yi = y[i]
            start = indptr[i]
            end = indptr[i + 1]
            G = yi * (row_dot(data, indices, start, end, w)
                      + w[n_features_bias] * bias) - 1.0 + alpha[i] * diag[i]
            PG = 0.0
            if alpha[i] == 0.0:
                if G > pg_max_old and shrinking:
                    n_active -= 1
                    order[s] = order[n_active]
                    order[n_active] = i
                    continue
                elif G < 0.0:
                    PG = G
            elif alpha[i] == upper[i]:
                if G < pg_min_old and shrinking:
                    n_active -= 1
                    order[s] = order[n_active]
                    order[n_active] = i
                    continue
                elif G > 0.0:
                    PG = G
            else:
                PG = G
            if PG > pg_max_new:
                pg_max_new = PG
            if PG < pg_min_new:
                pg_min_new = PG
            if fabs(PG) > 1.0e-12:
                a_old = alpha[i]
                if qd[i] > 0.0:
                    a_new = a_old - G / qd[i]
                    if a_new < 0.0:
                        a_new = 0.0
                    elif a_new > upper[i]:
                        a_new = upper[i]
                else:
                    # An empty row without intercept: the dual objective is
                    # linear in a_i (G = -1), so the minimiser is the bound.
                    a_new = upper[i] if G < 0.0 else 0.0
                alpha[i] = a_new
                d = (a_new - a_old) * yi
                if d != 0.0:
                    row_axpy(d, data, indices, start, end, w)
                    w[n_features_bias] += d * bias
            s += 1

        n_iter += 1
        if verbose > 0 and n_iter % 10 == 0:
            with gil:
                print(".", end="", flush=True)
        if pg_max_new - pg_min_new <= tol:
            if n_active == n_total:
                violation[0] = pg_max_new - pg_min_new
                break
            # Shrinking may have hidden violators: one full pass decides.
            n_active = n_total
            if verbose > 0:
                with gil:
                    print("*", end="", flush=True)
            pg_max_old = INFINITY
            pg_min_old = -INFINITY
            continue
        violation[0] = pg_max_new - pg_min_new
        pg_max_old = pg_max_new
        pg_min_old = pg_min_new
        if pg_max_old <= 0.0:
            pg_max_old = INFINITY
        if pg_min_old >= 0.0:
            pg_min_old = -INFINITY

    if verbose > 0:
        with gil:
            print("\noptimization finished, #iter = %d" % n_iter)
            if n_iter >= max_iter:
                print("WARNING: reaching max number of iterations")
    return n_iter
