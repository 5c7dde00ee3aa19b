"""The GX adapter: suite from training data, planted violations found with their rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # No value of the whole-number column is a number: the column is wrong, no row is blamed.
    assert found[("expect_column_values_to_be_in_type_list", "n")].rows == ()
    assert "expected numbers (integer) but no value is one" in found[("expect_column_values_to_be_in_type_list", "n")].message
    assert [k for k in found if k[1] == "n"] == [("expect_column_values_to_be_in_type_list", "n")]
    new = train.head(10).copy().astype({"n": object})
    new.loc[4, "n"] = "four"
    report = validate(new, suite)
    assert {(v.column, v.rows) for v in report.violations} == {("n", (4,))}


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


# ------------------------------------------------------------------ fitted rows always pass
def _awkward_frame(n: int = 90, seed: int = 0) -> pd.DataFrame:
    """The Parquet types that used to fail their own suite."""
    import datetime as dt

    import pyarrow as pa

    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "tz": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris"),
        "dur": pd.to_timedelta(rng.integers(0, 1000, n), unit="s"),
        "cat": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "d32": pd.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(i)) for i in range(n)],
                        dtype=pd.ArrowDtype(pa.date32())),
        "time": pd.array([dt.time(int(i) % 24, 0) for i in range(n)], dtype=pd.ArrowDtype(pa.time64("us"))),
        "nbool": pd.array([True, False, None] * (n // 3), dtype="boolean"),
        "nint": pd.array([1, None, 3] * (n // 3), dtype="Int64"),
        "x": rng.normal(size=n),
        "y": rng.integers(0, 2, n),
    })


def test_awkward_types_pass_their_own_suite() -> None:
    frame = _awkward_frame()
    suite = build_suite(frame, label="y")
    assert validate(frame, suite).success, validate(frame, suite).lines()
    families = suite["meta"]["dataaudit"]["families"]
    assert families == {"tz": "datetime", "dur": "duration", "cat": "category", "d32": "datetime", "time": "time",
                        "nbool": "boolean", "nint": "integer", "x": "float", "y": "integer"}


def test_transform_accepts_the_parquet_it_was_fitted_on(tmp_path) -> None:
    from typer.testing import CliRunner

    from dataaudit.cli import app

    _awkward_frame().to_parquet(tmp_path / "d.parquet")
    runner = CliRunner()
    fit = runner.invoke(app, ["fit-transform", str(tmp_path / "d.parquet"), "--label", "y", "--no-near-duplicates",
                              "--out", str(tmp_path / "art")])
    assert fit.exit_code == 0, fit.output
    result = runner.invoke(app, ["transform", str(tmp_path / "d.parquet"), "--artifacts", str(tmp_path / "art"),
                                 "--out", str(tmp_path / "out.npz")])
    assert result.exit_code == 0, result.output
    assert "90 rows: 90 transformed" in result.stdout


def test_small_normal_table_passes_when_transformed_whole(tmp_path) -> None:
    """60 rows of a normal column: fitted on 48, the 12 others may lie a little beyond; not flagged."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame({"x": rng.normal(size=60)})
        train, rest = frame.iloc[:48], frame.iloc[48:]
        suite = build_suite(train)
        assert validate(train, suite).success
        beyond = int(((rest["x"] < train["x"].min()) | (rest["x"] > train["x"].max())).sum())
        report = validate(frame, suite)
        assert report.success or beyond > 3, report.lines()


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 120), missing=st.floats(0.0, 0.6))
def test_every_fitted_table_passes_its_suite(seed: int, n: int, missing: float) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "f": rng.standard_t(2, size=n) * 10.0 ** rng.integers(-3, 6),
        "i": rng.integers(-50, 50, size=n),
        "c": rng.choice(["p", "q", "r", "s"], size=n),
        "d": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10_000, n), unit="D"),
        "b": rng.random(n) < 0.3,
    })
    holes = rng.random((n, 5)) < missing
    frame = frame.astype({"i": "float64", "b": object}).mask(holes)
    suite = build_suite(frame)
    report = validate(frame, suite)
    assert report.success, report.lines()


