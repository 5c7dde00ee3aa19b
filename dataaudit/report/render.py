"""The self-contained offline HTML report: one file, inline CSS/SVG/PNG, nothing from the network.

``render_report`` turns an AuditResult (and the sections other stages add) into HTML. Every
value from the data reaches the page through an autoescaping Jinja2 template or as escaped
matplotlib SVG text; lists are capped (full lists live in rows.csv and findings.json) so that
the report of a million-row table stays a few hundred kilobytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from dataaudit.exceptions import ConfigError
from dataaudit.findings import SEVERITIES, Finding, severity_rank
from dataaudit.report.plots import PALETTE, figure_to_svg, new_figure, plot_text, sparkline_path
from dataaudit.report.section import Section, _format_number, environment, render_fragment

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset
    from dataaudit.findings import AuditResult, CheckResult
    from dataaudit.report.images import RowImages

__all__ = ["render_report", "audit_sections", "MAX_LIST_ROWS"]

# Example lists (suspect labels, outliers, groups) show at most this many entries.
MAX_LIST_ROWS = 50
MAX_GROUPS = 20
MAX_GROUP_MEMBERS = 6
# Row tables show the label plus at most this many feature columns.
MAX_VALUE_COLUMNS = 8
MAX_FINDINGS = 200
MAX_FINDING_ROWS_SHOWN = 12
PCA_POINTS = 3000
HEATMAP_COLUMNS = 40
EXAMPLES_PER_CLASS = 16
MAX_EXAMPLE_CLASSES = 20
CELL_CHARS = 40

# Shown for a finding saved by a version that did not record its check's advice.
FALLBACK_ACTION = "See the check's details in findings.json."

# How row-level findings are marked on the 2-D map, by report section (shape, not colour).
MAP_MARKERS: dict[str, tuple[str, str]] = {
    "labels": ("x", "#111111"),
    "duplicates": ("+", "#555555"),
    "outliers": ("s", "#111111"),
}
OTHER_MARKER = ("^", "#333333")


def _action(finding: Finding) -> str:
    return finding.action or FALLBACK_ACTION


def _title(finding: Finding) -> str:
    return finding.title or finding.code.replace("_", " ").capitalize()


def _status_of(findings: Iterable[Finding]) -> str:
    worst = min((severity_rank(f.severity) for f in findings), default=None)
    if worst is None:
        return "ok"
    return SEVERITIES[worst]


def _nice(value: Any, digits: int = 4) -> str:
    """A number for people: thousands separators, no exponent between 1e-3 and 1e9."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    number = float(value)
    if not math.isfinite(number):
        return "–" if math.isnan(number) else str(number)
    size = abs(number)
    if size == 0:
        return "0"
    if 1e-3 <= size < 1e9:
        if size >= 1000:
            return f"{number:,.0f}" if size >= 10_000 or number.is_integer() else f"{number:,.1f}"
        return f"{number:.{digits}g}"
    return f"{number:.{max(digits - 2, 1)}e}"


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values
        return False


def _cell(value: Any, diff: bool = False, extreme: bool = False) -> dict[str, Any]:
    """A table cell: display text, full text as tooltip, flags for styling."""
    if _is_missing(value):
        return {"text": "missing", "title": "missing", "missing": True, "diff": diff, "extreme": extreme}
    if isinstance(value, float | np.floating):
        text = _nice(float(value))
        full = repr(float(value))
    else:
        full = str(value)
        text = " ".join(full.split())
        if len(text) > CELL_CHARS:
            text = text[: CELL_CHARS - 1] + "…"
    return {"text": text, "title": full[:500], "missing": False, "diff": diff, "extreme": extreme}


def _scalar_details(details: dict[str, Any], limit: int = 6) -> list[tuple[str, str]]:
    """The short scalar entries of a finding's details, as (key, formatted value)."""
    shown = []
    for key, value in details.items():
        if isinstance(value, bool | int | float | np.integer | np.floating):
            shown.append((str(key), _format_number(value)))
        elif isinstance(value, str) and len(value) <= 80:
            shown.append((str(key), value))
        if len(shown) >= limit:
            break
    return shown


@dataclass
class _Context:
    """What the section builders share: the result, its data, the profile, the images."""

    result: AuditResult
    dataset: Dataset | None
    profile: dict[str, Any] | None
    images: RowImages | None
    seed: int = 0

    @property
    def column_stats(self) -> dict[str, dict[str, Any]]:
        if self.profile is None:
            return {}
        if "_stats" not in self.__dict__:
            self.__dict__["_stats"] = {c["name"]: c.get("stats") or {} for c in self.profile["columns"]}
        return self.__dict__["_stats"]

    def findings(self, *codes: str) -> list[Finding]:
        return [f for f in self.result.findings if f.code in codes]

    def in_section(self, section: str, *, row_level: bool | None = None) -> list[Finding]:
        """Findings that their check placed in report ``section``, worst first."""
        return [f for f in self.result.findings if f.section == section
                and (row_level is None or f.row_level == row_level)]

    def check_result(self, name: str) -> CheckResult | None:
        for check in self.result.checks:
            if check.check == name:
                return check
        return None

    def value_columns(self, prefer: Sequence[str] = ()) -> list[str]:
        """Columns for row tables: preferred ones first, then feature columns (pixels left out)."""
        if self.dataset is None:
            return []
        pixels = set(self.images.columns) if self.images is not None else set()
        chosen = [c for c in prefer if c in self.dataset.frame.columns and c != self.dataset.label]
        for name in self.dataset.feature_columns:
            if len(chosen) >= MAX_VALUE_COLUMNS:
                break
            if name not in chosen and name not in pixels:
                chosen.append(name)
        return chosen[:MAX_VALUE_COLUMNS]

    def rows_frame(self, rows: Sequence[int]) -> pd.DataFrame | None:
        if self.dataset is None:
            return None
        valid = [r for r in rows if 0 <= r < self.dataset.n_rows]
        return self.dataset.frame.iloc[valid]

    def image_uris(self, rows: Iterable[int]) -> dict[int, str]:
        return self.images.uris(rows) if self.images is not None else {}


