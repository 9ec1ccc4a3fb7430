"""The MD5 checksums LIST shows for local staged files, with a bounded cache.

Reading a file to checksum it costs its whole size, so the checksum of a local file is
kept for the process, keyed by the file's path, size and modification time (a file
changed in place gets a new key). The cache is a least-recently-used one of at most
`MD5_CACHE_SIZE` entries: a process that lists millions of files over its life keeps
the checksums of the last `MD5_CACHE_SIZE` it looked at, and recomputes the others.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import replace

from sqla_stage.runtime.storage.names import FileInfo

#: How many checksums the process keeps (about 200 bytes each with their keys).
MD5_CACHE_SIZE = 4096

_CACHE: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_LOCK = threading.Lock()


def local_md5(path: str, status: os.stat_result) -> str:
    """The MD5 of the local file at ``path``, whose ``os.stat`` result is ``status``.

    Raises:
        OSError: the file cannot be read (it vanished, for example).
    """
    key = (path, status.st_size, status.st_mtime_ns)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    with _LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > MD5_CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def cached_count() -> int:
    """How many checksums the cache holds now."""
    with _LOCK:
        return len(_CACHE)


def checksummed(info: FileInfo, local: tuple[str, os.stat_result]) -> FileInfo | None:
    """``info`` with the MD5 of its local file (path, stat); None if it vanished meanwhile."""
    try:
        return replace(info, md5=local_md5(*local))
    except FileNotFoundError:
        return None
