"""``transform``'s NEW.npz and NEW.quarantine.csv appear as a pair or not at all: a failed write or
commit leaves every file as it was, and a run killed between the two renames is finished by the
next write into the folder."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.io.artifacts import NpzStreamWriter
from dataaudit.io.file_set import recover_file_set
from dataaudit.io.record import read_record

ROOT = Path(__file__).resolve().parents[2]


def table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n).round(4), "z": rng.normal(size=n).round(4),
                         "label": rng.choice(["a", "b"], size=n)})


def new_file(path: Path, bad_row: int, n: int = 30, seed: int = 1) -> Path:
    frame = table(n, seed).astype({"x": object})
    frame.loc[bad_row, "x"] = "twenty"  # not a number: quarantined
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def setup(tmp_path):
    table().to_csv(tmp_path / "train.csv", index=False)
    result = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "train.csv"), "--label", "label",
                                      "--out", str(tmp_path / "art")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")  # a user's file beside the outputs
    return tmp_path, out


def transform(tmp_path: Path, data: Path, out: Path):
    return CliRunner().invoke(app, ["transform", str(data), "--artifacts", str(tmp_path / "art"),
                                    "--out", str(out / "n.npz"), "--on-invalid", "quarantine"])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def fail_second_write(monkeypatch):
    def save_all(self, arrays):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(NpzStreamWriter, "save_all", save_all)


def test_second_write_failing_leaves_neither_file(setup, monkeypatch):
    tmp_path, out = setup
    before = snapshot(out)
    fail_second_write(monkeypatch)
    result = transform(tmp_path, new_file(tmp_path / "new.csv", 3), out)
    assert result.exit_code == 2 and "No space left" in result.stderr and "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1
    assert snapshot(out) == before  # neither n.npz nor n.quarantine.csv, no temporary file, notes.txt as it was


def test_second_write_failing_leaves_the_previous_pair_untouched(setup, monkeypatch):
    tmp_path, out = setup
    assert transform(tmp_path, new_file(tmp_path / "old.csv", 3), out).exit_code == 0
    assert {"n.npz", "n.quarantine.csv", ".dataaudit.json"} <= set(os.listdir(out))
    before = snapshot(out)
    fail_second_write(monkeypatch)
    assert transform(tmp_path, new_file(tmp_path / "new.csv", 7, seed=2), out).exit_code == 2
    assert snapshot(out) == before


@pytest.mark.parametrize("bad_row", [5, None])
def test_a_failing_commit_rolls_the_pair_back(setup, monkeypatch, bad_row):
    # The quarantine.csv moves in, then the second rename (the arrays) fails: the old pair comes
    # back, also when the new run has no quarantine and the old one was to be removed.
    tmp_path, out = setup
    assert transform(tmp_path, new_file(tmp_path / "old.csv", 3), out).exit_code == 0
    before = snapshot(out)
    import dataaudit.io.file_set as file_set

    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith("n.npz") and ".dataaudit-tmp-set-" in str(src):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(file_set.os, "replace", replace)
    data = tmp_path / "new.csv"
    if bad_row is None:
        table(30, 2).to_csv(data, index=False)
    else:
        new_file(data, bad_row, seed=2)
    result = transform(tmp_path, data, out)
    assert result.exit_code == 2 and "Input/output error" in result.stderr
    assert snapshot(out) == before


def test_a_run_killed_between_the_renames_is_finished_by_the_next(setup):
    tmp_path, out = setup
    assert transform(tmp_path, new_file(tmp_path / "old.csv", 3), out).exit_code == 0
    old = snapshot(out)
    new = new_file(tmp_path / "new.csv", 9, seed=2)
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import dataaudit.io.file_set as file_set
        real = os.replace
        moved = []
        def replace(src, dst, *a, **k):
            if os.path.basename(str(src)).startswith(".dataaudit-tmp-set-"):
                moved.append(dst)
                if len(moved) == 2:  # the first file of the set moved in, the second not
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(src, dst, *a, **k)
        file_set.os.replace = replace
        from dataaudit.cli import app
        app(["transform", {str(new)!r}, "--artifacts", {str(tmp_path / 'art')!r}, "--out",
             {str(out / 'n.npz')!r}, "--on-invalid", "quarantine"])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    killed = snapshot(out)
    assert killed["n.npz"] != old["n.npz"] and "n.quarantine.csv" not in killed  # half committed
    assert any(name.startswith(".dataaudit-tmp-set-") and name.endswith(".json") for name in killed)

    # The reference: the same transform into a fresh folder.
    reference = tmp_path / "reference"
    reference.mkdir()
    assert transform(tmp_path, new, reference).exit_code == 0
    assert recover_file_set(out) is not None
    after = snapshot(out)
    assert set(after) == {"notes.txt", ".dataaudit.json", "n.npz", "n.quarantine.csv"}
    assert after["notes.txt"] == old["notes.txt"]
    assert after["n.quarantine.csv"] == (reference / "n.quarantine.csv").read_bytes()
    for key in ("X", "row"):
        np.testing.assert_array_equal(np.load(out / "n.npz")[key], np.load(reference / "n.npz")[key])
    files = read_record(out)["files"]
    assert set(files) == {"n.npz", "n.quarantine.csv"}  # recorded, so the next run may replace them


def test_a_dead_runs_staged_files_without_a_journal_are_removed_and_nothing_else(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    (tmp_path / f".dataaudit-tmp-set-{pid}-abcd1234-n.npz").write_bytes(b"partial")
    (tmp_path / f".dataaudit-tmp-set-{os.getpid()}-abcd1234-n.npz").write_bytes(b"a live run's")
    (tmp_path / "n.npz.dataaudit-tmp-set-1-x").write_bytes(b"not a name dataaudit gives")
    (tmp_path / "notes.txt").write_text("mine\n")
    recover_file_set(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted([f".dataaudit-tmp-set-{os.getpid()}-abcd1234-n.npz",
                                                   "n.npz.dataaudit-tmp-set-1-x", "notes.txt"])
