"""Newton's method with exact steps for the squared losses on few features.

The problems are liblinear's ``-s 2`` (squared hinge) and ``-s 11``
(squared epsilon-insensitive loss) in the primal::

    P(w) = lam/2 ||w||^2 + sum_i C_i r_i(w)^2,
    r_i = max(0, 1 - y_i w . x~_i)  or  max(0, |w . x~_i - y_i| - eps)

(the bias weight last in ``w``, penalised with ``reg_bias``).  ``P`` is
piecewise quadratic: its generalised Hessian ``lam I + 2 sum_{r_i > 0} C_i
x~_i x~_i^T`` is constant between the points where a sample enters or leaves
the loss.  The Newton kernel (:mod:`fastlinear._newton_fast`, liblinear's
method) solves each Newton system by conjugate gradients and backtracks along
the step.  With few features the Hessian itself costs a few products with X
(a9a: about 7), and then each step can be exact (Keerthi and DeCoste's
modified finite Newton method, JMLR 2005):

1. ``g = lam w + sum_i C_i L_i'(z_i) x~_i`` (one transposed product) and
   ``H`` from the Hessian pass of :mod:`fastlinear._hessian_fast` over the
   samples with ``r_i > 0``; ``H d = -g`` by Cholesky
   (:class:`fastlinear._newton_cholesky._Factor`: a ridge or ``eigh`` where
   ``H`` is singular).
2. The exact minimum of ``P`` along ``d``: ``psi'(t)`` is piecewise linear
   and increasing, so Newton's method on it, from ``t = 1``, ends in a few
   iterations when the set of samples in the loss stops changing; over the
   samples that can be in the loss for some ``t >= 0`` only.
3. Stop as the kernel does (liblinear's rule): ``||g|| <= tol ||g(0)||``
   with ``tol`` scaled by :func:`fastlinear._solvers.newton_tol`, and when
   that holds, the Newton decrement ``-1/2 g.d`` of the next step ``d``
   (the Hessian formed or updated at the point, then used for the step if
   this test fails) at most ``tol P``; or when ``P`` no longer changes
   (relative ``1e-12``).  The second test is not liblinear's: an exact step
   from ``w = 0`` at large C can shrink ``||g||`` below ``tol ||g(0)||``
   far from the optimum (30 samples x 40 features at C = 1000: after one
   step ``||g|| = 3.4e-5 ||g(0)||`` and ``P`` twice its minimum, 1.13
   against 0.55; liblinear-official's trust-region steps stop at 0.65).  On
   a9a and w8a at C = 0.01 ... 100 it passed at the same steps as the first.

Measured in ``bench/results/EXPERIMENTS.md`` ("Exact Newton steps for the
squared hinge on few features"); :func:`exact_pays` is the rule.  The
problem, the stopping test and the solution are the kernel's; the steps
differ, so iterates and ``n_iter_`` do too.
"""
import numpy as np

from ._newton_cholesky import _Factor, _Interrupted, _Rows, hessian_products
from ._parallel import blas_threads, new_stop_flag

__all__ = ["exact_pays", "squared_newton"]

#: At most this many features (the Hessian is ``(d + 1)^2`` floats).
MAX_FEATURES = 1000
#: Exact steps when forming the Hessian costs at most this many products
#: ``H v`` (:func:`exact_pays`): a9a 6.6, w8a 9.7.
MAX_HESSIAN_PRODUCTS = 20
#: Newton iterations of the line search at most.
LINE_STEPS = 30
#: The Hessian is formed anew every this many steps (updated in between).
REFRESH = 10
#: The line search looks for the minimum in ``(0, WINDOW]`` first (Newton
#: steps end near ``t = 1``), over the samples that can be in the loss there.
WINDOW = 2.0


