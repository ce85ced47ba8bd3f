"""Proximal Newton for L1 / elastic-net multinomial logistic regression.

The problem is scikit-learn's ``LogisticRegression(solver="saga",
l1_ratio=r, C=C)`` on ``K >= 3`` classes (softmax over all ``K`` classes,
unpenalised intercepts)::

    min_{W, b}  F = sum_i s_i CE_i + (1 - r)/2 ||W||_F^2 + r ||W||_1,
    CE_i = logsumexp(W x_i + b) - (W x_i + b)[y_i],     s_i = C * sample_weight_i

(scikit-learn's saga minimises ``F / (C n)``: ``alpha = (1 - r) / C`` and
``beta = r / C``, both divided by ``n``, see ``sklearn/linear_model/_logistic.py``
and ``_sag.py``).  The method, after glmnet (Friedman, Hastie & Tibshirani,
J. Stat. Softw. 2010) and newGLMNET (Yuan, Ho & Lin, JMLR 2012):

1. At ``W`` the probabilities ``P``, the smooth part of ``F`` and its
   gradient ``G`` come from one pass over X by rows
   (``fastlinear._multinomial_fast.loss_grad``, threaded with ``n_threads``).
2. The stopping test: the largest minimum-norm subgradient of ``F / sum_i s_i``
   (the mean objective) is at most ``tol``, the rule of the L2 solvers
   (``fastlinear._solvers.gradient_tol``), and then the decrease that each
   coordinate's model on the Hessian's diagonal promises, summed, at most
   ``tol`` on the mean objective (:func:`_decrement`, one more pass over X
   when the first test passes; scikit-learn's newton-cholesky has this
   second test with the whole Hessian): where most features are rare the
   first test alone passes far from the optimum.  That decrease must also
   be at most ``tol F`` (:data:`fastlinear._solvers.RELATIVE_DECREMENT_WIDE`;
   not when a class has no cost): at large C on separable data ``F`` is
   small, and the absolute test alone stopped at 4 times the optimal
   objective (50 x 5,000 sparse features, 4 classes, C = 1e6).  For that
   relative test an estimate is scaled by how far the last one that failed
   it fell short of the full step taken from there (``max(1, (F_before -
   F) / estimate)``): where the Hessian is far from its diagonal the
   estimate is off by about the same factor from step to step.  Once
   that factor has exceeded :data:`CONFIRM_SHORTFALL` on some full step, a
   stop the estimate allows is checked on the whole quadratic model first:
   the next step's model is solved (with :data:`CONFIRM_PASSES` times the
   passes) and the fit ends there, without the step, if its decrease
   ``-(G.D + D.H D / 2 + r ||W + D||_1 - r ||W||_1)`` is within ``tol F``;
   else the step is taken.  Three classes on dense columns from common
   factors with scales spread over ``e^-2 .. e^2`` stopped up to 1.8e-3
   above the optimal objective at C = 100, silently; now within 4.1e-4.
3. The step ``D`` minimises the quadratic model of the smooth part (its
   exact Hessian) plus the L1 term, by cyclic coordinate descent over the
   active features and their classes, column by column, with the rows of
   ``W + D`` moved to their best shifts along ``(1, ..., 1)`` after each pass
   (``fastlinear._prox_newton_fast.cd_model``),
   to a model tolerance of ``inner_ratio`` times the outer violation
   (``inner_ratio`` starts at 0.1 and is divided by 4 whenever one pass
   suffices, newGLMNET's rule), and not below ``tol / 10`` while the
   violation is above ``tol``.  Once it is within ``tol`` only the
   decrement test is left, and the floor goes: with it, each step was one
   pass that moved ``F`` by 1e-4 of itself (dna at C = 100 ran to
   ``max_iter``, 1.1 % above the optimum).
4. Active set: a feature leaves it for one outer step when all its weights
   are 0 and every ``|G_jk| < r - M / n_used`` (``M``: the previous outer
   step's largest violation, liblinear's shrinking rule).  Step 2 looks at
   every feature at every outer step, so a feature left out wrongly is
   taken back.
5. Backtracking on ``F`` itself: ``t = 1, 1/2, ...`` (at most 20 trials),
   the first ``t`` with ``F(W + t D) - F(W) <= 0.01 t (G.D + r ||W + D||_1 -
   r ||W||_1)``; the change of the loss is computed directly from ``P`` and
   ``X~ D`` (``cd_model`` keeps it), not as a difference of two objectives.
6. After each step every row of ``W`` moves to its penalty-minimising shift
   along ``(1, ..., 1)``, where the loss is flat
   (``fastlinear._prox_newton_fast.shift_rows``).
7. The intercepts are centred across classes at the end (the softmax and
   ``F`` do not change), the gauge of the L2 solvers.
8. Damping (Levenberg-Marquardt's idea on the model): step 3 minimises
   ``Q(D) + mu/2 sum_j ||D[j] - mean(D[j])||^2`` (the centred part only:
   the shifts of rule 6 stay free).  ``mu`` starts at 0; after a step the
   line search shortened to ``t < 1`` it becomes ``max(4 mu, (1/t - 1)
   D.H D / ||D_centred||^2)``, the curvature the model lacked along ``D``,
   and after a full step it falls to ``mu / 4``.  With the L1 term alone
   (``l1_ratio = 1``) nothing else bounds the model where probabilities
   saturate: on 20 Newsgroups at C = 10 the undamped third model's step
   reached 2.5e12 and the line search found no decrease (the fit stopped
   at 3.2 times the optimum's objective); damped, it converges in 14 steps
   (``bench/results/EXPERIMENTS.md``).  Fits whose steps are never
   shortened run the same iterates as without it.
"""
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array

