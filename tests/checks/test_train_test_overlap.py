"""Tests of the ``train_test_overlap`` check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dataaudit.checks.train_test_overlap  # noqa: F401  (registers the check)
from dataaudit.audit import run_checks
from dataaudit.checks import AuditContext, make_check
from dataaudit.dataset import Dataset


def make_pair(n_train: int = 200, n_test: int = 50, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def block(n: int) -> pd.DataFrame:
        return pd.DataFrame({
            "a": rng.standard_normal(n), "b": rng.standard_normal(n), "c": rng.uniform(size=n),
            "colour": rng.choice(["red", "green"], n), "label": rng.choice(["p", "q"], n),
        })

    return block(n_train), block(n_test)


def run_overlap(train: pd.DataFrame, test: pd.DataFrame, **options: object):
    train_ds = Dataset.from_frame(train, label="label")
    test_ds = Dataset(frame=test.reset_index(drop=True), label="label", roles=dict(train_ds.roles))
    return make_check("train_test_overlap", options).run(train_ds, AuditContext(test=test_ds))


def test_tiny_fixture_exact_and_near_copies():
    train, test = make_pair()
    test.iloc[3] = train.iloc[10]  # exact copy
    test.loc[3, "label"] = "q" if train.loc[10, "label"] == "p" else "p"  # labels are never compared
    test.iloc[7] = train.iloc[20]
    test.loc[7, "a"] = train.loc[20, "a"] + 1e-5  # near copy
    train.iloc[30] = train.iloc[10]  # a second training copy of test row 3
    result = run_overlap(train, test)
    (finding,) = result.findings
    assert finding.code == "train_test_overlap"
    assert finding.rows == (10, 20, 30)
    assert finding.details["test_rows"] == [3, 7]
    assert finding.details["n_exact_pairs"] == 2 and finding.details["n_near_pairs"] == 1
    pairs = finding.details["pairs"]
    assert [p[:2] for p in pairs] == [[10, 3], [30, 3], [20, 7]]
    assert pairs[0][2] == 0.0 and 0 < pairs[2][2] < finding.details["threshold"]
    assert finding.severity == "warning"  # 2 of 50 test rows = 4%, not above 5%
    assert finding.details["share_of_test"] == pytest.approx(2 / 50)
    assert finding.message == "2 of 50 test rows (4.0%) have a copy among 3 training rows (2 exact, 1 near pairs)."
    scores = result.row_scores["train_test_overlap"]
    assert scores[[10, 30]].tolist() == [0.0, 0.0] and 0 < scores[20] < 0.02 and scores[0] == 1.0


def test_severity_follows_the_share_of_test_rows():
    train, test = make_pair()
    test.iloc[0] = train.iloc[0]
    assert run_overlap(train, test).findings[0].severity == "warning"  # 1 / 50 = 2%
    for k in range(1, 4):
        test.iloc[k] = train.iloc[k]
    assert run_overlap(train, test).findings[0].severity == "error"  # 4 / 50 = 8% > 5%
    assert run_overlap(train, test, error_share=0.5).findings[0].severity == "warning"


def test_independent_files_do_not_overlap():
    train, test = make_pair(2000, 500)
    result = run_overlap(train, test)
    assert result.status == "passed" and result.findings == ()
    assert result.stats["n_exact_pairs"] == 0 and result.stats["n_near_pairs"] == 0


def test_pairs_are_capped_with_totals():
    train, test = make_pair()
    for k in range(6):
        test.iloc[k] = train.iloc[k]
    finding = run_overlap(train, test, max_pairs=4, near=False).findings[0]
    assert finding.details["n_pairs"] == 6 and finding.details["pairs_listed"] == 4
    assert len(finding.details["test_rows"]) == 6
    assert np.isnan(finding.details["threshold"])


def test_skipped_without_test_file():
    train, _ = make_pair()
    result = run_checks(Dataset.from_frame(train, label="label"), checks=["train_test_overlap"])
    assert result.checks[0].status == "skipped"


def test_planted_overlap_recall_and_precision():
    train, test = make_pair(3000, 1000, seed=1)
    rng = np.random.default_rng(1)
    exact_src = rng.choice(3000, 40, replace=False)
    near_src = rng.choice(np.setdiff1d(np.arange(3000), exact_src), 40, replace=False)
    test.iloc[:40] = train.iloc[exact_src].to_numpy()
    near = train.iloc[near_src].copy()
    for column in ("a", "b", "c"):
        near[column] += rng.standard_normal(40) * train[column].std() * 1e-3
    test.iloc[40:80] = near.to_numpy()
    test = test.astype(train.dtypes.to_dict())
    finding = run_overlap(train, test).findings[0]
    found = {(p[0], p[1]) for p in finding.details["pairs"]}
    expected = {(int(s), k) for k, s in enumerate(exact_src)} | {(int(s), 40 + k) for k, s in enumerate(near_src)}
    assert found == expected
    assert finding.details["n_exact_pairs"] == 40 and finding.details["n_near_pairs"] == 40


def test_near_pairs_follow_the_near_copy_rule():
    """Missing is no number and a different category is another record, across files too."""
    train, test = make_pair()
    test.iloc[4] = train.iloc[11]
    test.loc[4, "a"] = np.nan  # train row 11 has a value here
    test.iloc[5] = train.iloc[12]
    test.loc[5, "colour"] = "blue"
    test.iloc[6] = train.iloc[13]
    test.loc[6, "b"] = train.loc[13, "b"] + 1e-6  # the one near copy
    train.iloc[40] = train.iloc[13]  # an exact training copy of row 13: paired too
    (finding,) = run_overlap(train, test).findings
    assert [p[:2] for p in finding.details["pairs"]] == [[13, 6], [40, 6]]
    assert finding.details["n_exact_pairs"] == 0 and finding.details["n_near_pairs"] == 2
