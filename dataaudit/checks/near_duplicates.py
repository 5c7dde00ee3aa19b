"""Near duplicates: rows that are one record up to tiny numeric differences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._near_search import (
    Grid,
    block_codes,
    blocked_pairs,
    grid_cells,
    grid_step,
    typical_distance,
)
from dataaudit.checks._neighbours import (
    MAX_LISTED,
    feature_copy_groups,
    identity_columns,
    later_members,
)
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code
from dataaudit.grouping import (
    DEFAULT_RELATIVE_THRESHOLD,
    DEFAULT_SAMPLE_SIZE,
    _components,
    _diameter,
    pair_distances,
)

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Roles compared by value (equal or not) rather than by distance.
VALUE_ROLES = ("categorical", "boolean", "text", "datetime", "constant")


@register
class NearDuplicatesCheck(Check):
    """Near duplicates: rows that agree on every category, text and recorded value, and differ by float noise.

    Two rows are near copies when (1) they agree on every categorical, boolean, text and datetime
    value and are missing in the same numeric columns (missing never equals a number); (2) in
    every discrete numeric column (at least 90% of values on a decimal grid: integers, cents...)
    their values are equal unless one is off the grid; and (3) their remaining numeric differences,
    in standard deviations, have a norm at most ``relative_threshold`` (default 0.02) times the
    typical distance from a row to its nearest such neighbour, capped at ``sqrt(d)`` for ``d``
    compared numeric columns. Groups are connected components of the links. Exact copies (equal in
    every column but label and ID) are the ``duplicates`` check's business: each copy group takes
    part through its first row. ``match_categories=False`` lets near copies differ in non-numeric
    columns, ``match_discrete=False`` compares discrete columns by distance, ``ignore_columns``
    leaves columns out.
    """

    name = "near_duplicates"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("near_duplicate", title="Near duplicates", section="duplicates", row_level=True,
             action="Check whether these are the same item recorded twice; keep each group in one split "
                    "(group split) so the test score is not inflated."),
    )
    order = 20

    def __init__(
        self,
        relative_threshold: float = DEFAULT_RELATIVE_THRESHOLD,
        method: Literal["auto", "exact", "lsh"] = "auto",
        sample_size: int = DEFAULT_SAMPLE_SIZE,
        match_categories: bool = True,
        match_discrete: bool = True,
        ignore_columns: Sequence[str] = (),
    ) -> None:
        if not 0.0 < relative_threshold <= 1.0:
            raise ValueError(f"relative_threshold must be in (0, 1], got {relative_threshold!r}")
        if method not in ("auto", "exact", "lsh"):
            raise ValueError(f"method must be 'auto', 'exact' or 'lsh', got {method!r}")
        if sample_size < 2:
            raise ValueError(f"sample_size must be at least 2, got {sample_size!r}")
        if isinstance(ignore_columns, str) or not all(isinstance(c, str) for c in ignore_columns):
            raise ValueError(f"ignore_columns must be a list of column names, got {ignore_columns!r}")
        self.relative_threshold = relative_threshold
        self.method = method
        self.sample_size = sample_size
        self.match_categories = bool(match_categories)
        self.match_discrete = bool(match_discrete)
        self.ignore_columns = tuple(ignore_columns)

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        n = dataset.n_rows
        unknown = [c for c in self.ignore_columns if c not in dataset.columns]
        if unknown:
            raise ConfigError(
                f"near_duplicates.ignore_columns names {unknown}, which are not in the table; its "
                f"columns are {dataset.columns}."
            )
        identity = identity_columns(dataset)
        compared = [c for c in identity if c not in self.ignore_columns]
        numeric = [c for c in compared if dataset.roles.get(c) == "numeric"]
        value_columns = [c for c in compared if c not in numeric and dataset.roles.get(c) in VALUE_ROLES]
        key_columns = value_columns if self.match_categories else []
        if not numeric:
            return self.skip(
                "no numeric columns to compare: rows that agree on every other value are exact "
                "copies (the duplicates check)"
            )

        # Numeric values (shared matrix, inf as NaN), standardized on their non-missing values.
        positions = [dataset.numeric_columns.index(c) for c in numeric]
        values = dataset.numeric_matrix
        if positions != list(range(values.shape[1])):
            values = values[:, positions]
        missing = np.isnan(values)
        present = np.maximum((~missing).sum(axis=0), 1)
        Z = np.where(missing, 0.0, values)
        mean = Z.sum(axis=0) / present
        Z -= mean
        Z[missing] = 0.0  # missing cells are 0: they only ever meet missing cells (same pattern)
        std = np.sqrt(np.einsum("ij,ij->j", Z, Z) / present)
        std[~(std > 0)] = 1.0  # a constant column keeps scale 1
        Z /= std

        steps: list[Grid | None] = [
            grid_step(values[:, k], seed=context.seed) if self.match_discrete else None
            for k in range(len(numeric))
        ]
        discrete = np.array([s is not None for s in steps], dtype=bool)
        grid_index, off = grid_cells(values, steps)
        off_row: np.ndarray = np.asarray(off.any(axis=1), dtype=bool)

        # Blocks: rows that must agree exactly (values, missing pattern); fine blocks add the
        # discrete values for rows that are on every grid.
        key_frame = dataset.frame[key_columns].reset_index(drop=True)
        missing_frame = pd.DataFrame(missing[:, missing.any(axis=0)])
        keys = block_codes(pd.concat([key_frame, missing_frame], axis=1, ignore_index=True))
        fine = block_codes(pd.concat([pd.Series(keys), pd.DataFrame(grid_index)], axis=1,
                                     ignore_index=True))

        copy_groups = feature_copy_groups(dataset, context, identity)
        copies = later_members(copy_groups)
        kept_mask = np.ones(n, dtype=bool)
        kept_mask[copies] = False
        kept = np.flatnonzero(kept_mask)
        clean = kept[~off_row[kept]]
        continuous = Z[:, ~discrete] if discrete.any() else Z

        # The chance scale: the typical distance from a row to its nearest natural neighbour of
        # the same values and recorded discrete values (inf when most rows have none), capped at
        # every compared column one standard deviation apart. Rows on every grid differ only in
        # continuous columns; a row off a grid may differ in every numeric column.
        typical = typical_distance(continuous, fine, clean, sample_size=self.sample_size, seed=context.seed)
        scale_on = min(typical, float(np.sqrt(max(continuous.shape[1], 1))))
        scale = min(typical, float(np.sqrt(len(numeric))))
        threshold_on = self.relative_threshold * scale_on
        threshold = self.relative_threshold * scale
        method = self.method if self.method != "auto" else ("exact" if len(kept) <= 20_000 else "lsh")

        # Candidates: clean rows within their fine block (continuous columns), and rows off a
        # grid against every row of their block (all numeric columns).
        left_a, right_a = blocked_pairs(continuous, fine, threshold_on, rows=clean, method=method,
                                        seed=context.seed)
        left_b, right_b = blocked_pairs(Z, keys, threshold, rows=kept, queries=off_row, method=method,
                                        seed=context.seed)
        n_candidates = len(left_a) + len(left_b)
        on_a = self._verify(Z, missing, grid_index, off, keys, left_a, right_a,
                            threshold_on)
        on_b = self._verify(Z, missing, grid_index, off, keys, left_b, right_b,
                            threshold)
        left, right, distance = (np.r_[on_a[k], on_b[k]] for k in range(3))
        left, right, distance = _nearest_for_off_grid(left, right, distance, off_row)

        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, left, distance)
        np.minimum.at(nearest, right, distance)
        groups = _components(n, left, right)
        group_max: list[float] = []
        if groups:
            link_max = np.zeros(n)
            np.maximum.at(link_max, left, distance)
            np.maximum.at(link_max, right, distance)
            group_max = [_diameter(Z, g, float(link_max[g].max())) for g in groups]

        # Score: distance to the nearest near copy over the row's scale; 1.0 where none was
        # found; 0.0 for rows with an exact copy.
        row_scale = np.where(off_row, scale, scale_on)
        scores = np.minimum(1.0, nearest / row_scale)
        for group in copy_groups:
            scores[group] = 0.0
        plan: dict[str, Any] = {
            "compared_numeric": numeric,
            "discrete": {c: g.step for c, g in zip(numeric, steps, strict=True) if g is not None},
            "matched_exactly": key_columns,
            "ignored": [c for c in identity if c in self.ignore_columns]
                       + ([] if self.match_categories else value_columns),
        }
        decision = {
            "threshold": threshold_on,
            "typical_nn_distance": _finite(typical),
            "off_grid_threshold": threshold,
            "relative_threshold": self.relative_threshold,
            "method": method,
        }
        stats = {
            "n_groups": len(groups),
            "n_rows": int(sum(len(g) - 1 for g in groups)),
            **decision,
            "n_candidates": int(n_candidates),
            "n_numeric_compared": len(numeric),
            "n_continuous": int((~discrete).sum()),
            "n_discrete": int(discrete.sum()),
            "n_rows_off_grid": int(off_row.sum()),
            "n_exact_copies_skipped": int(len(copies)),
        }
        if not groups:
            return self.result([], stats=stats, row_scores={"near_duplicate": scores})
        rows = later_members(groups)
        parts = []
        if continuous.shape[1]:
            parts.append(f"continuous differences within {threshold_on:.3g} standard deviations "
                         f"({self.relative_threshold:g} x {_scale_text(typical, scale_on)})")
        if off_row.any():
            parts.append(f"values off a discrete column's grid within {threshold:.3g} "
                         f"({self.relative_threshold:g} x {_scale_text(typical, scale)})")
        finding = self.finding(
            "near_duplicate", "warning",
            f"{len(rows)} {'row is a near copy' if len(rows) == 1 else 'rows are near copies'} of "
            f"earlier rows ({len(groups)} {'group' if len(groups) == 1 else 'groups'}): same "
            f"categories, text, missing values and recorded discrete values; "
            + "; ".join(parts) + ".",
            rows=tuple(rows.tolist()),
            details={
                "groups": groups,
                "group_max_distance": [round(d, 6) for d in group_max],
                "examples": self._examples(groups[:3], numeric, values),
                **decision,
                "columns": plan,
                "action": "Look at a few groups: near copies (re-saved, recomputed or jittered "
                          "rows) over-weight some examples and leak between splits. Keep one row "
                          "per group, or keep groups together when splitting.",
            },
        )
        return self.result([finding], stats=stats, row_scores={"near_duplicate": scores})

    @staticmethod
    def _verify(Z: np.ndarray, missing: np.ndarray, grid_index: np.ndarray, off: np.ndarray,
                keys: np.ndarray, left: np.ndarray, right: np.ndarray,
                threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keep the candidate pairs that satisfy the whole rule, with their distances."""
        if len(left):
            codes = np.unique(left * np.int64(len(Z)) + right)
            left, right = codes // len(Z), codes % len(Z)
        ok = keys[left] == keys[right]
        ok &= (missing[left] == missing[right]).all(axis=1)
        if grid_index.shape[1]:
            # Discrete columns: the same recorded value, unless one of the two is off the grid.
            a, b = grid_index[left], grid_index[right]
            same = (a == b) | (np.isnan(a) & np.isnan(b)) | off[left] | off[right]
            ok &= same.all(axis=1)
        left, right = left[ok], right[ok]
        distance = pair_distances(Z, left, right)
        within = distance <= threshold
        left, right, distance = left[within], right[within], distance[within]
        return left, right, distance

    @staticmethod
    def _examples(groups: list[list[int]], numeric: list[str], values: np.ndarray) -> list[dict[str, Any]]:
        """For a few groups: the numeric columns whose values differ, first two members."""
        examples = []
        for group in groups:
            a, b = group[0], group[1]
            differ = [k for k in range(len(numeric)) if not (values[a, k] == values[b, k]
                      or (np.isnan(values[a, k]) and np.isnan(values[b, k])))]
            examples.append({
                "rows": [a, b],
                "differences": {numeric[k]: [float(values[a, k]), float(values[b, k])]
                                for k in differ[:MAX_LISTED // 100]},
            })
        return examples


def _finite(value: float) -> float | None:
    """JSON has no infinity: None stands for "no natural neighbour"."""
    return float(value) if np.isfinite(value) else None


def _scale_text(typical: float, scale: float) -> str:
    if np.isfinite(typical) and typical <= scale:
        return f"the typical nearest-neighbour distance {scale:.3g}"
    return f"{scale:.3g}, every column one standard deviation apart: few rows have a natural neighbour"


def _nearest_for_off_grid(left: np.ndarray, right: np.ndarray, distance: np.ndarray,
                          off_row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep every link between rows on their grids; a row off a grid keeps only its nearest link.

    A value off a discrete column's grid may sit between two recorded values (35.6 between a
    count of 35 and one of 36); linking it to both would merge two different records.
    """
    involved = off_row[left] | off_row[right]
    if not involved.any():
        return left, right, distance
    keep = ~involved
    rows = np.r_[left, right]
    partners = np.r_[right, left]
    pair = np.r_[np.arange(len(left)), np.arange(len(left))]
    mine = off_row[rows]
    rows, partners, pair, dist = rows[mine], partners[mine], pair[mine], np.r_[distance, distance][mine]
    # Sorted by (row, distance, partner): the first entry of each row is its nearest link.
    order = np.lexsort((partners, dist, rows))
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    keep[pair[first]] = True
    return left[keep], right[keep], distance[keep]
