"""COPY INTO <table> FROM (SELECT ... FROM @stage): a load that transforms, on the runtime.

The query is the user's, with its staged locations rewritten (`queries.rewrite_sql`) into
DuckDB readers, and runs as one ``INSERT INTO t [(cols)] <query>``. The COPY's
``FILE_FORMAT`` and ``PATTERN`` apply to each staged location of the query that gives no
``FILE_FORMAT =>`` / ``PATTERN =>`` of its own, as in Snowflake and Databend. The other
copy options (``FILES``, ``ON_ERROR`` other than ``ABORT_STATEMENT``, ``PURGE``, ``FORCE``,
``VALIDATION_MODE``, ...) are refused rather than ignored.

An element of a staged JSON or Parquet record (``$1:a.b``) is a JSON value, as Snowflake's
is a VARIANT; stored into a column of another type it is converted as Snowflake converts a
VARIANT: a JSON string loses its quotes (``"x"`` is stored as ``x``), an object or array
is stored as its JSON text, a number or boolean as its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from sqla_stage.copy import CopyInto
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.duckdb_errors import error_class, first_line
from sqla_stage.runtime.engine.literals import quote
from sqla_stage.runtime.load.read import TargetColumn
from sqla_stage.runtime.queries import rewrite as queries
from sqla_stage.runtime.queries.sources import embedded_query


def insert_transformed(
    context: StageContext,
    element: CopyInto,
    table_sql: str,
    label: str,
    fill: Sequence[TargetColumn],
    *,
    listed: bool,
) -> int:
    """Insert the rows of the element's query into ``table_sql``; how many were inserted.

    Raises:
        StageRuntimeError: a copy option a transformation does not honour, a query that
            reads no staged file, or DuckDB's error (classified).
    """
    query = element.query
    assert query is not None
    options = dict(element.copy_options)
    pattern = options.pop("pattern", None)
    if str(options.pop("on_error", "ABORT_STATEMENT")).upper() != "ABORT_STATEMENT" or options:
        named = ", ".join(sorted(name.upper() for name in options)) or "ON_ERROR"
        raise StageProgrammingError(
            f"COPY INTO {label} FROM (query): {named} is not supported with a "
            "transformation on the runtime (FILE_FORMAT and PATTERN are)"
        )
    embedded = embedded_query(context.parameters, query, f"COPY INTO {label}")
    rewritten = queries.rewrite_sql(
        context,
        embedded.sql,
        embedded.parameters,
        file_format=element.file_format,
        pattern=pattern if isinstance(pattern, str) else None,
    )
    if rewritten is None:
        raise StageProgrammingError(
            f"COPY INTO {label} FROM (query): the query reads no staged files"
        )
    names = "(" + ", ".join(quote(column.name) for column in fill) + ") " if listed else ""
    try:
        items = _converted(context, rewritten.sql, rewritten.parameters, fill, label)
        sql = f"INSERT INTO {table_sql} {names}SELECT {items} FROM ({rewritten.sql})"
        row = context.run(sql, rewritten.parameters).fetchone()
    except duckdb.Error as error:
        raise error_class(error)(f"COPY INTO {label}: {first_line(error)}") from None
    return int(row[0]) if row else 0


def _converted(
    context: StageContext, sql: str, parameters: Any, fill: Sequence[TargetColumn], label: str
) -> str:
    """The query's columns by position, each JSON one converted for its target column.

    Raises:
        StageProgrammingError: text into a BINARY column: its BINARY_FORMAT (HEX, BASE64,
            UTF8) is the query's to say, with ``TO_BINARY`` (DuckDB's cast would store the
            text's own bytes).
    """
    described = context.run(f"SELECT * FROM ({sql}) LIMIT 0", parameters).description
    items = []
    for position, item in enumerate(described, start=1):
        column = f"#{position}"
        target = fill[position - 1].type if position <= len(fill) else None
        if str(item[1]) == "VARCHAR" and target == "BLOB":
            raise StageProgrammingError(
                f"COPY INTO {label} FROM (query): the column {fill[position - 1].name!r} is "
                f"BINARY and the query's column {position} is text; decode it with "
                "TO_BINARY(<expr>, 'HEX' | 'BASE64' | 'UTF-8') (its BINARY_FORMAT)"
            )
        if str(item[1]) == "JSON" and target is not None and target != "JSON":
            text = f"json_extract_string({column}, '$')"
            column = text if target == "VARCHAR" else f"CAST({text} AS {target})"
        items.append(column)
    return ", ".join(items)
