"""The L1-regularised squared-hinge kernel (``src_c/_l1_cd_fast.pyx``; liblinear -s 5).

Three ways: the same iterates as a NumPy twin of the algorithm (same seed,
same visiting order), the objective of scikit-learn's
``LinearSVC(penalty="l1", dual=False)`` at the same C, and the L1
subgradient optimality conditions.  Then dtypes, bad input, the stop flag.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear._csr_fast import checked_csr
from fastlinear._l1_cd_fast import l1_cd
from fastlinear._validation import proved_csr

from _reference import LibcRand
from _reference_l1 import reference_l1_cd

CONVERGED, MAX_ITER, INTERRUPTED = 0, 1, 2


def _problem(sparse_problem, n=200, d=60, seed=0, weights=True, density=0.1):
    X, y01 = sparse_problem(n_samples=n, n_features=d, density=density, seed=seed)
    y = np.where(y01 == 1, 1.0, -1.0)
    rng = np.random.RandomState(seed)
    sw = rng.uniform(0.5, 2.0, n) if weights else np.ones(n)
    if weights:
        sw[rng.choice(n, n // 20, replace=False)] = 0.0  # some zero-weight samples
    return sp.csr_matrix(X), y, sw


def _liblinear_tol(y, cost, eps):
    """liblinear's scaling of ``eps`` for -s 5: ``eps * max(min(n+, n-), 1) / n``."""
    used = cost > 0
    n_pos = np.count_nonzero(used & (y > 0))
    n_used = np.count_nonzero(used)
    return eps * max(min(n_pos, n_used - n_pos), 1) / n_used


def _solve(X, y, cost, *, bias=1.0, tol=1e-3, max_iter=1000, seed=0, w0=None, **kw):
    w = np.zeros(X.shape[1] + 1) if w0 is None else np.array(w0, dtype=np.float64)
    n_iter, status, measure = l1_cd(proved_csr(X.T.tocsr()), y, cost, w, bias=bias, tol=tol,
                                    max_iter=max_iter, seed=seed, **kw)
    return w, n_iter, status, measure


def _objective(X, y, cost, w, bias):
    b = 1.0 - y * (X @ w[:-1] + bias * w[-1])
    return np.abs(w).sum() + cost @ np.maximum(b, 0.0) ** 2


def _loss_gradient(X, y, cost, w, bias):
    """The gradient of ``sum_i C_i max(0, 1 - y_i w.x~_i)^2`` in w."""
    b = np.maximum(1.0 - y * (X @ w[:-1] + bias * w[-1]), 0.0)
    u = -2.0 * cost * y * b
    return np.append(X.T @ u, bias * u.sum())


# ----------------------------------------------------------------- the twin


@pytest.mark.parametrize("weights", [True, False])
@pytest.mark.parametrize("bias", [1.0, 0.0, 2.5])
@pytest.mark.parametrize("max_iter", [1, 3, 1000])
def test_same_iterates_as_the_numpy_twin(weights, bias, max_iter, sparse_problem):
    X, y, cost = _problem(sparse_problem, weights=weights)
    C = 0.5
    tol = _liblinear_tol(y, C * cost, 1e-3)
    w, n_iter, status, measure = _solve(X, y, C * cost, bias=bias, tol=tol, max_iter=max_iter, seed=7)
    w_ref, n_ref, m_ref = reference_l1_cd(X, y, C * cost, bias=bias, tol=tol, max_iter=max_iter, seed=7)
    assert n_iter == n_ref
    assert status == (CONVERGED if max_iter == 1000 else MAX_ITER)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-10 * np.abs(w_ref).max())
    assert measure == pytest.approx(m_ref, rel=1e-8)
    if bias == 0.0:
        assert w[-1] == 0.0


