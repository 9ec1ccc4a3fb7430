"""Issue 19: the FORCE = FALSE check is one semi-join in DuckDB, with the old semantics.

A file is skipped when a history entry of its URL, for the same table, has its size
and, where both have one, its ETag / MD5 (S3), else its modification time. These tests
pin each branch on real files: a local stage (no checksum: sizes and times) and a moto
S3 stage (ETags), and check that other tables' and other files' history rows, many of
them, change nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from stage_files import run

from sqla_stage.runtime.catalog.tables import LOADED_FILES_SQL
from sqla_stage.runtime.engine.literals import inline

LOAD = "COPY INTO t FROM @s FILE_FORMAT = (TYPE = CSV)"
NOTHING = [("Copy executed with 0 files processed.",)]


def loaded(engine: sa.Engine, sql: str = LOAD) -> list[str]:
    """The files one load loaded, by key."""
    return sorted(row[0] for row in run(engine, sql) if row != NOTHING[0])


def test_local_files_are_told_apart_by_size_and_time(engine: sa.Engine, tmp_path: Path) -> None:
    run(engine, "CREATE STAGE s")
    run(engine, "CREATE TABLE t (v VARCHAR)")
    run(engine, "CREATE TABLE other (v VARCHAR)")
    folder = tmp_path / "stages" / "stage" / "internal" / "s"
    folder.mkdir(parents=True)
    for name in ("a", "b", "c"):
        (folder / f"{name}.csv").write_text(f"{name}1\n")
    assert loaded(engine) == ["a.csv", "b.csv", "c.csv"]
    assert run(engine, LOAD) == NOTHING
    # Another table's history of the same files, and many rows of other files: no effect.
    run(engine, "COPY INTO other FROM @s FILE_FORMAT = (TYPE = CSV)")
    run(
        engine,
        "INSERT INTO sqla_stage.load_history SELECT 'main.t', 'file:///elsewhere/' || i, "
        "6, NULL, now(), 1, now() FROM range(20000) AS r(i)",
    )
    assert run(engine, LOAD) == NOTHING
    # Same size, another modification time: loaded again; a new size: loaded again.
    stat = (folder / "a.csv").stat()
    os.utime(folder / "a.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    (folder / "b.csv").write_text("b22\n")
    assert loaded(engine) == ["a.csv", "b.csv"]
    assert run(engine, LOAD) == NOTHING
    assert sorted(row[0] for row in run(engine, "SELECT v FROM t")) == [
        "a1",
        "a1",
        "b1",
        "b22",
        "c1",
    ]


def test_s3_files_are_told_apart_by_etag(engine: sa.Engine, s3_server: Any, s3_bucket: str) -> None:
    run(engine, f"CREATE STAGE s URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}")
    run(engine, "CREATE TABLE t (v VARCHAR)")
    s3 = s3_server.s3
    for name in ("a", "b"):
        s3.put_object(Bucket=s3_bucket, Key=f"p/{name}.csv", Body=f"{name}1\n".encode())
    assert loaded(engine) == ["a.csv", "b.csv"]
    # The same bytes written again (a new LastModified, the same ETag): still loaded.
    s3.put_object(Bucket=s3_bucket, Key="p/a.csv", Body=b"a1\n")
    # Other bytes of the same size (a new ETag): loaded again.
    s3.put_object(Bucket=s3_bucket, Key="p/b.csv", Body=b"b2\n")
    assert loaded(engine) == ["b.csv"]
    assert run(engine, LOAD) == NOTHING


def test_the_check_is_a_hash_join(engine: sa.Engine) -> None:
    """DuckDB hashes the files on (url, size): no nested-loop join over the history."""
    run(engine, "CREATE STAGE s")  # makes the registry tables
    sql = inline(
        LOADED_FILES_SQL.format(tables="sqla_stage"),
        [["file:///a.csv", "file:///b.csv"], [1, 2], [None, "x"], [0, 1], "main.t"],
    )
    (plan,) = [row[1] for row in run(engine, f"EXPLAIN {sql}")]
    assert "HASH_JOIN" in plan and "NL_JOIN" not in plan, plan
