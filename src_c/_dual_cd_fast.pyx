# cython: freethreading_compatible = True
"""Dual coordinate descent for L2-regularised linear SVMs and SVRs on CSR data.

Classification (liblinear's ``solve_l2r_l1l2_svc``; Hsieh, Chang, Lin,
Keerthi & Sundararajan, "A Dual Coordinate Descent Method for Large-scale
Linear SVM", ICML 2008, Algorithm 3)::

    primal  min_w  1/2 w.w + sum_i C_i xi(y_i w.x_i)
            xi(z) = max(0, 1 - z)          (L1 loss, "hinge", liblinear -s 3)
            xi(z) = max(0, 1 - z)**2       (L2 loss, "squared_hinge", -s 1)

    dual    min_a  1/2 a.Qbar.a - e.a   s.t.  0 <= a_i <= U_i
            Qbar = Q + D,  Q_ij = y_i y_j x_i.x_j
            L1 loss: U_i = C_i, D_ii = 0;  L2 loss: U_i = inf, D_ii = 1 / (2 C_i)

with ``w = sum_i y_i a_i x_i`` kept up to date, so the partial derivative
``G_i = y_i w.x_i - 1 + D_ii a_i`` costs one sparse dot product and the
one-variable minimiser is ``a_i <- clip(a_i - G_i / Qbar_ii, 0, U_i)``.
Convergence: ``max PG - min PG <= tol`` over the projected gradient.

Regression (liblinear's ``solve_l2r_l1l2_svr``; Ho & Lin, "Large-scale
Linear Support Vector Regression", JMLR 2012, Algorithm 4)::

    primal  min_w  1/2 w.w + sum_i C_i xi(w.x_i - y_i)
            xi(r) = max(0, |r| - p)        ("epsilon_insensitive", -s 13)
            xi(r) = max(0, |r| - p)**2     ("squared_epsilon_insensitive", -s 12)

    dual    min_b  1/2 b.(Q + diag(lam)).b - y.b + p sum_i |b_i|,  -U_i <= b_i <= U_i
            Q_ij = x_i.x_j;  L1: U_i = C_i, lam_i = 0;  L2: U_i = inf, lam_i = 1/(2 C_i)

with ``w = sum_i b_i x_i``; the one-variable problem has a closed-form
minimiser (a soft threshold at ``p``).  Convergence: the L1 norm of the
minimum-norm subgradient over the variables falls to ``tol`` times its value
in the first pass.

Design rules of this module:

1. The intercept is a virtual constant feature of value ``bias`` appended to
   every row (liblinear's ``-B``): its weight is ``w[n_features]``; with
   ``bias = 0`` that weight never moves.  X is never copied or augmented.
2. X arrives as a ``fastlinear._csr_fast.CSR``: its structure, finite values
   and squared row norms were proved once per fit, so the kernel reads its
   arrays as they are (``floating`` values, float32 stays float32;
   ``int32`` or ``int64`` indices).  It checks what the proof does not cover
   (labels, costs, the start point, shapes) before it writes anything.
   ``w``, ``alpha`` and every accumulation are float64.
3. Samples with ``C_i = 0`` (zero sample weight) are left out of the active
   set: their dual variable is fixed at 0 (for the L2 losses ``D_ii`` would
   be infinite).
4. Each outer iteration visits the active set in a fresh random order drawn
   from the seeded generator of ``_random.pxd``: the same seed gives the same
   iterates, bit for bit.
5. Shrinking as liblinear: a variable at a bound whose gradient points out of
   the box by more than last iteration's extreme violation leaves the active
   set; after shrinking, one more pass over all variables must confirm
   convergence before the kernel stops.
6. Every loop is bounded: the outer loop by ``max_iter``, a pass by the
   active set size, which only decreases.  A step below 1e-12 is skipped
   (liblinear); after ``STALL_PASSES`` passes in a row that changed nothing
   (X's scale so extreme that every step is below it;
   ``_status.stall_after_pass``) the solve ends with ``STALLED`` instead of
   running on to ``max_iter``.  ``_status.poll`` runs once per pass
   and every ``POLL_EVERY`` coordinates, so Ctrl-C and the fit's shared stop
   flag end a solve within milliseconds.
7. Memory is the bottleneck, not arithmetic: in random order every sample is
   a cache miss.  Per-sample scalars are read straight from the caller's
   arrays (the extra memory stays a few bytes per row), ``Qbar_ii`` is
   recomputed in the same pass as ``w.x_i`` (free: that loop waits on loads
   of ``w``), and the scalars, then the row, of the samples a few steps ahead
   in the order are prefetched.
8. ``sigma > 1`` solves the CoCoA+ subproblem of one block of a distributed
   problem (classification only): ``Qbar_ii`` uses ``sigma ||x_i||^2`` and
   each step moves ``w`` by ``sigma`` times the usual amount, so on exit
   ``(w_out - w_in) / sigma`` is the block's ``Delta w`` (Ma, Smith, Jaggi
   et al., ICML 2015).
9. When every stored value is 1 (``X.ones``: a9a, w8a, binary bags of
   words), the classification passes read only the indices: ``w.x_i`` is
   ``sum w[j]``, ``||x_i||^2`` the row's length, a step adds ``d`` to each
   ``w[j]``, and only the indices are prefetched.  The same bits (a factor
   1 is exact); hinge passes 1.05-1.16x faster on a9a, 1.26-1.41x on w8a
   (``bench/results/EXPERIMENTS.md``).

(A lock-free parallel variant, PASSCoDe-Wild, was measured slower than this
serial kernel on two cores; it lives in ``bench/passcode`` with its figures.)
"""
import numpy as np

