"""The chunked fit: ``fit_transform`` on a CSV larger than memory, in two passes over the file.

1. ``_scan``: per-row hashes (exact duplicates, conflicting labels, split groups), the labels and
   a seeded sample of ``sample_rows`` rows (for the encoder's medians and category lists and the
   expectation suite's category sets). Cleaning and the split are then planned as in memory
   (``plan.plan_rows``).
2. ``_encode_pass``: encode each chunk, fold its training rows into the scaler statistics (exact
   streamed mean/variance) and the exact min/max/null counts of the suite, and spill the encoded
   rows of each split to a temporary binary file (``_Spill``: unnamed, so none outlives the run).
3. ``_SplitWriter``: the PCA statistics stream from the encoding pass, and the outputs are written
   block by block from the spill files into the .npz files, so peak memory depends on the chunk
   size, not on the file size.

What chunked mode cannot do: near-duplicate groups are not computed (that needs all feature rows
at once); groups and label-issue scores are taken from ``--findings`` when given (they are just
row numbers), otherwise only exact-feature groups are kept together. Encoder medians come from the
sample (exact when the file has at most ``sample_rows`` rows).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError, InputError
from dataaudit.grouping import StreamingRowHasher, cell_hashes, identity_columns_of
from dataaudit.progress import NO_PROGRESS, Progress
from dataaudit.transforms.cleaning import (
    RowHashes,
    identity_from_findings,
    record_identity_streamed,
)
from dataaudit.transforms.config import TransformConfig, TransformSummary
from dataaudit.transforms.encoding import TabularEncoder
from dataaudit.transforms.fitting import (
    build_manifest,
    fit_scaler_and_pca,
    make_pca,
    make_scaler,
    summarize,
    train_moments,
    verification_stats,
    write_artifacts,
)
from dataaudit.transforms.plan import (
    RowAccounting,
    check_findings_input,
    cleaning_record,
    drop_leaky,
    findings_source,
    label_arrays,
    label_ceiling,
    plan_rows,
    quarantine_frame,
    reliance_warnings,
    roles_with_drops,
)
from dataaudit.transforms.split import SPLIT_NAMES, small_split_warnings
from dataaudit.transforms.streaming import ColumnTypes, iter_csv_chunks

__all__ = ["fit_chunked"]


def fit_chunked(data: Any, label: str, out: Path, findings: Any, config: TransformConfig,
                started: float, progress: Progress = NO_PROGRESS) -> TransformSummary:
    """``fit_transform`` with ``config.chunksize`` set (see the module docstring)."""
    from dataaudit.dataset import Dataset, infer_roles
    from dataaudit.expectations import build_suite
    from dataaudit.findings import AuditResult
    from dataaudit.io.loading import file_sha256
    from dataaudit.transforms.fitted import FittedTransform

    if not isinstance(data, str | Path):
        raise ConfigError("chunksize streams a CSV file; pass a path, not an in-memory table.")
    if config.val is not None or config.test is not None:
        raise ConfigError("chunksize cannot be combined with --val/--test files; use --split fractions.")
    path = Path(data)
    chunksize = int(config.chunksize or 0)

    # Pass 1 and the plan.
    progress.stage("loading (pass 1 of 2)")
    scan = _scan(path, label, chunksize, config, progress)
    progress.stage("cleaning")
    inferred = infer_roles(scan.sample, label, config.id_column)
    if config.group is not None:
        if config.group not in inferred or config.group == label:
            raise InputError(f"Group column {config.group!r} not found in {path} (or it is the label); "
                             f"columns are {list(inferred)}. Pass --group with one of them.")
        inferred[config.group] = "id"  # an entity key is never a feature
    roles = roles_with_drops(inferred, config, str(path))
    task = Dataset(frame=scan.labels.to_frame(), label=label, roles={label: "label"}, sha256="-",
                   task=config.task).task
    task = task or "classification"
    audit = AuditResult.load(findings) if isinstance(findings, str | Path) else findings
    sha = file_sha256(path)
    notes = ["chunked mode: near-duplicate groups only from --findings; encoder medians from a sample"
             f" of {min(config.sample_rows, scan.n_rows)} rows"]
    if audit is not None:
        notes.extend(check_findings_input(audit, sha, findings, config))
        notes.extend(reliance_warnings(audit, config))
    leaky = drop_leaky(audit, roles, config, notes)
    hashes = _row_identity(scan, inferred, label, config, audit, notes)
    progress.stage("split")
    y, classes = label_arrays(scan.labels, task)
    acc, y, n_groups = plan_rows(hashes, y, scan.labels.isna().to_numpy(), task, classes, audit, config,
                                 set(), None, entity=scan.entity, source=str(path))
    sizes = acc.check(scan.n_rows)
    if sizes["train"] == 0:
        raise InputError(f"{path}: no training rows are left after cleaning; check the policy.")

    # The encoder is fitted on the sampled training rows; the scaler and PCA on every training row.
    progress.stage("fit (pass 2 of 2)")
    progress.step("encoder, from the sample")
    train_sample = scan.sample[acc.split[scan.sample.index.to_numpy()] == 0]
    encoder = TabularEncoder(roles, label, max_categories=config.max_categories).fit(train_sample)
    if encoder.n_features_out_ == 0:
        raise InputError(f"{path.name}: no usable feature columns (dropped: {encoder.dropped_with_reasons()}).")
    transform_ = FittedTransform(encoder, make_scaler(config), make_pca(config), dtype=config.dtype)

    with _spill_files(out, encoder.n_features_out_) as spill:
        # Pass 2: encode, scaler and PCA statistics, exact suite statistics, spill per split.
        moments = None if transform_.scaler is None and transform_.pca is None else train_moments(transform_, [])
        suite_stats = _encode_pass(path, chunksize, scan.types, acc, encoder, spill, moments, progress,
                                   scan.encoding)
        # The quarantined rows are read back once, exactly as the file holds them.
        q_rows = np.flatnonzero(acc.split < 0).astype(np.int64)
        quarantine = quarantine_frame(scan.sample.iloc[:0], q_rows, [acc.removed[int(r)] for r in q_rows],
                                      source=path, encoding=scan.encoding)
        if moments is not None:
            progress.step("scaler and PCA" if transform_.pca is not None else "scaler")
            fit_scaler_and_pca(transform_, moments)
        suite = build_suite(train_sample, name=f"{path.name}-train", roles=roles, label=label, seed=config.seed)
        _apply_suite_stats(suite, suite_stats)
        schema = {"columns": scan.columns, "dtypes": {c: str(scan.sample[c].dtype) for c in scan.columns},
                  "roles": roles}
        manifest = build_manifest(
            dataset_info={"path": str(path), "sha256": sha, "n_rows": scan.n_rows, "format": "csv",
                          "chunksize": chunksize},
            schema=schema, label=label, task=task, classes=classes, config=config,
            cleaning={**cleaning_record(acc, config, notes, n_groups, findings_source(findings, audit)),
                      "dropped_leaky_columns": leaky, "label_ceiling": label_ceiling(audit)},
            sizes=sizes, transform_=transform_, unknown={}, eval_files={},
            split_warnings=small_split_warnings({"val": y[acc.split == 1], "test": y[acc.split == 2]}, task,
                                                classes),
        )
        progress.stage("apply and writing")
        write_artifacts(out, manifest, transform_, quarantine, suite,
                        _SplitWriter(spill, transform_, acc.split, y, config, progress))
    return summarize(out, manifest, started)


# ---- pass 1 ----------------------------------------------------------------------------------
@dataclass
class _Scan:
    """What the first pass over the file learned."""

    columns: list[str]
    n_rows: int
    hasher: StreamingRowHasher  # the row-identity hashes, finished once the ID columns are known
    labels: pd.Series  # the raw label of every row
    sample: pd.DataFrame  # a seeded uniform sample of rows, indexed by row number
    types: ColumnTypes  # one type per column over all chunks (the in-memory loader's rule)
    entity: np.ndarray | None  # per-row key of the entity column (config.group), or None
    encoding: str  # what the file was read with (declared, or detected in this pass): every later pass too


def _scan(path: Path, label: str, chunksize: int, config: TransformConfig, progress: Progress) -> _Scan:
    """Pass 1: row hashes, labels, column dtypes and a seeded sample (the smallest random keys)."""
    rng = np.random.default_rng(config.seed)
    hasher = StreamingRowHasher(label, config.id_column)
    entity: list[np.ndarray] = []
    labels: list[pd.Series] = []
    sample: pd.DataFrame | None = None
    sample_keys = np.empty(0)
    columns: list[str] | None = None
    types = ColumnTypes(skip={c for c in (label, config.id_column, config.group) if c is not None})
    n = 0
    chunks = _read_chunks(path, chunksize, encoding=config.encoding)
    for chunk in chunks:
        chunk.index = pd.RangeIndex(n, n + len(chunk))
        chunk.columns = [str(c) for c in chunk.columns]
        if columns is None:
            columns = list(chunk.columns)
            if label not in columns:
                raise InputError(f"Label column {label!r} not found in {path}; columns are {columns}. "
                                 "Pass --label with one of them.")
            if config.group is not None and config.group not in columns:
                raise InputError(f"--group {config.group!r} is not a column of {path}; columns are {columns}.")
        types.observe(chunk)
        hasher.update(chunk)
        if config.group is not None:
            # A missing entity is an entity of its own (a key no hash takes: its row number).
            keys = cell_hashes(chunk[config.group])
            missing = chunk[config.group].isna().to_numpy()
            keys[missing] = np.arange(n, n + len(chunk), dtype=np.uint64)[missing]
            entity.append(keys)
        labels.append(chunk[label])
        # Keep the rows with the sample_rows smallest random keys seen so far: a uniform sample.
        keys = np.concatenate([sample_keys, rng.random(len(chunk))])
        merged = chunk if sample is None else pd.concat([sample, chunk])
        if len(merged) > config.sample_rows:
            keep = np.sort(np.argsort(keys, kind="stable")[: config.sample_rows])
            merged, keys = merged.iloc[keep], keys[keep]
        sample, sample_keys = merged, keys
        n += len(chunk)
        progress.step(f"chunks read: hashes, labels, sample ({n:,} rows)", len(labels), None)
    if columns is None or sample is None or n == 0:
        raise InputError(f"{path}: has a header but no data rows.")
    # Chunks may type a column differently (int here, float or a stray string there): one type each.
    sample = types.coerce(sample.copy())
    # The label too: a label read as numbers in one chunk and as text in another is text, as the
    # in-memory reader would read it (else its classes mix numbers and strings and cannot sort).
    all_labels = pd.concat(labels, ignore_index=True)
    if _mixes_text_and_numbers(all_labels):
        all_labels = _as_text(all_labels)
        sample[label] = _as_text(sample[label])
    return _Scan(
        columns=columns, n_rows=n, hasher=hasher, labels=all_labels, sample=sample,
        types=types, entity=np.concatenate(entity) if entity else None, encoding=chunks.format.encoding,
    )


def _row_identity(scan: _Scan, roles: dict[str, str], label: str, config: TransformConfig, audit: Any,
                  notes: list[str]) -> RowHashes:
    """The in-memory rule on streamed hashes: identity columns from the roles, chance from the sample."""
    id_columns = [c for c in scan.columns if (roles.get(c) == "id" or c == config.id_column) and c != config.group]
    values, _ = scan.hasher.finish(id_columns)
    missed = [c for c in id_columns if c not in scan.hasher.candidates and c != label]
    if missed:
        notes.append(f"ID column(s) {missed} looked like data in the first chunk and are compared for copies")
    from_findings = identity_from_findings(audit, scan.n_rows, scan.labels, values=values)
    if from_findings is not None:
        return from_findings
    if audit is not None:
        notes.append("the findings hold no duplicates result: copy groups computed with the same rule")
    columns = identity_columns_of(scan.columns, roles, label, config.id_column, group=config.group)
    return record_identity_streamed(values, scan.labels, scan.sample, columns)


def _mixes_text_and_numbers(values: pd.Series) -> bool:
    present = values.dropna()
    if present.empty or not pd.api.types.is_object_dtype(present):
        return False
    kinds = {isinstance(v, str) for v in present.tolist()}
    return len(kinds) > 1


def _as_text(values: pd.Series) -> pd.Series:
    return values.where(values.isna(), values.astype(str)).astype(object)


def _read_chunks(path: Path, chunksize: int, types: ColumnTypes | None = None, encoding: str | None = None) -> Any:
    """The CSV in chunks through the in-memory loader's checks (``streaming.iter_csv_chunks``)."""
    return iter_csv_chunks(path, chunksize, types, encoding)


