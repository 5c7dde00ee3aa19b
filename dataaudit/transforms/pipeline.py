"""fit_transform and transform: clean → split → encode → scale → whiten, fit on train only.

``fit_transform(data, label, out, config=...)`` reads a table, applies the cleaning policy
(``cleaning.py``), splits leakage-safely (``split.py``), fits the encoder (``encoding.py``), the
scaler and the PCA/ZCA whitening on the training rows only, verifies the result and writes the
artifact folder (``dataaudit.io.artifacts``) atomically. ``transform(data, artifacts, out)``
validates new data against the saved Great Expectations suite and applies the saved transform.

Larger than memory (``TransformConfig.chunksize``): the CSV is streamed in chunks —

1. pass over the file: per-row hashes (exact duplicates, conflicting labels, split groups), the
   labels and a seeded sample of ``sample_rows`` rows (for the encoder's medians and category
   lists and the expectation suite's category sets); then cleaning and the split, as in memory;
2. pass over the file: encode each chunk, fold its training rows into the scaler statistics
   (exact streamed mean/variance) and the exact min/max/null counts of the suite, and spill the
   encoded rows of each split to a temporary binary file;
3. the PCA statistics stream from the spilled training rows, and the outputs are written block by
   block into the .npz files, so peak memory depends on the chunk size, not on the file size.

What chunked mode cannot do: near-duplicate groups are not computed (that needs all feature
rows at once); groups and label-issue scores are taken from ``--findings`` when given (they are
just row numbers), otherwise only exact-feature groups are kept together. Encoder medians come
from the sample (exact when the file has at most ``sample_rows`` rows).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError, DataAuditError, InputError, ValidationFailed
from dataaudit.transforms.cleaning import (
    CleaningPolicy,
    RowHashes,
    near_groups_from_findings,
    post_split_decisions,
    pre_split_removals,
    row_hashes,
    suspects_from_findings,
)
from dataaudit.transforms.encoding import TabularEncoder
from dataaudit.transforms.split import SPLIT_NAMES, assign_splits, group_ids, parse_fractions

__all__ = ["parse_components", "TransformConfig", "TransformSummary", "TransformOutcome", "fit_transform", "transform"]

SCALES = ("none", "center", "standard")
WHITENS = ("none", "pca", "zca")
DTYPES = ("float32", "float64")
ON_INVALID = ("fail", "quarantine")


@dataclass
class TransformConfig:
    """Every knob of the transform stage, with commented defaults.

    Examples
    --------
    >>> TransformConfig.from_dict({"whiten": "zca", "split": "0.7,0.15,0.15"}).split
    (0.7, 0.15, 0.15)
    """

    # --- split ---
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train,val,test fractions (stratified)
    seed: int = 0  # seeds the split, the samples and every randomized check
    val: str | None = None  # the user's own validation file (then the input is all train)
    test: str | None = None  # the user's own test file
    # --- cleaning policy ---
    drop_exact_duplicates: bool = True  # drop copies with equal features and label, keep the first
    quarantine_conflicting: bool = True  # quarantine whole same-features/different-label groups (train/val)
    suspects: str = "keep"  # keep | drop | relabel rows flagged by label_issue (train/val only)
    suspect_threshold: float = 0.1  # act on label_issue scores below this (lower = worse)
    near_duplicates: bool = True  # keep near-duplicate groups in one split (findings or the check)
    # --- encoding ---
    drop: tuple[str, ...] = ()  # columns the user leaves out (recorded with reason "user")
    id_column: str | None = None  # a row-identifier column (never a feature)
    max_categories: int = 20  # one-hot columns per categorical column (rest share __other__)
    # --- scaling and whitening (fit on train only) ---
    scale: str = "standard"  # none | center | standard
    whiten: str = "none"  # none | pca | zca
    pca_components: int | float | None = None  # K components, or a variance fraction like 0.99
    epsilon: float = 1e-5  # added to eigenvalues before 1/sqrt (CS231n's 1e-5)
    dtype: str = "float32"  # dtype of the saved X arrays
    # --- larger than memory ---
    chunksize: int | None = None  # stream the CSV in chunks of this many rows (two passes)
    sample_rows: int = 200_000  # chunked mode: rows sampled for encoder medians and categories

    def __post_init__(self) -> None:
        if isinstance(self.split, str | list | tuple):
            self.split = parse_fractions(self.split)  # type: ignore[arg-type]
        if isinstance(self.drop, str):
            self.drop = tuple(c for c in self.drop.split(",") if c)
        self.drop = tuple(self.drop)
        if isinstance(self.pca_components, str):
            self.pca_components = parse_components(self.pca_components)
        problems: list[str] = []
        for name, allowed in (("scale", SCALES), ("whiten", WHITENS), ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                problems.append(f"{name}={getattr(self, name)!r} is not one of {list(allowed)}")
        if self.chunksize is not None and int(self.chunksize) < 1:
            problems.append(f"chunksize={self.chunksize!r} must be >= 1")
        if self.max_categories < 1:
            problems.append(f"max_categories={self.max_categories!r} must be >= 1")
        if not (isinstance(self.epsilon, int | float) and self.epsilon >= 0):
            problems.append(f"epsilon={self.epsilon!r} must be a number >= 0")
        if self.whiten == "zca" and self.pca_components is not None:
            problems.append("pca_components cannot be combined with whiten='zca' (ZCA keeps every direction)")
        if problems:
            raise ConfigError("Invalid transform configuration: " + "; ".join(problems) + ".")
        CleaningPolicy(suspects=self.suspects, suspect_threshold=self.suspect_threshold)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TransformConfig:
        """Build from a plain dict (TOML ``[transform]``); unknown keys raise ConfigError."""
        if not isinstance(d, dict):
            raise ConfigError(f"A transform configuration must be a table/dict, got {type(d).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"Unknown transform option(s) {unknown}; valid options are {sorted(names)}.")
        try:
            return cls(**d)
        except TypeError as exc:
            raise ConfigError(f"Invalid transform configuration: {exc}.") from None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["split"] = list(self.split)
        d["drop"] = list(self.drop)
        return d

    @property
    def policy(self) -> CleaningPolicy:
        return CleaningPolicy(
            drop_exact_duplicates=self.drop_exact_duplicates,
            quarantine_conflicting=self.quarantine_conflicting,
            suspects=self.suspects,
            suspect_threshold=self.suspect_threshold,
        )


def parse_components(text: str) -> int | float | None:
    text = text.strip().lower()
    if text in ("", "none", "all"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--pca-components {text!r} must be an integer K or a fraction like 0.99.") from None
    if value >= 1 and value == int(value):
        return int(value)
    if 0 < value < 1:
        return value
    raise ConfigError(f"--pca-components {text!r} must be an integer K >= 1 or a fraction in (0, 1).")


@dataclass
class TransformSummary:
    """What fit_transform did (also in manifest.json)."""

    out: Path
    n_input: int
    sizes: dict[str, int]
    n_quarantined: int
    quarantine_by_reason: dict[str, int]
    n_relabelled: int
    feature_names: list[str]
    verification: dict[str, Any]
    manifest: dict[str, Any] = field(repr=False)
    seconds: float = 0.0

    @property
    def n_features(self) -> int:
        return len(self.feature_names)


@dataclass
class TransformOutcome:
    """What transform did with new data."""

    out: Path
    n_rows: int
    n_transformed: int
    n_quarantined: int
    validation: Any
    unknown_categories: dict[str, int]
    quarantine_path: Path | None = None


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------
def _load(data: Any, label: str, config: TransformConfig) -> Any:
    from dataaudit.dataset import Dataset
    from dataaudit.io.loading import load_dataset

    if isinstance(data, Dataset):
        if data.label != label:
            data = Dataset(frame=data.frame, path=data.path, label=label, sha256=data.sha256,
                           id_column=config.id_column or data.id_column)
        return data
    if isinstance(data, pd.DataFrame):
        if label not in data.columns:
            raise InputError(f"Label column {label!r} not found; columns are {list(data.columns)}.")
        return Dataset.from_frame(data, label=label, id_column=config.id_column)
    return load_dataset(data, label=label, id_column=config.id_column)


def _roles_with_drops(roles: dict[str, str], config: TransformConfig, source: str) -> dict[str, str]:
    roles = dict(roles)
    unknown = [c for c in config.drop if c not in roles]
    if unknown:
        raise InputError(f"--drop names column(s) {unknown} that {source} does not have; columns are {list(roles)}.")
    for column in config.drop:
        roles[column] = "user"
    return roles


def _findings(findings: Any, dataset: Any, config: TransformConfig) -> tuple[Any, list[str]]:
    """The AuditResult to clean from (loaded, or computed by the needed checks) and notes."""
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
        audit = run_checks(dataset, checks=names, seed=config.seed)
        for result in audit.checks:
            if result.status in ("errored", "skipped"):
                notes.append(f"check {result.check} {result.status}: {result.error or result.reason}")
        return audit, notes
    recorded = (audit.input or {}).get("sha256")
    if recorded and dataset.sha256 and recorded != dataset.sha256:
        raise InputError(
            f"The findings were computed for another input (sha256 {recorded[:12]}…, this file "
            f"{dataset.sha256[:12]}…). Run `dataaudit inspect` on this file or omit --findings."
        )
    return audit, notes


def _label_arrays(y_raw: pd.Series, task: str) -> tuple[np.ndarray, list[Any]]:
    """(y, classes): int64 codes over sorted classes for classification, float64 otherwise."""
    if task == "classification":
        codes, classes = pd.factorize(y_raw, sort=True)
        return codes.astype(np.int64), [_plain(c) for c in classes]
    return pd.to_numeric(y_raw, errors="coerce").to_numpy(dtype=np.float64), []


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _code_of(value: Any, classes: list[Any]) -> int:
    for i, c in enumerate(classes):
        if c == value or str(c) == str(value):
            return i
    return -1


def _make_scaler(config: TransformConfig) -> Any:
    from dataaudit.transforms import MeanCenterer, Standardizer

    if config.scale == "standard":
        return Standardizer()
    if config.scale == "center":
        return MeanCenterer()
    return None


def _make_pca(config: TransformConfig) -> Any:
    from dataaudit.transforms import PCATransformer

    if config.whiten == "none" and config.pca_components is None:
        return None
    whiten = None if config.whiten == "none" else config.whiten
    return PCATransformer(n_components=config.pca_components, whiten=whiten, epsilon=config.epsilon)


def _verification(transform: Any, moments_train: Any, val_X: np.ndarray | None, config: TransformConfig) -> dict[str, Any]:
    """Covariance of the training output vs identity, and validation statistics after transform."""
    out: dict[str, Any] = {}
    if moments_train is not None and moments_train.n_samples > 1 and moments_train.mean is not None:
        cov = moments_train.covariance(ddof=0)
        std = np.sqrt(np.diag(cov))
        out["train_mean_max_abs"] = float(np.max(np.abs(moments_train.mean)))
        if config.whiten != "none" and transform.pca is not None:
            # ZCA output lives in the input space: on the kept directions it is white, on the
            # dropped (degenerate) ones it is 0, so compare with the projector onto the kept ones.
            components = transform.pca.components_
            target = components.T @ components if config.whiten == "zca" else np.eye(cov.shape[0])
            out["whitened_cov_max_abs_deviation"] = float(np.max(np.abs(cov - target)))
            out["n_dropped_directions"] = int(transform.pca.n_dropped_directions_)
        elif config.scale == "standard" and transform.pca is None:
            nonconstant = std > 0
            out["train_std_max_abs_deviation"] = float(np.max(np.abs(std[nonconstant] - 1))) if nonconstant.any() else 0.0
    if val_X is not None and len(val_X):
        from dataaudit.transforms import StreamingMoments

        moments = StreamingMoments(covariance=False).update(val_X)
        assert moments.mean is not None
        mean, std = moments.mean, np.sqrt(moments.variance(ddof=0))
        out["val"] = {
            "n_rows": int(len(val_X)),
            "mean_abs_mean": float(np.mean(np.abs(mean))),
            "max_abs_mean": float(np.max(np.abs(mean))),
            "mean_std": float(np.mean(std)),
            "min_std": float(np.min(std)),
            "max_std": float(np.max(std)),
            "per_feature_mean": [float(v) for v in mean[:200]],
            "per_feature_std": [float(v) for v in std[:200]],
        }
    return out


def _spectrum(pca: Any) -> dict[str, Any] | None:
    if pca is None:
        return None
    return {
        "eigenvalues": [float(v) for v in pca.eigenvalues_],
        "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "n_components": int(pca.n_components_),
        "rank": int(pca.rank_),
        "n_dropped_directions": int(pca.n_dropped_directions_),
        "eigenvalue_threshold": float(pca.eigenvalue_threshold_),
    }


def _steps(transform: Any, config: TransformConfig) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{
        "step": "encode", "estimator": "TabularEncoder",
        "params": {"max_categories": config.max_categories, "indicator_min": 0.01, "indicator_max": 0.99},
        "n_features_out": int(transform.encoder.n_features_out_),
    }]
    if transform.scaler is not None:
        steps.append({"step": "scale", "estimator": type(transform.scaler).__name__,
                      "params": {"mode": config.scale}})
    if transform.pca is not None:
        steps.append({"step": "whiten" if config.whiten != "none" else "pca",
                      "estimator": "PCATransformer",
                      "params": {"whiten": config.whiten, "n_components": config.pca_components,
                                 "epsilon": config.epsilon},
                      "n_features_out": int(transform.n_features_out),
                      "n_dropped_directions": int(transform.pca.n_dropped_directions_)})
    return steps


class _Accounting:
    """Row bookkeeping: split per input row (-1 = quarantined) and reasons."""

    def __init__(self, n: int) -> None:
        self.split = np.full(n, -1, dtype=np.int8)
        self.removed: dict[int, str] = {}
        self.relabelled: dict[int, tuple[Any, Any]] = {}

    def check(self, n_input: int) -> dict[str, int]:
        sizes = {name: int(np.count_nonzero(self.split == i)) for i, name in enumerate(SPLIT_NAMES)}
        n_quarantined = len(self.removed)
        if n_input != sum(sizes.values()) + n_quarantined or np.count_nonzero(self.split < 0) != n_quarantined:
            raise DataAuditError(
                f"Row accounting failed: {n_input} input rows != train {sizes['train']} + val "
                f"{sizes['val']} + test {sizes['test']} + quarantined {n_quarantined}. This is a bug."
            )
        return sizes


def _plan(
    hashes: RowHashes,
    y: np.ndarray,
    label_missing: np.ndarray,
    task: str,
    classes: list[Any],
    audit: Any,
    config: TransformConfig,
    eval_names: set[str],
    eval_feature_hashes: np.ndarray | None,
) -> tuple[_Accounting, np.ndarray, int]:
    """Cleaning and split decisions for every row; returns accounting, final y and #groups."""
    n = len(y)
    policy = config.policy
    acc = _Accounting(n)
    acc.removed.update(pre_split_removals(hashes, label_missing, policy))
    if eval_feature_hashes is not None and len(eval_feature_hashes):
        # A training row equal to a row of the user's val/test file would leak; the eval file
        # is left untouched (its labels are never cleaned), the training copy goes.
        leaked = np.isin(hashes.features, eval_feature_hashes)
        for r in np.flatnonzero(leaked):
            acc.removed.setdefault(int(r), "duplicate_of_eval")
    kept_mask = np.ones(n, dtype=bool)
    kept_mask[np.fromiter(acc.removed, dtype=np.int64, count=len(acc.removed))] = False
    kept = np.flatnonzero(kept_mask)  # a mask, not setdiff1d: no sort or hash of a million rows
    near = near_groups_from_findings(audit) if config.near_duplicates else []
    groups = group_ids(n, hashes.features, near)
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
    y = y.copy()
    for row, suggested in post.relabelled.items():
        if task == "classification":
            code = _code_of(suggested, classes)
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
    return acc, y, n_groups


