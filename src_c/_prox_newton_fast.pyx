# cython: freethreading_compatible = True
"""The inner solver of proximal Newton for L1 / elastic-net multinomial logistic regression.

The problem (scikit-learn's ``LogisticRegression(solver="saga",
l1_ratio=r)`` on K >= 3 classes, multiplied by ``C`` times the sample count)::

    F(W) = sum_i s_i (logsumexp(z_i) - z_i[y_i]) + lam/2 ||W[:-1]||_F^2
           + l1 ||W[:-1]||_1,        z_i = x~_i W,  x~_i = [x_i, bias]

with ``W`` of shape ``(m, K)`` (``m = n_features + 1``, feature-major, the
unpenalised bias row last), ``lam = 1 - r`` and ``l1 = r``.  The Python
driver (``fastlinear._prox_newton``) takes outer steps; at each it has the
probabilities ``P`` and the gradient ``G`` of the smooth part (from
``fastlinear._multinomial_fast.loss_grad``) and asks this module for the
step ``D`` that minimises the quadratic model plus the L1 term::

    Q(D) = G.D + 1/2 sum_i s_i (r_i^T diag(p_i) r_i - (p_i . r_i)^2)
           + lam/2 ||D[:-1]||^2 + l1 ||(W + D)[:-1]||_1,      r_i = x~_i D

with the exact multinomial Hessian (``H = sum_i s_i x~_i x~_i^T (x) (diag(p_i)
- p_i p_i^T)``).  Coordinate descent visits the active features, and the
``K`` classes of each in turn (the classes interact in ``Q``): a walk
along the column gives the coordinate's derivative ``G_jc + sum_i s_i p_ic
x~_ij (R_ic - u_i) + lam D_jc`` and curvature ``sum_i h_ic x~_ij^2 + lam``
(``h_ic = s_i p_ic (1 - p_ic)``, cached per coordinate), a soft threshold
gives the move, and a second walk updates ``R = X~ D`` (``n x K``) and
``u_i = p_i . R_i``.  glmnet's multinomial solver (J. Friedman, T. Hastie
and R. Tibshirani, "Regularization paths for generalized linear models via
coordinate descent", J. Stat. Softw. 2010, section 4) keeps only the
per-class blocks of ``H``; measured, that model converges linearly and
much more slowly (bench/results/MULTINOMIAL_L1.md).
The driver then backtracks along ``D`` on ``F`` itself
(:func:`loss_change` gives the loss part of ``F(W + t D) - F(W)`` from
``P`` and ``R``), as newGLMNET does for the binary problem (G.-X. Yuan,
C.-H. Ho and C.-J. Lin, "An improved GLMNET for L1-regularized logistic
regression", JMLR 2012).

Design rules of this module:

1. X arrives transposed, as the ``fastlinear._csr_fast.CSR`` proof of
   ``X.T`` (its rows are the columns of X); values are ``floating``
   (float32 stays float32), indices ``int32`` or ``int64``; every
   accumulation is float64.  The bias column is virtual (value ``bias``
   for every sample; ``bias = 0`` leaves it out).  X is never copied.
2. The per-sample arrays ``P``, ``R``, ``s p`` and ``h`` are ``n x K``
   row-major; ``u`` has ``n`` entries.
3. Coordinate descent runs cyclically over the features listed in
   ``active`` (the driver's active set), each pass in the same order, so
   the result is deterministic and a NumPy twin reproduces it.  A pass
   measures the largest violation of ``Q``'s optimality (the minimum-norm
   subgradient of ``Q`` at each coordinate before its update); the solve
   stops when it falls to ``inner_tol`` or after ``max_pass`` passes.
4. Every loop is bounded.  ``_status.poll`` runs once per pass and
   whenever the work since the last poll reaches ``POLL_EVERY *
   POLL_COLUMN_COST`` units, a feature counting as its column's nonzeros
   plus ``POLL_COLUMN_COST``.  The loops run without the GIL; the checks
   are made at the ``def`` boundary.
5. Shrinking (liblinear's rule): a coordinate at zero whose derivative
   lies inside ``(-l1 + M/l, l1 - M/l)`` (``M``: the previous pass's
   largest violation, ``l``: samples with ``s_i > 0``) is skipped for the
   rest of the solve; when the stopping test holds on a shrunk set, the set
   is restored and one more pass decides.
6. ``Q`` does not change along ``D[j] += c (1, ..., 1)`` except through the
   penalty (``H`` and ``G`` are orthogonal to these directions: the
   softmax is invariant and ``sum_k (p_ik - y_ik) = 0``).  After each pass
   every active row of ``W + D`` moves to the ``c`` that minimises its
   penalty (:func:`shift_rows`), which coordinate descent alone reaches
   only slowly (Friedman, Hastie & Tibshirani 2010, section 4.1).
7. Damping: with ``mu > 0`` the model is ``Q(D) + mu/2 sum_j ||D[j] -
   mean(D[j])||^2``; a coordinate's derivative gains ``mu (D_jc -
   mean(D[j]))`` and its curvature ``mu (1 - 1/K)`` (the row's mean kept
   as its classes move).  The term does not change along the shifts of
   rule 6.  The driver sets ``mu`` (``fastlinear._prox_newton``, rule 8).
"""
import numpy as np

