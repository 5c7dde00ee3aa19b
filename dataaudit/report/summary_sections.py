"""Audit sections that summarize: overview, findings, columns, classes, train vs test, other findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dataaudit.records import Finding, PerColumn
from dataaudit.report.plots import PALETTE, sparkline_path
from dataaudit.report.section import Section, _format_number, render_fragment
from dataaudit.report.view import (
    MAX_FINDING_ROWS_SHOWN,
    MAX_FINDINGS,
    MAX_GROUP_LINES,
    ReportContext,
    action_of,
    cell,
    nice,
    scalar_details,
    status_of,
    title_of,
    value_cells,
)


def overview_section(ctx: ReportContext, later: Sequence[Section]) -> Section:
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
            "severity": status_of(check.findings),
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
    if ctx.test is not None:
        facts.insert(4, ("Test rows", _format_number(ctx.test.n_rows)))
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


def findings_section(ctx: ReportContext, present: set[str], column_index: dict[str, int]) -> Section:
    findings = ctx.result.findings
    items, hidden = finding_cards(findings, present, column_index)
    total = len(findings)
    html = render_fragment("audit_findings.html.j2", items=items, total=total, hidden=hidden,
                           by_severity=ctx.result.summary()["by_severity"])
    return Section(id="findings", title="Findings", html=html,
                   summary=f"{total} finding(s), worst first", status=status_of(findings))


def _finding_item(finding: Finding, present: set[str], column_index: dict[str, int]) -> dict[str, Any]:
    return {
        "grouped": False,
        "severity": finding.severity,
        "code": finding.code,
        "check": finding.check,
        "message": finding.message,
        "n_rows": _rows_flagged(finding),
        "rows": finding.rows[:MAX_FINDING_ROWS_SHOWN],
        "more_rows": max(_rows_flagged(finding) - MAX_FINDING_ROWS_SHOWN, 0),
        "columns": finding.columns[:12],
        "more_columns": max(len(finding.columns) - 12, 0),
        "details": scalar_details(finding.details),
        "title": title_of(finding),
        "action": action_of(finding),
        "link": _finding_link(finding, present, column_index),
        "n_findings": 1,
    }


def _finding_link(finding: Finding, present: set[str], column_index: dict[str, int]) -> str | None:
    target = finding.section or None
    if target == "columns" and finding.columns and finding.columns[0] in column_index and "columns" in present:
        return f"#col-{column_index[finding.columns[0]]}"
    if target in present:
        return f"#{target}"
    return None


def _rows_flagged(finding: Finding) -> int:
    """Rows a finding flags: ``rows``, or the full count when the check listed only a sample of them.

    A count in the details is not taken otherwise: suspect labels count every disagreement in
    ``n_flagged`` but flag only the confident ones in ``rows``.
    """
    if finding.details.get("rows_sampled") is True:
        for key in ("n_missing", "n_rows", "n_flagged"):
            value = finding.details.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, len(finding.rows))
    return len(finding.rows)


def _group_item(members: list[Finding], present: set[str], column_index: dict[str, int]) -> dict[str, Any]:
    """One card for per-column findings of one code and severity: a table, one line per finding."""
    first = members[0]
    actions = {action_of(f) for f in members}
    lines = []
    # The columns that hold the most flagged rows first (the table sorts by any header too).
    ordered = sorted(members, key=lambda f: -_rows_flagged(f))
    for finding in ordered[:MAX_GROUP_LINES]:
        name = finding.columns[0]
        share = finding.details.get("share")
        lines.append({
            "column": name,
            "more_columns": len(finding.columns) - 1,
            "link": f"#col-{column_index[name]}" if name in column_index and "columns" in present else None,
            "n_rows": _rows_flagged(finding),
            "share": float(share) if isinstance(share, int | float) and not isinstance(share, bool) else None,
            "message": finding.message,
            "action": action_of(finding) if len(actions) > 1 else None,
        })
    n_columns = len({c for f in members for c in f.columns})
    return {
        "grouped": True,
        "severity": first.severity,
        "code": first.code,
        "check": first.check,
        "title": title_of(first),
        "message": f"{len(members):,} findings on {n_columns:,} column{'s' if n_columns != 1 else ''}.",
        "lines": lines,
        "more_lines": max(len(members) - MAX_GROUP_LINES, 0),
        "action": action_of(first) if len(actions) == 1 else None,
        "per_line_action": len(actions) > 1,
        "link": f"#{first.section}" if first.section in present and first.section != "columns" else None,
        "n_findings": len(lines),  # findings this card shows (the rest count as hidden)
    }


def finding_cards(findings: Sequence[Finding], present: set[str] | None = None,
                  column_index: dict[str, int] | None = None,
                  limit: int = MAX_FINDINGS) -> tuple[list[dict[str, Any]], int]:
    """The findings list as cards, worst first, and how many findings no card shows.

    Per-column findings of one code and severity (one missing-values finding per column of a wide
    table) become one card with a table. At most ``limit`` cards, but every code keeps at least
    its worst card, so a flood of one kind never hides another.
    """
    present = present or set()
    column_index = column_index or {}
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:  # already worst first; groups keep first-appearance order
        groups.setdefault((finding.code, finding.severity), []).append(finding)
    cards: list[dict[str, Any]] = []
    for members in groups.values():
        if len(members) >= 2 and all(f.columns for f in members):
            cards.append(_group_item(members, present, column_index))
        else:
            cards.extend(_finding_item(f, present, column_index) for f in members)
    if len(cards) > limit:
        keep: set[int] = set()
        seen: set[str] = set()
        for i, card in enumerate(cards):
            if card["code"] not in seen:
                seen.add(card["code"])
                keep.add(i)
        for i in range(len(cards)):
            if len(keep) >= max(limit, len(seen)):
                break
            keep.add(i)
        cards = [card for i, card in enumerate(cards) if i in keep]
    hidden = len(findings) - sum(card["n_findings"] for card in cards)
    return cards, hidden


def columns_section(ctx: ReportContext) -> Section:
    columns = []
    if ctx.profile is not None:
        for column in ctx.profile["columns"]:
            hist = column.get("histogram") or {}
            counts = hist.get("counts") or []
            stats = column.get("stats") or {}
            columns.append({
                **column,
                "spark": sparkline_path(counts) if counts and not column["top"] else "",
                "lo": nice(hist.get("lo"), 3),
                "hi": nice(hist.get("hi"), 3),
                "stats_list": [(k, nice(stats[k]))
                               for k in ("min", "max", "mean", "std", "mean_length") if k in stats],
                "top": [{**t, "text": cell(t["value"])["text"]} for t in column["top"]],
                # Every shown value occurs once (names, free text): shares of 0% say nothing.
                "all_distinct": bool(column["top"]) and column["top"][0]["count"] == 1,
                "status": status_of(Finding("", a["code"], a["severity"], "") for a in column["alerts"]),
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
                            "status": status_of(Finding("", a["code"], a["severity"], "") for a in alerts.get(name, []))})
    flagged = [f for f in ctx.result.findings if f.columns]
    html = render_fragment("audit_columns.html.j2", columns=columns, has_profile=ctx.profile is not None)
    return Section(id="columns", title="Columns", html=html,
                   summary=f"{len(columns)} columns, {sum(1 for c in columns if c['alerts'])} with alerts",
                   status=status_of(flagged))


def classes_section(ctx: ReportContext) -> Section | None:
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
    bars = [{"label": cell(name)["text"], "title": name, "count": count, "share": count / total,
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
                   status=status_of(imbalance))


def other_section(ctx: ReportContext, known: set[str]) -> Section | None:
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
            "severity": finding.severity, "code": finding.code, "title": title_of(finding),
            "message": finding.message, "action": action_of(finding),
            "columns": finding.columns[:12], "more_columns": max(len(finding.columns) - 12, 0),
            "rows": [{"row": r, "cells": value_cells(ctx, r, frame, columns)} for r in shown],
            "more_rows": max(len(finding.rows) - len(shown), 0),
        })
    html = render_fragment("audit_other.html.j2", items=items, columns=columns if ctx.dataset is not None else [])
    return Section(id="other", title="Other findings", html=html,
                   summary=f"{len(found)} finding(s) of other checks", status=status_of(found))


def train_test_section(ctx: ReportContext) -> Section | None:
    overlap = ctx.in_section("train-test", row_level=True)
    drift = ctx.in_section("train-test", row_level=False)
    test = ctx.test
    if test is None and not overlap and not drift:
        return None
    per_column: dict[str, Mapping[str, Any]] = {}
    drifted: set[str] = set()
    for finding in drift:
        per_column.update(finding.evidence_of(PerColumn) or {})
        drifted.update(finding.columns)
    if ctx.data is not None and ctx.data.shared.drift:
        # The drift check's statistics of every column it compared, drifted or not.
        per_column = dict(ctx.data.shared.drift)
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
                entry["train_mean"] = nice(column["stats"].get("mean"))
                entry["test_mean"] = nice(float(finite.mean()) if finite.size else None)
            elif column["top"]:
                counts = values.value_counts(dropna=True)
                total = max(int(counts.sum()), 1)
                entry["top"] = [{"text": cell(t["value"])["text"], "train": t["share"],
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
            classes.append({"label": cell(name)["text"], "train": float(train_counts.get(name, 0.0)),
                            "test": float(_lookup(test_counts, name))})
    html = render_fragment(
        "audit_train_test.html.j2", rows=rows[:300], hidden=max(len(rows) - 300, 0), metric_keys=metric_keys,
        overlap=[{"severity": f.severity, "message": f.message, "n_rows": len(f.rows),
                  "rows": f.rows[:MAX_FINDING_ROWS_SHOWN], "details": scalar_details(f.details)} for f in overlap],
        drift=[{"severity": f.severity, "message": f.message} for f in drift],
        n_train=dataset.n_rows if dataset is not None else None, n_test=test.n_rows if test is not None else None,
        classes=classes, has_test=test is not None,
    )
    return Section(id="train-test", title="Train vs test", html=html,
                   summary=f"{len(drifted)} drifted column(s), {sum(len(f.rows) for f in overlap)} overlapping row(s)",
                   status=status_of(overlap + drift))


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
