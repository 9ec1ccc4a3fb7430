"""Parsers of the stage statements other than COPY and SELECT.

They are CREATE / ALTER / DROP / DESC STAGE, SHOW STAGES, CREATE / DROP FILE FORMAT, LIST, REMOVE,
PRESIGN, PUT and GET; the CONNECTION statements are in `connections`.

Each function starts after the statement's first keyword and reads to the end of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqla_stage.connections import (
    CreateConnection,
    DescribeConnection,
    DropConnection,
    NamedConnection,
    ShowConnections,
)
from sqla_stage.ddl import AlterStage, CreateFileFormat, CreateStage, DropFileFormat, DropStage
from sqla_stage.errors import StageArgumentError
from sqla_stage.files import DescribeStage, Get, ListFiles, Presign, Put, RemoveFiles, ShowStages
from sqla_stage.formats import FormatSpec
from sqla_stage.namespaces import join_namespace, split_namespace
from sqla_stage.options import (
    GET_OPTIONS,
    PUT_OPTIONS,
    STAGE_COPY_OPTIONS,
    OptionSpec,
    OptionValue,
)
from sqla_stage.parser import connections, stage_endpoints
from sqla_stage.parser.lexer import Kind
from sqla_stage.parser.options import (
    FormatEntries,
    read_credentials,
    read_encryption,
    read_file_format,
    read_format_entry,
    read_key,
    read_option,
    read_value,
)
from sqla_stage.parser.stream import TokenStream, choices
from sqla_stage.stage import DIRECTORY_OPTIONS, Stage, StageKind

_STAGE_PARAMS = (
    "URL",
    "ENDPOINT",
    "ENDPOINT_URL",
    "CREDENTIALS",
    "CONNECTION",
    "ENCRYPTION",
    "STORAGE_INTEGRATION",
    "DIRECTORY",
    "ENABLE",
    "FILE_FORMAT",
    "COPY_OPTIONS",
    "COMMENT",
)
_STAGE_COPY_KEYS = tuple(name.upper() for name in STAGE_COPY_OPTIONS)


def stage_reference(stream: TokenStream) -> Stage:
    """A stage as named in DDL: ``[schema.]name``, or ``@name`` / ``@~`` / ``@%table``.

    A bare ``~`` is the user stage too (``CREATE STAGE ~``, ``DROP STAGE ~``): the
    constructs then refuse it, as Databend does ("user stage is not allowed to be created").
    """
    if _at_bare_user_stage(stream):
        stream.next()
        return Stage.user()
    if stream.at_location():
        token = stream.peek()
        location = stream.location()
        if location.path:
            raise stream.error("a stage without a path", token)
        return location.stage
    schema, name = stream.qualified_name("a stage name")
    return Stage(name, schema=schema)


def _at_bare_user_stage(stream: TokenStream) -> bool:
    """Whether a bare ``~`` (the user stage without its ``@``) is next."""
    token = stream.peek()
    return token.kind is Kind.OTHER and token.value == "~"


def read_bool(stream: TokenStream, what: str) -> bool:
    """``TRUE`` or ``FALSE``."""
    value, token = read_value(stream)
    if not isinstance(value, bool):
        raise stream.error(f"TRUE or FALSE for {what}", token)
    return value


# -- CREATE ---------------------------------------------------------------------------------


def parse_create(stream: TokenStream) -> CreateStage | CreateFileFormat | CreateConnection:
    """``CREATE [OR REPLACE | OR ALTER] [TEMPORARY] STAGE | FILE FORMAT ...`` or ``CONNECTION``."""
    or_replace = stream.accept_words("OR", "REPLACE")
    or_alter = not or_replace and stream.accept_words("OR", "ALTER")
    if not or_alter and stream.accept_keyword("CONNECTION"):
        return connections.parse_create_connection(stream, or_replace)
    temporary = stream.accept_keyword("TEMPORARY", "TEMP") is not None
    mode = _Mode(or_replace, or_alter, temporary)
    if stream.accept_keyword("STAGE"):
        return _create_stage(stream, mode)
    if stream.accept_words("FILE", "FORMAT"):
        return _create_file_format(stream, mode)
    if temporary or or_alter:
        raise stream.error("STAGE or FILE FORMAT")
    raise stream.error("OR REPLACE, OR ALTER, TEMPORARY, CONNECTION, STAGE or FILE FORMAT")


class _Mode:
    """The flags between CREATE and the object's kind."""

    def __init__(self, or_replace: bool, or_alter: bool, temporary: bool) -> None:
        self.or_replace = or_replace
        self.or_alter = or_alter
        self.temporary = temporary


