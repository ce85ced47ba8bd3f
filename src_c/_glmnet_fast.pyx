# cython: freethreading_compatible = True
"""newGLMNET for L1 and elastic-net regularised logistic regression, by columns.

The problem::

    min_w  F(w) = sum_i C_i log(1 + exp(-y_i w.x~_i))
                  + sum_j (l1_j |w_j| + l2_j w_j^2 / 2)

with ``x~_i = [x_i, bias]``, ``y_i`` in {-1, +1} and ``C_i >= 0``.  Every
feature has the weights ``(l1, l2)``; the bias weight ``w[n_features]`` has
``(l1, l2)`` too when ``reg_bias`` (liblinear's ``-s 6 -B bias``: ``l1 = 1``,
``l2 = 0``) and ``(0, 0)`` otherwise (scikit-learn's unpenalised intercept).

The method is newGLMNET (G.-X. Yuan, C.-H. Ho and C.-J. Lin, "An improved
GLMNET for L1-regularized logistic regression", JMLR 13, 2012; liblinear's
``solve_l1r_lr``).  Write ``L(w)`` for the smooth part (the losses plus the
L2 terms), ``g`` and ``H`` for its gradient and Hessian.  Each outer (Newton)
iteration

1. computes ``g_j`` and ``H_jj + nu`` for every variable (``nu = 1e-12``) in
   one pass over each column; the minimum-norm subgradient ``v_j``
   (``|g_j + l1_j sign(w_j)|``, or ``max(|g_j| - l1_j, 0)`` at ``w_j = 0``)
   measures optimality, and a zero weight with ``|g_j| < l1_j - M/l`` (``M``
   the largest ``v_j`` of the previous iteration, ``l`` the samples of
   positive cost) is left out of this iteration's subproblem;
2. minimises the quadratic model ``g.d + d' (H + nu I) d / 2 + sum_j l1_j
   |w_j + d_j|`` by coordinate descent (cycles in a fresh random order,
   each coordinate a soft-thresholded Newton step, clipped to [-10, 10],
   with ``X d`` kept up to date), shrinking its own active set the same way,
   until the cycle's violation norm is at most ``inner_eps`` times the first
   iteration's (``inner_eps = 1``, divided by 4 whenever a subproblem needed
   only one cycle), at most 1000 cycles (rule 6 tells how the products
   with ``H`` are formed);
3. backtracks along ``d`` (halving it, at most 20 times) until
   ``F(w + d) - F(w) <= sigma (g.d + R1(w + d) - R1(w))``, ``sigma = 0.01``,
   ``R1`` the L1 term: the loss change is summed sample by sample (the
   difference of two large sums would lose the digits near the optimum).

Stopping rules (``rule``): ``RELATIVE``, liblinear's ``sum_j v_j <= tol``
times its value at the start point (the caller scales ``tol`` as liblinear);
``GRADIENT``, ``max_j v_j <= tol`` (the caller passes scikit-learn's
tolerance times ``sum_i C_i``) and, with ``decrement`` and a penalty, the
decrease that the models of the coordinates on the Hessian's diagonal
promise, summed, at most ``tol`` too (:func:`_decrement`: an estimate of
``F - F*``, as scikit-learn's newton-cholesky tests its Newton decrement;
where most features are rare the largest violation meets ``tol`` far from
the optimum: 18 % above it on the IMDB 1-2-gram set at ``C = 100``) and,
with ``relative > 0``, at most ``relative |F|`` (the estimators pass
``tol``: at large C on separable data ``F`` is small, and the absolute test
alone stopped at thousands of times the optimal objective).  For that
relative test the estimate is scaled by how far it fell short of the last
full step's actual decrease (``max(1, -change / promised)``, the estimate at
the step's start as ``promised``): where one sample makes the Hessian far
from its diagonal, the estimate is off by about the same factor from step
to step, and unscaled the fits of a sample weighted 1e8 ended 1 % above the
optimum (median over 30 coordinate orders; 1e-5 scaled).  Where the
relative test applies, a stop it allows is then confirmed on the whole
quadratic model: the next step's coordinate descent runs until its
violation is ``VERIFY_INNER`` of the outer one, and the fit ends there,
without the step, when that model's decrease ``-(g.d + d^T H d / 2 + l1
change)`` is within ``relative |F|`` too; else the step is taken.  The
diagonal alone stopped standardised breast cancer (strongly correlated
columns) 3.5e-2 above the optimum at C = 100 and 9.9 times it at C = 1e4.
Either rule is tested before each Newton step, so the status of the last
one is known (a stop still to be confirmed at ``max_iter`` is not).

Design rules of this module:

1. X arrives transposed, as the proved CSR matrix of ``X.T``, checked as
   ``_l1_cd_fast`` checks it (``_columns.pxd``).  Values are ``floating``
   (float32 stays float32), indices ``int32`` or ``int64``; ``w``, the
   scores and every accumulation are float64.
2. The intercept is a virtual dense column of value ``bias``; with
   ``bias = 0`` it is not a variable and its weight is set to 0.
3. The loss, its derivative and curvature come from ``_loss.pxd``
   (``logistic_value_exp``, ``logistic_terms``: the bits of the logistic
   ``weighted_value``, ``derivative`` and ``curvature``); the per-sample
   state is the score ``z_i = w.x~_i``, its weighted loss, ``C_i xi'(z_i)``
   and ``C_i xi''(z_i)``, all from one ``exp(-|z_i|)``, which the line
   search's accepted trial leaves with its losses.
4. Every loop is bounded: ``max_iter`` Newton steps, 1000 cycles per
   subproblem, 20 line-search trials.  ``_status.poll`` runs once per cycle
   and, within a cycle, whenever the work since the last poll reaches
   ``POLL_EVERY * POLL_COLUMN_COST`` (a coordinate costs its column's
   nonzeros plus ``POLL_COLUMN_COST``).
5. A line search that runs out of trials leaves ``w`` where it is and ends
   the solve with ``LINE_SEARCH_FAILED``: no step of the model decreases
   ``F`` in float64.  So does a subproblem whose every coordinate step
   falls below ``D_MIN`` (a column of scale 1e5 whose optimal step is
   1e-13): it moves nothing, and the next one would be the same (liblinear
   runs on to its iteration limit).  The caller (``_solvers.settle``)
   decides whether the point is optimal to rounding.  A derivative that is
   not finite ends the solve with ``DIVERGED``.
6. The coordinate descent needs ``(H d)_j``.  It starts with the sparse
   products (``sum_i x_ij C_i xi''(z_i) (X~ d)_i``, ``X~ d`` updated along a
   column after each step: about twice the column's nonzeros per
   coordinate).  When X also arrives by rows (``X``) and the active set has
   at most ``GRAM_MAX_VARS`` variables, a subproblem whose sparse cycles
   have cost as many multiply-adds as forming the active block of ``H``
   would (``sum_i m_i (m_i + 1) / 2``, ``m_i`` the nonzeros of ``x~_i``: a
   bound) forms it, sample by sample, and goes on with ``H d`` kept up to
   date (as many multiply-adds per coordinate as active variables); ``X~ d``
   is recomputed at the end.  The iterates are those of the sparse products
   up to rounding, a subproblem costs at most about twice the cheaper of the
   two ways (the rent-or-buy argument), and the long subproblems near the
   optimum on sets with few features (a9a: a hundred cycles of a million
   sparse multiply-adds each) cost little more than forming ``H`` once.
7. When every stored value is 1 (``XT.ones``: a9a, w8a, binary bags of
   words), the column walks and the Hessian's block read only the indices
   (``_sparse.values_t``, chosen at compile time), with the same bits: a
   factor 1 is exact.
8. The column sums (``g_j`` and ``H_jj`` of step 1, ``(H d)_j`` of the
   sparse cycles) add entry ``q`` of the column into partial sum ``q % 4``
   and return ``(s0 + s1) + (s2 + s3)``, as ``_l1_cd_fast`` does: the
   additions need not wait on each other.  Against one sum, alternated in
   one process on a 2-core AMD EPYC Zen 4: ``LogisticRegressionCV(Cs=10,
   cv=5, l1_ratios=(1,), solver="liblinear")`` 1.14x on w8a and 1.19x on
   a9a; the ``-s 6`` fits at C = 0.01 ... 10 (``tol=1e-3``) 1.10x on both.
   The NumPy twin of the tests sums the same way.
"""
import numpy as np

