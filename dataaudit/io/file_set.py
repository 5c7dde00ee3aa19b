"""Single-file outputs of one folder written as one set: all of them appear, or none does.

``transform`` writes ``NEW.npz`` and ``NEW.quarantine.csv`` beside files that are not dataaudit's,
so the set cannot be a folder swapped in (:func:`dataaudit.io.output_set.output_folder`). Instead
every file is written to a temporary name beside its target (``.dataaudit-tmp-set-<pid>-<id>-NAME``),
a commit journal listing them is written (``.dataaudit-tmp-set-<pid>-<id>.json``), the old files
move aside (``.dataaudit-old-set-<pid>-<id>-NAME``), the new ones move in, the folder's record is
updated and the asides removed. A failure rolls the old files back; a run killed after its journal
was written is finished (rolled forward) by :func:`recover_file_set`, which every later set written
into the folder runs first. The same ownership rules hold as for single files
(:func:`~dataaudit.io.output_set.check_file_target`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from dataaudit.exceptions import DataAuditError
from dataaudit.io.output_set import (
    _POLICY,
    _absolute,
    _recorded,
    _write_error,
    check_file_target,
    pid_alive,
)
from dataaudit.io.record import add_to_record, remove_from_record

__all__ = ["output_file_set", "recover_file_set"]

_SET_TMP = re.compile(r"^\.dataaudit-tmp-set-(\d+)-([0-9a-f]+)-(.+)$")
_SET_JOURNAL = re.compile(r"^\.dataaudit-tmp-set-(\d+)-([0-9a-f]+)\.json$")
_SET_ASIDE = re.compile(r"^\.dataaudit-old-set-(\d+)-([0-9a-f]+)-(.+)$")


def _set_names(ident: str, name: str) -> tuple[str, str]:
    """(temporary name, moved-aside name) of target ``name`` in the set ``ident``."""
    return f".dataaudit-tmp-set-{ident}-{name}", f".dataaudit-old-set-{ident}-{name}"


def _commit_set(folder: Path, ident: str, write: list[str], remove: list[str], command: str) -> None:
    """Move the set's files in (old ones aside first), update the record, drop the asides.

    Idempotent, so :func:`recover_file_set` finishes a killed commit by running it again.
    """
    moved_aside: list[str] = []
    for name in write + remove:
        target, aside = folder / name, folder / _set_names(ident, name)[1]
        tmp = folder / _set_names(ident, name)[0]
        if name in remove and os.path.lexists(target) and not _recorded(target):
            continue  # not (or no longer) the file dataaudit wrote: left alone
        if name in write and not tmp.exists():
            continue  # already moved in
        if os.path.lexists(target) and not os.path.lexists(aside):
            os.rename(target, aside)
            moved_aside.append(name)
    for name in write:
        tmp = folder / _set_names(ident, name)[0]
        if tmp.exists():
            os.replace(tmp, folder / name)
    remove_from_record(folder, remove)
    if write:
        add_to_record(folder, write, command)
    for name in write + remove:
        aside = folder / _set_names(ident, name)[1]
        if os.path.lexists(aside):
            aside.unlink()
    (folder / f".dataaudit-tmp-set-{ident}.json").unlink(missing_ok=True)


def recover_file_set(folder: str | Path) -> str | None:
    """Finish what a killed :func:`output_file_set` left in ``folder``; return what was done.

    A dead run's commit journal means every file of its set was complete: the commit is finished.
    Without one, its temporary files are removed (nothing of that set had been moved in). Runs
    still alive, and every name dataaudit does not give, are left alone.
    """
    import json

    folder = _absolute(folder)
    if not folder.is_dir():
        return None
    done: list[str] = []
    names = os.listdir(folder)
    for name in names:
        match = _SET_JOURNAL.match(name)
        if not match or pid_alive(int(match.group(1))):
            continue
        try:
            journal = json.loads((folder / name).read_text(encoding="utf-8"))
            write, remove = list(journal["write"]), list(journal["remove"])
            command = str(journal.get("command", "library"))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a journal dataaudit wrote whole: leave it
        ident = f"{match.group(1)}-{match.group(2)}"
        _commit_set(folder, ident, write, remove, command)
        done.append(f"finished writing {', '.join(write) or 'a set'} in {folder.name}")
    for name in os.listdir(folder):
        match = _SET_TMP.match(name) or _SET_ASIDE.match(name)
        if match and not pid_alive(int(match.group(1))) and not (folder / f".dataaudit-tmp-set-{match.group(1)}-"
                                                                          f"{match.group(2)}.json").exists():
            path = folder / name
            if name.startswith(".dataaudit-old-set-"):
                target = folder / match.group(3)
                if not os.path.lexists(target):
                    os.rename(path, target)  # a file moved aside by a commit that never got its journal back
                    continue
            if path.is_file() and not path.is_symlink():
                path.unlink()
                done.append(f"removed {name}")
    return "; ".join(done) or None


@contextlib.contextmanager
def output_file_set(targets: Iterable[str | Path], command: str | None = None) -> Iterator[dict[Path, Path]]:
    """Write single-file outputs of one folder as one set: all of them appear, or none does.

    Yields ``{target: temporary path}``. When the block succeeds, every temporary file the block
    wrote replaces its target, and a target whose temporary file it did not write is removed if
    dataaudit wrote it (a stale output of an earlier run; a file it did not write is left alone).
    When the block or the commit fails, the targets are as they were and no temporary file is left.

    Raises
    ------
    OutputError
        A target may not be written (see :func:`check_file_target`) or a write failed.
    """
    import json

    policy = _POLICY.get()
    command = command or policy.command
    given = [Path(t) for t in targets]
    paths = [_absolute(t) for t in given]
    folder = paths[0].parent
    if any(p.parent != folder for p in paths) or len({p.name for p in paths}) != len(paths):
        raise ValueError("output_file_set writes distinct files of one folder")
    ident = f"{os.getpid()}-{secrets.token_hex(4)}"
    staged = {p: folder / _set_names(ident, p.name)[0] for p in paths}
    existed = any(p.exists() for p in paths)
    try:
        recover_file_set(folder)
        for path in paths:
            check_file_target(path, policy)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(paths[0], exc, existed=existed) from exc
    try:
        yield {t: staged[p] for t, p in zip(given, paths, strict=True)}
        write = [p.name for p in paths if staged[p].exists()]
        remove = [p.name for p in paths if not staged[p].exists()]
        for path in paths:
            if path.name in write:
                check_file_target(path, policy)  # it may have changed while this run was computing
        from dataaudit.io.outputs import atomic_write_text

        atomic_write_text(folder / f".dataaudit-tmp-set-{ident}.json",
                          json.dumps({"command": command, "write": write, "remove": remove}))
        try:
            _commit_set(folder, ident, write, remove, command)
        except OSError:
            _roll_back_set(folder, ident, write, remove)
            raise
    except OSError as exc:
        raise _write_error(paths[0], exc, existed=existed) from exc
    finally:
        for tmp in staged.values():
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            (folder / f".dataaudit-tmp-set-{ident}.json").unlink(missing_ok=True)


def _roll_back_set(folder: Path, ident: str, write: list[str], remove: list[str]) -> None:
    """Undo a commit that failed part way (in this process): the old files go back in place."""
    for name in write + remove:
        tmp, aside = (folder / n for n in _set_names(ident, name))
        target = folder / name
        if os.path.lexists(aside):
            if name in write and not tmp.exists() and os.path.lexists(target):
                target.unlink()  # the new file had moved in
            os.rename(aside, target)
        elif name in write and not tmp.exists() and os.path.lexists(target):
            target.unlink()  # the new file had moved in where there was none
    with contextlib.suppress(DataAuditError, OSError):
        # Entries of files now back as they were are simply unchanged; drop those now missing.
        remove_from_record(folder, [n for n in write if not os.path.lexists(folder / n)])
