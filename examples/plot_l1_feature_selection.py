"""
=================================================
Feature selection with an L1-penalised linear SVM
=================================================

``LinearSVC(penalty="l1", dual=False)`` (LIBLINEAR's ``-s 5``) minimises
:math:`\\|w\\|_1 + \\sum_i C_i \\max(0, 1 - y_i w^T x_i)^2`, whose solution
has many zero weights: the smaller C, the fewer features survive.  With
:class:`sklearn.feature_selection.SelectFromModel` it selects features for
another model.  We compare fastlinear with scikit-learn on the bundled a9a
data (123 binary features).
"""

# %%
# The data; scikit-learn's liblinear wrapper needs int32 sparse indices.
import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.feature_selection import SelectFromModel
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import LinearSVC, linear_svc_objective
from fastlinear.datasets import load_a9a

X, y, X_test, y_test = load_a9a()
X32 = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape)

# %%
# The number of selected features and the test accuracy along C, for both
# implementations, with the primal objective that both minimise.
Cs = [0.0005, 0.001, 0.002, 0.005, 0.01]
n_fl, n_sk = [], []
print(f"{'C':>7} {'features fl / sk':>17} {'accuracy fl / sk':>17} {'objective fl / sk':>21}")
for C in Cs:
    fl = LinearSVC(C=C, penalty="l1", dual=False, random_state=0).fit(X, y)
    sk = SkLinearSVC(C=C, penalty="l1", dual=False, random_state=0).fit(X32, y)
    n_fl.append(np.count_nonzero(fl.coef_))
    n_sk.append(np.count_nonzero(sk.coef_))
    obj_fl = linear_svc_objective(fl, X, y)[0]
    obj_sk = linear_svc_objective(sk, X, y)[0]
    print(f"{C:>7g} {n_fl[-1]:>8d} / {n_sk[-1]:<6d} {fl.score(X_test, y_test):>8.4f} / "
          f"{sk.score(X_test, y_test):.4f} {obj_fl:>10.3f} / {obj_sk:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(Cs, n_fl, "o-", label="fastlinear")
ax.plot(Cs, n_sk, "x--", label="scikit-learn")
ax.set_xscale("log")
ax.set_xlabel("C")
ax.set_ylabel("nonzero weights (of 123)")
ax.set_title("L1-penalised linear SVM on a9a")
ax.legend()
fig.tight_layout()

# %%
# Feature selection in a pipeline
# -------------------------------
# The L1 model picks the features, an L2-penalised ``LinearSVC`` is trained
# on them.  For an L1-penalised estimator ``SelectFromModel`` keeps the
# features whose weight is above 1e-5 in absolute value.
pipe = make_pipeline(
    SelectFromModel(LinearSVC(C=0.002, penalty="l1", dual=False, random_state=0)),
    LinearSVC(C=0.1, random_state=0),
).fit(X, y)
n_kept = pipe[0].get_support().sum()
print(f"{n_kept} of {X.shape[1]} features kept; test accuracy {pipe.score(X_test, y_test):.4f}")
print(f"all features, LinearSVC(C=0.1): {LinearSVC(C=0.1, random_state=0).fit(X, y).score(X_test, y_test):.4f}")
