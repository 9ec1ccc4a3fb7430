"""Databend's named connections (issue 14): CREATE / DROP / DESC / SHOW CONNECTION(S).

The constructs, their SQL on each engine (Databend's own; a CompileError naming the
alternative on Snowflake and MatrixOne; the canonical text, secrets masked, on DuckDB), the
parser, and the DuckDB runtime: a connection's secrets are masked in DESC / SHOW and used
for real when a stage or a COPY names it (against the moto S3 server, with signatures
checked).
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb_engine
import pytest
import sqlalchemy as sa
from databend_sqlalchemy.databend_dialect import DatabendDialect
from moto_server import MotoS3
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import CompileError

from sqla_stage import (
    CopyInto,
    CreateConnection,
    CreateStage,
    DescribeConnection,
    DropConnection,
    ListFiles,
    NamedConnection,
    ShowConnections,
    Stage,
    StageArgumentError,
    StageParseError,
    StageProgrammingError,
    parse,
)
from sqla_stage.connections import ConnectionParameters
from sqla_stage.errors import StageRuntimeError

DATABEND = DatabendDialect()
SNOWFLAKE = snowdialect.dialect()
MATRIXONE = mysql.dialect()
DUCKDB = duckdb_engine.Dialect()
KEY, SECRET, TOKEN, ACCOUNT_KEY = "AKIA-conn-1a2b", "conn-secret-3c4d", "tok-5e6f", "acct-7a8b"
t = sa.table("t", sa.column("a"))

TORONTO = CreateConnection(
    "toronto", "s3", credentials={"aws_key_id": KEY, "aws_secret_key": SECRET}
)
S3_STAGE = Stage("my_s3_stage", url="s3://databend-toronto", credentials=NamedConnection("toronto"))


def text(element: Any, dialect: Any = None) -> str:
    return str(element.compile(dialect=dialect))


def revealed(element: Any) -> str:
    """The default form with its secrets, as the registry renders it (before sealing)."""
    return str(element.compile(compile_kwargs={"render_secrets": True}))


# Constructs and SQL


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            TORONTO,
            "CREATE CONNECTION toronto STORAGE_TYPE = 's3' "
            f"ACCESS_KEY_ID = '{KEY}' SECRET_ACCESS_KEY = '{SECRET}'",
        ),
        (
            CreateConnection(
                "iam",
                credentials={"aws_role": "arn:aws:iam::1:role/r"},
                parameters={"EXTERNAL_ID": "ext-1"},
                or_replace=True,
            ),
            "CREATE OR REPLACE CONNECTION iam STORAGE_TYPE = 's3' "
            "ROLE_ARN = 'arn:aws:iam::1:role/r' EXTERNAL_ID = 'ext-1'",
        ),
        (
            CreateConnection(
                "r2",
                credentials={
                    "region": "auto",
                    "endpoint_url": "https://r2.example",
                    "aws_key_id": KEY,
                    "aws_secret_key": SECRET,
                    "aws_token": TOKEN,
                },
                if_not_exists=True,
            ),
            "CREATE CONNECTION IF NOT EXISTS r2 STORAGE_TYPE = 's3' ACCESS_KEY_ID = "
            f"'{KEY}' SECRET_ACCESS_KEY = '{SECRET}' SESSION_TOKEN = '{TOKEN}' "
            "ENDPOINT_URL = 'https://r2.example' REGION = 'auto'",
        ),
        (
            CreateConnection(
                "az",
                "AZBLOB",
                parameters={"account_name": "acc", "account_key": ACCOUNT_KEY},
            ),
            "CREATE CONNECTION az STORAGE_TYPE = 'azblob' ACCOUNT_NAME = 'acc' "
            f"ACCOUNT_KEY = '{ACCOUNT_KEY}'",
        ),
        (DropConnection("toronto", if_exists=True), "DROP CONNECTION IF EXISTS toronto"),
        (DescribeConnection("toronto"), "DESC CONNECTION toronto"),
        (ShowConnections(), "SHOW CONNECTIONS"),
        (
            CreateStage(S3_STAGE),
            "CREATE STAGE my_s3_stage URL = 's3://databend-toronto' "
            "CONNECTION = (CONNECTION_NAME = 'toronto')",
        ),
        (
            CopyInto(t, "s3://b/data.csv", credentials=NamedConnection("my_s3_conn")),
            "COPY INTO t FROM 's3://b/data.csv' CONNECTION = (CONNECTION_NAME = 'my_s3_conn') "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO)",
        ),
        (
            CopyInto("s3://b/out/", t, credentials=NamedConnection("c")),
            "COPY INTO 's3://b/out/' CONNECTION = (CONNECTION_NAME = 'c') FROM t "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
        ),
    ],
)
def test_databend_renders_its_syntax_and_parses_it_back(element: Any, expected: str) -> None:
    assert text(element, DATABEND) == expected
    parsed = parse(expected, dialect=DATABEND)
    assert type(parsed) is type(element)
    assert text(parsed, DATABEND) == expected
    # The default string form is the same canonical statement, read back the same way.
    assert text(parse(revealed(element)), DATABEND) == expected


def test_duckdb_and_default_text_mask_the_secrets_render_secrets_keeps_them() -> None:
    element = CreateConnection(
        "c",
        credentials={"aws_key_id": KEY, "aws_secret_key": SECRET, "region": "eu"},
        parameters={"external_id": "e"},
    )
    masked = text(element, DUCKDB)
    assert masked == (
        "CREATE CONNECTION c STORAGE_TYPE = 's3' ACCESS_KEY_ID = '***' "
        "SECRET_ACCESS_KEY = '***' REGION = 'eu' EXTERNAL_ID = 'e'"
    )
    gcs = CreateConnection("g", "gcs", parameters={"credential": "b64-key"})
    assert "b64-key" not in text(gcs, DUCKDB) and "CREDENTIAL = '***'" in text(gcs, DUCKDB)
    assert text(element) == masked  # str(construct): the same masked text
    assert KEY in revealed(element) and SECRET in revealed(element)  # sealed, then stored
    assert text(CreateStage(S3_STAGE), DUCKDB).endswith(
        "CONNECTION = (CONNECTION_NAME = 'toronto')"
    )


@pytest.mark.parametrize(
    ("dialect", "alternative"),
    [(SNOWFLAKE, "STORAGE_INTEGRATION"), (MATRIXONE, "CREDENTIALS = {...}")],
    ids=["snowflake", "matrixone"],
)
@pytest.mark.parametrize(
    ("element", "feature"),
    [
        (TORONTO, "CREATE CONNECTION"),
        (DropConnection("toronto"), "DROP CONNECTION"),
        (DescribeConnection("toronto"), "DESC CONNECTION"),
        (ShowConnections(), "SHOW CONNECTIONS"),
        (CreateStage(S3_STAGE), "the named connection 'toronto'"),
        (CopyInto("s3://b/o/", t, credentials=NamedConnection("c")), "the named connection 'c'"),
    ],
)
def test_engines_without_connections_refuse_them(
    element: Any, feature: str, dialect: Any, alternative: str
) -> None:
    with pytest.raises(CompileError) as caught:
        text(element, dialect)
    message = str(caught.value)
    if isinstance(element, CopyInto) and dialect is MATRIXONE:  # MatrixOne has no COPY at all
        assert message.startswith("COPY INTO is not supported on MatrixOne")
        return
    assert message.startswith(f"{feature} is not supported on ")
    assert "no storage connections" in message and alternative in message
    assert SECRET not in message


def test_databend_connection_names_are_bare() -> None:
    with pytest.raises(CompileError, match="connection name 'My Conn'"):
        text(DropConnection("My Conn"), DATABEND)
    assert text(DropConnection("My Conn")) == 'DROP CONNECTION "My Conn"'


def test_reprs_mask_every_secret() -> None:
    element = CreateConnection(
        "c",
        credentials={"aws_key_id": KEY, "aws_secret_key": SECRET, "aws_token": TOKEN},
        parameters={"external_id": "visible"},
    )
    gcs = CreateConnection("g", "gcs", parameters={"credential": ACCOUNT_KEY})
    shown = repr(element) + repr(gcs) + str([element, gcs]) + repr(parse(text(element)))
    for secret in (KEY, SECRET, TOKEN, ACCOUNT_KEY):
        assert secret not in shown
    assert "visible" in shown and "'***'" in shown
    assert repr(S3_STAGE) == (
        "Stage('my_s3_stage', url='s3://databend-toronto', credentials=NamedConnection('toronto'))"
    )
    assert element.credentials is not None and element.credentials["aws_secret_key"] == SECRET


def test_named_connections_compare_by_name() -> None:
    assert NamedConnection("a") == NamedConnection("a") != NamedConnection("b")
    assert NamedConnection("a") != {} and bool(NamedConnection("a"))
    assert len({NamedConnection("a"), NamedConnection("a")}) == 1
    first = CopyInto(t, "s3://b/", credentials=NamedConnection("a"))
    second = CopyInto(t, "s3://b/", credentials=NamedConnection("b"))
    assert text(first, DATABEND) != text(second, DATABEND)
    assert first._generate_cache_key() != second._generate_cache_key()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CreateConnection("c", "ftp"), "unknown storage type 'ftp'"),
        (lambda: CreateConnection("", "s3"), "non-empty string"),
        (lambda: NamedConnection(""), "non-empty string"),
        (
            lambda: CreateConnection("c", "gcs", credentials={"aws_role": "r"}),
            "parameters of a gcs connection as parameters=",
        ),
        (
            lambda: CreateConnection("c", parameters={"access_key_id": KEY}),
            "go in credentials",
        ),
        (
            lambda: CreateConnection("c", credentials={"azure_sas_token": "x"}),
            "takes no 'azure_sas_token'",
        ),
        (lambda: CreateConnection("c", parameters={"a b": "x"}), "not a parameter name"),
        (lambda: CreateConnection("c", parameters={"k": ""}), "non-empty string"),
        (
            lambda: CreateConnection("c", if_not_exists=True, or_replace=True),
            "cannot be combined",
        ),
        (
            lambda: CreateConnection("c", credentials=NamedConnection("d")),
            "cannot name another connection",
        ),
        (
            lambda: CopyInto(t, Stage("s") / "", credentials=NamedConnection("c")),
            "a named stage carries its own",
        ),
        (
            lambda: Stage("s", credentials=NamedConnection("c")),
            "need an external stage",
        ),
    ],
)
def test_arguments_are_checked(build: Any, message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        build()


# Parsing


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE CONNECTION my_s3_connection\n  STORAGE_TYPE = 's3'\n"
        "  ACCESS_KEY_ID = '<your-access-key-id>'\n  SECRET_ACCESS_KEY = '<your-secret>';",
        "create or replace connection r2 storage_type = 's3' region = 'auto' "
        "endpoint_url = '<e>', access_key_id = 'a', secret_access_key = 's'",
        "CREATE CONNECTION iam STORAGE_TYPE = 's3' ROLE_ARN = 'arn:x' EXTERNAL_ID = 'e';",
        "CREATE CONNECTION IF NOT EXISTS my_azure_conn STORAGE_TYPE = 'azblob' "
        "ENDPOINT_URL = 'https://a.blob.core.windows.net' ACCOUNT_NAME = 'a' ACCOUNT_KEY = 'k';",
        "CREATE CONNECTION my_gcs_conn STORAGE_TYPE = 'gcs' CREDENTIAL = '<base64>';",
        "CREATE CONNECTION o STORAGE_TYPE = 'oss' ACCESS_KEY_ID = 'a' ACCESS_KEY_SECRET = 's'",
        "CREATE CONNECTION h STORAGE_TYPE = 'hf' REPO_TYPE = 'dataset' REVISION = 'main'",
        "DROP CONNECTION toronto;",
        "drop connection if exists toronto",
        "DESC CONNECTION toronto;",
        "describe connection toronto",
        "SHOW CONNECTIONS;",
        "show connections",
        "CREATE STAGE s URL='s3://b/p/' CONNECTION = (CONNECTION_NAME = 'toronto');",
        "COPY INTO mytable FROM 's3://mybucket/' CONNECTION = (CONNECTION_NAME = 'my_iam_conn') "
        "PATTERN = '.*[.]csv' FILE_FORMAT = (TYPE = CSV, FIELD_DELIMITER = ',', SKIP_HEADER = 1);",
        "COPY INTO @~/x/ FROM t",  # no connection: unchanged
    ],
)
def test_documented_statements_parse(sql: str) -> None:
    again = text(parse(sql, dialect=DATABEND), DATABEND)
    settled = text(parse(again, dialect=DATABEND), DATABEND)  # COPY adds its COMPRESSION once
    assert text(parse(settled, dialect=DATABEND), DATABEND) == settled
    assert type(parse(settled, dialect=DATABEND)) is type(parse(sql))


def test_parsed_values() -> None:
    element = parse(
        "CREATE CONNECTION Iam STORAGE_TYPE = 'S3' ROLE_ARN = 'arn:x' EXTERNAL_ID = 'e' "
        "ENDPOINT = 'http://h'"
    )
    assert isinstance(element, CreateConnection)
    assert (element.name, element.storage_type) == ("iam", "s3")
    assert dict(element.credentials or {}) == {"aws_role": "arn:x", "endpoint_url": "http://h"}
    assert element.parameters == ConnectionParameters({"external_id": "e"})
    azure = parse(
        "CREATE CONNECTION a STORAGE_TYPE = 'azblob' ENDPOINT_URL = 'u' ACCOUNT_KEY = 'k'"
    )
    assert azure.credentials is None and dict(azure.parameters) == {
        "endpoint_url": "u",
        "account_key": "k",
    }
    copy = parse("COPY INTO t FROM 's3://b/' CONNECTION = (CONNECTION_NAME = 'My_Conn')")
    assert copy.credentials == NamedConnection("My_Conn")
    alter = parse("ALTER STAGE s SET CONNECTION = (connection_name = 'toronto')")
    assert alter.changes == {"credentials": NamedConnection("toronto")}
    assert text(alter) == "ALTER STAGE s SET CONNECTION = (CONNECTION_NAME = 'toronto')"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE CONNECTION c ACCESS_KEY_ID = 'a'", "expected STORAGE_TYPE"),
        ("CREATE CONNECTION c STORAGE_TYPE = 's3' STORAGE_TYPE = 's3'", "each parameter once"),
        ("CREATE CONNECTION db.c STORAGE_TYPE = 's3'", "connections are global"),
        ("CREATE TEMPORARY CONNECTION c STORAGE_TYPE = 's3'", "expected STAGE or FILE FORMAT"),
        ("DESC CONNECTIONS c", "expected STAGE or CONNECTION"),
        ("DROP CONNECTION", "expected a connection name"),
        ("SHOW CONNECTION", "expected STAGES or CONNECTIONS"),
        (
            "CREATE STAGE s URL = 's3://b/' CONNECTION = (CONNECTION_NAME = 'c' REGION = 'r')",
            "CONNECTION_NAME takes no other credential",
        ),
        (
            "CREATE STAGE s URL = 's3compat://b/' ENDPOINT = 'h' "
            "CONNECTION = (CONNECTION_NAME = 'c')",
            "CONNECTION_NAME or credentials",
        ),
        ("COPY INTO t FROM 's3://b/' CONNECTION = (CONNECTION_NAME = '')", "non-empty"),
    ],
)
def test_parse_errors(sql: str, expected: str) -> None:
    with pytest.raises(StageParseError, match=expected):
        parse(sql)


@pytest.mark.parametrize("key", ["SECRET_ACCESS_KEY", "ACCOUNT_KEY", "CREDENTIAL", "TOKEN"])
def test_parse_errors_never_quote_a_parameter_value(key: str) -> None:
    for value in (ACCOUNT_KEY.replace("-", "_"), f'"{ACCOUNT_KEY}"', "42"):
        with pytest.raises(StageParseError) as caught:
            parse(f"CREATE CONNECTION c STORAGE_TYPE = 'azblob' {key} = {value}")
        assert ACCOUNT_KEY.replace("-", "_") not in str(caught.value)
        assert ACCOUNT_KEY not in str(caught.value) and "not shown" in str(caught.value)


def test_copy_naming_a_connection_on_a_stage_is_refused() -> None:
    with pytest.raises(StageArgumentError, match="a named stage carries its own"):
        parse("COPY INTO t FROM @s CONNECTION = (CONNECTION_NAME = 'c')")


# The DuckDB runtime


def rows(conn: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.exec_driver_sql(sql)]


def test_create_show_desc_drop(engine: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with engine.begin() as conn:
        conn.execute(TORONTO)
        conn.exec_driver_sql(
            "create connection my_gcs_conn storage_type = 'gcs' credential = 'b64-secret'"
        )
        shown = conn.execute(ShowConnections())
        assert list(shown.keys()) == ["name", "storage_type", "storage_params"]
        assert [tuple(row) for row in shown] == [
            ("my_gcs_conn", "gcs", "credential=***"),
            ("toronto", "s3", "access_key_id=*** secret_access_key=***"),
        ]
        assert rows(conn, "DESC CONNECTION toronto") == [
            ("toronto", "s3", "access_key_id=*** secret_access_key=***")
        ]
        assert conn.execute(DescribeConnection("my_gcs_conn")).all() == [
            ("my_gcs_conn", "gcs", "credential=***")
        ]
        status = rows(conn, "CREATE CONNECTION IF NOT EXISTS toronto STORAGE_TYPE = 's3'")
        assert status == [("toronto already exists, statement succeeded.",)]
        with pytest.raises(StageProgrammingError, match="already exists"):
            conn.exec_driver_sql("CREATE CONNECTION toronto STORAGE_TYPE = 's3'")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE CONNECTION toronto STORAGE_TYPE = 's3' REGION = 'r'"
        )
        assert rows(conn, "DESC CONNECTION toronto") == [("toronto", "s3", "region=r")]
        assert rows(conn, "DROP CONNECTION toronto") == [("TORONTO successfully dropped.",)]
        with pytest.raises(StageProgrammingError, match=r"'toronto' does not exist"):
            conn.exec_driver_sql("DESC CONNECTION toronto")
    with engine.begin() as conn:
        assert conn.execute(DropConnection("toronto", if_exists=True)).all() == [
            ("Drop statement executed successfully (toronto already dropped).",)
        ]
        with pytest.raises(StageProgrammingError, match=r"did you mean 'my_gcs_conn'\?"):
            conn.execute(DropConnection("my_gcs_con"))
    assert KEY not in caplog.text and SECRET not in caplog.text and "toronto" in caplog.text


def test_connections_follow_the_transaction(engine: Any) -> None:
    with engine.connect() as conn:
        conn.execute(TORONTO)
        conn.rollback()
        assert conn.execute(ShowConnections()).all() == []


def test_the_mask_is_not_a_secret(engine: Any) -> None:
    with engine.begin() as conn, pytest.raises(StageProgrammingError, match="is the mask"):
        conn.exec_driver_sql(text(TORONTO, DUCKDB))


def moto_connection(server: MotoS3, name: str = "moto") -> str:
    return (
        f"CREATE CONNECTION {name} STORAGE_TYPE = 's3' ACCESS_KEY_ID = '{server.key}' "
        f"SECRET_ACCESS_KEY = '{server.secret}' ENDPOINT_URL = '{server.endpoint_url}'"
    )


def test_stage_with_connection_lists_and_loads_s3_files(
    engine: Any, s3_server: MotoS3, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/a.csv", Body=b"1\n2\n")
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/b.csv", Body=b"3\n")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with s3_server.authenticated(), engine.begin() as conn:  # signatures are checked
        conn.exec_driver_sql(moto_connection(s3_server))
        conn.exec_driver_sql(
            f"CREATE STAGE my_s3_stage URL = 's3://{s3_bucket}/p/' "
            "CONNECTION = (CONNECTION_NAME = 'moto')"
        )
        listed = conn.execute(ListFiles(Stage("my_s3_stage") / "")).all()
        assert sorted(row[0] for row in listed) == ["a.csv", "b.csv"]
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        conn.exec_driver_sql("COPY INTO t FROM @my_s3_stage FILE_FORMAT = (TYPE = CSV)")
        assert rows(conn, "SELECT sum(a) FROM t") == [(6,)]
        desc = repr(rows(conn, "DESC STAGE my_s3_stage"))
    assert "AWS_KEY_ID = '***'" in desc
    for shown in (desc, caplog.text.replace(moto_connection(s3_server), "")):
        assert s3_server.key not in shown and s3_server.secret not in shown


def test_stage_construct_naming_a_connection(
    engine: Any, s3_server: MotoS3, s3_bucket: str
) -> None:
    stage = Stage("s3s", url=f"s3://{s3_bucket}/p/", credentials=NamedConnection("moto"))
    with s3_server.authenticated(), engine.begin() as conn:
        conn.execute(CreateConnection("moto", credentials=s3_server.credentials()))
        conn.execute(CreateStage(stage))
        conn.exec_driver_sql("CREATE TABLE t AS SELECT range AS a FROM range(3)")
        conn.execute(CopyInto(stage / "out/", t))
    assert s3_server.keys(s3_bucket) == ["p/out/data_0_0_0.csv.gz"]


def test_copy_with_connection_name(engine: Any, s3_server: MotoS3, s3_bucket: str) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="in/data.csv", Body=b"id,name\n1,a\n2,b\n")
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql(moto_connection(s3_server, "my_s3_conn"))
        conn.exec_driver_sql("CREATE TABLE mytable (id INT, name VARCHAR)")
        conn.exec_driver_sql(
            f"COPY INTO mytable FROM 's3://{s3_bucket}/in/data.csv' "
            "CONNECTION = (CONNECTION_NAME = 'my_s3_conn') "
            "FILE_FORMAT = (TYPE = CSV, FIELD_DELIMITER = ',', SKIP_HEADER = 1)"
        )
        assert rows(conn, "SELECT * FROM mytable ORDER BY id") == [(1, "a"), (2, "b")]
        conn.execute(
            CopyInto(
                f"s3://{s3_bucket}/out/",
                sa.table("mytable"),
                credentials=NamedConnection("my_s3_conn"),
                single=True,
            )
        )
    assert "out/data" in s3_server.keys(s3_bucket, "out/")[0]


def test_the_connection_is_what_signs(engine: Any, s3_server: MotoS3, s3_bucket: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE CONNECTION wrong STORAGE_TYPE = 's3' ACCESS_KEY_ID = '{s3_server.key}' "
            f"SECRET_ACCESS_KEY = 'not-{SECRET}' ENDPOINT_URL = '{s3_server.endpoint_url}'"
        )
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a INT)")
        with pytest.raises(StageRuntimeError) as caught:
            conn.exec_driver_sql(
                f"COPY INTO t FROM 's3://{s3_bucket}/' CONNECTION = (CONNECTION_NAME = 'wrong')"
            )
    assert "access denied" in str(caught.value) and SECRET not in str(caught.value)


def test_unknown_connections(engine: Any, s3_bucket: str) -> None:
    with engine.begin() as conn:
        conn.execute(TORONTO)
    for sql in (
        f"CREATE STAGE s URL = 's3://{s3_bucket}/' CONNECTION = (CONNECTION_NAME = 'torontoo')",
        f"COPY INTO t FROM 's3://{s3_bucket}/' CONNECTION = (CONNECTION_NAME = 'Toronto')",
    ):
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (a INT)")
            with pytest.raises(StageProgrammingError) as caught:
                conn.exec_driver_sql(sql)
        assert "does not exist; did you mean 'toronto'?" in str(caught.value)
    with engine.connect() as conn:
        assert rows(conn, "SHOW STAGES") == []


def test_dropping_a_connection_leaves_its_stages_working(
    engine: Any, s3_server: MotoS3, s3_bucket: str
) -> None:
    """As Databend documents: a stage copies the connection's parameters when created."""
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/a.csv", Body=b"1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(moto_connection(s3_server))
        conn.exec_driver_sql(
            f"CREATE STAGE s URL = 's3://{s3_bucket}/p/' CONNECTION = (CONNECTION_NAME = 'moto')"
        )
        conn.exec_driver_sql("DROP CONNECTION moto")
        conn.exec_driver_sql("CREATE CONNECTION moto STORAGE_TYPE = 's3' REGION = 'elsewhere'")
    with s3_server.authenticated(), engine.begin() as conn:
        assert [row[0] for row in rows(conn, "LIST @s")] == ["a.csv"]


