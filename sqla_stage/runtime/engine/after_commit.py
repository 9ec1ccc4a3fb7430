"""Work that waits for the user's transaction: PURGE removes loaded files after COMMIT.

Files are not transactional, rows are. A load with ``PURGE = TRUE`` therefore queues
the removal of its files on the SQLAlchemy connection (`queue_for`), and the
``commit`` event runs the queue only once DuckDB has committed the rows: a load that is
rolled back, or whose COMMIT fails, keeps its source files, and running it again loads
them. A ROLLBACK (or closing the connection without committing) drops the queue.

SQLAlchemy fires ``commit`` before it asks the driver to commit, so the listener commits
the DuckDB connection itself first; SQLAlchemy's own commit that follows is then a no-op
on DuckDB. A purge that fails after the commit is ignored, as Snowflake ignores it.

The queue lives in ``Connection.info``, which belongs to the pooled DBAPI connection and
outlives one checkout. So the queue is also dropped when the connection goes back to the
pool (``checkin``: a connection garbage-collected in a transaction is rolled back there,
with no ``rollback`` event) and when it is invalidated: a later commit on the same pooled
connection never runs the PURGE of a load that did not commit.

DuckDB has no savepoints, so there is no rollback to a savepoint to undo part of the
queue: `refuse_savepoint` turns ``Session.begin_nested()`` / ``Connection.begin_nested()``
into a clear error before anything is queued or written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import duckdb
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.expression import (
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
)

from sqla_stage.errors import StageProgrammingError, StageRuntimeError
from sqla_stage.runtime.engine import log_redaction

#: Key of the queue in ``Connection.info`` (kept with the DBAPI connection).
QUEUE_KEY = "sqla_stage.after_commit"

_log = logging.getLogger(__name__)

Action = Callable[[], object]
_SAVEPOINT_CLAUSES = (SavepointClause, RollbackToSavepointClause, ReleaseSavepointClause)
_SAVEPOINT_TEXT = re.compile(
    r"\s*(?:savepoint\b|release\s+savepoint\b|rollback\s+(?:work\s+|transaction\s+)?to\b)",
    re.I,
)


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
            _log.warning(  # an OSError of a storage library may quote what it was given
                "sqla_stage: a PURGE after COMMIT failed and was ignored: %s",
                log_redaction.redact(str(error)),
            )


def _rollback(connection: Connection) -> None:
    connection.info.pop(QUEUE_KEY, None)


def _returned(dbapi_connection: Any, record: ConnectionPoolEntry, *args: Any) -> None:
    """Drop the queue of a connection that goes back to the pool or is invalidated."""
    record.info.pop(QUEUE_KEY, None)


def refuse_savepoint(statement: str, context: Any) -> None:
    """Refuse a SAVEPOINT, RELEASE or ROLLBACK TO (compiled or text), which DuckDB lacks.

    Raises:
        StageProgrammingError: ``statement`` is one of them.
    """
    compiled = getattr(getattr(context, "compiled", None), "statement", None)
    if isinstance(compiled, _SAVEPOINT_CLAUSES) or _SAVEPOINT_TEXT.match(statement):
        raise StageProgrammingError(
            "savepoints (SAVEPOINT, Session.begin_nested(), Connection.begin_nested()) are "
            "not supported: DuckDB has no savepoints; use one transaction (or "
            "join_transaction_mode='rollback_only' to join an outer one)"
        )


def install_transaction_events(engine: Engine) -> None:
    """Run the queue on COMMIT; drop it on ROLLBACK, checkin and invalidation."""
    event.listen(engine, "commit", _commit)
    event.listen(engine, "rollback", _rollback)
    event.listen(engine, "checkin", _returned)
    event.listen(engine, "invalidate", _returned)
