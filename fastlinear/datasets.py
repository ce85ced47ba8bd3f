"""Data loaders: the bundled a9a set and any LIBSVM file.

The course assignment used LIBSVM's ``a5a``/``a5a.t``; its parent set
``a9a``/``a9a.t`` (UCI Adult, same 123 binary features; every a*a training
set is a subset of a9a's rows) ships with the package, bzip2-compressed.
Your own ``a5a`` runs through the same code with :func:`load_libsvm`.
"""
import bz2
import contextlib
import gzip
import os
import re
import zlib
from importlib import resources

import numpy as np
from sklearn.datasets import load_svmlight_file, load_svmlight_files

__all__ = ["LibsvmFormatError", "load_a9a", "load_libsvm", "load_libsvm_files"]

A9A_N_FEATURES = 123

_FEATURE = re.compile(r"^(qid:\S+|[1-9]\d*:\S+)$", re.ASCII)
#: What ``load_svmlight_file`` raises on a damaged file or archive.
_READ_ERRORS = (ValueError, RuntimeError, UnicodeDecodeError, OSError, EOFError,
                OverflowError, MemoryError, zlib.error)


class LibsvmFormatError(ValueError):
    """A file that is not a readable LIBSVM/svmlight file; the message says where."""


#: The first bytes of the archives the readers take (gzip's and bzip2's magic).
COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2"}


def _named(path):
    """``"gzip"``, ``"bzip2"`` or None: what the file's suffix says it is."""
    return {".gz": "gzip", ".bz2": "bzip2"}.get(os.path.splitext(path)[1].lower())


def compression(path):
    """``"gzip"``, ``"bzip2"`` or None: what a regular file's first bytes say
    it is, whatever its name (``data.txt`` gzipped, ``DATA.GZ``, a plain
    ``.bz2``); for anything else (a pipe: read once), what its suffix says."""
    if not os.path.isfile(path):
        return _named(path)
    with open(path, "rb") as fh:
        start = fh.read(3)
    return next((kind for magic, kind in COMPRESSED.items() if start.startswith(magic)), None)


class _Lines:
    """The lines of an open binary file, each handed over by Python code.

    ``load_svmlight_file``'s C loop takes the lines of the file it is given;
    from a plain open file they come from C as well, and Ctrl-C reached
    Python only after the whole file (15 s into a 140 MB file).  Through
    this object Python runs at every line and raises ``KeyboardInterrupt``
    there.  ``read`` is the file's (the reader asks for it).
    """

    def __init__(self, fh):
        self.read, self._readline = fh.read, fh.readline

    def __iter__(self):
        return self

    def __next__(self):
        line = self._readline()
        if line:
            return line
        raise StopIteration


@contextlib.contextmanager
def _parser_lines(path):
    """The lines of a LIBSVM file as ``load_svmlight_file`` takes them: the
    file opened by its content (:func:`_open`), through :class:`_Lines`."""
    with _open(path, binary=True) as fh:
        yield _Lines(fh)


def _open(path, *, binary=False):
    """A LIBSVM file (plain, gzip or bzip2 by its content) as text, or as bytes.

    Lines end at ``\n`` only, as ``load_svmlight_file`` reads them (not
    Python's universal newlines), so line numbers are the reader's.
    """
    opener = {"gzip": gzip.open, "bzip2": bz2.open}.get(compression(path), open)
    return opener(path, "rb") if binary else opener(path, "rt", errors="replace", newline="\n")


def _samples(path):
    """``(line number, line, tokens)`` of each sample line (comments and blank
    lines skipped, as ``load_svmlight_file`` does)."""
    with _open(path) as fh:
        for number, line in enumerate(fh, start=1):
            tokens = line.split("#", 1)[0].split()
            if tokens:
                yield number, line, tokens


def _line_problem(tokens, zero_based, dtype):
    """What is wrong with one line's tokens, as ``(token, reason)``, or None."""
    limit = np.iinfo(np.int32).max  # scipy's index width for these files
    # Numbers are parsed from bytes, as load_svmlight_file parses them: the
    # str forms of float() and int() also read non-ASCII digits.
    try:
        label = float(tokens[0].split(",")[0].encode())
    except ValueError:
        return tokens[0], "malformed"
    if not np.isfinite(label):
        return tokens[0], f"label {tokens[0]} is not a finite number"
    previous = -1
    for token in tokens[1:]:
        if token.startswith("qid:"):
            continue
        index, _, value = token.partition(":")
        if not (_FEATURE.match(token) or (zero_based is not False and token.startswith("0:"))):
            return token, "malformed"
        try:
            index, value = int(index.encode()), float(value.encode())
        except ValueError:
            return token, "malformed"
        if index + (0 if zero_based is False else 1) > limit:
            return token, "malformed"
        with np.errstate(over="ignore"):
            finite = np.isfinite(np.asarray(value, dtype=dtype))
        if not finite:
            return token, (f"value {token.partition(':')[2]} of feature {index} is not a finite "
                           f"{np.dtype(dtype).name} (NaN, infinite or out of range); remove or rescale it")
        if index <= previous:
            return token, (f"feature {index} after feature {previous}; the indices of a line must "
                           "increase, each at most once")
        previous = index
    return None


