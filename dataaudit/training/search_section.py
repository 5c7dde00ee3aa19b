"""The report section for the hyperparameter search and the ensemble comparison."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from dataaudit.exceptions import ConfigError
from dataaudit.report.section import Section, render_fragment

if TYPE_CHECKING:
    from dataaudit.training.ensemble import EnsembleReport
    from dataaudit.training.search import SearchResult

__all__ = ["search_section", "lr_loss_plot"]

_RANGE_NAMES = ("lr", "weight_decay", "width", "dropout")
_LOG_NAMES = ("lr", "weight_decay")


def lr_loss_plot(result: SearchResult) -> Markup | None:
    """Scatter of learning rate (log x) against validation loss, coloured by round.

    Returns ``None`` when fewer than two trials finished with a finite loss.
    """
    from dataaudit.report.plots import figure_to_svg, new_figure

    finished = [t for t in result.trials if t.error is None and math.isfinite(t.val_loss)]
    if len(finished) < 2:
        return None
    fig, ax = new_figure(5.5, 3.2)
    colours = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")
    for round_index in range(result.rounds):
        points = [t for t in finished if t.round == round_index]
        if points:
            ax.scatter(
                [t.config.lr for t in points],
                [t.val_loss for t in points],
                s=22,
                color=colours[round_index % len(colours)],
                label=f"round {round_index}",
            )
    best = result.best
    ax.scatter(
        [best.config.lr],
        [best.val_loss],
        s=110,
        facecolors="none",
        edgecolors="black",
        label="best",
    )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return figure_to_svg(fig)


def _search_context(result: SearchResult) -> dict[str, Any]:
    trials = []
    for t in result.ranked():
        trials.append(
            {
                "index": t.index,
                "round": t.round,
                "lr": t.config.lr,
                "weight_decay": t.config.weight_decay,
                "width": ",".join(str(w) for w in t.config.hidden) or "linear",
                "dropout": t.config.dropout,
                "val_loss": t.val_loss if math.isfinite(t.val_loss) else None,
                "val_accuracy": t.val_accuracy,
                "best_step": t.best_step,
                "seconds": t.seconds,
                "error": t.error,
            }
        )
    ranges = [space.ranges() for space in result.spaces]
    return {
        "n_trials": len(result.trials),
        "rounds": result.rounds,
        "runner": result.runner,
        "seconds": result.seconds,
        "best_index": result.best.index,
        "best_loss": result.best.val_loss,
        "best_accuracy": result.best.val_accuracy,
        "n_failed": sum(
            1 for t in result.trials if t.error is not None or not math.isfinite(t.val_loss)
        ),
        "range_names": [name for name in _RANGE_NAMES if any(name in r for r in ranges)],
        "log_names": list(_LOG_NAMES),
        "ranges": ranges,
        "trials": trials,
        "plot": lr_loss_plot(result),
    }


def _ensemble_context(report: EnsembleReport) -> dict[str, Any]:
    return {
        "rows": [
            {
                "kind": row.kind,
                "n_members": row.n_members,
                "val_loss": row.val_loss if math.isfinite(row.val_loss) else None,
                "val_accuracy": row.val_accuracy,
                "description": row.description,
            }
            for row in report.rows
        ],
        "chosen": report.chosen,
        "skipped": dict(report.skipped),
        "test": report.test,
    }


def search_section(
    search_result: SearchResult | None, ensemble_report: EnsembleReport | None = None
) -> Section:
    """The "Hyperparameter search and ensembles" section of the report.

    Parameters
    ----------
    search_result : SearchResult or None
        Shown as the sampled ranges per round, an lr-vs-validation-loss scatter (log x) and the
        trials table sorted best first.
    ensemble_report : EnsembleReport, optional
        Shown as the comparison table (validation split), the chosen kind and its test numbers.

    Returns
    -------
    Section
        ``status`` is "warning" when some trials failed, "ok" otherwise.

    Raises
    ------
    ConfigError
        If both arguments are ``None`` (there is nothing to show).
    """
    if search_result is None and ensemble_report is None:
        raise ConfigError("search_section needs a search result, an ensemble report, or both.")
    search = _search_context(search_result) if search_result is not None else None
    ensembles = _ensemble_context(ensemble_report) if ensemble_report is not None else None
    html = render_fragment("search_section.html.j2", search=search, ensembles=ensembles)
    parts = []
    status = "ok"
    if search is not None:
        parts.append(
            f"{search['n_trials']} trials in {search['rounds']} rounds; best val loss"
            f" {search['best_loss']:.4g}"
        )
        if search["n_failed"]:
            status = "warning"
            parts.append(f"{search['n_failed']} failed")
    if ensemble_report is not None:
        chosen = ensemble_report.row(ensemble_report.chosen)
        text = f"final: {chosen.kind} (val loss {chosen.val_loss:.4g}"
        test = ensemble_report.test
        if test is not None:
            metric = test.get("accuracy")
            text += f", test {'acc' if metric is not None else 'loss'} "
            text += f"{(metric if metric is not None else test['loss']):.4g}"
        parts.append(text + ")")
    title = "Hyperparameter search and ensembles" if search is not None else "Ensembles"
    return Section(id="search", title=title, html=html, summary="; ".join(parts), status=status)
