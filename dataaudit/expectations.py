"""The one adapter to Great Expectations: build a suite from a table, validate new data against it.

``great_expectations`` is imported inside the functions (it takes seconds to import), so importing
this module is cheap. The suite is plain GX 1.x ExpectationSuite JSON, written directly in the
shape ``ExpectationSuite.to_json_dict()`` has, so that building it (during inspect and
fit-transform) does not pay the seconds and hundreds of MB of importing GX; a test checks that GX
parses every suite back into the identical dict, and :func:`validate` runs it with GX itself.

What a suite built by :func:`build_suite` expects (statistics from the given, training, table):

- the columns and their order (``expect_table_columns_to_match_ordered_list``);
- each column's type *family* (integer, float, duration, boolean, datetime, time, category,
  text; recorded in ``meta["dataaudit"]["families"]``). Before validation every column is
  brought to its family's plain form (numbers and durations as float64, datetimes as naive UTC
  ``datetime64[ns]``, booleans and text as Python objects), so Parquet tz-aware timestamps,
  durations, categoricals, date32/time and nullable booleans validate like any other column. A
  value that does not fit the family is a row-level violation: a date that does not parse, a
  number that is not one, a fraction in a column of whole numbers;
- non-null share: ``expect_column_values_to_not_be_null`` with ``mostly`` = observed non-null
  share minus ``null_slack`` (1.0 for columns that had no nulls);
- numeric ranges, two of them (``expect_column_values_to_be_between``):

  * a *soft* range, the observed min/max widened by ``range_tolerance`` × (max − min), with
    ``mostly`` from the sample size: a new row falls above the maximum of n training rows with
    probability about 1/(n+1), so ``mostly = 1 − max(1 − range_mostly, 6/(n+1))`` lets the odd
    new extreme of a small table pass, while a shifted column or a unit change does not;
  * a *hard* range that every row must satisfy, so that a single absurd value is flagged by
    itself: the observed sign is kept (a column that was never negative stays >= 0, age -5
    fails), values more than ``hard_range`` × (max − min) beyond the observed range fail (age
    250 among humans), and a column of whole numbers that fills a short range with flat edges
    (months 1-12, weekdays, ratings: the edge values are about as common as the others) keeps
    exactly that range;
- category sets for categorical/boolean columns and a classification label
  (``expect_column_values_to_be_in_set``; features with ``mostly=category_mostly`` so a few unseen
  categories are tolerated — the encoder counts them — while a flood is flagged).

Every training row passes the suite built from it, by construction (the ranges contain the
observed values, the families are the observed ones); rows that were not fitted may fail.

Statistics are computed on all rows with vectorized pandas (min/max/null share are O(n)); only
the category sets of very large tables are taken from a seeded sample of ``sample_rows`` rows
plus every row's membership check at validation time.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import InputError
from dataaudit.violations import ValidationReport, Violation

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = ["build_suite", "validate", "normalize", "column_family", "range_bounds", "ValidationReport", "Violation",
           "NUMERIC_TYPES", "FAMILIES"]


# Dtype names that count as "numeric" / "text" / "boolean" / "datetime" for the type expectation.
NUMERIC_TYPES: list[str] = [
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16",
    "UInt32", "UInt64", "Float32", "Float64",
]
TEXT_TYPES: list[str] = ["str", "string", "object", "category"]
BOOL_TYPES: list[str] = ["bool", "boolean", *TEXT_TYPES]
DATETIME_TYPES: list[str] = [
    "datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]", *TEXT_TYPES,
]
# Category sets larger than this are not expected (they are ID/text-like, not categories).
MAX_SET_SIZE = 200


FAMILIES = ("integer", "float", "duration", "boolean", "datetime", "time", "category", "text")
_NUMERIC_FAMILIES = ("integer", "float", "duration")
_FAMILY_TYPES: dict[str, list[str]] = {
    "integer": NUMERIC_TYPES, "float": NUMERIC_TYPES, "duration": NUMERIC_TYPES, "boolean": BOOL_TYPES,
    "datetime": DATETIME_TYPES, "time": TEXT_TYPES, "category": TEXT_TYPES, "text": TEXT_TYPES,
}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _arrow_family(dtype: Any) -> str | None:
    import pyarrow as pa

    kind = dtype.pyarrow_dtype
    for test, family in ((pa.types.is_boolean, "boolean"), (pa.types.is_integer, "integer"),
                         (pa.types.is_floating, "float"), (pa.types.is_duration, "duration"),
                         (pa.types.is_timestamp, "datetime"), (pa.types.is_date, "datetime"),
                         (pa.types.is_time, "time")):
        if test(kind):
            return family
    return None


def column_family(values: pd.Series) -> str:
    """The type family of a column (see the module docstring): what its values are, not its dtype.

    A float column whose values are all whole numbers (an integer column with missing values, as
    CSV reads it) is ``integer``.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype):
        family = _arrow_family(dtype)
        if family is not None:
            return family if family != "float" else _float_family(values)
        return "text"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return _float_family(values)
    present = values.dropna()
    if len(present) and all(isinstance(v, bool | np.bool_) for v in present.head(1000)):
        return "boolean"
    if len(present) and all(isinstance(v, _dt.date) for v in present.head(1000)):
        return "datetime"
    if len(present) and all(isinstance(v, _dt.time) for v in present.head(1000)):
        return "time"
    return "text"


