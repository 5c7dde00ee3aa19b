"""The GX adapter: suite from training data, planted violations found with their rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.dataset import Dataset
from dataaudit.expectations import build_suite, validate


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "x": rng.uniform(0, 10, 200),
        "n": rng.integers(0, 5, 200),
        "c": rng.choice(["a", "b", "c"], 200),
        "y": rng.choice(["cat", "dog"], 200),
    })


@pytest.fixture(scope="module")
def suite(train: pd.DataFrame) -> dict:
    return build_suite(Dataset.from_frame(train, label="y"), name="train")


def test_suite_is_gx_json(suite: dict) -> None:
    types = [e["type"] for e in suite["expectations"]]
    assert types[0] == "expect_table_columns_to_match_ordered_list"
    assert suite["expectations"][0]["kwargs"]["column_list"] == ["x", "n", "c", "y"]
    assert "expect_column_values_to_be_between" in types
    assert suite["meta"]["dataaudit"]["label"] == "y"
    label_set = [e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_in_set"
                 and e["kwargs"]["column"] == "y"]
    assert label_set[0]["kwargs"]["value_set"] == ["cat", "dog"]


def test_training_data_passes(train: pd.DataFrame, suite: dict) -> None:
    report = validate(train, suite)
    assert report.success, report.lines()


def test_planted_violations_found_with_rows(train: pd.DataFrame, suite: dict) -> None:
    new = train.head(50).copy()
    new.loc[3, "x"] = 1000.0  # out of range
    new.loc[7, "x"] = np.nan  # null where training had none
    new.loc[9, "y"] = "horse"  # unseen class
    new.loc[list(range(10, 20)), "c"] = "zzz"  # 20 % unseen categories (more than `mostly` allows)
    report = validate(new, suite)
    found = {(v.expectation, v.column): v.rows for v in report.violations}
    assert found[("expect_column_values_to_be_between", "x")] == (3,)
    assert found[("expect_column_values_to_not_be_null", "x")] == (7,)
    assert found[("expect_column_values_to_be_in_set", "y")] == (9,)
    assert found[("expect_column_values_to_be_in_set", "c")] == tuple(range(10, 20))
    assert report.bad_rows.tolist() == [3, 7, 9, *range(10, 20)]


def test_missing_label_is_allowed_missing_feature_is_not(train: pd.DataFrame, suite: dict) -> None:
    assert validate(train.drop(columns="y"), suite).success
    report = validate(train.drop(columns="x"), suite)
    assert [v.expectation for v in report.table_level] == ["expect_table_columns_to_match_ordered_list"]


def test_wrong_type_is_reported(train: pd.DataFrame, suite: dict) -> None:
    new = train.head(10).copy()
    new["n"] = ["text"] * 10
    report = validate(new, suite)
    found = {(v.expectation, v.column): v for v in report.violations}
    assert found[("expect_column_values_to_be_in_type_list", "n")].rows == tuple(range(10))
    # The range check cannot run on text: reported without rows, with a clear message.
    assert "could not be evaluated" in found[("expect_column_values_to_be_between", "n")].message


def test_suite_json_is_exactly_what_great_expectations_writes():
    """build_suite writes GX 1.x JSON directly; GX must parse it back into the identical dict."""
    import great_expectations as gx

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "x": rng.normal(size=200), "n": rng.integers(0, 5, 200),
        "c": rng.choice(["a", "b", "c"], 200), "y": rng.choice(["yes", "no"], 200),
    })
    frame.loc[::7, "x"] = np.nan
    suite = build_suite(Dataset.from_frame(frame, label="y"), name="train")
    parsed = gx.ExpectationSuite(**suite).to_json_dict()
    assert parsed == suite
