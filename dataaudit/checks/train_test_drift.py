"""Train/test drift: columns whose distribution differs between the training and the test file."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import json_value, sample_index
from dataaudit.findings import CheckResult, Code, Finding, PerColumn

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
    Datetime columns are compared by range: test rows outside the training period (a share of at
    least ``min_outside``) are reported with both ranges. Label classes of the test file that
    never occur in training are reported on their own: no model trained here can predict them.

    Parameters
    ----------
    alpha : float
        Family-wise significance level, divided by the number of columns tested.
    min_effect : float
        Smallest KS statistic / total variation distance that counts as drift.
    sample_rows : int
        Each file contributes at most this many randomly chosen rows (seeded) to every test.
    min_outside : float
        A datetime column is reported when at least this share of the test rows lie outside the
        training range (a warning when most of them do).
    """

    name = "train_test_drift"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("train_test_drift", title="Train/test drift", section="train-test",
             action="Find out why these columns differ between train and test; the test score may not "
                    "reflect what the model learned."),
    )
    order = 96
    needs_test = True

    def __init__(self, alpha: float = 0.01, min_effect: float = 0.1, sample_rows: int = 50_000,
                 min_outside: float = 0.05) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if not 0 < min_outside <= 1:
            raise ValueError(f"min_outside must be in (0, 1], got {min_outside}")
        self.alpha = alpha
        self.min_effect = min_effect
        self.sample_rows = sample_rows
        self.min_outside = min_outside

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
        unseen = self._unseen_label_classes(dataset, test)
        if unseen is not None:
            findings.append(unseen)
        date_ranges = {c: r for c in dataset.columns_with_role("datetime") if c in test.frame.columns
                       and (r := _date_ranges(dataset.frame[c], test.frame[c])) is not None}
        outside = [c for c, r in date_ranges.items() if r["share_outside"] >= self.min_outside]
        if outside:
            findings.append(self._date_finding(date_ranges, outside))
        n_tests = max(len(per_column), 1)
        drifted: list[str] = []
        for column, result in per_column.items():
            p_adjusted = min(1.0, result["p_value"] * n_tests)
            result["p_adjusted"] = p_adjusted
            result["drifted"] = bool(p_adjusted < self.alpha and result["distance"] >= self.min_effect)
            if result["drifted"]:
                drifted.append(column)
        drifted.sort(key=lambda c: -per_column[c]["distance"])
        compared = context.shared.drift = PerColumn(per_column)  # the report's train-vs-test table shows these numbers
        stats = {"per_column": per_column, "n_tested": len(per_column), "alpha": self.alpha,
                    "min_effect": self.min_effect, "n_train": dataset.n_rows, "n_test": test.n_rows,
                    "sample_rows": self.sample_rows,
                    "sampled": train_index is not None or test_index is not None,
                    "datetime_ranges": date_ranges}
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
                evidence=compared,
                details={"kind": "distribution", "drifted": drifted,
                         "alpha": self.alpha, "min_effect": self.min_effect,
                         "action": "check how the test file was collected (time, source, filters); "
                         "re-split randomly or stratified if both should come from one distribution"},
            ))
        return self.result(findings, stats=stats)

    def _unseen_label_classes(self, dataset: Dataset, test: Dataset) -> Finding | None:
        """Test label values that never occur in the training labels (classification only)."""
        label = dataset.label
        if label is None or dataset.task != "classification" or label not in test.frame.columns:
            return None
        known = set(dataset.frame[label].dropna().astype(str))
        test_labels = test.frame[label].astype(object)
        present = test_labels.notna().to_numpy()
        as_text = test_labels.astype(str).to_numpy()
        is_unseen = present & ~np.isin(as_text, list(known))
        if not is_unseen.any():
            return None
        counts = pd.Series(as_text[is_unseen]).value_counts()
        share = float(is_unseen.sum() / max(int(present.sum()), 1))
        shown = ", ".join(f"{v!r} ({c})" for v, c in counts.head(8).items())
        return self.finding(
            "train_test_drift", "error" if share >= 0.05 else "warning",
            f"{len(counts)} label class(es) of the test file never occur in training: {shown} — "
            f"{int(is_unseen.sum())} test rows ({share:.1%}) that no model trained here can get right.",
            columns=[label],
            details={"kind": "unseen_label_classes", "classes": {str(k): int(v) for k, v in counts.items()},
                     "n_rows": int(is_unseen.sum()), "share": share,
                     "train_classes": sorted(known)[:50],
                     "action": "add examples of these classes to training, or leave them out of the test "
                               "file; check that both files code the label the same way"},
        )

    def _date_finding(self, ranges: dict[str, dict[str, Any]], outside: list[str]) -> Finding:
        worst = max(outside, key=lambda c: ranges[c]["share_outside"])
        r = ranges[worst]
        when = {"after": "after the training period", "before": "before the training period",
                "both": "outside the training period"}[r["direction"]]
        overlap = "do not overlap" if r["share_outside"] >= 1.0 else "overlap only in part"
        severity = "warning" if r["share_outside"] >= 0.5 else "info"
        return self.finding(
            "train_test_drift", severity,
            (f"The date ranges of train and test {overlap}: {r['share_outside']:.1%} of the test rows' "
                     f"{worst!r} lie {when} (train {r['train_min']} to {r['train_max']}, test {r['test_min']} "
                     f"to {r['test_max']}). The test set measures another period; fine for a forecast, "
                     "but the other columns may drift with time."
                     + (f" Also: {', '.join(repr(c) for c in outside if c != worst)}." if len(outside) > 1 else "")),
            columns=outside,
            evidence=PerColumn({c: ranges[c] for c in outside}),
            details={"kind": "datetime_range",
                     "action": "split randomly if train and test should come from one period; for a "
                               "time-based split, say so and expect drift in time-dependent columns"},
        )

    @staticmethod
    def _numeric(train: pd.Series, test: pd.Series, train_index: np.ndarray | None,
                 test_index: np.ndarray | None) -> dict[str, Any] | None:
        a = _finite(train, train_index)
        b = _finite(test, test_index)
        if len(a) < 2 or len(b) < 2:
            return None
        # Imported here: only a run with a test file needs scipy.stats (about a second to import).
        from scipy import stats as scipy_stats

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
            from scipy import stats as scipy_stats

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


def _as_datetimes(values: pd.Series) -> pd.Series:
    """Parsed timestamps in UTC (strings in any common format; unparseable cells become NaT)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mixed-format and timezone notices, once per cell otherwise
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = pd.to_datetime(values, errors="coerce", utc=True)
        else:
            parsed = pd.to_datetime(values.astype(object), errors="coerce", utc=True, format="mixed")
    return parsed.dropna()


def _date_ranges(train: pd.Series, test: pd.Series) -> dict[str, Any] | None:
    """Both ranges of a datetime column and the share of test rows outside the training range."""
    a, b = _as_datetimes(train), _as_datetimes(test)
    if len(a) < 2 or not len(b):
        return None
    low, high = a.min(), a.max()
    before, after = int((b < low).sum()), int((b > high).sum())
    direction = "both" if before and after else ("before" if before else "after")
    return {"train_min": str(low), "train_max": str(high), "test_min": str(b.min()), "test_max": str(b.max()),
            "n_test_before": before, "n_test_after": after,
            "share_outside": float((before + after) / len(b)), "direction": direction}
