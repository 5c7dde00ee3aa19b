"""Run a command in a child process and report its wall time, CPU time and peak RSS (from os.wait4).

The command runs under ``_launch.py``, a small fresh interpreter that starts it and reads its usage:
started straight from a benchmark that holds a large table, the command would inherit the
benchmark's peak RSS as its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = Path(__file__).resolve().with_name("_launch.py")


def measure(cmd: list[str], env: dict[str, str] | None = None,
            timeout: float | None = None) -> dict[str, float | int | str | bool]:
    """Wall seconds, CPU seconds, peak RSS (MiB) and exit code of ``cmd``; stdout is returned (last 4000 chars).

    With ``timeout`` the command (and every process it started: it runs in its own session) is
    killed after that many seconds and ``timed_out`` is true. CPU seconds and peak RSS are the
    child's own (worker processes it starts and waits for count towards CPU, not towards RSS).
    """
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as scratch:
        result_path = Path(scratch) / "usage.json"
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-S", str(LAUNCHER), str(result_path), *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, **(env or {})}, text=True, start_new_session=True)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer is not None:
            timer.start()
        assert proc.stdout is not None
        output = proc.stdout.read()
        proc.wait()
        if timer is not None:
            timer.cancel()
        wall = time.perf_counter() - started
        usage = json.loads(result_path.read_text()) if result_path.exists() else None
    if usage is None:  # killed before the command ended (over its cap): only the wall time is known
        usage = {"seconds": wall, "cpu_seconds": 0.0, "peak_rss_kib": 0, "exit_code": proc.returncode}
    return {
        "seconds": round(usage["seconds"], 2),
        "cpu_seconds": round(usage["cpu_seconds"], 2),
        "peak_rss_mib": round(usage["peak_rss_kib"] / 1024, 1),  # Linux reports KiB
        "exit_code": usage["exit_code"],
        "timed_out": expired.is_set(),
        "output": output[-4000:],
    }


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]
