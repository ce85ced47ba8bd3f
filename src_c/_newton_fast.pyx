# cython: freethreading_compatible = True
"""Truncated Newton on the primal of the L2-regularised smooth losses, on CSR data.

The problem (liblinear's ``-s 0``, ``-s 2`` and ``-s 11``)::

    min_w  f(w) = lam/2 w_R.w_R + sum_i C_i xi(z_i),     z_i = w . x~_i  (x~_i = [x_i, bias])

with a loss ``xi`` of ``_loss.pxd`` (squared hinge, squared
epsilon-insensitive, logistic) and ``w_R`` the penalised weights: all of
them (liblinear, ``reg_bias``), or all but the bias weight (scikit-learn's
unpenalised intercept).  ``lam`` is 1, or 0 for no penalty at all.  ``f`` is
convex and once differentiable; with ``I`` the samples where ``xi`` is
curved at ``z_i`` (every sample for the logistic loss)::

    g(w)   = lam w_R + X~_I^T u,        u_i = C_i xi'(z_i)
    H(w) v = lam v_R + X~_I^T (D_I (X~_I v)),   D_ii = C_i xi''(z_i)   (a generalised Hessian)

The method is liblinear 2.41+'s Newton with line search (C.-Y. Hsia, Y. Zhu
and C.-J. Lin, "A study on trust region update rules in Newton methods for
large-scale linear classification", ACML 2017; C.-Y. Hsia, W.-L. Chiang and
C.-J. Lin, "Preconditioned conjugate gradient methods in truncated Newton
frameworks for large-scale linear classification", ACML 2018):

1. Each step solves ``H d = -g`` by conjugate gradients preconditioned with
   ``M = (1 - a) I + a diag(H)``, ``a = 0.01``, stopped when the quadratic
   model ``Q(d) = g.d + 1/2 d.H d`` decreases by little
   (``k (Q_k - Q_{k-1}) >= cgtol Q_k`` at CG step ``k``, ``cgtol =
   min(eps_cg, sqrt(||g||_{M^-1}))``; ``eps_cg`` is the caller's: 0.5, as
   liblinear 2.50, or 0.1 for a tight ``tol``, ``fastlinear._solvers``'s
   ``NEWTON_EPS_CG``), or after ``max(n_features + 1, 5)`` CG steps.
2. A backtracking line search: ``t = 1, 1/2, 1/4, ...`` (at most 20), the
   first ``t`` with ``f(w + t d) - f(w) <= 0.01 t g.d``.  ``X~ d`` is computed
   once, so every trial costs O(n).
3. It stops when ``||g(w)|| <= tol ||g(0)||`` (liblinear's rule; the caller
   scales ``tol`` as liblinear does) or, with ``max_abs_rule``, when
   ``max_j |g_j(w)| <= tol`` (scikit-learn's lbfgs rule, ``tol`` in the units
   of ``f``) and, with ``decrement`` and a penalty, ``1/2 g.diag(H)^-1 g <=
   tol`` too: the decrease that a Newton step on the Hessian's diagonal
   would promise, an estimate of ``f - f*`` (1-18 times it on the IMDB and
   w8a logistic fits measured).  scikit-learn's newton-cholesky has the same
   second test with the whole Hessian (its Newton decrement, ``1/2
   g.H^-1 g <= tol`` on the mean objective).  The largest gradient entry
   alone can pass far from the optimum where many features are rare: a
   feature in a handful of rows has a gradient entry below ``tol`` whatever
   its weight.  On the IMDB 1-2-gram TF-IDF set at ``C = 100`` it passed after
   3 Newton steps at an objective 18.7 % above the optimum; with the
   estimate, after 6 steps at 5.3e-5 above it.  With ``relative > 0`` the
   estimate must also be within ``relative |f|`` (the estimators pass
   ``tol``): ``tol`` is absolute on the mean objective, and at large C on
   separable data, where that is small, 20,000 sparse features at C = 1e6
   stopped at 2.3 times the optimal objective.  For that relative test
   the estimate is scaled by how far it fell short of the last full
   step's actual decrease (``max(1, (f_old - f) / promised)``, the
   estimate at the step's start as ``promised``): where the Hessian is far
   from its diagonal the estimate is off by the same factor from step to
   step (standardised breast cancer at C = 1e6: 10-30x), and unscaled the
   fit stopped at 1.5 times the optimal objective.  Once the estimate has
   fallen short by more than ``CONFIRM_SHORTFALL`` on any full step (2; 20
   Newsgroups as a binary problem, where it falls 1.01x short, would pay a
   CG run for nothing: 1.2-1.9x the time of its fits), a stop it allows is
   checked on the whole quadratic model: the next step's CG runs (to
   ``CONFIRM_CG`` of its constant) and the fit ends there, without the
   step, if that model's decrease ``-(g.s + s.H s / 2)`` is within
   ``relative |f|`` and CG ended by its own rule, not at its cap; else the
   step is taken.  Dense correlated columns with scales spread over
   ``e^-2 .. e^2`` (3,000 x 1,500, C = 1 ... 1e4, the defaults) stopped
   3.9e-3 to 1.5e-2 above the optimal objective on the scaled estimate
   alone, now within 1.8e-4; IMDB, whose estimate never falls short, takes
   the same steps.  It also stops when the line search fails, after
   ``max_iter`` Newton steps, or, under
   liblinear's rule only, when the actual reduction is below ``1e-12 |f|``.
   scikit-learn's rule goes on while the line search finds a decrease:
   where ``C`` is small, ``f`` is nearly flat (about ``C n log 2`` at
   ``w = 0``) and a reduction below ``1e-12 |f|`` says nothing about
   ``max |g|``, the rule's measure.

Design rules of this module:

1. X arrives as a ``fastlinear._csr_fast.CSR`` (structure, finite values and
   representable squared norms proved once per fit); it is read by rows only:
   ``X~ v`` row by row, ``X~^T u`` accumulated row by row.  No transposed
   copy, no copy of X squared: the extra memory is O(n + n_threads d).
2. Work is split over ``n_threads`` chunks of rows with about equal numbers
   of nonzeros (OpenMP, when the build has it).  ``X~ v`` writes disjoint
   entries; ``X~^T u`` accumulates each chunk into its own buffer, summed in
   chunk order, so the same input and thread count give the same bits.
   Different thread counts differ by rounding only (as a permutation of the
   rows would; conjugate gradients on an ill-conditioned ``H`` can turn that
   rounding into a different number of Newton steps before ``tol`` is met).
   Summing the buffers costs O(n_threads d) per product, so the products
   over ``I`` use the threads only when the nonzeros of ``I`` are at least
   ``MIN_NNZ_PER_FEATURE`` times ``d``; otherwise one thread: on a
   25,000 x 439,000 TF-IDF set, two threads at every product made a fit 1.4x
   slower than one thread.
3. Values are ``floating`` (float32 stays float32), indices ``int32`` or
   ``int64``; every accumulation is float64.
4. The logistic loss takes its ``exp`` and ``log1p`` 64 samples at a time
   (``_loss.logistic_block``, ``_vmath.pxd``: four at a time with glibc's
   vector math library), in the gradient's per-sample terms, the line
   search's trials and :func:`logistic_loss_grad`, which reads a block's
   rows for their scores, takes the block's ``exp`` and ``log1p``, then
   adds the block's rows into the gradient.  On a 2-core virtual AMD EPYC
   (Zen 5) this made a9a's pass 0.93 -> 0.65 ms.  Not on w8a, whose rows
   vary in length: there the branch predictor learns the trip count of a
   row's second loop (the scatter) from its first (the score) only when
   the two are adjacent, and the blocked pass took 1.06 ms against 0.99.
   :func:`logistic_loss_grad` therefore takes a block whose rows mostly
   change length row by row, with one ``exp`` and ``log1p`` at a time.
5. Every loop is bounded (``max_iter`` Newton steps, ``max(d + 1, 5)`` CG
   steps, 20 halvings).  ``_status.poll`` runs between products and, with
   one thread, every ``POLL_EVERY`` rows.
6. When every stored value is 1 (``X.ones``: a9a, w8a, binary bags of
   words), every pass reads only the indices (``_sparse.values_t``, chosen
   at compile time): ``x~_i . v`` is a sum of ``v[j]``, a row adds its
   coefficient to each ``g[j]``.  The same bits (a factor 1 is exact).
   One pass, one thread, on the 2-core Zen 5: the logistic loss and
   gradient 1.13x faster on a9a and 1.14x on w8a.
7. The line search's scores ``X~ s`` come from conjugate gradients when
   every row is in ``I`` (the logistic loss, no zero cost): each Hessian
   product computes ``X~ d`` for its direction ``d`` on the way, and ``s``
   is a sum of those directions, so ``X~ s`` is the same sum of the
   products' ``X~ d`` (O(n) a CG step instead of a pass over X a Newton
   step; equal up to rounding).
"""
import numpy as np

