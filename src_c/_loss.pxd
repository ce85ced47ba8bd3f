# cython: language_level=3
"""The losses of the linear models, each defined once.

A loss ``xi(z)`` of the score ``z = w . x~`` of a sample with label or target
``y``.  For every loss the kernels need the same four things, given here as
inline functions chosen at compile time (the kernels are fused over the loss
structs below, so a pass holds no branch on the loss; liblinear's
``l2r_erm_fun`` plays this part in ``newton.cpp``)::

    loss            xi(z)                   xi'(z)                  xi''(z) (generalised)
    squared hinge   max(0, 1 - y z)^2       2 (z - y) if y z < 1    2 if y z < 1
    squared eps.    max(0, |z - y| - p)^2   2 (z - y -+ p) outside  2 outside [y - p, y + p]
    logistic        log(1 + exp(-y z))      -y sigma(-y z)          sigma(y z) sigma(-y z)

(``y = +-1`` for the classification losses).  The hinge and
epsilon-insensitive losses are not differentiable; the solvers that handle
them (dual coordinate descent) read only their dual box, :func:`dual_box`.

Design rules:

1. ``weighted_value(L, c, y, z)`` is ``c xi(z)``, evaluated as the kernels
   always did (``(c r) r`` for the squared losses), so that moving a kernel
   onto this layer changes no bit of its results.
2. ``curved(L, y, z)`` tells whether ``xi''(z) > 0``: the generalised
   Hessian of the squared losses only sums over such samples (the set ``I``
   of the Newton solver).  The logistic loss is curved everywhere.
3. The logistic functions never overflow: ``log(1 + exp(-t))`` is
   ``log1p(exp(-t))`` for ``t >= 0`` and ``-t + log1p(exp(t))`` below;
   ``sigma(t) = 1 / (1 + exp(-t))`` takes ``exp`` of a non-positive number.
4. The Python mirror of :data:`LossKind` is ``fastlinear._losses.Loss``
   (a test checks that they agree).
"""
from libc.math cimport INFINITY, exp, fabs, log1p

from _vmath cimport exp_log1p


cdef enum LossKind:
    HINGE = 1                        # liblinear -s 3 (dual)
    SQUARED_HINGE = 2                # -s 1 (dual), -s 2 (primal), -s 5 (L1)
    EPSILON_INSENSITIVE = 3          # -s 13 (dual)
    SQUARED_EPSILON_INSENSITIVE = 4  # -s 12 (dual), -s 11 (primal)
    LOGISTIC = 5                     # -s 0 (primal), -s 7 (dual)


cdef enum:
    LOSS_BLOCK = 64                  # samples per call of :func:`logistic_block`


# The differentiable losses, as types for the kernels' fused specialisations.
ctypedef struct SquaredHinge:
    char unused

ctypedef struct SquaredEpsilonInsensitive:
    double epsilon                   # the insensitive zone p

ctypedef struct Logistic:
    char unused

ctypedef fused smooth_loss:
    SquaredHinge
    SquaredEpsilonInsensitive
    Logistic


cdef inline double sigmoid(double t) noexcept nogil:
    """``1 / (1 + exp(-t))`` without overflow (rule 3)."""
    cdef double e
    if t >= 0.0:
        return 1.0 / (1.0 + exp(-t))
    e = exp(t)
    return e / (1.0 + e)


cdef inline double log1pexp_neg(double t) noexcept nogil:
    """``log(1 + exp(-t))`` without overflow (rule 3)."""
    if t >= 0.0:
        return log1p(exp(-t))
    return -t + log1p(exp(t))


cdef inline double _excess(const SquaredEpsilonInsensitive* L, double y,
                           double z) noexcept nogil:
    """``z - y`` moved towards 0 by ``p``; 0 inside the insensitive zone."""
    cdef double r = z - y
    if r < -L.epsilon:
        return r + L.epsilon
    if r > L.epsilon:
        return r - L.epsilon
    return 0.0


cdef inline bint curved(const smooth_loss* L, double y, double z) noexcept nogil:
    """Whether ``xi''(z) > 0`` (rule 2)."""
    if smooth_loss is SquaredHinge:
        return y * z < 1.0
    elif smooth_loss is SquaredEpsilonInsensitive:
        return z - y < -L.epsilon or z - y > L.epsilon
    else:
        return True


