"""Secrets never leak: not in reprs, DuckDB SQL text, DESC / SHOW, the echo log or errors.

The secrets are the AWS key id, secret key and session token, the Azure SAS token and
the encryption master key. Each surface is checked for each of them, and the runtime
is checked to still use the real values (the DuckDB text shows ``'***'``, the runtime
takes the values from the construct; the registry keeps the real definition).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import duckdb_engine
import pytest
import sqlalchemy as sa
from moto_server import MotoS3
from sqlalchemy.dialects import mysql

from sqla_stage import (
    AlterStage,
    CopyInto,
    CreateStage,
    DescribeStage,
    ListFiles,
    ShowStages,
    Stage,
    StageParseError,
    parse,
)
from sqla_stage.credentials import MASK, SECRET_CREDENTIAL_KEYS, SECRET_SQL_NAMES
from sqla_stage.errors import StageProgrammingError, StageRuntimeError
from sqla_stage.parser.options import CREDENTIAL_KEYS

KEY_ID = "AKIA-kid-7f3e9a"
SECRET_KEY = "wJalr-secret-4c1d"
TOKEN = "FwoG-token-8b2e"
SAS = "sv=2024&sig=sas-5d6f"
MASTER_KEY = "bWFzdGVy-master-9a0b"
SECRETS = {
    "aws_key_id": KEY_ID,
    "aws_secret_key": SECRET_KEY,
    "aws_token": TOKEN,
    "azure_sas_token": SAS,
    "master_key": MASTER_KEY,
}
SECRET_PARAMS = [pytest.param(value, id=key) for key, value in SECRETS.items()]

AWS = {"aws_key_id": KEY_ID, "aws_secret_key": SECRET_KEY, "aws_token": TOKEN}
AZURE = {"azure_sas_token": SAS}
CSE = {"type": "AWS_CSE", "master_key": MASTER_KEY}
AZURE_CSE = {"type": "AZURE_CSE", "master_key": MASTER_KEY}
DUCKDB = duckdb_engine.Dialect()
t = sa.table("t", sa.column("a"))


def aws_stage(url: str = "memory://secrets/aws/", encryption: Any = CSE) -> Stage:
    return Stage("aws", url=url, credentials=AWS, encryption=encryption, comment="visible")


def azure_stage(url: str = "memory://secrets/az/", encryption: Any = AZURE_CSE) -> Stage:
    return Stage("az", url=url, credentials=AZURE, encryption=encryption)


@pytest.fixture
def memory() -> str:
    """A fresh ``memory://`` folder (fsspec's memory filesystem is global to the process)."""
    return f"memory://secrets-{uuid4().hex[:12]}"


def assert_hidden(text: str, *secrets: str) -> None:
    leaked = [secret for secret in secrets or SECRETS.values() if secret in text]
    assert leaked == [], text


CONSTRUCTS = {
    "create-aws": CreateStage(aws_stage()),
    "create-azure": CreateStage(azure_stage()),
    "alter-aws": AlterStage(aws_stage(), credentials=AWS, encryption=CSE),
    "alter-azure": AlterStage("az", credentials=AZURE, encryption=AZURE_CSE),
    "unload-url": CopyInto("s3://b/u/", t, credentials=AWS, encryption=CSE),
    "load-url": CopyInto(
        t, "azure://a.blob.core.windows.net/c/", credentials=AZURE, encryption=AZURE_CSE
    ),
}
CONSTRUCT_PARAMS = [pytest.param(c, id=i) for i, c in CONSTRUCTS.items()]


# Compiled SQL and repr


@pytest.mark.parametrize("construct", CONSTRUCT_PARAMS)
def test_duckdb_text_masks_every_secret(construct: Any) -> None:
    """DuckDB's text and the default string form (``str()``, ``compile()``) mask them."""
    for text in (
        str(construct.compile(dialect=DUCKDB)),
        str(construct),
        str(construct.compile()),
        "%s" % (construct,),  # noqa: UP031  (logger.info("%s", stmt))
        f"{construct}",
    ):
        assert_hidden(text)
        assert f"= '{MASK}'" in text
    assert_hidden(repr(construct))


