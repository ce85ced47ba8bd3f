"""Benchmark workloads for LinearSVC: one function per data set.

Every loader returns ``(X_train, y_train, X_test, y_test)`` with X as CSR of
the requested dtype (float64 by default) and **int32 indices** (scikit-learn's
LinearSVC refuses 64-bit indices; the conversion is done here, once, outside
every timer and for every library alike).

Data come from the shared data folder (:func:`shared_data_dir`:
``$FASTLINEAR_DATA``, default ``shared/data`` beside the checkout) or are generated with a fixed
seed.  Expensive matrices (IMDB TF-IDF, the synthetic set) are cached as .npz
outside the repository, in ``$FASTLINEAR_BENCH_CACHE`` (default
``~/.cache/fastlinear-bench``).  A loader whose input is absent raises
:class:`DataUnavailable` with a message that says what to put where; the
pytest suite turns it into a skip and ``report.py`` into a note.

Workloads (name -> loader, C used by the report and the suite):

=========  ==========================================  ====  =========================
name       data                                        C     test split
=========  ==========================================  ====  =========================
a9a        UCI Adult, 32,561 x 123 (bundled)            0.1   a9a.t (16,281)
w8a        web pages, 49,749 x 300                      0.1   20 % held out (seed 0)
imdb       IMDB reviews, TF-IDF 1-2 grams, 25,000 rows  1.0   aclImdb test folder
synthetic  200k x 50k text-like CSR, planted model      1.0   20 % held out (seed 0)
news20     20 Newsgroups vectorized, 20 classes         1.0   the "test" subset
=========  ==========================================  ====  =========================

Regression workloads (``REGRESSION``, for LinearSVR): ``imdb_ratings`` (the
IMDB TF-IDF with each review's star rating as the label) and
``synthetic_regression`` (the synthetic X with a planted linear model).
"""
import hashlib
import os
import platform
import subprocess
import tarfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fastlinear.datasets import load_a9a, load_libsvm

__all__ = [
    "DataUnavailable",
    "WORKLOADS",
    "BINARY",
    "MULTICLASS",
    "DEFAULT_C",
    "REGRESSION",
    "cache_dir",
    "find_shared_file",
    "shared_data_dir",
    "load_workload",
    "a9a",
    "w8a",
    "imdb",
    "synthetic",
    "news20",
    "imdb_ratings",
    "synthetic_regression",
]

#: Environment variable naming the cache folder (kept outside the repository).
CACHE_ENV = "FASTLINEAR_BENCH_CACHE"

#: Bump when a generator or a vectoriser setting changes, to invalidate caches.
CACHE_VERSION = 1


#: Environment variable naming the folder of the larger data sets.
DATA_ENV = "FASTLINEAR_DATA"


class DataUnavailable(RuntimeError):
    """The input files of a workload are not present here."""


def shared_data_dir():
    """The folder of the larger data sets: ``$FASTLINEAR_DATA``, else ``shared/data``
    beside the checkout (then beside the working directory)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for base in (here, Path.cwd()):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return here.parent / "shared" / "data"


def find_shared_file(name):
    """Path of ``name`` in :func:`shared_data_dir`, or None when absent."""
    path = shared_data_dir() / name
    return path if path.exists() else None


def cache_dir():
    """Folder of the cached matrices: ``$FASTLINEAR_BENCH_CACHE`` or ``~/.cache/fastlinear-bench``."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "fastlinear-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _finish(X_train, y_train, X_test, y_test, dtype):
    """CSR, requested dtype, int32 indices, sorted indices, float64 labels."""
    out = []
    for X in (X_train, X_test):
        X = sp.csr_matrix(X, dtype=dtype)
        X.indices = X.indices.astype(np.int32, copy=False)
        X.indptr = X.indptr.astype(np.int32, copy=False)
        if not X.has_sorted_indices:
            X.sort_indices()
        out.append(X)
    return out[0], np.asarray(y_train), out[1], np.asarray(y_test)


