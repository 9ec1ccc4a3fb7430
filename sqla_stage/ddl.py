"""DDL constructs: CREATE / ALTER / DROP STAGE and CREATE / DROP FILE FORMAT.

They are small `sqlalchemy.schema.ExecutableDDLElement` subclasses, like SQLAlchemy's
``CreateSequence``: each holds its target and flags, and each dialect module renders it.
DDL is never statement-cached by SQLAlchemy. Executed, they return a
[StageResult][sqla_stage.display.StageResult] (the runtime's ``status`` row).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.schema import ExecutableDDLElement

from sqla_stage.credentials import Encryption
from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FileFormat, FormatSpec, coerce_format
from sqla_stage.stage import Stage, StageKind


def coerce_stage(owner: str, stage: Stage | str) -> Stage:
    """Accept a [Stage][sqla_stage.Stage] or a stage name.

    Raises:
        StageArgumentError: anything else.
    """
    if isinstance(stage, Stage):
        return stage
    if isinstance(stage, str) and stage:
        if stage == "~" or stage == "@~":
            return Stage.user()
        return Stage(stage)
    raise StageArgumentError(f"{owner}: expected a Stage or a stage name, not {stage!r}")


def _refuse_implicit(owner: str, verb: str, stage: Stage) -> None:
    if stage.kind is StageKind.USER:
        raise StageArgumentError(
            f"{owner}: the user stage @~ cannot be {verb}; "
            "every user has one (Databend user-stage RFC)"
        )
    if stage.kind is StageKind.TABLE:
        raise StageArgumentError(
            f"{owner}: the table stage @%{stage.name} cannot be {verb}; it belongs to its table"
        )


def _flag(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise StageArgumentError(f"{owner}: {name} must be True or False, not {value!r}")
    return value


class StageDDL(ExecutableDDLElement):
    """The base of the package's DDL: its result shows as a table."""

    def _execute_on_connection(
        self, connection: Any, distilled_params: Any, execution_options: Any
    ) -> Any:
        from sqla_stage.display import wrap_result

        result = super()._execute_on_connection(  # type: ignore[no-untyped-call]
            connection, distilled_params, execution_options
        )
        return wrap_result(result, self)


class CreateStage(StageDDL):
    """``CREATE [OR REPLACE] [TEMPORARY] STAGE [IF NOT EXISTS] name ...``.

    Args:
        stage: The stage to create, with its URL, credentials, format and so on.
        if_not_exists: Add ``IF NOT EXISTS``.
        or_replace: Add ``OR REPLACE``.

    Raises:
        StageArgumentError: the stage is the user stage or a table stage, or both
            flags are given.
    """

    __visit_name__ = "sqla_stage_create_stage"

    def __init__(
        self, stage: Stage, *, if_not_exists: bool = False, or_replace: bool = False
    ) -> None:
        """Create ``stage``."""
        owner = "CreateStage"
        if not isinstance(stage, Stage):
            raise StageArgumentError(f"{owner}: expected a Stage, not {stage!r}")
        _refuse_implicit(owner, "created", stage)
        self.element = self.stage = stage
        self.if_not_exists = _flag(owner, "if_not_exists", if_not_exists)
        self.or_replace = _flag(owner, "or_replace", or_replace)
        if if_not_exists and or_replace:
            raise StageArgumentError(f"{owner}: if_not_exists and or_replace cannot be combined")

    def __repr__(self) -> str:
        flags = "".join(
            f", {name}=True" for name in ("if_not_exists", "or_replace") if getattr(self, name)
        )
        return f"CreateStage({self.stage!r}{flags})"


class DropStage(StageDDL):
    """``DROP STAGE [IF EXISTS] name``."""

    __visit_name__ = "sqla_stage_drop_stage"

    def __init__(self, stage: Stage | str, *, if_exists: bool = False) -> None:
        """Drop ``stage`` (a [Stage][sqla_stage.Stage] or a name)."""
        owner = "DropStage"
        self.element = self.stage = coerce_stage(owner, stage)
        _refuse_implicit(owner, "dropped", self.stage)
        self.if_exists = _flag(owner, "if_exists", if_exists)

    def __repr__(self) -> str:
        flag = ", if_exists=True" if self.if_exists else ""
        return f"DropStage({self.stage.key!r}{flag})"


_INTERNAL_ENCRYPTION = ("SNOWFLAKE_FULL", "SNOWFLAKE_SSE", "NONE")
#: The properties ``ALTER STAGE ... SET`` changes, in the order they are rendered.
ALTERABLE = (
    "url",
    "credentials",
    "encryption",
    "storage_integration",
    "directory",
    "file_format",
    "copy_options",
    "comment",
)


def altered_stage(stage: Stage, changes: dict[str, Any]) -> Stage:
    """``stage`` with ``changes`` applied (each checked as [Stage][sqla_stage.Stage] checks it).

    Credentials, an external encryption type or a storage integration without a known
    URL make an external stage: an ``ALTER`` names a stage without saying what it is.
    """
    values: dict[str, Any] = {name: getattr(stage, name) for name in ALTERABLE}
    values.update(changes)
    encryption = Encryption.coerce(f"Stage({stage.name!r})", values["encryption"])
    external = (
        stage.kind is StageKind.EXTERNAL
        or any(values[name] is not None for name in ("url", "credentials", "storage_integration"))
        or (encryption is not None and encryption["type"] not in _INTERNAL_ENCRYPTION)
    )
    kind = StageKind.EXTERNAL if external else None
    return Stage(stage.name, schema=stage.schema, temporary=stage.temporary, _kind=kind, **values)


