"""Time the ``duplicates`` check when a table has very many copy groups (the former cliff).

1,000,000 rows drawn with replacement from 1,000,000 distinct rows (10 float columns, one
categorical, a random binary label) hold about 264,000 copy groups, most with conflicting labels.
Before the check was vectorized it spent 48-71 s here (a Python loop per group) against 0.1 s on
unique rows; now it is linear in the rows whatever the number of groups. The unique-rows table
of the same size is timed alongside, and the result is written to benchmarks/results/copy_groups.json.

    python benchmarks/bench_copy_groups.py               # 1,000,000 rows
    python benchmarks/bench_copy_groups.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

ROOT = Path(__file__).resolve().parents[1]


def table(n_rows: int, seed: int, *, with_copies: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    distinct = pd.DataFrame({f"x{i}": rng.standard_normal(n_rows) for i in range(10)})
    distinct["c"] = rng.choice(list("abcde"), n_rows)
    frame = distinct.iloc[rng.integers(0, n_rows, n_rows)].reset_index(drop=True) if with_copies else distinct
    frame["label"] = rng.integers(0, 2, n_rows)
    return frame


def time_check(frame: pd.DataFrame) -> tuple[float, dict]:
    dataset = Dataset.from_frame(frame, label="label")
    start = time.perf_counter()
    result = make_check("duplicates").run(dataset, AuditContext())
    return time.perf_counter() - start, dict(result.stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load_all()
    result: dict[str, object] = {"rows": args.rows}
    for name, with_copies in (("unique_rows", False), ("many_copy_groups", True)):
        seconds, stats = time_check(table(args.rows, args.seed, with_copies=with_copies))
        result[name] = {"seconds": round(seconds, 2), **stats}
        print(f"duplicates on {args.rows:,} rows, {name:<17} {seconds:7.2f} s   "
              f"{stats['n_exact_groups']:,} exact groups, {stats['n_conflicting_groups']:,} conflicting", flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "copy_groups.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
