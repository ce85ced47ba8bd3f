"""Distributed linear SVM on Dask: CoCoA+ rounds around the same DCD kernel.

``fastlinear.dask.LinearSVC`` trains the problem of :class:`fastlinear.LinearSVC`
on data spread over the workers of a ``dask.distributed`` cluster, as row
blocks of CSR matrices.  It needs the optional extra
``pip install "fastlinear[dask]"``; importing :mod:`fastlinear` does not
import dask.

The algorithm is CoCoA+ (Ma, Smith, Jaggi et al., "Adding vs. Averaging in
Distributed Primal-Dual Optimization", ICML 2015) with the ``adding``
aggregation (gamma = 1) and the safe subproblem scaling sigma' = K, the
number of blocks.  Each round, every block runs ``local_passes`` passes of
the Cython dual coordinate descent kernel (``fastlinear._dual_cd_fast``) on
its own dual variables against the round's global ``w``, with
``Qbar_ii = K ||x_i||^2 + D_ii``, and returns its ``Delta w``; the new
``w`` is the old one plus the sum of the ``Delta w``.

Design rules of this module:

1. Data never move to the driver.  A block's CSR arrays, labels, costs and
   dual variables live in worker memory; per round only ``w`` (to each
   block) and ``Delta w`` (from each block) cross the network, each of
   ``n_problems * (n_features + 1)`` float64, plus a few scalars per block
   to the driver.
2. Every round is a set of Dask tasks that are pure, deterministic
   functions of their inputs: the block data (a task of the user's graph),
   the block's previous dual state, the round's ``w`` and a seed drawn up
   front.  ``w`` itself is a task (the sum of the previous ``w`` and the
   blocks' ``Delta w``, in block order), never scattered data, so every
   value of the fit has lineage.  When a worker dies, Dask recomputes what
   it held by replaying those tasks, which gives the same bits: the fitted
   model is the one a fit without failure gives.  When Dask cannot
   recompute (the blocks were scattered futures held by the dead worker,
   or a task killed workers repeatedly), ``fit`` raises a ``RuntimeError``
   that says so; it never returns a model built from inconsistent state.
3. Each round first evaluates, at the ``w`` it receives and the dual
   variables that produced it (``w = sum_i y_i alpha_i x_i``), the block's
   sums ``sum_i C_i loss_i(w)`` and ``sum_i (D_ii alpha_i^2 / 2 - alpha_i)``,
   then runs the local passes.  The driver adds the sums to the duality gap
   ``P(w) + D(alpha)`` of that ``w``; a problem stops at the first ``w``
   whose gap is at most ``tol * P(w)``, and that certified ``w`` is the
   model.  After ``max_rounds`` update rounds, one evaluation-only round
   measures the gap of the last ``w``.
4. Seeds are drawn from ``random_state`` round by round, as the rounds run
   (never ``max_rounds`` of them up front):
   ``rng.randint(2**31 - 1, size=(n_blocks, n_problems))`` in round ``t``
   holds the seed of block ``k``, problem ``p`` at ``[k, p]``.
   With one block and one round this is the seed :class:`fastlinear.LinearSVC`
   draws, and the fit is that of ``fastlinear.LinearSVC(max_iter=local_passes)``
   bit for bit (sigma' = 1: CoCoA+ on one block is plain DCD).
5. One-vs-rest problems share the rounds: every task handles all binary
   problems of its block; a problem that has met ``tol`` stops running the
   kernel.
"""
import asyncio
import concurrent.futures
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "fastlinear.dask needs dask and distributed; install them with "
        'pip install "fastlinear[dask]" (or pip install "dask[distributed]").'
    ) from exc

from ._base import CheckedLinearClassifierMixin, predicted_labels
from ._problem import OneVsRest
from ._solvers import dual_cd
from ._validation import (
    MAX_INT,
    check_class_weight,
    check_labels_finite,
    check_sample_weight,
    check_sparse_structure,
    encode_known,
    proved_csr,
)

__all__ = ["LinearSVC"]

#: Tolerance handed to the kernel inside a round: the round runs its
#: ``local_passes`` passes unless the block's subproblem is solved exactly.
_LOCAL_TOL = 1e-12


