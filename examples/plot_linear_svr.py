"""
================================
Linear support vector regression
================================

:class:`fastlinear.LinearSVR` fits
:math:`\\tfrac12 \\|w\\|^2 + C \\sum_i \\max(0, |w^T x_i + b - y_i| - \\epsilon)`
(``loss="epsilon_insensitive"``, LIBLINEAR's ``-s 13``) or the same with
the loss squared (``-s 11``/``-s 12``).  Errors inside the tube of width
``epsilon`` cost nothing.  We fit a line through noisy data with a few
outliers, and compare with :class:`sklearn.svm.LinearSVR`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.svm import LinearSVR as SkLinearSVR

from fastlinear import LinearSVR, linear_svr_objective

rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(200, 1))
y = 1.5 * X.ravel() + 0.5 + 0.3 * rng.randn(200)
y[:10] += 8.0  # outliers

# %%
# Both losses, fastlinear and scikit-learn, with the same parameters.
fits = {}
for loss in ("epsilon_insensitive", "squared_epsilon_insensitive"):
    params = dict(C=1.0, epsilon=0.5, loss=loss, random_state=0, max_iter=10000)
    fl = LinearSVR(**params).fit(X, y)
    sk = SkLinearSVR(dual=True, **params).fit(X, y)
    fits[loss] = fl
    print(f"{loss}: fastlinear w = {fl.coef_[0]:.4f}, b = {fl.intercept_[0]:.4f} ({fl.solver_}); "
          f"sklearn w = {sk.coef_[0]:.4f}, b = {sk.intercept_[0]:.4f}")
    print(f"    primal objective fastlinear {linear_svr_objective(fl, X, y):.4f}, "
          f"sklearn {linear_svr_objective(sk, X, y):.4f}")

# %%
# The absolute loss of ``epsilon_insensitive`` resists the outliers; the
# squared loss is pulled towards them.
line = np.linspace(-3, 3, 2)[:, None]
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X, y, s=10, color="0.5")
for (loss, est), color in zip(fits.items(), ["tab:blue", "tab:orange"], strict=True):
    pred = est.predict(line)
    ax.plot(line, pred, color=color, label=loss)
    if loss == "epsilon_insensitive":
        ax.fill_between(line.ravel(), pred - est.epsilon, pred + est.epsilon, color=color, alpha=0.15,
                        label="epsilon tube")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("LinearSVR (C = 1, epsilon = 0.5)")
ax.legend()
fig.tight_layout()
