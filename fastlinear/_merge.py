"""Identical samples merged into one: the same primal problem on fewer rows.

Two samples with the same features and the same label add the same loss
term, each times its own cost: ``C_a xi(w . x~) + C_b xi(w . x~) = (C_a +
C_b) xi(w . x~)``.  Keeping one row of each group with the group's summed
sample weight therefore leaves the primal objective, its gradient and its
Hessian unchanged (up to the rounding of the sums), and with them the
solution and the stopping tests: scikit-learn's are on ``sum_i C_i`` and on
the gradient, liblinear's relative rules on the gradient at the start, and
liblinear's ``min(#pos, #neg) / n`` factor and the L1 solvers' shrinking
thresholds (``gmax / n``) count the samples each row stands for
(:attr:`fastlinear._problem.LinearProblem.counts`,
:func:`fastlinear._solvers.samples_used`): the iterates are those of the
unmerged fit up to rounding.  Every pass over X then reads fewer rows.  One-hot data repeats itself: a9a has 26,008
distinct (row, label) pairs among 32,561 rows, w8a 34,780 among 49,749.

The deterministic primal solvers of ``LogisticRegression`` and
``LinearSVC``'s primal solvers (``dual=False``) solve the merged rows;
``LinearSVC``'s ``dual_coef_`` is then spread back over the samples (a
primal solution's dual variable is ``C_i`` times a function of the
sample's score, which a group shares).  Dual solvers are left alone (a
merged row's dual box is the group's summed cost: another dual problem and
other passes), and so are the stochastic ones, whose passes visit samples.

The cost: a bound from the ends of each row (``_csr_fast.repeats_at_most``:
rows that differ in their label, length or first or last entry cannot be
the same row), which on text rules merging out at a lookup a row (0.6 ms
on IMDB's 25,000 TF-IDF rows, where hashing every value took 12 ms); else
one pass that hashes every row (``_csr_fast.row_groups``, about 1 ms on
w8a) and, when at least ``MERGE_SHARE`` of the rows repeat another, a copy
of the distinct rows (``_csr_fast.row_subset``, for an X of at most
``MERGE_MAX_BYTES``), kept in the data's ``derived`` values so that a path
over C or a fold's fits make it once.
"""
import dataclasses

import numpy as np

from ._csr_fast import repeats_at_most, row_groups, row_subset

__all__ = ["MERGE_MAX_BYTES", "MERGE_SHARE", "copy_fits", "merge_groups", "merged",
           "merged_problem"]

#: Rows that repeat another row (with the same label), as a share of all
#: rows, from which the primal solvers work on the distinct rows.  Merged
#: against not, one thread, medians of 7 alternated fits on a 2-core AMD
#: EPYC Zen 5 (``bench/results/EXPERIMENTS.md``): a9a (20 % repeats)
#: ``LogisticRegression()`` 1.04-1.05x faster at C = 0.01-100, ``-s 0``
#: 1.24x, ``-s 6`` 1.26x, ``-s 5`` 1.23x; w8a (30 %) 1.05-1.21x, 1.23x,
#: 1.33x, 1.14-1.20x.  The grouping costs about a pass over X, the copy of
#: the distinct rows about four.
MERGE_SHARE = 0.1
#: The largest X (values and indices, in bytes) whose distinct rows are
#: copied: beyond it the fit reads every row rather than hold a second X.
MERGE_MAX_BYTES = 1 << 30


def copy_fits(X):
    """Whether a fit may hold a second copy of the proved ``X`` (its values
    and indices at most ``MERGE_MAX_BYTES``): the merged rows' copy, and
    the transpose of the multinomial solver's gathered products."""
    return X.nnz * (X.data.dtype.itemsize + X.indices.dtype.itemsize) <= MERGE_MAX_BYTES


