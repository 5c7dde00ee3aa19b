"""A lone CR is data in a file whose line ending is LF (what ``pandas.to_csv`` writes for text
holding ``\\r``, e.g. tweets): every reader keeps the row whole and its text exact."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.exceptions import InputError
from dataaudit.io.line_endings import LoneCrText, header_line_ending, lone_cr_sentinel
from dataaudit.io.loading import load_dataset, read_raw_rows, sniff_csv
from dataaudit.transforms.streaming import iter_csv_chunks

CR_ROW = 623  # past the first 64 KiB block the sniffer reads, as in the tweets file


def tweets(n: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "text": [f"tweet number {i} " + "x" * int(rng.integers(60, 120)) for i in range(n)],
        "retweets": rng.integers(0, 500, n),
        "label": rng.choice(["p", "q"], n),
    })
    frame.loc[3, "text"] = "early\rcarriage return"  # inside the first block
    frame.loc[CR_ROW, "text"] = "line one\rline two"
    frame.loc[CR_ROW + 1, "text"] = "ends in a CR\r"
    frame.loc[CR_ROW + 2, "text"] = "\r"
    frame.loc[CR_ROW + 3, "text"] = "quoted, with CR LF\r\ninside"  # pandas quotes this one
    return frame


@pytest.fixture
def tweet_file(tmp_path):
    frame = tweets()
    path = tmp_path / "tweets.csv"
    frame.to_csv(path, index=False)
    raw = path.read_bytes()
    assert b"line one\rline two" in raw and raw.index(b"line one") > 64 * 1024  # bare, past the block
    return path, frame


def test_the_reproduction_is_ragged_by_pandas_alone(tweet_file):
    path, frame = tweet_file
    # What the loader used to get: pandas ends a record at the bare CR (extra rows, shifted fields).
    assert len(pd.read_csv(path)) != len(frame)


def test_in_memory_load_keeps_every_row_and_its_text(tweet_file):
    path, frame = tweet_file
    ds = load_dataset(path, label="label")
    assert ds.n_rows == len(frame)
    assert ds.frame["text"].tolist() == frame["text"].tolist()
    assert ds.frame["retweets"].tolist() == frame["retweets"].tolist()
    assert ds.roles["retweets"] == "numeric"


@pytest.mark.parametrize("chunksize", [1, 7, 250, 5000])
def test_chunked_reader_gives_the_same_rows(tweet_file, chunksize):
    path, frame = tweet_file
    chunks = list(iter_csv_chunks(path, chunksize))
    whole = pd.concat(chunks)
    assert whole.index.tolist() == list(range(len(frame)))
    assert whole["text"].tolist() == frame["text"].tolist()


def test_raw_rows_are_exact(tweet_file):
    path, frame = tweet_file
    rows = [CR_ROW + 2, 3, CR_ROW, CR_ROW + 1, CR_ROW + 3, CR_ROW + 4]
    raw = read_raw_rows(path, rows)
    assert raw.index.tolist() == rows
    assert raw["text"].tolist() == frame.loc[rows, "text"].tolist()
    assert raw["id"].tolist() == [str(r) for r in rows]


def test_a_later_ragged_row_names_its_line_counted_by_lf(tmp_path):
    body = "a,b,label\n" + "".join(f"{i},x{i}\ry,p\n" for i in range(5)) + "9,9\n"
    path = tmp_path / "d.csv"
    path.write_text(body, encoding="utf-8", newline="")
    with pytest.raises(InputError, match="line 7 has 2 fields but the header has 3"):
        load_dataset(path, label="label")
    with pytest.raises(InputError, match="line 7 has 2 fields"):
        list(iter_csv_chunks(path, 2))


def test_crlf_record_ends_in_an_lf_file_still_end_records(tmp_path):
    # A file pasted together from LF and CRLF parts: CR LF still ends a record.
    body = "a,text,label\n1,one\rA,p\n2,two,q\r\n3,three,p\n"
    path = tmp_path / "d.csv"
    path.write_text(body, encoding="utf-8", newline="")
    ds = load_dataset(path, label="label")
    assert ds.frame["text"].tolist() == ["one\rA", "two", "three"]
    assert ds.frame["label"].tolist() == ["p", "q", "p"]
    assert read_raw_rows(path, [1])["label"].tolist() == ["q"]


def test_files_whose_line_ending_is_cr_or_crlf_read_as_before(tmp_path):
    cr = tmp_path / "cr.csv"
    cr.write_bytes(b"a,b,label\r1,2,p\r3,4,q\r")
    assert load_dataset(cr, label="label").n_rows == 2
    assert sniff_csv(cr).lone_cr is None
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"a,b,label\r\n1,2,p\r\n3,4,q\r\n")
    assert sniff_csv(crlf).lone_cr is None and load_dataset(crlf, label="label").n_rows == 2
    lf = tmp_path / "lf.csv"
    lf.write_bytes(b"a,b,label\n1,2,p\n")
    assert sniff_csv(lf).lone_cr is None  # nothing to mark: the plain path


def test_header_line_ending_ignores_quoted_line_ends():
    assert header_line_ending('"a\r\nb",c\nx,y\n') == "\n"
    assert header_line_ending('a,"b""\r"\r\n') == "\r\n"
    assert header_line_ending("a,b\r,c\n") == "\r"
    assert header_line_ending("a,b") == ""


def test_the_marker_is_a_character_the_file_does_not_hold(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,label\nx\ufdd0y,p\nz\rw,q\n", encoding="utf-8", newline="")
    marker = lone_cr_sentinel(path, "utf-8")
    assert marker is not None and marker != "\ufdd0"
    ds = load_dataset(path, label="label")
    assert ds.frame["a"].tolist() == ["x\ufdd0y", "z\rw"]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_the_stream_decides_a_cr_at_a_read_boundary(tmp_path, size):
    path = tmp_path / "d.csv"
    text = "ab\r\ncd\re\r\r\nf\r"
    path.write_text(text, encoding="utf-8", newline="")
    stream = LoneCrText(path, "utf-8", "#")
    parts = []
    while part := stream.read(size):
        parts.append(part)
    stream.close()
    assert "".join(parts) == "ab\r\ncd#e#\r\nf#"


def test_encodings_other_than_utf8(tmp_path):
    frame = pd.DataFrame({"name": ["caf\u00e9\rbar", "na\u00efve", "plain"], "label": ["p", "q", "p"]})
    for encoding in ("utf-16", "latin-1"):
        path = tmp_path / f"{encoding}.csv"
        frame.to_csv(path, index=False, encoding=encoding)
        assert load_dataset(path, label="label").frame["name"].tolist() == frame["name"].tolist()


def test_fit_transform_in_memory_and_chunked_and_quarantine_keep_the_row(tmp_path, tweet_file):
    path, frame = tweet_file
    # A conflicting copy of the row with the CR: quarantine.csv must hold it exactly.
    doubled = pd.concat([frame, frame.loc[[CR_ROW]].assign(label="q" if frame.loc[CR_ROW, "label"] == "p" else "p")],
                        ignore_index=True)
    src = tmp_path / "doubled.csv"
    doubled.to_csv(src, index=False)
    for name, extra in (("mem", []), ("chunked", ["--chunksize", "97"])):
        out = tmp_path / name
        result = CliRunner().invoke(app, ["fit-transform", str(src), "--label", "label", "--out", str(out),
                                          "--id", "id", *extra])
        assert result.exit_code == 0, (name, result.stderr, result.exception)
        assert f"{len(doubled):,} rows" in result.stdout or f"{len(doubled)} rows" in result.stdout, result.stdout
        with open(out / "quarantine.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        texts = [r[rows[0].index("text")] for r in rows[1:]]
        assert texts and set(texts) == {"line one\rline two"}, (name, rows)


def test_transform_quarantine_keeps_the_text_with_its_cr(tmp_path, tweet_file):
    path, frame = tweet_file
    art = tmp_path / "art"
    result = CliRunner().invoke(app, ["fit-transform", str(path), "--label", "label", "--out", str(art),
                                      "--id", "id"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    new = frame.head(8).copy()
    new["retweets"] = new["retweets"].astype(object)
    new.loc[2, "text"] = "a\rb"
    new.loc[2, "retweets"] = "many"  # fails the numeric expectation: quarantined
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    result = CliRunner().invoke(app, ["transform", str(new_path), "--artifacts", str(art),
                                      "--out", str(tmp_path / "new.npz"), "--on-invalid", "quarantine"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    with open(tmp_path / "new.quarantine.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0] == "2" and rows[1][2:] == ["2", "a\rb", "many", new.loc[2, "label"]]