# ---- sections ------------------------------------------------------------------------------

def _overview(ctx: _Context, later: Sequence[Section]) -> Section:
    result = ctx.result
    info = result.input or {}
    summary = result.summary()
    checks = []
    for check in result.checks:
        checks.append({
            "name": check.check,
            "status": check.status,
            "n_findings": len(check.findings),
            "seconds": check.seconds,
            "note": check.error or check.reason or "",
            "description": check.description,
            "severity": _status_of(check.findings),
        })
    status_counts = {s: sum(1 for c in result.checks if c.status == s)
                     for s in ("passed", "flagged", "skipped", "errored")}
    profile = ctx.profile
    roles = profile["roles"] if profile else {}
    if not roles and isinstance(info.get("roles"), dict):
        for role in info["roles"].values():
            roles[role] = roles.get(role, 0) + 1
    path = info.get("path") or (ctx.dataset.name if ctx.dataset is not None else None)
    facts = [
        ("File", path or "in memory"),
        ("SHA-256", info.get("sha256") or "–"),
        ("Rows", _format_number(info.get("n_rows"))),
        ("Columns", _format_number(info.get("n_columns"))),
        ("Memory", _bytes(profile["memory_bytes"]) if profile else "–"),
        ("Label", info.get("label") or "none"),
        ("Task", info.get("task") or "–"),
        ("Format", info.get("format") or "–"),
        ("Audit time", f"{result.seconds:.2f} s"),
        ("dataaudit", result.version or "–"),
    ]
    if ctx.result.test_dataset is not None:
        facts.insert(4, ("Test rows", _format_number(ctx.result.test_dataset.n_rows)))
    html = render_fragment(
        "audit_overview.html.j2",
        facts=facts,
        summary=summary,
        roles=sorted(roles.items(), key=lambda kv: _role_order(kv[0])),
        checks=checks,
        status_counts=status_counts,
        later=[s for s in later],
    )
    n = summary["n_findings"]
    return Section(
        id="overview", title="Overview", html=html,
        summary=f"{n} finding{'s' if n != 1 else ''}; {status_counts['errored']} check(s) errored",
        status="error" if status_counts["errored"] else "ok",
    )


def _role_order(role: str) -> int:
    from dataaudit.dataset import ROLES

    return ROLES.index(role) if role in ROLES else len(ROLES)


