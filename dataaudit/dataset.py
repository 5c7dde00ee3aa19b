"""Dataset: the loaded table, its column roles, its label, and shared derived matrices."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Dataset", "ROLES", "TASKS", "infer_roles", "infer_role", "infer_task"]

# Column roles, in the order the report lists them.
ROLES: tuple[str, ...] = (
    "label",
    "numeric",
    "boolean",
    "categorical",
    "datetime",
    "text",
    "id",
    "constant",
    "unsupported",
)

_BOOLEAN_TOKENS = {"true", "false", "yes", "no", "t", "f", "y", "n"}
# A label with at most this many distinct values is treated as classes even when numeric.
MAX_CLASSES = 50
# Categorical columns contribute at most this many one-hot columns to the feature matrix.
MAX_ONE_HOT = 10
# What a label asks the model to do; ``--task`` overrides the rule in ``infer_task``.
TASKS: tuple[str, ...] = ("classification", "regression")
# A numeric label with non-integer values is a measurement once it takes more distinct values than this.
MIN_FRACTIONAL_DISTINCT = 10


def _is_unique_key(values: pd.Series, min_distinct_share: float = 1.0) -> bool:
    """No missing values and (nearly) one distinct value per row, on at least 20 rows."""
    if len(values) < 20 or values.isna().any():
        return False
    if min_distinct_share >= 1.0:
        return bool(values.is_unique)
    return values.nunique() >= min_distinct_share * len(values)


def _named_like_id(name: str) -> bool:
    lowered = name.lower()
    return lowered in {"id", "index", "key", "uuid"} or lowered.endswith(("_id", "id", "_key", "uuid"))


def _id_word(name: str) -> bool:
    """An ``id``/``key``/``uuid`` word in a column name (``user_id_str``, ``AccountID``, ``order key``)."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
    return any(w.lower() in {"id", "key", "uuid"} for w in words)


# A column named like an ID stays one when a few rows repeat (duplicated rows repeat their ID too).
ID_DISTINCT_SHARE = 0.95


# A repeated whole-number column named like an ID with at least this many values (and sqrt(n)) is an
# entity key (subject_id, ID); fewer (store_id with 12 stores) may be a category and stay numeric.
ENTITY_KEY_VALUES = 50
# Unique whole numbers with at least this many digits are keys (tweet, account, phone numbers).
LARGE_KEY = 10**8
# Unique integers whose range holds so few values that distinct measurements would collide this many
# times over (n (n - 1) / 2 / range, the expected number of equal pairs) are a numbering.
DENSE_NUMBERING_PAIRS = 5.0


def integer_id_evidence(values: pd.Series, name: str = "") -> str | None:
    """Why a numeric column of whole numbers is a row identifier, or None when it is not one.

    The rule: a column named like an ID with at least 95% distinct values, or a column of unique
    whole numbers (no missing, at least 20 rows) that counts up or down (row numbers), is dense
    (a shuffled numbering: its range is so small that distinct measurements would collide), or
    holds only large keys (every value has at least 9 digits, like tweet or account numbers). A
    column with an ``id`` or ``key`` word in its name whose whole-number values mostly have 9+
    digits (median) is a key of other records even when values repeat or are missing
    (``in_reply_to_user_id_str``); one with at least ``ENTITY_KEY_VALUES`` (50) and sqrt(n)
    distinct whole numbers that repeat is an entity key (``subject_id``).
    """
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if _id_word(name) and (values.isna().any() or not values.is_unique):
        present = values.dropna().to_numpy(dtype=np.float64)
        if len(present) >= 20 and np.all(np.isfinite(present)) and np.all(np.mod(present, 1) == 0):
            if float(np.median(np.abs(present))) >= LARGE_KEY:
                return ("named like an ID with whole numbers of 9 or more digits (median): a key of other "
                        "records, not a quantity")
            n_distinct = len(np.unique(present))
            if n_distinct >= max(ENTITY_KEY_VALUES, math.isqrt(len(values))):
                return (f"named like an ID with {n_distinct:,} distinct whole numbers, repeated: the key of "
                        "an entity (patient, subject), not a quantity")
    if pd.api.types.is_float_dtype(values):
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        if len(array) < 20 or not np.all(np.isfinite(array)) or np.any(np.mod(array, 1) != 0):
            return None
    elif not pd.api.types.is_integer_dtype(values):
        return None
    if _named_like_id(name) and _is_unique_key(values, ID_DISTINCT_SHARE):
        return "named like an ID, with a distinct value in nearly every row"
    if not _is_unique_key(values):
        return None
    if values.is_monotonic_increasing or values.is_monotonic_decreasing:
        return "unique and counting (row numbers)"
    low, high = float(values.min()), float(values.max())
    n = len(values)
    if n * (n - 1) / 2 / (high - low + 1) >= DENSE_NUMBERING_PAIRS:
        return (f"unique integers filling {n:,} of the {int(high - low + 1):,} values from {int(low)} to "
                f"{int(high)}: a shuffled numbering (distinct measurements would collide)")
    if float(values.abs().min()) >= LARGE_KEY:
        return "unique integers of 9 or more digits in random order: keys such as tweet, account or phone numbers"
    return None


