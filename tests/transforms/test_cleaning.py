"""Cleaning policy: exact duplicates, conflicting labels, suspects; test rows are never cleaned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.exceptions import ConfigError
from dataaudit.findings import AuditResult, CheckResult, Finding
from dataaudit.transforms.cleaning import (
    CleaningPolicy,
    conflicting_groups,
    post_split_decisions,
    pre_split_removals,
    row_hashes,
    suspects_from_findings,
)


def _frame() -> pd.DataFrame:
    # rows 0,3 exact copies; rows 1,4 same features, different label; row 5 missing label.
    return pd.DataFrame({
        "a": [1.0, 2.0, 3.0, 1.0, 2.0, 9.0, np.nan, np.nan],
        "c": ["x", "y", "z", "x", "y", "q", "w", "w"],
        "y": [0, 1, 0, 0, 0, None, 1, 1],
    })


def test_pre_split_drops_exact_copies_after_the_first_and_missing_labels() -> None:
    frame = _frame()
    hashes = row_hashes(frame, ["a", "c"], "y")
    removed = pre_split_removals(hashes, frame["y"].isna().to_numpy(), CleaningPolicy())
    # NaN equals NaN for duplicates: row 7 copies row 6.
    assert removed == {3: "exact_duplicate", 5: "missing_label", 7: "exact_duplicate"}


def test_keep_duplicates_policy_keeps_them() -> None:
    frame = _frame()
    hashes = row_hashes(frame, ["a", "c"], "y")
    removed = pre_split_removals(hashes, frame["y"].isna().to_numpy(), CleaningPolicy(drop_exact_duplicates=False))
    assert removed == {5: "missing_label"}


def test_conflicting_groups_found() -> None:
    frame = _frame()
    hashes = row_hashes(frame, ["a", "c"], "y")
    y = frame["y"].fillna(-1).to_numpy()
    groups = conflicting_groups(hashes.features, y, np.array([0, 1, 2, 4]))
    assert [sorted(g.tolist()) for g in groups] == [[1, 4]]


def test_conflicting_and_suspects_cleaned_in_train_val_but_never_in_test() -> None:
    frame = _frame()
    hashes = row_hashes(frame, ["a", "c"], "y")
    y = frame["y"].fillna(-1).to_numpy().astype(np.int64)
    kept = np.array([0, 1, 2, 4])
    suspects = pd.DataFrame({"row": [0, 2], "given": [0, 0], "suggested": [1, 1], "score": [0.01, 0.02]})
    split = np.zeros(len(frame), dtype=np.int8)
    split[2] = 2  # row 2 is in test: its suspect label stays
    decisions = post_split_decisions(hashes, y, split, kept, suspects, CleaningPolicy(suspects="drop"))
    assert decisions.removed == {1: "conflicting_labels", 4: "conflicting_labels", 0: "label_issue"}
    split[[1, 4]] = 2  # the conflicting group in test: kept as it is
    decisions = post_split_decisions(hashes, y, split, kept, suspects, CleaningPolicy(suspects="relabel"))
    assert decisions.removed == {}
    assert decisions.relabelled == {0: 1}


def test_suspect_threshold_is_respected() -> None:
    frame = _frame()
    hashes = row_hashes(frame, ["a", "c"], "y")
    y = np.zeros(len(frame), dtype=np.int64)
    suspects = pd.DataFrame({"row": [0, 2], "given": [0, 0], "suggested": [1, 1], "score": [0.05, 0.5]})
    decisions = post_split_decisions(hashes, y, np.zeros(8, np.int8), np.array([0, 2]), suspects,
                                     CleaningPolicy(suspects="drop", suspect_threshold=0.3))
    assert decisions.removed == {0: "label_issue"}


def test_suspects_read_from_label_issue_findings() -> None:
    finding = Finding("label_issues", "label_issue", "warning", "2 suspects", rows=(4, 1),
                      details={"per_row": [{"row": 4, "given": "a", "suggested": "b", "score": 0.01},
                                           {"row": 1, "given": "b", "suggested": "a", "score": 0.3}]})
    audit = AuditResult(input={}, checks=[CheckResult("label_issues", findings=[finding])])
    table = suspects_from_findings(audit)
    assert table["row"].tolist() == [4, 1]
    assert table["score"].tolist() == [0.01, 0.3]


def test_bad_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="suspects"):
        CleaningPolicy(suspects="delete")
