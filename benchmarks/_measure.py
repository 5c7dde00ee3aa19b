"""Run a command in a child process and report its wall time, CPU time and peak RSS (from os.wait4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd: list[str], env: dict[str, str] | None = None,
            timeout: float | None = None) -> dict[str, float | int | str | bool]:
    """Wall seconds, CPU seconds, peak RSS (MiB) and exit code of ``cmd``; stdout is returned (last 4000 chars).

    With ``timeout`` the command (and every process it started: it runs in its own session) is
    killed after that many seconds and ``timed_out`` is true. CPU seconds and peak RSS are the
    child's own (worker processes it starts and waits for count towards CPU, not towards RSS).
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
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
    _, status, usage = os.wait4(proc.pid, 0)
    if timer is not None:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "exit_code": proc.returncode,
        "timed_out": expired.is_set(),
        "output": output[-4000:],
    }


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]
