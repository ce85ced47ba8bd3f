"""The one table of LIBLINEAR's solvers (``fastlinear._solver_table``).

* every offered row, fitted through its estimator and parameters, is the
  row its model file names (fastlinear's estimators and scikit-learn's);
* the CLI's usage text, its ``-s`` options and the model files' types are
  the table's offered rows, and the rows not offered are named as such.
"""
import numpy as np
import pytest
import sklearn.linear_model
import sklearn.svm

import fastlinear
from fastlinear import _solver_table
from fastlinear._model_io import KNOWN_UNSUPPORTED, SOLVER_PARAMS
from fastlinear._solver_table import forms_for
from fastlinear.cli import SOLVERS, TRAIN_USAGE

OFFERED = _solver_table.offered()


def _data(regression, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(80, 5)
    y = X @ rng.randn(5) + 0.1 * rng.randn(80)
    return X, (y if regression else (y > 0).astype(int))


@pytest.mark.parametrize("row", OFFERED, ids=lambda s: s.type_name)
def test_a_fit_with_the_rows_parameters_is_that_row(row):
    cls = getattr(fastlinear, row.estimator)
    X, y = _data(row.regression)
    est = cls(**row.params, max_iter=5000).fit(X, y)
    assert _solver_table.solver_type_of(est) is row


@pytest.mark.parametrize("est, type_name", [
    (sklearn.svm.LinearSVC(dual=False), "L2R_L2LOSS_SVC"),
    (sklearn.svm.LinearSVC(dual=True), "L2R_L2LOSS_SVC_DUAL"),
    (sklearn.svm.LinearSVC(loss="hinge", dual=True), "L2R_L1LOSS_SVC_DUAL"),
    (sklearn.svm.LinearSVC(penalty="l1", dual=False), "L1R_L2LOSS_SVC"),
    (sklearn.svm.LinearSVR(loss="squared_epsilon_insensitive", dual=False), "L2R_L2LOSS_SVR"),
    (sklearn.svm.LinearSVR(dual=True), "L2R_L1LOSS_SVR_DUAL"),
    (sklearn.linear_model.LogisticRegression(), "L2R_LR"),
    (sklearn.linear_model.LogisticRegression(solver="liblinear", dual=True), "L2R_LR_DUAL"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_scikit_learns_estimators_map_to_their_rows(est, type_name):
    X, y = _data(type(est).__name__ == "LinearSVR")
    assert _solver_table.solver_type_of(est.fit(X, y)).type_name == type_name


def test_any_l1_share_is_saved_as_liblinears_l1_type():
    """Elastic net has no LIBLINEAR type; its weights predict the same as -s 6's."""
    X, y = _data(False)
    est = sklearn.linear_model.LogisticRegression(solver="saga", l1_ratio=0.5, max_iter=5000)
    assert _solver_table.solver_type_of(est.fit(X, y)).type_name == "L1R_LR"
    assert _solver_table.solver_type_of(fastlinear.LogisticRegression(l1_ratio=0.5).fit(X, y)) \
        is _solver_table.by_type("L1R_LR")


def test_the_cli_and_the_model_files_read_the_table():
    numbers = sorted(s.number for s in OFFERED)
    assert sorted(SOLVERS) == numbers
    assert set(SOLVER_PARAMS) == {s.type_name for s in OFFERED}
    assert KNOWN_UNSUPPORTED == {s.type_name for s in _solver_table.SOLVERS if not s.estimator}
    for s in _solver_table.SOLVERS:
        listed = f"{s.number:2d} -- {s.description}" in TRAIN_USAGE
        assert listed == bool(s.estimator), s.type_name
        if s.estimator:  # the -e lines: "-s 1, 3: <what tol bounds>"
            line = next(ln for ln in TRAIN_USAGE.splitlines() if ln.endswith(f": {s.tol_bounds}"))
            assert str(s.number) in line.split(":")[0].replace(",", " ").split(), line


@pytest.mark.parametrize("penalty", ["l1", "l2"])
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "logistic_regression",
                                  "epsilon_insensitive", "squared_epsilon_insensitive"])
@pytest.mark.parametrize("dual", [True, False])
def test_forms_for_is_scikit_learns_liblinear_table(penalty, loss, dual):
    """Every (loss, penalty, dual) gets scikit-learn's liblinear solver type,
    or its error, word for word."""
    from sklearn.svm._base import _get_liblinear_solver_type

    ours_loss = "log_loss" if loss == "logistic_regression" else loss
    estimator = {"logistic_regression": "LogisticRegression", "epsilon_insensitive": "LinearSVR",
                 "squared_epsilon_insensitive": "LinearSVR"}.get(loss, "LinearSVC")
    try:
        expected = _get_liblinear_solver_type("ovr", penalty, loss, dual)
    except ValueError as error:
        with pytest.raises(ValueError) as ours:
            forms_for(estimator, ours_loss, penalty, dual)
        assert str(ours.value) == str(error)
    else:
        (row,) = forms_for(estimator, ours_loss, penalty, dual).values()
        assert row.number == expected


def test_forms_for_auto_offers_every_form_of_the_problem():
    assert set(forms_for("LinearSVC", "squared_hinge", "l2", "auto")) == {"primal", "dual"}
    assert set(forms_for("LinearSVC", "hinge", "l2", "auto")) == {"dual"}
    assert set(forms_for("LinearSVC", "squared_hinge", "l1", "auto")) == {"primal"}
    assert set(forms_for("LinearSVR", "epsilon_insensitive", "l2", "auto")) == {"dual"}
    with pytest.raises(ValueError, match="penalty='l1' and loss='hinge' is not supported"):
        forms_for("LinearSVC", "hinge", "l1", "auto")
