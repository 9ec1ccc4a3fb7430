"""``staged()``: staged files as a FROM clause, ``SELECT ... FROM @stage/path (...) alias``.

The files' columns are names (untyped), typed Core columns (``sa.column("id", Integer)``),
ORM attributes (``User.id``) or a whole mapped class (``columns=User``: its mapped table
columns, named by their column names, with their types). Typed columns read as their types:
the dialects render the files as ``(SELECT CAST(id AS INTEGER) AS id, ... FROM @s/p/) AS
alias`` (see ``Renderer.staged``), so a value that does not convert is the engine's error.
`staged_entity` is the ORM form: the mapped class aliased to its staged files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy.orm import aliased
from sqlalchemy.sql import column
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.expression import Alias, TableClause
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.entities import column_name, entity_inspection
from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FormatSpec, coerce_format
from sqla_stage.locations import coerce_location
from sqla_stage.stage import StagePath


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
        columns: tuple[ColumnClause[Any], ...],
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
        super().__init__(f"@{location.stage.key}/{location.path}", *columns)

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


#: What ``columns=`` takes: names, Core columns, ORM attributes, or a mapped class.
StagedColumns = Iterable[Any] | type[Any]

_T = TypeVar("_T")


def _entity_columns(owner: str, value: object) -> tuple[ColumnClause[Any], ...] | None:
    """The columns of a mapped class (or ``aliased()`` entity): its mapped table columns.

    Each is named by its column name (``nm = mapped_column("name")`` gives ``name``) and
    typed by its column's type; SQL expressions mapped with ``column_property`` are no
    columns of the files and are left out. None when ``value`` is not mapped.
    """
    inspected = entity_inspection(value)
    if inspected is None:
        return None
    found: dict[str, ColumnClause[Any]] = {}
    for mapped in inspected.mapper.columns:
        if isinstance(mapped, ColumnClause) and not mapped.is_literal:
            found.setdefault(str(mapped.name), _standing_for(str(mapped.name), mapped))
    if not found:
        raise StageArgumentError(f"{owner}: {value!r} maps no table column")
    return tuple(found.values())


def _standing_for(name: str, source: object) -> ColumnClause[Any]:
    """A new column ``name`` of the files, typed as ``source`` and standing for it.

    A table's column (``users.c.id``, ``User.id``) becomes the files' column's proxy, as
    SQLAlchemy makes a subquery's columns proxies of theirs: ``aliased(User, files)`` and
    the ORM's adaptation (a relationship's join condition, ``User.id == 1``) then find
    ``files.c.id`` for ``users.id``. A column of no table, or a name, is only typed.
    """
    kind = getattr(source, "type", None)
    files_column: ColumnClause[Any] = column(name, kind if kind is not None else NullType())
    clause = source.__clause_element__() if hasattr(source, "__clause_element__") else source
    if isinstance(clause, ColumnClause) and clause.table is not None:
        files_column._proxies = [clause._deannotate()]
    return files_column


def _file_column(owner: str, value: object) -> ColumnClause[Any]:
    """One column of ``columns=``: a name, a Core column or an ORM attribute, with its type."""
    if isinstance(value, str) and value:
        return column(value)
    name = column_name(value)
    if name is None or not name or isinstance(value, TableClause):
        raise StageArgumentError(
            f"{owner}: columns must be names, columns or mapped attributes, not {value!r}"
        )
    return _standing_for(name, value)


def staged_columns(owner: str, columns: StagedColumns) -> tuple[ColumnClause[Any], ...]:
    """The files' columns of ``columns=`` (see `staged`), each a new column of its name.

    Raises:
        StageArgumentError: something that is no column, or a name given twice.
    """
    if isinstance(columns, (str, bytes)):
        raise StageArgumentError(f"{owner}: columns must be a list of names, not {columns!r}")
    from_entity = _entity_columns(owner, columns)
    if from_entity is not None:
        return from_entity
    if not isinstance(columns, Iterable):
        raise StageArgumentError(
            f"{owner}: columns must be a mapped class or a list of columns, not {columns!r}"
        )
    result = tuple(_file_column(owner, value) for value in columns)
    names = [str(c.name) for c in result]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise StageArgumentError(f"{owner}: the column {twice[0]!r} is given twice")
    return result


def staged(
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
    columns: StagedColumns = (),
    alias: str | None = None,
) -> StagedFiles | StagedAlias:
    """Staged files as a FROM clause.

    With ``columns`` (or ``alias``) the files get an alias, anonymous by default
    (``@stage/p/ (...) AS anon_1``), and their columns render qualified by it
    (``anon_1.id``): a join with a table that has a column of the same name then
    compares the files' column, not the table's.

    Typed columns (``sa.column("id", Integer)``, ``User.id``, or ``columns=User``) are
    read as their types: the engine casts the files' values (``CAST(id AS INTEGER)``),
    and a value that does not convert is an error. Columns are matched by name: Parquet
    and JSON fields, or the CSV header of a format with ``SKIP_HEADER = 1``.

    Args:
        location: A stage or stage path (``stage / "p/"``) or ``"@stage/p/"``.
        file_format: How to read the files: a type (``Parquet()``) or ``FileFormat(name)``.
        pattern: A regular expression the file names must match.
        columns: The files' columns, so ``staged(...).c.name`` can be selected: names,
            typed Core columns, ORM attributes, or a mapped class (all its columns).
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
    names = staged_columns(owner, columns)
    if alias is not None and (not isinstance(alias, str) or not alias):
        raise StageArgumentError(f"{owner}: alias must be a non-empty string, not {alias!r}")
    files = StagedFiles(where, coerce_format(owner, file_format), pattern, names)
    return files.alias(alias) if names or alias is not None else files


def staged_entity(
    entity: type[_T],
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
    alias: str | None = None,
) -> type[_T]:
    """The mapped class ``entity`` over staged files: the ORM form of `staged`.

    It is ``aliased(entity, staged(location, ..., columns=entity), adapt_on_names=True)``:
    ``select()`` of it returns ``entity`` instances read from the files, typed as the
    mapped columns, and its attributes filter, order and join as the class's do. Like
    ``aliased()``, it is typed as the class, so an IDE completes its attributes.

    Args:
        entity: A mapped class.
        location: A stage or stage path (``stage / "p/"``) or ``"@stage/p/"``.
        file_format: How to read the files (see `staged`).
        pattern: A regular expression the file names must match.
        alias: The alias of the files in the query (anonymous by default).

    Example:
        >>> staged_users = staged_entity(User, landing / "u/", file_format=Parquet())
        >>> session.scalars(select(staged_users).where(staged_users.id > 1)).all()
    """
    if entity_inspection(entity) is None:
        raise StageArgumentError(f"staged_entity: {entity!r} is not a mapped class")
    files = staged(location, file_format=file_format, pattern=pattern, columns=entity, alias=alias)
    return aliased(entity, files, adapt_on_names=True)
