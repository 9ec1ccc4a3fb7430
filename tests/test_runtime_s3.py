"""The DuckDB runtime against a real S3 API (moto in server mode, reached through s3fs).

Every test gets its own bucket on the session's moto server (``s3_server`` /
``s3_bucket`` in conftest, ``tests/moto_server.py``). Objects are checked with boto3, not
through the runtime, so a test sees what a warehouse reading the bucket would see.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from moto_server import MotoS3
from stage_files import FRUIT_ROWS, create_table_t, rows_of

from sqla_stage import (
    CSV,
    CopyInto,
    CreateStage,
    DescribeStage,
    Get,
    ListFiles,
    Parquet,
    Presign,
    Put,
    RemoveFiles,
    ShowStages,
    Stage,
)
from sqla_stage.credentials import Credentials
from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage.stage_storage import open_storage

ROWS = FRUIT_ROWS


# Helpers


def create_stage(conn: sa.Connection, server: MotoS3, bucket: str, name: str = "s3stage") -> None:
    conn.exec_driver_sql(f"CREATE STAGE {name} URL = 's3://{bucket}/p/' {server.credentials_sql()}")


@pytest.fixture
def stage(engine: Any, s3_server: MotoS3, s3_bucket: str) -> str:
    """An external stage ``s3stage`` on ``s3://<bucket>/p/`` with the server's key."""
    with engine.begin() as conn:
        create_stage(conn, s3_server, s3_bucket)
    return "s3stage"


@pytest.fixture
def table_t(engine: Any) -> str:
    """A table ``t`` holding :data:`ROWS`."""
    return create_table_t(engine)


