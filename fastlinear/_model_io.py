"""LIBLINEAR's text model format: write and read linear classifiers.

The format (liblinear's ``linear.cpp``, ``save_model``/``load_model``)::

    solver_type L2R_L2LOSS_SVC_DUAL
    nr_class 2
    label 1 -1
    nr_feature 123
    bias 1
    w
    0.123
    ...

(each weight followed by a space) and ``nr_feature`` rows (plus one for the bias weight when
``bias >= 0``) of ``nr_w`` weights each; ``nr_w`` is 1 for two classes and
``nr_class`` otherwise (column ``j`` belongs to the ``j``-th label of the
``label`` line).  Labels are integers.

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
   so no fastlinear-specific line is added.
4. The "newer format" rule: a header key other than those LIBLINEAR 2.4x
   writes (``solver_type nr_class label nr_feature bias rho w``) or a
   ``solver_type`` this version does not know raises
   :class:`ModelFormatError` saying the file is probably from a newer
   LIBLINEAR/fastlinear.  Any other damage (missing key, wrong number of
   weights, non-numbers) raises it too, naming the line.
"""
import os

import numpy as np

from ._validation import integer_labels
from .svm import LinearSVC

__all__ = ["ModelFormatError", "save_liblinear_model", "load_liblinear_model"]

#: Solver types fastlinear can write and read, with the LinearSVC loss they mean.
SOLVER_LOSS = {
    "L2R_L2LOSS_SVC_DUAL": "squared_hinge",  # liblinear -s 1
    "L2R_L2LOSS_SVC": "squared_hinge",  # -s 2: same model, primal solver
    "L2R_L1LOSS_SVC_DUAL": "hinge",  # -s 3
}
LOSS_SOLVER = {"squared_hinge": "L2R_L2LOSS_SVC_DUAL", "hinge": "L2R_L1LOSS_SVC_DUAL"}
#: LIBLINEAR solver types that exist but fastlinear does not load.
KNOWN_UNSUPPORTED = {
    "L2R_LR", "MCSVM_CS", "L1R_L2LOSS_SVC", "L1R_LR", "L2R_LR_DUAL",
    "L2R_L2LOSS_SVR", "L2R_L2LOSS_SVR_DUAL", "L2R_L1LOSS_SVR_DUAL", "ONECLASS_SVM",
}
HEADER_KEYS = ("solver_type", "nr_class", "label", "nr_feature", "bias", "rho", "w")


class ModelFormatError(ValueError):
    """A model file that is not a LIBLINEAR model fastlinear can read."""


