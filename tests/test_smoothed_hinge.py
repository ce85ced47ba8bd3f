"""The smoothing Newton finish of the hinge loss's dual (``fastlinear._smoothed_hinge``).

The smoothing against finite differences and against the hinge it
approximates; the loop against a dense NumPy twin, step for step; the
certificate against liblinear's stopping test computed independently in
NumPy (the projected-gradient spread of the dual at ``dual_coef_``); the
fits against scikit-learn's liblinear run 100 times longer than its default
(which stops above fastlinear's objective); and the rule that decides when
the finish runs.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC, _merge, _smoothed_hinge, _solvers, linear_svc_objective
from fastlinear._problem import LinearProblem
from fastlinear._validation import ClassificationData, proved_csr
from fastlinear.datasets import load_a9a

from _reference import hinge_pg_spread as pg_spread


@pytest.fixture(scope="module")
def a9a_slice():
    """1,000 rows of a9a: plain dual coordinate descent at C = 10 and 100 does
    not meet ``tol=1e-4`` in 1,000 passes (scikit-learn's takes 35,000 and
    more than 100,000)."""
    X, y, _, _ = load_a9a()
    return X[:1000], y[:1000]


def hinge_problem(X, y, C, bias=1.0, sample_weight=None):
    yb = np.where(y == np.unique(y)[-1], 1.0, -1.0)
    cost = np.full(X.shape[0], float(C)) * (1.0 if sample_weight is None else sample_weight)
    return LinearProblem(proved_csr(sp.csr_matrix(X)), yb, cost, "hinge", bias)


def test_smoothing_derivatives_and_limit():
    r = np.array([-1e3, -2.0, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 2.0, 1e3])
    cost = np.ones_like(r)
    for mu in (1.0, 1e-3, 1e-7):
        d1, d2 = _smoothed_hinge._smoothed(r, mu)
        assert np.all((d1 >= 0) & (d1 <= 1)) and np.all(d2 > 0)

        def phi(v):
            return np.array([_smoothed_hinge._value(np.zeros(1), np.array([x]), cost[:1], mu)
                             for x in v])
        h = 1e-6 * np.maximum(np.abs(r), mu)
        fd1 = (phi(r + h) - phi(r - h)) / (2 * h)
        np.testing.assert_allclose(d1, fd1, rtol=1e-5, atol=1e-9)
        fd2 = (_smoothed_hinge._smoothed(r + h, mu)[0] - _smoothed_hinge._smoothed(r - h, mu)[0]) / (2 * h)
        np.testing.assert_allclose(d2, fd2, rtol=1e-4, atol=1e-9 / mu)
        # phi_mu(r) lies between max(0, r) and max(0, r) + mu.
        values = phi(r)
        assert np.all(values >= np.maximum(r, 0)) and np.all(values <= np.maximum(r, 0) + mu)


def smoothed_twin(Xt, y, cost, tol, max_steps):
    """The loop of the module docstring on dense ``X~``, in NumPy: the same
    steps (backtracking-free exact line search to the same Wolfe test)."""
    sh = _smoothed_hinge
    n, m = Xt.shape
    w, r = np.zeros(m), np.ones(n)
    mu, mu_min, steps, final = sh.MU_START, sh.MU_MIN_FACTOR * tol, 0, 0
    x_norm = np.sqrt((Xt * Xt).sum(1).max())
    while steps < max_steps:
        d1, d2 = sh._smoothed(r, mu)
        g = w - Xt.T @ (cost * d1 * y)
        g_max = np.abs(g).max()
        if mu <= mu_min and np.linalg.norm(g) * x_norm <= 0.1 * tol:
            break
        weight = cost * d2
        weight[weight < sh.NEGLIGIBLE * weight.max()] = 0.0
        H = np.eye(m) + Xt.T @ (weight[:, None] * Xt)
        d = -np.linalg.solve(H, g)
        dr = -y * (Xt @ d)
        t = sh._line_minimum(w, r, d, dr, cost, mu, float(g @ d))
        w, r, steps = w + t * d, r + t * dr, steps + 1
        if mu <= mu_min:
            final += 1
            if t == 0.0 or final >= sh.FINAL_STEPS:
                break
        if t >= sh.FULL_STEP or g_max <= 1e-2 * cost.max():
            mu = max(sh.MU_FACTOR * mu, mu_min)
    alpha = cost * sh._smoothed(r, mu)[0]
    alpha[alpha <= sh.ROUND * cost] = 0.0
    top = alpha >= (1 - sh.ROUND) * cost
    alpha[top] = cost[top]
    return alpha, steps


@pytest.mark.parametrize("max_steps", [1, 5, 200])
def test_loop_equals_numpy_twin(a9a_slice, max_steps):
    X, y = a9a_slice
    X, y = X[:300], y[:300]
    problem = hinge_problem(X, y, 10.0)
    alpha, steps = _smoothed_hinge.smoothed_newton(problem, tol=1e-4, max_steps=max_steps)
    Xt = np.hstack([X.toarray(), np.ones((X.shape[0], 1))])
    twin, twin_steps = smoothed_twin(Xt, problem.y, problem.cost, 1e-4, max_steps)
    assert steps == twin_steps and (max_steps == 200 or steps == max_steps)
    np.testing.assert_allclose(alpha, twin, rtol=1e-6, atol=1e-8 * 10.0)


@pytest.mark.parametrize("C", [10.0, 100.0])
def test_certificate_nearly_meets_liblinears_test(a9a_slice, C):
    """The rounded dual point of the smoothed optimum, before any pass."""
    X, y = a9a_slice
    problem = hinge_problem(X, y, C)
    alpha, steps = _smoothed_hinge.smoothed_newton(problem, tol=1e-4, max_steps=200)
    assert 0 < steps < 200
    assert np.all((alpha >= 0) & (alpha <= problem.cost))
    assert pg_spread(X, problem.y, alpha, problem.cost, 1.0) <= 1e-4


@pytest.mark.parametrize("C", [10.0, 100.0])
def test_large_c_hinge_converges_at_the_optimum(a9a_slice, C):
    X, y = a9a_slice
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LinearSVC(C=C, loss="hinge", random_state=0).fit(X, y)
    assert est.solver_ == "dual_cd+smoothed_newton" and est.n_iter_ < 1000
    # liblinear's own test at the returned dual variables, recomputed here.
    yb = np.where(y == est.classes_[1], 1.0, -1.0)
    alpha = est.dual_coef_[0] * yb
    assert pg_spread(X, yb, alpha, np.full(len(y), C), 1.0) <= 1e-4
    # The weights are w(alpha).
    Xt = np.hstack([X.toarray(), np.ones((X.shape[0], 1))])
    w = Xt.T @ (yb * alpha)
    np.testing.assert_allclose(np.r_[est.coef_[0], est.intercept_], w, rtol=1e-9, atol=1e-9)
    # Lower than scikit-learn's liblinear after 100 times its default passes,
    # and a duality gap of P(w) + D(a) within 1e-6 of P.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SkLinearSVC(C=C, loss="hinge", random_state=0, max_iter=100_000).fit(X, y)
    ours = float(linear_svc_objective(est, X, y)[0])
    assert ours <= float(linear_svc_objective(ref, X, y)[0]) * (1 + 1e-9)
    dual = 0.5 * float(w @ w) - float(alpha.sum())
    assert (ours + dual) / ours <= 1e-6


def test_weights_no_intercept_and_float32(a9a_slice):
    X, y = a9a_slice
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2.0, size=len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LinearSVC(C=30.0, loss="hinge", class_weight={-1: 2.0, 1: 1.0},
                        random_state=0).fit(X, y, sample_weight=sw)
        est32 = LinearSVC(C=30.0, loss="hinge", class_weight={-1: 2.0, 1: 1.0},
                          random_state=0).fit(X.astype(np.float32), y, sample_weight=sw)
        plain = LinearSVC(C=30.0, loss="hinge", fit_intercept=False, random_state=0).fit(X, y)
    assert est.solver_ == est32.solver_ == plain.solver_ == "dual_cd+smoothed_newton"
    assert est32.coef_.dtype == np.float32
    np.testing.assert_allclose(est32.coef_, est.coef_, rtol=1e-3, atol=1e-3)
    assert np.all(plain.intercept_ == 0.0)
    yb = np.where(y == est.classes_[1], 1.0, -1.0)
    cost = 30.0 * sw * np.where(yb < 0, 2.0, 1.0)
    assert pg_spread(X, yb, est.dual_coef_[0] * yb, cost, 1.0) <= 1e-4
    assert pg_spread(X, yb, plain.dual_coef_[0] * yb, np.full(len(y), 30.0), 0.0) <= 1e-4


def test_the_finish_rule_bounds_decide_as_the_sum(a9a_slice):
    """``smoothing_pays`` decides from the bounds min/max C_i times the mean
    squared norm where they agree, and sums the row norms only in between:
    the same answer as the sum, on both sides of the threshold."""
    X, y = a9a_slice
    Xc = sp.csr_matrix(X)
    row_sq = np.asarray(Xc.multiply(Xc).sum(axis=1)).ravel() + 1.0
    rng = np.random.default_rng(0)
    spread = rng.uniform(0.0, 2.0, X.shape[0])
    decided = set()
    for C in (0.1, 1.0, 5.0, 6.5, 7.0, 8.0, 10.0, 100.0):
        for weight in (None, spread):
            problem = hinge_problem(X, y, C, sample_weight=weight)
            exact = float(problem.cost @ row_sq) / X.shape[0] >= _solvers.SMOOTHED_THRESHOLD
            assert _solvers.smoothing_pays(problem) == exact
            decided.add(exact)
    assert decided == {False, True}


def test_when_the_finish_runs(a9a_slice):
    X, y = a9a_slice
    small = hinge_problem(X, y, 1.0)        # mean C ||x~||^2 about 15
    large = hinge_problem(X, y, 10.0)       # about 150
    assert not _solvers.smoothing_pays(small) and _solvers.smoothing_pays(large)
    squared = LinearProblem(large.X, large.y, large.cost, "squared_hinge", 1.0)
    assert not _solvers.smoothing_pays(squared)
    wide = sp.hstack([sp.csr_matrix(X), sp.csr_matrix((X.shape[0], 1000))]).tocsr()
    assert not _solvers.smoothing_pays(hinge_problem(wide, y, 10.0))
    # Within the passes before the finish, or at small C: plain dual CD.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert LinearSVC(C=10.0, loss="hinge", max_iter=40).fit(X, y).solver_ == "dual_cd"
        assert LinearSVC(C=1.0, loss="hinge").fit(X, y).solver_ == "dual_cd"


def test_stop_flag_and_verbose(a9a_slice, capsys):
    X, y = a9a_slice
    problem = hinge_problem(X, y, 10.0)
    stop = np.ones(1, dtype=np.uint8)
    alpha, steps = _smoothed_hinge.smoothed_newton(problem, tol=1e-4, max_steps=200, stop=stop)
    assert steps == 0 and np.all((alpha >= 0) & (alpha <= problem.cost))
    _smoothed_hinge.smoothed_newton(problem, tol=1e-4, max_steps=2, verbose=1)
    assert capsys.readouterr().out.count("smoothed newton step") == 2
    with pytest.raises(ValueError, match="hinge-loss problem"):
        _smoothed_hinge.smoothed_newton(LinearProblem(problem.X, problem.y, problem.cost,
                                                      "squared_hinge", 1.0),
                                        tol=1e-4, max_steps=2)


@pytest.mark.parametrize("max_iter", [41, 60, 100])
def test_iterations_never_exceed_max_iter(a9a_slice, max_iter):
    """Passes plus Newton steps: with fewer than two iterations left after the
    first 40 passes the finish does not start and the passes go on."""
    X, y = a9a_slice
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearSVC(C=100.0, loss="hinge", max_iter=max_iter, random_state=0).fit(X, y)
    assert est.n_iter_ <= max_iter
    assert est.solver_ == ("dual_cd" if max_iter == 41 else "dual_cd+smoothed_newton")


@pytest.mark.parametrize("C, scale", [(1e10, 1.0), (10.0, 1e6)])
def test_hessians_beyond_float64_end_the_finish_not_the_fit(a9a_slice, C, scale):
    """Costs or features so large that ``I + sum C_i phi'' x x^T`` is
    numerically indefinite: the finish stops and the passes go on, warning
    if they do not meet ``tol``; never a LinAlgError."""
    X, y = a9a_slice
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearSVC(C=C, loss="hinge", random_state=0).fit(X * scale, y)
    assert np.all(np.isfinite(est.coef_)) and est.n_iter_ <= 1000


def test_newton_direction_falls_back_to_a_ridge():
    g = np.array([1.0, -1.0])
    H = np.array([[1e16, 1e16], [1e16, 1e16]]) + np.eye(2) * 1e-3   # indefinite in float64
    d = _smoothed_hinge._newton_direction(H.copy(), g, 1)
    assert d is not None and np.all(np.isfinite(d)) and float(g @ d) < 0
    assert _smoothed_hinge._newton_direction(np.full((2, 2), np.nan), g, 1) is None


@pytest.fixture(scope="module")
def a9a_repeated(a9a_slice):
    """The slice with 300 of its rows (and labels) repeated: 23 % repeats,
    above the share from which the finish solves the distinct rows."""
    X, y = a9a_slice
    rows = np.r_[np.arange(X.shape[0]), np.arange(0, 900, 3)]
    return sp.csr_matrix(X)[rows], y[rows]


def test_finish_on_distinct_rows_builds_every_samples_certificate(a9a_repeated):
    """smoothed_newton on the merged rows: the same f_mu, so the same
    certificate as on every row (to the rounding of the summed costs),
    one entry per sample, in its box, meeting liblinear's test."""
    X, y = a9a_repeated
    sw = np.random.default_rng(0).uniform(0.0, 2.0, X.shape[0])
    sw[::7] = 0.0
    problem = hinge_problem(X, y, 10.0, sample_weight=sw)
    data = ClassificationData(problem.X, (problem.y > 0).astype(np.intp), np.array([-1, 1]),
                              sw, derived={})
    groups = _merge.merge_groups(data)
    assert groups is not None and groups[0].size < X.shape[0]
    on_rows = _merge.merged_problem(problem, groups)
    np.testing.assert_allclose(on_rows.cost.sum(), problem.cost.sum())
    alpha, steps = _smoothed_hinge.smoothed_newton(problem, tol=1e-4, max_steps=200,
                                                   merged=(on_rows, groups[1]))
    plain, plain_steps = _smoothed_hinge.smoothed_newton(problem, tol=1e-4, max_steps=200)
    assert alpha.shape == (X.shape[0],) and abs(steps - plain_steps) <= 2
    assert np.all((alpha >= 0) & (alpha <= problem.cost)) and np.all(alpha[sw == 0] == 0)
    np.testing.assert_allclose(alpha, plain, atol=1e-3 * 10.0)
    used = sw > 0        # (a sample of cost 0 has the box [0, 0]: no projected gradient)
    assert pg_spread(X[used], problem.y[used], alpha[used], problem.cost[used], 1.0) <= 1e-4


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fits_finished_on_distinct_rows_solve_the_same_problem(monkeypatch, a9a_repeated,
                                                               n_classes):
    X, y = a9a_repeated
    labels = y if n_classes == 2 else np.where(np.asarray(X[:, 0].todense()).ravel() > 0, 2, y)
    calls = []
    real = _merge.merged_problem
    monkeypatch.setattr(_merge, "merged_problem", lambda *a: calls.append(1) or real(*a))
    kw = dict(C=30.0, loss="hinge", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        merged = LinearSVC(**kw).fit(X, labels)
        assert calls, "the finish did not run on the distinct rows"
        monkeypatch.setattr(_merge, "MERGE_SHARE", 2.0)        # never merge
        plain = LinearSVC(**kw).fit(X, labels)
    assert merged.solver_ == plain.solver_ == "dual_cd+smoothed_newton"
    np.testing.assert_allclose(linear_svc_objective(merged, X, labels),
                               linear_svc_objective(plain, X, labels), rtol=1e-6)
    for k, positive in enumerate(merged.classes_[-merged.coef_.shape[0]:]):
        yb = np.where(labels == positive, 1.0, -1.0)
        assert pg_spread(X, yb, merged.dual_coef_[k] * yb, np.full(len(y), 30.0), 1.0) <= 1e-4