class AlterStage(StageDDL):
    """``ALTER STAGE [IF EXISTS] name SET ...``: change some properties of a stage.

    Snowflake, MatrixOne, DuckDB and the default string form get ``ALTER STAGE``; on
    Databend, which has none, the stage is re-created (``CREATE OR REPLACE STAGE``) with
    its definition after the change, so there ``stage`` must be the whole definition.

    Args:
        stage: The stage: a name, or a [Stage][sqla_stage.Stage] with its current definition.
        if_exists: Add ``IF EXISTS``.
        **changes: The new values: ``url``, ``credentials``, ``encryption``,
            ``storage_integration``, ``directory``, ``file_format``, ``copy_options``,
            ``comment``. ``None`` (or ``""`` for the comment) removes a property.

    Attributes:
        changes: The changed properties and their new values, checked.
        altered: The stage after the change.

    Raises:
        StageArgumentError: no change, an unknown property, a value [Stage][sqla_stage.Stage]
            refuses, the user or a table stage, or removing the URL (an external stage
            cannot become internal: drop and create it).
    """

    __visit_name__ = "sqla_stage_alter_stage"

    def __init__(self, stage: Stage | str, *, if_exists: bool = False, **changes: Any) -> None:
        """Alter ``stage``."""
        owner = "AlterStage"
        self.element = self.stage = coerce_stage(owner, stage)
        _refuse_implicit(owner, "altered", self.stage)
        self.if_exists = _flag(owner, "if_exists", if_exists)
        unknown = sorted(set(changes) - set(ALTERABLE))
        if unknown or not changes:
            raise StageArgumentError(
                f"{owner}: give the properties to change ({', '.join(ALTERABLE)})"
                + (f", not {', '.join(unknown)}" if unknown else "")
            )
        if "url" in changes and changes["url"] is None:
            raise StageArgumentError(
                f"{owner}: an external stage cannot become internal; drop and create it"
            )
        if changes.get("comment") == "":
            changes["comment"] = None
        self.altered = altered_stage(self.stage, changes)
        self.changes = {name: getattr(self.altered, name) for name in ALTERABLE if name in changes}

    def __repr__(self) -> str:
        flag = ", if_exists=True" if self.if_exists else ""
        changes = "".join(f", {name}={value!r}" for name, value in self.changes.items())
        return f"AlterStage({self.stage.key!r}{changes}{flag})"


class CreateFileFormat(StageDDL):
    """``CREATE [OR REPLACE] [TEMPORARY] FILE FORMAT [IF NOT EXISTS] name TYPE = ... [COMMENT]``.

    Args:
        name: The format's name.
        file_format: ``CSV(...)``, ``JSON(...)`` or ``Parquet(...)``.
        schema: The namespace.
        if_not_exists: Add ``IF NOT EXISTS``.
        or_replace: Add ``OR REPLACE``.
        temporary: A temporary format (Snowflake).
        comment: A comment.
    """

    __visit_name__ = "sqla_stage_create_file_format"

    def __init__(
        self,
        name: str,
        file_format: FormatSpec | type[FormatSpec] | str,
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
        or_replace: bool = False,
        temporary: bool = False,
        comment: str | None = None,
    ) -> None:
        """Create the named format ``name``."""
        owner = "CreateFileFormat"
        spec = coerce_format(owner, file_format)
        if spec is None or isinstance(spec, FileFormat):
            raise StageArgumentError(
                f"{owner}: file_format must be CSV(...), JSON(...) or Parquet(...), "
                f"not {file_format!r}"
            )
        if comment is not None and not isinstance(comment, str):
            raise StageArgumentError(f"{owner}: comment must be a string, not {comment!r}")
        self.name = FileFormat(name, schema)
        self.file_format = spec
        self.if_not_exists = _flag(owner, "if_not_exists", if_not_exists)
        self.or_replace = _flag(owner, "or_replace", or_replace)
        self.temporary = _flag(owner, "temporary", temporary)
        self.comment = comment
        if if_not_exists and or_replace:
            raise StageArgumentError(f"{owner}: if_not_exists and or_replace cannot be combined")

    def __repr__(self) -> str:
        return f"CreateFileFormat({self.name.qualified_name!r}, {self.file_format!r})"


class DropFileFormat(StageDDL):
    """``DROP FILE FORMAT [IF EXISTS] name``."""

    __visit_name__ = "sqla_stage_drop_file_format"

    def __init__(self, name: str, *, schema: str | None = None, if_exists: bool = False) -> None:
        """Drop the named format ``name``."""
        self.name = FileFormat(name, schema)
        self.if_exists = _flag("DropFileFormat", "if_exists", if_exists)

    def __repr__(self) -> str:
        return f"DropFileFormat({self.name.qualified_name!r})"
