"""How COPY INTO <table> reads staged files: the DuckDB SQL per format.

A `Reader` turns a format, the target columns and the column matching into DuckDB
SQL over a list of files. It has two shapes:

* the *fast* shape, ``SELECT <values> FROM read_xxx([...])``, typed by the target table's
  columns so that a value that does not convert is a read error (DuckDB raises it);
* the *tolerant* shape (`Reader.rows`), which never raises for a bad row: each row
  carries ``__sqla_stage_error`` / ``_column`` / ``_line`` / ``_record`` describing its
  first problem (NULL when the row is good). CSV reads with ``ignore_errors`` (DuckDB's
  rejects tables, on the checking connection, say which lines were dropped and why);
  JSON reads each line as one JSON value and converts keys with ``TRY_CAST``; Parquet
  converts columns with ``TRY_CAST``. A NULL in a NOT NULL column is a row error too.
  The checks that run these reads are in `checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import CSV, JSON, TSV, FormatSpec, Parquet
from sqla_stage.runtime.engine.duckdb_formats import check_column_count, read_function
from sqla_stage.runtime.engine.literals import literal, quote, text_list
from sqla_stage.runtime.load import csv_fields as load_csv_fields

FILE = "__sqla_stage_file"
ERROR = "__sqla_stage_error"
COLUMN = "__sqla_stage_column"
LINE = "__sqla_stage_line"
RECORD = "__sqla_stage_record"
OBJECT = "__sqla_stage_json"
REJECTS = ("__sqla_stage_rejects", "__sqla_stage_scans")
_REJECT_ARGS = ("rejects_table", "rejects_scan")
_NESTED = ("(", "[", "STRUCT", "MAP", "JSON", "UNION")


def glob_escape(path: str) -> str:
    """A path DuckDB reads literally: its glob characters in brackets (``[*]``)."""
    return "".join(f"[{char}]" if char in "[*?" else char for char in path)


@dataclass(frozen=True)
class TargetColumn:
    """A column of the target table."""

    name: str
    type: str
    not_null: bool = False
    has_default: bool = False


@dataclass(frozen=True)
class Field:
    """One inserted column and where its value comes from in the files.

    ``sources`` are file column names (CSV, Parquet) or JSON keys (several when keys are
    matched ignoring case and the files spell one key several ways).
    """

    target: TargetColumn
    sources: tuple[str, ...]


class Reader:
    """DuckDB SQL that reads staged files into the target's columns.

    Args:
        spec: The concrete file format.
        fields: The inserted columns, in insert order.
        options: Extra arguments of the read function (``union_by_name = true``, ...).
    """

    #: The read function keeps rejected lines itself (CSV), rather than flagging rows.
    rejects = False
    dialect: str | None = None  # whose CSV semantics (``stage_dialect``)

    def __init__(self, spec: FormatSpec, fields: Sequence[Field], options: Sequence[str] = ()):
        """Describe the read; nothing runs until the SQL is executed."""
        self.spec = spec
        self.fields = list(fields)
        self.options = list(options)

    @property
    def columns(self) -> list[str]:
        """The target columns the read fills, in insert order."""
        return [field.target.name for field in self.fields]

    def source(self, paths: Sequence[str], *, tolerant: bool, rejects: bool = False) -> str:
        """The read function call over ``paths`` (DuckDB paths, not escaped)."""
        raise NotImplementedError

    def value(self, field: Field, *, tolerant: bool) -> str:
        """The expression that gives ``field``'s target value."""
        return quote(field.sources[0])

    def raw(self, field: Field) -> str | None:
        """In the tolerant shape: the unconverted value (None: the reader converts)."""
        return None

    def checks(self) -> list[tuple[str, str, str | None]]:
        """Row checks before the column checks: ``(condition, message SQL, column)``."""
        return []

    def line(self) -> str:
        """The line (or row) number of a row in its file, in the tolerant shape."""
        return "NULL::BIGINT"

    def record(self) -> str:
        """The row as text, in the tolerant shape."""
        return "NULL::VARCHAR"

    def fast(self, paths: Sequence[str]) -> str:
        """``SELECT <values> FROM <read>``: typed, raises on the first bad row."""
        values = ", ".join(self.value(field, tolerant=False) for field in self.fields)
        return f"SELECT {values} FROM {self.source(paths, tolerant=False)}"

    def counts(self, paths: Sequence[str]) -> str:
        """Rows per file: ``SELECT file, count(*)``."""
        return f"SELECT {FILE}, count(*) FROM {self.source(paths, tolerant=False)} GROUP BY ALL"

    def rows(self, paths: Sequence[str], *, rejects: bool = False) -> str:
        """The tolerant shape: values ``__sqla_stage_v<i>`` plus the error columns."""
        inner = [f"{self.line()} AS {LINE}", f"{self.record()} AS {RECORD}"]
        checks = list(self.checks())
        for index, field in enumerate(self.fields):
            value, raw = self.value(field, tolerant=True), self.raw(field)
            inner.append(f"{value} AS __sqla_stage_v{index}")
            name = literal(field.target.name)
            if raw is not None:
                inner.append(f"{raw} AS __sqla_stage_r{index}")
                message = (
                    f"'Cannot convert value ''' || __sqla_stage_r{index}::VARCHAR || "
                    f"''' to {field.target.type.replace(chr(39), chr(39) * 2)}'"
                )
                failed = f"__sqla_stage_r{index} IS NOT NULL AND __sqla_stage_v{index} IS NULL"
                checks.append((failed, message, name))
            if field.target.not_null:
                message = "'NULL result in a non-nullable column'"
                checks.append((f"__sqla_stage_v{index} IS NULL", message, name))
        error = column = "NULL"
        if checks:
            error = "CASE " + " ".join(f"WHEN {c} THEN {m}" for c, m, _ in checks) + " END"
            column = (
                "CASE " + " ".join(f"WHEN {c} THEN {n or 'NULL'}" for c, _, n in checks) + " END"
            )
        values = ", ".join(f"__sqla_stage_v{index}" for index in range(len(self.fields)))
        return (
            f"SELECT {values}, {FILE}, {error}::VARCHAR AS {ERROR}, {column}::VARCHAR AS "
            f"{COLUMN}, {LINE}, {RECORD} FROM (SELECT *, {', '.join(inner)} FROM "
            f"{self.source(paths, tolerant=True, rejects=rejects)})"
        )

    def touch(self) -> str:
        """An expression over every value of a tolerant row.

        Selecting it makes DuckDB convert every column: without it, a check that only
        counts rows lets DuckDB skip the conversions (and the CSV reader their errors).
        """
        values = ", ".join(f"__sqla_stage_v{index}" for index in range(len(self.fields)))
        return f"hash({values})" if values else "NULL"

    def good_rows(self, paths: Sequence[str], *, named: bool = False) -> str:
        """The tolerant shape's good rows: the insert's values (``named``: as the columns)."""
        values = ", ".join(
            f"__sqla_stage_v{index}" + (f" AS {quote(name)}" if named else "")
            for index, name in enumerate(self.columns)
        )
        return f"SELECT {values} FROM ({self.rows(paths)}) WHERE {ERROR} IS NULL"

    def _call(
        self,
        paths: Sequence[str],
        columns: Mapping[str, str] | None = None,
        extra: Sequence[str] = (),
        named_header: bool = False,
    ) -> str:
        escaped = [glob_escape(path) for path in paths]
        more = [f"filename = {literal(FILE)}", *self.options, *extra]
        read = partial(read_function, named_header=named_header, dialect=self.dialect)
        return read(self.spec, escaped, columns=columns, extra=more)


