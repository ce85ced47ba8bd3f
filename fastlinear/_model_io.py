"""LIBLINEAR's text model format: write and read linear SVMs, SVRs and logistic regressions.

The format (liblinear's ``linear.cpp``, ``save_model``/``load_model``)::

    solver_type L2R_L2LOSS_SVC_DUAL
    nr_class 2
    label 1 -1
    nr_feature 123
    bias 1
    w
    0.123
    ...

(each weight followed by a space) and ``nr_feature`` rows (plus one for the
bias weight when ``bias >= 0``) of ``nr_w`` weights each; ``nr_w`` is 1 for
two classes (except Crammer and Singer's, which keeps one column per class)
and ``nr_class`` otherwise (column ``j`` belongs to the ``j``-th label of the
``label`` line).  Regression models have no ``label`` line and one column.
Logistic regression (``L2R_LR``, ``L2R_LR_DUAL``) is stored as the SVMs:
one column for two classes, one per class (one-vs-rest) for more.

Design rules of this module:

1. Sign convention.  LIBLINEAR predicts ``label[0]`` when ``w.x > 0`` for two
   classes; scikit-learn predicts ``classes_[1]`` when ``coef_.x +
   intercept_ > 0``.  We write the label line as ``classes_[1] classes_[0]``
   with ``w = coef_`` (no negation), and read any order back.
2. The intercept is LIBLINEAR's bias feature: ``bias = intercept_scaling``,
   the last weight row is ``intercept_ / intercept_scaling``; no intercept
   means ``bias -1``.
3. Files are exactly what LIBLINEAR 2.4x writes (``%.17g`` numbers), so
   ``liblinear-official`` loads them; LIBLINEAR rejects unknown header keys,
   so no fastlinear-specific line is added.  Files are written as
   :func:`write_file` says: links followed, regular files through a
   temporary name renamed when complete (with the mode ``fopen`` would give),
   devices and FIFOs directly.
4. Reading: an unknown header key or ``solver_type`` raises
   :class:`ModelFormatError` saying the file is probably from a newer
   LIBLINEAR/fastlinear; any other damage (a byte-order mark, a missing key,
   weights before the ``w`` line, the wrong number of weights, non-finite
   numbers) raises it too, naming the line and the fix.
"""
import errno
import itertools
import os
import secrets
import stat

import numpy as np
from scipy.special import expit

from . import _solver_table
from ._validation import integer_labels
from .datasets import compression
from .logistic import LogisticRegression
from .svm import LinearSVC
from .svr import LinearSVR

__all__ = ["ModelFormatError", "OneClassModel", "liblinear_label_order", "liblinear_model_chunks",
           "liblinear_model_text", "liblinear_predict", "liblinear_predict_proba", "linear_scores",
           "load_liblinear_model", "one_class_model_chunks", "read_liblinear_model",
           "save_liblinear_model", "write_file"]

#: LIBLINEAR's solver types this version reads and writes, with the estimator
#: parameters they mean (the number is LIBLINEAR's ``-s``); from the one table.
SOLVER_PARAMS = {
    s.type_name: (s.number, {"LinearSVC": LinearSVC, "LinearSVR": LinearSVR,
                             "LogisticRegression": LogisticRegression}[s.estimator], s.params)
    for s in _solver_table.offered()
}
#: LIBLINEAR solver types that exist but fastlinear does not load.
KNOWN_UNSUPPORTED = {s.type_name for s in _solver_table.SOLVERS if not s.estimator}
HEADER_KEYS = ("solver_type", "nr_class", "label", "nr_feature", "bias", "rho", "w")


class ModelFormatError(ValueError):
    """A model file that is not a LIBLINEAR model fastlinear can read."""


class OneClassModel(ModelFormatError):
    """A LIBLINEAR model of one class (``nr_class 1``, trained on a file with
    one label): it labels every sample ``label``, which no scikit-learn
    classifier represents.  ``fastlinear predict`` predicts with it."""

    def __init__(self, message, label, solver):
        super().__init__(message)
        self.label, self.solver = int(label), solver