from libc.math cimport INFINITY, fabs, isfinite
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
from _loss cimport (
    EPSILON_INSENSITIVE,
    HINGE,
    SQUARED_EPSILON_INSENSITIVE,
    SQUARED_HINGE,
    dual_box,
)
from _status cimport CONVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll
from _status cimport STALLED, Stall, stall_after_pass, stall_init

from fastlinear._csr_fast import require_proved

__all__ = ["dual_cd"]


cdef enum:
    ROW_PREFETCH = 4       # rows are prefetched this many coordinates ahead
    SAMPLE_PREFETCH = 8    # per-sample scalars, this many ahead

cdef enum Bad:             # what _prepare refuses (rule 2)
    BAD_LABEL = 1
    BAD_START = 2
    BAD_W = 3


cdef struct Problem:
    # What one pass reads and writes, besides X.
    Py_ssize_t n_features
    const double* y        # +-1 (classification) or targets (regression)
    const double* cost     # C_i >= 0
    double* alpha          # dual variables (signed b_i for regression)
    double* w              # n_features + 1 weights, the bias weight last
    int loss
    double bias
    double epsilon         # p of the regression losses
    double sigma
    bint shrinking
    unsigned char* stop    # shared stop flag of the fit


cdef struct Pass:
    # The shrinking thresholds a pass reads and the extremes it measures.
    double old_max         # classification: PGmax_old; regression: Gmax_old
    double old_min         # classification: PGmin_old
    double new_max         # PGmax_new / Gmax_new
    double new_min         # PGmin_new
    double norm1           # regression: sum of violations (Gnorm1_new)