from . import _multinomial_fast, _prox_newton_fast
from ._csr_fast import transpose
from ._newton_cholesky import _prior_intercepts
from ._parallel import new_stop_flag
from ._solvers import (
    RELATIVE_DECREMENT_WIDE,
    Status,
    cost_scaled_tol,
    counted_samples,
    every_class_costs,
    gradient_bound,
    settle,
)
from ._validation import proved_csr

__all__ = ["fit_multinomial_l1", "prox_newton"]

#: Sufficient decrease of the line search.
ARMIJO = 0.01
#: Maximal number of halvings of the step.
MAX_LINE_SEARCH = 20
#: Maximal number of coordinate-descent passes on one quadratic model.
MAX_INNER_PASS = 200
#: First ratio of the model tolerance to the outer violation (rule 3).
INNER_RATIO = 0.1
#: Once a full step has gained more than this many times the estimate that
#: failed the relative test before it, a stop the estimate allows is checked
#: on the whole quadratic model first (rule 2; ``_newton_fast``'s
#: ``CONFIRM_SHORTFALL``).
CONFIRM_SHORTFALL = 2.0
#: The check's solve may take this many times ``MAX_INNER_PASS`` passes: on
#: such data the model's coordinate descent ran to the cap at every step,
#: and the check on a capped solve passed 1.4e-3 above the optimum.
CONFIRM_PASSES = 5


def _violation(G, W, l1, n_pen_rows):
    """The minimum-norm subgradient of ``F`` (rows below ``n_pen_rows`` carry
    the L1 term, the others none), entrywise."""
    V = np.abs(G)
    if l1 > 0.0:
        Gp, Wp = G[:n_pen_rows], W[:n_pen_rows]
        V[:n_pen_rows] = np.where(Wp > 0, np.abs(Gp + l1),
                                  np.where(Wp < 0, np.abs(Gp - l1),
                                           np.maximum(np.abs(Gp) - l1, 0.0)))
    return V


def _damping(mu, t, D, R, P, cost, lam):
    """Rule 8: the next model's damping after a step of length ``t`` along
    ``D`` (``R = X~ D``, ``P`` the probabilities the model was built at)."""
    if t == 1.0:
        return 0.25 * mu
    centred = D - D.mean(axis=1, keepdims=True)
    norm = float(np.vdot(centred, centred))
    if not norm > 0.0:
        return mu
    PR = P * R
    curvature = (float(cost @ ((PR * R).sum(axis=1) - PR.sum(axis=1) ** 2))
                 + lam * float(np.vdot(D[:-1], D[:-1])))
    return max(4.0 * mu, (1.0 / t - 1.0) * curvature / norm)


