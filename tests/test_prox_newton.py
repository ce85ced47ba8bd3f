"""Proximal Newton for L1 / elastic-net multinomial logistic regression.

The inner solve against its NumPy twin (same visiting order), the line
search's loss change and the row shifts against direct NumPy, the optimum
against scikit-learn's saga objective and the optimality conditions, then
dtypes, sparse input, warm starts, max_iter and bad input.
"""
import warnings

import _reference_prox_newton as ref
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from fastlinear import _prox_newton, _prox_newton_fast
from fastlinear._prox_newton import fit_multinomial_l1
from fastlinear._validation import proved_csr


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _synthetic(n=90, d=12, K=3, seed=0):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=6,
                               n_redundant=0, n_classes=K, n_clusters_per_class=1, random_state=seed)
    X[np.abs(X) < 0.6] = 0.0   # about half the entries zero
    return X, y


def _W(coef, intercept):
    return np.vstack([np.asarray(coef, dtype=np.float64).T,
                      np.asarray(intercept, dtype=np.float64)])


def _F(X, y, cost, coef, intercept, r):
    return ref.objective(X, y, cost, _W(coef, intercept), bias=1.0, l1_ratio=r)


# ----------------------------------------------------------- the kernel pieces


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("r", [1.0, 0.5])
@pytest.mark.parametrize("mu", [0.0, 3.0])
def test_cd_model_matches_numpy_twin(dtype, index, r, mu):
    X, y = _synthetic()
    X = X.astype(dtype)
    n, d = X.shape
    rng = np.random.RandomState(1)
    s = rng.uniform(0.5, 2.0, n)
    s[:5] = 0.0
    W = np.zeros((d + 1, 3))
    W[::3] = rng.normal(size=W[::3].shape)   # some rows nonzero
    G, P = ref.smooth_gradient(X.astype(np.float64), y, s, W, bias=1.0, l1_ratio=r)
    XT = sp.csr_matrix(X.T)
    XT.indices = XT.indices.astype(index)
    XT.indptr = XT.indptr.astype(index)
    active = np.arange(d + 1, dtype=np.intp)
    D = np.zeros_like(W)
    R = np.zeros((n, 3))
    kw = dict(bias=1.0, lam=1.0 - r, l1=r, inner_tol=1e-7, max_pass=40, mu=mu)
    n_pass, status, viol = _prox_newton_fast.cd_model(
        proved_csr(XT), s, P, G, W, D, R, active, **kw)
    D_ref, R_ref, n_pass_ref = ref.cd_model(X.astype(np.float64), s, P, G, W, active, **kw)
    assert n_pass == n_pass_ref
    assert (status == 0) == (viol <= 1e-7)
    np.testing.assert_allclose(D, D_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(R, R_ref, rtol=1e-9, atol=1e-12)
    # R is X~ D.
    np.testing.assert_allclose(R, ref.scores(X.astype(np.float64), D, 1.0), atol=1e-10)


def test_cd_model_damping_shortens_the_centred_step_and_solves_the_damped_model():
    """``mu`` adds ``mu/2 ||D[j] - mean(D[j])||^2`` to the model: the centred
    step shrinks as ``mu`` grows, and the result is the damped model's
    minimiser (its coordinate conditions hold, measured in NumPy)."""
    X, y = _synthetic()
    n, d = X.shape
    s = np.full(n, 5.0)
    W = np.zeros((d + 1, 3))
    G, P = ref.smooth_gradient(X, y, s, W, bias=1.0, l1_ratio=1.0)
    XT = proved_csr(sp.csr_matrix(X.T))
    active = np.arange(d + 1, dtype=np.intp)
    norms = []
    for mu in (0.0, 1.0, 100.0):
        D, R = np.zeros_like(W), np.zeros((n, 3))
        _, status, _ = _prox_newton_fast.cd_model(XT, s, P, G, W, D, R, active, bias=1.0,
                                                  lam=0.0, l1=1.0, inner_tol=1e-9,
                                                  max_pass=500, mu=mu)
        assert status == 0
        centred = D - D.mean(axis=1, keepdims=True)
        norms.append(np.linalg.norm(centred))
        # The damped model's gradient: G + H D + mu (D - mean); with W = 0 each
        # entry of W + D = D satisfies the L1 subgradient condition.
        Xb = np.hstack([X, np.ones((n, 1))])
        Rd = Xb @ D
        HD = Xb.T @ (s[:, None] * (P * Rd - P * (P * Rd).sum(axis=1, keepdims=True)))
        grad = G + HD + mu * centred
        pen = grad[:-1]
        z = D[:-1]
        viol = np.where(z > 0, np.abs(pen + 1.0), np.where(z < 0, np.abs(pen - 1.0),
                                                             np.maximum(np.abs(pen) - 1.0, 0.0)))
        assert viol.max() <= 1e-6 and np.abs(grad[-1]).max() <= 1e-6
    assert norms[0] > norms[1] > norms[2] > 0


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_damping_is_the_curvature_the_model_lacked_along_the_step(lam):
    """Rule 8 against the Hessian formed densely: after a step shortened to
    ``t``, ``mu = max(4 mu, (1/t - 1) D.H D / ||D_centred||^2)``; after a
    full step ``mu / 4``."""
    X, y = _synthetic()
    n, d = X.shape
    rng = np.random.RandomState(4)
    s = rng.uniform(0.5, 2.0, n)
    W = rng.normal(size=(d + 1, 3))
    D = rng.normal(size=(d + 1, 3))
    _, P = ref.smooth_gradient(X, y, s, W, bias=1.0, l1_ratio=1.0 - lam)
    Xb = np.hstack([X, np.ones((n, 1))])
    R = Xb @ D
    H = sum(s[i] * np.kron(np.outer(Xb[i], Xb[i]), np.diag(P[i]) - np.outer(P[i], P[i]))
            for i in range(n))
    pen = np.kron(np.r_[np.ones(d), 0.0], np.ones(3))
    dHd = D.ravel() @ H @ D.ravel() + lam * (pen * D.ravel() ** 2).sum()
    centred = D - D.mean(axis=1, keepdims=True)
    expected = 3.0 * dHd / (centred ** 2).sum()
    assert _prox_newton._damping(0.0, 0.25, D, R, P, s, lam) == pytest.approx(expected, rel=1e-10)
    assert _prox_newton._damping(10 * expected, 0.25, D, R, P, s, lam) == 40 * expected
    assert _prox_newton._damping(8.0, 1.0, D, R, P, s, lam) == 2.0


def test_a_shortened_step_damps_the_next_models_and_the_fit_converges(sparse_problem,
                                                                       monkeypatch):
    """20 classes at C = 100 with the L1 term alone: the second step is
    shortened to 1/8, the next models are damped, and the fit ends at a
    point that satisfies the optimality conditions."""
    X, y = sparse_problem(n_samples=300, n_features=100, n_classes=20, density=0.1,
                          seed=3, values="normal", noise=0.5)
    cost = np.full(300, 100.0)
    damping = _prox_newton._damping
    seen = []

    def spy(mu, t, *args):
        seen.append((t, damping(mu, t, *args)))
        return seen[-1][1]

    monkeypatch.setattr(_prox_newton, "_damping", spy)
    W, n_iter, status, measure, threshold = _prox_newton.prox_newton(
        proved_csr(X), y, cost, 20, l1_ratio=1.0, bias=1.0, tol=1e-6, max_iter=100)
    assert status == 0 and measure <= threshold
    assert seen[1][0] < 1.0 and seen[1][1] > 0.0 and seen[2][1] > 0.0
    G, _ = ref.smooth_gradient(X.toarray(), y, cost, W, bias=1.0, l1_ratio=1.0)
    assert ref.min_norm_subgradient(G, W, 1.0).max() <= 1e-6 * cost.sum()


def test_cd_model_shrinks_and_restores():
    """A strong L1 term leaves most coordinates at zero; the shrunk set is
    confirmed by a full pass (the twin counts the same passes)."""
    X, y = _synthetic(d=30)
    n, d = X.shape
    s = np.full(n, 0.05)
    W = np.zeros((d + 1, 3))
    G, P = ref.smooth_gradient(X, y, s, W, bias=1.0, l1_ratio=1.0)
    active = np.arange(d + 1, dtype=np.intp)
    D, R = np.zeros_like(W), np.zeros((n, 3))
    kw = dict(bias=1.0, lam=0.0, l1=1.0, inner_tol=1e-10, max_pass=50)
    n_pass, status, _ = _prox_newton_fast.cd_model(proved_csr(sp.csr_matrix(X.T)), s, P,
                                                   G, W, D, R, active, **kw)
    D_ref, _, n_pass_ref = ref.cd_model(X, s, P, G, W, active, **kw)
    assert n_pass == n_pass_ref and status == 0
    np.testing.assert_allclose(D, D_ref, rtol=1e-9, atol=1e-13)
    assert np.count_nonzero(D[:-1]) < D[:-1].size // 2


@pytest.mark.parametrize("t", [1.0, 0.25, 40.0])
def test_loss_change_is_the_difference_of_losses(t):
    X, y = _synthetic()
    n, d = X.shape
    rng = np.random.RandomState(2)
    s = rng.uniform(0.5, 2.0, n)
    W = rng.normal(size=(d + 1, 3)) * 0.3
    D = rng.normal(size=(d + 1, 3)) * 0.1
    _, P = ref.smooth_gradient(X, y, s, W, bias=1.0, l1_ratio=1.0)
    T = ref.scores(X, D, 1.0)
    change = _prox_newton_fast.loss_change(P, y, s, T, t)
    F0 = ref.objective(X, y, s, W, bias=1.0, l1_ratio=0.0) - 0.5 * (W[:-1] ** 2).sum()
    W1 = W + t * D
    F1 = ref.objective(X, y, s, W1, bias=1.0, l1_ratio=0.0) - 0.5 * (W1[:-1] ** 2).sum()
    assert change == pytest.approx(F1 - F0, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("lam,l1", [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0), (0.9, 0.1)])
def test_shift_rows_minimises_each_row_penalty(lam, l1):
    rng = np.random.RandomState(3)
    W = rng.normal(size=(40, 5))
    W[::4] = 0.0
    W[1::4, :3] = 0.0
    W[2::4] += 3.0          # far from centred
    before = W.copy()
    _prox_newton_fast.shift_rows(W, 39, lam=lam, l1=l1)
    np.testing.assert_array_equal(W[39], before[39])   # the bias row is left alone
    np.testing.assert_array_equal(W[::4], 0.0)         # zero rows stay zero

    def pen(w, c):
        v = w - c
        return 0.5 * lam * (v ** 2).sum() + l1 * np.abs(v).sum()

    grid = np.linspace(-6, 9, 30001)
    for j in range(39):
        # The row moved along (1, ..., 1) only, to the best shift.
        shift = before[j] - W[j]
        np.testing.assert_allclose(shift, shift[0], atol=1e-12)
        v = before[j][None, :] - grid[:, None]
        best = (0.5 * lam * (v ** 2).sum(axis=1) + l1 * np.abs(v).sum(axis=1)).min()
        assert pen(W[j], 0.0) <= best + 1e-6
        assert pen(W[j], 0.0) <= pen(before[j], 0.0) + 1e-12


# ----------------------------------------------------------- the solver


@pytest.mark.parametrize("r", [1.0, 0.5])
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_objective_matches_saga_on_iris(iris, r, C):
    X, y = iris
    cost = np.full(len(y), C)
    coef, intercept, n_iter, converged = fit_multinomial_l1(X, y, cost, r, tol=1e-10,
                                                            max_iter=200)
    assert converged and n_iter < 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkLogisticRegression(solver="saga", C=C, l1_ratio=r, tol=1e-10,
                                  max_iter=100000).fit(X, y)
    ours = _F(X, y, cost, coef, intercept, r)
    theirs = _F(X, y, cost, sk.coef_, sk.intercept_, r)
    assert ours <= theirs * (1 + 1e-6)
    assert ours == pytest.approx(theirs, rel=1e-6)
    np.testing.assert_allclose(intercept.sum(), 0.0, atol=1e-10)


@pytest.mark.parametrize("r", [1.0, 0.5])
@pytest.mark.parametrize("C", [0.1, 3.0])
def test_optimality_conditions(r, C):
    """KKT: a zero weight has ``|g| <= r``, a nonzero one ``g = -r sign(w)``,
    the intercepts ``g = 0``, all within ``tol * sum(cost)``."""
    X, y = _synthetic(K=4, seed=5)
    rng = np.random.RandomState(0)
    cost = C * rng.uniform(0.2, 2.0, len(y))
    tol = 1e-8
    coef, intercept, _, converged = fit_multinomial_l1(X, y, cost, r, tol=tol,
                                                       max_iter=100)
    assert converged
    W = _W(coef, intercept)
    G, _ = ref.smooth_gradient(X, y, cost, W, bias=1.0, l1_ratio=r)
    V = ref.min_norm_subgradient(G, W, r)
    assert V.max() <= tol * cost.sum()
    zero = W[:-1] == 0
    assert zero.any() or r < 1
    assert np.all(np.abs(G[:-1][zero]) <= r + tol * cost.sum())
    nz = ~zero
    np.testing.assert_allclose(G[:-1][nz], -r * np.sign(W[:-1][nz]), atol=tol * cost.sum())
    np.testing.assert_allclose(G[-1], 0.0, atol=tol * cost.sum())


def test_sparse_dense_float32_and_one_hot_agree():
    X, y = _synthetic(K=4, seed=7)
    cost = np.full(len(y), 2.0)
    kw = dict(tol=1e-9, max_iter=100)
    dense = fit_multinomial_l1(X, y, cost, 0.7, **kw)
    sparse = fit_multinomial_l1(sp.csr_matrix(X), y, cost, 0.7, **kw)
    one_hot = fit_multinomial_l1(X, np.eye(4)[y], cost, 0.7, **kw)
    f32 = fit_multinomial_l1(X.astype(np.float32), y, cost, 0.7, **kw)
    f32_sparse = fit_multinomial_l1(sp.csc_matrix(X.astype(np.float32)), y, cost, 0.7, **kw)
    np.testing.assert_allclose(sparse[0], dense[0], atol=1e-9)
    np.testing.assert_array_equal(one_hot[0], dense[0])
    for res in (f32, f32_sparse):
        assert res[0].dtype == np.float32 and res[1].dtype == np.float32
        np.testing.assert_allclose(res[0], dense[0], atol=1e-4)
    assert dense[0].dtype == np.float64 and dense[0].shape == (4, X.shape[1])


def test_no_intercept_and_zero_costs():
    X, y = _synthetic(K=3, seed=9)
    cost = np.full(len(y), 1.0)
    cost[::3] = 0.0
    coef, intercept, _, converged = fit_multinomial_l1(X, y, cost, 1.0, fit_intercept=False,
                                                       tol=1e-9)
    assert converged
    np.testing.assert_array_equal(intercept, 0.0)
    keep = cost > 0
    coef2, _, _, _ = fit_multinomial_l1(X[keep], y[keep], cost[keep], 1.0,
                                        fit_intercept=False, tol=1e-9)
    np.testing.assert_allclose(coef, coef2, atol=1e-8)


@pytest.mark.parametrize("r", [1.0, 0.5])
def test_tiny_C_gives_the_intercept_only_optimum(r):
    """C * sum(s) near 1e-13: the optimum is W = 0 with the centred log class
    shares as intercepts.  The intercepts' curvature is below the kernel's
    floor there, and from a zero start they stayed at 0 (with a warning to
    raise max_iter); they now start at that optimum."""
    from fastlinear import LogisticRegression

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = np.array([0] * 40 + [1] * 15 + [2] * 5)
    prior = np.log(np.bincount(y) / 60.0)
    prior -= prior.mean()
    for C, sw in ((1e-14, None), (1e-4, np.full(60, 1e-10))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = LogisticRegression(C=C, l1_ratio=r).fit(X, y, sample_weight=sw)
        assert est.solver_ == "prox-newton"
        np.testing.assert_array_equal(est.coef_, 0.0)
        np.testing.assert_allclose(est.intercept_, prior, atol=1e-9)
    coef, intercept, _, converged = fit_multinomial_l1(X, y, np.full(60, 1e-14), r, tol=1e-4)
    assert converged
    np.testing.assert_allclose(intercept, prior, atol=1e-9)


def test_warm_start():
    X, y = _synthetic(K=3, seed=11)
    cost = np.full(len(y), 1.0)
    coef, intercept, n_iter, _ = fit_multinomial_l1(X, y, cost, 0.5, tol=1e-8)
    again = fit_multinomial_l1(X, y, cost, 0.5, tol=1e-8, coef_init=coef,
                               intercept_init=intercept)
    assert again[2] == 0 and again[3]
    np.testing.assert_array_equal(again[0], coef)
    # A nearby problem from the old solution: fewer steps than from zero.
    cost2 = np.full(len(y), 1.2)
    cold = fit_multinomial_l1(X, y, cost2, 0.5, tol=1e-8)
    warm = fit_multinomial_l1(X, y, cost2, 0.5, tol=1e-8, coef_init=coef,
                              intercept_init=intercept)
    assert warm[3] and warm[2] < cold[2]
    np.testing.assert_allclose(warm[0], cold[0], atol=1e-6)


def test_max_iter_warns():
    X, y = _synthetic(K=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        _, _, n_iter, converged = fit_multinomial_l1(X, y, np.full(len(y), 5.0), 1.0,
                                                     tol=1e-12, max_iter=2)
    assert n_iter == 2 and not converged


def test_caller_arrays_untouched():
    X, y = _synthetic(K=3)
    cost = np.full(len(y), 1.0)
    coef0 = np.full((3, X.shape[1]), 0.1)
    copies = [a.copy() for a in (X, y, cost, coef0)]
    fit_multinomial_l1(X, y, cost, 0.5, coef_init=coef0, tol=1e-6)
    for a, b in zip((X, y, cost, coef0), copies, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs,match", [
    (dict(l1_ratio=1.5), "l1_ratio must lie in"),
    (dict(cost=-1.0), "cost must hold"),
    (dict(y=np.arange(90) % 3 - 1), "y must lie in"),
    (dict(y=np.ones((90, 3))), "one-hot"),
    (dict(y=np.zeros(90)), "integer class indices"),
    (dict(coef_init=np.zeros((2, 12))), "coef_init must have shape"),
    (dict(tol=0.0), "tol > 0"),
])
def test_bad_input(kwargs, match):
    X, y = _synthetic()
    args = dict(y=y, cost=1.0, l1_ratio=1.0)
    args.update(kwargs)
    cost = np.broadcast_to(np.float64(args.pop("cost")), (90,)).copy()
    with pytest.raises(ValueError, match=match):
        fit_multinomial_l1(X, args.pop("y"), cost, args.pop("l1_ratio"), **args)


def test_kernel_refuses_unproved_and_bad_shapes():
    X, y = _synthetic()
    XT = proved_csr(sp.csr_matrix(X.T))
    n, d = X.shape
    W = np.zeros((d + 1, 3))
    P = np.full((n, 3), 1 / 3)
    kw = dict(bias=1.0, lam=0.0, l1=1.0, inner_tol=1e-6, max_pass=5)
    with pytest.raises(ValueError, match="G must have shape"):
        _prox_newton_fast.cd_model(XT, np.ones(n), P, np.zeros((d, 3)), W, W.copy(),
                                   np.zeros((n, 3)), np.arange(d, dtype=np.intp), **kw)
    with pytest.raises(ValueError, match="active must hold"):
        _prox_newton_fast.cd_model(XT, np.ones(n), P, W.copy(), W, W.copy(),
                                   np.zeros((n, 3)), np.array([d + 1], dtype=np.intp), **kw)


def test_logistic_regression_call_site(iris, monkeypatch):
    """The multinomial branch of LogisticRegression hands l1_ratio > 0 to
    proximal Newton (the penalty check is bypassed here: it belongs to the
    estimator's parameter handling)."""
    from fastlinear import LogisticRegression

    monkeypatch.setattr(LogisticRegression, "_check_penalty", lambda self: None)
    X, y = iris
    est = LogisticRegression(C=0.5, l1_ratio=0.5, tol=1e-10, max_iter=200).fit(X, y)
    coef, intercept, _, _ = fit_multinomial_l1(X, y, np.full(len(y), 0.5), 0.5, tol=1e-10,
                                               max_iter=200)
    assert est.solver_ == "prox-newton"
    np.testing.assert_allclose(est.coef_, coef, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, intercept, atol=1e-8)


def test_the_gradient_test_waits_for_the_estimated_gap(rare_features, monkeypatch):
    """The largest subgradient entry meets tol on rare features far from the
    optimum (here after 7 steps, 0.22 above it, with the estimate switched
    off); the summed coordinate models' decrease keeps the fit going (9
    steps, 3.3e-2 above), and at its end that sum, recomputed from the
    definition in NumPy, is at most tol times the summed costs."""
    X, y = rare_features(n=300, d=2000, per_row=20, n_classes=3, seed=1)
    C, tol, r = 3000.0, 1e-4, 1.0
    cost = np.full(X.shape[0], C)

    def objective(coef, intercept):
        Z = X @ coef.T + intercept
        top = Z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z - top).sum(axis=1)) + top[:, 0]
        return C * np.sum(lse - Z[np.arange(len(y)), y]) + r * np.abs(coef).sum()

    best = objective(*fit_multinomial_l1(X, y, cost, r, tol=1e-10, max_iter=500)[:2])
    with monkeypatch.context() as patch:
        patch.setattr(_prox_newton, "_decrement", lambda *args: 0.0)
        coef0, b0, steps0, _ = fit_multinomial_l1(X, y, cost, r, tol=tol)
    coef, b, steps, converged = fit_multinomial_l1(X, y, cost, r, tol=tol)
    gap0, gap = objective(coef0, b0) / best - 1, objective(coef, b) / best - 1
    assert converged and steps > steps0
    assert gap0 > 0.1 and gap < gap0 / 5
    # The estimate from its definition: each coordinate's soft-thresholded
    # Newton step on the diagonal of the Hessian (the new weight u =
    # S(w - g/h, l1/h)), and the decrease it promises.
    Z = X @ coef.T + b
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.eye(3)[y]
    G = np.vstack([X.T @ (C * (P - Y)), C * (P - Y).sum(axis=0)])
    curv = C * P * (1 - P)
    H = np.vstack([X.multiply(X).T @ curv, curv.sum(axis=0)])
    W = np.vstack([coef.T, b])
    l1 = np.vstack([np.full(coef.T.shape, r), np.zeros((1, 3))])
    curved = H > 0                       # (features in no row have G = 0)
    G, H, W, l1 = G[curved], H[curved], W[curved], l1[curved]
    a = W - G / H
    u = np.sign(a) * np.maximum(np.abs(a) - l1 / H, 0.0)
    step = u - W
    total = -np.sum(G * step + 0.5 * H * step ** 2 + l1 * (np.abs(u) - np.abs(W)))
    assert 0 < total <= tol * cost.sum()
