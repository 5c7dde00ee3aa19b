"""Run the registered checks on a dataset and collect an AuditResult."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from dataaudit import __version__
from dataaudit.checks import AuditContext, make_check, ordered_checks
from dataaudit.dataset import Dataset
from dataaudit.exceptions import ConfigError
from dataaudit.findings import AuditResult, CheckResult, Finding
from dataaudit.progress import NO_PROGRESS, Progress

__all__ = ["run_checks", "inspect"]


def _described(check_cls: Any, finding: Finding) -> Finding:
    """The finding with its check's declared metadata for its code (title, action, section)."""
    for code in check_cls.codes:
        if code == finding.code:
            return finding.described(code)
    return finding


def _skip_reason(check_cls: Any, dataset: Dataset, context: AuditContext) -> str | None:
    if check_cls.needs_test and context.test is None:
        return "needs a test file (--test)"
    if check_cls.needs_label and dataset.label is None:
        return "needs a label column (--label)"
    if check_cls.needs_classes:
        if dataset.label is None:
            return "needs a label column (--label)"
        if dataset.task != "classification":
            return "the label looks like a regression target, not classes"
        if dataset.frame[dataset.label].nunique(dropna=True) < 2:
            return "the label has a single class"
    return None


def run_checks(
    dataset: Dataset,
    *,
    test: Dataset | None = None,
    checks: Iterable[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    strict: bool = False,
    progress: Progress = NO_PROGRESS,
) -> AuditResult:
    """Run checks on ``dataset`` and return an AuditResult.

    Parameters
    ----------
    dataset : Dataset
        The (training) table.
    test : Dataset, optional
        A second table; enables ``train_test_overlap`` and ``train_test_drift``.
    checks : iterable of str, optional
        Names of the checks to run (default: all registered).
    options : dict, optional
        ``{check_name: {option: value}}``, passed to the check constructors.
    seed : int
        Seed for every randomized check; same input + same seed = same findings.
    strict : bool
        Re-raise a check's exception instead of recording it as ``errored``.
    progress : Progress
        Told each check as it starts (``task``) and, through ``AuditContext.progress``, the
        sub-steps of long checks; silent by default (``dataaudit.progress``).
    """
    options = dict(options or {})
    progress.step("importing the checks")
    available = ordered_checks()
    known = {c.name for c in available}
    selected = set(checks) if checks is not None else known
    unknown = sorted((selected | set(options)) - known)
    if unknown:
        raise ConfigError(f"Unknown check(s) {unknown}; known checks are {sorted(known)}.")
    context = AuditContext(test=test, seed=seed, progress=progress)
    results: list[CheckResult] = []
    started = time.perf_counter()
    chosen = [check_cls for check_cls in available if check_cls.name in selected]
    for index, check_cls in enumerate(chosen, start=1):
        progress.task(check_cls.name, index, len(chosen))
        check = make_check(check_cls.name, options.get(check_cls.name))
        description = check_cls.description()
        reason = _skip_reason(check_cls, dataset, context)
        if reason is not None:
            results.append(CheckResult(check=check_cls.name, status="skipped", reason=reason,
                                       description=description))
            continue
        t0 = time.perf_counter()
        try:
            result = check.run(dataset, context)
        except Exception as exc:  # a crashing check is recorded, never forgotten
            if strict:
                raise
            result = CheckResult(
                check=check_cls.name, status="errored", error=f"{type(exc).__name__}: {exc}"
            )
        results.append(replace(
            result, seconds=time.perf_counter() - t0, description=description,
            findings=tuple(_described(check_cls, f) for f in result.findings),
        ))
    return AuditResult(
        input=dataset.describe_input(),
        checks=results,
        version=__version__,
        seconds=time.perf_counter() - started,
        dataset=dataset,
        test_dataset=test,
        shared=context.shared,
    )


def inspect(
    path: str | Path,
    label: str | None = None,
    *,
    test: str | Path | None = None,
    id_column: str | None = None,
    group: str | None = None,
    task: str | None = None,
    checks: Iterable[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    strict: bool = False,
    progress: Progress = NO_PROGRESS,
    encoding: str | None = None,
) -> AuditResult:
    """Load ``path`` (CSV, TSV or Parquet) and run every check on it.

    Prints nothing; pass a ``progress`` reporter (``dataaudit.progress.Progress``) to follow the
    loading and each check as it runs. ``encoding`` is the text encoding of a CSV/TSV ``path`` and
    ``test`` that are not UTF-8, as ``dataaudit inspect --encoding`` takes it (default: detected);
    an unknown or wrong one raises ``InputError``.

    Examples
    --------
    >>> result = inspect("data.csv", label="label")          # doctest: +SKIP
    >>> [f.code for f in result.findings]                     # doctest: +SKIP
    ['conflicting_labels', 'exact_duplicate', 'label_issue']
    """
    from dataaudit.io.loading import load_dataset, load_test_dataset

    progress.stage("loading")
    dataset = load_dataset(path, label=label, id_column=id_column, encoding=encoding, group=group, task=task)
    test_dataset = None
    if test is not None:
        test_dataset = load_test_dataset(test, dataset, id_column=id_column, encoding=encoding)
    progress.stage("checks")
    return run_checks(dataset, test=test_dataset, checks=checks, options=options, seed=seed, strict=strict,
                      progress=progress)
