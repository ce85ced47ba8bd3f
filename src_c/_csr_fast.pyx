# cython: freethreading_compatible = True
"""The one structural check of sparse input, and the proof the kernels take.

A kernel that reads row ``i`` as ``indices[indptr[i]:indptr[i+1]]`` and
indexes ``w[indices[k]]`` reads out of bounds unless ``indptr`` has
``n_rows + 1`` entries, starts at 0, never decreases and ends at ``nnz``, and
every index lies in ``[0, n_cols)``.  :func:`scan` proves this in one
``nogil`` pass over ``indptr`` and ``indices`` (and the values: finite, and
squares that do not overflow); the same pass tells whether every row is
strictly increasing (canonical: sorted, no duplicates) and sums the squared
row norms.  The same scan checks a CSC matrix (rows and columns swapped).

:class:`CSR` is the proof.  Only :func:`checked_csr` builds one that holds
arrays, and only after a successful scan of canonical rows; its fields are
read-only and its arrays are read-only views, and the class cannot be
subclassed.  So a kernel that receives a ``CSR`` whose ``proved`` flag is set
can read it without checking the structure again: the structure is checked
once per fit, in one place, with one table of messages (:func:`raise_for`).

Status codes (:class:`CSRStatus`), with the row (or column) they name:

====================  =====================================================
CANONICAL (0)         readable, every row strictly increasing
NOT_CANONICAL (1)     readable, some row unsorted or with duplicate indices
BAD_INDPTR_LENGTH     ``indptr`` does not have ``n_rows + 1`` entries
BAD_INDPTR_START      ``indptr[0] != 0``
BAD_INDPTR_END        ``indptr[-1] != nnz`` or ``len(data) != len(indices)``
INDPTR_DECREASES      ``indptr`` decreases (or jumps past ``nnz``) at a row
INDEX_OUT_OF_RANGE    an index of a row is outside ``[0, n_cols)``
NON_FINITE_VALUE      a value of a row is NaN or infinite
SQUARE_OVERFLOW       a row's squared norm overflows float64
====================  =====================================================
"""
cimport cython
from libc.math cimport isfinite
from cython cimport floating

import numpy as np

from _sparse cimport index_t

__all__ = ["CSR", "CSRStatus", "checked_csr", "raise_for", "require_proved", "scan"]


cpdef enum CSRStatus:
    CANONICAL = 0
    NOT_CANONICAL = 1
    BAD_INDPTR_LENGTH = -1
    BAD_INDPTR_START = -2
    BAD_INDPTR_END = -3
    INDPTR_DECREASES = -4
    INDEX_OUT_OF_RANGE = -5
    NON_FINITE_VALUE = -6
    SQUARE_OVERFLOW = -7


cdef int _scan(const floating* data, const index_t* indices,
               const index_t* indptr, Py_ssize_t n_rows, Py_ssize_t n_cols,
               Py_ssize_t nnz, bint check_values, Py_ssize_t* bad_row,
               double* sq_sum, double* max_row_sq) noexcept nogil:
    """The scan behind :func:`scan`; ``indptr`` has ``n_rows + 1`` entries."""
    cdef Py_ssize_t i, k, start, end
    cdef int code = CANONICAL
    cdef double sq, v, total = 0.0, largest = 0.0
    bad_row[0] = -1
    if indptr[0] != 0:
        bad_row[0] = 0
        return BAD_INDPTR_START
    if indptr[n_rows] != nnz:
        bad_row[0] = n_rows - 1
        return BAD_INDPTR_END
    for i in range(n_rows):
        start = indptr[i]
        end = indptr[i + 1]
        if end < start or end > nnz:
            bad_row[0] = i
            return INDPTR_DECREASES
        sq = 0.0
        for k in range(start, end):
            if indices[k] < 0 or indices[k] >= n_cols:
                bad_row[0] = i
                return INDEX_OUT_OF_RANGE
            if k > start and indices[k] <= indices[k - 1] and code == CANONICAL:
                code = NOT_CANONICAL
                bad_row[0] = i
            if check_values:
                v = data[k]
                sq += v * v
        if check_values and not isfinite(sq):
            bad_row[0] = i
            for k in range(start, end):
                if not isfinite(data[k]):
                    return NON_FINITE_VALUE
            return SQUARE_OVERFLOW
        total += sq
        if sq > largest:
            largest = sq
    sq_sum[0] = total
    max_row_sq[0] = largest
    return code


