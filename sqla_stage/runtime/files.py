"""LIST, REMOVE, PRESIGN, PUT and GET on the runtime.

Names are keys relative to the stage's root (Databend's LIST), and PATTERN is a regular
expression that must match the whole name. PUT follows Snowflake: ``AUTO_COMPRESS``
(default TRUE) gzips files that are not compressed already, and an existing file is
skipped unless ``OVERWRITE = TRUE``. Every file is written under a scratch name and
moved into place once complete. GET decrypts the files of a stage with client-side
encryption (``AWS_CSE``); PUT to such a stage is refused (it would store plain files).
"""

from __future__ import annotations

import glob
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from sqla_stage.errors import StageProgrammingError
from sqla_stage.files import Get, ListFiles, Presign, Put, RemoveFiles
from sqla_stage.runtime.engine import progress
from sqla_stage.runtime.engine.context import Place, StageContext
from sqla_stage.runtime.engine.literals import literal
from sqla_stage.runtime.engine.results import BIGINT, TIMESTAMPTZ, VARCHAR, Column, Rows
from sqla_stage.runtime.engine.warehouse_results import DATABEND_LIST
from sqla_stage.runtime.storage import azure as storage_azure
from sqla_stage.runtime.storage import deflate
from sqla_stage.runtime.storage.client_encryption import fetch_decrypted, refuse_plain_access
from sqla_stage.runtime.storage.credentials import S3_PROTOCOLS
from sqla_stage.runtime.storage.gcs import SigningRefused
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX, StageStorage
from sqla_stage.runtime.unload.publish_journal import scratch_file

LIST_COLUMNS = [
    Column("name", VARCHAR),
    Column("size", BIGINT),
    Column("md5", VARCHAR),
    Column("last_modified", TIMESTAMPTZ),
]
REMOVE_COLUMNS = [Column("name", VARCHAR), Column("result", VARCHAR)]
PRESIGN_COLUMNS = [Column("method", VARCHAR), Column("headers", VARCHAR), Column("url", VARCHAR)]
PUT_COLUMNS = [
    Column("source", VARCHAR),
    Column("target", VARCHAR),
    Column("source_size", BIGINT),
    Column("target_size", BIGINT),
    Column("source_compression", VARCHAR),
    Column("target_compression", VARCHAR),
    Column("status", VARCHAR),
    Column("message", VARCHAR),
]
GET_COLUMNS = [
    Column("file", VARCHAR),
    Column("size", BIGINT),
    Column("status", VARCHAR),
    Column("message", VARCHAR),
]

#: File name endings of data that is already compressed: PUT leaves them as they are.
COMPRESSED_SUFFIXES = {
    ".gz": "GZIP",
    ".bz2": "BZ2",
    ".zst": "ZSTD",
    ".br": "BROTLI",
    ".deflate": "DEFLATE",
    ".raw_deflate": "RAW_DEFLATE",
    ".parquet": "PARQUET",
    ".orc": "ORC",
    ".avro": "AVRO",
}


def list_files(context: StageContext, element: ListFiles) -> Rows:
    """LIST @location [PATTERN]: ``name, size, md5, last_modified``."""
    place = context.place(element.location)
    files = place.files(element.pattern)
    if context.settings.stage_dialect == "databend":  # Databend's LIST adds the creator
        return Rows(DATABEND_LIST, [[f.name, f.size, f.md5, f.last_modified, None] for f in files])
    return Rows(LIST_COLUMNS, [[f.name, f.size, f.md5, f.last_modified] for f in files])


def remove_files(context: StageContext, element: RemoveFiles) -> Rows:
    """REMOVE @location [PATTERN]: ``name, result`` for each file removed."""
    place = context.place(element.location)
    files = place.files(element.pattern, checksums=False)
    place.storage.remove(f.name for f in files)
    return Rows(REMOVE_COLUMNS, [[f.name, "removed"] for f in files])


