"""``CopyInto``: unload a table or query into files, or load files into a table.

``CopyInto(location, source)`` unloads (COPY INTO <location>, spec 004);
``CopyInto(table, location)`` loads (COPY INTO <table>). A mapped class or ``aliased()``
entity stands for its table on either side (`sqla_stage.entity_tables`). The options are keyword
arguments with Python values, checked here against `sqla_stage.options`;
how each renders per engine is in `sqla_stage.dialects`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.sql import ColumnElement, Select, literal_column
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.expression import Alias, TableClause
from sqlalchemy.sql.selectable import SelectBase
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.entities import column_name, entity_inspection
from sqla_stage.entity_tables import load_table, unload_source
from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FormatSpec, coerce_format
from sqla_stage.locations import coerce_location
from sqla_stage.options import (
    LOAD_OPTIONS,
    UNLOAD_OPTIONS,
    OptionValue,
    check_options,
    options_key,
    options_repr,
)
from sqla_stage.stage import Location, Stage, StagePath
from sqla_stage.statement import StageStatement

_EXTERNAL_ONLY = ("credentials", "encryption", "storage_integration")
_LOAD = "COPY INTO <table>"
_UNLOAD = "COPY INTO <location>"


class CopyInto(StageStatement):
    """``COPY INTO`` in both directions.

    Args:
        target: Where the data goes. A ``Table``, a mapped class or an ``aliased()``
            entity loads into that table (`sqla_stage.entity_tables`); a
            [Stage][sqla_stage.Stage], a stage path (``stage / "p/"``),
            ``"@stage/p/"`` text or a URL (``"s3://bucket/p/"``) unloads into files.
        source: Where the data comes from. For an unload a ``Table``, a mapped class,
            an ``aliased()`` entity or a ``select()`` (ORM ones too);
            for a load a stage, stage path, ``"@stage/p/"`` or URL, or a ``select()``
            over [staged][sqla_stage.staged.staged] files (a load with transformation).
        file_format: ``CSV(...)``, ``JSON(...)``, ``Parquet(...)`` or ``FileFormat(name)``.
        credentials: For a URL location: ``aws_key_id``, ``aws_secret_key``, ...
        encryption: For a URL location: ``{"type": ..., "kms_key_id": ...}``.
        storage_integration: For a URL location: a Snowflake storage integration.
        partition_by: (unload) An expression, or SQL text, naming each file's folder.
        columns: (load) The target columns to fill, as names, ``Column`` objects or
            mapped attributes (``User.name`` gives its column's name).
        **options: Copy options. Unload: ``overwrite``, ``single``, ``max_file_size``,
            ``include_query_id``, ``detailed_output``, ``header``,
            ``validation_mode="RETURN_ROWS"``. Load: ``files``, ``pattern``,
            ``on_error``, ``force``, ``purge``, ``match_by_column_name``,
            ``validation_mode``.

    Raises:
        StageArgumentError: an unknown option, a value of the wrong type, an option
            of the other direction, ``include_query_id`` with ``single`` or
            ``overwrite``, credentials for a named stage, and the like.
    """

    __visit_name__ = "sqla_stage_copy_into"
    _traverse_internals = [
        ("_sql_key", InternalTraversal.dp_plain_obj),
        ("table", InternalTraversal.dp_clauseelement),
        ("query", InternalTraversal.dp_clauseelement),
        ("partition_by", InternalTraversal.dp_clauseelement),
    ]

    table: TableClause | None
    query: SelectBase | TextClause | None
    partition_by: ColumnElement[Any] | TextClause | None

    def __init__(
        self,
        target: object,
        source: object,
        *,
        file_format: FormatSpec | type[FormatSpec] | str | None = None,
        credentials: Mapping[str, str] | None = None,
        encryption: Mapping[str, str] | None = None,
        storage_integration: str | None = None,
        partition_by: ColumnElement[Any] | TextClause | str | None = None,
        columns: Iterable[object] | None = None,
        **options: object,
    ) -> None:
        """Build the statement; see the class docstring."""
        self.table = self.query = self.partition_by = None
        self.columns: tuple[str, ...] = ()
        table = target if isinstance(target, TableClause) else load_table(_LOAD, target)
        if table is not None:
            owner = _LOAD
            self.is_unload = False
            self.table = table
            if isinstance(source, (SelectBase, TextClause)):
                self.query = source
                self.location: Location | None = None
            else:
                self.location = coerce_location(owner, source)
            _refuse_other_direction(owner, options, "an unload", UNLOAD_OPTIONS, LOAD_OPTIONS)
            self.copy_options: dict[str, OptionValue] = check_options(owner, LOAD_OPTIONS, options)
            if partition_by is not None:
                raise StageArgumentError(f"{owner}: partition_by is an unload option")
            self.columns = _column_names(owner, table, columns)
        else:
            owner = _UNLOAD
            self.is_unload = True
            self.location = _unload_location(target, source)
            unloaded = source if isinstance(source, TableClause) else unload_source(source)
            if isinstance(unloaded, TableClause):
                self.table = unloaded
            elif isinstance(unloaded, (SelectBase, TextClause)):
                self.query = unloaded
            elif isinstance(source, (SelectBase, TextClause)):
                self.query = source
            else:
                raise StageArgumentError(
                    f"{owner}: the source must be a Table, a mapped class, an aliased() "
                    f"entity or a select(), not {source!r}"
                )
            if columns is not None:
                raise StageArgumentError(f"{owner}: columns is a load option")
            _refuse_other_direction(owner, options, "a load", LOAD_OPTIONS, UNLOAD_OPTIONS)
            self.copy_options = check_options(owner, UNLOAD_OPTIONS, options)
            self.partition_by = _expression(owner, partition_by)
            self._check_unload(owner)
        self.file_format = coerce_format(owner, file_format)
        self.credentials = Credentials.coerce(owner, credentials)
        self.encryption = Encryption.coerce(owner, encryption)
        if storage_integration is not None and (
            not isinstance(storage_integration, str) or not storage_integration
        ):
            raise StageArgumentError(
                f"{owner}: storage_integration must be a non-empty string, "
                f"not {storage_integration!r}"
            )
        self.storage_integration = storage_integration
        self._check_external(owner)
        self._sql_key = (
            self.is_unload,
            self.location.cache_key() if isinstance(self.location, StagePath) else self.location,
            self.file_format.cache_key() if self.file_format else None,
            self.credentials.cache_key() if self.credentials else None,
            self.encryption.cache_key() if self.encryption else None,
            self.storage_integration,
            options_key(self.copy_options),
            self.columns,
        )

    def _check_unload(self, owner: str) -> None:
        if self.copy_options.get("include_query_id") is True:
            clash = [
                name for name in ("single", "overwrite") if self.copy_options.get(name) is True
            ]
            if clash:
                raise StageArgumentError(
                    f"{owner}: include_query_id=True cannot be combined with "
                    f"{' or '.join(f'{name}=True' for name in clash)} (spec 004)"
                )

    def _check_external(self, owner: str) -> None:
        given = [name for name in _EXTERNAL_ONLY if getattr(self, name) is not None]
        if not given:
            return
        if not isinstance(self.location, str):
            raise StageArgumentError(
                f"{owner}: {', '.join(given)} apply only to a URL location; "
                "a named stage carries its own"
            )
        if self.credentials is not None and self.storage_integration is not None:
            raise StageArgumentError(f"{owner}: give credentials or storage_integration, not both")

    @property
    def stage(self) -> Stage | None:
        """The stage of the location, when the location is a stage path."""
        return self.location.stage if isinstance(self.location, StagePath) else None

    def __repr__(self) -> str:
        parts = []
        if self.is_unload:
            parts += [repr(self.location), _source_repr(self.table, self.query)]
        else:
            parts += [
                _source_repr(self.table, None),
                repr(self.location)
                if self.location is not None
                else _source_repr(None, self.query),
            ]
        for label in ("file_format", "credentials", "encryption", "storage_integration"):
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={value!r}")
        if self.columns:
            parts.append(f"columns={self.columns!r}")
        if self.copy_options:
            parts.append(options_repr(self.copy_options))
        return f"CopyInto({', '.join(parts)})"


def _refuse_other_direction(
    owner: str,
    given: Mapping[str, object],
    other: str,
    other_specs: Mapping[str, object],
    specs: Mapping[str, object],
) -> None:
    """Name the options that belong to the other direction of COPY, not just 'unknown'."""
    misplaced = [name for name in given if name in other_specs and name not in specs]
    if misplaced:
        names = ", ".join(map(repr, misplaced))
        this = "a load" if other == "an unload" else "an unload"
        raise StageArgumentError(f"{owner}: {names} is {other} option, and this COPY is {this}")


def _source_repr(table: TableClause | None, query: object) -> str:
    if table is not None:
        return f"table({table.name!r})"
    return "select(...)" if isinstance(query, Select) else "(query)"


def _unload_location(target: object, source: object) -> Location:
    """The location of an unload; when ``target`` is none, say what each side may be.

    Neither a table (or mapped class) nor a location as the target is a wrong argument,
    not a wrong location: the message names both directions, and points out a load
    whose arguments are swapped (``CopyInto(location, User)`` reads as an unload).
    """
    try:
        return coerce_location(_UNLOAD, target)
    except StageArgumentError:
        if isinstance(target, str):
            raise  # text that is almost a location: coerce_location's message says why
    swapped = isinstance(source, TableClause) or entity_inspection(source) is not None
    hint = " (the target comes first: CopyInto(target, source))" if swapped else ""
    raise StageArgumentError(
        f"COPY INTO: the target {target!r} is neither a table, mapped class or aliased() "
        "entity (a load) nor a Stage, stage path (stage / 'path'), '@stage/path' or URL "
        f"(an unload){hint}"
    )


def _column_names(
    owner: str, table: TableClause, columns: Iterable[object] | None
) -> tuple[str, ...]:
    """The column names of ``columns=``: names, Core columns or ORM attributes.

    A column or attribute of another table than the target is refused: its name would
    silently fill the target's column of that name.
    """
    if columns is None:
        return ()
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
        raise StageArgumentError(f"{owner}: columns must be a sequence of names, not {columns!r}")
    names = []
    for column in columns:
        name = column if isinstance(column, str) else column_name(column)
        if not isinstance(name, str) or not name:
            raise StageArgumentError(
                f"{owner}: a column must be a name, a Column or a mapped attribute "
                f"(User.name), not {column!r}"
            )
        other = _table_of(column)
        if other is not None and other is not table:
            raise StageArgumentError(
                f"{owner}: column {name!r} belongs to {getattr(other, 'name', other)}, "
                f"not to the target table {table.name}"
            )
        names.append(name)
    return tuple(names)


def _table_of(column: object) -> object:
    """The table a Core column or ORM attribute belongs to (an alias's table); or None."""
    element = getattr(column, "__clause_element__", None)
    clause = element() if element is not None else column
    while True:
        table = getattr(clause, "table", None)
        if table is not None:
            return table.element if isinstance(table, Alias) else table
        inner = getattr(clause, "element", None)  # an annotated or labelled column
        if inner is None or inner is clause:
            return None
        clause = inner


def _expression(owner: str, value: object) -> ColumnElement[Any] | TextClause | None:
    if value is None or isinstance(value, (ColumnElement, TextClause)):
        return value
    if isinstance(value, str) and value.strip():
        return literal_column(value)
    raise StageArgumentError(
        f"{owner}: partition_by must be an expression or SQL text, not {value!r}"
    )
