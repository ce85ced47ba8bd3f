"""The ``fastlinear`` command, run as a subprocess, and LIBLINEAR model files.

Small LIBSVM files (slices of a9a) are written to a temporary folder; the
one test on the full a9a runs ``fastlinear demo --no-sklearn`` on the cheap
part of the grid.
"""
import errno
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.multiclass import OneVsRestClassifier

from fastlinear import LinearSVC, LinearSVCCV, LinearSVR, LogisticRegression, _solver_table, cli
from fastlinear._model_io import (
    ModelFormatError,
    liblinear_predict_proba,
    load_liblinear_model,
    save_liblinear_model,
)

liblinearutil = pytest.importorskip("liblinear.liblinearutil")

# The reference figures of the foundation issue (sklearn, a9a, 3 folds).
REFERENCE_CV = {0.01: 0.84684, 0.1: 0.84749, 1.0: 0.84730, 10.0: 0.84727, 100.0: 0.84727}
REFERENCE_TEST = 0.849825


def CLI_FOLDS(n):
    """The folds of -v n and -C at the default --seed 0: stratified, shuffled."""
    return StratifiedKFold(n, shuffle=True, random_state=0)


def run(*args, cwd=None):
    """Run ``python -m fastlinear args`` in a subprocess; return (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "fastlinear", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def run_here(capsys):
    """``cli.main`` in this process (same code path, no interpreter start-up):
    for the many error cases, after the subprocess tests proved the wiring."""

    def call(*args):
        code = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def assert_usage_error(result, *fragments):
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert re.match(r"fastlinear( \w+)?: error: ", lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def files(a9a, tmp_path_factory):
    """3,000 training and 1,000 test rows of a9a as 1-based LIBSVM files (integer labels)."""
    X, y, Xt, yt = a9a
    folder = tmp_path_factory.mktemp("cli")
    train, test = folder / "small", folder / "small.t"
    dump_svmlight_file(X[:3000], y[:3000].astype(int), str(train), zero_based=False)
    dump_svmlight_file(Xt[:1000], yt[:1000].astype(int), str(test), zero_based=False)
    return folder, train, test


def load(path):
    X, y = load_svmlight_file(str(path), zero_based=False)
    return X, y.astype(int)


def test_train_and_predict(files, tmp_path):
    folder, train, test = files
    model, output = tmp_path / "small.model", tmp_path / "out"
    code, out, err = run("train", "-c", "0.1", "-q", train, model)
    assert (code, out) == (0, "")
    header = model.read_text().splitlines()[:6]
    assert header == [
        "solver_type L2R_L2LOSS_SVC_DUAL", "nr_class 2", "label 1 -1",
        "nr_feature 122", "bias 1", "w",
    ]
    code, out, err = run("predict", test, model, output)
    assert code == 0, err
    pred = np.loadtxt(output, dtype=int)
    X, y = load(train)
    Xt, yt = load(test)
    ref = LinearSVC(C=0.1, random_state=0).fit(X, y)
    Xt = sp.csr_matrix((Xt.data, Xt.indices, Xt.indptr), shape=(Xt.shape[0], X.shape[1]))
    np.testing.assert_array_equal(pred, ref.predict(Xt))
    correct = int(np.sum(pred == yt))
    assert out.strip() == f"Accuracy = {100 * correct / len(yt):g}% ({correct}/{len(yt)})"
    # The same model file, read by liblinear-official, gives the same labels.
    y_ll, x_ll = liblinearutil.svm_read_problem(str(test))
    labels, _, _ = liblinearutil.predict(y_ll, x_ll, liblinearutil.load_model(str(model)), "-q")
    np.testing.assert_array_equal(np.array(labels, dtype=int), pred)


def test_python_m_fastlinear_cli_runs_the_command(files, tmp_path):
    """``python -m fastlinear.cli`` is the console script too (it used to
    import, do nothing and exit 0)."""
    folder, train, test = files
    model = tmp_path / "small.model"
    proc = subprocess.run([sys.executable, "-m", "fastlinear.cli", "train", "-q", train, model],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert model.read_text().startswith("solver_type L2R_L2LOSS_SVC_DUAL")
    proc = subprocess.run([sys.executable, "-m", "fastlinear.cli", "train", tmp_path / "none"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "can't open data file" in proc.stderr


@pytest.mark.parametrize("n_classes", [2, 3])
def test_model_text_in_pieces_is_printf_of_every_weight(n_classes, monkeypatch):
    """The weights written in blocks (zero rows without formatting each
    value): every line ``%.17g `` per class, -0.0 as ``-0``, blocks joined
    seamlessly."""
    from fastlinear import _model_io

    X = sp.random(40, 11, density=0.3, random_state=0, format="csr")
    y = np.arange(40) % n_classes
    est = LinearSVC(random_state=0).fit(X, y)
    est.coef_[:, 4] = 0.0
    est.coef_[0, 5] = -0.0
    est.coef_[:, 6] = -0.0
    monkeypatch.setattr(_model_io, "WEIGHT_BLOCK", 3)
    text = _model_io.liblinear_model_text(est)
    weights = text.split("\nw\n", 1)[1].splitlines()
    W = np.vstack([est.coef_.T, est.intercept_[None, :]])
    assert weights == ["".join("%.17g " % v for v in row) for row in W]
    assert weights[6] == "-0 " * W.shape[1]
    assert "".join(_model_io.liblinear_model_chunks(est)) == text


def test_a_label_beyond_a_c_int_is_refused_in_model_files():
    """LIBLINEAR keeps labels in a C int: 3e9 would be read back as
    -1294967296, so an estimator with such a class is not written."""
    from fastlinear import _model_io

    X = sp.random(40, 5, density=0.5, random_state=0, format="csr")
    est = LinearSVC(random_state=0).fit(X, np.where(np.arange(40) % 2, 3_000_000_000, 0))
    with pytest.raises(ValueError, match="class label 3000000000 is beyond LIBLINEAR's label range"):
        _model_io.liblinear_model_text(est)


def test_a_model_of_ten_million_features_is_written_in_pieces(tmp_path):
    """One feature index of 1e7: the model file (30 MB) is streamed, not built
    in memory (it took 1 GB and 12 s), and liblinear-official reads it."""
    data = tmp_path / "wide"
    data.write_text("+1 1:0.5 10000000:1\n-1 1:-0.5 3:2\n")
    model = tmp_path / "wide.model"
    code, out, err = run("train", "-q", data, model)
    assert code == 0, err
    assert liblinearutil.load_model(str(model)).get_nr_feature() == 10_000_000


def test_train_names_the_line_whose_values_cannot_be_squared(tmp_path, run_here):
    """A value of 1e308 in a data file: the error names the file's line, not
    the estimator's row and a scikit-learn scaler."""
    data = tmp_path / "huge"
    data.write_text("+1 1:0.5 2:1\n-1 1:-0.5 3:2\n+1 1:1e308 2:1\n")
    code, out, err = run_here("train", "-s", "0", data, tmp_path / "m")
    assert code == 2
    assert re.search(r"huge, line 3: values of magnitude above ~1e154", err), err
    assert "LogisticRegression" not in err and "MaxAbsScaler" not in err


def test_default_model_name_hinge_no_bias_and_weights(files, tmp_path, run_here, monkeypatch):
    folder, train, _ = files
    monkeypatch.chdir(tmp_path)
    code, out, err = run_here("train", "-s", "3", "-B", "-1", "-w1", "2", "-e", "0.001", train)
    assert code == 0, err
    assert "model saved to small.model" in out
    est = load_liblinear_model(tmp_path / "small.model")
    assert est.loss == "hinge" and not est.fit_intercept
    X, y = load(train)
    ref = LinearSVC(loss="hinge", fit_intercept=False, class_weight={1: 2.0}, tol=0.001,
                    random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12)


def test_reads_bz2_files(files, tmp_path, run_here):
    import bz2

    _, train, _ = files
    packed = tmp_path / "small.bz2"
    packed.write_bytes(bz2.compress(train.read_bytes()))
    for path, model in ((train, tmp_path / "plain.model"), (packed, tmp_path / "bz2.model")):
        code, out, err = run_here("train", "-q", "-c", "0.1", path, model)
        assert code == 0, err
    assert (tmp_path / "plain.model").read_text() == (tmp_path / "bz2.model").read_text()


def test_cross_validation_output(files):
    """LIBLINEAR's figure: correct predictions over all folds / n, not the folds' mean."""
    folder, train, _ = files
    code, out, err = run("train", "-v", "7", "-c", "0.1", "-q", train)
    assert code == 0, err
    X, y = load(train)
    model = LinearSVC(C=0.1, random_state=0)
    folds = CLI_FOLDS(7)
    pooled = np.mean(cross_val_predict(model, X, y, cv=folds) == y)
    assert out.strip() == f"Cross Validation Accuracy = {100 * pooled:g}%"
    # 3,000 rows in 7 folds of unequal size: the folds' mean is another figure.
    assert f"{100 * cross_val_score(model, X, y, cv=folds).mean():g}" != f"{100 * pooled:g}"
    assert not (folder / "small.model").exists()  # -v writes no model, as LIBLINEAR


@pytest.mark.parametrize("solver", ["0", "2", "1", "11"])
def test_more_folds_than_a_class_or_the_data_as_liblinear(tmp_path, run_here, solver):
    """-v n with n above a class's count: LIBLINEAR's unstratified folds; n
    above the sample count: leave-one-out with LIBLINEAR's warning (both used
    to stop with scikit-learn's StratifiedKFold/KFold error)."""
    data = tmp_path / "small.txt"
    data.write_text("1 1:1\n1 1:0.8\n1 1:1.2\n1 1:0.9\n-1 1:-1\n-1 1:-0.7\n1 1:1.1\n"
                    "1 1:0.5\n-1 1:0.1\n1 1:2\n")
    code, out, err = run_here("train", "-s", solver, "-v", "20", data)
    assert code == 0, err
    assert "Will use # folds = # data instead" in err and "not stratified" not in err
    if solver == "11":
        assert "Cross Validation Mean squared error" in out
        return
    # Leave-one-out is one split: every tool gets the same figure.
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    y, x = liblinearutil.svm_read_problem(str(data))
    theirs = liblinearutil.train(y, x, f"-q -s {solver} -B 1 -v 10")
    assert out.splitlines()[0] == f"Cross Validation Accuracy = {theirs:g}%"
    code, out, err = run_here("train", "-s", solver, "-v", "5", data)
    assert code == 0 and "not stratified" in err and "Cross Validation Accuracy" in out
    if solver in ("0", "2"):
        code, out, err = run_here("train", "-s", solver, "-C", "-v", "10", data)
        assert code == 0 and "Best C" in out, err


