r"""MatrixOne's ``LOAD DATA`` on the runtime (issue 14).

The file is a local path (``LOCAL`` or not: the client is the server here) or a stage
path (``'stage://stage/path'``, any stage the runtime knows, ``stage://`` sub-stages
included). DuckDB reads it (``read_text``, UTF-8) and splits it into records and fields
with SQL (`load_data_sql`: MatrixOne's defaults ``FIELDS TERMINATED BY '\t' ENCLOSED BY
'"' ESCAPED BY '\\' LINES TERMINATED BY '\n'``); ``IGNORE n LINES`` skips the first n
records (lines of JSON). A ``.gz`` or ``.bz2`` file is first decompressed, as bytes, to a
temporary file. The fields go in order to the column list, or to the table's columns: a
field kept in an ``@var`` fills nothing by itself, extra fields are ignored, and a record
with fewer fields than the list is an error (MatrixOne's "the table column is larger than
input data column"). As in MatrixOne, a field for a column whose type is not text is
trimmed and an empty one is NULL; ``\N`` is NULL. JSON lines are read with DuckDB's JSON
functions: an array's values by position, an object's keys by name ignoring case.

The ``SET`` expressions run in DuckDB (MatrixOne's SQL: ``"..."`` is a string, backticks
quote names, ``@var`` is the variable) and every value is converted with ``CAST`` to its
column's type. On a side connection the records are checked first (a field not closed, a
short record, a JSON line of the wrong shape), then the conversions (a value that does not
convert, a NULL in a NOT NULL column): a problem fails the statement, naming the line,
before anything is written. Then one ``INSERT`` runs in the user's transaction. The result
is one row, ``rows_affected``.

Refused, naming the feature, before anything is written: ``LOAD DATA URL s3option``,
``LINES STARTING BY`` (MatrixOne's documented behaviour and its results disagree),
``PARALLEL 'TRUE'``, a ``CHARACTER SET`` other than UTF-8, ``ESCAPED BY`` equal to
``ENCLOSED BY`` or either inside a terminator, a JSON object with two keys for one column
(ignoring case), a JSON number with a fraction or exponent of more than 15 significant
digits, and such a number or a nested value read into a text column or a variable
(DuckDB reads those numbers as doubles: their text may change), a file that is not a
local path or a stage path, and compressions other than gzip and bzip2.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import duckdb

from sqla_stage.errors import StageDataError, StageOperationalError, StageProgrammingError
from sqla_stage.load_data import VARIABLE, LoadData
from sqla_stage.parser.lexer import Kind, tokenize
from sqla_stage.runtime.catalog.namespaces import table_sql
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.duckdb_errors import error_class, first_line
from sqla_stage.runtime.engine.literals import literal, quote
from sqla_stage.runtime.engine.results import BIGINT, Column, Rows
from sqla_stage.runtime.load.load_data_sql import (
    WHITESPACE,
    TextFormat,
    json_lines,
    real_digits,
    refuse_format,
    text_records,
)
from sqla_stage.runtime.load.plan import table_columns
from sqla_stage.runtime.load.read import TargetColumn, glob_escape
from sqla_stage.runtime.storage.client_encryption import refuse_plain_access
from sqla_stage.runtime.storage.compressions import BZ2, GZIP, decompressed_copy
from sqla_stage.stage import StagePath

RESULT_COLUMNS = [Column("rows_affected", BIGINT)]
#: DuckDB types MatrixOne reads as text: neither trimmed nor NULL when empty.
_TEXT_TYPES = ("VARCHAR", "JSON", "BLOB")
_UTF8 = ("utf8", "utf8mb4", "utf_8")
_REFUSED_SUFFIXES = (".lz4", ".zlib", ".flate", ".tar", ".zst")
_LINE = "__sqla_stage_line"
_ORDER = "__sqla_stage_record"
#: JSON numbers DuckDB reads as doubles keep their value up to this many digits.
_DOUBLE_DIGITS = 15


@dataclass(frozen=True)
class _Fill:
    """A column the load fills and the DuckDB expression of its value."""

    column: TargetColumn
    value: str


def run(context: StageContext, element: LoadData) -> Rows:
    """LOAD DATA: read the file into the table; see the module docstring."""
    label = f"LOAD DATA INTO {element.table.name}"
    _refuse(element, label)
    sql, columns = _target(context, element, label)
    by_name = {c.name.lower(): c for c in columns}
    entries = list(element.columns) or [c.name for c in columns]
    for name in [n for n in entries if not n.startswith("@")] + [n for n, _ in element.assignments]:
        if name.lower() not in by_name:
            raise StageProgrammingError(f"{label}: the table has no column {name!r}")
    fills = _fills(element, entries, by_name)
    unfilled = {c.name.lower() for c in columns} - {f.column.name.lower() for f in fills}
    missing = [
        by_name[n].name for n in unfilled if by_name[n].not_null and not by_name[n].has_default
    ]
    if missing:
        raise StageProgrammingError(
            f"{label}: column {', '.join(map(repr, sorted(missing)))} is NOT NULL without a "
            "default, and the load does not fill it"
        )
    types = [by_name.get(name.lower()) for name in entries]
    fmt = None
    if element.format != "jsonline":
        options = element.text_options
        fmt = TextFormat(
            field=options.get("fields_terminated_by", "\t"),
            enclosed=options.get("enclosed_by", '"'),
            escaped=options.get("escaped_by", "\\"),
            line=options.get("lines_terminated_by", "\n"),
        )
        refuse_format(fmt, label)
    with _text(context, element, label) as text:
        if fmt is not None:
            staged = _staged_text(context, text, fmt, element, entries, types, label)
        else:
            staged = _staged_json(context, text, element, entries, types, label)
        values = ", ".join(f"{f.value} AS __v{i}" for i, f in enumerate(fills))
        source = f"(SELECT {_ORDER}, {_LINE}, {values} FROM ({staged}))"
        _check(context, source, fills, label)
        casts = ", ".join(_cast(f"__v{i}", f) for i, f in enumerate(fills))
        names = ", ".join(quote(f.column.name) for f in fills)
        try:
            row = context.run(
                f"INSERT INTO {sql} ({names}) SELECT {casts} FROM {source} ORDER BY {_ORDER}"
            ).fetchone()
        except duckdb.Error as error:
            raise error_class(error)(f"{label}: {first_line(error)}") from None
    return Rows(RESULT_COLUMNS, [[int(row[0]) if row else 0]])


def _refuse(element: LoadData, label: str) -> None:
    if element.s3option is not None:
        raise StageProgrammingError(
            f"{label}: LOAD DATA URL s3option is not supported by the runtime; create a stage "
            "for the files and LOAD DATA INFILE 'stage://stage/path'"
        )
    if element.text_options.get("lines_starting_by"):
        raise StageProgrammingError(
            f"{label}: LINES STARTING BY is not supported by the runtime (MatrixOne's "
            "documented behaviour and its results disagree)"
        )
    if element.parallel:
        raise StageProgrammingError(
            f"{label}: PARALLEL 'TRUE' is not supported by the runtime (it loads files whole)"
        )
    charset = element.character_set
    if charset is not None and charset.lower() not in _UTF8:
        raise StageProgrammingError(
            f"{label}: CHARACTER SET {charset} is not supported by the runtime (UTF-8 only)"
        )


def _target(context: StageContext, element: LoadData, label: str) -> tuple[str, list[TargetColumn]]:
    table = element.table
    found = table_columns(context, table)
    if found is None:
        raise StageProgrammingError(f"{label}: table {table.name} does not exist")
    where, name, columns = found
    return table_sql(where, name), list(columns)


def _fills(
    element: LoadData, entries: Sequence[str], by_name: dict[str, TargetColumn]
) -> list[_Fill]:
    assigned = {name.lower(): text for name, text in element.assignments}
    order = [n for n in entries if not n.startswith("@")]
    order += [n for n, _ in element.assignments if n.lower() not in {e.lower() for e in order}]
    fills = []
    for name in order:
        text = assigned.get(name.lower())
        value = quote(name) if text is None else f"({duckdb_expression(text)})"
        fills.append(_Fill(by_name[name.lower()], value))
    return fills


def duckdb_expression(text: str) -> str:
    """A SET expression of MatrixOne's SQL as DuckDB SQL.

    Raises:
        StageProgrammingError: a ``;`` or a stage location in the expression.
    """
    out, end = [], None
    for token in tokenize(text, backslash_escapes=True)[:-1]:
        raw = text[token.start : token.end]
        if token.kind is Kind.STRING or (token.kind is Kind.QUOTED and raw[0] == '"'):
            raw = literal(token.value)
        elif token.kind is Kind.QUOTED or (
            token.kind is Kind.LOCATION and VARIABLE.fullmatch(token.value)
        ):
            raw = quote(token.value)
        elif token.kind is Kind.LOCATION or (token.kind is Kind.PUNCT and token.value == ";"):
            raise StageProgrammingError(f"SET: {token.value!r} cannot stand in an expression")
        out.append(raw if end is None or end == token.start else " " + raw)
        end = token.end
    return "".join(out)


def _is_text(column: TargetColumn | None) -> bool:
    return column is not None and column.type.upper().startswith(_TEXT_TYPES)


def _trimmed(value: str, column: TargetColumn | None) -> str:
    """A value for a column that is not text: trimmed, and NULL when empty."""
    if column is None or _is_text(column):
        return value
    return f"nullif(trim({value}, {WHITESPACE}), '')"


@contextmanager
def _text(context: StageContext, element: LoadData, label: str) -> Iterator[str]:
    """SQL of a one-row relation whose column ``t`` is the file's text (DuckDB reads it)."""
    path = element.path
    assert path is not None
    name = path.path if isinstance(path, StagePath) else path
    lower = name.lower()
    if lower.endswith(_REFUSED_SUFFIXES) or ".tar." in lower:
        raise StageProgrammingError(f"{label}: the compression of {name!r} is not supported")
    compressed = lower.endswith((".gz", ".bz2"))
    temporary = None
    try:
        if isinstance(path, StagePath):
            place = context.place(path)
            if not place.prefix or not place.storage.exists(place.prefix):
                raise StageProgrammingError(f"{label}: no file {name!r} in {place.storage.label}")
            storage = place.storage
            refuse_plain_access(storage.client_key, storage.label, label, "does not decrypt")
            if compressed:
                with storage.fs.open(storage.path(place.prefix), "rb") as file:
                    temporary = _decompressed(file, lower)
            local = temporary or storage.duckdb_path(place.prefix)
        elif "://" in path:
            raise StageProgrammingError(
                f"{label}: {path!r} is a URL; LOAD DATA INFILE reads a file path or "
                "'stage://stage/path'"
            )
        else:
            context.outside_root(path, f"{label}: the file")
            if not os.path.isfile(path):
                raise OSError(f"no such file: {path!r}")
            if compressed:
                with open(path, "rb") as file:
                    temporary = _decompressed(file, lower)
            local = temporary or path
    except (OSError, EOFError, ValueError) as error:
        raise StageOperationalError(f"{label}: cannot read {name!r}: {error}") from None
    try:
        yield f"(SELECT content AS t FROM read_text({literal(glob_escape(local))}))"
    finally:
        if temporary is not None:
            os.unlink(temporary)


