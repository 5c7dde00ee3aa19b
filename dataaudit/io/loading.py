"""Load CSV / TSV / Parquet into a Dataset, turning every unusable input into one clear InputError.

One loader for every path: ``load_dataset`` (in memory), ``transforms.streaming.iter_csv_chunks``
(``--chunksize``) and ``read_raw_rows`` (quarantine.csv) all start from ``sniff_csv``, which
settles the encoding, the delimiter and the header once, with the same checks:

- encodings: a byte-order mark (UTF-8, UTF-16, UTF-32) wins; UTF-16/32 without one are read when
  charset-normalizer is confident, else the message names ``--encoding utf-16-le``; text that is
  not UTF-8 is tried against the common 8-bit encodings (cp1252, latin-1, ISO-8859-15) and read
  with the one the detector picks, which is reported (finding ``encoding_detected``);
- line endings ``\\n``, ``\\r\\n`` and ``\\r`` (also mixed);
- ragged rows: a row with more or fewer fields than the header is an error naming its line
  (pandas would silently turn extra leading fields into the index and shift every column);
- duplicate header names are an error; near-identical ones are the ``similar_column_names`` check.

Parquet columns that cannot be features (list, struct, map, binary, union) load as text with the
role ``unsupported`` and a finding; such a label, duplicate names or zero rows are errors. A text
column of dates with several UTC offsets is converted to UTC, with a finding.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.dataset import Dataset, infer_roles, looks_like_datetime
from dataaudit.exceptions import InputError

__all__ = [
    "load_dataset",
    "load_test_dataset",
    "read_table",
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
]

_SNIFF_BYTES = 64 * 1024
# Strings that people write for "missing"; pandas already reads "", "NA", "NaN", "null", "None" ...
PLACEHOLDER_TOKENS = {"?", "-", "--", "n/a", "na", "nan", "null", "none", "missing", "unknown", ".", "nil"}
# A text column becomes numeric when at least this share of its non-empty cells parse as numbers.
NUMERIC_SHARE = 0.9
_PARQUET_MAGIC = b"PAR1"
# 8-bit encodings tried (through charset-normalizer) when a file is not UTF-8. Restricting the
# candidates matters: unrestricted, a short latin-1 file is "detected" as cp775 or cp1250 and
# é silently becomes another letter.
COMMON_8BIT = ("cp1252", "latin_1", "iso8859_15")
_WIDE_UNICODE = ("utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be")
# A detection is trusted when the detector's "chaos" (share of implausible characters) is below this.
_CONFIDENT_CHAOS = 0.1
# Bytes around the first undecodable byte handed to the detector for a file that turns non-UTF-8 late.
_DETECT_WINDOW = 64 * 1024
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_OFFSET = r"((?:Z|[+-]\d{2}:?\d{2})$)"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------ encodings
def _display(encoding: str) -> str:
    return codecs.lookup(encoding).name.replace("-sig", "").upper().replace("_", "-")


def _detect(sample: bytes, candidates: tuple[str, ...], max_chaos: float | None = None) -> str | None:
    """The candidate encoding charset-normalizer picks for ``sample`` (None when it picks none,
    or when its "chaos", the share of implausible characters, is ``max_chaos`` or more)."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=list(candidates)).best()
    if best is None or (max_chaos is not None and best.chaos >= max_chaos):
        return None
    return str(best.encoding)


def _mixed_message(path: Path, data: bytes, bad: int) -> str:
    line = data.count(b"\n", 0, bad) + 1
    return (f"{path}: line {line} is not UTF-8 (byte {data[bad:bad + 1]!r}) although earlier lines hold "
            "UTF-8 text: the file mixes encodings. Re-save it in one encoding (UTF-8).")


