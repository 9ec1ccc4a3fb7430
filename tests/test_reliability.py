"""Nothing half-written, nothing lost: the runtime under failures, kills and concurrency.

Each test tries to break one promise of issue 5 (an unload that fails leaves no file, an
OVERWRITE that fails keeps the old files, concurrent unloads never clobber each other, a
load and its history commit together, S3 faults fail clearly and change nothing). The
module-level constants say how many cases or threads each one tries (for the table in
``docs/security.md``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from moto_server import MotoS3

from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX
from sqla_stage.runtime.unload import files as unload_files
from sqla_stage.runtime.unload.publish_journal import JOURNAL_PREFIX

#: Queries that fail after DuckDB has produced (and written) some of their rows.
FAILING_QUERIES = {
    "error_late": "SELECT CASE WHEN i > 50000 THEN error('boom') ELSE i END AS i "
    "FROM range(100000) t(i)",
    "cast_late": "SELECT CAST(CASE WHEN i > 90000 THEN 'x' ELSE CAST(i AS VARCHAR) END "
    "AS INTEGER) AS i, repeat('y', 50) AS pad FROM range(100000) t(i)",
    "overflow_late": "SELECT CAST(CASE WHEN i > 99000 THEN i * 1000000 ELSE i END AS INTEGER) "
    "AS i FROM range(100000) t(i)",
}
#: Formats each failing query is unloaded as.
FAILING_FORMATS = {
    "csv_gzip": "TYPE = CSV",
    "parquet": "TYPE = PARQUET",
    "ndjson": "TYPE = JSON COMPRESSION = NONE",
}
#: The files an OVERWRITE test replaces (several files of MAX_FILE_SIZE = 20000).
OVERWRITTEN = "SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range(3000) t(i)"
#: Threads (and rounds each) of the concurrent-unload tests; engines on one database file.
THREADS = 8
ROUNDS = 3
ENGINES = 3
#: Threads mixing LIST, unloads and loads on their own connections.
MIXED_THREADS = 6
MIXED_ROUNDS = 5
#: Files of the loads that fail or are interrupted (one of them bad where it says so).
LOAD_FILES = 5
#: S3 faults x directions tried against moto.
S3_FAULTS = ("wrong_key", "unknown_bucket", "server_stopped")
S3_DIRECTIONS = ("unload", "load")

ROOT = Path(__file__).resolve().parents[1]


# Helpers


def stage_folder(tmp_path: Path, name: str = "s") -> Path:
    return tmp_path / "stages" / "stage" / "internal" / name


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (scratch entries included) and its bytes."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def listed(conn: sa.Connection, location: str) -> list[str]:
    return sorted(row.name for row in conn.exec_driver_sql(f"LIST {location}"))


def history_rows(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM sqla_stage.load_history").scalar_one())


def run_child(code: str, tmp_path: Path) -> subprocess.Popen[str]:
    """Run ``code`` in a child Python with the package importable; stdout is a pipe."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def run_failing(engine: Any, statements: list[str]) -> None:
    """Run each statement in its own transaction; each must fail with DBAPIError."""
    for sql in statements:
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.exec_driver_sql(sql)


ENGINE_CODE = """
    import sqlalchemy as sa
    engine = sa.create_engine(
        "duckdb:///{db}", plugins=["sqla_stage"], stage_root="{root}", stage_user="alice"
    )
"""


# Unloads that fail


