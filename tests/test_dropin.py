"""LinearSVC as a drop-in for scikit-learn's: its defaults, penalties, multi-class modes.

scikit-learn's own test modules run against fastlinear in
``test_sklearn_suite.py``; this module checks what they leave out: which
solver ``dual="auto"`` picks and that every solver reaches scikit-learn's
objective, ``penalty="l1"`` feature selection, Crammer-Singer, ``sparsify``,
and the ``n_iter_`` / warning contract of every solver.
"""
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC, LinearSVCCV, linear_svc_objective
from fastlinear._solvers import NARROW_FEATURES, PRIMAL_THRESHOLD, choose_solver, primal_threshold
from fastlinear._validation import proved_csr
from fastlinear.model_selection import linear_svc_path


def quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def mean_sq(X, bias=1.0):
    """``mean ||x~_i||^2``: the scale the ``dual="auto"`` rule multiplies C by."""
    return X.multiply(X).sum() / X.shape[0] + bias * bias


# --------------------------------------------------------------------------
# dual="auto": which solver, and the same optimum whichever it picks


def test_auto_rule_follows_c_times_row_norms(sparse_problem):
    X, y = sparse_problem(n_samples=600, n_features=300, seed=1)
    C_edge = primal_threshold(X.shape[1]) / mean_sq(X)
    below = LinearSVC(C=0.5 * C_edge).fit(X, y)
    above = LinearSVC(C=2.0 * C_edge).fit(X, y)
    assert below.solver_ in ("dual_cd", "dual_cd+newton")  # the dual first
    assert above.solver_ == "newton"
    # Wide data: the dual, whatever C.
    Xw, yw = sparse_problem(n_samples=200, n_features=400, seed=2)
    assert LinearSVC(C=100.0 * PRIMAL_THRESHOLD / mean_sq(Xw)).fit(Xw, yw).solver_ in (
        "dual_cd", "dual_cd+newton")
    # More features than NARROW_FEATURES: the higher threshold (Newton's
    # conjugate gradients need more steps).
    assert primal_threshold(NARROW_FEATURES + 1) == PRIMAL_THRESHOLD > primal_threshold(NARROW_FEATURES)
    Xt, yt = sparse_problem(n_samples=3000, n_features=NARROW_FEATURES + 500, density=0.005, seed=3)
    between = 0.5 * (primal_threshold(NARROW_FEATURES) + PRIMAL_THRESHOLD) / mean_sq(Xt)
    assert LinearSVC(C=between).fit(Xt, yt).solver_.startswith("dual_cd")


@pytest.mark.parametrize("penalty, loss, dual, multi_class, expected", [
    ("l2", "hinge", "auto", "ovr", "dual_cd"),
    ("l2", "hinge", True, "ovr", "dual_cd"),
    ("l2", "squared_hinge", True, "ovr", "dual_cd"),
    ("l2", "squared_hinge", False, "ovr", "newton"),
    ("l1", "squared_hinge", "auto", "ovr", "l1_cd"),
    ("l1", "squared_hinge", False, "ovr", "l1_cd"),
    ("l2", "hinge", "auto", "crammer_singer", "crammer_singer"),
    ("l1", "hinge", True, "crammer_singer", "crammer_singer"),  # scikit-learn ignores both
])
def test_explicit_choices_are_not_second_guessed(penalty, loss, dual, multi_class, expected,
                                                 sparse_problem):
    X, _ = sparse_problem(seed=3)
    for C in (1e-3, 1e3):
        assert choose_solver(penalty=penalty, loss=loss, dual=dual, multi_class=multi_class,
                             X=proved_csr(X), C=C, bias=1.0) == expected


