"""Cleaning policy: which rows leave the data (to quarantine.csv), which get relabelled, and why.

Order of decisions, and why it is leakage-safe and never "cleans" test labels:

1. Before the split, on every row: rows with a missing label (``missing_label``) and exact
   duplicates — same features *and* same label — beyond the first copy (``exact_duplicate``).
   Dropping a verbatim copy changes no label, so it may happen everywhere, test included; doing it
   first also stops one copy landing in train and another in test.
2. The split then keeps every feature-identical group and every near-duplicate group in one split.
3. After the split, on train and validation rows only: conflicting-label groups (same features,
   different labels) are quarantined whole (``conflicting_labels``), and suspect labels
   (``label_issue`` findings, score < threshold) are kept, dropped (``label_issue``) or relabelled
   to the suggested label, as the policy says. Test rows keep the labels they came with.

Duplicates are found by hashing each row's feature values (``pd.util.hash_pandas_object``, 64-bit;
NaN equals NaN). With 1M rows the chance of any accidental collision is about 3e-8.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError

if TYPE_CHECKING:
    from dataaudit.findings import AuditResult

__all__ = [
    "CleaningPolicy",
    "RowHashes",
    "row_hashes",
    "pre_split_removals",
    "post_split_decisions",
    "suspects_from_findings",
    "near_groups_from_findings",
    "REASONS",
]

# Stable reason codes written to quarantine.csv (add more, never rename).
REASONS: dict[str, str] = {
    "missing_label": "the label is missing",
    "exact_duplicate": "exact copy (features and label) of an earlier row, which is kept",
    "conflicting_labels": "same features as another row with a different label (whole group)",
    "label_issue": "suspect label below the score threshold (policy: drop)",
    "duplicate_of_eval": "same features as a row of the user's validation/test file",
    "invalid": "violates the saved expectations (transform --on-invalid quarantine)",
}
SUSPECT_ACTIONS = ("keep", "drop", "relabel")


@dataclass
class CleaningPolicy:
    """What to do with each kind of problem row.

    Attributes
    ----------
    drop_exact_duplicates : bool
        Drop exact copies (features and label), keeping the first occurrence.
    quarantine_conflicting : bool
        Quarantine every member of a conflicting-label group in train/val.
    suspects : {"keep", "drop", "relabel"}
        What to do with ``label_issue`` rows whose score is below ``suspect_threshold``.
    suspect_threshold : float
        Scores are in [0, 1], lower = worse; rows scoring below this are acted upon.
    """

    drop_exact_duplicates: bool = True
    quarantine_conflicting: bool = True
    suspects: str = "keep"
    suspect_threshold: float = 0.1

    def __post_init__(self) -> None:
        if self.suspects not in SUSPECT_ACTIONS:
            raise ConfigError(f"suspects={self.suspects!r} must be one of {list(SUSPECT_ACTIONS)}.")
        if not 0.0 <= float(self.suspect_threshold) <= 1.0:
            raise ConfigError(f"suspect_threshold={self.suspect_threshold!r} must be in [0, 1].")


@dataclass
class RowHashes:
    """Per-row 64-bit hashes: of the feature values, and of features plus label."""

    features: np.ndarray
    full: np.ndarray


def row_hashes(frame: pd.DataFrame, feature_columns: list[str], label: str | None) -> RowHashes:
    """Hash each row's features (and features + label) so equal rows get equal hashes."""
    if feature_columns:
        features = pd.util.hash_pandas_object(frame[feature_columns], index=False).to_numpy()
    else:
        features = np.zeros(len(frame), dtype=np.uint64)
    if label is None:
        return RowHashes(features, features)
    label_hash = pd.util.hash_pandas_object(frame[label], index=False).to_numpy()
    # Combine with a multiplier so (features, label) pairs do not collide by symmetry.
    full = features * np.uint64(0x9E3779B97F4A7C15) ^ label_hash
    return RowHashes(features, full)


def pre_split_removals(
    hashes: RowHashes, label_missing: np.ndarray, policy: CleaningPolicy
) -> dict[int, str]:
    """Rows removed before the split: ``{row: reason}`` (missing labels, exact duplicates)."""
    removed: dict[int, str] = {int(r): "missing_label" for r in np.flatnonzero(label_missing)}
    if policy.drop_exact_duplicates:
        duplicated = pd.Series(hashes.full).duplicated(keep="first").to_numpy().copy()
        duplicated &= ~label_missing
        for r in np.flatnonzero(duplicated):
            removed.setdefault(int(r), "exact_duplicate")
    return removed


