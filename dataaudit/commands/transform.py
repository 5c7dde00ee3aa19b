"""`dataaudit transform`: validate new data against the saved expectations, apply the saved transform."""

from __future__ import annotations

from pathlib import Path

import typer

from dataaudit.cli import cli_errors


def register(app: typer.Typer) -> None:
    """Add the ``transform`` command to ``app``."""

    @app.command("transform")
    @cli_errors
    def transform_command(
        data: Path = typer.Argument(..., help="New table with the training columns (CSV, TSV or Parquet; CSV/TSV may be .gz, .bz2 or .xz)."),
        artifacts: Path = typer.Option(..., "--artifacts", help="Artifact folder of fit-transform."),
        out: Path = typer.Option(..., "--out", help="Output .npz (X, row, and y when the label is present)."),
        on_invalid: str = typer.Option("fail", "--on-invalid", help="fail (exit 1) | quarantine the offending rows."),
        encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of a CSV that is not UTF-8 [default: detected]."),
        force: bool = typer.Option(False, "--force", help="Overwrite --out even if dataaudit did not write it (never an input)."),
    ) -> None:
        """Validate DATA with the saved Great Expectations suite, then transform it.

        Example: dataaudit transform new.csv --artifacts artifacts/ --out new.npz --on-invalid quarantine
        """
        from dataaudit.exceptions import ValidationFailed
        from dataaudit.io.output_set import check_file_target, output_policy, recover
        from dataaudit.transforms.pipeline import transform

        recover(artifacts)
        try:
            with output_policy("transform", [data, artifacts], force=force):
                check_file_target(out)  # refuse before the work, not after it
                outcome = transform(data, artifacts, out, on_invalid=on_invalid, encoding=encoding)
        except ValidationFailed as exc:
            report = getattr(exc, "report", None)
            lines = report.lines() if report is not None else [str(exc)]
            typer.echo(f"{data}: {len(lines)} expectation(s) violated:", err=True)
            for line in lines:
                typer.echo(f"  - {line}", err=True)
            raise ValidationFailed(
                f"{data}: {len(lines)} expectation(s) violated; fix the data or pass --on-invalid quarantine."
            ) from exc
        if outcome.empty_label:
            typer.echo(f"label column {outcome.empty_label!r} is empty in every row: treated as absent "
                       f"({outcome.out} has no y)")
        for violation in outcome.validation.violations:
            typer.echo(f"violation: {violation.message}")
        typer.echo(
            f"{outcome.n_rows:,} rows: {outcome.n_transformed:,} transformed -> {outcome.out}, "
            f"{outcome.n_quarantined:,} quarantined"
            + (f" -> {outcome.quarantine_path}" if outcome.quarantine_path else "")
        )
        if outcome.unknown_categories:
            typer.echo(f"unseen categories (encoded as all-zero): {outcome.unknown_categories}")
