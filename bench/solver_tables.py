"""Report sections per solver: defaults against defaults, the primal solver, L1,
Crammer-Singer and LinearSVR.  Used by ``bench/report.py`` (``--sections``).

How they measure (as the rest of the report):

1. Every library solves the same problem (same C, loss, penalty; the
   intercept is the weight of a constant feature 1, regularised); the primal
   objective is computed the same way for every library from its
   coefficients (``fastlinear.linear_svc_objective`` and
   ``fastlinear.linear_svr_objective``, which read scikit-learn's estimators
   too), outside the timer.
2. Timings are end-to-end ``fit`` calls, alternating between libraries in one
   process; the reported time is the median over the rounds (fewer rounds
   for slow cases, never fewer than 3, as ``--case-budget`` allows).
3. ``x sk`` = scikit-learn's median time / fastlinear's.  A speed-up counts
   only if fastlinear's objective is no worse than scikit-learn's by more
   than 1e-4 relative.  Where scikit-learn stops at ``max_iter``, the time
   compared is the time fastlinear needs to reach scikit-learn's final
   objective (the first of ``tol`` = 0.1, 0.03, ... that does).
4. Apart from the defaults tables, both libraries get the same C, tol and
   max_iter (equal quality, not equal max_iter, is what the ratios compare).
5. Seeds change from round to round: round ``r`` fits every library that
   takes a ``random_state`` with ``random_state=r``.  The coordinate-descent
   solvers of fastlinear and scikit-learn are the same algorithm step for
   step with different random generators (``bench/cd_passes.py``), and one
   seed's pass count is one draw from a wide distribution (over 150 seeds,
   the middle half spans about -20 % to +15 % of the median): the median of the
   rounds compares the libraries, one seed compares two draws.  Passes
   (*it*) and objectives are the medians over the rounds: where both
   libraries stop at ``max_iter``, whether fastlinear's objective is above
   scikit-learn's (and so which time is compared) was otherwise decided by
   the last round's draw.
"""
import gc
import time
import warnings

import numpy as np
import scipy.sparse as sp

import workloads as wl

GAP_LIMIT = 1e-4
GAP_TEXT = "1e-4"
SEED = 0
MAX_ITER = 1000
#: Where scikit-learn stopped at max_iter, fastlinear may run up to this many
#: iterations to reach scikit-learn's final objective (equal quality).
LADDER_MAX_ITER = 10 * MAX_ITER
DEFAULT_CS = (0.01, 0.1, 1.0, 10.0, 100.0)
TOL_LADDER = (0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)
#: Classification workloads of the per-solver tables, in the order they run.
CLASSIFICATION = ("a9a", "w8a", "news20", "imdb", "synthetic")
#: Workloads of the Crammer-Singer table (news20 has 20 classes, the others two).
CRAMMER_SINGER = ("news20", "a9a", "w8a", "imdb")
#: scikit-learn's liblinear ignores max_iter for Crammer-Singer (``-s 4``):
#: its solver stops at 100,000 passes.
SK_CS_MAX_ITER = 100_000
#: Regression workloads of the LinearSVR table.
REGRESSION = ("imdb_ratings", "synthetic_regression")
#: L1 table: a workload whose single scikit-learn fit takes longer is not
#: measured at the larger C (one round is kept, the rest is left out).
L1_MAX_FIT = 60.0
#: L1 table: a coefficient vector with at most this share of nonzero
#: weights counts as sparse.
SPARSE_SHARE = 0.5


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------
def _quiet(make, X, y):
    """``make().fit(X, y)`` with warnings (ConvergenceWarning) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(X, y)


def _svc_objective(est, X, y):
    from fastlinear import linear_svc_objective

    return float(np.sum(linear_svc_objective(est, X, y)))


def _svr_objective(est, X, y):
    from fastlinear import linear_svr_objective

    return float(linear_svr_objective(est, X, y))


def _n_iter(est):
    return int(np.max(est.n_iter_))


def _nnz(coef):
    """Nonzero weights of ``coef_`` (all rows; dense or sparse)."""
    return int(coef.count_nonzero() if sp.issparse(coef) else np.count_nonzero(coef))


def _liblinear_objective(model, X, y, C, loss):
    """The primal objective of a liblinear-official model (bias feature 1)."""
    from report import _liblinear_coef, objective

    classes = np.unique(y)
    W, b = _liblinear_coef(model, classes, X.shape[1])
    return objective(W, b, X, y, C, loss, classes)


def _sk_dual(dual, loss, penalty, X, multi_class="ovr"):
    """What scikit-learn's ``dual="auto"`` resolves to (its rule, restated)."""
    if dual != "auto":
        return bool(dual)
    primal_ok = penalty == "l1" or loss in ("squared_hinge", "squared_epsilon_insensitive")
    dual_ok = penalty == "l2"
    if multi_class == "crammer_singer":
        return True
    if X.shape[0] < X.shape[1]:
        return dual_ok
    return not primal_ok


