"""What each warehouse function the runtime translates becomes in DuckDB SQL.

`functions` finds the calls in an embedded query; this module holds, per
``stage_dialect``, the table of functions it translates and how (`FunctionTable`). A
translator gets the call with its arguments already in DuckDB SQL (`Call`) and returns
the DuckDB expression, or raises a `StageProgrammingError` naming the function when the
form it was given cannot be honoured (a number format, a time unit on a date).

Two kinds of translation:

- **sqlglot's** (`sqlglot_call`), for Snowflake functions whose meaning is a plain DuckDB
  expression sqlglot writes right (``IFF``, ``NVL``, ``DATE_PART``, ``TO_NUMBER(x, p,
  s)``, ...). Only the function's shell goes through sqlglot: each argument stands in as a
  placeholder name and comes back byte for byte, so the runtime's rewritten columns,
  parameters and DuckDB syntax inside an argument never reach sqlglot.
- **our own**, where sqlglot's DuckDB text means something else (measured in
  docs/parsing.md): ``TO_VARCHAR(x, 'YYYY-MM')`` (sqlglot drops an untyped argument's
  format), ``TO_BINARY`` and ``TO_TIMESTAMP_NTZ`` (kept as written: DuckDB's
  ``to_binary`` writes bit strings), ``TO_DECIMAL(x, '99.9', p, s)``, and all of
  Databend's (sqlglot has no Databend reader). Where the result depends on the
  argument's type (Snowflake's ``TO_VARCHAR`` of a timestamp shows milliseconds,
  Databend's ``DATE_ADD`` keeps a DATE a DATE), the expression calls a DuckDB macro
  with one overload a type (`MACROS`); a type without an overload fails with DuckDB's
  error naming the macro.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine.literals import literal


@dataclass(frozen=True)
class Call:
    """One call of a warehouse function, its arguments already DuckDB SQL.

    Attributes:
        name: The function's name in upper case.
        written: The call as the statement wrote it (for messages).
        arguments: Each argument's DuckDB text.
        strings: Each argument's value when it is one string literal, else None.
        words: Each argument's upper-case word when it is one bare word, else None.
    """

    name: str
    written: str
    arguments: tuple[str, ...]
    strings: tuple[str | None, ...]
    words: tuple[str | None, ...]

    def refuse(self, why: str) -> StageProgrammingError:
        """The error for a form of the function the runtime does not honour."""
        return StageProgrammingError(f"{self.name}: {why} (in {self.written[:80]})")

    def count(self, *allowed: int) -> int:
        """The number of arguments, checked against ``allowed``."""
        if len(self.arguments) not in allowed:
            raise self.refuse(f"takes {' or '.join(map(str, allowed))} arguments here")
        return len(self.arguments)

    def unit(self, index: int) -> str:
        """A unit argument, written as a word (``DAY``) or a string (``'day'``)."""
        value = self.words[index] or (self.strings[index] or "").upper()
        if not value:
            raise self.refuse("the unit must be written as a word or a string")
        return value


Translator = Callable[[Call], str]

_PREFIX = "__sqla_stage_"
#: DuckDB macros the translations call, by name: each a CREATE OR REPLACE TEMP MACRO body.
MACROS: dict[str, str] = {
    # Snowflake's OBJECT_CONSTRUCT: the pairs of a JSON object without its null values,
    # keys sorted (Snowflake's objects keep their keys sorted).
    f"{_PREFIX}object_construct": (
        "(j) AS (SELECT coalesce(to_json(map_from_entries(list({k: key, v: value} ORDER BY"
        " key))), '{}'::JSON) FROM json_each(j) WHERE json_type(value) <> 'NULL')"
    ),
    # Snowflake's default output formats: TIMESTAMP_OUTPUT_FORMAT (milliseconds),
    # DATE_OUTPUT_FORMAT, TIME_OUTPUT_FORMAT (whole seconds). A DATE needs its own
    # overload, or DuckDB would cast it to TIMESTAMP to pick the first one.
    f"{_PREFIX}snowflake_to_varchar": (
        "(x DATE) AS CAST(x AS VARCHAR),"
        " (x TIMESTAMP) AS strftime(x, '%Y-%m-%d %H:%M:%S.%g'),"
        " (x TIME) AS strftime(DATE '2000-01-01' + x, '%H:%M:%S'),"
        " (x TIMESTAMPTZ) AS error('TO_VARCHAR of a TIMESTAMP_TZ value is not supported"
        " on the runtime'),"
        " (x) AS CAST(x AS VARCHAR)"
    ),
    # The argument of strftime (whose format must be a constant, so not in a macro):
    # TO_VARCHAR with a format takes a date or a timestamp ...
    f"{_PREFIX}snowflake_to_varchar_date": "(x DATE) AS x, (x TIMESTAMP) AS x",
    # ... and Databend's TO_STRING also a string, read as a timestamp.
    f"{_PREFIX}databend_to_string_date": (
        "(x DATE) AS x, (x TIMESTAMP) AS x, (x VARCHAR) AS CAST(x AS TIMESTAMP)"
    ),
    # Databend's TO_DATE: a DATE as is, a timestamp's date, an integer as days since
    # 1970-01-01, a string's date (one with a UTC offset is refused: Databend converts
    # it to UTC first, DuckDB's cast would ignore the offset).
    f"{_PREFIX}databend_to_date": (
        "(x DATE) AS x,"
        " (x TIMESTAMP) AS CAST(x AS DATE),"
        " (x BIGINT) AS DATE '1970-01-01' + CAST(x AS INTEGER),"
        " (x VARCHAR) AS CASE WHEN regexp_matches(x, '[T ][0-9:.]+ *([+-][0-9:]+|Z)$')"
        " THEN error('TO_DATE of a string with a time zone is not supported on the"
        " runtime') ELSE CAST(x AS DATE) END"
    ),
    # Databend's DATE_ADD: the result has the type of the date-or-time argument.
    f"{_PREFIX}databend_date_add": (
        "(x DATE, i INTERVAL) AS CAST(x + i AS DATE), (x TIMESTAMP, i INTERVAL) AS x + i"
    ),
    f"{_PREFIX}databend_time_add": "(x TIMESTAMP, i INTERVAL) AS x + i",
}


@dataclass(frozen=True)
class FunctionTable:
    """The functions one warehouse's embedded queries may call, and their translations.

    Attributes:
        calls: Translators by upper-case function name.
        sequences: ``seq.NEXTVAL`` reads a sequence (Snowflake).
        element_paths: Functions whose result may take an element path, ``f(x):a.b``.
    """

    calls: Mapping[str, Translator]
    sequences: bool = False
    element_paths: frozenset[str] = field(default_factory=frozenset)


# Date and time formats -----------------------------------------------------------------

#: Format elements that mean the same in Snowflake and Databend's Oracle style.
_ELEMENTS = {
    "YYYY": "%Y",
    "YY": "%y",
    "MM": "%m",
    "DD": "%d",
    "HH24": "%H",
    "HH12": "%I",
    "AM": "%p",
    "PM": "%p",
    "MI": "%M",
    "SS": "%S",
}
_SNOWFLAKE_ELEMENTS = {**_ELEMENTS, "FF3": "%g", "FF6": "%f", "FF9": "%n", "FF": "%n"}
_DATABEND_ELEMENTS = {
    **_ELEMENTS,
    "MMMM": "%B",
    "MON": "%b",
    "DY": "%a",
    "FF": "%f",
}
#: Databend's MySQL-style specifiers that DuckDB's strftime reads the same way.
_DATABEND_SPECIFIERS = frozenset("YmdHSy%")
_SEPARATORS = frozenset(" -/:,._")


def strftime_format(call: Call, fmt: str, elements: Mapping[str, str]) -> str:
    """DuckDB's strftime format for an Oracle-style date format (Snowflake's).

    Raises:
        StageProgrammingError: an element the runtime does not know (a number format).
    """
    names = sorted(elements, key=len, reverse=True)
    out, position = [], 0
    while position < len(fmt):
        char = fmt[position]
        if char == '"':
            end = fmt.find('"', position + 1)
            if end < 0:
                raise call.refuse(f"format {fmt!r}: '\"' is not closed")
            out.append(fmt[position + 1 : end].replace("%", "%%"))
            position = end + 1
            continue
        if char in _SEPARATORS:
            out.append(char)
            position += 1
            continue
        match = next((n for n in names if fmt[position:].upper().startswith(n)), None)
        if match is None:
            known = ", ".join(sorted(elements))
            raise call.refuse(
                f"format {fmt!r} is not supported on the runtime (date and time formats "
                f"of {known} and separators are)"
            )
        out.append(elements[match])
        position += len(match)
    return "".join(out)


def _format_argument(call: Call, index: int) -> str:
    fmt = call.strings[index]
    if fmt is None:
        raise call.refuse("the format must be a string literal")
    return fmt


# Snowflake ----------------------------------------------------------------------------


def _snowflake_to_varchar(call: Call) -> str:
    if call.count(1, 2) == 1:
        return f"{_PREFIX}snowflake_to_varchar({call.arguments[0]})"
    fmt = strftime_format(call, _format_argument(call, 1), _SNOWFLAKE_ELEMENTS)
    return f"strftime({_PREFIX}snowflake_to_varchar_date({call.arguments[0]}), {literal(fmt)})"


_BINARY_FORMATS = {"HEX": "unhex", "BASE64": "from_base64", "UTF-8": "encode", "UTF8": "encode"}


def _snowflake_to_binary(call: Call) -> str:
    """``TO_BINARY(x [, 'HEX' | 'BASE64' | 'UTF-8'])``: HEX is the default input format."""
    fmt = "HEX" if call.count(1, 2) == 1 else _format_argument(call, 1).upper()
    if fmt not in _BINARY_FORMATS:
        raise call.refuse(f"binary format {fmt!r}: HEX, BASE64 and UTF-8 are supported")
    return f"{_BINARY_FORMATS[fmt]}(CAST({call.arguments[0]} AS VARCHAR))"


def _snowflake_to_timestamp_ntz(call: Call) -> str:
    call.count(1)
    return f"CAST({call.arguments[0]} AS TIMESTAMP)"


_NUMBER_FORMAT = re.compile(r"([90]*)(?:\.([90]*))?")


def _snowflake_to_number(call: Call) -> str:
    """``TO_NUMBER(x [, 'format'] [, p [, s]])``; formats of 9s, 0s and one point."""
    if len(call.arguments) < 2 or call.strings[1] is None:
        return sqlglot_call(call)
    fmt = call.strings[1]
    shape = _NUMBER_FORMAT.fullmatch(fmt)
    if shape is None or not fmt:
        raise call.refuse(
            f"number format {fmt!r} is not supported on the runtime (9, 0 and '.' are)"
        )
    sizes = call.arguments[2:]
    if len(sizes) > 2:
        raise call.refuse("takes at most a format, a precision and a scale")
    precision = sizes[0] if sizes else "38"
    scale = sizes[1] if len(sizes) > 1 else "0"
    whole, fraction = len(shape.group(1)), len(shape.group(2) or "")
    pattern = rf"[+-]?[0-9]{{0,{whole}}}(\.[0-9]{{0,{fraction}}})?"
    text = f"CAST({call.arguments[0]} AS VARCHAR)"
    message = literal(f"{call.name}: a value does not match the format {fmt!r}")
    return (
        f"CASE WHEN NOT regexp_full_match({text}, {literal(pattern)}) THEN error({message})"
        f" ELSE CAST({text} AS DECIMAL({precision}, {scale})) END"
    )


_DATE_PARTS = frozenset(("YEAR", "QUARTER", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"))


def _snowflake_date_part(call: Call) -> str:
    call.count(2)
    if call.unit(0) not in _DATE_PARTS:
        raise call.refuse(
            f"date part {call.unit(0)} is not supported on the runtime "
            f"({', '.join(sorted(_DATE_PARTS))} are)"
        )
    return sqlglot_call(call, keep=(0,))


def _snowflake_object_construct(call: Call) -> str:
    """``OBJECT_CONSTRUCT(*)`` (every column) or ``('k', v, ...)``, NULL values left out."""
    arguments = [argument.strip() for argument in call.arguments]
    if arguments == ["*"]:
        return f"{_PREFIX}object_construct(to_json(struct_pack(*COLUMNS(*))))"
    if len(arguments) % 2 or "*" in arguments:
        raise call.refuse("takes key-value pairs, or * alone, on the runtime")
    return f"{_PREFIX}object_construct(json_object({', '.join(call.arguments)}))"


def _snowflake_flatten(call: Call) -> str:
    raise call.refuse("Snowflake's FLATTEN table function is not supported on the runtime")


def sqlglot_call(call: Call, keep: tuple[int, ...] = ()) -> str:
    """The call translated by sqlglot's Snowflake reader, its arguments kept as they are.

    Each argument but those in ``keep`` and number literals reaches sqlglot as a
    placeholder name, then comes back in parentheses.

    Raises:
        StageProgrammingError: sqlglot cannot write the call for DuckDB.
    """
    # sqlglot costs about 120 ms to import: only a statement that calls one of these
    # functions pays it, so it is imported here, not with the runtime.
    import sqlglot
    from sqlglot.errors import ErrorLevel, SqlglotError

    placeholders, shell = {}, []
    for index, argument in enumerate(call.arguments):
        if index in keep or re.fullmatch(r"\d+", argument):
            shell.append(argument)
            continue
        name = f"{_PREFIX}arg{index}"
        placeholders[name] = f"({argument})"
        shell.append(name)
    try:
        (sql,) = sqlglot.transpile(
            f"{call.name}({', '.join(shell)})",
            read="snowflake",
            write="duckdb",
            unsupported_level=ErrorLevel.RAISE,
        )
    except SqlglotError as error:
        raise call.refuse(f"cannot be translated for DuckDB ({error})") from None
    if placeholders:
        sql = re.sub("|".join(map(re.escape, placeholders)), lambda m: placeholders[m.group()], sql)
    return sql


SNOWFLAKE = FunctionTable(
    calls={
        "TO_VARCHAR": _snowflake_to_varchar,
        "TO_CHAR": _snowflake_to_varchar,
        "TO_BINARY": _snowflake_to_binary,
        "TO_TIMESTAMP_NTZ": _snowflake_to_timestamp_ntz,
        "TO_NUMBER": _snowflake_to_number,
        "TO_DECIMAL": _snowflake_to_number,
        "TO_NUMERIC": _snowflake_to_number,
        "DATE_PART": _snowflake_date_part,
        "IFF": sqlglot_call,
        "NVL": sqlglot_call,
        "NVL2": sqlglot_call,
        "ZEROIFNULL": sqlglot_call,
        "DIV0": sqlglot_call,
        "PARSE_JSON": lambda call: f"json(CAST({call.arguments[0]} AS VARCHAR))",
        "FLATTEN": _snowflake_flatten,
        "OBJECT_CONSTRUCT": _snowflake_object_construct,
    },
    sequences=True,
    element_paths=frozenset(("PARSE_JSON",)),
)


# Databend -----------------------------------------------------------------------------


def _databend_to_string(call: Call) -> str:
    """``TO_STRING(x, 'format')``: ``%`` specifiers (MySQL style) or Oracle's elements."""
    if call.count(1, 2) == 1:
        return f"CAST({call.arguments[0]} AS VARCHAR)"
    fmt = _format_argument(call, 1)
    if "%" in fmt:
        specifiers = set(re.findall(r"%(.)", fmt))
        if not specifiers <= _DATABEND_SPECIFIERS:
            known = ", ".join("%" + s for s in sorted(_DATABEND_SPECIFIERS))
            raise call.refuse(f"format {fmt!r}: the runtime reads {known}")
        converted = fmt
    else:
        converted = strftime_format(call, fmt, _DATABEND_ELEMENTS)
    value = f"{_PREFIX}databend_to_string_date({call.arguments[0]})"
    return f"strftime({value}, {literal(converted)})"


