"""COPY INTO <table> (load) on the runtime.

What is loaded:
    The files under the location (a key prefix, as LIST lists them; a URL naming one file
    loads that file), narrowed by ``FILES`` (names relative to the location's path; a
    name that is not there is an error) and ``PATTERN`` (a regular expression that must
    match the whole key). A stage's ``COPY_OPTIONS`` are defaults for the statement's.
    The format is the statement's, else the stage's, else CSV.

How files map to columns (``MATCH_BY_COLUMN_NAME``):
    NONE (the default): CSV fields and Parquet columns by position, into the column list
    or every column of the table; JSON keys by their exact names (JSON has no positions).
    CASE_SENSITIVE / CASE_INSENSITIVE: columns by name; file columns with no table column
    are ignored and table columns with no file column get their default. For CSV the
    names come from the header line, which is the last line SKIP_HEADER skips (so
    SKIP_HEADER must be at least 1; Snowflake's PARSE_HEADER has no counterpart here).
    DuckDB unifies the files' columns ignoring case, so CASE_SENSITIVE distinguishes
    case between the files and the table, not between two files. A NOT NULL column
    without a default that the load does not fill is refused before anything runs.

How it runs (`read` builds the SQL):
    ON_ERROR = ABORT_STATEMENT (the default) loads every file with ONE
    ``INSERT INTO t (...) SELECT ... FROM read_xxx([...])``, typed by the table's columns.
    Rows per file then come from the Parquet footers (``parquet_file_metadata``, no data
    read), from the INSERT's own count when there is one file, and otherwise from a
    ``SELECT filename, count(*)`` over the CSV / JSON files, which tokenizes without
    converting and cost about a third of the INSERT in measurements (loading each file
    with its own INSERT cost twice as much with many files). When the INSERT fails the
    user's transaction is already aborted (DuckDB); the files are then checked on a side
    connection so the error names the file, line and column.

    CONTINUE and SKIP_FILE[_n[%]] (Snowflake's semantics) never let DuckDB raise inside
    the user's transaction: the files are first checked on a side connection (rows
    parsed, rows in error, the first error; a file DuckDB cannot read at all fails
    alone), the files to load are decided, and one INSERT reads them with DuckDB's
    ``ignore_errors`` / ``TRY_CAST`` so that exactly the good rows are loaded. The files
    are read twice. Constraint violations other than NOT NULL (primary keys, CHECK) are
    not row errors: DuckDB aborts the statement whatever ON_ERROR says.

    VALIDATION_MODE checks on the side connection and loads nothing: RETURN_ERRORS (the
    files a load would load) and RETURN_ALL_ERRORS (also those already loaded) return one
    row an error; RETURN_<n>_ROWS returns the first n rows as the table's columns, or
    fails with the first error among them.

Load history:
    A file is identified by its URL (the storage's protocol and path, no credentials)
    and its size plus its ETag / MD5 where the storage gives one, else its modification
    time. A file already loaded into the table with the same identity is skipped unless
    FORCE = TRUE; when every file is skipped the result has no rows (Snowflake's
    "0 files processed"). History rows are written in the user's transaction, with the
    loaded rows: a rolled-back load leaves neither. LOADED and PARTIALLY_LOADED files are
    recorded; PURGE = TRUE removes the LOADED ones once the transaction commits (a
    rollback keeps them; a purge that fails is ignored, as in Snowflake):
    `engine.after_commit`. The history is keyed by the table's ``schema.name`` and follows the
    table through DROP, CREATE [OR REPLACE] and RENAME: `catalog.table_history`.

Result: one row a file, Snowflake's columns (`RESULT_COLUMNS`); ``file`` is the key
as LIST shows it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any

import duckdb

from sqla_stage.copy import CopyInto
from sqla_stage.errors import (
    StageDataError,
    StageOperationalError,
    StageProgrammingError,
    StageRuntimeError,
)
from sqla_stage.options import Keyword
from sqla_stage.runtime.catalog.history import loaded_files, record_loads
from sqla_stage.runtime.catalog.namespaces import table_sql
from sqla_stage.runtime.engine import progress
from sqla_stage.runtime.engine.context import Place, StageContext
from sqla_stage.runtime.engine.duckdb_errors import error_class, first_line
from sqla_stage.runtime.engine.duckdb_formats import refuse_parquet_as_text
from sqla_stage.runtime.engine.literals import quote
from sqla_stage.runtime.engine.results import BIGINT, VARCHAR, Column, Query, Rows
from sqla_stage.runtime.load.checks import (
    SNOWFLAKE_VALIDATION_COLUMNS,
    VALIDATION_COLUMNS,
    FileStats,
    analyse,
    named,
    validate,
    where,
)
from sqla_stage.runtime.load.plan import (
    LoadOptions,
    SideConnection,
    StagedFile,
    Target,
    table_columns,
)
from sqla_stage.runtime.load.read import Reader, make_reader
from sqla_stage.runtime.load.transform import insert_transformed
from sqla_stage.runtime.load.variants import variant_check
from sqla_stage.runtime.storage.errors import lost_connection
from sqla_stage.runtime.storage.patterns import compile_pattern
from sqla_stage.runtime.storage.read_compression import readable_path
from sqla_stage.runtime.storage.url_globs import brace_glob
from sqla_stage.runtime.storage.urls import refuse_query_string
from sqla_stage.stage import StageKind

#: A load with no file to load returns Snowflake's status row: it never looks like a load.
NO_FILES = "Copy executed with 0 files processed."
RESULT_COLUMNS = [
    Column("file", VARCHAR),
    Column("status", VARCHAR),
    Column("rows_parsed", BIGINT),
    Column("rows_loaded", BIGINT),
    Column("error_limit", BIGINT),
    Column("errors_seen", BIGINT),
    Column("first_error", VARCHAR),
    Column("first_error_line", BIGINT),
    Column("first_error_character", BIGINT),
    Column("first_error_column_name", VARCHAR),
]
LOADED, PARTIALLY_LOADED, LOAD_FAILED = "LOADED", "PARTIALLY_LOADED", "LOAD_FAILED"
_SKIP_FILE = re.compile(r"SKIP_FILE_(\d+)(%?)")


def run(context: StageContext, element: CopyInto) -> Rows | Query:
    """COPY INTO <table>: load staged files; see the module docstring."""
    target = _target(context, element)
    if element.query is not None:
        return _transform(context, element, target)
    assert element.location is not None
    place, brace_pattern = _place(context, element)
    options = _options(context, element, place, brace_pattern)
    spec = context.stage_format(place, element.file_format)
    files = _files(place, options)
    if options.validation != "RETURN_ALL_ERRORS" and not options.force:
        files = _not_loaded(context, target, files)
    files = _size_limited(files, options.size_limit)
    snowflake = context.settings.stage_dialect == "snowflake"
    if not files:
        if options.validation is None:  # Snowflake's answer, so no load looks like a success
            return Rows([Column("status", VARCHAR)], [[NO_FILES]])
        if options.validation.endswith("_ROWS"):
            return Rows([Column(c.name, c.type) for c in target.fill])
        return Rows(SNOWFLAKE_VALIDATION_COLUMNS if snowflake else VALIDATION_COLUMNS)
    refuse_parquet_as_text(f"COPY INTO {target.name}", place.storage, files[0].key, spec)
    try:  # a file may be read here (its compression, its escapes): the storage may be gone
        files = [
            dataclasses.replace(f, path=readable_path(context, place.storage, spec, f.key))
            for f in files
        ]
    except StageOperationalError as error:
        if not lost_connection(error):
            raise
        raise StageOperationalError(
            f"COPY INTO {target.name} from {place.label}: the storage stopped answering: "
            f"{error} (nothing was loaded)"
        ) from None
    side = SideConnection(context.cursor)
    try:
        with place.storage.pinned(f.info for f in files):
            if options.validation is None:
                check = variant_check(
                    target.fill, context.settings.stage_dialect, options.disable_variant_check
                )
                target = dataclasses.replace(target, variants=check)
            fill = target.variants.read_targets(target.fill) if target.variants else target.fill
            paths, dialect = [f.path for f in files], context.settings.stage_dialect
            reader = make_reader(side(), spec, fill, paths, options.match, dialect)
            _check_unfilled(target, reader)
            if options.validation is not None:
                keyed = [(f.path, f.key) for f in files]
                return validate(side(), reader, keyed, options.validation, snowflake=snowflake)
            if options.on_error == "ABORT_STATEMENT":
                results = _load_all(context, target, reader, files, side, place.label)
            else:
                results = _load_tolerant(context, target, reader, files, side(), options.on_error)
    except duckdb.Error as error:
        if not lost_connection(error):
            raise
        raise StageOperationalError(
            f"COPY INTO {target.name} from {place.label}: the storage stopped answering: "
            f"{named(first_line(error), {f.path: f.key for f in files})} (nothing was loaded)"
        ) from None
    finally:
        side.close()
    loaded = [(f, row) for f, row in zip(files, results, strict=True) if row[1] != LOAD_FAILED]
    record_loads(
        context.registry.cursor,
        target.name,
        catalog=target.catalog,
        loads=[(f.url, f.info.size, f.info.md5, f.info.last_modified, row[3]) for f, row in loaded],
    )
    if options.purge:
        purged = [f.key for f, row in loaded if row[1] == LOADED]
        context.after_commit(lambda: place.storage.remove(purged))
    return Rows(RESULT_COLUMNS, results)


# What the statement names


def _target(context: StageContext, element: CopyInto) -> Target:
    table = element.table
    assert table is not None
    label = f"{table.schema}.{table.name}" if table.schema else table.name
    found = table_columns(context, table)
    if found is None:
        raise StageProgrammingError(f"COPY INTO {label}: table {label} does not exist")
    where, name, columns = found
    fill = columns
    if element.columns:
        by_name = {column.name.lower(): column for column in columns}
        unknown = [c for c in element.columns if c.lower() not in by_name]
        if unknown:
            raise StageProgrammingError(
                f"COPY INTO {label}: no column {', '.join(map(repr, unknown))} in {label}"
            )
        if len({c.lower() for c in element.columns}) != len(element.columns):
            raise StageProgrammingError(f"COPY INTO {label}: a column is listed twice")
        fill = tuple(by_name[c.lower()] for c in element.columns)
    history_name = f"{where.schema}.{name}"
    return Target(table_sql(where, name), history_name, columns, fill, catalog=where.catalog)


def _place(context: StageContext, element: CopyInto) -> tuple[Place, str | None]:
    """Where the files are, and the PATTERN of a URL's brace alternatives (`storage.url_globs`).

    A URL's last segment is a name prefix, as a stage path's is.
    """
    location = element.location
    assert location is not None
    if isinstance(location, str):
        refuse_query_string(location)
    if isinstance(location, str) and not location.endswith("/"):
        scheme, _, rest = location.rpartition("://")
        folder, _, name = rest.rpartition("/")
        if folder and name and not location.lower().startswith("stage://"):
            url = f"{scheme}://{folder}/" if scheme else f"{folder}/"
            storage = context.place(url, element.credentials, element.encryption).storage
            braces = brace_glob(name)
            if braces is not None:
                return Place(storage, braces.prefix, None), braces.pattern
            return Place(storage, name, None), None
    return context.place(location, element.credentials, element.encryption), None


def _options(
    context: StageContext, element: CopyInto, place: Place, brace_pattern: str | None
) -> LoadOptions:
    given: dict[str, Any] = {}
    stage = place.stage
    if stage is not None and stage.kind in (StageKind.INTERNAL, StageKind.EXTERNAL):
        given.update(context.registered_stage(stage).copy_options)
    given.update(element.copy_options)
    if brace_pattern is not None:
        if "pattern" in given or "files" in given:
            raise StageProgrammingError(
                "COPY INTO: a URL with {a,b} alternatives names its files; it cannot be "
                "combined with PATTERN or FILES"
            )
        given["pattern"] = brace_pattern
    files = given.get("files")
    validation = given.get("validation_mode")
    size_limit = given.get("size_limit")
    return LoadOptions(
        files=tuple(files) if isinstance(files, tuple) else None,
        pattern=given.get("pattern") if isinstance(given.get("pattern"), str) else None,
        on_error=str(given.get("on_error", "ABORT_STATEMENT")),
        force=given.get("force") is True,
        purge=given.get("purge") is True,
        match=str(given.get("match_by_column_name", Keyword("NONE"))),
        validation=str(validation) if validation is not None else None,
        size_limit=size_limit if isinstance(size_limit, int) else None,
        disable_variant_check=given.get("disable_variant_check") is True,
    )


def _files(place: Place, options: LoadOptions) -> list[StagedFile]:
    storage = place.storage
    regex = compile_pattern(options.pattern)
    if options.files is None:
        infos = place.files(options.pattern, checksums=False)
    else:
        base = place.prefix
        if base and not base.endswith("/"):
            base += "/"
        listed = {info.name: info for info in storage.list(base, checksums=False)}
        given = {base + name.lstrip("/"): name for name in options.files}
        keys = list(given)
        missing = [f"{given[key]!r} (key {key!r})" for key in keys if key not in listed]
        if missing:
            raise StageProgrammingError(
                f"COPY INTO: FILES {', '.join(missing)} not found in {place.label}: FILES "
                "names files below the stage location, never a path outside the stage"
            )
        infos = [listed[key] for key in place.matching(regex, keys)]
    return [StagedFile(info.name, *storage.located(info.name), info) for info in infos]


def _not_loaded(context: StageContext, target: Target, files: list[StagedFile]) -> list[StagedFile]:
    loaded = loaded_files(
        context.registry.cursor,
        target.name,
        [(f.url, f.info.size, f.info.md5, f.info.last_modified) for f in files],
        target.catalog,
    )
    return [f for f in files if f.url not in loaded]


def _size_limited(files: list[StagedFile], limit: int | None) -> list[StagedFile]:
    """SIZE_LIMIT: files in order until the total passes the limit (at least one file)."""
    if limit is None:
        return files
    chosen: list[StagedFile] = []
    total = 0
    for f in files:
        if chosen and total >= limit:
            break
        chosen.append(f)
        total += f.info.size
    return chosen


def _check_unfilled(target: Target, reader: Reader) -> None:
    filled = {name.lower() for name in reader.columns}
    missing = [
        c.name
        for c in target.columns
        if c.name.lower() not in filled and c.not_null and not c.has_default
    ]
    if missing:
        raise StageProgrammingError(
            f"COPY INTO {target.name}: column {', '.join(map(repr, missing))} is NOT NULL "
            "without a default, and the load does not fill it"
        )


# Loading


def _result(f: StagedFile, status: str, stats: FileStats, loaded: int, limit: int) -> list[Any]:
    return [
        f.key,
        status,
        stats.parsed,
        loaded,
        limit,
        stats.errors,
        named(stats.first_error, {f.path: f.key}),
        stats.line,
        stats.character,
        stats.column,
    ]


def _insert(context: StageContext, target: Target, reader: Reader, select: str) -> int:
    columns = ", ".join(quote(name) for name in reader.columns)
    if target.variants is None:
        row = context.run(f"INSERT INTO {target.sql} ({columns}) {select}").fetchone()
        return int(row[0]) if row else 0
    select = target.variants.select(select, reader.columns)
    try:
        row = context.run(f"INSERT INTO {target.sql} ({columns}) {select}").fetchone()
    except duckdb.ConversionException as error:
        raise StageDataError(
            f"COPY INTO {target.name}: error parsing JSON for a VARIANT column: "
            f"{first_line(error)}; Databend checks VARIANT values whatever ON_ERROR says "
            "(DISABLE_VARIANT_CHECK = TRUE stores an invalid one as null)"
        ) from None
    return int(row[0]) if row else 0


def _load_all(
    context: StageContext,
    target: Target,
    reader: Reader,
    files: list[StagedFile],
    side: SideConnection,
    label: str,
) -> list[list[Any]]:
    """ABORT_STATEMENT: one INSERT for every file, then the rows per file."""
    paths = [f.path for f in files]
    try:
        with progress.tracked(context.cursor, f"COPY INTO {target.name}"):
            total = _insert(context, target, reader, reader.fast(paths))
    except duckdb.Error as error:
        raise _abort_error(target, reader, files, side(), error, label) from None
    if len(files) == 1:
        counts = {paths[0]: total}
    else:
        counts = {path: int(n) for path, n in context.run(reader.counts(paths)).fetchall()}
    results = []
    for f in files:
        count = counts.get(f.path, 0)
        results.append(_result(f, LOADED, FileStats(parsed=count), count, 1))
    return results


def _abort_error(
    target: Target,
    reader: Reader,
    files: list[StagedFile],
    side: Any,
    error: duckdb.Error,
    label: str,
) -> StageRuntimeError:
    # An I/O error (storage unreachable, a file gone) is not in the data: reading every
    # file again to find a bad line would only repeat it, with the storage's retries.
    if lost_connection(error):
        raise error  # run() reports it: checking the files again would only repeat it
    io_error = isinstance(error, duckdb.IOException)
    stats = {} if io_error else analyse(side, reader, [f.path for f in files])
    for f in files:
        found = stats.get(f.path)
        if found is not None and found.errors:
            return StageDataError(
                f"COPY INTO {target.name}: {where(f.key, found, label)}: "
                f"{named(found.first_error, {f.path: f.key})} "
                "(ON_ERROR = ABORT_STATEMENT: nothing was loaded)"
            )
    message = named(first_line(error), {f.path: f.key for f in files})
    return error_class(error)(
        f"COPY INTO {target.name} from {label}: {message} "
        "(ON_ERROR = ABORT_STATEMENT: nothing was loaded)"
    )


def _error_limit(on_error: str, parsed: int) -> int:
    if on_error == "CONTINUE":
        return parsed
    if on_error == "SKIP_FILE":
        return 1
    match = _SKIP_FILE.fullmatch(on_error)
    if match is None:
        raise StageProgrammingError(f"ON_ERROR = {on_error} is not supported")
    number = int(match.group(1))
    return math.floor(parsed * number / 100) + 1 if match.group(2) else number


def _load_tolerant(
    context: StageContext,
    target: Target,
    reader: Reader,
    files: list[StagedFile],
    side: Any,
    on_error: str,
) -> list[list[Any]]:
    """CONTINUE / SKIP_FILE*: check every file, then load the good rows of those kept."""
    with progress.tracked(side, f"COPY INTO {target.name}: checking files"):
        stats = analyse(side, reader, [f.path for f in files])
    results: list[list[Any]] = []
    chosen: list[str] = []
    for f in files:
        found = stats.get(f.path) or FileStats()
        limit = _error_limit(on_error, found.parsed)
        good = found.parsed - found.errors
        skip = on_error != "CONTINUE" and found.errors >= limit
        if found.failed or skip or (found.errors and not good):
            results.append(_result(f, LOAD_FAILED, found, 0, limit))
            continue
        chosen.append(f.path)
        status = PARTIALLY_LOADED if found.errors else LOADED
        results.append(_result(f, status, found, good, limit))
    if chosen:
        try:
            with progress.tracked(context.cursor, f"COPY INTO {target.name}"):
                _insert(context, target, reader, reader.good_rows(chosen))
        except duckdb.Error as error:
            raise error_class(error)(
                f"COPY INTO {target.name}: {first_line(error)} (a constraint of the table, or "
                "the storage; ON_ERROR covers conversion, parsing and NOT NULL errors only)"
            ) from None
    return results


# Loads with transformation: COPY INTO t FROM (SELECT ... FROM @stage)


def _transform(context: StageContext, element: CopyInto, target: Target) -> Rows:
    """``INSERT INTO t [(cols)] <query>``: one result row, as the files are read in one."""
    count = insert_transformed(
        context, element, target.sql, target.name, target.fill, listed=bool(element.columns)
    )
    return Rows(RESULT_COLUMNS, [[None, LOADED, count, count, 1, 0, None, None, None, None]])


__all__: Sequence[str] = ("RESULT_COLUMNS", "VALIDATION_COLUMNS", "run")
