"""PASSCoDe-Wild: lock-free parallel dual coordinate descent, kept for measurement.

This is the dual coordinate descent kernel of fastlinear as it was when it
also ran parallel passes (rule 8 below), frozen here with its tests so that
the measurement in ``bench/results/EXPERIMENTS.md`` can be repeated:
``python bench/passcode/build.py`` builds it in place, ``pytest
bench/passcode`` tests it, ``python bench/passcode/measure.py`` times it
against the serial kernel.  fastlinear's estimators do not use it: on two
cores it was slower than the serial kernel.

Dual coordinate descent for the L2-regularised linear SVM on CSR data.

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
7. Memory is the bottleneck, not arithmetic: in random order every sample is
   a cache miss.  Per-sample scalars are read straight from the caller's
   arrays (no per-sample copies: the extra memory stays a few bytes per
   row), ``Qbar_ii`` is recomputed in the same pass as ``w.x_i`` (free: that
   loop waits on loads of ``w``), and the scalars, then the row, of the
   samples a few steps ahead in the order are prefetched.
8. ``n_threads > 1`` runs PASSCoDe-Wild (Hsieh, Yu & Dhillon, ICML 2015):
   the samples are split into one block per thread, each thread runs the
   same pass (own random order, own shrinking) over its block, all updating
   the shared ``w`` without locks.  Lost updates make ``w`` drift from
   ``sum_i y_i a_i x_i``, so once the parallel passes meet ``tol`` the kernel
   recomputes ``w`` from ``a`` exactly and finishes with serial passes: the
   stopping rule, and so the solution's quality, is the serial one.  Only
   ``n_threads = 1`` is deterministic.
"""
import numpy as np

from libc.math cimport INFINITY, fabs, isfinite
from libc.stdint cimport uint64_t
from cython cimport floating
from cython.parallel cimport parallel, threadid

from _prefetch cimport prefetch
from _random cimport rng_seed, shuffle
from _sparse cimport index_t, row_axpy, row_dot_sqnorm, row_sqnorm


cdef inline int csr_check(const index_t* indices, const index_t* indptr,
                          Py_ssize_t n_rows, Py_ssize_t n_cols, Py_ssize_t nnz,
                          Py_ssize_t* bad_row) noexcept nogil:
    """0 when the CSR arrays are readable; 1 (indptr) or 2 (an index) otherwise."""
    cdef Py_ssize_t i, k, start, end
    if indptr[0] != 0 or indptr[n_rows] != nnz:
        bad_row[0] = 0 if indptr[0] != 0 else n_rows - 1
        return 1
    for i in range(n_rows):
        start = indptr[i]
        end = indptr[i + 1]
        if end < start or end > nnz:
            bad_row[0] = i
            return 1
        for k in range(start, end):
            if indices[k] < 0 or indices[k] >= n_cols:
                bad_row[0] = i
                return 2
    return 0


cpdef enum Loss:
    LOSS_HINGE = 1           # liblinear -s 3: L1-loss dual
    LOSS_SQUARED_HINGE = 2   # liblinear -s 1: L2-loss dual


