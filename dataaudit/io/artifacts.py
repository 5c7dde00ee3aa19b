"""Transform artifacts: write them atomically, load them back only when they can be trusted.

An artifact folder (DESIGN.md contract)::

    manifest.json      format_version, dataaudit version, input sha256, schema, label, cleaning,
                       split sizes, seed, steps and parameters, feature names, file checksums
    transform.npz      fitted scaler / PCA states (``scaler__*``, ``pca__*``), allow_pickle=False
    train.npz          X (float32|float64, n×k), y (int64 class codes | float64), row (int64)
    val.npz, test.npz  the same
    quarantine.csv     row, reason, then the row's values
    expectations.json  Great Expectations suite of the training split

Nothing is pickled. :func:`load_artifacts` is the one reader every stage uses (``transform``,
``train``, ``run``). Before anything is trusted it checks the sha256 of every file it reads
(the .npz files and expectations.json against the manifest), validates the manifest (:mod:`dataaudit.io.manifest`),
and reads each .npz member only after its zip entry and .npy header declare exactly the shape and
dtype the manifest lists (so a member declaring gigabytes is refused unread). Anything else is an
ArtifactError naming the file.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from dataaudit.exceptions import ArtifactError, DataAuditError
from dataaudit.io.loading import file_sha256 as sha256_file
from dataaudit.io.manifest import FORMAT_VERSION, SPLIT_FILES, SUITE_FILE, FileRecord, Manifest

__all__ = [
    "FORMAT_VERSION",
    "SPLIT_FILES",
    "Artifacts",
    "NpzStreamWriter",
    "load_artifacts",
    "artifact_folder",
    "sha256_file",
    "load_npz",
    "npz_record",
]

# Rows per block when writing whole arrays: bounds temporary memory to a few MB.
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
    """Yield a staging folder for the artifacts; it replaces ``target`` only on success.

    The output-set rules of :func:`dataaudit.io.output_set.output_folder` apply: a failure anywhere
    leaves ``target`` as it was (absent, or the previous artifacts), and a folder holding files
    dataaudit did not write, or an input, is never replaced.
    """
    from dataaudit.io.output_set import output_folder

    with output_folder(target, "fit-transform") as tmp:
        yield tmp


@dataclass
class Artifacts:
    """A loaded, verified artifact folder (everything in it checked against its checksums).

    ``transform_state`` holds transform.npz's arrays; ``dataaudit.transforms.fitted.fitted_transform``
    turns them into the fitted chain.
    """

    path: Path
    manifest: Manifest
    transform_state: dict[str, np.ndarray]
    splits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    suite: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return list(self.manifest.feature_names)

    @property
    def label(self) -> dict[str, Any]:
        return self.manifest.label.to_dict()

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, y, row) of ``train``, ``val`` or ``test``."""
        data = self.splits[name]
        return data["X"], data["y"], data["row"]


def _verify_sha256(path: Path, expected: str, against: str) -> None:
    if not path.is_file():
        raise ArtifactError(f"{path}: missing; the artifact folder is incomplete. Run fit-transform again.")
    if sha256_file(path) != expected:
        raise ArtifactError(
            f"{path}: sha256 does not match {against}; the file was changed or replaced after "
            "fit-transform wrote it. Run fit-transform again."
        )


def _read_header(handle: Any) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Shape, Fortran order, dtype and header length of a .npy stream (reads the header only)."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise ValueError(f".npy format version {version}")
    return tuple(int(d) for d in shape), bool(fortran), dtype, int(handle.tell())