@pytest.mark.parametrize("solver", ["0", "1", "2", "3", "4", "5", "6", "7"])
def test_one_class_training_folds_as_liblinear(tmp_path, run_here, solver):
    """A fold whose training part holds one class: LIBLINEAR trains a model of
    that class, which predicts it; -v and -C score the fold that way (they
    used to stop with the estimator's "at least 2 classes" error)."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    lone, two = tmp_path / "lone.txt", tmp_path / "two.txt"
    lone.write_text("1 1:1\n1 1:0.8\n1 1:1.2\n1 1:0.9\n-1 1:-1\n1 1:1.1\n1 1:0.5\n1 1:2\n")
    two.write_text("1 1:1\n-1 1:-1\n")
    for data, folds in ((lone, 8), (two, 2)):   # leave-one-out: every tool cuts the same folds
        y, x = liblinearutil.svm_read_problem(str(data))
        theirs = liblinearutil.train(y, x, f"-q -s {solver} -B 1 -v {folds}")
        code, out, err = run_here("train", "-s", solver, "-v", str(folds), "-q", data)
        assert code == 0, err
        assert out.splitlines()[-1] == f"Cross Validation Accuracy = {theirs:g}%"
    assert theirs == 0.0    # each sample of ``two`` is predicted as the other class
    if solver in ("0", "2"):
        # No training part of ``two`` holds two classes: every C ties at 0 %,
        # and the smallest one is fitted on the whole set.
        model = tmp_path / "best.model"
        code, out, err = run_here("train", "-s", solver, "-C", "--Cs", "0.1,1", "-v", "2", two, model)
        assert code == 0, err
        assert "Best C = 0.1  CV accuracy = 0%" in out
        assert load_liblinear_model(model).predict(np.array([[1.0], [-1.0]])).tolist() == [1, -1]
        code, out, err = run_here("train", "-s", solver, "-C", "--Cs", "0.1,1", "-v", "8", lone)
        assert code == 0 and "Best C = 0.1  CV accuracy = 87.5%" in out, err


def test_C_and_p_search_for_s11_as_liblinear(tmp_path, run_here):
    """-C -s 11 searches C (the --Cs grid) and p = i max|y| / 20, i = 19 ... 0,
    as LIBLINEAR 2.50 does, on -v's shuffled folds: every pair's CV MSE is
    that of cold fits on the same folds (warm starts change only rounding),
    the best pair the least MSE, and the model the refit at it."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.5 * rng.standard_normal(120)
    data, model = tmp_path / "reg", tmp_path / "reg.model"
    dump_svmlight_file(X, y, str(data), zero_based=False)
    code, out, err = run_here("train", "-s", "11", "-C", "--Cs", "0.1,1", "-v", "3", "-e", "1e-9",
                              data, model)
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("p = ")]
    ps = [i * np.max(np.abs(y)) / 20 for i in range(19, -1, -1)]
    assert len(lines) == 2 * len(ps)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    scores = {}
    for p in ps:
        for C in (0.1, 1.0):
            pred = np.empty_like(y)
            for train, test in folds:
                est = LinearSVR(C=C, epsilon=p, loss="squared_epsilon_insensitive", dual=False,
                                tol=1e-9, random_state=0).fit(X[train], y[train])
                pred[test] = est.predict(X[test])
            scores[p, C] = float(np.mean((pred - y) ** 2))
    printed = {}
    for line in lines:
        words = line.split()      # p = <p>  C = <C>  CV MSE = <mse>
        printed[float(words[2]), float(words[5])] = float(words[-1])
    for (p, C), mse in scores.items():
        match = [v for (q, c), v in printed.items() if np.isclose(q, p, rtol=1e-5) and c == C]
        assert len(match) == 1 and np.isclose(match[0], mse, rtol=1e-5), (p, C)   # %g
    (p, C), mse = min(scores.items(), key=lambda item: item[1])
    best = out.splitlines()[-3]
    assert best.startswith(f"Best C = {C:g} Best p = {p:g}  CV MSE = "), best
    refit = LinearSVR(C=C, epsilon=p, loss="squared_epsilon_insensitive", dual=False,
                      tol=1e-9, random_state=0).fit(X, y)
    np.testing.assert_allclose(load_liblinear_model(model).coef_, refit.coef_, rtol=1e-6)
    zero = tmp_path / "zero"
    dump_svmlight_file(X, np.zeros_like(y), str(zero), zero_based=False)
    code, out, err = run_here("train", "-s", "11", "-C", "--Cs", "0.1,1", "-v", "3", zero)
    assert code == 0 and out.count("p = 0  C = ") == 2, (out, err)   # y = 0: one p, not 20 zeros


def test_C_search_output_and_model(files, tmp_path):
    folder, train, _ = files
    model = tmp_path / "best.model"
    code, out, err = run("train", "-C", "-v", "7", "--Cs", "0.01,0.1,1", train, model)
    assert code == 0, err
    X, y = load(train)
    # -C without -s searches with -s 2 (the primal solver), as LIBLINEAR.
    search = LinearSVCCV(Cs=[0.01, 0.1, 1], cv=CLI_FOLDS(7), dual=False, random_state=0).fit(X, y)
    sizes = np.array([len(test) for _, test in CLI_FOLDS(7).split(X, y)])
    folds = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(7)])
    correct = np.rint(sizes @ folds)  # per C, over all folds
    assert model.read_text().startswith("solver_type L2R_L2LOSS_SVC\n")
    for C, count in zip(search.Cs_, correct, strict=True):   # LIBLINEAR's lines
        assert f"log2c={np.log2(C):7.2f}\trate={100 * count / len(y):g}\n" in out
    best = int(np.argmax(correct))  # the most correct, the smallest C on ties (LIBLINEAR)
    assert f"Best C = {search.Cs_[best]:g}  CV accuracy = {100 * correct[best] / len(y):g}%" in out
    refit = LinearSVC(C=search.Cs_[best], dual=False, max_iter=60000, random_state=0).fit(X, y)
    np.testing.assert_allclose(load_liblinear_model(model).coef_, refit.coef_, rtol=1e-12)
    assert "-s 2 C search [" in err  # the progress bar, on stderr


@pytest.mark.parametrize("options", ["-s 1 -c 0.1 -B 1", "-s 3 -c 1 -B -1", "-s 2 -c 0.1 -B 2"])
def test_liblinear_model_predicts_the_same_in_fastlinear(files, tmp_path, options, run_here):
    folder, train, test = files
    model, output = tmp_path / "ll.model", tmp_path / "out"
    y, x = liblinearutil.svm_read_problem(str(train))
    liblinearutil.save_model(str(model), liblinearutil.train(y, x, options + " -q"))
    yt, xt = liblinearutil.svm_read_problem(str(test))
    expected, _, _ = liblinearutil.predict(yt, xt, liblinearutil.load_model(str(model)), "-q")
    # The first case through the console script, the others in process.
    runner = run if options.startswith("-s 1") else run_here
    code, out, err = runner("predict", test, model, output)
    assert code == 0, err
    np.testing.assert_array_equal(np.loadtxt(output, dtype=int), np.array(expected, dtype=int))


def _multiclass(tmp_path):
    rng = np.random.RandomState(0)
    centers = rng.randn(4, 6) * 2
    labels = np.array([3, -2, 7, 0])
    idx = rng.randint(4, size=400)
    X = sp.csr_matrix(centers[idx] + rng.randn(400, 6))
    path = tmp_path / "multi"
    dump_svmlight_file(X, labels[idx], str(path), zero_based=False)
    return path, X, labels[idx]


def test_multiclass_round_trip_both_ways(tmp_path):
    path, X, y = _multiclass(tmp_path)
    y_ll, x_ll = liblinearutil.svm_read_problem(str(path))
    # fastlinear -> liblinear
    est = LinearSVC(C=0.3, random_state=0).fit(X, y)
    save_liblinear_model(tmp_path / "fl.model", est)
    labels, _, _ = liblinearutil.predict(y_ll, x_ll, liblinearutil.load_model(str(tmp_path / "fl.model")), "-q")
    np.testing.assert_array_equal(np.array(labels, dtype=int), est.predict(X))
    # liblinear -> fastlinear
    liblinearutil.save_model(str(tmp_path / "ll.model"), liblinearutil.train(y_ll, x_ll, "-s 1 -c 0.3 -B 1 -q"))
    expected, _, _ = liblinearutil.predict(y_ll, x_ll, liblinearutil.load_model(str(tmp_path / "ll.model")), "-q")
    back = load_liblinear_model(tmp_path / "ll.model")
    np.testing.assert_array_equal(back.classes_, [-2, 0, 3, 7])
    np.testing.assert_array_equal(back.predict(X), np.array(expected, dtype=int))


@pytest.mark.parametrize("fit_intercept, scaling", [(True, 1.0), (True, 3.0), (False, 1.0)])
def test_save_load_round_trip_is_exact(files, tmp_path, fit_intercept, scaling):
    folder, train, test = files
    X, y = load(train)
    est = LinearSVC(C=0.1, fit_intercept=fit_intercept, intercept_scaling=scaling, random_state=0).fit(X, y)
    save_liblinear_model(tmp_path / "m", est)
    back = load_liblinear_model(tmp_path / "m")
    np.testing.assert_array_equal(back.coef_, est.coef_)  # %.17g round-trips doubles
    np.testing.assert_allclose(back.intercept_, est.intercept_, rtol=1e-15)
    np.testing.assert_array_equal(back.classes_, est.classes_)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_save_refuses_non_integer_labels(tmp_path):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    est = LinearSVC(random_state=0).fit(X, ["a", "b", "a", "b"])
    with pytest.raises(ValueError, match="integer class labels"):
        save_liblinear_model(tmp_path / "m", est)


def test_save_checks_argument_types(files, tmp_path):
    X, y = load(files[1])
    est = LinearSVC(C=0.1, random_state=0).fit(X, y)
    path = tmp_path / "m"
    with pytest.raises(TypeError, match=r"path first: expected a str or path-like object as path, "
                                        r"got LinearSVC .*arguments look swapped"):
        save_liblinear_model(est, path)
    with pytest.raises(TypeError, match=r"expected a str or path-like object as path, got int 3\.$"):
        save_liblinear_model(3, est)
    with pytest.raises(TypeError, match=r"Expected a fitted LinearSVC, LinearSVR or "
                                        r"LogisticRegression .* got str 'other'"):
        save_liblinear_model(path, "other")
    with pytest.raises(TypeError, match=r"got ndarray array\(\[0\., 0\.\]\)"):
        save_liblinear_model(path, np.zeros(2))
    with pytest.raises(ValueError, match="not fitted"):
        save_liblinear_model(path, LinearSVC())
    assert not path.exists()
    save_liblinear_model(str(path).encode(), est)  # bytes paths, as open() takes
    assert load_liblinear_model(path).coef_.shape == est.coef_.shape


# LIBLINEAR writes a space after every weight.
MODEL = "".join(line + "\n" for line in [
    "solver_type L2R_L2LOSS_SVC_DUAL", "nr_class 2", "label 1 -1", "nr_feature 2",
    "bias 1", "w", "0.5 ", "-0.25 ", "0.125 ",
])


@pytest.mark.parametrize(
    "text, match",
    [
        (MODEL.replace("bias 1\n", "bias 1\nfastlinear_format_version 2\n"),
         "unknown header key 'fastlinear_format_version'.*newer"),
        (MODEL.replace("L2R_L2LOSS_SVC_DUAL", "L2R_HUBER_SVC_DUAL"), "unknown solver_type 'L2R_HUBER_SVC_DUAL'.*newer"),
        (MODEL.replace("L2R_L2LOSS_SVC_DUAL", "ONECLASS_SVM"), "does not load"),
        (MODEL.replace("0.125 \n", ""), "expected 3 x 1 = 3 weights.*found 2"),
        (MODEL.replace("-0.25", "abc"), "not all numbers"),
        (MODEL.replace("nr_feature 2\n", ""), "no 'nr_feature' line"),
        (MODEL.replace("label 1 -1", "label 1 1"), "2 distinct labels .nr_class., got 2, label 1 more than once"),
    ],
)
def test_bad_model_files(tmp_path, text, match):
    path = tmp_path / "m"
    path.write_text(text)
    with pytest.raises(ModelFormatError, match=match):
        load_liblinear_model(path)


def test_model_file_decision_matches_hand_computation(tmp_path):
    (tmp_path / "m").write_text(MODEL)
    est = load_liblinear_model(tmp_path / "m")
    # liblinear: dec = 0.5 x1 - 0.25 x2 + 0.125 * bias; label 1 when dec > 0.
    X = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]])
    np.testing.assert_allclose(est.decision_function(X), [0.625, -0.375, -0.375])
    np.testing.assert_array_equal(est.predict(X), [1, -1, -1])


