"""Train on an artifacts folder end to end: recipe checks, fit, evaluation, saved outputs.

``train_artifacts`` writes into ``ARTIFACTS/training/`` (or ``out``):

- ``model.npz`` — the best weights (``allow_pickle=False`` loadable) and ``model.json`` — the
  config, format version, label, classes and parameter shapes (``load_trained_model`` reads both);
- ``history.json`` — one row per evaluation (the numbers of the log lines);
- ``training.json`` — the recipe checks, the metrics (incl. ``test_accuracy``), the train/val
  gap diagnosis;
- ``report.html`` — a standalone page with the training section.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.exceptions import ArtifactError
from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import FitResult, TrainData, evaluate, fit

if TYPE_CHECKING:
    from dataaudit.report.section import Section

__all__ = [
    "TrainingReport",
    "train_artifacts",
    "train_loaded",
    "train_data",
    "save_training",
    "render_training_page",
    "load_trained_model",
    "MODEL_FORMAT_VERSION",
    "TRAINING_FORMAT_VERSION",
]

MODEL_FORMAT_VERSION = 1
# training.json: version 2 gave the recipe checks findings.json's status vocabulary (passed, flagged,
# skipped, errored, with a severity when flagged) instead of version 1's pass / warn / fail.
TRAINING_FORMAT_VERSION = 2


@dataclass
class TrainingReport:
    """Everything one training run produced; ``to_dict()`` is what training.json holds."""

    config: TrainConfig
    data: dict[str, Any]  # split sizes, task, classes, label, source
    checks: list[dict[str, Any]]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]  # {train,val,test}_{loss,accuracy|rmse|r2}, best_step, steps, seconds ...
    diagnosis: str  # "fine", "underfitting", "overfitting" or "unknown"
    fit: FitResult | None = field(default=None, repr=False)
    out: Path | None = None
    files: dict[str, str] = field(default_factory=dict)
    html_note: str = ""  # how report.html was made

    @property
    def status(self) -> str:
        """``flagged`` if any recipe check flagged, else ``errored`` if one crashed, else ``passed``."""
        statuses = {c["status"] for c in self.checks}
        return "flagged" if "flagged" in statuses else "errored" if "errored" in statuses else "passed"

    @property
    def severity(self) -> str | None:
        """The worst severity among flagged recipe checks (``error``, ``warning``, ``info``), else None."""
        severities = {c.get("severity") for c in self.checks if c["status"] == "flagged"}
        for severity in ("error", "warning", "info"):
            if severity in severities:
                return severity
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without history and weights, which have their own files)."""
        from dataaudit import __version__

        return {
            "format_version": TRAINING_FORMAT_VERSION,
            "dataaudit_version": __version__,
            "config": self.config.to_dict(),
            "data": self.data,
            "status": self.status,
            "severity": self.severity,
            "checks": self.checks,
            "metrics": self.metrics,
            "diagnosis": self.diagnosis,
            "files": self.files,
        }


def train_data(artifacts: str | Path) -> TrainData:
    """``TrainData.from_artifacts`` (re-exported for symmetry with ``train_artifacts``)."""
    return TrainData.from_artifacts(artifacts)


def train_artifacts(
    artifacts: str | Path,
    config: TrainConfig,
    out: str | Path | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    *,
    run_checks: bool = True,
    write_html: bool = True,
) -> TrainingReport:
    """Run the recipe checks, fit, evaluate on val and test, and save everything.

    Parameters
    ----------
    artifacts : str or Path
        Folder written by ``dataaudit fit-transform``.
    config : TrainConfig
    out : str or Path, optional
        Output folder (default ``ARTIFACTS/training``).
    on_log : callable, optional
        Receives each history row as it is measured.
    run_checks : bool, default True
        Run the recipe's sanity checks (before and after training).
    write_html : bool, default True
        Write ``report.html``.

    Returns
    -------
    TrainingReport

    Raises
    ------
    ArtifactError
        If the folder is missing, foreign or of an unknown format version.
    ConfigError
        On an invalid configuration (e.g. the torch backend without torch installed).

    Examples
    --------
    >>> report = train_artifacts("artifacts/", TrainConfig(max_epochs=20))  # doctest: +SKIP
    >>> report.metrics["test_accuracy"]  # doctest: +SKIP
    0.97
    """
    artifacts = Path(artifacts)
    out_dir = Path(out) if out is not None else artifacts / "training"
    return train_loaded(TrainData.from_artifacts(artifacts), config, out_dir, on_log=on_log,
                        run_checks=run_checks, write_html=write_html)


def train_loaded(
    data: TrainData,
    config: TrainConfig,
    out: str | Path,
    *,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    run_checks: bool = True,
    write_html: bool = True,
) -> TrainingReport:
    """``train_artifacts`` on arrays already loaded (and verified) from an artifact folder."""
    from dataaudit.training.checks import (
        check_train_val_gap,
        checks_after_training,
        checks_before_training,
    )

    out_dir = Path(out)
    checks = checks_before_training(config, data) if run_checks else []
    result = fit(config, data, on_log=on_log)
    if run_checks:
        checks += checks_after_training(config, data, result)
        gap = next(c for c in checks if c["name"] == "train_val_gap")
    else:
        gap = check_train_val_gap(data, result)
    gap_value = gap.get("value")
    diagnosis = gap_value.get("diagnosis", "unknown") if isinstance(gap_value, dict) else "unknown"
    metrics = _metrics(result, data)
    metrics["diagnosis"] = diagnosis
    report = TrainingReport(
        config=config,
        data=_data_summary(data),
        checks=checks,
        history=result.history,
        metrics=metrics,
        diagnosis=diagnosis,
        fit=result,
    )
    save_training(report, out_dir, write_html=write_html)
    return report


