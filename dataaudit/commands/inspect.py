"""`dataaudit inspect`: run every check on a table and write findings, rows, expectations, report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from dataaudit.cli import cli_errors
from dataaudit.commands._progress import NO_PROGRESS_HELP

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def parse_image_shape(value: str | None) -> tuple[int, int] | None:
    """``"8x8"`` -> (8, 8)."""
    if value is None:
        return None
    from dataaudit.exceptions import ConfigError

    parts = value.lower().replace("×", "x").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError as exc:
        raise ConfigError(f"--image-shape must look like HxW (e.g. 8x8), got {value!r}.") from exc
    if height <= 0 or width <= 0:
        raise ConfigError(f"--image-shape must be positive, got {value!r}.")
    return height, width


def parse_check_options(pairs: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["near_duplicates.relative_threshold=0.3"]`` -> ``{"near_duplicates": {"relative_threshold": 0.3}}``."""
    import json

    from dataaudit.exceptions import ConfigError

    options: dict[str, dict[str, Any]] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        check, dot, option = key.strip().partition(".")
        if not sep or not dot or not check or not option:
            raise ConfigError(f"--set expects CHECK.OPTION=VALUE (e.g. outliers.contamination=0.01), got {pair!r}.")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        options.setdefault(check, {})[option] = value
    return options


