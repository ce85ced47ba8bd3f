"""The multinomial logistic Newton kernel (``src_c/_multinomial_fast.pyx``).

Three ways: loss, gradient and Hessian products against finite differences
and a dense NumPy implementation; the Newton iterates against a NumPy twin
of the algorithm; the optimum against scikit-learn's multinomial lbfgs and
the optimality conditions.  Then the gauge of the singular directions,
threads, and bad input.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from fastlinear._csr_fast import transpose
from fastlinear._multinomial_fast import (
    LINE_SEARCH_FAILED,
    gather_pays,
    hessp,
    loss_grad,
    newton,
)
from fastlinear._solvers import Status
from fastlinear._validation import proved_csr

import _reference_multinomial as ref


def _data(sparse_problem, n=120, d=15, K=4, seed=0, noise=2.0):
    X, y = sparse_problem(n_samples=n, n_features=d, n_classes=K, density=0.3,
                          seed=seed, values="normal", noise=noise)
    s = np.random.RandomState(seed).uniform(0.5, 2.0, n)
    return X, y, s


def _kernel_loss_grad(Xp, y, s, W, **kw):
    G = np.empty_like(W)
    P = np.empty((Xp.n_rows, W.shape[1]))
    f = loss_grad(Xp, y, s, W, G, P, **kw)
    return f, G, P


def _kernel_hessp(Xp, s, P, V, **kw):
    HV = np.empty_like(V)
    hessp(Xp, s, P, V, HV, **kw)
    return HV


def _start(m, K, fixed_first, seed=1, scale=0.3):
    W = scale * np.random.RandomState(seed).randn(m, K)
    if fixed_first:
        W[:, 0] = 0.0
    return W


def _dense_objective(X, y, s, W, *, bias, lam, reg_bias):
    """``f`` written out from its definition, dense."""
    Xt = np.hstack([np.asarray(X.todense()), np.full((X.shape[0], 1), bias)])
    Z = Xt @ W
    lse = np.log(np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1)) + Z.max(axis=1)
    pen = (W[:-1] ** 2).sum() + (reg_bias * (W[-1] ** 2).sum())
    return float(s @ (lse - Z[np.arange(len(y)), y])) + 0.5 * lam * pen


CASES = [  # (lam, reg_bias, fixed_first, bias)
    (1.0, False, False, 1.0),
    (0.3, True, False, 1.0),
    (1.0, False, True, 1.0),
    (0.0, False, False, 1.0),
    (0.5, True, True, 2.0),
    (1.0, False, False, 0.0),
]


@pytest.mark.parametrize("lam,reg_bias,fixed_first,bias", CASES)
def test_loss_and_gradient_match_finite_differences_and_numpy(
        lam, reg_bias, fixed_first, bias, sparse_problem):
    X, y, s = _data(sparse_problem)
    kw = dict(bias=bias, lam=lam, reg_bias=reg_bias, fixed_first=fixed_first)
    W = _start(X.shape[1] + 1, 4, fixed_first)
    f, G, P = _kernel_loss_grad(proved_csr(X), y, s, W, **kw)
    f_np, G_np, P_np, _ = ref.loss_grad(X, y, s, W, **kw)
    assert f == pytest.approx(_dense_objective(X, y, s, W, bias=bias, lam=lam,
                                               reg_bias=reg_bias), rel=1e-13)
    assert f == pytest.approx(f_np, rel=1e-13)
    np.testing.assert_allclose(G, G_np, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P, P_np, rtol=1e-12, atol=1e-15)
    # Central differences of f along each free entry.
    h = 1e-6
    fd = np.zeros_like(W)
    for j in range(W.shape[0]):
        for c in range(1 if fixed_first else 0, W.shape[1]):
            E = np.zeros_like(W)
            E[j, c] = h
            fd[j, c] = (ref.loss_grad(X, y, s, W + E, **kw)[0]
                        - ref.loss_grad(X, y, s, W - E, **kw)[0]) / (2 * h)
    np.testing.assert_allclose(G, fd, rtol=1e-6, atol=1e-6 * np.abs(G).max())
    if fixed_first:
        assert np.all(G[:, 0] == 0.0)


@pytest.mark.parametrize("lam,reg_bias,fixed_first,bias", CASES)
def test_hessp_matches_gradient_differences_and_numpy(
        lam, reg_bias, fixed_first, bias, sparse_problem):
    X, y, s = _data(sparse_problem, seed=2)
    Xp = proved_csr(X)
    kw = dict(bias=bias, lam=lam, reg_bias=reg_bias, fixed_first=fixed_first)
    W = _start(X.shape[1] + 1, 4, fixed_first, seed=3)
    V = _start(X.shape[1] + 1, 4, fixed_first, seed=4, scale=1.0)
    _, _, P = _kernel_loss_grad(Xp, y, s, W, **kw)
    HV = _kernel_hessp(Xp, s, P, V, **kw)
    np.testing.assert_allclose(HV, ref.hessp(X, s, P, V, **kw), rtol=1e-12, atol=1e-12)
    h = 1e-6
    fd = (_kernel_loss_grad(Xp, y, s, W + h * V, **kw)[1]
          - _kernel_loss_grad(Xp, y, s, W - h * V, **kw)[1]) / (2 * h)
    np.testing.assert_allclose(HV, fd, rtol=1e-6, atol=1e-6 * np.abs(HV).max())
    # Symmetric: U.HV = V.HU.
    U = _start(X.shape[1] + 1, 4, fixed_first, seed=5, scale=1.0)
    HU = _kernel_hessp(Xp, s, P, U, **kw)
    assert (U * HV).sum() == pytest.approx((V * HU).sum(), rel=1e-12)


def test_float32_and_int64_indices_are_read_as_they_are(sparse_problem):
    X, y, s = _data(sparse_problem, seed=6)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    W = _start(X.shape[1] + 1, 4, False)
    V = _start(X.shape[1] + 1, 4, False, seed=7)
    f, G, P = _kernel_loss_grad(proved_csr(X), y, s, W, **kw)
    HV = _kernel_hessp(proved_csr(X), s, P, V, **kw)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    for Xv, rtol in ((X64, 1e-14), (X.astype(np.float32), 1e-5),
                     (sp.csr_matrix(X64.astype(np.float32)), 1e-5)):
        Xp = proved_csr(Xv)
        assert Xp.data.dtype == Xv.dtype and Xp.indices.dtype == Xv.indices.dtype
        f_v, G_v, P_v = _kernel_loss_grad(Xp, y, s, W, **kw)
        # The float32 values are read as they are: the result is the exact
        # one of the rounded matrix.
        f_r, G_r, _, _ = ref.loss_grad(Xv.astype(np.float64), y, s, W, **kw)
        assert f_v == pytest.approx(f_r, rel=1e-13)
        np.testing.assert_allclose(G_v, G_r, rtol=1e-12, atol=1e-12)
        assert f_v == pytest.approx(f, rel=rtol)
        np.testing.assert_allclose(_kernel_hessp(Xp, s, P_v, V, **kw), HV,
                                   rtol=100 * rtol, atol=100 * rtol * np.abs(HV).max())
        Wn = np.zeros_like(W)
        n_iter, status, _ = newton(Xp, y.astype(np.int32), s, Wn, tol=1e-8, max_iter=100, **kw)
        assert status == Status.CONVERGED and n_iter > 0


@pytest.mark.parametrize("lam,reg_bias,fixed_first,bias", CASES[:5])
@pytest.mark.parametrize("max_iter", [1, 3, 50])
def test_same_iterates_as_the_numpy_twin(lam, reg_bias, fixed_first, bias, max_iter,
                                         sparse_problem):
    X, y, s = _data(sparse_problem, seed=8, noise=3.0)
    kw = dict(bias=bias, lam=lam, reg_bias=reg_bias, fixed_first=fixed_first)
    W = np.zeros((X.shape[1] + 1, 4))
    n_iter, status, measure = newton(proved_csr(X), y, s, W, tol=1e-9,
                                     max_iter=max_iter, **kw)
    W_ref, n_ref, status_ref, measure_ref = ref.newton(
        X, y, s, np.zeros_like(W), tol=1e-9, max_iter=max_iter, **kw)
    assert (n_iter, status) == (n_ref, status_ref)
    np.testing.assert_allclose(W, W_ref, rtol=1e-10, atol=1e-10 * np.abs(W_ref).max())
    np.testing.assert_allclose(measure, measure_ref, rtol=1e-4, atol=1e-12)


def _overshooting(sparse_problem):
    """20 classes at a large C: from W = 0 the probabilities' curvature grows
    along the Newton direction (1/K is far from 1/2), and the second step's
    line minimum lies near 0.15 of the full step."""
    X, y = sparse_problem(n_samples=300, n_features=100, n_classes=20, density=0.1,
                          seed=3, values="normal", noise=0.5)
    return X, y, np.full(300, 100.0)


OVERSHOOT_KW = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)


def _twin_steps(X, y, s, max_iter, monkeypatch):
    """The twin's line search steps (its first trials) over ``max_iter`` Newton steps."""
    steps = []
    step_length = ref.step_length

    def spy(*a):
        steps.append(step_length(*a))
        return steps[-1]

    monkeypatch.setattr(ref, "step_length", spy)
    ref.newton(X, y, s, np.zeros((X.shape[1] + 1, 20)), tol=0.0, max_iter=max_iter,
               **OVERSHOOT_KW)
    return steps


