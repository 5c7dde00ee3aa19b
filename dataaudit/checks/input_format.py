"""Input format: what the loader had to do to read the file, reported instead of done silently."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.findings import CheckResult, Code

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset


@register
class InputFormat(Check):
    """Input format: an encoding that had to be detected, dates converted to UTC, columns that cannot be features.

    The loader (``dataaudit.io.loading``) records these while it reads the file
    (``Dataset.load_notes``); this check turns them into findings so that they reach
    findings.json and the report. Codes: ``encoding_detected`` (info: the file was not UTF-8 and
    was read with the encoding charset-normalizer picked), ``mixed_timezones`` (warning: a date
    column mixed UTC offsets and was converted to UTC), ``unsupported_column`` (warning: nested or
    binary Parquet columns were left out of the features, role ``unsupported``).
    """

    name = "input_format"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("encoding_detected", title="Encoding detected", section="columns",
             action="Check accented text in the report; if it looks wrong, re-save the file as UTF-8 "
                    "or pass its encoding (--encoding)."),
        Code("mixed_timezones", title="Mixed time zones", section="columns",
             action="Check the UTC offsets at the source; the column was converted to UTC."),
        Code("unsupported_column", title="Columns that cannot be features", section="columns",
             action="Flatten nested columns (one column per field) or decode binary ones, if they matter."),
    )
    order = 5

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        findings = [
            self.finding(note["code"], note["severity"], note["message"],
                         columns=list(note.get("columns", [])), details=dict(note.get("details", {})))
            for note in dataset.load_notes if note.get("code") in self.codes
        ]
        return self.result(findings, stats={"encoding": dataset.encoding, "format": dataset.file_format})