from fastlinear._csr_fast import require_proved

from libc.math cimport INFINITY, fabs, isfinite
from libc.stdint cimport int32_t, int64_t, uint64_t
from cython cimport floating

from _columns cimport bad_label_message, check_columns, check_labels_costs
from _loss cimport (
    LOSS_BLOCK,
    logistic_block,
    logistic_terms,
    logistic_value_exp,
    logistic_value_log1p,
)
from _random cimport rng_seed, shuffle
from _sparse cimport Ones, Valued, index_t, value_at, values_t
from _status cimport CONVERGED, DIVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll

__all__ = ["glmnet", "Rule", "Ending"]

cdef enum:
    MAX_INNER = 1000
    MAX_LINE_SEARCH = 20
    POLL_COLUMN_COST = 64
    GRAM_MAX_VARS = 512     # largest active set whose Hessian is formed (rule 6)

cpdef enum Rule:                # the stopping rules
    RELATIVE = 0
    GRADIENT = 1

cpdef enum Ending:              # status of a solve whose line search found
    LINE_SEARCH_FAILED = 4      # no decrease (rule 5)

cdef double NU = 1.0e-12      # added to the Hessian diagonal
cdef double SIGMA = 0.01      # sufficient decrease of the line search
cdef double D_MIN = 1.0e-12   # smaller coordinate steps are skipped
cdef double D_MAX = 10.0      # coordinate steps are clipped to [-D_MAX, D_MAX]
# A stop's check on the whole model solves it to this share of the outer
# violation (the stopping rules above).
cdef double VERIFY_INNER = 0.1


cdef struct Problem:
    Py_ssize_t n_samples
    Py_ssize_t n_features
    Py_ssize_t n_total      # variables: n_features, plus the bias if bias != 0
    const double* y
    const double* cost
    double* w               # n_features + 1
    double* wpd             # w + d, the subproblem's point
    double* grad            # g_j
    double* hdiag           # H_jj + nu + l2_j
    double* z               # n_samples: scores w.x~_i
    double* ell             # C_i xi(z_i)
    double* ell_new         # C_i xi(z_i + (X~ d)_i), the line search's trial
    double* ez              # exp(-|z_i|) of ell, then of ell_new
    double* gz              # C_i xi'(z_i)
    double* dz              # C_i xi''(z_i)
    double* xd              # (X~ d)_i
    double* gram            # rule 6: the active Hessian, na x na, row-major
    double* hd              # its product with d, na
    Py_ssize_t* pos         # n_features + 1: a variable's row of gram, or -1
    Py_ssize_t* var         # the variable of each row of gram
    Py_ssize_t* rpos        # scratch: a sample's positions in gram
    double* rval            # scratch: and its values
    Py_ssize_t gram_max     # largest active set formed; 0 without X
    double gram_cost        # multiply-adds of forming it, at most
    double bias
    double l1
    double l2
    double l1_bias
    double l2_bias
    double n_used
    int rule
    double reference        # RELATIVE: the sum_j v_j tol is relative to (0: the start's)
    bint decrement          # GRADIENT: also the estimated gap <= tol
    double relative         # and, when > 0, <= relative |F|
    unsigned char* stop


