"""Typing a loaded frame's columns: mostly-numeric text to numbers, mixed UTC offsets to UTC,
and the findings for Parquet columns that cannot be features."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from dataaudit.dataset import looks_like_datetime

__all__ = ["NUMERIC_SHARE", "PLACEHOLDER_TOKENS", "coerce_mostly_numeric", "unsupported_notes",
           "utc_mixed_offsets"]

# Strings that people write for "missing"; pandas already reads "", "NA", "NaN", "null", "None" ...
PLACEHOLDER_TOKENS = {"?", "-", "--", "n/a", "na", "nan", "null", "none", "missing", "unknown", ".", "nil"}
# A text column becomes numeric when at least this share of its non-empty cells parse as numbers.
NUMERIC_SHARE = 0.9
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_OFFSET = r"((?:Z|[+-]\d{2}:?\d{2})$)"


def coerce_mostly_numeric(frame: pd.DataFrame, skip: set[str]) -> dict[str, dict[str, list[Any]]]:
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


def utc_mixed_offsets(frame: pd.DataFrame, path: Path, skip: set[str]) -> list[dict[str, Any]]:
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


def unsupported_notes(unsupported: dict[str, str], path: Path) -> list[dict[str, Any]]:
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

