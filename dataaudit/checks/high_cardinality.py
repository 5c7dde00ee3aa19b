"""High-cardinality categorical and text columns: too many distinct values to one-hot encode."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import top_values
from dataaudit.findings import CheckResult, Code, Finding, PerColumn

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class HighCardinality(Check):
    """High cardinality: categorical or text columns with very many distinct values.

    Parameters
    ----------
    min_distinct : int
        Flag a column with more than this many distinct values ...
    min_share : float
        ... that is also more than this share of the rows.
    """

    name = "high_cardinality"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("high_cardinality", title="High-cardinality columns", section="columns",
             action="Group rare values into 'other' or use frequency/target encoding fitted on train "
                    "only."),
    )
    order = 72

    def __init__(self, min_distinct: int = 50, min_share: float = 0.05) -> None:
        self.min_distinct = min_distinct
        self.min_share = min_share

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        n_rows = max(dataset.n_rows, 1)
        per_role: dict[str, dict[str, dict[str, Any]]] = {"categorical": {}, "text": {}}
        for column in dataset.columns_with_role("categorical", "text"):
            values = dataset.frame[column]
            n_distinct = int(values.nunique(dropna=True))
            if n_distinct > self.min_distinct and n_distinct / n_rows > self.min_share:
                counts = values.value_counts(dropna=True)
                per_role[dataset.roles[column]][column] = {
                    "n_distinct": n_distinct,
                    "distinct_share": n_distinct / n_rows,
                    "n_seen_once": int((counts == 1).sum()),
                    "top_values": top_values(values),
                }
        findings: list[Finding] = []
        actions = {
            "categorical": "group rare categories into 'other', or use frequency/target encoding (fit on "
            "train only); one-hot would add one column per category",
            "text": "free text: derive features (length, tokens, embeddings) or drop the column",
        }
        for role, found in per_role.items():
            if not found:
                continue
            names = list(found)
            described = ", ".join(f"{n!r} ({found[n]['n_distinct']} values)" for n in names[:8])
            findings.append(self.finding(
                "high_cardinality", "warning" if role == "categorical" else "info",
                f"{len(names)} {role} column(s) have many distinct values: {described}.",
                columns=names,
                evidence=PerColumn(found),
                details={"role": role, "action": actions[role]},
            ))
        stats = {"thresholds": {"min_distinct": self.min_distinct, "min_share": self.min_share}}
        return self.result(findings, stats=stats)
