"""LinearSVCCV and the warm-started C path: parity with the plain loop,
warm = cold objectives, attributes, delegation, bad input, persistence.

Small slices of a9a keep the module fast; the full-size figures are in
bench/bench_cv.py and in the demo test of tests/test_cli.py.
"""
import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_score
from sklearn.svm import LinearSVC as SkLinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlinear import LinearSVC, LinearSVCCV, linear_svc_objective
from fastlinear._validation import proved_csr
from fastlinear.model_selection import linear_svc_path

CS = (0.01, 0.1, 1.0, 10.0)
# The L1-loss dual needs far more passes at large C: stop its grids at 1.
GRID = {"squared_hinge": CS, "hinge": CS[:3]}


@pytest.fixture(scope="module")
def small(a9a):
    X, y, Xt, yt = a9a
    return X[:2000], y[:2000], Xt[:1000], yt[:1000]


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=6, n_classes=3, random_state=0
    )
    return sp.csr_matrix(X), y


def _plain_loop(make, X, y, Cs, cv=3, scoring="accuracy"):
    return np.array([cross_val_score(make(C), X, y, cv=cv, scoring=scoring) for C in Cs])


def _fold_scores(search):
    return np.array(
        [search.cv_results_[f"split{k}_test_score"] for k in range(search.n_splits_)]
    ).T


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
def test_scores_match_the_plain_loop(small, loss):
    """Fold by fold, the warm path scores what cross_val_score scores cold."""
    X, y, _, _ = small
    search = LinearSVCCV(Cs=GRID[loss], loss=loss, tol=1e-5, random_state=0).fit(X, y)
    loop = _plain_loop(
        lambda C: LinearSVC(C=C, loss=loss, tol=1e-5, max_iter=60000, random_state=0), X, y, GRID[loss]
    )
    n_test = len(y) // 3
    # Same optimum up to tol: at most a couple of borderline samples per fold differ.
    np.testing.assert_allclose(_fold_scores(search), loop, atol=2.5 / n_test)
    assert search.C_ == GRID[loss][int(np.argmax(loop.mean(axis=1)))]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], loop.mean(axis=1), atol=2 / n_test)


def test_scores_match_sklearn_liblinear(small):
    """The reference of the issue: sklearn's LinearSVC(dual=True, tol=1e-4)."""
    X, y, _, _ = small
    X32 = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape)
    search = LinearSVCCV(Cs=CS, random_state=0).fit(X, y)
    loop = _plain_loop(
        lambda C: SkLinearSVC(C=C, dual=True, tol=1e-4, max_iter=60000, random_state=0), X32, y, CS
    )
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], loop.mean(axis=1), atol=0.002)
    assert search.C_ == CS[int(np.argmax(loop.mean(axis=1)))]


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
def test_warm_and_cold_paths_reach_the_same_objective(small, loss):
    X, y, _, _ = small
    params = dict(loss=loss, dual=True, tol=1e-5, max_iter=100000, random_state=0)  # the dual rescale rule
    warm = [
        (C, linear_svc_objective(est, X, y)[0], est.n_iter_, np.abs(est.dual_coef_).max())
        for C, est in linear_svc_path(X, y, GRID[loss], **params)
    ]
    cold = [
        (C, linear_svc_objective(est, X, y)[0], est.n_iter_)
        for C, est in linear_svc_path(X, y, GRID[loss], warm_start=False, **params)
    ]
    for (C, obj_w, _, alpha_max), (C2, obj_c, _) in zip(warm, cold, strict=True):
        assert C == C2
        np.testing.assert_allclose(obj_w, obj_c, rtol=1e-4)
        if loss == "hinge":
            assert alpha_max <= C * (1 + 1e-12)  # the rescaled start stayed feasible
    if loss == "squared_hinge":
        # The point of the warm start: fewer passes over the whole path.  (For
        # the hinge loss on small data it can take more; see the module notes.)
        assert sum(w[2] for w in warm) < 0.8 * sum(c[2] for c in cold)


def test_path_matches_independent_fits(small):
    """Each step of the path equals a cold LinearSVC fit at that C (same objective)."""
    X, y, _, _ = small
    for C, est in linear_svc_path(X, y, [1.0, 0.1], tol=1e-5, random_state=0):
        cold = LinearSVC(C=C, tol=1e-5, random_state=0).fit(X, y)
        np.testing.assert_allclose(
            linear_svc_objective(est, X, y), linear_svc_objective(cold, X, y), rtol=1e-4
        )
        np.testing.assert_allclose(est.coef_, cold.coef_, atol=2e-3)


