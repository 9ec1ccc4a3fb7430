"""DuckDB identifiers and literals for the SQL the runtime writes itself.

The runtime's own queries (registry lookups, load history, the rows of a result) carry
their values as typed literals in the SQL text, not as bind parameters: DuckDB's Python
client imports pandas, NumPy and PyArrow (about 85 MiB) the first time a statement runs
with parameters, and a stage operation should cost the memory DuckDB's own statement
costs. The values are Python objects the runtime holds (names, paths, counts, times);
every string goes through `literal`'s quoting. A user's own bind parameters are
still passed to DuckDB as parameters.

A list travels as one JSON text cast to ``JSON``, which the SQL then casts to the list
type it needs (``::VARCHAR[]``): DuckDB reads 10,000 values that way in a few
milliseconds, against a quarter of a second for a list of 10,000 timestamp literals.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any


def fetch_one(connection: Any, sql: str) -> Any:
    """Run ``sql`` on a DuckDB connection or DBAPI cursor and return its first row (or None)."""
    result = connection.execute(sql)
    return (connection if result is None else result).fetchone()


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A DuckDB string literal.

    A NUL character cannot stand inside DuckDB's quotes, so a string holding one becomes a
    concatenation with ``chr(0)``.
    """
    if "\0" in value:
        return " || chr(0) || ".join(literal(part) for part in value.split("\0"))
    return "'" + value.replace("'", "''") + "'"


def text_list(values: Sequence[str]) -> str:
    """A DuckDB list of string literals.

    For arguments DuckDB takes only as constants (the files of ``read_csv``,
    ``nullstr``), where a JSON value would not do.
    """
    return "[" + ", ".join(literal(value) for value in values) + "]"


def value_literal(value: Any) -> str:
    """A DuckDB literal for a Python value: text, a number, a time, None or a list of them.

    A list becomes a ``JSON`` value, for the SQL around it to cast to a typed list.

    Raises:
        TypeError: a value of another type (in a list, also a NaN or infinite float).
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"{literal(repr(value))}::DOUBLE"
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMP" if value.tzinfo is None else "TIMESTAMPTZ"
        return f"{kind} {literal(value.isoformat(sep=' '))}"
    if isinstance(value, dt.date):
        return f"DATE {literal(value.isoformat())}"
    if isinstance(value, list | tuple):
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_time)
        except ValueError as error:
            raise TypeError(f"no DuckDB literal for {value!r}: {error}") from None
        return f"{literal(text)}::JSON"
    raise TypeError(f"no DuckDB literal for a {type(value).__name__}")


def _json_time(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"no DuckDB literal for a {type(value).__name__}")


def inline(sql: str, parameters: Sequence[Any]) -> str:
    """``sql`` with each ``?`` replaced by the literal of the next parameter.

    ``sql`` is one of the runtime's own templates, whose only question marks are
    placeholders.

    Raises:
        ValueError: the template and the parameters do not agree in number.
    """
    parts = sql.split("?")
    if len(parts) != len(parameters) + 1:
        raise ValueError(f"{len(parts) - 1} placeholders for {len(parameters)} parameters")
    pieces = [parts[0]]
    for value, part in zip(parameters, parts[1:], strict=True):
        pieces += [value_literal(value), part]
    return "".join(pieces)


def columns_select(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> str:
    """The items of a SELECT whose rows are ``rows``, one typed list per ``(name, type)``."""
    return ", ".join(
        f"unnest({value_literal([row[index] for row in rows])}::{kind}[]) AS {quote(name)}"
        for index, (name, kind) in enumerate(columns)
    )
