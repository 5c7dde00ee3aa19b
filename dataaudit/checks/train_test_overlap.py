"""Train/test overlap: training rows that are exact or near copies of test rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._near_search import VALUE_ROLES, near_copy_links
from dataaudit.checks._neighbours import MAX_LISTED, identity_columns, later_members
from dataaudit.findings import CheckResult, Code
from dataaudit.grouping import (
    DEFAULT_RELATIVE_THRESHOLD,
    DEFAULT_SAMPLE_SIZE,
    exact_duplicate_groups,
    groups_from_codes,
)

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class TrainTestOverlapCheck(Check):
    """Train/test overlap: training rows whose features are exact or near copies of test rows.

    Exact: equal in every column except label and ID columns (NaN equals NaN). Near: the
    ``near_duplicates`` rule on the training and test rows together (training roles): same
    categories, text, missing pattern and recorded discrete values, numeric differences within
    ``relative_threshold`` times the chance scale.
    The label is never compared. Severity is ``error`` when more than ``error_share`` of the test
    rows have a copy in training, ``warning`` otherwise.
    """

    name = "train_test_overlap"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("train_test_overlap", title="Rows in both train and test", section="train-test", row_level=True,
             action="Remove the test rows that also occur in training: they inflate the test score."),
    )
    order = 95
    needs_test = True

    def __init__(
        self,
        relative_threshold: float = DEFAULT_RELATIVE_THRESHOLD,
        near: bool = True,
        error_share: float = 0.05,
        max_pairs: int = MAX_LISTED,
        method: Literal["auto", "exact", "lsh"] = "auto",
    ) -> None:
        if not 0.0 < relative_threshold <= 1.0:
            raise ValueError(f"relative_threshold must be in (0, 1], got {relative_threshold!r}")
        if not 0.0 <= error_share <= 1.0:
            raise ValueError(f"error_share must be in [0, 1], got {error_share!r}")
        if method not in ("auto", "exact", "lsh"):
            raise ValueError(f"method must be 'auto', 'exact' or 'lsh', got {method!r}")
        self.relative_threshold = relative_threshold
        self.near = near
        self.error_share = error_share
        self.max_pairs = max_pairs
        self.method = method

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        test = context.test
        if test is None:
            return self.skip("needs a test file (--test)")
        test_columns = set(test.columns)
        columns = [c for c in identity_columns(dataset) if c in test_columns]
        if not columns:
            return self.skip("the training and test files share no feature columns")
        n_train, n_test = dataset.n_rows, test.n_rows

        # Exact copies: group the stacked rows; a group with rows from both sides is an overlap.
        stacked = pd.concat([dataset.frame[columns], test.frame[columns]], ignore_index=True)
        group_of = np.full(n_train + n_test, -1, dtype=np.int64)
        exact_left: list[np.ndarray] = []
        exact_right: list[np.ndarray] = []
        for number, group in enumerate(exact_duplicate_groups(stacked, columns)):
            members = np.asarray(group)
            group_of[members] = number
            train_side, test_side = members[members < n_train], members[members >= n_train]
            if len(train_side) and len(test_side):
                exact_left.append(np.repeat(train_side, len(test_side)))
                exact_right.append(np.tile(test_side, len(train_side)))
        left = np.concatenate(exact_left) if exact_left else np.empty(0, dtype=np.int64)
        right = np.concatenate(exact_right) if exact_right else np.empty(0, dtype=np.int64)
        distance = np.zeros(len(left))
        n_exact = len(left)

        threshold = typical = float("nan")
        numeric = [c for c in columns if dataset.roles.get(c) == "numeric"]
        if self.near and numeric:
            # The near_duplicates rule on the stacked rows, with the training set's roles.
            key_columns = [c for c in columns if c not in numeric and dataset.roles.get(c) in VALUE_ROLES]
            values = stacked[numeric].apply(pd.to_numeric, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan, copy=True)
            values[~np.isfinite(values)] = np.nan
            firsts = np.ones(n_train + n_test, dtype=bool)
            firsts[later_members(groups_from_codes(group_of))] = False
            links = near_copy_links(stacked[key_columns], values, np.flatnonzero(firsts),
                                    relative_threshold=self.relative_threshold, method=self.method,
                                    sample_size=DEFAULT_SAMPLE_SIZE, seed=context.seed)
            threshold, typical = links.threshold_on, links.typical
            near_left, near_right, near_distance = _expand_over_copies(
                links.left, links.right, links.distance, group_of)
            cross = (near_left < n_train) & (near_right >= n_train)
            same_exact = (group_of[near_left] >= 0) & (group_of[near_left] == group_of[near_right])
            keep = cross & ~same_exact
            left = np.concatenate([left, near_left[keep]])
            right = np.concatenate([right, near_right[keep]])
            distance = np.concatenate([distance, near_distance[keep]])
        n_near = len(left) - n_exact
        right = right - n_train  # test row numbers

        stats = {
            "n_exact_pairs": int(n_exact),
            "n_near_pairs": int(n_near),
            "threshold": threshold,
            "typical_nn_distance": typical,
            "n_compared_columns": len(columns),
            "n_numeric_compared": len(numeric),
        }
        scores = np.ones(n_train, dtype=np.float64)
        if len(left):
            scale = threshold / self.relative_threshold if np.isfinite(threshold) else 0.0
            ratio = distance / scale if scale > 0 else np.zeros(len(left))
            np.minimum.at(scores, left, np.minimum(1.0, ratio))
        if not len(left):
            return self.result([], stats=stats, row_scores={"train_test_overlap": scores})

        train_rows = np.unique(left)
        test_rows = np.unique(right)
        share = len(test_rows) / max(n_test, 1)
        order = np.lexsort((right, left, distance))  # exact pairs first, then closest
        listed = order[: self.max_pairs]
        pairs = [[int(left[k]), int(right[k]), round(float(distance[k]), 6)] for k in listed]
        finding = self.finding(
            "train_test_overlap", "error" if share > self.error_share else "warning",
            f"{len(test_rows)} of {n_test} test rows ({share:.1%}) have a copy among "
            f"{len(train_rows)} training rows ({n_exact} exact, {n_near} near pairs).",
            rows=tuple(train_rows.tolist()),
            details={
                "test_rows": test_rows.tolist(),
                "pairs": pairs,
                "n_pairs": int(len(left)),
                "pairs_listed": len(pairs),
                "n_exact_pairs": int(n_exact),
                "n_near_pairs": int(n_near),
                "share_of_test": share,
                "threshold": threshold,
                "typical_nn_distance": typical,
                "action": "Test scores are inflated by rows the model has seen. Drop these rows "
                          "from training (never edit the test set), or re-split keeping "
                          "duplicate groups on one side.",
            },
        )
        stats["share_of_test"] = share
        return self.result([finding], stats=stats, row_scores={"train_test_overlap": scores})


def _expand_over_copies(left: np.ndarray, right: np.ndarray, distance: np.ndarray,
                        group_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Links between first members of exact groups, extended to every member, as (low, high) pairs."""
    if not len(left):
        return left, right, distance
    grouped = np.flatnonzero(group_of >= 0)
    members: dict[int, np.ndarray] = {}
    if len(grouped):
        order = grouped[np.argsort(group_of[grouped], kind="stable")]
        bounds = np.flatnonzero(np.diff(group_of[order])) + 1
        for part in np.split(order, bounds):
            members[int(group_of[part[0]])] = part
    lows, highs, dists = [], [], []
    for a, b, d in zip(left.tolist(), right.tolist(), distance.tolist(), strict=True):
        side_a = members.get(int(group_of[a]), np.array([a])) if group_of[a] >= 0 else np.array([a])
        side_b = members.get(int(group_of[b]), np.array([b])) if group_of[b] >= 0 else np.array([b])
        first = np.repeat(side_a, len(side_b))
        second = np.tile(side_b, len(side_a))
        lows.append(np.minimum(first, second))
        highs.append(np.maximum(first, second))
        dists.append(np.full(len(first), d))
    return np.concatenate(lows), np.concatenate(highs), np.concatenate(dists)
