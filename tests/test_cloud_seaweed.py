"""Issue 18's statements on two S3 servers: moto and SeaweedFS (a real object store).

Every test of the first part runs on both servers (``server``: moto in a thread, SeaweedFS
in a child process, both session-scoped on 127.0.0.1), each in its own bucket, and checks
the objects with boto3, as another client of the bucket would see them. Then the
cross-cloud failure rules: a stopped server mid-statement, an endpoint that never answers
(the engine's ``stage_connect_timeout`` / ``stage_read_timeout`` / ``stage_attempts``),
and no stage or engine getting another's connection settings through a cached
filesystem instance.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from fault_proxy import CuttingProxy, SilentEndpoint
from moto_server import MotoS3
from seaweed_server import SeaweedS3, environment_of

from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX

ROWS = [(1, "apple"), (2, "pear"), (3, None)]


@pytest.fixture(params=["moto", "seaweed"])
def server(request: pytest.FixtureRequest, s3_server: MotoS3, seaweed_server: SeaweedS3) -> Any:
    """Each S3 server of the session in turn."""
    return s3_server if request.param == "moto" else seaweed_server


@pytest.fixture
def bucket(server: MotoS3) -> str:
    return server.new_bucket()


@pytest.fixture
def stage(engine: sa.Engine, server: MotoS3, bucket: str) -> str:
    """An external stage ``ext`` on ``s3://<bucket>/p/`` and a table ``t`` of :data:`ROWS`."""
    run(engine, f"CREATE STAGE ext URL = 's3://{bucket}/p/' {server.credentials_sql()}")
    run(engine, "CREATE TABLE t (id INTEGER, name VARCHAR)")
    run(engine, "INSERT INTO t VALUES (1, 'apple'), (2, 'pear'), (3, NULL)")
    return "ext"


