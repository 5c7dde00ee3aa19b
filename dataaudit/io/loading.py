"""Load CSV / TSV / Parquet into a Dataset, turning every unusable input into one clear InputError."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.dataset import Dataset, infer_roles
from dataaudit.exceptions import InputError

__all__ = ["load_dataset", "load_test_dataset", "read_table", "file_sha256", "PLACEHOLDER_TOKENS"]

_SNIFF_BYTES = 64 * 1024
# Strings that people write for "missing"; pandas already reads "", "NA", "NaN", "null", "None" ...
PLACEHOLDER_TOKENS = {"?", "-", "--", "n/a", "na", "nan", "null", "none", "missing", "unknown", ".", "nil"}
# A text column becomes numeric when at least this share of its non-empty cells parse as numbers.
NUMERIC_SHARE = 0.9
_PARQUET_MAGIC = b"PAR1"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _detect_encoding(path: Path, head: bytes, encoding: str | None) -> str:
    if encoding:
        return encoding
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head[:8192]:
        raise InputError(
            f"{path}: looks like a binary file (NUL bytes in the first 8 KB), not CSV or Parquet. "
            "Pass a CSV, TSV or Parquet file."
        )
    return "utf-8-sig"  # strips a UTF-8 byte-order mark when there is one


def _undecodable_message(path: Path, exc: UnicodeDecodeError, encoding: str) -> str:
    where = ""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        # Find the first bad byte in the whole file and turn it into a line number.
        try:
            data.decode(encoding.replace("-sig", ""))
        except UnicodeDecodeError as inner:
            line = data.count(b"\n", 0, inner.start) + 1
            where = f" at line {line} (byte {inner.start}: {data[inner.start:inner.start + 1]!r})"
    except OSError:
        pass
    return (
        f"{path}: cannot decode as {encoding.replace('-sig', '').upper()}{where}. "
        "Re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or pass --encoding latin-1."
    )


def _sniff_delimiter(path: Path, text_head: str) -> str:
    if path.suffix.lower() in {".tsv", ".tab"}:
        return "\t"
    sample = text_head[:_SNIFF_BYTES]
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith("\n"):
        sample = "\n".join(lines[:-1])  # the last line of the sample may be cut in half
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _header(text_head: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text_head), delimiter=delimiter)
    try:
        return next(reader)
    except StopIteration:
        return []


def _short_rows(path: Path, encoding: str, delimiter: str, n_columns: int) -> tuple[int, int, int] | None:
    """First (row, line, n_fields) of a data row with fewer fields than the header, if any."""
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        for row_number, record in enumerate(reader):
            if record and len(record) < n_columns and not (len(record) == 1 and record[0] == ""):
                return row_number, reader.line_num, len(record)
    return None


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputError(f"{path}: the file is empty. Pass a CSV with a header row and data rows.")
    if head.startswith(_PARQUET_MAGIC):
        raise InputError(f"{path}: this is a Parquet file with a CSV name. Rename it to .parquet.")
    encoding = _detect_encoding(path, head, encoding)
    try:
        text_head = head.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the block end is fine
            raise InputError(_undecodable_message(path, exc, encoding)) from None
        text_head = head[: exc.start].decode(encoding)
    delimiter = _sniff_delimiter(path, text_head)
    header = _header(text_head, delimiter)
    if not any(h.strip() for h in header):
        raise InputError(f"{path}: the first line is not a header row. Add a header with column names.")
    seen: dict[str, int] = {}
    for name in header:
        seen[name] = seen.get(name, 0) + 1
    dupes = sorted(n for n, k in seen.items() if k > 1)
    if dupes:
        raise InputError(
            f"{path}: duplicate column name(s) {dupes} in the header. Rename them so each is unique."
        )
    try:
        with warnings.catch_warnings():
            # The chunked (fast) parser warns about columns whose type differs between chunks;
            # such columns arrive as object and are typed by _coerce_mostly_numeric below.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(path, sep=delimiter, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise InputError(_undecodable_message(path, exc, encoding)) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty. Pass a CSV with a header row and data rows.") from None
    except pd.errors.ParserError as exc:
        message = str(exc)
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
        if match:
            expected, line, saw = match.groups()
            raise InputError(
                f"{path}: line {line} has {saw} fields but the header has {expected} "
                f"(delimiter {delimiter!r}). Fix or remove that line (quote values that contain the delimiter)."
            ) from None
        raise InputError(f"{path}: cannot parse as delimited text ({message.strip()}).") from None
    if frame.empty and len(frame.columns):
        raise InputError(f"{path}: has a header but no data rows. Pass a file with at least one data row.")
    # The C parser pads rows that are too short with NaN; find them only when that could have happened.
    if len(frame.columns) > 1 and frame.iloc[:, -1].isna().any():
        short = _short_rows(path, encoding, delimiter, len(frame.columns))
        if short is not None:
            row, line, n_fields = short
            raise InputError(
                f"{path}: line {line} (data row {row}) has {n_fields} fields but the header has "
                f"{len(frame.columns)}. Fix that line or fill its missing fields with empty values."
            )
    return frame, "tsv" if delimiter == "\t" else "csv"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as Parquet ({first}). Is the file complete and valid?") from None
    if len(set(frame.columns)) != len(frame.columns):
        raise InputError(f"{path}: duplicate column names. Rename them so each is unique.")
    return frame.reset_index(drop=True)


def read_table(path: str | Path, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV/Parquet file into a DataFrame with a 0-based RangeIndex; return (frame, format)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found. Check the path.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file. Pass a CSV, TSV or Parquet file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty. Pass a CSV with a header row and data rows.")
    if path.suffix.lower() in {".parquet", ".pq"}:
        return _read_parquet(path), "parquet"
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == _PARQUET_MAGIC:
        return _read_parquet(path), "parquet"
    return _read_csv(path, encoding)


def _coerce_mostly_numeric(frame: pd.DataFrame, skip: set[str]) -> dict[str, dict[str, list[Any]]]:
    """Turn text columns whose cells are mostly numbers into numbers; return the cells that were not."""
    coerced: dict[str, dict[str, list[Any]]] = {}
    for column in frame.columns:
        if column in skip:
            continue
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        non_null = values.dropna()
        if non_null.empty:
            continue
        # Cheap pre-test on a sample so that real text columns don't pay a full parse.
        head = pd.to_numeric(non_null.iloc[:2000].astype(str).str.strip(), errors="coerce")
        if head.notna().mean() < NUMERIC_SHARE / 2:
            continue
        stripped = non_null.astype(str).str.strip()
        numbers = pd.to_numeric(stripped, errors="coerce")
        parsed_share = float(numbers.notna().mean())
        if parsed_share < NUMERIC_SHARE:
            continue
        bad = numbers.isna()
        frame[column] = pd.to_numeric(values.where(values.isna(), values.astype(str).str.strip()), errors="coerce")
        if bad.any():
            rows = non_null.index[bad.to_numpy()]
            coerced[str(column)] = {
                "rows": [int(r) for r in rows],
                "values": [str(v) for v in non_null[bad].tolist()],
            }
    return coerced


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
        CSV (delimiter sniffed; UTF-8 with or without BOM, UTF-16 with BOM), TSV or Parquet.
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
        Missing, empty, header-only, ragged, undecodable or binary files, corrupt Parquet,
        a missing label or ID column, duplicate column names.
    """
    path = Path(path)
    # hashlib releases the GIL on large blocks: hash the file on the other core while it is parsed.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sha256 = pool.submit(file_sha256, path) if path.is_file() else None
        frame, file_format = read_table(path, encoding)
        digest = sha256.result() if sha256 is not None else ""
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
    skip = {c for c in (label, id_column) if c is not None}
    if reference is not None:
        # Columns that are numeric in the reference are coerced here too, so the two files compare.
        skip |= {c for c in frame.columns if reference.roles.get(c) not in ("numeric", None)}
    coerced = _coerce_mostly_numeric(frame, skip)
    for column in frame.columns:
        # Only columns that are not float64 yet: reassigning every column would split the
        # frame's one float block into one block per column and slow every later to_numpy.
        if pd.api.types.is_float_dtype(frame[column]) and frame[column].dtype != np.float64 and column != label:
            frame[column] = frame[column].astype(np.float64)
    roles = infer_roles(frame, label, id_column)
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
        file_format=file_format,
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
