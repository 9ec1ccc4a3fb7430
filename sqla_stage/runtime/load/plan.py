"""What a load works with: the files, the target table (and its columns) and the options.

The load (`load`) plans these before it reads anything; the side connection is where
its checks and schema probes run, beside the statement's own cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.expression import TableClause

from sqla_stage.runtime.catalog.namespaces import Where
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.literals import inline
from sqla_stage.runtime.load.read import TargetColumn
from sqla_stage.runtime.load.variants import VariantCheck
from sqla_stage.runtime.storage.stage_storage import FileInfo


@dataclass(frozen=True)
class StagedFile:
    """A file to load: its key, DuckDB path, history URL and listing."""

    key: str
    path: str
    url: str
    info: FileInfo


@dataclass(frozen=True)
class Target:
    """The target table: its SQL name, its history name, its columns and those to fill."""

    sql: str
    name: str
    columns: tuple[TargetColumn, ...]
    fill: tuple[TargetColumn, ...]
    variants: VariantCheck | None = None
    #: The attached database the table is in (None: the current one), where its
    #: load history is kept.
    catalog: str | None = None


@dataclass(frozen=True)
class LoadOptions:
    """The statement's copy options over the stage's defaults."""

    files: tuple[str, ...] | None
    pattern: str | None
    on_error: str
    force: bool
    purge: bool
    match: str
    validation: str | None
    size_limit: int | None
    disable_variant_check: bool = False


class SideConnection:
    """The side connection, opened on first use."""

    def __init__(self, cursor: Any) -> None:
        """Open a cursor of ``cursor``'s connection when first called."""
        self.cursor = cursor
        self.connection: Any = None

    def __call__(self) -> Any:
        """The side connection."""
        if self.connection is None:
            self.connection = self.cursor.cursor()
        return self.connection

    def close(self) -> None:
        """Close it, if it was opened."""
        if self.connection is not None:
            self.connection.close()


def table_columns(
    context: StageContext, table: TableClause
) -> tuple[Where, str, tuple[TargetColumn, ...]] | None:
    """The namespace, name and columns of the table a load fills (names matched without case).

    The namespace's schema and the name are spelled as DuckDB has them.

    The table is in the current database, or in the one its ``database.schema`` names.
    None when there is no such table.
    """
    where = context.where(table.schema, f"table {table.name}")
    rows = context.run(
        inline(
            "SELECT schema_name, table_name, column_name, data_type, is_nullable, "
            "column_default FROM duckdb_columns() WHERE database_name = "
            "coalesce(?, current_database()) "
            "AND lower(schema_name) = lower(coalesce(?, current_schema())) AND "
            "lower(table_name) = lower(?) ORDER BY column_index",
            [where.catalog, where.schema, table.name],
        )
    ).fetchall()
    if not rows:
        return None
    columns = tuple(TargetColumn(row[2], row[3], not row[4], row[5] is not None) for row in rows)
    return Where(where.catalog, rows[0][0]), rows[0][1], columns
