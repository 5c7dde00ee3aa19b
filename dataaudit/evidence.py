"""A finding's evidence, typed: row groups, column-name groups, per-row entries, per-column statistics.

Each shape is a frozen class, validated when built (ValueError saying what is wrong), with the one
parse from and serialization to its findings.json form: ``details.groups`` (``Groups``, or
``ColumnGroups`` for column names), ``details.per_row`` (``PerRow``), ``details.per_column``
(``PerColumn``). ``Finding.evidence`` holds one of them; ``records`` re-exports them. A leaf module:
numpy only.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import numpy as np

__all__ = ["Groups", "NameGroup", "ColumnGroups", "RowEvidence", "PerRow", "PerColumn", "Evidence", "EVIDENCE_KEYS",
           "parse_evidence"]


def _row_number(value: Any, where: str) -> int:
    """``value`` as a row number: an int >= 0 (bools and floats are refused)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{where} is {value!r}, not a row number")
    try:
        row = operator.index(value)
    except TypeError:
        raise ValueError(f"{where} is {value!r}, not a row number") from None
    if row < 0:
        raise ValueError(f"{where} is {row}; row numbers are >= 0")
    return row


def _row_group(group: Any, where: str) -> tuple[int, ...]:
    """One group of rows, checked one row at a time (the slow path, which names what is wrong)."""
    if isinstance(group, str | bytes | Mapping) or not isinstance(group, Sequence | np.ndarray):
        raise ValueError(f"{where} is {type(group).__name__}, not a list of row numbers")
    members = tuple(_row_number(r, f"{where}[{i}]") for i, r in enumerate(group))
    if len(members) < 2:
        raise ValueError(f"{where} has {len(members)} row(s); a group has at least 2")
    if len(set(members)) != len(members):
        raise ValueError(f"{where} lists a row twice: {list(members)[:10]}")
    return members


def _row_groups(groups: Sequence[Any] | np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Groups as tuples of row numbers, checked as whole arrays (a million rows in a fraction of a second)."""
    if not set(map(type, groups)) <= {list, tuple}:
        return tuple(_row_group(g, f"groups[{i}]") for i, g in enumerate(groups))
    as_tuples = tuple(map(tuple, groups))
    flat = list(chain.from_iterable(as_tuples))
    sizes = np.fromiter(map(len, as_tuples), dtype=np.int64, count=len(as_tuples))
    if not as_tuples:
        return ()
    if flat and set(map(type, flat)) <= {int} and (sizes >= 2).all():
        rows = np.array(flat, dtype=np.int64)
        span = int(rows.max()) + 1
        if rows.min() >= 0 and span * len(sizes) < 2**62:
            # Row r of group g as one number g * span + r: a repeat within a group is a repeated number.
            keyed = np.sort(np.repeat(np.arange(len(sizes), dtype=np.int64) * span, sizes) + rows)
            if not (keyed[1:] == keyed[:-1]).any():
                return as_tuples
    return tuple(_row_group(g, f"groups[{i}]") for i, g in enumerate(as_tuples))  # finds and names the fault


def _sequence(data: Any, what: str) -> Sequence[Any] | np.ndarray:
    if isinstance(data, str | bytes | Mapping) or not isinstance(data, Sequence | np.ndarray):
        raise ValueError(f"expected a list of {what}, got {type(data).__name__}")
    return data


def _named_values(values: Any, where: str, reserved: str | None = None) -> Mapping[str, Any]:
    """A read-only copy of a mapping of named values (string keys, ``reserved`` not among them)."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} is {type(values).__name__}, not an object of named values")
    if not all(isinstance(k, str) for k in values):
        raise ValueError(f"{where} has a name that is not a string: {[k for k in values if not isinstance(k, str)][:3]}")
    if reserved is not None and reserved in values:
        raise ValueError(f"{where} repeats {reserved!r} among its values")
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class Groups:
    """Groups of rows that are one record: exact or near copies, conflicting copies, chance collisions.

    ``groups`` holds whole groups (first occurrence included), each a tuple of at least two
    distinct 0-based row numbers, in the order the check found them (ValueError otherwise).
    findings.json writes them as ``details.groups``, a list of lists of row numbers.
    """

    key: ClassVar[str] = "groups"
    groups: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        groups = _sequence(self.groups, "row groups")
        object.__setattr__(self, "groups", _row_groups(groups))

    def __len__(self) -> int:
        return len(self.groups)

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        return iter(self.groups)

    @property
    def members(self) -> list[int]:
        """Every row of every group, group by group."""
        return [r for group in self.groups for r in group]

    @classmethod
    def of(cls, groups: Iterable[Sequence[int] | np.ndarray]) -> Groups:
        """From lists (or arrays) of row numbers."""
        return cls(tuple(groups))  # type: ignore[arg-type]  # validated and made tuples in __post_init__

    def to_json(self) -> list[list[int]]:
        """The findings.json form, built once and shared (by every finding holding these groups): read only."""
        cached: list[list[int]] | None = self.__dict__.get("_json")
        if cached is None:
            cached = [list(group) for group in self.groups]
            object.__setattr__(self, "_json", cached)
        return cached

    @classmethod
    def from_json(cls, data: Any) -> Groups:
        return cls.of(_sequence(data, "row groups"))


