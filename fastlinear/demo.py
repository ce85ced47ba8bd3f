"""``fastlinear demo``: the course assignment's experiment, end to end.

Question 2 of the assignment: 3-fold cross-validation of a linear SVM over
C in {0.01, 0.1, 1, 10, 100}, a refit with the best C and its test accuracy,
on the bundled a9a/a9a.t (or on the LIBSVM files given).  It prints Table 1
(mean +- 2 std CV accuracy per C) and Table 2 (C* and its test accuracy),
:class:`fastlinear.LinearSVCCV` side by side with the assignment's plain loop
over ``sklearn.svm.LinearSVC`` and the time each took.
"""
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
    import argparse

    parser = argparse.ArgumentParser(
        prog="fastlinear demo",
        description=(
            "The assignment's experiment: 3-fold CV of LinearSVC over a C grid, "
            "refit with the best C, test accuracy; fastlinear.LinearSVCCV side by "
            "side with the plain loop over sklearn.svm.LinearSVC."
        ),
    )
    parser.add_argument("--train", help="training LIBSVM file (default: the bundled a9a)")
    parser.add_argument("--test", help="test LIBSVM file (default: the bundled a9a.t)")
    parser.add_argument("--Cs", type=_float_list, default=list(DEFAULT_CS),
                        help="comma-separated C grid (default 0.01,0.1,1,10,100)")
    parser.add_argument("--cv", type=int, default=3, help="number of folds (default 3)")
    parser.add_argument("--tol", type=float, default=1e-4, help="stopping tolerance (default 1e-4)")
    parser.add_argument("--max-iter", type=int, default=60000,
                        help="max passes per fit (default 60000, as the assignment)")
    parser.add_argument("--n-jobs", type=int, default=-1,
                        help="threads over the folds for fastlinear (default -1: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of both sides (default 0)")
    parser.add_argument("--no-sklearn", action="store_true",
                        help="skip the (slower) sklearn loop")
    return parser


def _sklearn_loop(X, y, Xt, yt, Cs, cv, tol, max_iter, seed):
    """The assignment's loop, verbatim: cross_val_score per C, then a refit."""
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import LinearSVC as SkLinearSVC

    bar = ProgressBar(len(Cs), label="sklearn    ")
    start = time.perf_counter()
    scores = []
    for C in Cs:
        model = SkLinearSVC(C=C, dual=True, tol=tol, max_iter=max_iter, random_state=seed)
        scores.append(cross_val_score(model, X, y, cv=cv))
        bar.update(1, f"C={C:g}")
    scores = np.array(scores)
    best = int(np.argmax(scores.mean(axis=1)))
    model = SkLinearSVC(C=Cs[best], dual=True, tol=tol, max_iter=max_iter, random_state=seed)
    model.fit(X, y)
    pred = model.predict(Xt)
    return scores, Cs[best], int(np.sum(pred == yt)), time.perf_counter() - start


def main(args=None):
    """``fastlinear demo``: Tables 1 and 2 of the assignment, both implementations."""
    ns = _demo_parser().parse_args(args)
    if (ns.train is None) != (ns.test is None):
        raise CLIError("give both --train and --test, or neither (the bundled a9a/a9a.t)")
    if ns.cv < 2:
        raise CLIError(f"--cv needs at least 2 folds, got {ns.cv}")
    if any(c <= 0 or not np.isfinite(c) for c in ns.Cs):
        raise CLIError(f"--Cs values must be finite numbers > 0, got {ns.Cs}")
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
    print(f"{ns.cv}-fold CV over C = {', '.join(f'{c:g}' for c in Cs)}; tol={ns.tol:g}, max_iter={ns.max_iter}")

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
        sk = None
        if not ns.no_sklearn:
            sk = _sklearn_loop(X, y, Xt, yt, Cs, ns.cv, ns.tol, ns.max_iter, ns.seed)
    fl_scores = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(search.n_splits_)]).T

    print()
    print(f"Table 1: {ns.cv}-fold cross-validation accuracy on {names[0]} (mean ± 2·std)")
    header = f"{'C':>8}   {'fastlinear':>19}"
    if sk is not None:
        header += f"   {'sklearn':>19}"
    print(header)
    for j, C in enumerate(Cs):
        row = f"{C:>8g}   {fl_scores[j].mean():.5f} ± {2 * fl_scores[j].std():.5f}"
        row += "*" if j == search.best_index_ else " "
        if sk is not None:
            sk_scores = sk[0]
            mark = "*" if C == sk[1] else " "
            row += f"  {sk_scores[j].mean():.5f} ± {2 * sk_scores[j].std():.5f}{mark}"
        print(row)
    print("(* = C*, the best mean)")
    print()
    print(f"Table 2: test accuracy on {names[1]} with C*, and time of the whole experiment (CV + refit)")
    print(f"{'':<11}{'C*':>8}   {'test accuracy':<26}{'time':>8}")
    n = len(yt)
    print(f"{'fastlinear':<11}{search.C_:>8g}   {f'{fl_correct / n:.6f} ({fl_correct}/{n})':<26}{fl_time:>7.2f}s")
    if sk is not None:
        print(f"{'sklearn':<11}{sk[1]:>8g}   {f'{sk[2] / n:.6f} ({sk[2]}/{n})':<26}{sk[3]:>7.2f}s")
        print(f"speed-up of fastlinear: {sk[3] / fl_time:.1f}x")
    stuck = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if stuck:
        print(f"note: {len(stuck)} fit(s) stopped at max_iter; raise --max-iter for converged figures")
    return 0
