"""Write the fuzz outcome counts when FUZZ_REPORT is set (see harness.py)."""

from __future__ import annotations


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    from fuzz.harness import write_report

    write_report()