# --------------------------------------------------------------------------
# Worker side: block data and per-round state (module level, so picklable)
# --------------------------------------------------------------------------
class _RawBlock:
    """A validated row block: CSR arrays of X and its labels."""

    def __init__(self, csr, y, dtype):
        self.csr = csr
        self.y = y
        self.dtype = dtype


class _Block:
    """A block ready for the kernel: its binary problems (``OneVsRest``)."""

    def __init__(self, problems):
        self.problems = problems


class _State:
    """Dual variables of a block after a round, with that round's results.

    ``delta`` is the block's ``Delta w`` (zeros for problems that did not
    run), ``primal``/``dual`` the block's sums evaluated at the ``w`` the
    round received and the ``alpha`` it started from, ``wsq`` = ``||w||^2``
    of that ``w`` per problem.
    """

    def __init__(self, alpha, delta, primal, dual, wsq):
        self.alpha = alpha
        self.delta = delta
        self.primal = primal
        self.dual = dual
        self.wsq = wsq


def _check_block(X, y, index):
    """Validate one row block on its worker (never on the driver)."""
    caller = f"fastlinear.dask.LinearSVC.fit (block {index})"
    if sp.issparse(X):
        check_sparse_structure(X, caller=caller)
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                    order="C", accept_large_sparse=True, ensure_min_samples=0,
                    input_name="X")
    if not sp.issparse(X):
        X = sp.csr_matrix(X)
    csr = proved_csr(X, caller=caller)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != csr.n_rows:
        raise ValueError(
            f"{caller}: the block of X has {csr.n_rows} rows but its block "
            f"of y has shape {y.shape}; X and y must be split into the same "
            "row blocks (rechunk y to X.chunks[0])."
        )
    try:
        check_labels_finite(y)
    except ValueError as error:
        raise ValueError(f"{caller}: {error}") from None
    return _RawBlock(csr, y, X.dtype)


def _block_summary(raw):
    """Shape, dtype, labels and label counts of a block (small)."""
    labels, counts = np.unique(raw.y, return_counts=True)
    return raw.csr.shape, raw.dtype, labels, counts, type_of_target(raw.y)


def _make_block(raw, classes, class_weight, class_counts, C, loss, bias):
    """The block's binary problems, with class weights from the global counts."""
    y_ind = encode_known(classes, raw.y)
    ovr = OneVsRest(raw.csr, y_ind, classes, C, class_weight,
                    check_sample_weight(None, raw.csr.n_rows), loss, bias,
                    class_counts=class_counts)
    return _Block(ovr)


def _initial_w(n_problems, n_features):
    """The first round's input, shaped like a reducer's output: ``(w, sums)``."""
    return np.zeros((n_problems, n_features + 1), dtype=np.float64), None


def _local_step(block, state, w, seeds, active, update, sigma, local_passes,
                shrinking):
    """One CoCoA+ round on one block: evaluate at ``w``, then local passes.

    Returns a new :class:`_State` (the input state is never modified, so a
    recomputed task gives the same result).
    """
    w = w[0]  # (w, sums of the previous round)
    ovr = block.problems
    n_problems, n = ovr.n_problems, ovr.X.n_rows
    alpha = (np.zeros((n_problems, n), dtype=np.float64) if state is None
             else state.alpha.copy())
    delta = np.zeros_like(w)
    primal = np.zeros(n_problems)
    dual = np.zeros(n_problems)
    wsq = np.einsum("ij,ij->i", w, w)
    for p in range(n_problems):
        if not active[p]:
            continue
        problem = ovr.problem(p)
        # The block's sums at the round's w and the alpha that produced it:
        # P = 1/2 ||w||^2 + sum over blocks, D likewise (fastlinear._problem).
        primal[p] = problem.loss_sum(problem.scores(w[p]))
        dual[p] = problem.dual_sum(alpha[p])
        if update and n > 0:
            sol = dual_cd(problem, tol=_LOCAL_TOL, max_iter=int(local_passes),
                          seed=int(seeds[p]), shrinking=bool(shrinking),
                          alpha0=alpha[p], w=w[p].copy(), sigma=float(sigma))
            alpha[p] = sol.alpha
            delta[p] = (sol.w - w[p]) / sigma
    return _State(alpha, delta, primal, dual, wsq)


