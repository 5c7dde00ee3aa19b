"""CLI --help: every help text shows as written (rich markup must not swallow square brackets)."""

from __future__ import annotations

import inspect
import re

import typer.models
from typer.testing import CliRunner

from dataaudit.cli import app

runner = CliRunner()


def _source_help_texts() -> dict[tuple[str, ...], list[str]]:
    """Help strings as written in the source: the app's, each command's docstring and options."""
    texts: dict[tuple[str, ...], list[str]] = {(): [app.info.help or ""]}
    for option in inspect.signature(app.registered_callback.callback).parameters.values():
        texts[()].append(getattr(option.default, "help", None) or "")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        strings = [command.help or inspect.getdoc(command.callback) or ""]
        for parameter in inspect.signature(command.callback).parameters.values():
            if isinstance(parameter.default, typer.models.ParameterInfo):
                strings.append(parameter.default.help or "")
        texts[(name,)] = strings
    return texts


def _flat(text: str) -> str:
    """Rendered help without the panels' borders and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_every_help_text_keeps_its_bracketed_text():
    texts = _source_help_texts()
    assert {name for (name,) in (key for key in texts if key)} >= {"inspect", "fit-transform", "run", "transform"}
    checked = 0
    for command, strings in texts.items():
        done = runner.invoke(app, [*command, "--help"])
        assert done.exit_code == 0, done.output
        shown = _flat(done.output)
        for string in strings:
            for bracketed in re.findall(r"\[[^\[\]]*\]", string):
                checked += 1
                assert _flat(bracketed) in shown, f"{' '.join(command) or 'dataaudit'} --help lost {bracketed!r} of {string!r}"
    assert checked >= 6  # the [default: ...] notes of inspect, fit-transform, run and transform
