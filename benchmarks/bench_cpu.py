"""`dataaudit inspect` in CPU seconds: startup (everything but the checks), each check, the total,
peak RSS, and pandas' ``read_csv`` of the same file, each in a fresh process with one BLAS thread.

CPU seconds, not wall: on a shared machine wall time measures the neighbours. The child runs the
real command line (``dataaudit inspect FILE --label label --out DIR``, through the console
script's ``main``) with ``time.perf_counter``
replaced by ``time.process_time``, so the seconds findings.json records per check are CPU seconds
of that process; "checks" is their sum (imports a check makes inside its run included) and
"startup" is the rest of the process' CPU time: interpreter, imports, loading, outputs, report.

    python benchmarks/bench_cpu.py --file /tmp/bench_10k.csv [--file ...] [--out results.json]
    python benchmarks/bench_cpu.py --rows 10000 --rows 100000       # datagen's files
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from _measure import ROOT, measure, python

_CHILD = """
import sys, time
time.perf_counter = time.process_time  # every timing the command records is CPU time of this process
from dataaudit.cli import main
sys.argv = ["dataaudit", *sys.argv[1:]]
main()  # the console script's own entry point, exit included
"""


def thread_env(threads: int = 1) -> dict[str, str]:
    return {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def bench_file(path: Path, label: str = "label") -> dict[str, Any]:
    """CPU seconds of ``inspect`` on ``path`` (total, startup, checks, per check), peak RSS, and read_csv's."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "out"
        done = measure([sys.executable, "-c", _CHILD, "inspect", str(path), "--label", label, "--out", str(out),
                        "--no-progress"], env={**thread_env(), "COLUMNS": "1000"})
        if done["exit_code"] not in (0, 1):
            raise SystemExit(f"inspect failed on {path}: {str(done['output'])[-1500:]}")
        findings = json.loads((out / "findings.json").read_text())
        per_check = {c["check"]: round(float(c["seconds"]), 2) for c in findings["checks"]}
        checks_cpu = sum(per_check.values())
        # The console's "timings: load 0.7 s, checks 22.7 s, report 1.5 s" line (CPU seconds here).
        match = re.search(r"timings: (.*)", str(done["output"]))
        phases = {name: float(value) for name, value in re.findall(r"(\w+) ([\d.]+) s", match.group(1))} \
            if match else {}
        report_bytes = (out / "report.html").stat().st_size
    read = measure(python(f"import pandas; pandas.read_csv({str(path)!r})"), env=thread_env())
    total = float(done["cpu_seconds"])
    return {
        "file": str(path), "n_rows": findings["input"]["n_rows"],
        "cpu_seconds": round(total, 2), "checks_cpu_seconds": round(checks_cpu, 2),
        "startup_cpu_seconds": round(total - checks_cpu, 2), "per_check_cpu_seconds": per_check, "phases_cpu_seconds": phases,
        "peak_rss_mib": done["peak_rss_mib"], "report_bytes": report_bytes,
        "read_csv_cpu_seconds": read["cpu_seconds"], "read_csv_peak_rss_mib": read["peak_rss_mib"],
        "rss_ratio_to_read_csv": round(float(done["peak_rss_mib"]) / max(float(read["peak_rss_mib"]), 1.0), 2),
    }


def print_table(results: list[dict[str, Any]]) -> None:
    heavy = sorted({c for r in results for c, s in r["per_check_cpu_seconds"].items() if s >= 0.1})
    print(f"{'rows':>9} {'total':>7} {'startup':>8} {'checks':>7} {'peak MiB':>9} {'x read':>7}  "
          + " ".join(f"{c[:14]:>14}" for c in heavy))
    for r in results:
        print(f"{r['n_rows']:>9,} {r['cpu_seconds']:7.2f} {r['startup_cpu_seconds']:8.2f} "
              f"{r['checks_cpu_seconds']:7.2f} {r['peak_rss_mib']:9.0f} {r['rss_ratio_to_read_csv']:7.2f}  "
              + " ".join(f"{r['per_check_cpu_seconds'].get(c, 0.0):14.2f}" for c in heavy))


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, action="append", default=[], help="a CSV with a 'label' column")
    parser.add_argument("--rows", type=int, action="append", default=[], help="datagen's file of this many rows")
    parser.add_argument("--out", type=Path, default=None, help="write the results here as JSON")
    args = parser.parse_args(argv)
    files = list(args.file)
    if args.rows:
        from datagen import ensure_file

        files += [ensure_file(rows, ROOT / "benchmarks" / "data") for rows in args.rows]
    if not files:
        parser.error("pass --file or --rows")
    results = []
    for path in files:
        results.append(bench_file(path))
        print(json.dumps(results[-1]), flush=True)
    print_table(results)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
