r"""The DuckDB SQL that reads a LOAD DATA file into records (issue 14).

Every row is read, split and unescaped by DuckDB; Python only writes the SQL.

Delimited text (`text_records`): ``read_text`` gives the file as one value and one regular
expression (RE2, leftmost-first) cuts it into fields, each with its terminator. Its
alternatives follow MatrixOne's reader:

* a field that starts with the enclosure character runs to an enclosure character followed
  by the field terminator, the line terminator or the end of the file; inside it the escape
  character takes the next character, a doubled enclosure character is one and any other
  enclosure character is kept. The lazy loop tries the end first, then an escape, a
  doubled enclosure character, another character and a lone enclosure character: the
  order of MatrixOne's reader. When the reader would find no end, the expression can
  still match another way; `text_records` flags those fields (the enclosed text, cut
  again the reader's way, does not end with a lone enclosure character) and fields that
  start with the enclosure character but matched unenclosed: the field is not closed;
* any other field runs to the field terminator, the line terminator or the end of the
  file, the escape character taking the next character; ``\N`` alone is NULL;
* the escape character maps ``0`` to NUL, ``b`` backspace, ``n`` newline, ``r`` carriage
  return, ``t`` tab, ``Z`` Control+Z and any other character to itself;
* the line terminator ``\n`` (the default) also ends a line at ``\r\n``.

Window functions number the records and their first lines; one row a record holds the list
of its values. Settings the expression cannot read the reader's way are refused
(`refuse_format`). JSON lines (`json_lines`) are the file's lines, read with DuckDB's JSON
functions by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine.literals import literal

#: Whitespace a non-text value is trimmed of (and a blank JSON line is made of).
WHITESPACE = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"
_ESCAPES = {"0": "chr(0)", "b": "chr(8)", "n": "chr(10)", "r": "chr(13)", "t": "chr(9)"}
_ESCAPES["Z"] = "chr(26)"


@dataclass(frozen=True)
class TextFormat:
    """The FIELDS and LINES of a load, with MatrixOne's defaults."""

    field: str = "\t"
    enclosed: str = '"'
    escaped: str = "\\"
    line: str = "\n"


def _rx(text: str) -> str:
    """``text`` as RE2 literal characters, each written as a hexadecimal escape."""
    return "".join(f"\\x{{{ord(char):x}}}" for char in text)


def refuse_format(fmt: TextFormat, label: str) -> None:
    """Refuse settings whose reading the SQL cannot reproduce exactly.

    Raises:
        StageProgrammingError: the escape character is the enclosure character, or either
            is a character of a terminator (the reader's and the expression's choices
            between ending a field and escaping or quoting would differ).
    """
    terminators = fmt.field + fmt.line + ("\r" if fmt.line == "\n" else "")
    if fmt.escaped and fmt.escaped == fmt.enclosed:
        raise StageProgrammingError(
            f"{label}: ESCAPED BY equal to ENCLOSED BY ({fmt.escaped!r}) is not supported by "
            "the runtime"
        )
    for name, char in (("ESCAPED BY", fmt.escaped), ("ENCLOSED BY", fmt.enclosed)):
        if char and char in terminators:
            raise StageProgrammingError(
                f"{label}: {name} {char!r} inside the field or line terminator is not "
                "supported by the runtime"
            )


def _unescape(units: str, fmt: TextFormat, enclosed: bool) -> str:
    """SQL: the list ``units`` joined, its escapes resolved.

    In an enclosed field (``enclosed``), a doubled enclosure character is one too.
    """
    cases = []
    if fmt.escaped:
        esc = literal(fmt.escaped)
        mapped = " ".join(f"WHEN {literal(k)} THEN {v}" for k, v in _ESCAPES.items())
        cases.append(f"WHEN u = {esc} THEN u")
        cases.append(
            f"WHEN starts_with(u, {esc}) THEN CASE substr(u, 2) {mapped} ELSE substr(u, 2) END"
        )
    if enclosed:
        cases.append(f"WHEN u = {literal(fmt.enclosed * 2)} THEN {literal(fmt.enclosed)}")
    if not cases:
        return f"array_to_string({units}, '')"
    return f"array_to_string(list_transform({units}, u -> CASE {' '.join(cases)} ELSE u END), '')"


def _pattern(fmt: TextFormat) -> str:
    q, e = _rx(fmt.enclosed), _rx(fmt.escaped)
    line = r"\r\n|\n" if fmt.line == "\n" else _rx(fmt.line)
    escape = f"{e}.|" if fmt.escaped else ""
    enclosed = f"({q}(?:{escape}{q}{q}|[^{q}{e}]|{q})*?{q})|" if fmt.enclosed else ""
    return f"(?s)(?:{enclosed}((?:{escape}.)*?))({_rx(fmt.field)}|{line}|\\z)"


