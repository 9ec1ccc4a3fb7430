"""An unload's files: the scratch area DuckDB writes into, final names, publication.

DuckDB always writes to local disk. For a local stage the scratch area is a hidden
folder beside the destination (``<folder>/.sqla_stage-<uuid>/``, invisible to LIST), so
publishing is an atomic rename on the same disk; for any other storage it is a local
temporary folder and publishing uploads with ``fs.put``. Name clashes are checked before
anything is moved, and the scratch area is always removed: a failed unload leaves no
file behind.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote

from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage import SCRATCH_PREFIX, StageStorage

_INDEX = re.compile(r"(\d+)")


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


@contextmanager
def scratch_area(storage: StageStorage, folder: str) -> Iterator[str]:
    """A fresh, empty local folder for DuckDB to write into; removed afterwards."""
    if not storage.local:
        path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
        return
    created = _missing_folders(storage.path(folder))
    path = storage.path(join_key(folder, f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"))
    os.makedirs(path)
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
    files: Sequence[WrittenFile], folder: str, stem: str, query_id: str, extension: str
) -> None:
    """Give each file its key: ``<folder>/[<partition>/]<stem>[<uuid>_]0_0_<n><ext>``.

    ``n`` counts the files of each partition from 0.
    """
    counters: dict[str | None, int] = {}
    middle = f"{query_id}_" if query_id else ""
    for file in files:
        number = counters.get(file.partition, 0)
        counters[file.partition] = number + 1
        name = f"{stem}{middle}0_0_{number}{extension}"
        file.key = join_key(folder, file.partition or "", name)


def gzip_input_size(path: str) -> int:
    """The uncompressed size of a one-member gzip file (its ISIZE trailer, mod 2**32)."""
    with open(path, "rb") as stream:
        stream.seek(-4, os.SEEK_END)
        return int(struct.unpack("<I", stream.read(4))[0])


def _clashes(storage: StageStorage, keys: Sequence[str]) -> list[str]:
    return [key for key in keys if storage.exists(key)]


def publish(
    storage: StageStorage,
    files: Sequence[WrittenFile],
    overwrite: bool,
    label: str,
    published: Callable[[int], object] = lambda size: None,
) -> None:
    """Move (local) or upload (other storage) the files to their keys.

    ``published`` is called with each file's size once it is in place (progress).

    Raises:
        StageRuntimeError: a file of the same name exists and ``overwrite`` is False
            (nothing is published), or a move fails (what was published is removed).
    """
    existing = set(_clashes(storage, [file.key for file in files]))
    if existing and not overwrite:
        raise StageRuntimeError(
            f"Files already existing at the unload destination: {label}. "
            "Use overwrite option to force unloading."
        )
    done: list[str] = []
    try:
        for file in files:
            target = storage.path(file.key)
            if storage.local:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(file.path, target)
            else:
                storage.fs.put(file.path, target)
            done.append(file.key)
            published(file.size)
    except OSError as error:
        storage.remove(key for key in done if key not in existing)
        raise StageRuntimeError(f"cannot write the unloaded files to {label}: {error}") from None
