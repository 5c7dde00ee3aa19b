"""Statistics shared by the checks and the report (one implementation each; imports nothing above numpy)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np

__all__ = ["pairwise_correlation", "pairwise_correlation_with_counts"]


def _blas_threads(limit: int | None) -> AbstractContextManager[object]:
    """At most ``limit`` BLAS threads inside the block (None, or no threadpoolctl: unchanged)."""
    if limit is None:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, keep the defaults
        return nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


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
    complete = bool(observed.all())
    # These products are thin (rows x a few dozen columns): one BLAS thread does them in
    # milliseconds, while several threads on a busy machine wait on each other for seconds.
    with _blas_threads(1 if matrix.shape[1] <= 256 else None), \
            np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # near-1e308 values give inf/NaN
        if complete:
            # No missing cell: every pair shares every row, so one product gives the covariance.
            centred = matrix - matrix.mean(axis=0)
            rows = float(matrix.shape[0])
            n = np.full((matrix.shape[1], matrix.shape[1]), rows)
            totals = centred.sum(axis=0)
            sums = np.broadcast_to(totals[:, None], n.shape)
            squares = np.broadcast_to((centred * centred).sum(axis=0)[:, None], n.shape)
        else:
            mask = observed.astype(np.float64)
            count = observed.sum(axis=0)
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
