"""What the linear estimators share beyond scikit-learn's mixins.

:func:`bias_of` says which constant feature a fitted or configured estimator
appends to X, and :func:`set_fitted_weights` ends every fit the same way
(interrupted, non-finite weights, ``coef_``/``intercept_``).
"""
import numpy as np
import scipy.sparse as sp
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._solvers import Status
from ._validation import check_X_predict, warn_if_not_finite

__all__ = ["CheckedLinearClassifierMixin", "bias_of", "check_warm_start", "set_fitted_weights"]


def check_warm_start(estimator, *arrays):
    """Refuse a warm start from non-finite weights (``coef_``, ``intercept_``,
    ``dual_coef_`` of the previous fit, or as the user set them), naming
    them, before a solver reports it in its own terms; returns the arrays."""
    for a in arrays:
        if a is not None and not np.all(np.isfinite(a.data if sp.issparse(a) else a)):
            raise ValueError(
                f"{type(estimator).__name__}.fit: warm_start=True, but the previous fit's "
                "coef_ / intercept_ (the start point) has NaN or infinite entries. Fit with "
                "warm_start=False, or set finite coef_ and intercept_ first.")
    return arrays


def bias_of(estimator):
    """The value of the constant feature the solver appends to each row.

    0 without an intercept.  liblinear's problems (the SVMs, and logistic
    regression with ``solver="liblinear"``) append ``intercept_scaling`` and
    penalise its weight; the other logistic solvers append 1 and leave it
    unpenalised, as scikit-learn does (they ignore ``intercept_scaling``).
    Reads fastlinear's and scikit-learn's estimators alike, so the weights
    of either can be put back in a problem: ``intercept_ / bias_of(est)``.
    """
    if not estimator.fit_intercept:
        return 0.0
    if hasattr(estimator, "solver") and estimator.solver != "liblinear":
        return 1.0  # LogisticRegression(CV) outside liblinear
    return float(estimator.intercept_scaling)


def set_fitted_weights(estimator, solutions, W, X, *, rows_are_problems=True):
    """End a fit: refuse an interrupted or overflowed one, else set the weights.

    Parameters
    ----------
    estimator : fastlinear estimator
        Gets ``coef_``, ``intercept_``, ``n_features_in_`` and ``solver_``
        (``n_iter_`` and the rest are the caller's: their shapes differ).
    solutions : list of Solution
        What the solver(s) returned; any ``Status.INTERRUPTED`` raises
        ``KeyboardInterrupt`` and leaves the estimator unfitted.
    W : ndarray
        The weights with the constant feature's weight last: shape
        (n_problems, n_features + 1) when ``rows_are_problems``, else
        (n_features + 1, n_vectors) (the multinomial layout) or
        (n_features + 1,) (one regression problem: ``coef_`` 1-d).
    X : fastlinear CSR proof
        The validated training data, for its dtype (kept: float32 stays
        float32) and its number of columns.
    """
    name = type(estimator).__name__
    if any(sol.status == Status.INTERRUPTED for sol in solutions):
        raise KeyboardInterrupt(f"{name}.fit was interrupted; the estimator is not fitted.")
    if not np.all(np.isfinite(W)):
        raise ValueError(
            "The solver produced non-finite weights; the data are probably "
            "badly scaled. Scale the features (e.g. StandardScaler or "
            "MaxAbsScaler) and try again."
        )
    dtype = X.dtype
    bias = bias_of(estimator)
    if W.ndim == 1:
        coef, intercept = W[:-1], np.array([bias * W[-1]])
    elif rows_are_problems:
        coef, intercept = W[:, :-1], bias * W[:, -1]
    else:
        coef, intercept = W[:-1].T, bias * W[-1]
    # W is finite (above), so float64 weights fit; the intercept scaled by
    # the bias, or float32 weights, may not.
    largest = float(np.max(np.abs(intercept), initial=0.0))
    if dtype != np.float64:
        largest = max(largest, float(np.max(np.abs(coef), initial=0.0)))
    if largest > np.finfo(dtype).max:
        raise ValueError(
            f"The fitted weights reach {largest:.3g}, beyond the range of {np.dtype(dtype).name} "
            f"(X's dtype, which coef_ keeps; at most {np.finfo(dtype).max:.3g}). Pass X as "
            "float64, or rescale the targets or the features.")
    estimator.coef_ = np.array(coef, dtype=dtype, order="C")
    estimator.intercept_ = np.array(intercept, dtype=dtype)
    estimator.n_features_in_ = X.n_cols
    estimator.solver_ = solutions[0].solver


def predicted_labels(classes, scores):
    """scikit-learn's ``LinearClassifierMixin.predict`` from the decision
    values: ``classes[1]`` where a single score (shape ``(n,)`` or
    ``(n, 1)``) is positive, else the class of the largest score."""
    if scores.ndim == 1 or scores.shape[1] == 1:
        return classes[(np.ravel(scores) > 0).astype(np.intp)]
    return classes[np.argmax(scores, axis=1)]


class CheckedLinearClassifierMixin(LinearClassifierMixin):
    """``LinearClassifierMixin`` whose predictions prove sparse input first.

    ``predict``, ``score`` and ``predict_proba`` all go through
    :meth:`decision_function`, which checks the structure of a sparse X
    (any format) before scipy's product reads it.
    """

    def decision_function(self, X):
        """Signed distance of each sample to the hyperplane(s).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse matrices have their structure checked first.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class (one score for two classes).  Rows whose
            scores overflow float64 (values near 1e308) come out as ``inf``
            or NaN, with a ``RuntimeWarning``.
        """
        check_is_fitted(self)
        X = check_X_predict(self, X, caller=f"{type(self).__name__}.decision_function")
        return self._decision_values(X)

    def _decision_values(self, X):
        """:meth:`decision_function` of an X already checked (a scipy CSR
        matrix or an ndarray of a float dtype with ``n_features_in_``
        columns): the cross-validation's folds score their test parts, parts
        of the validated data, without checking them again."""
        coef = self.coef_
        if sp.issparse(coef) and coef.dtype != X.dtype:
            coef = coef.astype(X.dtype)  # scipy multiplies sparse matrices of one dtype only
        scores = safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_
        warn_if_not_finite(scores, caller=f"{type(self).__name__}.decision_function (used by "
                           "predict and the probabilities)")
        return scores.ravel() if scores.shape[1] == 1 else scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
