r"""Staged files as a source of a query: the DuckDB read, its alias and its columns.

A `StagedSource` is one ``@stage/path (...) [AS] alias`` of a statement (see `queries`):
the files it reads, its concrete format and the alias its columns are qualified by (the
statement's, else a generated ``"__sqla_stage_s<n>"``). It gives the DuckDB SQL of
Snowflake's columns of staged files:

- ``$n``: the n-th column of CSV files (NULL past the last column, as in Snowflake); for
  JSON and Parquet, ``$1`` is the whole record as a JSON object (Snowflake's VARIANT).
- ``METADATA$FILENAME`` (the file's path in its stage), ``METADATA$FILE_ROW_NUMBER`` (from
  1 in each file, as in Snowflake; from 0 under ``stage_dialect=databend``, as Databend
  documents it), ``METADATA$FILE_CONTENT_KEY`` (the file's MD5),
  ``METADATA$FILE_LAST_MODIFIED`` (TIMESTAMP, UTC) and ``METADATA$START_SCAN_TIME``
  (TIMESTAMPTZ, when the statement was rewritten).

The file of a row is DuckDB's ``filename`` virtual column, which ``SELECT *`` does not
show. CSV and JSON readers have no row numbers, so a source whose row numbers are asked
for reads each file on its own ``WITH ORDINALITY`` (and so does one whose files have a
``filename`` or ``file_row_number`` column); its extra columns are then left out of
``*`` with ``EXCLUDE`` (see `columns`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import CSV, FormatSpec, Parquet
from sqla_stage.runtime.engine.context import Place, StageContext
from sqla_stage.runtime.engine.duckdb_errors import error_class, first_line
from sqla_stage.runtime.engine.duckdb_formats import read_function
from sqla_stage.runtime.engine.literals import literal, quote
from sqla_stage.runtime.load.read import glob_escape
from sqla_stage.runtime.storage.read_compression import readable_path
from sqla_stage.runtime.storage.stage_storage import FileInfo

FILENAME = "METADATA$FILENAME"
ROW_NUMBER = "METADATA$FILE_ROW_NUMBER"
CONTENT_KEY = "METADATA$FILE_CONTENT_KEY"
LAST_MODIFIED = "METADATA$FILE_LAST_MODIFIED"
START_SCAN_TIME = "METADATA$START_SCAN_TIME"
METADATA_COLUMNS = (FILENAME, ROW_NUMBER, CONTENT_KEY, LAST_MODIFIED, START_SCAN_TIME)
#: DuckDB's virtual columns the metadata columns read (a file column of the name hides one).
_VIRTUAL = ("filename", "file_row_number")


def list_staged(
    context: StageContext, place: Place, pattern: str | None, *, checksums: bool = False
) -> list[FileInfo]:
    """The files of ``place`` matching ``pattern``, as LIST lists them.

    Raises:
        StageRuntimeError: no such stage, or no file matches (DuckDB cannot read zero files).
    """
    files = place.files(pattern, checksums=checksums)
    if not files:
        matching = f" matching PATTERN {pattern!r}" if pattern is not None else ""
        raise StageProgrammingError(
            f"no staged file in {place.label}{matching}: DuckDB cannot read zero files"
        )
    return files


def staged_read(
    context: StageContext,
    place: Place,
    spec: FormatSpec,
    files: Sequence[FileInfo],
    *,
    text: bool = False,
) -> str:
    """The DuckDB read call over ``files`` (CSV: the header only where the format says).

    JSON files may hold pretty-printed documents (`read_function`'s ``documents``).
    Files DuckDB cannot decompress are read from decompressed copies (`storage.read_compression`).

    ``text``: CSV fields are read as VARCHAR, not typed by DuckDB's sniffer.
    """
    storage = place.storage
    paths = [glob_escape(readable_path(context, storage, spec, info.name)) for info in files]
    extra = ["all_varchar = true"] if text and isinstance(spec, CSV) else []
    dialect = context.settings.stage_dialect
    return read_function(
        spec, paths, extra=extra, named_header=True, documents=True, dialect=dialect
    )


@dataclass
class StagedSource:
    """One staged location of a statement and what the statement asks of it.

    Attributes:
        alias: The alias as SQL (the statement's text, or a generated quoted name).
        names: The alias's spellings a qualifier may match (upper case unless quoted).
        scope: The statement scope of the location (see `queries_columns.Layout`).
        key: The source's number in the statement (names its hidden columns).
    """

    context: StageContext
    place: Place
    spec: FormatSpec
    files: list[FileInfo]
    pattern: str | None
    start: int
    end: int
    alias: str
    names: frozenset[str]
    scope: int
    key: int
    wrapped: bool = False
    metadata: set[str] = field(default_factory=set)
    _columns: list[str] | None = None

    @property
    def label(self) -> str:
        """The location, for messages."""
        return self.place.label

    @property
    def records(self) -> bool:
        """Whether ``$1`` is the whole record (JSON, Parquet) rather than a field (CSV)."""
        return not isinstance(self.spec, CSV)

    def hidden(self, name: str) -> str:
        """The quoted name of one of the wrapped read's extra columns."""
        return quote(f"__sqla_stage_{name}_{self.key}")

    def hidden_columns(self) -> list[str]:
        """The extra columns the wrapped read adds (for ``* EXCLUDE``)."""
        return [self.hidden(name) for name in ("file", "row", "record")] if self.wrapped else []

    def columns(self) -> list[str]:
        """The files' column names, as DuckDB reads them (one probe, then remembered).

        Raises:
            StageRuntimeError: DuckDB cannot read the files.
        """
        if self._columns is None:
            read = self.read(self.files)
            try:
                rows = self.context.run(f"DESCRIBE SELECT * FROM {read}").fetchall()
            except duckdb.Error as error:
                raise error_class(error)(f"{self.label}: {first_line(error)}") from None
            self._columns = [str(row[0]) for row in rows]
        return self._columns

    def prepare(self) -> None:
        """Decide how the files are read, once the statement's references are known."""
        if not self.metadata & {FILENAME, ROW_NUMBER, CONTENT_KEY, LAST_MODIFIED}:
            return
        needs_rows = ROW_NUMBER in self.metadata and not isinstance(self.spec, Parquet)
        taken = {name.lower() for name in self.columns()}
        self.wrapped = needs_rows or any(name in taken for name in _VIRTUAL)
        if CONTENT_KEY in self.metadata:
            self.files = list_staged(self.context, self.place, self.pattern, checksums=True)

    def render(self) -> str:
        """The FROM item that replaces the location: the read, and its alias."""
        if not self.wrapped:
            return f"{self.read(self.files)} AS {self.alias}"
        fields = ", ".join(f"{quote(name)} := {quote(name)}" for name in self.columns())
        record = f"to_json(struct_pack({fields}))" if self.records else "NULL::JSON"
        parts = [
            f"SELECT * EXCLUDE (ordinality), filename AS {self.hidden('file')}, "
            f"ordinality AS {self.hidden('row')}, {record} AS {self.hidden('record')} "
            f"FROM {self.read([info])} WITH ORDINALITY"
            for info in self.files
        ]
        return f"({' UNION ALL BY NAME '.join(parts)}) AS {self.alias}"

    def read(self, files: Sequence[FileInfo]) -> str:
        """The read call over ``files``; CSV fields are text, as Snowflake's ``$n`` are."""
        return staged_read(self.context, self.place, self.spec, files, text=True)

    def record(self) -> str:
        """Snowflake's ``$1`` of JSON and Parquet files: the row as a JSON object."""
        if self.wrapped:
            return f"{self.alias}.{self.hidden('record')}"
        return f"to_json({self.alias})"

    def positional(self, number: int, what: str) -> str:
        """``$<number>``: a CSV column (NULL past the last one), or the JSON/Parquet record.

        Raises:
            StageProgrammingError: ``$0``, or ``$2`` and up on JSON or Parquet files.
        """
        if number < 1:
            raise StageProgrammingError(f"{what}: staged file columns are numbered from $1")
        if self.records:
            if number > 1:
                raise StageProgrammingError(
                    f"{what}: {self.spec.type_name} staged files ({self.label}) have one "
                    "column, $1, the whole record; read its fields as $1:name"
                )
            return self.record()
        columns = self.columns()
        if number > len(columns):
            return "NULL::VARCHAR"
        return f"{self.alias}.{quote(columns[number - 1])}"

    def _file(self) -> str:
        """The DuckDB path of a row's file."""
        return f"{self.alias}.{self.hidden('file') if self.wrapped else 'filename'}"

    def _by_file(self, values: dict[str, str], what: str) -> str:
        """A value per file, looked up by the row's file (an error for an unknown file)."""
        entries = ", ".join(f"{literal(path)}: {value}" for path, value in values.items())
        file = self._file()
        missing = literal(f"{what}: DuckDB read a file the stage did not list: ")
        table = f"MAP {{{entries}}}"
        return (
            f"CASE WHEN map_contains({table}, {file}) THEN {table}[{file}] "
            f"ELSE error({missing} || {file}) END"
        )

    def metadata_column(self, name: str, scan_time: dt.datetime) -> str:
        """The DuckDB expression of the metadata column ``name`` (upper case)."""
        storage = self.place.storage
        paths = {
            info.name: readable_path(self.context, storage, self.spec, info.name)
            for info in self.files
        }
        if name == FILENAME:
            return self._by_file({paths[i.name]: literal(i.name) for i in self.files}, name)
        if name == ROW_NUMBER:
            # Snowflake numbers a file's rows from 1, Databend from 0.
            first = 0 if self.context.settings.stage_dialect == "databend" else 1
            if self.wrapped:  # ordinality counts from 1
                row = f"{self.alias}.{self.hidden('row')}"
                return row if first == 1 else f"({row} - 1)"
            return f"({self.alias}.file_row_number + {first})"
        if name == CONTENT_KEY:
            keys = {paths[i.name]: literal(i.md5) if i.md5 else "NULL" for i in self.files}
            return f"{self._by_file(keys, name)}::VARCHAR"
        if name == LAST_MODIFIED:
            times = {paths[i.name]: _timestamp(i.last_modified) for i in self.files}
            return f"{self._by_file(times, name)}::TIMESTAMP"
        return f"TIMESTAMPTZ {literal(scan_time.isoformat())}"


def _timestamp(moment: dt.datetime | None) -> str:
    """A TIMESTAMP literal in UTC (NULL when unknown)."""
    if moment is None:
        return "NULL::TIMESTAMP"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return f"TIMESTAMP {literal(moment.isoformat(sep=' '))}"