def exact_pays(problem):
    """Whether exact Newton steps should solve ``problem`` rather than the
    conjugate-gradient kernel: :func:`squared_newton` for a squared loss,
    :func:`fastlinear._newton_cholesky.binary` for the logistic loss; the
    L2 penalty, few features, and a Hessian that costs few products
    (:func:`fastlinear._newton_cholesky.hessian_products`)."""
    return ((problem.squared or problem.loss == "logistic") and problem.penalty == "l2"
            and problem.lam > 0
            and problem.n_features <= MAX_FEATURES and problem.n_samples > 0
            and hessian_products(problem.X, 1) <= MAX_HESSIAN_PRODUCTS)


class _Samples:
    """Per-sample work of the loop on preallocated arrays (fresh arrays of
    ``n`` floats cost page faults at every step, more than the arithmetic).

    ``sign_cost`` is ``-2 C_i y_i`` for the squared hinge (``L_i' = sign_cost_i
    r_i``) and ``2 C_i`` for the regression loss (times ``sign(z_i - y_i)``).
    """

    def __init__(self, problem, y, cost):
        self.regression, self.epsilon = problem.is_regression, float(problem.epsilon)
        self.y, self.cost, self.cost2 = y, cost, 2.0 * cost
        self.sign_cost = self.cost2 if self.regression else -self.cost2 * y
        n = y.shape[0]
        self.r, self.d1, self.tmp = np.empty(n), np.empty(n), np.empty(n)
        self.weight, self.mask = np.empty(n), np.empty(n, dtype=bool)

    def residuals(self, z):
        """``r`` (into ``self.r``) and, for regression, ``sign(z - y)`` in ``self.tmp``."""
        r, tmp = self.r, self.tmp
        if self.regression:
            np.subtract(z, self.y, out=tmp)
            np.abs(tmp, out=r)
            r -= self.epsilon
            np.sign(tmp, out=tmp)
        else:
            np.multiply(self.y, z, out=r)
            np.subtract(1.0, r, out=r)
        np.maximum(r, 0.0, out=r)
        return r

    def at(self, z):
        """``(sum_i C_i r_i^2, L', Hessian weights)`` at scores ``z`` (views of buffers)."""
        r = self.residuals(z)
        d1 = np.multiply(self.sign_cost, r, out=self.d1)
        if self.regression:
            d1 *= self.tmp
        loss = float(self.cost @ np.multiply(r, r, out=self.tmp))
        np.greater(r, 0.0, out=self.mask)
        weight = np.multiply(self.cost2, self.mask, out=self.weight)
        return loss, d1, weight


def squared_newton(problem, *, tol, max_iter, w0=None, n_threads=1, verbose=0, stop=None):
    """The exact Newton loop of the module docstring on a squared-loss problem.

    The Hessian is updated, not formed anew, after the first step: only the
    samples that entered or left the loss are passed over (all of them when
    X is dense, whose Hessian BLAS forms; and every ``REFRESH`` steps).

    Parameters
    ----------
    problem : fastlinear._problem.LinearProblem
        Squared hinge or squared epsilon-insensitive loss, L2 penalty.
    tol : float
        liblinear's primal tolerance, already scaled
        (:func:`fastlinear._solvers.newton_tol`).
    max_iter : int
        Newton steps at most.
    w0 : ndarray of shape (n_features + 1,), optional
        The start (0 by default); not modified.
    n_threads : int, default=1
        Threads of the Hessian pass and of the factorisation (the products
        with X run on one).
    verbose : int, default=0
    stop : uint8 ndarray of shape (1,), optional
        The fit's shared stop flag.

    Returns
    -------
    (w, z, n_iter, status, measure) or None
        ``status`` is ``"converged"``, ``"max_iter"``, ``"no_decrease"`` or
        ``"interrupted"``; ``measure`` is ``||g|| / ||g(0)||``.  None when a
        value is not finite (costs near 1e154): the kernel, which rescales,
        solves the problem instead.
    """
    if not problem.squared:
        raise ValueError(f"squared_newton: a squared loss, not {problem.loss!r}.")
    with np.errstate(over="ignore", invalid="ignore"):   # checked: None if not finite
        state = {}
        try:
            return _loop(problem, tol, max_iter, w0, n_threads, verbose,
                         new_stop_flag() if stop is None else stop, state)
        except _Interrupted:   # a pass over X saw the stop flag
            w = state.get("w")
            if w is None:
                w = np.zeros(problem.n_features + 1) if w0 is None else np.array(w0, dtype=float)
            z = state.get("z", np.zeros(problem.n_samples))
            return w, z, state.get("n_iter", 0), "interrupted", state.get("measure", np.inf)


