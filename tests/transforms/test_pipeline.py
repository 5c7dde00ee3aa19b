"""fit_transform / transform end to end: accounting, groups, train-only fitting, exact re-transform."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.exceptions import ConfigError, InputError, ValidationFailed
from dataaudit.findings import AuditResult, CheckResult, Finding
from dataaudit.io.artifacts import load_artifacts
from dataaudit.transforms.fitted import fitted_transform
from dataaudit.transforms.pipeline import TransformConfig, fit_transform, transform
from dataaudit.transforms.section import transform_section

FAST = {"near_duplicates": False}


def make_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) * (i + 1) for i in range(4)})
    frame["x3"] = frame["x0"] + frame["x1"]  # rank-deficient on purpose
    frame["c"] = rng.choice(["a", "b", "c"], n)
    frame["y"] = np.where(frame["x0"] + rng.normal(size=n) * 0.5 > 0, "pos", "neg")
    return frame


@pytest.fixture()
def dirty_csv(tmp_path):
    frame = make_frame()
    dupes = frame.iloc[[0, 1, 2]]  # 3 exact copies
    conflict = frame.iloc[[5]].assign(y=lambda f: np.where(f["y"] == "pos", "neg", "pos"))  # 1 conflict with row 5
    missing = frame.iloc[[7]].assign(y=None)
    frame = pd.concat([frame, dupes, conflict, missing], ignore_index=True)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_row_accounting_and_reasons(dirty_csv, tmp_path) -> None:
    path, frame = dirty_csv
    summary = fit_transform(path, "y", tmp_path / "art", config=TransformConfig(**FAST))
    sizes = summary.sizes
    assert summary.n_input == len(frame) == sum(sizes.values()) + summary.n_quarantined
    assert summary.quarantine_by_reason["exact_duplicate"] == 3
    assert summary.quarantine_by_reason["missing_label"] == 1
    quarantine = pd.read_csv(tmp_path / "art" / "quarantine.csv")
    assert len(quarantine) == summary.n_quarantined
    assert set(quarantine.loc[quarantine["reason"] == "exact_duplicate", "row"]) == {600, 601, 602}
    art = load_artifacts(tmp_path / "art")
    rows = np.concatenate([art.split(s)[2] for s in ("train", "val", "test")] + [quarantine["row"].to_numpy()])
    assert sorted(rows.tolist()) == list(range(len(frame)))
    # The conflicting pair (5, 603) sits in one split; in train/val it is quarantined, in test kept.
    split_of = {int(r): s for s in ("train", "val", "test") for r in art.split(s)[2]}
    conflict_reason = set(quarantine.loc[quarantine["row"].isin([5, 603]), "reason"])
    assert conflict_reason == {"conflicting_labels"} or split_of.get(5) == split_of.get(603) == "test"


def test_near_duplicate_groups_from_findings_stay_in_one_split(tmp_path) -> None:
    frame = make_frame(400)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    groups = [[i, i + 200] for i in range(0, 200, 4)]
    finding = Finding("near_duplicates", "near_duplicate", "warning", "near", rows=tuple(g[1] for g in groups),
                      details={"groups": groups})
    audit = AuditResult(input={}, checks=[CheckResult("near_duplicates", findings=[finding])])
    fit_transform(path, "y", tmp_path / "art", findings=audit, config=TransformConfig(seed=3))
    art = load_artifacts(tmp_path / "art")
    split_of = {int(r): s for s in ("train", "val", "test") for r in art.split(s)[2]}
    assert all(split_of[a] == split_of[b] for a, b in groups)


def test_fit_on_train_only(tmp_path) -> None:
    frame = make_frame(500)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    config = TransformConfig(scale="standard", **FAST)
    fit_transform(path, "y", tmp_path / "a", config=config)
    art = load_artifacts(tmp_path / "a")
    eval_rows = np.concatenate([art.split("val")[2], art.split("test")[2]])
    poisoned = frame.copy()
    poisoned.loc[eval_rows, ["x0", "x1", "x2"]] = 1e6  # huge values in val/test only
    poisoned.to_csv(path, index=False)
    fit_transform(path, "y", tmp_path / "b", config=config)
    mean_a = fitted_transform(art).scaler.mean_
    mean_b = fitted_transform(load_artifacts(tmp_path / "b")).scaler.mean_
    np.testing.assert_allclose(mean_b, mean_a, rtol=0, atol=1e-12)
    X_train = load_artifacts(tmp_path / "b").split("train")[0]
    assert np.abs(X_train.mean(axis=0)).max() < 1e-5


def test_whitening_verified_and_rank_deficiency_reported(tmp_path) -> None:
    path = tmp_path / "d.csv"
    make_frame(800).to_csv(path, index=False)
    for whiten in ("pca", "zca"):
        summary = fit_transform(path, "y", tmp_path / whiten, config=TransformConfig(whiten=whiten, **FAST))
        X = load_artifacts(tmp_path / whiten).split("train")[0].astype(np.float64)
        cov = np.cov(X, rowvar=False, bias=True)
        # x3 = x0 + x1 and the one-hot block sums to 1: two degenerate directions dropped.
        assert summary.verification["n_dropped_directions"] == 2
        assert summary.verification["whitened_cov_max_abs_deviation"] < 1e-3
        if whiten == "pca":
            np.testing.assert_allclose(cov, np.eye(cov.shape[0]), atol=1e-3)
    section = transform_section(summary.manifest)
    assert "Eigenvalue spectrum" in str(section.html) and "<svg" in str(section.html)


def test_transform_reproduces_fit_time_arrays_exactly(tmp_path) -> None:
    frame = make_frame(700)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    fit_transform(path, "y", tmp_path / "a", config=TransformConfig(whiten="zca", **FAST))
    outcome = transform(path, tmp_path / "a", tmp_path / "new.npz")
    assert outcome.n_transformed == 700 and outcome.n_quarantined == 0
    new = np.load(tmp_path / "new.npz", allow_pickle=False)
    art = load_artifacts(tmp_path / "a")
    for split in ("train", "val", "test"):
        X, y, rows = art.split(split)
        np.testing.assert_array_equal(new["X"][rows], X)
        np.testing.assert_array_equal(new["y"][rows], y)


def test_transform_quarantines_invalid_rows(tmp_path) -> None:
    frame = make_frame(300)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    fit_transform(path, "y", tmp_path / "a", config=TransformConfig(**FAST))
    new = frame.head(20).copy()
    new["x1"] = new["x1"].astype(object)
    new.loc[4, "x0"] = 1e9
    new.loc[6, "x1"] = "oops"
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    with pytest.raises(ValidationFailed, match="--on-invalid quarantine"):
        transform(new_path, tmp_path / "a", tmp_path / "new.npz")
    outcome = transform(new_path, tmp_path / "a", tmp_path / "new.npz", on_invalid="quarantine")
    assert outcome.n_quarantined == 2 and outcome.n_transformed == 18
    quarantined = pd.read_csv(tmp_path / "new.quarantine.csv")
    assert quarantined["row"].tolist() == [4, 6]
    assert np.load(tmp_path / "new.npz")["row"].tolist() == [r for r in range(20) if r not in (4, 6)]


def test_schema_errors_are_input_errors(tmp_path) -> None:
    frame = make_frame(200)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    fit_transform(path, "y", tmp_path / "a", config=TransformConfig(**FAST))
    for bad, phrase in ((frame.drop(columns="x2"), "missing column"), (frame.assign(extra=1), "new column"),
                        (frame.assign(x0="text"), "no value parses")):
        bad.to_csv(tmp_path / "bad.csv", index=False)
        with pytest.raises(InputError, match=phrase):
            transform(tmp_path / "bad.csv", tmp_path / "a", tmp_path / "o.npz")


def test_relabel_policy_and_own_eval_files(tmp_path) -> None:
    frame = make_frame(300)
    frame.iloc[:200].to_csv(tmp_path / "tr.csv", index=False)
    frame.iloc[200:250].to_csv(tmp_path / "va.csv", index=False)
    frame.iloc[250:].to_csv(tmp_path / "te.csv", index=False)
    suspects = [{"row": 0, "given": frame.y[0], "suggested": "pos" if frame.y[0] == "neg" else "neg", "score": 0.01}]
    finding = Finding("label_issues", "label_issue", "warning", "1", rows=(0,), details={"per_row": suspects})
    audit = AuditResult(input={}, checks=[CheckResult("label_issues", findings=[finding])])
    config = TransformConfig(val=str(tmp_path / "va.csv"), test=str(tmp_path / "te.csv"), suspects="relabel", **FAST)
    summary = fit_transform(tmp_path / "tr.csv", "y", tmp_path / "a", findings=audit, config=config)
    assert summary.sizes == {"train": 200, "val": 50, "test": 50}
    assert summary.n_relabelled == 1
    art = load_artifacts(tmp_path / "a")
    classes = art.label["classes"]
    assert classes == ["neg", "pos"]
    assert classes[art.split("train")[1][0]] == suspects[0]["suggested"]


def test_config_from_dict() -> None:
    config = TransformConfig.from_dict({"whiten": "pca", "pca_components": "0.99", "split": [0.7, 0.2, 0.1]})
    assert config.pca_components == 0.99 and config.split == (0.7, 0.2, 0.1)
    with pytest.raises(ConfigError, match="Unknown transform option"):
        TransformConfig.from_dict({"whitening": "pca"})
    with pytest.raises(ConfigError, match="scale"):
        TransformConfig(scale="minmax")


def test_own_test_file_only_splits_the_input_into_train_and_val(tmp_path):
    """--test alone: the input is split train/val in the ratio of the first two fractions."""
    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "label": rng.integers(0, 2, 300)})
    held_out = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40), "label": rng.integers(0, 2, 40)})
    frame.to_csv(tmp_path / "train.csv", index=False)
    held_out.to_csv(tmp_path / "test.csv", index=False)
    config = TransformConfig(split=(0.8, 0.1, 0.1), test=str(tmp_path / "test.csv"), near_duplicates=False)
    summary = fit_transform(tmp_path / "train.csv", "label", tmp_path / "art", config=config)
    assert summary.sizes["test"] == 40
    assert summary.sizes["train"] + summary.sizes["val"] + summary.n_quarantined == 300
    assert abs(summary.sizes["val"] - 300 / 9) <= 3
