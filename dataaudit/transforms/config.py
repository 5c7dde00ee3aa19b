"""The transform stage's options (``TransformConfig``) and what a run returns.

``TransformConfig`` holds every knob of ``fit_transform`` with commented defaults; it is built from
the CLI, from a pipeline file's ``[transform]`` table (``from_dict``) or in code.
``TransformSummary`` is what ``fit_transform`` did and ``TransformOutcome`` what ``transform`` did.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataaudit.dataset import TASKS
from dataaudit.exceptions import ConfigError
from dataaudit.transforms.cleaning import CleaningPolicy
from dataaudit.transforms.split import parse_fractions

__all__ = ["parse_components", "TransformConfig", "TransformSummary", "TransformOutcome",
           "SCALES", "WHITENS", "DTYPES", "ON_INVALID"]

SCALES = ("none", "center", "standard")
WHITENS = ("none", "pca", "zca")
DTYPES = ("float32", "float64")
ON_INVALID = ("fail", "quarantine")


@dataclass
class TransformConfig:
    """Every knob of the transform stage, with commented defaults.

    Examples
    --------
    >>> TransformConfig.from_dict({"whiten": "zca", "split": "0.7,0.15,0.15"}).split
    (0.7, 0.15, 0.15)
    """

    # --- split ---
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train,val,test fractions (stratified)
    seed: int = 0  # seeds the split, the samples and every randomized check
    val: str | None = None  # the user's own validation file (then the input is all train)
    test: str | None = None  # the user's own test file
    # --- cleaning policy ---
    drop_exact_duplicates: bool = True  # drop copies with equal features and label, keep the first
    quarantine_conflicting: bool = True  # quarantine whole same-features/different-label groups (train/val)
    suspects: str = "keep"  # keep | drop | relabel rows flagged by label_issue (train/val only)
    suspect_threshold: float = 0.1  # act on label_issue scores below this (lower = worse)
    near_duplicates: bool = True  # keep near-duplicate groups in one split (findings or the check)
    max_removal: float = 0.2  # remove at most this share of the input rows (missing labels apart) ...
    allow_large_removal: bool = False  # ... unless this allows more (else fit_transform refuses)
    unverified_findings: bool = False  # use --findings whose input.sha256 is missing or differs (warned, recorded)
    keep_leaky: bool = False  # keep feature columns label_leakage flags (default: drop them, noted)
    # --- reading ---
    encoding: str | None = None  # text encoding of the CSV/TSV inputs (None: detected, as inspect does)
    # --- encoding ---
    drop: tuple[str, ...] = ()  # columns the user leaves out (recorded with reason "user")
    id_column: str | None = None  # a row-identifier column (never a feature)
    group: str | None = None  # entity column (patient, subject): one group, one split; never a feature
    task: str | None = None  # classification | regression; None: Dataset's rule (infer_task)
    max_categories: int = 20  # one-hot columns per categorical column (rest share __other__)
    # --- scaling and whitening (fit on train only) ---
    scale: str = "standard"  # none | center | standard
    whiten: str = "none"  # none | pca | zca
    pca_components: int | float | None = None  # K components, or a variance fraction like 0.99
    epsilon: float = 1e-5  # added to eigenvalues before 1/sqrt (CS231n's 1e-5)
    dtype: str = "float32"  # dtype of the saved X arrays
    # --- larger than memory ---
    chunksize: int | None = None  # stream the CSV in chunks of this many rows (two passes)
    sample_rows: int = 200_000  # chunked mode: rows sampled for encoder medians and categories

    def __post_init__(self) -> None:
        if isinstance(self.split, str | list | tuple):
            self.split = parse_fractions(self.split)  # type: ignore[arg-type]
        if isinstance(self.drop, str):
            self.drop = tuple(c for c in self.drop.split(",") if c)
        self.drop = tuple(self.drop)
        if isinstance(self.pca_components, str):
            self.pca_components = parse_components(self.pca_components)
        elif isinstance(self.pca_components, int | float) and not isinstance(self.pca_components, bool):
            self.pca_components = parse_components(repr(self.pca_components))  # same rule as the text form
        problems: list[str] = []
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed={self.seed!r} must be an integer >= 0 (NumPy seeds are non-negative)")
        for name, allowed in (("scale", SCALES), ("whiten", WHITENS), ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                problems.append(f"{name}={getattr(self, name)!r} is not one of {list(allowed)}")
        if self.chunksize is not None and int(self.chunksize) < 1:
            problems.append(f"chunksize={self.chunksize!r} must be >= 1")
        if self.task is not None and self.task not in TASKS:
            problems.append(f"task={self.task!r} is not one of {list(TASKS)}")
        if self.encoding is not None and not isinstance(self.encoding, str):
            problems.append(f"encoding={self.encoding!r} must be a codec name such as 'cp1252'")
        if self.group is not None and not isinstance(self.group, str):
            problems.append(f"group={self.group!r} must be a column name")
        if self.sample_rows < 1:
            problems.append(f"sample_rows={self.sample_rows!r} must be >= 1")
        if self.max_categories < 1:
            problems.append(f"max_categories={self.max_categories!r} must be >= 1")
        if not (isinstance(self.epsilon, int | float) and self.epsilon >= 0):
            problems.append(f"epsilon={self.epsilon!r} must be a number >= 0")
        if self.whiten == "zca" and self.pca_components is not None:
            problems.append("pca_components cannot be combined with whiten='zca' (ZCA keeps every direction)")
        if problems:
            raise ConfigError("Invalid transform configuration: " + "; ".join(problems) + ".")
        _ = self.policy  # building the policy validates the cleaning options

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TransformConfig:
        """Build from a plain dict (TOML ``[transform]``); unknown keys raise ConfigError."""
        if not isinstance(d, dict):
            raise ConfigError(f"A transform configuration must be a table/dict, got {type(d).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"Unknown transform option(s) {unknown}; valid options are {sorted(names)}.")
        try:
            return cls(**d)
        except TypeError as exc:
            raise ConfigError(f"Invalid transform configuration: {exc}.") from exc

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["split"] = list(self.split)
        d["drop"] = list(self.drop)
        return d

    @property
    def policy(self) -> CleaningPolicy:
        return CleaningPolicy(
            drop_exact_duplicates=self.drop_exact_duplicates,
            quarantine_conflicting=self.quarantine_conflicting,
            suspects=self.suspects,
            suspect_threshold=self.suspect_threshold,
            max_removal=self.max_removal,
            allow_large_removal=self.allow_large_removal,
        )


def parse_components(text: str) -> int | float | None:
    text = text.strip().lower()
    if text in ("", "none", "all"):
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise ConfigError(f"--pca-components {text!r} must be an integer K or a fraction like 0.99.") from exc
    if value >= 1 and value == int(value):
        return int(value)
    if 0 < value < 1:
        return value
    raise ConfigError(f"--pca-components {text!r} must be an integer K >= 1 or a fraction in (0, 1).")


@dataclass
class TransformSummary:
    """What fit_transform did (also in manifest.json)."""

    out: Path
    n_input: int
    sizes: dict[str, int]
    n_quarantined: int
    quarantine_by_reason: dict[str, int]
    n_relabelled: int
    feature_names: list[str]
    verification: dict[str, Any]
    manifest: dict[str, Any] = field(repr=False)
    seconds: float = 0.0

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def sizes_text(self) -> str:
        """The split sizes for a person: ``1,055 train / 132 val / 132 test rows``."""
        return " / ".join(f"{count:,} {split}" for split, count in self.sizes.items()) + " rows"

    def split_text(self) -> str:
        """The split line fit-transform and ``dataaudit run`` both print: input, sizes, features, quarantine:
        ``1,378 rows → 1,055 train / 132 val / 132 test rows, 64 features, quarantined 59 rows (missing_label 59)``."""
        features = f"{self.n_features:,} feature{'' if self.n_features == 1 else 's'}"
        return f"{self.n_input:,} rows → {self.sizes_text()}, {features}, {self.quarantine_text()}"

    def quarantine_text(self) -> str:
        """The quarantine for a person: ``quarantined 59 rows (missing_label 59)``."""
        text = f"quarantined {self.n_quarantined:,} row{'' if self.n_quarantined == 1 else 's'}"
        reasons = ", ".join(f"{reason} {count:,}" for reason, count in self.quarantine_by_reason.items() if count)
        return f"{text} ({reasons})" if reasons else text

    def dropped_column_lines(self) -> list[str]:
        """One line per feature column fit-transform left out and why (leaky columns, ``--drop``)."""
        dropped = self.manifest.get("dropped_columns") or {}
        return [f"dropped column {column!r}: {reason}" for column, reason in dropped.items()]


@dataclass
class TransformOutcome:
    """What transform did with new data."""

    out: Path
    n_rows: int
    n_transformed: int
    n_quarantined: int
    validation: Any
    unknown_categories: dict[str, int]
    quarantine_path: Path | None = None
    empty_label: str | None = None  # the label column, when it was present but empty (treated as absent)
