"""Exact Newton (Cholesky) solvers for L2-regularised logistic regression on few features.

Binary, with labels ``y_i = +-1``::

    f(w) = lam/2 ||w_R||^2 + sum_i C_i log(1 + exp(-y_i w.x~_i))

and multinomial, with class indices ``y_i`` in ``0..K-1``::

    f(W) = lam/2 ||W_R||^2 + sum_i C_i (logsumexp(z_i) - z_i[y_i]),    z_i = x~_i W

``x~_i = [x_i, bias]`` (``m = n_features + 1`` entries, the bias weight
last); ``W`` has shape (m, K).  ``lam`` is 1, or 0 for no penalty; ``w_R`` /
``W_R`` are the penalised rows: all of them (``reg_bias``, liblinear) or all
but the bias row (scikit-learn's unpenalised intercept).  With
``fixed_first``, column 0 of ``W`` is held at 0 (class 0 is the reference
class): the problem has ``m (K - 1)`` variables.

When ``m`` (times ``K``) is small, the Hessian fits in memory and an exact
Newton step costs one pass over the data plus a Cholesky factorisation of
an ``m K x m K`` matrix; a handful of steps reach the optimum to rounding
(scikit-learn's ``newton-cholesky`` solver follows the same idea; here the
Hessian pass reads each sparse row once and the factorisation runs on
``n_threads`` BLAS threads).  The loop:

0. The default start is zero but for the bias weights, set to the log
   class priors (the optimum of the intercept-only model without penalty):
   ``log(sum of C_i over y_i = +1 / sum over y_i = -1) / bias`` (binary),
   ``log(sum of C_i over y_i = k) / bias`` centred over the classes
   (multinomial; relative to class 0 with ``fixed_first``).  It saves one
   or two steps where the classes are unbalanced (w8a, 3 % positives: 6
   steps to 4).
0b. Binary problems from the default start, when the caller asks for it
   (``quasi_newton=True``: ``LogisticRegression``'s ``solver="auto"`` and
   the scikit-learn names that run it), first take up to
   :data:`QUASI_NEWTON_ITER` L-BFGS iterations (scipy's L-BFGS-B with
   scikit-learn's lbfgs options, on the one-pass loss-and-gradient kernel
   ``fastlinear._newton_fast.logistic_loss_grad``); Newton goes on from
   where they stop, and its test (4) decides convergence.  From a cold
   start on sparse, unbalanced data the early Newton steps are damped and
   each costs a Hessian or several products (w8a, 3 % positives: 8 to 11
   steps); L-BFGS's first iterations cost one pass each and bring the
   iterate to where Newton needs one or two steps, or meet the test alone
   (measured in ``bench/results/EXPERIMENTS.md``).  Under the gradient
   rule they aim at :data:`QUASI_NEWTON_GTOL` of its threshold, so that
   where they end the fit the decrement's relative bound holds too.  Not
   where Newton's steps are cheap: where forming the Hessian costs less
   than two products (:func:`_cg_steps` is 0) or X is dense (BLAS forms
   it); nor with ``lam = 0``.

Each step:

1. ``g`` and the Hessian ``H = lam diag(R) + H_loss``; ``H_loss`` comes from
   ``fastlinear._hessian_fast`` in one pass over the rows (``X~^T D X~``,
   ``D_ii = C_i sigma(z_i) sigma(-z_i)``; or ``sum_i C_i (x~_i x~_i^T) kron
   (diag(p_i) - p_i p_i^T)``); where every row has the same ``p`` (the
   default start) that is ``(X~^T diag(C) X~) kron (diag(p) - p p^T)``,
   from one binary pass, ``K (K + 1) / 2`` times fewer updates).
2. ``H d = -g`` by Cholesky (``scipy.linalg.cho_factor``) on the variables
   whose Hessian diagonal is positive; the others (a column of ``X~`` that is
   zero on every sample of positive cost, and unpenalised) have a zero
   gradient and stay where they are.  If Cholesky fails or leaves a pivot
   below ``COLLINEAR`` times its diagonal entry (collinear features with
   ``lam = 0``), a tiny ridge ``1e-10 diag(H)`` is added (``1e-6 diag(H)``
   when X is float32); if it still fails, the minimum-norm solution from
   ``eigh``.
2b. The Hessian is not formed at every step.  Once factorised, the
   factor preconditions conjugate gradients on the exact ``H d = -g`` of
   the later steps (``H v`` in two passes over the rows, no ``H``; an
   inexact Newton method, Dembo, Eisenstat and Steihaug, 1982), stopped at
   ``||r|| <= min(FORCING, sqrt(||g|| / ||g_0||)) ||g||`` or ``max |r| <=
   tol / 10``.  Near the optimum the Hessian changes little and one or two
   products do; ``H`` is formed anew after conjugate gradients failed to
   converge or spent as many products as forming ``H`` costs (estimated
   from the row lengths, :func:`_cg_steps`), and at once when the inexact
   direction finds no step in the line search.  On dna (180 features,
   3 classes, C = 100) this forms the Hessian twice instead of 8 times.
   Where forming ``H`` costs less than two products (a few features and
   classes, iris), every step is exact; a fit of ``max_iter=2`` then takes
   the same steps as two warm-started fits of ``max_iter=1``.
3. A backtracking (Armijo) line search on ``t = 1, 1/2, ...`` (at most
   ``MAX_HALVINGS``), with ``X~ d`` computed once so every trial costs
   ``O(n K)``.  A step whose change of ``f`` is within rounding of ``f`` is
   accepted when it lowers ``max |g|`` (near the optimum, ``f`` stops
   resolving the decrease long before ``g`` does).  When the full step is
   accepted with a decrease that ``f`` resolves, ``t = 2, 4`` (up to
   :data:`MAX_EXPANSION`) are tried while each lowers ``f`` further by
   more than rounding.  From the default start on nearly separable data
   at large C, ``f`` is flatter along the Newton direction than its
   quadratic model and the full steps fall short (dna, 3 classes, C = 100:
   8 steps to 6, about 20 % less time; ``EXPERIMENTS.md``); where the
   model is right, ``f(2 d) ~ f(0) > f(d)`` and the trial costs one
   evaluation of ``f``, ``O(n K)``.  Not when a class has no cost: there
   is no finite optimum, the point where the steps stop is the answer,
   and plain steps stop where scikit-learn's newton-cholesky does.
4. It stops when ``max_j |g_j| <= tol`` (scikit-learn's lbfgs rule, ``tol``
   in the units of ``f``) and, with a penalty, ``1/2 g.diag(H)^-1 g <= tol``
   (scikit-learn's newton-cholesky asks its Newton decrement so; the
   diagonal costs one pass over X, made only when the first test passes;
   along a warm-started path the first test alone can pass at the previous
   C's solution).  The decrement must also be at most
   :data:`~fastlinear._solvers.RELATIVE_DECREMENT` ``tol f`` with ``tol``
   per unit of cost (``1e-6 f`` at the estimators' default; not when a
   class has no cost, as in step 3): ``tol`` is absolute in the units of
   the mean objective, and where that is small (0.08 on dna at C = 1) the
   fits ended 1.8e-5 above the optimum (relative).  A step taken for the
   decrement alone runs its conjugate gradients to the forcing term only,
   on the factor at hand (one or two more products cost less than a new
   Hessian).  The decrement is taken on the whole Hessian, formed at the
   point (and then used for the step if the test fails), where that costs
   less than two products or where one sample carries at least
   :data:`DOMINANT_SHARE` of the total cost: such a sample makes ``H`` far
   from diagonal, and with one sample weight of 1e6 among 59 of 1 the
   diagonal estimate passed at the start point, an all-zero ``coef_``.
   There the last step's own decrement (``-1/2 g.d`` at the point it left,
   scikit-learn's newton-cholesky's test) must be within ``tol`` too: far
   from the optimum ``f`` is not quadratic in the light samples' directions,
   and the decrement at the new point alone passed after a long step
   (three random cases: 0.33-0.40 above the optimum, 0.02-0.08 with it).
   From the default start one Newton step (or L-BFGS iteration) comes
   before the test, as in scikit-learn's newton-cholesky, unless the start
   is the optimum to rounding (every gradient entry within ``n eps`` of
   its bound ``sum_i C_i |x~_ij|``: no features, for one).  The tests end
   the solve, or it stops after ``max_iter`` steps, or when the line search finds
   no acceptable step: converged if every gradient entry is at
   rounding level for its own feature's scale (``fastlinear._solvers.settle``
   with :func:`~fastlinear._solvers.scaled_gradient`), otherwise a
   ``ConvergenceWarning``; the honest ``max |g|`` is the measure.
   Binary problems can be held to liblinear's test instead (``-s 0``,
   :func:`binary` with ``rule="liblinear"``): ``||g|| <= tol ||g(0)||``,
   the 2-norm in every comparison above, from liblinear's start ``w = 0``
   (step 0 does not apply), with at least one Newton step before the test
   and at most half of ``max_iter`` for step 0b.  (A large
   ``intercept_scaling`` makes ``g(0)`` mostly its bias entry, and a start
   or L-BFGS steps that cancel that entry passed the test with the
   features' weights far from their optimum.)  Where the Hessian is cheap
   (:func:`fastlinear._squared_newton.exact_pays`) and ``tol`` tight,
   :func:`fastlinear._solvers.primal_newton` solves liblinear's problem
   so: on a9a and w8a at ``tol=1e-4`` (scikit-learn's default for
   ``solver="liblinear"``), C = 0.01..100, 1.8-6.5x faster than
   liblinear-official's trust-region steps at the same ``-e`` (the
   kernel: 1.3-2.3x), at an objective within 1e-7 of it or below
   (``bench/results/EXPERIMENTS.md``).

The multinomial Hessian is singular
-----------------------------------
Adding the same constant to every class of a row ``a`` of ``W`` changes no
probability, so when that row is not penalised (the bias row without
``reg_bias``; every row when ``lam = 0``) ``H v = 0`` for ``v = e_a kron 1``.
Let ``N`` be the span of these ``v``.  The solver solves
``H' d = -g`` with ``H' = H + eps B``, ``B = sum_a (e_a e_a^T) kron (1 1^T)``
(``eps`` added to every entry of row ``a``'s ``K x K`` block) and ``eps`` the
mean diagonal entry of that block (any ``eps > 0`` gives the same ``d``; one
of the row's own scale keeps ``H'`` as well conditioned as ``H`` is on
``N^perp``).  Then:

- ``g`` is orthogonal to ``N``: ``f(W + c e_a 1^T) = f(W)`` for every ``c``,
  so ``g . v = 0``.
- ``H`` maps into ``N^perp``: it is symmetric and ``N`` lies in its null
  space, so ``range(H) = null(H)^perp`` is orthogonal to ``N``.
- ``B`` is zero on ``N^perp`` and ``B v = K v`` on ``N``.

Write ``d = d_N + d_perp``.  Then ``H' d = H d_perp + eps K d_N`` with the
first term in ``N^perp`` and the second in ``N``; as ``-g`` lies in
``N^perp``, ``d_N = 0`` and ``H d_perp = -g``.  So ``d`` is the solution of
the original system that is orthogonal to ``N`` (its minimum-norm one when
``N`` is the whole null space), and ``H'`` is positive definite exactly when
``N`` is the whole null space of ``H``.  The iterates keep the
class-sum of every unpenalised row where it started (0 from a cold start,
as scikit-learn's lbfgs), up to rounding.  With ``fixed_first`` there is no
such direction: the reduced Hessian (classes ``1..K-1``) is used as is.
"""
import numpy as np
import scipy.linalg
from scipy.linalg.blas import dtrsv

