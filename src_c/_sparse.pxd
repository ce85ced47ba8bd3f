# cython: language_level=3
"""Inline helpers on the rows of a CSR matrix.

``index_t`` covers both index widths scipy produces (``int32``, and ``int64``
for large matrices or ``load_svmlight_file``), so no index array is ever
copied to change its type.  Values are ``floating`` (float32 or float64);
accumulation is always in double precision.

The helpers trust their arguments: a kernel calls them only on the arrays of
a ``fastlinear._csr_fast.CSR``, whose structure has been proved readable.
"""
from libc.stdint cimport int32_t, int64_t
from cython cimport floating

from _prefetch cimport prefetch

ctypedef fused index_t:
    int32_t
    int64_t

# Compile-time choice of how a kernel reads a row: a NULL pointer of the
# type selects the version.  ``Ones`` is for a CSR whose every stored value
# is 1 (``CSR.ones``): the kernel reads the indices alone, with the same
# bits (a factor 1 is exact).
ctypedef struct Valued:
    char unused             # rows as stored
ctypedef struct Ones:
    char unused             # every value 1: the indices alone

ctypedef fused values_t:
    Valued
    Ones


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


cdef inline double ones_dot_count(const index_t* indices, Py_ssize_t start,
                                  Py_ssize_t end, const double* w,
                                  double* sqnorm) noexcept nogil:
    """:func:`row_dot_sqnorm` of a row whose values are all 1: ``sum w[j]``,
    and the row's length as its squared norm (the same bits: a factor 1 is
    exact)."""
    cdef double acc = 0.0
    cdef Py_ssize_t k
    for k in range(start, end):
        acc += w[indices[k]]
    sqnorm[0] = <double>(end - start)
    return acc


cdef inline double value_at(const values_t* kind, const floating* data,
                            Py_ssize_t k) noexcept nogil:
    """Stored value ``k``: 1 without reading it when ``values_t`` is ``Ones``
    (the compiler then drops the product with it: ``x * 1.0`` is ``x``)."""
    if values_t is Ones:
        return 1.0
    else:
        return data[k]


cdef inline double dot_from(const values_t* kind, double acc, const floating* data,
                            const index_t* indices, Py_ssize_t start, Py_ssize_t end,
                            const double* w) noexcept nogil:
    """``acc + x_row . w``, the terms added to ``acc`` in the row's order;
    the values are not read when ``values_t`` is ``Ones``."""
    cdef Py_ssize_t k
    if values_t is Ones:
        for k in range(start, end):
            acc += w[indices[k]]
    else:
        for k in range(start, end):
            acc += data[k] * w[indices[k]]
    return acc


cdef inline void axpy_of(const values_t* kind, double a, const floating* data,
                         const index_t* indices, Py_ssize_t start, Py_ssize_t end,
                         double* w) noexcept nogil:
    """``w += a x_row``; the values are not read when ``values_t`` is ``Ones``."""
    cdef Py_ssize_t k
    if values_t is Ones:
        for k in range(start, end):
            w[indices[k]] += a
    else:
        for k in range(start, end):
            w[indices[k]] += a * data[k]


cdef inline void _dot_block(const floating* data, const index_t* indices,
                            Py_ssize_t start, Py_ssize_t end, const double* V,
                            Py_ssize_t K, Py_ssize_t c, const int width,
                            const double* bias_row, double bias,
                            double* out) noexcept nogil:
    """:func:`row_dot_columns` for the ``width`` columns from ``c``.  Called
    with a constant ``width``, the compiler unrolls the loops over ``q`` and
    keeps ``acc`` in registers."""
    cdef double acc[8]
    cdef const double* src
    cdef double v
    cdef Py_ssize_t k
    cdef int q
    for q in range(width):
        acc[q] = bias * bias_row[c + q]
    for k in range(start, end):
        v = data[k]
        src = V + indices[k] * K + c
        for q in range(width):
            acc[q] += v * src[q]
    for q in range(width):
        out[c + q] = acc[q]


cdef inline void row_dot_columns(const floating* data, const index_t* indices,
                                 Py_ssize_t start, Py_ssize_t end, const double* V,
                                 Py_ssize_t K, const double* bias_row, double bias,
                                 double* out) noexcept nogil:
    """``out[c] = bias * bias_row[c] + x_row . V[:, c]`` for the ``K`` columns
    of a row-major ``V`` (``bias_row`` is its row of the constant feature).

    The columns go 8, 4, 3, 2 or 1 at a time (K = 20: 8 + 8 + 4, K = 3 in
    one pass over the row), each sum in a register: a sum kept in ``out``,
    which may alias ``V`` for the compiler, waits for the store of each term
    before the next (2-5x slower on dna for K = 2..20).  The terms of every
    sum come in the row's order after the bias term: the bits of one column
    at a time.
    """
    cdef Py_ssize_t c = 0
    while K - c >= 8:
        _dot_block(data, indices, start, end, V, K, c, 8, bias_row, bias, out)
        c += 8
    if K - c >= 4:
        _dot_block(data, indices, start, end, V, K, c, 4, bias_row, bias, out)
        c += 4
    if K - c == 3:
        _dot_block(data, indices, start, end, V, K, c, 3, bias_row, bias, out)
    elif K - c == 2:
        _dot_block(data, indices, start, end, V, K, c, 2, bias_row, bias, out)
    elif K - c == 1:
        _dot_block(data, indices, start, end, V, K, c, 1, bias_row, bias, out)


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


cdef inline void prefetch_row(const floating* data, const index_t* indices,
                              Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    """Ask for every cache line of a row's values and indices."""
    cdef Py_ssize_t k
    k = start
    while k < end:
        prefetch(&data[k])
        k += 64 // sizeof(floating)
    k = start
    while k < end:
        prefetch(&indices[k])
        k += 64 // sizeof(index_t)
