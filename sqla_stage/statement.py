"""The base of the non-DDL stage statements (COPY, LIST, REMOVE, ...).

They are executable clause elements, so SQLAlchemy caches their compiled SQL.
Each subclass puts every value that changes its SQL into ``_sql_key`` (a hashable
tuple) and declares its SQL sub-elements (a SELECT, a table) in
``_traverse_internals``; together they form the statement cache key, so two
statements that differ in any option never share compiled SQL.
"""

from __future__ import annotations

from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal


class StageStatement(Executable, ClauseElement):
    """A stage statement whose compiled form depends only on its cache key."""

    inherit_cache = True
    _traverse_internals = [("_sql_key", InternalTraversal.dp_plain_obj)]
    _sql_key: tuple[object, ...] = ()
