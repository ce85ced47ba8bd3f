# cython: freethreading_compatible = True
"""Exact Hessians of L2-regularised logistic regression, on CSR data with few features.

The exact (Cholesky) Newton solvers of ``fastlinear._newton_cholesky`` form
the Hessian of the loss part in one pass over the rows of ``X~ = [X, bias]``
(``m = n_features + 1`` columns, the constant feature of value ``bias``
last)::

    binary:       H += X~^T diag(d) X~                                      (m x m)
    multinomial:  H += sum_i s_i (x~_i x~_i^T) kron (diag(p_i) - p_i p_i^T)  (mK x mK)

The multinomial index of weight ``W[a, k]`` (feature ``a``, class ``k``) is
``a K + k``, so that the ``K x K`` block ``(a, b)`` of ``H`` is
``sum_i s_i x~_ia x~_ib (diag(p_i) - p_i p_i^T)``.  ``p_i`` need not sum to
1: passing only the columns of classes ``1..K-1`` gives the Hessian of the
reduced problem where class 0's weights are held at 0, exactly.

Both products of a solver's gradient and line search, ``Z = X~ V`` and
``G += X~^T U``, are here too (:func:`scores`, :func:`transpose_product`), so
float32 data is never copied to float64 as scipy's mixed-type product does.

Design rules of this module:

1. X arrives as a ``fastlinear._csr_fast.CSR`` (structure, finite values and
   representable squared norms proved once per fit) whose rows are sorted,
   so the pairs ``k <= l`` of a row's nonzeros land in the upper triangle
   ``j_k <= j_l``.  Each row is read once; a row with ``nnz_i`` nonzeros
   costs ``(nnz_i + 1)^2 / 2`` updates (times ``K (K + 1) / 2`` for the
   multinomial Hessian, whose ``K x K`` blocks are symmetric: they are
   accumulated packed, one contiguous run of ``K (K + 1) / 2`` numbers per
   pair of nonzeros, and unpacked once at the end: 2.2x faster on dna
   (K = 3) and 2.8x on satimage (K = 6) than updating the K rows of each
   block in ``H`` directly).  Dense
   rows (``nnz_i = n_features``) of the binary Hessian take a contiguous
   inner loop the compiler vectorises.  The lower triangle is the mirror
   of the upper one on exit.
2. Values are ``floating`` (float32 stays float32), indices ``int32`` or
   ``int64``; every accumulation is float64.
3. ``n_threads > 1`` splits the rows into that many chunks of about equal
   work, each accumulated into its own ``H`` buffer and the buffers summed
   in chunk order (OpenMP, when the build has it): the same input and
   thread count give the same bits.  The solvers use one thread by default:
   on a 2-core virtual AMD EPYC (Zen 5) shared with other work, two threads
   made the pass slower (a9a 16 -> 83 ms, dna 35 -> 55 ms, satimage 73 ->
   98 ms, medians of 5).  With ``n_threads > 1`` a pass takes the threads
   only for at least ``MIN_THREAD_WORK`` updates (``min_thread_work``), and
   ``MIN_THREAD_BUFFERS`` per entry of the chunks' buffers.  Between a solver's passes the
   workers fall asleep, and waking them cost 1.5-3 ms on the quiet Zen 5;
   binary Hessians after 10 ms of sleep, one thread against two: a9a 3.9M
   updates 1.7 / 1.9 ms, w8a 6M 3.2 / 3.2 ms, w8a stacked 4 times 24M 12.0
   / 10.0 ms, a9a 8 times 31M 20.8 / 11.6 ms; 2,000 features and 2M
   updates 16 / 22 ms (two 2,001^2 buffers to clear and sum).
4. Every loop is bounded by the data's size; ``_status.poll`` runs every
   ``POLL_EVERY`` rows (between blocks of rows with threads), so Ctrl-C
   stops a long pass within milliseconds.
5. Inputs are checked here (shapes, dtypes, finite weights), with messages
   that say what was expected: the kernels are called by one driver, but a
   wrong shape must never read out of bounds.
6. When every stored value is 1 (``X.ones``: a9a, w8a, binary bags of
   words), the binary Hessian and the one-column products read only the
   indices (``_sparse.values_t``), with the same bits: a factor 1 is exact.
   ``use_ones=False`` reads the values anyway (for tests and measurements).
"""
import numpy as np

from libc.math cimport isfinite
from libc.stdint cimport int32_t, int64_t
from cython cimport floating
from cython.parallel cimport prange