def print_summary(result: Any, outputs: Any, console: Any) -> None:
    """The console summary: one line per finding, worst first, then skipped/errored checks."""
    from rich.markup import escape
    from rich.table import Table

    info = result.input
    task = f" ({info['task']}: {escape(info.get('task_reason') or '')})" if info.get("task") else ""
    group = f", group {escape(repr(info['group']))}" if info.get("group") else ""
    console.print(
        f"[bold]{escape(str(info.get('path')))}[/]: {info.get('n_rows'):,} rows × {info.get('n_columns')} "
        f"columns, label {escape(repr(info.get('label')))}{task}{group}, {result.seconds:.1f} s"
    )
    table = Table(show_lines=False, header_style="bold")
    for column in ("severity", "code", "rows", "message"):
        table.add_column(column, overflow="fold")
    for finding in result.findings:
        style = SEVERITY_STYLE.get(finding.severity, "")
        # Some findings list a sample of their rows; their details carry the full count.
        count = next((finding.details[k] for k in ("n_flagged", "n_missing")
                      if isinstance(finding.details.get(k), int)), len(finding.rows))
        table.add_row(
            f"[{style}]{finding.severity}[/]",
            finding.code,
            f"{count:,}" if count else "",
            escape(finding.message),
        )
    if result.findings:
        console.print(table)
    else:
        console.print("[green]No findings.[/]")
    for check in result.checks:
        if check.status == "skipped":
            console.print(f"[dim]skipped {check.check}: {escape(check.reason or '')}[/]")
        elif check.status == "errored":
            console.print(f"[bold red]errored {check.check}: {escape(check.error or '')}[/]")
    phases = {"load": result.extra.get("load_seconds", 0.0), "checks": result.seconds, **outputs.seconds}
    console.print("[dim]timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()) + "[/]")
    summary = result.summary()["by_severity"]
    console.print(
        f"{summary['error']} errors, {summary['warning']} warnings, {summary['info']} info → "
        f"[bold]{escape(str(outputs.folder))}[/] (report: {escape(str(outputs.report))})"
    )


def exit_code(result: Any, fail_on: str | None) -> int:
    """1 when a finding is at or above ``fail_on`` severity, else 0."""
    from dataaudit.findings import severity_rank

    worst = result.worst_severity()
    if fail_on is None or worst is None:
        return 0
    return 1 if severity_rank(worst) <= severity_rank(fail_on) else 0


def check_fail_on(result: Any, fail_on: str | None) -> None:
    """Raise ``FindingsAtThreshold`` (exit 1) when a finding is at or above ``fail_on`` severity."""
    from dataaudit.exceptions import FindingsAtThreshold
    from dataaudit.findings import severity_rank

    if not exit_code(result, fail_on):
        return
    assert fail_on is not None
    counts = result.summary()["by_severity"]
    at_or_above = [s for s in ("error", "warning", "info") if severity_rank(s) <= severity_rank(fail_on)]
    count = sum(int(counts.get(s, 0)) for s in at_or_above)
    raise FindingsAtThreshold(
        f"{count} finding(s) at or above severity {fail_on!r} (--fail-on {fail_on}); "
        f"worst is {result.worst_severity()!r}."
    )


@contextmanager
def _released(release: Callable[[], None]) -> Iterator[None]:
    """Stop the background worker when the block ends, however it ends (a failed load included)."""
    try:
        yield
    finally:
        release()


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    @cli_errors
    def inspect_command(
        data: Path = typer.Argument(..., help="CSV, TSV or Parquet file to audit."),
        label: str | None = typer.Option(None, "--label", "-l", help="Label column (label checks are skipped without it)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Output folder [default: reports/<stem>/, e.g. reports/data/ for data.csv.gz]."),
        test: Path | None = typer.Option(None, "--test", help="A test file: checks train/test overlap and drift."),
        id_column: str | None = typer.Option(None, "--id", help="Column identifying rows (kept out of features)."),
        group: str | None = typer.Option(None, "--group", help="Entity column (patient, subject, customer): group folds, never a feature."),
        task: str | None = typer.Option(None, "--task", help="classification | regression [default: decided from the label]."),
        image_shape: str | None = typer.Option(None, "--image-shape", help="Draw rows as HxW images in the report, e.g. 8x8."),
        fail_on: str | None = typer.Option(None, "--fail-on", help="Exit 1 when a finding is at or above this severity: warning or error."),
        seed: int = typer.Option(0, "--seed", help="Seed for randomized checks (same seed, same findings)."),
        checks: list[str] | None = typer.Option(None, "--check", help="Run only this check (repeatable)."),
        set_options: list[str] | None = typer.Option(None, "--set", help="Check option CHECK.OPTION=VALUE (repeatable)."),
        encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of a CSV that is not UTF-8."),
        strict: bool = typer.Option(False, "--strict", help="Stop at the first check that crashes."),
        workers: str = typer.Option("auto", "--workers", help="Processes for the checks: 1 = all in this one; auto = fit label_issues' models in a background worker on tables of 2,000+ rows with 2+ CPUs."),
        no_report: bool = typer.Option(False, "--no-report", help="Skip report.html."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
        no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
        force: bool = typer.Option(False, "--force", help="Replace --out even if it holds files dataaudit did not write (never an input)."),
    ) -> None:
        """Audit a table: duplicates, suspect labels, imbalance, outliers, missing values, leaky columns ...

        Writes findings.json, rows.csv, expectations.json and report.html to --out.

        Example: dataaudit inspect data.csv --label label --fail-on error
        """
        import time

        from dataaudit.background import check_workers, prestart, release
        from dataaudit.exceptions import ConfigError

        if fail_on is not None and fail_on not in ("warning", "error"):
            raise ConfigError(f"--fail-on must be 'warning' or 'error', got {fail_on!r}.")
        shape = parse_image_shape(image_shape)
        n_workers = check_workers(workers, "--workers")
        options = parse_check_options(set_options)
        # First, before numpy and pandas: the worker's imports overlap the rest of these imports, the
        # checks of the output folder below (a refusal only stops an idle worker) and the loading.
        prestart(n_workers, data, label)

        try:
            from dataaudit.audit_outputs import default_out_dir
            from dataaudit.io.output_set import check_folder_target, output_policy

            out_dir = out or default_out_dir(data)
            with output_policy("inspect", [data, test], force=force):
                check_folder_target(out_dir)  # refuse before the work, not after it
        except BaseException:
            release()  # a refused run does not wait for the worker's imports at exit
            raise

        from rich.console import Console

        from dataaudit.audit import run_checks
        from dataaudit.audit_outputs import prepare_outputs, write_audit_outputs
        from dataaudit.commands._progress import terminal_progress
        from dataaudit.io.loading import load_dataset, load_test_dataset

        with terminal_progress(not (quiet or no_progress)) as progress, _released(release):
            progress.stage(f"loading {data.name}")
            started = time.perf_counter()
            dataset = load_dataset(data, label=label, id_column=id_column, encoding=encoding, group=group, task=task)
            test_dataset = None
            if test is not None:
                progress.stage(f"loading {test.name}")
                test_dataset = load_test_dataset(test, dataset, id_column=id_column, encoding=encoding)
            load_seconds = time.perf_counter() - started
            progress.stage("checks")
            result = run_checks(dataset, test=test_dataset, checks=checks or None, options=options, seed=seed,
                                strict=strict, progress=progress, workers=n_workers,
                                while_waiting=lambda: prepare_outputs(report=not no_report))
            release()
            result.extra["load_seconds"] = load_seconds
            progress.stage("writing")
            with output_policy("inspect", [data, test], force=force):
                outputs = write_audit_outputs(result, out_dir, image_shape=shape, report=not no_report,
                                              progress=progress)
        if not quiet:
            print_summary(result, outputs, Console(highlight=False))
        check_fail_on(result, fail_on)

