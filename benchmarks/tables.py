"""Print the benchmark tables (Markdown) from the JSON results of `make bench`.

- ``peers.json`` (``bench_peers.py``): dataaudit beside skrub, cleanlab and pandas per file size;
- ``label_quality.json`` (``bench_label_quality.py``): suspect-label P / R / F1 per table and flip variant;
- ``near_copies.json`` (``bench_near_copies.py``): near-copy precision and recall per table.

    python benchmarks/tables.py [--results benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
INSPECT_GOALS = {10_000: 2.5, 100_000: 8.0, 1_000_000: 25.0}  # seconds, issue 11
STARTUP_GOAL = 1.0  # seconds at 10k rows, everything but the checks


def _size(rows: int) -> str:
    for unit, name in ((1_000_000, "M"), (1000, "k")):
        if rows >= unit and rows % unit == 0:
            return f"{rows // unit}{name}"
    return f"{rows:,}"


def _memory(mib: float) -> str:
    return f"{mib / 1024:.1f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"


def _status(record: dict[str, Any]) -> str | None:
    """The cell of a peer that did not finish, or None when it did."""
    status = record.get("status")
    if status == "ok":
        return None
    if status == "timed out":
        return f"timed out (> {record['cap']:.0f} s)"
    if status == "not installed":
        return f"not installed ({', '.join(record.get('missing', []))})"
    if status == "not run":
        return f"not run ({record.get('reason')})"
    if status == "not needed" or status is None:
        return "—"
    return str(status)


def _timed(record: dict[str, Any], detail: str = "") -> str:
    failed = _status(record)
    if failed is not None:
        return failed
    return f"{record['seconds']:.1f} s (CPU {record['cpu_seconds']:.1f} s) / {_memory(record['peak_rss_mib'])}{detail}"


def _phases(record: dict[str, Any], names: list[str]) -> str:
    phases = record.get("phases") or {}
    parts = [f"{name.replace('_', ' ')} {phases[name]:.1f}" for name in names if name in phases]
    return f" ({', '.join(parts)})" if parts else ""


def _ratio(numerator: dict[str, Any], denominator: dict[str, Any], key: str) -> str:
    if _status(numerator) is not None or _status(denominator) is not None or not denominator.get(key):
        return "—"
    return f"{numerator[key] / denominator[key]:.1f}×"


def _pr(record: dict[str, Any]) -> str:
    if _status(record) is not None or "label_pr" not in record:
        return "—"
    precision, recall = record["label_pr"]
    return f"{precision:.2f} / {recall:.2f}"


def _copies(record: dict[str, Any]) -> str:
    """Planted exact and near copies found by dataaudit (rows flagged against rows planted)."""
    pairs = record.get("copy_pr") or {}
    if _status(record) is not None or not pairs:
        return "—"
    return " / ".join(f"{pairs[code][0]:.2f} / {pairs[code][1]:.2f}" for code in ("exact_duplicate", "near_duplicate")
                      if code in pairs)


def _startup(record: dict[str, Any]) -> str:
    """Everything but the checks: interpreter and imports, loading, outputs, report."""
    if _status(record) is not None:
        return "—"
    phases = record.get("phases") or {}
    outside = {k: v for k, v in phases.items() if k != "checks"}
    imports = record["startup_seconds"] - sum(outside.values())
    parts = [f"interpreter+imports {imports:.1f}"] + [f"{k.replace('_', ' ')} {v:.1f}" for k, v in outside.items()]
    return f"{record['startup_seconds']:.1f} s ({', '.join(parts)})"


def peers_table(results: dict[str, Any]) -> str:
    """The side-by-side table: one column per file size."""
    sizes = results["sizes"]
    header = "| rows (40 numeric + 3 categorical + 3-class label, 2 % copies, 5 % flips) | " + " | ".join(
        _size(s["rows"]) for s in sizes) + " |"
    lines = [header, "|---|" + "---|" * len(sizes)]

    def row(title: str, cell: Any) -> None:
        lines.append(f"| {title} | " + " | ".join(cell(s) for s in sizes) + " |")

    def peer(name: str) -> Any:
        return lambda s: s.get(name, {})

    da, skrub, datalab, filt, pandas = (peer(n) for n in ("dataaudit", "skrub", "datalab", "cleanlab_filter", "pandas"))
    row("`dataaudit inspect`, all checks (wall (CPU) / peak RSS)", lambda s: _timed(da(s)))
    row("of which `label_issues`", lambda s: "—" if _status(da(s)) else f"{da(s)['label_issues_seconds']:.1f} s")
    row(f"of which all but the checks (goal ≤ {STARTUP_GOAL:g} s at 10k)", lambda s: _startup(da(s)))
    row("dataaudit CPU time per row (goal: never rises with size)",
        lambda s: "—" if _status(da(s)) else f"{da(s)['cpu_seconds'] / s['rows'] * 1e6:.0f} µs")
    row("goal for `inspect` (issue 11)", lambda s: f"≤ {INSPECT_GOALS[s['rows']]:g} s"
        if s["rows"] in INSPECT_GOALS else "—")
    row("skrub `TableReport` (read + HTML written)", lambda s: _timed(skrub(s), _phases(skrub(s), ["read", "report"])))
    row("cleanlab recipe: 5-fold logistic pred_probs + `Datalab.find_issues`",
        lambda s: _timed(datalab(s), _phases(datalab(s), ["pred_probs", "find_issues"])))
    row("cleanlab `find_label_issues` on 5-fold logistic (where Datalab is not run)",
        lambda s: _timed(filt(s), _phases(filt(s), ["pred_probs", "find_label_issues"])))
    row("pandas `read_csv` alone (fresh interpreter)", lambda s: _timed(pandas(s)))
    row("dataaudit ÷ skrub, wall time / CPU time",
        lambda s: f"{_ratio(da(s), skrub(s), 'seconds')} / {_ratio(da(s), skrub(s), 'cpu_seconds')}")
    row("dataaudit ÷ pandas, wall time / CPU time / peak RSS (goal at 1M: RSS ≤ 1.5×)",
        lambda s: " / ".join(_ratio(da(s), pandas(s), key) for key in ("seconds", "cpu_seconds", "peak_rss_mib")))
    row("suspect labels, dataaudit P / R", lambda s: _pr(da(s)))
    row("planted copies, dataaudit P / R (exact / near)", lambda s: _copies(da(s)))
    row("suspect labels, cleanlab P / R (Datalab, else `find_label_issues`)",
        lambda s: _pr(datalab(s)) if _pr(datalab(s)) != "—" else _pr(filt(s)))
    notes = ", ".join(f"{_size(s['rows'])}: {s['file_mib']:.0f} MiB file, load average {s['load_average']:.1f}"
                      for s in sizes)
    lines.append("")
    lines.append(f"One run, {results['seconds']:.0f} s in all on {results['cpus']} CPUs, "
                 f"{results.get('threads', 'default')} BLAS thread(s) per peer; cap {results['cap']:.0f} s "
                 f"per peer and size; {notes}.")
    return "\n".join(lines)


def _triple(values: list[float] | None) -> str:
    return "—" if not values else f"{values[0]:.2f} / {values[1]:.2f} / {values[2]:.3f}"


def quality_table(results: list[dict[str, Any]]) -> str:
    """Suspect labels per table and flip variant: dataaudit vs cleanlab on LR and on GB."""
    lines = ["| table (rows, classes) | flips | seeds | dataaudit P / R / F1 | cleanlab-LR P / R / F1 | "
             "cleanlab-GB P / R / F1 | margin |", "|---|---|---:|---|---|---|---:|"]
    for r in results:
        margin = "" if r.get("margin") is None else f"{r['margin']:+.3f}"
        lines.append(f"| {r['table']} ({r['rows']:,}, {r['classes']}) | {r['variant']} | {r.get('n_seeds', '')} | "
                     f"{_triple(r['dataaudit'])} | {_triple(r.get('cleanlab_logistic'))} | "
                     f"{_triple(r.get('cleanlab_gradient_boosting'))} | {margin} |")
    behind = [f"{r['table']}/{r['variant']}" for r in results if r.get("margin") is not None and r["margin"] < -0.01]
    lines.append("")
    lines.append(f"Margin = dataaudit F1 − the better baseline (goal ≥ −0.01); behind by more than 0.01: "
                 f"{', '.join(behind) or 'none'}.")
    return "\n".join(lines)


def near_copies_table(results: list[dict[str, Any]]) -> str:
    oracle = any("oracle_precision" in r for r in results)
    lines = ["| table | rows × columns | P | R |" + (" oracle P | oracle R |" if oracle else "")
             + " links | false links | planted |",
             "|---|---|---:|---:|" + ("---:|---:|" if oracle else "") + "---:|---:|---:|"]
    for r in results:
        ceiling = f" {r.get('oracle_precision', float('nan')):.3f} | {r.get('oracle_recall', float('nan')):.3f} |"
        lines.append(f"| {r['table']} | {r['note']} | {r['precision']:.3f} | {r['recall']:.3f} |"
                     + (ceiling if oracle else "") + f" {r['links']} | {r['false_links']} | {r['planted']} |")
    below = [r["table"] for r in results if min(r["precision"], r["recall"]) < 0.95]
    at_ceiling = [r["table"] for r in results if r.get("verdict") == "at the data's ceiling"]
    lines.append("")
    lines.append(f"Mean over seeds {results[0]['seeds'] if results else []}; below P / R 0.95 (goal): "
                 f"{', '.join(below) or 'none'}" + (f"; at the data's ceiling (the oracle's P / R): "
                                                   f"{', '.join(at_ceiling) or 'none'}" if oracle else "")
                 + ".")
    return "\n".join(lines)


def print_all(folder: Path = RESULTS) -> None:
    for title, name, render in (("Side by side (bench_peers.py)", "peers.json", peers_table),
                                ("Suspect-label quality (bench_label_quality.py)", "label_quality.json", quality_table),
                                ("Near copies (bench_near_copies.py)", "near_copies.json", near_copies_table)):
        path = folder / name
        print(f"\n## {title}\n")
        print(render(json.loads(path.read_text())) if path.exists() else f"(no {path} yet)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    print_all(parser.parse_args().results)