def _quarantine_frame(frame: pd.DataFrame, rows: np.ndarray, reasons: list[str]) -> pd.DataFrame:
    out = frame.iloc[rows].copy()
    out.insert(0, "reason", reasons)
    out.insert(0, "row", rows.astype(np.int64))
    return out


def _cleaning_record(acc: _Accounting, config: TransformConfig, notes: list[str], n_groups: int,
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
        "notes": notes + [
            "exact duplicates (features and label) and missing labels are removed before the split, everywhere",
            "conflicting-label groups and suspect labels are handled on train/val rows only; test labels are never cleaned",
        ],
    }


def _schema(frame: pd.DataFrame, roles: dict[str, str]) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(frame[c].dtype) for c in frame.columns},
        "roles": dict(roles),
    }


# ---------------------------------------------------------------------------------------------
# fit_transform
# ---------------------------------------------------------------------------------------------
def fit_transform(
    data: Any,
    label: str,
    out: str | Path,
    *,
    findings: Any = None,
    config: TransformConfig | None = None,
) -> TransformSummary:
    """Clean, split, fit the transforms on train only, and save the artifact folder ``out``.

    Parameters
    ----------
    data : str, Path, Dataset or DataFrame
        Input table (CSV/TSV/Parquet path, or in memory).
    label : str
        Label column.
    out : str or Path
        Artifact folder (replaced atomically).
    findings : str, Path or AuditResult, optional
        ``findings.json`` of ``dataaudit inspect`` on the same file; without it the checks the
        policy needs (near duplicates; label issues when suspects are not kept) are run.
    config : TransformConfig, optional
        Policy, split and transform options (defaults: see TransformConfig).

    Returns
    -------
    TransformSummary

    Raises
    ------
    InputError
        Unreadable input, unknown label or --drop column, findings for another file.
    ConfigError
        Invalid options.

    Examples
    --------
    >>> summary = fit_transform("data.csv", "label", "artifacts/",
    ...                         config=TransformConfig(whiten="zca"))      # doctest: +SKIP
    >>> summary.sizes                                                        # doctest: +SKIP
    {'train': 1437, 'val': 180, 'test': 180}
    """
    config = config or TransformConfig()
    started = time.perf_counter()
    if config.chunksize:
        return _fit_transform_chunked(data, label, Path(out), findings, config, started)
    dataset = _load(data, label, config)
    frame = dataset.frame
    roles = _roles_with_drops(dataset.roles, config, dataset.name)
    task = dataset.task or "classification"
    audit, notes = _findings(findings, dataset, config)
    features = [c for c in dataset.columns if c != label]
    hashes = row_hashes(frame, features, label)
    label_missing = frame[label].isna().to_numpy()
    y, classes = _label_arrays(frame[label], task)
    evals = _load_eval_files(dataset, label, config, features, task, classes)
    eval_hashes = np.concatenate([e["hashes"] for e in evals.values()]) if evals else None
    acc, y, n_groups = _plan(hashes, y, label_missing, task, classes, audit, config, set(evals), eval_hashes)
    sizes = acc.check(dataset.n_rows)
    n_input = dataset.n_rows
    for name, part in evals.items():
        # The user's own files: every row is kept (their labels are never cleaned).
        sizes[name] = len(part["y"])
        n_input += len(part["y"])
    if sizes["train"] == 0:
        raise InputError(f"{dataset.name}: no training rows are left after cleaning; check the policy.")
    train_rows = np.flatnonzero(acc.split == 0)

    from dataaudit.expectations import build_suite

    suite = build_suite(frame, name=f"{dataset.name}-train", roles=roles, label=label, seed=config.seed,
                        rows=train_rows)
    encoder = TabularEncoder(roles, label, max_categories=config.max_categories).fit(frame, rows=train_rows)
    if encoder.n_features_out_ == 0:
        raise InputError(f"{dataset.name}: no usable feature columns (dropped: {encoder.dropped_with_reasons()}).")
    from dataaudit.io.artifacts import FittedTransform

    transform_ = FittedTransform(encoder, _make_scaler(config), _make_pca(config), dtype=config.dtype)
    encoded_train = encoder.transform(frame, rows=train_rows)
    if transform_.scaler is not None or transform_.pca is not None:
        _fit_scaler_and_pca(transform_, _train_moments(transform_, [encoded_train]))
    arrays: dict[str, dict[str, np.ndarray]] = {}
    unknown: dict[str, dict[str, int]] = {}
    for index, name in enumerate(SPLIT_NAMES):
        if name != "train" and name in evals:
            part, eval_y, eval_rows = evals[name]["frame"], evals[name]["y"], evals[name]["rows"]
            encoder.unknown_counts_ = {}
            encoded = encoder.transform(part)
            X = transform_.apply_encoded(encoded)
            arrays[name] = {"X": X, "y": eval_y, "row": eval_rows}
        else:
            rows = np.flatnonzero(acc.split == index)
            encoder.unknown_counts_ = {}
            encoded = encoded_train if name == "train" else encoder.transform(frame, rows=rows)
            X = transform_.apply_encoded(encoded)
            arrays[name] = {"X": X, "y": y[rows], "row": rows.astype(np.int64)}
        unknown[name] = dict(encoder.unknown_counts_)
        del encoded
    from dataaudit.transforms import StreamingMoments

    moments = StreamingMoments(covariance=True).update(arrays["train"]["X"])
    verification = _verification(transform_, moments, arrays["val"]["X"], config)
    q_rows = np.array(sorted(acc.removed), dtype=np.int64)
    quarantine = _quarantine_frame(frame, q_rows, [acc.removed[int(r)] for r in q_rows])
    manifest = _manifest(
        dataset_info={"path": str(dataset.path) if dataset.path else None, "sha256": dataset.sha256,
                      "n_rows": dataset.n_rows, "format": dataset.file_format},
        schema=_schema(frame, roles), label=label, task=task, classes=classes, config=config,
        cleaning=_cleaning_record(acc, config, notes, n_groups, _findings_source(findings, audit)),
        sizes=sizes, transform_=transform_, verification=verification, unknown=unknown,
        eval_files={k: v["path"] for k, v in evals.items()}, n_input=n_input,
    )
    _write_artifacts(Path(out), manifest, transform_, arrays, quarantine, suite)
    return _summary(Path(out), manifest, started)


