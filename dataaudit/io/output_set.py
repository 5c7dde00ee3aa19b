"""Output folders that never lose a user's file and appear whole or not at all.

Three rules (README "Your files are safe"):

1. **Ownership.** An existing output folder is replaced only when it is empty or everything in it
   is listed, unchanged, in dataaudit's record (``.dataaudit.json``, see :mod:`dataaudit.io.record`);
   an existing single output file only when the record of its folder lists it. Otherwise
   :class:`~dataaudit.exceptions.OutputError` (exit 2) says why; ``force=True`` (``--force``)
   replaces anyway.
2. **Inputs.** An output never is, contains or replaces an input of the command (the data file,
   ``--test``/``--val``, ``--findings``, the pipeline file, the artifacts folder and its files),
   not even with ``--force``.
3. **Atomic set.** :func:`output_folder` yields an empty staging folder beside the target
   (``.NAME.dataaudit-new-<id>``); when the block succeeds, the record is written into it, the old
   folder is renamed aside (``.NAME.dataaudit-old-<id>``), the staging folder renamed onto the
   target and the old one removed. At any instant the target holds one run's complete set, or it
   is missing for a moment and the old set lies complete beside it; :func:`recover` (called by
   every later write to the same target) puts it back or removes the leftovers of a killed run.

A write failing with an OSError (full disk, permission, read-only file system) becomes one
OutputError line; the target is then as it was.

Commands declare their inputs and ``--force`` once with :func:`output_policy`; library calls
without a policy get the safe default (no inputs known, no force). Writers called inside a running
set (``fit_transform`` writing ``artifacts/`` inside a pipeline run) write straight into the
staging folder, and their subfolder gets a record of its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dataaudit.exceptions import DataAuditError, OutputError
from dataaudit.io.record import (
    RECORD_NAME,
    add_to_record,
    entry_unchanged,
    foreign_entries,
    read_record,
    remove_from_record,
    write_record,
)

__all__ = [
    "OutputPolicy",
    "output_policy",
    "output_folder",
    "output_file",
    "discard_output_file",
    "check_folder_target",
    "check_file_target",
    "recover",
]


@dataclass(frozen=True)
class OutputPolicy:
    """What the running command reads (never to be replaced) and whether ``--force`` was given."""

    command: str = "library"
    inputs: tuple[Path, ...] = ()
    force: bool = False


# OutputPolicy is frozen, so one shared default is safe.
_POLICY: contextvars.ContextVar[OutputPolicy] = contextvars.ContextVar(
    "dataaudit_output_policy", default=OutputPolicy())  # noqa: B039
# Staging folders of the sets being written now (writers inside one write straight into it).
_STAGING: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("dataaudit_staging", default=())


def _absolute(path: str | Path) -> Path:
    """An absolute, normalized path (links not followed: a link is replaced, never its target)."""
    return Path(os.path.abspath(os.fspath(path)))


def _resolved(path: str | Path) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


@contextlib.contextmanager
def output_policy(command: str, inputs: Iterable[str | Path | None] = (), *, force: bool = False) -> Iterator[OutputPolicy]:
    """Declare the running command's inputs and ``--force`` for every output written in the block."""
    policy = OutputPolicy(command, tuple(_resolved(p) for p in inputs if p is not None), force)
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def _inside_staging(path: Path) -> bool:
    return any(path == s or s in path.parents for s in _STAGING.get())


def _is_within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _check_parents(target: Path, what: str) -> None:
    """A path under a file cannot be created: say which ancestor is a file."""
    for ancestor in reversed(target.parents):
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputError(f"{target}: {ancestor} is a file, so it cannot hold {what}; pass another --out.")


def check_folder_target(target: str | Path, policy: OutputPolicy | None = None) -> Path:
    """Raise OutputError unless ``target`` may be (re)written as an output folder; return it absolute.

    Refused: a path under a file, an existing file, a folder that is or holds an input, and (unless
    ``policy.force``) a folder holding anything dataaudit did not write. Even with force: a
    filesystem root, the home folder, or a folder holding the current folder, when not dataaudit's.
    """
    policy = policy or _POLICY.get()
    path = _absolute(target)
    _check_parents(path, "an output folder")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is a file, but --out expects a folder; pass a folder path.")
    real = _resolved(path)
    for source in policy.inputs:
        if _is_within(source, real):
            what = "is an input" if source == real else f"holds {source}, an input"
            raise OutputError(f"{path}: {what} of this command, so it is never replaced; pass another --out.")
    if path.is_symlink():
        if not policy.force:
            raise OutputError(f"{path}: is a link; dataaudit replaces only folders it wrote. Pass the folder "
                              "itself, or --force to replace the link.")
        return path
    if not path.is_dir():
        return path
    foreign = foreign_entries(path)
    if not foreign:
        return path
    if policy.force:
        cwd = _resolved(Path.cwd())
        if real == real.parent or real == _resolved(Path.home()) or _is_within(cwd, real):
            raise OutputError(f"{path}: is a filesystem root, the home folder or holds the current folder; "
                              "dataaudit does not replace it even with --force. Pass another --out.")
        return path
    listed = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
    raise OutputError(
        f"{path}: holds files dataaudit did not write ({listed}), so it is not replaced. Pass an empty or new "
        "folder, or --force to replace it."
    )


