"""The runtime's settings of an engine: where its stages live, whose ``@~``, which warehouse.

`StagePlugin` (`sqla_stage.runtime.engine.plugin`) reads them from the engine URL and the
``create_engine`` arguments and remembers them per engine here, where the rest of the
runtime (and the reading and Alembic integrations) look them up with `settings_of`.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from sqla_stage.errors import StageArgumentError
from sqla_stage.runtime.storage.limits import StorageLimits

SETTINGS = (
    "stage_root",
    "stage_user",
    "stage_progress",
    "stage_dialect",
    "stage_connect_timeout",
    "stage_read_timeout",
    "stage_attempts",
)
#: The warehouses whose results and semantics the runtime can follow (``stage_dialect``).
STAGE_DIALECTS = ("snowflake", "databend", "matrixone")
_ENGINES: weakref.WeakKeyDictionary[Engine, RuntimeSettings] = weakref.WeakKeyDictionary()
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]*")


@dataclass(frozen=True)
class RuntimeSettings:
    """Where an engine's stages live.

    Attributes:
        stage_root: The folder (a local path or an fsspec URL) that holds internal, user
            and table stages, laid out as ``stage/internal/<name>/``,
            ``stage/user/<user>/`` and ``stage/table/<table>/``.
        stage_user: Whose ``@~`` this engine's connections see.
        stage_progress: Whether long work shows progress bars (the execution option
            ``stage_progress`` overrides it per statement).
        stage_dialect: Whose results and semantics to follow where the warehouses differ
            for the same text (the columns of SHOW STAGES, DESC STAGE and LIST, a stage's
            default file format, ...): ``snowflake``, ``databend`` or ``matrixone``; None
            (the default) keeps the runtime's own, documented in docs/runtime.md.
        limits: How long requests to a remote storage wait and how often they are tried
            (`StorageLimits`: ``stage_connect_timeout``, ``stage_read_timeout``,
            ``stage_attempts``).
    """

    stage_root: str
    stage_user: str
    stage_progress: bool = True
    stage_dialect: str | None = None
    limits: StorageLimits = field(default_factory=StorageLimits)


def default_stage_root(database: str | None) -> str | None:
    """``<database file>.stages`` beside a database file; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith(":memory:"):
        return None
    return os.path.abspath(database) + ".stages"


def check_stage_dialect(name: object) -> str | None:
    """A warehouse name of `STAGE_DIALECTS` (any case), or None.

    Raises:
        StageArgumentError: anything else.
    """
    if name is None or name == "":
        return None
    if not isinstance(name, str) or name.lower() not in STAGE_DIALECTS:
        raise StageArgumentError(
            f"sqla_stage: stage_dialect must be one of {', '.join(STAGE_DIALECTS)}, not {name!r}"
        )
    return name.lower()


def check_user(user: object) -> str:
    """A user name that is safe as one folder name.

    Raises:
        StageArgumentError: anything else.
    """
    if not isinstance(user, str) or not _USER.fullmatch(user) or user in (".", ".."):
        raise StageArgumentError(
            f"sqla_stage: stage_user must be a user name (letters, digits, '_', '.', '@', '-'"
            f" not starting with '.' or '-'), not {user!r}"
        )
    return user


def remember_settings(engine: Engine, settings: RuntimeSettings) -> None:
    """Keep ``settings`` as ``engine``'s (for as long as the engine lives)."""
    _ENGINES[engine] = settings


def settings_of(engine: Engine) -> RuntimeSettings | None:
    """The runtime settings of an engine with the plugin, else None."""
    return _ENGINES.get(engine)