class _StageParams:
    """What CREATE STAGE gives after the stage's name."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.credentials: dict[str, str] = {}
        self.encryption: dict[str, str] | None = None
        self.storage_integration: str | None = None
        self.directory: bool | None = None
        self.directory_options: dict[str, bool | str] = {}
        self.file_format: FormatSpec | None = None
        self.copy_options: dict[str, OptionValue] = {}
        self.comment: str | None = None
        self.connection: NamedConnection | None = None
        #: MatrixOne's URL = "endpoint"='...' and its CREDENTIALS' "bucket", "filepath", ...
        self.endpoint: str | None = None
        self.stage_keys: dict[str, str] = {}

    def given_credentials(self, stream: TokenStream) -> dict[str, str] | NamedConnection | None:
        """The credentials, or the connection ``CONNECTION_NAME`` named (not both)."""
        if self.connection is not None and self.credentials:
            raise stream.error("CONNECTION_NAME or credentials (an ENDPOINT too), not both")
        return self.connection or self.credentials or None

    def read(self, stream: TokenStream, seen: set[str]) -> None:
        """One parameter."""
        if stream.peek().upper in _STAGE_COPY_KEYS:
            read_option(stream, STAGE_COPY_OPTIONS, self.copy_options, "a copy option")
            return
        what = f"a stage parameter ({choices(_STAGE_PARAMS)}) or the end of the statement"
        if stream.at_keyword("COMMENT") and stream.peek(1).kind is Kind.STRING:
            key = stream.next()  # MatrixOne writes COMMENT 'text', without '='
        else:
            key = read_key(stream, _STAGE_PARAMS, what)
        upper = key.upper
        if upper in seen or (upper in ("DIRECTORY", "ENABLE") and self.directory is not None):
            raise stream.error(f"each parameter once, not a second {key.value}", key)
        seen.add(upper)
        if upper == "URL" and stage_endpoints.at_endpoint_key(stream):
            self.endpoint = stage_endpoints.read_endpoint(stream)
            seen.add("ENDPOINT")
        elif upper == "URL":
            self.url = stream.string("the URL as a quoted string")
        elif upper in ("ENDPOINT", "ENDPOINT_URL"):
            if "endpoint_url" in self.credentials:
                raise stream.error("one endpoint, not a second", key)
            self.credentials["endpoint_url"] = stream.string("the endpoint as a quoted string")
        elif upper in ("CREDENTIALS", "CONNECTION"):
            braces = stream.at_punct("{")
            self.connection = read_credentials(
                stream, self.credentials, braces=braces, stage_keys=self.stage_keys
            )
        elif upper == "ENCRYPTION":
            self.encryption = read_encryption(stream)
        elif upper == "STORAGE_INTEGRATION":
            self.storage_integration = stream.name_part("a storage integration name")[0]
        elif upper == "DIRECTORY":
            self._directory(stream)
        elif upper == "ENABLE":
            self.directory = read_bool(stream, "ENABLE")
        elif upper == "FILE_FORMAT":
            token = stream.peek()
            self.file_format, header = read_file_format(stream)
            if header is not None:
                raise stream.error("a stage file format without OUTPUT_HEADER", token)
        elif upper == "COPY_OPTIONS":
            stream.expect_punct("(", "'(' opening the copy options")
            while not stream.accept_punct(")"):
                stream.accept_punct(",")
                if not stream.at_punct(")"):
                    read_option(stream, STAGE_COPY_OPTIONS, self.copy_options, "a copy option")
        else:
            self.comment = stream.string("the comment as a quoted string")

    def located(self) -> None:
        """MatrixOne's ``URL = "endpoint"='...'`` form as a URL (`stage_endpoints.located`)."""
        self.url = stage_endpoints.located(
            self.url, self.endpoint, self.stage_keys, self.credentials
        )

    def _directory(self, stream: TokenStream) -> None:
        """``DIRECTORY = (ENABLE = b [AUTO_REFRESH = b] ...)``, Snowflake's settings."""
        stream.expect_punct("(", "'(' opening the directory settings")
        keys = ("ENABLE", *(name.upper() for name in DIRECTORY_OPTIONS))
        while not stream.accept_punct(")"):
            stream.accept_punct(",")
            if stream.accept_punct(")"):
                break
            key = read_key(stream, keys, f"a directory setting ({choices(keys)}) or ')'")
            name = key.upper.lower()
            if name in self.directory_options or (name == "enable" and self.directory is not None):
                raise stream.error(f"each directory setting once, not a second {key.value}", key)
            if name == "enable":
                self.directory = read_bool(stream, "ENABLE")
            elif DIRECTORY_OPTIONS[name] is bool:
                self.directory_options[name] = read_bool(stream, key.value)
            else:
                self.directory_options[name] = stream.string(f"{key.value} as a quoted string")
        if self.directory is None:
            raise stream.error("ENABLE = TRUE or FALSE in the directory settings")


