"""The ``fastlinear`` command: liblinear-style ``train``/``predict`` and ``demo``.

Usage::

    fastlinear train [options] data_file [model_file]
    fastlinear predict [options] test_file model_file output_file
    fastlinear demo [--train FILE --test FILE] [--no-sklearn] [...]

``train`` and ``predict`` follow LIBLINEAR's programs of the same names and
read and write LIBLINEAR's text model files (see ``fastlinear._model_io``):
linear SVMs and SVRs, and logistic regression (``-s 0``, ``-s 6`` and ``-s 7``, one
binary model per class for three or more classes, as LIBLINEAR; ``predict -b
1`` writes LIBLINEAR's probabilities);
``demo`` runs the course assignment's experiment end to end.  Every error
is one line on stderr (``fastlinear <command>: error: ...``) and exit code 2,
as argparse does.

Model and prediction files go where LIBLINEAR's ``fopen(path, "w")`` puts
them (``fastlinear._model_io.write_file``): through a symbolic link to its
target, straight into a device or FIFO (``/dev/null``, ``/dev/stdout``), and
into a regular file through a temporary name renamed when complete, with the
replaced file's mode or, for a new file, ``0666`` less the umask.
"""
import contextlib
import math
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from . import _solver_table
from ._csr_fast import CSRStatus, scan, transpose
from ._model_io import (
    SOLVER_PARAMS,
    OneClassModel,
    liblinear_label_order,
    liblinear_model_chunks,
    liblinear_predict,
    liblinear_predict_proba,
    linear_scores,
    one_class_model_chunks,
    read_liblinear_model,
    write_file,
)
from ._parallel import new_stop_flag, run
from ._progress import ProgressBar
from ._solvers import SWITCH_AFTER
from ._validation import (
    LABEL_MAX,
    LABEL_MIN,
    MAX_INT,
    integer_labels,
    validate_classification_data,
)
from .datasets import load_libsvm, non_liblinear_token, sample_line, skipped_line
from .logistic import LogisticRegression
from .model_selection import _fold_data, _svc_path
from .svm import LinearSVC
from .svr import LinearSVR

__all__ = ["main"]

USAGE = """\
usage: fastlinear <command> [options] ...

commands:
  train    [options] data_file [model_file]        train a model (LIBLINEAR's train)
  predict  [options] test_file model_file output_file
                                                   predict with a model (LIBLINEAR's predict)
  demo     [--train FILE --test FILE] [--no-sklearn] ...
                                                   the assignment's C search, side by side with sklearn

Run 'fastlinear <command> -h' for the options of a command.
"""

TRAIN_USAGE = """\
usage: fastlinear train [options] data_file [model_file]
options:
-s type : solver (default 1; with -C, 2)
{solvers}
-c cost : set the parameter C (default 1)
-p epsilon : set the epsilon in the loss of support vector regression (default 0.1)
-e epsilon : stopping tolerance (default 1e-4, as sklearn's LinearSVC,
     LinearSVR and LogisticRegression; LIBLINEAR's defaults are 0.1 or 0.01
     by solver); as in LIBLINEAR, it bounds
{tolerances}
{switches}
-B bias : if bias >= 0, instance x becomes [x; bias]; if < 0, no bias term
     (default 1, as sklearn's LinearSVC; LIBLINEAR's default is -1)
-wi weight : weight the parameter C of class i by weight (e.g. -w1 2 -w-1 0.5)
-v n : n-fold cross validation mode (classification: stratified folds, no
     shuffling, while every class has n samples; otherwise, and for
     regression, shuffled folds); prints LIBLINEAR's figures over
     the predictions of all folds (accuracy = correct / n)
-C : find the best C by n-fold cross validation (n from -v, default 5),
     warm-started (-s 0 to 6).  -s 0 and 2 walk LIBLINEAR's grid: from -c
     if given, else from the largest power of 2 at most 1 / (l max ||x||^2)
     (x with its -B feature; half that for -s 2), doubling up to 1024, and
     ending at the 5th C in a row (the first counting) at which no fold's
     weights changed; -s 1, 3 to 6 try --Cs; for -s 11 the best C (over
     --Cs) and p, p = i max|y| / 20 for i = 19 ... 0 (as LIBLINEAR); writes
     a model only when model_file is given
-n nr_thread : threads over folds / one-vs-rest problems (SVMs) / the
     primal solvers' products (-s 0, 2, 11) (default 1)
-q : quiet mode (no outputs)
--Cs c1,c2,... : the C values of -C instead of LIBLINEAR's grid (for -s 1,
     3 to 6 and 11: default 0.01,0.1,1,10,100)
--max-iter n : maximal iterations per fit: passes, or Newton steps for -s 0,
     2 and 11 (default 1000; 60000 with -C)
--seed n : seed of the coordinate order and of the -v/-C folds (default 0)
The model file defaults to <basename of data_file>.model in the current folder.
"""
TRAIN_USAGE = TRAIN_USAGE.format(solvers=_solver_table.usage_lines(),
                                 tolerances=_solver_table.tol_lines(),
                                 switches=_solver_table.switch_lines(SWITCH_AFTER))

PREDICT_USAGE = """\
usage: fastlinear predict [options] test_file model_file output_file
options:
-b probability_estimates : whether to output probability estimates, 0 or 1
     (default 0); for logistic regression models (-s 0, 6 and 7) only: a first
     line 'labels <the model's labels>', then '<label> <p_1> <p_2> ...' per
     sample, the probabilities in the order of that line (three or more
     classes: LIBLINEAR's one-vs-rest probabilities, normalised to sum 1)
-q : quiet mode (no outputs)
"""

DEFAULT_CS = (0.01, 0.1, 1.0, 10.0, 100.0)
#: LIBLINEAR's solver numbers: (estimator class, its parameters), from the one
#: table of the model files.
SOLVERS = {number: (cls, params) for number, cls, params in SOLVER_PARAMS.values()}
#: The solvers that -C can search: the classification solvers with warm starts
#: (C), and the primal regression solver (C and p, as LIBLINEAR 2.50's -C).
SEARCHABLE = sorted(n for n, (cls, params) in SOLVERS.items()
                    if cls is LinearSVC or (cls is LogisticRegression and not params["dual"])
                    or (cls is LinearSVR and not params["dual"]))
#: -C for -s 11 tries p = i max_i |y_i| / P_STEPS, i = P_STEPS - 1, ..., 0
#: (LIBLINEAR's ``find_parameters``).
P_STEPS = 20

class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


# ---------------------------------------------------------------- data files