@pytest.mark.parametrize("penalty, loss, dual", [
    ("l1", "hinge", True), ("l1", "hinge", False), ("l1", "hinge", "auto"),
    ("l2", "hinge", False), ("l1", "squared_hinge", True),
])
def test_refused_combinations_use_sklearns_message(penalty, loss, dual, sparse_problem):
    X, y = sparse_problem(seed=4)
    with pytest.raises(ValueError, match="Unsupported set of arguments") as ours:
        LinearSVC(penalty=penalty, loss=loss, dual=dual).fit(X, y)
    with pytest.raises(ValueError, match="Unsupported set of arguments") as theirs:
        SkLinearSVC(penalty=penalty, loss=loss, dual=dual).fit(X, y)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("C", [0.01, 0.1, 1.0, 10.0, 100.0])
def test_defaults_reach_sklearns_default_objective(C, sparse_problem):
    """Whatever solver ``dual="auto"`` picks, scikit-learn's defaults agree."""
    X, y = sparse_problem(n_samples=1000, n_features=200, n_classes=3, seed=5)
    ours = quiet(LinearSVC(C=C, tol=1e-8, max_iter=100000, random_state=0), X, y)
    theirs = quiet(SkLinearSVC(C=C, tol=1e-8, max_iter=100000, random_state=0), X, y)
    np.testing.assert_allclose(linear_svc_objective(ours, X, y),
                               linear_svc_objective(theirs, X, y), rtol=1e-5)


