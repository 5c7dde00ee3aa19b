"""Dataset.task (the stated rule, --task override) and Dataset.group (--group) through every entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.config import load_pipeline
from dataaudit.dataset import Dataset, infer_task
from dataaudit.exceptions import ConfigError, InputError
from dataaudit.io.loading import load_dataset


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (np.arange(200) * 1.37, "regression"),  # many non-integer values: a measurement
        (np.arange(200), "regression"),  # 200 distinct integers (prices, counts): more than 50
        (np.linspace(0.5, 6.5, 13), "regression"),  # 13 distinct non-integer values
        ([0.5, 1.5, 2.5] * 20, "classification"),  # a handful of codes that happen to be fractions
        (list(range(10)) * 10, "classification"),  # ten integer codes (digits)
        ([0.0, 1.0] * 30, "classification"),  # 0/1 read as floats (a missing label makes ints float)
        (["a", "b"] * 30, "classification"),
        ([True, False] * 30, "classification"),
    ],
)
def test_infer_task_rule(values: list, task: str) -> None:
    decided, reason = infer_task(pd.Series(values))
    assert decided == task
    assert reason


def test_task_override_and_reason() -> None:
    frame = pd.DataFrame({"x": np.arange(60), "y": np.arange(60) % 3})
    assert Dataset.from_frame(frame, label="y").task == "classification"
    forced = Dataset.from_frame(frame, label="y", task="regression")
    assert forced.task == "regression"
    assert forced.task_reason == "--task regression"
    assert forced.describe_input()["task"] == "regression"
    assert Dataset.from_frame(frame).task is None


def test_task_errors() -> None:
    frame = pd.DataFrame({"x": np.arange(30), "y": ["a", "b", "c"] * 10})
    with pytest.raises(ConfigError, match="--task must be one of"):
        Dataset.from_frame(frame, label="y", task="ranking")
    with pytest.raises(InputError, match="needs a numeric label"):
        Dataset.from_frame(frame, label="y", task="regression")


def test_group_is_never_a_feature() -> None:
    frame = pd.DataFrame({"patient": np.repeat(np.arange(10), 3), "x": np.arange(30.0), "y": [0, 1, 1] * 10})
    dataset = Dataset.from_frame(frame, label="y", group="patient")
    assert dataset.group == "patient"
    assert dataset.roles["patient"] == "id"
    assert "patient" not in dataset.feature_matrix[1]
    assert dataset.describe_input()["group"] == "patient"
    with pytest.raises(InputError, match="Group column 'nope' not found"):
        Dataset.from_frame(frame, label="y", group="nope")
    with pytest.raises(InputError, match="is the label"):
        Dataset.from_frame(frame, label="y", group="y")


def test_test_file_inherits_task_and_group(tmp_path: Path) -> None:
    frame = pd.DataFrame({"s": np.repeat(np.arange(20), 3), "x": np.arange(60.0), "y": np.arange(60) % 2})
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.to_csv(tmp_path / "test.csv", index=False)
    train = load_dataset(tmp_path / "train.csv", label="y", group="s", task="regression")
    test = load_dataset(tmp_path / "test.csv", label="y", reference=train)
    assert (test.task, test.group) == ("regression", "s")


def test_cli_inspect_records_group_and_task(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"subject": np.repeat(np.arange(40), 3), "x": rng.normal(size=120),
                          "y": rng.integers(0, 3, 120)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "d.csv"), "--label", "y", "--group", "subject",
                                      "--task", "regression", "--out", str(tmp_path / "out"), "--no-report", "-q"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "out" / "findings.json").read_text())["input"]
    assert (info["group"], info["task"], info["task_reason"]) == ("subject", "regression", "--task regression")
    bad = CliRunner().invoke(app, ["inspect", str(tmp_path / "d.csv"), "--label", "y", "--group", "who",
                                   "--out", str(tmp_path / "out2"), "-q"])
    assert bad.exit_code == 2
    assert "Group column 'who' not found" in bad.output


def test_cli_fit_transform_records_group_and_task(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"subject": np.repeat(np.arange(60), 2), "x": rng.normal(size=120),
                          "z": rng.normal(size=120), "y": rng.integers(0, 2, 120)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "art"
    result = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "d.csv"), "--label", "y", "--group", "subject",
                                      "--task", "regression", "--no-near-duplicates", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["label"]["task"] == "regression"
    assert manifest["split"]["group"] == "subject"
    assert manifest["config"]["group"] == "subject"
    assert "subject" in manifest["dropped_columns"]
    with np.load(out / "train.npz", allow_pickle=False) as train:
        assert train["y"].dtype == np.float64  # a regression target is saved as raw floats
    bad = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "d.csv"), "--label", "y", "--task", "ranking",
                                   "--out", str(tmp_path / "art2")])
    assert bad.exit_code == 2
    assert "task" in bad.output


def test_pipeline_group_and_task_keys(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("subject,x,y\n1,2,3\n")  # the pipeline's data file must exist
    (tmp_path / "p.toml").write_text('[dataset]\npath = "d.csv"\nlabel = "y"\ngroup = "subject"\ntask = "regression"\n')
    config = load_pipeline(tmp_path / "p.toml")
    assert (config.group, config.task) == ("subject", "regression")
    (tmp_path / "q.toml").write_text('[dataset]\npath = "d.csv"\nlabel = "y"\ntask = "ranking"\n')
    with pytest.raises(ConfigError, match="task must be"):
        load_pipeline(tmp_path / "q.toml")
    (tmp_path / "r.toml").write_text('[dataset]\npath = "d.csv"\nlabel = "y"\ngroup = 3\n')
    with pytest.raises(ConfigError, match="group = 3 .* must be a string"):
        load_pipeline(tmp_path / "r.toml")
