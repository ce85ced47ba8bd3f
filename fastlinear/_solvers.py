"""The solvers of a :class:`~fastlinear._problem.LinearProblem`, and the rule that picks one.

Each solver takes a problem and returns a :class:`Solution`; the estimators
never call a kernel directly.  The ``dual="auto"`` rule lives here, next to
the solvers it chooses between, so that ``LinearSVC``, ``LinearSVCCV`` and
the CLI share it.
"""
from enum import IntEnum
from typing import NamedTuple, Optional

import numpy as np

from . import _dual_cd_fast, _newton_fast
from ._parallel import new_stop_flag

__all__ = [
    "PRIMAL_THRESHOLD",
    "Solution",
    "Status",
    "dual_cd",
    "newton",
    "newton_tol",
    "prefer_primal",
]


class Status(IntEnum):
    """How a kernel ended (the values of ``src_c/_status.pxd``)."""

    CONVERGED = 0
    MAX_ITER = 1
    INTERRUPTED = 2
    DIVERGED = 3


_DUAL_LOSS = {
    "hinge": int(_dual_cd_fast.Loss.LOSS_HINGE),
    "squared_hinge": int(_dual_cd_fast.Loss.LOSS_SQUARED_HINGE),
    "epsilon_insensitive": int(_dual_cd_fast.Loss.LOSS_EPSILON_INSENSITIVE),
    "squared_epsilon_insensitive": int(_dual_cd_fast.Loss.LOSS_SQUARED_EPSILON_INSENSITIVE),
}


#: The Newton kernel's status when its line search finds no decrease: the
#: gradient is at rounding level for the data's scale; counted as converged.
_LINE_SEARCH_FAILED = 4


class Solution(NamedTuple):
    """What a solver returns for one problem."""

    w: np.ndarray  # (n_features + 1,), the bias weight last
    alpha: Optional[np.ndarray]  # dual variables (signed for regression), if any
    n_iter: int  # passes (dual) or Newton steps (primal)
    status: Status
    measure: float  # the stopping measure when the solver ended
    solver: str


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
        loss=_DUAL_LOSS[problem.loss], bias=problem.bias, tol=float(tol),
        max_iter=int(max_iter), seed=int(seed), shrinking=bool(shrinking),
        epsilon=problem.epsilon, verbose=int(verbose), sigma=float(sigma),
        w_from_alpha=w_from_alpha,
        stop=new_stop_flag() if stop is None else stop,
    )
    return Solution(w, alpha, int(n_iter), Status(status), float(measure), "dual_cd")


def newton_tol(problem, tol):
    """liblinear's primal tolerance: ``tol`` scaled by ``max(min(n+, n-), 1) / n``
    for classification (``n`` counts the samples of positive cost), as is for
    regression."""
    if problem.is_regression:
        return float(tol)
    used = problem.cost > 0
    n_pos = int(np.count_nonzero(used & (problem.y > 0)))
    n_used = int(np.count_nonzero(used))
    return float(tol) * max(min(n_pos, n_used - n_pos), 1) / max(n_used, 1)


def newton(problem, *, tol, max_iter, w0=None, n_threads=1, verbose=0, stop=None):
    """Truncated Newton on the primal (liblinear ``-s 2`` and ``-s 11``).

    ``tol`` is liblinear's criterion on the gradient norm relative to its
    value at ``w = 0`` (scaled by :func:`newton_tol`); ``max_iter`` counts
    Newton steps.  The dual variables are recovered from the solution
    (``problem.alpha_from_w``).  ``n_threads`` splits every product with X
    over threads (results equal up to rounding).
    """
    if not problem.squared:
        raise ValueError(f"The primal Newton solver needs a squared loss, not {problem.loss!r}.")
    w = np.zeros(problem.n_features + 1) if w0 is None else np.array(w0, dtype=np.float64)
    n_iter, status, measure = _newton_fast.newton(
        problem.X, problem.y, problem.cost, w, regression=problem.is_regression,
        bias=problem.bias, epsilon=problem.epsilon, tol=newton_tol(problem, tol),
        max_iter=int(max_iter), warm_start=w0 is not None, n_threads=int(n_threads),
        verbose=int(verbose), stop=new_stop_flag() if stop is None else stop,
    )
    status = Status.CONVERGED if status == _LINE_SEARCH_FAILED else Status(status)
    return Solution(w, problem.alpha_from_w(w), int(n_iter), status, float(measure), "newton")


#: ``dual="auto"`` solves the primal (Newton) when ``C * mean ||x~_i||^2``
#: exceeds this (squared hinge, n_samples > n_features).  Dual coordinate
#: descent needs passes roughly in proportion to it: on an a9a fold
#: (``mean ||x~||^2 = 15``), 267 passes at C = 1, 1,950 at C = 10, 12,702 at
#: C = 100 (warm-started), against 6 to 8 Newton steps at any C.
PRIMAL_THRESHOLD = 100.0


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
    if loss != "squared_hinge" or X.n_rows <= X.n_cols:
        return False
    mean_sq = X.sq_sum / max(X.n_rows, 1) + bias * bias
    return C * mean_sq > PRIMAL_THRESHOLD
