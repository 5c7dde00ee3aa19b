"""Run one CLI command in-process on a generated file and judge how it ended.

The contract (issue 8): every run ends in exit 0/1 with a complete output set, or in exit 2 with
exactly one line on stderr that names the input file and carries no traceback; nothing outside
``--out`` is created, changed or removed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

# ------------------------------------------------------------------------------------- profiles
# Under `make test` (HYPOTHESIS_PROFILE unset or "ci"): derandomized, a fixed number of examples,
# no deadline (an example is a whole CLI command). Under `make fuzz` (HYPOTHESIS_PROFILE=fuzz, or
# the suite-wide "explore"): random examples, FUZZ_SCALE times as many.
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.large_base_example]
settings.register_profile("fuzz-ci", derandomize=True, deadline=None, database=None,
                          suppress_health_check=_HEALTH, print_blob=False)
settings.register_profile("fuzz-hunt", derandomize=False, deadline=None, suppress_health_check=_HEALTH,
                          print_blob=True)
HUNT = os.environ.get("HYPOTHESIS_PROFILE") in ("fuzz", "explore")
PROFILE = "fuzz-hunt" if HUNT else "fuzz-ci"
SCALE = int(os.environ.get("FUZZ_SCALE", "20")) if HUNT else 1
# FUZZ_CENSUS=1 records every outcome without failing (to count outcomes on old code);
# FUZZ_REPORT=path writes the counts as JSON at the end of the session.
CENSUS = os.environ.get("FUZZ_CENSUS") == "1"
OUTCOMES: Counter[tuple[str, str]] = Counter()
EXAMPLES: dict[tuple[str, str], str] = {}
LOG: list[str] = []  # every outcome in order, written with FUZZ_REPORT


def fuzz_settings(max_examples: int) -> settings:
    """The active profile with this test's example budget (times SCALE under ``make fuzz``)."""
    return settings(settings.get_profile(PROFILE), max_examples=max_examples * SCALE)


# -------------------------------------------------------------------------------------- outputs
INSPECT_FILES = ("findings.json", "rows.csv", "expectations.json", "report.html")
ARTIFACT_FILES = ("manifest.json", "transform.npz", "train.npz", "val.npz", "test.npz",
                  "quarantine.csv", "expectations.json")


@dataclass
class Outcome:
    kind: str  # ok | findings | clean_error | traceback | bad_error | incomplete | stray_files
    detail: str = ""


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` outside ``skip``, with its size and modification time."""
    seen: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d != skip]
        for name in dirs:  # a folder counts by its presence (its mtime moves when --out appears)
            seen[str((here / name).relative_to(root)) + "/"] = (0, 0)
        for name in files:
            stat = (here / name).lstat()
            seen[str((here / name).relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return seen


@contextmanager
def workspace() -> Iterator[tuple[Path, Path, Path]]:
    """A fresh folder holding the input folder (``in/``) and the current directory (``cwd/``)."""
    with tempfile.TemporaryDirectory(prefix="dataaudit-fuzz-") as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        (root / "cwd").mkdir()
        before = os.getcwd()
        os.chdir(root / "cwd")
        try:
            yield root, root / "in", root / "cwd"
        finally:
            os.chdir(before)


def _complete(out: Path, expected: tuple[str, ...]) -> str:
    missing = [name for name in expected if not (out / name).is_file()]
    if missing:
        return f"missing {missing} in {out}"
    for name in expected:
        if name.endswith(".json"):
            try:
                json.loads((out / name).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                return f"{name} does not parse: {exc}"
    return ""


def run_command(command: str, data: Path, args: list[str], root: Path, out: Path) -> Outcome:
    """Invoke ``dataaudit COMMAND DATA ARGS --out OUT`` in-process and classify the result."""
    from typer.testing import CliRunner

    from dataaudit.cli import app

    before = _snapshot(root, out)
    result = CliRunner().invoke(app, [command, str(data), *args, "--out", str(out)])
    after = _snapshot(root, out)
    outcome = _classify(command, data, result, out)
    if outcome.kind in ("ok", "findings", "clean_error"):
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            outcome = Outcome("stray_files", f"touched outside --out: {changed[:5]}")
    return outcome


def _classify(command: str, data: Path, result: object, out: Path) -> Outcome:
    exception = getattr(result, "exception", None)
    stdout = getattr(result, "stdout", "")
    stderr = getattr(result, "stderr", "")
    if exception is not None and not isinstance(exception, SystemExit):
        return Outcome("traceback", f"{type(exception).__name__}: {str(exception)[:300]}")
    code = getattr(result, "exit_code", None)
    if "Traceback (most recent call last)" in stdout + stderr:
        return Outcome("traceback", (stdout + stderr)[-300:])
    if code in (0, 1):
        expected = INSPECT_FILES if command == "inspect" else ARTIFACT_FILES
        problem = _complete(out, expected)
        if problem:
            return Outcome("incomplete", problem)
        return Outcome("ok" if code == 0 else "findings")
    if code == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        if len(lines) != 1:
            return Outcome("bad_error", f"{len(lines)} stderr lines: {stderr[:300]!r}")
        if data.name not in lines[0]:
            return Outcome("bad_error", f"does not name {data.name}: {lines[0][:300]!r}")
        return Outcome("clean_error", lines[0][:200])
    return Outcome("bad_error", f"exit code {code}: {stderr[:300]!r}")


GOOD = ("ok", "findings", "clean_error")


def judge(test: str, outcome: Outcome, case: object) -> None:
    """Count the outcome; fail unless it is one the contract allows (or when only counting)."""
    OUTCOMES[(test, outcome.kind)] += 1
    LOG.append(f"{test} {outcome.kind} {outcome.detail[:200]}")
    if os.environ.get("FUZZ_VERBOSE"):
        print(f"\n[{test}] {outcome.kind}: {outcome.detail[:160]}")
        if os.environ.get("FUZZ_VERBOSE") == "2":
            print(f"    case: {case!r}"[:700])
    if outcome.kind not in GOOD:
        EXAMPLES.setdefault((test, outcome.kind), f"{outcome.detail} | {case!r}"[:800])
    if os.environ.get("FUZZ_REPORT"):
        write_report()  # after every example, so a hunt stopped early still leaves its counts
    if not CENSUS:
        assert outcome.kind in GOOD, f"{outcome.kind}: {outcome.detail}"


def write_report() -> None:
    path = os.environ.get("FUZZ_REPORT")
    if not path:
        return
    by_test: dict[str, dict[str, int]] = {}
    for (test, kind), count in sorted(OUTCOMES.items()):
        by_test.setdefault(test, {})[kind] = count
    examples = {f"{t}:{k}": v for (t, k), v in sorted(EXAMPLES.items())}
    Path(path).write_text(json.dumps({"profile": PROFILE, "outcomes": by_test, "examples": examples,
                                      "log": LOG}, indent=2), encoding="utf-8")
