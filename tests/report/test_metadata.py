"""The report takes every word about a check from findings.json: checks own their metadata."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from dataaudit.audit import run_checks
from dataaudit.checks import REGISTRY, load_all
from dataaudit.checks._base import Check, register
from dataaudit.dataset import Dataset
from dataaudit.findings import Code


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "y": rng.integers(0, 2, 200)})
    return pd.concat([frame, frame.iloc[:5]], ignore_index=True)


def test_every_declared_code_has_title_action_and_section() -> None:
    for check in load_all().values():
        assert check.codes, check.name
        for code in check.codes:
            assert isinstance(code, Code) and code.heading and code.action and code.section, (check.name, code)


def test_a_code_without_metadata_is_refused_at_registration() -> None:
    class Bare(Check):
        """A check that forgot to describe its code."""

        name = "bare_for_test"
        codes: ClassVar = ("bare",)  # type: ignore[assignment]

    with pytest.raises(TypeError, match="without metadata"):
        register(Bare)
    assert "bare_for_test" not in REGISTRY


@pytest.fixture
def throwaway_check():
    """A check written in one place: its class, its code and what the report says about it."""

    @register
    class Throwaway(Check):
        """Rows whose column a is above 2 (a throwaway check for the report test)."""

        name = "throwaway_for_test"
        codes: ClassVar[tuple[Code, ...]] = (
            Code("throwaway_high_a", title="Rows with a high a", section="other", row_level=True,
                 action="Look at the rows with a above 2 and decide by hand."),
        )

        def run(self, dataset, context):
            rows = np.flatnonzero(dataset.frame["a"].to_numpy() > 2.0)
            return self.result([self.finding("throwaway_high_a", "warning", f"{len(rows)} rows have a > 2.",
                                             rows=tuple(int(r) for r in rows), columns=("a",))])

    yield Throwaway
    REGISTRY.pop("throwaway_for_test", None)


def test_a_new_check_renders_with_its_own_words(throwaway_check) -> None:
    result = run_checks(Dataset.from_frame(_frame(), label="y"), checks=["throwaway_for_test", "duplicates"])
    finding = result.by_code("throwaway_high_a")[0]
    assert finding.rows, "the planted rows must be found"
    html = result.to_html()
    assert "Rows with a high a" in html  # title, in the findings list and its section
    assert "Look at the rows with a above 2 and decide by hand." in html  # its action
    assert 'id="other"' in html  # its own section, built generically
    assert "Rows whose column a is above 2" in html  # the check's description in the overview
    other = html[html.index('id="other"'):]
    other = other[:other.index("</section>")]
    assert "Rows with a high a" in other and "Look at the rows with a above 2" in other
    for row in finding.rows[:12]:  # its flagged rows, with their values, in its section
        assert f'<td class="da-mono">{row}</td>' in other
    assert f"rows with a high a ({len(finding.rows)})" in html  # row flags: its own marker on the 2-D map
    assert "See the check's details in findings.json." not in html  # every finding has an action


def test_report_from_saved_findings_needs_no_check_module(tmp_path) -> None:
    result = run_checks(Dataset.from_frame(_frame(), label="y"), checks=["duplicates", "outliers"])
    path = tmp_path / "findings.json"
    path.write_text(result.to_json(), encoding="utf-8")
    probe = (
        "import sys\n"
        "from dataaudit.findings import AuditResult\n"
        f"html = AuditResult.load({str(path)!r}).to_html()\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('dataaudit.checks'))\n"
        "assert not loaded, loaded\n"
        "print(html)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    html = done.stdout
    saved = json.loads(path.read_text(encoding="utf-8"))
    for finding in saved["findings"]:
        assert finding["title"] in html and finding["action"] in html
    for check in saved["checks"]:
        assert check["description"] in html
