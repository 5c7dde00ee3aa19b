"""`dataaudit run PIPELINE.toml` and `dataaudit demo`: every stage end to end, one report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dataaudit.cli import cli_errors
from dataaudit.commands._progress import NO_PROGRESS_HELP


def _run(config: Any, *, quiet: bool, compare: bool, force: bool = False, inputs: tuple[Any, ...] = (),
         no_progress: bool = False) -> Any:
    from rich.console import Console
    from rich.markup import escape

    from dataaudit.commands._progress import display_paused, terminal_progress
    from dataaudit.io.output_set import check_folder_target, output_policy
    from dataaudit.runner import run_pipeline
    from dataaudit.training.loop import format_log_line

    # soft_wrap: a log line stays one line when stdout is a file or a pipe (no wrapping at 80 columns).
    console = Console(highlight=False, quiet=quiet, soft_wrap=True)

    with output_policy("run", [*inputs, config.data, config.test], force=force):
        check_folder_target(config.output_dir)  # refuse before the work, not after it
        with terminal_progress(not (quiet or no_progress)) as progress:
            # The stage lines go to stdout, above the display (erased while they print).

            def log(message: str) -> None:
                with display_paused(progress):
                    console.print(escape(message))

            def on_train_log(row: dict[str, Any]) -> None:
                progress.step(f"step {row['step']:,}, epoch {row['epoch']}")
                with display_paused(progress):
                    console.print(f"[dim]  {escape(format_log_line(row))}[/]")

            result = run_pipeline(config, log=log, on_train_log=on_train_log, compare_without_cleaning=compare,
                                  progress=progress)
    summary = result.summary
    if result.exit_code:
        from dataaudit.exceptions import FindingsAtThreshold

        typer.echo(f"Report: {result.report.resolve()}")
        raise FindingsAtThreshold(
            f"{config.source or config.name}: a {summary['worst_severity']} finding is at or above [inspect] "
            f"fail_on = {summary['fail_on']!r}; stopped after inspect (findings in {result.out})."
        )
    planted = summary.get("planted_defects") or {}
    for code, score in planted.items():
        console.print(f"planted {code}: found {score['found']} of {score['planted']} "
                      f"(flagged {score['flagged']})")
    # The test accuracy is printed once; the single model's is repeated only when it is not the final one.
    accuracy = summary.get("test_accuracy")
    without = (summary.get("without_cleaning") or {}).get("test_accuracy")
    single = summary.get("final_model") == "single"
    if without is not None and not single:
        console.print(f"single model on test: {_score(summary['single_model_test_accuracy'])} with the "
                      f"audit's cleaning, {_score(without)} without")
    if summary.get("test_r2") is not None:
        console.print(f"[bold]test R² {summary['test_r2']:.4f}[/], RMSE {summary['test_rmse']:.4g}, "
                      f"MAE {summary['test_mae']:.4g} (single model, in the label's units)")
    if accuracy is not None:
        compared = f"; {_score(without)} without the audit's cleaning" if without is not None and single else ""
        final = "single model" if single else f"{summary['final_model']} ensemble"
        console.print(f"[bold]test accuracy {_score(accuracy)}[/] ({final}{compared}), "
                      f"{summary['seconds']:.1f} s")
    elif summary.get("test_r2") is None:
        console.print("no test accuracy")
    # The one line a user needs, even with --quiet.
    typer.echo(f"Report: {result.report.resolve()}")
    return result


def _score(value: Any) -> str:
    """An accuracy to four decimals (``n/a`` when there is none)."""
    return f"{value:.4f}" if isinstance(value, float) else "n/a"


def register(app: typer.Typer) -> None:
    @app.command("run")
    @cli_errors
    def run_command(
        pipeline: Path = typer.Argument(..., help="Pipeline TOML file (see pipelines/)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Output folder [default: from the file, or reports/<name>/]."),
        compare: bool = typer.Option(False, "--compare-without-cleaning", help="Also train without the audit's cleaning and report both test scores."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the report path."),
        force: bool = typer.Option(False, "--force", help="Replace the output folder even if it holds files dataaudit did not write (never an input)."),
        no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
    ) -> None:
        """Run inspect → fit-transform → train as a pipeline file declares, into one report.

        Example: dataaudit run pipelines/digits.toml
        """
        from dataaudit.config import load_pipeline

        config = load_pipeline(pipeline)
        if out is not None:
            config.output = out
        _run(config, quiet=quiet, compare=compare, force=force, inputs=(pipeline,), no_progress=no_progress)

    @app.command("demo")
    @cli_errors
    def demo_command(
        dataset: str = typer.Option("digits", "--dataset", help="Bundled dataset: digits or breast_cancer."),
        out: Path = typer.Option(Path("reports/demo"), "--out", "-o", help="Output folder."),
        seed: int = typer.Option(0, "--seed", help="Seed for the planted defects, split and training."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the report path."),
        force: bool = typer.Option(False, "--force", help="Replace --out even if it holds files dataaudit did not write."),
        no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
    ) -> None:
        """All stages on a bundled dataset with planted defects and a clean held-out test set.

        Plants exact/near/conflicting duplicates and label flips in scikit-learn's digits, audits,
        cleans, transforms and trains, then says how many planted defects the audit found and what
        the cleaning bought in test accuracy.

        Example: dataaudit demo --out reports/demo
        """
        from dataaudit.config import PipelineConfig
        from dataaudit.datasets import BUILTIN
        from dataaudit.exceptions import ConfigError

        if dataset not in BUILTIN:
            raise ConfigError(f"--dataset must be one of {sorted(BUILTIN)}, got {dataset!r}.")
        config = PipelineConfig(
            name=f"demo-{dataset}", builtin=dataset, label="label", seed=seed, output=out,
            image_shape=BUILTIN[dataset][1],
            # Train/val come from the defective file; the clean held-out file is the test split.
            # Suspect labels in train/val are dropped: the demo shows what the cleaning buys.
            transform={"split": [0.9, 0.1, 0.0], "suspects": "drop"},
            train={"batch_norm": True, "max_epochs": 60},
            ensemble=5,
        )
        _run(config, quiet=quiet, compare=True, force=force, no_progress=no_progress)
