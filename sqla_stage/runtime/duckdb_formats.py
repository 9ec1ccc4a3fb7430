"""File formats in DuckDB's terms: compression names, time formats, and the read call.

Unload (`unload`) writes with DuckDB's ``COPY ... TO``; load and
queries over staged files read with ``read_csv`` / ``read_json`` / ``read_parquet``. This
module says how the spec's format options become DuckDB's for reading, and converts
Snowflake's date and time format strings (``YYYY-MM-DD HH24:MI:SS``) to strftime.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import CSV, JSON, FormatSpec, Parquet
from sqla_stage.options import AUTO, NONE, Keyword
from sqla_stage.runtime.literals import literal, text_list
from sqla_stage.runtime.storage import StageStorage

DOUBLE_QUOTE = '"'

#: Compression of text formats that DuckDB reads and writes itself. The spellings are the
#: ones every supported DuckDB accepts: before 2.0, ``read_json`` refuses ``'none'`` and
#: ``'auto'`` and ``read_csv`` / COPY refuse ``'auto_detect'``.
DUCKDB_COMPRESSION = {"GZIP": "gzip", "ZSTD": "zstd", "NONE": "uncompressed", "AUTO": "auto"}
_JSON_COMPRESSION = {"auto": "auto_detect"}
#: The first bytes of every Parquet file.
PARQUET_MAGIC = b"PAR1"

_SNOWFLAKE_TIME_TOKENS = [
    ("YYYY", "%Y"),
    ("YY", "%y"),
    ("MMMM", "%B"),
    ("MON", "%b"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("DY", "%a"),
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("HH", "%H"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("FF9", "%n"),
    ("FF6", "%f"),
    ("FF3", "%g"),
    ("FF", "%f"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("TZH:TZM", "%z"),
    ("TZHTZM", "%z"),
]
_TIME_TOKEN = re.compile("|".join(re.escape(token) for token, _ in _SNOWFLAKE_TIME_TOKENS))
_TIME_MAP = dict(_SNOWFLAKE_TIME_TOKENS)


def strftime_format(snowflake: str) -> str:
    """Convert a Snowflake date/time format (``YYYY-MM-DD HH24:MI:SS.FF3``) to strftime.

    Text in double quotes is literal, as in Snowflake; ``%`` is escaped.
    """
    parts = []
    for index, piece in enumerate(snowflake.split('"')):
        if index % 2:
            parts.append(piece.replace("%", "%%"))
        else:
            escaped = piece.replace("%", "%%")
            parts.append(_TIME_TOKEN.sub(lambda m: _TIME_MAP[m.group()], escaped))
    return "".join(parts)


def text_compression(spec: FormatSpec, *, writing: bool) -> str:
    """DuckDB's name for a CSV / JSON format's COMPRESSION (AUTO: gzip when writing).

    Raises:
        StageRuntimeError: a compression DuckDB does not handle (BZ2, BROTLI, DEFLATE, ...).
    """
    value = spec.options.get("compression", AUTO)
    name = str(value)
    if writing and name == "AUTO":
        return "gzip"
    if name not in DUCKDB_COMPRESSION:
        raise StageProgrammingError(
            f"COMPRESSION = {name}: the DuckDB runtime reads and writes GZIP, ZSTD or NONE "
            "(and AUTO)"
        )
    return DUCKDB_COMPRESSION[name]


def _string_option(spec: FormatSpec, name: str) -> str | None:
    value = spec.options.get(name)
    if value is None or (isinstance(value, Keyword) and value in (NONE, AUTO)):
        return None
    return str(value)


def csv_read_options(spec: FormatSpec, *, named_header: bool = False) -> list[str]:
    """``read_csv`` arguments for a CSV format's options (loading: Snowflake's defaults).

    The first line is never sniffed for a header: without ``SKIP_HEADER`` every line is
    data (a one-line file is one row), and ``SKIP_HEADER = n`` skips exactly ``n`` lines.
    Column types are still sniffed (``column0``, ``column1``, ... when unnamed).

    Args:
        spec: The CSV format.
        named_header: With ``SKIP_HEADER = n``, the n-th skipped line names the columns
            (queries over staged files, loads matching by name); otherwise the skipped
            lines are dropped and the columns are unnamed.
    """
    options = [f"compression = {literal(text_compression(spec, writing=False))}"]
    delimiter = _string_option(spec, "field_delimiter")
    if delimiter is not None or "field_delimiter" not in spec.options:
        options.append(f"delim = {literal(delimiter or ',')}")
    record = _string_option(spec, "record_delimiter")
    if record is not None:
        options.append(f"new_line = {literal(record)}")
    skip = spec.options.get("skip_header", 0)
    if not isinstance(skip, int) or isinstance(skip, bool):
        skip = 0
    if named_header and skip:
        options.append("header = true")
        skip -= 1
    else:
        options.append("header = false")
    if skip:
        options.append(f"skip = {skip}")
    quote = _string_option(spec, "field_optionally_enclosed_by")
    options.append(f"quote = {literal(quote or DOUBLE_QUOTE)}")
    escape = _string_option(spec, "escape")
    if escape is not None:
        options.append(f"escape = {literal(escape)}")
    null_if = spec.options.get("null_if", ("\\N",))
    nulls = list(null_if) if isinstance(null_if, tuple) else ["\\N"]
    if spec.options.get("empty_field_as_null", True) is True:
        nulls.append("")
    options.append(f"nullstr = {text_list(nulls)}")
    for name, duckdb_name in (
        ("date_format", "dateformat"),
        ("timestamp_format", "timestampformat"),
    ):
        value = _string_option(spec, name)
        if value is not None:
            options.append(f"{duckdb_name} = {literal(strftime_format(value))}")
    return options


def read_function(
    spec: FormatSpec,
    paths: Sequence[str],
    *,
    columns: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    named_header: bool = False,
) -> str:
    """The DuckDB table function call that reads ``paths`` in format ``spec``.

    Args:
        spec: A concrete format (``CSV``, ``JSON`` or ``Parquet``; resolve named ones first).
        paths: The files, as DuckDB paths.
        columns: For CSV and JSON: column names and DuckDB types to read (no sniffing).
        extra: More DuckDB arguments (``filename = true``, ``ignore_errors = true``, ...).
        named_header: For CSV: see `csv_read_options`.
    """
    files = text_list(paths)
    if isinstance(spec, Parquet):
        return f"read_parquet({', '.join([files, *extra])})"
    typed = []
    if columns is not None:
        struct = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in columns.items())
        typed = [f"columns = {{{struct}}}"]
    if isinstance(spec, JSON):
        compression = text_compression(spec, writing=False)
        compression = literal(_JSON_COMPRESSION.get(compression, compression))
        arguments = [files, "format = 'newline_delimited'", f"compression = {compression}"]
        return f"read_json({', '.join([*arguments, *typed, *extra])})"
    if isinstance(spec, CSV):
        if columns is not None:
            typed.append("auto_detect = false")
        options = csv_read_options(spec, named_header=named_header)
        return f"read_csv({', '.join([files, *options, *typed, *extra])})"
    raise StageProgrammingError(f"cannot read files of format {spec!r}")


def refuse_parquet_as_text(what: str, storage: StageStorage, key: str, spec: FormatSpec) -> None:
    """Refuse to read the Parquet file ``key`` as CSV or JSON.

    DuckDB's text readers would fail on it with a parser error that does not say why. Only
    the first bytes of the file are read, and only when ``spec`` is not Parquet.

    Raises:
        StageProgrammingError: the file starts with Parquet's magic number.
    """
    if isinstance(spec, Parquet) or storage.head(key, len(PARQUET_MAGIC)) != PARQUET_MAGIC:
        return
    raise StageProgrammingError(
        f"{what}: {key!r} is a Parquet file, but the statement reads {spec.type_name} "
        "(its FILE_FORMAT, else the stage's, else CSV): give FILE_FORMAT = (TYPE = PARQUET)"
    )
