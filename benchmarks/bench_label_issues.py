"""Benchmark: label_issues and label_leakage on 1,000,000 rows x (40 float + 3 categorical).

The label is a learnable (non-linear) function of the features with 5 % planted uniform label
flips. Prints seconds per stage, peak RSS and the precision/recall of the flagged labels.

    .venv/bin/python benchmarks/bench_label_issues.py [--rows 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pandas as pd


def make_frame(n_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The benchmark table and the boolean mask of planted label flips."""
    rng = np.random.default_rng(seed)
    n_classes = 10
    numeric = rng.standard_normal((n_rows, 40))
    frame = pd.DataFrame(numeric, columns=[f"x{i}" for i in range(40)])
    colours = np.array(["red", "green", "blue", "grey"])
    shapes = np.array([f"shape_{i}" for i in range(8)])
    sizes = np.array(["S", "M", "L"])
    colour = rng.integers(0, len(colours), n_rows)
    shape = rng.integers(0, len(shapes), n_rows)
    size = rng.integers(0, len(sizes), n_rows)
    frame["colour"] = colours[colour]
    frame["shape"] = shapes[shape]
    frame["size"] = sizes[size]
    # Learnable: linear scores on 8 features, a non-linear (sine) term and categorical offsets;
    # the other 31 numeric columns are noise.
    scores = 2.0 * numeric[:, :8] @ rng.standard_normal((8, n_classes))
    scores += 2.0 * np.sin(2.0 * numeric[:, 8:9]) * rng.standard_normal(n_classes)
    scores += 2.0 * rng.standard_normal((len(colours), n_classes))[colour]
    scores += 2.0 * rng.standard_normal((len(shapes), n_classes))[shape]
    clean = scores.argmax(axis=1)
    flipped = rng.random(n_rows) < 0.05
    noisy = clean.copy()
    noisy[flipped] = (clean[flipped] + rng.integers(1, n_classes, int(flipped.sum()))) % n_classes
    frame["label"] = np.array([f"class_{c}" for c in range(n_classes)])[noisy]
    return frame, flipped


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from dataaudit.checks import AuditContext, load_all, make_check
    from dataaudit.dataset import Dataset

    load_all()
    t0 = time.perf_counter()
    frame, flipped = make_frame(args.rows, args.seed)
    print(f"generate            {time.perf_counter() - t0:6.1f} s   {frame.shape}")
    t0 = time.perf_counter()
    dataset = Dataset.from_frame(frame, label="label")
    matrix, names = dataset.feature_matrix
    print(f"feature_matrix      {time.perf_counter() - t0:6.1f} s   {matrix.shape}  (shared by checks)")
    context = AuditContext(seed=args.seed)

    t0 = time.perf_counter()
    result = make_check("label_issues").run(dataset, context)
    seconds = time.perf_counter() - t0
    found = result.findings[0] if result.findings else None
    rows = np.asarray(found.rows if found else (), dtype=np.int64)
    true_positive = int(flipped[rows].sum())
    precision = true_positive / max(len(rows), 1)
    recall = true_positive / max(int(flipped.sum()), 1)
    print(f"label_issues        {seconds:6.1f} s   flagged {len(rows)}  precision {precision:.3f}  "
          f"recall {recall:.3f}  cv_accuracy {result.stats.get('cv_accuracy')}")
    print(f"                    models {result.stats.get('models')}  folds {result.stats.get('n_folds')}  "
          f"subsampled {result.stats.get('subsampled')}  per model {result.stats.get('seconds_per_model')}")

    t0 = time.perf_counter()
    # A fresh context: label_issues cached the per-column scores, time them from scratch here.
    leakage = make_check("label_leakage").run(dataset, AuditContext(seed=args.seed))
    print(f"label_leakage       {time.perf_counter() - t0:6.1f} s   findings {len(leakage.findings)}")
    print(f"peak RSS            {peak_rss_mib():6.0f} MiB")


if __name__ == "__main__":
    main()