def glmnet(XT, const double[::1] y, const double[::1] cost, double[::1] w, *,
           double bias, double l1, double l2, bint reg_bias, int rule,
           double tol, int max_iter, uint64_t seed, int verbose=0,
           unsigned char[::1] stop=None, double reference=0.0, X=None,
           bint use_ones=True, double n_used=0.0, bint decrement=False,
           double relative=0.0):
    """Minimise ``F`` by newGLMNET from the start point ``w``, in place.

    Parameters
    ----------
    XT : fastlinear._csr_fast.CSR of shape (n_features, n_samples)
        The proof of ``X.T`` in CSR form (the columns of X as rows).
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    cost : ndarray of shape (n_samples,)
        The per-sample ``C_i >= 0``.
    w : ndarray of shape (n_features + 1,)
        The start point on entry, the solution on exit; ``w[n_features]``
        is the weight of the virtual bias feature.
    bias : float
        Value of the constant feature (0 for no intercept).
    l1, l2 : float
        Weights of ``|w_j|`` and ``w_j^2 / 2`` (``l1 > 0``, ``l2 >= 0``).
    reg_bias : bool
        Whether the bias weight is penalised like the others.
    rule : int
        ``RELATIVE`` (liblinear) or ``GRADIENT`` (module docstring).
    tol : float
        The stopping threshold of ``rule``, already scaled.
    max_iter : int
        Maximal number of Newton steps.
    seed : int
        Seed of the coordinate orders.
    verbose : int, default=0
        > 0 prints liblinear-style progress and the final objective.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    reference : float, default=0.0
        ``RELATIVE``: the ``sum_j v_j`` that ``tol`` (and the inner
        solves' tolerance) is relative to; 0 means its value at the start
        point, as liblinear.  A warm start passes the value at ``w = 0``,
        so that it stops at the quality a cold start would.
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features), default=None
        The same matrix by rows (the proof of X, values of the dtype of
        ``XT``): lets the coordinate descent form the active block of the
        Hessian when that is cheaper (module docstring, rule 6).
    use_ones : bool, default=True
        Read only the indices when every stored value is 1 (``XT.ones``,
        rule 7); False reads the values anyway (for tests and measurements).
    n_used : float, default=0.0
        The samples of positive cost the rows stand for, when identical
        samples were merged into one row (``fastlinear._merge``): the
        shrinking thresholds divide by it.  0: the rows of positive cost.
    decrement : bool, default=False
        ``GRADIENT`` with a penalty: stop only when also the decrease that
        the model on the Hessian's diagonal promises (:func:`_decrement`)
        is at most ``tol``.
    relative : float, default=0.0
        With ``decrement``, that decrease must also be at most ``relative
        |F|`` when positive.

    Returns
    -------
    n_iter : int
        Newton steps taken.
    status : int
        ``CONVERGED``, ``MAX_ITER``, ``INTERRUPTED`` or
        ``LINE_SEARCH_FAILED``.
    measure : float
        The stopping measure at the last point: ``max_j v_j`` or
        ``sum_j v_j`` relative to its initial value.
    """
    check_columns(XT, y.shape[0], cost.shape[0], w.shape[0], bias, tol,
                  max_iter, "glmnet")
    if not (l1 > 0 and isfinite(l1)) or not (l2 >= 0 and isfinite(l2)):
        raise ValueError("glmnet: l1 must be finite and > 0 and l2 finite and "
                         ">= 0; got l1=%r, l2=%r." % (l1, l2))
    if rule != RELATIVE and rule != GRADIENT:
        raise ValueError("glmnet: rule must be RELATIVE (0) or GRADIENT (1), "
                         "got %d." % rule)
    if not (reference >= 0 and isfinite(reference)):
        raise ValueError("glmnet: reference must be finite and >= 0, got %r."
                         % reference)
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError("glmnet: stop must have one element.")
    cdef Py_ssize_t n_samples = XT.n_cols, n_features = XT.n_rows, j
    if X is not None:
        require_proved(X, "glmnet")
        if X.n_rows != n_samples or X.n_cols != n_features:
            raise ValueError("glmnet: X must be XT transposed, of shape (%d, %d); "
                             "got (%d, %d)." % (n_samples, n_features,
                                                X.n_rows, X.n_cols))
        if X.data.dtype != XT.data.dtype:
            raise ValueError("glmnet: X and XT must hold values of one dtype; got "
                             "%s and %s." % (X.data.dtype, XT.data.dtype))
    for j in range(n_features + 1):
        if not isfinite(w[j]):
            raise ValueError("glmnet: the start point w has NaN or infinite "
                             "entries.")
    cdef Problem p
    p.n_samples = n_samples
    p.n_features = n_features
    p.n_total = n_features + (1 if bias != 0.0 else 0)
    p.y = &y[0] if n_samples > 0 else NULL
    p.cost = &cost[0] if n_samples > 0 else NULL
    cdef Py_ssize_t bad = check_labels_costs(p.y, p.cost, n_samples, &p.n_used)
    if bad >= 0:
        raise ValueError(bad_label_message("glmnet", bad))
    if p.n_used > 0.0 and n_used > 0.0:
        p.n_used = n_used
    if bias == 0.0:
        w[n_features] = 0.0   # rule 2
    if p.n_used == 0.0:
        # No sample counts: the penalty alone, minimised by w = 0 (an
        # unpenalised bias has no gradient either).
        for j in range(n_features + 1):
            w[j] = 0.0
        return 0, int(CONVERGED), 0.0

    # zeros: with no bias (bias == 0) its slot is never written, but is read
    # (d = wpd - w over every variable); np.empty left whatever freed memory
    # held there, NaN included, and the fit returned w = 0.
    features = np.zeros((3, n_features + 1), dtype=np.float64)
    samples = np.zeros((7, max(n_samples, 1)), dtype=np.float64)
    cdef double[:, ::1] fv = features
    cdef double[:, ::1] sv = samples
    p.w = &w[0]
    p.wpd = &fv[0, 0]
    p.grad = &fv[1, 0]
    p.hdiag = &fv[2, 0]
    p.z = &sv[0, 0]
    p.ell = &sv[1, 0]
    p.gz = &sv[2, 0]
    p.dz = &sv[3, 0]
    p.xd = &sv[4, 0]
    p.ell_new = &sv[5, 0]
    p.ez = &sv[6, 0]
    p.bias = bias
    p.l1 = l1
    p.l2 = l2
    p.l1_bias = l1 if reg_bias else 0.0
    p.l2_bias = l2 if reg_bias else 0.0
    p.rule = rule
    p.reference = reference
    p.decrement = decrement and rule == GRADIENT and (l1 > 0.0 or l2 > 0.0)
    if not (relative >= 0.0 and isfinite(relative)):
        raise ValueError(f"glmnet: relative must be finite and >= 0, got {relative}.")
    p.relative = relative if p.decrement else 0.0
    p.stop = &stop[0]
    order = np.arange(max(n_features + 1, 1), dtype=np.intp)
    cdef Py_ssize_t[::1] order_v = order
    # Rule 6: the buffers of the formed Hessian, only when it can be formed.
    p.gram_max = 0
    p.gram_cost = 0.0
    p.gram = p.hd = p.rval = NULL
    p.pos = p.var = p.rpos = NULL
    rows_data = rows_indices = rows_indptr = None
    cdef double[::1] gram_v, hd_v, rval_v
    cdef Py_ssize_t[::1] pos_v, var_v, rpos_v
    if X is not None and n_samples > 0:
        p.gram_max = min(p.n_total, <Py_ssize_t>GRAM_MAX_VARS)
        row_nnz = np.diff(np.asarray(X.indptr)).astype(np.float64) + (
            1.0 if bias != 0.0 else 0.0)
        # (no BLAS call: its threads would spin beside the solve)
        p.gram_cost = float((row_nnz * (row_nnz + 1.0)).sum()) / 2.0
        rows_data = X.data
        rows_indices = np.asarray(X.indices, dtype=XT.indices.dtype)
        rows_indptr = np.asarray(X.indptr, dtype=XT.indices.dtype)
        gram_v = np.zeros(p.gram_max * p.gram_max + 1)
        hd_v = np.zeros(p.gram_max + 1)
        # a sample's entries (its nonzeros and the bias), and gram's d
        scratch = max(int(row_nnz.max()) + 1, p.gram_max)
        rval_v = np.zeros(scratch)
        pos_v = np.zeros(n_features + 1, dtype=np.intp)
        var_v = np.zeros(p.gram_max + 1, dtype=np.intp)
        rpos_v = np.zeros(scratch, dtype=np.intp)
        p.gram = &gram_v[0]
        p.hd = &hd_v[0]
        p.rval = &rval_v[0]
        p.pos = &pos_v[0]
        p.var = &var_v[0]
        p.rpos = &rpos_v[0]
    cdef bint ones = use_ones and XT.ones
    if XT.data.dtype == np.float32:
        if XT.indices.dtype == np.int32:
            return _run[float, int32_t](XT.data, XT.indices, XT.indptr,
                                        rows_data, rows_indices, rows_indptr,
                                        &p, &order_v[0], tol, max_iter, seed,
                                        verbose, ones)
        return _run[float, int64_t](XT.data, XT.indices, XT.indptr, rows_data,
                                    rows_indices, rows_indptr, &p,
                                    &order_v[0], tol, max_iter, seed, verbose,
                                    ones)
    if XT.indices.dtype == np.int32:
        return _run[double, int32_t](XT.data, XT.indices, XT.indptr, rows_data,
                                     rows_indices, rows_indptr, &p,
                                     &order_v[0], tol, max_iter, seed, verbose,
                                     ones)
    return _run[double, int64_t](XT.data, XT.indices, XT.indptr, rows_data,
                                 rows_indices, rows_indptr, &p, &order_v[0],
                                 tol, max_iter, seed, verbose, ones)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, const floating[::1] rdata,
                 const index_t[::1] rindices, const index_t[::1] rindptr,
                 Problem* p, Py_ssize_t* order, double tol, int max_iter,
                 uint64_t seed, int verbose, bint ones):
    """The solve on one specialisation; ``rdata``, ``rindices``, ``rindptr``
    are X by rows, or None (rule 6)."""
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    # A column's indices are never NULL, even in an X without values: NULL
    # marks the bias column (the column walks), and every feature would
    # read as one.
    cdef index_t no_values = 0
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else &no_values
    cdef const floating* R_data = NULL
    cdef const index_t* R_ind = NULL
    cdef const index_t* R_ptr = NULL
    if rindptr is not None:
        R_data = &rdata[0] if rdata.shape[0] > 0 else NULL
        R_ind = &rindices[0] if rindices.shape[0] > 0 else NULL
        R_ptr = &rindptr[0]
    cdef int n_iter = 0, status = MAX_ITER
    cdef double measure = INFINITY
    with nogil:
        if ones:
            _set_scores(X_data, X_ind, &indptr[0], p, <Ones*>NULL)
            n_iter = _solve(X_data, X_ind, &indptr[0], R_data, R_ind, R_ptr, p,
                            order, tol, max_iter, seed, verbose, &measure,
                            &status, <Ones*>NULL)
        else:
            _set_scores(X_data, X_ind, &indptr[0], p, <Valued*>NULL)
            n_iter = _solve(X_data, X_ind, &indptr[0], R_data, R_ind, R_ptr, p,
                            order, tol, max_iter, seed, verbose, &measure,
                            &status, <Valued*>NULL)
    if verbose > 0:
        print("=========================")
        print("optimization finished, #iter = %d" % n_iter)
        if status == MAX_ITER:
            print("WARNING: reaching max number of iterations")
        print("Objective value = %f" % _objective(p))
        print("#nonzeros/#features = %d/%d" % (_nnz(p), p.n_total))
    return n_iter, status, measure


