"""The primal Newton kernel (``src_c/_newton_fast.pyx``; liblinear -s 2 and -s 11).

Three ways: the same iterates as a NumPy twin of the algorithm, the objective
of scikit-learn's ``dual=False`` (TRON) at the same C, and its own optimality
condition (the gradient norm).  Threads split products and change the result
by rounding only; the same input gives the same bits.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC, LogisticRegression
from fastlinear._losses import Loss
from fastlinear._newton_fast import have_openmp, loss_kinds
from fastlinear._newton_fast import newton as kernel
from fastlinear._problem import OneVsRest, regression_problem
from fastlinear._solvers import Status, newton, newton_tol
from fastlinear._validation import proved_csr


def _classification(sparse_problem, C=2.0, bias=1.0, seed=0, n=300, d=50, weights=True):
    X, y = sparse_problem(n_samples=n, n_features=d, density=0.1, seed=seed)
    sw = np.random.RandomState(seed).uniform(0.5, 2.0, n) if weights else np.ones(n)
    ovr = OneVsRest(proved_csr(X), y, np.array([0, 1]), C, None, sw, "squared_hinge", bias)
    return X, ovr.problem(0)


def _regression(sparse_regression, C=1.5, epsilon=0.2, bias=1.0, seed=0):
    X, y, _ = sparse_regression(n_samples=300, n_features=40, seed=seed)
    sw = np.random.RandomState(seed).uniform(0.5, 2.0, 300)
    return X, regression_problem(proved_csr(X), y, C, sw, "squared_epsilon_insensitive", epsilon, bias)


def _gradient(X, problem, w):
    z = X @ w[:-1] + problem.bias * w[-1]
    if problem.is_regression:
        r = z - problem.y
        u = np.where(r > problem.epsilon, r - problem.epsilon,
                     np.where(r < -problem.epsilon, r + problem.epsilon, 0.0))
    else:
        u = np.where(problem.y * z < 1, z - problem.y, 0.0)
    u = 2 * problem.cost * u
    return w + np.append(X.T @ u, problem.bias * u.sum())


@pytest.mark.parametrize("kind", ["classification", "regression"])
@pytest.mark.parametrize("bias", [1.0, 0.0])
@pytest.mark.parametrize("max_iter", [1, 3, 50])
@pytest.mark.parametrize("tol, eps_cg", [(1e-2, 0.5), (1e-4, 0.1)])
def test_same_iterates_as_the_numpy_twin(kind, bias, max_iter, tol, eps_cg, sparse_problem,
                                         sparse_regression, reference_newton):
    """Both CG constants: liblinear's 0.5 at a loose tol, 0.1 at a tight one."""
    if kind == "classification":
        X, problem = _classification(sparse_problem, bias=bias)
    else:
        X, problem = _regression(sparse_regression, bias=bias)
    sol = newton(problem, tol=tol, max_iter=max_iter)
    w, n_iter, measure = reference_newton(
        X, problem.y, problem.cost, regression=problem.is_regression, bias=bias,
        epsilon=problem.epsilon, tol=newton_tol(problem, tol), max_iter=max_iter,
        eps_cg=eps_cg)
    assert sol.n_iter == n_iter
    np.testing.assert_allclose(sol.w, w, rtol=1e-10, atol=1e-10 * np.abs(w).max())
    np.testing.assert_allclose(sol.measure, measure, rtol=1e-6)


def test_warm_start_iterates_match_the_twin(sparse_problem, reference_newton):
    X, problem = _classification(sparse_problem, seed=1)
    w0 = np.random.RandomState(2).randn(X.shape[1] + 1) * 0.1
    sol = newton(problem, tol=1e-3, max_iter=4, w0=w0)
    w, n_iter, _ = reference_newton(X, problem.y, problem.cost, regression=False, bias=1.0,
                                    epsilon=0.0, tol=newton_tol(problem, 1e-3), max_iter=4,
                                    w0=w0, eps_cg=0.5)
    assert sol.n_iter == n_iter
    np.testing.assert_allclose(sol.w, w, rtol=1e-10, atol=1e-12)


