"""``fit-transform --chunksize`` spills each split's encoded rows to files that no run leaves
behind: a run SIGKILLed with its spill files full leaves no spill file or folder, and the next run
removes only what dataaudit wrote (a user's ``.dataaudit-spill-*`` folder is left alone)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from dataaudit.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_a_killed_chunked_run_leaves_no_spill_and_the_next_run_touches_nothing_else(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                  "label": rng.choice(["a", "b"], size=n)}).to_csv(tmp_path / "data.csv", index=False)
    mine = tmp_path / ".dataaudit-spill-mine"  # a user's folder with dataaudit's prefix
    mine.mkdir()
    (mine / "train.bin").write_bytes(b"user data")
    out = tmp_path / "art"
    script = textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import dataaudit.transforms.fit_chunked as fit_chunked
        def killed(self, folder):
            # Pass 2 is over: every split's rows are in the spill files. Say how much, then die.
            if hasattr(self.spill, "files"):
                sizes = {{name: (f.flush(), os.fstat(f.fileno()).st_size)[1] for name, f in self.spill.files.items()}}
            else:  # spill files with names
                sizes = {{name: os.path.getsize(self.spill.path(name)) for name in ("train", "val", "test")}}
            print(json.dumps(sizes), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        fit_chunked._SplitWriter.__call__ = killed
        from dataaudit.cli import app
        app(["fit-transform", {str(tmp_path / 'data.csv')!r}, "--label", "label", "--out", {str(out)!r},
             "--chunksize", "500", "--no-progress"])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    sizes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sizes["train"] > 0 and sum(sizes.values()) == n * 2 * 8  # 2 float64 features per row
    left = sorted(os.listdir(tmp_path))
    # Only the killed run's staging folder (removed by the next write to art/), no spill anywhere.
    assert [name for name in left if "spill" in name] == [".dataaudit-spill-mine"], left
    assert [name for name in left if name not in ("data.csv", ".dataaudit-spill-mine")] == [
        name for name in left if name.startswith(".art.dataaudit-new-")]

    result = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "data.csv"), "--label", "label",
                                      "--out", str(out), "--chunksize", "500"])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == [".dataaudit-spill-mine", "art", "data.csv"]
    assert os.listdir(mine) == ["train.bin"] and (mine / "train.bin").read_bytes() == b"user data"
    assert not [name for name in os.listdir(out) if "spill" in name]
