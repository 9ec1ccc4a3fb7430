"""File formats in DuckDB's terms: compression names, time formats, and the read call.

Unload (`unload`) writes with DuckDB's ``COPY ... TO``; load and
queries over staged files read with ``read_csv`` / ``read_json`` / ``read_parquet``. This
module says how the spec's format options become DuckDB's for reading, and converts
Snowflake's date and time format strings (``YYYY-MM-DD HH24:MI:SS``) to strftime.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqla_stage.delimiters import character_option, delimiters
from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import CSV, JSON, TSV, FormatSpec, Parquet
from sqla_stage.options import AUTO, NONE, Keyword
from sqla_stage.runtime.engine.literals import literal, text_list
from sqla_stage.runtime.engine.literals import quote as quote_name
from sqla_stage.runtime.storage.compressions import PYTHON_READ, refuse
from sqla_stage.runtime.storage.stage_storage import StageStorage
from sqla_stage.runtime.unload.csv_escapes import READ_OPTIONS, unenclosed, unenclosed_escape

DOUBLE_QUOTE = '"'
#: The longest field delimiter DuckDB's CSV reader takes, in UTF-8 bytes.
MAX_READ_DELIMITER_BYTES = 4

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
    ("FF0", ""),
    ("FF", "%n"),  # Snowflake: FF is FF9 (nanoseconds)
    ("AM", "%p"),
    ("PM", "%p"),
    ("TZH:TZM", "%z"),
    ("TZHTZM", "%z"),
]
_TIME_TOKEN = re.compile("|".join(re.escape(token) for token, _ in _SNOWFLAKE_TIME_TOKENS))
_TIME_MAP = dict(_SNOWFLAKE_TIME_TOKENS)
#: Fractional seconds DuckDB's strftime / strptime have no specifier for.
_UNSUPPORTED_FRACTION = re.compile("FF[124578]")


def strftime_format(snowflake: str) -> str:
    """Convert a Snowflake date/time format (``YYYY-MM-DD HH24:MI:SS.FF3``) to strftime.

    Text in double quotes is literal, as in Snowflake; ``%`` is escaped. Fractional
    seconds are FF0, FF3, FF6, FF9 or FF (nanoseconds, as FF9).

    Raises:
        StageProgrammingError: FF1, FF2, FF4, FF5, FF7 or FF8 (no DuckDB specifier).
    """
    parts = []
    for index, piece in enumerate(snowflake.split('"')):
        if index % 2:
            parts.append(piece.replace("%", "%%"))
        else:
            unsupported = _UNSUPPORTED_FRACTION.search(piece)
            if unsupported:
                raise StageProgrammingError(
                    f"format {snowflake!r}: {unsupported.group()} is not supported on the "
                    "DuckDB runtime (fractional seconds FF0, FF3, FF6, FF9 or FF are)"
                )
            escaped = piece.replace("%", "%%")
            parts.append(_TIME_TOKEN.sub(lambda m: _TIME_MAP[m.group()], escaped))
    return "".join(parts)


def text_compression(spec: FormatSpec, *, writing: bool) -> str:
    """The compression of a CSV / JSON format's files, for DuckDB's reader or writer.

    Writing: DuckDB's name (``gzip`` for AUTO, ``zstd``, ``uncompressed``) or, for the
    compressions the runtime applies after DuckDB writes plain text, the lower-case spec
    name (``bz2``, ``brotli``, ``storage.deflate``, ``raw_deflate``; see `storage.compressions`).

    Reading: DuckDB's name; BZ2, BROTLI, DEFLATE and RAW_DEFLATE files reach DuckDB already
    decompressed (`storage.read_compression`), so they are read as ``uncompressed``.

    Raises:
        StageRuntimeError: LZO (or another compression the runtime does not handle), or
            BROTLI without the ``brotli`` package.
    """
    name = str(spec.options.get("compression", AUTO))
    refuse(name)
    if writing and name == "AUTO":
        return "gzip"
    if name in PYTHON_READ:
        return name.lower() if writing else DUCKDB_COMPRESSION["NONE"]
    if name not in DUCKDB_COMPRESSION:
        raise StageProgrammingError(
            f"COMPRESSION = {name}: the DuckDB runtime reads and writes GZIP, BZ2, BROTLI, "
            "ZSTD, DEFLATE, RAW_DEFLATE or NONE (and AUTO)"
        )
    return DUCKDB_COMPRESSION[name]


def _string_option(spec: FormatSpec, name: str) -> str | None:
    value = spec.options.get(name)
    if value is None or (isinstance(value, Keyword) and value in (NONE, AUTO)):
        return None
    return str(value)


def check_read_options(spec: FormatSpec) -> None:
    """Refuse, by name, the read options the DuckDB runtime cannot apply exactly.

    Raises:
        StageProgrammingError: MISSING_FIELD_AS other than NULL for JSON,
            USE_LOGICAL_TYPE = FALSE, or PARSE_HEADER = TRUE with SKIP_HEADER.
    """
    missing = spec.options.get("missing_field_as")
    if missing is not None and not (isinstance(spec, JSON) and missing == "NULL"):
        raise StageProgrammingError(
            f"MISSING_FIELD_AS = {missing}: the DuckDB runtime reads a missing field as NULL "
            "for JSON only (MISSING_FIELD_AS = NULL); it does not fill column defaults or "
            "refuse missing fields"
        )
    if spec.options.get("use_logical_type") is False:
        raise StageProgrammingError(
            "USE_LOGICAL_TYPE = FALSE: DuckDB's Parquet reader always applies the files' "
            "logical types"
        )
    if spec.options.get("parse_header") is True and spec.options.get("skip_header", 0):
        raise StageProgrammingError(
            "PARSE_HEADER = TRUE with SKIP_HEADER: the DuckDB runtime takes the column names "
            "from the first line; give one of them"
        )


def check_column_count(spec: FormatSpec, defaulted: Sequence[str]) -> None:
    """ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE: a short record's missing fields are NULL.

    Snowflake loads NULL into the columns a short record lacks, Databend their defaults;
    with columns that have defaults (``defaulted``) the two differ, so the load is refused.
    Extra fields remain an error (DuckDB's reader does not drop them).

    Raises:
        StageProgrammingError: the option is FALSE and some loaded column has a default.
    """
    if spec.options.get("error_on_column_count_mismatch") is False and defaulted:
        raise StageProgrammingError(
            "ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE with columns that have defaults "
            f"({', '.join(defaulted)}): Snowflake loads NULL into a short record's missing "
            "columns and Databend their defaults; give a column list without them"
        )


def header_options(spec: FormatSpec, named_header: bool, parsed: bool) -> list[str]:
    """``header`` and ``skip`` of a text read: never sniffed (see `csv_read_options`).

    ``parsed``: the first line names the columns (PARSE_HEADER); otherwise ``SKIP_HEADER =
    n`` skips n lines, the last of which names the columns when ``named_header``.
    """
    skip = spec.options.get("skip_header", 0)
    skip = skip if isinstance(skip, int) and not isinstance(skip, bool) else 0
    options = []
    if parsed or (named_header and skip):
        options.append("header = true")
        skip -= 0 if parsed else 1
    else:
        options.append("header = false")
    if skip:
        options.append(f"skip = {skip}")
    return options


def csv_read_options(
    spec: FormatSpec, *, named_header: bool = False, dialect: str | None = None
) -> list[str]:
    """``read_csv`` arguments for a CSV format's options (loading: Snowflake's defaults).

    The first line is never sniffed for a header: without ``SKIP_HEADER`` every line is
    data (a one-line file is one row), and ``SKIP_HEADER = n`` skips exactly ``n`` lines.
    Column types are still sniffed (``column0``, ``column1``, ... when unnamed).

    Under Snowflake's semantics (not ``stage_dialect=databend``) a format with no
    FIELD_OPTIONALLY_ENCLOSED_BY encloses nothing: ``"`` is data. With an escape for
    unenclosed fields the files are read as `load.read_escapes` made them (plain, transcoded).

    Args:
        spec: The CSV format.
        named_header: With ``SKIP_HEADER = n``, the n-th skipped line names the columns
            (queries over staged files, loads matching by name); otherwise the skipped
            lines are dropped and the columns are unnamed.
        dialect: Whose CSV semantics to follow (``stage_dialect``).
    """
    delimiter, record = _read_delimiters(spec)
    unescaped = unenclosed_escape(spec, dialect) is not None
    compression = "uncompressed" if unescaped else text_compression(spec, writing=False)
    options = [f"compression = {literal(compression)}", f"delim = {literal(delimiter)}"]
    options += header_options(spec, named_header, spec.options.get("parse_header") is True)
    if unescaped:
        options += READ_OPTIONS
    else:
        options += _quoting(spec, record, raw=unenclosed(spec, dialect))
    if spec.options.get("error_on_column_count_mismatch") is False:
        options.append("null_padding = true")
    nulls = null_strings(spec)
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


def _quoting(spec: FormatSpec, record: str, *, raw: bool) -> list[str]:
    """``new_line``, ``quote`` and ``escape`` of a read DuckDB parses itself.

    ``raw``: nothing is enclosed or escaped (``"`` is data).

    Raises:
        StageProgrammingError: a non-ASCII enclosure or escape, or an ESCAPE inside a
            NULL_IF string.
    """
    options = []
    if "record_delimiter" in spec.options:  # else DuckDB takes '\n' and '\r\n' alike
        options.append(f"new_line = {literal(_NEW_LINES[record])}")
    if raw:
        return [*options, "quote = ''", "escape = ''"]
    quote = character_option(spec.options.get("field_optionally_enclosed_by"))
    options.append(f"quote = {literal(quote or DOUBLE_QUOTE)}")
    escape = character_option(spec.options.get("escape"))
    for name, char in (("FIELD_OPTIONALLY_ENCLOSED_BY", quote), ("ESCAPE", escape)):
        if char is not None and not char.isascii():
            raise StageProgrammingError(
                f"{name} = {char!r}: DuckDB's CSV reader takes a one-byte (ASCII) character"
            )
    escape_read = escape or quote  # no ESCAPE: the enclosure is doubled
    if escape_read is not None:
        options.append(f"escape = {literal(escape_read)}")
    clashing = [null for null in null_strings(spec) if escape and escape in null]
    if clashing:
        raise StageProgrammingError(
            f"ESCAPE = {escape!r} with the NULL string {clashing[0]!r} (NULL_IF, whose "
            "default is '\\N'): DuckDB's CSV reader cannot tell them apart; give NULL_IF "
            "values without the escape character (NULL_IF = () for none) or another ESCAPE"
        )
    return options


def null_strings(spec: FormatSpec) -> list[str]:
    r"""A CSV format's NULL_IF strings (default ``\N``; ``NULL_IF = ()`` gives none)."""
    null_if = spec.options.get("null_if", ("\\N",))
    return list(null_if) if isinstance(null_if, tuple) else ["\\N"]


def _read_delimiters(spec: FormatSpec) -> tuple[str, str]:
    """The field and record delimiters of a CSV read, as DuckDB's reader takes them.

    Raises:
        StageProgrammingError: NONE for either, a record delimiter other than a line end,
            or a field delimiter over 4 bytes.
    """
    field, record = delimiters(spec.options)
    if field is None or record is None:
        name = "FIELD_DELIMITER" if field is None else "RECORD_DELIMITER"
        raise StageProgrammingError(
            f"{name} = NONE: the DuckDB runtime reads CSV files with both delimiters; "
            "give the file's delimiter"
        )
    if record not in _NEW_LINES:
        raise StageProgrammingError(
            f"RECORD_DELIMITER = {record!r}: DuckDB's CSV reader reads records ended by "
            "'\\n', '\\r' or '\\r\\n' only"
        )
    if len(field.encode()) > MAX_READ_DELIMITER_BYTES:
        raise StageProgrammingError(
            f"FIELD_DELIMITER = {field!r}: DuckDB's CSV reader takes a field delimiter of "
            f"at most {MAX_READ_DELIMITER_BYTES} bytes (UTF-8)"
        )
    return field, record


def parquet_read_options(spec: FormatSpec) -> list[str]:
    """``read_parquet`` arguments for Snowflake's Parquet load options.

    DuckDB always applies Parquet logical types, which is what ``USE_LOGICAL_TYPE = TRUE``
    and ``USE_VECTORIZED_SCANNER = TRUE`` ask for; the vectorized scanner ignores
    ``BINARY_AS_TEXT``. Otherwise ``BINARY_AS_TEXT = TRUE`` reads binary columns without a
    logical type as text (DuckDB's ``binary_as_string``), FALSE as binary.
    """
    binary = spec.options.get("binary_as_text")
    if binary is None or spec.options.get("use_vectorized_scanner") is True:
        return []
    return [f"binary_as_string = {str(binary is True).lower()}"]


#: Databend's TSV escapes: a backslash and a letter, and the character it stands for.
TSV_ESCAPES = (
    ("b", "\b"),
    ("f", "\f"),
    ("r", "\r"),
    ("n", "\n"),
    ("t", "\t"),
    ("0", "\0"),
    ("'", "'"),
)
BACKSLASH = "\\"


def tsv_character(spec: FormatSpec, name: str, default: str) -> str:
    r"""A TSV delimiter option as the character(s) it stands for (``'\t'`` is a tab)."""
    value = spec.options.get(name)
    if value is None:
        return default
    text = str(value)
    for letter, char in TSV_ESCAPES:
        text = text.replace(BACKSLASH + letter, char)
    return text


def tsv_unescape(expression: str) -> str:
    r"""SQL decoding a TSV field: ``\\`` is a backslash, then ``\t``, ``\n``, ... each.

    The field is split at each ``\\`` (left to right, as a reader scans), the other
    escapes are decoded in each part, and the parts are joined with one backslash. A
    backslash before any other character is kept as written.
    """
    part = "p"
    for letter, char in TSV_ESCAPES:
        part = f"replace({part}, {literal(BACKSLASH + letter)}, chr({ord(char)}))"
    return (
        f"array_to_string(list_transform(string_split({expression}, "
        f"{literal(BACKSLASH * 2)}), lambda p: {part}), {literal(BACKSLASH)})"
    )


def tsv_escape(expression: str) -> str:
    """SQL writing a text value as a TSV field: backslashes first, then each escape."""
    text = f"replace({expression}, {literal(BACKSLASH)}, {literal(BACKSLASH * 2)})"
    for letter, char in TSV_ESCAPES:
        text = f"replace({text}, chr({ord(char)}), {literal(BACKSLASH + letter)})"
    return text


def tsv_read(
    spec: FormatSpec,
    files: str,
    columns: Mapping[str, str] | None,
    extra: Sequence[str],
    *,
    named_header: bool,
) -> str:
    r"""A subquery reading TSV files: fields as text, unescaped, ``\N`` as NULL.

    Raises:
        StageProgrammingError: a record delimiter DuckDB's reader does not take.
    """
    record = tsv_character(spec, "record_delimiter", "\n")
    if record not in _NEW_LINES:
        raise StageProgrammingError(
            f"RECORD_DELIMITER = {record!r}: the DuckDB runtime reads TSV records ended by "
            "'\\n', '\\r' or '\\r\\n'"
        )
    options = [
        f"compression = {literal(text_compression(spec, writing=False))}",
        f"delim = {literal(tsv_character(spec, 'field_delimiter', chr(9)))}",
        f"new_line = {literal(_NEW_LINES[record])}",
        "quote = ''",
        "escape = ''",
        f"nullstr = {literal(BACKSLASH + 'N')}",
    ]
    options += header_options(spec, named_header, parsed=False)
    if columns is not None:
        struct = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in columns)
        options += [f"columns = {{{struct}}}", "auto_detect = false"]
    elif "all_varchar = true" not in extra:
        options.append("all_varchar = true")
    hidden = [literal(name) for name in _metadata_columns(extra)]
    fields = f"COLUMNS(lambda c: c NOT IN ({', '.join(hidden)}))" if hidden else "COLUMNS(*)"
    kept = "".join(f", {quote_name(name)}" for name in _metadata_columns(extra))
    read = f"read_csv({', '.join([files, *options, *extra])})"
    return f"(SELECT {tsv_unescape(fields)}{kept} FROM {read})"


