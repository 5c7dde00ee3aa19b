"""Side by side on the synthetic file (issue 11): `dataaudit inspect` against its peers, one run.

For each size (default 10k, 100k, 1M rows of ``datagen.py``'s file: 40 numeric + 3 categorical
columns, a 3-class label, 1 % exact + 1 % near copies, 5 % label flips), every peer runs in its own
process, with wall time, CPU time and peak RSS measured, a time cap (``--cap`` seconds) and the same
BLAS / OpenMP thread count (``--threads``, default 1):

- dataaudit: ``python -m dataaudit inspect FILE --label label`` (every check, every output);
  ``label_issues`` seconds and the sum of check seconds come from its findings.json, and
  "startup" is everything else (interpreter, imports, loading, outputs, report);
- pandas: ``pandas.read_csv(FILE)`` alone in a fresh interpreter (the floor any tool pays);
- skrub: ``TableReport(pandas.read_csv(FILE)).html()`` written to a file;
- cleanlab recipe: 5-fold out-of-fold ``LogisticRegression`` probabilities on standardized
  numeric + one-hot categorical columns, then ``Datalab.find_issues(features=X, pred_probs=...)``
  (every default issue type). Above ``--datalab-max-rows``, or when Datalab does not finish within
  the cap, ``cleanlab.filter.find_label_issues`` on the same probabilities is timed instead.

Suspect-label precision / recall are scored against the planted flips (rows.csv for dataaudit,
the label issues of Datalab or ``find_label_issues`` for cleanlab). skrub and cleanlab's datalab
extra are benchmark-only (``pip install -e '.[bench]'``, which ``make bench`` does); a peer that
is not installed is skipped and shown as such. Results go to ``benchmarks/results/peers.json``;
``benchmarks/tables.py`` prints the table.

    python benchmarks/bench_peers.py                       # 10k, 100k, 1M
    python benchmarks/bench_peers.py --rows 10000 --cap 120 --data /tmp/bench/data
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import measure  # noqa: E402

RESULTS = HERE / "results"
LABEL = "label"
SIZES = [10_000, 100_000, 1_000_000]
# The modules a peer needs beyond dataaudit's own dependencies.
PEER_MODULES = {"pandas": [], "dataaudit": [], "skrub": ["skrub"], "datalab": ["cleanlab", "datasets"],
                "cleanlab_filter": ["cleanlab"]}
INSTALL_HINT = "pip install -e '.[bench]'"


def installed(module: str) -> bool:
    """Whether ``module`` can be imported by the peer processes (they share this interpreter)."""
    return importlib.util.find_spec(module) is not None


def missing_modules(peer: str) -> list[str]:
    return [m for m in PEER_MODULES[peer] if not installed(m)]


# ---- the peers themselves: run in a child process (``--run-peer``), print one JSON line ----------
def _features(frame: Any) -> Any:
    """Standardized numeric + one-hot categorical columns: the usual input of the cleanlab recipe."""
    from pandas.api.types import is_numeric_dtype
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = frame.drop(columns=[LABEL])
    numeric = [c for c in features.columns if is_numeric_dtype(features[c])]
    categorical = [c for c in features.columns if c not in numeric]
    encoder = ColumnTransformer([("num", StandardScaler(), numeric),
                                 ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)])
    return encoder.fit_transform(features)


def _out_of_fold_logistic(X: Any, y: Any) -> Any:
    import warnings

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cross_val_predict(LogisticRegression(max_iter=1000), X, y, method="predict_proba",
                                 cv=StratifiedKFold(5, shuffle=True, random_state=0))


def run_peer(peer: str, path: Path, out: Path) -> dict[str, Any]:
    """Run one peer on ``path`` in this process; flagged label rows (if any) go to ``out``.flagged.json."""
    import numpy as np
    import pandas as pd

    timings: dict[str, float] = {}
    started = time.perf_counter()
    frame = pd.read_csv(path)
    timings["read"] = time.perf_counter() - started
    flagged: list[int] | None = None
    if peer == "skrub":
        from skrub import TableReport

        t = time.perf_counter()
        html = TableReport(frame).html()
        out.with_suffix(".html").write_text(html, encoding="utf-8")
        timings["report"] = time.perf_counter() - t
        timings["html_bytes"] = len(html.encode("utf-8"))
    elif peer in ("datalab", "cleanlab_filter"):
        t = time.perf_counter()
        y = pd.factorize(frame[LABEL], sort=True)[0]
        X = _features(frame)
        timings["features"] = time.perf_counter() - t
        t = time.perf_counter()
        probs = _out_of_fold_logistic(X, y)
        timings["pred_probs"] = time.perf_counter() - t
        t = time.perf_counter()
        if peer == "datalab":
            from cleanlab import Datalab

            lab = Datalab(data=pd.DataFrame({LABEL: y}), label_name=LABEL, verbosity=0)
            lab.find_issues(features=X, pred_probs=probs)
            flagged = np.flatnonzero(lab.get_issues("label")["is_label_issue"].to_numpy()).tolist()
            timings["find_issues"] = time.perf_counter() - t
        else:
            from cleanlab.filter import find_label_issues

            flagged = np.flatnonzero(find_label_issues(y, probs)).tolist()
            timings["find_label_issues"] = time.perf_counter() - t
    elif peer != "pandas":
        raise SystemExit(f"unknown peer {peer!r}")
    if flagged is not None:
        out.with_suffix(".flagged.json").write_text(json.dumps(flagged))
    return {k: round(v, 3) for k, v in timings.items()}


# ---- the harness ----------------------------------------------------------------------------------
def precision_recall(flagged: list[int], truth: list[int]) -> tuple[float, float]:
    hits = len(set(flagged) & set(truth))
    return (hits / len(flagged) if flagged else 0.0, hits / len(truth) if truth else 0.0)


def thread_env(threads: int) -> dict[str, str]:
    """The BLAS / OpenMP thread count every peer process runs with (the same for all of them)."""
    return {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _peer_process(peer: str, path: Path, out: Path, cap: float, env: dict[str, str]) -> dict[str, Any]:
    missing = missing_modules(peer)
    if missing:
        return {"status": "not installed", "missing": missing}
    done = measure([sys.executable, str(Path(__file__).resolve()), "--run-peer", peer, "--file", str(path),
                    "--peer-out", str(out)], env=env, timeout=cap)
    record: dict[str, Any] = {k: done[k] for k in ("seconds", "cpu_seconds", "peak_rss_mib")}
    if done["timed_out"]:
        return {**record, "status": "timed out", "cap": cap}
    if done["exit_code"]:
        return {**record, "status": f"failed (exit {done['exit_code']})", "output": str(done["output"])[-1500:]}
    lines = [line for line in str(done["output"]).splitlines() if line.startswith("{")]
    record.update(status="ok", phases=json.loads(lines[-1]) if lines else {})
    return record


def _dataaudit(path: Path, out: Path, cap: float, truth: list[int], env: dict[str, str],
               copies: dict[str, list[int]] | None = None) -> dict[str, Any]:
    done = measure([sys.executable, "-m", "dataaudit", "inspect", str(path), "--label", LABEL, "--out", str(out)],
                   env={**env, "COLUMNS": "1000"}, timeout=cap)
    record: dict[str, Any] = {k: done[k] for k in ("seconds", "cpu_seconds", "peak_rss_mib")}
    if done["timed_out"]:
        return {**record, "status": "timed out", "cap": cap}
    if done["exit_code"]:
        return {**record, "status": f"failed (exit {done['exit_code']})", "output": str(done["output"])[-1500:]}
    import pandas as pd

    findings = json.loads((out / "findings.json").read_text())
    checks = {c["check"]: c["seconds"] for c in findings["checks"]}
    # The console's "timings: load 0.7 s, checks 22.7 s, report 11.5 s" line: the phases outside the checks.
    match = re.search(r"timings: (.*)", str(done["output"]))
    phases = {name: float(value) for name, value in re.findall(r"(\w+) ([\d.]+) s", match.group(1))} if match else {}
    rows = pd.read_csv(out / "rows.csv")
    flagged = rows.loc[rows["is_label_issue"] == 1, "row"].astype(int).tolist()
    # Planted copies (appended after their sources): the rows flagged as exact / near copies.
    copy_pr = {code: precision_recall(rows.loc[rows[f"is_{code}"] == 1, "row"].astype(int).tolist()
                                      if f"is_{code}" in rows else [], planted)
               for code, planted in (copies or {}).items()}
    checks_seconds = sum(checks.values())
    record.update(status="ok", checks=checks, checks_seconds=round(checks_seconds, 2),
                  label_issues_seconds=checks.get("label_issues"),
                  startup_seconds=round(float(done["seconds"]) - checks_seconds, 2), phases=phases,
                  report_bytes=(out / "report.html").stat().st_size, n_flagged=len(flagged),
                  label_pr=precision_recall(flagged, truth), copy_pr=copy_pr)
    return record


def _score(record: dict[str, Any], out: Path, truth: list[int]) -> dict[str, Any]:
    flagged_path = out.with_suffix(".flagged.json")
    if record.get("status") == "ok" and flagged_path.exists():
        flagged = json.loads(flagged_path.read_text())
        record.update(n_flagged=len(flagged), label_pr=precision_recall(flagged, truth))
    return record


def bench_size(rows: int, data: Path, work: Path, cap: float, datalab_max_rows: int,
               peers: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Every peer on the ``rows``-row file; one dict per peer plus the file's facts."""
    from datagen import ensure_file, size_name

    path = ensure_file(rows, data)
    planted = json.loads(path.with_suffix(".truth.json").read_text())
    truth = planted["label_issue"]
    copies = {code: planted[code] for code in ("exact_duplicate", "near_duplicate") if code in planted}
    name = size_name(rows)
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"rows": rows, "file": str(path), "file_mib": round(path.stat().st_size / 2**20, 1),
                              "n_flipped": len(truth), "load_average": os.getloadavg()[0]}
    for peer in peers:
        if peer == "dataaudit":
            record = _dataaudit(path, work / f"dataaudit_{name}", cap, truth, env, copies)
        elif peer == "datalab" and rows > datalab_max_rows:
            record = {"status": "not run", "reason": f"above --datalab-max-rows {datalab_max_rows:,}"}
        elif peer == "cleanlab_filter" and result.get("datalab", {}).get("status") == "ok":
            record = {"status": "not needed", "reason": "Datalab ran at this size"}
        else:
            out = work / f"{peer}_{name}"
            for stale in (out.with_suffix(".flagged.json"), out.with_suffix(".html")):
                stale.unlink(missing_ok=True)  # files this harness wrote on an earlier run
            record = _score(_peer_process(peer, path, out, cap, env), out, truth)
        result[peer] = record
        print(f"  {name:>5s} {peer:16s} {_brief(record)}", flush=True)
    return result


