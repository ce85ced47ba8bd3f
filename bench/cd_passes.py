"""Passes of the coordinate-descent solvers against liblinear's: same algorithm, other random order.

fastlinear's dual coordinate descent (liblinear ``-s 1``/``-s 3``) and its
L1 coordinate descent (``-s 5``, CDN) stop after a number of passes that
depends on the random visiting order.  This script separates the two things
a difference in passes could come from:

1. **The algorithm** (``--part replay``).  The NumPy twins of the kernels
   (``tests/_reference.py``, ``tests/_reference_l1.py``; the tests prove them
   equal to the kernels for the kernels' own generator) are given another
   library's visiting order and order of additions, and must end at that
   library's weights:

   * ``-s 5`` on w8a against liblinear-official: its order is the C
     library's ``rand() % (n - j)``, seeded here with ``srand``;
   * ``-s 3`` on the first 2,000 rows of a9a against scikit-learn's liblinear:
     std::mt19937 seeded from ``random_state``, bounded by Lemire's method.

   The rows are put in the order in which those libraries group them by class,
   so that their internal permutation is the identity.  Equal weights and
   equal pass counts mean the same steps, line searches, shrinking and
   stopping test.

2. **The generator** (``--part counts``).  Passes to convergence over many
   seeds (``random_state`` 0, 1, ...; ``srand(seed + 1)`` for liblinear-official)
   for fastlinear, scikit-learn and, for ``-s 5``, liblinear-official, with
   their quartiles, means and the two-sided Mann-Whitney U p-value of
   fastlinear against each.  Only passes are compared, not times.

    python bench/cd_passes.py --part replay
    python bench/cd_passes.py --part counts --seeds 150

Data come from ``bench/workloads.py`` and the shared data folder
(``FASTLINEAR_DATA``); a set that is absent is skipped with a message.
"""
import argparse
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.stats import mannwhitneyu
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC as SkLinearSVC

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fastlinear import LinearSVC  # noqa: E402

from _reference import LibcRand, SklearnLiblinearRand, reference_dcd  # noqa: E402
from _reference_l1 import reference_l1_cd  # noqa: E402
from workloads import DataUnavailable, load_workload  # noqa: E402

# (set, solver, C): the cells of bench/results/REPORT.md whose pass counts
# differed most from scikit-learn's with random_state=0.
CELLS = [("w8a", "l1", 0.1), ("a9a", "l1", 0.01), ("a9a", "hinge", 0.01), ("w8a", "hinge", 0.01)]
ESTIMATOR = {"l1": dict(penalty="l1", loss="squared_hinge", dual=False),
             "hinge": dict(loss="hinge", dual=True)}
TOL = 1e-4


def load(name, n_rows=None):
    X, y = load_workload(name)[:2]
    X = sp.csr_matrix(X, dtype=np.float64)[:n_rows]
    return X, np.where(np.asarray(y)[:X.shape[0]] > 0, 1.0, -1.0)


def official_problem(X, y):
    """liblinear-official's copy of ``(X, y)``, built once per data set (its
    conversion costs more than a fit of w8a)."""
    from liblinear import liblinear

    return liblinear.problem(y, X)


def liblinear_official(prob, n_features, C, eps, seed):
    """``train -s 5 -c C -B 1 -e eps`` on ``prob`` after ``srand(seed)``: (w
    with the bias last, passes).  The passes are read from liblinear's own
    output, which it writes to the C library's stdout."""
    from liblinear import liblinear, liblinearutil

    order = LibcRand(seed)
    saved = os.dup(1)
    with tempfile.TemporaryFile() as out:
        sys.stdout.flush()
        os.dup2(out.fileno(), 1)
        try:
            order.reseed()
            model = liblinearutil.train(prob, liblinear.parameter(f"-s 5 -c {C} -B 1 -e {eps}"))
            order.libc.fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        out.seek(0)
        text = out.read().decode()
    sign = 1.0 if model.get_labels()[0] == 1 else -1.0
    w = sign * np.array([model.w[j] for j in range(n_features + 1)])
    return w, int(re.findall(r"#iter = (\d+)", text)[-1])


def liblinear_tol(y, eps):
    """liblinear's ``-s 5`` tolerance: ``eps * max(min(n+, n-), 1) / n``."""
    n_pos = int(np.count_nonzero(y > 0))
    return eps * max(min(n_pos, y.size - n_pos), 1) / y.size


