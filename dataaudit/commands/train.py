"""`dataaudit train`: train the MLP on fit-transform artifacts with the recipe's sanity checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dataaudit.cli import cli_errors

STATUS_STYLE = {"passed": "green", "flagged": "yellow", "skipped": "dim", "errored": "bold red"}


def build_config(**options: Any) -> Any:
    """A TrainConfig from the CLI options that were given (None = keep the default)."""
    from dataaudit.training.config import TrainConfig

    return TrainConfig.from_dict({k: v for k, v in options.items() if v is not None})


def print_summary(report: Any, console: Any) -> None:
    """Checks table, metrics and output paths."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Recipe checks", show_lines=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("reason", overflow="fold")
    for check in report.checks:
        style = "bold red" if check.get("severity") == "error" else STATUS_STYLE.get(check["status"], "")
        status = "info" if check.get("severity") == "info" else check["status"]
        table.add_row(check["name"], f"[{'cyan' if status == 'info' else style}]{status}[/]", escape(check["reason"]))
    if report.checks:
        console.print(table)
    m = report.metrics
    parts = []
    for split in ("train", "val", "test"):
        if f"{split}_loss" in m:
            text = f"{split} loss {m[f'{split}_loss']:.4f}"
            if f"{split}_accuracy" in m:
                text += f", acc {m[f'{split}_accuracy']:.4f}"
            elif f"{split}_r2" in m:
                # The loss is on the standardized target; RMSE and MAE are in the label's units.
                text += f", R² {m[f'{split}_r2']:.4f}, RMSE {m[f'{split}_rmse']:.4g}, MAE {m[f'{split}_mae']:.4g}"
            parts.append(text)
    console.print(" | ".join(parts))
    gap = next((c.get("value") for c in report.checks if c.get("name") == "train_val_gap"), None)
    ceiling = " at the data's ceiling (inspect's out-of-fold accuracy)" if isinstance(gap, dict) and gap.get(
        "at_ceiling") else ""
    console.print(
        f"diagnosis: [bold]{report.diagnosis}[/]{ceiling}; best step {m['best_step']} of {m['steps']} "
        f"({m['stopped']}), {m['seconds']:.1f} s"
    )
    console.print(f"wrote {escape(str(report.out))}/: {', '.join(report.files.values())}")


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train")
    @cli_errors
    def train_command(
        artifacts: Path = typer.Argument(..., help="Artifacts folder written by `dataaudit fit-transform`."),
        backend: str | None = typer.Option(None, "--backend", help="numpy (default) | torch (CUDA when available)."),
        hidden: str | None = typer.Option(None, "--hidden", help="Hidden layer widths, e.g. 256,256 (default 256,256)."),
        activation: str | None = typer.Option(None, "--activation", help="relu | leaky_relu | tanh | sigmoid | gelu."),
        lr: float | None = typer.Option(None, "--lr", help="Peak learning rate (default 1e-3)."),
        epochs: int | None = typer.Option(None, "--epochs", help="Maximum epochs (default 50)."),
        batch_size: int | None = typer.Option(None, "--batch-size", help="Mini-batch size (default 128)."),
        dropout: float | None = typer.Option(None, "--dropout", help="Dropout probability (default 0)."),
        weight_decay: float | None = typer.Option(None, "--weight-decay", help="Decoupled weight decay (default 0)."),
        optimizer: str | None = typer.Option(None, "--optimizer", help="adam (default) | sgd (Nesterov momentum)."),
        batch_norm: bool | None = typer.Option(None, "--batch-norm/--no-batch-norm", help="Batch normalization."),
        seed: int | None = typer.Option(None, "--seed", help="Seed of init, shuffling and dropout (default 0)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default ARTIFACTS/training)."),
        search: int | None = typer.Option(None, "--search", help="Random search with N trials first (coarse to fine)."),
        ensemble: int | None = typer.Option(None, "--ensemble", help="Compare ensembles of K members on val."),
        scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler ADDRESS, or 'local', for --search/--ensemble."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes for --search/--ensemble."),
        no_checks: bool = typer.Option(False, "--no-checks", help="Skip the recipe's sanity checks."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
        force: bool = typer.Option(False, "--force", help="Replace --out even if it holds files dataaudit did not write (never an input)."),
    ) -> None:
        """Train an MLP on fit-transform artifacts, running the recipe's sanity checks.

        Checks: loss at init, gradient check, overfit a tiny batch, input-independent baseline, update-to-weight ratios, dead units, train/val gap. Writes model.npz + model.json, history.json, training.json and report.html to --out.

        Example: dataaudit train artifacts/ --hidden 256,256 --lr 1e-3 --epochs 30
        """
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from dataaudit.exceptions import ConfigError
        from dataaudit.io.output_set import output_folder, output_policy, recover
        from dataaudit.io.outputs import atomic_write_text
        from dataaudit.training.api import render_training_page
        from dataaudit.training.loop import TrainData, format_log_line
        from dataaudit.training.session import train_session

        config = build_config(
            backend=backend, hidden=hidden, activation=activation, lr=lr, max_epochs=epochs,
            batch_size=batch_size, dropout=dropout, weight_decay=weight_decay, optimizer=optimizer,
            batch_norm=batch_norm, seed=seed,
        )
        for name, value in (("--search", search), ("--ensemble", ensemble), ("--workers", workers)):
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}.")
        console = Console(highlight=False, quiet=quiet)
        final_dir = out or artifacts / "training"
        # Inputs: the artifacts folder and its files, never replaced; the output set is one swap.
        recover(artifacts)
        if not artifacts.is_dir():
            TrainData.from_artifacts(artifacts)  # the loader's one-line error, before any output exists
        inputs = [artifacts / name for name in ("manifest.json", "transform.npz", "train.npz", "val.npz",
                                                "test.npz", "expectations.json", ".dataaudit.json")]
        with output_policy("train", inputs, force=force), output_folder(final_dir, "train") as out_dir:
            from dataaudit.training.search import format_trial_line

            with Progress(
                TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
                TimeElapsedColumn(), console=console, transient=True, disable=quiet,
            ) as progress:
                task = progress.add_task("train", total=None)
                trained = [config]

                def on_log(row: dict[str, Any]) -> None:
                    if row["epoch"] > 0 and progress.tasks[task].total is None:
                        steps_per_epoch = row["step"] / row["epoch"]
                        progress.update(task, total=round(steps_per_epoch * trained[0].max_epochs))
                    progress.update(task, completed=row["step"])
                    progress.console.print(format_log_line(row))

                session = train_session(
                    artifacts, config, out_dir, search_trials=search or 0, ensemble=ensemble or 0, workers=workers,
                    scheduler=scheduler, run_checks=not no_checks, on_log=on_log,
                    on_trial=lambda trial: progress.console.print(format_trial_line(trial)),
                    on_train_start=lambda chosen: trained.__setitem__(0, chosen),
                    say=lambda line: progress.console.print(escape(line)),
                )
            report = session.report
            if session.sections:
                atomic_write_text(out_dir / "report.html", render_training_page(report, session.sections))
        report.out = final_dir
        print_summary(report, console)
