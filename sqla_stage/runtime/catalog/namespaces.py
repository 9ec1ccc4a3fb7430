"""Where a ``[database.]schema`` name lives on the runtime: DuckDB catalogs.

A name's namespace (`sqla_stage.namespaces`) of two parts is ``database.schema``, the
database being a DuckDB catalog: the current database or one that was ``ATTACH``-ed.
`resolve` finds the catalog (None for the current database, so ``app.main.t`` and
``main.t`` are one name when ``app`` is the current database) and `table_sql`
writes a table's name for DuckDB with each part quoted on its own.

`canonical` gives a stage's or file format's one name: a name without a schema is in the
current schema (``current_schema()``, which ``USE`` and ``SET schema`` change), as in
Snowflake, so ``st``, ``main.st`` and ``app.main.st`` are one stage in the schema
``main``, with one registry key (`Where.keys`) and one folder (`Where.folder`). Names
resolve only while the database the engine opened is the current one (`mark_primary`):
after ``USE db2`` a bare name would be db2's, with the folder of the opened database's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageArgumentError, StageProgrammingError
from sqla_stage.namespaces import join_namespace, split_namespace
from sqla_stage.runtime.engine.literals import fetch_one, inline, literal, quote
from sqla_stage.runtime.storage.stage_storage import qualified_folder

#: DuckDB's default schema, the one a name of a release before namespaces is in.
DEFAULT_SCHEMA = "main"
#: The registry key of the names those releases registered (`Where.keys`).
LEGACY_KEY = ""
#: The DuckDB variable (one a connection) naming the database the engine opened.
PRIMARY_VARIABLE = "sqla_stage_primary"


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

    @property
    def keys(self) -> tuple[str, str]:
        """The registry keys a name of this (`canonical`) namespace may be stored under.

        Its `key`, and for the schema ``main`` the key ``""`` too: releases before
        namespaces registered every stage and file format under ``""``, and those are
        the stages of the schema ``main``.
        """
        return (self.key, LEGACY_KEY if self.schema == DEFAULT_SCHEMA else self.key)

    @property
    def short(self) -> str | None:
        """The namespace, None for the current database's schema ``main``.

        A name there is written bare, as releases before namespaces wrote it: in a
        registered definition and in its folder (`folder`).
        """
        plain = self.catalog is None and self.schema in (None, DEFAULT_SCHEMA)
        return None if plain else self.namespace

    def folder(self, name: str) -> str:
        """The folder of ``name`` here, below ``stage/internal/`` or ``stage/table/``.

        A name of the current database's schema ``main`` has the folder of its bare
        name (``stage/internal/st/``, where releases before namespaces kept it), one of
        another schema or database its namespace too (``other.st``, ``db2%2Es2.st``).
        """
        return qualified_folder(self.short, name)


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


def canonical(cursor: Any, namespace: str | None, what: str, current: str | None = None) -> Where:
    """`resolve` ``namespace``, and give it a schema: the one name of what it qualifies.

    See `canonical_and_current`, which also says what the current schema is.
    """
    return canonical_and_current(cursor, namespace, what, current)[0]


def canonical_and_current(
    cursor: Any, namespace: str | None, what: str, current: str | None = None
) -> tuple[Where, str]:
    """`canonical` ``namespace``, and the current schema, in one query.

    A namespace without a schema gets ``current`` or, when None, the current schema
    (``current_schema()``). A schema is spelled as DuckDB has it (DuckDB's names are
    not case-sensitive): ``MAIN.st`` is ``main.st``.

    Args:
        cursor: A DuckDB cursor.
        namespace: The namespace text, or None.
        what: The name it qualifies, for messages.
        current: The schema of a name given without one (None: the current schema).

    Raises:
        StageProgrammingError: a malformed namespace, or a database that is not attached.
    """
    where = resolve(cursor, namespace, what)
    row = fetch_one(
        cursor,
        inline(
            "SELECT coalesce((SELECT schema_name FROM duckdb_schemas() WHERE database_name = "
            "coalesce(?, current_database()) AND lower(schema_name) = lower(wanted) "
            "ORDER BY schema_name = wanted DESC LIMIT 1), wanted), current_database(), "
            f"getvariable({literal(PRIMARY_VARIABLE)}), current_schema() "
            "FROM (SELECT coalesce(?, ?, current_schema()) AS wanted)",
            [where.catalog, where.schema, current],
        ),
    )
    if row[2] is not None and row[1] != row[2]:
        raise StageProgrammingError(
            f"{what}: the current database is {row[1]!r} (USE), and the runtime names stages, "
            f"formats and table stages from the database the engine opened, {row[2]!r}: "
            f"run USE {quote(row[2])} first (a name in {row[1]!r} is then "
            f"{quote(row[1])}.schema.name)"
        )
    return Where(where.catalog, str(row[0])), str(row[3])


def mark_primary(dbapi_connection: Any) -> None:
    """Remember, on a new DuckDB connection, its current database: the one the engine opened.

    `canonical` refuses names while another database is the current one (``USE db2``),
    since a stage of each database's schema ``main`` has the folder of its bare name.
    """
    name = fetch_one(dbapi_connection, "SELECT current_database()")[0]
    dbapi_connection.execute(f"SET VARIABLE {PRIMARY_VARIABLE} = {literal(str(name))}")


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