def _is_constant(values: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        # min == max is one pass and no hashing, unlike nunique, on big float columns
        low, high = values.min(skipna=True), values.max(skipna=True)
        return bool(pd.isna(low) or low == high)
    return values.nunique(dropna=True) <= 1


def infer_role(values: pd.Series, name: str = "") -> str:
    """Infer one column's role from its values (see ``ROLES``)."""
    if _is_constant(values):
        return "constant"
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    if pd.api.types.is_numeric_dtype(values):
        if integer_id_evidence(values, name) is not None:
            return "id"
        return "numeric"
    as_text = values.dropna().astype(str)
    if as_text.empty:
        return "constant"
    n_distinct = values.nunique(dropna=True)
    sample = as_text.iloc[: 2000]
    if set(sample.str.strip().str.lower().unique()) <= _BOOLEAN_TOKENS and n_distinct <= 2:
        return "boolean"
    if looks_like_datetime(sample):
        return "datetime"
    if _is_unique_key(values) or (_named_like_id(name) and _is_unique_key(values, ID_DISTINCT_SHARE)):
        mean_words = sample.str.count(r"\s+").mean() + 1
        return "text" if mean_words >= 4 else "id"
    mean_len = sample.str.len().mean()
    mean_words = sample.str.count(r"\s+").mean() + 1
    distinct_share = n_distinct / max(len(as_text), 1)
    if (mean_words >= 4 or mean_len >= 40) and distinct_share > 0.5:
        return "text"
    return "categorical"


def looks_like_datetime(sample: pd.Series) -> bool:
    """Whether a sample of text cells reads as dates or timestamps (95% parse, any UTC offsets)."""
    head = sample.iloc[:200]
    # Cheap pre-filter: dates contain digits and a separator and are short.
    if not head.str.contains(r"\d{1,4}[-/.:]\d{1,2}", regex=True).mean() > 0.9:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format" on odd strings
        # utc=True: a sample mixing UTC offsets parses instead of raising.
        parsed = pd.to_datetime(head, errors="coerce", format="mixed", utc=True)
    return bool(parsed.notna().mean() >= 0.95)


def infer_task(y: pd.Series) -> tuple[str, str]:
    """Decide the task of a label column by the stated rule; return ``(task, reason)``.

    The rule: a numeric (non-boolean) label is a regression target when it takes more than
    ``MAX_CLASSES`` (50) distinct values, or when it has non-integer values and more than
    ``MIN_FRACTIONAL_DISTINCT`` (10) distinct values (a measurement, not class codes). Every other
    label (text, boolean, few integer codes, a handful of values like 0.5/1.5) is classes.
    ``--task`` overrides the rule.
    """
    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        return "classification", "the label is not numeric"
    finite = pd.to_numeric(y, errors="coerce").dropna()
    finite = finite[np.isfinite(finite.to_numpy(dtype=np.float64))]
    n_distinct = int(finite.nunique())
    is_whole = bool(np.all(np.mod(finite.to_numpy(dtype=np.float64), 1) == 0)) if len(finite) else True
    if n_distinct > MAX_CLASSES:
        return "regression", f"the label is numeric with {n_distinct:,} distinct values (more than {MAX_CLASSES})"
    if not is_whole and n_distinct > MIN_FRACTIONAL_DISTINCT:
        return "regression", (f"the label is numeric with {n_distinct} distinct non-integer values "
                              f"(more than {MIN_FRACTIONAL_DISTINCT})")
    kind = "integer" if is_whole else "numeric"
    return "classification", f"the label has {n_distinct} distinct {kind} values (treated as classes)"


def infer_roles(frame: pd.DataFrame, label: str | None = None, id_column: str | None = None,
                unsupported: set[str] | None = None) -> dict[str, str]:
    """Infer the role of every column; the label column gets ``"label"``, ``id_column`` gets ``"id"``.

    Columns in ``unsupported`` (nested or binary Parquet columns, loaded as text) get
    ``"unsupported"``: they are reported and never features.
    """
    roles = {}
    for column in frame.columns:
        if column == label:
            roles[column] = "label"
        elif column == id_column:
            roles[column] = "id"
        elif unsupported and column in unsupported:
            roles[column] = "unsupported"
        else:
            roles[column] = infer_role(frame[column], str(column))
    return roles


def _standardized(values: np.ndarray, sample_rows: np.ndarray) -> np.ndarray:
    """One column median-imputed and standardized in float64, safe for any finite magnitude."""
    column = values.astype(np.float64, copy=True)
    present = column[sample_rows][~np.isnan(column[sample_rows])]
    column[np.isnan(column)] = float(np.median(present)) if present.size else 0.0
    scale = float(np.max(np.abs(column))) if column.size else 0.0
    if scale > 0:
        column /= scale
    sample = column[sample_rows]
    std = float(sample.std())
    return ((column - sample.mean()) / (std if std > 0 else 1.0)).astype(np.float32)


@dataclass
class Dataset:
    """A loaded table with a 0-based RangeIndex equal to the data-row numbers of the input file.

    Attributes
    ----------
    frame : DataFrame
        Typed columns. Columns that were mostly numeric with stray strings are already numeric
        here; the stray cells are listed in ``coerced``.
    path : Path or None
        Source file, when there is one.
    label : str or None
        Label column name.
    roles : dict
        Column name -> role (one of ``ROLES``).
    sha256 : str
        Hash of the input file bytes (of the frame when built in memory).
    coerced : dict
        Column -> {"rows": [...], "values": [...]} of non-numeric cells turned into NaN.
    na_text : dict
        Text column -> {text: count} of the non-empty cells the CSV reader read as missing
        (pandas' default missing-value strings: ``None``, ``NA``, ``null`` ...); the
        ``missing_values`` check names them, since such a word can be a category.
    group : str or None
        Entity column (patient, subject, customer) named by ``--group``: rows sharing its value
        belong to one entity, so folds and splits keep them together. It is never a feature
        (role ``"id"``: with group-aware splits its test values are unseen).
    task : str or None
        ``"classification"`` or ``"regression"``; None without a label. Decided by ``infer_task``
        unless given (``--task``); ``task_reason`` says why.

    Raises
    ------
    InputError
        A group column that is missing or is the label; a regression task on a non-numeric label.
    ConfigError
        A task that is not one of ``TASKS``.
    file_format : str
        ``"csv"``, ``"tsv"``, ``"parquet"`` or ``"memory"``.
    encoding : str or None
        The text encoding a CSV/TSV was read with (declared or detected).
    load_notes : list of dict
        What the loader had to do to read the file (an encoding detected, UTC offsets converted,
        columns it cannot use), as finding fields (``code``, ``severity``, ``message``,
        ``columns``, ``details``); the ``input_format`` check reports them.
    """

    frame: pd.DataFrame
    path: Path | None = None
    label: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    sha256: str = ""
    id_column: str | None = None
    coerced: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    file_format: str = "memory"
    group: str | None = None
    task: str | None = None
    task_reason: str = ""
    encoding: str | None = None
    load_notes: list[dict[str, Any]] = field(default_factory=list)
    na_text: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._check_names()
        if not self.roles:
            self.roles = infer_roles(self.frame, self.label, self.id_column)
        self._check_group()
        self._decide_task()
        if not self.sha256:
            hashed = pd.util.hash_pandas_object(self.frame, index=True).to_numpy()
            import hashlib

            self.sha256 = hashlib.sha256(hashed.tobytes()).hexdigest()

    def _check_names(self) -> None:
        """Every column name once: a name twice makes every per-column view (roles, matrices) ambiguous."""
        names = pd.Index([str(c) for c in self.frame.columns])
        if names.has_duplicates:
            from dataaudit.exceptions import InputError

            twice = sorted(set(names[names.duplicated()]))
            raise InputError(f"{self.name}: column name(s) {twice} appear more than once; rename them so each "
                             "column has its own name.")

    def _check_group(self) -> None:
        from dataaudit.exceptions import InputError

        if self.group is None:
            return
        if self.group not in self.frame.columns:
            raise InputError(
                f"Group column {self.group!r} not found in {self.name}; columns are "
                f"{[str(c) for c in self.frame.columns]}. Pass --group (pipeline: [dataset] group) with one of them."
            )
        if self.group == self.label:
            raise InputError(f"--group {self.group!r} is the label column; name the entity column "
                             "(patient, subject, customer) instead.")
        # Never a feature and never part of a row's identity: an entity key, like an ID.
        self.roles = {**self.roles, self.group: "id"}

    def _decide_task(self) -> None:
        from dataaudit.exceptions import ConfigError, InputError

        if self.task is not None and self.task not in TASKS:
            raise ConfigError(f"--task must be one of {list(TASKS)}, got {self.task!r}.")
        if self.label is None:
            self.task, self.task_reason = None, ""
            return
        y = self.frame[self.label]
        if self.task is None:
            self.task, self.task_reason = infer_task(y)
            return
        if self.task == "regression":
            numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
            if not numeric:
                sample = [str(v) for v in y.dropna().unique()[:3]]
                raise InputError(
                    f"--task regression needs a numeric label, but {self.label!r} in {self.name} holds "
                    f"values like {sample}. Use --task classification or fix the label column."
                )
        if not self.task_reason:
            self.task_reason = f"--task {self.task}"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, label: str | None = None, id_column: str | None = None,
                   name: str = "memory", *, group: str | None = None, task: str | None = None) -> Dataset:
        """Wrap an in-memory DataFrame (index reset to row numbers 0..n-1)."""
        frame = frame.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        return cls(frame=frame, path=Path(name) if name != "memory" else None, label=label,
                   id_column=id_column, group=group, task=task)

    # ---- basic views -------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "memory"

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @property
    def feature_columns(self) -> list[str]:
        """Every column except the label."""
        return [c for c in self.columns if c != self.label]

    def columns_with_role(self, *roles: str) -> list[str]:
        return [c for c in self.columns if self.roles.get(c) in roles]

    @property
    def numeric_columns(self) -> list[str]:
        return self.columns_with_role("numeric")

    @property
    def categorical_columns(self) -> list[str]:
        return self.columns_with_role("categorical", "boolean")

    @property
    def y(self) -> pd.Series | None:
        return None if self.label is None else self.frame[self.label]

    # ---- label -------------------------------------------------------------------------------
    @cached_property
    def label_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes, classes): integer class index per row (-1 where the label is missing), sorted classes."""
        if self.label is None:
            raise ValueError("dataset has no label column")
        y = self.frame[self.label]
        codes, classes = pd.factorize(y, sort=True)
        return codes.astype(np.int64), np.asarray(classes)

    @property
    def classes(self) -> np.ndarray:
        return self.label_codes[1]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    # ---- derived matrices shared by checks ----------------------------------------------------
    @cached_property
    def numeric_matrix(self) -> np.ndarray:
        """float64 (n_rows, n_numeric) of the numeric columns, ±inf turned into NaN; read-only.

        Once it is built, the frame's float64 columns without infinities are read from it (views
        of its columns, the same values), so the table's numbers are held once, not twice (320 MB
        at a million rows of 40 columns). It is read-only because writing it would change the
        frame; checks that need other values work on a copy.
        """
        cols = self.numeric_columns
        if not cols:
            return np.empty((self.n_rows, 0))
        values = self.frame[cols].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        infinite = np.isinf(values)
        had_infinity = infinite.any(axis=0)
        values[infinite] = np.nan
        del infinite
        values.flags.writeable = False
        if self.frame.columns.is_unique:
            self._read_columns_from(values, [c for c, inf in zip(cols, had_infinity, strict=True) if not inf])
        return values

    def _read_columns_from(self, values: np.ndarray, columns: list[str]) -> None:
        """Let the frame's float64 ``columns`` be views of ``values``' columns (same numbers, held once)."""
        frame = self.frame
        position = {c: j for j, c in enumerate(self.numeric_columns)}
        shared = {c for c in columns if isinstance(frame[c].dtype, np.dtype) and frame[c].dtype == np.float64}
        if not shared:
            return
        data = {c: (values[:, position[c]] if c in shared else frame[c]) for c in frame.columns}
        rebuilt = pd.DataFrame(data, index=frame.index, copy=False)
        rebuilt.columns = frame.columns
        rebuilt.attrs = dict(frame.attrs)
        self.frame = rebuilt

    @cached_property
    def feature_matrix(self) -> tuple[np.ndarray, list[str]]:
        """float32 (n_rows, d) for distance- and model-based checks, plus column names.

        Numeric and boolean columns are standardized (median-imputed first, a constant column keeps
        scale 1); each categorical column adds one-hot columns for its ``MAX_ONE_HOT`` most frequent
        values. ID, constant, text, datetime and label columns are left out.
        """
        numeric = self.numeric_matrix
        tops = [(column, self.frame[column].value_counts(dropna=True).index[:MAX_ONE_HOT])
                for column in self.categorical_columns]
        width = numeric.shape[1] + sum(len(top) for _, top in tops)
        if not width:
            return np.empty((self.n_rows, 0), dtype=np.float32), []
        # Blocks are written into the one result: building them apart and stacking them would
        # hold the matrix twice (a quarter of a gigabyte at a million rows).
        matrix = np.zeros((self.n_rows, width), dtype=np.float32)
        names: list[str] = []
        if numeric.shape[1]:
            block = matrix[:, : numeric.shape[1]]
            with np.errstate(over="ignore"):  # values beyond float32's range become inf (no warning to the user)
                block[...] = numeric
            # Statistics from a row sample: exact enough to impute and scale for distances and
            # models, and O(sample) instead of full sorts and passes over millions of rows.
            sample_rows = np.sort(
                np.random.default_rng(0).choice(self.n_rows, min(self.n_rows, 200_000), replace=False)
            )
            missing = np.isnan(block)
            if missing.any():
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, set to 0
                    medians = np.nanmedian(numeric[sample_rows], axis=0)
                medians = np.where(np.isnan(medians), 0.0, medians).astype(np.float32)
                block[missing] = np.broadcast_to(medians, block.shape)[missing]
            del missing
            sample = block[sample_rows].astype(np.float64)
            mean = sample.mean(axis=0)
            std = sample.std(axis=0)
            std[~(std > 0)] = 1.0  # a constant column keeps scale 1 instead of dividing by zero
            block -= mean.astype(np.float32)
            block /= std.astype(np.float32)
            for j in np.flatnonzero(~np.isfinite(block).all(axis=0)):
                # Values beyond float32's range (|x| > 3.4e38) overflowed: standardize this column
                # in float64, divided by its largest magnitude first so that no square overflows.
                block[:, j] = _standardized(numeric[:, j], sample_rows)
            names.extend(self.numeric_columns)
        offset = numeric.shape[1]
        for column, top in tops:
            codes = self.frame[column].map({v: i for i, v in enumerate(top)}).fillna(-1).to_numpy(np.int64)
            present = codes >= 0
            matrix[np.flatnonzero(present), offset + codes[present]] = 1.0
            offset += len(top)
            names.extend(f"{column}={v}" for v in top)
        return matrix, names

    def describe_input(self) -> dict[str, Any]:
        """The ``input`` block of findings.json."""
        return {
            "path": str(self.path) if self.path is not None else None,
            "sha256": self.sha256,
            "n_rows": int(self.n_rows),
            "n_columns": int(self.frame.shape[1]),
            "label": self.label,
            "format": self.file_format,
            **({"encoding": self.encoding} if self.encoding else {}),
            "roles": dict(self.roles),
            "task": self.task,
            "task_reason": self.task_reason,
            "group": self.group,
        }
