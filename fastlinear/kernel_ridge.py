r"""Kernel ridge regression in closed form.

``fastlinear.KernelRidge`` fits the same model as
``sklearn.kernel_ridge.KernelRidge``, with the same parameters and fitted
attributes, and adds what that estimator leaves to chance: a memory guard
before the n x n kernel matrix is allocated, one Cholesky factorisation per
distinct penalty, a clear error for a non-square precomputed kernel, and a
least-squares fallback (with a warning) for every penalty layout.

The closed form (the assignment's question 3)
---------------------------------------------
Regularised least squares on samples ``x_1 .. x_n`` with targets ``y_i``::

    J(w) = 1/2 sum_i (y_i - w.x_i)^2 + lambda/2 ||w||^2.

``J`` is convex; at its minimum the gradient vanishes::

    -sum_i (y_i - w.x_i) x_i + lambda w = 0
    =>  w = sum_i beta_i x_i,   beta_i = (y_i - w.x_i) / lambda.

So ``w`` lies in the span of the samples (the representer theorem).  Put
``w = sum_j beta_j x_j`` back into the definition of ``beta_i`` and write
``K_ij = x_i.x_j``::

    lambda beta_i = y_i - sum_j beta_j x_j.x_i = y_i - (K beta)_i
    =>  (K + lambda I) beta = y
    =>  beta = (K + lambda I)^{-1} y.

Predictions are ``f(x) = w.x = sum_i beta_i x_i.x``.  Only inner products
appear, so replacing ``x_i.x_j`` by a kernel ``k(x_i, x_j) = phi(x_i).phi(x_j)``
fits ridge regression in the feature space of ``phi`` without forming it:
``f(x) = sum_i beta_i k(x, x_i)``.

*Sample weights.*  With ``J(w) = 1/2 sum_i s_i (y_i - w.x_i)^2 + lambda/2
||w||^2`` the same steps give ``lambda beta = S^2 (y - K beta)`` with
``S = diag(sqrt(s))``.  Writing ``beta = S z``::

    (S K S + lambda I) z = S y,    beta = S z,

a symmetric system again (scikit-learn's formulation; a zero weight gives
``beta_i = 0``).  *Several targets* are independent columns of ``y``; with one
``lambda`` per target, targets sharing a ``lambda`` share a factorisation.

*Solving.*  For a positive semi-definite kernel and ``lambda > 0`` every
eigenvalue of ``K + lambda I`` is at least ``lambda``, so it has a Cholesky
factorisation ``L L^T`` (``n^3/3`` flops, backward stable); ``beta`` then
comes from two triangular solves (``n^2`` flops per target).  The inverse is
never formed: it costs three times as much and is less accurate.

Design rules of this module:

1. Validate once, at the edge: parameters by ``_parameter_constraints``,
   arrays by ``validate_data`` and ``fastlinear._validation`` (CSR structure,
   sample weights); a non-square precomputed kernel and per-target penalties
   of the wrong length are refused with the shape that was expected.
2. Memory is checked before it is spent: the n x n kernel in the dtype it
   will have plus the factorisation's working copy, against the memory the
   machine (or its cgroup) has available.  Too large gives
   :class:`KernelMatrixMemoryError` with the bytes needed, the bytes
   available and the Nystroem route.  ``predict`` computes the test kernel
   in row blocks of ``sklearn.get_config()["working_memory"]``.
3. Factorise a working copy, never the kernel itself: the kernel is reused
   for every penalty, and a precomputed kernel belongs to the caller.
4. When ``K + lambda I`` is not positive definite (``lambda = 0`` with a
   singular kernel, or an indefinite kernel such as ``"sigmoid"``), fall back
   to a least-squares solve with a ``scipy.linalg.LinAlgWarning``; when it is
   positive definite but ill-conditioned (reciprocal condition number below
   machine epsilon), keep the Cholesky solution and warn, as
   ``scipy.linalg.solve`` does.
5. dtypes follow scikit-learn: the kernel has the dtype of ``X`` (float32
   stays float32), and the solve runs in the common type of the kernel and
   ``y``, so float32 ``X`` with float32 ``y`` gives a float32 ``dual_coef_``
   and float32 ``X`` with float64 ``y`` a float64 one.
"""
import contextlib
import time
import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import LinAlgWarning
from scipy.linalg.lapack import get_lapack_funcs
from sklearn import get_config
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._memory import available_memory_bytes as _available_memory_bytes
from ._validation import (
    check_sample_weight,
    check_sparse_structure,
    proved_csr,
    warn_if_not_finite,
)

