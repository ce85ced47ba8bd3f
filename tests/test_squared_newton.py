"""Exact Newton steps for the squared losses on few features (``fastlinear._squared_newton``).

Three ways: the same iterates as a dense NumPy twin whose line search finds
the minimum along the step from its breakpoints (another method than the
module's Newton iterations on ``psi'``); the same solution as the
conjugate-gradient kernel at a tight ``tol``; and the kernel's own stopping
rule on the gradient.
"""
import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from fastlinear import LinearSVC, LinearSVR, _squared_newton
from fastlinear._problem import LinearProblem, OneVsRest, regression_problem
from fastlinear._solvers import Status, newton, newton_tol, primal_newton
from fastlinear._validation import proved_csr


def _classification(sparse_problem, *, C=2.0, seed=0, n=300, d=40, dense=False,
                    dtype=np.float64, reg_bias=True):
    X, y = sparse_problem(n_samples=n, n_features=d, density=0.1, seed=seed)
    if dense:
        X = sp.csr_matrix(X.toarray() + np.random.RandomState(seed).uniform(-0.1, 0.1, (n, d)))
    X = X.astype(dtype)
    sw = np.random.RandomState(seed).uniform(0.5, 2.0, n)
    sw[:5] = 0.0                       # samples left out
    ovr = OneVsRest(proved_csr(X), y, np.array([0, 1]), C, None, sw, "squared_hinge", 1.0)
    return X, dataclasses.replace(ovr.problem(0), reg_bias=reg_bias)


def _regression(sparse_regression, *, C=1.5, epsilon=0.2, seed=0, reg_bias=True):
    X, y, _ = sparse_regression(n_samples=300, n_features=40, seed=seed)
    sw = np.random.RandomState(seed).uniform(0.5, 2.0, 300)
    problem = regression_problem(proved_csr(X), y, C, sw, "squared_epsilon_insensitive",
                                 epsilon, 1.0)
    return X, dataclasses.replace(problem, reg_bias=reg_bias)


def _make(kind, sparse_problem, sparse_regression, **kw):
    if kind == "classification":
        return _classification(sparse_problem, **kw)
    return _regression(sparse_regression, **kw)


# ----------------------------------------------------------------- the twin


def _parts(problem, Xt, w):
    """``(P, g, Hessian weights, r)`` at ``w``, dense."""
    z = Xt @ w
    if problem.is_regression:
        e = z - problem.y
        r = np.maximum(np.abs(e) - problem.epsilon, 0.0)
        d1 = 2 * problem.cost * np.sign(e) * r
    else:
        r = np.maximum(1 - problem.y * z, 0.0)
        d1 = -2 * problem.cost * problem.y * r
    pen = np.full(w.size, problem.lam)
    if not problem.reg_bias:
        pen[-1] = 0.0
    f = 0.5 * w @ (pen * w) + problem.cost @ (r * r)
    return f, pen * w + Xt.T @ d1, np.where(r > 0, 2 * problem.cost, 0.0), pen


def _breakpoint_line_minimum(problem, Xt, w, d):
    """The minimum of ``P(w + t d)`` over ``t >= 0`` from the breakpoints of
    ``psi'`` (continuous and piecewise linear): the first breakpoint where
    it turns non-negative, then linear interpolation."""
    z, dz = Xt @ w, Xt @ d

    def slope(t):
        f, g, _, _ = _parts(problem, Xt, w + t * d)
        return g @ d

    with np.errstate(divide="ignore", invalid="ignore"):
        if problem.is_regression:
            cand = np.concatenate([(problem.y + problem.epsilon - z) / dz,
                                   (problem.y - problem.epsilon - z) / dz])
        else:
            cand = (1 - problem.y * z) / (problem.y * dz)
    cand = np.unique(cand[np.isfinite(cand) & (cand > 0)])
    lo, s_lo = 0.0, slope(0.0)
    for t in cand:
        s_t = slope(t)
        if s_t >= 0:
            return lo + (t - lo) * (-s_lo) / (s_t - s_lo)
        lo, s_lo = t, s_t
    s_next = slope(lo + 1.0)     # linear beyond the last breakpoint
    return lo + (-s_lo) / (s_next - s_lo)


