"""Pipeline files are validated whole before any stage runs; [inspect] fail_on stops the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.config import load_pipeline
from dataaudit.exceptions import ConfigError

runner = CliRunner()


def _table(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    frame["y"] = (frame["a"] > 0).astype(int)
    frame = pd.concat([frame, frame.head(5)], ignore_index=True)  # exact copies: a warning
    frame.to_csv(folder / "d.csv", index=False)
    return folder / "d.csv"


@pytest.mark.parametrize(("table", "phrase"), [
    ('[train]\nlr = "fast"\n', "[train]: lr = 'fast' (string) is invalid"),
    ("[train]\nmax_epochs = 1e12\n", "max_epochs = 1000000000000.0 (float) is invalid"),
    ("[train]\nmax_epochs = 1000000000000\n", "max_epochs=1000000000000 must be at most"),
    ('[transform]\nwhiten = "sideways"\n', "whiten='sideways' is not one of"),
    ('[transform]\nseed = -1\n', "seed=-1 must be an integer >= 0"),
    ("[inspect.checks.duplicates]\nno_such = 1\n", "has no option(s) ['no_such']"),
    ('[inspect]\nonly = ["nope"]\n', "unknown check(s) ['nope']"),
])
def test_late_tables_fail_at_load_before_any_stage(tmp_path: Path, table: str, phrase: str) -> None:
    _table(tmp_path)
    path = tmp_path / "p.toml"
    path.write_text(f'[dataset]\npath = "d.csv"\nlabel = "y"\n[output]\ndir = "{tmp_path / "out"}"\n{table}')
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert phrase in str(info.value) and str(path) in str(info.value)
    result = runner.invoke(app, ["run", str(path)])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and phrase in lines[0]
    assert not (tmp_path / "out").exists()  # nothing ran


@pytest.mark.parametrize("content", [b"\xff\xfename = 1", b'name = "caf\xe9"'])
def test_non_utf8_pipeline_is_one_line(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "p.toml").write_bytes(content)
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_pipeline(tmp_path / "p.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_pipeline(tmp_path)


def test_fail_on_stops_after_inspect(tmp_path: Path) -> None:
    _table(tmp_path)
    out = tmp_path / "out"
    path = tmp_path / "p.toml"
    base = f'[dataset]\npath = "d.csv"\nlabel = "y"\n[output]\ndir = "{out}"\n[train]\nmax_epochs = 2\n'
    path.write_text(base + '[inspect]\nfail_on = "warning"\nonly = ["duplicates"]\n')
    result = runner.invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("FindingsAtThreshold:") and "fail_on = 'warning'" in lines[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_after"] == "inspect" and summary["worst_severity"] == "warning"
    assert (out / "findings.json").exists() and (out / "report.html").exists()
    assert not (out / "artifacts").exists()
    assert load_pipeline(path).fail_on == "warning"
    path.write_text(base + '[inspect]\nfail_on = "error"\nonly = ["duplicates"]\n')
    assert load_pipeline(path).fail_on == "error"
