"""COPY INTO <location> (unload) on the runtime, following Snowflake's spec 004.

The data work is one DuckDB ``COPY (<query>) TO ...`` statement: the source (a table or
a query, with its bind parameters) runs inside DuckDB and DuckDB writes the files, in
parallel, into a scratch area. Python plans the names, moves the files into place and
builds the result row. What an unload does:

- **Names**: the location's path is a literal folder and file-name prefix.
  ``@s/result/data_`` writes ``result/data_0_0_0.csv.gz``, ``result/data_0_0_1.csv.gz``,
  ...; a path that ends with ``/`` (or none) uses the prefix ``data_``; a prefix that
  does not end with ``_`` is followed by one (``@s/result`` writes ``result_0_0_0.csv.gz``
  in the stage's root folder), as Snowflake names them. With
  ``INCLUDE_QUERY_ID = TRUE`` the statement's UUID follows the prefix
  (``data_<uuid>_0_0_0.snappy.parquet``); under ``stage_dialect=databend`` that is the
  default, as in Databend, so a second unload lands beside the first. A URL location
  splits the same way (``'s3://b/unload/'`` is a folder, ``'s3://b/unload/x_'`` a
  folder and a prefix).
  Extensions and format options: `formats`.
- **SINGLE = TRUE**: one file named by the path's last segment (``@s/out.csv``), or
  ``data`` (no extension) when the path ends with ``/``. A file larger than
  MAX_FILE_SIZE is Snowflake's error, and nothing is written.
- **MAX_FILE_SIZE** (default 16000000) bounds every stored file, compressed or not:
  with an ORDER BY, DuckDB writes one ordered file (one per partition) and
  `sizes` cuts it between records (text) or rewrites it in ranges of rows
  (Parquet), so the order holds across the files; without one (a table), DuckDB's
  threads write files near the limit and only those over it are cut. A file over the
  limit holds one record or row that alone is larger (spec 004's exception). gzip,
  bzip2 and deflate text is compressed after the cut (`compress`); zstd is
  compressed by DuckDB after it. SINGLE = TRUE is one file, checked compressed.
- **PARTITION BY <expr>** (Databend: ``PARTITION BY ( <expr> )``): rows go under
  ``<folder>/<value of expr>/`` (``_NULL_`` when it is NULL), numbered from 0 in each
  partition, each partition cut by MAX_FILE_SIZE (DuckDB's partitioned writer does not
  keep an ORDER BY within a partition); a value with a ``..`` segment, and what Databend
  refuses under ``stage_dialect=databend``, are refused (`partitions`).
- **Databend's names**: under ``stage_dialect=databend`` the files are numbered as
  Databend numbers them, ``data_<uuid>_0000_00000000.parquet``, ``..._00000001...``.
- **OVERWRITE = FALSE** (default): any existing file with a name this unload would write
  is Snowflake's "Files already existing" error, before anything is written; TRUE
  replaces the same-named files and leaves the others.
- **No rows**: no file, and ``rows_unloaded`` 0.
- **Results**: ``rows_unloaded, input_bytes, output_bytes``: ``output_bytes`` is the sum
  of the file sizes; ``input_bytes`` is the size before compression: the plain size
  of each file the runtime compressed (known while compressing it), Parquet's
  ``total_uncompressed_size``
  (``parquet_metadata``), and the file size otherwise (ZSTD and uncompressed files).
  ``DETAILED_OUTPUT = TRUE`` gives one row per file instead: ``file_name`` (the key in
  the stage), ``file_size`` and ``row_count`` (the rows of each range for Parquet, the
  delimiters counted while cutting text; otherwise DuckDB reads the files back).
- **VALIDATION_MODE = RETURN_ROWS**: the query's rows are the result and nothing is
  written.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from sqla_stage.copy import CopyInto
from sqla_stage.errors import StageOperationalError, StageProgrammingError
from sqla_stage.formats import Parquet
from sqla_stage.runtime.catalog.namespaces import table_sql
from sqla_stage.runtime.engine import progress
from sqla_stage.runtime.engine.context import Place, StageContext
from sqla_stage.runtime.engine.duckdb_errors import first_line
from sqla_stage.runtime.engine.literals import literal, quote, text_list
from sqla_stage.runtime.engine.results import BIGINT, VARCHAR, Column, Query, Rows
from sqla_stage.runtime.queries.functions import translate
from sqla_stage.runtime.queries.sources import DUCKDB_DIALECT, embedded_query
from sqla_stage.runtime.storage.client_encryption import TAG_BYTES
from sqla_stage.runtime.storage.compressions import Codec
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX, StageStorage
from sqla_stage.runtime.unload import partitions as unload_partitions
from sqla_stage.runtime.unload.checks import check_unload
from sqla_stage.runtime.unload.compress import compress_files
from sqla_stage.runtime.unload.files import (
    WrittenFile,
    collect,
    join_key,
    name_files,
    publish,
    scratch_area,
)
from sqla_stage.runtime.unload.formats import writer_for
from sqla_stage.runtime.unload.publish_journal import journal
from sqla_stage.runtime.unload.sizes import DUCKDB_COMPRESSED, fit, ordered, parallel_options
from sqla_stage.runtime.unload.writer import FileWriter, SourceColumn
from sqla_stage.stage import StagePath

UNLOAD_COLUMNS = [
    Column("rows_unloaded", BIGINT),
    Column("input_bytes", BIGINT),
    Column("output_bytes", BIGINT),
]
DETAILED_COLUMNS = [
    Column("file_name", VARCHAR),
    Column("file_size", BIGINT),
    Column("row_count", BIGINT),
]
DEFAULT_MAX_FILE_SIZE = 16_000_000
DEFAULT_PREFIX = "data_"
SINGLE_NAME = "data"
PARTITION_COLUMN = "__partition"
#: How a file's number is written in its name: Snowflake's ``0_0_<n>``, and Databend's.
SNOWFLAKE_NUMBERS = "0_0_{}"
DATABEND_NUMBERS = "0000_{:08d}"
#: A quoted path into a scratch area, in DuckDB's messages.
_SCRATCH_PATH = re.compile(rf'"[^"]*{re.escape(SCRATCH_PREFIX)}[^"]*"')

#: Compiles a construct's source to DuckDB SQL with ``$n`` parameters.


@dataclass(frozen=True)
class Target:
    """Where the files go: a place, the folder key in it, and the path's last segment."""

    place: Place
    folder: str
    name: str

    @property
    def storage(self) -> StageStorage:
        """The destination's storage."""
        return self.place.storage