# ---- pass 2 ----------------------------------------------------------------------------------
class _Spill:
    """Encoded float64 rows of each split, appended to one temporary binary file per split."""

    def __init__(self, files: dict[str, Any], width: int) -> None:
        self.files = files
        self.width = width

    def writer(self, name: str) -> Any:
        return self.files[name]

    def blocks(self, name: str, rows_per_block: int = 65_536) -> Iterator[np.ndarray]:
        """Read the rows back one block at a time (no memory map)."""
        handle = self.files[name]
        handle.flush()
        handle.seek(0)
        while True:
            data = handle.read(rows_per_block * self.width * 8)
            if not data:
                return
            yield np.frombuffer(data, dtype=np.float64).reshape(-1, self.width)


@contextmanager
def _spill_files(out: Path, width: int) -> Iterator[_Spill]:
    """One temporary file per split, on the disk of ``out``, that no run leaves behind.

    ``tempfile.TemporaryFile`` gives a file without a name (``O_TMPFILE``) or unlinks it at once:
    the space is freed when the file is closed or the process ends, even killed (SIGKILL, out of
    memory), so there is never a spill leftover to clean up, nor a folder to tell from a user's.
    """
    folder = out.parent if out.parent.is_dir() else None
    files: dict[str, Any] = {}
    try:
        for name in SPLIT_NAMES:
            files[name] = tempfile.TemporaryFile(prefix=".dataaudit-spill-", dir=folder)  # noqa: SIM115
        yield _Spill(files, width)
    finally:
        for handle in files.values():
            handle.close()