def run(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.begin() as conn:
        result = conn.exec_driver_sql(sql)
        return [tuple(row) for row in result] if result.returns_rows else []


def objects(server: MotoS3, bucket: str, prefix: str = "") -> list[str]:
    """The bucket's keys (without the runtime's hidden scratch objects)."""
    return [key for key in server.keys(bucket, prefix) if SCRATCH_PREFIX not in key]


# The statements, on both servers


def test_put_list_pattern_get_remove(
    engine: sa.Engine, server: MotoS3, bucket: str, stage: str, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("1,apple\n")
    (tmp_path / "b.csv").write_text("2,pear\n")
    put = run(engine, f"PUT file://{tmp_path}/*.csv @{stage}/in/ AUTO_COMPRESS = FALSE")
    assert sorted(row[1] for row in put) == ["a.csv", "b.csv"]
    assert objects(server, bucket) == ["p/in/a.csv", "p/in/b.csv"]
    assert run(engine, f"PUT file://{tmp_path}/a.csv @{stage}/in/ AUTO_COMPRESS = FALSE")[0][6] == (
        "SKIPPED"
    )
    listed = run(engine, f"LIST @{stage} PATTERN = '.*b[.]csv'")
    assert [(row[0], row[1]) for row in listed] == [("in/b.csv", 7)]
    assert listed[0][2] == server.s3.head_object(Bucket=bucket, Key="p/in/b.csv")["ETag"].strip('"')
    run(engine, f"GET @{stage}/in/ file://{tmp_path}/got/")
    assert (tmp_path / "got" / "a.csv").read_text() == "1,apple\n"
    assert [row[0] for row in run(engine, f"REMOVE @{stage} PATTERN = '.*a[.]csv'")] == ["in/a.csv"]
    assert objects(server, bucket) == ["p/in/b.csv"]


def test_unload_every_format_query_and_load(
    engine: sa.Engine, server: MotoS3, bucket: str, stage: str
) -> None:
    for kind, source in (("CSV", "t"), ("JSON", "(SELECT t FROM t)"), ("PARQUET", "t")):
        (unloaded,) = run(
            engine, f"COPY INTO @{stage}/{kind}/ FROM {source} FILE_FORMAT = (TYPE = {kind})"
        )
        assert unloaded[0] == len(ROWS)
    keys = objects(server, bucket)
    assert keys == [
        "p/CSV/data_0_0_0.csv.gz",
        "p/JSON/data_0_0_0.json.gz",
        "p/PARQUET/data_0_0_0.snappy.parquet",
    ]
    csv_text = gzip.decompress(server.read(bucket, keys[0])).decode()
    assert sorted(csv_text.splitlines()) == ["1,apple", "2,pear", r"3,\N"]
    json_lines = gzip.decompress(server.read(bucket, keys[1])).decode().splitlines()
    assert sorted(json.loads(line)["id"] for line in json_lines) == [1, 2, 3]
    table = pq.read_table(io.BytesIO(server.read(bucket, keys[2])))
    assert sorted(zip(*table.to_pydict().values(), strict=True)) == ROWS
    staged = run(engine, f"SELECT * FROM @{stage}/PARQUET/ (FILE_FORMAT => 'parquet')")
    assert sorted(staged) == ROWS
    run(engine, "CREATE TABLE back (id INTEGER, name VARCHAR)")
    loaded = run(engine, f"COPY INTO back FROM @{stage}/CSV/ FILE_FORMAT = (TYPE = CSV)")
    assert [(row[1], row[3]) for row in loaded] == [("LOADED", 3)]
    assert sorted(run(engine, "SELECT * FROM back"), key=lambda r: r[0]) == ROWS


def test_overwrite_rules(engine: sa.Engine, server: MotoS3, bucket: str, stage: str) -> None:
    run(engine, f"COPY INTO @{stage}/o/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)")
    first = server.read(bucket, "p/o/data_0_0_0.csv")
    with pytest.raises(StageRuntimeError, match="already existing"):
        run(
            engine,
            f"COPY INTO @{stage}/o/ FROM (SELECT 9, 'x') "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)",
        )
    assert objects(server, bucket) == ["p/o/data_0_0_0.csv"]
    assert server.read(bucket, "p/o/data_0_0_0.csv") == first
    run(
        engine,
        f"COPY INTO @{stage}/o/ FROM (SELECT 9, 'x') "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) OVERWRITE = TRUE",
    )
    assert objects(server, bucket) == ["p/o/data_0_0_0.csv"]
    assert server.read(bucket, "p/o/data_0_0_0.csv") == b"9,x\n"


