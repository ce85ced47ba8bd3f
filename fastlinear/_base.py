"""What the linear classifiers share beyond scikit-learn's mixins."""
import scipy.sparse as sp
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._validation import check_X_predict, warn_if_not_finite

__all__ = ["CheckedLinearClassifierMixin"]


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
