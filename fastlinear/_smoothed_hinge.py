"""A smoothing Newton method for the hinge loss on few features: the finish of its dual.

The problem is liblinear's ``-s 3`` (L1-loss SVM, L2 penalty on every
weight, the bias weight last)::

    P(w) = 1/2 ||w||^2 + sum_i C_i max(0, r_i),     r_i = 1 - y_i w . x~_i

and its dual ``D(a) = 1/2 ||w(a)||^2 - sum_i a_i``, ``0 <= a_i <= C_i``,
``w(a) = sum_i y_i a_i x~_i`` (:mod:`fastlinear._problem`).  Dual coordinate
descent stops when the spread of the projected gradients ``PG_i`` of ``D``
is at most ``tol`` (liblinear's test): ``G_i = y_i w(a) . x~_i - 1``, which
is ``-r_i`` at ``w = w(a)``, and ``PG_i = min(G_i, 0)`` at ``a_i = 0``,
``max(G_i, 0)`` at ``a_i = C_i``, ``G_i`` in between.

Why a finish.  At large C the dual is degenerate: more samples sit on the
margin than there are weights (w8a at C = 10: 522 free ``a_i`` for 301
weights), their ``a_i`` are not unique, and coordinate descent meets the
test only after tens of thousands of passes (``bench/results/EXPERIMENTS.md``).
The primal ``w`` is unique, and on few features it is cheap to compute by
Newton's method on a smoothed problem.

The smoothing (Chen-Harker-Kanzow-Smale)::

    phi_mu(r) = (r + sqrt(r^2 + 4 mu^2)) / 2      (-> max(0, r) as mu -> 0)
    f_mu(w) = 1/2 ||w||^2 + sum_i C_i phi_mu(r_i)

is twice differentiable with ``phi' = (1 + r / s) / 2`` in (0, 1) and
``phi'' = 2 mu^2 / s^3 > 0`` (``s = sqrt(r^2 + 4 mu^2)``), so Newton's
quadratic model holds on every sample (a piecewise-quadratic smoothing such
as Huber's has no curvature outside a band, and its Newton steps crossed the
band back and forth: 353 steps on w8a at C = 10 against 74).  The loop,
from ``w = 0`` and ``mu = MU_START``:

1. ``g = w - sum_i C_i phi'(r_i) y_i x~_i`` and ``H = I + sum_i C_i
   phi''(r_i) x~_i x~_i^T`` (rows whose weight is below ``1e-12`` of the
   largest are skipped: as ``mu`` falls only the samples near the margin
   remain).
2. ``H d = -g`` by Cholesky; a line search for the minimum of ``f_mu``
   along ``d`` (Newton's method on its smooth derivative, ``O(n)`` per
   trial with ``X~ d`` computed once), ended at ``|psi'(t)| <= WOLFE
   |psi'(0)|`` (backtracking by halves took 86 steps on w8a at C = 10
   against 69).
3. ``mu <- max(MU_FACTOR mu, mu_min)`` after a step of length 1 or more,
   or once ``max |g|`` is below ``1e-2 max C_i``: the iterate stays close
   to the path of smoothed optima while ``mu`` falls.
4. Stop at ``mu_min = MU_MIN_FACTOR tol`` when ``||g||_2 max_i ||x~_i||``
   is below ``tol / 10``, after ``FINAL_STEPS`` steps there, or after
   ``max_steps`` steps.

The certificate.  At the optimum of ``f_mu``, ``w = w(a)`` for ``a_i = C_i
phi'(r_i)``, inside the box, and ``G_i = -r_i``.  A sample far outside the
margin (``r_i << -mu``) has ``a_i ~ C_i mu^2 / r_i^2``, one far inside it
``a_i ~ C_i``; rounding ``a_i`` within ``ROUND C_i`` of a bound onto the
bound gives those ``PG_i = 0``, and the samples left between the bounds
have ``|r_i|`` below about ``1000 mu = 0.1 tol``.  So ``a`` nearly meets
liblinear's test as it is; dual coordinate descent started from it (which
recomputes ``w(a)``) checks the test in its first pass and repairs what
rounding left (a9a and w8a at C = 0.1 to 100: 1 to 6 passes).  The
stopping test, the problem and the solution's meaning are liblinear's.
"""
import numpy as np
import scipy.linalg

