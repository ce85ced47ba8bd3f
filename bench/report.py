"""Speed report for LinearSVC: fastlinear vs scikit-learn, liblinear and Snap ML.

Usage::

    python bench/report.py                       # full report, about an hour on 2 cores
    python bench/report.py --quick               # smoke test, a few minutes
    python bench/report.py --workloads a9a,w8a   # a subset
    python bench/report.py --sections main,svr   # some sections (see --help)
    python bench/report.py --out /tmp/rep        # elsewhere than bench/results
    python bench/report.py --replot --out DIR    # REPORT.md and PNGs again from DIR/report.json

It writes ``REPORT.md`` and PNG plots into ``bench/results/`` (or ``--out``),
plus ``report.json`` with every raw number.  The per-solver tables (defaults,
primal, L1, Crammer-Singer, LinearSVR) are in ``bench/solver_tables.py``.

How it measures (the rule: equal quality, not equal max_iter):

1. Every library solves the same problem: L2-regularised hinge or squared
   hinge, the same C, an intercept that is the weight of a constant feature of
   value 1 and is regularised with the other weights (liblinear ``-B 1``,
   sklearn ``intercept_scaling=1``, Snap ML ``fit_intercept=True``, which
   appends the same constant feature: checked, see the report).  Snap ML's
   ``regularizer`` is the inverse of C (``regularizer = 1 / C``: checked on
   a9a, where ``regularizer=C`` solves another problem).
2. The primal objective ``1/2 ||w||^2 + 1/2 b^2 + C sum_i loss_i`` is computed
   the same way for every library from its coefficients (and checked against
   ``fastlinear.linear_svc_objective`` for fastlinear and sklearn); for one-vs-
   rest it is the sum over the binary problems.
3. Timings are end-to-end ``fit`` calls.  Data preparation a library needs
   once (int32 indices for sklearn, liblinear's ``problem`` object) is done
   outside the timer.  Runs alternate (fastlinear, sklearn, ..., fastlinear,
   sklearn, ...) and the reported time is the median over the repeats; ratios
   are ratios of these medians, measured side by side in one process.
4. A speed-up counts only if fastlinear's objective is no worse than sklearn's
   by more than 1e-4 relative (column "gap").
5. Round ``r`` fits with ``random_state=r`` wherever a library takes one
   (liblinear-official seeds itself): one seed is one draw of the coordinate
   order, and the pass counts of one draw spread by -20 % to +15 % around
   the median (``bench/cd_passes.py``).  The objective and the iteration
   count reported are the medians over the rounds; the test accuracy is the
   last round's.
"""
import argparse
import datetime
import gc
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import workloads as wl  # noqa: E402
from workloads import hardware, machine_info  # noqa: E402

LOSSES = ("squared_hinge", "hinge")
TOLS = (1e-4, 0.1)
SWEEP_TOLS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
GAP_LIMIT = 1e-4
GAP_TEXT = "1e-4"
SEED = 0

# --------------------------------------------------------------------------
# Solvers: prepare once (outside the timer), fit (timed), read coefficients
# --------------------------------------------------------------------------
#: name -> human label
SOLVERS = {
    "fastlinear": "fastlinear",
    "fastlinear_2t": "fastlinear n_jobs=2",
    "sklearn": "sklearn",
    "liblinear": "liblinear-official",
    "snapml": "Snap ML",
    "snapml_2t": "Snap ML n_jobs=2",
}
#: Labels of the memory table's entries.
MEMORY_LIBS = {
    "fastlinear": "fastlinear (dual=\"auto\")",
    "fastlinear_primal": "fastlinear dual=False (Newton)",
    "sklearn": "sklearn (dual CD)",
    "sklearn_primal": "sklearn dual=False (Newton)",
    "snapml": "Snap ML",
}


def available(name):
    """Whether the library behind a solver can be imported."""
    try:
        if name.startswith("snapml"):
            import snapml  # noqa: F401
        elif name == "liblinear":
            import liblinear.liblinearutil  # noqa: F401
        return True
    except ImportError:
        return False


class Prepared:
    """Data as one library takes it (built once, outside every timer)."""

    def __init__(self, name, X, y):
        self.name, self.X, self.y = name, X, y
        self.classes = np.unique(y)
        if name == "liblinear":
            from liblinear.liblinearutil import problem

            # liblinear copies X into its own node arrays here, not in train().
            self.problem = problem(np.asarray(y, dtype=np.float64), X)


def fit(name, prep, loss, C, tol, max_iter=1000, seed=SEED):
    """Fit one solver; returns (W of shape (n_problems, n_features), b, n_iter).

    ``W``/``b`` follow the problem order of ``prep.classes``: one problem for
    two classes (positive class = ``classes[1]``), else one per class.
    """
    X, y = prep.X, prep.y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name.startswith("fastlinear"):
            from fastlinear import LinearSVC

            # The same solver as the others (dual coordinate descent): the
            # defaults table compares dual="auto" with scikit-learn's default.
            est = LinearSVC(C=C, loss=loss, dual=True, tol=tol, max_iter=max_iter,
                            random_state=seed, n_jobs=2 if name.endswith("2t") else None)
            est.fit(X, y)
            return est.coef_, est.intercept_, est.n_iter_, est
        if name == "sklearn":
            from sklearn.svm import LinearSVC

            est = LinearSVC(C=C, loss=loss, tol=tol, max_iter=max_iter, dual=True,
                            random_state=seed)
            est.fit(X, y)
            return est.coef_, est.intercept_, int(np.max(est.n_iter_)), est
        if name == "liblinear":
            from liblinear.liblinearutil import parameter, train

            solver = 3 if loss == "hinge" else 1
            param = parameter(f"-s {solver} -c {C!r} -e {tol!r} -B 1 -q")
            model = train(prep.problem, param)
            return _liblinear_coef(model, prep.classes, X.shape[1]) + (None, model)
        if name.startswith("snapml"):
            from snapml import SupportVectorMachine

            est = SupportVectorMachine(loss=loss, regularizer=1.0 / C, fit_intercept=True,
                                       intercept_scaling=1.0, tol=tol, max_iter=max_iter,
                                       n_jobs=2 if name.endswith("2t") else 1,
                                       random_state=seed)
            est.fit(X, y)
            coef = np.asarray(est.coef_, dtype=np.float64)
            # coef_ is documented as (n_features, n_classes); 1.17 returns
            # (n_classes, n_features) for multiclass and (1, n_features) for binary.
            coef = coef.reshape(1, -1) if coef.ndim == 1 else coef
            if coef.shape[1] != X.shape[1]:
                coef = coef.T
            b = np.ravel(np.asarray(est.intercept_, dtype=np.float64))
            return coef, b, None, est
    raise ValueError(f"unknown solver {name!r}")


