"""Cross-validated C search with warm-started regularisation paths.

The course assignment's question 2 -- ``cross_val_score(LinearSVC(C=c), X, y,
cv=3)`` for each C of a grid, then a refit with the best C -- as one
estimator, :class:`LinearSVCCV`, built on the public
:class:`fastlinear.LinearSVC` only; :class:`LogisticRegressionCV` is
scikit-learn's, with the same warm-started paths for
:class:`fastlinear.LogisticRegression` (warm start on ``coef_``; rules 3 and
4 below hold for it too, its folds and choice of C are scikit-learn's).

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
import inspect
import time
import warnings
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.metrics import check_scoring, get_scorer, get_scorer_names, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, metadata_routing
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params, check_is_fitted

from ._base import CheckedLinearClassifierMixin, predicted_labels
from ._csr_fast import row_subset
from ._parallel import blas_threads, new_stop_flag, run
from ._problem import weights_with_bias
from ._progress import ProgressBar
from ._solvers import Start
from ._validation import (
    N_JOBS,
    ClassificationData,
    check_class_weight,
    encode_labels,
    validate_classification_data,
)
from .logistic import LogisticRegression
from .svm import LinearSVC

__all__ = ["LinearSVCCV", "LogisticRegressionCV", "linear_svc_path"]


def _check_response(scorer, scoring, estimator):
    """A ValueError when the scorer named ``scoring`` reads an output that
    ``estimator`` lacks (a LinearSVC has no ``predict_proba``), before the
    folds run (scikit-learn's scorer raises an AttributeError in the first)."""
    methods = getattr(scorer, "_response_method", None) if isinstance(scoring, str) else None
    methods = (methods,) if isinstance(methods, str) else tuple(methods or ())
    if methods and not any(hasattr(estimator, method) for method in methods):
        name = type(estimator).__name__
        raise ValueError(
            f"scoring={scoring!r} scores {' or '.join(methods)}, which {name} does not have "
            f"({name} has predict and decision_function); use a scorer of labels or "
            "decision values, such as 'accuracy', 'balanced_accuracy', 'f1_macro', or "
            "'roc_auc' for two classes.")


def _check_Cs(Cs):
    """Return the C grid as a sorted float array of unique positive values."""
    if isinstance(Cs, (bool, np.bool_)):
        raise TypeError(f"Cs={Cs}: Cs is an int (how many values between 1e-4 and 1e4) or a "
                        "sequence of positive floats, not a bool.")
    if isinstance(Cs, Integral):
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


def _seed(random_state):
    """One seed for every fold and the refit: an int (or None) as it is, a
    RandomState drawn from once."""
    if random_state is None or isinstance(random_state, Integral):
        return random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _fold_threads(n_jobs, n_folds):
    """Threads over the folds for scikit-learn's ``n_jobs``."""
    if n_jobs is not None and n_jobs < 0:
        # "All cores": one thread per fold (up to twice the cores), so the
        # OS spreads e.g. 3 folds over 2 cores instead of one core
        # running two folds in a row while the other idles.
        return min(n_folds, 2 * effective_n_jobs(n_jobs))
    return min(effective_n_jobs(n_jobs), n_folds)


def _cv_results(Cs, scores, times, n_iter):
    """``cv_results_`` from the (n_folds, n_Cs) scores, seconds and iterations."""
    mean = scores.mean(axis=0)
    order = np.argsort(-np.nan_to_num(mean, nan=-np.inf), kind="stable")
    rank = np.empty(len(Cs), dtype=np.int32)
    rank[order] = np.arange(1, len(Cs) + 1)
    results = {
        "param_C": Cs.copy(),
        "mean_test_score": mean,
        "std_test_score": scores.std(axis=0),
        "rank_test_score": rank,
        "mean_fit_time": times.mean(axis=0),
        "std_fit_time": times.std(axis=0),
        "mean_n_iter": n_iter.mean(axis=0),
        "max_n_iter": n_iter.max(axis=0),
    }
    for k in range(scores.shape[0]):
        results[f"split{k}_test_score"] = scores[k]
        results[f"split{k}_n_iter"] = n_iter[k]
    return results


def _checked_splits(splits, n_samples, caller):
    """The folds of ``cv`` as integer index arrays (a boolean mask taken as
    its True rows); a ValueError naming the fold where a part holds
    something else, or an index outside the ``n_samples`` samples."""
    checked = []
    for k, split in enumerate(splits, start=1):
        parts = []
        for name, part in zip(("training", "test"), split, strict=True):
            part = np.asarray(part)
            if part.dtype == bool and part.shape == (n_samples,):
                part = np.flatnonzero(part)
            elif part.ndim != 1 or (part.size and not np.issubdtype(part.dtype, np.integer)):
                raise ValueError(
                    f"{caller}: the {name} part of fold {k} of cv is {part.dtype} of shape "
                    f"{part.shape}; expected a 1-D array of integer sample indices "
                    "(cv=[(train_indices, test_indices), ...]) or a boolean mask of the "
                    f"{n_samples} samples.")
            outside = part[(part < -n_samples) | (part >= n_samples)]
            if outside.size:
                raise ValueError(
                    f"{caller}: the {name} part of fold {k} of cv holds the index "
                    f"{int(outside[0])}, outside the {n_samples} samples (0 to {n_samples - 1}).")
            parts.append(part.astype(np.intp, copy=False))
        checked.append(tuple(parts))
    return checked


def _check_fold_weights(sample_weight, caller):
    """A fold whose training part has no sample of positive weight (or no
    sample) cannot be fitted: a ValueError saying so."""
    if not np.any(sample_weight > 0):
        raise ValueError(
            f"{caller}: every sample of the training part has weight 0 (or the "
            "part is empty), so there is nothing to fit. Use another splitter or "
            "give those samples positive weights.")


def _fold_data(data, rows, caller):
    """The training part of a fold as validated data (its rows copied, and
    proved without a second scan)."""
    y_labels = data.classes[data.y_ind[rows]]
    try:
        classes, y_ind = encode_labels(y_labels)
    except ValueError as error:
        raise ValueError(f"{caller}: {error}") from None
    return ClassificationData(row_subset(data.X, rows, caller=caller), y_ind, classes,
                              data.sample_weight[rows], derived={})


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
        return _seed(self.random_state)

    def _fit_path(self, data, y_labels, fold, splits, Cs, scorer, seed, progress, stop):
        k, (train, test) = fold, splits[fold]
        caller = (f"{type(self).__name__}.fit, fold {k + 1} of {len(splits)}")
        _check_fold_weights(data.sample_weight[train], caller)
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
        splits = _checked_splits(cv.split(np.empty((data.X.n_rows, 0)), y_labels, groups),
                                 data.X.n_rows, f"{type(self).__name__}.fit")
        estimator = self._path_estimator(None)
        scorer = check_scoring(estimator, scoring=self.scoring)
        _check_response(scorer, self.scoring, estimator)
        # (no probabilities here: accuracy only)
        fold_scorer = _DirectScorer.wrap(self.scoring or "accuracy", scorer, ("accuracy",))
        seed = self._seed()
        n_folds = len(splits)
        progress = None
        if self.verbose:
            progress = ProgressBar(n_folds * len(Cs), label=f"{type(self).__name__} ")
        n_threads = _fold_threads(self.n_jobs, n_folds)
        stop = new_stop_flag()
        with warnings.catch_warnings():
            # Collected below into one warning naming the C values.
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = run(
                lambda k: self._fit_path(data, y_labels, k, splits, Cs, fold_scorer,
                                         seed, progress, stop),
                range(n_folds), n_threads, stop,
            )
        scores = np.array([r[0] for r in results])  # (n_folds, n_Cs)
        times = np.array([r[1] for r in results])
        n_iter = np.array([r[2] for r in results])

        mean = scores.mean(axis=0)
        if np.all(np.isnan(mean)):
            raise ValueError(
                f"Every cross-validation score is NaN with scoring={self.scoring!r}; "
                "check that the scorer suits this problem."
            )
        best = int(np.nanargmax(mean))
        results_ = _cv_results(Cs, scores, times, n_iter)
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
        "n_jobs": N_JOBS,
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


# ------------------------------------------------------- LogisticRegressionCV


def _check_logistic_Cs(Cs):
    """The C grid in the caller's order; an int ``n``: ``n`` values log-spaced
    between 1e-4 and 1e4 (scikit-learn's grid)."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        return np.logspace(-4, 4, int(Cs))
    try:
        grid = np.asarray(Cs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"Cs must be an int or a sequence of positive floats; got {Cs!r}."
        ) from None
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(
            f"Cs must be an int or a non-empty 1-D sequence of floats, got shape "
            f"{grid.shape}; e.g. Cs=10 or Cs=(0.1, 1, 10)."
        )
    if np.any(np.isnan(grid)) or np.any(grid <= 0):
        raise ValueError(
            f"Every value of Cs must be a float in (0, inf] (np.inf: no penalty); "
            f"got {grid.tolist()}."
        )
    return grid


def _fold_training_data(data, rows, caller):
    """The training part of a fold, with every class of the data.

    As in scikit-learn, a class missing from a fold's training part keeps its
    place in the model (its probability is driven towards 0), so every fold
    fits a model of the same shape.
    """
    sample_weight = data.sample_weight[rows]
    _check_fold_weights(sample_weight, caller)
    X = row_subset(data.X, rows, caller=caller)
    return ClassificationData(X, data.y_ind[rows], data.classes, sample_weight, derived={})


def _scorer_for_classes(scorer, classes):
    """``scorer`` told every class of the data, as scikit-learn's path does.

    A fold's test part may lack a class; scorers whose metric takes
    ``labels`` (``neg_log_loss``, ``neg_brier_score``, ...) get the classes
    of the whole data (and, for two classes, ``pos_label=classes[1]``).
    """
    func = getattr(scorer, "_score_func", None)
    if func is None:
        return scorer
    signature = inspect.signature(func).parameters
    if "labels" not in signature:
        return scorer
    kwargs = {"labels": classes}
    if len(classes) == 2 and "pos_label" in signature:
        kwargs["pos_label"] = classes[-1]
    kwargs.update(getattr(scorer, "_kwargs", {}))
    return make_scorer(func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method, **kwargs)


class _DirectScorer:
    """A fold's ``accuracy`` or ``neg_log_loss`` computed from the
    predictions as scikit-learn's metric computes it, without the metric's
    checks of its inputs.

    scikit-learn's metric checks the labels' type, one-hot encodes them and
    checks the probabilities on every call: about 4.5 ms per call on a
    10,000-sample test part of w8a (against 1 ms for ``predict_proba``), a
    fifth of an L1 ``LogisticRegressionCV`` there.  The inputs here come
    from the fit: labels among ``classes_``, probabilities from
    ``predict_proba``.  The arithmetic is the metric's: for the log loss,
    probabilities clipped to ``[eps, 1 - eps]`` of their dtype and
    ``-log(p)`` of each sample's class, then the mean or
    ``sum(loss * w) / sum(w)``; for accuracy the mean of the matches.  Other
    metadata than ``sample_weight``, integer weights, weights summing to 0,
    non-finite probabilities and an empty test part go to the wrapped
    scorer (its result or its error, as before).  X is a part of the
    validated data (a fold's test part), so the predictions skip
    ``check_X_predict`` (about 0.7 ms a call there) when the estimator's
    ``predict`` / ``predict_proba`` are the package's own.
    """

    METRICS = ("accuracy", "neg_log_loss")

    def __init__(self, metric, scorer):
        self.metric = metric
        self.scorer = scorer

    @classmethod
    def wrap(cls, scoring, scorer, metrics=METRICS):
        """The folds' scorer for ``scoring``: ``scorer`` computed directly
        (test parts of the validated data) when ``scoring`` names one of
        ``metrics``, else ``scorer`` itself."""
        if isinstance(scoring, str) and scoring in metrics:
            return cls(scoring, scorer)
        return scorer

    def __call__(self, estimator, X, y, **params):
        weights = params.get("sample_weight")
        if (set(params) - {"sample_weight"} or X.shape[0] == 0
                or (weights is not None and np.asarray(weights).dtype.kind != "f")):
            # Other metadata, an empty test part (the metric's error) and
            # integer weights (the metric's own dtype rules): the metric.
            return self.scorer(estimator, X, y, **params)
        checked = hasattr(estimator, "_decision_values")
        if self.metric == "accuracy":
            if checked and type(estimator).predict is LinearClassifierMixin.predict:
                predicted = predicted_labels(estimator.classes_, estimator._decision_values(X))
            else:
                predicted = estimator.predict(X)
            value = (predicted == y).astype(np.float64)
            sign = 1.0
        else:
            if checked and type(estimator).predict_proba is LogisticRegression.predict_proba:
                proba = estimator._proba_of(estimator._decision_values(X))
            else:
                proba = estimator.predict_proba(X)
            if not np.all(np.isfinite(proba)):
                return self.scorer(estimator, X, y, **params)   # the metric's error
            eps = np.finfo(proba.dtype).eps
            true = np.clip(proba, eps, 1 - eps)[
                np.arange(proba.shape[0]), np.searchsorted(estimator.classes_, y)]
            value = -np.log(true)
            sign = -1.0
        if weights is None:
            return sign * float(np.mean(value))
        weights = np.asarray(weights)     # float: the more precise of the two, as the metric
        value = value.astype(np.result_type(value, weights), copy=False)
        weights = weights.astype(value.dtype, copy=False)
        if np.sum(weights) == 0:
            return self.scorer(estimator, X, y, **params)   # the metric's error
        return sign * float(np.sum(value * weights) / np.sum(weights))


def _warn_default(value, meaning, message):
    """``meaning`` with a FutureWarning when ``value`` is the ``"warn"`` default
    (scikit-learn's deprecation of a default), else ``value``."""
    if isinstance(value, str) and value == "warn":
        warnings.warn(message, FutureWarning, stacklevel=5)
        return meaning
    return value


def _best(scores, what):
    """Index of the largest score, NaN skipped; ValueError when all are NaN."""
    if np.all(np.isnan(scores)):
        raise ValueError(
            f"Every cross-validation score is NaN {what}; check that the scorer "
            "suits this problem."
        )
    return int(np.nanargmax(scores))


class LogisticRegressionCV(SparseCoefMixin, CheckedLinearClassifierMixin, BaseEstimator):
    """Logistic regression with C chosen by cross-validation: scikit-learn's, with warm-started paths.

    A drop-in for ``sklearn.linear_model.LogisticRegressionCV``, L2, L1 and
    elastic-net penalties: the same parameters, defaults, deprecation
    warnings, folds, scores and attributes (in both layouts of
    ``use_legacy_attributes``).  For every fold and every entry of
    ``l1_ratios``, :class:`fastlinear.LogisticRegression` is fitted along
    the C grid from the smallest C to the largest, one estimator whose
    ``warm_start`` carries ``coef_`` and ``intercept_`` from one C to the
    next, so each second-order fit (Newton, newGLMNET or proximal Newton)
    starts next to its optimum; the (fold, l1 ratio) paths run in threads
    (``n_jobs``).  The best (C, l1 ratio) is refitted on all the data,
    starting from the mean of the folds' coefficients there.

    Parameters
    ----------
    Cs : int or array-like of float, default=10
        The C grid, values in ``(0, inf]`` (``np.inf``: no penalty).  An int
        ``n`` means ``n`` values log-spaced between 1e-4 and 1e4.  The
        attributes follow the order given; the fits visit the grid in
        increasing order.
    l1_ratios : array-like of float, default="warn"
        The L1 shares of the penalty to search, each in ``[0, 1]``: 0 is
        the L2 penalty, 1 the L1 penalty, values between are elastic nets
        (:class:`fastlinear.LogisticRegression`'s ``l1_ratio``).  ``None``
        (deprecated in scikit-learn 1.8) means the L2 penalty.  The default
        ``"warn"`` means ``None`` with scikit-learn's FutureWarning.  An L1
        share needs ``solver="auto"`` or ``"saga"`` (or ``"liblinear"``
        for ``(1,)``, liblinear's ``-s 6`` problem).
    fit_intercept : bool, default=True
        Whether to fit an intercept (not penalised, except with
        ``solver="liblinear"``).
    cv : int, cross-validation generator or iterable, default=None
        ``None`` means 5 folds; an int ``k`` means ``StratifiedKFold(k)``
        (without shuffling); any scikit-learn splitter or iterable of
        ``(train, test)`` index arrays is accepted.
    dual : bool, default=False
        With ``solver="liblinear"``: liblinear's dual coordinate descent
        (``-s 7``).  Other solvers refuse ``dual=True``.
    penalty : {"l2", "l1", "elasticnet"}, default="deprecated"
        Deprecated in scikit-learn 1.8 (a FutureWarning when set): leave it
        and use ``l1_ratios``.  ``"l1"`` fits the L1 penalty at every entry
        of ``l1_ratios``, ``"l2"`` the L2 penalty; ``"elasticnet"`` needs
        ``l1_ratios``.
    scoring : str, callable or None, default="warn"
        A scikit-learn scorer name (``sklearn.metrics.get_scorer_names()``)
        or callable ``scorer(estimator, X, y)``; ``None`` means accuracy.
        The default ``"warn"`` means accuracy with scikit-learn's
        FutureWarning (its default becomes ``"neg_log_loss"`` in 1.11).
    solver : {"auto", "lbfgs", "liblinear", "newton-cg", "newton-cholesky", \
"sag", "saga", "svrg", "sgd"}, default="auto"
        See :class:`fastlinear.LogisticRegression`.  scikit-learn's default
        is ``"lbfgs"``, which here means the same as ``"auto"``: the exact
        Newton solver :func:`fastlinear.logistic.choose_solver` picks.
    tol : float, default=1e-4
        Stopping tolerance of every fit (scikit-learn's lbfgs test for the
        exact solvers).
    max_iter : int, default=100
        Maximal number of iterations of every fit (Newton steps for the
        exact solvers).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``C`` for their samples.
        ``"balanced"`` is computed once, on the whole data (with the sample
        weights), and the same weights are used in every fold, as
        scikit-learn does.
    n_jobs : int, default=None
        Threads over the folds (``None``: one; negative: all cores, one
        thread per fold up to twice the cores).  Also the threads of the
        refit's products with X (truncated Newton).  BLAS runs one thread
        per fold, and ``n_jobs`` threads in the refit (as in
        ``LogisticRegression.fit``).  The results do not depend on it beyond
        rounding.
    verbose : int, default=0
        ``>= 1`` draws a progress bar over the (fold, C) fits on stderr;
        ``>= 2`` also prints the solvers' progress.
    refit : bool, default=True
        Refit with the C of the best mean score on all the data.  ``False``:
        average the coefficients (and the Cs) of each fold's best C.
    intercept_scaling : float, default=1.0
        ``solver="liblinear"`` only: the value of the constant feature whose
        weight gives the intercept.
    random_state : int, RandomState instance or None, default=None
        Seeds the solvers that shuffle (``"liblinear"`` with ``dual=True``,
        ``"svrg"``, ``"sgd"``); the same seed in every fold and the refit.
        It does not shuffle the folds.
    use_legacy_attributes : bool, default="warn"
        The layout of the fitted attributes (see Attributes).  The default
        ``"warn"`` means ``True`` with scikit-learn's FutureWarning (its
        default becomes ``False`` in 1.10).
    parametrization : {"softmax", "reference"}, default="softmax"
        fastlinear's own: the multinomial model of
        :class:`fastlinear.LogisticRegression`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the refitted (or averaged) model, of the dtype of X.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros without ``fit_intercept``).
    Cs_ : ndarray of shape (n_Cs,)
        The C grid, in the order given.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        ``l1_ratios`` as an array; ``[None]`` when it is ``None``.
    coefs_paths_ : dict or ndarray
        The coefficients of every fold and C, the intercept last (``n_dof =
        n_features + fit_intercept``).  Legacy layout: a dict ``{class:
        ndarray of shape (n_folds, n_Cs, n_dof)}`` (shape (n_folds, n_Cs,
        n_l1_ratios, n_dof) when ``l1_ratios`` is given), keyed by
        ``classes_[1]`` alone for two classes.  New layout: an ndarray of
        shape (n_folds, n_l1_ratios, n_Cs, n_classes or 1, n_dof).
    scores_ : dict or ndarray
        The score of every fold and C.  Legacy: ``{class: ndarray of shape
        (n_folds, n_Cs)}`` (the same array for every key; (n_folds, n_Cs,
        n_l1_ratios) when ``l1_ratios`` is given).  New: an ndarray of shape
        (n_folds, n_l1_ratios, n_Cs).
    C_ : ndarray of shape (n_classes,) or (1,), or float
        The chosen C (refit=False: the mean of the folds' best Cs).  Legacy:
        repeated per class (one entry for two classes); new: a float.
    l1_ratio_ : ndarray of shape (n_classes,) or (1,), or float
        The chosen l1 ratio, laid out as ``C_`` (legacy, refit=True and
        ``l1_ratios`` None: ``[None]``; new: 0.0).
    n_iter_ : ndarray
        Iterations of every fold and C: shape (1, n_folds, n_Cs) (legacy;
        (1, n_folds, n_Cs, n_l1_ratios) when ``l1_ratios`` is given) or
        (n_folds, n_l1_ratios, n_Cs) (new).
    cv_results_ : dict of ndarrays of shape (n_l1_ratios * n_Cs,)
        fastlinear's own summary, l1 ratio by l1 ratio in the order of
        ``l1_ratios_``, each in the order of ``Cs_``: ``param_C``,
        ``param_l1_ratio`` (with two or more l1 ratios),
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time``, ``std_fit_time`` (seconds per fold, warm-started),
        ``mean_n_iter`` and ``split{k}_test_score``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (only when X has string column names).

    See Also
    --------
    fastlinear.LogisticRegression : the estimator fitted along the path.
    sklearn.linear_model.LogisticRegressionCV : the reference.
    LinearSVCCV : the same search for linear SVMs.

    Notes
    -----
    Warm starts: in each fold the grid is visited from the smallest C to the
    largest, each fit starting from the previous optimum.  The weights change
    slowly along a log-spaced grid, so Newton's method needs a few steps per
    C.  Warm and cold starts solve the same convex problems; the scores agree
    with scikit-learn's up to the solvers' tolerance.  With an L1 share the
    path starts where most weights are 0 (below :func:`fastlinear.l1_min_c`
    all are), and newGLMNET's shrinking skips the zero weights that stay
    zero.

    The best (C, l1 ratio) maximises the summed (mean) score over the
    folds, ties going to the first C in the order of ``Cs_``, then to the
    first l1 ratio, as in scikit-learn.  Scores and
    ``sample_weight`` are routed as in scikit-learn: without metadata
    routing, the test part's sample weights go to the scorer.

    ``ConvergenceWarning`` is raised once after the folds, naming the C
    values whose fits stopped at ``max_iter``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from fastlinear import LogisticRegressionCV
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegressionCV(cv=5, l1_ratios=(0,), scoring="neg_log_loss",
    ...                            use_legacy_attributes=False).fit(X, y)
    >>> clf.predict(X[:2, :])
    array([0, 0])
    >>> clf.predict_proba(X[:2, :]).shape
    (2, 3)
    >>> round(clf.score(X, y), 3)
    -0.041
    """

    # sample_weight of score() is passed to the scorer, not requested.
    __metadata_request__score = {"sample_weight": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        **{key: LogisticRegression._parameter_constraints[key]
           for key in ("fit_intercept", "dual", "tol", "max_iter", "class_weight",
                       "n_jobs", "verbose", "intercept_scaling", "random_state",
                       "solver", "parametrization")},
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None, Hidden(StrOptions({"warn"}))],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None,
                    Hidden(StrOptions({"warn"}))],
        "refit": ["boolean"],
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), Hidden(StrOptions({"deprecated"}))],
        "use_legacy_attributes": ["boolean", Hidden(StrOptions({"warn"}))],
    }

    def __init__(
        self,
        Cs=10,
        *,
        l1_ratios="warn",
        fit_intercept=True,
        cv=None,
        dual=False,
        penalty="deprecated",
        scoring="warn",
        solver="auto",
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        intercept_scaling=1.0,
        random_state=None,
        use_legacy_attributes="warn",
        parametrization="softmax",
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.dual = dual
        self.penalty = penalty
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes
        self.parametrization = parametrization

    # ------------------------------------------------------------- options
    def _check_options(self):
        """scikit-learn 1.9's rules for ``l1_ratios``, ``penalty``, ``scoring``
        and ``use_legacy_attributes`` (its warnings, in its order).

        Returns ``(l1_ratios, fitted, scoring, legacy)``: ``l1_ratios`` None
        or the given list; ``fitted`` the L1 share each entry of
        ``l1_ratios_`` fits (``penalty="l1"``: 1, the L2 penalty: 0);
        ``scoring`` None for accuracy.
        """
        l1_ratios = _warn_default(
            self.l1_ratios, None,
            "The default value for l1_ratios will change from None to (0.0,) "
            "in version 1.10. From version 1.10 onwards, only array-like "
            "with values in [0, 1] will be allowed, None will be forbidden. "
            "To avoid this warning, explicitly set a value, e.g. l1_ratios=(0,).")
        if l1_ratios is not None:
            ratios = np.asarray(l1_ratios)
            if ratios.ndim != 1 or ratios.size == 0 or ratios.dtype.kind not in "biuf":
                raise ValueError(
                    f"l1_ratios must be a non-empty 1-D sequence of numbers, got "
                    f"{l1_ratios!r}; use l1_ratios=(0.0,) (the L2 penalty)."
                )
            l1_ratios = list(l1_ratios)
        if self.penalty == "deprecated":
            if self.l1_ratios is None:
                warnings.warn(
                    "'l1_ratios=None' was deprecated in version 1.8 and will "
                    "trigger an error in 1.10. Use an array-like with values"
                    "in [0, 1] instead.", FutureWarning, stacklevel=4)
            ratios = np.zeros(1) if l1_ratios is None else np.asarray(l1_ratios, dtype=float)
            penalty = ("l2" if np.all(ratios == 0) else
                       "l1" if np.all(ratios == 1) else "elasticnet")
        else:
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in"
                " 1.10. To avoid this warning, leave 'penalty' set to its default"
                " value and use 'l1_ratios' and 'Cs' instead."
                " Use l1_ratios=(0,) instead of penalty='l2',"
                " l1_ratios=(1,) instead of penalty='l1',"
                " l1_ratios set to floats between 0 and 1 instead of"
                " penalty='elasticnet', and Cs=(np.inf,) instead of penalty=None.",
                FutureWarning, stacklevel=4)
            penalty = self.penalty
        if penalty == "elasticnet":
            if l1_ratios is None or not all(0 <= r <= 1 for r in l1_ratios):
                raise ValueError(
                    "l1_ratios must be an array-like of numbers between 0 and 1; "
                    f"got (l1_ratios={self.l1_ratios!r}). E.g. l1_ratios=(0.1, 0.5, 0.9, 1)."
                )
            fitted = [float(r) for r in l1_ratios]
        else:
            if l1_ratios is not None and self.penalty != "deprecated":
                warnings.warn("l1_ratios parameter is only used when penalty is "
                              f"'elasticnet'. Got (penalty={penalty})", stacklevel=4)
            n_l1 = 1 if l1_ratios is None else len(l1_ratios)
            fitted = [1.0 if penalty == "l1" else 0.0] * n_l1
        scoring = _warn_default(
            self.scoring, None,
            "The default value of the parameter 'scoring' will change from None, "
            "i.e. accuracy, to 'neg_log_loss' in version 1.11. To silence this "
            "warning, explicitly set the scoring parameter: "
            "scoring='neg_log_loss' for the new, scoring='accuracy' or "
            "scoring=None for the old default.")
        legacy = _warn_default(
            self.use_legacy_attributes, True,
            "The fitted attributes of LogisticRegressionCV will be simplified in "
            "scikit-learn 1.10 to remove redundancy. Set "
            "`use_legacy_attributes=False` to enable the new behavior now, or "
            "set it to `True` to silence this warning during the transition period "
            "while keeping the deprecated behavior for the time being. The default "
            "value of use_legacy_attributes will change from True to False in "
            "scikit-learn 1.10. See the docstring of LogisticRegressionCV "
            "for more details.")
        return l1_ratios, fitted, scoring, bool(legacy)

    def _get_scorer(self):
        """The scorer of ``score``: ``scoring``, accuracy for None / "warn"."""
        if self.scoring is None or (isinstance(self.scoring, str) and self.scoring == "warn"):
            return get_scorer("accuracy")
        return get_scorer(self.scoring)

    def _logistic(self, class_weight, seed, **overrides):
        """The estimator of the folds and the refit (warm-started)."""
        params = dict(
            C=1.0, dual=self.dual, tol=self.tol, fit_intercept=self.fit_intercept,
            intercept_scaling=self.intercept_scaling, class_weight=class_weight,
            random_state=seed, solver=self.solver, max_iter=self.max_iter,
            verbose=max(0, int(self.verbose) - 1), warm_start=True,
            parametrization=self.parametrization,
        )
        params.update(overrides)
        return LogisticRegression(**params)

    # ----------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the C path in every fold, choose C, refit (or average).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training vectors; CSR matrices (float32 or float64, 32- or 64-bit
            indices) are used without a copy.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the fits; the test parts' weights also go to
            the scorer (as in scikit-learn without metadata routing).
        **params : dict
            Metadata for the splitter and the scorer; only with
            ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        self : LogisticRegressionCV
            The fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        with blas_threads(1):  # the folds may run in threads: one BLAS thread each
            return self._fit(X, y, sample_weight, params)

    def _fit(self, X, y, sample_weight, params):
        l1_ratios, fitted_ratios, scoring, legacy = self._check_options()
        Cs = _check_logistic_Cs(self.Cs)
        data = validate_classification_data(self, X, y, sample_weight,
                                            caller="LogisticRegressionCV.fit")
        classes = data.classes
        counts = np.bincount(data.y_ind, weights=data.sample_weight,
                             minlength=classes.shape[0])
        class_weight = None
        if self.class_weight is not None:
            # "balanced" is computed on the whole data, as scikit-learn does.
            weights = check_class_weight(self.class_weight, classes, counts)
            class_weight = dict(zip(classes.tolist(), weights.tolist(), strict=True))
        seed = _seed(self.random_state)
        # The solver's refusals (dual, liblinear on three classes, L1 with
        # lbfgs, ...) before any fold.
        for ratio in sorted(set(fitted_ratios)):
            self._logistic(class_weight, seed, l1_ratio=ratio)._resolved_solver(data)

        Xs = data.X.to_scipy()
        y_labels = classes[data.y_ind]
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params, score_params = routed.splitter.split, dict(routed.scorer.score)
        else:
            split_params, score_params = {}, {}
            if sample_weight is not None:
                score_params["sample_weight"] = data.sample_weight
        if scoring is None:
            # Accuracy, weighted by the test part's sample weights.
            scorer = _DirectScorer.wrap("accuracy", get_scorer("accuracy"))
            score_params = ({} if sample_weight is None
                            else {"sample_weight": data.sample_weight})
        else:
            scorer = _DirectScorer.wrap(scoring, _scorer_for_classes(get_scorer(scoring), classes))
        cv = check_cv(self.cv, y_labels, classifier=True)
        folds = _checked_splits(cv.split(Xs, y_labels, **split_params), Xs.shape[0],
                                "LogisticRegressionCV.fit")

        n_folds, n_l1 = len(folds), len(fitted_ratios)
        progress = None
        if self.verbose:
            progress = ProgressBar(n_folds * n_l1 * len(Cs), label="LogisticRegressionCV ")
        stop = new_stop_flag()
        # One job per (fold, l1 ratio): a path over the C grid, warm-started.
        jobs = [(k, ratio) for k in range(n_folds) for ratio in fitted_ratios]
        with warnings.catch_warnings():
            # Collected below into one warning naming the C values.
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = run(
                lambda job: self._fold_path(data, folds, job[0], job[1], Cs, scorer,
                                            score_params, class_weight, seed, progress,
                                            stop),
                jobs, _fold_threads(self.n_jobs, len(jobs)), stop,
            )

        def stack(i, dtype=None):
            """Item ``i`` of the jobs' results, shaped (n_folds, n_l1, n_Cs, ...)."""
            out = np.array([r[i] for r in results], dtype=dtype)
            return out.reshape(n_folds, n_l1, *out.shape[1:])

        paths = stack(0)  # (n_folds, n_l1, n_Cs, K, n_dof)
        scores = stack(1)  # (n_folds, n_l1, n_Cs)
        n_iter = stack(2, np.int32)
        times = stack(3)

        stuck = np.unique(Cs[np.any(n_iter >= self.max_iter, axis=(0, 1))])
        if stuck.size:
            warnings.warn(
                f"LogisticRegressionCV: the fits for C in {stuck.tolist()} stopped at "
                f"max_iter={self.max_iter} in at least one fold; their scores may not "
                "be those of the optimum. Increase max_iter, raise tol, or scale the "
                "features (StandardScaler / MaxAbsScaler).",
                ConvergenceWarning, stacklevel=2)

        n_features = data.X.n_cols
        # The grid flattened C-major, (C, l1 ratio): scikit-learn's order of ties.
        by_C = np.swapaxes(scores, 1, 2).reshape(n_folds, -1)
        if self.refit:
            best = _best(by_C.sum(axis=0), f"with scoring={self.scoring!r}")
            i_C, i_l1 = divmod(best, n_l1)
            C_ = Cs[i_C]
            l1_ratio_ = None if l1_ratios is None else l1_ratios[i_l1]
            # Started from the folds' mean coefficients at the best point, as
            # scikit-learn does; liblinear's solvers start from zero there.
            warm = self.solver != "liblinear"
            est = self._logistic(class_weight, seed, C=C_, l1_ratio=fitted_ratios[i_l1],
                                 n_jobs=self.n_jobs, verbose=int(self.verbose),
                                 warm_start=warm)
            w0 = paths[:, i_l1, i_C].mean(axis=0)
            est.classes_ = classes
            est.coef_ = w0[:, :n_features]
            est.intercept_ = w0[:, -1] if self.fit_intercept else np.zeros(w0.shape[0])
            with blas_threads(est._n_threads()):  # one fit, as LogisticRegression.fit's
                est._fit_validated(data, stop=stop)
            coef, intercept = est.coef_, est.intercept_
        else:
            bests = [divmod(_best(s, f"in fold {k + 1} with scoring={self.scoring!r}"), n_l1)
                     for k, s in enumerate(by_C)]
            w = np.mean([paths[k, i_l1, i_C] for k, (i_C, i_l1) in enumerate(bests)], axis=0)
            C_ = float(np.mean([Cs[i_C] for i_C, _ in bests]))
            l1_ratio_ = (float(np.mean([l1_ratios[i_l1] for _, i_l1 in bests]))
                         if self._penalty_fitted(fitted_ratios) == "elasticnet" else 0.0)
            coef = w[:, :n_features].astype(data.X.dtype)
            intercept = (w[:, -1] if self.fit_intercept else np.zeros(w.shape[0])).astype(
                data.X.dtype)
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(coef)
        self.intercept_ = intercept
        self.Cs_ = Cs
        self.l1_ratios_ = np.asarray([None] if l1_ratios is None else l1_ratios)
        self._set_paths(paths, scores, n_iter, C_, l1_ratio_, l1_ratios, legacy)
        self.cv_results_ = _cv_results(
            np.tile(Cs, n_l1), scores.reshape(n_folds, -1), times.reshape(n_folds, -1),
            n_iter.reshape(n_folds, -1))
        if l1_ratios is not None and n_l1 > 1:
            self.cv_results_["param_l1_ratio"] = np.repeat(
                np.asarray(l1_ratios, dtype=float), len(Cs))
        return self

    def _penalty_fitted(self, fitted_ratios):
        """The penalty's name in scikit-learn's terms, from the ratios fitted."""
        if self.penalty != "deprecated":
            return self.penalty
        ratios = np.asarray(fitted_ratios)
        return "l2" if np.all(ratios == 0) else "l1" if np.all(ratios == 1) else "elasticnet"

    def _fold_path(self, data, folds, k, l1_ratio, Cs, scorer, score_params, class_weight,
                   seed, progress, stop):
        """One fold and L1 share: the warm-started path over ``Cs`` in increasing order.

        Returns the coefficients (n_Cs, K, n_dof), scores, iterations and
        seconds per C, in the order of ``Cs``.
        """
        train, test = folds[k]
        train_data = _fold_training_data(
            data, train, f"LogisticRegressionCV.fit, fold {k + 1} of {len(folds)}")
        Xs = data.X.to_scipy()
        X_test, y_test = Xs[test], data.classes[data.y_ind[test]]
        test_params = _check_method_params(Xs, score_params, indices=test)
        n_classes, n_features = data.classes.shape[0], data.X.n_cols
        K = 1 if n_classes == 2 else n_classes
        coefs = np.zeros((len(Cs), K, n_features + int(self.fit_intercept)))
        scores = np.empty(len(Cs))
        n_iter = np.empty(len(Cs), dtype=np.int64)
        times = np.empty(len(Cs))
        est = self._logistic(class_weight, seed, l1_ratio=l1_ratio)
        for j in np.argsort(Cs, kind="stable"):
            start = time.perf_counter()
            est.C = float(Cs[j])
            est._fit_validated(train_data, stop=stop)
            times[j] = time.perf_counter() - start
            n_iter[j] = est.n_iter_[0]
            coef = est.coef_
            coefs[j, :, :n_features] = coef.toarray() if hasattr(coef, "toarray") else coef
            if self.fit_intercept:
                coefs[j, :, -1] = est.intercept_
            scores[j] = scorer(est, X_test, y_test, **test_params)
            if progress is not None:
                progress.update(1, f"C={Cs[j]:g}" + (f", l1_ratio={l1_ratio:g}"
                                                     if l1_ratio else ""))
        return coefs, scores, n_iter, times

    def _set_paths(self, paths, scores, n_iter, C_, l1_ratio_, l1_ratios, legacy):
        """``coefs_paths_``, ``scores_``, ``n_iter_``, ``C_``, ``l1_ratio_`` in
        scikit-learn's layouts, from ``paths`` (n_folds, n_l1, n_Cs, K, n_dof),
        ``scores`` and ``n_iter`` (n_folds, n_l1, n_Cs)."""
        K = paths.shape[3]
        if not legacy:
            self.coefs_paths_ = paths
            self.scores_ = scores
            self.n_iter_ = n_iter
            self.C_ = float(C_)
            if l1_ratios is None:
                self.l1_ratio_ = 1.0 if self.penalty == "l1" else 0.0
            else:
                self.l1_ratio_ = float(l1_ratio_)
            return
        keys = self.classes_[1:] if K == 1 else self.classes_
        if l1_ratios is None:
            per_class = [paths[:, 0, :, k] for k in range(K)]
            self.scores_ = {key: scores[:, 0].copy() for key in keys}
            self.n_iter_ = n_iter[None, :, 0]
        else:
            per_class = [np.swapaxes(paths[:, :, :, k], 1, 2) for k in range(K)]
            by_C = np.swapaxes(scores, 1, 2)
            self.scores_ = {key: by_C.copy() for key in keys}
            self.n_iter_ = np.swapaxes(n_iter, 1, 2)[None]
        self.coefs_paths_ = dict(zip(keys, per_class, strict=True))
        self.C_ = np.asarray([C_] * K)
        self.l1_ratio_ = np.asarray([l1_ratio_] * K)

    # ------------------------------------------------------------- predict
    predict_proba = LogisticRegression.predict_proba
    _proba_of = staticmethod(LogisticRegression._proba_of)
    predict_log_proba = LogisticRegression.predict_log_proba

    def score(self, X, y, sample_weight=None, **score_params):
        """Score with ``scoring`` (accuracy for None and the default).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the scorer.
        **score_params : dict
            Other metadata for the scorer; only with metadata routing enabled.

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        scorer = self._get_scorer()
        if _routing_enabled():
            routed = process_routing(self, "score", **score_params).scorer.score
        else:
            routed = ({} if score_params.get("sample_weight") is None
                      else {"sample_weight": score_params["sample_weight"]})
        return scorer(self, X, y, **routed)

    def get_metadata_routing(self):
        """Metadata routing of this object: ``fit`` to the splitter and the
        scorer, ``score`` to the scorer (scikit-learn's routing).

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=self.cv,
                 method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(scorer=self._get_scorer(),
                 method_mapping=MethodMapping().add(caller="score", callee="score")
                 .add(caller="fit", callee="score"))
        )