def replay(seeds):
    print("## Replays: the NumPy twins given the other library's order\n")
    print("| solver | data | C | seed | their passes | twin's passes | max abs weight difference "
          "| twin time |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    try:
        X, y = load("w8a")
    except DataUnavailable as error:
        print(f"w8a: skipped ({error})", file=sys.stderr)
    else:
        rows = np.argsort(-y, kind="stable")  # +1 first: liblinear-official's grouping
        X, y = X[rows].tocsr(), y[rows]
        C = 0.1
        prob = official_problem(X, y)
        for seed in seeds:
            w_theirs, n_theirs = liblinear_official(prob, X.shape[1], C, TOL, seed + 1)
            order = LibcRand(seed + 1)
            start = time.perf_counter()
            w_twin, n_twin, _ = reference_l1_cd(
                X, y, np.full(y.size, C), bias=1.0, tol=liblinear_tol(y, TOL), max_iter=1000,
                seed=0, rng=order, sums="sequential")
            print(f"| -s 5, liblinear-official 2.50 | w8a | {C:g} | srand({seed + 1}) | {n_theirs} "
                  f"| {n_twin} | {np.max(np.abs(w_twin - w_theirs)):.3g} "
                  f"| {time.perf_counter() - start:.1f} s |", flush=True)
    try:
        X, y = load("a9a", n_rows=2000)
    except DataUnavailable as error:
        print(f"a9a: skipped ({error})", file=sys.stderr)
        return
    rows = np.argsort(y, kind="stable")  # class -1 first: scikit-learn's grouping
    X, y = X[rows].tocsr(), y[rows]
    for C in (0.01, 1.0):
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                theirs = SkLinearSVC(loss="hinge", C=C, tol=TOL, random_state=seed).fit(X, y)
            start = time.perf_counter()
            w_twin, _, n_twin = reference_dcd(
                X, y, np.full(y.size, C), hinge=True, bias=1.0, tol=TOL, max_iter=1000, seed=0,
                rng=SklearnLiblinearRand(seed), sums="sequential")
            w_theirs = np.r_[theirs.coef_[0], theirs.intercept_]
            print(f"| -s 3, scikit-learn | a9a[:2000] | {C:g} | random_state={seed} "
                  f"| {theirs.n_iter_} | {n_twin} | {np.max(np.abs(w_twin - w_theirs)):.3g} "
                  f"| {time.perf_counter() - start:.1f} s |", flush=True)
    print()


def counts(n_seeds, cells):
    print(f"## Passes to convergence over {n_seeds} seeds (tol = -e = {TOL:g})\n")
    print("| data | solver | C | library | passes: 25 % / median / 75 % | mean "
          "| p (fastlinear vs this) |")
    print("|---|---|---:|---|---|---:|---:|")
    for name, solver, C in cells:
        try:
            X, y = load(name)
        except DataUnavailable as error:
            print(f"{name}: skipped ({error})", file=sys.stderr)
            continue
        passes = {"fastlinear": [], "scikit-learn": []}
        if solver == "l1":
            passes["liblinear-official"] = []
            prob = official_problem(X, y)
        for seed in range(n_seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for who, cls in (("fastlinear", LinearSVC), ("scikit-learn", SkLinearSVC)):
                    est = cls(C=C, tol=TOL, random_state=seed, **ESTIMATOR[solver]).fit(X, y)
                    passes[who].append(int(np.max(est.n_iter_)))
            if solver == "l1":
                passes["liblinear-official"].append(
                    liblinear_official(prob, X.shape[1], C, TOL, seed + 1)[1])
        ours = passes["fastlinear"]
        for who, counts_ in passes.items():
            q25, q50, q75 = np.percentile(counts_, [25, 50, 75])
            p = "" if who == "fastlinear" else f"{mannwhitneyu(ours, counts_).pvalue:.2f}"
            print(f"| {name} | {solver} | {C:g} | {who} | {q25:g} / {q50:g} / {q75:g} "
                  f"| {np.mean(counts_):.1f} | {p} |", flush=True)
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["replay", "counts", "both"], default="both")
    parser.add_argument("--seeds", type=int, default=150, help="seeds per cell for the counts")
    parser.add_argument("--replay-seeds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.part in ("replay", "both"):
        replay(range(args.replay_seeds))
    if args.part in ("counts", "both"):
        counts(args.seeds, CELLS)


if __name__ == "__main__":
    main()
