"""fastlinear: fast linear learners with Cython kernels, drop-in for scikit-learn."""
from ._version import __version__
from .kernel_ridge import KernelRidge
from .logistic import LogisticRegression, logistic_objective
from .model_selection import LinearSVCCV, LogisticRegressionCV
from .svm import LinearSVC, linear_svc_objective

__all__ = [
    "KernelRidge",
    "LinearSVC",
    "LinearSVCCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "__version__",
    "linear_svc_objective",
    "logistic_objective",
]