def test_model_weights_are_read_in_blocks(tmp_path, monkeypatch):
    """The weights are converted a block of lines at a time (a 5M-feature
    model peaked at 570 MB read whole, 222 MB so); blocks join seamlessly,
    and a bad number in a later block is still named."""
    from fastlinear import _model_io

    rng = np.random.default_rng(0)
    w = rng.standard_normal(11).tolist()
    text = MODEL.split("w\n")[0].replace("nr_feature 2", "nr_feature 10") + "w\n" + "".join(
        f"{v!r} \n" for v in w)
    (tmp_path / "m").write_text(text)
    whole = load_liblinear_model(tmp_path / "m")
    monkeypatch.setattr(_model_io, "WEIGHT_LINES", 3)
    blocks = load_liblinear_model(tmp_path / "m")
    np.testing.assert_array_equal(blocks.coef_, whole.coef_)
    np.testing.assert_array_equal(blocks.intercept_, whole.intercept_)
    np.testing.assert_array_equal(whole.coef_[0], w[:10])    # label[0] = 1 = classes_[1]: w as written
    (tmp_path / "bad").write_text(text.replace(f"{w[8]!r}", "abc"))
    with pytest.raises(ModelFormatError, match="after line 6 are not all numbers"):
        load_liblinear_model(tmp_path / "bad")


# ------------------------------------------------------------- output files


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def no_temporaries(folder):
    return not [p for p in os.listdir(folder) if p.startswith(".fastlinear-")]


def test_output_files_get_the_mode_fopen_gives(files, tmp_path, run_here, umask_022):
    """New files: 0666 less the umask (0644 under 022, as LIBLINEAR's); a replaced file keeps its mode."""
    _, train, test = files
    model, output = tmp_path / "m", tmp_path / "out"
    assert run_here("train", "-q", train, model)[0] == 0
    assert run_here("predict", "-q", test, model, output)[0] == 0
    assert stat.S_IMODE(model.stat().st_mode) == 0o644
    assert stat.S_IMODE(output.stat().st_mode) == 0o644
    os.umask(0o077)
    assert run_here("train", "-q", train, tmp_path / "private")[0] == 0
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600
    model.chmod(0o640)
    output.chmod(0o604)
    assert run_here("train", "-q", "-c", "0.5", train, model)[0] == 0
    assert run_here("predict", "-q", test, model, output)[0] == 0
    assert stat.S_IMODE(model.stat().st_mode) == 0o640
    assert stat.S_IMODE(output.stat().st_mode) == 0o604
    assert no_temporaries(tmp_path)


def test_output_through_a_symbolic_link_writes_the_target(files, tmp_path, run_here):
    _, train, test = files
    (tmp_path / "models").mkdir()
    target, link = tmp_path / "models" / "a.model", tmp_path / "link.model"
    target.write_text("old\n")
    link.symlink_to(target)
    assert run_here("train", "-q", train, link)[0] == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text().startswith("solver_type ")
    out_target, out_link = tmp_path / "models" / "pred", tmp_path / "pred"
    out_link.symlink_to(out_target)  # dangling: the target is created, as fopen does
    assert run_here("predict", "-q", test, link, out_link)[0] == 0
    assert out_link.is_symlink() and len(out_target.read_text().splitlines()) == 1000
    assert no_temporaries(tmp_path) and no_temporaries(tmp_path / "models")


def _char_device(tmp_path, name, minor):
    """A copy of /dev/null (minor 3) or /dev/full (minor 7) in tmp_path when
    mknod is allowed (root), else the real node (which a user cannot replace)."""
    path = tmp_path / name
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        with open(path, "w"):
            pass
    except (OSError, AttributeError):
        if path.exists():
            path.unlink()
        path = Path("/dev") / name
        if not path.exists():
            pytest.skip(f"no {path} on this system")
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX devices and FIFOs")
def test_devices_and_fifos_are_written_directly(files, tmp_path, run_here):
    _, train, test = files
    null, full = _char_device(tmp_path, "null", 3), _char_device(tmp_path, "full", 7)
    assert run_here("train", "-q", train, null)[0] == 0
    assert stat.S_ISCHR(null.stat().st_mode)
    # A failed write: one line, exit 2, the node intact, no temporary file.
    assert_usage_error(run_here("train", "-q", train, full), f"can't write model file {str(full)!r}",
                       "No space left on device")
    model = tmp_path / "m"
    assert run_here("train", "-q", train, model)[0] == 0
    assert_usage_error(run_here("predict", "-q", test, model, full), "can't write output file")
    assert stat.S_ISCHR(full.stat().st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    code, _, err = run_here("predict", "-q", test, model, fifo)
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(received[0].splitlines()) == 1000
    assert no_temporaries(tmp_path)


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout")
def test_model_to_dev_stdout_on_a_pipe(files):
    _, train, _ = files
    code, out, err = run("train", "-q", "-c", "0.1", train, "/dev/stdout")
    assert code == 0, err
    assert out.startswith("solver_type L2R_L2LOSS_SVC_DUAL\nnr_class 2\n")


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(files, tmp_path, run_here, monkeypatch):
    _, train, _ = files
    model = tmp_path / "m"
    model.write_text("old\n")

    def fail(src, dst):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "replace", fail)
    assert_usage_error(run_here("train", "-q", train, model), "can't write model file", os.strerror(errno.EIO))
    assert model.read_text() == "old\n"
    assert no_temporaries(tmp_path)


# ------------------------------------------------------------------- errors


def test_missing_file_through_the_console_script(files, tmp_path, run_here):
    exe = shutil.which("fastlinear")
    if exe is None:  # not installed with pip install -e .: the module entry point
        result = run("train", tmp_path / "nope")
    else:
        proc = subprocess.run([exe, "train", str(tmp_path / "nope")], capture_output=True, text=True, timeout=300)
        result = proc.returncode, proc.stdout, proc.stderr
    assert_usage_error(result, "can't open data file", "no such file")
    folder, _, test = files
    assert_usage_error(run_here("predict", test, tmp_path / "nope.model", tmp_path / "o"), "can't open model file")


def test_malformed_line(tmp_path, run_here):
    path = tmp_path / "bad"
    path.write_text("1 1:0.5 3:1\n-1 2:1\n+1 4:x 5:1\n")
    assert_usage_error(run("train", path), "line 3", "'4:x'")
    path.write_text("1 1:0.5\n-1 0:1\n")
    assert_usage_error(run_here("train", path), "line 2", "'0:1'", "1-based")
    path.write_text("1.5 1:0.5\n-1 2:1\n")
    assert_usage_error(run_here("train", path), "label 1.5 is not an integer")
    path.write_text("1 1:0.5\n1 2:1\n")
    assert_usage_error(run_here("train", "-v", "2", path), "-v and -C need at least 2 classes")


def test_tokens_liblinear_refuses_are_refused(tmp_path, run_here):
    """scikit-learn's reader takes ``1_0`` for 10 (Python's float) and drops
    ``qid:`` tokens; LIBLINEAR's rejects both lines.  So do train and
    predict, naming the line; an underscore in a comment is no token."""
    path = tmp_path / "data"
    for text, token, why in [("1_0 1:1\n-1 1:-1\n", "'1_0'", "without '_'"),
                             ("1 1:1\n-1 1:1_0\n", "'1:1_0'", "without '_'"),
                             ("1 qid:3 1:1\n-1 qid:3 1:-1\n", "'qid:3'", "query ids")]:
        path.write_text(text)
        line = "line 2" if "1:1_0" in text else "line 1"
        assert_usage_error(run_here("train", path), line, token, why)
    good, model = tmp_path / "good", tmp_path / "model"
    good.write_text("1 1:1 # a_comment about qid\n-1 1:-1\n")
    assert run_here("train", "-q", good, model)[0] == 0
    assert_usage_error(run_here("predict", path, model, tmp_path / "out"), "line 1", "'qid:3'")


def test_predict_scores_non_integer_true_labels_as_wrong(tmp_path, run_here):
    """LIBLINEAR's predict reads the test file's labels as numbers and only
    compares them with the predictions: 2.5 is a wrong answer, not an error."""
    train, test, model = tmp_path / "train", tmp_path / "test", tmp_path / "model"
    train.write_text("1 1:1\n1 1:0.9\n-1 2:1\n-1 2:0.8\n")
    test.write_text("1 1:1\n2.5 1:1\n-1 2:1\n")
    assert run_here("train", "-q", train, model)[0] == 0
    code, out, err = run_here("predict", test, model, tmp_path / "out")
    assert code == 0, err
    assert "Accuracy = 66.6667% (2/3)" in out
    assert (tmp_path / "out").read_text() == "1\n1\n-1\n"


def test_unknown_option_and_command(files, run_here):
    _, train, _ = files
    assert_usage_error(run("train", "-x", "1", train), "unknown option '-x'")
    assert_usage_error(run_here("train", "-c", "abc", train), "option -c expects a number, got 'abc'")
    # Python's int() and float() read "1_0" as 10 and accept spaces and
    # non-ASCII digits; LIBLINEAR's options are numbers as C writes them.
    assert_usage_error(run_here("train", "-c", "1_0", train), "option -c expects a number, got '1_0'")
    assert_usage_error(run_here("train", "-v", " 5", train), "option -v expects an integer, got ' 5'")
    assert_usage_error(run_here("train", "-s", "\u0661", train), "option -s expects an integer")
    assert_usage_error(run_here("train", "-w1_0", "2", train), "the class after -w must be an integer")
    assert_usage_error(run_here("train", "-s", "21", train), "unknown solver -s 21")
    assert_usage_error(run_here("train", "-c"), "option -c needs a value")
    assert_usage_error(run_here("train", "-c", "-1", train), "-c must be a finite number > 0")
    assert_usage_error(run_here("train", "-v", "1", train), "-v needs n >= 2 folds")
    for threads in ("0", "-1"):
        assert_usage_error(run_here("train", "-n", threads, train), "-n must be a number of threads >= 1")
    assert_usage_error(run_here("frobnicate"), "unknown command 'frobnicate'")
    assert_usage_error(run_here("predict", train), "expected 3 arguments")
    assert_usage_error(run_here("predict", "-b", "2", train, train, train), "-b must be 0 or 1")


@pytest.mark.parametrize("solver", ["1", "0"])
def test_class_weights_as_liblinear(files, tmp_path, run_here, solver):
    """-w as LIBLINEAR reads it: a label given twice multiplies its weights, a
    label absent from the data is a warning (training goes on without it),
    and the regression solvers ignore -w (with a warning here)."""
    _, train, _ = files
    labels = np.unique(load(train)[1])
    models = {name: tmp_path / f"{name}.model" for name in ("twice", "once", "absent", "plain")}
    absent = int(labels.max()) + 7
    runs = {"twice": ["-w1", "2", "-w1", "3"], "once": ["-w1", "6"],
            "absent": [f"-w{absent}", "2"], "plain": []}
    for name, options in runs.items():
        code, out, err = run_here("train", "-q", "-s", solver, *options, train, models[name])
        assert code == 0, err
        if name == "absent":
            assert err.strip() == f"WARNING: class label {absent} specified in weight is not found"
        else:
            assert err == ""
    assert models["twice"].read_text() == models["once"].read_text()
    assert models["absent"].read_text() == models["plain"].read_text()
    assert models["once"].read_text() != models["plain"].read_text()
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    y, x = liblinearutil.svm_read_problem(str(train))
    # -s 0 draws no random numbers (the binding does not reseed between calls).
    theirs = [liblinearutil.train(y, x, f"-q -s 0 -B 1 -e 1e-4 {w}").get_decfun()[0]
              for w in ("-w1 2 -w1 3", "-w1 6")]
    assert theirs[0] == theirs[1]
    assert_usage_error(run_here("train", "-w1", "1e300", "-w1", "1e300", train), "overflows")
    code, out, err = run_here("train", "-q", "-s", "11", "-w1", "2", train, tmp_path / "svr.model")
    assert code == 0 and "regression solvers ignore them" in err, err


