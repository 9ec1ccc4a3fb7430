"""Rendering of names: ``[database.]schema`` namespaces (`sqla_stage.namespaces`).

Mixed into every engine's renderer: each part of a namespace is quoted on its own by the
dialect's preparer, so ``db.sch`` never becomes the one identifier ``"db.sch"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy.sql import ClauseElement, TableClause, visitors

from sqla_stage.errors import StageArgumentError
from sqla_stage.files import ShowStages
from sqla_stage.namespaces import split_namespace


class NameRendering:
    """Namespaces, qualified names, table names and the scope of SHOW STAGES.

    Attributes:
        dialect_splits_schemas: Whether the dialect's own compiler quotes each part of
            a ``database.schema`` on its own in a query (duckdb_engine and
            snowflake-sqlalchemy do; databend-sqlalchemy and MySQL's quote it as one name).
    """

    dialect_splits_schemas = True

    if TYPE_CHECKING:  # provided by the Renderer this is mixed into
        preparer: Any

        def unsupported(self, what: str, hint: str = "") -> NoReturn: ...  # noqa: D102
        def quote(self, name: str) -> str: ...  # noqa: D102

    def namespace(self, schema: str | None) -> list[str]:
        """The parts of a ``[database.]schema`` namespace (`sqla_stage.namespaces`).

        Raises:
            CompileError: a malformed namespace (an unclosed quote, an empty part).
        """
        if not schema:
            return []
        try:
            return split_namespace(schema)
        except StageArgumentError as error:
            self.unsupported(f"the namespace {schema!r}", f" ({error})")

    def qualified(self, schema: str | None, name: str) -> str:
        """``[database.][schema.]name`` with each part quoted on its own, as needed."""
        return ".".join(self.quote(part) for part in [*self.namespace(schema), name])

    def table(self, table: Any) -> str:
        """A table name; a ``database.schema`` namespace has each part quoted on its own.

        A one-part schema goes through the preparer's ``format_table`` (which applies
        a ``schema_translate_map``); some dialects (databend-sqlalchemy, MySQL's) would
        quote ``db.schema`` there as one identifier.
        """
        if table.schema and len(self.namespace(table.schema)) > 1:
            return self.qualified(table.schema, table.name)
        try:
            return str(self.preparer.format_table(table))
        except ValueError as error:  # snowflake-sqlalchemy refuses some schema names
            self.unsupported(f"the table name {table.fullname!r}", f" ({error})")

    def show_scope(self, element: ShowStages) -> str | None:
        """The ``IN ...`` of SHOW STAGES, each part of a name quoted on its own."""
        if element.scope is None:
            return None
        word, name = element.scope
        if name is None:
            return f"IN {word}"
        parts = self.namespace(name)
        return f"IN {word} " + ".".join(self.quote(part) for part in parts)

    def check_query_names(self, query: Any) -> None:
        """Refuse a query naming a ``database.schema`` table the dialect would misquote.

        Raises:
            CompileError: on a dialect that quotes ``db.schema`` as one name, a table
                of such a namespace in ``query``.
        """
        if self.dialect_splits_schemas or not isinstance(query, ClauseElement):
            return
        for element in visitors.iterate(query):
            if isinstance(element, TableClause) and len(self.namespace(element.schema)) > 1:
                self.unsupported(
                    f"the table '{element.schema}.{element.name}' inside a query",
                    " (the dialect quotes a database.schema as one name); name the table "
                    "in the statement itself, CopyInto(stage, table)",
                )
