"""Load CSV / TSV / Parquet into a Dataset, turning every unusable input into one clear InputError.

One loader for every path: ``load_dataset`` (in memory), ``transforms.streaming.iter_csv_chunks``
(``--chunksize``) and ``read_raw_rows`` (quarantine.csv) all start from ``sniff_csv``, which
settles the encoding, the delimiter and the header once, with the same checks:

- encodings: a byte-order mark (UTF-8, UTF-16, UTF-32) wins; UTF-16/32 without one are read when
  charset-normalizer is confident, else the message names ``--encoding utf-16-le``; text that is
  not UTF-8 is tried against the common 8-bit encodings (cp1252, latin-1, ISO-8859-15) and read
  with the one the detector picks, which is reported (finding ``encoding_detected``);
- line endings ``\\n``, ``\\r\\n`` and ``\\r`` (also mixed); in a file whose line ending is LF a lone
  ``\\r`` is data (``line_endings``);
- ragged rows: a row with more or fewer fields than the header is an error naming its line
  (pandas would silently turn extra leading fields into the index and shift every column);
- duplicate header names are an error; near-identical ones are the ``similar_column_names`` check;
- compressed files (gzip, bzip2, xz, Zstandard; told by their first bytes) are read as the text
  inside, through ``compression.open_binary``/``open_text``.

Parquet columns that cannot be features (list, struct, map, binary, union) load as text with the
role ``unsupported`` and a finding; such a label, duplicate names or zero rows are errors. A text
column of dates with several UTC offsets is converted to UTC, with a finding.

The parts live beside this module: ``encodings`` (byte-order marks, detection), ``csv_format``
(``sniff_csv``, ``CsvFormat``, field counts), ``line_endings``, ``parquet`` and ``column_types``
(numeric coercion, UTC offsets); their public names are re-exported here, where callers import them.
"""

from __future__ import annotations

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.dataset import Dataset, infer_roles
from dataaudit.exceptions import InputError
from dataaudit.io.column_types import (
    NUMERIC_SHARE,
    PLACEHOLDER_TOKENS,
    coerce_mostly_numeric,
    unsupported_notes,
    utc_mixed_offsets,
)
from dataaudit.io.compression import READ_ERRORS, corrupt_message
from dataaudit.io.csv_format import (
    CsvFormat,
    check_field_counts,
    first_ragged_row,
    na_text_counts,
    parser_error,
    ragged_message,
    read_csv_file,
    read_csv_frame,
    sniff_csv,
)
from dataaudit.io.encodings import COMMON_8BIT, late_encoding, undecodable_message
from dataaudit.io.parquet import PARQUET_MAGIC, read_parquet, read_parquet_table

__all__ = [
    "load_dataset",
    "load_test_dataset",
    "read_table",
    "read_table_encoded",
    "read_raw_rows",
    "sniff_csv",
    "CsvFormat",
    "file_sha256",
    "PLACEHOLDER_TOKENS",
    "COMMON_8BIT",
    "check_field_counts",
    "first_ragged_row",
    "ragged_message",
    "read_csv_frame",
    "parser_error",
    "late_encoding",
    "undecodable_message",
    "check_path",
    "is_parquet",
    "NUMERIC_SHARE",
]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()



# ------------------------------------------------------------------------------------ read_table
@dataclass
class _Table:
    frame: pd.DataFrame
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    unsupported: dict[str, str] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    # Text column -> the words pandas read as missing there (``na_text_counts``); CSV only.
    na_text: dict[str, dict[str, int]] = field(default_factory=dict)


def check_path(path: Path) -> None:
    """Raise InputError unless ``path`` is an existing, non-empty file."""
    if not path.exists():
        raise InputError(f"{path}: file not found. Check the path.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file. Pass a CSV, TSV or Parquet file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty. Pass a CSV with a header row and data rows.")


