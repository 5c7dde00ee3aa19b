"""What showing progress costs: every check at 10k rows, silent vs the terminal display, interleaved.

    python benchmarks/bench_progress.py [--rows 10000] [--rounds 3]

The display draws into a forced-terminal rich console over an in-memory buffer (what a terminal
would receive, without the terminal's own speed). Besides the wall times (noisy on a shared
machine) it counts the reporter's calls and times each kind of call alone, which bounds the
overhead from above without the noise: calls x cost per call.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from datagen import make_benchmark_frame  # noqa: E402

from dataaudit.audit import run_checks  # noqa: E402
from dataaudit.commands._progress import RichProgress  # noqa: E402
from dataaudit.dataset import Dataset  # noqa: E402
from dataaudit.progress import NO_PROGRESS, Progress  # noqa: E402


class Counting(Progress):
    def __init__(self) -> None:
        self.counts = {"stage": 0, "task": 0, "step": 0}

    def stage(self, name: str) -> None:
        self.counts["stage"] += 1

    def task(self, name: str, index: int, count: int) -> None:
        self.counts["task"] += 1

    def step(self, what: str, done: int | None = None, total: int | None = None) -> None:
        self.counts["step"] += 1


def _console() -> object:
    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=True, width=120)


def _per_call_seconds(repeats: int = 2000) -> dict[str, float]:
    """Seconds per call of each method of the terminal display, drawn into a buffer."""
    with RichProgress(_console()) as display:
        display.stage("warm-up")
        out = {}
        started = time.perf_counter()
        for i in range(repeats // 10):
            display.stage(f"stage {i}")
        out["stage"] = (time.perf_counter() - started) / (repeats // 10)
        started = time.perf_counter()
        for i in range(repeats // 10):
            display.task(f"check {i}", i + 1, repeats)
        out["task"] = (time.perf_counter() - started) / (repeats // 10)
        started = time.perf_counter()
        for i in range(repeats):
            display.step(f"fold {i}", i, repeats)
        out["step"] = (time.perf_counter() - started) / repeats
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    frame, _ = make_benchmark_frame(args.rows, seed=0)
    dataset = Dataset.from_frame(frame, label="label")
    counting = Counting()
    run_checks(dataset, progress=counting)  # warm-up: imports, caches of the dataset
    silent, shown = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        run_checks(dataset, progress=NO_PROGRESS)
        silent.append(time.perf_counter() - started)
        with RichProgress(_console()) as display:
            started = time.perf_counter()
            run_checks(dataset, progress=display)
            shown.append(time.perf_counter() - started)
    per_call = _per_call_seconds()
    bound = sum(counting.counts[kind] * per_call[kind] for kind in counting.counts)
    result = {
        "rows": args.rows,
        "rounds": args.rounds,
        "silent_seconds": [round(s, 3) for s in silent],
        "display_seconds": [round(s, 3) for s in shown],
        "median_ratio": round(statistics.median(shown) / statistics.median(silent), 3),
        "calls_per_run": counting.counts,
        "seconds_per_call": {k: float(f"{v:.3g}") for k, v in per_call.items()},
        "overhead_bound_seconds": float(f"{bound:.3g}"),
        "overhead_bound_share": float(f"{bound / statistics.median(silent):.3g}"),
    }
    print(f"every check at {args.rows:,} rows: silent median {statistics.median(silent):.2f} s, with the display "
          f"{statistics.median(shown):.2f} s (ratio {result['median_ratio']}; runs {result['silent_seconds']} vs "
          f"{result['display_seconds']})")
    print(f"reporter calls per run {counting.counts}; cost per call {result['seconds_per_call']} s; "
          f"calls x cost = {bound * 1000:.1f} ms ({result['overhead_bound_share']:.2%} of the run)")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "progress.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
