"""Progress of long work: drawn on a terminal, absent everywhere else, never in the library's output."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.audit import inspect, run_checks
from dataaudit.checks import ordered_checks
from dataaudit.cli import app
from dataaudit.commands._progress import RichProgress, interactive_terminal, terminal_progress
from dataaudit.dataset import Dataset
from dataaudit.oos import out_of_sample_probabilities
from dataaudit.progress import NO_PROGRESS, Prefixed, Progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SPINNER = re.compile("[\u2800-\u28ff]")  # the display's spinner frames (Braille patterns)


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["colour"] = rng.choice(["red", "green", "blue"], n)
    frame["label"] = (X[:, 0] + X[:, 1] > 0).astype(int)
    return pd.concat([frame, frame.iloc[:5]], ignore_index=True)  # planted copies: duplicates has work


class Recorder(Progress):
    """Keeps every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def stage(self, name: str) -> None:
        self.calls.append(("stage", (name,)))

    def task(self, name: str, index: int, count: int) -> None:
        self.calls.append(("task", (name, index, count)))

    def step(self, what: str, done: int | None = None, total: int | None = None) -> None:
        self.calls.append(("step", (what, done, total)))


def test_run_checks_names_every_check_in_order_and_long_checks_report_steps():
    recorder = Recorder()
    result = run_checks(Dataset.from_frame(_frame(), label="label"), progress=recorder)
    tasks = [args for kind, args in recorder.calls if kind == "task"]
    names = [c.name for c in ordered_checks()]
    assert [t[0] for t in tasks] == names == [c.check for c in result.checks]
    assert [t[1] for t in tasks] == list(range(1, len(names) + 1)) and {t[2] for t in tasks} == {len(names)}
    steps_of: dict[str, list[tuple[object, ...]]] = {}
    current = None
    for kind, args in recorder.calls:
        if kind == "task":
            current = str(args[0])
        elif kind == "step" and current is not None:
            steps_of.setdefault(current, []).append(args)
    folds = [s for s in steps_of["label_issues"] if str(s[0]).startswith("fold ")]
    assert folds and str(folds[0][0]).startswith("fold 1 of ")
    done = [int(s[1]) for s in folds]  # type: ignore[call-overload]
    assert done == sorted(done) and all(int(s[1]) < int(s[2]) for s in folds)  # type: ignore[call-overload]
    assert steps_of["duplicates"] and steps_of["near_duplicates"]


def test_progress_only_observes():
    frame = _frame()
    quiet = run_checks(Dataset.from_frame(frame, label="label"), seed=3).to_dict()
    watched = run_checks(Dataset.from_frame(frame, label="label"), seed=3, progress=Recorder()).to_dict()
    # Everything but the timings (a check's seconds, and the seconds some checks keep in their stats).
    assert quiet["findings"] == watched["findings"]
    assert [(c["check"], c["status"]) for c in quiet["checks"]] == [(c["check"], c["status"]) for c in watched["checks"]]


def test_oos_reports_each_fit_with_a_growing_count():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 3))
    labels = (X[:, 0] > 0).astype(np.int64)
    seen: list[tuple[str, int | None, int | None]] = []
    out_of_sample_probabilities(X, labels, n_folds=3, seed=0, on_step=lambda *a: seen.append(a))
    assert seen[0][0].startswith("fold 1 of 3: ") and seen[-1][0].startswith("fold 3 of 3: ")
    assert [s[1] for s in seen] == list(range(len(seen)))
    assert seen[-1][2] == len(seen)  # the last fit knows it is the last


def test_prefixed_names_stages_and_passes_the_rest():
    recorder = Recorder()
    prefixed = Prefixed(recorder, "fit-transform")
    prefixed.stage("cleaning")
    prefixed.task("duplicates", 1, 2)
    prefixed.step("chunk", 3, None)
    assert recorder.calls == [("stage", ("fit-transform: cleaning",)), ("task", ("duplicates", 1, 2)),
                              ("step", ("chunk", 3, None))]


def test_rich_display_on_a_terminal_shows_each_check_and_is_erased():
    buffer = io.StringIO()
    from rich.console import Console

    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    with terminal_progress(console=console) as progress:
        assert isinstance(progress, RichProgress)
        progress.stage("checks")
        run_checks(Dataset.from_frame(_frame(), label="label"), progress=progress)
    shown = ANSI.sub("", buffer.getvalue())
    for check in ordered_checks():
        assert check.name in shown
    assert f"1/{len(ordered_checks())}" in shown
    assert "\x1b[2K" in buffer.getvalue()  # transient: the lines are erased at the end


def test_disabled_or_not_a_terminal_gives_the_silent_reporter():
    with terminal_progress(False) as progress:
        assert progress is NO_PROGRESS
    # pytest captures stdout: not an interactive terminal.
    assert not interactive_terminal()
    with terminal_progress(True) as progress:
        assert progress is NO_PROGRESS


def test_python_api_prints_nothing(tmp_path, capfd):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    capfd.readouterr()
    result = inspect(path, label="label")
    assert result.checks
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def _normalized(text: str) -> str:
    """The CLI output with timings (which differ run to run) blanked."""
    return re.sub(r"\d+\.\d+ s\b", "_ s", text)


