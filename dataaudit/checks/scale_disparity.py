"""Scale disparity: numeric features on wildly different scales, the reason to standardize."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import numeric_matrix, sample_index, take_rows
from dataaudit.findings import CheckResult, Code, PerColumn

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class ScaleDisparity(Check):
    """Scale disparity: feature spreads differ by orders of magnitude, so inputs need standardizing.

    Parameters
    ----------
    max_ratio : float
        Flag when the largest column standard deviation is at least this many times the smallest
        (non-zero) one.
    sample_rows : int
        Spreads are computed on at most this many randomly chosen rows (seeded).
    """

    name = "scale_disparity"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("scale_disparity", title="Scale disparity", section="columns",
             action="Standardize these columns (fit-transform --scale standard) so no feature dominates "
                    "by its units."),
    )
    order = 91

    def __init__(self, max_ratio: float = 100.0, sample_rows: int = 200_000) -> None:
        if max_ratio <= 1:
            raise ValueError(f"max_ratio must be > 1, got {max_ratio}")
        self.max_ratio = max_ratio
        self.sample_rows = sample_rows

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        columns = dataset.numeric_columns
        if len(columns) < 2:
            return self.skip("needs at least two numeric columns")
        index = sample_index(dataset.n_rows, self.sample_rows, context.seed)
        matrix = take_rows(numeric_matrix(dataset), index)
        finite_count = np.isfinite(matrix).sum(axis=0)
        with np.errstate(invalid="ignore", over="ignore"):  # near-1e308 values give inf, handled below
            mean = np.nansum(matrix, axis=0) / np.maximum(finite_count, 1)
            std = np.sqrt(np.nansum((matrix - mean) ** 2, axis=0) / np.maximum(finite_count, 1))
        per_column: dict[str, dict[str, Any]] = {
            c: {"mean": float(mean[j]), "std": float(std[j])} for j, c in enumerate(columns) if finite_count[j]
        }
        usable = [j for j in range(len(columns)) if finite_count[j] > 1 and std[j] > 0]
        stats: dict[str, Any] = {"per_column": per_column, "n_rows_used": int(matrix.shape[0]),
                                 "sampled": index is not None}
        if len(usable) < 2:
            return self.result(stats=stats)
        largest = max(usable, key=lambda j: std[j])
        smallest = min(usable, key=lambda j: std[j])
        ratio = float(std[largest] / std[smallest])
        stats["ratio"] = ratio
        if ratio < self.max_ratio:
            return self.result(stats=stats)
        big, small = columns[largest], columns[smallest]
        finding = self.finding(
            "scale_disparity", "warning",
            f"Numeric columns differ in scale by a factor of {ratio:,.0f}: {big!r} has std "
            f"{std[largest]:.4g}, {small!r} has std {std[smallest]:.4g}. Unscaled, the large columns "
            "dominate distances and gradient steps.",
            columns=[big, small],
            evidence=PerColumn(per_column),
            details={"ratio": ratio, "max_ratio": self.max_ratio, "largest": big, "smallest": small,
                     "action": "standardize (dataaudit fit-transform --scale standard), fitted on train only"},
        )
        return self.result([finding], stats=stats)
