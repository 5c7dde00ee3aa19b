"""The records of an audit: Code, Finding, its typed evidence and CheckResult (a leaf module: it imports
nothing of the package).

``dataaudit.findings`` re-exports them beside ``AuditResult``; the report imports them from here so that
rendering never needs the module that renders. A finding's evidence has one of a few shapes (row groups,
column-name groups, per-row entries, per-column statistics); each is a frozen class here, validated when
built, with the one parse from and serialization to its findings.json form (``details.groups``,
``details.per_row``, ``details.per_column``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

__all__ = ["Code", "Finding", "CheckResult", "SEVERITIES", "SECTIONS", "Severity", "Status", "severity_rank",
           "to_jsonable", "Groups", "NameGroup", "ColumnGroups", "RowEvidence", "PerRow", "PerColumn",
           "Evidence", "EVIDENCE_KEYS", "parse_evidence"]

Severity = Literal["error", "warning", "info"]
Status = Literal["passed", "flagged", "skipped", "errored"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
# Report sections a finding can belong to; "other" gets a generic card list.
SECTIONS: tuple[str, ...] = ("classes", "labels", "duplicates", "outliers", "columns", "correlations",
                             "train-test", "other")


class Code(str):
    """A finding code together with what people are told about it.

    A check declares its codes as ``Code`` objects; each compares and hashes as the plain code
    string (``Code("outlier", ...) == "outlier"``), so ``code in check.codes`` keeps working. The
    metadata travels into findings.json with every finding, so the report renders from
    findings.json alone and never imports a check.

    Parameters
    ----------
    code : str
        The stable code (findings.json ``code``); never renamed once published.
    title : str
        A short heading for the report ("Exact duplicates").
    action : str
        What a person should do about such a finding.
    section : str
        The report section that shows it, one of ``SECTIONS``.
    row_level : bool
        Whether the finding flags rows (they are marked on the 2-D map and in rows.csv).
    """

    # ``title`` is a method of str, so the heading is stored under another name.
    heading: str
    action: str
    section: str
    row_level: bool

    def __new__(cls, code: str, *, title: str, action: str, section: str = "other",
                row_level: bool = False) -> Code:
        if section not in SECTIONS:
            raise ValueError(f"section of code {code!r} must be one of {SECTIONS}, got {section!r}")
        if not title.strip() or not action.strip():
            raise ValueError(f"code {code!r} needs a title and an action")
        self = super().__new__(cls, code)
        self.heading, self.action, self.section, self.row_level = title, action, section, row_level
        return self

    def __reduce__(self) -> Any:  # copy/deepcopy keep the metadata
        return (_make_code, (str(self), self.heading, self.action, self.section, self.row_level))


def _make_code(code: str, title: str, action: str, section: str, row_level: bool) -> Code:
    return Code(code, title=title, action=action, section=section, row_level=row_level)


def severity_rank(severity: str) -> int:
    """0 for error, 1 for warning, 2 for info (lower is worse)."""
    return SEVERITIES.index(severity)


def to_jsonable(value: Any) -> Any:
    """Convert NumPy/pandas scalars and containers to plain JSON types (NaN/inf become None)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return f if np.isfinite(f) else None
    if value is None or isinstance(value, str | int):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# ---- evidence: the shapes a finding's proof takes ---------------------------------------------------


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
    """One group of rows: at least two distinct row numbers."""
    if isinstance(group, str | bytes | Mapping) or not isinstance(group, Sequence | np.ndarray):
        raise ValueError(f"{where} is {type(group).__name__}, not a list of row numbers")
    try:
        members = tuple(map(operator.index, group))
    except TypeError:
        members = tuple(_row_number(r, f"{where}[{i}]") for i, r in enumerate(group))
    if len(members) < 2:
        raise ValueError(f"{where} has {len(members)} row(s); a group has at least 2")
    if min(members) < 0 or any(isinstance(r, bool | np.bool_) for r in group):  # name the bad one
        [_row_number(r, f"{where}[{i}]") for i, r in enumerate(group)]
    if len(set(members)) != len(members):
        raise ValueError(f"{where} lists a row twice: {list(members)[:10]}")
    return members


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
        object.__setattr__(self, "groups", tuple(_row_group(g, f"groups[{i}]") for i, g in enumerate(groups)))

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
        return [list(group) for group in self.groups]

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


