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
    assert finding.details["per_column"]["income"]["transform"] == "log"  # the log makes it symmetric
    assert finding.details["per_column"]["income"]["rules"] == ["moment", "log"]


def test_price_like_column_below_skew_two_flagged_because_the_log_makes_it_symmetric() -> None:
    frame = _frame(20_000)
    rng = np.random.default_rng(2)
    frame["price"] = np.round(rng.lognormal(7.5, 0.52, len(frame)), 0)  # skew 1.8, decile skew 0.31
    frame["shifted"] = rng.gamma(9.0, 1.0, len(frame)) + 100  # mildly skewed far from zero: log does little
    (finding,) = _run(frame).findings
    info = finding.details["per_column"]["price"]
    assert finding.columns == ("price",)
    assert info["rules"] == ["log"] and abs(info["skew"]) <= 2
    assert info["robust_skew"] >= 0.3 and abs(info["robust_skew_of_log"]) <= info["robust_skew"] / 2
    assert info["transform"] == "log"


def test_one_wild_value_is_no_log_case() -> None:
    frame = _frame()
    z = np.random.default_rng(3).normal(3.5, 0.7, len(frame)).clip(0.5)
    z[7] = 31.8  # a typo: moment skew explodes, the deciles do not move
    frame["z"] = z
    (finding,) = _run(frame).findings
    info = finding.details["per_column"]["z"]
    assert info["rules"] == ["moment"] and info["transform"] == "log1p"
    assert abs(info["robust_skew"]) < 0.1


def test_regression_target_reported_with_model_log_suggestion() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.normal(size=2000)})
    frame["price"] = np.exp(7.0 + 0.5 * frame["a"] + rng.normal(scale=0.4, size=2000))
    dataset = Dataset.from_frame(frame, label="price")
    assert dataset.task == "regression"
    (finding,) = make_check("skewness").run(dataset, AuditContext()).findings
    assert finding.columns == ("price",) and finding.details["target"] is True
    assert finding.details["transform"] == "log" and "model log(price)" in finding.message
    assert finding.details["per_column"]["price"]["rules"][-1] == "log"


def test_classification_label_and_symmetric_target_not_reported() -> None:
    frame = _frame()
    frame["y"] = np.random.default_rng(5).choice([1, 2, 50], len(frame), p=[0.9, 0.08, 0.02])
    assert _run(frame).findings == ()  # a skewed class code is a class, not a target
    rng = np.random.default_rng(6)
    symmetric = pd.DataFrame({"a": rng.normal(size=2000), "t": rng.normal(100, 10, 2000)})
    assert make_check("skewness").run(Dataset.from_frame(symmetric, label="t"), AuditContext()).findings == ()
