"""PCA, PCA-whitening and ZCA-whitening (CS231n "data preprocessing") as one estimator.

The covariance is streamed in float64 (:class:`StreamingMoments`), eigendecomposed with
``np.linalg.eigh`` (a ``d x d`` problem, cheap for tabular widths) and applied with one matrix
product per block of rows::

    Xc   = X - mean_
    none : Z = Xc @ U_k                            (k columns pc0..pc{k-1})
    pca  : Z = Xc @ U_k diag(1 / sqrt(lambda_k + epsilon))
    zca  : Z = Xc @ U_r diag(1 / sqrt(lambda_r + epsilon)) U_r^T   (d columns, named as inputs)

``epsilon`` is added to every eigenvalue before the inverse square root. Directions whose
variance is tiny against ``epsilon`` are therefore damped instead of blown up: without it a
direction with variance 1e-12 (rounding noise, a near-copy of a column) would be multiplied
by 1e6 and dominate the output with noise. Directions that are exactly degenerate (a one-hot
block that sums to one, a duplicated column: eigenvalue at rounding level) are dropped
outright and reported in ``n_dropped_directions_`` / ``dropped_directions_``; nothing is ever
divided by ~0.

scikit-learn has no ZCA; ZCA is PCA-whitening rotated back into the input space, i.e. the
symmetric whitening matrix ``W = U diag(1/sqrt(lambda+epsilon)) U^T``: of all whitening
matrices it is the one whose output stays closest (in mean squared distance) to the input.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from dataaudit.exceptions import ArtifactError, ConfigError, InputError
from dataaudit.transforms.scaling import (
    check_state_header,
    restore_header,
    state_array,
    state_header,
    state_scalar,
    validate_input,
    validate_output_side,
)
from dataaudit.transforms.streaming import StreamingMoments

__all__ = ["PCATransformer", "WHITEN_MODES"]

WHITEN_MODES = ("none", "pca", "zca")

# Default rank tolerance, relative to the largest eigenvalue: eigh's absolute error is a small
# multiple of eps * ||C|| * d, so anything below ten times that is indistinguishable from zero.
_RANK_TOL_FACTOR = 10.0


class PCATransformer(TransformerMixin, BaseEstimator):
    """Principal component projection with optional PCA- or ZCA-whitening.

    The covariance is the population one (``X_c.T @ X_c / n``, CS231n's convention), so the
    whitened training data has covariance ``diag(lambda / (lambda + epsilon))``, i.e. the identity
    up to ``epsilon``, on every kept direction.

    Parameters
    ----------
    n_components : int, float or None, default=None
        None keeps every non-degenerate direction (``rank_`` of them). An int keeps that many
        leading directions (at most ``rank_``; an int above ``n_features`` is an error). A float
        in (0, 1) keeps the fewest leading directions whose explained variance ratio sums to at
        least that fraction. Must be None with ``whiten="zca"``: ZCA rotates back to the input
        space, so it keeps all non-degenerate directions.
    whiten : {None, "none", "pca", "zca"}, default=None
        None/"none": plain PCA projection (rotation onto the leading directions).
        "pca": also divide each component by ``sqrt(eigenvalue + epsilon)``.
        "zca": PCA-whitening rotated back, ``W = U diag(1/sqrt(lambda+epsilon)) U^T``; the output
        has the input's columns and names.
    epsilon : float, default=1e-5
        Added to the eigenvalues before the inverse square root (CS231n's ``1e-5``). It is in
        units of variance: directions with variance much larger than ``epsilon`` come out with
        unit variance, directions with variance at or below it are damped rather than
        amplified into noise. Standardise first (or scale ``epsilon``) when features have a
        tiny scale. Ignored when ``whiten`` is None/"none".
    rank_tol : float or None, default=None
        A direction is degenerate, and dropped, when its eigenvalue is at most
        ``rank_tol * largest_eigenvalue``. None uses ``n_features * eps(float64) * 10``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean, float64.
    eigenvalues_ : ndarray of shape (n_features,)
        Full covariance spectrum, descending, negatives from rounding clipped to 0 (for plots).
    components_ : ndarray of shape (n_components_, n_features)
        Kept principal directions (unit rows), sign fixed so each row's largest entry is positive.
    explained_variance_ : ndarray of shape (n_components_,)
        Eigenvalues of the kept directions.
    explained_variance_ratio_ : ndarray of shape (n_components_,)
        ``explained_variance_ / eigenvalues_.sum()``.
    n_components_ : int
        Number of kept directions (``rank_`` for ZCA).
    rank_ : int
        Number of non-degenerate directions.
    n_dropped_directions_ : int
        ``n_features - rank_``: degenerate directions never divided by.
    dropped_directions_ : ndarray of shape (n_dropped_directions_, n_features)
        The degenerate directions themselves (e.g. the all-ones vector of a one-hot block).
    eigenvalue_threshold_ : float
        Absolute eigenvalue at or below which a direction counted as degenerate.
    whitening_matrix_ : ndarray of shape (n_features, n_features_out)
        ``transform(X) == (X - mean_) @ whitening_matrix_``; symmetric for ZCA.
    dewhitening_matrix_ : ndarray of shape (n_features_out, n_features)
        ``inverse_transform(Z) == Z @ dewhitening_matrix_ + mean_``.
    n_samples_seen_ : int
        Rows the statistics were computed from.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features,)
        Column names, when fitted on a DataFrame with string column names.

    Raises
    ------
    ConfigError
        At fit time, for an invalid ``whiten``, ``epsilon``, ``rank_tol`` or ``n_components``,
        or ``n_components`` combined with ``whiten="zca"``.
    InputError
        At fit time, when the training data has no direction with non-zero variance.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.2]])
    >>> Z = PCATransformer(whiten="zca", epsilon=0.0).fit_transform(X)
    >>> np.allclose(np.cov(Z, rowvar=False, bias=True), np.eye(3))
    True
    """

    def __init__(
        self,
        n_components: int | float | None = None,
        whiten: str | None = None,
        epsilon: float = 1e-5,
        rank_tol: float | None = None,
    ) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.epsilon = epsilon
        self.rank_tol = rank_tol

    # ------------------------------------------------------------------ parameters
    def _whiten_mode(self) -> str:
        """The ``whiten`` parameter as one of WHITEN_MODES, or a ConfigError."""
        mode = "none" if self.whiten is None else self.whiten
        if not isinstance(mode, str) or mode not in WHITEN_MODES:
            raise ConfigError(
                f"PCATransformer: whiten={self.whiten!r} is not supported; use None, 'none', "
                "'pca' or 'zca'."
            )
        return mode

    def _check_params(self, n_features: int) -> str:
        """Validate all parameters against the data width; return the whitening mode."""
        mode = self._whiten_mode()
        epsilon = self.epsilon
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, numbers.Real)
            or not np.isfinite(epsilon)
            or epsilon < 0
        ):
            raise ConfigError(
                f"PCATransformer: epsilon={epsilon!r} must be a finite number >= 0 (it is added "
                "to the eigenvalues before the inverse square root; CS231n uses 1e-5)."
            )
        rank_tol = self.rank_tol
        if rank_tol is not None and (
            isinstance(rank_tol, bool)
            or not isinstance(rank_tol, numbers.Real)
            or not 0 <= rank_tol < 1
        ):
            raise ConfigError(
                f"PCATransformer: rank_tol={rank_tol!r} must be None or a number in [0, 1), "
                "relative to the largest eigenvalue."
            )
        n_components = self.n_components
        if n_components is None:
            return mode
        if mode == "zca":
            raise ConfigError(
                f"PCATransformer: n_components={n_components!r} cannot be combined with "
                "whiten='zca': ZCA rotates back to the input space and keeps every "
                "non-degenerate direction. Pass n_components=None, or use whiten='pca' to "
                "reduce the dimension."
            )
        if isinstance(n_components, bool) or not isinstance(n_components, numbers.Real):
            raise ConfigError(
                f"PCATransformer: n_components={n_components!r} must be None, an int >= 1 "
                "or a variance fraction in (0, 1)."
            )
        if isinstance(n_components, numbers.Integral):
            if not 1 <= n_components <= n_features:
                raise ConfigError(
                    f"PCATransformer: n_components={n_components} must be between 1 and the "
                    f"number of features ({n_features}); or pass a variance fraction in (0, 1)."
                )
        elif not 0 < n_components < 1:
            raise ConfigError(
                f"PCATransformer: n_components={n_components!r} as a float is the fraction of "
                "variance to keep and must lie strictly between 0 and 1 (e.g. 0.99)."
            )
        return mode

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any = None) -> PCATransformer:
        """Learn mean, covariance spectrum and the (whitening) projection from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; float32 is read block by block without a full float64 copy.
        y : ignored

        Returns
        -------
        self : PCATransformer
        """
        if hasattr(self, "_moments"):
            del self._moments
        self.partial_fit(X, y)
        if self.rank_ == 0:
            raise InputError(
                f"PCATransformer: the training data (n_samples={self.n_samples_seen_}) has no "
                "direction with non-zero variance (every column is constant), so there is "
                "nothing to project. Drop constant columns or fit on more rows."
            )
        return self

    def partial_fit(self, X: Any, y: Any = None) -> PCATransformer:
        """Fold one chunk of rows into the streamed covariance and refit the projection.

        The eigendecomposition (``O(d^3)``) is redone after every chunk, so the estimator is
        usable between calls. Chunked fitting equals :meth:`fit` on the concatenation to rounding.
        """
        first_call = not hasattr(self, "_moments")
        X = validate_input(self, X, reset=first_call)
        mode = self._check_params(X.shape[1])
        if first_call:
            self._moments = StreamingMoments(covariance=True)
        self._moments.update(X)
        self._set_parameters(mode)
        return self

    def fit_moments(self, moments: StreamingMoments) -> PCATransformer:
        """Fit from a streamed mean and covariance (e.g. ``StreamingMoments.affine`` of the
        moments a scaler was fitted on), so scaling and PCA share one pass over the data."""
        if not moments.covariance_enabled or moments.mean is None or moments.m2 is None:
            raise InputError("PCATransformer.fit_moments needs StreamingMoments(covariance=True) that saw rows.")
        n_features = int(moments.mean.shape[0])
        mode = self._check_params(n_features)
        self._moments = StreamingMoments(covariance=True).merge(moments)
        self.n_features_in_ = n_features
        self._set_parameters(mode)
        if self.rank_ == 0:
            raise InputError(
                f"PCATransformer: the training data (n_samples={self.n_samples_seen_}) has no "
                "direction with non-zero variance (every column is constant), so there is "
                "nothing to project. Drop constant columns or fit on more rows."
            )
        return self

    def _set_parameters(self, mode: str) -> None:
        """Eigendecompose the streamed covariance and derive every fitted attribute."""
        moments = self._moments
        assert moments.mean is not None
        n_features = moments.mean.shape[0]
        eigenvalues, eigenvectors = np.linalg.eigh(moments.covariance(ddof=0))
        # eigh returns ascending order; PCA wants the largest variance first.
        eigenvalues = np.maximum(eigenvalues[::-1], 0.0)
        eigenvectors = eigenvectors[:, ::-1]
        # Fix the sign of each eigenvector (largest entry positive) so the output is
        # deterministic across runs, chunkings and BLAS builds.
        largest = np.argmax(np.abs(eigenvectors), axis=0)
        signs = np.sign(eigenvectors[largest, np.arange(n_features)])
        signs[signs == 0] = 1.0
        eigenvectors = eigenvectors * signs

        relative_tol = (
            n_features * np.finfo(np.float64).eps * _RANK_TOL_FACTOR
            if self.rank_tol is None
            else float(self.rank_tol)
        )
        threshold = float(eigenvalues[0] * relative_tol)
        rank = int(np.count_nonzero(eigenvalues > threshold)) if eigenvalues[0] > 0 else 0
        n_kept = self._n_kept(mode, eigenvalues, rank)

        self.mean_ = moments.mean.copy()
        self.n_samples_seen_ = int(moments.n_samples)
        self.eigenvalues_ = eigenvalues
        self.eigenvalue_threshold_ = threshold
        self.rank_ = rank
        self.n_dropped_directions_ = n_features - rank
        self.dropped_directions_ = np.ascontiguousarray(eigenvectors[:, rank:].T)
        self.n_components_ = n_kept
        self.components_ = np.ascontiguousarray(eigenvectors[:, :n_kept].T)
        self.explained_variance_ = eigenvalues[:n_kept].copy()
        total = eigenvalues.sum()
        self.explained_variance_ratio_ = (
            self.explained_variance_ / total if total > 0 else np.zeros(n_kept)
        )
        self.whitening_matrix_, self.dewhitening_matrix_ = self._projection(mode)

    def _n_kept(self, mode: str, eigenvalues: np.ndarray, rank: int) -> int:
        """How many leading directions to keep, never more than the rank."""
        n_components = self.n_components
        if mode == "zca" or n_components is None:
            return rank
        if isinstance(n_components, numbers.Integral):
            # Asking for more directions than the data has is answered with all it has; the
            # shortfall is visible in n_components_ and n_dropped_directions_.
            return min(int(n_components), rank)
        total = eigenvalues.sum()
        if rank == 0 or total <= 0:
            return 0
        cumulative = np.cumsum(eigenvalues[:rank]) / total
        return min(int(np.searchsorted(cumulative, float(n_components), side="left")) + 1, rank)

    def _projection(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """The matrices W (d x out) and W^+ (out x d) with Z = Xc @ W and Xc = Z @ W^+ at full rank."""
        components = self.components_  # (k, d)
        if mode == "none":
            return np.ascontiguousarray(components.T), components.copy()
        root = np.sqrt(self.explained_variance_ + float(self.epsilon))
        if mode == "pca":
            return np.ascontiguousarray(components.T / root), components * root[:, None]
        whitening = (components.T / root) @ components
        dewhitening = (components.T * root) @ components
        # Symmetric in exact arithmetic; remove the last-bit asymmetry of the product.
        return (whitening + whitening.T) * 0.5, (dewhitening + dewhitening.T) * 0.5

    # ------------------------------------------------------------------ applying
    def transform(self, X: Any) -> np.ndarray:
        """Project (and whiten) ``X``: ``(X - mean_) @ whitening_matrix_``.

        Returns an array of shape ``(n_samples, n_components_)`` (``n_features`` for ZCA) in the
        dtype of ``X``.
        """
        check_is_fitted(self)
        X = validate_input(self, X, reset=False)
        whitening = self.whitening_matrix_.astype(X.dtype, copy=False)
        # One matrix product and no centred copy of X: (X - m) W == X W - m W. Centring after
        # the product loses only a few ulps of |m W|, no more than the rounding X already has.
        out = X @ whitening
        out -= (self.mean_ @ self.whitening_matrix_).astype(X.dtype, copy=False)
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map outputs back to the input space: ``X @ dewhitening_matrix_ + mean_``.

        Exact (to rounding) when every direction was kept (``n_components_ == n_features``);
        otherwise the projection onto the kept directions, plus the mean.
        """
        check_is_fitted(self)
        Z = validate_output_side(self, X, self.whitening_matrix_.shape[1])
        out = Z @ self.dewhitening_matrix_.astype(Z.dtype, copy=False)
        out += self.mean_.astype(Z.dtype, copy=False)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names: the input names for ZCA, ``pc0 .. pc{k-1}`` otherwise."""
        check_is_fitted(self)
        names_in = getattr(self, "feature_names_in_", None)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if input_features.shape != (self.n_features_in_,):
                raise InputError(
                    f"PCATransformer.get_feature_names_out got {input_features.size} names for "
                    f"{self.n_features_in_} input features."
                )
            if names_in is not None and not np.array_equal(input_features, names_in):
                raise InputError(
                    "PCATransformer.get_feature_names_out: input_features differ from the "
                    f"names seen in fit ({list(names_in)})."
                )
        if self._whiten_mode() == "zca":
            if input_features is not None:
                return input_features
            if names_in is not None:
                return np.asarray(names_in, dtype=object)
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        return np.asarray([f"pc{i}" for i in range(self.n_components_)], dtype=object)

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> dict[str, Any]:
        """Parameters and fitted arrays as plain scalars and float64 arrays (no object arrays).

        Parameters left at None are omitted, so every value can go to an ``.npz`` written with
        ``allow_pickle=False`` or to JSON. The streamed moments (``moments_m2``) are included
        so that ``partial_fit`` can continue after a reload.
        """
        check_is_fitted(self)
        state = state_header(self)
        state["whiten"] = self._whiten_mode()
        state["epsilon"] = float(self.epsilon)
        if self.n_components is not None:
            is_int = isinstance(self.n_components, numbers.Integral)
            state["n_components"] = int(self.n_components) if is_int else float(self.n_components)
        if self.rank_tol is not None:
            state["rank_tol"] = float(self.rank_tol)
        assert self._moments.m2 is not None
        state.update(
            {
                "n_samples_seen": int(self.n_samples_seen_),
                "n_components_": int(self.n_components_),
                "rank": int(self.rank_),
                "eigenvalue_threshold": float(self.eigenvalue_threshold_),
                "mean": self.mean_.copy(),
                "eigenvalues": self.eigenvalues_.copy(),
                "components": self.components_.copy(),
                "dropped_directions": self.dropped_directions_.copy(),
                "explained_variance": self.explained_variance_.copy(),
                "explained_variance_ratio": self.explained_variance_ratio_.copy(),
                "whitening_matrix": self.whitening_matrix_.copy(),
                "dewhitening_matrix": self.dewhitening_matrix_.copy(),
                "moments_m2": self._moments.m2.copy(),
            }
        )
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PCATransformer:
        """Rebuild a fitted PCATransformer from :meth:`get_state` output (arrays may be 0-d).

        The saved matrices are used as they are (no new eigendecomposition), so the reloaded
        transform is bit-for-bit the saved one.
        """
        name = cls.__name__
        d = check_state_header(cls, state)
        n_components = (
            state_scalar(state, "n_components", name) if "n_components" in state else None
        )
        rank_tol = state_scalar(state, "rank_tol", name) if "rank_tol" in state else None
        estimator = cls(
            n_components=n_components,
            whiten=str(state_scalar(state, "whiten", name)),
            epsilon=float(state_scalar(state, "epsilon", name)),
            rank_tol=rank_tol,
        )
        mode = estimator._check_params(d)
        restore_header(estimator, state, d)
        k = int(state_scalar(state, "n_components_", name))
        rank = int(state_scalar(state, "rank", name))
        if not 0 <= k <= rank <= d:
            raise ArtifactError(
                f"{name} state has n_components_={k}, rank={rank} for {d} features; the "
                "artifact is damaged."
            )
        n_out = d if mode == "zca" else k
        estimator.n_samples_seen_ = int(state_scalar(state, "n_samples_seen", name))
        estimator.n_components_ = k
        estimator.rank_ = rank
        estimator.n_dropped_directions_ = d - rank
        estimator.eigenvalue_threshold_ = float(state_scalar(state, "eigenvalue_threshold", name))
        estimator.mean_ = state_array(state, "mean", name, (d,))
        estimator.eigenvalues_ = state_array(state, "eigenvalues", name, (d,))
        estimator.components_ = state_array(state, "components", name, (k, d))
        estimator.dropped_directions_ = state_array(
            state, "dropped_directions", name, (d - rank, d)
        )
        estimator.explained_variance_ = state_array(state, "explained_variance", name, (k,))
        estimator.explained_variance_ratio_ = state_array(
            state, "explained_variance_ratio", name, (k,)
        )
        estimator.whitening_matrix_ = state_array(state, "whitening_matrix", name, (d, n_out))
        estimator.dewhitening_matrix_ = state_array(state, "dewhitening_matrix", name, (n_out, d))
        estimator._moments = StreamingMoments.from_state(
            {
                "covariance": True,
                "n_samples": estimator.n_samples_seen_,
                "mean": estimator.mean_,
                "m2": state_array(state, "moments_m2", name, (d, d)),
            }
        )
        return estimator

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Statistics are float64 but the output keeps float32 input as float32.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
