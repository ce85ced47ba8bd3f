"""Tests of fastlinear.LogisticRegression and its kernel.

Correctness three ways: the gradients of both parametrisations against
finite differences (and the kernel's full-batch step against them); the
kernel against a pure-NumPy mini-batch reference with the same batch order;
the optimum against scikit-learn's lbfgs at the same C.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad
from scipy.special import log_softmax, softmax
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlinear import LogisticRegression, _logistic_fast, logistic_objective
from fastlinear._validation import proved_csr
from fastlinear.logistic import _SCHEDULES

# Converge hard for the comparisons with lbfgs (the defaults aim at speed).
TIGHT = dict(tol=1e-7, max_iter=1000, random_state=0)
#: The course's mini-batch solver, for the tests of its own options.
SVRG = dict(solver="svrg")


pytestmark = pytest.mark.usefixtures("one_blas_thread")  # lbfgs oversubscribes otherwise


@pytest.fixture(scope="module")
def synthetic(sparse_problem):
    """Sparse multiclass problems with uniform nonnegative values."""

    def make(n=3000, p=400, K=20, density=0.03, seed=0):
        return sparse_problem(n_samples=n, n_features=p, n_classes=K,
                              density=density, seed=seed, values="uniform", noise=0.5)

    return make


def _kernel(X, y, sw, W, b, *, C, lam, eta0, batch_size, max_iter,
            reference=False, variance_reduced=False, schedule="constant",
            fit_intercept=True, power_t=0.5, tol=0.0, n_iter_no_change=1,
            max_decreases=0, track_objective=False, epoch_offset=0, seed=0):
    """``_logistic_fast.minibatch_sgd`` with its settings spelled out."""
    settings = dict(C=C, lam=lam, eta0=eta0, power_t=power_t, tol=tol,
                    schedule=_SCHEDULES[schedule], batch_size=batch_size,
                    max_iter=max_iter, n_iter_no_change=n_iter_no_change,
                    max_decreases=max_decreases, epoch_offset=epoch_offset,
                    verbose=0, fit_intercept=fit_intercept, reference=reference,
                    variance_reduced=variance_reduced,
                    track_objective=track_objective)
    return _logistic_fast.minibatch_sgd(proved_csr(sp.csr_matrix(X)), y, sw, W, b,
                                        settings, seed=seed)


def _small_problem(n=40, p=6, K=3, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) < 0.4] = 0.0
    y = rng.integers(0, K, n)
    y[:K] = np.arange(K)
    sw = rng.uniform(0.5, 2.0, n)
    return (sp.csr_matrix(X) if sparse else X), y, sw


# --------------------------------------------------------------- gradients
def _softmax_J(theta, X, y, sw, C, K):
    p = X.shape[1]
    W, b = theta[: p * K].reshape(p, K), theta[p * K:]
    Z = np.asarray(X @ W) + b
    return C * -(sw @ log_softmax(Z, axis=1)[np.arange(len(y)), y]) + 0.5 * np.sum(W * W)


def _softmax_grad(theta, X, y, sw, C, K):
    # dJ/dw_c = C sum_i s_i (p_ic - y_ic) x_i + w_c ; dJ/db_c = C sum_i s_i (p_ic - y_ic)
    p = X.shape[1]
    W, b = theta[: p * K].reshape(p, K), theta[p * K:]
    R = softmax(np.asarray(X @ W) + b, axis=1)
    R[np.arange(len(y)), y] -= 1.0
    R *= C * sw[:, None]
    return np.concatenate([(np.asarray(X.T @ R) + W).ravel(), R.sum(0)])


def _reference_J(theta, X, y, sw, C, K):
    # The course's form, written out: class 0 has no weights,
    # P(c|x) = exp(-v_c.x - d_c) / (1 + sum_{k>=1} exp(-v_k.x - d_k)).
    p = X.shape[1]
    V, d = theta[: p * (K - 1)].reshape(p, K - 1), theta[p * (K - 1):]
    E = np.exp(-(np.asarray(X @ V) + d))
    denom = 1.0 + E.sum(1)
    P = np.column_stack([1.0 / denom, E / denom[:, None]])
    return C * -(sw @ np.log(P[np.arange(len(y)), y])) + 0.5 * np.sum(V * V)


def _reference_grad(theta, X, y, sw, C, K):
    # dJ/dv_c = C sum_i s_i (y_ic - p_ic) x_i + v_c  (c >= 1: the logit is -v_c.x)
    p = X.shape[1]
    V, d = theta[: p * (K - 1)].reshape(p, K - 1), theta[p * (K - 1):]
    E = np.exp(-(np.asarray(X @ V) + d))
    P = E / (1.0 + E.sum(1))[:, None]
    Y = (y[:, None] == np.arange(1, K)).astype(float)
    R = C * sw[:, None] * (Y - P)
    return np.concatenate([(np.asarray(X.T @ R) + V).ravel(), R.sum(0)])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("K", [2, 4])
def test_gradients_match_finite_differences(sparse, K):
    X, y, sw = _small_problem(K=K, sparse=sparse)
    rng = np.random.default_rng(1)
    p = X.shape[1]
    for J, grad, size in [(_softmax_J, _softmax_grad, (p + 1) * K),
                          (_reference_J, _reference_grad, (p + 1) * (K - 1))]:
        theta = 0.5 * rng.standard_normal(size)
        err = check_grad(J, grad, theta, X, y, sw, 1.3, K)
        scale = np.linalg.norm(grad(theta, X, y, sw, 1.3, K))
        assert err < 1e-5 * scale, (J.__name__, err, scale)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("reference", [False, True])
def test_full_batch_kernel_step_is_the_gradient_step(sparse, reference):
    """One epoch with batch_size = n is W <- W - eta/(C n) grad J(W)."""
    K = 3
    X, y, sw = _small_problem(K=K, sparse=sparse)
    X = sp.csr_matrix(X)
    n, p = X.shape
    C, eta = 0.7, 0.3
    lam = 1.0 / (C * n)
    rng = np.random.default_rng(2)
    W0 = rng.standard_normal((p, K))
    b0 = rng.standard_normal(K)
    if reference:
        W0[:, 0] = 0.0
        b0[0] = 0.0
    W, b = W0.copy(), b0.copy()
    _kernel(X, y.astype(np.int32), sw, W, b, C=C, lam=lam, eta0=eta,
            batch_size=n, max_iter=1, reference=reference, seed=3)
    g = _softmax_grad(np.concatenate([W0.ravel(), b0]), X, y, sw, C, K)
    gW, gb = g[: p * K].reshape(p, K), g[p * K:]
    if reference:
        gW[:, 0] = 0.0
        gb[0] = 0.0
        # The same step in the course's variables v_c = -w_c (c >= 1).
        theta_v = np.concatenate([-W0[:, 1:].ravel(), -b0[1:]])
        gv = _reference_grad(theta_v, X, y, sw, C, K)
        np.testing.assert_allclose(-gv[: p * (K - 1)].reshape(p, K - 1), gW[:, 1:],
                                   rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W, W0 - eta / (C * n) * gW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, b0 - eta / (C * n) * gb, rtol=1e-10, atol=1e-12)


# ------------------------------------------------- NumPy mini-batch reference
def _numpy_minibatch(X, y, sw, C, eta, B, epochs, rng, reference, svrg):
    """Mini-batch gradient descent (or SVRG) written plainly with dense W."""
    X = X.toarray()
    n, p = X.shape
    K = int(y.max()) + 1
    lam = 1.0 / (C * n)
    W, b = np.zeros((p, K)), np.zeros(K)
    Y = np.eye(K)[y]

    def residuals(W, b, rows):
        R = sw[rows, None] * (softmax(X[rows] @ W + b, axis=1) - Y[rows])
        if reference:
            R[:, 0] = 0.0
        return R

    def objective(W, b):
        return C * -(sw @ log_softmax(X @ W + b, axis=1)[np.arange(n), y]) + 0.5 * np.sum(W * W)

    order = list(range(n))
    best, best_W, best_b = np.inf, None, None
    for _ in range(epochs):
        if svrg:
            obj = objective(W, b)
            if obj < best:
                best, best_W, best_b = obj, W.copy(), b.copy()
            R_snap = residuals(W, b, np.arange(n))
            M, m_b = X.T @ R_snap / n, R_snap.sum(0) / n
        rng.shuffle(order)
        for start in range(0, n, B):
            rows = np.array(order[start:start + B])
            R = residuals(W, b, rows)
            if svrg:
                R = R - R_snap[rows]
            W = (1 - eta * lam) * W - eta / len(rows) * X[rows].T @ R
            b = b - eta / len(rows) * R.sum(0)
            if svrg:
                W = W - eta * M
                b = b - eta * m_b
    if svrg:
        obj = objective(W, b)
        if obj >= best:
            W, b = best_W, best_b
    return W, b


@pytest.mark.parametrize("svrg", [False, True])
@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("B", [1, 7])
def test_kernel_equals_numpy_reference(svrg, reference, B, xorshift):
    X, y, sw = _small_problem(n=50, K=4, sparse=True, seed=3)
    C, eta, epochs, seed = 2.0, 0.2, 4, 12345
    n, p = X.shape
    W, b = np.zeros((p, 4)), np.zeros(4)
    n_iter, status, _, _ = _kernel(
        X, y.astype(np.int32), sw, W, b, C=C, lam=1.0 / (C * n),
        eta0=eta, batch_size=B, max_iter=epochs, reference=reference,
        variance_reduced=svrg, n_iter_no_change=epochs + 1, seed=seed)
    assert n_iter == epochs
    W_ref, b_ref = _numpy_minibatch(X, y, sw, C, eta, B, epochs, xorshift(seed), reference, svrg)
    np.testing.assert_allclose(W, W_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, b_ref, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------- parity with lbfgs
def _dataset(name, synthetic):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y, 0.1
    if name == "wine":
        wine = load_wine()
        return StandardScaler().fit_transform(wine.data), wine.target, 1.0
    return (*synthetic(), 1.0)


def _assert_parity(X, y, C):
    """The default (exact) solver and SVRG reach scikit-learn's optimum at the
    same C (binary problems: one weight vector, in both parametrisations)."""
    sk = SkLogisticRegression(C=C, solver="newton-cg", tol=1e-10, max_iter=1000).fit(X, y)
    J_sk = logistic_objective(sk, X, y)
    for params in ({}, {"solver": "svrg"}, {"parametrization": "reference"}):
        if params and np.unique(y).shape[0] > 2 and "parametrization" in params:
            continue  # three or more classes: the reference form is another model
        ours = LogisticRegression(C=C, **TIGHT, **params).fit(X, y)
        J_ours = ours.objective(X, y)
        assert abs(J_ours - J_sk) <= 1e-6 * abs(J_sk), (params, J_ours, J_sk)
        assert np.max(np.abs(ours.predict_proba(X) - sk.predict_proba(X))) <= 1e-3


@pytest.mark.parametrize("name", ["digits", "wine", "synthetic sparse 20 classes"])
def test_parity_with_lbfgs(name, synthetic):
    _assert_parity(*_dataset(name, synthetic))


@pytest.mark.parametrize("name", ["dna.scale.bz2", "satimage.scale.bz2"])
def test_parity_with_lbfgs_shared(name, shared_libsvm):
    X, y = shared_libsvm(name)
    _assert_parity(X, y, 1.0)


def test_parity_with_lbfgs_a9a_binary(a9a):
    X, y = a9a[0][:5000], a9a[1][:5000]
    _assert_parity(X, y, 1.0)


def test_reference_reaches_the_softmax_log_likelihood():
    """At large C both forms approach the maximum likelihood (unique up to the
    class-0 shift): their log-likelihoods agree with lbfgs's."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((600, 5))
    y = np.argmax(X @ rng.standard_normal((5, 4)) + 2 * rng.gumbel(size=(600, 4)), axis=1)
    C = 1e3
    sk = SkLogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(X, y)
    ll_sk = np.sum(np.log(sk.predict_proba(X)[np.arange(600), y]))
    for par in ["softmax", "reference"]:
        m = LogisticRegression(C=C, parametrization=par, **TIGHT).fit(X, y)
        ll = np.sum(np.log(m.predict_proba(X)[np.arange(600), y]))
        assert abs(ll - ll_sk) <= 1e-3 * abs(ll_sk), (par, ll, ll_sk)
    m = LogisticRegression(C=C, parametrization="reference", **TIGHT).fit(X, y)
    assert np.all(m.coef_[0] == 0) and m.intercept_[0] == 0


