"""Newton steps on the free variables of the hinge loss's dual (``fastlinear._free_set``).

The step against a dense NumPy twin (the same conjugate gradients on ``Q_FF``
formed explicitly, the same projected search); its promises (``D`` never
rises, the box holds, the free samples' gradients fall below the tolerance
where no bound is hit); the loop against plain dual coordinate descent run to
convergence, liblinear's stopping test computed independently in NumPy and
liblinear-official's objective; the rule that declines a step; float32,
sample weights, one-vs-rest threads and the stop flag.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize

from fastlinear import LinearSVC, _free_set, _solvers, linear_svc_objective
from fastlinear._problem import LinearProblem
from fastlinear._validation import proved_csr

from _reference import hinge_pg_spread


def text_like(n=800, n_features=4000, rare=10, common=25, pool=40, noise=0.0, seed=0):
    """Unit rows with ``rare`` features drawn uniformly from ``n_features -
    pool`` and ``common`` from a Zipf-weighted pool of ``pool`` (TF-IDF-like:
    the shared common words couple the samples), labels split at the median
    score of a random ``w``.  At C = 100 plain dual coordinate descent needs
    about 560 passes to meet ``tol=1e-4``."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, pool + 1)
    weights /= weights.sum()
    rows, cols = [], []
    for i in range(n):
        c = np.concatenate([rng.choice(np.arange(pool, n_features), rare, replace=False),
                            rng.choice(pool, common, replace=False, p=weights)])
        rows.append(np.full(c.size, i))
        cols.append(c)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    X = normalize(sp.csr_matrix((rng.exponential(size=rows.size), (rows, cols)),
                                shape=(n, n_features)))
    score = X @ rng.standard_normal(n_features) + noise * rng.standard_normal(n)
    return X, np.where(score > np.median(score), 1, -1)


@pytest.fixture(scope="module")
def data():
    return text_like()


def hinge_problem(X, y, C):
    cost = np.full(X.shape[0], float(C))
    return LinearProblem(proved_csr(sp.csr_matrix(X)), np.where(y > 0, 1.0, -1.0), cost,
                         "hinge", 1.0)


def dense_tilde(X):
    return np.hstack([X.toarray(), np.ones((X.shape[0], 1))])


def dual_value(Xt, y, alpha):
    w = Xt.T @ (y * alpha)
    return 0.5 * w @ w - alpha.sum()


def step_twin(Xt, y, cost, alpha, tol):
    """The step of the module docstring with ``Q_FF`` formed densely."""
    free = np.flatnonzero((alpha > 0) & (alpha < cost))
    Q = (y[free, None] * Xt[free]) @ (y[free, None] * Xt[free]).T
    grad = y[free] * (Xt[free] @ (Xt.T @ (y * alpha))) - 1.0
    d, r = np.zeros(free.size), -grad
    p, rr = r.copy(), r @ r
    for _ in range(_free_set.CG_MAX_ITER):
        if not np.abs(r).max() > _free_set.CG_TOL * tol:
            break
        q = Q @ p
        step = rr / (p @ q)
        d, r = d + step * p, r - step * q
        rr, rr_old = r @ r, rr
        p = r + (rr / rr_old) * p
    new, t = alpha.copy(), 1.0
    for _ in range(_free_set.MAX_HALVINGS):
        trial = alpha.copy()
        trial[free] = np.clip(alpha[free] + t * d, 0, cost[free])
        if dual_value(Xt, y, trial) < dual_value(Xt, y, alpha):
            new = trial
            break
        t *= 0.5
    return new


@pytest.mark.parametrize("cg_max_iter", [1, 3, 5])
def test_step_matches_dense_twin(data, monkeypatch, cg_max_iter):
    """Iterate for iterate over the first conjugate-gradient iterations.  Not
    further: on this ``Q_FF`` (condition number 2.5e4) a perturbation of
    1e-15 in ``Q`` moves the 10th iterate by 1.6e-7 and the 15th by 1.1e-6,
    in NumPy alone."""
    monkeypatch.setattr(_free_set, "CG_MAX_ITER", cg_max_iter)
    X, y = data
    C, tol = 100.0, 1e-4
    problem = hinge_problem(X, y, C)
    start = _solvers.dual_cd(problem, tol=tol, max_iter=60, seed=0)
    alpha, cg_iter = _free_set.free_set_step(problem, start.alpha, tol=tol)
    assert cg_iter == cg_max_iter
    twin = step_twin(dense_tilde(X), problem.y, problem.cost, start.alpha, tol)
    np.testing.assert_allclose(alpha, twin, rtol=1e-10, atol=1e-12 * C)


