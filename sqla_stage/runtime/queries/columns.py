r"""Snowflake's columns of staged files in a statement, as DuckDB expressions.

`references` finds, in a statement that reads staged files (see `queries`):

- ``$n`` and ``alias.$n`` (unqualified ``$n`` is a bind parameter when the statement is
  run with positional parameters, as DuckDB numbers them);
- ``METADATA$FILENAME`` and the other metadata columns, qualified or not;
- an element path after either, ``$1:a.b``, ``$1:arr[0]``, ``t.$1:"key"`` (JSON and
  Parquet files), which reads the record with ``json_extract``;
- a cast after them, ``::number``, ``::string`` (Snowflake's type names become DuckDB's;
  after a path, the element's text is cast, so ``::string`` has no JSON quotes).

An unqualified column belongs to the staged location of its own scope (a SELECT, a
parenthesised query, a branch of a UNION), else of the enclosing one; two candidates
are ambiguous and refused. A column that is a whole item of a SELECT list is named as
Snowflake names it (``$1``, ``METADATA$FILENAME``). ``*`` in the scope of a source that
has extra columns (`staged_sources`) gets ``EXCLUDE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageProgrammingError
from sqla_stage.parser.lexer import Kind, Token
from sqla_stage.runtime.engine.literals import literal, quote
from sqla_stage.runtime.queries.staged_sources import METADATA_COLUMNS, StagedSource

_SET_OPERATIONS = frozenset(("UNION", "INTERSECT", "EXCEPT", "MINUS"))
#: Snowflake type names DuckDB does not know, and the DuckDB type they mean.
_TYPES = {
    "NUMBER": "DECIMAL(38, 0)",
    "NUMERIC": "DECIMAL(38, 0)",
    "DECIMAL": "DECIMAL(38, 0)",
    "INT": "DECIMAL(38, 0)",
    "INTEGER": "DECIMAL(38, 0)",
    "BYTEINT": "DECIMAL(38, 0)",
    "STRING": "VARCHAR",
    "TEXT": "VARCHAR",
    "CHAR": "VARCHAR",
    "CHARACTER": "VARCHAR",
    "VARCHAR": "VARCHAR",
    "FLOAT": "DOUBLE",
    "FLOAT4": "DOUBLE",
    "FLOAT8": "DOUBLE",
    "REAL": "DOUBLE",
    "TIMESTAMP_NTZ": "TIMESTAMP",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP_TZ": "TIMESTAMPTZ",
    "TIMESTAMP_LTZ": "TIMESTAMPTZ",
    "VARIANT": "JSON",
    "OBJECT": "JSON",
    "ARRAY": "JSON",
}
_DECIMALS = frozenset(("NUMBER", "NUMERIC", "DECIMAL"))


def names_alias(token: Token, not_aliases: frozenset[str]) -> bool:
    """Whether ``token``, after a FROM item, is its alias: a quoted name or another word."""
    return token.kind is Kind.QUOTED or (token.kind is Kind.WORD and token.upper not in not_aliases)


@dataclass
class Edit:
    """Text that replaces ``sql[start:end]``."""

    start: int
    end: int
    text: str


@dataclass
class Layout:
    """Where each token stands: its scope, and whether it is in a SELECT list.

    A scope is a parenthesised group or a branch of a set operation inside one; ``parent``
    maps each scope to the one it is written in (None for the statement's).
    """

    scope: list[int]
    select_list: list[bool]
    parent: dict[int, int | None]


def layout(tokens: Sequence[Token]) -> Layout:
    """The scopes and SELECT lists of ``tokens``."""
    scope: list[int] = []
    select_list: list[bool] = []
    parent: dict[int, int | None] = {0: None}
    stack = [[0, False]]  # per depth: [scope, in a SELECT list]
    for token in tokens:
        top = stack[-1]
        if token.kind is Kind.PUNCT and token.value == "(":
            scope.append(int(top[0]))
            select_list.append(bool(top[1]))
            parent[len(parent)] = int(top[0])
            stack.append([len(parent) - 1, False])
            continue
        if token.kind is Kind.PUNCT and token.value == ")" and len(stack) > 1:
            stack.pop()
            top = stack[-1]
        elif token.upper in _SET_OPERATIONS:
            parent[len(parent)] = parent[int(top[0])]
            top[0], top[1] = len(parent) - 1, False
        elif token.upper == "SELECT":
            top[1] = True
        elif token.upper in ("FROM", "INTO") and top[1]:
            top[1] = False
        scope.append(int(top[0]))
        select_list.append(bool(top[1]))
    return Layout(scope, select_list, parent)


@dataclass
class _Reference:
    """One column of staged files in the text."""

    start: int
    end: int
    name: str  # as Snowflake names the column: "$1" or "METADATA$FILENAME"
    number: int | None
    qualifier: Token | None
    path: list[Token]
    cast: str | None
    index: int
    last: int


def _is(token: Token, kind: Kind, value: str) -> bool:
    return token.kind is kind and token.value == value


def _column_at(tokens: Sequence[Token], index: int) -> tuple[str, int | None] | None:
    """``$n`` or ``METADATA$...`` at ``tokens[index]``: its name, number and last index."""
    token = tokens[index]
    if token.kind is Kind.WORD and token.upper.startswith("METADATA$"):
        if token.upper not in METADATA_COLUMNS:
            raise StageProgrammingError(
                f"{token.value}: the metadata columns of staged files are "
                + ", ".join(METADATA_COLUMNS)
            )
        return token.upper, None
    number = tokens[index + 1] if index + 1 < len(tokens) else token
    if (
        _is(token, Kind.OTHER, "$")
        and number.kind is Kind.NUMBER
        and number.start == token.end
        and number.value.isdigit()
    ):
        return f"${number.value}", int(number.value)
    return None


def element_path(tokens: Sequence[Token], index: int) -> tuple[list[Token], int]:
    """The element path after ``tokens[index - 1]`` (``:a.b[0]``): its parts and end."""
    if not (_is(tokens[index], Kind.OTHER, ":") and not _is(tokens[index + 1], Kind.OTHER, ":")):
        return [], index
    parts, position = [tokens[index + 1]], index + 2
    if parts[0].kind not in (Kind.WORD, Kind.QUOTED):
        raise StageProgrammingError(
            f"expected an element name after ':' at offset {parts[0].start}"
        )
    while True:
        token = tokens[position]
        if _is(token, Kind.PUNCT, ".") and tokens[position + 1].kind in (Kind.WORD, Kind.QUOTED):
            parts.append(tokens[position + 1])
            position += 2
        elif (
            _is(token, Kind.OTHER, "[")
            and tokens[position + 1].kind in (Kind.NUMBER, Kind.STRING)
            and _is(tokens[position + 2], Kind.OTHER, "]")
        ):
            parts.append(tokens[position + 1])
            position += 3
        else:
            return parts, position


def cast_suffix(text: str, tokens: Sequence[Token], index: int) -> tuple[str | None, int]:
    """``::type`` at ``tokens[index]``: the DuckDB type and the index after it."""
    first, second = tokens[index], tokens[index + 1]
    if not (
        _is(first, Kind.OTHER, ":") and _is(second, Kind.OTHER, ":") and second.start == first.end
    ):
        return None, index
    name = tokens[index + 2]
    if name.kind is not Kind.WORD:
        return None, index
    position = index + 3
    arguments = ""
    if _is(tokens[position], Kind.PUNCT, "("):
        close = position
        while not _is(tokens[close], Kind.PUNCT, ")") and tokens[close].kind is not Kind.END:
            close += 1
        arguments = text[tokens[position].start : tokens[close].end]
        position = close + 1
    if arguments and name.upper in _DECIMALS:
        return f"DECIMAL{arguments}", position
    if arguments and name.upper in ("VARCHAR", "STRING", "TEXT", "CHAR", "CHARACTER"):
        return "VARCHAR", position
    return _TYPES.get(name.upper, name.value + arguments), position


def _references(
    text: str, tokens: Sequence[Token], positional_parameters: bool
) -> list[_Reference]:
    found = []
    for index, token in enumerate(tokens[:-1]):
        column = _column_at(tokens, index)
        if column is None:
            continue
        name, number = column
        qualifier = None
        if index >= 2 and _is(tokens[index - 1], Kind.PUNCT, "."):
            qualifier = tokens[index - 2]
            if qualifier.kind not in (Kind.WORD, Kind.QUOTED):
                continue
        elif number is not None and (
            positional_parameters or _is(tokens[index - 1], Kind.PUNCT, ".")
        ):
            continue  # a bind parameter, as DuckDB numbers them
        after = index + 2 if number is not None else index + 1
        path, after = element_path(tokens, after)
        cast, after = cast_suffix(text, tokens, after)
        start = qualifier.start if qualifier is not None else token.start
        end = tokens[after - 1].end
        found.append(_Reference(start, end, name, number, qualifier, path, cast, index, after))
    return found


def _source_of(
    reference: _Reference, sources: Sequence[StagedSource], shape: Layout
) -> StagedSource:
    """The staged location a column belongs to.

    Raises:
        StageProgrammingError: no staged location, or more than one, can be meant.
    """
    what = reference.name
    if reference.qualifier is not None:
        token = reference.qualifier
        spelling = token.value if token.kind is Kind.QUOTED else token.value.upper()
        matching = [source for source in sources if spelling in source.names]
        if len(matching) != 1:
            raise StageProgrammingError(
                f"{token.value}.{what}: {token.value!r} is not the alias of one staged "
                "location of the statement (FROM @stage/path [(...)] alias)"
            )
        return matching[0]
    scope: int | None = shape.scope[reference.index]
    while scope is not None:
        here = [source for source in sources if source.scope == scope]
        if len(here) > 1:
            raise StageProgrammingError(
                f"{what} is ambiguous: the query reads several staged locations; qualify "
                "it with the location's alias (FROM @stage/path alias ... alias.$1)"
            )
        if here:
            return here[0]
        scope = shape.parent[scope]
    raise StageProgrammingError(f"{what}: no staged location (FROM @stage/path) is in scope")


def json_path(parts: Sequence[Token]) -> str:
    """DuckDB's JSON path for Snowflake's element path (keys are case-sensitive)."""
    path = "$"
    for part in parts:
        if part.kind is Kind.NUMBER:
            path += f"[{part.value}]"
            continue
        if '"' in part.value:
            raise StageProgrammingError(f"element name {part.value!r}: '\"' is not supported")
        path += f'."{part.value}"'
    return path


def path_expression(value: str, parts: Sequence[Token], cast: str | None) -> str:
    """The element at Snowflake's path ``parts`` of the JSON ``value``, cast to ``cast``.

    Without a cast (or cast to JSON) the element is a JSON value; with one, the
    element's text is cast, so a string has no JSON quotes.
    """
    path = literal(json_path(parts))
    if cast is None or cast == "JSON":
        return f"json_extract({value}, {path})"
    return f"CAST(json_extract_string({value}, {path}) AS {cast})"


def _expression(
    text: str, reference: _Reference, source: StagedSource, scan_time: dt.datetime
) -> str:
    what = text[reference.start : reference.end]
    if reference.number is None:
        value = source.metadata_column(reference.name, scan_time)
    else:
        value = source.positional(reference.number, what)
    if reference.path:
        if reference.number is None or not source.records:
            raise StageProgrammingError(
                f"{what}: an element path reads $1 of JSON or Parquet files, and "
                f"{source.label} is read as {source.spec.type_name}"
            )
        return path_expression(value, reference.path, reference.cast)
    if reference.cast is not None:
        return f"CAST({value} AS {reference.cast})"
    return value


def _whole_item(tokens: Sequence[Token], shape: Layout, reference: _Reference) -> bool:
    """Whether the column is a whole item of a SELECT list (no alias of its own)."""
    first = reference.index - (2 if reference.qualifier is not None else 0)
    before, after = tokens[first - 1] if first else None, tokens[reference.last]
    if before is None or not shape.select_list[first]:
        return False
    opens = before.upper in ("SELECT", "DISTINCT", "ALL") or _is(before, Kind.PUNCT, ",")
    closes = (
        after.kind is Kind.END
        or after.upper in ("FROM", "INTO")
        or _is(after, Kind.PUNCT, ",")
        or _is(after, Kind.PUNCT, ";")
    )
    return opens and closes


def _stars(tokens: Sequence[Token], shape: Layout, sources: Sequence[StagedSource]) -> list[Edit]:
    """``* EXCLUDE (...)`` for ``*`` and ``alias.*`` over sources with extra columns."""
    edits = []
    wrapped = [source for source in sources if source.wrapped]
    for index, token in enumerate(tokens[:-1]):
        if not (_is(token, Kind.OTHER, "*") and shape.select_list[index]) or index == 0:
            continue
        before = tokens[index - 1]
        if _is(before, Kind.PUNCT, ".") and index >= 2:
            qualifier = tokens[index - 2]
            spelling = qualifier.value if qualifier.kind is Kind.QUOTED else qualifier.upper
            hidden = [c for s in wrapped if spelling in s.names for c in s.hidden_columns()]
        elif before.upper in ("SELECT", "DISTINCT", "ALL") or _is(before, Kind.PUNCT, ","):
            scope = shape.scope[index]
            hidden = [c for s in wrapped if s.scope == scope for c in s.hidden_columns()]
        else:
            continue
        if not hidden:
            continue
        if tokens[index + 1].upper in ("EXCLUDE", "REPLACE", "RENAME"):
            raise StageProgrammingError(
                f"{tokens[index + 1].value} after * over staged files read with metadata "
                "columns: list the columns instead"
            )
        edits.append(Edit(token.end, token.end, f" EXCLUDE ({', '.join(hidden)})"))
    return edits


def references(
    text: str, tokens: Sequence[Token], sources: Sequence[StagedSource], parameters: Any
) -> list[Edit]:
    """The edits that make the staged files' columns DuckDB expressions.

    Call before rendering the sources: it tells each what the statement reads of it.

    Raises:
        StageProgrammingError: a column that no staged location, or several, can mean, or
            that its files' format does not have.
    """
    shape = layout(tokens)
    positional = bool(parameters) and not isinstance(parameters, Mapping | str)
    found = _references(text, tokens, positional)
    resolved = [(reference, _source_of(reference, sources, shape)) for reference in found]
    for reference, source in resolved:
        if reference.number is None:
            source.metadata.add(reference.name)
    for source in sources:
        source.prepare()
    scan_time = dt.datetime.now(dt.UTC)
    edits = []
    for reference, source in resolved:
        value = _expression(text, reference, source, scan_time)
        if _whole_item(tokens, shape, reference):
            written = text[tokens[reference.index].start : reference.end]
            name = written if reference.path or reference.cast else reference.name
            value = f"{value} AS {quote(name)}"
        edits.append(Edit(reference.start, reference.end, value))
    if any(source.wrapped for source in sources):
        edits.extend(_stars(tokens, shape, sources))
    return edits