@dataclass(frozen=True)
class NameGroup:
    """Column names that read as one name (``names``, at least two) and what else the check noted."""

    names: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = tuple(_sequence(self.names, "column names"))
        if len(names) < 2 or not all(isinstance(n, str) for n in names):
            raise ValueError(f"names {list(names)[:5]!r} are not two or more column names")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "values", _named_values(self.values, f"group {list(names)[:3]!r}", "names"))

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), **self.values}


@dataclass(frozen=True)
class ColumnGroups:
    """Groups of column names (``similar_column_names``); findings.json: ``details.groups``, a list of
    objects, each with its ``names`` and the check's notes about them."""

    key: ClassVar[str] = "groups"
    groups: tuple[NameGroup, ...] = ()

    def __post_init__(self) -> None:
        groups = tuple(_sequence(self.groups, "name groups"))
        if not all(isinstance(g, NameGroup) for g in groups):
            raise ValueError("column groups must be NameGroup records (ColumnGroups.of builds them from objects)")
        object.__setattr__(self, "groups", groups)

    @classmethod
    def of(cls, entries: Iterable[Mapping[str, Any]]) -> ColumnGroups:
        """From objects with ``names`` and other named values (the findings.json form)."""
        groups = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or "names" not in entry:
                raise ValueError(f"groups[{i}] is not an object with 'names'")
            groups.append(NameGroup(entry["names"], {k: v for k, v in entry.items() if k != "names"}))
        return cls(tuple(groups))

    def to_json(self) -> list[dict[str, Any]]:
        return [group.to_json() for group in self.groups]

    @classmethod
    def from_json(cls, data: Any) -> ColumnGroups:
        return cls.of(_sequence(data, "name groups"))


@dataclass(frozen=True)
class RowEvidence:
    """One row's evidence: its row number and what the check measured there, by name.

    Named values the stages read: ``score`` (in [0, 1], lower = worse; None where not judged),
    ``given_label`` and ``suggested_label`` (``label_issue``); any others are the check's own
    (``anomaly``, ``extreme_columns``, ``residual`` ...).
    """

    row: int
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row", _row_number(self.row, "row"))
        values = _named_values(self.values, f"row {self.row}", "row")
        score = values.get("score")
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float | np.integer | np.floating):
                raise ValueError(f"row {self.row}: score {score!r} is not a number")
            if math.isfinite(score) and not 0.0 <= float(score) <= 1.0:
                raise ValueError(f"row {self.row}: score {float(score):.4g} is outside [0, 1]")
        object.__setattr__(self, "values", values)

    @property
    def score(self) -> float | None:
        """The row's score in [0, 1] (lower = worse), None where it has none."""
        score = self.values.get("score")
        return None if score is None or not math.isfinite(score) else float(score)

    @property
    def given(self) -> Any:
        """The label the row carries (``given_label``; ``given`` is read too), None if not recorded."""
        return self.values.get("given_label", self.values.get("given"))

    @property
    def suggested(self) -> Any:
        """The label the models suggest (``suggested_label``; ``suggested`` is read too), or None."""
        return self.values.get("suggested_label", self.values.get("suggested"))

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, **self.values}