@dataclass(frozen=True)
class Finding:
    """One problem found by a check, with its evidence.

    ``rows`` are 0-based data-row positions in the input file; ``columns`` are column names.
    For duplicate codes ``rows`` lists every group member except its first occurrence.
    ``title``, ``action``, ``section`` and ``row_level`` come from the check's declared ``Code``
    (filled in when the finding is built from one, or by the audit runner).

    ``evidence`` is the typed proof (``Groups``, ``ColumnGroups``, ``PerRow`` or ``PerColumn``);
    ``details`` carries its findings.json form under the evidence's key (``details["groups"]`` ...)
    beside the check's other details. Built from ``details`` alone (findings.json), the evidence
    is parsed from that key.

    Raises
    ------
    ValueError
        For an unknown severity, or evidence in ``details`` of the wrong shape (naming the check
        and code).
    """

    check: str
    code: str
    severity: Severity
    message: str
    rows: tuple[int, ...] = ()
    columns: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    action: str = ""
    section: str = ""
    row_level: bool = False
    evidence: Evidence | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        object.__setattr__(self, "rows", tuple(int(r) for r in self.rows))
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        self._attach_evidence()
        code = self.code
        if isinstance(code, Code):
            # A declared code brings its metadata; explicit values win.
            object.__setattr__(self, "title", self.title or code.heading)
            object.__setattr__(self, "action", self.action or code.action)
            object.__setattr__(self, "section", self.section or code.section)
            object.__setattr__(self, "row_level", self.row_level or code.row_level)
            object.__setattr__(self, "code", str(code))

    def _attach_evidence(self) -> None:
        """Parse the evidence from ``details``, or write the given evidence's form into a copy of it."""
        details = dict(self.details)
        evidence = self.evidence
        if evidence is None:
            try:
                evidence = parse_evidence(details)
            except ValueError as exc:
                raise ValueError(f"{self.check}/{self.code}: {exc}") from exc
        elif not isinstance(evidence, Groups | ColumnGroups | PerRow | PerColumn):
            raise TypeError(f"{self.check}/{self.code}: evidence must be Groups, ColumnGroups, PerRow or "
                            f"PerColumn, got {type(evidence).__name__}")
        else:
            others = [key for key in EVIDENCE_KEYS if key in details and key != evidence.key]
            if others:
                raise ValueError(f"{self.check}/{self.code}: details holds {others} beside the "
                                 f"{type(evidence).__name__} evidence; a finding carries one kind")
        if evidence is not None:
            if evidence.key not in details:  # the evidence leads the details, as checks wrote it
                details = {evidence.key: None, **details}
            details[evidence.key] = evidence.to_json()
        object.__setattr__(self, "details", details)
        object.__setattr__(self, "evidence", evidence)

    def evidence_of(self, kind: type[E]) -> E | None:
        """The evidence when it is a ``kind`` (``finding.evidence_of(Groups)``), else None."""
        return self.evidence if isinstance(self.evidence, kind) else None

    def described(self, code: Code) -> Finding:
        """This finding with the metadata of ``code`` where its own is empty."""
        return replace(self, code=code)

    def __repr__(self) -> str:
        return (f"Finding({self.check}/{self.code}, {self.severity}, {len(self.rows)} row(s), "
                f"{len(self.columns)} column(s): {self.message[:80]!r})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "rows": list(self.rows),
            "columns": list(self.columns),
            "details": to_jsonable(self.details),
            "title": self.title,
            "action": self.action,
            "section": self.section,
            "row_level": self.row_level,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            check=data["check"],
            code=data["code"],
            severity=data["severity"],
            message=data["message"],
            rows=tuple(data.get("rows", ())),
            columns=tuple(data.get("columns", ())),
            details=dict(data.get("details") or {}),
            title=str(data.get("title") or ""),
            action=str(data.get("action") or ""),
            section=str(data.get("section") or ""),
            row_level=bool(data.get("row_level", False)),
        )


@dataclass(frozen=True)
class CheckResult:
    """What one check produced: status, findings, statistics, per-row scores, error, time.

    Immutable; ``status`` follows from the rest: ``errored`` when ``error`` is set, ``flagged``
    when there are findings, ``skipped`` when asked for with a ``reason`` and nothing was found,
    else ``passed``. ``row_scores`` maps a finding code to per-row scores in [0, 1] (lower =
    worse, length n_rows; NaN where a row was not judged) for row-level checks; it feeds rows.csv
    and is not written to findings.json. ``description`` is the check's one-line docstring.
    """

    check: str
    status: Status = "passed"
    findings: Sequence[Finding] = ()
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    reason: str | None = None
    row_scores: dict[str, np.ndarray] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(self.findings))
        if self.status not in ("passed", "flagged", "skipped", "errored"):
            raise ValueError(f"status must be passed, flagged, skipped or errored, got {self.status!r}")
        if self.error is not None:
            status = "errored"
        elif self.findings:
            status = "flagged"
        elif self.status == "skipped":
            status = "skipped"
        else:
            status = "passed"
        object.__setattr__(self, "status", status)
        for code, scores in self.row_scores.items():
            values = np.asarray(scores, dtype=np.float64)
            judged = values[~np.isnan(values)]
            if judged.size and (judged.min() < 0.0 or judged.max() > 1.0):
                raise ValueError(f"{self.check}: row scores of {code!r} must lie in [0, 1], "
                                 f"got [{judged.min():.4g}, {judged.max():.4g}]")

    def with_findings(self, *findings: Finding) -> CheckResult:
        """A copy with ``findings`` appended (the status follows)."""
        return replace(self, findings=(*self.findings, *findings))

    def __repr__(self) -> str:
        extra = f", error={self.error!r}" if self.error else (f", reason={self.reason!r}" if self.reason else "")
        return f"CheckResult({self.check}: {self.status}, {len(self.findings)} finding(s){extra})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "seconds": round(float(self.seconds), 4),
            "error": self.error,
            "reason": self.reason,
            "stats": to_jsonable(self.stats),
            "description": self.description,
        }