def check_file_target(target: str | Path, policy: OutputPolicy | None = None) -> Path:
    """Raise OutputError unless ``target`` may be (re)written as a single output file; return it absolute.

    Refused: a path under a file, an existing folder, an input or a path inside an input folder,
    and (unless ``policy.force``) an existing file the record of its folder does not list.
    """
    policy = policy or _POLICY.get()
    path = _absolute(target)
    _check_parents(path, "an output file")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, but --out expects a file; pass a file path.")
    real = _resolved(path)
    for source in policy.inputs:
        if _is_within(real, source):
            where = "is" if real == source else f"is inside {source}, which is"
            raise OutputError(f"{path}: {where} an input of this command and is never overwritten; pass another --out.")
    if path.is_symlink() and not policy.force:
        raise OutputError(f"{path}: is a link; dataaudit does not write through links. Pass another --out or --force.")
    if path.exists() and not policy.force and not _recorded(path):
        raise OutputError(f"{path}: exists and was not written by dataaudit (or changed since), so it is not "
                          "overwritten. Pass another --out, or --force to overwrite it.")
    return path


def _recorded(path: Path) -> bool:
    try:
        record = read_record(path.parent)
    except DataAuditError:
        return False
    entry = (record or {}).get("files", {}).get(path.name)
    return entry is not None and entry_unchanged(path, entry)


