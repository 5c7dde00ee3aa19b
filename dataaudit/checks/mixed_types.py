"""Mixed types: numbers and text in the same column (stray strings, unit suffixes, typos)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import fmt_share, is_placeholder, listed_rows
from dataaudit.findings import CheckResult, Code, Finding

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

_SAMPLE_VALUES = 10


@register
class MixedTypes(Check):
    """Mixed types: columns holding both numbers and text, so neither reading is right.

    Parameters
    ----------
    min_share : float
        A text column is flagged when numbers and non-numbers are both at least this share of its
        filled cells; a mostly numeric column is flagged for any stray non-numeric cell.
    """

    name = "mixed_types"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("mixed_types", title="Mixed types", section="columns",
             action="Fix the stray values at the source, or treat them as missing."),
    )
    order = 73

    def __init__(self, min_share: float = 0.05) -> None:
        self.min_share = min_share

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        findings: list[Finding] = []
        for column, cells in dataset.coerced.items():
            if column not in dataset.frame.columns or column == dataset.label:
                continue
            # Placeholders such as "?" mean "missing" and belong to the missing_values check.
            stray = [(int(r), str(v)) for r, v in zip(cells["rows"], cells["values"], strict=False)
                     if not is_placeholder(v)]
            if stray:
                findings.append(self._numeric_with_strays(dataset, column, stray, context.seed))
        for column in dataset.columns_with_role("categorical", "text", "id"):
            if column == dataset.label or column in dataset.coerced:
                continue
            found = self._text_with_numbers(dataset, column, context.seed)
            if found is not None:
                findings.append(found)
        return self.result(findings, stats={"n_coerced_columns": len(dataset.coerced)})

    def _numeric_with_strays(self, dataset: Dataset, column: str, stray: list[tuple[int, str]],
                             seed: int) -> Finding:
        rows, sampled = listed_rows([r for r, _ in stray], seed)
        counts = Counter(v for _, v in stray)
        share = len(stray) / max(dataset.n_rows, 1)
        return self.finding(
            "mixed_types", "warning",
            f"Column {column!r} is numeric but {len(stray)} cells ({fmt_share(share)}) are not numbers, "
            f"e.g. {', '.join(repr(v) for v, _ in counts.most_common(3))}; they were read as missing.",
            rows=rows, columns=[column],
            details={"kind": "numeric_with_text", "n_cells": len(stray), "share": share,
                     "sample_values": [{"value": v, "count": c} for v, c in counts.most_common(_SAMPLE_VALUES)],
                     "rows_sampled": sampled,
                     "action": "fix these cells at the source (units, typos, shifted columns) or treat them "
                     "as missing"},
        )

    def _text_with_numbers(self, dataset: Dataset, column: str, seed: int) -> Finding | None:
        values = dataset.frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            return None
        # Classify each distinct value once: cheap for categorical columns with few categories.
        counts = values.value_counts(dropna=True)
        if counts.empty:
            return None
        keys = pd.Series(counts.index, dtype=object)
        placeholder = keys.map(is_placeholder).to_numpy(dtype=bool)
        is_number = pd.to_numeric(keys.astype(str).str.strip(), errors="coerce").notna().to_numpy()
        weights = counts.to_numpy()
        n_number = int(weights[is_number & ~placeholder].sum())
        n_text = int(weights[~is_number & ~placeholder].sum())
        filled = n_number + n_text
        if not n_number or not n_text:
            return None
        mostly_numeric = n_number / filled >= 0.5
        minority = n_text if mostly_numeric else n_number
        if not mostly_numeric and minority / filled < self.min_share:
            return None
        if not mostly_numeric and dataset.roles.get(column) == "id":
            # Names that look like numbers among the names of an identifier (Cars93's Model: '90',
            # '100', '323' beside 'Integra') are names, not misread numbers; id_columns reports the
            # column itself.
            return None
        minority_is_number = not mostly_numeric
        minority_keys = keys[(is_number == minority_is_number) & ~placeholder]
        hits = np.flatnonzero(values.isin(minority_keys.tolist()).to_numpy())
        rows, sampled = listed_rows(hits, seed)
        sample: list[dict[str, Any]] = [
            {"value": str(k), "count": int(counts[k])} for k in minority_keys.iloc[:_SAMPLE_VALUES]
        ]
        kind = "numeric_with_text" if mostly_numeric else "text_with_numbers"
        what = "text" if mostly_numeric else "numbers"
        return self.finding(
            "mixed_types", "warning",
            f"Column {column!r} mixes numbers ({n_number} cells) and text ({n_text} cells); the {minority} "
            f"{what} cells are e.g. {', '.join(repr(s['value']) for s in sample[:3])}.",
            rows=rows, columns=[column],
            details={"kind": kind, "n_numbers": n_number, "n_text": n_text, "n_cells": minority,
                     "share": minority / max(dataset.n_rows, 1), "sample_values": sample, "rows_sampled": sampled,
                     "action": "decide what the column is: fix the odd cells at the source, or encode "
                     "numbers and text separately"},
        )
