"""LinearSVCCV against the assignment's loop over sklearn's LinearSVC.

For each data set (a9a bundled; w8a from the shared data folder, skipped with
a message when absent) this runs, end to end (grid of C, k-fold CV, refit):

* ``fastlinear.LinearSVCCV`` (warm-started C paths, folds in threads);
* optionally the same with ``warm_start=False`` (``--cold``), to isolate the
  gain of the warm starts;
* the plain loop ``cross_val_score(sklearn.svm.LinearSVC(C=c, dual=True,
  tol=1e-4, max_iter=60000, random_state=0), X, y, cv=3)`` for each C, then a
  refit with the best C.

Both sides solve the same problems to the same tolerance (equal quality,
not equal max_iter).  It prints wall and CPU times (CPU time sums the
threads, so its ratio does not depend on the number of cores), the CV means,
the best C, and the ratios, and writes them as JSON with ``--json``.

Usage::

    python bench/bench_cv.py                      # a9a and w8a
    python bench/bench_cv.py --datasets a9a --cold
    python bench/bench_cv.py --json bench_cv.json
"""
import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVCCV
from fastlinear.datasets import load_a9a, load_libsvm

from workloads import find_shared_file, shared_data_dir

CS = (0.01, 0.1, 1.0, 10.0, 100.0)


def load(name):
    if name == "a9a":
        X, y, _, _ = load_a9a()
        return X, y
    path = find_shared_file(f"{name}.bz2")
    if path is None:
        print(f"SKIP {name}: {name}.bz2 not found in {shared_data_dir()} "
              "(set FASTLINEAR_DATA to the folder of the LIBSVM .bz2 files)")
        return None
    return load_libsvm(path)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_fastlinear(X, y, args, warm):
    def fit():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            search = LinearSVCCV(
                Cs=CS, cv=args.cv, tol=args.tol, max_iter=args.max_iter,
                warm_start=warm, n_jobs=args.n_jobs, random_state=0,
            ).fit(X, y)
        return search, len(caught)

    (search, n_warn), wall, cpu = timed(fit)
    res = search.cv_results_
    return {
        "wall_s": wall, "cpu_s": cpu, "best_C": search.C_,
        "cv_mean": res["mean_test_score"].tolist(),
        "max_n_iter": res["max_n_iter"].tolist(),
        "fold_fit_s": res["mean_fit_time"].tolist(),
        "refit_s": search.refit_time_, "convergence_warnings": n_warn,
    }


def run_sklearn(X, y, args):
    X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape)

    def loop():
        means, times = [], []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            for C in CS:
                start = time.perf_counter()
                model = SkLinearSVC(C=C, dual=True, tol=args.tol, max_iter=args.max_iter, random_state=0)
                means.append(cross_val_score(model, X, y, cv=args.cv).mean())
                times.append(time.perf_counter() - start)
                print(f"    sklearn C={C:g}: {means[-1]:.5f} in {times[-1]:.1f} s", flush=True)
            best = CS[int(np.argmax(means))]
            SkLinearSVC(C=best, dual=True, tol=args.tol, max_iter=args.max_iter, random_state=0).fit(X, y)
        return means, times, best, len(caught)

    (means, times, best, n_warn), wall, cpu = timed(loop)
    return {"wall_s": wall, "cpu_s": cpu, "best_C": best, "cv_mean": means,
            "per_C_s": times, "convergence_warnings": n_warn}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="a9a,w8a")
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=60000)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--cold", action="store_true", help="also run LinearSVCCV(warm_start=False)")
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    report = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0], "loadavg_start": os.getloadavg()},
        "settings": {"Cs": CS, "cv": args.cv, "tol": args.tol, "max_iter": args.max_iter,
                     "n_jobs": args.n_jobs},
        "results": {},
    }
    for name in args.datasets.split(","):
        data = load(name)
        if data is None:
            continue
        X, y = data
        print(f"== {name}: {X.shape[0]} x {X.shape[1]}", flush=True)
        out = {"shape": list(X.shape)}
        out["fastlinear"] = run_fastlinear(X, y, args, warm=True)
        print(f"  fastlinear warm: {out['fastlinear']['wall_s']:.2f} s wall, "
              f"{out['fastlinear']['cpu_s']:.2f} s CPU, passes {out['fastlinear']['max_n_iter']}", flush=True)
        if args.cold:
            out["fastlinear_cold"] = run_fastlinear(X, y, args, warm=False)
            print(f"  fastlinear cold: {out['fastlinear_cold']['wall_s']:.2f} s wall, "
                  f"{out['fastlinear_cold']['cpu_s']:.2f} s CPU, passes "
                  f"{out['fastlinear_cold']['max_n_iter']}", flush=True)
        if not args.no_sklearn:
            out["sklearn"] = sk = run_sklearn(X, y, args)
            fl = out["fastlinear"]
            out["ratio_wall"] = sk["wall_s"] / fl["wall_s"]
            out["ratio_cpu"] = sk["cpu_s"] / fl["cpu_s"]
            out["max_abs_cv_diff"] = float(np.max(np.abs(np.subtract(fl["cv_mean"], sk["cv_mean"]))))
            out["same_best_C"] = fl["best_C"] == sk["best_C"]
        report["results"][name] = out
        print_table(name, out)
    report["machine"]["loadavg_end"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    return 0


def print_table(name, out):
    fl = out["fastlinear"]
    sk = out.get("sklearn")
    print(f"\n{name}: mean {len(CS)}-C CV accuracy")
    print(f"{'C':>8} {'fastlinear':>11} {'sklearn':>11}")
    for j, C in enumerate(CS):
        right = f"{sk['cv_mean'][j]:>11.5f}" if sk else ""
        print(f"{C:>8g} {fl['cv_mean'][j]:>11.5f} {right}")
    print(f"best C: fastlinear {fl['best_C']:g}" + (f", sklearn {sk['best_C']:g}" if sk else ""))
    print(f"fastlinear: {fl['wall_s']:.2f} s wall, {fl['cpu_s']:.2f} s CPU")
    if sk:
        print(f"sklearn:    {sk['wall_s']:.2f} s wall, {sk['cpu_s']:.2f} s CPU")
        print(f"ratio: {out['ratio_wall']:.1f}x wall, {out['ratio_cpu']:.1f}x CPU; "
              f"max |CV diff| {out['max_abs_cv_diff']:.5f}; same C*: {out['same_best_C']}")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