@pytest.mark.parametrize(
    ("connection", "url", "message"),
    [
        (
            "STORAGE_TYPE = 'azblob' ACCOUNT_NAME = 'a' ACCOUNT_KEY = 'k'",
            "azblob://mybucket/data.csv",
            "STORAGE_TYPE 'azblob' is not supported by the DuckDB runtime",
        ),
        (
            "STORAGE_TYPE = 'gcs' CREDENTIAL = 'k' SCOPE = 'read_only'",
            "gcs://mybucket/data.csv",
            "cannot use the parameter(s) SCOPE",
        ),
        ("STORAGE_TYPE = 'gcs' CREDENTIAL = 'k'", "s3://mybucket/", "is for gcs storage"),
        ("STORAGE_TYPE = 's3'", "gcs://mybucket/", "is for s3 storage; 'gcs://mybucket/'"),
        (
            "STORAGE_TYPE = 's3' ENABLE_VIRTUAL_HOST_STYLE = 'true'",
            "s3://mybucket/",
            "cannot use the parameter(s) ENABLE_VIRTUAL_HOST_STYLE",
        ),
    ],
)
def test_what_the_runtime_cannot_serve_is_refused_at_use(
    engine: Any, connection: str, url: str, message: str
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE CONNECTION c {connection}")  # creating it is fine
        conn.exec_driver_sql("CREATE TABLE t (a INT)")
    for sql in (
        f"COPY INTO t FROM '{url}' CONNECTION = (CONNECTION_NAME = 'c') FILE_FORMAT = (TYPE = CSV)",
        f"CREATE STAGE s URL = '{url}' CONNECTION = (CONNECTION_NAME = 'c')",
    ):
        with engine.begin() as conn, pytest.raises(StageProgrammingError) as caught:
            conn.exec_driver_sql(sql)
        assert "connection 'c'" in str(caught.value) and message in str(caught.value)
