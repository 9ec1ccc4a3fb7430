"""The keyword options of the everyday stage calls, as ``TypedDict`` types for signatures.

``landing.unload(conn, User, "u/", header=True, max_file_size=16_000_000)``: the options
of ``Stage.unload``, ``Stage.load``, ``Stage.put`` and ``Stage.get``
([StageMethods][sqla_stage.stage_methods.StageMethods]) are typed here, one ``TypedDict`` a
call, so that ``**options: Unpack[UnloadOptions]`` lets an IDE complete the
names and a type checker reject a misspelt one or a value of the wrong type. The values are
checked (and made canonical) at run time by the option tables of `sqla_stage.options`,
whose names these mirror (a test keeps the two in step). A closed set of keywords is a
``Literal``; one with an open pattern (``on_error="SKIP_FILE_3"``) is a ``str``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypedDict

from sqlalchemy.sql.elements import ColumnElement, TextClause

from sqla_stage.formats import FormatSpec

#: What ``file_format=`` takes: ``CSV(...)``, ``Parquet``, a named format's name, ...
FileFormatArg = FormatSpec | type[FormatSpec] | str | None


class UnloadOptions(TypedDict, total=False):
    """The options of an unload (``COPY INTO <location>``, spec 004)."""

    file_format: FileFormatArg
    partition_by: ColumnElement[Any] | TextClause | str | None
    overwrite: bool
    single: bool
    max_file_size: int
    include_query_id: bool
    detailed_output: bool
    validation_mode: Literal["RETURN_ROWS"]
    header: bool


class LoadOptions(TypedDict, total=False):
    """The options of a load (``COPY INTO <table>``)."""

    file_format: FileFormatArg
    columns: Iterable[object] | None
    files: str | Sequence[str]
    pattern: str
    on_error: str
    force: bool
    purge: bool
    match_by_column_name: Literal["CASE_SENSITIVE", "CASE_INSENSITIVE", "NONE"] | None
    validation_mode: str
    disable_variant_check: bool


class PutOptions(TypedDict, total=False):
    """The options of ``PUT`` (Snowflake)."""

    parallel: int
    auto_compress: bool
    source_compression: Literal[
        "AUTO_DETECT", "GZIP", "BZ2", "BROTLI", "ZSTD", "DEFLATE", "RAW_DEFLATE", "NONE"
    ]
    overwrite: bool


class GetOptions(TypedDict, total=False):
    """The options of ``GET`` (Snowflake)."""

    parallel: int
    pattern: str