from libc.math cimport INFINITY, exp, expm1, fabs, isfinite, log, log1p
from libc.stdint cimport int32_t, int64_t
from cython cimport floating

from _sparse cimport index_t
from _status cimport CONVERGED, INTERRUPTED, MAX_ITER, POLL_EVERY, poll

from fastlinear._csr_fast import require_proved

__all__ = ["cd_model", "loss_change"]


cdef enum:
    POLL_COLUMN_COST = 64   # a coordinate's fixed cost, in nonzeros (rule 4)

cdef double H_MIN = 1.0e-12  # smaller curvatures: the coordinate is left alone


cdef struct Model:
    # What a pass reads and writes, besides X^T.
    Py_ssize_t n            # samples
    Py_ssize_t nf           # features (rows of X^T)
    Py_ssize_t K            # classes
    const double* G         # m x K gradient of the smooth part at W
    const double* W         # m x K current weights
    double* D               # m x K step (in/out)
    double* R               # n x K: X~ D
    const double* P         # n x K probabilities
    const double* sp        # n x K: s_i p_ik
    const double* h         # n x K: s_i p_ik (1 - p_ik)
    double* u               # n: p_i . R_i
    unsigned char* skip     # m x K: shrunk coordinates (rule 5)
    double* curv            # m x K: sum_i h_ik x~_ij^2, -1 until computed
    double* row             # K: scratch
    double bias
    double lam
    double l1
    double mu               # damping of the centred step (rule 7)
    double n_used           # samples with s_i > 0
    unsigned char* stop


cdef inline double _derivative(const floating* data, const index_t* indices,
                               Py_ssize_t start, Py_ssize_t end, Py_ssize_t c,
                               const Model* q) noexcept nogil:
    """``sum_i s_i p_ic x~_ij (R_ic - u_i)``, the ``(j, c)`` entry of ``H D``,
    along the column (``indices = NULL``: the bias column)."""
    cdef Py_ssize_t k, i, ic, K = q.K
    cdef double x, acc = 0.0
    if indices != NULL:
        for k in range(start, end):
            i = indices[k]
            ic = i * K + c
            acc += data[k] * q.sp[ic] * (q.R[ic] - q.u[i])
    else:
        x = q.bias
        for i in range(q.n):
            ic = i * K + c
            acc += x * q.sp[ic] * (q.R[ic] - q.u[i])
    return acc


cdef inline double _curvature(const floating* data, const index_t* indices,
                              Py_ssize_t start, Py_ssize_t end, Py_ssize_t c,
                              const Model* q) noexcept nogil:
    """``sum_i h_ic x~_ij^2`` along the column (the diagonal of ``H``)."""
    cdef Py_ssize_t k, i, K = q.K
    cdef double x, acc = 0.0
    if indices != NULL:
        for k in range(start, end):
            x = data[k]
            acc += x * x * q.h[indices[k] * K + c]
    else:
        x = q.bias * q.bias
        for i in range(q.n):
            acc += x * q.h[i * K + c]
    return acc