def _findings_source(findings: Any, audit: Any) -> str:
    if findings is None:
        return "computed" if audit is not None else "none"
    return str(findings) if isinstance(findings, str | Path) else "given"


def _fit_scaler_and_pca(transform_: Any, moments: Any) -> None:
    """Fit the scaler and the PCA from the streamed moments of the encoded training rows.

    One pass over the data serves both: the PCA's covariance of the scaled rows is the encoded
    covariance with each column divided by its scale (``StreamingMoments.affine``).
    """
    if transform_.scaler is not None:
        transform_.scaler.fit_moments(moments)
    if transform_.pca is not None:
        scaler = transform_.scaler
        scaled = moments if scaler is None else moments.affine(scaler.mean_, getattr(scaler, "scale_", 1.0))
        try:
            transform_.pca.fit_moments(scaled)
        except InputError:
            raise InputError("Every training feature is constant: there is no direction to whiten.") from None


def _train_moments(transform_: Any, blocks: Any) -> Any:
    """Streamed moments of the encoded training rows (full covariance only when a PCA needs it)."""
    from dataaudit.transforms import StreamingMoments

    moments = StreamingMoments(covariance=transform_.pca is not None)
    for block in blocks:
        moments.update(block)
    return moments


def _load_eval_files(dataset: Any, label: str, config: TransformConfig, features: list[str], task: str,
                     classes: list[Any]) -> dict[str, dict[str, Any]]:
    """The user's own val/test files: loaded with the training roles, labels coded, rows hashed."""
    from dataaudit.io.loading import load_dataset

    out: dict[str, dict[str, Any]] = {}
    for name, path in (("val", config.val), ("test", config.test)):
        if path is None:
            continue
        ds = load_dataset(path, label=label, id_column=config.id_column, reference=dataset)
        if list(ds.columns) != list(dataset.columns):
            raise InputError(f"{path}: columns {ds.columns} differ from the training file's {dataset.columns}.")
        if ds.frame[label].isna().any():
            rows = np.flatnonzero(ds.frame[label].isna().to_numpy())[:10].tolist()
            raise InputError(f"{path}: the label {label!r} is missing in rows {rows}; an evaluation file needs every label.")
        if task == "classification":
            y = np.array([_code_of(v, classes) for v in ds.frame[label].tolist()], dtype=np.int64)
            if (y < 0).any():
                bad = sorted({str(v) for v, c in zip(ds.frame[label].tolist(), y, strict=True) if c < 0})
                raise InputError(f"{path}: label value(s) {bad[:10]} never occur in the training file.")
        else:
            y = pd.to_numeric(ds.frame[label], errors="coerce").to_numpy(dtype=np.float64)
        hashes = row_hashes(ds.frame, features, label)
        out[name] = {"frame": ds.frame, "y": y, "rows": np.arange(ds.n_rows, dtype=np.int64),
                     "hashes": hashes.features, "path": str(path)}
    return out


