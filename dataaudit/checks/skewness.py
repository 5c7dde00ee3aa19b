"""Skewed numeric features: long tails that dominate squared-error losses and gradient steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import nan_skewness, numeric_matrix, sample_index, take_rows
from dataaudit.findings import CheckResult, Code

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Distinct values are counted on this many rows (enough to tell a 0/1 flag from a measurement).
_DISTINCT_SAMPLE = 10_000


@register
class Skewness(Check):
    """Skewed features: numeric columns with a long tail that a log or Yeo-Johnson transform fixes.

    Parameters
    ----------
    threshold : float
        Flag columns whose absolute sample skewness exceeds this.
    min_distinct : int
        Ignore columns with fewer distinct values (flags and counts are skewed by nature).
    sample_rows : int
        Skewness is computed on at most this many randomly chosen rows (seeded).
    """

    name = "skewness"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("skewed_feature", title="Skewed columns", section="columns",
             action="Log- or power-transform the column before standardizing."),
    )
    order = 90

    def __init__(self, threshold: float = 2.0, min_distinct: int = 10, sample_rows: int = 200_000) -> None:
        self.threshold = threshold
        self.min_distinct = min_distinct
        self.sample_rows = sample_rows

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        columns = dataset.numeric_columns
        if not columns:
            return self.skip("no numeric columns")
        index = sample_index(dataset.n_rows, self.sample_rows, context.seed)
        matrix = take_rows(numeric_matrix(dataset), index)
        skew = nan_skewness(matrix)
        head = matrix[:_DISTINCT_SAMPLE]
        per_column: dict[str, dict[str, Any]] = {}
        flagged: list[str] = []
        for j, column in enumerate(columns):
            values = head[:, j]
            n_distinct = len(np.unique(values[np.isfinite(values)]))
            if n_distinct < self.min_distinct or not np.isfinite(skew[j]):
                continue
            low = float(np.nanmin(matrix[:, j]))
            per_column[column] = {"skew": float(skew[j]), "min": low,
                                  "transform": "log1p" if low >= 0 else "yeo-johnson"}
            if abs(skew[j]) > self.threshold:
                flagged.append(column)
        stats = {"per_column": per_column, "n_rows_used": int(matrix.shape[0]), "sampled": index is not None}
        if not flagged:
            return self.result(stats=stats)
        flagged.sort(key=lambda c: -abs(per_column[c]["skew"]))
        shown = ", ".join(f"{c!r} ({per_column[c]['skew']:+.1f})" for c in flagged[:8])
        finding = self.finding(
            "skewed_feature", "info",
            f"{len(flagged)} numeric column(s) are strongly skewed (|skew| > {self.threshold}): {shown}"
            f"{' ...' if len(flagged) > 8 else ''}.",
            columns=flagged,
            details={"per_column": {c: per_column[c] for c in flagged}, "threshold": self.threshold,
                     "action": "apply a log1p transform to non-negative columns or a Yeo-Johnson power "
                     "transform (sklearn PowerTransformer), fitted on train only"},
        )
        return self.result([finding], stats=stats)
