"""Checks of staged files before and instead of a load: rows, errors, first errors.

They run on a *side connection*, a second DuckDB connection to the same database outside
the user's transaction: DuckDB aborts a transaction on any error, so anything that might
raise (a corrupt or undecodable file) runs there, and the user's transaction only ever
runs SQL that already succeeded on the same files. A check reads the tolerant shape of
`Reader` and, for CSV, DuckDB's rejects tables
(temporary tables of the side connection, dropped before each check).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageDataError
from sqla_stage.runtime.engine.duckdb_errors import first_line
from sqla_stage.runtime.engine.results import BIGINT, VARCHAR, Column, Query, Rows
from sqla_stage.runtime.load.read import (
    COLUMN,
    ERROR,
    FILE,
    LINE,
    RECORD,
    REJECTS,
    Reader,
    glob_escape,
)
from sqla_stage.runtime.storage.errors import lost_connection

_LAST = 9223372036854775807
_ROWS_MODE = re.compile(r"RETURN_(\d+)_ROWS")

#: The rows of VALIDATION_MODE = RETURN_ERRORS / RETURN_ALL_ERRORS (Snowflake's VALIDATE).
VALIDATION_COLUMNS = [
    Column("error", VARCHAR),
    Column("file", VARCHAR),
    Column("line", BIGINT),
    Column("character", BIGINT),
    Column("category", VARCHAR),
    Column("column_name", VARCHAR),
    Column("row_number", BIGINT),
    Column("rejected_record", VARCHAR),
]
#: The same rows in Snowflake's columns (``stage_dialect=snowflake``); the runtime has no
#: byte offsets, error codes or SQL states, so those are NULL.
SNOWFLAKE_VALIDATION_COLUMNS = [
    Column(name, BIGINT if kind == "n" else VARCHAR)
    for name, kind in (
        ("ERROR", "s"),
        ("FILE", "s"),
        ("LINE", "n"),
        ("CHARACTER", "n"),
        ("BYTE_OFFSET", "n"),
        ("CATEGORY", "s"),
        ("CODE", "n"),
        ("SQL_STATE", "s"),
        ("COLUMN_NAME", "s"),
        ("ROW_NUMBER", "n"),
        ("ROW_START_LINE", "n"),
    )
]


@dataclass
class FileStats:
    """What checking one file found."""

    parsed: int = 0
    errors: int = 0
    first_error: str | None = None
    line: int | None = None
    character: int | None = None
    column: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class ErrorRow:
    """One error, as VALIDATION_MODE = RETURN_ERRORS shows it."""

    path: str
    error: str
    line: int | None
    character: int | None
    column: str | None
    record: str | None
    category: str


def analyse(side: Any, reader: Reader, paths: Sequence[str]) -> dict[str, FileStats]:
    """Per file: rows parsed, rows in error and the first error; never raises.

    The files are checked together; when DuckDB cannot read them together, one by one,
    and a file DuckDB cannot read at all is ``failed`` with DuckDB's message. When the
    storage cannot be reached at all (`lost_connection`), the error is raised instead:
    reading each file again against it would only wait for each to fail.
    """
    try:
        return _analyse(side, reader, paths)
    except Exception as error:  # one of the files cannot be read at all: find which
        if lost_connection(error):
            raise
        if len(paths) == 1:
            return {paths[0]: _failed(side, reader, paths[0])}
    stats = {}
    for path in paths:
        try:
            stats.update(_analyse(side, reader, [path]))
        except Exception as error:
            if lost_connection(error):
                raise
            stats[path] = _failed(side, reader, path)
    return stats


def _failed(side: Any, reader: Reader, path: str) -> FileStats:
    try:
        _analyse(side, reader, [path])
    except Exception as error:
        return FileStats(errors=1, first_error=first_line(error), failed=True)
    return FileStats()


def _analyse(side: Any, reader: Reader, paths: Sequence[str]) -> dict[str, FileStats]:
    _drop_rejects(side, reader)
    detail = f"struct_pack(e := {ERROR}, c := {COLUMN}, l := {LINE})"
    sql = (
        f"SELECT {FILE}, count(*), count({ERROR}), arg_min({detail}, coalesce({LINE}, {_LAST})) "
        f"FILTER (WHERE {ERROR} IS NOT NULL), max({reader.touch()}) "
        f"FROM ({reader.rows(paths, rejects=reader.rejects)}) GROUP BY ALL"
    )
    stats = {path: FileStats() for path in paths}
    for path, parsed, errors, first, _ in side.execute(sql).fetchall():
        item = stats.setdefault(path, FileStats())
        item.parsed, item.errors = parsed, errors
        if first is not None:
            item.first_error, item.column, item.line = first["e"], first["c"], first["l"]
    if reader.rejects and _rejects_exist(side):
        for path, lines, first in side.execute(_REJECTS_BY_FILE).fetchall():
            item = stats.setdefault(path, FileStats())
            item.parsed += lines
            item.errors += lines
            item.first_error, item.line = first["m"], first["l"]
            item.character, item.column = first["ch"], first["c"]
    return stats


_REJECT_PARTS = (
    ("m", "e.error_message"),
    ("l", "e.line::BIGINT"),
    ("ch", "(e.byte_position - e.line_byte_position + 1)::BIGINT"),
    ("c", "e.column_name"),
    ("r", "e.csv_line"),
    ("t", "e.error_type::VARCHAR"),
)
_REJECT_DETAIL = ", ".join(f"{expr} AS {name}" for name, expr in _REJECT_PARTS)
_REJECT_STRUCT = "struct_pack(" + ", ".join(f"{n} := {e}" for n, e in _REJECT_PARTS) + ")"
_REJECTS_FROM = (
    f"FROM {REJECTS[0]} e JOIN {REJECTS[1]} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id"
)
_REJECTS_BY_FILE = (
    f"SELECT s.file_path, count(DISTINCT e.line), arg_min({_REJECT_STRUCT}, e.line) "
    f"{_REJECTS_FROM} GROUP BY ALL"
)


def _rejects_exist(side: Any) -> bool:
    """Whether the last CSV check made its rejects tables (a read of no lines does not)."""
    row = side.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [REJECTS[0]]
    ).fetchone()
    return bool(row and row[0])


def _drop_rejects(side: Any, reader: Reader) -> None:
    if reader.rejects:
        for name in REJECTS:
            side.execute(f"DROP TABLE IF EXISTS temp.{name}")


def error_rows(side: Any, reader: Reader, paths: Sequence[str]) -> list[ErrorRow]:
    """Every error in the files (VALIDATION_MODE = RETURN_ERRORS); never raises."""
    found = []
    for path in paths:
        try:
            found += _error_rows(side, reader, path)
        except Exception as error:
            found.append(ErrorRow(path, first_line(error), None, None, None, None, "file"))
    return found


def _error_rows(side: Any, reader: Reader, path: str) -> list[ErrorRow]:
    sql = (
        f"SELECT {ERROR}, {LINE}, {COLUMN}, {RECORD}, {reader.touch()} FROM "
        f"({reader.rows([path])}) WHERE {ERROR} IS NOT NULL"
    )
    found = [
        ErrorRow(path, message, line, None, column, record, "conversion")
        for message, line, column, record, _ in side.execute(sql).fetchall()
    ]
    if reader.rejects:
        _drop_rejects(side, reader)
        side.execute(
            f"SELECT max({reader.touch()}) FROM ({reader.rows([path], rejects=True)})"
        ).fetchall()
        if _rejects_exist(side):
            rejected = side.execute(f"SELECT {_REJECT_DETAIL} {_REJECTS_FROM}").fetchall()
            found += [
                ErrorRow(path, m, line, ch, c, r, "conversion" if t == "CAST" else "parsing")
                for m, line, ch, c, r, t in rejected
            ]
    return sorted(found, key=lambda row: (row.line is None, row.line or 0))


def _first_error_within(side: Any, reader: Reader, path: str, rows: int) -> FileStats | None:
    """The first error among the first ``rows`` rows read from ``path`` (file order)."""
    sql = (
        f"SELECT {ERROR}, {COLUMN}, {LINE} FROM (SELECT * FROM ({reader.rows([path])}) "
        f"LIMIT {rows}) WHERE {ERROR} IS NOT NULL LIMIT 1"
    )
    found = side.execute(sql).fetchall()
    if not found:
        return None
    error, column, line = found[0]
    return FileStats(errors=1, first_error=error, line=line, column=column)


def named(message: str | None, keys: Mapping[str, str]) -> str | None:
    """``message`` with the files' DuckDB paths replaced by their keys."""
    if message is None:
        return None
    for path, key in keys.items():
        for spelling in (glob_escape(path), path):
            if spelling in message:
                message = message.replace(spelling, key)
    return message


