"""Newton steps on the free variables of the hinge loss's dual: its finish on wide data.

The problem is liblinear's ``-s 3`` (L1-loss SVM, L2 penalty on every
weight, the bias weight last) in its dual::

    min_a  D(a) = 1/2 a'Qa - sum_i a_i,    0 <= a_i <= C_i,
    Q_ij = y_i y_j x~_i . x~_j,            w(a) = sum_i y_i a_i x~_i

with the gradient ``G = Qa - 1``, ``G_i = y_i w(a) . x~_i - 1``.  Dual
coordinate descent stops when the spread of the projected gradients is at
most ``tol`` (:mod:`fastlinear._smoothed_hinge` spells the test out).

Why a finish.  At large C on text, coordinate descent moves every ``a_i``
by a one-variable step while the free variables (``0 < a_i < C_i``, the
samples on the margin) are coupled through ``Q``: IMDB's 25,000 x 438,654
TF-IDF at C = 1 runs 1,074 passes, 20 Newsgroups' one-vs-rest problems at
C = 10 most of them more than 1,000.  On wide data (more features than free
samples) ``Q_FF``, the block of the free variables, is nonsingular, and
the Newton step on ``D`` restricted to them solves

    Q_FF d = -G_F

which is where ``D`` is least over the free variables with the others
fixed (``D`` is quadratic: the step is exact, not a model).  On data with
few features ``Q_FF`` is singular and its least-norm solution leaves the
box (``bench/results/EXPERIMENTS.md``, "Hinge loss at large C");
:mod:`fastlinear._smoothed_hinge` finishes there, and a step is declined
when the free samples outnumber half the columns they use.

One step (:func:`free_set_step`):

1. ``F`` = the free samples; ``G_F`` from ``X~_F w``.
2. ``d`` by conjugate gradients on ``Q_FF d = -G_F``, matrix-free (``Q_FF
   v = Y_F X~_F X~_F' Y_F v``, two products with the free rows), from
   ``d = 0``, until ``max_i |r_i| <= CG_TOL * tol`` (the residual is the
   new ``G_F``: the free samples then meet the test with room to spare),
   at most ``CG_MAX_ITER`` iterations, or when a direction has no curvature.
3. A projected search: ``a(t) = clip(a + t d)`` on ``F`` for ``t = 1, 1/2,
   ...`` (at most ``MAX_HALVINGS`` trials), the first ``t`` at which ``D``
   decreases, computed as ``w.dw + |dw|^2 / 2 - sum_i da_i`` (no difference
   of two large sums).  No decrease: ``a`` is left as it is.

The loop (:func:`fastlinear._solvers.dual_then_smoothed`): coordinate
descent for ``FREE_SET_AFTER`` passes; if they do not meet ``tol``, steps,
each followed by ``FREE_SET_PASSES`` passes of coordinate descent from the
new ``a``, until its own test holds.  Coordinate descent releases the
samples that the step left at a bound, catches those that should have been
free, and decides convergence: the problem, the stopping rule and the
solution's meaning are liblinear's.
"""
import numpy as np

from ._parallel import new_stop_flag

__all__ = ["free_set_step"]

#: Conjugate gradients stop when the largest residual is at most this times
#: ``tol``.  The dual's test would be met at 0.5, but the primal objective
#: pays ``C_i`` for every unit of margin a free sample misses: IMDB at
#: C = 100, where scikit-learn's coordinate descent converges after 562
#: passes, came out 2e-4 above its objective at 0.5, 1.6e-5 above at 0.1 and
#: below it at 0.02, in the same time (1.9-2.1 s).
CG_TOL = 0.02
#: Conjugate-gradient iterations per step at most.  One-vs-rest on 20
#: Newsgroups at C = 10: 4.1 s with 100, 5.3 s with 200 (and 6.6 s with 300
#: at a tolerance of 0.1); 50 was as fast but one problem took 595
#: iterations at C = 100, and 30 left one short of ``tol`` after 1,000.
CG_MAX_ITER = 100
#: Halvings of the projected search at most.
MAX_HALVINGS = 20
#: The step is taken only when the free samples are at most this share of
#: the columns they use (the constant feature included): otherwise ``Q_FF``
#: is singular or nearly so.  A 200,000 x 50,000 synthetic set at C = 100
#: had 50,000-79,000 free samples; its steps, each 100 conjugate-gradient
#: iterations, lowered D less than the 20 passes after them did.
MAX_FREE_SHARE = 0.5


