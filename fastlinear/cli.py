"""The ``fastlinear`` command: liblinear-style ``train``/``predict`` and ``demo``.

Usage::

    fastlinear train [options] data_file [model_file]
    fastlinear predict [options] test_file model_file output_file
    fastlinear demo [--train FILE --test FILE] [--no-sklearn] [...]

``train`` and ``predict`` follow LIBLINEAR's programs of the same names and
read and write LIBLINEAR's text model files (see ``fastlinear._model_io``);
``demo`` runs the course assignment's experiment end to end.  Every error
is one line on stderr (``fastlinear <command>: error: ...``) and exit code 2,
as argparse does.

Model and prediction files go where LIBLINEAR's ``fopen(path, "w")`` puts
them (``fastlinear._model_io.write_file``): through a symbolic link to its
target, straight into a device or FIFO (``/dev/null``, ``/dev/stdout``), and
into a regular file through a temporary name renamed when complete, with the
replaced file's mode or, for a new file, ``0666`` less the umask.
"""
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._model_io import SOLVER_PARAMS, liblinear_model_text, load_liblinear_model, write_file
from ._validation import MAX_INT, integer_labels
from .datasets import load_libsvm, sample_line
from .model_selection import LinearSVCCV
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
   for classification:
     1 -- L2-regularized L2-loss support vector classification (dual)
     2 -- L2-regularized L2-loss support vector classification (primal)
     3 -- L2-regularized L1-loss support vector classification (dual)
     4 -- support vector classification by Crammer and Singer
     5 -- L1-regularized L2-loss support vector classification
   for regression:
    11 -- L2-regularized L2-loss support vector regression (primal)
    12 -- L2-regularized L2-loss support vector regression (dual)
    13 -- L2-regularized L1-loss support vector regression (dual)
