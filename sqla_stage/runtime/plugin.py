"""The ``sqla_stage`` engine plugin: turns a duckdb-engine engine into a stage runtime.

``create_engine(url, plugins=["sqla_stage"], stage_root=..., stage_user=...)`` or
``duckdb:///app.duckdb?plugin=sqla_stage&stage_root=...&stage_user=...``, plus
``stage_progress=False`` to turn progress bars off and ``stage_dialect=snowflake`` (or
``databend``, ``matrixone``) to give results the shape and semantics of that warehouse.
On other dialects the plugin does nothing: the constructs there compile to the engine's
own SQL.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, CreateEnginePlugin, Engine

from sqla_stage.errors import StageArgumentError
from sqla_stage.runtime import progress

SETTINGS = ("stage_root", "stage_user", "stage_progress", "stage_dialect")
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
    """

    stage_root: str
    stage_user: str
    stage_progress: bool = True
    stage_dialect: str | None = None


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


class StagePlugin(CreateEnginePlugin):
    """Installs the runtime's events on a DuckDB engine.

    Args:
        url: The engine URL; the `SETTINGS` query parameters are read and removed.
        kwargs: ``create_engine`` keyword arguments; the `SETTINGS` are read and removed.
    """

    def __init__(self, url: URL, kwargs: dict[str, Any]) -> None:
        """Read the settings from the URL query and the keyword arguments."""
        super().__init__(url, kwargs)
        given: dict[str, Any] = {name: url.query.get(name) for name in SETTINGS}
        for name in SETTINGS:
            if name in kwargs:
                given[name] = kwargs.pop(name)
        self.database = url.database
        self.stage_root: str | None = given["stage_root"] or None
        self.stage_user = check_user(given["stage_user"] or getpass.getuser())
        show = given["stage_progress"]
        self.stage_progress = True if show is None else progress.flag(show)
        self.stage_dialect = check_stage_dialect(given["stage_dialect"])
        if self.stage_root is not None and not isinstance(self.stage_root, str):
            raise StageArgumentError(
                f"sqla_stage: stage_root must be a path or URL, not {self.stage_root!r}"
            )

    def update_url(self, url: URL) -> URL:
        """Remove the plugin's own query parameters, so DuckDB does not see them."""
        return url.difference_update_query(SETTINGS)

    def engine_created(self, engine: Engine) -> None:
        """Install the connect and execute events, on duckdb-engine engines only."""
        if engine.dialect.name != "duckdb":
            return
        root = self.stage_root or default_stage_root(self.database)
        if root is None:
            root = tempfile.mkdtemp(prefix="sqla_stage_")
            weakref.finalize(engine, shutil.rmtree, root, True)
        settings = RuntimeSettings(root, self.stage_user, self.stage_progress, self.stage_dialect)
        install(engine, settings)


def install(engine: Engine, settings: RuntimeSettings) -> None:
    """Listen for new DuckDB connections and for statement execution on ``engine``."""
    from sqla_stage.runtime.after_commit import install_transaction_events
    from sqla_stage.runtime.intercept import execute_hook
    from sqla_stage.runtime.mounts import register_mount_filesystem
    from sqla_stage.runtime.namespaces import mark_primary
    from sqla_stage.runtime.publish_journal import recover_stage_root
    from sqla_stage.runtime.reflection import fit_dialect
    from sqla_stage.runtime.registry_tables import ensure_registry

    _ENGINES[engine] = settings
    fit_dialect(engine.dialect)
    install_transaction_events(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        register_mount_filesystem(dbapi_connection)
        mark_primary(dbapi_connection)
        ensure_registry(dbapi_connection)
        recover_stage_root(settings.stage_root)

    @event.listens_for(engine, "do_execute")
    def _on_execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        with progress.scope(settings.stage_progress, context.execution_options):
            return execute_hook(settings, cursor, statement, parameters, context)

    @event.listens_for(engine, "do_execute_no_params")
    def _on_execute_no_params(cursor: Any, statement: str, context: Any) -> bool:
        with progress.scope(settings.stage_progress, context.execution_options):
            return execute_hook(settings, cursor, statement, None, context)


def settings_of(engine: Engine) -> RuntimeSettings | None:
    """The runtime settings of an engine with the plugin, else None."""
    return _ENGINES.get(engine)