def _loop(problem, tol, max_iter, w0, n_threads, verbose, stop, state):
    """The loop of :func:`squared_newton`; ``state`` holds the last accepted
    ``w``, ``z``, ``n_iter`` and ``measure`` for an interrupted pass."""
    X, y, cost, bias = problem.X, problem.y, problem.cost, float(problem.bias)
    n, m = X.n_rows, X.n_cols + 1
    rows = _Rows(X, bias, n_threads, stop)
    penalty = np.full(m, float(problem.lam))
    if not problem.reg_bias:
        penalty[-1] = 0.0

    samples = _Samples(problem, y, cost)

    def at(w, z):
        """``(f, g, Hessian weights)`` at ``w`` with scores ``z``."""
        loss, d1, weight = samples.at(z)
        g = penalty * w
        rows.transpose_product(d1.reshape(-1, 1), g.reshape(-1, 1))
        return 0.5 * float(w @ (penalty * w)) + loss, g, weight.copy()

    z = np.zeros(n)
    f, g, weight = at(np.zeros(m), z)
    g_norm0 = float(np.linalg.norm(g))
    w = np.zeros(m) if w0 is None else np.array(w0, dtype=np.float64)
    if np.any(w):
        z = np.empty((n, 1))
        rows.scores(w.reshape(-1, 1), z)
        z = z[:, 0]
        f, g, weight = at(w, z)
    if not (np.isfinite(f) and np.isfinite(g_norm0) and np.all(np.isfinite(g))):
        return None
    if g_norm0 == 0.0:
        # g(0) = 0: w = 0 is the optimum (P is convex), whatever the start.
        return np.zeros(m), np.zeros(n), 0, "converged", 0.0
    n_iter, status, H, held = 0, "max_iter", None, None
    with blas_threads(rows.blas_n):
        while True:
            measure = float(np.linalg.norm(g)) / g_norm0
            state.update(w=w, z=z, n_iter=n_iter, measure=measure)
            if verbose:
                print(f"newton (exact) iter {n_iter:3d}  f {f:.12g}  |g|/|g0| {measure:.3e}"
                      f"  in loss {int(np.count_nonzero(weight))}")
            d = None
            if measure <= tol:
                # Rule 3's second test: the step that the test would skip.
                H, held, d = _newton_step(rows, penalty, weight, H, held, n_iter, g)
                decrement = -0.5 * float(g @ d)
                if verbose:
                    print(f"newton (exact) decrement {decrement:.3e}  tol * f {tol * f:.3e}")
                if decrement <= tol * f:
                    status = "converged"
                    break
            if n_iter >= max_iter:
                break
            if stop[0]:
                status = "interrupted"
                break
            if d is None:
                H, held, d = _newton_step(rows, penalty, weight, H, held, n_iter, g)
            dz = np.empty((n, 1))
            rows.scores(d.reshape(-1, 1), dz)
            dz = dz[:, 0]
            t = _line_minimum(problem, penalty, w, d, z, dz)
            if not t > 0:
                status = "no_decrease"
                break
            w += t * d
            z += t * dz
            f_old = f
            f, g, weight = at(w, z)
            n_iter += 1
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                return None
            if abs(f_old - f) <= 1e-12 * abs(f):
                measure = float(np.linalg.norm(g)) / g_norm0
                status = "converged"
                break
    return w, z, n_iter, status, measure


