"""fastlinear.LinearSVC: parity with liblinear, optimality, exact reference, contract, bad input."""
import platform
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC as SkLinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlinear import LinearSVC, linear_svc_objective
from fastlinear._dual_cd_fast import dual_cd
from fastlinear._validation import proved_csr


def int32_csr(X):
    """sklearn's LinearSVC refuses 64-bit indices: a 32-bit copy for it."""
    X = sp.csr_matrix(X, copy=True)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


# --------------------------------------------------------------------------
# The assignment's workflow on a9a


def test_a9a_assignment_workflow(a9a):
    """3-fold CV over C picks C* = 0.1 and the test accuracy matches liblinear's.

    Reference (sklearn.svm.LinearSVC(dual=True, tol=1e-4, max_iter=60000,
    random_state=0)): CV means 0.84684, 0.84749, 0.84730, 0.84727 (C = 0.01,
    0.1, 1, 10; C = 100 gives 0.84727 too but takes a minute to converge, so
    it lives in bench/), test accuracy 0.849825.
    """
    X, y, X_test, y_test = a9a
    reference = {0.01: 0.84684, 0.1: 0.84749, 1.0: 0.84730, 10.0: 0.84727}
    means = {}
    for C, expected in reference.items():
        scores = cross_val_score(LinearSVC(C=C, max_iter=60000, random_state=0), X, y, cv=3)
        means[C] = scores.mean()
        assert abs(means[C] - expected) <= 0.002, (C, means[C])
    best_C = max(means, key=means.get)
    assert best_C == 0.1
    clf = LinearSVC(C=best_C, random_state=0).fit(X, y)
    assert abs(clf.score(X_test, y_test) - 0.849825) <= 0.001


# --------------------------------------------------------------------------
# Parity with liblinear (sklearn and liblinear-official)


def _dataset(name, sparse_problem):
    if name == "synthetic-sparse":
        return sparse_problem(n_samples=2000, n_features=500)
    if name == "synthetic-sparse-5class":
        return sparse_problem(n_samples=1500, n_features=400, n_classes=5, seed=1)
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("name", ["synthetic-sparse", "synthetic-sparse-5class", "digits", "breast-cancer"])
def test_objective_matches_sklearn(name, loss, sparse_problem):
    X, y = _dataset(name, sparse_problem)
    C = 0.1
    ours = quiet_fit(LinearSVC(C=C, loss=loss, random_state=0), X, y)
    theirs = quiet_fit(SkLinearSVC(C=C, loss=loss, dual=True, random_state=0), int32_csr(X) if sp.issparse(X) else X, y)
    f_ours = linear_svc_objective(ours, X, y)
    f_theirs = linear_svc_objective(theirs, X, y)
    np.testing.assert_allclose(f_ours, f_theirs, rtol=1e-3)
    assert np.mean(ours.predict(X) == theirs.predict(X)) >= 0.995


@pytest.mark.parametrize(
    "name, n_features, C",
    [("a9a.bz2", 123, 0.1), ("w8a.bz2", 300, 0.1), ("dna.scale.bz2", 180, 0.1),
     ("satimage.scale.bz2", 36, 1.0)],
)
@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
def test_objective_matches_sklearn_libsvm_sets(name, n_features, C, loss, shared_libsvm):
    X, y = shared_libsvm(name, n_features=n_features)
    ours = quiet_fit(LinearSVC(C=C, loss=loss, random_state=0), X, y)
    theirs = quiet_fit(SkLinearSVC(C=C, loss=loss, dual=True, random_state=0), int32_csr(X), y)
    np.testing.assert_allclose(
        linear_svc_objective(ours, X, y), linear_svc_objective(theirs, X, y), rtol=1e-3
    )
    assert np.mean(ours.predict(X) == theirs.predict(X)) >= 0.995


