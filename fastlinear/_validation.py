"""Every check of user input, in one place and in scikit-learn's words.

Data flows one way: user arrays -> this module (once, at the edge) -> the
problem (``fastlinear._problem``) -> a kernel.  The functions here never
modify the caller's arrays; where a copy is needed (dense to CSR, duplicate
indices, another sparse format) they make one and say so in the docstring.

Design rules of this module:

1. Sparse input of any format has its structure proved before anything
   reads it: CSR by the one scan of ``fastlinear._csr_fast`` (which also
   proves the values finite and their squares representable), CSC by the same
   scan over columns, COO by bounds on its coordinates, other formats by
   scipy's own full check, each *before* scipy converts it.  Nothing reaches
   scipy's sparse products or a kernel unchecked.
2. X is then validated by scikit-learn's ``validate_data`` (dtype float64 or
   float32 kept, ``n_features_in_`` and feature names), and turned into the
   :class:`~fastlinear._csr_fast.CSR` proof the kernels take: the caller's
   CSR arrays without a copy, or one copy for dense input.
3. Labels are encoded by :func:`encode_labels` (fit) and
   :func:`encode_known` (labels of a fitted model) everywhere: estimators,
   objective helpers, the CLI and model files.
4. Every error says what was expected, what came, and how to fix it.
"""
import numbers
import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ._csr_fast import CSR, checked_csr, raise_for, scan, transpose

__all__ = [
    "LABEL_MAX",
    "LABEL_MIN",
    "MAX_INT",
    "ClassificationData",
    "check_X",
    "check_X_predict",
    "check_class_weight",
    "check_labels_finite",
    "check_sample_weight",
    "check_sparse_structure",
    "encode_known",
    "encode_labels",
    "integer_labels",
    "proved_csr",
    "transposed",
    "validate_classification_data",
    "validate_evaluation_data",
    "validate_regression_data",
]

#: The largest count (iterations, batch size, ...) the kernels take: a C int.
MAX_INT = int(np.iinfo(np.int32).max)
#: The parameter constraint of ``n_jobs`` (joblib's convention): a number of
#: threads, negative for "all cores but ``-n_jobs - 1``", or None; 0 means nothing.
N_JOBS = [None, Interval(numbers.Integral, None, -1, closed="right"),
          Interval(numbers.Integral, 1, None, closed="left")]
#: The class labels LIBLINEAR's files can hold (its ``train`` and ``predict``
#: keep them in a C int): :func:`integer_labels`.
LABEL_MIN, LABEL_MAX = -MAX_INT - 1, MAX_INT

_INDEX_DTYPES = (np.int32, np.int64)
_FLOAT_DTYPES = [np.float64, np.float32]


class ClassificationData(NamedTuple):
    """What a classifier's ``fit`` works on after validation."""

    X: CSR
    y_ind: np.ndarray  # class indices into ``classes`` (intp)
    classes: np.ndarray
    sample_weight: np.ndarray  # float64, finite, >= 0, not all zero
    #: What solvers derive from X and may share between fits on the same rows
    #: (a path over C): a dict filled by :func:`transposed`, or None (a
    #: single fit: nothing kept).
    derived: dict | None = None
    #: The samples each row stands for (``fastlinear._merge.merged``), or
    #: None: one each.
    counts: np.ndarray | None = None
    #: Merged data: the row of each sample of the data it was merged from.
    row_of: np.ndarray | None = None


class RegressionData(NamedTuple):
    """What a regressor's ``fit`` works on after validation."""

    X: CSR
    y: np.ndarray  # float64, finite
    sample_weight: np.ndarray


# ------------------------------------------------------------------ sparse


def _one_dimensional(caller, **arrays):
    """Refuse sparse component arrays that are not 1-D (scipy does not check
    assignments such as ``X.indices = X.indices.reshape(-1, 1)``)."""
    for name, a in arrays.items():
        if np.ndim(a) != 1:
            raise ValueError(
                f"{caller}: the sparse matrix's {name} array has shape {np.shape(a)}; "
                f"it must be one-dimensional. Rebuild the matrix with "
                "scipy.sparse.csr_matrix((data, indices, indptr), shape=...)."
            )


