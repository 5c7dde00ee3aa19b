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

Which rows are copies follows the one row-identity rule of ``dataaudit.grouping`` (equal on every
column but the label and the ID columns), judged against chance as the ``duplicates`` check does
(``dataaudit.collisions``): rows that share a few low-cardinality values by chance are different
records and are kept. With ``--findings`` the groups come from the findings themselves
(``identity_from_findings``), so what ``inspect`` flags is what is cleaned.

The removal cap (``CleaningPolicy.max_removal``, default 20% of the input rows) bounds what the
policy may remove without ``allow_large_removal``: every automatic removal counts (copies,
conflicting groups, dropped suspects, copies of evaluation rows); missing labels are reported
apart. On a classification label the cap holds per class as well: no class may lose more than
``max_removal`` of its labelled rows, once it loses ``MIN_CLASS_REMOVAL`` (5) or more
(suspect-label drops can fall on one small class while the overall share stays tiny).
``check_removal_cap`` raises with the breakdown when a plan goes over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.collisions import DEFAULT_COLLISION_ALPHA, RecordGroups
from dataaudit.exceptions import ConfigError, InputError
from dataaudit.grouping import exact_group_codes, hash_rows
from dataaudit.records import Groups, PerRow

if TYPE_CHECKING:
    from dataaudit.findings import AuditResult

