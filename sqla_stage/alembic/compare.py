"""Autogenerate's comparison of the stages in the metadata with those in the database.

The stages of ``target_metadata`` are those `sqla_stage.metadata.stages_of` lists
(``metadata.info["sqla_stage.stages"]``, where a ``Stage(name, metadata)`` registers).
The database's are read by `sqla_stage.alembic.reflect`. Then:

- a stage only in the metadata: ``op.create_stage(...)`` (its reverse drops it);
- a stage only in the database: ``op.drop_stage(...)``, carrying the stage's definition
  so the downgrade creates it again; where the reflection did not read every property,
  the downgrade's ``op.create_stage(..., unknown=(...))`` names the missing ones and
  refuses to run until the migration gives them;
- a stage in both whose URL, credentials (which keys, and the values that are not
  secret), encryption, storage integration, directory setting, file format, copy
  options or comment differ: ``op.alter_stage(...)`` with the new values and the
  stage's whole definition before the change (``existing={...}``), which engines
  without ``ALTER STAGE`` (Databend) re-create it from;
- a stage that turns internal to external or back: a drop and a create (no engine
  alters that, and an internal stage's files go with the drop).

The stage operations come after the table operations (on Alembic 1.18 and later), so an
upgrade creates tables, then stages, and a downgrade drops stages first. Only what the
reflection could read is compared. Stages go through the environment's
``include_name`` (``type_ == "stage"``, ``parent_names["schema_name"]``) and
``include_object`` hooks, like tables. Each operation is logged, as Alembic logs the
tables it finds (``Detected added stage 'exports'``, ``Detected removed stage ...``,
``Detected changed stage 'exports' (url, comment)``: names only, never values), on
Alembic's logger ``alembic.autogenerate.compare``, which ``alembic.ini`` shows.
"""

from __future__ import annotations

import logging
from typing import Any

from alembic.autogenerate import comparators
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrateOperation, UpgradeOps
from sqlalchemy import MetaData

from sqla_stage.alembic.operations import AlterStageOp, CreateStageOp, DropStageOp
from sqla_stage.alembic.reflect import ReflectedStage, reflect_stages
from sqla_stage.credentials import Credentials
from sqla_stage.ddl import ALTERABLE
from sqla_stage.metadata import stages_of
from sqla_stage.options import options_key
from sqla_stage.stage import Stage, StageKind

#: Alembic's own logger of what autogenerate detects (``alembic.ini`` shows it at INFO).
log = logging.getLogger("alembic.autogenerate.compare")


def signature(stage: Stage, name: str) -> object:
    """A comparable form of one property: secrets masked, defaults made explicit."""
    value = getattr(stage, name)
    if name in ("credentials", "encryption"):
        return value.masked() if value else None
    if name == "file_format":
        return value.cache_key() if value is not None else None
    if name == "copy_options":
        return options_key(value)
    if name == "directory":
        return bool(value)
    if name == "storage_integration":
        return value.lower() if value else None
    return value or None  # url, comment ('' is no comment)


def changed_properties(reflected: ReflectedStage, stage: Stage) -> list[str]:
    """The properties of ``stage`` (the metadata's) that differ from the database's."""
    found = reflected.stage
    changed = [
        name
        for name in ALTERABLE
        if name in reflected.known and signature(found, name) != signature(stage, name)
    ]
    presence = reflected.has_credentials
    only_presence = presence is not None and "credentials" not in reflected.known
    if only_presence and presence != bool(stage.credentials):
        changed.append("credentials")
    return [name for name in ALTERABLE if name in changed]


def _existing(reflected: ReflectedStage, stage: Stage, changed: list[str]) -> dict[str, Any]:
    """The database's values where read, else the metadata's (taken as unchanged).

    Where only the presence of credentials was read and it differs from the metadata's,
    the old credentials are named by placeholders (the migration reads them from the
    environment).
    """
    existing = {}
    for name in ALTERABLE:
        source = reflected.stage if name in reflected.known else stage
        existing[name] = getattr(source, name)
    if "credentials" not in reflected.known and "credentials" in changed:
        placeholder = Credentials({"aws_key_id": "?", "aws_secret_key": "?"})
        existing["credentials"] = placeholder if reflected.has_credentials else None
    return existing


def unread(reflected: ReflectedStage) -> list[str]:
    """The properties of a database's stage that were not read (none known to be unset)."""
    known = set(reflected.known)
    if reflected.has_credentials is False:
        known.add("credentials")
    return [name for name in ALTERABLE if name not in known]


