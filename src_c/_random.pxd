# cython: language_level=3
"""A small, fast, seedable random number generator for the kernels.

splitmix64 (Steele, Lea & Flood, 2014) turns a 64-bit seed into a state;
xorshift64* (Vigna, 2016) draws from it.  Both are a handful of integer
operations, inline, GIL-free and reentrant: each solver owns its state, so
threads never share one and results do not depend on scheduling.
"""
from libc.stdint cimport uint64_t

from _prefetch cimport prefetch_w


cdef inline uint64_t rng_seed(uint64_t seed) noexcept nogil:
    """Mix ``seed`` into a non-zero xorshift state (splitmix64)."""
    cdef uint64_t z = seed + <uint64_t>0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    z = z ^ (z >> 31)
    if z == 0:
        z = <uint64_t>0x9E3779B97F4A7C15
    return z


cdef inline uint64_t rng_next(uint64_t* state) noexcept nogil:
    """Next 64 random bits (xorshift64*)."""
    cdef uint64_t x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return x * <uint64_t>0x2545F4914F6CDD1D


cdef extern from *:
    """
    static inline uint64_t fl_mulhi64(uint64_t a, uint64_t b) {
    #if defined(__SIZEOF_INT128__)
        return (uint64_t)(((unsigned __int128)a * b) >> 64);
    #else
        uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
        uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
        uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo;
        uint64_t lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
        uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
        return hi_hi + (hi_lo >> 32) + (cross >> 32);
    #endif
    }
    """
    uint64_t mulhi64 "fl_mulhi64"(uint64_t a, uint64_t b) noexcept nogil


cdef inline Py_ssize_t rng_below(uint64_t* state, Py_ssize_t n) noexcept nogil:
    """A random integer in ``[0, n)``, ``n >= 1``: ``floor(r * n / 2**64)``.

    Lemire's multiply-shift: one multiplication instead of a 64-bit division
    (20 to 40 cycles, a sizeable part of a coordinate step on short rows).
    The bias is below ``n / 2**64``: invisible for any array in memory.
    """
    return <Py_ssize_t>mulhi64(rng_next(state), <uint64_t>n)


cdef enum:
    SHUFFLE_LOOKAHEAD = 16  # a power of two


cdef inline void shuffle(Py_ssize_t* a, Py_ssize_t n, uint64_t* state) noexcept nogil:
    """Fisher-Yates shuffle of ``a[0:n]`` in place.

    Step ``i`` swaps ``a[i]`` with ``a[j_i]``, ``j_i`` uniform in ``[i, n)``.
    The ``j_i`` depend only on the generator, so they are drawn
    ``SHUFFLE_LOOKAHEAD`` steps early and their slots prefetched: on a large
    array each swap would otherwise wait for a cache miss.  The draws happen
    in the same order as in the textbook loop, so the permutation is the same.
    """
    cdef Py_ssize_t ring[SHUFFLE_LOOKAHEAD]
    cdef Py_ssize_t i, j, k, tmp
    cdef Py_ssize_t n_draws = n - 1
    for k in range(min(<Py_ssize_t>SHUFFLE_LOOKAHEAD, n_draws)):
        ring[k] = k + rng_below(state, n - k)
        prefetch_w(&a[ring[k]])
    for i in range(n_draws):
        j = ring[i & (SHUFFLE_LOOKAHEAD - 1)]
        k = i + SHUFFLE_LOOKAHEAD
        if k < n_draws:
            ring[i & (SHUFFLE_LOOKAHEAD - 1)] = k + rng_below(state, n - k)
            prefetch_w(&a[ring[i & (SHUFFLE_LOOKAHEAD - 1)]])
        tmp = a[i]
        a[i] = a[j]
        a[j] = tmp
