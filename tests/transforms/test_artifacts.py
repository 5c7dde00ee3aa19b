"""Artifacts: round trip, and clear ArtifactErrors for tampered, foreign or future-format files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from dataaudit.exceptions import ArtifactError, InputError, OutputError
from dataaudit.io.artifacts import NpzStreamWriter, load_artifacts
from dataaudit.transforms.fitted import fitted_transform
from dataaudit.transforms.pipeline import TransformConfig, fit_transform


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("art")
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.choice(["u", "v"], 300)})
    frame["y"] = (frame["a"] > 0).astype(int)
    frame.to_csv(root / "d.csv", index=False)
    summary = fit_transform(root / "d.csv", "y", root / "art",
                            config=TransformConfig(whiten="pca", dtype="float64", near_duplicates=False))
    return root / "art", summary


def _copy(src, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_round_trip(artifacts) -> None:
    path, summary = artifacts
    art = load_artifacts(path)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["label"] == {"name": "y", "task": "classification", "classes": [0, 1]}
    assert set(manifest["schema"]["roles"]) == {"a", "b", "c", "y"}
    X, y, row = art.split("train")
    assert X.dtype == np.float64 and y.dtype == np.int64 and row.dtype == np.int64
    assert X.shape == (summary.sizes["train"], len(summary.feature_names))
    frame = pd.read_csv(path.parent / "d.csv")
    np.testing.assert_array_equal(fitted_transform(art).apply(frame.iloc[row]), X)
    assert sorted(p.name for p in path.iterdir()) == [
        ".dataaudit.json", "expectations.json", "manifest.json", "quarantine.csv", "test.npz", "train.npz", "transform.npz", "val.npz"]


def test_tampered_npz_refused(artifacts, tmp_path) -> None:
    path = _copy(artifacts[0], tmp_path)
    with np.load(path / "train.npz") as data:
        arrays = {k: data[k].copy() for k in data.files}
    arrays["X"][0, 0] += 1.0
    np.savez(path / "train.npz", **arrays)
    with pytest.raises(ArtifactError, match="sha256 does not match"):
        load_artifacts(path)


def test_wrong_format_version_refused(artifacts, tmp_path) -> None:
    path = _copy(artifacts[0], tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 2
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="format_version 2"):
        load_artifacts(path)


def test_foreign_npz_refused_even_with_matching_checksum(artifacts, tmp_path) -> None:
    path = _copy(artifacts[0], tmp_path)
    np.savez(path / "val.npz", weights=np.zeros(3))
    manifest = json.loads((path / "manifest.json").read_text())
    from dataaudit.io.artifacts import npz_record

    manifest["files"]["val.npz"] = npz_record(path / "val.npz")  # someone also rewrote the manifest
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="must hold arrays X, y and row"):
        load_artifacts(path)


def test_pickled_npz_refused(artifacts, tmp_path) -> None:
    path = _copy(artifacts[0], tmp_path)
    np.savez(path / "test.npz", X=np.array([{"a": 1}], dtype=object), y=np.zeros(1), row=np.zeros(1))
    manifest = json.loads((path / "manifest.json").read_text())
    from dataaudit.io.artifacts import sha256_file

    manifest["files"]["test.npz"]["sha256"] = sha256_file(path / "test.npz")
    (path / "manifest.json").write_text(json.dumps(manifest))
    from dataaudit.io.record import write_record

    write_record(path, "fit-transform")  # reseal the folder record: this case tests validation
    with pytest.raises(ArtifactError, match="declares object"):
        load_artifacts(path)


def test_not_an_artifact_folder(tmp_path) -> None:
    with pytest.raises(ArtifactError, match="no manifest.json"):
        load_artifacts(tmp_path)


def test_failed_write_leaves_previous_artifacts(artifacts, tmp_path, monkeypatch) -> None:
    path = _copy(artifacts[0], tmp_path)
    before = (path / "manifest.json").read_text()
    import dataaudit.io.artifacts as module

    def broken(_path):  # fail after the .npz files were written into the temporary folder
        raise OSError("disk full")

    monkeypatch.setattr(module, "npz_record", broken)
    with pytest.raises(OutputError, match="disk full.*previous contents are unchanged"):
        fit_transform(artifacts[0].parent / "d.csv", "y", path, config=TransformConfig(near_duplicates=False))
    assert (path / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (tmp_path / "x.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(InputError, match="Label column 'nope' not found"):
        fit_transform(tmp_path / "x.csv", "nope", path)


def test_stream_writer_matches_np_load(tmp_path) -> None:
    X = np.arange(12.0).reshape(6, 2)
    writer = NpzStreamWriter(tmp_path / "s.npz", {"X": (X.shape, X.dtype), "row": ((6,), np.dtype(np.int64))})
    writer.begin("X")
    writer.write(X[:4])
    writer.write(X[4:])
    writer.begin("row")
    writer.write(np.arange(6))
    writer.close()
    with np.load(tmp_path / "s.npz", allow_pickle=False) as data:
        np.testing.assert_array_equal(data["X"], X)
        np.testing.assert_array_equal(data["row"], np.arange(6))