from . import _hessian_fast, _multinomial_fast, _newton_fast
from ._csr_fast import require_proved
from ._losses import log1pexp_neg, sigmoid_neg
from ._memory import check_hessian_memory
from ._parallel import blas_threads, new_stop_flag
from ._solvers import (
    RELATIVE_DECREMENT,
    Solution,
    Status,
    _zero_gradient_at_zero,
    every_class_costs,
    gradient_tol,
    newton_tol,
    scaled_gradient,
    settle,
)

__all__ = ["binary", "multinomial"]

#: Sufficient decrease of the line search: ``f(x + t d) <= f(x) + ARMIJO t g.d``.
ARMIJO = 1e-4
#: Halvings of the step before the line search gives up.
MAX_HALVINGS = 30
#: The longest step tried after the full step: ``t = 2, 4, ...`` up to it.
MAX_EXPANSION = 4.0
#: ``ROUNDING``: a change of ``f`` below ``ROUNDING |f|`` is not resolved by
#: ``f``.  ``IDLE_STEPS``: accepted steps in a row that change ``f`` by
#: rounding only and do not lower ``max |g|`` below the lowest seen before
#: the solve counts as no longer moving (near the optimum the inexact steps
#: make ``max |g|`` oscillate).  The multinomial kernel's rule, one definition.
ROUNDING, IDLE_STEPS = _multinomial_fast.IDLE_RULE
#: A Cholesky factor counts as failed when a pivot ``L_jj^2`` is below
#: ``COLLINEAR H_jj``: column ``j`` of ``X~`` is then collinear with the
#: columns before it to rounding level (float64 data with ``lam = 0`` gave
#: ratios of 1e-16 to 2e-15, and steps of 1e6 along the collinear direction).
COLLINEAR = 1e-12
#: float64's machine epsilon.
EPS = float(np.finfo(np.float64).eps)
#: The stopping test's decrement (rule 4) uses the whole Hessian when one
#: sample's cost is at least this share of the total.
DOMINANT_SHARE = 0.01
#: The scores are updated along the steps (``z + t X~ d``), so they carry
#: the rounding of the largest scores seen; when those were more than
#: ``DRIFT`` times the present ones (a warm start far from the optimum),
#: the scores are computed anew from ``w`` before the stopping test.  A
#: start at 1e18 times the optimum's weights converged on scores 100 off
#: (the intercept twice its value, 13 % above the optimum, no warning).
DRIFT = 1e6
#: The ridge added when Cholesky fails, relative to each diagonal entry.
RIDGE = 1e-10
#: The same for float32 data: their rounding (``eps = 1.2e-7``) perturbs the
#: curvature by about ``eps`` relative, so a direction below ``8 eps`` is
#: not resolved by the data.  With ``1e-10`` collinear float32 features at
#: ``C = inf`` got coefficients of 80-200 where float64 gives 0.5-3; with
#: ``1e-6`` the two agree to 1 %.
RIDGE32 = 1e-6
#: X counts as dense when this fraction of its entries is stored ...
DENSE_FILL = 0.5
#: ... and ``X~`` as a float64 array takes at most this many bytes.
DENSE_BYTES = 64 << 20
#: The largest forcing term of the preconditioned conjugate gradients (step 2b).
FORCING = 0.1
#: L-BFGS iterations before the first Newton step (step 0b), measured with
#: ``bench/lbfgs_probe.py`` over 8, 10, 12, 15 and 25: with 10, fits of w8a
#: and two synthetic sparse sets at C = 0.01..100 took 1.2-2.4x less time
#: than Newton alone, and a9a's (Newton alone: 5 steps) 0-8 % more; 15 cost
#: a9a 15-30 % more for no further gain, 8 lost a third of the gain.
QUASI_NEWTON_ITER = 10
#: Under the gradient rule the L-BFGS iterations aim at this share of the
#: gradient test's threshold: where they alone end the fit (small C), the
#: decrement's relative bound (rule 4) then usually holds without a Newton
#: step, which forms a Hessian.  w8a and two synthetic sparse sets at
#: C = 0.01: 10 iterations instead of 7-9 and a Newton step, 0.78-0.90x the
#: time, ending 3e-8 to 2e-7 above the optimum; at C = 1 and 100, and on a9a
#: (whose iterations reach the cap), the same steps (``EXPERIMENTS.md``).
QUASI_NEWTON_GTOL = 0.1
#: Stored values of X from which the L-BFGS start's loss passes (step 0b)
#: use the fit's ``n_threads``.  Each pass comes after scipy's L-BFGS-B
#: step, long enough for the OpenMP workers to go to sleep, and waking them
#: cost milliseconds a pass on a 2-core virtual AMD EPYC (Zen 4): with two
#: threads, a loss pass over 1.2 M nonzeros took 2.3 ms back to back and
#: 6-14 ms inside the fit (3.7 ms on one thread).  Fits with
#: ``n_jobs=2`` against one thread, medians of 3-7 alternated fits: a9a
#: (0.45 M nonzeros) 1.16-1.35x slower, w8a (0.6 M) 1.19-1.34x, a
#: 100,000 x 300 set of 1.2 M 1.10-2.18x slower, 4.8 M 0.94-0.96x, 12 M
#: 0.84-0.86x.
THREAD_MIN_NNZ = 4_000_000

