"""Time the column-level and statistical checks on 1,000,000 rows x 40 numeric + 3 categorical + label.

Run: ``python benchmarks/bench_column_checks.py [--rows N]``; prints one JSON object with, per check,
wall seconds, peak traced Python/NumPy allocation (tracemalloc) and process RSS after the check.
The shared ``numeric_matrix`` / ``feature_matrix`` are built once first and timed separately,
as ``inspect`` builds them once for all checks.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.checks._stats import numeric_matrix
from dataaudit.dataset import Dataset

CHECKS = ["class_balance", "outliers", "missing_values", "constant_columns", "id_columns", "high_cardinality",
          "mixed_types", "correlations", "skewness", "scale_disparity", "train_test_drift"]


def build_frame(n_rows: int, seed: int) -> pd.DataFrame:
    """40 numeric columns (Gaussian, skewed, scaled, with some NaN), 3 categorical, a 3-class label."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for j in range(40):
        if j % 4 == 0:
            column = rng.lognormal(0, 1, n_rows)
        else:
            column = rng.normal(j, 1 + j * 10, n_rows)
        if j % 5 == 0:
            column[rng.random(n_rows) < 0.02] = np.nan
        data[f"x{j}"] = column
    for k, n_levels in enumerate((3, 12, 40)):
        data[f"cat{k}"] = pd.Categorical(rng.integers(0, n_levels, n_rows)).rename_categories(
            [f"level{i}" for i in range(n_levels)]).astype(str)
    data["label"] = rng.choice(np.array(["a", "b", "c"]), n_rows, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(data)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load_all()
    t0 = time.perf_counter()
    dataset = Dataset.from_frame(build_frame(args.rows, args.seed), label="label")
    test = Dataset.from_frame(build_frame(max(args.rows // 5, 1), args.seed + 1), label="label")
    out: dict[str, object] = {"rows": args.rows, "build_seconds": round(time.perf_counter() - t0, 2), "checks": {}}
    t0 = time.perf_counter()
    numeric_matrix(dataset)
    out["numeric_matrix_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    _ = dataset.feature_matrix
    out["feature_matrix_seconds"] = round(time.perf_counter() - t0, 2)
    for name in CHECKS:
        tracemalloc.start()
        t0 = time.perf_counter()
        result = make_check(name).run(dataset, AuditContext(test=test, seed=0))
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["checks"][name] = {  # type: ignore[index]
            "seconds": round(seconds, 2), "peak_traced_mb": round(peak / 2**20, 1),
            "max_rss_mb": round(rss_mb(), 0), "status": result.status,
            "codes": sorted({f.code for f in result.findings}),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
