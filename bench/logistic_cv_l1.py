"""L1 ``LogisticRegressionCV``: fastlinear vs scikit-learn, the whole search.

For every data set, in one process, alternating the contenders
(``--repeat`` rounds), one BLAS thread and ``n_jobs=1`` for everyone:
``LogisticRegressionCV(Cs=10, cv=5, l1_ratios=(1,), scoring="neg_log_loss")``
with

* scikit-learn's ``solver="saga"`` (its only solver for the L1 problem with
  a free intercept) against fastlinear's default (``"auto"``: newGLMNET on
  the same problem, warm-started along the C grid);
* ``solver="liblinear"`` in both (liblinear's ``-s 6`` problem, penalised
  intercept; scikit-learn refits every C from zero).

Both at scikit-learn's defaults otherwise (``tol=1e-4``, ``max_iter=100``),
and fastlinear also at ``tol=1e-6``, to compare at an equal objective.
Beside each time: the C chosen, the refitted model's objective ``C sum_i
loss_i + ||w||_1`` (penalised intercept included for liblinear) relative to
the lowest at scikit-learn's C, its nonzero weights, the mean test score of
the chosen C, and whether the fit raised a ConvergenceWarning.

    python bench/logistic_cv_l1.py --out bench/results/LOGISTIC_CV_L1.md
    python bench/logistic_cv_l1.py --sets a9a --repeat 1
    python bench/logistic_cv_l1.py --sets w8a --problems liblinear --repeat 5

Data come from ``bench/workloads.py`` and the shared data folder
(``FASTLINEAR_DATA``); a set that is absent is skipped with a message.
"""
import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn import linear_model as sklm
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fastlinear  # noqa: E402

from workloads import DataUnavailable, hardware, load_workload, machine_info  # noqa: E402

SEARCH = dict(Cs=10, cv=5, l1_ratios=(1,), scoring="neg_log_loss", use_legacy_attributes=False,
              n_jobs=1)


def objective(est, X, y, liblinear):
    """``C sum_i log(1 + exp(-y_i z_i)) + ||w||_1`` (+ ``|b|`` for liblinear)."""
    t = np.where(y == est.classes_[1], 1.0, -1.0)
    z = np.asarray(X @ est.coef_[0]).ravel() + est.intercept_[0]
    penalty = np.abs(est.coef_).sum() + (abs(est.intercept_[0]) if liblinear else 0.0)
    return float(est.C_ * np.sum(np.logaddexp(0.0, -t * z)) + penalty)


def load(name):
    X, y = load_workload(name)[:2]
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


def fit(cls, params, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        est = cls(**SEARCH, **params).fit(X, y)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return est, seconds, warned


#: (problem, contender, class, parameters); the last of each problem is the reference.
CONTENDERS = [
    ("saga / auto", "fastlinear", fastlinear.LogisticRegressionCV, dict(solver="auto")),
    ("saga / auto", "fastlinear tol=1e-6", fastlinear.LogisticRegressionCV,
     dict(solver="auto", tol=1e-6)),
    ("saga / auto", "sklearn saga", sklm.LogisticRegressionCV, dict(solver="saga")),
    ("liblinear", "fastlinear", fastlinear.LogisticRegressionCV, dict(solver="liblinear")),
    ("liblinear", "sklearn liblinear", sklm.LogisticRegressionCV, dict(solver="liblinear")),
]


def run(sets, repeat, problems=None):
    rows = []
    for name in sets:
        try:
            X, y = load(name)
        except DataUnavailable as error:
            print(f"{name}: skipped ({error})", file=sys.stderr)
            continue
        for problem in dict.fromkeys(c[0] for c in CONTENDERS):
            if problems is not None and problem not in problems:
                continue
            group = [c for c in CONTENDERS if c[0] == problem]
            times = {who: [] for _, who, _, _ in group}
            result = {}
            for _ in range(repeat):
                for _, who, cls, params in group:
                    est, seconds, warned = fit(cls, params, X, y)
                    times[who].append(seconds)
                    best = int(np.flatnonzero(est.Cs_ == est.C_)[0])
                    result[who] = dict(C=float(est.C_), warned=warned,
                                       J=objective(est, X, y, problem == "liblinear"),
                                       nnz=int(np.count_nonzero(est.coef_)),
                                       score=float(est.scores_[:, 0, best].mean()))
                    print(f"{name:5s} {problem:12s} {who:20s} {seconds:8.2f} s  "
                          f"C_={est.C_:.4g}  J={result[who]['J']:.8g}  warned={warned}",
                          flush=True)
            reference = group[-1][1]
            same_C = [w for w in result if result[w]["C"] == result[reference]["C"]]
            low = min(result[w]["J"] for w in same_C)
            for who in times:
                r = dict(result[who], set=name, shape=f"{X.shape[0]} x {X.shape[1]}",
                         problem=problem, who=who, time=statistics.median(times[who]))
                r["gap"] = (r["J"] - low) / low if who in same_C else None
                r["speedup"] = statistics.median(times[reference]) / r["time"]
                rows.append(r)
    return rows


def markdown(rows, command, repeat):
    cpu = platform.processor() or platform.machine()
    lines = [
        "# L1 LogisticRegressionCV: the whole search",
        "",
        f"Command: `{command}`",
        "",
        f"fastlinear {fastlinear.__version__}; hardware: {hardware(machine_info())} (shared "
        f"with other jobs), {cpu}, Python {platform.python_version()}, one BLAS thread, `n_jobs=1`.",
        "",
        "`LogisticRegressionCV(Cs=10, cv=5, l1_ratios=(1,), scoring=\"neg_log_loss\")`, "
        "`tol=1e-4`, `max_iter=100` (scikit-learn's defaults) unless the row says otherwise. "
        "Problem `saga / auto`: free intercept (scikit-learn's saga against fastlinear's "
        "default, newGLMNET warm-started along C); `liblinear`: liblinear's `-s 6` problem in "
        f"both. Time: median of {repeat} alternating round(s), the whole fit (50 path fits and "
        "the refit). `speed-up`: scikit-learn's time over the row's. `gap`: the refitted "
        "model's objective `C sum_i loss_i + ||w||_1` at its C relative to the lowest among "
        "the rows that chose scikit-learn's C. `warned`: a ConvergenceWarning was raised.",
        "",
        "| set | problem | contender | time (s) | speed-up | C_ | gap | nnz | mean test score "
        "| warned |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        gap = "other C" if r["gap"] is None else f"{r['gap']:.1e}"
        lines.append(
            f"| {r['set']} ({r['shape']}) | {r['problem']} | {r['who']} | {r['time']:.2f} | "
            f"{r['speedup']:.1f}x | {r['C']:.4g} | {gap} | {r['nnz']} | {r['score']:.5f} | "
            f"{r['warned']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "w8a"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--problems", nargs="+", default=None,
                        choices=sorted(dict.fromkeys(c[0] for c in CONTENDERS)),
                        help="only these problems (saga's takes minutes a round)")
    parser.add_argument("--out", default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1, user_api="blas"):
        rows = run(args.sets, args.repeat, args.problems)
    if args.out and rows:
        command = "python bench/logistic_cv_l1.py " + " ".join(
            argv if argv is not None else sys.argv[1:])
        Path(args.out).write_text(markdown(rows, command.strip(), args.repeat))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