from _sparse cimport Ones, Valued, axpy_of, dot_from, index_t, row_dot_columns, values_t
from _status cimport POLL_EVERY, poll

from fastlinear._csr_fast import require_proved

__all__ = ["binary_hessian", "binary_hessian_vector", "have_openmp", "multinomial_hessian",
           "multinomial_hessian_vector", "scores", "transpose_product"]


cdef extern from *:
    """
    #ifdef _OPENMP
    #define FL_HESSIAN_OPENMP 1
    #else
    #define FL_HESSIAN_OPENMP 0
    #endif
    """
    int FL_HESSIAN_OPENMP


def have_openmp():
    """Whether this build splits the Hessian passes over threads."""
    return bool(FL_HESSIAN_OPENMP)


# ----------------------------------------------------------------- checks


def _float64_array(name, who, a, shape):
    """``a`` as a C-contiguous float64 array of ``shape``, or a ValueError."""
    if not isinstance(a, np.ndarray) or a.dtype != np.float64 or not a.flags.c_contiguous:
        raise ValueError(
            f"{who}: {name} must be a C-contiguous float64 ndarray, got "
            f"{type(a).__name__}{'' if not isinstance(a, np.ndarray) else ' of ' + str(a.dtype)}"
            f"; pass np.ascontiguousarray({name}, dtype=np.float64).")
    if a.shape != shape:
        raise ValueError(f"{who}: {name} must have shape {shape}, got {a.shape}.")
    return a


def _writable(name, who, a):
    if not a.flags.writeable:
        raise ValueError(f"{who}: {name} is read-only; pass a writable array.")


def _finite(name, who, a):
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{who}: {name} has NaN or infinite entries.")


def _check_common(X, who, bias, n_threads):
    require_proved(X, who)
    if not isfinite(bias):
        raise ValueError(f"{who}: bias must be finite, got {bias!r}.")
    if not isfinite(X.max_row_sq + bias * bias):
        raise ValueError(f"{who}: the squared row norms overflow float64; rescale X.")
    if n_threads < 1:
        raise ValueError(f"{who}: n_threads must be >= 1, got {n_threads}.")


def _stop_flag(stop):
    if stop is None:
        return np.zeros(1, dtype=np.uint8)
    if not isinstance(stop, np.ndarray) or stop.dtype != np.uint8 or stop.shape != (1,):
        raise ValueError("stop must be a uint8 array of shape (1,) (see "
                         "fastlinear._parallel.new_stop_flag).")
    return stop


cdef double MIN_THREAD_WORK = 16.0e6   # rule 3: updates of a pass worth two threads
cdef double MIN_THREAD_BUFFERS = 32.0  # rule 3: and at least this many per buffer entry


cdef enum:
    HESSIAN = 0           # the Hessian passes
    SCORES = 1            # B = X~ A
    TRANSPOSE = 2         # B += X~^T A
    HESS_VEC = 3          # B += X~^T diag(w) X~ A (one column)
    MULTI_HESS_VEC = 4    # B += X~^T R, R_i = w_i (p_i * u_i - p_i (p_i . u_i)), u_i = x~_i A


cdef struct Pass:
    int op                # HESSIAN, SCORES, TRANSPOSE, HESS_VEC or MULTI_HESS_VEC
    Py_ssize_t n          # rows
    Py_ssize_t m          # n_features + 1
    Py_ssize_t K          # classes (1 for the binary Hessian)
    double bias
    const double* w       # n: per-row weights d_i or s_i
    const double* P       # n x K probabilities (multinomial), else NULL
    const double* A       # the products' source (n x K or m x K)
    double* B             # the products' target
    double* work          # K entries of scratch (MULTI_HESS_VEC)
    int n_chunks
    double min_work       # rule 3: the updates a pass needs to take the threads
    bint ones             # rule 6: every value of X is 1, read the indices alone
    unsigned char* stop


# ------------------------------------------------------------- binary