cdef double _penalty(const Problem* p, const double* w) noexcept nogil:
    """``sum_j l1_j |w_j| + l2_j w_j^2 / 2``."""
    cdef Py_ssize_t j, nf = p.n_features
    cdef double acc = 0.0
    for j in range(nf):
        acc += p.l1 * fabs(w[j]) + 0.5 * p.l2 * w[j] * w[j]
    acc += p.l1_bias * fabs(w[nf]) + 0.5 * p.l2_bias * w[nf] * w[nf]
    return acc


cdef double _penalty_change(const Problem* p, const double* w,
                            const double* v) noexcept nogil:
    """``R(v) - R(w)`` coordinate by coordinate (no cancellation between two sums)."""
    cdef Py_ssize_t j, nf = p.n_features
    cdef double acc = 0.0
    for j in range(nf):
        if v[j] != w[j]:
            acc += p.l1 * (fabs(v[j]) - fabs(w[j])) + 0.5 * p.l2 * (v[j] - w[j]) * (v[j] + w[j])
    if v[nf] != w[nf]:
        acc += (p.l1_bias * (fabs(v[nf]) - fabs(w[nf]))
                + 0.5 * p.l2_bias * (v[nf] - w[nf]) * (v[nf] + w[nf]))
    return acc


cdef double _objective(const Problem* p) noexcept nogil:
    cdef Py_ssize_t i
    cdef double acc = 0.0
    for i in range(p.n_samples):
        acc += p.ell[i]
    return acc + _penalty(p, p.w)


