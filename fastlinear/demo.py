"""``fastlinear demo``: the course assignment's experiment, end to end.

Question 2 of the assignment: 3-fold cross-validation of a linear SVM over
C in {0.01, 0.1, 1, 10, 100}, a refit with the best C and its test accuracy,
on the bundled a9a/a9a.t (or on the LIBSVM files given).  It prints Table 1
(mean +- 2 std CV accuracy per C) and Table 2 (C* and its test accuracy),
:class:`fastlinear.LinearSVCCV` (``dual="auto"``) side by side with the
assignment's plain loop over ``sklearn.svm.LinearSVC``, run twice: with the
assignment's settings (``dual=True, max_iter=60000``, which takes minutes on
a9a) and with scikit-learn's defaults, and the time each took.
"""
import argparse
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._progress import ProgressBar
from .cli import DEFAULT_CS, CLIError, _check_file, _float_list
from .datasets import load_libsvm_files
from .model_selection import LinearSVCCV

__all__ = ["main"]


def _demo_parser():
    parser = argparse.ArgumentParser(
        prog="fastlinear demo",
        description=(
            "The assignment's experiment: 3-fold CV of LinearSVC over a C grid, "
            "refit with the best C, test accuracy; fastlinear.LinearSVCCV side by "
            "side with the plain loop over sklearn.svm.LinearSVC, with the assignment's "
            "settings (dual=True, max_iter=60000) and with scikit-learn's defaults."
        ),
    )
    parser.add_argument("--train", help="training LIBSVM file (default: the bundled a9a)")
    parser.add_argument("--test", help="test LIBSVM file (default: the bundled a9a.t)")
    parser.add_argument("--Cs", type=_c_values, default=list(DEFAULT_CS),
                        help="comma-separated C grid (default 0.01,0.1,1,10,100)")
    parser.add_argument("--cv", type=int, default=3, help="number of folds (default 3)")
    parser.add_argument("--tol", type=float, default=1e-4, help="stopping tolerance (default 1e-4)")
    parser.add_argument("--max-iter", type=int, default=60000,
                        help="max passes per fit (default 60000, as the assignment)")
    parser.add_argument("--n-jobs", type=int, default=-1,
                        help="threads over the folds for fastlinear (default -1: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of every side (default 0)")
    parser.add_argument("--no-sklearn", action="store_true",
                        help="skip both scikit-learn loops (the assignment's takes minutes)")
    return parser


def _sklearn_sides(tol, max_iter):
    """The scikit-learn loops: ``(label, parameters besides C and
    random_state, what was run, the settings compared)``.

    The assignment forces the dual solver to convergence; scikit-learn's
    defaults (``dual="auto"``) pick the primal solver when n_samples >
    n_features, as fastlinear's ``dual="auto"`` does.
    """
    from sklearn.svm import LinearSVC as SkLinearSVC

    d = SkLinearSVC().get_params()
    defaults = f"dual={d['dual']!r}, tol={d['tol']:g}, max_iter={d['max_iter']}"
    assignment = f"dual=True, tol={tol:g}, max_iter={max_iter}"
    return [
        ("sklearn", dict(dual=True, tol=tol, max_iter=max_iter),
         f"the assignment's loop (cross_val_score per C, then a refit) over "
         f"sklearn.svm.LinearSVC({assignment})",
         f"the assignment's settings ({assignment})"),
        ("sklearn defaults", {},
         f"the same loop over sklearn.svm.LinearSVC() with scikit-learn's defaults ({defaults})",
         f"its defaults ({defaults})"),
    ]


