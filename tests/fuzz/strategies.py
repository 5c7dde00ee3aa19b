"""Hypothesis strategies for hostile inputs: CSV bytes and Parquet schemas.

CSV: header names (near-identical, empty, quoted, unicode), cells of every kind (numbers, text,
dates with mixed offsets, placeholders, quotes, delimiters and newlines inside values, NULs),
field counts off by one, every line ending (``\\n``, ``\\r\\n``, ``\\r``, mixed), four delimiters,
eight encodings (with and without byte-order mark), and a few raw byte mutations.

Parquet: flat columns of every Arrow type the loader meets in practice (ints, floats, strings,
booleans, nullable values, dictionary, timestamps with and without time zone, dates, times,
durations, decimals) and the ones it cannot use as features (list, struct, map, binary), zero
rows, duplicate column names.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252")
LINE_ENDINGS = ("\n", "\r\n", "\r")
DELIMITERS = (",", ";", "\t", "|")

# Header names chosen to collide: case, spaces, NFC/NFD, zero-width characters, quotes, empties.
NAMES = (
    "a", "b", "c", "x", "a ", "A", "caf\u00e9", "cafe\u0301", "a\u200b", "", " ", "label ", "Label",
    'q"uote', "na,me", "semi;colon", "1", "0", "id", "date", "\u00fcber", "\u65e5\u672c", "new\nline",
)

TEXT_CELLS = (
    "", " ", "x", "y", "twenty", "?", "NA", "n/a", "null", "-", "1,5", "1.5", "342", "342.0", "1e3",
    "inf", "-inf", "nan", "True", "false", "caf\u00e9", "\u20ac5", "a\nb", 'say "hi"', "tab\there",
    "semi;colon", "pipe|bar", "\x00", "\r", "  12 ", "0x1F", "2020-01-01", "2020-01-02T03:04:05+01:00",
    "2020-06-01T03:04:05+02:00", "2020-01-03 10:00:00Z", "12/31/2020", "\u65e5\u672c\u8a9e",
)


@dataclass(frozen=True)
class CsvCase:
    """One generated CSV file and what it was built from (shown by hypothesis on failure)."""

    data: bytes
    encoding: str
    delimiter: str
    line_ending: str
    names: tuple[str, ...]
    n_rows: int

    def __repr__(self) -> str:  # the bytes are what matters when a case fails
        return (f"CsvCase(encoding={self.encoding!r}, delimiter={self.delimiter!r}, "
                f"line_ending={self.line_ending!r}, names={self.names!r}, n_rows={self.n_rows}, "
                f"data={self.data[:600]!r})")


def _quote(value: str, delimiter: str, quote_always: bool) -> str:
    if quote_always or any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _rare(draw: Any, one_in: int) -> bool:
    """True about once in ``one_in`` draws. Hypothesis leans to the low end of a range (its
    simplest value), so the planted defect sits at the top and the plain file at the bottom."""
    return draw(st.integers(0, one_in - 1)) == one_in - 1


@st.composite
def _cell(draw: Any, kind: str) -> str:
    if _rare(draw, 8):
        return draw(st.sampled_from(TEXT_CELLS))
    if kind == "int":
        return str(draw(st.integers(-1000, 1000)))
    if kind == "float":
        value = draw(st.floats(-1e6, 1e6) if not _rare(draw, 6)
                     else st.floats(allow_nan=True, allow_infinity=True, width=32))
        return repr(value) if draw(st.booleans()) else f"{value:.3g}"
    if kind == "cat":
        return draw(st.sampled_from(("red", "green", "blue", "Red", "red ")))
    if kind == "date":
        day = draw(st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)))
        offset = draw(st.sampled_from(("", "Z", "+01:00", "+02:00", "-05:00")))
        return f"{day.isoformat()}T12:00:00{offset}"
    if kind == "text":
        return draw(st.text(min_size=0, max_size=12))
    return draw(st.sampled_from(TEXT_CELLS))


@st.composite
def csv_files(draw: Any) -> CsvCase:
    """A delimited text file as bytes: mostly well-formed, with planted defects."""
    n_features = draw(st.integers(1, 4))
    if _rare(draw, 3):  # near-identical or duplicate names
        names = [draw(st.sampled_from(NAMES)) for _ in range(n_features)]
    else:
        names = [f"f{i}" for i in range(n_features)]
    if not _rare(draw, 10):
        names.insert(draw(st.integers(0, len(names))), "label")
    kinds = [draw(st.sampled_from(("int", "float", "cat", "date", "text", "raw"))) for _ in names]
    label_kind = draw(st.sampled_from(("classes", "numbers", "raw")))
    delimiter = draw(st.sampled_from(DELIMITERS))
    line_ending = draw(st.sampled_from(LINE_ENDINGS))
    mixed_endings = _rare(draw, 10)
    quote_always = _rare(draw, 6)
    n_rows = 0 if _rare(draw, 15) else draw(st.integers(12, 48))
    ragged = _rare(draw, 6)
    trailing_delimiter = _rare(draw, 12)

    lines = [delimiter.join(_quote(n, delimiter, quote_always) for n in names)]
    for _ in range(n_rows):
        fields = []
        for name, kind in zip(names, kinds, strict=True):
            if name == "label" and label_kind == "classes":
                fields.append("" if _rare(draw, 20) else draw(st.sampled_from(("p", "q", "r"))))
            elif name == "label" and label_kind == "numbers":
                fields.append(str(draw(st.integers(0, 3))))
            else:
                fields.append(draw(_cell(kind)))
        if ragged and _rare(draw, 4):
            if draw(st.booleans()) and fields:
                fields.pop(draw(st.integers(0, len(fields) - 1)))
            else:
                fields.insert(draw(st.integers(0, len(fields))), draw(st.sampled_from(("0", "9.5", "extra", ""))))
        text = delimiter.join(_quote(f, delimiter, quote_always) for f in fields)
        lines.append(text + (delimiter if trailing_delimiter else ""))
    if mixed_endings:
        body = "".join(line + draw(st.sampled_from(LINE_ENDINGS)) for line in lines)
    else:
        body = line_ending.join(lines) + ("" if _rare(draw, 5) else line_ending)
    # Half the files are plain UTF-8; the rest spread over the other encodings.
    encoding = "utf-8" if draw(st.booleans()) else draw(st.sampled_from(ENCODINGS))
    data = body.encode(encoding, errors="replace")
    # A few raw byte mutations: stray NULs, lone CRs, bytes that are not valid UTF-8, truncation.
    for _ in range(draw(st.integers(1, 2)) if _rare(draw, 6) else 0):
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from((b"\x00", b"\r", b"\xff", b"\xe9", b'"', b"\n", b"\x81")))
        data = data[:at] + junk + data[at:]
    if _rare(draw, 20):
        data = data[: draw(st.integers(0, len(data)))]
    return CsvCase(data, encoding, delimiter, line_ending, tuple(names), n_rows)


# ---------------------------------------------------------------------------------------- Parquet
PARQUET_KINDS = (
    "int", "float", "string", "bool", "nullable_int", "nullable_bool", "dictionary", "timestamp",
    "timestamp_utc", "timestamp_paris", "date", "time", "duration", "decimal", "large_string",
    "list", "struct", "map", "binary", "null",
)
UNSUPPORTED_KINDS = ("list", "struct", "map", "binary")


def _parquet_values(draw: Any, kind: str, n: int) -> Any:
    import pyarrow as pa

    def maybe(values: list[Any]) -> list[Any]:
        # Every kind may have a missing value or two.
        if n and _rare(draw, 4):
            values[draw(st.integers(0, n - 1))] = None
        return values

    ints = st.integers(-1000, 1000)
    if kind == "int":
        return pa.array([draw(ints) for _ in range(n)], pa.int64())
    if kind == "float":
        return pa.array(maybe([draw(st.floats(allow_nan=True, allow_infinity=True)) for _ in range(n)]), pa.float64())
    if kind in ("string", "large_string"):
        values = maybe([draw(st.sampled_from(("x", "y", "z", "", "caf\u00e9", "twenty"))) for _ in range(n)])
        return pa.array(values, pa.large_string() if kind == "large_string" else pa.string())
    if kind == "bool":
        return pa.array([draw(st.booleans()) for _ in range(n)], pa.bool_())
    if kind == "nullable_int":
        return pa.array(maybe([draw(ints) for _ in range(n)]), pa.int32())
    if kind == "nullable_bool":
        return pa.array(maybe([draw(st.booleans()) for _ in range(n)]), pa.bool_())
    if kind == "dictionary":
        values = pa.array(maybe([draw(st.sampled_from(("lo", "mid", "hi"))) for _ in range(n)]), pa.string())
        return values.dictionary_encode()
    if kind.startswith("timestamp"):
        tz = {"timestamp": None, "timestamp_utc": "UTC", "timestamp_paris": "Europe/Paris"}[kind]
        values = maybe([draw(st.integers(0, 2_000_000_000)) * 1_000_000 for _ in range(n)])
        return pa.array(values, pa.timestamp("us", tz=tz))
    if kind == "date":
        return pa.array(maybe([draw(st.dates(dt.date(1970, 1, 1), dt.date(2100, 1, 1))) for _ in range(n)]),
                        pa.date32())
    if kind == "time":
        return pa.array(maybe([draw(st.times()) for _ in range(n)]), pa.time64("us"))
    if kind == "duration":
        return pa.array(maybe([draw(ints) for _ in range(n)]), pa.duration("s"))
    if kind == "decimal":
        return pa.array(maybe([decimal.Decimal(draw(ints)) / 100 for _ in range(n)]), pa.decimal128(10, 2))
    if kind == "list":
        return pa.array(maybe([[draw(ints) for _ in range(draw(st.integers(0, 3)))] for _ in range(n)]),
                        pa.list_(pa.int64()))
    if kind == "struct":
        return pa.array(maybe([{"x": draw(ints), "y": draw(st.sampled_from(("u", "v")))} for _ in range(n)]),
                        pa.struct([("x", pa.int64()), ("y", pa.string())]))
    if kind == "map":
        return pa.array(maybe([[("k", draw(ints))] for _ in range(n)]), pa.map_(pa.string(), pa.int64()))
    if kind == "binary":
        return pa.array(maybe([draw(st.binary(max_size=6)) for _ in range(n)]), pa.binary())
    return pa.nulls(n)


@dataclass(frozen=True)
class ParquetCase:
    """One generated Parquet table: column names, their kinds and the row count."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    n_rows: int
    table: Any

    def __repr__(self) -> str:
        return f"ParquetCase(names={self.names!r}, kinds={self.kinds!r}, n_rows={self.n_rows})"


