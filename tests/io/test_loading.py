"""Loading: every unusable input is one clear InputError; dirty input loads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.exceptions import InputError
from dataaudit.io.loading import load_dataset


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("empty.csv", "", "empty"),
        ("blank.csv", "\n\n  \n", "empty"),
        ("header.csv", "a,b,label\n", "no data rows"),
        ("ragged.csv", "a,b,label\n1,2,0\n3,4,1,9\n5,6,0\n", "line 3 has 4 fields"),
        ("short.csv", "a,b,label\n1,2,0\n3,4\n5,6,0\n", "line 3 has 2 fields but the header has 3 (data row 1"),
        ("shiftjis.csv", "\u540d\u524d,label\n\u6771\u4eac,1\n".encode("shift_jis"), "cannot decode as UTF-8 at line 1"),
        ("junk.csv", bytes(range(256)) * 20, "binary"),
        ("corrupt.parquet", b"PAR1" + b"\x00garbage" * 50, "cannot read as Parquet"),
        ("dupes.csv", "a,a,label\n1,2,0\n", "duplicate column name(s) ['a']"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, name, content, phrase):
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as info:
        load_dataset(path)
    message = str(info.value)
    assert phrase in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_dataset(tmp_path / "nope.csv")


def test_missing_label_lists_columns(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,target\n1,2,0\n")
    with pytest.raises(InputError, match=r"Label column 'label' not found .*\['a', 'b', 'target'\]. Pass --label"):
        load_dataset(path, label="label")


def test_bom_semicolon_and_quoted_newlines(tmp_path):
    content = '\ufeffa;b;label\n1;"two\nlines";x\n3;"four";y\n'
    ds = load_dataset(write(tmp_path, "d.csv", content), label="label")
    assert ds.columns == ["a", "b", "label"]
    assert ds.n_rows == 2
    assert ds.frame.loc[0, "b"] == "two\nlines"


def test_tsv_and_pipe_delimiters(tmp_path):
    assert load_dataset(write(tmp_path, "d.tsv", "a\tb\n1\t2\n3\t4\n")).columns == ["a", "b"]
    assert load_dataset(write(tmp_path, "p.csv", "a|b\n1|2\n3|4\n")).columns == ["a", "b"]


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("a,label\n1,x\n2,y\n".encode("utf-16"))
    assert load_dataset(path, label="label").n_rows == 2


def test_parquet_roundtrip(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": ["x", "y", "x"]})
    path = tmp_path / "d.parquet"
    frame.to_parquet(path)
    ds = load_dataset(path, label="label")
    assert ds.file_format == "parquet" and ds.n_rows == 3


def test_stray_strings_in_numeric_column_are_coerced_and_recorded(tmp_path):
    rows = "\n".join(f"{i},{i % 2}" for i in range(30))
    path = write(tmp_path, "d.csv", "x,label\n" + rows + "\noops,1\n?,0\n")
    ds = load_dataset(path, label="label")
    assert ds.roles["x"] == "numeric"
    assert ds.coerced["x"] == {"rows": [30, 31], "values": ["oops", "?"]}
    assert np.isnan(ds.frame.loc[30, "x"])


def test_roles(tmp_path):
    n = 40
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "height": rng.normal(size=n),
            "colour": rng.choice(["red", "blue"], n),
            "flag": rng.choice(["yes", "no"], n),
            "when": pd.date_range("2024-01-01", periods=n).astype(str),
            "note": [f"free text number {i} with several words" for i in range(n)],
            "same": ["k"] * n,
            "empty": [np.nan] * n,
            "label": rng.integers(0, 2, n),
        }
    )
    path = tmp_path / "roles.csv"
    frame.to_csv(path, index=False)
    roles = load_dataset(path, label="label").roles
    assert roles == {
        "row_id": "id", "height": "numeric", "colour": "categorical", "flag": "boolean",
        "when": "datetime", "note": "text", "same": "constant", "empty": "constant", "label": "label",
    }


def test_rows_are_numbered_as_data_rows(tmp_path):
    path = write(tmp_path, "d.csv", 'a,b\n1,"x\ny"\n2,z\n')
    ds = load_dataset(path)
    assert list(ds.frame.index) == [0, 1]
