"""CLI: fit-transform and transform exit codes (0 ok, 1 violations, 2 bad input) and key phrases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("cli")
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "c": rng.choice(["u", "v"], 200)})
    frame["y"] = (frame["a"] > 0).astype(int)
    frame = pd.concat([frame, frame.iloc[:2]], ignore_index=True)
    frame.to_csv(root / "d.csv", index=False)
    # y is the sign of a, which label_leakage flags; keep it: these tests are about validation.
    result = runner.invoke(app, ["fit-transform", str(root / "d.csv"), "--label", "y", "--whiten", "zca",
                                 "--no-near-duplicates", "--keep-leaky", "--out", str(root / "art")])
    assert result.exit_code == 0, result.output
    return root, frame, result.output


def test_fit_transform_ok(fitted) -> None:
    root, frame, output = fitted
    assert "quarantined 2 rows (exact_duplicate 2)" in output and "max |C - I|" in output
    assert "{" not in output  # the reasons as text, not a Python dict
    manifest = json.loads((root / "art" / "manifest.json").read_text())
    assert manifest["split"]["n_input"] == len(frame)


def test_transform_ok_and_violations_exit_1(fitted) -> None:
    root, frame, _ = fitted
    result = runner.invoke(app, ["transform", str(root / "d.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "new.npz")])
    assert result.exit_code == 0, result.output
    bad = frame.head(10).copy()
    bad.loc[3, "a"] = 1e9
    bad.to_csv(root / "bad.csv", index=False)
    result = runner.invoke(app, ["transform", str(root / "bad.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "bad.npz")])
    assert result.exit_code == 1
    assert "expect_column_values_to_be_between" not in result.output  # messages are readable
    assert "column 'a': 1 value(s) outside" in result.output
    result = runner.invoke(app, ["transform", str(root / "bad.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "bad.npz"), "--on-invalid", "quarantine"])
    assert result.exit_code == 0 and "1 quarantined" in result.output


def test_an_all_empty_label_column_is_an_absent_label(fitted) -> None:
    """New rows to score often keep the label column, empty: arrays without y, said in one line."""
    root, frame, _ = fitted
    new = frame.head(20).assign(y="")
    new.to_csv(root / "empty_label.csv", index=False)
    result = runner.invoke(app, ["transform", str(root / "empty_label.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "empty_label.npz")])
    assert result.exit_code == 0, result.output
    assert "label column 'y' is empty in every row: treated as absent" in result.output
    with np.load(root / "empty_label.npz") as arrays:
        assert sorted(arrays) == ["X", "row"] and arrays["X"].shape[0] == 20
    # The same rows without the column give the same X.
    new.drop(columns="y").to_csv(root / "no_label.csv", index=False)
    result = runner.invoke(app, ["transform", str(root / "no_label.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "no_label.npz")])
    assert result.exit_code == 0 and "treated as absent" not in result.output
    with np.load(root / "empty_label.npz") as a, np.load(root / "no_label.npz") as b:
        np.testing.assert_array_equal(a["X"], b["X"])


def test_a_partly_empty_label_column_is_still_a_violation(fitted) -> None:
    root, frame, _ = fitted
    new = frame.head(20).astype({"y": "float64"})
    new.loc[[2, 5], "y"] = np.nan
    new.to_csv(root / "partial_label.csv", index=False)
    result = runner.invoke(app, ["transform", str(root / "partial_label.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "partial_label.npz")])
    assert result.exit_code == 1 and "column 'y': 2 missing value(s)" in result.output, result.output


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        (lambda f: f.drop(columns="b"), "missing column"),
        (lambda f: f.assign(new=1), "new column"),
        (lambda f: f.assign(a="text"), "no value parses"),
    ],
)
def test_bad_new_data_exit_2(fitted, change, phrase) -> None:
    root, frame, _ = fitted
    change(frame.head(20)).to_csv(root / "x.csv", index=False)
    result = runner.invoke(app, ["transform", str(root / "x.csv"), "--artifacts", str(root / "art"),
                                 "--out", str(root / "x.npz")])
    assert result.exit_code == 2
    assert phrase in result.output and "Traceback" not in result.output


def test_bad_artifacts_and_options_exit_2(fitted, tmp_path) -> None:
    root, _, _ = fitted
    result = runner.invoke(app, ["transform", str(root / "d.csv"), "--artifacts", str(tmp_path), "--out", "o.npz"])
    assert result.exit_code == 2 and "ArtifactError" in result.output
    for options, phrase in ((["--whiten", "pcaa"], "whiten"), (["--split", "0.5,0.1"], "sum"),
                            (["--label", "nope"], "nope")):
        args = ["fit-transform", str(root / "d.csv"), "--out", str(tmp_path / "a")]
        if "--label" not in options:
            args += ["--label", "y"]
        result = runner.invoke(app, args + options)
        assert result.exit_code == 2, result.output
        assert phrase in result.output
