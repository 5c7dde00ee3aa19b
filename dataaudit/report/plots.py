"""Plot helpers: matplotlib figures rendered to inline SVG (no network, no external files).

Output is deterministic (fixed SVG id salt, no date metadata) so that the same input gives the
same report byte for byte, and text is written as escaped ``<text>`` elements, never as markup.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["new_figure", "figure_to_svg", "plot_text", "sparkline_path", "PALETTE"]

# Categorical palette shared by every plot: Tableau 10, then its lighter companions.
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#dbdb8d",
)

# Keyed by matplotlib's literal rc names, so a mistyped key is a type error.
_RC: dict[RcKeyType, Any] = {
    # Ids derived from content + this salt instead of random UUIDs: deterministic output.
    "svg.hashsalt": "dataaudit",
    # Text as <text> elements (small, selectable). matplotlib escapes it as XML character data,
    # which tests/report/test_security.py verifies with markup in column names.
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9aa3ae",
    "axes.labelcolor": "#333a44",
    "xtick.color": "#59626e",
    "ytick.color": "#59626e",
}


def new_figure(width: float = 5.0, height: float = 3.0) -> tuple[Any, Any]:
    """A (figure, axes) pair on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def figure_to_svg(fig: Any) -> Markup:
    """Serialize a figure to an inline <svg> element and close it.

    Text in the figure (labels, column names) is written by matplotlib as escaped SVG text, so
    the result is safe to embed. Pass data strings through ``plot_text`` first so that a ``$``
    in a column name is not parsed as mathtext.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    # A column name or value with a character the font lacks is drawn as a box; that is no
    # reason to print a warning per glyph on the user's terminal.
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    start = svg.find("<svg")
    return Markup(svg[start:])


def plot_text(value: Any, max_length: int = 32) -> str:
    """A data string made safe for a matplotlib label: ``$`` escaped (no mathtext), shortened."""
    text = " ".join(str(value).split())
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def sparkline_path(counts: Sequence[float], width: float = 120.0, height: float = 28.0,
                   top: float | None = None) -> str:
    """SVG path data (numbers only) drawing ``counts`` as a filled histogram of the given size.

    ``top`` is the value drawn at full height (default: the largest count), so that two
    histograms can share one scale.
    """
    values = [max(float(c), 0.0) for c in counts]
    if not values:
        return ""
    top = top or max(values) or 1.0
    step = width / len(values)
    parts = [f"M0 {height:g}"]
    for value in values:
        bar = round(height * value / top, 1)
        # A non-empty bin stays visible even next to a much higher one.
        if value > 0 and bar < 1.0:
            bar = 1.0
        parts.append(f"V{height - bar:g}h{step:.2f}")
    parts.append(f"V{height:g}Z")
    return "".join(parts)