@pytest.mark.parametrize("loss, solver", [("squared_hinge", 1), ("hinge", 3)])
def test_objective_matches_liblinear_official(loss, solver, sparse_problem):
    liblinear = pytest.importorskip("liblinear.liblinearutil")
    X, y = sparse_problem(n_samples=1500, n_features=400, seed=3)
    C = 0.05  # small enough that liblinear's hinge solver converges in its 1000 passes
    labels = np.where(y == 1, 1.0, -1.0)
    model = liblinear.train(labels, int32_csr(X), f"-s {solver} -c {C} -B 1 -e 1e-4 -q")
    w_full = np.array([model.get_decfun_coef(j + 1) for j in range(X.shape[1])])
    b = model.get_decfun_bias()
    # liblinear's w points at its first label; make it point at +1.
    sign = 1.0 if model.get_labels()[0] == 1 else -1.0
    w_full, b = sign * w_full, sign * b
    margins = np.maximum(0.0, 1.0 - labels * (X @ w_full + b))
    f_liblinear = 0.5 * (w_full @ w_full + b * b) + C * np.sum(margins ** (2 if solver == 1 else 1))
    ours = quiet_fit(LinearSVC(C=C, loss=loss, tol=1e-4, max_iter=10000, random_state=0), X, y)
    np.testing.assert_allclose(linear_svc_objective(ours, X, y)[0], f_liblinear, rtol=1e-3)


# --------------------------------------------------------------------------
# Optimality conditions


def _projected_gradient(clf, X, y_pm, sample_C):
    """PG of the dual at the fitted solution, recomputed from scratch in NumPy."""
    alpha = clf.dual_coef_[0] * y_pm
    w = clf.coef_[0].astype(np.float64)
    b = clf.intercept_[0] / clf.intercept_scaling if clf.fit_intercept else 0.0
    bias = clf.intercept_scaling if clf.fit_intercept else 0.0
    hinge = clf.loss == "hinge"
    diag = np.zeros_like(sample_C) if hinge else 0.5 / sample_C
    upper = sample_C if hinge else np.full_like(sample_C, np.inf)
    G = y_pm * (X @ w + b * bias) - 1.0 + diag * alpha
    PG = np.where(alpha <= 0, np.minimum(G, 0), np.where(alpha >= upper, np.maximum(G, 0), G))
    return alpha, PG, w, b


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_kkt_conditions_and_primal_dual_link(loss, fit_intercept, sparse_problem):
    X, y = sparse_problem(n_samples=800, n_features=200, seed=5)
    y_pm = np.where(y == 1, 1.0, -1.0)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=y.shape[0])
    C = 0.3
    tol = 1e-6
    clf = LinearSVC(C=C, loss=loss, dual=True, tol=tol, max_iter=20000, random_state=0,
                    fit_intercept=fit_intercept, intercept_scaling=2.0).fit(X, y, sample_weight=sw)
    alpha, PG, w, b = _projected_gradient(clf, X, y_pm, C * sw)
    assert np.all(alpha >= 0)
    if loss == "hinge":
        assert np.all(alpha <= C * sw * (1 + 1e-12))
    # The stopping rule, recomputed independently (w is float64 here).
    assert PG.max() - PG.min() <= 10 * tol
    # w = sum_i y_i alpha_i x_i, intercept = scaling * sum_i y_i alpha_i * scaling.
    np.testing.assert_allclose(clf.dual_coef_[0] @ X, w, atol=1e-10)
    if fit_intercept:
        np.testing.assert_allclose(clf.dual_coef_[0].sum() * 2.0, b, atol=1e-10)
    # Duality gap: primal - (-dual) is small relative to the primal.
    primal = linear_svc_objective(clf, X, y, sample_weight=sw)[0]
    diag = 0.0 if loss == "hinge" else 0.5 / (C * sw)
    dual = 0.5 * (w @ w + b * b) + 0.5 * np.sum(diag * alpha**2) - alpha.sum()
    assert abs(primal + dual) <= 1e-4 * abs(primal)


