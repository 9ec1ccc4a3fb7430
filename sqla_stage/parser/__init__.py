"""Parsing the documented stage SQL of Snowflake, Databend and MatrixOne into constructs.

[parse][sqla_stage.parse] reads one statement and returns the construct the package would build for
it, so ``parse(str(construct.compile(dialect=d)), dialect=d)`` compiles to the same text.
The modules: `lexer` (tokens), `stream`
(the token cursor), `options` (``KEY = value`` lists and engine
spellings), `statements`, `copy_into` and
`selects` and `load_data` (one parser per statement), and
`locations` (``@stage/path`` and ``stage1:/path``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect

from sqla_stage.errors import StageParseError
from sqla_stage.parser.copy_into import parse_copy
from sqla_stage.parser.lexer import Kind, Token, tokenize
from sqla_stage.parser.load_data import parse_load
from sqla_stage.parser.selects import parse_select
from sqla_stage.parser.statements import (
    parse_alter,
    parse_create,
    parse_describe,
    parse_drop,
    parse_get,
    parse_list,
    parse_presign,
    parse_put,
    parse_remove,
    parse_show,
)
from sqla_stage.parser.stream import TokenStream, describe

__all__ = ["parse"]

_STATEMENTS: dict[str, Callable[[TokenStream], Any]] = {
    "CREATE": parse_create,
    "ALTER": parse_alter,
    "DROP": parse_drop,
    "DESC": parse_describe,
    "DESCRIBE": parse_describe,
    "SHOW": parse_show,
    "COPY": parse_copy,
    "LIST": parse_list,
    "LS": parse_list,
    "REMOVE": parse_remove,
    "RM": parse_remove,
    "PRESIGN": parse_presign,
    "PUT": parse_put,
    "GET": parse_get,
    "LOAD": parse_load,
}
_FIRST_WORDS = (
    "CREATE, DROP, DESC, SHOW, COPY, LIST, REMOVE, PRESIGN, PUT, GET, ALTER, LOAD or SELECT"
)


def _backslash_escapes(dialect: Dialect) -> bool:
    """Whether this package's rendering for ``dialect`` escapes backslashes in strings."""
    from sqla_stage.ddl import CreateStage
    from sqla_stage.stage import Stage

    probe = CreateStage(Stage("s", url="s3://b/", comment="\\"))
    try:
        rendered = str(probe.compile(dialect=dialect))
    except Exception:  # a dialect that cannot render it: assume standard SQL strings
        return False
    return "\\\\" in rendered


