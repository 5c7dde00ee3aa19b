"""`dataaudit fit-transform`: clean, split leakage-safely, fit the transforms on train, save artifacts."""

from __future__ import annotations

from pathlib import Path

import typer

from dataaudit.cli import cli_errors
from dataaudit.commands._progress import NO_PROGRESS_HELP


def register(app: typer.Typer) -> None:
    """Add the ``fit-transform`` command to ``app``."""

    @app.command("fit-transform")
    @cli_errors
    def fit_transform_command(
        data: Path = typer.Argument(..., help="Input table (CSV, TSV or Parquet; CSV/TSV may be .gz, .bz2 or .xz)."),
        label: str = typer.Option(..., "--label", help="Label column."),
        out: Path = typer.Option(..., "--out", help="Artifact folder to write (replaced atomically)."),
        findings: Path | None = typer.Option(None, "--findings", help="findings.json of `dataaudit inspect` on DATA."),
        drop: list[str] | None = typer.Option(None, "--drop", help="Column to leave out (repeatable)."),
        scale: str = typer.Option("standard", "--scale", help="none | center | standard."),
        whiten: str = typer.Option("none", "--whiten", help="none | pca | zca."),
        pca_components: str | None = typer.Option(None, "--pca-components", help="K components or a variance fraction like 0.99."),
        epsilon: float = typer.Option(1e-5, "--epsilon", help="Added to eigenvalues before 1/sqrt."),
        split: str = typer.Option("0.8,0.1,0.1", "--split", help="train,val,test fractions (stratified, seeded)."),
        val: Path | None = typer.Option(None, "--val", help="Your own validation file (then no input rows go to val)."),
        test: Path | None = typer.Option(None, "--test", help="Your own test file, e.g. a clean held-out set (then no input rows go to test)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the split and samples."),
        suspects: str = typer.Option("keep", "--suspects", help="keep | drop | relabel suspect labels (train/val only)."),
        suspect_threshold: float = typer.Option(0.1, "--suspect-threshold", help="Act on label_issue scores below this."),
        keep_duplicates: bool = typer.Option(False, "--keep-duplicates", help="Do not drop exact duplicates."),
        no_near_duplicates: bool = typer.Option(False, "--no-near-duplicates", help="Do not group near duplicates."),
        keep_leaky: bool = typer.Option(False, "--keep-leaky", help="Keep feature columns that label_leakage flags (default: drop them)."),
        dtype: str = typer.Option("float32", "--dtype", help="float32 | float64 for the saved X."),
        chunksize: int | None = typer.Option(None, "--chunksize", help="Stream the CSV in chunks of N rows."),
        encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of CSV inputs that are not UTF-8 (DATA, --val, --test) [default: detected]."),
        id_column: str | None = typer.Option(None, "--id", help="Row-identifier column (never a feature)."),
        group: str | None = typer.Option(None, "--group", help="Entity column (patient, subject, customer): each group stays in one split; never a feature."),
        task: str | None = typer.Option(None, "--task", help="classification | regression [default: decided from the label]."),
        max_removal: float = typer.Option(0.2, "--max-removal", help="Largest share of rows the cleaning may remove (missing labels apart)."),
        allow_large_removal: bool = typer.Option(False, "--allow-large-removal", help="Remove more than --max-removal when the policy says so."),
        unverified_findings: bool = typer.Option(False, "--unverified-findings", help="Use --findings even when its input.sha256 is missing or differs from DATA's (warned and recorded)."),
        force: bool = typer.Option(False, "--force", help="Replace --out even if it holds files dataaudit did not write (never an input)."),
        no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
    ) -> None:
        """Clean, split, encode, standardize and whiten (fit on train only); save JSON + .npz artifacts.

        Example: dataaudit fit-transform data.csv --label label --whiten zca --out artifacts/
        """
        from dataaudit.commands._progress import terminal_progress
        from dataaudit.io.output_set import check_folder_target, output_policy
        from dataaudit.transforms.pipeline import TransformConfig, fit_transform, parse_components
        from dataaudit.transforms.split import parse_fractions

        config = TransformConfig(
            split=parse_fractions(split), seed=seed, val=str(val) if val else None, test=str(test) if test else None,
            drop_exact_duplicates=not keep_duplicates, suspects=suspects,
            suspect_threshold=suspect_threshold, near_duplicates=not no_near_duplicates, keep_leaky=keep_leaky,
            drop=tuple(drop or ()), id_column=id_column, group=group, task=task, scale=scale, whiten=whiten,
            pca_components=parse_components(pca_components) if pca_components else None, epsilon=epsilon, dtype=dtype, chunksize=chunksize,
            encoding=encoding,
            max_removal=max_removal, allow_large_removal=allow_large_removal,
            unverified_findings=unverified_findings,
        )
        with output_policy("fit-transform", [data, findings, val, test], force=force):
            check_folder_target(out)  # refuse before the work, not after it
            with terminal_progress(not no_progress) as progress:
                summary = fit_transform(data, label, out, findings=findings, config=config, progress=progress)
        for note in (summary.manifest.get("cleaning") or {}).get("notes", []):
            if note.startswith("WARNING"):
                typer.secho(note, err=True, fg="yellow", bold=True)
        typer.echo(summary.split_text())
        for line in removal_lines(summary.manifest.get("cleaning") or {}):
            typer.echo(line)
        for line in summary.manifest["split"].get("warnings", []):
            typer.secho(line, err=True, fg="yellow", bold=True)
        typer.echo(f"relabelled {summary.n_relabelled:,} row{'' if summary.n_relabelled == 1 else 's'}; {summary.seconds:.1f} s")
        deviation = summary.verification.get("whitened_cov_max_abs_deviation")
        if deviation is not None:
            typer.echo(f"whitened train covariance: max |C - I| = {deviation:.2e}")
        for line in summary.dropped_column_lines():
            typer.echo(line)
        typer.echo(f"artifacts written to {summary.out}")


