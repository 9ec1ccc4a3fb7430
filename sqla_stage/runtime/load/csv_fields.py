r"""CSV fields a load converts after reading: TIME_FORMAT, BINARY_FORMAT, enclosed ''.

DuckDB's CSV reader parses DATE and TIMESTAMP fields with DATE_FORMAT / TIMESTAMP_FORMAT
itself (`duckdb_formats.csv_read_options`), but it has no time format, and it casts text to
BLOB by its own escapes (``\x00``). COPY INTO <table> therefore reads these columns as
text and converts them, as Snowflake's and Databend's loads do:

- **TIME_FORMAT** (other than AUTO): a TIME column is parsed with it (``strptime``).
- **BINARY_FORMAT** (default HEX): a BLOB column is decoded from hex (either case; an odd
  number of digits is an error), from base64, or (UTF8) stored as the text's UTF-8 bytes.
- **FIELD_OPTIONALLY_ENCLOSED_BY** (a character): an enclosed empty field (``""``) is an
  empty string and an empty unenclosed field (``,,``) is NULL when EMPTY_FIELD_AS_NULL is
  TRUE, as Snowflake's data unloading considerations say (not under
  ``stage_dialect=databend``: Databend's EMPTY_FIELD_AS applies to both). DuckDB's reader
  is told not to turn enclosed fields into NULL (``allow_quoted_nulls = false``); a text
  column then turns an enclosed NULL_IF string into NULL itself, as NULL_IF applies to
  every field.

In the tolerant shape (`load_read.Reader.rows`) a value that does not convert is NULL
(``TRY``), and the row is an error naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqla_stage.formats import FormatSpec
from sqla_stage.options import AUTO, NONE, Keyword
from sqla_stage.runtime.engine.duckdb_formats import null_strings, strftime_format
from sqla_stage.runtime.engine.literals import literal

_TEXT = "VARCHAR"
_BINARY = "BLOB"
_TIME = "TIME"


def _time_format(spec: FormatSpec) -> str | None:
    """TIME_FORMAT as strftime (None for AUTO or none)."""
    value = spec.options.get("time_format")
    if value is None or (isinstance(value, Keyword) and value == AUTO):
        return None
    return strftime_format(str(value))


def _binary_format(spec: FormatSpec) -> str:
    """BINARY_FORMAT (HEX by default), upper case."""
    return str(spec.options.get("binary_format", "HEX")).upper()


@dataclass(frozen=True)
class CsvFields:
    """How a load reads a CSV format's fields: which as text, and their conversions.

    Args:
        spec: The CSV format.
        dialect: Whose semantics to follow (``stage_dialect``): Databend's EMPTY_FIELD_AS
            applies to an enclosed empty field too (``""`` is NULL, or '' with STRING).
    """

    spec: FormatSpec
    dialect: str | None = None

    def enclosed_empty_kept(self) -> bool:
        """Whether an enclosed empty field ('') is told from an empty one (NULL).

        True with FIELD_OPTIONALLY_ENCLOSED_BY set to a character, EMPTY_FIELD_AS_NULL
        TRUE (its default) and no empty string among the NULL_IF strings, except under
        ``stage_dialect=databend``.
        """
        enclosure = self.spec.options.get("field_optionally_enclosed_by")
        if enclosure is None or (isinstance(enclosure, Keyword) and enclosure == NONE):
            return False
        if self.dialect == "databend":
            return False
        if self.spec.options.get("empty_field_as_null", True) is not True:
            return False
        return "" not in null_strings(self.spec)

    def read_options(self) -> list[str]:
        """More ``read_csv`` arguments of a load (``allow_quoted_nulls = false``, or none)."""
        return ["allow_quoted_nulls = false"] if self.enclosed_empty_kept() else []

    def read_as_text(self, column_type: str) -> bool:
        """Whether a column of ``column_type`` is read as text, to be converted by `value`."""
        kind = column_type.upper()
        return kind == _BINARY or (kind == _TIME and _time_format(self.spec) is not None)

    def read_type(self, column_type: str) -> str:
        """The DuckDB type the CSV reader reads a column of ``column_type`` as."""
        return _TEXT if self.read_as_text(column_type) else column_type

    def value(self, column_type: str, field: str, *, tolerant: bool) -> str:
        """The SQL giving the column's value from the read ``field`` (itself, or converted).

        Args:
            column_type: The target column's DuckDB type.
            field: The read field (a quoted column name).
            tolerant: NULL rather than an error for a value that does not convert.
        """
        kind = column_type.upper()
        text = field
        if self.enclosed_empty_kept() and (kind == _TEXT or self.read_as_text(kind)):
            nulls = [null for null in null_strings(self.spec) if null]
            if nulls:
                listed = ", ".join(literal(null) for null in nulls)
                text = f"CASE WHEN {field} IN ({listed}) THEN NULL ELSE {field} END"
        if kind == _BINARY:
            return _decoded(_binary_format(self.spec), text, tolerant=tolerant)
        time_format = _time_format(self.spec) if kind == _TIME else None
        if time_format is not None:
            parse = "try_strptime" if tolerant else "strptime"
            return f"CAST({parse}({text}, {literal(time_format)}) AS TIME)"
        return text


def _decoded(binary_format: str, text: str, *, tolerant: bool) -> str:
    """SQL decoding ``text`` to BLOB per BINARY_FORMAT (HEX, BASE64 or UTF8)."""
    if binary_format == "UTF8":
        return f"encode({text})"
    if binary_format == "BASE64":
        return f"TRY(from_base64({text}))" if tolerant else f"from_base64({text})"
    if tolerant:
        return f"CASE WHEN length({text}) % 2 = 0 THEN TRY(unhex({text})) END"
    odd = literal("BINARY_FORMAT = HEX: a value has an odd number of hex digits")
    return f"CASE WHEN length({text}) % 2 = 1 THEN error({odd}) ELSE unhex({text}) END"
