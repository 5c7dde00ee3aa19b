"""The real-data corpus in CI: every hand-written expectation on every table is one test.

The tables, their expectations and the judging code live in benchmarks/realdata/ (see its
README). A known gap (``gap = ...`` in expectations.toml) runs as xfail(strict=True): when the fix
lands the test XPASSes, which fails the suite until the gap marker is removed.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("realdata_corpus", ROOT / "benchmarks/realdata/corpus.py")
assert _SPEC is not None and _SPEC.loader is not None
corpus = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = corpus
_SPEC.loader.exec_module(corpus)

TABLES = corpus.load_expectations()
EXPECTATIONS = [exp for spec in TABLES.values() for exp in spec.expectations]

pytestmark = pytest.mark.slow


def _case(exp):
    marks = [pytest.mark.xfail(strict=True, reason=exp.gap)] if exp.gap else []
    return pytest.param(exp, id=exp.id, marks=marks)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return corpus.Corpus(tmp_path_factory.mktemp("corpus"), TABLES)


@pytest.mark.parametrize("expectation", [_case(e) for e in EXPECTATIONS])
def test_expectation(runner, expectation):
    met, explanation = runner.judge(expectation)
    assert met, f"{expectation.describe()}: {explanation}"


def test_corpus_is_what_the_manifest_says():
    manifest = json.loads(corpus.MANIFEST.read_text(encoding="utf-8"))["tables"]
    assert len(manifest) >= 12
    for name, entry in manifest.items():
        text = gzip.decompress((corpus.HERE / entry["file"]).read_bytes())
        assert hashlib.sha256(text).hexdigest() == entry["sha256_csv"], name
        header = text.split(b"\r\n", 1)[0].decode("utf-8").split(",")
        assert len(header) == entry["columns"], name
        assert entry["licence"] and entry["source"] and entry["package_version"], name
    assert {spec.file for spec in TABLES.values()} == set(manifest)


def test_every_table_has_findings_it_must_and_must_not_show():
    assert len(TABLES) >= 12
    for spec in TABLES.values():
        kinds = {exp.kind for exp in spec.expectations}
        # Something it must show or do, and something it must not (a false alarm to avoid).
        assert kinds & {"must", "task", "check_runs", "fit_transform"}, spec.name
        assert "must_not" in kinds, spec.name
        assert spec.judgement, spec.name


def test_the_judge_can_say_no(runner):
    # The harness itself: expectations contrary to the data are judged unmet.
    iris = TABLES["iris"]
    wrong = [
        {"kind": "must", "code": "label_leakage", "why": "x"},
        {"kind": "must_not", "code": "high_correlation", "why": "x"},
        {"kind": "must", "code": "high_correlation", "column": "sepal width (cm)", "why": "x"},
        {"kind": "must_not", "code": "high_correlation", "max_severity": "error", "why": "x"},
        {"kind": "task", "value": "regression", "why": "x"},
    ]
    for i, spec in enumerate(wrong):
        met, explanation = runner.judge(corpus.Expectation(iris.name, 100 + i, spec))
        assert not met, (spec, explanation)


def test_a_crashed_check_proves_nothing(tmp_path):
    # A must_not on a code whose check errored is unmet, not vacuously true.
    from types import SimpleNamespace

    crashed = SimpleNamespace(check="label_leakage", status="errored", error="ValueError: boom",
                              reason=None)
    result = SimpleNamespace(checks=[crashed], findings=[], input={"n_rows": 3}, dataset=None)
    judge = corpus.Corpus(tmp_path, TABLES)
    judge._inspect[("iris", "default")] = corpus.InspectRun(result=result)
    met, explanation = judge.judge(corpus.Expectation("iris", 200, {
        "kind": "must_not", "code": "label_leakage", "why": "x"}))
    assert not met and "errored" in explanation


def test_unknown_keys_are_refused(tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text('[tables.t]\nlabel = "y"\n[[tables.t.expect]]\nkind = "must"\ncode = "x"\n'
                   'colum = "a"\nwhy = "typo"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown keys"):
        corpus.load_expectations(bad)