def parquet_bytes(rows: list[tuple[Any, ...]] = ROWS) -> bytes:
    table = pa.table(
        {"id": pa.array([r[0] for r in rows], pa.int32()), "name": [r[1] for r in rows]}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def read_parquet(data: bytes) -> list[tuple[Any, ...]]:
    table = pq.read_table(io.BytesIO(data))
    return sorted(zip(*(table.column(i).to_pylist() for i in range(2)), strict=True))


def text_of(rows: Any) -> str:
    """Everything a result shows, as one string (to look for leaked secrets)."""
    return repr([tuple(row) for row in rows])


def assert_clear_error(
    error: pytest.ExceptionInfo[BaseException], server: MotoS3, *parts: str
) -> None:
    message = str(error.value)
    assert isinstance(error.value, sa.exc.SQLAlchemyError), repr(error.value)
    for part in parts:
        assert part in message, message
    assert server.secret not in message


# CREATE, DESC, SHOW


def test_create_construct_and_text_forms_mask_secrets(
    engine: Any, s3_server: MotoS3, s3_bucket: str
) -> None:
    md = sa.MetaData()
    Stage("by_construct", md, url=f"s3://{s3_bucket}/a/", credentials=s3_server.credentials())
    md.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE by_text URL='s3://{s3_bucket}/b/' CREDENTIALS = (AWS_KEY_ID = "
            f"'{s3_server.key}' AWS_SECRET_KEY = '{s3_server.secret}' "
            f"ENDPOINT_URL = '{s3_server.endpoint_url}')"
        )
        conn.exec_driver_sql(  # Databend's spelling
            f"CREATE STAGE by_connection URL = 's3://{s3_bucket}/c/' CONNECTION = ("
            f"ENDPOINT_URL = '{s3_server.endpoint_url}', ACCESS_KEY_ID = '{s3_server.key}', "
            f"SECRET_ACCESS_KEY = '{s3_server.secret}', REGION = 'us-east-1')"
        )
        conn.execute(
            CreateStage(
                Stage("by_execute", url=f"s3://{s3_bucket}/d/", credentials=s3_server.credentials())
            )
        )
    with engine.connect() as conn:
        shown = conn.execute(ShowStages()).all()
        assert [row.name for row in shown] == [
            "by_connection",
            "by_construct",
            "by_execute",
            "by_text",
        ]
        assert {row.stage_type for row in shown} == {"External"}
        seen = [text_of(shown), text_of(conn.exec_driver_sql("SHOW STAGES"))]
        for name, folder in [("by_construct", "a"), ("by_text", "b"), ("by_connection", "c")]:
            desc = conn.execute(DescribeStage(name)).mappings().one()
            assert f"s3://{s3_bucket}/{folder}/" in desc["stage_params"]
            assert s3_server.endpoint_url in desc["stage_params"]
            seen += [repr(dict(desc)), text_of(conn.exec_driver_sql(f"DESC STAGE {name}"))]
        for text in seen:
            assert s3_server.key not in text and s3_server.secret not in text
        # Every stage works with its credentials.
        for name in ("by_construct", "by_text", "by_connection", "by_execute"):
            assert conn.exec_driver_sql(f"LIST @{name}").all() == []
    md.drop_all(engine)


# PUT, LIST, GET, REMOVE, PRESIGN


def test_put_list_get_round_trip(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    local.mkdir()
    (local / "orders.csv").write_text("1,apple\n2,pear\n")
    (local / "more.csv").write_text("3,plum\n" * 1000)
    blob = bytes(range(256)) * 64
    (local / "blob.parquet").write_bytes(blob)  # already "compressed": stored as it is
    with engine.begin() as conn:
        put = conn.exec_driver_sql(f"PUT file://{local}/*.csv @{stage}/in/").all()
        assert sorted((r.target, r.status) for r in put) == [
            ("more.csv.gz", "UPLOADED"),
            ("orders.csv.gz", "UPLOADED"),
        ]
        conn.execute(Put(f"file://{local}/blob.parquet", Stage(stage) / "in/"))
        again = conn.exec_driver_sql(f"PUT file://{local}/orders.csv @{stage}/in/").one()
        assert again.status == "SKIPPED"
    names = ["in/blob.parquet", "in/more.csv.gz", "in/orders.csv.gz"]
    assert s3_server.keys(s3_bucket) == [f"p/{n}" for n in names]  # no scratch objects left
    with engine.connect() as conn:
        listed = conn.execute(ListFiles(Stage(stage))).all()
        assert list(listed[0]._fields) == ["name", "size", "md5", "last_modified"]
        assert [row.name for row in listed] == names
        for row in listed:
            head = s3_server.s3.head_object(Bucket=s3_bucket, Key=f"p/{row.name}")
            data = s3_server.read(s3_bucket, f"p/{row.name}")
            assert row.size == head["ContentLength"] == len(data)
            assert row.md5 == head["ETag"].strip('"') == hashlib.md5(data).hexdigest()
            assert row.last_modified == head["LastModified"]
            assert abs(row.last_modified - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
        assert s3_server.read(s3_bucket, "p/in/blob.parquet") == blob
        assert gzip.decompress(s3_server.read(s3_bucket, "p/in/orders.csv.gz")) == (
            b"1,apple\n2,pear\n"
        )
        download = tmp_path / "download"
        got = conn.exec_driver_sql(f"GET @{stage}/in/ file://{download}/").all()
        assert sorted(row.file for row in got) == ["blob.parquet", "more.csv.gz", "orders.csv.gz"]
        assert (download / "blob.parquet").read_bytes() == blob
        assert gzip.decompress((download / "more.csv.gz").read_bytes()) == b"3,plum\n" * 1000
        again_dir = tmp_path / "again"
        conn.execute(Get(Stage(stage) / "in/orders", f"file://{again_dir}/"))
        assert sorted(p.name for p in again_dir.iterdir()) == ["orders.csv.gz"]


def test_list_pattern_prefix_and_objects_written_by_others(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str
) -> None:
    s3 = s3_server.s3
    for key in ("a/1.csv", "a/2.json", "b/3.csv", "top.csv"):
        s3.put_object(Bucket=s3_bucket, Key=f"p/{key}", Body=key.encode())
    s3.put_object(Bucket=s3_bucket, Key="elsewhere/x.csv", Body=b"not in the stage")
    with engine.connect() as conn:
        names = [r.name for r in conn.exec_driver_sql(f"LIST @{stage}")]
        assert names == ["a/1.csv", "a/2.json", "b/3.csv", "top.csv"]
        csv = conn.exec_driver_sql(rf"LIST @{stage} PATTERN = '.*\.csv'").all()
        assert [r.name for r in csv] == ["a/1.csv", "b/3.csv", "top.csv"]
        assert [r.name for r in conn.exec_driver_sql(f"ls @{stage}/a/")] == ["a/1.csv", "a/2.json"]
        listed = conn.execute(ListFiles(Stage(stage) / "a/", pattern=r"a/\d\.json")).all()
        assert [r.name for r in listed] == ["a/2.json"]
        # Objects another client writes after a LIST are seen by the next statement (no
        # listings cache): a new folder, a rewritten object, a deleted one.
        s3.put_object(Bucket=s3_bucket, Key="p/c/new.csv", Body=b"new")
        s3.put_object(Bucket=s3_bucket, Key="p/a/1.csv", Body=b"rewritten, longer")
        s3.delete_object(Bucket=s3_bucket, Key="p/b/3.csv")
        assert [(r.name, r.size) for r in conn.exec_driver_sql(f"LIST @{stage}/c/")] == [
            ("c/new.csv", 3)
        ]
        after = {r.name: r.size for r in conn.exec_driver_sql(f"LIST @{stage}")}
        assert after == {"a/1.csv": 17, "a/2.json": 8, "c/new.csv": 3, "top.csv": 7}


def test_put_sees_objects_written_by_others(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str, tmp_path: Path
) -> None:
    source = tmp_path / "x.csv.gz"
    source.write_bytes(gzip.compress(b"1,a\n"))
    with engine.begin() as conn:
        assert conn.exec_driver_sql(f"LIST @{stage}/in/").all() == []
        s3_server.s3.put_object(Bucket=s3_bucket, Key="p/in/x.csv.gz", Body=b"theirs")
        put = conn.exec_driver_sql(f"PUT file://{source} @{stage}/in/").one()
        assert (put.status, put.target_size) == ("SKIPPED", 6)
        put = conn.exec_driver_sql(f"PUT file://{source} @{stage}/in/ OVERWRITE = TRUE").one()
        assert put.status == "UPLOADED"
    assert s3_server.read(s3_bucket, "p/in/x.csv.gz") == source.read_bytes()


def test_remove(engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str) -> None:
    for key in ("in/a.csv", "in/b.csv", "in/c.json", "keep/d.csv"):
        s3_server.s3.put_object(Bucket=s3_bucket, Key=f"p/{key}", Body=b"x")
    with engine.begin() as conn:
        removed = conn.exec_driver_sql(rf"REMOVE @{stage}/in/ PATTERN = '.*\.csv'").all()
        assert [(r.name, r.result) for r in removed] == [
            ("in/a.csv", "removed"),
            ("in/b.csv", "removed"),
        ]
        assert s3_server.keys(s3_bucket) == ["p/in/c.json", "p/keep/d.csv"]
        conn.execute(RemoveFiles(Stage(stage) / "in/"))
        assert s3_server.keys(s3_bucket) == ["p/keep/d.csv"]
        assert [r.name for r in conn.exec_driver_sql(f"rm @{stage}")] == ["keep/d.csv"]
    assert s3_server.keys(s3_bucket) == []


def test_presign_download_and_upload(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str
) -> None:
    data = b"presigned bytes\n" * 100
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/in/file.csv", Body=data)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(f"PRESIGN @{stage}/in/file.csv EXPIRE = 600").one()
        assert row.method == "GET"
        assert row.url.startswith(f"{s3_server.endpoint_url}/{s3_bucket}/p/in/file.csv?")
        assert s3_server.secret not in row.url
        with urllib.request.urlopen(row.url, timeout=10) as response:
            assert response.read() == data
        upload = conn.execute(Presign(Stage(stage) / "up/new.txt", method="UPLOAD")).one()
        assert upload.method == "PUT"
    request = urllib.request.Request(
        upload.url, data=b"uploaded", method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert s3_server.read(s3_bucket, "p/up/new.txt") == b"uploaded"


def test_stage_at_bucket_root(
    engine: Any, s3_server: MotoS3, s3_bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text("1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE whole URL = 's3://{s3_bucket}/' {s3_server.credentials_sql()}"
        )
        conn.exec_driver_sql(f"PUT file://{tmp_path}/r.csv @whole/x/")
        assert [r.name for r in conn.exec_driver_sql("LIST @whole")] == ["x/r.csv.gz"]
        assert s3_server.keys(s3_bucket) == ["x/r.csv.gz"]
        conn.exec_driver_sql("REMOVE @whole")
    assert s3_server.keys(s3_bucket) == []


# COPY INTO both ways, and SELECT over staged files


def test_unload_parquet_and_load_back(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str, table_t: str
) -> None:
    with engine.begin() as conn:
        result = conn.exec_driver_sql(
            f"COPY INTO @{stage}/out/ FROM t FILE_FORMAT = (TYPE = PARQUET)"
        ).one()
        assert list(result._fields) == ["rows_unloaded", "input_bytes", "output_bytes"]
        assert result.rows_unloaded == len(ROWS)
    keys = s3_server.keys(s3_bucket)
    assert keys == ["p/out/data_0_0_0.snappy.parquet"]
    data = s3_server.read(s3_bucket, keys[0])
    assert result.output_bytes == len(data)
    assert read_parquet(data) == ROWS
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t2 (id INTEGER, name VARCHAR)")
        loaded = conn.exec_driver_sql(
            f"COPY INTO t2 FROM @{stage}/out/ FILE_FORMAT = (TYPE = PARQUET)"
        ).all()
        assert len(loaded) == 1
        row = loaded[0]._mapping
        assert list(row)[:4] == ["file", "status", "rows_parsed", "rows_loaded"]
        assert row["file"].endswith("out/data_0_0_0.snappy.parquet")
        assert (row["status"], row["rows_parsed"], row["rows_loaded"]) == ("LOADED", 4, 4)
        assert rows_of(conn, "t2") == ROWS


def test_unload_gzip_csv_and_load_back_as_constructs(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str, table_t: str
) -> None:
    md = sa.MetaData()
    t = sa.Table("t", md, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
    t3 = sa.Table("t3", md, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
    t3.create(engine)
    s3stage = Stage(stage)
    with engine.begin() as conn:
        result = conn.execute(
            CopyInto(s3stage / "csv/", sa.select(t), file_format=CSV(compression="gzip"))
        ).one()
        assert result.rows_unloaded == len(ROWS)
    keys = s3_server.keys(s3_bucket)
    assert keys == ["p/csv/data_0_0_0.csv.gz"]
    text = gzip.decompress(s3_server.read(s3_bucket, keys[0])).decode()
    assert sorted(text.splitlines()) == ["1,apple", "2,pear", "3,plum", r"4,\N"]  # NULL_IF default
    with engine.begin() as conn:
        loaded = conn.execute(
            CopyInto(t3, s3stage / "csv/", file_format=CSV(compression="gzip"))
        ).all()
        assert [(r.status, r.rows_loaded) for r in loaded] == [("LOADED", 4)]
        assert rows_of(conn, "t3") == ROWS


def test_load_objects_written_by_others(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str
) -> None:
    s3 = s3_server.s3
    s3.put_object(Bucket=s3_bucket, Key="p/in/part1.parquet", Body=parquet_bytes(ROWS[:2]))
    s3.put_object(Bucket=s3_bucket, Key="p/in/part2.parquet", Body=parquet_bytes(ROWS[2:]))
    sink = io.BytesIO()
    pa_csv.write_csv(pa.table({"id": [5], "name": ["fig"]}), sink)
    s3.put_object(Bucket=s3_bucket, Key="p/in/ignored.csv", Body=sink.getvalue())
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t4 (id INTEGER, name VARCHAR)")
        loaded = conn.exec_driver_sql(
            rf"COPY INTO t4 FROM @{stage}/in/ PATTERN = '.*\.parquet' "
            "FILE_FORMAT = (TYPE = PARQUET)"
        ).all()
        assert sorted((r.file.rsplit("/", 1)[-1], r.rows_loaded) for r in loaded) == [
            ("part1.parquet", 2),
            ("part2.parquet", 2),
        ]
        assert rows_of(conn, "t4") == ROWS


def test_select_from_stage(engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/out/a.parquet", Body=parquet_bytes())
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT * FROM @{stage}/out/ (FILE_FORMAT => 'parquet') ORDER BY id"
        ).all()
        assert [tuple(r) for r in rows] == ROWS


def test_unload_to_url_with_statement_credentials(
    engine: Any, s3_server: MotoS3, s3_bucket: str, table_t: str
) -> None:
    with engine.begin() as conn:
        result = conn.exec_driver_sql(
            f"COPY INTO 's3://{s3_bucket}/direct/' FROM t {s3_server.credentials_sql()} "
            "FILE_FORMAT = (TYPE = PARQUET)"
        ).one()
        assert result.rows_unloaded == len(ROWS)
        t = sa.table("t", sa.column("id"), sa.column("name"))
        conn.execute(
            CopyInto(
                f"s3://{s3_bucket}/construct/",
                t,
                credentials=s3_server.credentials(),
                file_format=Parquet(),
            )
        )
    assert s3_server.keys(s3_bucket) == [
        "construct/data_0_0_0.snappy.parquet",
        "direct/data_0_0_0.snappy.parquet",
    ]
    data = s3_server.read(s3_bucket, "direct/data_0_0_0.snappy.parquet")
    assert read_parquet(data) == ROWS
    with engine.begin() as conn:  # and back, from the URL, with Databend's CONNECTION
        conn.exec_driver_sql("CREATE TABLE t5 (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql(
            f"COPY INTO t5 FROM 's3://{s3_bucket}/direct/' "
            f"{s3_server.credentials_sql('CONNECTION')} FILE_FORMAT = (TYPE = PARQUET)"
        )
        assert rows_of(conn, "t5") == ROWS


# Credentials really sign the requests; bad credentials and buckets fail clearly


def test_stage_credentials_sign_every_request(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("1,a\n")
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/a.csv @{stage}/in/")
        assert [r.name for r in conn.exec_driver_sql(f"LIST @{stage}")] == ["in/a.csv.gz"]
        conn.exec_driver_sql(f"GET @{stage}/in/ file://{tmp_path}/back/")
        conn.exec_driver_sql(f"REMOVE @{stage}")
    assert gzip.decompress((tmp_path / "back" / "a.csv.gz").read_bytes()) == b"1,a\n"
    assert s3_server.keys(s3_bucket) == []


def test_stage_credentials_sign_duckdb_reads(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str
) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/in/a.parquet", Body=parquet_bytes())
    with s3_server.authenticated(), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t6 (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql(f"COPY INTO t6 FROM @{stage}/in/ FILE_FORMAT = (TYPE = PARQUET)")
        assert rows_of(conn, "t6") == ROWS


BAD_STATEMENTS: dict[str, Callable[[str, Path], str]] = {
    "list": lambda s, tmp: f"LIST @{s}",
    "put": lambda s, tmp: f"PUT file://{tmp}/local.csv @{s}/in/",
    "get": lambda s, tmp: f"GET @{s}/in/ file://{tmp}/download/",
    "remove": lambda s, tmp: f"REMOVE @{s}/in/",
    "unload": lambda s, tmp: f"COPY INTO @{s}/out/ FROM t FILE_FORMAT = (TYPE = PARQUET)",
    "load": lambda s, tmp: f"COPY INTO t FROM @{s}/out/ FILE_FORMAT = (TYPE = PARQUET)",
    "select": lambda s, tmp: f"SELECT * FROM @{s}/out/ (FILE_FORMAT => 'parquet')",
}


@pytest.fixture
def local_csv(tmp_path: Path) -> Path:
    (tmp_path / "local.csv").write_text("1,a\n")
    return tmp_path


@pytest.mark.parametrize("statement", sorted(BAD_STATEMENTS))
def test_wrong_access_key_fails_naming_the_stage(
    engine: Any,
    s3_server: MotoS3,
    s3_bucket: str,
    table_t: str,
    local_csv: Path,
    statement: str,
) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/in/x.csv", Body=b"1,a\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE wrongkey URL = 's3://{s3_bucket}/p/' CREDENTIALS = ("
            f"AWS_KEY_ID = 'AKIANOTAKEY' AWS_SECRET_KEY = '{s3_server.secret}' "
            f"ENDPOINT_URL = '{s3_server.endpoint_url}')"
        )
    with (
        s3_server.authenticated(),
        engine.connect() as conn,
        pytest.raises(StageRuntimeError) as error,
    ):
        conn.exec_driver_sql(BAD_STATEMENTS[statement]("wrongkey", local_csv))
    assert_clear_error(error, s3_server, "@wrongkey", "access denied")
    assert s3_server.keys(s3_bucket) == ["p/in/x.csv"]


def test_wrong_secret_fails_naming_the_stage(
    engine: Any, s3_server: MotoS3, s3_bucket: str, local_csv: Path
) -> None:
    wrong = Stage(
        "wrongsecret",
        url=f"s3://{s3_bucket}/p/",
        credentials=s3_server.credentials(aws_secret_key="not-the-secret"),
    )
    with engine.begin() as conn:
        conn.execute(CreateStage(wrong))
    with s3_server.authenticated(), engine.connect() as conn:
        for statement in (ListFiles(wrong), Put(f"file://{local_csv}/local.csv", wrong / "in/")):
            with pytest.raises(StageRuntimeError) as error:
                conn.execute(statement)
            assert_clear_error(error, s3_server, "@wrongsecret", "signature")
    assert s3_server.keys(s3_bucket) == []


@pytest.mark.parametrize("statement", sorted([*BAD_STATEMENTS, "presign"]))
def test_unknown_bucket_fails_naming_the_stage(
    engine: Any, s3_server: MotoS3, table_t: str, local_csv: Path, statement: str
) -> None:
    missing = f"sqla-stage-missing-{uuid4().hex[:12]}"
    with engine.begin() as conn:
        create_stage(conn, s3_server, missing, name="nobucket")  # not checked until used
    make = BAD_STATEMENTS.get(statement, lambda s, tmp: f"PRESIGN @{s}/in/x.csv")
    with engine.connect() as conn, pytest.raises(StageRuntimeError) as error:
        conn.exec_driver_sql(make("nobucket", local_csv))
    assert_clear_error(error, s3_server, "@nobucket", f"the bucket {missing!r} does not exist")
    buckets = [b["Name"] for b in s3_server.s3.list_buckets()["Buckets"]]
    assert missing not in buckets  # s3fs would create it on a write


def test_unknown_bucket_of_a_url_location(engine: Any, s3_server: MotoS3, table_t: str) -> None:
    missing = f"sqla-stage-missing-{uuid4().hex[:12]}"
    with engine.begin() as conn, pytest.raises(StageRuntimeError) as error:
        conn.exec_driver_sql(
            f"COPY INTO 's3://{missing}/x/' FROM t {s3_server.credentials_sql()} "
            "FILE_FORMAT = (TYPE = PARQUET)"
        )
    assert_clear_error(error, s3_server, f"s3://{missing}/x/", "does not exist")


# The mount dispatcher: two S3 services in one database, several connections


@pytest.fixture(scope="module")
def s3_server_b() -> Iterator[MotoS3]:
    """A second, independent S3 service (its own process, buckets and keys)."""
    server = MotoS3.start_process()
    yield server
    server.stop()


@pytest.fixture
def both_services(
    s3_server: MotoS3, s3_bucket: str, s3_server_b: MotoS3
) -> Iterator[tuple[MotoS3, MotoS3, str]]:
    """The two services, each holding a bucket of the same name, checking signatures."""
    s3_server_b.s3.create_bucket(Bucket=s3_bucket)
    s3_server.s3.put_object(Bucket=s3_bucket, Key="only-on-a", Body=b"")
    assert s3_server_b.keys(s3_bucket) == []  # really two services
    with s3_server.authenticated(), s3_server_b.authenticated():
        yield s3_server, s3_server_b, s3_bucket


def test_mount_reads_two_endpoints_in_one_query(
    engine: Any, both_services: tuple[MotoS3, MotoS3, str]
) -> None:
    server_a, server_b, bucket = both_services
    server_a.s3.put_object(Bucket=bucket, Key="p/x.csv", Body=b"id,name\n1,from a\n")
    server_b.s3.put_object(Bucket=bucket, Key="p/x.csv", Body=b"id,name\n2,from b\n")
    a = open_storage(f"s3://{bucket}/p/", Credentials(server_a.credentials()), "@a")
    b = open_storage(f"s3://{bucket}/p/", Credentials(server_b.credentials()), "@b")
    assert a.duckdb_path("x.csv") != b.duckdb_path("x.csv")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT * FROM read_csv('{a.duckdb_path('x.csv')}') UNION ALL "
            f"SELECT * FROM read_csv('{b.duckdb_path('x.csv')}') ORDER BY id"
        ).all()
        assert [tuple(r) for r in rows] == [(1, "from a"), (2, "from b")]
        conn.exec_driver_sql(  # DuckDB writes a folder: mkdir, then ls of an empty prefix
            "COPY (SELECT 3 AS id, 'k' AS part) "
            f"TO '{b.duckdb_path('written')}' (FORMAT PARQUET, PARTITION_BY (part))"
        )
        conn.exec_driver_sql(f"COPY (SELECT 4 AS id) TO '{a.duckdb_path('one.parquet')}'")
    assert server_a.keys(bucket, "p/") == ["p/one.parquet", "p/x.csv"]
    assert server_b.keys(bucket, "p/") == ["p/written/part=k/data_0.parquet", "p/x.csv"]


def test_two_stages_on_two_endpoints(
    engine: Any, both_services: tuple[MotoS3, MotoS3, str], tmp_path: Path
) -> None:
    server_a, server_b, bucket = both_services
    (tmp_path / "a.parquet").write_bytes(parquet_bytes(ROWS[:2]))
    (tmp_path / "b.parquet").write_bytes(parquet_bytes(ROWS[2:]))
    (tmp_path / "same.parquet").write_bytes(parquet_bytes(ROWS[:1]))
    with engine.begin() as conn:
        create_stage(conn, server_a, bucket, name="sa")
        create_stage(conn, server_b, bucket, name="sb")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/a.parquet @sa/in/")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/b.parquet @sb/in/")
        assert [r.name for r in conn.exec_driver_sql("LIST @sa/in/")] == ["in/a.parquet"]
        assert [r.name for r in conn.exec_driver_sql("LIST @sb/in/")] == ["in/b.parquet"]
    assert server_a.keys(bucket, "p/") == ["p/in/a.parquet"]
    assert server_b.keys(bucket, "p/") == ["p/in/b.parquet"]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE both_ (id INTEGER, name VARCHAR)")
        for name in ("sa", "sb"):
            conn.exec_driver_sql(f"COPY INTO both_ FROM @{name}/in/ FILE_FORMAT = (TYPE = PARQUET)")
        assert rows_of(conn, "both_") == ROWS
        union = conn.exec_driver_sql(
            "SELECT * FROM @sa/in/ (FILE_FORMAT => 'parquet') UNION ALL "
            "SELECT * FROM @sb/in/ (FILE_FORMAT => 'parquet') ORDER BY id"
        ).all()
        assert [tuple(r) for r in union] == ROWS
        # One path, same bytes, two services: two files for the load history.
        conn.exec_driver_sql("CREATE TABLE same (id INTEGER, name VARCHAR)")
        for name in ("sa", "sb"):
            conn.exec_driver_sql(f"PUT file://{tmp_path}/same.parquet @{name}/same/")
            loaded = conn.exec_driver_sql(
                f"COPY INTO same FROM @{name}/same/ FILE_FORMAT = (TYPE = PARQUET)"
            ).all()
            assert [(r.file, r.status) for r in loaded] == [("same/same.parquet", "LOADED")]
        assert rows_of(conn, "same") == [ROWS[0], ROWS[0]]


def test_mount_works_on_a_second_pooled_connection(
    make_engine: Callable[..., Any], s3_server: MotoS3, s3_bucket: str
) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/out/a.parquet", Body=parquet_bytes())
    storage = open_storage(f"s3://{s3_bucket}/p/", Credentials(s3_server.credentials()), "@s")
    url = storage.duckdb_path("out/*.parquet")
    first, second = make_engine(), make_engine()  # two engines, one database file
    query = f"SELECT * FROM read_parquet('{url}') ORDER BY id"
    with first.connect() as c1, first.connect() as c2, second.connect() as c3:
        assert c1.connection.dbapi_connection is not c2.connection.dbapi_connection
        for conn in (c1, c2, c3):
            assert [tuple(r) for r in conn.exec_driver_sql(query)] == ROWS


def test_select_from_stage_on_a_second_pooled_connection(
    engine: Any, s3_server: MotoS3, s3_bucket: str, stage: str
) -> None:
    s3_server.s3.put_object(Bucket=s3_bucket, Key="p/out/a.parquet", Body=parquet_bytes())
    query = f"SELECT * FROM @{stage}/out/ (FILE_FORMAT => 'parquet') ORDER BY id"
    with engine.connect() as c1, engine.connect() as c2:
        assert c1.connection.dbapi_connection is not c2.connection.dbapi_connection
        assert [tuple(r) for r in c2.exec_driver_sql(query)] == ROWS
        assert [tuple(r) for r in c1.exec_driver_sql(query)] == ROWS