@dataclass(frozen=True)
class Source:
    """The unloaded rows: a SELECT, the same as a FROM item, and its parameters."""

    query: str
    relation: str
    parameters: list[Any]


def _rows_to_validate(context: StageContext, source: Source) -> Query:
    """VALIDATION_MODE = RETURN_ROWS: the query's rows, written nowhere.

    Snowflake names the columns of that answer ``C1``, ``C2``, ... (its page shows them so);
    under ``stage_dialect=snowflake`` they are renamed, otherwise they keep the query's names.
    """
    if context.settings.stage_dialect != "snowflake":
        return Query(source.query, source.parameters or None)
    names = ", ".join(f"C{n}" for n in range(1, len(describe(context, source)) + 1))
    return Query(
        f"SELECT * FROM ({source.query}) AS rows_to_validate({names})", source.parameters or None
    )


def run(context: StageContext, element: CopyInto) -> Rows | Query:
    """COPY INTO <location> FROM <table | (query)>: write the files and describe them.

    Raises:
        StageRuntimeError: an unknown stage or named format, an option DuckDB cannot
            write, an existing file without OVERWRITE, SINGLE beyond MAX_FILE_SIZE.
    """
    target = resolve_target(context, element)
    spec = context.stage_format(target.place, element.file_format)
    source = compile_source(context, element)
    options = element.copy_options
    if options.get("validation_mode") is not None:
        return _rows_to_validate(context, source)
    single = options.get("single") is True
    dialect = context.settings.stage_dialect
    unload_partitions.check_options(element, dialect)
    if element.partition_by is not None:  # planned before writing: a bad one is refused
        unload_partitions.check_type(partition_type(context, element, source), dialect)
    header = options.get("header") is True or (dialect == "databend" and isinstance(spec, Parquet))
    writer = writer_for(spec, header, stage_dialect=dialect)
    detailed = options.get("detailed_output") is True
    columns = describe(context, source)
    check_unload(context, element, target.name, spec, columns, source.relation, source.parameters)
    title = f"COPY INTO {target.place.label}"
    with (
        journal(target.storage) as entry,
        scratch_area(target.storage, target.folder, target.place.label, entry) as scratch,
    ):
        try:
            with progress.tracked(context.cursor, title):
                limit = _max_file_size(element, target)
                files, total = write(context, element, source, columns, writer, scratch, limit)
            if writer.codec is not None and total:
                count_rows(context, writer, files, total, len(columns), detailed)
                compress(context, writer.codec, files, title)
        except duckdb.IOException as error:
            reason = _SCRATCH_PATH.sub("a scratch file", first_line(error))
            raise StageOperationalError(
                f"{title}: the files could not be written: {reason} (nothing was published)"
            ) from None
        except OSError as error:  # compressing: the message would name a scratch file
            raise StageOperationalError(
                f"{title}: the files could not be written: {error.strerror or error!r} "
                "(nothing was published)"
            ) from None
        if total == 0:
            return _result(detailed, [], 0)
        if single:
            check_single(files[0], element, target)
        unload_partitions.check_values(files)
        count_rows(context, writer, files, total, len(columns), detailed)
        files = [file for file in files if file.rows != 0]
        _name(element, target, writer, files, single, dialect)
        measure(context, writer, files, detailed)
        overwrite = options.get("overwrite") is True
        moved = 0 if target.storage.local else sum(file.size for file in files)
        with progress.bar(f"{title}: publishing", moved) as bar:
            publish(target.storage, files, overwrite, target.place.label, bar.update, entry)
    return _result(detailed, files, total)