def save_liblinear_model(path, estimator):
    """Write a fitted linear SVM in LIBLINEAR's text model format.

    Parameters
    ----------
    path : str or path-like
        Output file (overwritten).
    estimator : fitted fastlinear.LinearSVC (or sklearn.svm.LinearSVC)
        Its classes must be integers (or integral floats).

    Raises
    ------
    ValueError
        If the estimator is not fitted, its loss has no LIBLINEAR solver
        type, or its labels are not integers.
    """
    if not hasattr(estimator, "coef_"):
        raise ValueError("The estimator is not fitted; call fit before saving it.")
    loss = getattr(estimator, "loss", None)
    if loss not in LOSS_SOLVER:
        raise ValueError(
            f"Only linear SVMs with loss 'hinge' or 'squared_hinge' can be "
            f"saved as LIBLINEAR models; got loss={loss!r}."
        )
    labels = integer_labels(estimator.classes_, what="class label")
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    n_w, n_features = coef.shape
    if estimator.fit_intercept:
        bias = float(estimator.intercept_scaling)
        bias_row = np.asarray(estimator.intercept_, dtype=np.float64).reshape(-1) / bias
        bias_row = np.broadcast_to(bias_row, (n_w,))
        W = np.vstack([coef.T, bias_row[None, :]])
    else:
        bias = -1.0
        W = coef.T
    if len(labels) == 2:
        # Rule 1: liblinear's first label is the positive side of w.
        labels = labels[::-1]
    lines = [
        f"solver_type {LOSS_SOLVER[loss]}",
        f"nr_class {len(labels)}",
        "label " + " ".join(str(int(v)) for v in labels),
        f"nr_feature {n_features}",
        f"bias {bias:.17g}",
        "w",
    ]
    lines.extend("".join(f"{v:.17g} " for v in row) for row in W)
    with open(os.fspath(path), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def load_liblinear_model(path):
    """Read a LIBLINEAR text model as a fitted ``fastlinear.LinearSVC``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : fastlinear.LinearSVC
        With ``classes_`` (sorted), ``coef_``, ``intercept_`` and
        ``n_features_in_`` set, ``loss`` from the solver type,
        ``fit_intercept = bias >= 0`` and ``intercept_scaling = bias``.  It
        predicts the labels LIBLINEAR's ``predict`` gives.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFormatError
        If the file is not a model this version can read (see rule 4).
    """
    path = os.fspath(path)
    with open(path) as fh:
        text = fh.read()
    lines = text.splitlines()
    header = {}
    label_line = None
    w_line = None
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        key = parts[0]
        if key not in HEADER_KEYS:
            raise ModelFormatError(
                f"{path}, line {number}: unknown header key {key!r}. This file was "
                "probably written by a newer LIBLINEAR or fastlinear than this one "
                f"(known keys: {' '.join(HEADER_KEYS)}); upgrade fastlinear or "
                "re-save the model with a LIBLINEAR 2.4x-compatible tool."
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
    for key in ("solver_type", "nr_class", "nr_feature", "bias"):
        if key not in header:
            raise ModelFormatError(
                f"{path}: the header has no {key!r} line; this is not a LIBLINEAR model file."
            )
    if w_line is None:
        raise ModelFormatError(f"{path}: no 'w' line; the weights are missing.")
    solver = header["solver_type"][1]
    if solver not in SOLVER_LOSS:
        if solver in KNOWN_UNSUPPORTED:
            raise ModelFormatError(
                f"{path}: solver_type {solver} is a LIBLINEAR model fastlinear does "
                f"not load; supported: {', '.join(SOLVER_LOSS)}."
            )
        raise ModelFormatError(
            f"{path}, line {header['solver_type'][0]}: unknown solver_type {solver!r}; "
            "the file was probably written by a newer LIBLINEAR or fastlinear "
            f"(this version reads {', '.join(SOLVER_LOSS)})."
        )

    def number(key, kind):
        line_no, value = header[key]
        try:
            return kind(value)
        except ValueError:
            raise ModelFormatError(
                f"{path}, line {line_no}: {key} must be {'an integer' if kind is int else 'a number'}, got {value!r}."
            ) from None

    nr_class = number("nr_class", int)
    nr_feature = number("nr_feature", int)
    bias = number("bias", float)
    if nr_class < 2 or nr_feature < 0:
        raise ModelFormatError(
            f"{path}: nr_class={nr_class}, nr_feature={nr_feature}; expected nr_class >= 2 and nr_feature >= 0."
        )
    if label_line is None:
        raise ModelFormatError(f"{path}: no 'label' line; a classification model needs one.")
    try:
        labels = np.array([int(v) for v in label_line[1]], dtype=np.int64)
    except ValueError:
        raise ModelFormatError(
            f"{path}, line {label_line[0]}: labels must be integers, got {' '.join(label_line[1])!r}."
        ) from None
    if labels.shape[0] != nr_class or np.unique(labels).shape[0] != nr_class:
        raise ModelFormatError(
            f"{path}, line {label_line[0]}: expected {nr_class} distinct labels "
            f"(nr_class), got {labels.shape[0]}."
        )
    nr_w = 1 if nr_class == 2 else nr_class
    n_rows = nr_feature + (1 if bias >= 0 else 0)
    try:
        values = np.array(" ".join(lines[w_line:]).split(), dtype=np.float64)
    except ValueError:
        raise ModelFormatError(f"{path}: the weights after line {w_line} are not all numbers.") from None
    if values.shape[0] != n_rows * nr_w:
        raise ModelFormatError(
            f"{path}: expected {n_rows} x {nr_w} = {n_rows * nr_w} weights after "
            f"'w' (nr_feature={nr_feature}, bias={bias:g}, nr_class={nr_class}), "
            f"found {values.shape[0]}. The file is truncated or damaged."
        )
    if not np.all(np.isfinite(values)):
        raise ModelFormatError(f"{path}: the weights contain NaN or infinity.")
    W = values.reshape(n_rows, nr_w)
    w_bias = W[-1] if bias >= 0 else np.zeros(nr_w)
    W = W[:nr_feature]

    order = np.argsort(labels)
    classes = labels[order]
    if nr_class == 2:
        # w is positive for labels[0]; sklearn's coef_ is positive for classes_[1].
        sign = 1.0 if labels[0] == classes[1] else -1.0
        coef = sign * W.T
        intercept = sign * w_bias * bias if bias >= 0 else np.zeros(1)
    else:
        coef = W.T[order]
        intercept = (w_bias * bias)[order] if bias >= 0 else np.zeros(nr_class)

    est = LinearSVC(
        loss=SOLVER_LOSS[solver],
        fit_intercept=bool(bias >= 0),
        intercept_scaling=float(bias) if bias > 0 else 1.0,
    )
    est.classes_ = classes
    est.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
    est.intercept_ = np.asarray(intercept, dtype=np.float64).reshape(-1)
    est.n_features_in_ = nr_feature
    return est
