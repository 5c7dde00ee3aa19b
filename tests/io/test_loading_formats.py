"""Loading, the hard cases of issue 8: ragged rows never shift columns, encodings are detected and
said, CR line endings, Parquet types that cannot be features, mixed UTC offsets, and the chunked
reader giving the very same answers as the in-memory loader."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dataaudit.audit import run_checks
from dataaudit.cli import app
from dataaudit.exceptions import InputError
from dataaudit.io.loading import load_dataset, read_raw_rows
from dataaudit.transforms.streaming import iter_csv_chunks


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def chunked_error(path, chunksize: int = 2) -> str:
    with pytest.raises(InputError) as info:
        for _ in iter_csv_chunks(path, chunksize):
            pass
    return str(info.value)


# ------------------------------------------------------------------------------------- ragged rows
RAGGED = [
    # (content, phrase): pandas would make the extra leading field the index and shift every column.
    ("a,b,label\n0,10,0.5,p\n1,11,0.6,q\n", "line 2 has 4 fields but the header has 3"),
    # A trailing comma on every row: pandas would empty the label column.
    ("a,b,label\n0,10,p,\n1,11,q,\n", "line 2 has 4 fields but the header has 3"),
    # A text extra field.
    ("a,b,label\n0,10,p,extra\n1,11,q,more\n", "line 2 has 4 fields but the header has 3"),
    # One later row with an extra field.
    ("a,b,label\n0,10,p\n1,11,q,x\n2,12,p\n", "line 3 has 4 fields but the header has 3"),
    # Fewer fields.
    ("a,b,label\n0,10,p\n1,11\n2,12,p\n", "line 3 has 2 fields but the header has 3"),
    # Fewer fields far from the start, with CRLF endings.
    ("a,b,label\r\n" + "".join(f"{i},{i},p\r\n" for i in range(3000)) + "7,7\r\n",
     "line 3002 has 2 fields but the header has 3"),
]


@pytest.mark.parametrize(("content", "phrase"), RAGGED)
def test_ragged_rows_are_one_clear_error_in_every_loader(tmp_path, content, phrase):
    path = write(tmp_path, "data.csv", content)
    with pytest.raises(InputError) as info:
        load_dataset(path, label="label")
    assert phrase in str(info.value) and str(path) in str(info.value)
    assert phrase in chunked_error(path)
    for command in (["inspect", str(path), "--label", "label", "--out", str(tmp_path / "o")],
                    ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "a")],
                    ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "c"),
                     "--chunksize", "2"]):
        line = one_line_error(command)
        assert phrase in line and "data.csv" in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "a").exists()


def test_quoted_delimiters_and_newlines_are_not_ragged(tmp_path):
    path = write(tmp_path, "d.csv", 'a,b,label\n"1,5","x\ny",p\n2,z,q\n')
    ds = load_dataset(path, label="label")
    # Two data rows (the quoted newline does not start a row), each field whole, nothing shifted;
    # "1,5" keeps the column text, so "2" stays the text "2".
    assert ds.n_rows == 2 and ds.columns == ["a", "b", "label"]
    assert ds.frame.to_dict("list") == {"a": ["1,5", "2"], "b": ["x\ny", "z"], "label": ["p", "q"]}
    chunks = list(iter_csv_chunks(path, 1))
    assert [c.index.tolist() for c in chunks] == [[0], [1]]
    assert [c.loc[i, "b"] for i, c in enumerate(chunks)] == ["x\ny", "z"] and chunks[0].loc[0, "a"] == "1,5"
    raw = read_raw_rows(path, [1, 0])
    assert raw.to_dict("list") == {"a": ["2", "1,5"], "b": ["z", "x\ny"], "label": ["q", "p"]}


# ---------------------------------------------------------------------------------- line endings
def test_cr_only_line_endings(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,label\r1,2,p\r3,4,q\r")
    ds = load_dataset(path, label="label")
    assert ds.columns == ["a", "b", "label"] and ds.n_rows == 2
    assert [c.shape[0] for c in iter_csv_chunks(path, 1)] == [1, 1]


def test_lone_cr_in_header_is_a_clear_answer(tmp_path):
    # A stray \r ends the header early, as it does for pandas: the rows then have more fields.
    path = write(tmp_path, "data.csv", "a,b\r,label\n1,2,p\n3,4,q\n")
    line = one_line_error(["inspect", str(path), "--label", "label", "--out", str(tmp_path / "o")])
    assert "data.csv" in line


# -------------------------------------------------------------------------------------- encodings
def test_unknown_encoding(tmp_path):
    path = write(tmp_path, "data.csv", "a,label\n1,p\n")
    for codec in ("nope-codec", "base64"):
        line = one_line_error(["inspect", str(path), "--encoding", codec, "--out", str(tmp_path / "o")])
        assert f"unknown encoding {codec!r}" in line and "data.csv" in line


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"])
def test_wide_unicode_with_and_without_bom(tmp_path, encoding):
    text = "name,label\n" + "".join(f"caf\u00e9 {i},{'pq'[i % 2]}\n" for i in range(20))
    path = write(tmp_path, "d.csv", text.encode(encoding))
    ds = load_dataset(path, label="label")
    assert ds.frame.loc[3, "name"] == "caf\u00e9 3" and ds.n_rows == 20
    if encoding != "utf-32":  # no byte-order mark: detected, and said so
        assert ds.load_notes[0]["code"] == "encoding_detected"
        assert ds.load_notes[0]["details"]["encoding"] == encoding.upper()
    assert [len(c) for c in iter_csv_chunks(path, 8)] == [8, 8, 4]


def test_nul_bytes_that_are_not_text_name_the_utf16_option(tmp_path):
    rng = np.random.default_rng(0)
    path = write(tmp_path, "d.csv", bytes(rng.integers(0, 256, 4000, dtype=np.uint8)) + b"\x00" * 1000)
    with pytest.raises(InputError, match="binary file.*--encoding utf-16-le"):
        load_dataset(path)


@pytest.mark.parametrize(("encoding", "shown", "text"), [
    ("latin-1", "CP1252", "caf\u00e9,M\u00fcnchen"),  # cp1252 reads every latin-1 letter the same
    ("cp1252", "CP1252", "\u201cquoted\u201d,\u20ac5"),
])
def test_common_8bit_encodings_are_detected_and_reported(tmp_path, encoding, shown, text):
    content = "name,city,label\n" + "".join(f"{text} {i},{'pq'[i % 2]}\n" for i in range(30))
    path = write(tmp_path, "data.csv", content.encode(encoding))
    ds = load_dataset(path, label="label")
    assert ds.frame.loc[0, "name"] == text.split(",")[0] and ds.frame.loc[0, "city"] == text.split(",")[1] + " 0"
    assert ds.encoding == "cp1252"
    note = ds.load_notes[0]
    assert note["code"] == "encoding_detected" and shown in note["message"] and "data.csv" in note["message"]
    result = run_checks(ds, checks=["input_format"])
    assert [f.code for f in result.findings] == ["encoding_detected"]
    assert result.findings[0].severity == "info"
    chunks = list(iter_csv_chunks(path, 7))
    assert pd.concat(chunks).equals(ds.frame)


def test_non_utf8_late_in_the_file_is_detected(tmp_path):
    # The first 64 KB are ASCII; the first accented byte is far down the file.
    rows = "".join(f"{i},plain,{'pq'[i % 2]}\n" for i in range(9000)) + "9000,caf\xe9,p\n"
    path = write(tmp_path, "d.csv", ("a,b,label\n" + rows).encode("latin-1"))
    ds = load_dataset(path, label="label")
    assert ds.frame.loc[9000, "b"] == "caf\u00e9"
    assert "from line 9002 on" in ds.load_notes[0]["message"]
    frame = pd.concat(list(iter_csv_chunks(path, 1000)))
    assert frame.loc[9000, "b"] == "caf\u00e9" and len(frame) == 9001


def test_mixed_encodings_are_refused(tmp_path):
    head = "a,label\n" + "".join(f"{i},p\n" for i in range(9000))
    path = write(tmp_path, "data.csv", head.encode() + "caf\u00e9,p\n".encode() + "caf\xe9,q\n".encode("latin-1"))
    with pytest.raises(InputError, match="mixes encodings"):
        load_dataset(path)


def test_declared_encoding_wins(tmp_path):
    path = write(tmp_path, "d.csv", "name,label\ncaf\u00e9,p\n".encode("latin-1"))
    ds = load_dataset(path, encoding="latin-1")
    assert ds.frame.loc[0, "name"] == "caf\u00e9" and ds.load_notes == []
    with pytest.raises(InputError, match="cannot decode as UTF-8 at line 2.*--encoding"):
        load_dataset(path, encoding="utf-8")


# ---------------------------------------------------------------------------------------- Parquet
def parquet(tmp_path, table, name="data.parquet"):
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def nested_table(n=40, label=None):
    rng = np.random.default_rng(0)
    columns = {
        "x": pa.array(rng.normal(size=n)),
        "tags": pa.array([[int(i), int(i) + 1] for i in range(n)], pa.list_(pa.int64())),
        "point": pa.array([{"u": int(i), "v": "a"} for i in range(n)],
                          pa.struct([("u", pa.int64()), ("v", pa.string())])),
        "attrs": pa.array([[("k", int(i))] for i in range(n)], pa.map_(pa.string(), pa.int64())),
        "blob": pa.array([bytes([i % 7]) for i in range(n)], pa.binary()),
        "label": label if label is not None else pa.array([("p", "q")[i % 2] for i in range(n)]),
    }
    return pa.table(columns)


def test_nested_and_binary_parquet_columns_are_left_out_with_a_finding(tmp_path):
    path = parquet(tmp_path, nested_table())
    ds = load_dataset(path, label="label")
    unsupported = ["tags", "point", "attrs", "blob"]
    assert [c for c in ds.columns if ds.roles[c] == "unsupported"] == unsupported
    assert ds.roles["x"] == "numeric"
    assert ds.frame.loc[1, "tags"] == "[1, 2]" and ds.frame.loc[3, "blob"] == "03"
    assert ds.feature_matrix[1] == ["x"]
    finding = run_checks(ds, checks=["input_format"]).findings[0]
    assert finding.code == "unsupported_column" and list(finding.columns) == unsupported
    assert "list<" in finding.message and "data.parquet" in finding.message
    result = CliRunner().invoke(app, ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.stderr
    import json

    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["feature_names"] == ["x"]
    result = CliRunner().invoke(app, ["inspect", str(path), "--label", "label", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.stderr
    codes = {f["code"] for f in json.loads((tmp_path / "o" / "findings.json").read_text())["findings"]}
    assert "unsupported_column" in codes


@pytest.mark.parametrize("label", [
    pa.array([[1]] * 40, pa.list_(pa.int64())),
    pa.array([b"\x00"] * 40, pa.binary()),
    pa.array([{"u": 1}] * 40, pa.struct([("u", pa.int64())])),
])
def test_a_nested_or_binary_label_is_exit_2(tmp_path, label):
    path = parquet(tmp_path, nested_table(label=label))
    line = one_line_error(["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "a")])
    assert "label column 'label' has the Parquet type" in line and "data.parquet" in line


def test_zero_row_parquet_is_exit_2(tmp_path):
    path = parquet(tmp_path, pa.table({"x": pa.array([], pa.float64()), "label": pa.array([], pa.string())}))
    line = one_line_error(["inspect", str(path), "--label", "label", "--out", str(tmp_path / "o")])
    assert "no data rows" in line and "data.parquet" in line


def test_duplicate_parquet_names_are_named_not_corrupt(tmp_path):
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array(["p", "q"])], names=["a", "a", "label"])
    path = parquet(tmp_path, table)
    line = one_line_error(["inspect", str(path), "--out", str(tmp_path / "o")])
    assert "duplicate column name(s) ['a']" in line and "corrupt" not in line and "data.parquet" in line


# ------------------------------------------------------------------------------------- time zones
def test_mixed_utc_offsets_are_converted_to_utc_with_a_finding(tmp_path):
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(30)]
    stamps = [f"{d.isoformat()}T12:00:00{('+01:00', '+02:00', 'Z')[i % 3]}" for i, d in enumerate(days)]
    content = "when,x,label\n" + "".join(f"{s},{i},{'pq'[i % 2]}\n" for i, s in enumerate(stamps))
    path = write(tmp_path, "data.csv", content)
    ds = load_dataset(path, label="label")
    assert str(ds.frame["when"].dtype).startswith("datetime64") and str(ds.frame["when"].dt.tz) == "UTC"
    assert ds.frame.loc[0, "when"] == pd.Timestamp("2024-01-01T11:00:00Z")
    assert ds.roles["when"] == "datetime"
    finding = run_checks(ds, checks=["input_format"]).findings[0]
    assert finding.code == "mixed_timezones" and list(finding.columns) == ["when"] and finding.severity == "warning"
    assert finding.details["offsets"] == ["+01:00", "+02:00", "Z"]
    for command in (["inspect", str(path), "--label", "label", "--out", str(tmp_path / "o")],
                    ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "a")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, (result.stderr, result.exception)


def test_one_offset_is_left_alone(tmp_path):
    content = "when,label\n" + "".join(f"2024-01-{i + 1:02d}T12:00:00+01:00,p\n" for i in range(20))
    ds = load_dataset(write(tmp_path, "d.csv", content), label="label")
    assert not ds.load_notes


# ------------------------------------------------------------------------- one loader for chunks
@pytest.mark.parametrize(("name", "content"), [
    ("semi.csv", "a;b;label\n1;2;p\n3;4;q\n5;6;p\n"),
    ("bom.csv", "\ufeffa,b,label\n1,2,p\n3,4,q\n5,6,p\n"),
    ("u16.csv", "a,b,label\n1,2,p\n3,4,q\n5,6,p\n".encode("utf-16")),
    ("quoted.csv", 'a,b,label\n"1,5","x\ny",p\n3,4,q\n5,6,p\n'),
])
def test_chunks_read_what_the_loader_reads(tmp_path, name, content):
    path = write(tmp_path, name, content)
    whole = load_dataset(path).frame
    chunked = pd.concat(list(iter_csv_chunks(path, 2)))
    pd.testing.assert_frame_equal(chunked.astype(str), whole.astype(str))


@pytest.mark.parametrize(("content", "phrase"), [
    ("a,a,label\n1,2,p\n", "duplicate column name(s) ['a']"),
    (bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)) + b"\x00" * 1000, "binary"),
    ("", "empty"),
])
def test_chunks_refuse_what_the_loader_refuses(tmp_path, content, phrase):
    path = write(tmp_path, "data.csv", content)
    with pytest.raises(InputError) as info:
        load_dataset(path)
    assert phrase in str(info.value)
    assert phrase in chunked_error(path)


def test_chunked_types_follow_the_loader_rule(tmp_path):
    # One chunk is all numbers, another holds a stray string: one numeric column, stray -> missing.
    values = [str(i) for i in range(19)] + ["oops"]
    content = "x,label\n" + "".join(f"{v},{'pq'[i % 2]}\n" for i, v in enumerate(values))
    path = write(tmp_path, "d.csv", content)
    from dataaudit.transforms.streaming import ColumnTypes

    types = ColumnTypes(skip={"label"})
    for chunk in iter_csv_chunks(path, 5):
        types.observe(chunk)
    assert types.numeric == {"x"}
    chunks = list(iter_csv_chunks(path, 5, types))
    assert all(c["x"].dtype == np.float64 for c in chunks)
    assert np.isnan(chunks[-1]["x"].iloc[-1])
    # A text column that is empty in one chunk stays text (not coerced to missing).
    content = "t,label\n" + "".join(f"{'' if 5 <= i < 10 else 'w' + str(i)},p\n" for i in range(20))
    path = write(tmp_path, "t.csv", content)
    types = ColumnTypes(skip={"label"})
    for chunk in iter_csv_chunks(path, 5):
        types.observe(chunk)
    assert types.numeric == set()


# ------------------------------------------------------------------------------ raw rows, memory
def test_read_raw_rows_keeps_the_text(tmp_path):
    path = write(tmp_path, "d.csv", 'age,score,label\n30,0.5,p\ntwenty,"1,5",q\n342,007,p\n')
    raw = read_raw_rows(path, [2, 1])
    assert raw.loc[1].tolist() == ["twenty", "1,5", "q"]
    assert raw.loc[2].tolist() == ["342", "007", "p"]
    with pytest.raises(InputError, match="no data row 9"):
        read_raw_rows(path, [9])


def test_memory_error_hint_fits_the_command(tmp_path, monkeypatch):
    path = write(tmp_path, "data.csv", "a,label\n1,p\n")

    def boom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("dataaudit.io.loading.load_dataset", boom)
    monkeypatch.setattr("dataaudit.transforms.pipeline.fit_transform", boom)
    inspect_line = one_line_error(["inspect", str(path), "--out", str(tmp_path / "o")])
    assert "MemoryError" in inspect_line and "--chunksize" not in inspect_line and "data.csv" in inspect_line
    fit_line = one_line_error(["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "a")])
    assert "--chunksize" in fit_line and "data.csv" in fit_line


def test_feature_matrix_stays_finite_beyond_float32_range(tmp_path):
    rng = np.random.default_rng(0)
    # Repeated values, so that the column is a measurement (numeric), not a unique key.
    big = rng.choice([1e300, -2e300, 3e299, 5e300, 7e299], 40)
    content = "big,x,label\n" + "".join(f"{float(v)!r},{float(rng.normal())},{'pq'[i % 2]}\n"
                                        for i, v in enumerate(big))
    ds = load_dataset(write(tmp_path, "d.csv", content), label="label")
    matrix, names = ds.feature_matrix
    assert names == ["big", "x"] and np.isfinite(matrix).all()
    assert abs(float(matrix[:, 0].std()) - 1.0) < 1e-3


def test_an_offset_change_after_the_sampled_head_is_found(tmp_path):
    first = "".join(f"2024-01-01T{i % 24:02d}:00:00+01:00,{i},{'pq'[i % 2]}\n" for i in range(25_000))
    later = "".join(f"2024-07-01T{i % 24:02d}:00:00+02:00,{i},{'pq'[i % 2]}\n" for i in range(50))
    ds = load_dataset(write(tmp_path, "d.csv", "when,x,label\n" + first + later), label="label")
    assert str(ds.frame["when"].dt.tz) == "UTC"
    assert ds.load_notes[0]["details"]["offsets"] == ["+01:00", "+02:00"]


def test_mixed_offsets_the_loader_did_not_convert_still_encode(tmp_path):
    # A frame built in memory skips the loader: the encoder and the report parse in UTC themselves.
    from dataaudit.transforms.encoding import TabularEncoder

    frame = pd.DataFrame({"when": ["2024-01-01T12:00:00+01:00", "2024-06-01T12:00:00+02:00", "2024-02-01T12:00:00"],
                          "label": ["p", "q", "p"]})
    encoder = TabularEncoder({"when": "datetime", "label": "label"}, "label").fit(frame)
    assert np.isfinite(encoder.transform(frame)).all()


def test_dictionary_encoded_parquet_columns_load_as_their_values(tmp_path):
    n = 40
    labels = pa.array([("q", "p")[i % 2] for i in range(n)]).dictionary_encode()
    table = pa.table({"x": pa.array(np.arange(n, dtype=float) % 7), "c": pa.array(["lo", "hi"] * (n // 2)).dictionary_encode(),
                      "label": labels})
    path = parquet(tmp_path, table)
    ds = load_dataset(path, label="label")
    assert not isinstance(ds.frame["label"].dtype, pd.CategoricalDtype)
    assert ds.roles["c"] == "boolean" or ds.roles["c"] == "categorical"
    result = CliRunner().invoke(app, ["fit-transform", str(path), "--label", "label", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, (result.stderr, result.exception)


def test_chunked_label_read_as_numbers_in_one_chunk_and_text_in_another(tmp_path):
    labels = ["1", "2"] * 10 + ["p", "q"] * 10  # the first chunks hold numbers only
    content = "x,label\n" + "".join(f"{i % 7},{v}\n" for i, v in enumerate(labels))
    path = write(tmp_path, "data.csv", content)
    result = CliRunner().invoke(app, ["fit-transform", str(path), "--label", "label", "--chunksize", "5",
                                      "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, (result.stderr, result.exception)
    import json

    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["label"]["classes"] == ["1", "2", "p", "q"]