@pytest.mark.parametrize("max_iter", [1, 2, 3, 50])
def test_overshooting_steps_go_to_the_line_minimum_as_the_twin(max_iter, sparse_problem,
                                                              monkeypatch):
    X, y, s = _overshooting(sparse_problem)
    W = np.zeros((101, 20))
    n_iter, status, _ = newton(proved_csr(X), y, s, W, tol=1e-6, max_iter=max_iter,
                               **OVERSHOOT_KW)
    W_ref, n_ref, status_ref, _ = ref.newton(X, y, s, np.zeros_like(W), tol=1e-6,
                                             max_iter=max_iter, **OVERSHOOT_KW)
    assert (n_iter, status) == (n_ref, status_ref)
    np.testing.assert_allclose(W, W_ref, rtol=1e-9, atol=1e-9 * np.abs(W_ref).max())
    if max_iter >= 2:   # the path this test is about
        assert _twin_steps(X, y, s, 2, monkeypatch)[1] < 0.2


def test_a_shortened_step_is_near_the_line_minimum(sparse_problem, monkeypatch):
    """The kernel's second step, measured on the objective written out
    densely: ``|phi'(t)| <= 0.1 |phi'(0)|`` (``SLOPE_TOL``), and the full
    step and half of it end higher."""
    X, y, s = _overshooting(sparse_problem)
    W1, W2 = np.zeros((101, 20)), np.zeros((101, 20))
    newton(proved_csr(X), y, s, W1, tol=0.0, max_iter=1, **OVERSHOOT_KW)
    newton(proved_csr(X), y, s, W2, tol=0.0, max_iter=2, **OVERSHOOT_KW)
    # Both ends are centred across classes for the bias row (f does not
    # change along it); so is the step.
    t = _twin_steps(X, y, s, 2, monkeypatch)[1]
    S = (W2 - W1) / t

    def phi(tau):
        return _dense_objective(X, y, s, W1 + tau * S, bias=1.0, lam=1.0, reg_bias=False)

    h = 1e-4 * t
    slope0 = (phi(h) - phi(-h)) / (2 * h)
    slope_t = (phi(t + h) - phi(t - h)) / (2 * h)
    assert slope0 < 0 and t < 0.2
    assert abs(slope_t) <= 0.1 * abs(slope0)
    assert phi(t) < min(phi(0.5), phi(1.0), phi(0.0))


