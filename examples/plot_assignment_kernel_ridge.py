"""
======================================
Kernel ridge regression in closed form
======================================

Question 3 of the course assignment: kernel ridge regression, whose
coefficients solve

.. math:: \\beta = (K + \\lambda I)^{-1} y, \\qquad
          f(x) = \\sum_i \\beta_i \\, k(x, x_i),

with :math:`K_{ij} = k(x_i, x_j)`.  :class:`fastlinear.KernelRidge` solves
the system by one Cholesky factorisation (never forming the inverse).  We
fit a noisy sine curve with an RBF kernel and compare the result with
:class:`sklearn.kernel_ridge.KernelRidge`.
"""

# %%
# Noisy samples of a smooth function.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.metrics.pairwise import rbf_kernel

from fastlinear import KernelRidge

rng = np.random.RandomState(0)
X = np.sort(rng.uniform(0, 5, size=(80, 1)), axis=0)
y = np.sin(2 * X).ravel() + 0.5 * np.cos(5 * X).ravel() + 0.2 * rng.randn(80)
X_plot = np.linspace(0, 5, 500)[:, None]

# %%
# Fit fastlinear's and scikit-learn's kernel ridge with the same kernel and
# penalty (``alpha`` is :math:`\lambda`).
params = dict(alpha=0.1, kernel="rbf", gamma=2.0)
krr = KernelRidge(**params).fit(X, y)
sk_krr = SkKernelRidge(**params).fit(X, y)

# %%
# The closed form by hand: the same :math:`\beta`.
K = rbf_kernel(X, gamma=2.0)
beta = np.linalg.solve(K + 0.1 * np.eye(len(X)), y)
print(f"max |beta - dual_coef_|, by hand:      {np.max(np.abs(beta - krr.dual_coef_)):.2e}")
print(f"max |dual_coef_| difference, sklearn: {np.max(np.abs(sk_krr.dual_coef_ - krr.dual_coef_)):.2e}")
pred, sk_pred = krr.predict(X_plot), sk_krr.predict(X_plot)
print(f"max prediction difference, sklearn:   {np.max(np.abs(pred - sk_pred)):.2e}")

# %%
# The fitted curves, and the effect of the penalty: a smaller
# :math:`\lambda` follows the noise, a larger one smooths it away.
fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(X, y, s=12, color="0.5", label="samples")
for alpha, color in [(1e-3, "tab:green"), (10.0, "tab:purple")]:
    curve = KernelRidge(alpha=alpha, kernel="rbf", gamma=2.0).fit(X, y).predict(X_plot)
    ax.plot(X_plot, curve, color=color, linewidth=1, label=f"fastlinear, alpha = {alpha:g}")
ax.plot(X_plot, pred, color="tab:blue", linewidth=2.5, label="fastlinear, alpha = 0.1")
ax.plot(X_plot, sk_pred, color="tab:orange", linestyle="--", linewidth=1.5, label="scikit-learn, alpha = 0.1")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Kernel ridge regression, RBF kernel (gamma = 2)")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# The two implementations agree to rounding.  For data too large for the
# :math:`n \times n` kernel matrix, ``KernelRidge.fit`` refuses before
# allocating it (``KernelMatrixMemoryError``) and suggests Nystroem
# features with a linear model instead.
