from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset
from dataaudit.io.loading import load_dataset

load_all()  # make_check looks checks up in the registry


def _clean(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(50, 10, n), "b": rng.integers(0, 100, n),
                         "c": rng.choice(["x", "y", "z"], n), "y": rng.integers(0, 2, n)})


def _run(frame: pd.DataFrame, dataset: Dataset | None = None):
    dataset = dataset or Dataset.from_frame(frame, label="y")
    return make_check("missing_values").run(dataset, AuditContext())


def test_clean_table_has_no_finding() -> None:
    assert _run(_clean()).findings == ()


def test_missing_cells_one_finding_per_column_with_rows_and_severity() -> None:
    frame = _clean()
    frame.loc[[3, 7], "a"] = np.nan
    frame.loc[:29, "c"] = None
    result = _run(frame)
    by_column = {f.columns[0]: f for f in result.findings}
    assert set(by_column) == {"a", "c"}
    assert by_column["a"].rows == (3, 7) and by_column["a"].severity == "info"
    assert by_column["a"].details["n_missing"] == 2 and by_column["a"].details["share"] == 0.01
    assert by_column["c"].severity == "warning" and by_column["c"].rows == tuple(range(30))


def test_all_empty_column_and_missing_labels() -> None:
    frame = _clean(50)
    frame["empty"] = np.nan
    frame["y"] = frame["y"].astype(float)
    frame.loc[[4, 9], "y"] = np.nan
    result = _run(frame)
    kinds = {f.details["kind"]: f for f in result.findings}
    assert kinds["all_empty"].columns == ("empty",) and kinds["all_empty"].severity == "warning"
    assert kinds["missing_label"].severity == "error" and kinds["missing_label"].rows == (4, 9)


def test_sentinel_value_far_outside_the_column() -> None:
    frame = _clean()
    frame.loc[[5, 50, 150], "a"] = -999
    (finding,) = _run(frame).findings
    assert finding.details["kind"] == "sentinel" and finding.details["placeholder"] == -999
    assert finding.rows == (5, 50, 150) and finding.columns == ("a",)


def test_minus_one_in_a_non_negative_column_is_a_sentinel_but_a_common_value_is_not() -> None:
    frame = _clean()
    frame.loc[[1, 2, 3], "b"] = -1
    (finding,) = _run(frame).findings
    assert finding.details["placeholder"] == -1 and finding.rows == (1, 2, 3)
    frame = _clean()
    frame.loc[:9, "b"] = 100  # the top of the range repeated: an ordinary frequent value
    assert _run(frame).findings == ()


def test_placeholder_strings_in_categorical_and_numeric_columns(tmp_path) -> None:
    frame = _clean(60)
    frame["c"] = frame["c"].astype(object)
    frame.loc[[2, 8], "c"] = "?"
    frame["a"] = frame["a"].astype(object)
    frame.loc[[10], "a"] = "missing"
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    dataset = load_dataset(path, label="y")
    findings = _run(frame, dataset).findings
    by_column = {f.columns[0]: f for f in findings}
    assert by_column["c"].details == {**by_column["c"].details, "kind": "placeholder", "placeholders": {"?": 2}}
    assert by_column["c"].rows == (2, 8)
    assert by_column["a"].details["placeholders"] == {"missing": 1} and by_column["a"].rows == (10,)


def test_infinite_values_get_their_own_code() -> None:
    frame = _clean()
    frame["a"] = frame["a"].astype(float)
    frame.loc[[0, 11], "a"] = [np.inf, -np.inf]
    (finding,) = _run(frame).findings
    assert finding.code == "infinite_values" and finding.rows == (0, 11)
    assert finding.details["n_pos_inf"] == 1 and finding.details["n_neg_inf"] == 1


def test_ends_of_a_bounded_scale_are_not_codes_but_far_codes_are() -> None:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "score": rng.choice([0.0, 2.5, 5.0, 7.5, 10.0], n, p=[0.02, 0.03, 0.1, 0.25, 0.6]),  # 0-10 scale
        "binary_scale": rng.choice([0.0, 5.0, 10.0], n, p=[0.3, 0.02, 0.68]),
        "yes_no": rng.choice([0.0, 1.0, 7.0], n, p=[0.45, 0.45, 0.1]),  # 7 = "not applicable"
        "income": rng.normal(3000, 800, n).round(),
        "y": rng.integers(0, 2, n),
    })
    frame.loc[:11, "income"] = 9999.0  # a conventional code far above the rest
    findings = _run(frame).findings
    by_column = {f.columns[0]: f for f in findings}
    assert set(by_column) == {"yes_no", "income"}
    assert by_column["yes_no"].details["placeholder"] == 7 and by_column["yes_no"].details["rest_max"] == 1
    assert by_column["income"].details["placeholder"] == 9999 and len(by_column["income"].rows) == 12
    assert "other values (0.0 to 1.0)" in by_column["yes_no"].message


def test_real_freedom_scores_have_no_missing_codes() -> None:
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "real" / "hfi_scores.csv"
    findings = _run(pd.DataFrame(), load_dataset(path, label="hf_score")).findings
    assert not [f for f in findings if f.details.get("kind") == "sentinel"]
    helpfull = Path(__file__).parents[1] / "data" / "real" / "helpfull_visits.csv"
    sentinels = [f for f in _run(pd.DataFrame(), load_dataset(helpfull, label="GROUP")).findings
                 if f.details.get("kind") == "sentinel"]
    assert [(f.columns[0], f.details["placeholder"]) for f in sentinels] == [("N1A", 7)]  # 7 among 0/1 answers