def test_warm_start_iterates_match_the_twin(sparse_problem):
    X, y, s = _data(sparse_problem, seed=9)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    W0 = _start(X.shape[1] + 1, 4, False, seed=10)
    W = W0.copy()
    n_iter, status, _ = newton(proved_csr(X), y, s, W, tol=1e-9, max_iter=4,
                               warm_start=True, **kw)
    W_ref, n_ref, status_ref, _ = ref.newton(X, y, s, W0, tol=1e-9, max_iter=4,
                                             warm_start=True, **kw)
    assert (n_iter, status) == (n_ref, status_ref)
    np.testing.assert_allclose(W, W_ref, rtol=1e-10, atol=1e-10 * np.abs(W_ref).max())


def _sklearn_check(X, y, C, one_blas_thread):
    """Our optimum of sklearn's objective against sklearn's lbfgs at tol=1e-10."""
    n, d = X.shape
    K = len(np.unique(y))
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    s = np.full(n, C)
    W = np.zeros((d + 1, K))
    tol = 1e-10 * C * n
    n_iter, status, measure = newton(proved_csr(sp.csr_matrix(X)), y, s, W, tol=tol,
                                     max_iter=200, **kw)
    assert status == Status.CONVERGED and measure <= tol
    sk = SkLogisticRegression(C=C, tol=1e-10, max_iter=10**5).fit(X, y)
    W_sk = np.vstack([sk.coef_.T, sk.intercept_])
    f = ref.loss_grad(sp.csr_matrix(X), y, s, W, **kw)[0]
    f_sk = ref.loss_grad(sp.csr_matrix(X), y, s, W_sk, **kw)[0]
    assert f == pytest.approx(f_sk, rel=1e-8)
    assert f <= f_sk * (1 + 1e-12)
    # Same gauge: the penalised rows of both are centred at the optimum,
    # the intercepts are compared centred.
    W_sk[-1] -= W_sk[-1].mean()
    np.testing.assert_allclose(W, W_sk, rtol=1e-3, atol=1e-4 * np.abs(W_sk).max())
    return W, W_sk


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_iris_unscaled_matches_sklearn_lbfgs(C, one_blas_thread):
    X, y = load_iris(return_X_y=True)
    _sklearn_check(X, y, C, one_blas_thread)


