"""Hand-written inline SVG for the audit report's heatmap and row map (no plotting library).

The two audit plots used to be drawn with matplotlib, whose import alone cost about as much as
every other part of ``inspect`` on a small table except the checks. These functions write the
same figures as plain SVG elements: deterministic (fixed number formats, no ids, no dates), every
string from the data escaped with ``html.escape`` (text content and attributes alike), nothing
referenced outside the element. Colours come from fixed tables in this module, never from data.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup

__all__ = ["Layer", "heatmap", "scatter", "colour_of", "nice_ticks", "short_text", "RDBU_R", "VIRIDIS"]

# Colour maps as (position, hex) stops, interpolated linearly in RGB: the same stops matplotlib's
# RdBu_r (ColorBrewer RdBu, reversed) and viridis (sampled every eighth) are built from.
RDBU_R: tuple[str, ...] = ("#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7",
                           "#f4a582", "#d6604d", "#b2182b", "#67001f")
VIRIDIS: tuple[str, ...] = ("#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39",
                            "#fde725")
# Cells that hold no value (a constant column, too few rows): the same grey as before.
BAD_COLOUR = "#d3d7de"
AXIS_COLOUR = "#9aa3ae"
TICK_COLOUR = "#59626e"
TEXT_COLOUR = "#333a44"
FONT = 'font-family="sans-serif"'
# Width of one character of the sans-serif font, as a share of its size (for layout only: an
# over-estimate leaves a little margin, never clips).
CHAR_WIDTH = 0.6
# Font sizes in pixels (the report's former matplotlib figures used 8-9 pt).
TICK_SIZE = 11.0
LABEL_SIZE = 12.0
SMALL_SIZE = 10.5


def short_text(value: object, max_length: int = 32) -> str:
    """A data string on one line, shortened to ``max_length`` characters (not yet escaped)."""
    text = " ".join(str(value).split())
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colour_of(value: float, stops: Sequence[str], vmin: float = 0.0, vmax: float = 1.0) -> str:
    """The colour of ``value`` on a map of evenly spaced ``stops`` between ``vmin`` and ``vmax``."""
    if not math.isfinite(value):
        return BAD_COLOUR
    span = vmax - vmin
    position = 0.0 if span <= 0 else min(max((value - vmin) / span, 0.0), 1.0)
    scaled = position * (len(stops) - 1)
    low = min(int(scaled), len(stops) - 2)
    weight = scaled - low
    a, b = _hex_rgb(stops[low]), _hex_rgb(stops[low + 1])
    return "#" + "".join(f"{round(x + (y - x) * weight):02x}" for x, y in zip(a, b, strict=True))


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) inside ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    for i in range(first, first + count + 3):
        value = i * step
        if value > high + step * 1e-9:
            break
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
    return ticks


def _tick_text(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:.{min(decimals, 6)}f}"


def _text(x: float, y: float, text: str, size: float = 9, anchor: str = "start", colour: str = TEXT_COLOUR,
          rotate: bool = False, baseline: str | None = None) -> str:
    """An escaped ``<text>`` element (``rotate``: vertical, reading upwards)."""
    attrs = f'x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" fill="{colour}" text-anchor="{anchor}"'
    if rotate:
        attrs += f' transform="rotate(-90 {x:.1f} {y:.1f})"'
    if baseline:
        attrs += f' dominant-baseline="{baseline}"'
    return f"<text {attrs}>{_esc(text)}</text>"


def _text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def _colourbar(x: float, top: float, height: float, stops: Sequence[str], vmin: float, vmax: float,
               label: str) -> tuple[list[str], float]:
    """A vertical colour bar (64 bands) with ticks and a label; returns elements and the width used."""
    width, bands = 16.0, 64
    parts = []
    for i in range(bands):
        value = vmax - (i + 0.5) * (vmax - vmin) / bands
        parts.append(f'<rect x="{x:.1f}" y="{top + i * height / bands:.2f}" width="{width:g}" '
                     f'height="{height / bands + 0.3:.2f}" fill="{colour_of(value, stops, vmin, vmax)}"/>')
    parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:g}" height="{height:.1f}" fill="none" '
                 f'stroke="{AXIS_COLOUR}" stroke-width="0.8"/>')
    ticks = nice_ticks(vmin, vmax, 8)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    widest = 0.0
    for value in ticks:
        y = top + (vmax - value) / (vmax - vmin) * height if vmax > vmin else top + height / 2
        text = _tick_text(value, step)
        widest = max(widest, _text_width(text, TICK_SIZE))
        parts.append(f'<path d="M{x + width:.1f} {y:.1f}h3" stroke="{TICK_COLOUR}" stroke-width="0.8"/>')
        parts.append(_text(x + width + 5, y + 4, text, TICK_SIZE, colour=TICK_COLOUR))
    label_x = x + width + 8 + widest + 10
    parts.append(_text(label_x, top + height / 2, label, LABEL_SIZE, anchor="middle", rotate=True))
    return parts, label_x + 6 - x


def _svg(width: float, height: float, body: Sequence[str], title: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" {FONT}><title>{_esc(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def heatmap(matrix: np.ndarray, labels: Sequence[object], *, vmin: float = -1.0, vmax: float = 1.0,
            stops: Sequence[str] = RDBU_R, colour_label: str = "Pearson r", cell: float | None = None,
            title: str = "Correlation heatmap") -> Markup:
    """A square ``matrix`` (NaN: not judged, drawn grey) as cells with row and column labels.

    Each cell carries a ``<title>`` tooltip naming its two columns and value. Labels are shortened
    to 28 characters and escaped. ``cell`` (pixels) defaults to 20, larger for a few columns so
    that a small matrix is not a stamp.
    """
    values = np.asarray(matrix, dtype=np.float64)
    n = values.shape[0]
    if cell is None:
        cell = min(40.0, max(20.0, 300.0 / max(n, 1)))
    names = [short_text(label, 28) for label in labels]
    label_space = max((_text_width(name, SMALL_SIZE) for name in names), default=0.0) + 8
    left, top = label_space + 4, 8.0
    side = n * cell
    body = []
    for i in range(n):
        for j in range(n):
            value = float(values[i, j])
            shown = "not judged" if not math.isfinite(value) else f"{value:.3f}"
            body.append(f'<rect x="{left + j * cell:.1f}" y="{top + i * cell:.1f}" width="{cell:g}" '
                        f'height="{cell:g}" fill="{colour_of(value, stops, vmin, vmax)}">'
                        f"<title>{_esc(names[i])} × {_esc(names[j])}: {shown}</title></rect>")
    for i, name in enumerate(names):
        centre = i * cell + cell / 2
        body.append(_text(left - 5, top + centre + 4, name, SMALL_SIZE, anchor="end", colour=TICK_COLOUR))
        body.append(_text(left + centre + 4, top + side + 5, name, SMALL_SIZE, anchor="end", colour=TICK_COLOUR,
                          rotate=True))
    bar, bar_width = _colourbar(left + side + 14, top, side, stops, vmin, vmax, colour_label)
    body.extend(bar)
    return _svg(left + side + 14 + bar_width + 4, top + side + label_space + 6, body, title)


@dataclass(frozen=True)
class Layer:
    """One set of points on a scatter plot, drawn with one marker.

    ``marker``: ``"dot"`` (filled circle), ``"x"``, ``"+"``, ``"s"`` (open square) or ``"^"``
    (filled triangle). ``colour`` is a ``#rrggbb`` of this module's or the report's palette;
    ``values`` (one per point), when given, colour the points on ``stops`` between ``vmin`` and
    ``vmax`` instead. ``size`` is the marker's width in pixels; ``label`` names it in the legend
    (None: no legend entry).
    """

    points: np.ndarray
    marker: str = "dot"
    colour: str = "#1f77b4"
    size: float = 4.0
    opacity: float = 0.7
    label: str | None = None
    values: np.ndarray | None = None
    stops: Sequence[str] = field(default=VIRIDIS)
    vmin: float = 0.0
    vmax: float = 1.0


def _marker_path(marker: str, xs: np.ndarray, ys: np.ndarray, size: float) -> str:
    """Path data drawing ``marker`` at every (x, y), numbers only."""
    h = size / 2
    if marker == "dot":
        template = "M{x:.1f} {y:.1f}h0"
    elif marker == "x":
        template = f"M{{a:.1f}} {{b:.1f}}l{size:.1f} {size:.1f}m0 -{size:.1f}l-{size:.1f} {size:.1f}"
    elif marker == "+":
        template = f"M{{a:.1f}} {{y:.1f}}h{size:.1f}m-{h:.1f} -{h:.1f}v{size:.1f}"
    elif marker == "s":
        template = f"M{{a:.1f}} {{b:.1f}}h{size:.1f}v{size:.1f}h-{size:.1f}z"
    elif marker == "^":
        template = f"M{{x:.1f}} {{b:.1f}}l{h:.1f} {size:.1f}h-{size:.1f}z"
    else:
        raise ValueError(f"unknown marker {marker!r}; use dot, x, +, s or ^")
    return "".join(template.format(x=x, y=y, a=x - h, b=y - h) for x, y in zip(xs.tolist(), ys.tolist(), strict=True))


def _marker_style(marker: str, colour: str, size: float, opacity: float) -> str:
    if marker == "dot":
        return f'fill="none" stroke="{colour}" stroke-width="{size:.1f}" stroke-linecap="round" stroke-opacity="{opacity:g}"'
    if marker == "^":
        return f'fill="{colour}" fill-opacity="{opacity:g}" stroke="none"'
    return f'fill="none" stroke="{colour}" stroke-width="1.1" stroke-opacity="{opacity:g}"'


def _check_colour(colour: str) -> str:
    if len(colour) != 7 or colour[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in colour[1:]):
        raise ValueError(f"colour must be #rrggbb, got {colour!r}")
    return colour


def scatter(layers: Sequence[Layer], *, x_label: str, y_label: str, width: float = 600.0, height: float = 440.0,
            colourbar: tuple[str, Sequence[str], float, float] | None = None, legend: bool = True,
            title: str = "Scatter plot") -> Markup:
    """Points of every layer on shared axes (left and bottom spines, round ticks), first layer below.

    ``colourbar``: ``(label, stops, vmin, vmax)`` draws a colour bar right of the plot; ``legend``
    lists the labelled layers right of the plot.
    """
    shown = [layer for layer in layers if len(layer.points)]
    every = np.concatenate([layer.points for layer in shown]) if shown else np.zeros((0, 2))
    finite = every[np.isfinite(every).all(axis=1)]
    if len(finite):
        low, high = finite.min(axis=0), finite.max(axis=0)
    else:
        low, high = np.zeros(2), np.ones(2)
    pad = np.where(high > low, (high - low) * 0.05, 0.5)
    low, high = low - pad, high + pad
    x_ticks, y_ticks = nice_ticks(low[0], high[0], 8), nice_ticks(low[1], high[1], 8)
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    tick_width = max((_text_width(_tick_text(v, y_step), TICK_SIZE) for v in y_ticks), default=10.0)
    left, top = tick_width + 34.0, 8.0

    def to_x(values: np.ndarray) -> np.ndarray:
        return left + (values - low[0]) / (high[0] - low[0]) * width

    def to_y(values: np.ndarray) -> np.ndarray:
        return top + (high[1] - values) / (high[1] - low[1]) * height

    body = [f'<path d="M{left:.1f} {top:.1f}V{top + height:.1f}H{left + width:.1f}" fill="none" '
            f'stroke="{AXIS_COLOUR}" stroke-width="0.8"/>']
    for value in x_ticks:
        x = float(to_x(np.array(value)))
        body.append(f'<path d="M{x:.1f} {top + height:.1f}v4" stroke="{TICK_COLOUR}" stroke-width="0.8"/>')
        body.append(_text(x, top + height + 17, _tick_text(value, x_step), TICK_SIZE, anchor="middle", colour=TICK_COLOUR))
    for value in y_ticks:
        y = float(to_y(np.array(value)))
        body.append(f'<path d="M{left:.1f} {y:.1f}h-4" stroke="{TICK_COLOUR}" stroke-width="0.8"/>')
        body.append(_text(left - 6, y + 4, _tick_text(value, y_step), TICK_SIZE, anchor="end", colour=TICK_COLOUR))
    body.append(_text(left + width / 2, top + height + 36, x_label, LABEL_SIZE, anchor="middle"))
    body.append(_text(14, top + height / 2, y_label, LABEL_SIZE, anchor="middle", rotate=True))
    for layer in shown:
        points = layer.points[np.isfinite(layer.points).all(axis=1)]
        xs, ys = to_x(points[:, 0]), to_y(points[:, 1])
        if layer.values is None:
            groups = [(_check_colour(layer.colour), np.ones(len(points), dtype=bool))]
        else:
            # One path per colour band: 32 bands are indistinguishable from a continuous map.
            values = np.asarray(layer.values, dtype=np.float64)[np.isfinite(layer.points).all(axis=1)]
            span = layer.vmax - layer.vmin
            scaled = np.nan_to_num((values - layer.vmin) / (span if span > 0 else 1.0) * 32, nan=-1.0)
            band = np.clip(scaled, -1, 31).astype(np.int64)
            band[~np.isfinite(values)] = -1
            groups = [(colour_of(layer.vmin + (b + 0.5) / 32 * span, layer.stops, layer.vmin, layer.vmax)
                       if b >= 0 else BAD_COLOUR, band == b) for b in np.unique(band).tolist()]
        for colour, mask in groups:
            if mask.any():
                body.append(f'<path d="{_marker_path(layer.marker, xs[mask], ys[mask], layer.size)}" '
                            f"{_marker_style(layer.marker, colour, layer.size, layer.opacity)}/>")
    right = left + width + 12
    extent = right
    if colourbar is not None:
        label, stops, vmin, vmax = colourbar
        bar, bar_width = _colourbar(right, top, height, stops, vmin, vmax, short_text(label))
        body.extend(bar)
        extent = right + bar_width
    entries = [layer for layer in layers if layer.label is not None] if legend else []
    if entries:
        right = extent + (8 if colourbar is not None else 0)
        y = top + height / 2 - len(entries) * 10
        widest = 0.0
        for layer in entries:
            size = max(layer.size, 5.0) if layer.marker != "dot" else 6.0
            mark = _marker_path(layer.marker, np.array([right + 6.0]), np.array([y]), size)
            style = _marker_style(layer.marker, layer.colour if layer.values is None else VIRIDIS[3], size,
                                  max(layer.opacity, 0.9))
            body.append(f'<path d="{mark}" {style}/>')
            text = short_text(layer.label, 40)
            body.append(_text(right + 16, y + 4, text, SMALL_SIZE))
            widest = max(widest, _text_width(text, SMALL_SIZE))
            y += 20
        extent = max(extent, right + 16 + widest)
    return _svg(extent + 6, top + height + 46, body, title)
