"""Parsers of Databend's connection statements, and of COPY naming a connection.

``CREATE [OR REPLACE] CONNECTION [IF NOT EXISTS] name STORAGE_TYPE = '...' KEY = '...' ...``,
``DROP CONNECTION [IF EXISTS] name``, ``DESC[RIBE] CONNECTION name``, ``SHOW CONNECTIONS``;
``COPY INTO ... CONNECTION = (CONNECTION_NAME = '...')``.
"""

from __future__ import annotations

from sqla_stage.connections import (
    CONNECTION_CREDENTIAL_NAMES,
    CreateConnection,
    DescribeConnection,
    DropConnection,
    ShowConnections,
)
from sqla_stage.errors import StageParseError
from sqla_stage.parser.lexer import Kind
from sqla_stage.parser.options import CREDENTIAL_KEYS
from sqla_stage.parser.stream import TokenStream

_NAME = "a connection name"


def _connection_name(stream: TokenStream) -> str:
    token = stream.peek()
    schema, name = stream.qualified_name(_NAME)
    if schema is not None:
        raise stream.error("a connection name without a schema (connections are global)", token)
    return name


def _secret_value(stream: TokenStream, key: str) -> str:
    """A parameter's quoted value; an error never quotes what stands there."""
    token = stream.peek()
    if token.kind is not Kind.STRING or not token.value:
        found = "the end of the statement" if token.kind is Kind.END else f"a {token.kind.value}"
        raise StageParseError(
            stream.sql, token.start, f"a non-empty quoted string for {key}", f"{found} (not shown)"
        )
    stream.next()
    return token.value


def parse_create_connection(stream: TokenStream, or_replace: bool) -> CreateConnection:
    """After ``CREATE [OR REPLACE] CONNECTION``: ``[IF NOT EXISTS] name STORAGE_TYPE = ...``.

    For ``s3`` the credential keys (``ACCESS_KEY_ID``, ``SECRET_ACCESS_KEY``,
    ``SESSION_TOKEN``, ``ROLE_ARN``, ``ENDPOINT_URL``, ``REGION``, and the other engines'
    spellings) become credentials; every other key is a parameter.
    """
    if_not_exists = stream.accept_words("IF", "NOT", "EXISTS")
    name = _connection_name(stream)
    storage_type: str | None = None
    values: list[tuple[str, str]] = []
    seen: set[str] = set()
    while not stream.at_end():
        stream.accept_punct(",")
        token = stream.peek()
        if token.kind is not Kind.WORD:
            raise stream.error("STORAGE_TYPE = '...', a storage parameter or the end")
        stream.next()
        key = token.upper
        if key in seen:
            raise stream.error(f"each parameter once, not a second {token.value}", token)
        seen.add(key)
        stream.expect_punct("=", f"'=' after {token.value}")
        value = _secret_value(stream, key)
        if key == "STORAGE_TYPE":
            storage_type = value
        else:
            values.append((key, value))
    stream.expect_end()
    if storage_type is None:
        raise stream.error("STORAGE_TYPE = '...' (s3, azblob, gcs, ...)")
    credentials: dict[str, str] = {}
    parameters: dict[str, str] = {}
    for key, value in values:
        canonical = CREDENTIAL_KEYS.get(key)
        if storage_type.lower() == "s3" and canonical in CONNECTION_CREDENTIAL_NAMES:
            credentials[canonical] = value
        else:
            parameters[key.lower()] = value
    return CreateConnection(
        name,
        storage_type,
        credentials=credentials or None,
        parameters=parameters or None,
        if_not_exists=if_not_exists,
        or_replace=or_replace,
    )


def parse_drop_connection(stream: TokenStream) -> DropConnection:
    """After ``DROP CONNECTION``: ``[IF EXISTS] name``."""
    if_exists = stream.accept_words("IF", "EXISTS")
    name = _connection_name(stream)
    stream.expect_end()
    return DropConnection(name, if_exists=if_exists)


def parse_describe_connection(stream: TokenStream) -> DescribeConnection:
    """After ``DESC CONNECTION``: the name."""
    name = _connection_name(stream)
    stream.expect_end()
    return DescribeConnection(name)


def parse_show_connections(stream: TokenStream) -> ShowConnections:
    """After ``SHOW CONNECTIONS``: the end."""
    stream.expect_end()
    return ShowConnections()