def _create_stage(stream: TokenStream, mode: _Mode) -> CreateStage:
    or_replace, temporary = mode.or_replace, mode.temporary
    if_not_exists = stream.accept_words("IF", "NOT", "EXISTS")
    target = stage_reference(stream)
    if target.kind is not StageKind.INTERNAL:
        return CreateStage(target)  # raises: the user or a table stage cannot be created
    params, seen = _StageParams(), set[str]()
    while not stream.at_end():
        stream.accept_punct(",")
        params.read(stream, seen)
    stream.expect_end()
    params.located()
    stage = Stage(
        target.name,
        schema=target.schema,
        url=params.url,
        credentials=params.given_credentials(stream),
        encryption=params.encryption,
        storage_integration=params.storage_integration,
        file_format=params.file_format,
        copy_options=params.copy_options,
        directory=params.directory,
        directory_options=params.directory_options,
        comment=params.comment,
        temporary=temporary,
    )
    return CreateStage(
        stage, if_not_exists=if_not_exists, or_replace=or_replace, or_alter=mode.or_alter
    )


def _create_file_format(stream: TokenStream, mode: _Mode) -> CreateFileFormat:
    if_not_exists = stream.accept_words("IF", "NOT", "EXISTS")
    schema, name = stream.qualified_name("a file format name")
    entries = FormatEntries(stream.peek())
    comment = None
    while not stream.at_end():
        stream.accept_punct(",")
        if stream.at_keyword("COMMENT") and comment is None:
            read_key(stream, ("COMMENT",), "COMMENT")
            comment = stream.string("the comment as a quoted string")
        else:
            read_format_entry(stream, entries)
    stream.expect_end()
    if entries.header is not None:
        raise stream.error("a format option (OUTPUT_HEADER belongs to COPY)", entries.header[1])
    if entries.name is not None:
        raise stream.error("TYPE = CSV, JSON or PARQUET", entries.keys["FORMAT_NAME"])
    return CreateFileFormat(
        name,
        entries.build(stream),
        schema=schema,
        if_not_exists=if_not_exists,
        or_replace=mode.or_replace,
        or_alter=mode.or_alter,
        temporary=mode.temporary,
        comment=comment,
    )


# -- ALTER ------------------------------------------------------------------------------------

#: The stage property each parameter of ALTER STAGE ... SET changes.
_ALTERED = {
    "URL": "url",
    "ENDPOINT": "credentials",
    "ENDPOINT_URL": "credentials",
    "CREDENTIALS": "credentials",
    "CONNECTION": "credentials",
    "ENCRYPTION": "encryption",
    "STORAGE_INTEGRATION": "storage_integration",
    "DIRECTORY": "directory",
    "ENABLE": "directory",
    "FILE_FORMAT": "file_format",
    "COPY_OPTIONS": "copy_options",
    "COMMENT": "comment",
}


