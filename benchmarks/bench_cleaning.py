"""What the audit's cleaning buys: digits test accuracy with and without it, over several seeds.

Each seed plants a fresh set of defects (exact / near / conflicting copies, 6 % label flips) in
the training pool, keeps a clean held-out test set, and trains the same single model twice.

    python benchmarks/bench_cleaning.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from dataaudit.config import PipelineConfig
from dataaudit.runner import run_pipeline

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            config = PipelineConfig(
                name="digits", builtin="digits", label="label", seed=seed, output=Path(tmp) / str(seed),
                transform={"split": [0.9, 0.1, 0.0], "suspects": "drop"},
                train={"batch_norm": True, "max_epochs": 60},
            )
            summary = run_pipeline(config, compare_without_cleaning=True).summary
            rows.append({"seed": seed, "with_cleaning": summary["single_model_test_accuracy"],
                         "without_cleaning": summary["without_cleaning"]["test_accuracy"],
                         "label_issue_recall": summary["planted_defects"]["label_issue"]["recall"],
                         "label_issue_precision": summary["planted_defects"]["label_issue"]["precision"]})
            print(json.dumps(rows[-1]), flush=True)
    result = {
        "runs": rows,
        "mean_with_cleaning": statistics.mean(r["with_cleaning"] for r in rows),
        "mean_without_cleaning": statistics.mean(r["without_cleaning"] for r in rows),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cleaning.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
