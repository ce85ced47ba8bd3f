"""Linear support vector regression (liblinear's ``-s 11``, ``-s 12``, ``-s 13``).

``fastlinear.LinearSVR`` solves the problems of ``sklearn.svm.LinearSVR`` with
the Cython kernels of the classifier: dual coordinate descent for both losses
(Ho & Lin, 2012: the regression pass of ``src_c/_dual_cd_fast.pyx``, sharing
its row loops, prefetching and the CSR proof), and the primal Newton solver
(``src_c/_newton_fast.pyx``) for the squared loss.

Design rules of this module:

1. Validate once, at the edge (``fastlinear._validation``): numeric, finite,
   1-D targets; X becomes the CSR proof the kernels read (float32 stays
   float32, 32- or 64-bit indices, no copy of CSR input).
2. The problem comes from ``fastlinear._problem.regression_problem``
   (``C_i = C * sample_weight_i``), the solver from the one rule of
   ``fastlinear._solvers.choose_solver``.
3. The kernels return a status; this module warns (``ConvergenceWarning``)
   and leaves the estimator unfitted when a fit is interrupted.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._base import bias_of, check_warm_start, set_fitted_weights
from ._memory import check_weight_memory
from ._parallel import n_threads_for, new_stop_flag
from ._problem import REGRESSION_LOSSES, regression_problem, weights_with_bias
from ._solvers import Start, Status, choose_solver, solve, warn_if_stuck
from ._validation import (
    MAX_INT,
    N_JOBS,
    check_intercept_scaling,
    check_objective_estimator,
    check_X_predict,
    validate_regression_data,
    warn_if_not_finite,
)

__all__ = ["LinearSVR"]


class LinearSVR(RegressorMixin, BaseEstimator):
    """Linear support vector regression: liblinear's SVR solvers in Cython.

    A drop-in for ``sklearn.svm.LinearSVR``: the same problems, parameter
    names, defaults and fitted attributes, plus the dual variables, the
    solver that ran, sample weights, threads and warm starts.

    Parameters
    ----------
    epsilon : float, default=0.0
        Width of the insensitive zone: errors ``|w.x + b - y| <= epsilon``
        cost nothing.  Its scale is that of ``y``; if unsure, 0.
    tol : float, default=1e-4
        Stopping tolerance, in each solver's own measure (see Notes).
    C : float, default=1.0
        Inverse regularisation strength; must be strictly positive.
    loss : {"epsilon_insensitive", "squared_epsilon_insensitive"}, \
