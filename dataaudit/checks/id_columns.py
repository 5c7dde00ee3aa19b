"""ID and entity columns: a key per row (a model memorizes it), or a key per entity (rows to keep together).

Two questions about key-like columns:

- **ID columns** (``id_column``): a unique value per row: row numbers, shuffled numberings, long keys
  such as tweet or account numbers, unique strings. The rule is ``dataaudit.dataset.integer_id_evidence``
  for numbers (strings: unique short values); a model memorizes such a column and generalizes nothing.
- **Entity (group) columns** (``group_column``): values that repeat, with the other attributes of an
  entity (a patient's sex and age, a country's region) constant within each value far more often
  than chance would make them. Such rows belong to one patient, subject or customer: folds and
  splits must keep them together (``--group COL``), or test scores measure memorized entities.
  The evidence, per candidate column: for each other column, the share of the candidate's repeated
  values within which it is constant, against the share expected if rows were grouped at random
  (``sum_v p_v^k`` for a group of ``k`` rows and value frequencies ``p_v``). A column constant in at
  least ``attached_share`` of the groups where chance predicts at most ``chance_share`` is attached;
  ``min_attached`` attached columns make the evidence strong, and the finding suggests ``--group``.
  Detection only reports: a group is applied only when named (``--group``, pipeline ``group``).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import fmt_share, json_value
from dataaudit.findings import CheckResult, Code, Finding, PerColumn

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Bounds that keep the group search linear: candidates tested, groups and attribute columns sampled.
_MAX_CANDIDATES = 5
_MAX_GROUPS = 2000
_MAX_ROWS = 50_000
_MAX_ATTRIBUTES = 1000
# Fewer groups with two or more judged rows than this say nothing about an attribute.
_MIN_JUDGED_GROUPS = 20
# Names that say "one entity": a column named so counts as one piece of evidence.
_ENTITY_NAME = re.compile(r"(^|[^a-z])(id|subject|patient|participant|person|customer|user|client|member|"
                          r"household|respondent|individual|student|animal|family)s?([^a-z]|$)|id$")


@register
class IdColumns(Check):
    """ID and entity columns: unique per row (never a feature) or repeating per patient/subject (--group).

    Parameters
    ----------
    attached_share : float
        An attribute is attached to a candidate entity column when it is constant within at least
        this share of the candidate's repeated values ...
    chance_share : float
        ... where grouping rows at random would make it constant in at most this share.
    min_attached : int
        Attached attributes needed to call a column an entity column (and suggest ``--group``).
    """

    name = "id_columns"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("id_column", title="ID columns", section="columns",
             action="Keep it as a row identifier but drop it from the features: a model can memorize IDs."),
        Code("group_column", title="Entity (group) columns", section="columns",
             action="Pass --group COL (pipeline: group) so folds and the train/val/test split keep each "
                    "entity's rows together; the column is then never a feature."),
    )
    order = 71

    def __init__(self, attached_share: float = 0.9, chance_share: float = 0.5, min_attached: int = 2) -> None:
        if not 0 < chance_share < attached_share <= 1:
            raise ValueError(f"need 0 < chance_share < attached_share <= 1, got {chance_share}, {attached_share}")
        self.attached_share = attached_share
        self.chance_share = chance_share
        self.min_attached = int(min_attached)

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        findings: list[Finding] = []
        per_column = self._id_columns(dataset)
        stats: dict[str, Any] = {"declared_id": dataset.id_column, "declared_group": dataset.group,
                                 "n_id_columns": len(per_column)}
        if dataset.group is not None:
            stats["group"] = _group_sizes(dataset.frame[dataset.group])
            stats["group"]["label_constant_share"] = _label_constancy(dataset, dataset.group)
        else:
            evidence = self.group_evidence(dataset, seed=context.seed)
            stats["group_candidates"] = {c: {k: v for k, v in e.items() if k != "attributes"}
                                         for c, e in evidence.items()}
            entity = {c: e for c, e in evidence.items() if e["evidence"] >= self.min_attached}
            named_only = {c: e for c, e in evidence.items() if e["evidence"] == 1 and e["named_like_entity"]}
            if entity:
                findings.append(self._group_finding(dataset, entity))
            elif named_only:
                findings.append(self._group_finding(dataset, named_only, strong=False))
        # An entity key is reported once, as such, not also as a row identifier.
        grouped = {c for f in findings for c in f.columns}
        per_column = {c: v for c, v in per_column.items() if c not in grouped}
        if per_column:
            findings.insert(0, self._id_finding(per_column))
        return self.result(findings, stats=stats)

    # ---- ID columns ----------------------------------------------------------------------------
    @staticmethod
    def _id_columns(dataset: Dataset) -> dict[str, dict[str, Any]]:
        from dataaudit.dataset import integer_id_evidence

        per_column: dict[str, dict[str, Any]] = {}
        for column in dataset.columns_with_role("id"):
            if column in (dataset.id_column, dataset.group):
                continue  # declared with --id or --group: the user already knows
            values = dataset.frame[column]
            numeric = pd.api.types.is_numeric_dtype(values)
            n_distinct = int(values.nunique(dropna=True))
            reason = integer_id_evidence(values, column) if numeric else None
            per_column[column] = {
                "n_distinct": n_distinct,
                "unique_share": float(n_distinct / max(len(values), 1)),
                "monotonic": bool(numeric and (values.is_monotonic_increasing or values.is_monotonic_decreasing)),
                "dtype": str(values.dtype),
                "why": reason or "a distinct short string in every row (a key, not text)",
                "examples": [json_value(v) for v in values.head(3).tolist()],
            }
        return per_column

    def _id_finding(self, per_column: dict[str, dict[str, Any]]) -> Finding:
        names = list(per_column)
        described = "; ".join(f"{n!r}: {per_column[n]['why']}" for n in names[:4])
        return self.finding(
            "id_column", "warning",
            f"{len(names)} column(s) look like identifiers ({described}"
            f"{'; ...' if len(names) > 4 else ''}). A model can memorize them; they must not be features.",
            columns=names,
            evidence=PerColumn(per_column),
            details={"action": "drop them from the features (pass --id COL to keep one as the row key); "
                     "if rows were sorted by label before numbering, the ID also leaks the label"},
        )

    # ---- entity (group) columns ------------------------------------------------------------------
    def group_evidence(self, dataset: Dataset, seed: int = 0) -> dict[str, dict[str, Any]]:
        """For each candidate entity column: group sizes and the attributes constant within its values."""
        candidates = _group_candidates(dataset)
        rng = np.random.default_rng(seed)
        evidence: dict[str, dict[str, Any]] = {}
        cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # codes and value shares, shared by candidates
        for column in candidates:
            sizes = _group_sizes(dataset.frame[column])
            attributes = self._attributes(dataset, column, rng, cache)
            attached = [a for a, e in attributes.items()
                        if e["constant_share"] >= self.attached_share and e["chance_share"] <= self.chance_share]
            attached.sort(key=lambda a: attributes[a]["chance_share"])
            named = _named_like_entity(column)
            evidence[column] = {**sizes, "attached": attached, "named_like_entity": named,
                                "evidence": len(attached) + int(named),
                                "attributes": {a: attributes[a] for a in attached},
                                "n_attributes_judged": len(attributes)}
        return evidence

    def _attributes(self, dataset: Dataset, column: str, rng: np.random.Generator,
                    cache: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
        """Constancy of every other column within the candidate's repeated values, and by chance."""
        frame = dataset.frame
        keys = frame[column]
        counts = keys.value_counts(dropna=True)
        repeated = counts[counts.to_numpy() >= 2]
        # A seeded sample of the repeated values, at most _MAX_GROUPS of them and _MAX_ROWS rows.
        order = rng.permutation(len(repeated))
        within = np.cumsum(repeated.to_numpy()[order]) <= _MAX_ROWS
        chosen = order[: max(1, min(_MAX_GROUPS, int(within.sum())))]
        rows = np.flatnonzero(keys.isin(repeated.index[np.sort(chosen)]).to_numpy())
        missing = frame.isna().mean()
        others = [c for c in dataset.columns
                  if c not in (column, dataset.label, dataset.id_column)
                  and dataset.roles.get(c) not in ("constant", "text")
                  and missing[c] <= 0.5]
        # The most complete columns first: attributes measured once per entity are judged on them.
        others = sorted(others, key=lambda c: missing[c])[:_MAX_ATTRIBUTES]
        if not others or not len(rows):
            return {}
        group_codes, _ = pd.factorize(keys.iloc[rows])
        by_group = np.argsort(group_codes, kind="stable")
        rows = rows[by_group]
        starts = np.flatnonzero(np.r_[True, np.diff(group_codes[by_group]) != 0])
        result: dict[str, dict[str, float]] = {}
        block = max(1, 5_000_000 // len(rows))  # bounded memory: rows x block int32 codes at a time
        for first in range(0, len(others), block):
            names = others[first:first + block]
            for name in names:
                if name not in cache:
                    cache[name] = _codes_and_shares(frame[name])
            codes = np.stack([cache[name][0][rows] for name in names], axis=1)
            valid = codes >= 0
            present = np.add.reduceat(valid, starts, axis=0)
            high = np.maximum.reduceat(np.where(valid, codes, -1), starts, axis=0)
            low = np.minimum.reduceat(np.where(valid, codes, np.iinfo(np.int32).max), starts, axis=0)
            for j, name in enumerate(names):
                judged = present[:, j] >= 2
                if judged.sum() < _MIN_JUDGED_GROUPS:
                    continue
                observed = float(np.mean(high[judged, j] == low[judged, j]))
                # Chance of a constant group of k rows, sum_v p_v^k, once per distinct group size k.
                sizes_k = np.bincount(present[judged, j])
                ks = np.flatnonzero(sizes_k)
                per_k = (cache[name][1][None, :] ** ks[:, None]).sum(axis=1)
                chance = float(np.sum(per_k * sizes_k[ks]) / sizes_k.sum())
                result[name] = {"constant_share": round(observed, 4), "chance_share": round(chance, 4),
                                "n_groups_judged": int(judged.sum())}
        return result

    def _group_finding(self, dataset: Dataset, entity: dict[str, dict[str, Any]], strong: bool = True) -> Finding:
        best = max(entity, key=lambda c: (entity[c]["evidence"], entity[c]["n_groups"]))
        e = entity[best]
        shown = ", ".join(f"{a!r} ({fmt_share(e['attributes'][a]['constant_share'])} vs "
                          f"{fmt_share(e['attributes'][a]['chance_share'])} by chance)" for a in e["attached"][:3])
        more = f" and {len(e['attached']) - 3} more" if len(e["attached"]) > 3 else ""
        if shown:
            why = f"within each value {shown}{more} stay constant"
        else:
            why = "its name says it identifies an entity (no other column is judged constant within its values)"
        if e["named_like_entity"] and shown:
            why += "; its name says so too"
        label_share = _label_constancy(dataset, best)
        label_note = ""
        if label_share is not None:
            e["label_constant_share"] = label_share
            label_note = f" The label is constant within {fmt_share(label_share)} of its repeated values."
        others = [c for c in entity if c != best]
        also = f" Also entity-like: {', '.join(repr(c) for c in others)}." if others else ""
        advice = (f"pass --group {best}" if strong else
                  f"if rows of one {best!r} belong together, pass --group {best}")
        return self.finding(
            "group_column", "warning" if strong else "info",
            f"Column {best!r} looks like an entity key (patient, subject, customer): {e['n_groups']:,} values, "
            f"{e['n_rows_in_repeated']:,} rows ({fmt_share(e['share_rows_in_repeated'])}) share a value with "
            f"another row, and {why}.{label_note} Rows of one entity in both train and test make scores "
            f"optimistic: {advice}.{also}",
            columns=[best, *others],
            evidence=PerColumn(entity),
            details={"suggested_group": best,
                     "action": f"pass --group {best} (pipeline: group = \"{best}\") to inspect and fit-transform "
                               "so folds and splits keep each entity together"},
        )


def _group_candidates(dataset: Dataset) -> list[str]:
    """Key-like columns whose values repeat: named like an ID first, then the most groups."""
    frame = dataset.frame
    n = dataset.n_rows
    scored: list[tuple[int, int, str]] = []
    for column in dataset.columns:
        if column in (dataset.label, dataset.id_column) or dataset.roles.get(column) not in (
                "id", "numeric", "categorical"):
            continue
        values = frame[column]
        if pd.api.types.is_float_dtype(values):
            finite = values.dropna().to_numpy(dtype=np.float64)
            if not len(finite) or not np.all(np.isfinite(finite)) or np.any(np.mod(finite, 1) != 0):
                continue  # a measurement, not a key
        elif not (pd.api.types.is_integer_dtype(values) or pd.api.types.is_object_dtype(values)
                  or pd.api.types.is_string_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)):
            continue
        if values.isna().mean() > 0.05:
            continue
        n_groups = int(values.nunique(dropna=True))
        named = _named_like_entity(column)
        # Entities are many with few rows each (at least sqrt(n) values): not a category like a species.
        if n_groups < max(10 if named else 20, math.isqrt(n)) or n_groups > 0.95 * n:
            continue
        scored.append((0 if named else 1, -n_groups, column))
    return [c for *_, c in sorted(scored)[:_MAX_CANDIDATES]]


