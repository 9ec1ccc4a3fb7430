"""ENCRYPTION and AWS_ROLE on the runtime, against moto in server mode on 127.0.0.1.

Server-side encryption is checked on every object written (unload, PUT, INTO OUTFILE)
with boto3's ``head_object``, which answers what moto recorded from the request. The
encryptions the runtime cannot apply are refused before anything is written. A stage or
location naming an ``AWS_ROLE`` is reached with the role's temporary credentials from
moto's STS: the environment's own key may call ``sts:AssumeRole`` and nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from moto_server import MotoS3, free_port

from sqla_stage import CopyInto, SelectIntoOutfile
from sqla_stage.errors import StageOperationalError, StageProgrammingError

ROWS = [(1, "apple"), (2, "pear"), (3, "plum")]


@pytest.fixture
def table_t(engine: Any) -> str:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')")
        conn.exec_driver_sql("CREATE TABLE back (id INTEGER, name VARCHAR)")
    return "t"


def sse_of(server: MotoS3, bucket: str) -> dict[str, tuple[str | None, str | None]]:
    """Each object's ``ServerSideEncryption`` and ``SSEKMSKeyId``, as S3 reports them."""
    result = {}
    for key in server.keys(bucket):
        head = server.s3.head_object(Bucket=bucket, Key=key)
        result[key] = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
    return result


def write_everything(conn: sa.Connection, stage: str, tmp_path: Path) -> None:
    """Unload, PUT and INTO OUTFILE into ``stage``: one object of each."""
    conn.exec_driver_sql(f"COPY INTO @{stage}/unload/ FROM t")
    local = tmp_path / "put.csv"
    local.write_text("9,fig\n")
    conn.exec_driver_sql(f"PUT file://{local} @{stage}/put/ AUTO_COMPRESS = FALSE")
    conn.execute(SelectIntoOutfile(sa.text("SELECT * FROM t"), f"stage://{stage}/out/t.csv"))


# Server-side encryption


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("ENCRYPTION = (TYPE = 'AWS_SSE_S3')", ("AES256", None)),
        ("ENCRYPTION = (TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = 'aws/key')", ("aws:kms", "aws/key")),
        ("ENCRYPTION = (TYPE = 'NONE')", (None, None)),
        ("", (None, None)),
    ],
)
def test_a_stage_encrypts_every_object_it_writes(
    engine: Any,
    table_t: str,
    s3_server: MotoS3,
    s3_bucket: str,
    tmp_path: Path,
    clause: str,
    expected: tuple[str | None, str | None],
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE enc URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()} {clause}"
        )
        write_everything(conn, "enc", tmp_path)
        conn.exec_driver_sql("COPY INTO back FROM @enc/unload/")
        assert conn.exec_driver_sql("SELECT * FROM back ORDER BY id").fetchall() == ROWS
    objects = sse_of(s3_server, s3_bucket)
    assert {key.split("/")[1] for key in objects} == {"unload", "put", "out"}
    assert set(objects.values()) == {expected}


def test_sse_kms_without_a_key_id_uses_the_default_key(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"COPY INTO 's3://{s3_bucket}/q/' FROM t {s3_server.credentials_sql()} "
            "ENCRYPTION = (TYPE = 'AWS_SSE_KMS') FILE_FORMAT = (TYPE = PARQUET)"
        )
    objects = sse_of(s3_server, s3_bucket)
    assert len(objects) == 1
    assert {sse for sse, _ in objects.values()} == {"aws:kms"}


def test_a_url_location_encrypts_what_copy_writes(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    statement = CopyInto(
        f"s3://{s3_bucket}/u/",
        sa.table("t"),
        credentials=s3_server.credentials(),
        encryption={"type": "AWS_SSE_S3"},
    )
    with engine.begin() as conn:
        conn.execute(statement)
        conn.exec_driver_sql(
            f"COPY INTO back FROM 's3://{s3_bucket}/u/' {s3_server.credentials_sql()} "
            "ENCRYPTION = (TYPE = 'AWS_SSE_S3')"
        )
        assert conn.exec_driver_sql("SELECT * FROM back ORDER BY id").fetchall() == ROWS
    objects = sse_of(s3_server, s3_bucket)
    assert list(objects.values()) == [("AES256", None)]


def test_altering_a_stages_encryption_applies_to_later_writes(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE enc URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}"
        )
        conn.exec_driver_sql("COPY INTO @enc/a/ FROM t")
        conn.exec_driver_sql("ALTER STAGE enc SET ENCRYPTION = (TYPE = 'AWS_SSE_S3')")
        conn.exec_driver_sql("COPY INTO @enc/b/ FROM t")
    objects = sse_of(s3_server, s3_bucket)
    assert {key.split("/")[1]: sse for key, (sse, _) in objects.items()} == {
        "a": None,
        "b": "AES256",
    }


