from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int, seed: int, shift: float = 0.0, p_b: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n) + shift, "b": rng.normal(size=n),
                         "c": rng.choice(["u", "v"], n, p=[1 - p_b, p_b]), "y": rng.integers(0, 2, n)})


def _run(train: pd.DataFrame, test: pd.DataFrame):
    context = AuditContext(test=Dataset.from_frame(test, label="y"))
    return make_check("train_test_drift").run(Dataset.from_frame(train, label="y"), context)


def test_same_distribution_passes_with_a_full_table() -> None:
    result = _run(_frame(2000, 0), _frame(1000, 1))
    assert result.findings == ()
    assert set(result.stats["per_column"]) == {"a", "b", "c", "y"}
    assert result.stats["per_column"]["a"]["test"] == "ks"
    assert result.stats["per_column"]["c"]["test"] == "chi2"


def test_shifted_numeric_and_categorical_columns_drift() -> None:
    result = _run(_frame(2000, 0), _frame(1000, 1, shift=0.8, p_b=0.7))
    (finding,) = result.findings
    assert finding.code == "train_test_drift" and set(finding.columns) == {"a", "c"}
    assert finding.details["per_column"]["a"]["p_adjusted"] < 0.01
    assert finding.details["per_column"]["c"]["distance"] > 0.3


def test_tiny_shift_on_big_samples_is_not_drift() -> None:
    # Significant at this size, but below the effect-size floor: not reported.
    result = _run(_frame(40_000, 0), _frame(40_000, 1, shift=0.05))
    assert result.stats["per_column"]["a"]["p_value"] < 0.01
    assert result.findings == ()


def test_missing_column_is_its_own_finding() -> None:
    (finding,) = _run(_frame(300, 0), _frame(300, 1).drop(columns=["b"])).findings
    assert finding.details["kind"] == "missing_columns" and finding.columns == ("b",)


def test_unseen_label_classes_are_their_own_finding() -> None:
    train, test = _frame(600, 0), _frame(300, 1)
    test.loc[:29, "y"] = 7  # a class training never saw
    result = _run(train, test)
    (finding,) = [f for f in result.findings if f.details["kind"] == "unseen_label_classes"]
    assert finding.details["classes"] == {"7": 30} and finding.details["n_rows"] == 30
    assert finding.severity == "error" and finding.columns == ("y",)
    assert not [f for f in _run(train, _frame(300, 1)).findings if f.details["kind"] == "unseen_label_classes"]


def test_datetime_ranges_are_compared() -> None:
    train, test = _frame(400, 0), _frame(200, 1)
    train["when"] = pd.date_range("2015-01-01", periods=400, freq="D").strftime("%Y-%m-%d")
    test["when"] = pd.date_range("2017-01-01", periods=200, freq="D").strftime("%Y-%m-%d")
    result = _run(train, test)
    (finding,) = result.findings  # nothing else differs: before, this passed
    assert finding.details["kind"] == "datetime_range" and finding.columns == ("when",)
    r = finding.details["per_column"]["when"]
    assert r["share_outside"] == 1.0 and r["direction"] == "after" and finding.severity == "warning"
    test["when"] = pd.date_range("2015-03-01", periods=200, freq="D").strftime("%Y-%m-%d")
    result = _run(train, test)
    assert result.findings == ()
    assert result.stats["datetime_ranges"]["when"]["share_outside"] == 0.0


def test_real_tweets_split_by_year_show_the_period_and_the_new_sources(tmp_path) -> None:
    from pathlib import Path

    from dataaudit.io.loading import load_dataset, load_test_dataset

    tweets = pd.read_csv(Path(__file__).parents[1] / "data" / "real" / "tweets_ids.csv")
    before = tweets["created_at"] < "2016"
    tweets[before].to_csv(tmp_path / "train.csv", index=False)
    tweets[~before].to_csv(tmp_path / "test.csv", index=False)
    train = load_dataset(tmp_path / "train.csv", label="source")
    test = load_test_dataset(tmp_path / "test.csv", train)
    findings = make_check("train_test_drift").run(train, AuditContext(test=test)).findings
    kinds = {f.details["kind"]: f for f in findings}
    assert kinds["datetime_range"].details["per_column"]["created_at"]["share_outside"] == 1.0
    assert set(kinds["unseen_label_classes"].details["classes"]) >= {"Media Studio", "Twitter Ads"}


def test_a_test_file_of_another_schema_is_refused(tmp_path) -> None:
    import pytest

    from dataaudit.exceptions import InputError
    from dataaudit.io.loading import load_dataset, load_test_dataset

    _frame(100, 0).to_csv(tmp_path / "train.csv", index=False)
    train = load_dataset(tmp_path / "train.csv", label="y")
    _frame(50, 1).drop(columns=["y"]).to_csv(tmp_path / "nolabel.csv", index=False)
    with pytest.raises(InputError, match="no label column 'y'"):
        load_test_dataset(tmp_path / "nolabel.csv", train)
    _frame(50, 1).drop(columns=["a", "b"]).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(InputError, match="lacks 2 of the 3 training columns"):
        load_test_dataset(tmp_path / "other.csv", train)
    _frame(50, 1).drop(columns=["b"]).to_csv(tmp_path / "one_less.csv", index=False)
    assert load_test_dataset(tmp_path / "one_less.csv", train).label == "y"  # a warning, not a refusal
    from typer.testing import CliRunner

    from dataaudit.cli import app

    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "train.csv"), "--label", "y", "--test",
                                      str(tmp_path / "other.csv"), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "InputError" in result.output and "Traceback" not in result.output
