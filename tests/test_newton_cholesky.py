"""The exact (Cholesky) Newton solvers (``fastlinear._newton_cholesky``) and their
Hessian kernel (``src_c/_hessian_fast.pyx``).

The kernel against dense NumPy twins (``X~^T D X~`` and the explicit
Kronecker sum) for every value and index type; the objective's gradient and
Hessian against finite differences; the solutions against scikit-learn's
``LogisticRegression`` (objective to 1e-9 relative against lbfgs at
``tol=1e-10``; coefficients to 1e-6 against its newton-cholesky, which
reaches the optimum to rounding where lbfgs stops at a gradient of about
``1e-10 n C`` and, on iris, leaves coefficients 1e-5 away); optimality
(``max |g| <= threshold``) by an independent NumPy gradient; the null-space
construction of the multinomial system against the minimum-norm solution.
"""
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from fastlinear import LogisticRegression, _hessian_fast, _newton_cholesky, logistic_objective
from fastlinear._csr_fast import checked_csr
from fastlinear._problem import LinearProblem
from fastlinear._solvers import Status, gradient_bound, newton_tol, scaled_gradient, settle
from fastlinear._validation import proved_csr

# ------------------------------------------------------------ NumPy twins


def dense_tilde(X, bias):
    """``X~ = [X, bias]`` as a dense float64 array."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return np.hstack([X.astype(np.float64), np.full((X.shape[0], 1), float(bias))])


def binary_hessian_twin(Xt, d):
    return Xt.T @ (d[:, None] * Xt)


def multinomial_hessian_twin(Xt, s, P):
    """``sum_i s_i (x~_i x~_i^T) kron (diag(p_i) - p_i p_i^T)``, term by term."""
    m, K = Xt.shape[1], P.shape[1]
    H = np.zeros((m * K, m * K))
    for i in range(Xt.shape[0]):
        H += s[i] * np.kron(np.outer(Xt[i], Xt[i]), np.diag(P[i]) - np.outer(P[i], P[i]))
    return H


def penalty_rows(m, lam, reg_bias):
    rows = np.full(m, float(lam))
    if not reg_bias:
        rows[-1] = 0.0
    return rows


def binary_twin(Xt, y, cost, w, lam, reg_bias):
    """``(f, g)`` of the binary problem."""
    r = penalty_rows(Xt.shape[1], lam, reg_bias)
    z = Xt @ w
    f = 0.5 * float(r @ (w * w)) - float(cost @ log_expit(y * z))
    g = r * w + Xt.T @ (-cost * y * expit(-y * z))
    return f, g


def multinomial_twin(Xt, y_ind, cost, W, lam, reg_bias):
    """``(f, G)`` of the multinomial problem, ``W`` of shape (m, K)."""
    r = penalty_rows(Xt.shape[1], lam, reg_bias)
    Z = Xt @ W
    n = Z.shape[0]
    f = 0.5 * float(r @ np.sum(W * W, axis=1)) + float(
        cost @ (logsumexp(Z, axis=1) - Z[np.arange(n), y_ind]))
    R = softmax(Z, axis=1)
    R[np.arange(n), y_ind] -= 1.0
    G = r[:, None] * W + Xt.T @ (cost[:, None] * R)
    return f, G


# ----------------------------------------------------------------- data


def random_sparse(n=120, d=15, density=0.3, seed=0, n_classes=2, dtype=np.float64,
                  index_dtype=np.int32):
    """A random sparse set with labels from a noisy planted model, as a
    scipy matrix and its CSR proof of the given value and index types."""
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng)
    X.data = rng.standard_normal(X.nnz)
    X = X.astype(dtype)
    scores = X @ rng.randn(d, n_classes) + rng.randn(n, n_classes)
    y = scores.argmax(axis=1)
    proof = checked_csr(X.data, X.indices.astype(index_dtype), X.indptr.astype(index_dtype),
                        X.shape)
    return X, y, proof


def binary_problem(X, y01, C, *, lam=1.0, reg_bias=False, bias=1.0, cost=None):
    y = np.where(y01 == 1, 1.0, -1.0)
    cost = np.full(X.shape[0], float(C)) if cost is None else cost
    return LinearProblem(proved_csr(sp.csr_matrix(X)), y, cost, "logistic", bias,
                         reg_bias=reg_bias, lam=lam)


def sklearn_fit(X, y, C, solver="lbfgs"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkLogisticRegression(C=C, tol=1e-10, max_iter=10**5, solver=solver).fit(X, y)


def noisy_classes(n=300, seed=0):
    """Three overlapping Gaussian classes in 2-d: no class is separable."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 3, n)
    X = rng.randn(n, 2) + np.array([[0.0, 0.0], [1.0, 0.5], [0.3, 1.2]])[y] + 2.0
    return X, y


def iris_binary():
    X, y = load_iris(return_X_y=True)
    keep = y > 0
    return X[keep], (y[keep] == 2).astype(int)


# -------------------------------------------------------------- kernel


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("bias", [1.5, 0.0])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_binary_hessian_equals_dense_twin(dtype, index_dtype, bias, n_threads):
    X, _, proof = random_sparse(dtype=dtype, index_dtype=index_dtype)
    d = np.random.RandomState(1).uniform(0, 2, X.shape[0])
    d[::7] = 0.0
    H0 = np.diag(np.arange(1.0, 17.0))
    H = H0.copy()
    # min_thread_work=0: the threaded path on small data.
    assert not _hessian_fast.binary_hessian(proof, d, H, bias=bias, n_threads=n_threads,
                                            min_thread_work=0.0)
    expected = H0 + binary_hessian_twin(dense_tilde(X, bias), d)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(H, H.T)


def test_a_small_hessian_pass_keeps_one_thread():
    """Below ``min_thread_work`` updates two threads are not woken (waking them
    cost more than the pass): the bits are one thread's."""
    X, _, proof = random_sparse()
    d = np.random.RandomState(1).uniform(0, 2, X.shape[0])
    m = X.shape[1] + 1
    H1, H2 = np.zeros((m, m)), np.zeros((m, m))
    _hessian_fast.binary_hessian(proof, d, H1, bias=1.0, n_threads=1)
    _hessian_fast.binary_hessian(proof, d, H2, bias=1.0, n_threads=2)
    np.testing.assert_array_equal(H1, H2)


def test_binary_hessian_dense_rows():
    """Rows with every feature present take the contiguous loop."""
    rng = np.random.RandomState(0)
    A = rng.randn(50, 6)
    A[::5, 2] = 0.0  # some rows sparse again (explicit zeros removed)
    X = sp.csr_matrix(A)
    d = rng.uniform(0, 1, 50)
    H = np.zeros((7, 7))
    _hessian_fast.binary_hessian(proved_csr(X), d, H, bias=2.0)
    np.testing.assert_allclose(H, binary_hessian_twin(dense_tilde(A, 2.0), d), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("K", [1, 2, 3, 5])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_multinomial_hessian_equals_kronecker_twin(dtype, index_dtype, K, n_threads):
    X, _, proof = random_sparse(n=60, d=8, dtype=dtype, index_dtype=index_dtype)
    rng = np.random.RandomState(2)
    P = rng.dirichlet(np.ones(K), X.shape[0])
    s = rng.uniform(0, 2, X.shape[0])
    s[::5] = 0.0
    m = X.shape[1] + 1
    H = np.eye(m * K)
    _hessian_fast.multinomial_hessian(proof, s, P, H, bias=0.7, n_threads=n_threads,
                                      min_thread_work=0.0)
    expected = np.eye(m * K) + multinomial_hessian_twin(dense_tilde(X, 0.7), s, P)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)


