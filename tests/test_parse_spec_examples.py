"""Every SQL example of the specification, verbatim, parsed into constructs.

Each example is parsed, its construct is checked, and compiling it for its engine's
dialect then parsing and compiling again gives the same text (idempotence).
"""

from __future__ import annotations

from typing import Any

import pytest
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import TextClause

from sqla_stage import (
    CSV,
    CopyInto,
    CreateStage,
    FileFormat,
    ListFiles,
    Parquet,
    Presign,
    RemoveFiles,
    SelectIntoOutfile,
    Stage,
    StageArgumentError,
    StageKind,
    StageParseError,
    StagePath,
    parse,
)

SNOWFLAKE = snowdialect.SnowflakeDialect()
DATABEND = databend_dialect.DatabendDialect()
MATRIXONE = mysql.dialect()


def assert_idempotent(construct: Any, dialect: Dialect) -> str:
    """Compile for ``dialect``; parsing that text and compiling again gives the same text."""
    text = str(construct.compile(dialect=dialect))
    again = parse(text, dialect=dialect)
    assert str(again.compile(dialect=dialect)) == text
    return text


def table_of(copy: CopyInto) -> tuple[str, str | None]:
    assert copy.table is not None
    return copy.table.name, copy.table.schema


# -- 000: MatrixOne CREATE STAGE and INTO OUTFILE ------------------------------------------------


def test_000_create_stage_enable() -> None:
    stage_ddl = parse("CREATE STAGE stage1 URL='/tmp' ENABLE = TRUE;")
    assert isinstance(stage_ddl, CreateStage)
    stage = stage_ddl.stage
    assert (stage.name, stage.url, stage.directory, stage.kind) == (
        "stage1",
        "/tmp",
        True,
        StageKind.EXTERNAL,
    )
    text = assert_idempotent(stage_ddl, MATRIXONE)
    assert text == "CREATE STAGE stage1 URL = '/tmp' ENABLE = TRUE"


def test_000_select_into_outfile_stage() -> None:
    outfile = parse("SELECT * FROM user INTO OUTFILE 'stage1:/user.csv';")
    assert isinstance(outfile, SelectIntoOutfile)
    assert isinstance(outfile.query, TextClause)
    assert outfile.query.text == "SELECT * FROM user"
    assert outfile.location == StagePath(Stage("stage1"), "user.csv")
    text = assert_idempotent(outfile, MATRIXONE)
    assert text == "SELECT * FROM user INTO OUTFILE 'stage1:/user.csv'"


def test_000_select_into_outfile_plain_path() -> None:
    outfile = parse("SELECT * FROM user INTO OUTFILE '~/tmp/csv2/user.txt';")
    assert isinstance(outfile, SelectIntoOutfile)
    assert outfile.location == "~/tmp/csv2/user.txt"
    assert_idempotent(outfile, MATRIXONE)


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE `user` (`id` int(11) ,`user_name` varchar(255) ,`sex` varchar(255));",
        "INSERT INTO user(id,user_name,sex) values('1', 'weder', 'man'), ('2', 'tom', 'man'), "
        "('3', 'wederTom', 'man');",
        "select * from HOME_SALES;",
        "SELECT last_query_id();",
    ],
)
def test_examples_that_are_not_stage_statements_are_refused(sql: str) -> None:
    with pytest.raises(StageParseError):
        parse(sql)


# -- 001 / 003: the Databend user-stage RFC ---------------------------------------------------


def test_rfc_create_stage_with_at() -> None:
    ddl = parse("CREATE STAGE @my_stage;")
    assert isinstance(ddl, CreateStage)
    assert (ddl.stage.name, ddl.stage.kind, ddl.stage.url) == ("my_stage", StageKind.INTERNAL, None)
    assert assert_idempotent(ddl, DATABEND) == "CREATE STAGE my_stage"


@pytest.mark.parametrize(
    ("sql", "stage"),
    [
        ("COPY INTO my_table FROM @my_stage;", Stage("my_stage")),
        ("COPY INTO my_table from @~;", Stage.user()),
        ("COPY INTO my_table FROM @~;", Stage.user()),
        ("COPY INTO my_table FROM @bend_internal_user_root;", Stage("bend_internal_user_root")),
    ],
)
def test_rfc_copy_into_table(sql: str, stage: Stage) -> None:
    copy = parse(sql)
    assert isinstance(copy, CopyInto)
    assert not copy.is_unload
    assert table_of(copy) == ("my_table", None)
    assert copy.location == StagePath(stage)
    assert copy.file_format is None and copy.copy_options == {}
    assert_idempotent(copy, DATABEND)