@pytest.mark.parametrize("C", [0.1, 10.0])
def test_sparse_five_classes_match_sklearn_lbfgs(C, sparse_problem, one_blas_thread):
    X, y = sparse_problem(n_samples=400, n_features=60, n_classes=5, density=0.1,
                          seed=11, noise=1.0)
    assert len(np.unique(y)) == 5
    _sklearn_check(X, y, C, one_blas_thread)


@pytest.mark.parametrize("lam,reg_bias,fixed_first,bias", CASES)
def test_optimality_at_exit(lam, reg_bias, fixed_first, bias, sparse_problem):
    """max|G| <= tol, and the KKT conditions of the returned W: the data term
    balances the penalty, and the penalised rows sum to zero over classes
    (their gradient does, as the softmax residuals sum to zero)."""
    X, y, s = _data(sparse_problem, n=300, d=20, seed=12, noise=3.0)
    kw = dict(bias=bias, lam=lam, reg_bias=reg_bias, fixed_first=fixed_first)
    W = np.zeros((X.shape[1] + 1, 4))
    tol = 1e-8
    n_iter, status, measure = newton(proved_csr(X), y, s, W, tol=tol, max_iter=100, **kw)
    assert status == Status.CONVERGED and measure <= tol
    f, G, P, _ = ref.loss_grad(X, y, s, W, **kw)
    assert np.abs(G).max() <= 2 * tol
    Y = np.eye(4)[y]
    data_term = np.vstack([X.T @ (s[:, None] * (P - Y)),
                           bias * (s[:, None] * (P - Y)).sum(axis=0)])
    pen = ref._penalised(W.shape[0], lam, reg_bias)
    free = slice(1, None) if fixed_first else slice(None)
    np.testing.assert_allclose((data_term + lam * W * pen[:, None])[:, free], 0, atol=2 * tol)
    if not fixed_first:
        # Penalised rows are centred by optimality, the others by the gauge.
        np.testing.assert_allclose(W.sum(axis=1), 0, atol=1e-9 * np.abs(W).max())
    else:
        assert np.all(W[:, 0] == 0.0)
    # No other start does better (a convex problem).
    W2 = W + 1e-3 * _start(W.shape[0], 4, fixed_first, seed=13)
    assert ref.loss_grad(X, y, s, W2, **kw)[0] >= f


