"""Output folders and files: ownership, inputs, atomic swap, recovery after a kill, clean errors."""

from __future__ import annotations

import errno
import os

import pytest

from dataaudit.exceptions import OutputError
from dataaudit.io.output_set import (
    check_file_target,
    discard_output_file,
    output_file,
    output_folder,
    output_policy,
    recover,
)
from dataaudit.io.record import RECORD_NAME, foreign_entries, read_record


def _write_set(target, files, command="inspect"):
    with output_folder(target, command) as folder:
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    return target


def test_new_folder_appears_whole_with_its_record(tmp_path) -> None:
    out = _write_set(tmp_path / "out", {"findings.json": "{}", "rows.csv": "row\n"})
    assert sorted(os.listdir(out)) == [RECORD_NAME, "findings.json", "rows.csv"]
    assert set(read_record(out)["files"]) == {"findings.json", "rows.csv"}
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_rewrite_replaces_the_whole_set_no_stale_file(tmp_path) -> None:
    out = _write_set(tmp_path / "out", {"findings.json": "1", "report.html": "old"})
    _write_set(out, {"findings.json": "2"})
    assert sorted(os.listdir(out)) == [RECORD_NAME, "findings.json"]
    assert (out / "findings.json").read_text() == "2"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_folder_with_user_files_is_refused_and_untouched(tmp_path) -> None:
    (tmp_path / "small.csv").write_text("a,label\n1,0\n")
    with pytest.raises(OutputError, match=r"small\.csv.*--force"):
        _write_set(tmp_path, {"manifest.json": "{}"})
    assert sorted(os.listdir(tmp_path)) == ["small.csv"]


def test_force_replaces_a_foreign_folder_but_never_an_input(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    with output_policy("inspect", force=True):
        _write_set(out, {"findings.json": "{}"})
    assert sorted(os.listdir(out)) == [RECORD_NAME, "findings.json"]
    (out / "rows.csv").write_text("data")
    with output_policy("inspect", inputs=[out / "rows.csv"], force=True), pytest.raises(OutputError, match="input"):
        _write_set(out, {"findings.json": "{}"})
    assert (out / "rows.csv").read_text() == "data"


def test_a_file_or_a_path_under_a_file_is_refused(tmp_path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        _write_set(tmp_path / "f.txt", {"a": "1"})
    with pytest.raises(OutputError, match="is a file, so it cannot hold"):
        _write_set(tmp_path / "f.txt" / "sub", {"a": "1"})
    assert (tmp_path / "f.txt").read_text() == "x"


def test_a_failing_write_leaves_the_previous_set_and_no_leftovers(tmp_path) -> None:
    out = _write_set(tmp_path / "out", {"findings.json": "old"})
    with pytest.raises(OutputError, match="No space left on device.*previous contents are unchanged"):
        with output_folder(out, "inspect") as folder:
            (folder / "findings.json").write_text("new")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "rows.csv"))
    assert (out / "findings.json").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_failing_swap_puts_the_old_set_back(tmp_path, monkeypatch) -> None:
    out = _write_set(tmp_path / "out", {"findings.json": "old"})
    real_rename = os.rename

    def rename(src, dst):
        if ".dataaudit-new-" in str(src):
            raise OSError(errno.EACCES, "Permission denied", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match="Permission denied"):
        _write_set(out, {"findings.json": "new"})
    monkeypatch.undo()
    assert (out / "findings.json").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_recover_restores_an_old_set_moved_aside_by_a_killed_run(tmp_path) -> None:
    out = _write_set(tmp_path / "out", {"findings.json": "old"})
    dead = 2**22 + 12345  # above the default pid_max: no such process
    os.rename(out, tmp_path / f".out.dataaudit-old-{dead}-abcd")
    (tmp_path / f".out.dataaudit-new-{dead}-abcd").mkdir()
    assert "restored" in recover(out)
    assert (out / "findings.json").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert recover(out) is None


def test_in_place_swap_when_the_target_holds_the_current_folder(tmp_path, monkeypatch) -> None:
    out = _write_set(tmp_path / "out", {"findings.json": "old", "report.html": "old"})
    inode = os.stat(out).st_ino
    monkeypatch.chdir(out)
    _write_set(out, {"findings.json": "new"})
    assert os.stat(out).st_ino == inode
    assert sorted(os.listdir(out)) == [RECORD_NAME, "findings.json"]
    assert (out / "findings.json").read_text() == "new"


@pytest.mark.parametrize("phase", ["moving-old", "moving-new"])
def test_in_place_recovery_gives_one_whole_set(tmp_path, phase) -> None:
    out = _write_set(tmp_path / "out", {"a.txt": "old", "b.txt": "old"})
    dead = 2**22 + 4321
    staging, old = out / f".dataaudit-new-{dead}-ab", out / f".dataaudit-old-{dead}-ab"
    staging.mkdir()
    (staging / "a.txt").write_text("new")
    (staging / RECORD_NAME).write_text(read_record(out) and (out / RECORD_NAME).read_text())
    old.mkdir()
    os.rename(out / RECORD_NAME, old / RECORD_NAME)
    os.rename(out / "a.txt", old / "a.txt")
    if phase == "moving-new":
        os.rename(out / "b.txt", old / "b.txt")
        os.rename(old, old.with_name(old.name + ".moved"))
    recover(out)
    names = sorted(n for n in os.listdir(out))
    if phase == "moving-old":
        assert names == [RECORD_NAME, "a.txt", "b.txt"] and (out / "a.txt").read_text() == "old"
    else:
        assert names == [RECORD_NAME, "a.txt"] and (out / "a.txt").read_text() == "new"


def test_single_file_output_is_recorded_and_guarded(tmp_path) -> None:
    (tmp_path / "new.csv").write_text("a\n1\n")
    target = tmp_path / "new.npz"
    with output_policy("transform", inputs=[tmp_path / "new.csv"]):
        with output_file(target) as tmp:
            tmp.write_bytes(b"one")
        with output_file(target) as tmp:  # dataaudit wrote it: may be replaced
            tmp.write_bytes(b"two")
        assert target.read_bytes() == b"two"
        with pytest.raises(OutputError, match="input"):
            check_file_target(tmp_path / "new.csv")
    assert foreign_entries(tmp_path) == ["new.csv"]
    (tmp_path / "user.npz").write_bytes(b"mine")
    with pytest.raises(OutputError, match="not written by dataaudit"):
        check_file_target(tmp_path / "user.npz")
    assert not discard_output_file(tmp_path / "user.npz")
    assert discard_output_file(target) and not target.exists()
    assert read_record(tmp_path)["files"] == {}
