"""Label leakage: a single feature column that alone (nearly) determines the label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = ["LabelLeakage", "LeakageScores", "balanced_accuracy", "column_leakage_scores"]

# Roles whose columns are scored; ID, constant and free-text columns are not features to test.
_NUMERIC_ROLES = ("numeric", "datetime")
_CATEGORICAL_ROLES = ("categorical", "boolean")


def balanced_accuracy(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Mean per-class recall over the classes present in ``truth`` (codes 0 .. n_classes - 1)."""
    support = np.bincount(truth, minlength=n_classes)
    hits = np.bincount(truth[truth == predicted], minlength=n_classes)
    present = support > 0
    return float((hits[present] / support[present]).mean()) if present.any() else 0.0


def _category_codes(values: pd.Series) -> np.ndarray:
    """Integer code per value, with missing values as a category of their own."""
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    codes[codes < 0] = codes.max() + 1  # missingness can itself leak the label
    return codes


def _majority_score(codes: np.ndarray, labels: np.ndarray, fit: np.ndarray, test: np.ndarray, k: int) -> float:
    """Balanced accuracy on ``test`` of predicting each category's majority label learned on ``fit``."""
    n_codes = int(codes.max()) + 1
    table = np.bincount(codes[fit] * k + labels[fit], minlength=n_codes * k).reshape(n_codes, k)
    seen = table.sum(axis=1) > 0
    # Categories never seen while fitting get the overall majority: a near-unique column cannot
    # look predictive just because every value maps to one row's label.
    fallback = int(np.bincount(labels[fit], minlength=k).argmax())
    majority = np.where(seen, table.argmax(axis=1), fallback)
    return balanced_accuracy(labels[test], majority[codes[test]], k)


def _tree_score(values: np.ndarray, labels: np.ndarray, fit: np.ndarray, test: np.ndarray, k: int,
                seed: int) -> float:
    """Balanced accuracy on ``test`` of a one-feature decision tree fitted on ``fit``."""
    from sklearn.tree import DecisionTreeClassifier

    # Enough leaves to carve one interval per class several times over, few enough that noise
    # cannot be memorized (the score is on held-out rows anyway). NaN goes to a learned side.
    tree = DecisionTreeClassifier(max_leaf_nodes=max(16, 4 * k), min_samples_leaf=5, random_state=seed)
    tree.fit(values[fit, None], labels[fit])
    return balanced_accuracy(labels[test], tree.predict(values[test, None]).astype(np.int64), k)


@dataclass(frozen=True)
class LeakageScores:
    """Held-out balanced accuracy of each feature column predicting the label on its own.

    Attributes
    ----------
    scores : dict
        Column -> ``{"balanced_accuracy", "method", "role"}`` for every scored column.
    rows : ndarray
        The sampled, labelled row numbers the scores were estimated on.
    labels : ndarray
        Their label codes.
    n_classes : int
        Number of label classes.
    """

    scores: dict[str, dict[str, Any]]
    rows: np.ndarray
    labels: np.ndarray
    n_classes: int

    def leaky(self, threshold: float) -> list[str]:
        """Columns scoring at least ``threshold``, best first."""
        found = (c for c, s in self.scores.items() if s["balanced_accuracy"] >= threshold)
        return sorted(found, key=lambda c: (-self.scores[c]["balanced_accuracy"], c))


