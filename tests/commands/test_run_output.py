"""What `dataaudit run` prints: lines a person reads (no Python dicts, no float reprs), the test
accuracy once, the columns fit-transform dropped, and usage lines naming the arguments as the help does."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app


def table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n).round(4) for i in range(3)})
    frame["label"] = np.where(frame["x0"] + rng.normal(scale=0.8, size=n) > 0, "yes", "no")
    frame["leak"] = np.where(frame["label"] == "yes", "Y", "N")  # a copy of the label
    frame.loc[[5, 50, 150], "label"] = None  # rows without a label are quarantined
    return frame


@pytest.mark.parametrize("ensemble", [0, 2])
def test_run_prints_human_lines(tmp_path, ensemble: int) -> None:
    table().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "p.toml").write_text(
        'name = "p"\n[dataset]\npath = "data.csv"\nlabel = "label"\n[inspect]\nfail_on = "none"\n'
        '[transform]\nsplit = [0.8, 0.1, 0.1]\n'
        f'[train]\nhidden = [8]\nmax_epochs = 3\n{f"ensemble = {ensemble}" if ensemble else ""}\n',
        encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(tmp_path / "p.toml"), "--out", str(tmp_path / "out"),
                                      "--no-progress", "--compare-without-cleaning"])
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "{" not in output and "}" not in output, output  # no Python dicts
    assert not re.search(r"\d\.\d{6,}", output), output  # no float reprs: 4 decimals at most
    line = next(x for x in output.splitlines() if x.startswith("fit-transform: "))
    assert re.match(r"fit-transform: 300 rows → [\d,]+ train / [\d,]+ val / [\d,]+ test rows, \d+ features, "
                    r"quarantined 3 rows \(missing_label 3\)", line), line
    assert "dropped column 'leak': label_leakage" in output
    assert len(re.findall(r"test accuracy", output)) == 1, output
    final = next(x for x in output.splitlines() if x.startswith("test accuracy "))
    assert re.match(r"test accuracy \d\.\d{4} \((single model|\w+ ensemble)[;)]", final), final
    if ensemble:
        assert re.search(r"^ensembles: chose \w+ \(val loss \d\.\d{4}\)$", output, re.M), output


@pytest.mark.parametrize(("command", "argument"), [("inspect", "DATA"), ("fit-transform", "DATA"),
                                                   ("transform", "DATA"), ("train", "ARTIFACTS"),
                                                   ("run", "PIPELINE")])
def test_usage_names_the_argument_like_the_help(command: str, argument: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    usage = next(x for x in result.output.splitlines() if "Usage:" in x)
    assert usage.rstrip().endswith(f"{command} [OPTIONS] {argument}"), usage


def test_fit_transform_prints_the_split_line_run_prints(tmp_path) -> None:
    table().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "p.toml").write_text(
        'name = "p"\n[dataset]\npath = "data.csv"\nlabel = "label"\n[inspect]\nfail_on = "none"\n'
        '[transform]\nsplit = [0.8, 0.1, 0.1]\n[train]\nhidden = [8]\nmax_epochs = 1\n', encoding="utf-8")
    ran = CliRunner().invoke(app, ["run", str(tmp_path / "p.toml"), "--out", str(tmp_path / "run"), "--no-progress"])
    assert ran.exit_code == 0, ran.output
    run_line = next(x for x in ran.stdout.splitlines() if x.startswith("fit-transform: "))
    split = re.match(r"fit-transform: (.*) \([\d.]+ s\) → ", run_line).group(1)  # type: ignore[union-attr]
    assert split.endswith("quarantined 3 rows (missing_label 3)"), split
    done = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "data.csv"), "--label", "label", "--split",
                                    "0.8,0.1,0.1", "--out", str(tmp_path / "art"), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert split in done.stdout.splitlines(), done.stdout