cdef inline void _move(const floating* data, const index_t* indices,
                       Py_ssize_t start, Py_ssize_t end, Py_ssize_t c,
                       double dc, const Model* q) noexcept nogil:
    """``R_ic += x~_ij dc`` and ``u_i += p_ic x~_ij dc`` along the column."""
    cdef Py_ssize_t k, i, ic, K = q.K
    cdef double v
    if indices != NULL:
        for k in range(start, end):
            i = indices[k]
            ic = i * K + c
            v = data[k] * dc
            q.R[ic] += v
            q.u[i] += q.P[ic] * v
    else:
        v = q.bias * dc
        for i in range(q.n):
            ic = i * K + c
            q.R[ic] += v
            q.u[i] += q.P[ic] * v


cdef inline double _violation(double g, double z, double l1) noexcept nogil:
    """The minimum-norm subgradient of ``g (u - z) + l1 |u|`` at ``u = z``."""
    cdef double v
    if z > 0.0:
        return fabs(g + l1)
    if z < 0.0:
        return fabs(g - l1)
    v = fabs(g) - l1
    return v if v > 0.0 else 0.0


cdef inline double _newton_move(double g, double hh, double z,
                                double l1) noexcept nogil:
    """``argmin_u g (u - z) + hh/2 (u - z)^2 + l1 |u|`` minus ``z`` (a soft
    threshold)."""
    cdef double u = z - g / hh, t = l1 / hh
    if u > t:
        u -= t
    elif u < -t:
        u += t
    else:
        u = 0.0
    return u - z


cdef inline double _row_penalty(const double* w, Py_ssize_t K, double c,
                                double lam, double l1) noexcept nogil:
    """``sum_k lam/2 (w_k - c)^2 + l1 |w_k - c|``."""
    cdef Py_ssize_t k
    cdef double acc = 0.0, v
    for k in range(K):
        v = w[k] - c
        acc += 0.5 * lam * v * v + l1 * fabs(v)
    return acc


cdef double _best_shift(const double* w, Py_ssize_t K, double lam,
                        double l1) noexcept nogil:
    """The ``c`` minimising ``sum_k lam/2 (w_k - c)^2 + l1 |w_k - c|``, or 0
    when no candidate beats ``c = 0`` by more than rounding (see
    :func:`shift_rows`)."""
    cdef Py_ssize_t k, q, below
    cdef double best, best_c = 0.0, c, lo, hi, total = 0.0, val, at_zero
    for k in range(K):
        total += w[k]
    at_zero = _row_penalty(w, K, 0.0, lam, l1)
    best = at_zero
    if best == 0.0:
        return 0.0
    for q in range(K):
        # The kink at w_q ...
        c = w[q]
        val = _row_penalty(w, K, c, lam, l1)
        if val < best:
            best, best_c = val, c
        if lam == 0.0:
            continue
        # ... and the stationary point of the piece just above it, where
        # ``below`` entries lie under c.
        below = 0
        hi = INFINITY
        for k in range(K):
            if w[k] <= w[q]:
                below += 1
            elif w[k] < hi:
                hi = w[k]
        lo = w[q]
        c = (total - l1 * (2 * below - K) / lam) / K
        if lo < c < hi:
            val = _row_penalty(w, K, c, lam, l1)
            if val < best:
                best, best_c = val, c
    if lam > 0.0:
        # The piece below every entry.
        lo = INFINITY
        for k in range(K):
            if w[k] < lo:
                lo = w[k]
        c = (total + l1 * K / lam) / K
        if c < lo:
            val = _row_penalty(w, K, c, lam, l1)
            if val < best:
                best, best_c = val, c
    if best < (1.0 - 1e-12) * at_zero:
        return best_c
    return 0.0


