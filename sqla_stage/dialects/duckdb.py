"""DuckDB rendering: the canonical text, with DuckDB's string literals and masked secrets.

DuckDB strings are standard SQL: a backslash is an ordinary character. Through
duckdb-engine (a PostgreSQL-based dialect) SQLAlchemy 2.0 would escape backslashes
as PostgreSQL does before it has asked the server, so this renderer writes
literals itself: quotes doubled, and ``%`` doubled where the driver formats.

Credentials, connection secrets and encryption master keys are rendered as ``'***'``: the
DuckDB runtime takes the real values from the construct SQLAlchemy compiled, and the text only goes
to SQLAlchemy's ``echo`` log and to the ``[SQL: ...]`` of error messages.
"""

from __future__ import annotations

from sqla_stage.connections import ConnectionParameters
from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.dialects.base import Renderer
from sqla_stage.dialects.load_data import render_load_data
from sqla_stage.load_data import LoadData


class DuckDBRenderer(Renderer):
    """Renders for duckdb-engine's dialect."""

    engine = "DuckDB"

    def literal(self, value: str) -> str:
        """A standard SQL string literal."""
        return "'" + value.replace("'", "''").replace("%", self.percent) + "'"

    def credentials(self, credentials: Credentials | None) -> str | None:
        """``CREDENTIALS = (...)`` with every secret masked."""
        return super().credentials(credentials and credentials.with_masked_secrets())

    def encryption(self, encryption: Encryption | None) -> str | None:
        """``ENCRYPTION = (...)`` with the master key masked."""
        return super().encryption(encryption and encryption.with_masked_secrets())

    def connection_params(
        self, credentials: Credentials | None, parameters: ConnectionParameters | None
    ) -> list[str]:
        """A connection's parameters with every secret masked."""
        return super().connection_params(
            credentials and credentials.with_masked_secrets(),
            parameters and parameters.with_masked_secrets(),
        )

    def load_data(self, element: LoadData) -> str:
        """``LOAD DATA`` with the secret s3option values masked."""
        return render_load_data(self, element, mask_secrets=True)