def _liblinear_coef(model, classes, n_features):
    labels = list(model.get_labels())
    if len(classes) == 2:
        w, b = model.get_decfun(0)
        sign = 1.0 if labels[0] == classes[1] else -1.0
        return sign * np.asarray(w)[None, :n_features], np.array([sign * b])
    W = np.empty((len(classes), n_features))
    B = np.empty(len(classes))
    for k, c in enumerate(classes):
        w, b = model.get_decfun(labels.index(c))
        W[k], B[k] = np.asarray(w)[:n_features], b
    return W, B


def objective(W, b, X, y, C, loss, classes):
    """Sum over binary problems of 1/2 (||w||^2 + b^2) + C sum loss (float64)."""
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64) * np.ones(W.shape[0])
    scores = np.asarray(X @ W.T, dtype=np.float64) + b
    total = 0.0
    for k in range(W.shape[0]):
        pos = classes[1] if W.shape[0] == 1 else classes[k]
        margin = np.maximum(0.0, 1.0 - np.where(y == pos, 1.0, -1.0) * scores[:, k])
        if loss == "squared_hinge":
            margin = margin * margin
        total += 0.5 * (W[k] @ W[k] + b[k] * b[k]) + C * margin.sum()
    return float(total)


def accuracy(W, b, X, y, classes):
    scores = np.asarray(X @ np.asarray(W, dtype=np.float64).T) + np.asarray(b, dtype=np.float64)
    if W.shape[0] == 1:
        pred = np.where(scores[:, 0] > 0, classes[1], classes[0])
    else:
        pred = classes[np.argmax(scores, axis=1)]
    return float(np.mean(pred == y))


PRIMARY = ("fastlinear", "fastlinear_2t", "sklearn")


def run_alternating(solvers, preps, loss, C, tol, repeats, X_test=None, y_test=None,
                    max_iter=1000, secondary_rounds=None, budget=None, min_rounds=3):
    """Time each solver ``repeats`` times, alternating; return per-solver stats.

    fastlinear and sklearn (``PRIMARY``) run in every round; the other
    libraries (liblinear-official, Snap ML) only in the first
    ``secondary_rounds`` rounds when given.  With ``budget`` (seconds), a case
    whose first round is slow keeps ``budget / first round`` rounds, never
    fewer than ``min_rounds``; and a solver other than sklearn whose first run
    is over 5x sklearn's (and over 2 s) is not repeated: the table shows the
    number of runs behind every median that used fewer than ``repeats``.
    Each stat has the wall times, their median, the CPU times
    (``time.process_time``: for a one-thread solver it is less sensitive to
    other processes on the machine than wall time) and their median.
    """
    times = {s: [] for s in solvers}
    cpu = {s: [] for s in solvers}
    objs = {s: [] for s in solvers}
    iters = {s: [] for s in solvers}
    last = {}
    skip = set()
    rounds = repeats
    t_start = time.perf_counter()
    r = 0
    while r < rounds:
        for s in solvers:
            if s in skip or (secondary_rounds is not None and s not in PRIMARY
                             and r >= secondary_rounds):
                continue
            gc.collect()
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = fit(s, preps[s], loss, C, tol, max_iter=max_iter, seed=SEED + r)
            times[s].append(time.perf_counter() - t0)
            cpu[s].append(time.process_time() - c0)
            last[s] = out
            W, b, n_iter, _ = out
            prep = preps[s]
            objs[s].append(objective(W, b, prep.X, prep.y, C, loss, prep.classes))
            if n_iter is not None:
                iters[s].append(int(np.max(n_iter)))
        if r == 0 and budget:
            first = time.perf_counter() - t_start
            rounds = max(min(repeats, int(budget / max(first, 1e-9))), min(min_rounds, repeats))
            ref = times.get("sklearn", [None])[0]
            for s in solvers:
                if ref is not None and s != "sklearn" and times[s] and times[s][0] > max(5 * ref, 2.0):
                    skip.add(s)
        r += 1
    stats = {}
    for s in solvers:
        W, b, n_iter, est = last[s]
        prep = preps[s]
        res = dict(times=times[s], median=float(np.median(times[s])), runs=len(times[s]),
                   cpu_times=cpu[s], cpu_median=float(np.median(cpu[s])),
                   n_iter=int(np.median(iters[s])) if iters[s] else None,
                   n_iters=iters[s], objectives=objs[s],
                   objective=float(np.median(objs[s])))
        if s.startswith("fastlinear") or s == "sklearn":
            from fastlinear import linear_svc_objective

            ref = float(np.sum(linear_svc_objective(est, prep.X, prep.y)))
            assert abs(ref - objs[s][-1]) <= 1e-9 * abs(ref) + 1e-12, (s, ref, res)
        if X_test is not None:
            res["accuracy"] = accuracy(W, b, X_test, y_test, prep.classes)
        stats[s] = res
    return stats


# --------------------------------------------------------------------------
# Sections of the report
# --------------------------------------------------------------------------
def _each_workload(names, solvers, log=None):
    """Yield (name, X, y, X_test, y_test, C, preps) for the workloads present."""
    for name in names:
        try:
            X, y, Xt, yt = wl.load_workload(name)
        except wl.DataUnavailable as exc:
            if log is not None:
                log(f"SKIP {name}: {exc}")
            continue
        use = [s for s in solvers if available(s)]
        yield name, X, y, Xt, yt, wl.DEFAULT_C[name], {s: Prepared(s, X, y) for s in use}


def section_main(names, solvers, repeats, secondary_rounds, log, budget=None):
    """Equal-tolerance table: every workload x loss x tol, all solvers."""
    rows = []
    for name, X, _y, Xt, yt, C, preps in _each_workload(names, solvers, log):
        kind = wl.WORKLOADS[name][2]
        use = list(preps)
        for loss in LOSSES:
            for tol in TOLS:
                log(f"{name} {loss} tol={tol:g} ...")
                stats = run_alternating(use, preps, loss, C, tol, repeats, Xt, yt,
                                        secondary_rounds=secondary_rounds, budget=budget)
                rows.append(dict(workload=name, kind=kind, shape=X.shape, nnz=X.nnz, C=C,
                                 loss=loss, tol=tol, stats=stats))
                log("   " + "  ".join(f"{s}={v['median']:.3f}s obj={v['objective']:.6g}"
                                      for s, v in stats.items()))
    return rows


