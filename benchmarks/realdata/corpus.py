"""The real-data corpus: load the tables and the hand-written expectations, run dataaudit, judge.

Used by the CI test (``tests/realdata/test_corpus.py``, one test per expectation) and by
``table.py`` (the README table). The tables are gzipped CSV files written by ``export.py``; they
are decompressed into a scratch folder so that dataaudit reads them the way a user's CSV is read.

An expectation (``expectations.toml``) is one of:

- ``must``: some finding matches (code, and optionally column, severity bounds, row bounds,
  details, a list of rows it must include);
- ``must_not``: no finding matches (the same filters: e.g. ``min_severity = "error"`` forbids the
  code at error, ``min_row_share = 0.05`` forbids it with more than 5 % of the rows flagged);
- ``task``: the task dataaudit decides for the label;
- ``check_runs``: a check runs (neither skipped nor errored);
- ``no_warnings``: ``inspect`` emits no Python warning;
- ``fit_transform``: what ``fit_transform`` keeps (share of rows, columns used or not as
  features, split sizes close to the requested fractions, entity groups within one split).

An expectation with ``gap = "..."`` is a known gap: the current code does not meet it yet, and the
gap names the issue point it waits for. The test runs it as ``xfail(strict=True)``, so when the fix
lands the test XPASSes and fails until the gap marker is removed.
"""

from __future__ import annotations

import gzip
import json
import re
import tomllib
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
EXPECTATIONS = HERE / "expectations.toml"
MANIFEST = HERE / "manifest.json"

SEVERITY_LEVEL = {"info": 0, "warning": 1, "error": 2}
KINDS = ("must", "must_not", "task", "check_runs", "no_warnings", "fit_transform")
FINDING_KEYS = {
    "code", "column", "columns_any", "columns_match", "min_severity", "max_severity", "min_rows",
    "max_rows", "min_row_share", "max_row_share", "details", "rows_include", "where",
    "tells_class", "missing_in_classes",
}
COMMON_KEYS = {"kind", "why", "gap", "run"}
FIT_KEYS = {"min_row_share", "features", "not_features", "split_tolerance", "groups_in_one_split",
            "options"}


@dataclass(frozen=True)
class Expectation:
    table: str
    index: int
    spec: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.spec["kind"])

    @property
    def gap(self) -> str | None:
        return self.spec.get("gap")

    @property
    def run(self) -> str:
        return str(self.spec.get("run", "default"))

    @property
    def id(self) -> str:
        s = self.spec
        what = s.get("code") or s.get("check") or s.get("value") or ""
        where = s.get("column") or "|".join(s.get("columns_any", [])) or s.get("columns_match") or ""
        parts = [self.table, self.kind, str(what), str(where)]
        if self.run != "default":
            parts.append(self.run)
        return "-".join(p for p in parts if p) + f"-{self.index}"

    def describe(self) -> str:
        s = {k: v for k, v in self.spec.items() if k not in ("why", "gap", "kind")}
        return f"{self.kind} {json.dumps(s, sort_keys=True)}"


@dataclass(frozen=True)
class TableSpec:
    name: str
    file: str
    label: str | None
    judgement: str
    runs: dict[str, dict[str, Any]]
    expectations: tuple[Expectation, ...]