def _twin(problem, X, tol, max_iter, w0=None):
    """The module's loop in dense NumPy: Hessian formed at every step.
    Returns ``(w, n_iter, converged)``."""
    Xt = np.hstack([X.toarray(), np.full((X.shape[0], 1), problem.bias)]).astype(np.float64)
    w = np.zeros(Xt.shape[1]) if w0 is None else w0.astype(np.float64).copy()
    g_norm0 = np.linalg.norm(_parts(problem, Xt, np.zeros_like(w))[1])
    f, g, weight, pen = _parts(problem, Xt, w)
    n_iter = 0
    while True:
        H = np.diag(pen) + Xt.T @ (weight[:, None] * Xt)
        d = np.linalg.solve(H, -g)
        # liblinear's test, and the Newton decrement within tol * P
        if np.linalg.norm(g) / g_norm0 <= tol and -0.5 * g @ d <= tol * f:
            return w, n_iter, True
        if n_iter >= max_iter:
            return w, n_iter, False
        t = _breakpoint_line_minimum(problem, Xt, w, d)
        w = w + t * d
        f_old = f
        f, g, weight, pen = _parts(problem, Xt, w)
        n_iter += 1
        if abs(f_old - f) <= 1e-12 * abs(f):
            return w, n_iter, True


@pytest.mark.parametrize("kind", ["classification", "regression"])
@pytest.mark.parametrize("reg_bias", [True, False])
@pytest.mark.parametrize("max_iter", [1, 2, 4, 50])
def test_same_iterates_as_the_numpy_twin(kind, reg_bias, max_iter, sparse_problem,
                                         sparse_regression):
    X, problem = _make(kind, sparse_problem, sparse_regression, reg_bias=reg_bias)
    tol = newton_tol(problem, 1e-8)
    w, z, n_iter, status, measure = _squared_newton.squared_newton(problem, tol=tol,
                                                                   max_iter=max_iter)
    w_ref, n_ref, converged = _twin(problem, X, tol, max_iter)
    assert n_iter == n_ref
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-9 * np.abs(w_ref).max())
    np.testing.assert_allclose(z, X @ w[:-1] + w[-1], atol=1e-9 * np.abs(z).max())
    assert status == ("converged" if converged else "max_iter")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_rows_and_float32(dtype, sparse_problem):
    """Dense X (its Hessian by BLAS, formed at every step) and float32 values."""
    X, problem = _classification(sparse_problem, dense=True, dtype=dtype)
    tol = newton_tol(problem, 1e-8)
    w, _, n_iter, status, _ = _squared_newton.squared_newton(problem, tol=tol, max_iter=50)
    w_ref, n_ref, _ = _twin(problem, X, tol, 50)
    assert status == "converged" and n_iter == n_ref
    np.testing.assert_allclose(w, w_ref, atol=1e-9 * np.abs(w_ref).max())


