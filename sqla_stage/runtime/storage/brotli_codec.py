"""COMPRESSION = BROTLI through the optional ``brotli`` package: one stream a file.

Brotli is not in DuckDB or Python's standard library; the ``brotli`` package (Google's
bindings, ``pip install "sqla_stage[brotli]"``) is imported when a statement first needs
it, and a statement asking for BROTLI without it is refused, naming the extra, before
anything is read or written (`require`).

A brotli stream ends with a last meta-block, so two streams put end to end are not one
stream (unlike gzip members or bzip2 streams) and the format has no documented way to
join them: a file is compressed as one stream, on one thread (`compress_file`); several
files are compressed at once (the package releases the GIL). The quality is `QUALITY`
(4), not the package's default 11, which compressed about 0.2 MB of CSV a second (see
docs/file-formats.md for the figures). Decompressing stops each step near `_OUTPUT`
bytes of output, so a small stream that expands to gigabytes does not fill the memory.

Brotli has no magic number: COMPRESSION = AUTO cannot recognise a brotli file (nor can
Snowflake's), so `compressions.detect` refuses a ``.br`` file under AUTO and asks for
COMPRESSION = BROTLI.
"""

from __future__ import annotations

import importlib
import os
from typing import IO, Protocol, cast

from sqla_stage.errors import StageProgrammingError

#: The Brotli quality of unloaded files (0 to 11; the package's default is 11).
QUALITY = 4
#: The extra that installs the package.
INSTALL = 'pip install "sqla_stage[brotli]"'
#: Plain bytes read (compressing) or compressed bytes read (decompressing) at a time.
_CHUNK = 1024 * 1024
#: The output at which a decompressing step stops (a step gives at most about twice this).
_OUTPUT = 4 * 1024 * 1024


class _Compressor(Protocol):
    def process(self, data: bytes, /) -> bytes: ...
    def finish(self) -> bytes: ...


class _Decompressor(Protocol):
    def process(self, data: bytes, /, output_buffer_limit: int = ...) -> bytes: ...
    def can_accept_more_data(self) -> bool: ...
    def is_finished(self) -> bool: ...


class _Brotli(Protocol):
    """The parts of the ``brotli`` module the runtime uses."""

    error: type[Exception]

    def Compressor(self, *, quality: int) -> _Compressor: ...
    def Decompressor(self) -> _Decompressor: ...


def require() -> _Brotli:
    """The ``brotli`` module.

    Raises:
        StageProgrammingError: it is not installed (naming the extra to install).
    """
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        raise StageProgrammingError(
            f"COMPRESSION = BROTLI needs the brotli package, which is not installed: {INSTALL}"
        ) from None
    if not hasattr(module.Decompressor, "can_accept_more_data"):
        raise StageProgrammingError(
            f"COMPRESSION = BROTLI needs brotli 1.2 or later (found {module.__version__}): "
            f"{INSTALL}"
        )
    return cast(_Brotli, module)


def compress_file(path: str, target: str) -> int:
    """Compress the plain file ``path`` into ``target`` as one brotli stream; remove ``path``.

    Returns:
        The plain file's size.

    Raises:
        OSError: a file cannot be read or written.
    """
    brotli = require()
    compressor = brotli.Compressor(quality=QUALITY)
    size = 0
    with open(path, "rb") as source, open(target, "wb") as sink:
        while piece := source.read(_CHUNK):
            sink.write(compressor.process(piece))
            size += len(piece)
        sink.write(compressor.finish())
    os.remove(path)
    return size


def decompress(source: IO[bytes], out: IO[bytes]) -> None:
    """Copy the plain bytes of the brotli stream ``source`` into ``out``.

    Raises:
        ValueError: the bytes are not one brotli stream (or something follows it), or
            they end inside it.
    """
    brotli = require()
    decompressor = brotli.Decompressor()
    fed = False
    try:
        while chunk := source.read(_CHUNK):
            if decompressor.is_finished():
                raise ValueError("not BROTLI data (bytes follow the end of the stream)")
            fed = True
            out.write(decompressor.process(chunk, output_buffer_limit=_OUTPUT))
            while not decompressor.can_accept_more_data():
                out.write(decompressor.process(b"", output_buffer_limit=_OUTPUT))
        # The last step can leave output (less than the limit) in the decoder.
        while fed and not decompressor.is_finished():
            piece = decompressor.process(b"", output_buffer_limit=_OUTPUT)
            if not piece and decompressor.can_accept_more_data():
                break
            out.write(piece)
    except brotli.error as error:
        raise ValueError(f"not BROTLI data ({error})") from None
    if fed and not decompressor.is_finished():
        raise ValueError("the BROTLI data is cut short")