def test_singular_hessian_no_penalty_converges(sparse_problem):
    """lam = 0: H is singular along every row's constant; CG copes, and the
    result is the centred member of the family of minimisers."""
    X, y, s = _data(sparse_problem, n=400, d=8, seed=14, noise=5.0)
    kw = dict(bias=1.0, lam=0.0, reg_bias=False, fixed_first=False)
    W = np.zeros((9, 4))
    n_iter, status, measure = newton(proved_csr(X), y, s, W, tol=1e-9, max_iter=100, **kw)
    assert status == Status.CONVERGED and measure <= 1e-9
    np.testing.assert_allclose(W.sum(axis=1), 0, atol=1e-12 * np.abs(W).max())
    # The reference-class fit of the same problem is the same model.
    Wf = np.zeros((9, 4))
    newton(proved_csr(X), y, s, Wf, tol=1e-9, max_iter=100, **dict(kw, fixed_first=True))
    np.testing.assert_allclose(Wf - Wf.mean(axis=1, keepdims=True), W, rtol=1e-6,
                               atol=1e-7 * np.abs(W).max())
    # A shifted start ends in the same gauge.
    W2 = 5.0 * np.ones((9, 4))
    newton(proved_csr(X), y, s, W2, tol=1e-9, max_iter=100, **kw)
    np.testing.assert_allclose(W2, W, rtol=1e-6, atol=1e-7 * np.abs(W).max())


def test_zero_costs_drop_samples_and_empty_rows(sparse_problem):
    X, y, s = _data(sparse_problem, n=200, d=12, seed=15)
    X = sp.vstack([X, sp.csr_matrix((4, 12))]).tocsr()
    y = np.concatenate([y, [0, 1, 2, 3]])
    s = np.concatenate([s, [1.0, 2.0, 1.0, 1.0]])
    s[:30] = 0.0
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-9, max_iter=100)
    W = np.zeros((13, 4))
    assert newton(proved_csr(X), y, s, W, **kw)[1] == Status.CONVERGED
    keep = s > 0
    W_kept = np.zeros((13, 4))
    newton(proved_csr(X[keep]), y[keep], s[keep], W_kept, **kw)
    np.testing.assert_allclose(W, W_kept, rtol=1e-8, atol=1e-10)


def test_threads_change_rounding_only_and_runs_repeat(sparse_problem):
    X, y = sparse_problem(n_samples=2000, n_features=100, n_classes=5, density=0.1,
                          seed=16, noise=2.0)
    s = np.ones(2000)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-9, max_iter=100)
    Xp = proved_csr(X)
    runs = {}
    for n_threads in (1, 2, 2, 3):
        W = np.zeros((101, 5))
        n_iter, status, _ = newton(Xp, y, s, W, n_threads=n_threads, **kw)
        assert status == Status.CONVERGED
        if n_threads in runs:
            np.testing.assert_array_equal(W, runs[n_threads])
        runs[n_threads] = W
    for n_threads in (2, 3):
        np.testing.assert_allclose(runs[n_threads], runs[1], rtol=1e-7,
                                   atol=1e-8 * np.abs(runs[1]).max())
    G1, G2 = np.empty((101, 5)), np.empty((101, 5))
    P1, P2 = np.empty((2000, 5)), np.empty((2000, 5))
    W = runs[1] + 0.1
    f1 = loss_grad(Xp, y, s, W, G1, P1, bias=1.0, lam=1.0, reg_bias=False,
                   fixed_first=False)
    f2 = loss_grad(Xp, y, s, W, G2, P2, bias=1.0, lam=1.0, reg_bias=False,
                   fixed_first=False, n_threads=2)
    assert f1 == pytest.approx(f2, rel=1e-13)
    np.testing.assert_allclose(G1, G2, rtol=1e-11, atol=1e-11 * np.abs(G1).max())
    np.testing.assert_array_equal(P1, P2)


def _gather_cases(sparse_problem):
    """Matrices for the gathered products: both value types and index widths,
    an empty row, an empty column, and values of 1 (whose transpose shares
    X's values)."""
    X, y, s = _data(sparse_problem, n=150, d=20, K=4, seed=30)
    X = X.tolil()
    X[7, :] = 0.0
    X[:, 3] = 0.0
    X = X.tocsr()
    X.eliminate_zeros()
    X64 = _with_int64_indices(X)
    ones = X.copy()
    ones.data[:] = 1.0
    s = s.copy()
    s[:10] = 0.0   # zero costs: rows whose terms are all 0
    return [(Xv, y, s) for Xv in (X, X64, X.astype(np.float32),
                                  sp.csr_matrix(X64.astype(np.float32)), ones)]


def _with_int64_indices(X):
    X = X.copy()
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    return X