cdef inline double weighted_value(const smooth_loss* L, double c, double y,
                                  double z) noexcept nogil:
    """``c xi(z)`` (rule 1)."""
    cdef double r
    if smooth_loss is SquaredHinge:
        r = 1.0 - y * z
        return c * r * r if r > 0.0 else 0.0
    elif smooth_loss is SquaredEpsilonInsensitive:
        r = fabs(z - y) - L.epsilon
        return c * r * r if r > 0.0 else 0.0
    else:
        return c * log1pexp_neg(y * z)


cdef inline double derivative(const smooth_loss* L, double y, double z) noexcept nogil:
    """``xi'(z)`` (0 where the loss is flat)."""
    if smooth_loss is SquaredHinge:
        return 2.0 * (z - y) if y * z < 1.0 else 0.0
    elif smooth_loss is SquaredEpsilonInsensitive:
        return 2.0 * _excess(L, y, z)
    else:
        return -y * sigmoid(-y * z)


cdef inline double curvature(const smooth_loss* L, double y, double z) noexcept nogil:
    """``xi''(z)``, the generalised second derivative."""
    cdef double s
    if smooth_loss is Logistic:
        s = sigmoid(y * z)
        return s * (1.0 - s)
    else:
        return 2.0 if curved(L, y, z) else 0.0


cdef inline double logistic_value_exp(double c, double y, double z,
                                      double* e) noexcept nogil:
    """``c xi(z)`` of the logistic loss, the same bits as
    ``weighted_value``, and the ``e = exp(-|y z|)`` it takes, for
    :func:`logistic_terms` at the same ``z``."""
    cdef double t = y * z
    e[0] = exp(-fabs(t))
    if t >= 0.0:
        return c * log1p(e[0])
    return c * (-t + log1p(e[0]))


cdef inline double logistic_value_log1p(double c, double y, double z,
                                        double l) noexcept nogil:
    """``c xi(z)`` of the logistic loss from ``l = log1p(exp(-|y z|))``
    (taken elsewhere, e.g. a block at a time by ``_vmath.exp_log1p``): the
    formula of :func:`logistic_value_exp`."""
    cdef double t = y * z
    if t >= 0.0:
        return c * l
    return c * (-t + l)


cdef inline void logistic_block(const double* y, const double* z, const double* dz,
                                double step, Py_ssize_t n, double* zs, double* e,
                                double* l) noexcept nogil:
    """For ``n <= LOSS_BLOCK`` samples: the scores ``zs = z + step dz``
    (``z`` when ``dz`` is NULL; ``zs`` may be ``z`` itself), ``e =
    exp(-|y zs|)`` and ``l = log1p(e)``, the block's ``exp`` and ``log1p`` in
    one ``_vmath.exp_log1p`` call; for :func:`logistic_value_log1p` and
    :func:`logistic_terms`."""
    cdef Py_ssize_t b
    cdef double args[LOSS_BLOCK]
    for b in range(n):
        zs[b] = z[b] + step * dz[b] if dz != NULL else z[b]
        args[b] = -fabs(y[b] * zs[b])
    exp_log1p(args, e, l, n)


cdef inline void logistic_terms(double c, double y, double z, double e,
                                double* g, double* h) noexcept nogil:
    """``g = c xi'(z)`` and ``h = c xi''(z)`` of the logistic loss from
    ``e = exp(-|y z|)``: the same bits as ``c * derivative(...)`` and ``c *
    curvature(...)``, which each take an ``exp`` (``sigmoid(t)`` and
    ``sigmoid(-t)`` both use ``exp(-|t|)``)."""
    cdef double t = y * z
    cdef double s_pos, s_neg
    if t >= 0.0:
        s_pos = 1.0 / (1.0 + e)
        s_neg = e / (1.0 + e)
    else:
        s_pos = e / (1.0 + e)
        s_neg = 1.0 / (1.0 + e)
    g[0] = c * (-y * s_neg)
    h[0] = c * (s_pos * (1.0 - s_pos))


cdef inline void dual_box(int kind, double c, double* upper, double* diag) noexcept nogil:
    """The dual box bound ``U_i`` and diagonal ``D_ii`` of a sample of cost
    ``c > 0`` in liblinear's dual of the four hinge-type losses: ``[0, c]``
    and 0 for the L1 losses, ``[0, inf)`` and ``1 / (2 c)`` for the squared
    ones.  (The logistic dual, ``[0, c]`` with an entropy term instead of a
    diagonal, has a kernel of its own: ``_logistic_dual_fast``.)"""
    if kind == HINGE or kind == EPSILON_INSENSITIVE:
        upper[0] = c
        diag[0] = 0.0
    else:
        upper[0] = INFINITY
        diag[0] = 0.5 / c
