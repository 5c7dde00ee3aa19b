"""Commands raise DataAuditErrors for failures; cli_errors alone turns them into exit codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.exceptions import ConfigError, FindingsAtThreshold, ValidationFailed

runner = CliRunner()


def _table(path, n=120):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = (frame["a"] + rng.normal(size=n) > 0).astype(int)  # informative, not a copy of the label
    frame = pd.concat([frame, frame.iloc[:4]], ignore_index=True)  # exact copies: a warning
    frame.to_csv(path, index=False)
    return frame


def test_fail_on_prints_the_summary_then_one_line(tmp_path) -> None:
    path = tmp_path / "d.csv"
    _table(path)
    result = runner.invoke(app, ["inspect", str(path), "--label", "y", "--check", "duplicates", "--no-report",
                                 "--out", str(tmp_path / "o"), "--fail-on", "warning"])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("FindingsAtThreshold: ")
    assert "at or above severity 'warning'" in lines[-1] and "finding(s)" in lines[-1]
    assert any("warnings" in line for line in lines[:-1])  # the summary came first
    assert "Traceback" not in result.output
    assert (tmp_path / "o" / "findings.json").exists()
    # --debug: the exception itself propagates (the one boundary lets it through).
    debug = runner.invoke(app, ["--debug", "inspect", str(path), "--label", "y", "--check", "duplicates",
                                "--no-report", "--out", str(tmp_path / "p"), "--fail-on", "warning"])
    assert isinstance(debug.exception, FindingsAtThreshold)
    ok = runner.invoke(app, ["inspect", str(path), "--label", "y", "--check", "duplicates", "--no-report",
                             "--out", str(tmp_path / "q"), "--fail-on", "error"])
    assert ok.exit_code == 0, ok.output


def test_transform_violations_list_then_validation_failed_with_cause(tmp_path) -> None:
    path = tmp_path / "d.csv"
    frame = _table(path)
    fitted = runner.invoke(app, ["fit-transform", str(path), "--label", "y", "--no-near-duplicates",
                                 "--out", str(tmp_path / "art")])
    assert fitted.exit_code == 0, fitted.output
    bad = frame.head(10).copy()
    bad.loc[3, "a"] = 1e9
    bad.to_csv(tmp_path / "bad.csv", index=False)
    args = ["transform", str(tmp_path / "bad.csv"), "--artifacts", str(tmp_path / "art"),
            "--out", str(tmp_path / "bad.npz")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert "expectation(s) violated:" in lines[0]
    assert any(line.startswith("  - ") and "column 'a'" in line for line in lines)
    assert lines[-1].startswith("ValidationFailed: ") and "--on-invalid quarantine" in lines[-1]
    debug = runner.invoke(app, ["--debug", *args])
    assert isinstance(debug.exception, ValidationFailed)
    assert isinstance(debug.exception.__cause__, ValidationFailed)  # the library's own, chained


def test_bad_option_cause_is_chained(tmp_path) -> None:
    path = tmp_path / "d.csv"
    _table(path)
    args = ["inspect", str(path), "--image-shape", "eightxeight", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, ["--debug", *args])
    assert isinstance(result.exception, ConfigError)
    assert isinstance(result.exception.__cause__, ValueError)  # int()'s own error, shown under --debug
    plain = runner.invoke(app, args)
    assert plain.exit_code == 2 and "Traceback" not in plain.output


@pytest.mark.parametrize("module", ["inspect", "transform", "fit_transform", "train", "run"])
def test_commands_raise_no_typer_exit_for_failures(module) -> None:
    import inspect as pyinspect

    import dataaudit.commands as commands

    source = pyinspect.getsource(getattr(__import__(f"{commands.__name__}.{module}").commands, module))
    assert "typer.Exit(" not in source and "from None" not in source
