"""
========================================================
Loss curves of multiclass logistic regression, two forms
========================================================

Question 1 of the course assignment: multiclass logistic regression by
mini-batch gradient descent in two parametrisations,

* **reference class**: class 0 carries no weights,
  :math:`P(y = c \\mid x) \\propto \\exp(-v_c^T x - d_c)` for :math:`c \\ge 1`
  and :math:`P(y = 0 \\mid x) \\propto 1`;
* **softmax**: one weight vector per class,
  :math:`P(y = c \\mid x) \\propto \\exp(w_c^T x + b_c)`.

:class:`fastlinear.LogisticRegression` fits both
(``parametrization="reference"`` or ``"softmax"``) and records the
objective

.. math:: J = C \\sum_i -\\log P(y_i \\mid x_i) + \\tfrac12 \\|W\\|^2

after every epoch in ``loss_curve_``.  We fit the 10-class digits data of
scikit-learn with plain mini-batch SGD (``solver="sgd"``) and with its
variance-reduced version (``solver="svrg"``); the estimator's default
solver is an exact Newton method, shown at the end for comparison.
"""

# %%
# The data: 8 × 8 images of digits, pixel values scaled to [0, 1].
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastlinear import LogisticRegression

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

# %%
# Fit both parametrisations with both solvers, for 40 epochs each
# (``tol=0`` disables the early stop so that the curves have equal length;
# the estimator then warns that it did not converge, which we silence).
models = {}
for parametrization in ("reference", "softmax"):
    for solver in ("sgd", "svrg"):
        clf = LogisticRegression(C=1.0, parametrization=parametrization, solver=solver,
                                 max_iter=40, tol=0.0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        models[parametrization, solver] = clf
        print(f"{parametrization:>9} {solver:>4}: final objective {clf.loss_curve_[-1]:8.2f}, "
              f"test accuracy {clf.score(X_test, y_test):.4f}")

# %%
# The loss curves.  ``loss_curve_[0]`` is the objective at the starting
# point (all weights zero, where both forms give the uniform distribution).
fig, ax = plt.subplots(figsize=(6, 4))
styles = {"sgd": "--", "svrg": "-"}
colors = {"reference": "tab:blue", "softmax": "tab:orange"}
for (parametrization, solver), clf in models.items():
    ax.plot(clf.loss_curve_, styles[solver], color=colors[parametrization],
            label=f"{parametrization}, {solver}")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("objective J")
ax.set_title("Mini-batch gradient descent on digits (C = 1)")
ax.legend()
fig.tight_layout()

# %%
# Both forms reach nearly the same accuracy.  Their optimal objectives
# differ: the reference form has one weight vector fewer, and its penalty
# :math:`\frac12 \sum_{c \ge 1} \|v_c\|^2` is not symmetric in the classes,
# so it is a slightly different problem.  Plain SGD with its constant
# step stalls above the optimum, while SVRG keeps descending.
#
# With the default ``tol`` SVRG stops by itself once the largest gradient
# entry of the mean objective is below ``tol`` (scikit-learn's test).  The
# estimator's default solver, Newton's method, reaches the optimum of the
# softmax form in a few steps:
clf = LogisticRegression(C=1.0, solver="svrg", random_state=0).fit(X_train, y_train)
print(f"softmax, svrg, default tol: {clf.n_iter_[0]} epochs, objective {clf.loss_curve_[-1]:.4f}")
exact = LogisticRegression(C=1.0).fit(X_train, y_train)
print(f"softmax, {exact.solver_}: {exact.n_iter_[0]} Newton steps, "
      f"objective {exact.objective(X_train, y_train):.4f}")