def presign(context: StageContext, element: Presign) -> Rows:
    """PRESIGN: a URL from the filesystem's ``sign()``, where the filesystem can sign.

    Under ``stage_dialect=snowflake`` the answer is ``GET_PRESIGNED_URL``'s: one column
    holding the URL; otherwise Databend's ``method, headers, url``.
    """
    place = context.place(element.location)
    method = element.method or "DOWNLOAD"
    expire = element.expire or 3600
    storage = place.storage
    path = storage.path(place.prefix)
    headers: dict[str, str] = {}
    try:
        if storage.identity[0] in storage_azure.AZURE_PROTOCOLS:
            what = f"PRESIGN {method} {place.label}"
            url, headers = storage_azure.presign(storage.fs, path, expire, method == "UPLOAD", what)
        elif method == "UPLOAD":
            url = storage.fs.sign(path, expiration=expire, client_method="put_object")
        else:
            url = storage.fs.sign(path, expiration=expire)
    except SigningRefused as refused:
        raise StageProgrammingError(f"PRESIGN {method} {place.label}: {refused}") from None
    except (NotImplementedError, TypeError):
        raise StageProgrammingError(
            f"PRESIGN {method} {place.label}: the {storage.identity[0]!r} filesystem of this "
            "stage cannot sign URLs (a local stage has no URL to share; use GET instead)"
        ) from None
    if context.settings.stage_dialect == "snowflake":
        return Rows([Column(_presigned_url_column(element), VARCHAR)], [[url]])
    verb = "PUT" if method == "UPLOAD" else "GET"
    return Rows(PRESIGN_COLUMNS, [[verb, json.dumps(headers), url]])


def _presigned_url_column(element: Presign) -> str:
    """Snowflake's name for the one column of ``GET_PRESIGNED_URL``: the call, upper-cased."""
    arguments = [f"@{element.location.stage.key}", literal(element.location.path)]
    if element.expire is not None:
        arguments.append(str(element.expire))
    return f"GET_PRESIGNED_URL({', '.join(arguments)})".upper()


def _local_path(url: str) -> str:
    """The local path of ``file://<path>``.

    Snowflake's form: not URL-encoded, and a relative path is relative to the working
    directory.
    """
    return url[len("file://") :] if url.startswith("file://") else url


def _compression_of(name: str) -> str:
    for suffix, kind in COMPRESSED_SUFFIXES.items():
        if name.lower().endswith(suffix):
            return kind
    return "NONE"


def _refuse_folders(storage: StageStorage, keys: list[str], what: str) -> None:
    """Refuse, before anything is written, to write a file where a folder of that name is.

    Moving a file onto a folder would move it *into* the folder, under its scratch name.
    On S3 an object and a prefix of one name live side by side (nothing is lost), and
    the check would cost a request a file, so it is not made there.

    Raises:
        StageProgrammingError: one of ``keys`` names an existing folder.
    """
    if storage.identity[0] in S3_PROTOCOLS:
        return
    for key in keys:
        if storage.fs.isdir(storage.path(key)):
            raise StageProgrammingError(
                f"{what}: {key!r} is an existing folder, and a file cannot replace it; "
                "nothing was written"
            )


def _publish(storage: StageStorage, key: str, write: Any) -> int:
    """Write a file under a scratch name next to ``key``, then move it into place."""
    folder = key.rpartition("/")[0]
    scratch = (
        f"{folder}/{SCRATCH_PREFIX}{uuid.uuid4().hex}"
        if folder
        else (f"{SCRATCH_PREFIX}{uuid.uuid4().hex}")
    )
    target, temporary = storage.path(key), storage.path(scratch)
    storage.fs.makedirs(storage.path(folder), exist_ok=True)
    with scratch_file(storage, temporary):
        with storage.fs.open(temporary, "wb") as stream:
            write(stream)
        if storage.local:  # a folder made meanwhile: never move the file into it
            _refuse_folders(storage, [key], storage.label)
        storage.fs.mv(temporary, target)
    return int(storage.fs.size(target))


def put(context: StageContext, element: Put) -> Rows:
    """PUT file://... @location: upload local files (a glob) into the stage."""
    place = context.place(element.location)
    refuse_plain_access(
        place.storage.client_key,
        place.label,
        "PUT",
        "does not encrypt (Snowflake's PUT uploads to internal stages only); unload with "
        "COPY INTO the stage, which encrypts, or upload with an S3 encryption client",
    )
    pattern = _local_path(element.local_url)
    sources = sorted(path for path in glob.glob(pattern) if os.path.isfile(path))
    if not sources:
        raise StageProgrammingError(f"PUT: no local file matches {pattern!r}")
    for source in sources:
        context.outside_root(source, f"PUT {place.label}: a local file")
    options = element.transfer_options
    compress = options.get("auto_compress", True) is True
    overwrite = options.get("overwrite", False) is True
    folder = place.prefix.rstrip("/")
    keys = [_put_key(folder, source, compress) for source in sources]
    _refuse_folders(place.storage, keys, f"PUT {place.label}")
    rows = []
    total = sum(os.path.getsize(source) for source in sources)
    with progress.bar(f"PUT {place.label}", total) as bar:
        for source in sources:
            rows.append(_put_one(place, source, folder, compress, overwrite, bar))
    return Rows(PUT_COLUMNS, rows)