def _explicit_encoding(path: Path, head: bytes, encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
        if not getattr(info, "_is_text_encoding", True):  # base64, rot13 ...: bytes-to-bytes codecs
            raise LookupError(encoding)
        name = info.name
    except LookupError:
        raise InputError(
            f"{path}: unknown encoding {encoding!r}. Pass a Python codec name such as utf-8, "
            "cp1252, latin-1 or utf-16."
        ) from None
    if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return encoding


def _detect_encoding(path: Path, head: bytes, encoding: str | None, notes: list[dict[str, Any]]) -> str:
    """The encoding to read ``path`` with; a detected (not declared) one is added to ``notes``."""
    if encoding:
        return _explicit_encoding(path, head, encoding)
    # UTF-32's little-endian mark starts with UTF-16's: test it first.
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    first = head[:8192]
    if first.count(b"\x00") >= 0.1 * len(first):
        # Text in UTF-16/32 without a byte-order mark: about every other (or 3 in 4) byte is NUL.
        wide = _detect(head, _WIDE_UNICODE, max_chaos=_CONFIDENT_CHAOS)
        if wide is None:
            raise InputError(
                f"{path}: looks like a binary file (NUL bytes in the first 8 KB), not CSV or Parquet. "
                "If it is UTF-16 text without a byte-order mark, pass --encoding utf-16-le (or utf-16-be)."
            )
        notes.append(_encoding_note(path, wide, "has no byte-order mark"))
        return wide
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(head) < _SNIFF_BYTES or exc.start < len(head) - 4:  # a character cut at the block end is fine
            if b"\x00" in first:
                raise InputError(
                    f"{path}: looks like a binary file (NUL and non-UTF-8 bytes in the first 8 KB), not "
                    "CSV or Parquet. Pass a CSV, TSV or Parquet file (or its --encoding)."
                ) from None
            if not head[: exc.start].isascii():
                raise InputError(_mixed_message(path, head, exc.start)) from None
            guessed = _detect(head, COMMON_8BIT)
            if guessed is None:
                raise InputError(undecodable_message(path, "utf-8")) from None
            notes.append(_encoding_note(path, guessed, "is not UTF-8"))
            return guessed
    return "utf-8-sig"  # strips a UTF-8 byte-order mark when there is one


def _encoding_note(path: Path, encoding: str, why: str) -> dict[str, Any]:
    shown = _display(encoding)
    return {
        "code": "encoding_detected", "severity": "info",
        "message": f"{path.name} {why}; it was read as {shown} (detected by charset-normalizer).",
        "details": {"encoding": shown, "action": f"check accented text in the report; if it looks wrong, "
                    f"re-save {path.name} as UTF-8 or pass its encoding (--encoding)"},
    }


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """(line, byte offset, byte) of the first byte that ``encoding`` cannot decode, if any."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        data.decode(codecs.lookup(encoding).name.replace("-sig", ""))
    except UnicodeDecodeError as inner:
        line = data.count(b"\n", 0, inner.start) + 1
        return line, inner.start, data[inner.start:inner.start + 1]
    return None


def undecodable_message(path: Path, encoding: str, detected: bool = True) -> str:
    bad = _first_bad_byte(path, encoding)
    where = f" at line {bad[0]} (byte {bad[1]}: {bad[2]!r})" if bad else ""
    tried = " It is none of the common 8-bit encodings (cp1252, latin-1) either." if detected else ""
    return (
        f"{path}: cannot decode as {_display(encoding)}{where}.{tried} Re-save the file as UTF-8 "
        "(e.g. `iconv -f ENCODING -t utf-8`) or pass its encoding (--encoding)."
    )


def late_encoding(path: Path, encoding: str, notes: list[dict[str, Any]]) -> str | None:
    """An 8-bit encoding for a file whose first block was UTF-8 but a later byte is not.

    Only a file that is plain ASCII up to that byte qualifies: then both readings agree on
    everything before it. A file with UTF-8 text before the bad byte mixes encodings.
    """
    if codecs.lookup(encoding).name.replace("-sig", "") not in ("utf-8",):
        return None
    bad = _first_bad_byte(path, encoding)
    if bad is None:
        return None
    with open(path, "rb") as handle:
        prefix = handle.read(bad[1])
        window = handle.read(_DETECT_WINDOW)
    if not prefix.isascii():
        raise InputError(_mixed_message(path, prefix + window, bad[1]))
    guessed = _detect(prefix[-_DETECT_WINDOW:] + window, COMMON_8BIT)
    if guessed is not None:
        notes.append(_encoding_note(path, guessed, f"is not UTF-8 from line {bad[0]} on"))
    return guessed


# ------------------------------------------------------------------------------- the CSV format
@dataclass
class CsvFormat:
    """What ``sniff_csv`` settled about a delimited text file: read every pass with it."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    notes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def file_format(self) -> str:
        return "tsv" if self.delimiter == "\t" else "csv"

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments of ``pandas.read_csv`` for this file."""
        return {"sep": self.delimiter, "encoding": self.encoding}


def _sniff_delimiter(path: Path, text_head: str) -> str:
    if path.suffix.lower() in {".tsv", ".tab"}:
        return "\t"
    sample = text_head[:_SNIFF_BYTES]
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        sample = "\n".join(lines[:-1])  # the last line of the sample may be cut in half
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _header(text_head: str, delimiter: str) -> list[str]:
    # newline="" splits records on \n, \r\n and \r alike, as pandas does.
    reader = csv.reader(io.StringIO(text_head, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            if record:  # pandas skips blank lines before the header too
                return record
    except csv.Error:
        pass
    return []


def sniff_csv(path: str | Path, encoding: str | None = None) -> CsvFormat:
    """Settle the encoding, delimiter and header of a delimited text file, or raise InputError."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputError(f"{path}: the file is empty. Pass a CSV with a header row and data rows.")
    if head.startswith(_PARQUET_MAGIC):
        raise InputError(f"{path}: this is a Parquet file with a CSV name. Rename it to .parquet.")
    notes: list[dict[str, Any]] = []
    declared = encoding
    encoding = _detect_encoding(path, head, encoding, notes)
    try:
        text_head = head.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        if len(head) < _SNIFF_BYTES or exc.start < len(head) - 4:  # a character cut at the block end is fine
            raise InputError(undecodable_message(path, encoding, detected=declared is None)) from None
        text_head = head[: exc.start].decode(encoding)
    except UnicodeError as exc:  # e.g. a UTF-32 mark on bytes that are not UTF-32
        raise InputError(f"{path}: cannot decode as {_display(encoding)} ({exc}). Pass --encoding.") from None
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
    fmt = CsvFormat(path, encoding, delimiter, header, notes)
    _check_head_rows(fmt, text_head, complete=len(head) < _SNIFF_BYTES)
    return fmt


def _check_head_rows(fmt: CsvFormat, text_head: str, complete: bool) -> None:
    """Field counts of the rows in the first block. pandas decides from the first data row alone
    whether extra leading fields become an index (shifting every column, silently), so that row
    is checked here, before pandas reads anything."""
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text_head, newline=""), delimiter=fmt.delimiter)
    try:
        while True:
            before = reader.line_num
            try:
                record = next(reader)
            except StopIteration:
                break
            if record:
                records.append((before + 1, record))
    except csv.Error:
        return  # the full read reports what is wrong
    if not complete:
        records = records[:-1]  # the block may end inside the last record
    for row, (line, record) in enumerate(records[1:]):
        if len(record) != len(fmt.header):
            raise InputError(ragged_message(fmt, line, len(record), row))


