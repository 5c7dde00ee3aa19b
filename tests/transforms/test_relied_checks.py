"""fit-transform warns loudly (stderr and the manifest) when a check its guarantees rely on errored or was skipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.transforms.config import TransformConfig
from dataaudit.transforms.plan import reliance_warnings, relied_on_checks

runner = CliRunner()


@pytest.fixture(scope="module")
def inspected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("relied")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=150), "b": rng.normal(size=150)})
    frame["y"] = (frame["a"] + rng.normal(size=150) > 0).astype(int)
    pd.concat([frame, frame.iloc[:3]], ignore_index=True).to_csv(root / "d.csv", index=False)
    result = runner.invoke(app, ["inspect", str(root / "d.csv"), "--label", "y", "--check", "duplicates",
                                 "--check", "label_leakage", "--no-report", "--out", str(root / "ins"), "-q"])
    assert result.exit_code == 0, result.output
    return root


def _edit(findings: Path, target: Path, **statuses: tuple[str, str]) -> Path:
    data = json.loads(findings.read_text())
    for check in data["checks"]:
        if check["check"] in statuses:
            status, why = statuses[check["check"]]
            check.update(status=status, findings=[], stats={},
                         error=why if status == "errored" else None, reason=why if status == "skipped" else None)
    data["findings"] = [f for f in data["findings"] if f["check"] not in statuses]
    target.write_text(json.dumps(data))
    return target


def _fit(root: Path, findings: Path, out: str):
    result = runner.invoke(app, ["fit-transform", str(root / "d.csv"), "--label", "y", "--no-near-duplicates",
                                 "--findings", str(findings), "--out", str(root / out)])
    assert result.exit_code == 0, result.output
    notes = json.loads((root / out / "manifest.json").read_text())["cleaning"]["notes"]
    return result.output, [n for n in notes if n.startswith("WARNING")]


def test_errored_and_skipped_relied_checks_are_printed_and_recorded(inspected: Path) -> None:
    findings = _edit(inspected / "ins" / "findings.json", inspected / "edited.json",
                     label_leakage=("errored", "ValueError: boom"), duplicates=("skipped", "no rows to compare"))
    output, warnings = _fit(inspected, findings, "art")
    assert len(warnings) == 2
    leakage = next(w for w in warnings if "label_leakage" in w)
    assert "errored (ValueError: boom)" in leakage and "restates the label" in leakage
    duplicates = next(w for w in warnings if "check duplicates" in w)
    assert "skipped (no rows to compare)" in duplicates and "straddle splits" in duplicates
    for warning in warnings:  # printed on stderr, whole
        assert " ".join(warning.split()) in " ".join(output.split())


def test_no_warning_when_the_relied_checks_ran(inspected: Path) -> None:
    output, warnings = _fit(inspected, inspected / "ins" / "findings.json", "clean")
    assert warnings == [] and "WARNING" not in output


def test_label_issues_matters_only_when_suspects_are_handled() -> None:
    class Result:
        def __init__(self, check: str, status: str) -> None:
            self.check, self.status, self.error, self.reason = check, status, None, "no label"

    class Audit:
        checks = [Result("label_issues", "skipped"), Result("near_duplicates", "errored"),
                  Result("outliers", "errored")]

    assert reliance_warnings(Audit(), TransformConfig(suspects="keep", near_duplicates=False)) == []
    dropped = reliance_warnings(Audit(), TransformConfig(suspects="drop", near_duplicates=True))
    assert [w.split()[2] for w in dropped] == ["label_issues", "near_duplicates"]
    assert "suspect labels are dropped" in dropped[0]
    assert "outliers" not in relied_on_checks(TransformConfig())
    assert reliance_warnings(None, TransformConfig()) == []
