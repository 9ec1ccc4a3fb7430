"""Compressed unloaded CSV and JSON files (gzip, bzip2, deflate, brotli), on every core.

DuckDB 1.5 compresses a gzip file on one thread, and more slowly than zlib at the same
level: a 5,000,000-row CSV took 25 s to write as one gzip file, against 1.9 s plain. So
for ``COMPRESSION = GZIP`` (and AUTO) DuckDB writes plain files into the scratch area
and this module compresses them the way ``pigz`` does: each file is cut into 1 MiB blocks,
the blocks are compressed in a thread pool (ISA-L and zlib both release the GIL; `storage.deflate`
says which one is used) and written in order as gzip members. A file of several members
is one valid gzip stream (RFC 1952 section 2.2), which gzip, DuckDB, Snowflake and
Databend read whole. BZ2, DEFLATE and RAW_DEFLATE (which DuckDB does not write) go the
same way, with the blocks of their `compressions.Codec`. Only bytes pass through Python,
never rows.

BROTLI has no blocks: a brotli stream cannot be cut into pieces that join into one
stream, so each file is compressed whole, as one stream, and the pool compresses several
files at once (`_compress_whole`); one file is compressed on one thread.

With ISA-L the level is 1: about 15 times zlib's speed, for files about 8 % larger than
DuckDB's (zlib at level 6); without it, zlib at level 6, the files DuckDB writes.
`sizes` cuts the plain text so that the compressed file is within
``MAX_FILE_SIZE`` even in the worst case (`unload_sizes.compressed_bound`), which
`storage.deflate` holds whichever library compresses.
"""

from __future__ import annotations

import collections
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from sqla_stage.runtime.storage.compressions import Codec

#: The plain bytes of one compressed block (a gzip or bzip2 member). 1 MiB: a deflate
#: member of 1 MiB is no larger than a quarter of one of 4 MiB (the window is 32 KiB),
#: bzip2 cuts its own blocks at 900 kB (as ``pbzip2`` does), and the blocks held at
#: once (`compress_files`) stay a few MiB.
BLOCK_SIZE = 1024 * 1024


def _blocks(paths: Sequence[str]) -> Iterator[tuple[int, bytes]]:
    """``(file number, block)`` for every block of every file; an empty file gives one."""
    for number, path in enumerate(paths):
        with open(path, "rb") as source:
            block = source.read(BLOCK_SIZE)
            yield number, block
            while block := source.read(BLOCK_SIZE):
                yield number, block


def compress_files(
    paths: Sequence[str], codec: Codec, workers: int, progressed: Callable[[int], object]
) -> list[tuple[str, int]]:
    """Compress each plain file into ``<path><codec suffix>`` and remove it.

    Args:
        paths: The plain files, in the scratch area.
        codec: The compression.
        workers: Threads that compress at once.
        progressed: Called with the plain bytes of each block once it is written.

    Returns:
        For each file in order, the compressed file's path and its size before compression.

    Raises:
        OSError: a file cannot be read or written (a full disk). The caller's scratch area
            holds whatever was written.
    """
    if codec.block is None:
        return _compress_whole(paths, codec, workers, progressed)
    block_of = codec.block
    plain = [0] * len(paths)
    checksums = [zlib.adler32(b"")] * len(paths)
    sinks: dict[int, BinaryIO] = {}
    pending: collections.deque[tuple[int, bytes, Future[bytes]]] = collections.deque()

    def finish(done: int) -> None:
        sink = sinks.pop(done)
        try:
            sink.write(codec.trailer(checksums[done]))
        finally:
            sink.close()
        os.remove(paths[done])

    def write_oldest() -> None:
        number, block, member = pending.popleft()
        if number not in sinks:
            for done in list(sinks):
                finish(done)
            sink = open(paths[number] + codec.suffix, "wb")  # noqa: SIM115 (closed in finish)
            sinks[number] = sink
            sink.write(codec.header)
        sinks[number].write(member.result())
        checksums[number] = zlib.adler32(block, checksums[number])  # DEFLATE's trailer
        plain[number] += len(block)
        progressed(len(block))

    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for number, block in _blocks(paths):
                pending.append((number, block, pool.submit(block_of, block)))
                if len(pending) > workers:
                    write_oldest()
            while pending:
                write_oldest()
        for done in list(sinks):
            finish(done)
    finally:
        for sink in sinks.values():
            sink.close()
    return [(path + codec.suffix, size) for path, size in zip(paths, plain, strict=True)]


def _compress_whole(
    paths: Sequence[str], codec: Codec, workers: int, progressed: Callable[[int], object]
) -> list[tuple[str, int]]:
    """`compress_files` for a codec without blocks: each file whole, several at once.

    Progress is reported (on the calling thread) as each file is done.
    """
    whole = codec.whole_file
    if whole is None:
        raise ValueError(f"{codec.name} has neither blocks nor a whole-file compressor")
    targets = [path + codec.suffix for path in paths]
    sizes: list[int] = []
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for size in pool.map(whole, paths, targets):
            sizes.append(size)
            progressed(size)
    return list(zip(targets, sizes, strict=True))
