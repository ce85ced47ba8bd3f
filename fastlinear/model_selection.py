"""Cross-validated C search with warm-started regularisation paths.

The course assignment's question 2 -- ``cross_val_score(LinearSVC(C=c), X, y,
cv=3)`` for each C of a grid, then a refit with the best C -- as one
estimator, :class:`LinearSVCCV`, built on the public
:class:`fastlinear.LinearSVC` only; :class:`LogisticRegressionCV` does the
same for :class:`fastlinear.LogisticRegression` (warm start on ``W``).

Design rules of this module:

1. Folds are those of ``cross_val_score``: an int ``cv`` means
   ``StratifiedKFold(cv)`` without shuffling, so the scores are comparable
   with the plain loop, fold for fold.
2. Each fold solves the C path in increasing order with one warm-started
   estimator.  Before the fit at ``C_new`` the previous signed dual variables
   are multiplied by ``C_new / C_old`` (the *rescale rule*); ``LinearSVC``
   then clips them into the new box.  For the hinge loss ``0 <= alpha_i <=
   C_i`` maps onto ``0 <= alpha_i <= C_i * C_new / C_old``, so the start is
   feasible and needs no clipping; the squared hinge has no upper bound.
   Why this rule: when the weights settle as C grows (non-separable data),
   ``alpha_i = 2 C loss_i(w)`` grows linearly with C.  Measured on one a9a
   fold (squared hinge, tol=1e-4, C = 0.01 ... 100), the passes over the data
   at C = 1, 10, 100 are 350 / 5148 / 57754 from zero, 347 / 3312 / 48412
   with the previous duals only clipped, 337 / 3215 / 42430 with a
   ``sqrt(C_new / C_old)`` factor, 261 / 2215 / 15941 with a linear
   extrapolation from the last two duals, and 267 / 1950 / 12702 with the
   rescale rule: the rescale rule is the fastest.  For the hinge loss the
   rule is also the fastest on a full a9a fold (C up to 1: 524 / 6708 /
   28779 passes against 524 / 4157 / 60000-and-not-converged from zero,
   1.3 s against 3.4 s for the whole path), but on small sets (2,000 rows)
   it can take more passes than cold starts; ``warm_start=False`` is there
   for that case.
3. Folds run in parallel threads (the kernel releases the GIL; with
   ``n_jobs=-1`` one thread per fold, up to twice the cores); every fold
   uses the same ``random_state`` as the plain loop's clones would, so
   results do not depend on ``n_jobs``.
4. ``ConvergenceWarning`` is raised once, after all folds, naming the C
   values whose fits hit ``max_iter``.
5. The best C maximises the mean score; ties go to the smallest C (the
   first in increasing order, as ``GridSearchCV``'s rank).  The refit starts
   from zero on the whole training set.
"""
import time
import warnings
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._parallel import new_stop_flag, run
from ._problem import weights_with_bias
from ._progress import ProgressBar
from ._solvers import Start
from ._validation import (
    ClassificationData,
    encode_labels,
    proved_csr,
    validate_classification_data,
)
from .svm import LinearSVC

__all__ = ["LinearSVCCV", "LogisticRegressionCV", "linear_svc_path"]


