"""The exceptions sqla_stage raises.

Every error is a :mod:`sqlalchemy.exc` subclass, so code that already handles
SQLAlchemy errors handles these too.
"""

from __future__ import annotations

from sqlalchemy import exc


class StageArgumentError(exc.ArgumentError):
    """A construct was built with an option, value or combination that is not valid."""


class StageParseError(exc.ArgumentError):
    """SQL text given to :func:`sqla_stage.parse` is not a statement it understands.

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


class StageRuntimeError(exc.InvalidRequestError):
    """The DuckDB runtime refused or failed to run a stage statement.

    Nothing was changed: the runtime checks before it writes, and publishes files only
    once a statement has succeeded.

    Attributes:
        error_code: An engine error code where the spec gives one (MatrixOne's 20101), else None.
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        """Describe what was refused and why."""
        super().__init__(message if code is None else f"{message} (error {code})")
        self.error_code = code
