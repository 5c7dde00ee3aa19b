"""Similar column names: headers that differ only in case, spaces, Unicode form or invisible characters."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.findings import CheckResult, Code, ColumnGroups

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Characters that render as nothing: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """The form two names share when a reader cannot tell them apart.

    NFKC normalization (``é`` composed or as ``e`` + accent, full-width letters), invisible
    characters removed, case folded, surrounding whitespace stripped and inner runs collapsed.
    """
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", str(name)))
    return _SPACES.sub(" ", text.casefold()).strip()


def _differences(names: list[str]) -> list[str]:
    """The normalization steps of ``name_key`` that change a name of the group, in order."""
    steps = (
        ("invisible characters", lambda n: _INVISIBLE.sub("", n)),
        ("Unicode normalization (NFC vs NFD)", lambda n: unicodedata.normalize("NFC", n)),
        ("Unicode compatibility forms", lambda n: unicodedata.normalize("NFKC", n)),
        ("whitespace", lambda n: _SPACES.sub(" ", n).strip()),
        ("case", lambda n: n.casefold()),
    )
    kinds = []
    current = list(names)
    for kind, step in steps:
        after = [step(n) for n in current]
        if after != current:  # this step changes a name of the group: part of the difference
            kinds.append(kind)
        current = after
    return kinds


@register
class SimilarColumnNames(Check):
    """Similar column names: headers a reader cannot tell apart ('a', 'a ', 'A', é vs e + accent, zero-width characters).

    Two such columns are usually one column written two ways (a join of two exports, a typo in
    a header): the data is split across them, and code that picks a column by name picks one.
    """

    name = "similar_column_names"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("similar_column_names", title="Similar column names", section="columns",
             action="Rename the columns so each name is distinct and plain, or merge them if they are "
                    "one column written two ways."),
    )
    order = 69

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        groups: dict[str, list[str]] = {}
        for column in dataset.columns:
            groups.setdefault(name_key(column), []).append(column)
        similar = [names for names in groups.values() if len(names) > 1]
        if not similar:
            return self.result([], stats={"n_groups": 0})
        per_group: list[dict[str, Any]] = []
        for names in similar:
            per_group.append({
                "names": names,
                "escaped": [n.encode("unicode_escape").decode("ascii") for n in names],
                "differ_by": _differences(names),
                "non_missing": {n: int(dataset.frame[n].notna().sum()) for n in names},
            })
        shown = "; ".join(
            " vs ".join(repr(e) for e in g["escaped"]) + f" ({', '.join(g['differ_by'])})" for g in per_group[:5]
        )
        columns = [n for names in similar for n in names]
        finding = self.finding(
            "similar_column_names", "warning",
            f"{len(similar)} group(s) of column names differ only in case, spaces, Unicode form or "
            f"invisible characters: {shown}.",
            columns=columns,
            evidence=ColumnGroups.of(per_group),
            details={"action": "rename the columns at the source so each name is distinct and plain, "
                     "or merge them if they are one column written two ways"},
        )
        return self.result([finding], stats={"n_groups": len(similar)})
