r"""Staged CSV files whose unenclosed fields may be escaped, made readable by DuckDB.

A read of a Snowflake CSV format with an escape for unenclosed fields (`unload.csv_escapes`)
gives DuckDB, for each staged file, a plain text file it reads natively with
`csv_escapes.READ_OPTIONS`:

- **Fast path**: a plain file (not compressed) that holds no escape character, no ``"``
  and no carriage return, with ``RECORD_DELIMITER = '\n'``, is read as it is (one scan of
  its bytes decides; nothing is copied).
- Otherwise the file's plain bytes (gzip and zstd decompressed here, the other
  compressions already by `storage.read_compression`) go into a temporary file, and unless the
  fast-path test passes on them, one DuckDB statement transcodes that into another
  (`csv_escapes.transcode_sql`).

The copies live until the statement ends (`StageContext.close`), like decompressed ones.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import duckdb

from sqla_stage.delimiters import delimiters
from sqla_stage.formats import FormatSpec
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.duckdb_errors import error_class, first_line
from sqla_stage.runtime.storage.stage_storage import StageStorage
from sqla_stage.runtime.unload.csv_escapes import transcode_sql

#: The first bytes of gzip and zstd streams (RFC 1952, RFC 8878).
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1024 * 1024


@contextmanager
def _plain_bytes(source: IO[bytes]) -> Iterator[tuple[Any, bool]]:
    """``source``'s plain bytes, and whether it was compressed (gzip or zstd)."""
    head = source.read(len(_ZSTD_MAGIC))
    source.seek(0)
    if head.startswith(_GZIP_MAGIC):
        with gzip.GzipFile(fileobj=source) as plain:
            yield plain, True
    elif head.startswith(_ZSTD_MAGIC):
        import pyarrow as pa  # a dataframe library: imported only for a zstd file

        with pa.CompressedInputStream(pa.PythonFile(source, mode="r"), "zstd") as stream:
            yield stream, True
    else:
        yield source, False


def _clean(chunks: Iterator[bytes], stops: tuple[bytes, ...]) -> bool:
    """Whether no chunk holds one of ``stops`` (kept across chunk ends)."""
    longest = max(len(stop) for stop in stops)
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        if any(stop in window for stop in stops):
            return False
        tail = window[-(longest - 1) :] if longest > 1 else b""
    return True


def _chunks(source: IO[bytes], copy: IO[bytes] | None) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        if copy is not None:
            copy.write(chunk)
        yield chunk


def _temporary(suffix: str) -> str:
    handle, path = tempfile.mkstemp(prefix="sqla_stage-read-", suffix=suffix)
    os.close(handle)
    return path


def unescaped_path(
    context: StageContext,
    storage: StageStorage,
    spec: FormatSpec,
    name: str,
    path: str,
    escape: str,
) -> str:
    """The path DuckDB reads for ``name`` (read as ``path``): itself, or a plain copy.

    Raises:
        StageRuntimeError: DuckDB cannot transcode the file (not UTF-8, a placeholder).
    """
    key = (path, "ESCAPES")
    if key in context.read_paths:
        return context.read_paths[key]
    _, record = delimiters(spec.options)
    stops = tuple(text.encode() for text in (escape, '"', "\r"))
    fast = record == "\n"
    copied = path in context.decompressed.values()
    opened = open(path, "rb") if copied else storage.fs.open(storage.path(name), "rb")  # noqa: SIM115
    source_path = path
    with opened as source, _plain_bytes(source) as (plain, compressed):
        if not compressed:
            if fast and _clean(_chunks(plain, None), stops):
                context.read_paths[key] = path
                return path
        else:
            source_path = _temporary(".csv")
            context.decompressed[(path, "PLAIN")] = source_path
            with open(source_path, "wb") as out:
                clean = fast and _clean(_chunks(plain, out), stops)
                shutil.copyfileobj(plain, out, _CHUNK)
            if clean:
                context.read_paths[key] = source_path
                return source_path
    transcoded = _temporary(".csv")
    context.decompressed[(path, "TRANSCODED")] = transcoded
    context.read_paths[key] = transcoded
    try:
        context.run(transcode_sql(source_path, transcoded, escape, spec))
    except duckdb.Error as error:
        raise error_class(error)(
            f"cannot read {name!r} in {storage.label}: {first_line(error)}"
        ) from None
    return transcoded
