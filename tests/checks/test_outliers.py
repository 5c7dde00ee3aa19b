from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _gaussian(n: int, d: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, d)), columns=[f"f{i}" for i in range(d)])


def _run(frame: pd.DataFrame, seed: int = 0):
    return make_check("outliers").run(Dataset.from_frame(frame), AuditContext(seed=seed))


def test_one_planted_row_is_flagged_first_with_its_column() -> None:
    frame = _gaussian(300, 3, 0)
    frame.loc[17, "f1"] = 12.0
    result = _run(frame)
    (finding,) = result.findings
    assert finding.code == "outlier" and finding.rows == (17,)
    assert finding.details["per_row"][0]["extreme_columns"][0]["column"] == "f1"
    scores = result.row_scores["outlier"]
    assert scores.shape == (300,) and 0 <= scores.min() and scores.max() <= 1 and scores.argmin() == 17


def test_planted_outliers_recall_and_clean_data_precision() -> None:
    for seed in (0, 1):
        clean = _gaussian(5000, 8, seed)
        assert len(_run(clean).findings[0].rows if _run(clean).findings else ()) <= 2
        rng = np.random.default_rng(seed + 10)
        planted = rng.choice(5000, 20, replace=False)
        frame = clean.copy()
        for row in planted:
            frame.iloc[row, rng.integers(0, 8)] = 8.0 * rng.choice([-1, 1])
        (finding,) = _run(frame).findings
        flagged = set(finding.rows)
        assert len(flagged & set(planted)) / 20 >= 0.95
        assert len(flagged - set(planted)) <= 2


def test_scores_are_deterministic_for_a_seed() -> None:
    frame = _gaussian(500, 4, 3)
    np.testing.assert_array_equal(_run(frame, 5).row_scores["outlier"], _run(frame, 5).row_scores["outlier"])


def test_skewed_columns_do_not_flood_the_flags() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"income": rng.lognormal(10, 1, 5000), "count": rng.exponential(3, 5000)})
    result = _run(frame)
    assert result.stats["n_flagged"] <= 0.01 * 5000
