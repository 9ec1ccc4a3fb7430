"""``repr()`` of stages, statements, credentials and encryption never shows a secret.

Secrets are the AWS key id, secret key and session token, the Azure SAS token and
the client-side encryption master key; the URL, endpoint, region, encryption type
and KMS key id are not secret and stay visible.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import (
    CopyInto,
    CreateConnection,
    CreateStage,
    ListFiles,
    LoadData,
    SelectIntoOutfile,
    Stage,
)
from sqla_stage.credentials import MASK, Credentials, Encryption

KEY_ID = "AKIA-kid-7f3e9a"
SECRET_KEY = "wJalr-secret-4c1d"
TOKEN = "FwoG-token-8b2e"
SAS = "sv=2024&sig=sas-5d6f"
MASTER_KEY = "bWFzdGVy-master-9a0b"
SECRETS = (KEY_ID, SECRET_KEY, TOKEN, SAS, MASTER_KEY)

URL = "s3://bucket-visible/exports/"
ENDPOINT = "http://minio.visible:9000"
REGION = "eu-visible-1"

AWS = {
    "aws_key_id": KEY_ID,
    "aws_secret_key": SECRET_KEY,
    "aws_token": TOKEN,
    "endpoint_url": ENDPOINT,
    "region": REGION,
}
CSE = {"type": "AWS_CSE", "master_key": MASTER_KEY}

aws_stage = Stage("exports", url=URL, credentials=AWS, encryption=CSE, comment="nightly")
azure_stage = Stage(
    "az",
    url="azure://acct.blob.core.windows.net/c/",
    credentials={"azure_sas_token": SAS},
    encryption={"type": "AZURE_CSE", "master_key": MASTER_KEY},
)
table = sa.table("t", sa.column("a"))

OBJECTS: list[tuple[str, Any, tuple[str, ...]]] = [
    # (id, object, visible non-secret text)
    ("stage", aws_stage, (URL, ENDPOINT, REGION, "AWS_CSE", "nightly")),
    ("stage-azure", azure_stage, ("azure://acct.blob.core.windows.net/c/", "AZURE_CSE")),
    ("stage-path", aws_stage / "daily/", (URL, ENDPOINT, REGION, "daily/")),
    ("create-stage", CreateStage(aws_stage, if_not_exists=True), (URL, ENDPOINT, REGION)),
    (
        "copy-unload-url",
        CopyInto(URL, table, credentials=AWS, encryption=CSE, single=True),
        (URL, ENDPOINT, REGION, "AWS_CSE", "single=True"),
    ),
    (
        "copy-load-url-sas",
        CopyInto(
            table,
            "azure://acct.blob.core.windows.net/c/",
            credentials={"azure_sas_token": SAS},
            encryption={"type": "AZURE_CSE", "master_key": MASTER_KEY},
        ),
        ("azure://acct.blob.core.windows.net/c/", "AZURE_CSE"),
    ),
    ("copy-to-stage", CopyInto(aws_stage / "x/", table), (URL, ENDPOINT, REGION)),
    ("copy-from-stage", CopyInto(table, aws_stage), (URL, ENDPOINT, REGION)),
    ("list", ListFiles(aws_stage, pattern="p.*"), (URL, ENDPOINT, "p.*")),
    ("outfile", SelectIntoOutfile(sa.select(table), aws_stage / "a.csv"), (URL, ENDPOINT)),
    ("credentials", Credentials.coerce("test", AWS), (ENDPOINT, REGION, "aws_key_id")),
    (
        "credentials-upper-case-keys",
        Credentials.coerce("test", {"AWS_KEY_ID": KEY_ID, "AWS_SECRET_KEY": SECRET_KEY}),
        ("aws_key_id", "aws_secret_key"),
    ),
    ("credentials-sas", Credentials.coerce("test", {"azure_sas_token": SAS}), ("azure_sas_token",)),
    ("encryption", Encryption.coerce("test", CSE), ("AWS_CSE", "master_key")),
    (
        "encryption-implied-type",
        Encryption.coerce("test", {"master_key": MASTER_KEY}),
        ("AWS_CSE",),
    ),
    (
        "encryption-kms",
        Encryption.coerce("test", {"type": "AWS_SSE_KMS", "kms_key_id": "kms-visible"}),
        ("AWS_SSE_KMS", "kms-visible"),
    ),
]


@pytest.mark.parametrize(
    ("obj", "visible"), [pytest.param(obj, visible, id=i) for i, obj, visible in OBJECTS]
)
def test_repr_masks_secrets(obj: Any, visible: tuple[str, ...]) -> None:
    text = repr(obj)
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == []
    for shown in visible:
        assert shown in text


@pytest.mark.parametrize(
    "obj", [pytest.param(obj, id=i) for i, obj, _ in OBJECTS if "kms" not in i]
)
def test_repr_shows_the_mask(obj: Any) -> None:
    assert MASK in repr(obj)


@pytest.mark.parametrize(
    "obj",
    [
        Credentials.coerce("test", AWS),
        Encryption.coerce("test", CSE),
        Credentials.coerce("test", {"azure_sas_token": SAS}),
    ],
    ids=["credentials", "encryption", "sas"],
)
def test_str_and_format_mask_secrets(obj: Any) -> None:
    for text in (str(obj), f"{obj}", f"{obj!r}", "%s" % (obj,)):  # noqa: UP031
        assert [secret for secret in SECRETS if secret in text] == []


def test_masked_values_are_still_usable() -> None:
    """Masking is for display only: the mapping keeps the values the SQL needs."""
    credentials = aws_stage.credentials
    assert credentials is not None
    assert credentials["aws_secret_key"] == SECRET_KEY
    assert credentials.masked() == {
        "aws_key_id": MASK,
        "aws_secret_key": MASK,
        "aws_token": MASK,
        "endpoint_url": ENDPOINT,
        "region": REGION,
    }
    revealed = CreateStage(aws_stage).compile(compile_kwargs={"render_secrets": True})
    assert SECRET_KEY in str(revealed)  # the registry's text (sealed first) and a warehouse's


# str(construct) and the logs (issue 17): the default string form masks, a warehouse's
# text (what execution sends) keeps the values, and SQLAlchemy's echo masks typed secrets.

STATEMENTS = [
    pytest.param(obj, id=i)
    for i, obj, _ in OBJECTS
    if i in ("create-stage", "copy-unload-url", "copy-load-url-sas")
] + [
    pytest.param(
        LoadData(
            table,
            {
                "endpoint": ENDPOINT,
                "access_key_id": KEY_ID,
                "secret_access_key": SECRET_KEY,
                "bucket": "b",
                "filepath": "f.csv",
            },
        ),
        id="load-data",
    ),
    pytest.param(
        CreateConnection("c", credentials={"aws_key_id": KEY_ID, "aws_secret_key": SECRET_KEY}),
        id="create-connection",
    ),
    pytest.param(
        CreateConnection("g", "gcs", parameters={"credential": SAS}), id="connection-parameter"
    ),
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_str_of_a_statement_masks_secrets(statement: Any, caplog: pytest.LogCaptureFixture) -> None:
    """``str(stmt)``, ``stmt.compile()`` and ``logger.info("%s", stmt)`` show ``'***'``."""
    caplog.set_level(logging.INFO, logger="app")
    logging.getLogger("app").info("%s", statement)
    for text in (str(statement), str(statement.compile()), f"{statement}", caplog.text):
        assert [secret for secret in SECRETS if secret in text] == []
        assert MASK in text
    revealed = str(statement.compile(compile_kwargs={"render_secrets": True}))
    assert [secret for secret in SECRETS if secret in revealed] != []


def test_echo_masks_secrets_typed_into_sql(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Raw SQL holding secrets is logged with them masked; a construct's text already is."""
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'app.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp_path / "stages"),
        echo=True,
    )
    typed = (
        "CREATE STAGE raw URL = 'memory://repr-secrets/raw/' CREDENTIALS = ("
        f"AWS_KEY_ID = '{KEY_ID}' AWS_SECRET_KEY = '{SECRET_KEY}' AWS_TOKEN = '{TOKEN}')"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(typed)
        conn.execute(CreateStage(Stage("built", url="memory://repr-secrets/b/", credentials=AWS)))
        conn.exec_driver_sql(
            f"CREATE CONNECTION c STORAGE_TYPE = 's3' ACCESS_KEY_ID = '{KEY_ID}' "
            f"SECRET_ACCESS_KEY = '{SECRET_KEY}'"
        )
    engine.dispose()
    assert [secret for secret in SECRETS if secret in caplog.text] == []
    assert "AWS_SECRET_KEY = '****'" in caplog.text  # typed: masked by the log filter
    assert "AWS_SECRET_KEY = '***'" in caplog.text  # a construct: masked when compiled
    assert "SECRET_ACCESS_KEY = '****'" in caplog.text


@pytest.mark.extra("snowflake")
def test_a_warehouse_engines_echo_masks_its_secrets(caplog: pytest.LogCaptureFixture) -> None:
    """A Snowflake engine with the plugin: its echo logger masks the text it would send.

    No Snowflake server: the text SQLAlchemy logs on execute (the statement compiled for
    the engine's dialect, real secrets included) is logged through the engine's logger.
    """
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine = sa.create_engine("snowflake://u:p@127.0.0.1:9/db", plugins=["sqla_stage"], echo=True)
    stage = Stage(
        "s3s", url="s3://b/p/", credentials={"aws_key_id": KEY_ID, "aws_secret_key": SECRET_KEY}
    )
    text = str(CreateStage(stage).compile(dialect=engine.dialect))
    assert SECRET_KEY in text  # what Snowflake needs
    engine.logger.info(text)
    assert SECRET_KEY not in caplog.text and KEY_ID not in caplog.text
    assert "AWS_SECRET_KEY = '****'" in caplog.text
