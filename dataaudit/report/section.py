"""Report sections: how every stage (inspect, transform, train) adds its part to the one report."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup

__all__ = ["Section", "environment", "render_fragment"]


@dataclass(frozen=True)
class Section:
    """One titled part of the report.

    ``html`` must come from ``render_fragment`` (autoescaped template), ``svg`` (escaped, hand-written
    SVG) or ``plots.figure_to_svg``, never from string concatenation of data values. ``status`` is "ok", "warning" or "error" and
    colours the navigation entry; ``summary`` is one plain-text line for the overview.
    """

    id: str
    title: str
    html: Markup
    summary: str = ""
    status: str = "ok"


@lru_cache(maxsize=1)
def environment() -> Any:
    """The package's Jinja2 environment: templates from dataaudit/report/templates, autoescape on."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dataaudit", "report/templates"),
        autoescape=True,  # every string from the data is escaped, whatever the template name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _format_number
    env.filters["score"] = _format_score
    env.filters["breakable"] = _breakable
    return env


def _breakable(value: Any) -> Markup:
    """A column name, escaped, that may wrap after its underscores and dots (long names stay whole)."""
    from markupsafe import escape

    text = str(escape(str(value)))
    return Markup(text.replace("_", "_<wbr>").replace(".", ".<wbr>"))


def _format_score(value: Any) -> str:
    """A score in [0, 1] with three decimals, so that a column of scores reads at a glance."""
    if value is None:
        return "–"
    number = float(value)
    if number != number:  # NaN
        return "–"
    if 0.0 < number < 0.0005:
        return "<0.001"
    return f"{number:.3f}"


def _format_number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:  # NaN
        return "–"
    if number != 0 and (abs(number) >= 1e6 or abs(number) < 1e-3):
        return f"{number:.{max(digits - 1, 1)}e}"
    return f"{number:.{digits}g}"


def render_fragment(template: str, **context: Any) -> Markup:
    """Render a template file (``name.html.j2``) or, if it contains ``{``, a template string."""
    env = environment()
    tpl = env.from_string(template) if "{" in template else env.get_template(template)
    return Markup(tpl.render(**context))
