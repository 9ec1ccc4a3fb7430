"""A query embedded in a stage statement, compiled as SQLAlchemy compiles a nested query.

``COPY INTO @s FROM (SELECT ...)``, a load with transformation and ``SELECT ... INTO
OUTFILE`` carry a query whose rows are the statement's data, not its result. SQLAlchemy
compiles such a query as it does the SELECT of ``INSERT ... FROM SELECT``: with an entry
on the compiler's stack, so that

- its columns do not become the columns of the statement's result (a COPY's result rows
  would otherwise be labelled ``id, name, ...`` instead of ``rows_unloaded, ...``), and
- an ORM ``select(User)`` selects every mapped column, deferred ones included, and no
  eager-load joins, as in any subquery.

`Nested` wraps a query so the DuckDB runtime compiles it on its own exactly as the
statement rendered it (`nested_sql` is the one rule both use).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class Nested(ClauseElement):
    """``query``, compiled as a nested query (see the module docstring)."""

    __visit_name__ = "sqla_stage_nested"
    inherit_cache = True
    _traverse_internals = [("query", InternalTraversal.dp_clauseelement)]

    def __init__(self, query: ClauseElement) -> None:
        """Wrap ``query``."""
        self.query = query


def nested_sql(compiler: SQLCompiler, query: ClauseElement, **kw: Any) -> str:
    """The SQL of ``query`` compiled by ``compiler`` as a nested query."""
    entry = {"correlate_froms": set(), "asfrom_froms": set(), "selectable": query}
    compiler.stack.append(entry)  # type: ignore[arg-type]
    try:
        return str(compiler.process(query, **kw))
    finally:
        compiler.stack.pop()


@compiles(Nested)
def _compile_nested(element: Nested, compiler: SQLCompiler, **kw: Any) -> str:
    return nested_sql(compiler, element.query, **kw)
