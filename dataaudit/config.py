"""Pipeline files: one TOML file declares dataset, checks, cleaning, split, transforms and trainer.

Example (``pipelines/digits.toml``)::

    name = "digits"

    [dataset]
    builtin = "digits"      # or: path = "data/train.csv" (relative to this file), test = "data/test.csv"
    label = "label"
    image_shape = "8x8"
    # group = "patient_id"  # entity column: group folds, each group in one split
    # task = "regression"   # override the rule that decides classification vs regression

    [inspect]
    seed = 0
    [inspect.checks.near_duplicates]   # options of one check, by name
    relative_threshold = 0.2

    [transform]                         # TransformConfig fields
    whiten = "none"

    [train]                             # TrainConfig fields
    hidden = [256, 256]
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataaudit.exceptions import ConfigError

__all__ = ["PipelineConfig", "load_pipeline", "check_field_types"]

_TOP_KEYS = {"name", "description", "dataset", "inspect", "transform", "train", "output"}
_TABLES = ("dataset", "inspect", "transform", "train", "output")
_TRAIN_RUN_KEYS = {"search", "rounds", "ensemble", "workers", "scheduler"}
_FAIL_ON = ("none", "warning", "error")


def _kind(value: Any) -> str:
    """The TOML name of a value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__  # TOML dates and times


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether a TOML value may be given for a dataclass field of this annotation.

    bool never counts as a number; an int is a float; a tuple field also takes its documented
    comma-separated string form ("0.8,0.1,0.1", "256,256"); numbers must be finite.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None  # TOML has no null; a dict built in Python may say None
    if annotation is Any:
        return True
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin is tuple:
        if isinstance(value, str):
            return True
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return isinstance(value, list) and all(any(_accepts(a, v) for a in args) for v in value)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    return False


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is tuple:
        inner = {_describe(a) for a in typing.get_args(annotation) if a is not Ellipsis}
        return f"an array of {'/'.join(sorted(inner))} (or a comma-separated string)"
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    return names.get(annotation, str(annotation))


