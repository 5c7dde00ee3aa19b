"""Results are data: Finding, CheckResult and AuditResult, read by the CLI, the report and tests."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from dataaudit.dataset import Dataset

__all__ = ["Finding", "CheckResult", "AuditResult", "SEVERITIES", "severity_rank", "to_jsonable"]

Severity = Literal["error", "warning", "info"]
Status = Literal["passed", "flagged", "skipped", "errored"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


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
    """

    check: str
    code: str
    severity: Severity
    message: str
    rows: tuple[int, ...] = ()
    columns: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        object.__setattr__(self, "rows", tuple(int(r) for r in self.rows))
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "rows": list(self.rows),
            "columns": list(self.columns),
            "details": to_jsonable(self.details),
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
        )


@dataclass
class CheckResult:
    """What one check produced: status, findings, statistics, per-row scores, error, time.

    ``row_scores`` maps a finding code to an array of per-row scores in [0, 1] (lower = worse,
    length n_rows) for row-level checks; it feeds rows.csv and is not written to findings.json.
    """

    check: str
    status: Status = "passed"
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    reason: str | None = None
    row_scores: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status == "passed" and self.findings:
            self.status = "flagged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "seconds": round(float(self.seconds), 4),
            "error": self.error,
            "reason": self.reason,
            "stats": to_jsonable(self.stats),
        }


@dataclass
class AuditResult:
    """Everything ``inspect`` learned about one input: the checks, their findings and the input.

    ``dataset`` and ``test_dataset`` are kept for the report and rows.csv; they are not serialized.
    """

    input: dict[str, Any]
    checks: list[CheckResult]
    version: str = ""
    seconds: float = 0.0
    dataset: Dataset | None = field(default=None, repr=False, compare=False)
    test_dataset: Dataset | None = field(default=None, repr=False, compare=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        """All findings, worst severity first, in check order within a severity."""
        found = [f for c in self.checks for f in c.findings]
        return sorted(found, key=lambda f: severity_rank(f.severity))

    def summary(self) -> dict[str, Any]:
        counts: Counter[str] = Counter(f.severity for f in self.findings)
        return {
            "n_findings": sum(counts.values()),
            "by_severity": {s: int(counts.get(s, 0)) for s in SEVERITIES},
        }

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.check == name:
                return c
        raise KeyError(f"no check named {name!r}; ran {[c.check for c in self.checks]}")

    def worst_severity(self) -> str | None:
        found = self.findings
        return found[0].severity if found else None

    def findings_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "check": f.check,
                    "code": f.code,
                    "severity": f.severity,
                    "message": f.message,
                    "n_rows": len(f.rows),
                    "columns": ", ".join(f.columns),
                }
                for f in self.findings
            ],
            columns=["check", "code", "severity", "message", "n_rows", "columns"],
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataaudit_version": self.version,
            "input": to_jsonable(self.input),
            "summary": self.summary(),
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
        }
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditResult:
        by_check: dict[str, list[Finding]] = {}
        for fd in data.get("findings", []):
            finding = Finding.from_dict(fd)
            by_check.setdefault(finding.check, []).append(finding)
        checks = [
            CheckResult(
                check=c["check"],
                status=c.get("status", "passed"),
                findings=by_check.pop(c["check"], []),
                stats=c.get("stats") or {},
                error=c.get("error"),
                seconds=c.get("seconds", 0.0),
                reason=c.get("reason"),
            )
            for c in data.get("checks", [])
        ]
        for name, found in by_check.items():
            checks.append(CheckResult(check=name, status="flagged", findings=found))
        return cls(input=data.get("input", {}), checks=checks, version=data.get("dataaudit_version", ""))

    @classmethod
    def load(cls, path: str | Path) -> AuditResult:
        from dataaudit.exceptions import InputError

        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: findings file not found. Run `dataaudit inspect` first.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a findings.json file ({exc}).") from None
        if not isinstance(data, dict) or "findings" not in data:
            raise InputError(f"{path}: not a findings.json file (no 'findings' key).")
        return cls.from_dict(data)

    def to_html(self, path: str | Path | None = None, **options: Any) -> str:
        """Render the self-contained HTML report; write it to ``path`` when given."""
        from dataaudit.report.render import render_report

        html = render_report(self, **options)
        if path is not None:
            from dataaudit.io.outputs import atomic_write_text

            atomic_write_text(Path(path), html)
        return html

    def _repr_html_(self) -> str:
        from dataaudit.report.render import render_report

        return render_report(self, embedded=True)