def test_dual_then_newton_switch_reaches_the_optimum(sparse_problem, monkeypatch):
    """A dual that stalls hands over to Newton, which finishes the job."""
    import fastlinear._solvers as solvers

    X, y = sparse_problem(n_samples=800, n_features=200, seed=6)
    monkeypatch.setattr(solvers, "SWITCH_AFTER", 3)
    monkeypatch.setattr(solvers, "SWITCH_AFTER_NARROW", 3)
    monkeypatch.setattr(solvers, "SWITCH_AFTER_EXACT", 3)
    C = 0.9 * primal_threshold(X.shape[1]) / mean_sq(X)  # below the threshold: dual first
    switched = LinearSVC(C=C, tol=1e-6, random_state=0).fit(X, y)
    assert switched.solver_ == "dual_cd+newton"
    assert switched.n_iter_ > 3
    exact = LinearSVC(C=C, dual=False, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(linear_svc_objective(switched, X, y),
                               linear_svc_objective(exact, X, y), rtol=1e-6)


def test_c_path_applies_the_rule_at_every_c(sparse_problem):
    X, y = sparse_problem(n_samples=600, n_features=100, seed=7)
    edge = primal_threshold(X.shape[1]) / mean_sq(X)
    Cs = [0.1 * edge, 0.5 * edge, 2.0 * edge, 10.0 * edge]
    solvers = []
    for C, est in linear_svc_path(X, y, Cs, tol=1e-8, max_iter=100000, random_state=0):
        solvers.append(est.solver_)
        cold = LinearSVC(C=C, dual=False, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(linear_svc_objective(est, X, y),
                                   linear_svc_objective(cold, X, y), rtol=1e-6)
    assert solvers[0].startswith("dual_cd") and solvers[2:] == ["newton", "newton"]
    # The search on top of it picks its C from the same fits.
    cv = LinearSVCCV(Cs=Cs, cv=3, tol=1e-8, max_iter=100000, random_state=0).fit(X, y)
    assert cv.best_estimator_.solver_ == ("newton" if cv.C_ > edge else solvers[0])


# --------------------------------------------------------------------------
# penalty="l1" (liblinear -s 5)


@pytest.mark.parametrize("C", [0.05, 1.0])
def test_l1_penalty_matches_sklearn(C, sparse_problem):
    X, y = sparse_problem(n_samples=800, n_features=300, n_classes=3, seed=8)
    ours = LinearSVC(penalty="l1", C=C, tol=1e-8, max_iter=10000, random_state=0).fit(X, y)
    theirs = SkLinearSVC(penalty="l1", C=C, tol=1e-8, max_iter=10000, random_state=0).fit(X, y)
    assert ours.solver_ == "l1_cd"
    assert not hasattr(ours, "dual_coef_")
    np.testing.assert_allclose(linear_svc_objective(ours, X, y),
                               linear_svc_objective(theirs, X, y), rtol=1e-6)
    # Same support, up to weights at rounding level.
    big = np.abs(theirs.coef_) > 1e-6 * np.abs(theirs.coef_).max()
    assert np.array_equal(big, np.abs(ours.coef_) > 1e-6 * np.abs(ours.coef_).max())


def test_l1_penalty_selects_the_same_features(sparse_problem):
    X, y = sparse_problem(n_samples=1000, n_features=400, seed=9)
    ours = SelectFromModel(LinearSVC(penalty="l1", C=0.1, tol=1e-8, random_state=0)).fit(X, y)
    theirs = SelectFromModel(SkLinearSVC(penalty="l1", C=0.1, tol=1e-8, random_state=0)).fit(X, y)
    kept = ours.get_support()
    assert 0 < kept.sum() < X.shape[1]
    assert np.array_equal(kept, theirs.get_support())
    assert ours.transform(X).shape == (X.shape[0], kept.sum())


def test_l1_penalty_float32_and_sample_weight(sparse_problem):
    X, y = sparse_problem(n_samples=500, n_features=200, seed=10)
    X32 = X.astype(np.float32)
    clf32 = LinearSVC(penalty="l1", C=0.5, tol=1e-8).fit(X32, y)
    clf64 = LinearSVC(penalty="l1", C=0.5, tol=1e-8).fit(X, y)
    assert clf32.coef_.dtype == np.float32
    np.testing.assert_allclose(linear_svc_objective(clf32, X, y), linear_svc_objective(clf64, X, y),
                               rtol=1e-5)
    # Weight 2 is the sample repeated.
    sw = np.ones(X.shape[0])
    sw[:50] = 2.0
    weighted = LinearSVC(penalty="l1", C=0.5, tol=1e-9).fit(X, y, sample_weight=sw)
    repeated = LinearSVC(penalty="l1", C=0.5, tol=1e-9).fit(sp.vstack([X, X[:50]]),
                                                             np.r_[y, y[:50]])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-5)


# --------------------------------------------------------------------------
# multi_class="crammer_singer" (liblinear -s 4)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_crammer_singer_matches_sklearn(n_classes, sparse_problem):
    X, y = sparse_problem(n_samples=600, n_features=150, n_classes=n_classes, seed=11)
    ours = LinearSVC(multi_class="crammer_singer", C=0.5, tol=1e-6, max_iter=100000,
                     random_state=0).fit(X, y)
    theirs = SkLinearSVC(multi_class="crammer_singer", C=0.5, tol=1e-6, max_iter=100000,
                         random_state=0).fit(X, y)
    assert ours.coef_.shape == theirs.coef_.shape == (1 if n_classes == 2 else n_classes, 150)
    assert ours.intercept_.shape == theirs.intercept_.shape
    np.testing.assert_allclose(linear_svc_objective(ours, X, y),
                               linear_svc_objective(theirs, X, y), rtol=1e-4)
    agree = np.mean(ours.predict(X) == theirs.predict(X))
    assert agree > 0.99


# --------------------------------------------------------------------------
# sparsify / densify


def test_sparsify_keeps_predictions_and_densify_undoes_it(sparse_problem):
    X, y = sparse_problem(n_samples=600, n_features=300, n_classes=3, seed=12)
    clf = LinearSVC(penalty="l1", C=0.1, random_state=0).fit(X, y)
    dense_scores = clf.decision_function(X)
    assert clf.sparsify() is clf
    assert sp.issparse(clf.coef_) and clf.coef_.nnz < 0.5 * np.prod(clf.coef_.shape)
    np.testing.assert_allclose(clf.decision_function(X), dense_scores, rtol=1e-12)
    assert np.array_equal(clf.predict(X), np.argmax(dense_scores, axis=1))
    assert clf.densify() is clf
    assert isinstance(clf.coef_, np.ndarray)
    np.testing.assert_allclose(clf.decision_function(X), dense_scores, rtol=1e-12)


def test_warm_start_from_a_sparsified_model(sparse_problem):
    X, y = sparse_problem(n_samples=600, seed=13)
    clf = LinearSVC(C=1.0, dual=False, tol=1e-8, warm_start=True).fit(X, y)
    before = linear_svc_objective(clf, X, y)
    clf.sparsify()
    clf.fit(X, y)
    assert clf.n_iter_ <= 2
    np.testing.assert_allclose(linear_svc_objective(clf, X, y), before, rtol=1e-8)


# --------------------------------------------------------------------------
# n_iter_ and the convergence warning, every solver


@pytest.mark.parametrize("params, solver", [
    ({"dual": True}, "dual_cd"),
    ({"dual": False}, "newton"),
    ({"penalty": "l1"}, "l1_cd"),
])  # (Crammer-Singer ignores max_iter, as scikit-learn's: tested below)
def test_max_iter_reached_warns_and_counts(params, solver, sparse_problem):
    X, y = sparse_problem(n_samples=800, n_features=200, n_classes=3, seed=14)
    clf = LinearSVC(C=100.0, tol=1e-14, max_iter=2, random_state=0, **params)
    with pytest.warns(ConvergenceWarning, match="failed to converge, increase the number of iterations"):
        clf.fit(X, y)
    assert clf.solver_ == solver
    assert type(clf.n_iter_) is int and clf.n_iter_ == 2


@pytest.mark.parametrize("params", [{"dual": False}, {"penalty": "l1"}])
def test_convergence_warning_names_the_tolerance_the_solver_used(params, sparse_problem):
    # The primal solvers compare a relative measure with tol scaled by the
    # minority class's share, as liblinear: the warning must show that
    # threshold, not tol itself, or it reads "measure 8e-05 > tol=0.0001".
    X, y = sparse_problem(n_samples=400, n_features=50, seed=16)
    y = np.where(np.arange(len(y)) % 4 == 0, 1, 0)  # a quarter positive
    clf = LinearSVC(C=10.0, tol=1e-3, max_iter=1, random_state=0, **params)
    with pytest.warns(ConvergenceWarning) as record:
        clf.fit(X, y)
    message = str(record[0].message)
    match = re.search(r"stopping measure at (\S+) > (\S+) \(tol=0.001 as the solver scales it\)",
                      message)
    assert match, message
    measure, threshold = float(match.group(1)), float(match.group(2))
    assert threshold == pytest.approx(1e-3 * 100 / 400, rel=1e-2)
    assert measure > threshold


def test_max_iter_zero_leaves_the_start_point(sparse_problem):
    X, y = sparse_problem(seed=15)
    with pytest.warns(ConvergenceWarning, match="with max_iter=0 no solver ran, and the "
                                                "weights are the start point"):
        clf = LinearSVC(max_iter=0).fit(X, y)
    assert clf.n_iter_ == 0 and clf.solver_ == "none"
    assert not np.any(clf.coef_)


def test_crammer_singer_runs_to_tol_whatever_max_iter_as_scikit_learn(sparse_problem):
    """scikit-learn's liblinear builds its Crammer-Singer solver without
    max_iter (its own bound, 100,000 passes, applies): at max_iter=5 both
    reach the same converged model; only scikit-learn warns."""
    X, y = sparse_problem(n_samples=300, n_features=60, n_classes=3, density=0.2, seed=5)
    params = dict(multi_class="crammer_singer", C=1.0, tol=1e-5, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = LinearSVC(**params, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        theirs = SkLinearSVC(**params, random_state=0).fit(X, y)
    assert ours.n_iter_ > 5 and theirs.n_iter_ > 5
    J_ours, J_theirs = linear_svc_objective(ours, X, y), linear_svc_objective(theirs, X, y)
    np.testing.assert_allclose(J_ours, J_theirs, rtol=1e-4)
