"""A validation or test split too small to judge a model on is said loudly: fit-transform's console
and manifest (`split.warnings`), `dataaudit run`'s output, and train's gap check (info, not a diagnosis)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.transforms.config import TransformConfig
from dataaudit.transforms.pipeline import fit_transform
from dataaudit.transforms.split import small_split_problem, small_split_warnings

runner = CliRunner()


def cars_like(n: int = 93, seed: int = 0) -> pd.DataFrame:
    """Cars93's shape: 93 rows, 6 classes of 9 to 22 rows (Large, Sporty and Van the rare ones)."""
    rng = np.random.default_rng(seed)
    counts = {"Compact": 16, "Large": 11, "Midsize": 22, "Small": 21, "Sporty": 14, "Van": 9}
    label = np.repeat(list(counts), list(counts.values()))[:n]
    frame = pd.DataFrame({f"x{i}": rng.normal(size=len(label)).round(4) for i in range(3)})
    frame["Type"] = label
    return frame


def test_small_split_problem_names_rows_and_thin_classes() -> None:
    assert small_split_problem(np.zeros(30, dtype=np.int64), "classification", 1) is None
    assert small_split_problem(np.zeros(0), "classification", 3) is None  # nothing evaluated on it
    assert small_split_problem(np.arange(9) % 2, "regression") == "9 rows (fewer than 30)"
    y = np.array([0] * 20 + [1] * 20 + [2])
    assert small_split_problem(y, "classification", 4, ["a", "b", "c", "d"]) == (
        "2 of 4 classes with fewer than 2 rows (c: 1, d: 0)")
    lines = small_split_warnings({"val": y, "test": np.arange(45) % 3}, "classification", [0, 1, 2])
    assert len(lines) == 1 and lines[0].startswith("TOO SMALL TO JUDGE: the validation split has 1 of 3 classes")
    assert "--split" in lines[0] and "cross-validation" in lines[0]


def test_fit_transform_warns_on_a_93_row_table_and_records_it(tmp_path) -> None:
    cars_like().to_csv(tmp_path / "cars.csv", index=False)
    result = runner.invoke(app, ["fit-transform", str(tmp_path / "cars.csv"), "--label", "Type",
                                 "--out", str(tmp_path / "art"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "93 rows → 75 train / 9 val / 9 test rows, 3 features, quarantined 0 rows" in result.output
    warnings = json.loads((tmp_path / "art" / "manifest.json").read_text())["split"]["warnings"]
    assert [w.split(" has ")[0] for w in warnings] == ["TOO SMALL TO JUDGE: the validation split",
                                                        "TOO SMALL TO JUDGE: the test split"]
    assert all("9 rows (fewer than 30)" in w and "classes with fewer than 2 rows" in w for w in warnings)
    for line in warnings:
        assert line in result.stderr

    # train: the gap on 9 validation rows is info with its reason, not a confident "Overfitting".
    result = runner.invoke(app, ["train", str(tmp_path / "art"), "--out", str(tmp_path / "tr")])
    assert result.exit_code == 0, result.output
    training = json.loads((tmp_path / "tr" / "training.json").read_text())
    gap = next(c for c in training["checks"] if c["name"] == "train_val_gap")
    assert (gap["status"], gap["severity"], training["diagnosis"]) == ("flagged", "info", "unknown")
    assert gap["reason"].startswith("Weak evidence: the validation set has 9 rows")
    # A flagged training.json always names its worst severity (info when only weak signals flagged).
    assert training["status"] == "flagged" and training["severity"] in ("info", "warning", "error")


def test_normal_size_splits_have_no_warning(tmp_path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=600).round(4), "b": rng.normal(size=600).round(4)})
    frame["y"] = rng.choice(["p", "q", "r"], 600)
    frame.to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(app, ["fit-transform", str(tmp_path / "d.csv"), "--label", "y",
                                 "--out", str(tmp_path / "art"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.output and "TOO SMALL" not in result.output
    assert json.loads((tmp_path / "art" / "manifest.json").read_text())["split"]["warnings"] == []


def test_chunked_fit_records_the_same_warnings(tmp_path) -> None:
    cars_like().to_csv(tmp_path / "cars.csv", index=False)
    memory = fit_transform(tmp_path / "cars.csv", "Type", tmp_path / "m", config=TransformConfig())
    chunked = fit_transform(tmp_path / "cars.csv", "Type", tmp_path / "c", config=TransformConfig(chunksize=40))
    assert memory.manifest["split"]["warnings"] == chunked.manifest["split"]["warnings"] != []


def test_run_prints_the_small_split_warning(tmp_path) -> None:
    cars_like().to_csv(tmp_path / "cars.csv", index=False)
    (tmp_path / "p.toml").write_text(
        'name = "p"\n[dataset]\npath = "cars.csv"\nlabel = "Type"\n[inspect]\nfail_on = "none"\n'
        '[train]\nhidden = [8]\nmax_epochs = 3\n', encoding="utf-8")
    result = runner.invoke(app, ["run", str(tmp_path / "p.toml"), "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "TOO SMALL TO JUDGE: the validation split has 9 rows (fewer than 30)" in result.output
    assert "TOO SMALL TO JUDGE: the test split has 9 rows (fewer than 30)" in result.output
