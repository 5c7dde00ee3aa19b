"""Per-column profile of a Dataset for the report: missing share, distinct count, statistics,
a histogram or the top values, and the alerts (findings) that name the column.

Built for speed on wide and long tables: numeric columns are read as zero-copy float views and
binned with NumPy; distinct counts of long columns are estimated on a fixed random sample.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.records import Finding, severity_rank

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = ["profile_dataset", "profile_column", "histogram", "DISTINCT_SAMPLE"]

# Above this many rows, distinct counts are estimated on a sample of this size.
DISTINCT_SAMPLE = 200_000
HISTOGRAM_BINS = 24
TOP_VALUES = 5


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS,
              value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """Counts of the finite ``values`` in equal bins over ``value_range`` (default min..max).

    Whole-number columns spanning at most ``2 * bins`` values get one bin per integer, so that
    counts such as pixel intensities 0..16 do not alternate between full and empty bins.
    """
    finite = values[np.isfinite(values)]
    if value_range is None:
        if finite.size == 0:
            return {"counts": [], "lo": None, "hi": None}
        lo, hi = float(finite.min()), float(finite.max())
    else:
        lo, hi = value_range
    if hi <= lo:
        # A single value: one bin holding everything (np.histogram needs a non-empty range).
        return {"counts": [int(finite.size)], "lo": lo, "hi": hi}
    edges: Any = bins
    edge_range: tuple[float, float] | None = (lo, hi)
    span = hi - lo
    if float(lo).is_integer() and float(hi).is_integer() and span <= 2 * bins:
        head = finite[:10_000]
        if np.all(head == np.round(head)):
            edges = int(span) + 1
            edge_range = (lo - 0.5, hi + 0.5)
    counts, _ = np.histogram(finite, bins=edges, range=edge_range)
    return {"counts": [int(c) for c in counts], "lo": lo, "hi": hi}


def _distinct(values: pd.Series, rng: np.random.Generator) -> tuple[int, bool]:
    """(distinct count, approximate?): exact up to DISTINCT_SAMPLE rows, else from a sample."""
    n = len(values)
    if n <= DISTINCT_SAMPLE:
        return int(values.nunique(dropna=True)), False
    index = np.sort(rng.choice(n, size=DISTINCT_SAMPLE, replace=False))
    sample = values.iloc[index]
    n_sample = int(sample.notna().sum())
    seen = int(sample.nunique(dropna=True))
    if n_sample and seen > 0.95 * n_sample:
        # Nearly every sampled value is new: the column is close to unique; scale up.
        non_null = int(values.notna().sum())
        return int(round(non_null * seen / n_sample)), True
    if seen <= 1000:
        # Few values: hashing them over the full column is cheap and exact.
        return int(values.nunique(dropna=True)), False
    return seen, True


def _date_text(stamp: Any) -> str:
    """A timestamp as text, without the time of day when it is midnight."""
    stamp = pd.Timestamp(stamp)
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def _epoch_ns(stamps: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC for time-zone-aware stamps) as float64, without warnings.

    NumPy has no time zones: casting tz-aware values to datetime64 warns once per call (and a
    tz-aware object column warns per value), so aware stamps are converted to naive UTC first.
    """
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(stamps):
        stamps = pd.to_datetime(stamps, utc=True, errors="coerce").dt.tz_localize(None).dropna()
    return stamps.astype("datetime64[ns]").to_numpy().astype(np.int64).astype(np.float64)


def _top_values(values: pd.Series, top_k: int = TOP_VALUES) -> tuple[list[dict[str, Any]], int]:
    counts = values.value_counts(dropna=True)
    n_present = int(counts.sum())
    top: list[dict[str, Any]] = [
        {"value": str(value), "count": int(count), "share": float(count) / n_present if n_present else 0.0}
        for value, count in counts.iloc[:top_k].items()
    ]
    # "+ N other" counts the distinct values not shown, not the rows holding them.
    return top, max(len(counts) - len(top), 0)


