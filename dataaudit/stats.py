"""Statistics shared by the checks and the report (one implementation each; imports nothing above numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["pairwise_correlation", "pairwise_correlation_with_counts"]


def pairwise_correlation(matrix: np.ndarray, min_rows: int = 3) -> np.ndarray:
    """Pearson correlation of the columns of ``matrix``, each pair on the rows where both are present.

    Constant columns and pairs with fewer than ``min_rows`` shared rows get NaN.
    """
    return pairwise_correlation_with_counts(matrix, min_rows)[0]


def pairwise_correlation_with_counts(matrix: np.ndarray, min_rows: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``pairwise_correlation`` and, per pair, the number of rows where both columns are present.

    Pairwise-complete sums come from a few matrix products over the observed-cell mask, so NaN
    costs no per-pair loop. Columns are centred first (on their own means) to avoid cancellation.
    A coefficient needs at least 3 shared rows to mean anything (two points are always on a line).
    """
    min_rows = max(int(min_rows), 3)
    observed = np.isfinite(matrix)
    mask = observed.astype(np.float64)
    count = observed.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # near-1e308 values give inf/NaN
        centred = np.where(observed, matrix - np.nansum(matrix, axis=0) / np.maximum(count, 1), 0.0)
        n = mask.T @ mask  # rows shared by each pair
        sums = centred.T @ mask  # [j, k]: sum of column j over the rows where k is present
        squares = (centred**2).T @ mask
        cross = centred.T @ centred
        covariance = cross - sums * sums.T / n
        variance_j = squares - sums**2 / n
        corr = covariance / np.sqrt(variance_j * variance_j.T)
    corr[(n < min_rows) | ~np.isfinite(corr)] = np.nan
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0), np.rint(n).astype(np.int64)