def _encode_pass(path: Path, chunksize: int, types: ColumnTypes, acc: RowAccounting, encoder: TabularEncoder,
                 spill: _Spill, moments: Any, progress: Progress, encoding: str | None = None,
                 ) -> dict[str, dict[str, float]]:
    """Pass 2: spill each split's encoded rows, stream the training moments and suite statistics.

    Returns the suite statistics of the training rows.
    """
    suite_stats: dict[str, dict[str, float]] = {}
    handles = {name: spill.writer(name) for name in SPLIT_NAMES}
    n_chunks = -(-len(acc.split) // chunksize)
    start = 0
    for done, chunk in enumerate(_read_chunks(path, chunksize, types, encoding)):
        progress.step("chunks encoded; scaler and PCA statistics", done, n_chunks)
        chunk.index = pd.RangeIndex(start, start + len(chunk))
        part = acc.split[start: start + len(chunk)]
        start += len(chunk)
        _update_suite_stats(suite_stats, chunk.iloc[np.flatnonzero(part == 0)])
        for index, name in enumerate(SPLIT_NAMES):
            local = np.flatnonzero(part == index)
            if len(local):
                encoded = encoder.transform(chunk, rows=local)
                if name == "train" and moments is not None:
                    moments.update(encoded)
                handles[name].write(np.ascontiguousarray(encoded).tobytes())
    progress.step("chunks encoded; scaler and PCA statistics", n_chunks, n_chunks)
    return suite_stats


def _update_suite_stats(stats: dict[str, dict[str, float]], chunk: pd.DataFrame) -> None:
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
    from dataaudit.expectations import range_bounds

    families = (suite.get("meta") or {}).get("dataaudit", {}).get("families", {})
    for exp in suite["expectations"]:
        kwargs = exp["kwargs"]
        column = kwargs.get("column", "")
        entry = stats.get(column)
        if entry is None or not entry["n"]:
            continue
        if exp["type"] == "expect_column_values_to_be_between" and np.isfinite(entry["min"]):
            meta = exp.get("meta") or {}
            edges = meta.get("flat_edges") or [False, False]
            bounds = range_bounds(entry["min"], entry["max"], int(entry["n"] - entry["nulls"]),
                                  integer=families.get(column) == "integer", range_tolerance=range_tolerance,
                                  flat_edges=(bool(edges[0]), bool(edges[1])))
            if meta.get("dataaudit") == "hard":
                kwargs["min_value"], kwargs["max_value"] = bounds["hard"]
            else:
                kwargs["min_value"], kwargs["max_value"], mostly = bounds["soft"]
                if mostly < 1.0:
                    kwargs["mostly"] = mostly
        elif exp["type"] == "expect_column_values_to_not_be_null":
            share = entry["nulls"] / entry["n"]
            kwargs["mostly"] = 1.0 if share == 0 else max(0.0, round(1.0 - share - null_slack, 6))


# ---- writing the splits ----------------------------------------------------------------------
class _SplitWriter:
    """Writes train/val/test.npz block by block from the spill files, measuring the output.

    Called by ``write_artifacts`` with the temporary artifact folder; returns the verification
    statistics (training covariance, validation means and spreads) of what it wrote.
    """

    def __init__(self, spill: _Spill, transform_: Any, split: np.ndarray, y: np.ndarray,
                 config: TransformConfig, progress: Progress = NO_PROGRESS) -> None:
        self.progress = progress
        self.spill = spill
        self.transform = transform_
        self.split = split
        self.y = y
        self.config = config

    def __call__(self, folder: Path) -> dict[str, Any]:
        from dataaudit.io.artifacts import NpzStreamWriter
        from dataaudit.io.outputs import atomic_path
        from dataaudit.transforms import StreamingMoments

        width = self.transform.n_features_out
        dtype = np.dtype(self.config.dtype)
        measured = {"train": StreamingMoments(covariance=True), "val": StreamingMoments(covariance=False)}
        for index, name in enumerate(SPLIT_NAMES):
            self.progress.task(f"{name}.npz", index + 1, len(SPLIT_NAMES))
            rows = np.flatnonzero(self.split == index).astype(np.int64)
            specs = {"X": ((len(rows), width), dtype), "y": ((len(rows),), self.y.dtype),
                     "row": ((len(rows),), np.dtype(np.int64))}
            with atomic_path(folder / f"{name}.npz") as target:
                writer = NpzStreamWriter(target, specs)
                writer.begin("X")
                written = 0
                for block in self.spill.blocks(name):
                    X = self.transform.apply_encoded(block)
                    if name in measured:
                        measured[name].update(X)
                    writer.write(X)
                    written += len(X)
                    self.progress.step("rows transformed and written", written, len(rows))
                writer.begin("y")
                writer.write(self.y[rows])
                writer.begin("row")
                writer.write(rows)
                writer.close()
        return verification_stats(self.transform, measured["train"], measured["val"], self.config)