# BLAS runs the factorisations with ``n_threads`` threads on a dense X and
# one thread on a sparse one (``_Rows.blas_n``; ``blas_threads``, inside the
# fit's own limit): for the few hundred variables these solvers are for,
# OpenBLAS's two threads made the Cholesky of a 543 x 543 matrix 40x slower
# (0.37 s against 9 ms) on a 2-core virtual AMD EPYC (Zen 5) shared with
# other work.


class _Rows:
    """The rows of ``X~ = [X, bias]``: its products and Hessian passes.

    CSR kernels of ``fastlinear._hessian_fast`` by default.  When X is dense
    in fact (at least ``DENSE_FILL`` of its entries stored) and ``X~`` as a
    float64 array fits in ``DENSE_BYTES``, ``X~`` is expanded once and the
    passes are BLAS products: ``X~ V``, ``X~^T U``, and the Hessians as
    ``Y^T Y`` with ``Y = sqrt(d) X~`` (binary) or ``Y = sqrt(s) (x~_i kron
    p_i)`` plus ``K`` products ``X~^T diag(s p_k) X~`` (multinomial, module
    docstring of ``fastlinear._hessian_fast``).  On satimage (36 features,
    6 classes; one OpenBLAS thread) that forms the Hessian 1.4x faster and
    ``H v`` 2.3x faster than the CSR kernels.
    """

    def __init__(self, X, bias, n_threads, stop):
        self.X, self.bias, self.n_threads, self.stop = X, bias, n_threads, stop
        n, m = X.n_rows, X.n_cols + 1
        self.dense = None
        if n and X.nnz >= DENSE_FILL * n * (m - 1) and 8 * n * m <= DENSE_BYTES:
            dense = np.zeros((n, m))
            rows = np.repeat(np.arange(n), np.diff(X.indptr))
            dense[rows, X.indices] = X.data
            dense[:, -1] = bias
            self.dense = dense
        # BLAS threads only where BLAS makes the passes.  With the CSR kernels
        # their OpenMP threads do, and the two pools, each spinning after its
        # work, took turns at the cores: on w8a (2-core AMD EPYC Zen 5, quiet)
        # LinearSVC(dual=False, n_jobs=2) took 528 ms against 28 ms with one
        # thread, each Cholesky of 301 x 301 10 ms after a threaded Hessian pass
        # (0.3 ms alone).  The factorisations then run on one thread.
        self.blas_n = n_threads if self.dense is not None else 1
        self.squared = None     # X with its values squared, made when first needed

    def scores(self, V, Z):
        """``Z = X~ V``."""
        if self.dense is None:
            _stopped(_hessian_fast.scores(self.X, V, Z, bias=self.bias, stop=self.stop))
        else:
            np.matmul(self.dense, V, out=Z)

    def transpose_product(self, U, G):
        """``G += X~^T U``."""
        if self.dense is None:
            _stopped(_hessian_fast.transpose_product(self.X, U, G, bias=self.bias,
                                                     stop=self.stop))
        else:
            G += self.dense.T @ U

    def squared_transpose_product(self, U, G):
        """``G += (X~ * X~)^T U``: the values squared (the Hessian's diagonal).
        Rows of 0/1 values are their own squares (``X.ones``): the
        transposed product with ``bias^2`` for the constant feature."""
        if self.dense is not None:
            G += np.square(self.dense).T @ U
        elif self.X.ones:
            _stopped(_hessian_fast.transpose_product(self.X, U, G, bias=self.bias ** 2,
                                                     stop=self.stop))
        else:
            if self.squared is None:
                self.squared = self.X.to_scipy(squared=True)
            G[:-1] += self.squared.T @ U
            G[-1] += self.bias ** 2 * U.sum(axis=0)

    def binary_hessian_vector(self, d, V, G):
        """``G += X~^T diag(d) X~ V`` for one column ``V`` (n_features + 1, 1)."""
        if self.dense is None:
            _stopped(_hessian_fast.binary_hessian_vector(self.X, d, V, G, bias=self.bias,
                                                         stop=self.stop))
        else:
            G += self.dense.T @ (d[:, None] * (self.dense @ V))

    def multinomial_hessian_vector(self, s, P, V, G):
        """``G += X~^T R``, ``R_i = s_i (p_i * u_i - p_i (p_i . u_i))``,
        ``u_i = x~_i V``: the multinomial Hessian's loss part times ``V``."""
        if self.dense is None:
            _stopped(_hessian_fast.multinomial_hessian_vector(self.X, s, P, V, G,
                                                              bias=self.bias, stop=self.stop))
            return
        U = self.dense @ V
        U *= P
        U -= P * _row_sums(U)
        U *= s[:, None]
        G += self.dense.T @ U

    def binary_hessian(self, d, H):
        """``H += X~^T diag(d) X~`` (``d >= 0``)."""
        if self.dense is None:
            _stopped(_hessian_fast.binary_hessian(self.X, d, H, bias=self.bias,
                                                  n_threads=self.n_threads, stop=self.stop))
            return
        Y = self.dense * np.sqrt(d)[:, None]
        with blas_threads(self.n_threads):
            H += Y.T @ Y
        _stopped(self.stop[0])

    def multinomial_hessian(self, s, P, H):
        """``H += sum_i s_i (x~_i x~_i^T) kron (diag(p_i) - p_i p_i^T)``."""
        if self.dense is None:
            _stopped(_hessian_fast.multinomial_hessian(self.X, s, P, H, bias=self.bias,
                                                       n_threads=self.n_threads, stop=self.stop))
            return
        n, m = self.dense.shape
        K = P.shape[1]
        # Class-major blocks (k, l): delta_kl X~^T diag(s p_k) X~ - Y_k^T Y_l.
        Y = (np.sqrt(s)[:, None, None] * P[:, :, None] * self.dense[:, None, :]).reshape(n, K * m)
        with blas_threads(self.n_threads):
            B = -(Y.T @ Y)
            for k in range(K):
                B[k * m:(k + 1) * m, k * m:(k + 1) * m] += self.dense.T @ (
                    self.dense * (s * P[:, k])[:, None])
        H += B.reshape(K, m, K, m).transpose(1, 0, 3, 2).reshape(m * K, m * K)
        _stopped(self.stop[0])