def _solver_type(estimator):
    """The ``solver_type`` of a fitted estimator (:func:`_solver_table.solver_type_of`)."""
    return _solver_table.solver_type_of(estimator).type_name


def _model_header(estimator, label_order=None, zero_bias=False, n_features=None):
    """``(header, W)``: the model file's lines up to ``w`` and the weights,
    one row per feature (the bias weight last when there is one); the checks
    of :func:`liblinear_model_text`.  ``label_order`` (the classes in
    another order) sets the ``label`` line and the columns' order;
    ``zero_bias`` writes a model without intercept as LIBLINEAR's ``-B 0``
    does (``bias 0`` and a zero weight row for the constant feature);
    ``n_features`` writes only that many features (the others' weights must
    be 0)."""
    if isinstance(estimator, (str, bytes, os.PathLike)) or not hasattr(estimator, "get_params"):
        raise TypeError(
            "Expected a fitted LinearSVC, LinearSVR or LogisticRegression (fastlinear's or "
            "scikit-learn's) as the "
            f"estimator, got {_describe(estimator)}."
        )
    if not hasattr(estimator, "coef_"):
        raise ValueError("The estimator is not fitted; call fit before saving it.")
    solver = _solver_type(estimator)
    coef = estimator.coef_
    coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=np.float64)
    coef = np.atleast_2d(coef)
    if n_features is not None:
        if n_features > coef.shape[1] or np.any(coef[:, n_features:]):
            raise ValueError(f"n_features={n_features} would drop nonzero weights of "
                             f"{coef.shape[1]} features.")
        coef = coef[:, :n_features]
    n_w, n_features = coef.shape
    intercept = np.broadcast_to(np.asarray(estimator.intercept_, dtype=np.float64).reshape(-1), (n_w,))
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        # (no LIBLINEAR reads such a file back; load_liblinear_model refuses it)
        raise ValueError("The estimator's coef_ or intercept_ holds NaN or infinity; a "
                         "model file needs finite weights.")
    regression = SOLVER_PARAMS[solver][1] is LinearSVR
    classes = None if regression else integer_labels(estimator.classes_, what="class label")
    labels = classes
    if solver == "MCSVM_CS" and n_w == 1:
        # scikit-learn's binary shape: w = w_1 - w_0; LIBLINEAR keeps both
        # columns (the symmetric pair gives the same argmax).
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        n_w = 2
    elif labels is not None and len(labels) == 2:
        # Rule 1: liblinear's first label is the positive side of w.
        labels = labels[::-1]
    if estimator.fit_intercept:
        bias = float(estimator.intercept_scaling)
        W = np.vstack([coef.T, (intercept / bias)[None, :]])
    elif zero_bias:
        bias = 0.0
        W = np.vstack([coef.T, np.zeros((1, n_w))])
    else:
        bias = -1.0
        W = coef.T
    if label_order is not None and labels is not None:
        order = integer_labels(label_order, what="class label")
        if sorted(order.tolist()) != classes.tolist():
            raise ValueError(f"label_order {order.tolist()} is not an order of the classes "
                             f"{classes.tolist()}.")
        if W.shape[1] == 1:
            # One vector, positive for label[0] (rule 1).
            W = W if order[0] == labels[0] else -W
        else:
            W = W[:, np.searchsorted(classes, order)]
        labels = order
    if bias == 0.0:
        W[-1] = 0.0     # +0, as LIBLINEAR prints it, whatever the sign flip above
    return _header_text(solver, labels, n_features, bias), W


def _header_text(solver, labels, n_features, bias):
    """The lines of a model file up to ``w`` (``labels`` None: a regression
    model, ``nr_class 2`` and no ``label`` line, as LIBLINEAR writes it)."""
    lines = [f"solver_type {solver}", f"nr_class {2 if labels is None else len(labels)}"]
    if labels is not None:
        lines.append("label " + " ".join(str(int(v)) for v in labels))
    lines += [f"nr_feature {n_features}", f"bias {float(bias):.17g}", "w"]
    return "\n".join(lines) + "\n"