def prox_newton(X, y_ind, cost, n_classes, *, l1_ratio, bias, tol, max_iter, W0=None,
                XT=None, n_threads=1, verbose=0, stop=None,
                shift=True, counts=None):
    """Minimise ``F`` (module docstring) from ``W0`` by proximal Newton.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
        The proved data, by rows.
    y_ind : ndarray of int of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    cost : ndarray of shape (n_samples,)
        The per-sample ``s_i >= 0`` (``C`` times the sample weights).
    n_classes : int
        ``K >= 2``.
    l1_ratio : float
        ``r`` in ``[0, 1]``.
    bias : float
        Value of the constant feature (0: no intercept).
    tol : float
        Stop when the largest minimum-norm subgradient of the mean objective
        ``F / sum_i s_i`` is at most ``tol``.
    max_iter : int
        Maximal number of outer (Newton) steps.
    W0 : ndarray of shape (n_features + 1, K), default=None
        The start point (the bias row last).  When None: zero weights and
        the intercept-only optimum's intercepts, the logs of the classes'
        total costs up to a constant (zeros without an intercept).
    XT : fastlinear._csr_fast.CSR, default=None
        The proof of ``X.T`` in CSR form, if the caller has it.
    n_threads : int, default=1
        Threads of the gradient pass.
    verbose : int, default=0
        > 0 prints one line per outer step.
    stop : uint8 array of shape (1,), default=None
        The fit's shared stop flag.
    counts : ndarray of shape (n_samples,), default=None
        The samples each row stands for when identical samples were merged
        (``fastlinear._merge``): the shrinking cut counts them.

    Returns
    -------
    W : ndarray of float64 of shape (n_features + 1, K)
    n_iter : int
        Outer steps taken.
    status : Status or int
        ``Status.CONVERGED``, ``Status.MAX_ITER``, ``Status.INTERRUPTED`` or
        ``Status.LINE_SEARCH_FAILED`` (for :func:`fastlinear._solvers.settle`).
    measure : float
        The largest violation (units of ``F``) at the returned ``W``.
    threshold : float
        What ``measure`` was compared with: ``tol * sum_i s_i``.
    """
    n, d, K = X.n_rows, X.n_cols, int(n_classes)
    r = float(l1_ratio)
    lam, l1 = 1.0 - r, r
    stop = new_stop_flag() if stop is None else stop
    if XT is None:
        XT = transpose(X, caller="prox_newton")
    y = np.ascontiguousarray(y_ind, dtype=np.intp)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    threshold = cost_scaled_tol(cost, tol)
    n_used = max(counted_samples(cost, counts), 1)
    if W0 is None:
        # The intercepts start at the intercept-only optimum (the logs of
        # the classes' costs, up to a constant), as the L2 solvers' do: at a tiny C
        # that is the solution, and there the intercepts' curvature, about
        # C n p (1 - p), falls below the kernel's floor H_MIN = 1e-12, under
        # which a coordinate is left alone (it stayed at 0).
        W = np.zeros((d + 1, K))
        W[-1] = _prior_intercepts(np.bincount(y, cost, K), bias)
    else:
        W = np.array(W0, dtype=np.float64, order="C")
    if bias == 0.0:
        W[-1] = 0.0
    G = np.empty_like(W)
    P = np.empty((n, K))
    D = np.empty_like(W)
    R = np.empty((n, K))
    # The gradient passes gather over XT's rows where that pays (the same bits).
    kw = dict(bias=float(bias), lam=lam, reg_bias=False, fixed_first=False,
              n_threads=int(n_threads),
              XT=XT if _multinomial_fast.gather_pays(n, d, K) else None)
    f = _multinomial_fast.loss_grad(X, y, cost, W, G, P, **kw)
    F = f + l1 * np.abs(W[:d]).sum()
    gmax_old = np.inf
    inner_ratio = INNER_RATIO
    mu = 0.0
    n_iter, status = 0, Status.MAX_ITER
    XT_sq = None        # X^T with its values squared, for _decrement
    # Rule 2's decrease also within tol of F where every class has cost (else
    # there is no finite optimum; RELATIVE_DECREMENT_WIDE).
    share = RELATIVE_DECREMENT_WIDE * float(tol) if every_class_costs(y, cost, K) else np.inf
    # The estimate that last failed the test, and how far such estimates fell
    # short of a full step's actual decrease (rule 2).
    promised, calibration = 0.0, 1.0
    caught_short = confirming = False
    tic = time.perf_counter()
    while True:
        V = _violation(G, W, l1, d)
        measure = float(V.max())
        if not np.isfinite(measure):
            raise ValueError("prox_newton: the gradient is not finite (the scores overflow); "
                             "start from zero or scale the features.")
        if measure <= threshold:
            if XT_sq is None:
                XT_sq = XT.to_scipy(squared=True)
            estimate = _decrement(XT_sq, cost, P, G, W, l1, lam, bias)
            if estimate <= threshold and calibration * estimate <= share * abs(F):
                if not caught_short:
                    status = Status.CONVERGED
                    break
                confirming = True   # by the model of the step below
            else:
                promised = estimate
        if n_iter >= max_iter:
            break
        # Rule 4: the active features (the bias row always, when there is one).
        cut = l1 - gmax_old / n_used
        keep = np.any(W[:d] != 0.0, axis=1) | np.any(np.abs(G[:d]) >= cut, axis=1)
        active = np.flatnonzero(keep).astype(np.intp)
        if bias != 0.0:
            active = np.append(active, np.intp(d))
        D.fill(0.0)
        R.fill(0.0)
        n_pass, inner_status, _ = _prox_newton_fast.cd_model(
            XT, cost, P, G, W, D, R, active, bias=float(bias), lam=lam, l1=l1,
            inner_tol=inner_ratio * measure if measure <= threshold else max(
                inner_ratio * measure, 0.1 * threshold),
            max_pass=MAX_INNER_PASS * (CONFIRM_PASSES if confirming else 1), stop=stop,
            n_used=float(n_used), mu=mu)
        if inner_status == Status.INTERRUPTED:
            status = Status.INTERRUPTED
            break
        if n_pass == 1 and inner_status == Status.CONVERGED:
            inner_ratio *= 0.25
        # Rule 5.
        # Only the moved entries enter the changes of the penalties, each
        # summed as a change (not as a difference of two norms).
        moved = np.flatnonzero(D[:d].ravel())
        w_m = W[:d].ravel()[moved]
        d_m = D[:d].ravel()[moved]
        abs_w = np.abs(w_m)
        delta = float(np.vdot(G, D)) + l1 * float(np.sum(np.abs(w_m + d_m) - abs_w))
        wd, dd = float(np.dot(w_m, d_m)), float(np.dot(d_m, d_m))
        if confirming:
            # The stop the estimate allowed, on the whole quadratic model
            # (solved to inner_ratio <= a tenth of the violation, unless the
            # passes ran out first; damped by mu, if any, as every step):
            # its decrease -(G.D + D.H D / 2 + the L1 change), undamped.
            curvature = float(cost @ (np.einsum("ik,ik->i", P, R * R)
                                      - np.einsum("ik,ik->i", P, R) ** 2))
            modelled = -(delta + 0.5 * (curvature + lam * dd))
            if verbose > 0:
                print(f"check of the stop on the whole model: decrease {modelled:.3e} "
                      f"(at most {share * abs(F):.3e})", flush=True)
            if modelled <= share * abs(F):
                status = Status.CONVERGED
                break
            confirming = False
        t, accepted = 1.0, False
        for _ in range(MAX_LINE_SEARCH):
            change = (_prox_newton_fast.loss_change(P, y, cost, R, t)
                      + lam * (t * wd + 0.5 * t * t * dd)
                      + l1 * float(np.sum(np.abs(w_m + t * d_m) - abs_w)))
            if change <= ARMIJO * t * delta:
                accepted = True
                break
            t *= 0.5
        n_iter += 1
        if not accepted:
            status = Status.LINE_SEARCH_FAILED
            break
        mu = _damping(mu, t, D, R, P, cost, lam)   # rule 8
        W += t * D
        if shift:
            _prox_newton_fast.shift_rows(W, d, lam=lam, l1=l1)
        f = _multinomial_fast.loss_grad(X, y, cost, W, G, P, **kw)
        F_before, F = F, f + l1 * np.abs(W[:d]).sum()
        if promised > 0.0 and t == 1.0:
            calibration = max(1.0, (F_before - F) / promised)
            caught_short = caught_short or calibration > CONFIRM_SHORTFALL
        promised = 0.0
        gmax_old = measure
        if verbose > 0:
            print(f"iter {n_iter:3d} F {F:.10e} viol {measure / np.sum(cost):.3e} "
                  f"active {active.size:d} passes {n_pass:3d} step {t:.3g} "
                  f"nnz {np.count_nonzero(W[:d]):d} {time.perf_counter() - tic:.2f}s",
                  flush=True)
        if stop[0]:
            status = Status.INTERRUPTED
            break
    if bias != 0.0:
        W[-1] -= W[-1].mean()   # rule 7
    return W, n_iter, status, measure, threshold


