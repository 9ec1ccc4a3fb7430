"""Each engine's spelling of an option is read back as the canonical construct option."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.sql.elements import ColumnClause, TextClause

from sqla_stage import (
    CSV,
    JSON,
    CreateFileFormat,
    CreateStage,
    DescribeStage,
    DropFileFormat,
    DropStage,
    FileFormat,
    Get,
    ListFiles,
    Parquet,
    Presign,
    Put,
    RemoveFiles,
    Stage,
    StageKind,
    StagePath,
    parse,
)
from sqla_stage.staged import StagedFiles

SNOWFLAKE = snowdialect.SnowflakeDialect()
DATABEND = databend_dialect.DatabendDialect()
MATRIXONE = mysql.dialect()


def creds(construct: Any) -> dict[str, str]:
    holder = construct.stage if isinstance(construct, CreateStage) else construct
    return dict(holder.credentials or {})


# -- Snowflake --------------------------------------------------------------------------------


def test_snowflake_s3compat_endpoint() -> None:
    ddl = parse(
        "CREATE STAGE s URL = 's3compat://b/p/' ENDPOINT = 'h:9000' "
        "CREDENTIALS = (AWS_KEY_ID = 'k' AWS_SECRET_KEY = 's')"
    )
    assert ddl.stage.url == "s3compat://b/p/"
    assert creds(ddl) == {"aws_key_id": "k", "aws_secret_key": "s", "endpoint_url": "h:9000"}
    text = str(ddl.compile(dialect=SNOWFLAKE))
    assert "URL = 's3compat://b/p/' ENDPOINT = 'h:9000'" in text


def test_snowflake_stage_parameters() -> None:
    ddl = parse(
        "create or replace temp stage db.sch.St URL='s3://b/'\n"
        "STORAGE_INTEGRATION = MyInt, ENCRYPTION = (TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = 'k')\n"
        "DIRECTORY = (ENABLE = TRUE) FILE_FORMAT = (TYPE = 'csv' COMPRESSION = 'gzip')\n"
        "COPY_OPTIONS = (ON_ERROR = 'skip_file', PURGE = TRUE) COMMENT = 'c'"
    )
    stage = ddl.stage
    assert (ddl.or_replace, stage.temporary) == (True, True)
    assert (stage.schema, stage.name) == ("db.sch", "st")
    assert stage.storage_integration == "myint"
    assert dict(stage.encryption or {}) == {"type": "AWS_SSE_KMS", "kms_key_id": "k"}
    assert stage.directory is True
    assert stage.file_format == CSV(compression="GZIP")
    assert stage.copy_options == {"on_error": "SKIP_FILE", "purge": True}
    assert stage.comment == "c"


@pytest.mark.parametrize(
    ("encryption", "expected"),
    [
        ("(TYPE = NONE)", {"type": "NONE"}),
        ("(TYPE = 'none')", {"type": "NONE"}),
        ("(MASTER_KEY = 'bWs=')", {"type": "AWS_CSE", "master_key": "bWs="}),
        ("(TYPE = AWS_SSE_S3)", {"type": "AWS_SSE_S3"}),
    ],
)
def test_encryption_forms(encryption: str, expected: dict[str, str]) -> None:
    copy = parse(f"COPY INTO 's3://b/' FROM t ENCRYPTION = {encryption}")
    assert dict(copy.encryption or {}) == expected


def test_credentials_role_and_sas() -> None:
    assert creds(parse("COPY INTO 's3://b/' FROM t CREDENTIALS = (AWS_ROLE = 'arn')")) == {
        "aws_role": "arn"
    }
    assert creds(parse("COPY INTO t FROM 'azure://a/c' CREDENTIALS=(AZURE_SAS_TOKEN='x')")) == {
        "azure_sas_token": "x"
    }


def test_canonical_credentials_with_endpoint_and_region() -> None:
    copy = parse(
        "COPY INTO t FROM 's3://b/' CREDENTIALS = (AWS_KEY_ID = 'k' AWS_SECRET_KEY = 's' "
        "ENDPOINT_URL = 'http://h' REGION = 'r')"
    )
    assert creds(copy) == {
        "aws_key_id": "k",
        "aws_secret_key": "s",
        "endpoint_url": "http://h",
        "region": "r",
    }


def test_presigned_url_function() -> None:
    presign = parse("select get_presigned_url(@My_Stage, 'dir/f 1.csv', 3600);")
    assert isinstance(presign, Presign)
    assert presign.location == StagePath(Stage("my_stage"), "dir/f 1.csv")
    assert presign.expire == 3600
    assert str(presign.compile(dialect=SNOWFLAKE)) == (
        "SELECT GET_PRESIGNED_URL(@my_stage, 'dir/f 1.csv', 3600)"
    )


def test_put_and_get_unquoted_local_paths() -> None:
    put = parse("PUT file:///tmp/data/*.csv @~/staged AUTO_COMPRESS = TRUE, PARALLEL = 8")
    assert isinstance(put, Put)
    assert (put.local_url, put.location) == (
        "file:///tmp/data/*.csv",
        StagePath(Stage.user(), "staged"),
    )
    assert put.transfer_options == {"auto_compress": True, "parallel": 8}
    get = parse("get @%t/out/ file:///tmp/dl/ pattern = '.*'")
    assert isinstance(get, Get)
    assert (get.location, get.local_url) == (StagePath(Stage.table("t"), "out/"), "file:///tmp/dl/")


def test_header_bare_and_partition_by() -> None:
    copy = parse(
        "COPY INTO @s/d/ FROM t PARTITION BY ('date=' || to_varchar(d, 'YYYY')) "
        "FILE_FORMAT = (TYPE = PARQUET) MAX_FILE_SIZE = 32000000 HEADER"
    )
    assert copy.copy_options == {"max_file_size": 32000000, "header": True}
    assert isinstance(copy.partition_by, ColumnClause)
    assert copy.partition_by.name == "('date=' || to_varchar(d, 'YYYY'))"


def test_query_source_keeps_colons_literal() -> None:
    copy = parse("COPY INTO @s FROM (SELECT a::int, 'x:y' FROM t WHERE b = :c)")
    assert isinstance(copy.query, TextClause)
    assert copy.query.text == "SELECT a\\:\\:int, 'x\\:y' FROM t WHERE b = \\:c"
    assert not copy.query._bindparams
    assert str(copy) == "COPY INTO @s FROM (SELECT a::int, 'x:y' FROM t WHERE b = :c)"


# -- Databend ---------------------------------------------------------------------------------


def test_databend_connection_and_format_spellings() -> None:
    copy = parse(
        "COPY INTO 's3://b/p/' CONNECTION = (ENDPOINT_URL = 'http://h', ACCESS_KEY_ID = 'k', "
        "SECRET_ACCESS_KEY = 's', SESSION_TOKEN = 't', REGION = 'r') FROM t "
        "FILE_FORMAT = (TYPE = CSV QUOTE = '\"' NULL_DISPLAY = 'NULL' EMPTY_FIELD_AS = STRING "
        "OUTPUT_HEADER = TRUE COMPRESSION = GZIP) SINGLE = TRUE",
        dialect=DATABEND,
    )
    assert creds(copy) == {
        "endpoint_url": "http://h",
        "aws_key_id": "k",
        "aws_secret_key": "s",
        "aws_token": "t",
        "region": "r",
    }
    assert copy.file_format == CSV(
        field_optionally_enclosed_by='"',
        null_if=("NULL",),
        empty_field_as_null=False,
        compression="GZIP",
    )
    assert copy.copy_options == {"single": True, "header": True}


def test_databend_role_ndjson_and_abort() -> None:
    copy = parse(
        "COPY INTO t FROM 's3://b/' CONNECTION = (ROLE_ARN = 'arn') "
        "FILE_FORMAT = (TYPE = NDJSON) ON_ERROR = ABORT"
    )
    assert creds(copy) == {"aws_role": "arn"}
    assert copy.file_format == JSON()
    assert copy.copy_options == {"on_error": "ABORT_STATEMENT"}
    assert "ON_ERROR = ABORT" in str(copy.compile(dialect=DATABEND))


def test_databend_stage_copy_options_unwrapped() -> None:
    ddl = parse(
        "CREATE STAGE s FILE_FORMAT = (TYPE = CSV EMPTY_FIELD_AS = NULL) "
        "ON_ERROR = continue SIZE_LIMIT = 10"
    )
    assert ddl.stage.copy_options == {"on_error": "CONTINUE", "size_limit": 10}
    assert ddl.stage.file_format == CSV(empty_field_as_null=True)


def test_list_stage_table_function() -> None:
    listing = parse("SELECT * FROM list_stage(location => '@s/p/', pattern => '.*[.]csv')")
    assert isinstance(listing, ListFiles)
    assert (listing.location, listing.pattern) == (StagePath(Stage("s"), "p/"), ".*[.]csv")


def test_presign_methods() -> None:
    assert parse("PRESIGN UPLOAD @s/f.csv EXPIRE = 60").method == "UPLOAD"
    assert parse("presign download @s/f.csv").method == "DOWNLOAD"


# -- MatrixOne --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        "{\"access_key_id\"='k', \"secret_access_key\"='s', \"endpoint\"='e', \"region\"='r'}",
        "{'ACCESS_KEY_ID'='k', 'Secret_Access_Key'='s', 'ENDPOINT'='e', 'REGION'='r'}",
        "{'AWS_KEY_ID'='k', 'AWS_SECRET_KEY'='s', 'ENDPOINT'='e', 'AWS_REGION'='r'}",
    ],
)
def test_matrixone_credentials(credentials: str) -> None:
    ddl = parse(
        f"CREATE STAGE IF NOT EXISTS s URL = 's3://b/' CREDENTIALS = {credentials} "
        "ENABLE = FALSE COMMENT = 'c'",
        dialect=MATRIXONE,
    )
    assert creds(ddl) == {
        "aws_key_id": "k",
        "aws_secret_key": "s",
        "endpoint_url": "e",
        "region": "r",
    }
    assert (ddl.if_not_exists, ddl.stage.directory, ddl.stage.comment) == (True, False, "c")
    text = str(ddl.compile(dialect=MATRIXONE))
    assert "\"access_key_id\"='k'" in text
    assert str(parse(text, dialect=MATRIXONE).compile(dialect=MATRIXONE)) == text


def test_backtick_identifiers() -> None:
    ddl = parse("DROP STAGE IF EXISTS `My``Stage`", dialect=MATRIXONE)
    assert isinstance(ddl, DropStage)
    assert (ddl.stage.name, ddl.if_exists) == ("My`Stage", True)


# -- general ------------------------------------------------------------------------------------


def test_identifiers_are_case_insensitive_unless_quoted() -> None:
    copy = parse('COPY INTO Db.Sch.MyTable (A, "B") FROM @Sch."My Stage"/P')
    assert (copy.table.name, copy.table.schema) == ("mytable", "db.sch")
    assert copy.columns == ("a", "B")
    assert copy.location == StagePath(Stage("My Stage", schema="sch"), "P")


@pytest.mark.parametrize(
    "options",
    [
        "FILE_FORMAT=(TYPE=CSV,COMPRESSION=GZIP,SKIP_HEADER=1)",
        "FILE_FORMAT = (TYPE = 'csv' COMPRESSION = 'gzip' SKIP_HEADER = 1)",
        "file_format = (\n  type = csv\n  compression = gzip\n  skip_header = 1\n)",
    ],
)
def test_option_separators_and_quoting(options: str) -> None:
    copy = parse(f"COPY INTO t FROM @s {options}, FORCE = TRUE;")
    assert copy.file_format == CSV(compression="GZIP", skip_header=1)
    assert copy.copy_options == {"force": True}


def test_named_format_forms() -> None:
    assert parse(
        "COPY INTO t FROM @s FILE_FORMAT = (FORMAT_NAME = Db.Fmt)"
    ).file_format == FileFormat("fmt", "db")
    assert parse(
        "COPY INTO t FROM @s FILE_FORMAT = (FORMAT_NAME = 'db.sch.Fmt')"
    ).file_format == FileFormat("Fmt", "db.sch")


def test_file_format_ddl() -> None:
    ddl = parse(
        "CREATE OR REPLACE FILE FORMAT sch.f TYPE = JSON COMPRESSION = NONE "
        "FILE_EXTENSION = 'jsonl' COMMENT = 'j'"
    )
    assert isinstance(ddl, CreateFileFormat)
    assert (ddl.name.schema, ddl.name.name, ddl.or_replace, ddl.comment) == ("sch", "f", True, "j")
    assert ddl.file_format == JSON(compression=None, file_extension="jsonl")
    assert isinstance(parse("DROP FILE FORMAT f"), DropFileFormat)


@pytest.mark.parametrize(
    ("sql", "stage"),
    [
        ("DESCRIBE STAGE s", Stage("s")),
        ("DESC STAGE @%t", Stage.table("t")),
        ("desc stage @~", Stage.user()),
    ],
)
def test_describe(sql: str, stage: Stage) -> None:
    describe = parse(sql)
    assert isinstance(describe, DescribeStage)
    assert describe.stage.cache_key() == stage.cache_key()


def test_show_and_remove_aliases() -> None:
    assert parse("SHOW STAGES LIKE 'a%'").like == "a%"
    assert parse("show stages").like is None
    assert isinstance(parse("RM @s/p PATTERN = 'x'"), RemoveFiles)


def test_staged_select() -> None:
    query = parse(
        "SELECT $1, metadata$filename FROM @s/p/ (FILE_FORMAT => 'PARQUET', PATTERN => '.*')"
    )
    assert isinstance(query, sa.Select)
    files = query.get_final_froms()[0]
    assert isinstance(files, StagedFiles)
    assert files.location == StagePath(Stage("s"), "p/")
    assert (files.file_format, files.pattern) == (Parquet(), ".*")
    assert [str(c) for c in query.selected_columns] == ["$1", "metadata$filename"]
    assert (
        parse("SELECT * FROM @s (FILE_FORMAT => 'ndjson')").get_final_froms()[0].file_format
        == JSON()
    )


def test_external_stage_kind() -> None:
    assert parse("CREATE STAGE s URL = 'gcs://b/'").stage.kind is StageKind.EXTERNAL
