"""The keys that seal the registry's secrets (`sealed_secrets`): where each one comes from.

A database's key is, in this order:

1. the environment variable `ENV_VARIABLE` (``SQLA_STAGE_SECRET_KEY``): 32 bytes in
   base64, for every database the process opens;
2. else the key file beside the database file, ``<database file>`` + `KEY_FILE_SUFFIX`
   (``app.duckdb.sqla_stage.key``), made with mode 0600 the first time a secret is
   sealed there;
3. else, for an in-memory database, a key of the process, which lives as long as the
   database does.

A key is known by its id (`SecretKey.id`, a hash of it), which each sealed value
carries, so that a value sealed with another key is refused naming where the key was
looked for, never with a cryptographic error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageOperationalError, StageProgrammingError
from sqla_stage.runtime.engine.literals import fetch_one, literal

ENV_VARIABLE = "SQLA_STAGE_SECRET_KEY"
KEY_FILE_SUFFIX = ".sqla_stage.key"
KEY_BYTES = 32

_LOCK = threading.Lock()
_FILE_KEYS: dict[str, SecretKey] = {}
_PROCESS_KEY: list[SecretKey] = []


@dataclass(frozen=True)
class SecretKey:
    """A 256-bit AES key and where it came from.

    Attributes:
        key: The key's bytes.
        source: Where it came from, for messages (never the key itself).
    """

    key: bytes
    source: str

    @property
    def id(self) -> str:
        """A short public name of the key: which key sealed a value (not a secret)."""
        return hashlib.sha256(b"sqla_stage secret key id\0" + self.key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"SecretKey(id={self.id!r}, source={self.source!r})"


def _decoded(text: str, source: str) -> SecretKey:
    """The key ``text`` (base64) holds.

    Raises:
        StageProgrammingError: not 32 bytes of base64 (the text is not quoted).
    """
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise StageProgrammingError(
            f"{source} does not hold a key: it must be {KEY_BYTES} random bytes in base64 "
            '(python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return SecretKey(key, source)


def env_key() -> SecretKey | None:
    """The key of `ENV_VARIABLE`, or None when it is not set (or empty)."""
    text = os.environ.get(ENV_VARIABLE, "")
    return _decoded(text, f"the environment variable {ENV_VARIABLE}") if text else None


def database_file(cursor: Any, catalog: str | None) -> str | None:
    """The file of the database ``catalog`` (None: the current one); None when in memory."""
    where = "current_database()" if catalog is None else literal(catalog)
    row = fetch_one(cursor, f"SELECT path FROM duckdb_databases() WHERE database_name = {where}")
    path = row[0] if row else None
    return str(path) if path else None


def key_file(database: str) -> str:
    """The key file of the database file ``database``."""
    return database + KEY_FILE_SUFFIX


def file_key(path: str, *, create: bool) -> SecretKey | None:
    """The key in the key file ``path``; made (mode 0600) when missing and ``create``.

    Raises:
        StageProgrammingError: the file does not hold a key.
        StageOperationalError: the file cannot be read or made.
    """
    with _LOCK:
        if path in _FILE_KEYS:
            return _FILE_KEYS[path]
        source = f"the key file {path}"
        try:
            with open(path, encoding="ascii") as file:
                found = _decoded(file.read(), source)
        except FileNotFoundError:
            if not create:
                return None
            found = _create(path, source)
        except (OSError, UnicodeDecodeError) as error:
            raise StageOperationalError(
                f"{source} cannot be read ({type(error).__name__}: {error.args[-1]}); "
                f"fix its permissions or set {ENV_VARIABLE}"
            ) from None
        _FILE_KEYS[path] = found
        return found


def _create(path: str, source: str) -> SecretKey:
    """Write a new random key to ``path``, mode 0600; another process's key if it won."""
    text = base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n"
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, scratch = tempfile.mkstemp(dir=folder, prefix=".sqla_stage-key-")  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="ascii") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.link(scratch, path)  # never replaces a key another process wrote meanwhile
        except FileExistsError:
            with open(path, encoding="ascii") as file:
                text = file.read()
        finally:
            os.unlink(scratch)
    except OSError as error:
        raise StageOperationalError(
            f"{source} cannot be made ({type(error).__name__}: {error.args[-1]}); "
            f"set {ENV_VARIABLE} to a key instead"
        ) from None
    return _decoded(text, source)


def process_key() -> SecretKey:
    """The key of the process, for in-memory databases (made on first use)."""
    with _LOCK:
        if not _PROCESS_KEY:
            _PROCESS_KEY.append(SecretKey(os.urandom(KEY_BYTES), "this process's key"))
        return _PROCESS_KEY[0]


def sealing_key(cursor: Any, catalog: str | None) -> SecretKey:
    """The key that seals new secrets in the database ``catalog`` (None: the current one)."""
    found = env_key()
    if found is not None:
        return found
    database = database_file(cursor, catalog)
    if database is None:
        return process_key()
    made = file_key(key_file(database), create=True)
    assert made is not None
    return made


def _loaded(key_id: str) -> SecretKey | None:
    """A key of a key file (or the process's) this process has read, by its id."""
    with _LOCK:
        for key in (*_FILE_KEYS.values(), *_PROCESS_KEY):
            if key.id == key_id:
                return key
    return None


def opening_keys(cursor: Any, catalog: str | None, key_id: str) -> tuple[list[SecretKey], str]:
    """The keys that may open a value sealed with the key ``key_id``, and where they were.

    The environment's key first, then the key file's (or the process's, in memory), so
    a database sealed with its key file still opens after `ENV_VARIABLE` is set. A key
    file this process has read already is not looked up again (nor the database's file
    asked for), so using a stage costs no query.
    """
    keys = [found] if (found := env_key()) is not None else []
    if not any(key.id == key_id for key in keys) and (known := _loaded(key_id)) is not None:
        keys.append(known)
    if any(key.id == key_id for key in keys):
        return keys, ENV_VARIABLE
    database = database_file(cursor, catalog)
    if database is None:
        keys.append(process_key())
        return keys, f"{ENV_VARIABLE} and this process's key (an in-memory database)"
    path = key_file(database)
    if (in_file := file_key(path, create=False)) is not None:
        keys.append(in_file)
    return keys, f"{ENV_VARIABLE} and the key file {path}"
