"""Bundled datasets with planted, known defects (from scikit-learn's bundled files: no network).

The defects are planted only in the training pool; a clean held-out test file is split off first,
so test accuracy measures what the audit's cleaning buys, and the demo can count how many of the
planted defects the audit found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError
from dataaudit.io.outputs import atomic_write_json, atomic_write_text

__all__ = ["BUILTIN", "DemoData", "load_builtin", "plant_defects", "materialize"]

#: name -> (loader description, image shape for the report or None)
BUILTIN: dict[str, tuple[str, tuple[int, int] | None]] = {
    "digits": ("scikit-learn's 8x8 handwritten digits (1,797 rows, 64 pixel columns, 10 classes)", (8, 8)),
    "breast_cancer": ("scikit-learn's Wisconsin breast cancer table (569 rows, 30 columns, 2 classes)", None),
}


@dataclass(frozen=True)
class DemoData:
    """Files written by ``materialize`` and the truth about their planted defects."""

    name: str
    train: Path
    test: Path
    label: str
    truth: dict[str, list[int]]
    image_shape: tuple[int, int] | None


def load_builtin(name: str) -> pd.DataFrame:
    """The clean table with its label in column ``label``."""
    from sklearn import datasets

    if name == "digits":
        bunch = datasets.load_digits(as_frame=True)
        frame = bunch.frame.rename(columns={"target": "label"})
        pixels = [c for c in frame.columns if c != "label"]
        frame[pixels] = frame[pixels].astype(np.int64)
        return frame
    if name == "breast_cancer":
        bunch = datasets.load_breast_cancer(as_frame=True)
        frame = bunch.frame.rename(columns={"target": "label"})
        frame["label"] = np.asarray(bunch.target_names)[bunch.target]
        return frame
    raise ConfigError(f"Unknown built-in dataset {name!r}; choose one of {sorted(BUILTIN)}.")


def plant_defects(
    frame: pd.DataFrame,
    *,
    seed: int = 0,
    exact_share: float = 0.03,
    near_share: float = 0.015,
    conflict_share: float = 0.008,
    flip_share: float = 0.06,
    label: str = "label",
) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """Append exact, near and conflicting-label copies and flip some labels of original rows.

    Returns the new frame (row numbers 0..n-1) and ``truth``: planted row numbers per finding code
    (copies are appended after the originals, so they are the rows a duplicate finding lists).
    """
    rng = np.random.default_rng(seed)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    features = [c for c in frame.columns if c != label]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    classes = np.sort(frame[label].unique())
    n_exact, n_near, n_conflict = (max(1, int(n * s)) for s in (exact_share, near_share, conflict_share))
    sources = rng.choice(n, n_exact + n_near + n_conflict, replace=False)
    exact_src, near_src, conflict_src = np.split(sources, [n_exact, n_exact + n_near])
    exact = frame.iloc[exact_src].copy()
    near = frame.iloc[near_src].copy()
    stds = frame[numeric].std().to_numpy()
    near[numeric] = near[numeric].astype(np.float64) + rng.standard_normal((n_near, len(numeric))) * stds * 1e-3
    conflict = frame.iloc[conflict_src].copy()
    conflict[label] = [rng.choice(classes[classes != v]) for v in conflict[label]]
    # Flip labels of originals that are not copied, so each planted defect has one cause.
    untouched = np.setdiff1d(np.arange(n), sources)
    flipped = np.sort(rng.choice(untouched, int(n * flip_share), replace=False))
    out = pd.concat([frame, exact, near, conflict], ignore_index=True)
    out.loc[flipped, label] = [rng.choice(classes[classes != v]) for v in out.loc[flipped, label]]
    start = n
    truth = {
        "exact_duplicate": list(range(start, start + n_exact)),
        "near_duplicate": list(range(start + n_exact, start + n_exact + n_near)),
        "conflicting_labels": list(range(start + n_exact + n_near, len(out))),
        "label_issue": [int(r) for r in flipped],
    }
    return out, truth


def materialize(name: str, folder: str | Path, *, seed: int = 0, test_share: float = 0.2) -> DemoData:
    """Write ``<name>_train.csv`` (planted defects), ``<name>_test.csv`` (clean) and the truth."""
    from sklearn.model_selection import train_test_split

    folder = Path(folder)
    frame = load_builtin(name)
    pool, test = train_test_split(frame, test_size=test_share, random_state=seed, stratify=frame["label"])
    train, truth = plant_defects(pool, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    train_path, test_path = folder / f"{name}_train.csv", folder / f"{name}_test.csv"
    atomic_write_text(train_path, train.to_csv(index=False))
    atomic_write_text(test_path, test.reset_index(drop=True).to_csv(index=False))
    atomic_write_json(folder / f"{name}_truth.json", truth)
    return DemoData(name, train_path, test_path, "label", truth, BUILTIN[name][1])


def score_against_truth(findings: dict[str, Any], truth: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """Per planted code: planted, flagged, found, precision, recall (from a findings.json dict)."""
    flagged: dict[str, set[int]] = {}
    for finding in findings.get("findings", []):
        flagged.setdefault(finding["code"], set()).update(finding.get("rows", []))
    scores = {}
    for code, planted_rows in truth.items():
        planted = set(planted_rows)
        found = flagged.get(code, set())
        hit = len(planted & found)
        scores[code] = {
            "planted": len(planted),
            "flagged": len(found),
            "found": hit,
            "recall": hit / len(planted) if planted else None,
            "precision": hit / len(found) if found else None,
        }
    return scores


def truth_from_file(path: str | Path) -> dict[str, list[int]]:
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))
