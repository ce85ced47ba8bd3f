"""Multiclass logistic regression by mini-batch gradient descent.

``fastlinear.LogisticRegression`` minimises the objective of
``sklearn.linear_model.LogisticRegression`` (multinomial, L2)::

    J(W, b) = C sum_i s_i (-log P(y_i | x_i)) + 1/2 ||W||^2      (b not penalised)

with the Cython kernel ``fastlinear._logistic_fast`` (the derivation of both
gradients sits above that kernel).

Design rules of this module:

1. Validate once, at the edge (``fastlinear._validation``); the kernel then
   reads the caller's CSR arrays as they are, float32 or float64, 32- or
   64-bit indices.  Dense input is converted to CSR once (a copy).
2. Two and more classes run the same kernel with K columns; only the
   *reporting* of a binary model follows sklearn's shape (one row,
   ``coef_ = w_1 - w_0``).
3. The default step is computed from the data, never tuned per data set:
   ``eta0 = 8 / mean_i(s_i (||x_i||^2 + fit_intercept))`` for SVRG, ``2 /
   ...`` for plain SGD and ``partial_fit`` (see :class:`LogisticRegression`,
   Notes), capped so that ``eta0 / (C n) <= 1/2``.
4. Labels are encoded here; the kernel sees int32 class indices.  The random
   permutation seed is drawn from ``random_state`` once per call: the same
   ``random_state`` gives the same model, bit for bit.
5. The kernel returns ``(n_iter, status, eta)``; this module warns.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from . import _logistic_fast
from ._base import CheckedLinearClassifierMixin
from ._memory import check_weight_memory
from ._parallel import new_stop_flag
from ._solvers import Status
from ._validation import (
    MAX_INT,
    check_labels_finite,
    check_sample_weight,
    check_X,
    encode_known,
    validate_classification_data,
    validate_evaluation_data,
)

__all__ = ["LogisticRegression", "logistic_objective"]

_SCHEDULES = {
    "constant": int(_logistic_fast.Schedule.LR_CONSTANT),
    "invscaling": int(_logistic_fast.Schedule.LR_INVSCALING),
    "adaptive": int(_logistic_fast.Schedule.LR_ADAPTIVE),
}
#: Adaptive schedule: how many times the step may be divided by 5.
_MAX_DECREASES = 4
#: Default step = _STEP_FACTOR[solver] / mean_i(s_i ||x~_i||^2)  (rule 3):
#: 4 / L for SVRG, 1 / L for plain SGD (whose noise does not tolerate more).
_STEP_FACTOR = {"svrg": 8.0, "sgd": 2.0}


class LogisticRegression(CheckedLinearClassifierMixin, BaseEstimator):
    """Multiclass (multinomial) logistic regression by mini-batch gradient descent.

    Same objective and attributes as
    ``sklearn.linear_model.LogisticRegression`` (multinomial, L2 penalty), so
    the two can be compared at the same ``C``.  The solver is mini-batch
    gradient descent over CSR data in a GIL-free Cython kernel, with the
    SVRG control variate (Johnson & Zhang, 2013) by default so that it
    converges to the optimum rather than to a noise ball, a lazily applied
    L2 term (a step costs O(nnz of the batch x n_classes)) and weights stored
    feature-major.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength; must be strictly positive.
    parametrization : {"softmax", "reference"}, default="softmax"
        ``"softmax"``: one weight vector per class,
        ``P(c|x) = exp(w_c.x + b_c) / sum_k exp(w_k.x + b_k)``.
        ``"reference"``: class 0 carries no weights,
        ``P(c|x) = exp(-v_c.x - d_c) / (1 + sum_{k>=1} exp(-v_k.x - d_k))``
        (the course's form; ordinary logistic regression for two classes).
        ``coef_`` then holds the logit weights ``-v_c`` (row 0 zero).
    fit_intercept : bool, default=True
        Whether to fit the (unpenalised) intercepts.
    solver : {"svrg", "sgd"}, default="svrg"
        ``"svrg"``: mini-batch steps with the control variate of the full
        gradient at the start of each epoch (linear convergence; each epoch
        costs about twice an SGD epoch).  ``"sgd"``: plain mini-batch
        stochastic gradient descent.
    batch_size : int, default=4
        Rows per mini-batch.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="adaptive"
        ``"constant"``: ``eta0``.  ``"invscaling"``: ``eta0 / (epoch + 1) **
        power_t``.  ``"adaptive"``: ``eta0``, divided by 5 (restarting from
        the best weights) each time ``n_iter_no_change`` epochs fail to lower
        the objective by ``tol`` relative while the objective went up (noise,
        not convergence), or it blows up; at most 4 times.
    eta0 : "auto" or float, default="auto"
        Initial step on the averaged objective ``J / (C n)``.  ``"auto"``:
        ``8 / mean_i(s_i (||x_i||^2 + fit_intercept))`` for ``"svrg"``,
        ``2 / ...`` for ``"sgd"`` and ``partial_fit`` (see Notes).
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=100
        Maximal number of epochs (passes over the data).
    tol : float, default=1e-5
        Stop when ``n_iter_no_change`` consecutive epochs fail to lower the
        best objective by ``tol * |best|``.
    n_iter_no_change : int, default=3
        See ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the row permutations.  The same seed gives the same model.
    verbose : int, default=0
        Print the objective after each epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution (same classes and features).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights, of the dtype of X.  For two classes, as in scikit-learn, one
        row: ``w_1 - w_0``, so ``decision_function > 0`` predicts
        ``classes_[1]``.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (``b_1 - b_0`` for two classes).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_iter_ : int
        Epochs run by the last ``fit``.
    loss_curve_ : list of float
        Objective ``J`` after each epoch of the last ``fit`` (``loss_curve_[0]``
        is the starting point's), in this estimator's parametrisation.
    eta_ : float
        Learning rate at the end of the last fit.
    n_samples_seen_ : int
        Samples seen by ``partial_fit`` (``fit`` resets it).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (only when X has string column names).

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the lbfgs-backed reference.
    sklearn.linear_model.SGDClassifier : one-vs-rest SGD.
    fastlinear.logistic_objective : ``J`` of a fitted model on data.

    Notes
    -----
    With ``y_ic = [y_i = c]`` and ``p_ic = P(c | x_i)``, the gradient is
    ``dJ/dw_c = C sum_i s_i (p_ic - y_ic) x_i + w_c`` (softmax) and
    ``dJ/dv_c = C sum_i s_i (y_ic - p_ic) x_i + v_c`` (reference form,
    ``c >= 1``).  The kernel descends ``F = J / (C n)``; with ``lam = 1/(C n)``
    a step on the mini-batch ``B`` is::

        W <- (1 - eta lam) W - eta/|B| sum_{i in B} s_i x_i (p_i - y_i - r_i)^T - eta m

    where, for SVRG, ``r_i`` are the residuals and ``m`` the mean gradient at
    the start of the epoch (zero for plain SGD).

    The default step: the Hessian of the mini-batch loss is at most
    ``1/2 * X_B^T S_B X_B / |B|`` (softmax cross-entropy has curvature at most
    1/2 along any direction of the logits), whose trace bound averages to
    ``L = mean_i(s_i ||x~_i||^2) / 2`` (``x~`` with the constant 1 of the
    intercept).  For SVRG ``eta0 = 4 / L``: four times the worst-case safe
    step, which the measured curvature (near the optimum the probabilities
    are confident and the curvature far below 1/2) allows on every data set
    tried (twice that failed on 20 Newsgroups); the adaptive schedule falls
    back by factors of 5 if it is too long.  Plain SGD, whose gradient noise
    does not vanish, gets ``eta0 = 1 / L``.

    For two classes the softmax form keeps two weight vectors; its optimum
    ``w_1 = -w_0`` makes ``J = C sum_i s_i l_i(d) + 1/4 ||d||^2`` in
    ``d = w_1 - w_0``: the same model as scikit-learn's binary
    ``LogisticRegression`` at ``2 C``.  ``parametrization="reference"`` is
    exactly scikit-learn's binary problem at ``C``.

    ``partial_fit`` runs one epoch of plain mini-batch SGD on each chunk with
    ``lam = 1 / (C n_seen)`` (``n_seen``: samples seen so far) and the current
    step (``invscaling`` counts calls as epochs).

    References
    ----------
    R. Johnson and T. Zhang. "Accelerating Stochastic Gradient Descent using
    Predictive Variance Reduction." NIPS 2013.

    L. Bottou. "Stochastic Gradient Descent Tricks." Neural Networks: Tricks
    of the Trade, 2012 (the lazy L2 scale).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fastlinear import LogisticRegression
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(C=1.0, random_state=0).fit(X / 16, y)
    >>> clf.predict_proba(X[:1] / 16).shape
    (1, 10)
    >>> round(clf.score(X / 16, y), 2)
    0.98
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "parametrization": [StrOptions({"softmax", "reference"})],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"svrg", "sgd"})],
        "batch_size": [Interval(Integral, 1, MAX_INT, closed="both")],
        "learning_rate": [StrOptions(set(_SCHEDULES))],
        "eta0": [StrOptions({"auto"}), Interval(Real, 0.0, None, closed="neither")],
        "power_t": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, MAX_INT, closed="both")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, MAX_INT, closed="both")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        C=1.0,
        *,
        parametrization="softmax",
        fit_intercept=True,
        solver="svrg",
        batch_size=4,
        learning_rate="adaptive",
        eta0="auto",
        power_t=0.5,
        max_iter=100,
        tol=1e-5,
        n_iter_no_change=3,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.C = C
        self.parametrization = parametrization
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to the whole data set.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training vectors.  CSR matrices (float32 or float64, 32- or
            64-bit indices) are used without a copy; anything else is
            converted to CSR once.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights ``s_i`` multiplying the loss; 0 leaves a
            sample out.

        Returns
        -------
        self : LogisticRegression
            The fitted estimator.
        """
        data = validate_classification_data(self, X, y, sample_weight,
                                            caller="LogisticRegression.fit")
        return self._fit_validated(data)

    def _fit_validated(self, data, *, stop=None):
        """Fit on validated data (``fastlinear._validation.ClassificationData``)."""
        X, classes, sample_weight = data.X, data.classes, data.sample_weight
        n_samples = X.n_rows
        # W, the SVRG store (2 K columns), the best weights: about 4 K vectors.
        check_weight_memory(X.n_cols, 4 * classes.shape[0] + 2, "LogisticRegression.fit")
        W, b = self._start_point(classes, X.n_cols)
        lam = 1.0 / (self.C * n_samples)
        eta0 = self._initial_eta(X, sample_weight, lam, self.solver)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        settings = self._settings(lam, eta0, variance_reduced=self.solver == "svrg",
                                  max_iter=self.max_iter, track_objective=True)
        n_iter, status, eta, curve = _logistic_fast.minibatch_sgd(
            X, data.y_ind.astype(np.int32), sample_weight, W, b,
            settings, stop=new_stop_flag() if stop is None else stop, seed=int(seed),
        )
        if status == Status.INTERRUPTED:
            raise KeyboardInterrupt("LogisticRegression.fit was interrupted.")
        self._set_weights(W, b, X.dtype)
        self.classes_ = classes
        self.n_features_in_ = X.n_cols
        self.n_iter_ = int(n_iter)
        self.loss_curve_ = curve.tolist()
        self.eta_ = float(eta)
        self.n_samples_seen_ = 0
        self._eta0_used = eta0
        # A partial_fit after this fit continues from these weights afresh.
        self.__dict__.pop("_rng_partial", None)
        if status == Status.DIVERGED:
            warnings.warn(
                f"LogisticRegression diverged with eta0={eta0:.3g} "
                f"(learning_rate={self.learning_rate!r}); the weights are the "
                "best ones seen. Lower eta0, use learning_rate='adaptive', or "
                "scale the features (StandardScaler / MaxAbsScaler).",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif status != Status.CONVERGED:
            warnings.warn(
                f"LogisticRegression did not converge in max_iter={self.max_iter} "
                f"epochs: the objective still fell by more than tol={self.tol} "
                f"(relative) within the last {self.n_iter_no_change} epochs. "
                "Increase max_iter, raise tol, or scale the features.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of mini-batch SGD on a chunk of data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training vectors.
        y : array-like of shape (n_samples,)
            Its labels; all must be in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole problem.  Required on the first call,
            optional afterwards (must then equal ``classes_``).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : LogisticRegression
            The updated estimator.
        """
        first = not hasattr(self, "classes_")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: "
                    "give every label of the whole problem, e.g. "
                    "partial_fit(X, y, classes=np.unique(y_all))."
                )
        check_labels_finite(y)
        X, y = check_X(self, X, y=y, reset=first, caller="LogisticRegression.partial_fit")
        check_classification_targets(y)
        if classes is not None:
            check_labels_finite(classes, name="classes")
            classes = np.unique(np.asarray(classes))
            if classes.shape[0] < 2:
                raise ValueError(
                    f"classes must hold at least 2 labels, got {classes!r}."
                )
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes!r} is not the same as classes_="
                    f"{self.classes_!r} of the first call to partial_fit."
                )
        else:
            classes = self.classes_
        y_ind = encode_known(classes, y, message=(
            "y contains labels not in classes: {labels}. Pass every label of the "
            "problem in classes= on the first call (classes_ is {classes})."))
        n_samples = X.n_rows
        sample_weight = check_sample_weight(sample_weight, n_samples)
        if first:
            self.classes_ = classes
            K = classes.shape[0]
            self._W = np.zeros((X.n_cols, K))
            self._b = np.zeros(K)
            self.n_samples_seen_ = 0
        if not hasattr(self, "_rng_partial"):
            # First partial_fit, or the first one after fit (which it continues).
            self._n_partial = 0
            self._rng_partial = check_random_state(self.random_state)
        seen = self.n_samples_seen_ + n_samples
        lam = 1.0 / (self.C * max(seen, 1))
        if self._n_partial == 0:
            self._eta0_used = self._initial_eta(X, sample_weight, lam, "sgd")
        eta0 = min(self._eta0_used, 0.5 / lam)
        seed = self._rng_partial.randint(np.iinfo(np.int32).max)
        W, b = self._W.copy(), self._b.copy()
        settings = self._settings(lam, eta0, variance_reduced=False, max_iter=1,
                                  track_objective=False, n_iter_no_change=1,
                                  max_decreases=0, epoch_offset=self._n_partial,
                                  verbose=0)
        n_iter, status, eta, _ = _logistic_fast.minibatch_sgd(
            X, y_ind.astype(np.int32), sample_weight, W, b,
            settings, stop=new_stop_flag(), seed=int(seed),
        )
        if status == Status.INTERRUPTED:
            raise KeyboardInterrupt("LogisticRegression.partial_fit was interrupted.")
        self._set_weights(W, b, X.dtype)
        self.n_samples_seen_ = seen
        self._n_partial += 1
        self.n_iter_ = 1
        self.eta_ = float(eta)
        return self

    # ------------------------------------------------------------ predict
    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return log_softmax(scores, axis=1)

    def objective(self, X, y, sample_weight=None):
        """The objective ``J`` this estimator minimised, on ``(X, y)``.

        For two classes in the softmax form it is taken over both weight
        vectors (``1/4 ||coef_||^2`` at the symmetric optimum), unlike
        :func:`logistic_objective`, which reads ``coef_`` as scikit-learn's
        binary model does.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        J : float
        """
        check_is_fitted(self)
        X, y_ind, sw = validate_evaluation_data(self, X, y, sample_weight,
                                                caller="LogisticRegression.objective")
        return _logistic_fast.objective(X, y_ind.astype(np.int32), sw, self._W,
                                        self._b, float(self.C))

    # ------------------------------------------------------------ helpers
    def _settings(self, lam, eta0, **overrides):
        """The kernel's settings (``_logistic_fast.minibatch_sgd``)."""
        settings = dict(
            C=float(self.C), lam=lam, eta0=eta0, power_t=float(self.power_t),
            tol=float(self.tol), schedule=_SCHEDULES[self.learning_rate],
            batch_size=int(self.batch_size), max_iter=int(self.max_iter),
            n_iter_no_change=int(self.n_iter_no_change),
            max_decreases=_MAX_DECREASES, epoch_offset=0,
            verbose=int(self.verbose), fit_intercept=bool(self.fit_intercept),
            reference=self.parametrization == "reference",
            variance_reduced=True, track_objective=True,
        )
        settings.update(overrides)
        return settings

    def _start_point(self, classes, n_features):
        """Zeros, or the previous solution (``warm_start``)."""
        K = classes.shape[0]
        if self.warm_start and hasattr(self, "_W"):
            if self._W.shape == (n_features, K) and np.array_equal(
                self.classes_, classes
            ):
                return self._W.copy(), self._b.copy()
            warnings.warn(
                "warm_start=True but the classes or features changed since the "
                "previous fit; starting from zero.",
                UserWarning,
                stacklevel=2,
            )
        return np.zeros((n_features, K)), np.zeros(K)

    def _initial_eta(self, X, sample_weight, lam, solver):
        """The step (``eta0``, or the data-driven default; rule 3)."""
        if self.eta0 != "auto":
            eta0 = float(self.eta0)
            if not eta0 * lam < 1.0:
                raise ValueError(
                    f"eta0={eta0} is too large for this problem: the L2 step "
                    f"shrinks W by (1 - eta0 / (C n)) = {1 - eta0 * lam:.3g} <= 0. "
                    f"Use eta0 < C * n_samples = {1 / lam:.6g}, or eta0='auto'."
                )
            return eta0
        n = X.n_rows
        indptr = np.asarray(X.indptr)
        row = np.repeat(np.arange(n), np.diff(indptr))
        sq = np.bincount(row, weights=np.square(X.data, dtype=np.float64), minlength=n)
        mean_sq = float(np.mean(sample_weight * (sq + float(self.fit_intercept))))
        if not np.isfinite(mean_sq):
            raise ValueError(
                "The squared norms of the rows of X overflow float64 on average "
                "(values near 1e154 or larger), so no step size is safe. Rescale "
                "X, e.g. with sklearn.preprocessing.MaxAbsScaler."
            )
        eta0 = _STEP_FACTOR[solver] / mean_sq if mean_sq > 0 else 1.0
        return min(eta0, 0.5 / lam)

    def _set_weights(self, W, b, dtype):
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(
                "The solver produced non-finite weights; the data are probably "
                "badly scaled. Scale the features (e.g. StandardScaler or "
                "MaxAbsScaler), or lower eta0."
            )
        self._W = W
        self._b = b
        if W.shape[1] == 2:
            self.coef_ = (W[:, 1] - W[:, 0])[None, :].astype(dtype)
            self.intercept_ = np.array([b[1] - b[0]], dtype=dtype)
        else:
            self.coef_ = np.ascontiguousarray(W.T, dtype=dtype)
            self.intercept_ = b.astype(dtype)



