"""How stages join a ``MetaData``: ``create_all`` and ``drop_all`` manage them.

``MetaData.create_all`` only visits tables and sequences, so stages ride on the
MetaData's ``after_create`` / ``before_drop`` DDL events, the way PostgreSQL ENUM
types do. The stages are kept in ``metadata.info["sqla_stage.stages"]``, where
Alembic's autogenerate (and any tool) can find them. The statements the events run
(``CreateStage``, ``DropStage``) are registered by `sqla_stage.ddl`, which is above this
module (`register_stage_ddl`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, event

from sqla_stage.errors import StageArgumentError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from sqla_stage.stage import Stage

INFO_KEY = "sqla_stage.stages"

#: The DDL constructs the events execute: ``"create"`` and ``"drop"`` (`register_stage_ddl`).
_STAGE_DDL: dict[str, Callable[..., Any]] = {}


def register_stage_ddl(create: Callable[..., Any], drop: Callable[..., Any]) -> None:
    """Set the constructs that create and drop a stage (``CreateStage``, ``DropStage``)."""
    _STAGE_DDL.update(create=create, drop=drop)


def stages_of(metadata: MetaData) -> list[Stage]:
    """The stages that joined ``metadata``, in the order they were defined."""
    return list(metadata.info.get(INFO_KEY, {}).values())


def add_stage(metadata: MetaData, stage: Stage) -> None:
    """Add ``stage`` to ``metadata`` and make sure create_all / drop_all manage stages.

    Raises:
        StageArgumentError: another stage of the same name is already in ``metadata``.
    """
    stages: dict[str, Stage] = metadata.info.setdefault(INFO_KEY, {})
    existing = stages.get(stage.key)
    if existing is not None and existing is not stage:
        raise StageArgumentError(f"Stage {stage.key!r} is already defined in this MetaData")
    stages[stage.key] = stage
    if not event.contains(metadata, "after_create", _create_stages):
        event.listen(metadata, "after_create", _create_stages)
        event.listen(metadata, "before_drop", _drop_stages)


def _create_stages(target: MetaData, connection: Connection, **kw: Any) -> None:
    # SQLAlchemy 2.0 passes checkfirst as a bool, 2.1 as a CheckFirst flag (NONE is falsy).
    checkfirst = bool(kw.get("checkfirst", False))
    for stage in stages_of(target):
        connection.execute(_STAGE_DDL["create"](stage, if_not_exists=checkfirst))


def _drop_stages(target: MetaData, connection: Connection, **kw: Any) -> None:
    checkfirst = bool(kw.get("checkfirst", False))
    for stage in reversed(stages_of(target)):
        connection.execute(_STAGE_DDL["drop"](stage, if_exists=checkfirst))