def test_same_iterates_without_shrinking_and_from_a_start_point(sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=1)
    w0 = np.random.RandomState(1).standard_normal(X.shape[1] + 1) * 0.1
    for shrinking in (True, False):
        w, n_iter, _, _ = _solve(X, y, cost, tol=1e-3, seed=3, w0=w0, shrinking=shrinking)
        w_ref, n_ref, _ = reference_l1_cd(X, y, cost, bias=1.0, tol=1e-3, max_iter=1000, seed=3,
                                          w0=w0, shrinking=shrinking)
        assert n_iter == n_ref
        np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-10 * np.abs(w_ref).max())


def _replayable():
    """glibc's rand() (which liblinear calls) and x86-64, where C compilers
    do not fuse multiply-adds by default: elsewhere (aarch64) the library's
    rounding may differ from the twin's."""
    import platform

    return (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
            and platform.machine() == "x86_64")


@pytest.mark.skipif(not _replayable(), reason="replays glibc's rand() on x86-64 (no fused "
                                               "multiply-adds in liblinear's build)")
@pytest.mark.parametrize("C, seed", [(0.5, 1), (0.05, 2), (5.0, 3)])
def test_the_twin_replays_liblinear_official_step_for_step(C, seed, sparse_problem):
    """The algorithm is liblinear's: the twin, given liblinear's visiting order
    and its order of additions, ends at liblinear-official's weights."""
    liblinear = pytest.importorskip("liblinear.liblinearutil")
    X, y, _ = _problem(sparse_problem, n=300, d=50, seed=seed, weights=False)
    # +1 rows first: liblinear's grouping of the rows by class is then the identity.
    rows = np.argsort(-y, kind="stable")
    X, y = X[rows].tocsr(), y[rows]
    order = LibcRand(seed)
    model = liblinear.train(y, X, f"-s 5 -c {C} -B 1 -e 1e-3 -q")
    w_official = np.array([model.get_decfun_coef(j + 1) for j in range(X.shape[1])]
                          + [model.get_decfun_bias()])
    assert model.get_labels()[0] == 1
    cost = np.full(y.shape[0], C)
    order.reseed()
    w_twin, n_twin, _ = reference_l1_cd(X, y, cost, bias=1.0, tol=_liblinear_tol(y, cost, 1e-3),
                                        max_iter=1000, seed=0, rng=order, sums="sequential")
    assert 1 < n_twin < 1000 and np.count_nonzero(w_twin) > 1
    np.testing.assert_allclose(w_twin, w_official, rtol=0, atol=1e-12 * np.abs(w_official).max())


def test_a_pass_that_moves_nothing_ends_the_solve(sparse_problem):
    """X scaled by 1e60: every Newton step is below liblinear's 1e-12 and is
    skipped.  The kernel used to run all max_iter passes (100,000 for
    Crammer-Singer) without moving; after STALL_PASSES passes that changed
    no weight it now ends, STALLED (6), as the twin does."""
    X, y, cost = _problem(sparse_problem, weights=False)
    X = X * 1e60
    tol = _liblinear_tol(y, cost, 1e-3)
    w, n_iter, status, measure = _solve(X, y, cost, tol=tol, max_iter=1000, seed=5)
    w_ref, n_ref, m_ref = reference_l1_cd(X, y, cost, bias=1.0, tol=tol, max_iter=1000, seed=5)
    assert status == 6 and n_iter == n_ref < 50
    assert measure == pytest.approx(m_ref, rel=1e-8) and measure > 1e-3
    np.testing.assert_array_equal(w[:-1], 0.0)


def test_the_seed_sets_the_order(sparse_problem):
    X, y, cost = _problem(sparse_problem)
    a = _solve(X, y, cost, max_iter=2, seed=0)[0]
    b = _solve(X, y, cost, max_iter=2, seed=0)[0]
    c = _solve(X, y, cost, max_iter=2, seed=1)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_zero_cost_samples_contribute_nothing(sparse_problem):
    X, y, cost = _problem(sparse_problem, weights=True)
    keep = cost > 0
    w_all = _solve(X, y, cost, tol=1e-4, seed=2)[0]
    w_kept = _solve(X[keep], y[keep], cost[keep], tol=1e-4, seed=2)[0]
    np.testing.assert_allclose(w_all, w_kept, rtol=0, atol=1e-12 * np.abs(w_all).max())


