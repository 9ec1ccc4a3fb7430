"""Crash-consistent publishing (issue 17): ``kill -9`` while an OVERWRITE unload publishes.

A child process unloads many small files (``MAX_FILE_SIZE``) with ``OVERWRITE = TRUE``
over an older set, and is killed with SIGKILL as soon as the test (polling the folder)
sees the first old file replaced, or a name the old set did not have, so the kill lands
between two renames (local) or two copies (moto S3). What the kill left is recorded,
then the next engine connects and runs ``LIST``: the location must hold exactly the
whole old set or the whole new set, byte for byte, with no scratch entry and no journal
left. Each test requires that at least one kill left a mix of old and new files behind
(the window was hit), so it fails if recovery does nothing or only cleans up.

``PUT`` / ``INTO OUTFILE`` move one finished scratch file: a child killed while writing
leaves no file under the published name, and its scratch file is removed. A committed
journal is rolled forward once its writer is gone, and left alone while it runs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from moto_server import MotoS3
from test_reliability import ENGINE_CODE, kill, listed, run_child, stage_folder, tree

from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX
from sqla_stage.runtime.unload.publish_journal import JOURNAL_PREFIX

#: Where the kills land (one child each): once the first old file was replaced (mid
#: replacing), and once a name the old set did not have appeared (mid adding).
KILLS = ("replaced", "added")
#: Rows of the old sets and what each round adds (files of MAX_FILE_SIZE bytes: ~80 rows).
LOCAL_ROWS, LOCAL_MORE, S3_ROWS, S3_MORE, FILE_SIZE = 20_000, 10_000, 1_000, 500, 1_000

UNLOAD = (
    "COPY INTO {where} FROM (SELECT i, '{tag}' AS tag FROM range({rows}) t(i)) "
    "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) MAX_FILE_SIZE = {size} OVERWRITE = TRUE"
)


def unload_sql(where: str, tag: str, rows: int) -> str:
    return UNLOAD.format(where=where, tag=tag, rows=rows, size=FILE_SIZE)


def start_unload(tmp_path: Path, sql: str) -> Any:
    """A child process that runs ``sql`` on the test's database and stage root."""
    code = (
        ENGINE_CODE.format(db=tmp_path / "app.duckdb", root=tmp_path / "stages")
        + f"""
    with engine.begin() as conn:
        conn.exec_driver_sql({sql!r})
    """
    )
    return run_child(code, tmp_path)


def kill_when(child: Any, ready: Callable[[], bool], interval: float = 0.0) -> None:
    """SIGKILL ``child`` as soon as ``ready()`` (polled every ``interval`` seconds)."""
    deadline = time.monotonic() + 120
    try:
        while not ready():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never published"
            time.sleep(interval)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        kill(child)


def classify(files: dict[str, bytes], old: dict[str, bytes], tag: bytes, rows: int) -> str:
    """``old``, ``new`` (every file of the new set, ``rows`` rows) or ``mixed``."""
    if files == old:
        return "old"
    whole = sum(data.count(b"\n") for data in files.values()) == rows
    return "new" if whole and all(tag in data for data in files.values()) else "mixed"


def replaced_or_added(
    names: Callable[[], dict[str, object]], old: dict[str, object], when: str
) -> Callable[[], bool]:
    """Whether the first old file was replaced, or a new name added (``when``)."""
    first = min(old)

    def ready() -> bool:
        now = names()
        if when == "replaced":
            return first in now and now[first] != old[first]
        return len(now) > len(old)

    return ready


# Local stages


def local_states(root: Path) -> set[str]:
    states = set()
    for path in root.glob(f"{JOURNAL_PREFIX}*.json"):
        try:
            states.add(json.loads(path.read_bytes())["state"])
        except (OSError, ValueError):
            continue
    return states


def published(folder: Path) -> dict[str, bytes]:
    """The files of ``folder`` under published names (scratch entries not included)."""
    return {
        name: data
        for name, data in tree(folder).items()
        if not any(part.startswith(SCRATCH_PREFIX) for part in Path(name).parts)
    }


def local_names(folder: Path) -> dict[str, object]:
    """The published files of ``folder/out`` and their inode numbers."""
    try:
        with os.scandir(folder / "out") as entries:
            return {
                f"out/{e.name}": e.inode() for e in entries if not e.name.startswith(SCRATCH_PREFIX)
            }
    except FileNotFoundError:
        return {}