def parse_alter(stream: TokenStream) -> AlterStage:
    """``ALTER STAGE [IF EXISTS] name SET ... | RENAME TO new_name | REFRESH [SUBPATH = '...']``."""
    stream.expect_keyword("STAGE")
    if_exists = stream.accept_words("IF", "EXISTS")
    stage = stage_reference(stream)
    if stream.accept_words("RENAME", "TO"):
        schema, name = stream.qualified_name("the stage's new name")
        stream.expect_end()
        return AlterStage(stage, if_exists=if_exists, rename_to=Stage(name, schema=schema))
    if stream.accept_keyword("REFRESH"):
        subpath = None
        if stream.at_keyword("SUBPATH"):
            read_key(stream, ("SUBPATH",), "SUBPATH")
            subpath = stream.string("the subpath as a quoted string")
        stream.expect_end("SUBPATH or the end of the statement" if subpath is None else "the end")
        return AlterStage(stage, if_exists=if_exists, refresh=True, subpath=subpath)
    stream.expect_keyword("SET", expected="SET, RENAME TO or REFRESH")
    params, seen = _StageParams(), set[str]()
    if stream.at_end():
        raise stream.error(f"a stage parameter ({choices(_STAGE_PARAMS)})")
    while not stream.at_end():
        stream.accept_punct(",")
        params.read(stream, seen)
    stream.expect_end()
    params.located()
    changed = {_ALTERED[key] for key in seen} | ({"copy_options"} if params.copy_options else set())
    changes = {name: getattr(params, name) for name in changed}
    if "credentials" in changes:
        changes["credentials"] = params.given_credentials(stream)
    return AlterStage(stage, if_exists=if_exists, **changes)


# -- DROP, DESC, SHOW -------------------------------------------------------------------------


def parse_drop(stream: TokenStream) -> DropStage | DropFileFormat | DropConnection:
    """``DROP STAGE | FILE FORMAT | CONNECTION [IF EXISTS] name``."""
    if stream.accept_keyword("CONNECTION"):
        return connections.parse_drop_connection(stream)
    if stream.accept_keyword("STAGE"):
        if_exists = stream.accept_words("IF", "EXISTS")
        stage = stage_reference(stream)
        stream.expect_end()
        return DropStage(stage, if_exists=if_exists)
    if stream.accept_words("FILE", "FORMAT"):
        if_exists = stream.accept_words("IF", "EXISTS")
        schema, name = stream.qualified_name("a file format name")
        stream.expect_end()
        return DropFileFormat(name, schema=schema, if_exists=if_exists)
    raise stream.error("CONNECTION, STAGE or FILE FORMAT")


def parse_describe(stream: TokenStream) -> DescribeStage | DescribeConnection:
    """``DESC STAGE name`` (also ``DESCRIBE``, and ``@~`` / ``@%table``) or ``DESC CONNECTION``."""
    if stream.accept_keyword("CONNECTION"):
        return connections.parse_describe_connection(stream)
    stream.expect_keyword("STAGE", expected="STAGE or CONNECTION")
    if _at_bare_user_stage(stream):
        raise StageArgumentError(
            "DESC STAGE ~: a bare ~ is not a stage name (Databend does not accept it either); "
            "the user stage is described as DESC STAGE @~"
        )
    stage = stage_reference(stream)
    stream.expect_end()
    return DescribeStage(stage)


def parse_show(stream: TokenStream) -> ShowStages | ShowConnections:
    """``SHOW STAGES [LIKE 'pattern'] [IN ...]`` or ``SHOW CONNECTIONS``."""
    if stream.accept_keyword("CONNECTIONS"):
        return connections.parse_show_connections(stream)
    stream.expect_keyword("STAGES", expected="STAGES or CONNECTIONS")
    like = None
    if stream.accept_keyword("LIKE"):
        like = stream.string("a LIKE pattern as a quoted string")
    if stream.accept_keyword("IN"):
        return _show_in(stream, like)
    stream.expect_end("LIKE, IN or the end of the statement" if like is None else "IN or the end")
    return ShowStages(like)


