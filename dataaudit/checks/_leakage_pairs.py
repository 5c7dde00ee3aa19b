"""Helpers of ``label_leakage``'s "a within b" pairs: grouping columns and within-group percentiles.

A label computed per group (a within-year quartile of a score) is determined neither by the
score (the cut-offs move from group to group) nor by the group, but by the score's rank within
its group. These helpers find the grouping columns worth ranking within and compute the ranks;
``label_leakage`` scores the result like any other cells (see its module docstring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["grouping_codes", "grouping_partners", "percentile_cells", "within_group_percentile"]

# Grouping partners for "a within b" pairs: 2 .. _MAX_LEVELS values, on average at least
# _MIN_GROUP_ROWS sampled rows per value (a percentile needs rows to rank among).
_MAX_LEVELS = 64
_MIN_GROUP_ROWS = 20
# Within-group percentiles are cut into this many equal bins (divisible by 2, 3, 4, 5, 6, 10
# and 12: the usual quantile labels fall on bin edges).
_PERCENTILE_BINS = 60


def within_group_percentile(values: np.ndarray, groups: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Percentile rank in (0, 1] of each value among the rows of its group; NaN stays NaN.

    Ties share their average rank, so row order never breaks a tie (a file sorted by the
    label must not make equal values look predictive). ``groups`` are small non-negative codes;
    ``order`` may pass ``np.argsort(values, kind="stable")`` when several groupings rank the
    same values (the groups are then sorted in linear time).
    """
    out = np.full(len(values), np.nan)
    if order is None:
        order = np.argsort(values, kind="stable")
    order = order[np.isfinite(values[order])]
    if not len(order):
        return out
    narrow = groups[order].astype(np.int16 if groups.max(initial=0) < 2**15 else np.int64)
    order = order[np.argsort(narrow, kind="stable")]  # by group, by value within it
    vs, gs = values[order], groups[order]
    m = len(order)
    new_group = np.r_[True, gs[1:] != gs[:-1]]
    new_run = new_group | np.r_[True, vs[1:] != vs[:-1]]
    starts = np.flatnonzero(new_group)
    group_start = starts[np.cumsum(new_group) - 1]
    group_size = (np.r_[starts[1:], m] - starts)[np.cumsum(new_group) - 1]
    runs = np.flatnonzero(new_run)
    run_index = np.cumsum(new_run) - 1
    run_start, run_end = runs[run_index], np.r_[runs[1:], m][run_index] - 1
    rank = (run_start + run_end) / 2.0 - group_start + 1.0
    out[order] = rank / group_size
    return out


def percentile_cells(percentile: np.ndarray) -> np.ndarray:
    """Bin of each percentile (``_PERCENTILE_BINS`` equal bins), missing as a bin of its own."""
    cells = np.full(len(percentile), _PERCENTILE_BINS, dtype=np.int64)
    known = np.isfinite(percentile)
    cells[known] = np.clip(np.ceil(percentile[known] * _PERCENTILE_BINS) - 1, 0, _PERCENTILE_BINS - 1)
    return cells


def grouping_codes(values: np.ndarray) -> np.ndarray | None:
    """Codes of a column that can group the sampled rows for "a within b" pairs, else None.

    Eligible: 2 .. ``_MAX_LEVELS`` values (missing is one) with at least ``_MIN_GROUP_ROWS``
    sampled rows per value on average.
    """
    if len(np.unique(values[: 4 * _MAX_LEVELS])) > _MAX_LEVELS:
        return None  # a measurement, not a grouping (checked on a few rows first: cheap)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    n_levels = len(uniques) + int((codes < 0).any())
    if not 2 <= n_levels <= min(_MAX_LEVELS, len(values) // _MIN_GROUP_ROWS):
        return None
    codes = codes.astype(np.int64)
    codes[codes < 0] = len(uniques)
    return codes


def grouping_partners(groupings: dict[str, np.ndarray], target: np.ndarray, k: int,
                       limit: int) -> dict[str, np.ndarray]:
    """Up to ``limit`` of the grouping columns: those whose values say least about the label first.

    A label computed per group (a within-year quartile) is spread alike over every group, so its
    group column carries no information of its own (in-sample uncertainty coefficient for
    classes, the between-group share of variance for a regression target).
    """
    ranked = sorted(groupings, key=lambda c: (_in_sample_association(groupings[c], target, k), c))
    return {column: groupings[column] for column in ranked[:limit]}


def _in_sample_association(codes: np.ndarray, target: np.ndarray, k: int) -> float:
    """How much a grouping says about the label on the rows themselves (0: nothing)."""
    size = np.bincount(codes)
    if not k:
        means = np.bincount(codes, weights=target) / np.maximum(size, 1)
        total = float(((target - target.mean()) ** 2).sum())
        return float((size * (means - target.mean()) ** 2).sum() / total) if total > 0 else 0.0
    table = np.bincount(codes * k + target, minlength=len(size) * k).reshape(len(size), k).astype(np.float64)
    joint = table / table.sum()
    label_share = joint.sum(axis=0)
    group_share = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = np.where(joint > 0, joint * np.log(joint / group_share), 0.0).sum()
    entropy = float(-(label_share[label_share > 0] * np.log(label_share[label_share > 0])).sum())
    return float(1.0 + conditional / entropy) if entropy > 0 else 0.0
