"""`make bench`: every benchmark in turn; JSON results land in benchmarks/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_inspect.py", "bench_transform.py", "bench_train.py", "bench_cleaning.py",
           "bench_near_copies.py", "bench_copy_groups.py", "bench_label_quality.py"]

if __name__ == "__main__":
    failed = []
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        if subprocess.call([sys.executable, str(HERE / script)], cwd=HERE.parent) != 0:
            failed.append(script)
    if failed:
        sys.exit(f"failed: {failed}")
