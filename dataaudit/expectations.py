"""The one adapter to Great Expectations: build a suite from a table, validate new data against it.

``great_expectations`` is imported inside the functions (it takes seconds to import), so importing
this module is cheap. The suite is plain GX 1.x ExpectationSuite JSON, written directly in the
shape ``ExpectationSuite.to_json_dict()`` has, so that building it (during inspect and
fit-transform) does not pay the seconds and hundreds of MB of importing GX; a test checks that GX
parses every suite back into the identical dict, and :func:`validate` runs it with GX itself.

What a suite built by :func:`build_suite` expects (statistics from the given, training, table):

- the columns and their order (``expect_table_columns_to_match_ordered_list``);
- each column's dtype family (``expect_column_values_to_be_in_type_list``);
- non-null share: ``expect_column_values_to_not_be_null`` with ``mostly`` = observed non-null
  share minus ``null_slack`` (1.0 for columns that had no nulls);
- numeric ranges: ``expect_column_values_to_be_between`` with the observed min/max widened by
  ``range_tolerance`` × (max − min) and ``mostly=range_mostly`` (0.99): the odd new extreme of a
  sparse column passes, a unit change or a shifted column (many values outside) does not;
- category sets for categorical/boolean columns and a classification label
  (``expect_column_values_to_be_in_set``; features with ``mostly=category_mostly`` so a few unseen
  categories are tolerated — the encoder counts them — while a flood is flagged).

Statistics are computed on all rows with vectorized pandas (min/max/null share are O(n)); only
the category sets of very large tables are taken from a seeded sample of ``sample_rows`` rows
plus every row's membership check at validation time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import InputError

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = ["build_suite", "validate", "ValidationReport", "Violation", "NUMERIC_TYPES"]


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


@dataclass(frozen=True)
class Violation:
    """One violated expectation.

    ``rows`` are the offending row positions (0-based data rows of the validated table); empty for
    table- or column-level expectations (columns, types) that no single row violates.
    """

    expectation: str
    column: str | None
    observed: Any
    rows: tuple[int, ...] = ()
    unexpected_count: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        from dataaudit.findings import to_jsonable

        return {
            "expectation": self.expectation,
            "column": self.column,
            "observed": to_jsonable(self.observed),
            "rows": list(self.rows),
            "unexpected_count": int(self.unexpected_count),
            "message": self.message,
        }


@dataclass
class ValidationReport:
    """Every violated expectation of one validation run."""

    n_rows: int
    n_expectations: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.violations

    @property
    def bad_rows(self) -> np.ndarray:
        """Sorted unique row positions that violate at least one row-level expectation."""
        rows = [r for v in self.violations for r in v.rows]
        return np.unique(np.asarray(rows, dtype=np.int64))

    @property
    def table_level(self) -> list[Violation]:
        """Violations that no row can be blamed for (missing columns, wrong column types)."""
        return [v for v in self.violations if not v.rows]

    def lines(self) -> list[str]:
        """One human-readable line per violation."""
        return [v.message for v in self.violations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "n_rows": self.n_rows,
            "n_expectations": self.n_expectations,
            "violations": [v.to_dict() for v in self.violations],
        }


def _type_list(values: pd.Series) -> list[str]:
    if pd.api.types.is_bool_dtype(values):
        return BOOL_TYPES
    if pd.api.types.is_numeric_dtype(values):
        return NUMERIC_TYPES
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATETIME_TYPES
    return TEXT_TYPES


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


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
    for column in columns:
        values = frame[column] if rows is None else frame[column].iloc[positions]
        role = roles.get(column, "numeric")
        expectations.append(
            _expectation("expect_column_values_to_be_in_type_list", column=column, type_list=_type_list(values))
        )
        null_share = float(values.isna().mean()) if n else 0.0
        if null_share < 1.0:
            mostly = 1.0 if null_share == 0 else max(0.0, round(1.0 - null_share - null_slack, 6))
            if mostly > 0:
                expectations.append(_expectation("expect_column_values_to_not_be_null", column=column, mostly=mostly))
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and role in ("numeric", "id") and null_share < 1.0:
            as_float = values.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = as_float[np.isfinite(as_float)]
            if finite.size:
                low, high = float(finite.min()), float(finite.max())
                pad = range_tolerance * (high - low) if high > low else range_tolerance * max(abs(low), 1.0)
                expectations.append(_expectation("expect_column_values_to_be_between", column=column,
                                                 min_value=low - pad, max_value=high + pad,
                                                 mostly=range_mostly))
        is_class_label = column == label and (not numeric or values.nunique() <= 50)
        if role in ("categorical", "boolean") or is_class_label:
            uniques = pd.unique(frame[column].iloc[sample_positions].dropna())
            if 0 < len(uniques) <= MAX_SET_SIZE:
                value_set = sorted((_plain(v) for v in uniques), key=lambda v: (str(type(v)), v))
                # A label is never allowed to take a value it never took at fit time.
                mostly_set = 1.0 if column == label else category_mostly
                expectations.append(_expectation("expect_column_values_to_be_in_set", column=column,
                                                 value_set=value_set, mostly=mostly_set))
    return {
        "name": name,
        "id": None,
        "expectations": expectations,
        "meta": {"dataaudit": {"label": label, "roles": roles, "n_rows": n},
                 "great_expectations_version": _gx_version()},
        "notes": None,
    }


def _expectation(kind: str, **kwargs: Any) -> dict[str, Any]:
    """One expectation as GX 1.x serializes it (``mostly=1.0`` is GX's default and left out)."""
    if kwargs.get("mostly") == 1.0:
        del kwargs["mostly"]
    return {"type": kind, "kwargs": kwargs, "meta": {}, "severity": "critical"}


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
        raise InputError(f"Not a valid Great Expectations suite: {exc}") from None
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
    string_columns = [c for c in frame.columns if isinstance(frame[c].dtype, pd.StringDtype)]
    if string_columns:
        frame = frame.astype(dict.fromkeys(string_columns, object))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    results = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    violations: list[Violation] = []
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
        message = _describe(config.type, column, observed, count, kwargs)
        if not rows and not count and config.type != "expect_table_columns_to_match_ordered_list" and observed is None:
            # GX raised inside the expectation (e.g. a range check on a text column).
            message = f"column {column!r}: {config.type} could not be evaluated (wrong column type?)"
        violations.append(Violation(config.type, column, observed, rows, count, message))
    return ValidationReport(n_rows=len(frame), n_expectations=len(suite.expectations), violations=violations)