def _show_in(stream: TokenStream, like: str | None) -> ShowStages:
    """``ACCOUNT | DATABASE [db] | SCHEMA [[db.]schema] | [db.]schema`` after SHOW ... IN."""
    if stream.accept_keyword("ACCOUNT"):
        stream.expect_end()
        return ShowStages(like, in_account=True)
    if stream.accept_keyword("DATABASE"):
        if stream.at_end():
            stream.expect_end()
            return ShowStages(like, in_database=True)
        database = join_namespace([stream.name_part("a database name")[0]])
        stream.expect_end()
        return ShowStages(like, in_database=database)
    if stream.accept_keyword("SCHEMA") and stream.at_end():
        stream.expect_end()
        return ShowStages(like, in_schema=True)
    start = stream.peek()
    namespace, name = stream.qualified_name("ACCOUNT, DATABASE, SCHEMA or a schema name")
    parts = [*(split_namespace(namespace) if namespace else []), name]
    if len(parts) > 2:
        raise stream.error("a schema name of at most two parts (db.schema)", start)
    stream.expect_end()
    return ShowStages(like, in_schema=join_namespace(parts))


# -- files ------------------------------------------------------------------------------------


def _pattern(stream: TokenStream) -> str | None:
    pattern = None
    if stream.at_keyword("PATTERN"):
        read_key(stream, ("PATTERN",), "PATTERN")
        pattern = stream.string("the pattern as a quoted string")
    stream.expect_end("PATTERN or the end of the statement" if pattern is None else "the end")
    return pattern


def parse_list(stream: TokenStream) -> ListFiles:
    """``LIST @location [PATTERN = '...']`` (also ``LS``)."""
    location = stream.location()
    return ListFiles(location, pattern=_pattern(stream))


def parse_remove(stream: TokenStream) -> RemoveFiles:
    """``REMOVE @location [PATTERN = '...']`` (also ``RM``)."""
    location = stream.location()
    return RemoveFiles(location, pattern=_pattern(stream))


def parse_presign(stream: TokenStream) -> Presign:
    """``PRESIGN [DOWNLOAD | UPLOAD] @location [EXPIRE = seconds]``."""
    method = stream.accept_keyword("DOWNLOAD", "UPLOAD")
    location = stream.location()
    expire = None
    if stream.at_keyword("EXPIRE"):
        read_key(stream, ("EXPIRE",), "EXPIRE")
        value, token = read_value(stream)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise stream.error("a positive number of seconds for EXPIRE", token)
        expire = value
    stream.expect_end("EXPIRE or the end of the statement" if expire is None else "the end")
    return Presign(location, expire=expire, method=method.upper if method else None)


def _local_path(stream: TokenStream) -> str:
    """A local path: ``'file:///tmp/x.csv'`` or unquoted ``file:///tmp/x.csv``.

    BendSQL's ``fs:///tmp/x.csv`` is the same local file (``file:///tmp/x.csv``).
    """
    token = stream.peek()
    if token.kind not in (Kind.STRING, Kind.LOCAL) or not token.value:
        raise stream.error("a local path ('file:///...')")
    stream.next()
    if token.value[:5].lower() == "fs://":
        return "file://" + token.value[5:]
    return token.value


def _transfer_options(
    stream: TokenStream, specs: Mapping[str, OptionSpec]
) -> dict[str, OptionValue]:
    options: dict[str, OptionValue] = {}
    while not stream.at_end():
        stream.accept_punct(",")
        what = f"an option ({choices([name.upper() for name in specs])}) or the end"
        read_option(stream, specs, options, what)
    stream.expect_end()
    return options


def parse_put(stream: TokenStream) -> Put:
    """``PUT 'file://...' @location [PARALLEL = n] [AUTO_COMPRESS = ...] ...``."""
    local = _local_path(stream)
    location = stream.location()
    return Put(local, location, **_transfer_options(stream, PUT_OPTIONS))


def parse_get(stream: TokenStream) -> Get:
    """``GET @location 'file://...' [PARALLEL = n] [PATTERN = '...']``."""
    location = stream.location()
    local = _local_path(stream)
    return Get(location, local, **_transfer_options(stream, GET_OPTIONS))
