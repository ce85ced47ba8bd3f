"""Gap safe screening in newGLMNET: measured against the plain kernel, then dropped.

The kernel change lives in ``bench/patches/gap_safe_screening.diff`` (a
``screen=`` argument of ``fastlinear._glmnet_fast.glmnet``, on by default in
``fastlinear._solvers.glmnet``).  To repeat the measurement::

    git apply bench/patches/gap_safe_screening.diff
    python setup.py build_ext --inplace -j 2
    python bench/l1_screening.py
    git apply -R bench/patches/gap_safe_screening.diff && python setup.py build_ext --inplace -j 2

For every set and C, ``LogisticRegression(l1_ratio=1)`` is fitted with
screening off and on, alternated (``--repeat`` rounds, the fastest kept),
one BLAS thread: the free-intercept problem at ``tol=1e-4`` and ``1e-6``
(the gradient rule) and liblinear's ``-s 6`` problem at ``tol=1e-3``.
Printed: times, Newton steps, objectives and their ratio.  Without the patch
the script says so and stops.

Sets: a9a and w8a (``bench/workloads.py``, training parts) and 20
Newsgroups as a binary problem (the first ten groups against the others;
11,314 x 130,107), from the shared data folder (``FASTLINEAR_DATA``).
"""
import argparse
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fastlinear import LogisticRegression, _glmnet_fast, _solvers, logistic_objective  # noqa: E402

from workloads import DataUnavailable, load_workload, shared_data_dir  # noqa: E402

CASES = [("auto", 1e-4), ("auto", 1e-6), ("liblinear", 1e-3)]


def load(name):
    if name == "news20":
        from sklearn.datasets import fetch_20newsgroups_vectorized

        bunch = fetch_20newsgroups_vectorized(subset="train", data_home=str(shared_data_dir()),
                                              download_if_missing=False)
        return bunch.data, (bunch.target < 10).astype(int)
    X, y = load_workload(name)[:2]
    return X, y


def fit(X, y, C, solver, tol, screen):
    original = _solvers._glmnet_fast.glmnet

    def kernel(*args, **kwargs):
        return original(*args, **dict(kwargs, screen=screen))

    _solvers._glmnet_fast.glmnet = kernel
    try:
        est = LogisticRegression(C=C, l1_ratio=1.0, solver=solver, tol=tol)
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start, est
    finally:
        _solvers._glmnet_fast.glmnet = original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "w8a", "news20"])
    parser.add_argument("--Cs", nargs="+", type=float, default=[0.01, 0.1, 1.0, 10.0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if "screen :" not in (_glmnet_fast.glmnet.__doc__ or ""):
        sys.exit("the kernel has no screen= argument: apply bench/patches/gap_safe_screening.diff "
                 "and rebuild first (module docstring).")
    print("| set | problem | tol | C | off (s) | on (s) | on / off speed | steps off/on | "
          "J off | J on / J off - 1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        try:
            X, y = load(name)
        except (DataUnavailable, OSError) as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        for solver, tol in CASES:
            for C in args.Cs:
                times = {False: [], True: []}
                ests = {}
                with threadpool_limits(1, "blas"):
                    for _ in range(args.repeat):
                        for screen in (False, True):
                            seconds, ests[screen] = fit(X, y, C, solver, tol, screen)
                            times[screen].append(seconds)
                off, on = min(times[False]), min(times[True])
                J = {s: logistic_objective(e, X, y) for s, e in ests.items()}
                print(f"| {name} | {solver} | {tol:g} | {C:g} | {off:.3f} | {on:.3f} | "
                      f"{off / on:.2f} | {ests[False].n_iter_[0]}/{ests[True].n_iter_[0]} | "
                      f"{J[False]:.8g} | {J[True] / J[False] - 1:.1e} |", flush=True)


if __name__ == "__main__":
    main()