def alternate(fits, budget, rounds=5, min_rounds=3, secondary=(), secondary_rounds=1, max_fit=None):
    """Run each ``fits[name](r)`` alternately; median wall time per name.

    ``fits[name](r)`` does round ``r``'s timed fit and returns ``(result, describe)``
    where ``describe()`` (called once, on the last round's result, outside
    every timer) returns a dict with at least ``objective`` and ``n_iter``.
    With ``budget`` seconds, the rounds are cut to ``budget / first round``
    (never below ``min_rounds``).  The names in ``secondary`` (reference
    libraries) run in the first ``secondary_rounds`` rounds only.  With
    ``max_fit`` seconds, scikit-learn runs first, and if its first fit takes
    longer nothing else runs: the result is ``{"cut": seconds}``.
    """
    if max_fit is not None and "sklearn" in fits:
        fits = {"sklearn": fits["sklearn"], **{k: v for k, v in fits.items() if k != "sklearn"}}
    times = {name: [] for name in fits}
    last = {}
    t0 = time.perf_counter()
    r = 0
    while r < rounds:
        order = list(fits) if r % 2 == 0 else list(reversed(list(fits)))
        for name in order:
            if name in secondary and r >= secondary_rounds:
                continue
            gc.collect()
            start = time.perf_counter()
            out = fits[name](r)
            times[name].append(time.perf_counter() - start)
            last[name] = out
            if r == 0 and name == "sklearn" and max_fit is not None and times[name][0] > max_fit:
                return {"cut": times[name][0]}
        if r == 0 and budget:
            first = time.perf_counter() - t0
            rounds = max(min(rounds, int(budget / max(first, 1e-9))), min(min_rounds, rounds))
        r += 1
    out = {}
    for name in fits:
        info = dict(last[name][1]())
        info.update(time=float(np.median(times[name])), runs=len(times[name]), times=times[name])
        out[name] = info
    return out


def _timed(make, X, y):
    """One quiet fit: ``(estimator, seconds)``."""
    gc.collect()
    start = time.perf_counter()
    est = _quiet(make, X, y)
    return est, time.perf_counter() - start


def compare(make_ours, make_theirs, X, y, objective, *, budget, rounds, others=None,
            secondary=(), secondary_rounds=1, ours_at_tol=None, extra=None, max_fit=None,
            sk_max_iter=MAX_ITER, ours_max_iter=MAX_ITER):
    """One cell: fastlinear against scikit-learn, alternating, medians.

    ``make_ours()`` / ``make_theirs()`` build unfitted estimators;
    ``others[name]()`` fits a reference library and returns ``(result,
    describe)`` as in :func:`alternate`.  ``extra(est)`` adds fields (test
    score, solver, nonzeros) to a library's stats, outside the timer.
    ``ours_at_tol(tol)`` builds fastlinear's estimator at another ``tol``:
    where scikit-learn stopped at max_iter, fastlinear walks down
    ``TOL_LADDER`` until its objective is no larger than scikit-learn's, and
    the time of that fit is the one compared (``to_objective``).
    ``sk_max_iter`` / ``ours_max_iter``: where each solver stops whatever
    max_iter says.  With ``max_fit``, a cell whose first scikit-learn fit takes longer is
    dropped: the result is ``{"cut": seconds}``.
    """
    def fit_with(make, cap):
        fitted = []

        def run(r):
            est = _quiet(lambda: make().set_params(random_state=SEED + r), X, y)
            fitted.append(est)

            def describe():
                objectives = [objective(e, X, y) for e in fitted]
                passes = [_n_iter(e) for e in fitted]
                info = dict(objective=float(np.median(objectives)), objectives=objectives,
                            n_iter=int(np.median(passes)), n_iters=passes, max_iter=cap)
                if extra is not None:
                    info.update(extra(est))
                return info
            return est, describe
        return run

    fits = {"fastlinear": fit_with(make_ours, ours_max_iter),
            "sklearn": fit_with(make_theirs, sk_max_iter),
            **(others or {})}
    res = alternate(fits, budget, rounds=rounds, min_rounds=min(3, rounds), secondary=secondary,
                    secondary_rounds=secondary_rounds, max_fit=max_fit)
    if "cut" in res:
        return res
    fl, sk = res["fastlinear"], res["sklearn"]
    row = dict(fastlinear=fl, sklearn=sk)
    for name in others or {}:
        row[name] = res[name]
    row["gap"] = (fl["objective"] - sk["objective"]) / abs(sk["objective"])
    row["sk_max_iter"] = sk["n_iter"] >= sk_max_iter
    fl_time = fl["time"]
    if row["sk_max_iter"] and ours_at_tol is not None:
        # Time to reach scikit-learn's final objective.
        for tol in TOL_LADDER:
            est, elapsed = _timed(lambda tol=tol: ours_at_tol(tol).set_params(max_iter=LADDER_MAX_ITER), X, y)
            obj = objective(est, X, y)
            if obj <= sk["objective"]:
                row["to_objective"] = dict(tol=tol, time=elapsed, objective=obj)
                # The default fit counts too when its objective is close enough.
                fl_time = min(fl_time, elapsed) if row["gap"] <= GAP_LIMIT else elapsed
                break
            if _n_iter(est) >= LADDER_MAX_ITER:
                break  # a tighter tol reruns the same passes
    row["ratio"] = sk["time"] / fl_time
    row["ok"] = row["gap"] <= GAP_LIMIT or "to_objective" in row
    return row


def _log_row(log, row, what=""):
    fl, sk = row["fastlinear"], row["sklearn"]
    reach = ""
    if row.get("to_objective"):
        reach = f" [sk objective at tol {row['to_objective']['tol']:g}: {row['to_objective']['time']:.3f}s]"
    log(f"  fastlinear {fl['time']:.3f}s ({fl['n_iter']} it{what}) sklearn {sk['time']:.3f}s "
        f"({sk['n_iter']} it) x{row['ratio']:.2f} gap {row['gap']:+.1e}{reach}")