def free_set_step(problem, alpha, *, tol, stop=None):
    """One Newton step on the free variables of the hinge loss's dual.

    Parameters
    ----------
    problem : fastlinear._problem.LinearProblem
        The hinge loss, the L2 penalty, a penalised bias (liblinear's ``-s 3``).
    alpha : ndarray of shape (n_samples,)
        Dual variables inside the box ``[0, C_i]``; not modified.
    tol : float
        The dual's stopping tolerance (the spread of projected gradients).
    stop : uint8 ndarray of shape (1,), optional
        The fit's shared stop flag: conjugate gradients end at the next
        iteration once it is set.

    Returns
    -------
    alpha : ndarray of shape (n_samples,) or None
        The new dual variables (a copy; equal to the input when no step
        decreases ``D``), or None when there is no free sample or too many
        for the columns they use (:data:`MAX_FREE_SHARE`): no step is made.
    cg_iter : int
        Conjugate-gradient iterations run.
    """
    stop = new_stop_flag() if stop is None else stop
    alpha = np.array(alpha, dtype=np.float64)
    free = np.flatnonzero((alpha > 0.0) & (alpha < problem.cost))
    if free.size == 0:
        return None, 0   # every variable at a bound: no step to take
    if free.size > MAX_FREE_SHARE * (problem.n_features + 1):
        return None, 0   # the bound below holds before the rows are read
    rows = _FreeRows(problem, free)
    if free.size > MAX_FREE_SHARE * (rows.columns.size + 1):
        return None, 0
    y_f = problem.y[free]
    w = rows.weights(problem, alpha)
    grad = y_f * rows.scores(w) - 1.0
    d, cg_iter = _conjugate_gradients(rows, y_f, -grad, CG_TOL * tol, stop)
    a_f = alpha[free]
    upper = problem.cost[free]
    t = 1.0
    for _ in range(MAX_HALVINGS):
        step = np.clip(a_f + t * d, 0.0, upper) - a_f
        dw = rows.transposed(y_f * step)
        change = float(w @ dw + 0.5 * (dw @ dw) - step.sum())
        if change < 0.0:
            alpha[free] = a_f + step
            break
        t *= 0.5
    return alpha, cg_iter


def _conjugate_gradients(rows, y_f, rhs, atol, stop):
    """``Q_FF d = rhs`` from ``d = 0`` (module docstring, step 2)."""
    d = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    rr = float(r @ r)
    it = 0
    while it < CG_MAX_ITER and not stop[0]:
        if not np.abs(r).max() > atol:
            break
        u = rows.transposed(y_f * p)
        curvature = float(u @ u)
        if not curvature > 0.0:
            break   # p is in the null space of X~_F' Y_F: no curvature along it
        q = y_f * rows.scores(u)
        step = rr / curvature
        d += step * p
        r -= step * q
        rr_next = float(r @ r)
        p *= rr_next / rr
        p += r
        rr = rr_next
        it += 1
    return d, it


class _FreeRows:
    """The free rows of ``X~`` on the columns they use (float64), and the constant feature.

    Vectors in feature space have the used columns' entries, then the bias
    weight's: a conjugate-gradient iteration never touches the features
    that no free sample has.
    """

    def __init__(self, problem, free):
        X = problem.X.to_scipy()[free]
        used = np.zeros(X.shape[1], dtype=bool)
        used[X.indices] = True
        self.columns = np.flatnonzero(used)
        X = X[:, self.columns].astype(np.float64, copy=False)
        X.sort_indices()
        self.X = X
        self.XT = X.T   # CSC: the product scatters into the used columns
        self.bias = float(problem.bias)

    def weights(self, problem, alpha):
        """``w(a) = X~' (y a)`` over every row, on the used columns."""
        u = problem.y * alpha
        w = np.asarray(problem.X.to_scipy().T @ u, dtype=np.float64)
        return np.concatenate([w[self.columns], [problem.bias * u.sum()]])

    def scores(self, v):
        """``X~_F v``."""
        return self.X @ v[:-1] + self.bias * v[-1]

    def transposed(self, u):
        """``X~_F' u``."""
        out = np.empty(self.XT.shape[0] + 1)
        out[:-1] = self.XT @ u
        out[-1] = self.bias * u.sum()
        return out