def _first_bad_line(path, zero_based, dtype=np.float64):
    """``(line number, text, token, reason)`` of the first line that is not
    ``label index:value ...`` with finite numbers and increasing indices, or
    None (the damage is elsewhere)."""
    try:
        for number, line, tokens in _samples(path):
            problem = _line_problem(tokens, zero_based, dtype)
            if problem is not None:
                text = line.rstrip("\r\n")
                if "\r" in text:   # lines ended by CR alone read as one line
                    problem = ("\r", "carriage returns ('\\r') inside the line: LIBSVM files end "
                               "lines with '\\n'; convert the file, e.g. tr '\\r' '\\n' < old > new")
                return (number, text[:80], *problem)
    except (OSError, EOFError, ValueError, zlib.error):
        return None
    return None


def non_liblinear_token(path):
    """``(line number, text, token, reason)`` of the first token that
    ``load_libsvm`` reads and LIBLINEAR's reader refuses, or None.

    ``load_svmlight_file`` reads numbers with Python's ``float``, which
    takes ``1_0`` for 10 (LIBLINEAR's ``strtod`` stops at the ``_`` and
    rejects the line), and drops svmlight's ``qid:N`` tokens (LIBLINEAR
    rejects them).  The bytes are searched first (one more read of the
    file); the lines are read only when one of the two turns up, in a
    comment possibly.
    """
    seen, tail = False, b""
    with _open(path, binary=True) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            piece = tail + chunk    # (a "qid" across two chunks)
            if b"_" in piece or b"qid" in piece:
                seen = True
                break
            tail = chunk[-2:]
    if not seen:
        return None
    for number, line, tokens in _samples(path):
        for token in tokens:
            if token.startswith("qid:"):
                why = "svmlight's query ids are not LIBLINEAR input; remove the qid tokens"
            elif "_" in token:
                why = "LIBLINEAR reads numbers without '_' separators"
            else:
                continue
            return number, line.rstrip()[:80], token, why
    return None


def sample_line(path, index):
    """The line number of sample ``index`` (0-based) of a LIBSVM file, or None."""
    try:
        for k, (number, _, _) in enumerate(_samples(path)):
            if k == index:
                return number
    except (OSError, EOFError, ValueError, zlib.error):
        return None
    return None


def skipped_line(path, n_samples):
    """The number of the first blank or comment line that comes before a
    sample line of a LIBSVM file of ``n_samples`` samples, or None.

    Such a line is skipped when the file is read, so output written one line
    per sample no longer lines up with the file.  The lines are counted in
    binary first (a file with as many lines as samples has none); only
    otherwise are they read as text.
    """
    lines, last = 0, b"\n"
    with _open(path, binary=True) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if lines + (last != b"\n") == n_samples:
        return None
    previous = 0
    for number, _, _ in _samples(path):
        if number != previous + 1:
            return previous + 1
        previous = number
    return None


def _format_error(path, error, zero_based, dtype=np.float64):
    kind, named = compression(path), _named(path)
    # A name that promises an archive the content is not (read as what it is).
    misnamed = (f" (named as {named} data, it is not: read as "
                f"{kind + ' data' if kind else 'plain text'})" if named and named != kind else "")
    found = _first_bad_line(path, zero_based, dtype)
    if found is None:
        return LibsvmFormatError(
            f"{path}: not a readable LIBSVM file{misnamed} ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no details'})."
            + (" A compressed file may be truncated or damaged." if kind else "")
        )
    number, text, token, reason = found
    if reason != "malformed":
        return LibsvmFormatError(f"{path}, line {number}{misnamed}: {reason}; in {text!r}")
    return LibsvmFormatError(
        f"{path}, line {number}{misnamed}: malformed token {token!r} in {text!r}; expected "
        "'label index:value index:value ...' with a finite label and "
        f"{'1-based ' if zero_based is False else ''}integer indices below 2**31"
    )


