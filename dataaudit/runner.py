"""Run every stage from one pipeline file: inspect → fit-transform → train → one report."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataaudit.config import PipelineConfig
from dataaudit.io.outputs import atomic_write_json, atomic_write_text
from dataaudit.progress import NO_PROGRESS, Prefixed, Progress

__all__ = ["RunResult", "run_pipeline", "NO_CLEANING"]

# The transform options that turn the audit's cleaning off (for the with/without comparison).
NO_CLEANING = {"drop_exact_duplicates": False, "quarantine_conflicting": False, "suspects": "keep"}


@dataclass
class RunResult:
    """What one pipeline run produced (paths are inside ``out``)."""

    out: Path
    report: Path
    summary: dict[str, Any]
    audit: Any = field(repr=False, default=None)
    transform: Any = field(repr=False, default=None)
    training: Any = field(repr=False, default=None)
    exit_code: int = 0  # 1 when [inspect] fail_on stopped the run after inspect


def _log_nothing(message: str) -> None:
    return None


def run_pipeline(
    config: PipelineConfig,
    *,
    log: Callable[[str], None] = _log_nothing,
    on_train_log: Callable[[dict[str, Any]], None] | None = None,
    compare_without_cleaning: bool = False,
    progress: Progress = NO_PROGRESS,
) -> RunResult:
    """Run inspect, fit-transform and train as ``config`` says and write one combined report.

    Writes into ``config.output_dir``: the inspect outputs (findings.json, rows.csv,
    expectations.json), ``artifacts/`` (transform), ``training/`` (model, history), ``summary.json``
    (test accuracy, planted-defect scores for built-in datasets) and ``report.html`` with every
    stage's section.

    Parameters
    ----------
    config : PipelineConfig
        From ``dataaudit.config.load_pipeline``.
    log : callable
        Receives one line per stage.
    on_train_log : callable, optional
        Receives each training history row.
    compare_without_cleaning : bool
        Also transform and train once with the audit's cleaning off, and report both test scores.
    progress : Progress
        Told the stage the run is in (``inspect: checks``, ``fit-transform: fit``, ``train`` ...),
        each check and the sub-steps; silent by default (``dataaudit.progress``).
    """
    from dataaudit.audit import run_checks
    from dataaudit.audit_outputs import prepare_outputs, write_audit_outputs
    from dataaudit.datasets import materialize, score_against_truth
    from dataaudit.findings import severity_rank
    from dataaudit.io.loading import load_dataset, load_test_dataset
    from dataaudit.io.output_set import output_folder
    from dataaudit.report.render import render_report
    from dataaudit.training.config import TrainConfig
    from dataaudit.training.section import training_section
    from dataaudit.transforms.pipeline import TransformConfig, fit_transform
    from dataaudit.transforms.section import transform_section

    started = time.perf_counter()
    out = config.output_dir
    # Every stage writes into one staging folder, swapped onto ``out`` as a whole at the end.
    with output_folder(out, "run") as stage:
        truth = None
        data, test, label, image_shape = config.data, config.test, config.label, config.image_shape
        if config.builtin:
            progress.stage(f"data: {config.builtin} with planted defects")
            demo = materialize(config.builtin, stage / "data", seed=config.seed)
            data, test, truth = demo.train, demo.test, demo.truth
            label = label or demo.label
            image_shape = image_shape or demo.image_shape
            log(f"data: {config.builtin} with planted defects → {_final(data, stage, out)} "
                f"(clean held-out test: {_final(test, stage, out)})")
        assert data is not None
        if label is None:
            from dataaudit.exceptions import ConfigError

            raise ConfigError(f"{config.source}: [dataset] needs a label for the full pipeline.")

        # 1. inspect
        t0 = time.perf_counter()
        progress.stage("inspect: loading")
        dataset = load_dataset(data, label=label, id_column=config.id_column, encoding=config.encoding,
                               group=config.group, task=config.task)
        test_dataset = None
        if test is not None:
            test_dataset = load_test_dataset(test, dataset, id_column=config.id_column, encoding=config.encoding)
        # Files made inside the set are named by the path they will have once it is in place.
        dataset.path = _final(dataset.path, stage, out)
        if test_dataset is not None:
            test_dataset.path = _final(test_dataset.path, stage, out)
        progress.stage("inspect: checks")
        audit = run_checks(dataset, test=test_dataset, checks=config.only_checks, options=config.check_options,
                           seed=config.seed, strict=config.strict, progress=progress, workers=config.inspect_workers,
                           while_waiting=prepare_outputs)
        progress.stage("inspect: writing")
        outputs = write_audit_outputs(audit, stage, image_shape=image_shape, report=False, progress=progress)
        counts = audit.summary()["by_severity"]
        log(f"inspect: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info "
            f"({time.perf_counter() - t0:.1f} s) → {_final(outputs.findings, stage, out)}")
        worst = audit.worst_severity()
        if config.fail_on is not None and worst is not None and severity_rank(worst) <= severity_rank(config.fail_on):
            # [inspect] fail_on is a gate: the later stages do not run on data it refuses.
            progress.stage("report")
            stopped = {"pipeline": config.name, "data": str(_final(data, stage, out)), "findings": audit.summary(),
                       "stopped_after": "inspect", "fail_on": config.fail_on, "worst_severity": worst}
            html = render_report(audit, image_shape=image_shape, title=f"dataaudit — {config.name}")
            report = atomic_write_text(stage / "report.html", html)
            atomic_write_json(stage / "summary.json", stopped)
            _relocate(stage, out)
            log(f"stopped after inspect: a finding of severity {worst!r} is at or above [inspect] fail_on = "
                f"{config.fail_on!r}")
            return RunResult(out=out, report=out / report.name, summary=stopped, audit=audit, exit_code=1)

        # 2. fit-transform (the clean held-out test file, when there is one, is the test split)
        t0 = time.perf_counter()
        transform_options: dict[str, Any] = {"seed": config.seed, **config.transform}
        if test is not None and test_dataset is not None and test_dataset.label is not None:
            transform_options.setdefault("test", str(test))
        if config.id_column:
            transform_options.setdefault("id_column", config.id_column)
        for key in ("group", "task", "encoding"):  # [dataset] encoding also reads [transform]'s val/test files
            if getattr(config, key):
                transform_options.setdefault(key, getattr(config, key))
        transform_config = TransformConfig.from_dict(transform_options)
        summary = fit_transform(_fit_input(data, dataset, transform_options), label, stage / "artifacts",
                                findings=audit, config=transform_config, progress=Prefixed(progress, "fit-transform"))
        for note in (summary.manifest.get("cleaning") or {}).get("notes", []):
            if note.startswith("WARNING"):
                log(note)
        log(f"fit-transform: {summary.split_text()} "
            f"({time.perf_counter() - t0:.1f} s) → {_final(summary.out, stage, out)}")
        for line in summary.dropped_column_lines():
            log(line)
        for line in summary.manifest["split"].get("warnings", []):
            log(line)

        # 3. train (optionally searched and ensembled)
        t0 = time.perf_counter()
        train_config = TrainConfig.from_dict({"seed": config.seed, **config.train})
        progress.stage("train")
        training, extra_sections, final = _train(config, train_config, stage, on_train_log, log)
        # The test score is printed once, at the end of the run.
        log(f"train: {training.metrics.get('steps', 0):,} steps ({time.perf_counter() - t0:.1f} s)")

        run_summary: dict[str, Any] = {
            "pipeline": config.name,
            "data": str(_final(data, stage, out)),
            "test_file": str(_final(test, stage, out)) if test else None,
            "findings": audit.summary(),
            "transform": {"sizes": summary.sizes, "n_quarantined": summary.n_quarantined,
                          "quarantine_by_reason": summary.quarantine_by_reason, "n_features": summary.n_features},
            "single_model_test_accuracy": training.metrics.get("test_accuracy"),
            # Regression: R² and the errors in the label's units.
            **{k: training.metrics[k] for k in ("test_r2", "test_rmse", "test_mae") if k in training.metrics},
            "training": {k: training.metrics.get(k) for k in ("train_accuracy", "val_accuracy", "test_accuracy",
                                                               "test_loss", "val_loss", "steps", "seconds")},
            **final,
        }
        if truth is not None:
            run_summary["planted_defects"] = score_against_truth(audit.to_dict(), truth)
        if compare_without_cleaning:
            run_summary["without_cleaning"] = _without_cleaning(
                data, dataset, label, stage, transform_options, train_config,
                Prefixed(progress, "without the audit's cleaning"))
            sizes = run_summary["without_cleaning"]["sizes"]
            log("without the audit's cleaning: " + " / ".join(f"{n:,} {split}" for split, n in sizes.items())
                + " rows, trained")
        run_summary["seconds"] = round(time.perf_counter() - started, 2)

        progress.stage("report")
        sections = [
            transform_section(summary.manifest),
            training_section(training),
            *extra_sections,
            _summary_section(run_summary),
        ]
        html = render_report(audit, image_shape=image_shape, sections=sections,
                             title=f"dataaudit — {config.name}")
        report = atomic_write_text(stage / "report.html", html)
        atomic_write_json(stage / "summary.json", run_summary)
        _relocate(stage, out)
    for stage_result in (summary, training):
        with contextlib.suppress(AttributeError, TypeError, dataclasses.FrozenInstanceError):
            stage_result.out = _final(stage_result.out, stage, out)
    return RunResult(out=out, report=out / report.name, summary=run_summary, audit=audit, transform=summary,
                     training=training)


def _fit_input(data: Path, dataset: Any, transform_options: dict[str, Any]) -> Any:
    """What fit-transform reads: the file itself with ``[transform] chunksize``, else the loaded dataset.

    The chunked fit streams the file in two passes (as ``fit-transform --chunksize`` does), so it
    takes the path and never the table already in memory; the in-memory fit reuses the dataset
    inspect loaded.
    """
    return data if transform_options.get("chunksize") else dataset


def _relocate(stage: Path, out: Path) -> None:
    """Name the set's own files by their final paths in the JSON and HTML written inside the set.

    The stages ran inside the staging folder, so a manifest or training.json may name
    ``<staging>/data/x.csv``; after the swap that path is ``out/data/x.csv``. The records of the
    subfolders are written again afterwards (their digests change with the files).
    """
    from dataaudit.io.outputs import atomic_write_text
    from dataaudit.io.record import RECORD_NAME, read_record, write_record

    old, new = str(stage), str(out)
    for path in sorted(stage.rglob("*")):
        if path.suffix not in (".json", ".html") or path.name == RECORD_NAME or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="strict")
        if old in text:
            atomic_write_text(path, text.replace(old, new))
    for record_path in sorted(stage.rglob(RECORD_NAME), key=lambda p: -len(p.parts)):
        if record_path.parent != stage:
            record = read_record(record_path.parent) or {}
            write_record(record_path.parent, str(record.get("command", "run")))


def _final(path: Any, stage: Path, out: Path) -> Any:
    """The path a file written inside the staging folder will have once the set is swapped in."""
    if path is None:
        return None
    path = Path(path)
    try:
        return out / path.relative_to(stage)
    except ValueError:
        return path


def _train(config: PipelineConfig, train_config: Any, out: Path, on_train_log: Any,
           log: Callable[[str], None]) -> tuple[Any, list[Any], dict[str, Any]]:
    """Search (optional), train, ensembles (optional): one ``train_session``; report, sections, final scores."""
    from dataaudit.training.session import train_session

    session = train_session(out / "artifacts", train_config, out / "training", search_trials=config.search_trials,
                            search_rounds=config.search_rounds, ensemble=config.ensemble, workers=config.workers,
                            scheduler=config.scheduler, on_log=on_train_log, say=log,
                            say_test=False)
    return session.report, session.sections, session.final


def _without_cleaning(data: Path, dataset: Any, label: str, out: Path, transform_options: dict[str, Any],
                      train_config: Any, progress: Progress) -> dict[str, Any]:
    """Same split options and trainer, cleaning off: what the audit's cleaning buys."""
    from dataaudit.training.api import train_artifacts
    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    folder = out / "without_cleaning"
    options = {**transform_options, **NO_CLEANING}
    summary = fit_transform(_fit_input(data, dataset, transform_options), label, folder / "artifacts",
                            config=TransformConfig.from_dict(options), progress=Prefixed(progress, "fit-transform"))
    progress.stage("train")
    training = train_artifacts(folder / "artifacts", train_config, out=folder / "training", run_checks=False,
                               write_html=False)
    return {"test_accuracy": training.metrics.get("test_accuracy"), "sizes": summary.sizes}


def _summary_section(summary: dict[str, Any]) -> Any:
    from dataaudit.report.section import Section, render_fragment

    html = render_fragment("run_summary.html.j2", summary=summary)
    accuracy = summary.get("test_accuracy")
    line = f"test accuracy {accuracy:.4f}" if isinstance(accuracy, float) else "no test accuracy"
    return Section(id="run-summary", title="Pipeline summary", html=html, summary=line)