class _Binary:
    """The binary problem's pieces, on the flat variable vector ``w`` (m,)."""

    def __init__(self, X, y, cost, bias, lam, reg_bias, n_threads, stop):
        self.X, self.y, self.cost, self.bias = X, y, cost, bias
        self.lam, self.reg_bias = lam, reg_bias
        self.m = X.n_cols + 1
        self.penalised = np.full(self.m, float(lam))
        if not reg_bias:
            self.penalised[-1] = 0.0
        self.null_rows = ()
        self.K = 1
        self.expand = True
        self.n_threads, self.stop = n_threads, stop
        self.rows = _Rows(X, bias, n_threads, stop)
        self.cg_steps = _cg_steps(X, self.K)

    def zero_scores(self):
        return np.zeros(self.X.n_rows)

    def scores(self, w):
        z = np.empty((self.X.n_rows, 1))
        self.rows.scores(w.reshape(-1, 1), z)
        return z[:, 0]

    def loss(self, z):
        # Samples of cost 0 add 0 (their loss is finite).
        return float(self.cost @ log1pexp_neg(self.y * z))

    def value(self, w, z):
        return 0.5 * float(self.penalised @ (w * w)) + self.loss(z)

    def gradient(self, w, z):
        """``(g, D)``: the gradient and the Hessian weights ``D_ii``."""
        e = sigmoid_neg(self.y * z)  # sigma(-y_i z_i)
        ce = self.cost * e
        u = -self.y * ce
        g = self.penalised * w
        self.rows.transpose_product(u.reshape(-1, 1), g.reshape(-1, 1))
        e -= 1.0
        ce *= e
        return g, -ce  # C_i sigma(-y_i z_i) sigma(y_i z_i)

    def curvature(self, z):
        """The Hessian weights ``D_ii`` alone, the same bits as :meth:`gradient`'s."""
        e = sigmoid_neg(self.y * z)
        ce = self.cost * e
        e -= 1.0
        ce *= e
        return -ce

    def hessian_vector(self, curvature, v):
        """``H v`` in one pass over the rows (no ``H``)."""
        Hv = self.penalised * v
        self.rows.binary_hessian_vector(curvature, np.ascontiguousarray(v).reshape(-1, 1),
                                        Hv.reshape(-1, 1))
        return Hv

    def hessian(self, curvature):
        H = np.diag(self.penalised)
        self.rows.binary_hessian(curvature, H)
        return H

    def diagonal(self, curvature):
        """``diag(H)`` without ``H``: one pass over the rows."""
        h = self.penalised.copy()
        self.rows.squared_transpose_product(curvature.reshape(-1, 1), h.reshape(-1, 1))
        return h


class _Multinomial:
    """The multinomial problem's pieces, on the flat variables ``W[:, first:]``."""

    def __init__(self, X, y_ind, cost, n_classes, bias, lam, reg_bias, fixed_first,
                 n_threads, stop):
        self.X, self.y_ind, self.cost, self.bias = X, y_ind, cost, bias
        self.m, self.n_classes = X.n_cols + 1, n_classes
        self.first = 1 if fixed_first else 0
        self.K = n_classes - self.first
        rows = np.full(self.m, float(lam))
        if not reg_bias:
            rows[-1] = 0.0
        self.penalised = np.repeat(rows, self.K)
        # Rows along which f is flat without a reference class (see the module docstring).
        self.null_rows = () if fixed_first else tuple(np.flatnonzero(rows == 0.0))
        # A class without cost has no finite optimum: its intercept runs to
        # -inf, and where the fit stops depends on the steps alone.  Plain
        # Newton steps then stop where scikit-learn's newton-cholesky does.
        self.expand = every_class_costs(y_ind, cost, n_classes)
        self.n_threads, self.stop = n_threads, stop
        self.rows = _Rows(X, bias, n_threads, stop)
        self.cg_steps = _cg_steps(X, self.K)

    def full(self, w):
        """``W`` of shape (m, n_classes) from the flat variables."""
        W = np.zeros((self.m, self.n_classes))
        W[:, self.first:] = w.reshape(self.m, self.K)
        return W

    def zero_scores(self):
        return np.zeros((self.X.n_rows, self.n_classes))

    def scores(self, w):
        Z = self.zero_scores()
        V = w.reshape(self.m, self.K)
        if not self.first:
            self.rows.scores(V, Z)
            return Z
        reduced = np.empty((self.X.n_rows, self.K))
        self.rows.scores(V, reduced)
        Z[:, 1:] = reduced
        return Z

    def loss(self, Z):
        picked = Z[np.arange(Z.shape[0]), self.y_ind]
        # The gradient at the accepted Z reuses its log-sum-exp: the last two
        # are kept, as a longer step tried after the accepted one (step 3)
        # comes between them.
        top, tail = lse = _logsumexp(Z)
        self._last = ((Z, lse),) + getattr(self, "_last", ())[:1]
        return float(self.cost @ ((top[:, 0] - picked) + tail[:, 0]))

    def value(self, w, Z):
        return 0.5 * float(self.penalised @ (w * w)) + self.loss(Z)

    def gradient(self, w, Z):
        """``(g, P)``: the gradient and the probabilities of the variables' classes."""
        lse = next((lse for seen, lse in getattr(self, "_last", ()) if seen is Z), None)
        top, tail = _logsumexp(Z) if lse is None else lse
        P = np.exp((Z - top) - tail)
        R = P * self.cost[:, None]
        # C_i (p_iy - 1) as minus the sum of the other classes' terms: a
        # confident sample's 1 - p_iy is below the rounding of p_iy (its
        # share of the gradient would be lost, and the line search would
        # meet a slope the value does not follow; C = 1e20).
        rows = np.arange(Z.shape[0])
        R[rows, self.y_ind] = 0.0
        R[rows, self.y_ind] = -_row_sums(R)[:, 0]
        G = (self.penalised * w).reshape(self.m, self.K)
        self.rows.transpose_product(np.ascontiguousarray(R[:, self.first:]), G)
        return G.ravel(), np.ascontiguousarray(P[:, self.first:])

    def hessian_vector(self, P, v):
        """``H v`` without ``H``: ``X~^T R`` with ``R_i = C_i (p_i * u_i - p_i
        (p_i . u_i))`` and ``u_i = x~_i V``, in one pass over sparse rows."""
        Hv = self.penalised * v
        self.rows.multinomial_hessian_vector(self.cost, P, np.ascontiguousarray(v).reshape(
            self.m, self.K), Hv.reshape(self.m, self.K))
        return Hv

    def hessian(self, P):
        if P.shape[0] and not np.any(P - P[0]):
            # Every row has the same probabilities p (the default start, an
            # intercept-only model): H = (X~^T diag(C) X~) kron (diag(p) - p p^T),
            # one binary pass instead of K (K + 1) / 2 times its work.  The
            # Kronecker product by broadcasting, written once: 0.84 ms on
            # dna's 543 variables against 3.1 ms for np.diag + np.kron (the
            # same bits).
            G = np.zeros((self.m, self.m))
            self.rows.binary_hessian(self.cost, G)
            p = P[0]
            B = np.diag(p) - np.outer(p, p)
            H = (G[:, None, :, None] * B[None, :, None, :]).reshape(self.m * self.K, -1)
            H[np.diag_indices_from(H)] += self.penalised
            return H
        H = np.diag(self.penalised)
        self.rows.multinomial_hessian(self.cost, P, H)
        return H

    def diagonal(self, P):
        """``diag(H)`` without ``H``: ``sum_i C_i x~_ij^2 p_ik (1 - p_ik)``
        plus the penalty, one pass over the rows."""
        h = self.penalised.copy()
        self.rows.squared_transpose_product(np.ascontiguousarray(
            self.cost[:, None] * P * (1.0 - P)), h.reshape(self.m, self.K))
        return h


def _cg_steps(X, K):
    """Conjugate-gradient steps a Newton step may take before the Hessian is
    formed anew: :func:`hessian_products` (step 2b of the module
    docstring), at most 50.

    0 when forming ``H`` costs less than two products (iris-sized
    problems): conjugate gradients could not save even one product per step
    there, and every step is an exact one."""
    ratio = hessian_products(X, K)
    return 0 if ratio < 2 else int(min(ratio, 50))


def hessian_products(X, K):
    """The cost of forming the Hessian over that of one product ``H v``,
    estimated from the row lengths (a9a 6.6, w8a 9.7 for ``K = 1``).

    The row lengths count nonzero values, not stored entries: explicit
    zeros, which scipy keeps, must not change the steps a fit takes."""
    data, indptr = np.asarray(X.data), np.asarray(X.indptr)
    if np.count_nonzero(data) == data.size:   # no explicit zeros (the common case)
        nnz = np.diff(indptr).astype(np.float64) + 1.0
    else:
        seen = np.concatenate(([0], np.cumsum(data != 0, dtype=np.int64)))
        nnz = (seen[indptr[1:]] - seen[indptr[:-1]]).astype(np.float64) + 1.0
    # Per update, the binary pass (scattered single entries) costs about
    # twice the multinomial one (contiguous runs of K (K + 1) / 2 entries).
    hessian = float(nnz @ (nnz + 1.0)) / 2 * (2.0 if K == 1 else K * (K + 1) / 2)
    product = 2.0 * float(nnz.sum()) * K + 6.0 * X.n_rows * K
    return hessian / product


