"""The MLP trainer: NumPy (or Torch) MLP, one readable loop, and the recipe's sanity checks.

Public API::

    from dataaudit.training import TrainConfig, TrainData, fit, train_artifacts
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "TrainConfig",
    "TrainData",
    "FitResult",
    "fit",
    "build_model",
    "evaluate",
    "train_artifacts",
    "train_session",
    "SessionResult",
    "TrainingReport",
    "run_recipe_checks",
]

_LAZY = {
    "TrainConfig": ("dataaudit.training.config", "TrainConfig"),
    "TrainData": ("dataaudit.training.data", "TrainData"),
    "FitResult": ("dataaudit.training.loop", "FitResult"),
    "fit": ("dataaudit.training.loop", "fit"),
    "build_model": ("dataaudit.training.loop", "build_model"),
    "evaluate": ("dataaudit.training.loop", "evaluate"),
    "train_artifacts": ("dataaudit.training.api", "train_artifacts"),
    "TrainingReport": ("dataaudit.training.api", "TrainingReport"),
    "train_session": ("dataaudit.training.session", "train_session"),
    "SessionResult": ("dataaudit.training.session", "SessionResult"),
    "run_recipe_checks": ("dataaudit.training.checks", "run_recipe_checks"),
}


def __getattr__(name: str) -> Any:
    # Lazy, so importing dataaudit.training.config stays light (no matplotlib, no torch).
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'dataaudit.training' has no attribute {name!r}")
