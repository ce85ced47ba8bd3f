"""fastlinear.LogisticRegression as scikit-learn's: the same model at the same C, exact solvers.

Correctness three ways: against scikit-learn's lbfgs (its objective and
coefficients at a tight tolerance) and liblinear (``solver="liblinear"``,
both ``-s 0`` and ``-s 7``); by the optimality condition (the largest
gradient entry of the mean objective, computed here in NumPy, at most
``tol``); and against the unscaled, ill-conditioned data that stop
first-order solvers short.  The kernels' own NumPy twins are in
test_newton.py, test_multinomial.py, test_newton_cholesky.py and
test_logistic_dual.py.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_softmax, softmax
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from fastlinear import LogisticRegression, LogisticRegressionCV, _newton_cholesky, logistic_objective

pytestmark = pytest.mark.usefixtures("one_blas_thread")

EXACT = ["newton-cholesky", "newton-cg"]


def _sk(**params):
    """scikit-learn's model, converged hard (the reference optimum): its
    Newton-Cholesky solver at tol=1e-10 (lbfgs stops on its function-change
    test first, with gradients near 1e-7), liblinear when asked for."""
    params = {"tol": 1e-10, "max_iter": 10**4, "solver": "newton-cholesky", **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return params, SkLogisticRegression(**params)


def _sk_fit(X, y, sample_weight=None, **params):
    _, est = _sk(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sample_weight)


def _mean_gradient(est, X, y, sample_weight=None):
    """The gradient of scikit-learn's mean objective ``J / (C sum_i s_i)`` at
    the estimator's coefficients, in NumPy (coef and intercept entries)."""
    classes = est.classes_
    y_ind = np.searchsorted(classes, y)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    X = sp.csr_matrix(X, dtype=np.float64)
    coef = np.asarray(est.coef_, dtype=np.float64)
    Z = np.asarray(X @ coef.T) + est.intercept_
    if coef.shape[0] == 1:
        t = np.where(y_ind == 1, 1.0, -1.0)
        r = (-t * expit(-t * Z[:, 0]) * s)[:, None]
    else:
        r = softmax(Z, axis=1)
        r[np.arange(len(y)), y_ind] -= 1.0
        r *= s[:, None]
    if np.isinf(est.C):  # no penalty: the mean loss alone
        grad_w, grad_b = np.asarray(X.T @ r).T, r.sum(axis=0)
        return np.concatenate([grad_w.ravel(), grad_b]) / s.sum()
    grad_w = np.asarray(X.T @ r).T * est.C + coef
    grad_b = r.sum(axis=0) * est.C
    return np.concatenate([grad_w.ravel(), grad_b]) / (est.C * s.sum())


def _iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _binary(seed=0, n=400, d=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.logspace(-1, 1, d)
    w = rng.standard_normal(d)
    y = (X @ w / 10 + rng.logistic(size=n) > 0).astype(int)
    return X, y


def _sparse_multiclass(seed=0, n=600, d=300, K=5):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.05, format="csr", random_state=seed)
    X.data = rng.exponential(size=X.nnz)
    W = rng.standard_normal((d, K))
    y = np.argmax(np.asarray(X @ W) + rng.gumbel(size=(n, K)), axis=1)
    return X, y


# ------------------------------------------------------- the same model
@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("parametrization", ["softmax", "reference"])
@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_binary_is_sklearns_model_at_the_same_C(solver, parametrization, C):
    """Two classes: one weight vector, scikit-learn's model at C (not 2 C), in
    both parametrisations."""
    X, y = _binary()
    est = LogisticRegression(C=C, solver=solver, parametrization=parametrization,
                             tol=1e-10).fit(X, y)
    sk = _sk_fit(X, y, C=C)
    assert est.coef_.shape == (1, X.shape[1]) and est.intercept_.shape == (1,)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, sk.intercept_, rtol=1e-6, atol=1e-8)
    assert est.solver_ == solver


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("sparse", [False, True])
def test_multinomial_is_sklearns_model(solver, sparse):
    X, y = _sparse_multiclass() if sparse else _iris()
    est = LogisticRegression(C=1.0, solver=solver, tol=1e-10).fit(X, y)
    sk = _sk_fit(X, y, C=1.0)
    J, J_sk = logistic_objective(est, X, y), logistic_objective(sk, X, y)
    assert J <= J_sk * (1 + 1e-9)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-5, atol=1e-6)
    # The unpenalised intercepts are fixed up to a common shift; both centre them.
    np.testing.assert_allclose(est.intercept_ - est.intercept_.mean(),
                               sk.intercept_ - sk.intercept_.mean(), atol=1e-5)