def liblinear_model_text(estimator):
    """The LIBLINEAR text of a fitted linear SVM, SVR or logistic regression (see the module docstring).

    Raises
    ------
    TypeError
        If ``estimator`` is not an estimator (a path, an array, ...).
    ValueError
        If the estimator is not fitted, has no LIBLINEAR solver type, or its
        class labels are not integers inside the int64 range.
    """
    return "".join(liblinear_model_chunks(estimator))


def liblinear_model_chunks(estimator, label_order=None, zero_bias=False, n_features=None):
    """:func:`liblinear_model_text` in pieces of at most ``WEIGHT_BLOCK`` weight
    lines, for writing a model of many features without holding its text
    (about 20 bytes a weight) in memory.  The estimator is checked at once,
    not when the first piece is asked for.  ``label_order``: the classes in
    the order of the ``label`` line (``fastlinear train`` writes LIBLINEAR's,
    :func:`liblinear_label_order`); by default sorted, the larger first for
    two classes.  ``zero_bias``: a model without intercept written as
    LIBLINEAR's ``-B 0`` writes it (``bias 0``, a zero weight row).
    ``n_features``: only that many features (``fastlinear train`` on a file
    of labels only writes 0, as LIBLINEAR)."""
    header, W = _model_header(estimator, label_order, zero_bias, n_features)
    return itertools.chain((header,), _weight_lines(W))


def one_class_model_chunks(solver_type, label, w, bias):
    """The model file of a one-label training file, as LIBLINEAR writes it:
    ``nr_class 1``, the label, and one weight column ``w`` (n_features, or
    n_features + 1 with the bias weight last when ``bias >= 0``; ``bias``
    -1 for none), in pieces as :func:`liblinear_model_chunks` gives them."""
    w = np.asarray(w, dtype=np.float64).reshape(-1, 1)
    n_features = w.shape[0] - (1 if bias >= 0 else 0)
    header = _header_text(solver_type, [label], n_features, bias)
    return itertools.chain((header,), _weight_lines(w))


def liblinear_label_order(y):
    """LIBLINEAR's order of the classes of training labels ``y`` (its
    ``group_classes``): first appearance, except that a two-class set whose
    -1 comes before its +1 puts +1 first."""
    y = np.asarray(y)
    _, first = np.unique(y, return_index=True)
    order = y[np.sort(first)]
    if order.shape[0] == 2 and order[0] == -1 and order[1] == 1:
        order = order[::-1]
    return order


#: Weight lines formatted at a time by :func:`liblinear_model_chunks`.
WEIGHT_BLOCK = 1 << 16


def _weight_lines(W):
    """The ``w`` section: one line per feature, ``"%.17g "`` per class.  A row
    of zeros (a feature absent from the training data: most of them, when
    one index is large) is not formatted value by value."""
    zero_line = "0 " * W.shape[1]
    for start in range(0, W.shape[0], WEIGHT_BLOCK):
        rows = W[start:start + WEIGHT_BLOCK]
        lines = [zero_line] * rows.shape[0]
        # (-0.0 is written "-0", as printf writes it)
        for i in np.flatnonzero(np.any((rows != 0) | np.signbit(rows), axis=1)):
            lines[i] = "".join(f"{v:.17g} " for v in rows[i])
        yield "\n".join(lines) + "\n"