def _decrement(XT_sq, cost, P, G, W, l1, lam, bias):
    """The decrease that each coordinate's model ``G d + H d^2 / 2 + l1 (|W +
    d| - |W|)`` promises at its minimiser, summed over the features and
    classes (and the intercepts, unpenalised): an estimate of ``F - F*``
    from the Hessian's diagonal, ``H[j, c] = sum_i s_i x~_ij^2 p_ic (1 -
    p_ic) + lam`` (``XT_sq``: X^T with its values squared).  It ignores how
    coordinates interact, so it is no bound."""
    d = XT_sq.shape[0]
    curv = cost[:, None] * P * (1.0 - P)
    H = np.empty_like(W)
    H[:d] = XT_sq @ curv + lam
    H[d] = bias * bias * curv.sum(axis=0)
    l1j = np.zeros_like(W)
    l1j[:d] = l1
    with np.errstate(divide="ignore", invalid="ignore"):
        D = np.where(G + l1j < H * W, -(G + l1j) / H,
                     np.where(G - l1j > H * W, -(G - l1j) / H, -W))
    D[~(H > 0)] = 0.0       # no curvature: an empty column, whose G is 0
    return float(-np.sum(G * D + 0.5 * H * D * D + l1j * (np.abs(W + D) - np.abs(W))))


