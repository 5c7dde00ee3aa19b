"""Constant and quasi-constant columns: features that carry (almost) no information."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import fmt_share, json_value, sample_index
from dataaudit.findings import CheckResult, Code, Finding, PerColumn

if TYPE_CHECKING:
    import pandas as pd

    from dataaudit.dataset import Dataset

# Rows used to find a column's most frequent value before counting it exactly on every row.
_MODE_SAMPLE = 20_000


@register
class ConstantColumns(Check):
    """Constant columns: a single value (or nothing) in every row, so nothing to learn from.

    Parameters
    ----------
    quasi_share : float
        A column whose most frequent value fills at least this share of rows is reported as
        quasi-constant (info).
    """

    name = "constant_columns"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("constant_column", title="Constant columns", section="columns",
             action="Drop the column: it carries no information."),
    )
    order = 70

    def __init__(self, quasi_share: float = 0.999) -> None:
        if not 0 < quasi_share <= 1:
            raise ValueError(f"quasi_share must be in (0, 1], got {quasi_share}")
        self.quasi_share = quasi_share

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        findings: list[Finding] = []
        frame = dataset.frame
        constant: dict[str, dict[str, Any]] = {}
        for column in dataset.columns_with_role("constant"):
            if column == dataset.label:
                continue
            present = frame[column].dropna()
            constant[column] = {
                "value": json_value(present.iloc[0]) if len(present) else None,
                "n_missing": int(dataset.n_rows - len(present)),
                "all_empty": bool(len(present) == 0),
            }
        if constant:
            names = list(constant)
            findings.append(self.finding(
                "constant_column", "warning",
                f"{len(names)} column(s) hold a single value in every row: {_short(names)}.",
                columns=names,
                evidence=PerColumn(constant),
                details={"kind": "constant",
                         "action": "drop these columns (dataaudit fit-transform --drop ...)"},
            ))
        quasi = self._quasi_constant(dataset, context.seed, skip=set(constant))
        if quasi:
            names = list(quasi)
            findings.append(self.finding(
                "constant_column", "info",
                f"{len(names)} column(s) have one value in at least {fmt_share(self.quasi_share)} of rows: "
                f"{_short(names)}.",
                columns=names,
                evidence=PerColumn(quasi),
                details={"kind": "quasi_constant", "quasi_share": self.quasi_share,
                         "action": "drop these columns unless the rare values matter; check that a "
                         "split keeps some rare values in train"},
            ))
        stats = {"n_constant": len(constant), "n_quasi_constant": len(quasi),
                    "mode_sample_rows": min(dataset.n_rows, _MODE_SAMPLE)}
        return self.result(findings, stats=stats)

    def _quasi_constant(self, dataset: Dataset, seed: int, skip: set[str]) -> dict[str, dict[str, Any]]:
        n_rows = dataset.n_rows
        if n_rows < 2:
            return {}
        index = sample_index(n_rows, _MODE_SAMPLE, seed)
        found: dict[str, dict[str, Any]] = {}
        for column in dataset.feature_columns:
            if column in skip or dataset.roles.get(column) in ("id", "text"):
                continue
            values: pd.Series = dataset.frame[column]
            sample = values if index is None else values.iloc[index]
            counts = sample.value_counts(dropna=True)
            if counts.empty:
                continue
            # The sample only nominates a candidate; the share is then counted on every row.
            if counts.iloc[0] / len(sample) < self.quasi_share - 0.01:
                continue
            top = counts.index[0]
            count = int((values == top).sum()) if index is not None else int(counts.iloc[0])
            share = count / n_rows
            if share >= self.quasi_share and count < n_rows:
                other = np.flatnonzero((values != top).to_numpy() & values.notna().to_numpy())
                found[column] = {"value": json_value(top), "count": count, "share": share,
                                 "n_other": int(len(other)), "other_rows": [int(r) for r in other[:20]]}
        return found


def _short(names: list[str], k: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return shown + (f" and {len(names) - k} more" if len(names) > k else "")