@pytest.mark.parametrize("lam,reg_bias,fixed_first,bias", CASES)
def test_gathered_products_have_the_scatter_bits(lam, reg_bias, fixed_first, bias,
                                                  sparse_problem):
    """Rule 5: with XT the transposed products gather by columns, adding the
    scatter's terms in the scatter's order: the same bits as one thread
    without it, for any number of threads."""
    kw = dict(bias=bias, lam=lam, reg_bias=reg_bias, fixed_first=fixed_first)
    for X, y, s in _gather_cases(sparse_problem):
        Xp = proved_csr(X)
        XT = transpose(Xp)   # int32 indices here; 64-bit ones as a caller's own proof
        XT64 = XT if XT.indices.dtype == np.int64 else proved_csr(_with_int64_indices(X.T.tocsr()))
        assert XT.indices.dtype == np.int32 and XT64.indices.dtype == np.int64
        W = _start(X.shape[1] + 1, 4, fixed_first, seed=31)
        V = _start(X.shape[1] + 1, 4, fixed_first, seed=32)
        f, G, P = _kernel_loss_grad(Xp, y, s, W, **kw)
        HV = _kernel_hessp(Xp, s, P, V, **kw)
        for n_threads, XTv in ((1, XT), (2, XT), (3, XT), (1, XT64), (2, XT64)):
            f_g, G_g, P_g = _kernel_loss_grad(Xp, y, s, W, n_threads=n_threads, XT=XTv, **kw)
            np.testing.assert_array_equal(G_g, G)
            np.testing.assert_array_equal(P_g, P)
            if n_threads == 1:
                assert f_g == f
            else:   # the loss is summed per chunk of rows (rule 2)
                assert f_g == pytest.approx(f, rel=1e-13)
            np.testing.assert_array_equal(
                _kernel_hessp(Xp, s, P, V, n_threads=n_threads, XT=XTv, **kw), HV)
        W1 = np.zeros_like(W)
        run = newton(Xp, y, s, W1, tol=1e-9, max_iter=50, **kw)
        for n_threads, XTv in ((1, XT), (2, XT64)):
            W2 = np.zeros_like(W)
            assert newton(Xp, y, s, W2, tol=1e-9, max_iter=50, n_threads=n_threads,
                          XT=XTv, **kw)[:2] == run[:2]
            np.testing.assert_array_equal(W2, W1)


def test_gathered_newton_matches_the_numpy_twin(sparse_problem):
    X, y, s = _data(sparse_problem, seed=8, noise=3.0)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    Xp = proved_csr(X)
    W = np.zeros((X.shape[1] + 1, 4))
    n_iter, status, _ = newton(Xp, y, s, W, tol=1e-9, max_iter=50, n_threads=2,
                               XT=transpose(Xp), **kw)
    W_ref, n_ref, status_ref, _ = ref.newton(X, y, s, np.zeros_like(W), tol=1e-9,
                                             max_iter=50, **kw)
    assert (n_iter, status) == (n_ref, status_ref)
    np.testing.assert_allclose(W, W_ref, rtol=1e-10, atol=1e-10 * np.abs(W_ref).max())


def test_gather_pays_where_the_result_is_wide():
    # 20 Newsgroups' shape: more columns than rows, 2.6M weights.
    assert gather_pays(11_314, 130_107, 20)
    # More rows than columns (the text-like 80,000 x 20,000), or a small W.
    assert not gather_pays(80_000, 20_000, 20)
    assert not gather_pays(2_000, 180, 3)
    assert not gather_pays(5_000, 50_000, 5)


def test_the_estimator_gathers_where_it_pays(sparse_problem, monkeypatch):
    """LogisticRegression hands the transpose to the kernel when
    ``gather_pays`` says so: the same coefficients, bit for bit."""
    import fastlinear._multinomial_fast as mf
    from fastlinear import LogisticRegression

    X, y = sparse_problem(n_samples=60, n_features=200, n_classes=3, density=0.05,
                          seed=34, noise=1.0)
    fits, asked = {}, []
    for pays in (False, True):
        monkeypatch.setattr(mf, "gather_pays",
                            lambda n, d, K, pays=pays: asked.append((n, d, K)) or pays)
        fits[pays] = LogisticRegression(C=10.0, solver="newton-cg", tol=1e-8).fit(X, y)
    assert asked == [(60, 200, 3)] * 2
    np.testing.assert_array_equal(fits[True].coef_, fits[False].coef_)
    np.testing.assert_array_equal(fits[True].intercept_, fits[False].intercept_)
    assert fits[True].n_iter_[0] > 0


