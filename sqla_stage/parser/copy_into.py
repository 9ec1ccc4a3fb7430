"""The parser of ``COPY INTO``, in both directions.

``COPY INTO <location> FROM <table | (query)> ...`` unloads; ``COPY INTO <table> [(cols)]
[FROM <location | (query)>] ...`` loads (with no FROM, from the table's stage ``@%table``).
The location is ``@stage/path``, ``'@stage/path 1/'`` or a URL, quoted or not
(``s3://bucket/path/``). Credentials may stand right after the target location
(Databend's ``CONNECTION = (...)`` before ``FROM``) or after the source (Snowflake);
options come in any order, separated by spaces, commas or newlines. A ``(query)`` becomes
``sqlalchemy.text()`` and ``PARTITION BY <expr>`` a ``literal_column()``, both as written.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy
from sqlalchemy.sql.elements import TextClause

from sqla_stage.connections import NamedConnection
from sqla_stage.copy import CopyInto
from sqla_stage.formats import FormatSpec
from sqla_stage.options import LOAD_OPTIONS, UNLOAD_OPTIONS, OptionSpec, OptionValue
from sqla_stage.parser.lexer import Kind
from sqla_stage.parser.options import read_credentials, read_encryption, read_file_format, read_key
from sqla_stage.parser.options import read_option as read_copy_option
from sqla_stage.parser.stream import TokenStream, choices
from sqla_stage.stage import Location, Stage

_ACCESS_KEYS = ("STORAGE_INTEGRATION", "CREDENTIALS", "CONNECTION", "ENCRYPTION")


def query_text(text: str) -> TextClause:
    """SQL text as ``sqlalchemy.text()``, every ``:`` escaped so no bind parameter appears."""
    return sqlalchemy.text(text.replace(":", "\\:"))


class _Copy:
    """What a COPY statement gives besides its target and source."""

    def __init__(self, stream: TokenStream, specs: Mapping[str, OptionSpec]) -> None:
        self.stream = stream
        self.specs = specs
        self.keys = tuple(name.upper() for name in specs)
        self.credentials: dict[str, str] = {}
        self.connection: NamedConnection | None = None
        self.encryption: dict[str, str] | None = None
        self.storage_integration: str | None = None
        self.file_format: FormatSpec | None = None
        self.partition_by: str | None = None
        self.options: dict[str, OptionValue] = {}
        self.seen: set[str] = set()

    def once(self, key: str) -> None:
        token = self.stream.peek()
        if key in self.seen:
            raise self.stream.error(f"each clause once, not a second {token.value}", token)
        self.seen.add(key)

    def at_access(self) -> bool:
        return self.stream.peek().upper in _ACCESS_KEYS

    def read_access(self) -> None:
        """STORAGE_INTEGRATION, CREDENTIALS / CONNECTION or ENCRYPTION."""
        stream = self.stream
        upper = stream.peek().upper
        self.once("CREDENTIALS" if upper == "CONNECTION" else upper)
        read_key(stream, _ACCESS_KEYS, choices(_ACCESS_KEYS))
        if upper == "STORAGE_INTEGRATION":
            self.storage_integration = stream.name_part("a storage integration name")[0]
        elif upper == "ENCRYPTION":
            self.encryption = read_encryption(stream)
        else:
            self.connection = read_credentials(stream, self.credentials)

    def at_clause_key(self, index: int) -> bool:
        """Whether a clause of this statement starts at token ``index`` (for PARTITION BY)."""
        stream = self.stream
        token = stream.tokens[index]
        after = stream.tokens[min(index + 1, len(stream.tokens) - 1)]
        is_equals = after.kind is Kind.PUNCT and after.value == "="
        if token.upper == "HEADER" and "HEADER" in self.keys:
            ends = after.kind is Kind.END or (after.kind is Kind.PUNCT and after.value == ";")
            return is_equals or ends
        return is_equals and token.upper in (*_ACCESS_KEYS, "FILE_FORMAT", *self.keys)

    def read_partition(self) -> None:
        """``PARTITION BY <expr>``: the expression runs to the next clause."""
        stream = self.stream
        self.once("PARTITION")
        stream.expect_words("PARTITION", "BY")
        start = index = stream.index
        depth = 0
        while True:
            token = stream.tokens[index]
            punct = token.value if token.kind is Kind.PUNCT else ""
            if token.kind is Kind.END or (depth == 0 and punct == ";"):
                break
            if punct in ("(", "{"):
                depth += 1
            elif punct in (")", "}"):
                depth -= 1
            elif depth == 0 and self.at_clause_key(index):
                break
            index += 1
        if depth < 0 or index == start:
            raise stream.error("an expression after PARTITION BY", stream.tokens[index])
        stream.index = index
        self.partition_by = stream.raw(start, index)

    def read_clauses(self, *, unload: bool) -> None:
        """The clauses after the source, to the end of the statement."""
        stream = self.stream
        while not stream.at_end():
            stream.accept_punct(",")
            token = stream.peek()
            if self.at_access():
                self.read_access()
            elif unload and token.upper == "PARTITION" and stream.at_keyword("BY", offset=1):
                self.read_partition()
            elif token.upper == "FILE_FORMAT":
                self.once("FILE_FORMAT")
                read_key(stream, ("FILE_FORMAT",), "FILE_FORMAT")
                self.file_format, header = read_file_format(stream)
                if header is not None:
                    if not unload:
                        raise stream.error("OUTPUT_HEADER only in an unload", token)
                    self.set_header(header)
            elif token.upper == "HEADER" and unload and not stream.at_punct("=", offset=1):
                stream.next()
                self.set_header(True)
            else:
                extra = ", PARTITION BY" if unload else ""
                what = (
                    f"a COPY option (FILE_FORMAT, {', '.join(_ACCESS_KEYS)}{extra}, "
                    f"{', '.join(self.keys)}) or the end of the statement"
                )
                if token.upper == "HEADER" and "header" in self.options:
                    raise stream.error("HEADER once (OUTPUT_HEADER is HEADER)")
                read_copy_option(stream, self.specs, self.options, what)
        stream.expect_end()

    def set_header(self, value: bool) -> None:
        if "header" in self.options:
            raise self.stream.error("HEADER once (OUTPUT_HEADER is HEADER)")
        self.options["header"] = value

    def build(self, target: object, source: object, columns: tuple[str, ...] | None) -> CopyInto:
        return CopyInto(
            target,
            source,
            file_format=self.file_format,
            credentials=self.connection or self.credentials or None,
            encryption=self.encryption,
            storage_integration=self.storage_integration,
            partition_by=None
            if self.partition_by is None
            else sqlalchemy.literal_column(self.partition_by),
            columns=columns,
            **self.options,
        )


def _location_or_url(stream: TokenStream, what: str) -> Location:
    if stream.at_location():
        return stream.location()
    token = stream.peek()
    if token.kind is Kind.STRING and token.value:
        stream.next()
        return token.value
    if stream.at_bare_url():
        return stream.bare_url()
    raise stream.error(what)


def parse_copy(stream: TokenStream) -> CopyInto:
    """``COPY INTO ...``, from after ``COPY``."""
    stream.expect_keyword("INTO")
    token = stream.peek()
    if stream.at_location() or token.kind is Kind.STRING or stream.at_bare_url():
        return _unload(stream)
    if token.kind not in (Kind.WORD, Kind.QUOTED):
        raise stream.error("a table name, a stage location (@stage/path) or a quoted URL")
    return _load(stream)


def _unload(stream: TokenStream) -> CopyInto:
    target = _location_or_url(stream, "a stage location or a quoted URL")
    copy = _Copy(stream, UNLOAD_OPTIONS)
    while copy.at_access():
        copy.read_access()
    expected = "FROM" if copy.seen else f"{choices(_ACCESS_KEYS)} or FROM"
    stream.expect_keyword("FROM", expected=expected)
    source: object
    if stream.at_punct("("):
        source = query_text(stream.parenthesized_text("( query )"))
    else:
        schema, name = stream.qualified_name("a table name or ( query )")
        source = sqlalchemy.table(name, schema=schema)
    copy.read_clauses(unload=True)
    return copy.build(target, source, None)


def _load(stream: TokenStream) -> CopyInto:
    schema, name = stream.qualified_name("a table name")
    columns = None
    if stream.accept_punct("("):
        names = [stream.name_part("a column name")[0]]
        while stream.accept_punct(","):
            names.append(stream.name_part("a column name")[0])
        stream.expect_punct(")", "',' or ')'")
        columns = tuple(names)
    source: object
    if not stream.accept_keyword("FROM"):  # Snowflake: no FROM loads the table's own stage
        source = Stage.table(name, schema=schema) / ""
    elif stream.at_punct("("):
        source = query_text(stream.parenthesized_text("( query )"))
    else:
        source = _location_or_url(stream, "a stage location, a quoted URL or ( query )")
    copy = _Copy(stream, LOAD_OPTIONS)
    copy.read_clauses(unload=False)
    return copy.build(sqlalchemy.table(name, schema=schema), source, columns)
