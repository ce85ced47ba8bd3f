"""LogisticRegressionCV as scikit-learn's: parity of scores, paths and choices,
both attribute layouts, refit=False, weights, warnings, warm-started paths,
bad input.

The reference is ``sklearn.linear_model.LogisticRegressionCV`` with its exact
``solver="newton-cholesky"`` at a tight ``tol``, so that both sides stop next
to the same optima and their scores agree to ~1e-8.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sklm
from _reference_glmnet import objective as reference_objective
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.preprocessing import scale
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlinear import LogisticRegression, LogisticRegressionCV

#: Explicit values of the parameters whose defaults warn (scikit-learn 1.9).
QUIET = dict(l1_ratios=(0.0,), scoring="accuracy", use_legacy_attributes=False)
TIGHT = dict(tol=1e-10, max_iter=200)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return scale(X), y


@pytest.fixture(scope="module")
def binary():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X), y


def _pair(X, y, *, sample_weight=None, **params):
    """(fastlinear's, scikit-learn's) LogisticRegressionCV fitted alike."""
    ours = LogisticRegressionCV(**params).fit(X, y, sample_weight=sample_weight)
    ref = sklm.LogisticRegressionCV(solver="newton-cholesky", **params)
    return ours, ref.fit(X, y, sample_weight=sample_weight)


def _same_layout(ours, ref, names):
    """Check that each attribute has scikit-learn's type and shape (dicts:
    the same keys, each value's shape); yield ``(name, ours, ref)`` with
    dicts stacked into arrays."""
    for name in names:
        a, b = getattr(ours, name), getattr(ref, name)
        assert type(a) is type(b), name
        if isinstance(b, dict):
            assert list(a) == list(b), name
            for key in b:
                assert a[key].shape == b[key].shape, (name, key)
            a, b = np.stack(list(a.values())), np.stack(list(b.values()))
        assert np.shape(a) == np.shape(b), name
        yield name, a, b


# ------------------------------------------------------------ parity


@pytest.mark.parametrize("data", ["iris", "binary"])
@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
def test_matches_scikit_learn(data, scoring, request):
    X, y = request.getfixturevalue(data)
    ours, ref = _pair(X, y, Cs=8, cv=4, **{**QUIET, "scoring": scoring}, **TIGHT)
    assert ours.C_ == ref.C_
    np.testing.assert_allclose(ours.Cs_, ref.Cs_)
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=0, atol=1e-6)
    scale_ = np.abs(ref.coefs_paths_).max()
    np.testing.assert_allclose(ours.coefs_paths_, ref.coefs_paths_, rtol=0, atol=1e-6 * scale_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)


def test_the_refit_is_logistic_regression_at_C_(binary):
    X, y = binary
    search = LogisticRegressionCV(Cs=5, cv=3, **QUIET, **TIGHT).fit(X, y)
    single = LogisticRegression(C=search.C_, **TIGHT).fit(X, y)
    np.testing.assert_allclose(search.coef_, single.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(search.intercept_, single.intercept_, rtol=1e-7, atol=1e-10)


def test_paths_are_the_fold_optima(iris):
    """Each warm-started path point is LogisticRegression's optimum on that fold."""
    X, y = iris
    search = LogisticRegressionCV(Cs=[10.0, 0.01, 1.0], cv=3, **QUIET, **TIGHT).fit(X, y)
    np.testing.assert_array_equal(search.Cs_, [10.0, 0.01, 1.0])  # the order given
    for k, (train, _) in enumerate(StratifiedKFold(3).split(X, y)):
        for j, C in enumerate(search.Cs_):
            cold = LogisticRegression(C=C, **TIGHT).fit(X[train], y[train])
            w = search.coefs_paths_[k, 0, j]
            np.testing.assert_allclose(w[:, :-1], cold.coef_, rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(w[:, -1], cold.intercept_, rtol=1e-6, atol=1e-9)


def test_warm_path_takes_fewer_newton_steps_than_cold_fits(binary):
    X, y = binary
    Cs = np.logspace(-3, 3, 7)
    search = LogisticRegressionCV(Cs=Cs, cv=3, solver="newton-cg", **QUIET).fit(X, y)
    cold = [[LogisticRegression(C=C, solver="newton-cg").fit(X[tr], y[tr]).n_iter_[0] for C in Cs]
            for tr, _ in StratifiedKFold(3).split(X, y)]
    assert search.n_iter_.sum() < np.sum(cold)


# ----------------------------------------------------------- layouts


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("l1_ratios", [None, (0.0,)])
@pytest.mark.parametrize("refit", [True, False])
def test_attributes_have_scikit_learns_layout(n_classes, legacy, l1_ratios, refit):
    X, y = make_classification(n_samples=120, n_features=5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=0)
    params = dict(Cs=4, cv=3, l1_ratios=l1_ratios, use_legacy_attributes=legacy, refit=refit,
                  scoring="neg_log_loss", **TIGHT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # l1_ratios=None is deprecated
        ours, ref = _pair(X, y, **params)
    for name, a, b in _same_layout(ours, ref, ("coefs_paths_", "scores_")):
        if isinstance(getattr(ref, name), dict):
            np.testing.assert_allclose(a, b, atol=1e-5 * max(1, np.abs(b).max()), err_msg=name)
    list(_same_layout(ours, ref, ("n_iter_", "C_", "l1_ratio_", "l1_ratios_", "Cs_", "coef_",
                                  "intercept_")))
    np.testing.assert_array_equal(ours.l1_ratios_, ref.l1_ratios_)
    if isinstance(ref.l1_ratio_, float) or ref.l1_ratio_.dtype != object:
        np.testing.assert_array_equal(ours.l1_ratio_, ref.l1_ratio_)
    np.testing.assert_allclose(ours.C_, ref.C_)
    assert ours.n_iter_.dtype == np.int32


@pytest.mark.parametrize("data", ["iris", "binary"])
def test_refit_false_averages_the_folds_best_coefficients(data, request):
    X, y = request.getfixturevalue(data)
    ours, ref = _pair(X, y, Cs=6, cv=3, refit=False, **QUIET, **TIGHT)
    scores = ours.scores_[:, 0]
    best = scores.argmax(axis=1)
    w = np.mean([ours.coefs_paths_[k, 0, b] for k, b in enumerate(best)], axis=0)
    np.testing.assert_allclose(ours.coef_, w[:, :-1])
    np.testing.assert_allclose(ours.intercept_, w[:, -1])
    assert ours.C_ == pytest.approx(np.mean(ours.Cs_[best]))
    assert ours.C_ == pytest.approx(ref.C_)
    assert ours.l1_ratio_ == ref.l1_ratio_ == 0.0
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------- weights


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.2, 1: 1.0, 2: 3.0}])
def test_class_weight_as_scikit_learn(iris, class_weight):
    """"balanced" is computed once on all the data, then fixed in every fold."""
    X, y = iris
    keep = np.r_[0:50, 50:80, 100:150]  # unbalanced classes
    ours, ref = _pair(X[keep], y[keep], Cs=5, cv=3, class_weight=class_weight,
                      **{**QUIET, "scoring": "neg_log_loss"}, **TIGHT)
    np.testing.assert_allclose(ours.scores_, ref.scores_, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert ours.C_ == ref.C_


def test_sample_weight_weighs_the_fits_and_the_scores(binary):
    X, y = binary
    sw = np.random.RandomState(0).randint(0, 4, size=y.shape[0]).astype(float)
    sw_before = sw.copy()
    ours, ref = _pair(X, y, sample_weight=sw, Cs=5, cv=3, **QUIET, **TIGHT)
    np.testing.assert_array_equal(sw, sw_before)
    np.testing.assert_allclose(ours.scores_, ref.scores_, atol=1e-6)
    # The refit at C = 1e4 stops on the gradient test within tol: scikit-learn's
    # 6e-6 from the optimum (coefficients up to 60), fastlinear's 1e-8.
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-5)
    unweighted = LogisticRegressionCV(Cs=5, cv=3, **QUIET, **TIGHT).fit(X, y)
    assert not np.allclose(unweighted.scores_, ours.scores_)


