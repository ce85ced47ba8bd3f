"""The logistic-regression dual CD kernel (``src_c/_logistic_dual_fast.pyx``; liblinear -s 7).

Three ways: the same iterates as a NumPy twin (same seed, same visiting
order), the duality gap and the box and ``w = sum_i y_i a_i x~_i`` at the
solution, and the primal objective of liblinear-official ``-s 7`` and of
scikit-learn's ``LogisticRegression(solver="liblinear")`` at the same C.
Then dtypes, zero and class-weighted costs, bad input, the stop flag.
"""
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from fastlinear._csr_fast import checked_csr
from fastlinear._logistic_dual_fast import logistic_dual_cd
from fastlinear._validation import proved_csr

from _reference_logistic_dual import reference_logistic_dual

liblinearutil = pytest.importorskip("liblinear.liblinearutil")

CONVERGED, MAX_ITER, INTERRUPTED = 0, 1, 2


def _problem(sparse_problem, n=200, d=60, seed=0, weights=False, density=0.1):
    X, y01 = sparse_problem(n_samples=n, n_features=d, density=density, seed=seed)
    y = np.where(y01 == 1, 1.0, -1.0)
    rng = np.random.RandomState(seed)
    cost = rng.uniform(0.5, 2.0, n) if weights else np.ones(n)
    if weights:
        cost[rng.choice(n, n // 20, replace=False)] = 0.0  # some zero-cost samples
    return sp.csr_matrix(X), y, cost


def _solve(X, y, cost, *, bias=1.0, tol=0.1, max_iter=1000, seed=0, alpha0=None, P=None, **kw):
    w = np.zeros(X.shape[1] + 1)
    alpha = np.zeros(X.shape[0]) if alpha0 is None else np.array(alpha0, dtype=np.float64)
    n_iter, status, measure = logistic_dual_cd(proved_csr(X) if P is None else P, y, cost, w,
                                               alpha, bias=bias, tol=tol, max_iter=max_iter,
                                               seed=seed, **kw)
    return w, alpha, n_iter, status, measure


def _primal(X, y, cost, w, bias):
    z = y * (X @ w[:-1] + bias * w[-1])
    return 0.5 * w @ w + cost @ np.logaddexp(0.0, -z)


def _dual(cost, w, alpha):
    used = cost > 0
    a, c = alpha[used], cost[used]
    return 0.5 * w @ w + np.sum(a * np.log(a) + (c - a) * np.log(c - a) - c * np.log(c))


def _w_of_alpha(X, y, alpha, bias):
    ya = y * alpha
    return np.append(X.T @ ya, bias * ya.sum())


def _liblinear_w(X, y, C, bias, extra=""):
    """liblinear-official -s 7's weights, bias last, signed for the label +1."""
    model = liblinearutil.train(y, X, f"-s 7 -c {C!r} -e 1e-6 -B {bias!r} -q {extra}")
    W, b = model.get_decfun()  # b = bias * (the bias weight)
    sign = 1.0 if model.get_labels()[0] == 1 else -1.0
    return sign * np.append(W, b / bias)


# ----------------------------------------------------------------- the twin


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("bias", [1.0, 0.0, 2.5])
@pytest.mark.parametrize("max_iter", [1, 3, 1000])
def test_same_iterates_as_the_numpy_twin(weights, bias, max_iter, sparse_problem):
    X, y, cost = _problem(sparse_problem, weights=weights)
    C = 0.7
    w, alpha, n_iter, status, measure = _solve(X, y, C * cost, bias=bias, tol=1e-4,
                                               max_iter=max_iter, seed=7)
    w_ref, a_ref, n_ref, m_ref = reference_logistic_dual(X, y, C * cost, bias=bias, tol=1e-4,
                                                         max_iter=max_iter, seed=7)
    assert n_iter == n_ref
    assert status == (CONVERGED if max_iter == 1000 else MAX_ITER)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-12 * np.abs(w_ref).max())
    np.testing.assert_allclose(alpha, a_ref, rtol=0, atol=1e-12 * C)
    assert measure == pytest.approx(m_ref, rel=1e-10)
    if bias == 0.0:
        assert w[-1] == 0.0


def test_same_iterates_from_a_start_point(sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=1)
    rng = np.random.RandomState(1)
    alpha0 = cost * rng.uniform(0.0, 1.0, cost.shape)
    alpha0[:5] = 0.0
    alpha0[5:10] = cost[5:10]  # at the bounds: clipped inside
    w, alpha, n_iter, _, _ = _solve(X, y, cost, tol=1e-3, seed=3, alpha0=alpha0)
    w_ref, a_ref, n_ref, _ = reference_logistic_dual(X, y, cost, bias=1.0, tol=1e-3,
                                                     max_iter=1000, seed=3, alpha0=alpha0)
    assert n_iter == n_ref
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-12 * np.abs(w_ref).max())
    np.testing.assert_allclose(alpha, a_ref, rtol=0, atol=1e-12)