cdef void _shift_rows_of_model(const floating* data, const index_t* indices,
                               const index_t* indptr, const Model* q,
                               const Py_ssize_t* active,
                               Py_ssize_t n_active) noexcept nogil:
    """Rule 6: move each active row ``(W + D)[j]`` along ``(1, ..., 1)`` to
    its best shift, keeping ``R`` and ``u`` (``u_i`` moves by the shift
    times ``x_ij``, the probabilities summing to 1)."""
    cdef Py_ssize_t s, j, c, k, K = q.K
    cdef double shift, v
    for s in range(n_active):
        j = active[s]
        if j >= q.nf:
            continue
        for c in range(K):
            q.row[c] = q.W[j * K + c] + q.D[j * K + c]
        shift = _best_shift(q.row, K, q.lam, q.l1)
        if shift == 0.0:
            continue
        for c in range(K):
            v = q.row[c] - shift
            if fabs(v) <= 1e-15 * fabs(shift):
                v = 0.0
            q.D[j * K + c] = v - q.W[j * K + c]
            q.skip[j * K + c] = 0
        for k in range(indptr[j], indptr[j + 1]):
            v = shift * data[k]
            q.u[indices[k]] -= v
            for c in range(K):
                q.R[indices[k] * K + c] -= v


cdef int _solve(const floating* data, const index_t* indices,
                const index_t* indptr, const Model* q,
                const Py_ssize_t* active, Py_ssize_t n_active,
                double inner_tol, int max_pass, int* n_pass,
                double* violation) except -1 nogil:
    """Cyclic passes over the coordinates of ``active`` (rules 3 and 5);
    returns a status."""
    cdef Py_ssize_t s, j, c, jc, start, end, K = q.K
    cdef Py_ssize_t budget = <Py_ssize_t>POLL_EVERY * POLL_COLUMN_COST
    cdef Py_ssize_t n_skipped = 0
    cdef const index_t* col
    cdef double worst, v, g, hh, z, dc, lam, l1, mean = 0.0
    cdef double worst_old = INFINITY, cut
    cdef double damp = q.mu * (1.0 - 1.0 / K)
    cdef bint penalised
    n_pass[0] = 0
    violation[0] = INFINITY
    while n_pass[0] < max_pass:
        worst = 0.0
        cut = q.l1 - worst_old / q.n_used
        for s in range(n_active):
            j = active[s]
            penalised = j < q.nf
            lam = q.lam if penalised else 0.0
            l1 = q.l1 if penalised else 0.0
            if penalised:
                col = indices
                start = indptr[j]
                end = indptr[j + 1]
            else:
                col = NULL
                start = 0
                end = q.n
            if q.mu > 0.0:
                mean = 0.0
                for c in range(K):
                    mean += q.D[j * K + c]
                mean /= K
            for c in range(K):
                jc = j * K + c
                if q.skip[jc]:
                    continue
                budget -= end - start + POLL_COLUMN_COST
                if budget < 0:
                    budget = <Py_ssize_t>POLL_EVERY * POLL_COLUMN_COST
                    if poll(q.stop) != 0:
                        return INTERRUPTED
                g = _derivative(data, col, start, end, c, q) + q.G[jc] + lam * q.D[jc]
                if q.curv[jc] < 0.0:
                    # Constant within the model: computed at the first visit.
                    q.curv[jc] = _curvature(data, col, start, end, c, q)
                hh = q.curv[jc] + lam
                if q.mu > 0.0:
                    g += q.mu * (q.D[jc] - mean)
                    hh += damp
                z = q.W[jc] + q.D[jc]
                if penalised and z == 0.0 and fabs(g) < cut:
                    # Rule 5: well inside the L1 ball, it stays at zero.
                    q.skip[jc] = 1
                    n_skipped += 1
                    continue
                v = _violation(g, z, l1)
                if v > worst:
                    worst = v
                if hh < H_MIN or not (v > 0.0):
                    continue
                dc = _newton_move(g, hh, z, l1)
                if dc != 0.0:
                    q.D[jc] += dc
                    mean += dc / K
                    _move(data, col, start, end, c, dc, q)
        _shift_rows_of_model(data, indices, indptr, q, active, n_active)
        n_pass[0] += 1
        violation[0] = worst
        if poll(q.stop) != 0:
            return INTERRUPTED
        if worst <= inner_tol:
            if n_skipped == 0:
                return CONVERGED
            # Shrinking may hide violators: a full pass decides.
            for s in range(n_active):
                for c in range(K):
                    q.skip[active[s] * K + c] = 0
            n_skipped = 0
            worst_old = INFINITY
            continue
        worst_old = worst
    return MAX_ITER


