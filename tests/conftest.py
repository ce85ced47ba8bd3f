"""Shared fixtures: the bundled a9a set and the larger shared data sets."""
import numpy as np
import pytest

from fastlinear.datasets import find_shared_file, load_a9a, load_libsvm, shared_data_dir


@pytest.fixture(scope="session")
def a9a():
    """(X_train, y_train, X_test, y_test) of the bundled a9a."""
    return load_a9a()


def load_shared_libsvm(name, n_features=None, dtype=np.float64):
    """Load ``name`` from the shared data folder, or skip the test clearly."""
    path = find_shared_file(name)
    if path is None:
        pytest.skip(
            f"{name} not found in {shared_data_dir()} (set FASTLINEAR_DATA to "
            "the folder holding the LIBSVM .bz2 files)"
        )
    return load_libsvm(path, n_features=n_features, dtype=dtype)
