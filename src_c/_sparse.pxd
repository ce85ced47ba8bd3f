# cython: language_level=3
"""Inline helpers on the rows of a CSR matrix.

``index_t`` covers both index widths scipy produces (``int32``, and ``int64``
for large matrices or ``load_svmlight_file``), so no index array is ever
copied to change its type.  Values are ``floating`` (float32 or float64);
accumulation is always in double precision.
"""
from libc.stdint cimport int32_t, int64_t
from cython cimport floating

ctypedef fused index_t:
    int32_t
    int64_t


cdef inline int csr_check(const index_t* indices, const index_t* indptr,
                          Py_ssize_t n_rows, Py_ssize_t n_cols, Py_ssize_t nnz,
                          Py_ssize_t* bad_row) noexcept nogil:
    """Prove that reading row ``i`` as ``indices[indptr[i]:indptr[i+1]]`` is safe.

    Returns 0 when ``indptr`` starts at 0, ends at ``nnz`` and never
    decreases, and every index lies in ``[0, n_cols)``; else 1 (``indptr``
    broken) or 2 (an index out of range), with ``bad_row`` the first bad row.
    Every kernel calls it before it reads anything else.
    """
    cdef Py_ssize_t i, k, start, end
    if indptr[0] != 0 or indptr[n_rows] != nnz:
        bad_row[0] = 0 if indptr[0] != 0 else n_rows - 1
        return 1
    for i in range(n_rows):
        start = indptr[i]
        end = indptr[i + 1]
        if end < start or end > nnz:
            bad_row[0] = i
            return 1
        for k in range(start, end):
            if indices[k] < 0 or indices[k] >= n_cols:
                bad_row[0] = i
                return 2
    return 0


cdef inline double row_dot(const floating* data, const index_t* indices,
                           Py_ssize_t start, Py_ssize_t end,
                           const double* w) noexcept nogil:
    """``x_row . w`` for the nonzeros ``start:end``."""
    cdef double acc = 0.0
    cdef Py_ssize_t k
    for k in range(start, end):
        acc += data[k] * w[indices[k]]
    return acc


cdef inline double row_dot_sqnorm(const floating* data, const index_t* indices,
                                  Py_ssize_t start, Py_ssize_t end,
                                  const double* w, double* sqnorm) noexcept nogil:
    """``x_row . w``, and ``||x_row||^2`` into ``sqnorm``, in one pass.

    The loop waits on the loads of ``w``; the squares ride along for free,
    so the kernels need not store a squared norm per row.  (Four partial
    sums were measured: no faster on the 200k x 50k text-like set.)
    """
    cdef double acc = 0.0, sq = 0.0, v
    cdef Py_ssize_t k
    for k in range(start, end):
        v = data[k]
        acc += v * w[indices[k]]
        sq += v * v
    sqnorm[0] = sq
    return acc


cdef inline void row_axpy(double a, const floating* data, const index_t* indices,
                          Py_ssize_t start, Py_ssize_t end, double* w) noexcept nogil:
    """``w += a * x_row`` for the nonzeros ``start:end``."""
    cdef Py_ssize_t k
    for k in range(start, end):
        w[indices[k]] += a * data[k]


cdef inline double row_sqnorm(const floating* data, Py_ssize_t start,
                              Py_ssize_t end) noexcept nogil:
    """``||x_row||^2`` (exact only when the row has no duplicate indices)."""
    cdef double acc = 0.0
    cdef Py_ssize_t k
    for k in range(start, end):
        acc += (<double>data[k]) * data[k]
    return acc
