"""fastlinear.dask.LinearSVC: CoCoA+ on a LocalCluster of 2 worker processes.

Correctness three ways: (1) one block and one round is the single-machine
fit bit for bit; (2) the objective of the single-machine solver is reached
within 1e-3 relative on 1-8 blocks, and the reported primal objective and
duality gap are checked against values computed here on the in-memory data;
(3) the dual objective never decreases from round to round (CoCoA+ with
sigma' = K is monotone).  Plus: a worker killed during fit gives the same
model, lost scattered blocks give a clear error, lazy prediction, bad input.
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import fastlinear  # noqa: E402
from fastlinear import linear_svc_objective  # noqa: E402
from fastlinear.dask import LinearSVC  # noqa: E402


@pytest.fixture(scope="module")
def make_data(sparse_problem):
    """Sparse rows of unit norm with signed entries, labels from a planted model."""

    def make(n=1200, d=300, n_classes=2, seed=0):
        return sparse_problem(n_samples=n, n_features=d, n_classes=n_classes,
                              density=0.03, seed=seed, values="normal", unit_rows=True)

    return make


def as_dask(X, y, n_blocks):
    rows = -(-X.shape[0] // n_blocks)
    return (da.from_array(X, chunks=(rows, X.shape[1]), asarray=False),
            da.from_array(y, chunks=rows))


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def binary(make_data):
    X, y = make_data()
    ref = fastlinear.LinearSVC(C=0.1, tol=1e-8, max_iter=100000, random_state=0).fit(X, y)
    return X, y, linear_svc_objective(ref, X, y)[0]


@pytest.fixture(scope="module")
def binary_no_intercept(binary):
    X, y, _ = binary
    ref = fastlinear.LinearSVC(C=0.1, tol=1e-8, max_iter=100000, fit_intercept=False,
                               random_state=0).fit(X, y)
    return X, y, linear_svc_objective(ref, X, y)[0]


@pytest.mark.parametrize("n_blocks", [1, 2, 5, 8])
def test_reaches_single_machine_objective(client, binary_no_intercept, n_blocks):
    X, y, p_ref = binary_no_intercept
    Xd, yd = as_dask(X, y, n_blocks)
    est = LinearSVC(C=0.1, tol=1e-3, max_rounds=100, fit_intercept=False,
                    random_state=0).fit(Xd, yd)
    assert est.n_blocks_ == n_blocks
    p = linear_svc_objective(est, X, y)[0]
    # The reported objective is the primal objective of the returned model.
    np.testing.assert_allclose(est.objective_[0], p, rtol=1e-10)
    # The gap is a certificate: the model is within gap of the optimum, and
    # that is within tol of the single-machine objective.
    assert est.duality_gap_[0] <= 1e-3
    assert p - p_ref <= est.duality_gap_[0] * p + 1e-9 * p_ref
    assert p <= p_ref * (1 + 1e-3)
    assert p >= p_ref * (1 - 1e-6)
    assert est.n_iter_ == len(est.history_) - 1
    # Dual objective never decreases (CoCoA+ with adding and sigma' = K).
    dual = np.array([h["dual"] for h in est.history_])
    assert np.all(np.diff(dual) >= -1e-9 * abs(p_ref))
    # Traffic: w out and Delta w back per block, plus scalars.
    if est.n_iter_ > 0:
        assert est.history_[0]["bytes"] >= 2 * n_blocks * 8 * (X.shape[1] + 1)
        assert est.history_[0]["bytes"] < 2 * n_blocks * 8 * (X.shape[1] + 1) + 1000


def test_with_intercept_objective_within_1e3(client, binary):
    """The intercept is a direction shared by every block: the gap closes
    slowly (see the module notes), but the primal objective gets within 1e-3
    of the single-machine one in a few rounds, and the gap still bounds it."""
    X, y, p_ref = binary
    Xd, yd = as_dask(X, y, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearSVC(C=0.1, tol=1e-3, max_rounds=25, random_state=0).fit(Xd, yd)
    p = linear_svc_objective(est, X, y)[0]
    np.testing.assert_allclose(est.objective_[0], p, rtol=1e-10)
    assert p <= p_ref * (1 + 1e-3)
    assert p - p_ref <= est.duality_gap_[0] * p + 1e-9 * p_ref
    dual = np.array([h["dual"] for h in est.history_])
    assert np.all(np.diff(dual) >= -1e-9 * abs(p_ref))


def _worker_bytes(client):
    sent = client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
    return sum(sent.values())


def test_only_w_and_delta_w_travel(client):
    """Per round, the workers exchange w and Delta w, never the dual
    variables (here 2,000 per block, 16 kB) nor the data."""
    rng = np.random.RandomState(0)
    X = sp.random(8000, 20, density=0.3, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    y = (X @ rng.standard_normal(20) > 0).astype(int)
    Xd, yd = as_dask(X, y, 4)
    sent = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearSVC(C=0.1, tol=1e-12, max_rounds=6, fit_intercept=False, random_state=0,
                        callback=lambda record: sent.append(_worker_bytes(client))).fit(Xd, yd)
    counted = est.history_[1]["bytes"]
    assert counted == 2 * 4 * 8 * 21 + 4 * 16 + 8
    # Round 0 may place blocks (Dask balancing the workers); later rounds
    # move w, Delta w and Dask's messages only.
    per_round = np.diff(sent)
    assert np.all(per_round < counted + 6000), per_round


def test_one_block_one_round_is_single_machine(client, binary):
    """CoCoA+ on one block (sigma' = 1) is dual coordinate descent itself."""
    X, y, _ = binary
    Xd, yd = as_dask(X, y, 1)
    for loss in ("hinge", "squared_hinge"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = LinearSVC(C=0.1, loss=loss, tol=1e-12, max_rounds=1, local_passes=3,
                            random_state=7).fit(Xd, yd)
            ref = fastlinear.LinearSVC(C=0.1, loss=loss, tol=1e-12, max_iter=3,
                                       random_state=7).fit(X, y)
        np.testing.assert_array_equal(est.coef_, ref.coef_)
        np.testing.assert_array_equal(est.intercept_, ref.intercept_)
        assert est.n_iter_ == 1


def test_multiclass_one_vs_rest_and_lazy_predict(client, make_data):
    X, y = make_data(n=900, d=200, n_classes=3, seed=1)
    labels = np.array(["ant", "bee", "cat"])[y]
    ref = fastlinear.LinearSVC(C=0.1, loss="hinge", tol=1e-8, max_iter=100000,
                               random_state=0).fit(X, labels)
    p_ref = linear_svc_objective(ref, X, labels)
    Xd, yd = as_dask(X, labels, 3)
    est = LinearSVC(C=0.1, loss="hinge", tol=1e-3, max_rounds=200, random_state=0).fit(Xd, yd)
    np.testing.assert_array_equal(est.classes_, ["ant", "bee", "cat"])
    assert est.coef_.shape == (3, 200)
    p = linear_svc_objective(est, X, labels)
    np.testing.assert_allclose(est.objective_, p, rtol=1e-10)
    assert np.all(p <= p_ref * (1 + 1e-3))
    assert np.all(est.duality_gap_ <= 1e-3)

    scores = est.decision_function(Xd)
    pred = est.predict(Xd)
    assert isinstance(scores, da.Array) and isinstance(pred, da.Array)
    assert scores.shape == (900, 3) and pred.shape == (900,)
    np.testing.assert_allclose(scores.compute(), est.decision_function(X), rtol=1e-12)
    np.testing.assert_array_equal(pred.compute(), est.predict(X))
    assert np.mean(est.predict(X) == ref.predict(X)) > 0.97


def test_binary_lazy_predict_float32(client, binary):
    X, y, _ = binary
    X32 = X.astype(np.float32)
    Xd, yd = as_dask(X32, y, 2)
    est = LinearSVC(C=0.1, random_state=0).fit(Xd, yd)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    scores = est.decision_function(Xd)
    assert scores.shape == (X.shape[0],)
    np.testing.assert_allclose(scores.compute(), est.decision_function(X32), rtol=1e-5)
    np.testing.assert_array_equal(est.predict(Xd).compute(), est.predict(X32))
    assert est.score(X32, y) > 0.8


def test_list_of_delayed_or_futures_gives_same_model(client, binary):
    X, y, _ = binary
    bounds = [0, 300, 700, 1200]
    xs = [X[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    ys = [y[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    params = dict(C=0.1, tol=1e-3, max_rounds=100, random_state=3)
    a = LinearSVC(**params).fit([dask.delayed(b) for b in xs], [dask.delayed(b) for b in ys])
    b = LinearSVC(**params).fit(client.scatter(xs), y)  # y split by the blocks' rows
    c = LinearSVC(**params).fit(da.concatenate([da.from_array(b, asarray=False) for b in xs]),
                                da.from_array(y, chunks=100))  # y rechunked to X
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.coef_, c.coef_)
    assert a.n_iter_ == b.n_iter_ == c.n_iter_


async def _die():
    os._exit(1)


def _kill_workers_at(client, round_, which):
    def callback(record):
        if record["round"] == round_:
            workers = sorted(client.scheduler_info()["workers"])
            client.run(_die, workers=workers[:1] if which == "one" else workers, wait=False)
    return callback


def test_worker_killed_during_fit_gives_the_same_model(client, binary):
    """Dask recomputes the lost rounds from lineage; the tasks are deterministic."""
    X, y, _ = binary
    client.wait_for_workers(2, timeout=60)
    Xd, yd = as_dask(X, y, 4)
    params = dict(C=0.1, tol=1e-4, max_rounds=12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = LinearSVC(**params).fit(Xd, yd)
        killed = LinearSVC(callback=_kill_workers_at(client, 4, "one"), **params).fit(Xd, yd)
    client.wait_for_workers(2, timeout=60)
    np.testing.assert_array_equal(killed.coef_, plain.coef_)
    np.testing.assert_array_equal(killed.intercept_, plain.intercept_)
    assert [h["gap"] for h in killed.history_] == [h["gap"] for h in plain.history_]


def test_lost_scattered_blocks_recover_or_raise_a_clear_error(client, binary):
    """Scattered blocks have no lineage.  When the worker holding them dies,
    the fit either still has every block (Dask had copied them) and returns
    the model of a fit without failure, or raises a clear error: never a
    silently different model."""
    X, y, _ = binary
    client.wait_for_workers(2, timeout=120)
    w0 = sorted(client.scheduler_info()["workers"])[0]
    xs = client.scatter([X[i:i + 300] for i in range(0, 1200, 300)], workers=[w0])
    ys = client.scatter([y[i:i + 300] for i in range(0, 1200, 300)], workers=[w0])
    params = dict(C=0.1, tol=1e-6, max_rounds=8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = LinearSVC(**params).fit(xs, ys)

        def callback(record):
            if record["round"] == 2:
                client.run(_die, workers=[w0], wait=False)

        est = LinearSVC(callback=callback, **params)
        try:
            est.fit(xs, ys)
        except RuntimeError as exc:
            assert "Dask lost results it could not recompute" in str(exc)
            assert not hasattr(est, "coef_")
        else:
            np.testing.assert_array_equal(est.coef_, plain.coef_)
    client.wait_for_workers(2, timeout=120)


def test_max_rounds_warns(client, binary):
    X, y, _ = binary
    Xd, yd = as_dask(X, y, 4)
    with pytest.warns(ConvergenceWarning, match="did not converge.*max_rounds=2"):
        est = LinearSVC(C=0.1, tol=1e-8, max_rounds=2, random_state=0).fit(Xd, yd)
    assert est.n_iter_ == 2 and len(est.history_) == 3
    assert est.duality_gap_[0] > 1e-8


def test_bad_input(client, binary):
    X, y, _ = binary
    Xd, yd = as_dask(X, y, 2)
    with pytest.raises(ValueError, match="The 'C' parameter of LinearSVC must be"):
        LinearSVC(C=-1.0).fit(Xd, yd)
    with pytest.raises(ValueError, match="one chunk along the features"):
        LinearSVC().fit(da.from_array(X, chunks=(600, 150), asarray=False), yd)
    with pytest.raises(ValueError, match="X has 2 blocks but y has 3"):
        LinearSVC().fit([dask.delayed(X[:600]), dask.delayed(X[600:])],
                        [dask.delayed(y[:400]), dask.delayed(y[400:800]), dask.delayed(y[800:])])
    with pytest.raises(ValueError, match="block 1.*same row blocks"):
        LinearSVC().fit([dask.delayed(X[:600]), dask.delayed(X[600:])],
                        [dask.delayed(y[:600]), dask.delayed(y[600:1100])])
    with pytest.raises(ValueError, match="only one class"):
        LinearSVC().fit(Xd, da.zeros(X.shape[0], chunks=600))
    with pytest.raises(ValueError, match="different numbers of features"):
        LinearSVC().fit([dask.delayed(X[:600]), dask.delayed(X[600:, :100])], y)
    with pytest.raises(TypeError, match="Dask array of CSR row blocks"):
        LinearSVC().fit(X, y)
    bad = X[:600].copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LinearSVC().fit([dask.delayed(bad), dask.delayed(X[600:])], y)
    est = LinearSVC(C=0.1, random_state=0).fit(Xd, yd)
    with pytest.raises(ValueError, match="fitted on 300 features"):
        est.predict(da.from_array(X[:, :10], chunks=(600, 10), asarray=False))


def test_importing_fastlinear_does_not_import_dask():
    code = "import sys, fastlinear; assert 'dask' not in sys.modules and 'distributed' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clone_hands_the_client_on(client, binary):
    """clone (GridSearchCV, cross_val_score) deep-copied the client parameter
    and failed: 'cannot pickle _asyncio.Future'."""
    from sklearn.base import clone

    est = LinearSVC(C=0.1, client=client, max_rounds=3, callback=None)
    twin = clone(est)
    assert twin is not est and twin.client is client
    assert twin.get_params() == est.get_params()
    X, y, _ = binary
    Xd, yd = as_dask(X, y, 2)
    fitted = twin.fit(Xd, yd)
    assert fitted.coef_.shape == (1, X.shape[1]) and not hasattr(est, "coef_")