def column_leakage_scores(dataset: Dataset, *, seed: int = 0, max_rows: int = 50_000,
                          cache: dict[str, Any] | None = None) -> LeakageScores:
    """Score how well each feature column alone predicts the label (see ``LabelLeakage``).

    Parameters
    ----------
    dataset : Dataset
        A dataset with a class label.
    seed : int
        Seeds the row sample and the halves.
    max_rows : int
        Rows sampled among the labelled ones.
    cache : dict, optional
        ``AuditContext.cache``: the scores are stored there and reused by the other label
        checks (``label_issues`` leaves leaky columns out of its models).

    Returns
    -------
    LeakageScores
    """
    key = f"label_leakage.scores:{seed}:{max_rows}"
    if cache is not None and key in cache:
        return cache[key]  # type: ignore[no-any-return]
    codes, classes = dataset.label_codes
    k = len(classes)
    labelled = np.flatnonzero(codes >= 0)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(labelled, size=min(max_rows, len(labelled)), replace=False))
    labels = codes[sample]
    order = rng.permutation(len(sample))
    halves = ((order[: len(order) // 2], order[len(order) // 2 :]),
              (order[len(order) // 2 :], order[: len(order) // 2]))

    scores: dict[str, dict[str, Any]] = {}
    for column in dataset.feature_columns:
        role = dataset.roles.get(column)
        values = dataset.frame[column].iloc[sample]
        if role in _NUMERIC_ROLES:
            numbers = _as_float(values, role)
            if np.isnan(numbers).all():
                continue
            both = [_tree_score(numbers, labels, a, b, k, seed) for a, b in halves]
            method = "one-feature decision tree"
        elif role in _CATEGORICAL_ROLES:
            category = _category_codes(values)
            both = [_majority_score(category, labels, a, b, k) for a, b in halves]
            method = "majority label per value"
        else:
            continue
        scores[column] = {"balanced_accuracy": round(float(np.mean(both)), 6), "method": method, "role": role}
    result = LeakageScores(scores=scores, rows=sample, labels=labels, n_classes=k)
    if cache is not None:
        cache[key] = result
    return result


@register
class LabelLeakage(Check):
    """Feature columns that alone predict the label almost perfectly (a copy or proxy of the target).

    Each numeric/datetime column is scored by a one-feature decision tree, each categorical or
    boolean column by its per-value majority label; both are fitted on one random half of (a
    sample of) the labelled rows and scored by balanced accuracy on the other half, then the
    halves swap and the two scores are averaged. Held-out scoring is what keeps a near-unique
    column from looking perfect. ID, constant and text columns are skipped.

    Options
    -------
    threshold : float
        Flag a column whose held-out balanced accuracy is at least this.
    max_rows : int
        Rows sampled for the estimates (the check stays fast at millions of rows).
    min_rows : int
        Below this many labelled rows the check is skipped: held-out halves that small cannot
        tell a leak from luck.
    """

    name: ClassVar[str] = "label_leakage"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("label_leakage", title="Label leakage", section="columns",
             action="Remove the column unless it is truly known at prediction time: it predicts the label "
                    "too well."),
    )
    order: ClassVar[int] = 80
    needs_label: ClassVar[bool] = True
    needs_classes: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.98, max_rows: int = 50_000, min_rows: int = 30) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"label_leakage: threshold must be in (0, 1], got {threshold}.")
        if max_rows < 2 * min_rows or min_rows < 4:
            raise ConfigError(
                f"label_leakage: need min_rows >= 4 and max_rows >= 2 * min_rows; got "
                f"min_rows={min_rows}, max_rows={max_rows}."
            )
        self.threshold = threshold
        self.max_rows = max_rows
        self.min_rows = min_rows

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        codes, _ = dataset.label_codes
        n_labelled = int((codes >= 0).sum())
        if n_labelled < self.min_rows:
            return self.skip(f"only {n_labelled} labelled rows; need at least {self.min_rows}")
        sampled = column_leakage_scores(dataset, seed=context.seed, max_rows=self.max_rows, cache=context.cache)
        scores, sample, labels, k = sampled.scores, sampled.rows, sampled.labels, sampled.n_classes
        baseline = 1.0 / max(int((np.bincount(labels, minlength=k) > 0).sum()), 1)
        leaky = sampled.leaky(self.threshold)
        stats = {
            "n_columns_scored": len(scores),
            "n_rows_sampled": len(sample),
            "baseline_balanced_accuracy": baseline,
            "balanced_accuracy": {c: s["balanced_accuracy"] for c, s in scores.items()},
        }
        if not leaky:
            return self.result(stats=stats)
        listed = ", ".join(f"'{c}' ({scores[c]['balanced_accuracy']:.3f})" for c in leaky)
        message = (
            f"{len(leaky)} column(s) alone predict the label '{dataset.label}' with held-out balanced "
            f"accuracy >= {self.threshold}: {listed}. A feature that determines the target is "
            f"usually a copy of it or recorded after it; drop it unless it is truly available "
            f"at prediction time."
        )
        leak_finding = self.finding(
            "label_leakage",
            "error",
            message,
            columns=tuple(leaky),
            details={
                "per_column": {c: scores[c] for c in leaky},
                "threshold": self.threshold,
                "baseline_balanced_accuracy": baseline,
                "n_rows_sampled": len(sample),
            },
        )
        return self.result([leak_finding], stats=stats)


def _as_float(values: pd.Series, role: str | None) -> np.ndarray:
    """A numeric or datetime column as float64 with NaN for missing (datetimes as epoch ns)."""
    if role == "datetime" or pd.api.types.is_datetime64_any_dtype(values):
        if not pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(None)
        as_int = values.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        as_int[values.isna().to_numpy()] = np.nan
        return as_int
    if not pd.api.types.is_numeric_dtype(values):
        values = pd.to_numeric(values, errors="coerce")
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers
