r"""How an unload's file format becomes DuckDB's ``COPY ... TO`` options (spec 004).

A `FileWriter` says, for one concrete format, which columns DuckDB writes (a
projection over the source, so per-column options such as BINARY_FORMAT run inside
DuckDB), the options of ``COPY ... TO``, the files' extension, and how to count the rows
of each written file. The choices the spec leaves to an implementation:

- **Extensions**: ``.csv`` / ``.json`` (``.ndjson`` under ``stage_dialect=databend``)
  plus ``.gz`` (GZIP), ``.bz2`` (BZ2), ``.br`` (BROTLI), ``.zst`` (ZSTD), ``.deflate``
  (DEFLATE) or ``.raw_deflate`` (RAW_DEFLATE), as Snowflake names them; Parquet
  ``.snappy.parquet`` (SNAPPY, the default) or ``.parquet`` (NONE). ``FILE_EXTENSION``
  *replaces* that whole default extension (``FILE_EXTENSION = 'txt'`` or ``'.txt'``
  gives ``data_0_0_0.txt`` even when the content is gzipped); ``NONE`` keeps the default.
- **Compression**: AUTO is gzip for CSV and JSON, Snappy for Parquet. DuckDB writes ZSTD
  and NONE (and Snappy or nothing for Parquet); for GZIP, BZ2, BROTLI, DEFLATE and
  RAW_DEFLATE it writes plain text that `compress` compresses. Parquet's LZO (and
  BROTLI without the ``brotli`` extra) is refused with a
  [StageRuntimeError][sqla_stage.StageRuntimeError].
- **FIELD_OPTIONALLY_ENCLOSED_BY**: a character encloses every string value (DuckDB's
  ``FORCE_QUOTE`` on the string columns), as Snowflake does; ``ESCAPE`` then escapes the
  enclosing character inside enclosed values (default: the character is doubled, ``'``
  as well as ``"``), and DuckDB refuses an ESCAPE character that appears in the NULL
  string (``ESCAPE = '\\'`` with the default ``\N``), so that combination is an error
  naming NULL_IF. ``NONE`` (the default) encloses nothing: values are escaped with
  ``ESCAPE`` / ``ESCAPE_UNENCLOSED_FIELD`` as Snowflake writes them (`csv_escapes`), and
  DuckDB writes them with no quoting. Under ``stage_dialect=databend`` a value holding
  the delimiter, a quote or a line break is enclosed in ``"``, as Databend writes it.
- **NULL_IF / EMPTY_FIELD_AS_NULL**: SQL NULL is written as the first NULL_IF string
  (default ``\N``; ``NULL_IF = ()`` writes an empty field). An empty string is written
  as an empty field. With no enclosing character and NULL written as an empty field the
  two cannot be told apart (Snowflake's unload considerations say so); nothing encloses
  the empty string, since FIELD_OPTIONALLY_ENCLOSED_BY = NONE asks for no enclosure.
- **Delimiters** take Snowflake's spellings (`sqla_stage.delimiters`). DuckDB's writer
  takes a one-byte delimiter, quote and escape; with any other (``'||'``, ``'Þ'``) each
  line is built by one DuckDB expression (`csv_lines`), so it is written byte for byte.
  ``RECORD_DELIMITER = NONE`` is refused: the spec does not say what it writes.
- **Dates and times**: DATE_FORMAT and TIMESTAMP_FORMAT become DuckDB's ``DATEFORMAT`` /
  ``TIMESTAMPFORMAT``; TIME_FORMAT and BINARY_FORMAT (HEX, BASE64, UTF8) are projections
  (``strftime``, ``hex``, ``base64``, ``decode``).
- **JSON**: one value a line. Snowflake unloads one VARIANT column (`checks`
  refuses any other source): each line is that column's value as JSON (a JSON, STRUCT,
  MAP or LIST column; ``null`` for SQL NULL). Under ``stage_dialect=databend`` each line
  is a row's object of its columns, as Databend writes NDJSON.
- **Parquet and HEADER**: with ``HEADER = TRUE`` the columns keep their names; with
  FALSE (the default) they are named ``col1``, ``col2``, ... as the spec says.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqla_stage.delimiters import character_option
from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import CSV, JSON, TSV, FormatSpec, Parquet
from sqla_stage.options import AUTO
from sqla_stage.runtime.engine.duckdb_formats import (
    DOUBLE_QUOTE,
    MAX_READ_DELIMITER_BYTES,
    text_compression,
)
from sqla_stage.runtime.engine.literals import literal, quote, text_list
from sqla_stage.runtime.unload.csv_escapes import (
    count_records,
    escaped,
    escaped_name,
    marks,
    may_hold,
    record_counts,
    unenclosed,
    unenclosed_escape,
)
from sqla_stage.runtime.unload.csv_lines import RAW_LINE_OPTIONS, LineFormat
from sqla_stage.runtime.unload.tsv import TsvWriter
from sqla_stage.runtime.unload.writer import (
    COMPRESSION_SUFFIX,
    READ_NEW_LINE,
    FileWriter,
    SourceColumn,
    extension,
    is_none,
    time_option,
)


class CsvWriter(FileWriter):
    """``TYPE = CSV``: every option of spec 004, in DuckDB's CSV writer."""

    duckdb_format = "csv"

    def __init__(self, spec: FormatSpec, header: bool, dialect: str | None = None) -> None:
        """Read the format's options (``dialect``: whose semantics, ``stage_dialect``).

        Raises:
            StageRuntimeError: an option DuckDB cannot write (compression, NONE records).
        """
        options = spec.options
        self.header = header
        self.raw = unenclosed(spec, dialect)
        self.unenclosed_escape = unenclosed_escape(spec, dialect)
        self.marks = marks(spec)
        self.compression = text_compression(spec, writing=True)
        self.extension = extension(spec, ".csv" + COMPRESSION_SUFFIX[self.compression])
        delimiter = options.get("field_delimiter")
        self.delimiter = "" if is_none(delimiter) else character_option(delimiter) or ","
        self.record = character_option(options.get("record_delimiter")) or "\n"
        if is_none(options.get("record_delimiter")) or not self.record:
            raise StageProgrammingError(
                "RECORD_DELIMITER = NONE: the DuckDB runtime ends every record; "
                "give a delimiter such as '\\n'"
            )
        self.enclosure = character_option(options.get("field_optionally_enclosed_by"))
        self.escape = character_option(options.get("escape"))
        null_if = options.get("null_if", ("\\N",))
        self.null = null_if[0] if isinstance(null_if, tuple) and null_if else ""
        self.date_format = time_option(options.get("date_format"))
        self.time_format = time_option(options.get("time_format"))
        self.timestamp_format = time_option(options.get("timestamp_format"))
        self.binary_format = str(options.get("binary_format", "HEX"))
        if self.escape and self.escape in self.null and not self.raw:
            raise StageProgrammingError(
                f"ESCAPE = {self.escape!r} with NULL written as {self.null!r}: DuckDB's CSV "
                "writer refuses an escape character inside the NULL string; give NULL_IF "
                "another first value"
            )

    @property
    def by_lines(self) -> bool:
        """Whether DuckDB's writer cannot take the characters (`csv_lines` builds each line).

        Its delimiter, quote and escape are one ASCII character (or none).
        """
        single = (self.delimiter, self.enclosure or "", self.escape or "")
        return not all(len(text) <= 1 and text.isascii() for text in single[: 1 if self.raw else 3])

    def _value(self, column: SourceColumn) -> str:
        """The column's value as written (before any enclosing)."""
        name = quote(column.name)
        if column.type == "BLOB":
            function = {"HEX": "hex", "BASE64": "base64", "UTF8": "decode"}[self.binary_format]
            return f"{function}({name})"
        if column.type == "TIME" and self.time_format is not None:
            return f"strftime(DATE '1970-01-01' + {name}, {literal(self.time_format)})"
        if column.type == "VARCHAR" and self._empty_unquoted():
            return f"nullif({name}, '')"
        return name

    def _text(self, column: SourceColumn) -> str:
        """The column's value as text, dates and timestamps in their formats."""
        value = self._value(column)
        if column.type == "DATE" and self.date_format is not None:
            return f"strftime({value}, {literal(self.date_format)})"
        if column.type.startswith("TIMESTAMP") and self.timestamp_format is not None:
            return f"strftime({value}, {literal(self.timestamp_format)})"
        return f"CAST({value} AS VARCHAR)"

    def _line_format(self) -> LineFormat:
        if self.raw:
            return LineFormat(self.delimiter, "", "", self.null)
        enclosure = self.enclosure or DOUBLE_QUOTE
        marks = (self.delimiter, enclosure, self.escape or "", "\n", "\r", self.record)
        empty = self.null == "" and not self._empty_unquoted()
        specials = tuple(dict.fromkeys(mark for mark in marks if mark))
        return LineFormat(self.delimiter, enclosure, self.escape or "", self.null, specials, empty)

    def _empty_unquoted(self) -> bool:
        """No enclosure and NULL as an empty field: an empty string is an empty field too.

        With EMPTY_FIELD_AS_NULL = FALSE that is what the spec asks; with TRUE (the
        default) Snowflake's unload considerations say both are indistinguishable then:
        nothing asked for an enclosure, so none is written.
        """
        return self.enclosure is None and self.null == ""

    def select_items(self, columns: Sequence[SourceColumn]) -> list[str]:
        """Binary, time and empty-string columns converted as the options say.

        With characters DuckDB's writer cannot take, one item: the whole line. With no
        enclosure (`csv_escapes`), values that may hold a delimiter are escaped.
        """
        if self.raw:
            return self._raw_items(columns)
        if self.by_lines:
            line = self._line_format()
            fields = [
                line.field(
                    self._text(c),
                    enclose=(self.enclosure is not None and c.type == "VARCHAR") or None,
                )
                for c in columns
            ]
            return [f"{line.line(fields)} AS {quote(line.header([c.name for c in columns]))}"]
        items = []
        for column in columns:
            value, name = self._value(column), quote(column.name)
            items.append(name if value == name else f"{value} AS {name}")
        return items

    def _raw_items(self, columns: Sequence[SourceColumn]) -> list[str]:
        """Unenclosed fields: escaped where they may hold a delimiter or the escape."""
        escape, marks_ = self.unenclosed_escape, self.marks
        formats = [f for f in (self.date_format, self.time_format, self.timestamp_format) if f]
        values, names = [], []
        for column in columns:
            text = self._text(column) if self.by_lines else self._value(column)
            name = column.name
            if escape is not None:
                name = escaped_name(name, escape, marks_)
                if may_hold(column.type, (escape, *marks_), formats):
                    text = escaped(self._text(column), escape, marks_)
            values.append(text)
            names.append(name)
        if self.by_lines:
            line = self._line_format()
            fields = [line.field(value, enclose=False) for value in values]
            return [f"{line.line(fields)} AS {quote(line.header(names))}"]
        return [f"{value} AS {quote(name)}" for value, name in zip(values, names, strict=True)]

    def copy_options(self, columns: Sequence[SourceColumn]) -> list[str]:
        """DuckDB's CSV writer options."""
        if self.by_lines:
            return [
                *RAW_LINE_OPTIONS,
                f"HEADER {str(self.header).lower()}",
                f"COMPRESSION {literal(self.duckdb_compression)}",
                f"NEW_LINE {literal(self.record)}",
            ]
        options = [
            "FORMAT csv",
            f"HEADER {str(self.header).lower()}",
            f"COMPRESSION {literal(self.duckdb_compression)}",
            f"DELIM {literal(self.delimiter)}",
            f"NEW_LINE {literal(self.record)}",
            f"NULLSTR {literal(self.null)}",
        ]
        if self.raw:  # the values are escaped already (`csv_escapes`)
            options += ["QUOTE ''", "ESCAPE ''"]
        else:  # the enclosure inside a value: ESCAPE before it, else doubled (spec 004)
            quote_char = literal(self.enclosure or DOUBLE_QUOTE)
            escape = literal(self.escape or self.enclosure or DOUBLE_QUOTE)
            options += [f"QUOTE {quote_char}", f"ESCAPE {escape}"]
        strings = [quote(column.name) for column in columns if column.type == "VARCHAR"]
        if self.enclosure is not None and strings:
            options.append(f"FORCE_QUOTE ({', '.join(strings)})")
        if self.date_format is not None:
            options.append(f"DATEFORMAT {literal(self.date_format)}")
        if self.timestamp_format is not None:
            options.append(f"TIMESTAMPFORMAT {literal(self.timestamp_format)}")
        return options

    def count_files(self, paths: Sequence[str]) -> dict[str, int] | None:
        """Escaped zstd files: DuckDB reads no zstd text as it is (`csv_escapes`)."""
        escape = self.unenclosed_escape
        if escape is None or self.duckdb_compression != "zstd":
            return None
        return {
            path: count_records(path, escape, self.record, header=self.header) for path in paths
        }

    def count_query(self, paths: Sequence[str], width: int) -> str | None:
        """Read the files back as text with the same dialect (DuckDB's reader).

        None when DuckDB's reader does not take the record or field delimiter. Escaped
        unenclosed files are counted by their unescaped record delimiters (`csv_escapes`).
        """
        if self.unenclosed_escape is not None:
            if self.duckdb_compression != "uncompressed":
                return None
            return record_counts(paths, self.unenclosed_escape, self.record, header=self.header)
        new_line = READ_NEW_LINE.get(self.record)
        readable = 0 < len(self.delimiter.encode()) <= MAX_READ_DELIMITER_BYTES
        single = (self.enclosure or "", self.escape or "")
        if new_line is None or not readable or not all(c.isascii() for c in single):
            return None
        columns = ", ".join(f"'c{index}': 'VARCHAR'" for index in range(width))
        quote_char = "" if self.raw else self.enclosure or DOUBLE_QUOTE
        arguments = [
            text_list(paths),
            "filename = true",
            "auto_detect = false",
            f"header = {str(self.header).lower()}",
            f"columns = {{{columns}}}",
            f"delim = {literal(self.delimiter)}",
            f"quote = {literal(quote_char)}",
            f"escape = {literal('' if self.raw else self.escape or quote_char)}",
            f"new_line = {literal(new_line)}",
            f"compression = {literal(self.duckdb_compression)}",
        ]
        return f"SELECT filename, count(*) FROM read_csv({', '.join(arguments)}) GROUP BY filename"


