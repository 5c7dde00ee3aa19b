"""The report's hand-written SVG: escaped text, colours from fixed maps, well-formed, deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from dataaudit.report import svg

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script>"&\''


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_colour_maps_end_points_and_missing() -> None:
    assert svg.colour_of(-1.0, svg.RDBU_R, -1, 1) == "#053061"
    assert svg.colour_of(1.0, svg.RDBU_R, -1, 1) == "#67001f"
    assert svg.colour_of(0.0, svg.RDBU_R, -1, 1) == "#f7f7f7"
    assert svg.colour_of(5.0, svg.RDBU_R, -1, 1) == "#67001f"  # clipped
    assert svg.colour_of(float("nan"), svg.RDBU_R) == svg.BAD_COLOUR
    assert svg.colour_of(0.5, ("#000000", "#ffffff")) == "#808080"


@pytest.mark.parametrize(("low", "high", "expected"), [(-4.3, 4.1, [-4, -2, 0, 2, 4]), (0.0, 1.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
                                                       (-1.0, 1.0, [-1.0, -0.5, 0.0, 0.5, 1.0])])
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    assert svg.nice_ticks(low, high, 5) == pytest.approx(expected)


def test_heatmap_cells_labels_and_escaping() -> None:
    matrix = np.array([[1.0, -0.5, np.nan], [-0.5, 1.0, 0.2], [np.nan, 0.2, 1.0]])
    labels = ["a", HOSTILE, "c" * 60]
    markup = str(svg.heatmap(matrix, labels))
    root = parse(markup)  # well-formed XML: every data string escaped
    assert "<script" not in markup and "&lt;script&gt;" in markup
    cells = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(cells) == 9
    fills = [c.get("fill") for c in cells]
    assert fills[0] == "#67001f" and fills[2] == svg.BAD_COLOUR
    assert "not judged" in cells[2].find(f"{NS}title").text
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert ("c" * 27 + "…") in texts  # long names are shortened
    assert "Pearson r" in texts
    assert svg.heatmap(matrix, labels) == svg.heatmap(matrix, labels)


@pytest.mark.parametrize("marker", ["dot", "x", "+", "s", "^"])
def test_scatter_layers_markers_and_legend(marker: str) -> None:
    rng = np.random.default_rng(0)
    layers = [svg.Layer(rng.standard_normal((50, 2)), colour="#1f77b4", label=HOSTILE),
              svg.Layer(rng.standard_normal((5, 2)), marker=marker, colour="#111111", size=7, label="flagged (5)")]
    markup = str(svg.scatter(layers, x_label="PC 1 (3% of variance)", y_label="PC <2>"))
    root = parse(markup)
    assert "<script" not in markup
    paths = [p for p in root.iter(f"{NS}path") if p.get("stroke") in ("#1f77b4", "#111111") or p.get("fill") == "#111111"]
    assert len(paths) >= 4  # two layers + two legend marks
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "PC <2>" in texts and "flagged (5)" in texts and svg.short_text(HOSTILE, 40) in texts
    # Every number is finite: no "nan" or "inf" leaks into the path data.
    assert "nan" not in markup and "inf" not in markup


def test_scatter_colour_values_and_bar() -> None:
    points = np.column_stack([np.arange(10.0), np.arange(10.0)])
    values = np.arange(10.0)
    values[3] = np.nan
    layer = svg.Layer(points, values=values, vmin=0.0, vmax=9.0)
    root = parse(svg.scatter([layer], x_label="x", y_label="y", colourbar=("target", svg.VIRIDIS, 0.0, 9.0)))
    strokes = {p.get("stroke") for p in root.iter(f"{NS}path") if p.get("stroke-linecap") == "round"}
    assert svg.BAD_COLOUR in strokes and len(strokes) >= 5
    assert "target" in [t.text for t in root.iter(f"{NS}text")]


def test_colour_must_be_hex() -> None:
    with pytest.raises(ValueError):
        svg.scatter([svg.Layer(np.zeros((1, 2)), colour='red" onload="x')], x_label="x", y_label="y")
    with pytest.raises(ValueError):
        svg.scatter([svg.Layer(np.zeros((1, 2)), marker="star")], x_label="x", y_label="y")


def test_nothing_outside_the_element() -> None:
    rng = np.random.default_rng(1)
    markup = str(svg.scatter([svg.Layer(rng.standard_normal((20, 2)), label="a")], x_label="x", y_label="y"))
    markup += str(svg.heatmap(np.eye(3), ["a", "b", "c"]))
    for reference in ("href", "url(", "http://www.example", "<image", "<use", "id="):
        assert reference not in markup


def test_a_small_heatmap_gets_larger_cells() -> None:
    def cell_width(n: int) -> float:
        root = parse(svg.heatmap(np.eye(n), [f"c{i}" for i in range(n)]))
        cells = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
        return float(cells[0].get("width"))

    assert cell_width(3) == 40.0 and cell_width(30) == 20.0
