"""`inspect` imports only what its stages use: never matplotlib (the report's plots are plain SVG)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

_PROBE = """
import json, sys
from dataaudit.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    watched = ("matplotlib", "great_expectations", "dask", "distributed", "torch")
    print("LOADED", json.dumps(sorted(m for m in watched if m in sys.modules)))
"""


def _small_table(path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((300, 4)), columns=["a", "b", "c", "d"])
    frame["colour"] = rng.choice(["red", "green"], 300)
    frame["label"] = (frame["a"] + frame["b"] > 0).astype(int)
    frame = pd.concat([frame, frame.iloc[:5]], ignore_index=True)  # exact copies: marked on the row map
    frame.to_csv(path, index=False)
    return path


def test_inspect_never_imports_matplotlib(tmp_path: Path) -> None:
    data = _small_table(tmp_path / "small.csv")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", _PROBE, "inspect", str(data), "--label", "label", "--out", str(out),
                           "--no-progress", "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(s for s in done.stdout.splitlines() if s.startswith("LOADED"))
    assert json.loads(line.split(" ", 1)[1]) == []
    html = (out / "report.html").read_text()
    # The plots are there all the same: the heatmap and the row map, as inline SVG.
    assert 'id="map"' in html and 'id="correlations"' in html
    assert html.count("<svg") >= 2 and "Pearson r" in html