@pytest.fixture
def internal_stage(engine: Any, tmp_path: Path) -> Path:
    """Stage ``@s`` holding one unrelated file; its folder."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
    folder = stage_folder(tmp_path)
    (folder / "keep").mkdir(parents=True)
    (folder / "keep" / "old.csv").write_text("1\n")
    return folder


@pytest.mark.parametrize("fmt", sorted(FAILING_FORMATS))
@pytest.mark.parametrize("query", sorted(FAILING_QUERIES))
def test_failed_unload_leaves_no_file(
    engine: Any, internal_stage: Path, query: str, fmt: str
) -> None:
    before = tree(internal_stage)
    statements = [
        f"COPY INTO {path} FROM ({FAILING_QUERIES[query]}) "
        f"FILE_FORMAT = ({FAILING_FORMATS[fmt]}) "
        + ("SINGLE = TRUE" if path.endswith(".csv") else "MAX_FILE_SIZE = 20000")
        for path in ("@s/out/", "@s/keep/", "@s/single.csv")
    ]
    run_failing(engine, statements)
    assert tree(internal_stage) == before  # no partial file, no scratch folder
    assert not (internal_stage / "out").exists()  # no folder it created either
    with engine.connect() as conn:
        assert listed(conn, "@s") == ["keep/old.csv"]


def test_failed_unload_to_s3_leaves_no_object(
    engine: Any, s3_server: MotoS3, s3_bucket: str, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE s3s URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}"
        )
    statements = [
        f"COPY INTO @s3s/out/ FROM ({query}) MAX_FILE_SIZE = 20000"
        for query in FAILING_QUERIES.values()
    ]
    run_failing(engine, statements)
    assert s3_server.keys(s3_bucket) == []


def test_unwritable_destination_fails_clearly(engine: Any, internal_stage: Path) -> None:
    (internal_stage / "blocker").write_text("a file where a folder is needed")
    before = tree(internal_stage)
    locations = ["@s/blocker/", "@s/blocker/sub/data_", "@s/blocker/x.csv"]
    if os.geteuid() != 0:  # root writes through a read-only folder
        (internal_stage / "ro").mkdir()
        (internal_stage / "ro").chmod(0o555)
        locations.append("@s/ro/")
    try:
        for location in locations:
            single = "SINGLE = TRUE" if location.endswith(".csv") else ""
            with engine.begin() as conn, pytest.raises(StageRuntimeError) as error:
                conn.exec_driver_sql(f"COPY INTO {location} FROM (SELECT 1 AS a) {single}")
            assert "@s" in str(error.value)
            assert tree(internal_stage) == before
    finally:
        if (internal_stage / "ro").exists():
            (internal_stage / "ro").chmod(0o755)


def test_publish_failure_midway_removes_what_it_published(
    engine: Any, internal_stage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace = os.replace
    calls = []

    def failing_replace(source: Any, target: Any) -> None:
        if SCRATCH_PREFIX not in os.path.basename(target):  # a data file, not the journal
            calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        replace(source, target)

    before = tree(internal_stage)
    monkeypatch.setattr(unload_files.os, "replace", failing_replace)
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="No space left"):
        conn.exec_driver_sql(
            "COPY INTO @s/out/ FROM (SELECT i, repeat('x', 40) AS p FROM range(50000) t(i)) "
            "MAX_FILE_SIZE = 20000 FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
        )
    monkeypatch.undo()
    assert len(calls) == 3
    assert tree(internal_stage) == before


# OVERWRITE


def test_failed_overwrite_keeps_the_old_files(
    engine: Any, internal_stage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"COPY INTO @s/out/ FROM ({OVERWRITTEN}) MAX_FILE_SIZE = 20000")
    before = tree(internal_stage)
    assert len([name for name in before if name.startswith("out/")]) >= 2
    statements = [  # the query fails: nothing is replaced
        f"COPY INTO @s/out/ FROM ({query}) MAX_FILE_SIZE = 20000 OVERWRITE = TRUE"
        for query in FAILING_QUERIES.values()
    ]
    run_failing(engine, statements)
    assert tree(internal_stage) == before
    replace, calls = os.replace, []

    def failing_replace(source: Any, target: Any) -> None:  # the disk fills up mid-way
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(unload_files.os, "replace", failing_replace)
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="No space left"):
        conn.exec_driver_sql(
            "COPY INTO @s/out/ FROM (SELECT i + 7 AS i, md5(CAST(i AS VARCHAR)) AS h FROM "
            "range(3000) t(i)) MAX_FILE_SIZE = 20000 OVERWRITE = TRUE"
        )
    monkeypatch.undo()
    assert tree(internal_stage) == before  # the replaced file is back
    with engine.begin() as conn:  # a successful overwrite replaces them
        conn.exec_driver_sql(
            "COPY INTO @s/out/ FROM (SELECT 1 AS i) OVERWRITE = TRUE SINGLE = TRUE"
        )
    assert tree(internal_stage) != before


def test_failed_overwrite_on_s3_keeps_the_old_objects(
    engine: Any, s3_server: MotoS3, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3fs

    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE s3s URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}"
        )
        conn.exec_driver_sql(f"COPY INTO @s3s/out/ FROM ({OVERWRITTEN}) MAX_FILE_SIZE = 20000")
    before = {key: s3_server.read(s3_bucket, key) for key in s3_server.keys(s3_bucket)}
    assert len(before) >= 2
    call, calls = s3fs.S3FileSystem._call_s3, []

    async def failing_call(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "copy_object":
            calls.append(kwargs.get("Key"))
            if len(calls) == 4:  # backup, new, backup, new: the second new file fails
                raise OSError("SlowDown: the service refused")
        return await call(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", failing_call)
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="@s3s"):
        conn.exec_driver_sql(
            "COPY INTO @s3s/out/ FROM (SELECT i + 7 AS i, md5(CAST(i AS VARCHAR)) AS h FROM "
            "range(3000) t(i)) MAX_FILE_SIZE = 20000 OVERWRITE = TRUE"
        )
    assert len(calls) >= 4
    monkeypatch.undo()
    after = {key: s3_server.read(s3_bucket, key) for key in s3_server.keys(s3_bucket)}
    assert after == before  # old objects back, no scratch object left


# A full disk

#: Bytes any file of the child may grow to (RLIMIT_FSIZE): the unload needs far more.
FILE_SIZE_LIMIT = 2_000_000


@pytest.mark.parametrize(
    ("fmt", "path"),
    [
        ("TYPE = CSV COMPRESSION = NONE", "@s/big/"),
        # SINGLE with an explicit GZIP: the name carries .gz (spec 004)
        ("TYPE = CSV COMPRESSION = GZIP", "@s/big/all.csv.gz"),
        ("TYPE = PARQUET", "@s/big/"),
    ],
)
def test_full_disk_unload_leaves_no_file(engine: Any, tmp_path: Path, fmt: str, path: str) -> None:
    """RLIMIT_FSIZE makes the OS refuse writes past a size, as a full disk refuses them."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("COPY INTO @s/keep/ FROM (SELECT 1 AS v)")
    engine.dispose()
    before = tree(stage_folder(tmp_path))
    child = run_child(
        ENGINE_CODE.format(db=tmp_path / "app.duckdb", root=tmp_path / "stages")
        + f"""
    import resource, signal
    with engine.connect() as conn:
        conn.exec_driver_sql("LIST @s").all()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, ({FILE_SIZE_LIMIT}, {FILE_SIZE_LIMIT}))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "COPY INTO {path} FROM (SELECT i, md5(CAST(i AS VARCHAR)) AS h "
                "FROM range(1000000) t(i)) FILE_FORMAT = ({fmt}) SINGLE = TRUE "
                "MAX_FILE_SIZE = 1000000000"
            )
        print("no error")
    except sa.exc.SQLAlchemyError as error:
        print(type(error).__name__, str(error).splitlines()[0])
    """,
        tmp_path,
    )
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert out.startswith(
        f"StageOperationalError COPY INTO {path}: the files could not be written: "
    ), out
    assert "File too large" in out and "(nothing was published)" in out, out
    assert SCRATCH_PREFIX not in out
    assert tree(stage_folder(tmp_path)) == before  # nothing published, no scratch left


