"""One-feature decision trees for ``label_leakage``, grown from per-value statistics.

``OneFeatureTree`` makes the splits scikit-learn's ``DecisionTreeClassifier`` /
``DecisionTreeRegressor`` make on a single column with ``max_leaf_nodes`` and ``min_samples_leaf``
(best-first growth, Gini or squared error, thresholds halfway between neighbouring distinct values,
no cut between values closer than 1e-7, NaN sent to the side that scores better), without fitting
an estimator per column: each leaf is a range of the column's sorted distinct values and every
split of it is scored at once from prefix sums of per-value class counts (or sums and sums of
squares). For the label_leakage check's 80 trees on 10,000 rows that is several times less work,
and the same leaves (``tests/checks/test_label_leakage.py`` compares them with scikit-learn's).
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["OneFeatureTree"]

# scikit-learn's EPSILON: a node whose impurity is at most this is pure.
_EPSILON = float(np.finfo(np.float64).eps)


def _gini_gain(left: np.ndarray, right: np.ndarray, n_left: np.ndarray, n_right: np.ndarray) -> np.ndarray:
    """Per candidate split, the sum over both children of (squared class counts) / (child size).

    ``left`` and ``right`` hold class counts, shape (n_candidates, k). A child of n rows has
    n x Gini = n - sum(c^2) / n, so the split with the largest value leaves the least impurity.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(n_left > 0, np.einsum("ij,ij->i", left, left) / n_left, 0.0)
                + np.where(n_right > 0, np.einsum("ij,ij->i", right, right) / n_right, 0.0))


