"""An unload's files: the scratch area DuckDB writes into, final names, publication.

DuckDB always writes to local disk. For a local stage the scratch area is a hidden
folder beside the destination (``<folder>/.sqla_stage-<uuid>/``, invisible to LIST), so
publishing is an atomic rename on the same disk; for any other storage it is a local
temporary folder, and publishing first uploads every file under a hidden scratch prefix
in the destination folder (``<folder>/.sqla_stage-<uuid>/``, invisible to LIST and
loads), then copies them to their names inside the storage. Name clashes are checked
before anything is moved, and the scratch area is always removed: a failed unload leaves
no file behind.

OVERWRITE keeps a copy of each file it replaces (a hard link on a local disk, a copy in
the scratch prefix elsewhere) until every new file is in place; a failure puts the old
files back. A process killed mid-unload can leave its scratch folder behind (never a
file under a published name); the next unload into the same local folder removes
scratch entries untouched for `STALE_SCRATCH_SECONDS`. On remote storage a
failure whose cleanup cannot reach the storage (the service stopped) can leave objects
under the hidden scratch prefix, and, only if it stops between two copies of the
publishing step, some of the new files.

On an ``AWS_CSE`` location each file is encrypted as it is uploaded (`client_encryption`),
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
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote

from sqla_stage.errors import StageOperationalError, StageProgrammingError, StageRuntimeError
from sqla_stage.runtime.client_encryption import seal
from sqla_stage.runtime.storage import SCRATCH_PREFIX, StageStorage

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
def scratch_area(storage: StageStorage, folder: str, label: str = "") -> Iterator[str]:
    """A fresh, empty local folder for DuckDB to write into; removed afterwards.

    Raises:
        StageRuntimeError: the destination folder cannot be created or written.
    """
    if not storage.local:
        path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
        return
    created = _missing_folders(storage.path(folder))
    real, root = os.path.realpath(storage.path(folder)), os.path.realpath(storage.root)
    if real == root or real.startswith(root + os.sep):  # never sweep outside the stage
        sweep_stale_scratch(real)
    path = storage.path(join_key(folder, f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"))
    try:
        os.makedirs(path)
    except OSError as error:
        _prune(created)
        raise StageOperationalError(
            f"cannot write the unloaded files to {label or storage.label}: {error}"
        ) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
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
) -> None:
    """Move (local) or upload and copy (other storage) the files to their keys.

    ``published`` is called with each file's size once it is uploaded (progress).

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
    if storage.local:
        _Publication(storage, files, existing, label).local(published)
    else:
        _Publication(storage, files, existing, label).remote(published)


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
    """One unload's files on their way to their keys, and how to undo it."""

    def __init__(
        self, storage: StageStorage, files: Sequence[WrittenFile], existing: set[str], label: str
    ) -> None:
        self.storage = storage
        self.files = files
        self.existing = existing
        self.label = label
        self.done: list[str] = []
        self.backups: list[tuple[str, str]] = []  # (backup path, target path)

    def local(self, published: Callable[[int], object]) -> None:
        backups = os.path.join(os.path.dirname(self.files[0].path), f"{SCRATCH_PREFIX}old")
        try:
            for number, file in enumerate(self.files):
                target = self.storage.path(file.key)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if file.key in self.existing:
                    os.makedirs(backups, exist_ok=True)
                    backup = os.path.join(backups, str(number))
                    try:
                        os.link(target, backup)
                    except OSError:
                        shutil.copy2(target, backup)
                    self.backups.append((backup, target))
                os.replace(file.path, target)
                self.done.append(file.key)
                published(file.size)
        except BaseException as error:
            self._undo(lambda backup, target: os.replace(backup, target))
            if isinstance(error, Exception):
                raise self._error(error) from None
            raise

    def remote(self, published: Callable[[int], object]) -> None:
        fs = self.storage.fs
        folder = self.files[0].key.rpartition("/")[0]
        scratch = self.storage.path(join_key(folder, f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"))
        uploads = [f"{scratch}/{number}" for number in range(len(self.files))]
        targets = [self.storage.path(file.key) for file in self.files]

        def upload(number: int) -> None:
            path, metadata = self.files[number].path, dict[str, str]()
            if self.storage.client_key is not None:  # AWS_CSE: `client_encryption`
                path, metadata = seal(self.storage.client_key, path)
            fs.put_file(path, uploads[number], **({"Metadata": metadata} if metadata else {}))
            published(self.files[number].size)

        try:
            concurrently(upload, range(len(self.files)))
            self.backups = [
                (f"{scratch}/old-{number}", targets[number])
                for number, file in enumerate(self.files)
                if file.key in self.existing
            ]
            concurrently(lambda pair: fs.cp_file(pair[1], pair[0]), self.backups)
            self.done = [file.key for file in self.files]  # undo removes whichever arrived
            concurrently(lambda pair: fs.cp_file(*pair), list(zip(uploads, targets, strict=True)))
        except BaseException as error:
            self._undo(lambda backup, target: fs.cp_file(backup, target))
            if isinstance(error, Exception):
                raise self._error(error) from None
            raise
        finally:
            with contextlib.suppress(Exception):
                fs.rm(scratch, recursive=True)

    def _undo(self, restore: Callable[[str, str], object]) -> None:
        """Best effort: remove the new files, put the replaced ones back."""
        with contextlib.suppress(Exception):
            self.storage.remove(key for key in self.done if key not in self.existing)
        for backup, target in self.backups:
            with contextlib.suppress(Exception):
                restore(backup, target)

    def _error(self, error: Exception) -> StageRuntimeError:
        if isinstance(error, StageRuntimeError):
            return error
        reason = f"{type(error).__name__}: {error}" if not isinstance(error, OSError) else error
        return StageOperationalError(f"cannot write the unloaded files to {self.label}: {reason}")