def test_a_warm_start_at_the_solution_stops_after_one_pass(sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=2)
    w, alpha, _, status, _ = _solve(X, y, cost, tol=1e-8)
    assert status == CONVERGED
    w2, alpha2, n_iter, status, measure = _solve(X, y, cost, tol=1e-6, alpha0=alpha)
    assert n_iter == 1 and status == CONVERGED and measure < 1e-6
    np.testing.assert_allclose(w2, w, rtol=0, atol=1e-8 * np.abs(w).max())


def test_the_seed_sets_the_order(sparse_problem):
    X, y, cost = _problem(sparse_problem)
    a = _solve(X, y, cost, max_iter=2, seed=0)[0]
    b = _solve(X, y, cost, max_iter=2, seed=0)[0]
    c = _solve(X, y, cost, max_iter=2, seed=1)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# --------------------------------------------------------------- optimality


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("bias", [1.0, 0.0])
def test_duality_gap_and_box(C, bias, sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=4, weights=True)
    cost = C * cost
    w, alpha, _, status, measure = _solve(X, y, cost, bias=bias, tol=1e-8, max_iter=10000)
    assert status == CONVERGED and measure < 1e-8
    used = cost > 0
    # 0 < a_i < C_i, and a_i = 0 where C_i = 0.
    assert np.all(alpha[used] > 0) and np.all(alpha[used] < cost[used])
    assert not alpha[~used].any()
    # w = sum_i y_i a_i x~_i.
    np.testing.assert_allclose(w, _w_of_alpha(X, y, alpha, bias), rtol=0,
                               atol=1e-10 * max(1.0, np.abs(w).max()))
    primal = _primal(X, y, cost, w, bias)
    gap = primal + _dual(cost, w, alpha)
    assert gap >= -1e-9 * primal
    assert gap <= 1e-6 * primal
    # The primal optimality: a_i = C_i sigma(-y_i w.x~_i).
    z = y * (X @ w[:-1] + bias * w[-1])
    np.testing.assert_allclose(alpha[used], cost[used] / (1 + np.exp(z[used])), rtol=1e-5)


def test_loose_tol_decreases_the_gap(sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=5)
    gaps = []
    for tol in (1.0, 0.1, 1e-3, 1e-6):
        w, alpha, _, status, measure = _solve(X, y, cost, tol=tol)
        assert status == CONVERGED and measure < tol
        gaps.append(_primal(X, y, cost, w, 1.0) + _dual(cost, w, alpha))
    assert gaps[-1] < gaps[0]
    assert gaps[-1] <= 1e-6 * _primal(X, y, cost, w, 1.0)


# ----------------------------------------------- liblinear and scikit-learn


