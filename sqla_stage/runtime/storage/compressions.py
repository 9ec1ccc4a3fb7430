"""The text compressions the runtime applies itself, in Python: their bytes both ways.

DuckDB reads and writes gzip and zstd; spec 004 also lists BZ2, DEFLATE (a zlib stream,
RFC 1950) and RAW_DEFLATE (a bare deflate stream, RFC 1951), which Python's ``bz2`` and
the deflate library of `deflate` (ISA-L, else ``zlib``) handle. A `Codec` says how a
file of one compression is written as independent blocks (so `unload.compress`
compresses the blocks of a file on every core) and how it is read back
(`decompressed_copy`: bytes into a temporary file DuckDB reads as plain text).

- **GZIP** and **BZ2**: each block is a complete member; a file of several members is one
  valid stream (RFC 1952 section 2.2; bzip2 reads concatenated streams).
- **RAW_DEFLATE**: each block is deflated on its own and ended with a sync flush (an
  empty stored block), as ``pigz`` does, and the file ends with an empty final block.
- **DEFLATE**: the same stream between zlib's two-byte header and the Adler-32 of the
  plain bytes, computed as the blocks are written.
- **BROTLI**: no blocks; each file is one stream, written and read by the optional
  ``brotli`` package (`brotli_codec`); without it BROTLI is refused (`refuse`).

LZO has no writer or reader in DuckDB or the standard library: it is refused (`REFUSED`).
Only bytes pass through Python, never rows.
"""

from __future__ import annotations

import bz2
import os
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.storage import brotli_codec as compressions_brotli
from sqla_stage.runtime.storage import deflate

#: A final, empty deflate block (fixed Huffman codes): ends a raw deflate stream.
_FINAL_BLOCK = b"\x03\x00"
#: zlib's header for the default window and level (RFC 1950 section 2.2).
_ZLIB_HEADER = b"\x78\x9c"
#: Read in pieces of this size when decompressing.
_CHUNK = 1024 * 1024


def _gzip_member(block: bytes) -> bytes:
    return deflate.fastest().gzip_member(block)


def _bz2_member(block: bytes) -> bytes:
    return bz2.compress(block)


def _deflate_block(block: bytes) -> bytes:
    return deflate.fastest().raw_block(block)


def _no_trailer(checksum: int) -> bytes:
    return b""


def _raw_trailer(checksum: int) -> bytes:
    return _FINAL_BLOCK


def _zlib_trailer(checksum: int) -> bytes:
    return _FINAL_BLOCK + checksum.to_bytes(4, "big")


@dataclass(frozen=True)
class Codec:
    """One compression: its spec name, file suffix, and how its bytes are made and read.

    Attributes:
        name: The spec's name (``BZ2``).
        suffix: The extension Snowflake gives its files (``.bz2``).
        header: Bytes before the first block.
        block: Compresses one block of plain bytes (safe to run in threads); None when
            a file is one stream that cannot be cut into blocks (`whole_file` writes it).
        trailer: The bytes after the last block, given the Adler-32 of the plain bytes.
        wbits: ``zlib``'s window bits to read the file (None: bz2).
        whole_file: Compresses a plain file into a target file and removes it (when
            ``block`` is None); returns the plain size. Safe to run in threads.
        whole_stream: Decompresses a whole source into ``out``, in place of
            `decompressor` (BROTLI).
    """

    name: str
    suffix: str
    header: bytes
    block: Callable[[bytes], bytes] | None
    trailer: Callable[[int], bytes]
    wbits: int | None
    whole_file: Callable[[str, str], int] | None = None
    whole_stream: Callable[[IO[bytes], IO[bytes]], None] | None = None

    def decompressor(self) -> deflate.Decompressor | bz2.BZ2Decompressor:
        """A fresh decompressor of one stream (or member) of this codec."""
        if self.wbits is None:
            return bz2.BZ2Decompressor()
        return deflate.fastest().decompressobj(self.wbits)


