"""DDL constructs: CREATE / DROP STAGE and CREATE / DROP FILE FORMAT.

They are small :class:`~sqlalchemy.schema.ExecutableDDLElement` subclasses, like
SQLAlchemy's ``CreateSequence``: each holds its target and flags, and each
dialect module renders it. DDL is never statement-cached by SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy.schema import ExecutableDDLElement

from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FileFormat, FormatSpec, coerce_format
from sqla_stage.stage import Stage, StageKind


def coerce_stage(owner: str, stage: Stage | str) -> Stage:
    """Accept a :class:`Stage` or a stage name.

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


class CreateStage(ExecutableDDLElement):
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


class DropStage(ExecutableDDLElement):
    """``DROP STAGE [IF EXISTS] name``."""

    __visit_name__ = "sqla_stage_drop_stage"

    def __init__(self, stage: Stage | str, *, if_exists: bool = False) -> None:
        """Drop ``stage`` (a :class:`Stage` or a name)."""
        owner = "DropStage"
        self.element = self.stage = coerce_stage(owner, stage)
        _refuse_implicit(owner, "dropped", self.stage)
        self.if_exists = _flag(owner, "if_exists", if_exists)

    def __repr__(self) -> str:
        flag = ", if_exists=True" if self.if_exists else ""
        return f"DropStage({self.stage.key!r}{flag})"


class CreateFileFormat(ExecutableDDLElement):
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


class DropFileFormat(ExecutableDDLElement):
    """``DROP FILE FORMAT [IF EXISTS] name``."""

    __visit_name__ = "sqla_stage_drop_file_format"

    def __init__(self, name: str, *, schema: str | None = None, if_exists: bool = False) -> None:
        """Drop the named format ``name``."""
        self.name = FileFormat(name, schema)
        self.if_exists = _flag("DropFileFormat", "if_exists", if_exists)

    def __repr__(self) -> str:
        return f"DropFileFormat({self.name.qualified_name!r})"