def test_rfc_future_table_stage_is_refused() -> None:
    # "Future possibilities": a table stage written @#my_table. Databend does not implement
    # it (it looks for a stage named '#my_table'), so it is refused, not read as @%my_table.
    with pytest.raises(StageArgumentError, match=r"@#my_table: .*future possibility.*@%table"):
        parse("COPY INTO my_table FROM @#my_table;")


def test_rfc_list_user_stage() -> None:
    listing = parse("LIST @~;")
    assert isinstance(listing, ListFiles)
    assert listing.location == StagePath(Stage.user()) and listing.pattern is None
    assert assert_idempotent(listing, DATABEND) == "LIST @~"


def test_rfc_presign() -> None:
    presign = parse("PRESIGN @~/data.csv;")
    assert isinstance(presign, Presign)
    assert presign.location == StagePath(Stage.user(), "data.csv")
    assert (presign.expire, presign.method) == (None, None)
    assert assert_idempotent(presign, DATABEND) == "PRESIGN @~/data.csv"


def test_rfc_remove_with_pattern() -> None:
    remove = parse("REMOVE @~ PATTERN = 'ontime.*';")
    assert isinstance(remove, RemoveFiles)
    assert remove.location == StagePath(Stage.user())
    assert remove.pattern == "ontime.*"
    assert assert_idempotent(remove, DATABEND) == "REMOVE @~ PATTERN = 'ontime.*'"


# -- 002: Databend "What is a stage" --------------------------------------------------------------


def test_002_create_internal_stage() -> None:
    ddl = parse(
        "-- Create an internal stage named my_internal_stage\nCREATE STAGE my_internal_stage;"
    )
    assert isinstance(ddl, CreateStage)
    assert (ddl.stage.name, ddl.stage.kind) == ("my_internal_stage", StageKind.INTERNAL)
    assert_idempotent(ddl, DATABEND)


def test_002_create_external_stage_with_connection() -> None:
    sql = (  # verbatim, with the trailing space after the name
        "-- Create an external stage named my_external_stage\n"
        "CREATE STAGE my_external_stage \n"
        "    URL = 's3://databend'\n"
        "    CONNECTION = (\n"
        "        ENDPOINT_URL = '<YOUR_STORAGE_ENDPOINT>',\n"
        "        AWS_KEY_ID = '<YOUR-KEY-ID>',\n"
        "        AWS_SECRET_KEY = '<YOUR-SECRET-KEY>'\n"
        "    );"
    )
    ddl = parse(sql)
    assert isinstance(ddl, CreateStage)
    stage = ddl.stage
    assert (stage.name, stage.url, stage.kind) == (
        "my_external_stage",
        "s3://databend",
        StageKind.EXTERNAL,
    )
    assert dict(stage.credentials or {}) == {
        "endpoint_url": "<YOUR_STORAGE_ENDPOINT>",
        "aws_key_id": "<YOUR-KEY-ID>",
        "aws_secret_key": "<YOUR-SECRET-KEY>",
    }
    text = assert_idempotent(ddl, DATABEND)
    assert "ENDPOINT_URL = '<YOUR_STORAGE_ENDPOINT>'" in text
    assert "ACCESS_KEY_ID = '<YOUR-KEY-ID>'" in text
    assert_idempotent(ddl, SNOWFLAKE)


@pytest.mark.parametrize(
    ("sql", "stage"),
    [("LIST @my_external_stage;", Stage("my_external_stage")), ("LIST @~;", Stage.user())],
)
def test_002_list(sql: str, stage: Stage) -> None:
    listing = parse(sql)
    assert isinstance(listing, ListFiles)
    assert listing.location == StagePath(stage)
    assert_idempotent(listing, DATABEND)


# -- 004: Snowflake COPY INTO <location> --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "s3://mybucket/./../a.csv",
        "azure://myaccount.blob.core.windows.net/mycontainer/./../a.csv",
        "s3://mybucket 1/prefix 1/file 1.csv",
        "azure://myaccount.blob.core.windows.net/mycontainer/encrypted_files/file 1.csv",
    ],
)
def test_004_unload_to_quoted_url(url: str) -> None:
    copy = parse(f"COPY INTO '{url}' FROM mytable;")
    assert isinstance(copy, CopyInto) and copy.is_unload
    assert copy.location == url
    assert table_of(copy) == ("mytable", None)
    assert assert_idempotent(copy, SNOWFLAKE) == f"COPY INTO '{url}' FROM mytable"