# Refusals, before anything is written


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        # 'a2V5' is base64 of 3 bytes, not an AES key (test_client_side_encryption.py)
        ("ENCRYPTION = (MASTER_KEY = 'a2V5')", "MASTER_KEY must be a base64-encoded"),
        (
            "ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY = 'a2V5')",
            "MASTER_KEY must be a base64-encoded 128-bit or 256-bit AES key",
        ),
        (
            "ENCRYPTION = (TYPE = 'GCS_SSE_KMS' KMS_KEY_ID = 'k')",
            "is an encryption of Google Cloud Storage, not of an s3:// location",
        ),
        (
            "ENCRYPTION = (TYPE = 'AZURE_CSE' MASTER_KEY = 'a2V5')",
            "is an encryption of Microsoft Azure, not of an s3:// location",
        ),
    ],
)
def test_an_encryption_the_runtime_cannot_apply_is_refused_at_create_stage(
    engine: Any, s3_server: MotoS3, s3_bucket: str, clause: str, message: str
) -> None:
    with engine.begin() as conn:
        with pytest.raises(StageProgrammingError, match=message):
            conn.exec_driver_sql(
                f"CREATE STAGE enc URL = 's3://{s3_bucket}/p/' "
                f"{s3_server.credentials_sql()} {clause}"
            )
        assert conn.exec_driver_sql("SHOW STAGES LIKE 'enc'").fetchall() == []


def test_alter_stage_to_an_invalid_master_key_is_refused_and_keeps_the_stage(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE enc URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()} "
            "ENCRYPTION = (TYPE = 'AWS_SSE_S3')"
        )
        with pytest.raises(StageProgrammingError, match=r"AWS_CSE.*MASTER_KEY must be"):
            conn.exec_driver_sql("ALTER STAGE enc SET ENCRYPTION = (MASTER_KEY = 'a2V5')")
        conn.exec_driver_sql("COPY INTO @enc/ FROM t")
    assert {sse for sse, _ in sse_of(s3_server, s3_bucket).values()} == {"AES256"}


@pytest.mark.parametrize(
    "encryption",
    [
        {"type": "AWS_CSE", "master_key": "a2V5"},
        {"type": "AZURE_CSE", "master_key": "a2V5"},
        {"type": "GCS_SSE_KMS"},
    ],
)
def test_an_encryption_the_runtime_cannot_apply_is_refused_at_the_statement(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str, encryption: dict[str, str]
) -> None:
    unload = CopyInto(
        f"s3://{s3_bucket}/u/",
        sa.table("t"),
        credentials=s3_server.credentials(),
        encryption=encryption,
    )
    load = CopyInto(
        sa.table("back"),
        f"s3://{s3_bucket}/u/",
        credentials=s3_server.credentials(),
        encryption=encryption,
    )
    with engine.begin() as conn:
        for statement in (unload, load):
            with pytest.raises(StageProgrammingError, match=encryption["type"]):
                conn.execute(statement)
    assert s3_server.keys(s3_bucket) == []


