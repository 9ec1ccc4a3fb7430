"""The ``sqla_stage`` engine plugin: turns a duckdb-engine engine into a stage runtime.

``create_engine(url, plugins=["sqla_stage"], stage_root=..., stage_user=...)`` or
``duckdb:///app.duckdb?plugin=sqla_stage&stage_root=...&stage_user=...``, plus
``stage_progress=False`` to turn progress bars off and ``stage_dialect=snowflake`` (or
``databend``, ``matrixone``) to give results the shape and semantics of that warehouse,
and ``stage_connect_timeout`` / ``stage_read_timeout`` (seconds) / ``stage_attempts`` to
bound the waits for a cloud endpoint (`storage.limits`).
On other dialects the plugin only masks secrets in the engine's ``echo`` log
(`log_redaction.install_on_engine`): the constructs there compile to the engine's own SQL.
"""

from __future__ import annotations

import getpass
import shutil
import tempfile
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, CreateEnginePlugin, Engine

from sqla_stage.errors import StageArgumentError
from sqla_stage.runtime.engine import log_redaction, progress
from sqla_stage.runtime.engine.settings import (
    SETTINGS,
    RuntimeSettings,
    check_stage_dialect,
    check_user,
    default_stage_root,
    remember_settings,
    settings_of,
)
from sqla_stage.runtime.storage.limits import StorageLimits

__all__ = ["RuntimeSettings", "StagePlugin", "default_stage_root", "install", "settings_of"]


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
        self.limits = StorageLimits.of(
            given["stage_connect_timeout"], given["stage_read_timeout"], given["stage_attempts"]
        )
        if self.stage_root is not None and not isinstance(self.stage_root, str):
            raise StageArgumentError(
                f"sqla_stage: stage_root must be a path or URL, not {self.stage_root!r}"
            )

    def update_url(self, url: URL) -> URL:
        """Remove the plugin's own query parameters, so DuckDB does not see them."""
        return url.difference_update_query(SETTINGS)

    def engine_created(self, engine: Engine) -> None:
        """Mask secrets in the engine's ``echo`` log; on duckdb-engine, install the runtime."""
        log_redaction.install_on_engine(engine)
        if engine.dialect.name != "duckdb":
            return
        root = self.stage_root or default_stage_root(self.database)
        if root is None:
            root = tempfile.mkdtemp(prefix="sqla_stage_")
            weakref.finalize(engine, shutil.rmtree, root, True)
        settings = RuntimeSettings(
            root, self.stage_user, self.stage_progress, self.stage_dialect, self.limits
        )
        install(engine, settings)


def install(engine: Engine, settings: RuntimeSettings) -> None:
    """Listen for new DuckDB connections and for statement execution on ``engine``."""
    from sqla_stage.runtime.catalog.namespaces import mark_primary
    from sqla_stage.runtime.catalog.sealed_secrets import seal_plaintext_rows
    from sqla_stage.runtime.catalog.tables import ensure_registry
    from sqla_stage.runtime.engine.after_commit import install_transaction_events
    from sqla_stage.runtime.engine.intercept import execute_hook
    from sqla_stage.runtime.engine.reflection import fit_dialect
    from sqla_stage.runtime.storage.mounts import register_mount_filesystem
    from sqla_stage.runtime.unload.publish_journal import recover_stage_root

    remember_settings(engine, settings)
    fit_dialect(engine.dialect)
    install_transaction_events(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        register_mount_filesystem(dbapi_connection)
        mark_primary(dbapi_connection)
        ensure_registry(dbapi_connection)
        seal_plaintext_rows(dbapi_connection)
        recover_stage_root(settings.stage_root)

    @event.listens_for(engine, "do_execute")
    def _on_execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        with progress.scope(settings.stage_progress, context.execution_options):
            return execute_hook(settings, cursor, statement, parameters, context)

    @event.listens_for(engine, "do_execute_no_params")
    def _on_execute_no_params(cursor: Any, statement: str, context: Any) -> bool:
        with progress.scope(settings.stage_progress, context.execution_options):
            return execute_hook(settings, cursor, statement, None, context)
