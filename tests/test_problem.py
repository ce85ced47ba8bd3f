"""The house: the one CSR proof, the one definition of the problems, validation once.

* ``fastlinear._csr_fast``: the scan's statuses, the proof object (cannot be
  forged, holds read-only views of the caller's arrays, re-proves on unpickling);
* ``fastlinear._problem``: labels, costs, primal and dual objectives against
  plain NumPy formulas, the duality gap at a solution;
* ``fastlinear._validation``: class weights and labels, in one place;
* the C-path search validates X once per search and scans each fold once.
"""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model
import sklearn.svm

import fastlinear
import fastlinear._validation as validation_module
import fastlinear.model_selection as model_selection_module
from fastlinear import LinearSVC, LinearSVCCV, linear_svc_objective
from fastlinear._base import bias_of
from fastlinear._csr_fast import CSR, CSRStatus, checked_csr, scan
from fastlinear._problem import OneVsRest, regression_problem, weights_with_bias
from fastlinear._solvers import Status, dual_cd, newton
from fastlinear._validation import (
    check_class_weight,
    encode_known,
    integer_labels,
    proved_csr,
)

# --------------------------------------------------------------- the scan


def _arrays(X):
    return X.data, X.indices, X.indptr, X.shape[0], X.shape[1]


def test_scan_statuses(sparse_problem):
    X, _ = sparse_problem(n_samples=30, n_features=20, density=0.3)
    data, indices, indptr, n, d = _arrays(X)
    assert scan(data, indices, indptr, n, d)[0] == CSRStatus.CANONICAL
    code, row, sq_sum, max_row_sq = scan(data, indices, indptr, n, d)
    np.testing.assert_allclose(sq_sum, X.multiply(X).sum())
    np.testing.assert_allclose(max_row_sq, np.asarray(X.multiply(X).sum(axis=1)).max())
    swapped = indices.copy()
    start = indptr[np.argmax(np.diff(indptr) >= 2)]
    swapped[[start, start + 1]] = swapped[[start + 1, start]]
    assert scan(data, swapped, indptr, n, d)[0] == CSRStatus.NOT_CANONICAL
    assert scan(data, indices, indptr[:-1], n, d)[0] == CSRStatus.BAD_INDPTR_LENGTH
    shifted = indptr.copy()
    shifted[0] = 1
    assert scan(data, indices, shifted, n, d)[0] == CSRStatus.BAD_INDPTR_START
    assert scan(data[:-1], indices, indptr, n, d)[0] == CSRStatus.BAD_INDPTR_END
    bumpy = indptr.copy()
    bumpy[5] = bumpy[7] + 1
    assert scan(data, indices, bumpy, n, d)[:2] == (CSRStatus.INDPTR_DECREASES, 5)
    far = indices.copy()
    far[-1] = d
    assert scan(data, far, indptr, n, d)[0] == CSRStatus.INDEX_OUT_OF_RANGE
    bad = data.copy()
    bad[0] = np.nan
    assert scan(bad, indices, indptr, n, d)[0] == CSRStatus.NON_FINITE_VALUE
    bad[0] = 1e200
    assert scan(bad, indices, indptr, n, d)[0] == CSRStatus.SQUARE_OVERFLOW
    # Structure only: values are not read.
    assert scan(bad, indices, indptr, n, d, check_values=False)[0] == CSRStatus.CANONICAL