# A killed unload


def test_killed_unload_leaves_no_file(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
    engine.dispose()
    db, root = tmp_path / "app.duckdb", tmp_path / "stages"
    child = run_child(
        ENGINE_CODE.format(db=db, root=root)
        + """
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO @s/big/ FROM (SELECT i, repeat('x', 200) AS p FROM range(200000000) t(i))"
        )
    """,
        tmp_path,
    )
    folder = stage_folder(tmp_path) / "big"
    try:
        deadline = time.monotonic() + 60
        while not any(p.is_file() and p.stat().st_size for p in folder.rglob("*")):
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        kill(child)
    scratch = [p for p in folder.iterdir() if p.name.startswith(SCRATCH_PREFIX)]
    assert scratch  # what the killed unload left: invisible, and never a published name
    journals = [p for p in folder.parent.iterdir() if p.name.startswith(JOURNAL_PREFIX)]
    assert len(journals) == 1  # its journal, at the stage's root, names the scratch folder
    with engine.begin() as conn:
        assert listed(conn, "@s") == []
    assert not any(p.exists() for p in [*scratch, *journals])  # recovered by LIST at once
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (i BIGINT, p VARCHAR)")
        assert conn.exec_driver_sql("COPY INTO t FROM @s/big/").all() == [
            ("Copy executed with 0 files processed.",)
        ]
    # A scratch folder no journal names (an older version's) is swept once stale.
    orphan = folder / f"{SCRATCH_PREFIX}orphan"
    orphan.mkdir()
    (orphan / "data_0_0_0.csv").write_bytes(b"1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO @s/big/ FROM (SELECT 1 AS i) INCLUDE_QUERY_ID = TRUE")
    assert orphan.exists()  # too recent to be swept
    old = time.time() - unload_files.STALE_SCRATCH_SECONDS - 60
    for path in [orphan, *orphan.rglob("*")]:
        os.utime(path, (old, old))
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO @s/big/ FROM (SELECT 2 AS i) INCLUDE_QUERY_ID = TRUE")
        assert len(listed(conn, "@s")) == 2
    assert not [p for p in folder.iterdir() if p.name.startswith(SCRATCH_PREFIX)]


# Concurrency


def _unload_rounds(engine: Any, index: int) -> int:
    rows = 0
    for number in range(ROUNDS):
        n = 1000 * (index + 1) + number
        with engine.begin() as conn:
            result = conn.exec_driver_sql(
                f"COPY INTO @s/same/ FROM (SELECT i FROM range({n}) t(i)) "
                "INCLUDE_QUERY_ID = TRUE MAX_FILE_SIZE = 2000"
            ).one()
        rows += result.rows_unloaded
    return rows


@pytest.mark.parametrize("spread", ["threads", "engines"])
def test_concurrent_unloads_never_clobber(
    make_engine: Callable[..., Any], spread: str, tmp_path: Path
) -> None:
    engines = [make_engine() for _ in range(ENGINES if spread == "engines" else 1)]
    with engines[0].begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(_unload_rounds, engines[i % len(engines)], i) for i in range(THREADS)
        ]
        unloaded = sum(future.result() for future in futures)
    expected = sum(1000 * (i + 1) + r for i in range(THREADS) for r in range(ROUNDS))
    assert unloaded == expected
    with engines[-1].connect() as conn:
        files = listed(conn, "@s/same/")
        queries = {name.split("/")[-1][len("data_") :][:36] for name in files}
        assert len(queries) == THREADS * ROUNDS
        total = conn.exec_driver_sql("SELECT count(*) FROM @s/same/").scalar_one()
    assert total == expected
    assert not [p for p in stage_folder(tmp_path).rglob(f"{SCRATCH_PREFIX}*")]


