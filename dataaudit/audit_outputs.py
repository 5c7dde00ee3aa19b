"""Write what ``inspect`` produces: findings.json, rows.csv, expectations.json, report.html."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.io.outputs import atomic_path, atomic_write_json, atomic_write_text
from dataaudit.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    import pandas as pd

    from dataaudit.findings import AuditResult

__all__ = ["AuditOutputs", "rows_frame", "write_audit_outputs", "default_out_dir", "prepare_outputs"]


@dataclass(frozen=True)
class AuditOutputs:
    """Paths of the files one inspect run wrote."""

    folder: Path
    findings: Path
    rows: Path
    expectations: Path | None
    report: Path | None
    seconds: dict[str, float]


def default_out_dir(data: str | Path) -> Path:
    """``reports/<dataset-stem>/`` (DESIGN.md); ``reports/data/`` for ``data.csv`` and ``data.csv.gz`` alike."""
    from dataaudit.io.compression import plain_stem

    return Path("reports") / plain_stem(data)


def rows_frame(result: AuditResult) -> pd.DataFrame:
    """One line per input row: ``row``, then ``is_<code>`` (0/1) and ``<code>_score`` per row-level code.

    Row-level codes are those whose check scores every row (``CheckResult.row_scores``: duplicates,
    near duplicates, label issues, outliers, train/test overlap); a score is in [0, 1], lower =
    worse, empty where the check did not judge the row. Column-level findings (missing values,
    skew ...) are summarised per row as ``n_missing_cells`` when the data is at hand.
    """
    import pandas as pd

    n_rows = int(result.input.get("n_rows", 0))
    columns: dict[str, Any] = {"row": np.arange(n_rows, dtype=np.int64)}
    for check in result.checks:
        for code, scores in check.row_scores.items():
            flags = np.zeros(n_rows, dtype=np.int8)
            for finding in check.findings:
                if finding.code == code and finding.rows:
                    rows = np.asarray(finding.rows, dtype=np.int64)
                    flags[rows[(rows >= 0) & (rows < n_rows)]] = 1
            columns[f"is_{code}"] = flags
            scores = np.asarray(scores, dtype=np.float64)
            columns[f"{code}_score"] = np.round(scores, 6) if len(scores) == n_rows else np.full(n_rows, np.nan)
    if result.dataset is not None and result.dataset.n_rows == n_rows:
        frame = result.dataset.frame
        columns["n_missing_cells"] = frame.drop(columns=[result.dataset.label] if result.dataset.label else [])\
            .isna().sum(axis=1).to_numpy(dtype=np.int64)
    return pd.DataFrame(columns)


def _write_rows_csv(result: AuditResult, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(rows_frame(result), preserve_index=False)
    with atomic_path(target) as tmp:
        pacsv.write_csv(table, tmp, write_options=pacsv.WriteOptions(quoting_style="none"))


def prepare_outputs(*, report: bool = True) -> None:
    """Load what ``write_audit_outputs`` will need: its writers' modules and, with ``report``, the
    report's compiled templates (kept by the package's Jinja2 environment). Changes no file and no
    result; ``inspect`` runs it while the background worker fits (``run_checks(while_waiting=)``),
    where it takes about 0.2 s off a 10k-row run's critical path."""
    import pyarrow.csv  # noqa: F401

    import dataaudit.expectations  # noqa: F401
    import dataaudit.io.output_set  # noqa: F401

    if report:
        import dataaudit.report.render  # noqa: F401
        from dataaudit.report.section import environment

        env = environment()
        for name in env.list_templates():
            env.get_template(name)


def write_audit_outputs(
    result: AuditResult,
    out: str | Path,
    *,
    image_shape: tuple[int, int] | None = None,
    expectations: bool = True,
    report: bool = True,
    sections: tuple[Any, ...] = (),
    progress: Progress = NO_PROGRESS,
) -> AuditOutputs:
    """Write findings.json, rows.csv, expectations.json and report.html into ``out`` as one set.

    The files are written into a staging folder and swapped in together with the record of what
    was written (``.dataaudit.json``), so ``out`` never mixes files of two runs, and a file left by
    another run (a report, with ``report=False``) does not survive. An existing ``out`` is replaced
    only when dataaudit wrote everything in it (see :mod:`dataaudit.io.output_set`). ``progress``
    is told each file as it is written.

    Raises
    ------
    OutputError
        ``out`` holds files dataaudit did not write, or an input, or a write failed.
    """
    from dataaudit.io.output_set import output_folder

    folder = Path(out)
    seconds: dict[str, float] = {}
    names: dict[str, str | None] = {"expectations": None, "report": None}
    writes = ["findings.json, rows.csv"]
    writes += ["expectations.json"] if expectations and result.dataset is not None else []
    writes += ["report.html"] if report else []
    with output_folder(folder, "inspect") as staging:
        progress.task(writes[0], 1, len(writes))
        started = time.perf_counter()
        atomic_write_json(staging / "findings.json", result.to_dict())
        _write_rows_csv(result, staging / "rows.csv")
        seconds["findings_and_rows"] = time.perf_counter() - started
        if expectations and result.dataset is not None:
            from dataaudit.expectations import build_suite

            progress.task("expectations.json", writes.index("expectations.json") + 1, len(writes))
            started = time.perf_counter()
            suite = build_suite(result.dataset, name=f"{result.dataset.name} expectations")
            atomic_write_json(staging / "expectations.json", suite)
            names["expectations"] = "expectations.json"
            seconds["expectations"] = time.perf_counter() - started
        if report:
            from dataaudit.report.render import render_report

            progress.task("report.html", len(writes), len(writes))
            started = time.perf_counter()
            html = render_report(result, image_shape=image_shape, sections=sections)
            atomic_write_text(staging / "report.html", html)
            names["report"] = "report.html"
            seconds["report"] = time.perf_counter() - started
    return AuditOutputs(
        folder, folder / "findings.json", folder / "rows.csv",
        folder / names["expectations"] if names["expectations"] else None,
        folder / names["report"] if names["report"] else None, seconds,
    )