cdef enum:
    ROW_PREFETCH = 4       # rows are prefetched this many coordinates ahead
    SAMPLE_PREFETCH = 8    # per-sample scalars, this many ahead


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
                int verbose=0,
                int n_threads=1,
                double sigma=1.0,
                bint w_from_alpha=True):
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
    n_threads : threads for PASSCoDe-Wild passes (1: serial, deterministic).
    sigma : the CoCoA+ subproblem scaling sigma' (1 for the plain problem).
        With ``sigma > 1`` the kernel solves the local subproblem of a block
        of a distributed problem: ``Qbar_ii`` uses ``sigma ||x_i||^2`` and
        each step moves ``w`` by ``sigma`` times the usual amount, so on exit
        ``(w_out - w_in) / sigma`` is the block's ``Delta w`` (Ma, Smith,
        Jaggi et al., ICML 2015).
    w_from_alpha : if True (the default), ``w`` is set to
        ``sum_i y_i alpha_i x_i`` on entry; if False, ``w`` is taken as given
        (the global ``w`` of a CoCoA+ round).

    Returns
    -------
    n_iter : int
        Outer iterations run; ``n_iter == max_iter`` means not converged.
    violation : float
        ``max PG - min PG`` of the last pass.
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef Py_ssize_t n_features = w.shape[0] - 1
    if n_samples < 0 or n_features < 0:
        raise ValueError("indptr and w must have at least one element.")
    if (y.shape[0] != n_samples or sample_C.shape[0] != n_samples
            or alpha.shape[0] != n_samples):
        raise ValueError("y, sample_C and alpha must have n_samples = %d elements."
                         % n_samples)
    if data.shape[0] != indices.shape[0]:
        raise ValueError("data and indices must have the same length.")
    if loss != LOSS_HINGE and loss != LOSS_SQUARED_HINGE:
        raise ValueError("loss must be LOSS_HINGE (1) or LOSS_SQUARED_HINGE (2).")
    if not (tol > 0) or max_iter < 1 or n_threads < 1:
        raise ValueError("tol must be > 0, max_iter >= 1 and n_threads >= 1.")
    if not isfinite(bias):
        raise ValueError("bias must be finite.")
    if not (sigma >= 1.0) or not isfinite(sigma):
        raise ValueError("sigma must be a finite number >= 1.")
    if n_threads > 1 and (sigma != 1.0 or not w_from_alpha):
        raise ValueError("n_threads > 1 needs sigma = 1 and w_from_alpha=True.")

    order = np.empty(max(n_samples, 1), dtype=np.intp)
    cdef Py_ssize_t[::1] order_v = order
    cdef const floating* data_p = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef int status
    cdef Py_ssize_t bad_row = -1, n_total = 0
    cdef int n_iter = 0
    cdef double violation = INFINITY

    if n_samples == 0:
        w[:] = 0.0
        return 0, 0.0
    with nogil:
        status = _prepare(data_p, indices_p, &indptr[0], n_samples, n_features,
                          indices.shape[0], &y[0], &sample_C[0], &alpha[0], loss,
                          bias, &w[0], &order_v[0], &n_total, w_from_alpha,
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
        raise ValueError("The warm-start alpha is outside [0, U_i] at row %d."
                         % bad_row)
    if status == 6:
        raise ValueError("The given w has NaN or infinite entries.")

    n_threads = <int>min(<Py_ssize_t>n_threads, max(n_total // 1024, 1))
    if n_threads > 1:
        n_iter = _solve_parallel(data_p, indices_p, &indptr[0], n_samples,
                                 n_features, &y[0], &sample_C[0], &alpha[0],
                                 &w[0], &order_v[0], n_total, loss, bias, tol,
                                 max_iter, seed, shrinking, verbose, n_threads,
                                 &violation)
    with nogil:
        if n_iter < max_iter:
            n_iter += _solve(data_p, indices_p, &indptr[0], n_features, &y[0],
                             &sample_C[0], &alpha[0], &w[0], &order_v[0],
                             n_total, loss, bias, sigma, tol,
                             max_iter - n_iter, seed, shrinking, verbose,
                             &violation)
    if verbose > 0:
        print("\noptimization finished, #iter = %d" % n_iter)
        if n_iter >= max_iter:
            print("WARNING: reaching max number of iterations")
    return n_iter, violation


cdef inline void _box(int loss, double c, double* upper, double* diag) noexcept nogil:
    """The box ``[0, U_i]`` and ``D_ii`` of a sample with cost ``c > 0``."""
    if loss == LOSS_HINGE:
        upper[0] = c
        diag[0] = 0.0
    else:
        upper[0] = INFINITY
        diag[0] = 0.5 / c


cdef int _prepare(const floating* data, const index_t* indices,
                  const index_t* indptr, Py_ssize_t n_samples,
                  Py_ssize_t n_features, Py_ssize_t nnz,
                  const double* y, const double* sample_C, const double* alpha,
                  int loss, double bias, double* w,
                  Py_ssize_t* order, Py_ssize_t* n_total, bint w_from_alpha,
                  Py_ssize_t* bad_row) noexcept nogil:
    """Check the input, list the samples that can move, set ``w`` from ``alpha``.

    With ``w_from_alpha`` False, ``w`` is left as given (checked finite).

    Returns 0, or an error code (see ``dual_cd_csr``) with ``bad_row`` set.
    Samples with ``C_i = 0`` are fixed at 0 and left out of ``order``.
    """
    cdef Py_ssize_t i, k, start, end, n_active = 0
    cdef double c, upper, diag
    cdef int status = csr_check(indices, indptr, n_samples, n_features, nnz, bad_row)
    if status != 0:
        return status
    for i in range(n_samples):
        start = indptr[i]
        end = indptr[i + 1]
        if not isfinite(row_sqnorm(data, start, end) + bias * bias):
            bad_row[0] = i
            return 3
        c = sample_C[i]
        if (y[i] != 1.0 and y[i] != -1.0) or not (c >= 0.0) or not isfinite(c):
            bad_row[0] = i
            return 4
        if c > 0.0:
            _box(loss, c, &upper, &diag)
            order[n_active] = i
            n_active += 1
        else:
            upper = 0.0
        if not (alpha[i] >= 0.0 and alpha[i] <= upper):
            bad_row[0] = i
            return 5
    n_total[0] = n_active
    if w_from_alpha:
        _block_w(data, indices, indptr, n_features, y, alpha, order, n_active,
                 bias, w)
    else:
        for k in range(n_features + 1):
            if not isfinite(w[k]):
                bad_row[0] = -1
                return 6
    return 0


cdef inline void _prefetch_row(const floating* data, const index_t* indices,
                               Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    """Ask for every cache line of a row's values and indices."""
    cdef Py_ssize_t k
    k = start
    while k < end:
        prefetch(&data[k])
        k += 64 // sizeof(floating)
    k = start
    while k < end:
        prefetch(&indices[k])
        k += 64 // sizeof(index_t)


cdef Py_ssize_t _epoch(const floating* data, const index_t* indices,
                       const index_t* indptr, Py_ssize_t n_features,
                       const double* y, const double* sample_C, double* alpha,
                       double* w, Py_ssize_t* order, Py_ssize_t n_active,
                       int loss, double bias, double sigma, bint shrinking,
                       double pg_max_old, double pg_min_old,
                       double* pg_max_new, double* pg_min_new,
                       uint64_t* state) noexcept nogil:
    """One pass over ``order[:n_active]``, in that order (shuffle it first).

    Returns the new active set size: shrunk variables are swapped behind it.
    ``pg_max_new``/``pg_min_new`` receive the extreme projected gradients.
    """
    cdef Py_ssize_t s = 0, i, j, start, end
    cdef double G, PG, d, a_old, a_new, yi, upper, diag, qd, sq, dot
    cdef double pmax = -INFINITY, pmin = INFINITY
    cdef double bias_sq = bias * bias
    while s < n_active:
        if s + SAMPLE_PREFETCH < n_active:
            j = order[s + SAMPLE_PREFETCH]
            prefetch(&indptr[j])
            prefetch(&alpha[j])
            prefetch(&y[j])
            prefetch(&sample_C[j])
        if s + ROW_PREFETCH < n_active:
            j = order[s + ROW_PREFETCH]
            _prefetch_row(data, indices, indptr[j], indptr[j + 1])
        i = order[s]
        start = indptr[i]
        end = indptr[i + 1]
        yi = y[i]
        a_old = alpha[i]
        _box(loss, sample_C[i], &upper, &diag)
        dot = row_dot_sqnorm(data, indices, start, end, w, &sq)
        G = yi * (dot + w[n_features] * bias) - 1.0 + a_old * diag
        PG = 0.0
        if a_old == 0.0:
            if G > pg_max_old and shrinking:
                n_active -= 1
                order[s] = order[n_active]
                order[n_active] = i
                continue
            elif G < 0.0:
                PG = G
        elif a_old == upper:
            if G < pg_min_old and shrinking:
                n_active -= 1
                order[s] = order[n_active]
                order[n_active] = i
                continue
            elif G > 0.0:
                PG = G
        else:
            PG = G
        if PG > pmax:
            pmax = PG
        if PG < pmin:
            pmin = PG
        if fabs(PG) > 1.0e-12:
            qd = sigma * (sq + bias_sq) + diag
            if qd > 0.0:
                a_new = a_old - G / qd
                if a_new < 0.0:
                    a_new = 0.0
                elif a_new > upper:
                    a_new = upper
            else:
                # An empty row without intercept: the dual objective is
                # linear in a_i (G = -1), so the minimiser is the bound.
                a_new = upper if G < 0.0 else 0.0
            alpha[i] = a_new
            d = (a_new - a_old) * yi * sigma
            if d != 0.0:
                row_axpy(d, data, indices, start, end, w)
                w[n_features] += d * bias
        s += 1
    pg_max_new[0] = pmax
    pg_min_new[0] = pmin
    return n_active


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, Py_ssize_t n_features,
                const double* y, const double* sample_C, double* alpha,
                double* w, Py_ssize_t* order, Py_ssize_t n_total, int loss,
                double bias, double sigma, double tol, int max_iter,
                uint64_t seed, bint shrinking, int verbose,
                double* violation) noexcept nogil:
    """Serial passes until ``max PG - min PG <= tol`` over all variables."""
    cdef Py_ssize_t n_active = n_total
    cdef uint64_t state = rng_seed(seed)
    cdef double pg_max_old = INFINITY, pg_min_old = -INFINITY
    cdef double pg_max_new, pg_min_new
    cdef int n_iter = 0

    while n_iter < max_iter:
        shuffle(order, n_active, &state)
        n_active = _epoch(data, indices, indptr, n_features, y, sample_C,
                          alpha, w, order, n_active, loss, bias, sigma,
                          shrinking,
                          pg_max_old, pg_min_old, &pg_max_new, &pg_min_new,
                          &state)
        n_iter += 1
        if verbose > 0 and n_iter % 10 == 0:
            with gil:
                print(".", end="", flush=True)
        violation[0] = pg_max_new - pg_min_new
        if pg_max_new - pg_min_new <= tol:
            if n_active == n_total:
                break
            # Shrinking may have hidden violators: one full pass decides.
            n_active = n_total
            if verbose > 0:
                with gil:
                    print("*", end="", flush=True)
            pg_max_old = INFINITY
            pg_min_old = -INFINITY
            continue
        pg_max_old = pg_max_new if pg_max_new > 0.0 else INFINITY
        pg_min_old = pg_min_new if pg_min_new < 0.0 else -INFINITY
    return n_iter


cdef void _block_w(const floating* data, const index_t* indices,
                   const index_t* indptr, Py_ssize_t n_features,
                   const double* y, const double* alpha, const Py_ssize_t* order,
                   Py_ssize_t n, double bias, double* w) noexcept nogil:
    """``w = sum y_i a_i x_i`` over the samples ``order[:n]`` (bias weight last)."""
    cdef Py_ssize_t t, i
    for t in range(n_features + 1):
        w[t] = 0.0
    for t in range(n):
        i = order[t]
        if alpha[i] != 0.0:
            row_axpy(y[i] * alpha[i], data, indices, indptr[i], indptr[i + 1], w)
            w[n_features] += y[i] * alpha[i] * bias


cdef int _solve_parallel(const floating* data, const index_t* indices,
                         const index_t* indptr, Py_ssize_t n_samples,
                         Py_ssize_t n_features, const double* y,
                         const double* sample_C, double* alpha, double* w,
                         Py_ssize_t* order, Py_ssize_t n_total, int loss,
                         double bias, double tol, int max_iter, uint64_t seed,
                         bint shrinking, int verbose, int n_threads,
                         double* violation):
    """PASSCoDe-Wild passes (rule 8); returns the number of passes run.

    Each pass shuffles the whole active set, cuts it into one contiguous
    piece per thread, and the threads run ``_epoch`` on their pieces at once
    (a fixed partition would make the visiting order partly cyclic, which
    was measured to stall).  Variables shrunk by any thread are then moved
    behind the active ones.  After every pass ``w`` is recomputed from
    ``alpha`` (each thread sums its piece, thread 0 into ``w``, the others
    into private buffers that are then added), so lost updates never
    accumulate.  The caller finishes with serial passes (``_solve``).
    """
    bounds = np.empty(n_threads + 1, dtype=np.intp)
    active = np.empty(n_threads, dtype=np.intp)
    pg_max = np.empty(n_threads, dtype=np.float64)
    pg_min = np.empty(n_threads, dtype=np.float64)
    partial = np.empty((n_threads - 1, n_features + 1), dtype=np.float64)
    cdef Py_ssize_t[::1] lo = bounds, n_act = active
    cdef double[::1] pmax = pg_max, pmin = pg_min
    cdef double[:, ::1] part = partial
    cdef double pg_max_old = INFINITY, pg_min_old = -INFINITY
    cdef double spread, gmax, gmin
    cdef uint64_t state = rng_seed(seed)
    cdef Py_ssize_t t, k, n_active = n_total, head, tmp
    cdef int n_iter = 0

    with nogil:
        while n_iter < max_iter:
            shuffle(order, n_active, &state)
            for t in range(n_threads + 1):
                lo[t] = (n_active * t) // n_threads
            with parallel(num_threads=n_threads):
                t = threadid()
                n_act[t] = _epoch(data, indices, indptr, n_features, y,
                                  sample_C, alpha, w, order + lo[t],
                                  lo[t + 1] - lo[t], loss, bias, 1.0,
                                  shrinking,
                                  pg_max_old, pg_min_old, &pmax[t], &pmin[t],
                                  &state)
            # Gather the pieces' active variables at the front (swaps keep
            # every index in order[:n_total]).
            head = n_act[0]
            for t in range(1, n_threads):
                for k in range(n_act[t]):
                    tmp = order[head + k]
                    order[head + k] = order[lo[t] + k]
                    order[lo[t] + k] = tmp
                head += n_act[t]
            n_active = head
            # Recompute w = sum_i y_i a_i x_i over all variables.
            for t in range(n_threads + 1):
                lo[t] = (n_total * t) // n_threads
            with parallel(num_threads=n_threads):
                t = threadid()
                _block_w(data, indices, indptr, n_features, y, alpha,
                         order + lo[t], lo[t + 1] - lo[t], bias,
                         w if t == 0 else &part[t - 1, 0])
            for t in range(n_threads - 1):
                for k in range(n_features + 1):
                    w[k] += part[t, k]
            n_iter += 1
            gmax = -INFINITY
            gmin = INFINITY
            for t in range(n_threads):
                gmax = pmax[t] if pmax[t] > gmax else gmax
                gmin = pmin[t] if pmin[t] < gmin else gmin
            spread = gmax - gmin
            violation[0] = spread
            if verbose > 0 and n_iter % 10 == 0:
                with gil:
                    print(".", end="", flush=True)
            if spread <= tol:
                if n_active == n_total:
                    break
                n_active = n_total
                pg_max_old = INFINITY
                pg_min_old = -INFINITY
                continue
            pg_max_old = gmax if gmax > 0.0 else INFINITY
            pg_min_old = gmin if gmin < 0.0 else -INFINITY
    if verbose > 0:
        print("+", end="", flush=True)
    return n_iter
