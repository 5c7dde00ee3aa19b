"""Transform artifacts: write them atomically, load them back only when they can be trusted.

An artifact folder (DESIGN.md contract)::

    manifest.json      format_version, dataaudit version, input sha256, schema, label, cleaning,
                       split sizes, seed, steps and parameters, feature names, file checksums
    transform.npz      fitted scaler / PCA states (``scaler__*``, ``pca__*``), allow_pickle=False
    train.npz          X (float32|float64, n×k), y (int64 class codes | float64), row (int64)
    val.npz, test.npz  the same
    quarantine.csv     row, reason, then the row's values
    expectations.json  Great Expectations suite of the training split

Nothing is pickled. :func:`load_artifacts` checks the format version, the sha256 of every .npz
against the manifest, array names, shapes and dtypes, and raises ArtifactError otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from dataaudit.exceptions import ArtifactError, DataAuditError, InputError
from dataaudit.io.loading import file_sha256 as sha256_file
from dataaudit.transforms.encoding import TabularEncoder

__all__ = [
    "FORMAT_VERSION",
    "SPLIT_FILES",
    "Artifacts",
    "FittedTransform",
    "NpzStreamWriter",
    "load_artifacts",
    "artifact_folder",
    "sha256_file",
    "load_npz",
    "npz_record",
]

FORMAT_VERSION = 1
SPLIT_FILES: tuple[str, str, str] = ("train.npz", "val.npz", "test.npz")
_SPLIT_ARRAYS = ("X", "y", "row")
# Rows per block when applying the fitted transform: bounds temporary memory to a few MB.
BLOCK_ROWS = 65_536


class NpzStreamWriter:
    """Write an uncompressed .npz one row block at a time (for outputs larger than memory).

    Each array's shape and dtype are declared up front; ``write(name, block)`` appends rows.
    The file is a normal ``np.savez`` archive: ``np.load(path, allow_pickle=False)`` reads it.
    """

    def __init__(self, path: Path, specs: dict[str, tuple[tuple[int, ...], np.dtype[Any]]]) -> None:
        self.path = Path(path)
        self.specs = {k: (tuple(s), np.dtype(d)) for k, (s, d) in specs.items()}
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self._open: BinaryIO | None = None
        self._name: str | None = None
        self._written = 0

    def begin(self, name: str) -> None:
        """Start array ``name`` (finishing the previous one)."""
        self._finish()
        shape, dtype = self.specs[name]
        handle = self._zip.open(f"{name}.npy", "w", force_zip64=True)
        self._open = handle  # type: ignore[assignment]
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_2_0(handle, header)
        self._name, self._written = name, 0

    def write(self, block: np.ndarray) -> None:
        """Append rows to the current array."""
        assert self._open is not None and self._name is not None
        shape, dtype = self.specs[self._name]
        block = np.ascontiguousarray(block, dtype=dtype)
        self._open.write(block.tobytes())
        self._written += block.shape[0] if block.ndim else 1

    def _finish(self) -> None:
        if self._open is not None and self._name is not None:
            expected = self.specs[self._name][0][0] if self.specs[self._name][0] else 1
            self._open.close()
            if self._written != expected:
                raise DataAuditError(
                    f"{self.path}: wrote {self._written} rows of {self._name!r} but declared {expected}."
                )
        self._open, self._name = None, None

    def close(self) -> None:
        self._finish()
        self._zip.close()

    def save_all(self, arrays: dict[str, np.ndarray]) -> None:
        """Write whole in-memory arrays (one ``begin`` + ``write`` each) and close."""
        for name, array in arrays.items():
            self.begin(name)
            if array.shape and array.shape[0]:
                for start in range(0, array.shape[0], BLOCK_ROWS):
                    self.write(array[start : start + BLOCK_ROWS])
        self.close()


def npz_record(path: Path) -> dict[str, Any]:
    """The manifest record of one .npz: sha256 plus every array's shape and dtype.

    Shapes and dtypes come from each member's .npy header, so recording a multi-GB split file
    does not load it into memory.
    """
    arrays: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(handle)
            arrays[member.removesuffix(".npy")] = {"shape": list(shape), "dtype": str(dtype)}
    return {"sha256": sha256_file(path), "arrays": arrays}


@contextmanager
def artifact_folder(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``target``; it replaces ``target`` only on success.

    A failure anywhere leaves ``target`` as it was (absent, or the previous artifacts): no
    half-written artifacts.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder; pass a folder for --out.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, backup)
        os.replace(tmp, target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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


def _estimator_from_state(kind: str, state: dict[str, Any]) -> Any:
    from dataaudit.transforms import MeanCenterer, PCATransformer, Standardizer

    classes: dict[str, Any] = {"MeanCenterer": MeanCenterer, "Standardizer": Standardizer, "PCATransformer": PCATransformer}
    name = str(np.asarray(state.get("estimator", "")).item()) if "estimator" in state else ""
    if name not in classes:
        raise ArtifactError(f"transform.npz: unknown {kind} estimator {name!r}; the artifact is foreign.")
    try:
        return classes[name].from_state(state)
    except ArtifactError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"transform.npz: the {kind} state cannot be loaded ({exc}).") from None


@dataclass
class Artifacts:
    """A loaded, verified artifact folder."""

    path: Path
    manifest: dict[str, Any]
    transform: FittedTransform
    splits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    suite: dict[str, Any] | None = None

    @property
    def feature_names(self) -> list[str]:
        return list(self.manifest["feature_names"])

    @property
    def label(self) -> dict[str, Any]:
        return dict(self.manifest.get("label") or {})

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, y, row) of ``train``, ``val`` or ``test``."""
        data = self.splits[name]
        return data["X"], data["y"], data["row"]


