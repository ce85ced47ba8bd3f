"""Linear support vector classification (liblinear's SVM solvers).

``fastlinear.LinearSVC`` solves the problems of ``sklearn.svm.LinearSVC``
(liblinear's ``-s 1``, ``-s 2`` and ``-s 3``) with the Cython kernels of
``src_c/``.

Design rules of this module:

1. Validate once, at the edge (``fastlinear._validation``): X becomes the
   CSR proof the kernels read (the caller's arrays, float32 or float64, with
   32- or 64-bit indices; dense input is converted to CSR once), labels are
   encoded once.
2. The problems come from ``fastlinear._problem`` (labels in {-1, +1},
   per-sample costs ``C * class_weight * sample_weight`` as liblinear's
   ``train``); the solvers from ``fastlinear._solvers``.  This module only
   wires them to scikit-learn's API.
3. One binary problem per class in one-vs-rest (one problem for two classes),
   each with its own seed drawn up front from ``random_state``: results do not
   depend on ``n_jobs`` or thread scheduling.
4. ``fit`` is ``_fit_validated`` after validation; the C-path search calls
   ``_fit_validated`` directly with the data it validated once and a start
   point, and never writes fitted attributes from outside.
5. The kernels return a status; this module warns (``ConvergenceWarning``)
   and leaves the estimator unfitted when a fit is interrupted.
"""
import warnings
from numbers import Integral, Real
from typing import NamedTuple, Optional

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import CheckedLinearClassifierMixin
from ._parallel import n_threads_for, new_stop_flag, run
from ._problem import OneVsRest
from ._solvers import Status, dual_cd, newton
from ._validation import (
    validate_classification_data,
    validate_evaluation_data,
)

__all__ = ["LinearSVC", "linear_svc_objective"]


class Start(NamedTuple):
    """A point to start the binary problems of a fit from.

    ``alpha`` holds unsigned dual variables, one row per problem; the dual
    solver clips them into each problem's box, the primal solver starts
    from ``w(alpha)``.
    """

    alpha: Optional[np.ndarray] = None

    def scaled(self, factor):
        """The rescale rule of the C path: ``alpha * C_new / C_old``."""
        return Start(None if self.alpha is None else self.alpha * factor)