def load_npz(path: Path, record: FileRecord | dict[str, Any], *, read: bool = True) -> dict[str, np.ndarray]:
    """Read one artifact .npz after checking it against its manifest record, member by member.

    Order of checks: the file's sha256; the zip's member names (exactly the recorded arrays, no
    extra, none twice); each member's .npy header (shape, dtype and memory order as recorded,
    never an object dtype) and its declared size in the zip directory (header + shape × itemsize)
    — all before any array data is decompressed; then each array is read with
    ``allow_pickle=False`` (``read=False``: every check but this last step; returns ``{}``).

    Raises
    ------
    ArtifactError
        Missing file, changed bytes, members other than recorded, a declared size or header that
        differs from the record, a truncated or corrupt archive, anything that would need pickle.
    """
    if isinstance(record, dict):
        record = FileRecord.from_dict(record, f"{path} record", npz=True)
    _verify_sha256(path, record.sha256, "manifest.json")
    expected = record.arrays or {}
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            wanted = sorted(f"{k}.npy" for k in expected)
            if sorted(names) != wanted:
                raise ArtifactError(f"{path}: holds members {sorted(names)}, the manifest lists {wanted}; "
                                    "not the file fit-transform wrote.")
            plans = []
            for info in infos:
                key = info.filename.removesuffix(".npy")
                spec = expected[key]
                with archive.open(info) as handle:
                    shape, fortran, dtype, header_len = _read_header(handle)
                if dtype.hasobject or shape != spec.shape or str(dtype) != spec.dtype or fortran:
                    raise ArtifactError(
                        f"{path}: member {info.filename} declares {dtype}{list(shape)}"
                        f"{' (Fortran order)' if fortran else ''}; the manifest says {spec.dtype}{list(spec.shape)}."
                    )
                if info.file_size != header_len + spec.nbytes:
                    raise ArtifactError(
                        f"{path}: member {info.filename} declares {info.file_size} bytes but "
                        f"{spec.dtype}{list(spec.shape)} takes {header_len + spec.nbytes}; refused unread."
                    )
                plans.append((info, key))
            for info, key in plans if read else []:
                with archive.open(info) as handle:
                    arrays[key] = np.lib.format.read_array(handle, allow_pickle=False)
    except ArtifactError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error) as exc:
        # numpy's own message suggests loading unsafely; dataaudit never does, so it is not shown.
        raise ArtifactError(
            f"{path}: not a readable .npz without pickle ({type(exc).__name__}); dataaudit never "
            "loads pickled data. Run fit-transform again."
        ) from exc
    return arrays


def _check_split_arrays(path: Path, arrays: dict[str, np.ndarray], task: str) -> None:
    """Values the dtypes cannot promise: finite X, valid class codes, row numbers."""
    X, y, row = arrays["X"], arrays["y"], arrays["row"]
    if not np.all(np.isfinite(X)):
        raise ArtifactError(f"{path}: X holds NaN or infinite values; fit-transform never writes them.")
    if task == "regression" and not np.all(np.isfinite(y)):
        raise ArtifactError(f"{path}: y holds NaN or infinite targets.")
    if len(row) and row.min() < 0:
        raise ArtifactError(f"{path}: row holds negative row numbers.")


def _check_class_codes(path: Path, y: np.ndarray, n_classes: int) -> None:
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ArtifactError(f"{path}: y holds class codes outside 0..{n_classes - 1} (label.classes has "
                            f"{n_classes}); the manifest and the arrays disagree.")


