"""The publish journal: what a statement writing files is doing, so a crash can be undone.

Every statement that writes files into a storage (an unload, ``PUT``, ``GET``,
``INTO OUTFILE``, a DATALINK's ``save_file``) first writes a *journal* at the storage's
root, ``<root>/.sqla_stage-journal-<uuid>.json`` (under the scratch prefix, so LIST,
loads and queries never see it). It names the statement's scratch areas and, once
publishing starts, every step: the file's key, its scratch copy, and the copy of the file
it replaces (OVERWRITE). Its ``state`` is

* ``writing``: only scratch entries exist; nothing is under a published name;
* ``publishing``: files are being moved (local) or copied (other storage) to their keys;
* ``committed``: every new file is in place; only the scratch entries (the backups among
  them) are left to remove.

On a local disk the journal is written to a temporary name and renamed, and its
``publishing`` and ``committed`` states are flushed to disk (``fsync``) before the next
step; on object storage it is one object, written whole. The statement removes the journal
when it ends.

`recover` is what the next statement on that storage (and the next connect of an engine,
for the folders under a local stage root) does with a journal whose writer is gone:

* ``committed``: roll forward, removing the scratch entries: the whole new set stays;
* ``writing`` or ``publishing``: roll back: every replaced file is put back from its
  copy, every new file that was moved or copied in is removed, the scratch entries go:
  the whole old set stays. The statement never reported success, so it is undone.

A journal is *live*, and left alone, while its writer runs: on this host, its process
(pid and start time, from ``/proc``) still exists, and for a journal of this very
process, its statement still runs (one that failed because the storage went away is
finished by the next statement that reaches it); a journal written on another host
(shared storage), or where ``/proc`` is missing, is live for `LEASE_SECONDS` after it
was last written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqla_stage.errors import StageOperationalError, StageRuntimeError
from sqla_stage.runtime.storage.credentials import S3_PROTOCOLS
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX, StageStorage, open_storage

#: The names of journals, at a storage's root.
JOURNAL_PREFIX = f"{SCRATCH_PREFIX}journal-"
JOURNAL_SUFFIX = ".json"

#: How long a journal written on another host counts as its writer's (seconds).
LEASE_SECONDS = 3600.0

WRITING, PUBLISHING, COMMITTED = "writing", "publishing", "committed"


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot); None if it has ended."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as file:
            fields = file.read().rpartition(")")[2].split()
    except OSError:
        return None
    if not fields or fields[0] in ("Z", "X"):  # a zombie has ended
        return None
    return fields[19] if len(fields) > 19 else None


def _owner() -> dict[str, Any]:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": _start_time(os.getpid()),
        "at": time.time(),
    }


#: The journals this process is writing now (a journal of this process that is not here
#: belongs to a statement that ended without finishing it: the storage went away).
_OPEN: set[str] = set()


def _alive(owner: dict[str, Any], name: str) -> bool:
    """Whether the writer of journal ``name`` may still be running (see the module)."""
    if owner.get("host") == socket.gethostname() and owner.get("pid") == os.getpid():
        return name in _OPEN and owner.get("started") == _start_time(os.getpid())
    if owner.get("host") == socket.gethostname() and owner.get("started") is not None:
        pid = owner.get("pid")
        return isinstance(pid, int) and _start_time(pid) == owner["started"]
    return time.time() - float(owner.get("at") or 0) < LEASE_SECONDS


@dataclass
class Step:
    """One file of a publication: paths relative to the storage root.

    Attributes:
        target: Where the file goes (its key's path).
        source: Its scratch copy.
        backup: The copy of the file it replaces, if any.
    """

    target: str
    source: str
    backup: str | None = None


@dataclass
class Journal:
    """One statement's journal at ``storage``'s root (see the module docstring)."""

    storage: StageStorage
    name: str = field(default_factory=lambda: f"{JOURNAL_PREFIX}{uuid.uuid4().hex}{JOURNAL_SUFFIX}")
    state: str = WRITING
    scratch: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    written: bool = False

    def relative(self, path: str) -> str:
        """``path`` (of the storage's filesystem) relative to the storage root."""
        root = self.storage.root.rstrip("/") + "/"
        if not path.startswith(root):
            raise ValueError(f"{path!r} is not below {root!r}")
        return path[len(root) :]

    def absolute(self, relative: str) -> str:
        """The filesystem path of a path relative to the storage root."""
        return f"{self.storage.root.rstrip('/')}/{relative}"

    def write(self, state: str) -> None:
        """Record ``state`` (with the scratch entries and steps) before the next step."""
        self.state = state
        data = json.dumps(
            {
                "state": state,
                "owner": _owner(),
                "scratch": self.scratch,
                "steps": [[s.target, s.source, s.backup] for s in self.steps],
            }
        ).encode("utf-8")
        path = self.absolute(self.name)
        if self.storage.local:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{uuid.uuid4().hex}.tmp"
            try:
                with open(temporary, "wb") as file:
                    file.write(data)
                    if state != WRITING:  # losing a `writing` journal loses no published file
                        file.flush()
                        os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.remove(temporary)
                raise
            if state != WRITING:
                _sync_folder(os.path.dirname(path))
        else:
            self.storage.fs.pipe_file(path, data)
        self.written = True

    def roll_back(self) -> None:
        """Put every replaced file back and remove every new one (idempotent)."""
        storage = self.storage
        for step in reversed(self.steps):
            target, source = self.absolute(step.target), self.absolute(step.source)
            backup = self.absolute(step.backup) if step.backup else None
            if storage.local:
                if backup is not None and os.path.lexists(backup):
                    os.replace(backup, target)
                elif backup is None and not os.path.lexists(source):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(target)
            elif backup is not None:
                storage.fs.cp_file(backup, target)
            else:
                with contextlib.suppress(FileNotFoundError):
                    storage.fs.rm_file(target)
        self.steps = []

    def remove_scratch(self) -> None:
        """Remove the scratch entries (after a roll back or forward)."""
        for relative in self.scratch:
            path = self.absolute(relative)
            if self.storage.local:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(path)
            else:
                with contextlib.suppress(FileNotFoundError):
                    self.storage.fs.rm(path, recursive=True)

    def remove(self) -> None:
        """Remove the journal itself (the last step)."""
        if not self.written:
            return
        path = self.absolute(self.name)
        with contextlib.suppress(FileNotFoundError):
            if self.storage.local:
                os.remove(path)
            else:
                self.storage.fs.rm_file(path)
        self.written = False

    def finish(self) -> None:
        """Undo what is not committed, remove the scratch entries, then the journal."""
        if self.state != COMMITTED:
            self.roll_back()
        self.remove_scratch()
        self.remove()


def _sync_folder(folder: str) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextmanager
def journal(storage: StageStorage) -> Iterator[Journal]:
    """A journal for one statement's writes, removed when it ends.

    The caller names its scratch entries and calls `Journal.write` before creating them.
    At the end the journal is finished (`Journal.finish`: rolled back unless committed);
    if that fails (the storage went away), journal and scratch entries stay for `recover`.
    """
    entry = Journal(storage)
    _OPEN.add(entry.name)
    try:
        yield entry
    finally:
        with contextlib.suppress(Exception):  # what is left, `recover` finishes
            entry.finish()
        _OPEN.discard(entry.name)


@contextmanager
def scratch_file(storage: StageStorage, path: str) -> Iterator[None]:
    """Journal one scratch file (a path of ``storage``) while it is written and moved.

    The file is removed at the end unless it was moved to its name meanwhile; a process
    killed on the way leaves a journal with which `recover` removes it.
    """
    with journal(storage) as entry:
        entry.scratch.append(entry.relative(path))
        entry.write(WRITING)
        yield


def _journal_names(storage: StageStorage) -> list[str]:
    """The journals at the storage's root: one listing, of the journal prefix only."""
    root = storage.root.rstrip("/")
    if storage.local:
        try:
            with os.scandir(root) as entries:
                names = [entry.name for entry in entries]
        except OSError:  # no folder (yet), or a file
            return []
    elif storage.identity[0] in S3_PROTOCOLS:
        bucket, _, key = root.strip("/").partition("/")
        prefix = f"{key}/{JOURNAL_PREFIX}" if key else JOURNAL_PREFIX
        answer = storage.fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix)
        names = [item["Key"].rpartition("/")[2] for item in answer.get("Contents", [])]
    else:
        try:
            names = [path.rpartition("/")[2] for path in storage.fs.ls(root, detail=False)]
        except FileNotFoundError:
            return []
    return [n for n in names if n.startswith(JOURNAL_PREFIX) and n.endswith(JOURNAL_SUFFIX)]


def _load(storage: StageStorage, name: str) -> tuple[Journal, dict[str, Any]] | None:
    path = f"{storage.root.rstrip('/')}/{name}"
    try:
        if storage.local:
            with open(path, "rb") as file:
                data = json.loads(file.read())
        else:
            data = json.loads(storage.fs.cat_file(path))
    except FileNotFoundError:  # finished meanwhile
        return None
    except ValueError as error:
        raise StageOperationalError(
            f"{storage.label}: the journal {name!r} of an interrupted write cannot be read "
            f"({error}); remove it to use this location"
        ) from None
    entry = Journal(storage, name, str(data["state"]), list(data["scratch"]), written=True)
    entry.steps = [Step(*step) for step in data["steps"]]
    return entry, dict(data["owner"])


def recover(storage: StageStorage) -> int:
    """Roll back or forward the journals at the storage's root whose writers are gone.

    Returns:
        How many journals were finished.

    Raises:
        StageOperationalError: a journal cannot be read or finished (the storage is
            unreachable); the statement does not run on a half-published location.
    """
    finished = 0
    try:
        for name in _journal_names(storage):
            if name in _OPEN:  # this process writes it now
                continue
            loaded = _load(storage, name)
            if loaded is None or _alive(loaded[1], name):
                continue
            # Its writer is gone: read what it left again, in case it finished meanwhile.
            loaded = _load(storage, name)
            if loaded is not None:
                loaded[0].finish()
            finished += 1
    except StageOperationalError:
        raise
    except Exception as error:
        raise StageOperationalError(
            f"cannot finish an interrupted write at {storage.label}: "
            f"{type(error).__name__}: {error}"
        ) from None
    return finished


def recover_stage_root(stage_root: str) -> None:
    """At connect: `recover` the folder of every stage under a local engine stage root.

    A stage root on other storage is left to the statements; a journal that cannot be
    finished here is left to the next statement on its stage, which reports it.
    """
    if stage_root.startswith("file://"):
        stage_root = stage_root[len("file://") :]
    elif "://" in stage_root or "::" in stage_root:
        return
    for kind in ("internal", "user", "table"):
        try:
            with os.scandir(os.path.join(stage_root, "stage", kind)) as entries:
                folders = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for folder in folders:
            with contextlib.suppress(StageRuntimeError):
                recover(open_storage(folder, None, label=f"the stage folder {folder!r}"))
