"""The exceptions sqla_stage raises.

Every error is a `sqlalchemy.exc` subclass under one package base class,
[StageError][sqla_stage.errors.StageError], so code that already handles SQLAlchemy errors
handles these too, and ``except StageError`` catches all of them.

Errors of the DuckDB runtime are [StageRuntimeError][sqla_stage.errors.StageRuntimeError]s,
which are `sqlalchemy.exc.DBAPIError`s, because that is what the Snowflake and Databend
drivers raise for the same statements. The runtime raises the subclass a warehouse driver
would: [StageProgrammingError][sqla_stage.errors.StageProgrammingError] for an unknown
stage or a statement it refuses, [StageDataError][sqla_stage.errors.StageDataError] for
data that does not fit, [StageOperationalError][sqla_stage.errors.StageOperationalError]
for storage that cannot be reached or written. So ``except sqlalchemy.exc.ProgrammingError``
works the same on a warehouse and on the runtime.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc


class StageError(exc.SQLAlchemyError):
    """The base class of every error sqla_stage raises."""


class StageArgumentError(StageError, exc.ArgumentError):
    """A construct was built with an option, value or combination that is not valid."""


class StageParseError(StageError, exc.ArgumentError):
    """SQL text given to [parse][sqla_stage.parse] is not a statement it understands.

    Attributes:
        sql: The text that was parsed.
        position: Offset of the offending token in ``sql``.
        expected: What the parser expected at that position.
    """

    def __init__(self, sql: str, position: int, expected: str, found: str) -> None:
        """Describe a failure at offset ``position`` of ``sql``."""
        line = sql.count("\n", 0, position) + 1
        column = position - (sql.rfind("\n", 0, position) + 1) + 1
        super().__init__(
            f"cannot parse stage SQL at line {line}, column {column} (offset {position}): "
            f"expected {expected}, found {found}"
        )
        self.sql = sql
        self.position = position
        self.expected = expected
        self.found = found


class StageRuntimeError(StageError, exc.DBAPIError):
    """The DuckDB runtime refused or failed to run a stage statement.

    Nothing was changed: the runtime checks before it writes, and publishes files only
    once a statement has succeeded. Unlike a driver's error it carries no SQL text and no
    parameters (they may hold credentials): its message is the whole story.

    Attributes:
        error_code: An engine error code where the spec gives one (MatrixOne's 20101), else None.
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        """Describe what was refused and why."""
        text = message if code is None else f"{message} (error {code})"
        exc.StatementError.__init__(self, text, None, None, None)
        self.connection_invalidated = False
        self.error_code = code
        self._plain_message = message

    def _sql_message(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> Any:
        return self.__class__, (self._plain_message, self.error_code)


class StageProgrammingError(StageRuntimeError, exc.ProgrammingError):
    """A statement names what does not exist or asks for what the runtime does not do."""


class StageDataError(StageRuntimeError, exc.DataError):
    """The data of a load or an unload does not fit the statement's format or table."""


class StageIntegrityError(StageRuntimeError, exc.IntegrityError):
    """A load breaks a constraint of its table (a primary key, a unique or check constraint)."""


class StageOperationalError(StageRuntimeError, exc.OperationalError):
    """The storage of a stage cannot be reached, read or written."""