GZIP = Codec("GZIP", ".gz", b"", _gzip_member, _no_trailer, deflate.GZIP_WBITS)
BZ2 = Codec("BZ2", ".bz2", b"", _bz2_member, _no_trailer, None)
DEFLATE = Codec(
    "DEFLATE", ".deflate", _ZLIB_HEADER, _deflate_block, _zlib_trailer, deflate.ZLIB_WBITS
)
RAW_DEFLATE = Codec(
    "RAW_DEFLATE", ".raw_deflate", b"", _deflate_block, _raw_trailer, deflate.RAW_WBITS
)
#: ``.br``: the extension Snowflake's PUT gives Brotli files.
BROTLI = Codec(
    "BROTLI",
    ".br",
    b"",
    None,
    _no_trailer,
    None,
    whole_file=compressions_brotli.compress_file,
    whole_stream=compressions_brotli.decompress,
)
#: The codecs by spec name.
CODECS = {codec.name: codec for codec in (GZIP, BZ2, DEFLATE, RAW_DEFLATE, BROTLI)}
#: Codecs the runtime decompresses before DuckDB reads (DuckDB reads gzip itself).
PYTHON_READ = {name: codec for name, codec in CODECS.items() if name != "GZIP"}
#: Compressions refused, with the reason.
REFUSED = {
    "LZO": "neither DuckDB nor Python's standard library reads or writes LZO",
}


def refuse(name: str, what: str = "COMPRESSION") -> None:
    """Refuse ``name`` when it is one of `REFUSED`, or BROTLI without its package.

    Raises:
        StageProgrammingError: naming the compression and why (for BROTLI, the extra
            to install).
    """
    if name == "BROTLI":
        compressions_brotli.require()
    if name in REFUSED:
        raise StageProgrammingError(
            f"{what} = {name}: not supported by the DuckDB runtime ({REFUSED[name]})"
        )


#: The first bytes of a bzip2 stream: ``BZh`` and the block size digit.
_BZ2_MAGIC = b"BZh"


def detect(name: str, head: bytes) -> Codec | None:
    """The Python-read codec of a file under COMPRESSION = AUTO: by extension, or magic.

    gzip and zstd are left to DuckDB (which detects them by extension). A ``.br`` file is
    refused: brotli has no magic number, and Snowflake's AUTO does not detect Brotli
    either (its docs ask for COMPRESSION = BROTLI). A bzip2 file is also recognised by
    its magic bytes; deflate streams have no reliable magic and go by extension only.

    Raises:
        StageProgrammingError: a ``.br`` file.
    """
    lower = name.lower()
    if lower.endswith(BROTLI.suffix):
        raise StageProgrammingError(
            f"COMPRESSION = AUTO on {name!r}: Brotli files are not detected automatically "
            "(Snowflake's AUTO does not detect them either); give COMPRESSION = BROTLI"
        )
    for codec in PYTHON_READ.values():
        if codec is not BROTLI and lower.endswith(codec.suffix):
            return codec
    if head.startswith(_BZ2_MAGIC) and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return BZ2
    return None


#: Bytes `detect` looks at.
MAGIC_BYTES = 10


def decompress(source: IO[bytes], codec: Codec, out: IO[bytes]) -> None:
    """Copy the plain bytes of ``source`` (compressed with ``codec``) into ``out``.

    Concatenated members or streams (gzip, bzip2) are all read.

    Raises:
        ValueError: the bytes are not of this compression, or end inside a stream.
        StageProgrammingError: BROTLI without its package.
    """
    if codec.whole_stream is not None:
        codec.whole_stream(source, out)
        return
    decompressor = codec.decompressor()
    fed = False
    try:
        while chunk := source.read(_CHUNK):
            while chunk:
                out.write(decompressor.decompress(chunk))
                fed = True
                chunk = b""
                if decompressor.eof:
                    chunk = decompressor.unused_data
                    decompressor, fed = codec.decompressor(), False
    except (deflate.fastest().error, zlib.error, OSError, EOFError) as error:
        raise ValueError(f"not {codec.name} data ({error})") from None
    if fed and not decompressor.eof:
        raise ValueError(f"the {codec.name} data is cut short")


def decompressed_copy(source: IO[bytes], codec: Codec, suffix: str = ".txt") -> str:
    """Decompress ``source`` into a new temporary file and return its path.

    The caller removes the file. On an error nothing is left behind.

    Raises:
        ValueError: the bytes are not of this compression.
        OSError: the temporary file cannot be written.
    """
    handle, path = tempfile.mkstemp(prefix="sqla_stage-read-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            decompress(source, codec, out)
    except BaseException:
        os.unlink(path)
        raise
    return path
