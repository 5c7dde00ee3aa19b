"""The records of an audit: Code, Finding, its typed evidence and CheckResult (a leaf module: it imports
nothing of the package but the leaf ``evidence``).

``dataaudit.findings`` re-exports them beside ``AuditResult``; the report imports them from here so that
rendering never needs the module that renders. A finding's typed evidence (``Groups``, ``ColumnGroups``,
``PerRow``, ``PerColumn``) is defined in the leaf ``dataaudit.evidence`` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from dataaudit.evidence import (
    EVIDENCE_KEYS,
    ColumnGroups,
    E,
    Evidence,
    Groups,
    NameGroup,
    PerColumn,
    PerRow,
    RowEvidence,
    parse_evidence,
)

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
            if evidence.key not in details:  # the evidence key comes first in details
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
