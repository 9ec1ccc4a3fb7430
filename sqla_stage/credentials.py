"""Credentials and encryption settings of external stages and locations.

Both hold secrets. They are kept in small immutable classes whose ``repr()``
masks every secret, so a stage or statement can be printed, logged or shown in
a notebook without leaking a key. The SQL they compile to for a warehouse does
contain the secrets: that is what the warehouse needs. The SQL compiled for DuckDB
shows them masked (``'***'``), since the DuckDB runtime takes the real values from the
construct and that text only reaches logs and error messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Self

from sqla_stage.errors import StageArgumentError

#: The credential keys of the public API, in rendering order.
CREDENTIAL_KEYS = (
    "aws_key_id",
    "aws_secret_key",
    "aws_token",
    "aws_role",
    "azure_sas_token",
    "gcs_service_account_key",
    "endpoint_url",
    "region",
    "provider",
)
SECRET_CREDENTIAL_KEYS = frozenset(
    {"aws_key_id", "aws_secret_key", "aws_token", "azure_sas_token", "gcs_service_account_key"}
)

#: Encryption types of spec 004 (plus Snowflake's internal-stage types).
ENCRYPTION_TYPES = (
    "AWS_CSE",
    "AWS_SSE_S3",
    "AWS_SSE_KMS",
    "GCS_SSE_KMS",
    "AZURE_CSE",
    "SNOWFLAKE_FULL",
    "SNOWFLAKE_SSE",
    "NONE",
)
ENCRYPTION_KEYS = ("type", "master_key", "kms_key_id")
SECRET_ENCRYPTION_KEYS = frozenset({"master_key"})

MASK = "***"

#: Every SQL spelling of a secret key (Snowflake, Databend, MatrixOne), upper case: a
#: parse error never quotes the value that follows one of them.
SECRET_SQL_NAMES = frozenset(
    {
        "AWS_KEY_ID",
        "ACCESS_KEY_ID",
        "AWS_SECRET_KEY",
        "SECRET_ACCESS_KEY",
        "AWS_TOKEN",
        "SESSION_TOKEN",
        "AZURE_SAS_TOKEN",
        "GCS_SERVICE_ACCOUNT_KEY",
        "CREDENTIAL",
        "MASTER_KEY",
    }
)
#: The SQL clauses whose parenthesized group holds secrets.
SECRET_SQL_GROUPS = frozenset({"CREDENTIALS", "CONNECTION", "ENCRYPTION"})


class _SecretMapping(Mapping[str, str]):
    """An immutable, hashable str-to-str mapping whose repr masks secrets."""

    _keys: tuple[str, ...] = ()
    _secret: frozenset[str] = frozenset()
    _label = ""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = {key: values[key] for key in self._keys if key in values}

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash((type(self), tuple(self._values.items())))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _SecretMapping):
            return type(self) is type(other) and self._values == other._values
        if isinstance(other, Mapping):
            return self._values == dict(other)
        return NotImplemented

    def is_secret(self, key: str) -> bool:
        """Whether the value of ``key`` is a secret."""
        return key in self._secret

    def masked(self) -> dict[str, str]:
        """The values with every secret replaced by ``***``."""
        return {k: MASK if self.is_secret(k) else v for k, v in self._values.items()}

    def with_secrets(self, change: Callable[[str, str], str]) -> Self:
        """A copy with each secret value replaced by ``change(key, value)``, the rest kept."""
        return type(self)(
            {k: change(k, v) if self.is_secret(k) else v for k, v in self._values.items()}
        )

    def public(self) -> dict[str, str]:
        """The values that are not secrets."""
        return {k: v for k, v in self._values.items() if not self.is_secret(k)}

    def with_masked_secrets(self) -> Self:
        """A copy whose secrets are ``***``, to render for display."""
        return self.with_secrets(lambda _key, _value: MASK)

    def __repr__(self) -> str:
        return f"{self._label}({self.masked()!r})"

    def cache_key(self) -> tuple[tuple[str, str], ...]:
        """A hashable form for SQLAlchemy statement cache keys."""
        return tuple(self._values.items())


def _string_mapping(
    owner: str, what: str, value: Mapping[str, object], accepted: tuple[str, ...]
) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise StageArgumentError(f"{owner}: {what} must be a mapping, not {type(value).__name__}")
    result = {}
    for key, item in value.items():
        if not isinstance(item, str) or not item:
            raise StageArgumentError(f"{owner}: {what} key {key!r} must be a non-empty string")
        result[str(key).lower()] = item
    unknown = sorted(set(result) - set(accepted))
    if unknown:
        raise StageArgumentError(
            f"{owner}: unknown {what.removesuffix('s')} key(s) {', '.join(map(repr, unknown))} "
            f"(accepted: {', '.join(accepted)})"
        )
    return result


class Credentials(_SecretMapping):
    """Cloud credentials.

    The keys are ``aws_key_id``, ``aws_secret_key``, ``aws_token``, ``aws_role``,
    ``azure_sas_token``, ``gcs_service_account_key`` (a Google service account's JSON
    key, as text or base64), ``endpoint_url``, ``region`` and ``provider`` (MatrixOne's
    ``'PROVIDER'``: who serves the S3 API, ``'Amazon'``, ``'minio'``, ...).
    """

    _keys = CREDENTIAL_KEYS
    _secret = SECRET_CREDENTIAL_KEYS
    _label = "Credentials"

    @classmethod
    def coerce(cls, owner: str, value: Mapping[str, object] | None) -> Credentials | None:
        """Validate a user-supplied mapping.

        Raises:
            StageArgumentError: an unknown key, a key id without its secret (or the
                reverse), a token without a key, a role together with keys, or Azure
                and AWS credentials together, or Google's with either.
        """
        if value is None:
            return None
        if isinstance(value, Credentials):
            return value
        values = _string_mapping(owner, "credentials", value, CREDENTIAL_KEYS)
        has = set(values)
        if ("aws_key_id" in has) != ("aws_secret_key" in has):
            raise StageArgumentError(
                f"{owner}: credentials need both 'aws_key_id' and 'aws_secret_key'"
            )
        if "aws_token" in has and "aws_key_id" not in has:
            raise StageArgumentError(
                f"{owner}: 'aws_token' needs 'aws_key_id' and 'aws_secret_key'"
            )
        if "aws_role" in has and "aws_key_id" in has:
            raise StageArgumentError(
                f"{owner}: credentials take either 'aws_role' or 'aws_key_id'/'aws_secret_key', "
                "not both"
            )
        if "azure_sas_token" in has and has & {"aws_key_id", "aws_role"}:
            raise StageArgumentError(f"{owner}: Azure and AWS credentials cannot be combined")
        if "gcs_service_account_key" in has and has & {"aws_key_id", "aws_role", "azure_sas_token"}:
            raise StageArgumentError(
                f"{owner}: Google Cloud Storage credentials cannot be combined with AWS or "
                "Azure ones"
            )
        return cls(values)

    @property
    def is_empty(self) -> bool:
        """True when only connection settings (endpoint, region, provider) are present."""
        return not (set(self) - {"endpoint_url", "region", "provider"})


class Encryption(_SecretMapping):
    """Encryption settings: ``type``, ``master_key`` and ``kms_key_id``."""

    _keys = ENCRYPTION_KEYS
    _secret = SECRET_ENCRYPTION_KEYS
    _label = "Encryption"

    @classmethod
    def coerce(cls, owner: str, value: Mapping[str, object] | None) -> Encryption | None:
        """Validate a user-supplied mapping.

        A ``master_key`` without a ``type`` means ``AWS_CSE``, as Snowflake documents.

        Raises:
            StageArgumentError: an unknown key or type, or a key the type does not take.
        """
        if value is None:
            return None
        if isinstance(value, Encryption):
            return value
        values = _string_mapping(owner, "encryption", value, ENCRYPTION_KEYS)
        if "type" not in values:
            if "master_key" not in values:
                raise StageArgumentError(f"{owner}: encryption needs a 'type'")
            values["type"] = "AWS_CSE"
        kind = values["type"] = values["type"].upper()
        if kind not in ENCRYPTION_TYPES:
            raise StageArgumentError(
                f"{owner}: unknown encryption type {kind!r} "
                f"(accepted: {', '.join(ENCRYPTION_TYPES)})"
            )
        if "master_key" in values and kind not in ("AWS_CSE", "AZURE_CSE"):
            raise StageArgumentError(f"{owner}: encryption type {kind} takes no 'master_key'")
        if kind in ("AWS_CSE", "AZURE_CSE") and "master_key" not in values:
            raise StageArgumentError(f"{owner}: encryption type {kind} needs a 'master_key'")
        if "kms_key_id" in values and kind not in ("AWS_SSE_KMS", "GCS_SSE_KMS"):
            raise StageArgumentError(f"{owner}: encryption type {kind} takes no 'kms_key_id'")
        return cls(values)
