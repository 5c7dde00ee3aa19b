"""dataaudit: become one with the data before training a network on it."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Dataset",
    "Finding",
    "CheckResult",
    "AuditResult",
    "DataAuditError",
    "InputError",
    "inspect",
    "run_checks",
    "load_dataset",
    "fit_transform",
    "transform",
    "load_artifacts",
    "TransformConfig",
    "train_artifacts",
    "TrainConfig",
    "load_pipeline",
    "run_pipeline",
]

_LAZY = {
    "Dataset": ("dataaudit.dataset", "Dataset"),
    "Finding": ("dataaudit.findings", "Finding"),
    "CheckResult": ("dataaudit.findings", "CheckResult"),
    "AuditResult": ("dataaudit.findings", "AuditResult"),
    "DataAuditError": ("dataaudit.exceptions", "DataAuditError"),
    "InputError": ("dataaudit.exceptions", "InputError"),
    "inspect": ("dataaudit.audit", "inspect"),
    "run_checks": ("dataaudit.audit", "run_checks"),
    "load_dataset": ("dataaudit.io.loading", "load_dataset"),
    "fit_transform": ("dataaudit.transforms.pipeline", "fit_transform"),
    "transform": ("dataaudit.transforms.pipeline", "transform"),
    "load_artifacts": ("dataaudit.io.artifacts", "load_artifacts"),
    "TransformConfig": ("dataaudit.transforms.pipeline", "TransformConfig"),
    "train_artifacts": ("dataaudit.training.api", "train_artifacts"),
    "TrainConfig": ("dataaudit.training.config", "TrainConfig"),
    "load_pipeline": ("dataaudit.config", "load_pipeline"),
    "run_pipeline": ("dataaudit.runner", "run_pipeline"),
}


def __getattr__(name: str) -> Any:
    # Lazy so that `dataaudit --help` does not import pandas/sklearn.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'dataaudit' has no attribute {name!r}")


def __dir__() -> list[str]:
    # What the package exports, not the helpers of this file (``Any``, ``annotations``).
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})