def _newton_step(rows, penalty, weight, H, held, n_iter, g):
    """``(H, weight, d)``: the generalised Hessian for the Hessian weights
    ``weight`` (formed anew at the first step, every ``REFRESH`` steps and
    on dense X; otherwise ``H``, which was formed for the weights ``held``,
    updated over the samples whose weight changed) and the Newton step
    ``d = -H^-1 g``."""
    if H is None or rows.dense is not None or n_iter % REFRESH == 0:
        H = np.diag(penalty)
        rows.binary_hessian(weight, H)
    else:
        change = weight - held
        rows.binary_hessian(np.maximum(change, 0.0), H)
        if np.any(change < 0):
            left = np.zeros_like(H)
            rows.binary_hessian(np.maximum(-change, 0.0), left)
            H -= left
    return H, weight, _Factor(H).solve(-g)


def _line_minimum(problem, penalty, w, d, z, dz):
    """The ``t > 0`` minimising ``P(w + t d)`` (0 if ``d`` is no descent direction).

    ``psi'(t) = w.Pd + t d.Pd + sum_i L_i'(z_i + t dz_i) dz_i`` is piecewise
    linear and increasing; Newton's method on it from ``t = 1``, kept inside
    the bracket of its root, is exact once the samples in the loss stop
    changing.  Only the samples in the loss for some ``t`` of the bracket
    take part: first those in it at ``t = 0`` or entering it before
    ``t = WINDOW`` (on w8a a tenth of the samples, against half that ``dz``
    moves towards the loss); the rest only if the minimum lies beyond.
    """
    y, cost = problem.y, problem.cost
    with np.errstate(divide="ignore", invalid="ignore"):
        if problem.is_regression:
            e = z - y
            inside = np.abs(e) > problem.epsilon
            enter = np.where(dz > 0, (problem.epsilon - e) / dz,
                             np.where(dz < 0, (-problem.epsilon - e) / dz, np.inf))
        else:
            margin, towards = y * z, y * dz
            inside = margin < 1.0
            enter = np.where(towards < 0, (margin - 1.0) / -towards, np.inf)
    wd, dd = float(w @ (penalty * d)), float(d @ (penalty * d))
    for window in (WINDOW, np.inf):
        rows = np.flatnonzero(inside | (enter <= window))
        t = _root(problem, y[rows], cost[rows], z[rows], dz[rows], wd, dd, window)
        if t is None or t < window:
            return 0.0 if t is None else t
    return t


def _root(problem, y, cost, z, dz, wd, dd, window):
    """The root of ``psi'`` over these samples in ``(0, window]`` (``window``
    when ``psi'(window) < 0``); None when ``psi'(0) >= 0``."""
    samples = _Samples(problem, y, cost)
    sq = dz * dz
    trial = np.empty_like(z)
    _, d1, _ = samples.at(z)
    slope = wd + float(d1 @ dz)
    if not slope < 0:
        return None
    lo, hi, t = 0.0, np.inf, min(1.0, window)
    g_lo, g_hi = slope, np.inf
    for _ in range(LINE_STEPS):
        np.multiply(dz, t, out=trial)
        trial += z
        _, d1, weight = samples.at(trial)
        grad = wd + t * dd + float(d1 @ dz)
        if abs(grad) <= 1e-12 * -slope:
            return t
        if grad > 0:
            hi, g_hi = t, grad
        else:
            if t >= window:
                return window
            lo, g_lo = t, grad
        curv = dd + float(weight @ sq)
        nxt = t - grad / curv if curv > 0 else np.inf
        if not lo < nxt < hi:
            # Outside the bracket: doubling while it is open, else the
            # secant of psi' through its ends (psi' is increasing and
            # piecewise linear: bisection took 27 halvings to t = 1e-8).
            nxt = (min(2.0 * t, window) if hi == np.inf
                   else lo + (hi - lo) * (-g_lo) / (g_hi - g_lo))
            if not lo < nxt < hi:
                nxt = 0.5 * (lo + hi)
        if nxt == t:
            return t
        t = nxt
    return lo if hi == np.inf else 0.5 * (lo + hi)