def dual_cd(X, const double[::1] y, const double[::1] cost, double[::1] w,
            double[::1] alpha, *, int loss, double bias, double tol,
            int max_iter, uint64_t seed, bint shrinking=True, double epsilon=0.0,
            int verbose=0, double sigma=1.0, bint w_from_alpha=True,
            unsigned char[::1] stop=None, bint use_ones=True):
    """Solve the dual problem by coordinate descent, in place.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1} (classification losses) or finite targets.
    cost : ndarray of shape (n_samples,), the per-sample C_i >= 0.
    w : ndarray of shape (n_features + 1,), output; ``w[n_features]`` is the
        weight of the virtual bias feature.
    alpha : ndarray of shape (n_samples,), dual variables: the start point on
        entry (zeros for a cold start), the solution on exit.
    loss : a code of ``_loss.pxd`` (``fastlinear._losses.Loss``): one of the
        four hinge-type losses.
    bias : value of the virtual constant feature (0 for no intercept).
    tol : stopping tolerance (module docstring).
    max_iter : maximal number of outer iterations (passes).
    seed : seed of the visiting order.
    shrinking : whether to shrink the active set.
    epsilon : the ``p`` of the regression losses (>= 0).
    verbose : > 0 prints liblinear-style progress.
    sigma : the CoCoA+ subproblem scaling (rule 8; 1 for the plain problem).
    w_from_alpha : if True, ``w`` is set to ``sum_i y_i alpha_i x_i`` on entry
        (``sum_i b_i x_i`` for regression); if False, ``w`` is taken as given.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag (rule 6).
    use_ones : bool, default=True
        Whether a pass over rows whose values are all 1 (``X.ones``) skips
        reading them (rule 9; the same bits either way: the tests compare).

    Returns
    -------
    n_iter : int
        Outer iterations run.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1), ``INTERRUPTED`` (2, the stop
        flag was set by another thread) or ``STALLED`` (6, rule 6).
    violation : float
        The last pass's stopping measure: ``max PG - min PG``
        (classification), or the violation norm relative to the first pass's
        (regression).
    """
    require_proved(X, "dual_cd")
    cdef Py_ssize_t n_samples = X.n_rows
    if (y.shape[0] != n_samples or cost.shape[0] != n_samples
            or alpha.shape[0] != n_samples):
        raise ValueError("dual_cd: y, cost and alpha must have n_samples = %d "
                         "elements." % n_samples)
    if w.shape[0] != X.n_cols + 1:
        raise ValueError("dual_cd: w must have n_features + 1 = %d elements."
                         % (X.n_cols + 1))
    if loss < HINGE or loss > SQUARED_EPSILON_INSENSITIVE:
        raise ValueError("dual_cd: unknown loss %d." % loss)
    if not (tol > 0) or max_iter < 1:
        raise ValueError("dual_cd: tol must be > 0 and max_iter >= 1.")
    if not isfinite(bias) or not (epsilon >= 0.0) or not isfinite(epsilon):
        raise ValueError("dual_cd: bias must be finite and epsilon finite >= 0.")
    if not (sigma >= 1.0) or not isfinite(sigma):
        raise ValueError("dual_cd: sigma must be a finite number >= 1.")
    if sigma != 1.0 and loss > SQUARED_HINGE:
        raise ValueError("dual_cd: sigma > 1 is for classification only.")
    if not isfinite(X.max_row_sq + bias * bias):
        raise ValueError("dual_cd: the squared row norms overflow float64; "
                         "rescale X.")
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError("dual_cd: stop must have one element.")
    if n_samples == 0:
        w[:] = 0.0
        return 0, int(CONVERGED), 0.0

    cdef Problem p
    p.n_features = X.n_cols
    p.y = &y[0]
    p.cost = &cost[0]
    p.alpha = &alpha[0]
    p.w = &w[0]
    p.loss = loss
    p.bias = bias
    p.epsilon = epsilon
    p.sigma = sigma
    p.shrinking = shrinking
    p.stop = &stop[0]
    cdef bint ones = use_ones and X.ones
    if X.data.dtype == np.float32:
        if X.indices.dtype == np.int32:
            return _run[float, int32_t](X.data, X.indices, X.indptr, &p, tol,
                                        max_iter, seed, verbose, w_from_alpha, ones)
        return _run[float, int64_t](X.data, X.indices, X.indptr, &p, tol,
                                    max_iter, seed, verbose, w_from_alpha, ones)
    if X.indices.dtype == np.int32:
        return _run[double, int32_t](X.data, X.indices, X.indptr, &p, tol,
                                     max_iter, seed, verbose, w_from_alpha, ones)
    return _run[double, int64_t](X.data, X.indices, X.indptr, &p, tol,
                                 max_iter, seed, verbose, w_from_alpha, ones)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Problem* p, double tol,
                 int max_iter, uint64_t seed, int verbose, bint w_from_alpha,
                 bint ones):
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    order = np.empty(n_samples, dtype=np.intp)
    cdef Py_ssize_t[::1] order_v = order
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t bad_row = -1, n_total = 0
    cdef int bad, n_iter = 0, status = MAX_ITER
    cdef double violation = INFINITY
    cdef bint regression = p.loss > SQUARED_HINGE

    with nogil:
        bad = _prepare(X_data, X_ind, &indptr[0], n_samples, p, &order_v[0],
                       &n_total, w_from_alpha, &bad_row)
    if bad == BAD_LABEL:
        raise ValueError("dual_cd: row %d has %s." % (bad_row, (
            "a target that is not finite or a cost C_i that is negative or "
            "not finite" if regression else
            "a label other than -1 or +1, or a cost C_i that is negative or "
            "not finite")))
    if bad == BAD_START:
        raise ValueError("dual_cd: the start point alpha is outside its box "
                         "at row %d." % bad_row)
    if bad == BAD_W:
        raise ValueError("dual_cd: the given w has NaN or infinite entries.")
    with nogil:
        if regression:
            n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0], n_total,
                            tol, max_iter, seed, verbose, &violation, &status,
                            <short>0, <Valued*>NULL)
        elif ones:
            n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0], n_total,
                            tol, max_iter, seed, verbose, &violation, &status,
                            <char>0, <Ones*>NULL)
        else:
            n_iter = _solve(X_data, X_ind, &indptr[0], p, &order_v[0], n_total,
                            tol, max_iter, seed, verbose, &violation, &status,
                            <char>0, <Valued*>NULL)
    if verbose > 0:
        print("\noptimization finished, #iter = %d" % n_iter)
        if status == MAX_ITER:
            print("WARNING: reaching max number of iterations")
    return n_iter, status, violation


