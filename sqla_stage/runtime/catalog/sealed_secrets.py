"""Secrets at rest: each secret value in the registry is sealed with AES-256-GCM.

The registry keeps a stage's or connection's definition as SQL text in a table
(`registry`), which any SQL client of the database can read. Only the secret values in
it (an ``AWS_SECRET_KEY``, a ``MASTER_KEY``, a connection's secret parameters) are
sealed: the text keeps the names, the URL and the options, which SHOW, DESC and Alembic
read, and each secret becomes ``'sqla_stage:sealed:v1:<key id>:<base64>'``, the
12-byte nonce and the ciphertext with its tag. The key (`secret_keys`) is never in the
database, so no query, copy or export of the database reveals a usable secret.

Each ciphertext is bound (as AES-GCM's associated data, `_context`) to where the secret
is used: the stage's URL or the connection's storage type, the field it is in, and the
readable settings beside it (the endpoint, the region). A sealed value copied into
another stage, or a row whose URL or endpoint was edited by hand to send the secrets
elsewhere, does not open; and a sealed value given as a secret is refused.

`Vault` seals what the registry writes and opens what it reads, in the statement's
transaction, so a rolled-back ``CREATE STAGE`` leaves nothing behind. A value that is
not sealed (a database written before this) is read as it is, and sealed when the engine
next connects (`seal_plaintext_rows`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sqla_stage.connections import CreateConnection
from sqla_stage.credentials import MASK, SECRET_SQL_NAMES, _SecretMapping
from sqla_stage.ddl import altered_stage
from sqla_stage.dialects.base import RENDER_SECRETS
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.catalog.records import definition
from sqla_stage.runtime.catalog.secret_keys import (
    ENV_VARIABLE,
    SecretKey,
    opening_keys,
    sealing_key,
)
from sqla_stage.runtime.catalog.tables import SCHEMA, has_registry
from sqla_stage.runtime.engine.literals import fetch_one, inline
from sqla_stage.stage import Stage

PREFIX = "sqla_stage:sealed:v1:"
#: Bound into every ciphertext: a sealed value opens only as a sqla_stage secret.
_AAD = b"sqla_stage registry secret v1"
_NONCE = 12
_SECRET_NAMES = "|".join(sorted(SECRET_SQL_NAMES))
#: The stage rows that may hold an unsealed secret: more secret keys than sealed values.
_CANDIDATES = (
    f"SELECT namespace, name, definition FROM {SCHEMA}.stages WHERE "
    f"len(regexp_extract_all(definition, '(?:{_SECRET_NAMES}) = ''')) > "
    f"len(regexp_extract_all(definition, '= ''{PREFIX}'))"
)
_READ_ONLY = "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed secret."""
    return value.startswith(PREFIX)