def where(key: str, stats: FileStats, place: str = "") -> str:
    """``file 'k', line n, column 'c'[ of @stage]``: where a file's first error is."""
    parts = [f"file {key!r}"]
    if stats.line is not None:
        parts.append(f"line {stats.line}")
    if stats.column is not None:
        parts.append(f"column {stats.column!r}")
    return ", ".join(parts) + (f" of {place}" if place else "")


def validate(
    side: Any,
    reader: Reader,
    files: Sequence[tuple[str, str]],
    mode: str,
    *,
    snowflake: bool = False,
) -> Rows | Query:
    """VALIDATION_MODE: the errors in ``files`` (``(path, key)`` pairs), or the first rows.

    RETURN_<n>_ROWS answers a query of the first n good rows, as the target's columns,
    after checking that no error comes before them. ``snowflake``: the errors in
    Snowflake's columns (`SNOWFLAKE_VALIDATION_COLUMNS`).

    Raises:
        StageRuntimeError: RETURN_<n>_ROWS, and an error among the first n rows.
    """
    keys = dict(files)
    paths = [path for path, _ in files]
    skip = reader.spec.options.get("skip_header", 0)
    skipped = skip if isinstance(skip, int) and reader.rejects else 0  # CSV lines count those
    rows_mode = _ROWS_MODE.fullmatch(mode)
    if rows_mode is None:
        rows = []
        for row in error_rows(side, reader, paths):
            error, file = named(row.error, keys), keys[row.path]
            number = row.line - skipped if row.line is not None else None
            if snowflake:
                rows.append([error, file, row.line, row.character, None, row.category])
                rows[-1] += [None, None, row.column, number, row.line]
            else:
                rows.append([error, file, row.line, row.character, row.category, row.column])
                rows[-1] += [number, row.record]
        return Rows(SNOWFLAKE_VALIDATION_COLUMNS if snowflake else VALIDATION_COLUMNS, rows)
    wanted = int(rows_mode.group(1))
    stats = analyse(side, reader, paths)
    offset = 0
    for path in paths:
        if offset >= wanted:
            break
        item = stats.get(path) or FileStats()
        if item.errors and not item.failed:  # is one of them among the rows asked for?
            within = wanted - offset
            if item.line is None or item.line - skipped > within:
                item = _first_error_within(side, reader, path, within) or FileStats()
        if item.failed or item.errors:
            raise StageDataError(
                f"VALIDATION_MODE = {mode}: {where(keys[path], item)}: "
                f"{named(item.first_error, keys)}"
            )
        offset += stats[path].parsed if path in stats else 0
    return Query(f"{reader.good_rows(paths, named=True)} LIMIT {wanted}")
