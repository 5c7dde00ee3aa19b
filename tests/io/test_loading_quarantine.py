"""quarantine.csv holds each quarantined row exactly as the input file holds it, plus the reason."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app


def read_quarantine(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def training_frame(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(20, 60, n).astype(str),
        "score": [f"{v:.2f}" for v in rng.normal(size=n)],
        "city": rng.choice(["north", "south"], n),
        "label": rng.choice(["p", "q"], n),
    })


@pytest.mark.parametrize("chunked", [False, True])
def test_fit_transform_quarantine_keeps_the_raw_text(tmp_path, chunked):
    frame = training_frame()
    # Two rows with the same features and different labels (conflicting_labels), written the
    # way a person would: a zero-padded number and a plain integer that pandas reads as float.
    frame.loc[10] = ["007", "342", "north", "p"]
    frame.loc[11] = ["007", "342", "north", "q"]
    frame.loc[12, "score"] = "twenty"  # a stray string elsewhere: read as missing, not quarantined
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    args = ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "art")]
    result = CliRunner().invoke(app, args + (["--chunksize", "9"] if chunked else []))
    assert result.exit_code == 0, (result.stderr, result.exception)
    rows = read_quarantine(tmp_path / "art" / "quarantine.csv")
    assert rows[0] == ["row", "reason", "age", "score", "city", "label"]
    assert rows[1:] == [["10", "conflicting_labels", "007", "342", "north", "p"],
                        ["11", "conflicting_labels", "007", "342", "north", "q"]]


def test_transform_quarantine_keeps_the_offending_values(tmp_path):
    frame = training_frame()
    path = tmp_path / "fit.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "art")])
    assert result.exit_code == 0, result.stderr
    new = frame.head(6).copy()
    new.loc[1, "age"] = "twenty"
    new.loc[2, "score"] = "1,5"
    new.loc[3, "age"] = "342"
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    out = tmp_path / "new.npz"
    result = CliRunner().invoke(app, ["transform", str(new_path), "--artifacts", str(tmp_path / "art"),
                                      "--out", str(out), "--on-invalid", "quarantine"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    rows = read_quarantine(tmp_path / "new.quarantine.csv")
    assert rows[0] == ["row", "reason", "age", "score", "city", "label"]
    by_row = {r[0]: r for r in rows[1:]}
    assert sorted(by_row) == ["1", "2", "3"]
    assert by_row["1"][2] == "twenty" and by_row["2"][3] == "1,5" and by_row["3"][2] == "342"
    for r, values in by_row.items():
        assert values[2:] == new.loc[int(r)].tolist()
        assert values[1].startswith("invalid ")
    # The quoted field stays quoted in the file, so it reads back as one field.
    assert '"1,5"' in (tmp_path / "new.quarantine.csv").read_text(encoding="utf-8")


def test_transform_quarantine_of_a_latin1_file(tmp_path):
    frame = training_frame()
    frame["city"] = np.where(frame["city"] == "north", "M\u00fcnchen", "K\u00f6ln")
    path = tmp_path / "fit.csv"
    frame.to_csv(path, index=False)
    assert CliRunner().invoke(app, ["fit-transform", str(path), "--label", "label", "--out",
                                    str(tmp_path / "art")]).exit_code == 0
    new = frame.head(4).copy()
    new.loc[2, "age"] = "zwanzig"
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False, encoding="latin-1")
    result = CliRunner().invoke(app, ["transform", str(new_path), "--artifacts", str(tmp_path / "art"),
                                      "--out", str(tmp_path / "new.npz"), "--on-invalid", "quarantine"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    rows = read_quarantine(tmp_path / "new.quarantine.csv")
    assert rows[1][0] == "2" and rows[1][2] == "zwanzig" and rows[1][4] == new.loc[2, "city"]
