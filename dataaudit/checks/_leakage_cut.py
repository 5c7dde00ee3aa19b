"""Exact cuts: a numeric column whose sorted values split the classes into clean intervals.

A label defined as a threshold of a feature (``low = bwt < 2500``) is a leak that the held-out
halves of ``label_leakage`` can under-rate on a small table: each half learns a slightly different
cut from ~100 rows and misplaces the few rows between them. In-sample, on every labelled row, the
rule is plain: sort the rows by the column and each class occupies one interval, with no value
shared across a boundary. By chance that happens with vanishing probability once every class has
a few dozen rows (two classes of 20 rows each: 2 of the C(40, 20) ~ 1.4e11 orders), so the rule asks
for ``min_rows`` rows per class and a column with no missing value on those rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["exact_cut", "describe_cut"]


def exact_cut(values: np.ndarray, target: np.ndarray, k: int, min_rows: int) -> dict[str, Any] | None:
    """The cut points and classes in order when each class is one interval of ``values``; else None.

    ``target`` holds class codes 0 .. k-1. Every row counts: a missing value, a class with fewer
    than ``min_rows`` rows, or one value shared by two classes means no exact cut.
    """
    if k < 2 or len(values) != len(target) or not len(values) or np.isnan(values).any():
        return None
    counts = np.bincount(target, minlength=k)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < min_rows:
        return None
    order = np.argsort(values, kind="stable")
    ordered, labels = values[order], target[order]
    boundaries = np.flatnonzero(labels[1:] != labels[:-1])
    # One change of class per boundary, k - 1 of them: each class is a single run.
    if len(boundaries) != len(present) - 1 or np.any(ordered[boundaries] == ordered[boundaries + 1]):
        return None
    below, above = ordered[boundaries], ordered[boundaries + 1]
    return {
        "cuts": [_round_cut(float(lo), float(hi)) for lo, hi in zip(below, above, strict=True)],
        "classes": [int(c) for c in labels[np.r_[0, boundaries + 1]]],
        "n_rows": int(len(values)),
    }


def _round_cut(lo: float, hi: float) -> float:
    """The roundest number c with lo < c <= hi (so "x < c" holds below and "x >= c" above)."""
    if not math.isfinite(hi - lo) or hi - lo <= 0:
        return hi
    for power in range(int(math.floor(math.log10(hi - lo))) + 1, -13, -1):
        step = 10.0 ** power
        cut = (math.floor(lo / step) + 1) * step
        cut = round(cut, -power) if power < 0 else cut
        if lo < cut <= hi:
            return float(cut)
    return hi


def describe_cut(column: str, cut: dict[str, Any], label: str, classes: list[Any], role: str | None,
                 sampled: bool = False) -> str:
    """``low is bwt < 2500 on all 189 rows``, or the classes per interval for other labels."""
    points = [_format_value(c, role) for c in cut["cuts"]]
    names = [classes[c] for c in cut["classes"]]
    rows = f"on all {cut['n_rows']:,} {'sampled ' if sampled else ''}rows"
    if len(names) == 2 and {str(n) for n in names} in ({"0", "1"}, {"False", "True"}):
        side = "<" if str(names[0]) in ("1", "True") else ">="
        return f"{label} is {column} {side} {points[0]} {rows}"
    parts = [f"{names[0]!r} where {column} < {points[0]}"]
    parts += [f"{name!r} where {lo} <= {column} < {hi}" for name, lo, hi in zip(names[1:-1], points, points[1:],
                                                                             strict=False)]
    parts.append(f"{names[-1]!r} where {column} >= {points[-1]}")
    return f"{label} is {', '.join(parts)} {rows}"


def _format_value(value: float, role: str | None) -> str:
    if role == "datetime":
        return str(pd.Timestamp(int(value)))
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.12g}"