from ._newton_cholesky import RIDGE, _Rows
from ._parallel import blas_threads, new_stop_flag

__all__ = ["smoothed_newton"]

#: The first smoothing width (in units of the margin).
MU_START = 1.0
#: The factor by which ``mu`` falls (step 3).
MU_FACTOR = 0.3
#: The last ``mu``, relative to the dual's ``tol`` (step 4).
MU_MIN_FACTOR = 1e-4
#: ``a_i`` within ``ROUND C_i`` of a bound is put on the bound (the certificate).
ROUND = 1e-6
#: A step at least this long counts as a full one (step 3).
FULL_STEP = 1.0
#: Newton steps at ``mu_min`` at most (near rounding level ``f`` no longer
#: resolves their decrease, and ``max |g|`` stalls).
FINAL_STEPS = 5
#: The line search ends where ``|psi'(t)| <= WOLFE |psi'(0)|``.
WOLFE = 0.1
#: Iterations of the line search at most.
LINE_STEPS = 20
#: Rows of a Hessian weight below this fraction of the largest are skipped.
NEGLIGIBLE = 1e-12


def _smoothed(r, mu):
    """``(phi', phi'')`` of the smoothed hinge at residuals ``r``.

    Far outside the margin (``r << -mu``) ``phi' = (1 + r / s) / 2`` loses its
    relative precision but not its absolute one (``1e-16``), which is what
    the gradient and the certificate need."""
    s = np.sqrt(r * r + 4.0 * mu * mu)
    d1 = r / s
    d1 += 1.0
    d1 *= 0.5
    d2 = s * s
    d2 *= s
    np.divide(2.0 * mu * mu, d2, out=d2)
    return d1, d2


def _value(w, r, cost, mu):
    """``f_mu(w)``; ``phi`` as ``4 mu^2 / (s - r) / 2`` where ``r < 0`` (no
    cancellation far outside the margin)."""
    s = np.sqrt(r * r + 4.0 * mu * mu)
    phi = np.where(r >= 0, r + s, 4.0 * mu * mu / np.maximum(s - r, np.finfo(float).tiny))
    return 0.5 * float(w @ w) + 0.5 * float(cost @ phi)


