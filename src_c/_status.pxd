# cython: language_level=3
"""What a kernel returns, and how it notices Ctrl-C.

Every kernel returns one of the statuses below.  The solver loops call
:func:`poll` at a cheap cadence (once per pass and every ``POLL_EVERY``
coordinates or rows): it returns 1 when another thread of the same fit has
set the shared stop flag, and, in the main thread, runs Python's signal
handlers with the GIL taken for a moment.  A pending ``KeyboardInterrupt``
then sets the stop flag (so the fit's other threads stop at their next poll)
and propagates as the kernel's exception; the estimator is left unfitted.
The Python mirror of the statuses is ``fastlinear._solvers.Status``.
"""
from cpython.exc cimport PyErr_CheckSignals
from libc.math cimport fabs

cdef enum:
    CONVERGED = 0
    MAX_ITER = 1
    INTERRUPTED = 2
    DIVERGED = 3
    STALLED = 6        # STALL_PASSES passes in a row changed no weight
    POLL_EVERY = 4096  # a power of two
    # The coordinate-descent kernels skip a step below 1e-12 in absolute
    # value, as liblinear does.  When X's scale is extreme (1e60), every step
    # is below it: the weights stop changing while the stopping test is far
    # from met, and the passes would run to max_iter (100,000 for
    # Crammer-Singer) doing nothing.  After this many passes in a row that
    # changed nothing (stall_after_pass) the kernels end with STALLED.
    STALL_PASSES = 10


cdef inline int poll(unsigned char* stop) except -1 nogil:
    """0: go on; 1: the stop flag is set; -1: a signal handler raised."""
    if stop[0]:
        return 1
    with gil:
        if PyErr_CheckSignals() < 0:
            stop[0] = 1
            return -1
    return 0


cdef struct Stall:
    # What stall_after_pass compares from one pass to the next.
    int still              # passes in a row that changed nothing
    Py_ssize_t n_active
    double largest         # a maximum over the pass (exact whatever the order)
    double total           # a sum over the pass (rounded in the pass's order)
    double w_sum           # the weights' checksum, when the measures repeated
    bint have_sum


cdef inline void stall_init(Stall* st) noexcept nogil:
    st.still = 0
    st.n_active = -1
    st.largest = 0.0
    st.total = 0.0
    st.w_sum = 0.0
    st.have_sum = False


cdef inline double weights_checksum(const double* w, Py_ssize_t size) noexcept nogil:
    """``sum_j (j + 1) w_j`` in index order: the same bits for the same ``w``."""
    cdef double s = 0.0
    cdef Py_ssize_t j
    for j in range(size):
        s += w[j] * <double>(j + 1)
    return s


cdef inline bint stall_after_pass(Stall* st, Py_ssize_t n_active, double largest,
                                  double total, const double* w,
                                  Py_ssize_t size) noexcept nogil:
    """True once ``STALL_PASSES`` passes in a row changed nothing.

    A pass that moves no variable leaves the state as it was, so the next
    pass measures the same active set size, the same largest violation and
    the same sum of violations (up to the rounding of its order of
    additions, far below 1e-12 of it).  Watching these keeps the test out of
    the coordinate loop, where even a counter cost 2-7 % on w8a.  The
    measures also repeat in a cycle that does move (identical rows of
    opposite labels: the weights flip between two values, pass after pass),
    so a pass counts only when the weights' checksum (``size`` entries of
    ``w``, read only when the measures repeated) is the previous pass's too.
    """
    cdef double s
    if (n_active == st.n_active and largest == st.largest
            and fabs(total - st.total) <= 1e-12 * fabs(st.total)):
        s = weights_checksum(w, size)
        if st.have_sum and s == st.w_sum:
            st.still += 1
        else:
            st.still = 0
        st.w_sum = s
        st.have_sum = True
    else:
        st.still = 0
        st.have_sum = False
    st.n_active = n_active
    st.largest = largest
    st.total = total
    return st.still >= STALL_PASSES


cdef inline double diagonal_decrement(const double* g, const double* diag,
                                      Py_ssize_t size) noexcept nogil:
    """``1/2 g.diag(H)^-1 g``: the decrease a Newton step on the Hessian's
    diagonal promises, the Newton solvers' estimate of ``f - f*`` for their
    second stopping test.  Entries without curvature (``diag = 0``: an
    empty column's unpenalised weight) have ``g = 0`` and add nothing."""
    cdef Py_ssize_t k
    cdef double total = 0.0
    for k in range(size):
        if diag[k] > 0.0:
            total += g[k] * (g[k] / diag[k])     # (g^2 could overflow: C = 1e300)
    return 0.5 * total