def _check_Cs(Cs):
    """Return the C grid as a sorted float array of unique positive values."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(
                f"Cs={Cs}: an int Cs is the number of log-spaced values between "
                "1e-4 and 1e4 and must be >= 1."
            )
        return np.logspace(-4, 4, int(Cs))
    try:
        grid = np.asarray(Cs, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(
            f"Cs must be an int or a sequence of positive floats; got {Cs!r}."
        ) from None
    if grid.size == 0:
        raise ValueError("Cs is empty; give at least one C value, e.g. Cs=(0.1, 1, 10).")
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(
            f"Every value of Cs must be a finite float > 0; got {list(np.asarray(Cs).ravel())}."
        )
    return np.unique(grid)


def linear_svc_path(X, y, Cs, *, sample_weight=None, warm_start=True, dual="auto", **params):
    """Fit ``fastlinear.LinearSVC`` along a C grid, warm-starting each C.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Validated once (dense input is converted to CSR once).
    y : array-like of shape (n_samples,)
    Cs : array-like of float
        The grid; it is visited in increasing order (sorted, duplicates
        dropped).
    sample_weight : array-like of shape (n_samples,), default=None
    warm_start : bool, default=True
        Start each fit from the duals of the previous C times
        ``C_new / C_old`` (the rescale rule of :class:`LinearSVCCV`'s Notes);
        ``False`` starts every fit from zero.
    dual : bool or "auto", default="auto"
        ``LinearSVC``'s ``dual`` for every C; ``"auto"`` applies its rule at
        every C (the primal Newton solver starts from the previous C's
        weights, the dual solver from its rescaled duals).
    **params
        Other :class:`fastlinear.LinearSVC` parameters (``loss``, ``tol``,
        ``max_iter``, ``random_state``, ...); ``C`` and ``warm_start`` are
        set here.

    Yields
    ------
    C : float
        The C just fitted.
    estimator : LinearSVC
        The estimator fitted at ``C``.  It is the *same* object at every
        step (refitted in place); ``copy.deepcopy`` it to keep a step.

    Examples
    --------
    >>> from fastlinear.datasets import load_a9a
    >>> from fastlinear.model_selection import linear_svc_path
    >>> X, y, _, _ = load_a9a()
    >>> [(C, est.n_iter_ > 0) for C, est in linear_svc_path(X[:500], y[:500], [1, 0.1], random_state=0)]
    [(0.1, True), (1.0, True)]
    """
    params.pop("C", None)
    params.pop("warm_start", None)
    est = LinearSVC(**params)
    est._validate_params()
    data = validate_classification_data(est, X, y, sample_weight, caller="linear_svc_path")
    yield from _svc_path(est, data, _check_Cs(Cs), warm_start, dual, new_stop_flag())


def _svc_path(est, data, Cs, warm_start, dual, stop):
    """The C path on validated data (the engine of ``linear_svc_path`` and the CV).

    ``dual="auto"`` is ``LinearSVC``'s rule, applied at every C.
    """
    previous = None
    est.set_params(dual=dual)
    for C in Cs:
        start = None
        if warm_start and previous is not None:
            # The rescale rule for the duals; the solver clips into the new box.
            dual_coef = getattr(est, "dual_coef_", None)
            start = Start(None if dual_coef is None else np.abs(dual_coef),
                          weights_with_bias(est)).scaled(C / previous)
        est.set_params(C=float(C))
        est._fit_validated(data, start=start, stop=stop)
        previous = C
        yield float(C), est


def _fold_data(data, rows, caller):
    """The training part of a fold as validated data (one scan of its rows)."""
    Xs = data.X.to_scipy()
    y_labels = data.classes[data.y_ind[rows]]
    try:
        classes, y_ind = encode_labels(y_labels)
    except ValueError as error:
        raise ValueError(f"{caller}: {error}") from None
    return ClassificationData(proved_csr(Xs[rows], caller=caller), y_ind, classes,
                              data.sample_weight[rows])


class _WarmPathCV(ClassifierMixin, BaseEstimator):
    """Shared engine: C path per fold with warm starts, then refit.

    Subclasses define ``_path(data, Cs, seed, stop)`` (a generator of
    ``(C, fitted estimator)`` along the increasing grid, on validated fold
    data), ``_path_estimator(seed)`` (an unfitted estimator, for the scorer)
    and ``_refit_estimator(C, seed, data)``.  X and y are validated once per
    search; each fold's rows are cut from the proved CSR matrix and scanned
    once (which also gives the norms ``dual="auto"`` needs).
    """

    def _seed(self):
        rs = self.random_state
        if rs is None or isinstance(rs, Integral):
            return rs
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    def _fit_path(self, data, y_labels, fold, splits, Cs, scorer, seed, progress, stop):
        k, (train, test) = fold, splits[fold]
        caller = (f"{type(self).__name__}.fit, fold {k + 1} of {len(splits)}")
        try:
            train_data = _fold_data(data, train, caller)
        except ValueError as error:
            raise ValueError(
                f"{error} The training part of this fold cannot be fitted; use a "
                "stratified splitter (an int cv means StratifiedKFold), fewer "
                "folds, or drop the rare classes."
            ) from None
        Xte = data.X.to_scipy()[test]
        yte = y_labels[test]
        scores = np.empty(len(Cs))
        times = np.empty(len(Cs))
        n_iter = np.empty(len(Cs), dtype=np.int64)
        start = time.perf_counter()
        for j, (C, est) in enumerate(self._path(train_data, Cs, seed, stop)):
            times[j] = time.perf_counter() - start
            n_iter[j] = int(np.max(est.n_iter_))  # (an array for LogisticRegression)
            scores[j] = scorer(est, Xte, yte)
            if progress is not None:
                progress.update(1, f"C={C:g}")
            start = time.perf_counter()
        return scores, times, n_iter

    def _validated_run(self, X, y, sample_weight, groups):
        self._validate_params()
        data = validate_classification_data(
            self, X, y, sample_weight, caller=f"{type(self).__name__}.fit"
        )
        return self._run(data, groups)

    def _run(self, data, groups=None):
        Cs = _check_Cs(self.Cs)
        y_labels = data.classes[data.y_ind]
        cv = check_cv(self.cv, y_labels, classifier=True)
        splits = list(cv.split(np.empty((data.X.n_rows, 0)), y_labels, groups))
        scorer = check_scoring(self._path_estimator(None), scoring=self.scoring)
        seed = self._seed()
        n_folds = len(splits)
        progress = None
        if self.verbose:
            progress = ProgressBar(n_folds * len(Cs), label=f"{type(self).__name__} ")
        n_threads = min(effective_n_jobs(self.n_jobs), n_folds)
        if self.n_jobs is not None and self.n_jobs < 0:
            # "All cores": one thread per fold (up to twice the cores), so the
            # OS spreads e.g. 3 folds over 2 cores instead of one core
            # running two folds in a row while the other idles.
            n_threads = min(n_folds, 2 * effective_n_jobs(self.n_jobs))
        stop = new_stop_flag()
        with warnings.catch_warnings():
            # Collected below into one warning naming the C values.
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = run(
                lambda k: self._fit_path(data, y_labels, k, splits, Cs, scorer,
                                         seed, progress, stop),
                range(n_folds), n_threads, stop,
            )
        scores = np.array([r[0] for r in results])  # (n_folds, n_Cs)
        times = np.array([r[1] for r in results])
        n_iter = np.array([r[2] for r in results])

        mean = scores.mean(axis=0)
        std = scores.std(axis=0)
        if np.all(np.isnan(mean)):
            raise ValueError(
                f"Every cross-validation score is NaN with scoring={self.scoring!r}; "
                "check that the scorer suits this problem."
            )
        best = int(np.nanargmax(mean))
        order = np.argsort(-np.nan_to_num(mean, nan=-np.inf), kind="stable")
        rank = np.empty(len(Cs), dtype=np.int32)
        rank[order] = np.arange(1, len(Cs) + 1)
        results_ = {
            "param_C": Cs.copy(),
            "mean_test_score": mean,
            "std_test_score": std,
            "rank_test_score": rank,
            "mean_fit_time": times.mean(axis=0),
            "std_fit_time": times.std(axis=0),
            "mean_n_iter": n_iter.mean(axis=0),
            "max_n_iter": n_iter.max(axis=0),
        }
        for k in range(n_folds):
            results_[f"split{k}_test_score"] = scores[k]
            results_[f"split{k}_n_iter"] = n_iter[k]
        self.Cs_ = Cs
        self.cv_results_ = results_
        self.n_splits_ = n_folds
        self.best_index_ = best
        self.C_ = float(Cs[best])
        self.best_score_ = float(mean[best])
        self.scorer_ = scorer

        stuck = Cs[np.any(n_iter >= self.max_iter, axis=0)]
        if stuck.size:
            warnings.warn(
                f"{type(self).__name__}: the fits for C in "
                f"{[float(c) for c in stuck]} stopped at max_iter={self.max_iter} "
                "in at least one fold; their scores may not be those of the "
                "optimum. Increase max_iter, raise tol, or scale the features.",
                ConvergenceWarning,
                stacklevel=2,
            )

        if self.refit:
            start = time.perf_counter()
            est = self._refit_estimator(self.C_, seed, data)
            est._fit_validated(data, stop=stop)
            self.refit_time_ = time.perf_counter() - start
            self.best_estimator_ = est
            self.classes_ = est.classes_
            self.coef_ = est.coef_
            self.intercept_ = est.intercept_
            self.n_iter_ = est.n_iter_
        else:
            self.classes_ = data.classes
        return self

    def _check_refitted(self, method):
        check_is_fitted(self, "cv_results_")
        if not hasattr(self, "best_estimator_"):
            raise AttributeError(
                f"{type(self).__name__} was fitted with refit=False, so it has no "
                f"model to {method} with; fit it with refit=True, or fit "
                f"a {type(self).__name__.removesuffix('CV')} with C=C_."
            )
        return self.best_estimator_

    def decision_function(self, X):
        """Signed distance to the hyperplane(s) of the refitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return self._check_refitted("decide").decision_function(X)

    def predict(self, X):
        """Predict class labels with the refitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._check_refitted("predict").predict(X)

    def score(self, X, y, sample_weight=None):
        """Score of the refitted estimator with ``scoring`` (accuracy by default).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        est = self._check_refitted("score")
        if sample_weight is None:
            return float(self.scorer_(est, X, y))
        return float(self.scorer_(est, X, y, sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LinearSVCCV(_WarmPathCV):
    """Linear SVM with the regularisation C chosen by cross-validation.

    The assignment's workflow in one call: for every fold, fit
    :class:`fastlinear.LinearSVC` along the C grid in increasing order,
    warm-starting each fit from the rescaled dual variables of the previous
    C; pick the C with the best mean score; refit on all the data.  The
    scores equal those of ``cross_val_score(LinearSVC(C=c), X, y, cv=cv)``
    for each C, up to the solver tolerance.

    Parameters
    ----------
    Cs : int or array-like of float, default=(0.01, 0.1, 1, 10, 100)
        The C grid (sorted increasingly, duplicates dropped).  An int ``n``
        means ``n`` values log-spaced between 1e-4 and 1e4.
    cv : int, cross-validation generator or iterable, default=3
        An int means ``StratifiedKFold(cv)`` without shuffling, as
        ``cross_val_score``; any scikit-learn splitter is accepted.
    scoring : str, callable or None, default="accuracy"
        A scikit-learn scorer name (``sklearn.metrics.get_scorer_names()``)
        or callable ``scorer(estimator, X, y)``; ``None`` means accuracy.
    refit : bool, default=True
        Refit ``LinearSVC(C=C_)`` on the whole training set.
    penalty, loss, dual, multi_class :
        See :class:`fastlinear.LinearSVC` (the same defaults).  With
        ``dual="auto"`` its rule picks the solver at every C of the path.
    tol : float, default=1e-4
        Stopping tolerance of every fit.
    max_iter : int, default=60000
        Maximal number of iterations per fit, as in :class:`fastlinear.LinearSVC`:
        passes over the data for the dual solvers, Newton steps for the
        primal one.  The default is the assignment's value, enough for
        C = 100 on a9a from a warm start.
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
    class_weight : dict, "balanced" or None, default=None
    shrinking : bool, default=True
        See :class:`fastlinear.LinearSVC`.
    warm_start : bool, default=True
        Warm-start the C path (the rescale rule of the Notes).  ``False``
        solves every C from zero, for comparison.
    n_jobs : int, default=None
        Number of threads over the folds (``None`` means 1).  A negative
        value means all cores, with one thread per fold (up to twice the
        cores), so that 3 folds share 2 cores evenly.  Also passed to the
        refit: threads over the one-vs-rest problems (results independent of
        ``n_jobs``), or, for a binary problem solved by the primal Newton
        solver, threads inside its products with X (results equal up to
        rounding, about 1e-12 relative).
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate order, the same for every fold (as the clones
        of ``cross_val_score``) and for the refit.
    verbose : int, default=0
        ``>= 1`` draws a progress bar over the (fold, C) fits on stderr.

    Attributes
    ----------
    C_ : float
        The best C.
    Cs_ : ndarray of shape (n_Cs,)
        The C grid, sorted.
    best_score_ : float
        Mean cross-validation score of ``C_``.
    best_index_ : int
        Index of ``C_`` in ``Cs_``.
    cv_results_ : dict of ndarrays of shape (n_Cs,)
        ``param_C``, ``mean_test_score``, ``std_test_score``,
        ``rank_test_score``, ``mean_fit_time``, ``std_fit_time`` (seconds
        per fold, warm-started), ``mean_n_iter``, ``max_n_iter``, and
        ``split{k}_test_score`` / ``split{k}_n_iter`` per fold.
    best_estimator_ : LinearSVC
        The refitted model (only with ``refit=True``).
    coef_, intercept_, n_iter_ :
        Those of ``best_estimator_`` (only with ``refit=True``).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_splits_ : int
        Number of folds.
    refit_time_ : float
        Seconds spent in the refit.
    scorer_ : callable
        The scorer used for the folds and :meth:`score`.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    fastlinear.LinearSVC : the estimator fitted along the path.
    sklearn.model_selection.GridSearchCV : the same search without warm starts.

    Notes
    -----
    Warm-start rule: before the fit at ``C_new``, the signed dual variables
    ``dual_coef_`` of the fit at ``C_old`` are multiplied by
    ``C_new / C_old``.  With the hinge loss the rescaled duals stay within
    the new box ``[0, C_i]``; with the squared hinge any ``alpha >= 0`` is
    feasible.  Warm and cold starts solve the same convex problem and reach
    the same objective (up to ``tol``); only the number of passes differs.

    Examples
    --------
    >>> from fastlinear import LinearSVCCV
    >>> from fastlinear.datasets import load_a9a
    >>> X_train, y_train, X_test, y_test = load_a9a()
    >>> search = LinearSVCCV(Cs=[0.01, 0.1, 1], random_state=0).fit(X_train, y_train)
    >>> search.C_
    0.1
    >>> round(search.score(X_test, y_test), 2)
    0.85
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        **{
            key: LinearSVC._parameter_constraints[key]
            for key in (
                "penalty", "loss", "multi_class", "tol", "max_iter", "fit_intercept",
                "intercept_scaling", "class_weight", "shrinking",
            )
        },
        "warm_start": ["boolean"],
        "dual": ["boolean", StrOptions({"auto"})],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        Cs=(0.01, 0.1, 1, 10, 100),
        *,
        cv=3,
        scoring="accuracy",
        refit=True,
        penalty="l2",
        loss="squared_hinge",
        dual="auto",
        multi_class="ovr",
        tol=1e-4,
        max_iter=60000,
        fit_intercept=True,
        intercept_scaling=1.0,
        class_weight=None,
        shrinking=True,
        warm_start=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.penalty = penalty
        self.loss = loss
        self.dual = dual
        self.multi_class = multi_class
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.shrinking = shrinking
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _svc(self, C, seed, n_jobs=None):
        return LinearSVC(
            C=C,
            penalty=self.penalty,
            loss=self.loss,
            dual=self.dual,
            multi_class=self.multi_class,
            tol=self.tol,
            max_iter=self.max_iter,
            fit_intercept=self.fit_intercept,
            intercept_scaling=self.intercept_scaling,
            class_weight=self.class_weight,
            shrinking=self.shrinking,
            random_state=seed,
            n_jobs=n_jobs,
        )

    def _path_estimator(self, seed):
        est = self._svc(1.0, seed)
        return est.set_params(warm_start=self.warm_start)

    def _path(self, data, Cs, seed, stop):
        return _svc_path(self._svc(1.0, seed), data, Cs, self.warm_start, self.dual, stop)

    def _refit_estimator(self, C, seed, data):
        return self._svc(C, seed, n_jobs=self.n_jobs)

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the C grid, then refit with the best C.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training vectors; CSR matrices are used as they are.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights multiplying C (split with the folds).
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware splitters.

        Returns
        -------
        self : LinearSVCCV
        """
        return self._validated_run(X, y, sample_weight, groups)


_LOGISTIC_PARAMS = (
    "parametrization", "fit_intercept", "solver", "batch_size", "learning_rate",
    "eta0", "power_t", "max_iter", "tol", "n_iter_no_change",
)


def _logistic_constraints():
    from .logistic import LogisticRegression

    return {key: LogisticRegression._parameter_constraints[key] for key in _LOGISTIC_PARAMS}


class LogisticRegressionCV(_WarmPathCV):
    """Mini-batch logistic regression with C chosen by cross-validation.

    The counterpart of :class:`LinearSVCCV` for
    :class:`fastlinear.LogisticRegression`: for every fold the C grid is
    visited in increasing order with one estimator whose weights ``W`` (and
    intercepts) carry over from one C to the next (``warm_start``); the
    best mean score picks ``C_``; the model is refitted on all the data.

    Parameters
    ----------
    Cs : int or array-like of float, default=(0.01, 0.1, 1, 10, 100)
        The C grid (sorted, duplicates dropped); an int ``n`` means ``n``
        values log-spaced between 1e-4 and 1e4.
    cv : int, cross-validation generator or iterable, default=3
        An int means ``StratifiedKFold(cv)`` without shuffling.
    scoring : str, callable or None, default="accuracy"
        A scikit-learn scorer name or callable; ``None`` means accuracy.
    refit : bool, default=True
        Refit ``LogisticRegression(C=C_)`` on the whole training set.
    parametrization, fit_intercept, solver, batch_size, learning_rate, eta0, \
power_t, max_iter, tol, n_iter_no_change :
        See :class:`fastlinear.LogisticRegression` (same defaults).
    warm_start : bool, default=True
        Carry ``W`` over along the C path; ``False`` starts every C from zero.
    n_jobs : int, default=None
        Number of threads over the folds.
    random_state : int, RandomState instance or None, default=None
        Seed of the row permutations, the same for every fold and the refit.
    verbose : int, default=0
        ``>= 1`` draws a progress bar over the (fold, C) fits on stderr.

    Attributes
    ----------
    C_, Cs_, best_score_, best_index_, cv_results_, best_estimator_, coef_, \
intercept_, classes_, n_iter_, n_splits_, refit_time_, scorer_, n_features_in_ :
        As in :class:`LinearSVCCV` (``n_iter`` counts epochs).

    See Also
    --------
    fastlinear.LogisticRegression : the estimator fitted along the path.
    LinearSVCCV : the same search for linear SVMs.

    Notes
    -----
    Warm-start rule: ``W`` is kept as it is from one C to the next.  Unlike
    the SVM duals, which grow in proportion to C, the primal weights of
    logistic regression change slowly along a log-spaced grid, so the
    previous optimum is already close to the next.

    Examples
    --------
    >>> from fastlinear import LogisticRegressionCV
    >>> from fastlinear.datasets import load_a9a
    >>> X_train, y_train, X_test, y_test = load_a9a()
    >>> search = LogisticRegressionCV(Cs=[0.001, 0.1], random_state=0).fit(X_train[:3000], y_train[:3000])
    >>> float(search.C_)
    0.1
    """

    def __init__(
        self,
        Cs=(0.01, 0.1, 1, 10, 100),
        *,
        cv=3,
        scoring="accuracy",
        refit=True,
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
        warm_start=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
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
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _logistic(self, C, seed):
        from .logistic import LogisticRegression

        params = {key: getattr(self, key) for key in _LOGISTIC_PARAMS}
        return LogisticRegression(C=C, random_state=seed, **params)

    def _path_estimator(self, seed):
        return self._logistic(1.0, seed)

    def _path(self, data, Cs, seed, stop):
        est = self._logistic(1.0, seed).set_params(warm_start=self.warm_start)
        for C in Cs:
            est.set_params(C=float(C))
            est._fit_validated(data, stop=stop)
            yield float(C), est

    def _refit_estimator(self, C, seed, data):
        return self._logistic(C, seed)

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the C grid, then refit with the best C.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LogisticRegressionCV
        """
        return self._validated_run(X, y, sample_weight, groups)

    def predict_proba(self, X):
        """Class probabilities of the refitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._check_refitted("predict").predict_proba(X)


def _logistic_cv_constraints():
    return {
        **{key: LinearSVCCV._parameter_constraints[key]
           for key in ("Cs", "cv", "scoring", "refit", "warm_start", "n_jobs",
                       "random_state", "verbose")},
        **_logistic_constraints(),
    }


LogisticRegressionCV._parameter_constraints = _logistic_cv_constraints()
