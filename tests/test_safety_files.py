"""Issue 17's smaller attacks: writes onto a folder, Hive folders, LIST racing REMOVE,
the MD5 cache's size, and secrets in the DEBUG logs of the libraries the runtime drives.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stage_files import run, snapshot

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine import log_redaction
from sqla_stage.runtime.storage import checksums
from sqla_stage.runtime.storage.stage_storage import open_storage

#: LIST / REMOVE rounds of the race test, and files removed in each.
RACE_ROUNDS = 30
RACE_FILES = 60
#: Files listed past the bound in the MD5 cache test.
MD5_FILES = 40


@pytest.fixture
def stage(engine: sa.Engine, tmp_path: Path) -> Path:
    """The internal stage ``s``: folders ``a.csv/`` and ``a.csv.gz/`` holding ``in.txt``."""
    run(engine, "CREATE STAGE s")
    folder = tmp_path / "stages" / "stage" / "internal" / "s"
    for name in ("a.csv", "a.csv.gz"):
        (folder / name).mkdir(parents=True)
        (folder / name / "in.txt").write_text("kept\n")
    (tmp_path / "a.csv").write_text("x,1\n")
    (tmp_path / "b.csv").write_text("y,2\n")
    return folder


# Writes onto a folder name


@pytest.mark.parametrize(
    "sql",
    [
        "PUT file://{tmp}/a.csv @s AUTO_COMPRESS = FALSE",
        "PUT file://{tmp}/a.csv @s AUTO_COMPRESS = FALSE OVERWRITE = TRUE",
        "PUT file://{tmp}/?.csv @s AUTO_COMPRESS = FALSE",  # b.csv would come first
        "PUT file://{tmp}/a.csv @s",  # gzipped: a.csv.gz
    ],
)
def test_put_onto_a_folder_is_refused(
    engine: sa.Engine, stage: Path, tmp_path: Path, sql: str
) -> None:
    before = snapshot(stage)
    with pytest.raises(StageProgrammingError, match="is an existing folder") as caught:
        run(engine, sql.format(tmp=tmp_path))
    assert "@s" in str(caught.value) and "nothing was written" in str(caught.value)
    assert snapshot(stage) == before  # no scratch file, no b.csv


def test_get_onto_a_folder_is_refused(engine: sa.Engine, stage: Path, tmp_path: Path) -> None:
    run(engine, f"PUT file://{tmp_path}/b.csv @s/g/ AUTO_COMPRESS = FALSE")
    run(engine, f"PUT file://{tmp_path}/a.csv @s/g/ AUTO_COMPRESS = FALSE")
    got = tmp_path / "got"
    (got / "b.csv").mkdir(parents=True)
    (got / "b.csv" / "mine.txt").write_text("mine\n")
    before = snapshot(got)
    with pytest.raises(StageProgrammingError, match=r"'b\.csv' is an existing folder"):
        run(engine, f"GET @s/g/ file://{got}/")
    assert snapshot(got) == before  # a.csv not downloaded either


@pytest.mark.parametrize("target", ["'stage://s/a.csv'", "'{tmp}/folder'"])
def test_into_outfile_onto_a_folder_is_refused(
    make_engine: Callable[..., sa.Engine], stage: Path, tmp_path: Path, target: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "in.txt").write_text("kept\n")
    engine = make_engine(stage_dialect="matrixone")
    before, outside = snapshot(stage), snapshot(tmp_path / "folder")
    with pytest.raises(StageProgrammingError, match="is a folder"):
        run(engine, f"SELECT 1 AS n INTO OUTFILE {target.format(tmp=tmp_path)}")
    assert snapshot(stage) == before and snapshot(tmp_path / "folder") == outside


# Hive-style folders


@pytest.mark.parametrize("kind", ["CSV", "PARQUET", "JSON"])
def test_hive_style_folders_add_no_column(engine: sa.Engine, kind: str) -> None:
    run(engine, "CREATE STAGE h")
    run(engine, "CREATE TABLE src AS SELECT 1 AS a, 'x' AS b")
    # a JSON unload is of one object column (spec 004)
    source = "(SELECT {'a': a, 'b': b} AS r FROM src)" if kind == "JSON" else "src"
    for part in ("k=1", "k=2"):
        run(engine, f"COPY INTO @h/p/{part}/ FROM {source} FILE_FORMAT = (TYPE = {kind})")
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM @h/p/ (FILE_FORMAT => '{kind.lower()}')")
        rows = [tuple(row) for row in result]
        columns = list(result.keys())
    assert "k" not in columns and [(str(a), b) for a, b in rows] == [("1", "x"), ("1", "x")]


def test_hive_style_folders_load_as_they_are(engine: sa.Engine) -> None:
    run(engine, "CREATE STAGE h")
    run(engine, "CREATE TABLE src AS SELECT 1 AS a, 'x' AS b")
    for part in ("k=1", "k=2"):
        run(engine, f"COPY INTO @h/p/{part}/ FROM src FILE_FORMAT = (TYPE = CSV)")
    run(engine, "CREATE TABLE dst (a INTEGER, b VARCHAR)")
    run(engine, "COPY INTO dst FROM @h/p/ FILE_FORMAT = (TYPE = CSV)")
    assert run(engine, "SELECT * FROM dst") == [(1, "x"), (1, "x")]
    assert run(engine, "SELECT * FROM @h/p/k=1/") == [("1", "x")]  # CSV fields are text


# LIST while another connection removes


def test_a_file_removed_during_a_listing_is_skipped(tmp_path: Path) -> None:
    """The listing reads a folder, then each file: files gone meanwhile are skipped."""
    folder = tmp_path / "race"
    folder.mkdir()
    for number in range(5):
        (folder / f"f{number}.csv").write_text(f"{number}\n")
    storage = open_storage(str(folder), None, label="@race")
    walk = storage._walk("")
    first = next(walk)[0].name  # the folder has been read
    for path in folder.iterdir():
        if path.name != first:
            path.unlink()
    assert list(walk) == []


def test_list_while_another_connection_removes(make_engine: Callable[..., sa.Engine]) -> None:
    lister, remover = make_engine(), make_engine()
    run(lister, "CREATE STAGE race")
    folder = Path(str(lister.url.database)).parent / "stages" / "stage" / "internal" / "race"
    errors: list[BaseException] = []
    for round_number in range(RACE_ROUNDS):
        names = {f"d/f{round_number}_{n}.csv" for n in range(RACE_FILES)}
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("x" * 4096)
        done = threading.Event()

        def remove(done: threading.Event = done) -> None:
            try:
                run(remover, "REMOVE @race/d/")
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                done.set()

        thread = threading.Thread(target=remove)
        thread.start()
        while not done.is_set():
            listed = {row[0] for row in run(lister, "LIST @race")}
            assert listed <= names
        thread.join()
        assert not errors
        assert run(lister, "LIST @race") == []


# The MD5 cache


def test_md5_cache_is_bounded(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checksums, "MD5_CACHE_SIZE", 10)
    run(engine, "CREATE STAGE sums")
    folder = tmp_path / "stages" / "stage" / "internal" / "sums"
    folder.mkdir(parents=True)
    expected = {}
    for number in range(MD5_FILES):
        data = f"file {number}\n".encode()
        (folder / f"f{number:02}.txt").write_bytes(data)
        expected[f"f{number:02}.txt"] = hashlib.md5(data).hexdigest()
    for _ in range(2):
        listed = {row[0]: row[2] for row in run(engine, "LIST @sums")}
        assert listed == expected
        assert checksums.cached_count() <= 10


def test_md5_cache_keeps_the_most_recent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checksums, "MD5_CACHE_SIZE", 3)
    paths = []
    for number in range(4):
        path = tmp_path / f"{number}.txt"
        path.write_text(str(number))
        paths.append(path)
    for path in paths:
        checksums.local_md5(str(path), path.stat())
    checksums.local_md5(str(paths[1]), paths[1].stat())  # used again: kept
    checksums.local_md5(str(paths[0]), paths[0].stat())  # evicts the oldest, 2
    keys = {key[0] for key in checksums._CACHE}
    assert {str(paths[0]), str(paths[1]), str(paths[3])} <= keys
    assert str(paths[2]) not in keys


# Secrets in the libraries' DEBUG logs

SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-5f1c"


def test_library_debug_logs_hide_the_secrets(
    engine: sa.Engine,
    s3_server: Any,
    s3_bucket: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = (
        f"CREDENTIALS = (AWS_KEY_ID = '{s3_server.key}' AWS_SECRET_KEY = '{s3_server.secret}' "
        f"AWS_TOKEN = '{SESSION_TOKEN}' ENDPOINT_URL = '{s3_server.endpoint_url}')"
    )
    (tmp_path / "a.csv").write_text("x,1\n")
    run(engine, f"CREATE STAGE logged URL = 's3://{s3_bucket}/p/' {credentials}")
    run(engine, f"PUT file://{tmp_path}/a.csv @logged")
    assert [row[0] for row in run(engine, "LIST @logged")] == ["a.csv.gz"]
    assert run(engine, "SELECT count(*) FROM @logged") == [(1,)]
    run(engine, f"GET @logged file://{tmp_path}/got/")
    run(engine, "PRESIGN @logged/a.csv.gz")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "x-amz-security-token" in text.lower() and "Authorization" in text  # logged
    for secret in (s3_server.key, s3_server.secret, SESSION_TOKEN):
        assert secret not in text
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("headers={'x-amz-security-token': b'tok/en+1=='}", "tok/en+1=="),
        ("{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/2026'}", "AKIA"),
        ("x-amz-security-token:abc123token\nhost:127.0.0.1", "abc123token"),
        ("GET /b/k?X-Amz-Credential=AKIAZZZZ%2F2026&X-Amz-Signature=deadbeef", "deadbeef"),
        ("{'secret': 'wJalrXUtnFEMI', 'key': 'x'}", "wJalrXUtnFEMI"),
        ("Signature:\nfe12ab", "fe12ab"),
    ],
)
def test_redaction_patterns(line: str, secret: str) -> None:
    assert secret not in log_redaction.redact(line)


def test_remembered_values_are_masked_anywhere() -> None:
    log_redaction.remember("plain-looking-value-77")
    assert "plain-looking-value-77" not in log_redaction.redact("x plain-looking-value-77 y")