__all__ = ["KernelRidge", "KernelMatrixMemoryError"]


class KernelMatrixMemoryError(MemoryError, ValueError):
    """The n x n kernel matrix would not fit in the available memory.

    Raised by :meth:`fastlinear.KernelRidge.fit` before anything large is allocated.
    It is both a ``MemoryError`` and a ``ValueError``, so either ``except``
    catches it.
    """


def _check_kernel_memory(n_samples, bytes_needed, kernel):
    """Refuse, before allocating, a fit whose matrices cannot fit in memory."""
    available = _available_memory_bytes()
    if available is None or bytes_needed <= available:
        return
    bytes_per_entry = bytes_needed / float(n_samples) ** 2
    n_max = int(np.sqrt(available / bytes_per_entry))
    # Nystroem takes the kernel names of pairwise_kernels, not "precomputed".
    kernel_name = kernel if kernel in PAIRWISE_KERNEL_FUNCTIONS else "rbf"
    raise KernelMatrixMemoryError(
        f"KernelRidge.fit needs the {n_samples:,} x {n_samples:,} kernel "
        "matrix and a working copy of it for the Cholesky factorisation: "
        f"{bytes_needed:,} bytes ({bytes_needed / 2**30:.1f} GiB), but only "
        f"{available:,} bytes ({available / 2**30:.1f} GiB) of memory are "
        "available. Exact kernel ridge regression needs memory quadratic in "
        f"n_samples; it fits here up to about {n_max:,} samples. For more, "
        "approximate the kernel and train a linear model on the features: "
        "make_pipeline(Nystroem(kernel="
        f"{kernel_name!r}, gamma=..., n_components=1000), Ridge(alpha=...)) "
        "for regression (sklearn.kernel_approximation.Nystroem, "
        "sklearn.linear_model.Ridge), or make_pipeline(Nystroem(...), "
        "fastlinear.LinearSVC()) for classification; or fit on a subsample."
    )