def _put_key(folder: str, source: str, compress: bool) -> str:
    """The key PUT writes ``source`` to: its name, ``.gz`` added when PUT gzips it."""
    name = os.path.basename(source)
    if compress and _compression_of(name) == "NONE":
        name += ".gz"
    return f"{folder}/{name}" if folder else name


def _put_one(
    place: Place, source: str, folder: str, compress: bool, overwrite: bool, bar: progress.Bar
) -> list[Any]:
    """Upload one file (gzipped when asked and not compressed already); its result row."""
    name = os.path.basename(source)
    source_size = os.path.getsize(source)
    source_compression = _compression_of(name)
    gzip_it = compress and source_compression == "NONE"
    key = _put_key(folder, source, compress)
    target_name = key.rpartition("/")[2]
    target_compression = "GZIP" if gzip_it else source_compression
    row = [name, target_name, source_size]
    if not overwrite and place.storage.exists(key):
        bar.update(source_size)
        size = place.storage.fs.size(place.storage.path(key))
        return [*row, size, source_compression, target_compression, "SKIPPED", ""]

    def write(stream: Any) -> None:
        with open(source, "rb") as data:
            if gzip_it:
                with deflate.gzip_writer(stream) as packed:
                    progress.copy_stream(data, packed, bar)
            else:
                progress.copy_stream(data, stream, bar)

    size = _publish(place.storage, key, write)
    return [*row, size, source_compression, target_compression, "UPLOADED", ""]


@contextmanager
def _plain(storage: StageStorage, key: str) -> Iterator[IO[bytes]]:
    """The staged file ``key`` opened for reading, decrypted first on an ``AWS_CSE`` stage."""
    if storage.client_key is None:
        with storage.fs.open(storage.path(key), "rb") as data:
            yield data
        return
    path = fetch_decrypted(storage.client_key, storage.fs, storage.path(key), key, storage.label)
    try:
        with open(path, "rb") as data:
            yield data
    finally:
        os.remove(path)


def _get_names(label: str, prefix: str, keys: list[str], context: StageContext) -> list[str]:
    """Where GET writes each staged key, relative to the local folder.

    Snowflake's GET writes every file straight into the folder (its client keeps the file
    name only), so under ``stage_dialect=snowflake`` two files of one name are refused
    before anything is written; otherwise the path below the location's folder is kept.
    """
    if context.settings.stage_dialect == "snowflake":
        names = [key.rsplit("/", 1)[-1] for key in keys]
        clashes = sorted(name for name, n in Counter(names).items() if n > 1)
        if clashes:
            raise StageProgrammingError(
                f"GET {label}: under stage_dialect=snowflake GET writes files without their "
                f"folders, and several files are named {', '.join(map(repr, clashes))}; "
                "narrow the location or PATTERN"
            )
        return names
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return [key[len(folder) :] for key in keys]


def get(context: StageContext, element: Get) -> Rows:
    """GET @location file:///dir/: download staged files (see `_get_names` for where)."""
    place = context.place(element.location)
    pattern = element.transfer_options.get("pattern")
    chosen = pattern if isinstance(pattern, str) else None
    files = place.files(chosen, checksums=False)
    local = _local_path(element.local_url)
    if os.path.exists(local) and not os.path.isdir(local):
        raise StageProgrammingError(
            f"GET {place.label}: the local target {local!r} is a file; GET writes the "
            "staged files into a folder"
        )
    target = context.outside_root(local, f"GET {place.label}: the local folder")
    names = _get_names(place.label, place.prefix, [info.name for info in files], context)
    _refuse_folders(target, names, f"GET {place.label}")
    rows = []
    with progress.bar(f"GET {place.label}", sum(info.size for info in files)) as bar:
        for info, relative in zip(files, names, strict=True):

            def write(stream: Any, key: str = info.name) -> None:
                with _plain(place.storage, key) as data:
                    progress.copy_stream(data, stream, bar)

            size = _publish(target, relative, write)
            rows.append([relative, size, "DOWNLOADED", ""])
    return Rows(GET_COLUMNS, rows)
