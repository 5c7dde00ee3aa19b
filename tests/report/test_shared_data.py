"""The report draws from one typed object (AuditData) and recomputes nothing the audit computed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from dataaudit import stats
from dataaudit.audit import run_checks
from dataaudit.dataset import Dataset
from dataaudit.findings import AuditResult
from dataaudit.records import SECTIONS
from dataaudit.report.render import render_report
from dataaudit.report.view import FALLBACK_ACTION
from dataaudit.shared import AuditData, CorrelationMatrix


def _wide(n_columns: int = 60, n_rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n_rows, n_columns)), columns=[f"f{i}" for i in range(n_columns)])
    frame["f1"] = 2.0 * frame["f0"] + rng.normal(scale=0.01, size=n_rows)  # the planted pair
    frame.loc[: n_rows // 10 - 1, "f1"] = np.nan  # seen together on 90% of the rows
    frame["y"] = rng.integers(0, 2, n_rows)
    return frame


def _no_correlations(*args, **kwargs):
    raise AssertionError("the report must not compute correlations: the check already did")


def test_the_heatmap_is_the_checks_own_matrix(monkeypatch) -> None:
    # 60 numeric columns: more than the check writes to findings.json, so nothing but the shared
    # computation can feed the heatmap.
    result = run_checks(Dataset.from_frame(_wide(), label="y"), checks=["correlations"])
    shared = result.shared.correlations
    assert isinstance(shared, CorrelationMatrix) and len(shared.columns) == 60
    assert "matrix" not in result.check("correlations").stats
    monkeypatch.setattr(stats, "pairwise_correlation", _no_correlations)
    monkeypatch.setattr(stats, "pairwise_correlation_with_counts", _no_correlations)
    html = render_report(result)
    part = html[html.index('id="correlations"'):]
    strongest = shared.strongest_pairs(1)[0]
    assert (strongest.a, strongest.b) == ("f0", "f1")
    row = re.search(r"f0</span></td><td><span class=\"da-colname\">f1</span></td><td[^>]*>([-0-9.]+)</td>"
                    r"<td[^>]*>([0-9,]+)</td>", part)
    assert row is not None and float(row.group(1)) == pytest.approx(strongest.r, abs=5e-4)
    assert row.group(2) == "270"  # rows where both columns are present
    assert "30 of 60 columns shown" in part


def test_result_data_is_one_typed_object() -> None:
    dataset = Dataset.from_frame(_wide(5), label="y")
    result = run_checks(dataset, checks=["correlations"])
    data = result.data
    assert isinstance(data, AuditData)
    assert data.dataset is dataset and data.test is None and data.shared is result.shared
    assert AuditResult.from_dict(result.to_dict()).data is None  # a saved run has words, no data


def test_drift_numbers_come_from_the_drift_check() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "y": rng.integers(0, 2, 300)})
    test = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(3.0, size=200), "y": rng.integers(0, 2, 200)})
    result = run_checks(Dataset.from_frame(train, label="y"), test=Dataset.from_frame(test, label="y"),
                        checks=["train_test_drift"])
    drift = result.shared.drift
    assert drift is not None and set(drift) >= {"a", "b"}
    html = render_report(result)
    part = html[html.index('id="train-test"'):]
    # Both columns are listed with the check's statistics, the drifted one first.
    assert part.index(">b<") < part.index(">a<")
    assert f"{drift['a']['p_value']:.4g}" in part or f"{drift['a']['p_value']:.3e}" in part


def test_every_finding_of_every_check_has_its_words() -> None:
    """A messy table that trips most checks: each finding carries a title, an action, a section."""
    rng = np.random.default_rng(1)
    n = 400
    frame = pd.DataFrame({
        "row_id": np.arange(n),
        "a": rng.normal(size=n),
        "b": rng.lognormal(3, 2, size=n),
        "const": 1.0,
        "city": rng.choice(["x", "y", "z"], n),
        "text": [f"note {i} " * (i % 7) for i in range(n)],
        "mixed": [str(i) if i % 9 else "n/a" for i in range(n)],
    })
    frame["copy_of_a"] = frame["a"] * 3.0
    frame.loc[rng.choice(n, 40, replace=False), "b"] = np.nan
    frame["y"] = np.where(frame["a"] > 0, "pos", "neg")
    frame.loc[:9, "y"] = "rare"
    frame = pd.concat([frame, frame.iloc[:15].assign(row_id=np.arange(n, n + 15))], ignore_index=True)
    result = run_checks(Dataset.from_frame(frame, label="y"))
    codes = {f.code for f in result.findings}
    assert len(codes) >= 6, codes
    for finding in result.findings:
        assert finding.title and finding.action and finding.section in SECTIONS, finding
    assert FALLBACK_ACTION not in render_report(result)
