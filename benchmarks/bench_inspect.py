"""`dataaudit inspect` on the 1M-row benchmark file: whole run, each check alone, the report, and
`pandas.read_csv` alone (the floor any tool must pay), each in a fresh process.

    python benchmarks/bench_inspect.py [--rows 1000000] [--checks duplicates,outliers]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _measure import ROOT, measure, python
from datagen import ensure_file

DATA = ROOT / "benchmarks" / "data"


def ensure_data(rows: int) -> Path:
    return ensure_file(rows, DATA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--checks", default="", help="comma-separated subset of checks to time alone")
    args = parser.parse_args()
    path = ensure_data(args.rows)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"file": str(path), "rows": args.rows}

    read = measure(python(f"import pandas; pandas.read_csv({str(path)!r})"))
    results["read_csv"] = {k: read[k] for k in ("seconds", "peak_rss_mib")}
    print(f"read_csv           {read['seconds']:7.1f} s  {read['peak_rss_mib']:8.0f} MiB", flush=True)

    load = measure(python(
        "import time\nfrom dataaudit.io.loading import load_dataset\nt = time.perf_counter()\n"
        f"d = load_dataset({str(path)!r}, label='label')\nt1 = time.perf_counter()\nd.feature_matrix\n"
        "print(t1 - t, time.perf_counter() - t1)"
    ))
    load_s, features_s = (float(v) for v in load["output"].split()[-2:])
    results["load_dataset_seconds"] = round(load_s, 2)
    results["feature_matrix_seconds"] = round(features_s, 2)
    results["load_peak_rss_mib"] = load["peak_rss_mib"]
    print(f"load_dataset       {load_s:7.1f} s  (roles, coercion, sha256 included)", flush=True)
    print(f"feature matrix     {features_s:7.1f} s  (built once, shared by near_duplicates, label_issues, outliers)",
          flush=True)

    from dataaudit.checks import ordered_checks

    names = [c.name for c in ordered_checks() if not c.needs_test]
    if args.checks:
        names = [n for n in names if n in args.checks.split(",")]
    per_check = {}
    for name in names:
        code = (
            "import json, time\n"
            "from dataaudit.io.loading import load_dataset\n"
            "from dataaudit.audit import run_checks\n"
            f"d = load_dataset({str(path)!r}, label='label')\n"
            "t = time.perf_counter(); d.feature_matrix; shared = time.perf_counter() - t\n"
            f"r = run_checks(d, checks=[{name!r}])\n"
            "c = r.checks[0]\n"
            "print(json.dumps({'check_seconds': c.seconds, 'shared': shared, 'status': c.status, 'error': c.error}))\n"
        )
        done = measure(python(code))
        try:
            inner = json.loads(done["output"].strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            inner = {"error": done["output"][-300:]}
        per_check[name] = {"seconds": inner.get("check_seconds"), "status": inner.get("status"),
                           "process_peak_rss_mib": done["peak_rss_mib"], "error": inner.get("error")}
        seconds = inner.get("check_seconds") or float("nan")
        ratio = seconds / read["seconds"]
        print(f"  {name:18s} {seconds:7.1f} s  ({ratio:4.2f}× read)  {done['peak_rss_mib']:8.0f} MiB  {inner.get('status')}", flush=True)
    results["checks"] = per_check

    report_dir = out / "inspect_1m"
    whole = measure([sys.executable, "-m", "dataaudit", "inspect", str(path), "--label", "label",
                     "--out", str(report_dir)], env={"COLUMNS": "200"})
    results["inspect"] = {k: whole[k] for k in ("seconds", "peak_rss_mib", "exit_code")}
    report = report_dir / "report.html"
    results["report_bytes"] = report.stat().st_size if report.exists() else None
    print(f"inspect (all)      {whole['seconds']:7.1f} s  {whole['peak_rss_mib']:8.0f} MiB  exit {whole['exit_code']}", flush=True)

    timings = [line for line in whole["output"].splitlines() if line.startswith("timings:")]
    results["phases"] = timings[0] if timings else whole["output"][-500:]
    print(results["phases"])
    print(f"report {results['report_bytes']} bytes")
    (out / "inspect.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