def _load(name, log):
    try:
        return wl.load_workload(name)
    except wl.DataUnavailable as exc:
        log(f"SKIP {name}: {exc}")
        return None


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------
def section_defaults(names, log, budget=45.0, Cs=DEFAULT_CS, losses=("squared_hinge", "hinge"),
                     liblinear=True, rounds=5, secondary_rounds=1, cs_for=None):
    """``LinearSVC(C=C, loss=loss)`` against ``sklearn.svm.LinearSVC(C=C, loss=loss)``,
    each with its own defaults, and liblinear-official's default for the loss.

    ``cs_for`` maps ``(workload, loss)`` to its own C list (default ``Cs``).
    """
    from sklearn.svm import LinearSVC as SkLinearSVC

    from fastlinear import LinearSVC

    rows = []
    for name in names:
        data = _load(name, log)
        if data is None:
            continue
        X, y, _, _ = data
        problem = None
        if liblinear:
            try:
                from liblinear.liblinearutil import parameter, train
                from liblinear.liblinearutil import problem as ll_problem

                problem = ll_problem(np.asarray(y, dtype=np.float64), X)
            except ImportError:
                problem = None
        for loss in losses:
            for C in (cs_for or {}).get((name, loss), Cs):
                log(f"defaults {name} {loss} C={C:g} ...")
                others = {}
                if problem is not None:
                    def official(r, C=C, loss=loss):
                        model = train(problem, parameter(f"-s {3 if loss == 'hinge' else 1} -c {C!r} -B 1 -q"))
                        return model, lambda: dict(objective=_liblinear_objective(model, X, y, C, loss),
                                                   n_iter=None)

                    others["liblinear"] = official
                row = compare(lambda C=C, loss=loss: LinearSVC(C=C, loss=loss, random_state=SEED),
                              lambda C=C, loss=loss: SkLinearSVC(C=C, loss=loss, random_state=SEED),
                              X, y, _svc_objective, budget=budget, rounds=rounds, others=others,
                              secondary=("liblinear",), secondary_rounds=secondary_rounds,
                              ours_at_tol=lambda tol, C=C, loss=loss: LinearSVC(C=C, loss=loss, tol=tol,
                                                                                random_state=SEED),
                              extra=lambda est: dict(solver=getattr(est, "solver_", "")))
                row.update(workload=name, loss=loss, C=C, solver=row["fastlinear"]["solver"],
                           sk_solver="dual" if _sk_dual("auto", loss, "l2", X) else "primal")
                rows.append(row)
                _log_row(log, row, f", {row['solver']}")
    return rows


def section_primal(names, log, budget=45.0, Cs=DEFAULT_CS, rounds=5, cs_for=None, tol=1e-4):
    """Squared hinge, ``dual=False`` on both sides (Newton against liblinear ``-s 2``)."""
    from sklearn.svm import LinearSVC as SkLinearSVC

    from fastlinear import LinearSVC

    rows = []
    for name in names:
        data = _load(name, log)
        if data is None:
            continue
        X, y, _, _ = data
        for C in (cs_for or {}).get(name, Cs):
            log(f"primal {name} C={C:g} ...")
            row = compare(lambda C=C: LinearSVC(C=C, dual=False, tol=tol, random_state=SEED),
                          lambda C=C: SkLinearSVC(C=C, dual=False, tol=tol, random_state=SEED),
                          X, y, _svc_objective, budget=budget, rounds=rounds,
                          ours_at_tol=lambda t, C=C: LinearSVC(C=C, dual=False, tol=t, random_state=SEED))
            row.update(workload=name, loss="squared_hinge", C=C, tol=tol)
            rows.append(row)
            _log_row(log, row)
    return rows


def section_primal_threads(log, name="synthetic", Cs=(1.0, 10.0), budget=45.0, rounds=5, tol=1e-4):
    """fastlinear ``dual=False`` with ``n_jobs=1`` against ``n_jobs=2`` (same model)."""
    from fastlinear import LinearSVC

    data = _load(name, log)
    if data is None:
        return []
    X, y, _, _ = data
    rows = []
    for C in Cs:
        log(f"primal threads {name} C={C:g} ...")
        fits = {}
        for jobs in (1, 2):
            def run(r, jobs=jobs, C=C):
                est = _quiet(lambda: LinearSVC(C=C, dual=False, tol=tol, n_jobs=jobs, random_state=SEED), X, y)
                return est, lambda: dict(objective=_svc_objective(est, X, y), n_iter=_n_iter(est),
                                         w=np.append(np.ravel(est.coef_), est.intercept_))
            fits[f"n_jobs={jobs}"] = run
        res = alternate(fits, budget, rounds=rounds, min_rounds=min(3, rounds))
        one, two = res["n_jobs=1"], res["n_jobs=2"]
        w1, w2 = one.pop("w"), two.pop("w")
        row = dict(workload=name, C=C, tol=tol, one=one, two=two, ratio=one["time"] / two["time"],
                   w_diff=float(np.linalg.norm(w1 - w2) / np.linalg.norm(w1)),
                   obj_diff=abs(one["objective"] - two["objective"]) / abs(one["objective"]))
        row["same"] = row["w_diff"] <= 1e-8
        rows.append(row)
        log(f"  n_jobs=1 {one['time']:.3f}s n_jobs=2 {two['time']:.3f}s x{row['ratio']:.2f} "
            f"|w1 - w2| / |w1| {row['w_diff']:.1e}")
    return rows


