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
from libc.stdint cimport INT32_MAX, int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from cython cimport floating

import numpy as np

from _prefetch cimport prefetch
from _sparse cimport index_t

ctypedef fused out_index_t:     # the index type of a copy (row_subset, transpose)
    int32_t
    int64_t

__all__ = ["CSR", "CSRStatus", "checked_csr", "raise_for", "repeats_at_most", "require_proved",
           "row_groups", "row_subset", "scan", "transpose"]


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


cdef inline double _row_sq(const floating* data, Py_ssize_t start,
                           Py_ssize_t end) noexcept nogil:
    """``sum v^2`` over ``data[start:end]``, in order (one sum: the bits the
    solvers' step sizes were measured with)."""
    cdef Py_ssize_t k
    cdef double v, sq = 0.0
    for k in range(start, end):
        v = data[k]
        sq += v * v
    return sq


cdef int _scan(const floating* data, const index_t* indices,
               const index_t* indptr, Py_ssize_t n_rows, Py_ssize_t n_cols,
               Py_ssize_t nnz, bint check_values, Py_ssize_t* bad_row,
               double* sq_sum, double* max_row_sq) noexcept nogil:
    """The scan behind :func:`scan`; ``indptr`` has ``n_rows + 1`` entries."""
    cdef Py_ssize_t i, k, start, end
    cdef int code = CANONICAL
    cdef double sq, total = 0.0, largest = 0.0
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
        for k in range(start, end):
            if indices[k] < 0 or indices[k] >= n_cols:
                bad_row[0] = i
                return INDEX_OUT_OF_RANGE
            if k > start and indices[k] <= indices[k - 1] and code == CANONICAL:
                code = NOT_CANONICAL
                bad_row[0] = i
        sq = _row_sq(data, start, end) if check_values else 0.0
        if not isfinite(sq):
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


cdef bint _all_ones(const floating* data, Py_ssize_t nnz) noexcept nogil:
    """Whether every one of the ``nnz`` values is 1: ``sum (v - 1)^2`` is 0
    exactly then (NaN and inf make it NaN or inf), summed four ways so
    that the adds do not wait on each other."""
    cdef Py_ssize_t k = 0
    cdef double d0, d1, d2, d3, s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    while k + 4 <= nnz:
        d0 = data[k] - 1.0
        d1 = data[k + 1] - 1.0
        d2 = data[k + 2] - 1.0
        d3 = data[k + 3] - 1.0
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        k += 4
    while k < nnz:
        d0 = data[k] - 1.0
        s0 += d0 * d0
        k += 1
    return s0 + s1 + s2 + s3 == 0.0


