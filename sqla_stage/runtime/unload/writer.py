"""The base of the unload writers: a written file's columns, options, extension, counts.

`FileWriter` is what every format's writer (`formats`, `tsv`) says to the
unload (`unload`): which columns DuckDB writes, the options of ``COPY ... TO``, the
extension, and how to count the rows of each written file. The helpers read the options
every text format shares (FILE_EXTENSION, the time formats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqla_stage.formats import FormatSpec
from sqla_stage.options import AUTO, NONE, Keyword, OptionValue
from sqla_stage.runtime.engine.duckdb_formats import strftime_format
from sqla_stage.runtime.engine.literals import quote
from sqla_stage.runtime.storage.compressions import CODECS, Codec

#: File name suffixes of the text compressions (`text_compression`'s writing names).
COMPRESSION_SUFFIX = {
    "zstd": ".zst",
    "uncompressed": "",
    **{codec.name.lower(): codec.suffix for codec in CODECS.values()},
}

#: How DuckDB's CSV reader spells the record delimiters it accepts.
READ_NEW_LINE = {"\n": "\\n", "\r\n": "\\r\\n", "\r": "\\r"}


@dataclass(frozen=True)
class SourceColumn:
    """A column of the unloaded query: its name and DuckDB type."""

    name: str
    type: str


def is_none(value: OptionValue | None) -> bool:
    """Whether an option's value is the keyword NONE."""
    return isinstance(value, Keyword) and value == NONE


def time_option(value: OptionValue | None) -> str | None:
    """A DATE / TIME / TIMESTAMP format option as strftime (None for AUTO or absent)."""
    if value is None or (isinstance(value, Keyword) and value == AUTO):
        return None
    return strftime_format(str(value))


def extension(spec: FormatSpec, default: str) -> str:
    """FILE_EXTENSION (leading dot optional) in place of the default, when given."""
    given = spec.options.get("file_extension")
    if given is None or is_none(given):
        return default
    stripped = str(given).lstrip(".")
    return "." + stripped if stripped else ""


class FileWriter:
    """How one format is written: projection, COPY options, extension, row counts."""

    #: DuckDB's ``FORMAT`` name.
    duckdb_format = ""
    #: The default file name extension, compression included.
    extension = ""
    #: DuckDB's compression name of the files (``gzip``, ``zstd``, ``snappy``, ``uncompressed``).
    compression = "uncompressed"

    @property
    def codec(self) -> Codec | None:
        """The codec `compress` applies to the plain text DuckDB writes, if any."""
        if self.duckdb_format == "parquet":
            return None
        return CODECS.get(self.compression.upper())

    @property
    def duckdb_compression(self) -> str:
        """The compression DuckDB's ``COPY`` writes."""
        return "uncompressed" if self.codec else self.compression

    def select_items(self, columns: Sequence[SourceColumn]) -> list[str]:
        """The SELECT list DuckDB writes, over the source's columns."""
        return [quote(column.name) for column in columns]

    def copy_options(self, columns: Sequence[SourceColumn]) -> list[str]:
        """The options of ``COPY ... TO`` (besides file placement)."""
        return [f"FORMAT {self.duckdb_format}"]

    def count_query(self, paths: Sequence[str], width: int) -> str | None:
        """SQL giving ``(filename, rows)`` for written files, or None when it cannot."""
        return None

    def count_files(self, paths: Sequence[str]) -> dict[str, int] | None:
        """The rows of written files counted without DuckDB, or None (`count_query`)."""
        return None
