"""fit_transform and transform: clean → split → encode → scale → whiten, fit on train only.

``fit_transform(data, label, out, config=...)`` reads a table, applies the cleaning policy
(``cleaning.py``), splits leakage-safely (``split.py``), fits the encoder (``encoding.py``), the
scaler and the PCA/ZCA whitening on the training rows only, verifies the result and writes the
artifact folder (``dataaudit.io.artifacts``) atomically. ``transform(data, artifacts, out)``
validates new data against the saved Great Expectations suite and applies the saved transform.

This module is the stage's front door; the work is split along its seams:

- ``config.py``: ``TransformConfig`` (every option) and the summaries the stage returns;
- ``plan.py``: the cleaning and split plan (which row is quarantined, relabelled, in which split);
- ``fitting.py``: the scaler/PCA fit from streamed moments, verification, manifest and artifact folder;
- ``fit_memory.py``: the in-memory fit; ``fit_chunked.py``: the two-pass fit of a CSV larger than
  memory (``TransformConfig.chunksize``);
- ``apply.py``: ``transform`` of new data with saved artifacts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dataaudit.progress import NO_PROGRESS, Progress
from dataaudit.transforms.apply import transform
from dataaudit.transforms.config import (
    TransformConfig,
    TransformOutcome,
    TransformSummary,
    parse_components,
)
from dataaudit.transforms.fit_chunked import fit_chunked
from dataaudit.transforms.fit_memory import fit_in_memory

__all__ = ["parse_components", "TransformConfig", "TransformSummary", "TransformOutcome", "fit_transform", "transform"]


def fit_transform(
    data: Any,
    label: str,
    out: str | Path,
    *,
    findings: Any = None,
    config: TransformConfig | None = None,
    progress: Progress = NO_PROGRESS,
) -> TransformSummary:
    """Clean, split, fit the transforms on train only, and save the artifact folder ``out``.

    Parameters
    ----------
    data : str, Path, Dataset or DataFrame
        Input table (CSV/TSV/Parquet path, or in memory).
    label : str
        Label column.
    out : str or Path
        Artifact folder (replaced atomically).
    findings : str, Path or AuditResult, optional
        ``findings.json`` of ``dataaudit inspect`` on the same file; without it the checks the
        policy needs (near duplicates; label issues when suspects are not kept) are run.
    config : TransformConfig, optional
        Policy, split and transform options (defaults: see TransformConfig).
    progress : Progress, optional
        Told each stage (loading, cleaning, split, fit, apply, writing), the checks the cleaning
        runs and, with ``chunksize``, the chunks done; silent by default (``dataaudit.progress``).

    Returns
    -------
    TransformSummary

    Raises
    ------
    InputError
        Unreadable input, unknown label or --drop column, findings for another file.
    ConfigError
        Invalid options.

    Examples
    --------
    >>> summary = fit_transform("data.csv", "label", "artifacts/",
    ...                         config=TransformConfig(whiten="zca"))      # doctest: +SKIP
    >>> summary.sizes                                                        # doctest: +SKIP
    {'train': 1437, 'val': 180, 'test': 180}
    """
    config = config or TransformConfig()
    started = time.perf_counter()
    if config.chunksize:
        return fit_chunked(data, label, Path(out), findings, config, started, progress)
    return fit_in_memory(data, label, Path(out), findings, config, started, progress)
