"""The cleaning and split plan of ``fit_transform``: which row goes where, and why.

``plan_rows`` decides for every input row: quarantined (with a reason from
``cleaning.REASONS``), relabelled, or assigned to train/val/test, keeping duplicate and
near-duplicate groups in one split. ``RowAccounting`` holds the answer and checks that
``n_input = n_train + n_val + n_test + n_quarantined``. The helpers around it load the input and
the user's own val/test files, and find the audit (``--findings`` or the needed checks) that the
policy acts on. Both fit paths (in memory and chunked) use this one plan.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import DataAuditError, InputError
from dataaudit.grouping import hash_rows, identity_columns
from dataaudit.progress import NO_PROGRESS, Progress
from dataaudit.transforms.cleaning import (
    RowHashes,
    check_removal_cap,
    identity_from_findings,
    near_groups_from_findings,
    post_split_decisions,
    pre_split_removals,
    record_identity,
    suspects_from_findings,
)
from dataaudit.transforms.config import TransformConfig
from dataaudit.transforms.split import SPLIT_NAMES, assign_splits, group_ids

__all__ = [
    "RowAccounting",
    "plan_rows",
    "load_input",
    "roles_with_drops",
    "audit_for_cleaning",
    "findings_source",
    "check_findings_input",
    "label_arrays",
    "code_of",
    "quarantine_frame",
    "cleaning_record",
    "load_eval_files",
    "row_identity",
    "entity_keys",
]


def load_input(data: Any, label: str, config: TransformConfig) -> Any:
    from dataaudit.dataset import Dataset
    from dataaudit.io.loading import load_dataset

    if isinstance(data, Dataset):
        group = config.group or data.group
        task = config.task or (data.task if data.label == label else None)
        if data.label != label or group != data.group or task != data.task:
            data = Dataset(frame=data.frame, path=data.path, label=label, sha256=data.sha256,
                           id_column=config.id_column or data.id_column, coerced=data.coerced,
                           roles=dict(data.roles) if data.label == label else {},
                           file_format=data.file_format, group=group, task=task, encoding=data.encoding,
                           load_notes=list(data.load_notes))
        return data
    if isinstance(data, pd.DataFrame):
        if label not in data.columns:
            raise InputError(f"Label column {label!r} not found; columns are {list(data.columns)}.")
        return Dataset.from_frame(data, label=label, id_column=config.id_column, group=config.group,
                                  task=config.task)
    return load_dataset(data, label=label, id_column=config.id_column, group=config.group, task=config.task,
                        encoding=config.encoding)


def roles_with_drops(roles: dict[str, str], config: TransformConfig, source: str) -> dict[str, str]:
    roles = dict(roles)
    unknown = [c for c in config.drop if c not in roles]
    if unknown:
        raise InputError(f"--drop names column(s) {unknown} that {source} does not have; columns are {list(roles)}.")
    for column in config.drop:
        roles[column] = "user"
    return roles


def drop_leaky(audit: Any, roles: dict[str, str], config: TransformConfig, notes: list[str]) -> dict[str, str]:
    """Mark the feature columns ``label_leakage`` flagged as dropped (unless keep_leaky); column -> evidence."""
    if audit is None:
        return {}
    flagged: dict[str, str] = {}
    for finding in audit.by_code("label_leakage"):
        # details.drop: the columns that carry the leak (a pair's grouping column does not).
        for column in finding.details.get("drop", finding.columns):
            if roles.get(column) not in (None, "label", "user", "id", "constant", "text"):
                flagged.setdefault(column, finding.message)
    if not flagged:
        return {}
    if config.keep_leaky:
        notes.append(f"kept column(s) {sorted(flagged)} that label_leakage flags (keep_leaky)")
        return {}
    for column in flagged:
        roles[column] = "leakage"
    notes.append(f"dropped column(s) {sorted(flagged)}: label_leakage finds they determine the label "
                 f"(keep them with --keep-leaky / keep_leaky = true)")
    return flagged


def audit_for_cleaning(findings: Any, dataset: Any, config: TransformConfig,
                       progress: Progress = NO_PROGRESS) -> tuple[Any, list[str]]:
    """The AuditResult to clean from (loaded, or computed by the needed checks, told to ``progress``) and notes."""
    from dataaudit.findings import AuditResult

    notes: list[str] = []
    if isinstance(findings, AuditResult):
        audit = findings
    elif findings is not None:
        audit = AuditResult.load(findings)
    else:
        needed = set()
        if config.near_duplicates:
            needed.add("near_duplicate")
        if config.suspects != "keep":
            needed.add("label_issue")
        if not config.keep_leaky:
            needed.add("label_leakage")
        if not needed:
            return None, notes
        from dataaudit.audit import run_checks
        from dataaudit.checks import ordered_checks

        names = [c.name for c in ordered_checks() if set(c.codes) & needed]
        missing = needed - {code for c in ordered_checks() if c.name in names for code in c.codes}
        for code in sorted(missing):
            notes.append(f"no registered check emits {code!r}; not used")
        if not names:
            return None, notes
        audit = run_checks(dataset, checks=names, seed=config.seed, progress=progress)
        for result in audit.checks:
            if result.status in ("errored", "skipped") and result.check not in relied_on_checks(config):
                notes.append(f"check {result.check} {result.status}: {result.error or result.reason}")
        notes.extend(reliance_warnings(audit, config))
        return audit, notes
    notes.extend(check_findings_input(audit, dataset.sha256, findings, config))
    notes.extend(reliance_warnings(audit, config))
    return audit, notes


def relied_on_checks(config: TransformConfig) -> dict[str, str]:
    """Check name -> the guarantee of fit-transform that rests on its result (with this config)."""
    relied = {
        "duplicates": "copies of a row are removed and copy groups never straddle splits",
        "label_leakage": "no feature column merely restates the label",
    }
    if config.near_duplicates:
        relied["near_duplicates"] = "near copies are kept in one split"
    if config.suspects != "keep":
        relied["label_issues"] = f"suspect labels are {'dropped' if config.suspects == 'drop' else 'handled'}"
    return relied


def reliance_warnings(audit: Any, config: TransformConfig) -> list[str]:
    """One WARNING per check a guarantee relies on that errored or was skipped in ``audit``.

    The lines go into the manifest's cleaning notes, and ``dataaudit fit-transform`` prints every
    WARNING note on stderr: the run goes on, but what it promises does not hold for that part.
    """
    if audit is None:
        return []
    relied = relied_on_checks(config)
    warnings: list[str] = []
    for result in audit.checks:
        if result.check in relied and result.status in ("errored", "skipped"):
            why = " ".join(str(result.error or result.reason or "no reason recorded").split())
            warnings.append(f"WARNING: check {result.check} {result.status} ({why}); fit-transform cannot "
                            f"promise that {relied[result.check]}. Fix the cause and run inspect again.")
    return warnings


def check_findings_input(audit: Any, sha256: str, findings: Any, config: TransformConfig) -> list[str]:
    """Findings are used only for the file they were computed on: input.sha256 must match.

    A findings.json without ``input.sha256``, or with another file's, is refused (InputError)
    (an in-memory AuditResult that records no input is the caller's own and is used);
    with ``config.unverified_findings`` it is used and a warning is returned (recorded in the
    manifest's cleaning notes and printed by the CLI).
    """
    recorded = (audit.input or {}).get("sha256")
    source = str(findings) if isinstance(findings, str | Path) else "the findings"
    if recorded and recorded == sha256:
        return []
    if not recorded and not isinstance(findings, str | Path):
        return []  # an AuditResult built in memory by the caller: nothing recorded to compare
    if recorded:
        problem = (f"{source} was computed for another input (sha256 {recorded[:12]}…, this file "
                   f"{sha256[:12]}…)")
    else:
        problem = f"{source} records no input.sha256, so it cannot be matched to this file"
    if not config.unverified_findings:
        raise InputError(f"{problem}. Run `dataaudit inspect` on this file, omit --findings, or pass "
                         "--unverified-findings to use it anyway.")
    return [f"WARNING: {problem}; used anyway (--unverified-findings): its duplicate groups and "
            "label suspects may point at other rows"]


def findings_source(findings: Any, audit: Any) -> str:
    if findings is None:
        return "computed" if audit is not None else "none"
    return str(findings) if isinstance(findings, str | Path) else "given"


def row_identity(dataset: Any, audit: Any) -> tuple[RowHashes, list[str]]:
    """Which rows are the same record: the findings' duplicate groups, or the same rule computed.

    Both follow ``grouping.identity_columns`` (ID columns left out) and judge copies against
    chance (``collisions``), so what ``inspect`` reports is what is cleaned and kept together.
    """
    columns = identity_columns(dataset)
    label = dataset.label
    values = hash_rows(dataset.frame, columns)
    notes: list[str] = []
    from_findings = identity_from_findings(audit, dataset.n_rows, dataset.frame[label], values=values)
    if from_findings is not None:
        return from_findings, notes
    if audit is not None:
        notes.append("the findings hold no duplicates result: copy groups computed with the same rule")
    return record_identity(dataset.frame, columns, label), notes


def entity_keys(dataset: Any) -> np.ndarray | None:
    """Per-row key of the entity column (``Dataset.group``) or None; missing entities are their own."""
    column = getattr(dataset, "group", None)
    if not column:
        return None
    if column not in dataset.frame.columns:
        raise InputError(f"--group {column!r} is not a column of {dataset.name}; columns are {list(dataset.columns)}.")
    codes = pd.factorize(dataset.frame[column], use_na_sentinel=True)[0].astype(np.int64)
    n = len(codes)
    return np.where(codes >= 0, codes, n + np.arange(n))


def label_arrays(y_raw: pd.Series, task: str) -> tuple[np.ndarray, list[Any]]:
    """(y, classes): int64 codes over sorted classes for classification, float64 otherwise."""
    if task == "classification":
        codes, classes = pd.factorize(y_raw, sort=True)
        return codes.astype(np.int64), [_plain(c) for c in classes]
    return pd.to_numeric(y_raw, errors="coerce").to_numpy(dtype=np.float64), []


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def code_of(value: Any, classes: list[Any]) -> int:
    for i, c in enumerate(classes):
        if c == value or str(c) == str(value):
            return i
    return -1


def load_eval_files(dataset: Any, label: str, config: TransformConfig, features: list[str], task: str,
                     classes: list[Any]) -> dict[str, dict[str, Any]]:
    """The user's own val/test files: loaded with the training roles, labels coded, rows hashed."""
    from dataaudit.io.loading import load_dataset

    out: dict[str, dict[str, Any]] = {}
    for name, path in (("val", config.val), ("test", config.test)):
        if path is None:
            continue
        ds = load_dataset(path, label=label, id_column=config.id_column, reference=dataset, encoding=config.encoding)
        if list(ds.columns) != list(dataset.columns):
            raise InputError(f"{path}: columns {ds.columns} differ from the training file's {dataset.columns}.")
        if ds.frame[label].isna().any():
            rows = np.flatnonzero(ds.frame[label].isna().to_numpy())[:10].tolist()
            raise InputError(f"{path}: the label {label!r} is missing in rows {rows}; an evaluation file needs every label.")
        if task == "classification":
            y = np.array([code_of(v, classes) for v in ds.frame[label].tolist()], dtype=np.int64)
            if (y < 0).any():
                bad = sorted({str(v) for v, c in zip(ds.frame[label].tolist(), y, strict=True) if c < 0})
                raise InputError(f"{path}: label value(s) {bad[:10]} never occur in the training file.")
        else:
            y = pd.to_numeric(ds.frame[label], errors="coerce").to_numpy(dtype=np.float64)
        hashes = hash_rows(ds.frame, features)
        out[name] = {"frame": ds.frame, "y": y, "rows": np.arange(ds.n_rows, dtype=np.int64),
                     "hashes": hashes, "path": str(path)}
    return out


class RowAccounting:
    """Row bookkeeping: split per input row (-1 = quarantined) and reasons."""

    def __init__(self, n: int) -> None:
        self.split = np.full(n, -1, dtype=np.int8)
        self.removed: dict[int, str] = {}
        self.relabelled: dict[int, tuple[Any, Any]] = {}
        self.removal: dict[str, Any] = {}  # the removal cap's record (check_removal_cap)
        self.identity: dict[str, Any] = {}  # where the copy groups came from

    def check(self, n_input: int) -> dict[str, int]:
        sizes = {name: int(np.count_nonzero(self.split == i)) for i, name in enumerate(SPLIT_NAMES)}
        n_quarantined = len(self.removed)
        if n_input != sum(sizes.values()) + n_quarantined or np.count_nonzero(self.split < 0) != n_quarantined:
            raise DataAuditError(
                f"Row accounting failed: {n_input} input rows != train {sizes['train']} + val "
                f"{sizes['val']} + test {sizes['test']} + quarantined {n_quarantined}. This is a bug."
            )
        return sizes


def plan_rows(
    hashes: RowHashes,
    y: np.ndarray,
    label_missing: np.ndarray,
    task: str,
    classes: list[Any],
    audit: Any,
    config: TransformConfig,
    eval_names: set[str],
    eval_feature_hashes: np.ndarray | None,
    *,
    entity: np.ndarray | None = None,
    source: str = "the input",
) -> tuple[RowAccounting, np.ndarray, int]:
    """Cleaning and split decisions for every row; returns accounting, final y and #groups.

    The split keeps together: groups of duplicate records (``hashes.features``), near-duplicate
    groups of the findings, and, when ``entity`` is given (a per-row key of the ``Dataset.group``
    column), every entity. Raises ``RemovalCapExceeded`` when the policy would remove more than
    its cap, overall or of one class's rows.
    """
    n = len(y)
    policy = config.policy
    acc = RowAccounting(n)
    acc.removed.update(pre_split_removals(hashes, label_missing, policy))
    if eval_feature_hashes is not None and len(eval_feature_hashes):
        # A training row equal to a row of the user's val/test file would leak; the eval file
        # is left untouched (its labels are never cleaned), the training copy goes.
        own = hashes.values if hashes.values is not None else hashes.features
        leaked = np.isin(own, eval_feature_hashes)
        for r in np.flatnonzero(leaked):
            acc.removed.setdefault(int(r), "duplicate_of_eval")
    kept_mask = np.ones(n, dtype=bool)
    kept_mask[np.fromiter(acc.removed, dtype=np.int64, count=len(acc.removed))] = False
    kept = np.flatnonzero(kept_mask)  # a mask, not setdiff1d: no sort or hash of a million rows
    near = near_groups_from_findings(audit) if config.near_duplicates else []
    groupings: list[Any] = [hashes.features, near]
    if entity is not None:
        groupings.append(np.asarray(entity))
    groups = group_ids(n, *groupings)
    split = np.zeros(n, dtype=np.int8)
    # A split the user supplies as a file (--val / --test) gets no input rows; the remaining
    # fractions are rescaled, e.g. --split 0.8,0.1,0.1 with --test T.csv splits 8:1 into train/val.
    fractions = [0.0 if name in eval_names else f for name, f in zip(SPLIT_NAMES, config.split, strict=True)]
    if sum(fractions[1:]) > 0:
        total = sum(fractions)
        split[kept] = assign_splits(groups[kept], y[kept], (fractions[0] / total, fractions[1] / total,
                                    fractions[2] / total), task=task, seed=config.seed)
    post = post_split_decisions(hashes, y, split, kept, suspects_from_findings(audit), policy)
    acc.removed.update(post.removed)
    given = y  # the labels the rows came with: the per-class removal cap counts by these
    y = y.copy()
    for row, suggested in post.relabelled.items():
        if task == "classification":
            code = code_of(suggested, classes)
            if code < 0:
                acc.removed[row] = "label_issue"
                continue
            acc.relabelled[row] = (classes[y[row]], classes[code])
            y[row] = code
        else:
            try:
                acc.relabelled[row] = (float(y[row]), float(suggested))
                y[row] = float(suggested)
            except (TypeError, ValueError):
                acc.removed[row] = "label_issue"
    keep_mask = np.ones(n, dtype=bool)
    if acc.removed:
        keep_mask[np.fromiter(acc.removed, dtype=np.int64, count=len(acc.removed))] = False
    acc.split = np.where(keep_mask, split, -1).astype(np.int8)
    n_groups = int(np.count_nonzero(np.bincount(groups))) if len(groups) else 0  # ids are >= 0
    acc.removal = check_removal_cap(acc.removed, n, policy, source,
                                    class_codes=given if task == "classification" else None, classes=classes)
    acc.identity = {"source": hashes.source, "n_collision_rows_kept": int(hashes.n_collision_rows),
                    "entity_groups": entity is not None}
    return acc, y, n_groups


def quarantine_frame(frame: pd.DataFrame, rows: np.ndarray, reasons: list[str],
                     source: Path | None = None, encoding: str | None = None) -> pd.DataFrame:
    """row, reason, then the row's values: exactly as the file ``source`` holds them when there
    is one (``twenty`` stays ``twenty``, ``342`` stays ``342``, ``1,5`` stays ``1,5``), else
    from ``frame``. ``frame`` gives the column names (and the values of an in-memory table, or
    of a file that is no longer at its path, e.g. inside an output folder being replaced)."""
    rows = np.asarray(rows, dtype=np.int64)
    if source is not None and len(rows) and Path(source).is_file():
        from dataaudit.io.loading import read_raw_rows

        out = read_raw_rows(source, rows, encoding=encoding)
        if len(out.columns) == len(frame.columns):
            out.columns = list(frame.columns)
        out = out.reset_index(drop=True)
    else:
        out = frame.iloc[rows].copy()
    out.insert(0, "reason", reasons)
    out.insert(0, "row", rows)
    return out


def label_ceiling(audit: Any) -> dict[str, Any] | None:
    """What ``inspect``'s out-of-fold label models reached on this table, for ``train`` to compare with.

    ``{"out_of_fold_accuracy", "models"}`` from the ``label_issues`` check's statistics (the
    blended members' accuracy against the given labels, every row held out once), or None without
    an audit, a classification label or that check.
    """
    try:
        stats = audit.check("label_issues").stats if audit is not None else None
    except KeyError:
        return None
    stats = stats or {}
    accuracy = (stats.get("cv_accuracy") or {}).get("ensemble")
    if not isinstance(accuracy, int | float) or isinstance(accuracy, bool):
        return None
    return {"out_of_fold_accuracy": round(float(accuracy), 6), "models": list(stats.get("models") or [])}


def cleaning_record(acc: RowAccounting, config: TransformConfig, notes: list[str], n_groups: int,
                     findings_source: str) -> dict[str, Any]:
    from collections import Counter

    from dataaudit.transforms.cleaning import REASONS

    by_reason = Counter(acc.removed.values())
    return {
        "policy": dataclasses.asdict(config.policy),
        "findings": findings_source,
        "n_quarantined": len(acc.removed),
        "by_reason": dict(sorted(by_reason.items())),
        "reasons": {k: REASONS[k] for k in by_reason if k in REASONS},
        "relabelled": [{"row": r, "from": a, "to": b} for r, (a, b) in sorted(acc.relabelled.items())],
        "n_split_groups": n_groups,
        "removal": acc.removal,
        "identity": acc.identity,
        "notes": notes + [
            "exact duplicates (features and label) and missing labels are removed before the split, everywhere",
            "conflicting-label groups and suspect labels are handled on train/val rows only; test labels are never cleaned",
        ],
    }
