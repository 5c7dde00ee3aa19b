"""Copies or chance? Whether rows that share every feature value are duplicate records.

With a few low-cardinality columns (sex, age in years, passenger class) distinct people share
all their values by chance, and calling them "exact copies" would be wrong, and removing them
destructive. ``copy_chance`` asks, for each group of rows equal on the identity columns, how many
rows chance alone would put on the group's values:

- each column's value is given its frequency among the *other* rows (the group counted once), so
  a value seen only inside the group gets 1 / (n - k + 1);
- the chance that another row takes the whole vector is the product of those frequencies (the
  columns taken as independent; see below);
- given one row with these values, the other n - 1 rows match it with that probability, so the
  number of further matches is Binomial(n - 1, p) and the p-value is P(X >= k - 1);
- a group is a chance collision when its p-value is at least ``alpha`` / (number of groups)
  (Bonferroni over the groups judged), else a group of duplicate records.

Independence understates how often correlated columns (petal length and width) repeat a value
pair, so some collisions of strongly correlated columns are judged copies; the product is exact
for independent columns and errs towards "copy" only there. A value seen only inside the group
gets a frequency of one in n: on a single continuous column that overstates chance and keeps
the rows (nothing is removed on weak evidence). With three or more informative columns a planted
copy is far outside chance (p-values below 1e-12 at a few thousand rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dataaudit.grouping import cell_hashes

__all__ = ["CopyChance", "RecordGroups", "copy_chance", "DEFAULT_COLLISION_ALPHA"]

# Family-wise error rate of calling a chance collision a duplicate record (split over the groups).
DEFAULT_COLLISION_ALPHA = 0.05
# Values seen at most this many times get a Good-Turing chance of repeating, above it their share.
GOOD_TURING_MAX = 3


@dataclass(frozen=True)
class CopyChance:
    """Per group of equal rows: what chance predicts and the verdict.

    Attributes
    ----------
    observed : ndarray of int
        Rows in the group.
    expected : ndarray of float
        Rows expected on the group's values given that one row has them: 1 + (n - 1) * p.
    p_value : ndarray of float
        P(at least observed - 1 further rows match by chance). For groups judged copies this is
        an upper bound: columns stop being multiplied in once every group is decided.
    by_chance : ndarray of bool
        True: a feature collision (different records); False: duplicate records.
    threshold : float
        ``alpha`` / number of groups; p-values at or above it are chance.
    alpha : float
        The family-wise error rate; 0 means every group is a group of duplicate records.
    """

    observed: np.ndarray
    expected: np.ndarray
    p_value: np.ndarray
    by_chance: np.ndarray
    threshold: float
    alpha: float


def _value_probability(count: np.ndarray, counts_of_counts: np.ndarray, n_other: np.ndarray) -> np.ndarray:
    """Chance that one more row takes a value seen ``count`` times among ``n_other + 1`` rows.

    Large counts: the empirical share. Counts up to ``GOOD_TURING_MAX``: Good-Turing's
    (r + 1) N(r+1) / (n N(r)), with half a value added to each N so that a column whose values
    never repeat (a continuous measurement) gives a repeat chance of about 1 / n**2, not 1 / n.
    """
    rows = np.asarray(n_other, dtype=np.float64) + 1.0
    share = count / rows
    small = count <= GOOD_TURING_MAX
    if small.any():
        r = count[small].astype(np.int64)
        padded = np.zeros(GOOD_TURING_MAX + 2)
        padded[: min(len(counts_of_counts), GOOD_TURING_MAX + 2)] = counts_of_counts[: GOOD_TURING_MAX + 2]
        share = share.copy()
        share[small] = (r + 1) * (padded[r + 1] + 0.5) / (rows[small] * (padded[r] + 0.5))
    return np.clip(share, 0.0, 1.0)


def copy_chance(
    frame: pd.DataFrame,
    columns: Sequence[str],
    representatives: pd.DataFrame,
    sizes: np.ndarray,
    codes: np.ndarray,
    *,
    n_rows: int | None = None,
    members_in_frame: np.ndarray | None = None,
    alpha: float = DEFAULT_COLLISION_ALPHA,
) -> CopyChance:
    """Judge each group of equal rows: duplicate records or a chance collision.

    Parameters
    ----------
    frame : DataFrame
        The table, or a uniform sample of it (then pass ``n_rows`` and ``members_in_frame``).
    columns : sequence of str
        The identity columns the groups are equal on.
    representatives : DataFrame
        One row per group (any member) with ``columns``.
    sizes : ndarray of int
        Rows per group in the whole table.
    codes : ndarray of int, shape (len(frame),)
        Group number of each row of ``frame`` (-1: in no group); the frequency-of-frequency
        statistics count each group once, so copies do not make a column look repetitive.
    n_rows : int, optional
        Rows in the whole table; default ``len(frame)``.
    members_in_frame : ndarray of int, optional
        Members of each group that are in ``frame``; default ``sizes`` (``frame`` is the table).
    alpha : float
        Family-wise error rate (see the module docstring); 0 judges every group a copy group.

    Returns
    -------
    CopyChance
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n_groups = len(sizes)
    n = int(len(frame) if n_rows is None else n_rows)
    if alpha <= 0 or n_groups == 0:
        return CopyChance(sizes, np.ones(n_groups), np.zeros(n_groups), np.zeros(n_groups, dtype=bool), 0.0, alpha)
    if len(columns) < 2:
        # With one column, sharing its value is all that "equal" means: no evidence of a copy.
        return CopyChance(sizes, sizes.astype(np.float64), np.ones(n_groups), np.ones(n_groups, dtype=bool),
                          alpha / n_groups, alpha)
    from scipy.stats import binom

    in_frame = sizes if members_in_frame is None else np.asarray(members_in_frame, dtype=np.int64)
    # Counts in a sample stand for counts in the table.
    scale = n / max(len(frame), 1)
    # One row per distinct row of frame: the rows in no group and each group's first row there.
    codes = np.asarray(codes, dtype=np.int64)
    distinct = codes < 0
    grouped = np.flatnonzero(~distinct)
    distinct[grouped[np.unique(codes[grouped], return_index=True)[1]]] = True
    threshold = alpha / n_groups
    log_p = np.zeros(n_groups)
    p_value = np.ones(n_groups)
    for column in columns:
        hashes = pd.Series(cell_hashes(frame[column]))
        counts = hashes.value_counts()
        counts_of_counts = np.bincount(hashes[distinct].value_counts().to_numpy())
        values = representatives[column]
        in_column = counts.reindex(cell_hashes(values)).fillna(0).to_numpy(dtype=np.float64)
        # Under chance the group's own rows count towards its values' frequencies; a value no
        # other row has is counted once (its frequency cannot come from the group itself).
        others = np.maximum(in_column - in_frame, 0.0) * scale
        count = np.where(others > 0, others + sizes, 1.0)
        probability = _value_probability(count, counts_of_counts, np.full(n_groups, n - 1))
        # A missing value says nothing about which record a row is: it does not count as evidence.
        probability[values.isna().to_numpy()] = 1.0
        log_p += np.log(np.maximum(probability, 1e-300))
        p_value = binom.sf(sizes - 2, max(n - 1, 1), np.exp(log_p))
        # More columns only lower p: a group already below the threshold stays a copy group.
        if not (p_value >= threshold).any():
            break
    p = np.exp(log_p)
    return CopyChance(
        observed=sizes,
        expected=1.0 + (n - 1) * p,
        p_value=p_value,
        by_chance=p_value >= threshold,
        threshold=float(threshold),
        alpha=float(alpha),
    )


