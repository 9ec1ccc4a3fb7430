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
from sqla_stage.display_hooks import shown_result
from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FileFormat, FormatSpec, coerce_format
from sqla_stage.metadata import register_stage_ddl
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
        result = super()._execute_on_connection(  # type: ignore[no-untyped-call]
            connection, distilled_params, execution_options
        )
        return shown_result(result, self)


def _one_mode(owner: str, if_not_exists: bool, or_replace: bool, or_alter: bool) -> None:
    given = [
        name
        for name, flag in (
            ("if_not_exists", if_not_exists),
            ("or_replace", or_replace),
            ("or_alter", or_alter),
        )
        if flag
    ]
    if len(given) > 1:
        raise StageArgumentError(f"{owner}: {' and '.join(given)} cannot be combined")


class CreateStage(StageDDL):
    """``CREATE [OR REPLACE | OR ALTER] [TEMPORARY] STAGE [IF NOT EXISTS] name ...``.

    Args:
        stage: The stage to create, with its URL, credentials, format and so on.
        if_not_exists: Add ``IF NOT EXISTS``.
        or_replace: Add ``OR REPLACE``.
        or_alter: Add ``OR ALTER`` (Snowflake): create the stage, or alter an existing
            one to exactly this definition (a property not given is reset to its default;
            an internal stage keeps its files).

    Raises:
        StageArgumentError: the stage is the user stage or a table stage, or more than
            one of the flags is given.
    """

    __visit_name__ = "sqla_stage_create_stage"

    def __init__(
        self,
        stage: Stage,
        *,
        if_not_exists: bool = False,
        or_replace: bool = False,
        or_alter: bool = False,
    ) -> None:
        """Create ``stage``."""
        owner = "CreateStage"
        if not isinstance(stage, Stage):
            raise StageArgumentError(f"{owner}: expected a Stage, not {stage!r}")
        _refuse_implicit(owner, "created", stage)
        self.element = self.stage = stage
        self.if_not_exists = _flag(owner, "if_not_exists", if_not_exists)
        self.or_replace = _flag(owner, "or_replace", or_replace)
        self.or_alter = _flag(owner, "or_alter", or_alter)
        _one_mode(owner, if_not_exists, or_replace, or_alter)

    def __repr__(self) -> str:
        flags = "".join(
            f", {name}=True"
            for name in ("if_not_exists", "or_replace", "or_alter")
            if getattr(self, name)
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
    As in Snowflake, setting a storage integration replaces the credentials and setting
    credentials replaces the storage integration.
    """
    values: dict[str, Any] = {name: getattr(stage, name) for name in ALTERABLE}
    values.update(changes)
    for given, replaced in (
        ("storage_integration", "credentials"),
        ("credentials", "storage_integration"),
    ):
        if changes.get(given) is not None and replaced not in changes:
            values[replaced] = None
    if values["directory"] is not None:
        values["directory_options"] = stage.directory_options
    encryption = Encryption.coerce(f"Stage({stage.name!r})", values["encryption"])
    external = (
        stage.kind is StageKind.EXTERNAL
        or any(values[name] is not None for name in ("url", "credentials", "storage_integration"))
        or (encryption is not None and encryption["type"] not in _INTERNAL_ENCRYPTION)
    )
    kind = StageKind.EXTERNAL if external else None
    return Stage(stage.name, schema=stage.schema, temporary=stage.temporary, _kind=kind, **values)


class AlterStage(StageDDL):
    """``ALTER STAGE [IF EXISTS] name SET ... | RENAME TO new_name | REFRESH [SUBPATH = '...']``.

    ``SET`` changes some properties of a stage. Snowflake, MatrixOne, DuckDB and the
    default string form get ``ALTER STAGE``; on Databend, which has none, the stage is
    re-created (``CREATE OR REPLACE STAGE``) with its definition after the change, so
    there ``stage`` must be the whole definition. ``RENAME TO`` and ``REFRESH`` (of the
    directory table) are Snowflake's; other engines refuse them when compiling.

    Args:
        stage: The stage: a name, or a [Stage][sqla_stage.Stage] with its current definition.
        if_exists: Add ``IF EXISTS``.
        rename_to: ``RENAME TO``: the new name (a name or a [Stage][sqla_stage.Stage]
            giving a name and schema).
        refresh: ``REFRESH``: refresh the stage's directory table.
        subpath: With ``refresh``: ``SUBPATH = '...'``, the relative path to refresh.
        **changes: The new values: ``url``, ``credentials``, ``encryption``,
            ``storage_integration``, ``directory``, ``file_format``, ``copy_options``,
            ``comment``. ``None`` (or ``""`` for the comment) removes a property.

    Attributes:
        changes: The changed properties and their new values, checked (empty for a
            rename or a refresh).
        altered: The stage after the change.

    Raises:
        StageArgumentError: no change, more than one of changes, ``rename_to`` and
            ``refresh``, an unknown property, a value [Stage][sqla_stage.Stage]
            refuses, the user or a table stage, or removing the URL (an external stage
            cannot become internal: drop and create it).
    """

    __visit_name__ = "sqla_stage_alter_stage"

    def __init__(
        self,
        stage: Stage | str,
        *,
        if_exists: bool = False,
        rename_to: Stage | str | None = None,
        refresh: bool = False,
        subpath: str | None = None,
        **changes: Any,
    ) -> None:
        """Alter ``stage``."""
        owner = "AlterStage"
        self.element = self.stage = coerce_stage(owner, stage)
        _refuse_implicit(owner, "altered", self.stage)
        self.if_exists = _flag(owner, "if_exists", if_exists)
        self.refresh = _flag(owner, "refresh", refresh)
        self.subpath = _subpath(owner, refresh, subpath)
        self.rename_to = None if rename_to is None else coerce_stage(owner, rename_to)
        if self.rename_to is not None:
            _refuse_implicit(owner, "the new name", self.rename_to)
        if sum((bool(changes), refresh, rename_to is not None)) > 1:
            raise StageArgumentError(
                f"{owner}: give properties to change, rename_to or refresh, one of them"
            )
        self.changes: dict[str, Any] = {}
        self.altered = self.stage
        if rename_to is not None or refresh:
            return
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
        if self.rename_to is not None:
            changes = f", rename_to={self.rename_to.key!r}"
        elif self.refresh:
            changes = ", refresh=True" + (f", subpath={self.subpath!r}" if self.subpath else "")
        return f"AlterStage({self.stage.key!r}{changes}{flag})"


def _subpath(owner: str, refresh: bool, subpath: str | None) -> str | None:
    if subpath is None:
        return None
    if not refresh:
        raise StageArgumentError(f"{owner}: subpath goes with refresh=True")
    if not isinstance(subpath, str) or not subpath or subpath.startswith("/"):
        raise StageArgumentError(
            f"{owner}: subpath must be a non-empty relative path, not {subpath!r}"
        )
    return subpath


class CreateFileFormat(StageDDL):
    """``CREATE [OR REPLACE | OR ALTER] [TEMPORARY] FILE FORMAT [IF NOT EXISTS] name TYPE = ...``.

    Args:
        name: The format's name.
        file_format: ``CSV(...)``, ``JSON(...)`` or ``Parquet(...)``.
        schema: The namespace.
        if_not_exists: Add ``IF NOT EXISTS``.
        or_replace: Add ``OR REPLACE``.
        or_alter: Add ``OR ALTER`` (Snowflake): create the format, or give an existing
            one exactly this definition (an option not given is reset to its default).
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
        or_alter: bool = False,
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
        self.or_alter = _flag(owner, "or_alter", or_alter)
        self.temporary = _flag(owner, "temporary", temporary)
        self.comment = comment
        _one_mode(owner, if_not_exists, or_replace, or_alter)

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


register_stage_ddl(CreateStage, DropStage)