def load_expectations(path: Path = EXPECTATIONS) -> dict[str, TableSpec]:
    """Parse and validate ``expectations.toml`` (an unknown key is an error, not ignored)."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    tables: dict[str, TableSpec] = {}
    for name, body in raw["tables"].items():
        runs = {"default": {}} | {k: dict(v) for k, v in body.get("runs", {}).items()}
        items = []
        for i, spec in enumerate(body.get("expect", [])):
            kind = spec.get("kind")
            if kind not in KINDS:
                raise ValueError(f"{name} expectation {i}: kind {kind!r} is not one of {KINDS}")
            allowed = COMMON_KEYS | {
                "must": FINDING_KEYS, "must_not": FINDING_KEYS, "task": {"value"},
                "check_runs": {"check"}, "no_warnings": {"report"}, "fit_transform": FIT_KEYS,
            }[kind]
            unknown = set(spec) - allowed
            if unknown:
                raise ValueError(f"{name} expectation {i} ({kind}): unknown keys {sorted(unknown)}")
            if spec.get("run", "default") not in runs:
                raise ValueError(f"{name} expectation {i}: no run named {spec['run']!r}")
            if kind in ("must", "must_not") and "code" not in spec:
                raise ValueError(f"{name} expectation {i}: a {kind} expectation needs a code")
            if not spec.get("why"):
                raise ValueError(f"{name} expectation {i}: say why (a `why` string)")
            items.append(Expectation(name, i, dict(spec)))
        tables[name] = TableSpec(name, body.get("file", name), body.get("label"),
                                 body.get("judgement", ""), runs, tuple(items))
    return tables


def materialize(file: str, folder: Path) -> Path:
    """Decompress ``data/<file>.csv.gz`` into ``folder`` (once) and return the CSV path."""
    target = folder / f"{file}.csv"
    if not target.exists():
        payload = gzip.decompress((DATA / f"{file}.csv.gz").read_bytes())
        tmp = target.with_suffix(".part")
        tmp.write_bytes(payload)
        tmp.replace(target)
    return target


# --------------------------------------------------------------------------------------------
# Running dataaudit (cached per table and run variant)


@dataclass
class InspectRun:
    result: Any = None  # AuditResult
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def frame(self) -> Any:
        return self.result.dataset.frame


@dataclass
class FitRun:
    summary: Any = None  # TransformSummary
    error: BaseException | None = None


class Corpus:
    """Runs inspect / fit_transform on the corpus tables, each at most once per variant."""

    def __init__(self, workdir: Path, tables: dict[str, TableSpec] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tables = tables if tables is not None else load_expectations()
        self._inspect: dict[tuple[str, str], InspectRun] = {}
        self._fit: dict[tuple[str, str, str], FitRun] = {}

    def path(self, table: str) -> Path:
        return materialize(self.tables[table].file, self.workdir)

    def inspect(self, table: str, run: str = "default") -> InspectRun:
        key = (table, run)
        if key not in self._inspect:
            import dataaudit

            spec = self.tables[table]
            options = dict(spec.runs[run].get("inspect", {}))
            outcome = InspectRun()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    outcome.result = dataaudit.inspect(self.path(table), label=spec.label, seed=0,
                                                       **options)
                except Exception as exc:  # recorded; every expectation on this run then fails
                    outcome.error = exc
            outcome.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
            self._inspect[key] = outcome
        return self._inspect[key]

    def render_report(self, table: str, run: str = "default") -> list[str]:
        """Render report.html for an inspect run; return the warnings raised while rendering."""
        result = self.inspect(table, run).result
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result.to_html(self.workdir / f"report-{table}-{run}.html")
            except Exception as exc:  # a crash is a failed expectation, with its reason
                return [f"report crashed: {type(exc).__name__}: {exc}"]
        return [f"{w.category.__name__}: {w.message}" for w in caught]

    def fit_transform(self, table: str, options: dict[str, Any], run: str = "default") -> FitRun:
        key = (table, run, json.dumps(options, sort_keys=True))
        if key not in self._fit:
            import dataaudit

            spec = self.tables[table]
            outcome = FitRun()
            inspected = self.inspect(table, run)
            try:
                if inspected.error is not None:
                    raise inspected.error
                if spec.label is None:
                    raise ValueError(f"{table} has no label; fit_transform needs one")
                out = self.workdir / f"artifacts-{table}-{run}-{len(self._fit)}"
                config = dataaudit.TransformConfig(**options)
                outcome.summary = dataaudit.fit_transform(
                    self.path(table), spec.label, out, findings=inspected.result, config=config
                )
            except Exception as exc:
                outcome.error = exc
            self._fit[key] = outcome
        return self._fit[key]

    # ----------------------------------------------------------------------------------------
    # Judging one expectation: (met, explanation)

    def judge(self, exp: Expectation) -> tuple[bool, str]:
        spec = exp.spec
        if exp.kind == "fit_transform":
            return self._judge_fit(exp)
        run = self.inspect(exp.table, exp.run)
        if run.error is not None:
            return False, f"inspect failed: {type(run.error).__name__}: {run.error}"
        result = run.result
        if exp.kind == "task":
            task = getattr(result.dataset, "task", None)
            return task == spec["value"], f"task is {task!r}, expected {spec['value']!r}"
        if exp.kind == "check_runs":
            status = {c.check: c for c in result.checks}.get(spec["check"])
            if status is None:
                return False, f"check {spec['check']!r} did not run at all"
            ok = status.status in ("passed", "flagged")
            return ok, f"check {spec['check']!r} {status.status} ({status.reason or status.error or ''})"
        if exp.kind == "no_warnings":
            caught = list(run.warnings)
            if spec.get("report"):
                caught += self.render_report(exp.table, exp.run)
            shown = sorted(set(caught))
            return not caught, (f"{len(caught)} warnings: {shown[:3]}" if caught else "no warnings")
        crashed = [c for c in result.checks if c.status == "errored"
                   and spec["code"] in _declared_codes(c.check)]
        if crashed:
            # A crashed check shows no finding: that proves nothing either way.
            return False, f"check {crashed[0].check!r} errored: {crashed[0].error}"
        matches = [f for f in result.findings if self._finding_matches(f, spec, run)]
        summary = "; ".join(_short(f) for f in matches[:3])
        if exp.kind == "must":
            if matches:
                return True, f"found: {summary}"
            same_code = [_short(f) for f in result.findings if f.code == spec["code"]][:3]
            return False, ("no matching finding" +
                           (f"; findings with that code: {same_code}" if same_code else
                            f"; no finding has code {spec['code']!r}"))
        # must_not
        if matches:
            return False, f"false alarm: {summary}"
        return True, "absent"

    def _finding_matches(self, finding: Any, spec: dict[str, Any], run: InspectRun) -> bool:
        if finding.code != spec["code"]:
            return False
        columns = [str(c) for c in finding.columns]
        if "column" in spec and spec["column"] not in columns:
            return False
        if "columns_any" in spec and not set(spec["columns_any"]) & set(columns):
            return False
        if "columns_match" in spec and not any(re.search(spec["columns_match"], c) for c in columns):
            return False
        level = SEVERITY_LEVEL[finding.severity]
        if "min_severity" in spec and level < SEVERITY_LEVEL[spec["min_severity"]]:
            return False
        if "max_severity" in spec and level > SEVERITY_LEVEL[spec["max_severity"]]:
            return False
        n_flagged = _n_rows_flagged(finding)
        n_rows = int(run.result.input.get("n_rows") or len(run.frame))
        if "min_rows" in spec and n_flagged < spec["min_rows"]:
            return False
        if "max_rows" in spec and n_flagged > spec["max_rows"]:
            return False
        if "min_row_share" in spec and n_flagged <= spec["min_row_share"] * n_rows:
            return False
        if "max_row_share" in spec and n_flagged > spec["max_row_share"] * n_rows:
            return False
        for key, value in spec.get("details", {}).items():
            if finding.details.get(key) != value:
                return False
        if "rows_include" in spec and not set(spec["rows_include"]) <= set(finding.rows):
            return False
        # missing_values: classes whose share of missing cells sets them apart (details.by_class)
        named = {str(entry.get("class")) for entry in finding.details.get("by_class", [])}
        if "tells_class" in spec and bool(named) != bool(spec["tells_class"]):
            return False
        if "missing_in_classes" in spec and not {str(c) for c in spec["missing_in_classes"]} <= named:
            return False
        if "where" in spec:
            return bool(WHERE[spec["where"]](finding, run))
        return True

    def _judge_fit(self, exp: Expectation) -> tuple[bool, str]:
        spec = exp.spec
        fit = self.fit_transform(exp.table, dict(spec.get("options", {})), exp.run)
        if fit.error is not None:
            return False, f"fit_transform failed: {type(fit.error).__name__}: {fit.error}"
        summary = fit.summary
        problems: list[str] = []
        kept = sum(summary.sizes.values())
        share = kept / summary.n_input
        notes = [f"kept {kept}/{summary.n_input} rows ({share:.1%}), sizes {summary.sizes}, "
                 f"quarantined {summary.quarantine_by_reason}"]
        if "min_row_share" in spec and share < spec["min_row_share"]:
            problems.append(f"kept {share:.1%} of rows < {spec['min_row_share']:.0%}")
        used = feature_columns(summary.manifest)
        notes.append(f"features from {sorted(used)[:12]}{' ...' if len(used) > 12 else ''}")
        for column in spec.get("features", []):
            if column not in used:
                problems.append(f"{column!r} is not a feature")
        for column in spec.get("not_features", []):
            if column in used:
                problems.append(f"{column!r} is still a feature")
        if "split_tolerance" in spec:
            fractions = summary.manifest.get("split", {}).get("fractions") or [0.8, 0.1, 0.1]
            for (name, size), fraction in zip(summary.sizes.items(), fractions, strict=False):
                if abs(size / max(kept, 1) - fraction) > spec["split_tolerance"]:
                    problems.append(f"{name} holds {size / max(kept, 1):.1%} of kept rows, asked {fraction:.0%}")
        if "groups_in_one_split" in spec:
            straddling = groups_straddling(summary.out, self.inspect(exp.table, exp.run).frame,
                                           spec["groups_in_one_split"])
            notes.append(f"{straddling} groups of {spec['groups_in_one_split']!r} in several splits")
            if straddling:
                problems.append(f"{straddling} {spec['groups_in_one_split']} groups straddle splits")
        return not problems, "; ".join(problems or notes)


def feature_columns(manifest: dict[str, Any]) -> set[str]:
    """Input columns that feed the feature matrix (per the artifact manifest's encoder)."""
    encoder = manifest.get("encoder", {})
    used: set[str] = set()
    for entry in encoder.get("numeric", []):
        used.add(str(entry.get("name", entry.get("column"))))
    for section in ("categorical", "datetime", "text", "boolean"):
        for entry in encoder.get(section, []):
            if isinstance(entry, dict):
                used.add(str(entry.get("column", entry.get("name"))))
            else:
                used.add(str(entry))
    return used


def groups_straddling(artifacts: Path, frame: Any, column: str) -> int:
    """How many values of ``column`` have rows in more than one of train/val/test."""
    import numpy as np

    split_of: dict[Any, set[str]] = {}
    values = frame[column].to_numpy()
    for name in ("train", "val", "test"):
        path = Path(artifacts) / f"{name}.npz"
        if not path.exists():
            continue
        with np.load(path, allow_pickle=False) as npz:
            rows = npz["row"]
        for value in values[rows]:
            split_of.setdefault(value, set()).add(name)
    return sum(1 for splits in split_of.values() if len(splits) > 1)


def _declared_codes(check_name: str) -> set[str]:
    """The finding codes a registered check declares (empty for an unknown check)."""
    from dataaudit.checks import load_all

    check = load_all().get(check_name)
    return {str(code) for code in getattr(check, "codes", ())}


def _n_rows_flagged(finding: Any) -> int:
    # Some findings list a sample of rows and give the full count in details.
    for key in ("n_rows", "n_flagged", "n_missing"):
        value = finding.details.get(key)
        if isinstance(value, int):
            return max(value, len(finding.rows))
    return len(finding.rows)


def _short(finding: Any) -> str:
    cols = ",".join(str(c) for c in finding.columns[:3]) + ("..." if len(finding.columns) > 3 else "")
    return f"{finding.severity} {finding.code}[{cols}] {finding.message[:140]}"


def _near_copies_differ(finding: Any, run: InspectRun) -> bool:
    """A near-copy group whose members differ in a non-numeric value or in which cells are missing."""
    frame = run.frame
    label = run.result.dataset.label
    roles = getattr(run.result.dataset, "roles", {}) or {}
    categorical = [c for c in frame.columns if c != label and roles.get(c) not in ("numeric", None)
                   and roles.get(c) != "id"]
    groups = finding.details.get("groups") or []
    for group in groups:
        members = frame.iloc[list(group)].drop(columns=[label] if label else [])
        if (members.isna().nunique() > 1).any():
            return True
        for column in categorical:
            if column in members and members[column].astype("string").nunique(dropna=False) > 1:
                return True
    return False


def _near_copies_share_a_spike(finding: Any, run: InspectRun) -> bool:
    """A near-copy group whose members hold the same value of a numeric column that at least 1 % of
    the rows hold (a spike: a balance of 0), so that the column cannot tell them apart."""
    frame = run.frame
    roles = getattr(run.result.dataset, "roles", {}) or {}
    numeric = [c for c in frame.columns if roles.get(c) == "numeric" and c != run.result.dataset.label]
    shares = {c: frame[c].value_counts(normalize=True) for c in numeric}
    for group in finding.details.get("groups") or []:
        members = frame.iloc[list(group)]
        for column in numeric:
            values = members[column].dropna()
            if len(values) == len(members) and values.nunique() == 1 \
                    and float(shares[column].get(values.iloc[0], 0.0)) >= 0.01:
                return True
    return False


WHERE = {"members_differ_in_category_or_missingness": _near_copies_differ,
         "members_share_a_spike": _near_copies_share_a_spike}


# --------------------------------------------------------------------------------------------
# The README table


@dataclass
class TableScore:
    name: str
    shape: tuple[int, int]
    label: str | None
    expected: int = 0
    found: int = 0
    must_not: int = 0
    false_alarms: int = 0
    other: int = 0
    other_met: int = 0
    gaps_open: list[str] = field(default_factory=list)
    gaps_closed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def score(corpus: Corpus) -> list[TableScore]:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))["tables"]
    scores = []
    for name, spec in corpus.tables.items():
        entry = manifest[spec.file]
        s = TableScore(name, (entry["rows"], entry["columns"]), spec.label)
        for exp in spec.expectations:
            met, why = corpus.judge(exp)
            if exp.kind == "must":
                s.expected += 1
                s.found += met
            elif exp.kind == "must_not":
                s.must_not += 1
                s.false_alarms += not met
            else:
                s.other += 1
                s.other_met += met
            if exp.gap and not met:
                s.gaps_open.append(f"{exp.id}: {exp.gap}")
            elif exp.gap and met:
                s.gaps_closed.append(f"{exp.id}: {exp.gap}")
            elif not met:
                s.failures.append(f"{exp.id}: {why}")
        scores.append(s)
    return scores


def markdown_table(scores: list[TableScore]) -> str:
    lines = [
        "| table | rows × columns | label | expected findings found | false alarms | fit-transform & other checks met | known gaps open |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scores:
        lines.append(
            f"| {s.name} | {s.shape[0]:,} × {s.shape[1]} | {s.label or '—'} | {s.found} / {s.expected} "
            f"| {s.false_alarms} of {s.must_not} | {s.other_met} / {s.other} | {len(s.gaps_open)} |"
        )
    total = lambda attr: sum(getattr(s, attr) for s in scores)  # noqa: E731
    lines.append(
        f"| **all {len(scores)}** | | | **{total('found')} / {total('expected')}** "
        f"| **{total('false_alarms')} of {total('must_not')}** | **{total('other_met')} / {total('other')}** "
        f"| **{sum(len(s.gaps_open) for s in scores)}** |"
    )
    return "\n".join(lines)