cdef int _prepare(const floating* data, const index_t* indices,
                  const index_t* indptr, Py_ssize_t n_samples, Problem* p,
                  Py_ssize_t* order, Py_ssize_t* n_total, bint w_from_alpha,
                  Py_ssize_t* bad_row) noexcept nogil:
    """Check labels, costs and the start point; list the movable samples.

    Sets ``w`` from ``alpha`` (or checks the given ``w`` is finite).  Returns
    0, or a :class:`Bad` code with ``bad_row`` set.
    """
    cdef Py_ssize_t i, k, n_active = 0
    cdef double c, upper, diag, lower, a, yi
    cdef bint regression = p.loss > SQUARED_HINGE
    for i in range(n_samples):
        c = p.cost[i]
        yi = p.y[i]
        if not (c >= 0.0) or not isfinite(c) or (
                not isfinite(yi) if regression else (yi != 1.0 and yi != -1.0)):
            bad_row[0] = i
            return BAD_LABEL
        if c > 0.0:
            dual_box(p.loss, c, &upper, &diag)
            order[n_active] = i
            n_active += 1
        else:
            upper = 0.0
        lower = -upper if regression else 0.0
        a = p.alpha[i]
        if not (a >= lower and a <= upper):
            bad_row[0] = i
            return BAD_START
    n_total[0] = n_active
    if not w_from_alpha:
        for k in range(p.n_features + 1):
            if not isfinite(p.w[k]):
                return BAD_W
        return 0
    for k in range(p.n_features + 1):
        p.w[k] = 0.0
    for k in range(n_active):
        i = order[k]
        a = p.alpha[i] if regression else p.y[i] * p.alpha[i]
        if a != 0.0:
            row_axpy(a, data, indices, indptr[i], indptr[i + 1], p.w)
            p.w[p.n_features] += a * p.bias
    return 0


ctypedef fused kind_t:
    # Compile-time choice of the problem in _epoch and _solve (the argument
    # only selects the version): one body, no branch per coordinate.
    char    # classification (Hsieh et al.)
    short   # regression (Ho & Lin)