class CsvReader(Reader):
    """CSV: by position (``columns = {...}``), or by the header's names (``types``)."""

    rejects = True

    def __init__(
        self,
        spec: FormatSpec,
        fields: Sequence[Field],
        *,
        header: bool = False,
        dialect: str | None = None,
    ):
        """``header``: the last SKIP_HEADER line names the columns (match by name)."""
        super().__init__(spec, fields)
        self.header, self.dialect = header, dialect
        self.csv = load_csv_fields.CsvFields(spec, dialect)

    def read_type(self, field: Field) -> str:
        """The DuckDB type a field is read as: its column's, or text (`csv_fields`)."""
        return self.csv.read_type(field.target.type)

    def value(self, field: Field, *, tolerant: bool) -> str:
        """The field, converted when read as text (TIME_FORMAT, BINARY_FORMAT, ...)."""
        return self.csv.value(field.target.type, quote(field.sources[0]), tolerant=tolerant)

    def raw(self, field: Field) -> str | None:
        """The text of a field converted after reading (None: the reader converts)."""
        return quote(field.sources[0]) if self.csv.read_as_text(field.target.type) else None

    def source(self, paths: Sequence[str], *, tolerant: bool, rejects: bool = False) -> str:
        """``read_csv`` typed by the target columns."""
        extra = self.csv.read_options()
        if tolerant:
            extra.append("ignore_errors = true")
        if rejects:
            extra.append("store_rejects = true")
            extra += [f"{n} = {literal(t)}" for n, t in zip(_REJECT_ARGS, REJECTS, strict=True)]
        if not self.header:
            columns = {field.sources[0]: self.read_type(field) for field in self.fields}
            return self._call(paths, columns=columns, extra=extra)
        types = ", ".join(
            f"{literal(field.sources[0])}: {literal(self.read_type(field))}"
            for field in self.fields
        )
        extra += ["all_varchar = true", "union_by_name = true", f"types = {{{types}}}"]
        return self._call(paths, extra=extra, named_header=True)


