"""Class balance: is the smallest class much rarer than the largest?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import fmt_share, json_value
from dataaudit.findings import CheckResult, Code

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class ClassBalance(Check):
    """Class imbalance: the smallest class has far fewer rows than the largest.

    Parameters
    ----------
    max_ratio : float
        Flag when (rows of the smallest class) / (rows of the largest class) is at most this.
        A class with a single row is always flagged (it cannot be in both train and test).
    """

    name = "class_balance"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("class_imbalance", title="Class imbalance", section="classes",
             action="Use class weights or resampling, a stratified split, and per-class metrics (recall, "
                    "F1) instead of accuracy alone."),
    )
    order = 40
    needs_label = True
    needs_classes = True

    def __init__(self, max_ratio: float = 0.1) -> None:
        if not 0 < max_ratio < 1:
            raise ValueError(f"max_ratio must be in (0, 1), got {max_ratio}")
        self.max_ratio = max_ratio

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        if dataset.label is None or dataset.task != "classification":
            return self.skip("needs a classification label")
        counts = dataset.frame[dataset.label].value_counts(dropna=True)
        n_labelled = int(counts.sum())
        stats: dict[str, Any] = {"n_classes": int(len(counts)), "n_labelled": n_labelled}
        if len(counts) < 2:
            return self.skip("the label has fewer than two classes", **stats)
        per_class = [
            {"label": json_value(label), "count": int(count), "share": count / n_labelled}
            for label, count in counts.items()
        ]
        majority, minority = per_class[0], per_class[-1]
        ratio = minority["count"] / majority["count"]
        rare = [c for c in per_class if c["count"] / majority["count"] <= self.max_ratio or c["count"] == 1]
        stats.update({"counts": per_class, "ratio": ratio})
        if not rare:
            return self.result(stats=stats)
        singletons = [c["label"] for c in per_class if c["count"] == 1]
        message = (
            f"The smallest class {minority['label']!r} has {minority['count']} rows, "
            f"{fmt_share(ratio)} of the largest class {majority['label']!r} ({majority['count']} rows)."
        )
        if singletons:
            message += f" {len(singletons)} class(es) have a single row: {singletons[:5]}."
        finding = self.finding(
            "class_imbalance",
            "warning",
            message,
            columns=[dataset.label],
            details={
                "counts": per_class,
                "ratio": ratio,
                "max_ratio": self.max_ratio,
                "rare_classes": [c["label"] for c in rare],
                "single_row_classes": singletons,
                "action": "use class weights or a stratified split; report per-class metrics "
                "(balanced accuracy, F1) rather than accuracy; collect more rows of the rare classes",
            },
        )
        return self.result([finding], stats=stats)