def _check_file(path, what):
    """LIBLINEAR's "can't open" for a file that is missing, a folder, or
    unreadable (the system's reason: a name too long, no permission).  Only
    a regular file is opened to try: a pipe would lose what it holds."""
    try:
        status = os.stat(path)
        if stat.S_ISREG(status.st_mode):
            with open(path, "rb"):
                pass
    except FileNotFoundError:
        raise CLIError(f"can't open {what} {path!r}: no such file") from None
    except OSError as error:
        raise CLIError(f"can't open {what} {path!r}: {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise CLIError(f"can't open {what} {path!r}: it is a directory")


@contextlib.contextmanager
def _read_again(path):
    """``path`` itself, or for a pipe or a device (``<(zcat data.gz)``,
    ``/dev/stdin``: they can be read once) a temporary copy of what it
    holds.  A data file is read more than once (the values, LIBLINEAR's
    token checks, line numbers for errors): a second open of a pipe whose
    writer had finished waited for ever.  Errors name ``path``, not the copy."""
    if os.path.isfile(path) or not os.path.exists(path):
        yield path
        return
    fd, copy = tempfile.mkstemp(prefix=".fastlinear-", suffix=".data")
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as source:
            shutil.copyfileobj(source, out)
        try:
            yield copy
        except (CLIError, ValueError) as error:
            raise type(error)(str(error).replace(copy, str(path))) from None
    finally:
        os.unlink(copy)


def load_data(path, n_features=None, regression=False):
    """Read a LIBLINEAR data file (1-based; plain, gzip or bzip2): X (CSR), y.

    Labels must be integers that a C int holds (classification) or finite
    numbers (regression; ``load_libsvm`` refuses NaN and infinity).  Errors
    name the file and the line.
    """
    _check_file(path, "data file")
    X, y = load_libsvm(path, n_features=n_features, zero_based=False)
    _check_liblinear_tokens(path)
    if X.shape[0] == 0:
        raise CLIError(f"{path}: the file holds no samples")
    if regression:
        return X, y
    try:
        return X, integer_labels(y)
    except ValueError as error:
        # integer_labels names the first bad label in file order.
        bad = np.flatnonzero((y != np.round(y)) | (y > LABEL_MAX) | (y < LABEL_MIN))
        line = sample_line(path, int(bad[0])) if bad.size else None
        where = f"{path}, line {line}" if line is not None else path
        raise CLIError(f"{where}: {error}") from None


def _check_liblinear_tokens(path):
    """Refuse what scikit-learn's reader takes and LIBLINEAR's does not
    (:func:`fastlinear.datasets.non_liblinear_token`)."""
    found = non_liblinear_token(path)
    if found is not None:
        number, text, token, why = found
        raise CLIError(f"{path}, line {number}: malformed token {token!r} in {text!r}; {why}")


def _check_squares(path, X):
    """Training needs each sample's squared norm: name the first line whose
    values are too large to square (above ~1e154), in the file's terms.  The
    same scan as the estimators' (``_csr_fast.scan``), whose message names
    X's row and a scikit-learn scaler."""
    code, row, _, _ = scan(X.data, X.indices, X.indptr, X.shape[0], X.shape[1])
    if code == CSRStatus.SQUARE_OVERFLOW:
        line = sample_line(path, int(row))
        where = f"{path}, line {line}" if line is not None else path
        raise CLIError(f"{where}: values of magnitude above ~1e154 (their squares overflow "
                       "float64); divide each feature by its largest absolute value, or drop "
                       "the sample")


def _fit_width(X, n_features):
    """Drop columns beyond n_features (LIBLINEAR ignores them) or pad with zeros."""
    if X.shape[1] > n_features:
        return X[:, :n_features].tocsr()
    if X.shape[1] < n_features:
        return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_features))
    return X


# ------------------------------------------------------------------- options


#: Numbers as C writes them: Python's int() and float() also take "1_0"
#: (10), surrounding spaces and non-ASCII digits, and LIBLINEAR's atof()
#: reads "1_0" as 1; both misread, so these are refused.
#: inf and nan pass here, to be refused as not finite.
_NUMBER = {int: re.compile(r"[+-]?[0-9]+\Z"),
           float: re.compile(r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
                             r"|(?i:inf|infinity|nan))\Z")}


def _parse(kind, raw):
    """``kind(raw)`` for a number written as C writes it; ValueError otherwise."""
    pattern = _NUMBER.get(kind)
    if pattern is not None and not pattern.match(raw):
        raise ValueError(raw)
    return kind(raw)


def _value(args, i, option, kind):
    """The value after ``option``: an int inside the C int range, or a finite float."""
    if i + 1 >= len(args):
        raise CLIError(f"option {option} needs a value")
    raw = args[i + 1]
    try:
        value = _parse(kind, raw)
    except (ValueError, OverflowError) as error:
        if kind is _float_list:
            raise CLIError(f"option {option} {error}") from None
        name = {int: "an integer", float: "a number"}[kind]
        raise CLIError(f"option {option} expects {name}, got {raw!r}") from None
    if kind is float and not np.isfinite(value):
        raise CLIError(f"option {option} expects a finite number, got {raw!r}")
    if kind is int and not -MAX_INT <= value <= MAX_INT:
        raise CLIError(f"option {option} expects an integer of at most {MAX_INT}, got {raw!r}")
    return value


def _float_list(text):
    """The C values of ``--Cs``: comma-separated finite numbers > 0 (spaces
    around an entry allowed); ValueError naming the entry that is not one."""
    values = []
    for entry in text.split(","):
        try:
            value = _parse(float, entry.strip())
        except ValueError:
            value = None
        if value is None or not (np.isfinite(value) and value > 0):
            raise ValueError(f"expects comma-separated finite numbers > 0 such as 0.1,1,10; "
                             f"entry {entry!r} of {text!r} is not one")
        values.append(value)
    return values


_TRAIN_FLAGS = {"-q": "quiet", "-C": "search"}
_TRAIN_VALUED = {
    "-s": ("solver", int), "-c": ("C", float), "-e": ("tol", float), "-p": ("epsilon", float),
    "-B": ("bias", float), "-v": ("folds", int), "-n": ("n_jobs", int),
    "--Cs": ("Cs", _float_list), "--max-iter": ("max_iter", int), "--seed": ("seed", int),
}


