"""A handler's answer, handed back to SQLAlchemy as the DuckDB cursor's own result.

A handler returns a `Rows` (a few rows of metadata: LIST, DESC, COPY results) or
a `Query` (DuckDB SQL whose rows are the answer: the rows a VALIDATION_MODE unload
would write, a SELECT over staged files). Either way the runtime finishes by running one
DuckDB statement on the cursor, so ``cursor.description`` and the fetch methods are
DuckDB's and SQLAlchemy builds an ordinary result from them. Metadata rows travel as one
typed list literal per column (`literals` says why not as parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqla_stage.runtime.engine.literals import columns_select, quote


@dataclass(frozen=True)
class Column:
    """A result column: its name and its DuckDB type."""

    name: str
    type: str


VARCHAR = "VARCHAR"
BIGINT = "BIGINT"
BOOLEAN = "BOOLEAN"
TIMESTAMPTZ = "TIMESTAMPTZ"


@dataclass
class Rows:
    """Rows computed by a handler, with their columns."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)


@dataclass
class Query:
    """A DuckDB query (with its parameters) whose rows are the result."""

    sql: str
    parameters: Any = None


def status(message: str) -> Rows:
    """A one-row ``status`` result, as Snowflake answers DDL."""
    return Rows([Column("status", VARCHAR)], [[message]])


def emit(cursor: Any, result: Rows | Query) -> None:
    """Run the statement that makes ``result`` the cursor's current result."""
    if isinstance(result, Query):
        if result.parameters:
            cursor.execute(result.sql, result.parameters)
        else:
            cursor.execute(result.sql)
        return
    if not result.rows:
        names = ", ".join(f"NULL::{c.type} AS {quote(c.name)}" for c in result.columns)
        cursor.execute(f"SELECT {names} WHERE false")
        return
    columns = [(column.name, column.type) for column in result.columns]
    cursor.execute(f"SELECT {columns_select(columns, result.rows)}")
