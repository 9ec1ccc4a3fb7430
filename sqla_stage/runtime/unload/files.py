"""An unload's files: the scratch area DuckDB writes into, final names, publication.

DuckDB always writes to local disk. For a local stage the scratch area is a hidden
folder beside the destination (``<folder>/.sqla_stage-<uuid>/``, invisible to LIST), so
publishing is an atomic rename on the same disk; for any other storage it is a local
temporary folder, and publishing first uploads every file under a hidden scratch prefix
in the destination folder (``<folder>/.sqla_stage-<uuid>/``, invisible to LIST and
loads), then copies them to their names inside the storage. Name clashes are checked
before anything is moved.

OVERWRITE keeps a copy of each file it replaces (a hard link on a local disk, a copy in
the scratch prefix elsewhere) until every new file is in place. Every step is recorded
first in the statement's journal (`publish_journal`): at the end of the statement the
journal is finished (a publication that did not commit is rolled back: the old files put
back, the new ones removed; the scratch entries removed), and a process killed at any
point leaves a journal that the next statement on that storage finishes the same way.
Scratch entries a journal does not name (left by an older version) are removed by the
next unload into the same local folder once untouched for `STALE_SCRATCH_SECONDS`.

On an ``AWS_CSE`` location each file is encrypted as it is uploaded (`storage.client_encryption`),
its envelope sent as the object's metadata, which S3's copy keeps.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote

from sqla_stage.errors import StageOperationalError, StageProgrammingError, StageRuntimeError
from sqla_stage.runtime.storage.client_encryption import seal
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX, StageStorage
from sqla_stage.runtime.unload.publish_journal import (
    COMMITTED,
    PUBLISHING,
    WRITING,
    Journal,
    Step,
    journal,
)

T = TypeVar("T")

_INDEX = re.compile(r"(\d+)")

#: A local scratch entry with nothing modified for this long is a killed unload's.
STALE_SCRATCH_SECONDS = 3600.0


@dataclass
class WrittenFile:
    """One file DuckDB wrote, on its way to the stage.

    Attributes:
        path: Where it is in the scratch area (a local path).
        partition: The PARTITION BY value of its folder, if partitioned.
        index: DuckDB's number for it (the order of writing).
        key: Its final key in the stage.
        rows: How many rows it holds, when known.
        size: Its size in bytes.
        input_bytes: Its size before compression.
    """

    path: str
    partition: str | None = None
    index: int = 0
    key: str = ""
    rows: int | None = None
    size: int = 0
    input_bytes: int = 0


def join_key(*parts: str) -> str:
    """Join key segments with ``/``, skipping empty ones."""
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def partition_folder(value: str | None) -> str:
    """The folder a PARTITION BY value names: its segments, without empty and ``.`` ones.

    ``'x'``, ``'/x'``, ``'x/'`` and ``'./x'`` all name ``x``; ``'a//b'`` names ``a/b``;
    ``''``, ``'/'`` and ``'.'`` name the destination folder itself.
    """
    return "/".join(part for part in (value or "").split("/") if part not in ("", "."))


def _missing_folders(path: str) -> list[str]:
    """``path`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while path and not os.path.exists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


def _prune(folders: Sequence[str]) -> None:
    """Remove folders this unload created and left empty, deepest first."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            return


def _newest_change(path: str) -> float:
    """The latest modification time of ``path`` or of anything below it."""
    newest = os.lstat(path).st_mtime
    for folder, _, names in os.walk(path):
        for name in [".", *names]:
            with contextlib.suppress(OSError):
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
    return newest


def sweep_stale_scratch(folder: str, age: float | None = None) -> None:
    """Remove scratch entries in the local ``folder`` left by killed statements."""
    limit = time.time() - (STALE_SCRATCH_SECONDS if age is None else age)
    try:
        entries = [entry.path for entry in os.scandir(folder)]
    except OSError:
        return
    for path in entries:
        if not os.path.basename(path).startswith(SCRATCH_PREFIX):
            continue
        with contextlib.suppress(OSError):
            if _newest_change(path) >= limit:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)


@contextmanager
def scratch_area(
    storage: StageStorage, folder: str, label: str = "", entry: Journal | None = None
) -> Iterator[str]:
    """A fresh, empty local folder for DuckDB to write into; removed afterwards.

    On a local disk it is recorded in ``entry`` (the statement's journal, written before
    the folder is made) and removed by finishing the journal (`publish_journal`).

    Raises:
        StageRuntimeError: the destination folder cannot be created or written.
    """
    destination = storage.path(folder)  # first use: interrupted writes are finished
    if not storage.local:
        path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
        return
    entry = entry or Journal(storage)
    created = _missing_folders(destination)
    real, root = os.path.realpath(destination), os.path.realpath(storage.root)
    if real == root or real.startswith(root + os.sep):  # never sweep outside the stage
        sweep_stale_scratch(real)
    path = storage.path(join_key(folder, f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"))
    try:
        entry.scratch.append(entry.relative(path))
        entry.write(WRITING)
        os.makedirs(path)
    except OSError as error:
        entry.remove()
        _prune(created)
        raise StageOperationalError(
            f"cannot write the unloaded files to {label or storage.label}: {error}"
        ) from None
    try:
        yield path
    finally:
        with contextlib.suppress(Exception):  # what is left, `recover` finishes
            entry.finish()
        _prune(created)


def collect(root: str, partition_column: str | None) -> list[WrittenFile]:
    """The files under ``root``, in writing order (by partition, then DuckDB's number).

    With PARTITION BY, DuckDB writes ``<column>=<url-encoded value>/<file>``; the value
    is decoded, so a value with ``/`` becomes nested folders, as in Snowflake.
    """
    files = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            partition = None
            if partition_column is not None:
                first = os.path.relpath(path, root).split(os.sep)[0]
                partition = unquote(first.partition("=")[2])
            number = _INDEX.search(name)
            files.append(WrittenFile(path, partition, int(number.group(1)) if number else 0))
    files.sort(key=lambda file: (file.partition or "", file.index, file.path))
    return files


def name_files(
    files: Sequence[WrittenFile],
    folder: str,
    stem: str,
    query_id: str,
    extension: str,
    numbers: str = "0_0_{}",
) -> None:
    """Give each file its key: ``<folder>/[<partition>/]<stem>[<uuid>_]0_0_<n><ext>``.

    ``<partition>`` is `partition_folder` of the value; ``n`` counts the files of each
    such folder from 0, so values naming one folder (``'x'``, ``'/x'``, ``'x/'``) never
    give two files one name. ``numbers`` formats ``n`` (Snowflake's ``0_0_{}`` by default,
    Databend's ``0000_{:08d}``).
    """
    counters: dict[str, int] = {}
    middle = f"{query_id}_" if query_id else ""
    for file in files:
        partition = partition_folder(file.partition)
        number = counters.get(partition, 0)
        counters[partition] = number + 1
        name = f"{stem}{middle}{numbers.format(number)}{extension}"
        file.key = join_key(folder, partition, name)


#: Requests to object storage at once: uploads, copies and existence checks of an unload.
REQUESTS_AT_ONCE = 8


def concurrently(work: Callable[[T], object], items: Iterable[T]) -> list[object]:
    """``work`` on every item, several at once; the first error once all have ended."""
    items = list(items)
    if len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(REQUESTS_AT_ONCE, len(items))) as pool:
        return list(pool.map(work, items))


def _clashes(storage: StageStorage, keys: Sequence[str]) -> list[str]:
    if storage.local:
        return [key for key in keys if storage.exists(key)]
    found = concurrently(storage.exists, keys)
    return [key for key, exists in zip(keys, found, strict=True) if exists]


def publish(
    storage: StageStorage,
    files: Sequence[WrittenFile],
    overwrite: bool,
    label: str,
    published: Callable[[int], object] = lambda size: None,
    entry: Journal | None = None,
) -> None:
    """Move (local) or upload and copy (other storage) the files to their keys.

    ``published`` is called with each file's size once it is uploaded (progress). Each
    step is recorded in ``entry``, the statement's journal (`publish_journal`), before
    it is taken; finishing the journal undoes a publication that did not commit.

    Raises:
        StageRuntimeError: two files would get one key, or one file's key is a folder
            of another's (`check_keys`), or a file of the same name exists and
            ``overwrite`` is False (nothing is published in these cases), or publishing
            fails (what was published is removed and the files it replaced are put back).
    """
    check_keys(files, label)
    try:
        existing = set(_clashes(storage, [file.key for file in files]))
    except StageRuntimeError:
        raise
    except Exception as error:  # s3fs / botocore errors are not all OSErrors
        raise StageOperationalError(
            f"cannot write the unloaded files to {label}: {error}"
        ) from None
    if existing and not overwrite:
        raise StageProgrammingError(
            f"Files already existing at the unload destination: {label}. "
            "Use overwrite option to force unloading."
        )
    if not files:
        return
    with nullcontext(entry) if entry is not None else journal(storage) as current:
        publication = _Publication(storage, files, existing, label, current)
        if storage.local:
            publication.local(published)
        else:
            publication.remote(published)


def check_keys(files: Sequence[WrittenFile], label: str) -> None:
    """Refuse keys of one unload that cannot all exist, before anything is published.

    A key given twice, or a file's key that another file needs as a folder, is refused;
    keys are compared as paths (without empty and ``.`` segments).

    Raises:
        StageProgrammingError: the clash, naming the key (nothing is written).
    """
    seen: set[str] = set()
    folders: dict[str, str] = {}
    for file in files:
        key = partition_folder(file.key)
        if key in seen:
            raise StageProgrammingError(
                f"COPY INTO {label}: two files of this unload would be named {key!r} "
                "(nothing was written)"
            )
        seen.add(key)
        parts = key.split("/")
        for end in range(1, len(parts)):
            folders.setdefault("/".join(parts[:end]), key)
    taken = sorted(seen & folders.keys())
    if taken:
        raise StageProgrammingError(
            f"COPY INTO {label}: the file {taken[0]!r} of this unload is where the file "
            f"{folders[taken[0]]!r} needs a folder; a PARTITION BY value names a folder "
            "(nothing was written)"
        )


class _Publication:
    """One unload's files on their way to their keys, each step journaled first."""

    def __init__(
        self,
        storage: StageStorage,
        files: Sequence[WrittenFile],
        existing: set[str],
        label: str,
        entry: Journal,
    ) -> None:
        self.storage = storage
        self.files = files
        self.existing = existing
        self.label = label
        self.entry = entry

    def local(self, published: Callable[[int], object]) -> None:
        backups = os.path.join(os.path.dirname(self.files[0].path), f"{SCRATCH_PREFIX}old")
        relative, targets = self.entry.relative, [self.storage.path(f.key) for f in self.files]
        self.entry.steps = [
            Step(
                relative(target),
                relative(file.path),
                relative(os.path.join(backups, str(number))) if file.key in self.existing else None,
            )
            for number, (file, target) in enumerate(zip(self.files, targets, strict=True))
        ]
        try:
            self.entry.write(PUBLISHING)
            for file, target, step in zip(self.files, targets, self.entry.steps, strict=True):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if step.backup is not None:
                    _keep(target, self.entry.absolute(step.backup))
                os.replace(file.path, target)
                published(file.size)
            self.entry.write(COMMITTED)
        except Exception as error:
            raise self._error(error) from None

    def remote(self, published: Callable[[int], object]) -> None:
        fs = self.storage.fs
        folder = self.files[0].key.rpartition("/")[0]
        scratch = self.storage.path(join_key(folder, f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"))
        uploads = [f"{scratch}/{number}" for number in range(len(self.files))]
        targets = [self.storage.path(file.key) for file in self.files]

        def upload(number: int) -> None:
            path, metadata = self.files[number].path, dict[str, str]()
            if self.storage.client_key is not None:  # AWS_CSE: `storage.client_encryption`
                path, metadata = seal(self.storage.client_key, path)
            fs.put_file(path, uploads[number], **({"Metadata": metadata} if metadata else {}))
            published(self.files[number].size)

        relative = self.entry.relative
        try:
            self.entry.scratch.append(relative(scratch))
            self.entry.write(WRITING)
            concurrently(upload, range(len(self.files)))
            backups = [
                (targets[number], f"{scratch}/old-{number}")
                for number, file in enumerate(self.files)
                if file.key in self.existing
            ]
            concurrently(lambda pair: fs.cp_file(*pair), backups)
            kept = {target: relative(backup) for target, backup in backups}
            self.entry.steps = [
                Step(relative(target), relative(source), kept.get(target))
                for source, target in zip(uploads, targets, strict=True)
            ]
            self.entry.write(PUBLISHING)
            concurrently(lambda pair: fs.cp_file(*pair), list(zip(uploads, targets, strict=True)))
            self.entry.write(COMMITTED)
        except Exception as error:
            raise self._error(error) from None

    def _error(self, error: Exception) -> StageRuntimeError:
        if isinstance(error, StageRuntimeError):
            return error
        reason = f"{type(error).__name__}: {error}" if not isinstance(error, OSError) else error
        return StageOperationalError(f"cannot write the unloaded files to {self.label}: {reason}")


def _keep(target: str, backup: str) -> None:
    """Keep the file ``target`` as ``backup`` (a hard link, else a copy), whole or not at all."""
    os.makedirs(os.path.dirname(backup), exist_ok=True)
    try:
        os.link(target, backup)
    except OSError:
        partial = f"{backup}.part"
        shutil.copy2(target, partial)
        os.replace(partial, backup)
