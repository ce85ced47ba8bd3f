"""The solvers of a :class:`~fastlinear._problem.LinearProblem`, and the rule that picks one.

Each solver takes a problem and returns a :class:`Solution`; the estimators
never call a kernel directly.  The ``dual="auto"`` rule lives here, next to
the solvers it chooses between, so that ``LinearSVC``, ``LinearSVCCV`` and
the CLI share it.
"""
import warnings
from enum import IntEnum
from typing import NamedTuple, Optional

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _dual_cd_fast, _glmnet_fast, _l1_cd_fast, _logistic_dual_fast, _mcsvm_fast, _newton_fast, _solver_table
from ._losses import Loss
from ._parallel import blas_threads, new_stop_flag

__all__ = [
    "Start",
    "no_iterations",
    "warn_if_stuck",
    "PRIMAL_THRESHOLD",
    "primal_threshold",
    "switch_after_for",
    "Solution",
    "Status",
    "choose_solver",
    "counted_samples",
    "crammer_singer",
    "glmnet",
    "l1_cd",
    "logistic_dual_cd",
    "dual_cd",
    "dual_then_newton",
    "dual_then_smoothed",
    "primal_newton",
    "newton",
    "newton_tol",
    "samples_used",
    "prefer_primal",
    "settle",
    "solve",
]


class Status(IntEnum):
    """How a kernel ended (the values of ``src_c/_status.pxd``).

    ``LINE_SEARCH_FAILED`` is what every line-search kernel (Newton,
    newGLMNET, multinomial Newton-CG, proximal Newton) returns when no step
    along its direction lowers the objective; ``STALLED`` what the
    coordinate-descent kernels return after ``STALL_PASSES`` passes in a row
    that changed nothing (``src_c/_status.pxd``).  :func:`settle` turns
    either into ``CONVERGED`` when the stopping measure is at rounding level;
    a :class:`Solution` keeps it only when it is not (the fit then warns).
    """

    CONVERGED = 0
    MAX_ITER = 1
    INTERRUPTED = 2
    DIVERGED = 3
    LINE_SEARCH_FAILED = 4
    STALLED = 6


#: The Newton kernel's status when the objective or its gradient overflows
#: at the start point.
_OVERFLOW = 5

#: A relative stopping measure (the gradient or the violation relative to
#: the start's, liblinear's rules) at most this large is at rounding level
#: when the line search finds no decrease: ``tol=0`` fits end near 1e-12.
#: A larger one means the steps stopped resolving in float64 long before the
#: optimum (e.g. X scaled by 1e100, where liblinear's absolute 1e-12 bound on
#: a coordinate's step skips every feature and leaves w = 0).
ROUNDING_MEASURE = 1e-6
#: The rounding level of the truncated Newton solvers' absolute gradient,
#: in units of the largest each entry can be (``newton-cg``: ``tol=0`` fits
#: end at 1e-19 to 1e-12 on iris, breast cancer and features spread over
#: 1e-6 ... 1e6).  On features shifted by 1e8 (a Hessian conditioned near
#: 1e16) their conjugate gradients found no decrease at 2e-9, a
#: majority-class model at 2.9 times the optimal objective, which exact
#: Newton steps go on to lower: such an ending warns.  (newGLMNET's
#: coordinate steps stop at liblinear's bound of 1e-12 on a step, which on
#: columns scaled 1e-4 ... 1e5 leaves 1e-8: the others keep 1e-6.)
ROUNDING_GRADIENT = 1e-10


def settle(status, measure, threshold, *, scaled=None, rounding=ROUNDING_MEASURE):
    """The status of a solve, with an ending without progress resolved.

    Two endings mean the solver can no longer move: ``LINE_SEARCH_FAILED``
    (no step along the direction lowers the objective in float64) and
    ``STALLED`` (coordinate descent: passes that changed nothing, every step
    below 1e-12).  Either is convergence if the stopping measure is within
    ``threshold`` or at rounding level: a relative measure (the
    coordinate-descent measures are relative, or in units of the dual
    gradient, which is of order 1) at most :data:`ROUNDING_MEASURE`; an
    absolute one (a gradient in the objective's units) when ``scaled()``,
    the measure in units of the largest each gradient entry can be
    (:func:`scaled_gradient`, or ``measure / gradient_bound(...)`` where
    only the measure is known), is at most ``rounding``
    (:data:`ROUNDING_MEASURE`, or :data:`ROUNDING_GRADIENT` for the
    truncated Newton solvers).
    ``scaled`` is called only for these two endings.  A tiny ``tol`` ends
    there at the optimum.  Otherwise the status stays, and the fit warns:
    the steps stopped resolving long before the optimum (e.g. X scaled by
    1e100).
    """
    status = Status(status)
    if status not in (Status.LINE_SEARCH_FAILED, Status.STALLED):
        return status
    if measure <= threshold:
        return Status.CONVERGED
    if scaled is None:
        if measure <= ROUNDING_MEASURE:
            return Status.CONVERGED
    elif float(scaled()) <= rounding:
        return Status.CONVERGED
    return status


def gradient_bound(X, cost, bias, *, per_variable=False):
    """How large a gradient entry of ``sum_i C_i loss_i`` can be when
    ``|loss'| <= 1`` (the logistic and multinomial losses): ``sum_i C_i
    max_i |x~_ij|``, per variable ``j`` (the bias last) or, by default, the
    largest of them.  The scale of an absolute measure's rounding for
    :func:`settle`.  ``X`` is a CSR proof (``.data``, ``.indices``)."""
    total = float(np.sum(cost))
    if not per_variable:
        largest = float(np.max(np.abs(X.data))) if X.data.size else 0.0
        return total * max(largest, abs(float(bias)))
    column = np.zeros(X.n_cols + 1)
    np.maximum.at(column, X.indices, np.abs(X.data))
    column[-1] = abs(float(bias))
    return total * column


