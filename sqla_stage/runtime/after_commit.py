"""Work that waits for the user's transaction: PURGE removes loaded files after COMMIT.

Files are not transactional, rows are. A load with ``PURGE = TRUE`` therefore queues
the removal of its files on the SQLAlchemy connection (`queue_for`), and the
``commit`` event runs the queue only once DuckDB has committed the rows: a load that is
rolled back, or whose COMMIT fails, keeps its source files, and running it again loads
them. A ROLLBACK (or closing the connection without committing) drops the queue.

SQLAlchemy fires ``commit`` before it asks the driver to commit, so the listener commits
the DuckDB connection itself first; SQLAlchemy's own commit that follows is then a no-op
on DuckDB. A purge that fails after the commit is ignored, as Snowflake ignores it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import duckdb
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from sqla_stage.errors import StageRuntimeError

#: Key of the queue in ``Connection.info`` (kept with the DBAPI connection).
QUEUE_KEY = "sqla_stage.after_commit"

_log = logging.getLogger(__name__)

Action = Callable[[], object]


def queue_for(context: Any) -> list[Action] | None:
    """The after-commit queue of an execution context's connection (None outside one)."""
    connection = getattr(context, "root_connection", None)
    if connection is None:
        return None
    queue: list[Action] = connection.info.setdefault(QUEUE_KEY, [])
    return queue


def _commit(connection: Connection) -> None:
    actions: list[Action] = connection.info.pop(QUEUE_KEY, None) or []
    if not actions:
        return
    try:
        connection.connection.dbapi_connection.commit()  # type: ignore[union-attr]
    except duckdb.Error as error:
        raise exc.DBAPIError.instance("COMMIT", None, error, duckdb.Error) from None
    for action in actions:
        try:
            action()
        except (StageRuntimeError, OSError) as error:
            _log.warning("sqla_stage: a PURGE after COMMIT failed and was ignored: %s", error)


def _rollback(connection: Connection) -> None:
    connection.info.pop(QUEUE_KEY, None)


def install_transaction_events(engine: Engine) -> None:
    """Run the queue on COMMIT and drop it on ROLLBACK, for ``engine``'s connections."""
    event.listen(engine, "commit", _commit)
    event.listen(engine, "rollback", _rollback)
