"""Named storage connections (Databend's ``CREATE CONNECTION``) and references to them.

A connection keeps a storage type and its credentials under a name; a stage or a COPY
names it with ``CONNECTION = (CONNECTION_NAME = '...')``, written here
``credentials=NamedConnection("name")``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Self

from sqla_stage.credentials import Credentials, _SecretMapping
from sqla_stage.ddl import StageDDL
from sqla_stage.errors import StageArgumentError
from sqla_stage.statement import StageStatement

#: The storage types of Databend's CREATE CONNECTION page.
STORAGE_TYPES = ("s3", "azblob", "gcs", "oss", "cos", "hf")
#: Databend's names of the S3 credential keys of a connection, in rendering order.
CONNECTION_CREDENTIAL_NAMES = {
    "aws_key_id": "ACCESS_KEY_ID",
    "aws_secret_key": "SECRET_ACCESS_KEY",
    "aws_token": "SESSION_TOKEN",
    "aws_role": "ROLE_ARN",
    "endpoint_url": "ENDPOINT_URL",
    "region": "REGION",
}
#: Parameters shown as they are by DESC / SHOW CONNECTIONS; every other value is masked.
PUBLIC_PARAMETERS = frozenset(
    {"endpoint_url", "region", "account_name", "repo_type", "revision", "external_id"}
)
_PARAMETER_KEY = re.compile(r"[a-z][a-z0-9_]*")
#: Every SQL spelling of an S3 credential: for an S3 connection they are credentials.
_S3_SPELLINGS = frozenset(
    {
        *(name.lower() for name in CONNECTION_CREDENTIAL_NAMES.values()),
        *CONNECTION_CREDENTIAL_NAMES,
        "endpoint",
        "aws_region",
    }
)


def _name(owner: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise StageArgumentError(f"{owner}: the name must be a non-empty string, not {name!r}")
    return name


def _flag(owner: str, label: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise StageArgumentError(f"{owner}: {label} must be True or False, not {value!r}")
    return value


class ConnectionParameters(_SecretMapping):
    """Storage parameters of a connection by their lower-case Databend names.

    ``account_key``, ``credential``, ``token`` and the like: every value but those of
    `PUBLIC_PARAMETERS` is a secret, masked in ``repr()`` and in DESC / SHOW.
    """

    _label = "ConnectionParameters"

    def __init__(self, values: Mapping[str, str]) -> None:
        """Hold ``values`` (checked by `coerce`)."""
        self._values = dict(values)

    def is_secret(self, key: str) -> bool:
        """Whether the value of ``key`` is a secret: all but `PUBLIC_PARAMETERS`."""
        return key not in PUBLIC_PARAMETERS

    @classmethod
    def coerce(cls, owner: str, value: Mapping[str, object] | None) -> ConnectionParameters | None:
        """Validate a user-supplied mapping of parameter names to non-empty strings.

        Raises:
            StageArgumentError: not a mapping, a name that is not a plain word, or a value
                that is not a non-empty string.
        """
        if value is None or isinstance(value, ConnectionParameters):
            return value or None
        if not isinstance(value, Mapping):
            raise StageArgumentError(
                f"{owner}: parameters must be a mapping, not {type(value).__name__}"
            )
        values = {}
        for key, item in value.items():
            name = str(key).lower()
            if not _PARAMETER_KEY.fullmatch(name):
                raise StageArgumentError(f"{owner}: {key!r} is not a parameter name")
            if not isinstance(item, str) or not item:
                raise StageArgumentError(f"{owner}: parameter {key!r} must be a non-empty string")
            values[name] = item
        return cls(values) if values else None


class NamedConnection(Credentials):
    """A reference to a connection, given where credentials go.

    ``Stage("s", url="s3://b/p/", credentials=NamedConnection("my_conn"))`` and
    ``CopyInto(t, "s3://b/p/", credentials=NamedConnection("my_conn"))`` render Databend's
    ``CONNECTION = (CONNECTION_NAME = 'my_conn')``. It holds no secret itself.

    Args:
        name: The connection's name, as ``CREATE CONNECTION`` gave it.
    """

    _label = "NamedConnection"

    def __init__(self, name: str) -> None:
        """Refer to the connection ``name``."""
        super().__init__({})
        self.name = _name("NamedConnection", name)

    def __bool__(self) -> bool:
        return True

    def __hash__(self) -> int:
        return hash((NamedConnection, self.name))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NamedConnection):
            return self.name == other.name
        return False if isinstance(other, Mapping) else NotImplemented

    def with_secrets(self, change: Callable[[str, str], str]) -> Self:
        """Itself: a name is no secret."""
        return self

    def cache_key(self) -> tuple[tuple[str, str], ...]:
        """A hashable form for statement cache keys."""
        return (("connection_name", self.name),)

    def __repr__(self) -> str:
        return f"NamedConnection({self.name!r})"


class CreateConnection(StageDDL):
    """``CREATE [OR REPLACE] CONNECTION [IF NOT EXISTS] name STORAGE_TYPE = '...' ...``.

    Args:
        name: The connection's name.
        storage_type: ``"s3"``, ``"azblob"``, ``"gcs"``, ``"oss"``, ``"cos"`` or ``"hf"``.
        credentials: For ``s3``: the keys a stage takes (``aws_key_id``, ``aws_secret_key``,
            ``aws_token``, ``aws_role``, ``endpoint_url``, ``region``).
        parameters: Other storage parameters by their Databend names (``external_id``;
            ``account_name``, ``account_key`` for ``azblob``; ``credential`` for ``gcs``).
        if_not_exists: Add ``IF NOT EXISTS``.
        or_replace: Add ``OR REPLACE``.

    Raises:
        StageArgumentError: an unknown storage type, credentials a connection cannot take,
            an S3 credential given as a parameter, or both flags.
    """

    __visit_name__ = "sqla_stage_create_connection"

    def __init__(
        self,
        name: str,
        storage_type: str = "s3",
        *,
        credentials: Mapping[str, str] | None = None,
        parameters: Mapping[str, str] | None = None,
        if_not_exists: bool = False,
        or_replace: bool = False,
    ) -> None:
        """Create the connection ``name``."""
        owner = "CreateConnection"
        self.name = _name(owner, name)
        kind = storage_type.lower() if isinstance(storage_type, str) else ""
        if kind not in STORAGE_TYPES:
            raise StageArgumentError(
                f"{owner}: unknown storage type {storage_type!r} "
                f"(accepted: {', '.join(STORAGE_TYPES)})"
            )
        self.storage_type = kind
        if isinstance(credentials, NamedConnection):
            raise StageArgumentError(f"{owner}: a connection cannot name another connection")
        self.credentials = Credentials.coerce(owner, credentials)
        self.parameters = ConnectionParameters.coerce(owner, parameters)
        self._check_keys(owner)
        self.if_not_exists = _flag(owner, "if_not_exists", if_not_exists)
        self.or_replace = _flag(owner, "or_replace", or_replace)
        if if_not_exists and or_replace:
            raise StageArgumentError(f"{owner}: if_not_exists and or_replace cannot be combined")

    def _check_keys(self, owner: str) -> None:
        if self.credentials is not None:
            if self.storage_type != "s3":
                raise StageArgumentError(
                    f"{owner}: credentials are the keys of an s3 connection; give the "
                    f"parameters of a {self.storage_type} connection as parameters={{...}}"
                )
            other = sorted(set(self.credentials) - set(CONNECTION_CREDENTIAL_NAMES))
            if other:
                raise StageArgumentError(
                    f"{owner}: a connection takes no {', '.join(map(repr, other))} "
                    f"(accepted: {', '.join(CONNECTION_CREDENTIAL_NAMES)})"
                )
        clash = sorted(set(self.parameters or {}) & _S3_SPELLINGS)
        if clash and self.storage_type == "s3":
            raise StageArgumentError(
                f"{owner}: {', '.join(map(repr, clash))} of an s3 connection go in credentials "
                "(aws_key_id, aws_secret_key, aws_token, aws_role, endpoint_url, region)"
            )

    def __repr__(self) -> str:
        parts = [repr(self.name), repr(self.storage_type)]
        for label in ("credentials", "parameters"):
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={value!r}")
        parts += [f"{flag}=True" for flag in ("if_not_exists", "or_replace") if getattr(self, flag)]
        return f"CreateConnection({', '.join(parts)})"


class DropConnection(StageDDL):
    """``DROP CONNECTION [IF EXISTS] name``."""

    __visit_name__ = "sqla_stage_drop_connection"

    def __init__(self, name: str, *, if_exists: bool = False) -> None:
        """Drop the connection ``name``."""
        self.name = _name("DropConnection", name)
        self.if_exists = _flag("DropConnection", "if_exists", if_exists)

    def __repr__(self) -> str:
        flag = ", if_exists=True" if self.if_exists else ""
        return f"DropConnection({self.name!r}{flag})"


class DescribeConnection(StageStatement):
    """``DESC CONNECTION name``: its name, storage type and parameters (secrets masked)."""

    __visit_name__ = "sqla_stage_describe_connection"
    inherit_cache = True

    def __init__(self, name: str) -> None:
        """Describe the connection ``name``."""
        self.name = _name("DescribeConnection", name)
        self._sql_key = (self.name,)

    def __repr__(self) -> str:
        return f"DescribeConnection({self.name!r})"


class ShowConnections(StageStatement):
    """``SHOW CONNECTIONS``: every connection (secrets masked)."""

    __visit_name__ = "sqla_stage_show_connections"
    inherit_cache = True

    def __repr__(self) -> str:
        return "ShowConnections()"