def _owner_alive(name: str) -> bool:
    """Whether the process that made a staging/old folder (pid in its name) still runs."""
    try:
        pid = int(name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return False
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (this process counts; a process of another user too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def recover(target: str | Path) -> str | None:
    """Finish what a killed run left beside ``target``; return what was done (None: nothing).

    A moved-aside old set (``.NAME.dataaudit-old-<id>``) is put back when ``target`` is missing
    (the run died between the two renames), else removed; a staging folder of a dead run is
    removed. Folders of runs still alive are left alone.
    """
    path = _absolute(target)
    parent = path.parent
    if not parent.is_dir() or not path.name:
        return None
    done: list[str] = []
    if path.is_dir() and not path.is_symlink():
        done += _recover_in_place(path)
    old_prefix, new_prefix = f".{path.name}.dataaudit-old-", f".{path.name}.dataaudit-new-"
    leftovers = sorted((e for e in os.scandir(parent) if e.name.startswith((old_prefix, new_prefix))),
                       key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    for entry in leftovers:
        if _owner_alive(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name.startswith(old_prefix) and not os.path.lexists(path):
            os.rename(entry.path, path)
            done.append(f"restored the previous {path.name} from {entry.name}")
        else:
            shutil.rmtree(entry.path, ignore_errors=True)
            done.append(f"removed {entry.name}")
    return "; ".join(done) or None


def _write_error(path: Path, exc: OSError, *, existed: bool) -> OutputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    state = "its previous contents are unchanged" if existed else "nothing was written"
    hint = {errno.ENOSPC: "free some disk space", errno.EDQUOT: "free some disk space",
            errno.EACCES: "check the folder's permissions", errno.EPERM: "check the folder's permissions",
            errno.EROFS: "pass a writable --out"}.get(exc.errno or 0, "pass another --out")
    return OutputError(f"{path}: cannot write the outputs: {reason}{where}; {state}. {hint[0].upper()}{hint[1:]}.")


@contextlib.contextmanager
def output_folder(target: str | Path, command: str | None = None, *, atomic: bool = True) -> Iterator[Path]:
    """Write an output folder as one set; yields the folder to write into (a staging folder).

    Parameters
    ----------
    target : str or Path
        The output folder (``--out``).
    command : str, optional
        Recorded in ``.dataaudit.json`` (default: the policy's command).
    atomic : bool
        False: write in place (the folder is still checked and recorded), for library calls that
        add files to a folder step by step.

    Raises
    ------
    OutputError
        The folder may not be replaced (see :func:`check_folder_target`) or a write failed.
    """
    policy = _POLICY.get()
    command = command or policy.command
    path = _absolute(target)
    if _inside_staging(path):
        # Part of a set being written now: straight in, with a record of its own.
        path.mkdir(parents=True, exist_ok=True)
        yield path
        write_record(path, command)
        return
    existed, in_place = path.exists(), False
    # Folders this call creates are removed again when it fails (a failed run leaves no trace).
    created = [p for p in (path, *path.parents) if not p.exists()]
    try:
        recover(path)
        check_folder_target(path, policy)
        if not atomic:
            path.mkdir(parents=True, exist_ok=True)
            staging = path
        else:
            ident = f"{os.getpid()}-{secrets.token_hex(4)}"
            in_place = path.is_dir() and _is_within(_resolved(Path.cwd()), _resolved(path))
            if in_place:  # renaming the folder would leave the user's shell in a removed folder
                staging = path / f".dataaudit-new-{ident}"
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                staging = path.with_name(f".{path.name}.dataaudit-new-{ident}")
            staging.mkdir()
    except OSError as exc:
        _remove_empty(created)
        raise _write_error(path, exc, existed=existed) from exc
    token = _STAGING.set((*_STAGING.get(), staging))
    done = False
    try:
        yield staging
        write_record(staging, command)
        if atomic:
            check_folder_target(path, policy)  # it may have changed while this run was computing
            (_swap_in_place if in_place else _swap)(staging, path)
        done = True
    except OSError as exc:
        raise _write_error(path, exc, existed=existed) from exc
    finally:
        _STAGING.reset(token)
        if atomic and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if not done:
            _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed call created, deepest first, when they are (still) empty."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _swap_in_place(staging: Path, target: Path) -> None:
    """Swap a set into a folder that must keep its identity (it holds the current folder).

    ``staging`` is inside ``target``. Phases: (1) the old record, then every other old entry, move
    into ``.dataaudit-old-<id>``, which is then renamed ``….moved``; (2) the new entries move out of
    staging, the record last. :func:`_recover_in_place` rolls a killed swap back in phase 1 and
    forward in phase 2: the target ends with the old set or the new one, whole.
    """
    ident = staging.name.removeprefix(".dataaudit-new-")
    old = target / f".dataaudit-old-{ident}"
    old.mkdir()
    names = [e.name for e in os.scandir(target) if not _temporary(e.name)]
    for name in sorted(names, key=lambda n: n != RECORD_NAME):
        os.rename(target / name, old / name)
    moved = old.with_name(old.name + ".moved")
    os.rename(old, moved)
    _move_staged(staging, target)
    shutil.rmtree(moved, ignore_errors=True)


def _move_staged(staging: Path, target: Path) -> None:
    for name in sorted(os.listdir(staging), key=lambda n: n == RECORD_NAME):
        os.rename(staging / name, target / name)
    os.rmdir(staging)


def _temporary(name: str) -> bool:
    from dataaudit.io.record import is_dataaudit_temporary

    return is_dataaudit_temporary(name)


def _recover_in_place(target: Path) -> list[str]:
    done: list[str] = []
    for entry in list(os.scandir(target)):
        name = entry.name
        if not name.startswith(".dataaudit-new-") or _owner_alive(name):
            continue
        ident = name.removeprefix(".dataaudit-new-")
        staging, old = Path(entry.path), target / f".dataaudit-old-{ident}"
        moved = old.with_name(old.name + ".moved")
        if moved.is_dir():  # phase 2: every old entry is aside, finish moving the new set in
            _move_staged(staging, target)
            shutil.rmtree(moved, ignore_errors=True)
            done.append(f"finished writing {target.name}")
        else:  # phase 1 or before: put the old entries back
            if old.is_dir():
                for item in os.listdir(old):
                    os.rename(old / item, target / item)
                os.rmdir(old)
            shutil.rmtree(staging, ignore_errors=True)
            done.append(f"removed an unfinished set in {target.name}")
    for entry in list(os.scandir(target)):
        if entry.name.startswith(".dataaudit-old-") and entry.name.endswith(".moved") and not _owner_alive(
                entry.name.removesuffix(".moved")):
            shutil.rmtree(entry.path, ignore_errors=True)
    return done


def _swap(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``; a non-empty old ``target`` is renamed aside first."""
    old = None
    if os.path.lexists(target):
        if target.is_dir() and not target.is_symlink() and not any(os.scandir(target)):
            os.rmdir(target)
        else:
            old = target.with_name(staging.name.replace(".dataaudit-new-", ".dataaudit-old-"))
            os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        if old is not None and not os.path.lexists(target):
            os.rename(old, target)  # put the old set back; nothing was lost
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


@contextlib.contextmanager
def output_file(target: str | Path, command: str | None = None) -> Iterator[Path]:
    """Write one output file atomically; yields a temporary path renamed onto ``target`` on success.

    The file is checked first (:func:`check_file_target`) and recorded afterwards in the record of
    its folder, so a later run may overwrite it.
    """
    from dataaudit.io.outputs import atomic_path

    policy = _POLICY.get()
    path = _absolute(target)
    if _inside_staging(path):
        with atomic_path(path) as tmp:
            yield tmp
        return
    existed = path.exists()
    check_file_target(path, policy)
    try:
        with atomic_path(path) as tmp:
            yield tmp
        add_to_record(path.parent, [path.name], command or policy.command)
    except OSError as exc:
        raise _write_error(path, exc, existed=existed) from exc


def discard_output_file(target: str | Path) -> bool:
    """Remove ``target`` if dataaudit wrote it there (listed, unchanged): a stale output of an earlier run.

    Returns whether it was removed. A file dataaudit did not write is left alone.
    """
    path = _absolute(target)
    if not path.is_file() or path.is_symlink() or not _recorded(path):
        return False
    try:
        path.unlink()
        remove_from_record(path.parent, [path.name])
    except OSError as exc:
        raise _write_error(path, exc, existed=True) from exc
    return True


__all__ += ["RECORD_NAME"]