default="epsilon_insensitive"
        ``"epsilon_insensitive"``: ``max(0, |r| - epsilon)`` (liblinear
        ``-s 13``, dual only); ``"squared_epsilon_insensitive"``: its square
        (``-s 12`` dual, ``-s 11`` primal).
    fit_intercept : bool, default=True
        Whether to fit an intercept, as liblinear: the weight of a constant
        feature of value ``intercept_scaling``, regularised with the others.
    intercept_scaling : float, default=1.0
        Value of that constant feature.
    dual : "auto" or bool, default="auto"
        ``True``: dual coordinate descent.  ``False``: the primal Newton
        solver (squared loss only).  ``"auto"``: the dual for
        ``"epsilon_insensitive"``; for the squared loss the primal when
        ``n_samples > n_features`` and ``C * mean ||x~||^2`` exceeds 2 (up
        to 1,000 features) or 10, else the dual, handing over to the primal
        after 40 passes (up to 1,000 features) or 300 without convergence
        (the rule of :class:`fastlinear.LinearSVC`).
    verbose : int, default=0
        Print progress.
    random_state : int, RandomState instance or None, default=None
        Seeds the order in which dual coordinates are visited.
    max_iter : int, default=1000
        Maximal number of passes (dual) or Newton steps (primal).
    shrinking : bool, default=True
        liblinear's shrinking heuristic in dual coordinate descent.
    n_jobs : int, default=None
        Threads for the primal Newton solver's products with X (``None``:
        1, ``-1``: all cores); results do not depend on it beyond rounding.
    warm_start : bool, default=False
        Start from the previous ``fit``'s solution (same samples): its dual
        variables, clipped into the new box, or its weights for the primal.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights, of the dtype of X.
    intercept_ : ndarray of shape (1,)
        ``intercept_scaling`` times the weight of the constant feature.
    dual_coef_ : ndarray of shape (n_samples,)
        The dual variables ``b_i`` (``coef_ = dual_coef_ @ X``), recovered
        from the primal solution when the primal was solved.
    n_iter_ : int
        Passes or Newton steps run (after a switch, both).
    solver_ : str
        ``"dual_cd"``, ``"newton"`` or ``"dual_cd+newton"``; ``"none"``
        with ``max_iter=0``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (only when X has string column names).

    See Also
    --------
    sklearn.svm.LinearSVR : the liblinear-backed estimator this mirrors.
    fastlinear.LinearSVC : the classifier of the same family.

    Notes
    -----
    With per-sample costs ``C_i = C * sample_weight_i`` and ``w`` including
    the intercept weight, the problem is

    .. math::

        \\min_w \\frac{1}{2} \\|w\\|^2 + \\sum_i C_i \\, \\ell(w^T x_i - y_i),
        \\quad \\ell(r) = \\max(0, |r| - \\epsilon) \\text{ or its square}.

    What ``tol`` bounds (as in liblinear): for dual coordinate descent, the
    L1 norm of the violations of the dual's optimality conditions in a
    pass, relative to the first pass's; for the primal Newton solver,
    ``||g(w)|| / ||g(0)||`` (after a switch from the dual, ``0.1 * tol``).

    References
    ----------
    C.-H. Ho and C.-J. Lin. "Large-scale Linear Support Vector Regression."
    JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlinear import LinearSVR
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5)
    >>> y = X @ np.arange(1.0, 6.0) + 0.1 * rng.randn(200)
    >>> reg = LinearSVR(loss="squared_epsilon_insensitive", C=10.0).fit(X, y)
    >>> reg.solver_  # dual="auto": many more samples than features, a large C
    'newton'
    >>> round(reg.score(X, y), 3)
    1.0
    """

    _parameter_constraints: dict = {
        "epsilon": [Interval(Real, 0.0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "loss": [StrOptions({"epsilon_insensitive", "squared_epsilon_insensitive"})],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0.0, None, closed="neither")],
        "dual": ["boolean", StrOptions({"auto"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "max_iter": [Interval(Integral, 0, MAX_INT, closed="both")],
        "shrinking": ["boolean"],
        "n_jobs": N_JOBS,
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        epsilon=0.0,
        tol=1e-4,
        C=1.0,
        loss="epsilon_insensitive",
        fit_intercept=True,
        intercept_scaling=1.0,
        dual="auto",
        verbose=0,
        random_state=None,
        max_iter=1000,
        shrinking=True,
        n_jobs=None,
        warm_start=False,
    ):
        self.epsilon = epsilon
        self.tol = tol
        self.C = C
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.dual = dual
        self.verbose = verbose
        self.random_state = random_state
        self.max_iter = max_iter
        self.shrinking = shrinking
        self.n_jobs = n_jobs
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training vectors.  CSR matrices (float32 or float64, 32- or
            64-bit indices) are used without a copy; anything else is
            converted to CSR once (its structure checked first).
        y : array-like of shape (n_samples,)
            Target values (finite numbers).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights multiplying ``C``; 0 leaves a sample out.

        Returns
        -------
        self : LinearSVR
            The fitted estimator.
        """
        data = validate_regression_data(self, X, y, sample_weight, caller="LinearSVR.fit")
        check_weight_memory(data.X.n_cols, 12, "LinearSVR.fit")
        bias = bias_of(self)
        check_intercept_scaling(data.X, bias, caller="LinearSVR.fit")
        solver = choose_solver(penalty="l2", loss=self.loss, dual=self.dual,
                               multi_class="ovr", X=data.X, C=self.C, bias=bias)
        problem = regression_problem(data.X, data.y, self.C, data.sample_weight,
                                     self.loss, self.epsilon, bias)
        start = self._previous_start(data)
        alpha0 = None if start is None else start.alpha[0]
        w0 = None if start is None else start.W[0]
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        sol = solve(solver, problem, tol=self.tol, max_iter=self.max_iter, seed=seed,
                    shrinking=self.shrinking, verbose=self.verbose, alpha0=alpha0, w0=w0,
                    stop=new_stop_flag(), n_threads=n_threads_for(self.n_jobs, 2))
        if sol.status != Status.INTERRUPTED:
            _check_finite_solution(sol, data.y, self.C)
        set_fitted_weights(self, [sol], sol.w, data.X)
        self.dual_coef_ = sol.alpha
        self.n_iter_ = int(sol.n_iter)
        warn_if_stuck(self, [sol])
        return self

    def _previous_start(self, data):
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        if self.dual_coef_.shape != (data.X.n_rows,) or self.coef_.shape != (data.X.n_cols,):
            warnings.warn(
                "warm_start=True but the samples or features changed since the previous "
                "fit; starting from zero.",
                UserWarning,
                stacklevel=3,
            )
            return None
        W, _ = check_warm_start(self, weights_with_bias(self), self.dual_coef_)
        return Start(self.dual_coef_[None, :].copy(), W)

    def predict(self, X):
        """Predict with the linear model ``X coef_ + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse matrices have their structure checked first.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = check_X_predict(self, X, caller="LinearSVR.predict")
        with np.errstate(over="ignore", invalid="ignore"):
            pred = np.asarray(safe_sparse_dot(X, self.coef_, dense_output=True)
                              + self.intercept_).ravel()
        warn_if_not_finite(pred, caller="LinearSVR.predict")
        return pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _check_finite_solution(sol, y, C):
    """Refuse a solution whose weights or dual variables overflowed float64.

    The dual variables live on the scale of ``C * y`` (squared loss: of
    ``y``), the weights on that of the targets over the features; targets
    near the float maximum overflow either.  Raised rather than storing
    ``inf`` in ``coef_`` or ``dual_coef_``.
    """
    parts = (("coef_ (the weights)", sol.w), ("dual_coef_ (the dual variables)", sol.alpha))
    bad = [name for name, v in parts if v is not None and not np.all(np.isfinite(v))]
    if not bad:
        return
    y_max = float(np.max(np.abs(y))) if y.size else 0.0
    raise ValueError(
        f"LinearSVR.fit: the solver's {' and '.join(bad)} overflowed float64 (non-finite "
        f"values) with targets up to |y| = {y_max:.3g} and C = {C:g}; the dual variables "
        "and weights grow with the scale of y, and float64 ends near 1.8e308. Rescale y "
        "(e.g. y / np.std(y), then multiply the predictions back; epsilon scales with "
        "it), scale the features, or lower C."
    )


def linear_svr_objective(estimator, X, y, sample_weight=None):
    """Primal objective of a fitted linear SVR (fastlinear or scikit-learn).

    ``1/2 ||w||^2 + sum_i C sample_weight_i loss(w.x_i - y_i)`` with ``w``
    including the intercept weight ``intercept_ / intercept_scaling``.

    Parameters
    ----------
    estimator : fitted LinearSVR (fastlinear or scikit-learn)
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    objective : float
    """
    check_objective_estimator(estimator, REGRESSION_LOSSES, caller="linear_svr_objective",
                              expected="LinearSVR")
    data = validate_regression_data(estimator, X, y, sample_weight, reset=False,
                                    caller="linear_svr_objective")
    scaling = float(estimator.intercept_scaling) if estimator.fit_intercept else 0.0
    w = weights_with_bias(estimator)[0]
    problem = regression_problem(data.X, data.y, estimator.C, data.sample_weight,
                                 estimator.loss, estimator.epsilon, scaling)
    return problem.primal(w)