class TsvReader(CsvReader):
    """TSV: the fields read as text and unescaped, then converted to the target types."""

    def read_type(self, field: Field) -> str:
        """Every field is read as text (the unescaping works on text)."""
        return "VARCHAR"

    def value(self, field: Field, *, tolerant: bool) -> str:
        """The unescaped field, converted to the column's type."""
        if field.target.type == "VARCHAR":
            return quote(field.sources[0])
        cast = "TRY_CAST" if tolerant else "CAST"
        return f"{cast}({quote(field.sources[0])} AS {field.target.type})"

    def raw(self, field: Field) -> str | None:
        """The unescaped text (None for text columns, which need no conversion)."""
        return None if field.target.type == "VARCHAR" else quote(field.sources[0])


class JsonReader(Reader):
    """Newline-delimited JSON: object keys matched to the target columns.

    The fast shape is ``read_json(columns = {key: type})`` when each column has one key;
    otherwise, and in the tolerant shape, each line is read as one JSON value and the
    keys are extracted (``->>``) and converted (``CAST`` / ``TRY_CAST``).
    """

    def _objects(self, paths: Sequence[str]) -> str:
        extra = ["records = false", "ignore_errors = true"]
        return self._call(paths, columns={OBJECT: "JSON"}, extra=extra)

    def _typed(self) -> bool:
        return all(len(field.sources) == 1 for field in self.fields)

    def source(self, paths: Sequence[str], *, tolerant: bool, rejects: bool = False) -> str:
        """``read_json``: typed columns, or one JSON value a line."""
        if tolerant or not self._typed():
            return self._objects(paths)
        columns = {field.sources[0]: field.target.type for field in self.fields}
        return self._call(paths, columns=columns)

    def raw(self, field: Field) -> str | None:
        """The key's value: text, or JSON for nested target types."""
        kind = field.target.type.upper()
        arrow = "->" if any(mark in kind for mark in _NESTED) else "->>"
        values = [f"{OBJECT} {arrow} {literal(key)}" for key in field.sources]
        return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"

    def value(self, field: Field, *, tolerant: bool) -> str:
        """The key's value converted to the column's type."""
        if not tolerant and self._typed():
            return quote(field.sources[0])
        cast = "TRY_CAST" if tolerant else "CAST"
        return f"{cast}({self.raw(field)} AS {field.target.type})"

    def checks(self) -> list[tuple[str, str, str | None]]:
        """A line that is not JSON, or not an object."""
        found = f"'Error parsing JSON: expected an object, found ' || json_type({OBJECT})"
        return [
            (f"{OBJECT} IS NULL", "'Error parsing JSON: not a valid JSON value'", None),
            (f"json_type({OBJECT}) <> 'OBJECT'", found, None),
        ]

    def line(self) -> str:
        """The line's number among the file's JSON lines."""
        return f"row_number() OVER (PARTITION BY {FILE})"

    def record(self) -> str:
        """The JSON text."""
        return f"{OBJECT}::VARCHAR"