from libc.math cimport fabs, isfinite, sqrt
from libc.stdint cimport int32_t, int64_t
from cython cimport floating
from cython.parallel cimport prange

from _loss cimport (
    LOGISTIC,
    LOSS_BLOCK,
    SQUARED_EPSILON_INSENSITIVE,
    SQUARED_HINGE,
    Logistic,
    SquaredEpsilonInsensitive,
    SquaredHinge,
    curvature,
    curved,
    derivative,
    logistic_block,
    logistic_terms,
    logistic_value_exp,
    logistic_value_log1p,
    smooth_loss,
    weighted_value,
)
from _sparse cimport Ones, Valued, axpy_of, dot_from, index_t, values_t
from _status cimport CONVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, diagonal_decrement, poll
from _vmath cimport exp_block, exp_log1p, vmath_lanes

from fastlinear._csr_fast import require_proved

__all__ = ["exp_log1p_block", "have_openmp", "logistic_loss_grad", "loss_kinds", "newton",
           "vector_lanes"]


cdef extern from *:
    """
    #ifdef _OPENMP
    #define FL_HAVE_OPENMP 1
    #else
    #define FL_HAVE_OPENMP 0
    #endif
    """
    int FL_HAVE_OPENMP


def have_openmp():
    """Whether this build splits products over threads."""
    return bool(FL_HAVE_OPENMP)


def vector_lanes():
    """How many ``exp``/``log1p`` the logistic passes take per call of the
    math library: 4 with glibc's vector math library on an AVX2 CPU, else 1
    (``_vmath.pxd``)."""
    return vmath_lanes()


def exp_log1p_block(const double[::1] a):
    """``(exp(a), log1p(exp(a)))`` as the logistic passes take them, in
    blocks of ``LOSS_BLOCK`` (for tests; ``a <= 0`` is the range they use)."""
    cdef Py_ssize_t n = a.shape[0], start = 0, nb
    e = np.empty(n)
    lg = np.empty(n)
    cdef double[::1] e_v = e, l_v = lg
    while start < n:
        nb = min(<Py_ssize_t>LOSS_BLOCK, n - start)
        exp_log1p(&a[start], &e_v[start], &l_v[start], nb)
        start += nb
    return e, lg


def loss_kinds():
    """The codes of ``_loss.pxd``'s losses this kernel solves (for the check
    that ``fastlinear._losses.Loss`` mirrors them)."""
    return {"squared_hinge": SQUARED_HINGE,
            "squared_epsilon_insensitive": SQUARED_EPSILON_INSENSITIVE,
            "logistic": LOGISTIC}


cdef enum:
    MAX_LINE_SEARCH = 20
    LINE_SEARCH_FAILED = 4    # statuses of this kernel (besides _status.pxd's)
    OVERFLOW = 5              # f or ||g|| at the start point is not finite
    MIN_NNZ_PER_FEATURE = 4   # threads over I only with nnz(I) >= this * d (rule 2)

cdef double ARMIJO = 0.01       # sufficient decrease of the line search
cdef double PCG_MIX = 0.01      # M = (1 - PCG_MIX) I + PCG_MIX diag(H)
cdef double NULL_CURVATURE = 1.0e-14   # d.Hd <= this * d.diag(H)d: null space
cdef double CONFIRM_CG = 0.1    # a stop's check on the whole model: CG to this * eps_cg
cdef double CONFIRM_SHORTFALL = 2.0   # ... made once the estimate fell this short (rule 3)


cdef struct Problem:
    Py_ssize_t n          # samples
    Py_ssize_t m          # variables: n_features + 1 (the bias weight last)
    const double* y
    const double* cost
    double bias
    double lam            # the penalty's weight: 1, or 0 for none
    bint reg_bias         # whether the bias weight is penalised
    bint max_abs_rule     # stop on max |g_j| <= tol instead of the relative norm
    bint decrement        # with it: also 1/2 g.diag(H)^-1 g <= tol (rule 3)
    double relative       # and, when > 0, that decrement <= relative |f|
    int n_chunks
    unsigned char* stop


cdef struct Work:
    double* z             # n: scores X~ w
    double* t             # n: X~ s of the Newton direction s, for the line search
    double* xd            # n: X~ d of the CG direction d (on I)
    bint t_known          # t was summed by CG (rule 7): no product in the line search
    double* u             # n: coefficients of X~_I^T (gradient), on I
    double* c             # n: D_ii = C_i xi''(z_i) on I (curvature)
    Py_ssize_t* active    # n: the samples where phi_i is curved (the set I)
    Py_ssize_t n_active
    int n_use             # chunks the products over I use (rule 2)
    Py_ssize_t* bounds    # n_chunks + 1: chunks of I (or of all rows)
    double* acc           # n_chunks x m accumulators
    double* acc2          # n_chunks x m accumulators (diag(H))