def test_a_wrong_transpose_is_refused(sparse_problem):
    X, y, s = _data(sparse_problem, n=50, d=6, seed=33)
    Xp = proved_csr(X)
    W = np.zeros((7, 4))
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    G, P = np.empty((7, 4)), np.empty((50, 4))
    with pytest.raises(ValueError, match=r"XT must be the transpose of X .*shape \(6, 50\)"):
        loss_grad(Xp, y, s, W, G, P, XT=Xp, **kw)
    with pytest.raises(ValueError, match="of dtype float64, got .* of dtype float32"):
        hessp(Xp, s, P, W, G, XT=transpose(proved_csr(X.astype(np.float32))), **kw)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        newton(Xp, y, s, W, tol=1e-6, max_iter=5, XT=X.T.tocsr(), **kw)


def test_stop_flag_and_max_iter(sparse_problem):
    X, y, s = _data(sparse_problem, seed=17)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False, tol=1e-12)
    W = np.zeros((16, 4))
    n_iter, status, _ = newton(proved_csr(X), y, s, W, max_iter=100,
                               stop=np.ones(1, dtype=np.uint8), **kw)
    assert status == Status.INTERRUPTED and n_iter == 0
    W = np.zeros((16, 4))
    n_iter, status, measure = newton(proved_csr(X), y, s, W, max_iter=2, **kw)
    assert (n_iter, status) == (2, Status.MAX_ITER) and measure > 1e-12
    W = np.zeros((16, 4))
    assert newton(proved_csr(X), y, s, W, max_iter=0, **kw)[:2] == (0, Status.MAX_ITER)
    assert np.all(W == 0)


def test_line_search_failure_is_its_own_status(sparse_problem):
    """tol = 0 asks for more than rounding allows: the run ends when the
    line search finds no decrease, at a gradient at rounding level."""
    X, y, s = _data(sparse_problem, seed=18)
    W = np.zeros((16, 4))
    n_iter, status, measure = newton(proved_csr(X), y, s, W, bias=1.0, lam=1.0,
                                     reg_bias=False, fixed_first=False, tol=0.0,
                                     max_iter=200)
    assert status == LINE_SEARCH_FAILED and n_iter < 200
    assert measure <= 1e-10