class LinearSVC(CheckedLinearClassifierMixin, BaseEstimator):
    """Linear support vector classifier trained by dual coordinate descent.

    A drop-in for ``sklearn.svm.LinearSVC(dual=True)``: same problem, same
    parameter names, same fitted attributes, plus the dual variables.  The
    solver is the dual coordinate descent method of Hsieh et al. (2008) with
    liblinear's shrinking, running in a GIL-free Cython kernel that reads
    the caller's CSR arrays without copying them.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength; must be strictly positive.
    loss : {"hinge", "squared_hinge"}, default="squared_hinge"
        ``"hinge"`` is the L1-loss SVM (liblinear ``-s 3``),
        ``"squared_hinge"`` the L2-loss SVM (liblinear ``-s 1``).
    dual : bool, default=True
        ``True`` solves the dual by coordinate descent (the Cython kernel).
        ``False`` solves the primal by Newton's method with conjugate
        gradients (liblinear ``-s 2``; squared hinge only): far fewer
        iterations when C is large and n_samples >> n_features.  Its ``tol``
        is liblinear's relative gradient-norm criterion and ``max_iter``
        counts Newton steps; ``dual_coef_`` is recovered from the primal
        solution (``alpha_i = 2 C_i max(0, 1 - y_i w.x_i)``).
    tol : float, default=1e-4
        Stop when the spread of the projected gradient over the dual
        variables, ``max PG - min PG``, is at most ``tol``.
    max_iter : int, default=1000
        Maximal number of passes over the data per binary problem.
    fit_intercept : bool, default=True
        Whether to fit an intercept.  As in liblinear, the intercept is the
        weight of a constant feature of value ``intercept_scaling`` and is
        regularised with the other weights.
    intercept_scaling : float, default=1.0
        Value of that constant feature.  A larger value lessens the effect
        of regularisation on the intercept.
    class_weight : dict, "balanced" or None, default=None
        Multiply ``C`` by ``class_weight[k]`` for the samples of class ``k``.
        ``"balanced"`` uses ``n_samples / (n_classes * bincount(y))``.
    shrinking : bool, default=True
        Whether to use liblinear's shrinking heuristic.
    random_state : int, RandomState instance or None, default=None
        Seeds the order in which the dual variables are visited.  The same
        seed gives the same model, whatever ``n_jobs``.
    verbose : int, default=0
        Print liblinear-style progress (a dot every 10 passes).
    n_jobs : int, default=None
        Number of threads for the binary problems of one-vs-rest (more than
        two classes).  ``None`` means 1; ``-1`` means all cores.  Results equal
        those of ``n_jobs=1``.  A two-class problem runs on one thread:
        lock-free parallel coordinate descent (PASSCoDe-Wild) was measured
        slower than the serial kernel on 2 cores (threads fight over the
        cache lines of the frequent features' weights).
    warm_start : bool, default=False
        Start from the dual solution of the previous ``fit`` (same samples
        and classes), clipped into the new box constraints.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights, of the dtype of X (float32 input gives float32 weights).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        ``intercept_scaling`` times the weight of the constant feature.
    dual_coef_ : ndarray of shape (n_problems, n_samples)
        Signed dual variables ``y_i * alpha_i`` (``y_i`` in {-1, +1}) of each
        binary problem, so that ``coef_ = dual_coef_ @ X``.  Support vectors
        are the samples with a nonzero entry.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_iter_ : int
        Largest number of passes run over the binary problems.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen in ``fit`` (only when X has string column
        names).

    See Also
    --------
    sklearn.svm.LinearSVC : the liblinear-backed estimator this mirrors.
    fastlinear.linear_svc_objective : the primal objective of a fitted model.

    Notes
    -----
    With labels ``y_i`` in {-1, +1} and ``w`` including the intercept weight
    ``b`` (the constant feature is ``intercept_scaling``), the problem is

    .. math::

        \\min_w \\frac{1}{2} \\|w\\|^2 + \\sum_i C_i \\, \\ell(y_i w^T x_i),
        \\quad \\ell(z) = \\max(0, 1 - z) \\text{ or } \\max(0, 1 - z)^2,

    solved through its dual, a box-constrained quadratic program, one
    coordinate at a time.  Multiclass problems are solved one-vs-rest.

    References
    ----------
    C.-J. Hsieh, K.-W. Chang, C.-J. Lin, S. S. Keerthi and S. Sundararajan.
    "A Dual Coordinate Descent Method for Large-scale Linear SVM." ICML 2008.

    R.-E. Fan, K.-W. Chang, C.-J. Hsieh, X.-R. Wang and C.-J. Lin.
    "LIBLINEAR: A Library for Large Linear Classification." JMLR 9, 2008.

    Examples
    --------
    >>> from fastlinear import LinearSVC
    >>> from fastlinear.datasets import load_a9a
    >>> X_train, y_train, X_test, y_test = load_a9a()
    >>> clf = LinearSVC(C=0.1, random_state=0).fit(X_train, y_train)
    >>> round(clf.score(X_test, y_test), 2)
    0.85
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "loss": [StrOptions({"hinge", "squared_hinge"})],
        "dual": ["boolean"],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0.0, None, closed="neither")],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "shrinking": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [None, Integral],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        C=1.0,
        *,
        loss="squared_hinge",
        dual=True,
        tol=1e-4,
        max_iter=1000,
        fit_intercept=True,
        intercept_scaling=1.0,
        class_weight=None,
        shrinking=True,
        random_state=None,
        verbose=0,
        n_jobs=None,
        warm_start=False,
    ):
        self.C = C
        self.loss = loss
        self.dual = dual
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.shrinking = shrinking
        self.random_state = random_state
        self.verbose = verbose
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
            converted to CSR once.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights multiplying ``C``; 0 leaves a sample out.

        Returns
        -------
        self : LinearSVC
            The fitted estimator.
        """
        data = validate_classification_data(self, X, y, sample_weight,
                                            caller="LinearSVC.fit")
        return self._fit_validated(data, start=self._previous_start(data))

    def _fit_validated(self, data, *, start=None, stop=None):
        """Fit on validated data (``fastlinear._validation.ClassificationData``).

        ``start`` is a :class:`Start` or None; ``stop`` the shared stop flag
        of an enclosing parallel job (a fresh one when None).
        """
        if not self.dual and self.loss == "hinge":
            raise ValueError(
                "loss='hinge' is not supported with dual=False (as in liblinear "
                "and scikit-learn): the hinge loss is not differentiable. Use "
                "loss='squared_hinge' or dual=True."
            )
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        ovr = OneVsRest(data.X, data.y_ind, data.classes, self.C,
                        self.class_weight, data.sample_weight, self.loss, bias)
        n_problems = ovr.n_problems
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_problems)
        stop = new_stop_flag() if stop is None else stop
        previous = None if start is None else start.alpha

        def solve(k):
            # The labels and costs of problem k live only while it is solved.
            problem = ovr.problem(k)
            alpha0 = None if previous is None else previous[k]
            if self.dual:
                sol = dual_cd(problem, tol=self.tol, max_iter=self.max_iter,
                              seed=seeds[k], shrinking=self.shrinking,
                              verbose=self.verbose, alpha0=alpha0, stop=stop)
            else:
                w0 = None if alpha0 is None else problem.w_from_alpha(alpha0)
                sol = newton(problem, tol=self.tol, max_iter=self.max_iter,
                             w0=w0, verbose=self.verbose, stop=stop)
            return sol._replace(alpha=sol.alpha * problem.y)

        # Threads go to the binary problems of one-vs-rest, each running the
        # serial, deterministic kernel (see n_jobs in the class docstring).
        solutions = run(solve, range(n_problems), n_threads_for(self.n_jobs, n_problems), stop)
        self._set_fitted(solutions, data, bias)
        return self

    def _set_fitted(self, solutions, data, bias):
        if any(sol.status == Status.INTERRUPTED for sol in solutions):
            raise KeyboardInterrupt("LinearSVC.fit was interrupted; the estimator is not fitted.")
        W = np.array([sol.w for sol in solutions])
        if not np.all(np.isfinite(W)):
            raise ValueError(
                "The solver produced non-finite weights; the data are probably "
                "badly scaled. Scale the features (e.g. StandardScaler or "
                "MaxAbsScaler) and try again."
            )
        dtype = data.X.dtype
        n_iters = np.array([sol.n_iter for sol in solutions])
        self.classes_ = data.classes
        self.n_features_in_ = data.X.n_cols
        self.coef_ = W[:, :-1].astype(dtype, copy=True)
        if self.fit_intercept:
            self.intercept_ = (bias * W[:, -1]).astype(dtype)
        else:
            self.intercept_ = np.zeros(W.shape[0], dtype=dtype)
        self.dual_coef_ = np.array([sol.alpha for sol in solutions])
        self.n_iter_ = int(n_iters.max())
        stuck = [k for k, sol in enumerate(solutions) if sol.status == Status.MAX_ITER]
        if stuck and not self.dual:
            warnings.warn(
                f"LinearSVC(dual=False) did not converge in max_iter="
                f"{self.max_iter} Newton steps. Increase max_iter or raise tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif stuck:
            worst = max(stuck, key=lambda k: solutions[k].measure)
            warnings.warn(
                f"LinearSVC did not converge: the binary problem {worst} "
                f"stopped at max_iter={self.max_iter} passes with a projected "
                f"gradient spread of {solutions[worst].measure:.3g} > tol={self.tol}. "
                "Increase max_iter, raise tol, lower C, or scale the features "
                "(StandardScaler / MaxAbsScaler).",
                ConvergenceWarning,
                stacklevel=2,
            )

    def _previous_start(self, data):
        """The previous fit's duals when warm-starting (same samples and classes)."""
        if not (self.warm_start and hasattr(self, "dual_coef_")):
            return None
        n_problems = 1 if data.classes.shape[0] == 2 else data.classes.shape[0]
        if self.dual_coef_.shape != (n_problems, data.X.n_rows) or not np.array_equal(
            self.classes_, data.classes
        ):
            warnings.warn(
                "warm_start=True but the samples or classes changed since the "
                "previous fit; starting from zero.",
                UserWarning,
                stacklevel=2,
            )
            return None
        return Start(np.abs(self.dual_coef_))



def linear_svc_objective(estimator, X, y, sample_weight=None):
    """Primal objective of a fitted linear SVM, per binary problem.

    Works for ``fastlinear.LinearSVC`` and ``sklearn.svm.LinearSVC`` alike, so
    their solutions can be compared on the problem both solve:
    ``1/2 ||w||^2 + sum_i C_i loss(y_i w.x_i)`` with ``w`` including the
    intercept weight ``intercept_ / intercept_scaling`` (liblinear's bias
    convention) and ``C_i`` as in :class:`LinearSVC` (class and sample weights,
    one-vs-rest for more than two classes).

    Parameters
    ----------
    estimator : fitted LinearSVC (fastlinear or scikit-learn)
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    objectives : ndarray of shape (n_problems,)
        One value per binary problem (one for two classes).
    """
    check_is_fitted(estimator)
    X, y_ind, sample_weight = validate_evaluation_data(
        estimator, X, y, sample_weight, caller="linear_svc_objective")
    scaling = float(estimator.intercept_scaling) if estimator.fit_intercept else 0.0
    ovr = OneVsRest(X, y_ind, estimator.classes_, estimator.C, estimator.class_weight,
                    sample_weight, estimator.loss, scaling)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    W = np.zeros((coef.shape[0], coef.shape[1] + 1))
    W[:, :-1] = coef
    if estimator.fit_intercept:
        W[:, -1] = np.asarray(estimator.intercept_, dtype=np.float64) / scaling
    return np.array([ovr.problem(k).primal(W[k]) for k in range(ovr.n_problems)])