def newton(X, const double[::1] y, const double[::1] cost, double[::1] w, *,
           int loss, double bias, double epsilon, double tol,
           int max_iter, double lam=1.0, bint reg_bias=True, bint max_abs_rule=False,
           bint decrement=False, double relative=0.0, double eps_cg=0.5, int n_threads=1,
           int verbose=0,
           unsigned char[::1] stop=None, double[::1] scores=None, bint use_ones=True):
    """Minimise ``f`` from the start point ``w``, in place.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        -1 or +1 (squared hinge) or the targets (regression).
    cost : ndarray of shape (n_samples,), ``C_i >= 0``.
    w : ndarray of shape (n_features + 1,), the start point on entry, the
        solution on exit (the bias weight last).
    loss : a code of ``_loss.pxd`` (``loss_kinds()``): squared hinge,
        squared epsilon-insensitive or logistic.
    bias : value of the constant feature (0 for no intercept).
    epsilon : ``p`` of the regression loss.
    tol : stop when ``||g(w)|| <= tol ||g(0)||`` (or, with ``max_abs_rule``,
        ``max_j |g_j(w)| <= tol``).
    max_iter : maximal number of Newton steps.
    lam : weight of the penalty: 1, 0 (no penalty: the data must then not
        be separable, or the iterates grow until ``max_iter``), or the
        ``1 / s`` of a problem divided by ``s`` (the caller's rescaling when
        ``f`` overflows).
    reg_bias : whether the bias weight is penalised (liblinear) or not
        (scikit-learn's intercept).
    max_abs_rule : scikit-learn's stopping rule instead of liblinear's.
    decrement : with ``max_abs_rule`` and ``lam > 0``, stop only when also
        ``1/2 g.diag(H)^-1 g <= tol`` (rule 3).
    relative : with ``decrement``, also ``1/2 g.diag(H)^-1 g <= relative
        |f|`` when positive (rule 3).
    eps_cg : the CG stopping constant of rule 1, in (0, 1); liblinear 2.50's
        0.5 by default.
    n_threads : chunks of rows the products are split into (rule 2).
    verbose : > 0 prints one line per Newton step.
    stop : uint8 array of shape (1,), the fit's shared stop flag.
    scores : float64 array of shape (n_samples,), optional; receives
        ``X~ w`` of the returned ``w`` (the duals follow from it without
        another product with X, which scipy would make on a float64 copy of
        float32 data).
    use_ones : bool, default=True
        Read only the indices when every stored value is 1 (``X.ones``,
        rule 6); False reads the values anyway (for tests and measurements).

    Returns
    -------
    n_iter : int
        Newton steps taken.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1), ``INTERRUPTED`` (2), 4 when
        the line search found no decrease (the gradient is then at rounding
        level for the data's scale), or 5 when ``f`` or the norm of the
        gradient overflows at the start point (``w`` is then unchanged: the
        caller rescales the problem).
    measure : float
        ``||g(w)|| / ||g(0)||`` at the end (``max_j |g_j(w)|`` with
        ``max_abs_rule``).
    """
    require_proved(X, "newton")
    cdef Py_ssize_t n = X.n_rows, m = X.n_cols + 1
    if y.shape[0] != n or cost.shape[0] != n:
        raise ValueError("newton: y and cost must have n_samples = %d elements." % n)
    if w.shape[0] != m:
        raise ValueError("newton: w must have n_features + 1 = %d elements." % m)
    if not (tol >= 0) or max_iter < 1 or n_threads < 1:
        raise ValueError("newton: tol must be >= 0, max_iter >= 1, n_threads >= 1.")
    if not isfinite(bias) or not (epsilon >= 0.0) or not isfinite(epsilon):
        raise ValueError("newton: bias must be finite and epsilon finite >= 0.")
    if loss != SQUARED_HINGE and loss != SQUARED_EPSILON_INSENSITIVE and loss != LOGISTIC:
        raise ValueError("newton: loss must be one of %r, got %d." % (loss_kinds(), loss))
    if not (lam >= 0.0) or not isfinite(lam):
        raise ValueError("newton: lam must be finite and >= 0, got %r." % lam)
    if not (0.0 < eps_cg < 1.0):
        raise ValueError("newton: eps_cg must be in (0, 1), got %r." % eps_cg)
    cdef bint regression = loss == SQUARED_EPSILON_INSENSITIVE
    if not isfinite(X.max_row_sq + bias * bias):
        raise ValueError("newton: the squared row norms overflow float64; rescale X.")
    yv = np.asarray(y)
    cv = np.asarray(cost)
    if not (np.all(np.isfinite(cv)) and np.all(cv >= 0)):
        raise ValueError("newton: cost C_i must be finite and >= 0.")
    if regression:
        if not np.all(np.isfinite(yv)):
            raise ValueError("newton: the targets must be finite.")
    elif not np.all((yv == 1.0) | (yv == -1.0)):
        raise ValueError("newton: labels must be -1 or +1.")
    if not np.all(np.isfinite(np.asarray(w))):
        raise ValueError("newton: the start point w has NaN or infinite entries.")
    if scores is not None and scores.shape[0] != n:
        raise ValueError("newton: scores must have one entry per sample.")
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    cdef int chunks = n_threads if FL_HAVE_OPENMP else 1
    if chunks > max(n, 1):
        chunks = <int>max(n, 1)

    cdef Problem p
    _set_problem(&p, y, cost, m, bias, lam, reg_bias, max_abs_rule, chunks, stop)
    p.decrement = decrement and max_abs_rule and lam > 0.0
    if not (relative >= 0.0 and isfinite(relative)):
        raise ValueError(f"newton: relative must be finite and >= 0, got {relative}.")
    p.relative = relative if p.decrement else 0.0
    if n == 0:
        w[:] = 0.0
        return 0, int(CONVERGED), 0.0
    cdef SquaredHinge squared_hinge
    cdef SquaredEpsilonInsensitive squared_eps
    cdef Logistic logistic
    squared_eps.epsilon = epsilon
    cdef bint ones = use_ones and X.ones
    if loss == SQUARED_HINGE:
        return _dispatch(X, &squared_hinge, &p, w, tol, max_iter, eps_cg, verbose, scores, ones)
    if loss == SQUARED_EPSILON_INSENSITIVE:
        return _dispatch(X, &squared_eps, &p, w, tol, max_iter, eps_cg, verbose, scores, ones)
    return _dispatch(X, &logistic, &p, w, tol, max_iter, eps_cg, verbose, scores, ones)


cdef void _set_problem(Problem* p, const double[::1] y, const double[::1] cost, Py_ssize_t m,
                       double bias, double lam, bint reg_bias, bint max_abs_rule, int chunks,
                       unsigned char[::1] stop):
    """Fill ``p`` for ``y.shape[0]`` samples and ``m`` variables."""
    p.n = y.shape[0]
    p.m = m
    p.y = &y[0] if p.n > 0 else NULL
    p.cost = &cost[0] if p.n > 0 else NULL
    p.bias = bias
    p.lam = lam
    p.reg_bias = reg_bias
    p.max_abs_rule = max_abs_rule
    p.decrement = False
    p.relative = 0.0
    p.n_chunks = chunks
    p.stop = &stop[0]


