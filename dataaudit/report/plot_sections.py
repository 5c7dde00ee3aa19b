"""Audit sections that are plots: the correlation heatmap and the rows on a 2-D map.

Both draw from the audit's own computations: the correlations check's matrix and the dataset's
feature matrix through the package's PCA. Both are hand-written SVG (``dataaudit.report.svg``),
so rendering an audit report never imports matplotlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.report import svg
from dataaudit.report.plots import PALETTE
from dataaudit.report.section import Section, render_fragment
from dataaudit.report.view import (
    HEATMAP_COLUMNS,
    MAP_MARKERS,
    OTHER_MARKER,
    PCA_POINTS,
    ReportContext,
    status_of,
    title_of,
)

# Flagged rows of one kind marked on the map at most (the worst first, as the findings list them).
MAP_FLAGGED = 1000
# Up to this many columns the heatmap and the pairs table sit side by side.
SIDE_BY_SIDE_COLUMNS = 15
# The map markers of ``view.MAP_MARKERS`` (matplotlib's names) as ``svg.Layer`` markers.
_SVG_MARKERS = {"x": "x", "+": "+", "s": "s", "^": "^", "o": "dot"}


def correlations_section(ctx: ReportContext) -> Section | None:
    """The correlations check's own matrix as a heatmap, with its strongest pairs (nothing recomputed)."""
    found = ctx.in_section("correlations")
    computed = ctx.correlations
    notes = [{"severity": f.severity, "message": f.message} for f in found]
    if computed is None or len(computed.columns) < 2:
        if not found:
            return None
        html = render_fragment("audit_correlations.html.j2", svg=None, pairs=[], n_columns=0, shown=0,
                               findings=notes, wide=False, n_rows_used=0, sampled=False, any_unjudged=False,
                               show_rows=False)
        return Section(id="correlations", title="Correlations", html=html, status=status_of(found))
    names = computed.columns
    matrix = computed.r
    n = len(names)
    off = np.nan_to_num(np.abs(matrix - np.diag(np.diag(matrix))), nan=0.0)
    keep = np.arange(n)
    if n > HEATMAP_COLUMNS:
        keep = np.sort(np.argsort(-off.max(axis=1), kind="stable")[:HEATMAP_COLUMNS])
    sub = np.ma.masked_invalid(matrix[np.ix_(keep, keep)])
    drawn = svg.heatmap(np.ma.filled(sub.astype(np.float64), np.nan), [names[i] for i in keep],
                        colour_label="Pearson r", title="Pearson correlation of the numeric columns")
    strongest = computed.strongest_pairs(12)
    pairs = [{"a": p.a, "b": p.b, "r": p.r, "n_rows": p.n_rows} for p in strongest]
    html = render_fragment("audit_correlations.html.j2", svg=drawn, pairs=pairs, n_columns=n, shown=len(keep),
                           findings=notes, wide=len(keep) > SIDE_BY_SIDE_COLUMNS,
                           n_rows_used=computed.n_rows_used, sampled=computed.sampled,
                           any_unjudged=bool(np.ma.count_masked(sub)),
                           show_rows=any(p.n_rows < computed.n_rows_used for p in strongest))
    return Section(id="correlations", title="Correlations", html=html,
                   summary=f"strongest |r| = {abs(strongest[0].r):.3f}" if strongest else "",
                   status=status_of(found))


