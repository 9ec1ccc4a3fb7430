"""Spec 004's usage notes on COPY INTO <location>, checked before anything is written.

`check_unload` runs once the destination, the format and the source's columns are known,
and refuses, with an error naming what is wrong, the statements whose files would not be
what the spec says:

- **SINGLE = TRUE with an explicit COMPRESSION** (CSV and JSON; GZIP, BZ2, BROTLI, ZSTD,
  DEFLATE, RAW_DEFLATE): the path must end with a file name carrying the compression's
  extension, the one the runtime gives split files (``.gz``, ``.bz2``, ``.br``, ``.zst``,
  ``.deflate``, ``.raw_deflate``; letter case ignored), so
  ``@s/out.csv.gz`` and ``@s/out.gz`` are right and ``@s/out.csv`` is refused. A path
  ending with ``/`` (the file would be named ``data``) is refused too. AUTO and NONE ask
  for nothing. Not under ``stage_dialect=databend`` (Databend has no such rule).
- **JSON** (spec: "JSON can only be specified for TYPE when unloading data from VARIANT
  columns"): the source must be one column of a JSON, STRUCT, MAP or LIST type (what
  VARIANT, OBJECT and ARRAY are in DuckDB); anything else is Snowflake's error. Under
  ``stage_dialect=databend`` any source is written, one object a row, as Databend does.
- **EMPTY_FIELD_AS_NULL = TRUE** given explicitly for a CSV unload needs a
  FIELD_OPTIONALLY_ENCLOSED_BY character (spec: "If TRUE, FIELD_OPTIONALLY_ENCLOSED_BY
  must specify a character to enclose strings"); not given, it is the default and asks
  for nothing.
- **BINARY_FORMAT = UTF8** (CSV): every binary value must be UTF-8 text; the binary
  columns are read once before writing (only with this option) and the first one holding
  other bytes is named, without its values.
- **A query string** in a URL location (``'s3://b/p/?region=x'``) is refused
  (`storage.urls`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqla_stage.copy import CopyInto
from sqla_stage.errors import StageDataError, StageProgrammingError
from sqla_stage.formats import CSV, JSON, TSV, FormatSpec
from sqla_stage.options import AUTO, NONE, Keyword
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.literals import quote
from sqla_stage.runtime.storage.compressions import CODECS
from sqla_stage.runtime.storage.urls import refuse_query_string
from sqla_stage.runtime.unload.writer import SourceColumn

#: The extension a single file must end with, by explicit COMPRESSION (spec 004, SINGLE).
SINGLE_EXTENSIONS = {"ZSTD": ".zst", **{name: codec.suffix for name, codec in CODECS.items()}}

#: Snowflake's error for a JSON unload of anything but one VARIANT / OBJECT / ARRAY column.
JSON_COLUMNS_ERROR = (
    "JSON file format can produce one and only one column of type variant or object or "
    "array. Use CSV file format if you want to load more than one column."
)


def check_unload(
    context: StageContext,
    element: CopyInto,
    name: str,
    spec: FormatSpec,
    columns: Sequence[SourceColumn],
    relation: str,
    parameters: Sequence[Any],
) -> None:
    """Refuse an unload the spec's usage notes rule out (see the module docstring).

    Args:
        context: The statement's runtime context.
        element: The COPY INTO <location> statement.
        name: The last segment of the location's path (empty when it ends with ``/``).
        spec: The unload's concrete file format.
        columns: The source's columns.
        relation: The source as a FROM item (DuckDB SQL).
        parameters: The source's bind parameters.

    Raises:
        StageProgrammingError: a statement the spec's notes refuse.
        StageDataError: BINARY_FORMAT = UTF8 over bytes that are not UTF-8.
    """
    if isinstance(element.location, str):
        refuse_query_string(element.location)
    databend = context.settings.stage_dialect == "databend"
    if element.copy_options.get("single") is True and not databend:
        _check_single_name(spec, name)
    if isinstance(spec, JSON) and not databend:
        _check_json_columns(columns)
    if isinstance(spec, CSV) and not isinstance(spec, TSV):
        _check_empty_field_as_null(spec)
        if str(spec.options.get("binary_format", "HEX")) == "UTF8":
            _check_utf8(context, columns, relation, parameters)


def _check_single_name(spec: FormatSpec, name: str) -> None:
    """SINGLE = TRUE with an explicit compression: the file name carries its extension."""
    if not isinstance(spec, CSV | JSON):
        return
    compression = str(spec.options.get("compression", AUTO))
    extension = SINGLE_EXTENSIONS.get(compression)
    if extension is None:  # AUTO, NONE (and what the writer refused already)
        return
    if not name:
        raise StageProgrammingError(
            f"SINGLE = TRUE with COMPRESSION = {compression}: the path must end with a file "
            f"name with the extension {extension!r} (such as 'data{extension}'); a path "
            "ending with '/' would write a compressed file named 'data'"
        )
    if not name.lower().endswith(extension):
        raise StageProgrammingError(
            f"SINGLE = TRUE with COMPRESSION = {compression}: the file name {name!r} must "
            f"end with {extension!r} so that the file can be decompressed (such as "
            f"'{name}{extension}')"
        )


def is_semi_structured(type_name: str) -> bool:
    """Whether a DuckDB column type is a VARIANT, OBJECT or ARRAY (JSON, STRUCT, MAP, LIST)."""
    return (
        type_name == "JSON" or type_name.startswith(("STRUCT(", "MAP(")) or type_name.endswith("]")
    )


def _check_json_columns(columns: Sequence[SourceColumn]) -> None:
    """TYPE = JSON: one column, of a semi-structured type (Snowflake's error otherwise)."""
    if len(columns) == 1 and is_semi_structured(columns[0].type):
        return
    found = ", ".join(f"{column.name} {column.type}" for column in columns[:5])
    more = ", ..." if len(columns) > 5 else ""
    raise StageProgrammingError(
        f"{JSON_COLUMNS_ERROR} (the query gives {len(columns)} column(s): {found}{more}; "
        "unload one object a row with OBJECT_CONSTRUCT(*) under stage_dialect=snowflake, "
        "or a DuckDB STRUCT such as SELECT t FROM t)"
    )


def _check_empty_field_as_null(spec: FormatSpec) -> None:
    """EMPTY_FIELD_AS_NULL = TRUE, given, needs an enclosing character."""
    if spec.options.get("empty_field_as_null") is not True:
        return
    enclosure = spec.options.get("field_optionally_enclosed_by")
    if enclosure is None or (isinstance(enclosure, Keyword) and enclosure == NONE):
        raise StageProgrammingError(
            "EMPTY_FIELD_AS_NULL = TRUE on an unload needs FIELD_OPTIONALLY_ENCLOSED_BY to "
            "name a character that encloses strings (spec 004); give one, such as '\"', "
            "or leave EMPTY_FIELD_AS_NULL out"
        )


def _check_utf8(
    context: StageContext,
    columns: Sequence[SourceColumn],
    relation: str,
    parameters: Sequence[Any],
) -> None:
    """BINARY_FORMAT = UTF8: the first binary column holding bytes that are not UTF-8."""
    binary = [column for column in columns if column.type == "BLOB"]
    if not binary:
        return
    tests = ", ".join(
        f"bool_or({quote(c.name)} IS NOT NULL AND try(decode({quote(c.name)})) IS NULL)"
        for c in binary
    )
    row = context.run(f"SELECT {tests} FROM {relation}", list(parameters)).fetchone()
    for column, invalid in zip(binary, row or (), strict=False):
        if invalid:
            raise StageDataError(
                f"BINARY_FORMAT = UTF8: the column {column.name!r} holds bytes that are not "
                "UTF-8 text; use HEX or BASE64 (nothing was written)"
            )