# --------------------------------------------------------------------------
# Exact match with the NumPy twin


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("max_iter", [3, 200])
def test_exact_match_with_numpy_reference(loss, max_iter, sparse_problem, reference_dcd):
    X, y = sparse_problem(n_samples=150, n_features=60, density=0.1, seed=7)
    C, random_state, tol = 0.7, 11, 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LinearSVC(C=C, loss=loss, dual=True, tol=tol, max_iter=max_iter,
                        random_state=random_state).fit(X, y)
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max, size=1)[0]
    y_pm = np.where(y == 1, 1.0, -1.0)
    w, alpha, n_iter = reference_dcd(X, y_pm, np.full(y.shape[0], C), hinge=loss == "hinge",
                                     bias=1.0, tol=tol, max_iter=max_iter, seed=int(seed))
    assert clf.n_iter_ == n_iter
    np.testing.assert_allclose(clf.dual_coef_[0] * y_pm, alpha, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(clf.coef_[0], w[:-1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(clf.intercept_[0], w[-1], rtol=1e-12, atol=1e-14)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="bit-level replay: elsewhere (aarch64) compilers fuse multiply-adds")
@pytest.mark.parametrize("loss, C, random_state", [("hinge", 0.7, 0), ("hinge", 5.0, 1),
                                                    ("squared_hinge", 0.7, 2)])
def test_the_twin_replays_scikit_learns_liblinear(loss, C, random_state, sparse_problem,
                                                  reference_dcd):
    """The algorithm is scikit-learn's liblinear, step for step: the twin, given
    its visiting order (std::mt19937) and its order of additions, ends at its
    weights after the same number of passes."""
    from _reference import SklearnLiblinearRand

    X, y = sparse_problem(n_samples=200, n_features=60, density=0.1, seed=random_state)
    # Class 0 first: scikit-learn's liblinear groups the rows by class.
    rows = np.argsort(y, kind="stable")
    X, y = sp.csr_matrix(X)[rows], y[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SkLinearSVC(C=C, loss=loss, dual=True, tol=1e-3,
                             random_state=random_state).fit(X, y)
    y_pm = np.where(y == 1, 1.0, -1.0)
    w, _, n_iter = reference_dcd(X, y_pm, np.full(y.shape[0], C), hinge=loss == "hinge",
                                 bias=1.0, tol=1e-3, max_iter=1000, seed=0,
                                 rng=SklearnLiblinearRand(random_state), sums="sequential")
    assert n_iter == theirs.n_iter_ > 2
    scale = np.abs(w).max()
    np.testing.assert_allclose(theirs.coef_[0], w[:-1], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(theirs.intercept_[0], w[-1], rtol=0, atol=1e-12 * scale)


# --------------------------------------------------------------------------
# Input formats, dtypes, weights, determinism


def test_float32_stays_float32_and_matches_float64(sparse_problem):
    X, y = sparse_problem(seed=2)
    X32 = X.astype(np.float32)
    clf32 = LinearSVC(C=0.5, random_state=0).fit(X32, y)
    clf64 = LinearSVC(C=0.5, random_state=0).fit(X32.astype(np.float64), y)
    assert clf32.coef_.dtype == np.float32
    assert clf32.intercept_.dtype == np.float32
    assert clf32.decision_function(X32).dtype == np.float32
    # Same float32 values: the kernel accumulates in float64 either way.
    np.testing.assert_allclose(clf32.coef_, clf64.coef_, rtol=1e-5, atol=1e-6)


def test_dense_csr_and_index_widths_agree(sparse_problem):
    X, y = sparse_problem(n_classes=3, seed=4)
    X64 = sp.csr_matrix(X, copy=True)
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    ref = LinearSVC(C=0.2, random_state=3).fit(X, y)
    for Xv in (X64, X.toarray(), X.tocsc(), X.tocoo()):
        clf = LinearSVC(C=0.2, random_state=3).fit(Xv, y)
        np.testing.assert_array_equal(clf.coef_, ref.coef_)
        np.testing.assert_array_equal(clf.intercept_, ref.intercept_)


@pytest.mark.parametrize("path", ["dual_cd", "newton kernel", "exact newton"])
def test_64bit_indices_are_not_copied(monkeypatch, sparse_problem, path):
    import fastlinear._hessian_fast as hessian_module
    import fastlinear._solvers as solvers_module
    import fastlinear._squared_newton as squared_newton_module

    X, y = sparse_problem(seed=6)
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    seen = {}
    module, name = {"dual_cd": (solvers_module._dual_cd_fast, "dual_cd"),
                    "newton kernel": (solvers_module._newton_fast, "newton"),
                    "exact newton": (hessian_module, "binary_hessian")}[path]
    original = getattr(module, name)

    def spy(Xp, *args, **kwargs):
        seen["shares"] = (np.shares_memory(Xp.indices, X.indices) and np.shares_memory(Xp.indptr, X.indptr)
                          and np.shares_memory(Xp.data, X.data))
        return original(Xp, *args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    if path == "newton kernel":
        monkeypatch.setattr(squared_newton_module, "MAX_FEATURES", 0)
    LinearSVC(dual=path == "dual_cd", random_state=0).fit(X, y)
    assert seen["shares"]


def test_same_random_state_same_model_and_n_jobs_invariance(sparse_problem):
    X, y = sparse_problem(n_classes=4, seed=8)
    a = LinearSVC(C=1.0, random_state=5, n_jobs=1).fit(X, y)
    b = LinearSVC(C=1.0, random_state=5, n_jobs=2).fit(X, y)
    c = LinearSVC(C=1.0, random_state=5, n_jobs=-1).fit(X, y)
    for other in (b, c):
        np.testing.assert_array_equal(a.coef_, other.coef_)
        np.testing.assert_array_equal(a.intercept_, other.intercept_)
        np.testing.assert_array_equal(a.dual_coef_, other.dual_coef_)
    assert a.coef_.shape == (4, X.shape[1])


def test_multiclass_is_one_vs_rest(sparse_problem):
    X, y = sparse_problem(n_classes=3, seed=9)
    multi = LinearSVC(C=0.5, tol=1e-6, max_iter=5000, random_state=0).fit(X, y)
    for k in range(3):
        binary = LinearSVC(C=0.5, tol=1e-6, max_iter=5000, random_state=0).fit(X, (y == k).astype(int))
        np.testing.assert_allclose(
            linear_svc_objective(multi, X, y)[k], linear_svc_objective(binary, X, (y == k).astype(int))[0],
            rtol=1e-6,
        )


def test_sample_weight_equals_repetition(sparse_problem):
    X, y = sparse_problem(n_samples=300, seed=10)
    sw = np.random.RandomState(1).randint(0, 3, size=y.shape[0])
    rep = np.repeat(np.arange(y.shape[0]), sw)
    kw = dict(C=0.4, tol=1e-8, max_iter=20000, random_state=0)
    weighted = LinearSVC(**kw).fit(X, y, sample_weight=sw)
    repeated = LinearSVC(**kw).fit(X[rep], y[rep])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-5)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-5)
    # Zero-weight samples have zero dual variables.
    assert np.all(weighted.dual_coef_[0][sw == 0] == 0)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.3, 1: 2.0}])
