"""`make bench`: the side-by-side run (bench_peers.py), the suspect-label quality benchmark and the
near-copy benchmark, then every table from their JSON results (benchmarks/results/).

    python benchmarks/run_all.py                          # what `make bench` runs
    python benchmarks/run_all.py --rows 10000 100000 --seeds 2 --data /tmp/bench/data
    python benchmarks/run_all.py --all                    # also the per-area scripts below

``--all`` adds bench_inspect.py (each check alone at 1M rows), bench_transform.py, bench_train.py,
bench_cleaning.py and bench_copy_groups.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MORE = ["bench_inspect.py", "bench_transform.py", "bench_train.py", "bench_cleaning.py", "bench_copy_groups.py"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", nargs="+", default=None, help="sizes of the side-by-side run (default 10k 100k 1M)")
    parser.add_argument("--cap", default=None, help="seconds each peer may run per size (bench_peers.py)")
    parser.add_argument("--data", default=None, help="folder of the generated files (default benchmarks/data)")
    parser.add_argument("--seeds", type=int, default=5, help="flip seeds of the quality benchmark (default 5)")
    parser.add_argument("--all", action="store_true", help="also the per-area scripts")
    args = parser.parse_args()
    peers = ["bench_peers.py"]
    for flag, value in (("--rows", args.rows), ("--cap", args.cap), ("--data", args.data)):
        if value is not None:
            peers += [flag, *(value if isinstance(value, list) else [value])]
    runs = [peers, ["bench_label_quality.py", "--seeds", str(args.seeds)],
            ["bench_near_copies.py", "--seeds", *map(str, range(min(args.seeds, 3)))]]
    runs += [[script] for script in MORE] if args.all else []
    failed = []
    started = time.perf_counter()
    for script, *options in runs:
        print(f"== {script} {' '.join(options)}", flush=True)
        t = time.perf_counter()
        if subprocess.call([sys.executable, str(HERE / script), *options], cwd=HERE.parent) != 0:
            failed.append(script)
        print(f"== {script}: {time.perf_counter() - t:.0f} s", flush=True)
    from tables import print_all

    print_all()
    print(f"\nmake bench: {time.perf_counter() - started:.0f} s in all")
    if failed:
        sys.exit(f"failed: {failed}")


if __name__ == "__main__":
    main()
