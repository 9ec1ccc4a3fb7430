"""MatrixOne's forms of issue 16: the ``"endpoint"`` grammar, scheme-less endpoints, OSS.

Spec 000's syntax block writes an S3 or Aliyun OSS stage as ``URL = "endpoint"='<string>'
CREDENTIALS = {"access_key_id"=..., "secret_access_key"=...}``; MatrixOne's ALTER STAGE page
adds ``"bucket"``, ``"filepath"`` and ``"region"`` to the CREDENTIALS, and its own tests
write ``URL = 's3.us-east-2.amazonaws.com' CREDENTIALS = {..., 'bucket' = '...'}``. Each is
parsed, compiled for MatrixOne (mysql dialect) and run on the runtime against moto on
127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from sqla_stage import CreateStage, Stage, StageArgumentError, parse
from sqla_stage.errors import StageOperationalError, StageProgrammingError
from sqla_stage.runtime.storage.credentials import endpoint_url

MYSQL = mysql.dialect()
SPEC_FORM = (
    "CREATE STAGE s URL = \"endpoint\"='s3.us-west-2.amazonaws.com' CREDENTIALS = "
    "{\"access_key_id\"='k', \"secret_access_key\"='s', \"bucket\"='b', \"filepath\"='files/', "
    "\"region\"='us-west-2'}"
)


@pytest.fixture
def mo_engine(make_engine: Callable[..., Any]) -> Any:
    """A runtime engine with MatrixOne's semantics and the page's user table."""
    engine = make_engine(stage_dialect="matrixone")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE user (id int, user_name varchar, sex varchar)")
        conn.exec_driver_sql("INSERT INTO user VALUES (1, 'weder', 'man'), (2, 'tom', 'man')")
    return engine


def _stage_names(conn: sa.Connection) -> list[str]:
    return [row[0] for row in conn.exec_driver_sql("SELECT stage_name FROM mo_catalog.mo_stages")]


def _credentials(s3_server: Any, **more: str) -> str:
    pairs = {"access_key_id": s3_server.key, "secret_access_key": s3_server.secret, **more}
    return "{" + ", ".join(f"\"{k}\"='{v}'" for k, v in pairs.items()) + "}"


# -- parsing and compiling ------------------------------------------------------------------


def test_the_specs_endpoint_form_is_an_s3_stage_at_that_endpoint() -> None:
    statement = parse(SPEC_FORM, dialect=MYSQL)
    assert isinstance(statement, CreateStage)
    stage = statement.stage
    assert stage.url == "s3://b/files"
    assert stage.credentials is not None
    assert stage.credentials["endpoint_url"] == "s3.us-west-2.amazonaws.com"
    assert stage.credentials["region"] == "us-west-2"
    assert str(statement.compile(dialect=MYSQL)) == (
        "CREATE STAGE s URL = 's3://b/files' CREDENTIALS = {\"access_key_id\"='k', "
        "\"secret_access_key\"='s', \"endpoint\"='s3.us-west-2.amazonaws.com', "
        "\"region\"='us-west-2'}"
    )


@pytest.mark.parametrize(
    ("sql", "url", "endpoint"),
    [
        # the bucket and path after the host (path-style)
        (
            "CREATE STAGE s URL = \"endpoint\"='s3.us-west-2.amazonaws.com/b/p/' "
            "CREDENTIALS = {\"access_key_id\"='k', \"secret_access_key\"='s'}",
            "s3://b/p",
            "s3.us-west-2.amazonaws.com",
        ),
        # MatrixOne's own tests: the URL is the endpoint, the bucket in the CREDENTIALS
        (
            "create stage aws_stage URL= 's3.us-east-2.amazonaws.com' CREDENTIALS={ "
            "'access_key_id' = 'k', 'secret_access_key' = 's', 'bucket' = 'hn-test2', "
            "'region' = 'us-east-2'}",
            "s3://hn-test2",
            "s3.us-east-2.amazonaws.com",
        ),
        (
            "CREATE STAGE s URL = \"endpoint\"='http://127.0.0.1:9000' ENABLE = TRUE "
            "CREDENTIALS = {\"access_key_id\"='k', \"secret_access_key\"='s', \"bucket\"='b'}",
            "s3://b",
            "http://127.0.0.1:9000",
        ),
    ],
)
def test_other_spellings_of_the_endpoint(sql: str, url: str, endpoint: str) -> None:
    stage = parse(sql, dialect=MYSQL).stage
    assert stage.url == url
    assert stage.credentials is not None and stage.credentials["endpoint_url"] == endpoint


def test_alter_stage_takes_the_endpoint_form_too() -> None:
    altered = parse(SPEC_FORM.replace("CREATE STAGE s", "ALTER STAGE s SET"), dialect=MYSQL)
    assert altered.changes["url"] == "s3://b/files"
    assert altered.changes["credentials"]["endpoint_url"] == "s3.us-west-2.amazonaws.com"


REFUSED = {
    "no bucket": (
        "CREATE STAGE s URL = \"endpoint\"='s3.us-west-2.amazonaws.com' "
        "CREDENTIALS = {\"access_key_id\"='k', \"secret_access_key\"='s'}",
        "Invalid s3 URL: bucket is empty string",
    ),
    "bucket twice": (
        "CREATE STAGE s URL = \"endpoint\"='h/b1' CREDENTIALS = {\"bucket\"='b2'}",
        "the bucket is given twice",
    ),
    "two endpoints": (
        "CREATE STAGE s URL = \"endpoint\"='h/b' CREDENTIALS = {'ENDPOINT'='other'}",
        "one endpoint",
    ),
    "bucket with a URL": (
        "CREATE STAGE s URL = 's3://x/' CREDENTIALS = {\"bucket\"='b'}",
        '"bucket" goes with URL = "endpoint"',
    ),
    "a pattern": (
        "CREATE STAGE s URL = \"endpoint\"='h' CREDENTIALS = {\"bucket\"='b', "
        "\"filepath\"='/files/*.csv'}",
        'a pattern in "filepath"',
    ),
    "compression": (
        "CREATE STAGE s URL = 'h' CREDENTIALS = {'bucket' = 'b', 'compression' = 'none'}",
        '"compression" is not supported',
    ),
    "external id": (
        "CREATE STAGE s URL = \"endpoint\"='h/b' CREDENTIALS = {\"external_id\"='yyy'}",
        '"external_id" is not supported: MatrixOne does not support it either',
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_the_endpoint_form_cannot_mean_is_refused_and_nothing_is_registered(
    case: str, mo_engine: Any
) -> None:
    sql, message = REFUSED[case]
    with pytest.raises(StageArgumentError, match=message):
        parse(sql, dialect=MYSQL)
    with mo_engine.begin() as conn:
        with pytest.raises(StageProgrammingError, match=message):
            conn.exec_driver_sql(sql)
        assert _stage_names(conn) == []


# -- the endpoint's scheme ------------------------------------------------------------------


def test_an_endpoint_without_a_scheme_is_https() -> None:
    assert endpoint_url("s3.us-west-2.amazonaws.com") == "https://s3.us-west-2.amazonaws.com"
    assert endpoint_url("127.0.0.1:9000") == "https://127.0.0.1:9000"
    assert endpoint_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    assert endpoint_url("https://minio.local") == "https://minio.local"


def test_the_endpoint_form_unloads_to_the_bucket_at_that_endpoint(
    mo_engine: Any, s3_server: Any, s3_bucket: str
) -> None:
    credentials = _credentials(s3_server, bucket=s3_bucket, filepath="exports/")
    with mo_engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE s URL = \"endpoint\"='{s3_server.endpoint_url}' "
            f"CREDENTIALS = {credentials}"
        )
        conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'stage://s/user.csv'")
        listed = [row[0] for row in conn.exec_driver_sql("LIST @s")]
    assert listed == ["user.csv"]
    assert s3_server.read(s3_bucket, "exports/user.csv").decode() == (
        'id,user_name,sex\n1,"weder","man"\n2,"tom","man"\n'
    )


@pytest.mark.parametrize("form", ["endpoint", "credentials"])
def test_a_scheme_less_endpoint_is_reached_with_https(
    form: str, mo_engine: Any, s3_server: Any, s3_bucket: str
) -> None:
    """moto answers plain HTTP only: the TLS handshake fails, naming the https:// URL."""
    host = s3_server.endpoint_url.removeprefix("http://")
    if form == "endpoint":
        create = (
            f"CREATE STAGE s URL = \"endpoint\"='{host}/{s3_bucket}/p/' "
            f"CREDENTIALS = {_credentials(s3_server)}"
        )
    else:
        create = (
            f"CREATE STAGE s URL = 's3://{s3_bucket}/p/' CREDENTIALS = "
            f"{_credentials(s3_server, ENDPOINT=host)}"
        )
    with mo_engine.begin() as conn:
        conn.exec_driver_sql(create)
        with pytest.raises(StageOperationalError, match=f"https://{host}/"):
            conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'stage://s/user.csv'")
    assert s3_server.keys(s3_bucket) == []


