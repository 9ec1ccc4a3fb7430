"""The load history of a table: which staged files it already holds, and recording loads.

A ``FORCE = FALSE`` load skips the files `loaded_files` finds (one hash join in DuckDB of
the statement's files against the table's history); a load records what it loaded with
`record_loads` (one INSERT of list parameters, whatever the number of files). The
history's tables are in `tables`; it follows its table through DROP, CREATE
[OR REPLACE] and RENAME (`table_history`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from sqla_stage.errors import StageOperationalError
from sqla_stage.runtime.catalog.tables import (
    LOADED_FILES_SQL,
    ensure_registry,
    has_registry,
    micros,
    registry_tables,
)
from sqla_stage.runtime.engine.literals import inline


def _rows(cursor: Any, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cursor.execute(inline(sql, parameters))
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def loaded_files(
    cursor: Any, table_name: str, files: Sequence[tuple[Any, ...]], catalog: str | None = None
) -> set[str]:
    """Which of ``files`` are in ``table_name``'s history as they are now: their urls.

    Each file is ``(file_url, size, md5, last_modified)``; it was loaded when a
    history entry of its url has its size and, where both have one, its ETag / MD5,
    else its modification time (a table in database ``catalog`` has its history there).
    The files are a relation hash-joined to the history in DuckDB (one scan of the
    table's history, not a search of the url list per history row).
    """
    if not files or (catalog is not None and not has_registry(cursor, catalog)):
        return set()
    columns = [list(column) for column in zip(*files, strict=True)]
    columns[3] = [micros(value) for value in columns[3]]  # DuckDB reads them faster
    sql = LOADED_FILES_SQL.format(tables=registry_tables(catalog))
    rows = _rows(cursor, sql, [*columns, table_name])
    return {row[0] for row in rows}


def record_loads(
    cursor: Any, table_name: str, loads: Sequence[tuple[Any, ...]], catalog: str | None = None
) -> None:
    """Record loaded files: each ``(file_url, size, etag, last_modified, rows_loaded)``.

    One INSERT of list parameters, whatever the number of files. Each file's row in
    ``load_claims`` is replaced too, so two transactions loading one file into one
    table conflict (DuckDB refuses the second delete, or the second commit) instead
    of both loading it.

    Raises:
        StageRuntimeError: another transaction is loading one of the files.
    """
    if not loads:
        return
    if catalog is not None:
        ensure_registry(cursor, catalog)
    tables = registry_tables(catalog)
    columns = list(zip(*loads, strict=True))
    urls = list(columns[0])
    try:
        _rows(
            cursor,
            f"DELETE FROM {tables}.load_claims WHERE table_name = ? "
            "AND file_url IN (SELECT unnest(?::VARCHAR[]))",
            [table_name, urls],
        )
        _rows(
            cursor,
            f"INSERT INTO {tables}.load_claims SELECT ?, unnest(?::VARCHAR[]), ?",
            [table_name, urls, _now()],
        )
    except (duckdb.TransactionException, duckdb.ConstraintException) as error:
        raise StageOperationalError(
            f"COPY INTO {table_name}: another transaction is loading the same files "
            f"({error}); roll back and run the load again to load the files it did not"
        ) from None
    _rows(
        cursor,
        f"INSERT INTO {tables}.load_history SELECT ?, unnest(?::VARCHAR[]), "
        "unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMPTZ[]), "
        "unnest(?::BIGINT[]), ?",
        [table_name, *(list(column) for column in columns), _now()],
    )