def _numeric_stats(values: np.ndarray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {}
    return {
        "min": float(finite.min()),
        "max": float(finite.max()),
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "zeros_share": float(np.count_nonzero(finite == 0)) / finite.size,
    }


def profile_column(values: pd.Series, role: str, rng: np.random.Generator,
                   numeric: np.ndarray | None = None) -> dict[str, Any]:
    """Profile one column. ``numeric`` is its float64 values when already computed (NaN = missing)."""
    n = len(values)
    n_missing = int(values.isna().sum())
    n_distinct, approx = _distinct(values, rng)
    column: dict[str, Any] = {
        "role": role,
        "dtype": str(values.dtype),
        "n_missing": n_missing,
        "missing_share": n_missing / n if n else 0.0,
        "n_distinct": n_distinct,
        "distinct_approx": approx,
        "kind": "empty" if n_missing == n else "categorical",
        "stats": {},
        "histogram": None,
        "top": [],
        "other_count": 0,
    }
    if n_missing == n:
        return column
    is_numeric = (
        pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    )
    if numeric is not None or (is_numeric and role not in ("categorical", "boolean")):
        if numeric is None:
            numeric = values.to_numpy(dtype=np.float64, na_value=np.nan)
        column["kind"] = "numeric"
        column["stats"] = _numeric_stats(numeric)
        column["histogram"] = histogram(numeric)
    elif pd.api.types.is_datetime64_any_dtype(values) or role == "datetime":
        present = values.dropna()
        if not pd.api.types.is_datetime64_any_dtype(present):
            # Dates stored as text: parse a bounded sample (parsing is slow on long columns).
            if len(present) > 50_000:
                present = present.iloc[np.sort(rng.choice(len(present), 50_000, replace=False))]
            present = pd.to_datetime(present, errors="coerce", format="mixed", utc=True).dropna()
            if present.empty:
                column["top"], column["other_count"] = _top_values(values)
                return column
        if getattr(present.dt, "tz", None) is not None:  # compare instants in UTC, without the zone
            present = present.dt.tz_convert("UTC").dt.tz_localize(None)
        column["kind"] = "datetime"
        column["stats"] = {"min": _date_text(present.min()), "max": _date_text(present.max())}
        column["histogram"] = histogram(_epoch_ns(present))
        # The axis ends as dates (the statistics keep the time of day).
        column["histogram"]["lo"] = str(pd.Timestamp(present.min()).date())
        column["histogram"]["hi"] = str(pd.Timestamp(present.max()).date())
    else:
        column["top"], column["other_count"] = _top_values(values)
        if role == "text":
            sample = values.dropna().astype(str).iloc[:5000]
            column["stats"] = {"mean_length": float(sample.str.len().mean()) if len(sample) else 0.0}
    return column


def _alerts_by_column(findings: Iterable[Finding]) -> dict[str, list[dict[str, Any]]]:
    alerts: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        for name in finding.columns:
            alerts.setdefault(name, []).append(
                {"code": finding.code, "severity": finding.severity, "message": finding.message}
            )
    for found in alerts.values():
        found.sort(key=lambda a: severity_rank(a["severity"]))
    return alerts


def profile_dataset(dataset: Dataset, findings: Iterable[Finding] = (), *, seed: int = 0) -> dict[str, Any]:
    """Profile every column of ``dataset`` for the report.

    Parameters
    ----------
    dataset : Dataset
        The table.
    findings : iterable of Finding
        Attached to the columns they name, as that column's alerts.
    seed : int
        Seed of the sample used to estimate distinct counts on long columns.

    Returns
    -------
    dict
        ``n_rows``, ``n_columns``, ``memory_bytes``, ``roles`` (role -> count) and ``columns``: one
        dict per column in file order with ``name``, ``role``, ``dtype``, ``n_missing``,
        ``missing_share``, ``n_distinct`` (``distinct_approx`` when estimated), ``kind``
        (numeric / categorical / datetime / empty), ``stats`` (min, max, mean, std ...),
        ``histogram`` ({counts, lo, hi}) or ``top`` values, and ``alerts``.

    Examples
    --------
    >>> import pandas as pd
    >>> from dataaudit.dataset import Dataset
    >>> profile = profile_dataset(Dataset.from_frame(pd.DataFrame({"a": [1.0, 2.0, None]})))
    >>> profile["columns"][0]["n_missing"]
    1
    """
    rng = np.random.default_rng(seed)
    frame = dataset.frame
    alerts = _alerts_by_column(findings)
    columns = []
    for index, name in enumerate(dataset.columns):
        role = dataset.roles.get(name, "categorical")
        column = profile_column(frame[name], role, rng)
        column["name"] = name
        column["index"] = index
        column["alerts"] = alerts.get(name, [])
        columns.append(column)
    roles: dict[str, int] = {}
    for column in columns:
        roles[column["role"]] = roles.get(column["role"], 0) + 1
    return {
        "n_rows": int(dataset.n_rows),
        "n_columns": int(frame.shape[1]),
        "memory_bytes": int(frame.memory_usage(deep=True, index=False).sum()),
        "roles": roles,
        "columns": columns,
    }