def _logsumexp(Z):
    """``log sum_k exp(Z[:, k])`` in two columns, ``(top, tail)``: the row
    maxima and ``log sum_k exp(Z[:, k] - top)``; 2x faster than
    ``scipy.special.logsumexp`` on a few thousand rows (the reductions run
    over the rows of ``Z.T``, :func:`_row_reduce`).

    The tail counts the row's largest terms (``exp(0) = 1``) apart and sums
    the rest on their own, ``log1p((ties - 1) + rest)``; the caller takes
    ``top - Z[i, y_i]`` before adding it.  A confidently right sample's loss
    ``log1p(rest)`` then keeps its value below the rounding of ``1 + rest``
    and of ``top`` (1e-16 relative).  Summed as ``log(1 + rest) + top -
    Z[i, y_i]`` it was 0, and at C = 1e20 the solver no longer saw the losses
    it was trading against the penalty (standardised wine ended 600x above
    newton-cg's objective, without a warning).
    """
    ZT = np.ascontiguousarray(Z.T)
    top = np.maximum.reduce(ZT, axis=0)
    ET = np.exp(ZT - top)
    at_top = ET == 1.0
    tail = np.add.reduce(at_top, axis=0, dtype=np.float64)
    tail -= 1.0         # the ties beyond the first, before the small terms
    np.putmask(ET, at_top, 0.0)
    tail += np.add.reduce(ET, axis=0)
    np.log1p(tail, out=tail)
    return top[:, None], tail[:, None]


def _row_reduce(ufunc, A):
    """``ufunc.reduce(A, axis=1, keepdims=True)`` for a tall, narrow ``A``.

    NumPy reduces along a short last axis slowly: on 4,435 x 6 (satimage's
    scores) ``A.max(axis=1)`` took 151 us and ``A.sum(axis=1)`` 54 us, the
    same reductions over the rows of ``A.T`` 12 and 10 us (the transposed
    copy included; 2-core AMD EPYC Zen 5).  Over ``A.T`` the columns are
    combined one after the other, as NumPy combines fewer than 8 entries
    along a row: the same bits for up to 7 classes.
    """
    return ufunc.reduce(np.ascontiguousarray(A.T), axis=0)[:, None]


def _row_sums(A):
    """``A.sum(axis=1, keepdims=True)`` (:func:`_row_reduce`)."""
    return _row_reduce(np.add, A)


class _Interrupted(Exception):
    """The shared stop flag was set by another thread of the fit."""


class _Overflow(Exception):
    """The Hessian overflows float64 (``C`` times the squared values)."""


def _stopped(flag):
    if flag:
        raise _Interrupted


def solve_newton_system(H, g, *, K=1, null_rows=()):
    """The Newton direction ``d`` of ``H d = -g`` (step 2 of the module docstring).

    ``H`` (symmetric positive semi-definite, over variables ``a K + k``) is not
    modified.  ``null_rows`` are the rows ``a`` whose class-sum direction
    ``e_a kron 1`` is in the null space of ``H`` (and orthogonal to ``g``):
    their ``K x K`` blocks get ``eps 1 1^T`` (see the module docstring).
    Returns ``(d, how)`` with ``how`` one of ``"cholesky"``, ``"ridge"``,
    ``"eigh"``.
    """
    factor = _Factor(H, K=K, null_rows=null_rows)
    return factor.solve(-g), factor.how


class _Factor:
    """A factorisation of ``H`` (step 2 of the module docstring), for solves
    with several right-hand sides: the exact Newton direction, and the
    preconditioner of the later steps (step 2b)."""

    def __init__(self, H, *, K=1, null_rows=(), ridge=RIDGE):
        diag = np.diag(H)
        self.keep = keep = diag > 0
        self.how, self.chol, self.eig = "cholesky", None, None
        if not keep.any():
            return
        A = H.copy()
        if len(null_rows) and K > 1:
            # eps of the row's own scale: one of the whole diagonal would be
            # that of the largest feature, and swamp a row of unit scale.
            for a in null_rows:
                block = slice(a * K, (a + 1) * K)
                eps = float(diag[block].mean())
                if eps > 0:
                    A[block, block] += eps
            self.keep = keep = np.diag(A) > 0
        if not keep.all():   # a fancy-indexed copy costs half a factorisation
            A = A[np.ix_(keep, keep)]
        a_diag = np.diag(A).copy()
        try:
            # The lower factor (OpenBLAS's potrf took 1.14-1.25x less time for
            # it than for the upper one at 124-1000 variables), computed in
            # place in A.T: A is private and symmetric, so A.T is A in the
            # Fortran order LAPACK reads, and no copy is made (a fresh 543^2
            # copy cost about 1 ms of page faults on dna).  potrf writes only
            # that triangle and the diagonal.
            self.chol = scipy.linalg.cho_factor(A.T, lower=True, overwrite_a=True,
                                                check_finite=False)
            if not np.min(np.diag(self.chol[0]) ** 2 / a_diag) >= COLLINEAR:
                raise np.linalg.LinAlgError("collinear to rounding level")
        except (np.linalg.LinAlgError, ValueError):
            self.chol = None
            # A again from the triangle potrf did not write, and the diagonal.
            upper = np.triu_indices_from(A, 1)
            A[upper] = A.T[upper]
            # Each variable's ridge relative to its own curvature: one
            # relative to the largest would erase the features of small
            # scale when another is 1e20 times larger.
            A[np.diag_indices_from(A)] = a_diag * (1.0 + ridge)
            try:
                self.chol = scipy.linalg.cho_factor(A, lower=True, check_finite=False)
                self.how = "ridge"
            except (np.linalg.LinAlgError, ValueError):
                vals, vecs = scipy.linalg.eigh(A, check_finite=False)
                big = vals > EPS * max(float(vals.max()), 0.0) * A.shape[0]
                self.eig = vecs[:, big], vals[big]
                self.how = "eigh"

    def solve(self, r):
        """``A^-1 r`` on the kept variables, 0 on the others."""
        d = np.zeros_like(r)
        if self.chol is not None:
            # A = L L^T (the factor is always the lower one): two BLAS
            # triangular solves, dtrsv.  With one right-hand side LAPACK's
            # potrs took 2-4x and two trtrs 1.2-2.6x their time at 10-1000
            # variables (2-core AMD EPYC Zen 4, one thread: 50 variables
            # 7.5 / 3.0 us, 222 38 / 15 us, 543 70 / 50 us); trtrs gives the
            # same bits, potrs the same solution to 1e-15.
            L = self.chol[0]
            y = dtrsv(L, r[self.keep], lower=1)
            d[self.keep] = dtrsv(L, y, lower=1, trans=1, overwrite_x=1)
        elif self.eig is not None:
            vecs, vals = self.eig
            d[self.keep] = vecs @ ((vecs.T @ r[self.keep]) / vals)
        if not np.all(np.isfinite(d)):
            d[:] = r  # cannot happen with finite H and r; a descent direction anyway
            self.how = "gradient"
        return d


def _dominant(cost, counts=None):
    """Whether one sample's cost (``cost / counts`` for merged rows) is at
    least :data:`DOMINANT_SHARE` of the total (rule 4)."""
    if not cost.size:
        return False
    per_sample = cost if counts is None else cost / np.maximum(counts, 1)
    return float(np.max(per_sample)) >= DOMINANT_SHARE * float(np.sum(cost))


def _diagonal_decrement(g, diagonal):
    """``1/2 g.diag(H)^-1 g``: the decrease a Newton step on the Hessian's
    diagonal promises, an estimate of ``f - f*`` (entries without curvature
    have ``g = 0`` and add nothing)."""
    curved = diagonal > 0
    # (g_j^2 overflows at C = 1e300, where g_j / h_j does not)
    return 0.5 * float(np.sum(g[curved] * (g[curved] / diagonal[curved])))


def _largest(g):
    """``max_j |g_j|`` (0 for no entries): scikit-learn's measure, and the
    largest score for the drift test (:data:`DRIFT`)."""
    return float(np.max(np.abs(g))) if g.size else 0.0


