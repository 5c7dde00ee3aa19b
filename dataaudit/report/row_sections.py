"""Audit sections that show rows: duplicate groups, suspect labels, outliers, examples per class."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.records import Finding, Groups, PerRow, RowEvidence
from dataaudit.report.section import Section, render_fragment
from dataaudit.report.view import (
    EXAMPLES_PER_CLASS,
    MAX_EXAMPLE_CLASSES,
    MAX_GROUP_MEMBERS,
    MAX_GROUPS,
    MAX_LIST_ROWS,
    MAX_VALUE_COLUMNS,
    ReportContext,
    action_of,
    cell,
    status_of,
    title_of,
    value_cells,
)

if TYPE_CHECKING:
    from dataaudit.records import CheckResult


def _groups_of(finding: Finding) -> list[tuple[int, ...]]:
    """The finding's row groups; a finding without ``Groups`` evidence shows each of its rows alone."""
    groups = finding.evidence_of(Groups)
    return list(groups) if groups is not None else [(r,) for r in finding.rows]


class _GroupRows:
    """The values of every row a duplicates block shows, read from the table once (not per group)."""

    def __init__(self, ctx: ReportContext, rows: list[int]) -> None:
        frame = ctx.rows_frame(list(dict.fromkeys(rows)))
        self.columns: list[str] = [] if frame is None else list(frame.columns)
        self.empty = frame is None or frame.empty
        self.values = np.empty((0, 0), dtype=object) if frame is None else frame.to_numpy(dtype=object)
        self.missing = np.empty((0, 0), dtype=bool) if frame is None else frame.isna().to_numpy()
        self.position = {} if frame is None else {int(r): i for i, r in enumerate(frame.index)}

    def of(self, members: list[int]) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The members found in the table, their values and their missing-cell mask."""
        found = [r for r in members if r in self.position]
        at = [self.position[r] for r in found]
        return found, self.values[at], self.missing[at]


def _group_table(ctx: ReportContext, group: tuple[int, ...], block: _GroupRows) -> dict[str, Any]:
    """One duplicate group side by side: rows as lines, differing cells highlighted."""
    members = list(group[:MAX_GROUP_MEMBERS])
    uris = ctx.image_uris(members)
    label = ctx.dataset.label if ctx.dataset is not None else None
    table: dict[str, Any] = {"rows": [], "columns": [], "hidden_same": 0, "n_members": len(group),
                             "more": max(len(group) - len(members), 0)}
    found, values, missing = block.of(members)
    if block.empty or not found:
        table["rows"] = [{"row": r, "cells": [], "image": uris.get(r)} for r in members]
        return table
    # Compare each member with the first; missing cells compare equal to each other. A plain
    # loop over a few hundred cells beats pandas string conversion of the whole block.
    names = block.columns
    differing = [
        name for j, name in enumerate(names)
        if any(missing[i, j] != missing[0, j] or (not missing[i, j] and values[i, j] != values[0, j])
               for i in range(1, len(values)))
    ]
    pixels = set(ctx.images.columns) if ctx.images is not None else set()
    columns: list[str] = []
    if label is not None:
        columns.append(label)
    columns += [c for c in differing if c != label and c not in pixels][:MAX_VALUE_COLUMNS]
    for name in names:
        if len(columns) >= MAX_VALUE_COLUMNS + 1:
            break
        if name not in columns and name not in pixels:
            columns.append(name)
    table["columns"] = [{"name": c, "diff": c in differing} for c in columns]
    table["hidden_same"] = len([c for c in names if c not in columns and c not in differing])
    table["hidden_diff"] = len([c for c in differing if c not in columns])
    table["n_columns"] = len(names)
    table["n_differing"] = len(differing)
    table["pixels_differing"] = len([c for c in differing if c in pixels])
    roles = ctx.dataset.roles if ctx.dataset is not None else {}
    # With images and nothing but the label beside the pixels, the pictures say it all.
    table["show_table"] = not pixels or any(c != label for c in columns)
    index = {name: j for j, name in enumerate(names)}
    for row, line in zip(found, values, strict=True):
        table["rows"].append({
            "row": int(row),
            "image": uris.get(int(row)),
            "label": cell(line[index[label]])["text"] if label is not None else None,
            "cells": [cell(line[index[c]], diff=c in differing, wide=roles.get(c) == "text") for c in columns],
        })
    return table


def duplicates_section(ctx: ReportContext) -> Section | None:
    found = ctx.in_section("duplicates")
    if not found:
        return None
    blocks: list[dict[str, Any]] = []
    for finding in found:
        # The largest groups first: they weigh most (the full list is in findings.json).
        groups = sorted(_groups_of(finding), key=len, reverse=True)
        shown = groups[:MAX_GROUPS]
        block = _GroupRows(ctx, [r for g in shown for r in g[:MAX_GROUP_MEMBERS]])
        tables = [_group_table(ctx, g, block) for g in shown]
        blocks.append({
            "code": finding.code,
            "title": title_of(finding),
            "severity": finding.severity,
            "message": finding.message,
            "n_groups": len(groups),
            "hidden": max(len(groups) - MAX_GROUPS, 0),
            "groups": tables,
            "compact": ctx.images is not None and not any(t.get("show_table", True) for t in tables),
            "action": action_of(finding),
        })
    html = render_fragment("audit_duplicates.html.j2", blocks=blocks, has_images=ctx.images is not None)
    # Info findings here (chance collisions) are rows kept as distinct records, not duplicates.
    n_rows = sum(len(f.rows) for f in found if f.severity != "info")
    n_groups = sum(b["n_groups"] for b, f in zip(blocks, found, strict=True) if f.severity != "info")
    kept = sum(b["n_groups"] for b, f in zip(blocks, found, strict=True) if f.severity == "info")
    summary = f"{n_rows} duplicate row(s) in {n_groups} group(s)"
    if kept:
        summary += f"; {kept} group(s) share values by chance (kept)"
    return Section(id="duplicates", title="Duplicates", html=html,
                   summary=summary,
                   status=status_of(found))


def _per_row(finding: Finding, check: CheckResult | None) -> list[RowEvidence]:
    """A finding's per-row evidence, worst (lowest score) first.

    A finding without ``PerRow`` evidence lists its rows with the check's row scores.
    """
    per_row = finding.evidence_of(PerRow)
    if per_row is None:
        scores = check.row_scores.get(finding.code) if check is not None else None
        entries = []
        for r in dict.fromkeys(finding.rows):
            score = float(scores[r]) if scores is not None and 0 <= r < len(scores) else math.nan
            entries.append(RowEvidence(r, {"score": score if math.isfinite(score) else None}))
        per_row = PerRow(tuple(entries))
    return per_row.worst_first()


def _listed_rows(ctx: ReportContext, finding: Finding) -> tuple[list[RowEvidence], int, Any, dict[int, str]]:
    """A row-level finding's first MAX_LIST_ROWS entries, the full count, their values and images."""
    entries = _per_row(finding, ctx.check_result(finding.check))
    total = len(entries)
    entries = entries[:MAX_LIST_ROWS]
    rows = [e.row for e in entries]
    return entries, total, ctx.rows_frame(rows), ctx.image_uris(rows)


