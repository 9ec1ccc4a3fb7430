"""Snowflake's DDL spellings: CREATE OR ALTER, RENAME TO, REFRESH and the directory settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import CompileError

from sqla_stage import CSV, AlterStage, CreateFileFormat, CreateStage, ListFiles, Put, Stage, parse
from sqla_stage.errors import StageArgumentError, StageParseError, StageRuntimeError

SNOWFLAKE = snowdialect.dialect()
DATABEND = databend_dialect.DatabendDialect()
MATRIXONE = mysql.dialect()
WATCHED = Stage(
    "watched",
    url="s3://bucket/files/",
    storage_integration="my_int",
    directory=True,
    directory_options={"auto_refresh": True, "notification_integration": "MY_NOTE"},
)


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            CreateStage(Stage("s", comment="c"), or_alter=True),
            "CREATE OR ALTER STAGE s COMMENT = 'c'",
        ),
        (
            CreateFileFormat("f", CSV(skip_header=1), or_alter=True),
            "CREATE OR ALTER FILE FORMAT f TYPE = CSV SKIP_HEADER = 1",
        ),
        (AlterStage("s", rename_to="t"), "ALTER STAGE s RENAME TO t"),
        (
            AlterStage("s", if_exists=True, rename_to=Stage("t", schema="other")),
            "ALTER STAGE IF EXISTS s RENAME TO other.t",
        ),
        (AlterStage("s", refresh=True), "ALTER STAGE s REFRESH"),
        (
            AlterStage("s", refresh=True, subpath="data/it's"),
            "ALTER STAGE s REFRESH SUBPATH = 'data/it''s'",
        ),
        (
            CreateStage(WATCHED),
            "CREATE STAGE watched URL = 's3://bucket/files/' STORAGE_INTEGRATION = my_int "
            "DIRECTORY = (ENABLE = TRUE AUTO_REFRESH = TRUE NOTIFICATION_INTEGRATION = 'MY_NOTE')",
        ),
        (
            CreateStage(Stage("i", directory=False, directory_options={"auto_refresh": False})),
            "CREATE STAGE i DIRECTORY = (ENABLE = FALSE AUTO_REFRESH = FALSE)",
        ),
    ],
)
def test_snowflake_sql_and_round_trip(element: Any, expected: str) -> None:
    text = str(element.compile(dialect=SNOWFLAKE))
    assert text == expected
    assert str(parse(text, dialect=SNOWFLAKE).compile(dialect=SNOWFLAKE)) == expected


@pytest.mark.parametrize(
    ("element", "message"),
    [
        (CreateStage(Stage("s", url="s3://b/"), or_alter=True), "CREATE OR ALTER STAGE"),
        (CreateFileFormat("f", CSV(), or_alter=True), "FILE FORMAT"),
        (AlterStage("s", rename_to="t"), "RENAME TO"),
        (AlterStage("s", refresh=True), "REFRESH"),
        (
            CreateStage(
                Stage("w", url="s3://b/", directory=True, directory_options={"auto_refresh": True})
            ),
            "directory",
        ),
    ],
)
@pytest.mark.parametrize("dialect", [DATABEND, MATRIXONE], ids=["databend", "matrixone"])
def test_other_engines_refuse(element: Any, message: str, dialect: Any) -> None:
    with pytest.raises(CompileError, match=message):
        element.compile(dialect=dialect)


def test_parsed_directory_settings() -> None:
    stage = parse(
        "CREATE STAGE m URL = 'gcs://b/' STORAGE_INTEGRATION = i DIRECTORY = "
        "(ENABLE = true, REFRESH_ON_CREATE = false AUTO_REFRESH = true)"
    ).stage
    assert (stage.directory, stage.directory_options) == (
        True,
        {"refresh_on_create": False, "auto_refresh": True},
    )


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("CREATE STAGE s DIRECTORY = (AUTO_REFRESH = TRUE)", "ENABLE = TRUE or FALSE"),
        ("CREATE STAGE s DIRECTORY = (ENABLE = TRUE ENABLE = TRUE)", "a second ENABLE"),
        ("CREATE STAGE s DIRECTORY = (ENABLE = TRUE AUTO_REFRESH = 1)", "TRUE or FALSE"),
        ("CREATE OR ALTER CONNECTION c STORAGE_TYPE = 's3'", "STAGE or FILE FORMAT"),
        ("ALTER STAGE s REFRESH SUBPATH = 'a' x", "the end"),
        ("ALTER STAGE s RENAME t", "TO"),
    ],
)
def test_parse_refuses(statement: str, message: str) -> None:
    with pytest.raises(StageParseError, match=message):
        parse(statement)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CreateStage(Stage("s"), or_alter=True, or_replace=True), "cannot be combined"),
        (lambda: CreateFileFormat("f", CSV(), or_alter=True, if_not_exists=True), "combined"),
        (lambda: AlterStage("s", rename_to="t", comment="x"), "one of them"),
        (lambda: AlterStage("s", refresh=True, rename_to="t"), "one of them"),
        (lambda: AlterStage("s", subpath="a"), "subpath goes with refresh"),
        (lambda: AlterStage("s", refresh=True, subpath="/a"), "relative path"),
        (lambda: AlterStage("s", rename_to="~"), "user stage"),
        (lambda: Stage("s", directory_options={"auto_refresh": True}), "need directory="),
        (lambda: Stage("s", directory=True, directory_options={"x": True}), "unknown directory"),
        (
            lambda: Stage("s", directory=True, directory_options={"auto_refresh": "yes"}),
            "True or False",
        ),
        (
            lambda: Stage("s", directory=True, directory_options={"notification_integration": "n"}),
            "need an external stage",
        ),
    ],
)
def test_arguments_are_checked(build: Any, message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        build()


def test_an_integration_and_credentials_replace_each_other() -> None:
    keyed = Stage("e", url="s3://b/", credentials={"aws_key_id": "k", "aws_secret_key": "s"})
    integrated = AlterStage(keyed, storage_integration="myint")
    assert (integrated.altered.storage_integration, integrated.altered.credentials) == (
        "myint",
        None,
    )
    assert str(integrated.compile(dialect=SNOWFLAKE)) == (
        "ALTER STAGE e SET STORAGE_INTEGRATION = myint"
    )
    keyed_again = AlterStage(integrated.altered, credentials={"aws_role": "r"})
    assert keyed_again.altered.storage_integration is None
    assert keyed_again.altered.credentials == {"aws_role": "r"}
    with pytest.raises(StageArgumentError, match="not both"):
        AlterStage(keyed, storage_integration="i", credentials={"aws_role": "r"})


def test_an_alter_keeps_the_directory_settings() -> None:
    altered = AlterStage(WATCHED, comment="x").altered
    assert altered.directory_options == WATCHED.directory_options
    assert AlterStage(WATCHED, directory=None).altered.directory_options is None


# -- the DuckDB runtime -------------------------------------------------------------------


def definitions(conn: Any) -> list[tuple[str, str]]:
    rows = conn.exec_driver_sql("SELECT name, definition FROM sqla_stage.stages ORDER BY 1")
    return [tuple(row) for row in rows]


def test_create_or_alter_stage_keeps_files_and_resets_the_rest(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("1\n")
    with engine.begin() as conn:
        created = conn.execute(CreateStage(Stage("lake", comment="one"), or_alter=True))
        assert created.scalar() == "Stage area LAKE successfully created."
        conn.execute(Put(str(tmp_path / "f.csv"), Stage("lake") / ""))
        altered = conn.execute(CreateStage(Stage("lake", directory=True), or_alter=True))
        assert altered.scalar() == "Statement executed successfully."
        assert definitions(conn) == [("lake", "CREATE STAGE lake DIRECTORY = (ENABLE = TRUE)")]
        assert [f.name for f in conn.execute(ListFiles(Stage("lake")))] == ["f.csv.gz"]
        with pytest.raises(StageRuntimeError, match="cannot turn internal stage @lake"):
            conn.execute(CreateStage(Stage("lake", url="memory://x/"), or_alter=True))
        with pytest.raises(StageRuntimeError, match="temporary or permanent"):
            conn.execute(CreateStage(Stage("lake", temporary=True), or_alter=True))


def test_create_or_alter_file_format(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(CreateFileFormat("f", CSV(), comment="old"))
        conn.execute(CreateFileFormat("f", CSV(skip_header=1), or_alter=True))
        row = conn.exec_driver_sql("SELECT definition, comment FROM sqla_stage.file_formats").one()
    assert tuple(row) == ("CREATE FILE FORMAT f TYPE = CSV SKIP_HEADER = 1", None)


def test_rename_an_empty_internal_stage_and_roll_it_back(engine: Any) -> None:
    with engine.begin() as conn:
        Stage("former", comment="c").create(conn)
    with engine.connect() as conn:
        conn.exec_driver_sql("ALTER STAGE former RENAME TO renamed")
        assert definitions(conn) == [("renamed", "CREATE STAGE renamed COMMENT = 'c'")]
        conn.rollback()
    with engine.begin() as conn:
        assert definitions(conn) == [("former", "CREATE STAGE former COMMENT = 'c'")]
        conn.execute(AlterStage("former", rename_to="renamed"))
    with engine.connect() as conn:
        assert definitions(conn) == [("renamed", "CREATE STAGE renamed COMMENT = 'c'")]


def test_rename_an_external_stage(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE ext URL = 'memory://r/' DIRECTORY = (ENABLE = TRUE)")
        conn.exec_driver_sql("ALTER STAGE IF EXISTS ext RENAME TO ext2")
        status = conn.execute(AlterStage("gone", if_exists=True, rename_to="x")).scalar()
        assert status == "Statement executed successfully (gone does not exist)."
        assert definitions(conn) == [
            ("ext2", "CREATE STAGE ext2 URL = 'memory://r/' DIRECTORY = (ENABLE = TRUE)")
        ]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("ALTER STAGE lake RENAME TO other", "holds files"),
        ("ALTER STAGE empty RENAME TO lake", "stage @lake already exists"),
        ("ALTER STAGE empty RENAME TO x; ", "sub-stage"),
        ("ALTER STAGE nope RENAME TO x", "stage @nope does not exist"),
        ("ALTER STAGE lake REFRESH", "has no directory table"),
    ],
)
def test_runtime_refuses(engine: Any, tmp_path: Path, statement: str, message: str) -> None:
    (tmp_path / "f.csv").write_text("1\n")
    with engine.begin() as conn:
        Stage("lake").create(conn)
        Stage("empty").create(conn)
        conn.exec_driver_sql("CREATE STAGE sub URL = 'stage://empty/part/'")
        conn.execute(Put(str(tmp_path / "f.csv"), Stage("lake") / ""))
    with engine.connect() as conn, pytest.raises(StageRuntimeError, match=message):
        conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert [name for name, _ in definitions(conn)] == ["empty", "lake", "sub"]


def test_refresh_reports_each_change_of_the_directory_once(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text("{}\n")
    (tmp_path / "g.json").write_text("[]\n")
    registered = ("REGISTERED_NEW", "File registered successfully.")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE d DIRECTORY = (ENABLE = TRUE AUTO_REFRESH = FALSE)")
        conn.execute(Put(str(tmp_path / "f.json"), Stage("d") / "data/"))
        conn.execute(Put(str(tmp_path / "g.json"), Stage("d") / "other/"))
        result = conn.exec_driver_sql("ALTER STAGE d REFRESH SUBPATH = 'data/'")
        assert list(result.keys()) == ["file", "status", "description"]
        assert result.fetchall() == [("data/f.json.gz", *registered)]
        assert conn.exec_driver_sql("ALTER STAGE d REFRESH").fetchall() == [
            ("other/g.json.gz", *registered)
        ]
        assert conn.exec_driver_sql("ALTER STAGE d REFRESH").fetchall() == []
        conn.exec_driver_sql("REMOVE @d/other/")
        conn.execute(Put(str(tmp_path / "g.json"), Stage("d") / "data/"))
        assert conn.exec_driver_sql("ALTER STAGE d REFRESH").fetchall() == [
            ("data/g.json.gz", *registered),
            ("other/g.json.gz", "REMOVED", "File removed from the directory table."),
        ]
        missing = conn.execute(AlterStage("nope", if_exists=True, refresh=True))
        assert missing.fetchall() == []
    with engine.begin() as conn:  # a stage created again starts with an empty directory
        conn.exec_driver_sql("DROP STAGE d")
        conn.exec_driver_sql("CREATE STAGE d DIRECTORY = (ENABLE = TRUE)")
        conn.execute(Put(str(tmp_path / "f.json"), Stage("d") / "data/"))
        assert conn.exec_driver_sql("ALTER STAGE d REFRESH").fetchall() == [
            ("data/f.json.gz", *registered)
        ]


def test_directory_settings_persist(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE STAGE w URL = 'memory://w/' DIRECTORY = (ENABLE = TRUE AUTO_REFRESH = TRUE)"
        )
        conn.exec_driver_sql("ALTER STAGE w SET COMMENT = 'c'")
        assert definitions(conn) == [
            (
                "w",
                "CREATE STAGE w URL = 'memory://w/' "
                "DIRECTORY = (ENABLE = TRUE AUTO_REFRESH = TRUE) COMMENT = 'c'",
            )
        ]