def test_class_weight_matches_sklearn(class_weight, sparse_problem):
    X, y = sparse_problem(n_samples=800, seed=11)
    y = y * (np.arange(y.shape[0]) % 3 == 0)  # about 1 positive in 6
    ours = LinearSVC(C=0.5, class_weight=class_weight, random_state=0, max_iter=5000).fit(X, y)
    theirs = SkLinearSVC(C=0.5, class_weight=class_weight, dual=True, random_state=0, max_iter=5000).fit(X, y)
    np.testing.assert_allclose(linear_svc_objective(ours, X, y), linear_svc_objective(theirs, X, y), rtol=1e-4)


def test_string_labels_and_binary_shapes(sparse_problem):
    X, y = sparse_problem(seed=12)
    labels = np.array(["spam", "ham"])[y]
    clf = LinearSVC(random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["ham", "spam"]
    assert clf.coef_.shape == (1, X.shape[1])
    assert clf.intercept_.shape == (1,)
    assert clf.dual_coef_.shape == (1, X.shape[0])
    assert set(clf.predict(X)) <= {"ham", "spam"}
    assert clf.score(X, labels) > 0.8


def test_warm_start_reaches_the_same_objective_faster(sparse_problem):
    X, y = sparse_problem(n_samples=1500, seed=13)
    cold = LinearSVC(C=1.0, tol=1e-5, max_iter=5000, random_state=0).fit(X, y)
    warm = LinearSVC(C=0.5, tol=1e-5, max_iter=5000, random_state=0, warm_start=True).fit(X, y)
    warm.set_params(C=1.0).fit(X, y)
    np.testing.assert_allclose(linear_svc_objective(warm, X, y), linear_svc_objective(cold, X, y), rtol=1e-6)
    refit = warm.fit(X, y)  # already optimal: one confirming pass or two
    assert refit.n_iter_ <= 3


def test_convergence_warning_and_verbose(capsys, sparse_problem):
    X, y = sparse_problem(seed=14)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LinearSVC(C=10.0, dual=True, max_iter=2, random_state=0, verbose=1).fit(X, y)
    assert "optimization finished, #iter = 2" in capsys.readouterr().out


# --------------------------------------------------------------------------
# The sklearn contract


@parametrize_with_checks([LinearSVC(random_state=0, tol=1e-10, max_iter=100000)])
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# --------------------------------------------------------------------------
# Bad input: a clear error or a correct result, never a crash or a mutation


def _snapshot(X):
    return X.data.copy(), X.indices.copy(), X.indptr.copy()


def test_nan_inf_in_X_y_and_sample_weight(sparse_problem):
    X, y = sparse_problem(seed=15)
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb.data[3] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            LinearSVC().fit(Xb, y)
        Xd = X.toarray()
        Xd[2, 1] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            LinearSVC().fit(Xd, y)
        sw = np.ones(y.shape[0])
        sw[5] = bad
        with pytest.raises(ValueError, match="sample_weight contains NaN or infinity"):
            LinearSVC().fit(X, y, sample_weight=sw)
    yf = y.astype(float)
    yf[0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        LinearSVC().fit(X, yf)


def test_shapes_and_classes_errors(sparse_problem):
    X, y = sparse_problem(seed=16)
    with pytest.raises(ValueError, match="0 sample"):
        LinearSVC().fit(sp.csr_matrix((0, 5)), np.array([]))
    with pytest.raises(ValueError, match="only one class"):
        LinearSVC().fit(X, np.zeros(X.shape[0]))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearSVC().fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"sample_weight.shape"):
        LinearSVC().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        LinearSVC().fit(X, y, sample_weight=-np.ones(X.shape[0]))
    clf = LinearSVC().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :10])


