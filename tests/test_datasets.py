"""``fastlinear.datasets``: index widths scikit-learn accepts, and errors that
name the file and the line."""
import bz2
import gzip
import signal
import time
from importlib import resources

import numpy as np
import pytest
from sklearn.svm import LinearSVC as SkLinearSVC

from fastlinear import cli
from fastlinear.datasets import (
    LibsvmFormatError,
    load_a9a,
    load_libsvm,
    load_libsvm_files,
    non_liblinear_token,
)

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


# (bad line, message fragments); the bad line is line 5 of the file.
BAD_LINES = {
    "nan value": ("1 1:nan 2:1", ["value nan of feature 1 is not a finite float64"]),
    "1e400 value": ("1 1:1 2:1e400", ["value 1e400 of feature 2 is not a finite float64"]),
    "-inf value": ("1 2:-inf", ["value -inf of feature 2"]),
    "nan label": ("nan 1:1", ["label nan is not a finite number"]),
    "unsorted indices": ("1 3:1 2:1", ["feature 2 after feature 3", "must increase"]),
    "duplicate index": ("1 2:1 2:5", ["feature 2 after feature 2"]),
    "malformed token": ("1 2:x", ["malformed token '2:x'", "1-based integer indices"]),
    "index 0 in a 1-based file": ("1 0:1", ["malformed token '0:1'"]),
    # Python's float() and int() of a str read non-ASCII digits; the reader does not.
    "full-width digit value": ("1 1:\uff11", ["malformed token '1:\uff11'"]),
    "full-width digit index": ("1 1\uff11:1", ["malformed token '1\uff11:1'"]),
    "full-width digit label": ("\uff11 1:1", ["malformed token '\uff11'"]),
    "Arabic-Indic digit value": ("1 1:\u0661", ["malformed token '1:\u0661'"]),
    # Lines ended by CR alone: the reader ends lines at LF only.
    "carriage returns": ("1 1:1\r-1 2:1\r1 1:3", ["carriage returns ('\\r') inside the line",
                                                 "tr '\\r' '\\n'"]),
}


def _bad_file(folder, name, line):
    text = "1 1:1\n-1 2:1\n# comment\n\n" + line + "\n" + GOOD
    path = folder / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    elif name.endswith(".bz2"):
        path.write_bytes(bz2.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["data.txt", "data.gz", "data.bz2"])
@pytest.mark.parametrize("case", list(BAD_LINES))
def test_bad_lines_are_named_with_file_and_line(case, name, tmp_path):
    line, fragments = BAD_LINES[case]
    path = _bad_file(tmp_path, name, line)
    with pytest.raises(LibsvmFormatError) as info:
        load_libsvm(path, zero_based=False)
    message = str(info.value)
    assert message.startswith(f"{path}, line 5: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "compressed" not in message  # the damage is located: no archive hint
    with pytest.raises(LibsvmFormatError, match=r", line 5: "):
        load_libsvm_files([tmp_path / name], zero_based=False)


def test_float32_overflow_is_named(tmp_path):
    path = _bad_file(tmp_path, "data", "1 1:1e39")
    assert load_libsvm(path)[0].dtype == np.float64
    with pytest.raises(LibsvmFormatError, match=r"line 5: value 1e39 of feature 1 is not a finite float32"):
        load_libsvm(path, dtype=np.float32)


def test_archive_hint_only_for_compressed_files(tmp_path):
    plain = tmp_path / "data.txt"
    plain.write_text(GOOD)
    with pytest.raises(LibsvmFormatError, match="not a readable LIBSVM file") as info:
        load_libsvm(plain, n_features=2)
    assert "compressed" not in str(info.value)
    packed = tmp_path / "data.gz"
    blob = gzip.compress((GOOD * 50).encode(), mtime=0)
    packed.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(LibsvmFormatError, match="A compressed file may be truncated or damaged"):
        load_libsvm(packed)


@pytest.mark.parametrize("line, fragment", [
    ("1 1:nan", "value nan of feature 1"),
    ("1 3:1 2:1", "feature 2 after feature 3"),
    ("1.5 1:1", "label 1.5 is not an integer"),
    ("1e30 1:1", "label 1e+30 is beyond LIBLINEAR's label range"),
    ("3000000000 1:1", "label 3e+09 is beyond LIBLINEAR's label range"),  # a C int misreads it
    ("inf 1:1", "label inf is not a finite number"),
])
def test_cli_names_file_and_line(line, fragment, tmp_path, capsys):
    path = _bad_file(tmp_path, "data", line)
    assert cli.main(["train", str(path), str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fastlinear train: error: {path}, line 5: "), err
    assert fragment in err[0], err


def test_a_qid_token_across_two_read_chunks_is_found(tmp_path):
    """The byte search reads 1 MiB at a time: a "qid" whose letters straddle
    two chunks is found all the same."""
    head = b"1 1:1\n" * 174_700 + b"#" + b"x" * 371 + b"\n"   # 1 MiB - 3 bytes
    path = tmp_path / "data"
    path.write_bytes(head + b"1 qid:3 1:1\n-1 1:-1\n")
    assert len(head) + 2 == (1 << 20) - 1                      # the "q" ends chunk 1
    number, _, token, why = non_liblinear_token(str(path))
    assert (number, token) == (174_702, "qid:3") and "query ids" in why
    path.write_bytes(head + b"1 1:1\n-1 1:-1\n")
    assert non_liblinear_token(str(path)) is None


@pytest.mark.parametrize("name", ["data.txt", "DATA.GZ", "data", "plain.bz2", "plain.gz"])
def test_compression_is_read_from_the_content_not_the_name(tmp_path, name):
    """A gzipped file named .txt (or .GZ, or nothing) was parsed as text:
    'malformed token' with binary garbage; a plain file named .bz2 was an
    archive error."""
    plain = tmp_path / "reference.txt"
    plain.write_text(GOOD * 3)
    path = tmp_path / name
    if name.startswith("plain"):
        path.write_text(GOOD * 3)
    elif name == "data":
        path.write_bytes(bz2.compress((GOOD * 3).encode()))
    else:
        path.write_bytes(gzip.compress((GOOD * 3).encode(), mtime=0))
    X, y = load_libsvm(path)
    X_ref, y_ref = load_libsvm(plain)
    assert (X != X_ref).nnz == 0 and np.array_equal(y, y_ref)
    (X2, y2, X3, y3) = load_libsvm_files([path, plain])
    assert (X2 != X3).nnz == 0 and np.array_equal(y2, y3)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timer")
def test_ctrl_c_reaches_the_reader_of_a_large_plain_file(tmp_path):
    """The C parser reads the lines of a plain file through Python code, so a
    KeyboardInterrupt is raised at the next line (it came after the whole
    file: 15 s into 140 MB)."""
    block = bz2.decompress((resources.files("fastlinear") / "data" / "a9a.t.bz2").read_bytes())
    path = tmp_path / "big.txt"
    path.write_bytes(block * 20)                  # 23 MB: seconds to parse

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        start = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            load_libsvm(path)
        elapsed = time.perf_counter() - start
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert elapsed < 1.2, elapsed