def section_time_to_objective(names, repeats, log, reference="snapml", ref_tol=1e-4, main=None,
                              budget=None):
    """Time for fastlinear to reach the objective Snap ML reaches at tol=1e-4.

    fastlinear walks down the tolerance ladder SWEEP_TOLS (then 3e-6, 1e-6)
    until its objective is no larger than the reference's; that tolerance is
    then timed against the reference, alternating.
    """
    rows = []
    if not available(reference):
        log(f"SKIP time to objective: {reference} not installed")
        return rows
    ladder = SWEEP_TOLS + (3e-6, 1e-6)
    for name, X, y, _Xt, _yt, C, preps in _each_workload(names, ("fastlinear", reference)):
        for loss in LOSSES:
            known = [r["stats"][reference]["objective"] for r in (main or [])
                     if not r.get("skipped") and r["workload"] == name and r["loss"] == loss
                     and r["tol"] == ref_tol and reference in r["stats"]]
            if known:
                reference_objective = known[0]
            else:
                W, b, _, _ = fit(reference, preps[reference], loss, C, ref_tol)
                reference_objective = objective(W, b, X, y, C, loss, preps[reference].classes)
            found = None
            for tol in ladder:
                Wf, bf, _, _ = fit("fastlinear", preps["fastlinear"], loss, C, tol, max_iter=10000)
                f_obj = objective(Wf, bf, X, y, C, loss, preps["fastlinear"].classes)
                if f_obj <= reference_objective:
                    found = tol
                    break
            row = dict(workload=name, loss=loss, reference_objective=reference_objective, ref_tol=ref_tol,
                       reference=reference)
            if found is None:
                row["fastlinear_tol"] = None
                log(f"time to objective {name} {loss}: fastlinear never reached {reference_objective:.8g}")
            else:
                times = {"fastlinear": [], reference: []}
                rounds, r_i, t_case = repeats, 0, time.perf_counter()
                while r_i < rounds:
                    if r_i == 1 and budget:
                        first = time.perf_counter() - t_case
                        rounds = max(min(repeats, int(budget / max(first, 1e-9))), min(3, repeats))
                    r_i += 1
                    for s, t in (("fastlinear", found), (reference, ref_tol)):
                        gc.collect()
                        t0 = time.perf_counter()
                        fit(s, preps[s], loss, C, t, max_iter=10000 if s == "fastlinear" else 1000)
                        times[s].append(time.perf_counter() - t0)
                row.update(fastlinear_tol=found, fastlinear_objective=f_obj,
                           t_fastlinear=float(np.median(times["fastlinear"])),
                           t_reference=float(np.median(times[reference])), times=times)
                row["ratio"] = row["t_reference"] / row["t_fastlinear"]
                log(f"time to objective {name} {loss}: snap {row['t_reference']:.3f}s, "
                    f"fastlinear tol={found:g} {row['t_fastlinear']:.3f}s -> {row['ratio']:.2f}x")
            rows.append(row)
    return rows


def section_sweep(names, solvers, log, losses=("squared_hinge",), tols=SWEEP_TOLS[:7]):
    """Relative suboptimality vs time: each solver over a sweep of tolerances (1 run each)."""
    out = {}
    for name, X, y, _Xt, _yt, C, preps in _each_workload(names, solvers):
        use = list(preps)
        for loss in losses:
            points = {s: [] for s in use}
            for tol in tols:
                for s in use:
                    gc.collect()
                    t0 = time.perf_counter()
                    W, b, _, _ = fit(s, preps[s], loss, C, tol)
                    t = time.perf_counter() - t0
                    points[s].append(dict(tol=tol, time=t, objective=objective(
                        W, b, X, y, C, loss, preps[s].classes)))
            best = min(p["objective"] for ps in points.values() for p in ps)
            for ps in points.values():
                for p in ps:
                    p["subopt"] = (p["objective"] - best) / abs(best)
            out[f"{name}:{loss}"] = dict(workload=name, loss=loss, C=C, best=best, points=points)
            log(f"sweep {name} {loss} done (best objective {best:.10g})")
    return out


def section_rows(solvers, sizes, log, loss="squared_hinge", tol=1e-4, repeats=1, main=None):
    """Fit time vs number of training rows of the synthetic set.

    The 200,000-row point is taken from the main table when it ran (same
    loss, tol and C), else fitted here.
    """
    out = {s: [] for s in solvers if available(s)}
    full = [r for r in (main or []) if not r.get("skipped") and r["workload"] == "synthetic"
            and r["loss"] == loss and r["tol"] == tol]
    for n in sizes:
        if n == 200_000 and full:
            for s in out:
                if s in full[0]["stats"]:
                    st = full[0]["stats"][s]
                    out[s].append(dict(n=n, time=st["median"], objective=st["objective"]))
            log(f"rows n={n}: from the main table")
            continue
        try:
            X, y, _, _ = wl.load_workload("synthetic", n_train=n)
        except wl.DataUnavailable:
            return out
        preps = {s: Prepared(s, X, y) for s in out}
        stats = run_alternating(list(out), preps, loss, 1.0, tol, repeats)
        for s in out:
            out[s].append(dict(n=n, time=stats[s]["median"], objective=stats[s]["objective"]))
        log(f"rows n={n}: " + "  ".join(f"{s}={stats[s]['median']:.3f}s" for s in out))
    return out


_MEMORY_CHILD = r"""
import gc, json, sys, warnings
sys.path.insert(0, {here!r})
import numpy as np
import workloads as wl

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) * 1024

lib, loss, workload, n_train = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
kwargs = dict(n_train=n_train) if workload == "synthetic" else dict()
X, y, Xt, yt = wl.load_workload(workload, dtype=np.float32, **kwargs)
del Xt, yt
wl._MEMO.clear()
# import the library before measuring, so its import is not counted
if lib in ("fastlinear", "fastlinear_primal"):
    from fastlinear import LinearSVC
    est = LinearSVC(C=1.0, loss=loss, tol=1e-4, dual="auto" if lib == "fastlinear" else False,
                    random_state=0)
elif lib in ("sklearn", "sklearn_primal"):
    from sklearn.svm import LinearSVC
    est = LinearSVC(C=1.0, loss=loss, tol=1e-4, dual=lib == "sklearn", random_state=0)
else:
    from snapml import SupportVectorMachine
    est = SupportVectorMachine(loss=loss, regularizer=1.0, fit_intercept=True, tol=1e-4,
                               random_state=0)
gc.collect()
# Reset the high-water mark to the current RSS (Linux >= 4.0), so that the
# temporaries of loading are not counted; fall back to the plain mark.
reset = True
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    reset = False
before_hwm, before_rss = hwm(), rss()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est.fit(X, y)
after = hwm()
x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
print(json.dumps(dict(lib=lib, loss=loss, reset=reset, before_hwm=before_hwm, before_rss=before_rss,
                      after_hwm=after, extra=after - max(before_hwm, before_rss), x_bytes=x_bytes,
                      n=int(X.shape[0]), d=int(X.shape[1]), solver=str(getattr(est, "solver_", "")),
                      x_dtype=str(X.dtype), coef_dtype=str(np.asarray(est.coef_).dtype))))
"""


