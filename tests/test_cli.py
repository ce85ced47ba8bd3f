"""The ``fastlinear`` command, run as a subprocess, and LIBLINEAR model files.

Small LIBSVM files (slices of a9a) are written to a temporary folder; the
one test on the full a9a runs ``fastlinear demo --no-sklearn`` on the cheap
part of the grid.
"""
import errno
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
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict, cross_val_score

from fastlinear import LinearSVC, LinearSVCCV, LinearSVR, cli
from fastlinear._model_io import ModelFormatError, load_liblinear_model, save_liblinear_model

liblinearutil = pytest.importorskip("liblinear.liblinearutil")

# The reference figures of the foundation issue (sklearn, a9a, 3 folds).
REFERENCE_CV = {0.01: 0.84684, 0.1: 0.84749, 1.0: 0.84730, 10.0: 0.84727, 100.0: 0.84727}
REFERENCE_TEST = 0.849825


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
    pooled = np.mean(cross_val_predict(model, X, y, cv=7) == y)
    assert out.strip() == f"Cross Validation Accuracy = {100 * pooled:g}%"
    # 3,000 rows in 7 folds of unequal size: the folds' mean is another figure.
    assert f"{100 * cross_val_score(model, X, y, cv=7).mean():g}" != f"{100 * pooled:g}"
    assert not (folder / "small.model").exists()  # -v writes no model, as LIBLINEAR


def test_C_search_output_and_model(files, tmp_path):
    folder, train, _ = files
    model = tmp_path / "best.model"
    code, out, err = run("train", "-C", "-v", "7", "--Cs", "0.01,0.1,1", train, model)
    assert code == 0, err
    X, y = load(train)
    # -C without -s searches with -s 2 (the primal solver), as LIBLINEAR.
    search = LinearSVCCV(Cs=[0.01, 0.1, 1], cv=7, dual=False, random_state=0).fit(X, y)
    sizes = np.array([len(test) for _, test in StratifiedKFold(7).split(X, y)])
    folds = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(7)])
    correct = np.rint(sizes @ folds)  # per C, over all folds
    assert model.read_text().startswith("solver_type L2R_L2LOSS_SVC\n")
    for C, count in zip(search.Cs_, correct, strict=True):
        assert f"C = {C:g}  CV accuracy = {100 * count / len(y):g}%" in out
    best = int(np.argmax(correct))  # the most correct, the smallest C on ties (LIBLINEAR)
    assert f"Best C = {search.Cs_[best]:g}  CV accuracy = {100 * correct[best] / len(y):g}%" in out
    refit = LinearSVC(C=search.Cs_[best], dual=False, max_iter=60000, random_state=0).fit(X, y)
    np.testing.assert_allclose(load_liblinear_model(model).coef_, refit.coef_, rtol=1e-12)
    assert "LinearSVCCV [" in err  # the progress bar, on stderr


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
        (MODEL.replace("L2R_L2LOSS_SVC_DUAL", "L1R_LR"), "does not load"),
        (MODEL.replace("0.125 \n", ""), "expected 3 x 1 = 3 weights.*found 2"),
        (MODEL.replace("-0.25", "abc"), "not all numbers"),
        (MODEL.replace("nr_feature 2\n", ""), "no 'nr_feature' line"),
        (MODEL.replace("label 1 -1", "label 1 1"), "2 distinct labels"),
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
    assert_usage_error(run_here("train", path), "at least 2 classes")


def test_unknown_option_and_command(files, run_here):
    _, train, _ = files
    assert_usage_error(run("train", "-x", "1", train), "unknown option '-x'")
    assert_usage_error(run_here("train", "-c", "abc", train), "option -c expects a number, got 'abc'")
    assert_usage_error(run_here("train", "-s", "6", train), "unknown solver -s 6")
    assert_usage_error(run_here("train", "-c"), "option -c needs a value")
    assert_usage_error(run_here("train", "-c", "-1", train), "-c must be a finite number > 0")
    assert_usage_error(run_here("train", "-v", "1", train), "-v needs n >= 2 folds")
    assert_usage_error(run_here("train", "-w5", "2", train), "class 5 does not occur")
    assert_usage_error(run_here("frobnicate"), "unknown command 'frobnicate'")
    assert_usage_error(run_here("predict", train), "expected 3 arguments")
    assert_usage_error(run_here("predict", "-b", "2", train, train, train), "-b must be 0 or 1")


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
    assert_usage_error(run_here("train", "-s", "11", "-C", train), "-C")
    assert_usage_error(run_here("train", "-s", "11", "-p", "-1", train), "-p")