def seal(value: str, key: SecretKey, context: bytes) -> str:
    """``value`` sealed with ``key`` for ``context`` (a fresh nonce each time)."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key.key).encrypt(nonce, value.encode("utf-8"), _AAD + context)
    return f"{PREFIX}{key.id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def open_sealed(value: str, context: bytes, keys: list[SecretKey], where: str, what: str) -> str:
    """The secret ``value`` seals; a value that is not sealed is returned as it is.

    Args:
        value: A value from the registry.
        context: Where it is used (`_context`), as when it was sealed.
        keys: The keys that may open it (`opening_keys`).
        where: Where those keys were looked for, for the message.
        what: The stage or connection, for the message.

    Raises:
        StageProgrammingError: none of ``keys`` is the one that sealed it, or the value
            was changed; the message says how to supply the key and never quotes a value.
    """
    if not is_sealed(value):
        return value
    key_id, _, payload = value[len(PREFIX) :].partition(":")
    for key in keys:
        if key.id != key_id:
            continue
        try:
            data = base64.b64decode(payload, validate=True)
            opened = AESGCM(key.key).decrypt(data[:_NONCE], data[_NONCE:], _AAD + context)
            return opened.decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag):
            raise StageProgrammingError(
                f"{what}: a secret in the registry is damaged, or was sealed for another "
                f"URL, endpoint or field (it does not open here with the key {key_id} "
                f"that sealed it, from {key.source}); create it again with CREATE OR REPLACE"
            ) from None
    tried = ", ".join(f"{key.id} from {key.source}" for key in keys) or "none found"
    raise StageProgrammingError(
        f"{what}: its secrets were sealed with the key {key_id}, which is not available "
        f"(looked in {where}; keys tried: {tried}). Set {ENV_VARIABLE} to that key "
        "(base64), or put the key file it was made with back beside the database, or "
        "create the stage or connection again with CREATE OR REPLACE"
    )


#: What seals, opens or masks one secret: ``change(context, value)``.
Change = Callable[[bytes, str], str]


def _context(place: list[Any], field: str) -> bytes:
    """The associated data of a secret: where it is used and the field it is in."""
    return json.dumps([*place, field], separators=(",", ":")).encode("utf-8")


def _public(*mappings: _SecretMapping | None) -> list[list[str]]:
    """The readable settings beside the secrets (endpoint, region, type), sorted."""
    return sorted([k, v] for m in mappings if m is not None for k, v in m.public().items())


def _stage_secrets(stage: Stage, change: Change) -> Stage:
    """``stage`` with each secret of its credentials and encryption changed."""
    place = ["stage", stage.url or "", _public(stage.credentials, stage.encryption)]
    changes = {
        name: value.with_secrets(
            lambda key, secret, name=name: change(_context(place, f"{name}.{key}"), secret)
        )
        for name in ("credentials", "encryption")
        if (value := getattr(stage, name)) is not None
    }
    return altered_stage(stage, changes) if changes else stage


def _connection_secrets(element: CreateConnection, change: Change) -> CreateConnection:
    """A plain ``CREATE CONNECTION`` of ``element`` with each secret changed."""
    place = ["connection", element.storage_type, _public(element.credentials, element.parameters)]

    def changed(name: str) -> Callable[[str, str], str]:
        return lambda key, secret: change(_context(place, f"{name}.{key}"), secret)

    return CreateConnection(
        element.name,
        element.storage_type,
        credentials=element.credentials and element.credentials.with_secrets(changed("c")),
        parameters=element.parameters and element.parameters.with_secrets(changed("p")),
    )


def _masked(_context: bytes, _value: str) -> str:
    return MASK


class Vault:
    """Seals and opens the secrets of one database's registry rows, in one cursor."""

    def __init__(self, cursor: Any) -> None:
        """Work through ``cursor``, the statement's DuckDB cursor."""
        self.cursor = cursor

    def _sealer(self, catalog: str | None, what: str) -> Change:
        """Seals a value; the key is looked up (a key file made) at the first secret.

        A value that is already sealed is refused: it is a registry value given as a
        secret (copied from ``sqla_stage.stages``), never a real one.
        """
        keys: list[SecretKey] = []

        def sealed(context: bytes, value: str) -> str:
            if is_sealed(value):
                raise StageProgrammingError(
                    f"{what}: a secret is a sealed registry value ({PREFIX}...), not a "
                    "secret; give the real value"
                )
            if not keys:
                keys.append(sealing_key(self.cursor, catalog))
            return seal(value, keys[0], context)

        return sealed

    def _opener(self, catalog: str | None, what: str, reveal: bool) -> Change:
        """Opens a value (or masks it); the keys are looked up at the first sealed one."""
        if not reveal:
            return _masked
        found: dict[str, tuple[list[SecretKey], str]] = {}

        def opened(context: bytes, value: str) -> str:
            if not is_sealed(value):
                return value
            key_id = value[len(PREFIX) :].partition(":")[0]
            if key_id not in found:
                found[key_id] = opening_keys(self.cursor, catalog, key_id)
            return open_sealed(value, context, *found[key_id], what)

        return opened

    def seal_stage(self, stage: Stage, catalog: str | None) -> Stage:
        """``stage`` with its secrets sealed, to store in ``catalog``'s registry."""
        return _stage_secrets(stage, self._sealer(catalog, f"stage {stage.key}"))

    def open_stage(self, stage: Stage, catalog: str | None, *, reveal: bool = True) -> Stage:
        """A stored ``stage`` with its secrets opened (``reveal``) or masked.

        Raises:
            StageProgrammingError: the key that sealed them is not available.
        """
        return _stage_secrets(stage, self._opener(catalog, f"stage {stage.key}", reveal))

    def seal_connection(self, element: CreateConnection) -> CreateConnection:
        """The ``CREATE CONNECTION`` to store, its secrets sealed."""
        return _connection_secrets(element, self._sealer(None, f"connection {element.name}"))

    def open_connection(
        self, element: CreateConnection, *, reveal: bool = True
    ) -> CreateConnection:
        """A stored connection with its secrets opened (``reveal``) or masked.

        Raises:
            StageProgrammingError: the key that sealed them is not available.
        """
        what = f"connection {element.name}"
        return _connection_secrets(element, self._opener(None, what, reveal))


def _plain(*mappings: _SecretMapping | None) -> bool:
    """Whether a secret of ``mappings`` is stored unsealed."""
    return any(
        mapping.is_secret(key) and not is_sealed(value)
        for mapping in mappings
        if mapping is not None
        for key, value in mapping.items()
    )


def _unsealed(*mappings: _SecretMapping | None) -> bool:
    """Whether ``mappings`` hold plaintext secrets and none sealed, to seal on connect.

    A row with both (edited by hand) is left as it is: opening it names what is wrong.
    """
    values = [value for m in mappings if m is not None for value in m.values()]
    return _plain(*mappings) and not any(is_sealed(value) for value in values)


def seal_plaintext_rows(cursor: Any) -> None:
    """Seal the secrets a release before this stored in plaintext, in the current database.

    Run each time the engine connects: one query finds the stage rows that may hold an
    unsealed secret (more secret keys than sealed values), and only those, with every
    connection row, are parsed; what holds one is rewritten in one transaction. A
    read-only database is left as it is (its plaintext secrets still work), as is an
    attached database (its rows are sealed when they are next written).

    Args:
        cursor: A DuckDB connection, outside a transaction.
    """
    from sqla_stage.parser import parse

    if not has_registry(cursor) or fetch_one(cursor, _READ_ONLY)[0]:
        return
    vault = Vault(cursor)
    updates = []
    for key, name, text in cursor.execute(_CANDIDATES).fetchall():
        stage: Stage = parse(text).stage
        if _unsealed(stage.credentials, stage.encryption):
            sealed = definition(vault.seal_stage(stage, None), stage.schema, stage.name)
            update = f"UPDATE {SCHEMA}.stages SET definition = ? WHERE namespace = ? AND name = ?"
            updates.append(inline(update, [sealed, key, name]))
    rows = cursor.execute(f"SELECT name, definition FROM {SCHEMA}.connections").fetchall()
    for name, text in rows:
        element: CreateConnection = parse(text)
        if _unsealed(element.credentials, element.parameters):
            compiled = vault.seal_connection(element).compile(compile_kwargs={RENDER_SECRETS: True})
            update = f"UPDATE {SCHEMA}.connections SET definition = ? WHERE name = ?"
            updates.append(inline(update, [str(compiled), name]))
    if not updates:
        return
    cursor.execute("BEGIN TRANSACTION")
    try:
        for update in updates:
            cursor.execute(update)
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")
