"""Fitting pieces shared by the in-memory and the chunked fit, and the artifact folder they write.

The scaler and the PCA/ZCA are fitted from streamed moments of the encoded training rows
(``fit_scaler_and_pca``); ``verification_stats`` measures the result (training covariance against
the identity, validation statistics); ``build_manifest`` and ``write_artifacts`` write the
artifact folder atomically; ``summarize`` turns the manifest into a ``TransformSummary``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import InputError
from dataaudit.io.manifest import LabelInfo, Manifest, Schema, SplitInfo, Step
from dataaudit.transforms.config import TransformConfig, TransformSummary

__all__ = [
    "make_scaler",
    "make_pca",
    "fit_scaler_and_pca",
    "train_moments",
    "verification_stats",
    "val_statistics",
    "schema_of",
    "build_manifest",
    "write_artifacts",
    "write_split_arrays",
    "summarize",
]


def make_scaler(config: TransformConfig) -> Any:
    from dataaudit.transforms import MeanCenterer, Standardizer

    if config.scale == "standard":
        return Standardizer()
    if config.scale == "center":
        return MeanCenterer()
    return None


def make_pca(config: TransformConfig) -> Any:
    from dataaudit.transforms import PCATransformer

    if config.whiten == "none" and config.pca_components is None:
        return None
    whiten = None if config.whiten == "none" else config.whiten
    return PCATransformer(n_components=config.pca_components, whiten=whiten, epsilon=config.epsilon)


def fit_scaler_and_pca(transform_: Any, moments: Any) -> None:
    """Fit the scaler and the PCA from the streamed moments of the encoded training rows.

    One pass over the data serves both: the PCA's covariance of the scaled rows is the encoded
    covariance with each column divided by its scale (``StreamingMoments.affine``).
    """
    if transform_.scaler is not None:
        transform_.scaler.fit_moments(moments)
    if transform_.pca is not None:
        scaler = transform_.scaler
        scaled = moments if scaler is None else moments.affine(scaler.mean_, getattr(scaler, "scale_", 1.0))
        try:
            transform_.pca.fit_moments(scaled)
        except InputError as exc:
            raise InputError("Every training feature is constant: there is no direction to whiten.") from exc


def train_moments(transform_: Any, blocks: Any) -> Any:
    """Streamed moments of the encoded training rows (full covariance only when a PCA needs it)."""
    from dataaudit.transforms import StreamingMoments

    moments = StreamingMoments(covariance=transform_.pca is not None)
    for block in blocks:
        moments.update(block)
    return moments


def verification_stats(transform: Any, moments_train: Any, val_moments: Any, config: TransformConfig) -> dict[str, Any]:
    """Covariance of the training output vs identity, and validation statistics after transform.

    ``moments_train`` and ``val_moments`` are ``StreamingMoments`` of the transformed training and
    validation rows (either may be None or empty).
    """
    out: dict[str, Any] = {}
    if moments_train is not None and moments_train.n_samples > 1 and moments_train.mean is not None:
        cov = moments_train.covariance(ddof=0)
        std = np.sqrt(np.diag(cov))
        out["train_mean_max_abs"] = float(np.max(np.abs(moments_train.mean)))
        if config.whiten != "none" and transform.pca is not None:
            # ZCA output lives in the input space: on the kept directions it is white, on the
            # dropped (degenerate) ones it is 0, so compare with the projector onto the kept ones.
            components = transform.pca.components_
            target = components.T @ components if config.whiten == "zca" else np.eye(cov.shape[0])
            out["whitened_cov_max_abs_deviation"] = float(np.max(np.abs(cov - target)))
            out["n_dropped_directions"] = int(transform.pca.n_dropped_directions_)
        elif config.scale == "standard" and transform.pca is None:
            nonconstant = std > 0
            out["train_std_max_abs_deviation"] = float(np.max(np.abs(std[nonconstant] - 1))) if nonconstant.any() else 0.0
    if val_moments is not None and val_moments.n_samples and val_moments.mean is not None:
        out["val"] = val_statistics(val_moments)
    return out


def val_statistics(moments: Any) -> dict[str, Any]:
    """Mean and spread of the transformed validation rows (should be near 0 and 1 after scaling)."""
    mean, std = moments.mean, np.sqrt(moments.variance(ddof=0))
    return {
        "n_rows": int(moments.n_samples),
        "mean_abs_mean": float(np.mean(np.abs(mean))),
        "max_abs_mean": float(np.max(np.abs(mean))),
        "mean_std": float(np.mean(std)),
        "min_std": float(np.min(std)),
        "max_std": float(np.max(std)),
        "per_feature_mean": [float(v) for v in mean[:200]],
        "per_feature_std": [float(v) for v in std[:200]],
    }


def _spectrum(pca: Any) -> dict[str, Any] | None:
    if pca is None:
        return None
    return {
        "eigenvalues": [float(v) for v in pca.eigenvalues_],
        "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "n_components": int(pca.n_components_),
        "rank": int(pca.rank_),
        "n_dropped_directions": int(pca.n_dropped_directions_),
        "eigenvalue_threshold": float(pca.eigenvalue_threshold_),
    }


def _steps(transform: Any, config: TransformConfig) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{
        "step": "encode", "estimator": "TabularEncoder",
        "params": {"max_categories": config.max_categories, "indicator_min": 0.01, "indicator_max": 0.99},
        "n_features_out": int(transform.encoder.n_features_out_),
    }]
    if transform.scaler is not None:
        steps.append({"step": "scale", "estimator": type(transform.scaler).__name__,
                      "params": {"mode": config.scale}})
    if transform.pca is not None:
        steps.append({"step": "whiten" if config.whiten != "none" else "pca",
                      "estimator": "PCATransformer",
                      "params": {"whiten": config.whiten, "n_components": config.pca_components,
                                 "epsilon": config.epsilon},
                      "n_features_out": int(transform.n_features_out),
                      "n_dropped_directions": int(transform.pca.n_dropped_directions_)})
    return steps


def schema_of(frame: pd.DataFrame, roles: dict[str, str]) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(frame[c].dtype) for c in frame.columns},
        "roles": dict(roles),
    }


def build_manifest(*, dataset_info: dict[str, Any], schema: dict[str, Any], label: str, task: str,
                   classes: list[Any], config: TransformConfig, cleaning: dict[str, Any], sizes: dict[str, int],
                   transform_: Any, unknown: dict[str, dict[str, int]], eval_files: dict[str, str],
                   n_input: int | None = None, split_warnings: list[str] | None = None) -> Manifest:
    """manifest.json's content (typed); ``verification`` and ``files`` are filled in by ``write_artifacts``."""
    from dataaudit import __version__

    return Manifest(
        dataaudit_version=__version__,
        input=dataset_info,
        schema=Schema(**schema),
        label=LabelInfo(label, task, classes),
        seed=config.seed,
        config=config.to_dict(),
        cleaning=cleaning,
        split=SplitInfo(
            mode="files" if eval_files else "fractions",
            group=config.group,
            fractions=list(config.split),
            files=eval_files,
            sizes=sizes,
            n_input=int(dataset_info["n_rows"] if n_input is None else n_input),
            n_quarantined=cleaning["n_quarantined"],
            warnings=list(split_warnings or []),
        ),
        steps=[Step(s.pop("step"), s.pop("estimator"), s.pop("params"), s) for s in _steps(transform_, config)],
        encoder=transform_.encoder.get_state(),
        dropped_columns=transform_.encoder.dropped_with_reasons(),
        dtype=config.dtype,
        feature_names=transform_.feature_names(),
        spectrum=_spectrum(transform_.pca),
        verification={},
        unknown_categories=unknown,
    )