def parse_train_args(args):
    """Parse LIBLINEAR-style train options; return (options dict, positionals)."""
    opts = {
        "solver": None, "C": 1.0, "tol": 1e-4, "epsilon": 0.1, "bias": 1.0, "weights": {},
        "folds": None, "search": False, "n_jobs": 1, "quiet": False,
        "Cs": None, "max_iter": None, "seed": 0, "C_given": False,
    }
    i = 0
    while i < len(args) and args[i].startswith("-") and len(args[i]) > 1:
        a = args[i]
        if a in ("-h", "--help"):
            raise SystemExit(_help(TRAIN_USAGE))
        if a in _TRAIN_FLAGS:
            opts[_TRAIN_FLAGS[a]] = True
        elif a in _TRAIN_VALUED:
            key, kind = _TRAIN_VALUED[a]
            opts[key] = _value(args, i, a, kind)
            opts["C_given"] |= key == "C"
            i += 1
        elif a.startswith("-w") and len(a) > 2:
            try:
                label = _parse(int, a[2:])
            except ValueError:
                raise CLIError(f"option {a}: the class after -w must be an integer label, e.g. -w1 2") from None
            weight = _value(args, i, a, float)
            if weight < 0 or not np.isfinite(weight):
                raise CLIError(f"-w{label} must be a finite weight >= 0, got {weight:g}")
            # A label given twice: LIBLINEAR multiplies the weights.
            opts["weights"][label] = opts["weights"].get(label, 1.0) * weight
            i += 1
        else:
            raise CLIError(f"unknown option {a!r} (see 'fastlinear train -h')")
        i += 1
    positionals = args[i:]
    if opts["solver"] is None:
        # LIBLINEAR's -C without -s searches with -s 2: the primal solver's
        # cost hardly grows with C, the dual's grows in proportion to it.
        opts["solver"] = 2 if opts["search"] else 1
    if opts["solver"] not in SOLVERS:
        classification = [n for n, (cls, _) in SOLVERS.items() if cls is not LinearSVR]
        regression = [n for n, (cls, _) in SOLVERS.items() if cls is LinearSVR]
        missing = "; ".join(f"LIBLINEAR's {s.description} (-s {s.number}) is not offered"
                            for s in _solver_table.SOLVERS if not s.estimator)
        raise CLIError(
            f"unknown solver -s {opts['solver']}; this version supports -s {_listing(classification)} "
            f"(classification) and -s {_listing(regression)} (regression)"
            + (f"; {missing}" if missing else "")
        )
    if opts["epsilon"] < 0:
        raise CLIError(f"-p must be a finite number >= 0, got {opts['epsilon']:g}")
    if opts["seed"] < 0:
        raise CLIError(f"--seed must be >= 0, got {opts['seed']}")
    if opts["C"] <= 0 or not np.isfinite(opts["C"]):
        raise CLIError(f"-c must be a finite number > 0, got {opts['C']:g}")
    if opts["tol"] <= 0 or not np.isfinite(opts["tol"]):
        raise CLIError(f"-e must be a finite number > 0, got {opts['tol']:g}")
    if opts["folds"] is not None and opts["folds"] < 2:
        raise CLIError(f"-v needs n >= 2 folds, got {opts['folds']}")
    if opts["max_iter"] is not None and opts["max_iter"] < 1:
        raise CLIError(f"--max-iter must be >= 1, got {opts['max_iter']}")
    if opts["n_jobs"] < 1:
        raise CLIError(f"-n must be a number of threads >= 1, got {opts['n_jobs']}")
    for label, weight in opts["weights"].items():
        if not np.isfinite(weight):
            raise CLIError(f"-w{label}: the product of its weights overflows, got {weight:g}")
    if not positionals:
        raise CLIError("missing data_file (usage: fastlinear train [options] data_file [model_file])")
    if len(positionals) > 2:
        raise CLIError(f"too many arguments: {' '.join(positionals[2:])!r} (options go before data_file)")
    return opts, positionals


def _listing(numbers):
    """``[0, 1, 2, 7]`` as ``"0, 1, 2 and 7"``."""
    numbers = sorted(numbers)
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def _help(text):
    sys.stdout.write(text)
    return 0


def _params(opts, y):
    """The estimator's parameters for the options (LinearSVC or LinearSVR)."""
    cls, params = SOLVERS[opts["solver"]]
    regression = cls is LinearSVR
    params = dict(params, tol=opts["tol"], random_state=opts["seed"])
    if opts["bias"] > 0:
        params.update(fit_intercept=True, intercept_scaling=opts["bias"])
    else:
        # LIBLINEAR's -B 0 adds a constant feature of value 0: no intercept.
        params.update(fit_intercept=False)
    if regression:
        if opts["weights"]:
            # LIBLINEAR's regression solvers read no class weights either.
            print("WARNING: -w weights are for classification; the regression solvers "
                  "ignore them", file=sys.stderr)
        return dict(params, epsilon=opts["epsilon"])
    classes = np.unique(y)
    weights = {}
    for label, weight in opts["weights"].items():
        if label in classes:
            weights[label] = weight
        else:
            # LIBLINEAR's words; it trains on without the weight.
            print(f"WARNING: class label {label} specified in weight is not found", file=sys.stderr)
    return dict(params, class_weight=weights or None)


def _say(opts, text):
    if not opts["quiet"]:
        print(text, flush=True)


def cmd_train(args):
    """``fastlinear train``: fit, cross-validate (-v) or search C (-C)."""
    opts, positionals = parse_train_args(args)
    data_file = positionals[0]
    model_file = positionals[1] if len(positionals) > 1 else None
    if model_file == "":
        raise CLIError("the model file name is empty; give one, or leave it out for "
                       f"{os.path.basename(data_file)}.model")
    cls = SOLVERS[opts["solver"]][0]
    regression = cls is LinearSVR
    if opts["search"] and opts["solver"] not in SEARCHABLE:
        classifiers = [n for n in SEARCHABLE if SOLVERS[n][0] is not LinearSVR]
        raise CLIError(f"-C searches C for -s {_listing(classifiers)}, and C and p for -s 11 "
                       f"(warm-started, as LIBLINEAR's -C); for -s {opts['solver']} use -v with "
                       "a few values of -c")
    with _read_again(data_file) as readable:
        X, y = load_data(readable, regression=regression)
        _check_squares(readable, X)
    # A file of labels only: LIBLINEAR's nr_feature is 0 (X has an empty column).
    opts["nr_feature"] = 0 if X.nnz == 0 else None
    one_label = not regression and np.unique(y).shape[0] < 2
    if one_label and (opts["search"] or opts["folds"] is not None):
        raise CLIError(f"{data_file}: all samples have the label {y[0]}; -v and -C need at "
                       "least 2 classes (without them, train writes LIBLINEAR's one-class model)")
    params = _params(opts, y)
    start = time.perf_counter()
    if one_label:
        return _train_one_class(opts, X, y, model_file or os.path.basename(data_file) + ".model",
                                start)
    if opts["search"]:
        # (LIBLINEAR's train prints it even with -q)
        print(f"Doing parameter search with {opts['folds'] or 5}-fold cross validation.",
              flush=True)
    if regression and opts["search"]:
        return _search_regression(opts, params, X, y, model_file, start)
    if regression and opts["folds"] is not None:
        return _cross_validate_regression(opts, params, X, y, start)
    if cls is LogisticRegression and (opts["search"] or opts["folds"] is not None):
        return _search_logistic(opts, params, X, y, model_file, start)
    if opts["search"] or opts["folds"] is not None:
        return _search(opts, params, X, y, model_file, start)

    model_file = model_file or os.path.basename(data_file) + ".model"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if cls is LogisticRegression:
            est = LiblinearLogistic(params, opts["max_iter"] or 1000, opts["n_jobs"],
                                    say=lambda text: _say(opts, text)).fit(X, y, opts["C"])
        else:
            est = fit_as_liblinear(_estimator(opts, params, regression), X, y,
                                   _solver_table.by_number(opts["solver"]),
                                   say=lambda text: _say(opts, text))
    _report_warnings(opts, caught)
    _save_model(model_file, est, y, opts["bias"], opts["nr_feature"])
    _say(
        opts,
        f"trained -s {opts['solver']} (C = {opts['C']:g}, solver {est.solver_}) on "
        f"{X.shape[0]} x {X.shape[1]} in {time.perf_counter() - start:.2f} s, "
        f"{int(np.max(est.n_iter_))} iterations; model saved to {model_file}",
    )
    return 0


