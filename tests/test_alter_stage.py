"""``AlterStage``: its SQL on each engine, its parsing, and ALTER STAGE on the DuckDB runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import CompileError

from sqla_stage import CSV, AlterStage, ListFiles, Put, Stage, parse
from sqla_stage.errors import StageArgumentError, StageRuntimeError

EXPORTS = Stage(
    "exports",
    url="s3://bucket/old/",
    credentials={"aws_key_id": "k", "aws_secret_key": "s", "endpoint_url": "http://h:9000"},
    comment="nightly",
)
DIALECTS: dict[str, Any] = {
    "default": None,
    "snowflake": snowdialect.dialect(),
    "databend": databend_dialect.DatabendDialect(),
    "matrixone": mysql.dialect(),
}


def sql(element: AlterStage, engine: str) -> str:
    return str(element.compile(dialect=DIALECTS[engine]))


@pytest.mark.parametrize(
    ("element", "engine", "expected"),
    [
        (AlterStage("s", comment="it's"), "default", "ALTER STAGE s SET COMMENT = 'it''s'"),
        (
            AlterStage("s", if_exists=True, file_format=CSV(skip_header=1), comment=None),
            "default",
            "ALTER STAGE IF EXISTS s SET FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) COMMENT = ''",
        ),
        (
            AlterStage(EXPORTS, url="s3://bucket/new/"),
            "snowflake",
            "ALTER STAGE exports SET URL = 's3compat://bucket/new/' ENDPOINT = 'h:9000'",
        ),
        (
            AlterStage(EXPORTS, comment="v2"),
            "databend",
            "CREATE OR REPLACE STAGE exports URL = 's3://bucket/old/' CONNECTION = "
            "(ACCESS_KEY_ID = 'k' SECRET_ACCESS_KEY = 's' ENDPOINT_URL = 'http://h:9000') "
            "COMMENT = 'v2'",
        ),
        (
            AlterStage(
                EXPORTS, url="s3://b/", credentials={"aws_key_id": "a", "aws_secret_key": "b"}
            ),
            "matrixone",
            "ALTER STAGE exports SET URL = 's3://b/' "
            "CREDENTIALS = {\"access_key_id\"='a', \"secret_access_key\"='b'}",
        ),
        (AlterStage(EXPORTS, directory=True), "matrixone", "ALTER STAGE exports SET ENABLE = TRUE"),
        (
            AlterStage("s", credentials=None, copy_options={}, directory=None),
            "default",
            "ALTER STAGE s SET CREDENTIALS = () DIRECTORY = (ENABLE = FALSE) COPY_OPTIONS = ()",
        ),
    ],
)
def test_alter_stage_sql(element: AlterStage, engine: str, expected: str) -> None:
    assert sql(element, engine) == expected


def test_what_an_engine_cannot_alter_in_one_statement() -> None:
    with pytest.raises(CompileError, match="one of URL, CREDENTIALS, ENABLE and COMMENT"):
        sql(AlterStage(EXPORTS, url="s3://b/", comment="c"), "matrixone")
    with pytest.raises(CompileError, match="DIRECTORY with other properties"):
        sql(AlterStage(EXPORTS, directory=True, comment="c"), "snowflake")
    with pytest.raises(CompileError, match="removing a storage integration"):
        sql(
            AlterStage(
                Stage("i", url="s3://b/", storage_integration="x"), storage_integration=None
            ),
            "default",
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "give the properties to change"),
        ({"colour": "red"}, "not colour"),
        ({"url": None}, "cannot become internal"),
        ({"comment": 3}, "comment must be a string"),
    ],
)
def test_alter_stage_checks_its_arguments(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        AlterStage("s", **arguments)
    with pytest.raises(StageArgumentError, match="user stage"):
        AlterStage(Stage.user(), comment="x")


@pytest.mark.parametrize("engine", ["default", "snowflake", "matrixone"])
@pytest.mark.parametrize(
    "element",
    [
        AlterStage(EXPORTS, comment="v2"),
        AlterStage(
            EXPORTS, url="s3://bucket/new/", credentials={"aws_key_id": "a", "aws_secret_key": "b"}
        ),
        AlterStage("s", if_exists=True, comment="c"),
    ],
    ids=["comment", "url", "if-exists"],
)
def test_alter_stage_round_trips(element: AlterStage, engine: str) -> None:
    text = sql(element, engine)
    parsed = parse(text, dialect=DIALECTS[engine])
    assert isinstance(parsed, AlterStage)
    assert sql(parsed, engine) == text
    assert parsed.if_exists == element.if_exists


def test_parsed_alter_collects_bare_copy_options() -> None:
    parsed = parse("alter stage s set on_error = continue, comment = 'x'")
    assert parsed.changes == {"copy_options": {"on_error": "CONTINUE"}, "comment": "x"}


def test_alter_needs_a_parameter() -> None:
    with pytest.raises(Exception, match="expected a stage parameter"):
        parse("ALTER STAGE s SET")


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = sa.create_engine(f"duckdb:///{tmp_path}/a.duckdb", plugins=["sqla_stage"])
    yield engine
    engine.dispose()


def test_runtime_alters_an_internal_stage_and_keeps_its_files(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("1\n")
    with engine.begin() as conn:
        Stage("lake", comment="one").create(conn)
        conn.execute(Put(str(tmp_path / "f.csv"), Stage("lake") / ""))
        result = conn.execute(AlterStage("lake", comment="two", file_format=CSV(skip_header=1)))
        assert result.scalar() == "Statement executed successfully."
        conn.exec_driver_sql("ALTER STAGE lake SET COPY_OPTIONS = (PURGE = TRUE)")
        row = conn.exec_driver_sql("DESC STAGE lake").one()
        assert (row.comment, row.number_of_files) == ("two", 1)
        assert row.file_format_options == "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)"
        assert row.copy_options == "COPY_OPTIONS = (PURGE = TRUE)"
        assert [f.name for f in conn.execute(ListFiles(Stage("lake")))] == ["f.csv.gz"]


def test_runtime_alters_an_external_stage(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE ext URL = 'memory://one/' COMMENT = 'a'")
        conn.exec_driver_sql("alter stage ext set url = 'memory://two/'")
        definition = conn.exec_driver_sql("SELECT definition FROM sqla_stage.stages").scalar()
        assert definition == "CREATE STAGE ext URL = 'memory://two/' COMMENT = 'a'"


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("ALTER STAGE lake SET URL = 'memory://x/'", "cannot turn internal stage @lake"),
        ("ALTER STAGE nope SET COMMENT = 'x'", "stage @nope does not exist"),
    ],
)
def test_runtime_refuses(engine: Any, statement: str, message: str) -> None:
    with engine.begin() as conn:
        Stage("lake").create(conn)
    with engine.connect() as conn, pytest.raises(StageRuntimeError, match=message):
        conn.exec_driver_sql(statement)


def test_runtime_alter_if_exists_of_a_missing_stage(engine: Any) -> None:
    with engine.begin() as conn:
        status = conn.execute(AlterStage("nope", if_exists=True, comment="x")).scalar()
    assert status == "Statement executed successfully (nope does not exist)."