# ----------------------------------------------- folds, scorers, threads


def test_fold_missing_a_class_is_fitted_as_scikit_learn(iris):
    """KFold on sorted labels: every training part lacks a class; the model keeps it."""
    X, y = iris
    params = dict(Cs=[0.1, 1.0], cv=KFold(3), **{**QUIET, "scoring": "neg_log_loss"}, **TIGHT)
    ours, ref = _pair(X, y, **params)
    assert ours.coefs_paths_.shape == ref.coefs_paths_.shape == (3, 1, 2, 3, 5)
    # The absent class has no finite optimum (its intercept runs to -inf): both
    # fits stop on the gradient test, and the test fold (that class) scores
    # where the last Newton step landed: the paths differ, 4e-3 apart.
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weights", [None, "float", "int"])
def test_named_scores_are_scikit_learns_metrics_bit_for_bit(dtype, n_classes, weights):
    """``accuracy`` and ``neg_log_loss`` are computed from the predictions
    without the metric's input checks; the scores are the metric's own, to
    the bit, in both dtypes, with weights, and with a test part that lacks a
    class (KFold on sorted labels)."""
    from sklearn.metrics import accuracy_score, log_loss, make_scorer

    X, y = make_classification(240, 8, n_informative=5, n_classes=n_classes,
                               random_state=0)
    X = X.astype(dtype)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    sw = None
    if weights is not None:
        sw = np.random.RandomState(1).randint(0, 4, size=y.shape[0])
        sw = sw.astype(float) if weights == "float" else sw
    references = {
        "neg_log_loss": make_scorer(log_loss, greater_is_better=False,
                                    response_method="predict_proba",
                                    labels=np.arange(n_classes)),
        "accuracy": make_scorer(accuracy_score),
    }
    for cv in (3, KFold(4)):
        for name, reference in references.items():
            params = dict(Cs=3, cv=cv, l1_ratios=(0.0,), use_legacy_attributes=False,
                          random_state=0)
            named = LogisticRegressionCV(scoring=name, **params).fit(X, y, sample_weight=sw)
            called = LogisticRegressionCV(scoring=reference, **params).fit(
                X, y, sample_weight=sw)
            np.testing.assert_array_equal(named.coefs_paths_, called.coefs_paths_)
            np.testing.assert_array_equal(named.scores_, called.scores_)


