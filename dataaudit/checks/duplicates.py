"""Exact duplicate records, copies of the same features with different labels, and chance collisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._neighbours import MAX_LISTED, flag_scores, later_members, record_groups
from dataaudit.collisions import DEFAULT_COLLISION_ALPHA
from dataaudit.findings import CheckResult, Code, Finding, Groups
from dataaudit.grouping import groups_from_codes, identity_columns

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@register
class DuplicatesCheck(Check):
    """Exact duplicate records, rows with identical features but different labels, and chance collisions.

    Rows are compared on every column except ID columns (``ignore_id_columns``): NaN equals NaN.
    Rows hash-equal are verified cell by cell, so hash collisions never merge rows. Each group of
    equal rows is judged against chance (``dataaudit.collisions``): with few low-cardinality
    columns distinct records share their values by chance, and such groups are reported as
    ``feature_collision`` (info; the rows are kept). The other groups are duplicate records: with
    a label, they split into exact copies (same label, ``exact_duplicate``) and, when the group
    holds more than one non-missing label, a ``conflicting_labels`` group with all its members
    and their labels. A copy whose label is missing is neither. ``collision_alpha=0`` turns the
    chance judgement off (every group is a group of copies).
    """

    name = "duplicates"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("exact_duplicate", title="Exact duplicates", section="duplicates", row_level=True,
             action="Drop the copies (fit-transform does by default): they weigh some rows twice and can "
                    "land on both sides of a train/test split."),
        Code("conflicting_labels", title="Same features, different labels", section="duplicates", row_level=True,
             action="Review these groups: identical features carry different labels. Keep one row with "
                    "the right label or drop the group."),
        Code("feature_collision", title="Shared feature values (chance)", section="duplicates", row_level=False,
             action="Nothing to remove: different records share these few feature values by chance. Add "
                    "the columns that tell them apart if they should be distinguishable."),
    )
    order = 10

    def __init__(self, ignore_id_columns: bool = True, collision_alpha: float = DEFAULT_COLLISION_ALPHA) -> None:
        if not 0.0 <= collision_alpha < 1.0:
            raise ValueError(f"collision_alpha must be in [0, 1), got {collision_alpha!r}")
        self.ignore_id_columns = ignore_id_columns
        self.collision_alpha = collision_alpha

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        n = dataset.n_rows
        columns = identity_columns(dataset, ignore_id_columns=self.ignore_id_columns)
        ignored = [c for c in dataset.columns if c not in columns and c != dataset.label]
        context.progress.step(f"hashing {n:,} rows over {len(columns)} columns")
        records = record_groups(dataset, context, columns, alpha=self.collision_alpha)
        context.progress.step("copy groups by label")
        label_codes = dataset.label_codes[0] if dataset.label is not None else None
        exact_codes, conflict_codes = records.split_by_label(label_codes)
        exact_groups = groups_from_codes(exact_codes)
        conflicting = groups_from_codes(conflict_codes)
        collisions = groups_from_codes(records.collision_codes())

        findings: list[Finding] = []
        exact_rows = later_members(exact_groups)
        conflict_rows = later_members(conflicting)
        if exact_groups:
            findings.append(self.finding(
                "exact_duplicate", "warning",
                f"{_plural(len(exact_rows), 'row is an exact copy', 'rows are exact copies')} of "
                f"earlier rows ({_plural(len(exact_groups), 'group', 'groups')}).",
                rows=tuple(exact_rows.tolist()),
                evidence=Groups.of(exact_groups),
                details={
                    "compared_columns": len(columns) + (dataset.label is not None),
                    "ignored_columns": ignored,
                    "max_p_value": records.max_p_value(exact_codes),
                    "action": "Drop the later copies (the default cleaning keeps the first of each "
                              "group): copies over-weight some rows and leak between train and test.",
                },
            ))
        if conflicting:
            is_classification = dataset.task == "classification"
            labels = dataset.frame[dataset.label]
            findings.append(self.finding(
                "conflicting_labels", "error" if is_classification else "warning",
                f"{_plural(len(conflicting), 'group of rows has', 'groups of rows have')} identical "
                f"features but different labels ({_plural(len(conflict_rows) + len(conflicting), 'row', 'rows')}).",
                rows=tuple(conflict_rows.tolist()),
                columns=(dataset.label,) if dataset.label else (),
                evidence=Groups.of(conflicting),
                details={
                    "labels": _labels_of(labels, conflicting),
                    "ignored_columns": ignored,
                    "max_p_value": records.max_p_value(conflict_codes),
                    "action": "Check these labels: no model can fit two labels for the same features. "
                              "Keep one row with the right label, or drop the group.",
                },
            ))
        if collisions:
            findings.append(self._collision_finding(dataset, records, collisions, columns, label_codes))
        row_scores = {"exact_duplicate": flag_scores(n, exact_rows)}
        if dataset.label is not None:
            row_scores["conflicting_labels"] = flag_scores(n, conflict_rows)
        stats = {
            "n_exact_groups": len(exact_groups),
            "n_exact_rows": int(len(exact_rows)),
            "n_conflicting_groups": len(conflicting),
            "n_conflicting_rows": int(len(conflict_rows)),
            "n_collision_groups": len(collisions),
            "n_collision_rows": int(sum(len(g) for g in collisions)),
            "n_compared_columns": len(columns),
        }
        return self.result(findings, stats=stats, row_scores=row_scores)

    def _collision_finding(self, dataset: Dataset, records: Any, collisions: list[list[int]], columns: list[str],
                           label_codes: np.ndarray | None) -> Finding:
        chance = records.chance
        groups = np.flatnonzero(chance.by_chance)  # feature-group numbers, in first-member order
        n_rows = int(chance.observed[groups].sum())
        mixed = 0
        if label_codes is not None:
            frame = pd.DataFrame({"g": records.codes, "y": label_codes})
            frame = frame[(frame["g"] >= 0) & (frame["y"] >= 0)]
            n_labels = frame.groupby("g")["y"].nunique()
            mixed = int((n_labels.reindex(groups).fillna(0) > 1).sum())
        largest = int(groups[np.argmax(chance.observed[groups])])
        listed = groups[:MAX_LISTED]
        message = (
            f"{_plural(n_rows, 'row shares', 'rows share')} all feature values with other rows "
            f"({_plural(len(groups), 'group', 'groups')}) about as often as chance predicts for "
            f"{_plural(len(columns), 'column', 'columns')} (largest group: {int(chance.observed[largest])} rows, "
            f"{chance.expected[largest]:.1f} expected by chance); these are different records sharing "
            "values, not copies, and are kept."
        )
        if mixed:
            message += f" {_plural(mixed, 'group carries', 'groups carry')} different labels, as different records may."
        return self.finding(
            "feature_collision", "info", message,
            rows=tuple(later_members(collisions).tolist()),
            evidence=Groups.of(collisions[:MAX_LISTED]),
            details={
                "n_groups": len(groups),
                "n_rows": n_rows,
                "n_groups_with_different_labels": mixed,
                "observed": chance.observed[listed].astype(int).tolist(),
                "expected": [round(float(v), 3) for v in chance.expected[listed]],
                "p_value": [float(f"{v:.4g}") for v in chance.p_value[listed]],
                "threshold": chance.threshold,
                "alpha": chance.alpha,
                "compared_columns": len(columns),
                "action": "Nothing to remove: these rows are distinct records whose few features coincide. "
                          "If they should be distinguishable, add the columns that tell them apart "
                          "(a name, a date); if they really are copies, pass the duplicates option "
                          "collision_alpha=0.",
            },
        )


def _labels_of(labels: pd.Series, groups: list[list[int]]) -> list[list[Any]]:
    """The label values of each group's members (one take, not one lookup per group)."""
    if not groups:
        return []
    values = labels.iloc[np.concatenate([np.asarray(g) for g in groups])].tolist()
    out: list[list[Any]] = []
    start = 0
    for group in groups:
        out.append(values[start: start + len(group)])
        start += len(group)
    return out