def section_l1(names, log, budget=45.0, Cs=(0.01, 0.1, 1.0), rounds=5, max_fit=L1_MAX_FIT, extra_cs=True,
               cs_for=None):
    """``penalty="l1", dual=False`` (liblinear ``-s 5``) on both sides, default tol.

    Cs ascending (the L1 fits get slower with C).  When none of ``Cs`` gives a
    sparse but nonzero scikit-learn model (at most ``SPARSE_SHARE`` of the
    weights nonzero), one more C is measured: ten times below the smallest
    when every model is dense, ten times above the largest when every model
    is zero.  scikit-learn runs first in each cell: where its first fit
    takes more than ``max_fit`` seconds, that C and the larger ones of the
    workload are left out (listed under ``skipped``).

    Returns ``{"rows": [...], "skipped": [...]}``.
    """
    from sklearn.svm import LinearSVC as SkLinearSVC

    from fastlinear import LinearSVC

    def nonzeros(est):
        return dict(nnz=_nnz(est.coef_), size=int(np.prod(est.coef_.shape)))

    rows, skipped = [], []
    for name in names:
        data = _load(name, log)
        if data is None:
            continue
        X, y, _, _ = data
        base = tuple((cs_for or {}).get(name, Cs))
        todo = sorted(base)
        done = []
        while todo:
            C = todo.pop(0)
            log(f"l1 {name} C={C:g} ...")
            row = compare(lambda C=C: LinearSVC(C=C, penalty="l1", dual=False, random_state=SEED),
                          lambda C=C: SkLinearSVC(C=C, penalty="l1", dual=False, random_state=SEED),
                          X, y, _svc_objective, budget=budget, rounds=rounds, max_fit=max_fit,
                          ours_at_tol=lambda t, C=C: LinearSVC(C=C, penalty="l1", dual=False, tol=t,
                                                               random_state=SEED),
                          extra=nonzeros)
            if "cut" in row:
                left = ", ".join(f"{c:g}" for c in [C] + todo)
                skipped.append(dict(workload=name, C=[C] + todo, sklearn_time=row["cut"], limit=max_fit))
                log(f"SKIP l1 {name} C={left}: a single scikit-learn fit at C={C:g} took {row['cut']:.0f} s "
                    f"(> {max_fit:g} s)")
                break
            row.update(workload=name, loss="squared_hinge", C=C, added=C not in base)
            rows.append(row)
            done.append(row)
            _log_row(log, row, f", nnz {row['fastlinear']['nnz']}")
            log(f"  nonzero weights: fastlinear {row['fastlinear']['nnz']}, sklearn "
                f"{row['sklearn']['nnz']} of {row['sklearn']['size']}")
            if not todo and extra_cs and len(done) == len(base):
                shares = [r["sklearn"]["nnz"] / r["sklearn"]["size"] for r in done]
                if not any(0 < s <= SPARSE_SHARE for s in shares):
                    more = min(base) / 10 if all(s > SPARSE_SHARE for s in shares) else max(base) * 10
                    log(f"l1 {name}: no sparse nonzero model at C = {', '.join(f'{c:g}' for c in base)}; "
                        f"adding C={more:g}")
                    todo.append(more)
    return dict(rows=rows, skipped=skipped)


def section_crammer_singer(names, log, budget=45.0, Cs=(0.1, 1.0), rounds=5, cs_for=None):
    """``multi_class="crammer_singer"`` on both sides (liblinear ``-s 4``), default tol."""
    from sklearn.svm import LinearSVC as SkLinearSVC

    from fastlinear import LinearSVC
    from fastlinear.svm import CRAMMER_SINGER_MAX_ITER

    rows = []
    for name in names:
        data = _load(name, log)
        if data is None:
            continue
        X, y, _, _ = data
        for C in (cs_for or {}).get(name, Cs):
            log(f"crammer_singer {name} C={C:g} ...")
            row = compare(lambda C=C: LinearSVC(C=C, multi_class="crammer_singer", random_state=SEED),
                          lambda C=C: SkLinearSVC(C=C, multi_class="crammer_singer", random_state=SEED),
                          X, y, _svc_objective, budget=budget, rounds=rounds,
                          ours_at_tol=lambda t, C=C: LinearSVC(C=C, multi_class="crammer_singer", tol=t,
                                                               random_state=SEED),
                          sk_max_iter=SK_CS_MAX_ITER, ours_max_iter=CRAMMER_SINGER_MAX_ITER)
            row.update(workload=name, C=C, classes=int(len(np.unique(y))))
            rows.append(row)
            _log_row(log, row)
    return rows