def save_liblinear_model(path, estimator):
    """Write a fitted linear SVM, SVR or logistic regression in LIBLINEAR's text model format.

    The file is written as :func:`write_file` does: a symbolic link is
    followed, a regular file is written under a temporary name and renamed
    when complete (a failure leaves no partial file; the mode is the
    replaced file's, or ``0o666`` less the umask), and a device or FIFO is
    written directly.

    Parameters
    ----------
    path : str or path-like
        Output file (overwritten).
    estimator : fitted fastlinear or scikit-learn LinearSVC / LinearSVR / LogisticRegression
        A logistic regression is saved as ``L2R_LR`` (``L2R_LR_DUAL`` when
        liblinear's dual solver fitted it), whatever solver fitted it: the
        labels LIBLINEAR predicts are the estimator's.  For three or more
        classes LIBLINEAR's probabilities are one-vs-rest normalised
        (:func:`liblinear_predict_proba`), not a multinomial model's softmax.

    Raises
    ------
    TypeError
        If ``path`` is not a str, bytes or path-like object, or ``estimator``
        is not an estimator (the message says when the two look swapped).
    ValueError
        As :func:`liblinear_model_text`.
    OSError
        As :func:`write_file`.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        swapped = isinstance(estimator, (str, bytes, os.PathLike))
        raise TypeError(
            "save_liblinear_model(path, estimator) takes the file path first: expected a str "
            f"or path-like object as path, got {_describe(path)}"
            + (". The arguments look swapped; call save_liblinear_model(path, estimator)."
               if swapped else ".")
        )
    write_file(path, liblinear_model_chunks(estimator))


def _describe(value):
    """``type repr`` of a value for an error message, the repr cut short."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def write_file(path, text):
    """Write ``text`` (a string, or an iterable of strings written one after
    another) to ``path`` where LIBLINEAR's ``fopen(path, "w")`` would, never
    leaving a partial file.

    * A symbolic link is followed: its target is written and the link stays.
    * A regular file, or a new one, is written under a temporary name in the
      target's folder and renamed over it when complete, so a failed or
      interrupted write leaves the old file whole and no temporary file
      behind.  The new file keeps the mode of the file it replaces; a new
      file gets ``0o666`` less the umask.  Both are the modes ``fopen``
      gives, and LIBLINEAR's files get.
    * Anything else (a character device such as ``/dev/null``, a FIFO,
      ``/dev/stdout`` on a pipe) is opened and written directly: the node is
      never replaced.
    * As ``fopen``, an empty path and an existing file that the user may not
      write are refused.  (A writable file in a folder the user may not
      write is refused too, where ``fopen`` would write it in place: the
      temporary file cannot be made there.)

    Raises
    ------
    OSError
        If the file cannot be written (no such folder, no permission, a full
        disk, ``/dev/full``), after removing the temporary file.
    """
    path = os.fsdecode(path)
    if not path:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    try:
        existing = os.stat(path)  # through links
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if existing is not None and not os.access(path, os.W_OK):
        # fopen's answer for a file its user may not write (root may).
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    target = os.path.realpath(path)
    if existing is not None and not (stat.S_ISREG(existing.st_mode) and _same_file(target, existing)):
        # A device or FIFO; or a file reached through a link with no path
        # of its own (/dev/stdout to a deleted file): written in place.
        with open(path, "w") as fh:
            _write_text(fh, text)
        return
    fd, tmp = _create_temporary(os.path.dirname(target))
    try:
        if existing is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
        with os.fdopen(fd, "w") as fh:
            _write_text(fh, text)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_text(fh, text):
    """A string, or its pieces (an iterable of strings) one after another."""
    if isinstance(text, str):
        fh.write(text)
    else:
        for piece in text:
            fh.write(piece)


def _same_file(path, status):
    try:
        other = os.stat(path)
    except OSError:
        return False
    return (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino)


def _create_temporary(folder):
    """``(fd, name)`` of a new hidden file in ``folder``, created with mode
    ``0o666`` so that the umask decides (``tempfile.mkstemp`` forces 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = os.path.join(folder, f".fastlinear-{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)


def _header(path, lines):
    """``(header dict, label line, index of the 'w' line)``; rule 4's checks."""
    header, label_line, w_line = {}, None, None
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        key = parts[0]
        if number == 1 and key.startswith("\ufeff"):
            raise ModelFormatError(
                f"{path}, line 1: the file starts with a UTF-8 byte-order mark; LIBLINEAR "
                "model files are plain text. Save it without the mark."
            )
        if key not in HEADER_KEYS:
            try:
                float(key)
            except ValueError:
                raise ModelFormatError(
                    f"{path}, line {number}: unknown header key {key!r}. This file was "
                    "probably written by a newer LIBLINEAR or fastlinear than this one "
                    f"(known keys: {' '.join(HEADER_KEYS)}); upgrade fastlinear or "
                    "re-save the model with a LIBLINEAR 2.4x-compatible tool."
                ) from None
            raise ModelFormatError(
                f"{path}, line {number}: weights before the 'w' line; the header is "
                "damaged (expected a 'w' line after 'bias')."
            )
        if key == "w":
            w_line = number
            break
        if key == "label":
            label_line = (number, parts[1:])
        elif len(parts) != 2:
            raise ModelFormatError(
                f"{path}, line {number}: expected '{key} <value>', got {line.strip()!r}."
            )
        else:
            header[key] = (number, parts[1])
    return header, label_line, w_line


