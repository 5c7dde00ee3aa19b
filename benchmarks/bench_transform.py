"""fit-transform on the benchmark table vs the equivalent hand-written scikit-learn pipeline.

    python benchmarks/bench_transform.py                 # 1M rows x 40 float + 3 categorical + label
    python benchmarks/bench_transform.py --rows 200000   # smaller
    python benchmarks/bench_transform.py --chunked --rows 5000000 --chunksize 200000

Each run happens in a fresh subprocess; wall seconds are measured around the work and peak RSS is
the child's ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. Both sides read the CSV, split
stratified 80/10/10, fit on train only (standardize numeric, one-hot categoricals, PCA-whiten)
and write the three arrays; dataaudit additionally hashes rows for duplicates, writes the
quarantine, the GX suite and the manifest. ``--chunked`` compares ``--chunksize`` streaming with
the in-memory fit on the same (large) file: peak memory should follow the chunk size.
Results are printed as JSON and written to benchmarks/results/bench_transform.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

OURS = """
import resource, sys, time
t = time.perf_counter()
from dataaudit.transforms.pipeline import TransformConfig, fit_transform
config = TransformConfig(whiten="pca", near_duplicates=False, max_categories=50, chunksize={chunksize})
s = fit_transform({csv!r}, "label", {out!r}, config=config)
print("RESULT", time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, s.n_features,
      s.verification.get("whitened_cov_max_abs_deviation"))
"""

SKLEARN = """
import resource, time
t = time.perf_counter()
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
frame = pd.read_csv({csv!r})
y = frame.pop("label").to_numpy()
rows = np.arange(len(frame))
train, rest = train_test_split(rows, test_size=0.2, stratify=y, random_state=0)
val, test = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=0)
numeric = [c for c in frame.columns if c.startswith("x")]
categorical = [c for c in frame.columns if not c.startswith("x")]
pipe = make_pipeline(
    ColumnTransformer([("num", StandardScaler(), numeric),
                       ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)]),
    PCA(whiten=True),
)
pipe.fit(frame.iloc[train])
for name, idx in (("train", train), ("val", val), ("test", test)):
    X = pipe.transform(frame.iloc[idx]).astype(np.float32)
    np.savez({out!r} + "_" + name + ".npz", X=X, y=y[idx], row=idx)
    del X
print("RESULT", time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, pipe[-1].n_components_, None)
"""


def run(code: str) -> dict[str, float | int | None]:
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"benchmark child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    _, seconds, rss_kib, n_features, deviation = line.split()
    return {"seconds": round(float(seconds), 2), "peak_rss_mib": round(int(rss_kib) / 1024, 1),
            "n_features": int(n_features), "whitened_cov_max_abs_deviation": None if deviation == "None" else float(deviation)}


def data_file(rows: int) -> Path:
    path = HERE / "data" / ("bench_1m.csv" if rows == 1_000_000 else f"bench_{rows}.csv")
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "datagen.py"), "--rows", str(rows), "--out", str(path)],
                       cwd=ROOT, check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunked", action="store_true", help="compare --chunksize streaming with in-memory")
    parser.add_argument("--chunksize", type=int, default=200_000)
    parser.add_argument("--skip-in-memory", action="store_true", help="with --chunked: only the chunked run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, alternating; medians are compared")
    args = parser.parse_args()
    csv = str(data_file(args.rows))
    results: dict[str, object] = {"rows": args.rows, "file": csv}
    with tempfile.TemporaryDirectory(dir=HERE / "data") as tmp:
        if args.chunked:
            results["chunked"] = run(OURS.format(csv=csv, out=f"{tmp}/chunked", chunksize=args.chunksize))
            results["chunksize"] = args.chunksize
            if not args.skip_in_memory:
                results["in_memory"] = run(OURS.format(csv=csv, out=f"{tmp}/mem", chunksize=None))
        else:
            # Alternate the two sides and compare medians: single runs on a shared 2-core machine
            # vary by 20-30 %.
            runs: dict[str, list[dict[str, float | int | None]]] = {"sklearn": [], "dataaudit": []}
            for _ in range(max(args.repeat, 1)):
                runs["sklearn"].append(run(SKLEARN.format(csv=csv, out=f"{tmp}/sk")))
                runs["dataaudit"].append(run(OURS.format(csv=csv, out=f"{tmp}/ours", chunksize=None)))
            for side, side_runs in runs.items():
                ordered = sorted(side_runs, key=lambda r: float(r["seconds"] or 0))
                results[side] = {**ordered[len(ordered) // 2], "all_seconds": [r["seconds"] for r in side_runs]}
            sk, ours = results["sklearn"], results["dataaudit"]
            results["time_ratio"] = round(ours["seconds"] / sk["seconds"], 3)  # type: ignore[index]
            results["memory_ratio"] = round(ours["peak_rss_mib"] / sk["peak_rss_mib"], 3)  # type: ignore[index]
    print(json.dumps(results, indent=2))
    out = HERE / "results" / ("bench_transform_chunked.json" if args.chunked else "bench_transform.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