# ----------------------------------------------------------- behaviour
_STOCHASTIC = (
    "a stochastic solver: weights and repeated rows are visited in different "
    "orders, so the two fits agree to about 1e-3, not to rtol=1e-7 (the "
    "deterministic version is test_sample_weight_equals_repetition)"
)


@parametrize_with_checks(
    [LogisticRegression(), LogisticRegression(solver="newton-cg"),
     LogisticRegression(solver="svrg", max_iter=20, random_state=0)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC,
        "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC,
    } if est.solver == "svrg" else {},
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("solver", ["svrg", "sgd"])
def test_float32_stays_float32(solver, synthetic):
    X, y = synthetic(n=500, p=50, K=5)
    m = LogisticRegression(solver=solver, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        m.fit(X.astype(np.float32), y)
    assert m.coef_.dtype == np.float32 and m.intercept_.dtype == np.float32
    m64 = LogisticRegression(solver=solver, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        m64.fit(X, y)
    np.testing.assert_allclose(m.coef_, m64.coef_, rtol=1e-4, atol=1e-5)


def test_same_random_state_same_model_and_int64_indices(synthetic):
    X, y = synthetic(n=500, p=50, K=5)
    a = LogisticRegression(random_state=7, **SVRG).fit(X, y)
    b = LogisticRegression(random_state=7, **SVRG).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.loss_curve_ == b.loss_curve_
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    c = LogisticRegression(random_state=7, **SVRG).fit(X64, y)
    np.testing.assert_array_equal(a.coef_, c.coef_)
    d = LogisticRegression(random_state=8, tol=1e-9, max_iter=300, **SVRG).fit(X, y)
    assert not np.array_equal(a.coef_, d.coef_)
    np.testing.assert_allclose(a.coef_, d.coef_, atol=0.05)


def test_string_labels_binary_shapes_and_probabilities(a9a):
    X, y = a9a[0][:2000], a9a[1][:2000]
    labels = np.where(y > 0, "rich", "poor")
    m = LogisticRegression(random_state=0).fit(X, labels)
    assert list(m.classes_) == ["poor", "rich"]
    assert m.coef_.shape == (1, X.shape[1]) and m.intercept_.shape == (1,)
    d = m.decision_function(X)
    assert d.shape == (2000,)
    P = m.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0)
    np.testing.assert_allclose(np.log(P), m.predict_log_proba(X), atol=1e-10)
    assert np.array_equal(m.predict(X), np.where(d > 0, "rich", "poor"))
    assert m.score(X, labels) > 0.8


def test_loss_curve_and_verbose(capsys, synthetic):
    X, y = synthetic(n=400, p=40, K=4)
    m = LogisticRegression(verbose=1, random_state=0, **SVRG).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == m.n_iter_
    assert len(m.loss_curve_) == m.n_iter_ + 1
    assert min(m.loss_curve_) < m.loss_curve_[0]
    assert m.objective(X, y) == pytest.approx(min(m.loss_curve_), rel=1e-10)


def test_loss_curve_grows_with_the_epochs_run(synthetic):
    """The curve is grown as epochs run (past its first 64 entries), not sized by max_iter."""
    X, y = synthetic(n=60, p=5, K=3)
    m = LogisticRegression(max_iter=300, tol=0.0, n_iter_no_change=10**6, random_state=0,
                           **SVRG).fit(X, y)
    assert m.n_iter_ == 300 and len(m.loss_curve_) == 301
    assert np.all(np.isfinite(m.loss_curve_))
    assert m.objective(X, y) == pytest.approx(min(m.loss_curve_), rel=1e-10)
    big = LogisticRegression(max_iter=2**31 - 1, random_state=0, **SVRG).fit(X, y)  # allocates nothing up front
    assert len(big.loss_curve_) == big.n_iter_ + 1


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("solver", ["svrg", "sgd"])
def test_schedules_decrease_the_objective(learning_rate, solver, synthetic):
    X, y = synthetic(n=600, p=60, K=5)
    m = LogisticRegression(solver=solver, learning_rate=learning_rate,
                           max_iter=30, random_state=0)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m.fit(X, y)
    sk = SkLogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    J_sk = logistic_objective(sk, X, y)
    gap = (m.objective(X, y) - J_sk) / J_sk
    assert 0 <= gap + 1e-9
    assert gap < (1e-3 if solver == "svrg" else 5e-2), gap


def test_convergence_warning_and_warm_start(synthetic):
    X, y = synthetic(n=800, p=60, K=5)
    m = LogisticRegression(max_iter=2, warm_start=True, random_state=0, **SVRG)
    with pytest.warns(ConvergenceWarning, match="failed to converge.*max_iter=2 epochs"):
        m.fit(X, y)
    first = m.objective(X, y)
    with pytest.warns(ConvergenceWarning):
        m.fit(X, y)
    assert m.loss_curve_[0] == pytest.approx(first)
    assert m.objective(X, y) < first


def test_divergence_warns_and_keeps_best_weights(synthetic):
    X, y = synthetic(n=300, p=30, K=3)
    m = LogisticRegression(learning_rate="constant", eta0=200.0, random_state=0, **SVRG)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        m.fit(X, y)
    assert np.all(np.isfinite(m.coef_))
    assert m.objective(X, y) <= m.loss_curve_[0] * (1 + 1e-12)  # (two summation orders)


def test_sample_weight_equals_repetition(synthetic):
    X, y = synthetic(n=300, p=30, K=3)
    sw = np.ones(300)
    sw[:100] = 2.0
    Xr = sp.vstack([X, X[:100]]).tocsr()
    yr = np.concatenate([y, y[:100]])
    a = LogisticRegression(C=0.5, **TIGHT).fit(X, y, sample_weight=sw)
    b = LogisticRegression(C=0.5, **TIGHT).fit(Xr, yr)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=2e-3)


def test_partial_fit_learns_in_chunks(synthetic):
    X, y = synthetic(n=3000, p=100, K=5)
    m = LogisticRegression(random_state=0)
    classes = np.unique(y)
    for _epoch in range(5):
        for start in range(0, 3000, 500):
            m.partial_fit(X[start:start + 500], y[start:start + 500], classes=classes)
    assert m.n_samples_seen_ == 15000
    full = LogisticRegression(random_state=0).fit(X, y)
    assert m.score(X, y) > full.score(X, y) - 0.05


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("params, match", [
    (dict(batch_size=0), "'batch_size' parameter of LogisticRegression must be an int in the range \\[1, 2147483647"),
    # Bounded by what the kernel's C ints hold (and no loss curve sized by max_iter).
    (dict(max_iter=10**12), "'max_iter' parameter of LogisticRegression must be an int in the range"),
    (dict(n_iter_no_change=2**40), "'n_iter_no_change' parameter"),
    (dict(batch_size=-3), "'batch_size' parameter"),
    (dict(eta0=0.0), "'eta0' parameter of LogisticRegression must be"),
    (dict(eta0=-1.0), "'eta0' parameter"),
    (dict(C=0), "'C' parameter"),
    (dict(parametrization="course"), "'parametrization' parameter"),
    (dict(learning_rate="optimal"), "'learning_rate' parameter"),
])
def test_bad_parameters(params, match, synthetic):
    X, y = synthetic(n=50, p=10, K=3)
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, y)


