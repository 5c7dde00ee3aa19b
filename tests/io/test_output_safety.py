"""Your files are safe: folder ownership, inputs, clean one-line answers, faults and kills.

The cases use only the CLI, the library's writers and the file system (no output-set internals),
so the same file measures the code before the output-set work and after it.

* Folder safety: ``--out`` never deletes a user's file or an input; dataaudit's own folders are
  replaced; ``--force`` for the user who means it; ``--no-report`` leaves no stale report.
* Clean answers: ``--out`` an existing file, a path under a file, a full disk, no permission:
  exit 2 and one line, no traceback.
* Faults: ENOSPC / EACCES raised at every write point in turn (open for writing, os.replace,
  os.rename, os.mkdir, os.open(O_CREAT), pyarrow's CSV writer): the error is one DataAuditError,
  the previous set is whole, nothing is left beside the folder.
* Kills: a forked writer ``os._exit``s at every write point in turn, and forked writers are
  SIGKILLed at random times: the folder then holds the old complete set or the new one (or the old
  one lies complete beside it for a rerun to put back), and a rerun leaves the new set and no
  leftovers.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.exceptions import DataAuditError

runner = CliRunner()
FAST = ["--check", "duplicates", "--check", "missing_values"]  # inspect runs only these checks here
AUDIT_FILES = ("findings.json", "rows.csv", "expectations.json", "report.html")
ARTIFACT_FILES = ("manifest.json", "transform.npz", "train.npz", "val.npz", "test.npz", "quarantine.csv",
                  "expectations.json")


# ------------------------------------------------------------------------------------------ data
@pytest.fixture(autouse=True)
def cheap_report(monkeypatch) -> None:
    """A one-line report.html naming the input: these tests are about writing it, not drawing it."""
    import html

    import dataaudit.report.render as render

    def render_report(result: Any, **kwargs: Any) -> str:
        path = getattr(result, "input", {}).get("path")
        return f"<html><body>{html.escape(str(path))}</body></html>\n"

    monkeypatch.setattr(render, "render_report", render_report)


def _table(n: int, n_copies: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["u", "v", "w"], n)})
    frame["label"] = (frame["a"] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return pd.concat([frame, frame.iloc[:n_copies]], ignore_index=True)


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    """Two tables whose outputs tell which run wrote them (rows, name, sha256, quarantined rows)."""
    root = tmp_path_factory.mktemp("tables")
    paths = {"A": root / "tableA.csv", "B": root / "tableB.csv"}
    _table(90, 2, 0).to_csv(paths["A"], index=False)
    _table(130, 5, 1).to_csv(paths["B"], index=False)
    return paths


@pytest.fixture(scope="module")
def audits(tables) -> dict[str, Any]:
    from dataaudit.audit import run_checks
    from dataaudit.io.loading import load_dataset

    return {key: run_checks(load_dataset(path, label="label"), checks=["duplicates", "missing_values",
                                                                       "class_balance"])
            for key, path in tables.items()}


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _which_audit(folder: Path, tables: dict[str, Path]) -> str | None:
    """"A" or "B" when ``folder`` holds one inspect run's complete set, else None."""
    if not all((folder / name).is_file() for name in AUDIT_FILES):
        return None
    try:
        findings = json.loads((folder / "findings.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    key = next((k for k, p in tables.items() if findings.get("input", {}).get("sha256") == _sha(p)), None)
    if key is None:
        return None
    n_rows = len(pd.read_csv(tables[key]))
    name = tables[key].name
    consistent = (
        (folder / "rows.csv").read_text().count("\n") == n_rows + 1
        and name in (folder / "report.html").read_text(errors="replace")
        and tables[key].stem in (folder / "expectations.json").read_text()
    )
    return key if consistent else None


def _which_artifacts(folder: Path, tables: dict[str, Path]) -> str | None:
    """"A" or "B" when ``folder`` holds one fit-transform run's complete, consistent artifacts."""
    if not all((folder / name).is_file() for name in ARTIFACT_FILES):
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    key = next((k for k, p in tables.items() if manifest.get("input", {}).get("sha256") == _sha(p)), None)
    if key is None:
        return None
    files_ok = all(_sha(folder / name) == record["sha256"] for name, record in manifest["files"].items())
    n_quarantined = len(pd.read_csv(folder / "quarantine.csv"))
    return key if files_ok and n_quarantined == manifest["cleaning"]["n_quarantined"] and \
        tables[key].stem in (folder / "expectations.json").read_text() else None


def _tally(name: str, n_cases: int, failures: list[str]) -> None:
    """One line per test (shown with ``pytest -s``): cases run and cases that failed."""
    failed = len({f.split(":")[0] for f in failures})
    print(f"\nCASES {name}: {n_cases} run, {failed} failed")


def _listing(folder: Path) -> dict[str, int]:
    """Every path under ``folder`` with its mtime: to show nothing there was touched."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def _outside(parent: Path, out: Path) -> dict[str, int]:
    return {k: v for k, v in _listing(parent).items() if not (k == out.name or k.startswith(out.name + os.sep))}


def _one_line_exit_2(result: Any) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output


def _invoke(args: list[str], cwd: Path | None = None, monkeypatch: Any = None) -> Any:
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return runner.invoke(app, [str(a) for a in args])


# ------------------------------------------------------------------------------ folder safety
def test_fit_transform_into_the_project_folder_keeps_the_users_files(tables, tmp_path, monkeypatch) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "small.csv").write_bytes(tables["A"].read_bytes())
    (proj / "notes.txt").write_text("my notes")
    before = _listing(proj)
    result = _invoke(["fit-transform", "small.csv", "--label", "label", "--out", str(proj)], proj, monkeypatch)
    _one_line_exit_2(result)
    assert _listing(proj) == before
    assert sorted(os.listdir(tmp_path)) == ["proj"]


def test_inspect_into_a_folder_with_a_users_file_is_refused(tables, tmp_path) -> None:
    out = tmp_path / "out"
    assert _invoke(["inspect", tables["A"], *FAST, "--label", "label", "--out", out, "-q"]).exit_code == 0
    (out / "my_analysis.ipynb").write_text("{}")
    before = _listing(out)
    _one_line_exit_2(_invoke(["inspect", tables["B"], *FAST, "--label", "label", "--out", out, "-q"]))
    assert _listing(out) == before and _which_audit(out, tables) == "A"


def test_inspect_rows_csv_out_dot_keeps_the_input(tables, tmp_path, monkeypatch) -> None:
    (tmp_path / "rows.csv").write_bytes(tables["A"].read_bytes())
    before = _listing(tmp_path)
    _one_line_exit_2(_invoke(["inspect", "rows.csv", "--out", ".", "-q", *FAST], tmp_path, monkeypatch))
    assert _listing(tmp_path) == before
    _one_line_exit_2(_invoke(["inspect", "rows.csv", "--out", ".", "-q", "--force", *FAST], tmp_path, monkeypatch))
    assert _listing(tmp_path) == before


def test_rerun_replaces_dataaudits_own_folder_and_drops_a_stale_report(tables, tmp_path) -> None:
    out = tmp_path / "out"
    assert _invoke(["inspect", tables["A"], *FAST, "--label", "label", "--out", out, "-q"]).exit_code == 0
    assert _which_audit(out, tables) == "A"
    assert _invoke(["inspect", tables["B"], *FAST, "--label", "label", "--out", out, "-q", "--no-report"]).exit_code == 0
    assert not (out / "report.html").exists(), "a report describing another file survived --no-report"
    assert json.loads((out / "findings.json").read_text())["input"]["sha256"] == _sha(tables["B"])
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_force_replaces_a_folder_dataaudit_did_not_write(tables, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    _one_line_exit_2(_invoke(["inspect", tables["A"], *FAST, "--label", "label", "--out", out, "-q"]))
    assert (out / "old.txt").exists()
    assert _invoke(["inspect", tables["A"], *FAST, "--label", "label", "--out", out, "-q", "--force"]).exit_code == 0
    assert not (out / "old.txt").exists() and _which_audit(out, tables) == "A"


def test_every_command_records_what_it_wrote(tables, tmp_path) -> None:
    out, art = tmp_path / "out", tmp_path / "art"
    assert _invoke(["inspect", tables["A"], *FAST, "--label", "label", "--out", out, "-q"]).exit_code == 0
    assert _invoke(["fit-transform", tables["A"], "--label", "label", "--out", art,
                    "--no-near-duplicates"]).exit_code == 0
    assert _invoke(["train", art, "--epochs", "1", "--hidden", "8", "--no-checks", "-q"]).exit_code == 0
    assert _invoke(["transform", tables["A"], "--artifacts", art, "--out", tmp_path / "new.npz"]).exit_code == 0
    for folder, names in ((out, AUDIT_FILES), (art, ARTIFACT_FILES), (art / "training", ("model.npz", "history.json")),
                          (tmp_path, ("new.npz",))):
        record = json.loads((folder / ".dataaudit.json").read_text())
        assert record["command"] and record["dataaudit_version"] and record["created"]
        for name in names:
            assert record["files"][name]["sha256"] == _sha(folder / name), (folder, name)
    # The artifacts may be written again although train added its folder inside them.
    assert _invoke(["fit-transform", tables["B"], "--label", "label", "--out", art,
                    "--no-near-duplicates"]).exit_code == 0
    assert _which_artifacts(art, tables) == "B"


def test_transform_never_overwrites_an_input_or_a_users_file(tables, tmp_path) -> None:
    art = tmp_path / "art"
    assert _invoke(["fit-transform", tables["A"], "--label", "label", "--out", art,
                    "--no-near-duplicates"]).exit_code == 0
    new = tmp_path / "new.csv"
    new.write_bytes(tables["A"].read_bytes())
    (tmp_path / "user.npz").write_bytes(b"my array")
    before = _listing(tmp_path)
    for target in (new, art / "manifest.json", tmp_path / "user.npz"):
        _one_line_exit_2(_invoke(["transform", new, "--artifacts", art, "--out", target]))
    assert _listing(tmp_path) == before
    _one_line_exit_2(_invoke(["train", art, "--out", art, "--epochs", "1", "-q"]))
    assert _listing(tmp_path) == before


def test_transform_leaves_no_stale_quarantine(tables, tmp_path) -> None:
    art = tmp_path / "art"
    assert _invoke(["fit-transform", tables["A"], "--label", "label", "--out", art,
                    "--no-near-duplicates"]).exit_code == 0
    bad = pd.read_csv(tables["A"])
    bad.loc[0, "a"] = 1e9
    bad.to_csv(tmp_path / "bad.csv", index=False)
    out = tmp_path / "new.npz"
    assert _invoke(["transform", tmp_path / "bad.csv", "--artifacts", art, "--out", out,
                    "--on-invalid", "quarantine"]).exit_code == 0
    assert (tmp_path / "new.quarantine.csv").exists()
    assert _invoke(["transform", tables["A"], "--artifacts", art, "--out", out]).exit_code == 0
    assert not (tmp_path / "new.quarantine.csv").exists(), "a quarantine of another run survived"


# ------------------------------------------------------------------------------ clean answers
def test_out_an_existing_file_or_a_path_under_a_file_is_one_line(tables, tmp_path) -> None:
    file = tmp_path / "file.txt"
    file.write_text("x")
    art = tmp_path / "art"
    assert _invoke(["fit-transform", tables["A"], "--label", "label", "--out", art,
                    "--no-near-duplicates"]).exit_code == 0
    cases = [
        ["inspect", tables["A"], "--out", file, "-q"],
        ["inspect", tables["A"], "--out", file / "sub", "-q"],
        ["fit-transform", tables["A"], "--label", "label", "--out", file],
        ["fit-transform", tables["A"], "--label", "label", "--out", file / "sub"],
        ["transform", tables["A"], "--artifacts", art, "--out", file / "x.npz"],
        ["transform", tables["A"], "--artifacts", art, "--out", tmp_path],  # a folder where a file goes
    ]
    for args in cases:
        _one_line_exit_2(_invoke(args))
    assert file.read_text() == "x"


def _raise_on(monkeypatch: Any, code: int, match: Callable[[str], bool]) -> None:
    """Make writes whose path matches raise OSError(code), as a full disk or a denied folder would."""
    real_open, real_replace = builtins.open, os.replace

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+") and match(str(file)):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, mode, *args, **kwargs)

    def fake_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        if match(str(dst)):
            raise OSError(code, os.strerror(code), str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "replace", fake_replace)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_full_disk_or_no_permission_is_one_line(tables, tmp_path, monkeypatch, code) -> None:
    art = tmp_path / "art"
    assert _invoke(["fit-transform", tables["A"], "--label", "label", "--out", art,
                    "--no-near-duplicates"]).exit_code == 0
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "data.csv").write_bytes(tables["A"].read_bytes())
    before_art = _listing(art)
    _raise_on(monkeypatch, code, lambda p: str(tmp_path) in p)
    _one_line_exit_2(_invoke(["transform", dest / "data.csv", "--artifacts", art, "--out", dest / "new.npz"]))
    _one_line_exit_2(_invoke(["fit-transform", "data.csv", "--label", "label", "--out", "."], dest, monkeypatch))
    _one_line_exit_2(_invoke(["fit-transform", tables["A"], "--label", "label", "--out", art,
                              "--no-near-duplicates"]))
    _one_line_exit_2(_invoke(["inspect", tables["A"], *FAST, "--out", dest / "rep", "-q"]))
    monkeypatch.undo()
    assert _listing(art) == before_art and _which_artifacts(art, tables) == "A"
    assert sorted(os.listdir(dest)) == ["data.csv"]


# ---------------------------------------------------------------------------- fault injection
class WritePoints:
    """Counts the write calls of a block and fails the ``fail_at``-th one (1-based) with ``action``."""

    def __init__(self, fail_at: int | None = None, action: Callable[[str], None] | None = None) -> None:
        self.count, self.fail_at, self.action = 0, fail_at, action

    def hit(self, path: Any) -> None:
        self.count += 1
        if self.count == self.fail_at and self.action is not None:
            self.action(str(path))

    def install(self, monkeypatch: Any) -> None:
        real = {"open": builtins.open, "replace": os.replace, "rename": os.rename, "mkdir": os.mkdir,
                "os_open": os.open, "write_csv": pacsv.write_csv}

        def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if isinstance(mode, str) and any(c in mode for c in "wax+"):
                self.hit(file)
            return real["open"](file, mode, *args, **kwargs)

        def wrap(name: str, path_arg: int = 0) -> Callable[..., Any]:
            def fake(*args: Any, **kwargs: Any) -> Any:
                self.hit(args[path_arg] if len(args) > path_arg else "?")
                return real[name](*args, **kwargs)
            return fake

        def fake_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> Any:
            if flags & os.O_CREAT:
                self.hit(path)
            return real["os_open"](path, flags, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake_open)
        monkeypatch.setattr(os, "replace", wrap("replace", 1))
        monkeypatch.setattr(os, "rename", wrap("rename", 1))
        monkeypatch.setattr(os, "mkdir", wrap("mkdir"))
        monkeypatch.setattr(os, "open", fake_os_open)
        monkeypatch.setattr(pacsv, "write_csv", wrap("write_csv", 1))


def _write_audit(audits: dict[str, Any], key: str, out: Path) -> None:
    from dataaudit.audit_outputs import write_audit_outputs

    write_audit_outputs(audits[key], out)


def _write_artifacts(tables: dict[str, Path], key: str, out: Path) -> None:
    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    fit_transform(tables[key], "label", out, config=TransformConfig(near_duplicates=False))


def _writers(tables: dict[str, Path], audits: dict[str, Any]) -> dict[str, tuple[Callable[..., None], Callable[..., Any]]]:
    return {
        "inspect": (lambda key, out: _write_audit(audits, key, out), _which_audit),
        "fit-transform": (lambda key, out: _write_artifacts(tables, key, out), _which_artifacts),
    }


def _previous_set(writer: Callable[..., None], template: Path, out: Path) -> None:
    """``out`` as a finished earlier run (table A) left it: written once, then copied."""
    import shutil

    if not template.exists():
        writer("A", template)
    shutil.copytree(template, out, symlinks=True)


def _count_points(writer: Callable[..., None], out: Path, monkeypatch: Any) -> int:
    with monkeypatch.context() as patch:
        points = WritePoints()
        points.install(patch)
        writer("B", out)
    return points.count


def _recoverable_beside(out: Path, which: Callable[..., Any], tables: dict[str, Path]) -> str | None:
    """The run whose complete set lies beside a missing ``out`` (moved aside for a swap), if any."""
    for entry in out.parent.iterdir():
        if entry.is_dir() and entry.name.startswith(f".{out.name}.") and "old" in entry.name:
            found = which(entry, tables)
            if found:
                return found
    return None


@pytest.mark.parametrize("kind", ["inspect", "fit-transform"])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_failing_write_at_every_point_keeps_the_previous_set(tables, audits, tmp_path, monkeypatch, kind,
                                                                 code) -> None:
    writer, which = _writers(tables, audits)[kind]
    n_points = _count_points(writer, tmp_path / "probe" / "out", monkeypatch)
    assert n_points >= 4
    failures: list[str] = []
    # A full disk at every write point; a denied write at every third one (the same code paths).
    for point in range(1, n_points + 1, 1 if code == errno.ENOSPC else 3):
        parent = tmp_path / f"p{point}"
        parent.mkdir()
        (parent / "mine.txt").write_text("keep")
        out = parent / "out"
        _previous_set(writer, tmp_path / "template" / "out", out)
        before = _outside(parent, out)

        def fail(path: str, code: int = code) -> None:
            raise OSError(code, os.strerror(code), path)

        with monkeypatch.context() as patch:
            WritePoints(point, fail).install(patch)
            try:
                writer("B", out)
                outcome = "ok"
            except DataAuditError:
                outcome = "error"
            except OSError as exc:
                outcome = f"raw {type(exc).__name__}"
        state = which(out, tables)
        if outcome.startswith("raw"):
            failures.append(f"point {point}: {outcome} instead of a one-line error")
        if state is None or (outcome == "error" and state != "A"):
            failures.append(f"point {point}: folder holds {state or 'a mixed or broken set'} after {outcome}")
        if _outside(parent, out) != before:
            failures.append(f"point {point}: files beside the folder changed: "
                            f"{sorted(set(_outside(parent, out)) ^ set(before))}")
    _tally(f"fault {kind} {errno.errorcode[code]}", len(range(1, n_points + 1, 1 if code == errno.ENOSPC else 3)),
           failures)
    assert not failures, "\n".join(failures)


def _run_forked(action: Callable[[], None], kill_after: float | None = None, timeout: float = 120) -> int:
    """Run ``action`` in a forked child; SIGKILL it after ``kill_after`` seconds. Returns its wait status."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 0
        try:
            action()
        except BaseException:  # noqa: BLE001 - the child reports by exit code only
            code = 3
        os._exit(code)
    start = time.monotonic()
    killed = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        elapsed = time.monotonic() - start
        if kill_after is not None and not killed and elapsed >= kill_after:
            os.kill(pid, signal.SIGKILL)
            killed = True
        if elapsed > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("forked writer hung")
        time.sleep(0.002)


def _check_after_kill(out: Path, which: Callable[..., Any], tables: dict[str, Path], label: str,
                      failures: list[str]) -> None:
    state = which(out, tables) if out.exists() else _recoverable_beside(out, which, tables)
    if state is None:
        failures.append(f"{label}: neither the old nor the new set is whole (nor the old one beside it)")


def _rerun_recovers(writer: Callable[..., None], out: Path, which: Callable[..., Any], tables: dict[str, Path],
                    before: dict[str, int], label: str, failures: list[str]) -> None:
    try:
        writer("B", out)
    except (DataAuditError, OSError) as exc:
        failures.append(f"{label}: the rerun failed: {exc}")
        return
    if which(out, tables) != "B":
        failures.append(f"{label}: the rerun did not leave the new set")
    if _outside(out.parent, out) != before:
        failures.append(f"{label}: leftovers beside the folder after the rerun: "
                        f"{sorted(set(_outside(out.parent, out)) ^ set(before))}")


@pytest.mark.parametrize("kind", ["inspect", "fit-transform"])
def test_killed_at_every_write_point_the_folder_is_whole_and_a_rerun_recovers(tables, audits, tmp_path,
                                                                               monkeypatch, kind) -> None:
    writer, which = _writers(tables, audits)[kind]
    n_points = _count_points(writer, tmp_path / "probe" / "out", monkeypatch)
    failures: list[str] = []
    for point in range(1, n_points + 1):
        parent = tmp_path / f"k{point}"
        parent.mkdir()
        (parent / "mine.txt").write_text("keep")
        out = parent / "out"
        _previous_set(writer, tmp_path / "template" / "out", out)
        before = _outside(parent, out)

        def die(path: str) -> None:
            os._exit(137)

        def action(out: Path = out, point: int = point, die: Callable[[str], None] = die) -> None:
            with pytest.MonkeyPatch.context() as patch:
                WritePoints(point, die).install(patch)
                writer("B", out)

        _run_forked(action)
        _check_after_kill(out, which, tables, f"point {point}", failures)
        _rerun_recovers(writer, out, which, tables, before, f"point {point}", failures)
    _tally(f"kill-at-point {kind}", n_points, failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", ["inspect", "fit-transform"])
def test_sigkill_at_random_times_the_folder_is_whole_and_a_rerun_recovers(tables, audits, tmp_path, kind) -> None:
    writer, which = _writers(tables, audits)[kind]
    started = time.monotonic()
    writer("B", tmp_path / "probe" / "out")
    duration = time.monotonic() - started
    rng = random.Random(8)
    failures: list[str] = []
    for attempt in range(8):
        parent = tmp_path / f"r{attempt}"
        parent.mkdir()
        (parent / "mine.txt").write_text("keep")
        out = parent / "out"
        _previous_set(writer, tmp_path / "template" / "out", out)
        before = _outside(parent, out)
        delay = rng.uniform(0.0, duration * 1.2)
        _run_forked(lambda out=out: writer("B", out), kill_after=delay)
        label = f"kill after {delay:.3f} s"
        _check_after_kill(out, which, tables, label, failures)
        _rerun_recovers(writer, out, which, tables, before, label, failures)
    _tally(f"sigkill {kind}", 8, failures)
    assert not failures, "\n".join(failures)


def _whole_inside(out: Path, which: Callable[..., Any], tables: dict[str, Path]) -> str | None:
    """For a swap inside ``out``: the run whose complete set lies in one of its dataaudit folders."""
    for entry in out.iterdir() if out.is_dir() else ():
        if entry.is_dir() and (".dataaudit-old-" in entry.name or ".dataaudit-new-" in entry.name):
            found = which(entry, tables)
            if found:
                return found
    return None


def test_killed_inside_the_current_folder_a_rerun_recovers_it(tables, audits, tmp_path, monkeypatch) -> None:
    """``--out .``: the swap happens inside the folder (the shell keeps it); kills at every point."""
    writer, which = _writers(tables, audits)["inspect"]
    n_points = _count_points(writer, tmp_path / "probe" / "out", monkeypatch)
    failures: list[str] = []
    for point in range(1, n_points + 1):
        parent = tmp_path / f"c{point}"
        parent.mkdir()
        out = parent / "out"
        _previous_set(writer, tmp_path / "template" / "out", out)
        inode = out.stat().st_ino

        def action(out: Path = out, point: int = point) -> None:
            os.chdir(out)
            with pytest.MonkeyPatch.context() as patch:
                WritePoints(point, lambda path: os._exit(137)).install(patch)
                writer("B", out)

        _run_forked(action)
        if which(out, tables) is None and _whole_inside(out, which, tables) is None:
            failures.append(f"point {point}: no whole set in the folder, nor one recoverable inside it")
        monkeypatch.chdir(out)
        _rerun_recovers(writer, out, which, tables, {}, f"point {point}", failures)
        monkeypatch.chdir(tmp_path)
        leftovers = [n for n in os.listdir(out) if "dataaudit-" in n]
        if out.stat().st_ino != inode or leftovers:
            failures.append(f"point {point}: the folder was replaced or keeps {leftovers}")
    _tally("kill-at-point inspect --out .", n_points, failures)
    assert not failures, "\n".join(failures)



def test_run_writes_one_recorded_set_naming_its_files_by_their_final_paths(tables, tmp_path) -> None:
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(f'name = "t"\n[dataset]\npath = "{tables["A"]}"\nlabel = "label"\n'
                        '[inspect]\nonly = ["duplicates"]\n'
                        '[transform]\nnear_duplicates = false\n[train]\nhidden = [4]\nmax_epochs = 1\n'
                        f'[output]\ndir = "{tmp_path / "out"}"\n')
    result = _invoke(["run", pipeline, "-q"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    records = sorted(str(p.relative_to(out)) for p in out.rglob(".dataaudit.json"))
    assert records == [".dataaudit.json", "artifacts/.dataaudit.json", "training/.dataaudit.json"]
    stale = [str(p) for p in out.rglob("*") if p.is_file() and b"dataaudit-new-" in p.read_bytes()]
    assert stale == [], "files name the staging folder"
    assert sorted(os.listdir(tmp_path)) == ["out", "p.toml"]
    assert _invoke(["transform", tables["A"], "--artifacts", out / "artifacts", "--out",
                    tmp_path / "new.npz"]).exit_code == 0