def test_predict_refuses_lines_that_would_shift_its_output(files, tmp_path, run_here):
    """A blank or comment line before a sample is skipped when the file is
    read: predict's one line per sample would no longer line up with the
    file (LIBLINEAR's predict stops with "Wrong input format").  Blank lines
    after the last sample, and comments after a sample's features, shift
    nothing."""
    import bz2

    _, train, _ = files
    model, out = tmp_path / "m.model", tmp_path / "out"
    assert run_here("train", "-q", train, model)[0] == 0
    for name, text, bad_line in [("gap", "1 1:1\n\n-1 2:1\n", 2), ("comment", "1 1:1\n# x\n-1 2:1\n", 2),
                                 ("head", "# header\n1 1:1\n-1 2:1", 1)]:
        plain, packed = tmp_path / name, tmp_path / f"{name}.bz2"
        plain.write_text(text)
        packed.write_bytes(bz2.compress(text.encode()))
        for test in (plain, packed):
            assert_usage_error(run_here("predict", test, model, out), f"line {bad_line}: a blank or comment line")
    fine = tmp_path / "fine"
    fine.write_text("1 1:1 # a remark\n-1 2:1\n\n\n")
    code, stdout, err = run_here("predict", fine, model, out)
    assert code == 0 and len(out.read_text().splitlines()) == 2, err


def test_newer_model_format(files, tmp_path):
    _, _, test = files
    path = tmp_path / "new.model"
    path.write_text(MODEL.replace("bias 1\n", "bias 1\nfastlinear_format_version 2\n"))
    assert_usage_error(run("predict", test, path, tmp_path / "o"), "unknown header key", "newer")


# --------------------------------------------------------------------- demo


def test_demo_side_by_side_on_small_files(files):
    _, train, test = files
    code, out, err = run("demo", "--train", train, "--test", test, "--Cs", "0.1,1")
    assert code == 0, err
    assert "Table 1" in out and "Table 2" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+(0\.1|1)\s+0\.\d+ ±", line)]
    assert len(rows) == 2
    for row in rows:
        fl, sk, sk_defaults = float(row[1]), float(row[4]), float(row[7])
        assert abs(fl - sk) <= 0.002 and abs(fl - sk_defaults) <= 0.002
    # The output says what was compared, and compares with scikit-learn's defaults too.
    assert "fastlinear.LinearSVCCV(dual='auto', tol=0.0001, max_iter=60000)" in out
    assert "sklearn.svm.LinearSVC(dual=True, tol=0.0001, max_iter=60000)" in out
    assert "sklearn.svm.LinearSVC() with scikit-learn's defaults (dual='auto', tol=0.0001, max_iter=1000)" in out
    times = dict(re.findall(r"^(fastlinear|sklearn|sklearn defaults)\s+\S+\s+0\.\d+ \(\d+/1000\)\s+(\S+)s$",
                            out, re.M))
    assert set(times) == {"fastlinear", "sklearn", "sklearn defaults"}, out
    speedups = re.findall(r"^speed-up of fastlinear \(dual='auto'\) over scikit-learn with (the assignment's "
                          r"settings \(dual=True, .*\)|its defaults \(dual='auto', .*\)): (\d+\.\d)x$", out, re.M)
    assert [what.split(" (")[0] for what, _ in speedups] == ["the assignment's settings", "its defaults"], out
    fl = float(times["fastlinear"])
    for name, (_, ratio) in zip(["sklearn", "sklearn defaults"], speedups, strict=True):
        # The ratio of the two times, up to their rounding to 0.01 s and its own to 0.1.
        sk = float(times[name])
        assert (sk - 0.005) / (fl + 0.005) - 0.05 <= float(ratio) <= (sk + 0.005) / max(fl - 0.005, 1e-9) + 0.05
    assert "sklearn          [" in err and "sklearn defaults [" in err and "LinearSVCCV [" in err


def test_demo_reproduces_the_reference_figures():
    """Full a9a, the cheap part of the grid (C up to 1; 10 and 100 are in bench/)."""
    code, out, err = run("demo", "--no-sklearn", "--Cs", "0.01,0.1,1")
    assert code == 0, err
    for C in (0.01, 0.1, 1.0):
        match = re.search(rf"^\s+{C:g}\s+(0\.\d+) ± (0\.\d+)", out, re.M)
        assert match, out
        assert abs(float(match.group(1)) - REFERENCE_CV[C]) <= 0.002
    match = re.search(r"^fastlinear\s+(\S+)\s+(0\.\d+) \((\d+)/16281\)", out, re.M)
    assert match, out
    assert float(match.group(1)) == 0.1
    assert abs(float(match.group(2)) - REFERENCE_TEST) <= 0.001


def test_demo_errors(tmp_path, run_here):
    assert_usage_error(run_here("demo", "--train", tmp_path / "x"), "give both --train and --test")
    code, out, err = run_here("demo", "--cv", "x")
    assert code == 2 and "invalid int value" in err and "Traceback" not in err
    code, out, err = run_here("demo", "--Cs", "0.1,nan")
    assert code == 2 and "Traceback" not in err
    assert "argument --Cs: expects comma-separated finite numbers > 0" in err
    assert "entry 'nan' of '0.1,nan'" in err


@pytest.mark.parametrize(("grid", "entry"), [("1,,2", "''"), ("0.1,1,", "''"), ("nan", "'nan'"),
                                             ("0.1,inf", "'inf'"), ("1,-1", "'-1'"), ("0", "'0'"),
                                             ("0.1,1_0", "'1_0'"), ("1,x", "'x'")])
def test_train_refuses_a_bad_c_grid_naming_the_entry(files, run_here, grid, entry):
    """--Cs: every entry a finite number > 0; an empty entry is refused, not skipped."""
    _, train, _ = files
    assert_usage_error(run_here("train", "-C", "--Cs", grid, train),
                       "option --Cs expects comma-separated finite numbers > 0",
                       f"entry {entry} of {grid!r} is not one")


def test_train_reads_a_c_grid_with_spaces(files, tmp_path, run_here):
    _, train, _ = files
    code, out, err = run_here("train", "-C", "-v", "2", "--Cs", "0.1, 1", train, tmp_path / "m")
    assert code == 0, err
    assert "log2c=  -3.32\t" in out and "log2c=   0.00\t" in out


def test_primal_solver_matches_liblinear_s2(files, tmp_path, run_here):
    """-s 2 (primal Newton) reaches liblinear -s 2's model: same objective, same labels."""
    folder, train, test = files
    model = tmp_path / "primal.model"
    code, out, err = run_here("train", "-s", "2", "-c", "1", "-e", "1e-6", "-q", train, model)
    assert code == 0, err
    y, x = liblinearutil.svm_read_problem(str(train))
    ours = liblinearutil.load_model(str(model))
    theirs = liblinearutil.train(y, x, "-s 2 -c 1 -e 1e-6 -B 1 -q")
    yt, xt = liblinearutil.svm_read_problem(str(test))
    p_ours, _, _ = liblinearutil.predict(yt, xt, ours, "-q")
    p_theirs, _, _ = liblinearutil.predict(yt, xt, theirs, "-q")
    assert np.mean(np.array(p_ours) == np.array(p_theirs)) >= 0.995
    X, y_np = load(train)

    def objective(m):
        n = X.shape[1]
        w = np.array([m.get_decfun_coef(j + 1) for j in range(n)])
        b = m.get_decfun_bias()
        sign = 1.0 if m.get_labels()[0] == 1 else -1.0
        margins = np.maximum(0.0, 1.0 - np.where(y_np == 1, 1.0, -1.0) * sign * (X @ w + b))
        return 0.5 * (w @ w + b * b) + np.sum(margins**2)

    np.testing.assert_allclose(objective(ours), objective(theirs), rtol=1e-4)


# --------------------------------------------------------------------------
# Every solver type: model files that liblinear-official reads, and back


def _regression_files(tmp_path):
    rng = np.random.RandomState(3)
    X = sp.random(300, 40, density=0.2, format="csr", random_state=rng)
    y = X @ rng.randn(40) + 0.1 * rng.randn(300) + 0.5
    train, test = tmp_path / "reg", tmp_path / "reg.t"
    dump_svmlight_file(X[:200], y[:200], str(train), zero_based=False)
    dump_svmlight_file(X[200:], y[200:], str(test), zero_based=False)
    return train, test


@pytest.mark.parametrize("solver", [4, 5])
@pytest.mark.parametrize("multiclass", [False, True])
def test_classification_solvers_round_trip_with_liblinear(solver, multiclass, files, tmp_path, run_here):
    if multiclass:
        train, _, _ = _multiclass(tmp_path)
        test = train
    else:
        _, train, test = files
    options = ["-s", str(solver), "-c", "0.5", "-e", "1e-4"]
    y_test, x_test = liblinearutil.svm_read_problem(str(test))
    # fastlinear -> liblinear-official
    model, output = tmp_path / "fl.model", tmp_path / "fl.out"
    code, out, err = run_here("train", *options, "-q", train, model)
    assert code == 0, err
    code, out, err = run_here("predict", test, model, output)
    assert code == 0, err
    ours = np.loadtxt(output)
    labels, _, _ = liblinearutil.predict(y_test, x_test, liblinearutil.load_model(str(model)), "-q")
    np.testing.assert_array_equal(np.array(labels), ours)
    # liblinear-official -> fastlinear
    y_train, x_train = liblinearutil.svm_read_problem(str(train))
    theirs = tmp_path / "ll.model"
    liblinearutil.save_model(str(theirs), liblinearutil.train(y_train, x_train, " ".join(options) + " -B 1 -q"))
    labels, _, _ = liblinearutil.predict(y_test, x_test, liblinearutil.load_model(str(theirs)), "-q")
    code, out, err = run_here("predict", test, theirs, output)
    assert code == 0, err
    np.testing.assert_array_equal(np.loadtxt(output), np.array(labels))
    # Both trainers reach the same model, up to the solvers' tolerance.
    assert np.mean(np.array(labels) == ours) >= 0.98


@pytest.mark.parametrize("solver", [11, 12, 13])
def test_regression_solvers_round_trip_with_liblinear(solver, tmp_path, run_here):
    train, test = _regression_files(tmp_path)
    options = ["-s", str(solver), "-c", "1", "-p", "0.05", "-e", "1e-4"]
    y_test, x_test = liblinearutil.svm_read_problem(str(test))
    model, output = tmp_path / "fl.model", tmp_path / "fl.out"
    code, out, err = run_here("train", *options, "-q", train, model)
    assert code == 0, err
    assert "label" not in model.read_text()  # regression models have no label line
    code, out, err = run_here("predict", test, model, output)
    assert code == 0, err
    ours = np.loadtxt(output)
    values, (_, mse, scc), _ = liblinearutil.predict(y_test, x_test, liblinearutil.load_model(str(model)), "-q")
    np.testing.assert_allclose(ours, values, rtol=1e-12, atol=1e-12)
    # liblinear's two summary lines, with its numbers.
    assert out.splitlines() == [f"Mean squared error = {mse:g} (regression)",
                                f"Squared correlation coefficient = {scc:g} (regression)"]
    # liblinear-official -> fastlinear, value for value.
    y_train, x_train = liblinearutil.svm_read_problem(str(train))
    theirs = tmp_path / "ll.model"
    liblinearutil.save_model(str(theirs), liblinearutil.train(y_train, x_train, " ".join(options) + " -B 1 -q"))
    values, _, _ = liblinearutil.predict(y_test, x_test, liblinearutil.load_model(str(theirs)), "-q")
    code, out, err = run_here("predict", test, theirs, output)
    assert code == 0, err
    np.testing.assert_allclose(np.loadtxt(output), values, rtol=1e-12, atol=1e-12)


