"""Regularised logistic regression, binary and multinomial: scikit-learn's model, exact solvers.

``fastlinear.LogisticRegression`` minimises the objective of
``sklearn.linear_model.LogisticRegression``::

    J(W, b) = C sum_i s_i (-log P(y_i | x_i)) + 1/2 ||W||^2          (b not penalised)

with ``s_i`` the sample weight times the class weight of ``y_i``, one weight
vector for two classes (``P(y = classes_[1] | x) = sigma(w.x + b)``) and the
multinomial (softmax) model for more.  ``C=np.inf`` drops the penalty.
``solver="liblinear"`` solves liblinear's problem instead (``-s 0`` primal or
``-s 7`` dual): the intercept is the weight of a constant feature of value
``intercept_scaling``, penalised with the others.  ``l1_ratio = r > 0``
replaces ``1/2 ||W||^2`` by ``(1 - r)/2 ||w||^2 + r ||w||_1`` (two classes;
newGLMNET, ``fastlinear._solvers.glmnet``), or, with ``solver="liblinear"``,
gives liblinear's ``-s 6`` problem ``||w~||_1 + C sum_i s_i loss_i``.

Design rules of this module:

1. Validate once, at the edge (``fastlinear._validation``); the solvers then
   read the caller's CSR arrays as they are (float32 or float64, 32- or
   64-bit indices; dense input is converted to CSR once).
2. One problem, several solvers.  A binary fit builds a
   :class:`fastlinear._problem.LinearProblem` with the logistic loss, shared
   with the SVMs' Newton solver; a multinomial fit passes the same costs and
   penalty to the multinomial solvers.  :func:`choose_solver` picks the
   solver (``solver_`` tells which ran).
3. Every exact solver stops on scikit-learn's lbfgs test: the largest entry
   of the gradient of ``J / (C sum_i s_i)`` (the mean loss plus its
   penalty) at most ``tol``.  liblinear's solvers keep liblinear's tests.
4. The mini-batch solvers (``"svrg"``, ``"sgd"``: the course's gradient
   descent) stay available with their own options, for the same model.
5. The solver returns its status; this module raises ``KeyboardInterrupt``
   (the estimator unfitted), refuses non-finite weights and warns with
   ``ConvergenceWarning``.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from . import _logistic_fast, _solver_table
from ._base import CheckedLinearClassifierMixin, bias_of, check_warm_start, set_fitted_weights
from ._memory import check_weight_memory
from ._merge import copy_fits, merged
from ._parallel import blas_threads, new_stop_flag
from ._problem import LinearProblem
from ._solvers import (
    RELATIVE_DECREMENT_WIDE,
    ROUNDING_GRADIENT,
    ROUNDING_MEASURE,
    Solution,
    Status,
    cost_scaled_tol,
    every_class_costs,
    gradient_bound,
    newton,
    no_decrease_text,
    primal_newton,
    settle,
)
from ._validation import (
    MAX_INT,
    N_JOBS,
    check_class_weight,
    check_intercept_scaling,
    check_labels_finite,
    check_sample_weight,
    check_X,
    encode_known,
    validate_classification_data,
    validate_evaluation_data,
)

__all__ = ["LogisticRegression", "choose_solver", "logistic_objective"]

_SCHEDULES = {
    "constant": int(_logistic_fast.Schedule.LR_CONSTANT),
    "invscaling": int(_logistic_fast.Schedule.LR_INVSCALING),
    "adaptive": int(_logistic_fast.Schedule.LR_ADAPTIVE),
}
#: Adaptive schedule: how many times the step may be divided by 5.
_MAX_DECREASES = 4
#: Default step = _STEP_FACTOR[solver] / mean_i(s_i ||x~_i||^2): 4 / L for
#: SVRG, 1 / L for plain SGD (whose noise does not tolerate more).
_STEP_FACTOR = {"svrg": 8.0, "sgd": 2.0}

#: scikit-learn's solver names.  "liblinear" solves liblinear's problem;
#: "newton-cholesky" and "newton-cg" run fastlinear's solver of that method;
#: the others ("lbfgs", "sag", "saga") name no method of fastlinear's and run
#: the one :func:`choose_solver` picks for the same problem.
SKLEARN_SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")
#: The first sentence of the ConvergenceWarning, by the ``solver`` asked for:
#: scikit-learn's own wording, so that warning filters written for
#: scikit-learn's estimator keep working.
_CONVERGENCE_WORDS = {
    "lbfgs": "lbfgs failed to converge.",
    "newton-cg": "newton-cg failed to converge. Increase the number of iterations.",
    "newton-cholesky": "Newton solver did not converge after {n_iter} iterations.",
    "liblinear": "Liblinear failed to converge, increase the number of iterations.",
    "sag": "The max_iter was reached which means the coef_ did not converge.",
    "saga": "The max_iter was reached which means the coef_ did not converge.",
}
#: fastlinear's own names: "auto" (the rule), the mini-batch solvers.
OWN_SOLVERS = ("auto", "svrg", "sgd")

#: :func:`choose_solver` runs Newton with a Cholesky factorisation of the
#: Hessian while it has at most this many entries per row (variables,
#: ``(n_features + 1) * n_classes`` for the multinomial model; the Hessian is
#: formed in ``O(sum_i nnz_i^2 K^2)`` and factorised in ``O(variables^3)``,
#: and its factor preconditions the later steps until they cost as much as
#: forming it anew), and truncated Newton (conjugate gradients with
#: Hessian-vector products, ``O(nnz K)`` each) beyond.
CHOLESKY_MAX_VARIABLES = 1000


def choose_solver(solver, *, n_samples, n_features, n_classes, nnz):
    """The solver ``solver`` runs as, for a fit of this shape.

    Returns ``"newton-cholesky"`` or ``"newton-cg"`` (the exact solvers),
    ``"liblinear"``, ``"svrg"`` or ``"sgd"``.  scikit-learn's names with no
    method of their own here (``"lbfgs"``, ``"sag"``, ``"saga"``) and
    ``"auto"`` take the exact solver of the rule: Newton-Cholesky while
    the Hessian is small (:data:`CHOLESKY_MAX_VARIABLES`) and forming it costs
    no more than a few Hessian-vector products would
    (``sum_i nnz_i^2 K^2``, bounded by ``nnz * (n_features + 1) * K^2``, at
    most ``n_features + 1`` times ``nnz K``), truncated Newton otherwise.
    """
    if solver in ("liblinear", "svrg", "sgd", "newton-cholesky", "newton-cg"):
        return solver
    K = 1 if n_classes <= 2 else n_classes
    variables = (n_features + 1) * K
    if variables <= CHOLESKY_MAX_VARIABLES and n_samples >= n_features + 1:
        return "newton-cholesky"
    del nnz  # the rule reads the shape only (see above)
    return "newton-cg"


class LogisticRegression(SparseCoefMixin, CheckedLinearClassifierMixin, BaseEstimator):
    """Logistic regression (binary and multinomial; L2, L1 or elastic net): scikit-learn's model, solved exactly.

    Same parameters, defaults, objective and attributes as
    ``sklearn.linear_model.LogisticRegression`` (so the two give the same
    model at the same ``C``), with solvers in Cython: Newton's method with a
    Cholesky factorisation of the Hessian for data with few features,
    truncated Newton (preconditioned conjugate gradients, threads over the
    rows with ``n_jobs``) for wide and sparse data, newGLMNET for binary L1
    and elastic-net penalties, liblinear's ``-s 0``, ``-s 6`` and ``-s 7``
    for ``solver="liblinear"``, and the course's mini-batch gradient descent
    (``"svrg"``, ``"sgd"``).

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet", None}, default="deprecated"
        Deprecated in scikit-learn 1.8, as there: leave it, and use
        ``l1_ratio`` and ``C`` (``C=np.inf`` for no penalty).  ``"l1"`` means
        ``l1_ratio=1``, ``"elasticnet"`` the given ``l1_ratio``.
    C : float, default=1.0
        Inverse regularisation strength, in ``(0, inf]``; ``np.inf`` means no
        penalty (the data must then not be separable).
    l1_ratio : float, default=0.0
        The L1 share ``r`` of the penalty, in [0, 1]: ``(1 - r)/2 ||w||^2 +
        r ||w||_1``.  ``r > 0`` is solved by newGLMNET for two classes
        (``solver="auto"`` or ``"saga"``; ``"liblinear"`` with ``r = 1``:
        liblinear's ``-s 6``); ``"lbfgs"``, ``"newton-cg"``,
        ``"newton-cholesky"`` and ``"sag"`` refuse it as scikit-learn does.
        Three or more classes with ``r > 0``: the multinomial model, by
        proximal Newton (``solver_ == "prox-newton"``).
    dual : bool, default=False
        With ``solver="liblinear"``: liblinear's dual coordinate descent
        (``-s 7``, for more features than samples) instead of its primal
        Newton solver (``-s 0``).  Other solvers refuse ``dual=True``.
    tol : float, default=1e-4
        Stop when the largest entry of the gradient of ``J / (C sum_i s_i)``
        is at most ``tol`` (scikit-learn's lbfgs test); the Newton solvers
        with a penalty also wait until the decrease promised by a Newton
        step on the Hessian's diagonal, an estimate of the distance to the
        optimum in the units of ``J / (C sum_i s_i)``, is at most ``tol``
        (scikit-learn's newton-cholesky tests its Newton decrement so;
        where most features are rare the largest gradient entry meets
        ``tol`` far from the optimum); newton-cholesky takes that decrease
        on the whole Hessian where forming it is cheap or one sample
        carries at least 1 % of ``sum_i s_i``.  That decrease must also be
        at most ``tol / 100`` of ``J`` (relative) for newton-cholesky (few
        features, cheap steps: at the default ``tol`` its fits end within
        about 1e-6 of the optimum's objective) and ``tol`` of ``J`` for
        newton-cg and the L1 / elastic-net solvers (at large C on separable
        data the mean objective is tiny, and the absolute test alone stopped
        at twice the optimal objective); the binary L1 / elastic-net solver
        then confirms it on the whole quadratic model, solved to a tenth of
        the violation, and so do newton-cg and the multinomial L1 /
        elastic-net solver once the diagonal's estimate has fallen more
        than 2x short of a step's actual decrease (with correlated columns
        it fell far short).  As in scikit-learn, ``tol`` is absolute in these
        units: where one sample's weight dwarfs the
        others' (1e6 against ones), their share of ``J`` is below ``tol``
        and the fit can stop well above the optimum; lower ``tol`` then.
        ``"liblinear"``:
        liblinear's tests (``-s 0``: gradient norm relative to its value at 0,
        scaled by the minority class's share; ``-s 7``: the largest dual
        gradient violation).  ``"svrg"`` tests the gradient as the exact
        solvers do, after each epoch; ``"sgd"`` stops on a stall (see
        ``n_iter_no_change``).
    fit_intercept : bool, default=True
        Whether to fit an intercept (not penalised, except with
        ``solver="liblinear"``).
    intercept_scaling : float, default=1
        ``solver="liblinear"`` only: the value of the constant feature whose
        weight gives the intercept (``intercept_ = intercept_scaling *
        w_bias``); larger values penalise the intercept less.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``C`` for their samples
        (``"balanced"``: ``n_samples / (n_classes * count)``, counting with
        the sample weights).
    random_state : int, RandomState instance or None, default=None
        Seeds the sample order of ``"liblinear"`` with ``dual=True``, the
        coordinate order of the L1 / elastic-net solver, and the mini-batch
        solvers.  The same seed gives the same model.
    solver : {"auto", "lbfgs", "liblinear", "newton-cg", "newton-cholesky", \
"sag", "saga", "svrg", "sgd"}, default="auto"
        ``"auto"``, ``"lbfgs"``, ``"sag"``, ``"saga"``: the exact solver of
        :func:`fastlinear.logistic.choose_solver` (all solve the same
        problem; a binary Newton-Cholesky fit of sparse X from the default
        start first takes up to 10 L-BFGS iterations, counted in
        ``n_iter_``); with ``l1_ratio > 0`` (``"auto"`` and ``"saga"`` only)
        newGLMNET, stopped when the largest entry of the minimum-norm
        subgradient of ``J / (C sum_i s_i)`` is at most ``tol``.
        ``"newton-cholesky"``: Newton's method with the Hessian factorised
        (few features; the factor also preconditions conjugate gradients in
        the next steps).  ``"newton-cg"``: truncated Newton with
        conjugate gradients.  ``"liblinear"``: liblinear's problem and
        solvers (binary only, as scikit-learn); ``-s 0`` on few features
        with ``tol < 1e-3`` runs the Newton-Cholesky steps (L-BFGS first
        from the default start) to liblinear's test, liblinear's own
        trust-region Newton steps otherwise.  ``"svrg"``, ``"sgd"``:
        mini-batch gradient descent with or without the SVRG control variate.
    max_iter : int, default=100
        Newton steps and L-BFGS iterations (the exact solvers, and
        liblinear's ``-s 0`` where it takes their steps, with at most half
        of ``max_iter`` for L-BFGS), passes over the data (``-s 7``) or
        epochs (mini-batch solvers).  0 returns the start point (zeros, or
        the previous model with ``warm_start``).
    verbose : int, default=0
        Print the solver's progress.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` (same classes and
        features).  A start from which the line search finds no decrease
        (so far from the optimum that the curvature underflows, e.g. an
        intercept of 28 on standardised data) is dropped for the default
        start.
    n_jobs : int, default=None
        Threads for the products with X of the truncated Newton solvers
        (``None``: one), and BLAS's threads during ``fit`` (threadpoolctl's
        limit, lifted when ``fit`` returns: its BLAS calls are on vectors and
        small matrices, where OpenBLAS's default of one thread per core made
        fits up to 3.5x slower).  The model does not depend on it beyond
        rounding.
    parametrization : {"softmax", "reference"}, default="softmax"
        The multinomial model (three or more classes).  ``"softmax"``: one
        weight vector per class.  ``"reference"``: class 0 carries no
        weights, ``P(c|x) ∝ exp(-v_c.x - d_c)`` for ``c >= 1`` and
        ``P(0|x) ∝ 1`` (the course's form; ``coef_`` then holds the logit
        weights ``-v_c``, row 0 zero).  The two are different penalised
        models for three or more classes; for two classes they are the same
        model, scikit-learn's binary one (one weight vector).
    batch_size : int, default=4
        Rows per mini-batch (``"svrg"``, ``"sgd"``).
    learning_rate : {"constant", "invscaling", "adaptive"}, default="adaptive"
        Step schedule of the mini-batch solvers: ``eta0``; ``eta0 / (epoch +
        1) ** power_t``; or ``eta0`` divided by 5 (from the best weights)
        each time ``n_iter_no_change`` epochs fail to lower the objective
        while it went up (noise, not convergence), at most 4 times.
    eta0 : "auto" or float, default="auto"
        Initial step of the mini-batch solvers on ``J / (C n)``;
        ``"auto"``: ``8 / mean_i(s_i (||x_i||^2 + 1))`` for ``"svrg"``,
        ``2 / ...`` for ``"sgd"`` and ``partial_fit``.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    n_iter_no_change : int, default=3
        ``"sgd"`` stops when this many epochs fail to lower the best
        objective by ``tol`` (relative); for ``"svrg"`` such a stall (any
        decrease counts) only divides the step (``learning_rate="adaptive"``).

    Attributes
    ----------
    coef_ : ndarray or sparse matrix of shape (1, n_features) or (n_classes, n_features)
        Weights, of the dtype of X.  Dense after every fit, as scikit-learn's
        (code written for it calls ``coef_.ravel()`` or adds scalars);
        :meth:`sparsify` makes them a sparse matrix, which pays for memory
        when most weights are 0 (L1 penalties).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros without ``fit_intercept``).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_iter_ : ndarray of shape (1,)
        Newton steps, passes or epochs of the last ``fit``.
    solver_ : str
        The solver that ran: ``"newton-cholesky"``, ``"newton-cg"``,
        ``"liblinear"`` (``-s 0``), ``"liblinear-dual"`` (``-s 7``),
        ``"liblinear-l1"`` (``-s 6``), ``"glmnet"`` (L1 / elastic net),
        ``"svrg"`` or ``"sgd"``.
    loss_curve_ : list of float
        Mini-batch solvers only: the objective after each epoch.
    eta_ : float
        Mini-batch solvers only: the step at the end of the fit.
    n_samples_seen_ : int
        Samples seen by ``partial_fit`` (``fit`` resets it).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (only when X has string column names).

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the reference.
    fastlinear.LogisticRegressionCV : C chosen by cross-validation.
    fastlinear.logistic_objective : ``J`` of a fitted model on data.

    Notes
    -----
    The gradient, with ``y_ic = [y_i = c]`` and ``p_ic = P(c | x_i)``:
    ``dJ/dw_c = C sum_i s_i (p_ic - y_ic) x_i + w_c`` (softmax; the
    reference form is the softmax form with ``w_0 = 0`` held fixed, and
    ``-v_c = w_c``).  Binary problems use the logistic loss
    ``log(1 + exp(-t_i (w.x_i + b)))`` with ``t_i = +-1``.

    With ``l1_ratio = r > 0`` the penalty is ``(1 - r)/2 ||w||^2 + r
    ||w||_1`` (scikit-learn's elastic net; the intercept free) and the
    optimum satisfies ``dJ/dw_j = -r sign(w_j)`` where ``w_j != 0`` and
    ``|dJ/dw_j| <= r`` where ``w_j = 0``, ``J`` here the smooth part.
    newGLMNET (Yuan, Ho and Lin) takes Newton steps whose quadratic model
    plus the L1 term is minimised by coordinate descent over the columns of
    X, then a line search on the whole step.

    Newton's method converges superlinearly near the optimum (the inexact
    steps of newton-cholesky and newton-cg included), so the returned
    ``coef_`` is typically closer to the optimum than ``tol`` asks, on
    unscaled and ill-conditioned data too.

    References
    ----------
    C.-J. Lin, R. C. Weng and S. S. Keerthi. "Trust region Newton method for
    large-scale logistic regression." JMLR 9, 2008.

    H.-F. Yu, F.-L. Huang and C.-J. Lin. "Dual coordinate descent methods for
    logistic regression and maximum entropy models." Machine Learning 85, 2011.

    G.-X. Yuan, C.-H. Ho and C.-J. Lin. "An improved GLMNET for L1-regularized
    logistic regression." JMLR 13, 2012.

    R. Johnson and T. Zhang. "Accelerating Stochastic Gradient Descent using
    Predictive Variance Reduction." NIPS 2013.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fastlinear import LogisticRegression
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(C=1.0).fit(X / 16, y)
    >>> clf.predict_proba(X[:1] / 16).shape
    (1, 10)
    >>> round(clf.score(X / 16, y), 2)
    0.98
    >>> clf.solver_, clf.n_iter_
    ('newton-cholesky', array([6], dtype=int32))
    >>> y2 = (y >= 5).astype(int)
    >>> l1 = LogisticRegression(l1_ratio=1, C=0.05).fit(X / 16, y2)
    >>> l1.solver_, int((l1.coef_ != 0).sum()) < X.shape[1]
    ('glmnet', True)
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None,
                    Hidden(StrOptions({"deprecated"}))],
        "C": [Interval(Real, 0.0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "dual": ["boolean"],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions(set(SKLEARN_SOLVERS) | set(OWN_SOLVERS))],
        "max_iter": [Interval(Integral, 0, MAX_INT, closed="both")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": N_JOBS,
        "parametrization": [StrOptions({"softmax", "reference"})],
        "batch_size": [Interval(Integral, 1, MAX_INT, closed="both")],
        "learning_rate": [StrOptions(set(_SCHEDULES))],
        "eta0": [StrOptions({"auto"}), Interval(Real, 0.0, None, closed="neither")],
        "power_t": [Interval(Real, 0.0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, MAX_INT, closed="both")],
    }

    def __init__(
        self,
        penalty="deprecated",
        *,
        C=1.0,
        l1_ratio=0.0,
        dual=False,
        tol=1e-4,
        fit_intercept=True,
        intercept_scaling=1,
        class_weight=None,
        random_state=None,
        solver="auto",
        max_iter=100,
        verbose=0,
        warm_start=False,
        n_jobs=None,
        parametrization="softmax",
        batch_size=4,
        learning_rate="adaptive",
        eta0="auto",
        power_t=0.5,
        n_iter_no_change=3,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.parametrization = parametrization
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.n_iter_no_change = n_iter_no_change

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
            Per-sample weights multiplying the loss; 0 leaves a sample out.

        Returns
        -------
        self : LogisticRegression
            The fitted estimator.
        """
        self._check_penalty()
        data = validate_classification_data(self, X, y, sample_weight,
                                            caller="LogisticRegression.fit")
        with blas_threads(self._n_threads()):
            return self._fit_validated(data)

    def _check_penalty(self):
        """scikit-learn 1.9's ``penalty`` / ``l1_ratio`` warnings and errors."""
        if self.penalty != "deprecated":
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in"
                " 1.10. To avoid this warning, leave 'penalty' set to its default"
                " value and use 'l1_ratio' or 'C' instead."
                " Use l1_ratio=0 instead of penalty='l2',"
                " l1_ratio=1 instead of penalty='l1',"
                " l1_ratio set to a float between 0 and 1 instead of"
                " penalty='elasticnet', and C=np.inf instead of penalty=None.",
                FutureWarning,
                stacklevel=3,
            )
        elif self.l1_ratio is None:
            warnings.warn(
                "'l1_ratio=None' was deprecated in version 1.8 and will "
                "trigger an error in 1.10. Use 0<=l1_ratio<=1 instead.",
                FutureWarning,
                stacklevel=3,
            )
        penalty = _penalty_name(self)
        # scikit-learn checks the solver before it warns about l1_ratio.
        self._check_solver_penalty(penalty)
        if penalty != "elasticnet" and self.l1_ratio is not None and 0 < self.l1_ratio < 1:
            warnings.warn("l1_ratio parameter is only used when penalty is "
                          f"'elasticnet'. Got (penalty={penalty})", stacklevel=3)
        if (self.penalty == "l2" and self.l1_ratio != 0) or (
                self.penalty == "l1" and self.l1_ratio != 1):
            warnings.warn(f"Inconsistent values: penalty={self.penalty} with "
                          f"l1_ratio={self.l1_ratio}. penalty is deprecated. Please use "
                          "l1_ratio only.", stacklevel=3)
        if penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        if self.penalty is None and self.C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters",
                          stacklevel=3)

    def _C(self):
        """``(C, lam)``: the cost factor and the penalty's weight (``C=inf`` or
        ``penalty=None``: costs are the sample weights, no penalty)."""
        if self.penalty is None or not np.isfinite(self.C):
            return 1.0, 0.0
        return float(self.C), 1.0

    def _check_solver_penalty(self, penalty):
        """The solver's refusals of a penalty or of ``dual`` (no data needed)."""
        solver = self.solver
        if penalty in ("l1", "elasticnet") and solver not in ("liblinear", "saga", "auto"):
            if solver in OWN_SOLVERS:
                raise ValueError(
                    f"solver={solver!r} has no L1 step; got penalty={penalty!r} "
                    f"(l1_ratio={self.l1_ratio!r}). Use solver='auto' or 'saga' for an "
                    "L1 or elastic-net penalty, or l1_ratio=0."
                )
            raise ValueError(
                f"Solver {solver} supports only 'l2' or None penalties, got {penalty} "
                "penalty."
            )
        if self.dual and solver != "liblinear":
            raise ValueError(f"Solver {solver} supports only dual=False, got dual={self.dual}")
        if penalty == "elasticnet" and solver not in ("saga", "auto"):
            raise ValueError(
                f"Only 'saga' solver supports elasticnet penalty, got solver={solver}."
            )

    def _resolved_solver(self, data):
        solver = self.solver
        n_classes = data.classes.shape[0]
        penalty = _penalty_name(self)
        l1 = penalty in ("l1", "elasticnet")
        self._check_solver_penalty(penalty)
        if solver == "liblinear":
            if self._C()[1] == 0.0:
                raise ValueError(
                    "C=np.inf as well as penalty=None is not supported for the liblinear solver"
                )
            if n_classes > 2:
                raise ValueError(
                    "The 'liblinear' solver does not support multiclass classification"
                    " (n_classes >= 3). Either use another solver or wrap the "
                    "estimator in a OneVsRestClassifier to keep applying a "
                    "one-versus-rest scheme."
                )
            # liblinear's logistic rows: -s 0 and -s 7 (L2), -s 6 (L1, primal only).
            _solver_table.forms_for("LogisticRegression", "log_loss", "l1" if l1 else "l2",
                                    bool(self.dual))
        if solver in ("svrg", "sgd") and self._C()[1] == 0.0:
            raise ValueError(
                f"solver={solver!r} needs a finite C (its step is scaled by 1 / C); "
                "use solver='auto' for C=np.inf."
            )
        if self._l1_ratio() > 0 and solver != "liblinear":
            return "glmnet"
        return choose_solver(solver, n_samples=data.X.n_rows, n_features=data.X.n_cols,
                             n_classes=n_classes, nnz=data.X.nnz)

    def _fit_validated(self, data, *, stop=None):
        """Fit on validated data (``fastlinear._validation.ClassificationData``)."""
        X, classes, sample_weight = data.X, data.classes, data.sample_weight
        n_classes = classes.shape[0]
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes[0]!r}"
            )
        solver = self._resolved_solver(data)
        stop = new_stop_flag() if stop is None else stop
        check_weight_memory(X.n_cols, 8 * n_classes + 8, "LogisticRegression.fit")
        check_intercept_scaling(X, self._bias(), caller="LogisticRegression.fit")
        l1_ratio = self._l1_ratio()
        if solver not in ("svrg", "sgd") and not (solver == "liblinear" and self.dual):
            # The primal solvers on the distinct samples (fastlinear._merge),
            # in order of their lengths for the L2 solvers, which read rows.
            data = merged(data, caller="LogisticRegression.fit", by_length=l1_ratio == 0)
            X, sample_weight = data.X, data.sample_weight
        counts = np.bincount(data.y_ind, weights=sample_weight, minlength=n_classes)
        class_weight = check_class_weight(self.class_weight, classes, counts)
        C, lam = self._C()
        with np.errstate(over="ignore"):
            cost = C * sample_weight * class_weight[data.y_ind]
            # liblinear's kernels rescale costs whose sum overflows; the
            # other solvers' test scales with the sum.
            total = float(np.max(cost) if solver == "liblinear" else np.sum(cost))
        if not np.isfinite(total):
            # (each solver would meet the overflow in its own terms: a tol,
            # a start point or a label it then blamed)
            raise ValueError(
                f"LogisticRegression.fit: C times the sample and class weights overflows "
                f"float64 (C={self.C!r}, largest sample weight {float(np.max(sample_weight)):.3g}, "
                f"largest class weight {float(np.max(class_weight)):.3g}; their products"
                + ("" if solver == "liblinear" else " and their sum")
                + " must stay below about 1.8e308). Lower C or rescale the weights.")
        self.__dict__.pop("loss_curve_", None)
        self.__dict__.pop("eta_", None)

        def solve():
            if solver in ("svrg", "sgd"):
                return self._fit_minibatch(data, cost / C, solver, stop)
            if l1_ratio > 0 and n_classes == 2:
                return self._fit_binary_l1(data, cost, l1_ratio, solver, stop, C=C,
                                           class_weight=class_weight)
            if l1_ratio > 0:
                return self._fit_multinomial_l1(data, cost, l1_ratio, stop)
            if n_classes == 2:
                return self._fit_binary(data, cost, lam, solver, stop)
            return self._fit_multinomial(data, cost, lam, solver, stop)

        sol = solve()
        if sol.status == Status.LINE_SEARCH_FAILED and self._warm(data, 1 if n_classes == 2
                                                                   else n_classes):
            # A warm start the Newton steps cannot leave (far from the optimum
            # its curvature underflows, or its scores do not resolve a step):
            # the default start instead, as a cold fit.
            self._cold = True
            try:
                sol = solve()
            finally:
                del self._cold
        self._set_fitted(sol, data)
        return self

    def _l1_ratio(self):
        """The L1 share of the penalty this fit solves (0: L2 or no penalty)."""
        return _penalty_l1_ratio(self)

    # ------------------------------------------------------- L1, elastic net
    def _fit_binary_l1(self, data, cost, l1_ratio, solver, stop, *, C, class_weight):
        """Binary L1 / elastic-net problems by newGLMNET (``cost = C *
        sample_weight * class_weight[y]``).

        ``solver="liblinear"``: liblinear's ``-s 6``, ``||w~||_1 + sum_i C_i
        loss_i`` with the bias weight penalised; otherwise scikit-learn's
        saga problem, ``sum_i C_i loss_i + (1 - l1_ratio)/2 ||w||^2 +
        l1_ratio ||w||_1`` with the intercept free, stopped on the largest
        entry of the minimum-norm subgradient of ``J / sum_i C_i``.
        """
        from ._solvers import glmnet, l1_subgradient_norm_at_zero
        from ._validation import transposed

        liblinear = solver == "liblinear"
        y_pm = np.where(data.y_ind == 1, 1.0, -1.0)
        l1, l2 = (1.0, 0.0) if liblinear else (l1_ratio, 1.0 - l1_ratio)
        problem = LinearProblem(data.X, y_pm, cost, "logistic", self._bias(),
                                penalty="l1" if liblinear else "l2", reg_bias=liblinear,
                                lam=l2, counts=data.counts)
        start = self._start(data, 1)
        w0 = None if start is None else start[:, 0]
        if w0 is None and not liblinear:
            # The free intercept starts at the log-odds (the intercept-only
            # optimum), as the L2 Newton solvers' does: at a tiny C that is
            # the solution, which newGLMNET's curvature floor of 1e-12 on
            # the intercept's step (C n p (1 - p) below it at C = 1e-16)
            # would take hundreds of steps to reach.
            from ._newton_cholesky import _prior_intercepts

            w0 = np.zeros(data.X.n_cols + 1)
            w0[-1] = _prior_intercepts(np.bincount(data.y_ind, cost, 2), self._bias())[1]
        name = "liblinear-l1" if liblinear else "glmnet"
        if self.max_iter == 0:
            w = np.zeros(data.X.n_cols + 1) if w0 is None else w0
            return Solution(w, None, 0, Status.MAX_ITER, np.inf, name)
        XT = transposed(data, caller="LogisticRegression.fit")
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        reference = None
        if liblinear and w0 is not None and data.derived is not None:
            # A path over C (a fold of LogisticRegressionCV): liblinear's
            # stopping reference, the subgradient at w = 0, scales with C.
            unit_cost = data.sample_weight * class_weight[data.y_ind]
            reference = l1_subgradient_norm_at_zero(problem, XT, l1, scale=C,
                                                    unit_cost=unit_cost,
                                                    derived=data.derived)
        sol = glmnet(problem, XT, l1=l1, l2=l2, tol=self.tol, max_iter=self.max_iter,
                     seed=int(seed), rule="liblinear" if liblinear else "gradient",
                     w0=w0, verbose=self.verbose, stop=stop, reference=reference)
        return sol._replace(solver=name)

    def _fit_multinomial_l1(self, data, cost, l1_ratio, stop):
        """The multinomial model with an L1 / elastic-net penalty: proximal Newton.

        ``sum_i C_i CE_i + (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1``
        (scikit-learn's saga problem, intercepts free), stopped on the
        largest entry of the minimum-norm subgradient, at most ``tol *
        sum_i C_i`` (:mod:`fastlinear._prox_newton`).
        """
        from ._prox_newton import prox_newton
        from ._validation import transposed

        K = data.classes.shape[0]
        W0 = self._start(data, K)
        if self.max_iter == 0:
            W = np.zeros((data.X.n_cols + 1, K)) if W0 is None else W0
            return Solution(W, None, 0, Status.MAX_ITER, np.inf, "prox-newton")
        W, n_iter, status, measure, threshold = prox_newton(
            data.X, data.y_ind, cost, K, l1_ratio=l1_ratio, bias=self._bias(), tol=self.tol,
            max_iter=int(self.max_iter), W0=W0, n_threads=self._n_threads(),
            verbose=int(self.verbose), stop=stop,
            XT=transposed(data, caller="LogisticRegression.fit"), counts=data.counts)
        status = settle(status, measure, threshold,
                        scaled=lambda: measure / gradient_bound(data.X, cost, self._bias()))
        return Solution(W, None, int(n_iter), status, float(measure), "prox-newton", threshold)

    def _bias(self):
        """The constant feature's value: ``intercept_scaling`` (liblinear) or 1."""
        return bias_of(self)

    def _warm_requested(self):
        """``warm_start`` with a previous fit, and no cold retry under way."""
        return (self.warm_start and hasattr(self, "coef_")
                and not getattr(self, "_cold", False))

    def _warm(self, data, n_vectors):
        """Whether :meth:`_start` starts from the previous fit's weights."""
        return (self._warm_requested() and self.coef_.shape == (n_vectors, data.X.n_cols)
                and np.array_equal(self.classes_, data.classes))

    def _start(self, data, n_vectors):
        """``W0`` of shape (n_features + 1, n_vectors), the bias weight last, or None."""
        if not self._warm_requested():
            return None
        if not self._warm(data, n_vectors):
            warnings.warn(
                "warm_start=True but the classes or features changed since the "
                "previous fit; starting from zero.",
                UserWarning,
                stacklevel=4,
            )
            return None
        coef = self.coef_.toarray() if hasattr(self.coef_, "toarray") else self.coef_
        check_warm_start(self, np.asarray(coef, dtype=np.float64),
                         np.asarray(self.intercept_, dtype=np.float64))
        W = np.zeros((data.X.n_cols + 1, n_vectors))
        W[:-1] = np.asarray(coef, dtype=np.float64).T
        bias = self._bias()
        if bias > 0:
            W[-1] = np.asarray(self.intercept_, dtype=np.float64) / bias
        return W

    def _fit_binary(self, data, cost, lam, solver, stop):
        """Binary problems: one weight vector (``classes_[1]`` positive)."""
        liblinear = solver == "liblinear"
        y_pm = np.where(data.y_ind == 1, 1.0, -1.0)
        problem = LinearProblem(data.X, y_pm, cost, "logistic", self._bias(),
                                reg_bias=liblinear, lam=lam, counts=data.counts)
        start = self._start(data, 1)
        w0 = None if start is None else start[:, 0]
        if self.max_iter == 0:
            w = np.zeros(data.X.n_cols + 1) if w0 is None else w0
            return Solution(w, None, 0, Status.MAX_ITER, np.inf, solver)
        if liblinear and self.dual:
            from ._solvers import logistic_dual_cd

            if not self.tol > 0:
                raise ValueError(
                    f"LogisticRegression: solver='liblinear' with dual=True needs tol > 0 (its "
                    f"dual coordinate descent stops on a positive bound), got tol={self.tol!r}. "
                    "Pass a small positive tol, or dual=False.")
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            alpha0 = None if w0 is None else problem.alpha_from_w(w0)
            return logistic_dual_cd(problem, tol=self.tol, max_iter=self.max_iter,
                                    seed=int(seed), alpha0=alpha0, verbose=self.verbose,
                                    stop=stop)
        if solver == "newton-cholesky":
            from . import _newton_cholesky

            return _newton_cholesky.binary(
                problem, tol=self.tol, max_iter=self.max_iter, w0=w0, verbose=self.verbose,
                stop=stop, quasi_newton=self.solver not in ("newton-cholesky", "newton-cg"),
                n_threads=self._n_threads())
        if liblinear:
            sol = primal_newton(problem, tol=self.tol, max_iter=self.max_iter, w0=w0,
                                n_threads=self._n_threads(), verbose=self.verbose, stop=stop)
            return sol._replace(solver="liblinear")
        sol = newton(problem, tol=self.tol, max_iter=self.max_iter, w0=w0,
                     n_threads=self._n_threads(), verbose=self.verbose, stop=stop,
                     rule="gradient")
        return sol._replace(solver="newton-cg")

    def _fit_multinomial(self, data, cost, lam, solver, stop):
        """Three or more classes: the multinomial model (``W`` of shape (m, K))."""
        K = data.classes.shape[0]
        W0 = self._start(data, K)
        fixed_first = self.parametrization == "reference"
        if self.max_iter == 0:
            W = np.zeros((data.X.n_cols + 1, K)) if W0 is None else W0
            return Solution(W, None, 0, Status.MAX_ITER, np.inf, solver)
        y_ind = data.y_ind.astype(np.int32)
        threshold = cost_scaled_tol(cost, self.tol)
        kw = dict(bias=self._bias(), lam=lam, reg_bias=False, fixed_first=fixed_first,
                  tol=threshold, max_iter=int(self.max_iter), verbose=int(self.verbose),
                  stop=stop)
        if solver == "newton-cholesky":
            from . import _newton_cholesky

            W, n_iter, status, measure = _newton_cholesky.multinomial(
                data.X, y_ind, cost, K, W0=W0, **kw)
        else:
            from . import _multinomial_fast

            # The transpose is a second X: held, as the merged rows are, only
            # when such a copy fits (``copy_fits``).
            X = data.X
            XT = None
            if _multinomial_fast.gather_pays(X.n_rows, X.n_cols, K) and copy_fits(X):
                from ._validation import transposed

                XT = transposed(data, caller="LogisticRegression.fit")
            W = np.zeros((X.n_cols + 1, K)) if W0 is None else np.ascontiguousarray(W0)
            # (no relative test where a class has no cost: no finite optimum)
            relative = (RELATIVE_DECREMENT_WIDE * self.tol
                        if every_class_costs(y_ind, cost, K) else 0.0)
            n_iter, status, measure = _multinomial_fast.newton(
                X, y_ind, cost, W, n_threads=self._n_threads(), XT=XT,
                decrement=True, relative=relative, **kw)
            if (status == Status.LINE_SEARCH_FAILED and n_iter == 0
                    and not measure <= threshold):
                raise ValueError(
                    "LogisticRegression: the multinomial Newton solver could not "
                    "decrease the objective from its start point (max |gradient| "
                    f"{measure:.3g}): its values do not resolve in float64. Rescale "
                    "the features (StandardScaler / MaxAbsScaler) or lower C.")
        if not fixed_first and (n_iter > 0 or W0 is None):
            # The softmax model is unchanged by adding one vector to every
            # class; the centred W has the smaller penalty (for the penalised
            # rows: the optimum is centred) and scikit-learn's gauge for the
            # unpenalised intercepts.  A warm start that takes no step is
            # returned as it came: centring it again would move it by
            # rounding, and a path's norms would no longer grow with C.
            W -= W.mean(axis=1, keepdims=True)
        # No decrease along a Newton direction: converged if the gradient is
        # at rounding level for the data's scale (tol=0 ends here).
        status = settle(status, measure, threshold,
                        scaled=lambda: measure / gradient_bound(data.X, cost, self._bias()),
                        rounding=ROUNDING_GRADIENT if solver == "newton-cg" else ROUNDING_MEASURE)
        return Solution(W, None, int(n_iter), status, float(measure), solver, threshold)

    def _n_threads(self):
        from ._parallel import n_threads_for

        return 1 if self.n_jobs is None else n_threads_for(self.n_jobs, 1 << 30)

    def _set_fitted(self, sol, data):
        if sol.status == Status.DIVERGED and sol.n_iter == 0 and sol.solver not in ("svrg", "sgd"):
            raise ValueError(
                f"LogisticRegression: the {sol.solver} solver could not take a step: a "
                "derivative of the objective at the start point overflows float64 (C times "
                "the feature values is too large). Scale the features (StandardScaler / "
                "MaxAbsScaler) or lower C.")
        W = sol.w if sol.w.ndim == 2 else sol.w[:, None]
        set_fitted_weights(self, [sol], W, data.X, rows_are_problems=False)
        self.classes_ = data.classes
        self.n_iter_ = np.array([sol.n_iter], dtype=np.int32)
        self.n_samples_seen_ = 0
        self.__dict__.pop("_rng_partial", None)
        lead = _CONVERGENCE_WORDS.get(self.solver, "LogisticRegression failed to converge.")
        lead = lead.format(n_iter=sol.n_iter)
        if sol.status == Status.DIVERGED and sol.solver in ("svrg", "sgd"):
            warnings.warn(
                f"LogisticRegression diverged with eta0={self._eta0_used:.3g} "
                f"(learning_rate={self.learning_rate!r}); the weights are the best "
                "ones seen. Lower eta0, use learning_rate='adaptive', or scale the "
                "features (StandardScaler / MaxAbsScaler).",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif sol.status == Status.DIVERGED:
            # (the exact solvers end so when a derivative overflows float64)
            warnings.warn(
                f"{lead} The {sol.solver} solver stopped after {sol.n_iter} steps: a "
                "derivative of the objective overflowed float64 (C times the feature "
                "values is too large); the weights are where it stopped. Scale the "
                "features (StandardScaler / MaxAbsScaler) or lower C.",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif sol.status == Status.LINE_SEARCH_FAILED:
            warnings.warn(f"{lead} {no_decrease_text(sol)}.",
                          ConvergenceWarning, stacklevel=3)
        elif sol.status == Status.MAX_ITER:
            unit = {"svrg": "epochs", "sgd": "epochs", "liblinear-dual": "passes",
                    "newton-cholesky": "Newton steps and L-BFGS iterations",
                    "liblinear": "iterations"}.get(sol.solver, "Newton steps")
            if sol.solver == "svrg":
                detail = (f"the largest gradient entry of the mean objective is still "
                          f"above tol={self.tol}")
            elif sol.solver == "sgd":
                detail = (f"the objective had not stalled: it still fell by more than "
                          f"tol={self.tol} (relative) within n_iter_no_change="
                          f"{self.n_iter_no_change} epochs")
            elif self.max_iter == 0:
                detail = "max_iter=0 returns the start point"
            elif sol.measure <= sol.threshold:    # (the gap estimate of newton / glmnet)
                share = "tol / 100 of" if sol.solver == "newton-cholesky" else "tol times"
                bound = f"the smaller of tol={self.tol} and {share} the mean objective"
                whole = (", or the decrease of the whole quadratic model"
                         if sol.solver in ("glmnet", "newton", "newton-cg", "prox-newton")
                         else "")
                detail = (f"the largest gradient entry meets tol, but the estimate of the "
                          f"distance to the optimum (1/2 g.diag(H)^-1 g of the mean "
                          f"objective{whole}) is still above {bound}")
            else:
                detail = (f"its stopping measure is {sol.measure:.3g} > "
                          f"{sol.threshold:.3g}")
            warnings.warn(
                f"{lead} The {sol.solver} solver stopped "
                f"at max_iter={self.max_iter} {unit}; {detail}. Increase max_iter, "
                "raise tol, or scale the features (StandardScaler / MaxAbsScaler).",
                ConvergenceWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------- mini-batch
    def _fit_minibatch(self, data, sample_weight, solver, stop):
        """The course's mini-batch gradient descent (SVRG or SGD)."""
        X, classes = data.X, data.classes
        n_samples = X.n_rows
        K = classes.shape[0]
        W, b = self._minibatch_start(data)
        lam = 1.0 / (float(self.C) * n_samples)
        eta0 = self._initial_eta(X, sample_weight, lam, solver)
        self._eta0_used = eta0
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if self.max_iter == 0:
            n_iter, status, eta, curve = 0, Status.MAX_ITER, eta0, np.zeros(0)
        else:
            svrg = solver == "svrg"
            # SVRG stops on scikit-learn's gradient test (as the exact solvers);
            # plain SGD, whose gradient is never computed, on the stall rule.
            grad_tol = float(self.tol) * float(self.C) * float(np.sum(sample_weight))
            settings = self._settings(lam, eta0, variance_reduced=svrg,
                                      max_iter=self.max_iter, track_objective=True,
                                      reference=self._reference(K),
                                      grad_tol=grad_tol if svrg else 0.0)
            n_iter, status, eta, curve = _logistic_fast.minibatch_sgd(
                X, data.y_ind.astype(np.int32), sample_weight, W, b,
                settings, stop=stop, seed=int(seed),
            )
        self.loss_curve_ = curve.tolist()
        self.eta_ = float(eta)
        return Solution(self._minibatch_weights(W, b), None, int(n_iter), Status(status),
                        np.nan, solver)

    def _reference(self, n_classes):
        """Class 0 pinned at zero: the reference form, and every binary problem."""
        return n_classes == 2 or self.parametrization == "reference"

    def _minibatch_start(self, data):
        """``(W, b)`` of the mini-batch kernel: (n_features, K) and (K,)."""
        K = data.classes.shape[0]
        W = np.zeros((data.X.n_cols, K))
        b = np.zeros(K)
        start = self._start(data, 1 if K == 2 else K)
        if start is not None:
            if K == 2:
                W[:, 1], b[1] = start[:-1, 0], start[-1, 0]
            else:
                W[:], b[:] = start[:-1], start[-1]
        return W, b

    @staticmethod
    def _minibatch_weights(W, b):
        """The kernel's ``(W, b)`` as ``w`` with the bias weight last (one
        column for two classes: the kernel pinned class 0 at zero)."""
        if W.shape[1] == 2:
            return np.concatenate([W[:, 1], b[1:]])
        return np.vstack([W, b[None, :]])

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
        if not np.isfinite(self.C):
            raise ValueError("partial_fit needs a finite C (its step is scaled by 1 / C).")
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
        K = classes.shape[0]
        if first:
            self.classes_ = classes
            self.n_features_in_ = X.n_cols
            self.coef_ = np.zeros((1 if K == 2 else K, X.n_cols), dtype=X.dtype)
            self.intercept_ = np.zeros(self.coef_.shape[0], dtype=X.dtype)
            self.n_samples_seen_ = 0
        if not hasattr(self, "_rng_partial"):
            # First partial_fit, or the first one after fit (which it continues).
            self._n_partial = 0
            self._rng_partial = check_random_state(self.random_state)
        W = np.zeros((X.n_cols, K))
        b = np.zeros(K)
        coef = self.coef_.toarray() if hasattr(self.coef_, "toarray") else self.coef_
        if K == 2:
            W[:, 1], b[1] = coef[0], self.intercept_[0]
        else:
            W[:], b[:] = np.asarray(coef, dtype=np.float64).T, self.intercept_
        seen = self.n_samples_seen_ + n_samples
        lam = 1.0 / (self.C * max(seen, 1))
        if self._n_partial == 0:
            self._eta0_used = self._initial_eta(X, sample_weight, lam, "sgd")
        eta0 = min(self._eta0_used, 0.5 / lam)
        seed = self._rng_partial.randint(np.iinfo(np.int32).max)
        settings = self._settings(lam, eta0, variance_reduced=False, max_iter=1,
                                  track_objective=False, n_iter_no_change=1,
                                  max_decreases=0, epoch_offset=self._n_partial,
                                  verbose=0, reference=self._reference(K))
        n_iter, status, eta, _ = _logistic_fast.minibatch_sgd(
            X, y_ind.astype(np.int32), sample_weight, W, b,
            settings, stop=new_stop_flag(), seed=int(seed),
        )
        if status == Status.INTERRUPTED:
            raise KeyboardInterrupt("LogisticRegression.partial_fit was interrupted.")
        w = self._minibatch_weights(W, b)
        w = w if w.ndim == 2 else w[:, None]
        if not np.all(np.isfinite(w)):
            raise ValueError(
                "partial_fit produced non-finite weights; the data are probably badly "
                "scaled. Scale the features (e.g. StandardScaler or MaxAbsScaler), or "
                "lower eta0."
            )
        self.coef_ = np.ascontiguousarray(w[:-1].T, dtype=X.dtype)
        self.intercept_ = w[-1].astype(X.dtype)
        self.n_samples_seen_ = seen
        self._n_partial += 1
        self.n_iter_ = np.array([1], dtype=np.int32)
        self.solver_ = "sgd"
        self.eta_ = float(eta)
        return self

    def _settings(self, lam, eta0, **overrides):
        """The mini-batch kernel's settings (``_logistic_fast.minibatch_sgd``)."""
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

    def _initial_eta(self, X, sample_weight, lam, solver):
        """The step (``eta0``, or the data-driven default)."""
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
        return self._proba_of(self.decision_function(X))

    @staticmethod
    def _proba_of(scores):
        """:meth:`predict_proba` from the decision values."""
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
        return _log_softmax(scores)

    def objective(self, X, y, sample_weight=None):
        """The objective this estimator minimised, on ``(X, y)``.

        :func:`logistic_objective` with this estimator's ``C`` and class
        weights (and, for ``solver="liblinear"``, its penalised bias).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        J : float
        """
        return _objective(self, X, y, sample_weight, None, "LogisticRegression.objective")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self.solver == "liblinear":
            tags.classifier_tags.multi_class = False
        return tags


def _penalty_name(estimator):
    """scikit-learn 1.9's name of the penalty: "l2", "l1", "elasticnet" or None."""
    penalty = getattr(estimator, "penalty", "deprecated")
    if penalty != "deprecated":
        return penalty
    if not np.isfinite(estimator.C):
        return None
    l1_ratio = getattr(estimator, "l1_ratio", 0.0)
    if l1_ratio is None or l1_ratio == 0:
        return "l2"
    return "l1" if l1_ratio == 1 else "elasticnet"


def _penalty_l1_ratio(estimator):
    """The L1 share of an estimator's penalty (0 for L2 or no penalty)."""
    penalty = _penalty_name(estimator)
    if penalty is None or not np.isfinite(estimator.C):
        return 0.0
    if penalty == "l1":
        return 1.0
    if penalty == "elasticnet":
        return float(estimator.l1_ratio)
    return 0.0


def logistic_objective(estimator, X, y, sample_weight=None, *, C=None):
    """Objective of a fitted logistic regression, read from ``coef_``.

    Works for ``fastlinear.LogisticRegression`` and
    ``sklearn.linear_model.LogisticRegression`` alike, so their solutions
    can be compared on the problem both solve::

        J = C sum_i s_i (-log P(y_i | x_i)) + 1/2 ||coef_||^2

    with ``s_i`` the sample weight times the estimator's class weight of
    ``y_i``, the softmax model for K >= 3 rows of ``coef_`` and the binary
    model for one row.  ``C = inf`` (or ``penalty=None``) gives the sum of
    the losses alone.  For a model fitted with ``solver="liblinear"`` the
    bias weight ``intercept_ / intercept_scaling`` is penalised too, as
    liblinear does.

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
    return _objective(estimator, X, y, sample_weight, C, "logistic_objective")


def _log_softmax(scores):
    """Each row's log softmax, the largest entry's through ``log1p``.

    ``log(sum_k exp(s_k - m))`` rounds to 0 once the others are ``e^-37``
    below the largest (``scipy.special.log_softmax``): a confident class's
    ``log P`` came out 0 and at ``C = 1e20`` the objective 5 % low.  Here
    it is ``-log1p(sum_{k != top} exp(s_k - m))``, exact to rounding.
    """
    scores = np.asarray(scores)
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    rows = np.arange(scores.shape[0])
    top = np.argmax(scores, axis=1)
    shifted = scores - scores[rows, top][:, None]
    others = np.exp(shifted)
    others[rows, top] = 0.0
    return shifted - np.log1p(others.sum(axis=1))[:, None]


def _objective(estimator, X, y, sample_weight, C, caller):
    check_is_fitted(estimator)
    X, y_ind, sw = validate_evaluation_data(estimator, X, y, sample_weight, caller=caller)
    C = float(estimator.C if C is None else C)
    penalised = np.isfinite(C) and getattr(estimator, "penalty", "l2") is not None
    classes = estimator.classes_
    counts = np.bincount(y_ind, weights=sw, minlength=classes.shape[0])
    weights = check_class_weight(getattr(estimator, "class_weight", None), classes, counts)
    sw = sw * weights[y_ind]
    coef = estimator.coef_
    coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    scores = np.asarray(X.to_scipy() @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        scores = np.column_stack([np.zeros(scores.shape[0]), scores[:, 0]])
    log_p = _log_softmax(scores)[np.arange(y_ind.shape[0]), y_ind]
    loss = -float(sw @ log_p)
    if not penalised:
        return loss
    r = _penalty_l1_ratio(estimator)
    penalty = 0.5 * (1.0 - r) * float(np.sum(coef * coef)) + r * float(np.sum(np.abs(coef)))
    if getattr(estimator, "solver", None) == "liblinear" and estimator.fit_intercept:
        b = intercept / float(estimator.intercept_scaling)
        penalty += 0.5 * (1.0 - r) * float(b @ b) + r * float(np.sum(np.abs(b)))
    return C * loss + penalty
