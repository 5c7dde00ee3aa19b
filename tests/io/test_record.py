"""The record of what dataaudit wrote (.dataaudit.json) and the ownership rule built on it."""

from __future__ import annotations

import json
import os

import pytest

from dataaudit.exceptions import ArtifactError
from dataaudit.io.record import (
    RECORD_NAME,
    add_to_record,
    file_digest,
    foreign_entries,
    read_record,
    remove_from_record,
    verify_recorded,
    write_record,
)


def _tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_write_and_read_record_lists_every_file_with_its_sha256(tmp_path) -> None:
    _tree(tmp_path, {"findings.json": "{}", "rows.csv": "row\n0\n", "sub/x.txt": "x"})
    write_record(tmp_path, "inspect")
    record = read_record(tmp_path)
    assert record is not None and record["command"] == "inspect" and record["dataaudit_version"]
    assert set(record["files"]) == {"findings.json", "rows.csv", "sub/x.txt"}
    assert record["files"]["rows.csv"]["sha256"] == file_digest(tmp_path / "rows.csv")
    assert record["files"]["rows.csv"]["size"] == 6
    assert foreign_entries(tmp_path) == []


def test_subfolder_with_its_own_record_is_listed_by_digest(tmp_path) -> None:
    _tree(tmp_path, {"report.html": "<p>", "artifacts/manifest.json": "{}"})
    write_record(tmp_path / "artifacts", "fit-transform")
    write_record(tmp_path, "run")
    record = read_record(tmp_path)
    assert set(record["files"]) == {"report.html"}
    assert record["folders"]["artifacts"]["sha256"] == file_digest(tmp_path / "artifacts" / RECORD_NAME)
    assert foreign_entries(tmp_path) == []


def test_foreign_entries_names_unlisted_changed_and_linked_files(tmp_path) -> None:
    _tree(tmp_path, {"findings.json": "{}", "rows.csv": "row\n"})
    write_record(tmp_path, "inspect")
    assert foreign_entries(tmp_path) == []
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "rows.csv").write_text("row\n1\n")
    os.symlink(tmp_path / "notes.txt", tmp_path / "link")
    found = foreign_entries(tmp_path)
    assert "notes.txt" in found and "link (a link)" in found
    assert "rows.csv (changed since dataaudit wrote it)" in found


def test_same_size_edit_is_caught_by_the_digest(tmp_path) -> None:
    _tree(tmp_path, {"a.txt": "aaaa"})
    write_record(tmp_path, "inspect")
    (tmp_path / "a.txt").write_text("bbbb")
    os.utime(tmp_path / "a.txt", ns=(1, 1))
    assert foreign_entries(tmp_path) == ["a.txt (changed since dataaudit wrote it)"]


def test_folder_without_record_is_foreign_unless_empty(tmp_path) -> None:
    assert foreign_entries(tmp_path) == []
    (tmp_path / "empty").mkdir()
    assert foreign_entries(tmp_path) == []
    (tmp_path / "data.csv").write_text("a\n1\n")
    assert foreign_entries(tmp_path) == ["data.csv"]


def test_dataaudit_temporaries_are_not_foreign(tmp_path) -> None:
    write_record(tmp_path, "inspect")
    (tmp_path / ".dataaudit-tmp-findings.json.abc.tmp").write_text("partial")
    (tmp_path / ".dataaudit-new-1-ab").mkdir()
    assert foreign_entries(tmp_path) == []


def test_add_and_remove_single_files(tmp_path) -> None:
    _tree(tmp_path, {"data.csv": "a\n", "new.npz": "x"})
    add_to_record(tmp_path, ["new.npz"], "transform")
    assert set(read_record(tmp_path)["files"]) == {"new.npz"}
    assert foreign_entries(tmp_path) == ["data.csv"]
    remove_from_record(tmp_path, ["new.npz"])
    assert read_record(tmp_path)["files"] == {}


def test_verify_recorded_refuses_changed_or_unlisted_files(tmp_path) -> None:
    _tree(tmp_path, {"manifest.json": '{"a": 1}'})
    write_record(tmp_path, "fit-transform")
    assert verify_recorded(tmp_path, ["manifest.json"])["command"] == "fit-transform"
    with pytest.raises(ArtifactError, match="not listed"):
        verify_recorded(tmp_path, ["transform.npz"])
    (tmp_path / "manifest.json").write_text('{"a": 2}')
    with pytest.raises(ArtifactError, match="sha256 differs"):
        verify_recorded(tmp_path, ["manifest.json"])


def test_malformed_record_is_an_artifact_error(tmp_path) -> None:
    (tmp_path / RECORD_NAME).write_text("[1, 2]")
    with pytest.raises(ArtifactError, match="not a dataaudit record"):
        read_record(tmp_path)
    (tmp_path / RECORD_NAME).write_text(json.dumps({"files": {"a": {"size": 1}}}))
    with pytest.raises(ArtifactError):
        read_record(tmp_path)
    assert foreign_entries(tmp_path) == [RECORD_NAME]