@pytest.mark.parametrize("kind", ["classification", "regression"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_line_minimum_is_the_breakpoint_minimum(kind, C, sparse_problem, sparse_regression):
    X, problem = _make(kind, sparse_problem, sparse_regression, C=C)
    Xt = np.hstack([X.toarray(), np.ones((X.shape[0], 1))])
    rng = np.random.RandomState(1)
    for scale in (1e-4, 1e-2, 1.0, 10.0, 1e8):    # minima beyond the window, and at 1e-8
        w = 0.3 * rng.randn(Xt.shape[1])
        d = -scale * _parts(problem, Xt, w)[1] * rng.uniform(0.1, 2.0, Xt.shape[1])
        pen = _parts(problem, Xt, w)[3]
        t = _squared_newton._line_minimum(problem, pen, w, d, Xt @ w, Xt @ d)
        t_ref = _breakpoint_line_minimum(problem, Xt, w, d)
        assert t == pytest.approx(t_ref, rel=1e-9)
    # Not a descent direction: no step.
    w = 0.3 * rng.randn(Xt.shape[1])
    d = _parts(problem, Xt, w)[1]
    assert _squared_newton._line_minimum(problem, pen, w, d, Xt @ w, Xt @ d) == 0.0


def test_updated_hessian_gives_the_formed_one(sparse_problem, monkeypatch):
    """Between refreshes only the samples that entered or left the loss are
    passed over; the iterates are those of a Hessian formed at every step."""
    X, problem = _classification(sparse_problem, C=50.0, n=600)
    tol = newton_tol(problem, 1e-10)
    updated = _squared_newton.squared_newton(problem, tol=tol, max_iter=100)
    monkeypatch.setattr(_squared_newton, "REFRESH", 1)
    formed = _squared_newton.squared_newton(problem, tol=tol, max_iter=100)
    assert updated[2] == formed[2] >= 3
    np.testing.assert_allclose(updated[0], formed[0], atol=1e-10 * np.abs(formed[0]).max())


# -------------------------------------------- against the kernel, optimality


@pytest.mark.parametrize("kind", ["classification", "regression"])
@pytest.mark.parametrize("C", [0.01, 1.0, 1000.0])
def test_same_solution_as_the_kernel(kind, C, sparse_problem, sparse_regression):
    X, problem = _make(kind, sparse_problem, sparse_regression, C=C)
    exact = primal_newton(problem, tol=1e-10, max_iter=1000)
    kernel = newton(problem, tol=1e-10, max_iter=1000)
    assert exact.status == kernel.status == Status.CONVERGED
    assert exact.solver == "newton" and exact.measure <= exact.threshold
    assert problem.primal(exact.w) == pytest.approx(problem.primal(kernel.w), rel=1e-12)
    np.testing.assert_allclose(exact.w, kernel.w, atol=1e-5 * np.abs(kernel.w).max())
    # The dual variables of the KKT conditions give w back.
    np.testing.assert_allclose(problem.w_from_alpha(exact.alpha), exact.w,
                               atol=1e-7 * np.abs(exact.w).max())


def test_warm_start_is_not_modified_and_continues(sparse_problem):
    X, problem = _classification(sparse_problem)
    tol = newton_tol(problem, 1e-9)
    w1, _, n1, _, _ = _squared_newton.squared_newton(problem, tol=tol, max_iter=2)
    w0 = w1.copy()
    w, _, n, status, _ = _squared_newton.squared_newton(problem, tol=tol, max_iter=100, w0=w0)
    np.testing.assert_array_equal(w0, w1)
    w_full, _, n_full, _, _ = _squared_newton.squared_newton(problem, tol=tol, max_iter=100)
    assert status == "converged" and n < n_full
    np.testing.assert_allclose(w, w_full, atol=1e-6 * np.abs(w_full).max())


@pytest.mark.filterwarnings("error")
def test_zero_gradient_at_zero_returns_zero_from_any_start(sparse_regression):
    """Every |y_i| <= eps: w = 0 is the optimum, and a warm start is not kept."""
    X, problem = _regression(sparse_regression, epsilon=100.0)
    w, z, n_iter, status, _ = _squared_newton.squared_newton(problem, tol=1e-4, max_iter=10,
                                                             w0=np.ones(X.shape[1] + 1))
    assert status == "converged" and n_iter == 0
    np.testing.assert_array_equal(w, 0.0)
    np.testing.assert_array_equal(z, 0.0)


def test_a_pass_that_sees_the_stop_flag_ends_interrupted(sparse_problem):
    """The CSR passes poll the shared flag every 4096 rows: the first one
    (the gradient at 0) raises inside, and the loop reports it."""
    X, problem = _classification(sparse_problem, n=5000)
    stop = np.ones(1, dtype=np.uint8)
    w0 = np.full(X.shape[1] + 1, 0.01)
    w, z, n_iter, status, _ = _squared_newton.squared_newton(problem, tol=1e-12, max_iter=10,
                                                             w0=w0, stop=stop)
    assert status == "interrupted" and n_iter == 0
    np.testing.assert_array_equal(w, w0)
    assert primal_newton(problem, tol=1e-4, max_iter=10, stop=stop).status == Status.INTERRUPTED


def test_stop_flag_verbose_and_overflow(sparse_problem, capsys):
    X, problem = _classification(sparse_problem)
    stop = np.ones(1, dtype=np.uint8)
    out = _squared_newton.squared_newton(problem, tol=1e-12, max_iter=10, stop=stop)
    assert out[2] == 0 and out[3] == "interrupted"
    _squared_newton.squared_newton(problem, tol=1e-12, max_iter=2, verbose=1)
    assert capsys.readouterr().out.count("newton (exact) iter") == 3
    # Costs whose squares overflow: None, and the kernel (which rescales) solves it.
    huge = dataclasses.replace(problem, cost=problem.cost * 1e300)
    assert _squared_newton.squared_newton(huge, tol=1e-4, max_iter=10) is None
    sol = primal_newton(huge, tol=1e-4, max_iter=100)
    assert np.all(np.isfinite(sol.w))
    with pytest.raises(ValueError, match="squared loss"):
        _squared_newton.squared_newton(dataclasses.replace(problem, loss="hinge"), tol=1e-4,
                                       max_iter=1)


def test_the_rule(sparse_problem):
    X, problem = _classification(sparse_problem)
    assert _squared_newton.exact_pays(problem)
    assert _squared_newton.exact_pays(dataclasses.replace(problem, loss="logistic"))
    assert not _squared_newton.exact_pays(dataclasses.replace(problem, loss="hinge"))
    assert not _squared_newton.exact_pays(dataclasses.replace(problem, penalty="l1"))
    assert not _squared_newton.exact_pays(dataclasses.replace(problem, lam=0.0))
    wide, _ = sparse_problem(n_samples=50, n_features=1500, density=0.01, seed=0)
    y = np.where(np.arange(50) % 2, 1.0, -1.0)
    assert not _squared_newton.exact_pays(
        LinearProblem(proved_csr(wide), y, np.ones(50), "squared_hinge", 1.0))
    # 500 dense features: forming H costs about 250 products.
    dense = proved_csr(sp.csr_matrix(np.random.RandomState(0).randn(50, 500)))
    assert not _squared_newton.exact_pays(LinearProblem(dense, y, np.ones(50), "squared_hinge", 1.0))


def test_a_long_first_step_at_large_C_does_not_end_the_fit():
    """From w = 0 at large C one exact step shrank ||g|| below tol ||g(0)||
    (3.4e-5) with P twice its minimum (more samples in the loss than the
    step's Hessian held); the decrement test takes the fit to the optimum."""
    rng = np.random.RandomState(4)
    X = rng.randn(30, 40)
    y = (X[:, 0] + 0.5 * rng.randn(30) > 0).astype(int)
    problem = OneVsRest(proved_csr(sp.csr_matrix(X)), y, np.array([0, 1]), 1000.0, None,
                        np.ones(30), "squared_hinge", 1.0).problem(0)
    tol = newton_tol(problem, 1e-4)
    w, _, n_iter, status, measure = _squared_newton.squared_newton(problem, tol=tol,
                                                                   max_iter=50)
    exact, _, _, _, _ = _squared_newton.squared_newton(problem, tol=1e-15, max_iter=50)
    assert status == "converged" and n_iter > 1 and measure <= tol
    P = problem.primal(w)
    assert P - problem.primal(exact) <= 1e-6 * P
    est = LinearSVC(C=1000.0, dual=False).fit(X, y)
    assert est.solver_ == "newton"
    np.testing.assert_allclose(np.r_[est.coef_.ravel(), est.intercept_], w, rtol=1e-12)


# --------------------------------------------------------- the estimators


def test_estimators_take_the_exact_steps_below_loose_tol(sparse_problem, sparse_regression,
                                                         monkeypatch):
    calls = []
    original = _squared_newton.squared_newton

    def spy(problem, **kwargs):
        calls.append(problem.loss)
        return original(problem, **kwargs)

    monkeypatch.setattr(_squared_newton, "squared_newton", spy)
    X, y = sparse_problem(n_samples=300, n_features=40, n_classes=3, seed=2)
    clf = LinearSVC(dual=False, C=3.0).fit(X, y)
    assert calls == ["squared_hinge"] * 3 and clf.solver_ == "newton"
    calls.clear()
    LinearSVC(dual=False, C=3.0, tol=0.01).fit(X, y)    # liblinear's -e: its steps
    assert calls == []
    Xr, yr, _ = sparse_regression(n_samples=300, n_features=40, seed=0)
    LinearSVR(dual=False, loss="squared_epsilon_insensitive", C=3.0).fit(Xr, yr)
    assert calls == ["squared_epsilon_insensitive"]
    # max_iter: the usual warning.
    with pytest.warns(Warning, match="converge"):
        LinearSVC(dual=False, C=3.0, max_iter=1).fit(X, y)
