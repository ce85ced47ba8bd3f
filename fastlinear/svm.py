"""Linear support vector classification by dual coordinate descent.

``fastlinear.LinearSVC`` solves the same problem as
``sklearn.svm.LinearSVC(dual=True)`` (liblinear's solvers ``-s 1`` and
``-s 3``) with the Cython kernel ``fastlinear._dual_cd_fast``.

Design rules of this module:

1. Validate once, at the edge (``fastlinear._validation``); the kernel then
   reads the caller's CSR arrays as they are, float32 or float64, with 32- or
   64-bit indices.  Dense input is converted to CSR once (a copy).
2. Per-sample costs follow liblinear: ``C_i = C * class_weight * sample_weight``;
   in one-vs-rest, the class weight of the positive class applies to its
   samples and the other samples keep ``C * sample_weight`` (as liblinear's
   ``train``).
3. One binary problem per class in one-vs-rest (one problem for two classes),
   each with its own seed drawn up front from ``random_state``: results do not
   depend on ``n_jobs`` or thread scheduling.
4. The kernel returns the iteration count; this module warns.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _dual_cd_fast
from ._primal import primal_newton_squared_hinge
from ._validation import check_sample_weight_finite, validate_classification_data

__all__ = ["LinearSVC", "linear_svc_objective"]

_LOSSES = {
    "hinge": int(_dual_cd_fast.Loss.LOSS_HINGE),
    "squared_hinge": int(_dual_cd_fast.Loss.LOSS_SQUARED_HINGE),
}


class LinearSVC(LinearClassifierMixin, BaseEstimator):
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
        those of ``n_jobs=1``.  A two-class problem runs on one thread: the
        kernel's parallel passes (PASSCoDe-Wild, ``n_threads`` of
        ``fastlinear._dual_cd_fast.dual_cd_csr``) were measured slower than
        the serial kernel on 2 cores (threads fight over the cache lines of
        the frequent features' weights), so they are not used here.
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
        if not self.dual and self.loss == "hinge":
            raise ValueError(
                "loss='hinge' is not supported with dual=False (as in liblinear "
                "and scikit-learn): the hinge loss is not differentiable. Use "
                "loss='squared_hinge' or dual=True."
            )
        X, y, csr = validate_classification_data(self, X, y, caller="LinearSVC.fit")
        # np.unique + searchsorted: the same encoding as LabelEncoder without
        # its argsort of all labels (a tenth of a small fit's time on a9a).
        classes = np.unique(y)
        y_ind = np.searchsorted(classes, y)
        if classes.shape[0] < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!s}. Pass data "
                "with samples of each class you want to separate."
            )
        n_samples = X.shape[0]
        if sample_weight is not None:
            sample_weight = check_sample_weight_finite(sample_weight, n_samples)
        class_weight = compute_class_weight(self.class_weight, classes=classes, y=y)


        n_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
        previous = self._previous_dual(n_problems, n_samples, classes)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_problems)
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        loss = _LOSSES[self.loss]
        W = np.zeros((n_problems, X.shape[1] + 1), dtype=np.float64)
        dual_coef = np.zeros((n_problems, n_samples), dtype=np.float64)

        def solve(k):
            # The labels and costs of problem k live only while it is solved,
            # so one-vs-rest needs no (n_classes, n_samples) temporaries.
            positive_class = 1 if n_problems == 1 else k
            y_pm = np.where(y_ind == positive_class, 1.0, -1.0)
            sample_C = class_weight[y_ind] if n_problems == 1 else np.where(
                y_pm > 0, class_weight[k], 1.0
            )
            sample_C *= self.C
            if sample_weight is not None:
                sample_C *= sample_weight
            alpha = dual_coef[k]
            if not self.dual:
                w0 = np.zeros(X.shape[1] + 1)
                if previous is not None:
                    # Warm start: w = sum_i y_i alpha_i x_i of the previous duals.
                    signed = previous[k] * y_pm
                    w0[:-1] = np.asarray(X.T @ signed, dtype=np.float64)
                    w0[-1] = bias * signed.sum()
                W[k], alpha[:], n_newton = primal_newton_squared_hinge(
                    X, y_pm, sample_C, bias, w0, float(self.tol), int(self.max_iter)
                )
                alpha *= y_pm
                return n_newton, np.nan
            if previous is not None:
                # Warm start: the previous duals clipped into the new box
                # [0, U_i] (U_i = C_i for the hinge, unbounded for the
                # squared hinge, 0 for samples of zero weight).
                upper = sample_C if self.loss == "hinge" else np.where(sample_C > 0, np.inf, 0.0)
                np.clip(previous[k], 0.0, upper, out=alpha)
            result = _dual_cd_fast.dual_cd_csr(
                csr.data, csr.indices, csr.indptr, y_pm, sample_C, W[k],
                alpha, loss, bias, float(self.tol), int(self.max_iter),
                int(seeds[k]), bool(self.shrinking), int(self.verbose),
            )
            alpha *= y_pm
            return result

        # Threads go to the binary problems of one-vs-rest, each running the
        # serial, deterministic kernel (see n_jobs in the class docstring).
        outer = min(effective_n_jobs(self.n_jobs), n_problems)
        if outer == 1:
            results = [solve(k) for k in range(n_problems)]
        else:
            results = Parallel(n_jobs=outer, prefer="threads")(
                delayed(solve)(k) for k in range(n_problems)
            )
        n_iters = np.array([r[0] for r in results])
        violations = np.array([r[1] for r in results])

        if not np.all(np.isfinite(W)):
            raise ValueError(
                "The solver produced non-finite weights; the data are probably "
                "badly scaled. Scale the features (e.g. StandardScaler or "
                "MaxAbsScaler) and try again."
            )
        self.classes_ = classes
        self.coef_ = W[:, :-1].astype(X.dtype, copy=True)
        if self.fit_intercept:
            self.intercept_ = (bias * W[:, -1]).astype(X.dtype)
        else:
            self.intercept_ = np.zeros(n_problems, dtype=X.dtype)
        self.dual_coef_ = dual_coef
        self.n_iter_ = int(n_iters.max())
        if np.any(n_iters >= self.max_iter) and not self.dual:
            warnings.warn(
                f"LinearSVC(dual=False) did not converge in max_iter="
                f"{self.max_iter} Newton steps. Increase max_iter or raise tol.",
                ConvergenceWarning,
            )
        elif np.any(n_iters >= self.max_iter):
            worst = int(np.argmax(violations))
            warnings.warn(
                f"LinearSVC did not converge: the binary problem {worst} "
                f"stopped at max_iter={self.max_iter} passes with a projected "
                f"gradient spread of {violations[worst]:.3g} > tol={self.tol}. "
                "Increase max_iter, raise tol, lower C, or scale the features "
                "(StandardScaler / MaxAbsScaler).",
                ConvergenceWarning,
            )
        return self

    def _previous_dual(self, n_problems, n_samples, classes):
        """``|dual_coef_|`` of the previous fit when warm-starting, else None."""
        if not (self.warm_start and hasattr(self, "dual_coef_")):
            return None
        if self.dual_coef_.shape != (n_problems, n_samples) or not np.array_equal(
            self.classes_, classes
        ):
            warnings.warn(
                "warm_start=True but the samples or classes changed since the "
                "previous fit; starting from zero.",
                UserWarning,
            )
            return None
        return np.abs(self.dual_coef_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


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
    classes = estimator.classes_
    y = np.asarray(y)
    y_ind = np.searchsorted(classes, y)
    if np.any(y_ind >= classes.shape[0]) or np.any(classes[np.minimum(y_ind, classes.shape[0] - 1)] != y):
        raise ValueError("y has labels the estimator was not fitted on.")
    sample_weight = check_sample_weight_finite(sample_weight, y.shape[0])
    class_weight = compute_class_weight(estimator.class_weight, classes=classes, y=y)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64) * np.ones(coef.shape[0])
    scaling = float(estimator.intercept_scaling) if estimator.fit_intercept else 1.0
    bias_w = intercept / scaling if estimator.fit_intercept else np.zeros(coef.shape[0])
    scores = X @ coef.T + intercept
    scores = np.asarray(scores, dtype=np.float64)
    objectives = np.empty(coef.shape[0])
    for k in range(coef.shape[0]):
        if coef.shape[0] == 1:
            positive = y_ind == 1
            c = estimator.C * sample_weight * class_weight[y_ind]
        else:
            positive = y_ind == k
            c = estimator.C * sample_weight * np.where(positive, class_weight[k], 1.0)
        margin = np.maximum(0.0, 1.0 - np.where(positive, 1.0, -1.0) * scores[:, k])
        if estimator.loss == "squared_hinge":
            margin = margin**2
        objectives[k] = 0.5 * (coef[k] @ coef[k] + bias_w[k] ** 2) + c @ margin
    return objectives
