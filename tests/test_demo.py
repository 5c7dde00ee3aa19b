"""The demo end to end: planted defects found, test accuracy on the clean held-out set, one report."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dataaudit.cli import app


def test_demo_runs_every_stage(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Report: {(out / 'report.html').resolve()}" in result.output
    # Lines a person reads: no Python dicts or float reprs, the test accuracy once.
    assert "{" not in result.output and result.output.count("test accuracy") == 1, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] >= 0.96
    assert summary["without_cleaning"]["test_accuracy"] is not None
    planted = summary["planted_defects"]
    for code in ("exact_duplicate", "near_duplicate", "conflicting_labels"):
        assert planted[code]["recall"] == 1.0 and planted[code]["precision"] == 1.0, (code, planted[code])
    assert planted["label_issue"]["recall"] >= 0.8
    # Row accounting across the whole pipeline: every input row is in a split or quarantined.
    manifest = json.loads((out / "artifacts" / "manifest.json").read_text())
    sizes = summary["transform"]["sizes"]
    assert manifest["input"]["n_rows"] == sizes["train"] + sizes["val"] + summary["transform"]["n_quarantined"]
    html = (out / "report.html").read_text()
    for section in ('id="findings"', 'id="transform"', 'id="training"', 'id="run-summary"'):
        assert section in html


def test_run_pipeline_file(tmp_path):
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        'name = "bc"\n[dataset]\nbuiltin = "breast_cancer"\nlabel = "label"\n'
        '[transform]\nsplit = [0.85, 0.15, 0.0]\nwhiten = "pca"\npca_components = 0.99\n'
        '[train]\nhidden = [32]\nmax_epochs = 150\npatience = 20\n'
        f'[output]\ndir = "{(tmp_path / "out").as_posix()}"\n'
    )
    result = CliRunner().invoke(app, ["run", str(pipeline), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.85
    assert (tmp_path / "out" / "artifacts" / "manifest.json").exists()


def test_bad_pipeline_file_exit_2(tmp_path):
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('[dataset]\npath = "x.csv"\nlabel = "y"\nbogus = 1\n')
    result = CliRunner().invoke(app, ["run", str(pipeline)])
    assert result.exit_code == 2
    assert "unknown key(s) ['bogus']" in result.output
