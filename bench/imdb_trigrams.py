"""LinearSVC on IMDB's 1-3-gram TF-IDF (float32): fastlinear against scikit-learn, defaults.

``LinearSVC(C=C, loss=loss, random_state=r)`` from both libraries with their
defaults otherwise (``dual="auto"``, ``tol=1e-4``, ``max_iter=1000``), on the
25,000 x 902,253 float32 TF-IDF (10.1M nonzeros) of ``workloads.imdb_trigrams``, one thread,
fits alternated in one process (``--rounds`` rounds, round ``r`` seeded
``r``; medians).  Beside each time: the iterations (passes or Newton steps),
whether the fit raised a ConvergenceWarning, the primal objective summed as
``linear_svc_objective`` does, and fastlinear's objective relative to
scikit-learn's (``gap``: negative is lower).  scikit-learn converts float32
input to float64; fastlinear keeps it.

    FASTLINEAR_DATA=/path/to/data python bench/imdb_trigrams.py --rounds 3

The first run builds the matrix (under a minute) and caches it.
"""
import argparse
import platform
import statistics

import numpy as np
from sklearn.svm import LinearSVC as SkLinearSVC
from threadpoolctl import threadpool_limits

from fastlinear import LinearSVC

import workloads as wl
from hinge_large_c import fit, objective


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--Cs", default="1")
    parser.add_argument("--losses", default="squared_hinge,hinge")
    args = parser.parse_args()
    try:
        X, y, _, _ = wl.load_workload("imdb13", dtype=np.float32)
    except wl.DataUnavailable as error:
        raise SystemExit(f"skipped: {error}") from None
    print(f"# IMDB 1-3-gram TF-IDF, {wl.describe(X)}, {X.dtype}; "
          f"{platform.processor() or platform.machine()}, one thread, {args.rounds} rounds")
    print("| loss | C | sklearn s (it, warned) | fastlinear s (it, solver, warned) | "
          "speed-up | gap |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for loss in args.losses.split(","):
            for C in (float(c) for c in args.Cs.split(",")):
                times = {"sk": [], "fl": []}
                for r in range(args.rounds):
                    order = (("sk", SkLinearSVC), ("fl", LinearSVC))
                    for key, cls in (order if r % 2 == 0 else order[::-1]):
                        est, seconds, converged = fit(cls, X, y, C, loss=loss, seed=r)
                        warned = not converged
                        times[key].append(seconds)
                        if key == "sk":
                            sk, sk_warned = est, warned
                        else:
                            ours, our_warned = est, warned
                p_sk, p_ours = objective(sk, X, y), objective(ours, X, y)
                t_sk, t_ours = statistics.median(times["sk"]), statistics.median(times["fl"])
                print(f"| {loss} | {C:g} | {t_sk:.2f} ({int(np.max(sk.n_iter_))}, {sk_warned}) | "
                      f"{t_ours:.2f} ({int(np.max(ours.n_iter_))}, {ours.solver_}, "
                      f"{our_warned}) | {t_sk / t_ours:.2f}x | "
                      f"{(p_ours - p_sk) / abs(p_sk):+.1e} |", flush=True)


if __name__ == "__main__":
    main()
