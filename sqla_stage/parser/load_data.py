"""The parser of MatrixOne's ``LOAD DATA`` (issue 14), from after ``LOAD``.

``LOAD DATA [LOCAL] INFILE '<path>' | {'filepath'='...', 'format'='jsonline',
'jsondata'='object'|'array'} INTO TABLE <t>`` or ``LOAD DATA URL s3option {...} INTO TABLE
<t>``, then in MySQL's order: ``CHARACTER SET``, ``{FIELDS | COLUMNS}`` (its three options in
any order), ``LINES`` (both in any order), ``IGNORE n {LINES | ROWS}``, the column list
(``@var`` included), ``SET col = <expr>, ...`` (each expression as written) and
``PARALLEL`` / ``STRICT``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy

from sqla_stage.load_data import FORMATS, JSON_DATA, VARIABLE, LoadData
from sqla_stage.parser.lexer import Kind
from sqla_stage.parser.stream import TokenStream, choices

_INFILE_KEYS = ("filepath", "format", "jsondata")
_FIELD_OPTIONS = {"TERMINATED": "fields_terminated_by", "ENCLOSED": "enclosed_by"}
_LINE_OPTIONS = {"STARTING": "lines_starting_by", "TERMINATED": "lines_terminated_by"}
_FLAGS = ("PARALLEL", "STRICT")


def _braces(stream: TokenStream, what: str, keys: tuple[str, ...] | None) -> dict[str, str]:
    """``{'key'='value', ...}`` (keys quoted or bare, each once)."""
    stream.expect_punct("{", what)
    entries: dict[str, str] = {}
    while True:
        token = stream.peek()
        if token.kind not in (Kind.STRING, Kind.WORD, Kind.QUOTED) or not token.value:
            raise stream.error("a key such as 'filepath'")
        key = token.value.lower()
        if (keys is not None and key not in keys) or key in entries:
            expected = choices(repr(k) for k in keys) if keys is not None else "a new key"
            raise stream.error(f"{expected}, each once", token)
        stream.next()
        stream.expect_punct("=", "'=' after the key")
        entries[key] = stream.string(f"a quoted value for {key!r}")
        if not stream.accept_punct(","):
            break
    stream.expect_punct("}", "',' or '}'")
    return entries


def _by(stream: TokenStream, arguments: dict[str, Any], name: str) -> None:
    token = stream.peek()
    if name in arguments:
        raise stream.error(f"each option once, not a second {token.value}", token)
    stream.next()
    stream.expect_keyword("BY")
    arguments[name] = stream.string("a quoted string after BY")


def fields_clause(stream: TokenStream, arguments: dict[str, Any]) -> None:
    """``{FIELDS | COLUMNS} [TERMINATED BY s] [[OPTIONALLY] ENCLOSED BY c] [ESCAPED BY c]``."""
    expected = "TERMINATED BY, [OPTIONALLY] ENCLOSED BY or ESCAPED BY"
    count = 0
    while True:
        upper = stream.peek().upper
        if upper == "OPTIONALLY":
            stream.next()
            if not stream.at_keyword("ENCLOSED"):
                raise stream.error("ENCLOSED BY after OPTIONALLY")
            arguments["optionally_enclosed"] = True
            _by(stream, arguments, "enclosed_by")
        elif upper in _FIELD_OPTIONS or upper == "ESCAPED":
            _by(stream, arguments, _FIELD_OPTIONS.get(upper, "escaped_by"))
        elif count == 0:
            raise stream.error(expected)
        else:
            return
        count += 1


def lines_clause(stream: TokenStream, arguments: dict[str, Any]) -> None:
    """``LINES [STARTING BY s] [TERMINATED BY s]``."""
    count = 0
    while stream.peek().upper in _LINE_OPTIONS:
        _by(stream, arguments, _LINE_OPTIONS[stream.peek().upper])
        count += 1
    if count == 0:
        raise stream.error("STARTING BY or TERMINATED BY")


def _columns(stream: TokenStream) -> list[str]:
    """``(col | @var, ...)``."""
    names = []
    while True:
        token = stream.peek()
        if token.kind is Kind.LOCATION and VARIABLE.fullmatch(token.value):
            stream.next()
            names.append(token.value)
        else:
            names.append(stream.name_part("a column name or @variable")[0])
        if not stream.accept_punct(","):
            break
    stream.expect_punct(")", "',' or ')'")
    return names


def _at_flag(stream: TokenStream, index: int) -> bool:
    token, after = stream.tokens[index], stream.tokens[min(index + 1, len(stream.tokens) - 1)]
    return token.upper in _FLAGS and after.kind is Kind.STRING


def _assignments(stream: TokenStream) -> dict[str, str]:
    """``SET col = <expr>, ...``: each expression runs to a top-level ``,`` or the end."""
    assignments: dict[str, str] = {}
    while True:
        name = stream.name_part("a column name")[0]
        stream.expect_punct("=", "'=' after the column")
        start = index = stream.index
        depth = 0
        while True:
            token = stream.tokens[index]
            punct = token.value if token.kind is Kind.PUNCT else ""
            if token.kind is Kind.END or (depth == 0 and punct in (",", ";")):
                break
            if depth == 0 and _at_flag(stream, index):
                break
            if punct in ("(", "{"):
                depth += 1
            elif punct in (")", "}"):
                depth -= 1
                if depth < 0:
                    break
            index += 1
        if index == start or depth != 0:
            raise stream.error(f"an expression for {name}", stream.tokens[index])
        stream.index = index
        assignments[name] = stream.raw(start, index)
        if not stream.accept_punct(","):
            return assignments


def _source(stream: TokenStream, arguments: dict[str, Any]) -> object:
    """``INFILE '<path>'``, ``INFILE {...}`` or ``URL s3option {...}``."""
    if stream.accept_keyword("URL"):
        stream.expect_keyword("S3OPTION")
        return _braces(stream, "'{' opening the s3option", None)
    stream.expect_keyword("INFILE", expected="INFILE or URL s3option")
    if not stream.at_punct("{"):
        return stream.string("a quoted file path or {'filepath'=...}")
    token = stream.peek()
    entries = _braces(stream, "'{'", _INFILE_KEYS)
    if "filepath" not in entries:
        raise stream.error("'filepath' among the keys", token)
    for key, allowed in (("format", FORMATS), ("jsondata", JSON_DATA)):
        value = entries.get(key)
        if value is not None and value.lower() not in allowed:
            raise stream.error(f"{key} {choices(map(repr, allowed))}", token)
        if value is not None:
            arguments[key] = value.lower()
    return entries["filepath"]


def parse_load(stream: TokenStream) -> LoadData:
    """``LOAD DATA ...``, from after ``LOAD``."""
    stream.expect_keyword("DATA")
    arguments: dict[str, Any] = {}
    if stream.accept_keyword("LOCAL"):
        arguments["local"] = True
    source = _source(stream, arguments)
    stream.expect_words("INTO", "TABLE")
    schema, name = stream.qualified_name("a table name")
    if stream.accept_words("CHARACTER", "SET"):
        token = stream.next()
        if token.kind not in (Kind.WORD, Kind.STRING) or not token.value:
            raise stream.error("a character set name", token)
        arguments["character_set"] = token.value
    if stream.accept_keyword("FIELDS", "COLUMNS"):
        fields_clause(stream, arguments)
    if stream.accept_keyword("LINES"):
        lines_clause(stream, arguments)
    if stream.accept_keyword("IGNORE"):
        token = stream.next()
        if token.kind is not Kind.NUMBER or not token.value.isdigit():
            raise stream.error("a number of lines", token)
        stream.expect_keyword("LINES", "ROWS")
        arguments["ignore_lines"] = int(token.value)
    if stream.accept_punct("("):
        arguments["columns"] = _columns(stream)
    if stream.accept_keyword("SET"):
        arguments["set"] = _assignments(stream)
    for flag in _FLAGS:
        if stream.accept_keyword(flag):
            token = stream.peek()
            value = stream.string(f"'TRUE' or 'FALSE' after {flag}").upper()
            if value not in ("TRUE", "FALSE"):
                raise stream.error(f"'TRUE' or 'FALSE' after {flag}", token)
            arguments[flag.lower()] = value == "TRUE"
    stream.expect_end()
    return LoadData(sqlalchemy.table(name, schema=schema), source, **arguments)