def test_concurrent_list_unload_and_load(make_engine: Callable[..., Any]) -> None:
    engine = make_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE TABLE t (i BIGINT)")
    errors: list[BaseException] = []
    barrier = threading.Barrier(MIXED_THREADS)

    def work(index: int) -> None:
        try:
            barrier.wait()
            for number in range(MIXED_ROUNDS):
                if index % 3 == 2:
                    load()
                    continue
                with engine.begin() as conn:
                    if index % 3 == 0:
                        listed(conn, "@s")
                        conn.exec_driver_sql("LIST @s/t2/").all()
                    else:
                        conn.exec_driver_sql(
                            f"COPY INTO @s/t{index}/r{number}/ FROM (SELECT i FROM range(100) t(i))"
                        )
        except BaseException as error:  # reported below
            errors.append(error)

    def load() -> None:
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("COPY INTO t FROM @s/t1/").all()
        except (StageRuntimeError, sa.exc.DBAPIError) as error:  # the other loader won
            assert "another transaction" in str(error) or "PRIMARY KEY" in str(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(MIXED_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.begin() as conn:
        unloaders = len(range(1, MIXED_THREADS, 3))
        assert len(listed(conn, "@s")) == unloaders * MIXED_ROUNDS
        conn.exec_driver_sql("COPY INTO t FROM @s/t1/").all()
        loaded = conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one()
    assert loaded == 100 * MIXED_ROUNDS  # each file of @s/t1/ loaded exactly once


def test_concurrent_loads_of_the_same_files_load_each_once(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine = make_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE TABLE t (i BIGINT)")
        for number in range(LOAD_FILES):
            conn.exec_driver_sql(f"COPY INTO @s/in/f{number}_ FROM (SELECT {number} AS i)")
    barrier = threading.Barrier(THREADS)

    def load() -> str:
        barrier.wait()
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("COPY INTO t FROM @s/in/").all()
        except (sa.exc.DBAPIError, StageRuntimeError) as error:  # the loser rolls back
            assert "another transaction" in str(error) or "PRIMARY KEY" in str(error)
            return type(error).__name__
        return "ok"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(lambda _: load(), range(THREADS)))
    assert "ok" in outcomes
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == LOAD_FILES
        assert history_rows(conn) == LOAD_FILES


# A load and its history commit together


@pytest.fixture
def load_stage(engine: Any) -> Iterator[Any]:
    """``@s/in/`` holding :data:`LOAD_FILES` CSV files of 100 rows; table ``t``."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE TABLE t (i INTEGER)")
        for number in range(LOAD_FILES):
            conn.exec_driver_sql(
                f"COPY INTO @s/in/f{number}_ FROM (SELECT {number} * 100 + i AS i "
                "FROM range(100) t(i))"
            )
    yield engine


def assert_loaded_once(engine: Any) -> None:
    with engine.begin() as conn:
        result = conn.exec_driver_sql("COPY INTO t FROM @s/in/").all()
        assert len(result) == LOAD_FILES
        assert conn.exec_driver_sql("COPY INTO t FROM @s/in/").all() == [
            ("Copy executed with 0 files processed.",)
        ]
        assert conn.exec_driver_sql("SELECT count(DISTINCT i), count(*) FROM t").one() == (
            100 * LOAD_FILES,
            100 * LOAD_FILES,
        )
        assert history_rows(conn) == LOAD_FILES


def test_failed_load_leaves_neither_rows_nor_history(load_stage: Any, tmp_path: Path) -> None:
    bad = stage_folder(tmp_path) / "in" / "f2_bad.csv"
    bad.write_text("1\nnot a number\n")
    for on_error in ("", "ON_ERROR = ABORT_STATEMENT"):
        with load_stage.begin() as conn, pytest.raises(StageRuntimeError, match="f2_bad"):
            conn.exec_driver_sql(f"COPY INTO t FROM @s/in/ {on_error}")
        with load_stage.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
            assert history_rows(conn) == 0
    bad.unlink()
    assert_loaded_once(load_stage)


def test_caller_exception_after_load_rolls_back_rows_and_history(load_stage: Any) -> None:
    for purge in ("", "PURGE = FALSE"):
        with pytest.raises(RuntimeError, match="caller"), load_stage.begin() as conn:
            assert len(conn.exec_driver_sql(f"COPY INTO t FROM @s/in/ {purge}").all()) == 5
            raise RuntimeError("the caller fails after the COPY")
        with load_stage.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
            assert history_rows(conn) == 0
    assert_loaded_once(load_stage)


def test_killed_load_leaves_neither_rows_nor_history(load_stage: Any, tmp_path: Path) -> None:
    load_stage.dispose()
    child = run_child(
        ENGINE_CODE.format(db=tmp_path / "app.duckdb", root=tmp_path / "stages")
        + """
    import time
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @s/in/").all()
        print("loaded", flush=True)
        time.sleep(120)
    """,
        tmp_path,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "loaded", child.stderr.read() if child.stderr else ""
    finally:
        kill(child)
    with load_stage.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
        assert history_rows(conn) == 0
    assert_loaded_once(load_stage)


# S3 faults against moto


@pytest.fixture
def stoppable_s3(s3_server: MotoS3) -> Iterator[MotoS3]:
    """A second moto server in this process: same buckets as ``s3_server``, can be stopped.

    Moto keeps its state per process, so after stopping it the session's server still
    shows what it holds.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    stopped = threading.Event()

    def stop() -> None:
        if not stopped.is_set():
            stopped.set()
            server.stop()

    yield MotoS3(f"http://{host}:{port}", stop, s3_server.key, s3_server.secret)
    stop()


def stop_after(monkeypatch: pytest.MonkeyPatch, server: MotoS3, method: str, count: int) -> None:
    """Stop ``server`` once s3fs has made ``count`` requests of ``method``."""
    import s3fs

    original, calls = s3fs.S3FileSystem._call_s3, [0]

    async def call_s3(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == method:
            calls[0] += 1
            if calls[0] > count:
                server.stop()
        return await original(self, name, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", call_s3)
    monkeypatch.setattr(s3fs.S3FileSystem, "retries", 1)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries only make it slow


def test_s3_stopped_mid_unload_publishes_nothing(
    engine: Any,
    s3_server: MotoS3,
    s3_bucket: str,
    stoppable_s3: MotoS3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE s3s URL = 's3://{s3_bucket}/p/' {stoppable_s3.credentials_sql()}"
        )
    stop_after(monkeypatch, stoppable_s3, "put_object", 1)
    with engine.begin() as conn, pytest.raises(StageRuntimeError) as error:
        conn.exec_driver_sql(
            "COPY INTO @s3s/out/ FROM (SELECT i FROM range(30000) t(i)) MAX_FILE_SIZE = 20000"
        )
    assert "@s3s" in str(error.value)
    keys = s3_server.keys(s3_bucket)  # the stopped server's objects, through the other one
    assert not [key for key in keys if SCRATCH_PREFIX not in key]  # only hidden scratch


def _s3_setup(conn: sa.Connection, server: MotoS3, bucket: str, fault: str) -> None:
    """Create the stage ``s3s`` (inside the caller's transaction) for ``fault``."""
    key = "AKIANOTAKEY" if fault == "wrong_key" else server.key
    conn.exec_driver_sql(
        f"CREATE STAGE s3s URL = 's3://{bucket}/p/' CREDENTIALS = (AWS_KEY_ID = '{key}' "
        f"AWS_SECRET_KEY = '{server.secret}' ENDPOINT_URL = '{server.endpoint_url}')"
    )


@pytest.fixture(scope="module")
def process_s3() -> Iterator[Callable[[], MotoS3]]:
    """Start moto child processes on demand; stop those still running at the end."""
    started: list[MotoS3] = []

    def start() -> MotoS3:
        started.append(MotoS3.start_process())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.mark.parametrize("direction", S3_DIRECTIONS)
@pytest.mark.parametrize("fault", S3_FAULTS)
def test_s3_fault_registers_nothing(
    engine: Any,
    s3_server: MotoS3,
    process_s3: Callable[[], MotoS3],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    direction: str,
) -> None:
    server = process_s3() if fault == "server_stopped" else s3_server
    bucket = server.new_bucket()
    for number in range(LOAD_FILES):
        server.s3.put_object(Bucket=bucket, Key=f"p/in/f{number}.csv", Body=b"1\n2\n")
    if fault == "unknown_bucket":
        bucket += "-missing"
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (i INTEGER)")
    if fault == "server_stopped":  # stopped while the statement copies
        stop_after(monkeypatch, server, "get_object" if direction == "load" else "put_object", 1)
    statement = (
        "COPY INTO t FROM @s3s/in/"
        if direction == "load"
        else "COPY INTO @s3s/out/ FROM (SELECT i FROM range(30000) t(i)) MAX_FILE_SIZE = 20000"
    )
    with (
        server.authenticated() if fault == "wrong_key" else contextlib.nullcontext(),
        pytest.raises(sa.exc.SQLAlchemyError) as error,
        engine.begin() as conn,
    ):
        _s3_setup(conn, server, bucket, fault)
        conn.exec_driver_sql(statement).all()
    assert "@s3s" in str(error.value), str(error.value)
    monkeypatch.undo()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW STAGES").all() == []
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
        assert history_rows(conn) == 0
    if fault != "server_stopped":
        keys = server.keys(bucket) if fault == "wrong_key" else []
        assert keys == [f"p/in/f{number}.csv" for number in range(LOAD_FILES)] or not keys
