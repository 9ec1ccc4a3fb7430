r"""``TYPE = TSV`` unloads (Databend): text escaped with backslashes, NULL as ``\N``."""

from __future__ import annotations

from collections.abc import Sequence

from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import FormatSpec
from sqla_stage.runtime.engine.duckdb_formats import (
    BACKSLASH,
    text_compression,
    tsv_character,
    tsv_escape,
)
from sqla_stage.runtime.engine.literals import literal, quote, text_list
from sqla_stage.runtime.unload.writer import (
    COMPRESSION_SUFFIX,
    READ_NEW_LINE,
    FileWriter,
    SourceColumn,
)


class TsvWriter(FileWriter):
    r"""``TYPE = TSV`` (Databend): text escaped with backslashes, NULL as ``\N``, no quoting."""

    duckdb_format = "csv"

    def __init__(self, spec: FormatSpec, header: bool) -> None:
        """Read COMPRESSION and the delimiters.

        Raises:
            StageRuntimeError: HEADER = TRUE, a delimiter other than tab and a line end,
                or a compression DuckDB does not write.
        """
        if header:
            raise StageProgrammingError("HEADER = TRUE: Databend's TSV files have no header")
        self.compression = text_compression(spec, writing=True)
        self.extension = ".tsv" + COMPRESSION_SUFFIX[self.compression]
        self.record = tsv_character(spec, "record_delimiter", "\n")
        delimiter = tsv_character(spec, "field_delimiter", "\t")
        if delimiter != "\t" or self.record not in ("\n", "\r\n"):
            raise StageProgrammingError(
                "TSV with FIELD_DELIMITER or RECORD_DELIMITER other than '\\t' and '\\n': "
                "the DuckDB runtime writes TSV fields ended by a tab and records by a line end"
            )

    def select_items(self, columns: Sequence[SourceColumn]) -> list[str]:
        """Text columns escaped; binary and nested columns refused (no TSV spelling here)."""
        items = []
        for column in columns:
            name = quote(column.name)
            if column.type == "BLOB" or any(mark in column.type for mark in "([{"):
                raise StageProgrammingError(
                    f"TSV: the column {column.name!r} is {column.type}; the DuckDB runtime "
                    "writes text, numbers, booleans, dates and times to TSV"
                )
            items.append(f"{tsv_escape(name)} AS {name}" if column.type == "VARCHAR" else name)
        return items

    def copy_options(self, columns: Sequence[SourceColumn]) -> list[str]:
        """DuckDB's CSV writer, with no quoting: the values are escaped already."""
        return [
            "FORMAT csv",
            "HEADER false",
            f"COMPRESSION {literal(self.duckdb_compression)}",
            "DELIM '\t'",
            f"NEW_LINE {literal(self.record)}",
            "QUOTE ''",
            "ESCAPE ''",
            f"NULLSTR {literal(BACKSLASH + 'N')}",
        ]

    def count_query(self, paths: Sequence[str], width: int) -> str | None:
        """Count the records (escaped values hold no tab or line end)."""
        columns = ", ".join(f"'c{index}': 'VARCHAR'" for index in range(width))
        arguments = [
            text_list(paths),
            "filename = true",
            "auto_detect = false",
            "header = false",
            f"columns = {{{columns}}}",
            "delim = '\t'",
            "quote = ''",
            "escape = ''",
            f"new_line = {literal(READ_NEW_LINE[self.record])}",
            f"compression = {literal(self.duckdb_compression)}",
        ]
        return f"SELECT filename, count(*) FROM read_csv({', '.join(arguments)}) GROUP BY filename"
