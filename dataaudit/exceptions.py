"""The exceptions dataaudit raises. The library raises only these; the CLI shows them in one line.

Each carries the exit code the command line ends with (``exit_code``): 2 for bad input, options,
artifacts or outputs; 1 for data that ran fine but failed the user's bar (``--fail-on``, saved
expectations). ``cli.cli_errors`` is the one place that turns them into an exit.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "DataAuditError",
    "InputError",
    "ConfigError",
    "ArtifactError",
    "ValidationFailed",
    "FindingsAtThreshold",
    "OutputError",
    "CheckError",
]


class DataAuditError(Exception):
    """Base class of every error dataaudit raises on purpose."""

    exit_code: ClassVar[int] = 2


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

    exit_code: ClassVar[int] = 1


class FindingsAtThreshold(DataAuditError):
    """The audit ran and found something at or above the ``--fail-on`` severity."""

    exit_code: ClassVar[int] = 1


class CheckError(DataAuditError, RuntimeError):
    """A check failed while running (recorded as ``errored`` unless ``strict``)."""