def test_regression_cross_validation_and_refusals(tmp_path, run_here):
    train, _ = _regression_files(tmp_path)
    code, out, err = run_here("train", "-s", "11", "-v", "3", "-q", train)
    assert code == 0, err
    # LIBLINEAR's figures over the pooled predictions of the (shuffled) folds.
    X, y = load_svmlight_file(str(train), zero_based=False)
    pred = np.empty_like(y)
    for fit_rows, test_rows in KFold(3, shuffle=True, random_state=0).split(X):
        svr = LinearSVR(loss="squared_epsilon_insensitive", dual=False, C=1.0, epsilon=0.1, random_state=0)
        pred[test_rows] = svr.fit(X[fit_rows], y[fit_rows]).predict(X[test_rows])
    n = len(y)
    mse = np.mean((pred - y) ** 2)
    scc = (n * pred @ y - pred.sum() * y.sum()) ** 2 / (
        (n * pred @ pred - pred.sum() ** 2) * (n * y @ y - y.sum() ** 2))
    assert out.splitlines() == [f"Cross Validation Mean squared error = {mse:g}",
                                f"Cross Validation Squared correlation coefficient = {scc:g}"]
    assert scc > 0.5
    assert_usage_error(run_here("train", "-s", "12", "-C", train), "-C", "C and p for -s 11")
    assert_usage_error(run_here("train", "-s", "11", "-p", "-1", train), "-p")


# --------------------------------------------------------------------------
# The dual solvers' switch to a primal one after 300 passes (LIBLINEAR 2.42+)


def _primal_gradient_ratio(path, X, y, C, solver, p=0.1):
    """LIBLINEAR's primal objective of the model file ``path`` (``-B 1``: the
    bias a penalised feature of value 1) and its gradient's norm relative to
    the norm at w = 0: ``-s 1`` squared hinge, ``-s 7`` logistic, ``-s 12``
    squared epsilon-insensitive with ``p``."""
    est = load_liblinear_model(path)
    Xb = sp.hstack([X, np.ones((X.shape[0], 1))]).tocsr()
    w = np.r_[np.ravel(est.coef_), est.intercept_]

    def loss_and_derivative(z):
        if solver == 12:
            excess = np.maximum(np.abs(z - y) - p, 0.0)
            return C * np.sum(excess**2), 2 * C * np.sign(z - y) * excess
        t = np.where(y == est.classes_[1], 1.0, -1.0)
        if solver == 1:
            margin = np.maximum(0.0, 1 - t * z)
            return C * np.sum(margin**2), -2 * C * t * margin
        return C * np.sum(np.logaddexp(0.0, -t * z)), -C * t / (1 + np.exp(t * z))

    loss, derivative = loss_and_derivative(Xb @ w)
    gradient_0 = Xb.T @ loss_and_derivative(np.zeros(X.shape[0]))[1]
    return 0.5 * w @ w + loss, np.linalg.norm(w + Xb.T @ derivative) / np.linalg.norm(gradient_0)


@pytest.mark.parametrize("solver, primal, factor", [(1, 2, 0.1), (7, 0, 0.1), (12, 11, 0.001)])
def test_dual_solvers_switch_to_the_primal_one_as_liblinear(solver, primal, factor, files, tmp_path,
                                                            run_here):
    """-s 1 / 7 / 12 at C = 100: 300 passes fall short of -e, so the primal
    solver continues from there (LIBLINEAR 2.42's words); it stops at its own
    test with -e times LIBLINEAR's factor (checked on the model file's
    weights), liblinear-official's run meets the same test, and the model
    file is the dual row's.  With --max-iter 300 the dual runs alone and warns."""
    _, train, _ = files
    X, y = load(train)
    y = y.astype(float)
    if solver == 12:  # regression targets: the labels, perturbed
        y = y + 0.3 * np.sin(np.arange(len(y)))
        train = tmp_path / "regression"
        dump_svmlight_file(X, y, str(train), zero_based=False)
    options = ["-s", solver, "-c", 100, "-e", 0.1]
    model = tmp_path / "fl.model"
    code, out, err = run_here("train", *options, train, model)
    assert code == 0, err
    assert out.startswith(f"WARNING: reaching max number of iterations\nSwitching to use -s {primal}\n")
    assert err == ""  # the primal solver met its test: no ConvergenceWarning
    iterations = int(re.search(r"(\d+) iterations", out).group(1))
    assert 300 < iterations < 400  # the passes, then a few Newton steps
    row = _solver_table.by_number(solver)
    assert model.read_text().splitlines()[0] == f"solver_type {row.type_name}"
    n_pos = np.sum(y > 0)
    scale = 1.0 if solver == 12 else max(min(n_pos, len(y) - n_pos), 1) / len(y)
    bound = factor * 0.1 * scale
    objective, ratio = _primal_gradient_ratio(model, X, y, 100.0, solver)
    assert ratio <= bound
    # liblinear-official, same options: the same test, an objective as close
    # as that test allows.
    y_ll, x_ll = liblinearutil.svm_read_problem(str(train))
    theirs = tmp_path / "ll.model"
    liblinearutil.save_model(str(theirs), liblinearutil.train(
        y_ll, x_ll, " ".join(map(str, options)) + " -B 1 -q"))
    objective_ll, ratio_ll = _primal_gradient_ratio(theirs, X, y, 100.0, solver)
    assert ratio_ll <= bound
    assert abs(objective - objective_ll) <= 1e-3 * objective_ll
    # --max-iter 300 (or less): the dual alone, short of -e, with the warning.
    code, out, err = run_here("train", *options, "--max-iter", 300, train, model)
    assert code == 0, err
    assert "Switching" not in out and "300 iterations" in out
    assert "WARNING" in err
    _, ratio_dual = _primal_gradient_ratio(model, X, y, 100.0, solver)
    assert ratio_dual > bound  # what the switch is for
    # -q: no message, the same model.
    code, out, err = run_here("train", *options, "-q", train, model)
    assert (code, out, err) == (0, "", "")
    assert _primal_gradient_ratio(model, X, y, 100.0, solver)[0] == objective


def test_cross_validation_switches_as_train_does(files, run_here):
    """-v with -s 1 at C = 100: every fold switches to the primal solver as
    train does (no warning; without the switch, --max-iter 300 warns), and the
    pooled accuracy is the optimum's, fold by fold (3 of 3,000 predictions
    may differ: the switch stops at its tolerance)."""
    _, train, _ = files
    X, y = load(train)
    code, out, err = run_here("train", "-s", 1, "-v", 3, "-c", 100, train)
    assert code == 0, err
    assert err == ""
    accuracy = float(re.search(r"Cross Validation Accuracy = ([0-9.]+)%", out).group(1))
    correct = 0
    for fit_rows, test_rows in CLI_FOLDS(3).split(X, y):
        optimum = LinearSVC(C=100, dual=False, tol=1e-10, max_iter=10_000)
        optimum.fit(X[fit_rows], y[fit_rows])
        correct += np.sum(optimum.predict(X[test_rows]) == y[test_rows])
    assert abs(accuracy - 100 * correct / len(y)) <= 100 * 3 / len(y)
    code, out, err = run_here("train", "-s", 1, "-v", 3, "-c", 100, "--max-iter", 300, train)
    assert code == 0 and "WARNING" in err


def test_dual_solver_that_converges_does_not_switch(files, tmp_path, run_here):
    """-s 7 at C = 0.1 converges in fewer than 300 passes: the plain dual fit,
    bit for bit (the estimator with the same parameters)."""
    _, train, _ = files
    X, y = load(train)
    model = tmp_path / "fl.model"
    code, out, err = run_here("train", "-s", 7, "-c", 0.1, "-e", 0.1, train, model)
    assert code == 0, err
    assert "Switching" not in out and "solver liblinear-dual)" in out
    est = LogisticRegression(solver="liblinear", dual=True, C=0.1, tol=0.1, random_state=0).fit(X, y)
    assert est.n_iter_[0] < 300
    np.testing.assert_array_equal(load_liblinear_model(model).coef_, est.coef_)


# --------------------------------------------------------------------------
# Logistic regression: -s 0 (primal) and -s 7 (dual), predict -b 1


def _width(X, n_features):
    """X cut or padded to n_features columns (as predict reads a test file), with
    32-bit indices (scikit-learn's liblinear takes no others)."""
    X = X[:, :n_features] if X.shape[1] > n_features else X
    return sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                         shape=(X.shape[0], n_features))


def _read_proba_output(path):
    """fastlinear's or LIBLINEAR's ``predict -b 1`` file: (labels line, labels, probabilities)."""
    lines = Path(path).read_text().splitlines()
    header = lines[0].split()
    assert header[0] == "labels", lines[0]
    rows = np.array([[float(v) for v in line.split()] for line in lines[1:]])
    return [int(v) for v in header[1:]], rows[:, 0], rows[:, 1:]


def liblinear_lr_objective(path, X, y, C, weights=None, l1=False):
    """LIBLINEAR's primal objective of an L2R_LR / L2R_LR_DUAL model file, summed
    over its binary problems: 1/2 ||[w; w_bias]||^2 + sum_i C_i log(1 + exp(-t_i w.x_i))
    (L1R_LR, ``l1=True``: ||[w; w_bias]||_1 instead of the squared norm).

    Two classes: one problem, C_i = C * weight of y_i.  K >= 3: one per class k
    (one-vs-rest), C_i = C * weight of k for its samples and C for the others.
    """
    weights = weights or {}
    est = load_liblinear_model(path)
    scores = X @ est.coef_.T + est.intercept_
    bias = est.intercept_scaling if est.fit_intercept else 1.0
    classes = est.classes_
    if len(classes) == 2:
        t = np.where(y == classes[1], 1.0, -1.0)[:, None]
        cost = (C * np.array([weights.get(v, 1.0) for v in y]))[:, None]
    else:
        t = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
        cost = C * np.where(t > 0, [[weights.get(v, 1.0) for v in classes]], 1.0)
    penalty = 0.5 * (np.sum(est.coef_**2) + np.sum((est.intercept_ / bias) ** 2))
    if l1:
        penalty = np.sum(np.abs(est.coef_)) + np.sum(np.abs(est.intercept_ / bias))
    return penalty + float(np.sum(cost * np.logaddexp(0.0, -t * scores)))


