"""Plot helpers: matplotlib figures rendered to inline SVG (no network, no external files)."""

from __future__ import annotations

import io
from typing import Any

from markupsafe import Markup

__all__ = ["new_figure", "figure_to_svg"]


def new_figure(width: float = 5.0, height: float = 3.0) -> tuple[Any, Any]:
    """A (figure, axes) pair on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def figure_to_svg(fig: Any) -> Markup:
    """Serialize a figure to an inline <svg> element and close it.

    Text in the figure (labels, column names) is written by matplotlib as escaped SVG text, so
    the result is safe to embed.
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    start = svg.find("<svg")
    return Markup(svg[start:])