def test_encryption_on_a_location_that_is_not_s3_is_refused(
    engine: Any, table_t: str, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    with engine.begin() as conn:
        with pytest.raises(StageProgrammingError, match="on a file:// location"):
            conn.exec_driver_sql(
                f"CREATE STAGE enc URL = 'file://{folder}/' ENCRYPTION = (TYPE = 'AWS_SSE_S3')"
            )
        with pytest.raises(StageProgrammingError, match="on a file:// location"):
            conn.execute(
                CopyInto(f"file://{folder}/", sa.table("t"), encryption={"type": "AWS_SSE_KMS"})
            )
        conn.execute(CopyInto(f"file://{folder}/", sa.table("t"), encryption={"type": "NONE"}))
    assert len(list(folder.iterdir())) == 1


def test_an_internal_stage_refuses_snowflake_encryption(engine: Any, table_t: str) -> None:
    # the runtime does not encrypt the stage's folder at rest (test_unload_usage_notes.py)
    with (
        engine.begin() as conn,
        pytest.raises(StageProgrammingError, match="would be stored unencrypted"),
    ):
        conn.exec_driver_sql("CREATE STAGE inner ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')")
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SHOW STAGES LIKE 'inner'").all() == []


# AWS_ROLE


@pytest.fixture
def role_env(s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A caller that may only assume roles (its key in the environment), and two roles.

    ``reader`` may use S3, ``nobody`` may not. STS is reached at the moto server through
    ``AWS_ENDPOINT_URL_STS``.
    """
    iam = s3_server.client("iam")
    suffix = uuid4().hex[:8]
    caller = f"caller-{suffix}"
    iam.create_user(UserName=caller)
    iam.put_user_policy(
        UserName=caller,
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    access = iam.create_access_key(UserName=caller)["AccessKey"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    roles = {}
    for name, action in (("reader", "s3:*"), ("nobody", "sqs:ListQueues")):
        role = iam.create_role(
            RoleName=f"{name}-{suffix}", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]
        iam.put_role_policy(
            RoleName=role["RoleName"],
            PolicyName="p",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
                }
            ),
        )
        roles[name] = role["Arn"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access["SecretAccessKey"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return roles


def role_stage_sql(server: MotoS3, bucket: str, role: str, name: str = "rs") -> str:
    return (
        f"CREATE STAGE {name} URL = 's3://{bucket}/p/' CREDENTIALS = (AWS_ROLE = '{role}' "
        f"ENDPOINT_URL = '{server.endpoint_url}')"
    )


def test_a_stage_with_an_aws_role_uses_the_roles_credentials(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str, role_env: dict[str, str]
) -> None:
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql(role_stage_sql(s3_server, s3_bucket, role_env["reader"]))
        conn.exec_driver_sql("COPY INTO @rs/u/ FROM t")
        conn.exec_driver_sql("COPY INTO back FROM @rs/u/")
        assert conn.exec_driver_sql("SELECT * FROM back ORDER BY id").fetchall() == ROWS
        listed = conn.exec_driver_sql("LIST @rs").fetchall()
    assert len(listed) == 1
    assert s3_server.keys(s3_bucket) == ["p/u/data_0_0_0.csv.gz"]


def test_without_the_role_the_environments_key_is_refused(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str, role_env: dict[str, str]
) -> None:
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE plain URL = 's3://{s3_bucket}/p/' "
            f"CREDENTIALS = (ENDPOINT_URL = '{s3_server.endpoint_url}')"
        )
        with pytest.raises(StageOperationalError, match="access denied"):
            conn.exec_driver_sql("COPY INTO @plain/u/ FROM t")
        conn.exec_driver_sql(role_stage_sql(s3_server, s3_bucket, role_env["nobody"]))
        with pytest.raises(StageOperationalError, match="access denied"):
            conn.exec_driver_sql("COPY INTO @rs/u/ FROM t")
    assert s3_server.keys(s3_bucket) == []


def test_a_url_location_with_an_aws_role(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str, role_env: dict[str, str]
) -> None:
    credentials = {"aws_role": role_env["reader"], "endpoint_url": s3_server.endpoint_url}
    with s3_server.authenticated(), engine.begin() as conn:
        conn.execute(CopyInto(f"s3://{s3_bucket}/u/", sa.table("t"), credentials=credentials))
    assert s3_server.keys(s3_bucket) == ["u/data_0_0_0.csv.gz"]


def test_an_sts_that_cannot_be_reached_fails_naming_the_role(
    engine: Any,
    table_t: str,
    s3_server: MotoS3,
    s3_bucket: str,
    role_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{free_port()}")
    role = role_env["reader"].replace("reader", "unreachable")
    with engine.begin() as conn:
        conn.exec_driver_sql(role_stage_sql(s3_server, s3_bucket, role))
        with pytest.raises(StageOperationalError, match=f"assuming AWS_ROLE '{role}' through STS"):
            conn.exec_driver_sql("COPY INTO @rs/u/ FROM t")
    assert s3_server.keys(s3_bucket) == []


def test_an_aws_role_on_a_location_that_is_not_s3_is_refused(
    engine: Any, table_t: str, tmp_path: Path
) -> None:
    with engine.begin() as conn, pytest.raises(StageProgrammingError, match="AWS_ROLE"):
        conn.exec_driver_sql(
            f"CREATE STAGE r URL = 'file://{tmp_path}/' "
            "CREDENTIALS = (AWS_ROLE = 'arn:aws:iam::123456789012:role/r')"
        )