def is_parquet(path: Path) -> bool:
    """Parquet by extension (.parquet, .pq) or by its magic bytes."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        return True
    with open(path, "rb") as handle:
        return handle.read(4) == PARQUET_MAGIC


def _read(path: Path, encoding: str | None) -> _Table:
    check_path(path)
    if is_parquet(path):
        frame, unsupported = read_parquet(path)
        return _Table(frame, "parquet", unsupported=unsupported)
    frame, fmt = read_csv_file(path, encoding)
    return _Table(frame, fmt.file_format, fmt.encoding, fmt.delimiter, notes=list(fmt.notes),
                  na_text=na_text_counts(fmt, frame))


def read_table(path: str | Path, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV/Parquet file into a DataFrame with a 0-based RangeIndex; return (frame, format)."""
    table = _read(Path(path), encoding)
    return table.frame, table.file_format


def read_table_encoded(path: str | Path, encoding: str | None = None) -> tuple[pd.DataFrame, str, str | None]:
    """``read_table`` plus the text encoding the file was read with (declared or detected; None for
    Parquet): pass it to every later read of the same file (``read_raw_rows``) so they agree."""
    table = _read(Path(path), encoding)
    return table.frame, table.file_format, table.encoding


def _scan_rows(fmt: CsvFormat, want: set[int]) -> dict[int, list[str]]:
    """The text fields of the wanted data rows, by row number (blank lines skipped, as pandas does)."""
    found: dict[int, list[str]] = {}
    if not want:
        return found
    with fmt.lines() as lines:
        records = (r for r in csv.reader(lines, delimiter=fmt.delimiter) if r)
        next(records, None)  # the header
        for row, record in enumerate(records):
            if row in want:
                found[row] = fmt.fields(record)
                if len(found) == len(want):
                    break
    return found


def read_raw_rows(path: str | Path, rows: Any, encoding: str | None = None) -> pd.DataFrame:
    """The given data rows (0-based) exactly as the file holds them: text fields for CSV/TSV.

    What quarantine.csv writes, so that ``twenty`` stays ``twenty``, ``1,5`` stays ``1,5`` and
    ``342`` stays ``342`` (not ``342.0``). Parquet values keep their stored types. The frame's
    index is the row numbers, in the order asked.
    """
    path = Path(path)
    wanted = [int(r) for r in np.asarray(rows, dtype=np.int64).ravel()]
    check_path(path)
    if is_parquet(path):
        table = read_parquet_table(path)
        frame = table.take(wanted).to_pandas() if wanted else table.schema.empty_table().to_pandas()
        frame.index = pd.Index(wanted, dtype=np.int64)
        return frame
    fmt = sniff_csv(path, encoding)
    want = set(wanted)
    try:
        found = _scan_rows(fmt, want)
    except UnicodeDecodeError as decode_error:
        late = None if encoding else late_encoding(path, fmt.encoding, fmt.notes)
        if late is None:
            raise InputError(undecodable_message(path, fmt.encoding)) from decode_error
        fmt.encoding = late
        found = _scan_rows(fmt, want)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot parse as delimited text ({exc}).") from exc
    except READ_ERRORS as exc:
        if fmt.compression is None:
            raise
        raise InputError(corrupt_message(path, fmt.compression, exc)) from exc
    missing = sorted(want - set(found))
    if missing:
        raise InputError(f"{path}: has no data row {missing[0]} (rows count from 0); was it changed?")
    frame = pd.DataFrame([found[r] for r in wanted], columns=fmt.header, dtype=object)
    frame.index = pd.Index(wanted, dtype=np.int64)
    return frame