def _manifest(*, dataset_info: dict[str, Any], schema: dict[str, Any], label: str, task: str,
              classes: list[Any], config: TransformConfig, cleaning: dict[str, Any], sizes: dict[str, int],
              transform_: Any, verification: dict[str, Any], unknown: dict[str, dict[str, int]],
              eval_files: dict[str, str], n_input: int | None = None) -> dict[str, Any]:
    from dataaudit import __version__
    from dataaudit.io.artifacts import FORMAT_VERSION

    n_quarantined = cleaning["n_quarantined"]
    return {
        "format_version": FORMAT_VERSION,
        "dataaudit_version": __version__,
        "input": dataset_info,
        "schema": schema,
        "label": {"name": label, "task": task, "classes": classes},
        "seed": config.seed,
        "config": config.to_dict(),
        "cleaning": cleaning,
        "split": {
            "mode": "files" if eval_files else "fractions",
            "fractions": list(config.split),
            "files": eval_files,
            "sizes": sizes,
            "n_input": int(dataset_info["n_rows"] if n_input is None else n_input),
            "n_quarantined": n_quarantined,
        },
        "steps": _steps(transform_, config),
        "encoder": transform_.encoder.get_state(),
        "dropped_columns": transform_.encoder.dropped_with_reasons(),
        "dtype": config.dtype,
        "feature_names": transform_.feature_names(),
        "spectrum": _spectrum(transform_.pca),
        "verification": verification,
        "unknown_categories": unknown,
        "files": {},
    }