def _agrees_with_liblinear(model, solver, test, Xt, run_here):
    """A logistic model file: load_liblinear_model and ``fastlinear predict -b 1``
    give liblinear-official's labels and probabilities (1e-6) on the test file."""
    y_test, x_test = liblinearutil.svm_read_problem(str(test))
    ll_model = liblinearutil.load_model(str(model))
    expected, _, expected_p = liblinearutil.predict(y_test, x_test, ll_model, "-b 1 -q")
    est = load_liblinear_model(model)
    assert isinstance(est, LogisticRegression)
    assert (est.solver, est.dual, est.intercept_scaling) == ("liblinear", solver == 7, 1.0)
    order = np.searchsorted(est.classes_, ll_model.get_labels())
    np.testing.assert_array_equal(est.predict(Xt), expected)
    np.testing.assert_allclose(liblinear_predict_proba(est, Xt)[:, order], expected_p, rtol=1e-6, atol=1e-12)
    output = Path(model).with_suffix(".out")
    code, out, err = run_here("predict", "-b", "1", test, model, output)
    assert code == 0, err
    labels, pred, proba = _read_proba_output(output)
    assert labels == ll_model.get_labels()
    np.testing.assert_array_equal(pred, expected)
    np.testing.assert_allclose(proba, expected_p, atol=1e-6)  # "%g": 6 significant digits
    correct = int(np.sum(pred == np.array(y_test)))
    assert out.strip() == f"Accuracy = {100 * correct / len(y_test):g}% ({correct}/{len(y_test)})"


@pytest.mark.parametrize("solver", [0, 6, 7])
@pytest.mark.parametrize("multiclass", [False, True])
def test_logistic_round_trip_with_liblinear(solver, multiclass, files, tmp_path, run_here):
    """Model files of -s 0 / -s 6 / -s 7 both ways: same labels, probabilities (1e-6), objectives (1e-6)."""
    if multiclass:
        train, X, y = _multiclass(tmp_path)
        test, weights = train, {3: 2.0, -2: 0.5}
    else:
        _, train, test = files
        X, y = load(train)
        weights = {1: 2.0}
    options = ["-s", str(solver), "-c", "0.5", "-e", "1e-8"]
    for label, weight in weights.items():
        options += [f"-w{label}", str(weight)]
    Xt = _width(load(test)[0], X.shape[1])
    solver_type = {0: "L2R_LR", 6: "L1R_LR", 7: "L2R_LR_DUAL"}[solver]

    # fastlinear -> liblinear-official
    model = tmp_path / "fl.model"
    code, out, err = run_here("train", *options, "-q", train, model)
    assert (code, out) == (0, ""), err
    assert model.read_text().startswith(f"solver_type {solver_type}\nnr_class {len(np.unique(y))}\n")
    _agrees_with_liblinear(model, solver, test, Xt, run_here)
    # liblinear-official -> fastlinear
    y_train, x_train = liblinearutil.svm_read_problem(str(train))
    theirs = tmp_path / "ll.model"
    liblinearutil.save_model(str(theirs), liblinearutil.train(y_train, x_train, " ".join(options) + " -B 1 -q"))
    _agrees_with_liblinear(theirs, solver, test, Xt, run_here)

    # Both trainers solve the same problem (LIBLINEAR's weights included).
    ours_J = liblinear_lr_objective(model, X, y, 0.5, weights, l1=solver == 6)
    theirs_J = liblinear_lr_objective(theirs, X, y, 0.5, weights, l1=solver == 6)
    np.testing.assert_allclose(ours_J, theirs_J, rtol=1e-6)


def test_predict_b1_follows_the_label_line_by_hand(tmp_path, run_here):
    """LIBLINEAR's -b 1 by hand: binary sigma(w.x) for label[0]; three classes
    sigma(d_k) normalised, columns in the file's (unsorted) label order."""
    binary = "".join(line + "\n" for line in [
        "solver_type L2R_LR", "nr_class 2", "label -1 1", "nr_feature 2", "bias 1", "w",
        "0.5 ", "-0.25 ", "0.125 "])
    (tmp_path / "b.model").write_text(binary)
    data = tmp_path / "x"
    data.write_text("1 1:1\n-1 2:2\n1 1:-1\n1 2:0.5\n")
    code, out, err = run_here("predict", "-b", "1", data, tmp_path / "b.model", tmp_path / "out")
    assert code == 0, err
    # w.x + 0.125 * bias, positive for label[0] = -1; on the tie w.x = 0, label[1].
    d = np.array([0.625, -0.375, -0.375, 0.0])
    p = 1 / (1 + np.exp(-d))
    lines = (tmp_path / "out").read_text().splitlines()
    assert lines[0] == "labels -1 1"
    assert lines[1:] == [f"{-1 if v > 0 else 1:g} {q:g} {1 - q:g}" for v, q in zip(d, p, strict=True)]
    three = "".join(line + "\n" for line in [
        "solver_type L2R_LR_DUAL", "nr_class 3", "label 7 -2 3", "nr_feature 1", "bias -1", "w",
        "1 -1 0.5 "])
    (tmp_path / "m.model").write_text(three)
    code, out, err = run_here("predict", "-b", "1", "-q", data, tmp_path / "m.model", tmp_path / "out")
    assert (code, out) == (0, ""), err
    x = np.array([1.0, 0.0, -1.0, 0.0])  # feature 2 is beyond the model's: x = 0, a tie, label[0]
    s = 1 / (1 + np.exp(-np.outer(x, [1.0, -1.0, 0.5])))
    s /= s.sum(axis=1, keepdims=True)
    pred = np.array([7, -2, 3])[np.argmax(np.outer(x, [1.0, -1.0, 0.5]), axis=1)]
    lines = (tmp_path / "out").read_text().splitlines()
    assert lines[0] == "labels 7 -2 3"
    assert lines[1:] == [f"{k:g} " + " ".join(f"{v:g}" for v in row) for k, row in zip(pred, s, strict=True)]
    # liblinear-official reads both files alike, ties included.
    y_ll, x_ll = liblinearutil.svm_read_problem(str(data))
    for name, ours in (("b.model", d), ("m.model", pred)):
        labels, _, p = liblinearutil.predict(y_ll, x_ll, liblinearutil.load_model(str(tmp_path / name)), "-b 1 -q")
        if name == "b.model":
            np.testing.assert_array_equal(labels, np.where(ours > 0, -1, 1))
        else:
            np.testing.assert_array_equal(labels, ours)
            np.testing.assert_allclose(p, s, rtol=1e-12)


