"""Load history follows its table, not its name: DROP, CREATE [OR REPLACE] and RENAME.

Snowflake keeps a table's load metadata with the table: a table dropped and created
again, or replaced by ``CREATE OR REPLACE TABLE``, starts with none, and a renamed table
keeps its own. Databend's copy history is per table too. The runtime's history
(`registry`) is keyed by the table's ``schema.name``, so the statements that create,
drop, replace or rename tables are followed here.

A text holding ``CREATE [OR REPLACE] [TEMP] TABLE``, ``DROP TABLE``, ``DROP SCHEMA`` or
``ALTER TABLE`` outside its strings (what SQLAlchemy's ``metadata.create_all`` /
``drop_all`` emit, and ``exec_driver_sql`` sends as typed) is split into its statements
(DuckDB's ``extract_statements``), and each CREATE, DROP or ALTER statement is run
between two snapshots of DuckDB's tables (``duckdb_tables()``: database, schema,
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
plain ``duckdb.connect``). A table dropped and created that way keeps the history of
its name until the runtime next sees a table of that name created, dropped or renamed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import duckdb

from sqla_stage.runtime.catalog.tables import SCHEMA, registry_tables
from sqla_stage.runtime.engine.literals import inline
from sqla_stage.runtime.engine.results import Column, Rows, emit

#: The words of a statement that can create, drop, replace or rename a table.
TABLE_DDL = re.compile(
    r"""(?:create\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|local\s+temp)\s+)?table
    | drop\s+(?:table|schema)
    | alter\s+table)\b""",
    re.I | re.X,
)
#: The statements run between two snapshots.
_DDL_TYPES = (duckdb.StatementType.CREATE, duckdb.StatementType.DROP, duckdb.StatementType.ALTER)

#: One table in a snapshot: (database or None for the current one, "schema.name").
TableKey = tuple[str | None, str]

_SNAPSHOT = (
    "SELECT table_oid, CASE WHEN database_name = current_database() THEN NULL "
    "ELSE database_name END, schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
)
#: The registry tables the history is in.
_HISTORY_TABLES = ("load_history", "load_claims")


def ddl_statements(text: str) -> list[tuple[str, bool]] | None:
    """The statements of ``text``, each with whether it is a CREATE, DROP or ALTER.

    None when none is, or when DuckDB cannot split the text (running it reports why).
    """
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error:
        return None
    found = [(statement.query, statement.type in _DDL_TYPES) for statement in statements]
    return found if any(ddl for _, ddl in found) else None


def snapshot(cursor: Any) -> dict[int, TableKey]:
    """The tables DuckDB has now, seen by ``cursor``'s transaction: oid -> `TableKey`.

    The registry's own tables are in it too, named ``sqla_stage.<table>``.
    """
    cursor.execute(_SNAPSHOT)
    return {int(row[0]): (row[1], f"{row[2]}.{row[3]}") for row in cursor.fetchall()}


def _registries(tables: dict[int, TableKey]) -> set[str | None]:
    """The databases (None: the current one) whose registry holds the history tables."""
    found: dict[str | None, int] = defaultdict(int)
    for catalog, name in tables.values():
        if name in {f"{SCHEMA}.{table}" for table in _HISTORY_TABLES}:
            found[catalog] += 1
    return {catalog for catalog, count in found.items() if count == len(_HISTORY_TABLES)}


def _user_tables(tables: dict[int, TableKey]) -> dict[int, TableKey]:
    return {oid: key for oid, key in tables.items() if not key[1].startswith(f"{SCHEMA}.")}


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
    after = snapshot(cursor)
    registries = _registries(after)
    cleared, renamed = changes(_user_tables(before), _user_tables(after))
    by_catalog: dict[str | None, tuple[list[str], list[tuple[str, str]]]] = defaultdict(
        lambda: ([], [])
    )
    for catalog, name in cleared:
        by_catalog[catalog][0].append(name)
    for (catalog, old), (_, new) in renamed.items():
        by_catalog[catalog][1].append((old, new))
    for catalog, (names, moves) in by_catalog.items():
        if catalog in registries:
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
    named = names + [old for old, _ in moves]
    cursor.execute(
        inline(
            f"SELECT EXISTS (SELECT 1 FROM {tables}.load_history WHERE list_contains(?::VARCHAR[], "
            f"table_name)) OR EXISTS (SELECT 1 FROM {tables}.load_claims WHERE "
            "list_contains(?::VARCHAR[], table_name))",
            [named, named],
        )
    )
    if not cursor.fetchone()[0]:
        return  # nothing to change: no write to the registry (the common CREATE TABLE)
    # The claims (`registry`) only lock a (table, file) during a load: a renamed
    # table's are dropped with the old name, its history keeps the files loaded.
    for table, dropped in (("load_history", names), ("load_claims", named)):
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