class ParquetReader(Reader):
    """Parquet: file columns selected for the target columns.

    ``types`` are the file columns' DuckDB types: a column already of the target's type
    is selected as it is (no CAST in the fast shape).
    """

    def __init__(
        self,
        spec: FormatSpec,
        fields: Sequence[Field],
        options: Sequence[str] = (),
        types: Mapping[str, str] | None = None,
    ):
        """See the class docstring."""
        super().__init__(spec, fields, options)
        self.types = dict(types or {})

    def source(self, paths: Sequence[str], *, tolerant: bool, rejects: bool = False) -> str:
        """``read_parquet`` (with row numbers in the tolerant shape)."""
        return self._call(paths, extra=["file_row_number = true"] if tolerant else [])

    def value(self, field: Field, *, tolerant: bool) -> str:
        """The file column, converted to the target type."""
        source = field.sources[0]
        if not tolerant and self.types.get(source) == field.target.type:
            return quote(source)
        cast = "TRY_CAST" if tolerant else "CAST"
        return f"{cast}({quote(field.sources[0])} AS {field.target.type})"

    def raw(self, field: Field) -> str | None:
        """The file column as stored."""
        return quote(field.sources[0])

    def line(self) -> str:
        """The row's number in its file (from 1)."""
        return "file_row_number + 1"

    def counts(self, paths: Sequence[str]) -> str:
        """Rows per file from the Parquet footers, without reading data."""
        files = text_list([glob_escape(path) for path in paths])
        return f"SELECT file_name, num_rows FROM parquet_file_metadata({files})"


# Planning: which file column feeds which table column


def _probe(
    side: Any, sql: Callable[[Sequence[str]], str], paths: Sequence[str], *, first: bool = False
) -> list[tuple[Any, ...]] | None:
    """Rows of a probe query over the files, on the side connection, skipping bad files.

    The files are probed together; when DuckDB cannot read them together, one by one,
    keeping the rows of the readable ones (of the first readable one with ``first``).
    None when no file is readable: the load then finds each file's error itself.
    """
    try:
        rows: list[tuple[Any, ...]] = side.execute(sql(paths)).fetchall()
        return rows
    except Exception:  # duckdb.Error and its subclasses
        if len(paths) == 1:
            return None
    found: list[tuple[Any, ...]] = []
    readable = False
    for path in paths:
        try:
            found += side.execute(sql([path])).fetchall()
        except Exception:
            continue
        readable = True
        if first:
            break
    return found if readable else None


def describe(
    side: Any, source: Callable[[Sequence[str]], str], paths: Sequence[str], *, first: bool
) -> dict[str, str] | None:
    """The files' column names and types (None: no file is readable)."""
    rows = _probe(side, lambda some: f"DESCRIBE SELECT * FROM {source(some)}", paths, first=first)
    if rows is None:
        return None
    columns: dict[str, str] = {}
    for row in rows:
        if row[0] != FILE:
            columns.setdefault(row[0], row[1])
    return columns


def match_columns(
    targets: Sequence[TargetColumn], names: Sequence[str], *, case_sensitive: bool
) -> list[Field]:
    """Fields for the targets whose name is among ``names`` (all spellings, for JSON)."""
    fields = []
    for target in targets:
        if case_sensitive:
            sources = tuple(name for name in names if name == target.name)
        else:
            sources = tuple(name for name in names if name.lower() == target.name.lower())
        if sources:
            fields.append(Field(target, sources))
    return fields