def test_eta0_too_large_for_the_l2_step(synthetic):
    X, y = synthetic(n=50, p=10, K=3)
    with pytest.raises(ValueError, match="eta0=1000.0 is too large"):
        LogisticRegression(eta0=1000.0, C=1.0, **SVRG).fit(X, y)


def test_partial_fit_needs_classes_and_rejects_unseen_labels(synthetic):
    X, y = synthetic(n=100, p=10, K=3)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        LogisticRegression().partial_fit(X, y)
    m = LogisticRegression().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="y contains labels not in classes: \\[7\\]"):
        m.partial_fit(X[:3], [0, 7, 1])
    with pytest.raises(ValueError, match="is not the same as classes_"):
        m.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="y contains labels not in classes"):
        LogisticRegression().partial_fit(X, y, classes=[0, 1])


def test_bad_data(synthetic):
    X, y = synthetic(n=60, p=10, K=3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X, np.zeros(60))
    with pytest.raises(ValueError, match="sample_weight.shape == \\(3,\\), expected \\(60,\\)"):
        LogisticRegression().fit(X, y, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        LogisticRegression().fit(X, y, sample_weight=-np.ones(60))
    Xnan = X.copy()
    Xnan.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(Xnan, y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        LogisticRegression().fit(X, np.where(y == 0, np.nan, y))
    bad = sp.csr_matrix((X.data, X.indices.copy(), X.indptr), shape=X.shape)
    bad.indices[0] = 99
    with pytest.raises(ValueError, match="column index 99"):
        LogisticRegression().fit(bad, y)
    m = LogisticRegression(max_iter=1)
    with pytest.warns(ConvergenceWarning):
        m.fit(X, y)
    with pytest.raises(ValueError, match="not fitted on"):
        m.objective(X, y + 5)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :5])


