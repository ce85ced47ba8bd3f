"""
=====================================================
fastlinear.LinearSVC and sklearn.svm.LinearSVC: speed
=====================================================

A small illustration: both estimators at their defaults (squared hinge,
L2 penalty, ``tol=1e-4``, ``dual="auto"``) on the bundled a9a data, for
C in {0.01, 0.1, 1, 10}.  Runs alternate between the two libraries and each
time is the median of 3 fits.

This is a tiny benchmark, run while this documentation is built, on
whatever machine builds it: its numbers move with the load of that machine.
The benchmark suite in ``bench/`` of the source tree (``python
bench/report.py``) holds the real measurements, at equal solver and
tolerance, on larger data sets, with the objectives checked.
"""

# %%
# scikit-learn's liblinear wrapper refuses 64-bit sparse indices (what
# ``load_svmlight_file`` returns), so it gets an int32 copy, made outside
# the timings; fastlinear reads the original arrays.
import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC
from fastlinear.datasets import load_a9a

X, y, X_test, y_test = load_a9a()
X32 = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape)


def fit_time(estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


Cs = [0.01, 0.1, 1, 10]
rows = []
for C in Cs:
    times = {"fastlinear": [], "sklearn": []}
    for _ in range(3):  # alternating runs
        fl = LinearSVC(C=C, random_state=0)
        times["fastlinear"].append(fit_time(fl, X, y))
        sk = SkLinearSVC(C=C, random_state=0)
        times["sklearn"].append(fit_time(sk, X32, y))
    t_fl, t_sk = np.median(times["fastlinear"]), np.median(times["sklearn"])
    rows.append((C, t_fl, t_sk, fl.solver_, fl.score(X_test, y_test), sk.score(X_test, y_test)))

print(f"{'C':>6} {'fastlinear':>11} {'sklearn':>9} {'ratio':>6}  {'solver_':<15} test accuracy fl / sk")
for C, t_fl, t_sk, solver, acc_fl, acc_sk in rows:
    print(f"{C:>6g} {t_fl:>10.3f}s {t_sk:>8.3f}s {t_sk / t_fl:>5.1f}x  {solver:<15} {acc_fl:.4f} / {acc_sk:.4f}")

# %%
# The ratio of the fit times (above 1: fastlinear is faster).
ratios = [t_sk / t_fl for _, t_fl, t_sk, *_ in rows]
fig, ax = plt.subplots(figsize=(6, 4))
ax.bar([f"{C:g}" for C in Cs], ratios, color="tab:blue")
ax.axhline(1.0, color="0.3", linewidth=1)
ax.set_xlabel("C")
ax.set_ylabel("sklearn time / fastlinear time")
ax.set_title("LinearSVC at the defaults on a9a (median of 3)")
fig.tight_layout()

# %%
# Both libraries choose their solver with ``dual="auto"``, by different
# rules: scikit-learn solves the primal whenever there are more samples
# than features, fastlinear runs dual coordinate descent where it is
# expected to be fast (small C here) and Newton's method on the primal
# elsewhere; ``solver_`` shows its choice.  The test accuracies agree.