cdef Py_ssize_t _nnz(const Problem* p) noexcept nogil:
    cdef Py_ssize_t j, count = 0
    for j in range(p.n_features + 1):
        if p.w[j] != 0.0:
            count += 1
    return count


# Column walks.  A sparse column is ``indices[start:end]``, ``data[start:end]``;
# the bias column is passed as ``indices = NULL``: every sample, value
# ``p.bias``.

cdef inline void _grad_hess_step(const Problem* p, Py_ssize_t i, double x, double* g,
                                 double* h) noexcept nogil:
    g[0] += x * p.gz[i]
    h[0] += x * x * p.dz[i]


cdef inline void _col_grad_hess(const floating* data, const index_t* indices,
                                Py_ssize_t start, Py_ssize_t end,
                                const Problem* p, double* G,
                                double* H, const values_t* kind) noexcept nogil:
    """``G = sum_i x_ij C_i xi'(z_i)``, ``H = sum_i x_ij^2 C_i xi''(z_i)``, each
    in four partial sums (rule 8)."""
    cdef Py_ssize_t k, i, n = p.n_samples
    cdef double g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0
    cdef double h0 = 0.0, h1 = 0.0, h2 = 0.0, h3 = 0.0
    if indices != NULL:
        k = start
        while k + 4 <= end:
            _grad_hess_step(p, indices[k], value_at(kind, data, k), &g0, &h0)
            _grad_hess_step(p, indices[k + 1], value_at(kind, data, k + 1), &g1, &h1)
            _grad_hess_step(p, indices[k + 2], value_at(kind, data, k + 2), &g2, &h2)
            _grad_hess_step(p, indices[k + 3], value_at(kind, data, k + 3), &g3, &h3)
            k += 4
        if k < end:
            _grad_hess_step(p, indices[k], value_at(kind, data, k), &g0, &h0)
        if k + 1 < end:
            _grad_hess_step(p, indices[k + 1], value_at(kind, data, k + 1), &g1, &h1)
        if k + 2 < end:
            _grad_hess_step(p, indices[k + 2], value_at(kind, data, k + 2), &g2, &h2)
    else:
        i = 0
        while i + 4 <= n:
            _grad_hess_step(p, i, p.bias, &g0, &h0)
            _grad_hess_step(p, i + 1, p.bias, &g1, &h1)
            _grad_hess_step(p, i + 2, p.bias, &g2, &h2)
            _grad_hess_step(p, i + 3, p.bias, &g3, &h3)
            i += 4
        if i < n:
            _grad_hess_step(p, i, p.bias, &g0, &h0)
        if i + 1 < n:
            _grad_hess_step(p, i + 1, p.bias, &g1, &h1)
        if i + 2 < n:
            _grad_hess_step(p, i + 2, p.bias, &g2, &h2)
    G[0] = (g0 + g1) + (g2 + g3)
    H[0] = (h0 + h1) + (h2 + h3)


cdef inline void _hess_dot_step(const Problem* p, Py_ssize_t i, double x,
                                double* acc) noexcept nogil:
    acc[0] += x * p.dz[i] * p.xd[i]


cdef inline double _col_hess_dot(const floating* data, const index_t* indices,
                                 Py_ssize_t start, Py_ssize_t end,
                                 const Problem* p, const values_t* kind) noexcept nogil:
    """``sum_i x_ij C_i xi''(z_i) (X~ d)_i``: row ``j`` of ``H d``, in four
    partial sums (rule 8); the bias column's sum times ``bias``."""
    cdef Py_ssize_t k, i, n = p.n_samples
    cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    if indices != NULL:
        k = start
        while k + 4 <= end:
            _hess_dot_step(p, indices[k], value_at(kind, data, k), &a0)
            _hess_dot_step(p, indices[k + 1], value_at(kind, data, k + 1), &a1)
            _hess_dot_step(p, indices[k + 2], value_at(kind, data, k + 2), &a2)
            _hess_dot_step(p, indices[k + 3], value_at(kind, data, k + 3), &a3)
            k += 4
        if k < end:
            _hess_dot_step(p, indices[k], value_at(kind, data, k), &a0)
        if k + 1 < end:
            _hess_dot_step(p, indices[k + 1], value_at(kind, data, k + 1), &a1)
        if k + 2 < end:
            _hess_dot_step(p, indices[k + 2], value_at(kind, data, k + 2), &a2)
        return (a0 + a1) + (a2 + a3)
    i = 0
    while i + 4 <= n:
        _hess_dot_step(p, i, 1.0, &a0)
        _hess_dot_step(p, i + 1, 1.0, &a1)
        _hess_dot_step(p, i + 2, 1.0, &a2)
        _hess_dot_step(p, i + 3, 1.0, &a3)
        i += 4
    if i < n:
        _hess_dot_step(p, i, 1.0, &a0)
    if i + 1 < n:
        _hess_dot_step(p, i + 1, 1.0, &a1)
    if i + 2 < n:
        _hess_dot_step(p, i + 2, 1.0, &a2)
    return ((a0 + a1) + (a2 + a3)) * p.bias


cdef inline void _col_axpy(double a, const floating* data,
                           const index_t* indices, Py_ssize_t start,
                           Py_ssize_t end, const Problem* p,
                           double* v, const values_t* kind) noexcept nogil:
    """``v_i += a x_ij`` along the column."""
    cdef Py_ssize_t k, i
    cdef double ab = a * p.bias
    if indices != NULL and values_t is Ones:
        for k in range(start, end):
            v[indices[k]] += a
    elif indices != NULL:
        for k in range(start, end):
            v[indices[k]] += a * data[k]
    else:
        for i in range(p.n_samples):
            v[i] += ab