def _save(path, X_train, y_train, X_test, y_test):
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        **{f"{part}_{k}": v for part, X in (("train", X_train), ("test", X_test))
           for k, v in (("data", X.data), ("indices", X.indices),
                        ("indptr", X.indptr), ("shape", np.array(X.shape)))},
        y_train=y_train,
        y_test=y_test,
    )
    os.replace(tmp, path)


def _load(path, dtype):
    with np.load(path) as f:
        mats = []
        for part in ("train", "test"):
            data = f[f"{part}_data"]
            if data.dtype != dtype:
                data = data.astype(dtype)
            mats.append(sp.csr_matrix(
                (data, f[f"{part}_indices"], f[f"{part}_indptr"]),
                shape=tuple(f[f"{part}_shape"])))
        return mats[0], f["y_train"], mats[1], f["y_test"]


def _held_out(X, y, fraction=0.2, seed=0):
    """Stratified random split with a fixed seed."""
    rng = np.random.RandomState(seed)
    test = np.zeros(y.shape[0], dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        test[idx[: int(round(fraction * idx.shape[0]))]] = True
    return X[~test], y[~test], X[test], y[test]


# --------------------------------------------------------------------------
# LIBSVM sets
# --------------------------------------------------------------------------
def a9a(dtype=np.float64):
    """UCI Adult (a9a / a9a.t), bundled with fastlinear: 32,561 x 123, C=0.1."""
    return _finish(*load_a9a(dtype=np.float64), dtype)


def w8a(dtype=np.float64):
    """w8a (49,749 x 300, 3 % positives); no w8a.t exists here, so 20 % held out."""
    path = find_shared_file("w8a.bz2")
    if path is None:
        raise DataUnavailable(
            f"w8a.bz2 not found in {shared_data_dir()} (set FASTLINEAR_DATA to the "
            "folder holding the LIBSVM file w8a.bz2)."
        )
    X, y = load_libsvm(path, n_features=300)
    return _finish(*_held_out(X, y), dtype)


# --------------------------------------------------------------------------
# IMDB TF-IDF
# --------------------------------------------------------------------------
IMDB_VECTORIZER = dict(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
#: The 1-3-gram variant (:func:`imdb_trigrams`).
IMDB_TRIGRAM_VECTORIZER = dict(ngram_range=(1, 3), min_df=2, sublinear_tf=True)


def _read_imdb(path, ratings=False):
    """Texts and labels of aclImdb/{train,test}/{pos,neg}, sorted by file name.

    Labels are +-1 (sentiment), or with ``ratings`` the star rating each file
    name ends with (``<id>_<rating>.txt``: 1-4 negative, 7-10 positive).
    """
    parts = {"train": [], "test": []}
    with tarfile.open(path, "r:xz") as tar:
        for member in tar:
            name = member.name.split("/")
            if (not member.isfile() or len(name) != 4 or name[1] not in parts
                    or name[2] not in ("pos", "neg")):
                continue
            text = tar.extractfile(member).read().decode("utf-8")
            if ratings:
                label = float(name[3].rsplit("_", 1)[1].split(".")[0])
            else:
                label = 1.0 if name[2] == "pos" else -1.0
            parts[name[1]].append((member.name, text, label))
    out = []
    for split in ("train", "test"):
        rows = sorted(parts[split])
        out.append(([r[1] for r in rows], np.array([r[2] for r in rows])))
    return out


def _imdb_matrices(cache, ratings, verbose, vectorizer=None):
    if not cache.exists():
        path = find_shared_file("aclImdb-labeled.tar.xz")
        if path is None:
            raise DataUnavailable(
                f"aclImdb-labeled.tar.xz not found in {shared_data_dir()} (set "
                "FASTLINEAR_DATA to the folder holding it)."
            )
        from sklearn.feature_extraction.text import TfidfVectorizer

        t0 = time.perf_counter()
        (train_text, y_train), (test_text, y_test) = _read_imdb(path, ratings=ratings)
        vec = TfidfVectorizer(**(IMDB_VECTORIZER if vectorizer is None else vectorizer))
        X_train = vec.fit_transform(train_text)
        X_test = vec.transform(test_text)
        perm = np.random.RandomState(0).permutation(X_train.shape[0])
        X_train, y_train = X_train[perm], y_train[perm]
        X_train, y_train, X_test, y_test = _finish(X_train, y_train, X_test, y_test, np.float64)
        _save(cache, X_train, y_train, X_test, y_test)
        if verbose:
            print(f"[workloads] IMDB TF-IDF built in {time.perf_counter() - t0:.0f} s, "
                  f"cached at {cache}")


def imdb_ratings(dtype=np.float64, verbose=True):
    """IMDB review ratings (1-4 and 7-10 stars) from the TF-IDF of :func:`imdb`, C=1.

    A regression workload: the same 25,000 x ~438k matrix, the label is the
    rating in each review's file name; the test split is aclImdb's test folder.
    """
    cache = cache_dir() / f"imdb_ratings_v{CACHE_VERSION}.npz"
    _imdb_matrices(cache, True, verbose)
    return _finish(*_load(cache, np.float64), dtype)


def imdb(dtype=np.float64, verbose=True):
    """IMDB reviews as TF-IDF of unigrams and bigrams (25,000 x ~438k), C=1.

    ``TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)`` fitted
    on the labelled train split, applied to the test split.  The first call
    reads ``aclImdb-labeled.tar.xz`` (about a minute) and caches the matrices.
    Rows are shuffled with a fixed seed (the archive groups them by class).
    """
    cache = cache_dir() / f"imdb_tfidf_v{CACHE_VERSION}.npz"
    _imdb_matrices(cache, False, verbose)
    return _finish(*_load(cache, np.float64), dtype)


def imdb_trigrams(dtype=np.float32, verbose=True):
    """IMDB reviews as TF-IDF of 1-3-grams (25,000 x 902,253), float32 by default, C=1.

    ``TfidfVectorizer(ngram_range=(1, 3), min_df=2, sublinear_tf=True)``,
    otherwise as :func:`imdb` (built once, under a minute, and cached).
    """
    cache = cache_dir() / f"imdb_tfidf13_v{CACHE_VERSION}.npz"
    _imdb_matrices(cache, False, verbose, IMDB_TRIGRAM_VECTORIZER)
    return _finish(*_load(cache, np.float64), dtype)


# --------------------------------------------------------------------------
# Synthetic text-like problem
# --------------------------------------------------------------------------
SYNTHETIC = dict(n_samples=250_000, n_features=50_000, nnz_per_row=75,
                 zipf_exponent=1.0, label_noise=0.05, seed=0)


def make_synthetic(n_samples=250_000, n_features=50_000, nnz_per_row=75,
                   zipf_exponent=1.0, label_noise=0.05, seed=0):
    """Text-like CSR data with a planted linear model.

    Each row draws ``~Poisson(nnz_per_row)`` distinct features with Zipf-like
    probabilities ``p_j ~ 1 / (j + 1) ** zipf_exponent`` (features are then
    permuted, so frequent ones are not the first columns), values
    ``(1 + log(count)) * idf_j``, rows L2-normalised (TF-IDF style).  Labels are
    the sign of ``X @ w_true - median`` (balanced classes) for a Gaussian
    ``w_true``, then a ``label_noise`` fraction is flipped.
    """
    rng = np.random.RandomState(seed)
    p = 1.0 / np.arange(1, n_features + 1) ** zipf_exponent
    cdf = np.cumsum(p / p.sum())
    # Duplicates are merged below; draw a little more to land near nnz_per_row.
    draws_per_row = rng.poisson(nnz_per_row * 1.25, size=n_samples) + 1
    indptr = np.concatenate([[0], np.cumsum(draws_per_row)])
    cols = np.searchsorted(cdf, rng.random_sample(indptr[-1]), side="right")
    cols = np.minimum(cols, n_features - 1)
    cols = rng.permutation(n_features)[cols].astype(np.int32)
    counts = sp.csr_matrix((np.ones(cols.shape[0]), cols, indptr),
                           shape=(n_samples, n_features))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((1.0 + n_samples) / (1.0 + df)) + 1.0
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    counts.data /= np.repeat(norms, np.diff(counts.indptr))
    X = counts
    w_true = rng.standard_normal(n_features)
    score = X @ w_true
    y = np.where(score > np.median(score), 1.0, -1.0)
    flip = rng.random_sample(n_samples) < label_noise
    y[flip] = -y[flip]
    return X, y


def synthetic_regression(dtype=np.float64, verbose=True):
    """The synthetic text-like X (200k x 50k) with a planted linear model, C=1.

    ``y = X @ w_true + 0.1 * noise`` with Gaussian ``w_true`` and noise (seed 1);
    50,000 rows held out as the test split.
    """
    X_train, _, X_test, _ = synthetic(dtype=np.float64, verbose=verbose)
    rng = np.random.RandomState(1)
    w_true = rng.standard_normal(X_train.shape[1])
    y_train = X_train @ w_true + 0.1 * rng.standard_normal(X_train.shape[0])
    y_test = X_test @ w_true + 0.1 * rng.standard_normal(X_test.shape[0])
    return _finish(X_train, y_train, X_test, y_test, dtype)


def synthetic(dtype=np.float64, n_train=200_000, verbose=True):
    """Synthetic 200k x 50k text-like set (+ 50k test rows), C=1, seed fixed.

    ``n_train`` < 200,000 keeps the first ``n_train`` training rows (the fit
    time vs rows sweep); the test split stays the same 50,000 rows.
    """
    params = dict(SYNTHETIC)
    key = hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:10]
    cache = cache_dir() / f"synthetic_v{CACHE_VERSION}_{key}.npz"
    if not cache.exists():
        t0 = time.perf_counter()
        X, y = make_synthetic(**params)
        n_test = 50_000
        _save(cache, *_finish(X[n_test:], y[n_test:], X[:n_test], y[:n_test], np.float64))
        if verbose:
            print(f"[workloads] synthetic set built in {time.perf_counter() - t0:.0f} s, "
                  f"cached at {cache}")
    X_train, y_train, X_test, y_test = _load(cache, np.float64)
    if n_train < X_train.shape[0]:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    return _finish(X_train, y_train, X_test, y_test, dtype)


# --------------------------------------------------------------------------
# 20 Newsgroups (one-vs-rest)
# --------------------------------------------------------------------------
def news20(dtype=np.float64):
    """20 Newsgroups vectorized (11,314 x 130,107, 20 classes), C=1.

    scikit-learn's cache files (``20newsgroup_vectorized_py3.pkl``) must be in
    the shared data folder; nothing is downloaded.
    """
    from sklearn.datasets import fetch_20newsgroups_vectorized

    home = shared_data_dir()
    if find_shared_file("20newsgroup_vectorized_py3.pkl") is None:
        raise DataUnavailable(
            f"20newsgroup_vectorized_py3.pkl not found in {home} (scikit-learn's "
            "cache of fetch_20newsgroups_vectorized; set FASTLINEAR_DATA)."
        )
    X_train, y_train = fetch_20newsgroups_vectorized(subset="train", data_home=str(home),
                                                     download_if_missing=False, return_X_y=True)
    X_test, y_test = fetch_20newsgroups_vectorized(subset="test", data_home=str(home),
                                                   download_if_missing=False, return_X_y=True)
    return _finish(X_train, y_train, X_test, y_test, dtype)


#: name -> (loader, C, kind)
WORKLOADS = {
    "a9a": (a9a, 0.1, "binary"),
    "w8a": (w8a, 0.1, "binary"),
    "imdb": (imdb, 1.0, "binary"),
    "synthetic": (synthetic, 1.0, "binary"),
    "news20": (news20, 1.0, "multiclass"),
}
BINARY = [k for k, v in WORKLOADS.items() if v[2] == "binary"]
MULTICLASS = [k for k, v in WORKLOADS.items() if v[2] == "multiclass"]
#: Regression workloads (LinearSVR), kept apart from the classification ones.
REGRESSION = {
    "imdb_ratings": (imdb_ratings, 1.0, "regression"),
    "synthetic_regression": (synthetic_regression, 1.0, "regression"),
}
#: Loaded by name but left out of the default lists (larger, for one table).
EXTRA = {"imdb13": (imdb_trigrams, 1.0, "binary")}
DEFAULT_C = {k: v[1] for k, v in {**WORKLOADS, **REGRESSION, **EXTRA}.items()}

_MEMO = {}


def load_workload(name, dtype=np.float64, **kwargs):
    """Load a workload by name (memoised per process for dtype and kwargs)."""
    table = {**WORKLOADS, **REGRESSION, **EXTRA}
    if name not in table:
        raise KeyError(f"Unknown workload {name!r}; choose from {sorted(table)}.")
    key = (name, np.dtype(dtype).str, tuple(sorted(kwargs.items())))
    if key not in _MEMO:
        _MEMO[key] = table[name][0](dtype=dtype, **kwargs)
    return _MEMO[key]


def describe(X):
    """'n x d, nnz' string of a matrix."""
    return f"{X.shape[0]:,} x {X.shape[1]:,}, {X.nnz / 1e6:.2f}M nnz"


# ------------------------------------------------------------------ the machine
def machine_info():
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cores": os.cpu_count()}
    try:
        fields = {}
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        info["cpu"] = (f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, "
                       f"model {fields.get('model', '?')}"
                       + (", virtual machine" if "hypervisor" in fields.get("flags", "") else "") + ")")
    except OSError:
        pass
    try:
        info["affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    import scipy
    import sklearn

    info["numpy"], info["scipy"], info["sklearn"] = np.__version__, scipy.__version__, sklearn.__version__
    from importlib.metadata import PackageNotFoundError, version

    for package in ("snapml", "liblinear-official"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            pass  # not installed: its columns say so
    try:
        info["fastlinear_commit"] = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parent.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent.parent), "status", "--porcelain",
                                "--", "fastlinear", "src_c"],
                               capture_output=True, text=True).stdout.strip()
        info["fastlinear_tree"] = "modified (uncommitted work in fastlinear/ or src_c/)" if dirty else "clean"
    except OSError:
        pass
    try:
        load = os.getloadavg()
        info["loadavg_start"] = [round(x, 2) for x in load]
    except OSError:
        pass
    return info


def hardware(m):
    """The hardware in words, e.g. "2-core virtual AMD EPYC (Zen 4)", from :func:`machine_info`."""
    import re

    cpu = m.get("cpu", "")
    name = cpu.split(" (")[0] or "unknown CPU"
    family = re.search(r"family (\d+)", cpu)
    model = re.search(r"model (\d+)", cpu)
    arch = ""
    if name.startswith("AMD") and family and model:
        fam, mod = int(family.group(1)), int(model.group(1))
        if fam == 23:
            arch = "Zen 2" if mod >= 0x30 else "Zen / Zen+"
        elif fam == 25:
            arch = "Zen 4" if (0x10 <= mod <= 0x1F or 0x60 <= mod <= 0x7F or 0xA0 <= mod <= 0xAF) else "Zen 3"
        elif fam == 26:
            arch = "Zen 5"
    virtual = "virtual machine" in cpu
    return (f"{m.get('cores', '?')}-core {'virtual ' if virtual else ''}{name}"
            + (f" ({arch})" if arch else ""))