@pytest.mark.parametrize(
    ("sql", "location"),
    [
        (
            "COPY INTO '@mystage/path 1/file 1.csv' FROM mytable;",
            StagePath(Stage("mystage"), "path 1/file 1.csv"),
        ),
        (
            "COPY INTO '@%mytable/path 1/file 1.csv' FROM mytable;",
            StagePath(Stage.table("mytable"), "path 1/file 1.csv"),
        ),
        (
            "COPY INTO '@~/path 1/file 1.csv' FROM mytable;",
            StagePath(Stage.user(), "path 1/file 1.csv"),
        ),
    ],
)
def test_004_unload_to_quoted_stage_location(sql: str, location: StagePath) -> None:
    copy = parse(sql)
    assert isinstance(copy, CopyInto) and copy.is_unload
    assert copy.location == location
    # The Snowflake driver's paramstyle doubles '%' in the compiled text.
    assert assert_idempotent(copy, SNOWFLAKE) == sql.rstrip(";").replace("%", "%%")


@pytest.mark.parametrize(
    ("fragment", "path"),
    [
        ("COPY INTO @mystage/data.csv ...", "data.csv"),
        ("COPY INTO @mystage/data.gz ...", "data.gz"),
        ("COPY INTO @mystage/data.csv.gz ...", "data.csv.gz"),
        ("copy into @stage/data.csv ...", "data.csv"),
    ],
)
def test_004_elided_fragments(fragment: str, path: str) -> None:
    # The spec elides the rest with "...": verbatim it is not a statement, and the parser
    # says where; completed with a source, it is an unload to that file.
    with pytest.raises(StageParseError) as error:
        parse(fragment)
    assert error.value.position == fragment.index("...")
    copy = parse(fragment.replace("...", "FROM mytable SINGLE = TRUE"))
    assert copy.location.path == path and copy.copy_options == {"single": True}
    assert_idempotent(copy, SNOWFLAKE)


def test_004_table_stage_named_format_gzip() -> None:
    copy = parse(
        "COPY INTO @%orderstiny/result/data_\n"
        "  FROM orderstiny FILE_FORMAT = (FORMAT_NAME ='myformat' COMPRESSION='GZIP');"
    )
    assert copy.location == StagePath(Stage.table("orderstiny"), "result/data_")
    assert table_of(copy) == ("orderstiny", None)
    assert copy.file_format == FileFormat("myformat", compression="GZIP")
    assert assert_idempotent(copy, SNOWFLAKE) == (
        "COPY INTO @%%orderstiny/result/data_ FROM orderstiny "
        "FILE_FORMAT = (FORMAT_NAME = 'myformat' COMPRESSION = GZIP)"
    )


def test_004_query_to_named_stage() -> None:
    copy = parse(
        "COPY INTO @my_stage/result/data_ FROM (SELECT * FROM orderstiny)\n"
        "   file_format=(format_name='myformat' compression='gzip');"
    )
    assert copy.location == StagePath(Stage("my_stage"), "result/data_")
    assert isinstance(copy.query, TextClause) and copy.query.text == "SELECT * FROM orderstiny"
    assert copy.file_format == FileFormat("myformat", compression="GZIP")
    assert_idempotent(copy, SNOWFLAKE)


@pytest.mark.parametrize(
    "url",
    [
        "s3://mybucket/unload/",
        "gcs://mybucket/unload/",
        "azure://myaccount.blob.core.windows.net/unload/",
    ],
)
def test_004_storage_integration(url: str) -> None:
    copy = parse(
        f"COPY INTO '{url}'\n  FROM mytable\n  STORAGE_INTEGRATION = myint\n"
        "  FILE_FORMAT = (FORMAT_NAME = my_csv_format);"
    )
    assert copy.location == url
    assert copy.storage_integration == "myint"
    assert copy.file_format == FileFormat("my_csv_format")
    assert assert_idempotent(copy, SNOWFLAKE) == (
        f"COPY INTO '{url}' FROM mytable STORAGE_INTEGRATION = myint "
        "FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')"
    )


