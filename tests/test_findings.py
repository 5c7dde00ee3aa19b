"""The findings.json contract and rows.csv."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dataaudit.audit import run_checks
from dataaudit.audit_outputs import rows_frame
from dataaudit.dataset import Dataset
from dataaudit.findings import AuditResult, CheckResult, Finding


def small_result() -> AuditResult:
    return AuditResult(
        input={"path": "d.csv", "sha256": "x", "n_rows": 4, "n_columns": 2, "label": "y"},
        checks=[
            CheckResult(check="duplicates", findings=[
                Finding("duplicates", "exact_duplicate", "warning", "1 row is a copy.", rows=(3,),
                        details={"groups": [[1, 3]]}),
            ], row_scores={"exact_duplicate": np.array([1.0, 1.0, 1.0, 0.0])}),
            CheckResult(check="outliers", findings=[
                Finding("outliers", "outlier", "info", "1 outlier.", rows=(0,)),
            ]),
            CheckResult(check="label_issues", status="skipped", reason="needs a label column (--label)"),
        ],
        version="0.1.0",
    )


def test_contract_keys_and_roundtrip(tmp_path):
    result = small_result()
    data = result.to_dict()
    assert list(data) == ["dataaudit_version", "input", "summary", "checks", "findings"]
    assert data["summary"] == {"n_findings": 2, "by_severity": {"error": 0, "warning": 1, "info": 1}}
    assert data["checks"][0]["status"] == "flagged"
    assert set(data["checks"][0]) >= {"check", "status", "seconds", "error"}
    finding = data["findings"][0]
    contract = {"check": "duplicates", "code": "exact_duplicate", "severity": "warning",
                "message": "1 row is a copy.", "rows": [3], "columns": [], "details": {"groups": [[1, 3]]}}
    assert {key: finding[key] for key in contract} == contract
    # Fields added in wave 2 (never removed): what the report says about the finding.
    assert set(finding) == set(contract) | {"title", "action", "section", "row_level"}
    path = tmp_path / "findings.json"
    path.write_text(result.to_json())
    again = AuditResult.load(path)
    assert again.to_dict() == json.loads(result.to_json())


def test_findings_sorted_worst_first():
    result = small_result()
    result.checks.append(CheckResult(check="leak", findings=[Finding("leak", "label_leakage", "error", "x")]))
    assert [f.severity for f in result.findings] == ["error", "warning", "info"]


def test_bad_severity_is_refused():
    with pytest.raises(ValueError):
        Finding("c", "x", "fatal", "m")


def test_rows_frame_flags_and_scores():
    result = small_result()
    result.checks[1] = replace(result.checks[1], row_scores={"outlier": np.array([0.01, 0.9, 0.8, 0.7])})
    result.dataset = Dataset.from_frame(pd.DataFrame({"a": [1.0, None, 3.0, None], "y": [0, 1, None, 1]}), label="y")
    frame = rows_frame(result)
    assert list(frame.columns) == ["row", "is_exact_duplicate", "exact_duplicate_score", "is_outlier",
                                   "outlier_score", "n_missing_cells"]
    assert frame["is_exact_duplicate"].tolist() == [0, 0, 0, 1]
    assert frame["exact_duplicate_score"].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert frame["is_outlier"].tolist() == [1, 0, 0, 0]
    assert frame["outlier_score"].tolist() == [0.01, 0.9, 0.8, 0.7]
    assert frame["n_missing_cells"].tolist() == [0, 1, 0, 1]


def test_column_level_findings_stay_out_of_rows_csv():
    result = small_result()
    result.checks.append(CheckResult(check="missing_values", findings=[
        Finding("missing_values", "missing_values", "warning", "sampled", rows=(1,), details={"rows_sampled": True})]))
    assert "is_missing_values" not in rows_frame(result).columns


def test_crashing_check_is_recorded_not_fatal(monkeypatch):
    from dataaudit.checks import REGISTRY, load_all

    load_all()
    cls = REGISTRY["constant_columns"]

    def boom(self, dataset, context):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cls, "run", boom)
    dataset = Dataset.from_frame(pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]}), label="y")
    result = run_checks(dataset, checks=["constant_columns", "duplicates"])
    statuses = {c.check: (c.status, c.error) for c in result.checks}
    assert statuses["constant_columns"] == ("errored", "RuntimeError: kaboom")
    assert statuses["duplicates"][0] in ("passed", "flagged")
    with pytest.raises(RuntimeError):
        run_checks(dataset, checks=["constant_columns"], strict=True)


def test_findings_of_a_run_carry_their_checks_metadata():
    frame = pd.DataFrame({"a": [1.0, 1.0, 2.0, 3.0] * 10, "b": list(range(40)), "y": [0, 1] * 20})
    frame = pd.concat([frame, frame.iloc[:3]], ignore_index=True)
    result = run_checks(Dataset.from_frame(frame, label="y"), checks=["duplicates", "constant_columns"])
    data = json.loads(result.to_json())
    assert data["findings"], "the planted copies must be found"
    for finding in data["findings"]:
        assert finding["title"] and finding["action"] and finding["section"]
    assert all(c["description"] for c in data["checks"])


def test_check_result_status_follows_its_content():
    finding = Finding("x", "outlier", "info", "m", rows=(1,))
    assert CheckResult(check="x").status == "passed"
    assert CheckResult(check="x", findings=[finding]).status == "flagged"
    assert CheckResult(check="x", status="skipped", reason="r").status == "skipped"
    assert CheckResult(check="x", findings=[finding], error="boom").status == "errored"
    assert CheckResult(check="x").with_findings(finding).status == "flagged"
    with pytest.raises(AttributeError):
        CheckResult(check="x").status = "flagged"  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        CheckResult(check="x", row_scores={"outlier": np.array([0.5, 1.5])})
    assert len(repr(CheckResult(check="x", findings=[finding] * 1000))) < 200


def test_public_api_lists_every_stage_and_results_print_short() -> None:
    import dataaudit

    names = dir(dataaudit)
    for stage in ("inspect", "fit_transform", "transform", "train_artifacts", "run_pipeline", "load_artifacts"):
        assert stage in names and stage in dataaudit.__all__
        assert callable(getattr(dataaudit, stage))
    assert not [name for name in names if not name.startswith("__") and name not in dataaudit.__all__]
    result = small_result()
    text = repr(result)
    assert text.count("\n") == 0 and len(text) < 200
    assert "d.csv" in text and "2 findings" in text
    big = Finding("duplicates", "exact_duplicate", "warning", "m" * 500, rows=tuple(range(100_000)),
                  details={"groups": [[r, r + 1] for r in range(0, 100_000, 2)]})
    for text in (repr(big), repr(CheckResult(check="duplicates", findings=[big]))):
        assert text.count("\n") == 0 and len(text) < 200, text
    assert "100000 row(s)" in repr(big)