def _mse_gain(left: np.ndarray, right: np.ndarray, n_left: np.ndarray, n_right: np.ndarray) -> np.ndarray:
    """The same for squared error: ``left``/``right`` hold (count, sum, sum of squares); sum^2 / n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(n_left > 0, left[:, 1] ** 2 / n_left, 0.0)
                + np.where(n_right > 0, right[:, 1] ** 2 / n_right, 0.0))


class OneFeatureTree:
    """A best-first decision tree on one feature, grown like scikit-learn's (``max_leaf_nodes``).

    The same splits as ``DecisionTreeClassifier`` / ``DecisionTreeRegressor`` with
    ``max_leaf_nodes`` and ``min_samples_leaf`` (Gini or squared error, thresholds halfway
    between neighbouring distinct values, the leaf whose split lowers impurity most split first,
    NaN sent to the side that scores better), computed from per-value statistics with prefix
    sums instead of a tree per column: each leaf is a range of the sorted distinct values, and a
    split of it is scored at every position at once.
    """

    def __init__(self, values: np.ndarray, target: np.ndarray, k: int, max_leaves: int, min_leaf: int) -> None:
        finite = ~np.isnan(values)
        distinct, inverse = np.unique(values[finite], return_inverse=True)
        self.distinct = distinct
        # scikit-learn does not cut between values closer than 1e-7 (its FEATURE_THRESHOLD).
        self.cut_ok = np.concatenate([[False], np.diff(distinct) > 1e-7, [False]])
        if k:
            stats = np.bincount(inverse * k + target[finite].astype(np.int64),
                                minlength=len(distinct) * k).reshape(len(distinct), k).astype(np.float64)
            missing = np.bincount(target[~finite].astype(np.int64), minlength=k).astype(np.float64)
        else:
            y = target[finite].astype(np.float64)
            stats = np.column_stack([np.bincount(inverse, minlength=len(distinct)).astype(np.float64),
                                     np.bincount(inverse, weights=y, minlength=len(distinct)),
                                     np.bincount(inverse, weights=y * y, minlength=len(distinct))])
            rest = target[~finite].astype(np.float64)
            missing = np.array([len(rest), rest.sum(), (rest * rest).sum()])
        self.k, self.min_leaf = k, min_leaf
        self.prefix = np.vstack([np.zeros((1, stats.shape[1])), np.cumsum(stats, axis=0)])
        self.prefix_n = np.concatenate([[0.0], np.cumsum(np.bincount(inverse, minlength=len(distinct)))]) \
            .astype(np.float64)
        self.missing = missing
        self.n_missing = float((~finite).sum())
        self.has_missing = self.n_missing > 0
        self.cuts: list[int] = []  # split positions: values[:p] | values[p:]
        self.nan_leaf_range: tuple[int, int] | None = (0, len(distinct)) if self.has_missing else None
        self.children: dict[tuple[int, int], tuple[int, int, int]] = {}  # (lo, hi) -> (cut, n_left, n_right)
        self._grow(max_leaves)

    def _impurity_sum(self, stats: np.ndarray, n: float) -> float:
        """n x impurity of a node of ``n`` rows with these totals (the quantity a split lowers)."""
        if n <= 0:
            return 0.0
        if self.k:
            return n - float((stats * stats).sum()) / n
        return float(stats[2] - stats[1] ** 2 / n)

    def _best_split(self, lo: int, hi: int, with_nan: bool) -> tuple[float, int, bool] | None:
        """(impurity decrease, cut position, NaN goes left) of the best split of range [lo, hi)."""
        prefix, counts = self.prefix, self.prefix_n
        nan = self.missing if with_nan else np.zeros_like(self.missing)
        n_nan = self.n_missing if with_nan else 0.0
        present = prefix[hi] - prefix[lo]
        total = present + nan
        n = float(counts[hi] - counts[lo]) + n_nan
        parent = self._impurity_sum(total, n)
        if parent <= _EPSILON * max(n, 1.0):
            return None  # a pure node is a leaf (impurity at most machine epsilon, as in scikit-learn)
        gain = _gini_gain if self.k else _mse_gain
        # (first cut, left stats, right stats, left sizes, right sizes, NaN goes left)
        options: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]] = []
        if hi - lo >= 2:
            left = prefix[lo + 1:hi] - prefix[lo]
            right = present - left
            n_left = counts[lo + 1:hi] - counts[lo]
            n_right = (counts[hi] - counts[lo]) - n_left
            if with_nan and self.has_missing:
                options.append((lo + 1, left + nan, right, n_left + n_nan, n_right, True))
                options.append((lo + 1, left, right + nan, n_left, n_right + n_nan, False))
            else:
                options.append((lo + 1, left, right, n_left, n_right, False))
        if with_nan and self.has_missing and hi > lo:
            # All present values on one side, the missing ones on the other.
            options.append((hi, present[None, :], nan[None, :], np.array([float(counts[hi] - counts[lo])]),
                            np.array([n_nan]), False))
        best: tuple[float, int, bool] | None = None
        for first, left, right, n_left, n_right, nan_left in options:
            allowed = (n_left >= self.min_leaf) & (n_right >= self.min_leaf)
            if first < hi:
                allowed &= self.cut_ok[first:first + len(allowed)]
            if not allowed.any():
                continue
            score = np.where(allowed, gain(left, right, n_left, n_right), -np.inf)
            at = int(np.argmax(score))
            children = (n - float(score[at])) if self.k else (float(total[2]) - float(score[at]))
            decrease = parent - children
            # Any valid split of an impure node is made (scikit-learn's min_impurity_decrease=0),
            # the best-first order puts those that gain nothing last.
            if best is None or decrease > best[0]:
                best = (decrease, first + at, nan_left)
        return best

    def _grow(self, max_leaves: int) -> None:
        heap: list[tuple[float, int, int, int, int, bool]] = []
        order = 0

        def push(lo: int, hi: int) -> None:
            nonlocal order
            with_nan = self.nan_leaf_range == (lo, hi)
            split = self._best_split(lo, hi, with_nan)
            if split is not None:
                heapq.heappush(heap, (-split[0], order, lo, hi, split[1], split[2]))
                order += 1

        push(0, len(self.distinct))
        leaves = 1
        while heap and leaves < max_leaves:
            _, _, lo, hi, cut, nan_left = heapq.heappop(heap)
            with_nan = self.nan_leaf_range == (lo, hi)
            n_left = float(self.prefix_n[cut] - self.prefix_n[lo])
            n_right = float(self.prefix_n[hi] - self.prefix_n[cut])
            if with_nan:
                self.nan_leaf_range = (lo, cut) if nan_left else (cut, hi)
                n_left, n_right = ((n_left + self.n_missing, n_right) if nan_left
                                   else (n_left, n_right + self.n_missing))
            self.children[(lo, hi)] = (cut, int(n_left), int(n_right))
            if cut < hi:
                self.cuts.append(cut)
            leaves += 1
            push(lo, cut)
            push(cut, hi)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Leaf number of each value: leaves in value order, then one more for a missing-only leaf."""
        cuts = sorted(self.cuts)
        thresholds = (self.distinct[np.array(cuts, dtype=np.int64) - 1] + self.distinct[np.array(cuts, dtype=np.int64)]) / 2 \
            if cuts else np.zeros(0)
        # x <= threshold goes left, as in scikit-learn.
        leaf = np.searchsorted(thresholds, values, side="left").astype(np.int64)
        missing = np.isnan(values)
        if missing.any():
            leaf[missing] = self._missing_leaf(cuts)
        return leaf

    def _missing_leaf(self, cuts: list[int]) -> int:
        if self.nan_leaf_range is not None:
            lo, hi = self.nan_leaf_range
            if lo == hi or lo >= len(self.distinct):
                return len(cuts) + 1  # the leaf of the missing values alone
            return int(np.searchsorted(np.array(cuts, dtype=np.int64), lo, side="right"))
        # No missing value while learning: scikit-learn sends it to the larger child at each split.
        lo, hi = 0, len(self.distinct)
        while (lo, hi) in self.children:
            cut, n_left, n_right = self.children[(lo, hi)]
            lo, hi = (lo, cut) if n_left >= n_right else (cut, hi)
        return int(np.searchsorted(np.array(cuts, dtype=np.int64), lo, side="right"))