def _norm(v):
    """The 2-norm of ``v`` without overflow in its squares (gradients of
    order 1e300 at C = 1e300)."""
    top = _largest(v)
    if not 0.0 < top < np.inf:
        return top
    return top * float(np.linalg.norm(v / top))


def _preconditioned_cg(model, curvature, g, factor, *, forcing, tol, max_steps):
    """``H d = -g`` by conjugate gradients preconditioned with ``factor``
    (step 2b of the module docstring).

    Returns ``(d, steps, solved)``: ``solved`` is False when ``max_steps``
    products did not bring the residual down to ``forcing ||g||`` (2-norm)
    or ``tol / 10`` (max-norm).
    """
    d = np.zeros_like(g)
    r = -g
    target = forcing * _norm(g)
    z = factor.solve(r)
    p = z.copy()
    rz = float(r @ z)
    for step in range(1, max_steps + 1):
        Hp = model.hessian_vector(curvature, p)
        pHp = float(p @ Hp)
        if not (pHp > 0 and rz > 0):
            return d if step > 1 else z, step, False
        alpha = rz / pHp
        d += alpha * p
        r -= alpha * Hp
        if _norm(r) <= target or np.max(np.abs(r)) <= 0.1 * tol:
            return d, step, True
        z = factor.solve(r)
        rz_new = float(r @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return d, max_steps, False


def _newton(model, w, *, tol, max_iter, verbose, stop, known=None, size=None, min_steps=0,
            decrement=False, dominant=False):
    """The Newton loop of the module docstring on ``model``; ``w`` updated in place.

    ``known`` is ``(z, g)``, the scores and gradient at ``w`` if already
    computed (the binary model's quasi-Newton start), or None.  ``size``
    measures the gradient for the test ``size(g) <= tol``: ``max |g_j|``
    by default (:func:`_largest`); the test counts from ``min_steps``
    Newton steps on and, with ``decrement``, asks also that the Newton
    decrement ``1/2 g.H^-1 g`` be at most ``tol`` (rule 4): on the whole
    Hessian where forming it costs less than two products or, with
    ``dominant``, one sample carries a large share of the cost
    (:func:`_dominant`); on its diagonal otherwise.  Returns
    ``(n_iter, status, measure, z)`` (``z`` the scores of ``w``).
    """
    if known is None:
        z = model.scores(w) if np.any(w) else model.zero_scores()
        g, curvature = model.gradient(w, z)
    else:
        z, g = known
        curvature = model.curvature(z)
    f = model.value(w, z)
    size = _largest if size is None else size
    peak = _largest(z)     # the largest score since z was last computed from w
    n_iter, status = 0, Status.MAX_ITER
    g_norm0 = _norm(g)
    factor, steps, spent, idle, best = None, 0, 0, 0, np.inf
    fresh = False   # factor formed at the current point (by the decrement test)
    last_decrement = 0.0
    # Rule 4: the decrement on the whole Hessian where forming it is cheap or
    # one sample carries a large share of the cost, on its diagonal otherwise;
    # within tol and within RELATIVE_DECREMENT tol f (tol per unit of cost)
    # where there is an optimum (``model.expand``: every class has cost; else
    # the point where the steps stop is the answer, as scikit-learn's).
    full = decrement and (model.cg_steps == 0 or dominant)
    total = float(np.sum(model.cost))
    share = RELATIVE_DECREMENT * tol / total if total > 0 and model.expand else 0.0

    def no_progress():
        # No resolvable decrease: the optimum at rounding level, or steps
        # that no longer resolve far from it (settle decides).
        return settle(Status.LINE_SEARCH_FAILED, measure, tol,
                      scaled=lambda: scaled_gradient(g, model.X, model.cost, model.bias))

    def decrease():
        # Rule 4's estimate of f - f*: on the whole Hessian (and, where one
        # sample dominates, at least the last step's own decrement) or on
        # its diagonal.
        if not full:
            return _diagonal_decrement(g, model.diagonal(curvature))
        here = 0.5 * float(g @ factor.solve(g))
        return max(here, last_decrement) if dominant else here

    def exact():
        with np.errstate(over="ignore", invalid="ignore"):
            H = model.hessian(curvature)
        if not np.all(np.isfinite(H)):
            # (C = 1e300 on values of 1e5: the factor would be NaN and the
            # line search would meet it as no decrease)
            raise _Overflow
        with blas_threads(model.rows.blas_n):
            return _Factor(H, K=model.K, null_rows=model.null_rows,
                           ridge=RIDGE32 if model.X.data.dtype == np.float32 else RIDGE)

    try:
        while True:
            measure = size(g)
            if verbose:
                print(f"newton-cholesky iter {n_iter:3d}  f {f:.12g}  "
                      f"{'max|g|' if size is _largest else '|g|'} {measure:.3e}  cg {steps}")
            if (measure <= tol and n_iter < min_steps and scaled_gradient(
                    g, model.X, model.cost, model.bias) <= max(model.X.n_rows, 1) * EPS):
                min_steps = 0   # the start is the optimum to rounding: no step to take
            if measure <= tol and n_iter >= min_steps and peak > DRIFT * max(1.0, _largest(z)):
                # The scores carry the rounding of far larger ones: anew.
                z = model.scores(w)
                g, curvature = model.gradient(w, z)
                f, peak, factor, fresh = model.value(w, z), _largest(z), None, False
                continue
            if measure <= tol and n_iter >= min_steps:
                if full and factor is None:
                    # The decrement from the Hessian here; a failed test
                    # then takes the exact step with it.
                    factor, steps, spent, fresh = exact(), 0, 0, True
                if not decrement or decrease() <= (min(tol, share * abs(f)) if share else tol):
                    status = Status.CONVERGED
                    break
            if n_iter >= max_iter:
                break
            if stop[0]:
                raise _Interrupted
            if factor is None or fresh:
                if factor is None:
                    factor, steps, spent = exact(), 0, 0
                d, solved, fresh = factor.solve(-g), True, False
            else:
                # Once the gradient test holds, only the decrement is left:
                # the residual's relative size alone stops the products.
                forcing = min(FORCING, np.sqrt(_norm(g) / g_norm0))
                d, steps, solved = _preconditioned_cg(model, curvature, g, factor,
                                                      forcing=forcing,
                                                      tol=0.0 if measure <= tol else tol,
                                                      max_steps=model.cg_steps)
            found = _line_search(model, w, z, f, g, d, model.scores(d), measure, size)
            if found is None and steps:
                # The inexact direction failed: an exact step before giving up.
                factor, steps, spent, solved = exact(), 0, 0, True
                d = factor.solve(-g)
                found = _line_search(model, w, z, f, g, d, model.scores(d), measure, size)
            if found is None:
                status = no_progress()
                break
            f_before = f
            last_decrement = -0.5 * float(g @ d)
            w[:], z, f, g, curvature = found
            peak = max(peak, _largest(z))
            spent += steps
            n_iter += 1
            new_measure = size(g)
            if not solved or (spent >= model.cg_steps and (full or not new_measure <= tol)):
                # The products cost more than forming H would.  (Where only
                # the diagonal decrement is left, a step or two of products on
                # the factor at hand cost less: dna at C = 1, one more step
                # 12 ms on a new Hessian against 6 ms.  The whole Hessian's
                # decrement needs H at the point.)
                factor = None
            # At the optimum with tol=0, Armijo keeps accepting "decreases" of
            # one unit in f's last place that leave max |g| no lower than it
            # has been: after IDLE_STEPS of them the steps no longer resolve.
            if f_before - f <= ROUNDING * abs(f_before) and not new_measure < best:
                idle += 1
                if idle >= IDLE_STEPS:
                    measure = new_measure
                    status = no_progress()
                    break
            else:
                idle = 0
            best = min(best, new_measure)
    except _Interrupted:
        status = Status.INTERRUPTED
        measure = size(g)
    except _Overflow:
        status = Status.DIVERGED
        measure = size(g)
    return n_iter, status, measure, z


def _quasi_newton_start(model, w, *, tol, max_iter, verbose):
    """Step 0b: at most ``max_iter`` L-BFGS iterations from ``w`` (in place).

    Returns the iterations taken and, when the last evaluation was at the
    returned ``w`` (as it is after an accepted step), its ``(z, g)`` for
    :func:`_newton`, which then starts without reading X.  scikit-learn's
    lbfgs options: ``gtol = tol`` (the caller's: under the gradient rule
    :data:`QUASI_NEWTON_GTOL` of the Newton test's threshold), ``maxls=50``,
    ``ftol=64 eps``.  It stops early on scipy's own tests (gradient,
    relative decrease, line search); Newton then takes over from the last
    accepted iterate, which has the lowest ``f`` seen (L-BFGS-B's iterates
    decrease ``f``).
    """
    import scipy.optimize

    g = np.empty_like(w)
    z = np.empty(model.X.n_rows)
    n_threads = model.n_threads if model.X.nnz >= THREAD_MIN_NNZ else 1
    kw = dict(bias=model.bias, lam=model.lam, reg_bias=model.reg_bias,
              n_threads=n_threads, stop=model.stop, scores=z)
    last = {}

    def fun(v):
        f = _newton_fast.logistic_loss_grad(model.X, model.y, model.cost, v, g, **kw)
        _stopped(model.stop[0])
        last.update(v=v.copy(), g=g.copy())
        return f, g.copy()

    # L-BFGS-B's own vector work is BLAS on a few hundred entries: one
    # thread.  OpenBLAS's threads spinning beside the kernel's OpenMP threads
    # made each evaluation 5x slower with n_jobs=2 on 2 cores.
    with blas_threads(1):
        result = scipy.optimize.minimize(
            fun, w, jac=True, method="L-BFGS-B",
            options=dict(maxiter=int(max_iter), maxls=50, gtol=float(tol),
                         ftol=64 * EPS))
    if np.all(np.isfinite(result.x)) and np.isfinite(result.fun):
        w[:] = result.x
    if verbose:
        print(f"newton-cholesky: {result.nit} L-BFGS iterations first "
              f"(f {result.fun:.12g}, max|g| {float(np.max(np.abs(result.jac))):.3e})")
    known = (z, last["g"]) if last and np.array_equal(last["v"], w) else None
    return int(result.nit), known


def _line_search(model, w, z, f, g, d, dz, measure, size=None):
    """Backtracking on ``t = 1, 1/2, ...``: ``(w, z, f, g, curvature)`` at the
    accepted point, or None.  ``size`` measures the gradient (:func:`_newton`)."""
    size = _largest if size is None else size
    slope = float(g @ d)
    if not slope < 0:
        return None
    t = 1.0
    for _ in range(MAX_HALVINGS):
        w_t = w + t * d
        z_t = z + t * dz
        f_t = model.value(w_t, z_t)
        if f_t - f <= ARMIJO * t * slope:
            if t == 1.0 and model.expand and f - f_t > ROUNDING * abs(f):
                w_t, z_t, f_t = _expand(model, w, z, d, dz, w_t, z_t, f_t)
            return (w_t, z_t, f_t) + model.gradient(w_t, z_t)
        if f_t - f <= ROUNDING * abs(f):
            g_t, curvature_t = model.gradient(w_t, z_t)
            if size(g_t) < measure:
                return w_t, z_t, f_t, g_t, curvature_t
        t *= 0.5
    return None


def _expand(model, w, z, d, dz, w_t, z_t, f_t):
    """The accepted full step ``(w_t, z_t, f_t)`` lengthened to ``t = 2, 4,
    ...`` (at most :data:`MAX_EXPANSION`) while each lowers ``f`` by more
    than rounding (step 3 of the module docstring)."""
    t = 1.0
    while 2.0 * t <= MAX_EXPANSION:
        w_2, z_2 = w + 2.0 * t * d, z + 2.0 * t * dz
        f_2 = model.value(w_2, z_2)
        if not f_t - f_2 > ROUNDING * abs(f_t):
            break
        t, w_t, z_t, f_t = 2.0 * t, w_2, z_2, f_2
    return w_t, z_t, f_t


def _prior_intercepts(weights, bias):
    """The default start's bias weights (step 0 of the module docstring):
    ``log`` of each class's total cost over the bias value, centred (binary:
    ``[0, log(positive / negative)]``); zeros when there is no intercept or a
    class has no cost."""
    weights = np.asarray(weights, dtype=np.float64)
    if bias == 0 or not np.all(weights > 0):
        return np.zeros(weights.shape[0])
    logs = np.log(weights)
    return (logs - logs[0] if weights.shape[0] == 2 else logs - logs.mean()) / bias


def _check_common(who, tol, max_iter, lam):
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"{who}: tol must be a finite number >= 0, got {tol!r}.")
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"{who}: max_iter must be an integer >= 0, got {max_iter!r}.")
    if lam not in (0.0, 1.0):
        raise ValueError(f"{who}: lam must be 1.0 (L2 penalty) or 0.0 (none), got {lam!r}.")


