"""The base of the non-DDL stage statements (COPY, LIST, REMOVE, ...).

They are executable clause elements, so SQLAlchemy caches their compiled SQL.
Each subclass puts every value that changes its SQL into ``_sql_key`` (a hashable
tuple) and declares its SQL sub-elements (a SELECT, a table) in
``_traverse_internals``; together they form the statement cache key, so two
statements that differ in any option never share compiled SQL.

``statement.execution_options(...)`` returns a copy with the options (``Generative``).
Executed, a statement returns a [StageResult][sqla_stage.display.StageResult]: its rows,
fetched as it ran, shown as a table in Jupyter and by ``print()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.base import Executable, Generative
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.display_hooks import shown_result


class StageStatement(Generative, Executable, ClauseElement):
    """A stage statement whose compiled form depends only on its cache key."""

    inherit_cache = True
    _traverse_internals = [("_sql_key", InternalTraversal.dp_plain_obj)]
    _sql_key: tuple[object, ...] = ()

    def _execute_on_connection(
        self, connection: Any, distilled_params: Any, execution_options: Any
    ) -> Any:
        result = super()._execute_on_connection(connection, distilled_params, execution_options)
        return shown_result(result, self)