def _write_artifacts(out: Path, manifest: dict[str, Any], transform_: Any,
                     arrays: dict[str, dict[str, np.ndarray]] | None, quarantine: pd.DataFrame,
                     suite: dict[str, Any], writer: Any = None) -> None:
    """Write every artifact into a temporary folder and move it to ``out`` in one rename."""
    from dataaudit.io.artifacts import NpzStreamWriter, artifact_folder, npz_record
    from dataaudit.io.outputs import atomic_path, atomic_savez, atomic_write_json

    with artifact_folder(out) as tmp:
        atomic_savez(tmp / "transform.npz", **transform_.state_arrays())
        if writer is not None:
            writer(tmp)
        else:
            assert arrays is not None
            for name, parts in arrays.items():
                specs = {k: (v.shape, v.dtype) for k, v in parts.items()}
                with atomic_path(tmp / f"{name}.npz") as path:
                    NpzStreamWriter(path, specs).save_all(parts)
        with atomic_path(tmp / "quarantine.csv") as path:
            quarantine.to_csv(path, index=False)
        atomic_write_json(tmp / "expectations.json", suite)
        manifest["files"] = {
            name: npz_record(tmp / name) for name in ("transform.npz", "train.npz", "val.npz", "test.npz")
        }
        atomic_write_json(tmp / "manifest.json", manifest)


