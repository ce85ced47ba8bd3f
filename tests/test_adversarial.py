"""Adversarial input: a clear error or the canonical result, never a crash, a hang or a mutation.

The robustness promise, tested from the outside: bad input gets a
``ValueError`` or ``TypeError`` whose message says what was expected, what
came and how to fix it; legal but unusual input (unsorted or duplicate
indices, other index widths, read-only or strided arrays, CSC, COO) gives
the result of its canonical CSR form; the caller's arrays are never modified.

1. Property tests over hand-built sparse matrices, one per estimator family
   (hypothesis, a fixed seed each).  A broken structure (indices outside the
   matrix, a bad ``indptr``, arrays of the wrong length) is what could crash
   a kernel, so those examples run in two child processes started with the
   first test of this module: a crash or a hang fails the test of the family
   that was running instead of killing pytest.  Bad values and legal
   variants run here.
2. Known hard cases (bad class weights and parameters, NaN labels, objects
   in y, folds with one class, ...), one small test each.
3. The command line: one-line errors with exit code 2, no partial files.
"""
import bz2
import errno
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import tracemalloc
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from fastlinear import (
    KernelRidge,
    LinearSVC,
    LinearSVCCV,
    LinearSVR,
    LogisticRegression,
    LogisticRegressionCV,
    cli,
    linear_svc_objective,
    linear_svr_objective,
    logistic_objective,
)
from fastlinear.datasets import load_libsvm

# Each property has its own fixed seed (see ``seeded_property``): the same
# examples on every run, in CI as on a laptop, different ones per family; no
# example database written into the checkout.
PROPERTY = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
#: Examples per (family, kind of broken structure) in the child processes.
CHILD_EXAMPLES_PER_KIND = 6
#: A child that prints nothing for this long is hung.  It prints a line per
#: kind of broken structure (six examples, well under a second each), so the
#: bound is on one kind's progress, not on the whole run: a machine whose
#: cores are busy makes the run slower, never a hang.
CHILD_STALL = 300
#: Address-space cap of every child (Linux): a runaway allocation becomes a
#: MemoryError there instead of the OOM killer's business on a shared machine.
CHILD_MEMORY = 4 * 2**30


