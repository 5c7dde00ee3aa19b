"""Highly correlated numeric features: redundant columns that add nothing but conditioning trouble."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import numeric_matrix, sample_index, take_rows
from dataaudit.findings import CheckResult, Code
from dataaudit.shared import CorrelationMatrix
from dataaudit.stats import pairwise_correlation, pairwise_correlation_with_counts

__all__ = ["Correlations", "pairwise_correlation"]

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# The report draws a heatmap from stats["matrix"] only up to this many columns.
MAX_MATRIX_COLUMNS = 50
# |r| at or above this means one column is (almost) a copy or a rescaling of the other.
DUPLICATE_R = 0.999


@register
class Correlations(Check):
    """High correlation: pairs of numeric columns that (almost) determine each other.

    Parameters
    ----------
    threshold : float
        Report pairs with absolute Pearson correlation at or above this.
    sample_rows : int
        Correlations are computed on at most this many randomly chosen rows (seeded).
    min_rows : int
        A pair is judged only on at least this many rows where both columns are present: on a
        handful of shared rows (two mostly empty columns) |r| = 1 is chance, not redundancy.
    """

    name = "correlations"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("high_correlation", title="Highly correlated columns", section="correlations",
             action="Drop one column of each pair, or decorrelate with PCA/ZCA whitening."),
    )
    order = 85

    def __init__(self, threshold: float = 0.95, sample_rows: int = 200_000, min_rows: int = 30) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if min_rows < 3:
            raise ValueError(f"min_rows must be at least 3, got {min_rows}")
        self.threshold = threshold
        self.sample_rows = sample_rows
        self.min_rows = min_rows

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        columns = dataset.numeric_columns
        if len(columns) < 2:
            return self.skip("needs at least two numeric columns")
        index = sample_index(dataset.n_rows, self.sample_rows, context.seed)
        matrix = take_rows(numeric_matrix(dataset), index)
        # A small table is judged on all its rows; the minimum bites where missing cells thin a pair out.
        min_rows = min(self.min_rows, int(matrix.shape[0]))
        corr, n_shared = pairwise_correlation_with_counts(matrix, min_rows)
        # The report draws its heatmap from this very matrix (it computes no correlations).
        context.shared.correlations = CorrelationMatrix(
            columns=tuple(columns), r=corr, n_shared=n_shared, n_rows_used=int(matrix.shape[0]),
            sampled=index is not None)
        stats: dict[str, Any] = {
            "columns": columns,
            "n_rows_used": int(matrix.shape[0]),
            "sampled": index is not None,
            "threshold": self.threshold,
            "min_rows": max(min_rows, 3),
        }
        if len(columns) <= MAX_MATRIX_COLUMNS:
            stats["matrix"] = np.round(corr, 4)
        upper_i, upper_j = np.triu_indices(len(columns), k=1)
        r = corr[upper_i, upper_j]
        high = np.flatnonzero(np.abs(np.nan_to_num(r)) >= self.threshold)
        if not len(high):
            return self.result(stats=stats)
        order = high[np.argsort(-np.abs(r[high]), kind="stable")]
        pairs = [{"a": columns[upper_i[k]], "b": columns[upper_j[k]], "r": float(r[k]),
                  "n_rows": int(n_shared[upper_i[k], upper_j[k]])} for k in order]
        involved = list(dict.fromkeys(name for p in pairs for name in (p["a"], p["b"])))
        stats["n_pairs"] = len(pairs)
        duplicate_like = [p for p in pairs if abs(p["r"]) >= DUPLICATE_R]
        shown = ", ".join(f"{p['a']!r}~{p['b']!r} (r={p['r']:.3f})" for p in pairs[:5])
        finding = self.finding(
            "high_correlation", "warning" if duplicate_like else "info",
            f"{len(pairs)} pair(s) of numeric columns have |r| >= {self.threshold}: {shown}"
            f"{' ...' if len(pairs) > 5 else ''}.",
            columns=involved,
            details={"pairs": pairs[:200], "n_pairs": len(pairs), "threshold": self.threshold,
                     "n_rows_used": int(matrix.shape[0]),
                     "action": "drop one column of each pair, or decorrelate with PCA whitening "
                     "(dataaudit fit-transform --whiten pca); a copy of another column may also be a leak"},
        )
        return self.result([finding], stats=stats)