def test_kill_during_local_overwrite_leaves_the_old_or_the_new_set(
    engine: Any, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(unload_sql("@s/out/", "round0", LOCAL_ROWS))
    engine.dispose()
    root = stage_folder(tmp_path)
    seen = []
    for number, when in enumerate(KILLS, start=1):
        old, tag, rows = tree(root), f"round{number}", LOCAL_ROWS + number * LOCAL_MORE
        names = local_names(root)
        child = start_unload(tmp_path, unload_sql("@s/out/", tag, rows))
        kill_when(child, replaced_or_added(lambda: local_names(root), names, when))
        seen.append(classify(published(root), old, tag.encode(), rows))
        assert any(name.startswith(JOURNAL_PREFIX) for name in tree(root))
        with engine.connect():  # the connect recovers the stage root
            assert not [name for name in tree(root) if SCRATCH_PREFIX in name]
        with engine.connect() as conn:
            listing = listed(conn, "@s")
            count = conn.exec_driver_sql("SELECT count(*) FROM '@s/out/'").scalar_one()
        after = tree(root)
        assert set(listing) == set(after)  # no scratch entry, no journal
        state = classify(after, old, tag.encode(), rows)
        assert state in ("old", "new"), f"after the kill {number}: {state}"
        assert count == (rows if state == "new" else sum(d.count(b"\n") for d in old.values()))
        engine.dispose()
    assert "mixed" in seen, f"no kill landed mid-publish: {seen}"


def test_a_statement_recovers_what_the_connect_did_not_see(
    make_engine: Any, tmp_path: Path
) -> None:
    """An external stage on a local folder: recovered by the next statement on it."""
    folder = tmp_path / "landing"
    engine = make_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE ext URL = '{folder.as_uri()}/'")
        conn.exec_driver_sql(unload_sql("@ext/out/", "round0", LOCAL_ROWS))
    engine.dispose()
    old = tree(folder)
    child = start_unload(tmp_path, unload_sql("@ext/out/", "round1", LOCAL_ROWS + LOCAL_MORE))
    kill_when(child, lambda: "publishing" in local_states(folder))
    left = tree(folder)
    assert any(name.startswith(JOURNAL_PREFIX) for name in left)
    with make_engine().begin() as conn:
        names = listed(conn, "@ext")
        rows = conn.exec_driver_sql("SELECT count(*) FROM '@ext/out/'").scalar_one()
    after = tree(folder)
    assert set(names) == set(after)
    assert classify(after, old, b"round1", LOCAL_ROWS + LOCAL_MORE) in ("old", "new")
    assert rows in (LOCAL_ROWS, LOCAL_ROWS + LOCAL_MORE)


# S3 (moto)


@pytest.fixture
def s3_stage(engine: Any, s3_server: MotoS3, s3_bucket: str) -> str:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE s3s URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}"
        )
    return "@s3s"


def s3_tree(server: MotoS3, bucket: str) -> dict[str, bytes]:
    return {key: server.read(bucket, key) for key in server.keys(bucket)}


def s3_names(server: MotoS3, bucket: str) -> dict[str, object]:
    """The published objects of ``p/out/`` (keys below the stage) and their ETags."""
    pages = server.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="p/out/")
    return {
        item["Key"][2:]: item["ETag"]
        for page in pages
        for item in page.get("Contents", ())
        if SCRATCH_PREFIX not in item["Key"]
    }