cdef Py_ssize_t _epoch(const floating* data, const index_t* indices,
                       const index_t* indptr, const Problem* p,
                       Py_ssize_t* order, Py_ssize_t n_active, Pass* pg,
                       kind_t kind, values_t* values) except -1 nogil:
    """One pass over ``order[:n_active]``, in that order.

    Returns the new active set size: shrunk variables are swapped behind it.
    The problem's fields are read into locals once: writes to ``w`` and
    ``alpha`` could otherwise alias them and force reloads.
    """
    cdef Py_ssize_t s = 0, i, j, start, end
    cdef double G, PG, H, Gp, Gn, a_old, a_new, yi, upper, diag, sq, z, d
    cdef double pmax = -INFINITY, pmin = INFINITY, gnorm1 = 0.0
    cdef const double* y = p.y
    cdef const double* cost = p.cost
    cdef double* alpha = p.alpha
    cdef double* w = p.w
    cdef Py_ssize_t nf = p.n_features
    cdef double bias = p.bias, sigma = p.sigma, eps = p.epsilon
    cdef double bias_sq = bias * bias
    cdef double old_max = pg.old_max, old_min = pg.old_min
    cdef bint shrinking = p.shrinking
    cdef bint l1 = p.loss == HINGE or p.loss == EPSILON_INSENSITIVE
    if kind_t is short:
        pmax = 0.0
    while s < n_active:
        if (s & (POLL_EVERY - 1)) == POLL_EVERY - 1 and poll(p.stop):
            break
        # Rule 7: the scalars 8 coordinates ahead, the row 4 ahead.  (Written
        # out here: as an inline function taking the pointers it was measured
        # 25 % slower on a9a.)
        if s + SAMPLE_PREFETCH < n_active:
            j = order[s + SAMPLE_PREFETCH]
            prefetch(&indptr[j])
            prefetch(&alpha[j])
            prefetch(&y[j])
            prefetch(&cost[j])
        if s + ROW_PREFETCH < n_active and values_t is Valued:
            j = order[s + ROW_PREFETCH]
            prefetch_row(data, indices, indptr[j], indptr[j + 1])
        i = order[s]
        start = indptr[i]
        end = indptr[i + 1]
        a_old = alpha[i]
        if l1:
            upper = cost[i]
            diag = 0.0
        else:
            upper = INFINITY
            diag = 0.5 / cost[i]
        if values_t is Ones:
            z = ones_dot_count(indices, start, end, w, &sq)
        else:
            z = row_dot_sqnorm(data, indices, start, end, w, &sq)
        d = 0.0
        if kind_t is char:
            # G_i = y_i w.x_i - 1 + D_ii a_i; PG its projection on the box.
            yi = y[i]
            G = yi * (z + w[nf] * bias) - 1.0 + a_old * diag
            PG = 0.0
            if a_old == 0.0:
                if G > old_max and shrinking:
                    n_active -= 1
                    order[s] = order[n_active]
                    order[n_active] = i
                    continue
                elif G < 0.0:
                    PG = G
            elif a_old == upper:
                if G < old_min and shrinking:
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
                H = sigma * (sq + bias_sq) + diag
                if H > 0.0:
                    a_new = a_old - G / H
                    if a_new < 0.0:
                        a_new = 0.0
                    elif a_new > upper:
                        a_new = upper
                else:
                    # An empty row without intercept: the dual objective is
                    # linear in a_i (G = -1), so the minimiser is the bound.
                    a_new = upper if G < 0.0 else 0.0
                d = (a_new - a_old) * yi * sigma
        else:
            # G_i = w.x_i - y_i + lam_i b_i; the violation of the optimality
            # of b_i given the |b_i| term (Ho & Lin's Algorithm 4).
            G = z + w[nf] * bias - y[i] + diag * a_old
            H = sq + bias_sq + diag
            Gp = G + eps
            Gn = G - eps
            PG = 0.0
            if a_old == 0.0:
                if Gp < 0.0:
                    PG = -Gp
                elif Gn > 0.0:
                    PG = Gn
                elif Gp > old_max and Gn < -old_max and shrinking:
                    n_active -= 1
                    order[s] = order[n_active]
                    order[n_active] = i
                    continue
            elif a_old >= upper:
                if Gp > 0.0:
                    PG = Gp
                elif Gp < -old_max and shrinking:
                    n_active -= 1
                    order[s] = order[n_active]
                    order[n_active] = i
                    continue
            elif a_old <= -upper:
                if Gn < 0.0:
                    PG = -Gn
                elif Gn > old_max and shrinking:
                    n_active -= 1
                    order[s] = order[n_active]
                    order[n_active] = i
                    continue
            elif a_old > 0.0:
                PG = fabs(Gp)
            else:
                PG = fabs(Gn)
            if PG > pmax:
                pmax = PG
            gnorm1 += PG
            # The minimiser of the one-variable problem (a soft threshold).
            if H <= 0.0:
                # An empty row, no intercept, the L1 loss: linear in b_i.
                a_new = upper if Gp < 0.0 else (-upper if Gn > 0.0 else 0.0)
            elif Gp < H * a_old:
                a_new = a_old - Gp / H
            elif Gn > H * a_old:
                a_new = a_old - Gn / H
            else:
                a_new = 0.0
            if fabs(a_new - a_old) >= 1.0e-12:
                if a_new > upper:
                    a_new = upper
                elif a_new < -upper:
                    a_new = -upper
                d = a_new - a_old
        if d != 0.0:
            alpha[i] = a_new
            axpy_of(values, d, data, indices, start, end, w)
            w[nf] += d * bias
        s += 1
    pg.new_max = pmax
    pg.new_min = pmin
    pg.norm1 = gnorm1
    return n_active


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, Problem* p, Py_ssize_t* order,
                Py_ssize_t n_total, double tol, int max_iter, uint64_t seed,
                int verbose, double* measure, int* status,
                kind_t kind, values_t* values) except -1 nogil:
    """Passes until convergence over all variables (the module docstring's
    rule for each kind), ``max_iter``, or a stop."""
    cdef Py_ssize_t n_active = n_total
    cdef uint64_t state = rng_seed(seed)
    cdef Pass pg
    cdef int n_iter = 0
    cdef double norm1_init = -1.0
    cdef bint done
    cdef Stall stall
    stall_init(&stall)
    pg.old_max = INFINITY
    pg.old_min = -INFINITY
    status[0] = MAX_ITER
    while n_iter < max_iter:
        shuffle(order, n_active, &state)
        n_active = _epoch(data, indices, indptr, p, order, n_active, &pg, kind, values)
        if kind_t is short:
            if n_iter == 0:
                norm1_init = pg.norm1
        n_iter += 1
        if verbose > 0 and n_iter % 10 == 0:
            with gil:
                print(".", end="", flush=True)
        if poll(p.stop):
            status[0] = INTERRUPTED
            break
        if kind_t is char:
            measure[0] = pg.new_max - pg.new_min
            done = measure[0] <= tol
        else:
            measure[0] = pg.norm1 / norm1_init if norm1_init > 0.0 else 0.0
            done = pg.norm1 <= tol * norm1_init
        if done:
            if n_active == n_total:
                status[0] = CONVERGED
                break
            # Shrinking may have hidden violators: one full pass decides.
            n_active = n_total
            if verbose > 0:
                with gil:
                    print("*", end="", flush=True)
            pg.old_max = INFINITY
            pg.old_min = -INFINITY
            continue
        if stall_after_pass(&stall, n_active, pg.new_max,
                            pg.new_min if kind_t is char else pg.norm1,
                            p.w, p.n_features + 1):
            status[0] = STALLED  # rule 6: no step changes w any more
            break
        if kind_t is char:
            pg.old_max = pg.new_max if pg.new_max > 0.0 else INFINITY
            pg.old_min = pg.new_min if pg.new_min < 0.0 else -INFINITY
        else:
            pg.old_max = pg.new_max
    return n_iter