def test_attributes_and_delegation(small):
    X, y, Xt, yt = small
    search = LinearSVCCV(Cs=[1, 0.1, 0.01, 0.1], random_state=0).fit(X, y)
    np.testing.assert_array_equal(search.Cs_, [0.01, 0.1, 1.0])  # sorted, unique
    res = search.cv_results_
    for key in ("param_C", "mean_test_score", "std_test_score", "rank_test_score",
                "mean_fit_time", "std_fit_time", "mean_n_iter", "max_n_iter",
                "split0_test_score", "split2_n_iter"):
        assert res[key].shape == (3,), key
    assert search.n_splits_ == 3
    assert search.best_score_ == res["mean_test_score"][search.best_index_]
    assert search.C_ == search.Cs_[search.best_index_]
    assert res["rank_test_score"][search.best_index_] == 1
    assert np.all(res["mean_fit_time"] > 0) and np.all(res["max_n_iter"] >= 1)
    best = search.best_estimator_
    assert isinstance(best, LinearSVC) and best.C == search.C_
    refit = LinearSVC(C=search.C_, random_state=0).fit(X, y)
    np.testing.assert_allclose(search.coef_, refit.coef_)
    np.testing.assert_allclose(search.intercept_, refit.intercept_)
    np.testing.assert_array_equal(search.classes_, [-1.0, 1.0])
    np.testing.assert_array_equal(search.predict(Xt), refit.predict(Xt))
    np.testing.assert_allclose(search.decision_function(Xt), refit.decision_function(Xt))
    assert search.score(Xt, yt) == refit.score(Xt, yt)


def test_ties_go_to_the_smallest_C():
    # Separable, well-spread data: every C scores 1.0.
    X = np.array([[-2.0], [-1.5], [-1.0], [1.0], [1.5], [2.0]] * 5)
    y = np.array([0, 0, 0, 1, 1, 1] * 5)
    search = LinearSVCCV(Cs=[10, 1, 100], random_state=0).fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], 1.0)
    assert search.C_ == 1.0 and search.best_index_ == 0


def test_int_Cs_is_a_log_grid(small):
    X, y, _, _ = small
    search = LinearSVCCV(Cs=3, refit=False, random_state=0).fit(X[:300], y[:300])
    np.testing.assert_allclose(search.Cs_, [1e-4, 1.0, 1e4])


def test_n_jobs_does_not_change_results(small):
    """The folds' scores bit for bit; the refit too, unless it ran Newton,
    whose products with X split over the threads (equal to rounding)."""
    X, y, _, _ = small
    one = LinearSVCCV(Cs=CS, random_state=0, n_jobs=1).fit(X, y)
    for n_jobs in (2, -1):
        other = LinearSVCCV(Cs=CS, random_state=0, n_jobs=n_jobs).fit(X, y)
        np.testing.assert_array_equal(_fold_scores(one), _fold_scores(other))
        assert other.best_estimator_.solver_ == one.best_estimator_.solver_
        if "newton" in one.best_estimator_.solver_:
            np.testing.assert_allclose(one.coef_, other.coef_, rtol=1e-10,
                                       atol=1e-12 * np.abs(one.coef_).max())
        else:
            np.testing.assert_array_equal(one.coef_, other.coef_)


def test_splitter_scoring_and_sample_weight(small):
    X, y, _, _ = small
    cv = KFold(4, shuffle=True, random_state=1)
    search = LinearSVCCV(Cs=[0.1, 1], cv=cv, scoring="balanced_accuracy", tol=1e-5,
                         random_state=0, refit=False).fit(X, y)
    loop = _plain_loop(lambda C: LinearSVC(C=C, tol=1e-5, random_state=0), X, y,
                       [0.1, 1], cv=cv, scoring="balanced_accuracy")
    assert search.n_splits_ == 4
    np.testing.assert_allclose(_fold_scores(search), loop, atol=0.01)
    # A weight of 2 on every sample is the problem at 2C.
    doubled = LinearSVCCV(Cs=[0.05, 0.5], tol=1e-5, random_state=0).fit(X, y, sample_weight=np.full(len(y), 2.0))
    plain = LinearSVCCV(Cs=[0.1, 1], tol=1e-5, random_state=0).fit(X, y)
    np.testing.assert_allclose(doubled.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=2 / (len(y) // 3))


@pytest.mark.parametrize("data", ["small", "multiclass"])
def test_accuracy_is_scikit_learns_metric_bit_for_bit(data, request):
    """Accuracy (the default and by name) is computed from the predictions
    without the metric's input checks: the scores are accuracy_score's."""
    from sklearn.metrics import accuracy_score, make_scorer

    X, y = request.getfixturevalue(data)[:2]
    fits = [LinearSVCCV(Cs=[0.01, 0.1, 1], scoring=scoring, tol=1e-3, random_state=0).fit(X, y)
            for scoring in (None, "accuracy", make_scorer(accuracy_score))]
    for fit in fits[:2]:
        np.testing.assert_array_equal(_fold_scores(fit), _fold_scores(fits[2]))


@pytest.mark.parametrize("scoring", [None, "accuracy"])
def test_empty_test_part_gets_the_metrics_error(scoring):
    X, y = make_classification(90, 5, random_state=0)
    rows = np.arange(90)
    cv = [(rows[:60], rows[60:]), (rows[30:], np.array([], dtype=int))]
    with pytest.raises(ValueError, match="0 sample"):
        LinearSVCCV(Cs=[0.1, 1], cv=cv, scoring=scoring).fit(X, y)


def test_multiclass_matches_the_loop(multiclass):
    X, y = multiclass
    search = LinearSVCCV(Cs=[0.01, 0.1, 1], tol=1e-5, random_state=0).fit(X, y)
    loop = _plain_loop(lambda C: LinearSVC(C=C, tol=1e-5, random_state=0), X, y, [0.01, 0.1, 1])
    np.testing.assert_allclose(_fold_scores(search), loop, atol=0.011)
    assert search.coef_.shape == (3, 10)
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])