@pytest.mark.parametrize("solver", [1, 0])
def test_liblinear_models_of_one_class_or_no_feature_predict_as_liblinear(tmp_path, run_here, solver):
    """Two models LIBLINEAR writes and fastlinear predict used to refuse: one
    class (``nr_class 1``, from a file with one label: every sample gets
    it, probability 1) and no feature (``nr_feature 0``, from a file of
    labels only: the bias term decides)."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    test = tmp_path / "test"
    # No feature 1: the binding (not LIBLINEAR's predict tool) would weigh index
    # nr_feature + 1 of the featureless model by its bias weight.
    test.write_text("-1\n+1 5:1\n-1 3:1\n+1 2:0.5\n")
    y_te, x_te = liblinearutil.svm_read_problem(str(test))
    for name, text, options in [("one", "-1 1:1\n-1 2:1\n-1 1:0.5\n", "-B -1"),
                                ("none", "-1\n+1\n-1\n-1\n", "-B 1")]:
        data, model, out = tmp_path / name, tmp_path / f"{name}.model", tmp_path / "out"
        data.write_text(text)
        y, x = liblinearutil.svm_read_problem(str(data))
        liblinearutil.save_model(str(model), liblinearutil.train(y, x, f"-q -s {solver} {options}"))
        probability = ["-b", "1"] if solver == 0 else []
        expected, _, p = liblinearutil.predict(y_te, x_te, liblinearutil.load_model(str(model)),
                                               " ".join(probability + ["-q"]))
        code, stdout, err = run_here("predict", *probability, test, model, out)
        assert code == 0, err
        lines = out.read_text().splitlines()
        if probability:
            assert lines[0].split()[0] == "labels"
            lines = lines[1:]
            np.testing.assert_allclose([[float(v) for v in line.split()[1:]] for line in lines], p,
                                       rtol=1e-5)   # printed as %g
        assert [float(line.split()[0]) for line in lines] == expected
        assert stdout.startswith("Accuracy = ")
    assert expected == [-1.0] * 4      # the one label, or the bias term's


@pytest.mark.parametrize("solver, labels", [(0, "1 -1 1 1 -1 1"), (4, "1 -1 1 1 -1 1"),
                                           (5, "1 -1 1 1 -1 1"), (6, "3 3 3"),
                                           (11, "2.5 -1 0.5"), (12, "2.5 -1 0.5")])
def test_a_file_of_labels_only_gives_liblinears_model(tmp_path, run_here, solver, labels):
    """No feature token in the training file: LIBLINEAR writes ``nr_feature 0``
    (X has one empty column here); the same header lines and weights as
    liblinear-official's, with and without the bias."""
    data = tmp_path / "labels"
    data.write_text("\n".join(labels.split()) + "\n")
    y, x = liblinearutil.svm_read_problem(str(data))
    for bias in ("1", "-1", "0"):
        ours, theirs = tmp_path / "ours.model", tmp_path / "theirs.model"
        args = ["-s", str(solver), "-B", bias, "-e", "0.0001"]
        liblinearutil.save_model(str(theirs), liblinearutil.train(y, x, " ".join(args + ["-q"])))
        code, _, err = run_here("train", "-q", *args, data, ours)
        assert code == 0, err
        a, b = theirs.read_text().splitlines(), ours.read_text().splitlines()
        k = a.index("w") + 1      # (regression models have no label line)
        assert b[:k] == a[:k]
        assert "nr_feature 0" in b
        np.testing.assert_allclose([float(v) for line in b[k:] for v in line.split()],
                                   [float(v) for line in a[k:] for v in line.split()],
                                   rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("solver", [0, 1, 2, 3, 4, 5, 6, 7])
def test_train_on_one_label_writes_liblinears_one_class_model(tmp_path, run_here, solver):
    """A file with one label: the model liblinear-official writes (``nr_class
    1``, the binary problem with every sample positive at the label's
    ``-w`` weight, zeros for Crammer and Singer): the same header lines and
    weights to the tolerance, for -B 1, -1 and 0; predict gives the label."""
    rng = np.random.default_rng(solver)
    data = tmp_path / "one"
    rows = []
    for _ in range(60):
        cols = sorted(set(rng.integers(1, 8, 3).tolist()))
        rows.append("3 " + " ".join(f"{j}:{rng.normal():.3f}" for j in cols))
    data.write_text("\n".join(rows) + "\n")
    y, x = liblinearutil.svm_read_problem(str(data))
    for options in (["-B", "1", "-w3", "2"], ["-B", "-1"], ["-B", "0", "-c", "0.5"]):
        ours, theirs = tmp_path / "ours.model", tmp_path / "theirs.model"
        args = ["-s", str(solver), "-e", "0.0001"] + options
        liblinearutil.save_model(str(theirs), liblinearutil.train(y, x, " ".join(args + ["-q"])))
        code, _, err = run_here("train", "-q", *args, data, ours)
        assert code == 0, err
        a, b = theirs.read_text().splitlines(), ours.read_text().splitlines()
        assert b[:6] == a[:6]
        assert b[1] == "nr_class 1"
        np.testing.assert_allclose([float(v) for v in b[6:]], [float(v) for v in a[6:]],
                                   rtol=1e-3, atol=1e-4)
        code, _, err = run_here("predict", data, ours, tmp_path / "out")
        assert code == 0, err
        assert set((tmp_path / "out").read_text().split()) == {"3"}


@pytest.mark.parametrize("solver", ["0", "1", "4"])
def test_model_files_keep_liblinears_label_order(tmp_path, run_here, solver):
    """``train`` writes the label line in LIBLINEAR's order (first appearance;
    -1 before +1 becomes +1, -1), its columns (or the sign of the one weight
    vector) to match: the same label line as liblinear-official's, the same
    predictions, and ``-b 1`` columns in the same order."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    rng = np.random.default_rng(0)
    for name, labels in [("zero-two", [0, 2]), ("minus-first", [-1, 1]), ("three", [3, 1, 2])]:
        centers = rng.standard_normal((len(labels), 4)) * 3
        y = np.array([labels[i % len(labels)] for i in range(60)])
        X = centers[[labels.index(v) for v in y]] + rng.standard_normal((60, 4))
        data, ours, theirs = tmp_path / name, tmp_path / f"{name}.ours", tmp_path / f"{name}.theirs"
        dump_svmlight_file(X, y, str(data), zero_based=False)
        assert run_here("train", "-q", "-s", solver, "-e", "1e-6", data, ours)[0] == 0
        y_ll, x_ll = liblinearutil.svm_read_problem(str(data))
        liblinearutil.save_model(str(theirs), liblinearutil.train(y_ll, x_ll, f"-q -s {solver} -B 1 -e 1e-6"))
        line = [row for row in theirs.read_text().splitlines() if row.startswith("label ")]
        assert [row for row in ours.read_text().splitlines() if row.startswith("label ")] == line
        predicted = {}
        for model in (ours, theirs):
            out = tmp_path / "out"
            probability = ["-b", "1"] if solver == "0" else []
            assert run_here("predict", "-q", *probability, data, model, out)[0] == 0
            predicted[model] = out.read_text().splitlines()
        if probability:
            assert predicted[ours][0] == predicted[theirs][0] == "labels " + line[0][len("label "):]
            p = [np.array([[float(v) for v in row.split()[1:]] for row in predicted[m][1:]])
                 for m in (ours, theirs)]
            np.testing.assert_allclose(p[0], p[1], atol=1e-3)
        agree = np.mean([a.split()[0] == b.split()[0]
                         for a, b in zip(predicted[ours], predicted[theirs], strict=True)])
        assert agree >= 0.95


@pytest.mark.parametrize("solver", ["1", "0", "4"])
def test_bias_zero_is_written_as_liblinear(tmp_path, run_here, solver):
    """-B 0 appends a constant feature of value 0: LIBLINEAR writes ``bias 0``
    and a weight row for it (0, as printf writes it); so does train now (it
    wrote ``bias -1``), and each tool predicts the other's file alike."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    data, ours, theirs = tmp_path / "d", tmp_path / "ours", tmp_path / "theirs"
    # Two classes, 0 first (the weight vector's sign flips: its zero must not
    # print as -0), and three.
    for text, last in [("0 1:1\n2 2:1\n0 1:0.5\n2 2:0.3\n", "0 "),
                       ("0 1:1\n2 2:1\n0 1:0.5\n2 2:0.3\n1 1:0.2 2:0.2\n", "0 0 0 ")]:
        if solver == "4" and last == "0 ":
            last = "0 0 "        # Crammer and Singer keep two columns
        data.write_text(text)
        assert run_here("train", "-q", "-s", solver, "-B", "0", data, ours)[0] == 0
        y, x = liblinearutil.svm_read_problem(str(data))
        liblinearutil.save_model(str(theirs), liblinearutil.train(y, x, f"-q -s {solver} -B 0"))
        assert ours.read_text().splitlines()[:6] == theirs.read_text().splitlines()[:6]  # header, 'w'
        assert ours.read_text().splitlines()[-1] == theirs.read_text().splitlines()[-1] == last
        for model in (ours, theirs):
            expected, _, _ = liblinearutil.predict(y, x, liblinearutil.load_model(str(model)), "-q")
            out = tmp_path / "out"
            assert run_here("predict", "-q", data, model, out)[0] == 0
            assert [float(v) for v in out.read_text().split()] == expected


def test_crammer_singer_binary_ties_as_liblinear(tmp_path, run_here):
    """Two classes, ``-s 4``: LIBLINEAR predicts ``label[0]`` only when the
    first column's value is positive, so a tie (an empty row of a model
    without bias) is ``label[1]``, for its model files and for ours."""
    liblinearutil = pytest.importorskip("liblinear.liblinearutil")
    train, test = tmp_path / "cs.tr", tmp_path / "cs.te"
    train.write_text("-1 1:1\n+1 2:1\n-1 1:0.8\n+1 2:0.9\n")
    test.write_text("-1\n+1 5:1\n-1 1:1\n+1 2:1\n")    # two ties: empty, beyond nr_feature
    ours, theirs = tmp_path / "ours.model", tmp_path / "theirs.model"
    assert run_here("train", "-q", "-s", "4", "-B", "-1", train, ours)[0] == 0
    y, x = liblinearutil.svm_read_problem(str(train))
    liblinearutil.save_model(str(theirs), liblinearutil.train(y, x, "-q -s 4 -B -1"))
    y_te, x_te = liblinearutil.svm_read_problem(str(test))
    for model in (ours, theirs):
        expected, _, _ = liblinearutil.predict(y_te, x_te, liblinearutil.load_model(str(model)), "-q")
        out = tmp_path / "out"
        code, _, err = run_here("predict", "-q", test, model, out)
        assert code == 0, err
        assert [float(v) for v in out.read_text().split()] == expected
        assert expected[2:] == [-1.0, 1.0]


@pytest.mark.parametrize("solver", [0, 7])
@pytest.mark.parametrize("multiclass", [False, True])
def test_logistic_cross_validation_accuracy(solver, multiclass, files, tmp_path, run_here):
    """-v with -s 0 / -s 7: LIBLINEAR's pooled accuracy over stratified folds (no
    shuffling), the same as scikit-learn's one-vs-rest over the same folds."""
    if multiclass:
        train, X, y = _multiclass(tmp_path)
    else:
        _, train, _ = files
        X, y = load(train)
    code, out, err = run_here("train", "-s", solver, "-v", "4", "-c", "0.3", "-e", "1e-8", "-q", train)
    assert code == 0, err
    binary = SkLogisticRegression(solver="liblinear", dual=solver == 7, C=0.3, tol=1e-8, max_iter=1000,
                                  random_state=0)
    model = OneVsRestClassifier(binary) if multiclass else binary
    pooled = np.mean(cross_val_predict(model, X, y, cv=CLI_FOLDS(4)) == y)
    assert out.splitlines() == [f"Cross Validation Accuracy = {100 * pooled:g}%"]
    assert not (tmp_path / "multi.model").exists()  # -v writes no model


@pytest.mark.parametrize("multiclass", [False, True])
def test_logistic_C_search(multiclass, files, tmp_path, run_here):
    """-C with -s 0: per C, the correct predictions of all folds (warm-started path
    = fits from zero at a tight -e), the best C (most correct, smallest on ties),
    and the refit at it saved."""
    if multiclass:
        train, X, y = _multiclass(tmp_path)
    else:
        _, train, _ = files
        X, y = load(train)
    Cs = [0.001, 0.01, 0.1, 1.0, 10.0]
    model = tmp_path / "best.model"
    code, out, err = run_here("train", "-s", "0", "-C", "-v", "3", "-e", "1e-8", "--Cs", ",".join(map(str, Cs)),
                              train, model)
    assert code == 0, err
    assert "-s 0 C search [" in err  # the progress bar, on stderr
    correct = []
    for C in Cs:
        binary = SkLogisticRegression(solver="liblinear", C=C, tol=1e-8, max_iter=1000)
        clf = OneVsRestClassifier(binary) if multiclass else binary
        correct.append(int(np.sum(cross_val_predict(clf, X, y, cv=CLI_FOLDS(3)) == y)))
    for C, count in zip(Cs, correct, strict=True):
        assert f"log2c={np.log2(C):7.2f}\trate={100 * count / len(y):g}\n" in out, out
    best = int(np.argmax(correct))
    assert f"Best C = {Cs[best]:g}  CV accuracy = {100 * correct[best] / len(y):g}%" in out
    assert model.read_text().startswith("solver_type L2R_LR\n")
    saved = load_liblinear_model(model)
    binary = LogisticRegression(solver="liblinear", C=Cs[best], tol=1e-8, max_iter=60000, random_state=0)
    if multiclass:
        ref = OneVsRestClassifier(binary).fit(X, y)
        coef = np.vstack([e.coef_ for e in ref.estimators_])
    else:
        coef = binary.fit(X, y).coef_
    np.testing.assert_allclose(saved.coef_, coef, rtol=1e-12, atol=1e-14)


def test_logistic_model_files_from_estimators(files, tmp_path):
    """save_liblinear_model on LogisticRegression: liblinear's dual solver -> L2R_LR_DUAL,
    any other solver -> L2R_LR; the labels are the estimator's, the binary
    probabilities too; the round trip keeps the weights and intercept_scaling."""
    _, train, test = files
    X, y = load(train)
    X = _width(X, X.shape[1])
    Xt = _width(load(test)[0], X.shape[1])
    y_test, x_test = liblinearutil.svm_read_problem(str(test))
    cases = [
        (LogisticRegression(solver="liblinear", dual=True, C=0.5, intercept_scaling=3.0, random_state=0),
         "L2R_LR_DUAL"),
        (LogisticRegression(solver="liblinear", C=0.5), "L2R_LR"),
        (LogisticRegression(C=0.5), "L2R_LR"),  # an exact Newton solver
        (SkLogisticRegression(solver="liblinear", dual=True, C=0.5), "L2R_LR_DUAL"),
        (SkLogisticRegression(C=0.5, fit_intercept=False), "L2R_LR"),
    ]
    for est, solver_type in cases:
        est.fit(X, y)
        path = tmp_path / "m"
        save_liblinear_model(path, est)
        assert path.read_text().startswith(f"solver_type {solver_type}\n"), type(est)
        ll = liblinearutil.load_model(str(path))
        labels, _, p = liblinearutil.predict(y_test, x_test, ll, "-b 1 -q")
        np.testing.assert_array_equal(labels, est.predict(Xt))
        order = np.searchsorted(est.classes_, ll.get_labels())
        np.testing.assert_allclose(est.predict_proba(Xt)[:, order], p, rtol=1e-9)
        back = load_liblinear_model(path)
        np.testing.assert_array_equal(back.coef_, est.coef_)
        np.testing.assert_allclose(back.intercept_, est.intercept_, rtol=1e-15)
        assert back.fit_intercept == est.fit_intercept
        if est.fit_intercept:
            assert back.intercept_scaling == est.intercept_scaling


def test_multinomial_model_saves_as_one_vs_rest_labels(tmp_path):
    """A multinomial (softmax) model saved as L2R_LR: LIBLINEAR predicts its labels;
    its probabilities are LIBLINEAR's one-vs-rest normalisation, not the softmax."""
    path, X, y = _multiclass(tmp_path)
    est = LogisticRegression(C=0.3).fit(X, y)
    save_liblinear_model(tmp_path / "m", est)
    y_ll, x_ll = liblinearutil.svm_read_problem(str(path))
    ll = liblinearutil.load_model(str(tmp_path / "m"))
    labels, _, p = liblinearutil.predict(y_ll, x_ll, ll, "-b 1 -q")
    np.testing.assert_array_equal(labels, est.predict(X))
    order = np.searchsorted(est.classes_, ll.get_labels())
    np.testing.assert_allclose(liblinear_predict_proba(est, X)[:, order], p, rtol=1e-9)
    assert np.max(np.abs(est.predict_proba(X)[:, order] - p)) > 1e-3


def test_logistic_option_errors(files, tmp_path, run_here):
    _, train, test = files
    svm, svr = tmp_path / "svm.model", tmp_path / "svr.model"
    assert run_here("train", "-q", train, svm)[0] == 0
    assert run_here("train", "-s", "11", "-q", train, svr)[0] == 0
    assert_usage_error(run("predict", "-b", "1", test, svm, tmp_path / "out"),
                       "-b 1) is only supported for logistic regression", "holds a LinearSVC")
    assert_usage_error(run_here("predict", "-b", "1", test, svr, tmp_path / "out"), "holds a LinearSVR")
    assert not (tmp_path / "out").exists()
    assert_usage_error(run_here("train", "-s", "7", "-C", train),
                       "-C searches C for -s 0, 1, 2, 3, 4, 5 and 6, and C and p for -s 11")
    assert_usage_error(run_here("train", "-s", "21", train), "unknown solver -s 21", "-s 0, 1, 2, 3, 4, 5, 6 and 7")
    assert_usage_error(run_here("train", "-s", "0", "-p", "-1", train), "-p")


def _official_grid(path, options):
    """liblinear-official's -C lines (log2c values) on ``path``, in a subprocess
    (its C code prints to the process's stdout)."""
    code = ("import sys; from liblinear import liblinearutil as u; "
            "y, x = u.svm_read_problem(sys.argv[1]); "
            f"u.train(u.problem(y, x, bias=1), {options!r})")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    return [float(v) for v in re.findall(r"^log2c=\s*(-?[\d.]+)", out, re.M)]


@pytest.mark.parametrize("solver, factor", [("0", 1.0), ("2", 0.5)])
def test_C_search_walks_liblinears_grid(files, run_here, solver, factor):
    """Without --Cs, -C tries C = 2^k from LIBLINEAR's start (the largest
    power of 2 below factor / (l max ||x~||^2), -B 1 counted) doubling up to
    1024, printing LIBLINEAR's lines; it starts where liblinear-official's
    -C starts."""
    pytest.importorskip("liblinear")
    _, train, _ = files
    X, y = load(train)
    row_sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() + 1.0
    first = np.floor(np.log2(factor / (X.shape[0] * row_sq.max())))
    assert cli.start_c(int(solver), X, y, 1.0) == 2.0 ** first
    code, out, err = run_here("train", "-s", solver, "-C", "-v", "3", "-e", "0.01", train)
    assert code == 0, err
    ours = [float(v) for v in re.findall(r"^log2c=\s*(-?[\d.]+)\trate=[\d.]+$", out, re.M)]
    assert ours == list(np.arange(first, first + len(ours))) and ours[-1] <= 10
    official = _official_grid(train, f"-C -s {solver} -v 3 -e 0.01 -B 1")
    assert official[0] == ours[0] == first
    assert re.search(r"^Best C = \S+  CV accuracy = [\d.]+%$", out, re.M)


class _Fitted:
    """A fitted estimator's face for ``cli._path_search``: fixed weights."""

    def __init__(self, weights):
        self.coef_, self.intercept_ = np.asarray(weights[:-1])[None, :], np.asarray(weights[-1:])
        self.n_iter_ = np.array([3])

    def predict(self, X):
        return np.zeros(X.shape[0], dtype=int)


@pytest.mark.parametrize("moving, searched", [(0, 5), (1, 5), (3, 8), (20, 12)])
@pytest.mark.parametrize("threads", [1, 2])
def test_C_search_ends_after_five_unchanged_cs_as_liblinear(moving, searched, threads):
    """LIBLINEAR's rule: the search ends at the 5th C in a row at which no
    fold's weights changed (the first C counts as one); never beyond the
    grid.  The folds' figures do not depend on the threads."""
    X, y = sp.csr_matrix(np.ones((6, 2))), np.zeros(6, dtype=int)
    folds = [(np.arange(3), np.arange(3, 6)), (np.arange(3, 6), np.arange(3))]
    Cs = [2.0 ** k for k in range(12)]

    def fitter(k, train):
        # Weights that change with C for the first `moving` values, then stay.
        return lambda C: _Fitted(np.array([k + 1.0, min(C, 2.0 ** (moving - 1)) if moving else 0.0]))

    opts = {"quiet": True, "solver": 2, "search": True}
    correct, n_iter, changed = cli._path_search(opts, X, y, folds, Cs, fitter, threads,
                                                np.zeros(1, np.uint8), 1000)
    assert list(correct) == [6] * len(Cs) and list(n_iter) == [3] * len(Cs)
    assert list(changed) == [0 < j < moving for j in range(len(Cs))]
    assert cli._liblinear_end(Cs, changed) == searched


def test_C_search_grid_of_other_solvers_and_start_c_edges(files, run_here):
    """LIBLINEAR searches -s 0 and 2 only: the other solvers' -C keeps the
    grid 0.01 ... 100 (their passes grow with C); start_c's edge cases."""
    _, train, _ = files
    code, out, err = run_here("train", "-s", "3", "-C", "-v", "3", "-e", "0.1", train)
    assert code == 0, err
    logs = [float(v) for v in re.findall(r"^log2c=\s*(-?[\d.]+)\t", out, re.M)]
    np.testing.assert_allclose(logs, np.log2(cli.DEFAULT_CS), atol=5e-3)
    X, y = sp.csr_matrix((4, 3)), np.array([0, 1, 0, 1])
    assert cli.start_c(0, X, y, -1.0) == cli.MAX_C         # nothing to weigh: w = 0 at any C
    assert cli.start_c(2, X, y, 1.0) == 2.0 ** -3          # 1 / (2 * 4 * 1)
    assert cli.start_c(0, X, y, 0.5) == 1.0                # 1 / (4 * 0.25)
    with pytest.raises(ValueError, match="-s 0 and 2"):
        cli.start_c(3, X, y, 1.0)


def test_C_search_starts_at_c_given_and_says_what_liblinear_says(files, run_here, tmp_path):
    """-c with -C is LIBLINEAR's start (capped at 1024); the search is
    announced and a grid that runs out says so, in LIBLINEAR's words; the
    start C rounds down as LIBLINEAR's floor(log(C) / log(2)) does."""
    pytest.importorskip("liblinear")
    _, train, _ = files
    code, out, err = run_here("train", "-s", "2", "-C", "-c", "0.3", "-v", "3", "-e", "0.01", train)
    assert code == 0, err
    assert out.startswith("Doing parameter search with 3-fold cross validation.\n")
    logs = [float(v) for v in re.findall(r"^log2c=\s*(-?[\d.]+)\t", out, re.M)]
    np.testing.assert_allclose(logs, np.log2(0.3) + np.arange(len(logs)), atol=5e-3)
    for options in (["-c", "2000"], ["-c", "2000", "-q"]):
        code, out, err = run_here("train", "-s", "0", "-C", *options, "-v", "3", train)
        assert code == 0, err
        official = subprocess.run(
            [sys.executable, "-c", "import sys; from liblinear import liblinearutil as u; "
             "y, x = u.svm_read_problem(sys.argv[1]); "
             f"u.train(u.problem(y, x, bias=1), '-C -s 0 -v 3 -B 1 {' '.join(options)}')",
             str(train)], capture_output=True, text=True, timeout=300, check=True).stdout
        # The same lines but for the rates: the folds differ (LIBLINEAR's are random).
        expected = [re.sub(r"rate=.*", "rate=", line) for line in official.splitlines()
                    if line and not line.startswith("Best C")]
        ours = [re.sub(r"rate=.*", "rate=", line) for line in out.splitlines()[1:]
                if not line.startswith(("Best C", "time: "))]   # (our timing line)
        assert ours == expected, (out, official)
        assert re.search(r"^Best C = 1024  CV accuracy = [\d.]+%$", out, re.M)
    # 1 / (l max ||x||^2) = 1 / (4 * 2^27) = 2^-29; LIBLINEAR's rounding gives 2^-30.
    X = sp.csr_matrix(np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]) * 8192)
    assert cli.start_c(0, X, np.array([1, -1, 1, -1]), -1.0) == 2.0 ** -30


