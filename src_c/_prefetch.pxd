# cython: language_level=3
"""Software prefetch: ask the memory system for a cache line ahead of use.

A hint only: it never faults, even on an address outside any array, and it
compiles to nothing on compilers without ``__builtin_prefetch``.
"""

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define FL_PREFETCH(p) __builtin_prefetch((const void*)(p), 0, 3)
    #define FL_PREFETCH_W(p) __builtin_prefetch((const void*)(p), 1, 3)
    #else
    #define FL_PREFETCH(p) ((void)0)
    #define FL_PREFETCH_W(p) ((void)0)
    #endif
    """
    void prefetch "FL_PREFETCH"(const void* p) noexcept nogil
    void prefetch_w "FL_PREFETCH_W"(const void* p) noexcept nogil
