"""Launcher for ``_measure.measure``: run a command as this small process's child, report its usage.

A child started straight from the benchmark process inherits that process's peak RSS as its own
starting ``ru_maxrss`` (Linux keeps the high-water mark of the address space a fork copies, across
exec), so after the benchmark generated a large file in memory every command it timed showed the
benchmark's own peak. This launcher is a fresh interpreter of a few MiB: its child's high-water
mark starts from that. Usage: ``python _launch.py RESULT_JSON CMD [ARG ...]``; the command's
stdout and stderr are this process's, its exit code is this process's exit code.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    result_path, cmd = argv[0], argv[1:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: become the command
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                   "peak_rss_kib": usage.ru_maxrss, "exit_code": code}, handle)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