class JsonWriter(FileWriter):
    """``TYPE = JSON``: one JSON value a line.

    Snowflake's unload (the default): the source's one VARIANT column, each value as
    written (``null`` for SQL NULL), as DuckDB's ``to_json`` spells it, written line by
    line (`check_unload` refuses any other source). Databend's (``rows``): each row as an
    object of its columns, DuckDB's JSON writer.
    """

    duckdb_format = "json"

    def __init__(self, spec: FormatSpec, *, ndjson: bool = False) -> None:
        """Read COMPRESSION and FILE_EXTENSION; ``ndjson``: Databend's rows and ``.ndjson``.

        Raises:
            StageRuntimeError: a compression DuckDB does not write.
        """
        self.compression = text_compression(spec, writing=True)
        default = (".ndjson" if ndjson else ".json") + COMPRESSION_SUFFIX[self.compression]
        self.extension = extension(spec, default)
        self.rows = ndjson
        if not ndjson:
            self.duckdb_format = "csv"  # whole lines, each a value's JSON text

    def select_items(self, columns: Sequence[SourceColumn]) -> list[str]:
        """The columns as an object's keys (Databend); else the one column's JSON text."""
        if self.rows:
            return super().select_items(columns)
        if len(columns) != 1:
            raise StageProgrammingError("TYPE = JSON unloads one VARIANT column")
        name = quote(columns[0].name)
        return [f"coalesce(CAST(to_json({name}) AS VARCHAR), 'null') AS {name}"]

    def copy_options(self, columns: Sequence[SourceColumn]) -> list[str]:
        """DuckDB's JSON writer (Databend), or its CSV writer with no quoting: raw lines."""
        compression = f"COMPRESSION {literal(self.duckdb_compression)}"
        if self.rows:
            return ["FORMAT json", compression]
        return [*RAW_LINE_OPTIONS, "HEADER false", compression]

    def count_query(self, paths: Sequence[str], width: int) -> str | None:
        """One object a line: count the objects of each file."""
        files = text_list(paths)
        return (
            f"SELECT filename, count(*) FROM read_ndjson_objects({files}, filename = true, "
            f"compression = {literal(self.duckdb_compression)}) GROUP BY filename"
        )


