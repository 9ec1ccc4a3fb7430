"""Where a ``[database.]schema`` name lives on the runtime: DuckDB catalogs.

A name's namespace (`sqla_stage.namespaces`) of two parts is ``database.schema``, the
database being a DuckDB catalog: the current database or one that was ``ATTACH``-ed.
`resolve` finds the catalog (None for the current database, so ``app.main.t`` and
``main.t`` are one name when ``app`` is the current database) and `table_sql`
writes a table's name for DuckDB with each part quoted on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageArgumentError, StageProgrammingError
from sqla_stage.namespaces import join_namespace, split_namespace
from sqla_stage.runtime.literals import fetch_one, inline, quote


@dataclass(frozen=True)
class Where:
    """A resolved namespace.

    Attributes:
        catalog: The attached database, or None for the current database.
        schema: The schema part, or None when the name gave none (the current schema).
    """

    catalog: str | None
    schema: str | None

    @property
    def namespace(self) -> str | None:
        """The namespace as text, the catalog left out when it is the current database."""
        parts = [part for part in (self.catalog, self.schema) if part is not None]
        return join_namespace(parts) or None

    @property
    def key(self) -> str:
        """The schema part as a registry keys it (``""`` for none)."""
        return join_namespace([self.schema]) if self.schema else ""


def resolve(cursor: Any, namespace: str | None, what: str) -> Where:
    """Resolve ``namespace`` (``schema`` or ``database.schema``) on the DuckDB connection.

    Args:
        cursor: A DuckDB cursor.
        namespace: The namespace text, or None.
        what: The name it qualifies, for messages (``stage @db.s.st``).

    Raises:
        StageProgrammingError: a malformed namespace, or a database that is not attached.
    """
    if not namespace:
        return Where(None, None)
    try:
        parts = split_namespace(namespace)
    except StageArgumentError as error:
        raise StageProgrammingError(f"{what}: {error}") from None
    if len(parts) == 1:
        return Where(None, parts[0])
    if len(parts) > 2:
        raise StageProgrammingError(
            f"{what}: the namespace {namespace!r} has {len(parts)} parts; it is [database.]schema"
        )
    return Where(database(cursor, parts[0], what), parts[1])


def database(cursor: Any, name: str, what: str) -> str | None:
    """The attached database called ``name``; None when it is the current database.

    Raises:
        StageProgrammingError: no database of that name is attached.
    """
    row = fetch_one(
        cursor,
        inline(
            "SELECT database_name, database_name = current_database() "
            "FROM duckdb_databases() WHERE lower(database_name) = lower(?)",
            [name],
        ),
    )
    if row is None:
        raise StageProgrammingError(f"{what}: database {name!r} does not exist (ATTACH it first)")
    return None if row[1] else str(row[0])


def table_sql(where: Where, name: str) -> str:
    """``[catalog.][schema.]name`` for DuckDB, each part quoted."""
    parts = [part for part in (where.catalog, where.schema) if part is not None]
    return ".".join(quote(part) for part in [*parts, name])