cdef object _dispatch(X, const smooth_loss* L, Problem* p, double[::1] w, double tol,
                      int max_iter, double eps_cg, int verbose, object scores, bint ones):
    """:func:`_run` for the value and index types of ``X`` and its values
    (rule 6: all ones, or any)."""
    cdef const float[::1] data32
    cdef const double[::1] data64
    cdef const int32_t[::1] ind32, ptr32
    cdef const int64_t[::1] ind64, ptr64
    if X.indices.dtype == np.int32:
        ind32 = X.indices
        ptr32 = X.indptr
        if X.data.dtype == np.float32:
            data32 = X.data
            return _by_values(data32, ind32, ptr32, L, p, w, tol, max_iter, eps_cg,
                              verbose, scores, ones)
        data64 = X.data
        return _by_values(data64, ind32, ptr32, L, p, w, tol, max_iter, eps_cg, verbose,
                          scores, ones)
    ind64 = X.indices
    ptr64 = X.indptr
    if X.data.dtype == np.float32:
        data32 = X.data
        return _by_values(data32, ind64, ptr64, L, p, w, tol, max_iter, eps_cg, verbose,
                          scores, ones)
    data64 = X.data
    return _by_values(data64, ind64, ptr64, L, p, w, tol, max_iter, eps_cg, verbose, scores,
                      ones)


cdef object _by_values(const floating[::1] data, const index_t[::1] indices,
                       const index_t[::1] indptr, const smooth_loss* L, Problem* p,
                       double[::1] w, double tol, int max_iter, double eps_cg,
                       int verbose, object scores, bint ones):
    """:func:`_run` reading the indices alone (``ones``) or the values too."""
    if ones:
        return _run(data, indices, indptr, L, p, w, tol, max_iter, eps_cg, verbose, scores,
                    <Ones*>NULL)
    return _run(data, indices, indptr, L, p, w, tol, max_iter, eps_cg, verbose, scores,
                <Valued*>NULL)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, const smooth_loss* L, Problem* p,
                 double[::1] w, double tol, int max_iter, double eps_cg,
                 int verbose, object scores, const values_t* kind):
    cdef Py_ssize_t n = p.n, m = p.m, k
    # Work arrays: O(n) per-sample vectors, O(n_chunks m) accumulators and
    # the CG vectors (rule 1).
    sample_work = np.empty((5, n), dtype=np.float64)
    index_work = np.empty(n, dtype=np.intp)
    bound_work = np.empty(p.n_chunks + 1, dtype=np.intp)
    acc_work = np.empty((2, p.n_chunks, m), dtype=np.float64)
    vec_work = np.zeros((9, m), dtype=np.float64)
    cdef double[:, ::1] sv = sample_work
    cdef Py_ssize_t[::1] iv = index_work
    cdef Py_ssize_t[::1] bv = bound_work
    cdef double[:, :, ::1] av = acc_work
    cdef double[:, ::1] vv = vec_work
    cdef Work ws
    ws.z = &sv[0, 0]
    ws.t = &sv[1, 0]
    ws.u = &sv[2, 0]
    ws.c = &sv[3, 0]
    ws.xd = &sv[4, 0]
    ws.t_known = False
    ws.active = &iv[0]
    ws.n_active = 0
    ws.n_use = 1
    ws.bounds = &bv[0]
    ws.acc = &av[0, 0, 0]
    ws.acc2 = &av[1, 0, 0]
    cdef double* g = &vv[0, 0]
    cdef double* s = &vv[1, 0]
    cdef double* r = &vv[2, 0]
    cdef double* d = &vv[3, 0]
    cdef double* Hd = &vv[4, 0]
    cdef double* zv = &vv[5, 0]
    cdef double* M = &vv[6, 0]
    cdef double* zero = &vv[7, 0]
    cdef double* D = &vv[8, 0]
    cdef double* wp = &w[0]
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const index_t* X_ptr = &indptr[0]
    cdef double f = 0.0, f_old, gnorm = 0.0, gnorm0 = 0.0, step
    cdef double promised, calibration = 1.0, modelled
    cdef int n_iter = 0, cg_iter = 0, status = MAX_ITER, rc
    cdef bint cold, confirming = False, caught_short = False

    with nogil:
        # ||g(0)||: the scale of the stopping rule (the scores of 0 are 0).
        # From a cold start it is also the first gradient: one pass, not three.
        cold = True
        for k in range(m):
            zero[k] = 0.0
            if wp[k] != 0.0:
                cold = False
        for k in range(n):
            ws.z[k] = 0.0
        rc = _gradient(X_data, X_ind, X_ptr, L, p, &ws, zero, g, M if cold else NULL, kind)
        if rc == 0:
            gnorm0 = sqrt(_dot(g, g, m))
            if not cold:
                rc = _scores(X_data, X_ind, X_ptr, p, wp, ws.z, kind)
                if rc == 0:
                    rc = _gradient(X_data, X_ind, X_ptr, L, p, &ws, wp, g, M, kind)
        if rc == 0:
            f = _objective_at(L, p, &ws, wp)
            gnorm = _gradient_measure(p, g)
            if not (isfinite(f) and isfinite(gnorm) and isfinite(gnorm0)):
                status = OVERFLOW
            elif _small(p, gnorm, gnorm0, tol, g, M, f, 1.0):
                status = CONVERGED
            while status == MAX_ITER and n_iter < max_iter:
                promised = diagonal_decrement(g, M, m) if p.relative > 0.0 else 0.0
                for k in range(m):
                    D[k] = M[k]
                    M[k] = (1.0 - PCG_MIX) + PCG_MIX * M[k]
                rc = _pcg(X_data, X_ind, X_ptr, p, &ws, g, D, M, s, r, d, Hd, zv,
                          eps_cg * CONFIRM_CG if confirming else eps_cg, &cg_iter, kind)
                if rc != 0:
                    break
                if confirming:
                    # The stop the estimate allowed, on the whole quadratic
                    # model: its decrease -(g.s + s.H s / 2) at the CG iterate,
                    # unless CG ran to its cap short of its own rule.
                    modelled = 0.5 * (_dot(s, r, m) - _dot(s, g, m))
                    if verbose > 0:
                        with gil:
                            print("check of the stop on the whole model: decrease %5.3e "
                                  "(at most %5.3e) CG %3d" % (modelled, p.relative * fabs(f),
                                                              cg_iter), flush=True)
                    if cg_iter < _cg_cap(p) and modelled <= p.relative * fabs(f):
                        status = CONVERGED
                        break
                    confirming = False
                f_old = f
                rc = _line_search(X_data, X_ind, X_ptr, L, p, &ws, wp, s, g, &f, &step, kind)
                if rc != 0:
                    break
                n_iter += 1
                if step == 0.0:
                    status = LINE_SEARCH_FAILED
                    break
                rc = _gradient(X_data, X_ind, X_ptr, L, p, &ws, wp, g, M, kind)
                if rc != 0:
                    break
                gnorm = _gradient_measure(p, g)
                if verbose > 0:
                    with gil:
                        print("iter %2d f %5.3e |g| %5.3e dec %5.3e CG %3d step_size %4.2e"
                              % (n_iter, f, gnorm, diagonal_decrement(g, M, m), cg_iter,
                                 step),
                              flush=True)
                if promised > 0.0 and step == 1.0:
                    # How far the diagonal estimate fell short of the full
                    # step's decrease: its next estimate is scaled by that.
                    calibration = max(1.0, (f_old - f) / promised)
                    caught_short = caught_short or calibration > CONFIRM_SHORTFALL
                if _small(p, gnorm, gnorm0, tol, g, M, f, calibration):
                    if caught_short:
                        # The estimate fell short of a step's decrease: the
                        # stop is checked by the next step's CG (above).
                        confirming = True
                        continue
                    status = CONVERGED
                    break
                if not p.max_abs_rule and fabs(f_old - f) <= 1.0e-12 * fabs(f):
                    status = CONVERGED
                    break
        if rc > 0:
            status = INTERRUPTED
    if scores is not None:
        scores[:] = sample_work[0]
    if p.max_abs_rule:
        return n_iter, status, gnorm
    if not isfinite(gnorm0) or gnorm0 <= 0.0:
        return n_iter, status, 0.0
    return n_iter, status, gnorm / gnorm0


