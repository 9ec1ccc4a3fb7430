r"""Snowflake's unenclosed CSV fields: ESCAPE_UNENCLOSED_FIELD written and read, in SQL.

With no enclosure (FIELD_OPTIONALLY_ENCLOSED_BY = NONE, Snowflake's default) a field is
never enclosed; a value holding the field delimiter, the record delimiter or the escape
character has each of them preceded by the escape character (spec 004's VALIDATION_MODE
example: ``pending\, silent``). The escape is ESCAPE when set (it overrides the other,
spec 004), else ESCAPE_UNENCLOSED_FIELD (default ``\``); with NONE nothing is escaped, a
``"`` is an ordinary character either way. What the spec leaves open, decided here:

- Only the whole field delimiter, the whole record delimiter and the escape itself are
  escaped; a carriage return or line feed that is not the record delimiter is written as
  it is (with ``RECORD_DELIMITER = '\n'`` a CR is data).
- On reading, the escape before any other character is kept as written (``\N`` stays
  ``\N``), and NULL_IF compares the field as written: ``\N`` is NULL, an escaped ``\\N``
  is the text ``\N``.
- Under ``stage_dialect=databend`` none of this applies: Databend always has a quote
  character, and encloses such values.

Reading: DuckDB's CSV reader applies escapes only inside quotes (and turns a raw CR into
a line end), so a file that may hold an escape is *transcoded* by one DuckDB statement
(`transcode_sql`) into a temporary CSV file DuckDB reads natively: records ended by
``\n``, each field that held an escape, a ``"`` or a line break enclosed in ``"`` (inner
``"`` doubled), every other field as it was. Records are split at record delimiters not
escaped (escape pairs, escaped delimiters and escaped records are swapped for private-use
placeholders first; a file that holds a placeholder character is refused). The
transcoded file is read with `READ_OPTIONS`, so NULL_IF, EMPTY_FIELD_AS_NULL, SKIP_HEADER,
types and date formats work as for any CSV file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqla_stage.delimiters import character_option, delimiters
from sqla_stage.formats import CSV, TSV, FormatSpec
from sqla_stage.options import NONE, Keyword, OptionValue
from sqla_stage.runtime.engine.literals import literal, text_list

#: ESCAPE_UNENCLOSED_FIELD's default (spec 004).
DEFAULT_ESCAPE = "\\"
#: Stand-ins for an escaped escape, an escaped record delimiter, an escaped field delimiter.
PLACEHOLDERS = ("\ue000", "\ue001", "\ue002")
#: How the transcoded files are read: records ended by a line feed, ``"`` encloses, and
#: an enclosed field is never NULL (it held an escape: ``\\N`` is text).
READ_OPTIONS = ("new_line = '\\n'", "quote = '\"'", "escape = '\"'", "allow_quoted_nulls = false")
#: Characters that mean a transcoded field must be enclosed.
_ENCLOSE_WHEN = '"\r\n'
#: Characters the text of numbers, booleans, dates and times can hold (besides letters
#: and their format strings): a column of such a type needs no escaping unless a
#: delimiter or the escape is one of them.
_SCALAR_TEXT = set("0123456789+-.:/ ")
_SCALAR_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "BOOLEAN",
    "DATE",
    "TIME",
    "TIMESTAMP",
)


def _is_none(value: OptionValue | None) -> bool:
    return isinstance(value, Keyword) and value == NONE


def unenclosed(spec: FormatSpec, dialect: str | None) -> bool:
    """Whether fields are never enclosed: a Snowflake CSV format with no enclosure.

    Then ``"`` is an ordinary character, written and read as data.
    """
    if not isinstance(spec, CSV) or isinstance(spec, TSV) or dialect == "databend":
        return False
    enclosure = spec.options.get("field_optionally_enclosed_by")
    return enclosure is None or _is_none(enclosure)


def unenclosed_escape(spec: FormatSpec, dialect: str | None) -> str | None:
    """The escape character of unenclosed fields, or None (enclosed, NONE, Databend)."""
    if not unenclosed(spec, dialect):
        return None
    escape = spec.options.get("escape")
    if escape is not None and not _is_none(escape):
        return character_option(escape)
    value = spec.options.get("escape_unenclosed_field")
    if value is None:
        return DEFAULT_ESCAPE
    return None if _is_none(value) else character_option(value)


def transcodable(spec: FormatSpec) -> bool:
    """Whether both delimiters are set and records end with a line end.

    Otherwise the read is refused by `engine.duckdb_formats`, naming the delimiter.
    """
    field, record = delimiters(spec.options)
    return bool(field) and record in ("\n", "\r", "\r\n")


def marks(spec: FormatSpec) -> tuple[str, ...]:
    """The texts escaped inside a value: the field and record delimiters."""
    field, record = delimiters(spec.options)
    return tuple(dict.fromkeys(mark for mark in (field, record) if mark))


def escaped(expression: str, escape: str, texts: Sequence[str]) -> str:
    """SQL of a text value with ``escape`` before itself and each of ``texts``."""
    sql = f"replace({expression}, {literal(escape)}, {literal(escape * 2)})"
    for text in texts:
        sql = f"replace({sql}, {literal(text)}, {literal(escape + text)})"
    return sql


def escaped_name(name: str, escape: str, texts: Sequence[str]) -> str:
    """A header name escaped as `escaped` escapes values."""
    name = name.replace(escape, escape * 2)
    for text in texts:
        name = name.replace(text, escape + text)
    return name


def may_hold(column_type: str, characters: Iterable[str], formats: Iterable[str] = ()) -> bool:
    """Whether a column's text may hold one of ``characters`` (so it must be escaped).

    Text, binary and nested values may hold anything; numbers, booleans, dates and times
    only digits, signs, letters, separators and their format strings' characters.
    """
    kind = column_type.upper()
    if not kind.startswith(_SCALAR_TYPES) or any(mark in kind for mark in "([{"):
        return True
    possible = _SCALAR_TEXT | set("".join(formats))
    return any(char.isalpha() or char in possible for char in "".join(characters))


def _restored(field: str, escape: str, field_delimiter: str, record: str) -> str:
    escape_mark, record_mark, field_mark = PLACEHOLDERS
    sql = f"replace({field}, {literal(escape_mark)}, {literal(escape)})"
    sql = f"replace({sql}, {literal(record_mark)}, {literal(record)})"
    return f"replace({sql}, {literal(field_mark)}, {literal(field_delimiter)})"


def transcode_sql(source: str, target: str, escape: str, spec: FormatSpec) -> str:
    """``COPY`` of the plain text file ``source`` transcoded into ``target`` (see above).

    Args:
        source: The file as DuckDB reads it (plain UTF-8 text).
        target: The transcoded file's path.
        escape: The escape character.
        spec: The CSV format (its delimiters).
    """
    field, record = delimiters(spec.options)
    assert field and record  # `transcodable`
    escape_mark, record_mark, field_mark = PLACEHOLDERS
    content = "content"
    for text, mark in ((escape * 2, escape_mark), (escape + record, record_mark)):
        content = f"replace({content}, {literal(text)}, {literal(mark)})"
    content = f"replace({content}, {literal(escape + field)}, {literal(field_mark)})"
    clash = literal(f"[{''.join(PLACEHOLDERS)}]")
    refusal = literal(
        "the file holds a private-use character U+E000 to U+E002, which the DuckDB "
        "runtime uses to read escaped CSV fields"
    )
    checked = f"CASE WHEN regexp_matches(content, {clash}) THEN error({refusal}) ELSE {content} END"
    special = literal(f"[{''.join([*PLACEHOLDERS, *_ENCLOSE_WHEN])}]")
    value = _restored("f", escape, field, record)
    enclosed = f"""'"' || replace({value}, '"', '""') || '"'"""
    each = f"CASE WHEN regexp_matches(f, {special}) THEN {enclosed} ELSE f END"
    line = (
        f"array_to_string(list_transform(string_split(rec, {literal(field)}), "
        f"lambda f: {each}), {literal(field)})"
    )
    line = f"CASE WHEN regexp_matches(rec, {special}) THEN {line} ELSE rec END"  # most are plain
    records = (
        f"SELECT string_split({checked}, {literal(record)}) AS r FROM read_text({literal(source)})"
    )
    rows = f"SELECT unnest(r) AS rec, generate_subscripts(r, 1) AS i, len(r) AS n FROM ({records})"
    return (
        f"COPY (SELECT {line} FROM ({rows}) WHERE i < n OR rec <> '' ORDER BY i) "
        f"TO {literal(target)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', NEW_LINE '\\n')"
    )


def count_records(path: str, escape: str, record: str, *, header: bool) -> int:
    """The records of a zstd-compressed escaped file (read in Python: bytes, not rows).

    The files are at most MAX_FILE_SIZE (16 MB by default) each.
    """
    import pyarrow as pa  # a dataframe library: imported only for a zstd file

    with pa.CompressedInputStream(path, "zstd") as stream:
        data = bytes(stream.read())
    escape_bytes, record_bytes = escape.encode(), record.encode()
    data = data.replace(escape_bytes * 2, b"").replace(escape_bytes + record_bytes, b"")
    return data.count(record_bytes) - (1 if header else 0)


def record_counts(paths: Sequence[str], escape: str, record: str, *, header: bool) -> str:
    """SQL giving ``(filename, records)`` of plain escaped files: unescaped record ends."""
    content = f"replace(content, {literal(escape * 2)}, '')"
    content = f"replace({content}, {literal(escape + record)}, '')"
    counted = f"len(string_split({content}, {literal(record)})) - {2 if header else 1}"
    return f"SELECT filename, {counted} FROM read_text({text_list(paths)})"
