"""Outlier rows: rows far from the bulk of the data, by an isolation forest and robust z-scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import MAD_TO_STD, json_value, numeric_matrix, sample_index
from dataaudit.findings import CheckResult, Code, PerRow

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Rows listed with their evidence in details.per_row (all flagged rows are in ``rows``).
_MAX_PER_ROW = 200
# Rows used to estimate the bulk of the anomaly-score distribution for the flagging rule.
_BULK_SAMPLE = 100_000


@register
class Outliers(Check):
    """Outliers: rows far from the bulk, by an isolation forest and tail-robust z-scores.

    Two scores, no fixed contamination share:

    * multivariate: an IsolationForest fitted on a row sample of the standardized feature matrix
      gives every row an anomaly score a in (0, 1]; a row is flagged when a lies ``forest_z``
      upper-tail standard deviations above the median row's score (and above ``min_anomaly``),
      the upper-tail deviation being (99th percentile - median) / 2.326 of the scores;
    * univariate: each numeric column with enough distinct values is centred on its median and
      scaled per side by its 1st/99th percentile (so a skewed column's long tail is not mistaken
      for outliers); a row is flagged when its most extreme |z| has a Bonferroni-adjusted
      Gaussian tail probability (over rows x columns) below ``alpha``.

    ``row_scores["outlier"]`` is ``min(1 - a, p_adjusted)`` (lower = more outlying).

    Parameters
    ----------
    forest_z : float
        How far beyond the bulk of the anomaly scores, in upper-tail standard deviations, a row
        must lie to be flagged by the forest.
    min_anomaly : float
        Absolute floor on the anomaly score of a flagged row (0.5 = as isolated as a random row).
    n_estimators : int
        Trees in the forest on small tables. Above ``full_forest_rows`` rows the forest shrinks
        in proportion (to at least ``min_estimators``) so scoring every row stays fast.
    fit_rows : int
        The forest is fitted on at most this many randomly chosen rows.
    full_forest_rows : int
        Tables up to this many rows are scored with all ``n_estimators`` trees.
    min_estimators : int
        Fewest trees used on large tables.
    alpha : float
        Family-wise false-flag rate of the univariate rule on Gaussian data.
    """

    name = "outliers"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("outlier", title="Outliers", section="outliers", row_level=True,
             action="Look at the most extreme rows: fix entry errors, keep genuine extremes; consider "
                    "robust scaling or clipping."),
    )
    order = 50

    def __init__(self, forest_z: float = 4.0, min_anomaly: float = 0.55, n_estimators: int = 100,
                 fit_rows: int = 100_000, full_forest_rows: int = 200_000, min_estimators: int = 25,
                 alpha: float = 0.05) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        self.alpha = alpha
        self.forest_z = forest_z
        self.min_anomaly = min_anomaly
        self.n_estimators = n_estimators
        self.fit_rows = fit_rows
        self.full_forest_rows = full_forest_rows
        self.min_estimators = min_estimators

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        from sklearn.ensemble import IsolationForest

        numeric_matrix(dataset)  # builds the shared matrix that feature_matrix standardizes
        features, names = dataset.feature_matrix
        n_rows = dataset.n_rows
        if features.shape[1] == 0:
            return self.skip("no numeric or categorical feature columns")
        if n_rows < 10:
            return self.skip("fewer than 10 rows", n_rows=n_rows)
        n_trees = self.n_estimators
        if n_rows > self.full_forest_rows:
            n_trees = max(self.min_estimators, int(self.n_estimators * self.full_forest_rows / n_rows))
        fit_index = sample_index(n_rows, self.fit_rows, context.seed)
        fit_on = features if fit_index is None else features[fit_index]
        forest = IsolationForest(n_estimators=n_trees, max_samples=min(256, len(fit_on)),
                                 random_state=context.seed)
        forest.fit(fit_on)
        anomaly = -forest.score_samples(features)  # in (0, 1]; about 0.5 for ordinary rows
        bulk_index = sample_index(n_rows, _BULK_SAMPLE, context.seed + 1)
        bulk = anomaly if bulk_index is None else anomaly[bulk_index]
        median = float(np.median(bulk))
        # The scores' upper tail is longer than Gaussian and longer still on skewed data, so the
        # spread is measured on that tail rather than by the MAD of the whole distribution.
        spread = float(np.percentile(bulk, 99) - median) / _TailZ._Z99
        threshold = max(median + self.forest_z * spread, self.min_anomaly)
        tails = _TailZ.fit(numeric_matrix(dataset), dataset.numeric_columns, context.seed)
        z_max, p_adjusted = tails.row_extremes(numeric_matrix(dataset))
        flagged = np.flatnonzero((anomaly >= threshold) | (p_adjusted < self.alpha))
        score = np.clip(np.minimum(1.0 - anomaly, p_adjusted), 0.0, 1.0)
        flagged = flagged[np.lexsort((-anomaly[flagged], score[flagged]))]
        stats: dict[str, Any] = {
            "n_trees": n_trees, "fit_rows": int(len(fit_on)), "fit_sampled": fit_index is not None,
            "bulk_median": median, "bulk_spread": spread, "threshold": threshold, "n_flagged": int(len(flagged)),
            "n_features": int(features.shape[1]), "z_columns": tails.columns, "alpha": self.alpha,
            "n_flagged_forest": int((anomaly >= threshold).sum()),
            "n_flagged_z": int((p_adjusted < self.alpha).sum()),
        }
        result = self.result(stats=stats, row_scores={"outlier": score})
        if not len(flagged):
            return result
        per_row = self._evidence(dataset, tails, flagged[:_MAX_PER_ROW], score, anomaly, z_max)
        return result.with_findings(self.finding(
            "outlier", "warning" if len(flagged) / n_rows <= 0.05 else "info",
            f"{len(flagged)} rows lie far from the bulk of the data (anomaly score >= {threshold:.3f}; "
            f"median row {median:.3f}). Worst: row {int(flagged[0])}"
            + (f" ({', '.join(per_row[0]['extreme_columns_text'])})." if per_row[0]["extreme_columns_text"] else "."),
            rows=[int(r) for r in flagged],
            columns=list(dict.fromkeys(c["column"] for r in per_row for c in r["extreme_columns"]))[:20],
            evidence=PerRow.of({k: v for k, v in r.items() if k != "extreme_columns_text"} for r in per_row),
            details={"threshold": threshold, "n_flagged": int(len(flagged)),
                     "action": "look at these rows: fix entry or unit errors, drop impossible rows, or keep "
                     "genuine extremes and use robust scaling / clipping"},
        ))

    @staticmethod
    def _evidence(dataset: Dataset, tails: _TailZ, rows: np.ndarray, score: np.ndarray,
                  anomaly: np.ndarray, z_max: np.ndarray) -> list[dict[str, Any]]:
        """For each row: its scores and the (at most 3) numeric columns where it is most extreme."""
        z = tails.z(numeric_matrix(dataset)[rows]) if len(tails.columns) else np.empty((len(rows), 0))
        per_row: list[dict[str, Any]] = []
        for i, row in enumerate(rows):
            extreme: list[dict[str, Any]] = []
            for j in np.argsort(-np.abs(z[i]))[:3] if z.shape[1] else []:
                if abs(z[i, j]) < 3:
                    break
                column = tails.columns[j]
                extreme.append({"column": column, "value": json_value(dataset.frame[column].iat[int(row)]),
                                "z": float(z[i, j])})
            per_row.append({
                "row": int(row), "score": float(score[row]), "anomaly": float(anomaly[row]),
                "max_abs_z": float(z_max[row]), "extreme_columns": extreme,
                "extreme_columns_text": [f"{e['column']}={e['value']} (z={e['z']:+.1f})" for e in extreme],
            })
        return per_row


class _TailZ:
    """Per-column z-scores centred on the median and scaled separately on each side of it."""

    # z of the 99th percentile of a standard normal: makes the scales standard deviations.
    _Z99 = 2.3263478740408408
    _CHUNK = 100_000

    def __init__(self, columns: list[str], index: np.ndarray, median: np.ndarray, low_scale: np.ndarray,
                 high_scale: np.ndarray) -> None:
        self.columns = columns
        self.index = index
        self.median = median
        self.low_scale = low_scale
        self.high_scale = high_scale

    @classmethod
    def fit(cls, matrix: np.ndarray, names: list[str], seed: int, min_distinct: int = 10) -> _TailZ:
        sample_rows = sample_index(len(matrix), _BULK_SAMPLE, seed)
        sample = matrix if sample_rows is None else matrix[sample_rows]
        keep: list[int] = []
        medians, lows, highs = [], [], []
        for j in range(matrix.shape[1]):
            values = sample[:, j]
            values = values[np.isfinite(values)]
            # Flags and small counts have no tail to speak of; the forest covers them.
            if len(values) < 10 or len(np.unique(values[:10_000])) < min_distinct:
                continue
            q01, q50, q99 = np.percentile(values, [1, 50, 99])
            low, high = (q50 - q01) / cls._Z99, (q99 - q50) / cls._Z99
            if low <= 0 or high <= 0:
                fallback = float(np.median(np.abs(values - q50))) * MAD_TO_STD or float(np.std(values))
                low, high = (low if low > 0 else fallback), (high if high > 0 else fallback)
            # A column that is one value almost everywhere (plus tiny noise) has percentiles that
            # nearly coincide; a floor at a tenth of its std keeps z-scores on a human scale.
            floor = 0.1 * float(np.std(values))
            low, high = max(low, floor), max(high, floor)
            if low <= 0 or high <= 0:
                continue
            keep.append(j)
            medians.append(q50)
            lows.append(low)
            highs.append(high)
        return cls([names[j] for j in keep], np.asarray(keep, dtype=np.int64), np.asarray(medians),
                   np.asarray(lows), np.asarray(highs))

    def z(self, rows: np.ndarray) -> np.ndarray:
        """Signed z-scores of the kept columns of ``rows`` (NaN cells give 0)."""
        block = rows[:, self.index] - self.median
        z = np.where(block >= 0, block / self.high_scale, block / self.low_scale)
        return np.nan_to_num(z, nan=0.0)

    def row_extremes(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the largest |z| and its Bonferroni-adjusted two-sided Gaussian tail probability."""
        from scipy.special import log_ndtr

        n_rows = len(matrix)
        z_max = np.zeros(n_rows)
        if len(self.columns):
            for start in range(0, n_rows, self._CHUNK):
                z_max[start:start + self._CHUNK] = np.abs(self.z(matrix[start:start + self._CHUNK])).max(axis=1)
        n_tests = max(n_rows * len(self.columns), 1)
        # In log space: the tail of z = 40 underflows a float64 otherwise.
        log_p = np.log(2.0 * n_tests) + log_ndtr(-z_max)
        return z_max, np.exp(np.minimum(log_p, 0.0))
