"""Text encodings of delimited files: a byte-order mark, UTF-16/32 without one, 8-bit detection.

A byte-order mark (UTF-8, UTF-16, UTF-32) wins; UTF-16/32 without one are read when
charset-normalizer is confident, else the message names ``--encoding utf-16-le``; text that is not
UTF-8 is tried against the common 8-bit encodings (cp1252, latin-1, ISO-8859-15) and read with the
one the detector picks, which is reported (finding ``encoding_detected``).
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from dataaudit.exceptions import InputError
from dataaudit.io.compression import open_binary

__all__ = ["COMMON_8BIT", "SNIFF_BYTES", "detect_encoding", "display_encoding", "late_encoding",
           "undecodable_message"]

# Bytes read to settle a file's encoding, delimiter and header.
SNIFF_BYTES = 64 * 1024
# 8-bit encodings tried (through charset-normalizer) when a file is not UTF-8. Restricting the
# candidates matters: unrestricted, a short latin-1 file is "detected" as cp775 or cp1250 and
# é silently becomes another letter.
COMMON_8BIT = ("cp1252", "latin_1", "iso8859_15")
_WIDE_UNICODE = ("utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be")
# A detection is trusted when the detector's "chaos" (share of implausible characters) is below this.
_CONFIDENT_CHAOS = 0.1
# Bytes around the first undecodable byte handed to the detector for a file that turns non-UTF-8 late.
_DETECT_WINDOW = 64 * 1024


def display_encoding(encoding: str) -> str:
    return codecs.lookup(encoding).name.replace("-sig", "").upper().replace("_", "-")


def _detect(sample: bytes, candidates: tuple[str, ...], max_chaos: float | None = None) -> str | None:
    """The candidate encoding charset-normalizer picks for ``sample`` (None when it picks none,
    or when its "chaos", the share of implausible characters, is ``max_chaos`` or more)."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=list(candidates)).best()
    if best is None or (max_chaos is not None and best.chaos >= max_chaos):
        return None
    return str(best.encoding)


def _mixed_message(path: Path, data: bytes, bad: int) -> str:
    line = data.count(b"\n", 0, bad) + 1
    return (f"{path}: line {line} is not UTF-8 (byte {data[bad:bad + 1]!r}) although earlier lines hold "
            "UTF-8 text: the file mixes encodings. Re-save it in one encoding (UTF-8).")


def _explicit_encoding(path: Path, head: bytes, encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
        if not getattr(info, "_is_text_encoding", True):  # base64, rot13 ...: bytes-to-bytes codecs
            raise LookupError(encoding)
        name = info.name
    except LookupError as exc:
        raise InputError(
            f"{path}: unknown encoding {encoding!r}. Pass a Python codec name such as utf-8, "
            "cp1252, latin-1 or utf-16."
        ) from exc
    if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return encoding


def detect_encoding(path: Path, head: bytes, encoding: str | None, notes: list[dict[str, Any]]) -> str:
    """The encoding to read ``path`` with; a detected (not declared) one is added to ``notes``."""
    if encoding:
        return _explicit_encoding(path, head, encoding)
    # UTF-32's little-endian mark starts with UTF-16's: test it first.
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    first = head[:8192]
    if first.count(b"\x00") >= 0.1 * len(first):
        # Text in UTF-16/32 without a byte-order mark: about every other (or 3 in 4) byte is NUL.
        wide = _detect(head, _WIDE_UNICODE, max_chaos=_CONFIDENT_CHAOS)
        if wide is None:
            raise InputError(
                f"{path}: looks like a binary file (NUL bytes in the first 8 KB), not CSV or Parquet. "
                "If it is UTF-16 text without a byte-order mark, pass --encoding utf-16-le (or utf-16-be)."
            )
        notes.append(_encoding_note(path, wide, "has no byte-order mark"))
        return wide
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(head) < SNIFF_BYTES or exc.start < len(head) - 4:  # a character cut at the block end is fine
            if b"\x00" in first:
                raise InputError(
                    f"{path}: looks like a binary file (NUL and non-UTF-8 bytes in the first 8 KB), not "
                    "CSV or Parquet. Pass a CSV, TSV or Parquet file (or its --encoding)."
                ) from exc
            if not head[: exc.start].isascii():
                raise InputError(_mixed_message(path, head, exc.start)) from exc
            guessed = _detect(head, COMMON_8BIT)
            if guessed is None:
                raise InputError(undecodable_message(path, "utf-8")) from exc
            notes.append(_encoding_note(path, guessed, "is not UTF-8"))
            return guessed
    return "utf-8-sig"  # strips a UTF-8 byte-order mark when there is one


def _encoding_note(path: Path, encoding: str, why: str) -> dict[str, Any]:
    shown = display_encoding(encoding)
    return {
        "code": "encoding_detected", "severity": "info",
        "message": f"{path.name} {why}; it was read as {shown} (detected by charset-normalizer).",
        "details": {"encoding": shown, "action": f"check accented text in the report; if it looks wrong, "
                    f"re-save {path.name} as UTF-8 or pass its encoding (--encoding)"},
    }


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """(line, byte offset, byte) of the first byte that ``encoding`` cannot decode, if any."""
    try:
        with open_binary(path) as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        data.decode(codecs.lookup(encoding).name.replace("-sig", ""))
    except UnicodeDecodeError as inner:
        line = data.count(b"\n", 0, inner.start) + 1
        return line, inner.start, data[inner.start:inner.start + 1]
    return None


def undecodable_message(path: Path, encoding: str, detected: bool = True) -> str:
    bad = _first_bad_byte(path, encoding)
    where = f" at line {bad[0]} (byte {bad[1]}: {bad[2]!r})" if bad else ""
    tried = " It is none of the common 8-bit encodings (cp1252, latin-1) either." if detected else ""
    return (
        f"{path}: cannot decode as {display_encoding(encoding)}{where}.{tried} Re-save the file as UTF-8 "
        "(e.g. `iconv -f ENCODING -t utf-8`) or pass its encoding (--encoding)."
    )


def late_encoding(path: Path, encoding: str, notes: list[dict[str, Any]]) -> str | None:
    """An 8-bit encoding for a file whose first block was UTF-8 but a later byte is not.

    Only a file that is plain ASCII up to that byte qualifies: then both readings agree on
    everything before it. A file with UTF-8 text before the bad byte mixes encodings.
    """
    if codecs.lookup(encoding).name.replace("-sig", "") not in ("utf-8",):
        return None
    bad = _first_bad_byte(path, encoding)
    if bad is None:
        return None
    with open_binary(path) as handle:
        prefix = handle.read(bad[1])
        window = handle.read(_DETECT_WINDOW)
    if not prefix.isascii():
        raise InputError(_mixed_message(path, prefix + window, bad[1]))
    guessed = _detect(prefix[-_DETECT_WINDOW:] + window, COMMON_8BIT)
    if guessed is not None:
        notes.append(_encoding_note(path, guessed, f"is not UTF-8 from line {bad[0]} on"))
    return guessed

