"""Tests of the frozen PASSCoDe-Wild kernel (``bench/passcode/_passcode.pyx``).

Build it first: ``python bench/passcode/build.py``; then ``pytest
bench/passcode``.  These tests are not part of fastlinear's suite: the
estimators do not use this kernel.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from fastlinear import LinearSVC, linear_svc_objective

sys.path.insert(0, str(Path(__file__).resolve().parent))
_passcode = pytest.importorskip(
    "_passcode", reason="build it first: python bench/passcode/build.py")
dual_cd_csr = _passcode.dual_cd_csr


def sparse_problem(n_samples, n_features, density=0.05, seed=0):
    """The text-like planted problem of fastlinear's tests (tests/conftest.py)."""
    rng = np.random.RandomState(seed)
    X = sp.random(n_samples, n_features, density=density, format="csr", random_state=rng)
    X.data = rng.exponential(size=X.data.shape[0])
    W = rng.randn(n_features, 2)
    scores = X @ W + 0.3 * rng.randn(n_samples, 2)
    return X, (scores[:, 0] > np.median(scores[:, 0])).astype(int)


@pytest.mark.parametrize("loss, loss_code", [("squared_hinge", 2), ("hinge", 1)])
@pytest.mark.parametrize("shrinking", [True, False])
def test_parallel_solver_meets_the_serial_stopping_rule(loss, loss_code, shrinking):
    X, y = sparse_problem(n_samples=4000, n_features=800, density=0.02, seed=23)
    y_pm = np.where(y == 1, 1.0, -1.0)
    n, d = X.shape
    C, tol = 0.5, 1e-4
    serial = LinearSVC(C=C, loss=loss, tol=tol, max_iter=20000, shrinking=shrinking,
                       random_state=0).fit(X, y)
    w, alpha = np.zeros(d + 1), np.zeros(n)
    n_iter, _ = dual_cd_csr(X.data, X.indices, X.indptr, y_pm, np.full(n, C), w, alpha,
                            loss_code, 1.0, tol, 20000, 0, shrinking, 0, 2)
    assert n_iter < 20000
    # Same optimum: the primal objective agrees far below the 1e-3 parity bar.
    margins = np.maximum(0.0, 1.0 - y_pm * (X @ w[:-1] + w[-1]))
    primal = 0.5 * (w @ w) + C * np.sum(margins ** (2 if loss == "squared_hinge" else 1))
    np.testing.assert_allclose(primal, linear_svc_objective(serial, X, y)[0], rtol=1e-5)
    # Optimality by its own conditions, recomputed from the returned solution:
    # w is exactly sum_i y_i alpha_i x_i (no drift left from lock-free passes)
    # and the projected-gradient spread meets tol.
    np.testing.assert_allclose(X.T @ (y_pm * alpha), w[:-1], atol=1e-9)
    np.testing.assert_allclose(np.sum(y_pm * alpha), w[-1], atol=1e-9)
    diag = 0.0 if loss == "hinge" else 0.5 / C
    upper = C if loss == "hinge" else np.inf
    G = y_pm * (X @ w[:-1] + w[-1]) - 1.0 + diag * alpha
    PG = np.where(alpha <= 0, np.minimum(G, 0), np.where(alpha >= upper, np.maximum(G, 0), G))
    assert PG.max() - PG.min() <= 10 * tol


def test_parallel_kernel_threads_and_determinism_rules():
    """n_threads=1 is bit-for-bit reproducible; n_threads>1 is not promised to be."""
    X, y = sparse_problem(n_samples=3000, n_features=500, seed=24)
    y_pm = np.where(y == 1, 1.0, -1.0)
    n, d = X.shape

    def run(n_threads):
        w, alpha = np.zeros(d + 1), np.zeros(n)
        it, _ = dual_cd_csr(X.data, X.indices, X.indptr, y_pm, np.full(n, 0.3), w, alpha,
                            2, 1.0, 1e-5, 5000, 7, True, 0, n_threads)
        return w, alpha, it

    w1, a1, _ = run(1)
    w1b, a1b, _ = run(1)
    np.testing.assert_array_equal(w1, w1b)
    np.testing.assert_array_equal(a1, a1b)
    w2, a2, it2 = run(2)
    assert it2 < 5000
    np.testing.assert_allclose(w2, w1, atol=1e-3)