def test_bad_input_raises_clear_errors(sparse_problem):
    X, y, s = _data(sparse_problem, n=50, d=6, seed=19)
    Xp = proved_csr(X)
    W = np.zeros((7, 4))
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    nk = dict(kw, tol=1e-6, max_iter=10)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        newton(X, y, s, W, **nk)
    with pytest.raises(ValueError, match=r"W must be a writable C-contiguous float64 ndarray of shape \(7, 4\)"):
        newton(Xp, y, s, np.zeros((6, 4)), **nk)
    with pytest.raises(ValueError, match="K >= 2"):
        newton(Xp, y, s, np.zeros((7, 1)), **nk)
    with pytest.raises(ValueError, match="float64"):
        newton(Xp, y, s, np.zeros((7, 4), dtype=np.float32), **nk)
    with pytest.raises(ValueError, match="C-contiguous"):
        newton(Xp, y, s, np.zeros((7, 4), order="F"), **nk)
    with pytest.raises(ValueError, match=r"y_ind must lie in \[0, K\) = \[0, 4\)"):
        newton(Xp, np.where(y == 0, 4, y), s, W, **nk)
    with pytest.raises(ValueError, match=r"y_ind must lie in \[0, K\)"):
        newton(Xp, y - 1, s, W, **nk)
    with pytest.raises(ValueError, match="integer class indices"):
        newton(Xp, y.astype(float), s, W, **nk)
    with pytest.raises(ValueError, match=r"y_ind must have shape \(n_samples,\) = \(50,\)"):
        newton(Xp, y[:-1], s, W, **nk)
    with pytest.raises(ValueError, match="finite and >= 0"):
        newton(Xp, y, -s, W, **nk)
    with pytest.raises(ValueError, match="finite and >= 0"):
        newton(Xp, y, np.where(s > 1, np.nan, s), W, **nk)
    with pytest.raises(ValueError, match="NaN or infinite"):
        newton(Xp, y, s, np.full((7, 4), np.inf), **nk)
    with pytest.raises(ValueError, match=r"fixed_first=True holds column 0 of W at zero"):
        newton(Xp, y, s, np.ones((7, 4)), **dict(nk, fixed_first=True))
    with pytest.raises(ValueError, match="lam must be finite and >= 0"):
        newton(Xp, y, s, W, **dict(nk, lam=-1.0))
    with pytest.raises(ValueError, match="tol must be finite and >= 0"):
        newton(Xp, y, s, W, **dict(nk, tol=np.nan))
    for relative in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="relative must be finite and >= 0"):
            newton(Xp, y, s, W, **dict(nk, relative=relative))
    with pytest.raises(ValueError, match="bias must be finite"):
        newton(Xp, y, s, W, **dict(nk, bias=np.inf))
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        newton(Xp, y, s, W, **dict(nk, n_threads=0))
    with pytest.raises(ValueError, match="overflow"):
        newton(Xp, y, s, np.full((7, 4), 1.5e308) * (np.arange(4) == 1), **nk)
    read_only = np.zeros((7, 4))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        newton(Xp, y, s, read_only, **nk)
    G, P = np.empty((7, 4)), np.zeros((50, 4))  # P * 0 must be finite below
    with pytest.raises(ValueError, match=r"P must be a writable .* shape \(50, 4\)"):
        loss_grad(Xp, y, s, W, G, np.empty((50, 3)), **kw)
    with pytest.raises(ValueError, match=r"G must be"):
        loss_grad(Xp, y, s, W, G.T, P, **kw)
    with pytest.raises(ValueError, match=r"HV must be"):
        hessp(Xp, s, P * 0 + 0.25, W, np.empty(7), **kw)
    with pytest.raises(ValueError, match=r"P has NaN"):
        hessp(Xp, s, np.full((50, 4), np.nan), W, G, **kw)
    with pytest.raises(ValueError, match=r"fixed_first=True holds column 0 of V"):
        hessp(Xp, s, P * 0 + 0.25, np.ones((7, 4)), G, **dict(kw, fixed_first=True))
    # The caller's arrays are left as they were.
    assert np.all(W == 0)


def test_the_gradient_test_waits_for_the_estimated_gap_as_the_twin(rare_features):
    """``max |G| <= tol`` passes on rare features far from the optimum (here
    after 6 steps, 1.9e-2 above it); with ``decrement`` the kernel goes on, as
    its twin does, until 1/2 G.diag(H)^-1 G <= tol too (7 steps, 7.4e-4
    above it).  (At C = 3000 on 1,500 rare features the iterates carry
    rounding amplified many-fold: the twin is compared on its steps and
    objective.)"""
    X, y = rare_features(n=200, d=1500, per_row=20, n_classes=3, seed=1)
    s = np.full(X.shape[0], 3000.0)
    kw = dict(bias=1.0, lam=1.0, reg_bias=False, fixed_first=False)
    tol = 1e-4

    def fit(tol, decrement, max_iter=100):
        W = np.zeros((X.shape[1] + 1, 3))
        n_iter, status, _ = newton(proved_csr(X), y, s, W, tol=tol * s.sum(),
                                   max_iter=max_iter, decrement=decrement, **kw)
        assert status == Status.CONVERGED or tol < 1e-12
        return W, n_iter

    def objective(W):
        return ref.loss_grad(X, y, s, W, fixed_first=False, **{
            k: kw[k] for k in ("bias", "lam", "reg_bias")})[0]

    best = objective(fit(1e-13, False, max_iter=300)[0])
    W_max, steps_max = fit(tol, False)
    W, steps = fit(tol, True)
    gap_max, gap = objective(W_max) / best - 1, objective(W) / best - 1
    assert gap_max > 5e-3 and gap < gap_max / 10 and steps > steps_max
    W_ref, n_ref, status_ref, _ = ref.newton(X, y, s, np.zeros_like(W), tol=tol * s.sum(),
                                            max_iter=100, decrement=True, **kw)
    assert (steps, Status.CONVERGED) == (n_ref, status_ref)
    assert objective(W_ref) == pytest.approx(objective(W), rel=1e-6)