def split_url(url: str) -> tuple[str, str]:
    """A URL location as its folder URL and the file-name prefix after the last ``/``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    folder, slash, name = rest.rpartition("/")
    if not slash:
        return url, ""
    return f"{scheme}{separator}{folder}/", name


def resolve_target(context: StageContext, element: CopyInto) -> Target:
    """The destination's storage, folder and last path segment.

    Raises:
        StageRuntimeError: the stage (or the table of ``@%t``) does not exist.
    """
    location = element.location
    if isinstance(location, StagePath):
        place = context.place(location)
        folder, _, name = place.prefix.rpartition("/")
        return Target(place, folder, name)
    if location is None:
        raise StageProgrammingError("COPY INTO <location>: no location")
    url, name = split_url(location)
    return Target(context.place(url, element.credentials, element.encryption), "", name)


def compile_source(context: StageContext, element: CopyInto) -> Source:
    """The source as DuckDB SQL with its parameters.

    A construct's ``select()`` is compiled here with ``$n`` parameters of its own; a
    parsed ``(query)`` is the statement's text, with the statement's parameters.
    """
    if element.table is not None:
        table = element.table
        name = table_sql(context.where(table.schema, f"table {table.name}"), table.name)
        return Source(f"SELECT * FROM {name}", name, [])
    if element.query is None:
        raise StageProgrammingError("COPY INTO <location>: no table or query to unload")
    embedded = embedded_query(
        context.parameters,
        element.query,
        "COPY INTO <location>",
        stage_dialect=context.settings.stage_dialect,
    )
    query, parameters = translate(context, embedded.sql), embedded.parameters
    return Source(query, f"({query}) AS {quote('_source')}", parameters)


def partition_sql(context: StageContext, element: CopyInto) -> str | None:
    """The PARTITION BY expression as DuckDB SQL over the source's columns."""
    if element.partition_by is None:
        return None
    compiled = element.partition_by.compile(
        dialect=DUCKDB_DIALECT, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    return translate(context, str(compiled))


def partition_type(context: StageContext, element: CopyInto, source: Source) -> str:
    """The DuckDB type of the PARTITION BY expression (planned, not run).

    Raises:
        StageProgrammingError: the expression does not bind over the source (a column it
            names is not one of the source's), named as written.
    """
    sql = f"DESCRIBE SELECT ({partition_sql(context, element)}) FROM {source.relation}"
    try:
        return str(context.run(sql, source.parameters).fetchall()[0][1])
    except duckdb.Error as error:
        raise StageProgrammingError(
            f"PARTITION BY {element.partition_by}: {first_line(error)} (the expression is "
            "over the source's columns; nothing was written)"
        ) from None


def describe(context: StageContext, source: Source) -> list[SourceColumn]:
    """The source's column names and DuckDB types (planned, not run)."""
    rows = context.run(f"DESCRIBE SELECT * FROM {source.relation}", source.parameters)
    return [SourceColumn(str(row[0]), str(row[1])) for row in rows.fetchall()]


def write(
    context: StageContext,
    element: CopyInto,
    source: Source,
    columns: Sequence[SourceColumn],
    writer: FileWriter,
    scratch: str,
    limit: int,
) -> tuple[list[WrittenFile], int]:
    """Run DuckDB's COPY into the scratch area; the files and the rows written.

    ``limit`` is the most bytes a file may hold here (`_max_file_size`).

    Raises:
        duckdb.IOException: DuckDB could not write a file (a full disk).
    """
    single = element.copy_options.get("single") is True
    items = writer.select_items(columns)
    partition = partition_sql(context, element)
    placement = []
    if partition is not None:
        value = f"coalesce(CAST(({partition}) AS VARCHAR), '_NULL_')"
        items.append(f"{value} AS {quote(PARTITION_COLUMN)}")
        placement = [f"PARTITION_BY ({quote(PARTITION_COLUMN)})", "FILENAME_PATTERN 'part_{i}'"]
    parallel = None
    if not single and partition is None and not ordered(context.run, source.query):
        parallel = parallel_options(writer, limit)
    if parallel is not None:  # no order to keep: DuckDB's threads write files near the limit
        placement = parallel
    output = os.path.join(scratch, "out")
    select = f"SELECT {', '.join(items)} FROM {source.relation}"
    options = writer.copy_options(columns)
    if not single and writer.compression in DUCKDB_COMPRESSED:  # compressed once cut
        options = [re.sub(r"^COMPRESSION .*", "COMPRESSION 'uncompressed'", o) for o in options]
    sql = f"COPY ({select}) TO {literal(output)} ({', '.join([*options, *placement])})"
    stats = context.run(sql, source.parameters).fetchall()
    if partition is None and parallel is None:
        files = [WrittenFile(output)] if os.path.isfile(output) else []
    else:
        files = collect(output, None if parallel is not None else PARTITION_COLUMN)
    if writer.duckdb_format != "parquet":
        total = int(stats[0][0]) if stats else 0
    else:
        counts = {os.path.normpath(str(row[0])): int(row[1]) for row in stats}
        for file in files:
            file.rows = counts.get(os.path.normpath(file.path), 0)
        total = sum(counts.values())
    if not single and total:
        workers = int(context.run("SELECT current_setting('threads')").fetchone()[0])
        files = fit(context.run, files, writer, limit, total, workers)
    return files, total


def _max_file_size(element: CopyInto, target: Target) -> int:
    """The most bytes a file may hold before it is stored.

    MAX_FILE_SIZE, less the GCM tag that client-side encryption (``AWS_CSE``) adds to
    the stored object.
    """
    given = element.copy_options.get("max_file_size")
    limit = given if isinstance(given, int) else DEFAULT_MAX_FILE_SIZE
    return limit - TAG_BYTES if target.storage.client_key is not None else limit


def check_single(file: WrittenFile, element: CopyInto, target: Target) -> None:
    """SINGLE = TRUE: the file as stored (compressed, encrypted) must fit in MAX_FILE_SIZE.

    Raises:
        StageRuntimeError: it does not (Snowflake's error).
    """
    max_size = element.copy_options.get("max_file_size") or DEFAULT_MAX_FILE_SIZE
    if os.path.getsize(file.path) > _max_file_size(element, target):
        raise StageProgrammingError(
            f"Max file size ({max_size}) exceeded for unload single file mode. "
            "We recommend that you increase the max file size parameter, or disable "
            "single-file mode in the unload command and combine the unloaded files into "
            "a single file after you download them."
        )


def compress(context: StageContext, codec: Codec, files: Sequence[WrittenFile], title: str) -> None:
    """Compress the plain files DuckDB wrote (`compress`), on DuckDB's threads.

    Their rows are counted before (DuckDB cannot read bzip2 or deflate back).

    Raises:
        OSError: a file cannot be read or written.
    """
    workers = int(context.run("SELECT current_setting('threads')").fetchone()[0])
    total = sum(os.path.getsize(file.path) for file in files)
    with progress.bar(f"{title}: compressing", total) as bar:
        compressed = compress_files([file.path for file in files], codec, workers, bar.update)
    for file, (path, plain_size) in zip(files, compressed, strict=True):
        file.path, file.input_bytes = path, plain_size


def count_rows(
    context: StageContext,
    writer: FileWriter,
    files: Sequence[WrittenFile],
    total: int,
    width: int,
    detailed: bool,
) -> None:
    """Fill in each file's row count where it is needed and not known yet.

    Raises:
        StageRuntimeError: DuckDB cannot read the written files back to count them.
    """
    if len(files) == 1 and files[0].rows is None:
        files[0].rows = total
    if not detailed or all(file.rows is not None for file in files):
        return
    counted = writer.count_files([file.path for file in files])
    if counted is not None:
        for file in files:
            file.rows = counted[file.path]
        return
    query = writer.count_query([file.path for file in files], width)
    if query is None:
        raise StageProgrammingError(
            "DETAILED_OUTPUT = TRUE: DuckDB cannot read these delimiters back to count the "
            "rows of each file; unload into one file (SINGLE = TRUE) or use '\\n' records"
        )
    counts = {os.path.normpath(str(row[0])): int(row[1]) for row in context.run(query).fetchall()}
    for file in files:
        file.rows = counts.get(os.path.normpath(file.path), 0)


def _name(
    element: CopyInto,
    target: Target,
    writer: FileWriter,
    files: list[WrittenFile],
    single: bool,
    dialect: str | None,
) -> None:
    """Name the files; Databend's INCLUDE_QUERY_ID is TRUE unless the statement says not."""
    if single:
        files[0].key = join_key(target.folder, target.name or SINGLE_NAME)
        return
    include = element.copy_options.get("include_query_id")
    if include is None:
        include = dialect == "databend"
    query_id = str(uuid.uuid4()) if include is True else ""
    stem = target.name or DEFAULT_PREFIX
    if not stem.endswith("_"):  # Snowflake: @s/result writes result_0_0_0.csv.gz
        stem += "_"
    numbers = DATABEND_NUMBERS if dialect == "databend" else SNOWFLAKE_NUMBERS
    name_files(files, target.folder, stem, query_id, writer.extension, numbers)


def measure(
    context: StageContext, writer: FileWriter, files: Sequence[WrittenFile], detailed: bool
) -> None:
    """Each file's size, and (for the summary row) its size before compression."""
    for file in files:
        file.size = os.path.getsize(file.path)
        file.input_bytes = file.input_bytes or file.size  # set while compressing
    if detailed:
        return
    if writer.duckdb_format == "parquet":
        paths = text_list([file.path for file in files])
        rows = context.run(
            "SELECT file_name, sum(total_uncompressed_size) "
            f"FROM parquet_metadata({paths}) GROUP BY file_name"
        ).fetchall()
        sizes = {os.path.normpath(str(name)): int(size or 0) for name, size in rows}
        for file in files:
            file.input_bytes = sizes.get(os.path.normpath(file.path), file.size)


def _result(detailed: bool, files: Sequence[WrittenFile], total: int) -> Rows:
    if detailed:
        return Rows(DETAILED_COLUMNS, [[file.key, file.size, file.rows] for file in files])
    input_bytes = sum(file.input_bytes for file in files)
    output_bytes = sum(file.size for file in files)
    return Rows(UNLOAD_COLUMNS, [[total, input_bytes, output_bytes]])