def section_svr(names, log, budget=45.0, rounds=5, C=1.0,
                losses=("epsilon_insensitive", "squared_epsilon_insensitive"), tol=1e-4):
    """``fastlinear.LinearSVR`` against ``sklearn.svm.LinearSVR``: (a) defaults
    against defaults (C=1, epsilon=0, each library's ``dual``), (b) ``dual=True``
    on both sides, tol 1e-4; R^2 on the test split.

    Where (b)'s settings are what (a) already ran on both sides (each
    library's ``dual="auto"`` chose the dual, at the same tol), the (a) cell
    is reported for (b) too instead of being measured twice.
    """
    from sklearn.svm import LinearSVR as SkLinearSVR

    from fastlinear import LinearSVR

    rows = []
    shapes = {}
    for name in names:
        data = _load(name, log)
        if data is None:
            continue
        X, y, Xt, yt = data
        shapes[name] = dict(train=wl.describe(X), test=wl.describe(Xt))

        def r2(est, Xt=Xt, yt=yt):
            return dict(r2=float(est.score(Xt, yt)), solver=getattr(est, "solver_", ""))

        for loss in losses:
            first = None
            for setting in ("defaults", "dual"):
                sk_dual = _sk_dual("auto" if setting == "defaults" else True, loss, "l2", X)
                if (setting == "dual" and first is not None and first["sk_solver"] == "dual"
                        and first["fastlinear"]["solver"] == "dual_cd"):
                    row = dict(first, setting=setting, same_as_defaults=True)
                    rows.append(row)
                    log(f"svr {name} {loss} dual=True: the settings of the defaults cell, not measured again")
                    continue
                log(f"svr {name} {loss} {setting} ...")
                kw = {} if setting == "defaults" else dict(dual=True, tol=tol)
                row = compare(lambda loss=loss, kw=kw: LinearSVR(C=C, loss=loss, random_state=SEED, **kw),
                              lambda loss=loss, kw=kw: SkLinearSVR(C=C, loss=loss, random_state=SEED, **kw),
                              X, y, _svr_objective, budget=budget, rounds=rounds,
                              ours_at_tol=lambda t, loss=loss, kw=kw: LinearSVR(
                                  C=C, loss=loss, random_state=SEED, **dict(kw, tol=t)),
                              extra=r2)
                row.update(workload=name, loss=loss, C=C, setting=setting,
                           sk_solver="dual" if sk_dual else "primal",
                           r2_diff=row["fastlinear"]["r2"] - row["sklearn"]["r2"])
                rows.append(row)
                if setting == "defaults":
                    first = row
                _log_row(log, row, f", {row['fastlinear']['solver']}")
                log(f"  R2 fastlinear {row['fastlinear']['r2']:.5f} sklearn {row['sklearn']['r2']:.5f}")
    return dict(rows=rows, workloads=shapes)


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------
def _runs(stats, rounds):
    """`` (n)`` after a median of fewer runs than ``rounds``."""
    return f" ({stats['runs']})" if stats.get("runs", rounds) < rounds else ""


def _e(x):
    """1e-4, not 0.0001."""
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _s(x):
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def _ratio_cell(r):
    cell = f"**{r['ratio']:.2f}**"
    if r.get("to_objective"):
        cell += f" [{r['to_objective']['tol']:g}: {_s(r['to_objective']['time'])}]"
    return cell


def _iters(stats):
    it = stats.get("n_iter")
    return "—" if it is None else (f"{it}*" if it >= stats.get("max_iter", MAX_ITER) else f"{it}")


def summary(rows, add, what="x sk"):
    """The line after a table: ratios and objectives over its cells."""
    rows = [r for r in rows if not r.get("same_as_defaults")]
    if not rows:
        return
    ratios = np.array([r["ratio"] for r in rows])
    close = sum(r["gap"] <= GAP_LIMIT for r in rows)
    reached = sum(r["gap"] > GAP_LIMIT and "to_objective" in r for r in rows)
    add(f"Median {what} {np.median(ratios):.2f}, smallest {ratios.min():.2f}; "
        f"{int(np.sum(ratios >= 1.5))} of {len(rows)} cells at 1.5 or more; gap ≤ {GAP_TEXT} in "
        f"{close} of {len(rows)} cells"
        + (f", and in {reached} more fastlinear reached the objective of scikit-learn's max_iter run"
           if reached else "")
        + f"; objective condition met in {close + reached} of {len(rows)}.\n")


SEED_TEXT = ("random_state = the round's index (0, 1, 2, ...) for both libraries, "
             "passes (*it*) and objectives the medians over the rounds. ")


def _rounds_text(rounds, budget):
    return (f"Times: medians of up to {rounds} alternating rounds"
            + (f" (fewer if the first round takes over {budget:g} s, never fewer than {min(3, rounds)}; "
               "(n) after a time = its runs)" if budget else "")
            + ". ")


COMMON_COLUMNS = ("Columns: *it* passes or Newton steps (`*`: stopped at max_iter); *x sk* = scikit-learn's "
                  "time / fastlinear's, where scikit-learn stopped at max_iter fastlinear's time to reach its "
                  "objective ([tol: seconds], the first tol of 0.1, 0.03, 0.01, ... that does, with max_iter "
                  "10,000); *gap* = (fastlinear's objective − scikit-learn's) / "
                  "|scikit-learn's|. ")


def markdown_intro(res, add):
    """The rules shared by the per-solver tables, written once before them."""
    if not any(res.get(k) for k in ("defaults", "primal", "primal_threads", "l1", "crammer_singer", "svr")):
        return
    add("## Per-solver tables: how they are measured\n")
    add("The tables below compare fastlinear with scikit-learn solver by solver. In each cell both "
        "libraries fit the same data with the same C (and, except in the defaults tables, the same "
        "tol, max_iter and solver), alternating in one process (fastlinear then scikit-learn, then the "
        "reverse order, and so on); a time is the median of the rounds, and *x sk* is scikit-learn's median time "
        "/ fastlinear's. Objectives are computed the same way for both from their coefficients "
        "(`fastlinear.linear_svc_objective`, `fastlinear.linear_svr_objective`, which read "
        "scikit-learn's estimators too), outside the timer; *gap* = (fastlinear's − scikit-learn's) / "
        f"|scikit-learn's|. A speed-up counts only if the gap is ≤ {GAP_TEXT} or, where scikit-learn "
        "stopped at max_iter, if fastlinear reached scikit-learn's final objective: fastlinear is then "
        "refitted at tol = 0.1, 0.03, 0.01, 3e-3, … until its objective is no larger, and the time of "
        "that fit (one run, shown in brackets with its tol) is the time compared, or its own fit's "
        f"time if shorter and within {GAP_TEXT}. Each table ends with the median and smallest ratio, "
        "the cells at 1.5 or more, and the cells that meet the objective condition.\n")