# ------------------------------------------------------------- scikit-learn


@pytest.mark.parametrize("C", [0.05, 1.0])
def test_objective_matches_liblinear(C, sparse_problem):
    X, y, _ = _problem(sparse_problem, n=300, d=80, weights=False, seed=3)
    cost = C * np.ones(X.shape[0])
    w, _, status, _ = _solve(X, y, cost, tol=_liblinear_tol(y, cost, 1e-6), max_iter=10000)
    assert status == CONVERGED
    clf = SkLinearSVC(penalty="l1", loss="squared_hinge", dual=False, C=C, tol=1e-6,
                      max_iter=10000).fit(X, y)
    w_sk = np.append(clf.coef_.ravel(), clf.intercept_ / clf.intercept_scaling)
    ours, theirs = _objective(X, y, cost, w, 1.0), _objective(X, y, cost, w_sk, 1.0)
    assert ours <= theirs * (1 + 1e-4)
    assert ours == pytest.approx(theirs, rel=1e-4)
    nnz, nnz_sk = np.count_nonzero(w), np.count_nonzero(w_sk)
    assert abs(nnz - nnz_sk) <= max(2, 0.05 * nnz_sk)


# --------------------------------------------------------------- optimality


@pytest.mark.parametrize("bias", [1.0, 0.0])
def test_subgradient_optimality(bias, sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=4)
    w, _, status, measure = _solve(X, y, cost, bias=bias, tol=1e-9, max_iter=100000)
    assert status == CONVERGED and measure <= 1e-9
    G = _loss_gradient(X, y, cost, w, bias)
    m = X.shape[1] + (1 if bias != 0 else 0)
    on = w[:m] != 0
    assert on.any() and not on.all()
    np.testing.assert_allclose(G[:m][on] + np.sign(w[:m][on]), 0.0, atol=1e-6)
    assert np.all(np.abs(G[:m][~on]) <= 1.0 + 1e-6)
    # And the objective is no worse than nearby points.
    f = _objective(X, y, cost, w, bias)
    rng = np.random.RandomState(0)
    for _ in range(5):
        step = 1e-4 * rng.standard_normal(w.shape)
        if bias == 0:
            step[-1] = 0.0
        assert _objective(X, y, cost, w + step, bias) >= f - 1e-9 * f


# ----------------------------------------------------- dtypes, bad input, stop


def test_float32_and_int64_indices(sparse_problem):
    X, y, cost = _problem(sparse_problem, seed=5)
    w64, n64, _, _ = _solve(X, y, cost, tol=1e-4)
    XT = X.T.tocsr()
    XT64 = checked_csr(XT.data, XT.indices.astype(np.int64), XT.indptr.astype(np.int64), XT.shape)
    w = np.zeros(X.shape[1] + 1)
    n_iter, _, _ = l1_cd(XT64, y, cost, w, bias=1.0, tol=1e-4, max_iter=1000, seed=0)
    np.testing.assert_array_equal(w, w64)
    assert n_iter == n64
    X32 = X.astype(np.float32)
    w32, n32, _, _ = _solve(X32, y, cost, tol=1e-4)
    assert w32.dtype == np.float64
    # float32 values are read as they are: the twin on the same values agrees.
    w_ref, n_ref, _ = reference_l1_cd(X32, y, cost, bias=1.0, tol=1e-4, max_iter=1000, seed=0)
    assert n32 == n_ref
    np.testing.assert_allclose(w32, w_ref, rtol=0, atol=1e-10 * np.abs(w_ref).max())
    np.testing.assert_allclose(w32, w64, rtol=0, atol=1e-5 * np.abs(w64).max())
    f32, f64 = _objective(X, y, cost, w32, 1.0), _objective(X, y, cost, w64, 1.0)
    assert f32 == pytest.approx(f64, rel=1e-5)