def conflicting_groups(feature_hash: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Groups (arrays of row numbers) among ``rows`` with equal features but more than one label."""
    # Only rows whose features occur more than once can conflict: group just those (usually a few
    # percent), not every row, which keeps time and memory small on millions of rows.
    hashes = feature_hash[rows]
    repeated = pd.Series(hashes).duplicated(keep=False).to_numpy()
    rows, hashes = rows[repeated], hashes[repeated]
    frame = pd.DataFrame({"h": hashes, "y": labels[rows], "row": rows})
    n_labels = frame.groupby("h", sort=False)["y"].transform("nunique").to_numpy()
    conflicted = frame[n_labels > 1]
    return [g.to_numpy() for _, g in conflicted.groupby("h", sort=False)["row"]]


def suspects_from_findings(findings: AuditResult | None) -> pd.DataFrame:
    """``label_issue`` per-row details as a frame (row, given, suggested, score); empty if none."""
    columns = ["row", "given", "suggested", "score"]
    if findings is None:
        return pd.DataFrame(columns=columns)
    records: list[dict[str, Any]] = []
    for finding in findings.by_code("label_issue"):
        per_row = finding.details.get("per_row") or []
        for item in per_row:
            if isinstance(item, dict) and "row" in item:
                records.append({
                    "row": int(item["row"]),
                    "given": item.get("given", item.get("given_label")),
                    "suggested": item.get("suggested", item.get("suggested_label")),
                    "score": float(item.get("score", 0.0)),
                })
        if not per_row:  # only the rows: treat them as suspects with score 0
            records.extend({"row": r, "given": None, "suggested": None, "score": 0.0} for r in finding.rows)
    if not records:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame.from_records(records).drop_duplicates("row").reset_index(drop=True)


def near_groups_from_findings(findings: AuditResult | None) -> list[list[int]]:
    """Near-duplicate groups (lists of row numbers) from ``near_duplicate`` findings."""
    if findings is None:
        return []
    groups: list[list[int]] = []
    for finding in findings.by_code("near_duplicate"):
        for group in finding.details.get("groups") or []:
            groups.append([int(r) for r in group])
    return groups


@dataclass
class PostSplitDecisions:
    """Rows quarantined after the split and labels changed, both on train/val rows only."""

    removed: dict[int, str] = field(default_factory=dict)
    relabelled: dict[int, Any] = field(default_factory=dict)
    n_conflicting_groups: int = 0


def post_split_decisions(
    hashes: RowHashes,
    labels: np.ndarray,
    split: np.ndarray,
    kept_rows: np.ndarray,
    suspects: pd.DataFrame,
    policy: CleaningPolicy,
) -> PostSplitDecisions:
    """Quarantine conflicting groups and act on suspects, on train/val rows only (split 0 or 1).

    ``split`` holds 0/1/2 (train/val/test) for every row in ``kept_rows`` (indexed by row number).
    """
    decisions = PostSplitDecisions()
    cleanable = kept_rows[split[kept_rows] != 2]
    if policy.quarantine_conflicting and len(cleanable):
        groups = conflicting_groups(hashes.features, labels, cleanable)
        decisions.n_conflicting_groups = len(groups)
        for group in groups:
            for r in group:
                decisions.removed[int(r)] = "conflicting_labels"
    if policy.suspects != "keep" and len(suspects):
        allowed = np.zeros(len(labels), dtype=bool)
        allowed[cleanable] = True
        bad = suspects[(suspects["score"] < policy.suspect_threshold)]
        for row, suggested in zip(bad["row"].to_numpy(), bad["suggested"].to_numpy(), strict=True):
            row = int(row)
            if row < 0 or row >= len(labels) or not allowed[row] or row in decisions.removed:
                continue
            if policy.suspects == "drop" or suggested is None or (isinstance(suggested, float) and np.isnan(suggested)):
                decisions.removed[row] = "label_issue"
            else:
                decisions.relabelled[row] = suggested
    return decisions
