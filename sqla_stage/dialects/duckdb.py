"""DuckDB rendering: the canonical text, with DuckDB's string literals and masked secrets.

DuckDB strings are standard SQL: a backslash is an ordinary character. Through
duckdb-engine (a PostgreSQL-based dialect) SQLAlchemy 2.0 would escape backslashes
as PostgreSQL does before it has asked the server, so this renderer writes
literals itself: quotes doubled, and ``%`` doubled where the driver formats.

Credentials, connection secrets and encryption master keys are rendered as ``'***'``, as in
the default string form (`Renderer.shows_secrets`): the DuckDB runtime takes the real values
from the construct SQLAlchemy compiled, and the text only goes to SQLAlchemy's ``echo`` log
and to the ``[SQL: ...]`` of error messages.
"""

from __future__ import annotations

from sqla_stage.dialects.base import Renderer


class DuckDBRenderer(Renderer):
    """Renders for duckdb-engine's dialect."""

    engine = "DuckDB"

    def literal(self, value: str) -> str:
        """A standard SQL string literal."""
        return "'" + value.replace("'", "''").replace("%", self.percent) + "'"
