# cython: language_level=3
"""What the column-wise (L1) solvers check before they write anything.

The coordinate descent kernels of the L1-penalised problems (``_l1_cd_fast``,
liblinear's ``-s 5``; ``_glmnet_fast``, ``-s 6``) read X transposed, as the
proved CSR matrix of ``X.T`` (its rows are the columns of X), with labels
``y_i`` in {-1, +1}, costs ``C_i >= 0`` and a start point ``w`` of
``n_features + 1`` entries (the bias weight last).  The structure and values
of ``X.T`` were proved once (``fastlinear._csr_fast``); these helpers check
the rest, in the same words for every kernel, naming the kernel.
"""
from libc.math cimport isfinite


cdef inline object check_columns(XT, Py_ssize_t n_y, Py_ssize_t n_cost,
                                 Py_ssize_t n_w, double bias, double tol,
                                 int max_iter, str who):
    """Shapes, ``tol``, ``max_iter``, ``bias`` and the column norms; raises
    ``TypeError``/``ValueError`` naming ``who``."""
    from fastlinear._csr_fast import require_proved

    require_proved(XT, who)
    cdef Py_ssize_t n_samples = XT.n_cols, n_features = XT.n_rows
    if n_y != n_samples or n_cost != n_samples:
        raise ValueError("%s: y and cost must have n_samples = %d elements "
                         "(the columns of XT)." % (who, n_samples))
    if n_w != n_features + 1:
        raise ValueError("%s: w must have n_features + 1 = %d elements "
                         "(the rows of XT, plus the bias weight)."
                         % (who, n_features + 1))
    if not (tol > 0) or max_iter < 1:
        raise ValueError("%s: tol must be > 0 and max_iter >= 1; got "
                         "tol=%r, max_iter=%d." % (who, tol, max_iter))
    if not isfinite(bias):
        raise ValueError("%s: bias must be finite, got %r." % (who, bias))
    if not isfinite(XT.max_row_sq) or not isfinite(n_samples * bias * bias):
        raise ValueError("%s: the squared column norms overflow float64; "
                         "rescale X." % who)


cdef inline Py_ssize_t check_labels_costs(const double* y, const double* cost,
                                          Py_ssize_t n_samples,
                                          double* n_used) noexcept nogil:
    """-1 when every ``y_i`` is -1 or +1 and every ``C_i`` finite and >= 0
    (``n_used`` then counts the samples with ``C_i > 0``), else the first
    bad sample."""
    cdef Py_ssize_t i
    cdef double c, yi, used = 0.0
    for i in range(n_samples):
        c = cost[i]
        yi = y[i]
        if not (c >= 0.0) or not isfinite(c) or (yi != 1.0 and yi != -1.0):
            return i
        if c > 0.0:
            used += 1.0
    n_used[0] = used
    return -1


cdef inline str bad_label_message(str who, Py_ssize_t row):
    return ("%s: sample %d has a label other than -1 or +1, or a cost C_i "
            "that is negative or not finite." % (who, row))
