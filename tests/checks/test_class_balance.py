from __future__ import annotations

import pandas as pd

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.dataset import Dataset

load_all()  # make_check looks checks up in the registry


def _run(labels: list[object], **options: float):
    dataset = Dataset.from_frame(pd.DataFrame({"x": range(len(labels)), "y": labels}), label="y")
    return make_check("class_balance", options).run(dataset, AuditContext())


def test_flags_a_class_at_five_percent_of_the_majority() -> None:
    result = _run(["a"] * 100 + ["b"] * 5)
    (finding,) = result.findings
    assert finding.code == "class_imbalance" and finding.severity == "warning"
    assert finding.columns == ("y",)
    assert finding.details["ratio"] == 0.05
    assert finding.details["counts"][0] == {"label": "a", "count": 100, "share": 100 / 105}
    assert finding.details["rare_classes"] == ["b"]
    assert "stratified" in finding.details["action"]


def test_balanced_and_mild_imbalance_pass() -> None:
    assert _run([0, 1, 2] * 50).findings == ()
    assert _run([0] * 100 + [1] * 20).findings == ()


def test_single_member_class_is_flagged_even_when_ratio_is_mild() -> None:
    result = _run([0] * 5 + [1] * 5 + [2])
    (finding,) = result.findings
    assert finding.details["single_row_classes"] == [2]


def test_threshold_option_and_single_class_skip() -> None:
    assert _run(["a"] * 100 + ["b"] * 20, max_ratio=0.25).findings
    assert _run(["a"] * 10).status == "skipped"
