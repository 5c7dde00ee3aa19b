"""``--encoding`` on fit-transform and transform (inspect has had it): every read of the input uses
it, the read-back of quarantined rows too, and a wrong one is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.io.loading import load_dataset
from dataaudit.transforms.pipeline import fit_transform

CP1252_WORDS = ["café", "Zürich", "€uro", "naïve", "Ærø", "œuvre"]
CP1251_WORDS = ["Москва", "Київ", "Минск", "Тбилиси"]


def frame_with(words: list[str], n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x": rng.normal(size=n).round(4),
        "z": rng.normal(size=n).round(4),
        "city": [words[i % len(words)] for i in range(n)],
        "label": rng.choice(["yes", "no"], size=n),
    })
    # Exact copies: quarantined, so quarantine.csv reads rows back from the file.
    return pd.concat([frame, frame.iloc[:6]], ignore_index=True)


def write(tmp_path: Path, name: str, frame: pd.DataFrame, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


def invoke(args: list[str]) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)


def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def arrays(folder: Path) -> dict[str, np.ndarray]:
    return {f"{split}.{key}": value for split in ("train", "val", "test")
            for key, value in np.load(folder / f"{split}.npz", allow_pickle=False).items()}


def assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("chunked", [False, True])
def test_fit_transform_cp1252_detected_equals_declared_equals_utf8(tmp_path, chunked):
    frame = frame_with(CP1252_WORDS)
    utf8 = write(tmp_path, "utf8.csv", frame, "utf-8")
    cp1252 = write(tmp_path, "cp.csv", frame, "cp1252")
    extra = ["--chunksize", "50"] if chunked else []
    runs = {"utf8": (utf8, []), "detected": (cp1252, []), "declared": (cp1252, ["--encoding", "cp1252"])}
    for name, (path, options) in runs.items():
        invoke(["fit-transform", path, "--label", "label", "--out", tmp_path / name, *extra, *options])
    for name in ("detected", "declared"):
        assert_same_arrays(arrays(tmp_path / "utf8"), arrays(tmp_path / name))
        manifest = json.loads((tmp_path / name / "manifest.json").read_text(encoding="utf-8"))
        assert {f"city={w}" for w in CP1252_WORDS} <= set(manifest["feature_names"]), manifest["feature_names"]
        quarantine = pd.read_csv(tmp_path / name / "quarantine.csv", encoding="utf-8")
        assert len(quarantine) == 6 and set(quarantine["city"]) == set(CP1252_WORDS)


@pytest.mark.parametrize("chunked", [False, True])
def test_declared_encoding_reaches_the_quarantine_read_back(tmp_path, chunked):
    # cp1251 is not among the detected 8-bit encodings: only --encoding reads it right, and the
    # quarantined rows are read back from the file a second time.
    path = write(tmp_path, "ru.csv", frame_with(CP1251_WORDS), "cp1251")
    extra = ["--chunksize", "50"] if chunked else []
    invoke(["fit-transform", path, "--label", "label", "--out", tmp_path / "a", "--encoding", "cp1251", *extra])
    quarantine = pd.read_csv(tmp_path / "a" / "quarantine.csv", encoding="utf-8")
    assert set(quarantine["city"]) == set(CP1251_WORDS)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert "city=Москва" in manifest["feature_names"]


def test_a_dataset_read_with_an_encoding_keeps_it_in_fit_transform(tmp_path):
    # What `run` does: the loaded Dataset goes to fit_transform (here rebuilt for the label).
    path = write(tmp_path, "ru.csv", frame_with(CP1251_WORDS), "cp1251")
    dataset = load_dataset(path, encoding="cp1251")
    fit_transform(dataset, "label", tmp_path / "a")
    quarantine = pd.read_csv(tmp_path / "a" / "quarantine.csv", encoding="utf-8")
    assert set(quarantine["city"]) == set(CP1251_WORDS)


def test_transform_reads_cp1252_detected_and_declared(tmp_path):
    frame = frame_with(CP1252_WORDS)
    train = write(tmp_path, "train.csv", frame, "utf-8")
    invoke(["fit-transform", train, "--label", "label", "--out", tmp_path / "art"])
    new = frame.iloc[:40].copy()
    utf8 = write(tmp_path, "new8.csv", new, "utf-8")
    cp1252 = write(tmp_path, "new.csv", new, "cp1252")
    invoke(["transform", utf8, "--artifacts", tmp_path / "art", "--out", tmp_path / "u.npz"])
    invoke(["transform", cp1252, "--artifacts", tmp_path / "art", "--out", tmp_path / "d.npz"])
    invoke(["transform", cp1252, "--artifacts", tmp_path / "art", "--out", tmp_path / "e.npz",
            "--encoding", "cp1252"])
    reference = dict(np.load(tmp_path / "u.npz", allow_pickle=False))
    for name in ("d.npz", "e.npz"):
        assert_same_arrays(reference, dict(np.load(tmp_path / name, allow_pickle=False)))


def test_transform_quarantine_reads_back_with_the_declared_encoding(tmp_path):
    frame = frame_with(CP1251_WORDS)
    train = write(tmp_path, "train.csv", frame, "utf-8")
    invoke(["fit-transform", train, "--label", "label", "--out", tmp_path / "art"])
    new = frame.iloc[:20].copy()
    new["x"] = new["x"].astype(object)
    new.loc[3, "x"] = "twenty"  # not a number: quarantined, read back from the file as text
    path = write(tmp_path, "new.csv", new, "cp1251")
    invoke(["transform", path, "--artifacts", tmp_path / "art", "--out", tmp_path / "n.npz",
            "--on-invalid", "quarantine", "--encoding", "cp1251"])
    quarantine = pd.read_csv(tmp_path / "n.quarantine.csv", encoding="utf-8")
    assert quarantine["row"].tolist() == [3]
    assert quarantine.loc[0, "x"] == "twenty" and quarantine.loc[0, "city"] == new.loc[3, "city"]
    assert np.load(tmp_path / "n.npz")["row"].tolist() == [r for r in range(20) if r != 3]


def test_a_wrong_or_unknown_encoding_is_one_line_exit_2(tmp_path):
    frame = frame_with(CP1252_WORDS)
    path = write(tmp_path, "cp.csv", frame, "cp1252")
    invoke(["fit-transform", write(tmp_path, "t.csv", frame, "utf-8"), "--label", "label", "--out", tmp_path / "art"])
    commands = [
        ["fit-transform", path, "--label", "label", "--out", tmp_path / "a"],
        ["fit-transform", path, "--label", "label", "--out", tmp_path / "b", "--chunksize", "50"],
        ["transform", path, "--artifacts", tmp_path / "art", "--out", tmp_path / "n.npz"],
    ]
    for command in commands:
        line = one_line_error([*command, "--encoding", "utf-8"])
        assert "cp.csv" in line and "cannot decode as UTF-8" in line and "--encoding" in line, line
        line = one_line_error([*command, "--encoding", "nope-codec"])
        assert "cp.csv" in line and "unknown encoding 'nope-codec'" in line, line
    assert not any((tmp_path / name).exists() for name in ("a", "b", "n.npz", "n.quarantine.csv"))


def test_pipeline_dataset_encoding_reads_every_stage(tmp_path):
    path = write(tmp_path, "ru.csv", frame_with(CP1251_WORDS), "cp1251")
    (tmp_path / "p.toml").write_text(
        f'name = "ru"\n[dataset]\npath = "{path.name}"\nlabel = "label"\nencoding = "cp1251"\n'
        '[inspect]\nonly = ["duplicates", "class_balance"]\n[train]\nmax_epochs = 2\n', encoding="utf-8")
    invoke(["run", tmp_path / "p.toml", "--out", tmp_path / "out", "--quiet", "--no-progress"])
    quarantine = pd.read_csv(tmp_path / "out" / "artifacts" / "quarantine.csv", encoding="utf-8")
    assert set(quarantine["city"]) == set(CP1251_WORDS)


def test_library_inspect_takes_the_encoding_like_the_cli(tmp_path):
    # cp1251 is not among the detected encodings: without encoding= the file is refused.
    import dataaudit

    train = write(tmp_path, "ru.csv", frame_with(CP1251_WORDS), "cp1251")
    held_out = pd.concat([frame_with(CP1251_WORDS, n=40, seed=1), frame_with(CP1251_WORDS).iloc[10:13]])
    test = write(tmp_path, "ru_test.csv", held_out, "cp1251")  # three copies of train rows
    with pytest.raises(dataaudit.InputError, match="cannot decode"):
        dataaudit.inspect(train, label="label", checks=["missing_values"])
    result = dataaudit.inspect(train, label="label", test=test, encoding="cp1251",
                               checks=["missing_values", "train_test_overlap"])
    assert set(result.dataset.frame["city"]) == set(CP1251_WORDS)
    assert result.dataset.encoding == "cp1251"
    # The same as the CLI's --encoding: same findings on the same rows.
    invoke(["inspect", train, "--label", "label", "--test", test, "--encoding", "cp1251", "--no-report",
            "--check", "missing_values", "--check", "train_test_overlap", "--out", tmp_path / "cli"])
    cli = json.loads((tmp_path / "cli" / "findings.json").read_text(encoding="utf-8"))
    assert [(f["code"], f["rows"]) for f in cli["findings"]] == \
        [(f["code"], f["rows"]) for f in result.to_dict()["findings"]]
    assert cli["findings"], "the planted copies of train rows in test should be found"
    with pytest.raises(dataaudit.InputError):
        dataaudit.inspect(train, label="label", encoding="no-such-codec")