def _train_one_class(opts, X, y, model_file, start):
    """A file with one label: LIBLINEAR's ``nr_class 1`` model.

    LIBLINEAR trains the binary problem of its solver with every sample
    positive (cost ``C`` times the label's ``-w`` weight), except
    Crammer and Singer's, whose weights stay 0; the model then labels every
    sample with that label.  The same problem here, solved by the row's
    solver with liblinear's stopping rule.
    """
    from ._problem import LinearProblem
    from ._solvers import glmnet, logistic_dual_cd, primal_newton, solve
    from ._validation import proved_csr

    row = _solver_table.by_number(opts["solver"])
    label = int(y[0])
    n, d = X.shape
    value = opts["bias"] if opts["bias"] > 0 else 0.0     # the constant feature's value
    max_iter = opts["max_iter"] or 1000
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if row.kernel == "crammer_singer":
            w, n_iter = np.zeros(d + 1), 0
        else:
            P = proved_csr(sp.csr_matrix(X), caller="train")
            cost = np.full(n, opts["C"] * opts["weights"].get(label, 1.0))
            loss = "logistic" if row.loss == "log_loss" else row.loss
            problem = LinearProblem(P, np.ones(n), cost, loss, value, penalty=row.penalty)
            tol, seed = opts["tol"], opts["seed"]
            if row.number == 0:
                sol = primal_newton(problem, tol=tol, max_iter=max_iter)
            elif row.number == 6:
                sol = glmnet(problem, transpose(P, caller="train"), l1=1.0, l2=0.0, tol=tol,
                             max_iter=max_iter, seed=seed)
            elif row.number == 7:
                sol = logistic_dual_cd(problem, tol=tol, max_iter=max_iter, seed=seed)
            else:
                XT = transpose(P, caller="train") if row.kernel == "l1_cd" else None
                sol = solve(row.kernel, problem, tol=tol, max_iter=max_iter, seed=seed, XT=XT)
            w, n_iter = sol.w, sol.n_iter
    _report_warnings(opts, caught)
    if opts["bias"] < 0:
        w, bias = w[:-1], -1.0
    elif opts["bias"] == 0:
        w, bias = np.r_[w[:-1], 0.0], 0.0
    else:
        bias = opts["bias"]
    if opts["nr_feature"] == 0:
        w = w[d:]       # (the empty column of a file of labels only)
    _write(model_file, "model file", one_class_model_chunks(row.type_name, label, w, bias))
    _say(opts, f"trained -s {opts['solver']} (C = {opts['C']:g}) on {n} x {d} in "
               f"{time.perf_counter() - start:.2f} s, {int(n_iter)} iterations; one label "
               f"({label}): a one-class model, as LIBLINEAR's; model saved to {model_file}")
    return 0


def fit_as_liblinear(est, X, y, row, say=None):
    """``est.fit(X, y)`` as LIBLINEAR's ``train`` runs the solver ``row``.

    A dual row that LIBLINEAR 2.42+ hands over to a primal one when its
    passes run out (``row.switch_to``: ``-s 1`` to 2, 7 to 0, 12 to 11) runs
    at most ``SWITCH_AFTER`` passes.  When they end short of ``tol``, the
    primal row continues from their weights with ``tol`` times
    ``row.switch_tol_factor`` and ``est.max_iter`` Newton steps, and ``say``
    (if given) is told so in LIBLINEAR's words.  ``n_iter_`` then counts the
    passes and the steps, ``solver_`` names both solvers (``"dual_cd+newton"``)
    and the estimator keeps the dual row's parameters, so its model file is
    the dual row's, as LIBLINEAR's is.  A one-vs-rest ``LinearSVC`` (three
    or more classes) switches as a whole when one of its problems ran out
    of passes (LIBLINEAR decides per problem; each problem ends at its
    optimum either way).  With ``est.max_iter <= SWITCH_AFTER``, or for a row
    that does not switch, this is ``est.fit(X, y)``.
    """
    max_iter = est.max_iter
    if not _switches(row, max_iter):
        return est.fit(X, y)
    params = est.get_params()
    try:
        with warnings.catch_warnings():
            # (running out of passes is the signal to switch, not a failure)
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.set_params(max_iter=SWITCH_AFTER).fit(X, y)
    finally:
        est.set_params(max_iter=max_iter)
    passes = int(np.max(est.n_iter_))
    if passes < SWITCH_AFTER:
        return est
    if say is not None:
        say(f"WARNING: reaching max number of iterations\nSwitching to use -s {row.switch_to}")
    dual_solver = est.solver_
    try:
        est.set_params(dual=False, tol=params["tol"] * row.switch_tol_factor,
                       warm_start=True).fit(X, y)
    finally:
        est.set_params(dual=params["dual"], tol=params["tol"], warm_start=params["warm_start"])
    est.n_iter_ = est.n_iter_ + passes
    est.solver_ = f"{dual_solver}+{est.solver_}"
    return est


def _switches(row, max_iter):
    """Whether ``train`` may hand the solver ``row`` over to a primal one
    after ``SWITCH_AFTER`` passes (:func:`fit_as_liblinear`)."""
    return row.switch_to is not None and max_iter > SWITCH_AFTER


def _estimator(opts, params, regression):
    """The unfitted LinearSVC or LinearSVR of one training run at ``-c``."""
    cls = LinearSVR if regression else LinearSVC
    return cls(C=opts["C"], max_iter=opts["max_iter"] or 1000, n_jobs=opts["n_jobs"], **params)


class LiblinearLogistic:
    """LIBLINEAR's ``-s 0``, ``-s 6`` and ``-s 7`` on any number of classes.

    Two classes: one ``LogisticRegression(solver="liblinear")``.  Three or
    more: LIBLINEAR's one-vs-rest, one binary problem per class ``k`` (its
    samples positive with cost ``C w_k``, all others negative with cost
    ``C``, as LIBLINEAR weighs them), stacked into one LogisticRegression
    with a row per class, the model LIBLINEAR stores.  The stacked model
    predicts LIBLINEAR's labels (the largest decision value); its
    probabilities in LIBLINEAR's sense are
    ``fastlinear._model_io.liblinear_predict_proba``.

    ``fit`` may be called again with a larger ``C`` on the same data: every
    binary problem starts from its previous solution (the warm start of
    the C search).  ``-s 7`` switches to ``-s 0`` per binary problem as
    LIBLINEAR does (:func:`fit_as_liblinear`).

    Parameters
    ----------
    params : dict
        ``LogisticRegression`` parameters (``solver="liblinear"``, ``dual``,
        ``tol``, ``fit_intercept``, ``intercept_scaling``, ``class_weight``
        as a dict of the labels' weights or None, ``random_state``).
    max_iter : int
    n_jobs : int
        Threads inside the primal solver's products with X.
    say : callable or None
        Told of a switch from ``-s 7`` to ``-s 0`` (a line of text).
    """

    def __init__(self, params, max_iter, n_jobs, say=None):
        self.params = dict(params)
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.say = say
        self._row = _solver_table.solver_type_of(LogisticRegression(**self.params))
        self._binaries = None

    def fit(self, X, y, C):
        """The fitted (stacked) LogisticRegression at ``C``."""
        classes = np.unique(y)
        weights = self.params.get("class_weight") or {}
        if classes.shape[0] == 2:
            targets = [(y, self.params.get("class_weight"))]
        else:
            targets = [(np.where(y == label, 1, -1), {1: float(weights.get(label, 1.0)), -1: 1.0})
                       for label in classes]
        if self._binaries is None or len(self._binaries) != len(targets):
            base = dict(self.params, max_iter=self.max_iter, n_jobs=self.n_jobs, warm_start=True)
            self._binaries = [LogisticRegression(**base) for _ in targets]
        for est, (labels, class_weight) in zip(self._binaries, targets, strict=True):
            fit_as_liblinear(est.set_params(C=C, class_weight=class_weight), X, labels,
                             self._row, self.say)
        if classes.shape[0] == 2:
            return self._binaries[0]
        model = LogisticRegression(C=C, max_iter=self.max_iter, n_jobs=self.n_jobs, **self.params)
        model.classes_ = classes
        model.n_features_in_ = X.shape[1]
        model.coef_ = np.vstack([est.coef_ for est in self._binaries])
        model.intercept_ = np.concatenate([est.intercept_ for est in self._binaries])
        model.n_iter_ = np.concatenate([est.n_iter_ for est in self._binaries])
        model.solver_ = self._binaries[0].solver_
        return model