def _labels(y, n_samples, n_classes):
    """Class indices from labels in ``[0, K)`` or a one-hot matrix; and ``K``."""
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape[0] != n_samples or not np.all((y == 0) | (y == 1)) \
                or not np.all(y.sum(axis=1) == 1):
            raise ValueError(
                f"fit_multinomial_l1: a 2-d y must be one-hot of shape (n_samples, K) with "
                f"n_samples = {n_samples}, got shape {y.shape} with other values; pass "
                "class indices or sklearn.preprocessing.LabelBinarizer output.")
        return np.argmax(y, axis=1).astype(np.intp), y.shape[1]
    if y.ndim != 1 or y.shape[0] != n_samples or y.dtype.kind not in "iu":
        raise ValueError(
            f"fit_multinomial_l1: y must be integer class indices of shape ({n_samples},), "
            f"got shape {y.shape}, dtype {y.dtype}; encode labels with "
            "sklearn.preprocessing.LabelEncoder.")
    K = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if n_samples and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"fit_multinomial_l1: y must lie in [0, {K}), got values in "
                         f"[{y.min()}, {y.max()}].")
    return y.astype(np.intp), K


def fit_multinomial_l1(X, y, cost, l1_ratio, *, fit_intercept=True, tol=1e-4,
                       max_iter=100, coef_init=None, intercept_init=None, n_classes=None,
                       n_threads=1, verbose=0):
    """L1 / elastic-net multinomial logistic regression by proximal Newton.

    Minimises (module docstring)::

        F = sum_i s_i CE_i + (1 - r)/2 ||coef||_F^2 + r ||coef||_1

    the objective of ``sklearn.linear_model.LogisticRegression(solver="saga",
    l1_ratio=r, C=C)`` times ``C n`` when ``s_i = C * sample_weight_i``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data (float32 stays float32 in the kernels and the result).
    y : array-like of shape (n_samples,) or (n_samples, K)
        Class indices in ``[0, K)``, or their one-hot matrix.
    cost : array-like of shape (n_samples,)
        ``s_i = C * sample_weight_i >= 0`` (0 leaves a sample out).
    l1_ratio : float
        ``r`` in ``[0, 1]``: 1 is the pure L1 penalty.
    fit_intercept : bool, default=True
        Fit unpenalised intercepts.
    tol : float, default=1e-4
        Stop when the largest minimum-norm subgradient of ``F / sum_i s_i``
        is at most ``tol``.
    max_iter : int, default=100
        Maximal number of outer (Newton) steps.
    coef_init : ndarray of shape (K, n_features), default=None
        Warm start; zeros when None.
    intercept_init : ndarray of shape (K,), default=None
        Warm start of the intercepts.
    n_classes : int, default=None
        ``K`` for integer labels (default ``max(y) + 1``).
    n_threads : int, default=1
        Threads of the gradient pass.
    verbose : int, default=0
        > 0 prints one line per outer step.

    Returns
    -------
    coef : ndarray of shape (K, n_features), dtype of X
    intercept : ndarray of shape (K,), dtype of X
        Centred across classes (zeros without ``fit_intercept``).
    n_iter : int
        Outer steps taken.
    converged : bool
        Whether the stopping test held; a ``ConvergenceWarning`` is issued
        when it did not.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlinear._prox_newton import fit_multinomial_l1
    >>> X = np.array([[0., 1.], [1., 0.], [1., 1.], [0., 0.], [2., 1.], [1., 2.]])
    >>> coef, intercept, n_iter, converged = fit_multinomial_l1(
    ...     X, np.array([0, 1, 2, 0, 1, 2]), np.ones(6), 1.0, tol=1e-8)
    >>> coef.shape, bool(converged)
    ((3, 2), True)
    """
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C")
    Xs = X if sp.issparse(X) else sp.csr_matrix(X)
    n, d = Xs.shape
    y_ind, K = _labels(y, n, n_classes)
    if K < 2:
        raise ValueError(f"fit_multinomial_l1: need K >= 2 classes, got {K}.")
    cost = np.asarray(cost, dtype=np.float64)
    if cost.shape != (n,) or not np.all(np.isfinite(cost)) or np.any(cost < 0):
        raise ValueError(f"fit_multinomial_l1: cost must hold {n} finite values >= 0, got "
                         f"shape {cost.shape}.")
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"fit_multinomial_l1: l1_ratio must lie in [0, 1], got {l1_ratio!r}.")
    if not (tol > 0) or int(max_iter) < 0:
        raise ValueError(f"fit_multinomial_l1: need tol > 0 and max_iter >= 0, got "
                         f"tol={tol!r}, max_iter={max_iter!r}.")
    W0 = None
    if coef_init is not None or intercept_init is not None:
        W0 = np.zeros((d + 1, K))
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=np.float64)
            if coef_init.shape != (K, d):
                raise ValueError(f"fit_multinomial_l1: coef_init must have shape ({K}, {d}), "
                                 f"got {coef_init.shape}.")
            W0[:d] = coef_init.T
        if intercept_init is not None and fit_intercept:
            W0[d] = np.asarray(intercept_init, dtype=np.float64).reshape(K)
        if not np.all(np.isfinite(W0)):
            raise ValueError("fit_multinomial_l1: coef_init / intercept_init have NaN or "
                             "infinite entries.")
    Xp = proved_csr(Xs, caller="fit_multinomial_l1")
    W, n_iter, status, measure, threshold = prox_newton(
        Xp, y_ind, cost, K, l1_ratio=float(l1_ratio), bias=1.0 if fit_intercept else 0.0,
        tol=float(tol), max_iter=int(max_iter), W0=W0, n_threads=n_threads, verbose=verbose)
    if status == Status.INTERRUPTED:
        raise KeyboardInterrupt("fit_multinomial_l1 was interrupted.")
    converged = settle(status, measure, threshold, scaled=lambda: measure / gradient_bound(
        Xp, cost, 1.0 if fit_intercept else 0.0)) == Status.CONVERGED
    if not converged:
        detail = (f"the largest subgradient entry is {measure:.3g} > {threshold:.3g} (tol "
                  "times the sum of the costs)" if measure > threshold else
                  "the largest subgradient entry meets tol, but the estimate of the distance "
                  "to the optimum is still above tol (times the sum of the costs)")
        warnings.warn(
            f"Proximal Newton did not converge: max_iter={max_iter} outer steps were "
            f"reached; {detail}. Increase max_iter, raise tol, or scale the features "
            "(StandardScaler / MaxAbsScaler).", ConvergenceWarning, stacklevel=2)
    dtype = Xs.dtype
    return (np.ascontiguousarray(W[:d].T, dtype=dtype), W[d].astype(dtype), int(n_iter),
            bool(converged))
