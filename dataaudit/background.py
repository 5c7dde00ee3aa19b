"""Run the heavy, array-only part of a check in a background worker process while the other checks run.

A check whose cost is dominated by one pure computation on arrays (``label_issues``: the
out-of-fold model fits and confident learning) describes that computation as an ``Offload``: a
module-level function, the arrays it reads and its other options. ``run_checks`` starts one
worker process (joblib's loky reusable executor) with a warm-up task that imports scikit-learn
while the main process builds the inputs (``prestart`` starts it even before the table is loaded), submits the offload, runs the other
checks, and the check then collects the result. The arrays travel as ``.npy`` files in a private
temporary folder that dataaudit creates and removes (never the user's folders); the worker opens
them with ``mmap_mode="r"`` and ``allow_pickle=False``, so nothing is unpickled from disk and the
matrix is not copied through a pipe. The function is the same either way, with the same seed, so
the findings are identical to running it inline.

Policy (``workers``): ``1`` runs everything inline in the calling process; ``None`` / ``"auto"``
(the default) uses the worker when at least two CPUs are usable (``os.sched_getaffinity``) and
the table has at least ``AUTO_MIN_ROWS`` rows; an integer of 2 or more uses it whatever the size.
A worker that dies (killed, out of memory) raises ``WorkerLost`` from ``Pending.result``, which
then runs the offload inline instead: the check is never lost and nothing hangs. ``close`` (called
by ``run_checks`` in a ``finally``) removes the temporary folder and, when the run was
interrupted (Ctrl-C), kills the worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataaudit.exceptions import ConfigError
from dataaudit.progress import Progress

if TYPE_CHECKING:  # numpy is imported where it is used: prestart runs before anything else needs it
    import numpy as np

__all__ = ["AUTO_MIN_ROWS", "BackgroundWorker", "Offload", "Pending", "WorkerLost", "check_workers",
           "prestart", "release", "usable_cpus", "use_background"]

# Below this many rows "auto" fits inline. The worker costs about 1.2 s of start-up and
# scikit-learn imports (on the other core, overlapped with loading and the other checks), which
# the main process waits for when its own share is shorter; on the benchmark file (43 columns,
# 3 classes) the whole `inspect` was faster with the worker from 2,000 rows on (2.34 s against
# 2.70 s; 10k: 2.81 against 3.79 s; README, "Speed").
AUTO_MIN_ROWS = 2_000
# ``prestart`` starts the worker before loading a file at least this large (the benchmark file
# holds 2,000 rows in 0.8 MiB; a narrower table has more rows per byte).
PRESTART_MIN_BYTES = 1 << 19
# An idle worker exits after this many seconds (a later audit in the same process starts another).
IDLE_SECONDS = 60


class WorkerLost(RuntimeError):
    """The background worker died (killed, out of memory) before returning a result."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and ``taskset`` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int | str | None, what: str = "workers") -> int | None:
    """``workers`` validated: None for automatic (``None`` or ``"auto"``), else an integer >= 1.

    Raises
    ------
    ConfigError
        Anything else (``0``, ``-1``, ``"two"``, ``True``), naming ``what`` (``--workers``).
    """
    if workers is None or (isinstance(workers, str) and workers.strip().lower() == "auto"):
        return None
    value: int | None = None
    if isinstance(workers, int) and not isinstance(workers, bool):
        value = workers
    elif isinstance(workers, str) and workers.strip().isdigit():
        value = int(workers.strip())
    if value is None or value < 1:
        raise ConfigError(f"{what} must be 'auto' or an integer >= 1 (1: no background worker), got {workers!r}.")
    return value


def use_background(workers: int | None, n_rows: int) -> bool:
    """Whether a check's offload runs in a background worker under the ``workers`` policy."""
    if workers is None:
        return n_rows >= AUTO_MIN_ROWS and usable_cpus() >= 2
    return workers >= 2


@dataclass
class Offload:
    """The heavy part of a check as a pure function of arrays: ``function(**arrays, **options, on_step=...)``.

    ``function`` must be importable by name (a module-level function) and ``options`` picklable;
    ``state`` is what the check keeps in the main process to finish its result (never sent).
    """

    function: Callable[..., Any]
    arrays: dict[str, np.ndarray]
    options: dict[str, Any] = field(default_factory=dict)
    state: Any = None
    label: str = "work"  # what the progress display says runs in the background

    def __call__(self, on_step: Callable[..., None] | None = None) -> Any:
        """Run it here, in this process."""
        return self.function(**self.arrays, **self.options, on_step=on_step)