def _databend_to_date(call: Call) -> str:
    if call.count(1, 2) == 1:
        return f"{_PREFIX}databend_to_date({call.arguments[0]})"
    fmt = _format_argument(call, 1)
    if set(re.findall(r"%(.)", fmt)) - _DATABEND_SPECIFIERS or "%" not in fmt:
        raise call.refuse(f"format {fmt!r} is not supported on the runtime")
    return f"CAST(strptime({call.arguments[0]}, {literal(fmt)}) AS DATE)"


_CALENDAR_UNITS = frozenset(("YEAR", "QUARTER", "MONTH", "WEEK", "DAY"))
_CLOCK_UNITS = frozenset(("HOUR", "MINUTE", "SECOND"))
_DATE_LITERAL = re.compile(r"\d{4}-\d{2}-\d{2}")


def _databend_date_add(call: Call) -> str:
    """``DATE_ADD(unit, n, d)``: a DATE stays a DATE, a TIMESTAMP a TIMESTAMP.

    A string literal is a DATE when it is one (``'2022-01-01'``), else a TIMESTAMP.
    """
    call.count(3)
    unit = call.unit(0)
    if unit not in _CALENDAR_UNITS | _CLOCK_UNITS:
        raise call.refuse(f"unit {unit} is not one of Databend's")
    value = call.arguments[2]
    written = call.strings[2]
    if written is not None:
        kind = "DATE" if _DATE_LITERAL.fullmatch(written) else "TIMESTAMP"
        value = f"CAST({value} AS {kind})"
    macro = "databend_date_add" if unit in _CALENDAR_UNITS else "databend_time_add"
    return f"{_PREFIX}{macro}({value}, INTERVAL ({call.arguments[1]}) {unit})"


DATABEND = FunctionTable(
    calls={
        "TO_STRING": _databend_to_string,
        "TO_VARCHAR": _databend_to_string,
        "TO_TEXT": _databend_to_string,
        "TO_CHAR": _databend_to_string,
        "TO_DATE": _databend_to_date,
        "DATE_ADD": _databend_date_add,
    }
)

#: The tables by ``stage_dialect``; the default (DuckDB's own SQL) and MatrixOne have none.
TABLES: dict[str | None, FunctionTable] = {"snowflake": SNOWFLAKE, "databend": DATABEND}
