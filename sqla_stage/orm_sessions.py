"""Stage statements in ORM Sessions: pending objects are flushed before they run.

SQLAlchemy 2.1 autoflushes before every statement ``Session.execute`` runs; 2.0 does so
only before statements that involve mapped entities, so an unload of ``select(users)``
right after ``session.add(User(...))`` would miss the new user, and a load of orders
would miss the user they reference. Importing this module (``import sqla_stage`` does)
registers a ``do_orm_execute`` listener on every Session that flushes before a stage
statement and before SQL text (``text("COPY INTO ...")``, which may be one), as 2.1
does, honouring ``Session.autoflush`` and ``with session.no_autoflush:`` as SQLAlchemy's
own autoflush does.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import TextClause

from sqla_stage.statement import StageStatement


def flush_before_stage_statements(state: ORMExecuteState) -> None:
    """The listener: flush the session's pending changes before a stage statement."""
    if isinstance(state.statement, (StageStatement, TextClause)) and state.session.autoflush:
        state.session.flush()


if not event.contains(Session, "do_orm_execute", flush_before_stage_statements):
    event.listen(Session, "do_orm_execute", flush_before_stage_statements)
