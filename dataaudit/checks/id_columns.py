"""ID-like columns: a unique value per row, which a model would memorize instead of learn from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import json_value
from dataaudit.findings import CheckResult, Code

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class IdColumns(Check):
    """ID columns: unique per row (row numbers, keys, hashes); never use them as features."""

    name = "id_columns"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("id_column", title="ID columns", section="columns",
             action="Keep it as a row identifier but drop it from the features: a model can memorize IDs."),
    )
    order = 71

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        per_column: dict[str, dict[str, Any]] = {}
        for column in dataset.columns_with_role("id"):
            if column == dataset.id_column:
                continue  # declared with --id: the user already knows
            values = dataset.frame[column]
            numeric = pd.api.types.is_numeric_dtype(values)
            per_column[column] = {
                "n_distinct": int(values.nunique(dropna=True)),
                "unique_share": float(values.nunique(dropna=True) / max(len(values), 1)),
                "monotonic": bool(numeric and (values.is_monotonic_increasing or values.is_monotonic_decreasing)),
                "dtype": str(values.dtype),
                "examples": [json_value(v) for v in values.head(3).tolist()],
            }
        stats = {"declared_id": dataset.id_column, "n_id_columns": len(per_column)}
        if not per_column:
            return self.result(stats=stats)
        names = list(per_column)
        finding = self.finding(
            "id_column", "warning",
            f"{len(names)} column(s) look like row identifiers (a unique value per row): "
            f"{', '.join(repr(n) for n in names[:8])}{' ...' if len(names) > 8 else ''}. "
            "A model can memorize them; they must not be features.",
            columns=names,
            details={"per_column": per_column,
                     "action": "drop them from the features (pass --id COL to keep one as the row key); "
                     "if rows were sorted by label before numbering, the ID also leaks the label"},
        )
        return self.result([finding], stats=stats)
