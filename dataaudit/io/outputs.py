"""Atomic writes: every output is written to a temporary file in the same folder, then renamed."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_bytes", "atomic_write_json", "atomic_savez",
           "write_rows_csv"]


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The ".dataaudit-tmp-" prefix marks a leftover of a killed run as dataaudit's (see io.record).
    fd, tmp_name = tempfile.mkstemp(prefix=f".dataaudit-tmp-{target.name}.", suffix=suffix + ".tmp",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; give outputs the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_open(target: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; it replaces ``target`` when the block ends without error."""
    with atomic_path(target) as tmp, open(tmp, mode, **kwargs) as handle:
        yield handle


def atomic_write_text(target: str | Path, text: str) -> Path:
    with atomic_open(target, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return Path(target)


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_open(target, "wb") as handle:
        handle.write(data)
    return Path(target)


def atomic_write_json(target: str | Path, data: Any) -> Path:
    from dataaudit.records import to_jsonable

    text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_text(target, text + "\n")


def atomic_savez(target: str | Path, **arrays: np.ndarray) -> Path:
    """``np.savez_compressed`` atomically; refuses object arrays so nothing needs pickle to load."""
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; artifacts never hold pickled objects")
    with atomic_open(target, "wb") as handle:
        # numpy's stub types **kwds as also able to fill the bool allow_pickle parameter; the
        # values here are arrays (object dtype refused above), so widen them for the checker only.
        np.savez_compressed(handle, allow_pickle=False, **arrays)  # a structured object field fails too
    return Path(target)


def write_rows_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write rows (quarantine.csv) so that every CSV reader gets their text back exactly.

    pandas (Python's ``csv`` writer with an LF line ending) quotes a value holding ``\\n`` but
    not one holding only ``\\r``, which most readers take for a line end: when a text value holds
    a ``\\r``, every text value is quoted.
    """
    import pandas as pd

    holds_cr = any(
        bool(frame[c].map(lambda v: isinstance(v, str) and "\r" in v).astype(bool).any())
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    )
    frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC if holds_cr else csv.QUOTE_MINIMAL)
