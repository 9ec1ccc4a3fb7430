"""The runtime's catalog: stages, file formats, connections and load history, in DuckDB tables.

They live in the schema ``sqla_stage`` of the user's own database, so a stage created in
a transaction exists exactly when that transaction commits, stages persist in a database
file, and a load's history commits with the rows it loaded. A definition is kept as the
canonical ``CREATE STAGE`` / ``FILE FORMAT`` / ``CONNECTION`` text (with the real secrets,
which only DESC / SHOW's masked columns show), parsed back on lookup, so the
registry and the SQL the package renders can never disagree.

Every statement here is a fixed template whose values are inlined as typed literals
(`literals`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from sqla_stage.connections import CreateConnection
from sqla_stage.ddl import ALTERABLE, CreateFileFormat, CreateStage
from sqla_stage.errors import StageOperationalError
from sqla_stage.formats import FormatSpec
from sqla_stage.runtime.literals import inline, literal
from sqla_stage.stage import Stage

SCHEMA = "sqla_stage"

_TABLES = (
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.stages (
        namespace VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        url VARCHAR, definition VARCHAR NOT NULL, comment VARCHAR, owner VARCHAR,
        created_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (namespace, name))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.file_formats (
        namespace VARCHAR NOT NULL, name VARCHAR NOT NULL, type VARCHAR NOT NULL,
        definition VARCHAR NOT NULL, comment VARCHAR, owner VARCHAR,
        created_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (namespace, name))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.load_history (
        table_name VARCHAR NOT NULL, file_url VARCHAR NOT NULL, size BIGINT,
        etag VARCHAR, last_modified TIMESTAMPTZ, rows_loaded BIGINT,
        loaded_on TIMESTAMPTZ NOT NULL)""",
    # One row a (table, file): concurrent loads of one file into one table conflict.
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.load_claims (
        table_name VARCHAR NOT NULL, file_url VARCHAR NOT NULL,
        claimed_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_name, file_url))""",
    # The files ALTER STAGE ... REFRESH last registered, a stage's directory table.
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.directory_files (
        namespace VARCHAR NOT NULL, name VARCHAR NOT NULL, key VARCHAR NOT NULL,
        fingerprint VARCHAR NOT NULL, PRIMARY KEY (namespace, name, key))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.connections (
        name VARCHAR NOT NULL PRIMARY KEY, storage_type VARCHAR NOT NULL,
        definition VARCHAR NOT NULL, owner VARCHAR, created_on TIMESTAMPTZ NOT NULL)""",
)


def ensure_registry(dbapi_connection: Any) -> None:
    """Create the registry tables if this database does not have them yet."""
    found = dbapi_connection.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = {literal(SCHEMA)} "
        "AND database_name = current_database()"
    ).fetchone()[0]
    if found == len(_TABLES):
        return
    read_only = dbapi_connection.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    if read_only:
        return
    dbapi_connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for statement in _TABLES:
        dbapi_connection.execute(statement)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class StageRecord:
    """One registered stage."""

    stage: Stage
    owner: str | None
    created_on: dt.datetime


@dataclass(frozen=True)
class FormatRecord:
    """One registered named file format."""

    namespace: str
    name: str
    format: FormatSpec
    comment: str | None
    owner: str | None
    created_on: dt.datetime