def logistic_objective(estimator, X, y, sample_weight=None, *, C=None):
    """Objective of a fitted logistic regression, read from ``coef_``.

    Works for ``fastlinear.LogisticRegression`` and
    ``sklearn.linear_model.LogisticRegression`` alike, so their solutions
    can be compared on the problem both solve: with K >= 3 rows,
    ``C sum_i s_i (-log softmax(X coef_^T + intercept_)_{i, y_i}) +
    1/2 ||coef_||^2``; with one row (two classes), scikit-learn's binary
    objective ``C sum_i s_i log(1 + exp(-t_i (x_i.coef_ + intercept_))) +
    1/2 ||coef_||^2`` with ``t_i = +-1``.

    Parameters
    ----------
    estimator : fitted LogisticRegression (fastlinear or scikit-learn)
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    C : float, default=None
        The ``C`` of the objective; ``estimator.C`` when None.

    Returns
    -------
    J : float
    """
    check_is_fitted(estimator)
    X, y_ind, sw = validate_evaluation_data(estimator, X, y, sample_weight,
                                            caller="logistic_objective")
    C = float(estimator.C if C is None else C)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    scores = np.asarray(X.to_scipy() @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        scores = np.column_stack([np.zeros(scores.shape[0]), scores[:, 0]])
    log_p = log_softmax(scores, axis=1)[np.arange(y_ind.shape[0]), y_ind]
    return float(C * -(sw @ log_p) + 0.5 * np.sum(coef * coef))