# ---------------------------------------------------------------------------------- field counts
def first_ragged_row(fmt: CsvFormat, start_row: int = 0) -> tuple[int, int, list[str]] | None:
    """(data row, line, fields) of the first data row from ``start_row`` whose field count differs
    from the header's; the line is where the record starts (1 = the header)."""
    n_columns = len(fmt.header)
    try:
        with open(fmt.path, encoding=fmt.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=fmt.delimiter)
            header_seen = False
            row = -1
            line = 0
            while True:
                before = reader.line_num
                try:
                    record = next(reader)
                except StopIteration:
                    return None
                if not record:
                    continue  # blank lines are skipped, as pandas does
                if not header_seen:
                    header_seen = True
                    continue
                row += 1
                line = before + 1
                if row >= start_row and len(record) != n_columns:
                    return row, line, record
    except (csv.Error, UnicodeError, OSError):
        return None


def ragged_message(fmt: CsvFormat, line: int | str, n_fields: int | str, row: int | None = None) -> str:
    n_header = len(fmt.header)
    where = f"data row {row}, " if row is not None else ""
    if int(n_fields) > n_header:
        fix = ("Fix or remove that line (quote values that contain the delimiter; a delimiter at the "
               "end of every line adds an empty field).")
    else:
        fix = "Fix that line or fill its missing fields with empty values."
    return (f"{fmt.path}: line {line} has {n_fields} fields but the header has {n_header} "
            f"({where}delimiter {fmt.delimiter!r}). {fix}")