def cd_model(XT, const double[::1] s, const double[:, ::1] P,
             const double[:, ::1] G, const double[:, ::1] W, double[:, ::1] D,
             double[:, ::1] R, const Py_ssize_t[::1] active, *, double bias,
             double lam, double l1, double inner_tol, int max_pass,
             unsigned char[::1] stop=None, double n_used=0.0, double mu=0.0):
    """Minimise the model ``Q(D)`` by cyclic coordinate descent, in place.

    Parameters
    ----------
    XT : fastlinear._csr_fast.CSR of shape (n_features, n_samples)
        The proof of ``X.T`` in CSR form.
    s : ndarray of shape (n_samples,)
        Per-sample costs ``s_i >= 0``.
    P : ndarray of shape (n_samples, K)
        Class probabilities at ``W``.
    G : ndarray of shape (n_features + 1, K)
        Gradient of the smooth part of ``F`` at ``W`` (the L2 term included).
    W : ndarray of shape (n_features + 1, K)
        The current weights, the bias row last.
    D : ndarray of shape (n_features + 1, K)
        The start step on entry (usually zeros), the model's minimiser on exit.
    R : ndarray of shape (n_samples, K)
        ``X~ D`` on entry (zeros with ``D = 0``), kept equal to it.
    active : ndarray of intp
        The features visited, in order; ``n_features`` is the bias row (only
        with ``bias != 0``).
    bias : float
        Value of the constant feature (0: no intercept).
    lam, l1 : float
        Weights ``>= 0`` of the L2 and L1 terms on the rows ``W[:-1]``.
    inner_tol : float
        Stop when a pass's largest violation is at most this.
    max_pass : int
        Maximal number of passes.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    n_used : float, default=0.0
        The samples of positive ``s_i`` the rows stand for, when identical
        samples were merged into one row (``fastlinear._merge``): the
        shrinking cut divides by it.  0: the rows of positive ``s_i``.
    mu : float, default=0.0
        Damping ``>= 0``: the model minimised is ``Q(D) + mu/2 sum_j
        ||D[j] - mean(D[j])||^2`` (rule 7).

    Returns
    -------
    n_pass : int
        Passes run.
    status : int
        ``CONVERGED`` (0), ``MAX_ITER`` (1) or ``INTERRUPTED`` (2).
    violation : float
        The largest violation of the last pass.
    """
    require_proved(XT, "cd_model")
    cdef Py_ssize_t nf = XT.n_rows, n = XT.n_cols, K = P.shape[1]
    if P.shape[0] != n or s.shape[0] != n or R.shape[0] != n or R.shape[1] != K:
        raise ValueError(f"cd_model: s, P and R must have n_samples = {n} rows "
                         f"(the columns of XT) and P, R {K} columns.")
    for name, arr in (("G", G), ("W", W), ("D", D)):
        if arr.shape[0] != nf + 1 or arr.shape[1] != K:
            raise ValueError(f"cd_model: {name} must have shape (n_features + 1, K) = "
                             f"({nf + 1}, {K}), got ({arr.shape[0]}, {arr.shape[1]}).")
    if K < 2:
        raise ValueError(f"cd_model: K must be >= 2 classes, got {K}.")
    if not (lam >= 0.0 and l1 >= 0.0 and mu >= 0.0 and isfinite(lam) and isfinite(l1)
            and isfinite(mu) and isfinite(bias) and inner_tol >= 0.0) or max_pass < 1:
        raise ValueError(f"cd_model: need finite lam, l1, mu >= 0, finite bias, "
                         f"inner_tol >= 0 and max_pass >= 1; got lam={lam}, "
                         f"l1={l1}, mu={mu}, bias={bias}, inner_tol={inner_tol}, "
                         f"max_pass={max_pass}.")
    act = np.asarray(active)
    if act.size and (act.min() < 0 or act.max() > nf or (bias == 0.0 and act.max() == nf)):
        raise ValueError(f"cd_model: active must hold feature indices in [0, {nf}) "
                         "(and n_features for the bias row when bias != 0).")
    if stop is None:
        stop = np.zeros(1, dtype=np.uint8)
    elif stop.shape[0] != 1:
        raise ValueError("cd_model: stop must have one element.")
    cost = np.asarray(s)
    sp_work = np.multiply(cost[:, None], P)
    h_work = np.multiply(sp_work, np.subtract(1.0, P))
    u_work = np.zeros(max(n, 1), dtype=np.float64)
    if n:
        np.einsum("ik,ik->i", P, R, out=u_work[:n])
    skip_work = np.zeros((nf + 1) * K, dtype=np.uint8)
    curv_work = np.full((nf + 1) * K, -1.0)
    row_work = np.zeros(K)
    cdef double[::1] curv_v = curv_work
    cdef double[::1] row_v = row_work
    cdef double[:, ::1] sp_v = sp_work
    cdef double[:, ::1] h_v = h_work
    cdef double[::1] u_v = u_work
    cdef unsigned char[::1] skip_v = skip_work
    cdef Model q
    q.n = n
    q.nf = nf
    q.K = K
    q.G = &G[0, 0]
    q.W = &W[0, 0]
    q.D = &D[0, 0]
    q.R = &R[0, 0] if n > 0 else NULL
    q.P = &P[0, 0] if n > 0 else NULL
    q.sp = &sp_v[0, 0] if n > 0 else NULL
    q.h = &h_v[0, 0] if n > 0 else NULL
    q.u = &u_v[0]
    q.skip = &skip_v[0]
    q.curv = &curv_v[0]
    q.row = &row_v[0]
    q.bias = bias
    q.lam = lam
    q.l1 = l1
    q.mu = mu
    q.n_used = n_used if n_used > 0.0 else max(1.0, float(np.count_nonzero(cost)))
    q.stop = &stop[0]
    if XT.data.dtype == np.float32:
        if XT.indices.dtype == np.int32:
            return _run[float, int32_t](XT.data, XT.indices, XT.indptr, &q,
                                        active, inner_tol, max_pass)
        return _run[float, int64_t](XT.data, XT.indices, XT.indptr, &q,
                                    active, inner_tol, max_pass)
    if XT.indices.dtype == np.int32:
        return _run[double, int32_t](XT.data, XT.indices, XT.indptr, &q,
                                     active, inner_tol, max_pass)
    return _run[double, int64_t](XT.data, XT.indices, XT.indptr, &q, active,
                                 inner_tol, max_pass)


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Model* q,
                 const Py_ssize_t[::1] active, double inner_tol, int max_pass):
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    # A column's indices are never NULL, even in an X without values: NULL
    # marks the bias column (the column walks), and every feature would
    # read as one.
    cdef index_t no_values = 0
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else &no_values
    cdef const Py_ssize_t* act = &active[0] if active.shape[0] > 0 else NULL
    cdef int n_pass = 0, status
    cdef double violation = 0.0
    with nogil:
        status = _solve(X_data, X_ind, &indptr[0], q, act, active.shape[0],
                        inner_tol, max_pass, &n_pass, &violation)
    return n_pass, status, violation