@dataclass(frozen=True)
class RecordGroups:
    """Groups of rows equal on the identity columns, each judged copies or chance.

    Attributes
    ----------
    codes : ndarray of int64, shape (n_rows,)
        Feature-group number per row (``grouping.exact_group_codes``); -1 for a row equal to no other.
    first : ndarray of int64
        First row of each feature group.
    chance : CopyChance
        The verdict per feature group.

    Group codes handed out by the methods are the group's first row, so ``groups_from_codes``
    lists groups in first-member order.
    """

    codes: np.ndarray
    first: np.ndarray
    chance: CopyChance

    @classmethod
    def judge(cls, frame: pd.DataFrame, columns: Sequence[str], codes: np.ndarray,
              alpha: float = DEFAULT_COLLISION_ALPHA) -> RecordGroups:
        """Judge the feature groups ``codes`` (dense, ordered by first member) of ``frame``."""
        grouped = np.flatnonzero(codes >= 0)
        n_groups = int(codes.max()) + 1 if len(grouped) else 0
        first = np.full(n_groups, -1, dtype=np.int64)
        # rows ascending: the first assignment per group is its first row
        first_index = np.unique(codes[grouped], return_index=True)[1]
        first[:] = grouped[first_index]
        sizes = np.bincount(codes[grouped], minlength=n_groups)
        representatives = frame[list(columns)].iloc[first]
        return cls(codes, first, copy_chance(frame, columns, representatives, sizes, codes, alpha=alpha))

    @classmethod
    def judge_hashes(cls, hashes: np.ndarray, sample: pd.DataFrame, columns: Sequence[str],
                     alpha: float = DEFAULT_COLLISION_ALPHA) -> RecordGroups:
        """Judge the groups of equal ``hashes`` (one per row of a file read in chunks) on a sample.

        ``sample`` is a uniform sample of the file's rows indexed by row number; the column
        frequencies come from it (exactly the file when the sample holds every row). A group with
        no member in the sample cannot be looked at and is judged a copy group, as before chance
        was considered.
        """
        codes = pd.factorize(hashes)[0].astype(np.int64)  # numbered in order of first appearance
        sizes = np.bincount(codes) if len(codes) else np.zeros(0, dtype=np.int64)
        codes[sizes[codes] == 1] = -1
        grouped = np.flatnonzero(codes >= 0)
        first_index = np.unique(codes[grouped], return_index=True)[1] if len(grouped) else np.zeros(0, np.int64)
        codes[grouped] = np.unique(codes[grouped], return_inverse=True)[1]
        n_groups = len(first_index)
        first = grouped[first_index]
        sizes = np.bincount(codes[grouped], minlength=n_groups)
        sample_codes = codes[sample.index.to_numpy()]
        in_sample = np.bincount(sample_codes[sample_codes >= 0], minlength=n_groups)
        present = np.flatnonzero(in_sample > 0)
        positions = np.flatnonzero(sample_codes >= 0)
        first_in_sample = positions[np.unique(sample_codes[positions], return_index=True)[1]]
        seen = copy_chance(sample, columns, sample[list(columns)].iloc[first_in_sample], sizes[present],
                           sample_codes, n_rows=len(hashes), members_in_frame=in_sample[present], alpha=alpha)
        by_chance = np.zeros(n_groups, dtype=bool)
        by_chance[present] = seen.by_chance
        expected = np.ones(n_groups)
        expected[present] = seen.expected
        p_value = np.zeros(n_groups)
        p_value[present] = seen.p_value
        chance = CopyChance(sizes, expected, p_value, by_chance, seen.threshold, seen.alpha)
        return cls(codes, first, chance)

    def _codes_where(self, keep_group: np.ndarray) -> np.ndarray:
        out = np.full(len(self.codes), -1, dtype=np.int64)
        rows = np.flatnonzero(self.codes >= 0)
        rows = rows[keep_group[self.codes[rows]]]
        out[rows] = self.first[self.codes[rows]]
        return out

    def record_codes(self) -> np.ndarray:
        """Per row: the first row of its group of duplicate records, or -1."""
        return self._codes_where(~self.chance.by_chance)

    def collision_codes(self) -> np.ndarray:
        """Per row: the first row of its chance-collision group, or -1."""
        return self._codes_where(self.chance.by_chance)

    def split_by_label(self, label_codes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(exact, conflicting) codes per row over the duplicate-record groups.

        Exact: records with the same label too (a missing label, code -1, equals another missing
        label). Conflicting: whole record groups holding more than one non-missing label.
        Without a label every record group is exact and none conflicts.
        """
        records = self.record_codes()
        none = np.full(len(records), -1, dtype=np.int64)
        if label_codes is None:
            return records, none
        rows = np.flatnonzero(records >= 0)
        if not len(rows):
            return none, none.copy()
        group, label = records[rows], np.asarray(label_codes, dtype=np.int64)[rows]
        key = group * (int(label.max()) + 2) + (label + 1)  # < n_rows**2: fits in int64
        _, key_first, key_inverse = np.unique(key, return_index=True, return_inverse=True)
        key_size = np.bincount(key_inverse)
        exact = none.copy()
        in_exact = key_size[key_inverse] > 1
        exact[rows[in_exact]] = rows[key_first[key_inverse[in_exact]]]
        valid = label >= 0
        n_labels = pd.Series(label[valid]).groupby(group[valid]).nunique()
        conflicted = n_labels.index.to_numpy()[n_labels.to_numpy() > 1]
        conflicting = none.copy()
        in_conflict = np.isin(group, conflicted)
        conflicting[rows[in_conflict]] = group[in_conflict]
        return exact, conflicting

    def max_p_value(self, codes: np.ndarray) -> float:
        """The weakest evidence (largest p-value) among the feature groups holding rows of ``codes``."""
        rows = np.flatnonzero(codes >= 0)
        if not len(rows):
            return 0.0
        return float(f"{float(self.chance.p_value[self.codes[rows]].max()):.4g}")