@pytest.mark.parametrize("scoring", [None, "accuracy", "neg_log_loss"])
def test_empty_test_part_gets_the_metrics_error(scoring):
    """The direct scores hand an empty test part to scikit-learn's scorer,
    whose error names the problem (not "every score is NaN")."""
    X, y = make_classification(90, 5, random_state=0)
    rows = np.arange(90)
    cv = [(rows[:60], rows[60:]), (rows[30:], np.array([], dtype=int))]
    with pytest.raises(ValueError, match="0 sample"):
        LogisticRegressionCV(Cs=3, cv=cv, scoring=scoring, use_legacy_attributes=False).fit(X, y)


def test_callable_scorer_and_splits_iterable(binary):
    X, y = binary
    calls = []

    def scorer(est, X_test, y_test):
        C = getattr(est, "C_", None) or est.C  # the search itself in score()
        calls.append(C)
        return -abs(np.log10(C) - 1)  # prefers C = 10

    folds = list(StratifiedKFold(2).split(X, y))
    search = LogisticRegressionCV(Cs=[0.1, 10.0, 1.0], cv=folds, scoring=scorer,
                                  l1_ratios=(0,), use_legacy_attributes=False).fit(X, y)
    assert search.C_ == 10.0
    assert calls == [0.1, 1.0, 10.0] * 2  # each fold visits C increasingly
    assert search.score(X, y) == 0.0 and calls[-1] == 10.0


