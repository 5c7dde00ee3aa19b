"""Private helpers shared by the column-level and statistical checks (sampling, robust scale, JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dataaudit.io.loading import PLACEHOLDER_TOKENS

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Findings list every row up to this many; beyond it they carry a seeded sample (details say so).
MAX_LISTED_ROWS = 1000
# Normal-consistency factor: MAD * 1.4826 estimates the standard deviation of Gaussian data.
MAD_TO_STD = 1.4826


def numeric_matrix(dataset: Dataset) -> np.ndarray:
    """``dataset.numeric_matrix``, computed here when the shared property cannot be built.

    Under pandas copy-on-write ``DataFrame.to_numpy`` may return a read-only view, and the
    property's in-place ``inf -> NaN`` then raises ValueError; in that case build a writable copy
    and store it in the property's cache slot so every other check (and ``feature_matrix``)
    reuses it instead of failing.
    """
    try:
        return dataset.numeric_matrix
    except ValueError:
        columns = dataset.numeric_columns
        values = dataset.frame[columns].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        values[~np.isfinite(values)] = np.nan
        dataset.__dict__["numeric_matrix"] = values
        return values


def sample_index(n_rows: int, max_rows: int, seed: int) -> np.ndarray | None:
    """Sorted random row positions when ``n_rows > max_rows``, else None (use every row)."""
    if n_rows <= max_rows:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=max_rows, replace=False))


def take_rows(matrix: np.ndarray, index: np.ndarray | None) -> np.ndarray:
    """``matrix[index]`` or the matrix itself when ``index`` is None."""
    return matrix if index is None else matrix[index]


def listed_rows(rows: np.ndarray | list[int], seed: int, limit: int = MAX_LISTED_ROWS) -> tuple[list[int], bool]:
    """All rows when there are at most ``limit``, else a sorted seeded sample; and whether it sampled."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) <= limit:
        return [int(r) for r in rows], False
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(rows, size=limit, replace=False))
    return [int(r) for r in picked], True


def is_placeholder(value: Any) -> bool:
    """True for strings people write instead of leaving a cell empty ("?", "n/a", "missing" ...)."""
    return isinstance(value, str) and value.strip().lower() in PLACEHOLDER_TOKENS


def robust_center_scale(values: np.ndarray) -> tuple[float, float]:
    """(median, robust standard deviation) of the finite values, NaN-safe.

    The scale is MAD * 1.4826, falling back to IQR / 1.349 and then the standard deviation when
    more than half the values are equal (MAD = 0); 0.0 only for a truly constant column.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), 0.0
    median = float(np.median(finite))
    scale = float(np.median(np.abs(finite - median))) * MAD_TO_STD
    if scale == 0.0:
        q1, q3 = np.percentile(finite, [25, 75])
        scale = float(q3 - q1) / 1.349
    if scale == 0.0:
        scale = float(np.std(finite))
    return median, scale


def nan_skewness(matrix: np.ndarray) -> np.ndarray:
    """Sample skewness (Fisher-Pearson, biased) of each column, ignoring NaN; NaN where undefined."""
    # Without NaN, plain means (same sums, no masked copies); the cube as a product, not pow().
    average = np.nanmean if np.isnan(matrix).any() else np.mean
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = average(matrix, axis=0) if matrix.shape[0] else np.full(matrix.shape[1], np.nan)
        centered = matrix - mean
        squared = centered * centered
        m2 = average(squared, axis=0)
        squared *= centered
        m3 = average(squared, axis=0)
        skew = m3 / m2**1.5
    skew[~np.isfinite(skew)] = np.nan
    return skew


def json_value(value: Any) -> Any:
    """A cell value as a plain JSON value (labels and categories may be NumPy scalars)."""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def top_values(series: pd.Series, k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` most frequent non-missing values with their counts, for evidence in details."""
    counts = series.value_counts(dropna=True).head(k)
    return [{"value": json_value(v), "count": int(c)} for v, c in counts.items()]


def fmt_share(share: float) -> str:
    """A share as a short percentage for messages (0.0123 -> '1.2%')."""
    percent = 100.0 * share
    if 0 < percent < 0.1:
        return "<0.1%"
    return f"{percent:.1f}%" if percent < 99.95 or percent == 100 else ">99.9%"
