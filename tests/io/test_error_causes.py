"""The loader's one-line errors keep their cause (``raise ... from exc``), so ``--debug`` shows it."""

from __future__ import annotations

import pytest

from dataaudit.exceptions import InputError
from dataaudit.io.loading import load_dataset, read_raw_rows
from dataaudit.transforms.streaming import iter_csv_chunks


def test_unknown_encoding_keeps_the_lookup_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,label\n1,p\n")
    with pytest.raises(InputError, match="unknown encoding") as info:
        load_dataset(path, label="label", encoding="nope-codec")
    assert isinstance(info.value.__cause__, LookupError)


def test_corrupt_parquet_keeps_pyarrows_error(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64)
    with pytest.raises(InputError, match="cannot read as Parquet") as info:
        load_dataset(path)
    assert info.value.__cause__ is not None and not isinstance(info.value.__cause__, InputError)


def test_undecodable_file_keeps_the_decode_error_in_every_reader(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,label\n" + b"1,p\n" * 20_000 + b"2,\xe9\x80\xfe\n")
    for read in (lambda: load_dataset(path, label="label", encoding="utf-8"),
                 lambda: read_raw_rows(path, [20_000], encoding="utf-8"),
                 lambda: list(iter_csv_chunks(path, 5000, encoding="utf-8"))):
        with pytest.raises(InputError, match="cannot decode") as info:
            read()
        assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_unparseable_csv_keeps_the_parser_error(tmp_path):
    path = tmp_path / "d.csv"
    # Past the first block, so that pandas (not the sniffer) finds the extra field.
    path.write_text("a,label\n" + "1,p\n" * 20_000 + "2,q,x\n")
    with pytest.raises(InputError, match="line 20002 has 3 fields") as info:
        load_dataset(path, label="label")
    assert info.value.__cause__ is not None and not isinstance(info.value.__cause__, InputError)
