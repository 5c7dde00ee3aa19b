"""Shared helpers of the column checks, and robustness of every column/statistical check on odd tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.checks._stats import listed_rows, nan_skewness, robust_center_scale, sample_index
from dataaudit.dataset import Dataset

MY_CHECKS = ["class_balance", "missing_values", "constant_columns", "id_columns", "high_cardinality",
             "mixed_types", "correlations", "skewness", "scale_disparity", "train_test_drift", "outliers"]


def test_sample_index_is_seeded_sorted_and_none_when_small() -> None:
    assert sample_index(10, 20, 0) is None
    a, b = sample_index(1000, 100, 3), sample_index(1000, 100, 3)
    assert a is not None and b is not None
    assert np.array_equal(a, b) and len(np.unique(a)) == 100 and np.all(np.diff(a) > 0)


def test_listed_rows_caps_with_a_sample() -> None:
    assert listed_rows([3, 1], 0) == ([3, 1], False)
    rows, sampled = listed_rows(np.arange(5000), 0, limit=10)
    assert sampled and len(rows) == 10 and rows == sorted(rows)


def test_robust_scale_and_skewness() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5, 2, 20_000)
    median, scale = robust_center_scale(x)
    assert abs(median - 5) < 0.05 and abs(scale - 2) < 0.1
    assert robust_center_scale(np.array([1.0, 1.0, 1.0])) == (1.0, 0.0)
    skew = nan_skewness(np.column_stack([x, rng.exponential(size=20_000), np.ones(20_000)]))
    assert abs(skew[0]) < 0.1 and abs(skew[1] - 2) < 0.3 and np.isnan(skew[2])


def _odd_tables() -> dict[str, tuple[pd.DataFrame, str | None]]:
    rng = np.random.default_rng(0)
    markup = '<script>alert("x")</script>'
    return {
        "one_row": (pd.DataFrame({"a": [1.0], "b": ["x"], "y": [0]}), "y"),
        "two_rows": (pd.DataFrame({"a": [1.0, np.inf], "b": ["x", "?"], "y": ["cat", "dog"]}), "y"),
        "all_empty": (pd.DataFrame({"a": [np.nan] * 30, "b": rng.normal(size=30), "y": [0, 1] * 15}), "y"),
        "inf_values": (pd.DataFrame({"a": np.r_[rng.normal(size=28), np.inf, -np.inf], "y": [1] * 30}), "y"),
        "single_class": (pd.DataFrame({"a": rng.normal(size=40), "y": ["only"] * 40}), "y"),
        "string_labels": (pd.DataFrame({"a": rng.normal(size=40), "y": ["a"] * 38 + ["b"] * 2}), "y"),
        "markup": (pd.DataFrame({markup: rng.normal(size=40), "c": [markup, "<b>"] * 20,
                                 "y": [markup] * 39 + ["&amp;"]}), "y"),
        "no_numeric": (pd.DataFrame({"c": ["u", "v", "w", "?"] * 10, "y": [0, 1] * 20}), "y"),
        "no_label": (pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40) * 1e6}), None),
        "regression": (pd.DataFrame({"a": rng.normal(size=100), "y": rng.normal(size=100)}), "y"),
        "missing_label": (pd.DataFrame({"a": rng.normal(size=30), "y": [0.0, 1.0, np.nan] * 10}), "y"),
    }


@pytest.mark.parametrize("table", list(_odd_tables()))
def test_no_check_crashes_on_odd_tables(table: str) -> None:
    load_all()
    frame, label = _odd_tables()[table]
    dataset = Dataset.from_frame(frame, label=label)
    test = Dataset.from_frame(frame.sample(frac=1.0, random_state=0), label=label)
    for name in MY_CHECKS:
        result = make_check(name).run(dataset, AuditContext(test=test, seed=0))
        assert result.status in ("passed", "flagged", "skipped"), (name, result)
        result.to_dict()  # stats must be JSON-able
        for finding in result.findings:
            finding.to_dict()
            assert "action" in finding.details, (name, finding)
            assert all(0 <= r < dataset.n_rows for r in finding.rows)


def test_every_module_registers_one_documented_check() -> None:
    registry = load_all()
    for name in MY_CHECKS:
        cls = registry[name]
        assert cls.description() and cls.codes