def test_ctrl_c_after_the_save_is_one_line_and_130(files, tmp_path, run_here, monkeypatch):
    """Ctrl-C between the save and the end (the closing line) ended the
    process with a KeyboardInterrupt traceback; the model on disk is whole."""
    _, train, _ = files
    said = []

    def interrupted_after_save(opts, text):
        said.append(text)
        if "model saved" in text:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_say", interrupted_after_save)
    model = tmp_path / "m.model"
    code, out, err = run_here("train", "-c", "0.1", train, model)
    assert (code, err.strip()) == (130, "fastlinear train: interrupted")
    assert any("model saved" in text for text in said)
    assert load_liblinear_model(model).coef_.shape[1] > 0


def test_empty_file_names_and_unwritable_files_are_refused(files, tmp_path, run_here,
                                                           monkeypatch):
    """An empty model name was taken as none given (LIBLINEAR cannot save to
    ""); an existing file its user may not write was replaced (fopen refuses)."""
    from fastlinear._model_io import write_file

    _, train, test = files
    assert_usage_error(run_here("train", train, ""), "the model file name is empty")
    model = tmp_path / "m.model"
    assert run_here("train", "-q", train, model)[0] == 0
    assert_usage_error(run_here("predict", test, model, ""),
                       "can't write output file '': No such file or directory")
    kept = model.read_text()
    monkeypatch.setattr(os, "access", lambda path, mode: False)   # (root may write anything)
    with pytest.raises(PermissionError):
        write_file(model, "new")
    assert_usage_error(run_here("train", "-q", "-c", "2", train, model), "Permission denied")
    assert model.read_text() == kept


def test_compressed_and_unopenable_model_files_are_named(files, tmp_path, run_here):
    _, train, test = files
    model = tmp_path / "m.model"
    assert run_here("train", "-q", train, model)[0] == 0
    packed = tmp_path / "m.model.gz"
    packed.write_bytes(gzip.compress(model.read_bytes(), mtime=0))
    assert_usage_error(run_here("predict", test, packed, tmp_path / "out"),
                       "the file is gzip-compressed; LIBLINEAR model files are plain text")
    long_name = tmp_path / ("d" * 300) / "m.model"
    assert_usage_error(run_here("predict", test, long_name, tmp_path / "out"),
                       "can't open model file", "File name too long")
    # A gzipped data file under any name trains as the plain file does.
    data = tmp_path / "data.txt"
    data.write_bytes(gzip.compress(Path(train).read_bytes(), mtime=0))
    assert run_here("train", "-q", data, tmp_path / "g.model")[0] == 0
    assert (tmp_path / "g.model").read_text() == model.read_text()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_data_and_test_files_from_pipes(files, tmp_path):
    """A data file is read more than once; from a pipe (``<(zcat ...)``) the
    second open waited for ever for a writer.  A pipe's content is read once
    into a temporary copy; the errors name the pipe."""
    _, train, test = files
    model, piped_model = tmp_path / "plain.model", tmp_path / "piped.model"
    assert run("train", "-q", train, model)[0] == 0

    fifo = tmp_path / "train.fifo"
    os.mkfifo(fifo)
    with subprocess.Popen(["sh", "-c", f"gzip -c < '{train}' > '{fifo}'"]) as writer:
        code, out, err = run("train", "-q", fifo, piped_model)
        writer.wait(timeout=60)
    assert code == 0, err
    assert piped_model.read_text() == model.read_text()
    fifo_test = tmp_path / "test.fifo"
    os.mkfifo(fifo_test)
    with subprocess.Popen(["sh", "-c", f"cat '{test}' > '{fifo_test}'"]) as writer:
        code, out, err = run("predict", fifo_test, model, tmp_path / "out")
        writer.wait(timeout=60)
    assert code == 0, err
    assert out.startswith("Accuracy = ")
    bad = tmp_path / "bad.fifo"
    os.mkfifo(bad)
    with subprocess.Popen(["sh", "-c", f"printf '1 1:x\\n' > '{bad}'"]) as writer:
        code, out, err = run("train", "-q", bad, tmp_path / "bad.model")
        writer.wait(timeout=60)
    assert code == 2 and f"{bad}, line 1: malformed token '1:x'" in err, err
