"""DuckDB's errors in a warehouse driver's terms: their first line, and the class to raise.

The runtime re-raises a DuckDB error of a stage statement as the
`StageRuntimeError` subclass a Snowflake or Databend driver would raise for it, so
``except sqlalchemy.exc.IntegrityError`` catches a duplicate key of a load on every engine.
"""

from __future__ import annotations

import duckdb

from sqla_stage.errors import (
    StageDataError,
    StageIntegrityError,
    StageOperationalError,
    StageProgrammingError,
    StageRuntimeError,
)

#: DuckDB's exception classes, most specific first, and the class the runtime raises.
_CLASSES: tuple[tuple[type[duckdb.Error], type[StageRuntimeError]], ...] = (
    (duckdb.ConstraintException, StageIntegrityError),
    (duckdb.IOException, StageOperationalError),
    (duckdb.HTTPException, StageOperationalError),
    (duckdb.CatalogException, StageProgrammingError),
    (duckdb.BinderException, StageProgrammingError),
    (duckdb.ParserException, StageProgrammingError),
)


def error_class(error: duckdb.Error) -> type[StageRuntimeError]:
    """The runtime's error class for a DuckDB error (data errors by default)."""
    for duckdb_class, stage_class in _CLASSES:
        if isinstance(error, duckdb_class):
            return stage_class
    return StageDataError


def first_line(error: BaseException) -> str:
    """The first line of a DuckDB error message (a Python traceback's last line).

    An error of a Python filesystem (S3 through fsspec) reaches DuckDB as a traceback;
    its last line names the exception.
    """
    text = str(error).strip()
    head, mark, trace = text.partition("Traceback (most recent call last):")
    if mark:
        last = [line for line in trace.splitlines() if line.strip() and not line[0].isspace()]
        return f"{head.strip()} {last[-1].strip()}".strip() if last else head.strip() or mark
    return text.splitlines()[0] if text else type(error).__name__