def test_kill_during_s3_overwrite_leaves_the_old_or_the_new_set(
    engine: Any, tmp_path: Path, s3_server: MotoS3, s3_bucket: str, s3_stage: str
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(unload_sql(f"{s3_stage}/out/", "round0", S3_ROWS))
    engine.dispose()
    seen = []
    for number, when in enumerate(KILLS, start=1):
        old, tag = s3_tree(s3_server, s3_bucket), f"round{number}"
        rows = S3_ROWS + number * S3_MORE
        names = s3_names(s3_server, s3_bucket)
        child = start_unload(tmp_path, unload_sql(f"{s3_stage}/out/", tag, rows))
        ready = replaced_or_added(lambda: s3_names(s3_server, s3_bucket), names, when)
        kill_when(child, ready, 0.02)
        left = s3_tree(s3_server, s3_bucket)
        assert any(JOURNAL_PREFIX in key for key in left)  # read by the next statement
        published = {k: v for k, v in left.items() if SCRATCH_PREFIX not in k}
        seen.append(classify(published, old, tag.encode(), rows))
        with engine.connect() as conn:  # an S3 stage is recovered by its next statement
            listing = listed(conn, s3_stage)
        after = s3_tree(s3_server, s3_bucket)
        assert {f"p/{name}" for name in listing} == set(after)  # no scratch object, no journal
        state = classify(after, old, tag.encode(), rows)
        assert state in ("old", "new"), f"after the kill {number}: {state}"
        engine.dispose()
    assert "mixed" in seen, f"no kill landed mid-publish: {seen}"


# Single-file writes

SINGLE_FILE = {
    "put": "PUT file://{big} @s/ AUTO_COMPRESS = FALSE",
    "outfile": "SELECT i, repeat('x', 100) AS p FROM range(1000000) t(i) "
    "INTO OUTFILE 'stage://s/out.csv'",
}


@pytest.mark.parametrize("kind", sorted(SINGLE_FILE))
def test_kill_during_a_single_file_write_publishes_nothing(
    engine: Any, tmp_path: Path, kind: str
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
    engine.dispose()
    big = tmp_path / "big.csv"
    big.write_bytes(os.urandom(1 << 20) * 100)
    root = stage_folder(tmp_path)
    child = start_unload(tmp_path, SINGLE_FILE[kind].format(big=big))

    def writing() -> bool:
        """Whether a scratch file (not a journal, which comes and goes) holds bytes."""
        for path in root.glob(f"{SCRATCH_PREFIX}*") if root.exists() else ():
            try:
                journal = path.name.startswith(JOURNAL_PREFIX)
                if not journal and path.is_file() and path.stat().st_size:
                    return True
            except FileNotFoundError:  # renamed or removed since the listing
                continue
        return False

    deadline = time.monotonic() + 60
    try:
        while not writing():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline
        time.sleep(random.uniform(0, 0.01))
    finally:
        kill(child)
    assert published(root) == {}  # nothing under a published name
    assert any(name.startswith(SCRATCH_PREFIX) for name in tree(root))
    with engine.connect() as conn:
        assert listed(conn, "@s") == []
    assert tree(root) == {}  # the scratch file and its journal were removed


# Roll forward, and a live writer's journal

COMMIT_THEN_WAIT = """
    import os, sys, time
    from sqla_stage.runtime.unload.publish_journal import WRITING, Journal
    from sqla_stage.runtime.storage.stage_storage import open_storage
    from sqla_stage.runtime.unload.files import WrittenFile, publish

    storage = open_storage({folder!r}, None, label="@ext")
    entry = Journal(storage)
    scratch = storage.path(".sqla_stage-new")
    entry.scratch.append(entry.relative(scratch))
    entry.write(WRITING)
    os.makedirs(scratch)
    files = []
    for number in range({count}):
        path = os.path.join(scratch, str(number))
        with open(path, "wb") as file:
            file.write(b"new %d\\n" % number)
        files.append(WrittenFile(path, key=f"out/data_{{number}}.csv", size=6))
    publish(storage, files, True, "@ext", entry=entry)  # committed, not yet cleaned up
    print(entry.state, flush=True)
    time.sleep(120)  # alive: its journal is left alone; then killed
"""


def test_a_committed_journal_is_rolled_forward_once_its_writer_is_gone(
    make_engine: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "landing"
    (folder / "out").mkdir(parents=True)
    for number in range(3):
        (folder / "out" / f"data_{number}.csv").write_bytes(b"old %d\n" % number)
    engine = make_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE ext URL = '{folder.as_uri()}/'")
    child = run_child(COMMIT_THEN_WAIT.format(folder=str(folder), count=5), tmp_path)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed", child.stderr
        new = {f"out/data_{n}.csv": b"new %d\n" % n for n in range(5)}
        with engine.begin() as conn:
            assert listed(conn, "@ext") == sorted(new)
        left = tree(folder)  # the live writer's journal and backups are untouched
        assert any(name.startswith(JOURNAL_PREFIX) for name in left)
        assert any(name.startswith(f"{SCRATCH_PREFIX}new/") for name in left)
    finally:
        kill(child)
    with engine.begin() as conn:
        assert listed(conn, "@ext") == sorted(new)
    assert tree(folder) == new  # rolled forward: the new set, nothing else
