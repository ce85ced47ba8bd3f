"""pytest-benchmark suite for LinearSVC: the cases of ``bench/report.py``.

Run::

    pytest bench/ --benchmark-only                      # all workloads (~10 min)
    pytest bench/ --benchmark-only -k "a9a or w8a"      # the small ones
    pytest bench/ --benchmark-only --benchmark-json out.json

Groups are workloads; each case is (loss, tol, solver) at the workload's C.
Every case records, in ``benchmark.extra_info``, the primal objective, the
relative gap to sklearn's objective on the same case (sklearn runs first in
each case, so the gap is there whenever its case ran), the test accuracy,
the iteration count and the thread count (the rule: compare at equal
quality, not at equal max_iter).  The report, not this suite, gives the
side-by-side ratios (alternating runs in one process); pytest-benchmark runs
cases one after the other, so its ratios are more exposed to the load of the
machine.  Workloads whose data are absent are skipped with the reason.
"""
import numpy as np
import pytest

import report
import workloads as wl

#: Big workloads get one timed round per case (the suite must stay ~10 min).
ROUNDS = {"a9a": 3, "w8a": 3, "news20": 1, "imdb": 1, "synthetic": 1}
SOLVERS = ["sklearn", "fastlinear", "fastlinear_2t", "liblinear", "snapml"]
THREADS = {"fastlinear_2t": 2, "snapml_2t": 2}

_SKLEARN_OBJECTIVE = {}


def _data(name):
    try:
        return wl.load_workload(name)
    except wl.DataUnavailable as exc:
        pytest.skip(f"{name}: {exc}")


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("tol", report.TOLS, ids=lambda t: f"tol={t:g}")
@pytest.mark.parametrize("loss", report.LOSSES)
@pytest.mark.parametrize("workload", list(wl.WORKLOADS))
def test_fit(benchmark, workload, loss, tol, solver):
    if not report.available(solver):
        pytest.skip(f"{solver} is not installed")
    X, y, X_test, y_test = _data(workload)
    C = wl.DEFAULT_C[workload]
    prep = report.Prepared(solver, X, y)
    benchmark.group = workload
    result = benchmark.pedantic(report.fit, args=(solver, prep, loss, C, tol),
                                rounds=ROUNDS.get(workload, 1), iterations=1, warmup_rounds=0)
    W, b, n_iter, _ = result
    obj = report.objective(W, b, X, y, C, loss, prep.classes)
    key = (workload, loss, tol)
    if solver == "sklearn":
        _SKLEARN_OBJECTIVE[key] = obj
    info = dict(workload=workload, loss=loss, tol=tol, C=C, solver=solver,
                threads=THREADS.get(solver, 1), objective=obj,
                accuracy=report.accuracy(W, b, X_test, y_test, prep.classes),
                n_iter=None if n_iter is None else int(n_iter),
                shape=list(X.shape), nnz=int(X.nnz), seed=report.SEED)
    if key in _SKLEARN_OBJECTIVE:
        ref = _SKLEARN_OBJECTIVE[key]
        info["gap_vs_sklearn"] = (obj - ref) / abs(ref)
    benchmark.extra_info.update(info)
    assert np.isfinite(obj)