class Registry:
    """The registry tables, through one DuckDB cursor (the statement's transaction)."""

    def __init__(self, cursor: Any, user: str) -> None:
        """Work through ``cursor`` on behalf of ``user``."""
        self.cursor = cursor
        self.user = user

    def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(inline(sql, parameters))
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    # Stages

    def stage(self, namespace: str | None, name: str) -> StageRecord | None:
        """The stage of that name, or None."""
        rows = self._rows(
            f"SELECT definition, owner, created_on FROM {SCHEMA}.stages "
            "WHERE namespace = ? AND name = ?",
            [namespace or "", name],
        )
        if not rows:
            return None
        return _stage_record(*rows[0])

    def stages(self, like: str | None = None) -> list[StageRecord]:
        """All stages, by name; ``like`` is a SQL LIKE pattern on the name."""
        rows = self._rows(
            f"SELECT definition, owner, created_on FROM {SCHEMA}.stages "
            "WHERE ? IS NULL OR name ILIKE ? ORDER BY namespace, name",
            [like, like],
        )
        return [_stage_record(*row) for row in rows]

    def stage_names(self) -> list[str]:
        """Every stage's name as a statement gives it (``name`` or ``schema.name``)."""
        rows = self._rows(
            f"SELECT CASE namespace WHEN '' THEN name ELSE namespace || '.' || name END "
            f"FROM {SCHEMA}.stages ORDER BY 1"
        )
        return [row[0] for row in rows]

    def add_stage(self, stage: Stage) -> None:
        """Register ``stage`` (the caller checked that the name is free)."""
        self._rows(
            f"INSERT INTO {SCHEMA}.stages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                stage.schema or "",
                stage.name,
                stage.kind.value,
                stage.url,
                str(CreateStage(stage).compile()),
                stage.comment,
                self.user,
                _now(),
            ],
        )

    def update_stage(self, stage: Stage) -> None:
        """Store the new definition of a registered stage (its owner and date stay)."""
        self._rows(
            f"UPDATE {SCHEMA}.stages SET kind = ?, url = ?, definition = ?, comment = ? "
            "WHERE namespace = ? AND name = ?",
            [
                stage.kind.value,
                stage.url,
                str(CreateStage(stage).compile()),
                stage.comment,
                stage.schema or "",
                stage.name,
            ],
        )

    def rename_stage(self, stage: Stage, target: Stage) -> None:
        """Give a registered stage the name (and namespace) of ``target``."""
        renamed = Stage(
            target.name,
            schema=target.schema,
            temporary=stage.temporary,
            _kind=stage.kind,
            **{name: getattr(stage, name) for name in (*ALTERABLE, "directory_options")},
        )
        self._rows(
            f"UPDATE {SCHEMA}.directory_files SET namespace = ?, name = ? "
            "WHERE namespace = ? AND name = ?",
            [target.schema or "", target.name, stage.schema or "", stage.name],
        )
        self._rows(
            f"UPDATE {SCHEMA}.stages SET namespace = ?, name = ?, definition = ? "
            "WHERE namespace = ? AND name = ?",
            [
                target.schema or "",
                target.name,
                str(CreateStage(renamed).compile()),
                stage.schema or "",
                stage.name,
            ],
        )

    def directory(self, stage: Stage, prefix: str) -> dict[str, str]:
        """The registered files of ``stage``'s directory below ``prefix``: key -> fingerprint."""
        rows = self._rows(
            f"SELECT key, fingerprint FROM {SCHEMA}.directory_files "
            "WHERE namespace = ? AND name = ? AND starts_with(key, ?)",
            [stage.schema or "", stage.name, prefix],
        )
        return dict(rows)

    def register_directory(self, stage: Stage, prefix: str, files: dict[str, str]) -> None:
        """Make ``files`` (key -> fingerprint) the registered files below ``prefix``."""
        where = "namespace = ? AND name = ? AND starts_with(key, ?)"
        names = [stage.schema or "", stage.name]
        self._rows(f"DELETE FROM {SCHEMA}.directory_files WHERE {where}", [*names, prefix])
        if files:
            columns = "unnest(?::VARCHAR[]), unnest(?::VARCHAR[])"
            self._rows(
                f"INSERT INTO {SCHEMA}.directory_files SELECT ?, ?, {columns}",
                [*names, list(files), list(files.values())],
            )

    def drop_stage(self, namespace: str | None, name: str) -> bool:
        """Unregister a stage (and its directory); whether it existed."""
        self._rows(
            f"DELETE FROM {SCHEMA}.directory_files WHERE namespace = ? AND name = ?",
            [namespace or "", name],
        )
        rows = self._rows(
            f"DELETE FROM {SCHEMA}.stages WHERE namespace = ? AND name = ? RETURNING name",
            [namespace or "", name],
        )
        return bool(rows)

    # File formats

    def file_format(self, namespace: str | None, name: str) -> FormatRecord | None:
        """The named file format, or None."""
        rows = self._rows(
            f"SELECT namespace, name, definition, comment, owner, created_on "
            f"FROM {SCHEMA}.file_formats WHERE namespace = ? AND name = ?",
            [namespace or "", name],
        )
        return _format_record(*rows[0]) if rows else None

    def file_formats(self) -> list[FormatRecord]:
        """All named file formats, by name."""
        rows = self._rows(
            f"SELECT namespace, name, definition, comment, owner, created_on "
            f"FROM {SCHEMA}.file_formats ORDER BY namespace, name"
        )
        return [_format_record(*row) for row in rows]

    def add_file_format(self, element: CreateFileFormat) -> None:
        """Register a named file format (the caller checked that the name is free)."""
        self._rows(
            f"INSERT INTO {SCHEMA}.file_formats VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                element.name.schema or "",
                element.name.name,
                element.file_format.type_name,
                str(element.compile()),
                element.comment,
                self.user,
                _now(),
            ],
        )

    def update_file_format(self, element: CreateFileFormat) -> None:
        """Store a registered format's new definition (its owner and date stay)."""
        plain = CreateFileFormat(
            element.name.name,
            element.file_format,
            schema=element.name.schema,
            temporary=element.temporary,
            comment=element.comment,
        )
        self._rows(
            f"UPDATE {SCHEMA}.file_formats SET type = ?, definition = ?, comment = ? "
            "WHERE namespace = ? AND name = ?",
            [
                element.file_format.type_name,
                str(plain.compile()),
                element.comment,
                element.name.schema or "",
                element.name.name,
            ],
        )

    def drop_file_format(self, namespace: str | None, name: str) -> bool:
        """Unregister a named file format; whether it existed."""
        rows = self._rows(
            f"DELETE FROM {SCHEMA}.file_formats WHERE namespace = ? AND name = ? RETURNING name",
            [namespace or "", name],
        )
        return bool(rows)

    # Connections

    def connection(self, name: str) -> CreateConnection | None:
        """The connection of that name (its definition, real secrets included), or None."""
        rows = self._rows(f"SELECT definition FROM {SCHEMA}.connections WHERE name = ?", [name])
        return _connection(rows[0][0]) if rows else None

    def connections(self) -> list[CreateConnection]:
        """All connections, by name."""
        rows = self._rows(f"SELECT definition FROM {SCHEMA}.connections ORDER BY name")
        return [_connection(row[0]) for row in rows]

    def add_connection(self, element: CreateConnection) -> None:
        """Register a connection (the caller checked that the name is free)."""
        definition = CreateConnection(
            element.name,
            element.storage_type,
            credentials=element.credentials,
            parameters=element.parameters,
        )
        self._rows(
            f"INSERT INTO {SCHEMA}.connections VALUES (?, ?, ?, ?, ?)",
            [element.name, element.storage_type, str(definition.compile()), self.user, _now()],
        )

    def drop_connection(self, name: str) -> bool:
        """Unregister a connection; whether it existed."""
        rows = self._rows(f"DELETE FROM {SCHEMA}.connections WHERE name = ? RETURNING name", [name])
        return bool(rows)

    # Load history

    def loaded_files(
        self, table_name: str, file_urls: Sequence[str]
    ) -> dict[str, list[tuple[Any, ...]]]:
        """The history of ``file_urls`` in ``table_name``: url -> [(size, etag, modified)].

        A file loaded several times (changed in between, or with FORCE) has several entries.
        """
        if not file_urls:
            return {}
        rows = self._rows(
            f"SELECT file_url, size, etag, last_modified FROM {SCHEMA}.load_history "
            "WHERE table_name = ? AND list_contains(?::VARCHAR[], file_url)",
            [table_name, list(file_urls)],
        )
        history: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            history.setdefault(row[0], []).append(tuple(row[1:]))
        return history

    def record_loads(self, table_name: str, loads: Sequence[tuple[Any, ...]]) -> None:
        """Record loaded files: each ``(file_url, size, etag, last_modified, rows_loaded)``.

        One INSERT of list parameters, whatever the number of files (``executemany``
        costs about half a millisecond a row in DuckDB). Each file's row in
        ``load_claims`` is replaced too, so two transactions loading one file into one
        table conflict (DuckDB refuses the second delete, or the second commit) instead
        of both loading it.

        Raises:
            StageRuntimeError: another transaction is loading one of the files.
        """
        if not loads:
            return
        columns = list(zip(*loads, strict=True))
        urls = list(columns[0])
        try:
            self._rows(
                f"DELETE FROM {SCHEMA}.load_claims WHERE table_name = ? "
                "AND file_url IN (SELECT unnest(?::VARCHAR[]))",
                [table_name, urls],
            )
            self._rows(
                f"INSERT INTO {SCHEMA}.load_claims SELECT ?, unnest(?::VARCHAR[]), ?",
                [table_name, urls, _now()],
            )
        except (duckdb.TransactionException, duckdb.ConstraintException) as error:
            raise StageOperationalError(
                f"COPY INTO {table_name}: another transaction is loading the same files "
                f"({error}); roll back and run the load again to load the files it did not"
            ) from None
        self._rows(
            f"INSERT INTO {SCHEMA}.load_history SELECT ?, unnest(?::VARCHAR[]), "
            "unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMPTZ[]), "
            "unnest(?::BIGINT[]), ?",
            [table_name, *(list(column) for column in columns), _now()],
        )


def _stage_record(definition: str, owner: str | None, created_on: dt.datetime) -> StageRecord:
    from sqla_stage.parser import parse

    element = parse(definition)
    return StageRecord(element.stage, owner, created_on)


def _connection(definition: str) -> CreateConnection:
    from sqla_stage.parser import parse

    element: CreateConnection = parse(definition)
    return element


def _format_record(
    namespace: str,
    name: str,
    definition: str,
    comment: str | None,
    owner: str | None,
    created_on: dt.datetime,
) -> FormatRecord:
    from sqla_stage.parser import parse

    element = parse(definition)
    return FormatRecord(namespace, name, element.file_format, comment, owner, created_on)
