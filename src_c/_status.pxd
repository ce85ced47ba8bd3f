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
    # changed no weight the kernels end with STALLED instead.
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
