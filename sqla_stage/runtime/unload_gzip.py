"""gzip for unloaded CSV and JSON files, on every core.

DuckDB 1.5 compresses a gzip file on one thread, and more slowly than zlib at the same
level: a 5,000,000-row CSV took 25 s to write as one gzip file, against 1.9 s plain.
So for ``COMPRESSION = GZIP`` (and AUTO) DuckDB writes plain files into the scratch
area and this module compresses them the way ``pigz`` does: each file is cut into
blocks, the blocks are compressed in a thread pool (zlib releases the GIL) and written
in order as gzip members. A file of several members is one valid gzip stream (RFC 1952
section 2.2), which gzip, DuckDB, Snowflake and Databend read whole. Only bytes pass
through Python, never rows.

The level is zlib's default, 6, the level DuckDB's writer uses too, so the files are
the same size. ``MAX_FILE_SIZE`` bounds the plain file DuckDB writes, so a compressed
file is smaller than the limit rather than near it.
"""

from __future__ import annotations

import collections
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

#: The plain bytes of one gzip member.
BLOCK_SIZE = 4 * 1024 * 1024
LEVEL = 6
#: gzip's wrapper around a deflate stream, for zlib.
_GZIP_WBITS = 31


def _member(block: bytes) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(block) + compressor.flush()


def _blocks(paths: Sequence[str]) -> Iterator[tuple[int, bytes]]:
    """``(file number, block)`` for every block of every file; an empty file gives one."""
    for number, path in enumerate(paths):
        with open(path, "rb") as source:
            block = source.read(BLOCK_SIZE)
            yield number, block
            while block := source.read(BLOCK_SIZE):
                yield number, block


def gzip_files(
    paths: Sequence[str], workers: int, progressed: Callable[[int], object]
) -> list[tuple[str, int]]:
    """Compress each plain file into ``<path>.gz`` and remove it.

    Args:
        paths: The plain files, in the scratch area.
        workers: Threads that compress at once.
        progressed: Called with the plain bytes of each block once it is written.

    Returns:
        For each file in order, the compressed file's path and its size before compression.

    Raises:
        OSError: a file cannot be read or written (a full disk). The caller's scratch area
            holds whatever was written.
    """
    plain = [0] * len(paths)
    sinks: dict[int, BinaryIO] = {}
    pending: collections.deque[tuple[int, int, Future[bytes]]] = collections.deque()

    def write_oldest() -> None:
        number, size, member = pending.popleft()
        if number not in sinks:
            for done in list(sinks):
                sinks.pop(done).close()
                os.remove(paths[done])
            sinks[number] = open(paths[number] + ".gz", "wb")  # noqa: SIM115 (closed above)
        sinks[number].write(member.result())
        plain[number] += size
        progressed(size)

    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for number, block in _blocks(paths):
                pending.append((number, len(block), pool.submit(_member, block)))
                if len(pending) > 2 * workers:
                    write_oldest()
            while pending:
                write_oldest()
        for done in list(sinks):
            sinks.pop(done).close()
            os.remove(paths[done])
    finally:
        for sink in sinks.values():
            sink.close()
    return [(path + ".gz", size) for path, size in zip(paths, plain, strict=True)]
