"""No raw Python or SDK exception leaves a stage statement or a construct (issue 17).

Each attack of the red-team pass, run for real: a NUL in a local path or a stage URL, a
folder name taken by a file on a ``memory://`` stage, odd Python values for construct
arguments, a file size limit hit while PUT and GET write (``RLIMIT_FSIZE`` in a child
process: the kernel's own ``EFBIG``, errno 27), and an S3 server lost in the middle of
PUT, GET, REMOVE and a load (moto behind a proxy on 127.0.0.1 that stops forwarding
after half the statement's requests). Every failure is a ``sqlalchemy.exc`` error that
names the statement and the stage, and nothing is published under a file's name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fault_proxy import CuttingProxy
from moto_server import MotoS3

from sqla_stage import CopyInto, Get, Put, SelectIntoOutfile, Stage
from sqla_stage.errors import (
    StageArgumentError,
    StageOperationalError,
    StageProgrammingError,
    StageRuntimeError,
)
from sqla_stage.runtime.engine.intercept import statement_label
from sqla_stage.runtime.storage.errors import storage_failures

ROOT = Path(__file__).resolve().parents[1]


# NUL characters


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("PUT 'file://{d}/x\0.csv' @s", "Put: the local path cannot hold a NUL character"),
        ("GET @s 'file://{d}/g\0/'", "Get: the local path cannot hold a NUL character"),
        ("CREATE STAGE n URL = '{d}/ext\0/'", "url cannot hold a NUL character"),
        ("CREATE STAGE n URL = 'file://{d}/e\0'", "url cannot hold a NUL character"),
        ("COPY INTO '{d}/u\0/' FROM (SELECT 1)", "a URL cannot hold a NUL character"),
        ("COPY INTO t FROM '{d}/u\0/'", "a URL cannot hold a NUL character"),
        ("SELECT 1 INTO OUTFILE '{d}/o\0.csv'", "the file cannot hold a NUL character"),
        ("PUT 'file://{d}/x.csv' @s/a\0b/", "@s: a stage path cannot hold control characters"),
    ],
)
def test_nul_in_paths_and_urls(engine: Any, tmp_path: Path, sql: str, message: str) -> None:
    (tmp_path / "x.csv").write_text("1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE TABLE t (a INT)")
        conn.exec_driver_sql(f"PUT 'file://{tmp_path}/x.csv' @s/in/")
    with pytest.raises(StageProgrammingError, match=message), engine.begin() as conn:
        conn.exec_driver_sql(sql.replace("{d}", str(tmp_path)))
    with engine.connect() as conn:
        assert [row[0] for row in conn.exec_driver_sql("LIST @s")] == ["in/x.csv.gz"]
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    assert set(os.listdir(tmp_path)) <= {"app.duckdb", "app.duckdb.wal", "stages", "x.csv"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: Put("/tmp/a\0b", Stage("s")),
        lambda: Get(Stage("s"), "/tmp/a\0b/"),
        lambda: Stage("s", url="s3://bucket/a\0b/"),
        lambda: CopyInto(sa.table("t"), "s3://bucket/a\0b/"),
        lambda: CopyInto("file:///tmp/a\0b/", sa.table("t")),
        lambda: SelectIntoOutfile(sa.select(sa.literal(1)), "/tmp/a\0b.csv"),
    ],
)
def test_constructs_refuse_nul(build: Callable[[], Any]) -> None:
    with pytest.raises(StageArgumentError, match="cannot hold a NUL character"):
        build()


# Odd Python values


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Stage("s", copy_options=1.5), "copy_options: options must be a mapping"),
        (lambda: Stage("s", copy_options=0), "copy_options: options must be a mapping"),
        (lambda: Stage("s", copy_options={1: 2}), "an option's name must be a string, not 1"),
        (lambda: Stage("s", copy_options=["purge"]), "options must be a mapping"),
        (lambda: CopyInto(sa.table("t"), Stage("s"), columns=0), "columns must be a sequence"),
        (lambda: CopyInto(sa.table("t"), Stage("s"), columns=b"ab"), "columns must be a seq"),
        (lambda: CopyInto(sa.table("t"), Stage("s"), columns=1.5), "columns must be a seq"),
    ],
)
def test_constructs_refuse_odd_values(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(StageArgumentError, match=message) as caught:
        build()
    assert isinstance(caught.value, sa.exc.ArgumentError)


# memory:// stages


def test_memory_stage_folder_taken_by_a_file(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "u").write_text("1\n")
    (tmp_path / "x.csv").write_text("2\n")
    bucket = f"memory://sqla-raw-{os.getpid()}-{id(tmp_path)}/"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE m URL = '{bucket}'")
        conn.exec_driver_sql(f"PUT 'file://{tmp_path}/u' @m AUTO_COMPRESS = FALSE")
    for sql in (
        f"PUT 'file://{tmp_path}/x.csv' @m/u/",
        f"PUT 'file://{tmp_path}/x.csv' @m/u/deeper/",
    ):
        with pytest.raises(StageOperationalError) as caught, engine.begin() as conn:
            conn.exec_driver_sql(sql)
        assert str(caught.value).startswith("PUT @m/u/"), caught.value
        assert "a file and a folder of the same name clash (" in str(caught.value)
    with engine.connect() as conn:
        assert [row[0] for row in conn.exec_driver_sql("LIST @m")] == ["u"]


# A full disk: RLIMIT_FSIZE in a child process (EFBIG, errno 27)

_CHILD = """
import os, resource, signal, sys
import sqlalchemy as sa
from sqla_stage.errors import StageOperationalError

