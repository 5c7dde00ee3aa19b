from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "y": rng.integers(0, 2, n)})


def test_counting_column_is_an_id() -> None:
    frame = _frame()
    frame.insert(0, "row_number", np.arange(100, 200))
    result = make_check("id_columns").run(Dataset.from_frame(frame, label="y"), AuditContext())
    (finding,) = result.findings
    assert finding.code == "id_column" and finding.columns == ("row_number",)
    assert finding.details["per_column"]["row_number"]["unique_share"] == 1.0
    assert finding.details["per_column"]["row_number"]["monotonic"] is True


def test_clean_and_declared_id_pass() -> None:
    frame = _frame()
    assert make_check("id_columns").run(Dataset.from_frame(frame, label="y"), AuditContext()).findings == ()
    frame["key"] = [f"k{i}" for i in range(100)]
    dataset = Dataset.from_frame(frame, label="y", id_column="key")
    assert make_check("id_columns").run(dataset, AuditContext()).findings == ()