def _decompressed(file: IO[bytes], name: str) -> str:
    """Decompress ``file`` (bytes, never rows) to a temporary file; return its path."""
    return decompressed_copy(file, GZIP if name.endswith(".gz") else BZ2)


def _side(context: StageContext, sql: str, label: str) -> Any:
    """The first row of ``sql`` on a side connection (the user's transaction untouched)."""
    side = context.cursor.cursor()
    try:
        return side.execute(sql).fetchone()
    except duckdb.Error as error:
        message = first_line(error)
        if "UTF-8" in message:
            raise StageDataError(
                f"{label}: the file is not UTF-8 text (nothing was loaded)"
            ) from None
        raise error_class(error)(f"{label}: {message} (nothing was loaded)") from None
    finally:
        side.close()


def _staged_text(
    context: StageContext,
    text: str,
    fmt: TextFormat,
    element: LoadData,
    entries: Sequence[str],
    types: Sequence[TargetColumn | None],
    label: str,
) -> str:
    """Check the records of delimited text; return SQL of their values by entry name."""
    records = text_records(text, fmt)
    skip = element.ignore_lines or 0
    found = _side(
        context,
        f"SELECT __line, __open, len(__fields) FROM ({records}) WHERE __open OR "
        f"(__record > {skip} AND len(__fields) < {len(entries)}) ORDER BY __record LIMIT 1",
        label,
    )
    if found is not None:
        line, open_, count = found
        if open_:
            raise StageDataError(
                f"{label}: line {line}: a field opened with {fmt.enclosed!r} is not closed "
                "(nothing was loaded)"
            )
        raise StageDataError(
            f"{label}: line {line} has {count} fields, the load reads {len(entries)} "
            "(nothing was loaded)"
        )
    values = ", ".join(
        f"{_trimmed(f'__fields[{i + 1}]', t)} AS {quote(name)}"
        for i, (name, t) in enumerate(zip(entries, types, strict=True))
    )
    return (
        f"SELECT __record AS {_ORDER}, __line AS {_LINE}, {values} FROM ({records}) "
        f"WHERE __record > {skip}"
    )


