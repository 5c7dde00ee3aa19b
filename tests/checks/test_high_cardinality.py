from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(20)], n), "y": rng.integers(0, 2, n)})


def _run(frame: pd.DataFrame):
    return make_check("high_cardinality").run(Dataset.from_frame(frame, label="y"), AuditContext())


def test_twenty_categories_pass() -> None:
    assert _run(_frame()).findings == ()


def test_many_categories_flagged() -> None:
    frame = _frame()
    rng = np.random.default_rng(1)
    frame["zip"] = rng.choice([f"z{i:04d}" for i in range(300)], len(frame))
    (finding,) = _run(frame).findings
    assert finding.code == "high_cardinality" and finding.columns == ("zip",)
    details = finding.details["per_column"]["zip"]
    assert details["n_distinct"] == len(set(frame["zip"])) and details["n_distinct"] > 250
    assert "other" in finding.details["action"]
