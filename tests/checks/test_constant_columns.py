from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "c": rng.choice(["u", "v"], n), "y": rng.integers(0, 2, n)})


def _run(frame: pd.DataFrame):
    return make_check("constant_columns").run(Dataset.from_frame(frame, label="y"), AuditContext())


def test_clean_has_no_finding() -> None:
    assert _run(_frame()).findings == ()


def test_constant_and_all_empty_columns() -> None:
    frame = _frame()
    frame["k"] = 7
    frame["empty"] = np.nan
    (finding,) = _run(frame).findings
    assert finding.code == "constant_column" and finding.severity == "warning"
    assert finding.columns == ("k", "empty")
    assert finding.details["per_column"]["k"] == {"value": 7, "n_missing": 0, "all_empty": False}
    assert finding.details["per_column"]["empty"]["all_empty"] is True


def test_quasi_constant_column_is_info_with_the_odd_rows() -> None:
    frame = _frame()
    frame["q"] = "same"
    frame.loc[1234, "q"] = "other"
    (finding,) = _run(frame).findings
    assert finding.severity == "info" and finding.columns == ("q",)
    assert finding.details["per_column"]["q"]["other_rows"] == [1234]