def loss_change(const double[:, ::1] P, y_ind, const double[::1] s,
                const double[:, ::1] T, double t):
    """``sum_i s_i [logsumexp(z_i + t T_i) - logsumexp(z_i) - t T_i[y_i]]``.

    Computed from the probabilities ``P = softmax(Z)`` without ``Z``: per
    sample ``log(sum_k p_ik exp(t T_ik)) - t T_iy``, as
    ``log1p(sum_k p_ik expm1(t T_ik))`` when every ``|t T_ik| <= 1`` (exact
    to rounding of the change itself), else with the largest exponent
    taken out (classes with ``p_ik = 0`` contribute nothing).

    Parameters
    ----------
    P : ndarray of shape (n_samples, K)
        Class probabilities at the current weights.
    y_ind : ndarray of intp of shape (n_samples,)
        Class indices in ``[0, K)``.
    s : ndarray of shape (n_samples,)
        Per-sample costs.
    T : ndarray of shape (n_samples, K)
        ``X~ D``, the scores' change along the step ``D``.
    t : float
        The step length.

    Returns
    -------
    change : float
    """
    cdef Py_ssize_t n = P.shape[0], K = P.shape[1]
    y = np.ascontiguousarray(y_ind, dtype=np.intp)
    if y.shape != (n,) or s.shape[0] != n or T.shape[0] != n or T.shape[1] != K:
        raise ValueError(f"loss_change: y_ind and s must have {n} entries and T "
                         f"shape ({n}, {K}) like P.")
    if n and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"loss_change: y_ind must lie in [0, {K}).")
    cdef const Py_ssize_t[::1] yv = y
    cdef Py_ssize_t i, c
    cdef double total = 0.0, big, acc, si
    cdef const double* pi
    cdef const double* ti
    with nogil:
        for i in range(n):
            si = s[i]
            if si == 0.0:
                continue
            pi = &P[i, 0]
            ti = &T[i, 0]
            big = 0.0
            for c in range(K):
                if pi[c] > 0.0 and fabs(t * ti[c]) > big:
                    big = fabs(t * ti[c])
            acc = 0.0
            if big <= 1.0:
                for c in range(K):
                    acc += pi[c] * expm1(t * ti[c])
                acc = log1p(acc)
            else:
                big = -INFINITY
                for c in range(K):
                    if pi[c] > 0.0 and t * ti[c] > big:
                        big = t * ti[c]
                for c in range(K):
                    if pi[c] > 0.0:
                        acc += pi[c] * exp(t * ti[c] - big)
                acc = log(acc) + big
            total += si * (acc - t * ti[yv[i]])
    return total


