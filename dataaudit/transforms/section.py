"""The transform stage's part of the report: cleaning, split, steps, checks and spectrum plots."""

from __future__ import annotations

from typing import Any

import numpy as np

from dataaudit.report.section import Section, render_fragment

__all__ = ["transform_section"]


def _spectrum_plot(spectrum: dict[str, Any]) -> Any:
    from dataaudit.report.plots import figure_to_svg, new_figure

    eigenvalues = np.asarray(spectrum["eigenvalues"], dtype=np.float64)
    fig, ax = new_figure(6.0, 3.0)
    index = np.arange(1, len(eigenvalues) + 1)
    kept = int(spectrum.get("n_components", len(eigenvalues)))
    positive = np.where(eigenvalues > 0, eigenvalues, np.nan)
    ax.semilogy(index[:kept], positive[:kept], "o-", ms=3, label="kept")
    if kept < len(eigenvalues):
        ax.semilogy(index[kept:], positive[kept:], "x", ms=4, color="grey", label="dropped")
    ax.set_xlabel("component")
    ax.set_ylabel("eigenvalue (train covariance)")
    ax.set_title("Eigenvalue spectrum")
    ax.legend(loc="upper right", fontsize=8)
    ax2 = ax.twinx()
    total = eigenvalues.sum()
    if total > 0:
        ax2.plot(index, np.cumsum(eigenvalues) / total, color="tab:orange", lw=1)
    ax2.set_ylabel("cumulative explained variance", color="tab:orange")
    ax2.set_ylim(0, 1.02)
    return figure_to_svg(fig)


def _val_plot(val: dict[str, Any], names: list[str]) -> Any:
    from dataaudit.report.plots import figure_to_svg, new_figure

    mean = np.asarray(val["per_feature_mean"])
    std = np.asarray(val["per_feature_std"])
    fig, ax = new_figure(6.0, 2.6)
    index = np.arange(len(mean))
    ax.plot(index, mean, ".", label="mean")
    ax.plot(index, std, ".", label="std")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axhline(1, color="grey", lw=0.5, ls="--")
    ax.set_xlabel(f"output feature (first {len(mean)} of {len(names)})")
    ax.set_title("Validation split after the transform")
    ax.legend(fontsize=8)
    return figure_to_svg(fig)


def transform_section(manifest: dict[str, Any], *, plots: bool = True) -> Section:
    """Build the report section of a fit-transform run from its manifest.

    Parameters
    ----------
    manifest : dict
        ``manifest.json`` as written by ``fit_transform`` (``TransformSummary.manifest``).
    plots : bool
        Include the eigenvalue-spectrum and validation-statistics plots (inline SVG).

    Returns
    -------
    Section
        id ``transform``; status "warning" when rows were quarantined or the whitened covariance
        is off the identity by more than 1e-2.
    """
    split = manifest["split"]
    cleaning = manifest["cleaning"]
    verification = manifest.get("verification") or {}
    deviation = verification.get("whitened_cov_max_abs_deviation")
    figures = []
    if plots and manifest.get("spectrum"):
        figures.append(_spectrum_plot(manifest["spectrum"]))
    if plots and verification.get("val"):
        figures.append(_val_plot(verification["val"], manifest["feature_names"]))
    unknown = {k: v for k, v in (manifest.get("unknown_categories") or {}).items() if v}
    html = render_fragment(
        "transform_section.html.j2",
        n_input=split["n_input"], sizes=split["sizes"], n_quarantined=split["n_quarantined"],
        seed=manifest.get("seed"), split_mode=split.get("mode"), by_reason=cleaning.get("by_reason", {}),
        reasons=cleaning.get("reasons", {}), n_relabelled=len(cleaning.get("relabelled", [])),
        steps=manifest.get("steps", []), dropped=manifest.get("dropped_columns", {}),
        deviation=deviation, n_dropped=verification.get("n_dropped_directions"),
        std_deviation=verification.get("train_std_max_abs_deviation"), val=verification.get("val"),
        unknown=unknown, plots=figures,
    )
    sizes = split["sizes"]
    summary = (f"train {sizes['train']:,} / val {sizes['val']:,} / test {sizes['test']:,}, "
               f"{split['n_quarantined']:,} quarantined, {len(manifest['feature_names'])} features")
    status = "warning" if split["n_quarantined"] or (deviation is not None and deviation > 1e-2) else "ok"
    return Section(id="transform", title="Transform", html=html, summary=summary, status=status)
