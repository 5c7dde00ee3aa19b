"""One training session for `dataaudit train` and `run`: artifacts read once, both agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dataaudit.io.artifacts as artifacts_module
from dataaudit.cli import app
from dataaudit.config import PipelineConfig
from dataaudit.runner import _train
from dataaudit.training.config import TrainConfig
from dataaudit.training.session import train_session

QUICK = TrainConfig(hidden=(16,), max_epochs=2, batch_size=32, lr=1e-2)


def digits_artifacts(folder: Path, n: int) -> Path:
    """n rows of sklearn digits through fit_transform: real, verified artifacts."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_digits

    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))[:n]
    frame = pd.DataFrame(X[order], columns=[f"px{i}" for i in range(X.shape[1])])
    frame["y"] = y[order]
    fit_transform(frame, "y", folder, config=TransformConfig(near_duplicates=False, drop_exact_duplicates=False,
                                                              quarantine_conflicting=False))
    return folder


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return digits_artifacts(tmp_path_factory.mktemp("session"), n=400)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every io.load_artifacts call (the one reader that verifies a folder)."""
    seen: list[Path] = []
    original = artifacts_module.load_artifacts

    def counting(path, *args, **kwargs):
        seen.append(Path(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(artifacts_module, "load_artifacts", counting)
    return seen


def test_search_train_ensemble_read_the_artifacts_once(artifacts: Path, tmp_path: Path, reads: list[Path]) -> None:
    lines: list[str] = []
    session = train_session(artifacts, QUICK, tmp_path / "t", search_trials=2, ensemble=2, say=lines.append)
    assert reads == [artifacts]
    assert session.search is not None and session.ensemble is not None and len(session.sections) == 1
    assert session.config == session.search.best_config
    assert session.final["final_model"] == session.ensemble.chosen
    assert any(line.startswith("search: 2 trials") for line in lines)
    (chosen,) = [line for line in lines if line.startswith("ensembles: chose")]
    # The chosen model's test scores as text, four significant digits (not a dict of float reprs).
    assert re.fullmatch(r"ensembles: chose \w+ \(val loss \d\.\d{4}\); test loss [\d.]+, accuracy [\d.]+", chosen)
    assert not re.search(r"\d\.\d{5,}", chosen), chosen
    assert (tmp_path / "t" / "search.json").exists() and (tmp_path / "t" / "ensemble" / "ensemble.npz").exists()


def test_train_cli_reads_the_artifacts_once(artifacts: Path, tmp_path: Path, reads: list[Path]) -> None:
    result = CliRunner().invoke(app, ["train", str(artifacts), "--hidden", "16", "--epochs", "2", "--search", "2",
                                      "--ensemble", "2", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert reads == [artifacts]


def test_train_and_run_agree_on_the_same_config(artifacts: Path, tmp_path: Path, reads: list[Path]) -> None:
    # `dataaudit train` with the options a pipeline file gives `run`'s training stage.
    cli_out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["train", str(artifacts), "--hidden", "16", "--epochs", "2", "--lr", "0.01",
                                      "--batch-size", "32", "--seed", "0", "--ensemble", "2", "--out", str(cli_out)])
    assert result.exit_code == 0, result.output
    # `run`'s training stage, on the same artifacts (run trains from STAGE/artifacts into STAGE/training).
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "artifacts").symlink_to(artifacts, target_is_directory=True)
    config = PipelineConfig(name="same", data=artifacts, label="y", ensemble=2)
    train_config = TrainConfig.from_dict({"seed": 0, "hidden": [16], "max_epochs": 2, "lr": 0.01, "batch_size": 32})
    training, sections, final = _train(config, train_config, stage, None, lambda line: None)
    assert len(reads) == 2  # once per session
    cli = json.loads((cli_out / "training.json").read_text())
    run = json.loads((stage / "training" / "training.json").read_text())
    assert cli["config"] == run["config"]
    assert cli["metrics"]["test_accuracy"] == pytest.approx(run["metrics"]["test_accuracy"])
    assert cli["metrics"]["val_loss"] == pytest.approx(run["metrics"]["val_loss"])
    cli_ensemble = json.loads((cli_out / "ensemble" / "ensemble.json").read_text())
    run_ensemble = json.loads((stage / "training" / "ensemble" / "ensemble.json").read_text())
    assert cli_ensemble["chosen"] == run_ensemble["chosen"] == final["final_model"]
    assert len(sections) == 1
