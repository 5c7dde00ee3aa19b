"""Helpers shared by the duplicate checks: the row-identity groups (``grouping``), computed once per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dataaudit.collisions import DEFAULT_COLLISION_ALPHA, RecordGroups
from dataaudit.grouping import exact_group_codes, groups_from_codes, identity_columns
from dataaudit.shared import MemoKey

__all__ = ["identity_columns", "feature_group_codes", "feature_copy_groups", "record_groups",
           "later_members", "flag_scores", "MAX_LISTED"]

if TYPE_CHECKING:
    from dataaudit.checks._base import AuditContext
    from dataaudit.dataset import Dataset

# How many groups or pairs a finding lists in full in its details.
MAX_LISTED = 1000


@dataclass(frozen=True)
class GroupCodesKey(MemoKey[np.ndarray]):
    """``exact_group_codes`` of one dataset on ``columns``."""

    dataset: str  # Dataset.sha256
    n_rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class RecordGroupsKey(MemoKey[RecordGroups]):
    """The feature groups of one dataset on ``columns``, judged copies or collisions at ``alpha``."""

    dataset: str
    n_rows: int
    columns: tuple[str, ...]
    alpha: float


def feature_group_codes(dataset: Dataset, context: AuditContext, columns: list[str]) -> np.ndarray:
    """``exact_group_codes(dataset.frame, columns)``, computed once per run and shared by checks."""
    key = GroupCodesKey(dataset.sha256, dataset.n_rows, tuple(columns))
    return context.memo.get(key, lambda: exact_group_codes(dataset.frame, columns))


def feature_copy_groups(dataset: Dataset, context: AuditContext, columns: list[str]) -> list[list[int]]:
    """``exact_duplicate_groups(dataset.frame, columns)`` from the shared group codes."""
    return groups_from_codes(feature_group_codes(dataset, context, columns))


def record_groups(dataset: Dataset, context: AuditContext, columns: list[str],
                  alpha: float = DEFAULT_COLLISION_ALPHA) -> RecordGroups:
    """The feature groups on ``columns``, each judged duplicate records or a chance collision."""
    key = RecordGroupsKey(dataset.sha256, dataset.n_rows, tuple(columns), float(alpha))
    return context.memo.get(key, lambda: RecordGroups.judge(
        dataset.frame, columns, feature_group_codes(dataset, context, columns), alpha=alpha))


def later_members(groups: list[list[int]]) -> np.ndarray:
    """Every member of every group except its first occurrence, ascending."""
    rows = [m for group in groups for m in group[1:]]
    return np.sort(np.asarray(rows, dtype=np.int64))


def flag_scores(n_rows: int, flagged: np.ndarray) -> np.ndarray:
    """Per-row score for rows.csv: 0.0 for flagged rows, 1.0 for the others."""
    scores = np.ones(n_rows, dtype=np.float64)
    scores[flagged] = 0.0
    return scores