cdef void _set_sample_terms(Problem* p, bint with_loss) noexcept nogil:
    """``C_i xi'`` and ``C_i xi''`` at the scores ``z`` (rule 3), and the
    loss and its ``exp`` when ``with_loss`` (after a line search, its
    accepted trial holds them)."""
    cdef Py_ssize_t i
    for i in range(p.n_samples):
        if with_loss:
            p.ell[i] = logistic_value_exp(p.cost[i], p.y[i], p.z[i], &p.ez[i])
        logistic_terms(p.cost[i], p.y[i], p.z[i], p.ez[i], &p.gz[i],
                       &p.dz[i])


cdef void _set_scores(const floating* data, const index_t* indices,
                      const index_t* indptr, Problem* p, const values_t* kind) noexcept nogil:
    """``z = X~ w``, column by column, then the per-sample terms."""
    cdef Py_ssize_t i, j
    for i in range(p.n_samples):
        p.z[i] = 0.0
    for j in range(p.n_features):
        if p.w[j] != 0.0:
            _col_axpy(p.w[j], data, indices, indptr[j], indptr[j + 1], p, p.z, kind)
    if p.bias != 0.0 and p.w[p.n_features] != 0.0:
        _col_axpy(p.w[p.n_features], data, <const index_t*>NULL, 0, 0, p, p.z, kind)
    _set_sample_terms(p, True)


cdef inline double _violation(double G, double l1j, double wj) noexcept nogil:
    """The minimum-norm subgradient's magnitude at ``wj``."""
    if wj > 0.0:
        return fabs(G + l1j)
    if wj < 0.0:
        return fabs(G - l1j)
    if G + l1j < 0.0:
        return -(G + l1j)
    if G - l1j > 0.0:
        return G - l1j
    return 0.0


cdef inline bint _shrink_or_count(double G, double l1j, double wj,
                                  double threshold, Py_ssize_t* order,
                                  Py_ssize_t s, Py_ssize_t* active,
                                  double* gmax, double* gnorm1) noexcept nogil:
    """Shrinking as liblinear: a zero weight whose derivative lies inside
    ``(-l1j + threshold, l1j - threshold)`` is swapped behind the active set
    (returns True); otherwise its violation is counted."""
    cdef double v
    if wj == 0.0 and G + l1j > threshold and G - l1j < -threshold:
        active[0] -= 1
        order[s], order[active[0]] = order[active[0]], order[s]
        return True
    v = _violation(G, l1j, wj)
    if v > gmax[0]:
        gmax[0] = v
    gnorm1[0] += v
    return False


cdef inline double _newton_step(double G, double H, double l1j,
                                double wj) noexcept nogil:
    """The minimiser ``d`` of ``G d + H d^2 / 2 + l1j |wj + d|``."""
    if G + l1j < H * wj:
        return -(G + l1j) / H
    if G - l1j > H * wj:
        return -(G - l1j) / H
    return -wj


cdef inline bint _gap_small(Problem* p, const Py_ssize_t* order, Py_ssize_t active,
                            double tol, double calibration) noexcept nogil:
    """:func:`_decrement` within ``tol`` and, when ``p.relative > 0``,
    ``calibration`` times it within ``p.relative |F|``."""
    cdef double estimate = _decrement(p, order, active)
    return estimate <= tol and (p.relative == 0.0 or calibration * estimate
                                <= p.relative * fabs(_objective(p)))


cdef double _decrement(const Problem* p, const Py_ssize_t* order,
                       Py_ssize_t active) noexcept nogil:
    """``sum_j`` of the decrease ``-(g_j d_j + H_jj d_j^2 / 2 + l1_j (|w_j +
    d_j| - |w_j|))`` at the minimiser ``d_j`` of each coordinate's model: an
    estimate of ``F(w) - F*`` (the Newton decrement of the model on the
    Hessian's diagonal).  The largest violation alone can meet ``tol`` far
    from the optimum where most features are rare (``_newton_fast``'s rule
    3).  The variables shrunk out of ``order[:active]`` are zero with ``|g_j|
    < l1_j``: their ``d_j`` is 0."""
    cdef Py_ssize_t s, j
    cdef double total = 0.0, G, H, wj, l1j, d
    for s in range(active):
        j = order[s]
        G = p.grad[j]
        H = p.hdiag[j]
        wj = p.w[j]
        l1j = p.l1 if j < p.n_features else p.l1_bias
        d = _newton_step(G, H, l1j, wj)
        total -= G * d + 0.5 * H * d * d + l1j * (fabs(wj + d) - fabs(wj))
    return total


cdef inline const index_t* _column(const index_t* indices,
                                   const index_t* indptr, const Problem* p,
                                   Py_ssize_t j, Py_ssize_t* start,
                                   Py_ssize_t* end, double* l1j,
                                   double* l2j) noexcept nogil:
    """Variable ``j``'s column (``NULL`` and all samples for the bias) and
    penalty weights."""
    if j < p.n_features:
        start[0] = indptr[j]
        end[0] = indptr[j + 1]
        l1j[0] = p.l1
        l2j[0] = p.l2
        return indices
    start[0] = 0
    end[0] = p.n_samples
    l1j[0] = p.l1_bias
    l2j[0] = p.l2_bias
    return NULL


cdef inline bint _polled(Py_ssize_t* budget, Py_ssize_t cost,
                         unsigned char* stop) except -1 nogil:
    """Count ``cost`` against the budget; poll when it runs out (rule 4)."""
    budget[0] -= cost
    if budget[0] < 0:
        budget[0] = <Py_ssize_t>POLL_EVERY * POLL_COLUMN_COST
        return poll(stop) != 0
    return False


