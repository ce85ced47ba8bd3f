"""Threads for independent solves (one-vs-rest problems, folds), stoppable by Ctrl-C.

The kernels release the GIL, so independent problems run in parallel
threads.  All threads of one fit share a one-byte stop flag that the kernels
poll (``src_c/_status.pxd``).  Signals reach only the main thread: when it is
waiting for the workers and a ``KeyboardInterrupt`` arrives, :func:`run` sets
the flag, waits for every worker to return (within milliseconds), and
re-raises, so no thread keeps computing after Ctrl-C.
"""
import concurrent.futures as cf
import contextlib
import threading

import numpy as np
from joblib import effective_n_jobs
from threadpoolctl import ThreadpoolController

__all__ = ["blas_threads", "new_stop_flag", "n_threads_for", "run"]

#: The BLAS libraries loaded in the process (threadpoolctl looks them up once).
_BLAS = ThreadpoolController()
#: The thread whose :func:`blas_threads` holds the process's BLAS limit (None: no one).
_blas_owner = None
_BLAS_LOCK = threading.Lock()

#: Seconds between two checks for Ctrl-C while the main thread waits.
_WAIT = 0.2


def new_stop_flag():
    """A fresh stop flag: a uint8 array of one element, 0 until a stop is asked."""
    return np.zeros(1, dtype=np.uint8)


def n_threads_for(n_jobs, n_tasks):
    """Threads to use for ``n_tasks`` tasks under scikit-learn's ``n_jobs``."""
    return max(1, min(effective_n_jobs(n_jobs), n_tasks))


@contextlib.contextmanager
def blas_threads(n_threads):
    """A context in which BLAS runs ``n_threads`` threads.

    The fits that call BLAS (the logistic solvers: L-BFGS's vector
    operations, Cholesky factors, products with a dense X) do so on vectors
    and matrices of a few hundred to a few thousand entries, where
    OpenBLAS's threads cost more than they give: with its default of one
    thread per core, default ``LogisticRegression`` fits of satimage took
    3.5x longer and those of w8a up to 1.7x (2-core AMD EPYC Zen 5), so a
    fit runs BLAS with its ``n_jobs`` threads (one by default).

    threadpoolctl's limits are global to the process and restore, on exit,
    what they found on entry, so limits entered and left by several threads
    at once could restore each other's values and leave BLAS limited after
    every fit has returned.  One thread at a time owns the limit: the first
    to enter, until it leaves.  Its nested limits apply (and unwind in
    order); a context entered meanwhile by another thread (the workers of
    :func:`run`, or another fit running in a user's thread) changes nothing
    and runs under the owner's limit.
    """
    global _blas_owner
    me = threading.get_ident()
    with _BLAS_LOCK:
        owner = _blas_owner is None
        if owner:
            _blas_owner = me
        mine = _blas_owner == me
    if not mine:
        yield
        return
    try:
        limiter = _BLAS.limit(limits=int(n_threads), user_api="blas")
        try:
            yield
        finally:
            limiter.restore_original_limits()
    finally:
        if owner:
            with _BLAS_LOCK:
                _blas_owner = None


def run(fn, items, n_threads, stop):
    """``[fn(item) for item in items]`` on up to ``n_threads`` threads.

    Results come back in the order of ``items`` whatever the scheduling.  An
    exception in a task (or Ctrl-C) sets ``stop`` so that the other tasks
    end at their next poll, then propagates.
    """
    items = list(items)
    if n_threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = cf.ThreadPoolExecutor(max_workers=min(n_threads, len(items)))
    futures = [pool.submit(fn, item) for item in items]
    try:
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=_WAIT,
                                    return_when=cf.FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()
        return [future.result() for future in futures]
    except BaseException:
        stop[0] = 1
        for future in futures:
            future.cancel()
        raise
    finally:
        # Every worker has returned once the stop flag is seen; wait for them
        # so that no thread outlives the call.
        pool.shutdown(wait=True)
