"""Identical samples merged for the primal solvers (fastlinear._merge)."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastlinear import LogisticRegression, _merge
from fastlinear._csr_fast import repeats_at_most, row_groups
from fastlinear._problem import LinearProblem
from fastlinear._solvers import newton_tol
from fastlinear._validation import ClassificationData, proved_csr


def _groups_by_python(X, labels):
    """The twin of row_groups: a dict of (label, indices, values) per row."""
    X = sp.csr_matrix(X)
    seen, first = {}, []
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        key = (int(labels[i]), tuple(X.indices[lo:hi].tolist()),
               tuple(float(v) + 0.0 for v in X.data[lo:hi]))
        first.append(seen.setdefault(key, i))
    return np.array(first)


def _with_repeats(seed=0, n=400, d=30, dtype=np.float64, index=np.int32):
    """Random rows, a third of them drawn again (some with the other label)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.15, format="csr", random_state=rng, dtype=dtype)
    X.data = np.round(X.data * 3) / 3         # few distinct values
    picks = rng.integers(0, n, n // 3)
    X = sp.vstack([X, X[picks]]).tocsr()
    labels = rng.integers(0, 3, n)
    again = np.where(rng.random(picks.size) < 0.8, labels[picks], rng.integers(0, 3, picks.size))
    labels = np.concatenate([labels, again])
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    return X, labels.astype(np.intp)


@pytest.mark.parametrize("dtype, index", [(np.float64, np.int32), (np.float32, np.int64)])
def test_row_groups_matches_its_twin(dtype, index):
    X, labels = _with_repeats(dtype=dtype, index=index)
    first = row_groups(proved_csr(X), labels)
    np.testing.assert_array_equal(first, _groups_by_python(X, labels))
    assert np.count_nonzero(first != np.arange(X.shape[0])) > 50


def test_row_groups_compares_values_not_their_storage():
    """-0.0 and 0.0 are one value; a stored zero is not an absent entry;
    empty rows with one label are one group; the label splits groups."""
    X = sp.csr_matrix((np.array([0.0, -0.0, 0.0, 2.0, 2.0]),
                       np.array([1, 1, 1, 0, 0]), np.array([0, 1, 2, 3, 3, 3, 4, 5, 5])),
                      shape=(8, 3))
    labels = np.array([0, 0, 1, 0, 0, 0, 0, 0], dtype=np.intp)
    # rows: {1: 0}, {1: -0}, {1: 0} (label 1), {}, {}, {0: 2}, {0: 2}, {}
    first = row_groups(proved_csr(X), labels)
    np.testing.assert_array_equal(first, [0, 0, 2, 3, 3, 5, 5, 3])
    assert row_groups(proved_csr(sp.csr_matrix((0, 3))), np.zeros(0, dtype=np.intp)).shape == (0,)
    with pytest.raises(ValueError, match="labels must have shape"):
        row_groups(proved_csr(X), labels[:3])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype, index", [(np.float64, np.int32), (np.float32, np.int64)])
def test_repeats_at_most_bounds_the_repeated_rows(seed, dtype, index):
    """The bound counts every row that repeats an earlier one (and, by the
    bitmap's collisions, a few more); ``stop_at`` ends the count there."""
    X, labels = _with_repeats(seed=seed, dtype=dtype, index=index)
    n = X.shape[0]
    repeats = np.count_nonzero(_groups_by_python(X, labels) != np.arange(n))
    P = proved_csr(X)
    bound = repeats_at_most(P, labels)
    # Rows of 30 columns at density 0.15 share their ends at times: the
    # bound is a bound, not the count.
    assert repeats <= bound < repeats + n // 20
    assert repeats_at_most(P, labels, stop_at=repeats // 2) == repeats // 2
    assert repeats_at_most(P, labels, stop_at=n) == bound
    assert repeats_at_most(P, labels, stop_at=0) == 0


def test_repeats_at_most_separates_rows_that_differ_at_their_ends():
    """Text-like rows (distinct lengths or end values) give a bound near 0,
    so that merging is ruled out without hashing every value."""
    rng = np.random.default_rng(0)
    X = sp.random(2000, 5000, density=0.01, format="csr", random_state=rng)
    labels = rng.integers(0, 2, 2000).astype(np.intp)
    assert repeats_at_most(proved_csr(X), labels) < 2000 // 20
    empty = proved_csr(sp.csr_matrix((5, 3)))
    assert repeats_at_most(empty, np.zeros(5, dtype=np.intp)) == 4
    assert repeats_at_most(proved_csr(sp.csr_matrix((0, 3))), np.zeros(0, dtype=np.intp)) == 0
    with pytest.raises(ValueError, match="labels must have shape"):
        repeats_at_most(empty, np.zeros(4, dtype=np.intp))


def test_merge_groups_by_length_orders_the_distinct_rows_by_their_lengths():
    """``by_length``: the same groups, the distinct rows in order of their
    lengths (stably), every sample mapped to a row equal to its own; the
    two orders are kept apart in ``derived``."""
    X, labels = _with_repeats(seed=3)
    data = ClassificationData(proved_csr(X), labels, np.unique(labels), np.ones(X.shape[0]),
                              derived={})
    rows, inverse, P = _merge.merge_groups(data, by_length=True)
    plain_rows, plain_inverse, _ = _merge.merge_groups(data)
    lengths = np.diff(X.indptr)[rows]
    assert np.all(np.diff(lengths) >= 0) and np.any(np.diff(np.diff(X.indptr)[plain_rows]) < 0)
    np.testing.assert_array_equal(
        rows, plain_rows[np.argsort(np.diff(X.indptr)[plain_rows], kind="stable")])
    dense, merged_dense = X.toarray(), P.to_scipy().toarray()
    np.testing.assert_array_equal(merged_dense[inverse], dense)
    np.testing.assert_array_equal(labels[rows][inverse], labels)
    assert _merge.merge_groups(data, by_length=True)[0] is rows
    assert _merge.merged(data, by_length=True) is not _merge.merged(data)


@pytest.mark.parametrize("largest", [0, 300, 65535, 65536, 2**40])
def test_stable_order_is_numpys_stable_argsort(largest):
    """The 16-bit radix path and the 64-bit one give NumPy's stable order."""
    lengths = np.random.default_rng(5).integers(0, largest + 1, 3000)
    lengths[-1] = largest
    np.testing.assert_array_equal(_merge._stable_order(lengths),
                                  np.argsort(lengths, kind="stable"))
    assert _merge._stable_order(lengths[:0]).shape == (0,)


def test_merged_skips_the_full_hash_when_the_bound_rules_merging_out(monkeypatch):
    rng = np.random.default_rng(2)
    data = _data(rng.normal(size=(300, 5)), np.zeros(300, dtype=int), np.ones(300))

    def fail(*args):
        raise AssertionError("row_groups ran")
    monkeypatch.setattr(_merge, "row_groups", fail)
    assert _merge.merged(data) is data


def _data(X, y_ind, sample_weight, derived=None):
    return ClassificationData(proved_csr(sp.csr_matrix(X)), np.asarray(y_ind, dtype=np.intp),
                              np.unique(y_ind), np.asarray(sample_weight, dtype=np.float64),
                              derived=derived)


def test_merged_sums_weights_and_counts_the_samples_of_positive_weight():
    X = np.array([[1.0, 0], [1, 0], [0, 2], [1, 0], [0, 2], [3, 3]])
    y = [0, 0, 1, 0, 0, 1]
    sw = [1.0, 0.0, 2.0, 0.5, 1.0, 1.0]
    data = _merge.merged(_data(X, y, sw, derived={}))
    np.testing.assert_array_equal(data.X.to_scipy().toarray(), [[1, 0], [0, 2], [0, 2], [3, 3]])
    np.testing.assert_array_equal(data.y_ind, [0, 1, 0, 1])
    np.testing.assert_array_equal(data.sample_weight, [1.5, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(data.counts, [2, 1, 1, 1])
    # The merged rows' derived values are kept apart from the full rows'.
    assert data.derived is not None and "XT" not in data.derived
    assert _merge.merged(data) is data           # (merged data is not merged again)


def test_merged_data_is_kept_for_the_weights_it_summed():
    """A path over C merges once; the same rows with other weights (the same
    derived values) are merged again, not served the kept sums."""
    X = np.array([[1.0, 0], [1, 0], [0, 2], [1, 0], [0, 2], [3, 3]])
    y = [0, 0, 1, 0, 0, 1]
    data = _data(X, y, [1.0] * 6, derived={})
    first = _merge.merged(data)
    assert _merge.merged(data) is first
    other = _merge.merged(data._replace(sample_weight=np.full(6, 5.0)))
    np.testing.assert_array_equal(first.sample_weight, [3.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(other.sample_weight, [15.0, 5.0, 5.0, 5.0])


def test_merged_leaves_data_with_few_repeats_alone():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    X[:4] = X[4:8]                               # 4 repeats in 50: under MERGE_SHARE
    data = _data(X, np.arange(50) % 2 * 0, np.ones(50))
    data = data._replace(y_ind=np.zeros(50, dtype=np.intp))
    assert _merge.merged(data) is data


def test_merged_leaves_a_large_x_alone(monkeypatch):
    """No second X beyond MERGE_MAX_BYTES: the fit reads every row."""
    X = np.repeat(np.eye(4), 5, axis=0)
    data = _data(X, np.zeros(20, dtype=int), np.ones(20))
    assert _merge.merged(data).X.n_rows == 4
    monkeypatch.setattr(_merge, "MERGE_MAX_BYTES", 20 * 12 - 1)
    assert _merge.merged(data) is data


def test_liblinear_tolerance_counts_the_samples_a_row_stands_for():
    X, labels = _with_repeats(seed=3)
    y = np.where(labels == 1, 1.0, -1.0)
    full = _data(X, (labels == 1).astype(int), np.ones(X.shape[0]))
    merged = _merge.merged(full)
    assert merged.X.n_rows < full.X.n_rows
    y_m = np.where(merged.y_ind == 1, 1.0, -1.0)
    p_full = LinearProblem(full.X, y, np.ones(X.shape[0]), "logistic", 1.0)
    p_merged = LinearProblem(merged.X, y_m, merged.sample_weight, "logistic", 1.0,
                             counts=merged.counts)
    assert newton_tol(p_merged, 1e-2) == newton_tol(p_full, 1e-2)
    # (without the counts, each merged row would count once)
    p_rows = LinearProblem(merged.X, y_m, merged.sample_weight, "logistic", 1.0)
    assert newton_tol(p_rows, 1e-2) != newton_tol(p_full, 1e-2)


@pytest.mark.parametrize("params", [
    dict(),                                               # newton-cholesky
    dict(solver="liblinear"),                             # liblinear -s 0
    dict(l1_ratio=1.0),                                   # newGLMNET, free intercept
    dict(solver="liblinear", l1_ratio=1.0),               # liblinear -s 6
    dict(solver="newton-cg"),
    dict(class_weight="balanced"),
])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fits_on_merged_rows_solve_the_same_problem(monkeypatch, params, n_classes):
    """The same optimum, merged or not (objectives within the solvers' tol;
    weights to 1e-5 where the optimum is unique), with the same classes."""
    if n_classes == 3 and params.get("solver") == "liblinear":
        pytest.skip("liblinear is binary")
    X, labels = _with_repeats(seed=5, n=300, d=12)
    y = labels % n_classes
    repeats = np.count_nonzero(row_groups(proved_csr(X), y.astype(np.intp)) != np.arange(len(y)))
    assert repeats >= _merge.MERGE_SHARE * len(y)
    kw = dict(C=3.0, tol=1e-8, max_iter=500, random_state=0, **params)
    merged = LogisticRegression(**kw).fit(X, y)
    monkeypatch.setattr(_merge, "MERGE_SHARE", 2.0)          # never merge
    plain = LogisticRegression(**kw).fit(X, y)
    np.testing.assert_array_equal(merged.classes_, plain.classes_)
    np.testing.assert_allclose(merged.coef_, plain.coef_, atol=1e-5)
    np.testing.assert_allclose(merged.intercept_, plain.intercept_, atol=1e-5)
    np.testing.assert_allclose(merged.predict_proba(X), plain.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("estimator", [
    dict(kind="logistic", solver="liblinear", l1_ratio=1.0),     # -s 6
    dict(kind="logistic", l1_ratio=0.5),                         # newGLMNET, free intercept
    dict(kind="logistic", l1_ratio=1.0, n_classes=3),            # proximal Newton
    dict(kind="svc", penalty="l1", dual=False),                  # -s 5
])
def test_l1_solvers_take_the_same_path_on_merged_rows(monkeypatch, a9a, estimator):
    """The L1 solvers' shrinking thresholds divide by the samples in use:
    merged rows count the samples they stand for, so a loose tol stops at
    the same point (to rounding), with the same iterations.  (Counting the
    rows instead moved -s 6's weights on a9a by 0.6 at tol=0.01.)"""
    from fastlinear import LinearSVC

    params = dict(estimator)
    kind, n_classes = params.pop("kind"), params.pop("n_classes", 2)
    X, y = a9a[0], a9a[1]
    if n_classes == 3:
        y = np.where(np.asarray(X[:, 0].todense()).ravel() > 0, 0, y)   # a third class
    make = LogisticRegression if kind == "logistic" else LinearSVC
    kw = dict(C=1.0, tol=1e-2, random_state=0, **params)
    merged = make(**kw).fit(X, y)
    monkeypatch.setattr(_merge, "MERGE_SHARE", 2.0)
    plain = make(**kw).fit(X, y)
    np.testing.assert_allclose(merged.coef_, plain.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(merged.n_iter_, plain.n_iter_)


def test_fit_on_repeats_equals_the_fit_on_weights():
    """Repeating a row k times is weighting it by k: with merging the two fits
    solve the same rows (scikit-learn's sample-weight equivalence)."""
    X, labels = _with_repeats(seed=9, n=200, d=10)
    y = labels % 2
    rows = np.arange(X.shape[0])
    first = row_groups(proved_csr(X), y.astype(np.intp))
    keep = np.flatnonzero(first == rows)
    weights = np.bincount(first, minlength=X.shape[0])[keep].astype(float)
    a = LogisticRegression(C=2.0, tol=1e-10).fit(X, y)
    b = LogisticRegression(C=2.0, tol=1e-10).fit(X[keep], y[keep], sample_weight=weights)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_primal_svm_on_merged_rows_solves_the_same_problem(monkeypatch, penalty, n_classes):
    """LinearSVC(dual=False) (liblinear -s 5 and -s 2) on the distinct rows:
    the same weights as on every row (liblinear's tolerance counts every
    sample), and for the L2 penalty the same dual_coef_, one per sample:
    a row's dual spread over its samples in proportion to their costs."""
    from fastlinear import LinearSVC

    X, labels = _with_repeats(seed=11, n=300, d=12)
    y = labels % n_classes
    sample_weight = np.random.default_rng(2).uniform(0.0, 2.0, X.shape[0])
    sample_weight[::9] = 0.0
    kw = dict(C=0.5, penalty=penalty, dual=False, tol=1e-10, max_iter=5000, random_state=0)
    merged = LinearSVC(**kw).fit(X, y, sample_weight=sample_weight)
    monkeypatch.setattr(_merge, "MERGE_SHARE", 2.0)
    plain = LinearSVC(**kw).fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(merged.coef_, plain.coef_, atol=1e-6)
    np.testing.assert_allclose(merged.intercept_, plain.intercept_, atol=1e-6)
    if penalty == "l1":
        assert not hasattr(merged, "dual_coef_")
    else:
        assert merged.dual_coef_.shape == (1 if n_classes == 2 else 3, X.shape[0])
        np.testing.assert_allclose(merged.dual_coef_, plain.dual_coef_, atol=1e-6)
        assert np.all(merged.dual_coef_[:, sample_weight == 0] == 0)


@pytest.mark.parametrize("dtype, index", [(np.float64, np.int32), (np.float32, np.int64)])
def test_row_subset_is_the_proof_of_the_rows(dtype, index):
    """row_subset copies the rows (any order, repeats) and proves them without
    a scan: the same arrays and figures as proving X[rows] from scratch, the
    values in X's dtype, the indices in int32 (they fit)."""
    from fastlinear._csr_fast import row_subset

    X, _ = _with_repeats(seed=4, dtype=dtype, index=index)
    P = proved_csr(X)
    for rows in (np.arange(0, X.shape[0], 3), np.array([5, 5, 0, 17]), np.zeros(0, int)):
        S, Q = row_subset(P, rows), proved_csr(X[rows])
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(S, name), getattr(Q, name))
        assert S.data.dtype == P.data.dtype
        assert S.indices.dtype == S.indptr.dtype == np.int32
        assert (S.shape, S.nnz, S.ones, S.proved) == (Q.shape, Q.nnz, Q.ones, True)
        np.testing.assert_allclose([S.sq_sum, S.max_row_sq], [Q.sq_sum, Q.max_row_sq], rtol=1e-12)
    # Columns beyond int32: the copy keeps 64-bit indices.
    wide = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([0, 2**31 + 4, 7], dtype=np.int64),
                          np.array([0, 2, 2, 3], dtype=np.int64)), shape=(3, 2**31 + 5))
    S = row_subset(proved_csr(wide), np.array([2, 0]))
    assert S.indices.dtype == S.indptr.dtype == np.int64
    np.testing.assert_array_equal(S.indices, [7, 0, 2**31 + 4])
    np.testing.assert_array_equal(S.indptr, [0, 1, 3])
    ones = proved_csr(sp.csr_matrix(np.eye(3)))
    assert row_subset(ones, [2, 0]).ones and not row_subset(ones, []).ones
    with pytest.raises(ValueError, match=r"row numbers must lie in \[0, 3\)"):
        row_subset(ones, [0, 3])
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        row_subset(sp.csr_matrix(np.eye(3)), [0])


@pytest.mark.parametrize("dtype, index", [(np.float64, np.int32), (np.float32, np.int64)])
@pytest.mark.parametrize("ones", [False, True])
def test_transpose_is_the_proof_of_the_transposed_rows(dtype, index, ones):
    """transpose gives the arrays and figures of proving scipy's X.T from
    scratch (squared norms to the bit), int32 indices when they fit; with
    0/1 values it shares X's read-only values instead of copying them."""
    from fastlinear._csr_fast import transpose

    rng = np.random.RandomState(5)
    for shape in ((60, 25), (7, 1), (1, 9), (0, 4), (4, 0)):
        X = sp.random(*shape, density=0.3, format="csr", random_state=rng, dtype=dtype)
        if ones:
            X.data[:] = 1
        X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
        P = proved_csr(X)
        T, Q = transpose(P), proved_csr(X.T.tocsr())
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(T, name), getattr(Q, name))
        assert T.data.dtype == dtype and T.indices.dtype == T.indptr.dtype == np.int32
        assert (T.shape, T.nnz, T.ones, T.proved) == (Q.shape, Q.nnz, Q.ones, True)
        assert (T.sq_sum, T.max_row_sq) == (Q.sq_sum, Q.max_row_sq)
        assert not T.data.flags.writeable
        assert np.shares_memory(T.data, P.data) == (ones and P.nnz > 0)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        transpose(sp.csr_matrix(np.eye(3)))


@pytest.mark.parametrize("params", [dict(l1_ratio=1.0), dict(l1_ratio=0.5),
                                    dict(l1_ratio=1.0, solver="liblinear")])
def test_a_column_whose_squared_norm_overflows_is_refused(params):
    """Every row's squared norm is finite, column 0's overflows: the
    transpose refuses it as a scan of X.T would, naming the estimator (a
    multinomial L1 fit used to run to max_iter and return zeros)."""
    from fastlinear import LogisticRegression
    from fastlinear._csr_fast import transpose

    X = sp.csr_matrix(np.array([[1e154, 1.0], [1e154, 0.0], [1e154, 1.0], [0.0, 1.0],
                                [0.0, 1.0], [1e154, 0.0]]))
    with pytest.raises(ValueError, match=r"^me: the squared norm of column 0 overflows"):
        transpose(proved_csr(X), caller="me")
    y = [0, 1, 2, 0, 1, 2] if params.get("solver") != "liblinear" else [0, 1, 0, 1, 0, 1]
    with pytest.raises(ValueError, match=r"^LogisticRegression.fit: the squared norm of "
                                         r"column 0 overflows float64"):
        LogisticRegression(**params).fit(X, y)


def test_row_subset_of_ones_shares_the_values_while_they_suffice():
    """A copy of rows of a 0/1 matrix reads its values from X's own array (all
    ones) when it has at most X's nonzeros; repeated rows beyond that get
    their own."""
    from fastlinear._csr_fast import row_subset

    P = proved_csr(sp.csr_matrix(np.array([[1.0, 0, 1], [0, 1, 0], [1, 1, 1]])))
    S = row_subset(P, [2, 0])
    assert np.shares_memory(S.data, P.data) and not S.data.flags.writeable
    np.testing.assert_array_equal(S.to_scipy().toarray(), [[1, 1, 1], [1, 0, 1]])
    R = row_subset(P, [2, 2, 2])   # 9 nonzeros from X's 6
    assert not np.shares_memory(R.data, P.data) and R.ones
    np.testing.assert_array_equal(R.data, np.ones(9))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_to_scipy_squared_shares_the_structure_and_squares_in_float64(dtype):
    X = sp.random(30, 12, density=0.3, format="csr", random_state=5, dtype=dtype)
    P = proved_csr(X)
    S = P.to_scipy(squared=True)
    assert S.dtype == np.float64 and np.shares_memory(S.indices, P.to_scipy().indices)
    np.testing.assert_array_equal(S.toarray(), np.square(X.toarray().astype(np.float64)))
    assert P.to_scipy().dtype == dtype
