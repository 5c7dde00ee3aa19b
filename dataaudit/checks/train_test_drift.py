"""Train/test drift: columns whose distribution differs between the training and the test file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import json_value, sample_index
from dataaudit.findings import CheckResult, Code, Finding

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Categories beyond the most frequent ones are pooled into one "other" cell for the chi-square test.
_MAX_CATEGORIES = 50
_OTHER = "\x00other"
_PSI_BINS = 10
# Floor for empty bins in the population stability index (log of zero otherwise).
_PSI_EPS = 1e-4


@register
class TrainTestDrift(Check):
    """Train/test drift: the test file's columns are distributed differently from the training file's.

    Numeric columns use the two-sample Kolmogorov-Smirnov test, categorical ones (and a
    classification label) a chi-square test on category counts. A column drifts when its
    Bonferroni-adjusted p-value is below ``alpha`` and its effect size (KS statistic or total
    variation distance) is at least ``min_effect``, so large files do not flag trivial differences.

    Parameters
    ----------
    alpha : float
        Family-wise significance level, divided by the number of columns tested.
    min_effect : float
        Smallest KS statistic / total variation distance that counts as drift.
    sample_rows : int
        Each file contributes at most this many randomly chosen rows (seeded) to every test.
    """

    name = "train_test_drift"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("train_test_drift", title="Train/test drift", section="train-test",
             action="Find out why these columns differ between train and test; the test score may not "
                    "reflect what the model learned."),
    )
    order = 96
    needs_test = True

    def __init__(self, alpha: float = 0.01, min_effect: float = 0.1, sample_rows: int = 50_000) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        self.alpha = alpha
        self.min_effect = min_effect
        self.sample_rows = sample_rows

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        test = context.test
        if test is None:
            return self.skip("needs a test file (--test)")
        findings: list[Finding] = []
        skipped_roles = ("id", "text", "constant", "datetime")
        candidates = [c for c in dataset.columns if dataset.roles.get(c) not in skipped_roles]
        missing = [c for c in candidates if c not in test.frame.columns and c != dataset.label]
        extra = [c for c in test.columns if c not in dataset.frame.columns]
        if missing:
            findings.append(self.finding(
                "train_test_drift", "warning",
                f"{len(missing)} training column(s) are missing from the test file: "
                f"{', '.join(repr(c) for c in missing[:8])}{' ...' if len(missing) > 8 else ''}.",
                columns=missing,
                details={"kind": "missing_columns", "missing_columns": missing, "extra_columns": extra,
                         "action": "make both files come from the same export, or drop these columns "
                         "from training"},
            ))
        tested = [c for c in candidates if c in test.frame.columns]
        train_index = sample_index(dataset.n_rows, self.sample_rows, context.seed)
        test_index = sample_index(test.n_rows, self.sample_rows, context.seed + 1)
        per_column: dict[str, dict[str, Any]] = {}
        for column in tested:
            is_numeric = dataset.roles.get(column) == "numeric" or (
                column == dataset.label and dataset.task == "regression")
            if is_numeric:
                result = self._numeric(dataset.frame[column], test.frame[column], train_index, test_index)
            else:
                result = self._categorical(_rows(dataset.frame[column], train_index),
                                           _rows(test.frame[column], test_index))
            if result is not None:
                result["is_label"] = column == dataset.label
                per_column[column] = result
        n_tests = max(len(per_column), 1)
        drifted: list[str] = []
        for column, result in per_column.items():
            p_adjusted = min(1.0, result["p_value"] * n_tests)
            result["p_adjusted"] = p_adjusted
            result["drifted"] = bool(p_adjusted < self.alpha and result["distance"] >= self.min_effect)
            if result["drifted"]:
                drifted.append(column)
        drifted.sort(key=lambda c: -per_column[c]["distance"])
        stats = {"per_column": per_column, "n_tested": len(per_column), "alpha": self.alpha,
                    "min_effect": self.min_effect, "n_train": dataset.n_rows, "n_test": test.n_rows,
                    "sample_rows": self.sample_rows,
                    "sampled": train_index is not None or test_index is not None}
        if drifted:
            shown = ", ".join(
                f"{c!r} ({per_column[c]['test']} {per_column[c]['distance']:.2f})" for c in drifted[:8])
            label_drift = dataset.label in drifted
            findings.append(self.finding(
                "train_test_drift", "warning",
                f"{len(drifted)} column(s) are distributed differently in the test file: {shown}"
                f"{' ...' if len(drifted) > 8 else ''}." + (" The label distribution differs too." if label_drift
                                                           else ""),
                columns=drifted,
                details={"kind": "distribution", "drifted": drifted, "per_column": per_column,
                         "alpha": self.alpha, "min_effect": self.min_effect,
                         "action": "check how the test file was collected (time, source, filters); "
                         "re-split randomly or stratified if both should come from one distribution"},
            ))
        return self.result(findings, stats=stats)

    @staticmethod
    def _numeric(train: pd.Series, test: pd.Series, train_index: np.ndarray | None,
                 test_index: np.ndarray | None) -> dict[str, Any] | None:
        a = _finite(train, train_index)
        b = _finite(test, test_index)
        if len(a) < 2 or len(b) < 2:
            return None
        ks = scipy_stats.ks_2samp(a, b)
        return {"test": "ks", "statistic": float(ks.statistic), "p_value": float(ks.pvalue),
                "distance": float(ks.statistic), "psi": _psi_numeric(a, b),
                "train_mean": float(a.mean()), "test_mean": float(b.mean()),
                "train_missing": float(train.isna().mean()), "test_missing": float(test.isna().mean())}

    @staticmethod
    def _categorical(train: pd.Series, test: pd.Series) -> dict[str, Any] | None:
        train_counts = train.astype(object).value_counts(dropna=True)
        test_counts = test.astype(object).value_counts(dropna=True)
        if train_counts.sum() < 2 or test_counts.sum() < 2:
            return None
        # Compare as strings so that 1 and "1" (CSV vs in-memory) are the same category.
        train_counts = train_counts.groupby(train_counts.index.map(str)).sum()
        test_counts = test_counts.groupby(test_counts.index.map(str)).sum()
        keep = train_counts.add(test_counts, fill_value=0).sort_values(ascending=False).index[:_MAX_CATEGORIES]
        table = pd.DataFrame({"train": train_counts, "test": test_counts}).fillna(0)
        pooled = table.loc[keep]
        rest = table.drop(index=keep)
        if len(rest):
            pooled.loc[_OTHER] = rest.sum()
        counts = pooled.to_numpy(dtype=np.float64)
        counts = counts[counts.sum(axis=1) > 0]
        p_train = counts[:, 0] / counts[:, 0].sum()
        p_test = counts[:, 1] / counts[:, 1].sum()
        distance = 0.5 * float(np.abs(p_train - p_test).sum())
        if len(counts) < 2:
            statistic, p_value = 0.0, 1.0
        else:
            chi2 = scipy_stats.chi2_contingency(counts.T, correction=False)
            statistic, p_value = float(chi2.statistic), float(chi2.pvalue)
        new = [json_value(c) for c in test_counts.index.difference(train_counts.index)[:10]]
        return {"test": "chi2", "statistic": statistic, "p_value": p_value, "distance": distance,
                "psi": _psi(p_train, p_test), "n_categories": int(len(table)), "unseen_in_train": new,
                "train_missing": float(train.isna().mean()), "test_missing": float(test.isna().mean())}


def _rows(values: pd.Series, index: np.ndarray | None) -> pd.Series:
    return values if index is None else values.iloc[index]


def _finite(values: pd.Series, index: np.ndarray | None) -> np.ndarray:
    array = pd.to_numeric(_rows(values, index), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return array[np.isfinite(array)]


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two binned distributions (0 = identical, > 0.25 = large)."""
    e = np.maximum(expected, _PSI_EPS)
    a = np.maximum(actual, _PSI_EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _psi_numeric(train: np.ndarray, test: np.ndarray) -> float:
    edges = np.unique(np.quantile(train, np.linspace(0, 1, _PSI_BINS + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, train, side="right"), minlength=len(edges) + 1)
    actual = np.bincount(np.searchsorted(edges, test, side="right"), minlength=len(edges) + 1)
    return _psi(expected / expected.sum(), actual / actual.sum())