@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("bias", [1.0, 3.0])
def test_objective_matches_liblinear_and_sklearn(C, bias, sparse_problem):
    X, y, _ = _problem(sparse_problem, n=300, d=80, seed=6)
    cost = C * np.ones(X.shape[0])
    w, _, _, status, _ = _solve(X, y, cost, bias=bias, tol=1e-6)
    assert status == CONVERGED
    ours = _primal(X, y, cost, w, bias)
    w_ll = _liblinear_w(X, y, C, bias)
    assert ours == pytest.approx(_primal(X, y, cost, w_ll, bias), rel=1e-6)
    np.testing.assert_allclose(w, w_ll, rtol=0, atol=1e-4 * np.abs(w_ll).max())
    clf = SkLogisticRegression(solver="liblinear", C=C, tol=1e-10, intercept_scaling=bias,
                               max_iter=1000).fit(X, y)
    w_sk = np.append(clf.coef_.ravel(), clf.intercept_ / bias)
    theirs = _primal(X, y, cost, w_sk, bias)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert ours <= theirs * (1 + 1e-7)


def test_class_weighted_costs_match_liblinear(sparse_problem):
    X, y, _ = _problem(sparse_problem, n=300, d=80, seed=7)
    C, w_pos, w_neg = 2.0, 3.0, 0.5
    cost = C * np.where(y > 0, w_pos, w_neg)
    w, _, _, status, _ = _solve(X, y, cost, tol=1e-6)
    assert status == CONVERGED
    w_ll = _liblinear_w(X, y, C, 1.0, extra=f"-w1 {w_pos} -w-1 {w_neg}")
    assert _primal(X, y, cost, w, 1.0) == pytest.approx(_primal(X, y, cost, w_ll, 1.0), rel=1e-6)
    clf = SkLogisticRegression(solver="liblinear", C=C, tol=1e-10,
                               class_weight={1: w_pos, -1: w_neg}).fit(X, y)
    w_sk = np.append(clf.coef_.ravel(), clf.intercept_)
    assert _primal(X, y, cost, w, 1.0) == pytest.approx(_primal(X, y, cost, w_sk, 1.0), rel=1e-6)


def test_zero_cost_samples_are_left_out(sparse_problem):
    X, y, cost = _problem(sparse_problem, weights=True)
    keep = cost > 0
    w_all, a_all, n_all, _, _ = _solve(X, y, cost, tol=1e-4, seed=2)
    w_kept, a_kept, n_kept, _, _ = _solve(X[keep], y[keep], cost[keep], tol=1e-4, seed=2)
    # The same samples in the same order: the same iterates.
    assert n_all == n_kept
    np.testing.assert_array_equal(w_all, w_kept)
    np.testing.assert_array_equal(a_all[keep], a_kept)
    assert not a_all[~keep].any()


# ----------------------------------------------------- dtypes, bad input, stop


def test_float32_and_int64_indices(sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=8)
    w64, a64, n64, _, _ = _solve(X, y, cost, tol=1e-4)
    P64 = checked_csr(X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), X.shape)
    w, alpha, n_iter, _, _ = _solve(X, y, cost, tol=1e-4, P=P64)
    np.testing.assert_array_equal(w, w64)
    np.testing.assert_array_equal(alpha, a64)
    assert n_iter == n64
    X32 = X.astype(np.float32)
    w32, a32, n32, _, _ = _solve(X32, y, cost, tol=1e-4)
    assert w32.dtype == np.float64 and a32.dtype == np.float64
    # float32 values are read as they are: the twin on the same values agrees.
    w_ref, a_ref, n_ref, _ = reference_logistic_dual(X32, y, cost, bias=1.0, tol=1e-4,
                                                     max_iter=1000, seed=0)
    assert n32 == n_ref
    np.testing.assert_allclose(w32, w_ref, rtol=0, atol=1e-12 * np.abs(w_ref).max())
    np.testing.assert_allclose(a32, a_ref, rtol=0, atol=1e-12)
    f32, f64 = _primal(X, y, cost, w32, 1.0), _primal(X, y, cost, w64, 1.0)
    assert f32 == pytest.approx(f64, rel=1e-5)


