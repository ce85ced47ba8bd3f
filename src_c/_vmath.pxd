# cython: language_level=3
"""``exp`` and ``log1p`` of a block of numbers at once, for the logistic passes.

A logistic pass takes, per sample, ``e = exp(-|y z|)`` and ``log1p(e)``.
One at a time through glibc they cost about 7 ns a sample on the 2-core
AMD EPYC (Zen 5) the benchmarks run on, about as much as reading a
14-nonzero row.  ``exp_log1p(a, e, l, n)`` takes them for a block of ``n``
non-positive arguments (``exp_block(a, e, n)`` only the ``exp``): four at a
time through glibc's vector math library (libmvec, x86-64 AVX2, about
2.5 ns a sample) when the build found it (``FL_HAVE_LIBMVEC``, set by
``setup.py``'s probe) and the CPU has AVX2; else one at a time through
``libm``.  The vector functions are within 4 ulp of ``libm``'s (glibc's
stated bound; measured on [-750, 0]: 2 ulp for ``exp``, 3 for ``log1p``).

Rules:

1. A result depends only on its argument, never on its place in the block:
   the last partial group of four goes through the same vector call, padded
   with zeros.  So a pass split into blocks or into threads gives the same
   bits as one pass.
2. The choice is made at run time, per call, from the CPU (a read of
   libgcc's CPU model), so one build runs on CPUs with and without AVX2;
   the two give results that differ in the last bits, as NumPy's own
   dispatched loops do.
"""

cdef extern from *:
    """
    #include <math.h>
    #if defined(FL_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__)
    #include <immintrin.h>
    __m256d _ZGVdN4v_exp(__m256d);
    __m256d _ZGVdN4v_log1p(__m256d);

    __attribute__((target("avx2")))
    static inline void fl_exp_log1p_avx2(const double* a, double* e, double* l, Py_ssize_t n)
    {
        Py_ssize_t k = 0, j;
        double pad[4];
        __m256d x;
        for (; k + 4 <= n; k += 4) {
            x = _ZGVdN4v_exp(_mm256_loadu_pd(a + k));
            _mm256_storeu_pd(e + k, x);
            _mm256_storeu_pd(l + k, _ZGVdN4v_log1p(x));
        }
        if (k < n) {
            for (j = 0; j < 4; j++)
                pad[j] = k + j < n ? a[k + j] : 0.0;
            x = _ZGVdN4v_exp(_mm256_loadu_pd(pad));
            _mm256_storeu_pd(pad, x);
            for (j = 0; k + j < n; j++)
                e[k + j] = pad[j];
            _mm256_storeu_pd(pad, _ZGVdN4v_log1p(x));
            for (j = 0; k + j < n; j++)
                l[k + j] = pad[j];
        }
    }
    __attribute__((target("avx2")))
    static inline void fl_exp_avx2(const double* a, double* e, Py_ssize_t n)
    {
        Py_ssize_t k = 0, j;
        double pad[4];
        for (; k + 4 <= n; k += 4)
            _mm256_storeu_pd(e + k, _ZGVdN4v_exp(_mm256_loadu_pd(a + k)));
        if (k < n) {
            for (j = 0; j < 4; j++)
                pad[j] = k + j < n ? a[k + j] : 0.0;
            _mm256_storeu_pd(pad, _ZGVdN4v_exp(_mm256_loadu_pd(pad)));
            for (j = 0; k + j < n; j++)
                e[k + j] = pad[j];
        }
    }
    #define FL_VMATH_AVX2() __builtin_cpu_supports("avx2")
    #else
    #define FL_VMATH_AVX2() 0
    #define fl_exp_log1p_avx2(a, e, l, n) ((void)0)
    #define fl_exp_avx2(a, e, n) ((void)0)
    #endif

    static inline void fl_exp(const double* a, double* e, Py_ssize_t n)
    {
        Py_ssize_t k;
        if (FL_VMATH_AVX2()) {
            fl_exp_avx2(a, e, n);
            return;
        }
        for (k = 0; k < n; k++)
            e[k] = exp(a[k]);
    }

    static inline void fl_exp_log1p(const double* a, double* e, double* l, Py_ssize_t n)
    {
        Py_ssize_t k;
        if (FL_VMATH_AVX2()) {
            fl_exp_log1p_avx2(a, e, l, n);
            return;
        }
        for (k = 0; k < n; k++) {
            e[k] = exp(a[k]);
            l[k] = log1p(e[k]);
        }
    }

    static inline int fl_vmath_lanes(void)
    {
        return FL_VMATH_AVX2() ? 4 : 1;
    }
    """
    void exp_log1p "fl_exp_log1p"(const double* a, double* e, double* l,
                                  Py_ssize_t n) noexcept nogil
    void exp_block "fl_exp"(const double* a, double* e, Py_ssize_t n) noexcept nogil
    int vmath_lanes "fl_vmath_lanes"() noexcept nogil