def merged(data, caller="fit", *, by_length=False):
    """``data`` (``ClassificationData``) with its identical (row, label) pairs
    merged, or ``data`` itself when fewer than ``MERGE_SHARE`` of its rows
    repeat another.

    The merged data keeps the first row of every group, in the order of the
    rows (``by_length``: of their lengths, :func:`merge_groups`); its
    ``sample_weight`` is the group's sum, its ``counts`` the group's
    samples of positive weight, and its ``row_of`` the row of each sample
    of ``data``.  Kept in ``data.derived`` with the sample weights it
    summed: a path over C, or a fold's fits, merge once.
    """
    cache = data.derived
    key = f"merged_data/{by_length}"
    if cache is not None and key in cache:
        weights, result = cache[key]
        if weights is data.sample_weight:   # the same data, not other weights of it
            return result
    groups = merge_groups(data, caller, by_length=by_length)
    if groups is None:
        return data
    rows, inverse, X = groups
    sample_weight = np.bincount(inverse, data.sample_weight, minlength=rows.size)
    counts = np.bincount(inverse, data.sample_weight > 0, minlength=rows.size)
    # What solvers derive from the merged rows is kept apart from what they
    # derive from all rows (a transposed X of either shape).
    derived = None
    if cache is not None:
        derived = cache.setdefault(f"merged_derived/{by_length}", {})
    result = data._replace(X=X, y_ind=data.y_ind[rows], sample_weight=sample_weight,
                           counts=counts, derived=derived, row_of=inverse)
    if cache is not None:
        cache[key] = (data.sample_weight, result)   # a path over C merges once
    return result


def merge_groups(data, caller="fit", *, by_length=False):
    """``(rows, inverse, X[rows])`` of ``data``: the first row of each group
    of identical (row, label) pairs, the group of every row and the proof
    of the distinct rows; None when merging does not pay
    (``MERGE_SHARE``).  Kept in ``data.derived``: found once per data.

    ``by_length`` puts the distinct rows in order of their number of
    stored values (stably: the first rows of the groups, in the order of
    the rows, within one length), for the solvers that read X by rows.
    Their passes then meet rows of one length in runs: the branch predictor
    learns each row's loops and the fused logistic pass takes its ``exp``
    and ``log1p`` a block at a time (``_newton_fast``, rule 4).  w8a, whose
    rows vary in length: ``LogisticRegression`` 1.20-1.29x faster at
    C = 0.01, 1 and 100, ``LinearSVC(dual=False)`` 1.03-1.04x.  The solvers
    that read columns keep the rows' order: w8a's L1 fits (newGLMNET) were
    1.1x slower on the sorted rows."""
    cache = data.derived
    key = f"merged/{by_length}"
    if cache is not None and key in cache:
        return cache[key]
    groups = _groups(data, caller, by_length)
    if cache is not None:
        cache[key] = groups
    return groups


def merged_problem(problem, groups):
    """The binary problem ``problem`` (of the data ``groups`` came from, by
    :func:`merge_groups`) on the distinct rows: each row's cost the sum of
    its group's.  Its primal function, gradient and Hessian are
    ``problem``'s (up to the rounding of the sums)."""
    rows, inverse, X = groups
    cost = np.bincount(inverse, problem.cost, minlength=rows.size)
    counts = np.bincount(inverse, problem.cost > 0, minlength=rows.size)
    return dataclasses.replace(problem, X=X, y=problem.y[rows], cost=cost, counts=counts)


def _groups(data, caller, by_length):
    """``(rows, inverse, X[rows])``: the first row of each group (in order of
    their lengths with ``by_length``), the group of every row, and the
    proof of the distinct rows; None when they do not pay
    (``MERGE_SHARE``)."""
    X = data.X
    n = X.n_rows
    if n == 0 or data.counts is not None:
        return None
    if not copy_fits(X):
        return None
    least = int(np.ceil(MERGE_SHARE * n))       # repeats from which merging pays
    if repeats_at_most(X, data.y_ind, stop_at=least) < least:
        return None     # text: the rows' ends already differ
    first = row_groups(data.X, data.y_ind)
    keep = first == np.arange(n)
    rows = np.flatnonzero(keep)
    if n - rows.size < least:
        return None
    position = np.cumsum(keep) - 1          # each kept row's place among them
    if by_length:
        order = _stable_order(np.diff(X.indptr)[rows])
        rows = rows[order]
        place = np.empty_like(order)
        place[order] = np.arange(order.size)
        position = place[position]
    inverse = position[first]
    return rows, inverse, row_subset(data.X, rows, caller=caller)


def _stable_order(lengths):
    """``np.argsort(lengths, kind="stable")`` for row lengths (>= 0): on a
    16-bit copy where they fit, which NumPy sorts by radix, in one pass per
    byte, where 64-bit keys take its merge sort (w8a's 34,780 distinct rows:
    0.11 ms against 1.2 ms)."""
    if lengths.size and int(lengths.max()) <= np.iinfo(np.uint16).max:
        lengths = lengths.astype(np.uint16)
    return np.argsort(lengths, kind="stable")