def smoothed_newton(problem, *, tol, max_steps, n_threads=1, verbose=0, stop=None,
                    merged=None):
    """The smoothing Newton loop of the module docstring on a hinge problem.

    Parameters
    ----------
    problem : fastlinear._problem.LinearProblem
        A binary problem with the hinge loss and the L2 penalty on every weight.
    tol : float
        The dual's tolerance (the projected-gradient spread of liblinear's test).
    max_steps : int
        Newton steps at most.
    n_threads : int, default=1
        Threads of the Hessian pass and of the Cholesky factorisation.
    verbose : int, default=0
    stop : uint8 ndarray of shape (1,), optional
        The fit's shared stop flag: the loop returns at the next step.
    merged : (LinearProblem, ndarray of shape (n_samples,)), optional
        ``problem`` on its distinct samples
        (:func:`fastlinear._merge.merged_problem`) and the row of each
        sample among them.  The Newton steps then run on those rows (the
        same ``f_mu``, fewer rows in each pass) and the certificate is
        built for every sample from its row's residual.

    Returns
    -------
    alpha : ndarray of shape (n_samples,)
        The certificate: dual variables in ``[0, C_i]``, rounded onto the
        bounds within ``ROUND C_i``.
    steps : int
        Newton steps taken.
    """
    if problem.loss != "hinge" or problem.is_regression or not problem.reg_bias:
        raise ValueError("smoothed_newton: a hinge-loss problem with a penalised bias.")
    stop = new_stop_flag() if stop is None else stop
    on, row_of = (problem, None) if merged is None else merged
    X, y, cost, bias = on.X, on.y, on.cost, float(on.bias)
    n, m = X.n_rows, X.n_cols + 1
    rows = _Rows(X, bias, n_threads, stop)
    x_norm = float(np.sqrt(X.max_row_sq + bias * bias))   # max_i ||x~_i||
    # (the samples' largest C_i: the same schedule of mu on merged rows)
    top_cost = float(problem.cost.max()) if problem.n_samples else 0.0
    mu_min = MU_MIN_FACTOR * float(tol)
    w = np.zeros(m)
    r = np.ones(n)        # 1 - y_i w . x~_i at w = 0
    mu, steps, final = max(MU_START, mu_min), 0, 0
    while steps < max_steps and not stop[0]:
        d1, d2 = _smoothed(r, mu)
        g = w.copy()
        rows.transpose_product((-(cost * d1) * y).reshape(-1, 1), g.reshape(-1, 1))
        g_max = float(np.max(np.abs(g)))
        if verbose:
            print(f"smoothed newton step {steps:3d}  mu {mu:.2e}  f {_value(w, r, cost, mu):.12g}"
                  f"  max|g| {g_max:.3e}")
        if mu <= mu_min and float(np.linalg.norm(g)) * x_norm <= 0.1 * tol:
            break
        weight = cost * d2
        weight[weight < NEGLIGIBLE * float(weight.max(initial=0.0))] = 0.0
        H = np.eye(m)
        rows.binary_hessian(weight, H)
        d = _newton_direction(H, g, rows.blas_n)
        if d is None:
            break     # H beyond float64's reach (C ~ 1e10): the passes go on alone
        dr = np.empty((n, 1))
        rows.scores(d.reshape(-1, 1), dr)
        dr = -y * dr[:, 0]
        t = _line_minimum(w, r, d, dr, cost, mu, float(g @ d))
        w += t * d
        r += t * dr
        steps += 1
        if verbose > 1:
            print(f"  step length {t:.3g}")
        if mu <= mu_min:
            final += 1
            if t == 0.0 or final >= FINAL_STEPS:
                break     # at rounding level: the certificate's passes repair the rest
        if t >= FULL_STEP or g_max <= 1e-2 * top_cost:
            mu = max(MU_FACTOR * mu, mu_min)
    if row_of is not None:
        r, cost = r[row_of], problem.cost
    alpha = cost * _smoothed(r, mu)[0]
    alpha[alpha <= ROUND * cost] = 0.0
    top = alpha >= (1.0 - ROUND) * cost
    alpha[top] = cost[top]
    return alpha, steps


def _newton_direction(H, g, n_threads):
    """``-H^-1 g`` by Cholesky; with a ridge of ``RIDGE`` (Newton-Cholesky's)
    times each diagonal
    entry if that fails (weights near 1e16 times the identity's make ``H``
    numerically indefinite); None if that fails too."""
    with blas_threads(n_threads):
        for ridge in (0.0, RIDGE):
            if ridge:
                H[np.diag_indices_from(H)] *= 1.0 + ridge
            try:
                factor = scipy.linalg.cho_factor(H, check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                continue
            d = -scipy.linalg.cho_solve(factor, g, check_finite=False)
            if np.all(np.isfinite(d)):
                return d
    return None


def _line_minimum(w, r, d, dr, cost, mu, slope):
    """A step ``t`` along ``d`` where ``|psi'(t)| <= WOLFE |psi'(0)|``,
    ``psi(t) = f_mu(w + t d)``: Newton's method on ``psi'`` (smooth, increasing)
    from ``t = 1``, kept inside the bracket of the minimum; 0 when ``d`` is
    not a descent direction."""
    if not slope < 0:
        return 0.0
    wd, dd = float(w @ d), float(d @ d)
    lo, hi, t = 0.0, np.inf, 1.0
    for _ in range(LINE_STEPS):
        d1, d2 = _smoothed(r + t * dr, mu)
        grad = wd + t * dd + float((cost * d1) @ dr)
        if abs(grad) <= WOLFE * -slope:
            return t
        if grad > 0:
            hi = t
        else:
            lo = t
        curv = dd + float((cost * d2) @ (dr * dr))
        nxt = t - grad / curv
        if not lo < nxt < hi:
            nxt = 2.0 * t if hi == np.inf else 0.5 * (lo + hi)
        t = nxt
    return lo

