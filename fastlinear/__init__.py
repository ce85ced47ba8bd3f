"""fastlinear: fast linear learners with Cython kernels, drop-in for scikit-learn."""
from .svm import LinearSVC, linear_svc_objective
from .logistic import LogisticRegression, logistic_objective
from .kernel_ridge import KernelRidge
from .model_selection import LinearSVCCV, LogisticRegressionCV

__version__ = "0.1.0"

__all__ = ["LinearSVC", "linear_svc_objective", "KernelRidge", "LinearSVCCV", "LogisticRegressionCV", "LogisticRegression", "logistic_objective", "__version__"]
