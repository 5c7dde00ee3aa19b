"""Time the duplicate checks on the benchmark shape and measure near-duplicate recall/precision.

The table is generated in memory by ``datagen.make_benchmark_frame`` (N rows x 40 float +
3 categorical + a label, ~1% planted exact copies, ~1% near copies with noise 1e-3 x column std).
A test table of N/10 rows holds exact and near copies of 1% of its rows for train_test_overlap.

    python benchmarks/bench_duplicates.py                 # 1,000,000 rows
    python benchmarks/bench_duplicates.py --rows 200000 --read-csv benchmarks/data/bench_1m.csv
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datagen import N_NUMERIC, make_benchmark_frame  # noqa: E402

from dataaudit.checks import AuditContext, load_all, make_check  # noqa: E402
from dataaudit.dataset import Dataset  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed(label: str, func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = func()
    print(f"{label:<34} {time.perf_counter() - start:7.2f} s   peak RSS {peak_rss_mib():7.0f} MiB",
          flush=True)
    return value


def make_test_frame(train: pd.DataFrame, n_rows: int, seed: int) -> tuple[pd.DataFrame, set[tuple[int, int]]]:
    """Fresh rows plus exact and near copies of training rows; returns the planted (train, test) pairs."""
    fresh, _ = make_benchmark_frame(n_rows, seed=seed + 1, dup_share=0.0, near_share=0.0, flip_share=0.0)
    rng = np.random.default_rng(seed)
    n_copies = n_rows // 100
    sources = rng.choice(len(train), 2 * n_copies, replace=False)
    targets = rng.choice(n_rows, 2 * n_copies, replace=False)
    copies = train.iloc[sources].reset_index(drop=True)
    numeric = [f"x{i}" for i in range(N_NUMERIC)]
    stds = train[numeric].std().to_numpy()
    copies.loc[n_copies:, numeric] += rng.standard_normal((n_copies, N_NUMERIC)) * stds * 1e-3
    fresh.iloc[targets] = copies.to_numpy()
    fresh = fresh.astype(train.dtypes.to_dict())
    return fresh, {(int(s), int(t)) for s, t in zip(sources, targets, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--read-csv", type=Path, default=None, help="also time pandas.read_csv on this file")
    args = parser.parse_args()
    load_all()

    if args.read_csv is not None:
        timed(f"pandas.read_csv({args.read_csv.name})", lambda: pd.read_csv(args.read_csv))
    frame, truth = timed(f"generate {args.rows:,} rows", lambda: make_benchmark_frame(args.rows, seed=args.seed))
    dataset = timed("Dataset (roles, sha256)", lambda: Dataset.from_frame(frame, label="label"))
    context = AuditContext(seed=args.seed)

    duplicates = timed("check duplicates", lambda: make_check("duplicates").run(dataset, context))
    exact = next(f for f in duplicates.findings if f.code == "exact_duplicate")
    exact_truth = set(truth["exact_duplicate"])
    exact_hits = len(exact_truth & set(exact.rows))
    print(f"  exact_duplicate rows {len(exact.rows):,}; recall {exact_hits / len(exact_truth):.4f}, "
          f"precision {exact_hits / max(len(exact.rows), 1):.4f}")

    timed("Dataset.feature_matrix", lambda: dataset.feature_matrix)
    near = timed("check near_duplicates", lambda: make_check("near_duplicates").run(dataset, context))
    finding = next(f for f in near.findings if f.code == "near_duplicate")
    group_of = {m: k for k, g in enumerate(finding.details["groups"]) for m in g}
    planted = list(zip(truth["near_duplicate_sources"], truth["near_duplicate"], strict=True))
    recall = np.mean([a in group_of and group_of[a] == group_of.get(b) for a, b in planted])
    planted_rows = {r for pair in planted for r in pair}
    flagged = [m for g in finding.details["groups"] for m in g]
    precision = np.mean([m in planted_rows for m in flagged]) if flagged else 1.0
    print(f"  near_duplicate groups {len(finding.details['groups']):,}; pair recall {recall:.4f}, "
          f"row precision {precision:.4f}; method {finding.details['method']}, "
          f"threshold {finding.details['threshold']:.4f} (typical NN distance "
          f"{finding.details['typical_nn_distance'] or float('inf'):.3f}), "
          f"candidates {near.stats['n_candidates']:,}")

    test_frame, overlap_truth = timed(f"generate test table ({args.rows // 10:,} rows)",
                                      lambda: make_test_frame(frame, args.rows // 10, args.seed))
    test = Dataset(frame=test_frame, label="label", roles=dict(dataset.roles), sha256="test")
    overlap = timed("check train_test_overlap",
                    lambda: make_check("train_test_overlap").run(dataset, AuditContext(test=test, seed=args.seed)))
    found = {(p[0], p[1]) for f in overlap.findings for p in f.details["pairs"]}
    n_pairs = sum(f.details["n_pairs"] for f in overlap.findings)
    listed_hits = len(found & overlap_truth)
    print(f"  overlap pairs {n_pairs:,} ({overlap.stats['n_exact_pairs']:,} exact, "
          f"{overlap.stats['n_near_pairs']:,} near); planted {len(overlap_truth):,}; "
          f"listed pairs that are planted {listed_hits}/{len(found)}")


if __name__ == "__main__":
    main()
