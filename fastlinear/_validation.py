"""Every check of user input, in one place and in scikit-learn's words.

Data flows one way: user arrays -> this module (once, at the edge) -> kernel.
The functions here never modify the caller's arrays; where a copy is needed
(dense to CSR, duplicate indices) they make one and say so in the docstring.
"""
import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._csr_fast import CSRStatus, check_csr

_INDEX_DTYPES = (np.int32, np.int64)


class CSRArrays(NamedTuple):
    """The raw arrays of a CSR matrix, as the kernels take them."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple


def check_csr_structure(X, *, caller="fit"):
    """Prove that a CSR matrix can be read by the kernels, and canonicalise it.

    The kernels index ``w[indices[k]]`` for ``k`` in ``indptr[i]:indptr[i+1]``.
    This check makes sure that can never read out of bounds.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array
        Already validated for dtype and finiteness (``validate_data``).
    caller : str
        Name used in error messages.

    Returns
    -------
    arrays : CSRArrays
        The arrays of ``X`` itself when it is canonical (every row strictly
        increasing); otherwise of a copy with sorted indices and duplicate
        entries summed (scipy's meaning of duplicates), so the caller's matrix
        is untouched.  Index arrays keep their width (int32 or int64) and are
        not copied; when ``indices`` and ``indptr`` differ in width,
        ``indptr`` (the short one) is converted.
    """
    if not sp.issparse(X) or X.format != "csr":
        raise TypeError(f"Expected a CSR matrix, got {type(X).__name__}.")
    indices, indptr = X.indices, X.indptr
    if indices.dtype not in _INDEX_DTYPES or indptr.dtype not in _INDEX_DTYPES:
        raise TypeError(
            "CSR index arrays must be int32 or int64; got indices of dtype "
            f"{indices.dtype} and indptr of dtype {indptr.dtype}."
        )
    if indptr.dtype != indices.dtype:
        # indptr has n_samples + 1 entries: converting it is cheap and leaves
        # the caller's matrix alone.
        if indptr.size and np.abs(indptr).max() > np.iinfo(indices.dtype).max:
            indices = indices.astype(np.int64)
        indptr = indptr.astype(indices.dtype)
    indices = np.ascontiguousarray(indices)
    indptr = np.ascontiguousarray(indptr)
    n_rows, n_features = X.shape
    code, row = check_csr(indptr, indices, n_rows, X.data.shape[0], n_features)
    fix = (
        "The matrix was probably built or modified by hand; rebuild it with "
        "scipy.sparse.csr_matrix((data, indices, indptr), shape=...) and "
        "call .check_format(full_check=True) to locate the problem."
    )
    if code == CSRStatus.BAD_INDPTR_LENGTH:
        raise ValueError(
            f"{caller}: indptr has {indptr.shape[0]} entries, expected "
            f"n_samples + 1 = {n_rows + 1}. {fix}"
        )
    if code == CSRStatus.BAD_INDPTR_START:
        raise ValueError(f"{caller}: indptr[0] is {indptr[0]}, expected 0. {fix}")
    if code == CSRStatus.BAD_INDPTR_END:
        raise ValueError(
            f"{caller}: indptr[-1] is {indptr[-1]} but the matrix stores "
            f"{indices.shape[0]} indices and {X.data.shape[0]} values; they "
            f"must all be equal. {fix}"
        )
    if code == CSRStatus.INDPTR_DECREASES:
        raise ValueError(
            f"{caller}: indptr decreases or jumps past the end at row {row}; "
            f"it must be non-decreasing. {fix}"
        )
    if code == CSRStatus.INDEX_OUT_OF_RANGE:
        bad = indices[indptr[row]:indptr[row + 1]]
        bad = bad[(bad < 0) | (bad >= n_features)][0]
        raise ValueError(
            f"{caller}: row {row} has column index {bad}, outside "
            f"[0, n_features={n_features}). Pass the right shape= when "
            f"building the matrix (e.g. load_svmlight_file(..., "
            f"n_features=N))."
        )
    if code == CSRStatus.NOT_CANONICAL:
        X = sp.csr_matrix((X.data, indices, indptr), shape=X.shape, copy=True)
        X.sum_duplicates()  # sorts too
        indices, indptr = X.indices, X.indptr
    data = np.ascontiguousarray(X.data)
    return CSRArrays(data, indices, indptr, X.shape)


def check_sample_weight_finite(sample_weight, n_samples, dtype=np.float64):
    """Validate ``sample_weight``: shape (n_samples,), finite, >= 0.

    Returns a new float64 array (never the caller's).
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    sw = np.array(sample_weight, dtype=np.float64, copy=True)
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected ({n_samples},): one "
            "weight per sample."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError(
            "sample_weight contains NaN or infinity; pass finite weights "
            "(0 leaves a sample out)."
        )
    if np.any(sw < 0):
        raise ValueError(
            "sample_weight has negative entries; weights must be >= 0."
        )
    if n_samples > 0 and not np.any(sw > 0):
        raise ValueError(
            "Every sample_weight is zero, so no sample would be used; give at "
            "least one sample a positive weight."
        )
    return sw


def check_classification_targets_finite(y):
    """Reject NaN/inf labels with a clear message (numeric y only)."""
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(
            "Input y contains NaN or infinity; every sample needs a finite "
            "class label."
        )
    if y.dtype.kind == "O":
        for value in y.ravel():
            if isinstance(value, float) and not np.isfinite(value):
                raise ValueError(
                    "Input y contains NaN or infinity; every sample needs a "
                    "class label."
                )


def validate_classification_data(estimator, X, y, *, reset=True, caller="fit"):
    """The common edge of the classifiers' ``fit``: check X and y, make CSR.

    Labels are checked for NaN/inf and for being classes (not continuous);
    X is validated by sklearn's ``validate_data`` (float64 or float32 kept,
    CSR with 32- or 64-bit indices accepted as is, ``n_features_in_`` set
    when ``reset``), converted to CSR once if dense, and its structure
    proved by :func:`check_csr_structure`.

    Returns
    -------
    X : CSR matrix
    y : ndarray of shape (n_samples,)
    csr : CSRArrays
        The arrays the kernels read.
    """
    check_classification_targets_finite(y)
    X, y = validate_data(
        estimator, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
        order="C", accept_large_sparse=True, reset=reset,
    )
    check_classification_targets(y)
    if not sp.issparse(X):
        X = sp.csr_matrix(X)
    return X, y, check_csr_structure(X, caller=caller)