def parse(
    sql: str,
    dialect: Dialect | None = None,
    *,
    backslash_escapes: bool | None = None,
) -> Any:
    r"""Parse one stage statement into the construct the package builds for it.

    Statements (keywords in any case; an optional trailing ``;``):

    - ``CREATE [OR REPLACE] [TEMPORARY] STAGE [IF NOT EXISTS] name ...`` (also
      ``CREATE STAGE @name``), ``DROP STAGE``, ``DESC[RIBE] STAGE``, ``SHOW STAGES [LIKE]``
      -> [CreateStage][sqla_stage.CreateStage] (holding a [Stage][sqla_stage.Stage]),
      [DropStage][sqla_stage.DropStage], [DescribeStage][sqla_stage.DescribeStage],
      [ShowStages][sqla_stage.ShowStages];
    - ``ALTER STAGE [IF EXISTS] name SET ...`` (the CREATE STAGE parameters) ->
      [AlterStage][sqla_stage.AlterStage];
    - ``CREATE [OR REPLACE] [TEMPORARY] FILE FORMAT ...``, ``DROP FILE FORMAT``;
    - ``COPY INTO`` either way -> [CopyInto][sqla_stage.CopyInto]; a ``( query )`` source
      becomes ``sqlalchemy.text()``, ``PARTITION BY <expr>`` a ``literal_column()``;
    - ``LIST``/``LS``, ``REMOVE``/``RM``, ``PRESIGN [DOWNLOAD|UPLOAD] @loc [EXPIRE = n]``,
      Snowflake's ``SELECT GET_PRESIGNED_URL(@stage, 'path'[, n])``, ``PUT``, ``GET``;
    - ``<query> INTO OUTFILE 'stage1:/file.csv'`` ->
      [SelectIntoOutfile][sqla_stage.SelectIntoOutfile];
    - ``SELECT <list> FROM @stage/path [(FILE_FORMAT => '...', PATTERN => '...')]`` -> a
      ``select()`` of ``literal_column()`` items over [staged][sqla_stage.staged.staged] files;
      ``SELECT * FROM list_stage(location => '@s', pattern => '...')`` ->
      [ListFiles][sqla_stage.ListFiles];
    - MatrixOne's ``LOAD DATA [LOCAL] INFILE ... INTO TABLE ...`` and ``LOAD DATA URL
      s3option {...} INTO TABLE ...`` -> [LoadData][sqla_stage.LoadData] (``SET``
      expressions as written).

    Each engine's spellings map back to the canonical options: Databend's ``CONNECTION``,
    ``TYPE = NDJSON``, ``QUOTE``, ``NULL_DISPLAY``, ``EMPTY_FIELD_AS``, ``OUTPUT_HEADER``,
    ``ON_ERROR = ABORT``; Snowflake's ``URL = 's3compat://...' ENDPOINT = 'host'`` (the URL
    is kept as written, the host becomes the ``endpoint_url`` credential); MatrixOne's
    ``CREDENTIALS = {"access_key_id"='...'}`` and ``ENABLE = TRUE`` (``directory=True``).
    Unquoted identifiers are case-insensitive and come back in lower case; quoted ones
    (``"..."`` or backticks) keep their text.

    The dialect decides how the text is read, so compiled SQL round-trips exactly:

    - with a driver that doubles ``%`` (``pyformat``/``format`` parameter styles: the
      Snowflake, Databend, MySQL and duckdb-engine dialects), every ``%%`` in strings,
      quoted identifiers, words (``SKIP_FILE_10%%``), ``@%%table`` locations and embedded
      queries is read as one ``%``;
    - where the dialect escapes backslashes in strings (Snowflake, Databend, MySQL), a
      backslash in a string escapes the next character (``'a\\b'`` is ``a\b``, ``'\''``
      is ``'``, ``\n`` a newline). Without a dialect, strings are standard SQL (only
      ``''`` is an escape), as in the default ``str(construct)`` form.

    Args:
        sql: One statement.
        dialect: The dialect that produced the text, or None for the default string form.
        backslash_escapes: Override the dialect's backslash convention (for instance
            ``True`` to read hand-written Snowflake SQL without a Snowflake dialect).

    Returns:
        The construct.

    Raises:
        StageParseError: the text is not one statement this parser understands; the
            message gives the line, column and offset, what was expected and what was found.
        StageArgumentError: the statement is well formed but the construct refuses it
            (say, ``INCLUDE_QUERY_ID = TRUE`` with ``SINGLE = TRUE``).

    Example:
        >>> parse("LIST @~/data PATTERN = '.*[.]csv'")
        ListFiles(Stage.user() / 'data', pattern='.*[.]csv')
    """
    if not isinstance(sql, str):
        raise StageParseError(str(sql), 0, "SQL text (a str)", type(sql).__name__)
    double_percents = bool(
        getattr(getattr(dialect, "identifier_preparer", None), "_double_percents", False)
    )
    if backslash_escapes is None:
        backslash_escapes = dialect is not None and _backslash_escapes(dialect)
    stream = TokenStream(sql, [], double_percents=double_percents)
    try:
        stream.tokens = tokenize(
            sql, backslash_escapes=backslash_escapes, double_percents=double_percents
        )
        first = stream.peek()
        if first.upper in ("SELECT", "WITH") or (first.kind is Kind.PUNCT and first.value == "("):
            return parse_select(stream)
        handler = _STATEMENTS.get(first.upper)
        if handler is None:
            raise stream.error(_FIRST_WORDS)
        stream.next()
        return handler(stream)
    except (IndexError, KeyError, ValueError, TypeError, AttributeError) as error:
        # A bug of this parser, never expected: still report it as a parse error.
        token = stream.peek() if stream.tokens else Token(Kind.END, "", 0, 0)
        raise StageParseError(
            sql,
            token.start,
            f"a statement this parser understands (internal error: {error!r})",
            describe(token, sql),
        ) from error