def test_a9a_coefficients_match_sklearn(a9a):
    """On a9a (one-hot features that sum, with the intercept, to nearly
    collinear columns) the exact solver reaches scikit-learn's optimum."""
    X, y = a9a[0], a9a[1]
    X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                      shape=X.shape)
    for C in (0.1, 1.0):
        est = LogisticRegression(C=C, tol=1e-8).fit(X, y)
        sk = _sk_fit(X, y, C=C)
        J, J_sk = logistic_objective(est, X, y), logistic_objective(sk, X, y)
        assert J <= J_sk * (1 + 1e-10), (C, J, J_sk)


def _binary_features(seed, n, d, density, n_classes):
    """0/1 features as dna's (each row a few of them), labels from a random
    linear model with noise."""
    rng = np.random.RandomState(seed)
    X = (rng.rand(n, d) < density).astype(np.float64)
    if n_classes == 2:
        return X, (X @ rng.randn(d) + rng.logistic(size=n) > 0.5).astype(int)
    return X, np.argmax(X @ rng.randn(d, n_classes) + rng.gumbel(size=(n, n_classes)), axis=1)


@pytest.mark.parametrize("name", ["iris unscaled", "breast cancer unscaled", "scales 1e-2..1e2",
                                  "0/1 features, 2 classes", "0/1 features, 3 classes"])
def test_defaults_reach_the_optimum_on_badly_scaled_dense_data(name):
    """At the defaults (tol=1e-4), the objective is within 1e-6 (relative) of
    the optimum (computed at tol=1e-12) on unscaled and ill-conditioned data,
    and on 0/1 features whose mean objective is small (the two cases ended
    2.3e-6 and 5.2e-6 above it when the Newton decrement was held to ``tol``
    alone, as dna and satimage ended 1.8e-5 above it)."""
    if name == "iris unscaled":
        X, y = _iris()
    elif name == "breast cancer unscaled":
        X, y = load_breast_cancer(return_X_y=True)
    elif name == "0/1 features, 2 classes":
        X, y = _binary_features(0, 600, 40, 0.2, 2)
    elif name == "0/1 features, 3 classes":
        X, y = _binary_features(5, 400, 60, 0.25, 3)
    else:
        X, y = _binary(seed=3, n=2000, d=20)
        X = X * np.logspace(-2, 2, 20) / np.logspace(-1, 1, 20)
    est = LogisticRegression().fit(X, y)
    best = LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y)
    J, J_best = logistic_objective(est, X, y), logistic_objective(best, X, y)
    assert J - J_best <= 1e-6 * J_best, (name, est.solver_, J, J_best)
    sk = _sk_fit(X, y)
    assert J_best <= logistic_objective(sk, X, y) * (1 + 1e-9)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_objective_and_log_proba_keep_the_losses_of_confident_samples(n_classes):
    """Margins of 40 and more: ``log P(y|x)`` is about ``-e^-40``, which
    ``log(1 + e^-40)`` rounds to 0.  At C = 1e20 those losses are the
    objective (scipy's log_softmax gave 18805.6 against 19738.9)."""
    rng = np.random.RandomState(0)
    X = rng.randn(10 * n_classes, 3)
    y = np.argmax(X @ rng.randn(3, n_classes), axis=1)     # separable
    est = LogisticRegression(C=1e20).fit(X, y)
    Z = est.decision_function(X)
    if n_classes == 2:
        t = np.where(y == 1, 1.0, -1.0)
        losses = np.logaddexp(0.0, -t * Z)
    else:
        # -log P(y|x) = log1p(sum_{k != y} e^(z_k - z_y)) where y is the top class
        assert np.all(np.argmax(Z, axis=1) == y)
        rest = np.exp(Z - Z[np.arange(len(y)), y][:, None])
        rest[np.arange(len(y)), y] = 0.0
        losses = np.log1p(rest.sum(axis=1))
    assert np.min(losses) < 1e-16    # (1 + loss rounds to 1)
    exact = 1e20 * losses.sum() + 0.5 * np.sum(est.coef_ ** 2)
    assert logistic_objective(est, X, y) == pytest.approx(exact, rel=1e-12)
    log_p = est.predict_log_proba(X)[np.arange(len(y)), y]
    np.testing.assert_allclose(-log_p, losses, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("scale", [1e8, 1e18])
def test_a_warm_start_far_from_the_optimum_ends_at_the_optimum(n_classes, solver, scale):
    """The previous weights times 1e8 or 1e18: newton-cholesky's scores,
    updated along the steps, carried the rounding of scores of 1e18 and it
    converged 13 % above the optimum without a warning; newton-cg's line
    search found no decrease from there (a warning, the start returned).
    Now both end at the optimum without a warning."""
    X, y = make_classification(150, 6, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=5)
    if n_classes == 2:
        y = (y > 0).astype(int)
    best = logistic_objective(LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y), X, y)
    est = LogisticRegression(solver=solver, warm_start=True).fit(X, y)
    est.coef_ = est.coef_ * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert logistic_objective(est, X, y) <= best * (1 + 1e-6)


