"""The record every command keeps of what it wrote: ``.dataaudit.json`` in each output folder.

A record says which files dataaudit wrote into a folder, with each file's sha256 and size, the
command, the dataaudit version and the time::

    {
      "record_version": 1,
      "dataaudit_version": "0.1.0",
      "command": "fit-transform",
      "created": "2026-12-02T03:30:00+00:00",
      "files": {"manifest.json": {"sha256": "…", "size": 2301}, ...},
      "folders": {"training": {"sha256": "<sha256 of training/.dataaudit.json>"}}
    }

``files`` lists every file of the folder except those inside a subfolder that has a record of its
own; such subfolders (train's ``training/``, run's ``artifacts/``) are listed in ``folders`` with
the digest of their record. Paths are relative, with ``/`` separators.

The record serves two purposes:

* **ownership**: a command replaces an existing output folder only when everything in it is
  listed in a record (:func:`foreign_entries`), so a user's own files are never deleted;
* **integrity**: a stage that reads a file can check it against the digest recorded when it was
  written (:func:`verify_recorded`), e.g. the artifacts' ``manifest.json``.

A single-file output (``transform --out new.npz``) is recorded in the record of the folder it is
written into (:func:`add_to_record`); the record then lists only the files dataaudit wrote there.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dataaudit.exceptions import ArtifactError

__all__ = [
    "RECORD_NAME",
    "RECORD_VERSION",
    "file_digest",
    "file_entry",
    "read_record",
    "write_record",
    "add_to_record",
    "remove_from_record",
    "record_files",
    "entry_unchanged",
    "verify_recorded",
    "foreign_entries",
    "is_dataaudit_temporary",
]

RECORD_NAME = ".dataaudit.json"
RECORD_VERSION = 1
_CHUNK = 1 << 20


def file_digest(path: str | Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def file_entry(path: str | Path) -> dict[str, Any]:
    """The record entry of one file: sha256, size and modification time (ns)."""
    stat = os.stat(path)
    return {"sha256": file_digest(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def is_dataaudit_temporary(name: str) -> bool:
    """Names dataaudit gives its staging folders, moved-aside old sets and temporary files."""
    return ".dataaudit-new-" in name or ".dataaudit-old-" in name or name.startswith(".dataaudit-tmp-")


def read_record(folder: str | Path) -> dict[str, Any] | None:
    """The record of ``folder``, or None when it has none.

    Raises
    ------
    ArtifactError
        The record exists but is not a dataaudit record (not JSON, wrong shape).
    """
    path = Path(folder) / RECORD_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (IsADirectoryError, NotADirectoryError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not a dataaudit record (unreadable).") from exc
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path}: not a dataaudit record ({exc}).") from exc
    files = record.get("files") if isinstance(record, dict) else None
    folders = record.get("folders", {}) if isinstance(record, dict) else None
    if not isinstance(files, dict) or not isinstance(folders, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in (*files.values(), *folders.values())
    ):
        raise ArtifactError(f"{path}: not a dataaudit record (no files/folders listing with sha256).")
    return record


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def _dump(folder: Path, record: dict[str, Any]) -> Path:
    from dataaudit.io.outputs import atomic_write_text

    return atomic_write_text(folder / RECORD_NAME, json.dumps(record, indent=2, sort_keys=False) + "\n")


def record_files(folder: str | Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Walk ``folder``: entries of its files, and digests of subfolders that have their own record.

    Files inside a subfolder with a record are that record's business; dataaudit's temporary
    names are skipped.
    """
    root = Path(folder)
    files: dict[str, dict[str, Any]] = {}
    folders: dict[str, dict[str, Any]] = {}

    def walk(directory: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            name = prefix + entry.name
            if entry.name == RECORD_NAME and not prefix or is_dataaudit_temporary(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                sub = Path(entry.path)
                if (sub / RECORD_NAME).is_file():
                    folders[name] = {"sha256": file_digest(sub / RECORD_NAME)}
                else:
                    walk(sub, name + "/")
            elif entry.is_file(follow_symlinks=False):
                files[name] = file_entry(entry.path)

    walk(root, "")
    return files, folders


def write_record(folder: str | Path, command: str, *, extra: dict[str, Any] | None = None) -> Path:
    """Write ``folder/.dataaudit.json`` listing every file now in ``folder`` (see module docstring).

    Parameters
    ----------
    folder : str or Path
        The output folder, complete.
    command : str
        The command that wrote it (``inspect``, ``fit-transform``, ``train``, ``run`` ...).
    extra : dict, optional
        More top-level keys to keep in the record.

    Returns
    -------
    Path
        The record's path.
    """
    from dataaudit import __version__

    files, folders = record_files(folder)
    record = {"record_version": RECORD_VERSION, "dataaudit_version": __version__, "command": command,
              "created": _now(), "files": files, "folders": folders, **(extra or {})}
    return _dump(Path(folder), record)


def add_to_record(folder: str | Path, names: Iterable[str], command: str) -> Path:
    """Add (or refresh) the entries of files dataaudit just wrote into ``folder``'s record.

    Used for single-file outputs written into a folder that may hold other files: the record then
    lists only the files dataaudit wrote there. A record that cannot be read is started afresh.
    """
    from dataaudit import __version__

    folder = Path(folder)
    try:
        record = read_record(folder)
    except ArtifactError:
        record = None
    if record is None:
        record = {"record_version": RECORD_VERSION, "dataaudit_version": __version__, "command": command,
                  "created": _now(), "files": {}, "folders": {}}
    for name in names:
        record["files"][name] = file_entry(folder / name)
    record["updated"] = _now()
    return _dump(folder, record)


def remove_from_record(folder: str | Path, names: Iterable[str]) -> None:
    """Drop entries (of files dataaudit removed) from ``folder``'s record, if it has one."""
    folder = Path(folder)
    try:
        record = read_record(folder)
    except ArtifactError:
        return
    if record is None:
        return
    names = [n for n in names if n in record["files"]]
    if names:
        for name in names:
            del record["files"][name]
        record["updated"] = _now()
        _dump(folder, record)


def entry_unchanged(path: str | Path, entry: dict[str, Any]) -> bool:
    """True when the file at ``path`` still has the recorded content.

    Same size and modification time are taken as unchanged (as git does); otherwise the sha256
    decides.
    """
    try:
        stat = os.stat(path)
    except OSError:
        return False
    if stat.st_size != entry.get("size", stat.st_size):
        return False
    if entry.get("mtime_ns") == stat.st_mtime_ns:
        return True
    return file_digest(path) == entry["sha256"]


def verify_recorded(folder: str | Path, names: Iterable[str]) -> dict[str, Any]:
    """Check files of ``folder`` against the sha256 in its record (always hashing them).

    Returns the record. Meant for a stage that reads saved files, e.g. ``manifest.json``.

    Raises
    ------
    ArtifactError
        No record, a file the record does not list, or a file whose bytes changed.
    """
    folder = Path(folder)
    record = read_record(folder)
    if record is None:
        raise ArtifactError(f"{folder}: no {RECORD_NAME}; not a folder written by dataaudit (or written by an "
                            "older version). Write it again.")
    for name in names:
        entry = record["files"].get(name)
        if entry is None:
            raise ArtifactError(f"{folder / name}: not listed in {folder / RECORD_NAME}; write the folder again.")
        if not (folder / name).is_file() or file_digest(folder / name) != entry["sha256"]:
            raise ArtifactError(f"{folder / name}: sha256 differs from {RECORD_NAME}; the file was changed or "
                                "replaced after dataaudit wrote it. Write the folder again.")
    return record


def foreign_entries(folder: str | Path, *, limit: int = 5) -> list[str]:
    """Paths in ``folder`` that dataaudit did not write, or changed since (at most ``limit``).

    Empty when ``folder`` holds only files listed, unchanged, in its record (or in the record of
    the subfolder they are in), empty subfolders and dataaudit's own temporary names. A folder
    without a record is all foreign unless it is empty. Symbolic links are always foreign.
    """
    root = Path(folder)
    found: list[str] = []

    def walk(directory: Path, record: dict[str, Any] | None, prefix: str) -> None:
        try:
            own = read_record(directory)
        except ArtifactError:
            own = None  # an unreadable record is itself reported below as an unlisted file
        if own is not None:
            record, prefix = own, ""
        listed = record["files"] if record is not None else {}
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if len(found) >= limit:
                return
            rel = prefix + entry.name
            shown = os.path.relpath(entry.path, root)
            if is_dataaudit_temporary(entry.name) or (entry.name == RECORD_NAME and own is not None):
                continue
            if entry.is_symlink():
                found.append(f"{shown} (a link)")
            elif entry.is_dir():
                walk(Path(entry.path), record, rel + "/")
            elif rel not in listed:
                found.append(shown)
            elif not entry_unchanged(entry.path, listed[rel]):
                found.append(f"{shown} (changed since dataaudit wrote it)")

    walk(root, None, "")
    return found[:limit]