cdef int _scan_valid(const floating* data, const index_t* indices,
                     const index_t* indptr, Py_ssize_t n_rows, Py_ssize_t n_cols,
                     Py_ssize_t nnz, bint check_values, double* sq_sum,
                     double* max_row_sq) noexcept nogil:
    """:func:`_scan`'s answer for canonical, finite data, in flat passes:
    ``CANONICAL`` with the sums, or -1 for anything else (the caller then
    runs :func:`_scan`, which names the first bad row).

    ``indptr`` never decreases; every index lies in ``[0, n_cols)``
    (compared in the indices' own width); the indices descend (or
    repeat) only where a nonempty row starts; and, with ``check_values``,
    every row's squared norm is finite.  The first three are loops without
    branches that the compiler vectorises (two comparisons a nonzero
    instead of :func:`_scan`'s three, each a branch whose row of exit the
    predictor cannot learn when rows vary in length).  When every value is
    1 (0/1 features), a row's squared norm is its length, so the values are
    read once, flat; otherwise row by row, summed in :func:`_scan`'s order
    (the same bits)."""
    cdef Py_ssize_t i, k, start, length
    cdef Py_ssize_t descents = 0, starts = 0
    cdef index_t last      # the largest valid index, in the indices' own width
    cdef bint decreases = False
    cdef int outside = 0
    cdef double sq, total = 0.0, largest = 0.0
    if indptr[0] != 0 or indptr[n_rows] != nnz:
        return -1
    for i in range(n_rows):
        decreases |= indptr[i + 1] < indptr[i]
    if decreases:
        return -1
    if index_t is int32_t:
        last = <index_t>min(n_cols - 1, <Py_ssize_t>INT32_MAX)
    else:
        last = <index_t>(n_cols - 1)
    for k in range(nnz):
        outside |= (indices[k] < 0) | (indices[k] > last)
    if outside:
        return -1
    for k in range(1, nnz):
        descents += indices[k] <= indices[k - 1]
    for i in range(n_rows):
        start = indptr[i]
        if 0 < start < indptr[i + 1]:
            starts += indices[start] <= indices[start - 1]
    if descents != starts:
        return -1
    if check_values:
        if nnz > 0 and data[0] == 1 and _all_ones(data, nnz):
            for i in range(n_rows):
                length = indptr[i + 1] - indptr[i]
                total += <double>length
                if length > largest:
                    largest = <double>length
        else:
            for i in range(n_rows):
                sq = _row_sq(data, indptr[i], indptr[i + 1])
                if not isfinite(sq):
                    return -1
                total += sq
                if sq > largest:
                    largest = sq
    sq_sum[0] = total
    max_row_sq[0] = largest
    return CANONICAL


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
        code = _scan_valid(&data[0] if nnz > 0 else NULL,
                           &indices[0] if nnz > 0 else NULL, &indptr[0], n_rows,
                           n_cols, nnz, check_values, &sq_sum, &max_row_sq)
        if code != CANONICAL:
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

    def to_scipy(self, squared=False):
        """A ``scipy.sparse.csr_matrix`` sharing these (read-only) arrays;
        with ``squared``, of the values squared in float64 (a new array: the
        Hessian's diagonal is a product with it), sharing the structure."""
        import scipy.sparse as sp

        data = np.square(self.data, dtype=np.float64) if squared else self.data
        return sp.csr_matrix((data, self.indices, self.indptr),
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


# ------------------------------------------------------------ identical rows

cdef inline uint64_t _mix(uint64_t h) noexcept nogil:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    h ^= h >> 30
    h *= <uint64_t>0xbf58476d1ce4e5b9ULL
    h ^= h >> 27
    h *= <uint64_t>0x94d049bb133111ebULL
    h ^= h >> 31
    return h


cdef inline uint64_t _bits(double v) noexcept nogil:
    """The bits of ``v + 0.0`` (-0.0 as 0.0, as they compare), copied: a cast
    of the pointer would break C's aliasing rules."""
    cdef uint64_t b
    v += 0.0
    memcpy(&b, &v, sizeof(b))
    return b


cdef inline uint64_t _row_hash(const floating* data, const index_t* indices,
                               Py_ssize_t start, Py_ssize_t end, Py_ssize_t label,
                               const uint64_t* column_keys) noexcept nogil:
    """A sum of one term per stored value, each its column's random key
    times an odd number made from the value's bits (tabulation hashing: one
    load and one multiply per value, the terms independent of each other),
    then one finaliser per row."""
    cdef uint64_t h = <uint64_t>label * <uint64_t>0x9e3779b97f4a7c15ULL
    cdef Py_ssize_t k
    for k in range(start, end):
        h += column_keys[indices[k]] * (_bits(data[k]) | 1)
    return _mix(h)


cdef inline bint _same_row(const floating* data, const index_t* indices,
                           const index_t* indptr, Py_ssize_t a,
                           Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t k, sa = indptr[a], sb = indptr[b], n = indptr[a + 1] - indptr[a]
    if indptr[b + 1] - sb != n:
        return False
    for k in range(n):
        if indices[sa + k] != indices[sb + k] or data[sa + k] != data[sb + k]:
            return False
    return True


cdef struct Slot:
    uint64_t hash
    Py_ssize_t row          # -1: empty


cdef enum:
    PROBE_AHEAD = 16        # rows whose slot is prefetched ahead of their lookup


cdef void _groups(const floating* data, const index_t* indices, const index_t* indptr,
                  Py_ssize_t n, const Py_ssize_t* labels, Py_ssize_t* first,
                  uint64_t* row_hash, Slot* table, Py_ssize_t size,
                  const uint64_t* column_keys) noexcept nogil:
    """Open addressing with linear probing over ``size`` (a power of two,
    at least ``2 n``) slots: at most ``n`` are filled, so every probe
    sequence meets an empty slot or its row's group.  The rows are hashed
    first, in one sequential pass; the lookups then prefetch the slot of
    the row ``PROBE_AHEAD`` ahead (the table, 16 bytes a slot, outgrows the
    L2 cache from about 30,000 rows: a lookup is a cache miss)."""
    cdef Py_ssize_t i, s, r
    cdef uint64_t h, mask = <uint64_t>(size - 1)
    for i in range(n):
        row_hash[i] = _row_hash(data, indices, indptr[i], indptr[i + 1], labels[i],
                                column_keys)
    for i in range(n):
        if i + PROBE_AHEAD < n:
            prefetch(&table[row_hash[i + PROBE_AHEAD] & mask])
        h = row_hash[i]
        s = <Py_ssize_t>(h & mask)
        while True:
            r = table[s].row
            if r < 0:
                table[s].row = i
                table[s].hash = h
                first[i] = i
                break
            if (table[s].hash == h and labels[r] == labels[i]
                    and _same_row(data, indices, indptr, r, i)):
                first[i] = r
                break
            s = (s + 1) & <Py_ssize_t>mask


cdef inline uint64_t _ends_hash(const floating* data, const index_t* indices,
                                Py_ssize_t start, Py_ssize_t end,
                                Py_ssize_t label) noexcept nogil:
    """The hash of a row's label, length and first and last stored entries
    (equal for identical rows: :func:`repeats_at_most`)."""
    cdef uint64_t h = _mix(<uint64_t>label * <uint64_t>0x9e3779b97f4a7c15ULL
                           + <uint64_t>(end - start))
    if end > start:
        h = _mix(h ^ <uint64_t>indices[start]) + _bits(data[start])
        h = _mix(h ^ <uint64_t>indices[end - 1]) + _bits(data[end - 1])
    return _mix(h)


cdef Py_ssize_t _repeat_bound(const floating* data, const index_t* indices,
                              const index_t* indptr, Py_ssize_t n,
                              const Py_ssize_t* labels, uint64_t* bits,
                              Py_ssize_t n_bits, Py_ssize_t stop_at) noexcept nogil:
    """The rows whose :func:`_ends_hash` finds its bit among ``n_bits`` (a
    power of two) already set by an earlier row: every row whose key
    repeats, and a few whose key's bit another key set (at most one in
    ``n_bits / n`` of the rows), or ``stop_at`` once the count reaches it.
    A bitmap of 32 bits a row stays in the L2 cache where a table of the
    keys would not."""
    cdef Py_ssize_t i, j, count = 0
    cdef uint64_t h, bit, mask = <uint64_t>(n_bits - 1)
    cdef Py_ssize_t ahead = n - PROBE_AHEAD if indptr[n] > 0 else 0
    for i in range(n):
        if i < ahead:       # the ends of a row ahead: the rows are far apart
            j = indptr[i + PROBE_AHEAD]
            prefetch(&data[j])
            prefetch(&indices[j])
            j = indptr[i + PROBE_AHEAD + 1] - 1
            prefetch(&data[j])
            prefetch(&indices[j])
        h = _ends_hash(data, indices, indptr[i], indptr[i + 1], labels[i]) & mask
        bit = (<uint64_t>1) << (h & 63)
        if bits[h >> 6] & bit:
            count += 1
            if count >= stop_at:
                break
        else:
            bits[h >> 6] |= bit
    return count


def row_groups(X, labels):
    """The first row of each row's group of identical ``(row, label)`` pairs.

    Parameters
    ----------
    X : CSR
        A proved matrix (canonical rows: identical rows store the same
        indices in the same order).
    labels : intp ndarray of shape (n_rows,)

    Returns
    -------
    first : intp ndarray of shape (n_rows,)
        ``first[i]`` is the smallest ``r`` whose row and label equal row
        ``i``'s (values compared as numbers, stored zeros included); ``i``
        itself for a row met for the first time.  One pass: each row is
        hashed and looked up in a table of ``2 n`` to ``4 n`` slots.
    """
    require_proved(X, "row_groups")
    cdef Py_ssize_t n = X.n_rows
    lab = _checked_labels(labels, n, "row_groups")
    first = np.empty(n, dtype=np.intp)
    if n == 0:
        return first
    row_hash = np.empty(n, dtype=np.uint64)
    table = _empty_table(n)
    # splitmix64's sequence from a fixed seed: the same keys in every process.
    column_keys = np.empty(max(X.n_cols, 1), dtype=np.uint64)
    _fill_keys(column_keys)
    _groups_typed(X.data, X.indices, X.indptr, lab, first, row_hash, table, column_keys)
    return first


def repeats_at_most(X, labels, Py_ssize_t stop_at=-1):
    """An upper bound on the rows that :func:`row_groups` finds repeating an
    earlier one, from a few entries of each row.

    Two identical ``(row, label)`` pairs share their label, their length and
    their first and last stored entries (index and value): the rows whose
    key of these hashes to a bit an earlier row set include every repeated
    row (and, by collisions, up to one row in 32 more).  The key reads no
    more of a row than its ends, so the bound costs a lookup per row where
    :func:`row_groups` reads every stored value and a random key per
    column; on text, whose rows seldom share their length and ends, it
    shows that merging cannot pay.

    Parameters
    ----------
    X : CSR
        A proved matrix.
    labels : intp ndarray of shape (n_rows,)
    stop_at : int, default=-1
        Stop counting once the bound reaches it (negative: never): a caller
        that asks only whether the bound is below it reads no further.

    Returns
    -------
    bound : int
        The number of rows whose key repeats an earlier row's, or
        ``stop_at`` once reached.
    """
    require_proved(X, "repeats_at_most")
    cdef Py_ssize_t n = X.n_rows
    lab = _checked_labels(labels, n, "repeats_at_most")
    if n == 0 or stop_at == 0:
        return 0
    cdef Py_ssize_t n_bits = 64
    while n_bits < 32 * n:
        n_bits *= 2
    return _bound_typed(X.data, X.indices, X.indptr, lab,
                        np.zeros(n_bits // 64, dtype=np.uint64),
                        n if stop_at < 0 else stop_at)


def _checked_labels(labels, Py_ssize_t n, str who):
    """``labels`` as a contiguous intp vector of ``n`` class indices."""
    if not np.issubdtype(np.asarray(labels).dtype, np.integer):
        raise TypeError(f"{who}: labels must be integers (class indices), got "
                        f"{np.asarray(labels).dtype}.")
    lab = np.ascontiguousarray(labels, dtype=np.intp)
    if lab.ndim != 1 or lab.shape[0] != n:
        raise ValueError(f"{who}: labels must have shape ({n},), got {lab.shape}.")
    return lab


def _empty_table(Py_ssize_t n):
    """The slots of an open-addressing table for ``n`` rows, as (hash, row)
    int64 pairs: a power of two of at least ``2 n`` slots, all empty (row
    -1)."""
    cdef Py_ssize_t size = 16
    while size < 2 * n:
        size *= 2
    return np.full(2 * size, -1, dtype=np.int64)


def _bound_typed(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, const Py_ssize_t[::1] labels,
                 uint64_t[::1] bits, Py_ssize_t stop_at):
    """:func:`repeats_at_most` on one specialisation (Cython picks it)."""
    cdef const floating* d = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t bound
    with nogil:
        bound = _repeat_bound(d, ind, &indptr[0], labels.shape[0], &labels[0],
                              &bits[0], bits.shape[0] * 64, stop_at)
    return bound


def _groups_typed(const floating[::1] data, const index_t[::1] indices,
                  const index_t[::1] indptr, const Py_ssize_t[::1] labels,
                  Py_ssize_t[::1] first, uint64_t[::1] row_hash, int64_t[::1] table,
                  const uint64_t[::1] column_keys):
    """:func:`row_groups` on one specialisation (Cython picks it)."""
    cdef const floating* d = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* ind = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        _groups(d, ind, &indptr[0], first.shape[0], &labels[0], &first[0], &row_hash[0],
                <Slot*>&table[0], table.shape[0] // 2, &column_keys[0])


cdef void _fill_keys(uint64_t[::1] keys):
    cdef Py_ssize_t j
    cdef uint64_t state = <uint64_t>0x9e3779b97f4a7c15ULL
    for j in range(keys.shape[0]):
        state += <uint64_t>0x9e3779b97f4a7c15ULL
        keys[j] = _mix(state)


def _index_dtype(Py_ssize_t nnz, Py_ssize_t width):
    """The index type of a copy with ``nnz`` entries and indices below
    ``width``: ``int32`` whenever both fit (half the index bytes to copy, to
    fault in and to read in every pass), else ``int64``."""
    return np.int32 if max(nnz, width) <= np.iinfo(np.int32).max else np.int64


def row_subset(X, rows, *, str caller="fit"):
    """The proof of the rows ``rows`` of the proved ``X``, in that order.

    The rows are copied (new arrays: X's value dtype, ``int32`` indices
    when the copy's nonzeros and X's columns fit in them, else ``int64``,
    even from an ``int32`` X whose rows repeated outgrow it) and proved without a
    second scan: rows of a proof are readable, canonical and finite, so
    only the squared norms' sum and maximum (and whether every value is 1,
    which a subset inherits) are recomputed.  For a fold of a
    cross-validation, or the distinct rows of ``fastlinear._merge``.

    When every value of X is 1 (``X.ones``) and the copy has at most X's
    nonzeros, its values are a view of X's instead of a copy (all ones
    too): no values to copy, and no fresh pages to touch for them.

    Parameters
    ----------
    X : CSR
    rows : ndarray of int
        Row numbers in ``[0, X.n_rows)``; repeats allowed.
    caller : str
        Named in the error message.
    """
    require_proved(X, "row_subset")
    r = np.ascontiguousarray(rows, dtype=np.intp)
    if r.ndim != 1:
        raise ValueError(f"{caller}: rows must be a 1-d array of row numbers, got shape {r.shape}.")
    if r.shape[0] and (r.min() < 0 or r.max() >= X.n_rows):
        raise ValueError(f"{caller}: row numbers must lie in [0, {X.n_rows}), got "
                         f"{int(r.min())} to {int(r.max())}.")
    ptr = np.asarray(X.indptr)
    lengths = ptr[r + 1] - ptr[r]
    total = int(lengths.sum())
    index_dtype = _index_dtype(total, X.n_cols)
    indptr = np.zeros(r.shape[0] + 1, dtype=index_dtype)
    np.cumsum(lengths, out=indptr[1:])
    shared = X.ones and total <= X.nnz
    data = np.empty(0 if shared else total, dtype=X.data.dtype)
    indices = np.empty(total, dtype=index_dtype)
    # (a def over fused memoryviews: Cython picks the specialisation)
    sq_sum, max_row_sq = _copy_rows(X.data, X.indices, X.indptr, r, data, indices, indptr,
                                    not shared)
    cdef CSR S = CSR.__new__(CSR)
    S.data = X.data[:total] if shared else _read_only(data)
    S.indices = _read_only(indices)
    S.indptr = _read_only(indptr)
    S.n_rows = r.shape[0]
    S.n_cols = X.n_cols
    S.nnz = indices.shape[0]
    S.sq_sum = sq_sum
    S.max_row_sq = max_row_sq
    S.ones = X.ones and S.nnz > 0
    S.proved = True
    return S


def _copy_rows(const floating[::1] data, const index_t[::1] indices,
               const index_t[::1] indptr, const Py_ssize_t[::1] rows,
               floating[::1] out_data, out_index_t[::1] out_indices,
               const out_index_t[::1] out_indptr, bint values):
    """Rows ``rows`` into the out arrays (indices converted to the out
    arrays' type, which holds them; the values only when ``values``);
    ``(sum, max)`` of the rows' squared norms."""
    cdef Py_ssize_t t, k, src, dst, length
    cdef double sq, total = 0.0, top = 0.0, v
    cdef const floating* d = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef floating* od = &out_data[0] if out_data.shape[0] > 0 else NULL
    cdef out_index_t* oi = &out_indices[0] if out_indices.shape[0] > 0 else NULL
    with nogil:
        for t in range(rows.shape[0]):
            src = indptr[rows[t]]
            dst = out_indptr[t]
            length = out_indptr[t + 1] - dst
            if length == 0:
                continue
            if values:
                memcpy(&od[dst], &d[src], length * sizeof(floating))
            sq = 0.0
            for k in range(length):
                oi[dst + k] = <out_index_t>ind[src + k]
                v = d[src + k]
                sq += v * v
            total += sq
            if sq > top:
                top = sq
    return total, top


def transpose(X, *, str caller="fit"):
    """The proof of ``X.T`` in CSR form: the columns of the proved ``X`` as
    rows (for the kernels that walk columns).

    Made as scipy makes it (count, prefix sum, scatter, with ``indptr`` as
    the scatter's cursor: no other array of ``n_cols`` entries), then one
    pass over the result for what a scan of it would find: each column's
    squared norm summed in row order and the columns in order (the same
    bits), and the ``ValueError`` of a column whose squared norm overflows
    float64 (every row's may be finite).  ``int32`` indices and offsets
    when X's nonzeros and rows fit in them, else ``int64``.  When every
    value is 1 (``X.ones``), the transpose's values are X's own (read-only)
    array, not a copy: a fit on 0/1 features touches no fresh pages for
    them.

    Parameters
    ----------
    X : CSR
    caller : str
        Named in the error message.
    """
    require_proved(X, "transpose")
    cdef Py_ssize_t nnz = X.nnz
    index_dtype = _index_dtype(nnz, X.n_rows)
    shared = X.ones
    indptr = np.zeros(X.n_cols + 1, dtype=index_dtype)
    indices = np.empty(nnz, dtype=index_dtype)
    data = np.empty(0 if shared else nnz, dtype=X.data.dtype)
    # (a def over fused memoryviews: Cython picks the specialisation)
    bad, total, largest = _transpose_typed(X.data, X.indices, X.indptr, data, indices, indptr,
                                           not shared)
    if bad >= 0:
        raise_for(SQUARE_OVERFLOW, bad, data, indices, indptr, X.n_cols, X.n_rows,
                  caller=caller, kind="column")
    cdef CSR T = CSR.__new__(CSR)
    T.data = X.data if shared else _read_only(data)
    T.indices = _read_only(indices)
    T.indptr = _read_only(indptr)
    T.n_rows = X.n_cols
    T.n_cols = X.n_rows
    T.nnz = nnz
    T.sq_sum = total
    T.max_row_sq = largest
    T.ones = X.ones
    T.proved = True
    return T


def _transpose_typed(const floating[::1] data, const index_t[::1] indices,
                     const index_t[::1] indptr, floating[::1] out_data,
                     out_index_t[::1] out_indices, out_index_t[::1] out_indptr,
                     bint values):
    """:func:`transpose`'s passes into the out arrays (``out_indptr``
    zeroed; the values only when ``values``, else every value is 1).
    Returns ``(bad, sq_sum, max_row_sq)``: ``bad`` the first column whose
    squared norm overflows, or -1."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, n_cols = out_indptr.shape[0] - 1
    cdef Py_ssize_t i, j, k, dst, bad = -1
    cdef double sq, total = 0.0, largest = 0.0
    cdef const floating* d = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef floating* od = &out_data[0] if out_data.shape[0] > 0 else NULL
    cdef out_index_t* oi = &out_indices[0] if out_indices.shape[0] > 0 else NULL
    cdef out_index_t* ptr = &out_indptr[0]
    with nogil:
        for k in range(indptr[n_rows]):
            ptr[ind[k] + 1] += 1
        for j in range(n_cols):
            ptr[j + 1] += ptr[j]
        # ptr[j] is column j's next free slot; afterwards, the next column's start.
        for i in range(n_rows):
            for k in range(indptr[i], indptr[i + 1]):
                j = ind[k]
                dst = ptr[j]
                ptr[j] = dst + 1
                oi[dst] = <out_index_t>i
                if values:
                    od[dst] = d[k]
        for j in range(n_cols, 0, -1):
            ptr[j] = ptr[j - 1]
        ptr[0] = 0
        for j in range(n_cols):
            if values:
                sq = 0.0
                for k in range(ptr[j], ptr[j + 1]):
                    sq += <double>od[k] * <double>od[k]
                if not isfinite(sq):
                    bad = j
                    break
            else:
                sq = <double>(ptr[j + 1] - ptr[j])
            total += sq
            if sq > largest:
                largest = sq
    return bad, total, largest