#: Record delimiters as DuckDB's ``new_line`` spells them.
_NEW_LINES = {"\n": "\\n", "\r": "\\r", "\r\n": "\\r\\n"}
_FILENAME = re.compile(r"filename\s*=\s*(?:'((?:[^']|'')*)'|(true))", re.IGNORECASE)


def _metadata_columns(extra: Sequence[str]) -> list[str]:
    """The columns a read adds besides the fields (``filename = ...``)."""
    names = []
    for argument in extra:
        found = _FILENAME.fullmatch(argument.strip())
        if found:
            names.append("filename" if found.group(2) else found.group(1).replace("''", "'"))
    return names


def hive_off(extra: Sequence[str]) -> list[str]:
    """``extra`` with ``hive_partitioning = false``, unless it sets that option itself.

    DuckDB guesses Hive partitioning from the paths it reads: a staged file under a
    ``k=v/`` folder would get a column ``k`` that no warehouse adds. The runtime's reads
    turn the guess off.
    """
    if any(argument.strip().lower().startswith("hive_partitioning") for argument in extra):
        return list(extra)
    return [*extra, "hive_partitioning = false"]


def read_function(
    spec: FormatSpec,
    paths: Sequence[str],
    *,
    columns: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    named_header: bool = False,
    documents: bool = False,
    dialect: str | None = None,
) -> str:
    """The DuckDB table function call that reads ``paths`` in format ``spec``.

    Args:
        spec: A concrete format (``CSV``, ``JSON`` or ``Parquet``; resolve named ones first).
        paths: The files, as DuckDB paths.
        columns: For CSV and JSON: column names and DuckDB types to read (no sniffing).
        extra: More DuckDB arguments (``filename = true``, ``ignore_errors = true``, ...).
        named_header: For CSV: see `csv_read_options`.
        documents: For JSON: the files hold JSON documents separated by whitespace, each
            of them possibly over several lines (a pretty-printed document), as Snowflake
            reads them; otherwise one document a line (NDJSON, twice as fast to read).
        dialect: For CSV: whose semantics to follow (``stage_dialect``).
    """
    check_read_options(spec)
    files = text_list(paths)
    extra = hive_off(extra)
    if isinstance(spec, Parquet):
        return f"read_parquet({', '.join([files, *parquet_read_options(spec), *extra])})"
    typed = []
    if columns is not None:
        struct = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in columns.items())
        typed = [f"columns = {{{struct}}}"]
    if isinstance(spec, JSON):
        compression = text_compression(spec, writing=False)
        compression = literal(_JSON_COMPRESSION.get(compression, compression))
        layout = "unstructured" if documents else "newline_delimited"
        if spec.options.get("strip_outer_array") is True:
            layout = "array"
        arguments = [files, f"format = {literal(layout)}", f"compression = {compression}"]
        return f"read_json({', '.join([*arguments, *typed, *extra])})"
    if isinstance(spec, TSV):
        return tsv_read(spec, files, columns, extra, named_header=named_header)
    if isinstance(spec, CSV):
        if columns is not None:
            typed.append("auto_detect = false")
        options = csv_read_options(spec, named_header=named_header, dialect=dialect)
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
