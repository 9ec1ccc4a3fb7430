"""``staged()``: staged files as a FROM clause, ``SELECT ... FROM @stage/path (...)``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.sql import column
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FormatSpec, coerce_format
from sqla_stage.stage import StagePath, coerce_location


class StagedFiles(TableClause):
    """Files in a stage, queried in place. Build it with [staged][sqla_stage.staged.staged]."""

    __visit_name__ = "sqla_stage_staged"
    inherit_cache = True
    # Columns render unqualified: "@stage/path".col is not valid SQL anywhere.
    named_with_column = False
    _traverse_internals = [
        *TableClause._traverse_internals,
        ("_sql_key", InternalTraversal.dp_plain_obj),
    ]

    def __init__(
        self,
        location: StagePath,
        file_format: FormatSpec | None,
        pattern: str | None,
        columns: tuple[str, ...],
    ) -> None:
        """Use [staged][sqla_stage.staged.staged] instead."""
        self.location = location
        self.file_format = file_format
        self.pattern = pattern
        self._sql_key = (
            location.cache_key(),
            file_format.cache_key() if file_format else None,
            pattern,
        )
        super().__init__(f"@{location.stage.key}/{location.path}", *(column(c) for c in columns))

    def __repr__(self) -> str:
        return f"staged({self.location!r}, file_format={self.file_format!r})"


def staged(
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
    columns: Iterable[str] = (),
) -> StagedFiles:
    """Staged files as a FROM clause.

    Args:
        location: A stage or stage path (``stage / "p/"``) or ``"@stage/p/"``.
        file_format: How to read the files: a type (``Parquet()``) or ``FileFormat(name)``.
        pattern: A regular expression the file names must match.
        columns: Column names, so ``staged(...).c.name`` can be selected.

    Example:
        >>> from sqlalchemy import select, literal_column
        >>> files = staged(Stage("s") / "p/", file_format=Parquet())
        >>> q = select(literal_column("*")).select_from(files)
    """
    owner = "staged"
    where = coerce_location(owner, location)
    if not isinstance(where, StagePath):
        raise StageArgumentError(f"{owner}: expected a stage or stage path, not {where!r}")
    if pattern is not None and (not isinstance(pattern, str) or not pattern):
        raise StageArgumentError(f"{owner}: pattern must be a non-empty string, not {pattern!r}")
    names = tuple(columns)
    if not all(isinstance(name, str) and name for name in names):
        raise StageArgumentError(f"{owner}: columns must be names, not {names!r}")
    return StagedFiles(where, coerce_format(owner, file_format), pattern, names)