def _staged_json(
    context: StageContext,
    text: str,
    element: LoadData,
    entries: Sequence[str],
    types: Sequence[TargetColumn | None],
    label: str,
) -> str:
    """Check the JSON lines; return SQL of their values by entry name."""
    skip = element.ignore_lines or 0
    lines = f"SELECT * FROM ({json_lines(text)}) WHERE __line > {skip}"
    found = _side(
        context,
        f"SELECT __line FROM ({lines}) WHERE NOT json_valid(__json) ORDER BY 1 LIMIT 1",
        label,
    )
    if found is not None:
        raise StageDataError(f"{label}: line {found[0]}: not JSON (nothing was loaded)")
    n = len(entries)
    keys = []
    if element.jsondata == "array":
        pointers = [literal(f"/{i}") for i in range(n)]
        problem = (
            "CASE WHEN json_type(__json) <> 'ARRAY' THEN 'not an array' "
            f"WHEN json_array_length(__json) <> {n} THEN json_array_length(__json) || ' values' "
        )
    else:
        for name in entries:
            key = literal(name.lstrip("@").lower())
            keys.append(f"list_filter(json_keys(__json), k -> lower(k) = {key})")
        pointers = [f"'/' || replace(replace({k}[1], '~', '~0'), '/', '~1')" for k in keys]
        problem = "CASE WHEN json_type(__json) <> 'OBJECT' THEN 'not a JSON object' "
        for key, name in zip(keys, entries, strict=True):
            problem += f"WHEN len({key}) = 0 THEN {literal(f'the object has no key {name!r}')} "
            problem += f"WHEN len({key}) > 1 THEN {literal(f'refuse:two keys for {name!r}')} "
    problem += f"WHEN {real_digits('__json')} > {_DOUBLE_DIGITS} THEN 'refuse:digits' "
    for pointer, name, column in zip(pointers, entries, types, strict=True):
        if column is None or (_is_text(column) and column.type.upper() != "JSON"):
            kind = f"json_type(__json, {pointer})"
            problem += (
                f"WHEN {kind} IN ('DOUBLE', 'OBJECT', 'ARRAY') THEN "
                f"{literal(f'refuse:value:{name}:')} || {kind} "
            )
    found = _side(
        context,
        f"SELECT __line, p FROM (SELECT __line, {problem} END AS p FROM ({lines})) "
        "WHERE p IS NOT NULL ORDER BY 1 LIMIT 1",
        label,
    )
    if found is not None:
        _json_problem(label, found[0], found[1], n)
    values = []
    for pointer, name, column in zip(pointers, entries, types, strict=True):
        if column is not None and column.type.upper() == "JSON":
            value = (
                f"CASE WHEN json_type(__json, {pointer}) = 'NULL' THEN NULL "
                f"ELSE json_extract(__json, {pointer})::VARCHAR END"
            )
        else:
            value = _trimmed(f"json_extract_string(__json, {pointer})", column)
        values.append(f"{value} AS {quote(name)}")
    return f"SELECT __line AS {_ORDER}, __line AS {_LINE}, {', '.join(values)} FROM ({lines})"