def test_bad_input(sparse_problem):
    X, y, cost = _problem(sparse_problem, n=40, d=10)
    XT = proved_csr(X.T.tocsr())
    n, d = X.shape

    def call(y=y, cost=cost, w=None, **kw):
        args = dict(bias=1.0, tol=1e-3, max_iter=10, seed=0)
        args.update(kw)
        return l1_cd(XT, y, cost, np.zeros(d + 1) if w is None else w, **args)

    bad_y = y.copy()
    bad_y[3] = 0.0
    with pytest.raises(ValueError, match="sample 3 has a label other than -1 or"):
        call(y=bad_y)
    for value in (-1.0, np.nan, np.inf):
        bad_cost = cost.copy()
        bad_cost[5] = value
        with pytest.raises(ValueError, match="sample 5 .* cost C_i that is negative or not finite"):
            call(cost=bad_cost)
    with pytest.raises(ValueError, match="y and cost must have n_samples = 40"):
        call(y=y[:-1])
    with pytest.raises(ValueError, match="y and cost must have n_samples = 40"):
        call(cost=np.append(cost, 1.0))
    with pytest.raises(ValueError, match="w must have n_features . 1 = 11"):
        call(w=np.zeros(d))
    w = np.zeros(d + 1)
    w[2] = np.nan
    with pytest.raises(ValueError, match="start point w has NaN or infinite"):
        call(w=w)
    with pytest.raises(ValueError, match="tol must be > 0 and max_iter >= 1"):
        call(tol=0.0)
    with pytest.raises(ValueError, match="tol must be > 0 and max_iter >= 1"):
        call(max_iter=0)
    with pytest.raises(ValueError, match="bias must be finite"):
        call(bias=np.inf)
    with pytest.raises(ValueError, match="stop must have one element"):
        call(stop=np.zeros(2, dtype=np.uint8))
    # An error leaves w untouched.
    w = np.full(d + 1, 0.5)
    with pytest.raises(ValueError):
        call(y=bad_y, w=w)
    np.testing.assert_array_equal(w, 0.5)


def test_overflow_is_an_error(sparse_problem):
    X, y, cost = _problem(sparse_problem)
    with pytest.raises(ValueError, match="derivatives overflow float64 .* lower C or rescale X"):
        _solve(X, y, 1e306 * cost)


def test_an_unproved_matrix_is_refused(sparse_problem):
    X, y, cost = _problem(sparse_problem, n=40, d=10)
    with pytest.raises(TypeError, match="l1_cd takes a fastlinear._csr_fast.CSR"):
        l1_cd(X.T.tocsr(), y, cost, np.zeros(11), bias=1.0, tol=1e-3, max_iter=10, seed=0)


def test_degenerate_problems(sparse_problem):
    X, y, cost = _problem(sparse_problem, n=40, d=10)
    # Every cost zero: w = 0, whatever the start.
    w, n_iter, status, _ = _solve(X, y, np.zeros(40), w0=np.ones(11))
    assert n_iter == 0 and status == CONVERGED and not w.any()
    # No sample at all.
    w, n_iter, status, _ = _solve(sp.csr_matrix((0, 10)), np.zeros(0), np.zeros(0))
    assert status == CONVERGED and not w.any()
    # No feature, no intercept: nothing to move.
    w, n_iter, status, _ = _solve(sp.csr_matrix((40, 0)), y, cost, bias=0.0)
    assert status == CONVERGED and not w.any()
    # No feature but the intercept: the best constant.
    w, _, status, _ = _solve(sp.csr_matrix((40, 0)), y, cost, tol=1e-8)
    assert status == CONVERGED
    G = _loss_gradient(sp.csr_matrix((40, 0)), y, cost, w, 1.0)
    assert abs(G[0] + np.sign(w[0])) < 1e-6 if w[0] != 0 else abs(G[0]) <= 1.0