def load_npz(path: Path, record: dict[str, Any]) -> dict[str, np.ndarray]:
    """Load one artifact .npz after checking it against its manifest record (sha256, shapes, dtypes).

    Raises
    ------
    ArtifactError
        Missing file, changed bytes, arrays other than recorded, or anything needing pickle.
    """
    if not path.exists():
        raise ArtifactError(f"{path}: missing; the artifact folder is incomplete. Run fit-transform again.")
    if sha256_file(path) != record.get("sha256"):
        raise ArtifactError(
            f"{path}: sha256 does not match manifest.json; the file was changed or replaced after "
            "fit-transform wrote it. Run fit-transform again."
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        # numpy's own message suggests loading unsafely; dataaudit never does, so it is not shown.
        raise ArtifactError(
            f"{path}: not a readable .npz without pickle ({type(exc).__name__}); dataaudit never "
            "loads pickled data. Run fit-transform again."
        ) from None
    expected = record.get("arrays") or {}
    if set(arrays) != set(expected):
        raise ArtifactError(f"{path}: holds arrays {sorted(arrays)}, manifest lists {sorted(expected)}.")
    for key, spec in expected.items():
        if list(arrays[key].shape) != list(spec["shape"]) or str(arrays[key].dtype) != spec["dtype"]:
            raise ArtifactError(
                f"{path}: array {key!r} is {arrays[key].dtype}{list(arrays[key].shape)}, manifest says "
                f"{spec['dtype']}{spec['shape']}."
            )
    return arrays


def _check_split_arrays(path: Path, arrays: dict[str, np.ndarray], n_features: int, task: str | None) -> None:
    if set(arrays) != set(_SPLIT_ARRAYS):
        raise ArtifactError(f"{path}: expected arrays X, y, row; found {sorted(arrays)}. Not a dataaudit split file.")
    X, y, row = arrays["X"], arrays["y"], arrays["row"]
    if X.ndim != 2 or X.dtype not in (np.float32, np.float64) or X.shape[1] != n_features:
        raise ArtifactError(f"{path}: X is {X.dtype}{X.shape}; expected float32/float64 with {n_features} columns.")
    want_y = np.int64 if task == "classification" else np.float64
    if y.shape != (X.shape[0],) or y.dtype != want_y:
        raise ArtifactError(f"{path}: y is {y.dtype}{y.shape}; expected {np.dtype(want_y)} of length {X.shape[0]}.")
    if row.shape != (X.shape[0],) or row.dtype != np.int64:
        raise ArtifactError(f"{path}: row is {row.dtype}{row.shape}; expected int64 of length {X.shape[0]}.")


def load_artifacts(path: str | Path, *, load_splits: bool = True) -> Artifacts:
    """Load and verify an artifact folder written by ``fit_transform``.

    Parameters
    ----------
    path : str or Path
        The ``--out`` folder of fit-transform (or its manifest.json).
    load_splits : bool
        Also load train/val/test arrays (False: only the transform, for ``transform``).

    Returns
    -------
    Artifacts

    Raises
    ------
    ArtifactError
        Missing folder or manifest, another format version, a checksum, shape or dtype
        mismatch, a foreign or pickled .npz.

    Examples
    --------
    >>> art = load_artifacts("artifacts/")        # doctest: +SKIP
    >>> X, y, row = art.split("train")            # doctest: +SKIP
    """
    path = Path(path)
    if path.name == "manifest.json":
        path = path.parent
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise ArtifactError(f"{path}: no manifest.json; not an artifact folder written by `dataaudit fit-transform`.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{manifest_path}: not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise ArtifactError(f"{manifest_path}: has no format_version; not a dataaudit manifest.")
    if manifest["format_version"] != FORMAT_VERSION:
        raise ArtifactError(
            f"{manifest_path}: format_version {manifest['format_version']!r}; this dataaudit reads "
            f"version {FORMAT_VERSION}. Run fit-transform again with this version."
        )
    files = manifest.get("files") or {}
    for required in ("transform.npz", *SPLIT_FILES):
        if required not in files:
            raise ArtifactError(f"{manifest_path}: lists no {required}; the manifest is incomplete.")
    try:
        encoder = TabularEncoder.from_state(manifest["encoder"])
    except (KeyError, InputError) as exc:
        raise ArtifactError(f"{manifest_path}: encoder state unusable ({exc}).") from None
    state = load_npz(path / "transform.npz", files["transform.npz"])
    scaler = pca = None
    for prefix in ("scaler", "pca"):
        sub = {k.split("__", 1)[1]: v for k, v in state.items() if k.startswith(prefix + "__")}
        if sub:
            estimator = _estimator_from_state(prefix, sub)
            if prefix == "scaler":
                scaler = estimator
            else:
                pca = estimator
    transform = FittedTransform(encoder, scaler, pca, dtype=manifest.get("dtype", "float32"))
    feature_names = manifest.get("feature_names")
    if feature_names is None or len(feature_names) != transform.n_features_out:
        raise ArtifactError(
            f"{manifest_path}: lists {len(feature_names or [])} feature names but the transform "
            f"outputs {transform.n_features_out}."
        )
    if scaler is not None and scaler.n_features_in_ != encoder.n_features_out_:
        raise ArtifactError(f"{path}/transform.npz: scaler expects {scaler.n_features_in_} inputs, encoder gives {encoder.n_features_out_}.")
    splits: dict[str, dict[str, np.ndarray]] = {}
    if load_splits:
        task = (manifest.get("label") or {}).get("task")
        for name in SPLIT_FILES:
            arrays = load_npz(path / name, files[name])
            _check_split_arrays(path / name, arrays, transform.n_features_out, task)
            splits[name.removesuffix(".npz")] = arrays
    suite = None
    suite_path = path / "expectations.json"
    if suite_path.exists():
        try:
            suite = json.loads(suite_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{suite_path}: not valid JSON ({exc}).") from None
    return Artifacts(path=path, manifest=manifest, transform=transform, splits=splits, suite=suite)