def _save_model(path, est, y=None, bias=None, n_features=None):
    """Write ``est`` with LIBLINEAR's label order of the training labels ``y``;
    ``bias=0`` (``-B 0``) as LIBLINEAR writes it: ``bias 0`` and a zero weight;
    ``n_features``: LIBLINEAR's ``nr_feature`` when it is not the estimator's
    width (0 for a training file of labels only, which LIBLINEAR reads as no
    feature where X has one empty column)."""
    order = None if y is None or isinstance(est, LinearSVR) else liblinear_label_order(y)
    _write(path, "model file", liblinear_model_chunks(est, order, zero_bias=bias == 0,
                                                      n_features=n_features))


def _write(path, what, text):
    """Write a model or prediction file (``write_file``); a failure is one CLIError line."""
    try:
        write_file(path, text)
    except OSError as error:
        raise CLIError(f"can't write {what} {path!r}: {error.strerror or error}") from None


def _count_correct(estimator, X, y):
    """The scorer of -v and -C: correct predictions in a fold (a count, not a
    rate), so the folds' sum is LIBLINEAR's total_correct."""
    return int(np.sum(estimator.predict(X) == y))


def _folds(opts, X, y=None):
    """The (train, test) index pairs of -v and -C.

    The samples are shuffled first (``--seed``), as LIBLINEAR's
    ``cross_validation`` permutes them: LIBSVM files often come sorted in
    blocks (w8a: 740 negatives, then every positive, then the rest), and
    folds cut in file order made ``-C -s 0`` on w8a choose a model that
    predicts the majority class.  Classification: stratified
    folds of the shuffled samples while every class has at least n
    samples; otherwise a random permutation cut into n parts, as
    LIBLINEAR's.  Regression: the latter.  More folds than samples become
    leave-one-out, with LIBLINEAR's warning.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    n_samples = X.shape[0]
    folds = opts["folds"] or 5
    leave_one_out = folds >= n_samples
    if folds > n_samples:
        print("WARNING: # folds > # data. Will use # folds = # data instead "
              "(i.e., leave-one-out cross validation)", file=sys.stderr)
        folds = n_samples
    if folds < 2:
        raise CLIError(f"-v needs at least 2 samples to cut into folds, got {n_samples}")
    if y is not None and np.min(np.unique(y, return_counts=True)[1]) >= folds:
        return list(StratifiedKFold(folds, shuffle=True, random_state=opts["seed"]).split(
            np.empty((n_samples, 0)), y))
    if y is not None and not opts["quiet"] and not leave_one_out:
        print(f"WARNING: a class has fewer than {folds} samples: the {folds} folds are "
              "not stratified", file=sys.stderr)
    return list(KFold(folds, shuffle=True, random_state=opts["seed"]).split(
        np.empty((n_samples, 0))))


def _search(opts, params, X, y, model_file, start):
    """-v (cross-validation at one C) and -C (the warm-started C search).

    Accuracies are LIBLINEAR's: correct predictions over all folds divided
    by the number of samples (not the mean of the folds' accuracies), and
    -C picks the C with the most correct predictions, the smallest on ties.
    Along the grid (:func:`_c_grid`) every fold's ``LinearSVC`` starts from
    its solution at the previous C (:func:`fastlinear.model_selection.linear_svc_path`'s
    rescaled duals); the folds run in up to ``-n`` threads.
    """
    folds, lone_correct = _one_class_folds(_folds(opts, X, y), y)
    Cs, liblinear_grid = _c_grid(opts, X, y)
    max_iter = opts["max_iter"] or (60000 if opts["search"] else 1000)
    fit_model = opts["search"] and model_file is not None
    row = _solver_table.by_number(opts["solver"])
    if not opts["search"] and _switches(row, max_iter):
        return _cross_validate_switching(opts, params, X, y, row, folds, lone_correct, start)

    def refit(C):
        """The model saved by -C: a fit on every sample at ``C``."""
        if not fit_model:
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = _estimator(opts, params, regression=False).set_params(
                C=C, max_iter=max_iter).fit(X, y)
        _report_warnings(opts, caught)
        return model

    if not folds:
        # Every training part holds one class: no fit; the C all tie.
        _report_search(opts, Cs, [lone_correct] * len(Cs), [0] * len(Cs), y,
                       refit(Cs[0]), model_file, start)
        return 0
    threads = min(opts["n_jobs"], len(folds))
    probe = _estimator(opts, params, regression=False).set_params(max_iter=max_iter)
    try:
        data = validate_classification_data(probe, X, y, None, caller="train")
    except ValueError as error:
        raise CLIError(str(error)) from None
    stop = new_stop_flag()

    def fold_fitter(k, train):
        fold = _fit_fold(k, len(folds), lambda: _fold_data(data, train, "train"))
        est = _estimator(opts, params, regression=False).set_params(
            max_iter=max_iter, n_jobs=opts["n_jobs"] if threads == 1 else 1)
        est._validate_params()
        path = _svc_path(est, fold, np.asarray(Cs), True, est.dual, stop)

        def fit(C):
            fitted_C, fitted = _fit_fold(k, len(folds), lambda: next(path))
            if fitted_C != C:   # the path yields the grid in the order it is asked
                raise RuntimeError(f"train: fold {k + 1}'s path fitted C={fitted_C:g} where "
                                   f"C={C:g} was asked; please report this.")
            return fitted
        return fit

    correct, max_n_iter, changed = _path_search(opts, X, y, folds, Cs, fold_fitter, threads,
                                                stop, max_iter)
    Cs, correct, max_n_iter, ran_out = _searched(opts, Cs, liblinear_grid, correct, max_n_iter,
                                                 changed, max_iter)
    correct = correct + lone_correct
    _report_search(opts, Cs, correct, max_n_iter, y, refit(Cs[int(np.argmax(correct))]),
                   model_file, start, ran_out)
    return 0


#: LIBLINEAR's -C grid (without --Cs): C = start, 2 start, 4 start, ... up to
#: ``MAX_C``, ended once the weights of every fold stayed the same for
#: ``STABLE_CS`` values of C in a row (their warm starts then meet the
#: tolerance at once: larger C changes nothing).
MAX_C = 1024.0
STABLE_CS = 5
#: The classification solvers LIBLINEAR 2.50's -C searches (its grid).
LIBLINEAR_SEARCHES = (0, 2)
#: A fold's weights count as unchanged when their change has a 2-norm of at
#: most this (LIBLINEAR's test).
UNCHANGED = 1e-15


def start_c(solver, X, y, bias):
    """LIBLINEAR's first C of -C for ``-s solver`` (0 or 2).

    The largest power of 2 at most ``min_C = 1 / (l max_i ||x~_i||^2)``
    for the logistic loss (``-s 0``), half that for the squared hinge
    (``-s 2``), as LIBLINEAR's ``calc_start_C``; ``x~_i`` holds the ``-B``
    feature.  At most ``MAX_C`` (no feature and no bias: every C fits
    ``w = 0``); at least 2^-1022 (``l max ||x~||^2`` overflowing float64).
    """
    if solver not in LIBLINEAR_SEARCHES:
        raise ValueError(f"LIBLINEAR's -C grid is for -s {_listing(LIBLINEAR_SEARCHES)}, "
                         f"got -s {solver}")
    n = X.shape[0]
    b = bias if bias > 0 else 0.0
    row_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel() + b * b
    top = float(row_sq.max()) if n else 0.0
    with np.errstate(divide="ignore", over="ignore"):
        min_c = float(np.float64(0.5 if solver == 2 else 1.0) / np.float64(n * top))
    if min_c >= MAX_C:
        return MAX_C
    if not min_c > 0:
        min_c = 2.0 ** -1022
    # (LIBLINEAR's rounding: floor(log(min_C) / log(2)), one power of 2 lower
    # than floor(log2(min_C)) for some exact powers such as 2^-29)
    return max(2.0 ** math.floor(math.log(min_c) / math.log(2.0)), 2.0 ** -1022)


def _given_cs(opts):
    """The C values of --Cs (``DEFAULT_CS`` if none were given), sorted, once each."""
    return np.unique(DEFAULT_CS if opts["Cs"] is None else opts["Cs"])


def _c_grid(opts, X, y):
    """``(Cs, liblinear)``: the C values of -v (``-c``) or -C, increasing:
    ``--Cs``, or LIBLINEAR's grid from :func:`start_c` for the solvers
    LIBLINEAR searches (``LIBLINEAR_SEARCHES``), ``DEFAULT_CS`` for the
    others (whose passes grow with C: Crammer and Singer's ran 78 s at
    C = 1024 on 3,000 rows of a9a); ``liblinear`` is whether the grid is
    LIBLINEAR's (and so ends by its rules)."""
    if not opts["search"]:
        return [opts["C"]], False
    if opts["Cs"] is not None or opts["solver"] not in LIBLINEAR_SEARCHES:
        return [float(C) for C in _given_cs(opts)], False
    # -c given: LIBLINEAR starts there (at most MAX_C).
    C = min(opts["C"], MAX_C) if opts["C_given"] else start_c(opts["solver"], X, y, opts["bias"])
    Cs = []
    while C <= MAX_C:
        Cs.append(float(C))
        C *= 2.0
    return Cs, True


def _path_search(opts, X, y, folds, Cs, fold_fitter, threads, stop, max_iter):
    """Every fold's fits along ``Cs`` (increasing), each warm-started from
    the fold's fit at the previous C.

    ``fold_fitter(k, train)`` returns fold ``k``'s ``fit(C)`` (the fitted
    estimator); the folds run in up to ``threads`` threads, each holding
    its own training rows only while it runs.  Returns ``(correct,
    max_n_iter, changed)`` per C: correct predictions over the folds, the
    most iterations of a fold, and whether any fold's weights (``coef_``
    and ``intercept_``) moved from its previous C's by more than
    ``UNCHANGED`` (2-norm; the first C counts as unmoved).  Convergence
    warnings are left to the caller, from ``max_n_iter`` (``max_iter``
    reached), as :class:`fastlinear.LinearSVCCV` does.
    """
    progress = None if opts["quiet"] else ProgressBar(
        len(folds) * len(Cs), label=f"-s {opts['solver']} {'C search' if opts['search'] else 'CV'} ")

    def fold(k):
        train, test = folds[k]
        fit = fold_fitter(k, train)
        X_test, y_test = X[test], y[test]
        correct = np.zeros(len(Cs), dtype=np.int64)
        n_iter = np.zeros(len(Cs), dtype=np.int64)
        changed = np.zeros(len(Cs), dtype=bool)
        previous = None
        for j, C in enumerate(Cs):
            est = fit(C)
            coef = est.coef_.toarray() if sp.issparse(est.coef_) else est.coef_
            weights = np.r_[np.ravel(coef), np.ravel(est.intercept_)]
            correct[j] = _count_correct(est, X_test, y_test)
            n_iter[j] = int(np.max(est.n_iter_))
            changed[j] = previous is not None and np.linalg.norm(weights - previous) > UNCHANGED
            previous = weights
            if progress is not None:
                progress.update(1, f"C={C:g}")
        return correct, n_iter, changed

    with warnings.catch_warnings():
        # (set here, in this thread: the warnings filters are not thread-safe)
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows = run(fold, range(len(folds)), threads, stop)
    return (np.sum([r[0] for r in rows], axis=0), np.max([r[1] for r in rows], axis=0),
            np.any([r[2] for r in rows], axis=0))


def _liblinear_end(Cs, changed):
    """How many C of LIBLINEAR's grid its search visits: it ends at the
    ``STABLE_CS``-th C in a row at which no fold's weights changed (the
    first C counting as one), else at the grid's end (past ``MAX_C``)."""
    stable = 0
    for j in range(len(Cs)):
        stable = 0 if changed[j] else stable + 1
        if stable == STABLE_CS:
            return j + 1
    return len(Cs)


def _searched(opts, Cs, liblinear_grid, correct, max_n_iter, changed, max_iter):
    """The C values a search reports, and their figures: LIBLINEAR's grid
    cut where LIBLINEAR's search ends (:func:`_liblinear_end`; the fits
    beyond it ran, their weights unchanged or nearly), with its warning
    when it ran to the end; one line for the folds stopped at ``max_iter``."""
    n = _liblinear_end(Cs, changed) if liblinear_grid else len(Cs)
    Cs, correct, max_n_iter = np.asarray(Cs)[:n], correct[:n], max_n_iter[:n]
    stuck = max_n_iter >= max_iter
    if stuck.any() and not opts["quiet"]:
        print(f"WARNING: the solver stopped at --max-iter {max_iter} before reaching -e "
              f"{opts['tol']:g} in some folds at C = {', '.join(f'{C:g}' for C in Cs[stuck])}; "
              "raise --max-iter or -e, or scale the features", file=sys.stderr)
    return Cs, correct, max_n_iter, liblinear_grid and n == len(changed)


def _one_class_folds(folds, y):
    """The folds whose training part holds two classes or more, and the
    correct predictions of the others.

    LIBLINEAR trains a part of one class into a model of that class alone,
    which predicts it for every sample; scikit-learn's estimators refuse
    to fit one class.  Such a fold is scored here as LIBLINEAR scores it:
    its test samples of that class are correct.
    """
    kept, correct = [], 0
    for train, test in folds:
        labels = np.unique(y[train])
        if labels.shape[0] == 1:
            correct += int(np.sum(y[test] == labels[0]))
        else:
            kept.append((train, test))
    return kept, correct


def _cross_validate_switching(opts, params, X, y, row, folds, lone_correct, start):
    """-v for a dual solver that switches to a primal one (``-s 1``): the
    folds of :func:`_search` (:func:`_one_class_folds`, its count of correct
    predictions ``lone_correct``), each fitted as ``train`` fits it
    (:func:`fit_as_liblinear`), one after the other."""
    correct, n_iter = lone_correct, 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        for k, (train, test) in enumerate(folds):
            est = _fit_fold(k, len(folds), lambda: fit_as_liblinear(
                _estimator(opts, params, regression=False), X[train], y[train], row))
            correct += _count_correct(est, X[test], y[test])
            n_iter = max(n_iter, int(np.max(est.n_iter_)))
    _report_warnings(opts, caught)
    _report_search(opts, [opts["C"]], [correct], [n_iter], y, None, None, start)
    return 0


def _report_search(opts, Cs, correct, max_n_iter, y, model, model_file, start,
                   ran_out=False):
    """Print -v's or -C's figures (LIBLINEAR's accuracies: the correct
    predictions of all folds over the samples of ``y``; -C's lines in
    LIBLINEAR's words, with its warning when the grid ran out
    (``ran_out``); ``max_n_iter`` unused there) and save the best model
    (with LIBLINEAR's label order of ``y``).

    The best C has the most correct predictions, the smallest C on ties
    (``Cs`` increase).  Results are printed even with -q, as LIBLINEAR does.
    """
    n_samples = y.shape[0]
    correct = np.asarray(correct, dtype=np.float64)
    if opts["search"]:
        # LIBLINEAR's rounding: 100 times the rate (-v: 100 times the count, over n)
        accuracy = 100.0 * (correct / n_samples)
        for C, rate in zip(Cs, accuracy, strict=True):
            _say(opts, f"log2c={np.log2(C):7.2f}\trate={rate:g}")
        if ran_out:
            _say(opts, "WARNING: maximum C reached.")
        best = int(np.argmax(correct))
        print(f"Best C = {Cs[best]:g}  CV accuracy = {accuracy[best]:g}%")
        if model is not None:
            _save_model(model_file, model, y, opts["bias"], opts["nr_feature"])
            _say(opts, f"model with C = {Cs[best]:g} saved to {model_file}")
    else:
        print(f"Cross Validation Accuracy = {100.0 * correct[0] / n_samples:g}%")
    _say(opts, f"time: {time.perf_counter() - start:.2f} s")


def _search_logistic(opts, params, X, y, model_file, start):
    """-v and -C for logistic regression (-s 0, -s 6, -s 7): :func:`_search`'s
    figures, with :class:`LiblinearLogistic` on each fold.

    Folds are those of -v of the SVMs (:func:`_folds`); on each fold the C
    grid (:func:`_c_grid`) is solved in increasing order, every C starting
    from the solution at the previous one.  The folds run one after the
    other in this thread, so that Ctrl-C stops the solver at once.
    """
    Cs, liblinear_grid = _c_grid(opts, X, y)
    max_iter = opts["max_iter"] or (60000 if opts["search"] else 1000)
    splits, lone_correct = _one_class_folds(_folds(opts, X, y), y)

    def fold_fitter(k, train):
        path = LiblinearLogistic(params, max_iter, opts["n_jobs"])
        X_fit, y_fit = X[train], y[train]
        return lambda C: _fit_fold(k, len(splits), lambda: path.fit(X_fit, y_fit, C))

    ran_out = False
    if splits:
        correct, max_n_iter, changed = _path_search(opts, X, y, splits, Cs, fold_fitter, 1,
                                                    new_stop_flag(), max_iter)
        Cs, correct, max_n_iter, ran_out = _searched(opts, Cs, liblinear_grid, correct,
                                                     max_n_iter, changed, max_iter)
        correct = correct + lone_correct
    else:
        correct = np.full(len(Cs), lone_correct, dtype=np.int64)
        max_n_iter = np.zeros(len(Cs), dtype=np.int64)
    model = None
    if opts["search"] and model_file is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LiblinearLogistic(params, max_iter, opts["n_jobs"]).fit(
                X, y, Cs[int(np.argmax(correct))])
        _report_warnings(opts, caught)
    _report_search(opts, Cs, correct, max_n_iter, y, model, model_file, start, ran_out)
    return 0


def _regression_scores(pred, y):
    """LIBLINEAR's mean squared error and squared correlation coefficient."""
    n = y.shape[0]
    mse = float(np.mean((pred - y) ** 2))
    sp_, st = pred.sum(), y.sum()
    num = (n * (pred @ y) - sp_ * st) ** 2
    den = (n * (pred @ pred) - sp_ * sp_) * (n * (y @ y) - st * st)
    return mse, float(num / den) if den > 0 else float("nan")


def _fit_fold(k, n_folds, fit):
    """``fit()`` on fold ``k``, its ValueError as a CLIError that names the fold."""
    try:
        return fit()
    except ValueError as error:
        raise CLIError(f"fold {k + 1} of {n_folds}: {error} (use fewer folds with -v)") from None


def _cross_validate_regression(opts, params, X, y, start):
    pred = np.empty_like(y)
    folds = _folds(opts, X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        for k, (train, test) in enumerate(folds):
            est = _fit_fold(k, len(folds), lambda: fit_as_liblinear(
                _estimator(opts, params, regression=True), X[train], y[train],
                _solver_table.by_number(opts["solver"])))
            pred[test] = est.predict(X[test])
    _report_warnings(opts, caught)
    mse, scc = _regression_scores(pred, y)
    print(f"Cross Validation Mean squared error = {mse:g}")
    print(f"Cross Validation Squared correlation coefficient = {scc:g}")
    _say(opts, f"time: {time.perf_counter() - start:.2f} s")
    return 0


def _search_regression(opts, params, X, y, model_file, start):
    """-C for -s 11, as LIBLINEAR 2.50's: the C grid (--Cs) at each ``p = i
    max_i |y_i| / P_STEPS``, ``i = P_STEPS - 1 ... 0``, on the folds of -v
    (shuffled), each fold's fits warm-started along C.  The best pair has
    the least cross-validation mean squared error over all folds'
    predictions; on ties the first in LIBLINEAR's order (p from large to
    small, then C from small to large).
    """
    folds = _folds(opts, X)
    Cs = _given_cs(opts)
    max_p = float(np.max(np.abs(y)))
    # y = 0 everywhere: every p of the grid is 0, one is enough.
    ps = [i * max_p / P_STEPS for i in range(P_STEPS - 1, -1, -1)] if max_p > 0 else [0.0]
    max_iter = opts["max_iter"] or 1000
    best = (np.inf, None, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        for p in ps:
            pred = np.empty((len(Cs), y.shape[0]))
            for k, (train, test) in enumerate(folds):
                est = _estimator(opts, params, regression=True).set_params(
                    epsilon=p, max_iter=max_iter, warm_start=True)
                for j, C in enumerate(Cs):
                    _fit_fold(k, len(folds), lambda: est.set_params(C=C).fit(X[train], y[train]))
                    pred[j, test] = est.predict(X[test])
            for C, row in zip(Cs, pred, strict=True):
                mse = float(np.mean((row - y) ** 2))
                _say(opts, f"p = {p:g}  C = {C:g}  CV MSE = {mse:g}")
                if mse < best[0]:
                    best = (mse, C, p)
    mse, C, p = best
    print(f"Best C = {C:g} Best p = {p:g}  CV MSE = {mse:g}")
    if model_file is not None:
        with warnings.catch_warnings(record=True) as refit:
            warnings.simplefilter("always", ConvergenceWarning)
            model = _estimator(opts, params, regression=True).set_params(
                C=C, epsilon=p, max_iter=max_iter).fit(X, y)
        caught += refit
        _save_model(model_file, model, bias=opts["bias"], n_features=opts["nr_feature"])
        _say(opts, f"model with C = {C:g}, p = {p:g} saved to {model_file}")
    _report_warnings(opts, caught)
    _say(opts, f"time: {time.perf_counter() - start:.2f} s")
    return 0


def _report_warnings(opts, caught):
    for w in caught:
        if issubclass(w.category, ConvergenceWarning) and not opts["quiet"]:
            print(f"WARNING: {w.message}", file=sys.stderr)


def cmd_predict(args):
    """``fastlinear predict``: label a LIBSVM file with a LIBLINEAR model.

    With ``-b 1`` (logistic regression models), LIBLINEAR's output: a line
    ``labels`` with the model file's labels, then per sample the predicted
    label and the probabilities in that order, as ``%g``.
    """
    quiet = False
    probability = False
    i = 0
    while i < len(args) and args[i].startswith("-") and len(args[i]) > 1:
        a = args[i]
        if a in ("-h", "--help"):
            raise SystemExit(_help(PREDICT_USAGE))
        if a == "-q":
            quiet = True
        elif a == "-b":
            flag = _value(args, i, a, int)
            if flag not in (0, 1):
                raise CLIError(f"-b must be 0 or 1, got {flag}")
            probability = flag == 1
            i += 1
        else:
            raise CLIError(f"unknown option {a!r} (see 'fastlinear predict -h')")
        i += 1
    positionals = args[i:]
    if len(positionals) != 3:
        raise CLIError(
            f"expected 3 arguments (test_file model_file output_file), got "
            f"{len(positionals)}"
        )
    test_file, model_file, output_file = positionals
    _check_file(model_file, "model file")
    try:
        model, labels = read_liblinear_model(model_file)
        kind, logistic = type(model).__name__, isinstance(model, LogisticRegression)
    except OneClassModel as one:
        # LIBLINEAR's model of one class: every sample gets its label.
        model, labels = None, np.array([one.label])
        kind, logistic = f"{one.solver} model of one class", SOLVER_PARAMS[one.solver][1] is LogisticRegression
    regression = isinstance(model, LinearSVR)
    if probability and not logistic:
        raise CLIError(
            "probability output (-b 1) is only supported for logistic regression "
            f"models (-s 0, 6 and 7); {model_file} holds a {kind}"
        )
    # The true labels only score the predictions: any finite number, as
    # LIBLINEAR's predict reads them (a non-integer label counts as wrong).
    with _read_again(test_file) as readable:
        X, y = load_data(readable, regression=True)
        gap = skipped_line(readable, X.shape[0])
    if gap is not None:
        # LIBLINEAR's predict stops there too ("Wrong input format").
        raise CLIError(f"{test_file}, line {gap}: a blank or comment line; predict writes one "
                       "line per sample, which would no longer line up with the file: remove it")
    if model is None:
        pred = np.full(X.shape[0], labels[0])
        proba = np.ones((X.shape[0], 1))
    else:
        X = _fit_width(X, model.n_features_in_)
        pred = linear_scores(model, X) if regression else liblinear_predict(model, labels, X)
        if probability:
            # LIBLINEAR's columns follow the file's label line, not sorted labels.
            proba = liblinear_predict_proba(model, X)[:, np.searchsorted(model.classes_, labels)]
    if regression:
        text = "".join(f"{p:.17g}\n" for p in pred)
    elif probability:
        text = "labels" + "".join(f" {int(v)}" for v in labels) + "\n" + "".join(
            f"{p:g}" + "".join(f" {v:g}" for v in row) + "\n"
            for p, row in zip(pred.astype(np.float64), proba, strict=True))
    else:
        text = "".join(f"{int(p)}\n" for p in pred)
    _write(output_file, "output file", text)
    if quiet:
        return 0
    if regression:
        mse, scc = _regression_scores(pred, y)
        print(f"Mean squared error = {mse:g} (regression)")
        print(f"Squared correlation coefficient = {scc:g} (regression)")
    else:
        correct = int(np.sum(pred == y))
        print(f"Accuracy = {100 * correct / len(y):g}% ({correct}/{len(y)})")
    return 0


def cmd_demo(args):
    """``fastlinear demo``: the course assignment's experiment (``fastlinear.demo``)."""
    from .demo import main as demo_main

    return demo_main(args)


COMMANDS = {"train": cmd_train, "predict": cmd_predict, "demo": cmd_demo}


def main(argv=None):
    """Entry point of the ``fastlinear`` console script; returns the exit code.

    Ctrl-C anywhere inside (the command's work, its output, the save) ends
    it with one line and status 130.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except KeyboardInterrupt:
        return _interrupted(argv)


def console():
    """The ``fastlinear`` console script and ``python -m fastlinear``:
    :func:`main`, then Ctrl-C ignored while the interpreter shuts down.
    A Ctrl-C that came as the command ended (Python acts on it at its next
    step, here) turned the finished command's exit into a
    ``KeyboardInterrupt`` traceback; it is reported as one during the
    command would be."""
    try:
        code = main()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = _interrupted(sys.argv[1:])
    return code


def _interrupted(argv):
    """Ctrl-C: one line on stderr naming the command; the exit status, 130."""
    command = argv[0] if argv and argv[0] in COMMANDS else None
    print(" ".join(filter(None, ["fastlinear", command])) + ": interrupted", file=sys.stderr)
    return 130


def _run(argv):
    """:func:`main` on the arguments ``argv``."""
    if not argv:
        sys.stderr.write(USAGE)
        return 2
    if argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    command, args = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"fastlinear: error: unknown command {command!r}; choose one of "
              f"{', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[command](args)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    except (CLIError, ValueError, TypeError, OSError, MemoryError, OverflowError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"fastlinear {command}: error: {message}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        print(f"fastlinear {command}: error: unexpected {type(error).__name__}: "
              f"{str(error).splitlines()[0] if str(error) else ''} (please report this)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    # ``python -m fastlinear.cli train ...`` runs as ``python -m fastlinear``
    # does (a module run this way must not import silently and exit 0).
    raise SystemExit(console())
