"""--findings is used only for the file it describes; a bad --findings or seed is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("findings")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=120), "b": rng.integers(0, 9, 120)})
    frame["y"] = (frame["a"] > 0).astype(int)
    frame.to_csv(root / "d.csv", index=False)
    frame.assign(a=frame["a"] + 1).to_csv(root / "other.csv", index=False)
    result = runner.invoke(app, ["inspect", str(root / "d.csv"), "--label", "y", "--out", str(root / "audit")])
    assert result.exit_code in (0, 1), result.output
    return root


def _fit(root: Path, findings: Path, *extra: str, data: str = "d.csv", out: str = "art") -> tuple[int, list[str]]:
    result = runner.invoke(app, ["fit-transform", str(root / data), "--label", "y", "--findings", str(findings),
                                 "--no-near-duplicates", "--out", str(root / out), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, [line for line in result.stderr.splitlines() if line.strip()]


def _edited(root: Path, name: str, change) -> Path:
    data = json.loads((root / "audit" / "findings.json").read_text())
    change(data)
    (root / name).write_text(json.dumps(data))
    return root / name


def test_matching_findings_are_used(audited: Path) -> None:
    code, err = _fit(audited, audited / "audit" / "findings.json")
    assert code == 0, err
    manifest = json.loads((audited / "art" / "manifest.json").read_text())
    assert manifest["cleaning"]["findings"].endswith("findings.json")


def test_findings_without_sha256_refused_then_forced_with_a_warning(audited: Path) -> None:
    no_sha = _edited(audited, "no_sha.json", lambda d: d["input"].pop("sha256"))
    code, err = _fit(audited, no_sha, out="art_nosha")
    assert code == 2 and len(err) == 1 and "records no input.sha256" in err[0] and "--unverified-findings" in err[0]
    assert not (audited / "art_nosha").exists()
    code, err = _fit(audited, no_sha, "--unverified-findings", out="art_nosha")
    assert code == 0
    assert any(line.startswith("WARNING") and "no_sha.json" in line for line in err), err
    notes = json.loads((audited / "art_nosha" / "manifest.json").read_text())["cleaning"]["notes"]
    assert any(note.startswith("WARNING") for note in notes)


def test_findings_of_another_file_refused(audited: Path) -> None:
    code, err = _fit(audited, audited / "audit" / "findings.json", data="other.csv", out="art_other")
    assert code == 2 and len(err) == 1 and "computed for another input" in err[0]
    code, err = _fit(audited, audited / "audit" / "findings.json", "--chunksize", "50", data="other.csv",
                     out="art_other")
    assert code == 2 and len(err) == 1 and "computed for another input" in err[0]


@pytest.mark.parametrize(("name", "content", "phrase"), [
    ("folder", None, "is a folder"),
    ("broken.json", '{"findings": [', "not a findings.json"),
    ("list.json", "[1, 2]", "not a findings.json"),
    ("latin1.json", b'{"findings": [], "x": "caf\xe9"}', "not a findings.json"),
    ("rows.json", '{"findings": [{"check": "d", "code": "c", "severity": "warning", "message": "m", '
                  '"rows": ["x"]}], "input": {"sha256": "0"}}', "rows is not a list of row numbers"),
    ("severity.json", '{"findings": [{"check": "d", "code": "c", "severity": "fatal", "message": "m"}]}',
     "severity 'fatal'"),
    ("items.json", '{"findings": [3]}', "'findings' is not a list of objects"),
    ("sha.json", '{"findings": [], "input": {"sha256": 5}}', "'input.sha256' is not a string"),
    ("deep.json", '{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}", "not a findings.json"),
])
def test_malformed_findings_one_line(audited: Path, name: str, content: str | bytes | None, phrase: str) -> None:
    path = audited / "bad" / name
    path.parent.mkdir(exist_ok=True)
    if content is None:
        path.mkdir(exist_ok=True)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    code, err = _fit(audited, path, out="art_bad")
    assert code == 2 and len(err) == 1 and phrase in err[0], err


@pytest.mark.parametrize("seed", ["-1", "-100"])
def test_negative_seed_is_one_line(audited: Path, seed: str) -> None:
    result = runner.invoke(app, ["fit-transform", str(audited / "d.csv"), "--label", "y", "--seed", seed,
                                 "--out", str(audited / "art_seed")])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "seed" in lines[0], result.output
