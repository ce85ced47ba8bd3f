"""Linear support vector classification (liblinear's SVM solvers).

``fastlinear.LinearSVC`` solves the problems of ``sklearn.svm.LinearSVC``
(liblinear's ``-s 1``, ``-s 2``, ``-s 3``, ``-s 4`` and ``-s 5``) with the
Cython kernels of ``src_c/``; which solver runs is decided by one rule,
``fastlinear._solvers.choose_solver``.

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
import threading
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import CheckedLinearClassifierMixin, bias_of, check_warm_start, set_fitted_weights
from ._memory import check_weight_memory
from ._merge import merge_groups, merged
from ._parallel import blas_threads, n_threads_for, new_stop_flag, run
from ._problem import OneVsRest, crammer_singer_problem, weights_with_bias
from ._solvers import (
    Solution,
    Start,
    Status,
    choose_solver,
    crammer_singer,
    solve,
    warn_if_stuck,
)
from ._validation import (
    MAX_INT,
    N_JOBS,
    check_intercept_scaling,
    check_objective_estimator,
    transposed,
    validate_classification_data,
    validate_evaluation_data,
)

__all__ = ["LinearSVC", "linear_svc_objective"]

#: The pass bound of Crammer and Singer's solver: liblinear's own, which
#: scikit-learn's liblinear applies whatever ``max_iter`` (plain coordinate
#: descent needs 2,000-20,000 passes on a9a and w8a at C = 0.1 and 1).
CRAMMER_SINGER_MAX_ITER = 100_000


class LinearSVC(SparseCoefMixin, CheckedLinearClassifierMixin, BaseEstimator):
    """Linear support vector classifier: liblinear's SVM solvers in Cython.

    A drop-in for ``sklearn.svm.LinearSVC``: the same problems, parameter
    names, defaults and fitted attributes, plus the dual variables, the
    solver that ran, threads and warm starts.  Each solver runs in a GIL-free
    Cython kernel that reads the caller's CSR arrays without copying them.

    Parameters
    ----------
    penalty : {"l1", "l2"}, default="l2"
        The regulariser: ``"l2"`` is ``1/2 ||w||^2``; ``"l1"`` is ``||w||_1``,
        which gives sparse ``coef_`` (feature selection) and needs
        ``loss="squared_hinge"`` and the primal solver.  The L1 solver reads
        X by columns: it makes one CSC copy of X (as liblinear does).
    loss : {"hinge", "squared_hinge"}, default="squared_hinge"
        ``"hinge"`` is the L1-loss SVM (liblinear ``-s 3``),
        ``"squared_hinge"`` the L2-loss SVM (``-s 1``, ``-s 2``, ``-s 5``).
    dual : "auto" or bool, default="auto"
        Which problem to solve (see Notes).  ``True``: the dual, by
        coordinate descent (``-s 1``, ``-s 3``).  ``False``: the primal, by
        Newton's method (``-s 2``) or, with ``penalty="l1"``, by coordinate
        descent (``-s 5``).  ``"auto"``: the only solver for ``"hinge"`` (dual)
        and for ``penalty="l1"`` (primal); for the L2-penalised squared hinge,
        the primal Newton solver when ``n_samples > n_features`` and ``C *
        mean ||x~||^2`` exceeds 2 (up to 1,000 features) or 10 (more
        features), where dual coordinate descent needs many passes;
        otherwise dual coordinate descent, which hands over to the primal
        Newton solver if it has not converged after 40 passes (up to 1,000
        features) or 300 (more features).
    tol : float, default=1e-4
        Stopping tolerance, in each solver's own measure (see Notes).
    C : float, default=1.0
        Inverse regularisation strength; must be strictly positive.
    multi_class : {"ovr", "crammer_singer"}, default="ovr"
        ``"ovr"``: one binary problem per class (one for two classes).
        ``"crammer_singer"``: the joint multiclass SVM of Crammer and Singer
        (liblinear ``-s 4``); ``loss``, ``penalty`` and ``dual`` are then
        ignored, as in scikit-learn.
    fit_intercept : bool, default=True
        Whether to fit an intercept.  As in liblinear, the intercept is the
        weight of a constant feature of value ``intercept_scaling`` and is
        regularised with the other weights.
    intercept_scaling : float, default=1
        Value of that constant feature.  A larger value lessens the effect
        of regularisation on the intercept.
    class_weight : dict, "balanced" or None, default=None
        Multiply ``C`` by ``class_weight[k]`` for the samples of class ``k``.
        ``"balanced"`` uses ``n_samples / (n_classes * bincount(y))``, with
        counts weighted by ``sample_weight`` when it is given.  Weights must
        be finite and ``>= 0``, and not all zero.
    verbose : int, default=0
        Print progress: a dot every 10 passes (dual and L1 solvers), one
        line per Newton step (primal solver).
    random_state : int, RandomState instance or None, default=None
        Seeds the order in which coordinates are visited.  The same seed
        gives the same model, whatever ``n_jobs``.
    max_iter : int, default=1000
        Maximal number of iterations of the solver: passes over the data
        (dual coordinate descent, L1 coordinate descent) or Newton steps
        (primal).  0 fits nothing (zero weights, with a
        ``ConvergenceWarning``).  Crammer and Singer's solver runs, as
        scikit-learn's liblinear does whatever ``max_iter``, until ``tol``
        or :data:`CRAMMER_SINGER_MAX_ITER` passes (its coordinate descent
        needs thousands of passes at ``C >= 1``); it warns only when it
        stops there.
    shrinking : bool, default=True
        liblinear's shrinking heuristic in the coordinate descent solvers.
    n_jobs : int, default=None
        Threads.  One-vs-rest problems (more than two classes) run in
        parallel threads; a binary primal Newton fit splits each product with
        X over the threads.  ``None`` means 1, ``-1`` all cores.  Results do
        not depend on ``n_jobs`` beyond rounding (one-vs-rest: none at all).
    warm_start : bool, default=False
        Start from the solution of the previous ``fit`` (same samples and
        classes): its dual variables, clipped into the new box, for the dual
        solver; its weights for the primal ones.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights, of the dtype of X (float32 input gives float32 weights).
        A ``scipy.sparse`` matrix after :meth:`sparsify`.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        ``intercept_scaling`` times the weight of the constant feature.
    dual_coef_ : ndarray of shape (n_problems, n_samples)
        Signed dual variables, so that ``coef_ = dual_coef_ @ X`` (for
        ``penalty="l2"``): ``y_i * alpha_i`` of each binary problem
        (``y_i`` in {-1, +1}; recovered from the primal solution when the
        primal was solved), or, for ``"crammer_singer"``, ``alpha_i^m`` of
        each class (one row per class).  Not set for ``penalty="l1"``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_iter_ : int
        Largest number of iterations over the problems (see ``max_iter``;
        after a switch from dual to primal, passes plus Newton steps).
    solver_ : str
        The solver that ran: ``"dual_cd"``, ``"newton"``,
        ``"dual_cd+newton"``, ``"dual_cd+smoothed_newton"`` (the hinge
        loss's Newton finish), ``"l1_cd"`` or ``"crammer_singer"``;
        ``"none"`` with ``max_iter=0``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (only when X has string column
        names).

    See Also
    --------
    sklearn.svm.LinearSVC : the liblinear-backed estimator this mirrors.
    fastlinear.linear_svc_objective : the primal objective of a fitted model.
    fastlinear.LinearSVCCV : C chosen by cross-validation, warm-started.

    Notes
    -----
    With labels ``y_i`` in {-1, +1}, per-sample costs ``C_i = C *
    class_weight[y_i] * sample_weight_i`` and ``w`` including the intercept
    weight (the constant feature is ``intercept_scaling``), the problem is

    .. math::

        \\min_w R(w) + \\sum_i C_i \\, \\ell(y_i w^T x_i),
        \\quad \\ell(z) = \\max(0, 1 - z) \\text{ or } \\max(0, 1 - z)^2,

    with ``R(w) = ||w||^2 / 2`` or ``||w||_1``.  What ``tol`` bounds, per
    solver (as in liblinear):

    * dual coordinate descent: the spread ``max PG - min PG`` of the
      projected gradient of the dual;
    * primal Newton: ``||g(w)|| <= tol * max(min(n_+, n_-), 1) / n * ||g(0)||``
      (``n_+``, ``n_-``: samples of each label); after a switch from the
      dual, ``0.1 * tol`` in that rule;
    * L1 coordinate descent: the L1 norm of the minimum-norm subgradient,
      relative to the first pass's, with the same scaling;
    * Crammer-Singer: the largest violation of the dual's optimality
      conditions in a pass.

    References
    ----------
    C.-J. Hsieh, K.-W. Chang, C.-J. Lin, S. S. Keerthi and S. Sundararajan.
    "A Dual Coordinate Descent Method for Large-scale Linear SVM." ICML 2008.

    R.-E. Fan, K.-W. Chang, C.-J. Hsieh, X.-R. Wang and C.-J. Lin.
    "LIBLINEAR: A Library for Large Linear Classification." JMLR 9, 2008.

    G.-X. Yuan, K.-W. Chang, C.-J. Hsieh and C.-J. Lin. "A Comparison of
    Optimization Methods and Software for Large-scale L1-regularized Linear
    Classification." JMLR 11, 2010.

    S. S. Keerthi, S. Sundararajan, K.-W. Chang, C.-J. Hsieh and C.-J. Lin.
    "A Sequential Dual Method for Large Scale Multi-Class Linear SVMs."
    KDD 2008.

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
        "penalty": [StrOptions({"l1", "l2"})],
        "loss": [StrOptions({"hinge", "squared_hinge"})],
        "dual": ["boolean", StrOptions({"auto"})],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "multi_class": [StrOptions({"ovr", "crammer_singer"})],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0.0, None, closed="neither")],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "max_iter": [Interval(Integral, 0, MAX_INT, closed="both")],
        "shrinking": ["boolean"],
        "n_jobs": N_JOBS,
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        penalty="l2",
        loss="squared_hinge",
        *,
        dual="auto",
        tol=1e-4,
        C=1.0,
        multi_class="ovr",
        fit_intercept=True,
        intercept_scaling=1,
        class_weight=None,
        verbose=0,
        random_state=None,
        max_iter=1000,
        shrinking=True,
        n_jobs=None,
        warm_start=False,
    ):
        self.penalty = penalty
        self.loss = loss
        self.dual = dual
        self.tol = tol
        self.C = C
        self.multi_class = multi_class
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
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

    def _bias(self):
        return bias_of(self)

    def _solver(self, X):
        """The solver the parameters call for on X (the one rule of ``_solvers``)."""
        return choose_solver(penalty=self.penalty, loss=self.loss, dual=self.dual,
                             multi_class=self.multi_class, X=X, C=self.C, bias=self._bias())

    def _fit_validated(self, data, *, start=None, stop=None):
        """Fit on validated data (``fastlinear._validation.ClassificationData``).

        ``start`` is a :class:`Start` or None; ``stop`` the shared stop flag
        of an enclosing parallel job (a fresh one when None).
        """
        solver = self._solver(data.X)
        n_classes = data.classes.shape[0]
        # Weights and dual/primal work vectors per problem (Newton keeps about
        # eight), the transposed X's indptr for the L1 solver.
        check_weight_memory(data.X.n_cols, 2 * n_classes + 10, "LinearSVC.fit")
        check_intercept_scaling(data.X, self._bias(), caller="LinearSVC.fit")
        stop = new_stop_flag() if stop is None else stop
        rng = check_random_state(self.random_state)
        if solver == "crammer_singer":
            self._fit_crammer_singer(data, rng, stop)
            return self
        bias = self._bias()
        full = data
        if solver in ("l1_cd", "newton"):
            # The primal solvers on the distinct samples (fastlinear._merge),
            # in order of their lengths for Newton, which reads rows.
            data = merged(data, caller="LinearSVC.fit", by_length=solver == "newton")
        ovr = OneVsRest(data.X, data.y_ind, data.classes, self.C, self.class_weight,
                        data.sample_weight, self.loss, bias, penalty=self.penalty,
                        counts=data.counts)
        n_problems = ovr.n_problems
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_problems)
        previous = None if start is None else start.alpha
        previous_W = None if start is None else start.W
        if data is not full:
            # Start from the weights (a start always has them); the duals
            # are per sample.  After the solve, sample i's dual is its row's
            # times C_i / (the row's summed cost): the samples of a row share
            # its score, and a primal dual is C_i times a function of it.
            previous = None
            full_ovr = OneVsRest(full.X, full.y_ind, full.classes, self.C, self.class_weight,
                                 full.sample_weight, self.loss, bias, penalty=self.penalty)
        # Threads: over the problems of one-vs-rest, or inside one primal fit.
        outer = n_threads_for(self.n_jobs, n_problems)
        inner = n_threads_for(self.n_jobs, 2) if n_problems == 1 else 1
        XT = transposed(data, caller="LinearSVC.fit") if solver == "l1_cd" else None
        # The hinge loss's smoothing Newton finish (a primal method) solves
        # the distinct samples too; found only if a problem reaches it.
        groups, groups_lock, found = None, threading.Lock(), []
        if data is full:
            def groups():
                # Once per fit (also where ``full.derived`` keeps nothing):
                # every problem of one-vs-rest shares the rows' groups.
                with groups_lock:
                    if not found:
                        found.append(merge_groups(full, caller="LinearSVC.fit",
                                                  by_length=True))
                    return found[0]

        def solve_problem(k):
            # The labels and costs of problem k live only while it is solved.
            problem = ovr.problem(k)
            alpha0 = None if previous is None else previous[k]
            w0 = None
            if previous_W is not None:
                w0 = previous_W[k]
            elif alpha0 is not None and solver != "dual_cd":
                w0 = problem.w_from_alpha(alpha0)
            sol = solve(solver, problem, tol=self.tol, max_iter=self.max_iter, seed=seeds[k],
                        shrinking=self.shrinking, verbose=self.verbose, alpha0=alpha0,
                        w0=w0, stop=stop, n_threads=inner, XT=XT, groups=groups)
            if sol.alpha is None:  # the L1 problem has no dual variables here
                return sol
            if data is not full:
                cost = full_ovr.costs(k)
                row_cost = problem.cost[data.row_of]
                share = np.divide(cost, row_cost, out=np.zeros_like(cost), where=row_cost > 0)
                return sol._replace(alpha=sol.alpha[data.row_of] * share * full_ovr.labels(k))
            return sol._replace(alpha=sol.alpha * problem.y)

        # BLAS (the exact Newton steps' factorisations and sums) under one
        # limit for every worker, so that n_jobs cannot change the bits of a
        # one-vs-rest fit (a binary primal fit splits its passes over n_jobs
        # threads, which changes them by rounding).
        with blas_threads(inner):
            solutions = run(solve_problem, range(n_problems), outer, stop)
        self._set_fitted(solutions, full, np.array([sol.w for sol in solutions]))
        if self.penalty == "l1":
            self.__dict__.pop("dual_coef_", None)
        else:
            self.dual_coef_ = np.array([sol.alpha for sol in solutions])
        return self

    def _fit_crammer_singer(self, data, rng, stop):
        problem = crammer_singer_problem(data.X, data.y_ind, data.classes, self.C,
                                         self.class_weight, data.sample_weight, self._bias())
        seed = rng.randint(np.iinfo(np.int32).max)
        if self.max_iter == 0:
            n = data.X.n_rows
            sol = Solution(np.zeros((problem.n_classes, data.X.n_cols + 1)),
                           np.zeros((n, problem.n_classes)), 0, Status.MAX_ITER, np.inf,
                           "crammer_singer")
        else:
            sol = crammer_singer(problem, tol=self.tol, max_iter=CRAMMER_SINGER_MAX_ITER,
                                 seed=seed, verbose=self.verbose, stop=stop)
        W = sol.w
        if problem.n_classes == 2:
            # scikit-learn's binary shape: one row, positive for classes_[1].
            W = (W[1] - W[0])[None, :]
        self._set_fitted([sol], data, W,
                         max_iter=self.max_iter if self.max_iter == 0 else CRAMMER_SINGER_MAX_ITER)
        self.dual_coef_ = sol.alpha.T.copy()

    def _set_fitted(self, solutions, data, W, max_iter=None):
        set_fitted_weights(self, solutions, W, data.X)
        self.classes_ = data.classes
        self.n_iter_ = int(max(sol.n_iter for sol in solutions))
        warn_if_stuck(self, solutions, max_iter=max_iter)

    def _previous_start(self, data):
        """The previous fit's solution when warm-starting (same samples and classes)."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        n_problems = 1 if data.classes.shape[0] == 2 else data.classes.shape[0]
        dual = getattr(self, "dual_coef_", None)
        if (self.coef_.shape != (n_problems, data.X.n_cols) or self.multi_class == "crammer_singer"
                or not np.array_equal(self.classes_, data.classes)
                or (dual is not None and dual.shape != (n_problems, data.X.n_rows))):
            warnings.warn(
                "warm_start=True but the samples, features or classes changed since the "
                "previous fit (or the fit was Crammer-Singer); starting from zero.",
                UserWarning,
                stacklevel=3,
            )
            return None
        W, _ = check_warm_start(self, weights_with_bias(self), dual)
        return Start(None if dual is None else np.abs(dual), W)

def linear_svc_objective(estimator, X, y, sample_weight=None):
    """Primal objective of a fitted linear SVM, per binary problem.

    Works for ``fastlinear.LinearSVC`` and ``sklearn.svm.LinearSVC`` alike, so
    their solutions can be compared on the problem both solve:
    ``R(w) + sum_i C_i loss(y_i w.x_i)`` with ``w`` including the intercept
    weight ``intercept_ / intercept_scaling`` (liblinear's bias convention),
    ``R`` the estimator's penalty and ``C_i`` as in :class:`LinearSVC` (class
    and sample weights, one-vs-rest for more than two classes).  For
    ``multi_class="crammer_singer"`` with more than two classes, the one
    objective of the joint problem.

    Parameters
    ----------
    estimator : fitted LinearSVC (fastlinear or scikit-learn)
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    objectives : ndarray of shape (n_problems,)
        One value per binary problem (one for two classes, one for
        Crammer-Singer).
    """
    check_objective_estimator(estimator, ("hinge", "squared_hinge"),
                              caller="linear_svc_objective", expected="LinearSVC")
    n_classes = len(estimator.classes_)
    rows = np.shape(estimator.coef_)[0]
    if rows != (1 if n_classes == 2 else n_classes):
        raise ValueError(
            f"linear_svc_objective: the estimator's coef_ has {rows} row(s) for "
            f"{n_classes} classes, where a LinearSVC has one per class (one for two "
            "classes); scikit-learn's LinearSVC leaves out a class whose samples all have "
            "sample_weight 0. Refit without that class, or with positive weights for it.")
    X, y_ind, sample_weight = validate_evaluation_data(
        estimator, X, y, sample_weight, caller="linear_svc_objective")
    scaling = float(estimator.intercept_scaling) if estimator.fit_intercept else 0.0
    W = weights_with_bias(estimator)
    if getattr(estimator, "multi_class", "ovr") == "crammer_singer":
        problem = crammer_singer_problem(X, y_ind, estimator.classes_, estimator.C,
                                         estimator.class_weight, sample_weight, scaling)
        if problem.n_classes == 2:
            # The binary model w = w_1 - w_0 of the symmetric optimum w_0 = -w_1.
            W = np.vstack([-W / 2, W / 2])
        return np.array([problem.primal(W)])
    ovr = OneVsRest(X, y_ind, estimator.classes_, estimator.C, estimator.class_weight,
                    sample_weight, estimator.loss, scaling,
                    penalty=getattr(estimator, "penalty", "l2"))
    return np.array([ovr.problem(k).primal(W[k]) for k in range(ovr.n_problems)])
