"""The typed manifest of an artifact folder: ``manifest.json`` built and read through one class.

``fit-transform`` builds a :class:`Manifest` and writes ``to_dict()``; every reader gets one back
from :meth:`Manifest.from_dict`, which validates the whole document before anything trusts it:
required keys, the type of every key, the format version (an ``int`` equal to
:data:`FORMAT_VERSION`; ``true`` or ``"1"`` are refused), array records (shape of non-negative
ints, a plain numeric or fixed-width text dtype: never ``object``), label classes (unique, in the
sorted order fit-transform writes them, so a reversed list cannot silently flip every ``y``),
split sizes (row accounting: n_input = train + val + test + quarantined), the schema (a role and
a known dtype family for every column) and the transform steps. A failure is an
:class:`~dataaudit.exceptions.ArtifactError` naming the file and the key.

The JSON keys are a contract (DESIGN.md "Artifacts"): they are written exactly as before.

This module depends on nothing above ``dataaudit.io`` (no transform logic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dataaudit.exceptions import ArtifactError

__all__ = [
    "FORMAT_VERSION",
    "NPZ_FILES",
    "SPLIT_FILES",
    "SUITE_FILE",
    "TASKS",
    "ArrayRecord",
    "FileRecord",
    "LabelInfo",
    "Schema",
    "SplitInfo",
    "Step",
    "Manifest",
    "check_array_dtype",
]

FORMAT_VERSION = 1
SPLIT_FILES: tuple[str, str, str] = ("train.npz", "val.npz", "test.npz")
NPZ_FILES: tuple[str, ...] = ("transform.npz", *SPLIT_FILES)
SUITE_FILE = "expectations.json"
TASKS = ("classification", "regression")
X_DTYPES = ("float32", "float64")
STEP_NAMES = ("encode", "scale", "whiten", "pca")
COLUMN_ROLES = ("label", "numeric", "boolean", "categorical", "datetime", "text", "id", "constant",
                "unsupported", "user", "leakage")  # user: --drop; leakage: label_leakage flagged it
# Column dtypes the loaders produce (pandas / numpy / pyarrow-backed names); anything else in a
# schema (complex numbers, raw void records, "O" spelled oddly) is not something fit-transform wrote.
_SCHEMA_DTYPE = re.compile(
    r"^(u?int(8|16|32|64)|U?Int(8|16|32|64)|float(16|32|64)|Float(32|64)|bool|boolean|object|str|"
    r"string|category|datetime64\[(s|ms|us|ns)(, .+)?\]|timedelta64\[(s|ms|us|ns)\]|"
    r"[a-z0-9_\[\], :/+-]+\[pyarrow\])$"
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A recorded array larger than this is not something a dataaudit table of this era produces; it
# bounds what a reader may be asked to allocate from a manifest (1 TiB).
MAX_ARRAY_BYTES = 1 << 40


def _fail(where: str, message: str) -> ArtifactError:
    return ArtifactError(f"{where}: {message}; the manifest was edited or is not from this dataaudit. "
                         "Run fit-transform again.")


def _typed(value: Any, kinds: type | tuple[type, ...], where: str, key: str) -> Any:
    """``value`` when it is of ``kinds`` (bool never counts as a number), else ArtifactError."""
    kinds_t = kinds if isinstance(kinds, tuple) else (kinds,)
    ok = isinstance(value, kinds_t) and not (isinstance(value, bool) and bool not in kinds_t)
    if not ok:
        names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds_t)
        raise _fail(where, f"{key} must be {names}, got {type(value).__name__} {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _count(value: Any, where: str, key: str) -> int:
    number = _typed(value, int, where, key)
    if number < 0:
        raise _fail(where, f"{key} must be >= 0, got {number}")
    return int(number)


def _table(d: Any, where: str, key: str, required: tuple[str, ...]) -> dict[str, Any]:
    table = _typed(d, dict, where, key)
    missing = [k for k in required if k not in table]
    if missing:
        raise _fail(where, f"{key} lacks {missing}")
    return table


def _str_list(value: Any, where: str, key: str, *, unique: bool = False) -> list[str]:
    items = _typed(value, list, where, key)
    for i, item in enumerate(items):
        _typed(item, str, where, f"{key}[{i}]")
    if unique and len(set(items)) != len(items):
        raise _fail(where, f"{key} repeats names")
    return list(items)


def check_array_dtype(dtype: str, where: str) -> np.dtype[Any]:
    """The numpy dtype of a recorded array: numbers, booleans or fixed-width text, never objects.

    Raises
    ------
    ArtifactError
        ``object``, structured/void, bytes, complex or an unparsable name.
    """
    try:
        parsed = np.dtype(dtype)
    except (TypeError, ValueError) as exc:
        raise _fail(where, f"dtype {dtype!r} is not a numpy dtype") from exc
    if parsed.kind not in "biufU" or parsed.fields is not None or parsed.subdtype is not None:
        raise _fail(where, f"dtype {dtype!r} is not allowed (only numbers, booleans and text; never objects)")
    return parsed


@dataclass(frozen=True)
class ArrayRecord:
    """Shape and dtype of one array of an .npz (as its .npy header declares them)."""

    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    @classmethod
    def from_dict(cls, d: Any, where: str) -> ArrayRecord:
        table = _table(d, where, "array record", ("shape", "dtype"))
        shape = _typed(table["shape"], list, where, "shape")
        dims = tuple(_count(v, where, f"shape[{i}]") for i, v in enumerate(shape))
        dtype = _typed(table["dtype"], str, where, "dtype")
        parsed = check_array_dtype(dtype, where)
        record = cls(dims, dtype)
        size = 1
        for dim in dims:
            size *= dim
        if size * parsed.itemsize > MAX_ARRAY_BYTES:
            raise _fail(where, f"declares {size * parsed.itemsize} bytes, more than any dataaudit artifact")
        return record

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class FileRecord:
    """The sha256 of one artifact file and, for an .npz, the record of each of its arrays."""

    sha256: str
    arrays: dict[str, ArrayRecord] | None = None

    @classmethod
    def from_dict(cls, d: Any, where: str, *, npz: bool) -> FileRecord:
        table = _table(d, where, "file record", ("sha256", "arrays") if npz else ("sha256",))
        digest = _typed(table["sha256"], str, where, "sha256")
        if not _SHA256.match(digest):
            raise _fail(where, f"sha256 {_short(digest)} is not a hex digest")
        arrays = None
        if npz:
            members = _typed(table["arrays"], dict, where, "arrays")
            arrays = {str(k): ArrayRecord.from_dict(v, f"{where}: array {k!r}") for k, v in members.items()}
        return cls(digest, arrays)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sha256": self.sha256}
        if self.arrays is not None:
            out["arrays"] = {k: v.to_dict() for k, v in self.arrays.items()}
        return out


@dataclass(frozen=True)
class LabelInfo:
    """The label column, the task and (classification) the classes in code order."""

    name: str
    task: str
    classes: list[Any]

    @classmethod
    def from_dict(cls, d: Any, where: str) -> LabelInfo:
        table = _table(d, where, "label", ("name", "task", "classes"))
        name = _typed(table["name"], str, where, "label.name")
        task = _typed(table["task"], str, where, "label.task")
        if task not in TASKS:
            raise _fail(where, f"label.task {task!r} is not one of {list(TASKS)}")
        classes = _typed(table["classes"], list, where, "label.classes")
        for i, value in enumerate(classes):
            _typed(value, (str, int, float, bool), where, f"label.classes[{i}]")
        if task == "classification":
            if len(classes) < 1:
                raise _fail(where, "label.classes is empty for a classification label")
            if len({(type(c), c) for c in classes}) != len(classes):
                raise _fail(where, "label.classes repeats a class")
            # fit-transform codes classes in sorted order (pandas.factorize(sort=True)); any other
            # order would map every y to another class.
            try:
                in_order = all(a < b for a, b in zip(classes, classes[1:], strict=False))
            except TypeError:
                in_order = all(str(a) < str(b) for a, b in zip(classes, classes[1:], strict=False))
            if not in_order:
                raise _fail(where, "label.classes are not in the sorted order fit-transform writes")
        elif classes:
            raise _fail(where, "label.classes must be empty for a regression label")
        return cls(name, task, list(classes))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "classes": list(self.classes)}


@dataclass(frozen=True)
class Schema:
    """The training table's columns in order, with each column's dtype and role."""

    columns: list[str]
    dtypes: dict[str, str]
    roles: dict[str, str]

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Schema:
        table = _table(d, where, "schema", ("columns", "dtypes", "roles"))
        columns = _str_list(table["columns"], where, "schema.columns", unique=True)
        dtypes = _typed(table["dtypes"], dict, where, "schema.dtypes")
        roles = _typed(table["roles"], dict, where, "schema.roles")
        if set(dtypes) != set(columns) or set(roles) != set(columns):
            raise _fail(where, "schema.dtypes and schema.roles must name exactly schema.columns")
        for column in columns:
            dtype = _typed(dtypes[column], str, where, f"schema.dtypes[{column!r}]")
            if not _SCHEMA_DTYPE.match(dtype):
                raise _fail(where, f"schema.dtypes[{column!r}] = {dtype!r} is not a column type dataaudit writes")
            role = _typed(roles[column], str, where, f"schema.roles[{column!r}]")
            if role not in COLUMN_ROLES:
                raise _fail(where, f"schema.roles[{column!r}] = {role!r} is not one of {list(COLUMN_ROLES)}")
        return cls(columns, {c: dtypes[c] for c in columns}, {c: roles[c] for c in columns})

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "dtypes": dict(self.dtypes), "roles": dict(self.roles)}


@dataclass(frozen=True)
class SplitInfo:
    """How the rows were split: sizes per split, and the row accounting."""

    mode: str
    group: str | None
    fractions: list[float]
    files: dict[str, str]
    sizes: dict[str, int]
    n_input: int
    n_quarantined: int
    # Lines saying which evaluation split is too small to judge a model on (older manifests: none).
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Any, where: str) -> SplitInfo:
        table = _table(d, where, "split", ("mode", "group", "fractions", "files", "sizes", "n_input",
                                           "n_quarantined"))
        mode = _typed(table["mode"], str, where, "split.mode")
        group = _typed(table["group"], (str, type(None)), where, "split.group")
        if mode not in ("fractions", "files"):
            raise _fail(where, f"split.mode {mode!r} is not 'fractions' or 'files'")
        fractions = _typed(table["fractions"], list, where, "split.fractions")
        for i, f in enumerate(fractions):
            _typed(f, (int, float), where, f"split.fractions[{i}]")
        files = _typed(table["files"], dict, where, "split.files")
        for k, v in files.items():
            _typed(v, str, where, f"split.files[{k!r}]")
        sizes_d = _table(table["sizes"], where, "split.sizes", ("train", "val", "test"))
        if set(sizes_d) != {"train", "val", "test"}:
            raise _fail(where, "split.sizes must name exactly train, val and test")
        sizes = {k: _count(sizes_d[k], where, f"split.sizes.{k}") for k in ("train", "val", "test")}
        n_input = _count(table["n_input"], where, "split.n_input")
        n_quarantined = _count(table["n_quarantined"], where, "split.n_quarantined")
        if n_input != sum(sizes.values()) + n_quarantined:
            raise _fail(where, f"split.n_input {n_input} != train + val + test + quarantined "
                               f"({sum(sizes.values())} + {n_quarantined})")
        warnings = _str_list(table.get("warnings", []), where, "split.warnings")
        return cls(mode, group, [float(f) for f in fractions], dict(files), sizes, n_input, n_quarantined,
                   warnings)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "group": self.group, "fractions": list(self.fractions), "files": dict(self.files),
                "sizes": dict(self.sizes), "n_input": self.n_input, "n_quarantined": self.n_quarantined,
                "warnings": list(self.warnings)}


@dataclass(frozen=True)
class Step:
    """One fitted step of the chain (encode, scale, whiten or pca) and its parameters."""

    step: str
    estimator: str
    params: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # n_features_out, n_dropped_directions

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Step:
        table = _table(d, where, "step", ("step", "estimator", "params"))
        name = _typed(table["step"], str, where, "steps[].step")
        if name not in STEP_NAMES:
            raise _fail(where, f"step {name!r} is not one of {list(STEP_NAMES)}")
        estimator = _typed(table["estimator"], str, where, "steps[].estimator")
        params = _typed(table["params"], dict, where, "steps[].params")
        extra = {k: v for k, v in table.items() if k not in ("step", "estimator", "params")}
        for key, value in extra.items():
            _count(value, where, f"steps[{name}].{key}")
        return cls(name, estimator, dict(params), extra)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "estimator": self.estimator, "params": dict(self.params), **self.extra}


def _optional_dict(value: Any, where: str, key: str) -> dict[str, Any] | None:
    return None if value is None else dict(_typed(value, dict, where, key))


@dataclass
class Manifest:
    """``manifest.json`` of an artifact folder (see the module docstring and DESIGN.md)."""

    dataaudit_version: str
    input: dict[str, Any]
    schema: Schema
    label: LabelInfo
    seed: int
    config: dict[str, Any]
    cleaning: dict[str, Any]
    split: SplitInfo
    steps: list[Step]
    encoder: dict[str, Any]
    dropped_columns: dict[str, str]
    dtype: str
    feature_names: list[str]
    spectrum: dict[str, Any] | None
    verification: dict[str, Any]
    unknown_categories: dict[str, dict[str, int]]
    files: dict[str, FileRecord] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    KEYS = ("format_version", "dataaudit_version", "input", "schema", "label", "seed", "config", "cleaning",
            "split", "steps", "encoder", "dropped_columns", "dtype", "feature_names", "spectrum",
            "verification", "unknown_categories", "files")

    # ------------------------------------------------------------------------------- reading
    @classmethod
    def from_dict(cls, d: Any, source: str | Path = "manifest.json") -> Manifest:
        """Validate a parsed manifest.json and return it typed.

        Raises
        ------
        ArtifactError
            A missing key, a value of the wrong type or out of range, an unknown format version,
            an inconsistency between sections (sizes, classes, steps, feature names).
        """
        where = str(source)
        if not isinstance(d, dict):
            raise ArtifactError(f"{where}: not a dataaudit manifest (a JSON object is expected).")
        if "format_version" not in d:
            raise ArtifactError(f"{where}: has no format_version; not a dataaudit manifest.")
        version = d["format_version"]
        if type(version) is not int or version != FORMAT_VERSION:
            raise ArtifactError(
                f"{where}: format_version {version!r}; this dataaudit reads version {FORMAT_VERSION} "
                "(an integer). Run fit-transform again with this version."
            )
        missing = [k for k in cls.KEYS if k not in d]
        if missing:
            raise _fail(where, f"lacks {missing}")
        unknown = sorted(set(d) - set(cls.KEYS))
        if unknown:
            raise _fail(where, f"has unknown key(s) {unknown}")
        inp = _table(d["input"], where, "input", ("path", "sha256", "n_rows"))
        _typed(inp["path"], (str, type(None)), where, "input.path")
        _typed(inp["sha256"], str, where, "input.sha256")
        _count(inp["n_rows"], where, "input.n_rows")
        label = LabelInfo.from_dict(d["label"], where)
        schema = Schema.from_dict(d["schema"], where)
        if label.name not in schema.columns or schema.roles[label.name] != "label":
            raise _fail(where, f"label.name {label.name!r} is not the schema's label column")
        seed = _count(d["seed"], where, "seed")
        split = SplitInfo.from_dict(d["split"], where)
        steps_raw = _typed(d["steps"], list, where, "steps")
        steps = [Step.from_dict(s, where) for s in steps_raw]
        names = [s.step for s in steps]
        if not names or names[0] != "encode" or len(set(names)) != len(names) or (
                "pca" in names and "whiten" in names):
            raise _fail(where, f"steps {names} are not encode[, scale][, pca|whiten] in order")
        dtype = _typed(d["dtype"], str, where, "dtype")
        if dtype not in X_DTYPES:
            raise _fail(where, f"dtype {dtype!r} is not one of {list(X_DTYPES)}")
        feature_names = _str_list(d["feature_names"], where, "feature_names")
        if not feature_names:
            raise _fail(where, "feature_names is empty")
        dropped = _typed(d["dropped_columns"], dict, where, "dropped_columns")
        for k, v in dropped.items():
            _typed(v, str, where, f"dropped_columns[{k!r}]")
        unknown_categories = _typed(d["unknown_categories"], dict, where, "unknown_categories")
        for split_name, counts in unknown_categories.items():
            for column, n in _typed(counts, dict, where, f"unknown_categories[{split_name!r}]").items():
                _count(n, where, f"unknown_categories[{split_name!r}][{column!r}]")
        files_raw = _typed(d["files"], dict, where, "files")
        allowed_files = {*NPZ_FILES, SUITE_FILE}
        strange = sorted(set(files_raw) - allowed_files)
        if strange:
            raise _fail(where, f"files lists {strange}, which are not artifact files")
        absent = [name for name in NPZ_FILES if name not in files_raw]
        if absent:
            raise _fail(where, f"files lists no {absent}; the manifest is incomplete")
        files = {name: FileRecord.from_dict(entry, f"{where}: files[{name!r}]", npz=name != SUITE_FILE)
                 for name, entry in files_raw.items()}
        manifest = cls(
            dataaudit_version=_typed(d["dataaudit_version"], str, where, "dataaudit_version"),
            input=dict(inp),
            schema=schema,
            label=label,
            seed=seed,
            config=dict(_typed(d["config"], dict, where, "config")),
            cleaning=dict(_table(d["cleaning"], where, "cleaning", ("n_quarantined",))),
            split=split,
            steps=steps,
            encoder=dict(_typed(d["encoder"], dict, where, "encoder")),
            dropped_columns=dict(dropped),
            dtype=dtype,
            feature_names=feature_names,
            spectrum=_optional_dict(d["spectrum"], where, "spectrum"),
            verification=dict(_typed(d["verification"], dict, where, "verification")),
            unknown_categories={k: dict(v) for k, v in unknown_categories.items()},
            files=files,
            format_version=version,
        )
        manifest._check_consistency(where)
        return manifest

    def _check_consistency(self, where: str) -> None:
        """Cross-section checks: split records against sizes, dtype and feature count."""
        if _count(self.cleaning["n_quarantined"], where, "cleaning.n_quarantined") != self.split.n_quarantined:
            raise _fail(where, "cleaning.n_quarantined differs from split.n_quarantined")
        width = len(self.feature_names)
        y_dtype = "int64" if self.label.task == "classification" else "float64"
        for name in SPLIT_FILES:
            arrays = self.files[name].arrays or {}
            if set(arrays) != {"X", "y", "row"}:
                raise _fail(where, f"files[{name!r}] must hold arrays X, y and row, lists {sorted(arrays)}")
            n = self.split.sizes[name.removesuffix(".npz")]
            expected = {"X": ((n, width), self.dtype), "y": ((n,), y_dtype), "row": ((n,), "int64")}
            for key, (shape, dtype) in expected.items():
                record = arrays[key]
                if record.shape != shape or record.dtype != dtype:
                    raise _fail(where, f"files[{name!r}] array {key} is {record.dtype}{list(record.shape)}; "
                                       f"split sizes, feature names and dtype say {dtype}{list(shape)}")
        transform_arrays = self.files["transform.npz"].arrays or {}
        names = [s.step for s in self.steps]
        for prefix, step_names in (("scaler", ("scale",)), ("pca", ("pca", "whiten"))):
            has_state = any(k.startswith(prefix + "__") for k in transform_arrays)
            has_step = any(s in names for s in step_names)
            if has_state != has_step:
                raise _fail(where, f"steps {names} and the {prefix} state in transform.npz disagree")
        strange = [k for k in transform_arrays if not k.startswith(("scaler__", "pca__"))]
        if strange:
            raise _fail(where, f"files['transform.npz'] lists arrays {strange} that are no transform state")

    # ------------------------------------------------------------------------------- writing
    def to_dict(self) -> dict[str, Any]:
        """The JSON document (keys and their order exactly as the artifacts contract has them)."""
        return {
            "format_version": self.format_version,
            "dataaudit_version": self.dataaudit_version,
            "input": dict(self.input),
            "schema": self.schema.to_dict(),
            "label": self.label.to_dict(),
            "seed": self.seed,
            "config": dict(self.config),
            "cleaning": dict(self.cleaning),
            "split": self.split.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "encoder": dict(self.encoder),
            "dropped_columns": dict(self.dropped_columns),
            "dtype": self.dtype,
            "feature_names": list(self.feature_names),
            "spectrum": None if self.spectrum is None else dict(self.spectrum),
            "verification": dict(self.verification),
            "unknown_categories": {k: dict(v) for k, v in self.unknown_categories.items()},
            "files": {k: v.to_dict() for k, v in self.files.items()},
        }

    @property
    def task(self) -> str:
        return self.label.task

    @property
    def n_features(self) -> int:
        return len(self.feature_names)
