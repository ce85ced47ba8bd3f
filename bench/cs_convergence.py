"""Crammer-Singer at the defaults: fastlinear against scikit-learn, and the
passes each needs to converge.

For every set and C: medians of 3 alternating fits of
``LinearSVC(multi_class="crammer_singer", C=C, random_state=0)`` from both
libraries (defaults otherwise: tol 1e-4, max_iter 1000), their passes, whether
they warn, and the relative objective gap; then fastlinear with
``max_iter=100_000`` (passes to converge, time, objective)::

    FASTLINEAR_DATA=/path/to/data python bench/cs_convergence.py --sets dna satimage a9a w8a
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC, linear_svc_objective
from fastlinear.datasets import load_a9a, load_libsvm

try:
    from workloads import find_shared_file
except ImportError:  # run from the repository root
    from bench.workloads import find_shared_file

FILES = {"w8a": ("w8a.bz2", 300), "dna": ("dna.scale.bz2", 180),
         "satimage": ("satimage.scale.bz2", 36)}


def load(name):
    """Training data of a set as int32-indexed CSR."""
    if name == "a9a":
        X, y = load_a9a()[:2]
    else:
        file, n_features = FILES[name]
        path = find_shared_file(file)
        if path is None:
            raise SystemExit(f"{file} not found; set FASTLINEAR_DATA to the folder holding it.")
        X, y = load_libsvm(path, n_features=n_features)
    X = X.tocsr()
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


def fit(make, X, y, **params):
    """One fit: (seconds, passes, warned, objective)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        est = make(multi_class="crammer_singer", random_state=0, **params).fit(X, y)
        elapsed = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return elapsed, int(np.max(est.n_iter_)), warned, float(np.sum(linear_svc_objective(est, X, y)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["dna", "satimage", "a9a", "w8a"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.1, 1.0])
    args = parser.parse_args()
    print("| set | C | fastlinear s | it | sklearn s | it | x sk | gap | fastlinear to converge |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in args.sets:
        X, y = load(name)
        for C in args.Cs:
            runs = {"fl": [], "sk": []}
            for _ in range(3):
                runs["fl"].append(fit(LinearSVC, X, y, C=C))
                runs["sk"].append(fit(SkLinearSVC, X, y, C=C))
            fl_t = float(np.median([r[0] for r in runs["fl"]]))
            sk_t = float(np.median([r[0] for r in runs["sk"]]))
            fl, sk = runs["fl"][0], runs["sk"][0]
            full = fit(LinearSVC, X, y, C=C, max_iter=100_000)
            print(f"| {name} | {C:g} | {fl_t:.3f} | {fl[1]}{'*' if fl[2] else ''} | {sk_t:.3f} | "
                  f"{sk[1]}{' (warns)' if sk[2] else ''} | {sk_t / fl_t:.2f} | "
                  f"{(fl[3] - sk[3]) / abs(sk[3]):+.1e} | {full[1]} passes, {full[0]:.2f} s, "
                  f"gap {(full[3] - sk[3]) / abs(sk[3]):+.1e} |", flush=True)


if __name__ == "__main__":
    main()
