"""What showing progress costs: every check at 10k rows, silent vs the terminal display, interleaved.

    python benchmarks/bench_progress.py [--rows 10000] [--rounds 3]

The display draws into a forced-terminal rich console over an in-memory buffer (what a terminal
would receive, without the terminal's own speed). Each run is timed in wall-clock seconds and in
CPU seconds of the process (every thread, the display's refresh thread included; steadier than
wall time on a shared machine). It also counts the reporter's calls and times each kind of call
alone, which bounds the overhead without the noise of whole runs: calls x cost per call.
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
    """CPU seconds per call of each method of the terminal display, drawn into a buffer."""
    with RichProgress(_console()) as display:
        display.stage("warm-up")
        out = {}
        started = time.process_time()
        for i in range(repeats // 10):
            display.stage(f"stage {i}")
        out["stage"] = (time.process_time() - started) / (repeats // 10)
        started = time.process_time()
        for i in range(repeats // 10):
            display.task(f"check {i}", i + 1, repeats)
        out["task"] = (time.process_time() - started) / (repeats // 10)
        started = time.process_time()
        for i in range(repeats):
            display.step(f"fold {i}", i, repeats)
        out["step"] = (time.process_time() - started) / repeats
    return out


def _timed(dataset: Dataset, progress: Progress) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of every check on ``dataset``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run_checks(dataset, progress=progress)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    frame, _ = make_benchmark_frame(args.rows, seed=0)
    dataset = Dataset.from_frame(frame, label="label")
    counting = Counting()
    run_checks(dataset, progress=counting)  # warm-up: imports, caches of the dataset
    silent: list[tuple[float, float]] = []
    shown: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        silent.append(_timed(dataset, NO_PROGRESS))
        with RichProgress(_console()) as display:
            shown.append(_timed(dataset, display))
    per_call = _per_call_seconds()
    bound = sum(counting.counts[kind] * per_call[kind] for kind in counting.counts)
    result: dict[str, object] = {"rows": args.rows, "rounds": args.rounds, "calls_per_run": counting.counts,
                                 "cpu_seconds_per_call": {k: float(f"{v:.3g}") for k, v in per_call.items()},
                                 "overhead_bound_cpu_seconds": float(f"{bound:.3g}")}
    for index, clock in enumerate(("wall", "cpu")):
        quiet_median = statistics.median(t[index] for t in silent)
        shown_median = statistics.median(t[index] for t in shown)
        runs = {"silent": [round(t[index], 3) for t in silent], "display": [round(t[index], 3) for t in shown]}
        result[clock] = {**runs, "median_ratio": round(shown_median / quiet_median, 3)}
        print(f"every check at {args.rows:,} rows, {clock} seconds: silent median {quiet_median:.2f}, with the "
              f"display {shown_median:.2f} (ratio {shown_median / quiet_median:.3f}; runs {runs['silent']}"
              f" vs {runs['display']})")
    cpu_median = statistics.median(t[1] for t in silent)
    result["overhead_bound_share"] = float(f"{bound / cpu_median:.3g}")
    print(f"reporter calls per run {counting.counts}; CPU seconds per call {result['cpu_seconds_per_call']}; "
          f"calls x cost = {bound * 1000:.1f} ms ({bound / cpu_median:.2%} of the run's CPU time)")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "progress.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
