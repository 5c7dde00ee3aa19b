"""similar_column_names: headers a reader cannot tell apart are reported, distinct ones are not."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from dataaudit.audit import run_checks
from dataaudit.checks.similar_column_names import name_key
from dataaudit.dataset import Dataset


def findings(columns: list[str]):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.normal(size=30) for c in columns})
    frame["label"] = rng.choice(["p", "q"], 30)
    result = run_checks(Dataset.from_frame(frame, label="label"), checks=["similar_column_names"])
    return result.findings


def test_case_space_unicode_and_invisible_variants_are_one_group_each():
    nfc = unicodedata.normalize("NFC", "caf\u00e9")
    nfd = unicodedata.normalize("NFD", "caf\u00e9")
    found = findings(["a", "a ", "A", nfc, nfd, "zip\u200bcode", "zipcode", "other"])
    assert len(found) == 1
    finding = found[0]
    assert finding.code == "similar_column_names" and finding.severity == "warning"
    groups = [g["names"] for g in finding.details["groups"]]
    assert groups == [["a", "a ", "A"], [nfc, nfd], ["zip\u200bcode", "zipcode"]]
    kinds = [g["differ_by"] for g in finding.details["groups"]]
    assert kinds[0] == ["whitespace", "case"]
    assert kinds[1] == ["Unicode normalization (NFC vs NFD)"]
    assert kinds[2] == ["invisible characters"]
    assert "other" not in finding.columns
    # The message shows the invisible character escaped, so the reader can see the difference.
    assert "\\u200b" in finding.message


def test_both_differences_are_named():
    assert findings(["name", "Name "])[0].details["groups"][0]["differ_by"] == ["whitespace", "case"]


def test_distinct_names_pass():
    assert findings(["a", "b", "ab", "a_b", "a1"]) == []


def test_name_key():
    assert name_key("  Zip\u200b  Code ") == "zip code"
    assert name_key("\uff21") == "a"  # full-width A