def check_field_counts(fmt: CsvFormat, frame: pd.DataFrame, first_row: int = 0) -> None:
    """Raise InputError when a row of ``frame`` (data rows from ``first_row`` on) had more or
    fewer fields than the header.

    pandas leaves a trace of both, so the full scan runs only then: when the first data row has
    more fields than the header it silently makes the extra leading fields the index (the frame
    has no RangeIndex; every column shifts one place), and it pads short rows with missing
    values (the last column has one). A later row with extra fields is a ParserError.
    """
    if len(frame.columns) != len(fmt.header):
        # pandas read a different header than the sniffer (e.g. a quote the two disagree on).
        raise InputError(
            f"{fmt.path}: the header has {len(fmt.header)} fields by one reading and {len(frame.columns)} "
            "by another; check its quotes."
        )
    shifted = not isinstance(frame.index, pd.RangeIndex)
    if not shifted and not (len(frame) and frame.iloc[:, -1].isna().any()):
        return
    ragged = first_ragged_row(fmt, first_row)
    if ragged is not None:
        row, line, record = ragged
        raise InputError(ragged_message(fmt, line, len(record), row))
    if shifted:
        raise InputError(
            f"{fmt.path}: data rows have more fields than the header ({len(fmt.header)}). Fix the "
            "rows or the header (a delimiter at the end of every line adds an empty field)."
        )


def read_csv_frame(fmt: CsvFormat, **options: Any) -> Any:
    """``pandas.read_csv`` with this file's format (a chunk iterator when ``chunksize`` is given)."""
    with warnings.catch_warnings():
        # The chunked (fast) parser warns about columns whose type differs between chunks;
        # such columns arrive as object and are typed by _coerce_mostly_numeric below.
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        return pd.read_csv(fmt.path, **fmt.read_options(), **options)


def parser_error(fmt: CsvFormat, exc: Exception) -> InputError:
    """The InputError for an exception pandas raised while parsing ``fmt.path``."""
    if isinstance(exc, UnicodeDecodeError):
        return InputError(undecodable_message(fmt.path, fmt.encoding))
    if isinstance(exc, pd.errors.EmptyDataError):
        return InputError(f"{fmt.path}: the file is empty. Pass a CSV with a header row and data rows.")
    message = " ".join(str(exc).split())
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if match:
        _, line, saw = match.groups()
        return InputError(ragged_message(fmt, line, saw))
    return InputError(f"{fmt.path}: cannot parse as delimited text ({message}).")


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, CsvFormat]:
    fmt = sniff_csv(path, encoding)
    try:
        frame = read_csv_frame(fmt)
    except UnicodeDecodeError:
        late = None if encoding else late_encoding(path, fmt.encoding, fmt.notes)
        if late is None:
            raise InputError(undecodable_message(path, fmt.encoding, detected=encoding is None)) from None
        fmt.encoding = late
        try:
            frame = read_csv_frame(fmt)
        except (ValueError, pd.errors.ParserError) as exc:
            raise parser_error(fmt, exc) from None
    except (ValueError, pd.errors.ParserError, csv.Error) as exc:
        raise parser_error(fmt, exc) from None
    if frame.empty and len(frame.columns):
        raise InputError(f"{path}: has a header but no data rows. Pass a file with at least one data row.")
    check_field_counts(fmt, frame)
    return frame, fmt