class ParquetWriter(FileWriter):
    """``TYPE = PARQUET``: Snappy (AUTO) or uncompressed; row counts from DuckDB's stats."""

    duckdb_format = "parquet"

    def __init__(self, spec: FormatSpec, header: bool) -> None:
        """Read COMPRESSION (and the deprecated SNAPPY_COMPRESSION).

        Raises:
            StageRuntimeError: COMPRESSION = LZO.
        """
        self.header = header
        name = str(spec.options.get("compression", AUTO))
        if name == "AUTO" and spec.options.get("snappy_compression") is False:
            name = "NONE"
        if name not in ("AUTO", "SNAPPY", "NONE"):
            raise StageProgrammingError(
                f"COMPRESSION = {name}: the DuckDB runtime writes Parquet with SNAPPY "
                "(AUTO) or NONE"
            )
        self.compression = "uncompressed" if name == "NONE" else "snappy"
        self.extension = ".parquet" if name == "NONE" else ".snappy.parquet"

    def select_items(self, columns: Sequence[SourceColumn]) -> list[str]:
        """The columns, named ``col1``, ``col2``, ... unless HEADER = TRUE."""
        if self.header:
            return super().select_items(columns)
        return [
            f"{quote(column.name)} AS {quote(f'col{index}')}"
            for index, column in enumerate(columns, start=1)
        ]

    def copy_options(self, columns: Sequence[SourceColumn]) -> list[str]:
        """DuckDB's Parquet writer options, with per-file statistics returned."""
        return ["FORMAT parquet", f"COMPRESSION {self.compression}", "RETURN_STATS true"]