cdef void _gram_form(const floating* rdata, const index_t* rindices,
                     const index_t* rindptr, Problem* p,
                     const Py_ssize_t* order, Py_ssize_t active,
                     const values_t* kind) noexcept nogil:
    """Rule 6: ``gram`` = the block of ``X~' diag(C_i xi''(z_i)) X~`` of the
    active variables, numbered in increasing order, summed sample by sample;
    ``pos`` and ``var`` map variables and rows."""
    cdef Py_ssize_t nf = p.n_features, na = active, a, b, i, j, k, m
    cdef Py_ssize_t bias_pos = -1
    cdef double di, va
    cdef double* row
    cdef double* gram = p.gram
    for j in range(nf + 1):
        p.pos[j] = -1
    for a in range(active):
        p.pos[order[a]] = 0
    a = 0
    for j in range(nf + 1):
        if p.pos[j] >= 0:
            p.pos[j] = a
            p.var[a] = j
            a += 1
    if p.bias != 0.0:
        bias_pos = p.pos[nf]
    for a in range(na * na):
        gram[a] = 0.0
    for i in range(p.n_samples):
        di = p.dz[i]
        if di == 0.0:
            continue
        m = 0
        for k in range(rindptr[i], rindptr[i + 1]):
            a = p.pos[rindices[k]]
            if a >= 0:
                p.rpos[m] = a
                p.rval[m] = 1.0 if values_t is Ones else rdata[k]
                m += 1
        if bias_pos >= 0:
            p.rpos[m] = bias_pos
            p.rval[m] = p.bias
            m += 1
        for a in range(m):
            va = di * p.rval[a]
            row = gram + p.rpos[a] * na
            for b in range(a, m):
                row[p.rpos[b]] += va * p.rval[b]
    for a in range(na):
        for b in range(a + 1, na):
            gram[b * na + a] = gram[a * na + b]


cdef void _gram_start(Problem* p, Py_ssize_t na) noexcept nogil:
    """``hd = gram d`` with ``d = wpd - w`` (rule 6)."""
    cdef Py_ssize_t a, b
    cdef double acc
    cdef double* d = p.rval     # scratch: d by rows of gram
    for b in range(na):
        d[b] = p.wpd[p.var[b]] - p.w[p.var[b]]
    for a in range(na):
        acc = 0.0
        for b in range(na):
            acc += p.gram[a * na + b] * d[b]
        p.hd[a] = acc


cdef void _gram_finish(const floating* data, const index_t* indices,
                       const index_t* indptr, Problem* p,
                       Py_ssize_t na, const values_t* kind) noexcept nogil:
    """``xd = X~ (wpd - w)`` from scratch, in increasing variable order
    (rule 6)."""
    cdef Py_ssize_t a, i, j, start, end
    cdef double l1j, l2j
    cdef const index_t* col
    for i in range(p.n_samples):
        p.xd[i] = 0.0
    for a in range(na):
        j = p.var[a]
        if p.wpd[j] != p.w[j]:
            col = _column(indices, indptr, p, j, &start, &end, &l1j, &l2j)
            _col_axpy(p.wpd[j] - p.w[j], data, col, start, end, p, p.xd, kind)


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, const floating* rdata,
                const index_t* rindices, const index_t* rindptr, Problem* p,
                Py_ssize_t* order, double tol, int max_iter, uint64_t seed,
                int verbose, double* measure, int* status,
                const values_t* kind) except -1 nogil:
    """Newton steps until the stopping rule holds, ``max_iter``, or a stop."""
    cdef Py_ssize_t nf = p.n_features, n_total = p.n_total, n = p.n_samples
    cdef Py_ssize_t s, j, i, k, a, active, qp_active, start, end
    cdef bint gram
    cdef double spent
    cdef double* row
    cdef Py_ssize_t budget = <Py_ssize_t>POLL_EVERY * POLL_COLUMN_COST
    cdef const index_t* col
    cdef uint64_t state = rng_seed(seed)
    cdef int n_iter = 0, cycles
    cdef double G, H, l1j, l2j, wj, d, threshold
    cdef double gmax, gnorm1, gnorm1_init = 0.0, gmax_old = INFINITY
    cdef double qp_gmax, qp_gnorm1, qp_gmax_old
    cdef double inner_eps = 1.0, delta, cond, change, promised, calibration = 1.0
    cdef int halvings
    cdef bint verifying = False
    cdef double* w = p.w
    cdef double* wpd = p.wpd
    status[0] = MAX_ITER
    while True:
        # 1. Gradient, Hessian diagonal, violations; outer shrinking.
        gmax = 0.0
        gnorm1 = 0.0
        active = n_total
        threshold = gmax_old / p.n_used
        s = 0
        while s < active:
            j = order[s]
            col = _column(indices, indptr, p, j, &start, &end, &l1j, &l2j)
            if _polled(&budget, end - start + POLL_COLUMN_COST, p.stop):
                status[0] = INTERRUPTED
                return n_iter
            _col_grad_hess(data, col, start, end, p, &G, &H, kind)
            wj = w[j]
            G += l2j * wj
            H += NU + l2j
            if not (isfinite(G) and isfinite(H)):
                status[0] = DIVERGED
                return n_iter
            p.grad[j] = G
            p.hdiag[j] = H
            if _shrink_or_count(G, l1j, wj, threshold, order, s, &active,
                                &gmax, &gnorm1):
                continue
            s += 1
        if n_iter == 0:
            gnorm1_init = p.reference if p.reference > 0.0 else gnorm1
        if p.rule == RELATIVE:
            measure[0] = gnorm1 / gnorm1_init if gnorm1_init > 0.0 else 0.0
            if gnorm1 <= tol * gnorm1_init:
                status[0] = CONVERGED
                break
        else:
            measure[0] = gmax
            if gmax <= tol and (not p.decrement
                                or _gap_small(p, order, active, tol, calibration)):
                if p.relative > 0.0:
                    # Checked on the whole model first: a tight inner solve
                    # whose decrease, if small, confirms the stop (step 3;
                    # at max_iter there is no such solve: not converged).
                    verifying = True
                else:
                    status[0] = CONVERGED
                    break
        if n_iter >= max_iter:
            break
        # What the diagonal models promise from here (rule 3's estimate),
        # to measure it against the full step's actual decrease.
        promised = _decrement(p, order, active) if p.relative > 0.0 else 0.0

        # 2. Coordinate descent on the quadratic model, from d = 0.
        for j in range(nf + 1):
            wpd[j] = w[j]
        for i in range(n):
            p.xd[i] = 0.0
        cycles = 0
        qp_gmax_old = INFINITY
        qp_active = active
        gram = False
        spent = 0.0
        while cycles < MAX_INNER:
            qp_gmax = 0.0
            qp_gnorm1 = 0.0
            threshold = qp_gmax_old / p.n_used
            shuffle(order, qp_active, &state)
            s = 0
            while s < qp_active:
                j = order[s]
                col = _column(indices, indptr, p, j, &start, &end, &l1j, &l2j)
                if _polled(&budget, (active if gram else end - start)
                           + POLL_COLUMN_COST, p.stop):
                    status[0] = INTERRUPTED
                    return n_iter
                H = p.hdiag[j]
                wj = wpd[j]
                if gram:
                    a = p.pos[j]
                    G = p.grad[j] + (wj - w[j]) * (NU + l2j) + p.hd[a]
                else:
                    spent += end - start
                    G = (p.grad[j] + (wj - w[j]) * (NU + l2j)
                         + _col_hess_dot(data, col, start, end, p, kind))
                if _shrink_or_count(G, l1j, wj, threshold, order, s,
                                    &qp_active, &qp_gmax, &qp_gnorm1):
                    continue
                s += 1
                d = _newton_step(G, H, l1j, wj)
                if fabs(d) < D_MIN:
                    continue
                if d > D_MAX:
                    d = D_MAX
                elif d < -D_MAX:
                    d = -D_MAX
                wpd[j] = wj + d
                if gram:
                    row = p.gram + a * active
                    for k in range(active):
                        p.hd[k] += d * row[k]
                else:
                    spent += end - start
                    _col_axpy(d, data, col, start, end, p, p.xd, kind)
            cycles += 1
            if poll(p.stop):
                status[0] = INTERRUPTED
                return n_iter
            if qp_gnorm1 <= (min(inner_eps * gnorm1_init, VERIFY_INNER * gnorm1)
                             if verifying else inner_eps * gnorm1_init):
                if qp_active == active:
                    break
                # Shrinking may have hidden violators: reactivate them.
                qp_active = active
                qp_gmax_old = INFINITY
                continue
            qp_gmax_old = qp_gmax
            if (not gram and spent >= p.gram_cost and active <= p.gram_max
                    and rindptr != NULL):
                _gram_form(rdata, rindices, rindptr, p, order, active, kind)
                _gram_start(p, active)
                gram = True
        if gram:
            _gram_finish(data, indices, indptr, p, active, kind)

        # 3. Line search along d = wpd - w.  No coordinate moved (every step
        # below D_MIN: columns of scale 1e5 and more near the optimum): no
        # step of the model decreases F, and the next iterations would
        # repeat this one (rule 5).
        for j in range(nf + 1):
            if wpd[j] != w[j]:
                break
        else:
            status[0] = LINE_SEARCH_FAILED
            break
        delta = 0.0
        for j in range(nf + 1):
            delta += p.grad[j] * (wpd[j] - w[j])
        delta += _l1_norm(p, wpd) - _l1_norm(p, w)
        if verifying:
            verifying = False
            if -(delta + 0.5 * _model_curvature(p, w, wpd)) <= p.relative * fabs(_objective(p)):
                status[0] = CONVERGED
                break
        for halvings in range(MAX_LINE_SEARCH):
            change = _penalty_change(p, w, wpd) + _loss_change(p)
            cond = change - SIGMA * delta
            if cond <= 0.0:
                if halvings == 0 and promised > 0.0:
                    # How far the estimate fell short of the full step's
                    # decrease: its next values are scaled by that.
                    calibration = max(1.0, -change / promised)
                break
            for j in range(nf + 1):
                wpd[j] = 0.5 * (w[j] + wpd[j])
            for i in range(n):
                p.xd[i] *= 0.5
            delta *= 0.5
        else:
            status[0] = LINE_SEARCH_FAILED
            break
        for j in range(nf + 1):
            w[j] = wpd[j]
        for i in range(n):
            p.z[i] += p.xd[i]
        p.ell, p.ell_new = p.ell_new, p.ell   # the accepted trial's losses
        _set_sample_terms(p, False)
        if cycles == 1:
            inner_eps *= 0.25
        n_iter += 1
        gmax_old = gmax
        if verbose > 0:
            with gil:
                print("iter %3d  #CD cycles %d" % (n_iter, cycles), flush=True)
    return n_iter


