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


def test_names_that_look_like_numbers_in_an_identifier_are_names(tmp_path) -> None:
    """Cars93's Model: one distinct name per row, a few of them '90', '100', '323' (id_columns says key)."""
    frame = _frame(93)
    names = [f"{w}{i}" for i, w in zip(range(93), ["Integra", "Legend", "Century", "LeSabre"] * 24, strict=False)]
    names[2], names[3], names[40], names[60], names[80] = "90", "100", "323", "626", "929"
    frame["model"] = names
    frame["size"] = (["Small", "Large", "Van"] * 31)[:88] + ["90", "100", "323", "626", "929"]  # a category column
    path = tmp_path / "cars.csv"
    frame.to_csv(path, index=False)
    dataset = load_dataset(path, label="y")
    assert dataset.roles["model"] == "id" and dataset.roles["size"] == "categorical"
    findings = make_check("mixed_types").run(dataset, AuditContext()).findings
    assert [f.columns for f in findings] == [("size",)]  # was ('model',) too
    assert findings[0].details["kind"] == "text_with_numbers" and findings[0].rows == (88, 89, 90, 91, 92)