def _index_arrays(indices, indptr, caller):
    """Contiguous index arrays of one width (int32 or int64), never the
    caller's arrays modified.  Other integer dtypes are widened to int64."""
    for name, a in (("indices", indices), ("indptr", indptr)):
        if a.dtype.kind not in "iu":
            raise TypeError(
                f"{caller}: sparse {name} must be integers, got dtype {a.dtype}."
            )
    if indices.dtype not in _INDEX_DTYPES or indptr.dtype not in _INDEX_DTYPES \
            or indices.dtype != indptr.dtype:
        wide = np.int64
        for a in (indices, indptr):
            if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
                raise ValueError(
                    f"{caller}: a sparse index exceeds the int64 range; the "
                    "matrix cannot be indexed."
                )
        if indices.dtype == np.int32 and indptr.dtype in _INDEX_DTYPES and (
            indptr.size == 0 or np.abs(indptr).max() <= np.iinfo(np.int32).max
        ):
            wide = np.int32
        indices = indices.astype(wide)
        indptr = indptr.astype(wide)
    return np.ascontiguousarray(indices), np.ascontiguousarray(indptr)


def _check_bsr_structure(X, caller):
    """A BSR matrix's blocks: values of shape (n_blocks, R, C), the block
    rows and block columns proved as a CSR structure's (scipy converts
    BSR to CSR by reading them blindly)."""
    _one_dimensional(caller, indices=X.indices, indptr=X.indptr)
    R, C = X.blocksize
    n_rows, n_cols = X.shape
    if (np.ndim(X.data) != 3 or X.data.shape[1:] != (R, C)
            or X.data.shape[0] != np.shape(X.indices)[0] or n_rows % R or n_cols % C):
        raise ValueError(
            f"{caller}: the BSR matrix has values of shape {np.shape(X.data)} for "
            f"{np.shape(X.indices)[0]} blocks of {R} x {C} in a {n_rows} x {n_cols} matrix; "
            "they must be of shape (n_blocks, R, C) and the blocks must tile the matrix. "
            "Rebuild it, or pass X.tocsr().")
    try:
        _scan_structure(X.indices, X.indptr, np.shape(X.indices)[0], n_rows // R, n_cols // C,
                        caller)
    except ValueError as error:
        raise ValueError(
            f"{error} (In units of blocks: the BSR matrix of {R} x {C} blocks read as "
            f"{n_rows // R} block rows of {n_cols // C} block columns.)") from None


def _scan_structure(indices, indptr, n_values, major, minor, caller, kind="row"):
    """Prove a compressed structure readable (indptr monotone and ending at
    the number of values, indices inside ``minor``) without reading values:
    ``raise_for``'s ``ValueError`` otherwise.  Unsorted and duplicate
    indices are legal here."""
    indices, indptr = _index_arrays(indices, indptr, caller)
    stand_in = np.zeros(n_values)  # of the values' length, never read
    code, row, _, _ = scan(stand_in, indices, indptr, major, minor, check_values=False)
    if code < 0:
        raise_for(code, row, stand_in, indices, indptr, major, minor, caller=caller, kind=kind)


def check_sparse_structure(X, *, caller="fit"):
    """Prove that scipy can read a sparse matrix of any format (rule 1).

    Runs before ``validate_data`` (which would let scipy convert the matrix
    to CSR, reading it blindly).  A float CSR matrix passes through
    ``validate_data`` untouched and is scanned once, by :func:`proved_csr`.
    Raises ``ValueError`` naming the first bad row or column; returns nothing.
    """
    n_rows, n_cols = X.shape
    fmt = X.format
    if fmt in ("csr", "csc"):
        _one_dimensional(caller, data=X.data, indices=X.indices, indptr=X.indptr)
    elif fmt == "bsr":
        _check_bsr_structure(X, caller)
    elif fmt == "coo":
        _one_dimensional(caller, data=X.data, row=X.row, col=X.col)
    if fmt == "csr" and X.data.dtype in (np.float32, np.float64):
        return  # passed through untouched; proved_csr scans it, once
    if fmt in ("csr", "csc"):
        major, minor = (n_rows, n_cols) if fmt == "csr" else (n_cols, n_rows)
        _scan_structure(X.indices, X.indptr, X.data.shape[0], major, minor, caller,
                        kind="row" if fmt == "csr" else "column")
    elif fmt == "coo":
        row, col = np.asarray(X.row), np.asarray(X.col)
        if not (row.shape == col.shape == X.data.shape):
            raise ValueError(
                f"{caller}: the COO matrix has {row.shape[0]} row indices, "
                f"{col.shape[0]} column indices and {X.data.shape[0]} values; "
                "they must be equally many."
            )
        for name, idx, bound in (("row", row, n_rows), ("column", col, n_cols)):
            if idx.size and (idx.min() < 0 or idx.max() >= bound):
                bad = idx[(idx < 0) | (idx >= bound)][0]
                raise ValueError(
                    f"{caller}: the COO matrix has {name} index {bad}, outside "
                    f"[0, {bound}). Pass the right shape= when building it."
                )
    elif fmt == "lil":
        _check_lil(X, caller)
    else:
        try:
            X.check_format(full_check=True)
        except AttributeError:
            pass  # dok: a dict whose keys scipy checks on every assignment
        except (ValueError, IndexError) as error:
            raise ValueError(f"{caller}: malformed {fmt} matrix: {error}") from None


