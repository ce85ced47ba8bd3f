"""``l1_min_c``: scikit-learn's bound, and the bound of the free-intercept
problems, checked by fitting on both sides of it."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.svm import l1_min_c as sklearn_l1_min_c

from fastlinear import LinearSVC, LogisticRegression, l1_min_c


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "three-classes"])
def data(request):
    X, y = make_classification(n_samples=120, n_features=15, n_informative=6,
                               n_classes=request.param, random_state=0)
    return X, y


@pytest.mark.parametrize("loss", ["squared_hinge", "log"])
@pytest.mark.parametrize("fit_intercept, intercept_scaling", [(True, 1.0), (True, 30.0),
                                                              (False, 1.0)])
def test_penalized_bound_is_scikit_learns(data, loss, fit_intercept, intercept_scaling):
    X, y = data
    expected = sklearn_l1_min_c(X, y, loss=loss, fit_intercept=fit_intercept,
                                intercept_scaling=intercept_scaling)
    for Xin in (X, sp.csr_matrix(X), X.astype(np.float32)):
        ours = l1_min_c(Xin, y, loss=loss, fit_intercept=fit_intercept,
                        intercept_scaling=intercept_scaling)
        np.testing.assert_allclose(ours, expected, rtol=1e-6)


def _all_zero(est):
    return not np.any(est.coef_) and not np.any(est.intercept_)


def test_penalized_bound_separates_zero_from_nonzero_models():
    X, y = make_classification(n_samples=200, n_features=10, random_state=1)
    y = np.where(y == 1, "yes", "no")
    c = l1_min_c(X, y, loss="squared_hinge", intercept_scaling=2.0)
    fit = dict(penalty="l1", dual=False, tol=1e-10, intercept_scaling=2.0, max_iter=10_000)
    assert _all_zero(LinearSVC(C=0.99 * c, **fit).fit(X, y))
    assert not _all_zero(LinearSVC(C=1.02 * c, **fit).fit(X, y))
    c = l1_min_c(X, y, loss="log")
    fit = dict(l1_ratio=1, solver="liblinear", tol=1e-10, max_iter=1000)
    assert _all_zero(LogisticRegression(C=0.99 * c, **fit).fit(X, y))
    assert not _all_zero(LogisticRegression(C=1.02 * c, **fit).fit(X, y))


@pytest.mark.parametrize("l1_ratio", [1.0, 0.4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_free_intercept_bound_separates_zero_from_nonzero_weights(data, l1_ratio,
                                                                  fit_intercept, weighted):
    """Below the bound the coefficients are 0 (the intercepts at the log
    priors); just above it at least one is not."""
    X, y = data
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.5, 2.0, y.shape[0]) if weighted else None
    class_weight = {0: 2.0, 1: 1.0} if weighted else None
    c = l1_min_c(X, y, loss="log", intercept="free", l1_ratio=l1_ratio,
                 fit_intercept=fit_intercept, sample_weight=sample_weight,
                 class_weight=class_weight)
    fit = dict(l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-10, max_iter=1000,
               class_weight=class_weight)
    below = LogisticRegression(C=0.99 * c, **fit).fit(X, y, sample_weight=sample_weight)
    above = LogisticRegression(C=1.02 * c, **fit).fit(X, y, sample_weight=sample_weight)
    assert not np.any(below.coef_)
    assert np.count_nonzero(above.coef_) >= 1
    if fit_intercept:
        # At W = 0 the model predicts the weighted class frequencies.
        sw = np.ones(y.shape[0]) if sample_weight is None else sample_weight
        cw = np.ones(3) if class_weight is None else np.array([2.0, 1.0, 1.0])
        freq = np.bincount(y, weights=sw * cw[y]) / np.sum(sw * cw[y])
        np.testing.assert_allclose(below.predict_proba(X[:1])[0], freq, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(loss="squared_hinge", intercept="free"), "loss='log'"),
        (dict(loss="log", l1_ratio=0.5), "needs intercept='free'"),
        (dict(loss="hinge"), "'loss' parameter"),
        (dict(intercept_scaling=0.0), "'intercept_scaling' parameter"),
        (dict(loss="log", intercept="free", l1_ratio=0.0), "'l1_ratio' parameter"),
    ],
)
def test_bad_parameters(kwargs, message):
    X, y = make_classification(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match=message):
        l1_min_c(X, y, **kwargs)


def test_bad_data():
    X, y = make_classification(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        l1_min_c(X, np.zeros(30))
    with pytest.raises(ValueError, match="Ill-posed"):
        l1_min_c(np.zeros((30, 4)), y, fit_intercept=False)
    with pytest.raises(ValueError, match="NaN"):
        l1_min_c(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        l1_min_c(X, y[:-1])


def test_input_is_not_modified():
    X, y = make_classification(n_samples=40, random_state=0)
    Xs = sp.csr_matrix(X)
    before = (X.copy(), Xs.data.copy(), y.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        l1_min_c(X, y, loss="log", intercept="free")
        l1_min_c(Xs, y)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(Xs.data, before[1])
    np.testing.assert_array_equal(y, before[2])
