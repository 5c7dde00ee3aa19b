"""The format of a delimited text file (encoding, delimiter, header) and its field-count checks.

``sniff_csv`` settles the format once; every pass (``load_dataset`` in memory,
``transforms.streaming.iter_csv_chunks`` with ``--chunksize``, ``read_raw_rows`` for quarantine.csv)
reads with it. Line endings ``\\n``, ``\\r\\n`` and ``\\r`` (also mixed) are read; a row with more
or fewer fields than the header is an error naming its line (pandas would silently turn extra
leading fields into the index and shift every column); duplicate header names are an error.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dataaudit.exceptions import InputError
from dataaudit.io.compression import (
    READ_ERRORS,
    compression_of,
    corrupt_message,
    inner_suffix,
    open_binary,
    open_text,
)
from dataaudit.io.encodings import (
    SNIFF_BYTES,
    detect_encoding,
    display_encoding,
    late_encoding,
    undecodable_message,
)
from dataaudit.io.line_endings import (
    LoneCrText,
    RestoredChunks,
    header_line_ending,
    lone_cr_lines,
    lone_cr_sentinel,
    mark_lone_cr,
    restore_cr,
    restore_fields,
)
from dataaudit.io.parquet import PARQUET_MAGIC

__all__ = ["CsvFormat", "check_field_counts", "na_text_counts", "first_ragged_row", "parser_error", "ragged_message",
           "read_csv_file", "read_csv_frame", "sniff_csv"]


@dataclass
class CsvFormat:
    """What ``sniff_csv`` settled about a delimited text file: read every pass with it."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    notes: list[dict[str, Any]] = field(default_factory=list)
    # None, or the character that stands for a lone CR while the file is parsed: set when the
    # file's line ending is LF and a CR without an LF after it is data (see ``line_endings``).
    lone_cr: str | None = None
    # "gzip", "bz2", "xz" or "zstd" for a compressed file (``compression``), read transparently.
    compression: str | None = None

    @property
    def file_format(self) -> str:
        return "tsv" if self.delimiter == "\t" else "csv"

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments of ``pandas.read_csv`` for this file."""
        return {"sep": self.delimiter, "encoding": self.encoding, "compression": self.compression}

    @contextmanager
    def lines(self) -> Iterator[Iterable[str]]:
        """The file's lines, for ``csv.reader`` (read its records' fields through ``fields``)."""
        if self.lone_cr is None:
            with open_text(self.path, encoding=self.encoding, newline="") as handle:
                yield handle
            return
        lines = lone_cr_lines(self.path, self.encoding, self.lone_cr)
        try:
            yield lines
        finally:
            lines.close()

    def fields(self, record: list[str]) -> list[str]:
        """The values of one ``csv.reader`` record of ``lines`` as the file holds them."""
        return record if self.lone_cr is None else restore_fields(record, self.lone_cr)


def _sniff_delimiter(path: Path, text_head: str) -> str:
    if inner_suffix(path) in {".tsv", ".tab"}:
        return "\t"
    sample = text_head[:SNIFF_BYTES]
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
    compression = compression_of(path)
    try:
        with open_binary(path) as handle:
            head = handle.read(SNIFF_BYTES)
    except READ_ERRORS as exc:
        if compression is None:
            raise
        raise InputError(corrupt_message(path, compression, exc)) from exc
    if not head.strip():
        raise InputError(f"{path}: the file is empty. Pass a CSV with a header row and data rows.")
    if head.startswith(PARQUET_MAGIC) and compression is not None:
        raise InputError(f"{path}: is a compressed Parquet file. Decompress it and pass the .parquet file "
                         "(Parquet compresses its columns itself).")
    if head.startswith(PARQUET_MAGIC):
        raise InputError(f"{path}: this is a Parquet file with a CSV name. Rename it to .parquet.")
    notes: list[dict[str, Any]] = []
    declared = encoding
    encoding = detect_encoding(path, head, encoding, notes)
    try:
        text_head = head.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        if len(head) < SNIFF_BYTES or exc.start < len(head) - 4:  # a character cut at the block end is fine
            raise InputError(undecodable_message(path, encoding, detected=declared is None)) from exc
        text_head = head[: exc.start].decode(encoding)
    except UnicodeError as exc:  # e.g. a UTF-32 mark on bytes that are not UTF-32
        raise InputError(f"{path}: cannot decode as {display_encoding(encoding)} ({exc}). Pass --encoding.") from exc
    # A lone CR is data when the file's line ending is LF: pandas.to_csv writes such text bare.
    lone_cr = lone_cr_sentinel(path, encoding) if header_line_ending(text_head) == "\n" else None
    if lone_cr is not None:
        text_head = mark_lone_cr(text_head, lone_cr)
    delimiter = _sniff_delimiter(path, text_head)
    header = _header(text_head, delimiter)
    if lone_cr is not None:
        header = restore_fields(header, lone_cr)
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
    fmt = CsvFormat(path, encoding, delimiter, header, notes, lone_cr, compression)
    _check_head_rows(fmt, text_head, complete=len(head) < SNIFF_BYTES)
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
        with fmt.lines() as lines:
            reader = csv.reader(lines, delimiter=fmt.delimiter)
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
        # such columns arrive as object and are typed by coerce_mostly_numeric below.
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        if fmt.lone_cr is None:
            return pd.read_csv(fmt.path, **fmt.read_options(), **options)
        text = LoneCrText(fmt.path, fmt.encoding, fmt.lone_cr)
        try:
            result = pd.read_csv(text, sep=fmt.delimiter, **options)
        except BaseException:
            text.close()
            raise
    if options.get("chunksize") is not None or options.get("iterator"):
        return RestoredChunks(result, text, fmt.lone_cr)
    text.close()
    return restore_cr(result, fmt.lone_cr)


def na_text_counts(fmt: CsvFormat, frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per text column with missing cells, the non-empty texts pandas read as missing, counted.

    pandas' default missing-value strings include words such as ``None``, ``NA`` and ``null``; in a
    column of categories ``None`` can be a value (Cars93's ``AirBags``: no airbags). Only the text
    columns that have missing cells are read again, as plain strings, to tell those words from
    empty cells.
    """
    positions = [i for i, column in enumerate(frame.columns)
                 if (pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column]))
                 and frame[column].isna().any()]
    if not positions:
        return {}
    raw = read_csv_frame(fmt, usecols=positions, dtype=str, keep_default_na=False, na_filter=False)
    counts: dict[str, dict[str, int]] = {}
    for position, raw_column in zip(positions, raw.columns, strict=True):
        column = frame.columns[position]
        texts = raw[raw_column].to_numpy()[frame[column].isna().to_numpy()]
        found = pd.Series(texts[texts != ""]).value_counts()
        if len(found):
            counts[str(column)] = {str(text): int(n) for text, n in found.items()}
    return counts


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


def read_csv_file(path: Path, encoding: str | None) -> tuple[pd.DataFrame, CsvFormat]:
    fmt = sniff_csv(path, encoding)
    try:
        frame = read_csv_frame(fmt)
    except UnicodeDecodeError as decode_error:
        late = None if encoding else late_encoding(path, fmt.encoding, fmt.notes)
        if late is None:
            raise InputError(undecodable_message(path, fmt.encoding, detected=encoding is None)) from decode_error
        fmt.encoding = late
        try:
            frame = read_csv_frame(fmt)
        except (ValueError, pd.errors.ParserError) as exc:
            raise parser_error(fmt, exc) from exc
    except (ValueError, pd.errors.ParserError, csv.Error) as exc:
        raise parser_error(fmt, exc) from exc
    except READ_ERRORS as exc:
        if fmt.compression is None:
            raise
        raise InputError(corrupt_message(path, fmt.compression, exc)) from exc
    if frame.empty and len(frame.columns):
        raise InputError(f"{path}: has a header but no data rows. Pass a file with at least one data row.")
    check_field_counts(fmt, frame)
    return frame, fmt

