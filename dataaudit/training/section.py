"""The "Training" report section: metrics, loss/accuracy curves, the recipe checks table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from dataaudit.report.section import Section, render_fragment

if TYPE_CHECKING:
    from dataaudit.training.api import TrainingReport

__all__ = ["training_section", "curves_plot"]

_STOPPED = {
    "max_epochs": "ran all epochs",
    "early_stopping": "early stopping on the validation loss",
    "diverged": "the loss diverged",
}
MAX_LOG_LINES = 60  # the log shown in the report; history.json has every row
VALUE_CHARS = 160


def curves_plot(
    history: list[dict[str, Any]], keys: tuple[str, str], ylabel: str, baseline: float | None = None,
    *, log_y: bool = False,
) -> Markup | None:
    """Train and validation curves of ``keys`` against the step, as inline SVG."""
    from dataaudit.report.plots import PALETTE, figure_to_svg, new_figure

    rows = [r for r in history if keys[0] in r and keys[1] in r]
    if not rows:
        return None
    steps = [r["step"] for r in rows]
    fig, ax = new_figure(4.6, 2.8)
    for key, name, colour in ((keys[0], "train", PALETTE[0]), (keys[1], "val", PALETTE[1])):
        values = [r[key] if r[key] is not None and math.isfinite(r[key]) else math.nan for r in rows]
        ax.plot(steps, values, marker="o" if len(rows) < 30 else None, markersize=3, color=colour, label=name)
    if baseline is not None and math.isfinite(baseline):
        ax.axhline(baseline, color="#888888", linestyle="--", linewidth=1, label="priors")
    if log_y:
        positive = [r[k] for r in rows for k in keys if r[k] is not None and r[k] > 0]
        if positive:
            ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return figure_to_svg(fig)


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        parts = [f"{k}: {_text(v)}" for k, v in value.items() if not isinstance(v, dict)]
        text = ", ".join(parts)
    elif isinstance(value, list):
        text = ", ".join(_text(v) for v in value)
    else:
        text = str(value) if not isinstance(value, str) else value
    if len(text) > VALUE_CHARS:
        text = text[: VALUE_CHARS - 1] + "…"
    return text


def training_section(report: TrainingReport) -> Section:
    """The training section of the report (id ``training``).

    Parameters
    ----------
    report : TrainingReport
        From ``train_artifacts``.

    Returns
    -------
    Section
        ``status`` is "error" if a recipe check failed, "warning" if one warned, else "ok".
    """
    from dataaudit.training.loop import format_log_line

    metrics, data, config = report.metrics, report.data, report.config
    classification = data["task"] == "classification"
    gap = next((c for c in report.checks if c["name"] == "train_val_gap"), None)
    gap_value = gap.get("value") if gap else None
    baseline = gap_value.get("prior_loss") if isinstance(gap_value, dict) else None
    loss_plot = curves_plot(report.history, ("train_loss", "val_loss"), "loss", baseline, log_y=True)
    metric_keys_pair = ("train_acc", "val_acc") if classification else ("train_r2", "val_r2")
    metric_name = "accuracy" if classification else "R²"
    metric_plot = curves_plot(report.history, metric_keys_pair, metric_name)

    keys = ["loss", "accuracy"] if classification else ["loss", "rmse", "r2"]
    metric_rows = []
    for split in ("train", "val", "test"):
        if f"{split}_loss" in metrics:
            metric_rows.append({"split": split, "values": [metrics.get(f"{split}_{k}") for k in keys]})

    diagnosis = {
        "word": report.diagnosis,
        "reason": gap["reason"] if gap else "The train/val gap check was not run.",
        "status": gap["status"] if gap else "skipped",
    }
    checks = [
        {
            **c,
            "css": c["status"],
            "value_text": _text(c.get("value")),
            "expected_text": _text(c.get("expected")),
        }
        for c in report.checks
    ]
    headline_key = "test_accuracy" if classification and "test_accuracy" in metrics else (
        "test_loss" if "test_loss" in metrics else "val_loss")
    n_fail = sum(c.get("severity") == "error" for c in report.checks)
    n_warn = sum(c.get("severity") == "warning" or c["status"] == "errored" for c in report.checks)
    n_pass = sum(c["status"] == "passed" for c in report.checks)
    cards = [
        {"value": _fmt(metrics.get(headline_key)), "label": headline_key.replace("_", " "), "status": None},
        {"value": _fmt(metrics.get("val_accuracy" if classification else "val_loss")),
         "label": "val accuracy" if classification else "val loss", "status": None},
        {"value": f"{n_pass}/{len(report.checks)}", "label": "checks passed",
         "status": "error" if n_fail else "warning" if n_warn else None},
        {"value": report.diagnosis, "label": "train/val gap", "status": None if diagnosis["status"] == "passed" or (gap or {}).get("severity") == "info"
                                                                          else "warning"},
    ]
    hidden = " → ".join(str(h) for h in config.hidden) or "none"
    model_text = (
        f"MLP {data['n_features']} → {hidden} → {data['n_classes'] if classification else 1}, {config.activation}"
        + (f", dropout {config.dropout:g}" if config.dropout else "")
        + (", batch norm" if config.batch_norm else "")
        + f", {config.backend} backend, {config.dtype}"
    )
    optimizer_text = f"{config.optimizer} lr {config.lr:g}, {config.schedule} schedule, batch {config.batch_size}"
    if config.weight_decay:
        optimizer_text += f", weight decay {config.weight_decay:g}"
    lines = [format_log_line(r) for r in report.history]
    if len(lines) > MAX_LOG_LINES:
        half = MAX_LOG_LINES // 2
        lines = [*lines[:half], f"… {len(lines) - MAX_LOG_LINES} more rows in history.json …", *lines[-half:]]
    html = render_fragment(
        "training_section.html.j2",
        cards=cards,
        diagnosis=diagnosis,
        data=data,
        metrics=metrics,
        model_text=model_text,
        optimizer_text=optimizer_text,
        stopped_text=_STOPPED.get(str(metrics.get("stopped")), str(metrics.get("stopped"))),
        loss_plot=loss_plot,
        metric_plot=metric_plot,
        metric_name=metric_name,
        metric_keys=keys,
        metric_rows=metric_rows,
        checks=checks,
        history_rows=lines,
    )
    summary = f"{headline_key.replace('_', ' ')} {_fmt(metrics.get(headline_key))}; {n_pass}/{len(report.checks)} checks pass; {report.diagnosis}"
    return Section(id="training", title="Training", html=html, summary=summary, status="error" if n_fail else "warning" if n_warn else "ok")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)

