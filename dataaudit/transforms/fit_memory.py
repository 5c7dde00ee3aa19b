"""The in-memory fit: the whole table is loaded, cleaned, split, encoded and fitted at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from dataaudit.exceptions import InputError
from dataaudit.grouping import identity_columns
from dataaudit.progress import NO_PROGRESS, Progress
from dataaudit.transforms.config import TransformConfig, TransformSummary
from dataaudit.transforms.encoding import TabularEncoder
from dataaudit.transforms.fitting import (
    build_manifest,
    fit_scaler_and_pca,
    make_pca,
    make_scaler,
    schema_of,
    summarize,
    train_moments,
    verification_stats,
    write_artifacts,
    write_split_arrays,
)
from dataaudit.transforms.plan import (
    audit_for_cleaning,
    cleaning_record,
    drop_leaky,
    entity_keys,
    findings_source,
    label_arrays,
    label_ceiling,
    load_eval_files,
    load_input,
    plan_rows,
    quarantine_frame,
    roles_with_drops,
    row_identity,
)
from dataaudit.transforms.split import SPLIT_NAMES, small_split_warnings

__all__ = ["fit_in_memory"]


def fit_in_memory(data: Any, label: str, out: Path, findings: Any, config: TransformConfig,
                  started: float, progress: Progress = NO_PROGRESS) -> TransformSummary:
    """``fit_transform`` for a table that fits in memory (see ``dataaudit.transforms.pipeline``)."""
    from dataaudit.expectations import build_suite
    from dataaudit.transforms import StreamingMoments
    from dataaudit.transforms.fitted import FittedTransform

    progress.stage("loading")
    dataset = load_input(data, label, config)
    if dataset.group != config.group:
        config = dataclasses.replace(config, group=dataset.group)
    frame = dataset.frame
    roles = roles_with_drops(dataset.roles, config, dataset.name)
    task = dataset.task or "classification"
    progress.stage("cleaning")
    audit, notes = audit_for_cleaning(findings, dataset, config, progress)
    progress.step("row identity and copy groups")
    hashes, notes_identity = row_identity(dataset, audit)
    notes.extend(notes_identity)
    leaky = drop_leaky(audit, roles, config, notes)
    progress.stage("split")
    label_missing = frame[label].isna().to_numpy()
    y, classes = label_arrays(frame[label], task)
    evals = load_eval_files(dataset, label, config, identity_columns(dataset), task, classes)
    eval_hashes = np.concatenate([e["hashes"] for e in evals.values()]) if evals else None
    acc, y, n_groups = plan_rows(hashes, y, label_missing, task, classes, audit, config, set(evals), eval_hashes,
                                 entity=entity_keys(dataset), source=dataset.name)
    sizes = acc.check(dataset.n_rows)
    n_input = dataset.n_rows
    for name, part in evals.items():
        # The user's own files: every row is kept (their labels are never cleaned).
        sizes[name] = len(part["y"])
        n_input += len(part["y"])
    if sizes["train"] == 0:
        raise InputError(f"{dataset.name}: no training rows are left after cleaning; check the policy.")
    train_rows = np.flatnonzero(acc.split == 0)

    progress.stage("fit")
    progress.step("expectation suite")
    suite = build_suite(frame, name=f"{dataset.name}-train", roles=roles, label=label, seed=config.seed,
                        rows=train_rows)
    progress.step("encoder")
    encoder = TabularEncoder(roles, label, max_categories=config.max_categories).fit(frame, rows=train_rows)
    if encoder.n_features_out_ == 0:
        raise InputError(f"{dataset.name}: no usable feature columns (dropped: {encoder.dropped_with_reasons()}).")
    transform_ = FittedTransform(encoder, make_scaler(config), make_pca(config), dtype=config.dtype)
    encoded_train = encoder.transform(frame, rows=train_rows)
    if transform_.scaler is not None or transform_.pca is not None:
        progress.step("scaler and PCA" if transform_.pca is not None else "scaler")
        fit_scaler_and_pca(transform_, train_moments(transform_, [encoded_train]))
    arrays: dict[str, dict[str, np.ndarray]] = {}
    unknown: dict[str, dict[str, int]] = {}
    progress.stage("apply")
    for index, name in enumerate(SPLIT_NAMES):
        progress.task(name, index + 1, len(SPLIT_NAMES))
        encoder.unknown_counts_ = {}
        if name != "train" and name in evals:
            encoded = encoder.transform(evals[name]["frame"])
            arrays[name] = {"X": transform_.apply_encoded(encoded), "y": evals[name]["y"], "row": evals[name]["rows"]}
        else:
            rows = np.flatnonzero(acc.split == index)
            encoded = encoded_train if name == "train" else encoder.transform(frame, rows=rows)
            arrays[name] = {"X": transform_.apply_encoded(encoded), "y": y[rows], "row": rows.astype(np.int64)}
        unknown[name] = dict(encoder.unknown_counts_)
        del encoded

    progress.step("verifying the output (train covariance, val statistics)")
    verification = verification_stats(
        transform_, StreamingMoments(covariance=True).update(arrays["train"]["X"]),
        StreamingMoments(covariance=False).update(arrays["val"]["X"]) if len(arrays["val"]["X"]) else None, config,
    )
    progress.stage("writing")
    q_rows = np.array(sorted(acc.removed), dtype=np.int64)
    quarantine = quarantine_frame(frame, q_rows, [acc.removed[int(r)] for r in q_rows],
                                  source=dataset.path if dataset.file_format != "memory" else None,
                                  encoding=dataset.encoding)
    manifest = build_manifest(
        dataset_info={"path": str(dataset.path) if dataset.path else None, "sha256": dataset.sha256,
                      "n_rows": dataset.n_rows, "format": dataset.file_format},
        schema=schema_of(frame, roles), label=label, task=task, classes=classes, config=config,
        cleaning={**cleaning_record(acc, config, notes, n_groups, findings_source(findings, audit)),
                  "dropped_leaky_columns": leaky, "label_ceiling": label_ceiling(audit)},
        sizes=sizes, transform_=transform_, unknown=unknown,
        eval_files={k: v["path"] for k, v in evals.items()}, n_input=n_input,
        split_warnings=small_split_warnings({k: arrays[k]["y"] for k in ("val", "test")}, task, classes),
    )

    def write_splits(folder: Path) -> dict[str, Any]:
        write_split_arrays(folder, arrays)
        return verification

    write_artifacts(out, manifest, transform_, quarantine, suite, write_splits)
    return summarize(out, manifest, started)