def shift_rows(double[:, ::1] W, Py_ssize_t n_rows, *, double lam, double l1):
    """Move each row ``W[j] -> W[j] - c_j 1`` to the ``c_j`` that minimises its penalty.

    The softmax of ``x_i W`` does not change when one vector ``c 1`` is added
    to row ``j`` of ``W`` (every score of sample ``i`` moves by ``c x_ij``),
    so the loss is flat along these ``n_features`` directions and only the
    penalty ``sum_k lam/2 (W_jk - c)^2 + l1 |W_jk - c|`` decides
    (Friedman, Hastie & Tibshirani 2010, section 4.1).  It is convex and
    piecewise quadratic in ``c``: its minimum lies at one of the ``W_jk`` or
    at the stationary point of one of the pieces between them; every such
    candidate is tried (``O(K^2)`` per row).  A row keeps ``c = 0`` unless a
    candidate lowers its penalty by more than rounding, so zero rows and
    rows already optimal are left exactly as they are.

    Parameters
    ----------
    W : ndarray of shape (m, K)
        The weights, changed in place in rows ``0 .. n_rows - 1``.
    n_rows : int
        The penalised rows (the bias row, if any, comes after them).
    lam, l1 : float
        Weights ``>= 0`` of the L2 and L1 terms.

    Returns
    -------
    n_moved : int
        Rows that moved.
    """
    cdef Py_ssize_t m = W.shape[0], K = W.shape[1], j, k, n_moved = 0
    if not (0 <= n_rows <= m) or not (lam >= 0.0 and l1 >= 0.0):
        raise ValueError(f"shift_rows: need 0 <= n_rows <= {m}, lam >= 0 and l1 >= 0; "
                         f"got n_rows={n_rows}, lam={lam}, l1={l1}.")
    cdef double* w
    cdef double c
    with nogil:
        for j in range(n_rows):
            w = &W[j, 0]
            c = _best_shift(w, K, lam, l1)
            if c != 0.0:
                for k in range(K):
                    w[k] -= c
                    if fabs(w[k]) <= 1e-15 * fabs(c):
                        w[k] = 0.0
                n_moved += 1
    return n_moved