def writer_for(spec: FormatSpec, header: bool, *, stage_dialect: str | None = None) -> FileWriter:
    """The writer of a concrete format (resolve named formats first).

    Under ``stage_dialect=databend`` JSON files are named ``.ndjson`` and Parquet files
    ``.parquet``, as Databend names them (its JSON type is NDJSON), and text files are not
    compressed unless the format says so (Databend's default COMPRESSION is NONE;
    Snowflake's is AUTO, gzip).

    Raises:
        StageRuntimeError: a format or option the runtime cannot write.
    """
    uncompressed = stage_dialect == "databend" and "compression" not in spec.options
    if uncompressed and isinstance(spec, CSV | JSON):
        spec = type(spec)(**{**spec.options, "compression": "none"})
    if isinstance(spec, TSV):
        return TsvWriter(spec, header or spec.options.get("output_header") is True)
    if isinstance(spec, CSV):
        return CsvWriter(spec, header or spec.options.get("output_header") is True, stage_dialect)
    if isinstance(spec, JSON):
        return JsonWriter(spec, ndjson=stage_dialect == "databend")
    if isinstance(spec, Parquet):
        writer = ParquetWriter(spec, header)
        if stage_dialect == "databend":  # Databend names every Parquet file .parquet
            writer.extension = ".parquet"
        return writer
    raise StageProgrammingError(f"cannot unload files of format {spec!r}")