def _scan_typed(const floating[::1] data, const index_t[::1] indices,
                const index_t[::1] indptr, Py_ssize_t n_rows,
                Py_ssize_t n_cols, bint check_values):
    cdef Py_ssize_t nnz = indices.shape[0], bad_row = -1
    cdef double sq_sum = 0.0, max_row_sq = 0.0
    cdef int code
    if indptr.shape[0] != n_rows + 1:
        return int(BAD_INDPTR_LENGTH), -1, 0.0, 0.0
    if data.shape[0] != nnz:
        return int(BAD_INDPTR_END), n_rows - 1, 0.0, 0.0
    with nogil:
        code = _scan(&data[0] if nnz > 0 else NULL,
                     &indices[0] if nnz > 0 else NULL, &indptr[0], n_rows,
                     n_cols, nnz, check_values, &bad_row, &sq_sum,
                     &max_row_sq)
    return code, bad_row, sq_sum, max_row_sq


def scan(data, indices, indptr, Py_ssize_t n_rows, Py_ssize_t n_cols, *,
         bint check_values=True):
    """Scan compressed sparse arrays; never raises on bad structure.

    Parameters
    ----------
    data : ndarray of float32 or float64, contiguous
    indices, indptr : ndarrays of int32 or int64 (the same width), contiguous
    n_rows, n_cols : int
        Shape of the matrix (for CSC: columns, then rows).
    check_values : bool, default=True
        Also check that values are finite and squared row norms do not
        overflow (and sum them).

    Returns
    -------
    code : int
        A :class:`CSRStatus`.
    row : int
        The first offending row, or -1.
    sq_sum : float
        Sum of the squared row norms (0 unless ``check_values`` and readable).
    max_row_sq : float
        Largest squared row norm (idem).
    """
    if indptr.shape[0] < 1:
        return int(BAD_INDPTR_LENGTH), -1, 0.0, 0.0
    return _scan_typed(data, indices, indptr, n_rows, n_cols, check_values)


_FIX = ("The matrix was probably built or modified by hand; rebuild it with "
        "scipy.sparse.csr_matrix((data, indices, indptr), shape=...) and call "
        ".check_format(full_check=True) to locate the problem.")


def raise_for(int code, Py_ssize_t row, data, indices, indptr,
              Py_ssize_t n_rows, Py_ssize_t n_cols, *, str caller="fit",
              str kind="row"):
    """Raise the ``ValueError`` of a failed scan: the one table of messages.

    Parameters
    ----------
    code, row : the result of :func:`scan`.
    data, indices, indptr, n_rows, n_cols : the arrays and shape scanned.
    caller : str
        Who is checking (``"LinearSVC.fit"``), first in the message.
    kind : {"row", "column"}
        What the compressed axis is (``"column"`` for CSC input).
    """
    other = "column" if kind == "row" else "row"
    n_other = "n_features" if kind == "row" else "n_samples"
    if code == BAD_INDPTR_LENGTH:
        raise ValueError(
            f"{caller}: indptr has {indptr.shape[0]} entries, expected "
            f"{'n_samples' if kind == 'row' else 'n_features'} + 1 = "
            f"{n_rows + 1}. {_FIX}")
    if code == BAD_INDPTR_START:
        raise ValueError(f"{caller}: indptr[0] is {indptr[0]}, expected 0. {_FIX}")
    if code == BAD_INDPTR_END:
        raise ValueError(
            f"{caller}: indptr[-1] is {indptr[indptr.shape[0] - 1]} but the matrix stores "
            f"{indices.shape[0]} indices and {data.shape[0]} values; they "
            f"must all be equal. {_FIX}")
    if code == INDPTR_DECREASES:
        raise ValueError(
            f"{caller}: indptr decreases or jumps past the end at {kind} "
            f"{row}; it must be non-decreasing. {_FIX}")
    if code == INDEX_OUT_OF_RANGE:
        bad = np.asarray(indices[indptr[row]:indptr[row + 1]])
        bad = bad[(bad < 0) | (bad >= n_cols)][0]
        raise ValueError(
            f"{caller}: {kind} {row} has {other} index {bad}, outside "
            f"[0, {n_other}={n_cols}). Pass the right shape= when building "
            f"the matrix (e.g. load_svmlight_file(..., n_features=N)).")
    if code == NON_FINITE_VALUE:
        raise ValueError(
            f"{caller}: Input X contains NaN or infinity ({kind} {row}). "
            "Remove or impute the missing values (e.g. with "
            "sklearn.impute.SimpleImputer).")
    if code == SQUARE_OVERFLOW:
        raise ValueError(
            f"{caller}: the squared norm of {kind} {row} overflows float64 "
            "(values of magnitude above ~1e154). Rescale X, e.g. with "
            "sklearn.preprocessing.MaxAbsScaler.")
    if code == NOT_CANONICAL:
        raise ValueError(
            f"{caller}: {kind} {row} has unsorted or duplicate indices; "
            "call X.sum_duplicates() (which also sorts) first.")
    raise ValueError(f"{caller}: unknown CSR status {code}.")