def binary_hessian(X, d, H, *, double bias, int n_threads=1, stop=None,
                   double min_thread_work=MIN_THREAD_WORK, bint use_ones=True):
    """``H += X~^T diag(d) X~`` in one pass over the rows of X.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    d : float64 ndarray of shape (n_samples,)
        The weights ``d_i`` (finite; 0 skips a row).
    H : float64 ndarray of shape (n_features + 1, n_features + 1), C-contiguous
        Receives the sum on its upper triangle; on exit its lower triangle
        is the mirror of the upper one (so a symmetric ``H`` gets exactly
        ``H + X~^T diag(d) X~``).
    bias : float
        Value of the constant feature (0 for none).
    n_threads : int, default=1
        Chunks of rows accumulated in parallel (rule 3).
    stop : uint8 ndarray of shape (1,), optional
        The fit's shared stop flag.
    min_thread_work : float, default=16e6
        The updates a pass needs to take ``n_threads > 1`` threads (rule 3;
        the tests pass 0 to run the threaded path on small data).
    use_ones : bool, default=True
        Read only the indices when every value of X is 1 (rule 6).

    Returns
    -------
    stopped : bool
        True when the pass was cut short by the stop flag (``H`` is then
        incomplete).
    """
    who = "binary_hessian"
    _check_common(X, who, bias, n_threads)
    cdef Py_ssize_t n = X.n_rows, m = X.n_cols + 1
    _float64_array("d", who, d, (n,))
    _float64_array("H", who, H, (m, m))
    _writable("H", who, H)
    _finite("d", who, d)
    stop = _stop_flag(stop)
    cdef const double[::1] dv = d
    cdef unsigned char[::1] sv = stop
    cdef Pass p
    p.n = n
    p.m = m
    p.K = 1
    p.op = HESSIAN
    p.A = NULL
    p.B = NULL
    p.bias = bias
    p.w = &dv[0] if n > 0 else NULL
    p.P = NULL
    p.n_chunks = n_threads if FL_HESSIAN_OPENMP else 1
    p.min_work = min_thread_work
    p.ones = use_ones and X.ones
    p.stop = &sv[0]
    return _dispatch(X, &p, H)


cdef inline void _binary_row(const floating* data, const index_t* indices,
                             Py_ssize_t start, Py_ssize_t end, Py_ssize_t m,
                             double a, double bias, double* H,
                             const values_t* kind) noexcept nogil:
    """Row ``a x~ x~^T`` into the upper triangle of ``H`` (m x m)."""
    cdef Py_ssize_t k, q, nf = m - 1, off
    cdef double v
    cdef double* row
    if values_t is Ones:
        # (v = a * 1 and v * 1 are a: the bits of the valued loops below)
        for k in range(start, end):
            row = H + indices[k] * m
            for q in range(k, end):
                row[indices[q]] += a
            row[nf] += a * bias
    elif end - start == nf:
        # A dense row: index l - start is column l - start, a contiguous loop.
        for k in range(start, end):
            v = a * data[k]
            off = k - start
            row = H + off * m
            for q in range(k, end):
                row[q - start] += v * data[q]
            row[nf] += v * bias
    else:
        for k in range(start, end):
            v = a * data[k]
            row = H + indices[k] * m
            for q in range(k, end):
                row[indices[q]] += v * data[q]
            row[nf] += v * bias
    H[nf * m + nf] += a * bias * bias


# ------------------------------------------------------------ multinomial


def multinomial_hessian(X, s, P, H, *, double bias, int n_threads=1, stop=None,
                        double min_thread_work=MIN_THREAD_WORK):
    """``H += sum_i s_i (x~_i x~_i^T) kron (diag(p_i) - p_i p_i^T)`` in one pass.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    s : float64 ndarray of shape (n_samples,)
        Per-sample weights ``s_i`` (the costs ``C_i``; 0 skips a row).
    P : float64 ndarray of shape (n_samples, K), C-contiguous
        The probabilities ``p_i`` (finite).  Only classes ``1..K-1`` of a
        problem (a row sum below 1) give the reduced Hessian of the problem
        with class 0 held at 0.
    H : float64 ndarray of shape ((n_features + 1) K, (n_features + 1) K)
        Index ``a K + k`` for feature ``a`` (the bias last) and class ``k``.
        Receives the sum on its upper triangle; on exit its lower triangle
        is the mirror of the upper one.
    bias : float
    n_threads : int, default=1
    stop : uint8 ndarray of shape (1,), optional
    min_thread_work : float, default=16e6
        As :func:`binary_hessian`'s.

    Returns
    -------
    stopped : bool
    """
    who = "multinomial_hessian"
    _check_common(X, who, bias, n_threads)
    cdef Py_ssize_t n = X.n_rows, m = X.n_cols + 1
    if not isinstance(P, np.ndarray) or P.ndim != 2 or P.shape[0] != n or P.shape[1] < 1:
        raise ValueError(f"{who}: P must be an array of shape (n_samples={n}, K) with "
                         f"K >= 1, got {getattr(P, 'shape', type(P).__name__)}.")
    cdef Py_ssize_t K = P.shape[1]
    _float64_array("s", who, s, (n,))
    _float64_array("P", who, P, (n, K))
    _float64_array("H", who, H, (m * K, m * K))
    _writable("H", who, H)
    _finite("s", who, s)
    _finite("P", who, P)
    stop = _stop_flag(stop)
    cdef const double[::1] wv = s
    cdef const double[:, ::1] pv = P
    cdef unsigned char[::1] sv = stop
    cdef Pass p
    p.n = n
    p.m = m
    p.K = K
    p.op = HESSIAN
    p.A = NULL
    p.B = NULL
    p.bias = bias
    p.w = &wv[0] if n > 0 else NULL
    p.P = &pv[0, 0] if n > 0 else NULL
    p.n_chunks = n_threads if FL_HESSIAN_OPENMP else 1
    p.min_work = min_thread_work
    p.ones = False
    p.stop = &sv[0]
    return _dispatch(X, &p, H)