root = sys.argv[1]
engine = sa.create_engine(f"duckdb:///{root}/app.duckdb", plugins=["sqla_stage"],
                          stage_root=f"{root}/stages", stage_user="alice", stage_progress=False)
with engine.begin() as conn:
    conn.exec_driver_sql("CREATE STAGE s")
    conn.exec_driver_sql(f"PUT 'file://{root}/small.bin' @s AUTO_COMPRESS = FALSE")
    conn.exec_driver_sql(f"PUT 'file://{root}/big.bin' @s/staged/ AUTO_COMPRESS = FALSE")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
limit = 256 * 1024
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
for sql in (f"PUT 'file://{root}/big.bin' @s AUTO_COMPRESS = FALSE",
            f"GET @s/staged/ 'file://{root}/got/'"):
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
        print("NO ERROR", sql)
    except StageOperationalError as error:
        print("ERROR", error)
    except BaseException as error:
        print("RAW", type(error).__name__, error)
with engine.connect() as conn:
    print("LISTED", sorted(row[0] for row in conn.exec_driver_sql("LIST @s")))
"""


def test_file_size_limit_during_put_and_get(tmp_path: Path) -> None:
    (tmp_path / "small.bin").write_bytes(b"x" * 10)
    (tmp_path / "big.bin").write_bytes(os.urandom(1024 * 1024))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == "ERROR PUT @s: File too large (EFBIG)", result.stdout
    assert lines[1] == "ERROR GET @s/staged/: File too large (EFBIG)", result.stdout
    assert lines[2] == "LISTED ['small.bin', 'staged/big.bin']", result.stdout
    got = tmp_path / "got"
    assert not got.exists() or [p.name for p in got.rglob("*") if p.is_file()] == []


# An S3 server lost mid-statement


@pytest.fixture
def s3(s3_server: MotoS3, s3_bucket: str) -> Iterator[tuple[MotoS3, str, list[CuttingProxy]]]:
    proxies: list[CuttingProxy] = []
    yield s3_server, s3_bucket, proxies
    for proxy in proxies:
        proxy.close()


def _stage_behind(conn: sa.Connection, server: MotoS3, bucket: str, proxy: CuttingProxy) -> None:
    conn.exec_driver_sql(
        f"CREATE OR REPLACE STAGE s URL = 's3://{bucket}/p/' CREDENTIALS = ("
        f"AWS_KEY_ID = '{server.key}' AWS_SECRET_KEY = '{server.secret}' "
        f"ENDPOINT_URL = '{proxy.url}')"
    )


def _cut_halfway(
    engine: Any,
    s3: tuple[MotoS3, str, list[CuttingProxy]],
    sql: str,
    prepare: Callable[[], None],
) -> StageRuntimeError:
    """Run ``sql`` once to count its requests, then again losing S3 halfway through."""
    server, bucket, proxies = s3
    upstream = ("127.0.0.1", int(server.endpoint_url.rsplit(":", 1)[1]))
    counted: int | None = None
    for _ in range(2):
        prepare()
        proxy = CuttingProxy(upstream)
        proxies.append(proxy)
        with engine.begin() as conn:
            _stage_behind(conn, server, bucket, proxy)
        proxy.requests = 0
        if counted is None:
            with engine.begin() as conn:
                conn.exec_driver_sql(sql).fetchall()
            counted = proxy.requests
            continue
        proxy.cut_after = counted // 2
        with pytest.raises(StageRuntimeError) as caught, engine.begin() as conn:
            conn.exec_driver_sql(sql).fetchall()
        assert proxy.cut.is_set()
    assert counted is not None and counted >= 4, counted
    return caught.value


def _files(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    for i in range(count):
        (folder / f"f{i:03d}.csv").write_text(f"{i}\n")
    return folder


def _upload(s3: tuple[MotoS3, str, list[CuttingProxy]], folder: Path) -> None:
    server, bucket, _ = s3
    client = server.s3
    for path in sorted(folder.iterdir()):
        client.put_object(Bucket=bucket, Key=f"p/{path.name}", Body=path.read_bytes())


def _clear(s3: tuple[MotoS3, str, list[CuttingProxy]]) -> None:
    server, bucket, _ = s3
    for key in server.keys(bucket):
        server.s3.delete_object(Bucket=bucket, Key=key)


@pytest.mark.timeout(240)
def test_s3_lost_during_put(engine: Any, tmp_path: Path, s3: Any) -> None:
    folder = _files(tmp_path, 8)
    sql = f"PUT 'file://{folder}/*.csv' @s AUTO_COMPRESS = FALSE"
    error = _cut_halfway(engine, s3, sql, lambda: _clear(s3))
    assert isinstance(error, StageOperationalError)
    assert str(error).startswith("PUT @s: EndpointConnectionError"), error
    assert s3[0].secret not in str(error)
    assert all(".sqla_stage-" not in key for key in s3[0].keys(s3[1]))


@pytest.mark.timeout(240)
def test_s3_lost_during_get(engine: Any, tmp_path: Path, s3: Any) -> None:
    _upload(s3, _files(tmp_path, 8))
    got = tmp_path / "got"

    def prepare() -> None:
        for path in got.glob("*") if got.exists() else ():
            path.unlink()

    error = _cut_halfway(engine, s3, f"GET @s 'file://{got}/'", prepare)
    assert isinstance(error, StageOperationalError)
    assert str(error).startswith("GET @s: EndpointConnectionError"), error
    assert all(not path.name.startswith(".sqla_stage-") for path in got.iterdir())


@pytest.mark.timeout(240)
def test_s3_lost_during_remove(engine: Any, tmp_path: Path, s3: Any) -> None:
    folder = _files(tmp_path, 8)
    error = _cut_halfway(engine, s3, "REMOVE @s", lambda: _upload(s3, folder))
    assert isinstance(error, StageOperationalError)
    assert str(error).startswith("REMOVE @s: "), error
    assert "EndpointConnectionError" in str(error) or "Could not connect" in str(error)


@pytest.mark.timeout(240)
def test_s3_lost_during_a_load_of_fifty_files(engine: Any, tmp_path: Path, s3: Any) -> None:
    """The stalled load: no re-reading of every file against the dead endpoint."""
    _upload(s3, _files(tmp_path, 50))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a INT)")
    for on_error in ("ABORT_STATEMENT", "CONTINUE"):
        error = _cut_halfway(
            engine,
            s3,
            f"COPY INTO t FROM @s FORCE = TRUE ON_ERROR = {on_error}",
            lambda: None,
        )
        assert isinstance(error, StageOperationalError)
        message = str(error)
        assert message.startswith("COPY INTO main.t from @s: the storage stopped answering"), (
            message
        )
        assert message.endswith("(nothing was loaded)")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 100  # the counts


def test_statement_labels_name_the_stage_and_hide_a_url_password() -> None:
    assert statement_label(CopyInto(sa.table("t"), Stage("s") / "p/")) == "COPY INTO t FROM @s/p/"
    assert statement_label(CopyInto(Stage.user() / "o/", sa.table("t"))) == "COPY INTO @~/o/"
    url = CopyInto("https://user:hunter2@host/x/", sa.table("t"))
    assert statement_label(url) == "COPY INTO https://***@host/x/"
    assert statement_label(Put("/tmp/x", Stage("s") / "in/")) == "PUT @s/in/"


# Which ValueErrors are storage failures


def _package_bug() -> None:
    raise ValueError("a bug in the caller's own code")


def test_a_value_error_of_the_callers_code_is_not_a_storage_failure() -> None:
    """Only a filesystem's ValueError becomes a StageOperationalError: a bug shows as itself."""
    with pytest.raises(ValueError, match="own code"), storage_failures("LIST @s"):
        _package_bug()
    nul = pytest.raises(StageOperationalError, match=r"LIST @s: a path cannot hold a NUL")
    with nul, storage_failures("LIST @s"):
        os.stat("a\0b")