def test_multinomial_hessian_of_a_subset_of_classes_is_the_reduced_hessian():
    """Passing classes 1..K-1 gives the corresponding principal submatrix."""
    X, _, proof = random_sparse(n=40, d=5)
    rng = np.random.RandomState(3)
    K, m = 4, 6
    P = rng.dirichlet(np.ones(K), 40)
    s = rng.uniform(0, 1, 40)
    full = multinomial_hessian_twin(dense_tilde(X, 1.0), s, P)
    keep = np.array([a * K + k for a in range(m) for k in range(1, K)])
    H = np.zeros((m * (K - 1), m * (K - 1)))
    _hessian_fast.multinomial_hessian(proof, s, np.ascontiguousarray(P[:, 1:]), H, bias=1.0)
    np.testing.assert_allclose(H, full[np.ix_(keep, keep)], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("K", [1, 2, 3, 4, 5, 7, 9, 11, 20])
def test_products_equal_dense(dtype, index_dtype, K):
    """Both products against NumPy; both products of several classes (in
    blocks of 8, 4, 3, 2 and 1 classes) bit for bit those of one class at a
    time."""
    X, _, proof = random_sparse(dtype=dtype, index_dtype=index_dtype)
    Xt = dense_tilde(X, 1.3)
    rng = np.random.RandomState(4)
    V = rng.randn(16, K)
    Z = np.full((120, K), np.nan)
    _hessian_fast.scores(proof, V, Z, bias=1.3)
    np.testing.assert_allclose(Z, Xt @ V, rtol=1e-12, atol=1e-12)
    for c in range(K):
        z = np.full((120, 1), np.nan)
        _hessian_fast.scores(proof, np.ascontiguousarray(V[:, [c]]), z, bias=1.3)
        np.testing.assert_array_equal(Z[:, c], z[:, 0])
    U = rng.randn(120, K)
    G = np.ones((16, K))
    _hessian_fast.transpose_product(proof, U, G, bias=1.3)
    np.testing.assert_allclose(G, 1.0 + Xt.T @ U, rtol=1e-12, atol=1e-12)
    for c in range(K):
        g = np.ones((16, 1))
        _hessian_fast.transpose_product(proof, np.ascontiguousarray(U[:, [c]]), g, bias=1.3)
        np.testing.assert_array_equal(G[:, c], g[:, 0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_binary_hessian_vector_is_the_two_products_in_one_pass(dtype, index_dtype):
    """``G += X~^T diag(d) X~ v``: NumPy's value, and bit for bit the scores,
    the product with ``d`` and the transposed product done one after the
    other (the fused pass keeps every addition in its order)."""
    X, _, proof = random_sparse(dtype=dtype, index_dtype=index_dtype)
    Xt = dense_tilde(X, 1.3)
    rng = np.random.RandomState(5)
    v, d = rng.randn(16, 1), rng.rand(120)
    d[::5] = 0.0
    G = np.full((16, 1), 0.25)
    _hessian_fast.binary_hessian_vector(proof, d, v, G, bias=1.3)
    np.testing.assert_allclose(G, 0.25 + Xt.T @ (d[:, None] * (Xt @ v)), rtol=1e-12,
                               atol=1e-12)
    z, two = np.empty((120, 1)), np.full((16, 1), 0.25)
    _hessian_fast.scores(proof, v, z, bias=1.3)
    _hessian_fast.transpose_product(proof, d[:, None] * z, two, bias=1.3)
    np.testing.assert_array_equal(G, two)
    with pytest.raises(ValueError, match=r"V must be a float64 array of shape \(16, 1\)"):
        _hessian_fast.binary_hessian_vector(proof, d, np.ones((16, 2)), G, bias=1.3)
    with pytest.raises(ValueError, match="d has NaN"):
        _hessian_fast.binary_hessian_vector(proof, np.full(120, np.nan), v, G, bias=1.3)
    with pytest.raises(ValueError, match=r"d must have shape \(120,\)"):
        _hessian_fast.binary_hessian_vector(proof, d[:-1], v, G, bias=1.3)
    read_only = np.zeros((16, 1))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="G is read-only"):
        _hessian_fast.binary_hessian_vector(proof, d, v, read_only, bias=1.3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("K", [1, 3, 7])
def test_multinomial_hessian_vector_is_the_three_steps_in_one_pass(dtype, index_dtype, K):
    """``G += X~^T R``, ``R_i = s_i (p_i * u_i - p_i (p_i . u_i))``: NumPy's
    value, the formed Hessian's product, and bit for bit the scores, the
    per-row mix in NumPy (classes summed in order) and the transposed
    product one after the other; rows of weight 0 change nothing."""
    X, _, proof = random_sparse(dtype=dtype, index_dtype=index_dtype)
    Xt = dense_tilde(X, 1.3)
    rng = np.random.RandomState(K)
    V, s = rng.randn(16, K), rng.rand(120)
    P = np.ascontiguousarray(rng.dirichlet(np.ones(K + 1), 120)[:, :K])
    s[::4] = 0.0
    G = np.full((16, K), 0.25)
    _hessian_fast.multinomial_hessian_vector(proof, s, P, V, G, bias=1.3)
    U = Xt @ V
    R = s[:, None] * (P * U - P * (P * U).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(G, 0.25 + Xt.T @ R, rtol=1e-11, atol=1e-11)
    H = np.zeros((16 * K, 16 * K))
    _hessian_fast.multinomial_hessian(proof, s, P, H, bias=1.3)
    np.testing.assert_allclose(G.ravel(), 0.25 + H @ V.ravel(), rtol=1e-10, atol=1e-10)
    Z, steps = np.empty((120, K)), np.full((16, K), 0.25)
    _hessian_fast.scores(proof, V, Z, bias=1.3)
    Z *= P
    Z -= P * np.add.reduce(np.ascontiguousarray(Z.T), axis=0)[:, None]
    Z *= s[:, None]
    _hessian_fast.transpose_product(proof, Z, steps, bias=1.3)
    np.testing.assert_array_equal(G, steps)
    with pytest.raises(ValueError, match=r"P must have shape \(120, %d\)" % K):
        _hessian_fast.multinomial_hessian_vector(proof, s, P[:, :0], V, G, bias=1.3)
    with pytest.raises(ValueError, match="s has NaN"):
        _hessian_fast.multinomial_hessian_vector(proof, np.full(120, np.nan), P, V, G, bias=1.3)
    with pytest.raises(ValueError, match=r"G must have shape \(16, %d\)" % K):
        _hessian_fast.multinomial_hessian_vector(proof, s, P, V, G[:-1], bias=1.3)


def test_kernel_bad_input():
    X, _, proof = random_sparse(n=10, d=3)
    d = np.ones(10)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        _hessian_fast.binary_hessian(X, d, np.zeros((4, 4)), bias=1.0)
    with pytest.raises(ValueError, match=r"H must have shape \(4, 4\)"):
        _hessian_fast.binary_hessian(proof, d, np.zeros((3, 3)), bias=1.0)
    with pytest.raises(ValueError, match="H must be a C-contiguous float64"):
        _hessian_fast.binary_hessian(proof, d, np.zeros((4, 4), dtype=np.float32), bias=1.0)
    with pytest.raises(ValueError, match="H must be a C-contiguous float64"):
        _hessian_fast.binary_hessian(proof, d, np.zeros((4, 4), order="F")[:, :4].T[::1, ::-1],
                                     bias=1.0)
    with pytest.raises(ValueError, match=r"d must have shape \(10,\)"):
        _hessian_fast.binary_hessian(proof, np.ones(9), np.zeros((4, 4)), bias=1.0)
    with pytest.raises(ValueError, match="d has NaN"):
        _hessian_fast.binary_hessian(proof, np.full(10, np.nan), np.zeros((4, 4)), bias=1.0)
    with pytest.raises(ValueError, match="bias must be finite"):
        _hessian_fast.binary_hessian(proof, d, np.zeros((4, 4)), bias=np.inf)
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        _hessian_fast.binary_hessian(proof, d, np.zeros((4, 4)), bias=1.0, n_threads=0)
    read_only = np.zeros((4, 4))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="H is read-only"):
        _hessian_fast.binary_hessian(proof, d, read_only, bias=1.0)
    with pytest.raises(ValueError, match=r"P must be an array of shape \(n_samples=10, K\)"):
        _hessian_fast.multinomial_hessian(proof, d, np.ones((9, 2)), np.zeros((8, 8)), bias=1.0)
    with pytest.raises(ValueError, match=r"H must have shape \(8, 8\)"):
        _hessian_fast.multinomial_hessian(proof, d, np.ones((10, 2)), np.zeros((4, 4)), bias=1.0)
    with pytest.raises(ValueError, match=r"V must have shape \(4, 2\)"):
        _hessian_fast.scores(proof, np.ones((3, 2)), np.zeros((10, 2)), bias=1.0)
    with pytest.raises(ValueError, match="stop must be a uint8 array"):
        _hessian_fast.scores(proof, np.ones((4, 2)), np.zeros((10, 2)), bias=1.0,
                             stop=np.zeros(1))


def test_kernel_stops_on_the_shared_flag():
    _, _, proof = random_sparse(n=20000, d=5, density=0.5)
    stop = np.ones(1, dtype=np.uint8)
    H = np.zeros((6, 6))
    assert _hessian_fast.binary_hessian(proof, np.ones(20000), H, bias=1.0, stop=stop)


# ------------------------------------------- derivatives of the objective


def _models(X, y, proof, lam, reg_bias, bias, fixed_first=False):
    rng = np.random.RandomState(5)
    n = X.shape[0]
    cost = rng.uniform(0.5, 2.0, n)
    stop = np.zeros(1, dtype=np.uint8)
    binary = _newton_cholesky._Binary(proof, np.where(y == 1, 1.0, -1.0), cost, bias, lam,
                                      reg_bias, 1, stop)
    multi = _newton_cholesky._Multinomial(proof, y, cost, 3, bias, lam, reg_bias, fixed_first,
                                          1, stop)
    return binary, multi


def _check_derivatives(model, w):
    """Central differences of ``f`` against ``g``, and of ``g`` against ``H``."""
    z = model.scores(w)
    g, curvature = model.gradient(w, z)
    H = model.hessian(curvature)
    h = 1e-5
    fd_g = np.empty_like(w)
    fd_H = np.empty((w.size, w.size))
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        fp = model.value(w + e, model.scores(w + e))
        fm = model.value(w - e, model.scores(w - e))
        fd_g[j] = (fp - fm) / (2 * h)
        gp = model.gradient(w + e, model.scores(w + e))[0]
        gm = model.gradient(w - e, model.scores(w - e))[0]
        fd_H[:, j] = (gp - gm) / (2 * h)
    np.testing.assert_allclose(g, fd_g, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, fd_H, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("lam, reg_bias", [(1.0, False), (1.0, True), (0.0, False)])
@pytest.mark.parametrize("fixed_first", [False, True])
def test_gradient_and_hessian_match_finite_differences(lam, reg_bias, fixed_first):
    X, y, proof = random_sparse(n=50, d=4, n_classes=3, seed=1)
    binary, multi = _models(X, y, proof, lam, reg_bias, 0.8, fixed_first)
    rng = np.random.RandomState(6)
    _check_derivatives(binary, rng.randn(5))
    _check_derivatives(multi, rng.randn(5 * multi.K))
    # And the value and gradient against the NumPy twins.
    Xt = dense_tilde(X, 0.8)
    W = rng.randn(5, 3)
    if fixed_first:
        W[:, 0] = 0.0
    w = np.ascontiguousarray(W[:, multi.first:]).ravel()
    f, G = multinomial_twin(Xt, y, multi.cost, W, lam, reg_bias)
    Z = multi.scores(w)
    assert multi.value(w, Z) == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(multi.gradient(w, Z)[0], G[:, multi.first:].ravel(),
                               rtol=1e-10, atol=1e-12)


def test_logsumexp_keeps_the_small_terms_of_confident_rows():
    """``(top, tail)``: the tail of a row whose other terms are far below its
    largest is ``log1p`` of their sum, not 0 (the rounding of ``1 + rest``);
    ties are counted before the small terms are added."""
    Z = np.array([[50.0, 0.0, 10.0], [50.0, 50.0, 0.0], [0.0, -40.0, -45.0],
                  [1.0, 2.0, 3.0], [-745.0, 0.0, -800.0]])
    top, tail = _newton_cholesky._logsumexp(Z)
    np.testing.assert_array_equal(top[:, 0], Z.max(axis=1))
    expected = [np.exp(-40.0) + np.exp(-50.0), np.log1p(1.0 + np.exp(-50.0)),
                np.exp(-40.0) + np.exp(-45.0), logsumexp(Z[3]) - 3.0, np.exp(-745.0)]
    np.testing.assert_allclose(tail[:, 0], expected, rtol=1e-15, atol=0)
    rng = np.random.RandomState(0)
    Z = rng.randn(300, 7) * 20
    top, tail = _newton_cholesky._logsumexp(Z)
    np.testing.assert_allclose((top + tail)[:, 0], logsumexp(Z, axis=1), rtol=1e-15)


def test_value_and_gradient_agree_at_huge_C_on_confident_rows():
    """At C = 1e20 the loss of a confidently right sample (``1 - p_iy``,
    about 1e-17, below the rounding of ``p_iy``) still counts, in the value
    and in the gradient: the change of ``f`` along ``-g`` follows the slope
    ``-g.g``.  Without it the line search met slopes the value did not
    follow, and the fit of standardised wine stopped 600x above newton-cg's
    objective, silently."""
    rng = np.random.RandomState(2)
    n = 60
    y = rng.randint(3, size=n)
    X = np.hstack([np.eye(3)[y], rng.randn(n, 1)])
    proof = proved_csr(sp.csr_matrix(X))
    stop = np.zeros(1, dtype=np.uint8)
    model = _newton_cholesky._Multinomial(proof, y, np.full(n, 1e20), 3, 1.0, 1.0, False,
                                          False, 1, stop)
    W = np.zeros((5, 3))
    W[:3] = 40.0 * np.eye(3)        # every row right by a margin of 40
    w = W.ravel()
    z = model.scores(w)
    g = model.gradient(w, z)[0]
    f = model.value(w, z)
    loss = f - 0.5 * float(model.penalised @ (w * w))
    assert loss == pytest.approx(1e20 * n * np.log1p(2.0 * np.exp(-40.0)), rel=1e-12)
    d = -g / np.linalg.norm(g)
    t = 1e-4
    change = model.value(w + t * d, model.scores(w + t * d)) - f
    assert change == pytest.approx(t * float(g @ d), rel=1e-3)


def test_huge_C_multinomial_fit_reaches_far_lower_objectives():
    """Standardised wine (separable) at C = 1e20: the defaults used to stop
    after 12 steps at an objective of 3.8e7, without a warning (the line
    search failed on a value that had lost the confident rows' losses, and
    the gradient test, ``tol`` times the summed costs, was long met).  Now
    the steps go on to max_iter, below 1e5, and say so."""
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning):
        est = LogisticRegression(C=1e20).fit(X, y)
    assert est.solver_ == "newton-cholesky"
    assert logistic_objective(est, X, y) < 1e5


# ------------------------------------------------------- the null space


@pytest.mark.parametrize("lam", [1.0, 0.0])
def test_null_space_fix_gives_the_minimum_norm_newton_direction(lam):
    """``H + eps sum_a (e_a e_a^T) kron 1 1^T`` solves the singular system
    exactly, with the direction orthogonal to the class-shift directions."""
    X, y, proof = random_sparse(n=80, d=4, n_classes=3, seed=2)
    _, multi = _models(X, y, proof, lam, False, 1.0)
    w = np.random.RandomState(7).randn(15) * 0.3
    z = multi.scores(w)
    g, P = multi.gradient(w, z)
    H = multi.hessian(P)
    N = np.array([np.kron(np.eye(5)[a], np.ones(3)) for a in multi.null_rows])
    assert len(N) == (5 if lam == 0 else 1)
    np.testing.assert_allclose(H @ N.T, 0.0, atol=1e-10)  # N is in the null space
    np.testing.assert_allclose(N @ g, 0.0, atol=1e-10)  # g is orthogonal to it
    d, how = _newton_cholesky.solve_newton_system(H, g, K=3, null_rows=multi.null_rows)
    assert how == "cholesky"
    np.testing.assert_allclose(H @ d, -g, atol=1e-9 * np.abs(g).max())
    np.testing.assert_allclose(N @ d, 0.0, atol=1e-10)
    np.testing.assert_allclose(d, -np.linalg.pinv(H, rcond=1e-10) @ g, rtol=1e-7, atol=1e-9)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(H)  # without the fix the system is singular


def test_newton_system_fallbacks():
    """A zero diagonal entry is held; a singular rest gets a ridge or eigh."""
    rng = np.random.RandomState(0)
    B = rng.randn(4, 3)
    H = np.zeros((5, 5))
    H[:4, :4] = B @ B.T  # rank 3, so not positive definite
    g = np.zeros(5)
    g[:4] = B @ rng.randn(3)  # in the range of H
    H_given = H.copy()
    d, how = _newton_cholesky.solve_newton_system(H, g)
    assert how in ("ridge", "eigh")
    np.testing.assert_array_equal(H, H_given)  # the factorisation works on its own copy
    assert d[4] == 0.0
    np.testing.assert_allclose(H @ d, -g, atol=1e-6 * np.abs(g).max())
    d, how = _newton_cholesky.solve_newton_system(np.zeros((3, 3)), np.zeros(3))
    np.testing.assert_array_equal(d, 0.0)


# ---------------------------------------------------- against scikit-learn


def _binary_case(name):
    if name == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    if name == "iris_1_vs_2":
        return iris_binary()
    X, y, _ = random_sparse(n=200, d=20, n_classes=2, seed=3)
    return X, y


@pytest.mark.parametrize("name", ["breast_cancer", "iris_1_vs_2", "random_sparse"])
@pytest.mark.parametrize("C", [0.1, 1.0, 100.0])
def test_binary_matches_sklearn(name, C, one_blas_thread):
    X, y = _binary_case(name)
    problem = binary_problem(X, y, C)
    sol = _newton_cholesky.binary(problem, tol=1e-10, max_iter=100)
    assert sol.status == Status.CONVERGED and sol.solver == "newton-cholesky"
    assert sol.measure <= sol.threshold == pytest.approx(1e-10 * C * X.shape[0])
    Xt = dense_tilde(X, 1.0)
    f, g = binary_twin(Xt, problem.y, problem.cost, sol.w, 1.0, False)
    assert np.abs(g).max() <= sol.threshold * (1 + 1e-6)
    np.testing.assert_allclose(sol.alpha, C * expit(-problem.y * (Xt @ sol.w)), rtol=1e-12)
    for solver in ("lbfgs", "newton-cholesky"):
        est = sklearn_fit(X, y, C, solver)
        w_sk = np.append(est.coef_.ravel(), est.intercept_)
        f_sk = binary_twin(Xt, problem.y, problem.cost, w_sk, 1.0, False)[0]
        assert f <= f_sk * (1 + 1e-9), solver
        if solver == "lbfgs" and name != "breast_cancer":
            # lbfgs stops short on unscaled breast_cancer (condition ~1e10).
            assert f == pytest.approx(f_sk, rel=1e-9)
        if solver == "newton-cholesky":
            assert f == pytest.approx(f_sk, rel=1e-12)
            scale = max(1.0, np.abs(w_sk).max())
            np.testing.assert_allclose(sol.w, w_sk, atol=1e-6 * scale)


def test_binary_fit_threads_only_from_thread_min_nnz(monkeypatch, one_blas_thread):
    """Below ``THREAD_MIN_NNZ`` stored values the L-BFGS start's passes keep
    one thread whatever ``n_threads`` (the bits of ``n_threads=1``: the
    Hessian passes of so small a problem keep one too); above it they take
    the threads, and the fit is the same to rounding."""
    X, y, _ = random_sparse(n=400, d=30, n_classes=2, seed=4)
    problem = binary_problem(X, y, 10.0)
    kw = dict(tol=1e-8, max_iter=100, quasi_newton=True)
    one = _newton_cholesky.binary(problem, n_threads=1, **kw)
    two = _newton_cholesky.binary(problem, n_threads=2, **kw)
    np.testing.assert_array_equal(two.w, one.w)
    monkeypatch.setattr(_newton_cholesky, "THREAD_MIN_NNZ", 0)
    threaded = _newton_cholesky.binary(problem, n_threads=2, **kw)
    assert threaded.status == Status.CONVERGED
    np.testing.assert_allclose(threaded.w, one.w, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["iris", "random_sparse"])
@pytest.mark.parametrize("C", [0.1, 1.0, 100.0])
def test_multinomial_matches_sklearn(name, C, one_blas_thread):
    if name == "iris":
        X, y = load_iris(return_X_y=True)
    else:
        X, y, _ = random_sparse(n=300, d=12, n_classes=4, seed=4)
    K = int(y.max()) + 1
    cost = np.full(X.shape[0], C)
    tol = 1e-10 * cost.sum()
    W, n_iter, status, measure = _newton_cholesky.multinomial(
        proved_csr(sp.csr_matrix(X)), y, cost, K, bias=1.0, lam=1.0, reg_bias=False,
        fixed_first=False, tol=tol, max_iter=100)
    assert status == Status.CONVERGED and measure <= tol and 0 < n_iter < 100
    Xt = dense_tilde(X, 1.0)
    f, G = multinomial_twin(Xt, y, cost, W, 1.0, False)
    assert np.abs(G).max() <= tol * (1 + 1e-6)
    np.testing.assert_allclose(W.sum(axis=1), 0.0, atol=1e-10)  # class sums stay at 0
    for solver in ("lbfgs", "newton-cholesky"):
        est = sklearn_fit(X, y, C, solver)
        W_sk = np.vstack([est.coef_.T, est.intercept_])
        W_sk[-1] -= W_sk[-1].mean()  # the intercepts are defined up to a constant
        f_sk = multinomial_twin(Xt, y, cost, W_sk, 1.0, False)[0]
        assert f == pytest.approx(f_sk, rel=1e-9), solver
        assert f <= f_sk * (1 + 1e-12), solver
        if solver == "newton-cholesky":
            np.testing.assert_allclose(W, W_sk, atol=1e-6 * max(1.0, np.abs(W_sk).max()))


def test_no_penalty_on_non_separable_data(one_blas_thread):
    """lam = 0 (scikit-learn's penalty=None): the maximum likelihood fit."""
    X, y = noisy_classes()
    Xt = dense_tilde(X, 1.0)
    cost = np.ones(X.shape[0])
    W, _, status, measure = _newton_cholesky.multinomial(
        proved_csr(sp.csr_matrix(X)), y, cost, 3, bias=1.0, lam=0.0, reg_bias=False,
        fixed_first=False, tol=1e-8, max_iter=100)
    assert status == Status.CONVERGED
    f, G = multinomial_twin(Xt, y, cost, W, 0.0, False)
    assert np.abs(G).max() <= 1e-8 * (1 + 1e-6)
    np.testing.assert_allclose(W.sum(axis=1), 0.0, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SkLogisticRegression(C=np.inf, tol=1e-10, max_iter=10**5).fit(X, y)
    W_sk = np.vstack([est.coef_.T, est.intercept_])
    f_sk = multinomial_twin(Xt, y, cost, W_sk, 0.0, False)[0]
    assert f <= f_sk * (1 + 1e-12)
    assert f == pytest.approx(f_sk, rel=1e-9)
    # Binary: iris versicolor against virginica on the sepal sizes (they overlap).
    X, y = load_iris(return_X_y=True)
    X = X[:, :2]
    keep = y > 0
    problem = binary_problem(X[keep], (y[keep] == 2).astype(int), 1.0, lam=0.0)
    sol = _newton_cholesky.binary(problem, tol=1e-10, max_iter=100)
    assert sol.status == Status.CONVERGED and sol.measure <= sol.threshold
    est = SkLogisticRegression(C=np.inf, tol=1e-10, max_iter=10**5,
                               solver="newton-cholesky").fit(X[keep], y[keep])
    np.testing.assert_allclose(sol.w, np.append(est.coef_, est.intercept_), rtol=1e-6)


def test_a_pivot_at_rounding_level_counts_as_a_failed_factorisation():
    """A PSD matrix singular in exact arithmetic whose Cholesky succeeds in
    float64 (a pivot of 1e-16 of its diagonal) gets the ridge, not a step of
    1e16 along the null direction."""
    rng = np.random.RandomState(2)
    B = rng.randn(50, 4)
    B = np.c_[B, B[:, :2] @ [0.3, 0.7]]    # column 5 = 0.3 col 1 + 0.7 col 2
    H = B.T @ B
    assert scipy.linalg.cho_factor(H)[0][4, 4] ** 2 < 1e-15 * H[4, 4]
    # A gradient in the range of H up to the rounding of float32 data.
    g = B.T @ rng.randn(50) + 1e-7 * rng.randn(5)
    d, how = _newton_cholesky.solve_newton_system(H, g)
    assert how == "ridge"
    np.testing.assert_allclose(H @ d, -g, atol=1e-5 * np.abs(g).max())
    # The ridge system is H's own, rebuilt after the first factorisation
    # overwrote half of its working copy: the solve of H + ridge diag(H).
    ridged = H + _newton_cholesky.RIDGE * np.diag(np.diag(H))
    np.testing.assert_allclose(d, np.linalg.solve(ridged, -g), rtol=1e-6)
    assert np.abs(d).max() <= 1e3 * np.abs(np.linalg.lstsq(H, -g, rcond=None)[0]).max()


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_no_penalty_with_collinear_features_float32_as_float64(n_classes, sparse,
                                                                 one_blas_thread):
    """C = inf with collinear columns (two are sums of others, one a copy):
    the optimum's coefficients are not unique, its scores are.  float32 X
    used to get coefficients of 1e6 along the collinear directions (its
    Hessian pivots there are at rounding level), with no warning.  (At
    ``tol=1e-8`` a float32 fit still follows those directions: the rounding
    of X makes them informative at that level.)"""
    from sklearn.datasets import make_classification

    from fastlinear import LogisticRegression

    X, y = make_classification(300, 6, n_informative=4, n_redundant=2,
                               n_classes=n_classes, flip_y=0.1, random_state=1)
    X = np.c_[X, X[:, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkLogisticRegression(C=np.inf, tol=1e-10, max_iter=10**5).fit(X, y)
    coefs = {}
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        Xd = sp.csr_matrix(Xd) if sparse else Xd
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = LogisticRegression(C=np.inf, tol=1e-6).fit(Xd, y)
        assert est.solver_ == "newton-cholesky"
        coefs[dtype] = est.coef_.astype(np.float64)
        # The scores of the optimum are unique: scikit-learn's, from float64 X.
        Z, Z_sk = est.decision_function(X), sk.decision_function(X)
        np.testing.assert_allclose(Z, Z_sk, atol=1e-5 * np.abs(Z_sk).max())
    top = np.abs(coefs[np.float64]).max()
    assert top <= 10 * np.abs(sk.coef_).max()
    np.testing.assert_allclose(coefs[np.float32], coefs[np.float64], atol=0.05 * top)


@pytest.mark.parametrize("lam", [1.0, 0.0])
def test_fixed_first(lam, one_blas_thread):
    """Class 0 held at 0: optimal for the reduced problem; with lam = 0 the
    same model as the symmetric fit (shifted by its column 0)."""
    X, y = noisy_classes()
    csr = proved_csr(sp.csr_matrix(X))
    cost = np.full(X.shape[0], 2.0)
    W, _, status, measure = _newton_cholesky.multinomial(
        csr, y, cost, 3, bias=1.0, lam=lam, reg_bias=False, fixed_first=True, tol=1e-9,
        max_iter=100)
    assert status == Status.CONVERGED
    np.testing.assert_array_equal(W[:, 0], 0.0)
    _, G = multinomial_twin(dense_tilde(X, 1.0), y, cost, W, lam, False)
    assert np.abs(G[:, 1:]).max() <= 1e-9 * (1 + 1e-6)
    if lam == 0.0:
        W_sym = _newton_cholesky.multinomial(
            csr, y, cost, 3, bias=1.0, lam=0.0, reg_bias=False, fixed_first=False, tol=1e-9,
            max_iter=100)[0]
        np.testing.assert_allclose(W, W_sym - W_sym[:, :1], rtol=1e-6, atol=1e-8)
    else:
        # A different problem from the symmetric one: its penalty is on classes 1..K-1.
        W_sym = _newton_cholesky.multinomial(
            csr, y, cost, 3, bias=1.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-9,
            max_iter=100)[0]
        assert np.abs(W - (W_sym - W_sym[:, :1])).max() > 1e-3


@pytest.mark.parametrize("reg_bias", [False, True])
def test_reg_bias_and_no_intercept(reg_bias):
    X, y, _ = random_sparse(n=150, d=10, seed=5)
    for bias in (1.0, 0.0):
        problem = binary_problem(X, y, 1.0, reg_bias=reg_bias, bias=bias)
        sol = _newton_cholesky.binary(problem, tol=1e-10, max_iter=100)
        assert sol.status == Status.CONVERGED
        _, g = binary_twin(dense_tilde(X, bias), problem.y, problem.cost, sol.w, 1.0, reg_bias)
        assert np.abs(g).max() <= sol.threshold * (1 + 1e-6)
        if bias == 0.0:
            assert sol.w[-1] == 0.0


def test_zero_costs_drop_samples():
    X, y, _ = random_sparse(n=200, d=10, n_classes=3, seed=6)
    cost = np.random.RandomState(8).uniform(0.5, 2, 200)
    cost[::3] = 0.0
    keep = cost > 0
    full = _newton_cholesky.multinomial(proved_csr(X), y, cost, 3, bias=1.0, lam=1.0,
                                        reg_bias=False, fixed_first=False, tol=1e-10,
                                        max_iter=100)[0]
    kept = _newton_cholesky.multinomial(proved_csr(X[keep]), y[keep], cost[keep], 3, bias=1.0,
                                        lam=1.0, reg_bias=False, fixed_first=False, tol=1e-10,
                                        max_iter=100)[0]
    np.testing.assert_allclose(full, kept, rtol=1e-8, atol=1e-10)
    yb = (y == 1).astype(int)
    sol = _newton_cholesky.binary(binary_problem(X, yb, 1.0, cost=cost), tol=1e-10, max_iter=100)
    sol_kept = _newton_cholesky.binary(binary_problem(X[keep], yb[keep], 1.0, cost=cost[keep]),
                                       tol=1e-10, max_iter=100)
    np.testing.assert_allclose(sol.w, sol_kept.w, rtol=1e-8, atol=1e-10)
    assert np.all(sol.alpha[~keep] == 0.0)


def test_float32_and_int64_give_the_same_solution():
    X, y, proof64 = random_sparse(n=200, d=10, n_classes=3, seed=7)
    _, _, proof32 = random_sparse(n=200, d=10, n_classes=3, seed=7, dtype=np.float32,
                                  index_dtype=np.int64)
    cost = np.ones(200)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-10, max_iter=100)
    W64 = _newton_cholesky.multinomial(proof64, y, cost, 3, **kw)[0]
    W32 = _newton_cholesky.multinomial(proof32, y, cost, 3, **kw)[0]
    # The float32 rounding of X only.
    np.testing.assert_allclose(W32, W64, rtol=1e-5, atol=1e-6)


def test_warm_start_max_iter_and_inputs_untouched():
    X, y = iris_binary()
    problem = binary_problem(X, y, 1.0)
    sol = _newton_cholesky.binary(problem, tol=1e-10, max_iter=100)
    w0 = sol.w.copy()
    again = _newton_cholesky.binary(problem, tol=1e-10, max_iter=100, w0=w0)
    assert again.n_iter == 0 and again.status == Status.CONVERGED
    np.testing.assert_array_equal(w0, sol.w)
    none = _newton_cholesky.binary(problem, tol=1e-10, max_iter=0)
    assert none.n_iter == 0 and none.status == Status.MAX_ITER
    np.testing.assert_array_equal(none.w, 0.0)
    one = _newton_cholesky.binary(problem, tol=1e-10, max_iter=1)
    assert one.n_iter == 1 and one.status == Status.MAX_ITER and one.measure > one.threshold
    W0 = np.zeros((5, 3))
    W0[:, 1] = 0.1
    W0_copy = W0.copy()
    Xi, yi = load_iris(return_X_y=True)
    _newton_cholesky.multinomial(proved_csr(sp.csr_matrix(Xi)), yi, np.ones(150), 3, bias=1.0,
                                 lam=1.0, reg_bias=False, fixed_first=False, tol=1e-8,
                                 max_iter=100, W0=W0)
    np.testing.assert_array_equal(W0, W0_copy)


def test_settle_scales_an_absolute_measure_by_its_bound():
    """A failed line search is convergence only at rounding level: 1e-6 of
    the largest each gradient entry can be, for an absolute measure, and
    feature by feature where the gradient is known."""
    failed, stalled = Status.LINE_SEARCH_FAILED, Status.STALLED
    assert settle(failed, 5e-5, 1e-4, scaled=lambda: 1.0) == Status.CONVERGED  # within tol
    assert settle(failed, 5e-4, 1e-4, scaled=lambda: 5e-7) == Status.CONVERGED  # rounding
    # the truncated Newton solvers' rounding level is 1e-10
    assert settle(failed, 5e-4, 1e-4, scaled=lambda: 5e-7, rounding=1e-10) == failed
    assert settle(failed, 5e-4, 1e-4, scaled=lambda: 5e-11, rounding=1e-10) == Status.CONVERGED
    assert settle(failed, 5e-2, 1e-4, scaled=lambda: 5e-5) == failed
    assert settle(stalled, 5e-2, 1e-4) == stalled  # relative: rounding is 1e-6
    assert settle(stalled, 5e-7, 1e-9) == Status.CONVERGED
    assert settle(Status.MAX_ITER, 0.0, 1e-4, scaled=lambda: 0.0) == Status.MAX_ITER

    def never():
        raise AssertionError("the scaled measure is computed only for the two endings")

    assert settle(Status.CONVERGED, 1.0, 1e-4, scaled=never) == Status.CONVERGED
    # Two features of scales 1 and 1e20, and the bias: each gradient entry
    # is compared with its own column's bound, not with the largest.
    X = np.array([[1.0, 2e20], [-0.5, 1e20], [0.0, -3e20]])
    proof = proved_csr(sp.csr_matrix(X))
    cost = np.array([1.0, 2.0, 1.0])
    np.testing.assert_allclose(gradient_bound(proof, cost, 0.5, per_variable=True),
                               [4.0, 12e20, 2.0])
    assert gradient_bound(proof, cost, 0.5) == pytest.approx(12e20)
    g = np.array([1e-3, 1e10, 0.0])   # the small feature far from rounding
    assert scaled_gradient(g, proof, cost, 0.5) == pytest.approx(2.5e-4)
    assert 1e10 / gradient_bound(proof, cost, 0.5) < 1e-6  # what a single bound would say
    assert scaled_gradient(np.array([1e-9, 1e10, 1e-7]), proof, cost, 0.5) < 1e-6
    # Rows of W (features) hold K entries each; a column no sample reaches
    # counts only when its entry is not zero.
    empty = proved_csr(sp.csr_matrix(np.array([[1.0, 0.0], [2.0, 0.0]])))
    G = np.array([[1e-9, -2e-9], [0.0, 0.0], [3e-9, 0.0]])
    assert scaled_gradient(G.ravel(), empty, np.ones(2), 1.0) == pytest.approx(1.5e-9)
    G[1, 0] = 1e-30
    assert scaled_gradient(G.ravel(), empty, np.ones(2), 1.0) == np.inf


@pytest.mark.parametrize("scale", [1e8, 1e15, 1e20, 1e100])
def test_multinomial_newton_with_one_feature_1e20_times_larger(scale):
    """One feature many orders of magnitude larger than the others: the
    multinomial Newton solver still reaches the optimum (its ridge and its
    null-space shift are relative to each variable's own curvature; one of
    the size of the largest used to erase the small features' directions
    and stop at the intercept-only model's accuracy, silently)."""
    from fastlinear import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.arange(90) % 3
    X[np.arange(90), y] += 1.5

    def fit(s, **params):
        Xs = X * np.array([1.0, 1.0, s])
        est = LogisticRegression(**params).fit(Xs, y)
        P = softmax(Xs @ est.coef_.T + est.intercept_, axis=1)
        J = -np.sum(np.log(P[np.arange(90), y])) + 0.5 * np.sum(est.coef_ ** 2)
        return est, J

    # At scale 1e4 the big feature's penalty is already below 1e-8 of J:
    # the same optimum, well conditioned.
    reference, J0 = fit(1e4, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est, J = fit(scale)
    assert J == pytest.approx(J0, rel=1e-6)
    np.testing.assert_allclose(est.coef_[:, :2], reference.coef_[:, :2], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(est.coef_[:, 2] * scale, reference.coef_[:, 2] * 1e4,
                               rtol=1e-3, atol=1e-4)


def test_a_line_search_that_fails_far_from_the_optimum_warns(monkeypatch):
    """No step lowers the objective although the gradient is large: the fit
    warns and says so, never a silent 'converged' model."""
    from fastlinear import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    monkeypatch.setattr(_newton_cholesky, "_line_search", lambda *args: None)
    for Xs, ys in [(X, y), (load_iris(return_X_y=True))]:
        with pytest.warns(ConvergenceWarning, match="line search found no decrease"):
            est = LogisticRegression(solver="newton-cholesky").fit(Xs, ys)
        assert est.n_iter_[0] == 0
    monkeypatch.undo()
    # Run to tol=0, the same solver ends on a failed line search at the
    # optimum, and that is convergence.
    for Xs, ys in [iris_binary(), load_iris(return_X_y=True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est = LogisticRegression(solver="newton-cholesky", tol=0.0, max_iter=1000)
            assert est.fit(Xs, ys).n_iter_[0] < 1000


class _Along:
    """A model whose objective along the line search's direction is
    ``f(w) = phi(w[0])`` (scores unused), for :func:`_newton_cholesky._line_search`."""

    def __init__(self, phi, expand=True):
        self.phi, self.expand = phi, expand

    def value(self, w, z):
        return float(self.phi(w[0]))

    def gradient(self, w, z):
        return np.array([0.0]), None


@pytest.mark.parametrize("phi, expand, t", [
    (lambda t: -t, True, 4.0),                          # decreasing: up to MAX_EXPANSION
    (lambda t: (t - 2.2) ** 2, True, 2.0),              # f(4) > f(2): stops at 2
    (lambda t: t * t - 2 * t, True, 1.0),               # the quadratic model right: t = 1
    (lambda t: -t, False, 1.0),                         # not for a model that forbids it
    (lambda t: 1.0 - 0.6 * min(t, 1.0) - 1e-15 * t, True, 1.0),  # beyond 1: rounding only
])
def test_line_search_lengthens_an_accepted_full_step(phi, expand, t):
    """An accepted full step that lowered ``f`` by more than rounding is
    doubled while ``f`` keeps falling by more than rounding, up to
    ``MAX_EXPANSION``; the step is the one whose ``f`` the search returns."""
    assert _newton_cholesky.MAX_EXPANSION == 4.0
    model = _Along(phi, expand)
    w, z, d, dz = np.zeros(1), np.zeros(3), np.ones(1), np.ones(3)
    found = _newton_cholesky._line_search(model, w, z, phi(0.0), np.array([-1.0]), d, dz, 1.0)
    w_t, z_t, f_t = found[:3]
    assert w_t[0] == t and np.all(z_t == t) and f_t == phi(t)


def test_expanded_steps_reach_the_optimum_of_a_nearly_separable_multinomial_problem():
    """Large C on nearly separable data, where the full Newton steps from the
    default start fall short and are lengthened: the fit meets the gradient
    test at scikit-learn's optimum in fewer steps than with plain steps."""
    from fastlinear import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 8))
    y = np.argmax(X @ rng.standard_normal((8, 3)) * 4 + rng.gumbel(size=(300, 3)), 1)
    params = dict(C=1e4, solver="newton-cholesky", tol=1e-8, max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(**params).fit(X, y)
        plain = _newton_cholesky.MAX_EXPANSION
        try:
            _newton_cholesky.MAX_EXPANSION = 1.0
            unexpanded = LogisticRegression(**params).fit(X, y)
        finally:
            _newton_cholesky.MAX_EXPANSION = plain
    assert est.n_iter_[0] < unexpanded.n_iter_[0]
    reference = SkLogisticRegression(C=1e4, tol=1e-12, max_iter=10_000,
                                     solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=1e-5, atol=1e-6)


def test_tol_0_multinomial_ends_converged_at_the_optimum():
    """tol=0, three classes: near the optimum the Armijo test accepts steps
    that change f by one unit in its last place while max |g| oscillates
    (inexact steps); they used to run to max_iter=100 and warn (3 of 20
    seeds).  Now the solve ends once such steps stop lowering max |g|."""
    from fastlinear import LogisticRegression

    rng = np.random.default_rng(1)
    X, W = rng.standard_normal((100, 5)), rng.standard_normal((5, 3))
    y = np.argmax(X @ W + rng.gumbel(size=(100, 3)), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(C=1e5, tol=0.0, solver="newton-cholesky").fit(X, y)
    assert est.n_iter_[0] < 50
    reference = SkLogisticRegression(C=1e5, tol=1e-12, max_iter=10_000,
                                     solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [4, 8, 10])
def test_tol_0_multinomial_newton_cg_ends_converged_at_the_optimum(seed):
    """The same for the multinomial truncated Newton kernel
    (``_multinomial_fast.newton``), whose line search measures the decrease
    directly and so accepted rounding-level steps for ever: these seeds ran
    to max_iter=100 and warned (7 of 20 seeds did)."""
    from fastlinear import LogisticRegression, logistic_objective

    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((200, 10)), rng.standard_normal((10, 3))
    y = np.argmax(X @ W + rng.standard_normal((200, 3)), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(tol=0.0, solver="newton-cg").fit(X, y)
    assert est.n_iter_[0] < 50
    reference = SkLogisticRegression(tol=1e-12, max_iter=10_000,
                                     solver="newton-cholesky").fit(X, y)
    assert logistic_objective(est, X, y) <= logistic_objective(reference, X, y) * (1 + 1e-14)
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=1e-6, atol=1e-8)


def test_stop_flag_interrupts():
    X, y = iris_binary()
    stop = np.ones(1, dtype=np.uint8)
    sol = _newton_cholesky.binary(binary_problem(X, y, 1.0), tol=1e-10, max_iter=100, stop=stop)
    assert sol.status == Status.INTERRUPTED and sol.n_iter == 0


def test_verbose_prints_each_step(capsys):
    X, y = iris_binary()
    sol = _newton_cholesky.binary(binary_problem(X, y, 1.0), tol=1e-6, max_iter=100, verbose=1)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "newton-cholesky" in ln]
    assert len(lines) == sol.n_iter + 1


def test_bad_input():
    X, y, proof = random_sparse(n=20, d=3, n_classes=3)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-4, max_iter=10)
    cost = np.ones(20)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        _newton_cholesky.multinomial(X, y, cost, 3, **kw)
    with pytest.raises(ValueError, match=r"y_ind must hold class indices in \[0, 2\)"):
        _newton_cholesky.multinomial(proof, y, cost, 2, **kw)
    with pytest.raises(ValueError, match="y_ind must be an integer array"):
        _newton_cholesky.multinomial(proof, y.astype(float), cost, 3, **kw)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        _newton_cholesky.multinomial(proof, np.zeros(20, dtype=int), cost, 1, **kw)
    with pytest.raises(ValueError, match="costs C_i must be finite and >= 0"):
        _newton_cholesky.multinomial(proof, y, -cost, 3, **kw)
    with pytest.raises(ValueError, match=r"cost must have shape \(n_samples,\) = \(20,\)"):
        _newton_cholesky.multinomial(proof, y, cost[:5], 3, **kw)
    with pytest.raises(ValueError, match="lam must be 1.0"):
        _newton_cholesky.multinomial(proof, y, cost, 3, **{**kw, "lam": 0.5})
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        _newton_cholesky.multinomial(proof, y, cost, 3, **{**kw, "tol": -1.0})
    with pytest.raises(ValueError, match="max_iter must be an integer >= 0"):
        _newton_cholesky.multinomial(proof, y, cost, 3, **{**kw, "max_iter": 2.5})
    with pytest.raises(ValueError, match=r"W0 must have shape \(4, 3\)"):
        _newton_cholesky.multinomial(proof, y, cost, 3, W0=np.zeros((3, 3)), **kw)
    with pytest.raises(ValueError, match="W0 has NaN"):
        _newton_cholesky.multinomial(proof, y, cost, 3, W0=np.full((4, 3), np.nan), **kw)
    with pytest.raises(ValueError, match="column 0 of W0 .* must be 0"):
        _newton_cholesky.multinomial(proof, y, cost, 3, W0=np.ones((4, 3)),
                                     **{**kw, "fixed_first": True})
    yb = np.where(y == 1, 1.0, -1.0)
    hinge = LinearProblem(proof, yb, cost, "squared_hinge", 1.0)
    with pytest.raises(ValueError, match="solves the L2-penalised logistic loss"):
        _newton_cholesky.binary(hinge, tol=1e-4, max_iter=10)
    bad_labels = LinearProblem(proof, y.astype(float), cost, "logistic", 1.0)
    with pytest.raises(ValueError, match="labels -1 or \\+1"):
        _newton_cholesky.binary(bad_labels, tol=1e-4, max_iter=10)
    good = LinearProblem(proof, yb, cost, "logistic", 1.0)
    with pytest.raises(ValueError, match=r"w0 must have shape \(4,\)"):
        _newton_cholesky.binary(good, tol=1e-4, max_iter=10, w0=np.zeros(3))


# ------------------------------------------- the faster paths of the loop


def test_dense_rows_match_the_csr_kernels():
    """X dense in fact: the BLAS products and Hessians equal the CSR kernels."""
    X, y, proof = random_sparse(n=60, d=5, density=0.9, n_classes=3, seed=11)
    stop = np.zeros(1, dtype=np.uint8)
    dense = _newton_cholesky._Rows(proof, 0.7, 1, stop)
    csr = _newton_cholesky._Rows(proof, 0.7, 1, stop)
    csr.dense = None
    assert dense.dense is not None
    rng = np.random.RandomState(12)
    V, U = rng.randn(6, 3), rng.randn(60, 3)
    s, P = rng.uniform(0, 2, 60), softmax(rng.randn(60, 3), axis=1)
    out = []
    for rows in (dense, csr):
        Z, G = np.empty((60, 3)), np.ones((6, 3))
        H1, H3 = np.eye(6), np.eye(18)
        rows.scores(V, Z)
        rows.transpose_product(U, G)
        rows.binary_hessian(s, H1)
        rows.multinomial_hessian(s, P, H3)
        out.append((Z, G, H1, H3))
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_hessian_of_equal_probabilities_is_a_kronecker_product():
    """At an intercept-only point (the default start) the multinomial Hessian
    is formed from one binary pass; it equals the general kernel's."""
    X, y, proof = random_sparse(n=80, d=6, n_classes=3, seed=13)
    for fixed_first in (False, True):
        _, multi = _models(X, y, proof, 1.0, False, 1.0, fixed_first)
        w = np.zeros(7 * multi.K)
        w[-multi.K:] = [0.3, -0.2, 0.5][:multi.K]
        g, P = multi.gradient(w, multi.scores(w))
        expected = np.diag(multi.penalised)
        _hessian_fast.multinomial_hessian(proof, multi.cost, P, expected, bias=1.0)
        np.testing.assert_allclose(multi.hessian(P), expected, rtol=1e-12, atol=1e-12)


def test_preconditioned_cg_with_an_old_factor_solves_the_newton_system():
    X, y, proof = random_sparse(n=100, d=5, n_classes=3, seed=14)
    binary, multi = _models(X, y, proof, 1.0, False, 1.0)
    rng = np.random.RandomState(15)
    for model in (binary, multi):
        w_old = rng.randn(6 * model.K) * 0.3
        w = w_old + rng.randn(w_old.size) * 0.3
        factor = _newton_cholesky._Factor(
            model.hessian(model.gradient(w_old, model.scores(w_old))[1]), K=model.K,
            null_rows=model.null_rows)
        g, curvature = model.gradient(w, model.scores(w))
        d, steps, solved = _newton_cholesky._preconditioned_cg(
            model, curvature, g, factor, forcing=1e-10, tol=0.0, max_steps=100)
        assert solved and 1 < steps < 100
        exact = _newton_cholesky.solve_newton_system(model.hessian(curvature), g, K=model.K,
                                                     null_rows=model.null_rows)[0]
        np.testing.assert_allclose(d, exact, rtol=1e-7, atol=1e-9 * np.abs(exact).max())


def test_cg_budget_is_zero_where_forming_the_hessian_is_cheap():
    """The conjugate-gradient budget is the cost of forming ``H`` over that of
    one product: 0 below two (iris: every step exact, so a fit of two steps
    equals two warm-started fits of one), capped at 50 for long rows."""
    iris = proved_csr(sp.csr_matrix(load_iris().data))
    assert _newton_cholesky._cg_steps(iris, 1) == 0
    assert _newton_cholesky._cg_steps(iris, 3) == 0
    # Explicit zeros (a stored 0 in every row, a fifth column) count for nothing.
    padded = sp.hstack([sp.csr_matrix(load_iris().data), sp.csr_matrix((150, 1))]).tocsr()
    padded = sp.csr_matrix((np.insert(padded.data, padded.indptr[1:], 0.0),
                            np.insert(padded.indices, padded.indptr[1:], 4),
                            padded.indptr + np.arange(151)), shape=(150, 5))
    assert padded.nnz == 750 and proved_csr(padded).nnz == 750
    assert _newton_cholesky._cg_steps(proved_csr(padded), 1) == 0
    _, _, wide = random_sparse(n=100, d=400, n_classes=3, seed=16, density=0.5)
    assert _newton_cholesky._cg_steps(wide, 3) == 50
    _, _, mid = random_sparse(n=100, d=20, n_classes=3, seed=16, density=0.5)
    assert 2 <= _newton_cholesky._cg_steps(mid, 3) < 50

    X, y = load_iris(return_X_y=True)
    two = _newton_cholesky.multinomial(proved_csr(sp.csr_matrix(X)), y, np.ones(150), 3, bias=1.0,
                                       lam=1.0, reg_bias=False, fixed_first=False, tol=0.0,
                                       max_iter=2)[0]
    W = None
    for _ in range(2):
        W = _newton_cholesky.multinomial(proved_csr(sp.csr_matrix(X)), y, np.ones(150), 3, bias=1.0,
                                         lam=1.0, reg_bias=False, fixed_first=False, tol=0.0,
                                         max_iter=1, W0=W)[0]
    np.testing.assert_allclose(W, two, rtol=1e-12, atol=1e-12)


def test_default_start_is_the_intercept_only_optimum():
    """Bias weights start at the log class priors: with no features that is
    the optimum, reached in 0 steps."""
    y = np.array([0] * 30 + [1] * 10 + [2] * 60)
    proof = proved_csr(sp.csr_matrix((100, 3)))
    cost = np.ones(100)
    sol = _newton_cholesky.binary(binary_problem(sp.csr_matrix((100, 3)), (y == 1).astype(int),
                                                 1.0), tol=1e-10, max_iter=100)
    assert sol.n_iter == 0 and sol.status == Status.CONVERGED
    assert sol.w[-1] == pytest.approx(np.log(10 / 90))
    W, n_iter, status, _ = _newton_cholesky.multinomial(
        proof, y, cost, 3, bias=2.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-10,
        max_iter=100)
    assert n_iter == 0 and status == Status.CONVERGED
    np.testing.assert_allclose(softmax(2.0 * W[-1]), [0.3, 0.1, 0.6], rtol=1e-12)


# ------------------------------------------- L-BFGS iterations first (step 0b)


def unbalanced_binary(n=3000, d=60, seed=0):
    """Sparse 0/1 features, about 20 % positives from a steep planted model:
    Newton's first steps from the default start are damped there, as on w8a."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.12, format="csr", random_state=seed,
                  data_rvs=lambda k: np.ones(k))
    y = (rng.random(n) < expit(X @ (3.0 * rng.standard_normal(d)) - 5.0)).astype(int)
    return X, y


def equal_rows_sparse(n, d, k, seed, dtype, index_dtype):
    """``k`` stored values in every row, or, for ``k=None``, rows of 5 and of
    varying length alternating by blocks of 64 (both paths of
    ``logistic_loss_grad``)."""
    rng = np.random.default_rng(seed)
    lengths = np.full(n, 5) if k is None else np.full(n, k)
    if k is None:
        varying = (np.arange(n) // 64) % 2 == 1
        lengths[varying] = rng.integers(0, 12, varying.sum())
    indptr = np.r_[0, np.cumsum(lengths)]
    indices = np.concatenate([np.sort(rng.choice(d, m, replace=False)) for m in lengths])
    X = sp.csr_matrix((rng.standard_normal(indptr[-1]).astype(dtype), indices, indptr),
                      shape=(n, d))
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(int)
    proof = checked_csr(X.data, X.indices.astype(index_dtype), X.indptr.astype(index_dtype),
                        X.shape)
    return X, y, proof


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("bias, lam, reg_bias", [(1.0, 1.0, False), (2.5, 1.0, True),
                                                 (0.0, 1.0, False), (1.0, 0.0, False)])
@pytest.mark.parametrize("rows", ["random", "equal", "mixed"])
def test_logistic_loss_grad_equals_numpy_twin(dtype, index_dtype, n_threads, bias, lam,
                                              reg_bias, rows):
    """Rows of random lengths go one by one, rows of equal length in blocks
    with the vector exp/log1p, and a mix switches block by block: each is
    the NumPy twin's sum."""
    from fastlinear import _newton_fast

    if rows == "random":
        X, y01, proof = random_sparse(n=2000, d=40, seed=3, dtype=dtype,
                                      index_dtype=index_dtype)
    else:
        X, y01, proof = equal_rows_sparse(2000, 40, 6 if rows == "equal" else None, 3, dtype,
                                          index_dtype)
    rng = np.random.default_rng(1)
    y = np.where(y01 == 1, 1.0, -1.0)
    cost = rng.random(2000) * 3.0
    cost[::7] = 0.0                       # samples of cost 0 add nothing
    w = 3.0 * rng.standard_normal(41)     # scores of both signs, some large
    g = np.full(41, np.nan)
    f = _newton_fast.logistic_loss_grad(proof, y, cost, w, g, bias=bias, lam=lam,
                                        reg_bias=reg_bias, n_threads=n_threads)
    f_twin, g_twin = binary_twin(dense_tilde(X, bias), y, cost, w, lam, reg_bias)
    assert f == pytest.approx(f_twin, rel=1e-13)
    np.testing.assert_allclose(g, g_twin, rtol=1e-11, atol=1e-11 * np.abs(g_twin).max())
    # The same thread count gives the same bits.
    g2 = np.empty(41)
    assert _newton_fast.logistic_loss_grad(proof, y, cost, w, g2, bias=bias, lam=lam,
                                           reg_bias=reg_bias, n_threads=n_threads) == f
    np.testing.assert_array_equal(g2, g)


def test_block_exp_log1p_is_libms_to_a_few_ulp_and_independent_of_its_place():
    """The logistic passes take ``exp`` and ``log1p(exp)`` a block at a time
    (``src_c/_vmath.pxd``): within 4 ulp of NumPy's, exact at the edges, and
    a value gives the same bits wherever it sits in a block."""
    from fastlinear import _newton_fast

    assert _newton_fast.vector_lanes() in (1, 4)
    rng = np.random.default_rng(0)
    a = np.concatenate([-rng.exponential(3.0, 5000), -rng.uniform(0, 750, 5000),
                        -np.logspace(-320, 2, 500)])
    e, lg = _newton_fast.exp_log1p_block(a)
    ulp = np.finfo(np.float64).eps
    np.testing.assert_allclose(e, np.exp(a), rtol=4 * ulp, atol=0)
    np.testing.assert_allclose(lg, np.log1p(np.exp(a)), rtol=4 * ulp, atol=0)
    edges = np.array([0.0, -0.0, -5e-324, -708.0, -745.2, -746.0, -1e300, -np.inf, np.nan])
    e, lg = _newton_fast.exp_log1p_block(edges)
    np.testing.assert_array_equal(e[:2], 1.0)
    np.testing.assert_allclose(lg[:2], np.log(2.0), rtol=ulp)
    np.testing.assert_array_equal(e[5:8], 0.0)
    np.testing.assert_array_equal(lg[5:8], 0.0)
    assert np.isnan(e[8]) and np.isnan(lg[8])
    # Blocks of every length around the vector width and the block size:
    # each value's bits are those it has alone.
    alone = [_newton_fast.exp_log1p_block(a[k:k + 1]) for k in range(80)]
    for n in (1, 2, 3, 4, 5, 63, 64, 65, 70):
        for start in (0, 1, 3):
            e, lg = _newton_fast.exp_log1p_block(a[start:start + n])
            for k in range(len(e)):
                assert (e[k], lg[k]) == (alone[start + k][0][0], alone[start + k][1][0])


def test_logistic_loss_grad_bad_input_and_stop():
    from fastlinear import _newton_fast

    X, y01, proof = random_sparse(n=50, d=4)
    y, cost, w, g = np.where(y01 == 1, 1.0, -1.0), np.ones(50), np.zeros(5), np.empty(5)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        _newton_fast.logistic_loss_grad(X, y, cost, w, g, bias=1.0)
    with pytest.raises(ValueError, match="n_samples = 50"):
        _newton_fast.logistic_loss_grad(proof, y[:-1], cost, w, g, bias=1.0)
    with pytest.raises(ValueError, match="n_features \\+ 1 = 5"):
        _newton_fast.logistic_loss_grad(proof, y, cost, w[:-1], g, bias=1.0)
    with pytest.raises(ValueError, match="lam must be finite"):
        _newton_fast.logistic_loss_grad(proof, y, cost, w, g, bias=1.0, lam=np.nan)
    with pytest.raises(ValueError, match="scores must have n_samples = 50"):
        _newton_fast.logistic_loss_grad(proof, y, cost, w, g, bias=1.0, scores=np.empty(49))
    stop = np.ones(1, dtype=np.uint8)
    assert np.isnan(_newton_fast.logistic_loss_grad(proof, y, cost, w, g, bias=1.0, stop=stop))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_logistic_loss_grad_scores_are_the_scores_kernels(n_threads):
    """The optional ``scores`` output is ``X~ w`` bit for bit as
    ``_hessian_fast.scores`` gives it, rows of cost 0 included; asking for it
    changes neither ``f`` nor ``g``."""
    from fastlinear import _newton_fast

    X, y01, proof = random_sparse(n=3000, d=40, seed=8)
    y = np.where(y01 == 1, 1.0, -1.0)
    cost = np.random.default_rng(2).random(3000)
    cost[::3] = 0.0
    w = np.random.default_rng(3).standard_normal(41)
    g, g_z, z = np.empty(41), np.empty(41), np.full(3000, np.nan)
    f = _newton_fast.logistic_loss_grad(proof, y, cost, w, g, bias=1.5, n_threads=n_threads)
    f_z = _newton_fast.logistic_loss_grad(proof, y, cost, w, g_z, bias=1.5,
                                          n_threads=n_threads, scores=z)
    expected = np.empty((3000, 1))
    _hessian_fast.scores(proof, w.reshape(-1, 1), expected, bias=1.5)
    np.testing.assert_array_equal(z, expected[:, 0])
    assert f_z == f
    np.testing.assert_array_equal(g_z, g)


def test_newton_continues_from_the_quasi_newton_start_without_reading_x(monkeypatch):
    """After the L-BFGS iterations, Newton starts from their last evaluation:
    the scores are those of ``w`` (bit for bit) and the gradient that of
    ``w`` (to rounding), and no extra pass over X is made for them."""
    X, y = unbalanced_binary()
    problem = binary_problem(X, y, 1.0)
    seen = []
    original = _newton_cholesky._newton

    def spy(model, w, **kwargs):
        seen.append((model, w.copy(), kwargs["known"]))
        return original(model, w, **kwargs)

    monkeypatch.setattr(_newton_cholesky, "_newton", spy)
    _newton_cholesky.binary(problem, tol=1e-4, max_iter=100, quasi_newton=True)
    model, w, known = seen[0]
    assert known is not None
    z, g = known
    np.testing.assert_array_equal(z, model.scores(w))
    g_ref, _ = model.gradient(w, z)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12 * np.abs(g_ref).max())
    np.testing.assert_array_equal(model.curvature(z), model.gradient(w, z)[1])


def count_quasi_newton(monkeypatch):
    calls = []
    original = _newton_cholesky._quasi_newton_start

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(result[0])
        return result

    monkeypatch.setattr(_newton_cholesky, "_quasi_newton_start", counted)
    return calls


@pytest.mark.parametrize("C", [1.0, 100.0])
def test_quasi_newton_start_then_newton_meets_the_gradient_test(C, monkeypatch):
    """From the default start, ``quasi_newton=True`` takes L-BFGS iterations
    (counted in ``n_iter``), then Newton; the result meets the same gradient
    test, checked by the NumPy twin, and is the optimum within what that
    test allows."""
    X, y = unbalanced_binary()
    calls = count_quasi_newton(monkeypatch)
    problem = binary_problem(X, y, C)
    tol = 1e-4
    sol = _newton_cholesky.binary(problem, tol=tol, max_iter=100, quasi_newton=True)
    assert len(calls) == 1 and 0 < calls[0] <= _newton_cholesky.QUASI_NEWTON_ITER
    assert sol.status == Status.CONVERGED and sol.n_iter >= calls[0]
    f, g = binary_twin(dense_tilde(X, 1.0), problem.y, problem.cost, sol.w, 1.0, False)
    assert np.abs(g).max() <= sol.threshold == pytest.approx(tol * C * X.shape[0])
    exact = _newton_cholesky.binary(problem, tol=1e-12, max_iter=100)
    assert len(calls) == 1  # not asked for: pure Newton
    f_opt, _ = binary_twin(dense_tilde(X, 1.0), problem.y, problem.cost, exact.w, 1.0, False)
    # f is strongly convex with a modulus of at least 1 here (the smallest
    # eigenvalue of H at the optimum is 3.7 at C = 1 and 72 at C = 100), so
    # f - f_opt <= ||g||^2 / 2.
    assert f_opt <= f <= f_opt + 0.5 * float(g @ g)


def test_quasi_newton_start_only_where_it_can_pay(monkeypatch):
    """Not from a warm start, not without a penalty, not where forming the
    Hessian costs less than two products (iris), not for an explicit
    ``solver="newton-cholesky"``; and it counts against ``max_iter``."""
    from fastlinear import LogisticRegression

    calls = count_quasi_newton(monkeypatch)
    X, y = unbalanced_binary()
    problem = binary_problem(X, y, 1.0)
    warm = _newton_cholesky.binary(problem, tol=1e-4, max_iter=100, quasi_newton=True)
    assert len(calls) == 1
    _newton_cholesky.binary(problem, tol=1e-4, max_iter=100, w0=warm.w, quasi_newton=True)
    _newton_cholesky.binary(binary_problem(X, y, 1.0, lam=0.0), tol=1e-4, max_iter=100,
                            quasi_newton=True)
    Xi, yi = iris_binary()
    _newton_cholesky.binary(binary_problem(Xi, yi, 1.0), tol=1e-4, max_iter=100,
                            quasi_newton=True)
    LogisticRegression(solver="newton-cholesky").fit(X, y)
    assert len(calls) == 1
    for solver in ("auto", "lbfgs", "sag"):
        assert LogisticRegression(solver=solver).fit(X, y).solver_ == "newton-cholesky"
    assert len(calls) == 4
    short = _newton_cholesky.binary(problem, tol=1e-12, max_iter=3, quasi_newton=True)
    assert calls[-1] == 3 and short.n_iter == 3 and short.status == Status.MAX_ITER


def test_quasi_newton_start_stops_on_the_shared_flag(monkeypatch):
    from fastlinear import _newton_fast

    X, y = unbalanced_binary()
    stop = np.zeros(1, dtype=np.uint8)
    original = _newton_fast.logistic_loss_grad
    seen = []

    def interrupting(*args, **kwargs):
        seen.append(1)
        if len(seen) == 3:
            stop[0] = 1
        return original(*args, **kwargs)

    monkeypatch.setattr(_newton_fast, "logistic_loss_grad", interrupting)
    sol = _newton_cholesky.binary(binary_problem(X, y, 1.0), tol=1e-8, max_iter=100,
                                  quasi_newton=True, stop=stop)
    assert sol.status == Status.INTERRUPTED and len(seen) == 3
    assert np.all(np.isfinite(sol.w))


@pytest.mark.parametrize("K", [1, 2, 3, 6, 7, 8, 20])
def test_row_reductions_equal_numpys(K):
    """The row sums and maxima over ``A.T``: NumPy's bits up to 7 classes
    (the order in which it adds a short row), its values to rounding beyond."""
    A = 10 * np.random.RandomState(K).standard_normal((500, K))
    np.testing.assert_array_equal(_newton_cholesky._row_reduce(np.maximum, A),
                                  A.max(axis=1, keepdims=True))
    if K <= 7:
        np.testing.assert_array_equal(_newton_cholesky._row_sums(A), A.sum(axis=1, keepdims=True))
    else:
        np.testing.assert_allclose(_newton_cholesky._row_sums(A), A.sum(axis=1, keepdims=True),
                                   rtol=0, atol=1e-12 * np.abs(A).sum(axis=1, keepdims=True).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_hessian_passes_of_rows_of_ones_give_the_same_bits(dtype, n_threads):
    """0/1 features (X.ones): the binary Hessian and the one-column products
    read only the indices (rule 6 of _hessian_fast), to the same bits; a
    dense row of ones takes the same loop as a sparse one."""
    rng = np.random.default_rng(8)
    X = sp.random(600, 30, density=0.3, format="csr", random_state=rng, dtype=dtype)
    X.data[:] = 1.0
    X = sp.vstack([X, sp.csr_matrix(np.ones((3, 30), dtype=dtype))]).tocsr()
    P = proved_csr(X)
    assert P.ones
    n, m = X.shape[0], X.shape[1] + 1
    d = rng.uniform(0.0, 1.0, n)
    d[::7] = 0.0
    V, U = rng.normal(size=(m, 1)), rng.normal(size=(n, 1))
    out = []
    for use_ones in (True, False):
        H, G, Z, T = np.zeros((m, m)), np.ones((m, 1)), np.empty((n, 1)), np.ones((m, 1))
        _hessian_fast.binary_hessian(P, d, H, bias=0.5, n_threads=n_threads, min_thread_work=0,
                                     use_ones=use_ones)
        _hessian_fast.binary_hessian_vector(P, d, V, G, bias=0.5, use_ones=use_ones)
        _hessian_fast.scores(P, V, Z, bias=0.5, use_ones=use_ones)
        _hessian_fast.transpose_product(P, U, T, bias=0.5, use_ones=use_ones)
        out.append((H, G, Z, T))
    for a, b in zip(*out, strict=True):
        np.testing.assert_array_equal(a, b)
    Xd = X.toarray().astype(np.float64)
    Xt = np.hstack([Xd, np.full((n, 1), 0.5)])
    np.testing.assert_allclose(out[0][0], Xt.T @ (d[:, None] * Xt), rtol=1e-12, atol=1e-12)


# ------------------------------------------------- liblinear's test (-s 0)


def _liblinear_measure(X, problem, w):
    """``||g(w)|| / ||g(0)||`` by the NumPy twin (liblinear's penalised bias)."""
    Xt = dense_tilde(X, problem.bias)
    g = binary_twin(Xt, problem.y, problem.cost, w, 1.0, True)[1]
    g0 = binary_twin(Xt, problem.y, problem.cost, np.zeros_like(w), 1.0, True)[1]
    return float(np.linalg.norm(g) / np.linalg.norm(g0)), float(np.linalg.norm(g))


@pytest.mark.parametrize("name", ["breast_cancer", "iris_1_vs_2", "random_sparse"])
@pytest.mark.parametrize("C", [0.1, 10.0])
@pytest.mark.parametrize("quasi_newton", [False, True])
def test_binary_to_liblinears_test_meets_it_near_the_optimum(name, C, quasi_newton,
                                                             one_blas_thread):
    """``rule="liblinear"``: ``||g|| <= tol' ||g(0)||`` by an independent
    gradient, the measure reported as that ratio, and the objective within
    ``||g||^2 / 2`` of the optimum (the penalty makes ``f`` 1-strongly
    convex), which the same solver finds at a tight ``tol``."""
    X, y = _binary_case(name)
    problem = binary_problem(X, y, C, reg_bias=True)
    sol = _newton_cholesky.binary(problem, tol=1e-4, max_iter=100, rule="liblinear",
                                  quasi_newton=quasi_newton)
    assert sol.status == Status.CONVERGED
    assert sol.threshold == pytest.approx(newton_tol(problem, 1e-4), rel=1e-15)
    ratio, g_norm = _liblinear_measure(X, problem, sol.w)
    assert ratio <= sol.threshold * (1 + 1e-6)
    assert sol.measure == pytest.approx(ratio, rel=1e-6)
    Xt = dense_tilde(X, 1.0)
    f = binary_twin(Xt, problem.y, problem.cost, sol.w, 1.0, True)[0]
    best = _newton_cholesky.binary(problem, tol=1e-13, max_iter=100, rule="liblinear")
    f_best = binary_twin(Xt, problem.y, problem.cost, best.w, 1.0, True)[0]
    assert f_best <= f * (1 + 1e-14)
    assert f - f_best <= 0.5 * g_norm ** 2 + 1e-13 * abs(f)


def test_liblinears_test_against_liblinear_official(one_blas_thread):
    """liblinear-official's ``-s 0`` at a tight ``-e``: the same weights."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    X, y, _ = random_sparse(n=400, d=30, seed=11)
    labels = np.where(y == 1, 1.0, -1.0)
    for C in (0.05, 5.0):
        model = liblinearutil.train(labels, X, f"-s 0 -c {C} -e 1e-10 -B 1 -q")
        sign = 1.0 if model.get_labels()[0] == 1 else -1.0
        theirs = sign * np.array([model.w[j] for j in range(X.shape[1] + 1)])
        sol = _newton_cholesky.binary(binary_problem(X, y, C, reg_bias=True), tol=1e-10,
                                      max_iter=100, rule="liblinear", quasi_newton=True)
        assert sol.status == Status.CONVERGED
        np.testing.assert_allclose(sol.w, theirs, rtol=0, atol=1e-7 * np.abs(theirs).max())


def test_liblinears_test_is_relative_to_the_gradient_at_zero(one_blas_thread):
    """From a warm start the reference is still ``g(0)``, as in liblinear:
    a start at the solution ends at once with the same measure; ``g(0) = 0``
    (no feature, no bias) returns ``w = 0`` from any start."""
    X, y, _ = random_sparse(n=150, d=12, seed=2)
    problem = binary_problem(X, y, 2.0, reg_bias=True)
    sol = _newton_cholesky.binary(problem, tol=1e-6, max_iter=100, rule="liblinear")
    again = _newton_cholesky.binary(problem, tol=1e-6, max_iter=100, rule="liblinear",
                                    w0=sol.w)
    assert again.n_iter == 0 and again.status == Status.CONVERGED
    assert again.measure == pytest.approx(sol.measure, rel=1e-12)
    empty = binary_problem(sp.csr_matrix((6, 3)), np.array([0, 1, 1, 0, 1, 1]), 1.0,
                           reg_bias=True, bias=0.0)
    zero = _newton_cholesky.binary(empty, tol=1e-4, max_iter=100, rule="liblinear",
                                   w0=np.ones(4))
    assert zero.status == Status.CONVERGED and zero.n_iter == 0
    np.testing.assert_array_equal(zero.w, 0.0)
    with pytest.raises(ValueError, match="rule must be"):
        _newton_cholesky.binary(problem, tol=1e-4, max_iter=10, rule="lbfgs")


def test_liblinear_solver_takes_the_exact_steps_below_loose_tol(monkeypatch, one_blas_thread):
    """``LogisticRegression(solver="liblinear")`` (``-s 0``) runs the exact
    steps at scikit-learn's ``tol=1e-4`` on few features, the kernel (liblinear's
    own steps) at liblinear's ``-e 0.01``; both meet liblinear's test."""
    from fastlinear import LogisticRegression

    calls = []
    original = _newton_cholesky.binary

    def spy(problem, **kwargs):
        calls.append(kwargs.get("rule"))
        return original(problem, **kwargs)

    monkeypatch.setattr(_newton_cholesky, "binary", spy)
    X, y, _ = random_sparse(n=300, d=25, seed=4)
    for tol, expected in ((1e-4, ["liblinear"]), (0.01, [])):
        calls.clear()
        est = LogisticRegression(solver="liblinear", C=3.0, tol=tol,
                                 intercept_scaling=2.0).fit(X, y)
        assert calls == expected and est.solver_ == "liblinear"
        problem = binary_problem(X, y, 3.0, reg_bias=True, bias=2.0)
        w = np.append(est.coef_[0], est.intercept_[0] / 2.0)
        ratio = _liblinear_measure(X, problem, w)[0]
        assert ratio <= newton_tol(problem, tol) * (1 + 1e-6)


def _official_s0(X, y, C, tol, bias):
    """liblinear-official's ``-s 0`` weights ``(w, w_bias)`` (positive class 1)."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    model = liblinearutil.train(np.where(y == 1, 1.0, -1.0), X,
                                f"-s 0 -c {C} -e {tol} -B {bias} -q")
    sign = 1.0 if model.get_labels()[0] == 1 else -1.0
    return sign * np.array([model.w[j] for j in range(X.shape[1] + 1)])


@pytest.mark.parametrize("scaling", [1e3, 1e5])
def test_liblinears_test_with_a_large_intercept_scaling(scaling, one_blas_thread):
    """A large ``intercept_scaling`` makes ``g(0)`` mostly its bias entry: a
    start that cancels that entry (the class log-odds, or L-BFGS steps along
    the bias) passed the relative test at once with the features' weights
    at 0.  From liblinear's start, a Newton step before the test: the
    weights of liblinear-official (which the kernel also reaches)."""
    from fastlinear import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    y = (X @ [1.5, -1.0, 0.5, 0.0, 2.0] + rng.normal(size=500) > 2.5).astype(int)
    est = LogisticRegression(solver="liblinear", intercept_scaling=scaling).fit(X, y)
    theirs = _official_s0(X, y, 1.0, 1e-4, scaling)
    assert est.n_iter_[0] >= 1
    np.testing.assert_allclose(est.coef_[0], theirs[:-1], rtol=1e-3, atol=1e-3)
    sparse = sp.random(400, 30, density=0.2, random_state=1, format="csr")
    sums = np.asarray(sparse.sum(axis=1)).ravel()
    ys = sums > np.quantile(sums, 0.9)
    est = LogisticRegression(solver="liblinear", intercept_scaling=scaling, C=10.0).fit(
        sparse, ys.astype(int))
    theirs = _official_s0(sparse, ys.astype(int), 10.0, 1e-4, scaling)
    np.testing.assert_allclose(est.coef_[0], theirs[:-1], rtol=1e-3,
                               atol=1e-3 * np.abs(theirs).max())


def test_heavy_cancelling_rows_do_not_pass_for_a_zero_gradient(one_blas_thread):
    """Rows of norm 1e9 present twice with opposite labels cancel in ``g(0)``
    and dwarf the other rows' terms; ``g(0)`` is still far above rounding,
    and the model is liblinear-official's, not zeros."""
    from fastlinear import LogisticRegression

    rng = np.random.default_rng(0)
    Xi = rng.normal(size=(1000, 5))
    yi = (Xi @ np.array([2.0, -1, 1, 0.5, 0]) > 0).astype(int)
    Xo = np.zeros((10, 5))
    Xo[:, 4] = 1e9 * (1 + np.arange(10))
    X, y = np.vstack([Xi, Xo, Xo]), np.r_[yi, np.ones(10, int), np.zeros(10, int)]
    est = LogisticRegression(solver="liblinear").fit(X, y)
    theirs = _official_s0(X, y, 1.0, 1e-4, 1.0)
    np.testing.assert_allclose(est.coef_[0], theirs[:-1], rtol=1e-3, atol=1e-3)


def test_a_small_max_iter_leaves_newton_steps_and_huge_costs_stay_quiet(one_blas_thread):
    """At most half of ``max_iter`` goes to the L-BFGS start under liblinear's
    test (it used to take all of ``max_iter <= 10``, and the fit warned
    short of a test the Newton steps meet in 6); costs near the float64
    limit raise no RuntimeWarning on the way."""
    from fastlinear import LogisticRegression

    X = sp.random(300, 20, density=0.3, random_state=0, format="csr") * 3
    w = np.random.default_rng(0).normal(size=20)
    y = (X @ w > np.median(X @ w)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LogisticRegression(solver="liblinear", max_iter=10).fit(X, y)
        assert est.n_iter_[0] <= 10
        for C in (1e305, 1e307):
            big = LogisticRegression(solver="liblinear", C=C).fit(X, y)
            assert np.all(np.isfinite(big.coef_)) and np.any(big.coef_ != 0)


def test_the_gradient_test_waits_for_the_diagonal_decrement(rare_features, monkeypatch):
    """scikit-learn's newton-cholesky stops when also its Newton decrement
    is at most tol; ours asks it of the Hessian's diagonal.  A fit at C =
    100 warm-started at C = 1's solution on rare features: the largest
    gradient entry alone stops it after 3 steps, 1.6e-3 above the optimum;
    with the decrement after 4, and there 1/2 g.diag(H)^-1 g, recomputed in
    NumPy, is at most tol times the summed costs."""
    X, y = rare_features(n=500, d=300, per_row=10, seed=2)
    C, tol = 100.0, 1e-4
    start = LogisticRegression(C=1.0, tol=1e-10, solver="newton-cholesky").fit(X, y)
    best = logistic_objective(LogisticRegression(C=C, tol=1e-10, solver="newton-cholesky",
                                                 max_iter=1000).fit(X, y), X, y)

    def warm_fit():
        model = LogisticRegression(C=C, tol=tol, solver="newton-cholesky", warm_start=True)
        model.coef_, model.intercept_ = start.coef_.copy(), start.intercept_.copy()
        model.classes_ = start.classes_
        return model.fit(X, y)

    with monkeypatch.context() as patch:
        patch.setattr(_newton_cholesky, "_diagonal_decrement", lambda *args: 0.0)
        alone = warm_fit()
    model = warm_fit()
    gap_alone = logistic_objective(alone, X, y) / best - 1
    gap = logistic_objective(model, X, y) / best - 1
    assert model.n_iter_[0] > alone.n_iter_[0]
    assert gap_alone > 1e-3 and gap < gap_alone / 10
    w, b = model.coef_.ravel(), model.intercept_[0]
    t = np.where(y == model.classes_[1], 1.0, -1.0)
    s = 1.0 / (1.0 + np.exp(t * (X @ w + b)))            # sigma(-t z)
    g = np.append(w - C * (X.T @ (t * s)), -C * np.sum(t * s))
    D = C * s * (1.0 - s)
    diagonal = np.append(1.0 + X.multiply(X).T @ D, D.sum())
    assert 0.5 * g @ (g / diagonal) <= tol * C * X.shape[0]


def _dominant_weight_data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = (X @ rng.randn(5) + 0.5 * rng.randn(60) > 0).astype(int)
    sample_weight = np.ones(60)
    sample_weight[2] = 1e6
    return X, y, sample_weight


def test_one_dominant_sample_weight_is_not_a_silent_zero_model():
    """One sample weight of 1e6 among 59 of 1: at the default start (the
    class log-odds) the largest gradient entry and the diagonal decrement
    were both below tol times the summed weights, and the fit returned
    ``coef_ = 0`` with ``n_iter_ = 0`` and no warning.  Now a Newton step
    comes first, and the decrement is the whole Hessian's, recomputed here
    in NumPy at the returned weights: at most tol times the summed weights."""
    X, y, sample_weight = _dominant_weight_data()
    tol = 1e-4
    model = LogisticRegression(tol=tol).fit(X, y, sample_weight=sample_weight)
    assert model.solver_ == "newton-cholesky" and model.n_iter_[0] >= 1
    assert np.count_nonzero(model.coef_) == X.shape[1]
    assert model.score(X, y) > 0.8                       # (the start point scored 0.5)
    Xt = dense_tilde(X, 1.0)
    t = np.where(y == 1, 1.0, -1.0)
    w = np.append(model.coef_.ravel(), model.intercept_[0])
    _, g = binary_twin(Xt, t, sample_weight, w, 1.0, False)
    s = expit(-t * (Xt @ w))
    H = binary_hessian_twin(Xt, sample_weight * s * (1.0 - s)) + np.diag(penalty_rows(6, 1.0, False))
    assert np.max(np.abs(g)) <= tol * sample_weight.sum()
    assert 0.5 * g @ np.linalg.solve(H, g) <= tol * sample_weight.sum()


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_default_start_is_left_by_a_step_even_where_it_passes_the_tests(n_classes):
    """At C = 1e-9 the class log-odds meet both tests at the start; as
    scikit-learn's newton-cholesky, the fit takes one Newton step before
    testing (it returned the start with ``n_iter_ = 0`` before)."""
    X, y = noisy_classes()
    y = y if n_classes == 3 else (y > 0).astype(int)
    model = LogisticRegression(C=1e-9, solver="newton-cholesky").fit(X, y)
    assert model.n_iter_[0] == 1
    best = LogisticRegression(C=1e-9, solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.intercept_, best.intercept_, rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_dominant_weight_ends_no_worse_than_scikit_learns_newton_cholesky(seed):
    """One sample weight of 1e6 among 99 of 1: the decrement at the new point
    alone passed after a long step, 0.33-0.40 above the optimum (scikit-learn's
    newton-cholesky, which also asks the last step's decrement, 0.27-0.32).
    With the last step's decrement too, the objective is at most
    scikit-learn's."""
    rng = np.random.RandomState(seed)
    X = rng.randn(100, 3)
    y = (X[:, 0] + 0.5 * rng.randn(100) > 0.3).astype(int)
    sample_weight = np.ones(100)
    sample_weight[0] = 1e6
    ours = LogisticRegression().fit(X, y, sample_weight=sample_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SkLogisticRegression(solver="newton-cholesky").fit(
            X, y, sample_weight=sample_weight)
    assert ours.solver_ == "newton-cholesky"
    assert (logistic_objective(ours, X, y, sample_weight=sample_weight)
            <= logistic_objective(theirs, X, y, sample_weight=sample_weight))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_C_sparse_fits_end_in_the_quasi_newton_start(seed, monkeypatch):
    """6,000 x 300 sparse 0/1 features, 5 % of the entries stored, 24-30 %
    positives, C = 0.01: the L-BFGS start, aiming at a tenth of the gradient
    threshold, ends the fit within 1e-6 of the optimum without forming a
    Hessian (aiming at the threshold, it stopped after 8 iterations and the
    decrement's relative bound asked for a Newton step and its Hessian)."""
    rng = np.random.default_rng(seed)
    X = sp.random(6000, 300, density=0.05, format="csr", random_state=seed,
                  data_rvs=lambda k: np.ones(k))
    y = (rng.random(6000) < expit(X @ rng.standard_normal(300) - 3.0)).astype(int)
    formed = []
    hessian = _newton_cholesky._Binary.hessian
    monkeypatch.setattr(_newton_cholesky._Binary, "hessian",
                        lambda self, curvature: formed.append(1) or hessian(self, curvature))
    est = LogisticRegression(C=0.01).fit(X, y)
    assert est.solver_ == "newton-cholesky" and not formed
    assert est.n_iter_[0] <= _newton_cholesky.QUASI_NEWTON_ITER
    best = LogisticRegression(C=0.01, tol=1e-12, max_iter=1000).fit(X, y)
    J, J_best = logistic_objective(est, X, y), logistic_objective(best, X, y)
    assert J - J_best <= 1e-6 * J_best