cdef inline void _multinomial_row(const floating* data, const index_t* indices,
                                  Py_ssize_t start, Py_ssize_t end, Py_ssize_t m,
                                  Py_ssize_t K, double s, const double* p, double bias,
                                  double* A, double* H) noexcept nogil:
    """Row ``s (x~ x~^T) kron (diag(p) - p p^T)`` into the packed buffer ``H``.

    ``H[(a m + b) P + t]`` (``a <= b``) holds entry ``t`` of the upper
    triangle of the ``K x K`` block ``(a, b)``, ``P = K (K + 1) / 2``
    entries in row order: one contiguous update per pair of nonzeros.
    """
    cdef Py_ssize_t k, q, r, c, t, nf = m - 1, P = K * (K + 1) // 2
    cdef double xk, v
    cdef double* base
    cdef double* dst
    t = 0
    for r in range(K):
        for c in range(r, K):
            A[t] = -s * p[r] * p[c]
            if c == r:
                A[t] += s * p[r]
            t += 1
    for k in range(start, end):
        xk = data[k]
        base = H + indices[k] * m * P
        for q in range(k, end):
            v = xk * data[q]
            dst = base + indices[q] * P
            for t in range(P):
                dst[t] += v * A[t]
        v = xk * bias
        dst = base + nf * P
        for t in range(P):
            dst[t] += v * A[t]
    v = bias * bias
    dst = H + (nf * m + nf) * P
    for t in range(P):
        dst[t] += v * A[t]


