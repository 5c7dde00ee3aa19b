from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int, seed: int, shift: float = 0.0, p_b: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n) + shift, "b": rng.normal(size=n),
                         "c": rng.choice(["u", "v"], n, p=[1 - p_b, p_b]), "y": rng.integers(0, 2, n)})


def _run(train: pd.DataFrame, test: pd.DataFrame):
    context = AuditContext(test=Dataset.from_frame(test, label="y"))
    return make_check("train_test_drift").run(Dataset.from_frame(train, label="y"), context)


def test_same_distribution_passes_with_a_full_table() -> None:
    result = _run(_frame(2000, 0), _frame(1000, 1))
    assert result.findings == ()
    assert set(result.stats["per_column"]) == {"a", "b", "c", "y"}
    assert result.stats["per_column"]["a"]["test"] == "ks"
    assert result.stats["per_column"]["c"]["test"] == "chi2"


def test_shifted_numeric_and_categorical_columns_drift() -> None:
    result = _run(_frame(2000, 0), _frame(1000, 1, shift=0.8, p_b=0.7))
    (finding,) = result.findings
    assert finding.code == "train_test_drift" and set(finding.columns) == {"a", "c"}
    assert finding.details["per_column"]["a"]["p_adjusted"] < 0.01
    assert finding.details["per_column"]["c"]["distance"] > 0.3


def test_tiny_shift_on_big_samples_is_not_drift() -> None:
    # Significant at this size, but below the effect-size floor: not reported.
    result = _run(_frame(40_000, 0), _frame(40_000, 1, shift=0.05))
    assert result.stats["per_column"]["a"]["p_value"] < 0.01
    assert result.findings == ()


def test_missing_column_is_its_own_finding() -> None:
    (finding,) = _run(_frame(300, 0), _frame(300, 1).drop(columns=["b"])).findings
    assert finding.details["kind"] == "missing_columns" and finding.columns == ("b",)