@pytest.mark.parametrize(
    "params, match",
    [({"C": 0.0}, "'C' parameter"), ({"C": -1}, "'C' parameter"), ({"loss": "log"}, "'loss' parameter"),
     ({"tol": 0}, "'tol' parameter"), ({"max_iter": -1}, "'max_iter' parameter"),
     ({"intercept_scaling": -1}, "'intercept_scaling' parameter"), ({"class_weight": "auto"}, "'class_weight'")],
)
def test_bad_parameters(params, match, sparse_problem):
    X, y = sparse_problem(seed=17)
    with pytest.raises(ValueError, match=match):
        LinearSVC(**params).fit(X, y)


def test_unsorted_and_duplicate_indices_give_the_canonical_result(sparse_problem):
    X, y = sparse_problem(n_samples=300, seed=18)
    ref = LinearSVC(random_state=0).fit(X, y)
    # Reverse each row's entries and split every value into two duplicates.
    rows = []
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        rows.append((X.indices[lo:hi][::-1], X.data[lo:hi][::-1]))
    indices = np.concatenate([np.concatenate([idx, idx]) for idx, _ in rows])
    data = np.concatenate([np.concatenate([val / 2, val / 2]) for _, val in rows])
    indptr = np.concatenate([[0], np.cumsum([2 * len(idx) for idx, _ in rows])])
    Xbad = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    before = _snapshot(Xbad)
    clf = LinearSVC(random_state=0).fit(Xbad, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    for a, b in zip(before, _snapshot(Xbad), strict=True):
        np.testing.assert_array_equal(a, b)


def test_broken_csr_structure_is_refused(sparse_problem):
    X, y = sparse_problem(n_samples=100, seed=19)
    bad_index = X.copy()
    bad_index.indices[7] = X.shape[1] + 5
    with pytest.raises(ValueError, match="outside"):
        LinearSVC().fit(bad_index, y)
    bad_index.indices[7] = -1
    with pytest.raises(ValueError, match="outside"):
        LinearSVC().fit(bad_index, y)
    bad_ptr = X.copy()
    bad_ptr.indptr[10] = bad_ptr.indptr[12] + 1
    with pytest.raises(ValueError, match="indptr"):
        LinearSVC().fit(bad_ptr, y)
    bad_end = X.copy()
    bad_end.indptr[-1] = bad_end.indptr[-1] - 1
    with pytest.raises(ValueError, match="indptr"):
        LinearSVC().fit(bad_end, y)


def test_inputs_are_not_mutated(sparse_problem):
    X, y = sparse_problem(n_classes=3, seed=20)
    sw = np.linspace(0.5, 1.5, y.shape[0])
    Xs, ys, sws = _snapshot(X), y.copy(), sw.copy()
    LinearSVC(class_weight="balanced", random_state=0).fit(X, y, sample_weight=sw)
    for a, b in zip(Xs, _snapshot(X), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(y, ys)
    np.testing.assert_array_equal(sw, sws)


def test_values_whose_squares_overflow_are_refused(sparse_problem):
    X, y = sparse_problem(n_samples=100, seed=21)
    X = X.copy()
    X.data[0] = 1e200
    with pytest.raises(ValueError, match="overflows"):
        LinearSVC().fit(X, y)


def test_kernel_checks_its_own_input(sparse_problem):
    """The kernel refuses unproved matrices and broken vectors even when called directly."""
    X, y = sparse_problem(n_samples=50, seed=22)
    y_pm = np.where(y == 1, 1.0, -1.0)
    n = X.shape[0]
    w = np.zeros(X.shape[1] + 1)
    alpha = np.zeros(n)
    kw = dict(loss=2, bias=1.0, tol=1e-3, max_iter=10, seed=0)
    with pytest.raises(TypeError, match="CSR built by checked_csr"):
        dual_cd(X, y_pm, np.ones(n), w, alpha, **kw)
    indices = X.indices.copy()
    indices[0] = 10**6
    with pytest.raises(ValueError, match="outside"):
        proved_csr(sp.csr_matrix((X.data, indices, X.indptr), shape=X.shape))
    bad_end = X.copy()
    bad_end.indptr[-1] += 5
    with pytest.raises(ValueError, match="indptr"):
        proved_csr(bad_end)
    P = proved_csr(X)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        dual_cd(P, np.zeros(n), np.ones(n), w, alpha, **kw)
    with pytest.raises(ValueError, match="start point"):
        dual_cd(P, y_pm, np.ones(n), w, -np.ones(n), **kw)
    with pytest.raises(ValueError, match="n_samples"):
        dual_cd(P, y_pm[:-1], np.ones(n), w, alpha, **kw)


# --------------------------------------------------------------------------
# The primal Newton solver (dual=False, liblinear -s 2)


@pytest.mark.parametrize("C", [0.1, 10.0])
def test_primal_newton_matches_dual_and_sklearn(C, sparse_problem):
    X, y = sparse_problem(n_samples=1500, n_features=200, n_classes=3, seed=25)
    primal = LinearSVC(C=C, dual=False, tol=1e-6).fit(X, y)
    dual = quiet_fit(LinearSVC(C=C, tol=1e-6, max_iter=100000, random_state=0), X, y)
    theirs = SkLinearSVC(C=C, dual=False, tol=1e-6).fit(X, y)
    f_primal = linear_svc_objective(primal, X, y)
    np.testing.assert_allclose(f_primal, linear_svc_objective(dual, X, y), rtol=1e-5)
    np.testing.assert_allclose(f_primal, linear_svc_objective(theirs, X, y), rtol=1e-5)
    # KKT: the recovered duals give back w, up to the final gradient (the
    # difference is exactly g(w), small but not zero at tol=1e-6); a wrong
    # sign or factor in alpha_i = 2 C_i max(0, 1 - y_i w.x_i) is off by O(1).
    np.testing.assert_allclose(primal.dual_coef_ @ X, primal.coef_, atol=1e-2 * np.abs(primal.coef_).max())
    assert primal.coef_.dtype == np.float64


def test_primal_newton_float32_and_warm_start(sparse_problem):
    X, y = sparse_problem(n_samples=800, seed=26)
    X32 = X.astype(np.float32)
    cold = LinearSVC(C=50.0, dual=False, tol=1e-8).fit(X32, y)
    assert cold.coef_.dtype == np.float32
    warm = LinearSVC(C=5.0, dual=False, tol=1e-8, warm_start=True).fit(X32, y)
    warm.set_params(C=50.0).fit(X32, y)
    np.testing.assert_allclose(linear_svc_objective(warm, X, y), linear_svc_objective(cold, X, y), rtol=1e-6)


def test_primal_hinge_is_refused(sparse_problem):
    X, y = sparse_problem(seed=27)
    # scikit-learn's wording (sklearn.svm._base._get_liblinear_solver_type).
    with pytest.raises(ValueError, match="Unsupported set of arguments.*penalty='l2'.*loss='hinge'.*dual=False"):
        LinearSVC(loss="hinge", dual=False).fit(X, y)


@pytest.mark.parametrize("loss, code", [("hinge", 1), ("squared_hinge", 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_rows_of_ones_read_without_values_give_the_same_bits(a9a_ones, loss, code, dtype, index):
    """0/1 features (X.ones): the dual passes read only the indices (rule 9 of
    _dual_cd_fast), to the same bits as the passes that read the values."""
    P, y_pm = a9a_ones(1500, dtype, index)
    runs = []
    for use_ones in (True, False):
        w, alpha = np.zeros(P.n_cols + 1), np.zeros(P.n_rows)
        out = dual_cd(P, y_pm, np.full(P.n_rows, 0.5), w, alpha, loss=code, bias=1.0, tol=1e-4,
                      max_iter=300, seed=3, use_ones=use_ones)
        runs.append((out, w, alpha))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


def test_the_ones_flag_of_the_proof():
    ones = sp.csr_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    assert proved_csr(ones).ones
    for other in ([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]],      # squares sum to nnz, not all 1
                  [[2.0, 0.0, 1.0], [0.0, 0.5, 0.0]],
                  [[0.0, 0.0], [0.0, 0.0]]):               # no value stored
        assert not proved_csr(sp.csr_matrix(np.array(other))).ones