# -------------------------------------------------------------- and the rest may fail
@pytest.fixture(scope="module")
def people() -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(0)
    n = 1000
    frame = pd.DataFrame({
        "age": rng.integers(0, 91, n),
        "month": rng.integers(1, 13, n),
        "children": rng.poisson(1.2, n),
        "height": rng.normal(170, 10, n),
        "seen": pd.date_range("2020-01-01", periods=n, freq="D").astype(str),
    })
    return frame, build_suite(frame)


def _violated(frame: pd.DataFrame, suite: dict) -> dict[tuple[str, str | None], tuple[int, ...]]:
    return {(v.expectation, v.column): v.rows for v in validate(frame, suite).violations}


def test_natural_bounds_kept(people: tuple[pd.DataFrame, dict]) -> None:
    frame, suite = people
    assert validate(frame, suite).success
    new = frame.head(1000).copy()
    new.loc[3, "age"] = -5  # never negative before: fails by itself
    new.loc[5, "age"] = 250  # one absurd value among 1000 (mostly would allow 1%): fails by itself
    new.loc[8, "month"] = 13  # months fill 1-12 with flat edges: 13 is out
    new.loc[9, "month"] = 0
    found = _violated(new, suite)
    hard = found[("expect_column_values_to_be_between", "age")]
    assert set(hard) == {3, 5}
    assert found[("expect_column_values_to_be_between", "month")] == (8, 9)


def test_within_plausible_reach_passes(people: tuple[pd.DataFrame, dict]) -> None:
    frame, suite = people
    new = frame.head(200).copy()
    new.loc[3, "age"] = 97  # a little beyond the oldest seen
    new.loc[4, "children"] = int(frame["children"].max()) + 1  # counts taper: one more child is plausible
    new.loc[5, "height"] = 215.0
    assert validate(new, suite).success, validate(new, suite).lines()


def test_whole_numbers_stay_whole(people: tuple[pd.DataFrame, dict]) -> None:
    frame, suite = people
    new = frame.head(20).copy().astype({"age": "float64"})
    new.loc[2, "age"] = 30.5
    found = _violated(new, suite)
    assert found == {("expect_column_values_to_be_in_type_list", "age"): (2,)}


def test_unparseable_dates_fail_instead_of_being_imputed(people: tuple[pd.DataFrame, dict]) -> None:
    frame, suite = people
    assert suite["meta"]["dataaudit"]["families"]["seen"] == "datetime"
    new = frame.head(20).copy()
    new.loc[4, "seen"] = "tomorrow"
    new.loc[6, "seen"] = "2021-02-30"
    new.loc[7, "seen"] = "2021-03-01T10:00:00"  # another spelling of a date is fine
    found = _violated(new, suite)
    assert found == {("expect_column_values_to_be_in_type_list", "seen"): (4, 6)}


def test_chunked_fit_keeps_soft_and_hard_ranges(tmp_path) -> None:
    """--chunksize replaces the sample's ranges by the exact streamed ones, both kinds, and the
    training file still passes."""
    import json

    from dataaudit.transforms.pipeline import TransformConfig, fit_transform, transform

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"age": rng.integers(0, 91, 400), "month": rng.integers(1, 13, 400),
                          "x": rng.normal(size=400)})
    frame["y"] = (frame["x"] > 0).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    fit_transform(tmp_path / "d.csv", "y", tmp_path / "art",
                  config=TransformConfig(chunksize=64, sample_rows=50, near_duplicates=False))
    suite = json.loads((tmp_path / "art" / "expectations.json").read_text())
    ranges = {(e["kwargs"]["column"], e["meta"].get("dataaudit")): e["kwargs"] for e in suite["expectations"]
              if e["type"] == "expect_column_values_to_be_between"}
    train_rows = np.load(tmp_path / "art" / "train.npz")["row"]
    train = frame.iloc[train_rows]
    assert ranges[("age", "hard")]["min_value"] == 0.0  # never negative
    assert ranges[("age", "soft")]["max_value"] >= train["age"].max()
    assert ranges[("month", "hard")]["min_value"] >= 0 and ranges[("month", "hard")]["max_value"] <= 24
    outcome = transform(train, tmp_path / "art", tmp_path / "out.npz")
    assert outcome.n_quarantined == 0 and outcome.validation.success
