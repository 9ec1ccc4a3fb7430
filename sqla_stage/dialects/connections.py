"""Rendering of the connection statements, mixed into every engine's renderer.

The canonical form is Databend's (the only engine with connections):
``CREATE CONNECTION name STORAGE_TYPE = 's3' ACCESS_KEY_ID = '...' ...`` and, for a stage or
a COPY, ``CONNECTION = (CONNECTION_NAME = 'name')``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from sqla_stage.connections import (
    CONNECTION_CREDENTIAL_NAMES,
    ConnectionParameters,
    CreateConnection,
    DescribeConnection,
    DropConnection,
    NamedConnection,
    ShowConnections,
)
from sqla_stage.credentials import Credentials

#: Which renderer method renders which connection construct.
CONNECTION_METHODS: Mapping[type[Any], str] = {
    CreateConnection: "create_connection",
    DropConnection: "drop_connection",
    DescribeConnection: "describe_connection",
    ShowConnections: "show_connections",
}


class ConnectionRendering:
    """The connection statements and the ``CONNECTION_NAME`` reference."""

    if TYPE_CHECKING:  # provided by the Renderer this is mixed into

        def unsupported(self, what: str, hint: str = "") -> NoReturn: ...  # noqa: D102
        def quote(self, name: str) -> str: ...  # noqa: D102
        def literal(self, value: str) -> str: ...  # noqa: D102
        def secrets_of(self, value: Any) -> Any: ...  # noqa: D102
        @staticmethod
        def join(*parts: str | None) -> str: ...  # noqa: D102

    def connection_name(self, name: str) -> str:
        """A connection's name as an identifier."""
        return self.quote(name)

    def connection_reference(self, connection: NamedConnection) -> str:
        """``CONNECTION = (CONNECTION_NAME = 'name')``, where credentials go."""
        return f"CONNECTION = (CONNECTION_NAME = {self.literal(connection.name)})"

    def connection_params(
        self, credentials: Credentials | None, parameters: ConnectionParameters | None
    ) -> list[str]:
        """``ACCESS_KEY_ID = '...' ...`` then the other parameters, ``KEY = '...'``."""
        credentials, parameters = self.secrets_of(credentials), self.secrets_of(parameters)
        entries = [
            f"{CONNECTION_CREDENTIAL_NAMES[key]} = {self.literal(value)}"
            for key, value in (credentials or {}).items()
        ]
        for key, value in (parameters or {}).items():
            entries.append(f"{key.upper()} = {self.literal(value)}")
        return entries

    def create_connection(self, element: CreateConnection) -> str:
        """CREATE CONNECTION."""
        return self.join(
            "CREATE",
            "OR REPLACE" if element.or_replace else None,
            "CONNECTION",
            "IF NOT EXISTS" if element.if_not_exists else None,
            self.connection_name(element.name),
            f"STORAGE_TYPE = {self.literal(element.storage_type)}",
            *self.connection_params(element.credentials, element.parameters),
        )

    def drop_connection(self, element: DropConnection) -> str:
        """DROP CONNECTION."""
        exists = "IF EXISTS" if element.if_exists else None
        return self.join("DROP CONNECTION", exists, self.connection_name(element.name))

    def describe_connection(self, element: DescribeConnection) -> str:
        """DESC CONNECTION."""
        return f"DESC CONNECTION {self.connection_name(element.name)}"

    def show_connections(self, element: ShowConnections) -> str:
        """SHOW CONNECTIONS."""
        return "SHOW CONNECTIONS"


class NoConnections(ConnectionRendering):
    """For engines without connections: every connection construct raises CompileError."""

    #: What to use instead, for the error message.
    connection_hint = ""

    def no_connections(self, what: str) -> NoReturn:
        """Raise CompileError naming ``what`` and the engine's alternative."""
        self.unsupported(what, f" (it has no storage connections; {self.connection_hint})")

    def connection_reference(self, connection: NamedConnection) -> str:
        """A stage or COPY naming a connection."""
        self.no_connections(f"the named connection {connection.name!r}")

    def create_connection(self, element: CreateConnection) -> str:
        """CREATE CONNECTION."""
        self.no_connections("CREATE CONNECTION")

    def drop_connection(self, element: DropConnection) -> str:
        """DROP CONNECTION."""
        self.no_connections("DROP CONNECTION")

    def describe_connection(self, element: DescribeConnection) -> str:
        """DESC CONNECTION."""
        self.no_connections("DESC CONNECTION")

    def show_connections(self, element: ShowConnections) -> str:
        """SHOW CONNECTIONS."""
        self.no_connections("SHOW CONNECTIONS")