def test_004_aws_credentials() -> None:
    copy = parse(
        "COPY INTO 's3://mybucket/unload/'\n  FROM mytable\n"
        "  CREDENTIALS = (AWS_KEY_ID='xxxx' AWS_SECRET_KEY='xxxxx' AWS_TOKEN='xxxxxx')\n"
        "  FILE_FORMAT = (FORMAT_NAME = my_csv_format);"
    )
    assert dict(copy.credentials or {}) == {
        "aws_key_id": "xxxx",
        "aws_secret_key": "xxxxx",
        "aws_token": "xxxxxx",
    }
    assert copy.file_format == FileFormat("my_csv_format")
    assert_idempotent(copy, SNOWFLAKE)
    assert_idempotent(copy, DATABEND)


def test_004_azure_sas_token() -> None:
    copy = parse(
        "COPY INTO 'azure://myaccount.blob.core.windows.net/mycontainer/unload/'\n"
        "  FROM mytable\n  CREDENTIALS=(AZURE_SAS_TOKEN='xxxx')\n"
        "  FILE_FORMAT = (FORMAT_NAME = my_csv_format);"
    )
    assert copy.location == "azure://myaccount.blob.core.windows.net/mycontainer/unload/"
    assert dict(copy.credentials or {}) == {"azure_sas_token": "xxxx"}
    assert_idempotent(copy, SNOWFLAKE)


def test_004_null_if_and_empty_fields() -> None:
    copy = parse(
        "copy into @~ from HOME_SALES\n"
        "file_format=(type=csv null_if = ('NULL', 'null')\n"
        "empty_field_as_null=false);"
    )
    assert copy.location == StagePath(Stage.user())
    assert table_of(copy) == ("home_sales", None)
    assert copy.file_format == CSV(null_if=("NULL", "null"), empty_field_as_null=False)
    assert assert_idempotent(copy, SNOWFLAKE) == (
        "COPY INTO @~ FROM home_sales FILE_FORMAT = (TYPE = CSV NULL_IF = ('NULL', 'null') "
        "EMPTY_FIELD_AS_NULL = FALSE)"
    )


def test_004_single_file() -> None:
    copy = parse("copy into @~ from HOME_SALES\nsingle = true;")
    assert copy.copy_options == {"single": True}
    assert table_of(copy) == ("home_sales", None)
    assert assert_idempotent(copy, SNOWFLAKE) == "COPY INTO @~ FROM home_sales SINGLE = TRUE"
    assert_idempotent(copy, DATABEND)


def test_004_include_query_id_into_table_stage() -> None:
    sql = """-- Unload rows from the T1 table into the T1 table stage:
COPY INTO @%t1
  FROM t1
  FILE_FORMAT=(TYPE=parquet)
  INCLUDE_QUERY_ID=true;"""
    copy = parse(sql)
    assert copy.location == StagePath(Stage.table("t1"))
    assert table_of(copy) == ("t1", None)
    assert copy.file_format == Parquet()
    assert copy.copy_options == {"include_query_id": True}
    assert assert_idempotent(copy, SNOWFLAKE) == (
        "COPY INTO @%%t1 FROM t1 FILE_FORMAT = (TYPE = PARQUET) INCLUDE_QUERY_ID = TRUE"
    )


def test_004_ls_table_stage() -> None:
    listing = parse("LS @%t1;")
    assert isinstance(listing, ListFiles)
    assert listing.location == StagePath(Stage.table("t1"))
    assert assert_idempotent(listing, SNOWFLAKE) == "LIST @%%t1"


def test_004_validation_mode() -> None:
    copy = parse(
        "COPY INTO @my_stage\nFROM (SELECT * FROM orderstiny LIMIT 5)\n"
        "VALIDATION_MODE='RETURN_ROWS';"
    )
    assert copy.location == StagePath(Stage("my_stage"))
    assert isinstance(copy.query, TextClause)
    assert copy.query.text == "SELECT * FROM orderstiny LIMIT 5"
    assert copy.copy_options == {"validation_mode": "RETURN_ROWS"}
    assert assert_idempotent(copy, SNOWFLAKE) == (
        "COPY INTO @my_stage FROM (SELECT * FROM orderstiny LIMIT 5) VALIDATION_MODE = RETURN_ROWS"
    )


def test_spec_examples_need_no_dialect_but_take_one() -> None:
    # The verbatim engine text parses the same with the engine's dialect given.
    sql = "REMOVE @~ PATTERN = 'ontime.*';"
    assert parse(sql, dialect=DATABEND).pattern == parse(sql).pattern == "ontime.*"
    copy = parse("COPY INTO @%t1 FROM t1 FILE_FORMAT=(TYPE=parquet)", dialect=SNOWFLAKE)
    assert copy.location == StagePath(Stage.table("t1"))
