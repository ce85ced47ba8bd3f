"""``fastlinear.datasets``: index widths scikit-learn accepts."""
import numpy as np
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear.datasets import load_a9a, load_libsvm, load_libsvm_files

GOOD = "1 1:0.5 3:1\n-1 2:1\n# a comment line\n\n1 1:1 2:0.25\n-1 3:2\n"


def test_a9a_has_int32_indices_that_sklearn_accepts():
    X, y, X_test, y_test = load_a9a()
    for M in (X, X_test):
        assert M.indices.dtype == np.int32 and M.indptr.dtype == np.int32
    # scikit-learn's liblinear wrapper refuses 64-bit indices.
    model = SkLinearSVC(C=0.1, dual=True, max_iter=200, tol=1e-2).fit(X, y)
    assert model.score(X_test, y_test) > 0.8


def test_load_libsvm_and_files_give_int32_indices(tmp_path):
    path = tmp_path / "data"
    path.write_text(GOOD)
    X, y = load_libsvm(path, zero_based=False)
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32
    np.testing.assert_array_equal(X.toarray(), [[0.5, 0, 1], [0, 1, 0], [1, 0.25, 0], [0, 0, 2]])
    X0, _, X1, _ = load_libsvm_files([path, path], zero_based=False)
    assert X0.indices.dtype == X1.indptr.dtype == np.int32
    SkLinearSVC(dual=True).fit(X, y)
