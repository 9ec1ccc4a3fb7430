"""The deflate library the runtime compresses and decompresses with: ISA-L, else zlib.

gzip, DEFLATE and RAW_DEFLATE are all deflate streams. zlib at level 6 (DuckDB's level)
compresses the benchmark's CSV at about 30 MB/s a core; ISA-L's ``igzip`` (the ``isal``
package, a core dependency on the machines it ships wheels for) at level 1 at about
450 MB/s, for files about 8 % larger (0.323 of the plain size against zlib's 0.300).
Both release the GIL while they compress, so `unload.compress` runs either on every
core. Without ``isal`` (another machine, or an install without it) the runtime uses
zlib at level 6, as before: the bytes are valid gzip either way, only slower.

Each compressed block is checked against zlib's worst case (`block_bound`), which
`unload.sizes` relies on to keep a file within ``MAX_FILE_SIZE``: ISA-L does not
promise that bound (its level 0 and 3 pass it on random bytes), so a block that would
pass it is compressed again by zlib, which never does.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Protocol, cast

#: zlib's default level, the one DuckDB's gzip writer uses.
ZLIB_LEVEL = 6
#: ISA-L's fastest level but 0 (which is larger than level 1 on text and expands random
#: bytes); level 2 is no smaller and level 3 is 5 % smaller at 60 % of the speed.
ISAL_LEVEL = 1
#: gzip's, zlib's and a raw stream's window bits.
GZIP_WBITS = 31
ZLIB_WBITS = 15
RAW_WBITS = -15


class Compressor(Protocol):
    """A compressor of one stream (``zlib.compressobj``'s and ISA-L's)."""

    def compress(self, data: bytes, /) -> bytes:
        """The compressed bytes of ``data`` produced so far."""

    def flush(self, mode: int = ..., /) -> bytes:
        """The rest of the compressed bytes."""


class Decompressor(Protocol):
    """A decompressor of one stream (``zlib.decompressobj``'s and ISA-L's)."""

    @property
    def eof(self) -> bool:
        """Whether the end of the stream was reached."""

    @property
    def unused_data(self) -> bytes:
        """The bytes after the end of the stream."""

    def decompress(self, data: bytes, /) -> bytes:
        """The plain bytes of ``data``."""


@dataclass(frozen=True)
class Deflater:
    """One deflate library at one level.

    Attributes:
        name: ``isal`` or ``zlib``.
        level: The compression level.
        compressobj: Makes a compressor: ``(level, method, wbits)``.
        decompressobj: Makes a decompressor: ``(wbits)``.
        error: What the library raises on bytes that are not deflate.
        sync_flush: The library's ``Z_SYNC_FLUSH``.
    """

    name: str
    level: int
    compressobj: Callable[[int, int, int], Compressor]
    decompressobj: Callable[[int], Decompressor]
    error: type[Exception]
    sync_flush: int

    def gzip_member(self, block: bytes) -> bytes:
        """``block`` as one complete gzip member, within `block_bound`."""
        compressor = self.compressobj(self.level, zlib.DEFLATED, GZIP_WBITS)
        member = compressor.compress(block) + compressor.flush()
        if self is not ZLIB and len(member) > block_bound(len(block)):
            return ZLIB.gzip_member(block)
        return member

    def raw_block(self, block: bytes) -> bytes:
        """``block`` deflated on its own and ended by a sync flush, within `block_bound`."""
        compressor = self.compressobj(self.level, zlib.DEFLATED, RAW_WBITS)
        deflated = compressor.compress(block) + compressor.flush(self.sync_flush)
        if self is not ZLIB and len(deflated) > block_bound(len(block)):
            return ZLIB.raw_block(block)
        return deflated


ZLIB = Deflater(
    "zlib", ZLIB_LEVEL, zlib.compressobj, zlib.decompressobj, zlib.error, zlib.Z_SYNC_FLUSH
)


def block_bound(size: int) -> int:
    """The most bytes one compressed block of ``size`` plain bytes may take.

    zlib's ``deflateBound`` (``size + size/4096 + size/16384 + size/2**25 + 13``) plus a
    gzip header and trailer (18 bytes) or a sync flush, rounded up for blocks up to 32 MiB.
    """
    return size + size // 4096 + size // 16384 + 64


def isal(level: int = ISAL_LEVEL) -> Deflater | None:
    """ISA-L at ``level``, or None when the ``isal`` package is not installed."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return Deflater(
        "isal",
        level,
        isal_zlib.compressobj,
        isal_zlib.decompressobj,
        cast("type[Exception]", isal_zlib.error),  # its stub calls the class an instance
        isal_zlib.Z_SYNC_FLUSH,
    )


@functools.cache
def fastest() -> Deflater:
    """The deflater the runtime uses: ISA-L when installed, else zlib (found once)."""
    return isal() or ZLIB


def gzip_writer(stream: IO[bytes]) -> gzip.GzipFile:
    """A gzip file writing into ``stream`` (PUT's AUTO_COMPRESS), with `fastest`'s library.

    The caller closes it (which writes the trailer), then ``stream``.
    """
    if fastest() is ZLIB:
        return gzip.GzipFile(filename="", mode="wb", fileobj=stream)
    from isal import igzip

    # IGzipFile subclasses GzipFile; isal's igzip.py has no annotations.
    writer: gzip.GzipFile = igzip.IGzipFile(  # type: ignore[no-untyped-call]
        filename="", mode="wb", fileobj=stream, compresslevel=ISAL_LEVEL
    )
    return writer