def test_kernel_checks_what_it_reads(synthetic):
    X, y = synthetic(n=20, p=5, K=3)
    W, b = np.zeros((5, 3)), np.zeros(3)
    kw = dict(C=1.0, lam=0.05, eta0=0.1, batch_size=4, max_iter=2,
              variance_reduced=True, track_objective=True)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        _logistic_fast.minibatch_sgd(X, y.astype(np.int32), np.ones(20), W, b, {})
    ind = X.indices.copy()
    ind[-1] = 5
    with pytest.raises(ValueError, match="column index 5, outside"):
        _kernel(sp.csr_matrix((X.data, ind, X.indptr), shape=X.shape), y.astype(np.int32),
                np.ones(20), W, b, **kw)
    with pytest.raises(ValueError, match="label outside"):
        _kernel(X, np.full(20, 3, dtype=np.int32), np.ones(20), W, b, **kw)


def test_caller_arrays_untouched(synthetic):
    X, y = synthetic(n=200, p=20, K=3)
    sw = np.linspace(0.5, 1.5, 200)
    copies = [a.copy() for a in (X.data, X.indices, X.indptr, y, sw)]
    LogisticRegression(random_state=0).fit(X, y, sample_weight=sw)
    for before, after in zip(copies, (X.data, X.indices, X.indptr, y, sw), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_cg_on_features_shifted_by_1e8_warns(n_classes):
    """Features ``z + 1e8`` (a Hessian conditioned near 1e16): newton-cg's
    conjugate gradients find no decrease with the largest gradient entry at
    2e-9 of its bound, a majority-class model.  That used to count as
    rounding level (1e-6), converged, without a warning; Newton-Cholesky's
    exact steps go on to a model of 90 % accuracy.  ``tol=0`` fits end at
    1e-19 to 4e-11 of the bound, and still converge."""
    rng = np.random.RandomState(7)
    Z = rng.randn(300, 6)
    if n_classes == 2:
        y = (Z[:, 0] + Z[:, 1] + 0.5 * rng.randn(300) > 0).astype(int)
    else:
        y = np.argmax(Z[:, :3] + 0.5 * rng.randn(300, 3), axis=1)
    with pytest.warns(ConvergenceWarning):
        LogisticRegression(solver="newton-cg").fit(Z + 1e8, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for X in (Z, Z * np.logspace(-6, 6, 6)):
            LogisticRegression(solver="newton-cg", tol=0.0, max_iter=300).fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_hessian_that_overflows_gives_the_overflow_error(n_classes):
    """C = 1e300 on values of 1e5: the Hessian overflows float64.  The fit
    used to leak NumPy's RuntimeWarnings and return an all-zero model with
    ``n_iter_ = 0`` and a line-search warning; now the error that says what
    overflows.  liblinear's problem is solved by its kernel, which rescales
    the costs."""
    rng = np.random.RandomState(0)
    X = rng.randn(6 * n_classes, 3) * 1e5
    y = np.arange(6 * n_classes) % n_classes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflows float64"):
            LogisticRegression(C=1e300).fit(X, y)
        if n_classes == 2:
            est = LogisticRegression(C=1e300, solver="liblinear").fit(X, y)
            assert est.n_iter_[0] > 0 and np.all(np.isfinite(est.coef_))
            assert np.any(est.coef_ != 0)
