"""The parser of the SELECT forms of the stage SQL.

- ``<query> INTO OUTFILE '<stage>:/<path>' [FORMAT '...'] [FIELDS ...] [LINES ...]``
  (MatrixOne): the query as ``sqlalchemy.text()``.
- ``SELECT GET_PRESIGNED_URL(@stage, 'path'[, expire])`` (Snowflake): a ``Presign``.
- ``SELECT <list> FROM @stage/path [(FILE_FORMAT => '...', PATTERN => '...')]``: a
  ``select()`` of ``literal_column()`` items from [staged][sqla_stage.staged.staged] files. Only
  this form is read: no alias, WHERE, GROUP BY, ORDER BY or joins after the files.
- ``SELECT * FROM list_stage(location => '@stage/path'[, pattern => '...'])`` (Databend):
  a ``ListFiles``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy

from sqla_stage.errors import StageParseError
from sqla_stage.files import ListFiles, Presign
from sqla_stage.formats import FORMAT_TYPES, FileFormat, FormatSpec
from sqla_stage.locations import parse_stage_location
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.parser.copy_into import query_text
from sqla_stage.parser.lexer import Kind
from sqla_stage.parser.load_data import fields_clause, lines_clause
from sqla_stage.parser.options import read_value, split_format_name
from sqla_stage.parser.stream import TokenStream, choices
from sqla_stage.stage import StagePath
from sqla_stage.staged import staged


def _find_outfile(stream: TokenStream) -> int | None:
    """The index of a top-level ``INTO OUTFILE``, if the statement has one."""
    depth = 0
    for index in range(stream.index, len(stream.tokens) - 1):
        token = stream.tokens[index]
        punct = token.value if token.kind is Kind.PUNCT else ""
        if punct == "(":
            depth += 1
        elif punct == ")":
            depth -= 1
        elif depth == 0 and token.upper == "INTO" and stream.tokens[index + 1].upper == "OUTFILE":
            return index
    return None


def parse_select(stream: TokenStream) -> Any:
    """A statement starting with SELECT (or WITH, for INTO OUTFILE)."""
    into = _find_outfile(stream)
    if into is not None:
        query = stream.raw(stream.index, into)
        if not query:
            raise stream.error("a query before INTO OUTFILE")
        stream.index = into + 2
        target = stream.string("the output file as a quoted string")
        return SelectIntoOutfile(query_text(query), target, **_outfile_options(stream))
    stream.expect_keyword("SELECT", expected="SELECT (or a query ending with INTO OUTFILE)")
    if stream.at_keyword("GET_PRESIGNED_URL") and stream.at_punct("(", offset=1):
        return _presigned_url(stream)
    start = stream.index
    from_index = stream.scan_top_level(["FROM"])
    if stream.tokens[from_index].kind is Kind.END:
        raise stream.error("FROM @stage/path", stream.tokens[from_index])
    items = _select_list(stream, start, from_index)
    stream.index = from_index + 1
    if stream.at_keyword("LIST_STAGE") and stream.at_punct("(", offset=1):
        return _list_stage(stream, items, start)
    location = stream.location("a stage location (@stage/path) or list_stage(...) after FROM")
    file_format, pattern = _staged_arguments(stream)
    stream.expect_end("(FILE_FORMAT => ..., PATTERN => ...) or the end of the statement")
    files = staged(location, file_format=file_format, pattern=pattern)
    columns: list[Any] = [sqlalchemy.literal_column(item) for item in items]
    return sqlalchemy.select(*columns).select_from(files)


def _outfile_options(stream: TokenStream) -> dict[str, Any]:
    """``[FORMAT '...'] [{FIELDS | COLUMNS} ...] [LINES ...]`` after the output file.

    The FIELDS and LINES clauses are LOAD DATA's (MatrixOne's page: "the syntax of the
    FIELDS and LINES clauses is the same for both statements"); FORMAT may come first or
    last.
    """
    arguments: dict[str, Any] = {}
    seen: set[str] = set()
    while True:
        token = stream.peek()
        clause = "FIELDS" if token.upper == "COLUMNS" else token.upper
        if clause not in ("FORMAT", "FIELDS", "LINES") or clause in seen:
            break
        seen.add(clause)
        stream.next()
        if clause == "FORMAT":
            arguments["format"] = stream.string("a format name ('csv' or 'parquet')")
        elif clause == "FIELDS":
            if "LINES" in seen:
                raise stream.error("FIELDS before LINES", token)
            fields_clause(stream, arguments)
        else:
            lines_clause(stream, arguments)
    stream.expect_end("FORMAT '...', FIELDS ..., LINES ... or the end of the statement")
    return arguments


def _select_list(stream: TokenStream, start: int, end: int) -> list[str]:
    """The items of the select list between token indexes ``start`` and ``end``."""
    items, depth, item_start = [], 0, start
    for index in range(start, end + 1):
        token = stream.tokens[index]
        punct = token.value if token.kind is Kind.PUNCT else ""
        if punct in ("(", "{"):
            depth += 1
        elif punct in (")", "}"):
            depth -= 1
        elif index == end or (depth == 0 and punct == ","):
            text = stream.raw(item_start, index)
            if not text:
                raise stream.error("a select list item", token)
            items.append(text)
            item_start = index + 1
    return items


def _named_arguments(stream: TokenStream, names: tuple[str, ...]) -> dict[str, str]:
    """``(NAME => 'value', ...)`` with names from ``names``; empty when no ``(`` follows."""
    values: dict[str, str] = {}
    if not stream.accept_punct("("):
        return values
    while True:
        token = stream.peek()
        if token.upper not in names or token.upper in values:
            raise stream.error(choices([f"{name} =>" for name in names if name not in values]))
        stream.next()
        stream.expect_punct("=>", f"'=>' after {token.value}")
        values[token.upper] = stream.string(f"a quoted string for {token.value}")
        if stream.accept_punct(")"):
            return values
        stream.expect_punct(",", "',' or ')'")


def _staged_arguments(stream: TokenStream) -> tuple[FormatSpec | None, str | None]:
    token = stream.peek()
    arguments = _named_arguments(stream, ("FILE_FORMAT", "PATTERN"))
    spec: FormatSpec | None = None
    name = arguments.get("FILE_FORMAT")
    if name is not None:
        if name.upper() in FORMAT_TYPES:
            spec = FORMAT_TYPES[name.upper()]()
        elif name:
            schema, base = split_format_name(name)
            spec = FileFormat(base, schema)
        else:
            raise stream.error("a file format name in FILE_FORMAT => '...'", token)
    return spec, arguments.get("PATTERN")


def _presigned_url(stream: TokenStream) -> Presign:
    """``GET_PRESIGNED_URL(@stage, 'path'[, expire])``, from the function's name."""
    stream.next()
    stream.expect_punct("(")
    token = stream.peek()
    location = stream.location("a stage (@stage)")
    if location.path:
        raise stream.error("a stage without a path (the path is the next argument)", token)
    stream.expect_punct(",", "',' and the file's path")
    path = stream.string("the file's path as a quoted string")
    expire = None
    if stream.accept_punct(","):
        value, value_token = read_value(stream)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise stream.error("a positive number of seconds", value_token)
        expire = value
    stream.expect_punct(")", "')'" if expire is not None else "',' or ')'")
    stream.expect_end()
    return Presign(StagePath(location.stage, path), expire=expire)


def _list_stage(stream: TokenStream, items: list[str], start: int) -> ListFiles:
    """``SELECT * FROM list_stage(location => '@s/p', pattern => '...')``."""
    if items != ["*"]:
        raise stream.error("SELECT * with list_stage(...)", stream.tokens[start])
    stream.next()
    token = stream.peek(1)
    arguments = _named_arguments(stream, ("LOCATION", "PATTERN"))
    stream.expect_end()
    if "LOCATION" not in arguments:
        raise stream.error("location => '@stage/path'", token)
    try:
        location = parse_stage_location(arguments["LOCATION"])
    except StageParseError as error:
        raise stream.error(f"a stage location in location => ({error.expected})", token) from None
    return ListFiles(location, pattern=arguments.get("PATTERN"))
