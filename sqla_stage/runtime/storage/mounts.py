"""How DuckDB reaches files on any fsspec filesystem: one registered "mount" filesystem.

DuckDB accepts one ``register_filesystem`` per protocol per database instance, while two
stages may need two differently configured filesystems of one protocol (two S3 endpoints,
two sets of credentials). So the runtime registers a single dispatching filesystem,
protocol ``sqlastage``, once per DuckDB instance (in the connect event, guarded by
``filesystem_is_registered``). A stage's filesystem is mounted under a key derived from
its configuration, and DuckDB sees its files as ``sqlastage://<key>/<path>``.

Local stages do not go through here: DuckDB reads and writes local paths natively.

DuckDB asks a Python filesystem for a file's details again and again while it reads it
(existence, size, modification time: about 15 requests a file on S3). A statement that
has just listed the files it reads *pins* their listing entries (`pinned`) for
its duration: `MountFileSystem.info` answers from them, and opening for reading
passes the known size on, so a read costs only its GET requests.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fsspec import AbstractFileSystem

PROTOCOL = "sqlastage"

_MOUNTS: dict[str, AbstractFileSystem] = {}
_LOCK = threading.Lock()
#: Listing entries pinned by running statements, by ``<mount key>/<path>``.
_PINNED: dict[str, dict[str, Any]] = {}


@contextmanager
def pinned(entries: Mapping[str, dict[str, Any]]) -> Iterator[None]:
    """Answer DuckDB's questions about these files from ``entries`` while open.

    Args:
        entries: fsspec listing entries by ``<mount key>/<path>``.
    """
    with _LOCK:
        _PINNED.update(entries)
    try:
        yield
    finally:
        with _LOCK:
            for name in entries:
                _PINNED.pop(name, None)


#: Whether a filesystem class's ``open`` takes the file's size, by class.
_SIZED_OPEN: dict[type, bool] = {}


def _takes_size(fs: AbstractFileSystem) -> bool:
    """Whether ``fs.open`` accepts the file's size (s3fs does), saving a request."""
    kind = type(fs)
    if kind not in _SIZED_OPEN:
        _SIZED_OPEN[kind] = "size" in inspect.signature(kind._open).parameters
    return _SIZED_OPEN[kind]


def mount(fs: AbstractFileSystem, identity: tuple[object, ...]) -> str:
    """Mount ``fs`` and return its key; equal identities share one key."""
    key = "m" + hashlib.sha256(repr(identity).encode()).hexdigest()[:16]
    with _LOCK:
        _MOUNTS.setdefault(key, fs)
    return key


def duckdb_url(key: str, path: str) -> str:
    """The URL DuckDB uses for ``path`` on the filesystem mounted as ``key``."""
    return f"{PROTOCOL}://{key}/{path}"


def register_mount_filesystem(dbapi_connection: Any) -> None:
    """Register the mount filesystem in this connection's DuckDB instance, once."""
    if not dbapi_connection.filesystem_is_registered(PROTOCOL):
        dbapi_connection.register_filesystem(MountFileSystem())


class MountFileSystem(AbstractFileSystem):
    """Dispatches ``sqlastage://<key>/<path>`` to the filesystem mounted as ``key``."""

    protocol = PROTOCOL
    cachable = False

    def _split(self, path: str) -> tuple[str, AbstractFileSystem, str]:
        path = self._strip_protocol(path)
        key, _, inner = path.partition("/")
        fs = _MOUNTS.get(key)
        if fs is None:
            raise FileNotFoundError(f"no stage storage is mounted as {key!r}")
        return key, fs, inner

    @staticmethod
    def _outer(key: str, entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "name": f"{key}/{entry['name']}"}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """List a folder of a mounted filesystem; a folder with no files lists as empty.

        Object stores have no empty folders: after DuckDB's ``mkdir`` of an output folder
        (``PER_THREAD_OUTPUT``, ``PARTITION_BY``) s3fs still says the folder is missing.
        """
        key, fs, inner = self._split(path)
        try:
            entries = fs.ls(inner, detail=True, **kwargs)
        except FileNotFoundError:
            return []
        if detail:
            return [self._outer(key, entry) for entry in entries]
        return [f"{key}/{entry['name']}" for entry in entries]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Details of one file of a mounted filesystem (pinned ones from their listing)."""
        key, fs, inner = self._split(path)
        entry = _PINNED.get(f"{key}/{inner}")
        return self._outer(key, entry if entry is not None else fs.info(inner, **kwargs))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        key, fs, inner = self._split(path)
        entry = _PINNED.get(f"{key}/{inner}")
        if mode == "rb" and entry is not None and "size" in entry and _takes_size(fs):
            kwargs.setdefault("size", entry["size"])
        return fs.open(inner, mode, **kwargs)

    def rm_file(self, path: str) -> None:
        """Delete one file."""
        _, fs, inner = self._split(path)
        fs.rm_file(inner)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Make a folder (a no-op on object stores)."""
        _, fs, inner = self._split(path)
        fs.mkdir(inner, create_parents=create_parents, **kwargs)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Make a folder and its parents."""
        _, fs, inner = self._split(path)
        fs.makedirs(inner, exist_ok=exist_ok)

    def mv(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Move a file within one mounted filesystem."""
        _, fs, inner1 = self._split(path1)
        _, _, inner2 = self._split(path2)
        fs.mv(inner1, inner2, **kwargs)

    def modified(self, path: str) -> Any:
        """When a file was last changed."""
        key, fs, inner = self._split(path)
        entry = _PINNED.get(f"{key}/{inner}")
        if entry is not None and entry.get("LastModified") is not None:
            return entry["LastModified"]
        return fs.modified(inner)