def _json_problem(label: str, line: int, problem: str, count: int) -> None:
    where = f"{label}: line {line}"
    if problem == "refuse:digits":
        raise StageProgrammingError(
            f"{where}: a JSON number with a fraction or an exponent of more than "
            f"{_DOUBLE_DIGITS} significant digits is not supported by the runtime (DuckDB "
            "reads it as a double)"
        )
    if problem.startswith("refuse:two keys"):
        raise StageProgrammingError(
            f"{where}: the object has {problem[len('refuse:') :]} (ignoring case), which "
            "the runtime does not choose between"
        )
    if problem.startswith("refuse:value:"):
        name, _, kind = problem[len("refuse:value:") :].rpartition(":")
        what = "a nested JSON value"
        if kind == "DOUBLE":
            what = "a JSON number with a fraction or an exponent"
        raise StageProgrammingError(
            f"{where}: {what} read into the text column or variable {name!r} is not "
            "supported by the runtime (DuckDB rewrites its text)"
        )
    if problem == "not an array" or problem.endswith("values"):
        raise StageDataError(
            f"{where}: {problem}, the load fills {count} columns (nothing was loaded)"
        )
    raise StageDataError(f"{where}: {problem} (nothing was loaded)")


def _cast(value: str, fill: _Fill) -> str:
    kind = fill.column.type
    if kind.upper() == "BLOB" and not fill.value.startswith("("):
        return f"encode({value})"
    return f"CAST({value} AS {kind})"