def _float_family(values: pd.Series) -> str:
    finite = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = finite[np.isfinite(finite)]
    # Ten whole numbers and no fraction: the column counts things (CSV reads int + NaN as float).
    if finite.size >= 10 and np.all(finite == np.round(finite)):
        return "integer"
    return "float"


def _row_violation(column: str, bad: np.ndarray, values: pd.Series, what: str,
                   positions: np.ndarray) -> Violation:
    rows = tuple(int(r) for r in positions[bad])
    sample = [str(v) for v in values[bad].head(5).tolist()]
    return Violation("expect_column_values_to_be_in_type_list", column, sample, rows, len(rows),
                     f"column {column!r}: {len(rows)} value(s) are not {what} (e.g. {sample})")


def normalize(frame: pd.DataFrame, families: dict[str, str]) -> tuple[pd.DataFrame, list[Violation]]:
    """Each column of ``families`` in its family's plain form, and the values that do not fit.

    Numbers and durations (seconds) become float64, datetimes naive UTC ``datetime64[ns]``,
    booleans Python bools, times/categories/text ``str`` objects (missing values stay missing).
    Returns the new frame (same index) and one row-level violation per column with values that
    are not of the family (text where numbers are expected, dates that do not parse, fractions
    in a whole-number column, ...); a column where no value fits is one violation without rows.
    """
    out = frame.copy()
    violations: list[Violation] = []
    positions = np.arange(len(frame))
    for column, family in families.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        present = values.notna().to_numpy()
        converted, what = _convert(values, family)
        bad = present & converted.isna().to_numpy()
        if family == "integer":
            numbers = converted.to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                fraction = np.isfinite(numbers) & (numbers != np.round(numbers))
            if fraction.any():
                violations.append(_row_violation(column, fraction, values, "whole numbers", positions))
        if bad.any():
            if bad.sum() == present.sum():
                violations.append(Violation(
                    "expect_column_values_to_be_in_type_list", column, str(values.dtype), (), 0,
                    f"column {column!r}: expected {what} ({family}) but no value is one"))
            else:
                violations.append(_row_violation(column, bad, values, what, positions))
        out[column] = converted
    return out, violations