def _bytes(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


def _findings(ctx: _Context, present: set[str], column_index: dict[str, int]) -> Section:
    items = []
    for finding in ctx.result.findings[:MAX_FINDINGS]:
        target = finding.section or None
        link = None
        if target == "columns" and finding.columns and finding.columns[0] in column_index and "columns" in present:
            link = f"#col-{column_index[finding.columns[0]]}"
        elif target in present:
            link = f"#{target}"
        items.append({
            "severity": finding.severity,
            "code": finding.code,
            "check": finding.check,
            "message": finding.message,
            "n_rows": len(finding.rows),
            "rows": finding.rows[:MAX_FINDING_ROWS_SHOWN],
            "more_rows": max(len(finding.rows) - MAX_FINDING_ROWS_SHOWN, 0),
            "columns": finding.columns[:12],
            "more_columns": max(len(finding.columns) - 12, 0),
            "details": _scalar_details(finding.details),
            "title": _title(finding),
            "action": _action(finding),
            "link": link,
        })
    total = len(ctx.result.findings)
    html = render_fragment("audit_findings.html.j2", items=items, total=total,
                           hidden=max(total - MAX_FINDINGS, 0), by_severity=ctx.result.summary()["by_severity"])
    return Section(id="findings", title="Findings", html=html,
                   summary=f"{total} finding(s), worst first", status=_status_of(ctx.result.findings))


def _columns(ctx: _Context) -> Section:
    columns = []
    if ctx.profile is not None:
        for column in ctx.profile["columns"]:
            hist = column.get("histogram") or {}
            counts = hist.get("counts") or []
            stats = column.get("stats") or {}
            columns.append({
                **column,
                "spark": sparkline_path(counts) if counts and not column["top"] else "",
                "lo": _nice(hist.get("lo"), 3),
                "hi": _nice(hist.get("hi"), 3),
                "stats_list": [(k, _nice(stats[k]))
                               for k in ("min", "max", "mean", "std", "mean_length") if k in stats],
                "top": [{**t, "text": _cell(t["value"])["text"]} for t in column["top"]],
                "status": _status_of(Finding("", a["code"], a["severity"], "") for a in column["alerts"]),
            })
    else:
        roles = (ctx.result.input or {}).get("roles") or {}
        alerts: dict[str, list[dict[str, Any]]] = {}
        for finding in ctx.result.findings:
            for name in finding.columns:
                alerts.setdefault(name, []).append({"code": finding.code, "severity": finding.severity,
                                                    "message": finding.message})
        for index, (name, role) in enumerate(roles.items()):
            columns.append({"name": name, "index": index, "role": role, "alerts": alerts.get(name, []),
                            "status": _status_of(Finding("", a["code"], a["severity"], "") for a in alerts.get(name, []))})
    flagged = [f for f in ctx.result.findings if f.columns]
    html = render_fragment("audit_columns.html.j2", columns=columns, has_profile=ctx.profile is not None)
    return Section(id="columns", title="Columns", html=html,
                   summary=f"{len(columns)} columns, {sum(1 for c in columns if c['alerts'])} with alerts",
                   status=_status_of(flagged))


def _classes(ctx: _Context) -> Section | None:
    dataset = ctx.dataset
    imbalance = ctx.in_section("classes")
    counts: dict[str, int] = {}
    if dataset is not None and dataset.label is not None and dataset.task == "classification":
        values = dataset.frame[dataset.label]
        vc = values.value_counts(dropna=True)
        codes, classes = dataset.label_codes
        counts = {str(c): int(vc.get(c, 0)) for c in classes}
        n_missing = int(values.isna().sum())
    elif imbalance and isinstance(imbalance[0].details.get("counts"), dict):
        counts = {str(k): int(v) for k, v in imbalance[0].details["counts"].items()}
        n_missing = 0
    else:
        return None
    if not counts:
        return None
    total = sum(counts.values()) or 1
    largest = max(counts.values()) or 1
    smallest = min(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    shown = ordered[:50]
    bars = [{"label": _cell(name)["text"], "title": name, "count": count, "share": count / total,
             "width": 100.0 * count / largest, "colour": PALETTE[i % len(PALETTE)]}
            for i, (name, count) in enumerate(shown)]
    html = render_fragment(
        "audit_classes.html.j2", bars=bars, n_classes=len(counts), hidden=len(counts) - len(shown),
        ratio=(largest / smallest) if smallest else None, n_missing=n_missing,
        findings=[{"severity": f.severity, "message": f.message} for f in imbalance],
    )
    return Section(id="classes", title="Class balance", html=html,
                   summary=f"{len(counts)} classes, largest/smallest = "
                           + (f"{largest / smallest:.1f}" if smallest else "∞"),
                   status=_status_of(imbalance))


def _groups_of(finding: Finding) -> list[list[int]]:
    groups = finding.details.get("groups")
    if isinstance(groups, list) and groups and all(isinstance(g, list | tuple) for g in groups):
        return [[int(r) for r in g] for g in groups]
    return [[r] for r in finding.rows]


def _group_table(ctx: _Context, group: list[int]) -> dict[str, Any]:
    """One duplicate group side by side: rows as lines, differing cells highlighted."""
    members = group[:MAX_GROUP_MEMBERS]
    frame = ctx.rows_frame(members)
    uris = ctx.image_uris(members)
    label = ctx.dataset.label if ctx.dataset is not None else None
    table: dict[str, Any] = {"rows": [], "columns": [], "hidden_same": 0, "n_members": len(group),
                             "more": max(len(group) - len(members), 0)}
    if frame is None or frame.empty:
        table["rows"] = [{"row": r, "cells": [], "image": uris.get(r)} for r in members]
        return table
    # Compare each member with the first; missing cells compare equal to each other. A plain
    # loop over a few hundred cells beats pandas string conversion of the whole block.
    values = frame.to_numpy(dtype=object)
    missing = frame.isna().to_numpy()
    differing = [
        name for j, name in enumerate(frame.columns)
        if any(missing[i, j] != missing[0, j] or (not missing[i, j] and values[i, j] != values[0, j])
               for i in range(1, len(values)))
    ]
    pixels = set(ctx.images.columns) if ctx.images is not None else set()
    columns: list[str] = []
    if label is not None:
        columns.append(label)
    columns += [c for c in differing if c != label and c not in pixels][:MAX_VALUE_COLUMNS]
    for name in frame.columns:
        if len(columns) >= MAX_VALUE_COLUMNS + 1:
            break
        if name not in columns and name not in pixels:
            columns.append(name)
    table["columns"] = [{"name": c, "diff": c in differing} for c in columns]
    table["hidden_same"] = len([c for c in frame.columns if c not in columns and c not in differing])
    table["hidden_diff"] = len([c for c in differing if c not in columns])
    table["n_columns"] = len(frame.columns)
    table["n_differing"] = len(differing)
    table["pixels_differing"] = len([c for c in differing if c in pixels])
    # With images and nothing but the label beside the pixels, the pictures say it all.
    table["show_table"] = not pixels or any(c != label for c in columns)
    for row, (_, values) in zip(frame.index, frame[columns].iterrows(), strict=True):
        table["rows"].append({
            "row": int(row),
            "image": uris.get(int(row)),
            "label": _cell(values[label])["text"] if label is not None else None,
            "cells": [_cell(values[c], diff=c in differing) for c in columns],
        })
    return table


def _duplicates(ctx: _Context) -> Section | None:
    found = ctx.in_section("duplicates")
    if not found:
        return None
    blocks: list[dict[str, Any]] = []
    for finding in found:
        groups = _groups_of(finding)
        tables = [_group_table(ctx, g) for g in groups[:MAX_GROUPS]]
        blocks.append({
            "code": finding.code,
            "title": _title(finding),
            "severity": finding.severity,
            "message": finding.message,
            "n_groups": len(groups),
            "hidden": max(len(groups) - MAX_GROUPS, 0),
            "groups": tables,
            "compact": ctx.images is not None and not any(t.get("show_table", True) for t in tables),
            "action": _action(finding),
        })
    html = render_fragment("audit_duplicates.html.j2", blocks=blocks, has_images=ctx.images is not None)
    n_rows = sum(len(f.rows) for f in found)
    return Section(id="duplicates", title="Duplicates", html=html,
                   summary=f"{n_rows} duplicate row(s) in {sum(b['n_groups'] for b in blocks)} group(s)",
                   status=_status_of(found))


def _per_row(finding: Finding, check: CheckResult | None) -> list[dict[str, Any]]:
    """A finding's per-row evidence as dicts with at least ``row``, sorted worst (lowest score) first."""
    entries = finding.details.get("per_row")
    rows: list[dict[str, Any]] = []
    if isinstance(entries, list) and entries and all(isinstance(e, dict) and "row" in e for e in entries):
        rows = [dict(e) for e in entries]
    elif isinstance(entries, dict):
        rows = [{"row": int(k), **(v if isinstance(v, dict) else {"score": v})} for k, v in entries.items()]
    else:
        scores = check.row_scores.get(finding.code) if check is not None else None
        for r in finding.rows:
            entry: dict[str, Any] = {"row": r}
            if scores is not None and 0 <= r < len(scores):
                entry["score"] = float(scores[r])
            rows.append(entry)

    def key(entry: dict[str, Any]) -> float:
        score = entry.get("score")
        try:
            value = float(score)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return math.inf
        return value if math.isfinite(value) else math.inf

    return sorted(rows, key=key)


def _value_cells(ctx: _Context, row: int, frame: pd.DataFrame | None, columns: list[str]) -> list[dict[str, Any]]:
    if frame is None or row not in frame.index:
        return []
    cells = []
    for name in columns:
        value = frame.at[row, name]
        extreme = False
        st = ctx.column_stats.get(name, {})
        if isinstance(value, int | float | np.integer | np.floating) and st.get("std"):
            extreme = abs(float(value) - float(st["mean"])) > 3 * float(st["std"])
        cells.append(_cell(value, extreme=bool(extreme)))
    return cells


def _listed_rows(ctx: _Context, finding: Finding) -> tuple[list[dict[str, Any]], int, Any, dict[int, str]]:
    """A row-level finding's first MAX_LIST_ROWS entries, the full count, their values and images."""
    entries = _per_row(finding, ctx.check_result(finding.check))
    total = len(entries)
    entries = entries[:MAX_LIST_ROWS]
    rows = [int(e["row"]) for e in entries]
    return entries, total, ctx.rows_frame(rows), ctx.image_uris(rows)


def _labels(ctx: _Context) -> Section | None:
    found = ctx.in_section("labels", row_level=True)
    if not found:
        return None
    finding = found[0]
    entries, total, frame, uris = _listed_rows(ctx, finding)
    columns = ctx.value_columns()
    label = ctx.dataset.label if ctx.dataset is not None else None
    items = []
    for entry in entries:
        row = int(entry["row"])
        given = entry.get("given_label")
        if given is None and frame is not None and label is not None and row in frame.index:
            given = frame.at[row, label]
        score = entry.get("score")
        items.append({
            "row": row,
            "given": _cell(given)["text"] if given is not None else "–",
            "suggested": _cell(entry.get("suggested_label"))["text"] if entry.get("suggested_label") is not None else "–",
            "score": float(score) if isinstance(score, int | float) else None,
            "image": uris.get(row),
            "cells": _value_cells(ctx, row, frame, columns),
        })
    html = render_fragment(
        "audit_labels.html.j2", items=items, columns=columns, total=total, message=finding.message,
        severity=finding.severity, action=_action(finding), has_images=ctx.images is not None,
        more_findings=[f.message for f in found[1:]],
    )
    return Section(id="labels", title="Suspect labels", html=html,
                   summary=f"{len(finding.rows)} row(s) whose label looks wrong", status=_status_of(found))


def _outliers(ctx: _Context) -> Section | None:
    found = ctx.in_section("outliers", row_level=True)
    if not found:
        return None
    finding = found[0]
    entries, total, frame, uris = _listed_rows(ctx, finding)
    columns = ctx.value_columns(prefer=list(finding.columns))
    label = ctx.dataset.label if ctx.dataset is not None else None
    extra_keys = [k for k in (entries[0] if entries else {}) if k not in ("row", "score")][:3]
    items = []
    for entry in entries:
        row = int(entry["row"])
        score = entry.get("score")
        items.append({
            "row": row,
            "score": float(score) if isinstance(score, int | float) else None,
            "label": _cell(frame.at[row, label])["text"] if frame is not None and label is not None and row in frame.index else None,
            "extra": [_cell(_plain(entry.get(k))) for k in extra_keys],
            "image": uris.get(row),
            "cells": _value_cells(ctx, row, frame, columns),
        })
    html = render_fragment(
        "audit_outliers.html.j2", items=items, columns=columns, total=total, message=finding.message,
        severity=finding.severity, action=_action(finding), extra_keys=extra_keys,
        has_images=ctx.images is not None, has_label=label is not None,
        more_findings=[f.message for f in found[1:]],
    )
    return Section(id="outliers", title="Outliers", html=html,
                   summary=f"{len(finding.rows)} unusual row(s)", status=_status_of(found))


def _plain(value: Any) -> Any:
    """A per-row detail as short text: lists joined, {column, value, z} evidence as ``col=v (z=+5.1)``."""
    if isinstance(value, list | tuple):
        return ", ".join(str(_plain(v)) for v in value[:8])
    if isinstance(value, dict):
        if {"column", "value"} <= set(value):
            z = value.get("z")
            suffix = f" (z={z:+.1f})" if isinstance(z, int | float) else ""
            return f"{value['column']}={value['value']}{suffix}"
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value


def _correlation_matrix(ctx: _Context) -> tuple[np.ndarray, list[str]] | None:
    check = ctx.check_result("correlations")
    if check is not None:
        matrix, names = check.stats.get("matrix"), check.stats.get("columns")
        if matrix is not None and names is not None and len(names) >= 2:
            return np.asarray(matrix, dtype=np.float64), [str(n) for n in names]
    dataset = ctx.dataset
    if dataset is None:
        return None
    columns = dataset.numeric_columns
    if len(columns) < 2:
        return None
    # Enough rows for stable coefficients while the cost (rows x columns^2) stays bounded.
    n_sample = min(dataset.n_rows, max(2000, 2_000_000 // len(columns)))
    rng = np.random.default_rng(ctx.seed)
    index = np.sort(rng.choice(dataset.n_rows, size=n_sample, replace=False))
    values = dataset.frame[columns].iloc[index].to_numpy(dtype=np.float64, na_value=np.nan)
    values = np.where(np.isfinite(values), values, np.nan)
    medians = np.nanmedian(values, axis=0)
    values = np.where(np.isnan(values), np.where(np.isnan(medians), 0.0, medians), values)
    values -= values.mean(axis=0)
    norms = np.sqrt((values**2).sum(axis=0))
    norms[norms == 0] = np.inf  # a constant column correlates with nothing
    normed = values / norms
    return np.clip(normed.T @ normed, -1.0, 1.0), list(columns)


def _correlations(ctx: _Context) -> Section | None:
    found = ctx.in_section("correlations")
    computed = _correlation_matrix(ctx)
    if computed is None:
        if not found:
            return None
        html = render_fragment("audit_correlations.html.j2", svg=None, pairs=[], n_columns=0, shown=0,
                               findings=[{"severity": f.severity, "message": f.message} for f in found])
        return Section(id="correlations", title="Correlations", html=html, status=_status_of(found))
    matrix, names = computed
    matrix = np.where(np.isfinite(matrix), matrix, 0.0)
    n = len(names)
    off = np.abs(matrix - np.diag(np.diag(matrix)))
    keep = np.arange(n)
    if n > HEATMAP_COLUMNS:
        keep = np.sort(np.argsort(-off.max(axis=1), kind="stable")[:HEATMAP_COLUMNS])
    sub = matrix[np.ix_(keep, keep)]
    labels = [plot_text(names[i], 24) for i in keep]
    size = 2.6 + 0.16 * len(keep)
    fig, ax = new_figure(size + 1.0, size)
    image = ax.imshow(sub, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks(range(len(keep)), labels, rotation=90, fontsize=7 if len(keep) > 20 else 8)
    ax.set_yticks(range(len(keep)), labels, fontsize=7 if len(keep) > 20 else 8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="Pearson r")
    svg = figure_to_svg(fig)
    upper = np.triu_indices(n, k=1)
    strength = np.abs(matrix[upper])
    order = np.argsort(-strength, kind="stable")[:12]
    pairs = [{"a": names[upper[0][i]], "b": names[upper[1][i]], "r": float(matrix[upper][i])} for i in order]
    html = render_fragment("audit_correlations.html.j2", svg=svg, pairs=pairs, n_columns=n, shown=len(keep),
                           findings=[{"severity": f.severity, "message": f.message} for f in found])
    return Section(id="correlations", title="Correlations", html=html,
                   summary=f"strongest |r| = {strength.max():.2f}" if strength.size else "",
                   status=_status_of(found))


def _sample_features(dataset: Dataset, rows: np.ndarray) -> np.ndarray:
    """Standardized numeric + top-10 one-hot categorical features of the sampled rows."""
    frame = dataset.frame.iloc[rows]
    blocks = []
    numeric = dataset.numeric_columns
    if numeric:
        values = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.where(np.isfinite(values), values, np.nan)
        medians = np.nanmedian(values, axis=0) if len(values) else np.zeros(len(numeric))
        values = np.where(np.isnan(values), np.where(np.isnan(medians), 0.0, medians), values)
        std = values.std(axis=0)
        std[std == 0] = 1.0  # a constant column keeps scale 1
        blocks.append((values - values.mean(axis=0)) / std)
    for name in dataset.categorical_columns:
        top = frame[name].value_counts(dropna=True).index[:10]
        codes = pd.Categorical(frame[name], categories=top).codes
        onehot = np.zeros((len(frame), len(top)))
        present = codes >= 0
        onehot[np.flatnonzero(present), codes[present]] = 1.0
        blocks.append(onehot)
    return np.hstack(blocks) if blocks else np.empty((len(rows), 0))


def _pca_2d(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projection on the top two principal components and their explained-variance shares.

    Uses the d x d covariance (d is small next to the sampled rows); each component's sign is
    fixed so that its largest loading is positive, which keeps the picture stable run to run.
    """
    centered = features - features.mean(axis=0)
    covariance = centered.T @ centered / max(len(centered) - 1, 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1][:2]
    components = eigenvectors[:, order]
    signs = np.sign(components[np.argmax(np.abs(components), axis=0), range(components.shape[1])])
    components = components * np.where(signs == 0, 1.0, signs)
    total = float(np.clip(eigenvalues, 0, None).sum()) or 1.0
    return centered @ components, np.clip(eigenvalues[order], 0, None) / total


def _row_map(ctx: _Context) -> Section | None:
    dataset = ctx.dataset
    if dataset is None or dataset.n_rows < 3:
        return None
    # Flagged rows differ from the class dots by shape, not colour: one marker per report section
    # of the row-level findings, named by the first finding's title.
    flagged: dict[str, set[int]] = {}
    markers: dict[str, tuple[str, str]] = {}
    for finding in ctx.result.findings:
        if not finding.row_level or not finding.rows or finding.section == "train-test":
            continue
        name = _map_name(ctx, finding.section) if finding.section in MAP_MARKERS else _title(finding).lower()
        markers.setdefault(name, MAP_MARKERS.get(finding.section, OTHER_MARKER))
        flagged.setdefault(name, set()).update(finding.rows[:300])
    rng = np.random.default_rng(ctx.seed)
    n = dataset.n_rows
    chosen = set(rng.choice(n, size=min(n, PCA_POINTS), replace=False).tolist())
    for flagged_rows in flagged.values():
        chosen.update(r for r in flagged_rows if 0 <= r < n)
    rows = np.array(sorted(chosen))
    features = _sample_features(dataset, rows)
    if features.shape[1] < 2:
        return None
    points, explained = _pca_2d(features)
    fig, ax = new_figure(7.0, 5.0)
    label = dataset.label
    legend = True
    if label is not None and dataset.task == "classification":
        codes = dataset.label_codes[0][rows]
        classes = dataset.classes
        if len(classes) <= len(PALETTE):
            for k, name in enumerate(classes):
                mask = codes == k
                ax.scatter(points[mask, 0], points[mask, 1], s=9, color=PALETTE[k], alpha=0.7,
                           linewidths=0, label=plot_text(name, 20), rasterized=True)
        else:
            ax.scatter(points[:, 0], points[:, 1], s=7, c=codes, cmap="viridis", alpha=0.55,
                       linewidths=0, rasterized=True)
            legend = False
    elif label is not None:
        target = pd.to_numeric(dataset.frame[label].iloc[rows], errors="coerce").to_numpy(dtype=np.float64)
        sc = ax.scatter(points[:, 0], points[:, 1], s=7, c=target, cmap="viridis", alpha=0.6,
                        linewidths=0, rasterized=True)
        fig.colorbar(sc, ax=ax, fraction=0.04, pad=0.02, label=plot_text(label))
    else:
        ax.scatter(points[:, 0], points[:, 1], s=7, color=PALETTE[0], alpha=0.5, linewidths=0,
                   rasterized=True, label="row")
    position = {int(r): i for i, r in enumerate(rows)}
    n_flagged = 0
    for name, flagged_rows in flagged.items():
        index = [position[r] for r in sorted(flagged_rows) if r in position]
        if not index:
            continue
        n_flagged += len(index)
        marker, colour = markers[name]
        ax.scatter(points[index, 0], points[index, 1], s=34, marker=marker, color=colour,
                   facecolors="none" if marker == "s" else colour, linewidths=1.1,
                   label=f"{name} ({len(index)})", rasterized=True)
    ax.set_xlabel(f"PC 1 ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 ({explained[1]:.0%} of variance)")
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=8,
                  markerscale=1.6)
    svg = figure_to_svg(fig)
    html = render_fragment("audit_map.html.j2", svg=svg, n_points=len(rows), n_rows=n, n_flagged=n_flagged,
                           n_features=features.shape[1])
    return Section(id="map", title="Rows in 2-D (PCA)", html=html,
                   summary=f"{len(rows)} of {n} rows projected", status="ok")


def _map_name(ctx: _Context, section: str) -> str:
    """Legend name of a map marker: the section's own findings' title when they share one."""
    titles = {_title(f).lower() for f in ctx.in_section(section, row_level=True)}
    return titles.pop() if len(titles) == 1 else {"labels": "suspect label", "duplicates": "duplicate",
                                                  "outliers": "outlier"}.get(section, section)


def _examples(ctx: _Context) -> Section | None:
    dataset = ctx.dataset
    if ctx.images is None or dataset is None:
        return None
    rng = np.random.default_rng(ctx.seed)
    groups = []
    if dataset.label is not None and dataset.task == "classification":
        codes, classes = dataset.label_codes
        for k, name in enumerate(classes[:MAX_EXAMPLE_CLASSES]):
            members = np.flatnonzero(codes == k)
            pick = np.sort(rng.choice(members, size=min(len(members), EXAMPLES_PER_CLASS), replace=False))
            groups.append({"label": _cell(name)["text"], "n": len(members), "rows": pick.tolist()})
        hidden = max(len(classes) - MAX_EXAMPLE_CLASSES, 0)
    else:
        pick = np.sort(rng.choice(dataset.n_rows, size=min(dataset.n_rows, EXAMPLES_PER_CLASS * 4), replace=False))
        groups.append({"label": "random rows", "n": dataset.n_rows, "rows": pick.tolist()})
        hidden = 0
    uris = ctx.images.uris(r for g in groups for r in g["rows"])
    for group in groups:
        group["images"] = [{"row": r, "uri": uris[r]} for r in group["rows"] if r in uris]
    height, width = ctx.images.image_shape
    html = render_fragment("audit_examples.html.j2", groups=groups, hidden=hidden, height=height, width=width)
    return Section(id="examples", title="Examples per class", html=html,
                   summary=f"random rows drawn as {height}x{width} images", status="ok")


def _other(ctx: _Context, known: set[str]) -> Section | None:
    """Findings of sections this page has no special view for: title, message, rows, action."""
    found = [f for f in ctx.result.findings if f.section not in known]
    if not found:
        return None
    columns = ctx.value_columns()
    items = []
    for finding in found[:MAX_FINDINGS]:
        shown = list(finding.rows[:MAX_FINDING_ROWS_SHOWN])
        frame = ctx.rows_frame(shown)
        items.append({
            "severity": finding.severity, "code": finding.code, "title": _title(finding),
            "message": finding.message, "action": _action(finding),
            "columns": finding.columns[:12], "more_columns": max(len(finding.columns) - 12, 0),
            "rows": [{"row": r, "cells": _value_cells(ctx, r, frame, columns)} for r in shown],
            "more_rows": max(len(finding.rows) - len(shown), 0),
        })
    html = render_fragment("audit_other.html.j2", items=items, columns=columns if ctx.dataset is not None else [])
    return Section(id="other", title="Other findings", html=html,
                   summary=f"{len(found)} finding(s) of other checks", status=_status_of(found))


def _normalize_per_column(value: Any) -> dict[str, dict[str, Any]]:
    if isinstance(value, dict):
        return {str(k): (v if isinstance(v, dict) else {"value": v}) for k, v in value.items()}
    if isinstance(value, list):
        out = {}
        for entry in value:
            if isinstance(entry, dict) and "column" in entry:
                out[str(entry["column"])] = {k: v for k, v in entry.items() if k != "column"}
        return out
    return {}


def _train_test(ctx: _Context) -> Section | None:
    overlap = ctx.in_section("train-test", row_level=True)
    drift = ctx.in_section("train-test", row_level=False)
    test = ctx.result.test_dataset
    if test is None and not overlap and not drift:
        return None
    per_column: dict[str, dict[str, Any]] = {}
    drifted: set[str] = set()
    for finding in drift:
        per_column.update(_normalize_per_column(finding.details.get("per_column")))
        drifted.update(finding.columns)
    drift_check = ctx.check_result("train_test_drift") or (ctx.check_result(drift[0].check) if drift else None)
    if drift_check is not None and not per_column:
        per_column = _normalize_per_column(drift_check.stats.get("per_column"))
    metric_keys: list[str] = []
    for stats in per_column.values():
        for key, value in stats.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and key not in metric_keys:
                metric_keys.append(key)
    metric_keys = metric_keys[:3]
    rows = []
    if ctx.profile is not None and test is not None:
        for column in ctx.profile["columns"]:
            name = column["name"]
            if name not in test.frame.columns:
                continue
            values = test.frame[name]
            entry: dict[str, Any] = {
                "name": name, "index": column["index"], "role": column["role"], "drifted": name in drifted,
                "train_missing": column["missing_share"],
                "test_missing": float(values.isna().mean()) if len(values) else 0.0,
                "metrics": [_format_number(per_column.get(name, {}).get(k)) for k in metric_keys],
                "spark_train": "", "spark_test": "", "top": [], "train_mean": "", "test_mean": "",
            }
            hist = column.get("histogram") or {}
            if column["kind"] == "numeric" and hist.get("counts") and not column["top"]:
                test_values = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                from dataaudit.report.profile import histogram

                train_counts = np.asarray(hist["counts"], dtype=np.float64)
                test_counts = np.asarray(
                    histogram(test_values, bins=len(train_counts), value_range=(hist["lo"], hist["hi"]))["counts"],
                    dtype=np.float64)
                train_share = train_counts / max(train_counts.sum(), 1.0)
                test_share = test_counts / max(test_counts.sum(), 1.0)
                top = float(max(train_share.max(initial=0), test_share.max(initial=0))) or 1.0
                entry["spark_train"] = sparkline_path(train_share, 125.0, 28.0, top=top)
                entry["spark_test"] = sparkline_path(test_share, 125.0, 28.0, top=top)
                finite = test_values[np.isfinite(test_values)]
                entry["train_mean"] = _nice(column["stats"].get("mean"))
                entry["test_mean"] = _nice(float(finite.mean()) if finite.size else None)
            elif column["top"]:
                counts = values.value_counts(dropna=True)
                total = max(int(counts.sum()), 1)
                entry["top"] = [{"text": _cell(t["value"])["text"], "train": t["share"],
                                 "test": float(counts.get(_match_key(counts, t["value"]), 0)) / total}
                                for t in column["top"][:3]]
            rows.append(entry)
        rows.sort(key=lambda e: (not e["drifted"], e["index"]))
    elif per_column:
        rows = [{"name": name, "index": None, "role": "", "drifted": name in drifted, "train_missing": None,
                 "test_missing": None, "metrics": [_format_number(stats.get(k)) for k in metric_keys],
                 "spark_train": "", "spark_test": "", "top": [], "train_mean": "", "test_mean": ""}
                for name, stats in per_column.items()]
    classes = []
    dataset = ctx.dataset
    if (dataset is not None and test is not None and dataset.label is not None
            and dataset.task == "classification" and dataset.label in test.frame.columns):
        train_counts = dataset.frame[dataset.label].value_counts(normalize=True)
        test_counts = test.frame[dataset.label].value_counts(normalize=True)
        for name in dataset.classes[:50]:
            classes.append({"label": _cell(name)["text"], "train": float(train_counts.get(name, 0.0)),
                            "test": float(_lookup(test_counts, name))})
    html = render_fragment(
        "audit_train_test.html.j2", rows=rows[:300], hidden=max(len(rows) - 300, 0), metric_keys=metric_keys,
        overlap=[{"severity": f.severity, "message": f.message, "n_rows": len(f.rows),
                  "rows": f.rows[:MAX_FINDING_ROWS_SHOWN], "details": _scalar_details(f.details)} for f in overlap],
        drift=[{"severity": f.severity, "message": f.message} for f in drift],
        n_train=dataset.n_rows if dataset is not None else None, n_test=test.n_rows if test is not None else None,
        classes=classes, has_test=test is not None,
    )
    return Section(id="train-test", title="Train vs test", html=html,
                   summary=f"{len(drifted)} drifted column(s), {sum(len(f.rows) for f in overlap)} overlapping row(s)",
                   status=_status_of(overlap + drift))


def _match_key(counts: pd.Series, text: str) -> Any:
    """The index entry of ``counts`` whose string form is ``text`` (train and test dtypes may differ)."""
    for key in counts.index[:1000]:
        if str(key) == text:
            return key
    return text


def _lookup(counts: pd.Series, key: Any) -> float:
    if key in counts.index:
        return float(counts[key])
    return float(counts.get(_match_key(counts, str(key)), 0.0))


# ---- page ------------------------------------------------------------------------------------

def audit_sections(result: AuditResult, *, image_shape: tuple[int, int] | None = None,
                   later: Sequence[Section] = (), seed: int = 0) -> list[Section]:
    """The audit's own sections, in report order (overview first).

    Parameters
    ----------
    result : AuditResult
        The audit; ``result.dataset`` (may be None) supplies the values shown.
    image_shape : (int, int), optional
        Draw rows as H x W greyscale images from the numeric feature columns.
    later : sequence of Section
        Sections that follow the audit (listed in the overview).
    seed : int
        Seed of every sample drawn for plots.

    Raises
    ------
    ConfigError
        When ``image_shape`` asks for more pixels than the table has numeric feature columns.
    """
    dataset = result.dataset
    profile = None
    if dataset is not None:
        from dataaudit.report.profile import profile_dataset

        profile = profile_dataset(dataset, result.findings, seed=seed)
    images = None
    if image_shape is not None and dataset is not None:
        from dataaudit.report.images import RowImages

        images = RowImages(dataset, image_shape, seed=seed)
    ctx = _Context(result=result, dataset=dataset, profile=profile, images=images, seed=seed)
    # Evidence first (what to act on), reference material (columns, correlations) after.
    columns = _columns(ctx)
    # Sections with a view of their own; a finding placed anywhere else lands in "other".
    known = {"classes", "labels", "duplicates", "outliers", "columns", "correlations", "train-test"}
    body = [s for s in (
        _classes(ctx), _labels(ctx), _duplicates(ctx), _outliers(ctx), _examples(ctx), _row_map(ctx),
        columns, _correlations(ctx), _train_test(ctx), _other(ctx, known),
    ) if s is not None]
    present = {s.id for s in body}
    column_index = {c["name"]: c["index"] for c in (profile["columns"] if profile else [])}
    if not column_index:
        column_index = {name: i for i, name in enumerate((result.input or {}).get("roles") or {})}
    findings = _findings(ctx, present, column_index)
    overview = _overview(ctx, [findings, *body, *later])
    return [overview, findings, *body]


def render_report(
    result: AuditResult | None,
    *,
    sections: Sequence[Section] = (),
    image_shape: tuple[int, int] | None = None,
    embedded: bool = False,
    title: str | None = None,
) -> str:
    """Render the self-contained HTML report.

    Parameters
    ----------
    result : AuditResult or None
        The audit to show. None renders a page with only ``sections`` (e.g. the training stage's
        standalone page).
    sections : sequence of Section
        Sections of later stages (transform, training), appended after the audit with nav links.
    image_shape : (int, int), optional
        ``(H, W)``: draw suspect labels, duplicates, outliers and examples per class as small
        images whose pixels are the first H*W numeric feature columns.
    embedded : bool
        Return a fragment (no ``<html>``/``<head>``) for Jupyter's ``_repr_html_``.
    title : str, optional
        Page title (default: "Data audit — <file name>").

    Returns
    -------
    str
        The HTML. It references nothing outside itself: CSS, SVG plots and PNG images are inline.

    Raises
    ------
    ConfigError
        On a bad ``image_shape`` or section ids that collide.

    Examples
    --------
    >>> from dataaudit.findings import AuditResult
    >>> html = render_report(AuditResult(input={"path": "data.csv"}, checks=[]))
    >>> html.startswith("<!DOCTYPE html>")
    True
    """
    extra = list(sections)
    audit = audit_sections(result, image_shape=image_shape, later=extra) if result is not None else []
    seen: set[str] = set()
    for section in [*audit, *extra]:
        if section.id in seen:
            raise ConfigError(f"Report section id {section.id!r} is used twice; give each section its own id.")
        seen.add(section.id)
    if title is None:
        name = None
        if result is not None:
            path = (result.input or {}).get("path")
            name = str(path).replace("\\", "/").rsplit("/", 1)[-1] if path else None
        title = f"Data audit — {name}" if name else "dataaudit report"
    subtitle = ""
    if result is not None:
        summary = result.summary()["by_severity"]
        subtitle = ", ".join(f"{summary[s]} {s}{'s' if summary[s] != 1 else ''}" for s in SEVERITIES)
    css = Markup(environment().get_template("report.css").render())
    script = Markup(environment().get_template("report.js").render())
    return environment().get_template("page.html.j2").render(
        title=title, subtitle=subtitle, sections=[*audit, *extra], embedded=embedded, css=css, script=script,
        version=(result.version if result is not None and result.version else _version()),
        by_severity=result.summary()["by_severity"] if result is not None else None,
    )


def _version() -> str:
    from dataaudit import __version__

    return __version__