def test_threads_give_the_same_result(iris):
    X, y = iris
    one = LogisticRegressionCV(Cs=5, cv=4, n_jobs=None, **QUIET).fit(X, y)
    two = LogisticRegressionCV(Cs=5, cv=4, n_jobs=-1, **QUIET).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(one.coefs_paths_, two.coefs_paths_, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(one.scores_, two.scores_)
    assert one.C_ == two.C_


def test_convergence_warning_once_naming_the_Cs(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"LogisticRegressionCV: the fits for C in") as record:
        LogisticRegressionCV(Cs=[1.0, 100.0], cv=3, max_iter=1, **QUIET).fit(X, y)
    from_folds = [w for w in record if "LogisticRegressionCV" in str(w.message)]
    assert len(from_folds) == 1


# ----------------------------------------------------------- warnings


def test_defaults_warn_as_scikit_learn(binary):
    X, y = binary
    with pytest.warns(FutureWarning) as record:
        LogisticRegressionCV(Cs=2, cv=2).fit(X, y)
    messages = " | ".join(str(w.message) for w in record)
    assert "default value for l1_ratios" in messages
    assert "parameter 'scoring' will change" in messages
    assert "use_legacy_attributes will change" in messages
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegressionCV(Cs=2, cv=2, **QUIET).fit(X, y)
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        LogisticRegressionCV(Cs=2, cv=2, penalty="l2", **QUIET).fit(X, y)


def test_parameters_are_scikit_learns():
    ours, ref = LogisticRegressionCV().get_params(), sklm.LogisticRegressionCV().get_params()
    assert set(ours) - set(ref) == {"parametrization"}
    differ = {key for key in ref if ours[key] != ref[key]}
    assert differ == {"solver"}  # "auto": the exact solver "lbfgs" stands for here


# ----------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"l1_ratios": (0.5, 1.5)}, ValueError, r"between 0 and 1; got \(l1_ratios=\(0.5, 1.5\)\)"),
        ({"l1_ratios": None, "penalty": "elasticnet"}, ValueError, "between 0 and 1"),
        ({"l1_ratios": (1,), "solver": "lbfgs"}, ValueError,
         "Solver lbfgs supports only 'l2' or None penalties"),
        ({"l1_ratios": (0.5,), "solver": "liblinear"}, ValueError,
         "Only 'saga' solver supports elasticnet penalty"),
        ({"l1_ratios": (1,), "solver": "liblinear", "dual": True}, ValueError,
         "penalty='l1'.*dual=True"),
        ({"l1_ratios": ()}, ValueError, "non-empty 1-D sequence"),
        ({"Cs": [-1.0, 1.0]}, ValueError, r"in \(0, inf\]"),
        ({"Cs": []}, ValueError, "non-empty"),
        ({"Cs": 0}, ValueError, "'Cs' parameter of LogisticRegressionCV"),
        ({"dual": True}, ValueError, "supports only dual=False"),
        ({"solver": "newton"}, ValueError, "'solver' parameter of LogisticRegressionCV"),
        ({"scoring": "no_such_score"}, ValueError, "'scoring' parameter"),
    ],
)
def test_bad_parameters(binary, params, error, match):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(error, match=match):
            LogisticRegressionCV(**{**QUIET, **params}).fit(X[:100], y[:100])