def test_refit_false(small):
    X, y, Xt, _ = small
    search = LinearSVCCV(Cs=[0.1, 1], refit=False, random_state=0).fit(X, y)
    assert search.C_ in (0.1, 1.0)
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "coef_")
    with pytest.raises(AttributeError, match="refit=False"):
        search.predict(Xt)


def test_convergence_warning_names_the_Cs(small):
    X, y, _, _ = small
    with pytest.warns(ConvergenceWarning, match=r"C in \[.*10\.0\].*max_iter=2"):
        LinearSVCCV(Cs=[0.01, 10], max_iter=2, refit=False, random_state=0).fit(X, y)


def test_float32_and_dense_input(small):
    X, y, Xt, _ = small
    search32 = LinearSVCCV(Cs=[0.1], random_state=0).fit(X.astype(np.float32), y)
    assert search32.coef_.dtype == np.float32
    dense = LinearSVCCV(Cs=[0.1], random_state=0).fit(X[:500].toarray(), y[:500])
    sparse = LinearSVCCV(Cs=[0.1], random_state=0).fit(X[:500], y[:500])
    np.testing.assert_allclose(dense.coef_, sparse.coef_)


def test_does_not_mutate_input(small):
    X, y, _, _ = small
    X = X[:600].copy()
    y = y[:600].copy()
    sw = np.ones(600)
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy(), y.copy(), sw.copy())
    LinearSVCCV(Cs=[0.1, 1], random_state=0).fit(X, y, sample_weight=sw)
    for a, b in zip(before, (X.data, X.indices, X.indptr, y, sw), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"Cs": [0.1, -1]}, ValueError, "Every value of Cs must be a finite float > 0"),
        ({"Cs": []}, ValueError, "Cs is empty"),
        ({"Cs": [0.1, np.nan]}, ValueError, "finite float > 0"),
        ({"Cs": 0}, ValueError, "'Cs' parameter of LinearSVCCV"),
        ({"Cs": "abc"}, ValueError, "'Cs' parameter of LinearSVCCV"),
        ({"tol": -1}, ValueError, "'tol' parameter of LinearSVCCV must be a float"),
        ({"cv": 1}, ValueError, "'cv' parameter of LinearSVCCV"),
        ({"scoring": "no_such_scorer"}, ValueError, "'scoring' parameter of LinearSVCCV"),
        ({"loss": "log"}, ValueError, "'loss' parameter of LinearSVCCV"),
    ],
)
def test_bad_parameters(small, params, error, match):
    X, y, _, _ = small
    with pytest.raises(error, match=match):
        LinearSVCCV(**params).fit(X[:300], y[:300])


