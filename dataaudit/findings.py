"""Results are data: Finding, CheckResult and AuditResult, read by the CLI, the report and tests."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataaudit.records import (
    SECTIONS,
    SEVERITIES,
    CheckResult,
    Code,
    ColumnGroups,
    Evidence,
    Finding,
    Groups,
    NameGroup,
    PerColumn,
    PerRow,
    RowEvidence,
    Severity,
    Status,
    parse_evidence,
    severity_rank,
    to_jsonable,
)
from dataaudit.shared import AuditData, SharedComputations

if TYPE_CHECKING:
    import pandas as pd

    from dataaudit.dataset import Dataset

__all__ = ["Code", "Finding", "CheckResult", "AuditResult", "SEVERITIES", "SECTIONS", "Severity", "Status",
           "severity_rank", "to_jsonable", "Evidence", "Groups", "ColumnGroups", "NameGroup", "PerRow", "RowEvidence",
           "PerColumn", "parse_evidence"]


@dataclass
class AuditResult:
    """Everything ``inspect`` learned about one input: the checks, their findings and the input.

    ``dataset`` and ``test_dataset`` are kept for the report and rows.csv, ``shared`` holds what
    the checks computed for others to read (see ``data``); none of them is serialized.
    """

    input: dict[str, Any]
    checks: list[CheckResult]
    version: str = ""
    seconds: float = 0.0
    dataset: Dataset | None = field(default=None, repr=False, compare=False)
    test_dataset: Dataset | None = field(default=None, repr=False, compare=False)
    extra: dict[str, Any] = field(default_factory=dict)
    shared: SharedComputations = field(default_factory=SharedComputations, repr=False, compare=False)

    @property
    def data(self) -> AuditData | None:
        """What the report draws from the data (None for a run loaded from findings.json)."""
        if self.dataset is None:
            return None
        return AuditData(dataset=self.dataset, test=self.test_dataset, shared=self.shared)

    def __repr__(self) -> str:
        info = self.input or {}
        by = self.summary()["by_severity"]
        name = str(info.get("path") or "in memory").replace("\\", "/").rsplit("/", 1)[-1]
        return (f"AuditResult({name}: {info.get('n_rows', '?')} rows x {info.get('n_columns', '?')} columns, "
                f"{sum(by.values())} findings ({by['error']} error, {by['warning']} warning, {by['info']} info), "
                f"{len(self.checks)} checks)")

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
    def from_dict(cls, data: dict[str, Any], source: str = "findings.json") -> AuditResult:
        """Rebuild an AuditResult from findings.json's content, validating its shape first.

        Raises
        ------
        InputError
            Naming ``source`` and the key: not an object, ``findings``/``checks`` not lists of
            objects, a finding without check/code/severity/message or with rows that are not
            integers, evidence (``details.groups``, ``per_row``, ``per_column``) of the wrong
            shape, ``input`` not an object or its ``sha256`` not a string.
        """
        _validate_document(data, source)
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
                description=str(c.get("description") or ""),
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
        if path.is_dir():
            raise InputError(f"{path}: is a folder; pass the findings.json file inside it (--findings "
                             f"{path / 'findings.json'}).")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"{path}: findings file not found. Run `dataaudit inspect` first.") from exc
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise InputError(f"{path}: not a findings.json file ({type(exc).__name__}: {exc}).") from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
        if not isinstance(data, dict) or "findings" not in data:
            raise InputError(f"{path}: not a findings.json file (no 'findings' key).")
        return cls.from_dict(data, str(path))

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


def _validate_document(data: Any, source: str) -> None:
    """The shape findings.json must have before anything is built from it (see ``from_dict``)."""
    from dataaudit.exceptions import InputError

    def bad(what: str) -> InputError:
        return InputError(f"{source}: not a findings.json of dataaudit inspect ({what}). Run `dataaudit inspect` again.")

    if not isinstance(data, dict):
        raise bad("not a JSON object")
    inp = data.get("input", {})
    if not isinstance(inp, dict):
        raise bad("'input' is not an object")
    if "sha256" in inp and not isinstance(inp["sha256"], str):
        raise bad("'input.sha256' is not a string")
    for key in ("findings", "checks"):
        items = data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise bad(f"'{key}' is not a list of objects")
    for i, check in enumerate(data.get("checks", [])):
        if not isinstance(check.get("check"), str):
            raise bad(f"checks[{i}] has no check name")
        if check.get("status", "passed") not in ("passed", "flagged", "skipped", "errored"):
            raise bad(f"checks[{i}].status {check.get('status')!r} is not passed/flagged/skipped/errored")
    for i, finding in enumerate(data.get("findings", [])):
        for key in ("check", "code", "severity", "message"):
            if not isinstance(finding.get(key), str):
                raise bad(f"findings[{i}].{key} is missing or not a string")
        if finding["severity"] not in SEVERITIES:
            raise bad(f"findings[{i}].severity {finding['severity']!r} is not one of {list(SEVERITIES)}")
        rows = finding.get("rows", [])
        if not isinstance(rows, list) or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0
                                                 for r in rows):
            raise bad(f"findings[{i}].rows is not a list of row numbers")
        columns = finding.get("columns", [])
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise bad(f"findings[{i}].columns is not a list of column names")
        details = finding.get("details", {}) or {}
        if not isinstance(details, dict):
            raise bad(f"findings[{i}].details is not an object")
        try:
            parse_evidence(details)
        except ValueError as exc:
            raise bad(f"findings[{i}].{exc}") from exc