__all__ = [
    "CleaningPolicy",
    "RowHashes",
    "row_hashes",
    "record_identity",
    "record_identity_streamed",
    "identity_from_findings",
    "identity_from_codes",
    "RemovalCapExceeded",
    "check_removal_cap",
    "DEFAULT_MAX_REMOVAL",
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
# fit-transform removes at most this share of the input rows unless allowed to remove more.
DEFAULT_MAX_REMOVAL = 0.2
# The per-class cap counts a class only once it loses this many rows: one copy among a class's
# 4 rows is 25% of it, but no sign of a policy that empties a class.
MIN_CLASS_REMOVAL = 5
# Reasons that are not the policy's decision (reported apart, outside the cap).
UNCAPPED_REASONS = ("missing_label",)


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
    max_removal : float
        Largest share of the input rows the policy may remove (missing labels apart).
    allow_large_removal : bool
        Remove more than ``max_removal`` when the policy says so, instead of refusing.
    """

    drop_exact_duplicates: bool = True
    quarantine_conflicting: bool = True
    suspects: str = "keep"
    suspect_threshold: float = 0.1
    max_removal: float = DEFAULT_MAX_REMOVAL
    allow_large_removal: bool = False

    def __post_init__(self) -> None:
        if self.suspects not in SUSPECT_ACTIONS:
            raise ConfigError(f"suspects={self.suspects!r} must be one of {list(SUSPECT_ACTIONS)}.")
        if not 0.0 <= float(self.suspect_threshold) <= 1.0:
            raise ConfigError(f"suspect_threshold={self.suspect_threshold!r} must be in [0, 1].")
        if isinstance(self.max_removal, bool) or not isinstance(self.max_removal, int | float) \
                or not 0.0 <= float(self.max_removal) <= 1.0:
            raise ConfigError(f"max_removal={self.max_removal!r} must be a share of rows in [0, 1], e.g. 0.2.")


@dataclass
class RowHashes:
    """Per-row keys: equal ``features`` = the same record, equal ``full`` = same record and label.

    ``values`` (when set) hashes the identity columns themselves, to compare rows with another
    file's; ``features`` may differ from it where rows that share values by chance were given
    keys of their own. ``n_collision_rows`` counts those rows and ``source`` says where the
    groups came from ("hashes", "computed" or "findings").
    """

    features: np.ndarray
    full: np.ndarray
    values: np.ndarray | None = None
    n_collision_rows: int = 0
    source: str = "hashes"


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


def identity_from_codes(record_codes: np.ndarray, labels: pd.Series | np.ndarray, *,
                        values: np.ndarray | None = None, n_collision_rows: int = 0,
                        source: str = "computed") -> RowHashes:
    """Row keys from per-row record-group codes (-1: a record of its own) and the raw labels."""
    n = len(record_codes)
    key = np.where(record_codes >= 0, record_codes, n + np.arange(n, dtype=np.int64)).astype(np.int64)
    label_codes = pd.factorize(pd.Series(labels), use_na_sentinel=True)[0].astype(np.int64)
    width = int(label_codes.max()) + 2 if n else 1
    full = key * width + (label_codes + 1)  # < (2n) * (n + 1): fits in int64
    return RowHashes(key, full, values=values, n_collision_rows=n_collision_rows, source=source)


def record_identity(frame: pd.DataFrame, columns: list[str], label: str,
                    alpha: float = DEFAULT_COLLISION_ALPHA) -> RowHashes:
    """The ``duplicates`` check's answer, computed: copy groups on ``columns`` judged against chance."""
    codes = exact_group_codes(frame, columns)
    records = RecordGroups.judge(frame, columns, codes, alpha=alpha)
    collisions = int(np.count_nonzero(records.collision_codes() >= 0))
    return identity_from_codes(records.record_codes(), frame[label], values=hash_rows(frame, columns),
                               n_collision_rows=collisions)


def record_identity_streamed(values: np.ndarray, labels: pd.Series, sample: pd.DataFrame, columns: list[str],
                             alpha: float = DEFAULT_COLLISION_ALPHA) -> RowHashes:
    """``record_identity`` for a file read in chunks: its identity hashes and a sample of its rows."""
    records = RecordGroups.judge_hashes(values, sample, columns, alpha=alpha)
    collisions = int(np.count_nonzero(records.collision_codes() >= 0))
    return identity_from_codes(records.record_codes(), labels, values=values, n_collision_rows=collisions)


def identity_from_findings(findings: AuditResult | None, n_rows: int, labels: pd.Series | np.ndarray,
                           values: np.ndarray | None = None) -> RowHashes | None:
    """Row keys from the ``duplicates`` findings (exact and conflicting groups); None if it did not run."""
    if findings is None:
        return None
    ran = [c for c in findings.checks if c.check == "duplicates" and c.status in ("passed", "flagged")]
    if not ran:
        return None
    from dataaudit.transforms.split import group_ids

    groups: list[list[int]] = []
    for code in ("exact_duplicate", "conflicting_labels"):
        for finding in findings.by_code(code):
            groups.extend(list(group) for group in finding.evidence_of(Groups) or ())
    members = [r for group in groups for r in group]
    if members and (min(members) < 0 or max(members) >= n_rows):
        raise InputError(f"The findings list duplicate rows up to {max(members)}, but the input has {n_rows} "
                         "rows: they were computed for another file. Run `dataaudit inspect` on this file.")
    component = group_ids(n_rows, groups)
    in_group = np.zeros(n_rows, dtype=bool)
    in_group[np.asarray(members, dtype=np.int64)] = True
    codes = np.where(in_group, component, -1)
    collisions = sum(int(f.details.get("n_rows", 0)) for f in findings.by_code("feature_collision"))
    return identity_from_codes(codes, labels, values=values, n_collision_rows=collisions, source="findings")


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
        per_row = finding.evidence_of(PerRow) or PerRow()
        listed = set(finding.rows)  # on a hard target per_row also scores rows that are not suspects
        for entry in per_row:
            if entry.row in listed:
                records.append({"row": entry.row, "given": entry.given, "suggested": entry.suggested,
                                "score": entry.score if entry.score is not None else 0.0})
        if not len(per_row):  # only the rows: treat them as suspects with score 0
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
        groups.extend(list(group) for group in finding.evidence_of(Groups) or ())
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


class RemovalCapExceeded(InputError):
    """The cleaning policy would remove more rows than ``max_removal`` allows."""


def check_removal_cap(removed: dict[int, str], n_rows: int, policy: CleaningPolicy, source: str,
                      class_codes: np.ndarray | None = None, classes: list[Any] | None = None) -> dict[str, Any]:
    """The removal record of a plan (counts by reason and by class, shares, cap); raises when over the cap.

    With ``class_codes`` (each input row's class as an index into ``classes``, -1 or a missing
    label for none) the cap also holds per class: no class may lose more than ``max_removal`` of
    its rows (counted once it loses ``MIN_CLASS_REMOVAL`` rows or more), so dropping a sixth of a
    small class is not hidden by a tiny overall share.

    Raises
    ------
    RemovalCapExceeded
        More than ``policy.max_removal`` of the ``n_rows`` input rows, or of one class's rows,
        would be removed automatically and ``policy.allow_large_removal`` is off.
    """
    from collections import Counter

    by_reason = Counter(removed.values())
    capped = {k: v for k, v in sorted(by_reason.items()) if k not in UNCAPPED_REASONS}
    n_removed = sum(capped.values())
    share = n_removed / n_rows if n_rows else 0.0
    by_class = _removal_by_class(removed, class_codes, classes)
    over_classes = [name for name, entry in by_class.items()
                    if entry["share"] > policy.max_removal and entry["n_removed"] >= MIN_CLASS_REMOVAL]
    record = {
        "max_removal": float(policy.max_removal),
        "allow_large_removal": bool(policy.allow_large_removal),
        "n_removed": n_removed,
        "share": round(share, 6),
        "by_reason": capped,
        "not_counted": {k: by_reason[k] for k in UNCAPPED_REASONS if by_reason.get(k)},
        "by_class": by_class,
        "over_cap_classes": over_classes,
        "over_cap": share > policy.max_removal or bool(over_classes),
    }
    advice = ("nothing was written. Read the duplicates and label findings first; to remove them anyway pass "
              "--allow-large-removal (or raise --max-removal), or keep them (--keep-duplicates, --suspects keep).")
    if share > policy.max_removal and not policy.allow_large_removal:
        breakdown = ", ".join(f"{reason} {count:,}" for reason, count in capped.items())
        raise RemovalCapExceeded(
            f"{source}: the cleaning policy would remove {n_removed:,} of {n_rows:,} rows ({share:.1%}), "
            f"more than the cap of {policy.max_removal:.0%} ({breakdown}); {advice}"
        )
    if over_classes and not policy.allow_large_removal:
        name = max(over_classes, key=lambda c: by_class[c]["share"])
        entry = by_class[name]
        breakdown = ", ".join(f"{reason} {count:,}" for reason, count in entry["by_reason"].items())
        raise RemovalCapExceeded(
            f"{source}: the cleaning policy would remove {entry['n_removed']:,} of the {entry['n_rows']:,} rows "
            f"of class {name!r} ({entry['share']:.1%}), more than the cap of {policy.max_removal:.0%} per class "
            f"({breakdown}); {advice}"
        )
    return record


def _removal_by_class(removed: dict[int, str], class_codes: np.ndarray | None,
                      classes: list[Any] | None) -> dict[str, dict[str, Any]]:
    """Per class: its labelled input rows, how many the policy removes (by reason) and that share."""
    if class_codes is None or classes is None or not len(classes):
        return {}
    codes = np.asarray(class_codes)
    valid = (codes >= 0) & (codes < len(classes))
    n_per_class = np.bincount(codes[valid].astype(np.int64), minlength=len(classes))
    counted = [(r, reason) for r, reason in removed.items() if reason not in UNCAPPED_REASONS]
    rows = np.fromiter((r for r, _ in counted), dtype=np.int64, count=len(counted))
    reasons = np.asarray([reason for _, reason in counted], dtype=object)
    row_codes = codes[rows] if len(rows) else np.zeros(0, dtype=np.int64)
    keep = (row_codes >= 0) & (row_codes < len(classes))
    out: dict[str, dict[str, Any]] = {}
    for code, name in enumerate(classes):
        in_class = keep & (row_codes == code)
        n_class = int(n_per_class[code])
        k = int(np.count_nonzero(in_class))
        reason_counts = pd.Series(reasons[in_class]).value_counts().sort_index() if k else pd.Series(dtype=int)
        out[str(name)] = {"n_rows": n_class, "n_removed": k, "share": round(k / n_class, 6) if n_class else 0.0,
                          "by_reason": {str(r): int(c) for r, c in reason_counts.items()}}
    return out
