"""CREATE / DROP / DESC / SHOW CONNECTIONS on the runtime, and resolving a named connection.

Connections are rows of the registry (`registry`), so they commit and roll back with the
user's transaction. DESC and SHOW answer with Databend's columns (``name``,
``storage_type``, ``storage_params``), every secret masked.

As Databend documents, an object that uses a connection copies its parameters: CREATE
STAGE with ``CONNECTION_NAME`` stores the connection's credentials in the stage, so
dropping or replacing the connection later leaves the stage as it was. A COPY naming a
connection reads it when it runs. ``s3`` and ``gcs`` connections can be used (a ``gcs``
connection's ``CREDENTIAL``, a service account key, and ``ENDPOINT_URL`` become the
``gcs_service_account_key`` and ``endpoint_url`` credentials, `storage.gcs`); a connection
of another storage type is refused where it is used, never ignored (Azure is reached through
``azure://`` locations with ``AZURE_SAS_TOKEN`` or the environment's account key,
`storage.azure`, not through Databend's ``azblob`` connections).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from sqla_stage.connections import (
    CONNECTION_CREDENTIAL_NAMES,
    CreateConnection,
    DescribeConnection,
    DropConnection,
    NamedConnection,
    ShowConnections,
)
from sqla_stage.credentials import MASK, Credentials
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.catalog.registry import Registry
from sqla_stage.runtime.engine.results import VARCHAR, Column, Rows, status
from sqla_stage.runtime.storage.credentials import S3_PROTOCOLS
from sqla_stage.runtime.storage.gcs import GCS_PROTOCOLS

if TYPE_CHECKING:
    from sqla_stage.runtime.engine.context import StageContext

CONNECTION_COLUMNS = [
    Column("name", VARCHAR),
    Column("storage_type", VARCHAR),
    Column("storage_params", VARCHAR),
]
#: The parameters an s3 connection may have beside its credentials: the external id goes
#: with ROLE_ARN, which the runtime treats as a stage's ``aws_role``.
_S3_PARAMETERS = frozenset({"external_id"})
#: A gcs connection's parameters, as the credentials of a gs:// location.
_GCS_PARAMETERS = {"credential": "gcs_service_account_key", "endpoint_url": "endpoint_url"}


def no_such_connection(registry: Registry, name: str) -> StageProgrammingError:
    """The error for a connection that does not exist, naming the nearest names."""
    names = [element.name for element in registry.connections()]
    by_lower = {known.lower(): known for known in names}
    near = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(by_lower[n]) for n in near)}?" if near else ""
    return StageProgrammingError(f"connection {name!r} does not exist{hint}")


def resolve(registry: Registry, connection: NamedConnection, url: str | None) -> Credentials:
    """The credentials of the connection ``connection`` names, to reach ``url``.

    Raises:
        StageProgrammingError: no such connection; a storage type the runtime cannot
            serve; a parameter it cannot use; a URL of another storage.
    """
    element = registry.connection(connection.name)
    if element is None:
        raise no_such_connection(registry, connection.name)
    label = f"connection {connection.name!r}"
    if element.storage_type == "gcs":
        return _gcs_credentials(label, element.parameters or {}, url)
    if element.storage_type != "s3":
        raise StageProgrammingError(
            f"{label}: STORAGE_TYPE {element.storage_type!r} is not supported by the DuckDB "
            "runtime (it serves 's3' and 'gcs' connections; Azure through azure:// locations)"
        )
    _check_fit(label, element.parameters or {}, _S3_PARAMETERS, url, S3_PROTOCOLS, "s3")
    return element.credentials or Credentials({})


def _gcs_credentials(label: str, parameters: Mapping[str, str], url: str | None) -> Credentials:
    """A gcs connection's parameters as the credentials of ``url`` (a gs:// URL)."""
    _check_fit(label, parameters, set(_GCS_PARAMETERS), url, GCS_PROTOCOLS, "gcs")
    return Credentials({_GCS_PARAMETERS[name]: value for name, value in parameters.items()})


def create_connection(context: StageContext, element: CreateConnection) -> Rows:
    """Register a connection; refuse a name in use unless IF NOT EXISTS / OR REPLACE."""
    registry, name = context.registry, element.name
    if registry.connection(name, secrets=False) is not None:
        if element.if_not_exists:
            return status(f"{name} already exists, statement succeeded.")
        if not element.or_replace:
            raise StageProgrammingError(
                f"connection {name!r} already exists (use IF NOT EXISTS or OR REPLACE)"
            )
        registry.drop_connection(name)
    for secrets in (element.credentials, element.parameters):
        masked = [k for k, v in (secrets or {}).items() if v == MASK]
        if masked:
            raise StageProgrammingError(
                f"connection {name!r}: {', '.join(masked)} is the mask {MASK!r}, not a secret "
                "(SQL compiled for DuckDB masks secrets; give the real values)"
            )
    registry.add_connection(element)
    return status(f"Connection {name.upper()} successfully created.")


def drop_connection(context: StageContext, element: DropConnection) -> Rows:
    """Unregister a connection; the stages created with it keep their copy of its parameters."""
    registry = context.registry
    if not registry.drop_connection(element.name):
        if element.if_exists:
            return status(f"Drop statement executed successfully ({element.name} already dropped).")
        raise no_such_connection(registry, element.name)
    return status(f"{element.name.upper()} successfully dropped.")


def _row(element: CreateConnection) -> list[str]:
    params = [
        f"{CONNECTION_CREDENTIAL_NAMES[key].lower()}={value}"
        for key, value in (element.credentials.masked() if element.credentials else {}).items()
    ]
    if element.parameters:
        params += [f"{k}={v}" for k, v in element.parameters.masked().items()]
    return [element.name, element.storage_type, " ".join(params)]


def describe_connection(context: StageContext, element: DescribeConnection) -> Rows:
    """DESC CONNECTION: one row, secrets masked."""
    found = context.registry.connection(element.name, secrets=False)
    if found is None:
        raise no_such_connection(context.registry, element.name)
    return Rows(CONNECTION_COLUMNS, [_row(found)])


def show_connections(context: StageContext, element: ShowConnections) -> Rows:
    """SHOW CONNECTIONS: one row a connection, secrets masked."""
    return Rows(CONNECTION_COLUMNS, [_row(found) for found in context.registry.connections()])


def _check_fit(
    label: str,
    parameters: Mapping[str, str],
    known: Collection[str],
    url: str | None,
    protocols: Collection[str],
    kind: str,
) -> None:
    """Refuse parameters the runtime cannot use, and a URL of another storage type."""
    unused = sorted(set(parameters) - set(known))
    if unused:
        raise StageProgrammingError(
            f"{label}: the runtime cannot use the parameter(s) "
            f"{', '.join(name.upper() for name in unused)}"
        )
    scheme = url.partition("://")[0].lower() if url and "://" in url else None
    if scheme not in protocols:
        raise StageProgrammingError(
            f"{label} is for {kind} storage; {url!r} is not a {kind}:// URL"
            if url
            else f"{label} is for {kind} storage, and there is no URL"
        )
