"""The runtime's catalog: stages, file formats, connections and load history, in DuckDB tables.

They live in the schema ``sqla_stage`` of the user's own database (a name in an
attached database, ``db2.s2.st``, in that database's: see `Registry`), so a stage created in
a transaction exists exactly when that transaction commits, stages persist in a database
file, and a load's history commits with the rows it loaded. A definition is kept as the
canonical ``CREATE STAGE`` / ``FILE FORMAT`` / ``CONNECTION`` text, parsed back on lookup,
so the registry and the SQL the package renders can never disagree. Its secret values are
sealed (`sealed_secrets`): a lookup for use opens them, a listing masks them.

Every statement here is a fixed template whose values are inlined as typed literals
(`literals`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqla_stage.connections import CreateConnection
from sqla_stage.ddl import CreateFileFormat
from sqla_stage.dialects.base import RENDER_SECRETS
from sqla_stage.errors import StageProgrammingError
from sqla_stage.namespaces import join_namespace, split_namespace
from sqla_stage.runtime.catalog.namespaces import Where, canonical_and_current
from sqla_stage.runtime.catalog.records import (
    FormatRecord,
    RegistryAt,
    StageRecord,
    definition,
    format_record,
    stage_record,
)
from sqla_stage.runtime.catalog.sealed_secrets import Vault
from sqla_stage.runtime.catalog.tables import (
    SCHEMA,
    ensure_registry,
    has_registry,
    registry_tables,
)
from sqla_stage.runtime.engine.literals import inline
from sqla_stage.stage import Stage


def _named(kind: str, namespace: str | None, name: str) -> str:
    """``stage db2.s2.st``, for messages."""
    return f"{kind} {namespace}.{name}" if namespace else f"{kind} {name}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Registry:
    """The registry tables, through one DuckDB cursor (the statement's transaction).

    A name in an attached database (``db2.s2.st``, `namespaces`) is registered in that
    database's own registry tables, made on its first write there: DuckDB lets one
    transaction write to one database only, so a load into ``db2.s2.t`` records its
    history beside the table. Stages and formats of the current database, and the
    connections, are in its registry.
    """

    def __init__(self, cursor: Any, user: str, default_schema: str | None = None) -> None:
        """Work through ``cursor`` on behalf of ``user``.

        Args:
            cursor: The statement's DuckDB cursor.
            user: Who registers what is created.
            default_schema: The schema of a stage or file format named without one; None
                for the current schema (Snowflake's rule), ``main`` where stages are
                global (Databend, MatrixOne).
        """
        self.cursor = cursor
        self.user = user
        self.default_schema = default_schema
        self.vault = Vault(cursor)
        # One statement's (no USE/ATTACH/CREATE SCHEMA in it); stage writes clear _stages.
        self._wheres: dict[str | None, Where] = {}
        self._current_schema: str | None = default_schema
        self._stages: dict[tuple[str | None, str], tuple[StageRecord, RegistryAt] | None] = {}

    def where(self, namespace: str | None, what: str) -> Where:
        """The one namespace (`canonical`) of a stage or file format named in ``namespace``."""
        where = self._wheres.get(namespace)
        if where is None:
            where, current = canonical_and_current(
                self.cursor, namespace, what, self.default_schema
            )
            self._wheres[namespace] = where
            self._current_schema = self._current_schema or current
        return where

    def _current(self) -> str:
        """The schema of a name given without one."""
        if self._current_schema is None:
            self._current_schema = str(self._rows("SELECT current_schema()")[0][0])
        return self._current_schema

    def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(inline(sql, parameters))
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def _at(self, namespace: str | None, what: str, *, create: bool = False) -> RegistryAt | None:
        """The registry of ``namespace``'s database; None when that database has none.

        Args:
            namespace: The ``[database.]schema`` text.
            what: The name, for messages.
            create: Make the registry of an attached database that has none (a write there).

        Raises:
            StageProgrammingError: the database is not attached (or read-only, to create).
        """
        where = self.where(namespace, what)
        if where.catalog is not None:
            if create:
                ensure_registry(self.cursor, where.catalog)
            if not has_registry(self.cursor, where.catalog):
                if create:
                    raise StageProgrammingError(f"{what}: database {where.catalog!r} is read-only")
                return None
        return RegistryAt(registry_tables(where.catalog), where, self._current())

    def _all(self, databases: Sequence[str | None] | None = None) -> list[RegistryAt]:
        """The registries of ``databases`` (None: the current one and every attached one).

        A database without a registry has none to list.
        """
        if databases is None:
            rows = self._rows(
                "SELECT database_name FROM duckdb_databases() WHERE NOT internal "
                "AND database_name <> current_database() ORDER BY database_name"
            )
            databases = [None, *(row[0] for row in rows)]
        current = self._current()
        return [
            RegistryAt(registry_tables(catalog), Where(catalog, None), current)
            for catalog in databases
            if catalog is None or has_registry(self.cursor, catalog)
        ]

    # Stages

    def stage(
        self, namespace: str | None, name: str, *, secrets: bool = True
    ) -> StageRecord | None:
        """The stage of that name, or None (looked up and parsed once a statement).

        Args:
            namespace: The ``[database.]schema`` text.
            name: The stage's name.
            secrets: Open its secrets, to use it; False masks them (``'***'``), for
                what needs no secret (DESC, DROP), so that needs no key.

        Raises:
            StageProgrammingError: the key that sealed its secrets is not available.
        """
        if (namespace, name) not in self._stages:
            at = self._at(namespace, _named("stage", namespace, name))
            rows = (
                self._rows(
                    f"SELECT namespace, definition, owner, created_on FROM {at.tables}.stages "
                    "WHERE namespace IN (?, ?) AND name = ? ORDER BY namespace",
                    [*at.where.keys, name],
                )
                if at is not None
                else []
            )
            found = (stage_record(at, *rows[0]), at) if at is not None and rows else None
            self._stages[namespace, name] = found
        cached = self._stages[namespace, name]
        return self._opened(*cached, secrets) if cached is not None else None

    def _opened(self, record: StageRecord, at: RegistryAt, secrets: bool) -> StageRecord:
        stage = self.vault.open_stage(record.stage, at.where.catalog, reveal=secrets)
        return replace(record, stage=stage)

    def stages(
        self, like: str | None = None, databases: Sequence[str | None] | None = None
    ) -> list[StageRecord]:
        """The stages, by name, their secrets masked; ``like`` is a LIKE pattern on the name.

        Args:
            like: A SQL LIKE pattern on the name.
            databases: The databases whose stages to list (None for the current one);
                all of them when not given.
        """
        records = []
        for at in self._all(databases):
            rows = self._rows(
                f"SELECT namespace, definition, owner, created_on FROM {at.tables}.stages "
                "WHERE ? IS NULL OR name ILIKE ? ORDER BY namespace, name",
                [like, like],
            )
            records += [self._opened(stage_record(at, *row), at, False) for row in rows]
        return records

    def stage_names(self) -> list[str]:
        """Every stage's name as a statement gives it (``name`` or ``[db.]schema.name``)."""
        return sorted(
            join_namespace([*split_namespace(r.stage.schema), r.stage.name])
            if r.stage.schema
            else r.stage.name
            for r in self.stages()
        )

    def add_stage(self, stage: Stage) -> None:
        """Register ``stage`` (the caller checked that the name is free)."""
        self._stages.clear()
        at = self._write(stage)
        self._rows(
            f"INSERT INTO {at.tables}.stages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                at.where.key,
                stage.name,
                stage.kind.value,
                stage.url,
                self._definition(stage, at, at.where.short, stage.name),
                stage.comment,
                self.user,
                _now(),
            ],
        )

    def _definition(self, stage: Stage, at: RegistryAt, schema: str | None, name: str) -> str:
        """The text to store of ``stage`` named ``[schema.]name`` in ``at``, secrets sealed."""
        return definition(self.vault.seal_stage(stage, at.where.catalog), schema, name)

    def _write(self, stage: Stage) -> RegistryAt:
        """The registry a stage is (to be) registered in, made when missing."""
        at = self._at(stage.schema, _named("stage", stage.schema, stage.name), create=True)
        assert at is not None
        return at

    def update_stage(self, stage: Stage) -> None:
        """Store the new definition of a registered stage (its owner and date stay)."""
        self._stages.clear()
        at = self._write(stage)
        self._rows(
            f"UPDATE {at.tables}.stages SET kind = ?, url = ?, definition = ?, comment = ? "
            "WHERE namespace IN (?, ?) AND name = ?",
            [
                stage.kind.value,
                stage.url,
                self._definition(stage, at, at.where.short, stage.name),
                stage.comment,
                *at.where.keys,
                stage.name,
            ],
        )

    def rename_stage(self, stage: Stage, target: Stage) -> None:
        """Give a registered stage the name (and namespace) of ``target``.

        Raises:
            StageProgrammingError: ``target`` is in another database.
        """
        self._stages.clear()
        here = self.where(stage.schema, _named("stage", stage.schema, stage.name))
        there = self.where(target.schema, _named("stage", target.schema, target.name))
        if here.catalog != there.catalog:
            raise StageProgrammingError(
                f"ALTER STAGE ... RENAME TO {target.key}: cannot move a stage to another "
                "database; create it there and drop this one"
            )
        at, to = self._write(stage), self._write(target)
        keys = [to.where.key, target.name, *at.where.keys, stage.name]
        self._rows(
            f"UPDATE {at.tables}.directory_files SET namespace = ?, name = ? "
            "WHERE namespace IN (?, ?) AND name = ?",
            keys,
        )
        self._rows(
            f"UPDATE {at.tables}.stages SET namespace = ?, name = ?, definition = ? "
            "WHERE namespace IN (?, ?) AND name = ?",
            [*keys[:2], self._definition(stage, to, to.where.short, target.name), *keys[2:]],
        )

    def directory(self, stage: Stage, prefix: str) -> dict[str, str]:
        """The registered files of ``stage``'s directory below ``prefix``: key -> fingerprint."""
        at = self._at(stage.schema, _named("stage", stage.schema, stage.name))
        if at is None:
            return {}
        rows = self._rows(
            f"SELECT key, fingerprint FROM {at.tables}.directory_files "
            "WHERE namespace IN (?, ?) AND name = ? AND starts_with(key, ?)",
            [*at.where.keys, stage.name, prefix],
        )
        return dict(rows)

    def register_directory(self, stage: Stage, prefix: str, files: dict[str, str]) -> None:
        """Make ``files`` (key -> fingerprint) the registered files below ``prefix``."""
        at = self._write(stage)
        where = "namespace IN (?, ?) AND name = ? AND starts_with(key, ?)"
        names = [at.where.key, stage.name]
        self._rows(
            f"DELETE FROM {at.tables}.directory_files WHERE {where}",
            [*at.where.keys, stage.name, prefix],
        )
        if files:
            columns = "unnest(?::VARCHAR[]), unnest(?::VARCHAR[])"
            self._rows(
                f"INSERT INTO {at.tables}.directory_files SELECT ?, ?, {columns}",
                [*names, list(files), list(files.values())],
            )

    def drop_stage(self, namespace: str | None, name: str) -> bool:
        """Unregister a stage (and its directory); whether it existed."""
        self._stages.clear()
        at = self._at(namespace, _named("stage", namespace, name))
        if at is None:
            return False
        self._rows(
            f"DELETE FROM {at.tables}.directory_files WHERE namespace IN (?, ?) AND name = ?",
            [*at.where.keys, name],
        )
        rows = self._rows(
            f"DELETE FROM {at.tables}.stages WHERE namespace IN (?, ?) AND name = ? RETURNING name",
            [*at.where.keys, name],
        )
        return bool(rows)

    # File formats

    def file_format(self, namespace: str | None, name: str) -> FormatRecord | None:
        """The named file format, or None."""
        at = self._at(namespace, _named("file format", namespace, name))
        if at is None:
            return None
        rows = self._rows(
            f"SELECT namespace, name, definition, comment, owner, created_on "
            f"FROM {at.tables}.file_formats WHERE namespace IN (?, ?) AND name = ? "
            "ORDER BY namespace",
            [*at.where.keys, name],
        )
        return format_record(at, *rows[0]) if rows else None

    def file_formats(self) -> list[FormatRecord]:
        """All named file formats, by name."""
        records = []
        for at in self._all():
            rows = self._rows(
                f"SELECT namespace, name, definition, comment, owner, created_on "
                f"FROM {at.tables}.file_formats ORDER BY namespace, name"
            )
            records += [format_record(at, *row) for row in rows]
        return records

    def add_file_format(self, element: CreateFileFormat) -> None:
        """Register a named file format (the caller checked that the name is free)."""
        at = self._format_at(element)
        self._rows(
            f"INSERT INTO {at.tables}.file_formats VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                at.where.key,
                element.name.name,
                element.file_format.type_name,
                str(element.compile()),
                element.comment,
                self.user,
                _now(),
            ],
        )

    def _format_at(self, element: CreateFileFormat) -> RegistryAt:
        at = self._at(
            element.name.schema,
            _named("file format", element.name.schema, element.name.name),
            create=True,
        )
        assert at is not None
        return at

    def update_file_format(self, element: CreateFileFormat) -> None:
        """Store a registered format's new definition (its owner and date stay)."""
        at = self._format_at(element)
        plain = CreateFileFormat(
            element.name.name,
            element.file_format,
            schema=element.name.schema,
            temporary=element.temporary,
            comment=element.comment,
        )
        self._rows(
            f"UPDATE {at.tables}.file_formats SET type = ?, definition = ?, comment = ? "
            "WHERE namespace IN (?, ?) AND name = ?",
            [
                element.file_format.type_name,
                str(plain.compile()),
                element.comment,
                *at.where.keys,
                element.name.name,
            ],
        )

    def drop_file_format(self, namespace: str | None, name: str) -> bool:
        """Unregister a named file format; whether it existed."""
        at = self._at(namespace, _named("file format", namespace, name))
        if at is None:
            return False
        rows = self._rows(
            f"DELETE FROM {at.tables}.file_formats WHERE namespace IN (?, ?) AND name = ? "
            "RETURNING name",
            [*at.where.keys, name],
        )
        return bool(rows)

    # Connections

    def connection(self, name: str, *, secrets: bool = True) -> CreateConnection | None:
        """The connection of that name, its secrets opened (or masked: ``secrets=False``).

        Raises:
            StageProgrammingError: the key that sealed its secrets is not available.
        """
        rows = self._rows(f"SELECT definition FROM {SCHEMA}.connections WHERE name = ?", [name])
        if not rows:
            return None
        return self.vault.open_connection(_connection(rows[0][0]), reveal=secrets)

    def connections(self) -> list[CreateConnection]:
        """All connections, by name, their secrets masked."""
        rows = self._rows(f"SELECT definition FROM {SCHEMA}.connections ORDER BY name")
        return [self.vault.open_connection(_connection(row[0]), reveal=False) for row in rows]

    def add_connection(self, element: CreateConnection) -> None:
        """Register a connection (the caller checked that the name is free)."""
        sealed = self.vault.seal_connection(element)
        text = str(sealed.compile(compile_kwargs={RENDER_SECRETS: True}))
        self._rows(
            f"INSERT INTO {SCHEMA}.connections VALUES (?, ?, ?, ?, ?)",
            [element.name, element.storage_type, text, self.user, _now()],
        )

    def drop_connection(self, name: str) -> bool:
        """Unregister a connection; whether it existed."""
        rows = self._rows(f"DELETE FROM {SCHEMA}.connections WHERE name = ? RETURNING name", [name])
        return bool(rows)


def _connection(definition: str) -> CreateConnection:
    from sqla_stage.parser import parse

    element: CreateConnection = parse(definition)
    return element