@pytest.mark.parametrize("construct", CONSTRUCT_PARAMS)
def test_warehouse_text_keeps_the_secrets(construct: Any) -> None:
    """``render_secrets`` (the registry, before sealing) and a warehouse need the values."""
    text = str(construct.compile(compile_kwargs={"render_secrets": True}))
    assert MASK not in text
    shown = [secret for secret in SECRETS.values() if secret in text]
    assert shown, text


def test_every_sql_spelling_of_a_secret_key_is_known() -> None:
    secret_spellings = {
        spelling for spelling, key in CREDENTIAL_KEYS.items() if key in SECRET_CREDENTIAL_KEYS
    }
    assert secret_spellings | {"MASTER_KEY"} == SECRET_SQL_NAMES


# The runtime: echo log, DESC, SHOW, registry, and the real values at work


@pytest.fixture
def echo_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'app.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp_path / "stages"),
        stage_user="alice",
        echo=True,
    )
    yield engine
    engine.dispose()


@pytest.mark.parametrize("secret", SECRET_PARAMS)
def test_runtime_surfaces_hide_the_secret(
    echo_engine: sa.Engine,
    caplog: pytest.LogCaptureFixture,
    capsys: Any,
    memory: str,
    secret: str,
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    # The runtime applies no client-side encryption: a master key only reaches the
    # statements it refuses (their echo and errors are checked below).
    aws, azure = aws_stage(f"{memory}/aws/", None), azure_stage(f"{memory}/az/", None)
    shown: list[str] = []
    with echo_engine.connect() as conn:
        for refused in (
            CreateStage(aws_stage(f"{memory}/cse/")),
            CreateStage(azure_stage(f"{memory}/azcse/")),
            CopyInto(f"{memory}/url/", t, credentials=AWS, encryption=CSE),
        ):
            with pytest.raises(StageProgrammingError, match="ENCRYPTION") as caught:
                conn.execute(refused)
            conn.rollback()
            shown += [str(caught.value), repr(caught.value)]
    with echo_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t AS SELECT range AS a FROM range(3)")
        conn.execute(CreateStage(aws))
        conn.execute(CreateStage(azure))
        conn.execute(AlterStage(aws, credentials=AWS, comment="altered"))
        conn.execute(CopyInto(aws / "out/", t))
        conn.execute(CopyInto(azure / "out/", t))
        conn.execute(CopyInto(f"{memory}/url/", t, credentials=AWS))
        conn.execute(CopyInto(t, f"{memory}/url/", credentials=AWS))
        for name in ("aws", "az"):
            desc = conn.execute(DescribeStage(name)).mappings().one()
            assert MASK in desc["stage_params"]
            shown += [repr(dict(desc)), repr(conn.exec_driver_sql(f"DESC STAGE {name}").all())]
            assert conn.execute(ListFiles(Stage(name))).one().name == "out/data_0_0_0.csv.gz"
        shown += [repr(conn.execute(ShowStages()).all())]
        shown += [repr(conn.exec_driver_sql("SHOW STAGES").all())]
        definitions = conn.exec_driver_sql("SELECT definition FROM sqla_stage.stages").all()
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 6
    for text in [*shown, caplog.text, capsys.readouterr().out, repr(definitions)]:
        assert_hidden(text, secret)
    assert "CREDENTIALS = (AWS_KEY_ID = '***'" in caplog.text
    # The registry keeps them sealed (tests/test_secrets_at_rest.py).
    assert "sqla_stage:sealed:v1:" in repr(definitions)


@pytest.mark.parametrize("secret", SECRET_PARAMS)
def test_runtime_error_messages_hide_the_secret(engine: Any, memory: str, secret: str) -> None:
    errors: list[BaseException] = []
    aws, azure = aws_stage(f"{memory}/aws/"), azure_stage(f"{memory}/az/")
    no_column = sa.select(sa.literal_column("no_such_column"))
    with engine.connect() as conn:
        conn.execute(CreateStage(aws_stage(f"{memory}/aws/", None)))
        conn.execute(CreateStage(azure_stage(f"{memory}/az/", None)))
        conn.commit()
        for construct in (
            CopyInto(f"{memory}/x/", sa.table("missing"), credentials=AWS),
            CopyInto(f"{memory}/x/", sa.table("missing"), credentials=AWS, encryption=CSE),
            CopyInto(sa.table("missing"), azure / "x/"),
            CopyInto(f"{memory}/x/", no_column, credentials=AZURE, encryption=AZURE_CSE),
            CreateStage(aws),  # already exists
            CreateStage(azure),
            AlterStage("nowhere", credentials=AWS, encryption=CSE),
        ):
            with pytest.raises(sa.exc.SQLAlchemyError) as caught:
                conn.execute(construct)
            conn.rollback()
            errors.append(caught.value)
    # DuckDB's own errors and the runtime's are caught alike, as a warehouse driver's are.
    assert {type(error) for error in errors} >= {sa.exc.ProgrammingError, StageProgrammingError}
    assert all(isinstance(error, sa.exc.DBAPIError) for error in errors)
    for error in errors:
        assert_hidden(str(error), secret)
        assert_hidden(repr(error), secret)
        if isinstance(error, sa.exc.DBAPIError):
            assert error.params in ((), None, {}, [])  # credentials are never parameters
            assert_hidden(str(error.statement), secret)
            if "CREDENTIALS" in str(error.statement):
                assert "'***'" in str(error)


# S3 (moto): the real values sign the requests; errors show neither key


def test_s3_stage_from_a_construct_signs_with_the_real_values(
    engine: Any, s3_server: MotoS3, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    stage = Stage("s3s", url=f"s3://{s3_bucket}/p/", credentials=s3_server.credentials())
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t AS SELECT range AS a FROM range(4)")
        conn.execute(CreateStage(stage))
        conn.execute(CopyInto(stage / "out/", t))
        conn.execute(CopyInto(t, stage / "out/"))
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 8
        url = f"s3://{s3_bucket}/direct/"
        conn.execute(CopyInto(url, t, credentials=s3_server.credentials()))
        desc = repr(conn.execute(DescribeStage("s3s")).all())
    assert s3_server.keys(s3_bucket) == ["direct/data_0_0_0.csv.gz", "p/out/data_0_0_0.csv.gz"]
    for text in (caplog.text, desc):
        assert_hidden(text, s3_server.key, s3_server.secret)


@pytest.mark.parametrize("wrong", ["aws_key_id", "aws_secret_key", "bucket"])
def test_s3_errors_show_no_key(engine: Any, s3_server: MotoS3, s3_bucket: str, wrong: str) -> None:
    credentials = s3_server.credentials()
    bucket = s3_bucket
    if wrong == "bucket":
        bucket = f"{s3_bucket}-missing"
    else:
        credentials[wrong] = f"WRONG-{wrong}-{SECRET_KEY}"
    stage = Stage("bad", url=f"s3://{bucket}/p/", credentials=credentials)
    with engine.connect() as conn:
        conn.execute(CreateStage(stage))
        conn.commit()
        for construct in (
            ListFiles(stage),
            CopyInto(stage / "out/", sa.select(sa.literal(1))),
            CopyInto(f"s3://{bucket}/x/", sa.select(sa.literal(1)), credentials=credentials),
        ):
            with s3_server.authenticated(), pytest.raises(StageRuntimeError) as caught:
                conn.execute(construct)
            conn.rollback()
            assert "s3://" in str(caught.value)
            assert_hidden(str(caught.value), s3_server.key, s3_server.secret, SECRET_KEY)


# Parse errors never quote a secret


BAD_SHAPES = [
    "CREDENTIALS = ({key} '{value}')",  # no '='
    "CREDENTIALS = ({key} = {value})",  # not quoted
    'CREDENTIALS = ({key} = "{value}")',  # an identifier, not a string
    "CREDENTIALS = (REGION = 'r' '{value}')",  # a string where a key goes
    "CONNECTION = ({key} '{value}')",
    "ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY '{value}')",
    "ENCRYPTION = (MASTER_KEY = {value})",
    "ENCRYPTION = (TYPE = 'AWS_CSE' '{value}')",
]
SPELLINGS = sorted(SECRET_SQL_NAMES - {"MASTER_KEY"})


@pytest.mark.parametrize("shape", BAD_SHAPES)
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("statement", ["create", "unload", "load"])
def test_parse_errors_do_not_quote_secrets(shape: str, spelling: str, statement: str) -> None:
    value = "sEcReT42value"
    clause = shape.format(key=spelling, value=value)
    sql = {
        "create": f"CREATE STAGE s URL = 's3://b/' {clause}",
        "unload": f"COPY INTO 's3://b/' FROM t {clause}",
        "load": f"COPY INTO t FROM 's3://b/' {clause}",
    }[statement]
    with pytest.raises(StageParseError) as caught:
        parse(sql)
    assert value not in str(caught.value)
    assert "not shown" in str(caught.value)


@pytest.mark.parametrize("spelling", [s.lower() for s in SPELLINGS])
@pytest.mark.parametrize("shape", ["{{'{key}' '{value}'}}", '{{"{key}" = {value}}}'])
def test_matrixone_parse_errors_do_not_quote_secrets(shape: str, spelling: str) -> None:
    value = "sEcReT42value"
    sql = f"CREATE STAGE s URL = 's3://b/' CREDENTIALS = {shape.format(key=spelling, value=value)}"
    with pytest.raises(StageParseError) as caught:
        parse(sql, dialect=mysql.dialect())
    assert value not in str(caught.value)
    assert "not shown" in str(caught.value)


def test_parse_errors_still_quote_other_tokens() -> None:
    with pytest.raises(StageParseError, match=r"found 'AWS_SECRT_KEY'"):
        parse("CREATE STAGE s URL = 's3://b/' CREDENTIALS = (AWS_SECRT_KEY = 'x')")
    with pytest.raises(StageParseError, match=r"found \"'XML'\""):
        parse("CREATE STAGE s URL = 's3://b/' FILE_FORMAT = (TYPE = 'XML')")


@pytest.mark.parametrize("secret", SECRET_PARAMS)
def test_parse_error_in_a_statement_holding_secrets(engine: Any, secret: str) -> None:
    sql = (
        f"CREATE STAGE s URL = 's3://b/' CREDENTIALS = (AWS_KEY_ID = '{KEY_ID}' "
        f"AWS_SECRET_KEY = '{SECRET_KEY}' AWS_TOKEN = '{TOKEN}' '{SAS}') "
        f"ENCRYPTION = (MASTER_KEY = '{MASTER_KEY}')"
    )
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as caught:
        conn.exec_driver_sql(sql)
    assert_hidden(str(caught.value), secret)


# What raw SQL text exposes (documented in docs/security.md)


def test_raw_text_secrets_are_masked_in_desc_and_in_the_echo_log(
    engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine.echo = True
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE STAGE raw URL = 'memory://secrets/raw/' CREDENTIALS = ("
            f"AWS_KEY_ID = '{KEY_ID}' AWS_SECRET_KEY = '{SECRET_KEY}')"
        )
        assert_hidden(repr(conn.execute(DescribeStage("raw")).all()))
        assert_hidden(repr(conn.exec_driver_sql("SHOW STAGES").all()))
    assert_hidden(caplog.text)  # the echo log's filter masks what was typed
    assert "AWS_SECRET_KEY = '****'" in caplog.text
