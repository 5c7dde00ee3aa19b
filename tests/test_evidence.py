"""Typed evidence (Groups, ColumnGroups, PerRow, PerColumn) and the typed memo checks share."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.audit import run_checks
from dataaudit.checks._base import AuditContext, make_check
from dataaudit.checks._neighbours import GroupCodesKey, RecordGroupsKey
from dataaudit.checks.label_leakage import LeakageScores, LeakageScoresKey
from dataaudit.cli import app
from dataaudit.dataset import Dataset
from dataaudit.exceptions import InputError
from dataaudit.findings import (
    AuditResult,
    CheckResult,
    ColumnGroups,
    Finding,
    Groups,
    PerColumn,
    PerRow,
    RowEvidence,
    parse_evidence,
)
from dataaudit.shared import Memo, MemoKey

# ---- construction and validation -------------------------------------------------------------


def test_groups_are_tuples_of_row_numbers() -> None:
    groups = Groups.of([[0, 2, 7], np.array([3, 5])])
    assert groups.groups == ((0, 2, 7), (3, 5)) and len(groups) == 2
    assert all(type(r) is int for r in groups.members)
    assert groups.to_json() == [[0, 2, 7], [3, 5]]
    assert Groups.from_json(groups.to_json()) == groups


@pytest.mark.parametrize(("groups", "phrase"), [
    ([[1]], "groups[0] has 1 row(s)"),
    ([[0, 1], []], "groups[1] has 0 row(s)"),
    ([[0, -3]], "groups[0][1] is -3"),
    ([[0, True]], "groups[0][1] is True"),
    ([[0, 1.5]], "groups[0][1] is 1.5"),
    ([[0, "4"]], "groups[0]"),
    ([[2, 2]], "lists a row twice"),
    ([3, 4], "groups[0] is int"),
    ("01", "list of row groups"),
])
def test_bad_groups_are_refused(groups: object, phrase: str) -> None:
    with pytest.raises(ValueError, match=_literal(phrase)):
        Groups.from_json(groups)


def test_per_row_entries_carry_a_row_and_named_values() -> None:
    per_row = PerRow.of([{"row": 4, "given_label": "a", "suggested_label": "b", "score": 0.3},
                         {"row": 1, "score": 0.01, "anomaly": 0.9}, {"row": 9, "score": None}])
    assert per_row.rows == [4, 1, 9]
    assert [e.row for e in per_row.worst_first()] == [1, 4, 9]  # no score: last
    first = per_row.entries[0]
    assert (first.given, first.suggested, first.score) == ("a", "b", 0.3)
    assert RowEvidence(2, {"given": "x", "suggested": "y"}).given == "x"
    assert per_row.to_json()[1] == {"row": 1, "score": 0.01, "anomaly": 0.9}
    with pytest.raises(TypeError):
        first.values["score"] = 0.0  # type: ignore[index]  # read-only


@pytest.mark.parametrize(("entries", "phrase"), [
    ([{"score": 0.1}], "per_row[0] is not an object with a 'row'"),
    ([{"row": 1, "score": 1.5}], "score 1.5 is outside [0, 1]"),
    ([{"row": 1, "score": -0.1}], "outside [0, 1]"),
    ([{"row": 1, "score": "low"}], "is not a number"),
    ([{"row": -1}], "row is -1"),
    ([{"row": 1}, {"row": 1}], "lists a row twice"),
    ({"1": 0.5}, "list of row entries"),
])
def test_bad_per_row_is_refused(entries: object, phrase: str) -> None:
    with pytest.raises(ValueError, match=_literal(phrase)):
        PerRow.from_json(entries)


def test_per_column_is_a_read_only_mapping_of_statistics() -> None:
    per_column = PerColumn({"a": {"skew": 3.1}, "b": {"skew": -2.0, "rules": ["moment"]}})
    assert list(per_column) == ["a", "b"] and per_column["a"]["skew"] == 3.1 and len(per_column) == 2
    assert per_column.to_json() == {"a": {"skew": 3.1}, "b": {"skew": -2.0, "rules": ["moment"]}}
    assert PerColumn.from_json([{"column": "a", "skew": 3.1}]) == PerColumn({"a": {"skew": 3.1}})
    with pytest.raises(TypeError):
        per_column.columns["c"] = {}  # type: ignore[index]
    for bad, phrase in [({"a": 3}, "column 'a' is int"), ({1: {}}, "column name 1"), ([1], "[0] is not an object"),
                        ("x", "object of columns")]:
        with pytest.raises(ValueError, match=_literal(phrase)):
            PerColumn.from_json(bad)


def test_column_groups_hold_names() -> None:
    groups = ColumnGroups.of([{"names": ["Name", "name "], "differ_by": ["case"]}])
    assert groups.groups[0].names == ("Name", "name ") and groups.groups[0].values["differ_by"] == ["case"]
    assert groups.to_json() == [{"names": ["Name", "name "], "differ_by": ["case"]}]
    with pytest.raises(ValueError, match="two or more column names"):
        ColumnGroups.of([{"names": ["only"]}])


def test_parse_evidence_reads_each_key_and_refuses_two_kinds() -> None:
    assert parse_evidence({"x": 1}) is None
    assert isinstance(parse_evidence({"groups": [[0, 1]]}), Groups)
    assert isinstance(parse_evidence({"groups": [{"names": ["a", "A"]}]}), ColumnGroups)
    assert isinstance(parse_evidence({"per_row": []}), PerRow)
    assert isinstance(parse_evidence({"per_column": {}}), PerColumn)
    with pytest.raises(ValueError, match="one kind of evidence"):
        parse_evidence({"groups": [[0, 1]], "per_row": []})


def test_a_finding_names_its_check_and_code_when_its_evidence_is_malformed() -> None:
    with pytest.raises(ValueError, match=_literal("duplicates/exact_duplicate: details.groups: groups[0] has 1")):
        Finding("duplicates", "exact_duplicate", "warning", "m", details={"groups": [[4]]})
    with pytest.raises(ValueError, match="details holds"):
        Finding("d", "c", "warning", "m", evidence=Groups.of([[0, 1]]), details={"per_row": []})
    with pytest.raises(TypeError, match="evidence must be"):
        Finding("d", "c", "warning", "m", evidence=[[0, 1]])  # type: ignore[arg-type]


def test_given_evidence_is_written_into_details_under_its_key() -> None:
    groups = Groups.of([[1, 3]])
    finding = Finding("d", "exact_duplicate", "warning", "m", rows=(3,), evidence=groups, details={"n": 1})
    assert finding.details == {"groups": [[1, 3]], "n": 1} and list(finding.details) == ["groups", "n"]
    assert finding.evidence is groups and finding.evidence_of(Groups) is groups
    assert finding.evidence_of(PerRow) is None
    described = finding.described(finding.code)  # type: ignore[arg-type]
    assert described.evidence is groups and described.details == finding.details
    # Built from details alone (findings.json, older callers), the evidence is parsed.
    parsed = Finding("d", "exact_duplicate", "warning", "m", details={"n": 1, "groups": [[1, 3]]})
    assert parsed.evidence == groups and list(parsed.details) == ["n", "groups"]


# ---- findings.json round trip ----------------------------------------------------------------

EVIDENCE = {
    "groups": Groups.of([[0, 2, 7], [3, 5]]),
    "column_groups": ColumnGroups.of([{"names": ["a", "A"], "differ_by": ["case"]}]),
    "per_row": PerRow.of([{"row": 4, "given_label": "x", "suggested_label": "y", "score": 0.02, "confident": True},
                          {"row": 1, "score": 0.4, "extreme_columns": [{"column": "a", "value": 9.0, "z": 5.1}]}]),
    "per_column": PerColumn({"a": {"skew": 3.5, "transform": "log"}, "b": {"skew": None}}),
}


@pytest.mark.parametrize("kind", sorted(EVIDENCE))
def test_each_shape_round_trips_through_findings_json(tmp_path: Path, kind: str) -> None:
    evidence = EVIDENCE[kind]
    finding = Finding("c", "code", "warning", "m", rows=(1, 4), evidence=evidence, details={"threshold": 0.5})
    result = AuditResult(input={"path": "d.csv", "sha256": "0"}, checks=[CheckResult("c", findings=[finding])])
    path = tmp_path / "findings.json"
    path.write_text(result.to_json())
    written = json.loads(path.read_text())["findings"][0]["details"]
    assert written[evidence.key] == evidence.to_json() and written["threshold"] == 0.5
    again = AuditResult.load(path).findings[0]
    assert type(again.evidence) is type(evidence) and again.evidence == evidence
    assert again.to_dict() == finding.to_dict()


def test_a_real_run_round_trips_its_evidence(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.lognormal(sigma=2.0, size=200),
                          "c": rng.integers(0, 3, 200)})
    frame.loc[5, "a"] = 40.0
    frame = pd.concat([frame, frame.iloc[[3, 4]]], ignore_index=True)
    frame["y"] = (frame["a"] > 0).astype(int)
    result = run_checks(Dataset.from_frame(frame, label="y"),
                        checks=["duplicates", "outliers", "skewness", "constant_columns"])
    kinds = {type(f.evidence) for f in result.findings}
    assert {Groups, PerRow, PerColumn} <= kinds, result.findings
    path = tmp_path / "findings.json"
    path.write_text(result.to_json())
    loaded = AuditResult.load(path)
    assert [f.evidence for f in loaded.findings] == [f.evidence for f in result.findings]
    assert loaded.to_json() == result.to_json()


@pytest.mark.parametrize(("details", "phrase"), [
    ({"groups": [[3]]}, "findings[0].details.groups: groups[0] has 1 row(s)"),
    ({"groups": [[0, -1]]}, "findings[0].details.groups: groups[0][1] is -1"),
    ({"groups": {"0": [1, 2]}}, "details.groups: expected a list of row groups"),
    ({"per_row": [{"row": 1, "score": 3}]}, "details.per_row: row 1: score 3 is outside [0, 1]"),
    ({"per_row": [{"score": 0.1}]}, "details.per_row: per_row[0] is not an object with a 'row'"),
    ({"per_column": {"a": [1, 2]}}, "details.per_column: column 'a' is list"),
])
def test_malformed_evidence_in_findings_json_is_one_input_error(tmp_path: Path, details: dict, phrase: str) -> None:
    document = {"input": {"sha256": "0"}, "checks": [], "findings": [
        {"check": "d", "code": "c", "severity": "warning", "message": "m", "rows": [1], "details": details}]}
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=_literal(phrase)) as caught:
        AuditResult.load(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_fit_transform_refuses_malformed_evidence_in_one_line(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": np.arange(40.0), "y": np.arange(40) % 2})
    frame.to_csv(tmp_path / "d.csv", index=False)
    document = {"input": {"sha256": "0"}, "checks": [{"check": "duplicates", "status": "flagged"}], "findings": [
        {"check": "duplicates", "code": "exact_duplicate", "severity": "warning", "message": "m", "rows": [1],
         "details": {"groups": [[1]]}}]}
    (tmp_path / "findings.json").write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "d.csv"), "--label", "y", "--findings",
                                      str(tmp_path / "findings.json"), "--out", str(tmp_path / "art")])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "details.groups: groups[0] has 1 row(s)" in lines[0], lines
    assert not (tmp_path / "art").exists()


# ---- the typed memo ----------------------------------------------------------------------------


def test_audit_context_has_a_typed_memo_and_no_string_cache() -> None:
    names = {f.name for f in fields(AuditContext)}
    assert "memo" in names and "cache" not in names
    assert isinstance(AuditContext().memo, Memo)


def test_memo_computes_once_per_key_and_keeps_key_classes_apart() -> None:
    memo = Memo()
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(3)

    key = GroupCodesKey("sha", 3, ("a", "b"))
    first = memo.get(key, compute)
    assert memo.get(GroupCodesKey("sha", 3, ("a", "b")), compute) is first and len(calls) == 1
    assert memo.lookup(GroupCodesKey("sha", 3, ("a",))) is None and memo.lookup(key) is first
    other = RecordGroupsKey("sha", 3, ("a", "b"), 0.01)
    assert other not in memo and key in memo and len(memo) == 1
    assert isinstance(key, MemoKey) and hash(key) == hash(GroupCodesKey("sha", 3, ("a", "b")))


def test_duplicate_checks_share_the_group_codes_through_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataaudit.checks._neighbours as neighbours

    calls: list[int] = []
    real = neighbours.exact_group_codes

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(neighbours, "exact_group_codes", counting)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame = pd.concat([frame, frame.iloc[:3]], ignore_index=True)
    dataset = Dataset.from_frame(frame)
    context = AuditContext()
    alone = make_check("duplicates").run(dataset, AuditContext())
    shared = make_check("duplicates").run(dataset, context)
    make_check("near_duplicates").run(dataset, context)
    assert len(calls) == 2  # one per context: near_duplicates reused the duplicates' codes
    assert any(isinstance(k, GroupCodesKey) for k in context.memo._values)
    assert [f.to_dict() for f in shared.findings] == [f.to_dict() for f in alone.findings]


def test_label_issues_reads_the_leakage_scores_label_leakage_left_in_the_memo() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["y"] = (frame["a"] + 0.3 * rng.normal(size=300) > 0).astype(int)
    dataset = Dataset.from_frame(frame, label="y")
    context = AuditContext(seed=0)
    make_check("label_leakage").run(dataset, context)
    (key,) = [k for k in context.memo._values if isinstance(k, LeakageScoresKey)]
    assert key.dataset == dataset.sha256 and key.label == "y"
    assert make_check("label_issues").run(dataset, context).stats["excluded_columns"] == []
    # Planted scores under the same key: label_issues takes them instead of scoring again.
    planted = LeakageScores(scores={"b": {"lift": 1.0, "uncertainty_coefficient": 1.0, "balanced_accuracy": 1.0}},
                            pairs={}, rows=np.arange(10), task="classification", n_classes=2, classes=[0, 1])
    context.memo.put(key, planted)
    assert make_check("label_issues").run(dataset, context).stats["excluded_columns"] == ["b"]


def _literal(text: str) -> str:
    import re

    return re.escape(text)
