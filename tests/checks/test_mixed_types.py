from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset
from dataaudit.io.loading import load_dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n).round(3), "c": rng.choice(["u", "v"], n),
                         "y": rng.integers(0, 2, n)})


def test_stray_strings_in_a_numeric_csv_column_but_not_placeholders(tmp_path) -> None:
    frame = _frame().astype({"a": object})
    frame.loc[[4, 40], "a"] = "12 kg"
    frame.loc[[7], "a"] = "?"  # a missing-value placeholder: missing_values reports it, not this check
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    result = make_check("mixed_types").run(load_dataset(path, label="y"), AuditContext())
    (finding,) = result.findings
    assert finding.code == "mixed_types" and finding.columns == ("a",) and finding.rows == (4, 40)
    assert finding.details["sample_values"] == [{"value": "12 kg", "count": 2}]


def test_object_column_mixing_numbers_and_text_in_memory() -> None:
    frame = _frame()
    frame["m"] = ["x", "y", "z", "w"] * 20 + [str(i) for i in range(20)]
    (finding,) = make_check("mixed_types").run(Dataset.from_frame(frame, label="y"), AuditContext()).findings
    assert finding.details["kind"] == "text_with_numbers" and finding.rows == tuple(range(80, 100))


def test_clean_passes() -> None:
    assert make_check("mixed_types").run(Dataset.from_frame(_frame(), label="y"), AuditContext()).findings == ()
