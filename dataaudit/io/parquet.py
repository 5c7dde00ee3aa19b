"""Parquet files: read with pyarrow, nested and binary columns kept as text for the role ``unsupported``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from dataaudit.exceptions import InputError

__all__ = ["PARQUET_MAGIC", "read_parquet", "read_parquet_table"]

PARQUET_MAGIC = b"PAR1"


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


def read_parquet_table(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _parquet_error(path, exc) from exc
    names = [str(n) for n in schema.names]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: duplicate column name(s) {dupes}. Rename them so each is unique.")
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise _parquet_error(path, exc) from exc
    if table.num_rows == 0:
        raise InputError(f"{path}: has columns but no data rows. Pass a file with at least one data row.")
    return table


def read_parquet(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table as a frame, and {column: Arrow type} of the columns that cannot be features."""
    import pyarrow as pa

    table = read_parquet_table(path)
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
        raise InputError(f"{path}: cannot convert the Parquet columns to a table ({_first_line(exc)}).") from exc
    frame = frame.reset_index(drop=True)
    for name in unsupported:
        frame[name] = pd.Series([_as_text(v) for v in table.column(name).to_pylist()], dtype=object)
    return frame[[str(n) for n in table.schema.names]], unsupported