# ---------------------------------------------------------------------------------------- Parquet
def _unsupported_type(arrow_type: Any) -> bool:
    import pyarrow as pa

    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    return bool(
        pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t) or getattr(pa.types, "is_binary_view", lambda _: False)(t)
    )


def _as_text(value: Any) -> str | None:
    """A readable, hashable text form of a nested or binary Parquet value."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _parquet_error(path: Path, exc: Exception) -> InputError:
    return InputError(f"{path}: cannot read as Parquet ({_first_line(exc)}). Is the file complete and valid?")


def _read_parquet_table(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _parquet_error(path, exc) from None
    names = [str(n) for n in schema.names]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: duplicate column name(s) {dupes}. Rename them so each is unique.")
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise _parquet_error(path, exc) from None
    if table.num_rows == 0:
        raise InputError(f"{path}: has columns but no data rows. Pass a file with at least one data row.")
    return table


def _read_parquet(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table as a frame, and {column: Arrow type} of the columns that cannot be features."""
    import pyarrow as pa

    table = _read_parquet_table(path)
    unsupported = {str(f.name): str(f.type) for f in table.schema if _unsupported_type(f.type)}
    plain = table.drop_columns(list(unsupported)) if unsupported else table
    for i, arrow_field in enumerate(plain.schema):
        # Dictionary encoding is how the file stores a column, not what it means: decode it, so
        # that the values (not a pandas Categorical with its own category order) reach the checks,
        # the label classes and the expectations alike.
        if pa.types.is_dictionary(arrow_field.type):
            plain = plain.set_column(i, arrow_field.name, plain.column(i).cast(arrow_field.type.value_type))
    try:
        frame = plain.to_pandas()
    except Exception as exc:  # e.g. timestamps out of the nanosecond range, unknown extension types
        raise InputError(f"{path}: cannot convert the Parquet columns to a table ({_first_line(exc)}).") from None
    frame = frame.reset_index(drop=True)
    for name in unsupported:
        frame[name] = pd.Series([_as_text(v) for v in table.column(name).to_pylist()], dtype=object)
    return frame[[str(n) for n in table.schema.names]], unsupported


# ------------------------------------------------------------------------------------ read_table
@dataclass
class _Table:
    frame: pd.DataFrame
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    unsupported: dict[str, str] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)


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
        return handle.read(4) == _PARQUET_MAGIC


def _read(path: Path, encoding: str | None) -> _Table:
    check_path(path)
    if is_parquet(path):
        frame, unsupported = _read_parquet(path)
        return _Table(frame, "parquet", unsupported=unsupported)
    frame, fmt = _read_csv(path, encoding)
    return _Table(frame, fmt.file_format, fmt.encoding, fmt.delimiter, notes=list(fmt.notes))