def test_step_keeps_its_promises(data, monkeypatch):
    X, y = data
    C, tol = 100.0, 1e-4
    problem = hinge_problem(X, y, C)
    start = _solvers.dual_cd(problem, tol=tol, max_iter=60, seed=0)
    assert start.status == _solvers.Status.MAX_ITER
    solved = []
    cg = _free_set._conjugate_gradients
    monkeypatch.setattr(_free_set, "_conjugate_gradients",
                        lambda *a: solved.append(cg(*a)) or solved[-1])
    alpha, cg_iter = _free_set.free_set_step(problem, start.alpha, tol=tol)
    assert 0 < cg_iter < _free_set.CG_MAX_ITER   # the residual test ended it
    assert not np.shares_memory(alpha, start.alpha)
    Xt, yb, cost = dense_tilde(X), problem.y, problem.cost
    assert np.all((alpha >= 0) & (alpha <= cost))
    before, after = dual_value(Xt, yb, start.alpha), dual_value(Xt, yb, alpha)
    assert after < before
    # Conjugate gradients ended at their residual test: the unclipped step
    # would leave every free sample's gradient below CG_TOL * tol.
    (d, its), = solved
    assert its == cg_iter
    free = np.flatnonzero((start.alpha > 0) & (start.alpha < cost))
    unclipped = start.alpha.copy()
    unclipped[free] += d
    G = yb * (Xt @ (Xt.T @ (yb * unclipped))) - 1.0
    assert np.abs(G[free]).max() <= _free_set.CG_TOL * tol * (1 + 1e-6)


def test_loop_converges_where_plain_dual_is_slow(data):
    X, y = data
    C, tol = 100.0, 1e-4
    problem = hinge_problem(X, y, C)
    plain = _solvers.dual_cd(problem, tol=tol, max_iter=20_000, seed=0)
    finished = _solvers.dual_then_smoothed(problem, tol=tol, max_iter=1000, seed=0)
    assert finished.solver == "dual_cd+free_set_newton"
    assert finished.status == _solvers.Status.CONVERGED
    assert finished.n_iter < plain.n_iter / 2
    Xt = dense_tilde(X)
    # liblinear's test, recomputed in NumPy at the returned dual point.
    assert hinge_pg_spread(X, problem.y, finished.alpha, problem.cost, 1.0) <= tol * 1.0001
    # Both meet the test: their duals agree to the test's precision.
    d_plain = dual_value(Xt, problem.y, plain.alpha)
    d_fin = dual_value(Xt, problem.y, finished.alpha)
    assert abs(d_fin - d_plain) <= 1e-6 * abs(d_plain)


def liblinear_official_objective(X, y, C, tol):
    """liblinear-official's ``-s 3 -B 1`` solution's primal objective, in NumPy."""
    liblinear = pytest.importorskip("liblinear.liblinearutil")
    model = liblinear.train(y.astype(float), sp.csr_matrix(X), f"-s 3 -c {C} -B 1 -e {tol} -q")
    w, b = model.get_decfun()
    sign = 1.0 if model.get_labels()[0] == 1 else -1.0
    w, b = sign * np.asarray(w), sign * b
    t = np.where(y > 0, 1.0, -1.0)
    return 0.5 * (w @ w + b * b) + C * np.maximum(0.0, 1.0 - t * (X @ w + b)).sum()


def test_linear_svc_uses_the_steps_and_matches_liblinear(data):
    X, y = data
    C = 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LinearSVC(C=C, loss="hinge", random_state=0).fit(X, y)
    assert est.solver_ == "dual_cd+free_set_newton" and est.n_iter_ < 300
    ours = linear_svc_objective(est, X, y)[0]
    theirs = liblinear_official_objective(X, y, C, 1e-6)
    assert ours <= theirs * (1 + 1e-5)


def test_declined_when_the_free_samples_outnumber_their_columns():
    rng = np.random.default_rng(1)
    X = sp.csr_matrix(rng.standard_normal((1500, 1200)) * (rng.random((1500, 1200)) < 0.01))
    y = np.where(rng.random(1500) < 0.5, 1, -1)   # noise: most samples end up free or bounded
    problem = hinge_problem(X, y, 10.0)
    start = _solvers.dual_cd(problem, tol=1e-4, max_iter=30, seed=0)
    free = np.count_nonzero((start.alpha > 0) & (start.alpha < problem.cost))
    assert free > _free_set.MAX_FREE_SHARE * (X.shape[1] + 1)
    alpha, cg_iter = _free_set.free_set_step(problem, start.alpha, tol=1e-4)
    assert alpha is None and cg_iter == 0
    # The loop then continues with coordinate descent alone, to max_iter.
    sol = _solvers.dual_then_smoothed(problem, tol=1e-4, max_iter=400, seed=0)
    assert sol.solver == "dual_cd" and sol.status == _solvers.Status.MAX_ITER
    assert sol.n_iter == 400


