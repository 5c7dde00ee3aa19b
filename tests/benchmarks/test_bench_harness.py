"""The `make bench` harness stays runnable: the side-by-side run on a tiny file with the peers
absent (they are benchmark-only installs), the per-peer time cap, and the table printers on
records in the shape the benchmark scripts write."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_peers  # noqa: E402
import tables  # noqa: E402
from _measure import measure, python  # noqa: E402


def test_side_by_side_runs_on_a_tiny_file_and_skips_missing_peers(tmp_path, monkeypatch, capsys):
    hidden = {"skrub", "datasets", "cleanlab"}
    monkeypatch.setattr(bench_peers, "installed", lambda module: module not in hidden)
    out = tmp_path / "results" / "peers.json"
    bench_peers.main(["--rows", "400", "--cap", "300", "--data", str(tmp_path / "data"), "--out", str(out)])
    results = json.loads(out.read_text())
    (size,) = results["sizes"]
    assert size["rows"] == 400 and size["n_flipped"] == 20
    assert (tmp_path / "data" / "bench_400.csv").exists()
    for peer, missing in (("skrub", ["skrub"]), ("datalab", ["cleanlab", "datasets"]), ("cleanlab_filter", ["cleanlab"])):
        assert size[peer] == {"status": "not installed", "missing": missing}
    assert size["pandas"]["status"] == "ok" and size["pandas"]["peak_rss_mib"] > 0
    ours = size["dataaudit"]
    assert ours["status"] == "ok", ours.get("output")
    assert "label_issues" in ours["checks"] and ours["label_issues_seconds"] is not None
    assert 0 < ours["checks_seconds"] < ours["seconds"]
    assert ours["startup_seconds"] == pytest.approx(ours["seconds"] - ours["checks_seconds"], abs=0.02)
    assert {"load", "report"} <= set(ours["phases"])
    assert all(0.0 <= v <= 1.0 for v in ours["label_pr"]) and ours["n_flagged"] > 0
    printed = capsys.readouterr().out
    assert "| `dataaudit inspect`, all checks" in printed
    assert "not installed (skrub)" in printed and "not installed (cleanlab, datasets)" in printed
    assert "interpreter+imports" in printed


def test_a_peer_over_its_cap_is_killed_and_marked():
    done = measure(python("import time; time.sleep(60)"), timeout=1)
    assert done["timed_out"] and done["seconds"] < 30
    record = {"status": "timed out", "cap": 1.0, "seconds": done["seconds"]}
    assert tables._timed(record) == "timed out (> 1 s)"


def test_peak_memory_is_the_commands_own_not_the_benchmarks():
    import resource

    import numpy as np

    held = np.ones(300 * 2**20 // 8)  # the benchmark process holds a large table (pages written)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 > 300
    done = measure(python("pass"))
    assert done["exit_code"] == 0 and 0 < done["peak_rss_mib"] < 100, done
    grown = measure(python("import numpy as np; a = np.ones(200 * 2**20 // 8)"))
    assert 200 < grown["peak_rss_mib"] < 300, grown
    del held


def test_quality_and_near_copy_tables_print_the_records_the_scripts_write():
    import bench_label_quality
    import bench_near_copies
    from near_copy_tables import Score, Table

    runs = [{"dataaudit": (0.9, 0.8, 0.847), "cleanlab_logistic": (1.0, 0.9, 0.947),
             "cleanlab_gradient_boosting": (0.8, 0.8, 0.8), "seconds": 1.5}]
    quality = bench_label_quality._summarize("iris", 150, 3, "uniform", runs)
    assert "| iris (150, 3) | uniform | 1 | 0.90 / 0.80 / 0.847 | 1.00 / 0.90 / 0.947 | 0.80 / 0.80 / 0.800 | -0.100 |" \
        in tables.quality_table([quality])
    table = Table("iris", lambda: None, "label", "150 x 5")  # type: ignore[arg-type, return-value]
    copies = bench_near_copies.summarize(table, [Score(1.0, 0.5, 4, 0, 4, 2, 0.1)], [0])
    assert "| iris | 150 x 5 | 1.000 | 0.500 | 4 | 0 | 4 |" in tables.near_copies_table([copies])
    # Beside the oracle: at its level is the data's ceiling, trailing it is not.
    at = bench_near_copies.summarize(table, [Score(0.84, 0.85, 4, 1, 4, 3, 0.1)], [0],
                                     [Score(0.845, 0.855, 4, 1, 4, 3, 0.0)])
    below = bench_near_copies.summarize(table, [Score(0.80, 0.85, 4, 1, 4, 3, 0.1)], [0],
                                        [Score(0.845, 0.855, 4, 1, 4, 3, 0.0)])
    assert (at["verdict"], below["verdict"], "verdict" in copies) == ("at the data's ceiling", "below the oracle", False)
    assert "| iris | 150 x 5 | 0.840 | 0.850 | 0.845 | 0.855 |" in tables.near_copies_table([at])


def test_the_near_copy_oracle_links_each_copy_to_its_most_probable_record():
    import pandas as pd
    from near_copy_tables import Planted, oracle_groups, score, truth_classes

    from dataaudit.dataset import Dataset

    # Records 10 (once), 11 (three times), 50 (shop a) and 50.2 (shop b); copies of row 0 at
    # 10.45 and 10.2 and of row 4 at 50.3, under noise of std 0.3. 10.45 is nearer 10, but 11
    # is three times as likely a source and about as near: the oracle loses it to record 11.
    frame = pd.DataFrame({"count": [10, 11, 11, 11, 50, 50.2, 10.45, 10.2, 50.3],
                          "shop": list("aaaaabaaa"), "label": list("xyxyxyyxy")})
    planted = Planted(frame, "label", [(0, 6), (0, 7), (4, 8)], 0, (6, 7, 8), {"count": 0.3})
    dataset = Dataset.from_frame(frame, label="label")
    groups = oracle_groups(dataset, planted)
    assert groups == [[0, 7], [1, 6], [4, 8]]  # 50.3 goes to shop a's 50, not the nearer 50.2
    result = score(groups, truth_classes(dataset, planted.copies), planted.copies, 0.0)
    assert (result.n_links, result.n_false_links, result.n_found) == (3, 1, 2)


def test_print_all_names_results_not_written_yet(tmp_path, capsys):
    tables.print_all(tmp_path)
    assert capsys.readouterr().out.count("(no ") == 3
