"""The Crammer-Singer kernel (liblinear -s 4): exact twin, parity with liblinear, optimality, bad input."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear._mcsvm_fast import crammer_singer
from fastlinear._problem import CrammerSingerProblem
from fastlinear._validation import proved_csr

from _reference_cs import reference_cs

CONVERGED, MAX_ITER, INTERRUPTED = 0, 1, 2


def solve(X, y, cost, K, *, bias=1.0, tol=1e-3, max_iter=1000, seed=0, **kw):
    """Run the kernel on a scipy CSR matrix; returns (W feature-major, alpha, n_iter, status, measure)."""
    P = proved_csr(X)
    W = np.full((X.shape[1] + 1, K), np.nan)
    alpha = kw.pop("alpha", None)
    alpha = np.full((X.shape[0], K), np.nan) if alpha is None else alpha
    n_iter, status, measure = crammer_singer(P, np.asarray(y, dtype=np.int32), np.asarray(cost, dtype=np.float64),
                                             W, alpha, bias=bias, tol=tol, max_iter=max_iter, seed=seed, **kw)
    return W, alpha, n_iter, status, measure


def problem(X, y, cost, K, bias):
    return CrammerSingerProblem(proved_csr(X), np.asarray(y), K, np.asarray(cost, dtype=np.float64), bias)


def gradients(X, y, W, bias):
    """``G[i, m] = e_i^m + w_m.x~_i`` for feature-major ``W``."""
    G = np.asarray(X @ W[:-1]) + bias * W[-1]
    G += 1.0
    G[np.arange(X.shape[0]), y] -= 1.0
    return G


def with_empty_row_and_zero_cost(X, y, cost, rows=(0,), zero=(1,)):
    X = sp.csr_matrix(X, copy=True)
    for i in rows:
        X.data[X.indptr[i]:X.indptr[i + 1]] = 0.0
    X.eliminate_zeros()
    cost = cost.copy()
    cost[list(zero)] = 0.0
    return X, y, cost


# --------------------------------------------------------------------------
# Exact match with the NumPy twin


@pytest.mark.parametrize("n_classes", [3, 5])
@pytest.mark.parametrize("bias", [0.0, 1.0])
@pytest.mark.parametrize("max_iter", [1, 3, 1000])
def test_exact_match_with_numpy_twin(n_classes, bias, max_iter, sparse_problem):
    X, y = sparse_problem(n_samples=100, n_features=40, n_classes=n_classes, density=0.15, seed=3)
    cost = np.random.RandomState(1).uniform(0.05, 2.0, X.shape[0])
    # An empty row (set aside without bias, rule 4) and a sample with C_i = 0.
    X, y, cost = with_empty_row_and_zero_cost(X, y, cost)
    tol, seed = 1e-2, 12345
    W, alpha, n_iter, status, measure = solve(X, y, cost, n_classes, bias=bias, tol=tol, max_iter=max_iter,
                                              seed=seed)
    W_ref, alpha_ref, n_iter_ref, measure_ref = reference_cs(X, y, cost, n_classes, bias=bias, tol=tol,
                                                             max_iter=max_iter, seed=seed)
    assert n_iter == n_iter_ref
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(alpha, alpha_ref, rtol=0, atol=1e-10)
    assert measure == pytest.approx(measure_ref, abs=1e-10)
    if max_iter == 1000:
        assert status == CONVERGED and measure < tol and n_iter > 3
    else:
        assert status == MAX_ITER and n_iter == max_iter


def test_passes_that_change_no_weight_end_the_solve_as_the_twin_does(sparse_problem):
    """X scaled by 1e60: every change of alpha is below 1e-12 and never
    reaches W (rule 9).  After STALL_PASSES such passes the kernel ends,
    STALLED (6), where it used to run its 100,000 passes."""
    X, y = sparse_problem(n_samples=100, n_features=40, n_classes=3, density=0.15, seed=3)
    X = X * 1e60
    cost = np.ones(X.shape[0])
    W, alpha, n_iter, status, measure = solve(X, y, cost, 3, bias=1.0, tol=1e-2, max_iter=100_000,
                                              seed=7)
    W_ref, alpha_ref, n_iter_ref, measure_ref = reference_cs(X, y, cost, 3, bias=1.0, tol=1e-2,
                                                             max_iter=100_000, seed=7)
    assert status == 6 and n_iter == n_iter_ref < 50 and measure > 0.5
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(alpha, alpha_ref, rtol=0, atol=1e-10)


def test_same_seed_same_iterates_other_seed_same_optimum(sparse_problem):
    X, y = sparse_problem(n_samples=300, n_features=80, n_classes=4, density=0.1, seed=8)
    cost = np.full(X.shape[0], 0.5)
    a = solve(X, y, cost, 4, seed=3, tol=1e-6)
    b = solve(X, y, cost, 4, seed=3, tol=1e-6)
    c = solve(X, y, cost, 4, seed=4, tol=1e-6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    prob = problem(X, y, cost, 4, 1.0)
    assert prob.primal(c[0].T) == pytest.approx(prob.primal(a[0].T), rel=1e-5)


# --------------------------------------------------------------------------
# Parity with liblinear (scikit-learn's LinearSVC(multi_class="crammer_singer"))


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_objective_matches_sklearn_crammer_singer(C, sparse_problem):
    X, y = sparse_problem(n_samples=400, n_features=100, n_classes=3, density=0.1, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkLinearSVC(multi_class="crammer_singer", C=C, tol=1e-6, max_iter=100_000).fit(X, y)
    W_sk = np.hstack([sk.coef_, sk.intercept_[:, None] / sk.intercept_scaling])
    cost = np.full(X.shape[0], C)
    W, alpha, n_iter, status, _ = solve(X, y, cost, 3, bias=1.0, tol=1e-5, max_iter=10_000)
    assert status == CONVERGED
    prob = problem(X, y, cost, 3, 1.0)
    ours, theirs = prob.primal(W.T), prob.primal(W_sk)
    assert ours == pytest.approx(theirs, rel=1e-4)
    assert ours <= theirs * (1 + 1e-4)
    pred = np.argmax(np.asarray(X @ W[:-1]) + W[-1], axis=1)
    assert np.mean(pred == sk.predict(X)) >= 0.99


# --------------------------------------------------------------------------
# Optimality


@pytest.mark.parametrize("bias", [0.0, 1.0])
def test_kkt_conditions_and_duality_gap(bias, sparse_problem):
    X, y = sparse_problem(n_samples=300, n_features=60, n_classes=4, density=0.1, seed=9)
    cost = np.random.RandomState(2).uniform(0.1, 3.0, X.shape[0])
    X, y, cost = with_empty_row_and_zero_cost(X, y, cost, rows=(0, 2), zero=(1, 3))
    K, tol = 4, 1e-8
    W, alpha, n_iter, status, measure = solve(X, y, cost, K, bias=bias, tol=tol, max_iter=100_000)
    assert status == CONVERGED and measure < tol
    n = X.shape[0]
    upper = np.zeros((n, K))
    upper[np.arange(n), y] = cost
    # Feasibility (exact up to rounding), and C_i = 0 leaves alpha_i = 0.
    assert np.all(alpha <= upper)
    np.testing.assert_allclose(alpha.sum(axis=1), 0.0, atol=1e-12)
    assert np.all(alpha[[1, 3]] == 0.0)
    prob = problem(X, y, cost, K, bias)
    # W is W(alpha) up to the skipped changes below 1e-12 (rule 8).
    np.testing.assert_allclose(W.T, prob.w_from_alpha(alpha), rtol=0, atol=1e-9)
    # KKT: max_m G_m <= min {G_m : alpha_m < upper_m} for every sample that can move.
    G = gradients(X, y, W, bias)
    free = np.where(alpha < upper, G, np.inf)
    gap = G.max(axis=1) - free.min(axis=1)
    movable = cost > 0
    if bias == 0.0:
        movable[[0, 2]] = False
    assert gap[movable].max() <= 1e-7
    # Duality gap: P(W) = -D(alpha) at the optimum (the empty rows included).
    primal, dual = prob.primal(W.T), prob.dual(alpha)
    assert (primal + dual) / primal <= 1e-8
    assert primal + dual >= -1e-9 * primal


def test_warm_start_from_the_solution_stops_at_once(sparse_problem):
    X, y = sparse_problem(n_samples=300, n_features=60, n_classes=3, density=0.1, seed=10)
    cost = np.full(X.shape[0], 2.0)
    W, alpha, n_iter, status, _ = solve(X, y, cost, 3, tol=1e-4, max_iter=10_000)
    assert status == CONVERGED and n_iter > 5
    W2, alpha2, n_iter2, status2, _ = solve(X, y, cost, 3, tol=1e-4, max_iter=10_000, alpha=alpha.copy(),
                                            warm_start=True)
    assert status2 == CONVERGED and n_iter2 <= 2
    prob = problem(X, y, cost, 3, 1.0)
    assert prob.primal(W2.T) == pytest.approx(prob.primal(W.T), rel=1e-6)


# --------------------------------------------------------------------------
# Input formats, statuses, bad input


def test_float32_and_int64_indices_agree(sparse_problem):
    X, y = sparse_problem(n_samples=200, n_features=50, n_classes=3, density=0.1, seed=11)
    cost = np.full(X.shape[0], 0.7)
    ref = solve(X, y, cost, 3, tol=1e-6, seed=2)
    X64 = sp.csr_matrix(X, copy=True)
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    assert proved_csr(X64).indices.dtype == np.int64
    wide = solve(X64, y, cost, 3, tol=1e-6, seed=2)
    np.testing.assert_array_equal(wide[0], ref[0])
    np.testing.assert_array_equal(wide[1], ref[1])
    # float32 values, float64 accumulation: the same problem up to the rounding of X.
    X32 = X.astype(np.float32)
    ref32 = solve(X32.astype(np.float64), y, cost, 3, tol=1e-6, seed=2)
    single = solve(X32, y, cost, 3, tol=1e-6, seed=2)
    np.testing.assert_array_equal(single[0], ref32[0])
    np.testing.assert_allclose(single[0], ref[0], rtol=1e-5, atol=1e-5)


def test_statuses_stop_flag_and_verbose(capsys, sparse_problem):
    X, y = sparse_problem(n_samples=100, n_features=30, n_classes=3, density=0.2, seed=12)
    cost = np.ones(X.shape[0])
    _, _, n_iter, status, measure = solve(X, y, cost, 3, max_iter=2)
    assert (n_iter, status) == (2, MAX_ITER) and measure > 0
    assert capsys.readouterr().out == ""
    _, _, n_iter, status, _ = solve(X, y, cost, 3, max_iter=20, verbose=1)
    out = capsys.readouterr().out
    assert f"optimization finished, #iter = {n_iter}" in out
    assert ("WARNING: reaching max number of iterations" in out) == (status == MAX_ITER)
    _, _, n_iter, status, _ = solve(X, y, cost, 3, stop=np.ones(1, dtype=np.uint8))
    assert (n_iter, status) == (1, INTERRUPTED)
    W, alpha, n_iter, status, _ = solve(sp.csr_matrix((0, 30)), np.zeros(0), np.zeros(0), 3)
    assert (n_iter, status) == (0, CONVERGED) and np.all(W == 0.0)
    # Every cost zero: nothing moves.
    W, alpha, n_iter, status, _ = solve(X, y, np.zeros(X.shape[0]), 3)
    assert status == CONVERGED and np.all(W == 0.0) and np.all(alpha == 0.0)


def test_kernel_checks_its_own_input(sparse_problem):
    X, y = sparse_problem(n_samples=50, n_features=20, n_classes=3, density=0.2, seed=13)
    n, d = X.shape
    P = proved_csr(X)
    y32 = y.astype(np.int32)
    ones = np.ones(n)
    W, alpha = np.zeros((d + 1, 3)), np.zeros((n, 3))
    kw = dict(bias=1.0, tol=1e-3, max_iter=10, seed=0)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        crammer_singer(X, y32, ones, W, alpha, **kw)
    bad_y = y32.copy()
    bad_y[4] = 3
    with pytest.raises(ValueError, match="row 4 has a label outside \\[0, 3\\)"):
        crammer_singer(P, bad_y, ones, W, alpha, **kw)
    bad_y[4] = -1
    with pytest.raises(ValueError, match="row 4 has a label"):
        crammer_singer(P, bad_y, ones, W, alpha, **kw)
    for value in (-1.0, np.nan, np.inf):
        bad_cost = ones.copy()
        bad_cost[7] = value
        with pytest.raises(ValueError, match="row 7 .* cost C_i that is negative or not finite"):
            crammer_singer(P, y32, bad_cost, W, alpha, **kw)
    with pytest.raises(ValueError, match="n_samples = 50"):
        crammer_singer(P, y32[:-1], ones, W, alpha, **kw)
    with pytest.raises(ValueError, match="W must have shape"):
        crammer_singer(P, y32, ones, np.zeros((d, 3)), alpha, **kw)
    with pytest.raises(ValueError, match="K >= 2"):
        crammer_singer(P, np.zeros(n, dtype=np.int32), ones, np.zeros((d + 1, 1)), np.zeros((n, 1)), **kw)
    with pytest.raises(ValueError, match="alpha must have shape"):
        crammer_singer(P, y32, ones, W, np.zeros((n, 4)), **kw)
    with pytest.raises(ValueError, match="tol must be > 0"):
        crammer_singer(P, y32, ones, W, alpha, **dict(kw, tol=0.0))
    with pytest.raises(ValueError, match="max_iter >= 1"):
        crammer_singer(P, y32, ones, W, alpha, **dict(kw, max_iter=0))
    with pytest.raises(ValueError, match="bias must be finite"):
        crammer_singer(P, y32, ones, W, alpha, **dict(kw, bias=np.nan))
    with pytest.raises(ValueError, match="stop must have one element"):
        crammer_singer(P, y32, ones, W, alpha, stop=np.zeros(2, dtype=np.uint8), **kw)
    # An infeasible warm start: a variable above its bound, a sum that is not zero.
    start = np.zeros((n, 3))
    start[5, (y[5] + 1) % 3] = 0.5
    start[5, y[5]] = -0.5
    with pytest.raises(ValueError, match="infeasible at row 5"):
        crammer_singer(P, y32, ones, W, start, warm_start=True, **kw)
    start = np.zeros((n, 3))
    start[6, y[6]] = 0.5
    with pytest.raises(ValueError, match="infeasible at row 6"):
        crammer_singer(P, y32, ones, W, start, warm_start=True, **kw)
    # The checks come before any write.
    W0, alpha0 = np.full((d + 1, 3), 7.0), np.full((n, 3), 7.0)
    with pytest.raises(ValueError):
        crammer_singer(P, bad_y, ones, W0, alpha0, **kw)
    assert np.all(W0 == 7.0) and np.all(alpha0 == 7.0)
