"""Compressed delimited files (``data.csv.gz``, ``.bz2``, ``.xz``, ``.zst``), read transparently.

The compression is told by the file's first bytes (its magic number), not by its name, so a
gzipped ``data.csv`` reads too. Every reader of a CSV/TSV (the sniffer, pandas, the line scans,
the encoding detection) opens it through :func:`open_binary` / :func:`open_text`, so a compressed
file gets the same encoding, delimiter, header and field-count checks as a plain one. Zstandard
needs the ``zstandard`` package (pandas uses it too); without it, and for a zip archive, the answer
is one line saying what to do.
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path
from typing import IO, Any, cast

from dataaudit.exceptions import InputError

__all__ = ["COMPRESSED_SUFFIXES", "compression_of", "open_binary", "open_text", "inner_suffix", "plain_stem",
           "READ_ERRORS", "corrupt_message"]

# pandas' names for the codecs, by magic number.
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))
_ZIP_MAGIC = b"PK\x03\x04"
COMPRESSED_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zip")
_NAMES = {"gzip": "gzip", "bz2": "bzip2", "xz": "xz", "zstd": "Zstandard"}
# What a reader of damaged compressed data raises (gzip.BadGzipFile and bz2's are OSErrors).
READ_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, lzma.LZMAError)


def _zstandard() -> Any:
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"bz2"``, ``"xz"`` or ``"zstd"`` from the file's magic number; None for plain files.

    Raises
    ------
    InputError
        A zip archive, or Zstandard data without the ``zstandard`` package.
    """
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: is a zip archive. Unzip it (unzip {path.name}) and pass the CSV inside, "
                         "or compress it with gzip (data.csv.gz) instead.")
    for magic, name in _MAGIC:
        if head.startswith(magic):
            if name == "zstd" and _zstandard() is None:
                raise InputError(f"{path}: is Zstandard-compressed and the zstandard package is not installed. "
                                 "Install it (pip install zstandard) or decompress the file (zstd -d).")
            return name
    return None


def open_binary(path: Path) -> IO[bytes]:
    """The file's (decompressed) bytes, as a binary stream."""
    compression = compression_of(path)
    if compression is None:
        return open(path, "rb")
    if compression == "gzip":
        import gzip

        return cast(IO[bytes], gzip.open(path, "rb"))
    if compression == "bz2":
        import bz2

        return bz2.open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    if compression == "zstd":
        zstandard = _zstandard()
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))
    raise ValueError(f"unknown compression {compression!r}")


def open_text(path: Path, encoding: str, newline: str | None = None, errors: str | None = None) -> IO[str]:
    """The file's (decompressed) text, as ``open(path, encoding=..., newline=...)`` gives it."""
    return io.TextIOWrapper(open_binary(path), encoding=encoding, newline=newline, errors=errors)


def inner_suffix(path: Path) -> str:
    """The suffix that names the format under a compression suffix: ``.tsv`` for ``data.tsv.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def plain_stem(path: str | Path) -> str:
    """The name without its format and compression suffixes: ``data`` for ``data.csv.gz`` and ``data.csv``.

    Only the compression suffixes and then one format suffix are taken off, so ``v1.2.csv.gz`` is
    ``v1.2``, as ``Path("v1.2.csv").stem`` is.
    """
    name = Path(path).name
    while Path(name).suffix.lower() in COMPRESSED_SUFFIXES:
        name = name[: -len(Path(name).suffix)]
    return Path(name).stem or name


def corrupt_message(path: Path, compression: str, exc: BaseException) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return (f"{path}: the {_NAMES.get(compression, compression)} data is damaged or cut short ({reason}). "
            "Compress the file again, or decompress it and pass the CSV.")
