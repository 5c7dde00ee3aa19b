"""Every module in dataaudit/checks registers exactly one documented check; codes are stable."""

from __future__ import annotations

import importlib
import pkgutil

import dataaudit.checks as checks_pkg
from dataaudit.checks import REGISTRY, load_all

# The stable codes of DESIGN.md: add more, never rename.
CONTRACT_CODES = {
    "exact_duplicate", "conflicting_labels", "near_duplicate", "label_issue", "class_imbalance",
    "outlier", "missing_values", "constant_column", "id_column", "high_cardinality", "mixed_types",
    "label_leakage", "high_correlation", "skewed_feature", "scale_disparity", "train_test_overlap",
    "train_test_drift",
}


def test_each_module_registers_exactly_one_documented_check():
    load_all()
    for module_info in pkgutil.iter_modules(checks_pkg.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"dataaudit.checks.{module_info.name}")
        defined = [cls for cls in REGISTRY.values() if cls.__module__ == module.__name__]
        assert len(defined) == 1, f"{module.__name__} registers {len(defined)} checks"
        check = defined[0]
        assert check.description(), f"{check.__name__} has no docstring line for the report"
        assert check.codes, f"{check.__name__} declares no finding codes"


def test_every_contract_code_has_a_check():
    load_all()
    declared = {code for cls in REGISTRY.values() for code in cls.codes}
    assert CONTRACT_CODES <= declared, sorted(CONTRACT_CODES - declared)


def test_check_names_are_unique_and_ordered():
    from dataaudit.checks import ordered_checks

    ordered = ordered_checks()
    assert len({c.name for c in ordered}) == len(ordered)
    assert [c.order for c in ordered] == sorted(c.order for c in ordered)
