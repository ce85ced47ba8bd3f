"""Shared fixtures: data sets, problem generators, the NumPy twins, BLAS threads.

Test modules get everything shared through these fixtures (never by
importing this file).  The larger LIBSVM sets live outside the package, in
``$FASTLINEAR_DATA`` (default: ``shared/data`` beside the checkout); a test
that needs a missing one is skipped with a message saying where it looked.
"""
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from fastlinear._validation import proved_csr
from fastlinear.datasets import load_a9a, load_libsvm

import _reference

DATA_ENV = "FASTLINEAR_DATA"


def shared_data_dir():
    """``$FASTLINEAR_DATA``, else the ``shared/data`` folder beside the checkout."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    here = Path(__file__).resolve().parent.parent
    return here.parent / "shared" / "data"


@pytest.fixture(scope="session")
def a9a():
    """(X_train, y_train, X_test, y_test) of the bundled a9a."""
    return load_a9a()


@pytest.fixture(scope="session")
def a9a_ones(a9a):
    """``head(n, dtype, index, transposed=False)``: the first ``n`` rows of a9a
    (every value 1) as ``(proof, y in {-1, +1})``, with the given value and
    index types; the proof is of X, or of X.T in CSR form (``transposed``)."""
    def head(n, dtype=np.float64, index=np.int32, transposed=False):
        X = sp.csr_matrix(a9a[0][:n], dtype=dtype)
        if transposed:
            X = X.T.tocsr()
        X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
        P = proved_csr(X)
        assert P.ones
        return P, np.where(a9a[1][:n] > 0, 1.0, -1.0)
    return head


@pytest.fixture(scope="session")
def shared_libsvm():
    """``load(name, n_features=None, dtype=float64)``: a LIBSVM set of the
    shared data folder as ``(X, y)``, or a skip saying where it was looked for."""

    def load(name, n_features=None, dtype=np.float64):
        path = shared_data_dir() / name
        if not path.exists():
            pytest.skip(
                f"{name} not found in {shared_data_dir()} (set {DATA_ENV} to the "
                "folder holding the LIBSVM .bz2 files)"
            )
        return load_libsvm(path, n_features=n_features, dtype=dtype)

    return load


def _sparse_problem(n_samples=600, n_features=300, n_classes=2, density=0.05,
                    seed=0, values="exponential", noise=0.3, unit_rows=False):
    """A synthetic sparse, text-like problem with a planted linear model.

    ``values``: "exponential" (nonnegative, text-like), "uniform" (in [0, 1))
    or "normal" (signed).  ``unit_rows`` scales every nonempty row to unit
    norm.  Labels: the argmax of ``X W + noise * N(0, 1)`` (more than two
    classes), or the sign of its first column about the median.
    """
    rng = np.random.RandomState(seed)
    X = sp.random(n_samples, n_features, density=density, format="csr", random_state=rng)
    draw = {"exponential": rng.exponential, "uniform": rng.uniform,
            "normal": rng.standard_normal}[values]
    X.data = draw(size=X.data.shape[0])
    if unit_rows:
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        X = sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ X)
    W = rng.randn(n_features, n_classes)
    scores = X @ W + noise * rng.randn(n_samples, n_classes)
    if n_classes > 2:
        y = scores.argmax(axis=1)
    else:
        y = (scores[:, 0] > np.median(scores[:, 0])).astype(int)
    return X, y


def _rare_features(n=500, d=5000, per_row=40, n_classes=2, seed=1):
    """Text-like rows: feature j drawn with probability ~ 1 / j^1.1 (most
    features in a handful of rows), rows of unit norm; labels of a planted
    model with noise, 0 .. n_classes - 1."""
    rng = np.random.RandomState(seed)
    p = 1.0 / np.arange(1, d + 1) ** 1.1
    rows = [np.unique(rng.choice(d, per_row, p=p / p.sum())) for _ in range(n)]
    indptr = np.r_[0, np.cumsum([r.size for r in rows])]
    indices = np.concatenate(rows)
    X = sp.csr_matrix((rng.rand(indices.size) + 0.5, indices, indptr), shape=(n, d))
    X = (sp.diags(1.0 / np.sqrt(X.multiply(X).sum(axis=1).A1)) @ X).tocsr()
    W = rng.randn(d, n_classes)
    y = np.argmax(X @ W + 0.3 * rng.randn(n, n_classes), axis=1)
    return X, y.astype(np.int32)


@pytest.fixture(scope="session")
def rare_features():
    """The generator of text-like problems with mostly rare features (see
    ``_rare_features``): where scikit-learn's gradient test passes far from
    the optimum at large C."""
    return _rare_features


@pytest.fixture(scope="session")
def sparse_problem():
    """The generator of synthetic sparse classification problems (see ``_sparse_problem``)."""
    return _sparse_problem


@pytest.fixture(scope="session")
def sparse_regression():
    """``make(n_samples, n_features, density, seed, noise)``: sparse X, real y
    from a planted linear model plus Gaussian noise, and the model."""

    def make(n_samples=500, n_features=200, density=0.05, seed=0, noise=0.1):
        rng = np.random.RandomState(seed)
        X = sp.random(n_samples, n_features, density=density, format="csr",
                      random_state=rng)
        X.data = rng.standard_normal(X.data.shape[0])
        w = rng.randn(n_features)
        y = X @ w + 0.5 + noise * rng.randn(n_samples)
        return X, y, w

    return make


@pytest.fixture(scope="session")
def xorshift():
    """The Python twin of the kernels' random generator (``src_c/_random.pxd``)."""
    return _reference.XorShift


@pytest.fixture(scope="session")
def reference_dcd():
    """The NumPy twin of the dual coordinate descent kernel."""
    return _reference.reference_dcd


@pytest.fixture(scope="session")
def reference_newton():
    """The NumPy twin of the primal Newton kernel."""
    return _reference.reference_newton


@pytest.fixture
def one_blas_thread():
    """One BLAS thread: lbfgs and LAPACK oversubscribe the shared cores otherwise."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