#: Lines of weights converted at a time: the text of a block, not of the
#: file, is in memory (a model of 5 million features is 15 MB of text,
#: 570 MB at its peak when read whole).
WEIGHT_LINES = 1 << 16


def _weights(path, fh, w_line):
    """The numbers after the ``w`` line (line ``w_line``) of ``fh``, read in
    blocks of :data:`WEIGHT_LINES` lines."""
    blocks = []
    for block in iter(lambda: list(itertools.islice(fh, WEIGHT_LINES)), []):
        try:
            blocks.append(np.array(" ".join(block).split(), dtype=np.float64))
        except ValueError:
            raise ModelFormatError(
                f"{path}: the weights after line {w_line} are not all numbers.") from None
    return np.concatenate(blocks) if blocks else np.empty(0)


def load_liblinear_model(path):
    """Read a LIBLINEAR text model as a fitted fastlinear estimator.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : fastlinear.LinearSVC, fastlinear.LinearSVR or fastlinear.LogisticRegression
        With ``coef_``, ``intercept_``, ``n_features_in_`` (and ``classes_``,
        sorted, for a classifier) set, and the parameters of the solver type
        (``loss``, ``penalty``, ``dual``, ``multi_class``; for ``L2R_LR`` and
        ``L2R_LR_DUAL``, ``solver="liblinear"`` and ``dual``; ``fit_intercept
        = bias >= 0`` and ``intercept_scaling = bias``, ``intercept_ = bias *
        w_bias``).  It predicts what LIBLINEAR's ``predict`` gives; for a
        logistic regression, :func:`liblinear_predict_proba` gives what
        LIBLINEAR's ``predict -b 1`` gives.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFormatError
        If the file is not a model this version can read: an unknown header
        key or ``solver_type`` (a file from a newer LIBLINEAR or fastlinear),
        a byte-order mark, a missing key, weights before the ``w`` line, the
        wrong number of weights or a non-finite number; the message names
        the line.  A LIBLINEAR model of one class (``nr_class 1``) raises
        its subclass :class:`OneClassModel`, which carries the label.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastlinear import LinearSVC, load_liblinear_model, save_liblinear_model
    >>> from fastlinear.datasets import load_a9a
    >>> X, y, X_test, y_test = load_a9a()
    >>> clf = LinearSVC(C=0.1).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "a9a.model")
    >>> save_liblinear_model(path, clf)  # liblinear-official's load_model reads it
    >>> back = load_liblinear_model(path)
    >>> bool((back.predict(X_test) == clf.predict(X_test)).all())
    True
    """
    return read_liblinear_model(path)[0]


