"""Exceptions carry their exit code; cli_errors is the one boundary that turns them into an exit."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from dataaudit import cli
from dataaudit.exceptions import (
    ArtifactError,
    ConfigError,
    FindingsAtThreshold,
    InputError,
    OutputError,
    ValidationFailed,
)


def _app(exc: Exception) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @cli.cli_errors
    def boom() -> None:
        try:
            raise OSError("the root cause")
        except OSError as cause:
            raise exc from cause

    return app


@pytest.mark.parametrize(("exc", "code"), [
    (InputError("data.csv: line 2 has 4 fields but the header has 3"), 2),
    (ConfigError("bad option"), 2),
    (ArtifactError("tampered"), 2),
    (OutputError("would replace your file"), 2),
    (ValidationFailed("3 expectations violated"), 1),
    (FindingsAtThreshold("2 findings at or above warning"), 1),
])
def test_each_error_exits_with_its_code_and_one_line(exc: Exception, code: int) -> None:
    done = CliRunner().invoke(_app(exc), [])
    assert done.exit_code == code
    lines = done.output.strip().splitlines()
    assert lines == [f"{type(exc).__name__}: {exc}"]
    assert "Traceback" not in done.output


def test_debug_shows_the_chained_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.STATE, "debug", True)
    done = CliRunner().invoke(_app(InputError("bad")), [])
    assert isinstance(done.exception, InputError)
    assert isinstance(done.exception.__cause__, OSError) and "root cause" in str(done.exception.__cause__)