def _sklearn_loop(X, y, Xt, yt, Cs, cv, seed, params, label):
    """The assignment's loop, verbatim: cross_val_score per C, then a refit.

    Returns (scores of shape (n_Cs, cv), C*, correct test predictions,
    seconds, number of ConvergenceWarnings).
    """
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import LinearSVC as SkLinearSVC

    bar = ProgressBar(len(Cs), label=f"{label:<17}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        scores = []
        for C in Cs:
            model = SkLinearSVC(C=C, random_state=seed, **params)
            scores.append(cross_val_score(model, X, y, cv=cv))
            bar.update(1, f"C={C:g}")
        scores = np.array(scores)
        best = int(np.argmax(scores.mean(axis=1)))
        model = SkLinearSVC(C=Cs[best], random_state=seed, **params)
        model.fit(X, y)
        pred = model.predict(Xt)
        elapsed = time.perf_counter() - start
    stuck = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return scores, Cs[best], int(np.sum(pred == yt)), elapsed, stuck


def _c_values(text):
    """``--Cs`` for argparse, which prints an ArgumentTypeError's own words."""
    try:
        return _float_list(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(args=None):
    """``fastlinear demo``: Tables 1 and 2 of the assignment, fastlinear and scikit-learn."""
    ns = _demo_parser().parse_args(args)
    if (ns.train is None) != (ns.test is None):
        raise CLIError("give both --train and --test, or neither (the bundled a9a/a9a.t)")
    if ns.cv < 2:
        raise CLIError(f"--cv needs at least 2 folds, got {ns.cv}")
    Cs = sorted(set(ns.Cs))
    if ns.train is None:
        from .datasets import load_a9a

        X, y, Xt, yt = load_a9a()
        names = ("a9a", "a9a.t")
    else:
        for path in (ns.train, ns.test):
            _check_file(path, "data file")
        X, y, Xt, yt = load_libsvm_files([ns.train, ns.test], zero_based=False)
        names = (os.path.basename(ns.train), os.path.basename(ns.test))
    print(f"train: {names[0]} {X.shape[0]} x {X.shape[1]}, test: {names[1]} {Xt.shape[0]} x {Xt.shape[1]}")
    print(f"{ns.cv}-fold CV over C = {', '.join(f'{c:g}' for c in Cs)}, then a refit with the best C:")
    print(f"  {'fastlinear:':<17} fastlinear.LinearSVCCV(dual='auto', tol={ns.tol:g}, max_iter={ns.max_iter}), "
          f"one warm-started path per fold, n_jobs={ns.n_jobs}")
    sides = [] if ns.no_sklearn else _sklearn_sides(ns.tol, ns.max_iter)
    for label, _, what, _ in sides:
        print(f"  {label + ':':<17} {what}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        search = LinearSVCCV(
            Cs=Cs, cv=ns.cv, tol=ns.tol, max_iter=ns.max_iter, n_jobs=ns.n_jobs,
            random_state=ns.seed, verbose=1,
        )
        search.fit(X, y)
        fl_correct = int(np.sum(search.predict(Xt) == yt))
        fl_time = time.perf_counter() - start
    fl_stuck = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    fl_scores = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(search.n_splits_)]).T
    results = [(label, _sklearn_loop(X, y, Xt, yt, Cs, ns.cv, ns.seed, params, label))
               for label, params, _, _ in sides]

    print()
    print(f"Table 1: {ns.cv}-fold cross-validation accuracy on {names[0]} (mean ± 2·std)")
    print(f"{'C':>8}   {'fastlinear':>19}" + "".join(f"   {label:>19}" for label, _ in results))
    for j, C in enumerate(Cs):
        row = f"{C:>8g}   {fl_scores[j].mean():.5f} ± {2 * fl_scores[j].std():.5f}"
        row += "*" if j == search.best_index_ else " "
        for _, (scores, best_C, _, _, _) in results:
            mark = "*" if C == best_C else " "
            row += f"  {scores[j].mean():.5f} ± {2 * scores[j].std():.5f}{mark}"
        print(row)
    print("(* = C*, the best mean)")
    print()
    print(f"Table 2: test accuracy on {names[1]} with C*, and time of the whole experiment (CV + refit)")
    print(f"{'':<17}{'C*':>8}   {'test accuracy':<26}{'time':>8}")
    n = len(yt)
    print(f"{'fastlinear':<17}{search.C_:>8g}   {f'{fl_correct / n:.6f} ({fl_correct}/{n})':<26}{fl_time:>7.2f}s")
    for label, (_, best_C, correct, elapsed, _) in results:
        print(f"{label:<17}{best_C:>8g}   {f'{correct / n:.6f} ({correct}/{n})':<26}{elapsed:>7.2f}s")
    for (_, (_, _, _, elapsed, _)), (_, _, _, settings) in zip(results, sides, strict=True):
        print(f"speed-up of fastlinear (dual='auto') over scikit-learn with {settings}: {elapsed / fl_time:.1f}x")
    stuck = [("fastlinear", fl_stuck)] + [(label, r[4]) for label, r in results]
    for label, count in stuck:
        if count:
            print(f"note: {label}: {count} fit(s) stopped at max_iter; their figures are not those "
                  "of the optimum" + (" (raise --max-iter)" if label != "sklearn defaults" else ""))
    return 0