def labels_section(ctx: ReportContext) -> Section | None:
    found = ctx.in_section("labels", row_level=True)
    if not found:
        return None
    finding = found[0]
    entries, total, frame, uris = _listed_rows(ctx, finding)
    columns = ctx.value_columns()
    label = ctx.dataset.label if ctx.dataset is not None else None
    items = []
    for entry in entries:
        row = entry.row
        given = entry.given
        if given is None and frame is not None and label is not None and row in frame.index:
            given = frame.at[row, label]
        items.append({
            "row": row,
            "given": cell(given)["text"] if given is not None else "–",
            "suggested": cell(entry.suggested)["text"] if entry.suggested is not None else "–",
            "score": entry.score,
            "image": uris.get(row),
            "cells": value_cells(ctx, row, frame, columns),
        })
    html = render_fragment(
        "audit_labels.html.j2", items=items, columns=columns, total=total, n_flagged=len(finding.rows),
        message=finding.message,
        severity=finding.severity, action=action_of(finding), has_images=ctx.images is not None,
        more_findings=[f.message for f in found[1:]],
    )
    return Section(id="labels", title="Suspect labels", html=html,
                   summary=f"{len(finding.rows)} row(s) whose label looks wrong", status=status_of(found))


def outliers_section(ctx: ReportContext) -> Section | None:
    found = ctx.in_section("outliers", row_level=True)
    if not found:
        return None
    finding = found[0]
    entries, total, frame, uris = _listed_rows(ctx, finding)
    columns = ctx.value_columns(prefer=list(finding.columns))
    label = ctx.dataset.label if ctx.dataset is not None else None
    extra_keys = [k for k in (entries[0].values if entries else {}) if k != "score"][:3]
    items = []
    for entry in entries:
        row = entry.row
        items.append({
            "row": row,
            "score": entry.score,
            "label": cell(frame.at[row, label])["text"] if frame is not None and label is not None and row in frame.index else None,
            "extra": [cell(_plain(entry.values.get(k)), wide=isinstance(entry.values.get(k), list | tuple | dict))
                      for k in extra_keys],
            "image": uris.get(row),
            "cells": value_cells(ctx, row, frame, columns),
        })
    html = render_fragment(
        "audit_outliers.html.j2", items=items, columns=columns, total=total, message=finding.message,
        severity=finding.severity, action=action_of(finding), extra_keys=extra_keys,
        has_images=ctx.images is not None, has_label=label is not None,
        more_findings=[f.message for f in found[1:]],
    )
    return Section(id="outliers", title="Outliers", html=html,
                   summary=f"{len(finding.rows)} unusual row(s)", status=status_of(found))


def _plain(value: Any) -> Any:
    """A per-row detail as short text: lists joined, {column, value, z} evidence as ``col=v (z=+5.1)``."""
    if isinstance(value, list | tuple):
        return ", ".join(str(_plain(v)) for v in value[:8])
    if isinstance(value, dict):
        if {"column", "value"} <= set(value):
            z = value.get("z")
            suffix = f" ({z:+.1f} SD)" if isinstance(z, int | float) else ""
            return f"{value['column']} = {value['value']}{suffix}"
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value


def examples_section(ctx: ReportContext) -> Section | None:
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
            groups.append({"label": cell(name)["text"], "n": len(members), "rows": pick.tolist()})
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
