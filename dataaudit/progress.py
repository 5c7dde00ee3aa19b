"""Progress of long work: what the library reports, and the silent reporter it reports to by default.

The library never prints. Long work reports to a ``Progress`` handed down to it: ``inspect`` and
``run_checks`` name each check as it starts, ``fit_transform`` each stage (loading, cleaning,
split, fit, apply, writing) and, with ``chunksize``, the chunks done; long checks report their
sub-steps (cross-validation folds, near-copy search) through ``AuditContext.progress``. The base
class ignores everything, so the Python API is silent unless a caller passes a reporter that
shows something; the command line passes one that draws on a terminal
(``dataaudit.commands._progress``). A reporter only observes: what it is told never changes a result.
"""

from __future__ import annotations

__all__ = ["Progress", "NO_PROGRESS", "Prefixed"]


class Progress:
    """Receives what long work is doing. This base class ignores it all (the library's default).

    Three levels, each call replacing what the previous call of its level said:

    - ``stage(name)``: a stage of a command begins (``loading``, ``checks``, ``fit`` ...);
    - ``task(name, index, count)``: the ``index``-th (1-based) of ``count`` tasks of the stage
      begins (one per check);
    - ``step(what, done, total)``: the running task is at sub-step ``what``, ``done`` of ``total``
      units when countable (``fold 2 of 5``, chunks read).

    Besides these, ``background(what)`` says what runs in a background worker meanwhile
    (``label models fitting``), until ``background(None)``.

    Subclasses override what they show; calls must be cheap, as long loops make them.
    """

    def stage(self, name: str) -> None:
        """A stage of the work begins; it clears the task and step of the previous one."""

    def task(self, name: str, index: int, count: int) -> None:
        """Task ``name``, the ``index``-th (1-based) of ``count`` in the stage, begins."""

    def step(self, what: str, done: int | None = None, total: int | None = None) -> None:
        """The running task is at ``what``; ``done`` of ``total`` units (either may be None)."""

    def background(self, what: str | None) -> None:
        """``what`` runs in a background worker from now on (None: nothing does any more)."""


NO_PROGRESS = Progress()


class Prefixed(Progress):
    """Passes everything on to ``inner``, naming each stage ``"<prefix>: <stage>"``.

    A command that runs another command's stages (``run`` runs fit-transform's) shows which
    command a stage belongs to.
    """

    def __init__(self, inner: Progress, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix

    def stage(self, name: str) -> None:
        self.inner.stage(f"{self.prefix}: {name}")

    def task(self, name: str, index: int, count: int) -> None:
        self.inner.task(name, index, count)

    def step(self, what: str, done: int | None = None, total: int | None = None) -> None:
        self.inner.step(what, done, total)

    def background(self, what: str | None) -> None:
        self.inner.background(what)
