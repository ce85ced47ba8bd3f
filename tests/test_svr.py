"""fastlinear.LinearSVR: the NumPy twin, scikit-learn's objective, the dual's KKT
conditions, weights, dtypes, the sklearn contract and bad input."""
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVR as SkLinearSVR
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlinear import LinearSVR, linear_svr_objective
from fastlinear._problem import regression_problem
from fastlinear._solvers import Solution, Status, dual_cd
from fastlinear._validation import proved_csr
from fastlinear.svr import _check_finite_solution

LOSSES = ["epsilon_insensitive", "squared_epsilon_insensitive"]


def quiet(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bias", [1.0, 0.0])
@pytest.mark.parametrize("max_iter", [1, 3, 300])
def test_kernel_equals_the_numpy_twin(loss, bias, max_iter, sparse_regression):
    import _reference

    X, y, _ = sparse_regression(n_samples=150, n_features=40, density=0.1, seed=1)
    sw = np.random.RandomState(2).uniform(0.5, 2.0, 150)
    sw[:5] = 0.0
    problem = regression_problem(proved_csr(X), y, 0.7, sw, loss, 0.1, bias)
    sol = dual_cd(problem, tol=1e-3, max_iter=max_iter, seed=11)
    w, beta, n_iter = _reference.reference_svr(
        X, y, problem.cost, squared=loss.startswith("squared"), epsilon=0.1, bias=bias,
        tol=1e-3, max_iter=max_iter, seed=11)
    assert sol.n_iter == n_iter
    np.testing.assert_allclose(sol.w, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sol.alpha, beta, rtol=1e-12, atol=1e-14)
    assert np.all(sol.alpha[:5] == 0)


@pytest.mark.parametrize("loss, dual", [("epsilon_insensitive", True),
                                        ("squared_epsilon_insensitive", True),
                                        ("squared_epsilon_insensitive", False)])
@pytest.mark.parametrize("epsilon", [0.0, 0.3])
def test_objective_matches_sklearn(loss, dual, epsilon, sparse_regression):
    X, y, _ = sparse_regression(n_samples=800, n_features=100, seed=3)
    kw = dict(loss=loss, dual=dual, epsilon=epsilon, C=0.5, tol=1e-6, max_iter=20000, random_state=0)
    ours = quiet(LinearSVR(**kw), X, y)
    theirs = quiet(SkLinearSVR(**kw), X, y)
    f_ours, f_theirs = linear_svr_objective(ours, X, y), linear_svr_objective(theirs, X, y)
    np.testing.assert_allclose(f_ours, f_theirs, rtol=1e-4)
    assert f_ours <= f_theirs * (1 + 1e-4)
    assert abs(ours.score(X, y) - theirs.score(X, y)) < 1e-3


@pytest.mark.parametrize("loss", LOSSES)
def test_kkt_conditions_of_the_dual(loss, sparse_regression):
    X, y, _ = sparse_regression(n_samples=400, n_features=60, seed=4)
    eps, C = 0.2, 0.8
    reg = LinearSVR(loss=loss, dual=True, epsilon=eps, C=C, tol=1e-9, max_iter=100000,
                    random_state=0).fit(X, y)
    beta = reg.dual_coef_
    w = np.append(reg.coef_, reg.intercept_[0])
    # w = sum_i beta_i x~_i (the bias feature is 1).
    np.testing.assert_allclose(X.T @ beta, reg.coef_, atol=1e-9)
    np.testing.assert_allclose(beta.sum(), w[-1], atol=1e-9)
    lam = 0.0 if loss == "epsilon_insensitive" else 0.5 / C
    upper = C if loss == "epsilon_insensitive" else np.inf
    G = X @ w[:-1] + w[-1] - y + lam * beta
    tol = 1e-5
    free_pos = (beta > 0) & (beta < upper)
    free_neg = (beta < 0) & (beta > -upper)
    assert np.all(np.abs(G[free_pos] + eps) <= tol)
    assert np.all(np.abs(G[free_neg] - eps) <= tol)
    assert np.all(np.abs(G[beta == 0]) <= eps + tol)
    if np.isfinite(upper):
        assert np.all(G[beta >= upper] + eps <= tol)
        assert np.all(G[beta <= -upper] - eps >= -tol)
    assert np.all(np.abs(beta) <= upper + 1e-12)
    # The duality gap closes.
    problem = regression_problem(proved_csr(X), y, C, np.ones(400), loss, eps, 1.0)
    assert problem.duality_gap(w, beta) < 1e-6


@pytest.mark.parametrize("loss", LOSSES)
def test_sample_weight_equals_repetition(loss, sparse_regression):
    X, y, _ = sparse_regression(n_samples=200, n_features=30, seed=5)
    sw = np.random.RandomState(6).randint(0, 3, size=200)
    rep = np.repeat(np.arange(200), sw)
    kw = dict(loss=loss, dual=True, epsilon=0.1, C=0.3, tol=1e-10, max_iter=100000, random_state=0)
    weighted = quiet(LinearSVR(**kw), X, y, sample_weight=sw)
    repeated = quiet(LinearSVR(**kw), X[rep], y[rep])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-5)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-5)


@pytest.mark.parametrize("dual", [True, False])
def test_float32_and_int64_indices(dual, sparse_regression):
    X, y, _ = sparse_regression(n_samples=300, n_features=50, seed=7)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    kw = dict(loss="squared_epsilon_insensitive", dual=dual, C=1.0, tol=1e-8, max_iter=10000,
              random_state=0)
    ref = LinearSVR(**kw).fit(X, y)
    same = LinearSVR(**kw).fit(X64, y)
    np.testing.assert_array_equal(same.coef_, ref.coef_)
    f32 = LinearSVR(**kw).fit(X.astype(np.float32), y)
    assert f32.coef_.dtype == np.float32 and f32.intercept_.dtype == np.float32
    np.testing.assert_allclose(f32.coef_, ref.coef_, rtol=1e-4, atol=1e-4)


