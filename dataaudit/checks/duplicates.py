"""Exact duplicate rows, and copies of the same features that carry different labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._neighbours import (
    feature_copy_groups,
    flag_scores,
    identity_columns,
    later_members,
)
from dataaudit.findings import CheckResult, Code, Finding

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@register
class DuplicatesCheck(Check):
    """Exact duplicate rows, and rows with identical features but different labels.

    Rows are compared on every column except ID columns (``ignore_id_columns``): NaN equals NaN.
    Rows hash-equal are verified cell by cell, so hash collisions never merge rows. With a label,
    rows whose features are identical split into exact copies (same label, ``exact_duplicate``)
    and, when the group holds more than one non-missing label, a ``conflicting_labels`` group with
    all its members and their labels. A copy whose label is missing is neither.
    """

    name = "duplicates"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("exact_duplicate", title="Exact duplicates", section="duplicates", row_level=True,
             action="Drop the copies (fit-transform does by default): they weigh some rows twice and can "
                    "land on both sides of a train/test split."),
        Code("conflicting_labels", title="Same features, different labels", section="duplicates", row_level=True,
             action="Review these groups: identical features carry different labels. Keep one row with "
                    "the right label or drop the group."),
    )
    order = 10

    def __init__(self, ignore_id_columns: bool = True) -> None:
        self.ignore_id_columns = ignore_id_columns

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        n = dataset.n_rows
        columns = identity_columns(dataset, ignore_id_columns=self.ignore_id_columns)
        ignored = [c for c in dataset.columns if c not in columns and c != dataset.label]
        feature_groups = feature_copy_groups(dataset, context, columns)

        exact_groups: list[list[int]] = []
        conflicting: list[list[int]] = []
        conflicting_labels: list[list[Any]] = []
        if dataset.label is None:
            exact_groups = feature_groups
        else:
            codes, _ = dataset.label_codes
            labels = dataset.frame[dataset.label]
            for group in feature_groups:
                members = np.asarray(group)
                group_codes = codes[members]
                # Split by label (a missing label, code -1, equals another missing label).
                for code in np.unique(group_codes):
                    same = members[group_codes == code]
                    if len(same) > 1:
                        exact_groups.append(same.tolist())
                if len(np.unique(group_codes[group_codes >= 0])) > 1:
                    conflicting.append(group)
                    conflicting_labels.append(labels.iloc[members].tolist())
            exact_groups.sort(key=lambda g: g[0])

        findings: list[Finding] = []
        exact_rows = later_members(exact_groups)
        conflict_rows = later_members(conflicting)
        if exact_groups:
            findings.append(self.finding(
                "exact_duplicate", "warning",
                f"{_plural(len(exact_rows), 'row is an exact copy', 'rows are exact copies')} of "
                f"earlier rows ({_plural(len(exact_groups), 'group', 'groups')}).",
                rows=tuple(exact_rows.tolist()),
                details={
                    "groups": exact_groups,
                    "compared_columns": len(columns) + (dataset.label is not None),
                    "ignored_columns": ignored,
                    "action": "Drop the later copies (the default cleaning keeps the first of each "
                              "group): copies over-weight some rows and leak between train and test.",
                },
            ))
        if conflicting:
            is_classification = dataset.task == "classification"
            findings.append(self.finding(
                "conflicting_labels", "error" if is_classification else "warning",
                f"{_plural(len(conflicting), 'group of rows has', 'groups of rows have')} identical "
                f"features but different labels ({_plural(len(conflict_rows) + len(conflicting), 'row', 'rows')}).",
                rows=tuple(conflict_rows.tolist()),
                columns=(dataset.label,) if dataset.label else (),
                details={
                    "groups": conflicting,
                    "labels": conflicting_labels,
                    "ignored_columns": ignored,
                    "action": "Check these labels: no model can fit two labels for the same features. "
                              "Keep one row with the right label, or drop the group.",
                },
            ))
        row_scores = {"exact_duplicate": flag_scores(n, exact_rows)}
        if dataset.label is not None:
            row_scores["conflicting_labels"] = flag_scores(n, conflict_rows)
        stats = {
            "n_exact_groups": len(exact_groups),
            "n_exact_rows": int(len(exact_rows)),
            "n_conflicting_groups": len(conflicting),
            "n_conflicting_rows": int(len(conflict_rows)),
            "n_compared_columns": len(columns),
        }
        return self.result(findings, stats=stats, row_scores=row_scores)