def _convert(values: pd.Series, family: str) -> tuple[pd.Series, str]:
    """``values`` in the plain form of ``family`` (NaN/None/NaT where a value does not fit)."""
    if family in ("integer", "float"):
        if pd.api.types.is_bool_dtype(values.dtype):
            return pd.Series(np.nan, index=values.index), "numbers"
        if pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype):
            return pd.Series(values.to_numpy(dtype=np.float64, na_value=np.nan), index=values.index), "numbers"
        text = values.astype("string").str.strip()
        return pd.to_numeric(text, errors="coerce").astype(np.float64), "numbers"
    if family == "duration":
        if pd.api.types.is_timedelta64_dtype(values.dtype) or (
                isinstance(values.dtype, pd.ArrowDtype) and _arrow_family(values.dtype) == "duration"):
            seconds = pd.to_timedelta(values).dt.total_seconds()
        else:
            seconds = pd.to_timedelta(values.astype("string"), errors="coerce").dt.total_seconds()
        return seconds.astype(np.float64), "durations"
    if family == "datetime":
        try:
            if pd.api.types.is_datetime64_any_dtype(values.dtype) or isinstance(values.dtype, pd.ArrowDtype):
                stamps = pd.to_datetime(values, utc=True, errors="coerce")
            else:
                stamps = pd.to_datetime(values.astype("string"), utc=True, errors="coerce", format="mixed")
        except (TypeError, ValueError, OverflowError):
            stamps = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        return stamps.dt.tz_localize(None).astype("datetime64[ns]"), "dates"
    if family == "boolean":
        def as_bool(v: Any) -> Any:
            if isinstance(v, bool | np.bool_):
                return bool(v)
            token = str(v).strip().lower()
            return True if token in _TRUE else False if token in _FALSE else None

        converted = pd.Series([None if pd.isna(v) else as_bool(v) for v in values.tolist()],
                              index=values.index, dtype=object)
        return converted, "true/false values"
    # Missingness tested once over the array (not pd.isna per cell: 30x slower on a million rows).
    cells = values.to_numpy(dtype=object)
    missing = pd.isna(cells).tolist()
    text = pd.Series([None if gap else cell if type(cell) is str else str(cell)
                      for cell, gap in zip(cells.tolist(), missing, strict=True)], index=values.index, dtype=object)
    return text, "text"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def range_bounds(low: float, high: float, n: int, *, integer: bool, range_tolerance: float = 0.1,
                 range_mostly: float = 0.99, hard_range: float = 1.0,
                 flat_edges: tuple[bool, bool] = (False, False)) -> dict[str, Any]:
    """Soft and hard ranges of a numeric column observed in [low, high] over n rows.

    ``flat_edges``: whether the column's lowest/highest whole-number value is about as common as
    the others (a bounded scale such as months), which makes that edge a hard one.
    """
    width = high - low
    pad = range_tolerance * width if width > 0 else range_tolerance * max(abs(low), 1.0)
    mostly = 1.0 - max(1.0 - range_mostly, 6.0 / (n + 1))
    reach = hard_range * width if width > 0 else max(abs(low), 1.0)
    hard_low, hard_high = low - reach, high + reach
    if low >= 0:
        hard_low = max(hard_low, 0.0)  # never negative stays never negative
    if high <= 0:
        hard_high = min(hard_high, 0.0)
    if integer and flat_edges[0]:
        hard_low = low
    if integer and flat_edges[1]:
        hard_high = high
    return {"soft": (low - pad, high + pad, round(max(mostly, 0.0), 6)), "hard": (hard_low, hard_high),
            "flat_edges": [bool(integer and flat_edges[0]), bool(integer and flat_edges[1])]}


def _flat_edges(finite: np.ndarray) -> tuple[bool, bool]:
    """Whole numbers filling a short range whose edge values are as common as the rest."""
    values, counts = np.unique(finite, return_counts=True)
    if not (3 <= len(values) <= 60) or values[-1] - values[0] + 1 != len(values):
        return False, False
    floor = max(5.0, 0.5 * float(np.median(counts)))
    return bool(counts[0] >= floor), bool(counts[-1] >= floor)