def _metrics(result: FitResult, data: TrainData) -> dict[str, Any]:
    model, task = result.model, data.task
    metrics: dict[str, Any] = {
        "best_step": result.best_step,
        "best_val_loss": result.best_val_loss,
        "steps": result.steps,
        "epochs": result.history[-1]["epoch"] if result.history else 0,
        "stopped": result.stopped,
        "seconds": result.seconds,
        "ms_per_step": float(np.median([r["ms_per_step"] for r in result.history])) if result.history else None,
    }
    splits = [("train", data.X_train, data.y_train), ("val", data.X_val, data.y_val)]
    if data.X_test is not None and data.y_test is not None:
        splits.append(("test", data.X_test, data.y_test))
    for split, X, y in splits:
        for key, value in evaluate(model, X, y, task).items():
            metrics[f"{split}_{key}"] = value
    if "train_accuracy" in metrics:
        metrics["gap_accuracy"] = metrics["train_accuracy"] - metrics["val_accuracy"]
    metrics["gap_loss"] = metrics["val_loss"] - metrics["train_loss"]
    return metrics


def _data_summary(data: TrainData) -> dict[str, Any]:
    return {
        "source": data.source,
        "task": data.task,
        "label": data.label_name,
        "classes": data.classes,
        "n_classes": data.n_classes if data.task == "classification" else None,
        "n_features": data.n_features,
        "n_train": len(data.y_train),
        "n_val": len(data.y_val),
        "n_test": len(data.y_test) if data.y_test is not None else 0,
    }


def save_training(report: TrainingReport, out: str | Path, *, write_html: bool = True) -> dict[str, str]:
    """Write model.npz, model.json, history.json, training.json (and report.html) into ``out``.

    The files are recorded in ``out/.dataaudit.json``; ``out`` must be new, empty or written by
    dataaudit (``dataaudit train`` writes the whole folder as one set, see io.output_set).
    """
    from dataaudit.io.output_set import output_folder

    with output_folder(out, "train", atomic=False) as folder:
        return _write_training(report, folder, Path(out), write_html=write_html)


def _write_training(report: TrainingReport, out: Path, shown: Path, *, write_html: bool) -> dict[str, str]:
    from dataaudit.io.outputs import atomic_savez, atomic_write_json, atomic_write_text

    files: dict[str, str] = {}
    if report.fit is not None:
        params = {k: np.asarray(v) for k, v in report.fit.params.items()}
        atomic_savez(out / "model.npz", **params)
        files["model"] = "model.npz"
        atomic_write_json(out / "model.json", {
            "format_version": MODEL_FORMAT_VERSION,
            "kind": "dataaudit.mlp",
            "config": report.config.to_dict(),
            "task": report.data["task"],
            "label": report.data["label"],
            "classes": report.data["classes"],
            "n_inputs": report.data["n_features"],
            "n_outputs": report.data["n_classes"] if report.data["task"] == "classification" else 1,
            "shapes": {k: list(v.shape) for k, v in params.items()},
            "weights": "model.npz",
        })
        files["model_config"] = "model.json"
    atomic_write_json(out / "history.json", report.history)
    files["history"] = "history.json"
    if write_html:
        html, note = _standalone_html(report)
        atomic_write_text(out / "report.html", html)
        files["report"] = "report.html"
        report.html_note = note
    files["training"] = "training.json"
    report.files = files
    report.out = shown
    atomic_write_json(out / "training.json", report.to_dict())
    return files


def _standalone_html(report: TrainingReport) -> tuple[str, str]:
    return render_training_page(report), "rendered with dataaudit.report.render"


def render_training_page(report: TrainingReport, extra_sections: Sequence[Section] = ()) -> str:
    """The standalone report page: the training section, then ``extra_sections`` (search, ensembles)."""
    from dataaudit.report.render import render_report
    from dataaudit.training.section import training_section

    title = f"Training — {report.data.get('label') or Path(str(report.data.get('source'))).name}"
    return render_report(None, sections=[training_section(report), *extra_sections], title=title)


def load_trained_model(folder: str | Path) -> Any:
    """Rebuild the saved MLP (NumPy backend) from ``model.json`` + ``model.npz`` in ``folder``.

    Raises
    ------
    ArtifactError
        If the files are missing, of another format version, or the weights do not fit.
    """
    from dataaudit.exceptions import DataAuditError
    from dataaudit.training.mlp_numpy import NumpyMLP

    folder = Path(folder)
    meta_file, weights_file = folder / "model.json", folder / "model.npz"
    if not meta_file.is_file() or not weights_file.is_file():
        raise ArtifactError(f"{folder} lacks model.json/model.npz; train a model with `dataaudit train` first.")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{meta_file} is not readable JSON ({exc}).") from exc
    if meta.get("kind") != "dataaudit.mlp" or meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise ArtifactError(
            f"{meta_file} is not a dataaudit MLP of format version {MODEL_FORMAT_VERSION} "
            f"(kind={meta.get('kind')!r}, format_version={meta.get('format_version')!r})."
        )
    try:
        config = TrainConfig.from_dict(meta["config"])
        model = NumpyMLP(
            meta["n_inputs"], meta["n_outputs"], hidden=config.hidden, activation=config.activation,
            dropout=config.dropout, batch_norm=config.batch_norm, task=meta["task"], dtype=config.dtype,
        )
        with np.load(weights_file, allow_pickle=False) as npz:
            model.set_params({k: npz[k] for k in npz.files})
    except (DataAuditError, KeyError, ValueError, OSError) as exc:
        raise ArtifactError(f"Cannot load the model in {folder}: {exc}") from exc
    return model
