"""Skewed numeric features: long tails that dominate squared-error losses and gradient steps.

A column is flagged when either holds:

``moment``
    Its sample skewness (third standardized moment) exceeds ``threshold`` in absolute value
    (2 by default): a tail heavy enough to dominate squared errors.
``log``
    It is positive and a log transform would make it symmetric: its robust skewness (Kelly's,
    from the deciles: ``(q90 - 2 q50 + q10) / (q90 - q10)``, in [-1, 1], 0 for a symmetric
    column, blind to a few wild values) is at least ``robust_threshold`` (0.3: the upper tail
    between median and 90th percentile at least 1.86 times as long as the lower), and on
    ``log(x)`` it shrinks to at most half of that. This is the classic log-transform case (prices,
    weights, areas) whose moment skewness is often only 1-2.

The suggested transform follows from the same definition: ``log`` where the log rule holds,
``log1p`` for another non-negative column, Yeo-Johnson otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import nan_skewness, numeric_matrix, sample_index, take_rows
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code, Finding, PerColumn

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Distinct values are counted on this many rows (enough to tell a 0/1 flag from a measurement).
_DISTINCT_SAMPLE = 10_000
# Deciles are estimated on at most this many rows, taken at even steps through the (sampled) rows.
_QUANTILE_SAMPLE = 50_000


@register
class Skewness(Check):
    """Skewed features: numeric columns with a long tail that a log or Yeo-Johnson transform fixes.

    Parameters
    ----------
    threshold : float
        Flag columns whose absolute sample skewness exceeds this.
    robust_threshold : float
        The log rule's robust (decile) skewness on the raw scale (see the module docstring).
    min_distinct : int
        Ignore columns with fewer distinct values (flags and counts are skewed by nature).
    sample_rows : int
        Skewness is computed on at most this many randomly chosen rows (seeded).
    """

    name = "skewness"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("skewed_feature", title="Skewed columns", section="columns",
             action="Log- or power-transform the column before standardizing."),
    )
    order = 90

    def __init__(self, threshold: float = 2.0, robust_threshold: float = 0.3, min_distinct: int = 10,
                 sample_rows: int = 200_000) -> None:
        if not 0.0 < robust_threshold < 1.0:
            raise ConfigError(f"skewness: robust_threshold must be in (0, 1), got {robust_threshold}.")
        self.threshold = threshold
        self.robust_threshold = robust_threshold
        self.min_distinct = min_distinct
        self.sample_rows = sample_rows

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        columns = dataset.numeric_columns
        target = self._target_finding(dataset)
        if not columns:
            return self.result([target]) if target else self.skip("no numeric columns")
        index = sample_index(dataset.n_rows, self.sample_rows, context.seed)
        matrix = take_rows(numeric_matrix(dataset), index)
        skew = nan_skewness(matrix)
        head = matrix[:_DISTINCT_SAMPLE]
        spread = matrix[:: max(1, -(-len(matrix) // _QUANTILE_SAMPLE))]  # deciles: rows spread over the file
        per_column: dict[str, dict[str, Any]] = {}
        flagged: list[str] = []
        for j, column in enumerate(columns):
            values = head[:, j]
            n_distinct = len(np.unique(values[np.isfinite(values)]))
            if n_distinct < self.min_distinct or not np.isfinite(skew[j]):
                continue
            finite = spread[:, j][np.isfinite(spread[:, j])]
            per_column[column] = skew_rules(float(skew[j]), float(np.nanmin(matrix[:, j])), finite,
                                            self.threshold, self.robust_threshold)
            if per_column[column]["rules"]:
                flagged.append(column)
        stats = {"per_column": per_column, "n_rows_used": int(matrix.shape[0]), "sampled": index is not None}
        if not flagged:
            return self.result([target] if target else [], stats=stats)
        flagged.sort(key=lambda c: (-abs(per_column[c]["skew"]), c))
        shown = ", ".join(_describe(c, per_column[c]) for c in flagged[:8])
        finding = self.finding(
            "skewed_feature", "info",
            f"{len(flagged)} numeric column(s) are strongly skewed (|skew| > {self.threshold}, or positive "
            f"with decile skew >= {self.robust_threshold} that a log transform halves): {shown}"
            f"{' ...' if len(flagged) > 8 else ''}.",
            columns=flagged,
            evidence=PerColumn({c: per_column[c] for c in flagged}),
            details={"threshold": self.threshold,
                     "robust_threshold": self.robust_threshold,
                     "action": "apply the suggested transform per column (log for positive columns the log "
                     "makes symmetric, log1p for other non-negative ones, else a Yeo-Johnson power "
                     "transform, sklearn PowerTransformer), fitted on train only"},
        )
        return self.result([finding, target] if target else [finding], stats=stats)

    def _target_finding(self, dataset: Dataset) -> Finding | None:
        """A regression target that is positive and right-skewed: model ``log(y)`` (label_issues
        judges its residuals there too). Classification labels are never looked at."""
        if dataset.label is None or getattr(dataset, "task", "classification") != "regression":
            return None
        values = pd.to_numeric(dataset.frame[dataset.label], errors="coerce").to_numpy(dtype=np.float64)
        info = log_target(values, self.threshold, self.robust_threshold)
        if info is None:
            return None
        label = dataset.label
        return self.finding(
            "skewed_feature", "info",
            f"The regression target {_describe(label, info)} is positive and right-skewed: model "
            f"log({label}) (fit on the log, exponentiate the predictions) so a squared-error loss is "
            f"not dominated by its largest values.",
            columns=(label,),
            evidence=PerColumn({label: info}),
            details={"target": True, "transform": "log", "threshold": self.threshold,
                     "robust_threshold": self.robust_threshold,
                     "action": f"train on log({label}) and report errors on the original scale"},
        )


def skew_rules(skew: float, low: float, finite: np.ndarray, threshold: float = 2.0,
               robust_threshold: float = 0.3) -> dict[str, Any]:
    """The two rules of the module docstring on one column: its moment ``skew``, its minimum ``low``
    and its finite values (the deciles' sample); ``rules`` lists the ones that hold."""
    robust = robust_skewness(finite)
    robust_log = robust_skewness(np.log(finite)) if low > 0 else None
    log_fixes = robust_log is not None and robust >= robust_threshold and abs(robust_log) <= robust / 2
    rules = [rule for rule, hit in (("moment", abs(skew) > threshold), ("log", log_fixes)) if hit]
    return {"skew": skew, "robust_skew": round(robust, 4),
            "robust_skew_of_log": None if robust_log is None else round(robust_log, 4),
            "min": low, "rules": rules,
            "transform": "log" if log_fixes else "log1p" if low >= 0 else "yeo-johnson"}


def log_target(values: np.ndarray, threshold: float = 2.0, robust_threshold: float = 0.3) -> dict[str, Any] | None:
    """The rules' verdict on a regression target (finite values) when the ``log`` rule holds (the
    target is strictly positive and right-skewed and a log makes it symmetric: the column check's
    ``transform == "log"``), so that models and residuals belong on ``log(y)``; else None. The
    ``moment`` rule alone does not count: a few wild values, the very errors label_issues looks
    for, raise it while the deciles stay symmetric, and the column check suggests log1p there."""
    finite = values[np.isfinite(values)]
    if len(finite) < 3 or float(finite.min()) <= 0 or len(np.unique(finite[:_DISTINCT_SAMPLE])) < 10:
        return None
    info = skew_rules(float(nan_skewness(finite[:, None])[0]), float(finite.min()),
                      finite[:: max(1, -(-len(finite) // _QUANTILE_SAMPLE))], threshold, robust_threshold)
    return info if "log" in info["rules"] else None


def robust_skewness(values: np.ndarray) -> float:
    """Kelly's skewness of finite values, ``(q90 - 2 q50 + q10) / (q90 - q10)``; 0 when q90 == q10."""
    q10, q50, q90 = np.quantile(values, [0.1, 0.5, 0.9])
    spread = float(q90 - q10)
    return float((q90 - 2 * q50 + q10) / spread) if spread > 0 else 0.0


def _describe(column: str, info: dict[str, Any]) -> str:
    text = f"{column!r} (skew {info['skew']:+.1f}"
    if "log" in info["rules"]:
        text += f"; decile skew {info['robust_skew']:+.2f}, {info['robust_skew_of_log']:+.2f} after log"
    return text + ")"
