"""label_issues' model fitting in a background worker: the same findings as inline, fallbacks, the option."""

from __future__ import annotations

import os
import signal
import tempfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import dataaudit.background as background
import dataaudit.checks.label_issues as label_issues_module
from dataaudit.audit import inspect, run_checks
from dataaudit.background import (
    AUTO_MIN_ROWS,
    BackgroundWorker,
    Offload,
    check_workers,
    use_background,
)
from dataaudit.cli import app
from dataaudit.dataset import Dataset
from dataaudit.exceptions import ConfigError
from dataaudit.progress import Progress


def _frame(n: int = 600, seed: int = 0, regression: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    frame = pd.DataFrame(X, columns=list("abcde"))
    frame["colour"] = rng.choice(["red", "green", "blue"], n)
    if regression:
        y = 3 * X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(n)
        y[[5, 50, 500]] += 40.0  # three planted target typos
        frame["label"] = y
    else:
        label = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
        flipped = rng.choice(n, n // 20, replace=False)
        label[flipped] = (label[flipped] + 1) % 3
        frame["label"] = label
    frame["patient"] = np.arange(n) // 3
    return frame


def _without_timings(data: object) -> object:
    """findings.json's content without what measures time (``seconds``, ``seconds_per_model``)."""
    if isinstance(data, dict):
        return {k: _without_timings(v) for k, v in data.items() if k not in ("seconds", "seconds_per_model")}
    if isinstance(data, list):
        return [_without_timings(v) for v in data]
    return data


def _comparable(result) -> object:
    return _without_timings(result.to_dict())


class Submissions:
    """Counts what reaches BackgroundWorker.submit (the real one still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = BackgroundWorker.submit

        def submit(worker: BackgroundWorker, offload: Offload):
            self.count += 1
            return real(worker, offload)

        monkeypatch.setattr(BackgroundWorker, "submit", submit)


@pytest.mark.parametrize("regression", [False, True], ids=["classes", "regression"])
def test_background_findings_are_identical_to_inline(monkeypatch: pytest.MonkeyPatch, regression: bool) -> None:
    dataset_args = {"label": "label", "group": "patient", "task": "regression" if regression else None}
    frame = _frame(regression=regression)
    inline = run_checks(Dataset.from_frame(frame, **dataset_args), seed=3, workers=1)
    submissions = Submissions(monkeypatch)
    shipped = run_checks(Dataset.from_frame(frame, **dataset_args), seed=3, workers=2)
    assert submissions.count == 1
    assert _comparable(shipped) == _comparable(inline)
    # The check order of the results is the report order, whatever ran first.
    assert [c.check for c in shipped.checks] == [c.check for c in inline.checks]
    (finding,) = [f for f in shipped.findings if f.code == "label_issue"]
    assert finding.rows  # the planted defects were found, so the comparison compared something
    np.testing.assert_array_equal(shipped.check("label_issues").row_scores["label_issue"],
                                  inline.check("label_issues").row_scores["label_issue"])


def test_small_tables_and_one_cpu_run_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker() -> None:
        raise AssertionError("no background worker may start")

    monkeypatch.setattr(background, "BackgroundWorker", no_worker)
    result = run_checks(Dataset.from_frame(_frame(), label="label"), checks=["label_issues"])  # auto, 600 rows
    assert result.check("label_issues").status == "flagged"
    monkeypatch.setattr(background, "usable_cpus", lambda: 2)
    assert use_background(None, AUTO_MIN_ROWS) and not use_background(None, AUTO_MIN_ROWS - 1)
    monkeypatch.setattr(background, "usable_cpus", lambda: 1)
    assert not use_background(None, 10 * AUTO_MIN_ROWS)
    assert not use_background(1, 10 * AUTO_MIN_ROWS) and use_background(2, 10)


def test_a_worker_that_dies_does_not_lose_the_check(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    parent = os.getpid()
    real = label_issues_module.out_of_sample_probabilities

    def dies_in_the_worker(**kwargs):  # a closure: shipped by value, so the worker runs it too
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer does
        return real(**kwargs)

    frame = _frame()
    inline = run_checks(Dataset.from_frame(frame, label="label"), checks=["label_issues"], workers=1)
    monkeypatch.setattr(label_issues_module, "out_of_sample_probabilities", dies_in_the_worker)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    recovered = run_checks(Dataset.from_frame(frame, label="label"), checks=["label_issues"], workers=2)
    result = recovered.check("label_issues")
    assert result.status == "flagged"
    assert "background worker was lost" in result.stats["background"]
    assert result.findings[0].rows == inline.check("label_issues").findings[0].rows
    assert list(tmp_path.iterdir()) == []  # the arrays' temporary folder is gone
    # The next audit gets a fresh worker.
    monkeypatch.setattr(label_issues_module, "out_of_sample_probabilities", real)
    again = run_checks(Dataset.from_frame(frame, label="label"), checks=["label_issues"], workers=2)
    assert "background" not in again.check("label_issues").stats


def test_arrays_travel_memory_mapped_read_only_and_the_folder_is_removed(monkeypatch, tmp_path) -> None:
    def describe(X: np.ndarray, on_step=None) -> tuple[str, bool, float]:
        return type(X).__name__, bool(X.flags.writeable), float(X.sum())

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    worker = BackgroundWorker()
    X = np.arange(12.0).reshape(3, 4)
    pending = worker.submit(Offload(describe, {"X": X}))
    assert len(list(tmp_path.iterdir())) == 1  # one private folder, in the temp folder only
    assert pending.result(Progress()) == ("memmap", False, 66.0)
    worker.close()
    assert list(tmp_path.iterdir()) == []


class Notes(Progress):
    def __init__(self) -> None:
        self.background_notes: list[str | None] = []

    def background(self, what: str | None) -> None:
        self.background_notes.append(what)


def test_progress_says_the_label_models_fit_in_the_background() -> None:
    notes = Notes()
    run_checks(Dataset.from_frame(_frame(), label="label"), checks=["label_issues", "duplicates"], workers=2,
               progress=notes)
    assert notes.background_notes[0] == "label models fitting" and notes.background_notes[-1] is None


@pytest.mark.parametrize("bad", [0, -1, "two", "1.5", True])
def test_workers_must_be_auto_or_a_positive_integer(bad: object, tmp_path) -> None:
    with pytest.raises(ConfigError, match="workers must be 'auto' or an integer >= 1"):
        check_workers(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="workers"):
        inspect(tmp_path / "never-read.csv", label="label", workers=bad)  # type: ignore[arg-type]
    assert check_workers("auto") is None and check_workers(" 3 ") == 3 and check_workers(1) == 1


@pytest.mark.parametrize("bad", ["0", "many"])
def test_cli_workers_bad_value_is_one_line_exit_2(bad: str, tmp_path) -> None:
    path = tmp_path / "data.csv"
    _frame(60).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["inspect", str(path), "--label", "label", "--out", str(tmp_path / "out"),
                                      "--workers", bad])
    assert result.exit_code == 2
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "--workers must be 'auto' or an integer >= 1" in lines[0]
    assert not (tmp_path / "out").exists()


def test_cli_workers_1_and_2_write_the_same_findings(tmp_path) -> None:
    import json

    path = tmp_path / "data.csv"
    _frame().to_csv(path, index=False)
    written = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        result = CliRunner().invoke(app, ["inspect", str(path), "--label", "label", "--out", str(out),
                                          "--workers", workers, "--no-report", "-q"])
        assert result.exit_code == 0, result.output
        written.append(_without_timings(json.loads((out / "findings.json").read_text())))
    assert written[0] == written[1]


def test_pipeline_inspect_workers_key(tmp_path) -> None:
    from dataaudit.config import load_pipeline

    (tmp_path / "d.csv").write_text("x,y\n1,2\n")
    (tmp_path / "p.toml").write_text('[dataset]\npath = "d.csv"\nlabel = "y"\n[inspect]\nworkers = 1\n')
    assert load_pipeline(tmp_path / "p.toml").inspect_workers == 1
    (tmp_path / "a.toml").write_text('[dataset]\npath = "d.csv"\nlabel = "y"\n[inspect]\nworkers = "auto"\n')
    assert load_pipeline(tmp_path / "a.toml").inspect_workers is None
    (tmp_path / "q.toml").write_text('[dataset]\npath = "d.csv"\nlabel = "y"\n[inspect]\nworkers = 0\n')
    with pytest.raises(ConfigError, match=r"q\.toml: \[inspect\] workers must be 'auto' or an integer >= 1"):
        load_pipeline(tmp_path / "q.toml")


def test_terminal_display_has_a_line_for_the_background_work() -> None:
    import io

    from rich.console import Console

    from dataaudit.commands._progress import RichProgress

    buffer = io.StringIO()
    with RichProgress(Console(file=buffer, force_terminal=True, width=120, color_system=None)) as progress:
        progress.stage("checks")
        progress.background("label models fitting")
        progress.task("duplicates", 1, 2)
        progress.background(None)
    assert "label models fitting (background worker)" in buffer.getvalue()


def test_the_wait_for_the_worker_is_filled_once_and_a_failing_filler_changes_nothing(monkeypatch) -> None:
    frame = _frame()
    calls: list[str] = []
    monkeypatch.setattr(background.Pending, "busy", lambda self: True)  # the worker is still fitting
    filled = run_checks(Dataset.from_frame(frame, label="label"), seed=3, workers=2,
                        while_waiting=lambda: calls.append("filled"))
    assert calls == ["filled"]

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("a warm-up that fails")

    failed = run_checks(Dataset.from_frame(frame, label="label"), seed=3, workers=2, while_waiting=broken)
    assert calls == ["filled", "broken"] and _comparable(failed) == _comparable(filled)
    # Without a worker there is no wait to fill.
    run_checks(Dataset.from_frame(frame, label="label"), seed=3, workers=1, while_waiting=lambda: calls.append("x"))
    assert calls == ["filled", "broken"]


def test_prepare_outputs_compiles_every_report_template() -> None:
    from dataaudit.audit_outputs import prepare_outputs
    from dataaudit.report.section import environment

    environment.cache_clear()
    prepare_outputs()
    env = environment()
    assert env.cache is not None
    cached = {name for (_, name) in env.cache}
    assert cached == set(env.list_templates()) and "page.html.j2" in cached


def test_a_refused_output_folder_stops_the_prestarted_worker(tmp_path, monkeypatch) -> None:
    # The worker is started before the output folder is checked; a refusal stops it at once.
    path = tmp_path / "data.csv"
    _frame().to_csv(path, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's")
    started, released = [], []
    monkeypatch.setattr(background, "prestart", lambda *a: started.append(a) or True)
    real_release = background.release
    monkeypatch.setattr(background, "release", lambda: released.append(1) or real_release())
    result = CliRunner().invoke(app, ["inspect", str(path), "--label", "label", "--out", str(out), "--workers", "2"])
    assert result.exit_code == 2 and "mine.txt" in result.output
    assert started and released
    assert (out / "mine.txt").read_text() == "the user's" and sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def _children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table from /proc")
def test_ctrl_c_stops_the_worker_and_leaves_nothing_behind(tmp_path) -> None:
    import subprocess
    import sys
    import time

    path = tmp_path / "data.csv"
    _frame(n=20_000).to_csv(path, index=False)  # over 512 KiB: the worker starts before loading
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dataaudit", "inspect", str(path), "--label", "label",
                             "--out", str(out), "--workers", "2", "-q"],
                            env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            # A child inherits an ignored SIGINT (a test run started in the background
                            # has one), and Python then never raises KeyboardInterrupt: restore it.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        workers = {c for c in _children(proc.pid)}
        if workers and any(p.name.startswith("dataaudit-") for p in scratch.iterdir()):  # arrays handed over
            break
        time.sleep(0.05)
    assert proc.poll() is None and workers, "the run ended before the worker got its work"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    time.sleep(0.5)
    assert not [w for w in workers if os.path.exists(f"/proc/{w}") and _state(w) != "Z"]
    assert list(scratch.iterdir()) == [] and not out.exists()


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
