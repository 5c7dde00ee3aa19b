"""Statistics shared by the checks and the report (one implementation each; imports nothing above numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["pairwise_correlation"]


def pairwise_correlation(matrix: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``matrix``, each pair on the rows where both are present.

    Pairwise-complete sums come from a few matrix products over the observed-cell mask, so NaN
    costs no per-pair loop. Columns are centred first (on their own means) to avoid cancellation.
    Constant columns and pairs with fewer than 3 shared rows get NaN.
    """
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
    corr[(n < 3) | ~np.isfinite(corr)] = np.nan
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)