# -- Aliyun OSS -----------------------------------------------------------------------------

OSS = [
    "CREATE STAGE o URL = \"endpoint\"='oss-cn-hangzhou.aliyuncs.com/b/p/' "
    "CREDENTIALS = {\"access_key_id\"='k', \"secret_access_key\"='s'}",
    "CREATE STAGE o URL = 'oss://b/p/'",
    "CREATE STAGE o URL = 's3://b/p/' CREDENTIALS = {'AWS_KEY_ID'='k', 'AWS_SECRET_KEY'='s', "
    "'PROVIDER'='aliyun', 'ENDPOINT'='https://oss.example'}",
]


@pytest.mark.parametrize("sql", OSS)
def test_aliyun_oss_is_refused_naming_it_and_why(sql: str, mo_engine: Any) -> None:
    parse(sql, dialect=MYSQL)  # MatrixOne's forms: they parse and compile
    with mo_engine.begin() as conn:
        with pytest.raises(StageProgrammingError, match=r"Aliyun OSS is not supported .* emulator"):
            conn.exec_driver_sql(sql)
        assert _stage_names(conn) == []


def test_an_oss_location_of_an_unload_is_refused_too(make_engine: Callable[..., Any]) -> None:
    engine = make_engine(stage_dialect="databend")
    with engine.begin() as conn, pytest.raises(StageProgrammingError, match="Aliyun OSS"):
        conn.exec_driver_sql(
            "COPY INTO 'oss://b/p/' CONNECTION = (ACCESS_KEY_ID = 'k' SECRET_ACCESS_KEY = 's' "
            "ENDPOINT_URL = 'https://oss-cn-hangzhou.aliyuncs.com') FROM (SELECT 1 AS a)"
        )


# -- the internal stage ---------------------------------------------------------------------


def test_an_internal_stage_does_not_compile_for_matrixone_and_says_how_to_write_it() -> None:
    with pytest.raises(sa.exc.CompileError, match=r"a folder of the MatrixOne server.*url='/path'"):
        CreateStage(Stage("stage1")).compile(dialect=MYSQL)
    assert str(CreateStage(Stage("stage1", url="/tmp", directory=True)).compile(dialect=MYSQL)) == (
        "CREATE STAGE stage1 URL = '/tmp' ENABLE = TRUE"
    )


def test_the_runtime_keeps_its_internal_stages_under_matrixone(
    mo_engine: Any, tmp_path: Path
) -> None:
    with mo_engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE stage1 ENABLE = TRUE")
        conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'stage1:/user.csv'")
        row = conn.exec_driver_sql("SELECT url, stage_status FROM mo_catalog.mo_stages").one()
    assert tuple(row) == ("", "enabled")
    written = tmp_path / "stages" / "stage" / "internal" / "stage1" / "user.csv"
    assert written.read_text().splitlines()[0] == "id,user_name,sex"