def _brief(record: dict[str, Any]) -> str:
    if record.get("status") != "ok":
        return f"{record.get('status')} {record.get('reason') or record.get('missing') or ''}".strip()
    text = f"{record['seconds']:7.1f} s  cpu {record['cpu_seconds']:7.1f} s  {record['peak_rss_mib']:7.0f} MiB"
    if "label_pr" in record:
        text += f"  label P/R {record['label_pr'][0]:.2f} / {record['label_pr'][1]:.2f}"
    return text


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=SIZES)
    parser.add_argument("--cap", type=float, default=900.0, help="seconds each peer may run per size")
    parser.add_argument("--datalab-max-rows", type=int, default=100_000,
                        help="above this, time find_label_issues instead of Datalab (default 100,000)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS / OpenMP threads of every peer (default 1: the same for all; a shared "
                             "machine's oversubscribed BLAS threads slow small fits tenfold)")
    parser.add_argument("--peers", default=",".join(PEER_MODULES), help="comma-separated subset")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="folder of the generated files (kept)")
    parser.add_argument("--out", type=Path, default=RESULTS / "peers.json")
    parser.add_argument("--run-peer", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peer-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_peer:
        print(json.dumps(run_peer(args.run_peer, args.file, args.peer_out)), flush=True)
        return {}
    peers = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(peers) - set(PEER_MODULES))
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {list(PEER_MODULES)}")
    started = time.perf_counter()
    sizes = [bench_size(rows, args.data, args.out.parent / "peers", args.cap, args.datalab_max_rows, peers,
                        thread_env(args.threads))
             for rows in args.rows]
    results = {"cap": args.cap, "threads": args.threads, "datalab_max_rows": args.datalab_max_rows, "cpus": os.cpu_count(),
               "seconds": round(time.perf_counter() - started, 1), "sizes": sizes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    from tables import peers_table

    print(peers_table(results))
    return results


if __name__ == "__main__":
    main()