def _value(fmt: TextFormat) -> tuple[str, str]:
    """SQL of a field's value and of "the field is not closed", over enc / raw / units."""
    plain = "raw"
    if fmt.escaped:
        esc = _rx(fmt.escaped)
        units = f"regexp_extract_all(raw, {literal(f'(?s){esc}.|[^{esc}]+|{esc}')})"
        null = literal(fmt.escaped + "N")
        plain = (
            f"CASE WHEN raw = {null} THEN NULL WHEN contains(raw, {literal(fmt.escaped)}) "
            f"THEN {_unescape(units, fmt, False)} ELSE raw END"
        )
    if not fmt.enclosed:
        return plain, "false"
    mark = literal(fmt.enclosed)
    inner = _unescape("list_slice(units, 1, len(units) - 1)", fmt, True)
    value = f"CASE WHEN enc IS NULL THEN {plain} ELSE {inner} END"
    open_ = (
        f"CASE WHEN enc IS NULL THEN starts_with(raw, {mark}) "
        f"ELSE list_last(units) IS DISTINCT FROM {mark} END"
    )
    return value, open_


def text_records(source: str, fmt: TextFormat) -> str:
    r"""SQL of the records of delimited text: ``__record``, ``__line``, ``__fields``, ``__open``.

    Args:
        source: SQL of a one-row relation whose column ``t`` is the file's text.
        fmt: The FIELDS and LINES settings (checked by `refuse_format`).

    Returns:
        One row a record: its number and first line (from 1), the list of its values (NULL
        for ``\N``) and whether a field of it is not closed.
    """
    pattern = literal(_pattern(fmt))
    field = literal(fmt.field)
    value, open_ = _value(fmt)
    units = "NULL::VARCHAR[]"
    if fmt.enclosed:
        q, e = _rx(fmt.enclosed), _rx(fmt.escaped)
        escape = f"{e}.|" if fmt.escaped else ""
        cut = literal(f"(?s){escape}{q}{q}|{q}|[^{q}{e}]+")
        units = f"CASE WHEN enc IS NOT NULL THEN regexp_extract_all(substr(enc, 2), {cut}) END"
    group = 2 if fmt.enclosed else 1
    lists = (
        f"regexp_extract_all(t, {pattern}, 1) AS e, " if fmt.enclosed else "NULL::VARCHAR[] AS e, "
    )
    lists += f"regexp_extract_all(t, {pattern}, {group}) AS r, "
    lists += f"regexp_extract_all(t, {pattern}, {group + 1}) AS m"
    before = "OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    text = "coalesce(enc, raw) || term"
    return (
        f"WITH __lists AS (SELECT {lists} FROM {source}), "
        "__matches AS (SELECT nullif(unnest(e), '') AS enc, unnest(r) AS raw, unnest(m) AS term, "
        "unnest(range(1, len(m) + 1)) AS i FROM __lists), "
        f"__fields AS (SELECT i, enc, raw, term, {units} AS units, "
        "lag(term) OVER (ORDER BY i) AS prev, "
        f"1 + coalesce(sum(CASE WHEN term = {field} THEN 0 ELSE 1 END) {before}, 0) AS rec, "
        f"1 + coalesce(sum(length({text}) - length(replace({text}, chr(10), ''))) {before}, 0) "
        "AS line FROM __matches) "
        f"SELECT rec AS __record, min(line) AS __line, list({value} ORDER BY i) AS __fields, "
        f"bool_or({open_}) AS __open FROM __fields "
        f"WHERE NOT (enc IS NULL AND raw = '' AND term = '' AND prev IS DISTINCT FROM {field}) "
        "GROUP BY rec"
    )


def json_lines(source: str) -> str:
    """SQL of the non-blank lines of JSON-lines text: ``__line`` (from 1) and ``__json``.

    Args:
        source: SQL of a one-row relation whose column ``t`` is the file's text.
    """
    return (
        "SELECT n AS __line, line AS __json FROM (SELECT string_split(t, chr(10)) AS s "
        f"FROM {source}), unnest(s) WITH ORDINALITY AS u(line, n) "
        f"WHERE trim(line, {WHITESPACE}) <> ''"
    )


def real_digits(json: str) -> str:
    """SQL: the most significant digits of a JSON number with a fraction or an exponent.

    DuckDB reads those numbers in ``json`` as doubles; 0 when there is none.
    """
    token = literal(r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
    digits = "length(trim(replace(regexp_extract(x, '^-?([0-9.]*)', 1), '.', ''), '0'))"
    reals = (
        f"list_filter(regexp_extract_all({json}, {token}), "
        "x -> NOT starts_with(x, '\"') AND regexp_matches(x, '[.eE]'))"
    )
    return f"coalesce(list_max(list_transform({reals}, x -> {digits})), 0)"