def _check_suite(path: Path, suite: Any, manifest: Manifest) -> dict[str, Any]:
    """expectations.json is a suite over exactly the schema's columns, with a type for each one."""
    if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
        raise ArtifactError(f"{path}: not an expectation suite (a JSON object with an 'expectations' list).")
    kinds: dict[str, set[str]] = {}
    table_columns = None
    for i, exp in enumerate(suite["expectations"]):
        if not isinstance(exp, dict) or not isinstance(exp.get("type"), str) or not isinstance(exp.get("kwargs"), dict):
            raise ArtifactError(f"{path}: expectation {i} is not {{'type': ..., 'kwargs': {{...}}}}.")
        if exp["type"] == "expect_table_columns_to_match_ordered_list":
            table_columns = exp["kwargs"].get("column_list")
        column = exp["kwargs"].get("column")
        if isinstance(column, str):
            kinds.setdefault(column, set()).add(exp["type"])
    label = manifest.label
    for exp in suite["expectations"]:
        kwargs = exp["kwargs"]
        if exp["type"] == "expect_column_values_to_be_in_set" and kwargs.get("column") == label.name:
            seen = kwargs.get("value_set")
            if not isinstance(seen, list) or (label.task == "classification" and any(
                    not any(v == c or str(v) == str(c) for c in label.classes) for v in seen)):
                raise ArtifactError(f"{path}: the suite's label values {_short(seen)} are not all among "
                                    f"manifest.json's label.classes {_short(label.classes)}; the two files "
                                    "do not belong together.")
    if table_columns != manifest.schema.columns:
        raise ArtifactError(f"{path}: the suite does not expect the schema's columns "
                            f"{manifest.schema.columns}; validation would be incomplete.")
    untyped = [c for c in manifest.schema.columns if "expect_column_values_to_be_in_type_list" not in kinds.get(c, ())]
    if untyped:
        raise ArtifactError(f"{path}: the suite has no type expectation for column(s) {untyped}.")
    return suite


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: missing; the artifact folder is incomplete. Run fit-transform again.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({type(exc).__name__}: {exc}).") from exc


def read_manifest(path: str | Path) -> Manifest:
    """Parse ``path/manifest.json`` and validate it against the typed manifest."""
    folder = Path(path)
    if folder.name == "manifest.json":
        folder = folder.parent
    if not folder.is_dir():
        raise ArtifactError(
            f"Artifacts folder {folder} does not exist; create it with "
            f"`dataaudit fit-transform DATA --label COL --out {folder}`."
        )
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ArtifactError(f"{folder}: no manifest.json; not an artifact folder written by `dataaudit fit-transform`.")
    manifest = Manifest.from_dict(_read_json(manifest_path), manifest_path)
    from dataaudit.io.record import verify_recorded

    # The manifest checksums every other file; its own digest is kept in the folder's record.
    verify_recorded(folder, ["manifest.json"])
    return manifest


def load_artifacts(path: str | Path, *, load_splits: bool = True) -> Artifacts:
    """Load and verify an artifact folder written by ``fit_transform``: the one artifact reader.

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
        Missing folder or file, a checksum that does not match, a manifest that does not validate
        (another format version, wrong types, missing keys, inconsistent sections), a foreign,
        oversized or pickled .npz member, an expectation suite that is not the one written.

    Examples
    --------
    >>> art = load_artifacts("artifacts/")        # doctest: +SKIP
    >>> X, y, row = art.split("train")            # doctest: +SKIP
    """
    folder = Path(path)
    if folder.name == "manifest.json":
        folder = folder.parent
    manifest = read_manifest(folder)
    state = load_npz(folder / "transform.npz", manifest.files["transform.npz"])
    suite_record = manifest.files.get(SUITE_FILE)
    if suite_record is None:
        raise ArtifactError(f"{folder / 'manifest.json'}: lists no checksum of {SUITE_FILE}; run fit-transform again.")
    _verify_sha256(folder / SUITE_FILE, suite_record.sha256, "manifest.json")
    suite = _check_suite(folder / SUITE_FILE, _read_json(folder / SUITE_FILE), manifest)
    splits: dict[str, dict[str, np.ndarray]] = {}
    for name in SPLIT_FILES:
        # Without load_splits the split files are still checked (checksum, members, headers):
        # a folder is trusted whole or not at all.
        arrays = load_npz(folder / name, manifest.files[name], read=load_splits)
        if load_splits:
            _check_split_arrays(folder / name, arrays, manifest.task)
            if manifest.task == "classification":
                _check_class_codes(folder / name, arrays["y"], len(manifest.label.classes))
            splits[name.removesuffix(".npz")] = arrays
    return Artifacts(path=folder, manifest=manifest, transform_state=state, splits=splits, suite=suite)
