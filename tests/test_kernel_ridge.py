"""fastlinear.KernelRidge: parity with scikit-learn, the closed form, bad input.

Correctness three ways: (1) equality with ``sklearn.kernel_ridge.KernelRidge``
(dual coefficients and predictions) for every kernel; (2) the linear kernel
against ridge regression's own closed form ``w = (X^T X + lambda I)^-1 X^T y
= X^T beta``; (3) the solution against its definition, ``(K + lambda I) beta
= y`` (and the weighted stationarity condition), on random problems.
"""
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import LinAlgWarning
from sklearn import config_context
from sklearn.kernel_approximation import Nystroem
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.linear_model import Ridge
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import fastlinear
import fastlinear.kernel_ridge as kr_module
from fastlinear import KernelRidge
from fastlinear.kernel_ridge import KernelMatrixMemoryError


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """The problems here are tiny: BLAS threads only fight over shared cores."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# Kernels and parameters for which K + alpha I is positive definite on the
# data below (the sigmoid kernel is indefinite in general: small gamma and
# coef0=0 keep it close to a scaled linear kernel).
KERNELS = {
    "linear": {},
    "rbf": {"gamma": 0.3},
    "poly": {"degree": 2, "gamma": 0.5, "coef0": 1.0},
    "sigmoid": {"gamma": 0.05, "coef0": 0.0},
    "laplacian": {"gamma": 0.2},
    "cosine": {},
}


def assert_close(actual, desired, rtol=1e-8):
    """Relative agreement, measured against the size of ``desired``."""
    desired = np.asarray(desired)
    scale = np.abs(desired).max() if desired.size else 1.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


def make_data(n=40, n_features=5, n_targets=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    X[rng.rand(n, n_features) < 0.4] = 0.0  # some sparsity for the CSR runs
    w = rng.randn(n_features, n_targets or 1)
    Y = np.sin(X @ w) + 0.1 * rng.randn(n, n_targets or 1)
    y = Y.ravel() if n_targets is None else Y
    X_test = rng.randn(9, n_features)
    return X, y, X_test


# ---------------------------------------------------------------- parity --


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_sklearn(kernel, n_targets, sparse):
    X, y, X_test = make_data(n_targets=n_targets)
    if sparse:
        X, X_test = sp.csr_matrix(X), sp.csr_matrix(X_test)
    params = dict(alpha=0.7, kernel=kernel, **KERNELS[kernel])
    ours = KernelRidge(**params).fit(X, y)
    ref = SkKernelRidge(**params).fit(X, y)
    assert ours.dual_coef_.shape == ref.dual_coef_.shape
    assert_close(ours.dual_coef_, ref.dual_coef_)
    assert_close(ours.predict(X_test), ref.predict(X_test))
    assert ours.n_features_in_ == X.shape[1]
    assert ours.X_fit_.shape == X.shape


@pytest.mark.parametrize("kernel", ["chi2", "polynomial", "precomputed"])
def test_matches_sklearn_other_kernels(kernel):
    X, y, X_test = make_data(n_targets=2)
    if kernel == "chi2":  # defined for non-negative features
        X, X_test = np.abs(X), np.abs(X_test)
    fit_X, test_X = X, X_test
    if kernel == "precomputed":
        fit_X = pairwise_kernels(X, metric="rbf", gamma=0.3)
        test_X = pairwise_kernels(X_test, X, metric="rbf", gamma=0.3)
    ours = KernelRidge(alpha=0.3, kernel=kernel).fit(fit_X, y)
    # sklearn passes gamma=None on to chi2_kernel, which fails: give it the
    # chi2 default (1.0) explicitly; fastlinear leaves None to the kernel.
    ref_gamma = 1.0 if kernel == "chi2" else None
    ref = SkKernelRidge(alpha=0.3, kernel=kernel, gamma=ref_gamma).fit(fit_X, y)
    assert_close(ours.dual_coef_, ref.dual_coef_)
    assert_close(ours.predict(test_X), ref.predict(test_X))


def test_callable_kernel_with_params_matches_sklearn():
    X, y, X_test = make_data(n=15, n_features=3)

    def kernel(a, b, scale):
        return np.exp(-scale * np.abs(a - b).sum())

    params = dict(alpha=0.5, kernel=kernel, kernel_params={"scale": 0.4})
    ours = KernelRidge(**params).fit(X, y)
    ref = SkKernelRidge(**params).fit(X, y)
    assert_close(ours.dual_coef_, ref.dual_coef_)
    assert_close(ours.predict(X_test), ref.predict(X_test))


@pytest.mark.parametrize("alpha", [0.4, [0.01, 1.0, 0.01]])
@pytest.mark.parametrize("sparse", [False, True])
def test_sample_weight_and_per_target_alpha_match_sklearn(alpha, sparse):
    X, Y, X_test = make_data(n_targets=3)
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.0, 3.0, size=X.shape[0])
    sw[:4] = 0.0
    if sparse:
        X = sp.csr_matrix(X)
    ours = KernelRidge(alpha=alpha, kernel="rbf", gamma=0.3).fit(X, Y, sample_weight=sw)
    ref = SkKernelRidge(alpha=alpha, kernel="rbf", gamma=0.3).fit(X, Y, sample_weight=sw)
    assert_close(ours.dual_coef_, ref.dual_coef_)
    assert_close(ours.predict(X_test), ref.predict(X_test))
    # a zero weight leaves the sample out of the expansion
    np.testing.assert_array_equal(ours.dual_coef_[:4], 0.0)


def test_scalar_sample_weight_matches_sklearn():
    X, y, X_test = make_data()
    ours = KernelRidge(alpha=0.5, kernel="rbf").fit(X, y, sample_weight=2.5)
    ref = SkKernelRidge(alpha=0.5, kernel="rbf").fit(X, y, sample_weight=2.5)
    assert_close(ours.predict(X_test), ref.predict(X_test))


def test_per_target_alpha_equals_separate_fits():
    X, Y, X_test = make_data(n_targets=3)
    alphas = [0.1, 2.0, 0.1]
    joint = KernelRidge(alpha=alphas, kernel="laplacian").fit(X, Y)
    for t, alpha in enumerate(alphas):
        single = KernelRidge(alpha=alpha, kernel="laplacian").fit(X, Y[:, t])
        assert_close(joint.dual_coef_[:, t], single.dual_coef_, rtol=1e-12)


def test_column_vector_y_keeps_its_shape():
    X, y, X_test = make_data()
    model = KernelRidge(kernel="rbf").fit(X, y.reshape(-1, 1))
    assert model.dual_coef_.shape == (X.shape[0], 1)
    assert model.predict(X_test).shape == (X_test.shape[0], 1)


@pytest.mark.parametrize("y_dtype", [np.float32, np.float64])
def test_float32_dtypes_follow_sklearn(y_dtype):
    X, y, X_test = make_data()
    X32, X_test32 = X.astype(np.float32), X_test.astype(np.float32)
    y = y.astype(y_dtype)
    ours = KernelRidge(kernel="rbf", gamma=0.3).fit(X32, y)
    ref = SkKernelRidge(kernel="rbf", gamma=0.3).fit(X32, y)
    assert ours.dual_coef_.dtype == ref.dual_coef_.dtype == np.result_type(np.float32, y_dtype)
    assert ours.predict(X_test32).dtype == ref.predict(X_test32).dtype
    rtol = 1e-4 if y_dtype == np.float32 else 1e-8
    assert_close(ours.dual_coef_, ref.dual_coef_, rtol=rtol)
    assert_close(ours.predict(X_test32), ref.predict(X_test32), rtol=rtol)


def test_integer_input_is_fitted_in_float64():
    rng = np.random.RandomState(0)
    X = rng.randint(-3, 4, size=(30, 4))
    y = rng.randint(0, 5, size=30)
    model = KernelRidge(kernel="poly", degree=2).fit(X, y)
    assert model.dual_coef_.dtype == np.float64
    assert_close(model.predict(X), SkKernelRidge(kernel="poly", degree=2).fit(X, y).predict(X))


# ------------------------------------------------------ the closed form --


def test_linear_kernel_is_ridge_regression():
    X, y, X_test = make_data(n=30, n_features=8)
    lam = 0.9
    model = KernelRidge(alpha=lam, kernel="linear").fit(X, y)
    w_dual = X.T @ model.dual_coef_  # w = sum_i beta_i x_i
    w_primal = np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
    assert_close(w_dual, w_primal, rtol=1e-10)
    ridge = Ridge(alpha=lam, fit_intercept=False, solver="cholesky").fit(X, y)
    assert_close(w_dual, ridge.coef_, rtol=1e-10)
    assert_close(model.predict(X_test), X_test @ w_primal, rtol=1e-10)


def test_weighted_linear_kernel_is_weighted_ridge():
    X, y, X_test = make_data(n=30, n_features=8)
    sw = np.random.RandomState(3).uniform(0.1, 2.0, size=30)
    model = KernelRidge(alpha=0.5, kernel="linear").fit(X, y, sample_weight=sw)
    w_primal = np.linalg.solve(X.T @ (sw[:, None] * X) + 0.5 * np.eye(8), X.T @ (sw * y))
    assert_close(X.T @ model.dual_coef_, w_primal, rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 25),
    n_targets=st.integers(1, 3),
    log_alpha=st.floats(-3, 2),
    kernel=st.sampled_from(["linear", "rbf", "laplacian", "poly"]),
    seed=st.integers(0, 2**16),
)
def test_dual_coef_solves_its_definition(n, n_targets, log_alpha, kernel, seed):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = rng.randn(n, n_targets)
    lam = 10.0**log_alpha
    model = KernelRidge(alpha=lam, kernel=kernel).fit(X, Y)
    K = model._get_kernel(X)
    beta = model.dual_coef_
    residual = (K + lam * np.eye(n)) @ beta - Y
    scale = np.linalg.norm(K, 2) * np.abs(beta).max() + np.abs(Y).max()
    assert np.abs(residual).max() <= 1e-10 * scale


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 20), seed=st.integers(0, 2**16))
def test_weighted_solution_is_stationary(n, seed):
    # Gradient of 1/2 sum s_i (y_i - (K b)_i)^2 + lam/2 b^T K b is
    # K (lam b - S^2 (y - K b)); the bracket vanishes at the solution.
    rng = np.random.RandomState(seed)
    X, y = rng.randn(n, 2), rng.randn(n)
    sw = rng.uniform(0.0, 2.0, size=n)
    lam = 0.3
    model = KernelRidge(alpha=lam, kernel="rbf").fit(X, y, sample_weight=sw)
    K, beta = model._get_kernel(X), model.dual_coef_
    stationarity = lam * beta - sw * (y - K @ beta)
    assert np.abs(stationarity).max() <= 1e-10 * (np.abs(y).max() + 1.0)


def test_predict_in_row_blocks_equals_one_block():
    X, Y, _ = make_data(n_targets=2)
    X_test = np.random.RandomState(5).randn(300, X.shape[1])
    model = KernelRidge(kernel="rbf", gamma=0.3).fit(X, Y)
    whole = model.predict(X_test)
    with config_context(working_memory=0.001):  # ~1 kB: a few rows a block
        blocked = model.predict(X_test)
    assert_close(blocked, whole, rtol=1e-14)
    assert_close(whole, pairwise_kernels(X_test, X, metric="rbf", gamma=0.3) @ model.dual_coef_)


# ------------------------------------------------ the Nystroem route --


def test_nystroem_with_every_sample_equals_kernel_ridge():
    # With n_components = n_samples the Nystroem features reproduce K
    # exactly, so ridge on them is kernel ridge: the README's route is the
    # same model, made approximate only by using fewer components.
    X, y, X_test = make_data(n=60, n_features=3)
    lam, gamma = 0.5, 0.3
    exact = KernelRidge(alpha=lam, kernel="rbf", gamma=gamma).fit(X, y)
    route = make_pipeline(
        Nystroem(kernel="rbf", gamma=gamma, n_components=60, random_state=0),
        Ridge(alpha=lam, fit_intercept=False),
    ).fit(X, y)
    assert_close(route.predict(X_test), exact.predict(X_test), rtol=1e-6)


# -------------------------------------------------------- memory guard --


def test_memory_guard_refuses_before_allocating(monkeypatch):
    X, y, _ = make_data(n=50)
    monkeypatch.setattr(kr_module, "_available_memory_bytes", lambda: 10_000)

    def no_kernel(*args, **kwargs):
        raise AssertionError("the kernel was computed despite the guard")

    monkeypatch.setattr(kr_module, "pairwise_kernels", no_kernel)
    needed = 2 * 50 * 50 * 8  # kernel + working copy, float64
    with pytest.raises(KernelMatrixMemoryError) as info:
        KernelRidge(kernel="rbf").fit(X, y)
    message = str(info.value)
    assert f"{needed:,} bytes" in message
    assert "10,000 bytes" in message
    assert "Nystroem(kernel='rbf'" in message and "fastlinear.LinearSVC" in message
    assert "up to about 25 samples" in message  # sqrt(10000 / 16)
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
    assert not hasattr(KernelRidge(), "dual_coef_")


def test_memory_guard_counts_float32_and_precomputed(monkeypatch):
    X, y, _ = make_data(n=20)
    monkeypatch.setattr(kr_module, "_available_memory_bytes", lambda: 100)
    y32 = y.astype(np.float32)
    with pytest.raises(KernelMatrixMemoryError, match=re.escape(f"{2 * 400 * 4:,} bytes")):
        KernelRidge().fit(X.astype(np.float32), y32)
    monkeypatch.setattr(kr_module, "_available_memory_bytes", lambda: None)
    callable_kernel = KernelRidge(kernel=lambda a, b: float(a @ b))
    assert callable_kernel._get_kernel(X[:3].astype(np.float32)).dtype == np.float32
    monkeypatch.setattr(kr_module, "_available_memory_bytes", lambda: 100)
    K = X @ X.T  # given: only the working copy is new
    with pytest.raises(KernelMatrixMemoryError, match=re.escape(f"{400 * 8:,} bytes")) as info:
        KernelRidge(kernel="precomputed").fit(K, y)
    assert "Nystroem(kernel='rbf'" in str(info.value)
    with pytest.raises(KernelMatrixMemoryError, match=re.escape(f"{2 * 400 * 8:,} bytes")):
        KernelRidge(kernel="precomputed").fit(K, y, sample_weight=np.ones(20))


def test_memory_guard_lets_small_problems_through(monkeypatch):
    X, y, _ = make_data(n=20)
    monkeypatch.setattr(kr_module, "_available_memory_bytes", lambda: 2 * 400 * 8)
    KernelRidge().fit(X, y)  # exactly enough
    monkeypatch.setattr(kr_module, "_available_memory_bytes", lambda: None)
    KernelRidge().fit(X, y)  # unknown: no guard


def test_memory_guard_on_a_real_too_large_problem():
    # One million samples need 2 * 8e12 bytes: refused using the running machine's
    # real available memory, long before anything that size is allocated.
    n = 1_000_000
    X = np.zeros((n, 1))
    y = np.zeros(n)
    with pytest.raises(KernelMatrixMemoryError, match=r"16,000,000,000,000 bytes"):
        KernelRidge(kernel="rbf").fit(X, y)


def test_available_memory_is_a_positive_count():
    available = kr_module._available_memory_bytes()
    if sys.platform.startswith("linux"):
        # /proc/meminfo exists on Linux: the count must be known.
        assert isinstance(available, int) and available > 0
    else:
        assert available is None or (isinstance(available, int) and available > 0)


def test_available_memory_respects_ulimit_v():
    """RLIMIT_AS (ulimit -v) caps the count, in a child process."""
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS and /proc/self/status are Linux facts")
    code = (
        "import resource; from fastlinear._memory import available_memory_bytes as a\n"
        "before = a()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, resource.RLIM_INFINITY))\n"
        "after = a()\n"
        "print(before, after)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = (int(v) for v in out.stdout.split())
    assert 0 < after <= 6 * 2**30 and after <= before


# ---------------------------------------------------- numerical trouble --


def test_indefinite_kernel_falls_back_to_least_squares_like_sklearn():
    X, Y, X_test = make_data(n_targets=2)
    with pytest.warns(LinAlgWarning, match="not positive definite.*least-squares"):
        ours = KernelRidge(kernel="sigmoid").fit(X, Y)  # gamma=1/5, coef0=1
    with pytest.warns(UserWarning, match="least-squares"):
        ref = SkKernelRidge(kernel="sigmoid").fit(X, Y)
    assert_close(ours.dual_coef_, ref.dual_coef_)
    K = ours._get_kernel(X) + np.eye(X.shape[0])
    assert_close(ours.dual_coef_, np.linalg.lstsq(K, Y, rcond=None)[0], rtol=1e-6)


def test_fallback_also_works_with_per_target_alpha():
    K = -np.eye(4)  # negative definite "kernel"
    y = np.arange(8.0).reshape(4, 2)
    with pytest.warns(LinAlgWarning, match="not positive definite"):
        model = KernelRidge(kernel="precomputed", alpha=[0.5, 0.25]).fit(K, y)
    assert_close(model.dual_coef_, np.column_stack([y[:, 0] / -0.5, y[:, 1] / -0.75]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_cholesky_is_the_cholesky(monkeypatch, dtype):
    """Large systems are factorised block by block (interruptible); same
    solution as one LAPACK call, and the same fallback when not definite."""
    X, Y, X_test = make_data(n_targets=2)
    X = X.astype(dtype)
    one_call = KernelRidge(alpha=0.7, kernel="rbf").fit(X, Y)
    monkeypatch.setattr(kr_module, "BLOCKED_CHOLESKY_MIN", 16)
    monkeypatch.setattr(kr_module, "CHOLESKY_BLOCK", 24)
    blocked = KernelRidge(alpha=0.7, kernel="rbf").fit(X, Y)
    assert_close(blocked.dual_coef_, one_call.dual_coef_, rtol=1e-4 if dtype == np.float32 else 1e-10)
    with pytest.warns(LinAlgWarning, match="not positive definite.*least-squares"):
        KernelRidge(kernel="sigmoid").fit(X, Y)


def test_ill_conditioned_system_warns_and_keeps_cholesky_solution():
    K = np.diag([1.0, 1e-20])
    with pytest.warns(LinAlgWarning, match="ill-conditioned"):
        model = KernelRidge(kernel="precomputed", alpha=0.0).fit(K, [1.0, 1e-20])
    assert_close(model.dual_coef_, [1.0, 1.0])


def test_well_conditioned_fit_does_not_warn():
    X, y, _ = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KernelRidge(kernel="rbf").fit(X, y)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_overflowing_kernel_is_reported():
    X = np.full((5, 2), 1e3)
    with pytest.raises(ValueError, match="NaN or infinity.*gamma, degree"):
        KernelRidge(kernel="poly", degree=200, gamma=1.0).fit(X, np.ones(5))


def test_asymmetric_precomputed_kernel_warns():
    K = np.eye(3)
    K[0, 2] = 0.5
    with pytest.warns(UserWarning, match="not symmetric"):
        KernelRidge(kernel="precomputed").fit(K, np.ones(3))


# ------------------------------------------------------------ bad input --


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -1.0}, r"'alpha' parameter of KernelRidge must be a float in the range \[0.0, inf\)"),
        ({"kernel": "gaussian"}, r"'kernel' parameter of KernelRidge must be a str among .*Got 'gaussian'"),
        ({"gamma": -0.1}, r"'gamma' parameter of KernelRidge must be"),
        ({"degree": -2}, r"'degree' parameter of KernelRidge must be"),
        ({"alpha": [1.0, -1.0]}, r"alpha must be finite and >= 0"),
        ({"alpha": [1.0, np.nan]}, r"alpha must be finite and >= 0"),
        ({"alpha": [1.0, 2.0, 3.0]}, r"alpha has shape \(3,\), but y has 2 target"),
        ({"alpha": [[1.0, 2.0]]}, r"alpha has shape \(1, 2\)"),
    ],
)
def test_bad_parameters(params, match):
    X, Y, _ = make_data(n_targets=2)
    with pytest.raises(ValueError, match=match):
        KernelRidge(**params).fit(X, Y)


def test_non_numeric_alpha_is_a_type_error():
    X, y, _ = make_data()
    with pytest.raises(TypeError, match="alpha must be a float or an array of floats"):
        KernelRidge(alpha=["a"]).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_refused(bad):
    X, y, X_test = make_data()
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        KernelRidge().fit(X_bad, y)
    with pytest.raises(ValueError, match="Input X contains"):
        KernelRidge().fit(sp.csr_matrix(X_bad), y)
    y_bad = y.copy()
    y_bad[0] = bad
    with pytest.raises(ValueError, match="Input y contains"):
        KernelRidge().fit(X, y_bad)
    model = KernelRidge().fit(X, y)
    X_test[0, 0] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        model.predict(X_test)


def test_bad_sample_weight():
    X, y, _ = make_data()
    with pytest.raises(ValueError, match="sample_weight has negative entries"):
        KernelRidge().fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match=r"expected \(40,\)"):
        KernelRidge().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        KernelRidge().fit(X, y, sample_weight=np.full(X.shape[0], np.nan))
    with pytest.raises(ValueError, match="sample_weight.*zero"):
        KernelRidge().fit(X, y, sample_weight=np.zeros(X.shape[0]))


def test_precomputed_kernel_must_be_square():
    X, y, X_test = make_data()
    with pytest.raises(ValueError, match=r"square kernel matrix .* got shape \(40, 5\)"):
        KernelRidge(kernel="precomputed").fit(X, y)
    with pytest.raises(ValueError, match=r"square kernel matrix .* got shape \(40, 5\)"):
        KernelRidge(kernel="precomputed").fit(sp.csr_matrix(X), y)
    with pytest.raises(ValueError, match=r"square kernel matrix .* got shape \(40, 5\)"):
        KernelRidge(kernel="precomputed").fit(X.tolist(), y)
    K = X @ X.T
    model = KernelRidge(kernel="precomputed").fit(K, y)
    expected = r"X has 5 features, but KernelRidge is expecting 40 .*shape \(n_queries, 40\)"
    with pytest.raises(ValueError, match=expected):
        model.predict(X_test)
    assert_close(model.predict(X_test @ X.T), KernelRidge().fit(X, y).predict(X_test))


def test_sparse_precomputed_kernel_is_densified():
    X, y, X_test = make_data()
    K = X @ X.T
    dense = KernelRidge(kernel="precomputed").fit(K, y)
    sparse = KernelRidge(kernel="precomputed").fit(sp.csr_matrix(K), y)
    assert_close(sparse.dual_coef_, dense.dual_coef_, rtol=1e-12)


def test_malformed_csr_is_refused():
    X, y, _ = make_data()
    X_csr = sp.csr_matrix(X)
    bad = sp.csr_matrix(
        (X_csr.data.copy(), X_csr.indices.copy(), X_csr.indptr.copy()), shape=X_csr.shape
    )
    bad.indices[0] = 99  # outside [0, n_features)
    with pytest.raises(ValueError, match="outside \\[0, n_features=5\\)"):
        KernelRidge(kernel="rbf").fit(bad, y)


def test_wrong_number_of_features_in_predict():
    X, y, X_test = make_data()
    model = KernelRidge(kernel="rbf").fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but KernelRidge is expecting 5"):
        model.predict(X_test[:, :4])


# ------------------------------------------------- the caller's arrays --


def test_caller_arrays_are_not_modified():
    X, Y, X_test = make_data(n_targets=2)
    K = pairwise_kernels(X, metric="rbf")
    sw = np.linspace(0.0, 2.0, X.shape[0])
    copies = [a.copy() for a in (X, Y, X_test, K, sw)]
    KernelRidge(kernel="rbf").fit(X, Y, sample_weight=sw).predict(X_test)
    KernelRidge(kernel="precomputed", alpha=[1.0, 0.5]).fit(K, Y, sample_weight=sw)
    KernelRidge(kernel="precomputed").fit(K, Y)
    for original, copy in zip((X, Y, X_test, K, sw), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_non_canonical_csr_is_left_alone_and_read_correctly():
    X, y, X_test = make_data()
    csr = sp.csr_matrix(X)
    # the same matrix with every entry split in two halves, indices reversed
    data, indices = [], []
    for i in range(X.shape[0]):
        row = slice(csr.indptr[i], csr.indptr[i + 1])
        data += [csr.data[row][::-1] / 2] * 2
        indices += [csr.indices[row][::-1]] * 2
    dup = sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), 2 * csr.indptr), shape=X.shape
    )
    assert not dup.has_canonical_format
    before = (dup.data.copy(), dup.indices.copy(), dup.indptr.copy())
    model = KernelRidge(kernel="rbf", gamma=0.3).fit(dup, y)
    for a, b in zip(before, (dup.data, dup.indices, dup.indptr), strict=True):
        np.testing.assert_array_equal(a, b)
    assert_close(model.predict(X_test), KernelRidge(kernel="rbf", gamma=0.3).fit(X, y).predict(X_test))


def test_exported_from_package():
    assert fastlinear.KernelRidge is KernelRidge
    assert "KernelRidge" in fastlinear.__all__


# ------------------------------------------------- scikit-learn contract --


# The linear instance covers every computed kernel (they share one code path;
# the parity tests above cover each kernel); precomputed has its own path.
@parametrize_with_checks([KernelRidge(), KernelRidge(kernel="precomputed")])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --- string targets, overflow in predict, verbose ---------------------------------


@pytest.mark.parametrize("y", [
    ["a", "b", "c", "d"],
    np.array(["1.0", "2.0", "3.0", "4.0"]),
    np.array(["a", 1, 2, 3], dtype=object),
    np.array([[b"a"], [b"b"], [b"c"], [b"d"]]),
], ids=["list", "str-array", "object", "bytes-2d"])
def test_string_targets_are_refused(y):
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match=r"KernelRidge needs numeric targets \(regression\); "
                                         r"got strings .*Convert y to numbers"):
        KernelRidge().fit(X, y)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("kernel", ["linear", "precomputed"])
def test_non_finite_predictions_warn(kernel):
    """Rows near the float maximum overflow the kernel expansion: a warning, not silence."""
    from fastlinear._validation import NonFinitePredictionWarning

    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = X @ np.array([1.0, 2.0, 3.0])
    X_new = np.full((3, 3), 1e308)
    X_new[0] = 1.0
    if kernel == "precomputed":
        krr = KernelRidge(kernel=kernel).fit(X @ X.T, y)
        X_fit, X_new = X @ X.T, X_new[:1] @ X.T
        # Same signs as dual_coef_: the expansion sums to 1e308 * sum|dual_coef_|.
        big = 1e308 * np.sign(krr.dual_coef_)
        assert np.sum(np.abs(krr.dual_coef_)) > 2.0
        X_new = np.vstack([X_new, big, big])
    else:
        krr = KernelRidge(kernel=kernel).fit(X, y)
        X_fit = X
    with pytest.warns(NonFinitePredictionWarning,
                      match=r"KernelRidge.predict produced non-finite values for 2 of 3 rows"):
        pred = krr.predict(X_new)
    assert np.isfinite(pred[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFinitePredictionWarning)
        krr.predict(X_fit)


def test_verbose_prints_an_estimate_and_the_progress(monkeypatch, capsys):
    """verbose=1: the memory and rough time before the O(n^3) work, then at most
    about ten progress lines of the blocked factorisation (made small here)."""
    monkeypatch.setattr(kr_module, "BLOCKED_CHOLESKY_MIN", 64)
    monkeypatch.setattr(kr_module, "CHOLESKY_BLOCK", 16)
    rng = np.random.RandomState(0)
    n = 400  # 25 blocks of 16
    X = rng.randn(n, 3)
    y = rng.randn(n)
    krr = KernelRidge(kernel="rbf", alpha=0.1, verbose=1).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert re.search(rf"n_samples=400: the 400 x 400 kernel and its working copy need "
                     rf"{2 * 8 * n * n:,} bytes .* n\^3/3 = 2\.13e\+07 flops each: about .* s "
                     r"at .* GFLOP/s .*rough estimate", out[0])
    progress = [line for line in out if "Cholesky: block" in line]
    assert 5 <= len(progress) <= 11
    assert progress[-1].startswith("[KernelRidge] Cholesky: block 25/25 (100% of the blocks, "
                                   "100% of the flops)")
    # The progress callback does not change the result.
    quiet = KernelRidge(kernel="rbf", alpha=0.1).fit(X, y)
    assert capsys.readouterr().out == ""
    np.testing.assert_allclose(krr.dual_coef_, quiet.dual_coef_, rtol=1e-10)


def test_verbose_small_n_reports_the_single_lapack_call(capsys):
    X = np.random.RandomState(0).randn(50, 2)
    KernelRidge(verbose=True).fit(X, X[:, 0])
    out = capsys.readouterr().out
    assert "n_samples=50" in out and "Cholesky (one LAPACK call, n=50)" in out


def test_verbose_is_validated():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'verbose' parameter of KernelRidge"):
        KernelRidge(verbose=-1).fit(np.eye(3), [1.0, 2.0, 3.0])
