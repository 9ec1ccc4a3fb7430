"""``staged()``: staged files as a FROM clause, ``SELECT ... FROM @stage/path (...) alias``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.sql import column
from sqlalchemy.sql.expression import Alias, TableClause
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FormatSpec, coerce_format
from sqla_stage.stage import StagePath, coerce_location


class StagedFiles(TableClause):
    """Files in a stage, queried in place. Build it with [staged][sqla_stage.staged.staged]."""

    __visit_name__ = "sqla_stage_staged"
    inherit_cache = True
    # "@stage/path".col is not valid SQL anywhere: columns are qualified by an alias
    # (StagedAlias), and a StagedFiles without one has no columns.
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

    def alias(self, name: str | None = None, flat: bool = False) -> StagedAlias:  # type: ignore[override,unused-ignore]
        """The files under the alias ``name`` (an anonymous one by default)."""
        return StagedAlias._construct(self, name=name)

    def __repr__(self) -> str:
        return f"staged({self.location!r}, file_format={self.file_format!r})"


class StagedAlias(Alias):
    """Staged files under an alias: ``@stage/path (...) AS name``, columns ``name.col``.

    Every column of [staged][sqla_stage.staged.staged] renders qualified, so that a
    join with a table that has a column of the same name compares the right columns.
    """

    inherit_cache = True
    element: StagedFiles

    @property
    def location(self) -> StagePath:
        """The staged location."""
        return self.element.location

    @property
    def file_format(self) -> FormatSpec | None:
        """The format the files are read with (None: the stage's)."""
        return self.element.file_format

    @property
    def pattern(self) -> str | None:
        """The regular expression the files' names must match."""
        return self.element.pattern

    def alias(self, name: str | None = None, flat: bool = False) -> StagedAlias:
        """The same files under another alias."""
        return self.element.alias(name)

    def __repr__(self) -> str:
        name = str(self.name)
        return f"{self.element!r}.alias({'' if name.startswith('%(') else repr(name)})"


def staged(
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
    columns: Iterable[str] = (),
    alias: str | None = None,
) -> StagedFiles | StagedAlias:
    """Staged files as a FROM clause.

    With ``columns`` (or ``alias``) the files get an alias, anonymous by default
    (``@stage/p/ (...) AS anon_1``), and their columns render qualified by it
    (``anon_1.id``): a join with a table that has a column of the same name then
    compares the files' column, not the table's.

    Args:
        location: A stage or stage path (``stage / "p/"``) or ``"@stage/p/"``.
        file_format: How to read the files: a type (``Parquet()``) or ``FileFormat(name)``.
        pattern: A regular expression the file names must match.
        columns: Column names, so ``staged(...).c.name`` can be selected.
        alias: The alias of the files in the query.

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
    if alias is not None and (not isinstance(alias, str) or not alias):
        raise StageArgumentError(f"{owner}: alias must be a non-empty string, not {alias!r}")
    files = StagedFiles(where, coerce_format(owner, file_format), pattern, names)
    return files.alias(alias) if names or alias is not None else files