def load_dataset(
    path: str | Path,
    label: str | None = None,
    *,
    id_column: str | None = None,
    encoding: str | None = None,
    reference: Dataset | None = None,
    require_label: bool = True,
    group: str | None = None,
    task: str | None = None,
) -> Dataset:
    """Load a table and infer column roles.

    Parameters
    ----------
    path : str or Path
        CSV (delimiter sniffed; UTF-8 with or without BOM, UTF-16/32 with BOM or detected, the
        common 8-bit encodings detected), TSV or Parquet.
    label : str, optional
        Label column; must exist.
    id_column : str, optional
        Column that identifies rows; kept out of features.
    encoding : str, optional
        Text encoding to use instead of detecting one.
    reference : Dataset, optional
        A dataset whose column roles this one should share (a test file for a training file).
    require_label : bool
        When False, a file without the label column loads with ``label=None`` (an unlabelled test file).
    group : str, optional
        Entity column (``--group``); see ``Dataset.group``. With ``reference``, the reference's group
        is used when this file has that column.
    task : str, optional
        ``"classification"`` or ``"regression"`` (``--task``); default: ``infer_task``'s rule, or
        the reference's task.

    Raises
    ------
    InputError
        Missing, empty, header-only, ragged, undecodable or binary files, corrupt or zero-row
        Parquet, a missing label or ID column, duplicate column names, a label of a nested or
        binary Parquet type, an unknown ``encoding``.
    """
    path = Path(path)
    # hashlib releases the GIL on large blocks: hash the file on the other core while it is parsed.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sha256 = pool.submit(file_sha256, path) if path.is_file() else None
        table = _read(path, encoding)
        digest = sha256.result() if sha256 is not None else ""
    frame = table.frame
    frame.columns = [str(c) for c in frame.columns]
    if label is not None and label not in frame.columns and not require_label:
        label = None
    for name, role in (("label", label), ("ID", id_column)):
        if role is not None and role not in frame.columns:
            flag = "--label" if name == "label" else "--id"
            raise InputError(
                f"{name.capitalize()} column {role!r} not found in {path}; columns are "
                f"{list(frame.columns)}. Pass {flag} with one of them."
            )
    if label is not None and label in table.unsupported:
        raise InputError(
            f"{path}: label column {label!r} has the Parquet type {table.unsupported[label]}, which "
            "cannot be a label. Pass --label naming a column of classes or numbers."
        )
    skip = {c for c in (label, id_column) if c is not None} | set(table.unsupported)
    if reference is not None:
        # Columns that are numeric in the reference are coerced here too, so the two files compare.
        skip |= {c for c in frame.columns if reference.roles.get(c) not in ("numeric", None)}
    coerced = coerce_mostly_numeric(frame, skip)
    notes = list(table.notes) + utc_mixed_offsets(frame, path, skip | set(coerced))
    notes += unsupported_notes(table.unsupported, path)
    for column in frame.columns:
        # Only columns that are not float64 yet: reassigning every column would split the
        # frame's one float block into one block per column and slow every later to_numpy.
        if pd.api.types.is_float_dtype(frame[column]) and frame[column].dtype != np.float64 and column != label:
            frame[column] = frame[column].astype(np.float64)
    roles = infer_roles(frame, label, id_column, unsupported=set(table.unsupported))
    if reference is not None:
        roles.update({c: r for c, r in reference.roles.items() if c in roles})
        if group is None and reference.group in frame.columns:
            group = reference.group
        if task is None and label is not None:
            task = reference.task
    return Dataset(
        frame=frame,
        path=path,
        label=label,
        roles=roles,
        sha256=digest,
        id_column=id_column,
        coerced=coerced,
        # Columns now numeric (coerced) hold numbers: there a word read as missing is missing.
        na_text={c: n for c, n in table.na_text.items() if c not in coerced and c in frame.columns},
        file_format=table.file_format,
        encoding=table.encoding,
        load_notes=notes,
        group=group,
        task=task,
    )


def load_test_dataset(path: str | Path, train: Dataset, *, id_column: str | None = None,
                      encoding: str | None = None) -> Dataset:
    """Load a test file for ``train`` (same roles, task and group) and refuse one of another schema.

    Raises
    ------
    InputError
        The test file lacks the training label, or half (or more) of the training feature columns:
        it is another table, and overlap or drift against it would mean nothing.
    """
    test = load_dataset(path, label=train.label, id_column=id_column, encoding=encoding, reference=train,
                        require_label=False)
    features = [c for c in train.feature_columns if c not in (train.id_column, train.group)]
    missing = [c for c in features if c not in test.frame.columns]
    if train.label is not None and test.label is None:
        raise InputError(
            f"{path}: the test file has no label column {train.label!r} (it has {list(test.columns)[:10]}"
            f"{' ...' if test.frame.shape[1] > 10 else ''}). Pass a test file with the training file's label and columns."
        )
    if features and len(missing) * 2 >= len(features):
        raise InputError(
            f"{path}: the test file lacks {len(missing)} of the {len(features)} training columns "
            f"(e.g. {missing[:5]}); it is another table. Pass a test file with the training file's columns."
        )
    return test
