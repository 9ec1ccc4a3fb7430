"""Load history follows its table, not its name: DROP, CREATE [OR REPLACE] and RENAME.

Snowflake keeps a table's load metadata with the table: a table dropped and created
again, or replaced by ``CREATE OR REPLACE TABLE``, starts with none, and a renamed table
keeps its own. Databend's copy history is per table too. The runtime's history
(`registry`) is keyed by the table's ``schema.name``, so the statements that create,
drop, replace or rename tables are followed here.

A statement whose text starts with ``CREATE [OR REPLACE] [TEMP] TABLE``,
``DROP TABLE``, ``DROP SCHEMA`` or ``ALTER TABLE`` (which is what SQLAlchemy's
``metadata.create_all`` / ``drop_all`` emit, and ``exec_driver_sql`` sends as typed) is
run between two snapshots of DuckDB's tables (``duckdb_tables()``: database, schema,
name and ``table_oid``) taken on the statement's own cursor. DuckDB keeps a table's oid
through ``RENAME`` and gives a new table a new one, so, comparing the snapshots:

- a table that is gone (dropped, replaced, its schema dropped) loses its history;
- a new table (created, or the replacement) starts with none, even if history under its
  name was left by a table dropped where the runtime could not see it;
- a renamed table's history moves to its new name (all renames of a statement at once,
  so ``t`` and ``u`` swapped keep their own).

The history rows change in the statement's transaction, on its cursor: a rolled-back
``DROP TABLE`` keeps the history. Oids are only compared within one statement: DuckDB
gives tables new oids when a database file is opened again, so an oid is never stored.

Not seen: DDL sent by a DuckDB connection that is not the engine's (another process, a
plain ``duckdb.connect``) or a statement text that starts with something else (a
``BEGIN; DROP TABLE t`` in one string). A table dropped and created that way keeps the
history of its name until the runtime next sees it created, dropped or renamed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqla_stage.runtime.literals import inline
from sqla_stage.runtime.registry_tables import SCHEMA, has_registry, registry_tables
from sqla_stage.runtime.results import Column, Rows, emit

#: The statements that can create, drop, replace or rename a table (the body's start).
TABLE_DDL = re.compile(
    r"""(?:create\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|local\s+temp)\s+)?table
    | drop\s+(?:table|schema)
    | alter\s+table)\b""",
    re.I | re.X,
)

#: One table in a snapshot: (database or None for the current one, "schema.name").
TableKey = tuple[str | None, str]

_SNAPSHOT = (
    "SELECT table_oid, CASE WHEN database_name = current_database() THEN NULL "
    "ELSE database_name END, schema_name || '.' || table_name FROM duckdb_tables() "
    f"WHERE NOT internal AND schema_name <> '{SCHEMA}'"
)


def snapshot(cursor: Any) -> dict[int, TableKey]:
    """The tables DuckDB has now, seen by ``cursor``'s transaction: oid -> `TableKey`."""
    cursor.execute(_SNAPSHOT)
    return {int(row[0]): (row[1], str(row[2])) for row in cursor.fetchall()}


def changes(
    before: dict[int, TableKey], after: dict[int, TableKey]
) -> tuple[set[TableKey], dict[TableKey, TableKey]]:
    """The names whose history goes, and the renames (old name -> new name).

    A name is cleared when its table is gone or new, or when a table is renamed to it,
    unless a table is also renamed away from it in the same statement (a swap).
    """
    renamed = {
        before[oid]: after[oid] for oid in before.keys() & after.keys() if before[oid] != after[oid]
    }
    gone = {key for oid, key in before.items() if oid not in after}
    new = {key for oid, key in after.items() if oid not in before}
    cleared = (gone | new | set(renamed.values())) - set(renamed)
    return cleared, renamed


def follow(cursor: Any, before: dict[int, TableKey]) -> None:
    """Move or clear the history of the tables the statement just run changed.

    The statement's result (DuckDB's ``Success`` / ``Count`` row) is restored afterwards,
    so the caller sees the cursor as the statement left it.
    """
    result = _result(cursor)
    cleared, renamed = changes(before, snapshot(cursor))
    by_catalog: dict[str | None, tuple[list[str], list[tuple[str, str]]]] = defaultdict(
        lambda: ([], [])
    )
    for catalog, name in cleared:
        by_catalog[catalog][0].append(name)
    for (catalog, old), (_, new) in renamed.items():
        by_catalog[catalog][1].append((old, new))
    for catalog, (names, moves) in by_catalog.items():
        if has_registry(cursor, catalog):
            _rewrite(cursor, registry_tables(catalog), names, moves)
    if result is not None:
        emit(cursor, result)


def _result(cursor: Any) -> Rows | None:
    """The cursor's current result (a statement's one small row), to emit again."""
    description = cursor.description
    if description is None:
        return None
    columns = [Column(str(entry[0]), str(entry[1])) for entry in description]
    return Rows(columns, cursor.fetchall())


def _rewrite(cursor: Any, tables: str, names: list[str], moves: list[tuple[str, str]]) -> None:
    """Clear ``names``' history and claims, then rename ``moves`` (old, new) all at once."""
    # The claims (`registry`) only lock a (table, file) during a load: a renamed
    # table's are dropped with the old name, its history keeps the files loaded.
    for table, dropped in (("load_history", names), ("load_claims", names + [o for o, _ in moves])):
        if dropped:
            cursor.execute(
                inline(
                    f"DELETE FROM {tables}.{table} WHERE list_contains(?::VARCHAR[], table_name)",
                    [dropped],
                )
            )
    if moves:
        cursor.execute(
            inline(
                f"UPDATE {tables}.load_history SET table_name = moves.new FROM "
                "(SELECT unnest(?::VARCHAR[]) AS old, unnest(?::VARCHAR[]) AS new) AS moves "
                "WHERE load_history.table_name = moves.old",
                [[old for old, _ in moves], [new for _, new in moves]],
            )
        )
