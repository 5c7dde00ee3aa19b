"""`dataaudit run` with ``[transform] chunksize``: the chunked fit streams the pipeline's file (as
``fit-transform --chunksize`` does) and gives the in-memory run's arrays where the chunked fit
promises it: the same rows in each split, the same labels, X and the scaler statistics within
1e-6 / 1e-9 (README, *Larger than memory*)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app

N_ROWS = 400
CHUNKSIZE = 70  # several chunks, the last one short


def table(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": (rng.normal(size=n) * 10 ** (i - 1) + i).round(5) for i in range(4)})
    frame.loc[rng.choice(n, 20, replace=False), "x2"] = np.nan  # a missing-indicator column
    frame["colour"] = rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2])
    frame["label"] = rng.choice(["a", "b", "c"], size=n)
    copies = frame.iloc[[3, n // 2, n - 10]]  # exact copies in other chunks: quarantined the same way
    return pd.concat([frame, copies], ignore_index=True)


def pipeline(folder: Path, name: str, data: Path, transform: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\n[dataset]\npath = "{data.name}"\nlabel = "label"\n'
        '[inspect]\nonly = ["duplicates", "near_duplicates", "class_balance", "missing_values"]\n'
        f'[transform]\nwhiten = "zca"\ndtype = "float64"\n{transform}'
        '[train]\nmax_epochs = 2\n', encoding="utf-8")
    return path


def invoke(args: list[object]) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)


def one_line_error(args: list[object]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr
    return lines[0]


def test_run_with_transform_chunksize_equals_the_in_memory_run(tmp_path):
    data = tmp_path / "data.csv"
    table().to_csv(data, index=False)
    invoke(["run", pipeline(tmp_path, "memory", data, ""), "--out", tmp_path / "memory", "--quiet", "--no-progress"])
    invoke(["run", pipeline(tmp_path, "chunked", data, f"chunksize = {CHUNKSIZE}\n"), "--out", tmp_path / "chunked",
            "--quiet", "--no-progress", "--compare-without-cleaning"])
    memory, chunked = tmp_path / "memory" / "artifacts", tmp_path / "chunked" / "artifacts"
    manifest = json.loads((chunked / "manifest.json").read_text(encoding="utf-8"))
    assert f'"chunksize": {CHUNKSIZE}' in json.dumps(manifest)  # the chunked fit ran, from the file
    assert "chunksize" not in (memory / "manifest.json").read_text(encoding="utf-8").replace('"chunksize": null', "")
    for split in ("train", "val", "test"):
        a, b = np.load(memory / f"{split}.npz"), np.load(chunked / f"{split}.npz")
        assert len(a["row"]) > 0
        np.testing.assert_array_equal(b["row"], a["row"], err_msg=split)
        np.testing.assert_array_equal(b["y"], a["y"], err_msg=split)
        np.testing.assert_allclose(b["X"], a["X"], rtol=0, atol=1e-6, err_msg=split)
    a, b = np.load(memory / "transform.npz"), np.load(chunked / "transform.npz")
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        if np.issubdtype(a[key].dtype, np.floating):
            np.testing.assert_allclose(b[key], a[key], rtol=0, atol=1e-6, err_msg=key)
        else:
            np.testing.assert_array_equal(b[key], a[key], err_msg=key)
    quarantined = pd.read_csv(chunked / "quarantine.csv")
    assert len(quarantined) == 3 and quarantined.equals(pd.read_csv(memory / "quarantine.csv"))
    assert (tmp_path / "chunked" / "report.html").is_file()
    # The comparison without the audit's cleaning streams the file too: the copies stay in.
    summary = json.loads((tmp_path / "chunked" / "summary.json").read_text(encoding="utf-8"))
    assert sum(summary["without_cleaning"]["sizes"].values()) == N_ROWS + 3
    # The file the chunked fit read is the pipeline's, named by its real path (no staging folder).
    assert str(data) in json.dumps(manifest) and ".dataaudit-tmp" not in json.dumps(manifest)


@pytest.mark.parametrize("extra, phrase", [
    ('[dataset]\nbuiltin = "digits"\n', "builtin"),
    ('[dataset]\npath = "data.csv"\ntest = "data.csv"\nlabel = "label"\n', "[dataset] test"),
    ('[dataset]\npath = "data.csv"\nlabel = "label"\n', "[transform] val"),
    ('[dataset]\npath = "data.parquet"\nlabel = "label"\n', "Parquet"),
])
def test_chunksize_with_what_the_chunked_fit_cannot_read_is_refused_at_load(tmp_path, extra, phrase):
    table(60).to_csv(tmp_path / "data.csv", index=False)
    table(60).to_parquet(tmp_path / "data.parquet")
    transform = f"[transform]\nchunksize = {CHUNKSIZE}\n"
    if phrase == "[transform] val":
        transform += 'val = "data.csv"\n'
    (tmp_path / "p.toml").write_text(f'name = "p"\n{extra}{transform}', encoding="utf-8")
    line = one_line_error(["run", tmp_path / "p.toml", "--out", tmp_path / "out", "--quiet", "--no-progress"])
    assert "chunksize" in line and phrase in line, line
    assert not (tmp_path / "out").exists()