@st.composite
def parquet_tables(draw: Any) -> ParquetCase:
    """A pyarrow Table with a label column (usually) and features of many Arrow types."""
    import pyarrow as pa

    n_rows = draw(st.sampled_from((30, 40, 12, 3, 1, 0)))
    n_features = draw(st.integers(1, 5))
    if _rare(draw, 4):  # near-identical or duplicate names
        names = [draw(st.sampled_from(("a", "b", "a ", "A", "t", "when", "tags"))) for _ in range(n_features)]
    else:
        names = [f"f{i}" for i in range(n_features)]
    kinds = [draw(st.sampled_from(PARQUET_KINDS)) for _ in names]
    arrays = [_parquet_values(draw, kind, n_rows) for kind in kinds]
    if not _rare(draw, 10):
        label_kind = draw(st.sampled_from(("classes", "ints", "dictionary", "list", "binary")))
        if label_kind == "classes":
            arrays.append(pa.array([draw(st.sampled_from(("p", "q"))) for _ in range(n_rows)], pa.string()))
        elif label_kind == "ints":
            arrays.append(pa.array([draw(st.integers(0, 2)) for _ in range(n_rows)], pa.int64()))
        else:
            arrays.append(_parquet_values(draw, label_kind, n_rows))
        names.append("label")
        kinds.append(f"label:{label_kind}")
    table = pa.Table.from_arrays(arrays, names=names)
    return ParquetCase(tuple(names), tuple(kinds), n_rows, table)
