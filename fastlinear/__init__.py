"""fastlinear: fast linear learners with Cython kernels, drop-in for scikit-learn."""
from .svm import LinearSVC, linear_svc_objective
from .kernel_ridge import KernelRidge

__version__ = "0.1.0"

__all__ = ["LinearSVC", "linear_svc_objective", "KernelRidge", "__version__"]