cdef inline double _gradient_measure(const Problem* p, const double* g) noexcept nogil:
    """``max_j |g_j|`` (``max_abs_rule``) or ``||g||``."""
    cdef Py_ssize_t k
    cdef double largest = 0.0
    if not p.max_abs_rule:
        return sqrt(_dot(g, g, p.m))
    for k in range(p.m):
        if fabs(g[k]) > largest or g[k] != g[k]:
            largest = fabs(g[k])
    return largest


cdef inline bint _small(const Problem* p, double gnorm, double gnorm0, double tol,
                        const double* g, const double* diag, double f,
                        double calibration) noexcept nogil:
    """The stopping rule (3) on the measure of the gradient, and with
    ``p.decrement`` on ``_status.diagonal_decrement`` (``diag`` = diag(H)
    at ``w``; within ``tol`` and, when ``p.relative > 0``, ``calibration``
    times it within ``p.relative |f|``)."""
    cdef double estimate
    if p.max_abs_rule:
        if not gnorm <= tol:
            return False
        if not p.decrement:
            return True
        estimate = diagonal_decrement(g, diag, p.m)
        return estimate <= tol and (p.relative == 0.0
                                    or calibration * estimate <= p.relative * fabs(f))
    return gnorm <= tol * gnorm0


cdef inline double _penalised_dot(const Problem* p, const double* a,
                                  const double* b) noexcept nogil:
    """``a_R . b_R`` over the penalised weights (all, or all but the bias);
    summed in the same order as ``_dot`` (the bias weight last)."""
    cdef double acc = _dot(a, b, p.m - 1)
    if p.reg_bias:
        acc += a[p.m - 1] * b[p.m - 1]
    return acc