def _named_like_entity(name: str) -> bool:
    return bool(_ENTITY_NAME.search(name.lower()))


def _codes_and_shares(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int32 codes (-1 where missing) and the frequencies of the 1000 most common values."""
    codes, _ = pd.factorize(values)
    codes = codes.astype(np.int32)
    counts = np.bincount(codes[codes >= 0])
    shares = np.sort(counts)[::-1][:1000] / max(int(counts.sum()), 1)
    return codes, shares


def _group_sizes(values: pd.Series) -> dict[str, Any]:
    counts = values.value_counts(dropna=True).to_numpy()
    repeated = counts[counts >= 2]
    n = max(len(values), 1)
    return {"n_groups": int(len(counts)), "n_repeated_groups": int(len(repeated)),
            "n_rows_in_repeated": int(repeated.sum()), "share_rows_in_repeated": float(repeated.sum() / n),
            "max_group_size": int(counts.max()) if len(counts) else 0}


def _label_constancy(dataset: Dataset, column: str) -> float | None:
    """Share of the column's repeated values within which the label never changes."""
    if dataset.label is None:
        return None
    frame = dataset.frame[[column, dataset.label]].dropna()
    grouped = frame.groupby(column, sort=False, observed=True)[dataset.label]
    sizes = grouped.size()
    distinct = grouped.nunique()[sizes >= 2]
    return round(float(np.mean(distinct.to_numpy() <= 1)), 4) if len(distinct) else None
