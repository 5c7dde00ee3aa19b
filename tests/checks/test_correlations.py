from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.checks.correlations import pairwise_correlation
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n),
                         "y": rng.integers(0, 2, n)})


def _run(frame: pd.DataFrame, **options: float):
    return make_check("correlations", options).run(Dataset.from_frame(frame, label="y"), AuditContext())


def test_independent_columns_pass_and_expose_the_matrix() -> None:
    result = _run(_frame())
    assert result.findings == ()
    assert result.stats["columns"] == ["a", "b", "c"] and np.asarray(result.stats["matrix"]).shape == (3, 3)


def test_planted_correlated_pair() -> None:
    frame = _frame()
    frame["b"] = -3 * frame["a"] + np.random.default_rng(1).normal(size=len(frame)) * 0.1
    (finding,) = _run(frame).findings
    assert finding.code == "high_correlation" and finding.columns == ("a", "b")
    (pair,) = finding.details["pairs"]
    assert pair["a"] == "a" and pair["b"] == "b" and -1 <= pair["r"] < -0.99


def test_pairwise_correlation_with_missing_values_matches_pandas() -> None:
    frame = _frame()[["a", "b", "c"]]
    frame.loc[::7, "b"] = np.nan
    ours = pairwise_correlation(frame.to_numpy())
    np.testing.assert_allclose(ours, frame.corr().to_numpy(), atol=1e-12)