def section_memory(libs, log, workload="synthetic", n_train=200_000, loss="squared_hinge"):
    """Peak extra resident memory of fit on float32 X, a fresh subprocess for each library.

    ``libs`` are keys of ``MEMORY_LIBS``: fastlinear and sklearn with the dual
    solver and with ``dual=False`` (``*_primal``), and Snap ML.
    """
    rows = []
    for lib in libs:
        if not available(lib.replace("_primal", "")):
            continue
        code = _MEMORY_CHILD.format(here=str(HERE))
        # Fixed glibc malloc thresholds: freed blocks go back to the system and
        # are not silently reused by fit (the dynamic mmap threshold would
        # otherwise serve fit's arrays from heap pages that are already resident).
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
        proc = subprocess.run([sys.executable, "-c", code, lib, loss, workload, str(n_train)],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            log(f"memory {lib}: failed\n{proc.stderr[-2000:]}")
            rows.append(dict(lib=lib, error=proc.stderr[-500:]))
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["extra_over_x"] = row["extra"] / row["x_bytes"]
        # What is left above 10 % of X, in float64 vectors of length n + d.
        row["vectors_over_tenth"] = (row["extra"] - 0.10 * row["x_bytes"]) / (8 * (row["n"] + row["d"]))
        rows.append(row)
        log(f"memory {lib}: extra {row['extra'] / 2**20:.1f} MiB = "
            f"{100 * row['extra_over_x']:.1f} % of X ({row['x_bytes'] / 2**20:.1f} MiB)")
    return rows


def section_epoch(names, log, repeats=7):
    """One full dual CD epoch (no shrinking) against one scipy ``X @ w``.

    The kernel ``fastlinear._dual_cd_fast.dual_cd`` is timed with
    max_iter=1 and max_iter=2 (tol tiny, shrinking off, same seed, cold start);
    the difference is one epoch, without setup (the structure check,
    allocation).
    """
    from fastlinear import _dual_cd_fast
    from fastlinear._validation import proved_csr

    rows = []
    for name in names:
        try:
            X, y, _, _ = wl.load_workload(name)
        except wl.DataUnavailable:
            continue
        if len(np.unique(y)) != 2:
            continue
        y_pm = np.where(y == np.unique(y)[1], 1.0, -1.0)
        sample_C = np.full(X.shape[0], wl.DEFAULT_C[name])
        loss = int(_dual_cd_fast.Loss.LOSS_SQUARED_HINGE)
        P = proved_csr(X)

        def kernel(max_iter):
            w = np.zeros(X.shape[1] + 1)
            alpha = np.zeros(X.shape[0])
            t0 = time.perf_counter()
            _dual_cd_fast.dual_cd(P, y_pm, sample_C, w, alpha, loss=loss, bias=1.0,
                                  tol=1e-300, max_iter=max_iter, seed=0, shrinking=False)
            return time.perf_counter() - t0

        wv = np.random.RandomState(0).standard_normal(X.shape[1])
        t1, t2, tm = [], [], []
        for _ in range(repeats):
            t1.append(kernel(1))
            t2.append(kernel(2))
            t0 = time.perf_counter()
            X @ wv
            tm.append(time.perf_counter() - t0)
        epoch = float(np.median(np.array(t2) - np.array(t1)))
        matvec = float(np.median(tm))
        rows.append(dict(workload=name, shape=X.shape, nnz=X.nnz, epoch=epoch, matvec=matvec,
                         t1=float(np.median(t1)), t2=float(np.median(t2)), ratio=epoch / matvec))
        log(f"epoch {name}: epoch {epoch * 1e3:.1f} ms, X@w {matvec * 1e3:.1f} ms, "
            f"ratio {epoch / matvec:.2f}")
    return rows


# --------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------
COLORS = {"fastlinear": "C0", "fastlinear_2t": "C4", "sklearn": "C1", "liblinear": "C2",
          "snapml": "C3", "snapml_2t": "C5"}


def plot_sweep(sweep, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(sweep)
    fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4.5), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        entry = sweep[key]
        floor = 1e-10
        for s, pts in entry["points"].items():
            pts = sorted(pts, key=lambda p: -p["tol"])  # the sweep's order: loose to tight
            ax.plot([p["time"] for p in pts], [max(p["subopt"], floor) for p in pts], "o-",
                    color=COLORS.get(s), label=SOLVERS[s])
            for p in pts:
                if p["tol"] in (1e-1, 1e-4):
                    ax.annotate(f"{p['tol']:g}", (p["time"], max(p["subopt"], floor)),
                                fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("fit time (s), one run per point; lines join the tolerances in order")
        ax.set_ylabel("relative suboptimality (P - P*) / P*")
        ax.set_title(f"{entry['workload']}, {entry['loss']}, C={entry['C']:g}\n"
                     f"tol swept {max(p['tol'] for p in next(iter(entry['points'].values()))):g}"
                     f" .. {min(p['tol'] for p in next(iter(entry['points'].values()))):g};"
                     f" P* = best objective of any run (points at 1e-10 reached it)",
                     fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_rows(rows, path, loss="squared_hinge", tol=1e-4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for s, pts in rows.items():
        if not pts:
            continue
        ax.plot([p["n"] for p in pts], [p["time"] for p in pts], "o-", color=COLORS.get(s),
                label=SOLVERS[s])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows (synthetic, 50k features, ~75 nnz/row)")
    ax.set_ylabel("fit time (s)")
    ax.set_title(f"fit time vs rows, {loss}, tol={tol:g}, C=1", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------
def _t(x):
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def _gap(obj, ref):
    return (obj - ref) / abs(ref)


def write_markdown(res, path):
    m = res["machine"]
    L = []
    add = L.append
    add("# LinearSVC speed report\n")
    add(f"Generated by `python bench/report.py {' '.join(res['argv'])}` on "
        f"{res['date']} in {res['elapsed'] / 60:.1f} min.\n")
    cpuid = m.get("cpu", "?").split(" (", 1)[-1].rstrip(")").replace(", virtual machine", "")
    add(f"**Machine:** {hardware(m)}, /proc/cpuinfo {cpuid}, {m.get('affinity', '?')} cores "
        f"usable; Python {m['python']}, numpy {m['numpy']}, "
        f"scipy {m['scipy']}, scikit-learn {m['sklearn']}, liblinear-official "
        f"{m.get('liblinear-official', 'not installed')}, Snap ML {m.get('snapml', 'not installed')}; "
        f"fastlinear at commit {m.get('fastlinear_commit', '?')} "
        f"(working tree {m.get('fastlinear_tree', '?')}). "
        f"Load average at start {m.get('loadavg_start')}, at end {res.get('loadavg_end')}: "
        "the machine is shared with other jobs, so wall times are noisy; every "
        "ratio below is measured side by side in one process, alternating runs.\n")
    add("**Threads:** fastlinear, sklearn (liblinear inside), liblinear-official "
        "and Snap ML `n_jobs=1` use one thread; `fastlinear n_jobs=2` and "
        "`Snap ML n_jobs=2` two.\n")
    add("## How to read this\n")
    add("- Same problem for everyone: L2-regularised hinge / squared hinge, same C, "
        "intercept = weight of a constant feature 1, regularised (sklearn "
        "`intercept_scaling=1`, liblinear `-B 1`, Snap ML `fit_intercept=True` — "
        "Snap ML appends the same constant feature and regularises it: on a9a "
        "with C=0.1 its converged intercept and objective match sklearn's "
        "regularised-intercept optimum to 2e-5). **Snap ML's `regularizer` is 1/C**, "
        "not C (on a9a, `regularizer=C=0.1` lands on another problem's solution); "
        "for C=1 both readings agree.\n"
        "- Objective P = ½‖w‖² + ½b² + C Σ loss, computed from each library's "
        "coefficients in float64 (equal to `fastlinear.linear_svc_objective` for "
        "fastlinear and sklearn; summed over the 20 binary problems for news20).\n"
        "- `gap` = (P_lib − P_sklearn) / P_sklearn. A fastlinear speed-up counts "
        f"only if its gap ≤ {GAP_TEXT} (column ok).\n"
        "- `tol` means the same thing (max − min projected gradient) for "
        "fastlinear, sklearn and liblinear; Snap ML's `tol` is a bound on the "
        "change of the coefficients, so at equal `tol` its objective differs "
        "(see its gap, and the table of time to Snap ML's objective).\n"
        "- Times: median wall time of end-to-end `fit` in seconds, "
        f"{res['repeats']} alternating rounds for fastlinear/sklearn"
        + ((", the first round only for liblinear-official and Snap ML" if res["secondary_rounds"] == 1
            else f", the first {res['secondary_rounds']} rounds for liblinear-official and Snap ML")
           if res.get("secondary_rounds") else "")
        + "; a number in parentheses after a time is the number of runs behind that "
        "median when it is smaller (a slow case keeps fewer rounds to fit the time "
        "budget, never fewer than 3 for fastlinear/sklearn; a solver over 5× "
        "sklearn's time in round 1 is not repeated)"
        + ". `×sk` = sklearn time / fastlinear time; "
        "`×sk cpu` is the same ratio of CPU times (less sensitive to the load of "
        "the machine for one-thread solvers).\n"
        "- max_iter = 1000 for every library (liblinear-official's is fixed at 1000); "
        "a time with `*` hit it (fastlinear, sklearn: the median n_iter over the rounds "
        "is 1000).\n"
        "- Round r fits with random_state=r (fastlinear, sklearn, Snap ML): one seed is "
        "one draw of the coordinate order. Objectives (and so the gaps) and iteration "
        "counts are medians over the rounds; test accuracies are the last round's.\n"
        "- The per-solver tables after the memory and epoch tables (defaults against "
        "defaults, `dual=False`, L1, Crammer-Singer, LinearSVR) follow the same rules; "
        "each one says what it ran.\n")
    # data sets
    add("## Workloads\n")
    add("| workload | train | test | C |")
    add("|---|---|---|---|")
    for w in res["workloads"]:
        add(f"| {w['name']} | {w.get('train', '—')} | {w.get('test', '—')} | {w.get('C', '—')} |")
    add("")
    for w in res["workloads"]:
        if w.get("skipped"):
            add(f"- **{w['name']} skipped:** {w['skipped']}")
    add("")
    add("a9a: UCI Adult as bundled with fastlinear, test = a9a.t. w8a: LIBSVM w8a, 20 % "
        "stratified hold-out (seed 0; no w8a.t here). imdb: `TfidfVectorizer(ngram_range=(1, 2), "
        "min_df=2, sublinear_tf=True)` fitted on the 25,000 labelled train reviews, test = "
        "aclImdb test folder. synthetic: 250,000 rows × 50,000 features, ~75 nonzeros per "
        "row drawn with Zipf(1) feature frequencies, (1 + log tf)·idf values, rows "
        "L2-normalised, labels = sign of a planted Gaussian linear model (balanced) with 5 % "
        "flipped, seed 0; the first 50,000 rows are the test split. news20: "
        "`fetch_20newsgroups_vectorized` train / test (one-vs-rest, 20 problems). "
        "All CSR with int32 indices (sklearn needs them), made once outside every timer. "
        "C = 0.1 for a9a/w8a (sklearn's docs example value; C = 1 makes hinge runs hit "
        "max_iter), C = 1 for the text sets. See `bench/workloads.py`.\n")

    # main table
    rows = [r for r in res.get("main", []) if not r.get("skipped")]
    repeats = res["repeats"]
    if rows:
        add("## Main table: equal loss, C and tol\n")
        solvers = [s for s in SOLVERS if any(s in r["stats"] for r in rows)]
        head = ["workload", "loss", "tol"] + [f"{SOLVERS[s]} (s)" for s in solvers]
        head += ["×sk (1 thread)", "×sk cpu", "×sk (n_jobs=2)", "fastlinear gap", "ok",
                 "liblinear gap", "Snap ML gap", "test acc fl / sk / Snap"]
        add("| " + " | ".join(head) + " |")
        add("|" + "---|" * len(head))
        for r in rows:
            st = r["stats"]
            sk = st["sklearn"]
            cells = [r["workload"], r["loss"], f"{r['tol']:g}"]
            for s in solvers:
                v = st.get(s)
                if v is None:
                    cells.append("—")
                    continue
                star = "*" if v.get("n_iter") is not None and v["n_iter"] >= 1000 else ""
                runs = f" ({v['runs']})" if v.get("runs", repeats) < repeats else ""
                cells.append(_t(v["median"]) + star + runs)
            fl = st.get("fastlinear")
            f2 = st.get("fastlinear_2t")
            cells.append(f"**{sk['median'] / fl['median']:.2f}**" if fl else "—")
            cells.append(f"{sk['cpu_median'] / fl['cpu_median']:.2f}" if fl else "—")
            cells.append(f"{sk['median'] / f2['median']:.2f}" if f2 else "—")
            g = _gap(fl["objective"], sk["objective"]) if fl else None
            cells.append(f"{g:+.1e}" if g is not None else "—")
            ok2 = (f2 is None) or _gap(f2["objective"], sk["objective"]) <= GAP_LIMIT
            cells.append(("yes" if g <= GAP_LIMIT else "**no**")
                         + ("" if ok2 else " (n_jobs=2: **no**)") if g is not None else "—")
            for s in ("liblinear", "snapml"):
                cells.append(f"{_gap(st[s]['objective'], sk['objective']):+.1e}" if s in st else "—")
            accs = [st[s].get("accuracy") for s in ("fastlinear", "sklearn", "snapml") if s in st]
            cells.append(" / ".join(f"{a:.4f}" for a in accs if a is not None))
            add("| " + " | ".join(cells) + " |")
        add("")
        # speed-ups at a glance
        add("### Speed-up over sklearn at a glance\n")
        add("The ×sk columns of the table above, for one thread and for `n_jobs=2`, with whether "
            f"fastlinear's objective is within {GAP_TEXT} of sklearn's (a speed-up counts only then).\n")
        add("| workload | loss | tol | ×sk, 1 thread | gap ≤ 1e-4 | ×sk, n_jobs=2 | gap ≤ 1e-4 |")
        add("|---|---|---|---|---|---|---|")
        glance = {"fastlinear": [], "fastlinear_2t": []}
        for r in rows:
            st = r["stats"]
            sk = st["sklearn"]
            cells = [r["workload"], r["loss"], f"{r['tol']:g}"]
            for s in glance:
                if s not in st:
                    cells += ["—", "—"]
                    continue
                ratio = sk["median"] / st[s]["median"]
                ok = _gap(st[s]["objective"], sk["objective"]) <= GAP_LIMIT
                glance[s].append((ratio, ok))
                cells += [f"{ratio:.2f}", "yes" if ok else "**no**"]
            add("| " + " | ".join(cells) + " |")
        add("")
        for s, label in (("fastlinear", "One thread"), ("fastlinear_2t", "`n_jobs=2`")):
            if glance[s]:
                ratios = np.array([g[0] for g in glance[s]])
                add(f"{label}: median ×sk {np.median(ratios):.2f}, smallest {ratios.min():.2f}; "
                    f"{int(np.sum(ratios >= 1.5))} of {len(ratios)} cases at 1.5 or more; gap ≤ "
                    f"{GAP_TEXT} in {sum(g[1] for g in glance[s])} of {len(ratios)}.\n")
        add("### Objectives (P)\n")
        add("| workload | loss | tol | " + " | ".join(SOLVERS[s] for s in solvers) + " | n_iter fl / sk |")
        add("|---|---|---|" + "---|" * len(solvers) + "---|")
        for r in rows:
            st = r["stats"]
            add(f"| {r['workload']} | {r['loss']} | {r['tol']:g} | "
                + " | ".join(f"{st[s]['objective']:.8g}" if s in st else "—" for s in solvers)
                + f" | {st['fastlinear']['n_iter']} / {st['sklearn']['n_iter']} |")
        add("")

    # time to Snap ML's objective
    tto = res.get("time_to_objective")
    if tto:
        add("## Time to reach Snap ML's objective at tol=1e-4\n")
        add("Snap ML (`n_jobs=1`) runs at tol=1e-4; fastlinear (one thread) walks down the "
            "tolerance ladder 1e-1, 3e-2, … until its objective is ≤ Snap ML's; that "
            "tolerance is then timed against Snap ML, alternating (median of up to "
            f"{res['repeats']}). ratio = Snap ML's time / fastlinear's.\n")
        add("| workload | loss | Snap ML objective | Snap ML (s) | fastlinear tol | fastlinear objective "
            "| fastlinear (s) | ratio |")
        add("|---|---|---|---|---|---|---|---|")
        for r in tto:
            if r.get("fastlinear_tol") is None:
                add(f"| {r['workload']} | {r['loss']} | {r['reference_objective']:.8g} | — | not reached | — | — | — |")
                continue
            add(f"| {r['workload']} | {r['loss']} | {r['reference_objective']:.8g} | {_t(r['t_reference'])} | "
                f"{r['fastlinear_tol']:g} | {r['fastlinear_objective']:.8g} | {_t(r['t_fastlinear'])} | "
                f"**{r['ratio']:.2f}** |")
        add("")
        ratios = np.array([r["ratio"] for r in tto if r.get("fastlinear_tol") is not None])
        if len(ratios):
            add(f"Median ratio {np.median(ratios):.2f}, smallest {ratios.min():.2f}; "
                f"{int(np.sum(ratios >= 1.5))} of {len(tto)} cases at 1.5 or more"
                + (f"; {len(tto) - len(ratios)} not reached" if len(ratios) < len(tto) else "") + ".\n")

    # memory
    if res.get("memory"):
        add("## Peak extra memory of fit on float32 X\n")
        mem = res["memory"]
        ok = [x for x in mem if "extra" in x]
        if ok:
            n, d = ok[0].get("n"), ok[0].get("d")
            shape = f"{n:,} × {d:,}" if n else "200k × 50k"
            add(f"Synthetic {shape} in float32 (X = {ok[0]['x_bytes'] / 2**20:.1f} MiB: data, "
                "int32 indices, indptr), squared hinge, C=1, tol=1e-4, one fresh subprocess per "
                "library: load X, reset the resident high-water mark (`echo 5 > "
                "/proc/self/clear_refs`), fit, read `VmHWM` from `/proc/self/status`. "
                "extra = VmHWM after fit − RSS before fit. The bound checked for fastlinear (both "
                "solvers): at most 10 % of X plus a few float64 vectors of length n + d"
                + (f" (one such vector: 8 (n + d) = {8 * (n + d) / 2**20:.2f} MiB, n = {n:,} samples, "
                   f"d = {d:,} features); the last column is what the run used above 10 % of X, "
                   "in such vectors" if n else "") + ".\n")
            add("| library | solver | extra (MiB) | % of X | above 10 % of X, in 8 (n + d) vectors "
                "| coef_ dtype | HWM reset worked |")
            add("|---|---|---|---|---|---|---|")
            for x in ok:
                vec = x.get("vectors_over_tenth")
                add(f"| {MEMORY_LIBS.get(x['lib'], x['lib'])} | {x.get('solver') or '—'} | "
                    f"{x['extra'] / 2**20:.1f} | {100 * x['extra_over_x']:.1f} | "
                    f"{'—' if vec is None else ('none' if vec <= 0 else f'{vec:.1f}')} | "
                    f"{x['coef_dtype']} | {x['reset']} |")
        for x in mem:
            if "error" in x:
                add(f"- {x['lib']}: failed: `{x['error'][-200:]}`")
        add("")

    # epoch
    if res.get("epoch"):
        add("## One dual CD epoch against one `X @ w`\n")
        add("`fastlinear._dual_cd_fast.dual_cd` timed with max_iter=2 and max_iter=1 "
            "(squared hinge, shrinking off, tol=1e-300, cold start, same seed); the "
            "difference of the medians of paired runs is one epoch. `X @ w` is scipy's CSR "
            "matvec on the same float64 matrix. ratio = epoch / matvec.\n")
        add("| workload | shape | nnz | epoch (ms) | X @ w (ms) | ratio |")
        add("|---|---|---|---|---|---|")
        for e in res["epoch"]:
            add(f"| {e['workload']} | {e['shape'][0]:,} × {e['shape'][1]:,} | {e['nnz'] / 1e6:.2f}M | "
                f"{1e3 * e['epoch']:.1f} | {1e3 * e['matvec']:.1f} | **{e['ratio']:.2f}** |")
        add("")

    # per-solver tables
    import solver_tables as stab

    kw = dict(rounds=res.get("solver_rounds", 5), budget=res.get("case_budget"))
    notes = res.get("section_notes", {})
    stab.markdown_intro(res, add)
    stab.markdown_defaults(res.get("defaults"), add, note=notes.get("defaults", ""), **kw)
    stab.markdown_primal(res.get("primal"), res.get("primal_threads"), add, note=notes.get("primal", ""), **kw)
    stab.markdown_l1(res.get("l1"), add, note=notes.get("l1", ""), **kw)
    stab.markdown_crammer_singer(res.get("crammer_singer"), add, note=notes.get("crammer_singer", ""), **kw)
    stab.markdown_svr(res.get("svr"), add, note=notes.get("svr", ""), **kw)

    # plots
    if res.get("plots"):
        add("## Plots\n")
        for title, fname in res["plots"]:
            add(f"**{title}**\n\n![{title}]({fname})\n")
    if res.get("rows"):
        add("Fit time vs rows (s):\n")
        solvers = [s for s in res["rows"] if res["rows"][s]]
        if solvers:
            ns = [p["n"] for p in res["rows"][solvers[0]]]
            add("| rows | " + " | ".join(SOLVERS[s] for s in solvers) + " |")
            add("|---|" + "---|" * len(solvers))
            for i, n in enumerate(ns):
                add(f"| {n:,} | " + " | ".join(_t(res["rows"][s][i]["time"]) for s in solvers) + " |")
            add("")
    if res.get("section_seconds"):
        add("## Wall time per section\n")
        add("| section | minutes |")
        add("|---|---:|")
        for key, sec in res["section_seconds"].items():
            add(f"| {key} | {sec / 60:.1f} |")
        add("")
    if res.get("notes"):
        add("## Notes\n")
        for n in res["notes"]:
            add(f"- {n}")
        add("")
    Path(path).write_text("\n".join(L) + "\n")


def replot(out):
    """Redraw the PNGs and REPORT.md of ``out`` from its report.json (no fitting)."""
    out = Path(out)
    res = json.loads((out / "report.json").read_text())
    if res.get("sweep"):
        plot_sweep(res["sweep"], out / "suboptimality_vs_time.png")
    if res.get("rows") and any(res["rows"].values()):
        plot_rows(res["rows"], out / "time_vs_rows.png")
    write_markdown(res, out / "REPORT.md")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
#: Sections of the report, in the order they run; all run by default.
SECTIONS = ("epoch", "main", "time_to_objective", "memory", "sweep", "rows",
            "defaults", "primal", "l1", "crammer_singer", "svr")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: a9a and w8a, 2 rounds, few C, small sweeps, a few minutes")
    parser.add_argument("--workloads", default=None,
                        help="comma-separated subset of " + ",".join(wl.WORKLOADS)
                             + " (also limits the classification workloads of the per-solver tables)")
    parser.add_argument("--repeats", type=int, default=None, help="alternating rounds (default 5)")
    parser.add_argument("--secondary-rounds", type=int, default=None,
                        help="rounds for liblinear-official and Snap ML (default 1: reference columns)")
    parser.add_argument("--case-budget", type=float, default=None,
                        help="seconds per table case before rounds are cut (never below 3); "
                             "0 = no cut (default 45, --quick 10)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help="comma-separated subset of " + ",".join(SECTIONS) + " (default: all)")
    parser.add_argument("--full-grid", action="store_true",
                        help="per-solver tables: every C on every workload (the default leaves out the "
                             "slowest cells of news20, imdb and synthetic; roughly 45 minutes more)")
    parser.add_argument("--sweep-workloads", default=None,
                        help="workloads of the suboptimality-vs-time plot (default imdb,synthetic)")
    parser.add_argument("--out", default=str(HERE / "results"), help="output folder")
    parser.add_argument("--replot", action="store_true",
                        help="only redraw REPORT.md and the PNGs from OUT/report.json")
    args = parser.parse_args(argv)
    if args.replot:
        replot(args.out)
        return None

    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        names = (args.workloads or "a9a,w8a").split(",")
        repeats = args.repeats or 2
        secondary = args.secondary_rounds or 1
        sweep_names = (args.sweep_workloads or "a9a").split(",")
        row_sizes = (10_000, 20_000)
        sweep_tols = (1e-1, 1e-2, 1e-3, 1e-4)
        budget = 10.0 if args.case_budget is None else args.case_budget
    else:
        names = (args.workloads or ",".join(wl.WORKLOADS)).split(",")
        repeats = args.repeats or 5
        secondary = args.secondary_rounds or 1
        sweep_names = (args.sweep_workloads or "imdb,synthetic").split(",")
        row_sizes = (10_000, 20_000, 50_000, 100_000, 200_000)
        sweep_tols = SWEEP_TOLS[:7]
        budget = 45.0 if args.case_budget is None else args.case_budget
    for n in names + sweep_names:
        if n not in wl.WORKLOADS:
            parser.error(f"unknown workload {n!r}; choose from {','.join(wl.WORKLOADS)}")
    sections = set(args.sections.split(","))
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {','.join(sorted(unknown))}; choose from {','.join(SECTIONS)}")

    def log(msg):
        print(f"[{time.perf_counter() - t_start:6.0f}s] {msg}", flush=True)

    res = dict(argv=sys.argv[1:] if argv is None else list(argv),
               date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               machine=machine_info(), repeats=repeats, secondary_rounds=secondary,
               case_budget=budget, notes=[])
    log(f"machine: {res['machine']}")
    res["workloads"] = []
    for n in names:
        entry = dict(name=n, C=wl.DEFAULT_C[n])
        try:
            X, y, Xt, yt = wl.load_workload(n)
            entry.update(train=wl.describe(X), test=wl.describe(Xt),
                         classes=int(len(np.unique(y))))
        except wl.DataUnavailable as exc:
            entry["skipped"] = str(exc)
            log(f"SKIP {n}: {exc}")
        res["workloads"].append(entry)
    names = [w["name"] for w in res["workloads"] if not w.get("skipped")]
    binary = [n for n in names if wl.WORKLOADS[n][2] == "binary"]

    solvers = ["fastlinear", "fastlinear_2t", "sklearn", "liblinear", "snapml"]
    res["notes"] += [
        "`fastlinear n_jobs=2`: for one-vs-rest, LinearSVC solves the binary problems in two "
        "threads; a binary problem solved by dual coordinate descent runs on one thread "
        "whatever n_jobs (only the primal Newton solver splits its products with X over "
        "threads), so there the column repeats the one-thread measurement.",
        "Snap ML copies X into its own float32 / uint32 arrays inside `fit` (so its "
        "times include that copy, like sklearn's, whose liblinear copies X into "
        "`feature_node` arrays); liblinear-official's copy is made when its "
        "`problem` is built, outside the timer (to its advantage).",
        "Snap ML's `tol` bounds the change of its coefficients, not the projected "
        "gradient; equal `tol` is therefore not equal quality for it, which is why "
        "a separate table measures the time to its objective.",
        "Ratios measured on a loaded 2-core machine move by ±20 % between runs; "
        "re-run `python bench/report.py` (or a subset with `--workloads`) to check "
        "a borderline case.",
    ]
    missing = [s for s in solvers if not available(s)]
    if missing:
        res["notes"].append("not installed, columns left out: " + ", ".join(missing))

    res["section_seconds"] = seconds = {}
    clock = [time.perf_counter()]

    def done(key):
        now = time.perf_counter()
        seconds[key] = now - clock[0]
        clock[0] = now
        log(f"section {key}: {seconds[key] / 60:.1f} min")

    if "epoch" in sections:
        res["epoch"] = section_epoch([n for n in binary if n in ("synthetic", "imdb")] or binary[:1],
                                     log, repeats=max(repeats, 5))
        done("epoch")
    if "main" in sections:
        res["main"] = section_main(names, solvers, repeats, secondary, log, budget=budget or None)
        done("main")
    if "time_to_objective" in sections:
        res["time_to_objective"] = section_time_to_objective(binary, repeats, log, main=res.get("main"),
                                                             budget=budget or None)
        done("time_to_objective")
    if "memory" in sections and "synthetic" in names:
        res["memory"] = section_memory(list(MEMORY_LIBS), log)
        done("memory")
    elif "memory" in sections:
        res["notes"].append("The memory table needs the synthetic workload, which this run left out.")
    res["plots"] = []
    if "sweep" in sections:
        sw = [n for n in sweep_names if n in wl.WORKLOADS]
        res["sweep"] = section_sweep(sw, ["fastlinear", "sklearn", "liblinear", "snapml"], log,
                                     tols=sweep_tols)
        if res["sweep"]:
            plot_sweep(res["sweep"], out / "suboptimality_vs_time.png")
            res["plots"].append(("Relative suboptimality vs fit time (each point one fit at one tol)",
                                 "suboptimality_vs_time.png"))
        done("sweep")
    if "rows" in sections:
        res["rows"] = section_rows(["fastlinear", "sklearn", "liblinear", "snapml"], row_sizes, log,
                                  main=res.get("main"))
        if any(res["rows"].values()):
            plot_rows(res["rows"], out / "time_vs_rows.png")
            res["plots"].append(("Fit time vs training rows (log-log)", "time_vs_rows.png"))
        done("rows")
    solver_sections(res, sections, names, args, repeats, secondary, budget, log)
    try:
        res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    res["elapsed"] = time.perf_counter() - t_start
    (out / "report.json").write_text(json.dumps(res, indent=1, default=_json_default))
    write_markdown(res, out / "REPORT.md")
    log(f"wrote {out / 'REPORT.md'} ({res['elapsed'] / 60:.1f} min)")
    return res


def solver_sections(res, sections, names, args, repeats, secondary, budget, log):
    """The per-solver tables of ``solver_tables`` (defaults, primal, l1, crammer_singer, svr)."""
    import solver_tables as stab

    plan = stab.plan(args.quick, names if args.workloads else None, full_grid=args.full_grid)
    res["solver_rounds"] = repeats
    res["section_notes"] = notes = {}
    kw = dict(budget=budget or None, rounds=repeats)
    for key in ("defaults", "primal", "l1", "crammer_singer", "svr"):
        if key not in sections:
            continue
        p = plan[key]
        notes[key] = p.get("note", "")
        t0 = time.perf_counter()
        if key == "defaults":
            res[key] = stab.section_defaults(p["workloads"], log, Cs=p["Cs"], cs_for=p.get("cs_for"),
                                             secondary_rounds=secondary, **kw)
        elif key == "primal":
            res[key] = stab.section_primal(p["workloads"], log, Cs=p["Cs"], cs_for=p.get("cs_for"), **kw)
            if p.get("threads"):
                res["primal_threads"] = stab.section_primal_threads(log, Cs=p["threads"], **kw)
        elif key == "l1":
            res[key] = stab.section_l1(p["workloads"], log, Cs=p["Cs"], cs_for=p.get("cs_for"), **kw)
        elif key == "crammer_singer":
            res[key] = stab.section_crammer_singer(p["workloads"], log, Cs=p["Cs"], cs_for=p.get("cs_for"),
                                                   **kw)
        else:
            res[key] = stab.section_svr(p["workloads"], log, **kw)
        res.setdefault("section_seconds", {})[key] = time.perf_counter() - t0
        log(f"section {key}: {(time.perf_counter() - t0) / 60:.1f} min")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    return str(o)


if __name__ == "__main__":
    main()