def _check_costs(who, cost, n):
    cost = np.asarray(cost, dtype=np.float64)
    if cost.shape != (n,):
        raise ValueError(f"{who}: cost must have shape (n_samples,) = ({n},), got {cost.shape}.")
    if not (np.all(np.isfinite(cost)) and np.all(cost >= 0)):
        raise ValueError(f"{who}: the costs C_i must be finite and >= 0; "
                         "check sample_weight and class_weight.")
    return cost


def _check_start(who, name, start, shape):
    start = np.array(start, dtype=np.float64)  # a copy: never the caller's array
    if start.shape != shape:
        raise ValueError(f"{who}: {name} must have shape {shape}, got {start.shape}.")
    if not np.all(np.isfinite(start)):
        raise ValueError(f"{who}: {name} has NaN or infinite entries.")
    return start


def binary(problem, *, tol, max_iter, w0=None, verbose=0, stop=None, n_threads=1,
           quasi_newton=False, rule="gradient"):
    """Exact Newton for binary L2-regularised logistic regression.

    Parameters
    ----------
    problem : fastlinear._problem.LinearProblem
        With ``loss="logistic"`` and ``penalty="l2"``: ``X`` (the CSR
        proof), ``y`` (+-1), ``cost``, ``bias``, ``lam``, ``reg_bias``.
    tol : float
        With ``rule="gradient"``, scikit-learn's lbfgs tolerance: stop when
        ``max_j |g_j| <= tol * sum_i C_i``
        (:func:`fastlinear._solvers.gradient_tol`).  With
        ``rule="liblinear"``, liblinear's: ``||g|| <= tol' ||g(0)||`` with
        ``tol' = tol min(n+, n-) / n`` (:func:`fastlinear._solvers.newton_tol`)
        and ``g(0)`` the gradient at ``w = 0`` whatever the start.
    max_iter : int
        Newton steps at most (0 returns the start point).
    w0 : ndarray of shape (n_features + 1,), default=None
        The start point (by default zeros but for the bias weight, step 0
        of the module docstring); not modified.
    verbose : int, default=0
        > 0 prints one line per Newton step.
    stop : uint8 ndarray of shape (1,), default=None
        The fit's shared stop flag.
    n_threads : int, default=1
        Row chunks of the Hessian pass (``_hessian_fast``'s rule) and of the
        L-BFGS passes (from ``THREAD_MIN_NNZ`` stored values).
    quasi_newton : bool, default=False
        From the default start, L-BFGS iterations first (step 0b of the
        module docstring); they count in ``n_iter`` and ``max_iter``.
    rule : {"gradient", "liblinear"}, default="gradient"
        The stopping test (``tol``).

    Returns
    -------
    Solution
        ``w`` (the bias weight last), ``alpha = C_i sigma(-y_i z_i)``, the
        L-BFGS iterations and Newton steps,
        :class:`~fastlinear._solvers.Status`, the measure (``max_j |g_j|``,
        or ``||g|| / ||g(0)||`` with ``rule="liblinear"``) and the
        threshold it was held to (``alpha`` is None when interrupted during
        the L-BFGS iterations; the measure is infinite, with ``w`` the
        start, when ``g(0)`` overflows).
    """
    who = "newton-cholesky"
    require_proved(problem.X, who)
    if problem.loss != "logistic" or problem.penalty != "l2":
        raise ValueError(f"{who}: solves the L2-penalised logistic loss, got "
                         f"loss={problem.loss!r}, penalty={problem.penalty!r}.")
    _check_common(who, tol, max_iter, problem.lam)
    n, m = problem.X.n_rows, problem.X.n_cols + 1
    cost = _check_costs(who, problem.cost, n)
    y = np.asarray(problem.y, dtype=np.float64)
    if y.shape != (n,) or not np.all((y == 1.0) | (y == -1.0)):
        raise ValueError(f"{who}: y must hold n_samples = {n} labels -1 or +1.")
    if not np.isfinite(problem.bias):
        raise ValueError(f"{who}: bias must be finite, got {problem.bias!r}.")
    if rule not in ("gradient", "liblinear"):
        raise ValueError(f"{who}: rule must be 'gradient' or 'liblinear', got {rule!r}.")
    liblinear = rule == "liblinear"
    if w0 is None:
        w = np.zeros(m)
        if not liblinear:
            w[-1] = _prior_intercepts(np.bincount((y > 0).astype(np.intp), cost, 2),
                                      problem.bias)[1]
    else:
        w = _check_start(who, "w0", w0, (m,))
    check_hessian_memory(m, "LogisticRegression(solver='newton-cholesky')")
    model = _Binary(problem.X, y, cost, float(problem.bias), float(problem.lam),
                    bool(problem.reg_bias), int(n_threads), new_stop_flag() if stop is None else stop)
    if liblinear:
        # liblinear's start (w = 0), and from it at least one Newton step
        # before the test: ||g(0)|| can be mostly the bias entry (a large
        # intercept_scaling), which a start at the class log-odds or a few
        # L-BFGS iterations (steps mostly along the bias) cancel while the
        # features' weights are far from their optimum, and the relative
        # test would pass there.  Half of max_iter at most goes to L-BFGS.
        threshold = newton_tol(problem, tol)
        g_norm0 = _norm(model.gradient(np.zeros(m), model.zero_scores())[0])
        if not np.isfinite(g_norm0):   # (the caller's kernel rescales such costs)
            return Solution(w, None, 0, Status.MAX_ITER, np.inf, who, threshold)
        # g(0) = 0, or cancelled to rounding (each row twice with opposite
        # labels): w = 0 is the minimiser (f is convex) whatever the start,
        # where the kernel ends too.  Rounding: n eps of the terms' size,
        # which sum_i C_i ||x~_i|| / 2 bounds (the exact size only below it).
        rounding = max(n, 1) * EPS
        with np.errstate(over="ignore"):
            bound = 0.5 * float(np.sum(cost)) * np.sqrt(float(problem.X.max_row_sq)
                                                        + np.float64(problem.bias) ** 2)
        if g_norm0 == 0.0 or (g_norm0 <= rounding * bound
                              and _zero_gradient_at_zero(problem, within=rounding)):
            return Solution(np.zeros(m), 0.5 * cost, 0, Status.CONVERGED, 0.0, who, threshold)
        limit, size = threshold * g_norm0, _norm
        first_iter = min(QUASI_NEWTON_ITER, int(max_iter) // 2)
    else:
        threshold = gradient_tol(problem, tol)
        g_norm0, limit, size = 1.0, threshold, _largest
        first_iter = min(QUASI_NEWTON_ITER, int(max_iter))
    n_first, known = 0, None
    if quasi_newton and w0 is None and model.lam == 1.0 and model.cg_steps > 0 \
            and model.rows.dense is None and first_iter > 0:
        try:
            n_first, known = _quasi_newton_start(
                model, w, tol=limit if liblinear else QUASI_NEWTON_GTOL * limit,
                max_iter=first_iter, verbose=verbose)
        except _Interrupted:
            return Solution(w, None, 0, Status.INTERRUPTED, np.inf, "newton-cholesky",
                            threshold)
    n_iter, status, measure, z = _newton(model, w, tol=limit,
                                         max_iter=int(max_iter) - n_first,
                                         verbose=verbose, stop=model.stop, known=known, size=size,
                                         min_steps=int(w0 is None and (liblinear or n_first == 0)),
                                         decrement=not liblinear and model.lam > 0,
                                         dominant=_dominant(cost, problem.counts))
    n_iter += n_first
    alpha = cost * sigmoid_neg(y * z)
    return Solution(w, alpha, int(n_iter), status, measure / g_norm0, "newton-cholesky",
                    threshold)


def multinomial(X, y_ind, cost, n_classes, *, bias, lam, reg_bias, fixed_first, tol, max_iter,
                W0=None, verbose=0, stop=None, n_threads=1):
    """Exact Newton for multinomial L2-regularised logistic regression.

    Parameters
    ----------
    X : fastlinear._csr_fast.CSR of shape (n_samples, n_features)
    y_ind : ndarray of shape (n_samples,)
        Class indices in ``0..n_classes-1``.
    cost : ndarray of shape (n_samples,)
        ``C_i >= 0`` (0 leaves a sample out).
    n_classes : int
        ``K >= 2``.
    bias : float
        Value of the constant feature (0: no intercept).
    lam : {1.0, 0.0}
        Weight of the penalty (0: none).
    reg_bias : bool
        Whether the bias row is penalised.
    fixed_first : bool
        Hold column 0 of ``W`` at 0 (class 0 is the reference).
    tol : float
        Stop when ``max |g| <= tol`` (in the units of ``f``).
    max_iter : int
        Newton steps at most (0 returns the start point).
    W0 : ndarray of shape (n_features + 1, n_classes), default=None
        The start point (by default zeros but for the bias row, step 0 of
        the module docstring; with ``fixed_first`` its column 0 must be 0);
        not modified.
    verbose, stop, n_threads :
        As for :func:`binary`.

    Returns
    -------
    W : ndarray of shape (n_features + 1, n_classes)
        The bias row last.
    n_iter : int
    status : Status
    measure : float
        ``max |g|`` at ``W`` (over the free variables).
    """
    who = "newton-cholesky"
    require_proved(X, who)
    _check_common(who, tol, max_iter, lam)
    n, m = X.n_rows, X.n_cols + 1
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"{who}: n_classes must be an integer >= 2, got {n_classes!r}.")
    n_classes = int(n_classes)
    y_ind = np.asarray(y_ind)
    if y_ind.shape != (n,) or not np.issubdtype(y_ind.dtype, np.integer):
        raise ValueError(f"{who}: y_ind must be an integer array of shape ({n},), got "
                         f"{y_ind.dtype} of shape {y_ind.shape}.")
    if n and (y_ind.min() < 0 or y_ind.max() >= n_classes):
        raise ValueError(f"{who}: y_ind must hold class indices in [0, {n_classes}), got "
                         f"values in [{y_ind.min()}, {y_ind.max()}].")
    cost = _check_costs(who, cost, n)
    if not np.isfinite(bias):
        raise ValueError(f"{who}: bias must be finite, got {bias!r}.")
    if W0 is None:
        W = np.zeros((m, n_classes))
        W[-1] = _prior_intercepts(np.bincount(y_ind, cost, n_classes), bias)
        W[-1] -= W[-1, 0] if fixed_first else W[-1].mean()
    else:
        W = _check_start(who, "W0", W0, (m, n_classes))
    if fixed_first and np.any(W[:, 0] != 0):
        raise ValueError(f"{who}: with fixed_first, column 0 of W0 (the reference class) "
                         "must be 0; subtract it from every column first.")
    check_hessian_memory(m * (n_classes - bool(fixed_first)),
                         "LogisticRegression(solver='newton-cholesky')")
    model = _Multinomial(X, y_ind.astype(np.intp), cost, n_classes, float(bias), float(lam),
                         bool(reg_bias), bool(fixed_first), int(n_threads),
                         new_stop_flag() if stop is None else stop)
    w = np.ascontiguousarray(W[:, model.first:]).ravel()
    n_iter, status, measure, _ = _newton(model, w, tol=float(tol), max_iter=int(max_iter),
                                         verbose=verbose, stop=model.stop, decrement=lam > 0,
                                         dominant=_dominant(cost), min_steps=int(W0 is None))
    return model.full(w), int(n_iter), status, measure