def _scan_twin(data, indices, indptr, n_rows, n_cols):
    """The scan in NumPy, row by row: the first bad row's status, else
    NOT_CANONICAL at the first unsorted row, else CANONICAL with the sums."""
    if indptr[0] != 0:
        return CSRStatus.BAD_INDPTR_START, 0, 0.0, 0.0
    if indptr[-1] != indices.shape[0]:
        return CSRStatus.BAD_INDPTR_END, n_rows - 1, 0.0, 0.0
    code, first, total, largest = CSRStatus.CANONICAL, -1, 0.0, 0.0
    for i in range(n_rows):
        start, end = int(indptr[i]), int(indptr[i + 1])
        if end < start or end > indices.shape[0]:
            return CSRStatus.INDPTR_DECREASES, i, 0.0, 0.0
        row = indices[start:end].astype(np.int64)
        if np.any((row < 0) | (row >= n_cols)):
            return CSRStatus.INDEX_OUT_OF_RANGE, i, 0.0, 0.0
        if code == CSRStatus.CANONICAL and np.any(np.diff(row) <= 0):
            code, first = CSRStatus.NOT_CANONICAL, i
        sq = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for v in data[start:end].astype(np.float64):
                sq += v * v
        if not np.isfinite(sq):
            bad = not np.all(np.isfinite(data[start:end]))
            return (CSRStatus.NON_FINITE_VALUE if bad else CSRStatus.SQUARE_OVERFLOW), i, 0.0, 0.0
        total += sq
        largest = max(largest, sq)
    return code, first, total, largest


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ones", [True, False])
def test_scan_matches_its_twin_on_corrupted_arrays(index_dtype, dtype, ones):
    """The flat passes that prove valid input, and the row-by-row scan that
    names the first bad row, answer as the NumPy twin does: the status, the
    row and the sums (bit for bit), on valid arrays and on each kind of
    corruption, empty rows included."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        n, d = int(rng.integers(1, 12)), int(rng.integers(1, 9))
        X = sp.random(n, d, density=float(rng.uniform(0, 0.8)), format="csr",
                      random_state=rng, dtype=np.float64)
        data = (np.ones(X.nnz) if ones else rng.standard_normal(X.nnz)).astype(dtype)
        indices, indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
        kind = trial % 7
        if X.nnz and kind == 1:
            indices[rng.integers(X.nnz)] = rng.choice([-1, d, d + 5])
        elif X.nnz >= 2 and kind == 2:
            k = int(rng.integers(1, X.nnz))
            indices[k] = indices[k - 1]                 # a repeat, perhaps across rows
        elif X.nnz and kind == 3:
            data[rng.integers(X.nnz)] = rng.choice([np.nan, np.inf, -np.inf])
        elif X.nnz and kind == 4:
            data[rng.integers(X.nnz)] = dtype(1e30) if dtype == np.float32 else 1e200
        elif n >= 2 and kind == 5:
            indptr[rng.integers(1, n)] = indptr[-1] + 1  # jumps past the end
        elif kind == 6 and X.nnz:
            data[rng.integers(X.nnz)] = -0.0 if ones else 1.0
        got = scan(data, indices, indptr, n, d)
        want = _scan_twin(data, indices, indptr, n, d)
        assert got[:2] == tuple(int(v) for v in want[:2]), (trial, kind)
        if got[0] == CSRStatus.CANONICAL:
            assert (got[2], got[3]) == (want[2], want[3])


def test_scan_range_in_the_indices_width():
    """int32 indices against more columns than int32 can count, and no
    columns at all."""
    indices, indptr = np.array([0, 2**31 - 1], dtype=np.int32), np.array([0, 2], dtype=np.int32)
    data = np.ones(2)
    assert scan(data, indices, indptr, 1, 2**40)[0] == CSRStatus.CANONICAL
    assert scan(data, indices, indptr, 1, 2**31 - 1)[:2] == (CSRStatus.INDEX_OUT_OF_RANGE, 0)
    assert scan(data[:1], indices[:1], np.array([0, 1], np.int32), 1, 0)[0] == \
        CSRStatus.INDEX_OUT_OF_RANGE
    empty = np.zeros(0, dtype=np.int64)
    assert scan(np.zeros(0), empty, np.zeros(4, np.int64), 3, 0) == (CSRStatus.CANONICAL, -1,
                                                                       0.0, 0.0)


def test_the_proof_cannot_be_forged_or_written(sparse_problem):
    X, _ = sparse_problem(n_samples=30, n_features=20)
    P = proved_csr(X)
    assert P.proved and P.shape == X.shape and P.nnz == X.nnz
    # The caller's arrays, not copies, read-only through the proof.
    assert np.shares_memory(P.data, X.data) and np.shares_memory(P.indices, X.indices)
    with pytest.raises(ValueError, match="read-only"):
        P.data[0] = 1.0
    with pytest.raises(AttributeError):
        P.proved = True
    with pytest.raises(TypeError):

        class Forged(CSR):  # a final class: no subclass can fake the fields
            pass

    blank = CSR.__new__(CSR)
    assert not blank.proved
    from fastlinear._dual_cd_fast import dual_cd as kernel

    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        kernel(blank, np.ones(0), np.ones(0), np.zeros(1), np.zeros(0), loss=2, bias=1.0,
               tol=0.1, max_iter=1, seed=0)


def test_unpickling_proves_again(sparse_problem):
    X, _ = sparse_problem(n_samples=30, n_features=20)
    P = pickle.loads(pickle.dumps(proved_csr(X)))
    assert P.proved and np.array_equal(P.indices, X.indices)
    state = proved_csr(X).__reduce__()
    data, indices, indptr, shape = state[1]
    indices = indices.copy()
    indices[0] = 10**6
    with pytest.raises(ValueError, match="outside"):
        state[0](data, indices, indptr, shape)


def test_duplicates_are_summed_in_a_private_copy():
    X = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 2, 0]), np.array([0, 3])), shape=(1, 4))
    P = checked_csr(X.data, X.indices, X.indptr, X.shape, sum_duplicates=True)
    np.testing.assert_array_equal(P.indices, [0, 2])
    np.testing.assert_array_equal(P.data, [3.0, 3.0])
    np.testing.assert_array_equal(X.indices, [2, 2, 0])  # untouched
    with pytest.raises(ValueError, match="unsorted or duplicate"):
        checked_csr(X.data, X.indices, X.indptr, X.shape)


@pytest.mark.parametrize("fmt", ["csc", "coo"])
def test_other_formats_are_checked_before_scipy_converts_them(fmt, sparse_problem):
    X, y = sparse_problem(n_samples=40, n_features=15, density=0.2)
    Y = X.asformat(fmt)
    if fmt == "csc":
        Y.indices[0] = 10**6  # a row index out of range
    else:
        Y.row[0] = -3
    with pytest.raises(ValueError, match="outside"):
        LinearSVC().fit(Y, y)
    with pytest.raises(ValueError, match="outside"):
        LinearSVC().fit(X, y).predict(Y)


# ------------------------------------------------------------ the problems


def test_one_vs_rest_labels_costs_and_objectives(sparse_problem):
    X, y = sparse_problem(n_samples=120, n_features=30, n_classes=3, seed=3)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, y.shape[0])
    classes = np.unique(y)
    ovr = OneVsRest(proved_csr(X), y, classes, 0.7, {0: 2.0, 2: 0.5}, sw, "squared_hinge", 1.5)
    assert ovr.n_problems == 3
    w = np.random.RandomState(1).randn(X.shape[1] + 1)
    for k in range(3):
        problem = ovr.problem(k)
        y_pm = np.where(y == k, 1.0, -1.0)
        cost = 0.7 * sw * np.where(y == k, {0: 2.0, 1: 1.0, 2: 0.5}[k], 1.0)
        np.testing.assert_array_equal(problem.y, y_pm)
        np.testing.assert_allclose(problem.cost, cost)
        z = X @ w[:-1] + 1.5 * w[-1]
        expected = 0.5 * w @ w + cost @ np.maximum(0, 1 - y_pm * z) ** 2
        np.testing.assert_allclose(problem.primal(w), expected)
    binary = OneVsRest(proved_csr(X), (y == 2).astype(int), np.array([0, 1]), 1.0, "balanced",
                       np.ones(y.shape[0]), "hinge", 0.0)
    counts = np.bincount((y == 2).astype(int))
    np.testing.assert_allclose(binary.problem(0).cost,
                               (y.shape[0] / (2 * counts))[(y == 2).astype(int)])


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_duality_gap_vanishes_at_the_solution(loss, sparse_problem):
    X, y = sparse_problem(n_samples=300, n_features=60, seed=4)
    ovr = OneVsRest(proved_csr(X), y, np.array([0, 1]), 0.5, None, np.ones(300), loss, 1.0)
    problem = ovr.problem(0)
    sol = dual_cd(problem, tol=1e-8, max_iter=100000, seed=0)
    assert sol.status == Status.CONVERGED
    np.testing.assert_allclose(problem.w_from_alpha(sol.alpha), sol.w, atol=1e-10)
    assert 0 <= problem.duality_gap(sol.w, sol.alpha) < 1e-6
    # Far from the solution, the gap is large and positive.
    assert problem.duality_gap(np.zeros_like(sol.w), sol.alpha * 0.5) > 1e-2
    if loss == "squared_hinge":
        primal = newton(problem, tol=1e-10, max_iter=100)
        np.testing.assert_allclose(problem.primal(primal.w), problem.primal(sol.w), rtol=1e-8)
        np.testing.assert_allclose(problem.alpha_from_w(primal.w), primal.alpha)


def test_regression_problem_objectives(sparse_regression):
    X, y, _ = sparse_regression(n_samples=80, n_features=20)
    sw = np.linspace(0.5, 1.5, 80)
    for loss, power in (("epsilon_insensitive", 1), ("squared_epsilon_insensitive", 2)):
        problem = regression_problem(proved_csr(X), y, 2.0, sw, loss, 0.3, 1.0)
        w = np.random.RandomState(2).randn(21)
        r = np.maximum(0, np.abs(X @ w[:-1] + w[-1] - y) - 0.3)
        np.testing.assert_allclose(problem.primal(w), 0.5 * w @ w + (2.0 * sw) @ r**power)
        beta = np.random.RandomState(3).uniform(-1, 1, 80)
        wb = problem.w_from_alpha(beta)
        diag = 0.0 if power == 1 else 0.25 / sw
        expected = 0.5 * wb @ wb + 0.5 * np.sum(diag * beta**2) - y @ beta + 0.3 * np.abs(beta).sum()
        np.testing.assert_allclose(problem.dual(beta), expected)


def test_objective_helper_follows_class_weight_to_the_problem(sparse_problem):
    """class_weight goes LinearSVC.fit -> OneVsRest -> the kernel's costs; the
    objective helper builds the same problem."""
    X, y = sparse_problem(n_samples=200, n_features=40, seed=5)
    clf = LinearSVC(C=0.3, class_weight={0: 3.0}, tol=1e-8, max_iter=20000, random_state=0).fit(X, y)
    ovr = OneVsRest(proved_csr(X), y, clf.classes_, 0.3, {0: 3.0}, np.ones(200), "squared_hinge", 1.0)
    w = np.append(clf.coef_[0], clf.intercept_[0])
    np.testing.assert_allclose(linear_svc_objective(clf, X, y)[0], ovr.problem(0).primal(w))
    alpha = clf.dual_coef_[0] * ovr.problem(0).y
    assert ovr.problem(0).duality_gap(w, alpha) < 1e-6


# --------------------------------------------------------------- labels


def test_class_weight_is_validated_in_one_place():
    classes = np.array([0, 1, 2])
    counts = np.array([10.0, 5.0, 5.0])
    np.testing.assert_allclose(check_class_weight("balanced", classes, counts), [2 / 3, 4 / 3, 4 / 3])
    np.testing.assert_allclose(check_class_weight({1: 2.0}, classes, counts), [1, 2, 1])
    # Labels beyond y's classes are ignored once every class has its weight
    # (scikit-learn's rule: a cross-validation fold that lacks a class).
    np.testing.assert_allclose(check_class_weight({0: 1, 1: 2, 2: 3, 9: -1.0}, classes, counts), [1, 2, 3])
    for bad, match in [({1: -1.0}, "finite and >= 0"), ({1: np.nan}, "finite"), ({1: np.inf}, "finite"),
                       ({0: 0, 1: 0, 2: 0}, "Every class weight is zero"), ({5: 1.0}, "not classes of y"),
                       ({1: "x"}, "must be a number")]:
        with pytest.raises(ValueError, match=match):
            check_class_weight(bad, classes, counts)


@pytest.mark.parametrize("class_weight", [{0: -1.0, 1: 1.0}, {0: np.nan, 1: 1.0}, {0: 0.0, 1: 0.0}])
@pytest.mark.parametrize("dual", [True, False])
def test_bad_class_weight_is_refused_by_every_solver(class_weight, dual, sparse_problem):
    X, y = sparse_problem(n_samples=60, n_features=10)
    with pytest.raises(ValueError, match="class_weight|class weight"):
        LinearSVC(class_weight=class_weight, dual=dual).fit(X, y)


def test_labels_are_encoded_in_one_place():
    classes = np.array([-1, 3, 7])
    np.testing.assert_array_equal(encode_known(classes, [7, -1, 3]), [2, 0, 1])
    with pytest.raises(ValueError, match=r"not fitted on: \[5\]"):
        encode_known(classes, [7, 5])
    np.testing.assert_array_equal(integer_labels(np.array([1.0, -2.0])), [1, -2])
    for bad, match in [([1.5], "not an integer"), ([np.inf], "not a finite"), ([1e30], "label range"),
                       ([2.0**31], "label range"), (["a"], "integer class labels")]:
        with pytest.raises(ValueError, match=match):
            integer_labels(np.array(bad))


# ------------------------------------------------- validation once per search


def test_the_search_validates_once_and_copies_each_fold_once(monkeypatch, sparse_problem):
    """One scan of X at the edge; each fold's rows copied once, from the
    proof, without a scan of their own (row_subset)."""
    X, y = sparse_problem(n_samples=300, n_features=40, seed=6)
    dense = X.toarray()
    calls = {"edge": 0, "folds": 0}
    real_edge = validation_module.proved_csr
    real_fold = model_selection_module.row_subset

    def edge(*args, **kwargs):
        calls["edge"] += 1
        return real_edge(*args, **kwargs)

    def fold(*args, **kwargs):
        calls["folds"] += 1
        return real_fold(*args, **kwargs)

    monkeypatch.setattr(validation_module, "proved_csr", edge)
    monkeypatch.setattr(model_selection_module, "row_subset", fold)
    import fastlinear._base as base_module

    # Scoring checks each test fold at predict time: not counted here.
    monkeypatch.setattr(base_module, "check_X_predict", lambda est, X, caller="": X)
    LinearSVCCV(Cs=[0.01, 0.1, 1, 10, 100], cv=3, random_state=0).fit(dense, y)
    assert calls == {"edge": 1, "folds": 3}


def test_a_fold_with_one_class_names_the_fold(sparse_problem):
    X, _ = sparse_problem(n_samples=60, n_features=10)
    y = np.zeros(60, dtype=int)
    y[:3] = 1  # KFold's first fold trains on class 0 only
    from sklearn.model_selection import KFold

    with pytest.raises(ValueError, match=r"fold 1 of 3.*only one class.*stratified"):
        LinearSVCCV(Cs=[1.0], cv=KFold(3)).fit(X, y)


@pytest.mark.parametrize("make, expected", [
    (lambda: LinearSVC(intercept_scaling=3.0), 3.0),
    (lambda: LinearSVC(fit_intercept=False, intercept_scaling=3.0), 0.0),
    (lambda: fastlinear.LinearSVR(intercept_scaling=2.0), 2.0),
    (lambda: fastlinear.LogisticRegression(solver="liblinear", intercept_scaling=4.0), 4.0),
    (lambda: fastlinear.LogisticRegression(intercept_scaling=4.0), 1.0),
    (lambda: sklearn.linear_model.LogisticRegression(intercept_scaling=4.0), 1.0),
    (lambda: sklearn.linear_model.LogisticRegression(solver="liblinear", intercept_scaling=4.0),
     4.0),
    (lambda: sklearn.svm.LinearSVC(intercept_scaling=5.0), 5.0),
])
def test_bias_of_names_the_constant_feature_each_solver_appends(make, expected):
    assert bias_of(make()) == expected


@pytest.mark.parametrize("solver", ["lbfgs", "liblinear"])
def test_weights_with_bias_puts_a_logistic_fit_back_in_its_problem(solver, sparse_problem):
    """The weights read back from a fit (ours or scikit-learn's) are the
    problem's: same decision values with the solver's constant feature."""
    X, y = sparse_problem()
    for cls in (fastlinear.LogisticRegression, sklearn.linear_model.LogisticRegression):
        est = cls(solver=solver, intercept_scaling=3.0, C=0.5).fit(X, y)
        W = weights_with_bias(est)
        scores = X @ W[0, :-1] + bias_of(est) * W[0, -1]
        np.testing.assert_allclose(scores, est.decision_function(X), rtol=1e-6, atol=1e-6)


def test_class_weights_beyond_a_folds_classes_as_scikit_learn():
    """A dict naming every class, in a fold that lacks one: scikit-learn fits
    (the extra label is ignored); so do the estimators here, to the same scores."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.svm import LinearSVC as SkLinearSVC

    from fastlinear import LinearSVC, LogisticRegression

    X, y = load_iris(return_X_y=True)
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    for ours, theirs in ((LogisticRegression, SkLogisticRegression), (LinearSVC, SkLinearSVC)):
        scores = cross_val_score(ours(class_weight=weights, max_iter=10_000), X, y, cv=KFold(3),
                                 error_score="raise")
        expected = cross_val_score(theirs(class_weight=weights, max_iter=10_000), X, y, cv=KFold(3))
        np.testing.assert_allclose(scores, expected, atol=0.05)