def _pca_2d(features: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows on the top two principal components (the package's own PCA) and their variance shares."""
    from dataaudit.transforms.whitening import PCATransformer

    pca = PCATransformer(n_components=2).fit(features.astype(np.float64))
    if pca.n_components_ < 2:
        return None  # fewer than two non-degenerate directions: nothing to draw
    return pca.transform(features.astype(np.float64)), pca.explained_variance_ratio_


def row_map_section(ctx: ReportContext) -> Section | None:
    dataset = ctx.dataset
    if dataset is None or dataset.n_rows < 3:
        return None
    # Flagged rows differ from the class dots by shape, not colour: one marker per report section
    # of the row-level findings, named by the first finding's title.
    flagged: dict[str, set[int]] = {}
    totals: dict[str, set[int]] = {}
    markers: dict[str, tuple[str, str]] = {}
    for finding in ctx.result.findings:
        if not finding.row_level or not finding.rows or finding.section == "train-test":
            continue
        name = _map_name(ctx, finding.section) if finding.section in MAP_MARKERS else title_of(finding).lower()
        markers.setdefault(name, MAP_MARKERS.get(finding.section, OTHER_MARKER))
        flagged.setdefault(name, set()).update(finding.rows[:MAP_FLAGGED])
        totals.setdefault(name, set()).update(finding.rows)
    rng = np.random.default_rng(ctx.seed)
    n = dataset.n_rows
    chosen = set(rng.choice(n, size=min(n, PCA_POINTS), replace=False).tolist())
    for flagged_rows in flagged.values():
        chosen.update(r for r in flagged_rows if 0 <= r < n)
    rows = np.array(sorted(chosen))
    # The features every distance- and model-based check uses (computed once per dataset).
    features = dataset.feature_matrix[0][rows]
    if features.shape[1] < 2:
        return None
    projected = _pca_2d(features)
    if projected is None:
        return None
    points, explained = projected
    label = dataset.label
    layers: list[svg.Layer] = []
    colourbar = None
    if label is not None and dataset.task == "classification":
        codes = dataset.label_codes[0][rows]
        classes = dataset.classes
        if len(classes) <= len(PALETTE):
            for k, name in enumerate(classes):
                layers.append(svg.Layer(points[codes == k], colour=PALETTE[k], size=4.0, opacity=0.7,
                                        label=svg.short_text(name, 20)))
        else:
            layers.append(svg.Layer(points, size=3.2, opacity=0.55, values=codes.astype(np.float64),
                                    vmin=0.0, vmax=float(max(len(classes) - 1, 1))))
    elif label is not None:
        target = pd.to_numeric(dataset.frame[label].iloc[rows], errors="coerce").to_numpy(dtype=np.float64)
        finite = target[np.isfinite(target)]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        layers.append(svg.Layer(points, size=3.2, opacity=0.6, values=target, vmin=low, vmax=high))
        colourbar = (str(label), svg.VIRIDIS, low, high)
    else:
        layers.append(svg.Layer(points, colour=PALETTE[0], size=3.2, opacity=0.5, label="row"))
    position = {int(r): i for i, r in enumerate(rows)}
    n_flagged = 0
    for name, flagged_rows in flagged.items():
        index = [position[r] for r in sorted(flagged_rows) if r in position]
        if not index:
            continue
        n_flagged += len(index)
        marker, colour = markers[name]
        total = len(totals[name])
        count = f"{len(index):,}" if len(index) == total else f"{len(index):,} of {total:,}"
        # Hundreds of markers would hide the class colours underneath: they shrink as they multiply.
        size = 8.0 if len(index) <= 100 else max(4.5, 8.0 * (100 / len(index)) ** 0.25)
        layers.append(svg.Layer(points[index], marker=_SVG_MARKERS[marker], colour=colour, size=size, opacity=0.9,
                                label=f"{name} ({count})"))
    drawn = svg.scatter(layers, x_label=f"PC 1 ({explained[0]:.0%} of variance)",
                        y_label=f"PC 2 ({explained[1]:.0%} of variance)", colourbar=colourbar,
                        title="Rows on the first two principal components")
    html = render_fragment("audit_map.html.j2", svg=drawn, n_points=len(rows), n_rows=n, n_flagged=n_flagged,
                           n_features=features.shape[1],
                           has_labels=bool(ctx.in_section("labels", row_level=True)))
    return Section(id="map", title="Rows in 2-D (PCA)", html=html,
                   summary=f"{len(rows)} of {n} rows projected", status="ok")


def _map_name(ctx: ReportContext, section: str) -> str:
    """Legend name of a map marker: the section's own findings' title when they share one."""
    titles = {title_of(f).lower() for f in ctx.in_section(section, row_level=True)}
    return titles.pop() if len(titles) == 1 else {"labels": "suspect label", "duplicates": "duplicate",
                                                  "outliers": "outlier"}.get(section, section)