def build_suite(
    data: Dataset | pd.DataFrame,
    name: str = "dataaudit",
    *,
    roles: dict[str, str] | None = None,
    label: str | None = None,
    range_tolerance: float = 0.1,
    range_mostly: float = 0.99,
    null_slack: float = 0.05,
    category_mostly: float = 0.99,
    sample_rows: int = 200_000,
    seed: int = 0,
    rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """Build a GX 1.x ExpectationSuite (as its JSON dict) describing ``data``.

    Parameters
    ----------
    data : Dataset or DataFrame
        The training table. A Dataset supplies column roles and the label; for a DataFrame the
        roles are inferred (or taken from ``roles``).
    name : str
        Suite name.
    roles, label : optional
        Column roles and label name for a DataFrame.
    range_tolerance : float
        Numeric ranges are widened by this fraction of (max − min) on both sides.
    range_mostly : float
        Share of a numeric column's values that must fall inside that range.
    null_slack : float
        ``mostly`` of the not-null expectation is the observed non-null share minus this.
    category_mostly : float
        Share of a categorical feature's values that must be in the training category set.
    sample_rows : int
        Category sets of larger tables come from a seeded sample of this many rows.
    seed : int
        Seed of that sample.
    rows : ndarray, optional
        Positions of the rows to describe (e.g. the training split), taken column by column
        instead of copying the table.

    Returns
    -------
    dict
        ``suite.to_json_dict()``; its ``meta["dataaudit"]`` holds the label and roles.

    Examples
    --------
    >>> suite = build_suite(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), name="demo")   # doctest: +SKIP
    >>> [e["type"] for e in suite["expectations"]][:2]                            # doctest: +SKIP
    ['expect_table_columns_to_match_ordered_list', 'expect_column_values_to_be_in_type_list']
    """
    from dataaudit.dataset import Dataset, infer_roles

    if isinstance(data, Dataset):
        frame, roles, label = data.frame, dict(data.roles), data.label
    elif isinstance(data, pd.DataFrame):
        frame = data
        roles = dict(roles) if roles is not None else infer_roles(frame, label)
    else:
        raise InputError(f"build_suite needs a Dataset or a DataFrame, got {type(data).__name__}.")
    columns = [str(c) for c in frame.columns]
    positions = np.arange(len(frame)) if rows is None else np.asarray(rows, dtype=np.int64)
    n = len(positions)
    sample_positions = positions
    if n > sample_rows:
        rng = np.random.default_rng(seed)
        sample_positions = positions[np.sort(rng.choice(n, size=sample_rows, replace=False))]
    expectations: list[dict[str, Any]] = [_expectation("expect_table_columns_to_match_ordered_list",
                                                       column_list=columns)]
    families: dict[str, str] = {}
    for column in columns:
        raw = frame[column] if rows is None else frame[column].iloc[positions]
        role = roles.get(column, "numeric")
        family = column_family(raw)
        if family == "text" and role == "datetime" and not normalize(raw.to_frame(column), {column: "datetime"})[1]:
            family = "datetime"  # dates written as text, every one of them parseable
        families[column] = family
        values = normalize(raw.to_frame(column), {column: family})[0][column]
        expectations.append(_expectation("expect_column_values_to_be_in_type_list", column=column,
                                         type_list=_FAMILY_TYPES[family]))
        null_share = float(values.isna().mean()) if n else 0.0
        if null_share < 1.0:
            mostly = 1.0 if null_share == 0 else max(0.0, round(1.0 - null_share - null_slack, 6))
            if mostly > 0:
                expectations.append(_expectation("expect_column_values_to_not_be_null", column=column, mostly=mostly))
        numeric = family in _NUMERIC_FAMILIES
        if numeric and role in ("numeric", "id") and null_share < 1.0:
            as_float = values.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = as_float[np.isfinite(as_float)]
            if finite.size:
                integer = family == "integer"
                bounds = range_bounds(float(finite.min()), float(finite.max()), int(finite.size), integer=integer,
                                      range_tolerance=range_tolerance, range_mostly=range_mostly,
                                      flat_edges=_flat_edges(finite) if integer else (False, False))
                expectations.extend(range_expectations(column, bounds))
        is_class_label = column == label and (not numeric or values.nunique() <= 50)
        # Numbers (durations too) with many values are ranges, not categories.
        is_levels = role in ("categorical", "boolean") and (not numeric or values.nunique() <= 20)
        if is_levels or is_class_label:
            sample = values if rows is None and n <= sample_rows else normalize(
                frame[column].iloc[sample_positions].to_frame(column), {column: family})[0][column]
            uniques = pd.unique(sample.dropna())
            if 0 < len(uniques) <= MAX_SET_SIZE:
                plain = [int(v) if family == "integer" else _plain(v) for v in uniques]
                value_set = sorted(plain, key=lambda v: (str(type(v)), v))
                # A label is never allowed to take a value it never took at fit time.
                mostly_set = 1.0 if column == label else category_mostly
                expectations.append(_expectation("expect_column_values_to_be_in_set", column=column,
                                                 value_set=value_set, mostly=mostly_set))
    return {
        "name": name,
        "id": None,
        "expectations": expectations,
        "meta": {"dataaudit": {"label": label, "roles": roles, "n_rows": n, "families": families},
                 "great_expectations_version": _gx_version()},
        "notes": None,
    }


def range_expectations(column: str, bounds: dict[str, Any]) -> list[dict[str, Any]]:
    """The soft (``mostly``) and hard (every row) range expectations of ``range_bounds``."""
    low, high, mostly = bounds["soft"]
    hard_low, hard_high = bounds["hard"]
    return [
        _expectation("expect_column_values_to_be_between", column=column, min_value=low, max_value=high,
                     mostly=mostly, meta={"dataaudit": "soft"}),
        _expectation("expect_column_values_to_be_between", column=column, min_value=hard_low,
                     max_value=hard_high, meta={"dataaudit": "hard", "flat_edges": bounds["flat_edges"]}),
    ]


def _expectation(kind: str, meta: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """One expectation as GX 1.x serializes it (``mostly=1.0`` is GX's default and left out)."""
    if kwargs.get("mostly") == 1.0:
        del kwargs["mostly"]
    return {"type": kind, "kwargs": kwargs, "meta": dict(meta or {}), "severity": "critical"}


def _gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")


def _suite_without(suite_dict: dict[str, Any], drop_column: str) -> dict[str, Any]:
    """The suite minus every expectation about ``drop_column`` (a label absent from new data)."""
    kept = []
    for exp in suite_dict.get("expectations", []):
        kwargs = exp.get("kwargs", {})
        if kwargs.get("column") == drop_column:
            continue
        if "column_list" in kwargs:
            exp = {**exp, "kwargs": {**kwargs, "column_list": [c for c in kwargs["column_list"] if c != drop_column]}}
        kept.append(exp)
    return {**suite_dict, "expectations": kept}


def _describe(expectation: str, column: str | None, observed: Any, count: int, kwargs: dict[str, Any]) -> str:
    where = f"column {column!r}" if column else "table"
    if expectation == "expect_table_columns_to_match_ordered_list":
        return f"table: columns {observed} do not match the expected {kwargs.get('column_list')}"
    if expectation == "expect_column_values_to_be_in_type_list":
        return f"{where}: dtype {observed!r} is not one of the expected types"
    if expectation == "expect_column_values_to_be_between":
        return (f"{where}: {count} value(s) outside [{kwargs.get('min_value'):.6g}, "
                f"{kwargs.get('max_value'):.6g}]")
    if expectation == "expect_column_values_to_not_be_null":
        return f"{where}: {count} missing value(s) (at most {1 - kwargs.get('mostly', 1.0):.2%} allowed)"
    if expectation == "expect_column_values_to_be_in_set":
        return f"{where}: {count} value(s) outside the training categories (e.g. {observed})"
    return f"{where}: {expectation} failed (observed {observed})"


def validate(frame: pd.DataFrame, suite_dict: dict[str, Any]) -> ValidationReport:
    """Validate ``frame`` against a suite built by :func:`build_suite` (or any GX 1.x suite dict).

    Uses an ephemeral GX context, a pandas datasource and a whole-dataframe batch, with result
    format ``COMPLETE`` so every offending row index comes back. When the suite's label (from
    ``meta["dataaudit"]["label"]``) is absent from ``frame``, its expectations are dropped: new
    data for inference need not carry a label.

    Parameters
    ----------
    frame : DataFrame
        Table to validate; its index gives the row numbers reported.
    suite_dict : dict
        The suite JSON.

    Returns
    -------
    ValidationReport
        Every violated expectation with column, expectation type, observed value and rows.

    Raises
    ------
    InputError
        If ``suite_dict`` is not a valid suite.
    """
    import logging

    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    if not isinstance(suite_dict, dict) or "expectations" not in suite_dict:
        raise InputError("Not an expectation suite: a dict with an 'expectations' list is needed.")
    meta = (suite_dict.get("meta") or {}).get("dataaudit") or {}
    label = meta.get("label")
    if label and label not in frame.columns:
        suite_dict = _suite_without(suite_dict, label)
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    except Exception:  # older/newer GX without this knob: the bars only go to stderr
        pass
    try:
        suite = ExpectationSuite(
            name=suite_dict.get("name") or "dataaudit",
            expectations=suite_dict["expectations"],
            meta=suite_dict.get("meta") or {},
        )
    except Exception as exc:
        raise InputError(f"Not a valid Great Expectations suite: {exc}") from exc
    # Only the columns the suite talks about can be checked value by value; a missing one is a
    # table-level violation (the ordered-list expectation), so drop per-column expectations on it.
    present = set(map(str, frame.columns))
    for exp in list(suite.expectations):
        column = getattr(exp, "column", None)
        if column is not None and column not in present:
            suite.expectations.remove(exp)
    source = context.data_sources.add_pandas("dataaudit")
    asset = source.add_dataframe_asset("frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("all_rows")
    # GX compares dtypes with ``in [numpy dtypes]``; pandas' string dtype matches none of them, so
    # string columns are handed over as object columns (GX then checks each value's Python type).
    families = {c: f for c, f in (meta.get("families") or {}).items() if c in present and f in FAMILIES}
    frame, type_violations = normalize(frame, families)
    string_columns = [c for c in frame.columns if isinstance(frame[c].dtype, pd.StringDtype)]
    if string_columns:
        frame = frame.astype(dict.fromkeys(string_columns, object))
    # Values that are not of their column's family are reported above, by row; the range and set
    # checks see them as missing (the not-null check still counts real gaps only).
    fitting = {v.column for v in type_violations if not v.rows}
    for exp in list(suite.expectations):
        if getattr(exp, "column", None) in fitting:
            suite.expectations.remove(exp)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    results = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    violations: list[Violation] = list(type_violations)
    unfit = {(v.column, r) for v in type_violations for r in v.rows}
    for res in results.results:
        if res.success:
            continue
        config = res.expectation_config
        if config is None:
            continue
        kwargs = dict(config.kwargs)
        column = kwargs.get("column")
        result = res.result or {}
        rows = result.get("unexpected_index_list") or []
        rows = tuple(int(r) for r in rows if isinstance(r, int | np.integer))
        count = int(result.get("unexpected_count") or len(rows))
        observed = result.get("observed_value")
        if observed is None and result.get("partial_unexpected_list"):
            observed = result["partial_unexpected_list"][:5]
        if config.type == "expect_column_values_to_not_be_null" and unfit:
            # A value that did not fit its family became missing; it is reported once, as a type error.
            rows = tuple(r for r in rows if (column, r) not in unfit)
            count = len(rows)
            if not rows:
                continue
        message = _describe(config.type, column, observed, count, kwargs)
        if not rows and not count and config.type != "expect_table_columns_to_match_ordered_list" and observed is None:
            # GX raised inside the expectation (e.g. a range check on a text column).
            message = f"column {column!r}: {config.type} could not be evaluated (wrong column type?)"
        violations.append(Violation(config.type, column, observed, rows, count, message))
    return ValidationReport(n_rows=len(frame), n_expectations=len(suite.expectations), violations=violations)