def scaled_gradient(g, X, cost, bias):
    """``max_j |g_j| / B_j`` with ``B_j`` the per-variable
    :func:`gradient_bound`; ``g`` of shape (n_features + 1,) or (n_features
    + 1) * K (the variables of one feature's row of ``W`` together).  Entries
    of a variable that no sample can move (``B_j = 0``) count only when
    nonzero (as infinite)."""
    bound = gradient_bound(X, cost, bias, per_variable=True)
    g = np.abs(np.asarray(g, dtype=np.float64)).reshape(bound.shape[0], -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(g > 0, g / bound[:, None], 0.0)
    return float(np.max(ratio)) if ratio.size else 0.0


#: The logistic Newton solvers' decrement test (the decrease a Newton step
#: promises, an estimate of ``f - f*``) asks also for at most ``tol f`` times
#: these (``tol`` in the units of the mean objective, ``f`` the objective at
#: the point): ``tol`` alone is absolute on the mean objective, and where
#: that is small the fits ended far above the optimum relative to it.
#: newton-cholesky (few features, cheap steps): ``tol / 100`` of ``f``; dna
#: and satimage at C = 1 ended 1.8e-5 and 1.7e-5 above the optimum, now
#: 2.6e-9 and 1.9e-9.  newton-cg (wide data, a step costs several passes
#: over X): ``tol`` of ``f``; 20,000 sparse features at C = 1e6 stopped at
#: 2.3 times the optimal objective (binary) and 22 % above it (5 classes),
#: now 2e-6 and 4e-6 above it, and IMDB at C = 0.01 and 1 takes the same
#: steps (``tol / 100`` would double the C = 0.01 fit).
#: ``bench/results/EXPERIMENTS.md``.
RELATIVE_DECREMENT = 1e-2
RELATIVE_DECREMENT_WIDE = 1.0

#: The Newton kernel's CG constant (``eps_cg`` of ``_newton_fast.newton``):
#: liblinear 2.50's 0.5 (its iterates, step for step) from a given start
#: point or when liblinear's relative rule is loose (``tol >=
#: NEWTON_LOOSE_TOL``, as its default ``-e 0.01``): each step's CG then stops
#: early, and on a9a and w8a whole fits at ``tol=0.01`` took 1.1-2.4x less
#: time.  Otherwise 0.1: with a tight ``tol`` the coarse steps converge
#: slowly at the end (squared hinge on w8a at C = 100, ``tol=1e-4``: 59
#: Newton steps against 17).  ``bench/newton_cg_probe.py`` measures both.
NEWTON_EPS_CG = 0.5
NEWTON_EPS_CG_TIGHT = 0.1
NEWTON_LOOSE_TOL = 1e-3


class Solution(NamedTuple):
    """What a solver returns for one problem."""

    w: np.ndarray  # (n_features + 1,), the bias weight last
    alpha: Optional[np.ndarray]  # dual variables (signed for regression), if any
    n_iter: int  # passes (dual) or Newton steps (primal)
    status: Status
    measure: float  # the stopping measure when the solver ended
    solver: str
    threshold: float = np.nan  # what ``measure`` was compared with (``tol`` scaled)


class Start(NamedTuple):
    """A point to start the binary problems of a fit from.

    ``alpha`` holds unsigned dual variables, one row per problem: the dual
    solver clips them into each problem's box.  ``W`` holds weight vectors
    (the bias weight last): the primal solver starts from them, or from
    ``w(alpha)`` without them.
    """

    alpha: Optional[np.ndarray] = None
    W: Optional[np.ndarray] = None

    def scaled(self, factor):
        """The rescale rule of the C path: ``alpha * C_new / C_old``.

        Only the duals are rescaled: they grow in proportion to C, while the
        weights change slowly along a log-spaced grid (a primal fit from
        ``C_old``'s weights took 9 Newton steps on an a9a slice at C = 100,
        from the rescaled duals' ``w`` 108).
        """
        return Start(None if self.alpha is None else self.alpha * factor, self.W)


def dual_cd(problem, *, tol, max_iter, seed, shrinking=True, verbose=0,
            alpha0=None, stop=None, w=None, sigma=1.0):
    """Dual coordinate descent (liblinear ``-s 1, 3, 12, 13``).

    ``alpha0`` (dual variables of the same problem, or ``None`` for zeros) is
    clipped into the problem's box before the start.  ``tol`` is the bound on
    the projected-gradient spread (classification) or on the violation norm
    relative to the first pass (regression).

    For a block of a CoCoA+ round (``fastlinear.dask``), ``w`` is the round's
    global weight vector (updated in place, not recomputed from ``alpha0``)
    and ``sigma`` the subproblem scaling.
    """
    n = problem.n_samples
    alpha = np.zeros(n)
    if alpha0 is not None:
        upper, _ = problem.box()
        lower = -upper if problem.is_regression else 0.0
        np.clip(alpha0, lower, upper, out=alpha)
    w_from_alpha = w is None
    if w_from_alpha:
        w = np.zeros(problem.n_features + 1)
    n_iter, status, measure = _dual_cd_fast.dual_cd(
        problem.X, problem.y, problem.cost, w, alpha,
        loss=int(Loss.of(problem.loss)), bias=problem.bias, tol=float(tol),
        max_iter=int(max_iter), seed=int(seed), shrinking=bool(shrinking),
        epsilon=problem.epsilon, verbose=int(verbose), sigma=float(sigma),
        w_from_alpha=w_from_alpha,
        stop=new_stop_flag() if stop is None else stop,
    )
    return Solution(w, alpha, int(n_iter), settle(status, measure, tol),
                    float(measure), "dual_cd", float(tol))


def l1_cd(problem, XT, *, tol, max_iter, seed, shrinking=True, w0=None, verbose=0,
          stop=None):
    """Coordinate descent for the L1-penalised squared hinge (liblinear ``-s 5``).

    ``XT`` is the CSR proof of X transposed (the solver reads columns).
    ``tol`` bounds the L1 norm of the minimum-norm subgradient relative to
    the first pass's, scaled as the primal Newton solver's (:func:`newton_tol`).
    """
    w = np.zeros(problem.n_features + 1) if w0 is None else np.array(w0, dtype=np.float64)
    threshold = newton_tol(problem, tol)
    n_iter, status, measure = _l1_cd_fast.l1_cd(
        XT, problem.y, problem.cost, w, bias=problem.bias, tol=threshold,
        max_iter=int(max_iter), seed=int(seed), shrinking=bool(shrinking),
        verbose=int(verbose), stop=new_stop_flag() if stop is None else stop,
        n_used=samples_used(problem),
    )
    return Solution(w, None, int(n_iter), settle(status, measure, threshold),
                    float(measure), "l1_cd", threshold)


def glmnet(problem, XT, *, l1, l2, tol, max_iter, seed, rule="liblinear", w0=None,
           verbose=0, stop=None, reference=None):
    """newGLMNET for the L1 / elastic-net logistic problem (liblinear ``-s 6``).

    Minimises ``sum_i C_i log(1 + exp(-y_i w.x~_i)) + sum_j (l1 |w_j| + l2
    w_j^2 / 2)`` over the problem's costs; the bias weight is penalised the
    same way when ``problem.reg_bias`` (liblinear) and not at all otherwise.
    ``XT`` is the CSR proof of X transposed.  With ``rule="liblinear"``,
    ``tol`` bounds the L1 norm of the minimum-norm subgradient relative to
    its value at the start (at ``w = 0`` for a warm start: ``reference``,
    or :func:`l1_subgradient_norm_at_zero` when None), scaled by
    :func:`newton_tol`; with
    ``rule="gradient"``, the largest entry of the minimum-norm subgradient
    of ``P / sum_i C_i`` (:func:`gradient_tol`) and, with a penalty, the
    decrease the models of the coordinates on the Hessian's diagonal
    promise within the same threshold (as :func:`newton`'s rule).
    ``max_iter`` counts Newton steps.
    """
    w = np.zeros(problem.n_features + 1) if w0 is None else np.array(w0, dtype=np.float64)
    gradient = rule == "gradient"
    threshold = gradient_tol(problem, tol) if gradient else newton_tol(problem, tol)
    if not threshold > 0:
        threshold = float(np.finfo(np.float64).tiny)  # tol=0: run to max_iter
    if gradient or not np.any(w):
        reference = 0.0     # the kernel's own start point
    elif reference is None:
        # liblinear's rule is relative to the start point's subgradient; a
        # warm start (already near the optimum) would make it far stricter
        # than a cold start's, so it is taken at w = 0 instead.
        reference = l1_subgradient_norm_at_zero(problem, XT, l1)
    n_iter, status, measure = _glmnet_fast.glmnet(
        XT, problem.y, problem.cost, w, bias=problem.bias, l1=float(l1), l2=float(l2),
        reg_bias=bool(problem.reg_bias),
        rule=_glmnet_fast.Rule.GRADIENT if gradient else _glmnet_fast.Rule.RELATIVE,
        tol=threshold, max_iter=int(max_iter), seed=int(seed), verbose=int(verbose),
        stop=new_stop_flag() if stop is None else stop, reference=reference,
        X=problem.X, n_used=samples_used(problem), decrement=gradient,
        relative=RELATIVE_DECREMENT_WIDE * tol if gradient and _has_optimum(problem) else 0.0,
    )
    status = settle(status, measure, threshold, scaled=(
        (lambda: measure / gradient_bound(problem.X, problem.cost, problem.bias))
        if gradient else None))
    return Solution(w, None, int(n_iter), status, float(measure), "glmnet", threshold)


def l1_subgradient_norm_at_zero(problem, XT, l1, *, scale=1.0, unit_cost=None,
                                derived=None):
    """``sum_j max(|g_j| - l1_j, 0)`` at ``w = 0``: the L1 norm of the
    minimum-norm subgradient of the logistic ``-s 6`` objective there, where
    the loss' derivative is ``-C_i y_i / 2``.

    Given ``unit_cost`` with ``problem.cost = scale * unit_cost`` (a path
    over C), the gradient is ``scale`` times that of ``unit_cost``, and the
    product with X is kept in ``derived`` (a dict kept with the data) for
    the next C with the same unit costs and labels: a warm-started path
    makes it once instead of once per C.
    It then differs from the product with ``problem.cost`` by rounding.
    """
    if unit_cost is None:
        unit_cost, scale = problem.cost, 1.0
    kept = None if derived is None else derived.get("l1_zero_gradient")
    if (kept is not None and np.array_equal(kept[0], unit_cost)
            and np.array_equal(kept[1], problem.y)):
        g_unit, sum_unit = kept[2], kept[3]
    else:
        half = -0.5 * unit_cost * problem.y
        g_unit = np.abs(XT.to_scipy() @ half)
        sum_unit = float(np.sum(half))
        if derived is not None:
            derived["l1_zero_gradient"] = (unit_cost.copy(), problem.y.copy(), g_unit, sum_unit)
    g = g_unit if scale == 1.0 else scale * g_unit
    norm = float(np.sum(np.maximum(g - l1, 0.0)))
    if problem.bias != 0.0:
        g_bias = abs(problem.bias * scale * sum_unit)
        norm += max(g_bias - l1, 0.0) if problem.reg_bias else g_bias
    return norm


def logistic_dual_cd(problem, *, tol, max_iter, seed, alpha0=None, verbose=0, stop=None):
    """Dual coordinate descent for logistic regression (liblinear ``-s 7``).

    ``problem`` has the logistic loss and a penalised bias (liblinear's
    problem).  ``alpha0`` (dual variables, e.g. ``problem.alpha_from_w`` of a
    previous solution) starts it, clipped inside ``(0, C_i)``; ``tol`` bounds
    the largest derivative of a pass's one-variable subproblems (liblinear's
    ``-e``), ``max_iter`` counts passes.
    """
    if problem.loss != "logistic" or not problem.reg_bias or problem.lam != 1.0:
        raise ValueError("The dual logistic solver needs liblinear's problem: the logistic "
                         "loss, the L2 penalty, a penalised bias.")
    alpha = np.zeros(problem.n_samples)
    if alpha0 is not None:
        np.clip(alpha0, 0.0, problem.cost, out=alpha)
    w = np.zeros(problem.n_features + 1)
    n_iter, status, measure = _logistic_dual_fast.logistic_dual_cd(
        problem.X, problem.y, problem.cost, w, alpha, bias=problem.bias, tol=float(tol),
        max_iter=int(max_iter), seed=int(seed), verbose=int(verbose),
        stop=new_stop_flag() if stop is None else stop,
    )
    return Solution(w, alpha, int(n_iter), Status(status), float(measure), "liblinear-dual",
                    float(tol))


def crammer_singer(problem, *, tol, max_iter, seed, verbose=0, stop=None):
    """The sequential dual method for Crammer and Singer's SVM (liblinear ``-s 4``).

    Returns a :class:`Solution` whose ``w`` has one row per class (the bias
    weight last) and ``alpha`` the dual variables, shape (n_samples, n_classes).
    """
    K, m = problem.n_classes, problem.X.n_cols + 1
    W = np.zeros((m, K))
    alpha = np.zeros((problem.X.n_rows, K))
    n_iter, status, measure = _mcsvm_fast.crammer_singer(
        problem.X, problem.y_ind.astype(np.int32), problem.cost, W, alpha,
        bias=problem.bias, tol=float(tol), max_iter=int(max_iter), seed=int(seed),
        verbose=int(verbose), stop=new_stop_flag() if stop is None else stop,
    )
    return Solution(np.ascontiguousarray(W.T), alpha, int(n_iter),
                    settle(status, measure, tol), float(measure), "crammer_singer",
                    float(tol))


def counted_samples(cost, counts, where=None):
    """The samples of positive cost (among ``where``, a mask of rows, when
    given), each row counted as the samples it stands for when identical
    samples were merged (``counts``; None: one each)."""
    used = cost > 0 if where is None else (cost > 0) & where
    return int(np.count_nonzero(used)) if counts is None else int(np.sum(counts[used]))


def samples_used(problem):
    """:func:`counted_samples` of ``problem`` for the kernels' shrinking
    thresholds; 0 (the kernels count the rows) when nothing was merged."""
    if problem.counts is None:
        return 0.0
    return float(counted_samples(problem.cost, problem.counts))


def newton_tol(problem, tol):
    """liblinear's primal tolerance: ``tol`` scaled by ``max(min(n+, n-), 1) / n``
    for classification (``n`` counts the samples of positive cost, each merged
    row as the samples it stands for: ``problem.counts``), as is for
    regression."""
    if problem.is_regression:
        return float(tol)
    n_pos = counted_samples(problem.cost, problem.counts, problem.y > 0)
    n_used = counted_samples(problem.cost, problem.counts)
    return float(tol) * max(min(n_pos, n_used - n_pos), 1) / max(n_used, 1)


def gradient_tol(problem, tol):
    """scikit-learn's lbfgs tolerance in the units of ``P``: its rule
    ``max_j |grad_j F| <= tol`` on ``F = P / sum_i C_i`` (the objective with
    the mean loss) is ``max_j |grad_j P| <= tol * sum_i C_i``."""
    return cost_scaled_tol(problem.cost, tol)


def cost_scaled_tol(cost, tol):
    """``tol * sum_i C_i`` (:func:`gradient_tol` for solvers given the costs)."""
    return float(tol) * float(np.sum(cost))


def newton(problem, *, tol, max_iter, w0=None, n_threads=1, verbose=0, stop=None,
           rule="liblinear"):
    """Truncated Newton on the primal (liblinear ``-s 0``, ``-s 2`` and ``-s 11``).

    With ``rule="liblinear"``, ``tol`` is liblinear's criterion on the
    gradient norm relative to its value at ``w = 0`` (scaled by
    :func:`newton_tol`); with ``rule="gradient"``, scikit-learn's lbfgs
    criterion on the largest gradient entry (:func:`gradient_tol`), and
    with a penalty the estimate ``1/2 g.diag(H)^-1 g`` of the distance to
    the optimum within the same threshold (the kernel's rule 3, the second
    test of scikit-learn's newton-cholesky with the Hessian's diagonal: the
    largest entry alone passes far from the optimum where many features
    are rare).  ``max_iter`` counts Newton steps.  The dual variables are
    recovered from the solution (``problem.alpha_from_w``).  ``n_threads``
    splits every product with X over threads (results equal up to
    rounding).

    When ``P`` or its gradient overflows float64 at the start point (costs
    near 1e154 and beyond, e.g. ``C=1e300``), the same problem divided by the
    largest cost is solved instead (same minimiser; the penalty's weight
    becomes ``lam / s``).  When even that cannot move from a cold start, a
    ``ValueError`` says so: never a model of zeros presented as a solution.
    """
    if not problem.smooth:
        raise ValueError(f"The primal Newton solver needs a smooth loss, not {problem.loss!r}.")
    sol = _newton_once(problem, 1.0, tol, max_iter, w0, n_threads, verbose, stop, rule)
    if sol is None:
        scale = float(np.max(problem.cost))
        sol = _newton_once(problem, scale, tol, max_iter, w0, n_threads, verbose, stop, rule)
        if sol is None:
            raise ValueError(
                f"The primal Newton solver cannot start: the objective or its gradient "
                f"overflows float64 even with the costs divided by their largest value "
                f"({scale:.3g}). The targets or features are too large to square; "
                "rescale them (e.g. StandardScaler, or divide y by its largest value)."
            )
    return sol


def primal_newton(problem, *, tol, max_iter, w0=None, n_threads=1, verbose=0, stop=None):
    """The primal Newton solver of liblinear's ``-s 0``, ``-s 2`` and ``-s 11``
    (liblinear's problem and rule).

    Exact Newton steps where :func:`fastlinear._squared_newton.exact_pays`
    (few features) and ``tol < NEWTON_LOOSE_TOL``:
    :func:`fastlinear._squared_newton.squared_newton` for the squared
    losses, :func:`fastlinear._newton_cholesky.binary` for the logistic
    loss; else the conjugate-gradient kernel, :func:`newton`, which also
    takes every problem the exact steps cannot start on.  At liblinear's
    own default ``-e 0.01`` the kernel takes liblinear 2.50's steps and
    stops at liblinear-official's weights; at the estimators' ``tol=1e-4``
    both methods meet the same test (``||g|| <= tol ||g(0)||``, scaled by
    :func:`newton_tol`), the exact steps sooner.
    """
    from ._squared_newton import exact_pays, squared_newton  # (they import this module)

    exact = tol < NEWTON_LOOSE_TOL and exact_pays(problem)
    if exact and problem.loss == "logistic":
        from ._newton_cholesky import binary

        sol = binary(problem, tol=tol, max_iter=max_iter, w0=w0, verbose=verbose, stop=stop,
                     n_threads=n_threads, quasi_newton=True, rule="liblinear")
        if sol.status == Status.INTERRUPTED or (
                sol.status != Status.DIVERGED   # (its Hessian overflowed: the kernel rescales)
                and np.all(np.isfinite(sol.w)) and np.isfinite(sol.measure)):
            return sol._replace(solver="newton")
    elif exact:
        threshold = newton_tol(problem, tol)
        out = squared_newton(problem, tol=threshold, max_iter=max_iter, w0=w0,
                             n_threads=n_threads, verbose=verbose, stop=stop)
        if out is not None and not (out[3] == "no_decrease" and out[2] == 0):
            w, z, n_iter, ending, measure = out
            status = settle({"converged": Status.CONVERGED, "max_iter": Status.MAX_ITER,
                             "no_decrease": Status.LINE_SEARCH_FAILED,
                             "interrupted": Status.INTERRUPTED}[ending], measure, threshold)
            return Solution(w, problem.alpha_from_w(w, z=z), int(n_iter), status,
                            float(measure), "newton", threshold)
    return newton(problem, tol=tol, max_iter=max_iter, w0=w0, n_threads=n_threads,
                  verbose=verbose, stop=stop)


def every_class_costs(y_ind, cost, n_classes):
    """Whether every class carries cost (``y_ind`` class indices, ``cost``
    the ``C_i >= 0``).  Else the logistic loss has no finite minimiser: a
    class without cost has its intercept run to ``-inf``, and the point where
    the steps stop is the answer."""
    return bool(np.all(np.bincount(y_ind, cost, n_classes) > 0))


def _has_optimum(problem):
    """:func:`every_class_costs` for a binary problem (``y`` of +-1)."""
    return every_class_costs((np.asarray(problem.y) > 0).astype(np.intp), problem.cost, 2)


def _newton_eps_cg(tol, w0, rule):
    """The CG constant for a run of the Newton kernel (:data:`NEWTON_EPS_CG`)."""
    if w0 is not None or (rule == "liblinear" and tol >= NEWTON_LOOSE_TOL):
        return NEWTON_EPS_CG
    return NEWTON_EPS_CG_TIGHT


def _newton_once(problem, scale, tol, max_iter, w0, n_threads, verbose, stop, rule):
    """One run of the Newton kernel on ``P / scale``; None if it overflows."""
    w = np.zeros(problem.n_features + 1) if w0 is None else np.array(w0, dtype=np.float64)
    z = np.empty(problem.n_samples)
    max_abs_rule = rule == "gradient"
    threshold = gradient_tol(problem, tol) if max_abs_rule else newton_tol(problem, tol)
    cost = problem.cost if scale == 1.0 else problem.cost / scale
    n_iter, status, measure = _newton_fast.newton(
        problem.X, problem.y, cost, w, loss=int(Loss.of(problem.loss)),
        bias=problem.bias, epsilon=problem.epsilon,
        tol=threshold / scale if max_abs_rule else threshold,
        max_iter=int(max_iter), lam=float(problem.lam) / scale,
        reg_bias=bool(problem.reg_bias), max_abs_rule=max_abs_rule,
        decrement=max_abs_rule,
        relative=(RELATIVE_DECREMENT_WIDE * tol if max_abs_rule and _has_optimum(problem)
                  else 0.0),
        eps_cg=_newton_eps_cg(tol, w0, rule), n_threads=int(n_threads), verbose=int(verbose),
        stop=new_stop_flag() if stop is None else stop, scores=z,
    )
    if status == _OVERFLOW:
        return None
    if status == Status.LINE_SEARCH_FAILED:
        if n_iter <= 1 and w0 is None and not (max_abs_rule and measure <= threshold / scale):
            if scale == 1.0 and (_within_rounding_of_zero(problem)
                                 or _zero_gradient_at_zero(problem)):
                # C so small (1e-20) that a Newton step lowers P by less than
                # P's rounding: w = 0 is the optimum to rounding, as
                # scikit-learn's liblinear returns it.
                return Solution(w, problem.alpha_from_w(w, z=z), int(n_iter),
                                Status.CONVERGED, float(measure), "newton", threshold)
            # No step at all from w = 0 although the gradient is not small:
            # the line search met overflow, not the optimum.
            return None if scale == 1.0 else _cannot_move(problem, scale)
        status = settle(status, measure, threshold / scale if max_abs_rule else threshold,
                        scaled=(lambda: measure / gradient_bound(problem.X, cost, problem.bias))
                        if max_abs_rule else None, rounding=ROUNDING_GRADIENT)
    if max_abs_rule:
        measure *= scale
    return Solution(w, problem.alpha_from_w(w, z=z), int(n_iter), Status(status),
                    float(measure), "newton", threshold)


def _within_rounding_of_zero(problem):
    """Whether a Newton step from ``w = 0`` cannot lower ``P`` by a resolvable
    amount: with the penalty's ``H >= I``, the step lowers ``P`` by about
    ``||g||^2 / 2``, at most ``2 sum_i C_i max ||x~_i||^2`` relative to
    ``P(0)`` for these losses; below 1e-13 that is under ``P``'s rounding
    (and ``||w*|| <= ||g(0)||`` is as small)."""
    if problem.lam <= 0:
        return False
    row_sq = float(problem.X.max_row_sq) + float(problem.bias) ** 2
    return 2.0 * float(np.sum(problem.cost)) * row_sq <= 1e-13


def _zero_gradient_at_zero(problem, within=ROUNDING_MEASURE):
    """Whether ``w = 0`` is the optimum: every entry of the gradient there,
    ``-sum_i s_i a_i x~_ij`` (``a`` the dual variables of ``w = 0``, ``s_i``
    the labels), cancels to within ``within`` (:data:`ROUNDING_MEASURE`) of
    the size of its own terms, ``sum_i |a_i| |x~_ij|``.  Each row twice with
    opposite labels does that exactly; the line search then finds no
    decrease from ``w = 0`` although nothing overflows, and ``w = 0`` is what
    scikit-learn's liblinear returns.  (The kernel asks only after that
    failed line search; a solver that asks before any step passes ``within``
    at rounding level.)  Entry by entry: a size summed over the whole rows
    is the bias entry's when ``intercept_scaling`` is large (1e15), and the
    features' entries of a balanced problem passed for rounding there."""
    z = np.zeros(problem.n_samples)
    alpha = problem.alpha_from_w(np.zeros(problem.n_features + 1), z=z)
    if not np.all(np.isfinite(alpha)):
        return False
    with np.errstate(over="ignore", invalid="ignore"):   # (not finite: not zero)
        g = problem.w_from_alpha(alpha)
        size = np.empty_like(g)
        size[:-1] = abs(problem.X.to_scipy()).T @ np.abs(alpha)
        size[-1] = abs(problem.bias) * float(np.abs(alpha).sum())
        return bool(np.all(np.isfinite(size)) and np.all(np.abs(g) <= within * size))


def _cannot_move(problem, scale):
    raise ValueError(
        f"The primal Newton solver could not decrease the objective from w = 0 (costs "
        f"divided by {scale:.3g}): its values overflow float64. Rescale the features "
        "or the targets (e.g. StandardScaler / MaxAbsScaler), or lower C."
    )


def dual_then_newton(problem, *, tol, max_iter, seed, shrinking=True, verbose=0,
                     alpha0=None, stop=None, n_threads=1, switch_after=None):
    """Dual coordinate descent, continued by the primal Newton solver if it is slow.

    liblinear's switch (2.42+): at most ``switch_after`` passes of dual
    coordinate descent (by default :func:`switch_after_for` the data: 300,
    as liblinear, or 40 for narrow data, 15 where the Newton steps will be
    exact, :data:`SWITCH_AFTER_EXACT`); when they do not meet ``tol``,
    Newton continues from their ``w`` with the primal tolerance
    ``SWITCH_TOL_FACTOR * tol`` (liblinear's: the dual's tolerance, read as a
    primal one, would be loose).  ``n_iter`` counts the passes plus the
    Newton steps.
    """
    if switch_after is None:
        from ._squared_newton import exact_pays  # (it imports this module)

        switch_after = switch_after_for(problem.X.n_cols)
        if SWITCH_TOL_FACTOR * tol < NEWTON_LOOSE_TOL and exact_pays(problem):
            switch_after = SWITCH_AFTER_EXACT
    passes = min(int(max_iter), switch_after)
    sol = dual_cd(problem, tol=tol, max_iter=passes, seed=seed, shrinking=shrinking,
                  verbose=verbose, alpha0=alpha0, stop=stop)
    if (sol.status not in (Status.MAX_ITER, Status.STALLED) or passes >= max_iter
            or not problem.squared):
        return sol
    primal = primal_newton(problem, tol=SWITCH_TOL_FACTOR * tol, max_iter=max_iter,
                           w0=sol.w, n_threads=n_threads, verbose=verbose, stop=stop)
    return primal._replace(n_iter=sol.n_iter + primal.n_iter, solver="dual_cd+newton")


def dual_then_smoothed(problem, *, tol, max_iter, seed, shrinking=True, verbose=0,
                       alpha0=None, stop=None, n_threads=1, groups=None):
    """Dual coordinate descent on the hinge loss, finished by a Newton method if it is slow.

    At most :func:`switch_after_for` the data passes (40 on narrow data)
    when :func:`smoothing_pays`, :data:`FREE_SET_AFTER` when
    :func:`free_set_pays`; when they do not meet ``tol``:

    * narrow data: the smoothing Newton method of
      :mod:`fastlinear._smoothed_hinge` computes a dual point that nearly
      meets liblinear's test, and coordinate descent goes on from it for
      the passes left;
    * wide data: Newton steps on the free dual variables
      (:mod:`fastlinear._free_set`), each followed by
      :data:`FREE_SET_PASSES` passes of coordinate descent, until those
      meet the test.

    Coordinate descent's own test decides convergence (the same problem
    and the same stopping rule as liblinear's ``-s 3``).  ``n_iter``
    counts the passes plus the Newton steps, at most ``max_iter`` in all.
    ``groups`` (a callable, called only if smoothing Newton runs) gives the
    data's identical samples (:func:`fastlinear._merge.merge_groups`, or
    None): smoothing Newton then runs on the distinct rows.
    """
    stop = new_stop_flag() if stop is None else stop
    passes, switch = int(max_iter), switch_after_for(problem.X.n_cols)
    smoothing = max_iter - switch >= 2 and smoothing_pays(problem)
    free_set = (not smoothing and max_iter - FREE_SET_AFTER >= 2
                and free_set_pays(problem))
    if smoothing:
        passes = switch
    elif free_set:
        passes = FREE_SET_AFTER
    sol = dual_cd(problem, tol=tol, max_iter=passes, seed=seed, shrinking=shrinking,
                  verbose=verbose, alpha0=alpha0, stop=stop)
    # Newton steps and passes left (n_iter <= max_iter, and == max_iter when
    # the budget runs out, also after passes that stalled short of ``passes``).
    budget = int(max_iter) - sol.n_iter
    if (sol.status not in (Status.MAX_ITER, Status.STALLED) or budget < 2
            or not (smoothing or free_set)):
        return sol   # converged, every pass allowed was run, or no finish applies
    if free_set:
        return _free_set_rounds(problem, sol, tol=tol, budget=budget, seed=seed,
                                shrinking=shrinking, verbose=verbose, stop=stop)
    from ._merge import merged_problem
    from ._smoothed_hinge import smoothed_newton  # (it imports this module)

    found = None if groups is None else groups()
    merged = None if found is None else (merged_problem(problem, found), found[1])
    alpha, steps = smoothed_newton(problem, tol=tol,
                                   max_steps=min(SMOOTHED_MAX_STEPS, budget - 1),
                                   n_threads=n_threads, verbose=verbose, stop=stop,
                                   merged=merged)
    rest = dual_cd(problem, tol=tol, max_iter=budget - steps, seed=seed,
                   shrinking=shrinking, verbose=verbose, alpha0=alpha, stop=stop)
    return rest._replace(n_iter=sol.n_iter + steps + rest.n_iter,
                         solver="dual_cd+smoothed_newton")


def _free_set_rounds(problem, sol, *, tol, budget, seed, shrinking, verbose, stop):
    """Free-set Newton steps and passes of coordinate descent from ``sol``
    until the passes meet ``tol`` or ``budget`` (steps plus passes) is spent."""
    from ._free_set import free_set_step

    n_iter, rounds = sol.n_iter, 0
    while budget >= 2 and not stop[0]:
        with blas_threads(1):   # NumPy's dots split over BLAS threads: n_jobs would change bits
            alpha, cg_iter = free_set_step(problem, sol.alpha, tol=tol, stop=stop)
        if alpha is None:
            # No free sample, or too many for a step: coordinate descent goes on alone.
            rest = dual_cd(problem, tol=tol, max_iter=budget, seed=seed + rounds + 1,
                           shrinking=shrinking, verbose=verbose, alpha0=sol.alpha, stop=stop)
            return rest._replace(n_iter=n_iter + rest.n_iter,
                                 solver="dual_cd+free_set_newton" if rounds else "dual_cd")
        rounds += 1
        budget -= 1
        if verbose:
            print(f"free-set Newton step {rounds}: {cg_iter} CG iterations")
        # The last pass of the budget goes to these passes, not to a step
        # with no pass after it: n_iter then reaches max_iter exactly.
        passes = budget if budget < FREE_SET_PASSES + 2 else FREE_SET_PASSES
        sol = dual_cd(problem, tol=tol, max_iter=passes, seed=seed + rounds,
                      shrinking=shrinking, verbose=verbose, alpha0=alpha, stop=stop)
        n_iter += 1 + sol.n_iter
        budget -= sol.n_iter
        if sol.status not in (Status.MAX_ITER, Status.STALLED):
            break
    return sol._replace(n_iter=n_iter, solver="dual_cd+free_set_newton")


#: :func:`dual_then_smoothed` finishes with free-set Newton steps on data
#: with more than ``NARROW_FEATURES`` features when coordinate descent has
#: not met ``tol`` after this many passes.  Steps after 50 or 150 passes
#: (the NumPy prototype: conjugate gradients to 0.1 tol, at most 300
#: iterations; tol 1e-4, one thread, 2-core AMD EPYC Zen 5): one-vs-rest on
#: 20 Newsgroups (11,314 x 130,107) at C = 1 3.1 / 1.9 s against 2.2 s for
#: coordinate descent alone, whose problems mostly converge within 300
#: cheap shrunk passes; IMDB (25,000 x 438,654) at C = 1 0.7 / 1.4 s against
#: 5.3-5.9 s (1,074 passes) (``bench/results/EXPERIMENTS.md``).
FREE_SET_AFTER = 150
#: Passes of coordinate descent after each free-set step.
FREE_SET_PASSES = 20


def _liblinear_hinge(problem):
    """Whether ``problem`` is liblinear's ``-s 3`` (the hinge loss, the L2
    penalty on every weight, a penalised bias), with samples: the problem
    both finishes of :func:`dual_then_smoothed` solve."""
    return (problem.loss == "hinge" and problem.penalty == "l2" and problem.reg_bias
            and problem.lam == 1.0 and problem.n_samples > 0)


def free_set_pays(problem):
    """Whether :func:`dual_then_smoothed` finishes ``problem`` with free-set Newton steps."""
    return _liblinear_hinge(problem) and problem.X.n_cols > NARROW_FEATURES


#: :func:`dual_then_smoothed` finishes with smoothing Newton when the data
#: have at most ``NARROW_FEATURES`` features (the Hessian is formed) and
#: ``mean_i C_i ||x~_i||^2`` is at least this.  Dual coordinate descent's
#: passes grow with it and smoothing Newton's cost does not (45-75 steps on
#: a9a and w8a from C = 0.1 to 100, each about a Hessian pass); whole
#: solves on a 2-core AMD EPYC Zen 5, tol 1e-4, 1,000 passes against the
#: smoothed finish (``bench/results/EXPERIMENTS.md``): a9a (mean 14.9) 38
#: against 103 ms at C = 1, 183 (not converged) against 100 ms at C = 10;
#: w8a (mean 12.7) 75 against 242 ms at C = 1, 248 (not converged) against
#: 269 ms at C = 10, 427 against 273 ms at C = 100.
SMOOTHED_THRESHOLD = 100.0
#: Newton steps of the smoothed finish at most.
SMOOTHED_MAX_STEPS = 200


def smoothing_pays(problem):
    """Whether :func:`dual_then_smoothed` finishes ``problem`` with smoothing Newton.

    ``mean_i C_i ||x~_i||^2`` lies between the smallest and the largest
    ``C_i`` times ``mean_i ||x~_i||^2``, which the proof of X carries
    (``sq_sum``); the row norms are summed only when the threshold falls
    between the two bounds.  (Summing them always cost 1.1 ms of a 19 ms
    fit on a9a at C = 0.1, where the lower bound decides.)
    """
    if not _liblinear_hinge(problem) or problem.X.n_cols > NARROW_FEATURES:
        return False
    n = problem.n_samples
    mean_sq = (float(problem.X.sq_sum) + n * float(problem.bias) ** 2) / n
    cost = problem.cost
    # The margins keep the bounds' rounding from deciding a tie.
    if float(cost.max()) * mean_sq < (1.0 - 1e-9) * SMOOTHED_THRESHOLD:
        return False
    if float(cost.min()) * mean_sq > (1.0 + 1e-9) * SMOOTHED_THRESHOLD:
        return True
    return float(cost @ _row_sq_norms(problem)) / n >= SMOOTHED_THRESHOLD


def _row_sq_norms(problem):
    """``||x~_i||^2`` of every row, the constant feature included."""
    X = problem.X
    data = np.asarray(X.data, dtype=np.float64)
    rows = np.repeat(np.arange(X.n_rows), np.diff(np.asarray(X.indptr)))
    return np.bincount(rows, data * data, minlength=X.n_rows) + float(problem.bias) ** 2


#: Passes of dual coordinate descent before ``dual="auto"`` switches to the
#: primal Newton solver (liblinear 2.42+ switches after 300 as well).
SWITCH_AFTER = 300
#: The same on data with at most ``NARROW_FEATURES`` features, where a Newton
#: step costs a few passes and one started from 40 passes' weights finishes
#: in 2-4 steps.  Whole binary solves, squared hinge, tol 1e-4, medians of 5
#: on a 2-core AMD EPYC Zen 5, at the C where :func:`prefer_primal` picks
#: the dual (``bench/results/EXPERIMENTS.md``): w8a at C = 0.1 took 114
#: passes (37 ms) and now 40 passes and 3 steps (23 ms), at C = 0.03 40
#: passes either way; a9a, dna and satimage at C = 0.01-0.1 converge within
#: 46 passes (within 5 % either way).
SWITCH_AFTER_NARROW = 40
#: The same where the Newton steps are exact (:func:`primal_newton`): from 15
#: passes' weights they finish in 1-3 steps.  ``LinearSVC(C=C)``, squared
#: hinge, tol 1e-4, medians of 7 alternated fits on a 2-core AMD EPYC Zen 5
#: (switch after 8 / 10 / 15 / 40 passes): a9a at C = 0.1 16.8 / 17.0 / 18.9
#: / 28.8 ms, at C = 0.01 12.8 / 13.6 / 11.4 / 11.4 (13 passes converge);
#: w8a at C = 0.1 19.1 / 20.5 / 21.4 / 24.9 ms, at C = 0.003 14.4 / 12.6 /
#: 12.6 / 12.3.
SWITCH_AFTER_EXACT = 15
#: The primal tolerance after a switch, relative to the dual's ``tol``.
SWITCH_TOL_FACTOR = 0.1

#: ``dual="auto"`` solves the primal (Newton) from the start when
#: ``C * mean ||x~_i||^2`` exceeds :func:`primal_threshold` and
#: ``n_samples > n_features`` (squared losses, L2 penalty).  Dual coordinate
#: descent needs passes roughly in proportion to ``C * mean ||x~_i||^2``;
#: Newton's cost hardly depends on C but grows with the number of features
#: (its conjugate gradients need more steps), so the crossover moves with
#: it.  Measured (squared hinge, tol 1e-4, one thread, medians of 5 on a
#: 2-core AMD EPYC; dual / Newton / scikit-learn's default):
#:
#: - a9a (123 features, mean 14.9): 0.028 / 0.058 / 0.071 s at C = 0.1
#:   (C * mean 1.5), 0.064 / 0.047 / 0.076 s at C = 0.3 (4.5);
#: - w8a (300 features, mean 12.7): 0.038 / 0.028 / 0.040 s at C = 0.1 (1.3),
#:   0.086 / 0.029 / 0.043 s at C = 0.3 (3.8);
#: - a 200k x 50k text-like set (mean 2.0): 1.0 / 3.4 s at C = 1 (2),
#:   6.1 / 4.6 s at C = 10 (20).
PRIMAL_THRESHOLD = 10.0
#: The threshold for data with at most ``NARROW_FEATURES`` features.
PRIMAL_THRESHOLD_NARROW = 2.0
NARROW_FEATURES = 1000


def switch_after_for(n_features):
    """Passes of dual coordinate descent before ``dual="auto"`` switches to
    Newton (:data:`SWITCH_AFTER`, :data:`SWITCH_AFTER_NARROW`)."""
    return SWITCH_AFTER_NARROW if n_features <= NARROW_FEATURES else SWITCH_AFTER


def primal_threshold(n_features):
    """The ``C * mean ||x~_i||^2`` above which ``dual="auto"`` starts with Newton."""
    return PRIMAL_THRESHOLD_NARROW if n_features <= NARROW_FEATURES else PRIMAL_THRESHOLD


def prefer_primal(X, C, loss, bias):
    """The ``dual="auto"`` rule: whether the primal Newton solver should fit C.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR
        Its ``sq_sum`` (computed by the one scan of the data) gives
        ``mean_i ||x_i||^2`` without another pass.
    C : float
    loss : str
    bias : float
        Value of the constant feature (0 without intercept).
    """
    if loss not in ("squared_hinge", "squared_epsilon_insensitive") or X.n_rows <= X.n_cols:
        return False
    mean_sq = X.sq_sum / max(X.n_rows, 1) + bias * bias
    return C * mean_sq > primal_threshold(X.n_cols)


def choose_solver(*, penalty, loss, dual, multi_class, X, C, bias):
    """The solver for ``LinearSVC``'s (or ``LinearSVR``'s) parameters: one rule, for every caller.

    Returns one of ``"crammer_singer"``, ``"dual_cd"``, ``"newton"``,
    ``"l1_cd"`` (the ``kernel`` of the solver table's row,
    :mod:`fastlinear._solver_table`) or ``"dual_then_newton"``
    (``dual="auto"`` with a squared loss on data where the dual is expected
    to be fast: switch if not).  The regression losses (``LinearSVR``)
    follow the same rule with ``penalty="l2"``.  Raises scikit-learn's
    ``ValueError`` for the combinations no row solves
    (:func:`fastlinear._solver_table.forms_for`).  ``dual="auto"`` takes
    the one row where only one exists (hinge: dual; L1 penalty: primal)
    and chooses by :func:`prefer_primal` where both do.
    """
    if multi_class == "crammer_singer":
        return _solver_table.by_type("MCSVM_CS").kernel
    regression = loss in ("epsilon_insensitive", "squared_epsilon_insensitive")
    forms = _solver_table.forms_for("LinearSVR" if regression else "LinearSVC", loss,
                                    penalty, dual)
    if len(forms) == 1:
        return next(iter(forms.values())).kernel
    return "newton" if prefer_primal(X, C, loss, bias) else "dual_then_newton"


def solve(solver, problem, *, tol, max_iter, seed, shrinking=True, verbose=0,
          alpha0=None, w0=None, stop=None, n_threads=1, XT=None, groups=None):
    """Run the solver :func:`choose_solver` named on one binary or regression problem.

    ``alpha0`` starts the dual solvers, ``w0`` the primal ones; ``XT`` (the
    CSR proof of X transposed) is needed by ``"l1_cd"`` only; ``n_threads``
    splits Newton's products; ``groups`` (:func:`dual_then_smoothed`) lets
    the hinge loss's Newton finish solve the distinct samples.  ``max_iter=0`` returns the start point
    (:func:`no_iterations`).  Crammer and Singer's joint problem has its own
    entry point, :func:`crammer_singer`.
    """
    if max_iter == 0:
        return no_iterations(problem, w0)
    if solver == "l1_cd":
        return l1_cd(problem, XT, tol=tol, max_iter=max_iter, seed=seed, shrinking=shrinking,
                     w0=w0, verbose=verbose, stop=stop)
    if solver == "newton":
        return primal_newton(problem, tol=tol, max_iter=max_iter, w0=w0, n_threads=n_threads,
                             verbose=verbose, stop=stop)
    if solver == "dual_cd" and problem.loss == "hinge":
        return dual_then_smoothed(problem, tol=tol, max_iter=max_iter, seed=seed,
                                  shrinking=shrinking, verbose=verbose, alpha0=alpha0,
                                  stop=stop, n_threads=n_threads, groups=groups)
    if solver == "dual_cd":
        return dual_cd(problem, tol=tol, max_iter=max_iter, seed=seed, shrinking=shrinking,
                       verbose=verbose, alpha0=alpha0, stop=stop)
    if solver == "dual_then_newton":
        return dual_then_newton(problem, tol=tol, max_iter=max_iter, seed=seed,
                                shrinking=shrinking, verbose=verbose, alpha0=alpha0,
                                stop=stop, n_threads=n_threads)
    raise ValueError(f"Unknown solver {solver!r}.")


def no_iterations(problem, w0):
    """``max_iter=0``: the start point, unfitted (as liblinear with no iteration)."""
    w = np.zeros(problem.n_features + 1) if w0 is None else np.array(w0, dtype=np.float64)
    alpha = np.zeros(problem.n_samples)
    return Solution(w, alpha, 0, Status.MAX_ITER, np.inf, "none")


def no_decrease_text(sol):
    """What a :class:`Solution` whose line search failed far from the optimum
    (``LINE_SEARCH_FAILED`` after :func:`settle`) tells the user."""
    return (f"The {sol.solver} solver's line search found no decrease after {sol.n_iter} "
            f"Newton steps, with its stopping measure at {sol.measure:.3g} > {sol.threshold:.3g}, "
            "far from rounding level: its steps no longer change the objective in float64 "
            "at the scale of X. Scale the features (StandardScaler / MaxAbsScaler)")


def _worst(solutions, status):
    """``(k, solution)`` of the problem ended with ``status`` that has the
    largest stopping measure, or None."""
    ended = [k for k, sol in enumerate(solutions) if sol.status == status]
    if not ended:
        return None
    k = max(ended, key=lambda k: solutions[k].measure)
    return k, solutions[k]


def warn_if_stuck(est, solutions, max_iter=None):
    """Warn (``ConvergenceWarning``) when a solver stopped at ``max_iter``
    (``est.max_iter`` unless the solver had its own bound), naming the
    problem with the largest stopping measure, when its passes stopped
    changing anything far from the optimum (``STALLED``, :func:`settle`)
    or when its line search found no decrease there
    (:func:`settle`)."""
    def threshold_of(sol):
        return est.tol if np.isnan(sol.threshold) else sol.threshold

    frozen = _worst(solutions, Status.STALLED)
    if frozen is not None:
        k, sol = frozen
        warnings.warn(
            f"{type(est).__name__} failed to converge. The {sol.solver} solver stopped after "
            f"{sol.n_iter} passes (problem {k}): its last passes changed no weight (every "
            "coordinate step was zero or below liblinear's bound of 1e-12), while its "
            f"stopping measure is {sol.measure:.3g} > {threshold_of(sol):.3g}. This happens "
            "when the values of X are extreme for C, or when identical samples carry "
            "different labels. Scale the features (StandardScaler / MaxAbsScaler).",
            ConvergenceWarning, stacklevel=4)
    no_decrease = _worst(solutions, Status.LINE_SEARCH_FAILED)
    if no_decrease is not None:
        k, sol = no_decrease
        warnings.warn(
            f"{type(est).__name__} failed to converge. {no_decrease_text(sol)} "
            f"(problem {k}).", ConvergenceWarning, stacklevel=4)
    stuck = _worst(solutions, Status.MAX_ITER)
    if stuck is None:
        return
    worst, sol = stuck
    bound = est.max_iter if max_iter is None else max_iter
    if sol.solver == "none":    # (no_iterations)
        warnings.warn(
            f"{type(est).__name__} failed to converge, increase the number of iterations: "
            f"with max_iter={bound} no solver ran, and the weights are the start point "
            "(zero, or the warm start's).", ConvergenceWarning, stacklevel=4)
        return
    unit = "Newton steps" if sol.solver == "newton" else "iterations"
    threshold = threshold_of(sol)
    scaled = "" if threshold == est.tol else f" (tol={est.tol} as the solver scales it)"
    warnings.warn(
        f"{type(est).__name__} failed to converge, increase the number of iterations: "
        f"the {sol.solver} solver stopped at max_iter={bound} {unit} "
        f"(problem {worst}) with its stopping measure at {sol.measure:.3g} > "
        f"{threshold:.3g}{scaled}. Increase max_iter, raise tol, lower C, or scale "
        "the features (StandardScaler / MaxAbsScaler).",
        ConvergenceWarning,
        stacklevel=4,
    )