def _check_lil(X, caller):
    """A LIL matrix's row lists are plain Python lists anyone can assign:
    each row needs as many values as column indices, sorted and in range
    (scipy's ``tocsr`` trusts them and writes past its buffers otherwise)."""
    n_rows, n_cols = X.shape
    if len(X.rows) != n_rows or len(X.data) != n_rows:
        raise ValueError(
            f"{caller}: the LIL matrix has {len(X.rows)} index lists and {len(X.data)} "
            f"value lists for {n_rows} rows. Rebuild it through scipy's API "
            "(X[i, j] = v) or pass a CSR matrix."
        )
    for i, (cols, vals) in enumerate(zip(X.rows, X.data, strict=True)):
        if len(cols) != len(vals):
            raise ValueError(
                f"{caller}: row {i} of the LIL matrix has {len(cols)} column indices but "
                f"{len(vals)} values. Rebuild it through scipy's API (X[i, j] = v) or "
                "pass a CSR matrix."
            )
        if cols and (min(cols) < 0 or max(cols) >= n_cols
                     or any(a >= b for a, b in zip(cols, cols[1:], strict=False))):
            raise ValueError(
                f"{caller}: row {i} of the LIL matrix has column indices {list(cols)[:10]} "
                f"that are not sorted, unique and inside [0, {n_cols}). Rebuild it "
                "through scipy's API (X[i, j] = v) or pass a CSR matrix."
            )


def proved_csr(X, *, caller="fit"):
    """The :class:`~fastlinear._csr_fast.CSR` proof of a validated CSR matrix.

    The caller's arrays are used as they are (no copy) when they are
    canonical; a row with unsorted or duplicate indices makes a private
    canonical copy (duplicates summed, scipy's meaning).
    """
    if not sp.issparse(X) or X.format != "csr":
        raise TypeError(f"{caller}: expected a CSR matrix, got {type(X).__name__}.")
    indices, indptr = _index_arrays(X.indices, X.indptr, caller)
    return checked_csr(np.ascontiguousarray(X.data), indices, indptr, X.shape,
                       caller=caller, sum_duplicates=True)


def transposed(data, *, caller="fit"):
    """The CSR proof of ``data.X`` transposed (for the solvers that read
    columns), made once per ``data`` when it keeps ``derived`` values."""
    cache = data.derived
    if cache is not None and "XT" in cache:
        return cache["XT"]
    XT = transpose(data.X, caller=caller)
    if cache is not None:
        cache["XT"] = XT
    return XT


# ---------------------------------------------------------------------- X


def check_X(estimator, X, *, reset=True, caller="fit", y=None, y_numeric=False):
    """Validate X (and y) at the edge of ``fit``; return the CSR proof.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives ``n_features_in_`` (and ``feature_names_in_``) when ``reset``.
    X : {array-like, sparse matrix}
    reset : bool
    caller : str
    y : array-like, default=None
        Validated with X (consistent length) when given.
    y_numeric : bool
        Whether y must be numeric (regression).

    Returns
    -------
    X : CSR
    y : ndarray or None
    """
    if sp.issparse(X):
        check_sparse_structure(X, caller=caller)
    kw = dict(accept_sparse="csr", dtype=_FLOAT_DTYPES, order="C",
              accept_large_sparse=True, reset=reset)
    if y is None:
        X = validate_data(estimator, X, **kw)
    else:
        X, y = validate_data(estimator, X, y, y_numeric=y_numeric, **kw)
    if not sp.issparse(X):
        X = sp.csr_matrix(X)
    return proved_csr(X, caller=caller), y


