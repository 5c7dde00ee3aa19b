"""One row-identity rule across the stages: what `inspect` flags is what `fit-transform` cleans.

A table with a unique ``row_id``: exact copies differ in their ID, so comparing the ID would hide
them (the bug this guards against: inspect reported 20 copies, fit-transform quarantined none and
5 pairs straddled splits). Every ``exact_duplicate`` row inspect flags is quarantined, and no
exact or near group straddles train/val/test, in memory and chunked, with or without --findings.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.io.artifacts import load_artifacts
from dataaudit.transforms.cleaning import RemovalCapExceeded
from dataaudit.transforms.pipeline import TransformConfig, fit_transform

N_BASE, N_COPIES, N_NEAR = 300, 20, 10


def _table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({f"x{i}": rng.standard_normal(N_BASE) for i in range(4)})
    base["colour"] = rng.choice(["red", "green", "blue"], N_BASE)
    base["label"] = rng.choice(["a", "b"], N_BASE)
    copies = base.iloc[rng.choice(N_BASE, N_COPIES, replace=False)]
    near = base.iloc[rng.choice(N_BASE, N_NEAR, replace=False)].copy()
    for column in ("x0", "x1", "x2", "x3"):
        near[column] += rng.standard_normal(N_NEAR) * 1e-4
    frame = pd.concat([base, copies, near], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, "row_id", rng.permutation(len(frame)) + 1000)  # unique, in random order
    return frame


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    _table().to_csv(root / "d.csv", index=False)
    result = CliRunner().invoke(app, ["inspect", str(root / "d.csv"), "--label", "label", "--out",
                                      str(root / "audit"), "--no-report", "--quiet"])
    assert result.exit_code in (0, 1), result.output
    findings = json.loads((root / "audit" / "findings.json").read_text())
    return root, findings


def _groups(findings: dict, code: str) -> list[list[int]]:
    return [g for f in findings["findings"] if f["code"] == code for g in f["details"]["groups"]]


def _rows(findings: dict, code: str) -> set[int]:
    return {r for f in findings["findings"] if f["code"] == code for r in f["rows"]}


def _split_of(artifacts) -> dict[int, str]:
    art = load_artifacts(artifacts)
    return {int(r): name for name in ("train", "val", "test") for r in art.split(name)[2]}


@pytest.mark.parametrize("chunksize", [None, 97])
@pytest.mark.parametrize("use_findings", [True, False])
def test_every_flagged_copy_is_quarantined_and_no_group_straddles(audited, chunksize, use_findings):
    root, findings = audited
    flagged = _rows(findings, "exact_duplicate")
    assert len(flagged) == N_COPIES  # inspect sees the copies despite the unique row_id
    out = root / f"art-{chunksize}-{use_findings}"
    summary = fit_transform(root / "d.csv", "label", out,
                            findings=root / "audit" / "findings.json" if use_findings else None,
                            config=TransformConfig(chunksize=chunksize))
    quarantine = pd.read_csv(out / "quarantine.csv")
    copies = set(quarantine.loc[quarantine["reason"] == "exact_duplicate", "row"])
    assert copies == flagged
    assert summary.quarantine_by_reason == {"exact_duplicate": N_COPIES}
    where = _split_of(out)
    assert len(where) + len(quarantine) == len(_table())
    near = _groups(findings, "near_duplicate") if use_findings or chunksize is None else []
    for group in _groups(findings, "exact_duplicate") + near:
        kept = {where[r] for r in group if r in where}
        assert len(kept) <= 1, f"group {group} straddles {kept}"
    if chunksize is None or use_findings:
        assert len(near) >= N_NEAR - 1  # the near copies were grouped and kept together
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["cleaning"]["identity"]["source"] == ("findings" if use_findings else "computed")
    assert manifest["cleaning"]["removal"]["n_removed"] == N_COPIES


def test_chance_collisions_are_kept_by_fit_transform(tmp_path):
    """Titanic-like table (three low-cardinality columns): inspect reports collisions, nothing is removed."""
    rng = np.random.default_rng(0)
    n = 1300
    frame = pd.DataFrame({
        "sex": rng.choice(["male", "female"], n, p=[0.64, 0.36]),
        "age": np.round(rng.gamma(4.0, 7.5, n)),
        "cls": rng.choice(["1st", "2nd", "3rd"], n, p=[0.25, 0.21, 0.54]),
        "survived": rng.choice(["yes", "no"], n, p=[0.38, 0.62]),
    })
    frame.to_csv(tmp_path / "t.csv", index=False)
    for chunksize in (None, 400):
        summary = fit_transform(tmp_path / "t.csv", "survived", tmp_path / f"art{chunksize}",
                                config=TransformConfig(chunksize=chunksize))
        assert summary.n_quarantined == 0
        assert summary.manifest["cleaning"]["identity"]["n_collision_rows_kept"] > 600
        sizes = summary.sizes
        assert sizes["val"] == sizes["test"] == 130  # collisions do not lump the split


def _copy_heavy(n_base: int = 200, share: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    base = pd.DataFrame({f"x{i}": rng.standard_normal(n_base) for i in range(40)})
    base["label"] = rng.integers(0, 3, n_base)
    copies = base.iloc[rng.integers(0, n_base, int(n_base * share / (1 - share)))]
    return pd.concat([base, copies], ignore_index=True)


def test_removal_cap_refuses_then_allows(tmp_path):
    frame = _copy_heavy()
    frame.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(RemovalCapExceeded, match="allow-large-removal") as caught:
        fit_transform(tmp_path / "c.csv", "label", tmp_path / "art", config=TransformConfig())
    assert "exact_duplicate 85" in str(caught.value) and "of 285 rows (29.8%)" in str(caught.value)
    assert not (tmp_path / "art").exists()  # nothing written
    result = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "c.csv"), "--label", "label",
                                      "--out", str(tmp_path / "art")])
    assert result.exit_code == 2 and "--allow-large-removal" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(app, ["fit-transform", str(tmp_path / "c.csv"), "--label", "label",
                                      "--out", str(tmp_path / "art"), "--allow-large-removal"])
    assert result.exit_code == 0, result.output
    assert "removed 85 rows (29.8% of the input; cap 20%, allowed above it)" in result.output
    assert "exact_duplicate 85: exact copy" in result.output
    removal = json.loads((tmp_path / "art" / "manifest.json").read_text())["cleaning"]["removal"]
    assert removal["over_cap"] and removal["by_reason"] == {"exact_duplicate": 85}
    # A higher cap (pipeline key max_removal) allows it too; missing labels do not count.
    frame.loc[:9, "label"] = None
    summary = fit_transform(frame, "label", tmp_path / "art2", config=TransformConfig.from_dict({"max_removal": 0.35}))
    assert summary.manifest["cleaning"]["removal"]["not_counted"] == {"missing_label": 10}


def _minority_copies() -> pd.DataFrame:
    """900 'no' rows, 100 'yes' rows and 30 copies of 'yes' rows: 2.9% of the input, 23% of 'yes'."""
    rng = np.random.default_rng(2)
    base = pd.DataFrame({f"x{i}": rng.standard_normal(1000) for i in range(6)})
    base["label"] = np.where(np.arange(1000) < 100, "yes", "no")
    copies = base.iloc[rng.choice(100, 30, replace=False)]
    frame = pd.concat([base, copies], ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


@pytest.mark.parametrize("chunksize", [None, 400])
def test_removal_cap_holds_per_class(tmp_path, chunksize):
    # The overall share (30 of 1,030) is far below the cap, but one class loses 23% of its rows:
    # refused like the overall cap (same error, exit 2, nothing written), allowed by the same flag.
    _minority_copies().to_csv(tmp_path / "m.csv", index=False)
    config = TransformConfig(chunksize=chunksize)
    with pytest.raises(RemovalCapExceeded, match="allow-large-removal") as caught:
        fit_transform(tmp_path / "m.csv", "label", tmp_path / "art", config=config)
    assert "30 of the 130 rows of class 'yes' (23.1%), more than the cap of 20% per class" in str(caught.value)
    assert "(exact_duplicate 30)" in str(caught.value) and not (tmp_path / "art").exists()
    args = ["fit-transform", str(tmp_path / "m.csv"), "--label", "label", "--out", str(tmp_path / "art")]
    if chunksize:
        args += ["--chunksize", str(chunksize)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--allow-large-removal" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "art").exists()
    result = CliRunner().invoke(app, [*args, "--allow-large-removal"])
    assert result.exit_code == 0, result.output
    assert "removed 30 rows (2.9% of the input; cap 20%):" in result.output
    assert "by class: yes 30 of 130 (23.1%, over the cap, allowed), no 0 of 900 (0.0%)" in result.output
    removal = json.loads((tmp_path / "art" / "manifest.json").read_text())["cleaning"]["removal"]
    assert removal["over_cap"] and removal["over_cap_classes"] == ["yes"]
    assert removal["by_class"]["yes"] == {"n_rows": 130, "n_removed": 30, "share": 0.230769,
                                          "by_reason": {"exact_duplicate": 30}}
    assert removal["by_class"]["no"]["n_removed"] == 0
    # A higher cap allows it too.
    summary = fit_transform(tmp_path / "m.csv", "label", tmp_path / "art2",
                            config=TransformConfig(chunksize=chunksize, max_removal=0.25))
    assert summary.manifest["cleaning"]["removal"]["over_cap_classes"] == []


def test_per_class_cap_needs_a_few_rows_removed():
    # One copy among a class's 4 rows is 25% of it but no emptied class; 5 of 20 is.
    from dataaudit.transforms.cleaning import CleaningPolicy, check_removal_cap

    codes = np.r_[np.zeros(996, dtype=np.int64), np.ones(4, dtype=np.int64)]
    record = check_removal_cap({996: "exact_duplicate"}, 1000, CleaningPolicy(), "t.csv", codes, ["a", "b"])
    assert record["by_class"]["b"]["share"] == 0.25 and record["over_cap_classes"] == [] and not record["over_cap"]
    codes = np.r_[np.zeros(980, dtype=np.int64), np.ones(20, dtype=np.int64)]
    with pytest.raises(RemovalCapExceeded, match="5 of the 20 rows of class 'b' \\(25.0%\\)"):
        check_removal_cap({r: "label_issue" for r in range(980, 985)}, 1000, CleaningPolicy(), "t.csv",
                          codes, ["a", "b"])


def test_bad_max_removal_is_a_config_error():
    from dataaudit.exceptions import ConfigError

    with pytest.raises(ConfigError, match="max_removal"):
        TransformConfig(max_removal=1.5)


@pytest.mark.parametrize("chunksize", [None, 50])
def test_entity_groups_stay_in_one_split(tmp_path, chunksize):
    rng = np.random.default_rng(2)
    patients = np.repeat(np.arange(60), rng.integers(2, 7, 60))
    frame = pd.DataFrame({"patient": patients, "x": rng.standard_normal(len(patients)),
                          "z": rng.standard_normal(len(patients)), "label": rng.integers(0, 2, len(patients))})
    frame.to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / f"art{chunksize}"
    fit_transform(tmp_path / "p.csv", "label", out, config=TransformConfig(group="patient", chunksize=chunksize))
    where = _split_of(out)
    per_patient = pd.Series([where[r] for r in range(len(frame))]).groupby(patients).nunique()
    assert (per_patient == 1).all()
    assert set(where.values()) == {"train", "val", "test"}


def test_streaming_hasher_matches_in_memory_groups():
    """Chunk by chunk, with an int column that turns float in one chunk, the groups are the in-memory ones."""
    from dataaudit.grouping import StreamingRowHasher, exact_group_codes, hash_rows

    frame = pd.DataFrame({"key": np.arange(12) + 100, "a": [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3],
                          "b": list("xyzxyzxyzxyq"), "label": [0, 1] * 6})
    hasher = StreamingRowHasher("label")
    chunks = [frame.iloc[:5], frame.iloc[5:]]
    chunks[1] = chunks[1].astype({"a": float})  # a missing cell elsewhere would make it float
    for chunk in chunks:
        hasher.update(chunk)
    assert "key" in hasher.candidates
    values, full = hasher.finish(["key"])
    expected = exact_group_codes(frame, ["a", "b"])
    assert (pd.factorize(values)[0] == pd.factorize(np.where(expected >= 0, expected, -np.arange(12) - 1))[0]).all()
    assert full is not None and len(set(full)) > len(set(values))
    # Not an ID after all: the key column is compared, and every row is its own record.
    values, _ = hasher.finish([])
    assert len(set(values)) == 12
    assert len(set(hash_rows(frame, ["a", "b"]))) == 4