def test_auto_uses_the_documented_rule(sparse_regression):
    X, y, _ = sparse_regression(n_samples=600, n_features=50, density=0.2, seed=8)
    assert LinearSVR().fit(X, y).solver_ == "dual_cd"  # the L1 loss has only the dual
    big = LinearSVR(loss="squared_epsilon_insensitive", C=100.0).fit(X, y)
    assert big.solver_ == "newton"  # n > d and C * mean ||x~||^2 = 100 * 11 > 10
    small = LinearSVR(loss="squared_epsilon_insensitive", C=0.01).fit(X, y)
    assert small.solver_ == "dual_cd"
    wide = LinearSVR(loss="squared_epsilon_insensitive", C=100.0).fit(X[:40], y[:40])
    assert wide.solver_ in ("dual_cd", "dual_cd+newton")  # n < d: the dual


def test_warm_start_and_threads(sparse_regression):
    X, y, _ = sparse_regression(n_samples=2000, n_features=100, seed=9)
    cold = LinearSVR(loss="squared_epsilon_insensitive", dual=False, C=10.0, tol=1e-10).fit(X, y)
    two = LinearSVR(loss="squared_epsilon_insensitive", dual=False, C=10.0, tol=1e-10,
                    n_jobs=2).fit(X, y)
    np.testing.assert_allclose(two.coef_, cold.coef_, rtol=1e-8, atol=1e-10)
    warm = LinearSVR(loss="squared_epsilon_insensitive", dual=False, C=1.0, tol=1e-10,
                     warm_start=True).fit(X, y)
    warm.set_params(C=10.0).fit(X, y)
    np.testing.assert_allclose(linear_svr_objective(warm, X, y), linear_svr_objective(cold, X, y),
                               rtol=1e-10)


def test_convergence_warning_and_n_iter(sparse_regression):
    X, y, _ = sparse_regression(n_samples=300, n_features=40, seed=10)
    with pytest.warns(ConvergenceWarning, match="failed to converge.*max_iter=2"):
        reg = LinearSVR(max_iter=2, tol=1e-10, random_state=0).fit(X, y)
    assert isinstance(reg.n_iter_, int) and reg.n_iter_ == 2


@parametrize_with_checks([LinearSVR(random_state=0, tol=1e-10, max_iter=100000)])
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_bad_input(sparse_regression):
    X, y, _ = sparse_regression(n_samples=50, n_features=10, seed=11)
    for bad in (np.nan, np.inf):
        yb = y.copy()
        yb[3] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            LinearSVR().fit(X, yb)
        Xb = X.copy()
        Xb.data[0] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            LinearSVR().fit(Xb, y)
    with pytest.raises(ValueError, match="'epsilon' parameter"):
        LinearSVR(epsilon=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearSVR().fit(X, y[:-1])
    with pytest.raises(ValueError):
        LinearSVR().fit(X, np.array(["a"] * 50))
    with pytest.raises(ValueError, match="None"):
        LinearSVR().fit(X, np.array([None] * 50, dtype=object))
    with pytest.raises(ValueError, match="Unsupported set of arguments.*epsilon_insensitive.*dual=False"):
        LinearSVR(loss="epsilon_insensitive", dual=False).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        LinearSVR().fit(X, y, sample_weight=-np.ones(50))
    reg = LinearSVR().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :5])
    broken = X.copy()
    broken.indices[0] = 99
    with pytest.raises(ValueError, match="outside"):
        reg.predict(broken)
    with pytest.raises(ValueError, match="outside"):
        LinearSVR().fit(broken, y)
    # The caller's arrays are not touched.
    before = [a.copy() for a in (X.data, X.indices, X.indptr, y)]
    LinearSVR().fit(X, y)
    for a, b in zip(before, (X.data, X.indices, X.indptr, y), strict=True):
        np.testing.assert_array_equal(a, b)


# --- targets near the float maximum -------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["epsilon_insensitive", "squared_epsilon_insensitive"])
@pytest.mark.parametrize("make_y", [
    lambda rng, n: rng.randn(n) * 1e300,
    lambda rng, n: np.logspace(160, 300, n),
    lambda rng, n: np.full(n, 1.7e308),
], ids=["randn*1e300", "logspace160-300", "full1.7e308"])
def test_huge_targets_raise_or_give_finite_attributes(loss, make_y):
    """Targets near the float maximum: a clear error, never inf in the attributes."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = make_y(rng, 60)
    try:
        reg = LinearSVR(loss=loss, dual=True, max_iter=200).fit(X, y)
    except ValueError as exc:
        assert re.search(r"overflowed float64.*Rescale y", str(exc))
        return
    for name in ("coef_", "intercept_", "dual_coef_"):
        assert np.all(np.isfinite(getattr(reg, name))), name


def test_overflowed_dual_variables_are_refused():
    """Infinite dual variables with finite weights still raise, naming dual_coef_ and y."""
    w = np.ones(4)
    alpha = np.array([1.0, np.inf, 2.0])
    sol = Solution(w, alpha, 3, Status.CONVERGED, 0.0, "dual_cd")
    y = np.array([1.0, 1.7e308, 2.0])
    with pytest.raises(ValueError, match=r"dual_coef_ \(the dual variables\) overflowed "
                                         r"float64.*\|y\| = 1\.7e\+308.*Rescale y"):
        _check_finite_solution(sol, y, 1.0)
    _check_finite_solution(sol._replace(alpha=np.ones(3)), y, 1.0)  # finite: no error