@dataclass(frozen=True)
class PerRow:
    """Per-row evidence (``label_issue``, ``outlier``): one ``RowEvidence`` per listed row, each row once.

    findings.json writes it as ``details.per_row``, a list of objects each with ``row`` and its
    named values, in the check's order (worst first).
    """

    key: ClassVar[str] = "per_row"
    entries: tuple[RowEvidence, ...] = ()

    def __post_init__(self) -> None:
        entries = tuple(_sequence(self.entries, "row entries"))
        if not all(isinstance(e, RowEvidence) for e in entries):
            raise ValueError("per-row entries must be RowEvidence records (PerRow.of builds them from objects)")
        rows = [e.row for e in entries]
        if len(set(rows)) != len(rows):
            raise ValueError(f"per_row lists a row twice: {sorted(rows)[:10]}")
        object.__setattr__(self, "entries", entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[RowEvidence]:
        return iter(self.entries)

    @property
    def rows(self) -> list[int]:
        return [e.row for e in self.entries]

    def worst_first(self) -> list[RowEvidence]:
        """The entries by score, lowest (worst) first; entries without a score last, in order."""
        return sorted(self.entries, key=lambda e: math.inf if e.score is None else e.score)

    @classmethod
    def of(cls, entries: Iterable[Mapping[str, Any]]) -> PerRow:
        """From objects with ``row`` and named values (the findings.json form)."""
        built = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or "row" not in entry:
                raise ValueError(f"per_row[{i}] is not an object with a 'row'")
            built.append(RowEvidence(entry["row"], {k: v for k, v in entry.items() if k != "row"}))
        return cls(tuple(built))

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.entries]

    @classmethod
    def from_json(cls, data: Any) -> PerRow:
        return cls.of(_sequence(data, "row entries"))


@dataclass(frozen=True)
class PerColumn(Mapping[str, Mapping[str, Any]]):
    """Per-column statistics: column name -> its named statistics (a read-only mapping of mappings).

    findings.json writes it as ``details.per_column``, an object of objects. Reading also takes
    the list form ``[{"column": name, ...}]``.
    """

    key: ClassVar[str] = "per_column"
    columns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.columns, Mapping):
            raise ValueError(f"expected an object of columns, got {type(self.columns).__name__}")
        columns = {}
        for name, stats in self.columns.items():
            if not isinstance(name, str):
                raise ValueError(f"column name {name!r} is not a string")
            columns[name] = _named_values(stats, f"column {name!r}")
        object.__setattr__(self, "columns", MappingProxyType(columns))

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        return self.columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {name: dict(stats) for name, stats in self.columns.items()}

    @classmethod
    def from_json(cls, data: Any) -> PerColumn:
        if isinstance(data, list):
            columns: dict[str, Any] = {}
            for i, entry in enumerate(data):
                if not isinstance(entry, Mapping) or not isinstance(entry.get("column"), str):
                    raise ValueError(f"[{i}] is not an object with a 'column' name")
                columns[entry["column"]] = {k: v for k, v in entry.items() if k != "column"}
            return cls(columns)
        return cls(data)


Evidence = Groups | ColumnGroups | PerRow | PerColumn
# Where each shape lives in ``details`` (findings.json); a finding carries at most one of them.
EVIDENCE_KEYS: tuple[str, ...] = ("groups", "per_row", "per_column")
E = TypeVar("E", Groups, ColumnGroups, PerRow, PerColumn)


def parse_evidence(details: Mapping[str, Any]) -> Evidence | None:
    """The typed evidence in a finding's ``details`` (findings.json form), None when it has none.

    ``details.groups`` holds row groups (lists of row numbers) or, for column names, objects
    with ``names``; ``details.per_row`` per-row objects; ``details.per_column`` per-column
    objects.

    Raises
    ------
    ValueError
        Naming the key and what is wrong with it (or that details holds two kinds of evidence).
    """
    present = [key for key in EVIDENCE_KEYS if key in details]
    if not present:
        return None
    if len(present) > 1:
        raise ValueError(f"details holds {present}; a finding carries one kind of evidence")
    key = present[0]
    data = details[key]
    try:
        if key == "groups":
            if isinstance(data, list | tuple) and data and all(isinstance(g, Mapping) for g in data):
                return ColumnGroups.from_json(data)
            return Groups.from_json(data)
        if key == "per_row":
            return PerRow.from_json(data)
        return PerColumn.from_json(data)
    except ValueError as exc:
        raise ValueError(f"details.{key}: {exc}") from exc