def stage_operations(reflected: ReflectedStage | None, stage: Stage | None) -> list[Any]:
    """The operations that turn the database's stage into the metadata's."""
    if reflected is None:
        assert stage is not None
        return [CreateStageOp(stage)]
    if stage is None:
        return [DropStageOp.from_stage(reflected.stage, unread(reflected))]
    if "url" in reflected.known:
        was_internal = reflected.stage.kind is StageKind.INTERNAL
        if was_internal != (stage.kind is StageKind.INTERNAL):
            drop = DropStageOp.from_stage(reflected.stage, unread(reflected))
            return [drop, CreateStageOp(stage)]
    changed = changed_properties(reflected, stage)
    if not changed:
        return []
    changes = {name: getattr(stage, name) for name in changed}
    existing = {
        name: value
        for name, value in _existing(reflected, stage, changed).items()
        if value not in (None, {})
    }
    operation = AlterStageOp(
        stage.name, schema=stage.schema, changes=changes, existing=existing, complete=True
    )
    return [operation]


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def log_operation(operation: MigrateOperation) -> None:
    """Log what autogenerate detected, as Alembic does for tables (names, no values)."""
    if isinstance(operation, CreateStageOp):
        log.info(
            "Detected added stage %r", _qualified(operation.stage.schema, operation.stage.name)
        )
    elif isinstance(operation, DropStageOp):
        log.info("Detected removed stage %r", _qualified(operation.schema, operation.stage_name))
    elif isinstance(operation, AlterStageOp):
        name = _qualified(operation.schema, operation.stage_name)
        log.info("Detected changed stage %r (%s)", name, ", ".join(operation.changes))


def _metadata_stages(autogen_context: AutogenContext) -> dict[tuple[str | None, str], Stage]:
    metadata = autogen_context.metadata
    collections = metadata if isinstance(metadata, (list, tuple)) else [metadata]
    stages: dict[tuple[str | None, str], Stage] = {}
    for item in collections:
        if isinstance(item, MetaData):
            stages.update({(stage.schema, stage.name): stage for stage in stages_of(item)})
    return stages


#: The ``type_`` the include hooks see for a stage (Alembic's own types are a Literal).
STAGE_TYPE: Any = "stage"


def _included(
    autogen_context: AutogenContext,
    stage: Stage | None,
    reflected: ReflectedStage | None,
) -> bool:
    """The ``include_name`` hooks for a stage in the database, then ``include_object``."""
    if reflected is not None:
        parents: Any = {"schema_name": reflected.stage.schema}
        if not autogen_context.run_name_filters(reflected.stage.name, STAGE_TYPE, parents):
            return False
    if stage is None:
        assert reflected is not None
        found = reflected.stage
        return autogen_context.run_object_filters(found, found.name, STAGE_TYPE, True, None)
    compare_to = reflected.stage if reflected is not None else None
    return autogen_context.run_object_filters(stage, stage.name, STAGE_TYPE, False, compare_to)


def _register(function: Any) -> Any:
    """Register after Alembic's own comparators where the priority exists (1.18+)."""
    try:
        from alembic.util import DispatchPriority
    except ImportError:  # Alembic before 1.18
        return comparators.dispatch_for("schema")(function)
    return comparators.dispatch_for("schema", priority=DispatchPriority.LAST)(function)


@_register
def compare_stages(
    autogen_context: AutogenContext, upgrade_ops: UpgradeOps, schemas: set[str | None]
) -> None:
    """Add the stage operations that make the database's stages match the metadata."""
    connection = autogen_context.connection
    if connection is None:
        return
    found = reflect_stages(connection)
    if found is None:
        return
    in_metadata = {
        key: stage for key, stage in _metadata_stages(autogen_context).items() if key[0] in schemas
    }
    in_database = {
        (item.stage.schema, item.stage.name): item for item in found if item.stage.schema in schemas
    }
    operations: list[MigrateOperation] = []
    for key in [*in_metadata, *(key for key in in_database if key not in in_metadata)]:
        stage, reflected = in_metadata.get(key), in_database.get(key)
        if _included(autogen_context, stage, reflected):
            operations += stage_operations(reflected, stage)
    for operation in operations:
        log_operation(operation)
    upgrade_ops.ops.extend(operations)