def test_a_set_of_conventional_codes_is_peeled_but_category_codes_are_not() -> None:
    rng = np.random.default_rng(2)
    n = 400
    fractions = rng.uniform(0, 0.3, n).round(3)
    fractions[:150] = 999.0  # "missing"
    fractions[150:156] = 888.0  # "not asked": 999 alone is judged against a rest that holds 888
    categories = rng.choice([1.0, 2.0, 3.0, 8.0, 15.0, 16.0], n, p=[0.05, 0.15, 0.05, 0.1, 0.5, 0.15])
    frame = pd.DataFrame({"z": fractions, "drug": categories, "y": rng.integers(0, 2, n)})
    sentinels = [f for f in _run(frame).findings if f.details.get("kind") == "sentinel"]
    assert sorted((f.columns[0], f.details["placeholder"]) for f in sentinels) == [("z", 888), ("z", 999)]
    assert sentinels[0].details["codes_together"] == [999, 888]


def test_words_the_reader_reads_as_missing_are_named(tmp_path) -> None:
    """Cars93's AirBags: 'None' (no airbags) is one of pandas' missing-value strings; say so."""
    frame = _clean(60)
    frame["bags"] = np.where(np.arange(60) % 3 == 0, "Driver only", "Driver & Passenger").astype(object)
    frame.loc[[1, 4, 7, 10], "bags"] = "None"
    frame.loc[[13], "bags"] = ""  # an empty cell: missing, not a word
    frame["c"] = frame["c"].astype(object)
    frame.loc[[5, 9], "c"] = "NA"
    frame["a"] = frame["a"].astype(object)
    frame.loc[[3], "a"] = "NA"  # a number column: 'NA' there is missing, nothing to say
    frame["d"] = frame["c"].where(np.arange(60) % 7 != 0, "").replace("NA", "x")  # empty cells only
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    dataset = load_dataset(path, label="y")
    assert dataset.na_text == {"bags": {"None": 4}, "c": {"NA": 2}}
    by_column = {f.columns[0]: f for f in _run(frame, dataset).findings if f.details.get("kind") == "missing"}
    bags = by_column["bags"]
    assert bags.details["na_text"] == {"None": 4} and bags.rows == (1, 4, 7, 10, 13)
    assert bags.message.startswith("Column 'bags' is missing in 5 rows (8.3%). 4 of them are the text 'None' "
                                   "in the file, which the reader treats as missing: if 'None' is a category")
    assert "rename it in the file" in bags.message and "'none_'" in bags.action
    assert "All 2 are the text 'NA' in the file" in by_column["c"].message
    for column in ("a", "d"):
        assert by_column[column].details["na_text"] == {} and "text" not in by_column[column].message


def _by_class_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.repeat(["car", "van", "sport"], [80, 10, 30])
    frame = pd.DataFrame({"x": rng.normal(size=120), "room": rng.normal(size=120),
                          "noise": rng.normal(size=120), "label": label})
    frame.loc[frame["label"] == "van", "room"] = np.nan  # never measured for vans
    frame.loc[[3, 50], "room"] = np.nan                  # and two cars
    frame.loc[rng.choice(120, 36, replace=False), "noise"] = np.nan  # 30 % anywhere
    return frame


def test_missingness_that_names_a_class_is_a_warning_with_the_classes() -> None:
    frame = _by_class_frame()
    result = _run(frame, Dataset.from_frame(frame, label="label"))
    (room,) = [f for f in result.findings if f.columns == ("room",)]
    assert room.severity == "warning"
    (entry,) = room.details["by_class"]
    assert entry["class"] == "van" and (entry["n_missing"], entry["n_rows"]) == (10, 10)
    assert entry["p_value"] < 1e-3 and room.details["by_class_rest_share"] == 2 / 110
    assert "missing in 10 of 10 'van' rows" in room.message and "read the label off an empty cell" in room.message
    assert "missing the same way when the model is used" in room.action
    (noise,) = [f for f in result.findings if f.columns == ("noise",)]
    assert "by_class" not in noise.details and "tells the class" not in noise.message


def test_by_class_needs_enough_rows_a_large_gap_and_a_class_label() -> None:
    from dataaudit.checks.missing_values import missing_by_class

    codes = np.repeat([0, 1], [100, 4])
    missing = np.r_[np.zeros(100, bool), np.ones(4, bool)]
    assert missing_by_class(missing, codes, 0.5) == []  # a class of 4 rows is too small to judge
    codes = np.repeat([0, 1], [60, 60])
    missing = np.r_[np.ones(20, bool), np.zeros(40, bool), np.ones(45, bool), np.zeros(15, bool)]
    assert missing_by_class(missing, codes, 0.5) == []  # 33 % against 75 %: related, not a giveaway
    found = missing_by_class(missing, codes, 0.4)
    # Two classes test alike; the one the missing cells gather in is named, once.
    assert [e["code"] for e in found] == [1] and found[0]["share"] == 0.75
    labelled = np.r_[codes, [-1] * 10]
    assert missing_by_class(np.r_[missing, np.ones(10, bool)], labelled, 0.4) == found  # unlabelled rows left out
    frame = _by_class_frame()
    frame["label"] = np.arange(120, dtype=float) * 1.37  # a numeric target: regression, no classes
    result = _run(frame, Dataset.from_frame(frame, label="label"))
    assert all("by_class" not in f.details for f in result.findings)
