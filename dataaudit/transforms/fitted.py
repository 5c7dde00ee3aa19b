"""The fitted chain encode → scale → (whiten), and how it is rebuilt from a verified artifact folder.

``dataaudit.io`` reads and verifies the files (checksums, manifest, .npz members); this module
turns the verified states into estimators, so ``io`` depends on no transform logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import ArtifactError, InputError
from dataaudit.transforms.encoding import TabularEncoder

if TYPE_CHECKING:
    from dataaudit.io.artifacts import Artifacts

__all__ = ["BLOCK_ROWS", "FittedTransform", "fitted_transform"]

# Rows per block when applying the fitted transform: bounds temporary memory to a few MB.
BLOCK_ROWS = 65_536


@dataclass
class FittedTransform:
    """encode → scale → (whiten): the fitted chain that maps table rows to feature rows.

    ``apply`` works block by block and row by row (no step mixes rows), so a row gives the same
    output whatever other rows it is transformed with.
    """

    encoder: TabularEncoder
    scaler: Any = None
    pca: Any = None
    dtype: str = "float32"

    @property
    def n_features_out(self) -> int:
        if self.pca is not None:
            return int(self.pca.whitening_matrix_.shape[1])
        return int(self.encoder.n_features_out_)

    def feature_names(self) -> list[str]:
        names = self.encoder.get_feature_names_out()
        if self.pca is None:
            return names
        return [str(n) for n in self.pca.get_feature_names_out(np.asarray(names, dtype=object))]

    def apply_encoded(self, encoded: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Scale and whiten an encoded float64 matrix into ``out`` (allocated when None)."""
        if out is None:
            out = np.empty((encoded.shape[0], self.n_features_out), dtype=self.dtype)
        for start in range(0, encoded.shape[0], BLOCK_ROWS):
            block = encoded[start : start + BLOCK_ROWS]
            if self.scaler is not None:
                block = self.scaler.transform(block)
            if self.pca is not None:
                block = self.pca.transform(block)
            out[start : start + BLOCK_ROWS] = block
        return out

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode, scale and whiten a table (columns as at fit time)."""
        return self.apply_encoded(self.encoder.transform(frame))

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The scaler and PCA states as flat ``{prefix__key: array}`` for transform.npz."""
        arrays: dict[str, np.ndarray] = {}
        for prefix, estimator in (("scaler", self.scaler), ("pca", self.pca)):
            if estimator is None:
                continue
            for key, value in estimator.get_state().items():
                array = np.asarray(value)
                if array.dtype == object:
                    array = array.astype(str)
                arrays[f"{prefix}__{key}"] = array
        return arrays


def _estimator_from_state(kind: str, state: dict[str, Any], where: str) -> Any:
    from dataaudit.transforms import MeanCenterer, PCATransformer, Standardizer

    classes: dict[str, Any] = {"MeanCenterer": MeanCenterer, "Standardizer": Standardizer, "PCATransformer": PCATransformer}
    name = str(np.asarray(state.get("estimator", "")).item()) if "estimator" in state else ""
    if name not in classes:
        raise ArtifactError(f"{where}: unknown {kind} estimator {name!r}; the artifact is foreign.")
    try:
        return classes[name].from_state(state)
    except ArtifactError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ArtifactError(f"{where}: the {kind} state cannot be loaded ({exc}).") from exc


def fitted_transform(artifacts: Artifacts) -> FittedTransform:
    """Rebuild the fitted chain of a verified artifact folder (from ``io.load_artifacts``).

    Raises
    ------
    ArtifactError
        An encoder or estimator state that does not load, or a chain whose width disagrees with
        the manifest's feature names.
    """
    manifest = artifacts.manifest
    where = str(artifacts.path / "manifest.json")
    try:
        encoder = TabularEncoder.from_state(manifest.encoder)
    except (InputError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArtifactError(f"{where}: encoder state unusable ({exc}).") from exc
    state = artifacts.transform_state
    estimators: dict[str, Any] = {}
    for prefix in ("scaler", "pca"):
        sub = {k.split("__", 1)[1]: v for k, v in state.items() if k.startswith(prefix + "__")}
        if sub:
            estimators[prefix] = _estimator_from_state(prefix, sub, str(artifacts.path / "transform.npz"))
    transform = FittedTransform(encoder, estimators.get("scaler"), estimators.get("pca"), dtype=manifest.dtype)
    scaler, pca = transform.scaler, transform.pca
    if scaler is not None and scaler.n_features_in_ != encoder.n_features_out_:
        raise ArtifactError(f"{artifacts.path / 'transform.npz'}: scaler expects {scaler.n_features_in_} inputs, "
                            f"encoder gives {encoder.n_features_out_}.")
    if pca is not None and int(pca.n_features_in_) != encoder.n_features_out_:
        raise ArtifactError(f"{artifacts.path / 'transform.npz'}: PCA expects {pca.n_features_in_} inputs, "
                            f"encoder gives {encoder.n_features_out_}.")
    try:
        names = transform.feature_names()
    except (ValueError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"{where}: the fitted chain cannot name its features ({exc}).") from exc
    if names != manifest.feature_names:
        raise ArtifactError(
            f"{where}: lists {len(manifest.feature_names)} feature names but the transform outputs "
            f"{transform.n_features_out} ({names[:5]}...); the manifest and transform.npz disagree."
        )
    return transform
