"""``transform``: validate new data against the saved expectations, then apply the saved transform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError, InputError, ValidationFailed
from dataaudit.transforms.config import ON_INVALID, TransformOutcome
from dataaudit.transforms.plan import code_of, quarantine_frame

__all__ = ["transform"]


def _coerce_to_schema(frame: pd.DataFrame, schema: dict[str, Any]) -> list[Any]:
    """Parse numeric-schema columns that arrived as text; report cells that are not numbers."""
    from dataaudit.violations import Violation

    violations: list[Violation] = []
    dtypes = schema.get("dtypes", {})
    for column, dtype in dtypes.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        expected_numeric = any(dtype.startswith(p) for p in ("int", "float", "uint", "Int", "Float", "UInt"))
        if not expected_numeric or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("string").str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        bad = (values.notna() & parsed.isna()).to_numpy()
        non_null = int(values.notna().sum())
        if non_null and bad.sum() == non_null:
            # The whole column is text where numbers were expected: no row can be blamed.
            violations.append(Violation(
                "expect_column_values_to_be_in_type_list", column, str(values.dtype), (), 0,
                f"column {column!r}: expected numbers ({dtype}) but no value parses as a number",
            ))
            continue
        frame[column] = parsed.astype(np.float64)
        if bad.any():
            rows = tuple(int(r) for r in np.flatnonzero(bad))
            sample = [str(v) for v in values[bad].head(5).tolist()]
            violations.append(Violation(
                "expect_column_values_to_be_in_type_list", column, sample, rows, len(rows),
                f"column {column!r}: {len(rows)} value(s) are not numbers (e.g. {sample})",
            ))
    return violations


def _all_missing(values: pd.Series) -> bool:
    """True when no row has a value: NaN/None, or text that is empty once stripped."""
    present = values.notna()
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        present &= values.astype(str).str.strip() != ""
    return not bool(present.any())


def transform(
    data: Any,
    artifacts: str | Path,
    out: str | Path,
    *,
    on_invalid: str = "fail",
    encoding: str | None = None,
) -> TransformOutcome:
    """Validate new data against the saved expectations, then apply the saved transform.

    Parameters
    ----------
    data : str, Path or DataFrame
        New table with the training columns (the label column is optional; a label column with
        no value in any row is treated as absent: no ``y``, ``empty_label`` names it).
    artifacts : str or Path
        Artifact folder of ``fit_transform``.
    out : str or Path
        Output ``.npz`` with ``X``, ``row`` and, when the label is present, ``y``.
    on_invalid : {"fail", "quarantine"}
        "fail": raise ValidationFailed listing every violated expectation. "quarantine": move the
        offending rows to ``<out stem>.quarantine.csv`` and transform the rest.
    encoding : str, optional
        Text encoding of a CSV/TSV ``data`` (``--encoding``); default: detected, as ``inspect``
        does. The rows quarantine.csv copies are read back with the same encoding.

    Returns
    -------
    TransformOutcome

    Raises
    ------
    InputError
        Missing or new columns, a column of the wrong type (nothing can be transformed).
    ValidationFailed
        Row-level violations with ``on_invalid="fail"``; ``.report`` holds them all.
    ArtifactError
        Untrustworthy artifacts.
    """
    from dataaudit.expectations import validate
    from dataaudit.io.artifacts import NpzStreamWriter, load_artifacts
    from dataaudit.io.file_set import output_file_set
    from dataaudit.io.loading import read_table_encoded
    from dataaudit.io.output_set import check_file_target
    from dataaudit.io.outputs import write_rows_csv

    if on_invalid not in ON_INVALID:
        raise ConfigError(f"on_invalid={on_invalid!r} must be one of {list(ON_INVALID)}.")
    from dataaudit.transforms.fitted import fitted_transform

    art = load_artifacts(artifacts, load_splits=False)
    transform_ = fitted_transform(art)
    manifest = art.manifest
    label = manifest.label.name
    read_with: str | None = None
    if isinstance(data, pd.DataFrame):
        frame, source = data.reset_index(drop=True).copy(), "the data"
    else:
        frame, _, read_with = read_table_encoded(data, encoding)
        source = str(data)
    frame.columns = [str(c) for c in frame.columns]
    empty_label = None
    if label and label in frame.columns and len(frame) and _all_missing(frame[label]):
        # New rows to score often carry the label column with nothing in it: that is an absent label.
        frame = frame.drop(columns=[label])
        empty_label = label
    schema = manifest.schema.to_dict()
    expected = [c for c in schema["columns"] if c != label or label in frame.columns]
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema["columns"]]
    coerced = _coerce_to_schema(frame, schema)
    report = validate(frame, art.suite)
    report.violations[:0] = coerced
    if missing or extra or report.table_level:
        # The column-list expectation repeats every column; the missing/new lists say it shorter.
        problems = [v.message for v in report.table_level
                    if not (missing or extra) or v.expectation != "expect_table_columns_to_match_ordered_list"]
        if missing:
            problems.insert(0, f"missing column(s) {missing}")
        if extra:
            problems.insert(0, f"new column(s) {extra} not seen at fit time")
        raise InputError(
            f"{source} does not match the schema the transform was fitted on: " + "; ".join(dict.fromkeys(problems))
            + ". Pass a file with the training columns and types."
        )
    bad_rows = report.bad_rows
    quarantine_path: Path | None = None
    out = Path(out)
    if len(bad_rows) and on_invalid == "fail":
        error = ValidationFailed(
            f"{source}: {len(report.violations)} expectation(s) violated by {len(bad_rows)} row(s): "
            + "; ".join(report.lines()) + ". Fix the data or pass --on-invalid quarantine."
        )
        error.report = report  # type: ignore[attr-defined]
        raise error
    keep = np.setdiff1d(np.arange(len(frame)), bad_rows)
    check_file_target(out)
    quarantine_target = out.with_name(out.name.removesuffix(".npz") + ".quarantine.csv")
    quarantine = None
    if len(bad_rows):
        reasons: dict[int, list[str]] = {int(r): [] for r in bad_rows}
        for v in report.violations:
            for r in v.rows:
                reasons[int(r)].append(f"{v.expectation}:{v.column}")
        quarantine = quarantine_frame(frame, bad_rows, ["invalid " + ";".join(reasons[int(r)]) for r in bad_rows],
                                      source=None if isinstance(data, pd.DataFrame) else Path(data),
                                      encoding=read_with)
        quarantine_path = quarantine_target
    transform_.encoder.unknown_counts_ = {}
    encoded = transform_.encoder.transform(frame, rows=keep)
    X = transform_.apply_encoded(encoded)
    arrays: dict[str, np.ndarray] = {"X": X, "row": keep.astype(np.int64)}
    if label and label in frame.columns:
        if manifest.task == "classification":
            classes = manifest.label.classes
            arrays["y"] = np.array([code_of(v, classes) for v in frame[label].iloc[keep].tolist()], dtype=np.int64)
        else:
            arrays["y"] = pd.to_numeric(frame[label].iloc[keep], errors="coerce").to_numpy(dtype=np.float64)
    # The arrays and their quarantine.csv appear as a pair or not at all; without quarantined rows,
    # a quarantine.csv an earlier run wrote is removed with the same commit (it describes other rows).
    with output_file_set([out, quarantine_target], "transform") as staged:
        if quarantine is not None:
            write_rows_csv(quarantine, staged[quarantine_target])
        NpzStreamWriter(staged[out], {k: (v.shape, v.dtype) for k, v in arrays.items()}).save_all(arrays)
    return TransformOutcome(
        out=out, n_rows=len(frame), n_transformed=len(keep), n_quarantined=len(bad_rows),
        validation=report, unknown_categories=dict(transform_.encoder.unknown_counts_),
        quarantine_path=quarantine_path, empty_label=empty_label,
    )
