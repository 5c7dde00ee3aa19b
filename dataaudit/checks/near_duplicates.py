"""Near duplicates: rows much closer to another row than rows typically are to their nearest one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._neighbours import feature_copy_groups, identity_columns, later_members
from dataaudit.findings import CheckResult, Code
from dataaudit.grouping import (
    DEFAULT_RELATIVE_THRESHOLD,
    DEFAULT_SAMPLE_SIZE,
    near_duplicate_groups,
)

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class NearDuplicatesCheck(Check):
    """Near duplicates: rows closer to another row than a small share of the typical neighbour distance.

    Works on ``Dataset.feature_matrix`` (standardized numeric + one-hot categorical; no label, ID
    or text). Two rows are linked when their distance is at most ``relative_threshold`` (default
    0.02) times the median nearest-neighbour distance of a sample; groups are connected components
    of the links. Exact copies (same values in every column but label and ID) are the
    ``duplicates`` check's business: each copy group takes part here through its first row only,
    so a near group lists at most one row of an exact group. Exact radius search up to 20,000
    rows, LSH candidates verified with exact distances above that (``method``).
    """

    name = "near_duplicates"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("near_duplicate", title="Near duplicates", section="duplicates", row_level=True,
             action="Check whether these are the same item recorded twice; keep each group in one split "
                    "(group split) so the test score is not inflated."),
    )
    order = 20

    def __init__(
        self,
        relative_threshold: float = DEFAULT_RELATIVE_THRESHOLD,
        method: Literal["auto", "exact", "lsh"] = "auto",
        sample_size: int = DEFAULT_SAMPLE_SIZE,
    ) -> None:
        if not 0.0 < relative_threshold <= 1.0:
            raise ValueError(f"relative_threshold must be in (0, 1], got {relative_threshold!r}")
        if method not in ("auto", "exact", "lsh"):
            raise ValueError(f"method must be 'auto', 'exact' or 'lsh', got {method!r}")
        if sample_size < 2:
            raise ValueError(f"sample_size must be at least 2, got {sample_size!r}")
        self.relative_threshold = relative_threshold
        self.method = method
        self.sample_size = sample_size

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        X, names = dataset.feature_matrix
        n = dataset.n_rows
        if X.shape[1] == 0:
            return self.skip("no numeric, boolean or categorical feature columns to compare")
        copy_groups = feature_copy_groups(dataset, context, identity_columns(dataset))
        copies = later_members(copy_groups)
        kept = np.setdiff1d(np.arange(n), copies) if len(copies) else np.arange(n)
        local_groups, info = near_duplicate_groups(
            X[kept] if len(copies) else X,
            relative_threshold=self.relative_threshold,
            seed=context.seed,
            method=self.method,
            sample_size=self.sample_size,
        )
        groups = [kept[g].tolist() for g in local_groups]

        # Score: distance to the nearest row found within the threshold over the typical distance;
        # 1.0 where none was found; 0.0 for rows with an exact copy.
        scores = np.ones(n, dtype=np.float64)
        if info.typical_nn_distance > 0:
            scores[kept] = np.minimum(1.0, info.nearest_distance / info.typical_nn_distance)
        for group in copy_groups:
            scores[group] = 0.0

        stats = {
            "n_groups": len(groups),
            "n_rows": int(sum(len(g) - 1 for g in groups)),
            "threshold": info.threshold,
            "typical_nn_distance": info.typical_nn_distance,
            "method": info.method,
            "n_candidates": info.n_candidates,
            "n_features": int(X.shape[1]),
            "n_exact_copies_skipped": int(len(copies)),
        }
        if not groups:
            return self.result([], stats=stats, row_scores={"near_duplicate": scores})
        rows = later_members(groups)
        finding = self.finding(
            "near_duplicate", "warning",
            f"{len(rows)} {'row is a near copy' if len(rows) == 1 else 'rows are near copies'} of "
            f"earlier rows ({len(groups)} {'group' if len(groups) == 1 else 'groups'}; distance "
            f"<= {info.threshold:.3g}, {self.relative_threshold:g} x the typical nearest-neighbour "
            f"distance {info.typical_nn_distance:.3g}).",
            rows=tuple(rows.tolist()),
            details={
                "groups": groups,
                "group_max_distance": [round(d, 6) for d in info.group_max_distance],
                "threshold": info.threshold,
                "typical_nn_distance": info.typical_nn_distance,
                "relative_threshold": self.relative_threshold,
                "method": info.method,
                "features": len(names),
                "action": "Look at a few groups: near copies (re-saved, rounded or slightly edited "
                          "rows) over-weight some examples and leak between splits. Keep one row "
                          "per group, or keep groups together when splitting.",
            },
        )
        return self.result([finding], stats=stats, row_scores={"near_duplicate": scores})