def test_bad_data(iris):
    X, y = iris
    with pytest.raises(ValueError, match="does not support multiclass"):
        LogisticRegressionCV(solver="liblinear", **QUIET).fit(X, y)
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        LogisticRegressionCV(**QUIET).fit(X, y, groups=np.arange(len(y)))
    with pytest.raises(ValueError, match="fold 1 of 3: every sample of the training part has weight 0"):
        LogisticRegressionCV(cv=KFold(3), **QUIET).fit(X, y, sample_weight=np.r_[np.ones(50), np.zeros(100)])
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegressionCV(**QUIET).fit(X, np.zeros(len(y)))


# --------------------------------------------------- scikit-learn contract


# tol=1e-8: weights and repeated rows then agree to check_sample_weight_equivalence's 1e-7.
@parametrize_with_checks([LogisticRegressionCV(Cs=[0.1, 1], cv=2, tol=1e-8, **QUIET)])
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_the_folds_threads():
    """SIGINT 2 s into a search whose folds run in threads: it stops, unfitted,
    and no fold keeps computing.  (Each fit at ``tol=1e-300`` ends on
    rounding after about a second; eight Cs per fold keep the search running
    well past the signal.)"""
    import textwrap

    from test_interrupt import CHILD, STOP_WITHIN, _interrupt  # the estimators' Ctrl-C harness

    code = textwrap.dedent(CHILD).format(
        data="X = sp.csr_matrix(rng.randn(20000, 20) @ rng.randn(20, 300) + 1e-3 * rng.randn(20000, 300))",
        classes=2,
        setup=("from fastlinear import LogisticRegressionCV\n"
               "est = LogisticRegressionCV(Cs=np.logspace(4, 11, 8), cv=2, n_jobs=2, solver='newton-cg',\n"
               "    tol=1e-300,"
               "    max_iter=10**6, l1_ratios=(0,), scoring='accuracy', use_legacy_attributes=False)"),
    )
    out, elapsed, err = _interrupt(code)
    assert out.startswith("interrupted"), (out, err)
    _, fitted, cpu_after = out.split()
    assert elapsed - 1.0 <= STOP_WITHIN, elapsed
    assert fitted == "False"
    assert float(cpu_after) < 0.35


# ------------------------------------------------------- L1 and elastic net


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("refit", [True, False])
def test_l1_ratios_search_is_scikit_learns_saga_search(n_classes, legacy, refit):
    """Scores, paths, the chosen (C, l1 ratio) and every attribute's layout
    equal scikit-learn's saga run to a tight tolerance."""
    X, y = make_classification(n_samples=90, n_features=5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=1)
    X = scale(X)
    # (an array: scikit-learn 1.9's refit=False indexes l1_ratios with an array)
    params = dict(Cs=(0.2, 1.0, 5.0), cv=3, l1_ratios=np.array([0.5, 1.0]),
                  use_legacy_attributes=legacy,
                  refit=refit, scoring="neg_log_loss", solver="saga")
    ours = LogisticRegressionCV(tol=1e-10, max_iter=500, **params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = sklm.LogisticRegressionCV(tol=1e-9, max_iter=20_000, random_state=0,
                                        **params).fit(X, y)
    for name, a, b in _same_layout(ours, ref, ("coefs_paths_", "scores_", "n_iter_", "C_",
                                               "l1_ratio_", "l1_ratios_", "Cs_", "coef_",
                                               "intercept_")):
        if name == "coefs_paths_":
            # The weights only: saga leaves the intercepts of the most
            # penalised multinomial points up to 1e-2 from the optimum
            # (equal classes and zero weights: equal intercepts, which
            # fastlinear finds), where the scores do not show it.
            a, b = a[..., :-1], b[..., :-1]
        if name == "intercept_" and n_classes > 2:
            a, b = a - np.mean(a), b - np.mean(b)  # free up to a common shift
        if name in ("coefs_paths_", "scores_", "coef_", "intercept_"):
            np.testing.assert_allclose(a, b, atol=2e-5 * max(1.0, np.abs(b).max()), err_msg=name)
        elif name != "n_iter_":
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                       err_msg=name)


