from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "flag": rng.choice([0, 1], n, p=[0.97, 0.03]),
                         "y": rng.integers(0, 2, n)})


def _run(frame: pd.DataFrame):
    return make_check("skewness").run(Dataset.from_frame(frame, label="y"), AuditContext())


def test_gaussian_and_binary_columns_pass() -> None:
    assert _run(_frame()).findings == ()  # the 0/1 flag is skewed but has too few distinct values


def test_lognormal_column_flagged_with_log_suggestion() -> None:
    frame = _frame()
    frame["income"] = np.random.default_rng(1).lognormal(10, 1.2, len(frame))
    (finding,) = _run(frame).findings
    assert finding.code == "skewed_feature" and finding.columns == ("income",)
    assert finding.details["per_column"]["income"]["skew"] > 2
    assert finding.details["per_column"]["income"]["transform"] == "log1p"