cdef void _unpack(const double* packed, Py_ssize_t m, Py_ssize_t K, double* H) noexcept nogil:
    """Add the packed blocks of :func:`_multinomial_row` to the upper blocks of ``H``."""
    cdef Py_ssize_t a, b, r, c, P = K * (K + 1) // 2, size = m * K
    cdef const double* src
    cdef double* row
    for a in range(m):
        for b in range(a, m):
            src = packed + (a * m + b) * P
            for r in range(K):
                row = H + (a * K + r) * size + b * K
                for c in range(K):
                    # Entry (min, max) of the block's packed upper triangle.
                    if c >= r:
                        row[c] += src[r * K - r * (r - 1) // 2 + c - r]
                    else:
                        row[c] += src[c * K - c * (c - 1) // 2 + r - c]


# ------------------------------------------------------------ the pass


cdef object _dispatch(X, Pass* p, object H):
    """:func:`_run` (``H``, the Hessian passes) or :func:`_product` (``H`` None)
    for the value and index types of ``X``."""
    cdef const float[::1] data32
    cdef const double[::1] data64
    cdef const int32_t[::1] ind32, ptr32
    cdef const int64_t[::1] ind64, ptr64
    if X.indices.dtype == np.int32:
        ind32 = X.indices
        ptr32 = X.indptr
        if X.data.dtype == np.float32:
            data32 = X.data
            return _run(data32, ind32, ptr32, p, H)
        data64 = X.data
        return _run(data64, ind32, ptr32, p, H)
    ind64 = X.indices
    ptr64 = X.indptr
    if X.data.dtype == np.float32:
        data32 = X.data
        return _run(data32, ind64, ptr64, p, H)
    data64 = X.data
    return _run(data64, ind64, ptr64, p, H)


cdef void _rows(const floating* data, const index_t* indices, const index_t* indptr,
                const Pass* p, Py_ssize_t lo, Py_ssize_t hi, double* A,
                double* H, const values_t* kind) noexcept nogil:
    """Rows ``lo:hi`` into the upper triangle of ``H``."""
    cdef Py_ssize_t i
    cdef double wi
    for i in range(lo, hi):
        wi = p.w[i]
        if wi == 0.0:
            continue
        if p.P == NULL:
            _binary_row(data, indices, indptr[i], indptr[i + 1], p.m, wi, p.bias, H, kind)
        else:
            _multinomial_row(data, indices, indptr[i], indptr[i + 1], p.m, p.K, wi,
                             p.P + i * p.K, p.bias, A, H)


cdef void _chunk_bounds(const index_t* indptr, Py_ssize_t lo, Py_ssize_t hi,
                        int n_chunks, Py_ssize_t* bounds) noexcept nogil:
    """Split rows ``lo:hi`` into chunks of about equal ``(nnz_i + 1)^2``."""
    cdef Py_ssize_t i, c
    cdef double total = 0.0, seen = 0.0, e
    bounds[0] = lo
    for c in range(1, n_chunks + 1):
        bounds[c] = hi
    for i in range(lo, hi):
        e = <double>(indptr[i + 1] - indptr[i]) + 1.0
        total += e * e
    c = 1
    for i in range(lo, hi):
        if c >= n_chunks:
            break
        e = <double>(indptr[i + 1] - indptr[i]) + 1.0
        seen += e * e
        if seen >= total * c / n_chunks:
            bounds[c] = i + 1
            c += 1


cdef object _run(const floating[::1] data, const index_t[::1] indices,
                 const index_t[::1] indptr, Pass* p, object H):
    cdef const floating* X_data = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* X_ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const index_t* X_ptr = &indptr[0]
    cdef bint stopped
    if p.op != HESSIAN:
        with nogil:
            stopped = _product(X_data, X_ind, X_ptr, p)
        return stopped
    cdef Py_ssize_t n = p.n, size = p.m * p.K, i, j, lo, hi, block
    cdef Py_ssize_t n_pairs = p.K * (p.K + 1) // 2, packed = p.m * p.m * n_pairs
    cdef int chunks = p.n_chunks, c, rc = 0
    cdef double work = 0.0, e
    if chunks > 1:
        # Rule 3: the updates of this pass (rows of weight 0 are skipped).
        for i in range(n):
            if p.w[i] != 0.0:
                e = <double>(X_ptr[i + 1] - X_ptr[i]) + 1.0
                work += e * e * 0.5 * n_pairs
        if n < 2 * chunks or (p.min_work > 0.0 and (
                work < p.min_work or work < MIN_THREAD_BUFFERS * chunks * <double>packed)):
            chunks = 1
    # The binary Hessian on one thread accumulates straight into H; otherwise
    # each chunk has a (packed) buffer.
    cdef bint direct = p.P == NULL and chunks == 1
    cdef bint ones = p.ones and p.P == NULL
    cdef double[:, ::1] Hv = H
    cdef double* Hp = &Hv[0, 0]
    a_work = np.zeros((chunks, n_pairs), dtype=np.float64)
    cdef double[:, ::1] av = a_work
    buf_work = np.zeros((0 if direct else chunks, packed), dtype=np.float64)
    cdef double[:, ::1] bv = buf_work
    bound_work = np.empty(chunks + 1, dtype=np.intp)
    cdef Py_ssize_t[::1] bounds = bound_work
    # Rows per poll: POLL_EVERY with one thread, POLL_EVERY per thread with more.
    block = POLL_EVERY * chunks
    with nogil:
        lo = 0
        while lo < n:
            hi = min(n, lo + block)
            if chunks == 1 and ones:
                _rows(X_data, X_ind, X_ptr, p, lo, hi, &av[0, 0], Hp if direct else &bv[0, 0],
                      <Ones*>NULL)
            elif chunks == 1:
                _rows(X_data, X_ind, X_ptr, p, lo, hi, &av[0, 0], Hp if direct else &bv[0, 0],
                      <Valued*>NULL)
            else:
                _chunk_bounds(X_ptr, lo, hi, chunks, &bounds[0])
                for c in prange(chunks, schedule="static", chunksize=1,
                                num_threads=chunks):
                    if ones:
                        _rows(X_data, X_ind, X_ptr, p, bounds[c], bounds[c + 1],
                              &av[c, 0], &bv[c, 0], <Ones*>NULL)
                    else:
                        _rows(X_data, X_ind, X_ptr, p, bounds[c], bounds[c + 1],
                              &av[c, 0], &bv[c, 0], <Valued*>NULL)
            lo = hi
            rc = poll(p.stop)
            if rc:
                break
        if not direct:
            for c in range(1, chunks):
                for j in range(packed):
                    bv[0, j] += bv[c, j]
            if p.P == NULL:
                for j in range(packed):
                    Hp[j] += bv[0, j]
            else:
                _unpack(&bv[0, 0], p.m, p.K, Hp)
        # The lower triangle: the mirror of the upper one.
        for i in range(size):
            for j in range(i):
                Hp[i * size + j] = Hp[j * size + i]
    return rc != 0


# ------------------------------------------------------------- products


def scores(X, V, Z, *, double bias, stop=None, bint use_ones=True):
    """``Z = X~ V``: the scores of every row for the columns of ``V``.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    V : float64 ndarray of shape (n_features + 1, K), C-contiguous
        The bias weights last.
    Z : float64 ndarray of shape (n_samples, K), C-contiguous, overwritten.
    bias : float
    stop : uint8 ndarray of shape (1,), optional
    use_ones : bool, default=True
        Read only the indices when every value of X is 1 and ``K = 1`` (rule 6).

    Returns
    -------
    stopped : bool
    """
    return _product_call("scores", X, ("V", V, X.n_cols + 1), ("Z", Z, X.n_rows),
                         bias, stop, SCORES, use_ones)


def transpose_product(X, U, G, *, double bias, stop=None, bint use_ones=True):
    """``G += X~^T U``, accumulated row by row.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    U : float64 ndarray of shape (n_samples, K), C-contiguous
    G : float64 ndarray of shape (n_features + 1, K), C-contiguous, updated.
    bias : float
    stop : uint8 ndarray of shape (1,), optional
    use_ones : bool, default=True
        Read only the indices when every value of X is 1 and ``K = 1`` (rule 6).

    Returns
    -------
    stopped : bool
    """
    return _product_call("transpose_product", X, ("U", U, X.n_rows),
                         ("G", G, X.n_cols + 1), bias, stop, TRANSPOSE, use_ones)


def binary_hessian_vector(X, d, V, G, *, double bias, stop=None, bint use_ones=True):
    """``G += X~^T diag(d) X~ V`` for one column ``V``, in one pass over the rows.

    Each row's score ``x~_i . v``, times ``d_i``, is added back along the
    same row while it is in cache: the same bits as :func:`scores`, the
    product with ``d`` and :func:`transpose_product`, with X read once
    instead of twice.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    d : float64 ndarray of shape (n_samples,), the rows' weights.
    V : float64 ndarray of shape (n_features + 1, 1), C-contiguous
    G : float64 ndarray of shape (n_features + 1, 1), C-contiguous, updated.
    bias : float
    stop : uint8 ndarray of shape (1,), optional
    use_ones : bool, default=True
        Read only the indices when every value of X is 1 (rule 6).

    Returns
    -------
    stopped : bool
    """
    who = "binary_hessian_vector"
    _check_common(X, who, bias, 1)
    _float64_array("d", who, d, (X.n_rows,))
    _finite("d", who, d)
    if not isinstance(V, np.ndarray) or V.ndim != 2 or V.shape[1] != 1:
        raise ValueError(f"{who}: V must be a float64 array of shape ({X.n_cols + 1}, 1).")
    cdef const double[::1] dv = d
    return _product_call(who, X, ("V", V, X.n_cols + 1), ("G", G, X.n_cols + 1), bias, stop,
                         HESS_VEC, use_ones, &dv[0] if X.n_rows else NULL)


def multinomial_hessian_vector(X, s, P, V, G, *, double bias, stop=None):
    """``G += X~^T R`` with ``R_i = s_i (p_i * u_i - p_i (p_i . u_i))`` and
    ``u_i = x~_i V``: the multinomial Hessian's loss part times ``V``
    (``sum_i s_i (x~_i x~_i^T) kron (diag(p_i) - p_i p_i^T)``, the variables
    in this module's order), in one pass over the rows.

    Each row's ``u_i`` (:func:`scores`' bits), then ``R_i`` (multiplied and
    summed over the classes in order, as ``fastlinear._newton_cholesky``
    does with NumPy), then ``R_i`` added along the same row while it is in
    cache (:func:`transpose_product`'s order): the same bits as the three
    steps apart, up to the sign of zero sums, with X read once instead of
    twice.  Rows of weight 0 are skipped.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    s : float64 ndarray of shape (n_samples,), the rows' weights.
    P : float64 ndarray of shape (n_samples, K), C-contiguous, each row's
        probabilities of the variables' classes.
    V : float64 ndarray of shape (n_features + 1, K), C-contiguous
    G : float64 ndarray of shape (n_features + 1, K), C-contiguous, updated.
    bias : float
    stop : uint8 ndarray of shape (1,), optional

    Returns
    -------
    stopped : bool
    """
    who = "multinomial_hessian_vector"
    _check_common(X, who, bias, 1)
    _float64_array("s", who, s, (X.n_rows,))
    _finite("s", who, s)
    if not isinstance(V, np.ndarray) or V.ndim != 2:
        raise ValueError(f"{who}: V must be a 2-d float64 array with {X.n_cols + 1} rows.")
    _float64_array("P", who, P, (X.n_rows, V.shape[1]))
    _finite("P", who, P)
    cdef const double[::1] sv = s
    cdef const double[:, ::1] Pv = P
    return _product_call(who, X, ("V", V, X.n_cols + 1), ("G", G, X.n_cols + 1), bias, stop,
                         MULTI_HESS_VEC, False, &sv[0] if X.n_rows else NULL,
                         &Pv[0, 0] if X.n_rows and V.shape[1] else NULL)


cdef object _product_call(str who, X, tuple source, tuple target, double bias, stop, int op,
                          bint use_ones, const double* w=NULL, const double* P=NULL):
    """Check ``source`` (read) and ``target`` (written), then run the product ``op``."""
    _check_common(X, who, bias, 1)
    name, A, rows = source
    if not isinstance(A, np.ndarray) or A.ndim != 2:
        raise ValueError(f"{who}: {name} must be a 2-d float64 array with {rows} rows.")
    cdef Py_ssize_t K = A.shape[1]
    _float64_array(name, who, A, (rows, K))
    _float64_array(target[0], who, target[1], (target[2], K))
    _writable(target[0], who, target[1])
    stop = _stop_flag(stop)
    if X.n_rows == 0 or K == 0:
        return False
    cdef const double[:, ::1] Av = A
    cdef double[:, ::1] Bv = target[1]
    cdef unsigned char[::1] sv = stop
    cdef double[::1] wv
    cdef Pass p
    p.w = w
    p.P = P
    p.work = NULL
    if op == MULTI_HESS_VEC:
        wv = np.empty(K, dtype=np.float64)
        p.work = &wv[0]
    p.n = X.n_rows
    p.m = X.n_cols + 1
    p.K = K
    p.bias = bias
    p.op = op
    p.A = &Av[0, 0]
    p.B = &Bv[0, 0]
    p.n_chunks = 1
    p.min_work = 0.0
    p.ones = use_ones and X.ones
    p.stop = &sv[0]
    return _dispatch(X, &p, None)


cdef inline void _row_add_columns(const floating* data, const index_t* indices,
                                  Py_ssize_t start, Py_ssize_t end, const double* r,
                                  Py_ssize_t K, double* B, Py_ssize_t nf,
                                  double bias) noexcept nogil:
    """``B[j] += x~_ij r`` for the nonzeros ``j`` of a row and the constant
    feature (row ``nf`` of the row-major ``B``, ``K`` columns).

    The columns go 4, 3, 2 or 1 at a time with their ``r`` in registers (the
    scatter's mirror of ``_sparse.row_dot_columns``): ``r`` read through a
    pointer that may alias ``B`` is loaded again after every store.  Each
    entry of ``B`` receives the same terms in the same order as one column
    at a time: the same bits.  (Written out: as one inline function called
    with a constant width, as ``row_dot_columns`` sums its blocks, it was
    1.1-1.2x slower on dna and satimage.)"""
    cdef Py_ssize_t k, c = 0
    cdef double v, r0, r1, r2, r3
    cdef double* dst
    while K - c >= 4:
        r0, r1, r2, r3 = r[c], r[c + 1], r[c + 2], r[c + 3]
        for k in range(start, end):
            v = data[k]
            dst = B + indices[k] * K + c
            dst[0] += v * r0
            dst[1] += v * r1
            dst[2] += v * r2
            dst[3] += v * r3
        dst = B + nf * K + c
        dst[0] += bias * r0
        dst[1] += bias * r1
        dst[2] += bias * r2
        dst[3] += bias * r3
        c += 4
    if K - c == 3:
        r0, r1, r2 = r[c], r[c + 1], r[c + 2]
        for k in range(start, end):
            v = data[k]
            dst = B + indices[k] * K + c
            dst[0] += v * r0
            dst[1] += v * r1
            dst[2] += v * r2
        dst = B + nf * K + c
        dst[0] += bias * r0
        dst[1] += bias * r1
        dst[2] += bias * r2
        c += 3
    if K - c >= 2:
        r0, r1 = r[c], r[c + 1]
        for k in range(start, end):
            v = data[k]
            dst = B + indices[k] * K + c
            dst[0] += v * r0
            dst[1] += v * r1
        dst = B + nf * K + c
        dst[0] += bias * r0
        dst[1] += bias * r1
        c += 2
    if c < K:
        r0 = r[c]
        for k in range(start, end):
            B[indices[k] * K + c] += data[k] * r0
        B[nf * K + c] += bias * r0


cdef bint _product(const floating* data, const index_t* indices, const index_t* indptr,
                   const Pass* p) except -1 nogil:
    """``B = X~ A`` (``SCORES``), ``B += X~^T A`` (``TRANSPOSE``) or the
    multinomial Hessian-vector product (``MULTI_HESS_VEC``); one pass over
    the rows."""
    cdef Py_ssize_t i, c, K = p.K, nf = p.m - 1
    cdef double wi, total
    cdef const double* pi
    cdef double* u = p.work
    cdef int rc = 0
    if K == 1 and p.op != MULTI_HESS_VEC:
        if p.ones:
            return _product_vector(data, indices, indptr, p, <Ones*>NULL)
        return _product_vector(data, indices, indptr, p, <Valued*>NULL)
    for i in range(p.n):
        if (i & (POLL_EVERY - 1)) == POLL_EVERY - 1:
            rc = poll(p.stop)
            if rc:
                break
        if p.op == MULTI_HESS_VEC:
            wi = p.w[i]
            if wi == 0.0:
                continue
            row_dot_columns(data, indices, indptr[i], indptr[i + 1], p.A, K,
                            p.A + nf * K, p.bias, u)
            pi = p.P + i * K
            total = 0.0
            for c in range(K):
                u[c] = u[c] * pi[c]
                total += u[c]
            for c in range(K):
                u[c] = (u[c] - pi[c] * total) * wi
            _row_add_columns(data, indices, indptr[i], indptr[i + 1], u, K, p.B, nf, p.bias)
        elif p.op == TRANSPOSE:
            _row_add_columns(data, indices, indptr[i], indptr[i + 1], p.A + i * K, K, p.B,
                             nf, p.bias)
        else:
            row_dot_columns(data, indices, indptr[i], indptr[i + 1], p.A, K,
                            p.A + nf * K, p.bias, p.B + i * K)
    return rc != 0


cdef bint _product_vector(const floating* data, const index_t* indices, const index_t* indptr,
                          const Pass* p, const values_t* kind) except -1 nogil:
    """:func:`_product` for one column (``K = 1``): the sum in a register, no
    inner loop over classes (2.5x faster than the general loop on w8a)."""
    cdef Py_ssize_t i, n = p.n, nf = p.m - 1
    cdef double acc, bias = p.bias
    cdef const double* a = p.A
    cdef double* b = p.B
    cdef int rc = 0
    for i in range(n):
        if (i & (POLL_EVERY - 1)) == POLL_EVERY - 1:
            rc = poll(p.stop)
            if rc:
                break
        if p.op == TRANSPOSE:
            acc = a[i]
            if acc == 0.0:
                continue    # (the rows outside a squared loss: most of them)
            axpy_of(kind, acc, data, indices, indptr[i], indptr[i + 1], b)
            b[nf] += bias * acc
        elif p.op == HESS_VEC:
            if p.w[i] == 0.0:
                continue
            acc = dot_from(kind, bias * a[nf], data, indices, indptr[i], indptr[i + 1], a)
            acc = p.w[i] * acc
            axpy_of(kind, acc, data, indices, indptr[i], indptr[i + 1], b)
            b[nf] += bias * acc
        else:
            b[i] = dot_from(kind, bias * a[nf], data, indices, indptr[i], indptr[i + 1], a)
    return rc != 0
