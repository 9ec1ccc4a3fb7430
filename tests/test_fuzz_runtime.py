"""Fuzzing: random and mutated stage statements never escape as internal errors.

The documented statements (the spec examples and the texts of the docs) are mutated token
by token (dropped, duplicated, swapped, re-cased, literals replaced with hostile strings,
option values replaced with random ones) and mixed with random text. Each statement goes
to :func:`sqla_stage.parse` and to the DuckDB runtime (``conn.exec_driver_sql``) of one
engine whose stages, tables and files exist. Whatever escapes must be a
``sqlalchemy.exc.SQLAlchemyError``; a ``DBAPIError`` must wrap an error of DuckDB, not a
Python built-in exception raised by the package, and DuckDB must never report an
internal error.

NUL characters and DuckDB's own strings (``$$...$$``, ``$t$...$t$``, ``E'...'``) are among
the pieces inserted, and a NUL-holding local path or URL runs when both the text before
its first NUL and the text without its NULs stay in the temporary folder (the runtime
must refuse it, never cut it at the NUL). The constructs get odd Python values (floats,
0, None, bytes, lists, mappings, NUL strings) where their arguments take strings,
flags, numbers and mappings: each builds or raises a ``sqlalchemy.exc.ArgumentError``,
and each that builds compiles for every dialect and, for those that stay inside the
test's stages, runs on the runtime.

Hostile stage paths are left to the runtime's confinement (tests/test_confinement.py
proves it). Paths that leave the database (``PUT`` / ``GET`` local paths, ``INTO
OUTFILE`` files, external stage URLs, ``COPY INTO '<url>'``) are checked by the harness
before a statement runs: a statement whose such path is not below the test's temporary
folder (or ``memory://sqla-fuzz/``) is parsed but not run. DuckDB's own statements that
write or configure (``COPY ... TO``, ``ATTACH``, ``SET``, ...) are not run either.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb_engine
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from hostile_sql import HOSTILE_PIECES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql

from sqla_stage import CSV, ListFiles, LoadData, Presign, Stage, parse, staged
from sqla_stage.copy import CopyInto
from sqla_stage.ddl import AlterStage, CreateStage
from sqla_stage.errors import StageRuntimeError
from sqla_stage.files import Get, Put
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.runtime.engine.intercept import is_stage_text, statement_body

CI = os.environ.get("CI", "").lower() == "true"

# Examples per test (the table of docs/security.md quotes these).
PARSE_EXAMPLES = 6000 if CI else 2000
RUNTIME_MUTATED_EXAMPLES = 5000 if CI else 2000
RUNTIME_RANDOM_EXAMPLES = 2000 if CI else 1000
CONSTRUCT_EXAMPLES = 2000 if CI else 600

ROOT = "{ROOT}"  # replaced by the module's temporary folder

# The documented statements: spec examples (000-004) and the texts of the docs pages.
SEEDS: list[str] = [
    # 000 MatrixOne
    "CREATE STAGE stage1 URL='{ROOT}/ext' ENABLE = TRUE;",
    "SELECT * FROM t INTO OUTFILE 'ext:/user.csv';",
    "SELECT * FROM t INTO OUTFILE '{ROOT}/out/user.txt';",
    "SHOW STAGES LIKE 'stage%'",
    "DROP STAGE IF EXISTS stage1",
    "ALTER STAGE IF EXISTS stage1 SET URL = '{ROOT}/ext2' ENABLE = FALSE",
    # 001 / 003 Databend user stages, 002 stages
    "CREATE STAGE @my_stage;",
    "PUT file://{ROOT}/local/data.csv @my_stage",
    "PUT file://{ROOT}/local/data.csv @~/in/ PARALLEL = 2",
    "PUT 'file://{ROOT}/local/*.csv' @s/p/ SOURCE_COMPRESSION = NONE",
    "GET @s/p/ file://{ROOT}/got/ PATTERN = '.*csv.*'",
    "GET @~ 'file://{ROOT}/got/'",
    "COPY INTO my_table FROM @my_stage;",
    "COPY INTO my_table FROM @~ PATTERN = 'data.*' FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 0)",
    "COPY INTO my_table FROM @#my_table;",
    "LIST @~;",
    "LS @%my_table;",
    "LIST @s PATTERN = '.*[.]csv[.]gz'",
    "LIST @~ PATTERN = 'in/.*'",
    "PRESIGN @~/data.csv;",
    "PRESIGN UPLOAD @s/f EXPIRE = 10",
    "REMOVE @~ PATTERN = 'ontime.*';",
    "RM @s/tmp/",
    "DESC STAGE s",
    "DESCRIBE STAGE @~",
    "SHOW STAGES",
    "CREATE STAGE IF NOT EXISTS s2 URL = 'memory://sqla-fuzz/m/' COMMENT = 'it''s'",
    "CREATE OR REPLACE TEMPORARY STAGE s3 DIRECTORY = (ENABLE = TRUE) "
    "FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = '|' SKIP_HEADER = 1) "
    "COPY_OPTIONS = (ON_ERROR = SKIP_FILE SIZE_LIMIT = 5)",
    "CREATE STAGE ext3 URL = 'file://{ROOT}/ext3/' CREDENTIALS = (AWS_KEY_ID = 'k' "
    "AWS_SECRET_KEY = 's')",
    "CREATE FILE FORMAT IF NOT EXISTS f TYPE = PARQUET COMPRESSION = SNAPPY COMMENT = 'c'",
    "CREATE OR REPLACE FILE FORMAT csvf TYPE = CSV FIELD_DELIMITER = ';' NULL_IF = ('', 'NA')",
    "DROP FILE FORMAT IF EXISTS f",
    # 004 Snowflake COPY INTO
    "copy into @~ from t\nsingle = true;",
    "COPY INTO @s/p/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE "
    "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('x'))",
    "COPY INTO @s/pq/ FROM (SELECT n, s FROM t WHERE n > 1) FILE_FORMAT = (TYPE = PARQUET) "
    "HEADER = TRUE OVERWRITE = TRUE",
    "COPY INTO @s/j/ FROM t PARTITION BY ('n=' || n) FILE_FORMAT = (TYPE = JSON) "
    "MAX_FILE_SIZE = 1000 INCLUDE_QUERY_ID = TRUE",
    "COPY INTO @s/one.csv FROM t SINGLE = TRUE FILE_FORMAT = (FORMAT_NAME = 'csvf')",
    "COPY INTO '{ROOT}/ext/u/' FROM t FILE_FORMAT = (TYPE = CSV)",
    "COPY INTO t (n, s) FROM @s/p/ FILES = ('data_0_0_0.csv') "
    "FILE_FORMAT = (TYPE = CSV) ON_ERROR = CONTINUE PURGE = FALSE FORCE = TRUE",
    "COPY INTO t FROM @s/pq/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = "
    "CASE_INSENSITIVE",
    "COPY INTO t FROM '{ROOT}/ext/' PATTERN = '.*' ON_ERROR = SKIP_FILE_10%",
    # Staged queries, list_stage, presigned URLs
    "SELECT * FROM @s/p (FILE_FORMAT => 'parquet')",
    "SELECT $1, $2 FROM @s/p/ (FILE_FORMAT => 'csvf', PATTERN => '.*[.]csv')",
    "SELECT count(*) FROM @s/pq/ (FILE_FORMAT => 'f') WHERE n > 1",
    "CREATE TABLE big AS SELECT n FROM @s/pq/ (FILE_FORMAT => 'parquet') WHERE n > 7",
    "SELECT name, size FROM list_stage(location => '@s', pattern => '.*')",
    "SELECT * FROM list_stage(location => '@~/in')",
    "SELECT GET_PRESIGNED_URL(@s, 'p/data_0_0_0.csv', 60)",
    "SELECT n FROM t INTO OUTFILE 's2:/out.csv'",
]

HOSTILE: list[str] = [
    "",
    " ",
    "..",
    "../../../../etc/passwd",
    "/etc/passwd",
    "/",
    "%2e%2e/%2e%2e/x",
    "..%2f..%2fx",
    "..\\..\\x",
    "C:\\Windows",
    "a/./b/../c",
    "//",
    "~",
    "~/x",
    "~root/x",
    "@~",
    "@%t",
    "@s/../other",
    "file:///etc/",
    "memory://",
    "s3://",
    "stage1:/../x",
    "\x00",
    "\x00/etc",
    "a\nb",
    "é✓\u202e",
    "'; DROP TABLE t; --",
    "' OR '1'='1",
    "%s %d %% %(x)s",
    "$1",
    "?",
    ":name",
    "{}",
    "[",
    "(?P<",
    "(a+)+$",
    "*",
    ".*",
    "\\",
    "x" * 3000,
    "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
]

VALUES = [
    "TRUE",
    "FALSE",
    "NONE",
    "NULL",
    "AUTO",
    "CSV",
    "PARQUET",
    "JSON",
    "GZIP",
    "ZSTD",
    "BROTLI",
    "LZO",
    "SNAPPY",
    "0",
    "1",
    "-1",
    "99999999999999999999",
    "1.5",
    "ABORT_STATEMENT",
    "SKIP_FILE_0",
    "SKIP_FILE_101%",
    "CONTINUE",
    "()",
    "(TYPE = CSV)",
    "('a', 'b')",
]

PIECES = [*HOSTILE_PIECES, "\x00", "a\x00b", "$$", "$$ FROM @s $$", "$t$", "E'\\'", "/* /*"]

_TOKEN = re.compile(
    r"'(?:[^']|'')*'?"  # a string literal, maybe unterminated
    r"|\"[^\"]*\"?"
    r"|\s+"
    r"|[A-Za-z_][A-Za-z0-9_$]*"
    r"|@[^\s;,()']*"
    r"|[0-9]+(?:\.[0-9]+)?%?"
    r"|=>|."
)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A documented statement with one to four token-level mutations."""
    tokens = _tokens(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        action = draw(
            st.sampled_from(
                ["drop", "dup", "swap", "case", "literal", "path", "value", "insert", "cut"]
            )
        )
        token = tokens[i]
        if action == "drop":
            del tokens[i]
        elif action == "dup":
            tokens.insert(i, token)
        elif action == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif action == "case":
            tokens = [
                "".join(c.upper() if draw(st.booleans()) else c.lower() for c in t)
                if t[:1].isalpha()
                else t
                for t in tokens
            ]
        elif action == "literal":
            literals = [k for k, t in enumerate(tokens) if t.startswith("'")] or [i]
            k = draw(st.sampled_from(literals))
            value = draw(st.sampled_from(HOSTILE) | st.text(max_size=8))
            tokens[k] = _quote(value) if draw(st.booleans()) else "'" + value
        elif action == "path":
            paths = [k for k, t in enumerate(tokens) if t.startswith("@")] or [i]
            k = draw(st.sampled_from(paths))
            head = tokens[k].split("/", 1)[0] if tokens[k].startswith("@") else "@s"
            tokens[k] = head + "/" + draw(st.sampled_from(HOSTILE))
        elif action == "value":
            equals = [k for k, t in enumerate(tokens) if t in ("=", "=>")] or [i]
            k = draw(st.sampled_from(equals))
            value = draw(st.sampled_from(VALUES) | st.sampled_from(HOSTILE).map(_quote))
            rest = tokens[k + 1 :]
            while rest and rest[0].isspace():
                rest = rest[1:]
            tokens = [*tokens[: k + 1], " ", value, *rest[1:]]
        elif action == "insert":
            tokens.insert(i, " " + draw(st.sampled_from(PIECES)) + " ")
        else:
            tokens = tokens[:i]
    return "".join(tokens)


random_text = (
    st.text(max_size=80)
    | st.lists(st.sampled_from(PIECES + VALUES + ["LIST", "COPY", "PUT", "GET"]), max_size=12).map(
        " ".join
    )
    | st.tuples(
        st.sampled_from(
            ["LIST @", "COPY INTO ", "REMOVE @", "PRESIGN ", "PUT ", "GET @", "SELECT * FROM @"]
        ),
        st.text(max_size=40),
    ).map("".join)
)


# -- The harness ---------------------------------------------------------------------------

_DUCKDB_WRITES = re.compile(
    r"\b(copy|export|import|attach|detach|install|load|pragma|set|reset|call|checkpoint|"
    r"vacuum|secret|use|force|update_extensions)\b",
    re.I,
)


class Harness:
    """One engine, its stages, tables and files, and the checks around each statement."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.engine = sa.create_engine(
            f"duckdb:///{root / 'fuzz.duckdb'}",
            plugins=["sqla_stage"],
            stage_root=str(root / "stages"),
            stage_user="fuzzer",
            stage_progress=False,
        )
        self.ran = 0
        self.skipped = 0
        for folder in ("local", "got", "out", "ext", "ext2", "ext3", "cwd"):
            (root / folder).mkdir(exist_ok=True)
        (root / "local" / "data.csv").write_text("1,ontime\n2,late\n")
        (root / "local" / "ontime_2024.csv").write_text("3,x\n")
        self.restore()
        with self.engine.begin() as conn:
            for sql in [
                f"PUT file://{root}/local/data.csv @~/in/",
                f"PUT file://{root}/local/data.csv @my_stage",
                "COPY INTO @s/p/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)",
                "COPY INTO @s/pq/ FROM t FILE_FORMAT = (TYPE = PARQUET)",
                "COPY INTO @ext/e/ FROM t",
            ]:
                conn.exec_driver_sql(sql)

    def restore(self) -> None:
        """(Re)create what the seeds name, after a statement dropped or replaced it."""
        with self.engine.begin() as conn:
            for sql in [
                "CREATE TABLE IF NOT EXISTS t AS SELECT range::INTEGER AS n, 'x' || range AS s "
                "FROM range(5)",
                "CREATE TABLE IF NOT EXISTS my_table (id INTEGER, what VARCHAR)",
                "CREATE STAGE IF NOT EXISTS s",
                "CREATE STAGE IF NOT EXISTS my_stage",
                f"CREATE STAGE IF NOT EXISTS ext URL = '{self.root}/ext/'",
                "CREATE STAGE IF NOT EXISTS stage1 URL = 'memory://sqla-fuzz/stage1/'",
                "CREATE FILE FORMAT IF NOT EXISTS csvf TYPE = CSV",
                "CREATE FILE FORMAT IF NOT EXISTS f TYPE = PARQUET",
            ]:
                conn.exec_driver_sql(sql)

    def fill(self, template: str) -> str:
        return template.replace(ROOT, str(self.root))

    # Which statements may run

    def _inside(self, target: str) -> bool:
        if target.startswith("memory://"):
            return target.startswith("memory://sqla-fuzz/") and ".." not in target
        if "\x00" in target:  # refused whole, never cut at the NUL: both forms stay inside
            head, whole = target.split("\x00", 1)[0], target.replace("\x00", "")
            return bool(head) and self._inside(head) and self._inside(whole)
        path = target.removeprefix("file://")
        if not path or any(bad in path for bad in ("..", "~", "%", "\\", "://")):
            return False
        if not os.path.isabs(path):
            path = os.path.join(os.getcwd(), path)
        real = os.path.realpath(path)
        return real == str(self.root) or real.startswith(str(self.root) + os.sep)

    def may_run(self, text: str) -> bool:
        """Whether running ``text`` can only touch the module's temporary folder."""
        body = statement_body(text)
        if not is_stage_text(body):
            return not _DUCKDB_WRITES.search(text)
        try:
            element = parse(body, dialect=self.engine.dialect)
        except sa.exc.SQLAlchemyError:
            return True  # the runtime refuses it the same way, before it does anything
        targets: list[Any] = []
        if isinstance(element, (Put, Get)):
            targets.append(element.local_url)
        elif isinstance(element, (SelectIntoOutfile, CopyInto)):
            targets.append(element.location)
        elif isinstance(element, CreateStage):
            targets.append(element.stage.url)
        elif isinstance(element, AlterStage):
            targets.append(element.altered.url)
        return all(not isinstance(t, str) or self._inside(t) for t in targets)

    # Running one statement

    def run(self, text: str) -> None:
        if not self.may_run(text):
            self.skipped += 1
            return
        self.ran += 1
        try:
            with self.engine.begin() as conn:
                result = conn.exec_driver_sql(text)
                if result.returns_rows:
                    result.fetchall()
        except Exception as error:
            assert_not_internal(error, text)
        if re.search(r"drop|replace|alter|remove|\brm\b|purge", text, re.I):
            self.restore()


def assert_not_internal(error: BaseException, text: str) -> None:
    """``error`` is a SQLAlchemy error a user can act on, not a bug escaping."""
    where = f"{type(error).__name__} for {text!r}: {error}"
    assert isinstance(error, sa.exc.SQLAlchemyError), f"internal error: {where}"
    message = str(error)
    assert message.strip(), f"empty message: {where}"
    assert "internal error" not in message.lower(), where
    if isinstance(error, StageRuntimeError):  # the runtime's own: a message, no driver error
        assert error.orig is None, where
    elif isinstance(error, sa.exc.DBAPIError):
        orig = error.orig
        assert type(orig).__module__ != "builtins", f"built-in error wrapped: {where}"
        assert "INTERNAL Error" not in str(orig), f"DuckDB internal error: {where}"
        assert "FATAL Error" not in str(orig), f"DuckDB fatal error: {where}"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    root = tmp_path_factory.mktemp("fuzz").resolve()
    harness = Harness(root)
    with contextlib.chdir(root / "cwd"):  # relative paths land in the temporary folder
        yield harness
    harness.engine.dispose()


# -- The tests -----------------------------------------------------------------------------


def test_seeds_run(harness: Harness) -> None:
    """Every seed statement is runnable by the harness (the mutations start from them)."""
    for seed in SEEDS:
        text = harness.fill(seed)
        assert harness.may_run(text), text
        harness.run(text)


def _parse_only(text: str) -> None:
    try:
        parse(text)
    except Exception as error:
        assert_not_internal(error, text)


@settings(max_examples=PARSE_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(text=mutated() | random_text)
def test_parse_mutated_and_random_statements(text: str) -> None:
    _parse_only(text.replace(ROOT, "/tmp/root"))


@settings(max_examples=RUNTIME_MUTATED_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(text=mutated())
def test_runtime_mutated_statements(harness: Harness, text: str) -> None:
    text = harness.fill(text)
    _parse_only(text)
    harness.run(text)


@settings(max_examples=RUNTIME_RANDOM_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(text=random_text)
def test_runtime_random_text(harness: Harness, text: str) -> None:
    harness.run(text)


# -- Constructs with odd Python values -------------------------------------------------------

ODD_VALUES: list[Any] = [
    1.5,
    0,
    -1,
    None,
    True,
    float("nan"),
    b"x",
    b"\x00",
    ["a"],
    ("a",),
    [None],
    {"a": 1},
    {1: 2},
    "",
    "\x00",
    "a\x00b",
    "$$",
    object(),
]

_T = sa.table("t", sa.column("n"), sa.column("s"))
_S = Stage("s")

_QUERY = sa.select(_T)

#: Each construct: a builder taking keyword arguments, and the arguments to fill.
CONSTRUCTS: dict[str, tuple[Any, list[str]]] = {
    "Stage": (
        lambda name="s", **k: Stage(name, **k),
        [
            "name",
            "schema",
            "url",
            "credentials",
            "encryption",
            "storage_integration",
            "file_format",
            "copy_options",
            "directory",
            "directory_options",
            "comment",
            "temporary",
        ],
    ),
    "load": (
        lambda target=_T, source=_S, **k: CopyInto(target, source, **k),
        [
            "target",
            "source",
            "file_format",
            "credentials",
            "encryption",
            "columns",
            "pattern",
            "files",
            "on_error",
            "force",
            "purge",
            "size_limit",
            "match_by_column_name",
            "validation_mode",
            "storage_integration",
        ],
    ),
    "unload": (
        lambda target=_S, source=_T, **k: CopyInto(target, source, **k),
        [
            "target",
            "source",
            "file_format",
            "partition_by",
            "overwrite",
            "single",
            "max_file_size",
            "header",
            "include_query_id",
            "detailed_output",
        ],
    ),
    "Put": (
        lambda local="/tmp/x", location=_S, **k: Put(local, location, **k),
        ["local", "location", "overwrite", "auto_compress", "parallel", "source_compression"],
    ),
    "Get": (
        lambda location=_S, local="/tmp/x", **k: Get(location, local, **k),
        ["location", "local", "pattern", "parallel"],
    ),
    "ListFiles": (lambda location=_S, **k: ListFiles(location, **k), ["location", "pattern"]),
    "Presign": (lambda location=_S, **k: Presign(location, **k), ["location", "expire", "method"]),
    "CreateStage": (
        lambda stage=_S, **k: CreateStage(stage, **k),
        ["stage", "if_not_exists", "or_replace"],
    ),
    "CSV": (
        lambda **k: CSV(**k),
        [
            "field_delimiter",
            "skip_header",
            "compression",
            "null_if",
            "record_delimiter",
            "field_optionally_enclosed_by",
            "escape",
            "date_format",
            "encoding",
            "trim_space",
        ],
    ),
    "Outfile": (
        lambda query=_QUERY, location="/tmp/o.csv", **k: SelectIntoOutfile(query, location, **k),
        ["query", "location", "format", "fields_terminated_by", "optionally_enclosed"],
    ),
    "LoadData": (
        lambda source="/tmp/x.csv", table=_T, **k: LoadData(source, table, **k),
        [
            "source",
            "table",
            "fields_terminated_by",
            "ignore_lines",
            "columns",
            "local",
            "parallel",
            "format",
            "jsondata",
        ],
    ),
    "staged": (
        lambda location=_S, **k: staged(location, **k),
        ["location", "file_format", "columns", "pattern"],
    ),
}
#: Constructs whose every instance stays inside the harness's stages, so they may run.
_RUNNABLE = ("ListFiles", "load", "staged")


DIALECTS: list[Any] = [
    None,
    duckdb_engine.Dialect(),
    snowdialect.SnowflakeDialect(),
    databend_dialect.DatabendDialect(),
    mysql.dialect(),
]


@settings(max_examples=CONSTRUCT_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(sorted(CONSTRUCTS)),
    data=st.data(),
)
def test_constructs_with_odd_values(harness: Harness, name: str, data: Any) -> None:
    build, arguments = CONSTRUCTS[name]
    values = st.sampled_from(ODD_VALUES) | st.text(max_size=6)
    given_values = data.draw(st.dictionaries(st.sampled_from(arguments), values, max_size=3))
    try:
        element = build(**given_values)
    except sa.exc.ArgumentError:
        return
    except Exception as error:  # pragma: no cover - the failure being looked for
        raise AssertionError(f"{name}({given_values!r}) raised {error!r}") from error
    if name == "staged":
        target = (
            sa.select(*element.c) if element.c else sa.select(sa.literal(1)).select_from(element)
        )
    elif name == "CSV":
        target = CreateStage(Stage("s", file_format=element))
    elif name == "Stage":
        target = CreateStage(element)
    else:
        target = element
    for dialect in DIALECTS:
        try:
            str(target.compile(dialect=dialect))
        except sa.exc.SQLAlchemyError:
            pass
        except Exception as error:  # pragma: no cover - the failure being looked for
            raise AssertionError(
                f"{name}({given_values!r}) compiled for {dialect}: {error!r}"
            ) from error
    if name in _RUNNABLE and not any(
        isinstance(v, str) and "/" in v for v in given_values.values()
    ):
        try:
            with harness.engine.begin() as conn:
                result = conn.execute(target)
                if result.returns_rows:
                    result.fetchall()
        except Exception as error:
            assert_not_internal(error, f"{name}({given_values!r})")
        if "purge" in given_values:
            harness.restore()
