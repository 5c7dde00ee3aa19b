"""The check protocol and registry. Adding a check is one new module in this package plus its test."""

from __future__ import annotations

import inspect as _inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code, Finding
from dataaudit.progress import NO_PROGRESS, Progress
from dataaudit.shared import Memo, SharedComputations

if TYPE_CHECKING:
    from dataaudit.background import Offload, Pending
    from dataaudit.dataset import Dataset

__all__ = ["Check", "AuditContext", "register", "REGISTRY", "make_check"]

REGISTRY: dict[str, type[Check]] = {}


@dataclass
class AuditContext:
    """What a check may read besides its dataset: the test set, the seed, what checks share.

    ``shared`` holds the typed results other parts read (the report draws its heatmap from
    ``shared.correlations``); the runner passes it on to the AuditResult. ``memo`` holds what
    checks reuse among themselves, under typed keys (``Memo``); it lives for one audit.
    ``progress`` receives the sub-steps of a long check (``context.progress.step("fold 2 of 5")``);
    it only observes, and by default it is silent. ``pending`` holds, by check name, the offloads
    ``run_checks`` started in a background worker (``Check.plan_background``); the check's ``run``
    takes its own out and collects the result.
    """

    test: Dataset | None = None
    seed: int = 0
    memo: Memo = field(default_factory=Memo)
    shared: SharedComputations = field(default_factory=SharedComputations)
    progress: Progress = NO_PROGRESS
    pending: dict[str, Pending] = field(default_factory=dict)


class Check:
    """Base class of every check.

    Subclasses set ``name`` (the key in findings.json ``checks`` and in option tables), ``codes``
    (the finding codes they may emit, each a ``Code`` with its title, suggested action, report
    section and whether it flags rows), ``order`` (position in reports) and the requirement flags;
    they take their options as keyword arguments with defaults and implement ``run``. The class
    docstring's first line is shown in the report. ``run`` never prints; it returns a CheckResult
    or raises (the runner records the error and goes on).
    """

    name: ClassVar[str] = ""
    codes: ClassVar[tuple[Code, ...]] = ()
    order: ClassVar[int] = 100
    needs_label: ClassVar[bool] = False  # skipped without a label column
    needs_classes: ClassVar[bool] = False  # skipped unless the label has >= 2 classes
    needs_test: ClassVar[bool] = False  # skipped without --test

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        raise NotImplementedError

    def plan_background(self, dataset: Dataset, context: AuditContext) -> Offload | None:
        """The heavy part of ``run`` as an ``Offload`` (a pure function of arrays) to start in a
        background worker before the other checks run, or None (the default: ``run`` does it all).

        A check that returns one finds it, submitted, in ``context.pending[name]`` when its ``run``
        is called, and must give the same result as when ``run`` computes it inline.
        """
        return None

    @classmethod
    def description(cls) -> str:
        doc = _inspect.getdoc(cls) or ""
        return doc.splitlines()[0] if doc else ""

    @classmethod
    def option_names(cls) -> list[str]:
        signature = _inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    @classmethod
    def code(cls, code: str) -> Code:
        """The declared ``Code`` named ``code``."""
        for declared in cls.codes:
            if declared == code:
                return declared
        raise KeyError(f"check {cls.name!r} does not declare code {code!r}; it declares {list(cls.codes)}")

    # Helpers so that checks build results the same way.
    def result(self, findings: list[Finding] | None = None, **kwargs: Any) -> CheckResult:
        return CheckResult(check=self.name, findings=tuple(findings or ()), **kwargs)

    def skip(self, reason: str, **stats: Any) -> CheckResult:
        return CheckResult(check=self.name, status="skipped", reason=reason, stats=stats)

    def finding(self, code: str, severity: str, message: str, **kwargs: Any) -> Finding:
        return Finding(check=self.name, code=self.code(code), severity=severity, message=message, **kwargs)  # type: ignore[arg-type]


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: add a check to ``REGISTRY`` under its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise TypeError(f"check name {cls.name!r} registered twice")
    if not (cls.__doc__ or "").strip():
        raise TypeError(f"{cls.__name__} needs a docstring: its first line is shown in the report")
    undeclared = [code for code in cls.codes if not isinstance(code, Code)]
    if undeclared:
        raise TypeError(f"{cls.__name__} declares codes {undeclared} without metadata: declare each as "
                        "Code(name, title=..., action=..., section=...)")
    REGISTRY[cls.name] = cls
    return cls


def make_check(name: str, options: dict[str, Any] | None = None) -> Check:
    """Instantiate a registered check with options, with a clear error for unknown names/options."""
    if name not in REGISTRY:
        raise ConfigError(f"Unknown check {name!r}; known checks are {sorted(REGISTRY)}.")
    cls = REGISTRY[name]
    options = dict(options or {})
    unknown = sorted(set(options) - set(cls.option_names()))
    if unknown:
        raise ConfigError(
            f"Check {name!r} has no option(s) {unknown}; its options are {cls.option_names()}."
        )
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Bad options for check {name!r}: {exc}") from exc
