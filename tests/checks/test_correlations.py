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


def test_a_pair_seen_together_on_a_few_rows_is_not_judged() -> None:
    # Two mostly empty columns present together on 4 rows, where they happen to line up exactly:
    # |r| = 1 by chance. A real pair on every row is still found.
    frame = _frame()
    frame["sparse_a"], frame["sparse_b"] = np.nan, np.nan
    frame.loc[:3, "sparse_a"] = [1.0, 2.0, 3.0, 4.0]
    frame.loc[:3, "sparse_b"] = [2.0, 4.0, 6.0, 8.0]
    frame["c"] = frame["a"] * 2.0
    context = AuditContext()
    (finding,) = make_check("correlations").run(Dataset.from_frame(frame, label="y"), context).findings
    assert [(p["a"], p["b"], p["n_rows"]) for p in finding.details["pairs"]] == [("a", "c", 300)]
    shared = context.shared.correlations
    assert shared is not None and shared.columns == ("a", "b", "c", "sparse_a", "sparse_b")
    assert np.isnan(shared.r[3, 4]) and shared.n_shared[3, 4] == 4
    # With the minimum lowered to what those rows offer, the chance pair is (wrongly) found.
    lowered = make_check("correlations", {"min_rows": 4}).run(Dataset.from_frame(frame, label="y"), AuditContext())
    assert ("sparse_a", "sparse_b") in {(p["a"], p["b"]) for p in lowered.findings[0].details["pairs"]}