def check_field_types(cls: type, values: dict[str, Any], where: str) -> None:
    """Refuse unknown keys and values whose type does not fit ``cls``'s dataclass fields.

    Parameters
    ----------
    cls : dataclass type
        TrainConfig, TransformConfig, ... (their annotations are the schema).
    values : dict
        The table as read from TOML (or a dict given to ``from_dict``).
    where : str
        Prefix of the error message, e.g. ``"pipelines/x.toml: [train]"``.

    Raises
    ------
    ConfigError
        Naming the key, what it got and what it needs.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.name != "extra"}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed are {sorted(fields)}.")
    for key, value in values.items():
        if not _accepts(hints[key], value):
            raise ConfigError(f"{where}: {key} = {value!r} ({_kind(value)}) is invalid; {key} must be "
                              f"{_describe(hints[key])}.")


@dataclass(frozen=True)
class DatasetTable:
    """``[dataset]``: where the table comes from and how to read it."""

    path: str | None = None  # the training table, relative to the pipeline file
    builtin: str | None = None  # or a bundled dataset with planted defects (dataaudit.datasets)
    test: str | None = None  # a held-out test table
    label: str | None = None  # the label column
    id: str | None = None  # a row-identifier column
    group: str | None = None  # entity column (patient, subject): group folds and group-aware split
    task: str | None = None  # classification | regression; None: decided from the label
    image_shape: str | tuple[int, ...] | None = None  # "8x8" or [8, 8]: rows are images
    encoding: str | None = None  # text encoding of a CSV
    seed: int | None = None  # seeds everything (default: [inspect] seed, else 0)


@dataclass(frozen=True)
class InspectTable:
    """``[inspect]``: which checks, their options, and the severity that stops the pipeline."""

    seed: int | None = None
    checks: dict[str, Any] = field(default_factory=dict)  # [inspect.checks.NAME] option tables
    only: tuple[str, ...] | None = None  # run only these checks
    fail_on: str | None = None  # warning | error | none: stop after inspect (exit 1) at this severity
    strict: bool = False  # a crashing check stops the run instead of being recorded as errored
    workers: int | str = "auto"  # 1: every check in the run's process; auto: label models in a background worker


@dataclass(frozen=True)
class TrainRunTable:
    """The ``[train]`` keys that drive search and ensembles rather than one training run."""

    search: int = 0  # random-search trials before training (0: none)
    rounds: int = 2  # coarse-to-fine search rounds
    ensemble: int = 0  # compare ensembles of this many members (0: none)
    workers: int | None = None  # worker processes for search / ensembles
    scheduler: str | None = None  # Dask scheduler address, or "local"


@dataclass(frozen=True)
class OutputTable:
    """``[output]``: where the run writes."""

    dir: str | None = None


def _unknown(section: str, got: dict[str, Any], allowed: set[str], source: str) -> None:
    extra = sorted(set(got) - allowed)
    if extra:
        raise ConfigError(f"{source}: unknown key(s) {extra} in [{section}]; allowed are {sorted(allowed)}.")


@dataclass
class PipelineConfig:
    """A parsed pipeline file. Stage configs stay dicts until their stage builds its own config."""

    name: str
    source: Path | None = None
    description: str = ""
    data: Path | None = None  # training table; None when ``builtin`` is set
    builtin: str | None = None  # a bundled dataset with planted defects (see dataaudit.datasets)
    test: Path | None = None
    label: str | None = None
    id_column: str | None = None
    group: str | None = None  # entity column (patient, subject): group folds and group-aware split
    task: str | None = None  # classification | regression; None: decided from the label
    image_shape: tuple[int, int] | None = None
    encoding: str | None = None
    seed: int = 0
    check_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    only_checks: list[str] | None = None
    fail_on: str | None = None
    strict: bool = False
    inspect_workers: int | None = None  # [inspect] workers; None: automatic (dataaudit.background)
    transform: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    search_trials: int = 0
    search_rounds: int = 2
    ensemble: int = 0
    workers: int | None = None
    scheduler: str | None = None
    output: Path | None = None

    @property
    def output_dir(self) -> Path:
        return self.output or Path("reports") / self.name


def _parse_shape(value: Any, source: str) -> tuple[int, int] | None:
    if value in (None, ""):
        return None
    if isinstance(value, list | tuple):
        parts = list(value)
    else:
        parts = str(value).lower().split("x")
    try:
        dims = [int(p) if not isinstance(p, bool) and str(p).strip().isdigit() else -1 for p in parts]
    except (TypeError, ValueError):
        dims = [-1]
    if len(dims) != 2 or min(dims) < 1:
        raise ConfigError(f"{source}: [dataset] image_shape must be two positive sizes like \"8x8\" or [8, 8], "
                          f"got {value!r}.")
    return dims[0], dims[1]


def _table_of(cls: type, raw: Any, name: str, source: str) -> Any:
    """The ``[name]`` table of ``raw`` as a ``cls`` instance, its keys and types checked."""
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table, got {_kind(table)} {table!r}.")
    check_field_types(cls, table, f"{source}: [{name}]")
    return cls(**table)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: pipeline file not found.") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a folder; pass a pipeline .toml file.") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8. "
                          "Save it as UTF-8.") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}).") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: invalid TOML (nested too deeply).") from exc


def _non_negative(value: int | None, where: str) -> None:
    if value is not None and value < 0:
        raise ConfigError(f"{where} = {value} must be >= 0.")


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Read and validate a whole pipeline TOML file, before any stage runs.

    Every table is checked when the file loads: unknown keys, the type of every value (from the
    dataclasses of each table, TrainConfig and TransformConfig), value ranges and choices (the
    stage configs are built once here), check names and their options, that the data files
    exist. Paths inside the file are relative to the file.

    Raises
    ------
    ConfigError
        One line naming the file, the table and key, what was found and what is needed.
    """
    path = Path(path)
    raw = _read_toml(path)
    source = str(path)
    _unknown("top level", raw, _TOP_KEYS, source)
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{source}: {key} = {raw[key]!r} ({_kind(raw[key])}) must be a string.")
    dataset = _table_of(DatasetTable, raw, "dataset", source)
    inspect = _table_of(InspectTable, raw, "inspect", source)
    output = _table_of(OutputTable, raw, "output", source)
    for name in ("transform", "train"):
        if not isinstance(raw.get(name, {}), dict):
            raise ConfigError(f"{source}: [{name}] must be a table, got {_kind(raw[name])} {raw[name]!r}.")
    train = dict(raw.get("train", {}))
    run_raw = {k: train.pop(k) for k in list(train) if k in _TRAIN_RUN_KEYS}
    check_field_types(TrainRunTable, run_raw, f"{source}: [train]")
    run = TrainRunTable(**run_raw)
    if bool(dataset.path) == bool(dataset.builtin):
        raise ConfigError(f"{source}: [dataset] needs exactly one of 'path' or 'builtin'.")
    base = path.parent

    def resolve(value: str | None, key: str) -> Path | None:
        if value in (None, ""):
            return None
        assert value is not None
        candidate = Path(value)
        resolved = candidate if candidate.is_absolute() else (base / candidate)
        if not resolved.is_file():
            raise ConfigError(f"{source}: [dataset] {key} = {value!r}: no such file ({resolved}).")
        return resolved

    if dataset.builtin is not None:
        from dataaudit.datasets import BUILTIN

        if dataset.builtin not in BUILTIN:
            raise ConfigError(f"{source}: [dataset] builtin = {dataset.builtin!r} is not one of {sorted(BUILTIN)}.")
    if dataset.label is not None and not dataset.label.strip():
        raise ConfigError(f"{source}: [dataset] label is empty; name the label column.")
    if dataset.task not in (None, "classification", "regression"):
        raise ConfigError(f"{source}: [dataset] task must be 'classification' or 'regression', got {dataset.task!r}.")
    if dataset.encoding is not None:
        try:
            codecs.lookup(dataset.encoding)
        except LookupError as exc:
            raise ConfigError(f"{source}: [dataset] encoding = {dataset.encoding!r} is not a known text encoding.") from exc
    from dataaudit.background import check_workers

    inspect_workers = check_workers(inspect.workers, f"{source}: [inspect] workers")
    fail_on = inspect.fail_on
    if fail_on is not None and fail_on not in _FAIL_ON:
        raise ConfigError(f"{source}: [inspect] fail_on = {fail_on!r} must be one of {list(_FAIL_ON)}.")
    for key, value in (("[dataset] seed", dataset.seed), ("[inspect] seed", inspect.seed),
                       ("[train] search", run.search), ("[train] ensemble", run.ensemble)):
        _non_negative(value, f"{source}: {key}")
    for key, value in (("[train] rounds", run.rounds), ("[train] workers", run.workers)):
        if value is not None and value < 1:
            raise ConfigError(f"{source}: {key} = {value} must be >= 1.")
    seed = dataset.seed if dataset.seed is not None else (inspect.seed if inspect.seed is not None else 0)
    only = None if inspect.only is None else _only(inspect.only, source)
    _check_options(inspect.checks, only, source)
    transform = dict(raw.get("transform", {}))
    train_options = dict(train)
    _stage_configs(transform, train_options, seed, source)
    data_path, test_path = resolve(dataset.path, "path"), resolve(dataset.test, "test")
    _chunked_inputs(transform, dataset.builtin, data_path, test_path, source)
    return PipelineConfig(
        name=raw.get("name") or path.stem,
        source=path,
        description=raw.get("description", ""),
        data=data_path,
        builtin=dataset.builtin,
        test=test_path,
        label=dataset.label,
        id_column=dataset.id,
        group=dataset.group,
        task=dataset.task,
        image_shape=_parse_shape(dataset.image_shape, source),
        encoding=dataset.encoding,
        seed=seed,
        check_options={k: dict(v) for k, v in inspect.checks.items()},
        only_checks=only,
        fail_on=None if fail_on in (None, "none") else fail_on,
        strict=inspect.strict,
        inspect_workers=inspect_workers,
        transform=transform,
        train=train_options,
        search_trials=run.search,
        search_rounds=run.rounds,
        ensemble=run.ensemble,
        workers=run.workers,
        scheduler=run.scheduler,
        output=Path(output.dir) if output.dir else None,
    )


