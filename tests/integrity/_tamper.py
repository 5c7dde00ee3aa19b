"""Shared pieces of the tamper suite: two fitted artifact folders and the CLI outcome classifier."""

from __future__ import annotations

import hashlib
import json
import shutil
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from dataaudit.cli import app

runner = CliRunner()
RECORD = ".dataaudit.json"


def make_run(root: Path, seed: int) -> Path:
    """fit-transform a small mixed table (numbers, a category, a date) into ``root/art``."""
    rng = np.random.default_rng(seed)
    n = 160
    frame = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.integers(0, 50, size=n),
        "c": rng.choice(["u", "v", "w"], size=n),
    })
    frame["y"] = np.where(frame["a"] + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "d.csv", index=False)
    result = runner.invoke(app, ["fit-transform", str(root / "d.csv"), "--label", "y", "--whiten", "pca",
                                 "--no-near-duplicates", "--seed", str(seed), "--out", str(root / "art")])
    assert result.exit_code == 0, result.output
    return root / "art"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reseal(folder: Path) -> None:
    """Recompute every checksum a careless editor could recompute: the manifest's file records and the
    folder's .dataaudit.json record. What remains to refuse a resealed change is validation."""
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (ValueError, OSError):
        manifest = None
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        for name, entry in manifest["files"].items():
            if isinstance(entry, dict) and (folder / name).is_file():
                entry["sha256"] = sha(folder / name)
        manifest_path.write_text(json.dumps(manifest, indent=2))
    record_path = folder / RECORD
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        files = record.get("files")
        entries = files.items() if isinstance(files, dict) else [(e.get("path") or e.get("name"), e) for e in files]
        for name, entry in entries:
            if isinstance(entry, dict) and name and (folder / name).is_file():
                entry["sha256"] = sha(folder / name)
        record_path.write_text(json.dumps(record, indent=2))


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def outcome(args: list[str]) -> tuple[str, str]:
    """Run the CLI in-process: ("refused" | "accepted" | "traceback" | "other", detail)."""
    result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text = "".join(traceback.format_exception(result.exception)).strip().splitlines()
        return "traceback", text[-1] if text else repr(result.exception)
    stderr_lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.exit_code == 0:
        return "accepted", result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.exit_code == 2 and len(stderr_lines) == 1:
        return "refused", stderr_lines[0]
    return "other", f"exit {result.exit_code}: " + " | ".join(stderr_lines[:3])


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def dump_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2))
