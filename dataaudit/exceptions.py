"""The exceptions dataaudit raises. The library raises only these; the CLI shows them in one line."""

from __future__ import annotations

__all__ = [
    "DataAuditError",
    "InputError",
    "ConfigError",
    "ArtifactError",
    "ValidationFailed",
    "OutputError",
    "CheckError",
]


class DataAuditError(Exception):
    """Base class of every error dataaudit raises on purpose."""


class InputError(DataAuditError, ValueError):
    """The input data cannot be used: missing, empty, ragged, undecodable, wrong columns."""


class ConfigError(DataAuditError, ValueError):
    """An option, a pipeline file or a configuration value is invalid."""


class ArtifactError(DataAuditError, ValueError):
    """A saved artifact is missing, foreign, tampered with or of an unsupported format version."""


class OutputError(DataAuditError):
    """An output cannot be written safely: it would replace a user's file or an input, or a write failed."""


class ValidationFailed(DataAuditError):
    """New data violates the expectations saved at fit time."""


class CheckError(DataAuditError, RuntimeError):
    """A check failed while running (recorded as ``errored`` unless ``strict``)."""