def check_X_predict(estimator, X, *, caller="predict"):
    """Validate X for a fitted estimator's prediction; return a scipy CSR or ndarray.

    Sparse input has its structure proved first, so scipy's product never
    reads a malformed matrix.  Only the structure: a product needs no
    squared row norms, so values above ~1e154 predict as dense ones do
    (``validate_data`` has refused NaN and infinity).
    """
    if sp.issparse(X):
        check_sparse_structure(X, caller=caller)
    X = validate_data(estimator, X, accept_sparse="csr", reset=False,
                      dtype=_FLOAT_DTYPES, accept_large_sparse=True)
    if sp.issparse(X):
        _scan_structure(X.indices, X.indptr, np.shape(X.data)[0], X.shape[0], X.shape[1],
                        caller)
    return X


# ------------------------------------------------------------------ labels


def check_labels_finite(y, *, name="y"):
    """Reject NaN/inf and missing (None) labels with a clear message.

    ``name`` is the argument named in the message (``"y"``, ``"classes"``).
    """
    if y is None or sp.issparse(y):
        return  # validate_data says what it expects
    y = np.asarray(y)
    what = "every sample needs" if name == "y" else f"every entry of {name} must be"
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(
            f"Input {name} contains NaN or infinity; {what} a finite class label."
        )
    if y.dtype.kind == "O":
        for value in y.ravel():
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                raise ValueError(
                    f"Input {name} contains {value!r}; {what} a class label."
                )


def encode_labels(y, *, min_classes=2, check_targets=False):
    """Classes and class indices of ``y`` (the encoding of every estimator).

    ``np.unique`` + ``searchsorted``: the encoding of ``LabelEncoder``
    without its argsort of all labels.  With ``check_targets``,
    scikit-learn's ``check_classification_targets`` runs first, before the
    count of classes is checked: on the classes when ``y`` holds numbers in
    one dimension (its verdict then depends on the set of values only, and
    that set is the ``np.unique`` the encoding needs anyway), on ``y``
    otherwise.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    y_ind : ndarray of shape (n_samples,), dtype intp
    """
    y = np.asarray(y)
    by_values = check_targets and y.ndim == 1 and y.dtype.kind in "biuf"
    if check_targets and not by_values:
        check_classification_targets(y)
    classes = np.unique(y)
    if by_values:
        check_classification_targets(classes)
    if classes.shape[0] < min_classes:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but "
            f"the data contains only one class: {np.asarray(classes[0]).item()!r}. Pass data with "
            "samples of each class you want to separate."
            if classes.shape[0] else "y is empty; pass at least one label per sample."
        )
    return classes, np.searchsorted(classes, y)


