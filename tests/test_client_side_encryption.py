"""Client-side encryption (``AWS_CSE`` with a MASTER_KEY) against moto in server mode.

What the issue asks to show: the files round-trip and the stored bytes are not plaintext.
Each stored object is read back with boto3 and decrypted here with ``cryptography``
following the S3 Encryption Client's documented V2 envelope (the object's metadata), so
another client can read what the runtime writes; files in the legacy V1 envelope (what
Snowflake's connectors write) are read by the runtime too. A wrong MASTER_KEY, a file
without an envelope and an invalid key are refused before anything is loaded or written.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cse_envelope import decrypt_v2
from moto_server import MotoS3

from sqla_stage import CopyInto, SelectIntoOutfile
from sqla_stage.errors import StageProgrammingError

KEY_256 = base64.b64encode(bytes(range(32))).decode()
KEY_128 = base64.b64encode(bytes(range(100, 116))).decode()
OTHER_KEY = base64.b64encode(b"\x07" * 32).decode()
WORDS = ("apple-orchard", "pear-garden", "plum-valley")
PARQUET_MAGIC = b"PAR1"


@pytest.fixture
def table_t(engine: Any) -> str:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql(
            "INSERT INTO t SELECT i, ['apple-orchard', 'pear-garden', 'plum-valley'][i % 3 + 1]"
            " || '-' || i FROM range(1, 301) r(i)"
        )
        conn.exec_driver_sql("CREATE TABLE back (id INTEGER, name VARCHAR)")
    return "t"


def cse_stage(
    conn: sa.Connection, server: MotoS3, bucket: str, key: str, name: str = "enc"
) -> None:
    conn.exec_driver_sql(
        f"CREATE STAGE {name} URL = 's3://{bucket}/p/' {server.credentials_sql()} "
        f"ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY = '{key}')"
    )


def put_v1(server: MotoS3, bucket: str, key: str, master_key: str, plain: bytes) -> None:
    """Store ``plain`` in the legacy V1 envelope: AES/ECB-wrapped key, AES/CBC content."""
    data_key, iv = os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    wrap = Cipher(algorithms.AES(base64.b64decode(master_key)), modes.ECB()).encryptor()
    wrapped = wrap.update(padder.update(data_key) + padder.finalize()) + wrap.finalize()
    padder = padding.PKCS7(128).padder()
    content = Cipher(algorithms.AES(data_key), modes.CBC(iv)).encryptor()
    body = content.update(padder.update(plain) + padder.finalize()) + content.finalize()
    metadata = {
        "x-amz-key": base64.b64encode(wrapped).decode(),
        "x-amz-iv": base64.b64encode(iv).decode(),
        "x-amz-matdesc": json.dumps({"queryId": "q", "smkId": "1", "keySize": "256"}),
    }
    server.s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata)


def same_rows(conn: sa.Connection, left: str, right: str) -> None:
    for a, b in ((left, right), (right, left)):
        extra = conn.exec_driver_sql(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}").all()
        assert extra == []
    assert conn.exec_driver_sql(f"SELECT count(*) FROM {right}").scalar() == 300


def test_stored_bytes_are_not_plaintext_and_decrypt_with_the_documented_envelope(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        conn.exec_driver_sql(
            "COPY INTO @enc/plain/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
        )
        conn.exec_driver_sql("COPY INTO @enc/gz/ FROM t FILE_FORMAT = (TYPE = CSV)")
        conn.exec_driver_sql("COPY INTO @enc/pq/ FROM t FILE_FORMAT = (TYPE = PARQUET)")
    keys = s3_server.keys(s3_bucket)
    assert {key.split("/")[1] for key in keys} == {"plain", "gz", "pq"}
    for key in keys:
        stored = s3_server.read(s3_bucket, key)
        assert not any(word.encode() in stored for word in WORDS)
        assert not stored.startswith((b"\x1f\x8b", PARQUET_MAGIC))
        assert not stored.endswith(PARQUET_MAGIC)
        plain = decrypt_v2(s3_server.s3, s3_bucket, key, KEY_256)
        assert len(stored) == len(plain) + 16  # the GCM tag
        folder = key.split("/")[1]
        if folder == "plain":
            assert b"1,apple-orchard-1" in plain or b"1,pear-garden-1" in plain
            assert all(word.encode() in plain for word in WORDS)
        elif folder == "gz":
            assert all(word.encode() in gzip.decompress(plain) for word in WORDS)
        else:
            assert plain.startswith(PARQUET_MAGIC) and plain.endswith(PARQUET_MAGIC)


@pytest.mark.parametrize("master_key", [KEY_256, KEY_128], ids=["256-bit", "128-bit"])
@pytest.mark.parametrize(
    "file_format",
    [
        "TYPE = CSV",
        "TYPE = CSV COMPRESSION = NONE",
        "TYPE = CSV COMPRESSION = BZ2",
        "TYPE = JSON",
        "TYPE = PARQUET",
    ],
)
def test_unload_then_load_round_trips(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str, master_key: str, file_format: str
) -> None:
    json_format = "JSON" in file_format
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, master_key)
        conn.exec_driver_sql(f"CREATE FILE FORMAT ff {file_format}")
        columns = "t AS row" if json_format else "*"
        for half in ("id <= 150", "id > 150"):  # two files, each with its own envelope
            conn.exec_driver_sql(
                f"COPY INTO @enc/u/ FROM (SELECT {columns} FROM t WHERE {half}) "
                "FILE_FORMAT = (FORMAT_NAME = 'ff') INCLUDE_QUERY_ID = TRUE"
            )
        assert len(s3_server.keys(s3_bucket)) == 2
        if json_format:
            conn.exec_driver_sql(
                "COPY INTO back FROM (SELECT $1:id, $1:name FROM @enc/u/) "
                "FILE_FORMAT = (FORMAT_NAME = 'ff')"
            )
        else:
            conn.exec_driver_sql("COPY INTO back FROM @enc/u/ FILE_FORMAT = (FORMAT_NAME = 'ff')")
        same_rows(conn, "t", "back")
        staged = conn.exec_driver_sql("SELECT count(*) FROM @enc/u/ (FILE_FORMAT => 'ff')").scalar()
        assert staged == 300
    for key in s3_server.keys(s3_bucket):
        assert not any(word.encode() in s3_server.read(s3_bucket, key) for word in WORDS)


def test_a_url_location_with_encryption_round_trips(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    encryption = {"type": "AWS_CSE", "master_key": KEY_256}
    url = f"s3://{s3_bucket}/url/"
    with engine.begin() as conn:
        conn.execute(
            CopyInto(url, sa.table("t"), credentials=s3_server.credentials(), encryption=encryption)
        )
        conn.execute(
            CopyInto(
                sa.table("back"), url, credentials=s3_server.credentials(), encryption=encryption
            )
        )
        same_rows(conn, "t", "back")
    [key] = s3_server.keys(s3_bucket)
    assert all(
        word.encode() in gzip.decompress(decrypt_v2(s3_server.s3, s3_bucket, key, KEY_256))
        for word in WORDS
    )


def test_a_wrong_master_key_is_refused_and_nothing_is_loaded(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        cse_stage(conn, s3_server, s3_bucket, OTHER_KEY, name="wrong")
        conn.exec_driver_sql("COPY INTO @enc/u/ FROM t")
    with engine.begin() as conn:
        for statement in (
            "COPY INTO back FROM @wrong/u/",
            "COPY INTO back FROM @wrong/u/ ON_ERROR = CONTINUE",
            "SELECT $1 FROM @wrong/u/",
        ):
            with pytest.raises(StageProgrammingError, match="MASTER_KEY does not decrypt") as err:
                conn.exec_driver_sql(statement)
            assert OTHER_KEY not in str(err.value) and KEY_256 not in str(err.value)
        assert conn.exec_driver_sql("SELECT count(*) FROM back").scalar() == 0


def test_a_file_without_an_envelope_is_refused(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/u/plain.csv", Body=b"1,apple\n")
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        with pytest.raises(StageProgrammingError, match="has no encryption envelope"):
            conn.exec_driver_sql("COPY INTO back FROM @enc/u/")
        assert conn.exec_driver_sql("SELECT count(*) FROM back").scalar() == 0


def test_a_file_in_the_legacy_v1_envelope_is_read(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    rows = b"".join(f"{i},legacy-{i}\n".encode() for i in range(50))
    put_v1(s3_server, s3_bucket, "p/v1/data.csv.gz", KEY_256, gzip.compress(rows))
    put_v1(s3_server, s3_bucket, "p/v1/more.csv.bz2", KEY_256, bz2.compress(rows))
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        conn.exec_driver_sql("COPY INTO back FROM @enc/v1/")
        result = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id) FROM back").one()
        cse_stage(conn, s3_server, s3_bucket, OTHER_KEY, name="wrong")
        with pytest.raises(StageProgrammingError, match="MASTER_KEY does not decrypt"):
            conn.exec_driver_sql("SELECT count(*) FROM @wrong/v1/")
    assert tuple(result) == (100, 50)


def test_get_decrypts_and_put_is_refused(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "up.csv"
    local.write_text("9,fig\n")
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_128)
        conn.exec_driver_sql(
            "COPY INTO @enc/u/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
        )
        conn.exec_driver_sql(f"GET @enc/u/ file://{tmp_path}/got/")
        with pytest.raises(StageProgrammingError, match="PUT does not encrypt"):
            conn.exec_driver_sql(f"PUT file://{local} @enc/put/")
    [got] = list((tmp_path / "got").rglob("*.csv"))
    assert all(word in got.read_text() for word in WORDS)
    assert not any(key.startswith("p/put/") for key in s3_server.keys(s3_bucket))


@pytest.mark.parametrize(
    "master_key",
    [
        "not base64!!",
        base64.b64encode(b"k" * 20).decode(),  # base64, but 160 bits
        "a2V5",  # 3 bytes
    ],
)
def test_an_invalid_master_key_is_refused_at_create_stage(
    engine: Any, s3_server: MotoS3, s3_bucket: str, master_key: str
) -> None:
    with engine.begin() as conn:
        with pytest.raises(StageProgrammingError, match="128-bit or 256-bit AES key") as err:
            cse_stage(conn, s3_server, s3_bucket, master_key)
        assert master_key not in str(err.value)
        assert conn.exec_driver_sql("SHOW STAGES LIKE 'enc'").all() == []


def test_the_master_key_is_not_shown(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        shown = [
            *conn.exec_driver_sql("DESC STAGE enc").all(),
            *conn.exec_driver_sql("SHOW STAGES").all(),
        ]
    assert KEY_256 not in repr(shown)


def test_validation_mode_reads_the_decrypted_files(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        conn.exec_driver_sql(
            "COPY INTO @enc/v/ FROM (SELECT CAST(id AS VARCHAR) AS id, name FROM t "
            "UNION ALL SELECT 'not-a-number', 'bad') FILE_FORMAT = (TYPE = CSV)"
        )
        errors = conn.exec_driver_sql(
            "COPY INTO back FROM @enc/v/ VALIDATION_MODE = RETURN_ERRORS"
        ).all()
        assert len(errors) == 1 and "not-a-number" in repr(errors[0])
        rows = conn.exec_driver_sql("COPY INTO back FROM @enc/v/ VALIDATION_MODE = RETURN_5_ROWS")
        assert len(rows.all()) == 5
        assert conn.exec_driver_sql("SELECT count(*) FROM back").scalar() == 0


def test_unload_sizes_count_the_file_before_encryption(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        result = conn.exec_driver_sql(
            "COPY INTO @enc/d/ FROM t FILE_FORMAT = (TYPE = CSV) DETAILED_OUTPUT = TRUE"
        ).one()
        listed = conn.exec_driver_sql("LIST @enc/d/").one()
    [key] = s3_server.keys(s3_bucket)
    plain = decrypt_v2(s3_server.s3, s3_bucket, key, KEY_256)
    assert result.file_size == len(plain)
    assert listed.size == len(plain) + 16 == len(s3_server.read(s3_bucket, key))


def test_into_outfile_into_an_encrypted_stage_is_refused(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        with pytest.raises(StageProgrammingError, match="INTO OUTFILE does not encrypt"):
            conn.execute(SelectIntoOutfile(sa.text("SELECT * FROM t"), "stage://enc/out/t.csv"))
    assert s3_server.keys(s3_bucket) == []


def test_load_data_and_datalinks_on_an_encrypted_stage_are_refused(
    engine: Any, make_engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        conn.exec_driver_sql(
            "COPY INTO @enc/f.csv FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) "
            "SINGLE = TRUE"
        )
    engine.dispose()
    matrixone = make_engine(stage_dialect="matrixone")  # the same database: load_file()
    for statement in (
        "LOAD DATA INFILE 'stage://enc/f.csv' INTO TABLE back FIELDS TERMINATED BY ','",
        "SELECT load_file(cast('stage://enc/f.csv' as datalink))",
    ):
        with (
            matrixone.begin() as conn,
            pytest.raises(StageProgrammingError, match="does not decrypt"),
        ):
            conn.exec_driver_sql(statement)
    with matrixone.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM back").scalar() == 0


def test_max_file_size_bounds_each_stored_encrypted_object(
    engine: Any, table_t: str, s3_server: MotoS3, s3_bucket: str
) -> None:
    with engine.begin() as conn:
        cse_stage(conn, s3_server, s3_bucket, KEY_256)
        conn.exec_driver_sql(
            "COPY INTO @enc/m/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) "
            "MAX_FILE_SIZE = 1000"
        )
        conn.exec_driver_sql("COPY INTO back FROM @enc/m/")
        same_rows(conn, "t", "back")
    keys = s3_server.keys(s3_bucket)
    assert len(keys) > 3
    for key in keys:
        plain = decrypt_v2(s3_server.s3, s3_bucket, key, KEY_256)
        stored = len(s3_server.read(s3_bucket, key))
        assert stored <= 1000 and stored == len(plain) + 16