def test_the_cg_constant_follows_the_stopping_rule():
    """liblinear's 0.5 from a given start and at a loose liblinear tol, 0.1
    for a tight tol and for scikit-learn's gradient rule."""
    from fastlinear._solvers import _newton_eps_cg

    assert _newton_eps_cg(1e-2, None, "liblinear") == 0.5
    assert _newton_eps_cg(1e-3, None, "liblinear") == 0.5
    assert _newton_eps_cg(9.99e-4, None, "liblinear") == 0.1
    assert _newton_eps_cg(1e-2, None, "gradient") == 0.1
    assert _newton_eps_cg(1e-6, np.zeros(3), "liblinear") == 0.5
    assert _newton_eps_cg(1e-6, np.zeros(3), "gradient") == 0.5


@pytest.mark.parametrize("estimator, s", [
    (lambda C: LogisticRegression(solver="liblinear", C=C, tol=0.01), 0),
    (lambda C: LinearSVC(dual=False, C=C, tol=0.01), 2),
])
@pytest.mark.parametrize("C", [0.1, 10.0])
def test_liblinear_default_tol_takes_liblinears_steps(estimator, s, C, sparse_problem):
    """At liblinear's default ``-e 0.01`` the kernel takes liblinear 2.50's
    steps (its CG constant 0.5): liblinear-official stops at the same
    inexact point, far closer than the distance to the optimum."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    X, y = sparse_problem(n_samples=600, n_features=80, n_classes=2, seed=5)
    labels = np.where(y == 1, 1.0, -1.0)
    model = liblinearutil.train(labels, X, f"-s {s} -c {C} -e 0.01 -B 1 -q")
    sign = 1.0 if model.get_labels()[0] == 1 else -1.0
    theirs = sign * np.array([model.w[j] for j in range(X.shape[1] + 1)])
    est = estimator(C).fit(X, y)
    ours = np.append(est.coef_[0], est.intercept_[0])
    optimum = estimator(C).set_params(tol=1e-10, max_iter=1000).fit(X, y)
    distance = np.abs(np.append(optimum.coef_[0], optimum.intercept_[0]) - ours).max()
    assert distance > 1e-6 * np.abs(ours).max()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9 * np.abs(ours).max())


@pytest.mark.parametrize("C", [0.05, 1.0, 30.0])
def test_objective_matches_sklearn_primal(C, sparse_problem):
    X, y = sparse_problem(n_samples=1500, n_features=200, n_classes=2, seed=3)
    ovr = OneVsRest(proved_csr(X), y, np.array([0, 1]), C, None, np.ones(1500), "squared_hinge", 1.0)
    problem = ovr.problem(0)
    sol = newton(problem, tol=1e-6, max_iter=1000)
    assert sol.status == Status.CONVERGED
    sk = SkLinearSVC(C=C, dual=False, tol=1e-6).fit(X, y)
    w_sk = np.append(sk.coef_[0], sk.intercept_[0])
    np.testing.assert_allclose(problem.primal(sol.w), problem.primal(w_sk), rtol=1e-6)
    assert problem.primal(sol.w) <= problem.primal(w_sk) * (1 + 1e-9)


@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_gradient_vanishes_at_the_solution(kind, sparse_problem, sparse_regression):
    if kind == "classification":
        X, problem = _classification(sparse_problem, C=5.0, seed=4)
    else:
        X, problem = _regression(sparse_regression, seed=4)
    sol = newton(problem, tol=1e-8, max_iter=1000)
    g = _gradient(X, problem, sol.w)
    g0 = _gradient(X, problem, np.zeros_like(sol.w))
    assert np.linalg.norm(g) <= 1e-7 * np.linalg.norm(g0)
    np.testing.assert_allclose(sol.measure, np.linalg.norm(g) / np.linalg.norm(g0), rtol=1e-3, atol=1e-12)
    # The duals come from the kernel's final scores X~ w (no second product).
    np.testing.assert_allclose(sol.alpha, problem.alpha_from_w(sol.w), rtol=1e-10, atol=1e-12)
    # The recovered duals give back w (KKT): w = X~^T (y a) for classification.
    if kind == "classification":
        np.testing.assert_allclose(problem.w_from_alpha(sol.alpha), sol.w, atol=1e-6 * np.abs(sol.w).max())


def test_threads_change_rounding_only_and_runs_repeat(sparse_problem):
    """Rounding can change the generalised Hessian's active set, so the
    iterates of 1 and 2 threads may part; the optimum is unique (the
    objective is 1-strongly convex), so both stop within ||g|| of it."""
    X, problem = _classification(sparse_problem, n=3000, d=400, seed=5)
    one = newton(problem, tol=1e-11, max_iter=1000, n_threads=1)
    two = newton(problem, tol=1e-11, max_iter=1000, n_threads=2)
    again = newton(problem, tol=1e-11, max_iter=1000, n_threads=2)
    np.testing.assert_array_equal(two.w, again.w)
    np.testing.assert_allclose(two.w, one.w, rtol=1e-8, atol=1e-8 * np.abs(one.w).max())
    if have_openmp():
        three = newton(problem, tol=1e-11, max_iter=1000, n_threads=3)
        np.testing.assert_allclose(three.w, one.w, rtol=1e-8, atol=1e-8 * np.abs(one.w).max())


def test_float32_and_int64_indices_are_read_as_they_are(sparse_problem):
    X, problem = _classification(sparse_problem, seed=6)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    P64 = proved_csr(X64)
    assert P64.indices.dtype == np.int64
    ref = newton(problem, tol=1e-6, max_iter=100)
    for Xv in (X64, X.astype(np.float32)):
        Pv = proved_csr(Xv)
        w = np.zeros(X.shape[1] + 1)
        kernel(Pv, problem.y, problem.cost, w, loss=Loss.SQUARED_HINGE, bias=1.0, epsilon=0.0,
               tol=newton_tol(problem, 1e-6), max_iter=100, eps_cg=0.1)
        np.testing.assert_allclose(w, ref.w, rtol=1e-4 if Xv.dtype == np.float32 else 1e-12,
                                   atol=1e-5 if Xv.dtype == np.float32 else 1e-12)


def test_the_kernel_checks_what_it_reads(sparse_problem):
    X, problem = _classification(sparse_problem, n=50, d=10)
    P = proved_csr(X)
    w = np.zeros(11)
    kw = dict(loss=Loss.SQUARED_HINGE, bias=1.0, epsilon=0.0, tol=1e-3, max_iter=10)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        kernel(X, problem.y, problem.cost, w, **kw)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        kernel(P, np.zeros(50), problem.cost, w, **kw)
    with pytest.raises(ValueError, match="cost"):
        kernel(P, problem.y, -problem.cost, w, **kw)
    with pytest.raises(ValueError, match="w must have"):
        kernel(P, problem.y, problem.cost, np.zeros(3), **kw)
    with pytest.raises(ValueError, match="NaN"):
        kernel(P, problem.y, problem.cost, np.full(11, np.nan), **kw)
    with pytest.raises(ValueError, match="finite"):
        kernel(P, np.full(50, np.nan), problem.cost, w, **dict(kw, loss=Loss.SQUARED_EPSILON_INSENSITIVE))
    for eps_cg in (0.0, 1.0, np.nan):
        with pytest.raises(ValueError, match="eps_cg must be in"):
            kernel(P, problem.y, problem.cost, w, eps_cg=eps_cg, **kw)
    for relative in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="relative must be finite and >= 0"):
            kernel(P, problem.y, problem.cost, w, relative=relative, **kw)
    with pytest.raises(ValueError, match="smooth loss"):
        newton(OneVsRest(P, (problem.y > 0).astype(int), np.array([0, 1]), 1.0, None,
                         np.ones(50), "hinge", 1.0).problem(0), tol=1e-3, max_iter=10)


def test_empty_rows_and_zero_costs(sparse_problem):
    X, y = sparse_problem(n_samples=200, n_features=30, seed=7)
    X = sp.vstack([X, sp.csr_matrix((5, 30))]).tocsr()
    y = np.concatenate([y, [0, 1, 0, 1, 0]])
    sw = np.ones(205)
    sw[:10] = 0.0
    ovr = OneVsRest(proved_csr(X), y, np.array([0, 1]), 1.0, None, sw, "squared_hinge", 1.0)
    sol = newton(ovr.problem(0), tol=1e-8, max_iter=100)
    assert sol.status == Status.CONVERGED and np.all(np.isfinite(sol.w))
    assert np.all(sol.alpha[:10] == 0)


def test_the_loss_codes_mirror_the_kernel():
    """``fastlinear._losses.Loss`` mirrors ``_loss.pxd`` (what the kernel reads)."""
    for name, code in loss_kinds().items():
        assert Loss.of(name) == code


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic", "squared_epsilon_insensitive"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_rows_of_ones_read_without_values_give_the_same_bits(a9a_ones, loss, dtype, index,
                                                            n_threads):
    """0/1 features (X.ones): every Newton pass reads only the indices (rule 6
    of _newton_fast), to the same bits as the passes that read the values:
    the steps, the solution and the scores."""
    P, y = a9a_ones(2000, dtype, index)
    if loss == "squared_epsilon_insensitive":
        y = y * 2.0 + np.diff(np.asarray(P.indptr)) * 0.1
    cost = np.full(P.n_rows, 0.7)
    runs = []
    for use_ones in (True, False):
        w, z = np.zeros(P.n_cols + 1), np.empty(P.n_rows)
        out = kernel(P, y, cost, w, loss=loss_kinds()[loss], bias=1.0, epsilon=0.1, tol=1e-6,
                     max_iter=50, n_threads=n_threads, scores=z, use_ones=use_ones)
        runs.append((out, w, z))
    assert runs[0][0] == runs[1][0]
    assert runs[0][0][0] >= 2      # (Newton steps were taken, with their CG runs)
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


@pytest.mark.parametrize("n_threads", [1, 2])
def test_logistic_loss_grad_of_rows_of_ones_gives_the_same_bits(n_threads):
    """logistic_loss_grad reads only the indices of 0/1 rows, both in its
    blocked pass and row by row (rows varying in length): the same bits."""
    from fastlinear._newton_fast import logistic_loss_grad

    rng = np.random.default_rng(5)
    X = sp.random(3000, 40, density=0.2, format="csr", random_state=rng)
    X.data[:] = 1.0
    # Rows 0..999 vary in length row by row, 1000.. have one length per block.
    X = sp.vstack([X[:1000], sp.csr_matrix(np.kron(np.ones((2000, 1)),
                                                   (np.arange(40) % 3 == 0)))]).tocsr()
    P = proved_csr(X)
    assert P.ones
    y = np.where(rng.random(X.shape[0]) < 0.4, 1.0, -1.0)
    cost = rng.uniform(0.0, 2.0, X.shape[0])
    w = rng.normal(size=X.shape[1] + 1)
    out = []
    for use_ones in (True, False):
        g, z = np.empty_like(w), np.empty(X.shape[0])
        f = logistic_loss_grad(P, y, cost, w, g, bias=1.0, n_threads=n_threads, scores=z,
                               use_ones=use_ones)
        out.append((f, g, z))
    assert out[0][0] == out[1][0]
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_array_equal(out[0][2], out[1][2])


def test_the_gradient_rule_waits_for_the_estimated_gap_where_features_are_rare(
        rare_features):
    """scikit-learn's rule (max |g_j| <= tol times the summed costs) passes
    on rare features however far their weights are from the optimum: here
    after 5 steps, 1.2e-2 above it.  With ``decrement`` the kernel goes on
    until 1/2 g.diag(H)^-1 g <= tol times the summed costs as well (6 steps,
    6.6e-4 above it)."""
    X, y = rare_features(seed=0)
    y = np.where(y == 1, 1.0, -1.0)
    P, C, tol = proved_csr(X), 1000.0, 1e-4
    cost = np.full(X.shape[0], C)

    def fit(tol, decrement, max_iter=100):
        w = np.zeros(X.shape[1] + 1)
        n_iter, status, measure = kernel(
            P, y, cost, w, loss=loss_kinds()["logistic"], bias=1.0, epsilon=0.0,
            tol=tol * cost.sum(), max_iter=max_iter, reg_bias=False, max_abs_rule=True,
            decrement=decrement, eps_cg=0.1)
        # (tol = 1e-13 ends where rounding stops the line search.)
        assert status in (Status.CONVERGED, Status.LINE_SEARCH_FAILED)
        assert status == Status.CONVERGED or tol < 1e-12
        return w, n_iter, measure

    def objective(w):
        z = X @ w[:-1] + w[-1]
        return 0.5 * w[:-1] @ w[:-1] + C * np.logaddexp(0.0, -y * z).sum()

    best = objective(fit(1e-13, False, max_iter=300)[0])
    w_max, steps_max, _ = fit(tol, False)
    w, steps, measure = fit(tol, True)
    gap_max, gap = objective(w_max) / best - 1, objective(w) / best - 1
    assert gap_max > 5e-3 and gap < gap_max / 10 and steps > steps_max
    assert measure <= tol * cost.sum()
    # The rule's own terms, in NumPy, at the returned w.
    z = X @ w[:-1] + w[-1]
    s = 1.0 / (1.0 + np.exp(y * z))                     # sigma(-y z)
    g = np.append(w[:-1] + C * (X.T @ (-y * s)), C * np.sum(-y * s))
    D = C * s * (1.0 - s)
    diag = np.append(1.0 + X.multiply(X).T @ D, D.sum())
    assert 0.5 * g @ (g / diag) <= tol * cost.sum()


def test_a_fit_stopped_by_max_iter_before_the_estimated_gap_says_so(rare_features):
    """The warning names the estimate when the largest gradient entry
    already meets tol (not a measure above a threshold it is below)."""
    from sklearn.exceptions import ConvergenceWarning

    X, y = rare_features(seed=0)
    with pytest.warns(ConvergenceWarning, match=r"largest gradient entry meets tol, but the "
                                                r"estimate of the distance to the optimum"):
        model = LogisticRegression(C=1000.0, max_iter=5).fit(X, y)
    assert model.solver_ == "newton-cg" and model.n_iter_[0] == 5


@pytest.mark.parametrize("n_threads", [1, 2])
def test_the_line_search_scores_summed_by_cg_stay_the_products(rare_features, n_threads):
    """With every row in I (the logistic loss), the line search takes ``X~ s``
    as the sum of the CG products' ``X~ d`` (rule 7) instead of a product.
    After every step of a long fit the scores are still ``X~ w`` to
    rounding, and the solution is the one of direct products (a zero-cost
    row turns the sums off)."""
    X, y = rare_features(seed=1)
    y = np.where(y == 1, 1.0, -1.0)
    C = 1000.0

    def fit(X, y, cost):
        w, z = np.zeros(X.shape[1] + 1), np.empty(X.shape[0])
        n_iter, status, _ = kernel(
            proved_csr(X), y, cost, w, loss=loss_kinds()["logistic"], bias=1.0,
            epsilon=0.0, tol=1e-10 * cost.sum(), max_iter=100, reg_bias=False,
            max_abs_rule=True, decrement=True, eps_cg=0.1, n_threads=n_threads, scores=z)
        assert status == Status.CONVERGED and n_iter >= 5
        return w, z

    w, z = fit(X, y, np.full(X.shape[0], C))
    direct = X @ w[:-1] + w[-1]
    np.testing.assert_allclose(z, direct, rtol=0, atol=1e-10 * np.abs(direct).max())
    # The same problem with one more row of cost 0: products in the line search.
    X0 = sp.vstack([X, X[:1]]).tocsr()
    w0, _ = fit(X0, np.append(y, 1.0), np.append(np.full(X.shape[0], C), 0.0))
    np.testing.assert_allclose(w, w0, rtol=0, atol=1e-7 * np.abs(w0).max())