def test_bad_input(sparse_problem):
    X, y, cost = _problem(sparse_problem, n=40, d=10)
    P = proved_csr(X)
    n, d = X.shape

    def call(y=y, cost=cost, w=None, alpha=None, **kw):
        args = dict(bias=1.0, tol=0.1, max_iter=10, seed=0)
        args.update(kw)
        return logistic_dual_cd(P, y, cost, np.zeros(d + 1) if w is None else w,
                                np.zeros(n) if alpha is None else alpha, **args)

    bad_y = y.copy()
    bad_y[3] = 0.0
    with pytest.raises(ValueError, match="sample 3 has a label other than -1 or"):
        call(y=bad_y)
    for value in (-1.0, np.nan, np.inf):
        bad_cost = cost.copy()
        bad_cost[5] = value
        with pytest.raises(ValueError, match="sample 5 .* cost C_i that is negative or not finite"):
            call(cost=bad_cost)
    with pytest.raises(ValueError, match="y, cost and alpha must have n_samples = 40"):
        call(y=y[:-1])
    with pytest.raises(ValueError, match="y, cost and alpha must have n_samples = 40"):
        call(cost=np.append(cost, 1.0))
    with pytest.raises(ValueError, match="y, cost and alpha must have n_samples = 40"):
        call(alpha=np.zeros(n + 1))
    with pytest.raises(ValueError, match="w must have n_features . 1 = 11"):
        call(w=np.zeros(d))
    for value in (-0.5, 1.5, np.nan):
        alpha = np.zeros(n)
        alpha[2] = value
        with pytest.raises(ValueError, match="start point alpha is outside its box .* sample 2"):
            call(alpha=alpha)
    for tol in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="tol must be > 0 and finite and max_iter >= 1"):
            call(tol=tol)
    with pytest.raises(ValueError, match="tol must be > 0 and finite and max_iter >= 1"):
        call(max_iter=0)
    with pytest.raises(ValueError, match="bias must be finite"):
        call(bias=np.nan)
    with pytest.raises(ValueError, match="stop must have one element"):
        call(stop=np.zeros(2, dtype=np.uint8))
    with pytest.raises(TypeError, match="logistic_dual_cd takes a fastlinear._csr_fast.CSR"):
        logistic_dual_cd(X, y, cost, np.zeros(d + 1), np.zeros(n), bias=1.0, tol=0.1,
                         max_iter=10, seed=0)
    with pytest.raises(ValueError):  # read-only or mistyped arrays: Cython's own error
        call(w=np.zeros(d + 1, dtype=np.float32))
    # An error leaves w and alpha untouched.
    w, alpha = np.full(d + 1, 0.5), np.full(n, 0.25)
    with pytest.raises(ValueError):
        call(y=bad_y, w=w, alpha=alpha)
    np.testing.assert_array_equal(w, 0.5)
    np.testing.assert_array_equal(alpha, 0.25)


def test_overflow_is_an_error(sparse_problem):
    X, y, cost = _problem(sparse_problem, n=40, d=10)
    X = X.copy()
    X.data *= 1e150
    alpha = 1e300 * np.ones(40)
    with pytest.raises(ValueError, match="overflows float64; lower C or rescale X"):
        _solve(X, y, 1e300 * cost, alpha0=alpha)
    with pytest.raises(ValueError, match="overflow float64 .* lower C or rescale X"):
        _solve(X, y, 1e300 * cost)


def test_degenerate_problems(sparse_problem):
    X, y, cost = _problem(sparse_problem, n=40, d=10)
    # Every cost zero: w = 0 and alpha = 0, whatever the start.
    w, alpha, n_iter, status, _ = _solve(X, y, np.zeros(40))
    assert n_iter == 0 and status == CONVERGED and not w.any() and not alpha.any()
    # No sample at all.
    w, _, n_iter, status, _ = _solve(sp.csr_matrix((0, 10)), np.zeros(0), np.zeros(0))
    assert n_iter == 0 and status == CONVERGED and not w.any()
    # No feature, no intercept: every a_i goes to C_i / 2, w stays 0.
    w, alpha, _, status, _ = _solve(sp.csr_matrix((40, 0)), y, cost, bias=0.0, tol=1e-8)
    assert status == CONVERGED and not w.any()
    np.testing.assert_allclose(alpha, cost / 2, rtol=1e-8)
    # No feature but the intercept: the log-odds of the labels (shrunk by
    # the penalty on the bias weight) at the primal optimum.
    w, alpha, _, status, _ = _solve(sp.csr_matrix((40, 0)), y, cost, tol=1e-10)
    assert status == CONVERGED
    b = w[0]
    grad = b - np.sum(cost * y / (1 + np.exp(y * b)))
    assert abs(grad) < 1e-8
    # Tiny and huge costs stay finite and inside the box.
    for C in (1e-300, 1e12):
        w, alpha, _, _, _ = _solve(X, y, C * cost, tol=1e-3, max_iter=50)
        assert np.all(np.isfinite(w)) and np.all(alpha > 0) and np.all(alpha <= C * cost)


