"""fit_transform drops the columns label_leakage flags (noted in the manifest), unless told to keep them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.findings import AuditResult, CheckResult, Finding
from dataaudit.transforms.pipeline import TransformConfig, fit_transform


def _frame(n: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    frame["y"] = np.where(frame["x0"] + rng.normal(size=n) > 0, "pos", "neg")
    frame["outcome_code"] = frame["y"].map({"pos": 1.0, "neg": -1.0}) * rng.uniform(1, 2, n)  # sign = label
    return frame


def test_leaky_column_dropped_by_default_and_recorded(tmp_path) -> None:
    summary = fit_transform(_frame(), "y", tmp_path / "a", config=TransformConfig(near_duplicates=False))
    assert not any(name.startswith("outcome_code") for name in summary.feature_names)
    assert "x0" in summary.feature_names
    cleaning = summary.manifest["cleaning"]
    assert list(cleaning["dropped_leaky_columns"]) == ["outcome_code"]
    assert "outcome_code" in cleaning["dropped_leaky_columns"]["outcome_code"]  # the evidence message
    assert any("--keep-leaky" in note for note in cleaning["notes"])
    assert "label_leakage" in summary.manifest["dropped_columns"]["outcome_code"]


def test_keep_leaky_keeps_the_column(tmp_path) -> None:
    config = TransformConfig(near_duplicates=False, keep_leaky=True)
    summary = fit_transform(_frame(), "y", tmp_path / "a", config=config)
    assert "outcome_code" in summary.feature_names
    assert summary.manifest["cleaning"]["dropped_leaky_columns"] == {}
    assert TransformConfig.from_dict({"keep_leaky": True}).keep_leaky  # pipeline key [transform] keep_leaky


def test_leaky_columns_taken_from_findings(tmp_path) -> None:
    frame = _frame()
    audit = AuditResult(input={}, checks=[CheckResult(check="label_leakage", findings=[
        Finding("label_leakage", "label_leakage", "error", "x1 determines y", columns=("x1",))])])
    summary = fit_transform(frame, "y", tmp_path / "a", findings=audit, config=TransformConfig(near_duplicates=False))
    assert "x1" not in summary.feature_names and "outcome_code" in summary.feature_names
    assert list(summary.manifest["cleaning"]["dropped_leaky_columns"]) == ["x1"]


def test_cli_prints_the_drop_and_keep_leaky_option(tmp_path) -> None:
    path = tmp_path / "data.csv"
    _frame().to_csv(path, index=False)
    runner = CliRunner()
    out = runner.invoke(app, ["fit-transform", str(path), "--label", "y", "--out", str(tmp_path / "a"),
                              "--no-near-duplicates"])
    assert out.exit_code == 0, out.output
    assert "dropped column 'outcome_code': label_leakage" in out.output
    kept = runner.invoke(app, ["fit-transform", str(path), "--label", "y", "--out", str(tmp_path / "b"),
                               "--no-near-duplicates", "--keep-leaky"])
    assert kept.exit_code == 0, kept.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert "outcome_code" not in manifest["dropped_columns"]


def test_artifacts_with_a_dropped_leaky_column_load_and_transform(tmp_path) -> None:
    from dataaudit.io.artifacts import load_artifacts
    from dataaudit.transforms.pipeline import transform

    frame = _frame()
    fit_transform(frame, "y", tmp_path / "a", config=TransformConfig(near_duplicates=False))
    assert load_artifacts(tmp_path / "a") is not None
    path = tmp_path / "new.csv"
    frame.head(50).to_csv(path, index=False)
    outcome = transform(path, tmp_path / "a", tmp_path / "new.npz")
    assert outcome.n_transformed == 50


def test_pair_leak_drops_only_the_columns_that_carry_it(tmp_path) -> None:
    rng = np.random.default_rng(1)
    year = np.repeat(np.arange(2010, 2016), 150)
    frame = pd.DataFrame({"year": year, "score": rng.normal(size=len(year)) + (year - 2013) * 0.3,
                          "x": rng.normal(size=len(year))})
    frame["quartile"] = frame.groupby("year")["score"].transform(lambda s: pd.qcut(s, 4, labels=False)).astype(int)
    summary = fit_transform(frame, "quartile", tmp_path / "a", config=TransformConfig(near_duplicates=False))
    assert list(summary.manifest["cleaning"]["dropped_leaky_columns"]) == ["score"]
    assert "year" in summary.feature_names and "x" in summary.feature_names
