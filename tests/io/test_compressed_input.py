"""Compressed CSV/TSV (``.gz``, ``.bz2``, ``.xz``; ``.zst`` with the zstandard package) read like
the plain file in every reader, with the same encoding detection; damaged ones, zip archives and a
missing codec are one line, exit 2."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dataaudit.cli import app
from dataaudit.io.loading import load_dataset, read_raw_rows
from dataaudit.transforms.streaming import iter_csv_chunks

COMPRESS = {"csv.gz": gzip.compress, "csv.bz2": bz2.compress, "csv.xz": lzma.compress,
            # gzip data under a plain name: told by its magic number, not its name
            "gz-named.csv": gzip.compress}


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({"x": rng.normal(size=n).round(4), "city": ["café", "Zürich", "Ærø", "naïve"] * (n // 4),
                        "label": rng.choice(["a", "b"], size=n)})
    return pd.concat([out, out.iloc[:5]], ignore_index=True)  # copies: quarantined, read back


def files(tmp_path: Path, suffix: str, encoding: str = "cp1252") -> tuple[Path, Path]:
    raw = frame().to_csv(index=False).encode(encoding)
    plain = tmp_path / "plain.csv"
    plain.write_bytes(raw)
    packed = tmp_path / f"data.{suffix}"
    packed.write_bytes(COMPRESS[suffix](raw))
    return plain, packed


def ok(args: list[object]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def one_line_error(args: list[object]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr
    return lines[0]


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_every_reader_reads_a_compressed_file_like_the_plain_one(tmp_path, suffix):
    plain, packed = files(tmp_path, suffix)
    expected = load_dataset(plain, label="label")
    got = load_dataset(packed, label="label")
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    assert got.encoding == expected.encoding == "cp1252"
    assert [n["code"] for n in got.load_notes] == ["encoding_detected"]
    chunks = pd.concat(list(iter_csv_chunks(packed, 7)))
    pd.testing.assert_frame_equal(chunks, pd.concat(list(iter_csv_chunks(plain, 7))))
    pd.testing.assert_frame_equal(read_raw_rows(packed, [3, 1]), read_raw_rows(plain, [3, 1]))


def test_a_gzipped_tsv_keeps_its_delimiter(tmp_path):
    path = tmp_path / "data.tsv.gz"
    path.write_bytes(gzip.compress(frame().to_csv(index=False, sep="\t").encode()))
    assert load_dataset(path, label="label").columns == ["x", "city", "label"]


def test_the_commands_read_csv_gz(tmp_path):
    plain, packed = files(tmp_path, "csv.gz")
    ok(["inspect", packed, "--label", "label", "--out", tmp_path / "report", "--no-report"])
    assert "exact_duplicate" in (tmp_path / "report" / "findings.json").read_text(encoding="utf-8")
    for name, path, extra in (("p", plain, []), ("g", packed, []), ("c", packed, ["--chunksize", "50"]),
                              ("pc", plain, ["--chunksize", "50"])):
        ok(["fit-transform", path, "--label", "label", "--out", tmp_path / name, *extra])
    for a, b in (("p", "g"), ("pc", "c")):
        for split in ("train", "val", "test"):
            left, right = np.load(tmp_path / a / f"{split}.npz"), np.load(tmp_path / b / f"{split}.npz")
            for key in ("X", "y", "row"):
                np.testing.assert_array_equal(left[key], right[key])
        assert (tmp_path / a / "quarantine.csv").read_bytes() == (tmp_path / b / "quarantine.csv").read_bytes()
    ok(["transform", packed, "--artifacts", tmp_path / "p", "--out", tmp_path / "g.npz"])
    ok(["transform", plain, "--artifacts", tmp_path / "p", "--out", tmp_path / "p.npz"])
    np.testing.assert_array_equal(np.load(tmp_path / "g.npz")["X"], np.load(tmp_path / "p.npz")["X"])


def test_damaged_compressed_data_is_one_line(tmp_path):
    _, packed = files(tmp_path, "csv.gz")
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(packed.read_bytes()[:-40])  # the end of the stream is missing
    for args in (["inspect", cut, "--label", "label", "--out", tmp_path / "o"],
                 ["fit-transform", cut, "--label", "label", "--out", tmp_path / "a"],
                 ["fit-transform", cut, "--label", "label", "--out", tmp_path / "b", "--chunksize", "50"]):
        line = one_line_error(args)
        assert "cut.csv.gz" in line and "gzip data is damaged or cut short" in line, line
    assert not any((tmp_path / n).exists() for n in ("o", "a", "b"))


def test_zip_and_compressed_parquet_are_one_line(tmp_path):
    plain, _ = files(tmp_path, "csv.gz")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(plain, "data.csv")
    line = one_line_error(["inspect", archive, "--out", tmp_path / "o"])
    assert "data.zip: is a zip archive" in line and "Unzip it" in line
    parquet = tmp_path / "t.parquet"
    frame().to_parquet(parquet)
    packed = tmp_path / "t.pq.gz"
    packed.write_bytes(gzip.compress(parquet.read_bytes()))
    assert "is a compressed Parquet file" in one_line_error(["inspect", packed, "--out", tmp_path / "o"])


@pytest.mark.skipif(importlib.util.find_spec("zstandard") is not None, reason="zstandard is installed")
def test_zstandard_without_its_package_is_one_line(tmp_path):
    path = tmp_path / "data.csv.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 32)
    line = one_line_error(["inspect", path, "--out", tmp_path / "o"])
    assert "data.csv.zst: is Zstandard-compressed" in line and "pip install zstandard" in line


@pytest.mark.skipif(importlib.util.find_spec("zstandard") is None, reason="zstandard is not installed")
def test_zstandard_reads_with_its_package(tmp_path):
    import zstandard

    plain, _ = files(tmp_path, "csv.gz")
    path = tmp_path / "data.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    pd.testing.assert_frame_equal(load_dataset(path, label="label").frame, load_dataset(plain, label="label").frame)


@pytest.mark.parametrize("name", ["data.csv", "data.csv.gz", "data.csv.bz2", "data.csv.xz", "data.csv.zst"])
def test_inspect_without_out_writes_reports_data_for_a_compressed_input_too(tmp_path, monkeypatch, name):
    pack = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
    raw = frame().to_csv(index=False).encode()
    suffix = name.rsplit(".", 1)[-1]
    if suffix == "zst":
        if importlib.util.find_spec("zstandard") is None:
            pytest.skip("zstandard is not installed")
        import zstandard

        raw = zstandard.ZstdCompressor().compress(raw)
    elif suffix in pack:
        raw = pack[suffix](raw)
    (tmp_path / name).write_bytes(raw)
    monkeypatch.chdir(tmp_path)
    ok(["inspect", name, "--label", "label", "--no-report"])
    assert (tmp_path / "reports" / "data" / "findings.json").is_file()
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["data"]


def test_plain_stem_takes_off_compression_then_one_format_suffix():
    from dataaudit.audit_outputs import default_out_dir
    from dataaudit.io.compression import plain_stem

    assert default_out_dir("in/data.csv.zst") == default_out_dir("data.csv") == Path("reports/data")
    assert plain_stem("d/data.tsv.bz2") == plain_stem("data.CSV.GZ") == plain_stem("data.gz") == "data"
    assert plain_stem("v1.2.csv.gz") == "v1.2" == Path("v1.2.csv").stem
