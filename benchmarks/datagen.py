"""The benchmark table: N rows × 40 numeric + 3 categorical columns + a 3-class label (issue 11's
synthetic file), with planted exact copies (1 %), near copies (1 %) and label flips (5 %); the truth
is returned / written beside the CSV.

    python benchmarks/datagen.py --rows 1000000 --out benchmarks/data/bench_1m.csv
    python benchmarks/datagen.py --rows 10000 --classes 10 --out /tmp/bench_10k_c10.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

N_NUMERIC = 40
N_CLASSES = 3
CATEGORIES = {"colour": ["red", "green", "blue", "black", "white"],
              "city": [f"city_{i}" for i in range(30)],
              "segment": ["a", "b", "c"]}


def make_benchmark_frame(n_rows: int, seed: int = 0, dup_share: float = 0.01, near_share: float = 0.01,
                         flip_share: float = 0.05, n_classes: int = N_CLASSES,
                         ) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """Return (frame, truth) with truth keys exact_duplicate, near_duplicate, label_issue (row numbers).

    The label is the argmax of ``n_classes`` linear scores of 12 latent features (plus an offset for
    one segment); a flipped label moves to any other class, uniformly.
    """
    rng = np.random.default_rng(seed)
    n_dup = int(n_rows * dup_share)
    n_near = int(n_rows * near_share)
    n_base = n_rows - n_dup - n_near
    scales = 10.0 ** rng.uniform(-2, 3, N_NUMERIC)  # columns on very different scales
    latent = rng.standard_normal((n_base, N_NUMERIC))
    numeric = latent * scales + rng.uniform(-5, 5, N_NUMERIC) * scales
    cats = {name: rng.integers(0, len(values), n_base) for name, values in CATEGORIES.items()}
    weights = rng.standard_normal((12, n_classes))
    signal = latent[:, :12] @ weights
    signal[:, 0] += 1.5 * (cats["segment"] == 0)
    labels = signal.argmax(axis=1)
    frame = pd.DataFrame(numeric, columns=[f"x{i}" for i in range(N_NUMERIC)])
    for name, values in CATEGORIES.items():
        frame[name] = np.asarray(values, dtype=object)[cats[name]]
    frame["label"] = labels
    # Planted defects: exact copies and near copies (noise 1e-3 × column std) appended at the end.
    dup_src = rng.choice(n_base, n_dup, replace=False)
    near_src = rng.choice(n_base, n_near, replace=False)
    near = frame.iloc[near_src].copy()
    stds = frame[[f"x{i}" for i in range(N_NUMERIC)]].std().to_numpy()
    near[[f"x{i}" for i in range(N_NUMERIC)]] += rng.standard_normal((n_near, N_NUMERIC)) * stds * 1e-3
    frame = pd.concat([frame, frame.iloc[dup_src], near], ignore_index=True)
    # Label flips on original rows only (never on a copy, so flips and duplicates stay separate).
    candidates = np.setdiff1d(np.arange(n_base), np.concatenate([dup_src, near_src]))
    flipped = np.sort(rng.choice(candidates, int(n_rows * flip_share), replace=False))
    frame.loc[flipped, "label"] = (frame.loc[flipped, "label"] + rng.integers(1, n_classes, len(flipped))) % n_classes
    truth = {
        "exact_duplicate": list(range(n_base, n_base + n_dup)),
        "near_duplicate": list(range(n_base + n_dup, n_rows)),
        "near_duplicate_sources": [int(i) for i in near_src],
        "label_issue": [int(i) for i in flipped],
    }
    return frame, truth


def size_name(rows: int) -> str:
    """10000 -> '10k', 1000000 -> '1m', 1234 -> '1234'."""
    for unit, name in ((1_000_000, "m"), (1000, "k")):
        if rows >= unit and rows % unit == 0:
            return f"{rows // unit}{name}"
    return str(rows)


def ensure_file(rows: int, folder: Path, seed: int = 0, n_classes: int = N_CLASSES) -> Path:
    """The benchmark CSV for ``rows`` in ``folder`` (truth beside it), written once and reused.

    A file written with other generator parameters (an older layout, another class count) is
    written again: the truth file records the parameters.
    """
    path = folder / f"bench_{size_name(rows)}.csv"
    truth_path = path.with_suffix(".truth.json")
    params = {"rows": rows, "seed": seed, "n_classes": n_classes, "dup_share": 0.01,
              "near_share": 0.01, "flip_share": 0.05}
    if path.exists() and truth_path.exists():
        if json.loads(truth_path.read_text()).get("params") == params:
            return path
    frame, truth = make_benchmark_frame(rows, seed, dup_share=params["dup_share"], near_share=params["near_share"],
                                        flip_share=params["flip_share"], n_classes=n_classes)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    frame.to_csv(partial, index=False, float_format="%.6g")
    partial.replace(path)
    truth_path.write_text(json.dumps({**truth, "params": params}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classes", type=int, default=N_CLASSES)
    parser.add_argument("--dup-share", type=float, default=0.01, help="exact copies (share of rows)")
    parser.add_argument("--near-share", type=float, default=0.01, help="near copies (share of rows)")
    parser.add_argument("--flip-share", type=float, default=0.05, help="label flips (share of rows)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/bench_1m.csv"))
    args = parser.parse_args()
    frame, truth = make_benchmark_frame(args.rows, args.seed, dup_share=args.dup_share,
                                        near_share=args.near_share, flip_share=args.flip_share,
                                        n_classes=args.classes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, float_format="%.6g")
    args.out.with_suffix(".truth.json").write_text(json.dumps(truth))
    print(f"wrote {args.out} ({len(frame):,} rows)")


if __name__ == "__main__":
    main()
