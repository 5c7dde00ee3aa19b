from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset
from dataaudit.io.loading import load_dataset

load_all()  # make_check looks checks up in the registry


def _frame(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "y": rng.integers(0, 2, n)})


def test_counting_column_is_an_id() -> None:
    frame = _frame()
    frame.insert(0, "row_number", np.arange(100, 200))
    result = make_check("id_columns").run(Dataset.from_frame(frame, label="y"), AuditContext())
    (finding,) = result.findings
    assert finding.code == "id_column" and finding.columns == ("row_number",)
    assert finding.details["per_column"]["row_number"]["unique_share"] == 1.0
    assert finding.details["per_column"]["row_number"]["monotonic"] is True


def test_clean_and_declared_id_pass() -> None:
    frame = _frame()
    assert make_check("id_columns").run(Dataset.from_frame(frame, label="y"), AuditContext()).findings == ()
    frame["key"] = [f"k{i}" for i in range(100)]
    dataset = Dataset.from_frame(frame, label="y", id_column="key")
    assert make_check("id_columns").run(dataset, AuditContext()).findings == ()


DATA = Path(__file__).parents[1] / "data" / "real"


def _run(dataset: Dataset):
    return make_check("id_columns").run(dataset, AuditContext())


def test_shuffled_numbering_and_long_keys_are_ids_but_unique_measurements_are_not() -> None:
    rng = np.random.default_rng(0)
    frame = _frame(300)
    frame["shuffled"] = rng.permutation(300) + 1000  # a numbering in random order
    frame["tweet"] = rng.choice(10**15, 300, replace=False) + 10**17  # 18-digit keys
    frame["income"] = rng.choice(10**6, 300, replace=False)  # distinct by chance: a measurement
    dataset = Dataset.from_frame(frame, label="y")
    assert dataset.roles["shuffled"] == dataset.roles["tweet"] == "id"
    assert dataset.roles["income"] == "numeric"
    (finding,) = _run(dataset).findings
    assert set(finding.columns) == {"shuffled", "tweet"}
    assert "shuffled numbering" in finding.details["per_column"]["shuffled"]["why"]
    assert "9 or more digits" in finding.details["per_column"]["tweet"]["why"]


def _patients(n_patients: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    visits = rng.integers(1, 6, n_patients)
    patient = np.repeat(np.arange(n_patients) * 7 + 11, visits)
    sex = np.repeat(rng.choice(["f", "m"], n_patients), visits)
    age = np.repeat(rng.integers(18, 90, n_patients), visits)
    n = len(patient)
    return pd.DataFrame({"patient": patient, "sex": sex, "age": age, "visit": np.concatenate([np.arange(v) for v in visits]),
                         "pressure": rng.normal(120, 15, n).round(1), "colour": rng.choice(["r", "g", "b"], n),
                         "y": rng.integers(0, 2, n)}).sample(frac=1.0, random_state=0)


def test_entity_column_is_reported_with_its_evidence_and_suggested_group() -> None:
    dataset = Dataset.from_frame(_patients(), label="y")
    found = [f for f in _run(dataset).findings if f.code == "group_column"]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "warning" and finding.columns[0] == "patient"
    assert finding.details["suggested_group"] == "patient"
    evidence = finding.details["per_column"]["patient"]
    assert set(evidence["attached"]) == {"sex", "age"}  # visit-level columns vary within a patient
    assert evidence["attributes"]["age"]["constant_share"] == 1.0
    assert evidence["attributes"]["sex"]["chance_share"] < 0.5
    assert "--group patient" in finding.message


def test_no_entity_without_attached_attributes_and_none_when_declared() -> None:
    frame = _patients()
    rng = np.random.default_rng(1)
    frame["sex"] = rng.choice(["f", "m"], len(frame))  # per visit, not per patient any more
    frame["age"] = rng.integers(18, 90, len(frame))
    frame = frame.rename(columns={"patient": "code"})  # and no name that says "entity"
    assert not [f for f in _run(Dataset.from_frame(frame, label="y")).findings if f.code == "group_column"]
    declared = Dataset.from_frame(_patients(), label="y", group="patient")
    result = _run(declared)
    assert not [f for f in result.findings if f.code == "group_column"]
    assert result.stats["group"]["n_groups"] == 300


def test_real_tables_entities_found_and_scores_not_ids() -> None:
    covid = load_dataset(DATA / "covid_subjects.csv", label="result")
    (group,) = [f for f in _run(covid).findings if f.code == "group_column"]
    assert group.details["suggested_group"] == "subject_id"
    assert {"gender", "age"} <= set(group.details["per_column"]["subject_id"]["attached"])
    helpfull = load_dataset(DATA / "helpfull_visits.csv", label="GROUP")
    (group,) = [f for f in _run(helpfull).findings if f.code == "group_column"]
    assert group.details["suggested_group"] == "ID"
    assert group.details["per_column"]["ID"]["label_constant_share"] == 1.0  # the arm is per patient
    tweets = load_dataset(DATA / "tweets_ids.csv")
    assert tweets.roles["id_str"] == "id"
    assert tweets.roles["retweet_count"] == "numeric"
    hfi = load_dataset(DATA / "hfi_scores.csv", label="hf_score")
    (group,) = [f for f in _run(hfi).findings if f.code == "group_column"]
    assert group.details["suggested_group"] in ("ISO_code", "countries")  # a country-year panel


def test_a_named_key_of_other_records_is_an_id_even_with_repeats_and_gaps() -> None:
    rng = np.random.default_rng(3)
    frame = _frame(200)
    users = rng.choice(10**9, 40, replace=False) + 10**9
    frame["in_reply_to_user_id_str"] = np.where(rng.random(200) < 0.6, np.nan, rng.choice(users, 200))
    frame["valid"] = rng.integers(10**9, 10**10, 200).astype(float)  # a quantity whose name ends in "id"
    frame.loc[:5, "valid"] = np.nan
    dataset = Dataset.from_frame(frame, label="y")
    assert dataset.roles["in_reply_to_user_id_str"] == "id"
    assert dataset.roles["valid"] == "numeric"
    (finding,) = _run(dataset).findings
    assert "key of other records" in finding.details["per_column"]["in_reply_to_user_id_str"]["why"]