def test_cli_output_off_a_terminal_is_unchanged(tmp_path):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    runner = CliRunner()
    plain = runner.invoke(app, ["inspect", str(path), "--label", "label", "--out", str(tmp_path / "a"), "--no-report"])
    flagged = runner.invoke(app, ["inspect", str(path), "--label", "label", "--out", str(tmp_path / "b"),
                                  "--no-report", "--no-progress"])
    assert plain.exit_code == flagged.exit_code == 0
    assert _normalized(plain.output.replace(str(tmp_path / "a"), "OUT")) == _normalized(
        flagged.output.replace(str(tmp_path / "b"), "OUT"))
    assert "\x1b" not in plain.output and "\r" not in plain.output and not SPINNER.search(plain.output)
    assert "near_duplicates" not in plain.output  # check names appear only in the display


def test_cli_through_pipes_writes_nothing_to_stderr(tmp_path):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    done = subprocess.run([sys.executable, "-m", "dataaudit", "inspect", str(path), "--label", "label",
                           "--out", str(tmp_path / "out"), "--no-report"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "\x1b" not in done.stdout and not SPINNER.search(done.stdout) and "fold 1 of" not in done.stdout
    assert "0 errors, " in done.stdout and "timings: " in done.stdout


def _run_in_pty(args: list[str], env: dict[str, str]) -> str:
    """Run ``args`` with stdout and stderr on a pseudo-terminal; everything the terminal received."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env,
                               close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=600)
    os.close(leader)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8", errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_cli_on_a_terminal_shows_checks_then_the_same_summary(tmp_path):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(TERM="xterm", COLUMNS="120")
    command = [sys.executable, "-m", "dataaudit", "inspect", str(path), "--label", "label", "--no-report"]
    shown = _run_in_pty([*command, "--out", str(tmp_path / "a")], env)
    text = ANSI.sub("", shown)
    for name in ("loading d.csv", "checks", "duplicates", "label_issues", "fold 1 of", "writing"):
        assert name in text, name
    # With the display off, the same terminal gets exactly the summary the display left behind.
    quiet = _run_in_pty([*command, "--out", str(tmp_path / "b"), "--no-progress"], env)
    summary = ANSI.sub("", quiet).replace(str(tmp_path / "b"), "OUT")
    final = text.replace(str(tmp_path / "a"), "OUT")
    lines = [line for line in _normalized(summary).splitlines() if line.strip()]
    assert lines and _normalized(final).rstrip().endswith(lines[-1])
    for line in lines:
        assert line.replace("\r", "") in _normalized(final).replace("\r", ""), line
    assert "fold 1 of" not in summary


def _stages(recorder: Recorder) -> list[str]:
    return [str(args[0]) for kind, args in recorder.calls if kind == "stage"]


def test_fit_transform_reports_its_stages_and_the_checks_it_runs(tmp_path, capfd):
    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    recorder = Recorder()
    capfd.readouterr()
    fit_transform(path, "label", tmp_path / "art", config=TransformConfig(suspects="drop"), progress=recorder)
    assert _stages(recorder) == ["loading", "cleaning", "split", "fit", "apply", "writing"]
    tasks = [args[0] for kind, args in recorder.calls if kind == "task"]
    assert {"near_duplicates", "label_issues"} <= set(tasks) and {"train", "val", "test"} <= set(tasks)
    # The same call without a reporter prints nothing.
    fit_transform(path, "label", tmp_path / "art2")
    assert capfd.readouterr() == ("", "")


def test_chunked_fit_transform_counts_chunks(tmp_path):
    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    path = tmp_path / "d.csv"
    _frame(n=995).to_csv(path, index=False)  # 1,000 rows: 10 chunks of 100
    recorder = Recorder()
    fit_transform(path, "label", tmp_path / "art", config=TransformConfig(chunksize=100), progress=recorder)
    assert _stages(recorder) == ["loading (pass 1 of 2)", "cleaning", "split", "fit (pass 2 of 2)",
                                 "apply and writing"]
    read = [args for kind, args in recorder.calls if kind == "step" and str(args[0]).startswith("chunks read")]
    assert [a[1] for a in read] == list(range(1, 11))
    encoded = [args for kind, args in recorder.calls if kind == "step" and str(args[0]).startswith("chunks encoded")]
    assert encoded[-1][1:] == (10, 10) and {a[2] for a in encoded} == {10}
    written = [args for kind, args in recorder.calls if kind == "step" and str(args[0]).startswith("rows transformed")]
    assert written and all(a[1] == a[2] for a in written)  # each split fits in one block here


def test_run_reports_the_stage_it_is_in(tmp_path):
    from dataaudit.config import load_pipeline
    from dataaudit.runner import run_pipeline

    _frame().to_csv(tmp_path / "d.csv", index=False)
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        f'name = "p"\n[dataset]\npath = "{(tmp_path / "d.csv").as_posix()}"\nlabel = "label"\n'
        '[train]\nhidden = [8]\nmax_epochs = 3\n'
        f'[output]\ndir = "{(tmp_path / "out").as_posix()}"\n'
    )
    recorder = Recorder()
    run_pipeline(load_pipeline(pipeline), progress=recorder)
    stages = _stages(recorder)
    assert stages[:3] == ["inspect: loading", "inspect: checks", "inspect: writing"]
    assert "fit-transform: fit" in stages and stages[-2:] == ["train", "report"]
