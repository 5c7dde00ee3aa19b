"""The self-contained offline HTML report: one file, inline CSS/SVG/PNG, nothing from the network.

``render_report`` turns an AuditResult (and the sections other stages add) into HTML. Every
value from the data reaches the page through an autoescaping Jinja2 template or as escaped SVG
text (the audit's plots are written by ``report.svg``, the other stages' by matplotlib); lists are capped (full lists live in rows.csv and findings.json) so that
the report of a million-row table stays a few hundred kilobytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

from dataaudit.exceptions import ConfigError
from dataaudit.records import SEVERITIES
from dataaudit.report.plot_sections import correlations_section, row_map_section
from dataaudit.report.row_sections import (
    duplicates_section,
    examples_section,
    labels_section,
    outliers_section,
)
from dataaudit.report.section import Section, environment
from dataaudit.report.summary_sections import (
    classes_section,
    columns_section,
    findings_section,
    other_section,
    overview_section,
    train_test_section,
)
from dataaudit.report.view import MAX_LIST_ROWS, ReportContext

if TYPE_CHECKING:
    from dataaudit.findings import AuditResult

__all__ = ["render_report", "audit_sections", "MAX_LIST_ROWS"]


def audit_sections(result: AuditResult, *, image_shape: tuple[int, int] | None = None,
                   later: Sequence[Section] = (), seed: int = 0) -> list[Section]:
    """The audit's own sections, in report order (overview first).

    Parameters
    ----------
    result : AuditResult
        The audit: every word comes from its findings; ``result.data`` (None for a run loaded from
        findings.json) supplies everything drawn from the data.
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
    data = result.data
    dataset = data.dataset if data is not None else None
    profile = None
    if dataset is not None:
        from dataaudit.report.profile import profile_dataset

        profile = profile_dataset(dataset, result.findings, seed=seed)
    images = None
    if image_shape is not None and dataset is not None:
        from dataaudit.report.images import RowImages

        images = RowImages(dataset, image_shape, seed=seed)
    ctx = ReportContext(result=result, data=data, profile=profile, images=images, seed=seed)
    # Evidence first (what to act on), reference material (columns, correlations) after.
    columns = columns_section(ctx)
    # Sections with a view of their own; a finding placed anywhere else lands in "other".
    known = {"classes", "labels", "duplicates", "outliers", "columns", "correlations", "train-test"}
    body = [s for s in (
        classes_section(ctx), labels_section(ctx), duplicates_section(ctx), outliers_section(ctx), examples_section(ctx), row_map_section(ctx),
        columns, correlations_section(ctx), train_test_section(ctx), other_section(ctx, known),
    ) if s is not None]
    present = {s.id for s in body}
    column_index = {c["name"]: c["index"] for c in (profile["columns"] if profile else [])}
    if not column_index:
        column_index = {name: i for i, name in enumerate((result.input or {}).get("roles") or {})}
    findings = findings_section(ctx, present, column_index)
    overview = overview_section(ctx, [findings, *body, *later])
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
