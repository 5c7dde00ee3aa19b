"""All checks. Every module in this package registers exactly one check with ``@register``."""

from __future__ import annotations

import importlib
import pkgutil

from dataaudit.checks._base import REGISTRY, AuditContext, Check, make_check, register
from dataaudit.findings import Code, Finding

__all__ = ["REGISTRY", "AuditContext", "Check", "make_check", "register", "load_all", "ordered_checks",
           "declared_code", "describe"]


def load_all() -> dict[str, type[Check]]:
    """Import every check module so that each registers itself; return the registry."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY


def ordered_checks() -> list[type[Check]]:
    """Registered check classes in report order."""
    load_all()
    return sorted(REGISTRY.values(), key=lambda c: (c.order, c.name))


def declared_code(code: str) -> Code:
    """The ``Code`` (title, action, section) that some registered check declares for ``code``."""
    for check in load_all().values():
        for declared in check.codes:
            if declared == code:
                return declared
    raise KeyError(f"no registered check declares finding code {code!r}")


def describe(finding: Finding) -> Finding:
    """``finding`` with the metadata its code's check declares (for findings built by hand)."""
    return finding.described(declared_code(finding.code))
