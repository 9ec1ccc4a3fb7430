r"""Recognise a stage statement in the ``do_execute`` event and run it.

A statement is a stage statement when SQLAlchemy compiled one of the package's
constructs (the construct itself is used, so secrets never need to be in the SQL text),
or when its text starts the way one of the documented statements does (``COPY INTO``,
``LIST @``, ``CREATE STAGE``, ... in any case), in which case [sqla_stage.parse][sqla_stage.parse]
reads it. Queries that read staged files (``FROM @stage/path``, ``list_stage(...)``) are
rewritten into DuckDB SQL; MatrixOne's ``INTO OUTFILE`` and Snowflake's
``GET_PRESIGNED_URL`` are parsed like the statements. MatrixOne's ``LOAD DATA`` and
``INTO OUTFILE`` text is read with MatrixOne's string literals (a backslash escapes:
``'\t'`` is a tab), whatever the dialect. Everything else goes to DuckDB untouched, at the
cost of a few regular-expression matches. Leading comments are skipped the way DuckDB
reads them (block comments nest), and words in strings (``'...'``, ``E'...'``,
``$$...$$``, ``$tag$...$tag$``), quoted identifiers and comments never make text a stage
statement: ``INSERT INTO notes VALUES ($$from @inbox into outfile$$)`` reaches DuckDB as
written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqla_stage.connections import (
    CreateConnection,
    DescribeConnection,
    DropConnection,
    ShowConnections,
)
from sqla_stage.copy import CopyInto
from sqla_stage.ddl import AlterStage, CreateFileFormat, CreateStage, DropFileFormat, DropStage
from sqla_stage.errors import StageArgumentError, StageParseError, StageProgrammingError
from sqla_stage.files import DescribeStage, Get, ListFiles, Presign, Put, RemoveFiles, ShowStages
from sqla_stage.load_data import LoadData
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.parser.lexer import Kind, skip_comments, tokenize
from sqla_stage.runtime import files as file_commands
from sqla_stage.runtime.catalog import connections
from sqla_stage.runtime.catalog import statements as catalog
from sqla_stage.runtime.catalog.table_history import TABLE_DDL, ddl_statements, follow, snapshot
from sqla_stage.runtime.engine.after_commit import queue_for, refuse_savepoint
from sqla_stage.runtime.engine.context import StageContext, stage_label
from sqla_stage.runtime.engine.reflection import run_fixed_reflection
from sqla_stage.runtime.engine.results import Query, Rows, emit
from sqla_stage.runtime.engine.settings import RuntimeSettings
from sqla_stage.runtime.load import load_data
from sqla_stage.runtime.load import statement as load
from sqla_stage.runtime.queries import rewrite as queries
from sqla_stage.runtime.queries.outfile import write_outfile
from sqla_stage.runtime.storage.errors import storage_failures
from sqla_stage.runtime.unload import statement as unload
from sqla_stage.stage import Stage, StagePath

Handler = Callable[[StageContext, Any], Rows | Query]

HANDLERS: dict[type[Any], Handler] = {
    CreateStage: catalog.create_stage,
    AlterStage: catalog.alter_stage,
    DropStage: catalog.drop_stage,
    DescribeStage: catalog.describe_stage,
    ShowStages: catalog.show_stages,
    CreateFileFormat: catalog.create_file_format,
    DropFileFormat: catalog.drop_file_format,
    ListFiles: file_commands.list_files,
    RemoveFiles: file_commands.remove_files,
    Presign: file_commands.presign,
    Put: file_commands.put,
    Get: file_commands.get,
    SelectIntoOutfile: write_outfile,
    LoadData: load_data.run,
    CreateConnection: connections.create_connection,
    DropConnection: connections.drop_connection,
    DescribeConnection: connections.describe_connection,
    ShowConnections: connections.show_connections,
}

_STAGE_STATEMENT = re.compile(
    r"""(?:create|drop)\s+(?:or\s+(?:replace|alter)\s+)?(?:temp(?:orary)?\s+)?(?:stage|file\s+format)\b
    | (?:create\s+(?:or\s+replace\s+)?|drop\s+)connection\b
    | alter\s+stage\b
    | desc(?:ribe)?\s+(?:stage|connection)\b
    | show\s+(?:stages|connections)\b
    | copy\s+into\b
    | (?:list|ls|remove|rm)\s+'?@
    | presign\b
    | put\s
    | get\s+'?@
    | load\s+data\b
    """,
    re.I | re.X,
)
_PARSED_QUERY = re.compile(r"into\s+outfile|get_presigned_url", re.I)
#: Tokens whose words are not SQL: strings and quoted identifiers.
_NOT_CODE = (Kind.STRING, Kind.QUOTED)
_QUERY_HINT = re.compile(r"@|list_stage|stage_list|mo_stages|load_file|save_file", re.I)
#: MatrixOne's LOAD DATA and INTO OUTFILE text is read with MatrixOne's strings (a
#: backslash escapes: ``LINES TERMINATED BY '\r\n'``), as any text is under a stage_dialect.
_LOAD_DATA = re.compile(r"load\s+data\b", re.I)
_INTO_OUTFILE = re.compile(r"into\s+outfile", re.I)
#: Snowflake's defaults of a table stage, which the runtime does not keep.
_TABLE_STAGE_DEFAULTS = re.compile(
    r"alter\s+table\s+(?:if\s+exists\s+)?[\w.\"]+\s+set\s+stage_(file_format|copy_options)\b",
    re.I,
)


#: How messages name each statement.
_VERBS: dict[type[Any], str] = {
    Put: "PUT",
    Get: "GET",
    ListFiles: "LIST",
    RemoveFiles: "REMOVE",
    Presign: "PRESIGN",
    SelectIntoOutfile: "INTO OUTFILE",
    LoadData: "LOAD DATA",
    CreateStage: "CREATE STAGE",
    AlterStage: "ALTER STAGE",
}
#: The user and password of a URL (``https://user:secret@host/``), never in a message.
_URL_USER = re.compile(r"(?<=//)[^/@]*@")


def statement_label(element: Any) -> str:
    """``PUT @s/in/``, ``COPY INTO @~/out/``: the statement and its stage, for messages."""
    verb = _VERBS.get(type(element)) or type(element).__name__
    if isinstance(element, CopyInto):
        table = getattr(element.table, "name", None)
        verb = "COPY INTO" if element.is_unload or table is None else f"COPY INTO {table} FROM"
    location = getattr(element, "location", None) or getattr(element, "stage", None)
    if isinstance(location, Stage):
        location = StagePath(location)
    if isinstance(location, StagePath):
        path = f"/{location.path}" if location.path else ""
        return f"{verb} {stage_label(location.stage)}{path}"
    if isinstance(location, str):
        return f"{verb} {_URL_USER.sub('***@', location)}"
    return verb


def run_construct(context: StageContext, element: Any) -> Rows | Query:
    """Run one parsed or compiled stage construct and return its result."""
    if isinstance(element, CopyInto):
        return unload.run(context, element) if element.is_unload else load.run(context, element)
    return HANDLERS[type(element)](context, element)


def _compiled_construct(context: Any) -> Any:
    compiled = getattr(context, "compiled", None)
    statement = getattr(compiled, "statement", None)
    if isinstance(statement, (CopyInto, *HANDLERS)):
        return statement
    return None


def _check_encoding(text: str) -> None:
    """Refuse stage SQL DuckDB cannot be sent: text that is not UTF-8 (a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise StageProgrammingError(
            f"the statement's text is not valid UTF-8 (at offset {error.start})"
        ) from None


def statement_body(statement: str) -> str:
    """``statement`` without its leading whitespace and comments (nested, as DuckDB reads them)."""
    return statement[skip_comments(statement) :]


def in_code(pattern: re.Pattern[str], text: str, backslash_escapes: bool = False) -> bool:
    """Whether ``pattern`` is found in ``text`` outside its strings, quoted names and comments.

    Text the stage tokenizer cannot split (an unterminated string) counts as found: the
    stage parser then reports on it.
    """
    if pattern.search(text) is None:
        return False
    try:
        tokens = tokenize(text, backslash_escapes=backslash_escapes)
    except StageParseError:
        return True
    code = " ".join(token.value for token in tokens if token.kind not in _NOT_CODE)
    return pattern.search(code) is not None


def is_stage_text(text: str, stage_dialect: str | None = None) -> bool:
    """Whether the runtime parses ``text`` (a statement body) as a stage statement."""
    if _STAGE_STATEMENT.match(text):
        return True
    escapes = bool(stage_dialect) or _INTO_OUTFILE.search(text) is not None
    return in_code(_PARSED_QUERY, text, escapes)


def _parsed(settings: RuntimeSettings, context: Any, text: str) -> Any:
    """The construct of stage SQL text; None for text that is not a stage statement.

    Raises:
        StageProgrammingError: text the runtime cannot run (not UTF-8, a table's stage
            defaults, or stage SQL that does not parse).
    """
    stage_text = is_stage_text(text, settings.stage_dialect)
    if stage_text or _QUERY_HINT.search(text):
        _check_encoding(text)
    if defaults := _TABLE_STAGE_DEFAULTS.match(text):
        raise StageProgrammingError(
            f"STAGE_{defaults.group(1).upper()} of a table (Snowflake's defaults for its "
            "table stage) is not supported by sqla_stage: give the file format and copy "
            "options in each COPY INTO"
        )
    if not stage_text:
        return None
    from sqla_stage.parser import parse

    try:
        # A warehouse's text reads its strings as the warehouse does: '\\' is one backslash.
        mysql = _LOAD_DATA.match(text) or _INTO_OUTFILE.search(text)
        escapes = True if mysql or settings.stage_dialect else None
        return parse(text, dialect=context.dialect, backslash_escapes=escapes)
    except (StageArgumentError, StageParseError) as error:  # a driver's ProgrammingError
        raise StageProgrammingError(str(error)) from error


def _run_query(stage_context: StageContext, cursor: Any, text: str) -> bool:
    """Run a query over staged files (`queries.rewrite`); whether ``text`` was one."""
    if _QUERY_HINT.search(text):
        with storage_failures("a query over staged files"):
            result = queries.rewrite(stage_context, text)
        if result is not None:
            emit(cursor, result)
            return True
    return False


def _execute(cursor: Any, statement: str, parameters: Any) -> None:
    """Run ``statement`` as SQLAlchemy would have (``do_execute`` / ``_no_params``)."""
    if parameters is None:
        cursor.execute(statement)
    else:
        cursor.execute(statement, parameters)


def execute_hook(
    settings: RuntimeSettings, cursor: Any, statement: str, parameters: Any, context: Any
) -> bool:
    """The ``do_execute`` listener: run a stage statement and say whether it did."""
    if run_fixed_reflection(cursor, statement, parameters):
        return True
    element = _compiled_construct(context)
    text = statement_body(statement)
    refuse_savepoint(text, context)
    if element is None:
        element = _parsed(settings, context, text)
    stage_context = StageContext(settings, cursor, parameters, queue_for(context))
    try:
        if element is not None:
            with storage_failures(statement_label(element)):
                ran = run_construct(stage_context, element)
            emit(cursor, ran)
            return True
        # A table created, dropped or renamed takes its load history along
        # (`catalog.table_history`).
        pieces = ddl_statements(statement) if in_code(TABLE_DDL, text) else None
        if pieces is None:
            return _run_query(stage_context, cursor, text)
        if len(pieces) == 1 or parameters:
            before = snapshot(cursor)
            if not _run_query(stage_context, cursor, text):
                _execute(cursor, statement, parameters)
            follow(cursor, before)
            return True
        for piece, ddl in pieces:
            earlier = snapshot(cursor) if ddl else None
            cursor.execute(piece)
            if earlier is not None:
                follow(cursor, earlier)
        return True
    finally:
        stage_context.close()
