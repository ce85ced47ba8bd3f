"""Data loaders: the bundled a9a set, any LIBSVM file, and the shared data folder.

The assignment used LIBSVM's ``a5a``/``a5a.t``.  Those files cannot be had
offline here; their parent set ``a9a``/``a9a.t`` (UCI Adult, same 123 binary
features; every a*a training set is a subset of a9a's rows) ships with the
package, bzip2-compressed.  A user who has ``a5a`` runs the same code with
:func:`load_libsvm`.
"""
import os
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.datasets import load_svmlight_file

__all__ = ["load_a9a", "load_libsvm", "shared_data_dir", "find_shared_file"]

A9A_N_FEATURES = 123

#: Environment variable naming the folder of the larger benchmark data sets.
DATA_ENV = "FASTLINEAR_DATA"


def load_libsvm(path, *, n_features=None, dtype=np.float64):
    """Read a LIBSVM/svmlight file (plain, ``.bz2`` or ``.gz``) as CSR.

    Parameters
    ----------
    path : str or path-like
        File name; compression is recognised by the suffix.
    n_features : int, default=None
        Number of features.  Give it when loading a training and a test file
        separately, so both get the same width (a9a.t never uses feature 123).
    dtype : {np.float64, np.float32}, default=np.float64
        Dtype of the values.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Indices as ``load_svmlight_file`` makes them (64-bit); fastlinear's
        estimators take them without a copy.
    y : ndarray of shape (n_samples,)
        Labels.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a line is malformed (the message names it).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such LIBSVM file: {path!r}")
    X, y = load_svmlight_file(path, n_features=n_features, dtype=dtype)
    return X, y


def load_a9a(*, dtype=np.float64):
    """Load the bundled a9a training and test sets (LIBSVM's UCI Adult).

    32,561 training and 16,281 test samples, 123 binary features, labels
    -1 (income <= 50K, 76 %) and +1.

    Parameters
    ----------
    dtype : {np.float64, np.float32}, default=np.float64
        Dtype of the values.

    Returns
    -------
    X_train : csr_matrix of shape (32561, 123)
    y_train : ndarray of shape (32561,)
    X_test : csr_matrix of shape (16281, 123)
    y_test : ndarray of shape (16281,)

    Notes
    -----
    Source: the LIBSVM data page (C.-C. Chang and C.-J. Lin, 2011), from
    J. C. Platt's encoding of R. Kohavi and B. Becker's 1994 Census extract.
    """
    data = resources.files("fastlinear") / "data"
    with resources.as_file(data / "a9a.bz2") as train:
        X_train, y_train = load_libsvm(train, n_features=A9A_N_FEATURES, dtype=dtype)
    with resources.as_file(data / "a9a.t.bz2") as test:
        X_test, y_test = load_libsvm(test, n_features=A9A_N_FEATURES, dtype=dtype)
    return X_train, y_train, X_test, y_test


def shared_data_dir():
    """The folder of the larger data sets: ``$FASTLINEAR_DATA``, else ``../shared/data``.

    The default is taken relative to the source checkout (the folder above
    the package's parent), then to the working directory.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for base in (here, Path.cwd()):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return here.parent / "shared" / "data"


def find_shared_file(name):
    """Path of ``name`` in :func:`shared_data_dir`, or None when absent."""
    path = shared_data_dir() / name
    return path if path.exists() else None
