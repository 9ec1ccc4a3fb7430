"""The registry's tables (`registry`): their DDL, where they are, made when missing.

Also the load history's check query (`LOADED_FILES_SQL`), whose plan the tests pin.

The registry of the current database is its schema ``sqla_stage``; that of an attached
database ``db2`` is ``db2.sqla_stage`` (`sqla_stage.runtime.catalog.namespaces`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqla_stage.runtime.engine.literals import fetch_one, literal, quote

SCHEMA = "sqla_stage"

_TABLES = (
    """CREATE TABLE IF NOT EXISTS {tables}.stages (
        namespace VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        url VARCHAR, definition VARCHAR NOT NULL, comment VARCHAR, owner VARCHAR,
        created_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (namespace, name))""",
    """CREATE TABLE IF NOT EXISTS {tables}.file_formats (
        namespace VARCHAR NOT NULL, name VARCHAR NOT NULL, type VARCHAR NOT NULL,
        definition VARCHAR NOT NULL, comment VARCHAR, owner VARCHAR,
        created_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (namespace, name))""",
    """CREATE TABLE IF NOT EXISTS {tables}.load_history (
        table_name VARCHAR NOT NULL, file_url VARCHAR NOT NULL, size BIGINT,
        etag VARCHAR, last_modified TIMESTAMPTZ, rows_loaded BIGINT,
        loaded_on TIMESTAMPTZ NOT NULL)""",
    # One row a (table, file): concurrent loads of one file into one table conflict.
    """CREATE TABLE IF NOT EXISTS {tables}.load_claims (
        table_name VARCHAR NOT NULL, file_url VARCHAR NOT NULL,
        claimed_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_name, file_url))""",
    # The files ALTER STAGE ... REFRESH last registered, a stage's directory table.
    """CREATE TABLE IF NOT EXISTS {tables}.directory_files (
        namespace VARCHAR NOT NULL, name VARCHAR NOT NULL, key VARCHAR NOT NULL,
        fingerprint VARCHAR NOT NULL, PRIMARY KEY (namespace, name, key))""",
    """CREATE TABLE IF NOT EXISTS {tables}.connections (
        name VARCHAR NOT NULL PRIMARY KEY, storage_type VARCHAR NOT NULL,
        definition VARCHAR NOT NULL, owner VARCHAR, created_on TIMESTAMPTZ NOT NULL)""",
)


def _database(catalog: str | None) -> str:
    """The SQL naming ``catalog`` (None: the current database) in ``duckdb_*()`` filters."""
    return "current_database()" if catalog is None else literal(catalog)


def has_registry(dbapi_connection: Any, catalog: str | None = None) -> bool:
    """Whether the database (the current one, or the attached ``catalog``) has them all."""
    found = fetch_one(
        dbapi_connection,
        f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = {literal(SCHEMA)} "
        f"AND database_name = {_database(catalog)}",
    )[0]
    return bool(found == len(_TABLES))


def ensure_registry(dbapi_connection: Any, catalog: str | None = None) -> None:
    """Create the registry tables if the database does not have them yet.

    Args:
        dbapi_connection: A DuckDB connection or cursor.
        catalog: An attached database; None for the current one.
    """
    if has_registry(dbapi_connection, catalog):
        return
    read_only = fetch_one(
        dbapi_connection,
        f"SELECT readonly FROM duckdb_databases() WHERE database_name = {_database(catalog)}",
    )[0]
    if read_only:
        return
    tables = registry_tables(catalog)
    dbapi_connection.execute(f"CREATE SCHEMA IF NOT EXISTS {tables}")
    for statement in _TABLES:
        dbapi_connection.execute(statement.format(tables=tables))


def registry_tables(catalog: str | None) -> str:
    """The registry's schema in SQL: ``sqla_stage``, or ``"db2".sqla_stage`` for a catalog."""
    return SCHEMA if catalog is None else f"{quote(catalog)}.{SCHEMA}"


#: The FORCE = FALSE check: a hash join on (url, size), then the ETag or time test (in
#: the join's condition, the CASE made DuckDB join block by block: 24 s at 500k rows).
LOADED_FILES_SQL = (
    "SELECT DISTINCT f.url FROM (SELECT unnest(?::VARCHAR[]) AS url, unnest(?::BIGINT[]) "
    "AS size, unnest(?::VARCHAR[]) AS md5, unnest(?::BIGINT[]) AS modified) AS f JOIN "
    "(SELECT file_url, size, etag, last_modified FROM {tables}.load_history WHERE "
    "table_name = ?) AS h ON h.file_url = f.url AND h.size = f.size WHERE CASE WHEN "
    "coalesce(h.etag, '') <> '' AND coalesce(f.md5, '') <> '' THEN h.etag = f.md5 "
    "ELSE epoch_us(h.last_modified) = f.modified END"
)


def micros(moment: dt.datetime | None) -> int | None:
    """Microseconds since the epoch, exactly (DuckDB's ``epoch_us``); naive is UTC."""
    if moment is None:
        return None
    epoch = dt.datetime(1970, 1, 1, tzinfo=moment.tzinfo and dt.UTC)
    return (moment - epoch) // dt.timedelta(microseconds=1)