def read_table(path: str | Path, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV/Parquet file into a DataFrame with a 0-based RangeIndex; return (frame, format)."""
    table = _read(Path(path), encoding)
    return table.frame, table.file_format


def _scan_rows(fmt: CsvFormat, want: set[int]) -> dict[int, list[str]]:
    """The text fields of the wanted data rows, by row number (blank lines skipped, as pandas does)."""
    found: dict[int, list[str]] = {}
    if not want:
        return found
    with open(fmt.path, encoding=fmt.encoding, newline="") as handle:
        records = (r for r in csv.reader(handle, delimiter=fmt.delimiter) if r)
        next(records, None)  # the header
        for row, record in enumerate(records):
            if row in want:
                found[row] = record
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
        table = _read_parquet_table(path)
        frame = table.take(wanted).to_pandas() if wanted else table.schema.empty_table().to_pandas()
        frame.index = pd.Index(wanted, dtype=np.int64)
        return frame
    fmt = sniff_csv(path, encoding)
    want = set(wanted)
    try:
        found = _scan_rows(fmt, want)
    except UnicodeDecodeError:
        late = None if encoding else late_encoding(path, fmt.encoding, fmt.notes)
        if late is None:
            raise InputError(undecodable_message(path, fmt.encoding)) from None
        fmt.encoding = late
        found = _scan_rows(fmt, want)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot parse as delimited text ({exc}).") from None
    missing = sorted(want - set(found))
    if missing:
        raise InputError(f"{path}: has no data row {missing[0]} (rows count from 0); was it changed?")
    frame = pd.DataFrame([found[r] for r in wanted], columns=fmt.header, dtype=object)
    frame.index = pd.Index(wanted, dtype=np.int64)
    return frame


# ------------------------------------------------------------------------------------ load_dataset
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


def _utc_mixed_offsets(frame: pd.DataFrame, path: Path, skip: set[str]) -> list[dict[str, Any]]:
    """Convert text date columns with several UTC offsets (or offsets and none) to UTC datetimes."""
    notes: list[dict[str, Any]] = []
    for column in frame.columns:
        if column in skip:
            continue
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        # The head of the column, so that a million-row text column costs a few thousand cells.
        sample = values.iloc[:20_000].dropna().astype(str).str.strip().iloc[:2000]
        if sample.empty or not sample.str.contains(_TZ_SUFFIX, regex=True).any():
            continue
        if not looks_like_datetime(sample):  # the rule that gives the column the role "datetime"
            continue
        text = values.where(values.isna(), values.astype(str).str.strip())
        # Offsets over the whole column: the head may hold one offset and later rows another.
        offsets = text.dropna().astype(str).str.extract(_OFFSET, expand=False).fillna("none")
        kinds = sorted(set(offsets.unique()))
        if len(kinds) < 2:
            continue  # one offset: pandas keeps it as a fixed-offset datetime
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converted = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
        lost = int((values.notna() & converted.isna()).sum())
        frame[column] = converted
        notes.append({
            "code": "mixed_timezones", "severity": "warning", "columns": [str(column)],
            "message": (f"Column {column!r} of {path.name} mixes UTC offsets ({', '.join(kinds[:6])}); "
                        "it was converted to UTC" + (" (values without an offset taken as UTC)" if "none" in kinds else "")
                        + (f"; {lost} value(s) did not parse and are missing" if lost else "") + "."),
            "details": {"offsets": kinds, "n_unparsed": lost,
                        "action": "check that the offsets are right at the source; compare times in UTC"},
        })
    return notes


def _unsupported_notes(unsupported: dict[str, str], path: Path) -> list[dict[str, Any]]:
    if not unsupported:
        return []
    shown = ", ".join(f"{c!r} ({t})" for c, t in list(unsupported.items())[:8])
    return [{
        "code": "unsupported_column", "severity": "warning", "columns": list(unsupported),
        "message": (f"{len(unsupported)} column(s) of {path.name} have Parquet types that cannot be "
                    f"features and are left out: {shown}."),
        "details": {"types": dict(unsupported), "action": "flatten nested columns (one column per field) "
                    "or decode binary ones before auditing, if they matter"},
    }]


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
    coerced = _coerce_mostly_numeric(frame, skip)
    notes = list(table.notes) + _utc_mixed_offsets(frame, path, skip | set(coerced))
    notes += _unsupported_notes(table.unsupported, path)
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
