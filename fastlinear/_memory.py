"""How much memory this process can still allocate (for the guards that refuse
an allocation before it is attempted)."""
import os

__all__ = ["InsufficientMemoryError", "available_memory_bytes", "check_weight_memory"]


class InsufficientMemoryError(MemoryError, ValueError):
    """An allocation refused before it was attempted, with what it needed and why.

    Both a ``MemoryError`` and a ``ValueError``, so either ``except`` catches it.
    """


def _read_int(path):
    with open(path) as f:
        text = f.read().strip()
    return None if text == "max" else int(text)


def _address_space_headroom():
    """``ulimit -v`` (RLIMIT_AS) minus the address space in use, or None."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return None
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return max(soft - int(line.split()[1]) * 1024, 0)
    except (OSError, ValueError, IndexError):
        pass
    return soft


def available_memory_bytes():
    """Bytes of memory this process can still allocate, or None if unknown.

    The smallest of: ``MemAvailable`` from ``/proc/meminfo`` (free memory
    plus reclaimable caches; ``os.sysconf`` free pages where there is no
    ``/proc``), the headroom of the cgroup (v2 or v1) the process runs in,
    and the headroom under ``ulimit -v``.
    """
    candidates = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not candidates:
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES")
            page_size = os.sysconf("SC_PAGE_SIZE")
            if pages > 0 and page_size > 0:
                candidates.append(pages * page_size)
        except (AttributeError, OSError, ValueError):
            pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit, usage = _read_int(limit_file), _read_int(usage_file)
        except (OSError, ValueError):
            continue
        # cgroup v1 reports "no limit" as a huge number.
        if limit is not None and usage is not None and limit < 2**60:
            candidates.append(max(limit - usage, 0))
        break
    headroom = _address_space_headroom()
    if headroom is not None:
        candidates.append(headroom)
    return min(candidates) if candidates else None


def _refuse_beyond_available(needed, caller, what, advice):
    """Raise :class:`InsufficientMemoryError` when ``needed`` bytes exceed the
    memory available; sizes below 256 MiB never look at the system."""
    if needed < 2**28:
        return
    available = available_memory_bytes()
    if available is None or needed <= available:
        return
    raise InsufficientMemoryError(
        f"{caller}: {what} {needed / 2**30:.1f} GiB, more than the "
        f"{available / 2**30:.1f} GiB available. {advice}"
    )


def check_weight_memory(n_features, n_vectors, caller):
    """Refuse a fit whose weight-sized vectors would not fit in memory.

    A linear model keeps ``n_vectors`` float64 vectors of ``n_features + 1``
    entries (weights, gradients, work vectors).  The feature count comes from
    the largest column index, so one stray index (``2147483647:1`` in a
    LIBSVM file) asks for tens of GiB: say so before NumPy tries.
    """
    _refuse_beyond_available(
        8 * (int(n_features) + 1) * int(n_vectors), caller,
        f"the data have {n_features} features (the largest column index + 1), so the "
        "weight vectors need",
        "Check the column indices of the input (a stray large index in a LIBSVM file?) "
        "or select features first.")


def check_hessian_memory(variables, caller):
    """Refuse a Newton-Cholesky fit whose Hessian would not fit in memory.

    The solver forms a ``variables x variables`` float64 Hessian and factorises
    a copy of it: ``16 variables^2`` bytes.  Asked for explicitly on wide data
    (``solver="newton-cholesky"``, 100,000 features) that is terabytes: say
    so before NumPy tries, and name the solver that needs no Hessian.
    """
    _refuse_beyond_available(
        16 * int(variables) ** 2, caller,
        f"Newton-Cholesky forms a Hessian of {variables} x {variables} entries (features "
        "+ 1, times the classes of the multinomial model) and its factor:",
        "Use solver='newton-cg' (Hessian-vector products, no Hessian) or the default "
        "solver='auto'.")