class Pending:
    """An offload submitted to the worker; ``result`` waits for it (or runs it inline if the worker died)."""

    def __init__(self, offload: Offload, future: Future[Any] | None, error: str | None = None) -> None:
        self.offload = offload
        self.future = future
        self.error = error  # why it could not be submitted (then it runs inline)
        self.fallback: str | None = None  # set when the offload had to run inline after all

    def busy(self) -> bool:
        """Whether the worker is still on it (collecting the result now would wait)."""
        return self.future is not None and not self.future.done()

    def result(self, progress: Progress) -> Any:
        """The offload's return value: from the worker, else (worker lost) computed inline."""
        try:
            if self.future is not None:
                progress.step(f"waiting for the {self.offload.label} (background worker)")
                try:
                    return _worker_result(self.future)
                except WorkerLost as exc:
                    self.fallback = f"the background worker was lost ({exc}); ran in the main process instead"
            else:
                self.fallback = f"the background worker could not be used ({self.error}); ran in the main process"
        finally:
            progress.background(None)
        return self.offload(on_step=progress.step)


def _worker_result(future: Future[Any]) -> Any:
    from concurrent.futures.process import BrokenProcessPool

    from joblib.externals.loky.process_executor import ShutdownExecutorError, TerminatedWorkerError

    try:
        return future.result()
    except (BrokenProcessPool, TerminatedWorkerError, ShutdownExecutorError) as exc:
        raise WorkerLost(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


_started: list[Any] = []  # the executor this module started, for ``release``


def _executor() -> Any:
    """The process's one-worker loky executor (the same one until it breaks or idles out)."""
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=1, timeout=IDLE_SECONDS)
    _started[:] = [executor]
    return executor


def release() -> None:
    """Stop the worker now: a command's checks are done, and exiting would wait for it to wind down."""
    for executor in _started:
        executor.shutdown(wait=False, kill_workers=True)
    _started.clear()


def prestart(workers: int | None, data: Path, label: str | None) -> bool:
    """Start the worker and its imports now, before ``data`` is loaded, when ``run_checks`` will likely use it.

    The row count is not known before loading; a file of at least ``PRESTART_MIN_BYTES`` stands
    for a large enough table (a worker started for a smaller one is merely idle, then stopped).
    """
    if label is None or workers == 1:
        return False
    try:
        large = data.stat().st_size >= PRESTART_MIN_BYTES
    except OSError:
        return False
    if workers is None and not (large and usable_cpus() >= 2):
        return False
    _executor().submit(_warm_up)
    return True


class BackgroundWorker:
    """One loky worker process for the run, warming up (imports) from the moment it is created."""

    def __init__(self) -> None:
        self._executor = _executor()
        self._warm = self._executor.submit(_warm_up)
        self._folder: Path | None = None
        self._pending: list[Pending] = []

    def submit(self, offload: Offload) -> Pending:
        """Write the offload's arrays to the private folder and start it in the worker."""
        try:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="dataaudit-"))
            paths: dict[str, str] = {}
            import numpy as np

            for name, array in offload.arrays.items():
                path = self._folder / f"{len(self._pending)}-{name}.npy"
                np.save(path, np.ascontiguousarray(array), allow_pickle=False)
                paths[name] = str(path)
            future = self._executor.submit(_call_with_arrays, offload.function, paths, offload.options)
            pending = Pending(offload, future)
        except (OSError, RuntimeError) as exc:  # no room in the temp folder, executor already broken
            pending = Pending(offload, None, error=f"{type(exc).__name__}: {exc}")
        self._pending.append(pending)
        return pending

    def close(self, *, interrupted: bool = False) -> None:
        """Remove the temporary folder; on an interrupted run, also stop the worker at once."""
        if interrupted:
            for pending in self._pending:
                if pending.future is not None:
                    pending.future.cancel()
            self._executor.shutdown(wait=False, kill_workers=True)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _warm_up() -> int:
    """Import what the offloads need while the main process is still loading (runs in the worker)."""
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    import dataaudit.oos  # noqa: F401
    import dataaudit.oos_regression  # noqa: F401

    return os.getpid()


def _call_with_arrays(function: Callable[..., Any], paths: dict[str, str], options: dict[str, Any]) -> Any:
    """Open the arrays read-only (memory-mapped, never unpickled) and call ``function`` (in the worker)."""
    import numpy as np

    arrays = {name: np.load(path, mmap_mode="r", allow_pickle=False) for name, path in paths.items()}
    return function(**arrays, **options, on_step=None)