def _check_path(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such LIBSVM file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory, not a LIBSVM file")
    return path


def _int32_indices(X):
    """``X`` with int32 ``indices`` and ``indptr`` when they fit (scikit-learn's
    liblinear wrappers refuse 64-bit ones; ``load_svmlight_file`` makes them)."""
    limit = np.iinfo(np.int32).max
    if X.indices.dtype == np.int32 or X.nnz > limit or X.shape[1] > limit:
        return X
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def _checked(path, X, y, zero_based, dtype):
    """``(X, y)`` with int32 indices when they fit, after refusing NaN and
    infinite numbers (``load_svmlight_file`` reads ``nan`` and ``1e400``)."""
    if not (np.all(np.isfinite(X.data)) and np.all(np.isfinite(y))):
        raise _format_error(path, ValueError("NaN or infinite numbers"), zero_based, dtype)
    return _int32_indices(X), y


def load_libsvm(path, *, n_features=None, dtype=np.float64, zero_based="auto"):
    """Read a LIBSVM/svmlight file (plain, gzip or bzip2) as CSR.

    Parameters
    ----------
    path : str or path-like
        File name; gzip and bzip2 are recognised by the content, whatever
        the name.
    n_features : int, default=None
        Number of features.  Give it when loading a training and a test file
        separately, so both get the same width (a9a.t never uses feature 123).
    dtype : {np.float64, np.float32}, default=np.float64
        Dtype of the values.
    zero_based : bool or "auto", default="auto"
        Whether indices start at 0 (``load_svmlight_file``'s meaning);
        LIBSVM and LIBLINEAR files are 1-based (``False``).

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        ``indices`` and ``indptr`` are int32 when they fit (fewer than 2**31
        nonzeros and features), as ``sklearn.svm.LinearSVC`` requires;
        fastlinear's estimators take either width without a copy.
    y : ndarray of shape (n_samples,)
        Labels (or targets).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    LibsvmFormatError
        A ``ValueError``: a malformed line, a NaN or infinite label or value
        (``nan``, ``1e400``), feature indices that do not increase along a
        line (the message names the file and the line), or a damaged
        archive.
    """
    path = _check_path(path)
    try:
        with _parser_lines(path) as lines:
            X, y = load_svmlight_file(lines, n_features=n_features, dtype=dtype,
                                      zero_based=zero_based)
    except _READ_ERRORS as error:
        raise _format_error(path, error, zero_based, dtype) from None
    return _checked(path, X, y, zero_based, dtype)


def load_libsvm_files(paths, *, dtype=np.float64, zero_based="auto"):
    """Read several LIBSVM files with a common number of features.

    Returns ``[X_0, y_0, X_1, y_1, ...]`` as ``load_svmlight_files`` does
    (int32 indices when they fit, as :func:`load_libsvm`); errors as
    :func:`load_libsvm`.
    """
    paths = [_check_path(p) for p in paths]
    try:
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(_parser_lines(p)) for p in paths]
            loaded = load_svmlight_files(files, dtype=dtype, zero_based=zero_based)
    except _READ_ERRORS as error:
        bad = next((p for p in paths if _first_bad_line(p, zero_based, dtype)), paths[0])
        raise _format_error(bad, error, zero_based, dtype) from None
    checked = []
    for path, X, y in zip(paths, loaded[::2], loaded[1::2], strict=True):
        checked.extend(_checked(path, X, y, zero_based, dtype))
    return checked


def load_a9a(*, dtype=np.float64):
    """Load the bundled a9a training and test sets (LIBSVM's UCI Adult).

    32,561 training and 16,281 test samples, 123 binary features, labels
    -1 (income <= 50K, 76 %) and +1.

    Parameters
    ----------
    dtype : {np.float64, np.float32}, default=np.float64
        Dtype of the values.

    Returns
    -------
    X_train : csr_matrix of shape (32561, 123)
    y_train : ndarray of shape (32561,)
    X_test : csr_matrix of shape (16281, 123)
    y_test : ndarray of shape (16281,)

    Notes
    -----
    Source: the LIBSVM data page (C.-C. Chang and C.-J. Lin, 2011), from
    J. C. Platt's encoding of R. Kohavi and B. Becker's 1994 Census extract.

    Examples
    --------
    >>> from fastlinear.datasets import load_a9a
    >>> X_train, y_train, X_test, y_test = load_a9a()
    >>> X_train.shape, X_test.shape
    ((32561, 123), (16281, 123))
    """
    data = resources.files("fastlinear") / "data"
    with resources.as_file(data / "a9a.bz2") as train:
        X_train, y_train = load_libsvm(train, n_features=A9A_N_FEATURES, dtype=dtype)
    with resources.as_file(data / "a9a.t.bz2") as test:
        X_test, y_test = load_libsvm(test, n_features=A9A_N_FEATURES, dtype=dtype)
    return X_train, y_train, X_test, y_test
