"""The command line's progress display: which stage, check and sub-step runs, drawn on stderr.

Shown only on an interactive terminal: both stdout and stderr are terminals, ``TERM`` is not
``dumb`` and ``CI`` is not set. Anywhere else (pipes, files, CI logs, ``CliRunner``) and with
``--no-progress`` or ``--quiet`` the library's silent ``NO_PROGRESS`` is used, so the output is
byte for byte what it is without a display. The display is transient: it is erased when the work
ends, before the command prints its summary, so the summary lines are the same with or without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dataaudit.progress import NO_PROGRESS, Progress

__all__ = ["RichProgress", "terminal_progress", "display_paused", "interactive_terminal", "NO_PROGRESS_HELP"]

NO_PROGRESS_HELP = "Do not show progress on the terminal (it is never shown when output is not a terminal)."


def interactive_terminal() -> bool:
    """True when stdout and stderr are both terminals and nothing says the session is not interactive."""
    if os.environ.get("TERM") == "dumb" or os.environ.get("CI"):
        return False
    try:
        return all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class RichProgress(Progress):
    """Transient lines on a rich console: the stage with its task count, the task's sub-step, and
    (while there is some) the work running in a background worker.

    ``stage`` and ``task`` redraw at once (each check's name is drawn even when it runs in a
    millisecond); ``step`` only updates the state, drawn by rich's refresh thread a few times a
    second, so a loop may report every iteration.
    """

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bars

        self.bars = Bars(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            console=console, transient=True, refresh_per_second=8,
        )
        self._stage = self.bars.add_task("starting", total=None, count="", current="")
        self._step = self.bars.add_task("", total=None, visible=False, count="", current="")
        self._step_shown = False
        # Work running in a background worker meanwhile (the label models): its own line and clock.
        self._background = self.bars.add_task("", total=None, visible=False, count="", current="")

    def __enter__(self) -> RichProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def stage(self, name: str) -> None:
        from rich.markup import escape

        self._hide_step()  # before the reset, which draws: no frame shows the old step under the new stage
        self.bars.reset(self._stage, description=escape(name), count="", current="")
        self._total(self._stage, None)
        self.bars.refresh()

    def task(self, name: str, index: int, count: int) -> None:
        from rich.markup import escape

        self._hide_step()
        self.bars.update(self._stage, total=count, completed=index - 1, count=f"{index}/{count}",
                         current=escape(name))
        self.bars.refresh()

    def step(self, what: str, done: int | None = None, total: int | None = None) -> None:
        from rich.markup import escape

        if done is not None and total is not None:
            counted = f"{done:,}/{total:,}"
        else:
            counted = "" if done is None else f"{done:,}"
        description = f"  {escape(what)}"
        if not self._step_shown:  # the first step of a task: its clock starts now (reset draws)
            self._total(self._step, total)
            self.bars.reset(self._step, visible=True, description=description, completed=done or 0,
                            count=counted, current="")
            self._step_shown = True
            return
        self._total(self._step, total)
        self.bars.update(self._step, description=description, completed=done or 0, count=counted)

    def background(self, what: str | None) -> None:
        from rich.markup import escape

        if what is None:
            self.bars.update(self._background, visible=False)
        else:
            self.bars.reset(self._background, visible=True, description=f"  {escape(what)} (background worker)",
                            count="", current="")
        self.bars.refresh()

    def _hide_step(self) -> None:
        self.bars.update(self._step, visible=False)
        self._step_shown = False

    def _total(self, task_id: Any, total: int | None) -> None:
        """Set a line's total, None included (a pulsing bar: rich's ``update`` keeps the old total then)."""
        for task in self.bars.tasks:
            if task.id == task_id:
                task.total = total
                task.finished_time = None


@contextmanager
def terminal_progress(enabled: bool = True, *, console: Any = None) -> Iterator[Progress]:
    """A ``RichProgress`` on stderr while the block runs, on an interactive terminal; else ``NO_PROGRESS``.

    ``enabled=False`` (``--no-progress``, ``--quiet``) always gives ``NO_PROGRESS``. ``console``
    (a rich Console) replaces the terminal check and stderr, for tests.
    """
    if not enabled or (console is None and not interactive_terminal()):
        yield NO_PROGRESS
        return
    if console is None:
        from rich.console import Console

        console = Console(stderr=True, highlight=False)
    with RichProgress(console) as progress:
        yield progress


@contextmanager
def display_paused(progress: Progress) -> Iterator[None]:
    """Erase the display while the block prints to stdout, then draw it again (nothing else for other reporters).

    A rich console writing to the real stdout would scramble the lines the display redraws on the
    same terminal; the display stops (erasing itself), the line is printed where it belongs, and
    the display starts again below it.
    """
    if not isinstance(progress, RichProgress):
        yield
        return
    progress.bars.stop()
    try:
        yield
    finally:
        progress.bars.start()