def _check(context: StageContext, source: str, fills: Sequence[_Fill], label: str) -> None:
    """Find the first value that does not convert, on a side connection."""
    conditions = []
    for i, fill in enumerate(fills):
        cast = _cast(f"__v{i}", fill).replace("CAST(", "TRY_CAST(", 1)
        conditions.append((f"__v{i} IS NOT NULL AND {cast} IS NULL", i, "convert"))
        if fill.column.not_null:
            conditions.append((f"__v{i} IS NULL", i, "null"))
    which = " ".join(f"WHEN {c} THEN {n}" for c, n, _ in conditions)
    kinds = " ".join(f"WHEN {c} THEN '{k}'" for c, _, k in conditions)
    raws = " ".join(f"WHEN {c} THEN __v{n}::VARCHAR" for c, n, _ in conditions)
    sql = (
        f"SELECT * FROM (SELECT {_LINE}, CASE {which} END AS i, CASE {kinds} END AS k, "
        f"CASE {raws} END AS v FROM {source}) WHERE i IS NOT NULL ORDER BY {_LINE} LIMIT 1"
    )
    side = context.cursor.cursor()
    try:
        found = side.execute(sql).fetchone()
    except duckdb.Error as error:
        raise error_class(error)(f"{label}: {first_line(error)} (nothing was loaded)") from None
    finally:
        side.close()
    if found is None:
        return
    line, index, kind, value = found
    column = fills[index].column
    problem = (
        f"NULL in the NOT NULL column {column.name!r}"
        if kind == "null"
        else f"cannot convert {value!r} to {column.type} for column {column.name!r}"
    )
    raise StageDataError(f"{label}: line {line}: {problem} (nothing was loaded)")