def test_float32_sample_weight_and_threads(data):
    X, y = data
    y3 = np.where(y > 0, 2, np.where(np.arange(y.size) % 3 == 0, 1, 0))
    sw = np.random.default_rng(0).uniform(0.0, 2.0, y.size)
    sw[::17] = 0.0
    kw = dict(C=100.0, loss="hinge", random_state=0)
    one = LinearSVC(**kw, n_jobs=1).fit(X, y3, sample_weight=sw)
    two = LinearSVC(**kw, n_jobs=2).fit(X, y3, sample_weight=sw)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.intercept_, two.intercept_)
    f32 = LinearSVC(**kw).fit(X.astype(np.float32), y3, sample_weight=sw)
    assert f32.coef_.dtype == np.float32
    assert one.solver_ == f32.solver_ == "dual_cd+free_set_newton"
    np.testing.assert_allclose(linear_svc_objective(f32, X, y3, sample_weight=sw),
                               linear_svc_objective(one, X, y3, sample_weight=sw), rtol=1e-4)


def test_stop_flag_ends_the_conjugate_gradients(data):
    X, y = data
    problem = hinge_problem(X, y, 100.0)
    start = _solvers.dual_cd(problem, tol=1e-4, max_iter=60, seed=0)
    stop = np.ones(1, dtype=np.uint8)
    alpha, cg_iter = _free_set.free_set_step(problem, start.alpha, tol=1e-4, stop=stop)
    assert cg_iter == 0 and alpha is not None
    assert np.all((alpha >= 0) & (alpha <= problem.cost))


def test_max_iter_is_spent_to_the_last_pass():
    """A fit short of ``tol`` reports ``n_iter == max_iter``, whatever the
    remainder of the budget after the steps' rounds (``LinearSVCCV`` and
    users compare the two)."""
    X, y = text_like(n=400, n_features=2000)
    problem = hinge_problem(X * 1e-2, y, 1e4)
    short = []
    for max_iter in range(151, 240):
        sol = _solvers.dual_then_smoothed(problem, tol=1e-4, max_iter=max_iter, seed=0)
        assert sol.n_iter <= max_iter
        if sol.status == _solvers.Status.MAX_ITER and sol.n_iter != max_iter:
            short.append((max_iter, sol.n_iter))
    assert short == []


def test_binary_fit_does_not_depend_on_n_jobs():
    """The step's reductions run under one BLAS thread: a binary fit's BLAS
    limit follows ``n_jobs``, and NumPy's dot splits vectors of more than
    about 10,000 entries over those threads (different bits)."""
    X, y = text_like(n=2400, n_features=30_000, rare=15)
    one = LinearSVC(C=100.0, loss="hinge", random_state=0, n_jobs=1).fit(X, y)
    two = LinearSVC(C=100.0, loss="hinge", random_state=0, n_jobs=2).fit(X, y)
    assert one.solver_ == "dual_cd+free_set_newton"
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.intercept_, two.intercept_)


def test_no_free_sample_is_no_step(data):
    X, y = data
    problem = hinge_problem(X, y, 100.0)
    for alpha in (np.zeros(X.shape[0]), problem.cost.copy()):
        assert _free_set.free_set_step(problem, alpha, tol=1e-4) == (None, 0)


def test_budget_counts_the_passes_run_not_those_asked(monkeypatch):
    """Passes that stall before ``FREE_SET_AFTER`` leave their share of
    ``max_iter`` to the rest: a fit short of ``tol`` still reports
    ``n_iter == max_iter``."""
    X, y = text_like(n=400, n_features=2000)
    problem = hinge_problem(X * 1e-2, y, 1e4)   # short of tol after 240 iterations
    real = _solvers.dual_cd
    calls = []

    def first_stalls(problem, **kw):
        calls.append(kw["max_iter"])
        if len(calls) == 1:
            sol = real(problem, **{**kw, "max_iter": 100})
            return sol._replace(status=_solvers.Status.STALLED)
        return real(problem, **kw)

    monkeypatch.setattr(_solvers, "dual_cd", first_stalls)
    sol = _solvers.dual_then_smoothed(problem, tol=1e-4, max_iter=200, seed=0)
    assert calls[0] == _solvers.FREE_SET_AFTER
    assert sol.status == _solvers.Status.MAX_ITER and sol.n_iter == 200