def test_stop_flag_interrupts(sparse_problem):
    X, y, cost = _problem(sparse_problem)
    stop = np.ones(1, dtype=np.uint8)
    w, n_iter, status, _ = _solve(X, y, cost, stop=stop)
    assert status == INTERRUPTED and n_iter == 1
    assert np.all(np.isfinite(w))


def test_verbose_prints_liblinear_progress(sparse_problem, capsys):
    X, y, cost = _problem(sparse_problem)
    _solve(X, y, cost, verbose=1, tol=1e-4)
    out = capsys.readouterr().out
    assert "optimization finished, #iter =" in out
    assert "Objective value =" in out and "#nonzeros/#features =" in out


def test_exhausted_line_search_recomputes_b(capsys):
    # Weights of 1e13 cancel on sample 0 (b_0 = 2**-9, at rounding level for
    # them): the Newton step of w_0 is below half an ulp of w_0, so no trial
    # decreases the objective, and b is recomputed from w (liblinear's "#").
    X = sp.csr_matrix(np.array([[1.0, 1, 0], [0, 0, 1], [0, 0, 1]]))
    y, cost = np.array([1.0, -1, 1]), np.array([255.0, 1, 1])
    w0 = np.array([1e13, -1e13 + 511 * 2.0**-9, 0.5, 0.0])
    for max_iter in (1, 3, 50):
        w, n_iter, _, _ = _solve(X, y, cost, tol=1e-3, max_iter=max_iter, seed=1, w0=w0, verbose=1)
        assert "#" in capsys.readouterr().out
        w_ref, n_ref, _ = reference_l1_cd(X, y, cost, bias=1.0, tol=1e-3, max_iter=max_iter, seed=1, w0=w0)
        assert n_iter == n_ref
        np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-10 * np.abs(w_ref).max())


@pytest.mark.parametrize("dtype, index", [(np.float64, np.int32), (np.float32, np.int64)])
def test_columns_of_ones_read_without_values_give_the_same_bits(a9a_ones, dtype, index):
    """0/1 features (XT.ones): the column walks read only the indices (rule 9
    of the kernel), to the same bits as the walks that read the values,
    line searches included."""
    XT, y = a9a_ones(1500, dtype, index, transposed=True)
    runs = []
    for use_ones in (True, False):
        w = np.zeros(XT.n_rows + 1)
        out = l1_cd(XT, y, np.full(XT.n_cols, 0.5), w, bias=1.0, tol=1e-4, max_iter=200, seed=3,
                    use_ones=use_ones)
        runs.append((out, w))
    assert runs[0][0] == runs[1][0]
    assert runs[0][0][0] >= 5
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("make", [
    lambda: __import__("fastlinear").LinearSVC(penalty="l1", dual=False, tol=1e-8, C=3.0),
    lambda: __import__("fastlinear").LogisticRegression(solver="liblinear", l1_ratio=1.0, tol=1e-8, C=3.0),
    lambda: __import__("fastlinear").LogisticRegression(l1_ratio=1.0, tol=1e-8, C=3.0),
    lambda: __import__("fastlinear").LogisticRegression(l1_ratio=1.0, tol=1e-8, C=3.0),   # 3 classes
], ids=["s5", "s6", "l1-free-intercept", "multinomial-l1"])
def test_l1_solvers_on_x_without_values(make, request):
    """X with no stored value: every weight 0, the intercept that of the
    intercept-only model, as for the same X with one stored zero (the
    column walks marked the bias column by a NULL index array, and an X
    without values read every feature as that column)."""
    y = np.array([1, 1, 1, 1, -1, -1])
    if request.node.callspec.id == "multinomial-l1":
        y = np.array([0, 1, 2, 0, 0, 1])
    empty = sp.csr_matrix((6, 2))
    stored_zero = sp.csr_matrix((np.array([0.0]), np.array([1]), np.array([0, 1, 1, 1, 1, 1, 1])),
                                shape=(6, 2))
    a, b = make().fit(empty, y), make().fit(stored_zero, y)
    assert not np.any(a.coef_)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-6)
    assert np.any(a.intercept_ != 0)
