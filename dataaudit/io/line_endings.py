"""Line endings of delimited files: a lone CR is data in a file whose line ending is LF.

``pandas.to_csv`` (like Python's ``csv`` writer with ``lineterminator="\\n"``) quotes a field that
holds ``\\n`` but not one that holds only ``\\r``, so text with a carriage return (tweets, form
fields) is written bare: ``622,line one\\rline two,p``. pandas and the ``csv`` module end a record
at every ``\\r``, which splits such a row in two (a ragged row, or fields silently shifted).

When the header ends in a bare ``\\n`` and the file holds a ``\\r`` not followed by ``\\n``, every
pass reads the file through ``lone_cr_lines`` (``csv.reader``) or ``LoneCrText``
(``pandas.read_csv``): each such ``\\r`` stands in for a character the file does not hold, so the
parsers end records at ``\\n`` and ``\\r\\n`` only, and ``restore_fields`` / ``restore_cr`` put the
``\\r`` back in the values. Files whose line ending is CRLF or CR read as before (every ``\\r``,
``\\n`` and ``\\r\\n`` ends a record).
"""

from __future__ import annotations

import io
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from dataaudit.io.compression import open_binary, open_text

__all__ = ["LoneCrText", "RestoredChunks", "header_line_ending", "lone_cr_lines", "lone_cr_sentinel",
           "mark_lone_cr", "restore_cr", "restore_fields"]

_BLOCK = 1 << 22
_LONE_CR = re.compile(r"\r(?!\n)")
# Unicode noncharacters: never assigned to a character, so text practically never holds them;
# the first one a file does not hold stands for its lone CRs while it is parsed.
_SENTINELS = tuple(chr(c) for c in range(0xFDD0, 0xFDF0))


def header_line_ending(text_head: str) -> str:
    """How the first record of ``text_head`` ends: ``"\\n"``, ``"\\r\\n"``, ``"\\r"`` ("" if it does not).

    Quote-aware: split on ``"``, the text outside quoted fields is at the even positions (a
    doubled quote inside a quoted field leaves an empty piece there, which holds no line end).
    """
    for piece in text_head.split('"')[0::2]:
        ends = [i for i in (piece.find("\r"), piece.find("\n")) if i >= 0]
        if ends:
            at = min(ends)
            if piece[at] == "\n":
                return "\n"
            return "\r\n" if piece[at + 1:at + 2] == "\n" else "\r"
    return ""


def lone_cr_sentinel(path: Path, encoding: str) -> str | None:
    """None when ``path`` holds no CR without an LF after it; else a character the file does not hold.

    A first pass over the bytes looks for a CR byte at all (every encoding writes CR with one), so
    the usual LF file costs one ``memchr`` pass; only a file with CR bytes is decoded.
    """
    with open_binary(path) as handle:
        if not any(b"\r" in block for block in iter(lambda: handle.read(_BLOCK), b"")):
            return None
    lone = False
    held: set[str] = set()
    # errors="replace": a late undecodable byte is the readers' to report; CR and LF decode alike.
    with open_text(path, encoding=encoding, errors="replace", newline="") as text:
        tail = ""
        for block in iter(lambda: text.read(_BLOCK), ""):
            chunk = tail + block
            tail = "\r" if chunk.endswith("\r") else ""  # decided by the next block's first character
            body = chunk[:-1] if tail else chunk
            lone = lone or _LONE_CR.search(body) is not None
            held.update(s for s in _SENTINELS if s in body)
        lone = lone or bool(tail)
    free = [s for s in _SENTINELS if s not in held]
    return free[0] if lone and free else None


def mark_lone_cr(text: str, sentinel: str) -> str:
    """``text`` with each CR that no LF follows replaced by ``sentinel``."""
    return _LONE_CR.sub(sentinel, text)


def lone_cr_lines(path: Path, encoding: str, sentinel: str) -> Generator[str, None, None]:
    """The lines of ``path`` (each ended by LF), lone CRs marked: what ``csv.reader`` reads."""
    with open_text(path, encoding=encoding, newline="\n") as handle:
        for line in handle:
            yield _LONE_CR.sub(sentinel, line)


class LoneCrText(io.TextIOBase):
    """``path`` as a text stream with lone CRs marked: what ``pandas.read_csv`` reads."""

    def __init__(self, path: Path, encoding: str, sentinel: str) -> None:
        self._handle = open_text(path, encoding=encoding, newline="")
        self._sentinel = sentinel

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        text = self._handle.read(-1 if size is None or size < 0 else max(1, size))
        while text.endswith("\r"):  # a CR at the end is lone unless an LF follows it
            following = self._handle.read(1)
            if not following:
                break
            text += following
        return _LONE_CR.sub(self._sentinel, text)

    def close(self) -> None:
        self._handle.close()
        super().close()


class RestoredChunks:
    """A ``pandas.read_csv`` chunk iterator over a ``LoneCrText`` whose chunks get their CRs back."""

    def __init__(self, reader: Any, text: LoneCrText, sentinel: str) -> None:
        self._reader = reader
        self._text = text
        self._sentinel = sentinel

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for chunk in self._reader:
            yield restore_cr(chunk, self._sentinel)

    def close(self) -> None:
        self._reader.close()
        self._text.close()

    def __enter__(self) -> RestoredChunks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def restore_fields(record: list[str], sentinel: str) -> list[str]:
    """The fields of one ``csv.reader`` record with their lone CRs back."""
    return [value.replace(sentinel, "\r") if sentinel in value else value for value in record]


def restore_cr(frame: pd.DataFrame, sentinel: str) -> pd.DataFrame:
    """``frame`` with the lone CRs back in its text values and column names (in place, and returned)."""
    if any(sentinel in str(c) for c in frame.columns):
        frame.columns = pd.Index(restore_fields([str(c) for c in frame.columns], sentinel))
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        try:
            marked = values.str.contains(sentinel, regex=False, na=False)
        except AttributeError:  # an object column without text
            continue
        if marked.any():
            frame[column] = values.str.replace(sentinel, "\r", regex=False)
    return frame
