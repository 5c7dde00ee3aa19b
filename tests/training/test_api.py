"""train_artifacts end to end, the saved files, the report section, and `dataaudit train`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.exceptions import ArtifactError
from dataaudit.training.api import load_trained_model, train_artifacts
from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import TrainData
from dataaudit.training.section import training_section

QUICK = TrainConfig(hidden=(32,), max_epochs=8, batch_size=32, lr=1e-2)


def digits_artifacts(folder: Path, n: int | None = None) -> Path:
    """sklearn digits through `fit_transform` (standardized on train, 80/10/10): real artifacts."""
    import pandas as pd
    from sklearn.datasets import load_digits

    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))[:n]
    frame = pd.DataFrame(X[order], columns=[f"px{i}" for i in range(X.shape[1])])
    frame["digit <b>"] = y[order]
    fit_transform(frame, "digit <b>", folder, config=TransformConfig(near_duplicates=False,
                                                                     drop_exact_duplicates=False,
                                                                     quarantine_conflicting=False))
    return folder


@pytest.fixture(scope="module")
def small_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return digits_artifacts(tmp_path_factory.mktemp("art"), n=600)


def test_train_artifacts_writes_everything(small_artifacts: Path, tmp_path: Path) -> None:
    lines: list[dict] = []
    report = train_artifacts(small_artifacts, QUICK, out=tmp_path / "out", on_log=lines.append)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [".dataaudit.json", "history.json", "model.json", "model.npz", "report.html",
                                                      "training.json"]
    history = json.loads((out / "history.json").read_text())
    assert history == json.loads(json.dumps(lines)) and len(history) == 8
    summary = json.loads((out / "training.json").read_text())
    assert [c["name"] for c in summary["checks"]] == [
        "init_loss", "gradient_check", "overfit_tiny_batch", "input_independent_baseline", "update_ratio",
        "dead_units", "train_val_gap"]
    assert summary["metrics"]["test_accuracy"] == pytest.approx(report.metrics["test_accuracy"])
    assert summary["metrics"]["test_accuracy"] > 0.85
    assert summary["diagnosis"] in ("fine", "overfitting", "underfitting")
    assert summary["config"] == QUICK.to_dict()
    with np.load(out / "model.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W0", "W1", "b0", "b1"]
        n_features = len(json.loads((small_artifacts / "manifest.json").read_text())["feature_names"])
        assert npz["W0"].shape == (n_features, 32)  # constant pixel columns are not features
    model = load_trained_model(out)
    data = TrainData.from_artifacts(small_artifacts)
    np.testing.assert_array_equal(model.predict(data.X_test), report.fit.model.predict(data.X_test))


def test_default_output_folder_and_report_html(small_artifacts: Path) -> None:
    report = train_artifacts(small_artifacts, QUICK.replace(max_epochs=2), run_checks=False)
    assert report.out == small_artifacts / "training"
    html = (small_artifacts / "training" / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "digit &lt;b&gt;" in html and "digit <b>" not in html  # data strings are escaped
    assert "<svg" in html
    assert not any(f'{attr}="http' in html for attr in ("src", "href"))  # loads nothing from the network
    assert report.checks == [] and "The recipe checks were not run." in html


def test_training_section(small_artifacts: Path, tmp_path: Path) -> None:
    report = train_artifacts(small_artifacts, QUICK, out=tmp_path, write_html=False)
    section = training_section(report)
    assert section.id == "training" and section.title == "Training"
    assert section.status in ("ok", "warning")
    assert "test accuracy" in section.summary
    for name in ("init_loss", "gradient_check", "train_val_gap"):
        assert name in section.html
    assert section.html.count("<svg") == 2  # loss and accuracy curves


def test_load_trained_model_refuses_foreign(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="lacks model.json"):
        load_trained_model(tmp_path)
    (tmp_path / "model.json").write_text('{"kind": "other"}')
    np.savez(tmp_path / "model.npz", W0=np.zeros(2))
    with pytest.raises(ArtifactError, match="not a dataaudit MLP"):
        load_trained_model(tmp_path)


@pytest.mark.slow
def test_digits_default_config_reaches_96_percent(tmp_path: Path) -> None:
    folder = digits_artifacts(tmp_path / "digits")
    report = train_artifacts(folder, TrainConfig())
    assert report.metrics["test_accuracy"] >= 0.96
    assert report.status == "passed", [c["reason"] for c in report.checks if c["status"] != "passed"]


def test_cli_train(small_artifacts: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(small_artifacts), "--hidden", "32", "--epochs", "3", "--lr", "0.01",
                                 "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "step " in result.output and "| val acc " in result.output and "ms/step" in result.output
    assert "gradient_check" in result.output and "diagnosis:" in result.output
    assert (tmp_path / "cli" / "model.npz").exists()
    saved = json.loads((tmp_path / "cli" / "training.json").read_text())
    assert saved["config"]["hidden"] == [32] and saved["config"]["max_epochs"] == 3


@pytest.mark.parametrize(("args", "phrase"), [
    (["--activation", "swish"], "activation='swish'"),
    (["--hidden", "a,b"], "hidden="),
    (["--search", "0"], "--search must be >= 1"),
])
def test_cli_bad_options_exit_2(small_artifacts: Path, args: list[str], phrase: str) -> None:
    result = CliRunner().invoke(app, ["train", str(small_artifacts), *args])
    assert result.exit_code == 2
    assert "ConfigError" in result.output and phrase in result.output


def test_cli_missing_artifacts_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "ArtifactError" in result.output and "does not exist" in result.output


def test_cli_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0 and "Example: dataaudit train artifacts/" in result.output


def test_cli_search_and_ensemble_options(small_artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "searched"
    result = CliRunner().invoke(app, ["train", str(small_artifacts), "--hidden", "16", "--epochs", "2",
                                      "--search", "2", "--ensemble", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trial 0" in result.output and "best trial" in result.output and "ensembles: chose" in result.output
    assert (out / "search.json").exists() and (out / "ensemble" / "ensemble.npz").exists()
    html = (out / "report.html").read_text()
    assert 'id="training"' in html and 'id="search"' in html


def test_report_severity_is_the_worst_flagged_one_info_included() -> None:
    from dataaudit.training.api import TrainingReport
    from dataaudit.training.checks import check_result
    from dataaudit.training.config import TrainConfig

    def report(*severities: str | None) -> TrainingReport:
        checks = [check_result(f"c{i}", s, 0.0, 0.0, "r") for i, s in enumerate(severities)]
        return TrainingReport(config=TrainConfig(), data={}, checks=checks, history=[], metrics={}, diagnosis="fine")

    assert report(None, None).severity is None
    assert report(None, "info").severity == "info"
    assert report("info", "warning").severity == "warning"
    assert report("warning", "error", "info").severity == "error"


def test_the_out_of_fold_ceiling_travels_from_the_findings_to_train(tmp_path: Path) -> None:
    # fit-transform records what inspect's label models reached; train reads it from the manifest.
    import pandas as pd

    from dataaudit.audit import run_checks
    from dataaudit.dataset import Dataset
    from dataaudit.transforms.pipeline import fit_transform

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = np.where(frame["a"] + rng.normal(scale=1.0, size=400) > 0, "yes", "no")  # a hard target
    audit = run_checks(Dataset.from_frame(frame, label="y"), workers=1)
    expected = audit.check("label_issues").stats["cv_accuracy"]["ensemble"]
    fit_transform(frame, "y", tmp_path / "art", findings=audit)
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    ceiling = manifest["cleaning"]["label_ceiling"]
    assert ceiling["out_of_fold_accuracy"] == pytest.approx(expected, abs=1e-6) and ceiling["models"]
    assert TrainData.from_artifacts(tmp_path / "art").label_ceiling == ceiling
    # Without findings that hold label_issues (the default policy keeps suspects) there is none.
    fit_transform(frame, "y", tmp_path / "plain")
    assert json.loads((tmp_path / "plain" / "manifest.json").read_text())["cleaning"]["label_ceiling"] is None
    assert TrainData.from_artifacts(tmp_path / "plain").label_ceiling is None
