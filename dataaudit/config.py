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

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataaudit.exceptions import ConfigError

__all__ = ["PipelineConfig", "load_pipeline"]

_TOP_KEYS = {"name", "description", "dataset", "inspect", "transform", "train", "output"}
_DATASET_KEYS = {"path", "builtin", "test", "label", "id", "group", "task", "image_shape", "encoding", "seed"}
_INSPECT_KEYS = {"seed", "checks", "only", "fail_on", "strict"}
_TRAIN_RUN_KEYS = {"search", "rounds", "ensemble", "workers", "scheduler"}


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
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    parts = str(value).lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ConfigError(f"{source}: image_shape must look like \"8x8\", got {value!r}.")
    return int(parts[0]), int(parts[1])


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Read and validate a pipeline TOML file (paths inside it are relative to the file)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: pipeline file not found.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}).") from None
    source = str(path)
    _unknown("top level", raw, _TOP_KEYS, source)
    dataset: dict[str, Any] = dict(raw.get("dataset", {}))
    _unknown("dataset", dataset, _DATASET_KEYS, source)
    inspect: dict[str, Any] = dict(raw.get("inspect", {}))
    _unknown("inspect", inspect, _INSPECT_KEYS, source)
    if bool(dataset.get("path")) == bool(dataset.get("builtin")):
        raise ConfigError(f"{source}: [dataset] needs exactly one of 'path' or 'builtin'.")
    base = path.parent

    def resolve(value: Any) -> Path | None:
        if value in (None, ""):
            return None
        candidate = Path(value)
        return candidate if candidate.is_absolute() else (base / candidate)

    train = dict(raw.get("train", {}))
    run_keys = {k: train.pop(k) for k in list(train) if k in _TRAIN_RUN_KEYS}
    output = dict(raw.get("output", {}))
    _unknown("output", output, {"dir"}, source)
    for key in ("label", "id", "group"):
        if dataset.get(key) is not None and not isinstance(dataset[key], str):
            raise ConfigError(f"{source}: [dataset] {key} must be a column name (a string), got {dataset[key]!r}.")
    task = dataset.get("task")
    if task not in (None, "classification", "regression"):
        raise ConfigError(f"{source}: [dataset] task must be 'classification' or 'regression', got {task!r}.")
    fail_on = inspect.get("fail_on")
    if fail_on not in (None, "none", "warning", "error"):
        raise ConfigError(f"{source}: [inspect] fail_on must be 'warning', 'error' or 'none'.")
    return PipelineConfig(
        name=str(raw.get("name") or path.stem),
        source=path,
        description=str(raw.get("description", "")),
        data=resolve(dataset.get("path")),
        builtin=dataset.get("builtin"),
        test=resolve(dataset.get("test")),
        label=dataset.get("label"),
        id_column=dataset.get("id"),
        group=dataset.get("group"),
        task=task,
        image_shape=_parse_shape(dataset.get("image_shape"), source),
        encoding=dataset.get("encoding"),
        seed=int(dataset.get("seed", inspect.get("seed", 0))),
        check_options={k: dict(v) for k, v in inspect.get("checks", {}).items()},
        only_checks=inspect.get("only"),
        fail_on=None if fail_on in (None, "none") else fail_on,
        strict=bool(inspect.get("strict", False)),
        transform=dict(raw.get("transform", {})),
        train=train,
        search_trials=int(run_keys.get("search", 0)),
        search_rounds=int(run_keys.get("rounds", 2)),
        ensemble=int(run_keys.get("ensemble", 0)),
        workers=run_keys.get("workers"),
        scheduler=run_keys.get("scheduler"),
        output=Path(output["dir"]) if output.get("dir") else None,
    )
