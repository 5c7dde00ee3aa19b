"""Run a command in a child process and report its wall time and peak RSS (from os.wait4)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float | int | str]:
    """Wall seconds, peak RSS (MiB) and exit code of ``cmd``; stdout is returned (last 2000 chars)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                            env={**os.environ, **(env or {})}, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "exit_code": proc.returncode,
        "output": output[-2000:],
    }


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]
