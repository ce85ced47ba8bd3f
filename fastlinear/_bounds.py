"""The smallest C at which an L1-penalised linear classifier leaves zero.

Below that C every weight of the model is exactly 0 (the intercept aside,
when it is not penalised), so a regularisation path need not start lower.
"""
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._validation import check_class_weight, validate_classification_data


class _Input(BaseEstimator):
    """Carries ``n_features_in_`` for the shared input checks."""


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "loss": [StrOptions({"squared_hinge", "log"})],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "intercept": [StrOptions({"penalized", "free"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "sample_weight": ["array-like", None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    },
    prefer_skip_nested_validation=True,
)
def l1_min_c(X, y, *, loss="squared_hinge", fit_intercept=True, intercept_scaling=1.0,
             intercept="penalized", l1_ratio=1.0, sample_weight=None, class_weight=None):
    """The smallest C for which an L1-penalised classifier has a nonzero weight.

    For every ``C <= l1_min_c(...)`` the weights (``coef_``) of the model
    are all exactly 0; above it, at least one weight is not, counting the
    penalised intercept's with ``intercept="penalized"`` (with a large
    ``intercept_scaling`` and unbalanced classes the first weight to leave 0
    can be the intercept's, ``coef_`` staying 0 a little longer).  With the
    defaults this is ``sklearn.svm.l1_min_c``, whose value is the exact bound
    of liblinear's problems (``LinearSVC(penalty="l1")``,
    ``LogisticRegression(l1_ratio=1, solver="liblinear")``), where the
    intercept is the weight of a constant feature ``intercept_scaling``,
    penalised like the others.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training vectors.
    y : array-like of shape (n_samples,)
        Class labels.
    loss : {"squared_hinge", "log"}, default="squared_hinge"
        The loss: LinearSVC's squared hinge or the logistic loss.
    fit_intercept : bool, default=True
        Whether the model fits an intercept; it must match the estimator's.
    intercept_scaling : float, default=1.0
        With ``intercept="penalized"``: the constant feature's value.
    intercept : {"penalized", "free"}, default="penalized"
        ``"penalized"``: liblinear's problems, one-vs-rest (scikit-learn's
        bound).  ``"free"``: the unpenalised intercept of
        :class:`fastlinear.LogisticRegression` with any solver other than
        ``"liblinear"`` (``loss="log"`` only); with three or more classes,
        the multinomial model.  At its bound the intercepts are the log
        odds (log priors) of the classes.
    l1_ratio : float in (0, 1], default=1.0
        The L1 share of an elastic-net penalty (``intercept="free"`` only):
        the bound scales with it.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights, multiplying C (scikit-learn's bound has none).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as the estimator's (multiplying C).

    Returns
    -------
    float
        The smallest C with a nonzero weight.

    Raises
    ------
    ValueError
        When no C gives a nonzero weight (e.g. every feature is 0), when
        ``y`` has one class, or for a combination the bound is not defined
        for.

    Notes
    -----
    At ``w = 0`` the gradient of ``C * sum_i c_i loss_i`` with respect to
    ``w_j`` is ``C * g_j``, and ``w = 0`` is optimal exactly when
    ``C * |g_j| <= l1_ratio`` for every ``j``: the bound is ``l1_ratio /
    max_j |g_j|``.  With a penalised intercept the constant feature is one
    of the ``j`` and the loss' derivative at 0 is ``-y_i`` (squared hinge:
    ``-2 y_i``, logistic: ``-y_i / 2``), which gives scikit-learn's
    formula; with a free intercept the intercepts first move to their
    optimum at ``w = 0`` (the weighted class frequencies), and ``g`` is
    ``X^T (p - Y)`` there.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from fastlinear import LogisticRegression, l1_min_c
    >>> X, y = make_classification(n_samples=100, n_features=20, random_state=42)
    >>> c = l1_min_c(X, y, loss="log", intercept="free")
    >>> bool((LogisticRegression(C=0.99 * c, l1_ratio=1).fit(X, y).coef_ == 0).all())
    True
    >>> bool((LogisticRegression(C=1.01 * c, l1_ratio=1).fit(X, y).coef_ != 0).any())
    True
    """
    data = validate_classification_data(_Input(), X, y, sample_weight, caller="l1_min_c")
    n_classes = data.classes.shape[0]
    if n_classes < 2:
        raise ValueError(
            f"l1_min_c needs samples of at least 2 classes; y has one: "
            f"{data.classes[0]!r}."
        )
    if intercept == "free" and loss != "log":
        raise ValueError(
            f"intercept='free' is defined for loss='log' (LogisticRegression) only, "
            f"got loss={loss!r}; liblinear's squared hinge always penalises its "
            "intercept: use intercept='penalized'."
        )
    if intercept == "penalized" and l1_ratio != 1.0:
        raise ValueError(
            f"l1_ratio={l1_ratio} needs intercept='free': liblinear's problems "
            "have a pure L1 penalty (l1_ratio=1)."
        )
    counts = np.bincount(data.y_ind, weights=data.sample_weight, minlength=n_classes)
    cost = data.sample_weight * check_class_weight(class_weight, data.classes,
                                                   counts)[data.y_ind]
    # The loss' weighted derivative at w = 0, one column per class (one for two).
    columns = [n_classes - 1] if n_classes == 2 else range(n_classes)
    member = np.stack([data.y_ind == k for k in columns], axis=1).astype(np.float64)
    if intercept == "penalized":
        # One vs rest, y_i = +-1 (the loss' factor is in ``scale``).
        residual = cost[:, None] * (1.0 - 2.0 * member)
        scale = 0.5 if loss == "squared_hinge" else 2.0
    else:
        # With the intercepts at their optimum at W = 0: the class frequencies.
        total = cost.sum()
        if not total > 0:
            raise ValueError("l1_min_c: every sample has weight 0; nothing to fit.")
        if fit_intercept:
            p = (cost @ member) / total
        else:
            p = np.full(member.shape[1], 0.5 if n_classes == 2 else 1.0 / n_classes)
        residual = cost[:, None] * (p - member)
        scale = l1_ratio
    den = float(np.max(np.abs(data.X.to_scipy().T @ residual), initial=0.0))
    if intercept == "penalized" and fit_intercept:
        den = max(den, float(np.max(np.abs(residual.sum(axis=0)))) * intercept_scaling)
    if not den > 0:
        raise ValueError(
            "Ill-posed l1_min_c calculation: l1 will always select zero coefficients "
            "for this data (every feature is orthogonal to the labels)."
        )
    return scale / den
