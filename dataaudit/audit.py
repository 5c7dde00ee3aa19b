"""Run the registered checks on a dataset and collect an AuditResult."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from dataaudit import __version__
from dataaudit.background import check_workers, use_background
from dataaudit.checks import AuditContext, Check, make_check, ordered_checks
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


def _run_one(check_cls: Any, check: Check, reason: str | None, dataset: Dataset, context: AuditContext,
             strict: bool, planned_seconds: float) -> CheckResult:
    """One check's result: skipped, what ``run`` returned, or errored (``strict``: re-raised)."""
    description = check_cls.description()
    if reason is not None:
        return CheckResult(check=check_cls.name, status="skipped", reason=reason, description=description)
    t0 = time.perf_counter()
    try:
        result = check.run(dataset, context)
    except Exception as exc:  # a crashing check is recorded, never forgotten
        if strict:
            raise
        result = CheckResult(check=check_cls.name, status="errored", error=f"{type(exc).__name__}: {exc}")
    return replace(
        result, seconds=planned_seconds + time.perf_counter() - t0, description=description,
        findings=tuple(_described(check_cls, f) for f in result.findings),
    )


def _fill_wait(work: Callable[[], None], progress: Progress) -> None:
    """Run ``work`` while the background worker is busy; a failure only costs the head start."""
    progress.step("preparing the outputs while the background worker fits")
    try:
        work()
    except Exception:  # noqa: BLE001, S110 - warm-up only: the real work meets and reports the error
        pass


def run_checks(
    dataset: Dataset,
    *,
    test: Dataset | None = None,
    checks: Iterable[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    strict: bool = False,
    progress: Progress = NO_PROGRESS,
    workers: int | str | None = "auto",
    while_waiting: Callable[[], None] | None = None,
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
    workers : int or "auto"
        ``1``: every check runs in this process. ``"auto"`` (or None): ``label_issues``' model
        fitting runs in one background worker process while the other checks run, when at least
        two CPUs are usable and the table has at least ``dataaudit.background.AUTO_MIN_ROWS`` rows;
        ``2`` or more: in the worker whatever the size. The findings are the same either way.
    while_waiting : callable, optional
        Work the caller needs next (``write_audit_outputs``' imports and templates:
        ``dataaudit.audit_outputs.prepare_outputs``), run once the other checks are done if the
        background worker is still fitting, so that it fills time this process would spend
        waiting; not run otherwise. It must not change anything the checks read; an exception
        from it is ignored (the caller meets it again when it does the work for real).

    Raises
    ------
    ConfigError
        An unknown check or option, or a ``workers`` that is not ``"auto"`` or an integer >= 1.
    """
    options = dict(options or {})
    progress.step("importing the checks")
    available = ordered_checks()
    known = {c.name for c in available}
    selected = set(checks) if checks is not None else known
    unknown = sorted((selected | set(options)) - known)
    if unknown:
        raise ConfigError(f"Unknown check(s) {unknown}; known checks are {sorted(known)}.")
    workers = check_workers(workers)
    context = AuditContext(test=test, seed=seed, progress=progress)
    started = time.perf_counter()
    chosen = [check_cls for check_cls in available if check_cls.name in selected]
    made = {check_cls.name: make_check(check_cls.name, options.get(check_cls.name)) for check_cls in chosen}
    reasons = {check_cls.name: _skip_reason(check_cls, dataset, context) for check_cls in chosen}
    offloading = [name for name, check in made.items()
                  if reasons[name] is None and type(check).plan_background is not Check.plan_background]
    worker = None
    if offloading and use_background(workers, dataset.n_rows):
        from dataaudit.background import BackgroundWorker

        worker = BackgroundWorker()  # its imports overlap the planning below and the other checks
    done: dict[str, CheckResult] = {}
    try:
        planning: dict[str, float] = {}
        for name in offloading if worker is not None else ():
            assert worker is not None
            t0 = time.perf_counter()
            progress.step(f"{name}: preparing the background work")
            try:
                offload = made[name].plan_background(dataset, context)
            except Exception:  # noqa: BLE001 - run() meets the same error and records it
                offload = None
            if offload is not None:
                context.pending[name] = worker.submit(offload)
                progress.background(f"{offload.label} fitting")
            planning[name] = time.perf_counter() - t0
        # Checks whose heavy part runs in the worker go last, so that the others overlap it.
        order = ([c for c in chosen if c.name not in context.pending]
                 + [c for c in chosen if c.name in context.pending])
        for index, check_cls in enumerate(order, start=1):
            pending = context.pending.get(check_cls.name)
            if while_waiting is not None and pending is not None and pending.busy():
                _fill_wait(while_waiting, progress)
                while_waiting = None
            progress.task(check_cls.name, index, len(order))
            done[check_cls.name] = _run_one(check_cls, made[check_cls.name], reasons[check_cls.name], dataset,
                                            context, strict, planning.get(check_cls.name, 0.0))
    except BaseException:
        if worker is not None:
            worker.close(interrupted=True)
        raise
    finally:
        progress.background(None)
    if worker is not None:
        worker.close()
    results = [done[check_cls.name] for check_cls in chosen]
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
    workers: int | str | None = "auto",
) -> AuditResult:
    """Load ``path`` (CSV, TSV or Parquet) and run every check on it.

    Prints nothing; pass a ``progress`` reporter (``dataaudit.progress.Progress``) to follow the
    loading and each check as it runs. ``encoding`` is the text encoding of a CSV/TSV ``path`` and
    ``test`` that are not UTF-8, as ``dataaudit inspect --encoding`` takes it (default: detected);
    an unknown or wrong one raises ``InputError``. ``workers`` is ``run_checks``' (``1``: no
    background worker; ``"auto"``: one for ``label_issues``' models on large enough tables).

    Examples
    --------
    >>> result = inspect("data.csv", label="label")          # doctest: +SKIP
    >>> [f.code for f in result.findings]                     # doctest: +SKIP
    ['conflicting_labels', 'exact_duplicate', 'label_issue']
    """
    from dataaudit.io.loading import load_dataset, load_test_dataset

    check_workers(workers)  # a bad value fails before the loading, not after it
    progress.stage("loading")
    dataset = load_dataset(path, label=label, id_column=id_column, encoding=encoding, group=group, task=task)
    test_dataset = None
    if test is not None:
        test_dataset = load_test_dataset(test, dataset, id_column=id_column, encoding=encoding)
    progress.stage("checks")
    return run_checks(dataset, test=test_dataset, checks=checks, options=options, seed=seed, strict=strict,
                      progress=progress, workers=workers)