def read_liblinear_model(path):
    """:func:`load_liblinear_model`, with the labels in the file's order.

    Returns
    -------
    estimator : as :func:`load_liblinear_model`
    labels : ndarray of int64 of shape (nr_class,), or None
        The ``label`` line (``None`` for a regression model): the order of
        LIBLINEAR's decision values and probabilities.

    Raises
    ------
    FileNotFoundError, ModelFormatError
        As :func:`load_liblinear_model`.
    """
    path = os.fspath(path)
    packed = compression(path)
    if packed is not None:
        raise ModelFormatError(f"{path}: the file is {packed}-compressed; LIBLINEAR model "
                               "files are plain text: decompress it first.")
    with open(path, encoding="utf-8", errors="replace") as fh:
        header, label_line, w_line = _header(path, fh)
        values = None if w_line is None else _weights(path, fh, w_line)
    for key in ("solver_type", "nr_class", "nr_feature", "bias"):
        if key not in header:
            raise ModelFormatError(
                f"{path}: the header has no {key!r} line; this is not a LIBLINEAR model file."
            )
    if w_line is None:
        raise ModelFormatError(f"{path}: no 'w' line; the weights are missing.")
    solver = header["solver_type"][1]
    if solver not in SOLVER_PARAMS:
        if solver in KNOWN_UNSUPPORTED:
            raise ModelFormatError(
                f"{path}: solver_type {solver} is a LIBLINEAR model fastlinear does "
                f"not load; supported: {', '.join(SOLVER_PARAMS)}."
            )
        raise ModelFormatError(
            f"{path}, line {header['solver_type'][0]}: unknown solver_type {solver!r}; "
            "the file was probably written by a newer LIBLINEAR or fastlinear "
            f"(this version reads {', '.join(SOLVER_PARAMS)})."
        )
    _, cls, params = SOLVER_PARAMS[solver]

    def number(key, kind):
        line_no, value = header[key]
        try:
            result = kind(value)
        except (ValueError, OverflowError):
            result = None
        if result is None or (kind is float and not np.isfinite(result)):
            raise ModelFormatError(
                f"{path}, line {line_no}: {key} must be "
                f"{'an integer' if kind is int else 'a finite number'}, got {value!r}."
            )
        return result

    nr_class = number("nr_class", int)
    nr_feature = number("nr_feature", int)
    bias = number("bias", float)
    regression = cls is LinearSVR
    if nr_class < (2 if regression else 1) or nr_feature < 0 or nr_feature > 2**31:
        raise ModelFormatError(
            f"{path}: nr_class={nr_class}, nr_feature={nr_feature}; expected nr_class >= "
            f"{2 if regression else 1} and 0 <= nr_feature <= 2**31."
        )
    labels = None
    if not regression:
        if label_line is None:
            raise ModelFormatError(f"{path}: no 'label' line; a classification model needs one.")
        try:
            labels = np.array([int(v) for v in label_line[1]], dtype=np.int64)
        except (ValueError, OverflowError):
            raise ModelFormatError(
                f"{path}, line {label_line[0]}: labels must be integers inside the int64 "
                f"range, got {' '.join(label_line[1])!r}."
            ) from None
        if labels.shape[0] != nr_class or np.unique(labels).shape[0] != nr_class:
            values, counts = np.unique(labels, return_counts=True)
            repeated = values[counts > 1]
            raise ModelFormatError(
                f"{path}, line {label_line[0]}: expected {nr_class} distinct labels "
                f"(nr_class), got {labels.shape[0]}"
                + (f", label {int(repeated[0])} more than once." if repeated.size else ".")
            )
    nr_w = 1 if regression or (nr_class == 2 and solver != "MCSVM_CS") else nr_class
    n_rows = nr_feature + (1 if bias >= 0 else 0)
    if values.shape[0] != n_rows * nr_w:
        raise ModelFormatError(
            f"{path}: expected {n_rows} x {nr_w} = {n_rows * nr_w} weights after "
            f"'w' (nr_feature={nr_feature}, bias={bias:g}, nr_class={nr_class}), "
            f"found {values.shape[0]}. The file is truncated or damaged."
        )
    if not np.all(np.isfinite(values)):
        raise ModelFormatError(f"{path}: the weights contain NaN or infinity.")
    W = values.reshape(n_rows, nr_w)
    if nr_class == 1:
        raise OneClassModel(
            f"{path}: a model of one class (label {int(labels[0])}), which LIBLINEAR trains "
            "from a file with one label and which labels every sample with it; a "
            "scikit-learn classifier needs two classes (fastlinear predict reads it).",
            labels[0], solver)
    w_bias = W[-1] if bias >= 0 else np.zeros(nr_w)
    W = W[:nr_feature]
    intercept_of = (lambda wb: wb * bias) if bias >= 0 else (lambda wb: np.zeros_like(wb))

    est = cls(fit_intercept=bool(bias >= 0), intercept_scaling=float(bias) if bias > 0 else 1.0,
              **params)
    est.n_features_in_ = nr_feature
    if regression:
        est.coef_ = np.ascontiguousarray(W[:, 0])
        est.intercept_ = np.asarray(intercept_of(w_bias[:1]), dtype=np.float64)
        return est, None
    order = np.argsort(labels)
    classes = labels[order]
    if nr_class == 2 and nr_w == 1:
        # w is positive for labels[0]; sklearn's coef_ is positive for classes_[1].
        sign = 1.0 if labels[0] == classes[1] else -1.0
        coef = sign * W.T
        intercept = sign * intercept_of(w_bias)
    elif nr_class == 2:
        # Crammer and Singer, two columns: scikit-learn's binary w_1 - w_0.
        columns = W.T[order]
        coef = (columns[1] - columns[0])[None, :]
        intercept = intercept_of(w_bias[order][1:2] - w_bias[order][0:1])
    else:
        coef = W.T[order]
        intercept = intercept_of(w_bias)[order]
    est.classes_ = classes
    est.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
    est.intercept_ = np.asarray(intercept, dtype=np.float64).reshape(-1)
    return est, labels