def _summary(out: Path, manifest: dict[str, Any], started: float) -> TransformSummary:
    cleaning = manifest["cleaning"]
    return TransformSummary(
        out=out,
        n_input=manifest["split"]["n_input"],
        sizes=dict(manifest["split"]["sizes"]),
        n_quarantined=cleaning["n_quarantined"],
        quarantine_by_reason=dict(cleaning["by_reason"]),
        n_relabelled=len(cleaning["relabelled"]),
        feature_names=list(manifest["feature_names"]),
        verification=manifest["verification"],
        manifest=manifest,
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------
# chunked fit_transform
# ---------------------------------------------------------------------------------------------
def _read_chunks(path: Path, chunksize: int, dtypes: dict[str, Any] | None = None) -> Any:
    from dataaudit.io.loading import read_table

    if path.suffix.lower() in {".parquet", ".pq"}:
        raise InputError(f"{path}: --chunksize streams CSV/TSV files; load Parquet in memory instead.")
    sep = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    if not path.exists():
        read_table(path)  # raises the loader's clear error
    return pd.read_csv(path, sep=sep, chunksize=chunksize, dtype=dtypes, low_memory=False)


def _fit_transform_chunked(data: Any, label: str, out: Path, findings: Any, config: TransformConfig,
                           started: float) -> TransformSummary:
    from dataaudit.dataset import Dataset, infer_roles
    from dataaudit.expectations import build_suite
    from dataaudit.findings import AuditResult
    from dataaudit.io.artifacts import FittedTransform, NpzStreamWriter
    from dataaudit.io.loading import file_sha256
    from dataaudit.transforms import StreamingMoments

    if not isinstance(data, str | Path):
        raise ConfigError("chunksize streams a CSV file; pass a path, not an in-memory table.")
    if config.val is not None or config.test is not None:
        raise ConfigError("chunksize cannot be combined with --val/--test files; use --split fractions.")
    path = Path(data)
    chunksize = int(config.chunksize or 0)
    rng = np.random.default_rng(config.seed)
    # Pass 1: hashes, labels, a seeded uniform sample (smallest random keys), column dtypes.
    feature_h: list[np.ndarray] = []
    full_h: list[np.ndarray] = []
    labels: list[pd.Series] = []
    sample: pd.DataFrame | None = None
    sample_keys = np.empty(0)
    columns: list[str] | None = None
    float_columns: set[str] = set()
    n = 0
    for chunk in _read_chunks(path, chunksize):
        chunk.index = pd.RangeIndex(n, n + len(chunk))
        chunk.columns = [str(c) for c in chunk.columns]
        if columns is None:
            columns = list(chunk.columns)
            if label not in columns:
                raise InputError(f"Label column {label!r} not found in {path}; columns are {columns}. Pass --label with one of them.")
        float_columns |= {c for c in chunk.columns if pd.api.types.is_float_dtype(chunk[c])}
        features = [c for c in columns if c != label]
        hashes = row_hashes(chunk, features, label)
        feature_h.append(hashes.features)
        full_h.append(hashes.full)
        labels.append(chunk[label])
        keys = rng.random(len(chunk))
        merged_keys = np.concatenate([sample_keys, keys])
        merged = chunk if sample is None else pd.concat([sample, chunk])
        if len(merged) > config.sample_rows:
            keep = np.argsort(merged_keys, kind="stable")[: config.sample_rows]
            keep.sort()
            merged, merged_keys = merged.iloc[keep], merged_keys[keep]
        sample, sample_keys = merged, merged_keys
        n += len(chunk)
    if columns is None or sample is None or n == 0:
        raise InputError(f"{path}: has a header but no data rows.")
    # Chunks may infer int for a column that is float elsewhere; read floats as float64 everywhere.
    dtypes = dict.fromkeys(float_columns, np.float64)
    sample = sample.astype({c: np.float64 for c in float_columns if c in sample.columns})
    y_raw = pd.concat(labels, ignore_index=True)
    hashes = RowHashes(np.concatenate(feature_h), np.concatenate(full_h))
    del feature_h, full_h, labels
    roles = infer_roles(sample, label, config.id_column)
    roles = _roles_with_drops(roles, config, str(path))
    sample_ds = Dataset(frame=y_raw.to_frame(), label=label, roles={label: "label"}, sha256="-")
    task = sample_ds.task or "classification"
    audit = AuditResult.load(findings) if isinstance(findings, str | Path) else findings
    sha = file_sha256(path)
    notes = ["chunked mode: near-duplicate groups only from --findings; encoder medians from a sample"
             f" of {min(config.sample_rows, n)} rows"]
    if audit is not None:
        recorded = (audit.input or {}).get("sha256")
        if recorded and recorded != sha:
            raise InputError("The findings were computed for another input file; run `dataaudit inspect` on this file.")
    y, classes = _label_arrays(y_raw, task)
    acc, y, n_groups = _plan(hashes, y, y_raw.isna().to_numpy(), task, classes, audit, config, set(), None)
    sizes = acc.check(n)
    if sizes["train"] == 0:
        raise InputError(f"{path}: no training rows are left after cleaning; check the policy.")
    split = acc.split
    train_sample = sample[split[sample.index.to_numpy()] == 0]
    encoder = TabularEncoder(roles, label, max_categories=config.max_categories).fit(train_sample)
    transform_ = FittedTransform(encoder, _make_scaler(config), _make_pca(config), dtype=config.dtype)
    width = encoder.n_features_out_
    # Pass 2: encode, scaler statistics, exact suite statistics, spill encoded rows per split.
    stats: dict[str, dict[str, float]] = {}
    q_parts: list[pd.DataFrame] = []
    # Scaler and PCA statistics stream along with the encoding pass (no extra pass over the spill).
    train_moments = None if transform_.scaler is None and transform_.pca is None else _train_moments(transform_, [])
    tmpdir = Path(tempfile.mkdtemp(prefix=".dataaudit-spill-", dir=out.parent if out.parent.exists() else None))
    try:
        spill = {name: open(tmpdir / f"{name}.bin", "wb") for name in SPLIT_NAMES}  # noqa: SIM115
        try:
            start = 0
            for chunk in _read_chunks(path, chunksize, dtypes):
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                chunk.columns = [str(c) for c in chunk.columns]
                part = split[start : start + len(chunk)]
                start += len(chunk)
                quarantined = np.flatnonzero(part < 0)
                if len(quarantined):
                    rows = quarantined + chunk.index[0]
                    q_parts.append(_quarantine_frame(chunk, quarantined, [acc.removed[int(r)] for r in rows]))
                    q_parts[-1]["row"] = rows
                train_local = np.flatnonzero(part == 0)
                _update_suite_stats(stats, chunk.iloc[train_local], roles)
                for index, name in enumerate(SPLIT_NAMES):
                    local = np.flatnonzero(part == index)
                    if len(local):
                        encoded = encoder.transform(chunk, rows=local)
                        if name == "train" and train_moments is not None:
                            train_moments.update(encoded)
                        spill[name].write(np.ascontiguousarray(encoded).tobytes())
        finally:
            for handle in spill.values():
                handle.close()

        if train_moments is not None:
            _fit_scaler_and_pca(transform_, train_moments)
        suite = build_suite(train_sample, name=f"{path.name}-train", roles=roles, label=label, seed=config.seed)
        _apply_suite_stats(suite, stats)
        k = transform_.n_features_out
        dtype = np.dtype(config.dtype)
        moments = StreamingMoments(covariance=True)
        val_moments = StreamingMoments(covariance=False)

        def write_splits(folder: Path) -> None:
            from dataaudit.io.outputs import atomic_path

            for index, name in enumerate(SPLIT_NAMES):
                rows = np.flatnonzero(split == index).astype(np.int64)
                specs = {"X": ((len(rows), k), dtype), "y": ((len(rows),), y.dtype), "row": ((len(rows),), np.dtype(np.int64))}
                with atomic_path(folder / f"{name}.npz") as target:
                    writer = NpzStreamWriter(target, specs)
                    writer.begin("X")
                    for block in _spill_blocks(tmpdir / f"{name}.bin", width):
                        X = transform_.apply_encoded(block)
                        if name == "train":
                            moments.update(X)
                        elif name == "val":
                            val_moments.update(X)
                        writer.write(X)
                    writer.begin("y")
                    writer.write(y[rows])
                    writer.begin("row")
                    writer.write(rows)
                    writer.close()
            verification.update(_verification(transform_, moments, None, config))
            if val_moments.n_samples and val_moments.mean is not None:
                mean, std = val_moments.mean, np.sqrt(val_moments.variance(ddof=0))
                verification["val"] = {
                    "n_rows": int(val_moments.n_samples), "mean_abs_mean": float(np.mean(np.abs(mean))),
                    "max_abs_mean": float(np.max(np.abs(mean))), "mean_std": float(np.mean(std)),
                    "min_std": float(np.min(std)), "max_std": float(np.max(std)),
                    "per_feature_mean": [float(v) for v in mean[:200]],
                    "per_feature_std": [float(v) for v in std[:200]],
                }
            manifest["verification"] = verification

        verification: dict[str, Any] = {}
        quarantine = (pd.concat(q_parts, ignore_index=True) if q_parts
                      else pd.DataFrame(columns=["row", "reason", *columns]))
        schema = {"columns": columns, "dtypes": {c: str(sample[c].dtype) for c in columns}, "roles": roles}
        manifest = _manifest(
            dataset_info={"path": str(path), "sha256": sha, "n_rows": n, "format": "csv", "chunksize": chunksize},
            schema=schema, label=label, task=task, classes=classes, config=config,
            cleaning=_cleaning_record(acc, config, notes, n_groups, _findings_source(findings, audit)),
            sizes=sizes, transform_=transform_, verification=verification,
            unknown={}, eval_files={},
        )
        _write_artifacts(out, manifest, transform_, None, quarantine, suite, writer=write_splits)
    finally:
        for name in SPLIT_NAMES:
            (tmpdir / f"{name}.bin").unlink(missing_ok=True)
        os.rmdir(tmpdir)
    return _summary(out, manifest, started)


def _spill_blocks(path: Path, width: int, rows_per_block: int = 65_536) -> Any:
    """Read float64 rows back from a spill file, one block at a time (no memory map)."""
    with open(path, "rb") as handle:
        while True:
            data = handle.read(rows_per_block * width * 8)
            if not data:
                return
            yield np.frombuffer(data, dtype=np.float64).reshape(-1, width)


def _update_suite_stats(stats: dict[str, dict[str, float]], chunk: pd.DataFrame, roles: dict[str, str]) -> None:
    """Exact running min, max and null count per column over the training rows."""
    for column in chunk.columns:
        entry = stats.setdefault(column, {"min": np.inf, "max": -np.inf, "nulls": 0, "n": 0})
        values = chunk[column]
        entry["nulls"] += int(values.isna().sum())
        entry["n"] += len(values)
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            finite = values.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = finite[np.isfinite(finite)]
            if finite.size:
                entry["min"] = min(entry["min"], float(finite.min()))
                entry["max"] = max(entry["max"], float(finite.max()))


def _apply_suite_stats(suite: dict[str, Any], stats: dict[str, dict[str, float]], range_tolerance: float = 0.1,
                       null_slack: float = 0.05) -> None:
    """Replace the sample-based ranges and null shares of a suite by the exact streamed ones."""
    for exp in suite["expectations"]:
        kwargs = exp["kwargs"]
        entry = stats.get(kwargs.get("column", ""))
        if entry is None or not entry["n"]:
            continue
        if exp["type"] == "expect_column_values_to_be_between" and np.isfinite(entry["min"]):
            low, high = entry["min"], entry["max"]
            pad = range_tolerance * (high - low) if high > low else range_tolerance * max(abs(low), 1.0)
            kwargs["min_value"], kwargs["max_value"] = low - pad, high + pad
        elif exp["type"] == "expect_column_values_to_not_be_null":
            share = entry["nulls"] / entry["n"]
            kwargs["mostly"] = 1.0 if share == 0 else max(0.0, round(1.0 - share - null_slack, 6))


# ---------------------------------------------------------------------------------------------
# transform
# ---------------------------------------------------------------------------------------------
def _coerce_to_schema(frame: pd.DataFrame, schema: dict[str, Any]) -> list[Any]:
    """Parse numeric-schema columns that arrived as text; report cells that are not numbers."""
    from dataaudit.expectations import Violation

    violations: list[Violation] = []
    dtypes = schema.get("dtypes", {})
    for column, dtype in dtypes.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        expected_numeric = any(dtype.startswith(p) for p in ("int", "float", "uint", "Int", "Float", "UInt"))
        if not expected_numeric or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("string").str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        bad = (values.notna() & parsed.isna()).to_numpy()
        non_null = int(values.notna().sum())
        if non_null and bad.sum() == non_null:
            # The whole column is text where numbers were expected: no row can be blamed.
            violations.append(Violation(
                "expect_column_values_to_be_in_type_list", column, str(values.dtype), (), 0,
                f"column {column!r}: expected numbers ({dtype}) but no value parses as a number",
            ))
            continue
        frame[column] = parsed.astype(np.float64)
        if bad.any():
            rows = tuple(int(r) for r in np.flatnonzero(bad))
            sample = [str(v) for v in values[bad].head(5).tolist()]
            violations.append(Violation(
                "expect_column_values_to_be_in_type_list", column, sample, rows, len(rows),
                f"column {column!r}: {len(rows)} value(s) are not numbers (e.g. {sample})",
            ))
    return violations


def transform(
    data: Any,
    artifacts: str | Path,
    out: str | Path,
    *,
    on_invalid: str = "fail",
) -> TransformOutcome:
    """Validate new data against the saved expectations, then apply the saved transform.

    Parameters
    ----------
    data : str, Path or DataFrame
        New table with the training columns (the label column is optional).
    artifacts : str or Path
        Artifact folder of ``fit_transform``.
    out : str or Path
        Output ``.npz`` with ``X``, ``row`` and, when the label is present, ``y``.
    on_invalid : {"fail", "quarantine"}
        "fail": raise ValidationFailed listing every violated expectation. "quarantine": move the
        offending rows to ``<out stem>.quarantine.csv`` and transform the rest.

    Returns
    -------
    TransformOutcome

    Raises
    ------
    InputError
        Missing or new columns, a column of the wrong type (nothing can be transformed).
    ValidationFailed
        Row-level violations with ``on_invalid="fail"``; ``.report`` holds them all.
    ArtifactError
        Untrustworthy artifacts.
    """
    from dataaudit.expectations import ValidationReport, validate
    from dataaudit.io.artifacts import NpzStreamWriter, load_artifacts
    from dataaudit.io.loading import read_table
    from dataaudit.io.outputs import atomic_path

    if on_invalid not in ON_INVALID:
        raise ConfigError(f"on_invalid={on_invalid!r} must be one of {list(ON_INVALID)}.")
    art = load_artifacts(artifacts, load_splits=False)
    manifest = art.manifest
    label_info = manifest.get("label") or {}
    label = label_info.get("name")
    if isinstance(data, pd.DataFrame):
        frame, source = data.reset_index(drop=True).copy(), "the data"
    else:
        frame, _ = read_table(data)
        source = str(data)
    frame.columns = [str(c) for c in frame.columns]
    schema = manifest["schema"]
    expected = [c for c in schema["columns"] if c != label or label in frame.columns]
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema["columns"]]
    coerced = _coerce_to_schema(frame, schema)
    if art.suite is not None:
        report = validate(frame, art.suite)
    else:
        report = ValidationReport(n_rows=len(frame), n_expectations=0)
    report.violations[:0] = coerced
    if missing or extra or report.table_level:
        # The column-list expectation repeats every column; the missing/new lists say it shorter.
        problems = [v.message for v in report.table_level
                    if not (missing or extra) or v.expectation != "expect_table_columns_to_match_ordered_list"]
        if missing:
            problems.insert(0, f"missing column(s) {missing}")
        if extra:
            problems.insert(0, f"new column(s) {extra} not seen at fit time")
        raise InputError(
            f"{source} does not match the schema the transform was fitted on: " + "; ".join(dict.fromkeys(problems))
            + ". Pass a file with the training columns and types."
        )
    bad_rows = report.bad_rows
    quarantine_path: Path | None = None
    out = Path(out)
    if len(bad_rows) and on_invalid == "fail":
        error = ValidationFailed(
            f"{source}: {len(report.violations)} expectation(s) violated by {len(bad_rows)} row(s): "
            + "; ".join(report.lines()) + ". Fix the data or pass --on-invalid quarantine."
        )
        error.report = report  # type: ignore[attr-defined]
        raise error
    keep = np.setdiff1d(np.arange(len(frame)), bad_rows)
    if len(bad_rows):
        reasons: dict[int, list[str]] = {int(r): [] for r in bad_rows}
        for v in report.violations:
            for r in v.rows:
                reasons[int(r)].append(f"{v.expectation}:{v.column}")
        quarantine = _quarantine_frame(frame, bad_rows, ["invalid " + ";".join(reasons[int(r)]) for r in bad_rows])
        quarantine_path = out.with_name(out.name.removesuffix(".npz") + ".quarantine.csv")
        with atomic_path(quarantine_path) as target:
            quarantine.to_csv(target, index=False)
    transform_ = art.transform
    transform_.encoder.unknown_counts_ = {}
    encoded = transform_.encoder.transform(frame, rows=keep)
    X = transform_.apply_encoded(encoded)
    arrays: dict[str, np.ndarray] = {"X": X, "row": keep.astype(np.int64)}
    if label and label in frame.columns:
        if label_info.get("task") == "classification":
            classes = label_info.get("classes") or []
            arrays["y"] = np.array([_code_of(v, classes) for v in frame[label].iloc[keep].tolist()], dtype=np.int64)
        else:
            arrays["y"] = pd.to_numeric(frame[label].iloc[keep], errors="coerce").to_numpy(dtype=np.float64)
    with atomic_path(out) as target:
        NpzStreamWriter(target, {k: (v.shape, v.dtype) for k, v in arrays.items()}).save_all(arrays)
    return TransformOutcome(
        out=out, n_rows=len(frame), n_transformed=len(keep), n_quarantined=len(bad_rows),
        validation=report, unknown_categories=dict(transform_.encoder.unknown_counts_),
        quarantine_path=quarantine_path,
    )
