"""The query a stage statement embeds, as DuckDB SQL with its parameter values.

``COPY INTO @s FROM (SELECT ...)``, ``SELECT ... INTO OUTFILE`` and a load with
transformation each carry a query that must run inside DuckDB, never in Python. A
query is rendered with its IN lists expanded and ``$n`` numbered exactly as in the
statement SQLAlchemy executed, whose parameters hold the values (the embedded query comes
first in these statements: anything after it, such as PARTITION BY, numbers later). Parsed
text keeps the statement's own ``$n``. A construct used on its own (no statement
parameters) is compiled with the values it carries. Under ``stage_dialect=databend``,
Databend's ``FROM numbers(N)`` becomes DuckDB's equivalent (`queries.databend_numbers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb_engine
from sqlalchemy.sql import ClauseElement

from sqla_stage.dialects.nested import Nested
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.queries.rewrite import databend_numbers

#: A DuckDB dialect that renders as an engine-created one does (``$1`` parameters).
DUCKDB_DIALECT = duckdb_engine.Dialect(paramstyle="numeric_dollar")


@dataclass(frozen=True)
class EmbeddedQuery:
    """DuckDB SQL and the values of its ``$n`` parameters."""

    sql: str
    parameters: list[Any]


def embedded_query(
    statement_parameters: Any,
    query: ClauseElement,
    owner: str,
    *,
    stage_dialect: str | None = None,
) -> EmbeddedQuery:
    """Compile ``query`` for DuckDB; see the module docstring for where values come from.

    Args:
        statement_parameters: The parameters of the statement being executed.
        query: The embedded query (a ``select()`` or ``text()``).
        owner: The statement, for error messages.
        stage_dialect: The runtime's ``stage_dialect``: whose table functions the text uses.

    Raises:
        StageRuntimeError: an IN list whose values only come with the execution (how the
            query is written depends on them).
    """
    nested = Nested(query)  # compiled as the statement rendered it (`dialects.nested`)
    plain: Any = nested.compile(dialect=DUCKDB_DIALECT)
    required = [bind for bind in plain.binds.values() if bind.required]
    for bind in required:
        if bind.expanding:
            raise StageProgrammingError(
                f"{owner}: the IN list {bind.key!r} needs its values in the query "
                "(they decide how the query is written)"
            )
    if statement_parameters:
        # The statement SQLAlchemy executes rendered this query first: same numbering.
        state = plain.construct_expanded_state({bind.key: None for bind in required})
        count = len(state.positiontup or ()) if plain.binds else len(statement_parameters)
        sql = _text(state.statement, stage_dialect)
        return EmbeddedQuery(sql, list(statement_parameters)[:count])
    compiled: Any = nested.compile(
        dialect=DUCKDB_DIALECT, compile_kwargs={"render_postcompile": True}
    )
    return EmbeddedQuery(
        _text(compiled, stage_dialect),
        [compiled.params[key] for key in compiled.positiontup or ()],
    )


def _text(compiled: Any, stage_dialect: str | None) -> str:
    sql = str(compiled).strip().rstrip(";").rstrip()
    if stage_dialect == "databend":
        return databend_numbers(sql)
    return sql