def _warn_if_not_symmetric(K):
    """Warn when a precomputed kernel is not symmetric (checked in row blocks).

    The Cholesky factorisation reads one triangle only, so a non-symmetric
    matrix would silently be taken for a different one.
    """
    n = K.shape[0]
    rtol = 1e-5 if K.dtype == np.float32 else 1e-7
    scale = max(float(np.max(np.abs(np.diagonal(K)))) if n else 0.0, 1.0)
    step = max(1, 2**20 // max(n, 1))
    for start in range(0, n, step):
        block = K[start:start + step]
        mirror = K[:, start:start + step].T
        if not np.allclose(block, mirror, rtol=rtol, atol=rtol * scale):
            warnings.warn(
                "The precomputed kernel matrix is not symmetric; the "
                "Cholesky solve reads only its upper triangle. Pass a "
                "symmetric matrix, e.g. (K + K.T) / 2.",
                UserWarning,
                stacklevel=4,
            )
            return


#: Factorisations of matrices larger than this run block by block
#: (:func:`_cholesky_upper`), so that Ctrl-C is honoured between blocks.
BLOCKED_CHOLESKY_MIN = 4096
#: The block size: one block's update of the trailing matrix is a product of
#: at most n x 1024 by 1024 x 1024 (about half a second at n = 10,000 on two
#: cores), and the blocked factorisation is as fast as LAPACK's own there.
CHOLESKY_BLOCK = 1024


def _cholesky_upper(A, block=None, progress=None):
    """Factorise the symmetric positive definite ``A = U^T U`` in place (upper).

    A right-looking blocked Cholesky made of NumPy/SciPy calls on blocks of
    at most ``block`` rows: each call is bounded, so a pending Ctrl-C is
    raised between two of them (a single LAPACK ``potrf`` on n = 20,000 runs
    for tens of seconds without looking).  Only the upper triangle of ``A``
    is read and written, as LAPACK's ``uplo="U"``.  Raises
    ``scipy.linalg.LinAlgError`` when a diagonal block is not positive
    definite.  ``progress(e)``, if given, is called after the block column
    ending at row ``e`` is done.
    """
    n = A.shape[0]
    block = CHOLESKY_BLOCK if block is None else block
    for k in range(0, n, block):
        e = min(k + block, n)
        U = linalg.cholesky(A[k:e, k:e], lower=False, check_finite=False)
        A[k:e, k:e] = U
        if e == n:
            if progress is not None:
                progress(e)
            break
        # The panel right of the diagonal block: U^T P = A[k:e, e:], one block
        # of columns per call (one call for the whole panel ran for seconds).
        for j in range(e, n, block):
            f = min(j + block, n)
            A[k:e, j:f] = linalg.solve_triangular(U, A[k:e, j:f], trans="T", lower=False,
                                                  check_finite=False)
        P = A[k:e, e:]
        # The trailing matrix's upper triangle, one block column at a time.
        for j in range(e, n, block):
            f = min(j + block, n)
            A[e:f, j:f] -= P[:, : f - e].T @ P[:, j - e : f - e]
        if progress is not None:
            progress(e)


def _copy_by_columns(dst, src, block=CHOLESKY_BLOCK):
    """``dst[...] = src``, one block of columns per call (Ctrl-C between).

    Copying a C-ordered ``n x n`` matrix into a Fortran-ordered one is a
    transposition: about 2 s for n = 10,000 in one uninterruptible call.
    """
    for j in range(0, src.shape[1], block):
        dst[:, j : j + block] = src[:, j : j + block]


#: The factorisation's speed as a share of a matrix product's: about 0.6 on
#: a 2-core virtual AMD EPYC Zen 5 (8-9 GFLOP/s for n = 4,000 and 6,000
#: against 14 GFLOP/s for the 768 x 768 product of ``_measured_flop_rate``).
CHOLESKY_EFFICIENCY = 0.6


def _measured_flop_rate(dtype, size=768):
    """Floating-point operations per second of a matrix product in ``dtype``.

    The best of three ``size x size`` products (about 0.9 GFLOP each, after
    a warm-up product that starts the BLAS threads).
    """
    a = np.ones((size, size), dtype=dtype)
    a @ a
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / max(best, 1e-9)


def _print_fit_estimate(n, bytes_needed, n_factorisations, dtype):
    """What ``fit`` is about to spend: memory, and a rough time for the factorisations."""
    rate = CHOLESKY_EFFICIENCY * _measured_flop_rate(dtype)
    flops = n_factorisations * n**3 / 3.0
    print(
        f"[KernelRidge] n_samples={n:,}: the {n:,} x {n:,} kernel and its working copy "
        f"need {bytes_needed:,} bytes ({bytes_needed / 2**30:.2f} GiB); "
        f"{n_factorisations} Cholesky factorisation(s) of n^3/3 = {n**3 / 3.0:.3g} flops "
        f"each: about {flops / rate:.3g} s at {rate / 1e9:.1f} GFLOP/s ({CHOLESKY_EFFICIENCY:g} "
        "times the rate of a matrix product measured now; a rough estimate, within a "
        "factor of 2 or so; the kernel itself costs O(n^2 d) on top).",
        flush=True,
    )


def _cholesky_progress(n, block=None):
    """A ``progress`` callback printing at most ~10 lines for a blocked Cholesky."""
    block = CHOLESKY_BLOCK if block is None else block
    n_blocks = -(-n // block)
    printed = [-1]
    start = time.perf_counter()

    def progress(e):
        done = -(-e // block)
        tenth = 10 * done // n_blocks
        if tenth == printed[0]:
            return
        printed[0] = tenth
        flops_done = 1.0 - ((n - e) / n) ** 3 if n else 1.0
        print(
            f"[KernelRidge] Cholesky: block {done}/{n_blocks} ({100 * done / n_blocks:.0f}% "
            f"of the blocks, {100 * flops_done:.0f}% of the flops), "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )

    return progress


def _solve_dual(K, Y, alphas, verbose=0):
    """Solve ``(K + alpha_t I) beta_t = Y_t`` for every target ``t``.

    ``K`` is only read.  One Fortran-ordered working copy of ``K`` is
    factorised in place for each distinct penalty (LAPACK then needs no
    further copy); a failed factorisation falls back to ``scipy.linalg.lstsq``
    on the same buffer.
    """
    n = K.shape[0]
    dtype = Y.dtype
    dual = np.empty(Y.shape, dtype=dtype)
    work = np.empty((n, n), dtype=dtype, order="F")
    diag = np.diag_indices(n)
    lange, pocon = get_lapack_funcs(("lange", "pocon"), (work,))
    eps = np.finfo(dtype).eps
    for alpha in np.unique(alphas):
        targets = np.flatnonzero(alphas == alpha)
        _copy_by_columns(work, K)
        work[diag] += alpha
        norm_1 = lange("1", work)
        if not np.isfinite(norm_1):
            raise ValueError(
                "The kernel matrix contains NaN or infinity (the kernel "
                "overflowed). Scale the features (e.g. StandardScaler), or "
                "lower gamma, degree or coef0."
            )
        try:
            if n > BLOCKED_CHOLESKY_MIN:
                progress = _cholesky_progress(n) if verbose else None
                _cholesky_upper(work, progress=progress)
                factor, lower = work, False
            else:
                start = time.perf_counter()
                factor, lower = linalg.cho_factor(
                    work, lower=False, overwrite_a=True, check_finite=False
                )
                if verbose:
                    print(f"[KernelRidge] Cholesky (one LAPACK call, n={n:,}): "
                          f"{time.perf_counter() - start:.2f} s", flush=True)
        except linalg.LinAlgError:
            warnings.warn(
                f"K + alpha * I with alpha={alpha:g} is not positive definite "
                "(the kernel is not positive semi-definite, or alpha is 0 and "
                "the kernel is singular); using a least-squares solution "
                "instead of the Cholesky solve. Increase alpha, or use a "
                "positive semi-definite kernel (linear, rbf, laplacian, poly "
                "with coef0 >= 0).",
                LinAlgWarning,
                stacklevel=4,
            )
            _copy_by_columns(work, K)
            work[diag] += alpha
            dual[:, targets] = linalg.lstsq(
                work, Y[:, targets], overwrite_a=True, check_finite=False
            )[0]
            continue
        rcond, _ = pocon(factor, norm_1, uplo="L" if lower else "U")
        if rcond < eps:
            warnings.warn(
                f"K + alpha * I with alpha={alpha:g} is ill-conditioned "
                f"(reciprocal condition number {rcond:.3g} < machine epsilon "
                f"{eps:.3g}); the dual coefficients may be inaccurate. "
                "Increase alpha.",
                LinAlgWarning,
                stacklevel=4,
            )
        dual[:, targets] = linalg.cho_solve(
            (factor, lower), Y[:, targets], check_finite=False
        )
    return dual


def _check_numeric_targets(y):
    """Refuse string (or other non-numeric) targets with a clear message."""
    if y is None or sp.issparse(y):
        return
    y_arr = np.asarray(y)
    if y_arr.dtype.kind in "USV" or (
        y_arr.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in y_arr.ravel())
    ):
        sample = y_arr.ravel()[:3].tolist()
        raise ValueError(
            "KernelRidge needs numeric targets (regression); got strings "
            f"(dtype {y_arr.dtype}, e.g. {sample}). Convert y to numbers, e.g. "
            "y.astype(float); for class labels use a classifier, or encode them "
            "with sklearn.preprocessing.LabelEncoder first."
        )


class KernelRidge(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Kernel ridge regression, solved in closed form by Cholesky.

    A drop-in for ``sklearn.kernel_ridge.KernelRidge``: same model, same
    parameters, same fitted attributes.  The dual coefficients solve
    ``(K + alpha I) dual_coef_ = y`` and predictions are
    ``f(x) = sum_i dual_coef_[i] k(x, X_fit_[i])``.  Before the n x n kernel
    matrix is allocated, ``fit`` checks that it fits in memory, and refuses
    with a suggestion (Nystroem features and a linear model) otherwise.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Regularisation strength ``lambda`` (>= 0).  An array gives one
        penalty per target (column of ``y``).  ``alpha`` corresponds to
        ``1 / (2C)`` in models such as :class:`fastlinear.LinearSVC`.
    kernel : str or callable, default="linear"
        ``"linear"``, ``"rbf"``, ``"poly"`` (or ``"polynomial"``),
        ``"sigmoid"``, ``"laplacian"``, ``"cosine"``, ``"chi2"``,
        ``"additive_chi2"`` (see ``sklearn.metrics.pairwise.pairwise_kernels``),
        ``"precomputed"`` (``X`` is then the kernel matrix itself), or a
        callable taking two rows and returning a number.
    gamma : float, default=None
        Parameter of the rbf, laplacian, poly, chi2 and sigmoid kernels;
        ``None`` means the kernel's default (``1 / n_features`` for most).
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Constant term of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Extra keyword arguments for a callable kernel.
    verbose : int, default=0
        With ``verbose >= 1``, ``fit`` prints, before the O(n^3) work, the
        number of samples, the memory of the kernel and its working copy,
        and a rough time estimate (``n^3/3`` flops per distinct ``alpha`` at
        0.6 times the rate of a matrix product measured on the spot), then the
        progress of the factorisation (at most about ten lines per
        ``alpha`` above 4,096 samples).

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        The coefficients ``beta`` of the kernel expansion.  Its dtype is the
        common type of the kernel (the dtype of ``X``) and ``y``.
    X_fit_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, needed for prediction; with ``kernel="precomputed"``,
        the training kernel matrix of shape (n_samples, n_samples).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (only when X has string column
        names).

    See Also
    --------
    sklearn.kernel_ridge.KernelRidge : the estimator this mirrors.
    sklearn.kernel_approximation.Nystroem : kernel features for data too
        large for the n x n kernel matrix.

    Raises
    ------
    KernelMatrixMemoryError
        From ``fit``, when the kernel matrix and its working copy would need
        more memory than is available.

    Notes
    -----
    With sample weights ``s_i`` and ``S = diag(sqrt(s))`` the model minimises

    .. math::

        \\frac{1}{2} \\sum_i s_i (y_i - f(x_i))^2 + \\frac{\\lambda}{2}
        \\|f\\|_{\\mathcal{H}}^2,
        \\qquad f = \\sum_i \\beta_i k(\\cdot, x_i),

    whose solution is :math:`\\beta = S (S K S + \\lambda I)^{-1} S y`
    (:math:`\\beta = (K + \\lambda I)^{-1} y` without weights: at the minimum
    of the unweighted objective :math:`\\lambda \\beta = y - K \\beta`).  Fitting costs
    ``O(n^2 d)`` for the kernel, ``n^3/3`` flops per distinct ``alpha`` for
    the factorisation and ``2 n^2`` values of memory.

    Ctrl-C during ``fit`` takes effect between two calls into BLAS and
    LAPACK: above 4,096 samples the factorisation runs in blocks of 1,024
    rows (each call under a second up to n = 20,000 on two cores) instead
    of one LAPACK call (about 2.7e12 floating-point operations at
    n = 20,000: tens of seconds without a look at the signal).  The kernel
    matrix itself is still one call into ``pairwise_kernels``: about 1.5 s
    for an RBF kernel at n = 10,000, and four times that at n = 20,000.
    For such sizes the Nystroem route of the user guide is the better
    choice anyway.

    Exact kernel ridge regression costs ``O(n^2)`` memory (``2 n^2`` values:
    16 bytes per entry in float64, 16 GB at n = 32,000) and ``O(n^3)`` time
    (``n^3/3`` flops per distinct ``alpha``: about 2.7e12 at n = 20,000).
    For large n an approximate kernel is the better tool: features from
    ``sklearn.kernel_approximation.Nystroem`` or ``RBFSampler`` (``m``
    components, ``O(n m)`` memory) feeding ``sklearn.linear_model.Ridge``
    or :class:`fastlinear.LinearSVR` (a linear model costs ``O(n m)`` a
    pass instead of ``O(n^3)``).

    References
    ----------
    K. P. Murphy. "Machine Learning: A Probabilistic Perspective", MIT Press,
    2012, section 14.4.3.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlinear import KernelRidge
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.sin(X).ravel()
    >>> krr = KernelRidge(alpha=1e-3, kernel="rbf", gamma=0.5).fit(X, y)
    >>> float(np.round(krr.predict([[1.0]])[0], 2))  # sin(1) = 0.841...
    0.84
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "kernel": [
            StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS) | {"precomputed"}),
            callable,
        ],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        kernel="linear",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.verbose = verbose

    def _get_kernel(self, X, Y=None):
        if Y is None and X.shape[0] > BLOCKED_CHOLESKY_MIN:
            return self._training_kernel_by_blocks(X)
        return self._pairwise(X, Y)

    def _pairwise(self, X, Y=None):
        if callable(self.kernel):
            params = self.kernel_params or {}
        else:
            # gamma=None means "the kernel's default": leave it out rather
            # than pass None (sklearn's chi2 kernel cannot take None).
            params = {"gamma": self.gamma, "degree": self.degree, "coef0": self.coef0}
            params = {name: value for name, value in params.items() if value is not None}
        degree = float(self.degree)
        fractional = (self.kernel in ("poly", "polynomial") and np.isfinite(degree)
                      and not degree.is_integer())
        with np.errstate(invalid="ignore") if fractional else contextlib.nullcontext():
            K = pairwise_kernels(X, Y, metric=self.kernel, filter_params=True, **params)
        if fractional and np.isnan(K).any():
            raise ValueError(
                f"The polynomial kernel (gamma x.y + coef0)^{self.degree:g} is NaN where its "
                "base is negative: a fractional degree needs gamma x.y + coef0 >= 0 for every "
                "pair. Give an integer degree, or a larger coef0.")
        return K

    def _training_kernel_by_blocks(self, X):
        """``k(X, X)`` in blocks of rows, so that Ctrl-C is honoured between them.

        The diagonal blocks are computed as ``k(X_b)`` (scikit-learn then
        sets the zero self-distances of the distance-based kernels exactly),
        the others as ``k(X_b, X_rest)``.
        """
        n, block = X.shape[0], CHOLESKY_BLOCK
        K = None
        for start in range(0, n, block):
            stop = min(start + block, n)
            rows = X[start:stop]
            diag = self._pairwise(rows)
            if K is None:
                K = np.empty((n, n), dtype=diag.dtype)
            K[start:stop, start:stop] = diag
            if start > 0:
                K[start:stop, :start] = self._pairwise(rows, X[:start])
            if stop < n:
                K[start:stop, stop:] = self._pairwise(rows, X[stop:])
        return K

    def _alphas(self, n_targets):
        """The penalty of each target, as a float64 array of n_targets."""
        alpha = np.asarray(self.alpha)
        if alpha.dtype.kind not in "biuf":
            raise TypeError(
                "alpha must be a float or an array of floats, one per target; "
                f"got {self.alpha!r}."
            )
        alpha = alpha.astype(np.float64)
        if alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape[0] not in (1, n_targets)):
            raise ValueError(
                f"alpha has shape {alpha.shape}, but y has {n_targets} "
                f"target(s): pass one float, or an array of shape "
                f"({n_targets},) with one penalty per target."
            )
        if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError(
                f"alpha must be finite and >= 0 (the ridge penalty); got "
                f"{self.alpha!r}."
            )
        return np.broadcast_to(alpha, (n_targets,)).copy()

    def _check_sparse(self, X, caller):
        """Prove a CSR matrix's structure once; a canonical copy only if needed."""
        if not sp.issparse(X):
            return X
        proof = proved_csr(X, caller=caller)
        if np.shares_memory(proof.indices, X.indices):
            return X
        return type(X)(proof.to_scipy(), copy=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the kernel ridge model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (dense or CSR, float32 or float64).  With
            ``kernel="precomputed"``, the kernel matrix of the training
            samples, of shape (n_samples, n_samples).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's squared error; 0 leaves a
            sample out.

        Returns
        -------
        self : KernelRidge
            The fitted estimator.

        Raises
        ------
        KernelMatrixMemoryError
            When the n x n kernel matrix and its working copy would not fit
            in the available memory (checked before allocating them).
        """
        precomputed = self.kernel == "precomputed"
        _check_numeric_targets(y)
        if sp.issparse(X):
            check_sparse_structure(X, caller="KernelRidge.fit")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
            accept_large_sparse=True,
        )
        n_samples = X.shape[0]
        if precomputed and X.shape[1] != n_samples:
            raise ValueError(
                "With kernel='precomputed', X must be the square kernel matrix "
                "of the training samples, of shape (n_samples, n_samples); got "
                f"shape {X.shape}. Compute it with sklearn.metrics.pairwise."
                "pairwise_kernels(X_train, metric=...), or pass the features "
                "with a kernel name."
            )
        X = self._check_sparse(X, "KernelRidge.fit")
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not np.all(np.isfinite(Y)):
            # An object y with None passes scikit-learn's check as NaN.
            bad = int(np.flatnonzero(~np.all(np.isfinite(Y), axis=1))[0])
            raise ValueError(
                f"KernelRidge.fit: y holds a missing or non-finite target (first at sample "
                f"{bad}: {Y[bad].tolist()}); every target must be a finite number. Drop or impute "
                "those samples."
            )
        alphas = self._alphas(Y.shape[1])
        sw = None
        if sample_weight is not None:
            sw = np.sqrt(check_sample_weight(sample_weight, n_samples))

        kernel_dtype = X.dtype  # pairwise_kernels keeps it, callables too
        y_dtype = Y.dtype if Y.dtype.kind == "f" else np.float64
        dtype = np.result_type(kernel_dtype, y_dtype)
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype(np.float64)
        # A kernel this module owns: computed, or a weighted/dense copy of a
        # precomputed one.  Plus the factorisation's working copy.
        owns_kernel = not precomputed or sw is not None or sp.issparse(X)
        n_squared = n_samples * n_samples
        bytes_needed = n_squared * dtype.itemsize
        if owns_kernel:
            bytes_needed += n_squared * kernel_dtype.itemsize
        _check_kernel_memory(n_samples, bytes_needed, self.kernel)
        if self.verbose:
            _print_fit_estimate(n_samples, bytes_needed, np.unique(alphas).size, dtype)

        if precomputed:
            K = X.toarray() if sp.issparse(X) else X
            _warn_if_not_symmetric(K)
        else:
            K = self._get_kernel(X)
        Y = Y.astype(dtype, copy=True)
        if sw is not None:
            sw_k = sw.astype(K.dtype)
            if K is X:
                K = K * sw_k[:, np.newaxis]
            else:
                K *= sw_k[:, np.newaxis]
            K *= sw_k[np.newaxis, :]
            Y *= sw.astype(dtype)[:, np.newaxis]
        dual = _solve_dual(K, Y, alphas, verbose=self.verbose)
        if sw is not None:
            dual *= sw.astype(dtype)[:, np.newaxis]
        self.dual_coef_ = dual.ravel() if y.ndim == 1 else dual
        self.X_fit_ = X
        return self

    def predict(self, X):
        """Predict with the kernel expansion ``sum_i dual_coef_[i] k(x, X_fit_[i])``.

        The test kernel is computed in blocks of rows that fit in
        ``sklearn.get_config()["working_memory"]`` (MiB).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features)
            Samples.  With ``kernel="precomputed"``, the kernel between the
            samples and the training samples, of shape
            (n_queries, n_samples_fitted).

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        n_fit = self.X_fit_.shape[0]
        precomputed = self.kernel == "precomputed"
        if sp.issparse(X):
            check_sparse_structure(X, caller="KernelRidge.predict")
        try:
            X = validate_data(
                self,
                X,
                accept_sparse="csr",
                dtype=[np.float64, np.float32],
                reset=False,
                accept_large_sparse=True,
            )
        except ValueError as exc:
            if precomputed and "features, but" in str(exc):
                raise ValueError(
                    f"{exc} With kernel='precomputed', X must be the kernel "
                    "between the query samples and the training samples, of "
                    f"shape (n_queries, {n_fit})."
                ) from exc
            raise
        X = self._check_sparse(X, "KernelRidge.predict")
        if precomputed:
            y_pred = np.asarray(X @ self.dual_coef_)
            warn_if_not_finite(y_pred, caller="KernelRidge.predict")
            return y_pred
        kernel_dtype = np.result_type(X.dtype, self.X_fit_.dtype)
        out_dtype = np.result_type(kernel_dtype, self.dual_coef_.dtype)
        y_pred = np.empty((X.shape[0],) + self.dual_coef_.shape[1:], dtype=out_dtype)
        # Two n_fit-long rows per query: the kernel row and a temporary.
        row_bytes = 2 * n_fit * kernel_dtype.itemsize
        chunk = max(1, int(get_config()["working_memory"] * 2**20 // max(row_bytes, 1)))
        for rows in gen_batches(X.shape[0], chunk):
            y_pred[rows] = self._get_kernel(X[rows], self.X_fit_) @ self.dual_coef_
        warn_if_not_finite(y_pred, caller="KernelRidge.predict")
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