def linear_scores(estimator, X):
    """``X coef_^T + intercept_`` of a model read from a file, in float64: its
    decision values, 1-D for one weight vector.

    LIBLINEAR's ``predict`` reads a model of ``nr_feature 0`` (trained on a
    file of labels only): its decision value is the bias term alone.  The
    estimators' ``decision_function`` refuses X without features, as
    scikit-learn's do, so the file's predictions are computed here.  X has
    the model's width (``fastlinear predict`` cuts or pads it).
    """
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    product = X @ np.atleast_2d(coef).T
    scores = np.asarray(product.toarray() if hasattr(product, "toarray") else product,
                        dtype=np.float64) + np.asarray(estimator.intercept_, dtype=np.float64)
    return scores[:, 0] if coef.ndim == 1 or coef.shape[0] == 1 else scores


def liblinear_predict(estimator, labels, X):
    """LIBLINEAR's ``predict`` of a classifier, ties broken as LIBLINEAR does.

    The estimator's ``predict`` gives the same labels except on exact ties
    of the decision values (an empty row of a model without bias, say):
    LIBLINEAR takes the first largest decision value in the order of the
    file's ``label`` line, and for two classes ``label[1]`` unless the
    first decision value is positive.  That holds for Crammer and Singer's
    two columns too: LIBLINEAR's ``predict_values`` tests the first
    column's value alone.  Here the model holds the difference of the two
    columns, which LIBLINEAR's solver keeps opposite (its steps sum to 0),
    so the sign is the same except within rounding of a tie.

    Parameters
    ----------
    estimator : fitted classifier of :func:`read_liblinear_model`
    labels : ndarray of shape (n_classes,)
        The file's ``label`` line, as :func:`read_liblinear_model` returns it.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    pred : ndarray of int64 of shape (n_samples,)
    """
    labels = np.asarray(labels)
    scores = linear_scores(estimator, X)
    if scores.ndim == 1:
        # scores are positive for classes_[1]; LIBLINEAR's w.x for label[0].
        dec = scores if labels[0] == estimator.classes_[1] else -scores
        return np.where(dec > 0, labels[0], labels[1])
    order = np.searchsorted(estimator.classes_, labels)
    return labels[np.argmax(scores[:, order], axis=1)]


def liblinear_predict_proba(estimator, X):
    """LIBLINEAR's probabilities (``predict -b 1``) of a logistic regression.

    For two classes, ``P(classes_[1] | x) = sigma(d)`` with ``d`` the
    decision value (as scikit-learn's binary model).  For ``K >= 3`` classes
    LIBLINEAR trains one binary model per class (one-vs-rest) and normalises
    their probabilities: ``P(k | x) = sigma(d_k) / sum_j sigma(d_j)``, which
    is not the softmax of a multinomial model.

    Parameters
    ----------
    estimator : fitted LogisticRegression (fastlinear's or scikit-learn's)
        As :func:`load_liblinear_model` returns for ``L2R_LR`` and
        ``L2R_LR_DUAL`` files.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Columns in the order of ``estimator.classes_``.
    """
    scores = linear_scores(estimator, X)
    if scores.ndim == 1:
        p1 = expit(scores)
        return np.column_stack([1.0 - p1, p1])
    p = expit(scores)
    return p / p.sum(axis=1, keepdims=True)