def test_a_warm_start_where_the_curvature_underflows_restarts_cold():
    """An intercept of 28 (the previous fit weighted class 0 by 1e-12): the
    Newton step along it is about 1e12 and 30 halvings find no decrease.
    The fit used to return the start (``n_iter_ = 0``, 21 times the optimal
    objective, a warning blaming the scale of X)."""
    X, y = make_classification(150, 6, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=5)
    y = (y > 0).astype(int)
    est = LogisticRegression(warm_start=True).fit(X, y, sample_weight=np.where(y == 0, 1e-12, 1))
    assert est.intercept_[0] > 25
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    cold = LogisticRegression().fit(X, y)
    assert est.n_iter_[0] > 0
    np.testing.assert_allclose(est.coef_, cold.coef_, rtol=1e-6)
    np.testing.assert_allclose(est.intercept_, cold.intercept_, rtol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_cg_at_large_C_ends_near_the_optimum(n_classes):
    """400 x 4,000 sparse features, separable, C = 1e6: the mean objective is
    tiny, and on ``tol`` alone newton-cg stopped at 1.6-1.7 times the
    optimal objective without a warning.  Its decrement must now be within
    ``tol`` of the objective too."""
    rng = np.random.RandomState(0)
    X = sp.random(400, 4000, density=0.005, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.rand(k))
    if n_classes == 2:
        y = (X @ rng.randn(4000) > 0).astype(int)
    else:
        y = np.argmax(X @ rng.randn(4000, n_classes), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(C=1e6).fit(X, y)
    best = LogisticRegression(C=1e6, tol=1e-12, max_iter=1000).fit(X, y)
    assert est.solver_ == "newton-cg"
    J, J_best = logistic_objective(est, X, y), logistic_objective(best, X, y)
    assert J - J_best <= 1e-4 * J_best


@pytest.mark.parametrize("C", [1e4, 1e6])
def test_newton_cg_scales_its_estimate_by_the_last_steps_decrease(C):
    """Standardised breast cancer (dense, correlated columns, nearly
    separable): the diagonal estimate of ``f - f*`` falls 10-30x short of
    what the full steps actually gain, and on it newton-cg stopped at 1.2e-3
    (C = 1e4) and 0.51 (C = 1e6) above the optimal objective, silently.
    Scaled by the last full step's shortfall it went on to 3.7e-4 and 6e-2
    (scikit-learn's newton-cg: 2.3e-3 and 1.03); with the stop checked on
    the whole quadratic model, 2.0e-5 and 1.3e-3."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = LogisticRegression(C=C, solver="newton-cg", max_iter=1000).fit(X, y)
    best = LogisticRegression(C=C, tol=1e-12, max_iter=3000).fit(X, y)
    J, J_best = logistic_objective(est, X, y), logistic_objective(best, X, y)
    assert J - J_best <= {1e4: 1e-4, 1e6: 3e-3}[C] * J_best


def _correlated_dense(n, d, seed, n_classes=2):
    """Dense columns driven by 20 common factors, scales spread over
    ``e^-2 .. e^2``, labels from a noisy linear model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20)) @ rng.standard_normal((d, 20)).T
    X = (X + 0.1 * rng.standard_normal((n, d))) * np.exp(rng.uniform(-2, 2, d))
    if n_classes == 2:
        y = X @ rng.standard_normal(d) / np.sqrt(d) + 0.5 * rng.standard_normal(n) > 0
        return X, y.astype(int)
    Z = X @ rng.standard_normal((d, n_classes)) / np.sqrt(d)
    return X, np.argmax(Z + 0.5 * rng.standard_normal((n, n_classes)), axis=1)


