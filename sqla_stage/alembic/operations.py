"""The Alembic operations ``op.create_stage``, ``op.drop_stage`` and ``op.alter_stage``.

They follow Alembic's operation plugin API: an `alembic.operations.MigrateOperation` per
operation, registered with ``Operations.register_operation``, each with
``reverse()`` (so autogenerate writes the downgrade) and an implementation that runs the
package's construct through ``operations.execute()``. Online, the construct runs on the
connection (on DuckDB, through the runtime); offline (``alembic upgrade --sql``) it is
compiled for the configured dialect and printed.

``op.alter_stage`` runs [AlterStage][sqla_stage.AlterStage]: ``ALTER STAGE ... SET`` where the
engine has it (one statement per property on MatrixOne, which alters one at a time;
``DIRECTORY`` on its own on Snowflake), ``CREATE OR REPLACE STAGE`` on Databend, and on
the DuckDB runtime a change of the registered definition that keeps an internal stage's
files.

Databend's re-creation needs the stage's whole definition: either ``existing={...}`` (the
whole definition before the change, as autogenerate writes it) or an ``existing_<property>``
for each property Databend has (`RECREATED_FROM`, ``None`` where the stage has none).
Without it the operation refuses to run or print anything, naming what is missing: a
re-created stage would lose its URL (becoming internal), credentials, file format, copy
options or comment. It never reads them back from the database: ``DESC STAGE`` masks the
credentials.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from alembic.operations import MigrateOperation, Operations

from sqla_stage.ddl import ALTERABLE, AlterStage, CreateStage, DropStage, altered_stage
from sqla_stage.errors import StageArgumentError
from sqla_stage.stage import Stage

#: Dialects whose ALTER STAGE sets one property a time (a new URL with its credentials).
ONE_PROPERTY_A_STATEMENT = frozenset({"mysql", "mariadb", "matrixone"})
#: Dialects without ALTER STAGE, which re-create the stage, and the properties they have:
#: each must be known before the change (``None`` where the stage has none).
RECREATED_FROM = {"databend": ("url", "credentials", "file_format", "copy_options", "comment")}


def stage_arguments(stage: Stage) -> dict[str, Any]:
    """The properties that define ``stage`` (those it sets), as keyword arguments."""
    values = {name: getattr(stage, name) for name in ALTERABLE}
    arguments = {name: value for name, value in values.items() if value not in (None, {})}
    if stage.temporary:
        arguments["temporary"] = True
    return arguments


@Operations.register_operation("create_stage")
class CreateStageOp(MigrateOperation):
    """``op.create_stage(...)``: create a stage; its reverse drops it.

    Args:
        stage: The stage to create.
        if_not_exists: Add ``IF NOT EXISTS``.
        unknown: The properties of ``stage`` that are not known (not read from the
            database a drop was generated against): the operation refuses to run
            until the migration gives them.
    """

    def __init__(
        self, stage: Stage, *, if_not_exists: bool = False, unknown: Iterable[str] = ()
    ) -> None:
        """Create ``stage``."""
        self.stage = stage
        self.if_not_exists = if_not_exists
        self.unknown = tuple(unknown)

    @classmethod
    def create_stage(
        cls,
        operations: Operations,
        stage_name: str,
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
        unknown: Iterable[str] = (),
        **definition: Any,
    ) -> None:
        """Create a stage: ``CREATE STAGE`` (the arguments of [sqla_stage.Stage][sqla_stage.Stage]).

        Args:
            operations: Alembic's operations object (``op``).
            stage_name: The stage's name.
            schema: Its schema.
            if_not_exists: Add ``IF NOT EXISTS``.
            unknown: Properties autogenerate could not read (the downgrade of a drop):
                the operation refuses to run while any is named.
            **definition: ``url``, ``credentials``, ``encryption``,
                ``storage_integration``, ``file_format``, ``copy_options``, ``directory``,
                ``comment`` and ``temporary``, as [Stage][sqla_stage.Stage] takes them.
        """
        stage = Stage(stage_name, schema=schema, **definition)
        operations.invoke(cls(stage, if_not_exists=if_not_exists, unknown=unknown))

    def reverse(self) -> DropStageOp:
        """Drop the stage (keeping its definition, so the drop reverses too)."""
        return DropStageOp.from_stage(self.stage, unknown=self.unknown)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """``("add_stage", stage)``, as ``alembic check`` and ``compare_metadata`` show it."""
        return ("add_stage", self.stage)


@Operations.register_operation("drop_stage")
class DropStageOp(MigrateOperation):
    """``op.drop_stage(name)``: drop a stage; its reverse creates it as it was.

    Args:
        stage_name: The stage's name.
        schema: Its schema.
        if_exists: Add ``IF EXISTS``.
        existing: The stage's definition, when known (autogenerate knows it): needed to
            reverse the drop.
        unknown: The properties of ``existing`` that were not read from the database.
    """

    def __init__(
        self,
        stage_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        existing: Stage | None = None,
        unknown: Iterable[str] = (),
    ) -> None:
        """Drop the stage ``stage_name``."""
        self.stage_name = stage_name
        self.schema = schema
        self.if_exists = if_exists
        self.existing = existing
        self.unknown = tuple(unknown)

    @classmethod
    def from_stage(cls, stage: Stage, unknown: Iterable[str] = ()) -> DropStageOp:
        """The drop of ``stage``, carrying its definition (less the ``unknown`` properties)."""
        return cls(stage.name, schema=stage.schema, existing=stage, unknown=unknown)

    @classmethod
    def drop_stage(
        cls,
        operations: Operations,
        stage_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> None:
        """Drop a stage: ``DROP STAGE`` (an internal stage's files go with it).

        Args:
            operations: Alembic's operations object (``op``).
            stage_name: The stage's name.
            schema: Its schema.
            if_exists: Add ``IF EXISTS``.
        """
        operations.invoke(cls(stage_name, schema=schema, if_exists=if_exists))

    def reverse(self) -> CreateStageOp:
        """Create the stage as it was.

        Raises:
            ValueError: the stage's definition is not known.
        """
        if self.existing is None:
            raise ValueError(
                f"drop_stage({self.stage_name!r}) cannot be reversed: its definition is unknown"
            )
        return CreateStageOp(self.existing, unknown=self.unknown)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """``("remove_stage", stage)``."""
        return ("remove_stage", self.existing or Stage(self.stage_name, schema=self.schema))


@Operations.register_operation("alter_stage")
class AlterStageOp(MigrateOperation):
    """``op.alter_stage(name, comment=..., existing_comment=...)``: change a stage.

    Args:
        stage_name: The stage's name.
        schema: Its schema.
        if_exists: Add ``IF EXISTS``.
        changes: The changed properties and their new values.
        existing: The properties before the change. The changed ones make the reverse;
            engines without ``ALTER STAGE`` (Databend) re-create the stage from all of
            them with the changes applied.
        complete: ``existing`` is the stage's whole definition: the properties it does
            not name are unset (autogenerate's operations are complete).

    Raises:
        StageArgumentError: an unknown property, no change, or values the stage refuses.
    """

    def __init__(
        self,
        stage_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        changes: Mapping[str, Any],
        existing: Mapping[str, Any] | None = None,
        complete: bool = False,
    ) -> None:
        """Alter the stage ``stage_name``."""
        self.stage_name = stage_name
        self.schema = schema
        self.if_exists = if_exists
        self.complete = complete
        before = dict(existing or {})
        unknown = sorted({*changes, *before} - set(ALTERABLE))
        if unknown:
            raise StageArgumentError(f"alter_stage: unknown properties {', '.join(unknown)}")
        self.existing = {name: before[name] for name in ALTERABLE if name in before}
        self.changes = {name: changes[name] for name in ALTERABLE if name in changes}
        AlterStage(self.existing_stage(), **self.changes)  # check the values now

    @classmethod
    def alter_stage(
        cls,
        operations: Operations,
        stage_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        existing: Mapping[str, Any] | None = None,
        **properties: Any,
    ) -> None:
        """Change properties of a stage: ``ALTER STAGE ... SET`` (see the module docstring).

        Args:
            operations: Alembic's operations object (``op``).
            stage_name: The stage's name.
            schema: Its schema.
            if_exists: Add ``IF EXISTS``.
            existing: The stage's whole definition before the change (the properties it
                does not name are unset), instead of ``existing_<property>`` arguments.
            **properties: The new values (``url``, ``credentials``, ``encryption``,
                ``storage_integration``, ``directory``, ``file_format``, ``copy_options``,
                ``comment``; ``None`` removes one) and, as ``existing_<property>``, the
                values before the change (needed to reverse it, and on Databend, which
                re-creates the stage, every property the stage has).

        Raises:
            StageArgumentError: an unknown argument, or both ``existing`` and
                ``existing_<property>`` arguments.
        """
        before = {
            name.removeprefix("existing_"): value
            for name, value in properties.items()
            if name.startswith("existing_")
        }
        changes = {name: value for name, value in properties.items() if name in ALTERABLE}
        rest = set(properties) - set(changes) - {f"existing_{name}" for name in before}
        if rest:
            raise StageArgumentError(f"alter_stage: unknown arguments {', '.join(sorted(rest))}")
        if existing is not None and before:
            raise StageArgumentError(
                "alter_stage: give existing={...} (the whole definition) or "
                "existing_<property> arguments, not both"
            )
        op = cls(
            stage_name,
            schema=schema,
            if_exists=if_exists,
            changes=changes,
            existing=before if existing is None else existing,
            complete=existing is not None,
        )
        operations.invoke(op)

    def existing_stage(self) -> Stage:
        """The stage before the change, as far as ``existing`` tells."""
        return altered_stage(Stage(self.stage_name, schema=self.schema), self.existing)

    def reverse(self) -> AlterStageOp:
        """The change back to the existing values.

        Raises:
            ValueError: an ``existing_<property>`` value of a changed property is missing.
        """
        missing = [name for name in self.changes if name not in self.existing]
        if missing and not self.complete:
            raise ValueError(
                f"alter_stage({self.stage_name!r}) cannot be reversed: give "
                + ", ".join(f"existing_{name}" for name in missing)
            )
        return AlterStageOp(
            self.stage_name,
            schema=self.schema,
            if_exists=self.if_exists,
            changes={name: self.existing.get(name) for name in self.changes},
            existing={**self.existing, **self.changes},
            complete=self.complete,
        )

    def missing_definition(self, dialect_name: str) -> list[str]:
        """What a dialect that re-creates the stage needs and the operation does not know.

        Nothing on dialects with ``ALTER STAGE``, or when ``existing`` is complete. An
        internal stage (a known ``url`` of ``None``) needs no credentials.
        """
        needed = RECREATED_FROM.get(dialect_name, ())
        if self.complete:
            return []
        known = {**self.existing, **self.changes}
        internal = "url" in known and known["url"] is None
        return [
            name
            for name in needed
            if name not in known and not (internal and name == "credentials")
        ]

    def to_diff_tuple(self) -> tuple[Any, ...]:
        """``("modify_stage", schema, name, changes)``."""
        return ("modify_stage", self.schema, self.stage_name, self.changes)


def statement_groups(dialect_name: str, changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The changes of one ``alter_stage`` split into what one ALTER STAGE can do."""
    if dialect_name in ONE_PROPERTY_A_STATEMENT:
        rest = dict(changes)
        groups = []
        if "url" in rest:
            url = {"url": rest.pop("url")}
            if "credentials" in rest:
                url["credentials"] = rest.pop("credentials")
            groups.append(url)
        return groups + [{name: value} for name, value in rest.items()]
    if dialect_name == "snowflake" and "directory" in changes and len(changes) > 1:
        rest = {name: value for name, value in changes.items() if name != "directory"}
        return [rest, {"directory": changes["directory"]}]
    return [dict(changes)]


@Operations.implementation_for(CreateStageOp)
def create_stage(operations: Operations, operation: CreateStageOp) -> None:
    """Run ``CREATE STAGE``.

    Raises:
        StageArgumentError: some of the stage's properties are unknown (nothing is run).
    """
    if operation.unknown:
        raise StageArgumentError(
            f"create_stage({operation.stage.name!r}): its {', '.join(operation.unknown)} "
            "could not be read from the database the migration was generated against; "
            "write them into the migration (None where the stage has none) and remove unknown="
        )
    operations.execute(CreateStage(operation.stage, if_not_exists=operation.if_not_exists))


@Operations.implementation_for(DropStageOp)
def drop_stage(operations: Operations, operation: DropStageOp) -> None:
    """Run ``DROP STAGE``."""
    stage = Stage(operation.stage_name, schema=operation.schema)
    operations.execute(DropStage(stage, if_exists=operation.if_exists))


@Operations.implementation_for(AlterStageOp)
def alter_stage(operations: Operations, operation: AlterStageOp) -> None:
    """Run ``ALTER STAGE`` (as many as the dialect needs).

    Raises:
        StageArgumentError: the dialect re-creates the stage and the operation does not
            know its whole definition (nothing is run or printed).
    """
    stage = operation.existing_stage()
    dialect_name = operations.get_context().dialect.name
    missing = operation.missing_definition(dialect_name)
    if missing:
        raise StageArgumentError(
            f"alter_stage({operation.stage_name!r}): {dialect_name} has no ALTER STAGE, so the "
            "stage is re-created (CREATE OR REPLACE STAGE) from its whole definition; give "
            + ", ".join(f"existing_{name}" for name in missing)
            + " (None where the stage has none), or existing={...}, the whole definition "
            "before the change"
        )
    for changes in statement_groups(dialect_name, operation.changes):
        statement = AlterStage(stage, if_exists=operation.if_exists, **changes)
        operations.execute(statement)
        stage = statement.altered
