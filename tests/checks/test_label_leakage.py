"""label_leakage: planted copies of the label are flagged, informative features are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.checks.label_leakage import balanced_accuracy
from dataaudit.dataset import Dataset
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult

load_all()


def _run(frame: pd.DataFrame, **options: object) -> CheckResult:
    dataset = Dataset.from_frame(frame, label="label")
    return make_check("label_leakage", dict(options)).run(dataset, AuditContext(seed=0))


@pytest.fixture(scope="module")
def digits() -> tuple[pd.DataFrame, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X.astype(np.int64), columns=[f"pixel_{i}" for i in range(64)])
    frame["label"] = y
    return frame, y


def test_digits_pixels_never_flagged(digits: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, _ = digits
    result = _run(frame)
    assert result.status == "passed" and result.findings == ()
    scores = result.stats["balanced_accuracy"]
    # Constant pixels are skipped; every other pixel is scored and far from the threshold.
    assert len(scores) == 61 and max(scores.values()) < 0.5


def test_planted_label_copies_flagged(digits: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, y = digits
    rng = np.random.default_rng(0)
    frame = frame.copy()
    frame["label_text"] = np.array([f"digit-{c}" for c in range(10)])[y]
    frame["label_noisy_code"] = y + rng.normal(scale=0.01, size=len(y))
    # Informative but imperfect: the label code plus noise that blurs neighbouring classes.
    frame["label_blurred"] = y + rng.normal(scale=0.6, size=len(y))
    result = _run(frame)
    (finding,) = result.findings
    assert result.status == "flagged"
    assert finding.code == "label_leakage" and finding.severity == "error"
    assert set(finding.columns) == {"label_text", "label_noisy_code"}
    per_column = finding.details["per_column"]
    assert per_column["label_text"]["balanced_accuracy"] == 1.0
    assert per_column["label_text"]["method"] == "majority label per value"
    assert per_column["label_noisy_code"]["balanced_accuracy"] >= 0.98
    assert per_column["label_noisy_code"]["method"] == "one-feature decision tree"
    assert 0.5 < result.stats["balanced_accuracy"]["label_blurred"] < 0.98


def test_high_cardinality_categorical_not_flagged() -> None:
    # 300 random categories over 600 rows: memorizing them fits the training half perfectly,
    # but held-out rows mostly carry unseen values.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "code": rng.choice([f"c{i}" for i in range(300)], size=600),
        "x": rng.normal(size=600),
        "label": rng.integers(0, 2, size=600),
    })
    result = _run(frame)
    assert result.findings == ()
    assert result.stats["balanced_accuracy"]["code"] < 0.7


def test_id_constant_and_missing_values() -> None:
    rng = np.random.default_rng(0)
    labels = np.sort(rng.integers(0, 3, size=200))
    leak = np.array(["low", "mid", None], dtype=object)[labels]  # missing means class 2
    frame = pd.DataFrame({
        "row_id": np.arange(200),  # sorted by label, so it predicts it; but it is an ID
        "constant": 1.0,
        "leak": leak,
        "noise": rng.normal(size=200),
        "label": labels,
    })
    dataset = Dataset.from_frame(frame, label="label")
    assert dataset.roles["row_id"] == "id"
    result = make_check("label_leakage").run(dataset, AuditContext(seed=0))
    (finding,) = result.findings
    assert finding.columns == ("leak",)
    assert set(result.stats["balanced_accuracy"]) == {"leak", "noise"}


def test_datetime_column_recorded_from_the_label_is_flagged() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=300)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(labels * 30 + rng.integers(0, 5, 300), unit="D")
    frame = pd.DataFrame({"recorded": days.strftime("%Y-%m-%d"), "label": labels})
    dataset = Dataset.from_frame(frame, label="label")
    assert dataset.roles["recorded"] == "datetime"
    (finding,) = make_check("label_leakage").run(dataset, AuditContext(seed=0)).findings
    assert finding.columns == ("recorded",)


def test_too_few_rows_skips() -> None:
    frame = pd.DataFrame({"x": np.arange(10.0), "label": [0, 1] * 5})
    result = _run(frame)
    assert result.status == "skipped" and "10 labelled rows" in (result.reason or "")


def test_balanced_accuracy_reference() -> None:
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    assert balanced_accuracy(truth, predicted, 4) == pytest.approx(balanced_accuracy_score(truth, predicted))


def test_bad_options_raise() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        make_check("label_leakage", {"threshold": 1.5})


def test_near_deterministic_mapping_broken_by_a_rare_class_is_flagged() -> None:
    # Like a lab value that decides positive/negative while "invalid" tests share the negative
    # value: balanced accuracy over three classes misses it (invalid is never predicted).
    rng = np.random.default_rng(0)
    n = 4000
    label = rng.choice(["negative", "positive", "invalid"], size=n, p=[0.9, 0.085, 0.015])
    value = np.where(label == "positive", rng.uniform(14, 40, n), 45.0)
    frame = pd.DataFrame({"ct_value": value, "age": rng.normal(40, 10, n), "label": label})
    result = _run(frame)
    (finding,) = result.findings
    assert finding.columns == ("ct_value",) and finding.severity == "error"
    score = finding.details["per_column"]["ct_value"]
    assert score["balanced_accuracy"] < 0.98 <= score["lift"]
    assert "invalid" in finding.message and "set aside" in finding.message
    assert result.stats["lift"]["age"] < 0.2


def test_column_whose_sign_is_the_label_is_flagged() -> None:
    rng = np.random.default_rng(1)
    balance = rng.normal(size=1000)
    frame = pd.DataFrame({"balance": balance, "noise": rng.normal(size=1000),
                          "label": np.where(balance > 0, "credit", "debit")})
    (finding,) = _run(frame).findings
    assert finding.columns == ("balance",)
    assert finding.details["per_column"]["balance"]["method"] == "one-feature decision tree"


def test_pair_that_determines_the_label_is_flagged_when_neither_does_alone() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 2, 2000), rng.integers(0, 2, 2000)
    frame = pd.DataFrame({"a": np.array(["x", "y"])[a], "b": np.array(["p", "q"])[b],
                          "noise": rng.normal(size=2000), "label": (a + b) % 2})
    result = _run(frame)
    (finding,) = result.findings
    assert finding.severity == "warning" and finding.details["kind"] == "pair"
    assert set(finding.columns) == {"a", "b"}
    assert result.stats["lift"]["a"] < 0.1 and result.stats["lift"]["b"] < 0.1
    # Bounded: 3 pairs among the scored candidates, and the numeric one ranked within a and b.
    assert result.stats["n_pairs_scored"] == 5


def _within_year_quartiles(n_years: int = 9, per_year: int = 150, seed: int = 4) -> pd.DataFrame:
    """A panel whose label is the within-year quartile of a score whose level drifts by year."""
    rng = np.random.default_rng(seed)
    year = np.repeat(np.arange(2008, 2008 + n_years), per_year)
    score = rng.normal(size=len(year)) + 0.6 * (year - year.mean()) / n_years * 3
    frame = pd.DataFrame({"year": year, "score": score, "other": rng.normal(size=len(year))})
    frame["region"] = rng.choice(list("ABCDE"), size=len(year))
    frame["label"] = frame.groupby("year")["score"].transform(
        lambda s: pd.qcut(s, 4, labels=False)).astype(int) + 1
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_label_computed_within_groups_is_found_as_a_pair_and_only_the_ranked_column_drops() -> None:
    frame = _within_year_quartiles()
    result = _run(frame)
    (finding,) = result.findings
    assert finding.details["kind"] == "pair" and finding.severity == "warning"
    assert "score within year" in finding.details["per_pair"]
    assert finding.details["drop"] == ["score"]  # the year is no leak by itself
    assert set(finding.columns) == {"score", "year"}
    assert result.stats["lift"]["score"] < 0.96 and abs(result.stats["lift"]["year"]) < 0.1
    assert finding.details["per_pair"]["score within year"]["lift"] > 0.96


def test_informative_score_within_groups_is_no_pair_leak() -> None:
    frame = _within_year_quartiles()
    rng = np.random.default_rng(5)
    noisy = frame["score"] + rng.normal(scale=0.5, size=len(frame))
    frame["label"] = frame.groupby("year")["score"].transform(lambda s: pd.qcut(s, 4, labels=False)).astype(int)
    frame["score"] = noisy  # the label comes from a score the table only holds with noise
    result = _run(frame)
    assert not result.findings
    assert result.stats["n_pairs_scored"] > 0


def test_within_group_percentile_averages_ties_and_ignores_row_order() -> None:
    from dataaudit.checks.label_leakage import within_group_percentile

    values = np.array([3.0, 1.0, 2.0, 2.0, np.nan, 5.0, 5.0])
    groups = np.array([0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(within_group_percentile(values, groups),
                               [1.0, 0.25, 0.625, 0.625, np.nan, 0.75, 0.75])
    order = np.random.default_rng(0).permutation(7)
    np.testing.assert_allclose(within_group_percentile(values[order], groups[order]),
                               within_group_percentile(values, groups)[order])


def test_iris_petals_are_informative_not_leaks() -> None:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame.rename(columns={"target": "label"})
    result = _run(frame)
    assert not result.findings
    assert 0.8 < max(result.stats["lift"].values()) < 0.96


def test_regression_target_explained_by_one_column_is_flagged_by_r2() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=1500)
    frame = pd.DataFrame({
        "price_in_cents": 100 * (3 * x + 10) + rng.normal(scale=1, size=1500),
        "x": x + rng.normal(scale=1.0, size=1500),  # informative, not a copy
        "label": 3 * x + 10 + rng.normal(scale=0.01, size=1500),
    })
    dataset = Dataset.from_frame(frame, label="label")
    assert dataset.task == "regression"
    result = make_check("label_leakage").run(dataset, AuditContext(seed=0))
    (finding,) = result.findings
    assert finding.columns == ("price_in_cents",)
    assert result.stats["task"] == "regression" and result.stats["r2"]["price_in_cents"] > 0.98
    assert 0.3 < result.stats["r2"]["x"] < 0.9
    assert "R^2" in finding.message


@pytest.mark.parametrize("case", ["continuous", "integers", "missing", "regression", "ten_classes"])
def test_one_feature_tree_cuts_where_scikit_learn_does(case: str) -> None:
    """The prefix-sum tree puts rows in the same leaves as DecisionTreeClassifier / Regressor."""
    from sklearn.metrics import adjusted_rand_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    from dataaudit.checks._leakage_tree import OneFeatureTree

    rng = np.random.default_rng(3)
    n = 3000
    x = rng.standard_normal(n)
    if case == "integers":
        x = rng.integers(0, 25, n).astype(np.float64)
    if case == "missing":
        x[rng.random(n) < 0.15] = np.nan
    k = {"regression": 0, "ten_classes": 10}.get(case, 3)
    signal = np.nan_to_num(x, nan=1.0)
    if k:
        y = np.clip(np.round(signal * 1.5 + rng.standard_normal(n)).astype(np.int64) % k, 0, k - 1)
        leaves = max(16, 4 * k)
        sklearn_tree = DecisionTreeClassifier(max_leaf_nodes=leaves, min_samples_leaf=5, random_state=0)
    else:
        y = signal ** 2 + rng.standard_normal(n)
        leaves = 32
        sklearn_tree = DecisionTreeRegressor(max_leaf_nodes=leaves, min_samples_leaf=5, random_state=0)
    x = x.astype(np.float32).astype(np.float64)
    new = np.concatenate([x, rng.standard_normal(500) * 2, [np.nan, np.nan]])
    expected = sklearn_tree.fit(x[:, None], y).apply(new[:, None])
    ours = OneFeatureTree(x, y, k, leaves, 5).apply(new)
    assert len(np.unique(ours)) == len(np.unique(expected)) == sklearn_tree.get_n_leaves()
    assert adjusted_rand_score(expected, ours) == 1.0


def test_leak_behind_a_threshold_with_missing_values() -> None:
    """A numeric column whose sign is the label, missing where the label is 'unknown', is flagged."""
    rng = np.random.default_rng(0)
    n = 2000
    score = rng.standard_normal(n)
    label = np.where(score > 0.3, "high", "low").astype(object)
    unknown = rng.random(n) < 0.1
    label[unknown] = "unknown"
    score[unknown] = np.nan
    frame = pd.DataFrame({"score": score, "noise": rng.standard_normal(n), "label": label})
    result = _run(frame)
    (finding,) = result.findings
    assert finding.columns == ("score",)
    assert result.stats["lift"]["noise"] < 0.2


def test_message_names_the_statistics_that_crossed_their_threshold(digits: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, y = digits
    frame = frame.copy()
    frame["label_noisy_code"] = y + np.random.default_rng(0).normal(scale=0.01, size=len(y))
    (finding,) = _run(frame).findings
    thresholds = finding.details["thresholds"]
    statistics = {"lift": "lift", "uncertainty_coefficient": "uncertainty coefficient",
                  "balanced_accuracy": "balanced accuracy"}
    fired = 0
    for score in finding.details["per_column"].values():
        for key, text in statistics.items():
            if score[key] >= thresholds[key]:
                assert f"{text} {score[key]:.3f} >= {thresholds[key]:g}" in finding.message, finding.message
                fired += 1
            else:
                assert f"{text} {score[key]:.3f} >=" not in finding.message
    assert fired >= 1 and "balanced accuracy" in finding.message


def test_regression_message_quotes_the_r2_threshold() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=1500)
    frame = pd.DataFrame({"copy": 100 * x + rng.normal(scale=0.01, size=1500), "label": x})
    (finding,) = make_check("label_leakage").run(Dataset.from_frame(frame, label="label"), AuditContext(seed=0)).findings
    assert ">= 0.98 for 'label'" in finding.message


def _threshold_table(n: int = 189, seed: int = 0) -> pd.DataFrame:
    """A small table whose label is a threshold of one column (as MASS birthwt's low = bwt < 2500)."""
    rng = np.random.default_rng(seed)
    bwt = np.round(rng.normal(2950, 730, n))
    return pd.DataFrame({
        "age": rng.integers(14, 45, n),
        "lwt": np.round(rng.normal(130, 30, n)),
        "smoke": rng.integers(0, 2, n),
        "bwt": bwt,
        "label": (bwt < 2500).astype(int),
    })


def test_exact_threshold_on_a_small_table_is_flagged_with_its_cut() -> None:
    frame = _threshold_table(seed=3)
    result = _run(frame)
    # Each held-out half learns a slightly different cut on ~95 rows: those scores miss it.
    assert result.stats["lift"]["bwt"] < 0.96 and result.stats["balanced_accuracy"]["bwt"] < 0.98
    (finding,) = [f for f in result.findings if f.details["kind"] == "exact_cut"]
    assert finding.severity == "error" and finding.columns == ("bwt",) and finding.details["drop"] == ["bwt"]
    assert "label is bwt < 2500 on all 189 rows" in finding.message
    assert not any("bwt" in f.columns for f in result.findings if f is not finding)
    # The other way round, and with named classes.
    frame["label"] = np.where(frame["bwt"] >= 2500, "normal", "low")
    (finding,) = _run(frame).findings
    assert "label is 'low' where bwt < 2500, 'normal' where bwt >= 2500 on all 189 rows" in finding.message


def test_perfect_separation_by_chance_is_not_flagged() -> None:
    from dataaudit.checks._leakage_cut import exact_cut

    # 10 rows: below min_rows, nothing is claimed although a cut separates them.
    tiny = pd.DataFrame({"x": np.arange(10.0), "noise": np.arange(10) % 3, "label": [0] * 5 + [1] * 5})
    assert _run(tiny).findings == ()
    # A class of 8 rows that happens to sit below the rest: too few rows per class for the rule.
    values = np.arange(60.0)
    target = (values >= 8).astype(np.int64)
    assert exact_cut(values, target, 2, 20) is None
    assert exact_cut(values, (values >= 20).astype(np.int64), 2, 20)["cuts"] == [20.0]
    # A value shared by both classes, or a missing value, is no exact cut.
    assert exact_cut(np.r_[values, 30.0], np.r_[(values >= 30).astype(np.int64), 0], 2, 20) is None
    assert exact_cut(np.r_[values, np.nan], np.r_[(values >= 30).astype(np.int64), 0], 2, 20) is None
    # Random labels on 200 rows: no column separates them.
    rng = np.random.default_rng(1)
    noise = pd.DataFrame({f"x{i}": rng.standard_normal(200) for i in range(5)})
    noise["label"] = rng.integers(0, 2, 200)
    assert _run(noise).findings == ()