cdef double _model_curvature(const Problem* p, const double* w,
                             const double* wpd) noexcept nogil:
    """``d^T H d`` of the quadratic model at ``d = wpd - w`` (``xd = X~ d``):
    ``sum_i C_i xi''(z_i) xd_i^2`` plus the diagonal's ``NU + l2_j``."""
    cdef Py_ssize_t i, j, nf = p.n_features
    cdef double acc = 0.0, dj
    for i in range(p.n_samples):
        acc += p.dz[i] * p.xd[i] * p.xd[i]
    for j in range(nf + 1):
        dj = wpd[j] - w[j]
        acc += (NU + (p.l2 if j < nf else p.l2_bias)) * dj * dj
    return acc


cdef double _l1_norm(const Problem* p, const double* w) noexcept nogil:
    """``sum_j l1_j |w_j|``."""
    cdef Py_ssize_t j, nf = p.n_features
    cdef double acc = 0.0
    for j in range(nf):
        acc += fabs(w[j])
    return p.l1 * acc + p.l1_bias * fabs(w[nf])


cdef double _loss_change(Problem* p) noexcept nogil:
    """``sum_i C_i (xi(z_i + (X d)_i) - xi(z_i))``, ``LOSS_BLOCK`` samples at
    a time (``_loss.logistic_block``); the new losses are kept in
    ``ell_new``, their ``exp`` in ``ez``."""
    cdef Py_ssize_t i, b, nb, start = 0
    cdef double acc = 0.0, e
    cdef double zs[LOSS_BLOCK]
    cdef double lg[LOSS_BLOCK]
    while start < p.n_samples:
        nb = min(<Py_ssize_t>LOSS_BLOCK, p.n_samples - start)
        logistic_block(&p.y[start], &p.z[start], &p.xd[start], 1.0, nb, zs, &p.ez[start], lg)
        for b in range(nb):
            i = start + b
            e = logistic_value_log1p(p.cost[i], p.y[i], zs[b], lg[b])
            p.ell_new[i] = e
            acc += e - p.ell[i]
        start += nb
    return acc
