"""Malformed SQL raises StageParseError naming the position and what was expected.

A Hypothesis test feeds random text and mutated valid statements: the parser raises only
argument errors (StageParseError, StageArgumentError), never IndexError and the like.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import sqlalchemy as sa
from hostile_sql import HOSTILE_PIECES
from hypothesis import given, settings
from hypothesis import strategies as st
from snowflake.sqlalchemy import snowdialect

from sqla_stage import StageArgumentError, StageParseError, parse

SNOWFLAKE = snowdialect.SnowflakeDialect()

# (sql, offset of the error, words the "expected" part must contain)
MALFORMED: list[tuple[str, int, str]] = [
    ("", 0, "CREATE, DROP, DESC, SHOW, COPY"),
    ("   \n\t ", 6, "CREATE, DROP"),
    ("-- only a comment", 17, "CREATE, DROP"),
    ("/* only a comment */", 20, "CREATE"),
    (";", 0, "CREATE"),
    ("CREATE TABL x", 7, "STAGE or FILE FORMAT"),
    ("CREATE TEMPORARY TABLE x", 17, "STAGE or FILE FORMAT"),
    ("COPY TABL x", 5, "INTO"),
    ("TRUNCATE TABLE t", 0, "CREATE, DROP"),
    ("COPY INTO", 9, "a table name, a stage location"),
    ("COPY INTO @s FROM", 17, "a table name or ( query )"),
    ("COPY INTO @s", 12, "FROM"),
    ("COPY INTO t FROM", 16, "a stage location, a quoted URL or ( query )"),
    ("COPY INTO @s FROM (SELECT 1", 27, "')' closing the '('"),
    ("COPY INTO @s FROM t SINGLE = ,", 29, "a value"),
    ("COPY INTO @s FROM t SINGLE = 'yes'", 29, "TRUE or FALSE for SINGLE"),
    ("COPY INTO @s FROM t MAX_FILE_SIZE = 'big'", 36, "an integer for MAX_FILE_SIZE"),
    ("COPY INTO @s FROM t MAX_FILE_SIZE = 1.5", 36, "an integer"),
    ("COPY INTO @s FROM t MAX_FILE_SIZE = 0", 36, "an integer for MAX_FILE_SIZE"),
    ("COPY INTO @s FROM t SINGLE TRUE", 27, "'=' after SINGLE"),
    ("COPY INTO @s FROM t FOO = 1", 20, "a COPY option"),
    ("COPY INTO @s FROM t ON_ERROR = CONTINUE", 20, "a COPY option"),
    ("COPY INTO t FROM @s SINGLE = TRUE", 20, "a COPY option"),
    ("COPY INTO t FROM @s ON_ERROR = SOMETIMES", 31, "for ON_ERROR"),
    ("COPY INTO @s FROM t FILE_FORMAT = (TYPE = XML)", 42, "a format type (CSV, JSON"),
    ("COPY INTO @s FROM t FILE_FORMAT = (COMPRESSION = GZIP)", 34, "TYPE = ... or FORMAT_NAME"),
    (
        "COPY INTO @s FROM t FILE_FORMAT = (TYPE = CSV SNAPPY_COMPRESSION = TRUE)",
        46,
        "an option of TYPE = CSV",
    ),
    ("COPY INTO @s FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = SNAPPY)", 60, "for COMPRESSION"),
    (
        "COPY INTO @s FROM t FILE_FORMAT = (TYPE = CSV NULL_IF = ('a', 1))",
        62,
        "a quoted string or ')'",
    ),
    ("COPY INTO @s FROM t FILE_FORMAT = (TYPE = CSV", 45, "')'"),
    ("COPY INTO @s FROM t SINGLE = TRUE SINGLE = FALSE", 34, "each option once"),
    (
        "COPY INTO @s FROM t PARTITION BY FILE_FORMAT = (TYPE = CSV)",
        33,
        "an expression after PARTITION BY",
    ),
    ("COPY INTO 's3://b/' FROM t CREDENTIALS = (AWS_KEY_ID = 'k'", 58, "')'"),
    ("COPY INTO 's3://b/' FROM t CREDENTIALS = (AWS_KEY = 'k')", 42, "a credential key"),
    ("COPY INTO 's3://b/' FROM t CREDENTIALS = (AWS_KEY_ID = k)", 55, "a quoted string"),
    ("COPY INTO 's3://b/' FROM t ENCRYPTION = (KIND = 'x')", 41, "an encryption setting"),
    ("LIST @s PATTERN = 'abc", 18, 'a closing "\'" ending the string'),
    ("LIST @s PATTERN = abc", 18, "the pattern as a quoted string"),
    ("LIST @s EXTRA", 8, "PATTERN or the end of the statement"),
    ("LIST @s;;", 8, "the end of the statement"),
    ("LIST", 4, "a stage location"),
    ("LIST s", 5, "a stage location"),
    ("LIST @", 5, "a stage location"),
    ('CREATE STAGE "abc', 13, "a closing '\"' ending the identifier"),
    ("CREATE STAGE `abc", 13, "a closing '`' ending the identifier"),
    ("CREATE STAGE s /* unterminated", 15, "'*/' closing the comment"),
    ("CREATE STAGE s URL = 's3://x' CREDENTIALS = (AWS_KEY_ID = 'k'", 61, "')'"),
    ("CREATE STAGE s BOGUS = 1", 15, "a stage parameter"),
    ("CREATE STAGE s URL = 1", 21, "the URL as a quoted string"),
    ("CREATE STAGE s ENABLE = MAYBE", 24, "TRUE or FALSE for ENABLE"),
    ("CREATE STAGE s COMMENT = 'a' COMMENT = 'b'", 29, "each parameter once"),
    ("CREATE STAGE s DIRECTORY = (ENABLE = TRUE", 41, "')'"),
    ("CREATE STAGE @s/path", 13, "a stage without a path"),
    ("CREATE STAGE", 12, "a stage name"),
    ("CREATE FILE FORMAT f", 20, "TYPE = ... or FORMAT_NAME"),
    ("CREATE FILE FORMAT f TYPE = JSON OUTPUT_HEADER = TRUE", 33, "an option of TYPE = JSON"),
    ("DROP TABLE t", 5, "STAGE or FILE FORMAT"),
    ("DESC TABLE t", 5, "STAGE"),
    ("SHOW TABLES", 5, "STAGES"),
    ("SHOW STAGES LIKE", 16, "a LIKE pattern"),
    ("PRESIGN @s/f EXPIRE = -1", 22, "a value"),
    ("PRESIGN @s/f EXPIRE = 'x'", 22, "a positive number of seconds"),
    ("PRESIGN @s/f EXPIRE = 0", 22, "a positive number of seconds"),
    ("PUT @s", 4, "a local path"),
    ("PUT 'file:///x' @s PARALLEL = 'many'", 30, "an integer for PARALLEL"),
    ("GET @s", 6, "a local path"),
    ("SELECT $1 FROM t", 15, "a stage location (@stage/path) or list_stage"),
    ("SELECT $1", 9, "FROM @stage/path"),
    ("SELECT $1 FROM @s WHERE a = 1", 18, "(FILE_FORMAT => ..., PATTERN => ...)"),
    ("SELECT $1 FROM @s (FILE_FORMAT = 'f')", 31, "'=>' after FILE_FORMAT"),
    ("SELECT $1 FROM @s (COLOR => 'f')", 19, "FILE_FORMAT => or PATTERN =>"),
    ("SELECT a, FROM @s", 10, "a select list item"),
    ("SELECT a FROM list_stage(location => '@s')", 7, "SELECT * with list_stage"),
    ("SELECT * FROM list_stage(location => 's')", 25, "a stage location in location"),
    ("SELECT GET_PRESIGNED_URL(@s/p, 'f')", 25, "a stage without a path"),
    ("SELECT GET_PRESIGNED_URL(@s 'f')", 28, "',' and the file's path"),
    ("SELECT * FROM t INTO OUTFILE", 28, "the output file as a quoted string"),
    ("SELECT * FROM t INTO OUTFILE '/x' HEADER 'true'", 34, "FORMAT '...', FIELDS"),
    ("SELECT * FROM t INTO OUTFILE '/x' LINES TERMINATED BY ';' FIELDS", 58, "FIELDS before"),
    ("INTO OUTFILE '/x'", 0, "CREATE, DROP"),
    ("WITH q AS (SELECT 1) SELECT * FROM q", 0, "SELECT (or a query ending with INTO OUTFILE)"),
]


@pytest.mark.parametrize(("sql", "offset", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_statement(sql: str, offset: int, expected: str) -> None:
    with pytest.raises(StageParseError) as caught:
        parse(sql)
    error = caught.value
    assert isinstance(error, sa.exc.ArgumentError)
    assert error.position == offset, str(error)
    assert expected in error.expected, str(error)
    message = str(error)
    assert f"offset {offset}" in message and "expected " in message and "found " in message
    assert "internal error" not in message


def test_message_names_line_column_and_found_text() -> None:
    with pytest.raises(StageParseError) as caught:
        parse("COPY INTO @s\nFROM t\n  FOO = 1")
    message = str(caught.value)
    assert "line 3, column 3 (offset 22)" in message
    assert "found 'FOO'" in message
    assert caught.value.found == "'FOO'"


def test_end_of_input_is_named() -> None:
    with pytest.raises(StageParseError, match="found the end of the statement"):
        parse("CREATE STAGE")


@pytest.mark.parametrize(
    "sql",
    [
        "COPY INTO @s FROM t SINGLE = TRUE INCLUDE_QUERY_ID = TRUE",
        "DROP STAGE @~",
        "CREATE STAGE @~",
        "CREATE STAGE s CREDENTIALS = (AWS_KEY_ID = 'k')",
        "COPY INTO @s FROM t CREDENTIALS = (AWS_KEY_ID = 'k' AWS_SECRET_KEY = 's')",
        "CREATE STAGE s URL = 's3://b/' ENCRYPTION = (TYPE = 'AWS_CSE')",
        "CREATE FILE FORMAT f FORMAT_NAME = 'g'",
    ],
)
def test_well_formed_but_invalid_statements_raise_argument_errors(sql: str) -> None:
    with pytest.raises(sa.exc.ArgumentError) as caught:
        parse(sql)
    assert isinstance(caught.value, (StageArgumentError, StageParseError))


def test_non_string_input() -> None:
    with pytest.raises(StageParseError):
        parse(b"LIST @s")  # type: ignore[arg-type]


def test_backslash_conventions() -> None:
    # Standard SQL strings without a dialect; engine strings with an escaping dialect.
    assert parse(r"LIST @s PATTERN = 'a\b'").pattern == "a\\b"
    assert parse(r"LIST @s PATTERN = 'a\\b'", dialect=SNOWFLAKE).pattern == "a\\b"
    assert parse(r"LIST @s PATTERN = '\''", dialect=SNOWFLAKE).pattern == "'"
    assert parse(r"LIST @s PATTERN = 'a\nb'", backslash_escapes=True).pattern == "a\nb"
    with pytest.raises(StageParseError, match="ending the string"):
        parse(r"LIST @s PATTERN = 'a\'", dialect=SNOWFLAKE)
    assert parse(r"LIST @s PATTERN = 'a\'", backslash_escapes=False).pattern == "a\\"


def test_percent_doubling_follows_the_dialect() -> None:
    assert parse("LIST @s PATTERN = 'a%%b'").pattern == "a%%b"
    assert parse("LIST @s PATTERN = 'a%%b'", dialect=SNOWFLAKE).pattern == "a%b"
    assert parse("LIST @%%t", dialect=SNOWFLAKE).location.stage.name == "t"


# -- Hypothesis: nothing but argument errors ------------------------------------------------

VALID = [
    "CREATE OR REPLACE TEMPORARY STAGE db.s.\"My Stage\" URL = 's3://b/p/' "
    "CREDENTIALS = (AWS_KEY_ID = 'k' AWS_SECRET_KEY = 's') ENCRYPTION = (TYPE = 'AWS_SSE_KMS' "
    "KMS_KEY_ID = 'x') DIRECTORY = (ENABLE = TRUE) FILE_FORMAT = (TYPE = CSV NULL_IF = ('a', "
    "'b') FIELD_DELIMITER = '|') COPY_OPTIONS = (ON_ERROR = SKIP_FILE_10% SIZE_LIMIT = 5) "
    "COMMENT = 'it''s'",
    "CREATE STAGE s URL = '/tmp' CREDENTIALS = {\"access_key_id\"='a', "
    "\"secret_access_key\"='b'} ENABLE = FALSE",
    "COPY INTO 's3://b/p 1/' CONNECTION = (ACCESS_KEY_ID = 'k' SECRET_ACCESS_KEY = 's') FROM "
    "(SELECT a, b FROM t WHERE c = 'x:y') PARTITION BY (a || '/') FILE_FORMAT = (TYPE = "
    "NDJSON COMPRESSION = GZIP) SINGLE = TRUE MAX_FILE_SIZE = 100 HEADER",
    "COPY INTO t (a, \"B\") FROM @~/in/ FILES = ('a.csv') PATTERN = '.*' FILE_FORMAT = "
    "(FORMAT_NAME = 'sch.f' QUOTE = '\"' EMPTY_FIELD_AS = NULL) ON_ERROR = ABORT PURGE = TRUE",
    "SELECT $1, f(a, b) FROM @s/p (FILE_FORMAT => 'fmt', PATTERN => '.*[.]csv');",
    "SELECT * FROM list_stage(location => '@s/x', pattern => 'a')",
    "SELECT GET_PRESIGNED_URL(@s, 'a/b.csv', 60)",
    "SELECT * FROM user INTO OUTFILE 'stage1:/user.csv'",
    "PRESIGN UPLOAD @s/f EXPIRE = 10",
    "PUT file:///tmp/a.csv @%t/p PARALLEL = 4 SOURCE_COMPRESSION = GZIP",
    "GET @s/p 'file:///tmp/' PATTERN = 'x'",
    "CREATE FILE FORMAT IF NOT EXISTS f TYPE = PARQUET COMPRESSION = SNAPPY COMMENT = 'c'",
    "DROP FILE FORMAT IF EXISTS s.f",
    "DESC STAGE @~",
    "SHOW STAGES LIKE 'a%'",
    "REMOVE @s/p PATTERN = 'x'",
]

_PIECES = st.sampled_from(HOSTILE_PIECES)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "insert", "truncate", "delete"]))
        if action == "cut":
            end = draw(st.integers(where, min(len(text), where + 12)))
            text = text[:where] + text[end:]
        elif action == "insert":
            text = text[:where] + draw(_PIECES | st.text(max_size=3)) + text[where:]
        elif action == "truncate":
            text = text[:where]
        else:
            text = text[:where] + text[where + 1 :]
    return text


def _only_argument_errors(sql: str, **kw: Any) -> None:
    try:
        result = parse(sql, **kw)
    except sa.exc.ArgumentError as error:
        assert "internal error" not in str(error), str(error)
        return
    with contextlib.suppress(sa.exc.CompileError):  # a parsed construct always renders
        str(result)


@settings(deadline=None)
@given(sql=mutated(), escapes=st.booleans(), dialect=st.sampled_from([None, SNOWFLAKE]))
def test_mutated_statements_raise_only_argument_errors(
    sql: str, escapes: bool, dialect: Any
) -> None:
    _only_argument_errors(sql, dialect=dialect, backslash_escapes=escapes)


@settings(deadline=None)
@given(sql=st.text(max_size=60) | st.lists(_PIECES, max_size=12).map(" ".join))
def test_random_text_raises_only_argument_errors(sql: str) -> None:
    _only_argument_errors(sql)


def test_valid_seed_statements_parse() -> None:
    for sql in VALID:
        parse(sql)