def test_l1_ratios_path_equals_cold_fits_and_the_refit_is_the_best_point(binary):
    """Every warm-started (fold, l1 ratio, C) point is the cold fit's score;
    the refit is the cold fit at the best point."""
    X, y = binary
    X, y = X[:200], y[:200]
    Cs, ratios = (0.01, 0.1, 1.0), (0.3, 1.0)
    folds = list(StratifiedKFold(3).split(X, y))
    search = LogisticRegressionCV(Cs=Cs, cv=folds, l1_ratios=ratios, tol=1e-10, max_iter=500,
                                  scoring="neg_log_loss", use_legacy_attributes=False).fit(X, y)
    assert search.scores_.shape == (3, 2, 3)
    for j, ratio in enumerate(ratios):
        for i, C in enumerate(Cs):
            cold = LogisticRegression(C=C, l1_ratio=ratio, tol=1e-10, max_iter=500)
            expected = cross_val_score(cold, X, y, cv=folds, scoring="neg_log_loss")
            np.testing.assert_allclose(search.scores_[:, j, i], expected, rtol=1e-7)
    j, i = np.unravel_index(np.argmax(search.scores_.sum(axis=0)), (2, 3))
    assert (search.C_, search.l1_ratio_) == (Cs[i], ratios[j])
    best = LogisticRegression(C=Cs[i], l1_ratio=ratios[j], tol=1e-10, max_iter=500).fit(X, y)
    np.testing.assert_allclose(search.coef_, best.coef_, atol=1e-6)
    assert np.count_nonzero(search.coefs_paths_[:, :, 0, 0, :-1]) < search.coefs_paths_[
        :, :, 0, 0, :-1].size  # the smallest C leaves weights at 0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_l1_search_transposes_each_folds_rows_once(monkeypatch, binary, iris, n_classes):
    """The L1 solvers read X by columns; a fold's path over the Cs shares one
    transposed copy of its rows (3 folds and the refit: 4 copies, not one
    per fit)."""
    from fastlinear import _validation

    X, y = binary if n_classes == 2 else iris
    made = []
    original = _validation.transpose
    monkeypatch.setattr(_validation, "transpose",
                        lambda X, caller: made.append(X.n_rows) or original(X, caller=caller))
    search = LogisticRegressionCV(Cs=4, cv=3, l1_ratios=(1,), tol=1e-6,
                                  use_legacy_attributes=False).fit(X, y)
    assert len(made) == 4 and made[-1] == X.shape[0]
    assert search.n_iter_.size == 3 * 4


def test_l1_liblinear_search_fits_liblinears_problem(binary):
    """solver="liblinear" with l1_ratios=(1,): every point is liblinear's
    -s 6 fit (penalised intercept), as scikit-learn's liblinear search."""
    X, y = binary
    X, y = X[:200], y[:200]
    params = dict(Cs=(0.1, 1.0), cv=3, l1_ratios=(1,), solver="liblinear", tol=1e-8,
                  scoring="neg_log_loss", use_legacy_attributes=False)
    ours = LogisticRegressionCV(**params).fit(X, y)
    # liblinear's -s 6 stops on a gradient test relative to its start, so its
    # coefficients move by ~1e-4 with the order of its coordinates: compare the
    # objective of the refit, which is what both sides minimise.
    ref = sklm.LogisticRegressionCV(random_state=0, **params).fit(X, y)
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-5)
    assert ours.C_ == ref.C_

    def objective(est):  # -s 6's: the bias feature 1, its weight penalised
        w = np.append(est.coef_[0], est.intercept_[0])
        cost = np.full(y.shape[0], np.ravel(est.C_)[0])
        return reference_objective(X, np.where(y == 1, 1.0, -1.0), cost, w, bias=1.0,
                                   l1=1.0, l2=0.0, reg_bias=True)

    assert objective(ours) <= objective(ref) * (1 + 1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3)