def test_bad_data(small):
    X, y, _, _ = small
    Xd = X[:300].toarray()
    Xd[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LinearSVCCV(Cs=[1]).fit(Xd, y[:300])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearSVCCV(Cs=[1]).fit(X[:300], y[:200])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        LinearSVCCV(Cs=[1]).fit(X[:300], y[:300], sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="Unknown label type"):
        LinearSVCCV(Cs=[1]).fit(X[:300], np.linspace(0, 1, 300))
    search = LinearSVCCV(Cs=[1], random_state=0).fit(X[:300], y[:300])
    with pytest.raises(ValueError, match="features"):
        search.predict(X[:10, :50])


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(small, tmp_path, dump):
    X, y, Xt, _ = small
    for est in (LinearSVCCV(Cs=[0.1, 1], random_state=0).fit(X, y),
                LinearSVC(C=0.1, random_state=0).fit(X, y)):
        path = tmp_path / "model.bin"
        if dump == "pickle":
            path.write_bytes(pickle.dumps(est))
            back = pickle.loads(path.read_bytes())
        else:
            joblib.dump(est, path)
            back = joblib.load(path)
        np.testing.assert_array_equal(back.predict(Xt), est.predict(Xt))
        np.testing.assert_array_equal(back.coef_, est.coef_)


def test_path_yields_one_estimator_refitted(small):
    X, y, _, _ = small
    steps = [(C, copy.deepcopy(est), est) for C, est in linear_svc_path(X[:300], y[:300], [0.1, 1], random_state=0)]
    assert steps[0][2] is steps[1][2]
    assert [s[0] for s in steps] == [0.1, 1.0]
    assert not np.allclose(steps[0][1].coef_, steps[1][1].coef_)


def _expected_failures(estimator):
    # check_sample_weight_equivalence passes since the squared hinge's primal
    # Newton steps on few features are exact (weights and repeated rows
    # agree to rounding, not to tol).
    return {}


@parametrize_with_checks(
    [LinearSVCCV(Cs=[0.1, 1], cv=2, max_iter=2000, random_state=0)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_auto_dual_switches_to_the_primal_for_large_C_and_agrees():
    """dual="auto" uses the primal Newton solver where C * mean||x||^2 is large,
    with the same CV scores and C* as the all-dual path."""
    from fastlinear._solvers import prefer_primal, primal_threshold
    from fastlinear.datasets import load_a9a

    X, y, _, _ = load_a9a()
    X, y = X[:4000], y[:4000]
    P = proved_csr(X)
    mean_sq = P.sq_sum / P.n_rows + 1.0  # 14.9 on a9a: the rule is C * 14.9 > 2 (123 features)
    edge = primal_threshold(P.n_cols) / mean_sq
    assert not prefer_primal(P, 0.5 * edge, "squared_hinge", 1.0)
    assert prefer_primal(P, 2.0 * edge, "squared_hinge", 1.0)
    assert prefer_primal(P, 100.0, "squared_hinge", 1.0)
    assert not prefer_primal(P, 100.0, "hinge", 1.0)
    auto = LinearSVCCV(Cs=(0.1, 1, 100), random_state=0).fit(X, y)
    dual = LinearSVCCV(Cs=(0.1, 1, 100), dual=True, random_state=0).fit(X, y)
    assert auto.C_ == dual.C_
    np.testing.assert_allclose(
        auto.cv_results_["mean_test_score"], dual.cv_results_["mean_test_score"], atol=2e-3
    )
    # The primal fits take a handful of Newton steps, the dual thousands of passes.
    assert auto.cv_results_["max_n_iter"][-1] < 100 < dual.cv_results_["max_n_iter"][-1]


def test_cv_folds_are_checked_before_the_fits():
    """A fold of zero weights was scored without a fit (n_iter 0, no warning);
    bad indices gave a bare IndexError; Cs=True was the grid [1.0]."""
    from fastlinear import LogisticRegressionCV

    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = (X[:, 0] > 0).astype(int)
    idx = np.arange(200)
    sw = np.ones(200)
    sw[:100] = 0
    with pytest.raises(ValueError, match="fold 1 of 1: every sample of the training part has "
                                         "weight 0"):
        LinearSVCCV(Cs=[0.1, 1], cv=[(idx[:100], idx[100:])]).fit(X, y, sample_weight=sw)
    for make in (LinearSVCCV, LogisticRegressionCV):
        with pytest.raises(ValueError, match="the test part of fold 1 of cv holds the index "
                                             "1000, outside the 200 samples"):
            make(Cs=[1.0], cv=[(idx[:150], np.array([1000]))]).fit(X, y)
        with pytest.raises(ValueError, match="the training part of fold 1 of cv is float64 of "
                                             "shape \\(150,\\); expected a 1-D array of integer"):
            make(Cs=[1.0], cv=[(idx[:150].astype(float), idx[150:])]).fit(X, y)
    mask = np.zeros(200, dtype=bool)
    mask[::2] = True
    by_mask = LinearSVCCV(Cs=[1.0], cv=[(mask, ~mask)], random_state=0).fit(X, y)
    by_index = LinearSVCCV(Cs=[1.0], cv=[(idx[::2], idx[1::2])], random_state=0).fit(X, y)
    assert by_mask.cv_results_["mean_test_score"] == by_index.cv_results_["mean_test_score"]
    with pytest.raises(TypeError, match="Cs=True: Cs is an int .* not a bool"):
        LinearSVCCV(Cs=True).fit(X, y)
