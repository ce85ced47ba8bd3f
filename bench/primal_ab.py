"""The primal solvers with and without their two 0/1-data savings, alternated in one process.

Two exact savings of the primal solvers on one-hot data (``bench/results/EXPERIMENTS.md``,
"Every primal pass on 0/1 features reads only the indices" and "Identical samples merged for
the primal solvers"):

* ``ones``: the kernels read only the indices of rows whose values are all 1
  (off: every kernel called with ``use_ones=False``);
* ``merge``: identical (row, label) samples solved once (off: ``fastlinear._merge.MERGE_SHARE``
  set out of reach).

Each row of the table fits one estimator on the training part of a9a or w8a
(``bench/workloads.py``) with the saving on and off, alternated, ``--repeat``
times, and prints the medians and their ratio (off / on: > 1 means the saving
pays) with the largest difference of the two fits' weights.

    FASTLINEAR_DATA=/path/to/shared/data python bench/primal_ab.py [--repeat 7]
"""
import argparse
import functools
import statistics
import time
import warnings

import numpy as np

import fastlinear
from fastlinear import _glmnet_fast, _hessian_fast, _l1_cd_fast, _merge, _newton_fast

from workloads import DataUnavailable, load_workload

#: The kernel entry points that take ``use_ones``.
KERNELS = [(_newton_fast, "newton"), (_newton_fast, "logistic_loss_grad"),
           (_hessian_fast, "binary_hessian"), (_hessian_fast, "binary_hessian_vector"),
           (_hessian_fast, "scores"), (_hessian_fast, "transpose_product"),
           (_glmnet_fast, "glmnet"), (_l1_cd_fast, "l1_cd")]
ORIGINAL = {(module, name): getattr(module, name) for module, name in KERNELS}
MERGE_SHARE = _merge.MERGE_SHARE

FITS = [
    ("LogisticRegression()", lambda C: fastlinear.LogisticRegression(C=C), (0.01, 1.0, 100.0)),
    ("LogisticRegression(solver='liblinear')  (-s 0)",
     lambda C: fastlinear.LogisticRegression(C=C, solver="liblinear"), (1.0,)),
    ("LogisticRegression(solver='liblinear', l1_ratio=1)  (-s 6)",
     lambda C: fastlinear.LogisticRegression(C=C, solver="liblinear", l1_ratio=1.0,
                                             random_state=0), (0.1, 1.0, 10.0)),
    ("LinearSVC(dual=False)", lambda C: fastlinear.LinearSVC(C=C, dual=False), (1.0, 100.0)),
    ("LinearSVC(penalty='l1', dual=False)  (-s 5)",
     lambda C: fastlinear.LinearSVC(C=C, penalty="l1", dual=False, random_state=0),
     (0.01, 0.1)),
]


def set_saving(saving, on):
    """Turn ``saving`` ("ones" or "merge") on or off."""
    if saving == "ones":
        for (module, name), function in ORIGINAL.items():
            setattr(module, name, function if on else functools.partial(function, use_ones=False))
    else:
        _merge.MERGE_SHARE = MERGE_SHARE if on else 2.0


def weights(est):
    return np.r_[np.ravel(est.coef_), np.ravel(est.intercept_)]


def compare(saving, make, X, y, repeat):
    """Median seconds with the saving on and off, and the largest weight difference."""
    times = {True: [], False: []}
    fitted = {}
    for _ in range(repeat):
        for on in (True, False):
            set_saving(saving, on)
            est = make()
            start = time.perf_counter()
            est.fit(X, y)
            times[on].append(time.perf_counter() - start)
            fitted[on] = weights(est)
    set_saving(saving, True)
    return (statistics.median(times[True]), statistics.median(times[False]),
            float(np.max(np.abs(fitted[True] - fitted[False]))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sets", nargs="+", default=["a9a", "w8a"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print("| saving | data | fit | C | on s | off s | off / on | max weight difference |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name in args.sets:
        try:
            X, y = load_workload(name)[:2]
        except DataUnavailable as error:
            print(f"skipped {name}: {error}")
            continue
        for saving in ("ones", "merge"):
            for label, factory, Cs in FITS:
                for C in Cs:
                    on, off, diff = compare(saving, lambda: factory(C), X, y, args.repeat)
                    print(f"| {saving} | {name} | {label} | {C:g} | {on:.4f} | {off:.4f} | "
                          f"{off / on:.2f} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
