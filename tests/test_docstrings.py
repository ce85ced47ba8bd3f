"""The examples in the public docstrings run and print what they say."""
import doctest
import importlib
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

MODULES = ["fastlinear._model_io", "fastlinear.datasets", "fastlinear.kernel_ridge",
           "fastlinear.logistic", "fastlinear.model_selection", "fastlinear.svm", "fastlinear.svr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, one_blas_thread):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        # An example that does not converge would teach the wrong defaults.
        warnings.simplefilter("error", ConvergenceWarning)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
