"""fastlinear: fast linear learners with Cython kernels, drop-in for scikit-learn."""
from ._bounds import l1_min_c
from ._model_io import ModelFormatError, load_liblinear_model, save_liblinear_model
from ._version import __version__
from .kernel_ridge import KernelRidge
from .logistic import LogisticRegression, logistic_objective
from .model_selection import LinearSVCCV, LogisticRegressionCV
from .svm import LinearSVC, linear_svc_objective
from .svr import LinearSVR, linear_svr_objective

__all__ = [
    "KernelRidge",
    "LinearSVC",
    "LinearSVCCV",
    "LinearSVR",
    "LogisticRegression",
    "LogisticRegressionCV",
    "ModelFormatError",
    "__version__",
    "l1_min_c",
    "linear_svc_objective",
    "linear_svr_objective",
    "load_liblinear_model",
    "logistic_objective",
    "save_liblinear_model",
]
