"""The findings list on wide tables: grouped cards, a cap that hides no kind, honest counts, no warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from _report_data import described

from dataaudit.dataset import Dataset
from dataaudit.findings import AuditResult, CheckResult
from dataaudit.report.profile import profile_column
from dataaudit.report.render import render_report
from dataaudit.report.summary_sections import finding_cards
from dataaudit.report.view import MAX_GROUP_LINES


def _missing(column: str, n: int, severity: str = "warning") -> object:
    return described("missing_values", "missing_values", severity,
                     f"Column {column!r} is missing in {n} rows.", rows=list(range(min(n, 1000))),
                     columns=[column], details={"kind": "missing", "n_missing": n, "share": n / 5000,
                                                        "rows_sampled": n > 1000})


def _wide_findings(n_columns: int) -> list:
    findings = [_missing(f"c{i}", 1500 + i) for i in range(n_columns)]
    findings.append(_missing("label_col", 7, "error"))
    findings.append(described("constant_columns", "constant_column", "warning", "2 constant columns",
                              columns=["k1", "k2"]))
    findings.append(described("id_columns", "id_column", "warning", "'key' is an identifier",
                              columns=["key"]))
    findings.append(described("skewness", "skewed_feature", "info", "1 skewed column", columns=["s"]))
    findings.append(_missing("rare", 3, "info"))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def test_per_column_findings_of_one_kind_share_one_card() -> None:
    n = MAX_GROUP_LINES + 200
    findings = _wide_findings(n)
    cards, hidden = finding_cards(findings)
    grouped = [c for c in cards if c["grouped"]]
    assert len(grouped) == 1  # the warnings; the error and the info stay single cards
    card = grouped[0]
    assert (card["code"], card["severity"], card["n_findings"]) == ("missing_values", "warning", MAX_GROUP_LINES)
    assert card["more_lines"] == 200 and hidden == 200
    # The columns with the most flagged rows first: c{i} holds 1500 + i.
    assert card["lines"][0]["column"] == f"c{n - 1}" and card["lines"][0]["n_rows"] == 1500 + n - 1
    assert [line["n_rows"] for line in card["lines"]] == sorted((line["n_rows"] for line in card["lines"]), reverse=True)
    assert card["message"] == f"{n:,} findings on {n:,} columns."
    # Worst first: the error card, then warnings, then infos.
    assert [c["severity"] for c in cards] == sorted((c["severity"] for c in cards),
                                                    key=["error", "warning", "info"].index)
    assert {c["code"] for c in cards} == {"missing_values", "constant_column", "id_column", "skewed_feature"}


def test_the_cap_never_hides_a_kind() -> None:
    # 250 single cards of one code (row-level findings do not group) would fill a cap of 200 alone.
    findings = [described("outliers", "outlier", "warning", f"row {i}", rows=[i]) for i in range(250)]
    findings += [described("constant_columns", "constant_column", "warning", "constant", columns=["k"]),
                 described("skewness", "skewed_feature", "info", "skewed", columns=["s"])]
    cards, hidden = finding_cards(findings, limit=200)
    codes = [c["code"] for c in cards]
    assert len(cards) == 200
    assert "constant_column" in codes and "skewed_feature" in codes
    assert hidden == 52
    # Kept cards stay in worst-first order.
    assert codes[-1] == "skewed_feature"


def test_wide_report_shows_every_code_once_and_a_table() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"c{i}": rng.normal(size=50) for i in range(5)})
    frame["label"] = rng.integers(0, 2, 50)
    dataset = Dataset.from_frame(frame, label="label", name="wide.csv")
    n = MAX_GROUP_LINES + 100
    findings = _wide_findings(n)
    result = AuditResult(input=dataset.describe_input(), checks=[CheckResult("missing_values", findings=findings)],
                         version="0.1.0", dataset=dataset)
    html = render_report(result)
    body = html[html.index('id="findings"'):html.index('id="columns"')]
    for code in ("constant_column", "id_column", "skewed_feature"):
        assert f'<span class="da-code">{code}</span>' in body
    assert body.count("da-group-table") == 1
    assert f"{n:,} findings on {n:,} columns." in body
    assert "+100 more missing_values findings are listed in findings.json." in body


def test_other_values_count_distinct_values_not_rows() -> None:
    # 5 shown values, then 3 more distinct values held by 300 rows: "+ 3 other values".
    values = pd.Series(["a"] * 100 + ["b"] * 90 + ["c"] * 80 + ["d"] * 70 + ["e"] * 60
                       + ["f"] * 100 + ["g"] * 100 + ["h"] * 100)
    column = profile_column(values, "categorical", np.random.default_rng(0))
    assert len(column["top"]) == 5
    assert column["other_count"] == 3


def test_time_zone_aware_dates_raise_no_warning() -> None:
    stamps = pd.Series(pd.date_range("2016-01-01", periods=500, freq="h", tz="UTC").astype(str))
    stamps = stamps.str.replace("+00:00", "Z", regex=False)
    frame = pd.DataFrame({"created_at": stamps, "n": np.arange(500), "label": np.arange(500) % 2})
    dataset = Dataset.from_frame(frame, label="label", name="tweets.csv")
    result = AuditResult(input=dataset.describe_input(), checks=[], version="0.1.0", dataset=dataset)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        html = render_report(result)
    assert "2016-01-01" in html
    aware = profile_column(pd.Series(pd.date_range("2020-03-01", periods=10, freq="D", tz="Europe/Paris")),
                           "datetime", np.random.default_rng(0))
    assert aware["kind"] == "datetime" and sum(aware["histogram"]["counts"]) == 10
