from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(10, 20, n), "y": rng.integers(0, 2, n)})


def _run(frame: pd.DataFrame):
    return make_check("scale_disparity").run(Dataset.from_frame(frame, label="y"), AuditContext())


def test_similar_scales_pass() -> None:
    result = _run(_frame())
    assert result.findings == () and 10 < result.stats["ratio"] < 40


def test_salary_next_to_a_small_column_is_flagged() -> None:
    frame = _frame()
    frame["salary"] = np.random.default_rng(1).normal(50_000, 15_000, len(frame))
    (finding,) = _run(frame).findings
    assert finding.code == "scale_disparity" and finding.columns == ("salary", "a")
    assert finding.details["ratio"] > 10_000
    assert "standard" in finding.details["action"]
    assert set(finding.details["per_column"]) == {"a", "b", "salary"}