@pytest.mark.parametrize("n, d, n_classes, C, solver, seed", [
    (300, 600, 2, 1.0, "auto", 2), (400, 300, 2, 100.0, "newton-cg", 1),
    (500, 350, 3, 1.0, "auto", 1)])
def test_newton_cg_checks_a_stop_on_the_whole_model_once_its_estimate_fell_short(
        n, d, n_classes, C, solver, seed):
    """Correlated dense columns: the diagonal estimate falls short of the
    steps' decrease (3-10x), and on it newton-cg stopped 2.2e-4 (300 x 600,
    where the defaults run newton-cg), 8.7e-4 (400 x 300 at C = 100) and,
    multinomial, 1.9e-3 (500 x 350, three classes: 1,053 variables) above
    the optimal objective, silently.  Such a stop is now checked on the
    whole quadratic model: 5.0e-7, 8.3e-6 and 2.2e-5."""
    X, y = _correlated_dense(n, d, seed, n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(C=C, solver=solver).fit(X, y)
    best = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    assert est.solver_ == "newton-cg"
    J, J_best = logistic_objective(est, X, y), logistic_objective(best, X, y)
    assert J - J_best <= 1e-4 * J_best


def test_a_fit_stopped_by_max_iter_short_of_the_relative_decrement_warns():
    """Four steps meet the gradient test and ``tol`` on the decrement, not
    ``tol / 100`` of the objective: a ConvergenceWarning that says so."""
    X, y = _binary_features(5, 400, 60, 0.25, 3)
    with pytest.warns(ConvergenceWarning, match="the smaller of tol=0.0001 and tol / 100"):
        est = LogisticRegression(max_iter=4).fit(X, y)
    assert est.solver_ == "newton-cholesky" and est.n_iter_[0] == 4


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("data", ["binary", "multinomial"])
def test_optimality_the_gradient_is_within_tol(solver, data):
    """The stopping test is scikit-learn's: max |grad of J / (C sum s_i)| <= tol,
    checked here in NumPy at the returned model."""
    X, y = _binary() if data == "binary" else _sparse_multiclass()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    for tol in (1e-3, 1e-6):
        est = LogisticRegression(C=2.0, solver=solver, tol=tol).fit(X, y, sample_weight=sw)
        assert np.max(np.abs(_mean_gradient(est, X, y, sw))) <= tol


# ---------------------------------------------------- sklearn's options
@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("data", ["binary", "multinomial"])
def test_class_weight_is_sample_weight(solver, data):
    X, y = _binary() if data == "binary" else _iris()
    weights = {0: 3.0, 1: 0.5}
    a = LogisticRegression(solver=solver, class_weight=weights, tol=1e-10).fit(X, y)
    sw = np.array([weights.get(label, 1.0) for label in y])
    b = LogisticRegression(solver=solver, tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)
    balanced = LogisticRegression(solver=solver, class_weight="balanced", tol=1e-10).fit(X, y)
    sk = _sk_fit(X, y, class_weight="balanced")
    np.testing.assert_allclose(balanced.coef_, sk.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("solver", EXACT)
def test_no_penalty(solver):
    """``C=np.inf``: the maximum-likelihood model, without a warning."""
    X, y = _binary(n=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LogisticRegression(C=np.inf, solver=solver, tol=1e-10).fit(X, y)
    sk = _sk_fit(X, y, C=np.inf)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-5)
    assert np.max(np.abs(_mean_gradient(est, X, y))) <= 1e-8  # rounding of f stops first


@pytest.mark.parametrize("dual", [False, True])
@pytest.mark.parametrize("intercept_scaling", [1.0, 10.0])
def test_liblinear_is_liblinears_problem(dual, intercept_scaling):
    """``solver="liblinear"``: the intercept is a penalised weight of a constant
    feature ``intercept_scaling`` (``-s 0`` primal, ``-s 7`` dual)."""
    X, y = _binary()
    params = dict(C=0.5, solver="liblinear", dual=dual, intercept_scaling=intercept_scaling)
    est = LogisticRegression(tol=1e-8, max_iter=10**4, random_state=0, **params).fit(X, y)
    sk = _sk_fit(X, y, **params)
    J, J_sk = logistic_objective(est, X, y), logistic_objective(sk, X, y)
    assert abs(J - J_sk) <= 1e-6 * J_sk
    assert est.solver_ == ("liblinear-dual" if dual else "liblinear")
    with pytest.raises(ValueError, match="does not support multiclass"):
        LogisticRegression(solver="liblinear").fit(*_iris())


@pytest.mark.parametrize("solver", EXACT + ["liblinear", "svrg"])
def test_attributes_n_iter_and_zero_max_iter(solver):
    X, y = _binary()
    est = LogisticRegression(solver=solver, random_state=0).fit(X, y)
    assert est.n_iter_.shape == (1,) and est.n_iter_.dtype == np.int32 and est.n_iter_[0] >= 1
    with pytest.warns(ConvergenceWarning, match="max_iter=0"):
        zero = LogisticRegression(solver=solver, max_iter=0).fit(X, y)
    assert zero.n_iter_[0] == 0 and not np.any(zero.coef_) and not np.any(zero.intercept_)


@pytest.mark.parametrize("solver", EXACT)
def test_warm_start_continues_from_the_previous_model(solver):
    X, y = _sparse_multiclass()
    est = LogisticRegression(C=1.0, solver=solver, tol=1e-8).fit(X, y)
    steps = est.n_iter_[0]
    est.set_params(warm_start=True, C=1.0).fit(X, y)
    assert est.n_iter_[0] < steps
    est.set_params(C=2.0).fit(X, y)
    cold = LogisticRegression(C=2.0, solver=solver, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(est.coef_, cold.coef_, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("solver", EXACT)
def test_warm_start_near_the_optimum_at_small_C_reaches_tol(solver):
    """At C = 1e-4 the objective is nearly flat: a warm start 1e-9 away from
    the optimum (a cross-validated refit's start) must still be moved until
    the gradient test holds, not stopped by an absolute curvature threshold
    or a relative decrease of f."""
    X, y = _binary(n=60, d=3)
    params = dict(C=1e-4, solver=solver, tol=1e-8, fit_intercept=False)
    cold = LogisticRegression(**params).fit(X, y)
    est = LogisticRegression(warm_start=True, **params)
    est.coef_ = cold.coef_ + np.array([[3e-9, -2e-9, 4e-9]])
    est.intercept_ = np.zeros(1)
    est.classes_ = cold.classes_
    est.fit(X, y)
    assert np.max(np.abs(_mean_gradient(est, X, y)[:-1])) <= 1e-8  # no intercept
    np.testing.assert_allclose(est.coef_, cold.coef_, rtol=1e-6)


def test_sparsify_densify_and_float32():
    X, y = _sparse_multiclass()
    est = LogisticRegression().fit(X.astype(np.float32), y)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    proba = est.predict_proba(X)
    est.sparsify()
    assert sp.issparse(est.coef_)
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-6)
    est.densify()
    assert isinstance(est.coef_, np.ndarray)


def test_reference_form_pins_class_zero():
    """The reference form (class 0 without weights) is its own penalised model:
    checked against a direct minimisation of its objective in NumPy/SciPy."""
    from scipy.optimize import minimize

    X, y = _iris()
    C = 1.0
    est = LogisticRegression(C=C, parametrization="reference", tol=1e-10).fit(X, y)
    assert not np.any(est.coef_[0]) and est.intercept_[0] == 0
    n, d = X.shape

    def objective(theta):
        W = np.zeros((d, 3))
        b = np.zeros(3)
        W[:, 1:] = theta[: 2 * d].reshape(d, 2)
        b[1:] = theta[2 * d:]
        Z = X @ W + b
        P = softmax(Z, axis=1)
        loss = -np.sum(log_softmax(Z, axis=1)[np.arange(n), y])
        R = P.copy()
        R[np.arange(n), y] -= 1.0
        grad_W = C * (X.T @ R)[:, 1:] + W[:, 1:]
        grad_b = C * R.sum(axis=0)[1:]
        return C * loss + 0.5 * np.sum(W * W), np.concatenate([grad_W.ravel(), grad_b])

    ref = minimize(objective, np.zeros(2 * d + 2), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10**5})
    J = C * -np.sum(est.predict_log_proba(X)[np.arange(n), y]) + 0.5 * np.sum(est.coef_ ** 2)
    assert J <= ref.fun * (1 + 1e-9)
    assert abs(J - ref.fun) <= 1e-7 * ref.fun


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("params, error, match", [
    (dict(C=-np.inf), ValueError, "'C' parameter"),
    (dict(C=np.nan), ValueError, "'C' parameter"),
    (dict(C=0.0), ValueError, "'C' parameter"),
    (dict(solver="unknown"), ValueError, "'solver' parameter"),
    (dict(l1_ratio=0.5, solver="lbfgs"), ValueError, "supports only 'l2' or None penalties"),
    (dict(l1_ratio=1.5), ValueError, "'l1_ratio' parameter"),
    (dict(dual=True), ValueError, "supports only dual=False"),
    (dict(class_weight={7: 2.0}), ValueError, "not classes of y"),
    (dict(solver="liblinear", C=np.inf), ValueError, "not supported for the liblinear"),
    (dict(max_iter=-1), ValueError, "'max_iter' parameter"),
    (dict(tol=-1.0), ValueError, "'tol' parameter"),
])
def test_bad_parameters_get_clear_errors(params, error, match):
    X, y = _binary()
    with pytest.raises(error, match=match):
        LogisticRegression(**params).fit(X, y)


def test_penalty_is_deprecated_as_in_sklearn():
    X, y = _binary()
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        LogisticRegression(penalty="l2").fit(X, y)
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        l1 = LogisticRegression(penalty="l1", random_state=0).fit(X, y)
    np.testing.assert_array_equal(l1.coef_, LogisticRegression(l1_ratio=1, random_state=0).fit(X, y).coef_)
    with pytest.warns(FutureWarning):
        est = LogisticRegression(penalty=None).fit(X, y)
    sk = _sk_fit(X, y, C=np.inf)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-3)


def _blas_threads():
    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})