def encode_known(classes, y, *, what="y", message=None):
    """Class indices of ``y`` for a fitted model; ValueError for unseen labels.

    ``message`` (a format string with ``{labels}`` and ``{classes}``)
    replaces the default wording of that error.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {y.shape}.")
    check_labels_finite(y)
    try:
        y_ind = np.searchsorted(classes, y)
        bad = (y_ind >= classes.shape[0]) | (
            classes[np.minimum(y_ind, classes.shape[0] - 1)] != y
        )
    except TypeError:  # labels of another type than the classes
        bad = np.ones(y.shape[0], dtype=bool)
        y_ind = None
    if np.any(bad):
        unseen = np.unique(y[bad].astype(str) if y.dtype.kind == "O" else y[bad])
        if message is None:
            message = (f"{what} has labels the estimator was not fitted on: "
                       "{labels}; its classes are {classes}.")
        raise ValueError(message.format(labels=unseen[:10].tolist(),
                                        classes=classes.tolist()))
    return y_ind


def integer_labels(values, *, what="label"):
    """``values`` as int64 when every one is an integer that LIBLINEAR can hold.

    LIBLINEAR's files store integer class labels, which its ``train`` and
    ``predict`` keep in a C ``int`` (32 bits): a larger label is written and
    read back as another number.  Used by the CLI and the model files.
    """
    values = np.asarray(values)
    low, high = LABEL_MIN, LABEL_MAX
    where = f"LIBLINEAR's label range (a C int: {low} to {high}); relabel the classes"
    if values.dtype.kind in "iu":
        outside = (values > high) | (values < low)
        if outside.any():
            raise ValueError(f"{what} {values[outside][0]} is beyond {where}.")
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not np.all(finite):
            raise ValueError(f"{what} {values[~finite][0]} is not a finite number.")
        outside = (values > high) | (values < low)
        if outside.any():
            raise ValueError(f"{what} {values[outside][0]:g} is beyond {where}.")
        if not np.all(values == np.round(values)):
            bad = values[values != np.round(values)][0]
            raise ValueError(
                f"{what} {bad:g} is not an integer; LIBLINEAR files store integer "
                "class labels, so relabel the classes as integers."
            )
        return values.astype(np.int64)
    raise ValueError(
        f"LIBLINEAR files store integer class labels; got {list(values[:5])} "
        f"(dtype {values.dtype}). Encode the labels as integers first (e.g. "
        "with sklearn.preprocessing.LabelEncoder)."
    )


# ----------------------------------------------------------------- weights


def check_sample_weight(sample_weight, n_samples):
    """Validate ``sample_weight``: shape (n_samples,), finite, >= 0, not all 0.

    Returns a new float64 array (never the caller's); ones for None.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    try:
        sw = np.array(sample_weight, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(
            "sample_weight must be an array of numbers, one per sample."
        ) from None
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected ({n_samples},): one "
            "weight per sample."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError(
            "sample_weight contains NaN or infinity; pass finite weights "
            "(0 leaves a sample out)."
        )
    if np.any(sw < 0):
        raise ValueError("sample_weight has negative entries; weights must be >= 0.")
    if n_samples > 0 and not np.any(sw > 0):
        raise ValueError(
            "Every sample_weight is zero, so no sample would be used; give at "
            "least one sample a positive weight."
        )
    return sw


def check_class_weight(class_weight, classes, weighted_counts):
    """Per-class weights, validated: scikit-learn's ``compute_class_weight``.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
    classes : ndarray of shape (n_classes,)
    weighted_counts : ndarray of shape (n_classes,)
        Sum of the sample weights of each class (``"balanced"`` uses them, as
        scikit-learn does when given sample weights).

    Returns
    -------
    weights : ndarray of shape (n_classes,), finite, >= 0, not all zero
    """
    n_classes = classes.shape[0]
    if class_weight is None or (isinstance(class_weight, dict) and not class_weight):
        return np.ones(n_classes)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be a dict, 'balanced' or None, got {class_weight!r}."
            )
        counts = np.asarray(weighted_counts, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = counts.sum() / (n_classes * counts)
        # A class whose samples all have weight 0 contributes nothing anyway.
        return np.where(counts > 0, weights, 1.0)
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"class_weight must be a dict, 'balanced' or None, got "
            f"{type(class_weight).__name__}."
        )
    weights = np.ones(n_classes)
    known = {c: k for k, c in enumerate(classes.tolist())}
    unknown = [label for label in class_weight if label not in known]
    unweighted = [c for c in known if c not in class_weight]
    if unknown and unweighted:
        # scikit-learn's rule: labels beyond y's classes are ignored when every
        # class of y has its weight (a cross-validation fold that lacks a class).
        raise ValueError(
            f"class_weight has labels that are not classes of y: {unknown}, and the "
            f"classes {unweighted} of y have no weight; give every class of y a weight "
            f"(the classes are {classes.tolist()})."
        )
    for label, value in class_weight.items():
        if label not in known:
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"class_weight[{label!r}] must be a number, got {value!r}."
            ) from None
        if not np.isfinite(value) or value < 0:
            raise ValueError(
                f"class_weight[{label!r}] = {value!r}; class weights must be "
                "finite and >= 0."
            )
        weights[known[label]] = value
    if not np.any(weights > 0):
        raise ValueError(
            "Every class weight is zero, so no sample would be used; give at "
            "least one class a positive weight."
        )
    return weights


# ------------------------------------------------------------- fit edges


def _require_y(estimator, y):
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )


def validate_classification_data(estimator, X, y, sample_weight=None, *,
                                 reset=True, caller="fit"):
    """The common edge of the classifiers' ``fit``.

    Returns
    -------
    ClassificationData
        The CSR proof of X, class indices, classes, and sample weights.
    """
    _require_y(estimator, y)
    check_labels_finite(y)
    X, y = check_X(estimator, X, y=y, reset=reset, caller=caller)
    classes, y_ind = encode_labels(y, check_targets=True)
    sample_weight = check_sample_weight(sample_weight, X.n_rows)
    return ClassificationData(X, y_ind, classes, sample_weight)