def markdown_defaults(rows, add, rounds=5, budget=45.0, note=""):
    """The defaults table (one row per workload x loss x C)."""
    if not rows:
        return
    add("## Defaults against defaults\n")
    Cs = sorted({r["C"] for r in rows})
    add("`fastlinear.LinearSVC(C=C, loss=loss)` against `sklearn.svm.LinearSVC(C=C, loss=loss)` "
        "and liblinear-official's default solver for the loss (`-s 1` / `-s 3`, `-e 0.1`, "
        "with `-B 1`), each with its own defaults (tol 1e-4 and max_iter 1000 for both "
        "LinearSVCs; scikit-learn's `dual=\"auto\"` runs the primal solver when "
        "n_samples ≥ n_features and the loss allows it, fastlinear's rule is in "
        "`fastlinear._solvers.choose_solver`), "
        f"C ∈ {{{', '.join(f'{c:g}' for c in Cs)}}}, both losses, "
        + SEED_TEXT + _rounds_text(rounds, budget)
        + "liblinear-official runs in the first round only (one run, a reference). "
        "Column *solver*: what fastlinear's `dual=\"auto\"` ran (`dual_cd+newton`: dual "
        "coordinate descent handed over to Newton after 300 passes); *sk solver*: what "
        "scikit-learn's `dual=\"auto\"` ran. " + COMMON_COLUMNS + note + "\n")
    add("| workload | loss | C | fastlinear s | solver | it | sklearn s | sk solver | it | "
        "x sk | gap | liblinear s | liblinear gap |")
    add("|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        fl, sk, ll = r["fastlinear"], r["sklearn"], r.get("liblinear")
        ll_cells = "— | —"
        if ll:
            ll_cells = f"{_s(ll['time'])} | {(ll['objective'] - sk['objective']) / abs(sk['objective']):+.1e}"
        add(f"| {r['workload']} | {r['loss']} | {r['C']:g} | {_s(fl['time'])}{_runs(fl, rounds)} | "
            f"{r['solver']} | {_iters(fl)} | {_s(sk['time'])}{_runs(sk, rounds)} | {r['sk_solver']} | "
            f"{_iters(sk)} | {_ratio_cell(r)} | {r['gap']:+.1e} | {ll_cells} |")
    add("")
    summary(rows, add)


def markdown_primal(rows, threads, add, rounds=5, budget=45.0, note=""):
    """The primal (``dual=False``) table and its threads table."""
    if not rows and not threads:
        return
    add("## Primal solver (`dual=False`)\n")
    if rows:
        Cs = sorted({r["C"] for r in rows})
        add("`fastlinear.LinearSVC(loss=\"squared_hinge\", dual=False, C=C, tol=1e-4)` (Newton's method) "
            "against `sklearn.svm.LinearSVC` with the same parameters (liblinear's `-s 2`, "
            "trust-region Newton), "
            f"C ∈ {{{', '.join(f'{c:g}' for c in Cs)}}}, max_iter 1000 (Newton steps), one thread. "
            + _rounds_text(rounds, budget) + COMMON_COLUMNS + note + "\n")
        add("| workload | C | fastlinear s | it | sklearn s | it | x sk | gap |")
        add("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            fl, sk = r["fastlinear"], r["sklearn"]
            add(f"| {r['workload']} | {r['C']:g} | {_s(fl['time'])}{_runs(fl, rounds)} | {_iters(fl)} | "
                f"{_s(sk['time'])}{_runs(sk, rounds)} | {_iters(sk)} | {_ratio_cell(r)} | {r['gap']:+.1e} |")
        add("")
        summary(rows, add)
    if threads:
        add("### Primal solver on two threads\n")
        add(f"`fastlinear.LinearSVC(dual=False, tol={_e(threads[0]['tol'])}, n_jobs=1)` against the same "
            f"with `n_jobs=2` on the {threads[0]['workload']} set (binary: the threads split each product with "
            "X), alternating, random_state=0. " + _rounds_text(rounds, budget)
            + "*x* = one-thread median time / two-thread median time; *|Δw| / |w|* = relative "
            "difference of the two models (coefficients and intercept, Euclidean norm; they should "
            "agree to 1e-8), *Δobjective* likewise for the objectives.\n")
        add("| workload | C | n_jobs=1 s | it | n_jobs=2 s | it | x | \\|Δw\\| / \\|w\\| | Δobjective |")
        add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in threads:
            add(f"| {r['workload']} | {r['C']:g} | {_s(r['one']['time'])}{_runs(r['one'], rounds)} | "
                f"{_iters(r['one'])} | {_s(r['two']['time'])}{_runs(r['two'], rounds)} | {_iters(r['two'])} | "
                f"**{r['ratio']:.2f}** | {r['w_diff']:.1e} | {r['obj_diff']:.1e} |")
        add("")
        same = sum(r["same"] for r in threads)
        add(f"Two threads: median x {np.median([r['ratio'] for r in threads]):.2f}; models equal to "
            f"1e-8 relative in {same} of {len(threads)} cells.\n")


def markdown_l1(res, add, rounds=5, budget=45.0, note=""):
    rows = (res or {}).get("rows") or []
    skipped = (res or {}).get("skipped") or []
    if not rows and not skipped:
        return
    add("## L1 penalty (`penalty=\"l1\"`, `dual=False`)\n")
    base = sorted({r["C"] for r in rows if not r.get("added")})
    added = [f"{r['workload']} C={r['C']:g}" for r in rows if r.get("added")]
    add("`fastlinear.LinearSVC(penalty=\"l1\", loss=\"squared_hinge\", dual=False, C=C)` against "
        "`sklearn.svm.LinearSVC` with the same parameters (liblinear's `-s 5`, coordinate descent "
        "on the primal; default tol 1e-4 and max_iter 1000 on both sides), "
        + SEED_TEXT + f"C ∈ {{{', '.join(f'{c:g}' for c in base)}}}, plus one more C on a workload where none "
        f"of these gives a sparse nonzero model (at most {SPARSE_SHARE:.0%} of the weights nonzero; "
        "ten times below the smallest C if all are dense, ten times above the largest if all are zero)"
        + (f": {', '.join(added)}" if added else ": none was needed") + ". "
        + _rounds_text(rounds, budget)
        + f"scikit-learn runs first in each cell; where its first fit takes more than {L1_MAX_FIT:g} s, "
        "that C and the larger ones of the workload are left out (listed after the table). *nnz*: "
        "nonzero weights (all rows of `coef_`) out of *weights* (classes × features). " + COMMON_COLUMNS + note + "\n")
    add("| workload | C | fastlinear s | it | nnz | sklearn s | it | nnz | weights | x sk | gap |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        fl, sk = r["fastlinear"], r["sklearn"]
        add(f"| {r['workload']} | {r['C']:g} | {_s(fl['time'])}{_runs(fl, rounds)} | {_iters(fl)} | "
            f"{fl['nnz']:,} | {_s(sk['time'])}{_runs(sk, rounds)} | {_iters(sk)} | {sk['nnz']:,} | "
            f"{sk['size']:,} | {_ratio_cell(r)} | {r['gap']:+.1e} |")
    add("")
    for sk in skipped:
        add(f"- {sk['workload']}: C = {', '.join(f'{c:g}' for c in sk['C'])} left out: a single scikit-learn "
            f"fit at C = {sk['C'][0]:g} took {_s(sk['sklearn_time'])} s (> {sk.get('limit', L1_MAX_FIT):g} s).")
    if skipped:
        add("")
    summary(rows, add)


def markdown_crammer_singer(rows, add, rounds=5, budget=45.0, note=""):
    if not rows:
        return
    add("## Crammer-Singer (`multi_class=\"crammer_singer\"`)\n")
    Cs = sorted({r["C"] for r in rows})
    ours_cap = max(r["fastlinear"].get("max_iter", MAX_ITER) for r in rows)
    caps = (f"both run to tol, at most {SK_CS_MAX_ITER:,} passes: scikit-learn's liblinear ignores "
            "max_iter for this solver, and fastlinear does as it does" if ours_cap >= SK_CS_MAX_ITER
            else f"max_iter {ours_cap:,} for fastlinear, while scikit-learn's liblinear ignores "
            f"max_iter for this solver and stops at {SK_CS_MAX_ITER:,} passes")
    add("`fastlinear.LinearSVC(multi_class=\"crammer_singer\", C=C)` against `sklearn.svm.LinearSVC` "
        f"with the same parameters (liblinear's `-s 4`; default tol 1e-4 on both sides; {caps}), "
        + SEED_TEXT + f"C ∈ {{{', '.join(f'{c:g}' for c in Cs)}}}. "
        "On a binary set this is still the joint problem of Crammer and Singer (a different problem "
        "from the binary SVM; both libraries report w = w₁ − w₀), and its objective is computed from that model. "
        + _rounds_text(rounds, budget) + COMMON_COLUMNS + note + "\n")
    add("| workload | classes | C | fastlinear s | it | sklearn s | it | x sk | gap |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        fl, sk = r["fastlinear"], r["sklearn"]
        add(f"| {r['workload']} | {r['classes']} | {r['C']:g} | {_s(fl['time'])}{_runs(fl, rounds)} | "
            f"{_iters(fl)} | {_s(sk['time'])}{_runs(sk, rounds)} | {_iters(sk)} | {_ratio_cell(r)} | "
            f"{r['gap']:+.1e} |")
    add("")
    summary(rows, add)


def markdown_svr(res, add, rounds=5, budget=45.0, note=""):
    rows = (res or {}).get("rows") or []
    if not rows:
        return
    add("## LinearSVR\n")
    shapes = res.get("workloads", {})
    add("`fastlinear.LinearSVR(C=1, loss=loss)` against `sklearn.svm.LinearSVR(C=1, loss=loss)` "
        "(epsilon = 0), for both losses, in two settings: *defaults*, each "
        "library's own `dual` (scikit-learn's `dual=\"auto\"`: the dual when n_samples < n_features or "
        "the loss is `epsilon_insensitive`, else the primal; fastlinear's rule is LinearSVC's) and "
        "tol 1e-4; *dual*, `dual=True` and tol 1e-4 on both sides. Where *defaults* already ran "
        "the dual on both sides (fastlinear's `dual=\"auto\"` ran dual coordinate descent only, "
        "scikit-learn's chose the dual), the *defaults* cell is shown again for *dual* (marked =). "
        + SEED_TEXT + _rounds_text(rounds, budget)
        + "*R²*: `score` on the test split; *ΔR²* = fastlinear's − scikit-learn's. "
        + COMMON_COLUMNS + note + "\n")
    if shapes:
        add("Workloads (train; test): " + "; ".join(f"{n} {s['train']}; {s['test']}" for n, s in shapes.items())
            + ". imdb_ratings is the IMDB TF-IDF matrix with y = the review's star rating (1–4, 7–10); "
            "synthetic_regression is the synthetic X with y = X w + 0.1 noise, Gaussian w (seed 1).\n")
    add("| workload | loss | setting | fastlinear s | solver | it | sklearn s | sk solver | it | x sk | gap | "
        "R² fl | R² sk | ΔR² |")
    add("|---|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        fl, sk = r["fastlinear"], r["sklearn"]
        mark = " (=)" if r.get("same_as_defaults") else ""
        add(f"| {r['workload']} | {r['loss']} | {r['setting']}{mark} | {_s(fl['time'])}{_runs(fl, rounds)} | "
            f"{fl['solver']} | {_iters(fl)} | {_s(sk['time'])}{_runs(sk, rounds)} | {r['sk_solver']} | "
            f"{_iters(sk)} | {_ratio_cell(r)} | {r['gap']:+.1e} | {fl['r2']:.4f} | {sk['r2']:.4f} | "
            f"{r['r2_diff']:+.1e} |")
    add("")
    summary(rows, add)
    imdb = [r for r in rows if r["workload"] == "imdb_ratings" and not r.get("same_as_defaults")]
    if imdb:
        worst = max(abs(r["r2_diff"]) for r in imdb)
        add(f"On imdb_ratings, the largest |ΔR²| is {worst:.1e} over {len(imdb)} cells (the bound checked: "
            f"{'within' if worst <= 0.002 else '**outside**'} 0.002 of scikit-learn's R²).\n")


# --------------------------------------------------------------------------
# What the report runs
# --------------------------------------------------------------------------
#: The slow classification workloads: fewer C in the full report (see plan()).
BIG = ("news20", "imdb", "synthetic")


def _cs_text(Cs):
    return "{" + ", ".join(f"{c:g}" for c in Cs) + "}"


def plan(quick, names=None, full_grid=False):
    """Workloads and C of each per-solver section: the full report, ``--quick``
    or ``--full-grid`` (every C on every workload).

    ``names`` (``--workloads``) limits the classification workloads.  A
    section's ``note`` says what the report leaves out, for its table.

    The full report keeps within about an hour on 2 cores: a cell at large C
    on news20, imdb or synthetic costs 1-5 minutes (3 rounds of each library
    plus the time-to-objective fits), so those workloads get fewer C.
    """
    if quick:
        small = ["a9a", "w8a"]
        out = dict(
            defaults=dict(workloads=small, Cs=(0.1, 10.0)),
            primal=dict(workloads=small, Cs=(0.1, 10.0), threads=()),
            l1=dict(workloads=small, Cs=(0.01, 0.1)),
            crammer_singer=dict(workloads=small, Cs=(0.1,)),
            svr=dict(workloads=["imdb_ratings"]),
        )
        for key in out:
            out[key]["note"] = "(`--quick`: a9a and w8a only, few C.)" if key != "svr" else \
                "(`--quick`: imdb_ratings only.)"
        out["primal"]["note"] += " The two-thread table needs the synthetic set, left out."
    else:
        big_cs, big_primal = (0.01, 1.0, 100.0), (0.01, 0.1, 1.0)
        out = dict(
            defaults=dict(workloads=list(CLASSIFICATION), Cs=DEFAULT_CS,
                          cs_for={(n, loss): big_cs for n in BIG for loss in ("squared_hinge", "hinge")}),
            primal=dict(workloads=list(CLASSIFICATION), Cs=DEFAULT_CS,
                        cs_for={n: big_primal for n in BIG}, threads=(1.0, 10.0)),
            l1=dict(workloads=["a9a", "w8a", "news20", "imdb", "synthetic"], Cs=(0.01, 0.1, 1.0),
                    cs_for={"news20": (0.01, 0.1)}),
            crammer_singer=dict(workloads=list(CRAMMER_SINGER), Cs=(0.1, 1.0)),
            svr=dict(workloads=list(REGRESSION)),
        )
        if full_grid:
            for key in ("defaults", "primal", "l1"):
                out[key].pop("cs_for")
        else:
            out["defaults"]["note"] = (
                f"Left out to keep the report within about an hour: C = 0.1 and 10 on {', '.join(BIG)}, "
                f"where C ∈ {_cs_text(big_cs)} (a cell at large C costs 1-5 minutes there); "
                "`--full-grid` runs every C.")
            out["primal"]["note"] = (
                f"Left out: C ≥ 10 on {', '.join(BIG)}, where one scikit-learn primal fit takes minutes "
                "(`--full-grid` runs every C).")
            out["l1"]["note"] = (
                "Left out: news20 at C = 1, where both libraries run 1000 passes of 20 problems "
                "(3-4 minutes for the cell; `--full-grid` runs it).")
    if names is not None:
        for key in ("defaults", "primal", "l1", "crammer_singer"):
            out[key]["workloads"] = [n for n in out[key]["workloads"] if n in names]
    return out