@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (2, 2)])
def test_fit_runs_blas_with_n_jobs_threads_and_gives_them_back(n_jobs, expected, monkeypatch):
    """BLAS has ``n_jobs`` threads (one by default) while ``fit`` runs (one per
    fold in LogisticRegressionCV, ``n_jobs`` in its refit), and the process's
    own setting again afterwards, after threaded folds as well (limits
    entered in worker threads could leave BLAS limited)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X / X.max(axis=0)
    seen = []
    factor = _newton_cholesky._Factor

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return factor(*args, **kwargs)

    monkeypatch.setattr(_newton_cholesky, "_Factor", spy)
    with threadpool_limits(limits=3, user_api="blas"):
        LogisticRegression(solver="newton-cholesky", n_jobs=n_jobs).fit(X, y)
        assert seen and all(threads == [expected] for threads in seen)
        assert _blas_threads() == [3]
        seen.clear()
        LogisticRegressionCV(Cs=4, cv=3, solver="newton-cholesky", n_jobs=n_jobs).fit(X, y)
        # The folds (in threads with n_jobs=2) one each, the refit n_jobs.
        assert len(seen) > 1 and all(threads == [1] for threads in seen[:-1])
        assert seen[-1] == [expected]
        assert _blas_threads() == [3]


def test_blas_limit_survives_threads_that_leave_out_of_order(monkeypatch):
    """``blas_threads`` entered by two threads, the first to enter leaving
    first: BLAS ends with the setting it had before either (threadpoolctl's
    limits alone restore what each found on entry, so the second thread would
    put back the first one's limit and leave BLAS at one thread).  A fake
    controller with one global setting stands for OpenBLAS."""
    import threading

    from fastlinear import _parallel

    class Controller:
        threads = 3

        def limit(self, limits, user_api):
            found = self.threads
            self.threads = limits
            controller = self

            class Limiter:
                def restore_original_limits(self):
                    controller.threads = found

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    self.restore_original_limits()

            return Limiter()

    controller = Controller()
    monkeypatch.setattr(_parallel, "_BLAS", controller)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with _parallel.blas_threads(1):
            first_in.set()
            second_in.wait(5)
            seen["first"] = controller.threads
        first_out.set()

    def second():
        first_in.wait(5)
        with _parallel.blas_threads(2):
            second_in.set()
            first_out.wait(5)
            seen["second"] = controller.threads  # the first's limit was lifted meanwhile

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"first": 1, "second": 3}
    assert controller.threads == 3
    # Nested limits in the owning thread apply and unwind in order.
    with _parallel.blas_threads(1):
        with _parallel.blas_threads(2):
            assert controller.threads == 2
        assert controller.threads == 1
    assert controller.threads == 3


@pytest.mark.parametrize("solver", ["newton-cg", "newton-cholesky", "lbfgs", "liblinear"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_tol_zero_ends_at_rounding_level(solver, n_classes):
    """``tol=0`` cannot be met; the exact solvers stop where their line search
    finds no decrease (the gradient at rounding level), as a converged fit,
    at the optimum of a tight ``tol``.  (The multinomial Newton-CG kernel's
    line-search status used to escape as "4 is not a valid Status".)"""
    if solver == "liblinear" and n_classes > 2:
        pytest.skip("liblinear is binary only")
    rng = np.random.RandomState(0)
    X = sp.random(1500, 120, density=0.05, format="csr", random_state=rng)
    X.data = rng.exponential(size=X.nnz)
    y = rng.randint(0, n_classes, size=1500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        exact = LogisticRegression(C=1e4, solver=solver, tol=0.0, max_iter=500).fit(X, y)
    assert int(np.max(exact.n_iter_)) < 500
    tight = LogisticRegression(C=1e4, solver=solver, tol=1e-10, max_iter=500).fit(X, y)
    np.testing.assert_allclose(logistic_objective(exact, X, y), logistic_objective(tight, X, y),
                               rtol=1e-9)