def _only(value: tuple[str, ...] | str, source: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else list(value)
    from dataaudit.checks import load_all

    registry = load_all()
    unknown = sorted(set(names) - set(registry))
    if unknown:
        raise ConfigError(f"{source}: [inspect] only names unknown check(s) {unknown}; known are {sorted(registry)}.")
    return names


def _check_options(checks: dict[str, Any], only: list[str] | None, source: str) -> None:
    """Every ``[inspect.checks.NAME]`` table names a check and options it takes."""
    from dataaudit.checks import load_all, make_check

    if checks:
        load_all()
    for name, options in checks.items():
        if not isinstance(options, dict):
            raise ConfigError(f"{source}: [inspect.checks.{name}] must be a table of options, got "
                              f"{_kind(options)} {options!r}.")
        try:
            make_check(name, options)
        except ConfigError as exc:
            raise ConfigError(f"{source}: [inspect.checks.{name}]: {exc}") from exc
        except Exception as exc:  # a check's constructor refusing a value in its own words
            raise ConfigError(f"{source}: [inspect.checks.{name}]: bad options ({type(exc).__name__}: {exc}).") from exc


def _chunked_inputs(transform: dict[str, Any], builtin: str | None, data: Path | None, test: Path | None,
                    source: str) -> None:
    """``[transform] chunksize`` streams ``[dataset] path`` (a CSV/TSV) and splits it by fractions only."""
    if not transform.get("chunksize"):
        return
    where = f"{source}: [transform] chunksize = {transform['chunksize']!r}"
    if builtin is not None:
        raise ConfigError(f"{where} streams a CSV file and cannot be combined with [dataset] builtin "
                          "(its clean held-out test file is the test split); use [dataset] path, or drop chunksize.")
    if test is not None:
        raise ConfigError(f"{where} cannot be combined with [dataset] test (the chunked fit splits by "
                          "[transform] split fractions only); drop one of them.")
    for key in ("val", "test"):
        if transform.get(key):
            raise ConfigError(f"{where} cannot be combined with [transform] {key}; use [transform] split fractions.")
    from dataaudit.io.loading import is_parquet

    if data is not None and is_parquet(data):
        raise ConfigError(f"{where} streams CSV/TSV files and [dataset] path = {data.name!r} is Parquet; "
                          "drop chunksize to load it in memory.")


def _stage_configs(transform: dict[str, Any], train: dict[str, Any], seed: int, source: str) -> None:
    """Build TransformConfig and TrainConfig once, so that [transform]/[train] fail at load."""
    from dataaudit.training.config import TrainConfig
    from dataaudit.transforms.config import TransformConfig

    for name, cls, table in (("transform", TransformConfig, transform), ("train", TrainConfig, train)):
        check_field_types(cls, table, f"{source}: [{name}]")
        try:
            cls.from_dict({"seed": seed, **table})
        except ConfigError as exc:
            raise ConfigError(f"{source}: [{name}]: {exc}") from exc
