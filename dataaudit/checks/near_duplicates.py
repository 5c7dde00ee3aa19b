"""Near duplicates: rows that are one record up to tiny numeric differences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._near_search import VALUE_ROLES, near_copy_links
from dataaudit.checks._neighbours import (
    MAX_LISTED,
    feature_copy_groups,
    identity_columns,
    later_members,
)
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code, Groups
from dataaudit.grouping import (
    DEFAULT_RELATIVE_THRESHOLD,
    DEFAULT_SAMPLE_SIZE,
    _components,
    _diameter,
)

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset



@register
class NearDuplicatesCheck(Check):
    """Near duplicates: rows that agree on every category, text and recorded value, and differ by float noise.

    Two rows are near copies when (1) they agree on every categorical, boolean, text and datetime
    value and are missing in the same numeric columns (missing never equals a number); (2) in
    every discrete numeric column (at least 90% of values on a decimal grid: integers, cents...)
    their values are equal unless one is off the grid; and (3) their remaining numeric differences,
    in standard deviations, have a norm at most ``relative_threshold`` (default 0.02) times the
    typical distance from a row to its nearest such neighbour, capped at ``sqrt(d)`` for ``d``
    compared numeric columns. Two rows on the same spike of a continuous column (a value at least
    1% of the rows hold, like a balance of 0) are judged on their other continuous columns, against
    the spike's own chance scale (see ``_near_search``). A row off a grid keeps its most likely
    source (distance under the estimated noise, and how many identical rows a candidate stands
    for). Groups are connected components of the links. Exact copies (equal in
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

        # Numeric values (the shared matrix, inf as NaN).
        positions = [dataset.numeric_columns.index(c) for c in numeric]
        values = dataset.numeric_matrix
        if positions != list(range(values.shape[1])):
            values = values[:, positions]
        context.progress.step("exact copy groups")
        copy_groups = feature_copy_groups(dataset, context, identity)
        copies = later_members(copy_groups)
        kept_mask = np.ones(n, dtype=bool)
        kept_mask[copies] = False
        multiplicity = np.ones(n, dtype=np.int64)
        for group in copy_groups:
            multiplicity[group[0]] = len(group)
        context.progress.step(f"nearest-neighbour search over {int(kept_mask.sum()):,} rows")
        links = near_copy_links(
            dataset.frame[key_columns], values, np.flatnonzero(kept_mask),
            relative_threshold=self.relative_threshold, method=self.method,
            sample_size=self.sample_size, match_discrete=self.match_discrete, seed=context.seed,
            multiplicity=multiplicity,
        )
        left, right, distance = links.left, links.right, links.distance
        Z, off_row, steps = links.Z, links.off_row, links.grids
        discrete = np.array([g is not None for g in steps], dtype=bool)
        typical, scale_on, scale = links.typical, links.scale_on, links.scale
        threshold_on, threshold = links.threshold_on, links.threshold
        method, n_candidates, continuous_width = links.method, links.n_candidates, links.n_continuous

        context.progress.step("grouping near copies")
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
            # Values of a continuous column held by at least 1% of the rows: rows sharing one are
            # judged on their other continuous columns (at most 10 values listed per column).
            "spikes": {numeric[k]: [float(v) for v in found[:10]] for k, found in links.spikes.items()},
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
            "n_spike_links_dropped": int(links.n_spike_links_dropped),
        }
        if not groups:
            return self.result([], stats=stats, row_scores={"near_duplicate": scores})
        rows = later_members(groups)
        parts = []
        if continuous_width:
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
            evidence=Groups.of(groups),
            details={
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