def test_stop_flag_interrupts(sparse_problem):
    X, y, cost = _problem(sparse_problem)
    stop = np.ones(1, dtype=np.uint8)
    w, alpha, n_iter, status, _ = _solve(X, y, cost, stop=stop)
    assert status == INTERRUPTED and n_iter == 1
    assert np.all(np.isfinite(w)) and np.all(alpha > 0)


CTRL_C_CHILD = """
import numpy as np, scipy.sparse as sp
from fastlinear._logistic_dual_fast import logistic_dual_cd
from fastlinear._validation import proved_csr
rng = np.random.RandomState(0)
X = sp.random(20000, 2000, density=0.01, format="csr", random_state=rng)
X.data = rng.exponential(size=X.nnz)
y = np.where(rng.rand(20000) < 0.5, 1.0, -1.0)
w, alpha = np.zeros(2001), np.zeros(20000)
print("ready", flush=True)
try:
    logistic_dual_cd(proved_csr(X), y, np.full(20000, 1e4), w, alpha, bias=1.0,
                     tol=1e-300, max_iter=10**8, seed=0)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", bool(np.isfinite(w).all()), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_kernel():
    from test_interrupt import STOP_WITHIN, _interrupt  # the estimators' Ctrl-C harness

    out, elapsed, err = _interrupt(CTRL_C_CHILD)
    assert out.split() == ["interrupted", "True"], (out, err)
    assert elapsed <= STOP_WITHIN


def test_verbose_prints_liblinear_progress(sparse_problem, capsys):
    X, y, cost = _problem(sparse_problem)
    w, alpha, _, _, _ = _solve(X, y, cost, verbose=1, tol=1e-8)
    out = capsys.readouterr().out
    assert "optimization finished, #iter =" in out
    value = float(out.split("Objective value =")[1].split()[0])
    assert value == pytest.approx(_dual(cost, w, alpha), rel=1e-6)
    _solve(X, y, cost, verbose=1, tol=1e-8, max_iter=2)
    assert "WARNING: reaching max number of iterations" in capsys.readouterr().out


@pytest.mark.parametrize("dtype, index", [(np.float64, np.int32), (np.float32, np.int64)])
@pytest.mark.parametrize("C", [0.1, 10.0])
def test_passes_on_zero_one_features_read_the_indices_with_the_same_bits(dtype, index, C):
    """Rule 10: on X whose stored values are all 1 the passes skip the
    values; every iterate, and so the result, is the same bit for bit."""
    rng = np.random.RandomState(3)
    X = sp.random(400, 60, density=0.15, format="csr", random_state=rng, dtype=dtype)
    X.data[:] = 1
    X.indices = X.indices.astype(index)
    X.indptr = X.indptr.astype(index)
    y = np.where(rng.rand(400) < 0.4, 1.0, -1.0)
    cost = np.full(400, C) * rng.uniform(0.5, 1.5, 400)
    cost[::17] = 0.0
    P = proved_csr(X)
    assert P.ones
    out = {use_ones: _solve(X, y, cost, tol=1e-3, P=P, use_ones=use_ones)
           for use_ones in (True, False)}
    w1, a1, n1, s1, m1 = out[True]
    w0, a0, n0, s0, m0 = out[False]
    assert (n1, s1, m1) == (n0, s0, m0) and n1 > 1
    np.testing.assert_array_equal(w1, w0)
    np.testing.assert_array_equal(a1, a0)