def _small(state):
    """What leaves a block's worker: ``(Delta w, primal sums, dual sums, ||w||^2)``.

    Runs where the state is, so the dual variables never travel.
    """
    return state.delta, state.primal, state.dual, state.wsq


def _reduce(w, *smalls):
    """The next round's input ``(w + sum_k Delta w_k, sums)``, in block order.

    ``sums`` are the blocks' primal sums, dual sums and ``||w||^2`` of this
    round, for the driver.  One task reads each ``Delta w`` once.
    """
    w = w[0].copy()
    for small in smalls:
        w += small[0]
    sums = (np.array([s[1] for s in smalls]), np.array([s[2] for s in smalls]),
            smalls[0][3])
    return w, sums


def _sums_of(reduced):
    return reduced[1]


def _decision_block(X, coef, intercept, ravel):
    scores = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    return scores.ravel() if ravel else scores


def _predict_block(X, coef, intercept, classes):
    return predicted_labels(classes, np.asarray(X @ coef.T, dtype=np.float64) + intercept)


# --------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------
_RECOVERABLE = (concurrent.futures.CancelledError, asyncio.CancelledError,
                distributed.scheduler.KilledWorker)


def _is_dask_collection(obj):
    return dask.is_dask_collection(obj)


class LinearSVC(CheckedLinearClassifierMixin, BaseEstimator):
    """Linear SVM trained on a Dask cluster by CoCoA+ around the DCD kernel.

    Solves the problem of :class:`fastlinear.LinearSVC` (same ``C``, loss,
    intercept and class weights) on data split into row blocks that stay
    on the workers.  Each round every block runs ``local_passes`` passes of
    the same Cython dual coordinate descent kernel on its own dual
    variables; the blocks' updates of ``w`` are added (CoCoA+).  Training
    stops on the global duality gap.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength; must be strictly positive.
    loss : {"hinge", "squared_hinge"}, default="squared_hinge"
        ``"hinge"`` is the L1-loss SVM, ``"squared_hinge"`` the L2-loss SVM.
    tol : float, default=1e-3
        Stop a binary problem at the first ``w`` whose duality gap
        ``P(w) + D(alpha)`` is at most ``tol * P(w)``: that ``w`` is then
        within ``tol`` (relative) of the optimal primal objective.
    max_rounds : int, default=100
        Maximal number of CoCoA+ rounds (communication rounds).
    local_passes : int, default=1
        Passes of dual coordinate descent each block runs per round.  More
        passes, slightly fewer rounds, but each pass costs one sweep over the
        block: on 50,000 rows of a synthetic text-like set (50,000 features,
        about 75 nonzeros per row; ``bench/workloads.py``) in 4 blocks, 1, 2,
        5 and 20 passes took 51, 45, 43 and 43 rounds to a 1e-3 gap, so one
        pass needs the fewest sweeps; raise it when a round's communication
        costs more than a few sweeps.
    fit_intercept : bool, default=True
        Whether to fit an intercept (the weight of a constant feature of
        value ``intercept_scaling``, regularised, as liblinear).
    intercept_scaling : float, default=1.0
        Value of that constant feature.
    class_weight : dict, "balanced" or None, default=None
        Multiply ``C`` by ``class_weight[k]`` for the samples of class ``k``.
    shrinking : bool, default=True
        liblinear's shrinking inside the local passes of a round.
    random_state : int, RandomState instance or None, default=None
        Seeds the visiting orders: round ``t`` draws one seed per block and
        binary problem from it, in order.  The same seed and the same blocks
        give the same model, whatever the cluster.
    client : distributed.Client, default=None
        Cluster to run on.  ``None`` uses the current client
        (``distributed.default_client()``), or, when there is none, starts a
        ``LocalCluster`` of worker processes on the local machine for the fit
        and closes it afterwards.
    callback : callable, default=None
        Called after every round with that round's history record (a dict,
        see ``history_``); for progress reports.
    verbose : int, default=0
        Print one line per round.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights, of the dtype of X.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        ``intercept_scaling`` times the weight of the constant feature.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_iter_ : int
        Number of update rounds behind the returned ``w`` (the largest over
        the binary problems).
    n_blocks_ : int
        Number of row blocks.
    duality_gap_ : ndarray of shape (n_problems,)
        Duality gap of the returned ``w`` of each binary problem, relative
        to its primal objective.
    objective_ : ndarray of shape (n_problems,)
        Primal objective of the returned ``w`` of each binary problem.
    history_ : list of dict
        One record per round ``t``: ``round``, ``gap`` (largest relative gap
        at the round's ``w`` over the problems still running), ``primal``
        and ``dual`` (sums over those problems), ``time`` (seconds since the
        start of the rounds), ``round_time``, ``bytes`` (bytes of ``w`` sent
        to the blocks plus ``Delta w`` sent back plus the scalars read by
        the driver; an upper bound of the network traffic, since a transfer
        between tasks on one worker is free) and ``active`` (problems still
        running).
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    fastlinear.LinearSVC : the single-machine estimator (same problem).

    Notes
    -----
    With ``K`` blocks, CoCoA+ block ``k`` minimises, over its dual variables
    ``alpha_[k]``, the local model of the dual around the round's ``w``:
    ``w.(A_k d) + K/2 ||A_k d||^2 + sum_{i in k} (D_ii/2 (a_i + d_i)^2 - d_i)``
    with ``A_k d = sum_{i in k} y_i d_i x_i``; the kernel does so with
    ``sigma = K``.  Adding the blocks' ``Delta w = A_k d`` keeps
    ``w = sum_i y_i alpha_i x_i`` and decreases the dual objective every
    round (Ma et al., 2015, with gamma = 1, sigma' = K).

    The number of rounds grows with ``K``, most when some direction is
    shared by every block: the intercept's constant feature, or the frequent
    features of nonnegative (TF-IDF) data.  Each block's local problem then
    sees the full stiffness of that direction and the blocks move weight
    along it between each other only slowly (a cancellation across blocks is
    free in the global problem but penalised in every local one).  Measured
    on a 1,200 x 300 set with signed features (C=0.1, 8 blocks) the relative
    gap falls below 1e-8 in 36 rounds without intercept, but is still 7e-3
    after 36 rounds with one; on the nonnegative synthetic 200k x 50k set,
    2 blocks need 60 rounds to a 1e-3 gap with or without intercept, one
    block 2-3 (``bench/bench_dask.py``).  The primal objective converges
    faster than the gap.

    References
    ----------
    C. Ma, V. Smith, M. Jaggi, M. I. Jordan, P. Richtarik and M. Takac.
    "Adding vs. Averaging in Distributed Primal-Dual Optimization." ICML 2015.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from fastlinear.dask import LinearSVC
    >>> from fastlinear.datasets import load_a9a
    >>> X, y, X_test, y_test = load_a9a()
    >>> with LocalCluster(n_workers=2, threads_per_worker=1,
    ...                   dashboard_address=None) as cluster, Client(cluster):
    ...     Xd = da.from_array(X, chunks=(16384, X.shape[1]), asarray=False)
    ...     yd = da.from_array(y, chunks=16384)
    ...     clf = LinearSVC(C=0.1, tol=1e-2, random_state=0).fit(Xd, yd)
    >>> round(clf.score(X_test, y_test), 2)
    0.85
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "loss": [StrOptions({"hinge", "squared_hinge"})],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_rounds": [Interval(Integral, 1, MAX_INT, closed="both")],
        "local_passes": [Interval(Integral, 1, MAX_INT, closed="both")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0.0, None, closed="neither")],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "shrinking": ["boolean"],
        "random_state": ["random_state"],
        "client": [None, distributed.Client],
        "callback": [None, callable],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        C=1.0,
        *,
        loss="squared_hinge",
        tol=1e-3,
        max_rounds=100,
        local_passes=1,
        fit_intercept=True,
        intercept_scaling=1.0,
        class_weight=None,
        shrinking=True,
        random_state=None,
        client=None,
        callback=None,
        verbose=0,
    ):
        self.C = C
        self.loss = loss
        self.tol = tol
        self.max_rounds = max_rounds
        self.local_passes = local_passes
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.shrinking = shrinking
        self.random_state = random_state
        self.client = client
        self.callback = callback
        self.verbose = verbose

    def __sklearn_clone__(self):
        """scikit-learn's ``clone`` with ``client`` handed on as it is: a
        Client is a connection, shared by the clones (``clone`` deep-copies
        the parameters that are not estimators, and a Client cannot be
        copied: ``GridSearchCV`` and ``cross_val_score`` failed)."""
        params = self.get_params(deep=False)
        client = params.pop("client")
        return type(self)(**{name: clone(value, safe=False) for name, value in params.items()},
                          client=client)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model on row blocks held by the cluster.

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features), or list of blocks
            A Dask array whose chunks are CSR matrices (or dense arrays),
            split along rows only (one chunk along the columns), e.g.
            ``da.from_array(X_csr, chunks=(rows, n_features), asarray=False)``
            or ``da.map_blocks`` over a loader; or a list of futures or
            ``dask.delayed`` objects, one CSR row block each.
        y : dask array, list of blocks, or array-like of shape (n_samples,)
            Class labels.  A Dask array is rechunked to the row blocks of X;
            a list has one block per block of X; an in-memory array is
            split by the row counts of the blocks (and travels in the graph).

        Returns
        -------
        self : LinearSVC
            The fitted estimator.
        """
        client, own = self._get_client()
        try:
            return self._fit(client, X, y)
        finally:
            if own is not None:
                own[0].close()
                own[1].close()

    def _get_client(self):
        if self.client is not None:
            return self.client, None
        try:
            return distributed.default_client(), None
        except ValueError:
            cluster = distributed.LocalCluster(processes=True, threads_per_worker=1,
                                               dashboard_address=None)
            client = distributed.Client(cluster)
            return client, (client, cluster)

    def _submit(self, client, func, *args, key):
        return client.submit(func, *args, key=f"{key}-{self._token}", pure=False)

    def _blocks(self, client, X, y):
        """Futures of the validated blocks (``_RawBlock``), in order."""
        if isinstance(X, da.Array):
            if X.ndim != 2:
                raise ValueError(f"X must be 2-D; got a Dask array of shape {X.shape}.")
            if len(X.chunks[1]) != 1:
                raise ValueError(
                    "X must be split into row blocks only, with one chunk along "
                    f"the features; got {len(X.chunks[1])} column chunks. Use "
                    "X.rechunk({1: -1})."
                )
            x_parts = list(X.to_delayed().ravel())
            rows = X.chunks[0]
        elif isinstance(X, (list, tuple)) and len(X) > 0:
            x_parts = list(X)
            rows = None
        else:
            raise TypeError(
                "X must be a Dask array of CSR row blocks or a non-empty list of "
                f"futures / dask.delayed CSR blocks; got {type(X).__name__}. "
                "For in-memory data use fastlinear.LinearSVC, or wrap it with "
                "dask.array.from_array(X, chunks=(rows, n_features), asarray=False)."
            )
        n_blocks = len(x_parts)
        if isinstance(y, da.Array):
            if rows is None or any(np.isnan(rows)):
                raise ValueError(
                    "y is a Dask array but the row blocks of X have unknown sizes; "
                    "pass y as a list of blocks, one per block of X."
                )
            if y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}.")
            y_parts = list(y.rechunk((rows,)).to_delayed().ravel())
        elif _is_block_list(y):
            y_parts = list(y)
        else:
            y_arr = np.asarray(y)
            if y_arr.ndim != 1:
                raise ValueError(f"y must be 1-D; got shape {y_arr.shape}.")
            if rows is None or any(np.isnan(rows)):
                shapes = client.gather(client.map(
                    lambda b: b.shape[0], [_as_future(client, p) for p in x_parts]))
                rows = tuple(shapes)
            if sum(rows) != y_arr.shape[0]:
                raise ValueError(
                    f"X has {int(sum(rows))} rows but y has {y_arr.shape[0]} labels."
                )
            bounds = np.concatenate([[0], np.cumsum(rows)]).astype(int)
            y_parts = [dask.delayed(y_arr[bounds[k]:bounds[k + 1]]) for k in range(n_blocks)]
        if len(y_parts) != n_blocks:
            raise ValueError(
                f"X has {n_blocks} blocks but y has {len(y_parts)}; give one block "
                "of labels per block of X."
            )
        raws = []
        for k in range(n_blocks):
            xk = _as_future(client, x_parts[k])
            yk = _as_future(client, y_parts[k])
            raws.append(self._submit(client, _check_block, xk, yk, k, key=f"fl-check-{k}"))
        return raws

    def _fit(self, client, X, y):
        self._token = dask.base.tokenize(id(self), time.time_ns())
        raws = self._blocks(client, X, y)
        n_blocks = len(raws)
        summaries = client.gather([
            self._submit(client, _block_summary, r, key=f"fl-summary-{k}")
            for k, r in enumerate(raws)
        ])
        shapes = [s[0] for s in summaries]
        n_features = shapes[0][1]
        if any(s[1] != n_features for s in shapes):
            raise ValueError(
                "The blocks of X have different numbers of features: "
                f"{sorted({s[1] for s in shapes})}. Every block needs all columns."
            )
        dtypes = {np.dtype(s[1]) for s in summaries}
        dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
        kinds = {s[4] for s in summaries if s[0][0] > 0}
        if kinds & {"continuous", "continuous-multioutput", "multilabel-indicator",
                    "multiclass-multioutput", "unknown"}:
            raise ValueError(
                f"Unknown label type: {sorted(kinds)}. LinearSVC needs class labels "
                "(integers or strings), not continuous values."
            )
        classes = np.unique(np.concatenate([s[2] for s in summaries]))
        counts = np.zeros(classes.shape[0])
        for s in summaries:
            counts[np.searchsorted(classes, s[2])] += s[3]
        if classes.shape[0] < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!s}."
            )
        n_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        check_class_weight(self.class_weight, classes, counts)  # before any round
        blocks = [
            self._submit(client, _make_block, r, classes, self.class_weight, counts,
                         float(self.C), self.loss, bias, key=f"fl-block-{k}")
            for k, r in enumerate(raws)
        ]
        del raws, summaries

        rng = check_random_state(self.random_state)
        sigma = float(n_blocks)
        w_bytes = 8 * n_problems * (n_features + 1)

        w_fut = self._submit(client, _initial_w, n_problems, n_features, key="fl-w-0")
        states = [None] * n_blocks
        active = np.ones(n_problems, dtype=bool)
        W = np.zeros((n_problems, n_features + 1))
        gaps = np.full(n_problems, np.inf)
        objectives = np.full(n_problems, np.nan)
        n_iter = np.zeros(n_problems, dtype=int)
        history = []
        t0 = time.perf_counter()
        for t in range(self.max_rounds + 1):
            t_round = time.perf_counter()
            update = t < self.max_rounds
            if update:  # the evaluation-only last round reuses the previous seeds
                round_seeds = rng.randint(MAX_INT, size=(n_blocks, n_problems))
            new_states = [
                self._submit(client, _local_step, blocks[k], states[k], w_fut,
                             round_seeds[k], active.copy(), update, sigma,
                             int(self.local_passes), bool(self.shrinking),
                             key=f"fl-step-{t}-{k}")
                for k in range(n_blocks)
            ]
            smalls = [self._submit(client, _small, s, key=f"fl-small-{t}-{k}")
                      for k, s in enumerate(new_states)]
            w_next = self._submit(client, _reduce, w_fut, *smalls, key=f"fl-w-{t + 1}")
            sums_fut = self._submit(client, _sums_of, w_next, key=f"fl-sums-{t}")
            primal, dual, wsq = self._result(sums_fut, t)
            P = 0.5 * wsq + primal.sum(axis=0)
            D = 0.5 * wsq + dual.sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):  # stopped problems
                gap = (P + D) / P
            done = active & (gap <= self.tol)
            if not update:
                done = active.copy()
            if done.any():
                w_now = self._result(w_fut, t)[0]
                W[done] = w_now[done]
                gaps[done] = gap[done]
                objectives[done] = P[done]
                n_iter[done] = t
            n_bytes = (2 * n_blocks * w_bytes if update else n_blocks * w_bytes) \
                + n_blocks * 8 * (2 * n_problems) + 8 * n_problems
            record = {
                "round": t,
                "gap": float(np.max(gap[active])),
                "primal": float(P[active].sum()),
                "dual": float(-D[active].sum()),
                "time": time.perf_counter() - t0,
                "round_time": time.perf_counter() - t_round,
                "bytes": int(n_bytes),
                "active": int(active.sum()),
            }
            history.append(record)
            if self.verbose:
                print(f"[fastlinear.dask] round {t}: gap {record['gap']:.3g}, "
                      f"primal {record['primal']:.6g}, {record['round_time']:.2f} s, "
                      f"{n_bytes / 1e6:.2f} MB, {record['active']} problem(s) running")
            if self.callback is not None:
                self.callback(record)
            active &= ~done
            if not active.any() or not update:
                break
            w_fut, states = w_next, new_states

        if not np.all(np.isfinite(W)):
            raise ValueError(
                "The solver produced non-finite weights; the data are probably "
                "badly scaled. Scale the features (e.g. MaxAbsScaler) and try again."
            )
        self.classes_ = classes
        self.coef_ = W[:, :-1].astype(dtype)
        self.intercept_ = (bias * W[:, -1]).astype(dtype) if self.fit_intercept \
            else np.zeros(n_problems, dtype=dtype)
        self.n_iter_ = int(n_iter.max())
        self.n_blocks_ = n_blocks
        self.n_features_in_ = n_features
        self.duality_gap_ = gaps
        self.objective_ = objectives
        self.history_ = history
        if np.any(gaps > self.tol):
            worst = int(np.argmax(gaps))
            warnings.warn(
                f"fastlinear.dask.LinearSVC did not converge: after max_rounds="
                f"{self.max_rounds} rounds the binary problem {worst} has a "
                f"relative duality gap of {gaps[worst]:.3g} > tol={self.tol}. "
                "Increase max_rounds or local_passes, raise tol, lower C, or "
                "scale the features (MaxAbsScaler).",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _result(self, future, t):
        """``future.result()``, with a clear error when Dask could not recover."""
        try:
            return future.result()
        except _RECOVERABLE as exc:
            raise RuntimeError(
                f"fastlinear.dask.LinearSVC: round {t} failed because Dask lost "
                f"results it could not recompute ({type(exc).__name__}: {exc}). "
                "Every task of the fit is recomputable from the blocks of X, so "
                "this happens when the blocks themselves are lost (X given as "
                "scattered futures held by a worker that died) or when a task "
                "kept killing workers. No model was fitted; pass X as a Dask "
                "array or dask.delayed blocks (recomputable) and fit again."
            ) from exc

    # -------------------------------------------------------------- predict
    def decision_function(self, X):
        """Confidence scores: lazily (``map_blocks``) for a Dask array.

        Parameters
        ----------
        X : dask array or {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : dask array or ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        if isinstance(X, da.Array):
            check_is_fitted(self)
            X = self._check_dask_X(X)
            ravel = self.coef_.shape[0] == 1
            chunks = (X.chunks[0],) if ravel else (X.chunks[0], (self.coef_.shape[0],))
            return X.map_blocks(
                _decision_block, self.coef_, self.intercept_, ravel,
                dtype=np.float64, chunks=chunks, drop_axis=1 if ravel else None,
                meta=np.empty((0,) if ravel else (0, 0), dtype=np.float64),
            )
        return super().decision_function(X)

    def predict(self, X):
        """Class labels: lazily (``map_blocks``) for a Dask array.

        Parameters
        ----------
        X : dask array or {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : dask array or ndarray of shape (n_samples,)
        """
        if isinstance(X, da.Array):
            check_is_fitted(self)
            X = self._check_dask_X(X)
            return X.map_blocks(
                _predict_block, self.coef_, self.intercept_, self.classes_,
                dtype=self.classes_.dtype, chunks=(X.chunks[0],), drop_axis=1,
                meta=np.empty((0,), dtype=self.classes_.dtype),
            )
        return super().predict(X)

    def _check_dask_X(self, X):
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {X.shape}, but this LinearSVC was fitted on "
                f"{self.n_features_in_} features."
            )
        if len(X.chunks[1]) != 1:
            X = X.rechunk({1: -1})
        return X



def _as_future(client, part):
    """A future for a block: futures as they are, delayed objects computed."""
    if isinstance(part, distributed.Future):
        return part
    if _is_dask_collection(part):
        return client.compute(part)
    return client.submit(_identity, part, pure=False)


def _is_block_list(y):
    """Whether ``y`` is a list of blocks (futures, delayed, arrays), not of labels."""
    return (isinstance(y, (list, tuple)) and len(y) > 0
            and (isinstance(y[0], (distributed.Future, np.ndarray))
                 or _is_dask_collection(y[0])))


def _identity(x):
    return x