@cython.final
cdef class CSR:
    """A CSR matrix whose structure has been proved readable by the kernels.

    Built only by :func:`checked_csr`.  ``data`` (float32 or float64),
    ``indices`` and ``indptr`` (both int32 or both int64) are read-only views
    of the arrays that were scanned, not copies.

    Attributes
    ----------
    data, indices, indptr : ndarray
    n_rows, n_cols, nnz : int
    sq_sum : float
        ``sum_i ||x_i||^2``.
    max_row_sq : float
        ``max_i ||x_i||^2``.
    ones : bool
        Every stored value is 1 (0/1 features: a9a, w8a, binary bags of
        words); the dual kernel then reads no values.
    proved : bool
        True for every instance :func:`checked_csr` returns; False for one
        made any other way (kernels refuse those).
    """

    cdef readonly object data, indices, indptr
    cdef readonly Py_ssize_t n_rows, n_cols, nnz
    cdef readonly double sq_sum, max_row_sq
    cdef readonly bint ones
    cdef readonly bint proved

    @property
    def shape(self):
        return (self.n_rows, self.n_cols)

    @property
    def dtype(self):
        return self.data.dtype if self.proved else None

    def to_scipy(self):
        """A ``scipy.sparse.csr_matrix`` sharing these (read-only) arrays."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=(self.n_rows, self.n_cols), copy=False)

    def __reduce__(self):
        # Unpickling proves the structure again (the arrays travelled).
        return (checked_csr, (np.array(self.data), np.array(self.indices),
                              np.array(self.indptr),
                              (self.n_rows, self.n_cols)))

    def __repr__(self):
        return (f"CSR(shape=({self.n_rows}, {self.n_cols}), nnz={self.nnz}, "
                f"dtype={self.dtype}, proved={bool(self.proved)})")


def _read_only(a):
    view = a.view()
    view.flags.writeable = False
    return view


def checked_csr(data, indices, indptr, shape, *, str caller="fit",
                bint sum_duplicates=False):
    """Scan CSR arrays and return the :class:`CSR` proof.

    Parameters
    ----------
    data : contiguous ndarray of float32 or float64
    indices, indptr : contiguous ndarrays of int32 or int64, same width
    shape : (n_rows, n_cols)
    caller : str
        Named in error messages.
    sum_duplicates : bool, default=False
        When some row is unsorted or has duplicate indices, prove a canonical
        copy instead (indices sorted, duplicates summed: scipy's meaning),
        leaving the given arrays untouched; otherwise that is an error.

    Returns
    -------
    X : CSR

    Raises
    ------
    ValueError
        With the message of :func:`raise_for`, for any status other than
        ``CANONICAL`` (or ``NOT_CANONICAL`` with ``sum_duplicates``).
    TypeError
        For dtypes the kernels do not read.
    """
    cdef Py_ssize_t n_rows = shape[0], n_cols = shape[1]
    if data.dtype not in (np.float32, np.float64):
        raise TypeError(f"{caller}: CSR values must be float32 or float64, "
                        f"got {data.dtype}.")
    if (indices.dtype not in (np.int32, np.int64)
            or indptr.dtype != indices.dtype):
        raise TypeError(f"{caller}: CSR indices and indptr must both be int32 "
                        f"or both int64, got {indices.dtype} and {indptr.dtype}.")
    if n_rows < 0 or n_cols < 0:
        raise ValueError(f"{caller}: negative shape {tuple(shape)}.")
    code, row, sq_sum, max_row_sq = scan(data, indices, indptr, n_rows, n_cols)
    if code == NOT_CANONICAL and sum_duplicates:
        import scipy.sparse as sp

        copy = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols),
                             copy=True)
        copy.sum_duplicates()  # sorts too
        return checked_csr(copy.data, copy.indices.astype(indices.dtype),
                           copy.indptr.astype(indptr.dtype), shape,
                           caller=caller)
    if code != CANONICAL:
        raise_for(code, row, data, indices, indptr, n_rows, n_cols,
                  caller=caller)
    cdef CSR X = CSR.__new__(CSR)
    X.data = _read_only(data)
    X.indices = _read_only(indices)
    X.indptr = _read_only(indptr)
    X.n_rows = n_rows
    X.n_cols = n_cols
    X.nnz = indices.shape[0]
    X.sq_sum = sq_sum
    X.max_row_sq = max_row_sq
    # sum of squares == nnz first: one comparison rules out most data.
    X.ones = X.nnz > 0 and sq_sum == X.nnz and bool(np.all(np.asarray(data) == 1))
    X.proved = True
    return X


def require_proved(X, str who):
    """The kernels' guard: ``X`` must be a proved :class:`CSR`."""
    if type(X) is not CSR or not (<CSR>X).proved:
        raise TypeError(
            f"{who} takes a fastlinear._csr_fast.CSR built by checked_csr(), "
            f"got {type(X).__name__}; pass the matrix through "
            "fastlinear._validation.check_X first.")
