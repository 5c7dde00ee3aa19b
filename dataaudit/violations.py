"""What validating a table against its saved expectations found.

One :class:`Violation` per broken expectation (with the offending rows when rows can be blamed)
and the :class:`ValidationReport` of one run. Plain data: ``expectations.validate`` builds them,
``transform`` quarantines their rows and the CLI prints their lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Violation", "ValidationReport"]


@dataclass(frozen=True)
class Violation:
    """One violated expectation.

    ``rows`` are the offending row positions (0-based data rows of the validated table); empty for
    table- or column-level expectations (columns, types) that no single row violates.
    """

    expectation: str
    column: str | None
    observed: Any
    rows: tuple[int, ...] = ()
    unexpected_count: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        from dataaudit.findings import to_jsonable

        return {
            "expectation": self.expectation,
            "column": self.column,
            "observed": to_jsonable(self.observed),
            "rows": list(self.rows),
            "unexpected_count": int(self.unexpected_count),
            "message": self.message,
        }


@dataclass
class ValidationReport:
    """Every violated expectation of one validation run."""

    n_rows: int
    n_expectations: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.violations

    @property
    def bad_rows(self) -> np.ndarray:
        """Sorted unique row positions that violate at least one row-level expectation."""
        rows = [r for v in self.violations for r in v.rows]
        return np.unique(np.asarray(rows, dtype=np.int64))

    @property
    def table_level(self) -> list[Violation]:
        """Violations that no row can be blamed for (missing columns, wrong column types)."""
        return [v for v in self.violations if not v.rows]

    def lines(self) -> list[str]:
        """One human-readable line per violation."""
        return [v.message for v in self.violations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "n_rows": self.n_rows,
            "n_expectations": self.n_expectations,
            "violations": [v.to_dict() for v in self.violations],
        }