def check_objective_estimator(estimator, losses, *, caller, expected):
    """The fitted estimator of an objective function ``caller``, whose
    ``loss`` must be one of ``losses``: a TypeError naming what ``caller``
    takes (``expected``) and the package's other objectives otherwise."""
    check_is_fitted(estimator)
    loss = getattr(estimator, "loss", None)
    if loss not in losses:
        has = f" with loss={loss!r}" if loss is not None else ""
        raise TypeError(
            f"{caller} expects a fitted {expected} (fastlinear's or scikit-learn's), got "
            f"{type(estimator).__name__}{has}; the objectives are linear_svc_objective "
            "(LinearSVC), linear_svr_objective (LinearSVR) and logistic_objective "
            "(LogisticRegression)")


def validate_evaluation_data(estimator, X, y, sample_weight=None, *, caller):
    """X, labels and weights to evaluate a fitted classifier's objective on.

    Returns
    -------
    X : CSR
    y_ind : ndarray of class indices into ``estimator.classes_``
    sample_weight : ndarray
    """
    X, _ = check_X(estimator, X, reset=False, caller=caller)
    y_ind = encode_known(estimator.classes_, y)
    if y_ind.shape[0] != X.n_rows:
        raise ValueError(
            f"{caller}: X has {X.n_rows} samples but y has {y_ind.shape[0]}; pass "
            "one label per sample."
        )
    return X, y_ind, check_sample_weight(sample_weight, X.n_rows)


def validate_regression_data(estimator, X, y, sample_weight=None, *,
                             reset=True, caller="fit"):
    """The edge of a regressor's ``fit``: numeric, finite, 1-D targets."""
    _require_y(estimator, y)
    y_arr = np.asarray(y) if y is not None and not sp.issparse(y) else y
    if getattr(y_arr, "dtype", None) is not None and y_arr.dtype.kind == "O":
        if any(v is None for v in np.ravel(y_arr)):
            raise ValueError("Input y contains None; every sample needs a target value.")
    X, y = check_X(estimator, X, y=y, reset=reset, caller=caller, y_numeric=True)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per sample), got shape {y.shape}.")
    if type_of_target(y) not in ("continuous", "binary", "multiclass"):
        raise ValueError(f"y must hold numbers, got target type {type_of_target(y)!r}.")
    sample_weight = check_sample_weight(sample_weight, X.n_rows)
    return RegressionData(X, y, sample_weight)


def check_intercept_scaling(X, bias, *, caller):
    """Refuse an ``intercept_scaling`` whose square overflows the row norms.

    The intercept is a constant feature of value ``bias`` appended to every
    row, so each solver reads ``||x_i||^2 + bias^2``.  ``X`` is a proved
    :class:`CSR` (its own squared row norms are already known finite).
    """
    bias = float(bias)
    bias_sq = bias * bias
    if np.isfinite(bias_sq) and np.isfinite(X.max_row_sq + bias_sq):
        return
    if not np.isfinite(bias_sq):
        why = (f"intercept_scaling**2 = ({bias:g})**2 overflows float64 (the largest "
               "float is about 1.8e308)")
    else:
        why = (f"intercept_scaling**2 ({bias_sq:.3g}) plus X's largest squared row norm "
               f"({X.max_row_sq:.3g}) overflows float64")
    raise ValueError(
        f"{caller}: intercept_scaling={bias!r} is too large: the intercept is a constant "
        f"feature of that value appended to every row, and {why}. Use a smaller "
        "intercept_scaling (of the order of the feature values, e.g. 1 to 1e3)."
    )


class NonFinitePredictionWarning(RuntimeWarning):
    """Predictions on finite input came out as ``inf`` or NaN (overflow)."""


def warn_if_not_finite(out, *, caller, stacklevel=3):
    """Warn when a prediction ``out`` holds ``inf`` or NaN; one ``isfinite`` pass.

    The input was checked finite, so a non-finite output means the products
    with the model overflowed float64: rows far larger than the training data.
    """
    finite = np.isfinite(out)
    if finite.all():
        return
    bad_rows = finite.reshape(finite.shape[0], -1) if finite.ndim else finite.reshape(1, 1)
    n_bad = int(np.count_nonzero(~bad_rows.all(axis=1)))
    warnings.warn(
        f"{caller} produced non-finite values for {n_bad} of {bad_rows.shape[0]} rows: the "
        "products with the fitted model overflowed float64 (feature values near 1e308, or "
        "far larger than in training). Scale X as the training data were scaled.",
        NonFinitePredictionWarning,
        stacklevel=stacklevel,
    )
