"""Structural check of CSR arrays, run once before any kernel reads them.

A kernel that indexes ``w[indices[k]]`` for ``k`` in ``indptr[i]:indptr[i+1]``
reads out of bounds if ``indptr`` is not monotone, does not end at ``nnz`` or
if an index lies outside ``[0, n_features)``.  ``check_csr`` proves none of
this happens, in one ``nogil`` pass over ``indptr`` and ``indices``, and tells
whether every row is strictly increasing (canonical: sorted, no duplicates).

Status codes (``(code, row)``, ``row`` is the first offending row or -1):

0  canonical                         the kernels may read the arrays as they are
1  valid but not canonical            some row is unsorted or has duplicate indices
-1 ``indptr`` has the wrong length    (not ``n_rows + 1``)
-2 ``indptr[0] != 0``
-3 ``indptr[-1] != nnz`` or ``len(data) != len(indices)``
-4 ``indptr`` decreases at ``row``
-5 an index of ``row`` is outside ``[0, n_features)``
"""
from _sparse cimport index_t

cpdef enum CSRStatus:
    CANONICAL = 0
    NOT_CANONICAL = 1
    BAD_INDPTR_LENGTH = -1
    BAD_INDPTR_START = -2
    BAD_INDPTR_END = -3
    INDPTR_DECREASES = -4
    INDEX_OUT_OF_RANGE = -5


def check_csr(const index_t[::1] indptr, const index_t[::1] indices,
              Py_ssize_t n_rows, Py_ssize_t n_data, Py_ssize_t n_features):
    """Return ``(code, row)`` describing the CSR structure (see module doc)."""
    cdef Py_ssize_t i, k, start, end, nnz = indices.shape[0]
    cdef int code = 0
    cdef Py_ssize_t bad_row = -1
    if indptr.shape[0] != n_rows + 1:
        return int(BAD_INDPTR_LENGTH), -1
    if indptr[0] != 0:
        return int(BAD_INDPTR_START), 0
    if indptr[n_rows] != nnz or n_data != nnz:
        return int(BAD_INDPTR_END), n_rows - 1
    with nogil:
        for i in range(n_rows):
            start = indptr[i]
            end = indptr[i + 1]
            if end < start or end > nnz:
                code = INDPTR_DECREASES
                bad_row = i
                break
            for k in range(start, end):
                if indices[k] < 0 or indices[k] >= n_features:
                    code = INDEX_OUT_OF_RANGE
                    bad_row = i
                    break
                if k > start and indices[k] <= indices[k - 1] and code == 0:
                    code = NOT_CANONICAL
                    bad_row = i
            if code < 0:
                break
    return code, bad_row