def removal_lines(cleaning: dict) -> list[str]:  # type: ignore[type-arg]
    """What the cleaning removed and why, against the removal cap, one line per reason."""
    from dataaudit.transforms.cleaning import REASONS

    removal = cleaning.get("removal") or {}
    lines: list[str] = []
    if removal:
        over_overall = removal["share"] > removal["max_removal"]
        lines.append(
            f"removed {removal['n_removed']:,} rows ({removal['share']:.1%} of the input; cap "
            f"{removal['max_removal']:.0%}{', allowed above it' if over_overall else ''}):"
            if removal["n_removed"] else f"removed no rows (cap {removal['max_removal']:.0%})"
        )
        if removal["n_removed"] and removal.get("by_class"):
            lines.append(class_removal_line(removal))
        for reason, count in removal.get("by_reason", {}).items():
            lines.append(f"  {reason} {count:,}: {REASONS.get(reason, reason)}")
        for reason, count in removal.get("not_counted", {}).items():
            lines.append(f"  {reason} {count:,} (not counted in the cap): {REASONS.get(reason, reason)}")
    kept = (cleaning.get("identity") or {}).get("n_collision_rows_kept", 0)
    if kept:
        lines.append(f"kept {kept:,} rows that share their feature values with other rows by chance "
                     "(feature_collision: different records, not copies)")
    return lines


def class_removal_line(removal: dict, limit: int = 8) -> str:  # type: ignore[type-arg]
    """Removed rows per class (the hardest-hit first) against the per-class cap."""
    over = set(removal.get("over_cap_classes") or ())
    entries = sorted(removal["by_class"].items(), key=lambda item: (-item[1]["share"], item[0]))
    parts = [f"{name} {entry['n_removed']:,} of {entry['n_rows']:,} ({entry['share']:.1%}"
             f"{', over the cap, allowed' if name in over else ''})" for name, entry in entries[:limit]]
    if len(entries) > limit:
        parts.append(f"{len(entries) - limit} more classes")
    return "  by class: " + ", ".join(parts)