def test_hostile_keys_stay_below_the_stage(
    engine: sa.Engine, server: MotoS3, bucket: str, stage: str, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("1,apple\n")
    run(engine, f"PUT file://{tmp_path}/a.csv @{stage}/./../ AUTO_COMPRESS = FALSE")
    assert objects(server, bucket) == ["p/%./%../a.csv"]
    assert [row[0] for row in run(engine, f"LIST @{stage}")] == ["./../a.csv"]
    run(engine, f"GET @{stage}/./../a.csv file://{tmp_path}/got/")
    assert (tmp_path / "got" / "a.csv").read_text() == "1,apple\n"
    run(engine, f"REMOVE @{stage}/./../")
    assert objects(server, bucket) == []


def test_presign_download_and_upload(
    engine: sa.Engine, server: MotoS3, bucket: str, stage: str
) -> None:
    server.s3.put_object(Bucket=bucket, Key="p/in/x.csv", Body=b"signed bytes\n")
    (method, _, url) = run(engine, f"PRESIGN @{stage}/in/x.csv EXPIRE = 60")[0]
    assert method == "GET" and server.secret not in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"signed bytes\n"
    (method, _, url) = run(engine, f"PRESIGN UPLOAD @{stage}/up/y.csv")[0]
    request = urllib.request.Request(url, b"uploaded\n", method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert (method, response.status) == ("PUT", 200)
    assert server.read(bucket, "p/up/y.csv") == b"uploaded\n"


def test_internal_stage_on_an_s3_stage_root(
    make_engine: Callable[..., sa.Engine],
    server: MotoS3,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name, value in environment_of(server).items():
        monkeypatch.setenv(name, value)
    engine = make_engine(stage_root=f"s3://{bucket}/app")
    (tmp_path / "r.csv").write_text("1,apple\n2,pear\n")
    run(engine, "CREATE STAGE inner_stage")
    run(engine, f"PUT file://{tmp_path}/r.csv @inner_stage/in/")
    run(engine, "CREATE TABLE t (id INTEGER, name VARCHAR)")
    loaded = run(engine, "COPY INTO t FROM @inner_stage/in/ FILE_FORMAT = (TYPE = CSV)")
    assert [(row[1], row[3]) for row in loaded] == [("LOADED", 2)]
    run(engine, "COPY INTO @~/out/ FROM t FILE_FORMAT = (TYPE = PARQUET)")
    assert objects(server, bucket) == [
        "app/stage/internal/inner_stage/in/r.csv.gz",
        "app/stage/user/alice/out/data_0_0_0.snappy.parquet",
    ]
    assert [row[0] for row in run(engine, "LIST @inner_stage")] == ["in/r.csv.gz"]


@pytest.mark.parametrize(
    "statement",
    [
        "LIST @nobucket",
        "PUT file://{tmp}/a.csv @nobucket/in/",
        "COPY INTO @nobucket/out/ FROM (SELECT 1)",
        "COPY INTO t FROM @nobucket/in/",
        "SELECT $1 FROM @nobucket/in/",
        "PRESIGN @nobucket/in/a.csv",
    ],
)
def test_missing_bucket_fails_naming_the_stage(
    engine: sa.Engine, server: MotoS3, statement: str, tmp_path: Path
) -> None:
    missing = f"sqla-stage-missing-{uuid4().hex[:12]}"
    (tmp_path / "a.csv").write_text("1\n")
    run(engine, f"CREATE STAGE nobucket URL = 's3://{missing}/p/' {server.credentials_sql()}")
    run(engine, "CREATE TABLE t (i INTEGER)")
    with pytest.raises(StageRuntimeError) as error:
        run(engine, statement.format(tmp=tmp_path))
    message = str(error.value)
    assert "@nobucket" in message and f"the bucket {missing!r} does not exist" in message
    assert server.secret not in message
    assert missing not in [b["Name"] for b in server.s3.list_buckets()["Buckets"]]


# A server lost mid-statement, an endpoint that never answers


@pytest.fixture
def proxy(server: MotoS3) -> Iterator[CuttingProxy]:
    host, port = server.endpoint_url.removeprefix("http://").split(":")
    cutting = CuttingProxy((host, int(port)))
    yield cutting
    cutting.close()


def test_server_stopped_mid_unload_publishes_nothing(
    make_engine: Callable[..., sa.Engine], server: MotoS3, bucket: str, proxy: CuttingProxy
) -> None:
    engine = make_engine(stage_attempts=1)
    credentials = server.credentials_sql().replace(server.endpoint_url, proxy.url)
    run(engine, f"CREATE STAGE cut URL = 's3://{bucket}/p/' {credentials}")
    proxy.cut_after = proxy.requests + 6  # the bucket check, then a few uploads
    started = time.monotonic()
    with pytest.raises(StageRuntimeError) as error:
        run(
            engine,
            "COPY INTO @cut/out/ FROM (SELECT i, repeat('x', 50) FROM range(40000) t(i)) "
            "MAX_FILE_SIZE = 100000",
        )
    elapsed = time.monotonic() - started
    assert "@cut" in str(error.value) and server.secret not in str(error.value)
    assert proxy.cut.is_set() and elapsed < 20, elapsed
    assert objects(server, bucket) == []  # only hidden scratch objects, nothing published


@pytest.mark.parametrize("attempts", [1, 2])
def test_silent_endpoint_fails_within_the_engines_limits(
    make_engine: Callable[..., sa.Engine],
    s3_server: MotoS3,
    silent_endpoint: SilentEndpoint,
    attempts: int,
) -> None:
    engine = make_engine(stage_read_timeout=0.5, stage_attempts=attempts)
    credentials = s3_server.credentials_sql().replace(s3_server.endpoint_url, silent_endpoint.url)
    run(engine, f"CREATE STAGE mute URL = 's3://bucket/p/' {credentials}")
    started = time.monotonic()
    with pytest.raises(StageRuntimeError, match=r"@mute.*ReadTimeoutError"):
        run(engine, "LIST @mute")
    elapsed = time.monotonic() - started
    assert len(silent_endpoint.held) == attempts  # one connection a try, none more
    assert 0.5 * attempts <= elapsed < 2 + 1.5 * attempts, elapsed  # waits, pauses, the client


@pytest.mark.parametrize(
    "setting", ["stage_read_timeout=0", "stage_attempts=0", "stage_connect_timeout=soon"]
)
def test_bad_limits_are_refused_when_the_engine_is_made(setting: str, tmp_path: Path) -> None:
    name, _, value = setting.partition("=")
    with pytest.raises(sa.exc.ArgumentError, match=name):
        sa.create_engine(f"duckdb:///{tmp_path}/x.duckdb?plugin=sqla_stage&{name}={value}")


# No connection settings shared through a cached filesystem


def test_stage_root_follows_the_environment(
    make_engine: Callable[..., sa.Engine],
    s3_server: MotoS3,
    seaweed_server: SeaweedS3,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The same ``s3://`` stage root, the environment pointing at moto then SeaweedFS."""
    name = f"sqla-stage-both-{uuid4().hex[:12]}"
    (tmp_path / "a.csv").write_text("1\n")
    for server in (seaweed_server, s3_server):
        server.s3.create_bucket(Bucket=name)
        for variable, value in environment_of(server).items():
            monkeypatch.setenv(variable, value)
        engine = make_engine(stage_root=f"s3://{name}/app", database=f"{uuid4().hex}.duckdb")
        assert run(engine, "LIST @~") == []
        run(engine, f"PUT file://{tmp_path}/a.csv @~/{type(server).__name__}/")
    assert objects(seaweed_server, name) == ["app/stage/user/alice/SeaweedS3/a.csv.gz"]
    assert objects(s3_server, name) == ["app/stage/user/alice/MotoS3/a.csv.gz"]


def test_stages_keep_their_own_credentials(engine: sa.Engine, seaweed_server: SeaweedS3) -> None:
    bucket = seaweed_server.new_bucket()
    seaweed_server.s3.put_object(Bucket=bucket, Key="p/a.csv", Body=b"1\n")
    other = seaweed_server.other_credentials()
    good, wrong = (
        seaweed_server.credentials_sql(),
        (
            f"CREDENTIALS = (AWS_KEY_ID = '{other['aws_key_id']}' AWS_SECRET_KEY = 'not-it' "
            f"ENDPOINT_URL = '{seaweed_server.endpoint_url}')"
        ),
    )
    second = good.replace(seaweed_server.key, other["aws_key_id"]).replace(
        seaweed_server.secret, other["aws_secret_key"]
    )
    for name, clause in (("good", good), ("wrong", wrong), ("second", second)):
        run(engine, f"CREATE STAGE {name} URL = 's3://{bucket}/p/' {clause}")
    assert [row[0] for row in run(engine, "LIST @good")] == ["a.csv"]
    with pytest.raises(StageRuntimeError, match=r"@wrong.*access denied"):
        run(engine, "LIST @wrong")
    assert [row[0] for row in run(engine, "LIST @second")] == ["a.csv"]
