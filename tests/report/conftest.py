"""Fixtures for the report tests."""

from __future__ import annotations

import pytest
from _report_data import digits_result, mixed_result

from dataaudit.findings import AuditResult


@pytest.fixture(scope="session")
def digits() -> AuditResult:
    return digits_result()


@pytest.fixture(scope="session")
def mixed() -> AuditResult:
    return mixed_result()


@pytest.fixture(scope="session")
def hostile() -> AuditResult:
    return mixed_result(hostile=True)
