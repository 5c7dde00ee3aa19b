"""The dataaudit command line: thin commands that parse, call the library and format.

Each command lives in ``dataaudit/commands/<name>.py`` and imports heavy modules inside its body,
so ``dataaudit --help`` starts fast. Errors are shown in one place: ``cli_errors``.
"""

from __future__ import annotations

import functools
import gc
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from dataaudit import lean_imports

__all__ = ["app", "main", "cli_errors", "STATE"]

F = TypeVar("F", bound=Callable[..., Any])

class _Group(TyperGroup):
    """The root command: its help texts show as written (see ``_literal_help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _literal_help(self)


def _literal_help(command: Any) -> None:
    """Escape a command's help texts for rich, so ``[default: ...]`` shows instead of vanishing.

    Help strings in dataaudit are plain text; under ``rich_markup_mode="rich"`` a bracketed note
    that starts with a letter would otherwise be read as a markup tag and dropped.
    """
    command.help = escape(command.help) if command.help else command.help
    for param in command.params:
        if getattr(param, "help", None):
            param.help = escape(param.help)


app = typer.Typer(
    name="dataaudit",
    cls=_Group,
    help="Become one with the data: audit a labelled table, prepare it, train a small MLP on it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

# Global options set by the callback (read by cli_errors).
STATE: dict[str, bool] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        from dataaudit import __version__

        typer.echo(f"dataaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    STATE["debug"] = debug


def cli_errors(func: F) -> F:
    """Run a command; show a DataAuditError as one line on stderr and exit with its ``exit_code``.

    The one error boundary of the command line: under ``--debug`` the exception (with its chained
    cause) propagates as a traceback instead.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from dataaudit.exceptions import DataAuditError

        try:
            return func(*args, **kwargs)
        except DataAuditError as exc:
            if STATE["debug"]:
                raise
            message = " ".join(str(exc).split())
            typer.echo(f"{type(exc).__name__}: {message}", err=True)
            raise typer.Exit(exc.exit_code) from exc
        except KeyboardInterrupt as exc:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(130) from exc
        except MemoryError as exc:
            if STATE["debug"]:
                raise
            typer.echo(_memory_message(func, kwargs), err=True)
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


def _memory_message(func: Callable[..., Any], kwargs: dict[str, Any]) -> str:
    """The MemoryError line: names the input and suggests --chunksize only where it exists."""
    import inspect

    source = kwargs.get("data") or kwargs.get("artifacts") or kwargs.get("pipeline")
    where = f" while reading or processing {source}" if source is not None else ""
    if "chunksize" in inspect.signature(func).parameters:
        hint = "pass --chunksize N (e.g. 100000) to stream the file, or use a smaller sample."
    else:
        hint = "use a smaller sample of the file (e.g. its first rows) or a machine with more memory."
    return f"MemoryError: out of memory{where}; {hint}"


class _Command(TyperCommand):
    """A command whose usage line names its arguments as its help does: ``DATA``, not ``{data}``,
    and whose help texts show as written (``_literal_help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _literal_help(self)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = []
        for piece in super().collect_usage_pieces(ctx):
            match = re.fullmatch(r"\{(\w+)\}(\.\.\.)?|\[(\w+)\](\.\.\.)?", piece)
            if match and match.group(1):
                piece = match.group(1).upper() + (match.group(2) or "")
            elif match and match.group(3) != "OPTIONS":
                piece = f"[{match.group(3).upper()}]{match.group(4) or ''}"
            pieces.append(piece)
        return pieces


def _register_commands() -> None:
    import importlib
    import pkgutil

    import dataaudit.commands as commands

    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"dataaudit.commands.{module.name}").register(app)
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = _Command


_register_commands()


def main() -> None:
    """Console-script entry point."""
    lean_imports.own_process()
    try:
        sys.exit(app())
    finally:
        # Everything still alive is freed by the interpreter's exit anyway; frozen, the collector
        # no longer walks it during finalization: about half a second less per run once
        # scikit-learn, SciPy and cleanlab are loaded. Files are closed and outputs swapped in
        # by now (context managers), and atexit handlers still run.
        gc.freeze()
