"""Mean subtraction and standardisation (CS231n "data preprocessing"), as scikit-learn estimators.

Both estimators learn their statistics in float64 with :class:`StreamingMoments`, so ``fit`` on
one array and ``partial_fit`` over chunks give the same parameters to rounding, and both can be
saved without pickle through ``get_state()`` / ``from_state()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from dataaudit.exceptions import ArtifactError, InputError
from dataaudit.transforms.streaming import StreamingMoments

__all__ = ["MeanCenterer", "Standardizer"]

STATE_VERSION = 1
FLOAT_DTYPES = (np.float64, np.float32)


# --------------------------------------------------------------------------- shared helpers
class InputTypeError(InputError, TypeError):
    """Input of an unusable type (sparse matrix, dict cells): an InputError that is also a TypeError.

    scikit-learn's conventions (and its estimator checks) expect TypeError for these cases.
    """


def validate_input(estimator: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray:
    """``validate_data`` with float dtypes kept (float32 is not upcast), errors as InputError."""
    try:
        return validate_data(estimator, X, reset=reset, dtype=FLOAT_DTYPES, ensure_min_samples=1)
    except TypeError as error:
        raise InputTypeError(f"{type(estimator).__name__}: {error}") from error
    except ValueError as error:
        # InputError is a ValueError, so callers (and sklearn's checks) can still catch it.
        raise InputError(f"{type(estimator).__name__}: {error}") from error


def validate_output_side(estimator: BaseEstimator, X: Any, n_columns: int) -> np.ndarray:
    """Validate the input of ``inverse_transform``: a finite float array with ``n_columns`` columns."""
    try:
        array = check_array(X, dtype=FLOAT_DTYPES)
    except TypeError as error:
        raise InputTypeError(f"{type(estimator).__name__}.inverse_transform: {error}") from error
    except ValueError as error:
        raise InputError(f"{type(estimator).__name__}.inverse_transform: {error}") from error
    if array.shape[1] != n_columns:
        raise InputError(
            f"{type(estimator).__name__}.inverse_transform got {array.shape[1]} columns but the "
            f"transform outputs {n_columns}; pass an array produced by transform()."
        )
    return array


def state_header(estimator: BaseEstimator) -> dict[str, Any]:
    """Entries every estimator state starts with: class, format version, input columns."""
    header: dict[str, Any] = {
        "estimator": type(estimator).__name__,
        "state_version": STATE_VERSION,
        "n_features_in": int(estimator.n_features_in_),
    }
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        # Fixed-width unicode, not object: it loads from an .npz with allow_pickle=False.
        header["feature_names_in"] = np.asarray([str(name) for name in names], dtype=np.str_)
    return header


def state_scalar(state: Mapping[str, Any], key: str, estimator_name: str) -> Any:
    """A plain Python scalar from a state entry (also a 0-d array as reloaded from an .npz)."""
    if key not in state:
        raise ArtifactError(
            f"{estimator_name} state lacks the entry '{key}'; it was not written by "
            f"{estimator_name}.get_state() of this dataaudit version. Refit and save again."
        )
    value = state[key]
    return value.item() if isinstance(value, np.ndarray) else value


def state_array(
    state: Mapping[str, Any], key: str, estimator_name: str, shape: tuple[int, ...]
) -> np.ndarray:
    """A float64 array of the expected shape from a state entry, or an ArtifactError."""
    if key not in state:
        raise ArtifactError(
            f"{estimator_name} state lacks the array '{key}'; it was not written by "
            f"{estimator_name}.get_state() of this dataaudit version. Refit and save again."
        )
    array = np.asarray(state[key])
    if array.dtype == object or array.shape != shape:
        raise ArtifactError(
            f"{estimator_name} state array '{key}' has shape {array.shape} and dtype "
            f"{array.dtype}; expected float64 of shape {shape}. The artifact is damaged."
        )
    array = array.astype(np.float64, copy=True)
    if not np.all(np.isfinite(array)):
        raise ArtifactError(f"{estimator_name} state array '{key}' holds NaN or infinity.")
    return array


def check_state_header(cls: type, state: Mapping[str, Any]) -> int:
    """Check the class name and format version of a state; return its ``n_features_in``."""
    name = cls.__name__
    found = state_scalar(state, "estimator", name)
    if found != name:
        raise ArtifactError(f"The state was saved by {found!r}; it cannot be loaded as {name}.")
    version = state_scalar(state, "state_version", name)
    if version != STATE_VERSION:
        raise ArtifactError(
            f"{name} state has format version {version}; this dataaudit reads version "
            f"{STATE_VERSION}. Refit the transform with this version."
        )
    n_features = int(state_scalar(state, "n_features_in", name))
    if n_features < 1:
        raise ArtifactError(f"{name} state has n_features_in={n_features}; expected at least 1.")
    return n_features


def restore_header(estimator: BaseEstimator, state: Mapping[str, Any], n_features: int) -> None:
    """Set ``n_features_in_`` and, when saved, ``feature_names_in_`` on a rebuilt estimator."""
    estimator.n_features_in_ = n_features
    if "feature_names_in" in state:
        names = np.asarray(state["feature_names_in"])
        if names.shape != (n_features,):
            raise ArtifactError(
                f"{type(estimator).__name__} state lists {names.size} feature names for "
                f"{n_features} features. The artifact is damaged."
            )
        # sklearn keeps feature names as an object array; only the saved copy must not be.
        estimator.feature_names_in_ = names.astype(str).astype(object)


def is_constant(variance: np.ndarray, mean: np.ndarray, n_samples: int) -> np.ndarray:
    """Columns whose variance is within float64 rounding of zero (same bound as scikit-learn)."""
    eps = np.finfo(np.float64).eps
    # A constant column still gets a variance of order (n * eps * mean)^2 from rounding the mean.
    with np.errstate(over="ignore"):  # an infinite bound for near-1e308 means is still a bound
        upper_bound = n_samples * eps * variance + (n_samples * mean * eps) ** 2
    return variance <= upper_bound


# --------------------------------------------------------------------------- estimators
class MeanCenterer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Subtract the per-column training mean (CS231n "mean subtraction").

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean, float64.
    n_samples_seen_ : int
        Rows the mean was computed from.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features,)
        Column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> MeanCenterer().fit_transform(np.array([[1.0, 10.0], [3.0, 30.0]]))
    array([[ -1., -10.],
           [  1.,  10.]])
    """

    def fit(self, X: Any, y: Any = None) -> MeanCenterer:
        """Learn the column means of ``X`` (shape ``(n_samples, n_features)``)."""
        for attribute in ("mean_", "n_samples_seen_", "_moments"):
            if hasattr(self, attribute):
                delattr(self, attribute)
        return self.partial_fit(X, y)

    def partial_fit(self, X: Any, y: Any = None) -> MeanCenterer:
        """Fold one chunk of rows into the running mean (exact Chan merge, float64)."""
        first_call = not hasattr(self, "_moments")
        X = validate_input(self, X, reset=first_call)
        if first_call:
            self._moments = StreamingMoments(covariance=False)
        self._moments.update(X)
        assert self._moments.mean is not None
        self.mean_ = self._moments.mean.copy()
        self.n_samples_seen_ = int(self._moments.n_samples)
        return self

    def fit_moments(self, moments: StreamingMoments) -> MeanCenterer:
        """Fit from moments streamed elsewhere (one pass shared with other estimators)."""
        self._moments = moments.diagonal()
        assert self._moments.mean is not None
        self.n_features_in_ = int(self._moments.mean.shape[0])
        self.mean_ = self._moments.mean.copy()
        self.n_samples_seen_ = int(self._moments.n_samples)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``X - mean_`` in the dtype of ``X`` (float32 stays float32)."""
        check_is_fitted(self)
        X = validate_input(self, X, reset=False)
        return np.subtract(X, self.mean_.astype(X.dtype, copy=False))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Add the mean back: ``X + mean_``."""
        check_is_fitted(self)
        X = validate_output_side(self, X, self.n_features_in_)
        return np.add(X, self.mean_.astype(X.dtype, copy=False))

    def get_state(self) -> dict[str, Any]:
        """Fitted parameters as plain scalars and non-object arrays (savable to .npz + JSON)."""
        check_is_fitted(self)
        state = state_header(self)
        state.update({"n_samples_seen": int(self.n_samples_seen_), "mean": self.mean_.copy()})
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> MeanCenterer:
        """Rebuild a fitted MeanCenterer from :meth:`get_state` output (arrays may be 0-d)."""
        n_features = check_state_header(cls, state)
        estimator = cls()
        restore_header(estimator, state, n_features)
        estimator.mean_ = state_array(state, "mean", cls.__name__, (n_features,))
        estimator.n_samples_seen_ = int(state_scalar(state, "n_samples_seen", cls.__name__))
        estimator._moments = StreamingMoments.from_state(
            {
                "covariance": False,
                "n_samples": estimator.n_samples_seen_,
                "mean": estimator.mean_,
                # The centred sum of squares is not needed to subtract a mean; zeros keep the
                # summary valid for further partial_fit calls, which only merge the means.
                "m2": np.zeros(n_features),
            }
        )
        return estimator

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Statistics are float64 but the output keeps float32 input as float32.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class Standardizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Subtract the training mean and divide by the training standard deviation, per column.

    The standard deviation is the population one (``ddof=0``), as in CS231n's
    ``X /= np.std(X, axis=0)`` and scikit-learn's ``StandardScaler``.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract ``mean_`` before scaling.
    with_std : bool, default=True
        Divide by ``scale_``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean, float64 (learned also when ``with_mean=False``; then it is not subtracted).
    var_ : ndarray of shape (n_features,)
        Training variance (``ddof=0``), float64.
    scale_ : ndarray of shape (n_features,)
        The divisor: ``sqrt(var_)``, except 1 for constant columns, and all ones when
        ``with_std=False``.
    n_samples_seen_ : int
        Rows the statistics were computed from.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features,)
        Column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> Standardizer().fit_transform(np.array([[1.0, 5.0], [3.0, 5.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any, y: Any = None) -> Standardizer:
        """Learn per-column mean and standard deviation of ``X`` (shape ``(n_samples, n_features)``)."""
        for attribute in ("mean_", "var_", "scale_", "n_samples_seen_", "_moments"):
            if hasattr(self, attribute):
                delattr(self, attribute)
        return self.partial_fit(X, y)

    def partial_fit(self, X: Any, y: Any = None) -> Standardizer:
        """Fold one chunk of rows into the running mean and variance (exact Chan merge, float64)."""
        first_call = not hasattr(self, "_moments")
        X = validate_input(self, X, reset=first_call)
        if first_call:
            self._moments = StreamingMoments(covariance=False)
        self._moments.update(X)
        self._set_parameters()
        return self

    def fit_moments(self, moments: StreamingMoments) -> Standardizer:
        """Fit from moments streamed elsewhere (one pass shared with other estimators)."""
        self._moments = moments.diagonal()
        assert self._moments.mean is not None
        self.n_features_in_ = int(self._moments.mean.shape[0])
        self._set_parameters()
        return self

    def _set_parameters(self) -> None:
        """Derive mean_, var_, scale_ from the running moments."""
        moments = self._moments
        assert moments.mean is not None
        self.mean_ = moments.mean.copy()
        self.var_ = moments.variance(ddof=0)
        self.n_samples_seen_ = int(moments.n_samples)
        scale = np.sqrt(self.var_)
        # A constant column keeps scale 1: dividing its (zero) deviations by ~0 would turn
        # rounding noise into huge values; with scale 1 it simply stays 0 after centring.
        scale[is_constant(self.var_, self.mean_, self.n_samples_seen_)] = 1.0
        self.scale_ = scale if self.with_std else np.ones_like(scale)

    def transform(self, X: Any) -> np.ndarray:
        """Return ``(X - mean_) / scale_`` in the dtype of ``X`` (float32 stays float32)."""
        check_is_fitted(self)
        X = validate_input(self, X, reset=False)
        if self.with_mean:
            out = np.subtract(X, self.mean_.astype(X.dtype, copy=False))
        else:
            out = X.copy()
        if self.with_std:
            out /= self.scale_.astype(X.dtype, copy=False)
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: ``X * scale_ + mean_``."""
        check_is_fitted(self)
        X = validate_output_side(self, X, self.n_features_in_)
        out = np.multiply(X, self.scale_.astype(X.dtype, copy=False)) if self.with_std else X.copy()
        if self.with_mean:
            out += self.mean_.astype(X.dtype, copy=False)
        return out

    def get_state(self) -> dict[str, Any]:
        """Fitted parameters as plain scalars and non-object arrays (savable to .npz + JSON)."""
        check_is_fitted(self)
        state = state_header(self)
        state.update(
            {
                "with_mean": bool(self.with_mean),
                "with_std": bool(self.with_std),
                "n_samples_seen": int(self.n_samples_seen_),
                "mean": self.mean_.copy(),
                "var": self.var_.copy(),
                "scale": self.scale_.copy(),
            }
        )
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`get_state` output (arrays may be 0-d)."""
        name = cls.__name__
        n_features = check_state_header(cls, state)
        estimator = cls(
            with_mean=bool(state_scalar(state, "with_mean", name)),
            with_std=bool(state_scalar(state, "with_std", name)),
        )
        restore_header(estimator, state, n_features)
        estimator.mean_ = state_array(state, "mean", name, (n_features,))
        estimator.var_ = state_array(state, "var", name, (n_features,))
        estimator.scale_ = state_array(state, "scale", name, (n_features,))
        estimator.n_samples_seen_ = int(state_scalar(state, "n_samples_seen", name))
        if np.any(estimator.scale_ <= 0):
            raise ArtifactError(f"{name} state has a non-positive scale; the artifact is damaged.")
        # The running moments are rebuilt so that partial_fit can continue after a reload.
        estimator._moments = StreamingMoments.from_state(
            {
                "covariance": False,
                "n_samples": estimator.n_samples_seen_,
                "mean": estimator.mean_,
                "m2": estimator.var_ * estimator.n_samples_seen_,
            }
        )
        return estimator

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Statistics are float64 but the output keeps float32 input as float32.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
