"""The report as a person sees it: opened in real headless Chromium.

Skipped (with the reason shown) where Chromium is not installed, except under CI=true, where a
missing browser fails the run. Screenshots go to $DATAAUDIT_SCREENSHOTS when set (else tmp).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from _report_browser import Chromium, find_chromium

from dataaudit.findings import AuditResult
from dataaudit.report.render import render_report

pytestmark = pytest.mark.browser

PAGE_STATE = """JSON.stringify({
  sections: Array.from(document.querySelectorAll("section")).map(s => s.id),
  navLinks: Array.from(document.querySelectorAll("nav a")).map(a => a.getAttribute("href")),
  brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length,
  images: document.images.length,
  svgs: document.querySelectorAll("svg").length,
  scripts: document.scripts.length,
  overflowing: Array.from(document.querySelectorAll("section")).filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.id),
  height: document.documentElement.scrollHeight
})"""


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required under CI=true: install it (apt-get install -y chromium).")
        pytest.skip("Chromium not installed (apt-get install -y chromium); browser tests skipped.")
    chromium = Chromium(binary)
    yield chromium
    chromium.close()


def open_report(browser: Chromium, html: str, name: str, tmp_path: Path) -> dict:
    import json

    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    load = browser.load(page, PAGE_STATE, width=1280, height=4000)
    outside = [u for u in load.requests if not u.startswith("data:") and u != page.resolve().as_uri()]
    assert outside == [], f"the page requested {outside}"
    problems = [c for c in load.console if c["level"] in ("error", "warning", "assert")]
    assert problems == [] and load.exceptions == [], (problems, load.exceptions)
    assert load.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", load.screenshot[16:24]) == (1280, 4000)
    target = Path(os.environ.get("DATAAUDIT_SCREENSHOTS", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.png").write_bytes(load.screenshot)
    return json.loads(load.result)


def test_digits_report_in_chromium(browser: Chromium, digits: AuditResult, tmp_path: Path) -> None:
    state = open_report(browser, render_report(digits, image_shape=(8, 8)), "digits", tmp_path)
    expected = ["overview", "findings", "classes", "labels", "duplicates", "outliers", "examples", "map",
                "columns", "correlations"]
    assert state["sections"] == expected
    assert state["navLinks"] == [f"#{s}" for s in expected]
    assert state["images"] > 100 and state["brokenImages"] == 0
    assert state["scripts"] == 1
    assert state["overflowing"] == []


def test_mixed_table_report_in_chromium(browser: Chromium, mixed: AuditResult, tmp_path: Path) -> None:
    state = open_report(browser, render_report(mixed), "mixed", tmp_path)
    assert state["sections"] == ["overview", "findings", "classes", "duplicates", "map", "columns",
                                 "correlations", "train-test"]
    assert state["svgs"] >= 3 and state["overflowing"] == []


def test_hostile_report_runs_no_injected_code(browser: Chromium, hostile: AuditResult, tmp_path: Path) -> None:
    # Any injected handler or script would call alert(), log, or add elements; none may exist.
    state = open_report(browser, render_report(hostile), "hostile", tmp_path)
    assert state["scripts"] == 1 and "train-test" in state["sections"]