def make_reader(
    side: Any,
    spec: FormatSpec,
    targets: Sequence[TargetColumn],
    paths: Sequence[str],
    match: str,
    dialect: str | None = None,
) -> Reader:
    """The reader for a load, matching file columns by position or by name.

    Args:
        side: The side connection (schema probes run there).
        spec: The concrete format.
        targets: The columns to fill (the statement's column list, else the table's).
        paths: The files (DuckDB paths).
        match: ``NONE``, ``CASE_SENSITIVE`` or ``CASE_INSENSITIVE``.
        dialect: Whose CSV semantics to follow (``stage_dialect``).

    Raises:
        StageRuntimeError: the files' columns cannot be read, or do not fit the table.
    """
    by_name = match != "NONE"
    sensitive = match == "CASE_SENSITIVE"
    as_named = [Field(t, (t.name,)) for t in targets]
    if isinstance(spec, CSV):
        check_column_count(spec, [target.name for target in targets if target.has_default])
        kind = partial(TsvReader if isinstance(spec, TSV) else CsvReader, dialect=dialect)
        if not by_name:
            return kind(spec, as_named)
        skip = spec.options.get("skip_header", 0)
        parsed = spec.options.get("parse_header") is True
        if not parsed and (not isinstance(skip, int) or skip < 1):
            raise StageProgrammingError(
                f"MATCH_BY_COLUMN_NAME = {match} with {spec.type_name} takes the column names "
                "from the header line: give FILE_FORMAT = (... PARSE_HEADER = TRUE) or "
                "(... SKIP_HEADER = 1)"
            )
        header = kind(spec, [], header=True)
        found = describe(side, lambda some: header.source(some, tolerant=False), paths, first=False)
        return kind(spec, _matched(targets, found, sensitive, match), header=True)
    if isinstance(spec, JSON):
        if not by_name or sensitive:
            return JsonReader(spec, as_named)
        objects = JsonReader(spec, [])._objects
        rows = _probe(
            side,
            lambda some: (
                f"SELECT DISTINCT unnest(json_keys({OBJECT})) FROM {objects(some)} "
                f"WHERE json_type({OBJECT}) = 'OBJECT'"
            ),
            paths,
        )
        keys = None if rows is None else {row[0]: "JSON" for row in sorted(rows)}
        return JsonReader(spec, _matched(targets, keys, False, match))
    if isinstance(spec, Parquet):
        options = ["union_by_name = true"] if by_name else []
        footer = ParquetReader(spec, [], options)
        types = describe(
            side, lambda some: footer.source(some, tolerant=False), paths, first=not by_name
        )
        if by_name:
            fields = _matched(targets, types, sensitive, match)
            return ParquetReader(spec, fields, options, types)
        if types is None:
            return ParquetReader(spec, as_named)
        columns = list(types)
        if len(columns) != len(targets):
            raise StageProgrammingError(
                f"the Parquet files have {len(columns)} columns ({', '.join(columns)}) and the "
                f"load fills {len(targets)}; give a column list or "
                "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
            )
        fields = [Field(t, (n,)) for t, n in zip(targets, columns, strict=True)]
        return ParquetReader(spec, fields, types=types)
    raise StageProgrammingError(f"cannot load files of format {spec!r}")


def _matched(
    targets: Sequence[TargetColumn], names: Mapping[str, str] | None, sensitive: bool, match: str
) -> list[Field]:
    """Fields matched by name; every target by its own name when no file was readable."""
    if names is None:
        return [Field(t, (t.name,)) for t in targets]
    fields = match_columns(targets, list(names), case_sensitive=sensitive)
    if not fields:
        raise StageProgrammingError(
            f"MATCH_BY_COLUMN_NAME = {match}: no column of the files matches a column of the table"
        )
    return fields
