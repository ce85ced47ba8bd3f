"""The problems of liblinear's family, defined once: labels, costs, objectives.

Every solver (dual coordinate descent, primal Newton, L1 coordinate descent,
Crammer-Singer) and every workflow (``LinearSVC``, the C-path search, the
Dask blocks, :func:`fastlinear.linear_svc_objective`) builds its problems
here, as liblinear's ``problem`` and ``parameter`` structs (and skglm's
datafits) do.  Nobody else turns labels into +-1 or multiplies ``C`` by class
and sample weights.

A binary or regression problem (:class:`LinearProblem`)::

    P(w) = R(w) + sum_i C_i xi(z_i),     z_i = w . x~_i,   x~_i = [x_i, bias]

    R(w) = lam/2 ||w_R||^2  (penalty "l2")   or   ||w||_1  (penalty "l1")

with a loss ``xi`` of :mod:`fastlinear._losses` (hinge, squared hinge, the
two epsilon-insensitive losses, logistic).  ``w`` has ``n_features + 1``
entries, the weight of the constant feature of value ``bias`` last
(liblinear's ``-B``; ``bias = 0`` means no intercept).  ``w_R`` are the
penalised weights: all of them, as in liblinear, or all but the bias weight
(``reg_bias=False``: scikit-learn's unpenalised intercept, as its lbfgs
solver).  ``lam`` is 1, or 0 for no penalty (scikit-learn's ``C=np.inf``,
with costs ``C_i`` then the sample weights alone).

For the L2 penalty, the dual in liblinear's minimisation form, with
``w(a) = sum_i y_i a_i x~_i`` (classification) or ``sum_i b_i x~_i``
(regression)::

    D(a) = 1/2 ||w(a)||^2 + sum_i (d_i/2 a_i^2 - a_i),            0 <= a_i <= U_i
    D(b) = 1/2 ||w(b)||^2 + sum_i (d_i/2 b_i^2 - y_i b_i + eps |b_i|),  |b_i| <= U_i

    L1 losses (hinge, epsilon_insensitive):  U_i = C_i,  d_i = 0
    L2 losses (squared_*):                   U_i = inf,  d_i = 1 / (2 C_i)

Strong duality gives ``min P = -min D``, so ``P(w) + D(a) >= 0`` is the
duality gap of any pair, zero at the optimum.

Costs follow liblinear's ``train``: ``C_i = C * class_weight[y_i] *
sample_weight_i`` for two classes; in one-vs-rest the positive class of
problem ``k`` gets ``class_weight[k]`` and every other sample keeps
``C * sample_weight_i``.  For two classes the positive class is
``classes_[1]`` (scikit-learn's convention for ``coef_``).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp

from . import _losses
from ._base import bias_of
from ._csr_fast import CSR
from ._validation import check_class_weight

__all__ = [
    "CLASSIFICATION_LOSSES",
    "REGRESSION_LOSSES",
    "CrammerSingerProblem",
    "LinearProblem",
    "OneVsRest",
    "regression_problem",
    "weights_with_bias",
]

CLASSIFICATION_LOSSES = ("hinge", "squared_hinge", "logistic")
REGRESSION_LOSSES = _losses.REGRESSION


def weights_with_bias(estimator):
    """A fitted linear SVM's ``w`` as the problems read it, one row per problem.

    ``coef_`` (dense or sparsified) with the weight of the constant feature,
    ``intercept_ / bias_of(estimator)`` (0 without intercept), as a last
    column, in float64: shape (n_problems, n_features + 1).  Reads
    fastlinear's and scikit-learn's ``LinearSVC``, ``LinearSVR`` and
    ``LogisticRegression`` alike.
    """
    coef = estimator.coef_
    coef = np.atleast_2d(np.asarray(coef.toarray() if sp.issparse(coef) else coef,
                                    dtype=np.float64))
    W = np.zeros((coef.shape[0], coef.shape[1] + 1))
    W[:, :-1] = coef
    if estimator.fit_intercept:
        W[:, -1] = np.ravel(np.asarray(estimator.intercept_, dtype=np.float64)) \
            / bias_of(estimator)
    return W


def _scores(X, W, bias):
    """``z = X~ W^T``: scores of every row for the rows of ``W`` (with bias last)."""
    W = np.atleast_2d(W)
    Z = np.asarray(X.to_scipy() @ W[:, :-1].T, dtype=np.float64)
    Z += bias * W[:, -1]
    return Z


@dataclass(frozen=True, eq=False)
class LinearProblem:
    """One L2- or L1-regularised binary classification or regression problem.

    Attributes
    ----------
    X : fastlinear._csr_fast.CSR
        The proved data, shared by every problem of a fit (never copied).
    y : ndarray of shape (n_samples,)
        -1 or +1 (classification losses) or the targets (regression).
    cost : ndarray of shape (n_samples,)
        ``C_i >= 0``; 0 leaves a sample out.
    loss : str
        One of the losses of :mod:`fastlinear._losses`.
    bias : float
        Value of the constant feature (0: no intercept).
    epsilon : float
        The insensitive zone of the regression losses.
    penalty : {"l2", "l1"}
    reg_bias : bool
        Whether the bias weight is penalised (liblinear) or not.
    lam : float
        The weight of the L2 penalty: 1, or 0 for none.
    counts : ndarray of shape (n_samples,) or None
        The samples of positive weight each row stands for when identical
        samples were merged (:mod:`fastlinear._merge`); None: one each.
        Only liblinear's tolerance factor ``min(#pos, #neg) / n`` reads it.
    """

    X: CSR
    y: np.ndarray
    cost: np.ndarray
    loss: str
    bias: float
    epsilon: float = 0.0
    penalty: str = "l2"
    reg_bias: bool = True
    lam: float = 1.0
    counts: Optional[np.ndarray] = None

    @property
    def n_samples(self):
        return self.X.n_rows

    @property
    def n_features(self):
        return self.X.n_cols

    @property
    def is_regression(self):
        return self.loss in REGRESSION_LOSSES

    @property
    def squared(self):
        """Whether the loss is a squared (twice differentiable a.e.) one."""
        return self.loss in _losses.SQUARED

    @property
    def smooth(self):
        """Whether the primal Newton solver handles the loss."""
        return self.loss in _losses.SMOOTH

    def scores(self, w):
        """``z_i = w . x~_i`` for ``w`` of shape (n_features + 1,)."""
        return _scores(self.X, w, self.bias)[:, 0]

    def residuals(self, z):
        """The hinge ``max(0, 1 - y z)`` or ``max(0, |z - y| - eps)`` of each sample."""
        return _losses.residuals(self.loss, self.y, z, self.epsilon)

    def loss_sum(self, z):
        """``sum_i C_i xi(z_i)``."""
        return float(self.cost @ _losses.loss_values(self.loss, self.y, z, self.epsilon))

    def regularizer(self, w):
        w = np.asarray(w, dtype=np.float64)
        if self.penalty == "l1":
            return float(np.abs(w).sum())
        w_r = w if self.reg_bias else w[:-1]
        return 0.5 * self.lam * float(w_r @ w_r)

    def primal(self, w):
        """``P(w)``."""
        return self.regularizer(w) + self.loss_sum(self.scores(w))

    def box(self):
        """``(U, d)``: the dual box bounds and diagonal, per sample (L2 penalty)."""
        c = self.cost
        used = c > 0
        if self.squared:
            upper = np.where(used, np.inf, 0.0)
            diag = np.zeros_like(c)
            diag[used] = 0.5 / c[used]
        else:
            upper = c.copy()
            diag = np.zeros_like(c)
        return upper, diag

    def w_from_alpha(self, alpha):
        """``w(a) = sum_i y_i a_i x~_i`` (``sum_i b_i x~_i`` for regression)."""
        coef = alpha if self.is_regression else self.y * alpha
        w = np.empty(self.n_features + 1)
        w[:-1] = self.X.to_scipy().T @ coef
        w[-1] = self.bias * coef.sum()
        return w

    def dual_sum(self, alpha):
        """The separable part of ``D``: ``sum_i (d_i/2 a_i^2 - a_i)`` (or its
        regression form), so that ``D(a) = 1/2 ||w(a)||^2 + dual_sum(a)``."""
        _, diag = self.box()
        value = 0.5 * float(diag @ (alpha * alpha))
        if self.is_regression:
            return value - float(self.y @ alpha) + self.epsilon * float(np.abs(alpha).sum())
        return value - float(alpha.sum())

    def dual(self, alpha):
        """``D(a)`` (minimisation form; ``min P = -min D``)."""
        w = self.w_from_alpha(alpha)
        return 0.5 * float(w @ w) + self.dual_sum(alpha)

    def duality_gap(self, w, alpha):
        """``(P(w) + D(a)) / P(w)``: the relative duality gap of a pair."""
        primal = self.primal(w)
        return (primal + self.dual(alpha)) / primal if primal > 0 else 0.0

    def alpha_from_w(self, w, z=None):
        """Dual variables of a primal solution (smooth losses; the KKT conditions).

        Classification: ``a_i = 2 C_i max(0, 1 - y_i z_i)``; regression:
        ``b_i = -2 C_i sign(z_i - y_i) max(0, |z_i - y_i| - eps)``; logistic:
        ``a_i = C_i sigma(-y_i z_i)`` (liblinear ``-s 7``'s variables).
        """
        if not self.smooth:
            raise ValueError(f"No closed-form dual for the {self.loss} loss.")
        z = self.scores(w) if z is None else z
        if self.loss == "logistic":
            return self.cost * _losses.sigmoid_neg(self.y * z)
        r = self.residuals(z)
        if self.is_regression:
            return -2.0 * self.cost * np.sign(z - self.y) * r
        return 2.0 * self.cost * r


class OneVsRest:
    """The binary problems of a classification fit, built one at a time.

    Two classes make one problem (positive class ``classes_[1]``), more make
    one per class.  The labels and costs of problem ``k`` exist only while
    the caller holds :meth:`problem`'s result, so one-vs-rest over many
    classes needs no ``(n_classes, n_samples)`` temporaries.

    Parameters
    ----------
    X : CSR
    y_ind : ndarray of shape (n_samples,)
        Class indices.
    classes : ndarray of shape (n_classes,)
    C : float
    class_weight : dict, "balanced" or None
    sample_weight : ndarray of shape (n_samples,)
        Validated weights (ones when none were given).
    loss : {"hinge", "squared_hinge"}
    bias : float
    penalty : {"l2", "l1"}, default="l2"
    class_counts : ndarray of shape (n_classes,), default=None
        Weighted samples per class, when X holds only part of the data (a
        block of a distributed fit): ``"balanced"`` weights come from the
        counts over the whole data.  Default: counted in ``y_ind``.
    counts : ndarray of shape (n_samples,), default=None
        The samples each row stands for (merged rows:
        :attr:`LinearProblem.counts`).
    """

    def __init__(self, X, y_ind, classes, C, class_weight, sample_weight, loss,
                 bias, penalty="l2", class_counts=None, counts=None):
        self.X = X
        self.y_ind = y_ind
        self.classes = classes
        self.C = float(C)
        self.sample_weight = sample_weight
        self.loss = loss
        self.bias = float(bias)
        self.penalty = penalty
        self.counts = counts
        n_classes = classes.shape[0]
        if class_counts is None:
            class_counts = np.bincount(y_ind, weights=sample_weight, minlength=n_classes)
        self.class_weight = check_class_weight(class_weight, classes, class_counts)
        self.n_problems = 1 if n_classes == 2 else n_classes

    def positive(self, k):
        """The class index that problem ``k`` labels +1."""
        return 1 if self.n_problems == 1 else k

    def labels(self, k):
        return np.where(self.y_ind == self.positive(k), 1.0, -1.0)

    def costs(self, k, y_pm=None):
        """``C_i`` of problem ``k`` (see the module docstring)."""
        if self.n_problems == 1:
            cost = self.class_weight[self.y_ind]
        else:
            y_pm = self.labels(k) if y_pm is None else y_pm
            cost = np.where(y_pm > 0, self.class_weight[k], 1.0)
        cost = cost * self.C
        cost *= self.sample_weight
        return cost

    def problem(self, k):
        """The binary problem ``k`` (labels and costs built now)."""
        y_pm = self.labels(k)
        return LinearProblem(self.X, y_pm, self.costs(k, y_pm), self.loss,
                             self.bias, penalty=self.penalty, counts=self.counts)

    def __iter__(self):
        return (self.problem(k) for k in range(self.n_problems))


def regression_problem(X, y, C, sample_weight, loss, epsilon, bias):
    """The problem of a linear SVR: ``C_i = C * sample_weight_i``."""
    return LinearProblem(X, np.asarray(y, dtype=np.float64),
                         float(C) * sample_weight, loss, float(bias),
                         epsilon=float(epsilon))


@dataclass(frozen=True, eq=False)
class CrammerSingerProblem:
    """The multiclass SVM of Crammer and Singer (liblinear ``-s 4``)::

        min_W  1/2 sum_m ||w_m||^2 + sum_i C_i max(0, max_{m != y_i} (1 + w_m.x~_i - w_{y_i}.x~_i))

    with ``C_i = C * class_weight[y_i] * sample_weight_i``; ``W`` has one row
    per class (``n_features + 1`` entries, the bias weight last).

    Its dual, in liblinear's form: ``min 1/2 sum_m ||w_m(a)||^2 + sum_{i,m}
    e_i^m a_i^m`` subject to ``a_i^m <= C_i [m = y_i]`` and ``sum_m a_i^m =
    0``, with ``w_m(a) = sum_i a_i^m x~_i`` and ``e_i^m = [m != y_i]``.
    """

    X: CSR
    y_ind: np.ndarray
    n_classes: int
    cost: np.ndarray
    bias: float

    def primal(self, W):
        Z = _scores(self.X, W, self.bias)
        n = Z.shape[0]
        rows = np.arange(n)
        true = Z[rows, self.y_ind]
        margin = Z + 1.0
        margin[rows, self.y_ind] = -np.inf
        xi = np.maximum(0.0, margin.max(axis=1) - true) if self.n_classes > 1 else np.zeros(n)
        return 0.5 * float(np.sum(W * W)) + float(self.cost @ xi)

    def w_from_alpha(self, alpha):
        """``W`` of dual variables ``alpha`` of shape (n_samples, n_classes)."""
        W = np.empty((self.n_classes, self.X.n_cols + 1))
        W[:, :-1] = (self.X.to_scipy().T @ alpha).T
        W[:, -1] = self.bias * alpha.sum(axis=0)
        return W

    def dual(self, alpha):
        W = self.w_from_alpha(alpha)
        e = np.ones_like(alpha)
        e[np.arange(alpha.shape[0]), self.y_ind] = 0.0
        return 0.5 * float(np.sum(W * W)) + float(np.sum(e * alpha))


def crammer_singer_problem(X, y_ind, classes, C, class_weight, sample_weight, bias):
    """Build a :class:`CrammerSingerProblem` with liblinear's costs."""
    counts = np.bincount(y_ind, weights=sample_weight, minlength=classes.shape[0])
    weights = check_class_weight(class_weight, classes, counts)
    cost = float(C) * weights[y_ind] * sample_weight
    return CrammerSingerProblem(X, y_ind, classes.shape[0], cost, float(bias))