def write_artifacts(out: Path, manifest: Manifest, transform_: Any, quarantine: pd.DataFrame,
                    suite: dict[str, Any], write_splits: Callable[[Path], dict[str, Any]]) -> None:
    """Write every artifact into a temporary folder and move it to ``out`` in one rename.

    ``write_splits(folder)`` writes train/val/test.npz into ``folder`` and returns the
    verification statistics, which the manifest records (the chunked fit measures them while
    it writes). The manifest lists the sha256 of every other artifact file (the .npz files with
    their arrays, expectations.json) and is read back through ``Manifest.from_dict`` before it
    is written, so a manifest that would not load is never written.
    """
    from dataaudit.io.artifacts import artifact_folder, npz_record, sha256_file
    from dataaudit.io.manifest import NPZ_FILES, SUITE_FILE, FileRecord
    from dataaudit.io.outputs import atomic_path, atomic_savez, atomic_write_json, write_rows_csv

    with artifact_folder(out) as tmp:
        atomic_savez(tmp / "transform.npz", **transform_.state_arrays())
        manifest.verification = write_splits(tmp)
        with atomic_path(tmp / "quarantine.csv") as path:
            write_rows_csv(quarantine, path)
        atomic_write_json(tmp / SUITE_FILE, suite)
        manifest.files = {name: FileRecord.from_dict(npz_record(tmp / name), name, npz=True) for name in NPZ_FILES}
        manifest.files[SUITE_FILE] = FileRecord(sha256_file(tmp / SUITE_FILE))
        document = manifest.to_dict()
        Manifest.from_dict(document, tmp / "manifest.json")
        atomic_write_json(tmp / "manifest.json", document)


def write_split_arrays(folder: Path, arrays: dict[str, dict[str, np.ndarray]]) -> None:
    """Write in-memory split arrays (``{"train": {"X": ..., "y": ..., "row": ...}, ...}``) as .npz files."""
    from dataaudit.io.artifacts import NpzStreamWriter
    from dataaudit.io.outputs import atomic_path

    for name, parts in arrays.items():
        specs = {k: (v.shape, v.dtype) for k, v in parts.items()}
        with atomic_path(folder / f"{name}.npz") as path:
            NpzStreamWriter(path, specs).save_all(parts)


def summarize(out: Path, typed: Manifest, started: float) -> TransformSummary:
    manifest = typed.to_dict()
    cleaning = manifest["cleaning"]
    return TransformSummary(
        out=out,
        n_input=manifest["split"]["n_input"],
        sizes=dict(manifest["split"]["sizes"]),
        n_quarantined=cleaning["n_quarantined"],
        quarantine_by_reason=dict(cleaning["by_reason"]),
        n_relabelled=len(cleaning["relabelled"]),
        feature_names=list(manifest["feature_names"]),
        verification=manifest["verification"],
        manifest=manifest,
        seconds=time.perf_counter() - started,
    )
