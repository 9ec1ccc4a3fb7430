"""Staged files DuckDB cannot decompress, made readable: the path DuckDB reads for a file.

DuckDB's readers decompress gzip and zstd themselves (by extension under AUTO). For a
file compressed with BZ2, BROTLI, DEFLATE or RAW_DEFLATE (the format's COMPRESSION, or under
AUTO the file's extension, ``.bz2`` / ``.deflate`` / ``.raw_deflate``, or bzip2's and
gzip's magic bytes in a file without a compression extension), `readable_path` copies
the plain bytes into a temporary file (`compressions.decompressed_copy`) and gives its
path instead. The copy lives until the statement ends (`StageContext.close`); one
statement decompresses each file once, so a path stands for the same file everywhere in
the statement (a load's per-file results, ``METADATA$FILENAME``).

BROTLI is read only when the format names it (with the ``brotli`` extra; without it the
statement is refused, naming the extra): under AUTO a ``.br`` file is refused, asking
for COMPRESSION = BROTLI, as Snowflake's AUTO does not detect Brotli either.

On a location with client-side encryption (``AWS_CSE``) every file is first downloaded
and decrypted into a temporary file (`client_encryption`), keeping its extensions so
DuckDB still detects gzip and zstd, and then decompressed if needed.
"""

from __future__ import annotations

from sqla_stage.errors import StageError, StageOperationalError
from sqla_stage.formats import FormatSpec, Parquet
from sqla_stage.options import AUTO
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.load.read_escapes import unescaped_path
from sqla_stage.runtime.storage.client_encryption import fetch_decrypted
from sqla_stage.runtime.storage.compressions import (
    GZIP,
    MAGIC_BYTES,
    PYTHON_READ,
    Codec,
    decompressed_copy,
    detect,
    refuse,
)
from sqla_stage.runtime.storage.stage_storage import StageStorage
from sqla_stage.runtime.unload.csv_escapes import transcodable, unenclosed_escape

#: Extensions DuckDB decompresses itself under AUTO.
_DUCKDB_SUFFIXES = (".gz", ".gzip", ".zst")
#: gzip's magic bytes (RFC 1952 section 2.3.1).
_GZIP_MAGIC = b"\x1f\x8b"


def file_codec(
    storage: StageStorage, spec: FormatSpec, name: str, head: bytes | None = None
) -> Codec | None:
    """The codec the runtime decompresses ``name`` with before DuckDB reads it, if any.

    ``head`` is the file's first bytes when already known (a decrypted file's).

    Raises:
        StageRuntimeError: COMPRESSION = BROTLI without its package, or a ``.br`` file
            under AUTO.
    """
    if isinstance(spec, Parquet):
        return None
    compression = str(spec.options.get("compression", AUTO))
    refuse(compression)
    if compression in PYTHON_READ:
        return PYTHON_READ[compression]
    if compression != "AUTO" or name.lower().endswith(_DUCKDB_SUFFIXES):
        return None
    codec = detect(name, b"")
    if codec is not None:
        return codec
    if head is None:
        head = storage.head(name, MAGIC_BYTES)
    if head.startswith(_GZIP_MAGIC):
        return GZIP
    return detect(name, head)


def readable_path(context: StageContext, storage: StageStorage, spec: FormatSpec, name: str) -> str:
    """The path DuckDB reads for the staged file ``name`` (a decompressed copy if needed).

    A CSV file whose unenclosed fields may be escaped is read from a transcoded copy
    unless it holds no escape (`load.read_escapes`).

    Raises:
        StageRuntimeError: a compression the runtime refuses (`file_codec`), or a file
            that cannot be transcoded.
        StageOperationalError: the file cannot be read, or is not of its compression.
    """
    path = _decompressed_path(context, storage, spec, name)
    escape = unenclosed_escape(spec, context.settings.stage_dialect)
    if escape is None or not transcodable(spec):
        return path
    try:
        return unescaped_path(context, storage, spec, name, path, escape)
    except StageError:
        raise
    except (OSError, ValueError, EOFError) as error:
        raise StageOperationalError(
            f"cannot read {name!r} in {storage.label}: {type(error).__name__}: {error}"
        ) from None


def _decompressed_path(
    context: StageContext, storage: StageStorage, spec: FormatSpec, name: str
) -> str:
    path = storage.duckdb_path(name)
    try:
        if storage.client_key is not None:
            return _decrypted_path(context, storage, spec, name, path)
        codec = file_codec(storage, spec, name)
        if codec is None:
            return path
        key = (path, codec.name)
        if key not in context.decompressed:
            with storage.fs.open(storage.path(name), "rb") as source:
                context.decompressed[key] = decompressed_copy(source, codec)
        return context.decompressed[key]
    except StageError:
        raise
    except ValueError as error:
        raise StageOperationalError(f"cannot read {name!r} in {storage.label}: {error}") from None
    except Exception as error:  # botocore's connection errors are not OSErrors
        raise StageOperationalError(
            f"cannot read {name!r} in {storage.label}: {type(error).__name__}: {error}"
        ) from None


def _decrypted_path(
    context: StageContext, storage: StageStorage, spec: FormatSpec, name: str, path: str
) -> str:
    """The decrypted (then decompressed, if needed) local copy of a client-encrypted file."""
    assert storage.client_key is not None
    key = (path, "AWS_CSE")
    if key not in context.decompressed:
        context.decompressed[key] = fetch_decrypted(
            storage.client_key, storage.fs, storage.path(name), name, storage.label
        )
    plain = context.decompressed[key]
    with open(plain, "rb") as source:
        codec = file_codec(storage, spec, name, source.read(MAGIC_BYTES))
    if codec is None:
        return plain
    if (plain, codec.name) not in context.decompressed:
        with open(plain, "rb") as source:
            context.decompressed[(plain, codec.name)] = decompressed_copy(source, codec)
    return context.decompressed[(plain, codec.name)]