cdef inline double _dot(const double* a, const double* b, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t k
    cdef double acc = 0.0
    for k in range(m):
        acc += a[k] * b[k]
    return acc


cdef void _chunk_bounds(const index_t* indptr, const Py_ssize_t* rows,
                        Py_ssize_t n_rows, int n_chunks,
                        Py_ssize_t* bounds) noexcept nogil:
    """Split ``rows[:n_rows]`` into chunks of about equal nonzeros (rule 2)."""
    cdef Py_ssize_t t, c = 1, i
    cdef double total = 0.0, seen = 0.0
    bounds[0] = 0
    for c in range(1, n_chunks + 1):
        bounds[c] = n_rows
    if n_chunks == 1:
        return
    for t in range(n_rows):
        i = rows[t] if rows != NULL else t
        total += <double>(indptr[i + 1] - indptr[i]) + 1.0
    c = 1
    for t in range(n_rows):
        if c >= n_chunks:
            break
        i = rows[t] if rows != NULL else t
        seen += <double>(indptr[i + 1] - indptr[i]) + 1.0
        if seen >= total * c / n_chunks:
            bounds[c] = t + 1
            c += 1


cdef int _scores(const floating* data, const index_t* indices,
                 const index_t* indptr, const Problem* p, const double* v,
                 double* out, const values_t* kind) except -1 nogil:
    """``out = X~ v`` for all rows (disjoint writes: any split is exact)."""
    cdef Py_ssize_t i, nf = p.m - 1
    cdef double vb = v[nf] * p.bias
    if p.n_chunks == 1:
        for i in range(p.n):
            if (i & (POLL_EVERY - 1)) == POLL_EVERY - 1 and poll(p.stop):
                return 1
            out[i] = dot_from(kind, 0.0, data, indices, indptr[i], indptr[i + 1], v) + vb
    else:
        for i in prange(p.n, schedule="static", num_threads=p.n_chunks):
            out[i] = dot_from(kind, 0.0, data, indices, indptr[i], indptr[i + 1], v) + vb
    return poll(p.stop)


cdef void _accumulate(const floating* data, const index_t* indices,
                      const index_t* indptr, const Problem* p, const Work* ws,
                      int chunk, const double* coef, const double* curv,
                      double* acc, double* acc2, const values_t* kind) noexcept nogil:
    """Chunk ``chunk`` of ``X~_I^T coef`` into ``acc`` (and of
    ``sum_i curv_i x~_i^2`` into ``acc2`` when given)."""
    cdef Py_ssize_t t, i, k, j, nf = p.m - 1
    cdef double a, b, v
    for j in range(p.m):
        acc[j] = 0.0
    if acc2 != NULL:
        for j in range(p.m):
            acc2[j] = 0.0
    for t in range(ws.bounds[chunk], ws.bounds[chunk + 1]):
        i = ws.active[t]
        a = coef[i]
        axpy_of(kind, a, data, indices, indptr[i], indptr[i + 1], acc)
        acc[nf] += a * p.bias
        if acc2 != NULL:
            b = curv[i]
            if values_t is Ones:
                for k in range(indptr[i], indptr[i + 1]):
                    acc2[indices[k]] += b     # (b * 1 * 1: the same bits)
            else:
                for k in range(indptr[i], indptr[i + 1]):
                    v = data[k]
                    acc2[indices[k]] += b * v * v
            acc2[nf] += b * p.bias * p.bias


cdef int _gradient(const floating* data, const index_t* indices,
                   const index_t* indptr, const smooth_loss* L, const Problem* p,
                   Work* ws, const double* w, double* g, double* diag,
                   const values_t* kind) except -1 nogil:
    """From the scores ``ws.z = X~ w``: the set ``I``, ``g = lam w_R + X~_I^T u``
    and (when ``diag`` is given) ``diag(H) = lam [R] + sum_I D_ii x~_i^2``."""
    cdef Py_ssize_t i, j, t, n_active = 0, nnz_active = 0
    cdef int c
    cdef double zi, yi, ci
    if smooth_loss is Logistic:
        n_active = _logistic_terms(p, ws)
    else:
        for i in range(p.n):
            ci = p.cost[i]
            if ci == 0.0:
                continue
            zi = ws.z[i]
            yi = p.y[i]
            if not curved(L, yi, zi):
                continue
            ws.active[n_active] = i
            ws.u[i] = ci * derivative(L, yi, zi)
            ws.c[i] = ci * curvature(L, yi, zi)
            n_active += 1
    ws.n_active = n_active
    ws.n_use = 1
    if p.n_chunks > 1:
        for t in range(n_active):
            i = ws.active[t]
            nnz_active += indptr[i + 1] - indptr[i]
        if nnz_active >= MIN_NNZ_PER_FEATURE * p.m:
            ws.n_use = p.n_chunks
    _chunk_bounds(indptr, ws.active, n_active, ws.n_use, ws.bounds)
    if ws.n_use == 1:
        _accumulate(data, indices, indptr, p, ws, 0, ws.u, ws.c,
                    g, diag if diag != NULL else NULL, kind)
    else:
        for c in prange(ws.n_use, schedule="static", chunksize=1,
                        num_threads=ws.n_use):
            _accumulate(data, indices, indptr, p, ws, c, ws.u, ws.c,
                        ws.acc + c * p.m, ws.acc2 + c * p.m if diag != NULL else NULL, kind)
        for j in range(p.m):
            g[j] = 0.0
            for c in range(ws.n_use):
                g[j] += ws.acc[c * p.m + j]
        if diag != NULL:
            for j in range(p.m):
                diag[j] = 0.0
                for c in range(ws.n_use):
                    diag[j] += ws.acc2[c * p.m + j]
    for j in range(p.m - 1 + p.reg_bias):
        g[j] += p.lam * w[j]
        if diag != NULL:
            diag[j] += p.lam
    return poll(p.stop)


cdef void _hess_chunk(const floating* data, const index_t* indices,
                      const index_t* indptr, const Problem* p, const Work* ws,
                      int chunk, const double* v, double* acc,
                      const values_t* kind) noexcept nogil:
    """Chunk ``chunk`` of ``X~_I^T (D_I (X~_I v))``, one pass over its rows;
    ``X~_I v`` into ``ws.xd`` (rule 7)."""
    cdef Py_ssize_t t, i, j, nf = p.m - 1
    cdef double a, vb = v[nf] * p.bias
    for j in range(p.m):
        acc[j] = 0.0
    for t in range(ws.bounds[chunk], ws.bounds[chunk + 1]):
        i = ws.active[t]
        a = dot_from(kind, 0.0, data, indices, indptr[i], indptr[i + 1], v) + vb
        ws.xd[i] = a
        a = ws.c[i] * a
        axpy_of(kind, a, data, indices, indptr[i], indptr[i + 1], acc)
        acc[nf] += a * p.bias


cdef int _hess_vec(const floating* data, const index_t* indices,
                   const index_t* indptr, const Problem* p, Work* ws,
                   const double* v, double* out, const values_t* kind) except -1 nogil:
    """``out = H v = lam v_R + X~_I^T (D_I (X~_I v))``."""
    cdef Py_ssize_t j
    cdef int c
    if ws.n_use == 1:
        _hess_chunk(data, indices, indptr, p, ws, 0, v, out, kind)
    else:
        for c in prange(ws.n_use, schedule="static", chunksize=1,
                        num_threads=ws.n_use):
            _hess_chunk(data, indices, indptr, p, ws, c, v, ws.acc + c * p.m, kind)
        for j in range(p.m):
            out[j] = 0.0
            for c in range(ws.n_use):
                out[j] += ws.acc[c * p.m + j]
    for j in range(p.m - 1 + p.reg_bias):
        out[j] += p.lam * v[j]
    return poll(p.stop)


cdef inline int _cg_cap(const Problem* p) noexcept nogil:
    """The most CG steps of one solve: ``max(m, 5)``."""
    return <int>max(p.m, 5)


cdef int _pcg(const floating* data, const index_t* indices,
              const index_t* indptr, const Problem* p, Work* ws,
              const double* g, const double* D, const double* M, double* s,
              double* r, double* d, double* Hd, double* z, double eps_cg,
              int* cg_iter, const values_t* kind) except -1 nogil:
    """Preconditioned CG on ``H s = -g`` with the quadratic stopping rule (1).

    A direction whose curvature is below ``NULL_CURVATURE`` times its
    curvature under ``diag(H)`` (``D``) lies in the numerical null space of
    ``H``: CG stops before it.  (liblinear's absolute test ``d.Hd <= 1e-16``
    stops every CG run once the gradient is small, whatever the scale: at
    C = 1e-4 it left ``w`` where the gradient was 1e3 times ``tol``.)
    """
    cdef Py_ssize_t k, i, m = p.m
    cdef double zTr, znewTrnew, alpha, beta, cgtol, dHd, dDd, Q = 0.0, newQ, Qdiff
    cdef int it = 0, max_cg = _cg_cap(p)
    # Rule 7: with every row in I, X~ s is the sum of the products' X~ d.
    ws.t_known = ws.n_active == p.n
    if ws.t_known:
        for i in range(p.n):
            ws.t[i] = 0.0
    for k in range(m):
        s[k] = 0.0
        r[k] = -g[k]
        z[k] = r[k] / M[k]
        d[k] = z[k]
    zTr = _dot(z, r, m)
    cgtol = min(eps_cg, sqrt(sqrt(zTr)))
    while it < max_cg:
        it += 1
        if _hess_vec(data, indices, indptr, p, ws, d, Hd, kind):
            cg_iter[0] = it
            return 1
        dHd = _dot(d, Hd, m)
        dDd = 0.0
        for k in range(m):
            dDd += d[k] * d[k] * D[k]
        if not (dHd > NULL_CURVATURE * dDd):
            break
        alpha = zTr / dHd
        for k in range(m):
            s[k] += alpha * d[k]
            r[k] -= alpha * Hd[k]
        if ws.t_known:
            for i in range(p.n):
                ws.t[i] += alpha * ws.xd[i]
        # Q(s) = g.s + 1/2 s.H s = -1/2 (s.r - s.g) for the CG iterate.
        newQ = -0.5 * (_dot(s, r, m) - _dot(s, g, m))
        Qdiff = newQ - Q
        if newQ <= 0.0 and Qdiff <= 0.0:
            if it * Qdiff >= cgtol * newQ:
                break
        else:
            break
        Q = newQ
        for k in range(m):
            z[k] = r[k] / M[k]
        znewTrnew = _dot(z, r, m)
        beta = znewTrnew / zTr
        for k in range(m):
            d[k] = z[k] + beta * d[k]
        zTr = znewTrnew
    cg_iter[0] = it
    return 0


cdef Py_ssize_t _logistic_terms(const Problem* p, Work* ws) noexcept nogil:
    """The logistic loss's ``_gradient`` terms: every sample of nonzero cost
    is active, ``u_i = C_i xi'(z_i)``, ``c_i = C_i xi''(z_i)``, from
    ``exp(-|y_i z_i|)`` taken ``LOSS_BLOCK`` at a time (``_vmath``); the
    number of active samples."""
    cdef Py_ssize_t i, b, nb, start = 0, n_active = 0
    cdef double h
    cdef double args[LOSS_BLOCK]
    cdef double es[LOSS_BLOCK]
    while start < p.n:
        nb = min(<Py_ssize_t>LOSS_BLOCK, p.n - start)
        for b in range(nb):
            args[b] = -fabs(p.y[start + b] * ws.z[start + b])
        exp_block(args, es, nb)
        for b in range(nb):
            i = start + b
            if p.cost[i] == 0.0:
                continue
            ws.active[n_active] = i
            logistic_terms(p.cost[i], p.y[i], ws.z[i], es[b], &ws.u[i], &h)
            ws.c[i] = h
            n_active += 1
        start += nb
    return n_active


cdef double _logistic_sum(const Problem* p, const double* z, const double* t,
                          double step) noexcept nogil:
    """``_loss_sum`` of the logistic loss, ``LOSS_BLOCK`` samples at a time
    (``_loss.logistic_block``), summed in the same order."""
    cdef Py_ssize_t i, b, nb, start = 0
    cdef double acc = 0.0
    cdef double zs[LOSS_BLOCK]
    cdef double es[LOSS_BLOCK]
    cdef double lg[LOSS_BLOCK]
    while start < p.n:
        nb = min(<Py_ssize_t>LOSS_BLOCK, p.n - start)
        logistic_block(&p.y[start], &z[start], &t[start] if t != NULL else NULL, step, nb,
                       zs, es, lg)
        for b in range(nb):
            i = start + b
            if p.cost[i] != 0.0:
                acc += logistic_value_log1p(p.cost[i], p.y[i], zs[b], lg[b])
        start += nb
    return acc


cdef double _loss_sum(const smooth_loss* L, const Problem* p, const double* z,
                      const double* t, double step) noexcept nogil:
    """``sum_i C_i xi(z_i + step t_i)`` (``t`` may be NULL)."""
    cdef Py_ssize_t i
    cdef double acc = 0.0, zi
    if smooth_loss is Logistic:
        return _logistic_sum(p, z, t, step)
    for i in range(p.n):
        zi = z[i] + step * t[i] if t != NULL else z[i]
        if p.cost[i] != 0.0:
            acc += weighted_value(L, p.cost[i], p.y[i], zi)
    return acc


cdef double _objective_at(const smooth_loss* L, const Problem* p, const Work* ws,
                          const double* w) noexcept nogil:
    """``f(w)`` from the scores ``ws.z`` of ``w``."""
    return 0.5 * p.lam * _penalised_dot(p, w, w) + _loss_sum(L, p, ws.z, NULL, 0.0)


cdef int _line_search(const floating* data, const index_t* indices,
                      const index_t* indptr, const smooth_loss* L, const Problem* p,
                      Work* ws, double* w, const double* s, const double* g, double* f,
                      double* step, const values_t* kind) except -1 nogil:
    """Backtracking along ``s`` (rule 2).

    On success ``w``, the scores ``ws.z`` and ``f`` move to ``w + t s``; on
    failure (no sufficient decrease in 20 halvings) nothing moves and
    ``step`` is 0.
    """
    cdef Py_ssize_t k, i, m = p.m
    cdef double gTs = _dot(g, s, m), wTw = _penalised_dot(p, w, w)
    cdef double wTs = _penalised_dot(p, w, s), sTs = _penalised_dot(p, s, s)
    cdef double t = 1.0, f_new
    cdef int _trial
    if not ws.t_known and _scores(data, indices, indptr, p, s, ws.t, kind):
        return 1
    for _trial in range(MAX_LINE_SEARCH):
        f_new = 0.5 * p.lam * (wTw + 2.0 * t * wTs + t * t * sTs) + _loss_sum(L, p, ws.z, ws.t, t)
        if f_new - f[0] <= ARMIJO * t * gTs:
            for i in range(p.n):
                ws.z[i] += t * ws.t[i]
            for k in range(m):
                w[k] += t * s[k]
            f[0] = f_new
            step[0] = t
            return 0
        t *= 0.5
    step[0] = 0.0
    return 0


def logistic_loss_grad(X, const double[::1] y, const double[::1] cost, const double[::1] w,
                       double[::1] g, *, double bias, double lam=1.0, bint reg_bias=False,
                       int n_threads=1, unsigned char[::1] stop=None, double[::1] scores=None,
                       bint use_ones=True):
    """``f(w)`` of the logistic loss and its gradient, in one pass over the rows.

    ``f`` is this module's objective with the logistic loss (``lam/2 w_R.w_R +
    sum_i C_i log(1 + exp(-y_i z_i))``).  Each row is read once: its score,
    then ``C_i xi(z_i)`` and ``C_i xi'(z_i)`` from one ``exp`` and one
    ``log1p`` (``_loss.pxd``), then its share of ``X~^T u``.  The rows are
    split as the Newton products split them (rule 2); the chunks' partial
    sums are added in chunk order, so the same thread count gives the same
    bits.  For the quasi-Newton start of ``fastlinear._newton_cholesky``.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), -1 or +1.
    cost : ndarray of shape (n_samples,), ``C_i >= 0``.
    w : ndarray of shape (n_features + 1,), the bias weight last.
    g : ndarray of shape (n_features + 1,), receives the gradient.
    bias : value of the constant feature (0 for no intercept).
    lam : weight of the penalty (1, or 0 for none).
    reg_bias : whether the bias weight is penalised.
    n_threads : chunks of rows (rule 2).
    stop : uint8 array of shape (1,), the fit's shared stop flag.
    scores : ndarray of shape (n_samples,), optional
        Receives ``z = X~ w`` (the same bits as
        ``fastlinear._hessian_fast.scores``), so that a solver continuing
        from ``w`` need not read X again.
    use_ones : bool, default=True
        Read only the indices when every stored value is 1 (``X.ones``):
        the same bits (a factor 1 is exact); False reads the values anyway
        (for measurements).

    Returns
    -------
    f : float
        ``f(w)``; NaN when the pass was interrupted (``g`` is then
        incomplete).
    """
    require_proved(X, "logistic_loss_grad")
    cdef Py_ssize_t n = X.n_rows, m = X.n_cols + 1
    if y.shape[0] != n or cost.shape[0] != n:
        raise ValueError("logistic_loss_grad: y and cost must have n_samples = %d elements." % n)
    if w.shape[0] != m or g.shape[0] != m:
        raise ValueError("logistic_loss_grad: w and g must have n_features + 1 = %d elements." % m)
    if not isfinite(bias) or not (lam >= 0.0) or not isfinite(lam) or n_threads < 1:
        raise ValueError("logistic_loss_grad: bias and lam must be finite (lam >= 0) and "
                         "n_threads >= 1.")
    if scores is not None and scores.shape[0] != n:
        raise ValueError("logistic_loss_grad: scores must have n_samples = %d elements." % n)
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    cdef double* z_out = &scores[0] if scores is not None and n > 0 else NULL
    cdef int chunks = n_threads if FL_HAVE_OPENMP else 1
    if X.nnz < MIN_NNZ_PER_FEATURE * m:
        chunks = 1
    chunks = <int>min(chunks, max(n, 1))
    cdef Problem p
    _set_problem(&p, y, cost, m, bias, lam, reg_bias, True, chunks, stop)
    bounds = np.empty(chunks + 1, dtype=np.intp)
    acc = np.zeros((chunks, m), dtype=np.float64)
    part = np.zeros(chunks, dtype=np.float64)
    cdef bint ones = use_ones and X.ones
    if X.indices.dtype == np.int32:
        if X.data.dtype == np.float32:
            return _loss_grad_typed[float, int32_t](X.data, X.indices, X.indptr, &p, w, g,
                                                    bounds, acc, part, z_out, ones)
        return _loss_grad_typed[double, int32_t](X.data, X.indices, X.indptr, &p, w, g,
                                                 bounds, acc, part, z_out, ones)
    if X.data.dtype == np.float32:
        return _loss_grad_typed[float, int64_t](X.data, X.indices, X.indptr, &p, w, g,
                                                bounds, acc, part, z_out, ones)
    return _loss_grad_typed[double, int64_t](X.data, X.indices, X.indptr, &p, w, g,
                                             bounds, acc, part, z_out, ones)


cdef double _loss_grad_typed(const floating[::1] data, const index_t[::1] indices,
                             const index_t[::1] indptr, const Problem* p,
                             const double[::1] w, double[::1] g, Py_ssize_t[::1] bounds,
                             double[:, ::1] acc, double[::1] part, double* z_out,
                             bint ones):
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t j, m = p.m
    cdef int c
    cdef double f = 0.0
    cdef bint stopped = False
    with nogil:
        _chunk_bounds(&indptr[0], NULL, p.n, p.n_chunks, &bounds[0])
        if p.n_chunks == 1:
            if ones:
                stopped = _loss_grad_chunk(X_data, X_ind, &indptr[0], p, &w[0], 0, p.n,
                                           &acc[0, 0], &part[0], True, z_out, <Ones*>NULL)
            else:
                stopped = _loss_grad_chunk(X_data, X_ind, &indptr[0], p, &w[0], 0, p.n,
                                           &acc[0, 0], &part[0], True, z_out, <Valued*>NULL)
        else:
            for c in prange(p.n_chunks, schedule="static", chunksize=1,
                            num_threads=p.n_chunks):
                if ones:
                    _loss_grad_chunk(X_data, X_ind, &indptr[0], p, &w[0], bounds[c],
                                     bounds[c + 1], &acc[c, 0], &part[c], False, z_out,
                                     <Ones*>NULL)
                else:
                    _loss_grad_chunk(X_data, X_ind, &indptr[0], p, &w[0], bounds[c],
                                     bounds[c + 1], &acc[c, 0], &part[c], False, z_out,
                                     <Valued*>NULL)
        for j in range(m):
            g[j] = 0.0
        for c in range(p.n_chunks):
            f += part[c]
            for j in range(m):
                g[j] += acc[c, j]
        f += 0.5 * p.lam * _penalised_dot(p, &w[0], &w[0])
        for j in range(m - 1 + p.reg_bias):
            g[j] += p.lam * w[j]
        stopped = stopped or poll(p.stop)
    return float("nan") if stopped else f


cdef inline bint _lengths_vary(const index_t* indptr, Py_ssize_t start,
                               Py_ssize_t nb) noexcept nogil:
    """Whether most rows of the block ``start..start+nb-1`` differ in length
    from the row before them (w8a: 85 % of its rows; a9a: 14 %)."""
    cdef Py_ssize_t b, changes = 0
    for b in range(1, nb):
        changes += (indptr[start + b + 1] - indptr[start + b]
                    != indptr[start + b] - indptr[start + b - 1])
    return 2 * changes > nb


cdef bint _loss_grad_chunk(const floating* data, const index_t* indices,
                           const index_t* indptr, const Problem* p, const double* w,
                           Py_ssize_t lo, Py_ssize_t hi, double* acc, double* f_out,
                           bint polling, double* z_out,
                           const values_t* kind) noexcept nogil:
    """Rows ``lo..hi-1``: ``sum_i C_i xi(z_i)`` into ``f_out``, ``X~^T u`` into
    ``acc``, the scores into ``z_out`` unless it is NULL; True when
    ``polling`` and the stop flag was set.

    The rows go in blocks of ``LOSS_BLOCK``: their scores, then the block's
    ``exp`` and ``log1p`` in one ``_loss.logistic_block`` call, then the loss and
    the gradient terms, while the block's rows are still in cache.  A block
    whose rows mostly differ in length from the row before goes row by row
    instead (score, scalar ``exp`` and ``log1p``, gradient terms): there the
    branch predictor learns a row's second loop only from its first, just
    before it (rule 4)."""
    cdef Py_ssize_t i, k, b, nb, start = lo, nf = p.m - 1
    cdef double zi, u, h, e, f = 0.0, ci, yi
    cdef double zs[LOSS_BLOCK]
    cdef double es[LOSS_BLOCK]
    cdef double lg[LOSS_BLOCK]
    for k in range(p.m):
        acc[k] = 0.0
    while start < hi:
        if polling and start > lo and ((start - lo) & (POLL_EVERY - 1)) == 0 \
                and poll(p.stop):
            return True
        nb = min(<Py_ssize_t>LOSS_BLOCK, hi - start)
        if _lengths_vary(indptr, start, nb):
            for b in range(nb):
                i = start + b
                ci = p.cost[i]
                if ci == 0.0 and z_out == NULL:
                    continue
                yi = p.y[i]
                zi = dot_from(kind, w[nf] * p.bias, data, indices, indptr[i], indptr[i + 1], w)
                if z_out != NULL:
                    z_out[i] = zi
                    if ci == 0.0:
                        continue
                f += logistic_value_exp(ci, yi, zi, &e)
                logistic_terms(ci, yi, zi, e, &u, &h)
                axpy_of(kind, u, data, indices, indptr[i], indptr[i + 1], acc)
                acc[nf] += u * p.bias
            start += nb
            continue
        for b in range(nb):
            i = start + b
            zi = w[nf] * p.bias
            if p.cost[i] != 0.0 or z_out != NULL:
                zi = dot_from(kind, zi, data, indices, indptr[i], indptr[i + 1], w)
            zs[b] = zi
        if z_out != NULL:
            for b in range(nb):
                z_out[start + b] = zs[b]
        logistic_block(&p.y[start], zs, NULL, 0.0, nb, zs, es, lg)
        for b in range(nb):
            i = start + b
            ci = p.cost[i]
            if ci == 0.0:
                continue
            yi = p.y[i]
            f += logistic_value_log1p(ci, yi, zs[b], lg[b])
            logistic_terms(ci, yi, zs[b], es[b], &u, &h)
            axpy_of(kind, u, data, indices, indptr[i], indptr[i + 1], acc)
            acc[nf] += u * p.bias
        start += nb
    f_out[0] = f
    return False