def quiet(call, *args, **kwargs):
    """``call(*args, **kwargs)`` with warnings (convergence, ill-conditioning) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


# --------------------------------------------------------------------------
# Problems and matrices


@dataclass
class Problem:
    """A small problem; ``X`` is canonical (sorted, no duplicates, int32, float64)."""

    X: sp.csr_matrix
    y: np.ndarray  # class labels, balanced (two folds stay two-class)
    y_reg: np.ndarray  # real targets
    key: tuple = field(default=())


@st.composite
def problems(draw):
    """Values are multiples of 0.5, so duplicates summed in any order are exact."""
    n = draw(st.integers(8, 20))
    d = draw(st.integers(1, 6))
    n_classes = draw(st.sampled_from([2, 3]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    values = rng.randint(1, 5, size=(n, d)) * rng.choice([-0.5, 0.5], size=(n, d))
    dense = np.where(rng.rand(n, d) < 0.6, values, 0.0)
    dense[0, 0] = 1.5  # at least one stored value to break
    y_reg = dense @ rng.randn(d) + 0.1 * rng.randn(n)
    return Problem(sp.csr_matrix(dense), np.arange(n) % n_classes, y_reg, (n, d, n_classes, seed))


def _layer_entries(rng, data, indices, indptr, n_minor):
    """Compressed arrays with the meaning of canonical ones, drawn from their legal
    variants: entries of a row in any order, values split into duplicates
    (``v/2 + v/2`` or ``v + 0``), explicit zeros."""
    shuffle, split, zeros = rng.rand(3) < 0.5
    new_data, new_indices, lengths = [], [], []
    for i in range(indptr.shape[0] - 1):
        idx = list(indices[indptr[i]:indptr[i + 1]])
        val = list(data[indptr[i]:indptr[i + 1]])
        if split:
            for k in range(len(idx)):
                if rng.rand() < 0.5:
                    first = val[k] / 2 if rng.rand() < 0.5 else (val[k] if rng.rand() < 0.5 else 0.0)
                    idx.append(idx[k])
                    val.append(val[k] - first)
                    val[k] = first
        if zeros and rng.rand() < 0.4:
            idx.append(rng.randint(n_minor))
            val.append(0.0)
        order = rng.permutation(len(idx)) if shuffle else np.argsort(idx, kind="stable")
        new_indices.extend(np.asarray(idx, dtype=np.int64)[order])
        new_data.extend(np.asarray(val, dtype=np.float64)[order])
        lengths.append(len(idx))
    return (np.asarray(new_data, dtype=np.float64), np.asarray(new_indices, dtype=np.int64),
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


# Choices and their weights.  The common cases weigh more: a native, writable
# CSR is the one a fit could modify in place.
INDEX_DTYPES = {"int32": 4, "int64": 3, "int16": 1, "uint32": 1, ">i4": 1, "int32/int64": 1}
DATA_DTYPES = {"float64": 6, "float32": 2, ">f8": 2}
LAYOUTS = {"contiguous": 6, "strided": 2, "read-only": 2}


def _choice(rng, weights):
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    return names[rng.choice(len(names), p=p / p.sum())]


def _index_dtypes(name):
    """(indices dtype, indptr dtype) of an INDEX_DTYPES entry."""
    if name == "int32/int64":
        return np.dtype(np.int32), np.dtype(np.int64)
    return np.dtype(name), np.dtype(name)


def _layout(rng, arrays):
    """The same arrays, contiguous, strided views or read-only."""
    how = _choice(rng, LAYOUTS)
    out = []
    for a in arrays:
        if how == "strided":
            buffer = np.zeros(2 * a.shape[0] + 1, dtype=a.dtype)
            buffer[: 2 * a.shape[0]: 2] = a
            a = buffer[: 2 * a.shape[0]: 2]
        elif how == "read-only":
            a = a.copy()
            a.setflags(write=False)
        out.append(a)
    return out


def _assemble(fmt, data, indices, indptr, shape, array_api):
    """A scipy matrix holding exactly these arrays: attribute assignment, which
    scipy does not check (its constructor would check or convert them)."""
    cls = {("csr", False): sp.csr_matrix, ("csr", True): sp.csr_array,
           ("csc", False): sp.csc_matrix, ("csc", True): sp.csc_array}[fmt, array_api]
    M = cls(shape, dtype=np.float64)
    M.data, M.indices, M.indptr = data, indices, indptr
    return M


def _assemble_coo(row, col, data, shape, array_api):
    M = (sp.coo_array if array_api else sp.coo_matrix)(shape, dtype=np.float64)
    M.coords = (row, col)
    M.data = data
    return M


def snapshot(M):
    """Everything of a matrix or array the caller could see change."""
    if isinstance(M, np.ndarray):
        arrays = [M]
    elif M.format == "coo":
        arrays = [*M.coords, M.data]
    else:
        arrays = [M.data, M.indices, M.indptr]
    return [(a.dtype.str, a.shape, a.flags.writeable, a.tobytes()) for a in arrays] + [M.shape]


# Broken structure: each kind with the message fragment that must explain it.
# ``{major}``/``{minor}``/``{n_minor}`` are row/column/n_features for CSR,
# column/row/n_samples for CSC.
_END = r"indptr\[-1\] is -?\d+ but the matrix stores \d+ indices and \d+ values; they must all be equal"
COMPRESSED_KINDS = {
    "index_high": r"{major} \d+ has {minor} index \d+, outside \[0, {n_minor}=\d+\)\. Pass the right shape=",
    "index_negative": r"{major} \d+ has {minor} index -\d+, outside \[0, {n_minor}=\d+\)",
    "indptr_decreasing": r"indptr decreases or jumps past the end at {major} \d+; it must be non-decreasing",
    "indptr_start": r"indptr\[0\] is -?\d+, expected 0\. The matrix was probably built or modified by hand",
    "indptr_end": _END,
    "indptr_length": r"indptr has \d+ entries, expected n_(samples|features) \+ 1 = \d+",
    "data_short": _END,
    "data_long": _END,
    "indices_short": _END,
    "indices_long": _END,
    "index_float": r"sparse indices must be integers, got dtype float64",
    "index_beyond_int64": r"a sparse index exceeds the int64 range",
}
COO_KINDS = {
    "coo_row_high": r"the COO matrix has row index \d+, outside \[0, \d+\)\. Pass the right shape=",
    "coo_row_negative": r"the COO matrix has row index -\d+, outside \[0, \d+\)",
    "coo_col_high": r"the COO matrix has column index \d+, outside \[0, \d+\)",
    "coo_col_negative": r"the COO matrix has column index -\d+, outside \[0, \d+\)",
    "coo_lengths": r"the COO matrix has \d+ row indices, \d+ column indices and \d+ values; they must be equally many",
}
STRUCTURE_KINDS = [*COMPRESSED_KINDS, *COO_KINDS]
# Bad values in a legal structure: (fragment, whether fastlinear's own message).
VALUE_KINDS = {
    "nan": (r"Input X contains NaN", False),
    "inf": (r"Input X contains infinity", False),
    "-inf": (r"Input X contains infinity", False),
    "huge": (r"row \d+ overflows float64 .* Rescale X", True),
}
_SIGNED_ONLY = {"index_negative", "indptr_decreasing", "indptr_start", "coo_row_negative", "coo_col_negative"}


def _break_compressed(draw, kind, data, indices, indptr, n_minor):
    """Apply one kind of broken structure to compressed arrays (copies)."""
    data, indices, indptr = data.copy(), indices.copy(), indptr.copy()
    nnz, n_major = indices.shape[0], indptr.shape[0] - 1
    if kind in _SIGNED_ONLY and indices.dtype.kind == "u":
        indices, indptr = indices.astype(np.int64), indptr.astype(np.int64)
    if kind in ("index_high", "index_negative", "index_beyond_int64"):
        k = draw(st.integers(0, nnz - 1))
        if kind == "index_high":
            indices[k] = draw(st.sampled_from([n_minor, n_minor + 1, n_minor + 1000,
                                               np.iinfo(indices.dtype).max]))
        elif kind == "index_negative":
            indices[k] = draw(st.sampled_from([-1, -2, -n_minor - 1, np.iinfo(indices.dtype).min]))
        else:
            indices = indices.astype(np.uint64)
            indices[k] = np.uint64(2**63) + np.uint64(draw(st.integers(0, 1000)))
    elif kind == "indptr_decreasing":
        assume(n_major >= 2)
        i = draw(st.integers(1, n_major - 1))
        if draw(st.booleans()):
            indptr[i] = indptr[i + 1] + 1 + draw(st.integers(0, 3))
        else:
            indptr[i] = -1 - draw(st.integers(0, 3))
    elif kind == "indptr_start":
        shift = draw(st.integers(-3, 5).filter(bool))
        if draw(st.booleans()) and shift > 0:
            indptr = indptr + indptr.dtype.type(shift)
        else:
            indptr[0] = shift
    elif kind == "indptr_end":
        indptr[-1] = nnz + draw(st.integers(-nnz, 5).filter(bool))
    elif kind == "indptr_length":
        if draw(st.booleans()):
            indptr = indptr[: indptr.shape[0] - draw(st.integers(1, indptr.shape[0]))]
        else:
            indptr = np.concatenate([indptr, np.full(draw(st.integers(1, 3)), nnz, dtype=indptr.dtype)])
    elif kind == "data_short":
        data = data[: nnz - draw(st.integers(1, nnz))]
    elif kind == "data_long":
        data = np.concatenate([data, np.ones(draw(st.integers(1, 3)), dtype=data.dtype)])
    elif kind == "indices_short":
        indices = indices[: nnz - draw(st.integers(1, nnz))]
    elif kind == "indices_long":
        indices = np.concatenate([indices, np.zeros(draw(st.integers(1, 3)), dtype=indices.dtype)])
    elif kind == "index_float":
        indices = indices.astype(np.float64)
    return data, indices, indptr


def _break_coo(draw, kind, row, col, data, shape):
    row, col, data = row.copy(), col.copy(), data.copy()
    k = draw(st.integers(0, data.shape[0] - 1))
    if kind == "coo_row_high":
        row[k] = shape[0] + draw(st.integers(0, 100))
    elif kind == "coo_row_negative":
        row[k] = -1 - draw(st.integers(0, 100))
    elif kind == "coo_col_high":
        col[k] = shape[1] + draw(st.integers(0, 100))
    elif kind == "coo_col_negative":
        col[k] = -1 - draw(st.integers(0, 100))
    elif kind == "coo_lengths":
        which = draw(st.sampled_from(["row", "col", "data"]))
        if which == "row":
            row = row[:-1]
        elif which == "col":
            col = np.concatenate([col, [0]]).astype(col.dtype)
        else:
            data = data[:-1]
    return row, col, data


def draw_matrix(draw, problem, kind):
    """``(M, expected, canonical)``: a matrix of ``kind`` drawn around
    ``problem.X``; ``expected`` is None for a legal matrix, else
    ``(pattern, fastlinear's own message)``; ``canonical`` the canonical CSR
    of a legal one (of its dtype)."""
    X = problem.X
    # The variant (format, duplicates, dtypes, layout, flags) comes from one
    # drawn seed: hypothesis's own draws would cluster on a few combinations.
    # The damage itself is drawn by hypothesis, which likes its boundaries.
    rng = np.random.RandomState(draw(st.integers(0, 2**32 - 1), label="variant seed"))
    formats = ["csr", "csr", "csc"] if kind in COMPRESSED_KINDS else ["csr", "csr", "csc", "coo"]
    fmt = "coo" if kind in COO_KINDS else rng.choice(formats)
    base = X if fmt != "csc" else X.tocsc()
    n_minor = X.shape[1] if fmt != "csc" else X.shape[0]
    data, indices, indptr = _layer_entries(rng, base.data, base.indices, base.indptr, n_minor)
    index_dtype, indptr_dtype = _index_dtypes(_choice(rng, INDEX_DTYPES))
    data_dtype = np.dtype(_choice(rng, DATA_DTYPES if kind not in VALUE_KINDS else {"float64": 4, ">f8": 1}))
    data, indices, indptr = data.astype(data_dtype), indices.astype(index_dtype), indptr.astype(indptr_dtype)
    expected = None
    if kind in VALUE_KINDS:
        k = draw(st.integers(0, data.shape[0] - 1))
        if kind == "huge":  # its square overflows: above sqrt(1.8e308) ~ 1.3e154
            data[k] = draw(st.sampled_from([-1.0, 1.0])) * 10.0 ** draw(st.floats(155, 308))
        else:
            data[k] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
        expected = VALUE_KINDS[kind]
    array_api = rng.rand() < 0.5
    if fmt == "coo":
        coo_dtype = np.dtype(rng.choice(["int32", "int64"]))
        row = np.repeat(np.arange(X.shape[0]), np.diff(indptr)).astype(coo_dtype)
        col = indices.astype(coo_dtype)
        order = rng.permutation(data.shape[0])
        row, col, data = row[order], col[order], data[order]
        if kind in COO_KINDS:
            row, col, data = _break_coo(draw, kind, row, col, data, X.shape)
            expected = (COO_KINDS[kind], True)
        row, col, data = _layout(rng, [row, col, data])
        M = _assemble_coo(row, col, data, X.shape, array_api)
    else:
        if kind in COMPRESSED_KINDS:
            data, indices, indptr = _break_compressed(draw, kind, data, indices, indptr, n_minor)
            names = (dict(major="row", minor="column", n_minor="n_features") if fmt == "csr"
                     else dict(major="column", minor="row", n_minor="n_samples"))
            expected = (COMPRESSED_KINDS[kind].format(**names), True)
        data, indices, indptr = _layout(rng, [data, indices, indptr])
        M = _assemble(fmt, data, indices, indptr, X.shape, array_api)
        if expected is None and rng.rand() < 0.25:
            # Flags that lie about a non-canonical matrix: nothing may trust them.
            M.has_sorted_indices = True
            M.has_canonical_format = True
    native = np.float32 if data_dtype == np.float32 else np.float64
    return M, expected, X.astype(native)


# --------------------------------------------------------------------------
# Estimator families: what is fitted, what is called, who the messages name


def _svc(**params):
    return lambda: LinearSVC(random_state=0, max_iter=200, **params)


def _classifier_ops(name, *extra):
    caller = f"{name}.decision_function"
    ops = {
        "predict": (caller, lambda est, X, p: est.predict(X)),
        "decision_function": (caller, lambda est, X, p: est.decision_function(X)),
        "score": (caller, lambda est, X, p: est.score(X, p.y)),
    }
    for op in extra:
        ops[op] = (caller, lambda est, X, p, op=op: getattr(est, op)(X))
    return ops


@dataclass
class Family:
    """``prepare(problem)`` fits on the canonical matrix; ``fit_ops`` fit fresh
    estimators on the matrix under test and return the fitted arrays;
    ``ops`` call the prepared model.  Each op has the caller its messages name."""

    prepare: callable
    fit_ops: dict
    ops: dict


def _classifier_family(make, name):
    return Family(
        prepare=lambda p: quiet(make().fit, p.X, p.y),
        fit_ops={"fit": (f"{name}.fit", lambda X, p: [
            (est := quiet(make().fit, X, p.y)).coef_, est.intercept_])},
        ops=_classifier_ops(name),
    )


def _logistic():
    return LogisticRegression(random_state=0, max_iter=5)


def _objective_models(p):
    return {
        "svc": quiet(_svc(dual=True)().fit, p.X, p.y),
        "svc_cs": quiet(_svc(multi_class="crammer_singer")().fit, p.X, p.y),
        "svc_l1": quiet(_svc(penalty="l1", dual=False)().fit, p.X, p.y),
        "svr": quiet(LinearSVR(random_state=0, max_iter=200).fit, p.X, p.y_reg),
        "logistic": quiet(_logistic().fit, p.X, p.y),
    }


FAMILIES = {
    "svc_dual": _classifier_family(_svc(dual=True), "LinearSVC"),
    "svc_primal": _classifier_family(_svc(dual=False), "LinearSVC"),
    "svc_l1": _classifier_family(_svc(penalty="l1", dual=False), "LinearSVC"),
    "svc_crammer_singer": _classifier_family(_svc(multi_class="crammer_singer"), "LinearSVC"),
    "svr": Family(
        prepare=lambda p: quiet(LinearSVR(random_state=0, max_iter=200).fit, p.X, p.y_reg),
        fit_ops={"fit": ("LinearSVR.fit", lambda X, p: [
            (est := quiet(LinearSVR(random_state=0, max_iter=200).fit, X, p.y_reg)).coef_, est.intercept_])},
        ops={"predict": ("LinearSVR.predict", lambda est, X, p: est.predict(X)),
             "score": ("LinearSVR.predict", lambda est, X, p: est.score(X, p.y_reg))},
    ),
    "logistic": Family(
        prepare=lambda p: quiet(_logistic().fit, p.X, p.y),
        fit_ops={
            "fit": ("LogisticRegression.fit", lambda X, p: [
                (est := quiet(_logistic().fit, X, p.y)).coef_, est.intercept_]),
            "partial_fit": ("LogisticRegression.partial_fit", lambda X, p: [
                (est := _logistic().partial_fit(X, p.y, classes=np.unique(p.y))).coef_, est.intercept_]),
        },
        ops={**_classifier_ops("LogisticRegression", "predict_proba", "predict_log_proba"),
             "objective": ("LogisticRegression.objective", lambda est, X, p: est.objective(X, p.y))},
    ),
    "kernel_ridge": Family(
        prepare=lambda p: KernelRidge(alpha=1.0).fit(p.X, p.y_reg),
        fit_ops={"fit": ("KernelRidge.fit", lambda X, p: [KernelRidge(alpha=1.0).fit(X, p.y_reg).dual_coef_])},
        ops={"predict": ("KernelRidge.predict", lambda est, X, p: est.predict(X)),
             "score": ("KernelRidge.predict", lambda est, X, p: est.score(X, p.y_reg))},
    ),
    "svc_cv": Family(
        prepare=lambda p: quiet(LinearSVCCV(Cs=[0.1, 1.0], cv=2, max_iter=200, random_state=0).fit, p.X, p.y),
        fit_ops={"fit": ("LinearSVCCV.fit", lambda X, p: [
            (est := quiet(LinearSVCCV(Cs=[0.1, 1.0], cv=2, max_iter=200, random_state=0).fit, X, p.y)).C_,
            est.coef_, est.intercept_, est.cv_results_["mean_test_score"]])},
        ops=_classifier_ops("LinearSVC"),
    ),
    "logistic_cv": Family(
        prepare=lambda p: quiet(LogisticRegressionCV(Cs=[0.1, 1.0], cv=2, max_iter=5, random_state=0).fit,
                                p.X, p.y),
        fit_ops={"fit": ("LogisticRegressionCV.fit", lambda X, p: [
            (est := quiet(LogisticRegressionCV(Cs=[0.1, 1.0], cv=2, max_iter=5, random_state=0).fit,
                          X, p.y)).C_, est.coef_, est.intercept_])},
        ops=_classifier_ops("LogisticRegressionCV", "predict_proba"),
    ),
    "objectives": Family(
        prepare=_objective_models,
        fit_ops={},
        ops={
            "linear_svc_objective": ("linear_svc_objective",
                                     lambda m, X, p: linear_svc_objective(m["svc"], X, p.y)),
            "linear_svc_objective[crammer_singer]": ("linear_svc_objective",
                                                     lambda m, X, p: linear_svc_objective(m["svc_cs"], X, p.y)),
            "linear_svc_objective[l1]": ("linear_svc_objective",
                                         lambda m, X, p: linear_svc_objective(m["svc_l1"], X, p.y)),
            "linear_svr_objective": ("linear_svr_objective",
                                     lambda m, X, p: linear_svr_objective(m["svr"], X, p.y_reg)),
            "logistic_objective": ("logistic_objective",
                                   lambda m, X, p: logistic_objective(m["logistic"], X, p.y)),
        },
    ),
}
_PREPARED = {}


def _prepared(name, family, problem):
    """The model fitted on the canonical matrix (cached: hypothesis replays examples)."""
    key = (name, problem.key)
    if key not in _PREPARED:
        if len(_PREPARED) > 64:
            _PREPARED.clear()
        _PREPARED[key] = family.prepare(problem)
    return _PREPARED[key]


def _attempt(call):
    try:
        return True, call()
    except (ValueError, TypeError) as error:  # any other exception type fails the property
        return False, error


def _assert_same_result(op, got, want, prepared, canonical):
    """Equal up to the rounding of a product summed in another order."""
    if op == "predict" and getattr(prepared, "classes_", None) is not None:
        got, want = np.asarray(got), np.asarray(want)
        differ = got != want
        if np.any(differ):
            # Only a sample on the decision boundary may flip.
            scores = np.asarray(prepared.decision_function(canonical))
            margin = np.abs(scores) if scores.ndim == 1 else np.abs(np.diff(np.sort(scores, axis=1)[:, -2:]))
            assert np.all(margin.ravel()[differ] < 1e-9), (op, got, want)
        return
    for a, b in zip(got, want, strict=True) if isinstance(got, list) else [(got, want)]:
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                   rtol=1e-9, atol=1e-9, err_msg=op)


# The linear models' predictions are products with X: no squared row norms.
PRODUCT_OPS = {"predict", "decision_function", "predict_proba", "predict_log_proba", "score"}
# Families whose predictions take squared row norms (the RBF kernel).
NORM_FAMILIES = {"kernel_ridge"}


def check_example(name, kind, draw):
    """The property, for one drawn example of ``kind`` and every call of family ``name``.

    Broken input: a ValueError/TypeError with the fragment that explains it
    (and the caller first, for fastlinear's own messages).  Legal input: the
    result on the canonical matrix.  Values whose squares overflow are
    refused by fit (the solvers need squared row norms) but legal for the
    products of prediction, as they are in a dense array.  Either way the
    input is left as it was.
    """
    family = FAMILIES[name]
    problem = draw(problems())
    M, expected, canonical = draw_matrix(draw, problem, kind)
    y_before, yr_before = problem.y.copy(), problem.y_reg.copy()
    prepared = _prepared(name, family, problem)
    calls = [(op, caller, lambda call=call: call(M, problem), lambda call=call: call(canonical, problem),
              expected) for op, (caller, call) in family.fit_ops.items()]
    # (the huge values' reference: the same call on the dense array)
    reference = np.asarray(M.toarray(), dtype=np.float64) if kind == "huge" else canonical
    calls += [(op, caller, lambda call=call: call(prepared, M, problem),
               lambda call=call: call(prepared, reference, problem),
               None if kind == "huge" and op in PRODUCT_OPS and name not in NORM_FAMILIES
               else expected)
              for op, (caller, call) in family.ops.items()]
    for op, caller, on_M, on_canonical, expected in calls:
        before = snapshot(M)
        ok, result = _attempt(on_M)
        assert snapshot(M) == before, f"{op} modified the caller's {kind} matrix"
        if expected is None:
            assert ok, f"{op} refused a legal matrix: {result}"
            _assert_same_result(op, result, on_canonical(), prepared, canonical)
            continue
        pattern, own = expected
        assert not ok, f"{op} accepted a broken matrix ({kind}) and returned {result!r}"
        message = str(result)
        assert re.search(pattern, message), f"{op} ({kind}): unclear message {message!r}"
        if own:
            assert message.startswith(f"{caller}: "), f"{op} ({kind}): message does not name {caller}: {message!r}"
    np.testing.assert_array_equal(problem.y, y_before)
    np.testing.assert_array_equal(problem.y_reg, yr_before)


# ------------------------------------------------------- 1a. legal variants and bad values


def seeded_property(name, kind, max_examples, counts=None):
    """The property of family ``name`` on matrices of ``kind``, as a hypothesis
    test with a seed of its own (``counts[kind]`` counts the examples run)."""

    @seed(zlib.crc32(f"{name}/{kind}".encode()))
    @settings(max_examples=max_examples, **PROPERTY)
    @given(data=st.data())
    def prop(data):
        check_example(name, kind, data.draw)
        if counts is not None:
            counts[kind] = counts.get(kind, 0) + 1

    return prop


@pytest.mark.parametrize("kind", ["legal", *VALUE_KINDS])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_legal_variants_and_bad_values(name, kind):
    """Unsorted / duplicate indices, any index width, CSC, COO: the canonical
    result; NaN, inf and values whose squares overflow: a clear ValueError."""
    seeded_property(name, kind, 20 if kind == "legal" else 3)()


# ------------------------------------------------------- 1b. broken structure, in child processes


def _child_main(names, examples_per_kind):
    """Run the property of each family on every kind of broken structure.

    The entry point of the child processes (``python this_file.py a,b,c n``).
    Prints ``BEGIN family`` before a family (so a crash or a hang names it) and
    one ``SUMMARY {json}`` line after it.
    """
    warnings.simplefilter("ignore")
    status = 0
    for name in names.split(","):
        print(f"BEGIN {name}", flush=True)
        counts, failures = {}, []
        for kind in STRUCTURE_KINDS:
            print(f"KIND {name} {kind}", flush=True)
            try:
                seeded_property(name, kind, examples_per_kind, counts)()
            except Exception as error:  # noqa: BLE001 - reported, then the next kind
                # The whole report: hypothesis's falsifying example is in the notes,
                # several distinct failures come as an ExceptionGroup.
                failures.append(f"{kind}:\n" + "".join(traceback.format_exception(error))[-6000:])
        print("SUMMARY " + json.dumps({"family": name, "examples": counts, "failures": failures}), flush=True)
        status = status or (1 if failures else 0)
    return status


def _limit_memory():
    try:
        import resource
    except ImportError:  # not on this platform
        return
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def _child_env():
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _start(args, cwd):
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env=_child_env(), preexec_fn=_limit_memory if sys.platform.startswith("linux") else None,
    )


class _Children:
    """The child processes, one per group of families, each watched by a
    background thread, so that they run alongside the in-process tests.

    Two groups for two cores: each child pays the interpreter and scikit-learn
    start-up once for five families.
    """

    def __init__(self, groups, cwd):
        self.results, self.procs, self.cwd = {}, [], cwd
        self.finished = {name: threading.Event() for group in groups for name in group}
        for group in groups:
            threading.Thread(target=self._run, args=(group,), daemon=True).start()

    def _run(self, group):
        proc = _start([__file__, ",".join(group), str(CHILD_EXAMPLES_PER_KIND)], self.cwd)
        self.procs.append(proc)
        started = time.monotonic()
        lines, errors = [], []
        last_line = [time.monotonic()]

        def read_stdout():
            for line in proc.stdout:
                lines.append(line)
                last_line[0] = time.monotonic()

        readers = [threading.Thread(target=read_stdout, daemon=True),
                   threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)]
        for reader in readers:
            reader.start()
        code = None
        while code is None:
            try:
                code = proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                if time.monotonic() - last_line[0] > CHILD_STALL:
                    proc.kill()
                    proc.wait()
                    code = "hung"
        for reader in readers:
            reader.join()
        out, err = "".join(lines), "".join(errors)
        for name in group:
            self.results[name] = (code, out, err, time.monotonic() - started)
            self.finished[name].set()

    def result(self, name):
        """(exit code or "hung", stdout, stderr, seconds) of the child that ran ``name``."""
        self.finished[name].wait()  # the watchdog of _run bounds the wait
        return self.results[name]

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()


CHILD_GROUPS = [("svc_dual", "svc_primal", "svc_l1", "svc_crammer_singer", "svr"),
                ("logistic", "kernel_ridge", "svc_cv", "logistic_cv", "objectives")]


@pytest.fixture(scope="module", autouse=True)
def children(request, tmp_path_factory):
    """Started with the first test of this module; collected by the last ones."""
    selected = {item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_broken_structure_in_a_child_process"}
    groups = [g for g in ([n for n in group if n in selected] for group in CHILD_GROUPS) if g]
    pool = _Children(groups, tmp_path_factory.mktemp("children"))
    yield pool
    pool.close()


# --------------------------------------------------------------------------
# 2. Known hard cases, one test each


@pytest.fixture(scope="module")
def small(sparse_problem):
    """60 x 20 sparse, three classes (balanced enough for two folds) and real targets."""
    X, y = sparse_problem(n_samples=60, n_features=20, n_classes=3, density=0.3, seed=3)
    y_reg = np.asarray(X @ np.linspace(-1, 1, X.shape[1])).ravel()
    return X, y, y_reg


SVC_SOLVERS = {
    "dual": dict(dual=True),
    "primal": dict(dual=False),
    "l1": dict(penalty="l1", dual=False),
    "crammer_singer": dict(multi_class="crammer_singer"),
}
BAD_CLASS_WEIGHTS = {
    "negative": ({0: -1.0}, r"class_weight\[0\] = -1\.0; class weights must be finite and >= 0"),
    "nan": ({1: np.nan}, r"class_weight\[1\] = nan; class weights must be finite and >= 0"),
    "inf": ({2: np.inf}, r"class_weight\[2\] = inf; class weights must be finite and >= 0"),
    "all zero": ({0: 0.0, 1: 0, 2: 0.0}, r"Every class weight is zero, so no sample would be used"),
}


@pytest.mark.parametrize("weights", list(BAD_CLASS_WEIGHTS))
@pytest.mark.parametrize("solver", [*SVC_SOLVERS, "LinearSVCCV"])
def test_bad_class_weight(solver, weights, small):
    X, y, _ = small
    class_weight, match = BAD_CLASS_WEIGHTS[weights]
    est = (LinearSVCCV(Cs=[1.0], cv=2, class_weight=class_weight) if solver == "LinearSVCCV"
           else LinearSVC(class_weight=class_weight, **SVC_SOLVERS[solver]))
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_partial_fit_refuses_nan_in_classes(small):
    X, y, _ = small
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().partial_fit(X, y, classes=[0, 1, np.nan])


def test_partial_fit_nan_in_classes_names_classes(small):
    X, y, _ = small
    with pytest.raises(ValueError, match="classes"):
        LogisticRegression().partial_fit(X, y, classes=[0, 1, np.nan])


def test_kernel_ridge_refuses_none_targets(small):
    X, _, y_reg = small
    y = y_reg.astype(object)
    y[4] = None
    with pytest.raises(ValueError, match=r"missing or non-finite target \(first at sample 4"):
        KernelRidge().fit(X, y)


@pytest.fixture(scope="module")
def fitted_for_objectives(small):
    X, y, y_reg = small
    return {
        "linear_svc_objective": (quiet(LinearSVC(random_state=0).fit, X, y), y),
        "linear_svr_objective": (quiet(LinearSVR(random_state=0).fit, X, y_reg), y_reg),
        "logistic_objective": (quiet(LogisticRegression(random_state=0, max_iter=5).fit, X, y), y),
    }


OBJECTIVES = {"linear_svc_objective": linear_svc_objective, "linear_svr_objective": linear_svr_objective,
              "logistic_objective": logistic_objective}


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("helper", list(OBJECTIVES))
def test_objective_helpers_refuse_nan_in_X(helper, dense, small, fitted_for_objectives):
    """Not a NaN objective: an error."""
    X, _, _ = small
    est, target = fitted_for_objectives[helper]
    Xb = X.toarray() if dense else X.copy()
    if dense:
        Xb[3, 2] = np.nan
    else:
        Xb.data[5] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        OBJECTIVES[helper](est, Xb, target)


@pytest.mark.parametrize("helper", list(OBJECTIVES))
def test_objective_helpers_refuse_y_of_another_length(helper, small, fitted_for_objectives):
    """Not the objective of the first rows: an error naming both lengths."""
    X, _, _ = small
    est, target = fitted_for_objectives[helper]
    n = X.shape[0]
    match = (rf"X has {n} samples but y has {n - 3}; pass one label per sample"
             if helper != "linear_svr_objective" else rf"inconsistent numbers of samples: \[{n}, {n - 3}\]")
    with pytest.raises(ValueError, match=match):
        OBJECTIVES[helper](est, X, target[:-3])
    with pytest.raises(ValueError, match="samples"):
        OBJECTIVES[helper](est, X[:-3], target)


def _dask_svc(**params):
    dask_module = pytest.importorskip("fastlinear.dask")
    return dask_module.LinearSVC(**params)


HUGE_COUNTS = {
    "LogisticRegression(max_iter=10**12)": (lambda: LogisticRegression(max_iter=10**12), "max_iter"),
    "LogisticRegression(batch_size=2**40)": (lambda: LogisticRegression(batch_size=2**40), "batch_size"),
    "LogisticRegression(n_iter_no_change=2**40)": (lambda: LogisticRegression(n_iter_no_change=2**40),
                                                   "n_iter_no_change"),
    "LinearSVC(max_iter=2**40)": (lambda: LinearSVC(max_iter=2**40), "max_iter"),
    "LinearSVR(max_iter=2**40)": (lambda: LinearSVR(max_iter=2**40), "max_iter"),
    "dask.LinearSVC(max_rounds=10**12)": (lambda: _dask_svc(max_rounds=10**12), "max_rounds"),
    "dask.LinearSVC(local_passes=2**40)": (lambda: _dask_svc(local_passes=2**40), "local_passes"),
}


@pytest.mark.parametrize("case", list(HUGE_COUNTS))
def test_huge_counts_are_parameter_errors(case, small):
    """Refused at fit by the parameter check, before anything is allocated or
    any cluster started (InvalidParameterError is a ValueError)."""
    X, y, y_reg = small
    make, param = HUGE_COUNTS[case]
    est = make()
    target = y_reg if isinstance(est, LinearSVR) else y
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=rf"The '{param}' parameter of \w+ must be an int in the range"):
            est.fit(X, target)
    finally:
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # Nothing ran: generous for a machine whose cores are busy (a loop over
    # 2**40 iterations, or a cluster started, would take far longer).
    assert seconds < 10.0
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB allocated before the refusal"


@pytest.mark.parametrize("eta0", ["auto", 0.1])
@pytest.mark.parametrize("dense", [False, True])
def test_logistic_on_values_near_1e300_says_rescale(dense, eta0, small):
    X, y, _ = small
    Xh = X * 1e300
    with pytest.raises(ValueError, match=r"overflows float64.*Rescale X") as error:
        LogisticRegression(eta0=eta0).fit(Xh.toarray() if dense else Xh, y)
    assert "eta0" not in str(error.value)


@pytest.mark.parametrize("solver", ["liblinear", "auto"])
def test_l1_logistic_at_1e100_is_not_a_silent_zero_model(solver):
    """liblinear's newGLMNET skips any coordinate step below 1e-12 in absolute
    value: with X scaled by 1e100 every feature's step is ~1e-100, only the
    intercept moves, and the line search soon finds no decrease.  That used
    to count as converged: an all-zero model without a word."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X) * 1e100
    with pytest.warns(ConvergenceWarning) as caught:
        model = LogisticRegression(C=1.0, l1_ratio=1.0, solver=solver).fit(X, y)
    assert np.count_nonzero(model.coef_) == 0  # the model is what it was ...
    text = " ".join(str(w.message) for w in caught)  # ... but now it says why
    assert re.search(r"line search found no decrease|max_iter", text)
    assert "Scale the features" in text or "scale the features" in text


@pytest.mark.parametrize("params", [dict(l1_ratio=1.0), dict(l1_ratio=0.5),
                                    dict(l1_ratio=1.0, solver="liblinear")],
                         ids=["l1", "elastic_net", "liblinear_l1"])
def test_l1_logistic_whose_derivatives_overflow_says_so(params):
    """C = 1e12 on features of 1e150: the curvature C x^2 overflows at the
    start, and newGLMNET ends with DIVERGED.  The warning for that status
    read the mini-batch solvers' step size, which the others never set: an
    AttributeError.  Now a fit that cannot take a step is a ValueError that
    names the cause; smaller values still fit."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = (X @ rng.randn(5) > 0).astype(int)
    with pytest.raises(ValueError, match=r"overflows float64 \(C times the feature values"):
        LogisticRegression(C=1e12, **params).fit(X * 1e150, y)
    assert np.count_nonzero(LogisticRegression(C=1e12, **params).fit(X, y).coef_) > 0


@pytest.mark.parametrize("scaling", [1e15, 1e20, 1e100])
def test_liblinear_logistic_with_a_huge_intercept_scaling_is_not_a_zero_model(scaling):
    """With balanced classes the gradient at w = 0 has a zero bias entry and
    the features' entries were compared with a rounding size summed over
    whole rows, which the bias value (1e15) dominates: the fit returned
    ``coef_ = 0`` at 0 iterations as converged.  Entry by entry, it runs;
    the intercept's penalty is then negligible, and the model is the one
    with a free intercept."""
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    s = X[:, 0] + rng.randn(100)
    y = (s > np.median(s)).astype(int)
    model = LogisticRegression(solver="liblinear", intercept_scaling=scaling).fit(X, y)
    free = LogisticRegression(solver="newton-cholesky", tol=1e-10).fit(X, y)
    assert model.n_iter_[0] >= 1
    np.testing.assert_allclose(model.coef_, free.coef_, rtol=1e-3)


def test_logistic_intercept_scaling_whose_square_overflows_is_refused():
    X, y = np.random.RandomState(0).randn(20, 2), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"intercept_scaling=1e\+200 is too large"):
        LogisticRegression(solver="liblinear", intercept_scaling=1e200).fit(X, y)


@pytest.mark.parametrize("params, n_classes", [
    *[(params, k) for params in (dict(), dict(l1_ratio=0.5), dict(solver="svrg"))
      for k in (2, 3)],
    (dict(solver="liblinear"), 2), (dict(solver="liblinear", l1_ratio=1.0), 2)])
def test_logistic_costs_that_overflow_are_named(params, n_classes):
    """A sample weight of 1e300 at C = 1e12: each solver used to meet the
    overflow in its own terms and blame something else (tol, the start
    point, a label, the rows' norms)."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = np.arange(60) % n_classes
    weights = np.ones(60)
    weights[2] = 1e300
    with pytest.raises(ValueError, match=r"C times the sample and class weights overflows"):
        LogisticRegression(C=1e12, **params).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_cholesky_asked_for_on_wide_data_names_the_hessians_size(n_classes):
    """solver="newton-cholesky" on 200,000 features forms a Hessian of
    terabytes: refused before NumPy tries, pointing to newton-cg."""
    from fastlinear._memory import InsufficientMemoryError

    X = sp.random(50, 200_000, density=1e-3, format="csr", random_state=0)
    y = np.arange(50) % n_classes
    with pytest.raises(InsufficientMemoryError, match=r"Hessian of \d+ x \d+.*newton-cg"):
        LogisticRegression(solver="newton-cholesky").fit(X, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crammer_singer_cycling_on_identical_rows_is_not_a_stall(seed):
    """Identical rows of opposite labels: the weights flip between two
    values from pass to pass while the passes' measures repeat exactly.  The
    stall test used to read that as 'nothing moves' after 11 passes (coef
    +-0.047, a warning blaming the scale of X); with the weights' checksum it
    runs on to the optimum, 0, as scikit-learn's does."""
    X, y = np.full((10, 3), 7.0), np.arange(10) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LinearSVC(multi_class="crammer_singer", random_state=seed).fit(X, y)
    assert np.abs(est.coef_).max() < 1e-9 and est.n_iter_ > 100


@pytest.mark.parametrize("make", [
    lambda: LinearSVC(multi_class="crammer_singer"),
    lambda: LinearSVC(penalty="l1", dual=False),
    lambda: LinearSVR(dual=True),
], ids=["crammer_singer", "l1", "svr_dual"])
def test_coordinate_descent_at_1e60_stops_and_says_why(make):
    """Every step is below liblinear's 1e-12 and skipped: the passes used to
    run to max_iter doing nothing (Crammer-Singer: 100,000 of them, 50 s on
    5,000 rows of a9a).  Now the solve ends once its passes change no weight,
    with a warning that names the cause."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X) * 1e60
    est = make()
    if isinstance(est, LinearSVR):
        y = y * 2.0 - 1.0
    with pytest.warns(ConvergenceWarning, match=r"changed no weight.*Scale the features"):
        est.fit(X, y)
    assert int(np.max(est.n_iter_)) < 50


@pytest.mark.parametrize("cls", [LinearSVCCV])
def test_single_class_fold_is_named(cls, small):
    """KFold without shuffling on sorted labels: fold 1's training part has one
    class; the error names the fold and the way out.  (LogisticRegressionCV
    fits such folds, as scikit-learn's does: tests/test_logistic_cv.py.)"""
    X, _, _ = small
    y = np.r_[np.zeros(20, dtype=int), np.ones(40, dtype=int)]
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.fit, fold 1 of 3: .* only one class") as error:
        quiet(cls(Cs=[1.0], cv=KFold(3)).fit, X, y)
    assert "stratified" in str(error.value)


@pytest.mark.parametrize("broken", ["index >= n_features", "short indptr"])
@pytest.mark.parametrize("cls", [LinearSVCCV, LogisticRegressionCV])
def test_cv_refuses_broken_csr_before_cutting_folds(cls, broken, small):
    """The batches above prove this path crash-free; the message comes from the
    search itself, not from a fold."""
    X, y, _ = small
    Xb = X.copy()
    if broken == "index >= n_features":
        Xb.indices[7] = X.shape[1]
        match = rf"^{cls.__name__}\.fit: row \d+ has column index {X.shape[1]}, outside"
    else:
        Xb.indptr = Xb.indptr[:-2]
        match = rf"^{cls.__name__}\.fit: indptr has {X.shape[0] - 1} entries, expected n_samples \+ 1"
    with pytest.raises(ValueError, match=match):
        cls(Cs=[1.0], cv=2).fit(Xb, y)


PREDICTORS = {
    "LinearSVC": (lambda: LinearSVC(random_state=0), "LinearSVC.decision_function", False),
    "LinearSVR": (lambda: LinearSVR(random_state=0), "LinearSVR.predict", True),
    "LogisticRegression": (lambda: LogisticRegression(random_state=0, max_iter=5),
                           "LogisticRegression.decision_function", False),
    "KernelRidge": (lambda: KernelRidge(), "KernelRidge.predict", True),
    "LinearSVCCV": (lambda: LinearSVCCV(Cs=[1.0], cv=2, random_state=0), "LinearSVC.decision_function", False),
}


@pytest.mark.parametrize("name, method", [
    (name, method) for name in PREDICTORS
    for method in ("predict", "decision_function", "predict_proba", "score") if hasattr(PREDICTORS[name][0](), method)
])
def test_out_of_range_index_at_prediction(name, method, small):
    """Never a silently wrong prediction or score."""
    X, y, y_reg = small
    make, caller, regression = PREDICTORS[name]
    est = make()
    target = y_reg if regression else y
    quiet(est.fit, X, target)
    Xb = X.copy()
    Xb.indices[11] = X.shape[1] + 3
    args = (Xb, target) if method == "score" else (Xb,)
    with pytest.raises(ValueError, match=rf"^{caller}: row \d+ has column index {X.shape[1] + 3}, outside"):
        getattr(est, method)(*args)


@pytest.mark.parametrize("make", [lambda: LinearSVC(random_state=0),
                                  lambda: LogisticRegression(random_state=0),
                                  lambda: LinearSVR(random_state=0)])
def test_sparse_prediction_of_large_finite_values_is_the_dense_one(make):
    """A product needs no squared row norms: a value of 1e200 predicts from
    CSR as from a dense array (it used to be refused as an overflow)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] > 0).astype(int)
    est = quiet(make().fit, X, y)
    Xt = X[:3].copy()
    Xt[0, 0] = 1e200
    np.testing.assert_array_equal(est.predict(sp.csr_matrix(Xt)), est.predict(Xt))
    if hasattr(est, "decision_function"):
        np.testing.assert_allclose(est.decision_function(sp.csr_matrix(Xt)),
                                   est.decision_function(Xt), rtol=1e-13)


@pytest.mark.parametrize("C", [1e-20, 1e-100])
@pytest.mark.parametrize("make, regression", [
    (lambda C: LinearSVC(C=C, dual=False), False),
    (lambda C: LogisticRegression(C=C, solver="liblinear"), False),
    (lambda C: LinearSVR(C=C, loss="squared_epsilon_insensitive", dual=False), True),
])
def test_primal_newton_at_a_tiny_C_returns_the_model_at_rounding(make, regression, C):
    """At C = 1e-20 a Newton step from w = 0 lowers the objective by less than
    its rounding: w = 0 is the optimum to rounding (scikit-learn returns it),
    not the 'values overflow float64' error that was raised."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 5))
    y = X[:, 0] if regression else (X[:, 0] + 0.7 * rng.normal(size=60) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = make(C).fit(X, y)
    assert np.all(np.abs(est.coef_) <= 1e3 * C)
    # Where the step resolves, it is taken: the coefficients are C times O(1).
    est = make(1e-14).fit(X, y)
    assert 1e-16 < np.abs(est.coef_).max() < 1e-11


@pytest.mark.parametrize("make, regression", [
    (lambda: LogisticRegression(warm_start=True, solver="svrg", random_state=0, max_iter=5), False),
    (lambda: LogisticRegression(warm_start=True, solver="liblinear", dual=True), False),
    (lambda: LogisticRegression(warm_start=True), False),
    (lambda: LinearSVC(warm_start=True), False),
    (lambda: LinearSVR(warm_start=True), True),
])
@pytest.mark.parametrize("which", ["coef_", "intercept_"])
def test_warm_start_from_non_finite_weights_is_named(make, regression, which):
    """NaN in the previous coef_ / intercept_: the error says so (the solvers
    blamed the data's scale, an internal start point or the targets)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 5))
    y = X[:, 0] if regression else (X[:, 0] > 0).astype(int)
    est = quiet(make().fit, X, y)
    value = np.array(getattr(est, which), dtype=np.float64, copy=True)
    value.flat[0] = np.nan
    setattr(est, which, value)
    with pytest.raises(ValueError, match=r"\.fit: warm_start=True, but the previous fit's coef_ "
                                         r"/ intercept_ \(the start point\) has NaN"):
        est.fit(X, y)


def test_liblinear_dual_logistic_at_tol_0_is_a_parameter_error():
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 2
    with pytest.raises(ValueError, match=r"^LogisticRegression: solver='liblinear' with "
                                         r"dual=True needs tol > 0"):
        LogisticRegression(solver="liblinear", dual=True, tol=0.0).fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_at_C_1e300_leaks_no_numpy_warning(n_classes):
    """Gradients of order 1e300: their norms are taken without squaring
    them (seven 'overflow encountered in dot' warnings came out of a
    correct fit)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] + 0.7 * rng.normal(size=60) > 0).astype(int) if n_classes == 2 else np.arange(60) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LogisticRegression(C=1e300).fit(X, y)
    assert np.all(np.isfinite(est.coef_))


def test_warm_started_dual_logistic_far_beyond_the_margin():
    """liblinear -s 7 at C = 1e4 on nearly separable data, warm-started from
    its own solution: samples far beyond the margin drive their ``a_i``
    toward 1e-310, where ``a_i / (C - a_i)`` underflows; its ``log 0`` ended
    the solve with a false overflow error (and ``LogisticRegressionCV(
    solver="liblinear", dual=True)`` with it, at its default Cs)."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = (X[:, 0] + 0.5 * rng.randn(60) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LogisticRegression(solver="liblinear", dual=True, C=1e4, warm_start=True)
        est.fit(X, y).fit(X, y)
        search = LogisticRegressionCV(solver="liblinear", dual=True).fit(X, y)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(search.coef_))


@pytest.mark.parametrize("make, regression", [
    (lambda: LinearSVC(), False),
    (lambda: LinearSVC(dual=False), False),
    (lambda: LogisticRegression(solver="liblinear"), False),
    (lambda: LinearSVR(dual=False, loss="squared_epsilon_insensitive"), True),
])
def test_primal_newton_where_zero_is_the_optimum(make, regression):
    """Every row twice with opposite labels: the gradient at w = 0 cancels
    exactly, no Newton step lowers the objective, and w = 0 is the model (as
    scikit-learn's liblinear returns), not a false overflow error."""
    Z = np.random.RandomState(0).randn(40, 3)
    X, y = np.vstack([Z, Z]), np.r_[np.zeros(40), np.ones(40)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = make().fit(X, 2 * y - 1 if regression else y)
    assert np.all(est.coef_ == 0) and np.all(est.intercept_ == 0)


@pytest.mark.parametrize("make", [
    lambda: LinearSVC(warm_start=True),
    lambda: LinearSVC(warm_start=True, penalty="l1", dual=False),
    lambda: LinearSVC(warm_start=True, dual=True),
    lambda: LinearSVR(warm_start=True),
])
def test_warm_start_after_the_features_changed_starts_cold(make):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = (X[:, 0] > 0).astype(int)
    est = make().fit(X, y)
    with pytest.warns(UserWarning, match="warm_start=True but the samples,? (or )?features"):
        est.fit(X[:, :3], y)
    assert est.coef_.shape[-1] == 3


def test_bsr_input_is_read_as_its_csr():
    """BSR (blocks of R x C values) fits and predicts as its CSR does; a
    block index outside the matrix is refused in block units, before scipy
    reads it."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 6))
    y = (X[:, 0] + X[:, 4] > 0).astype(int)
    B = sp.bsr_matrix(X, blocksize=(2, 3))
    for make in (lambda: LinearSVC(random_state=0), lambda: LogisticRegression()):
        est, ref = make().fit(B, y), make().fit(X, y)
        np.testing.assert_array_equal(est.coef_, ref.coef_)
        np.testing.assert_allclose(est.decision_function(B), ref.decision_function(X),
                                   rtol=1e-13, atol=1e-13)
    bad = B.copy()
    bad.indices[0] = 7
    with pytest.raises(ValueError, match=r"column index 7, outside .*In units of blocks: the BSR "
                                         r"matrix of 2 x 3 blocks read as 30 block rows of 2"):
        LinearSVC().fit(bad, y)
    with pytest.raises(ValueError, match="In units of blocks"):
        est.predict(bad)


def _messy_csr(X):
    """X with every row reversed and every value split in two duplicates, int64."""
    rows = [(X.indices[X.indptr[i]:X.indptr[i + 1]][::-1], X.data[X.indptr[i]:X.indptr[i + 1]][::-1])
            for i in range(X.shape[0])]
    indices = np.concatenate([np.r_[idx, idx] for idx, _ in rows]).astype(np.int64)
    data = np.concatenate([np.r_[val / 2, val / 2] for _, val in rows])
    indptr = np.concatenate([[0], np.cumsum([2 * len(idx) for idx, _ in rows])]).astype(np.int64)
    return _assemble("csr", data, indices, indptr, X.shape, False)


MUTATION_INPUTS = {
    "canonical CSR": lambda X: X.copy(),
    "unsorted, duplicate, int64 CSR": _messy_csr,
    "CSC": lambda X: X.tocsc(),
    "COO": lambda X: X.tocoo(copy=True),
    "dense": lambda X: X.toarray(),
}


def _mutation_calls(X, y, y_reg, sw):
    """(what, call) for every estimator and method that takes the caller's arrays."""
    svc = {k: (lambda p=p: LinearSVC(random_state=0, max_iter=200, **p)) for k, p in SVC_SOLVERS.items()}
    calls = []
    for k, make in svc.items():
        calls.append((f"LinearSVC[{k}]", lambda make=make: (
            (est := make().fit(X, y, sample_weight=sw)).predict(X), est.decision_function(X),
            est.score(X, y, sample_weight=sw), linear_svc_objective(est, X, y, sample_weight=sw))))
    calls += [
        ("LinearSVR", lambda: ((est := LinearSVR(random_state=0).fit(X, y_reg, sample_weight=sw)).predict(X),
                               est.score(X, y_reg, sample_weight=sw),
                               linear_svr_objective(est, X, y_reg, sample_weight=sw))),
        ("LogisticRegression", lambda: (
            (est := LogisticRegression(random_state=0, max_iter=5).fit(X, y, sample_weight=sw)).predict_proba(X),
            est.score(X, y, sample_weight=sw), est.objective(X, y, sample_weight=sw),
            logistic_objective(est, X, y, sample_weight=sw))),
        ("LogisticRegression.partial_fit", lambda: LogisticRegression(random_state=0).partial_fit(
            X, y, classes=np.unique(y), sample_weight=sw).partial_fit(X, y, sample_weight=sw)),
        ("KernelRidge", lambda: ((est := KernelRidge().fit(X, y_reg, sample_weight=sw)).predict(X),
                                 est.score(X, y_reg, sample_weight=sw))),
        ("LinearSVCCV", lambda: ((est := LinearSVCCV(Cs=[0.1, 1.0], cv=2, random_state=0).fit(
            X, y, sample_weight=sw)).predict(X), est.score(X, y, sample_weight=sw))),
        ("LogisticRegressionCV", lambda: ((est := LogisticRegressionCV(Cs=[1.0], cv=2, max_iter=5, random_state=0)
                                           .fit(X, y, sample_weight=sw)).predict_proba(X), est.score(X, y))),
    ]
    return calls


@pytest.mark.parametrize("form", list(MUTATION_INPUTS))
def test_inputs_are_not_mutated(form, small):
    """X (values, indices, indptr, dtypes, writeable flags), y and
    sample_weight are the same after every fit and prediction; a
    non-canonical CSR is canonicalised in a private copy."""
    X0, y0, y_reg0 = small
    X = MUTATION_INPUTS[form](X0)
    y, y_reg = y0.copy(), y_reg0.copy()
    sw = np.linspace(0.5, 1.5, y.shape[0])
    before = (snapshot(X), y.tobytes(), y_reg.tobytes(), sw.tobytes())
    for what, call in _mutation_calls(X, y, y_reg, sw):
        quiet(call)
        after = (snapshot(X), y.tobytes(), y_reg.tobytes(), sw.tobytes())
        assert after == before, f"{what} modified its input ({form})"


# ------------------------------------------------------------ structures scipy does not check


LIL_CHILD = """
import sys, warnings
import scipy.sparse as sp
from fastlinear import LinearSVC
warnings.simplefilter("ignore")
X = sp.lil_matrix((4, 3))
X[0, 0] = X[1, 1] = X[2, 2] = X[3, 0] = 1.0
if sys.argv[1] == "values":
    X.data[0] = [1.0, 2.0, 3.0]  # three values for one column index
else:
    X.rows[0] = [0, 1, 2]  # three column indices for one value
try:
    LinearSVC(random_state=0).fit(X, [0, 1, 0, 1])
    print("fitted")
except (ValueError, TypeError) as error:
    print(f"{type(error).__name__}: {error}")
"""


@pytest.mark.parametrize("more", ["values", "indices"])
def test_lil_rows_and_data_of_different_lengths(more, tmp_path):
    proc = subprocess.run([sys.executable, "-c", LIL_CHILD, more], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=_child_env())
    assert proc.returncode == 0, f"crashed: exit code {proc.returncode}\n{proc.stderr[-2000:]}"
    assert re.search(r"ValueError: LinearSVC\.fit: row 0 of the LIL matrix", proc.stdout), proc.stdout


@pytest.mark.parametrize("array", ["indices", "indptr", "data"])
def test_two_dimensional_csr_arrays_get_a_clear_message(array, small):
    X, y, _ = small
    Xb = X.copy()
    setattr(Xb, array, getattr(Xb, array).reshape(-1, 1))
    with pytest.raises((ValueError, TypeError), match=rf"^LinearSVC\.fit: .*{array} array .*one-dimensional"):
        LinearSVC().fit(Xb, y)


# --------------------------------------------------------------------------
# 3. The command line


GOOD_TRAIN = "1 1:0.5 3:1\n-1 2:1 3:-0.5\n1 1:1 2:0.25\n-1 2:0.75\n1 1:0.3\n-1 3:0.9\n"


@pytest.fixture
def cli_run(capsys):
    """``cli.main`` in this process: the path of the console script, minus the
    interpreter start-up (one case below goes through ``python -m fastlinear``)."""

    def call(*args):
        code = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def assert_one_line_error(result, command, *fragments):
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"fastlinear {command}: error: "), lines[0]
    # cli.main's catch-all: a bug surfacing, not a user error explained.
    assert "please report this" not in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def no_temporary_files(folder):
    return [p.name for p in folder.rglob(".fastlinear-*")] == []


def _gzip_bytes(text):
    return gzip.compress(text.encode(), mtime=0)


def _half(blob):
    return blob[: len(blob) // 2]


# (file name, file content, options, message fragments)
TRAIN_ERRORS = {
    "label inf": ("data", "inf 1:1\n" + GOOD_TRAIN, [], ["label inf is not a finite number"]),
    "label 1e30": ("data", "1e30 1:1\n" + GOOD_TRAIN, [], ["label 1e+30 is beyond LIBLINEAR's label range"]),
    "label 0.5": ("data", "0.5 1:1\n" + GOOD_TRAIN, [], ["label 0.5 is not an integer"]),
    "-B nan": ("data", GOOD_TRAIN, ["-B", "nan"], ["option -B expects a finite number, got 'nan'"]),
    "--max-iter 1e12": ("data", GOOD_TRAIN, ["--max-iter", "1e12"], ["option --max-iter expects an integer"]),
    "--max-iter 99999999999": ("data", GOOD_TRAIN, ["--max-iter", "99999999999"],
                               ["--max-iter expects an integer of at most 2147483647"]),
    # (random bytes: not gzip data, whatever the name says; read as text)
    "corrupt .gz": ("data.gz", np.random.RandomState(0).bytes(300), [],
                    ["(named as gzip data, it is not: read as plain text)"]),
    "corrupt gzip": ("data.gz", b"\x1f\x8b" + np.random.RandomState(0).bytes(300), [],
                     ["not a readable LIBSVM file", "truncated or damaged"]),
    "truncated .gz": ("data.gz", _half(_gzip_bytes(GOOD_TRAIN * 40)), [],
                      ["not a readable LIBSVM file", "truncated or damaged"]),
    ".gz cut in its trailer": ("data.gz", _gzip_bytes(GOOD_TRAIN * 40)[:-4], [],
                               ["not a readable LIBSVM file", "truncated or damaged"]),
    "truncated .bz2": ("data.bz2", _half(bz2.compress((GOOD_TRAIN * 40).encode())), [],
                       ["not a readable LIBSVM file", "truncated or damaged"]),
    ".bz2 without its last byte": ("data.bz2", bz2.compress((GOOD_TRAIN * 40).encode())[:-1], [],
                                   ["not a readable LIBSVM file", "truncated or damaged"]),
    "feature 2147483648": ("data", "1 2147483648:1\n" + GOOD_TRAIN, [],
                           ["line 1: malformed token '2147483648:1'", "below 2**31"]),
    "feature 99999999999999999999": ("data", "1 99999999999999999999:1\n" + GOOD_TRAIN, [],
                                     ["line 1: malformed token '99999999999999999999:1'", "below 2**31"]),
    "value 1e200": ("data", "1 1:1e200\n" + GOOD_TRAIN, [],
                    ["line 1: values of magnitude above ~1e154", "squares overflow float64"]),
}


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("case", list(TRAIN_ERRORS))
def test_train_errors(case, tmp_path, cli_run):
    name, content, options, fragments = TRAIN_ERRORS[case]
    data = _write(tmp_path / name, content)
    model = tmp_path / "out.model"
    assert_one_line_error(cli_run("train", *options, data, model), "train", *fragments)
    assert not model.exists() and no_temporary_files(tmp_path)


@pytest.mark.parametrize("via", ["cli", "load_libsvm"])
def test_gz_with_damaged_stream(via, tmp_path, cli_run):
    blob = _gzip_bytes(GOOD_TRAIN * 40)
    data = _write(tmp_path / "data.gz", blob[:10] + np.random.RandomState(1).bytes(200))
    if via == "load_libsvm":
        with pytest.raises(ValueError, match="data.gz: not a readable LIBSVM file"):
            load_libsvm(data)
    else:
        assert_one_line_error(cli_run("train", data, tmp_path / "m"), "train", "data.gz", "damaged")


def test_train_error_through_the_interpreter(tmp_path):
    data = _write(tmp_path / "data.gz", _half(_gzip_bytes(GOOD_TRAIN * 40)))
    proc = subprocess.run([sys.executable, "-m", "fastlinear", "train", str(data), str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_child_env())
    assert_one_line_error((proc.returncode, proc.stdout, proc.stderr), "train",
                          "data.gz: not a readable LIBSVM file")
    assert no_temporary_files(tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux only")
def test_feature_index_at_the_int32_limit(tmp_path):
    data = _write(tmp_path / "data", "1 2147483647:1\n" + GOOD_TRAIN)

    def cap():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    proc = subprocess.run([sys.executable, "-m", "fastlinear", "train", "-q", str(data), str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_child_env(),
                          preexec_fn=cap)
    assert_one_line_error((proc.returncode, proc.stdout, proc.stderr), "train", "2147483647 features")


@pytest.fixture
def trained(tmp_path, cli_run):
    """(training file, model file) of a model trained by the CLI."""
    data = _write(tmp_path / "data", GOOD_TRAIN)
    model = tmp_path / "good.model"
    assert cli_run("train", "-q", data, model)[0] == 0
    return data, model


PREDICT_ERRORS = {
    "bias inf": (lambda text: text.replace("\nbias 1\n", "\nbias inf\n"), ["line 5: bias must be a finite number"]),
    "UTF-8 byte-order mark": (lambda text: "\ufeff" + text, ["line 1: the file starts with a UTF-8 byte-order mark"]),
    "no 'w' line, weights kept": (lambda text: text.replace("\nw\n", "\n"), ["weights before the 'w' line"]),
    "no 'w' line, no weights": (lambda text: text.split("\nw\n")[0] + "\n", ["no 'w' line; the weights are missing"]),
}


@pytest.mark.parametrize("case", list(PREDICT_ERRORS))
def test_predict_with_a_damaged_model(case, trained, tmp_path, cli_run):
    data, model = trained
    edit, fragments = PREDICT_ERRORS[case]
    damaged = tmp_path / "damaged.model"
    damaged.write_text(edit(model.read_text()), encoding="utf-8")
    output = tmp_path / "predictions"
    assert_one_line_error(cli_run("predict", data, damaged, output), "predict", *fragments)
    assert not output.exists() and no_temporary_files(tmp_path)


def _make_read_only(folder):
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.mark.parametrize("where", ["missing folder", "read-only folder", "path is a folder", "disk full"])
@pytest.mark.parametrize("command", ["train", "predict"])
def test_failed_write_leaves_nothing_behind(command, where, trained, tmp_path, cli_run, monkeypatch):
    """No partial file, no '.fastlinear-*' temporary; an existing file keeps its content."""
    data, model = trained
    if where == "read-only folder" and (not hasattr(os, "geteuid") or os.geteuid() == 0):
        pytest.skip("root writes into read-only folders (and Windows has no such mode bits)")
    if where == "missing folder":
        target = tmp_path / "nowhere" / "out"
    elif where == "read-only folder":
        target = _make_read_only(tmp_path / "locked") / "out"
    elif where == "path is a folder":
        target = tmp_path / "a-folder"
        target.mkdir()
    else:
        target = _write(tmp_path / "existing", "old content\n")
    if where == "disk full":
        def full(src, dst):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "replace", full)
    args = ("train", "-q", data, target) if command == "train" else ("predict", "-q", data, model, target)
    what = "model file" if command == "train" else "output file"
    try:
        assert_one_line_error(cli_run(*args), command, f"can't write {what}")
    finally:
        monkeypatch.undo()
        for folder in tmp_path.iterdir():
            if folder.is_dir():
                folder.chmod(0o700)
    assert no_temporary_files(tmp_path)
    if where == "disk full":
        assert target.read_text() == "old content\n"
    elif where != "path is a folder":
        assert not target.exists()


# --------------------------------------------------------------------------
# 1b, collected last: the child processes ran alongside the tests above


@pytest.mark.parametrize("name", list(FAMILIES))
def test_broken_structure_in_a_child_process(name, children):
    """Broken CSR/CSC/COO structure into fit, predict, decision_function,
    predict_proba, score and the objectives: a clear error, never a crash."""
    code, out, err, _ = children.result(name)
    summaries = [json.loads(line[len("SUMMARY "):]) for line in out.splitlines() if line.startswith("SUMMARY ")]
    summary = next((s for s in summaries if s["family"] == name), None)
    if summary is None:
        running = [line[len("BEGIN "):] for line in out.splitlines() if line.startswith("BEGIN ")]
        during = f"while running {running[-1]}" if running else "before any family"
        what = (f"hung (no progress for {CHILD_STALL} s)" if code == "hung" else
                f"crashed (signal {-code})" if isinstance(code, int) and code < 0 else f"exited with {code}")
        pytest.fail(f"the child process {what} {during}; {name} has no result\n{out[-3000:]}\n{err[-3000:]}")
    assert summary["failures"] == [], "\n\n".join(summary["failures"])
    # Every kind of broken structure was exercised.
    assert sorted(summary["examples"]) == sorted(STRUCTURE_KINDS)


# --- overflow near the float maximum ------------------------------------------------


@pytest.mark.parametrize("scaling", [1e155, 1e200, 1e300])
@pytest.mark.parametrize("make", [
    lambda s: LinearSVC(intercept_scaling=s),
    lambda s: LinearSVC(intercept_scaling=s, dual=False),
    lambda s: LinearSVC(intercept_scaling=s, multi_class="crammer_singer"),
    lambda s: LinearSVR(intercept_scaling=s),
], ids=["svc", "svc-primal", "svc-cs", "svr"])
def test_huge_intercept_scaling_is_blamed(make, scaling):
    """intercept_scaling whose square overflows: the error names it, not X."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = rng.randn(30)
    est = make(scaling)
    target = y if isinstance(est, LinearSVR) else (y > 0).astype(int)
    with pytest.raises(ValueError, match=r"intercept_scaling=1e\+\d+ is too large.*"
                                         r"intercept_scaling\*\*2.*overflows float64.*"
                                         r"Use a smaller intercept_scaling") as info:
        est.fit(X, target)
    assert "rescale X" not in str(info.value)


def test_intercept_scaling_plus_row_norms_overflow_is_blamed():
    """A finite intercept_scaling**2 that overflows only with X's row norms: both named."""
    X = np.array([[1e154, 0.0], [0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"intercept_scaling\*\*2 \(1e\+308\) plus X's "
                                         r"largest squared row norm \(1e\+308\)"):
        LinearSVC(intercept_scaling=1e154).fit(X, [0, 1, 1])


def test_fit_intercept_false_ignores_intercept_scaling():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 3)
    LinearSVC(fit_intercept=False, intercept_scaling=1e300).fit(X, (X[:, 0] > 0).astype(int))


def _rows_near_float_max(n_features):
    X = np.full((3, n_features), 1e308)
    X[0] = 1.0
    return X


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("method", ["decision_function", "predict_log_proba", "predict"])
@pytest.mark.parametrize("make", [LinearSVC, LogisticRegression], ids=["svc", "logistic"])
def test_non_finite_scores_warn(make, method):
    """Rows near the float maximum overflow the scores: a warning counting the rows."""
    from fastlinear._validation import NonFinitePredictionWarning

    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    est = make().fit(X, y)
    if not hasattr(est, method):
        pytest.skip(f"{make.__name__} has no {method}")
    with pytest.warns(NonFinitePredictionWarning,
                      match=r"decision_function .* produced non-finite values for 2 of 3 rows.*"
                            r"overflowed float64.*Scale X"):
        getattr(est, method)(_rows_near_float_max(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFinitePredictionWarning)
        getattr(est, method)(X)  # finite output: no warning



@pytest.mark.parametrize("sparse", [False, True])
def test_non_finite_regression_predictions_warn(sparse):
    """LinearSVR.predict: the same warning, dense and sparse."""
    from fastlinear._validation import NonFinitePredictionWarning

    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    est = LinearSVR().fit(X, X @ [1.0, 2.0, 3.0])
    rows = _rows_near_float_max(3)
    with pytest.warns(NonFinitePredictionWarning, match="LinearSVR.predict produced non-finite "
                                                        "values for 2 of 3 rows"):
        est.predict(sp.csr_matrix(rows) if sparse else rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(X)


def test_objectives_name_the_estimator_they_take():
    """A LinearSVR given to linear_svc_objective (and the like) is a
    TypeError naming the right function, not an AttributeError."""
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    rng = np.random.RandomState(0)
    X = rng.randn(30, 4)
    yc, yr = np.arange(30) % 2, X @ [1.0, 2.0, 3.0, 4.0]
    svr, svc = LinearSVR().fit(X, yr), LinearSVC().fit(X, yc)
    for function, est, y, got in [(linear_svc_objective, svr, yr, "LinearSVR"),
                                  (linear_svr_objective, svc, yc, "LinearSVC"),
                                  (linear_svc_objective, SkLogisticRegression().fit(X, yc), yc,
                                   "LogisticRegression")]:
        with pytest.raises(TypeError, match=f"{function.__name__} expects a fitted .*got {got}.*"
                                            "linear_svr_objective \\(LinearSVR\\)"):
            function(est, X, y)


def test_svc_objective_refuses_a_model_without_a_row_per_class():
    """scikit-learn's LinearSVC leaves out a class whose samples all weigh 0:
    two rows for three classes gave an IndexError."""
    from sklearn.svm import LinearSVC as SkLinearSVC

    rng = np.random.RandomState(0)
    X, y = rng.randn(12, 3), np.repeat([0, 1, 2], 4)
    sw = np.where(y == 2, 0.0, 1.0)
    sk = SkLinearSVC().fit(X, y, sample_weight=sw)
    assert sk.coef_.shape[0] != 3
    with pytest.raises(ValueError, match=r"coef_ has 1 row\(s\) for 3 classes.*sample_weight 0"):
        linear_svc_objective(sk, X, y, sample_weight=sw)


def test_weights_beyond_float32_are_refused_not_inf():
    """float32 X keeps coef_ float32; targets of 1e40 made the fitted weights
    overflow it (coef_ = inf, no error)."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3).astype(np.float32)
    y = (X.astype(np.float64) @ [1.0, 2.0, 3.0]) * 1e40
    for dual in (True, False):
        est = LinearSVR(loss="squared_epsilon_insensitive", dual=dual)
        with pytest.raises(ValueError, match=r"weights reach .*e\+40, beyond the range of float32"
                                             r".*Pass X as float64"):
            est.fit(X, y)
        assert not hasattr(est, "coef_")
        assert np.isfinite(est.fit(X.astype(np.float64), y).coef_).all()


@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc_ovr"])
def test_svc_search_refuses_a_probability_scorer_before_the_folds(scoring):
    rng = np.random.RandomState(0)
    X, y = rng.randn(45, 4), np.arange(45) % 3
    with pytest.raises(ValueError, match=f"scoring='{scoring}' scores predict_proba, which "
                                         "LinearSVC does not have"):
        LinearSVCCV(Cs=[0.1, 1.0], scoring=scoring).fit(X, y)


@pytest.mark.parametrize("make", [LinearSVC, LinearSVR, LogisticRegression, LinearSVCCV,
                                  LogisticRegressionCV])
def test_n_jobs_0_is_refused_by_the_parameter_check(make):
    from sklearn.utils._param_validation import InvalidParameterError

    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 3), np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match=r"'n_jobs' parameter .* must be None, an int "
                                                    r"in the range \(-inf, -1\]"):
        make(n_jobs=0).fit(X, y)



def test_a_model_with_non_finite_weights_is_not_saved(tmp_path):
    """save_liblinear_model wrote NaN weights that load_liblinear_model refuses."""
    from fastlinear import save_liblinear_model

    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    est = LinearSVC().fit(X, np.arange(30) % 2)
    est.coef_ = est.coef_.copy()
    est.coef_[0, 0] = np.nan
    with pytest.raises(ValueError, match="holds NaN or infinity; a model file needs finite"):
        save_liblinear_model(tmp_path / "nan.model", est)
    assert not (tmp_path / "nan.model").exists()


def test_a_fractional_polynomial_degree_of_a_negative_base_is_named():
    """KernelRidge(kernel="poly", degree=2.5): NaN kernel values were called an overflow."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = X @ [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"\^2.5 is NaN where its base is negative.*integer "
                                         r"degree, or a larger coef0"):
        KernelRidge(kernel="poly", degree=2.5).fit(X, y)
    assert KernelRidge(kernel="poly", degree=2.5, coef0=100.0).fit(X, y).score(X, y) > 0.99

if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1], int(sys.argv[2])))
