"""What every audit section shares: limits, number and cell formatting, the render context."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.records import SEVERITIES, Finding, severity_rank
from dataaudit.report.section import _format_number

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset
    from dataaudit.findings import AuditResult
    from dataaudit.records import CheckResult
    from dataaudit.report.images import RowImages
    from dataaudit.shared import AuditData, CorrelationMatrix

# Example lists (suspect labels, outliers, groups) show at most this many entries.
MAX_LIST_ROWS = 50
MAX_GROUPS = 20
MAX_GROUP_MEMBERS = 6
# Row tables show the label plus at most this many feature columns.
MAX_VALUE_COLUMNS = 8
# Finding cards in the findings list (per-column findings of one code and severity share a card).
MAX_FINDINGS = 200
# Lines in the table of a grouped card (the rest are in findings.json).
MAX_GROUP_LINES = 1000
MAX_FINDING_ROWS_SHOWN = 12
PCA_POINTS = 3000
HEATMAP_COLUMNS = 30
EXAMPLES_PER_CLASS = 16
MAX_EXAMPLE_CLASSES = 20
CELL_CHARS = 40
TEXT_CELL_CHARS = 140

# Shown for a finding saved by a version that did not record its check's advice.
FALLBACK_ACTION = "See the check's details in findings.json."

# How row-level findings are marked on the 2-D map, by report section (shape, not colour).
MAP_MARKERS: dict[str, tuple[str, str]] = {
    "labels": ("x", "#111111"),
    "duplicates": ("+", "#555555"),
    "outliers": ("s", "#111111"),
}
OTHER_MARKER = ("^", "#333333")


def action_of(finding: Finding) -> str:
    return finding.action or FALLBACK_ACTION


def title_of(finding: Finding) -> str:
    return finding.title or finding.code.replace("_", " ").capitalize()


def status_of(findings: Iterable[Finding]) -> str:
    worst = min((severity_rank(f.severity) for f in findings), default=None)
    if worst is None:
        return "ok"
    return SEVERITIES[worst]


def nice(value: Any, digits: int = 4) -> str:
    """A number for people: thousands separators, no exponent between 1e-3 and 1e9."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    number = float(value)
    if not math.isfinite(number):
        return "–" if math.isnan(number) else str(number)
    size = abs(number)
    if size == 0:
        return "0"
    if 1e-3 <= size < 1e9:
        if size >= 1000:
            return f"{number:,.0f}" if size >= 10_000 or number.is_integer() else f"{number:,.1f}"
        return f"{number:.{digits}g}"
    return f"{number:.{max(digits - 2, 1)}e}"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values
        return False


def cell(value: Any, diff: bool = False, extreme: bool = False, wide: bool = False) -> dict[str, Any]:
    """A table cell: display text, full text as tooltip, flags for styling.

    ``wide`` (free text: a tweet, a note) keeps up to TEXT_CELL_CHARS characters, wrapped.
    """
    if is_missing(value):
        return {"text": "missing", "title": "missing", "missing": True, "diff": diff, "extreme": extreme,
                "wide": False}
    if isinstance(value, float | np.floating):
        text = nice(float(value))
        full = repr(float(value))
    else:
        full = str(value)
        text = " ".join(full.split())
        limit = TEXT_CELL_CHARS if wide else CELL_CHARS
        if len(text) > limit:
            text = text[: limit - 1] + "…"
    return {"text": text, "title": full[:500], "missing": False, "diff": diff, "extreme": extreme, "wide": wide}


def scalar_details(details: dict[str, Any], limit: int = 6) -> list[tuple[str, str]]:
    """The short scalar entries of a finding's details, as (key, formatted value)."""
    shown = []
    for key, value in details.items():
        if (str(key) == "share" or str(key).endswith("_share")) and isinstance(value, float | np.floating):
            shown.append((str(key), f"{100 * float(value):.1f}%"))  # a share of rows reads as a percent
        elif isinstance(value, bool | int | float | np.integer | np.floating):
            shown.append((str(key), _format_number(value)))
        elif isinstance(value, str) and len(value) <= 80:
            shown.append((str(key), value))
        if len(shown) >= limit:
            break
    return shown


@dataclass
class ReportContext:
    """What the section builders share: the result (every word), its data, the profile, the images.

    ``data`` is the one object everything drawn from the data comes from (None for a run loaded
    from findings.json): the tables and the audit's shared computations.
    """

    result: AuditResult
    data: AuditData | None
    profile: dict[str, Any] | None
    images: RowImages | None
    seed: int = 0

    @property
    def dataset(self) -> Dataset | None:
        return self.data.dataset if self.data is not None else None

    @property
    def test(self) -> Dataset | None:
        return self.data.test if self.data is not None else None

    @property
    def correlations(self) -> CorrelationMatrix | None:
        return self.data.shared.correlations if self.data is not None else None

    @property
    def column_stats(self) -> dict[str, dict[str, Any]]:
        if self.profile is None:
            return {}
        if "_stats" not in self.__dict__:
            self.__dict__["_stats"] = {c["name"]: c.get("stats") or {} for c in self.profile["columns"]}
        return self.__dict__["_stats"]

    def findings(self, *codes: str) -> list[Finding]:
        return [f for f in self.result.findings if f.code in codes]

    def in_section(self, section: str, *, row_level: bool | None = None) -> list[Finding]:
        """Findings that their check placed in report ``section``, worst first."""
        return [f for f in self.result.findings if f.section == section
                and (row_level is None or f.row_level == row_level)]

    def check_result(self, name: str) -> CheckResult | None:
        for check in self.result.checks:
            if check.check == name:
                return check
        return None

    def value_columns(self, prefer: Sequence[str] = ()) -> list[str]:
        """Columns for row tables: preferred ones first, then feature columns (pixels left out)."""
        if self.dataset is None:
            return []
        pixels = set(self.images.columns) if self.images is not None else set()
        chosen = [c for c in prefer if c in self.dataset.frame.columns and c != self.dataset.label]
        for name in self.dataset.feature_columns:
            if len(chosen) >= MAX_VALUE_COLUMNS:
                break
            if name not in chosen and name not in pixels:
                chosen.append(name)
        return chosen[:MAX_VALUE_COLUMNS]

    def rows_frame(self, rows: Sequence[int]) -> pd.DataFrame | None:
        if self.dataset is None:
            return None
        valid = [r for r in rows if 0 <= r < self.dataset.n_rows]
        return self.dataset.frame.iloc[valid]

    def image_uris(self, rows: Iterable[int]) -> dict[int, str]:
        return self.images.uris(rows) if self.images is not None else {}


def value_cells(ctx: ReportContext, row: int, frame: pd.DataFrame | None, columns: list[str]) -> list[dict[str, Any]]:
    if frame is None or row not in frame.index:
        return []
    cells = []
    for name in columns:
        value = frame.at[row, name]
        extreme = False
        st = ctx.column_stats.get(name, {})
        if isinstance(value, int | float | np.integer | np.floating) and st.get("std"):
            extreme = abs(float(value) - float(st["mean"])) > 3 * float(st["std"])
        wide = ctx.dataset is not None and ctx.dataset.roles.get(name) == "text"
        cells.append(cell(value, extreme=bool(extreme), wide=wide))
    return cells