-c cost : set the parameter C (default 1)
-p epsilon : set the epsilon in the loss of support vector regression (default 0.1)
-e epsilon : stopping tolerance (default 1e-4, as sklearn's LinearSVC and
     LinearSVR; LIBLINEAR's defaults are 0.1 or 0.01 by solver); what it
     bounds depends on the solver, as in LIBLINEAR
-B bias : if bias >= 0, instance x becomes [x; bias]; if < 0, no bias term
     (default 1, as sklearn's LinearSVC; LIBLINEAR's default is -1)
-wi weight : weight the parameter C of class i by weight (e.g. -w1 2 -w-1 0.5)
-v n : n-fold cross validation mode (classification: stratified folds, no
     shuffling; regression: shuffled folds); prints LIBLINEAR's figures over
     the predictions of all folds (accuracy = correct / n)
-C : find the best C by n-fold cross validation (n from -v, default 5) over
     the grid of --Cs, warm-started (classification solvers); writes a model
     only when model_file is given
-n nr_thread : threads over folds / one-vs-rest problems / the primal
     solver's products (default 1)
-q : quiet mode (no outputs)
--Cs c1,c2,... : the C grid of -C (default 0.01,0.1,1,10,100)
--max-iter n : maximal iterations per fit: passes, or Newton steps for -s 2
     and 11 (default 1000; 60000 with -C)
--seed n : seed of the coordinate order (default 0)
The model file defaults to <basename of data_file>.model in the current folder.
"""

PREDICT_USAGE = """\
usage: fastlinear predict [options] test_file model_file output_file
options:
-b probability_estimates : whether to output probability estimates, 0 or 1
     (default 0; only 0 is supported: the models are SVMs)
-q : quiet mode (no outputs)
"""

DEFAULT_CS = (0.01, 0.1, 1.0, 10.0, 100.0)
#: LIBLINEAR's solver numbers: (regression?, the estimator's parameters), from
#: the one table of the model files.
SOLVERS = {number: (cls is LinearSVR, params)
           for number, cls, params in SOLVER_PARAMS.values()}

class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


# ---------------------------------------------------------------- data files


def _check_file(path, what):
    if not os.path.exists(path):
        raise CLIError(f"can't open {what} {path!r}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"can't open {what} {path!r}: it is a directory")


def load_data(path, n_features=None, regression=False):
    """Read a LIBLINEAR data file (1-based; plain, .bz2 or .gz): X (CSR), y.

    Labels must be integers inside the int64 range (classification) or finite
    numbers (regression; ``load_libsvm`` refuses NaN and infinity).  Errors
    name the file and the line.
    """
    _check_file(path, "data file")
    X, y = load_libsvm(path, n_features=n_features, zero_based=False)
    if X.shape[0] == 0:
        raise CLIError(f"{path}: the file holds no samples")
    if regression:
        return X, y
    try:
        return X, integer_labels(y)
    except ValueError as error:
        # integer_labels names the first bad label in file order.
        bad = np.flatnonzero((y != np.round(y)) | (y >= 2.0**63) | (y < -(2.0**63)))
        line = sample_line(path, int(bad[0])) if bad.size else None
        where = f"{path}, line {line}" if line is not None else path
        raise CLIError(f"{where}: {error}") from None


def _fit_width(X, n_features):
    """Drop columns beyond n_features (LIBLINEAR ignores them) or pad with zeros."""
    if X.shape[1] > n_features:
        return X[:, :n_features].tocsr()
    if X.shape[1] < n_features:
        return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_features))
    return X


# ------------------------------------------------------------------- options


def _value(args, i, option, kind):
    """The value after ``option``: an int inside the C int range, or a finite float."""
    if i + 1 >= len(args):
        raise CLIError(f"option {option} needs a value")
    raw = args[i + 1]
    try:
        value = kind(raw)
    except (ValueError, OverflowError):
        name = {int: "an integer", float: "a number"}.get(kind, "a value")
        raise CLIError(f"option {option} expects {name}, got {raw!r}") from None
    if kind is float and not np.isfinite(value):
        raise CLIError(f"option {option} expects a finite number, got {raw!r}")
    if kind is int and not -MAX_INT <= value <= MAX_INT:
        raise CLIError(f"option {option} expects an integer of at most {MAX_INT}, got {raw!r}")
    return value


def _float_list(text):
    values = [float(v) for v in text.split(",") if v.strip()]
    if not values or not all(np.isfinite(v) for v in values):
        raise ValueError(text)
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
        "Cs": list(DEFAULT_CS), "max_iter": None, "seed": 0,
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
            i += 1
        elif a.startswith("-w") and len(a) > 2:
            try:
                label = int(a[2:])
            except ValueError:
                raise CLIError(f"option {a}: the class after -w must be an integer label, e.g. -w1 2") from None
            opts["weights"][label] = _value(args, i, a, float)
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
        raise CLIError(
            f"unknown solver -s {opts['solver']}; this version supports -s 1, 2, 3, 4 and 5 "
            "(classification) and -s 11, 12 and 13 (regression); the logistic "
            "regression and one-class solvers of LIBLINEAR are not offered"
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
    if any(c <= 0 or not np.isfinite(c) for c in opts["Cs"]):
        raise CLIError(f"--Cs values must be finite numbers > 0, got {opts['Cs']}")
    if opts["max_iter"] is not None and opts["max_iter"] < 1:
        raise CLIError(f"--max-iter must be >= 1, got {opts['max_iter']}")
    for label, weight in opts["weights"].items():
        if weight < 0 or not np.isfinite(weight):
            raise CLIError(f"-w{label} must be a finite weight >= 0, got {weight:g}")
    if not positionals:
        raise CLIError("missing data_file (usage: fastlinear train [options] data_file [model_file])")
    if len(positionals) > 2:
        raise CLIError(f"too many arguments: {' '.join(positionals[2:])!r} (options go before data_file)")
    return opts, positionals


def _help(text):
    sys.stdout.write(text)
    return 0


def _params(opts, y):
    """The estimator's parameters for the options (LinearSVC or LinearSVR)."""
    regression, params = SOLVERS[opts["solver"]]
    params = dict(params, tol=opts["tol"], random_state=opts["seed"])
    if opts["bias"] > 0:
        params.update(fit_intercept=True, intercept_scaling=opts["bias"])
    else:
        # LIBLINEAR's -B 0 adds a constant feature of value 0: no intercept.
        params.update(fit_intercept=False)
    if regression:
        if opts["weights"]:
            raise CLIError("-w weights are for classification; the regression solvers take none")
        return dict(params, epsilon=opts["epsilon"])
    classes = np.unique(y)
    missing = [label for label in opts["weights"] if label not in classes]
    if missing:
        raise CLIError(
            f"-w{missing[0]}: class {missing[0]} does not occur in the data "
            f"(classes: {' '.join(str(c) for c in classes)})"
        )
    return dict(params, class_weight=dict(opts["weights"]) or None)


def _say(opts, text):
    if not opts["quiet"]:
        print(text, flush=True)


def cmd_train(args):
    """``fastlinear train``: fit, cross-validate (-v) or search C (-C)."""
    opts, positionals = parse_train_args(args)
    data_file = positionals[0]
    model_file = positionals[1] if len(positionals) > 1 else None
    regression = SOLVERS[opts["solver"]][0]
    X, y = load_data(data_file, regression=regression)
    if not regression and np.unique(y).shape[0] < 2:
        raise CLIError(f"{data_file}: all samples have the label {y[0]}; training needs at least 2 classes")
    params = _params(opts, y)
    start = time.perf_counter()
    if opts["search"] and regression:
        raise CLIError("-C searches C for the classification solvers (-s 1 to 5); "
                       "for regression use -v with a few values of -c")
    if regression and opts["folds"] is not None:
        return _cross_validate_regression(opts, params, X, y, start)
    if opts["search"] or opts["folds"] is not None:
        return _search(opts, params, X, y, model_file, start)

    model_file = model_file or os.path.basename(data_file) + ".model"
    est = _estimator(opts, params, regression)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    _report_warnings(opts, caught)
    _save_model(model_file, est)
    _say(
        opts,
        f"trained -s {opts['solver']} (C = {opts['C']:g}, solver {est.solver_}) on "
        f"{X.shape[0]} x {X.shape[1]} in {time.perf_counter() - start:.2f} s, "
        f"{est.n_iter_} iterations; model saved to {model_file}",
    )
    return 0


def _estimator(opts, params, regression):
    """The unfitted LinearSVC or LinearSVR of one training run at ``-c``."""
    cls = LinearSVR if regression else LinearSVC
    return cls(C=opts["C"], max_iter=opts["max_iter"] or 1000, n_jobs=opts["n_jobs"], **params)


def _save_model(path, est):
    _write(path, "model file", liblinear_model_text(est))


def _write(path, what, text):
    """Write a model or prediction file (``write_file``); a failure is one CLIError line."""
    try:
        write_file(path, text)
    except OSError as error:
        raise CLIError(f"can't write {what} {path!r}: {error.strerror or error}") from None


def _count_correct(estimator, X, y):
    """The scorer of -v and -C: correct predictions in a fold (a count, not a
    rate), so the folds' sum is LIBLINEAR's total_correct."""
    return float(np.sum(estimator.predict(X) == y))


def _search(opts, params, X, y, model_file, start):
    """-v (cross-validation at one C) and -C (the warm-started C search).

    Accuracies are LIBLINEAR's: correct predictions over all folds divided
    by the number of samples (not the mean of the folds' accuracies), and
    -C picks the C with the most correct predictions, the smallest on ties.
    """
    folds = opts["folds"] or 5
    Cs = opts["Cs"] if opts["search"] else [opts["C"]]
    max_iter = opts["max_iter"] or (60000 if opts["search"] else 1000)
    fit_model = opts["search"] and model_file is not None
    search = LinearSVCCV(
        Cs=Cs, cv=folds, refit=fit_model, max_iter=max_iter, scoring=_count_correct,
        n_jobs=opts["n_jobs"], verbose=0 if opts["quiet"] else 1, **params,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        search.fit(X, y)
    _report_warnings(opts, caught)
    res = search.cv_results_
    # The folds' counts add up to the correct predictions of the whole set.
    accuracy = 100 * np.rint(res["mean_test_score"] * search.n_splits_) / X.shape[0]
    # Results are printed even with -q, as LIBLINEAR does.
    if opts["search"]:
        for C, rate, n_iter in zip(res["param_C"], accuracy, res["max_n_iter"], strict=True):
            _say(opts, f"C = {C:g}  CV accuracy = {rate:g}%  (max iterations {n_iter})")
        print(f"Best C = {search.C_:g}  CV accuracy = {accuracy[search.best_index_]:g}%")
        if fit_model:
            _save_model(model_file, search.best_estimator_)
            _say(opts, f"model with C = {search.C_:g} saved to {model_file}")
    else:
        print(f"Cross Validation Accuracy = {accuracy[0]:g}%")
    _say(opts, f"time: {time.perf_counter() - start:.2f} s")
    return 0


def _regression_scores(pred, y):
    """LIBLINEAR's mean squared error and squared correlation coefficient."""
    n = y.shape[0]
    mse = float(np.mean((pred - y) ** 2))
    sp_, st = pred.sum(), y.sum()
    num = (n * (pred @ y) - sp_ * st) ** 2
    den = (n * (pred @ pred) - sp_ * sp_) * (n * (y @ y) - st * st)
    return mse, float(num / den) if den > 0 else float("nan")


def _cross_validate_regression(opts, params, X, y, start):
    from sklearn.model_selection import KFold

    pred = np.empty_like(y)
    folds = KFold(opts["folds"], shuffle=True, random_state=opts["seed"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        for train, test in folds.split(X):
            est = _estimator(opts, params, regression=True).fit(X[train], y[train])
            pred[test] = est.predict(X[test])
    _report_warnings(opts, caught)
    mse, scc = _regression_scores(pred, y)
    print(f"Cross Validation Mean squared error = {mse:g}")
    print(f"Cross Validation Squared correlation coefficient = {scc:g}")
    _say(opts, f"time: {time.perf_counter() - start:.2f} s")
    return 0


def _report_warnings(opts, caught):
    for w in caught:
        if issubclass(w.category, ConvergenceWarning) and not opts["quiet"]:
            print(f"WARNING: {w.message}", file=sys.stderr)


def cmd_predict(args):
    """``fastlinear predict``: label a LIBSVM file with a LIBLINEAR model."""
    quiet = False
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
            if flag == 1:
                raise CLIError(
                    "probability output (-b 1) is only supported for logistic "
                    "regression; these models are SVMs"
                )
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
    model = load_liblinear_model(model_file)
    regression = isinstance(model, LinearSVR)
    X, y = load_data(test_file, regression=regression)
    X = _fit_width(X, model.n_features_in_)
    pred = model.predict(X)
    if regression:
        text = "".join(f"{p:.17g}\n" for p in pred)
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
    """Entry point of the ``fastlinear`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
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
    except KeyboardInterrupt:
        print(f"fastlinear {command}: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, TypeError, OSError, MemoryError, OverflowError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"fastlinear {command}: error: {message}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        print(f"fastlinear {command}: error: unexpected {type(error).__name__}: "
              f"{str(error).splitlines()[0] if str(error) else ''} (please report this)",
              file=sys.stderr)
        return 2
