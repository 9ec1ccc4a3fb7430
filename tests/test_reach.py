"""No URL or local path reaches the engine's stage root (issue 17, cross-user reach).

Bob puts a file in his ``@~``; alice tries to reach it without a stage path: an external
stage on the folder (several spellings: plain, ``file://``, ``..``, a symbolic link), a
URL location of ``COPY``, a ``PUT`` source, a ``GET`` / ``INTO OUTFILE`` target, a
``LOAD DATA`` file, a DATALINK. Each is refused with an error that does not show the
stage root's path, and bob's files are byte for byte as they were. A location that holds
the stage root (a parent folder) does not show it. The same holds for a stage root on an
object store (``memory://``, and S3 on the moto server).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import fsspec
import pytest
import sqlalchemy as sa
from stage_files import run, snapshot

from sqla_stage import Stage
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.catalog.registry import Registry

SECRET = "bob-only,42\n"


class Users:
    """Bob with a file in ``@~``, alice with a table ``t``, on one stage root."""

    def __init__(self, make_engine: Callable[..., sa.Engine], base: Path) -> None:
        self.base = base
        self.root = base / "stages"
        self.bob_dir = self.root / "stage" / "user" / "bob"
        self.bob, self.alice = make_engine(user="bob"), make_engine(user="alice")
        self.matrixone = make_engine(user="alice", stage_dialect="matrixone")
        source = base / "secret.csv"
        source.write_text(SECRET)
        run(self.bob, f"PUT file://{source} @~ AUTO_COMPRESS = FALSE")
        run(self.alice, f"PUT file://{source} @~/own/")  # alice's @~ folder exists
        run(self.alice, "CREATE TABLE t (name VARCHAR, n INTEGER)")
        run(self.alice, "CREATE STAGE mine")  # an internal stage: stage/internal/mine/
        run(self.alice, f"PUT file://{source} @mine")
        (base / "outside").mkdir()
        self.before = snapshot(self.root)

    def refused(self, sql: str, engine: sa.Engine | None = None) -> str:
        """Run ``sql`` as alice; it must be refused naming the stage root, not its path."""
        with pytest.raises(StageProgrammingError, match="stage root") as caught:
            run(engine or self.alice, sql)
        message = str(caught.value)
        assert str(self.root) not in message and str(self.root.resolve()) not in message
        return message

    def untouched(self) -> None:
        """Bob's stage, alice's stages and table are as they were."""
        assert snapshot(self.root) == self.before
        assert run(self.alice, "SELECT count(*) FROM t") == [(0,)]
        assert [row[0] for row in run(self.bob, "LIST @~")] == ["secret.csv"]


@pytest.fixture
def users(make_engine: Callable[..., sa.Engine], tmp_path: Path) -> Users:
    return Users(make_engine, tmp_path)


#: Spellings of bob's folder (and of the stage root and another folder in it).
SPELLINGS = {
    "plain": "{root}/stage/user/bob/",
    "file URL": "file://{root}/stage/user/bob/",
    "no slash": "{root}/stage/user/bob",
    "through alice": "{root}/stage/user/alice/../bob/",
    "through internal": "{root}/stage/internal/../user/bob",
    "dot segments": "{root}/./stage//user/./bob/",
    "local URL": "local://{root}/stage/user/bob/",
    "the root": "{root}",
    "the root, file URL": "file://{root}/",
    "users": "{root}/stage/user/",
    "an internal stage": "{root}/stage/internal/mine/",
    "a table stage": "{root}/stage/table/",
    "outside, then back": "{base}/outside/../stages/stage/user/bob/",
    "a link": "{base}/link/",
    "a link in the path": "{base}/linked/user/bob/",
}


def spell(users: Users, name: str) -> str:
    (users.base / "link").symlink_to(users.bob_dir, target_is_directory=True)
    (users.base / "linked").symlink_to(users.root / "stage", target_is_directory=True)
    return SPELLINGS[name].format(root=users.root, base=users.base)


@pytest.mark.parametrize("name", SPELLINGS)
def test_external_stage_into_the_stage_root_is_refused(users: Users, name: str) -> None:
    url = spell(users, name)
    users.refused(f"CREATE STAGE peek URL = '{url}'")
    users.refused(f"CREATE OR REPLACE STAGE peek URL = '{url}'")
    run(users.alice, f"CREATE STAGE peek URL = 'file://{users.base}/outside/'")
    users.refused(f"ALTER STAGE peek SET URL = '{url}'")
    users.refused(f"CREATE OR ALTER STAGE peek URL = '{url}'")
    assert run(users.alice, "LIST @peek") == []  # still the outside folder
    users.untouched()


@pytest.mark.parametrize("name", SPELLINGS)
def test_url_locations_into_the_stage_root_are_refused(users: Users, name: str) -> None:
    url = spell(users, name)
    folder = url if url.endswith("/") else url + "/"
    local = folder.removeprefix("file://").removeprefix("local://")
    users.refused(f"COPY INTO t FROM '{url}' FILE_FORMAT = (TYPE = CSV)")
    users.refused(f"COPY INTO t FROM '{folder}secret.csv' FILE_FORMAT = (TYPE = CSV)")
    users.refused(f"COPY INTO '{folder}' FROM t")
    users.refused(f"COPY INTO '{folder}out.csv' FROM t FILE_FORMAT = (TYPE = CSV)")
    users.refused(f"GET @mine file://{local}")
    users.refused(f"SELECT 1 AS n INTO OUTFILE '{local}out.csv'")
    link = f"SELECT load_file(cast('file://{local}secret.csv' as datalink))"
    users.refused(link, users.matrixone)
    load = f"LOAD DATA INFILE '{local}secret.csv' INTO TABLE t FIELDS TERMINATED BY ','"
    users.refused(load, users.matrixone)
    users.untouched()


@pytest.mark.parametrize("name", [n for n in SPELLINGS if "bob" in SPELLINGS[n] or "link" in n])
def test_put_from_the_stage_root_is_refused(users: Users, name: str) -> None:
    local = spell(users, name).removeprefix("file://").removeprefix("local://")
    source = local.rstrip("/") + "/secret.csv"
    assert os.path.isfile(source)  # the spelling names bob's file
    users.refused(f"PUT file://{source} @~")
    users.refused(f"PUT file://{local.rstrip('/')}/* @mine")
    users.untouched()


def test_a_link_made_after_the_stage_is_refused_at_use(users: Users) -> None:
    outside = users.base / "outside"
    (outside / "mine.csv").write_text("alice,1\n")
    run(users.alice, f"CREATE STAGE peek URL = 'file://{outside}/'")
    assert [row[0] for row in run(users.alice, "LIST @peek")] == ["mine.csv"]
    (outside / "mine.csv").unlink()
    outside.rmdir()
    outside.symlink_to(users.bob_dir, target_is_directory=True)
    for sql in (
        "LIST @peek",
        "SELECT * FROM @peek",
        "REMOVE @peek",
        "COPY INTO t FROM @peek FILE_FORMAT = (TYPE = CSV)",
        "COPY INTO @peek/x/ FROM t",
        f"GET @peek file://{users.base}/got/",
        "SELECT 1 AS n INTO OUTFILE 'stage://peek/x.csv'",
    ):
        users.refused(sql)
    users.untouched()
    assert not (users.base / "got").exists()


def test_a_stage_registered_before_the_check_is_refused_at_use(users: Users) -> None:
    """A stage stored by an older version (or written to the registry directly)."""
    with users.alice.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        Registry(cursor, "alice").add_stage(Stage("old", url=f"file://{users.bob_dir}/"))
    for sql in ("LIST @old", "SELECT * FROM @old", "REMOVE @old", "COPY INTO t FROM @old"):
        users.refused(sql)
    users.untouched()


def test_a_parent_folder_does_not_show_the_stage_root(users: Users) -> None:
    base = users.base
    run(users.alice, f"CREATE STAGE up URL = 'file://{base}/'")
    names = [row[0] for row in run(users.alice, "LIST @up")]
    assert "secret.csv" in names  # the file beside the stage root
    assert not any(name.startswith("stages/") for name in names)
    assert run(users.alice, "LIST @up PATTERN = '.*bob.*'") == []
    assert run(users.alice, "REMOVE @up PATTERN = '.*bob.*'") == []
    with pytest.raises(StageProgrammingError, match="not found"):
        run(users.alice, "COPY INTO t FROM @up FILES = ('stages/stage/user/bob/secret.csv')")
    for sql in (
        "LIST @up/stages/",
        "LIST @up/stages/stage/user/bob/",
        "SELECT * FROM @up/stages/stage/user/bob/secret.csv",
        "REMOVE @up/stages/stage/user/bob/",
        "COPY INTO @up/stages/stage/user/bob/ FROM t",
        "COPY INTO t FROM @up/stages/stage/user/bob/",
        f"PUT file://{base}/secret.csv @up/stages/stage/user/bob/",
        "SELECT 1 AS n INTO OUTFILE 'stage://up/stages/stage/user/bob/x.csv'",
        f"COPY INTO t FROM 'file://{base}/stages'",
        f"COPY INTO 'file://{base}/stages/x/' FROM t",
    ):
        users.refused(sql)
    run(users.alice, "COPY INTO t FROM @up PATTERN = '.*secret.*' FILE_FORMAT = (TYPE = CSV)")
    assert run(users.alice, "SELECT * FROM t") == [("bob-only", 42)]  # only base/secret.csv
    run(users.alice, "DELETE FROM t")
    # a file system root holds every stage root: nothing of bob's is listed from there
    run(users.alice, f"CREATE STAGE top URL = 'file://{base.anchor}'")
    message = users.refused(f"LIST @top{users.bob_dir}/")
    assert "at 'stage/user/bob'" in message  # the path below the stage root only
    users.untouched()


def test_a_stage_beside_the_stage_root_is_not_refused(users: Users) -> None:
    """``stages2`` and ``stage`` beside ``stages`` are other folders."""
    for name in ("stages2", "stages.bak"):
        (users.base / name).mkdir()
        (users.base / name / "f.csv").write_text("x,1\n")
        run(users.alice, f"CREATE OR REPLACE STAGE side URL = 'file://{users.base}/{name}/'")
        assert [row[0] for row in run(users.alice, "LIST @side")] == ["f.csv"]
    users.untouched()


def test_memory_stage_root(make_engine: Callable[..., sa.Engine]) -> None:
    root = f"memory://reach-{uuid4().hex[:8]}"
    bob = make_engine(user="bob", stage_root=root)
    alice = make_engine(user="alice", stage_root=root)
    fs = fsspec.filesystem("memory")
    with fs.open(f"{root}/stage/user/bob/secret.csv", "wb") as stream:
        stream.write(SECRET.encode())
    assert [row[0] for row in run(bob, "LIST @~")] == ["secret.csv"]
    run(alice, "CREATE TABLE t (name VARCHAR, n INTEGER)")
    for url in (
        f"{root}/stage/user/bob/",
        f"{root}/stage/user/alice/../bob/",
        f"{root}/stage/internal/../user/bob",
        f"{root}/",
    ):
        for sql in (f"CREATE STAGE peek URL = '{url}'", f"COPY INTO t FROM '{url}'"):
            with pytest.raises(StageProgrammingError, match="stage root") as caught:
                run(alice, sql)
            assert root.removeprefix("memory://") not in str(caught.value)
    run(alice, "CREATE STAGE up URL = 'memory:///'")
    assert [row[0] for row in run(alice, "LIST @up PATTERN = '.*bob.*'")] == []
    assert fs.cat(f"{root}/stage/user/bob/secret.csv") == SECRET.encode()


def test_s3_stage_root(
    make_engine: Callable[..., sa.Engine],
    s3_server: Any,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stage root on S3 (moto on 127.0.0.1): an ``s3://`` URL into it is refused."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    root = f"s3://{s3_bucket}/app"
    bob = make_engine(user="bob", stage_root=root)
    alice = make_engine(user="alice", stage_root=root)
    s3_server.s3.put_object(Bucket=s3_bucket, Key="app/stage/user/bob/secret.csv", Body=SECRET)
    assert [row[0] for row in run(bob, "LIST @~")] == ["secret.csv"]
    run(alice, "CREATE TABLE t (name VARCHAR, n INTEGER)")
    credentials = s3_server.credentials_sql()
    for url in (
        f"{root}/stage/user/bob/",
        f"s3a://{s3_bucket}/app/stage/user/bob/",
        f"{root}/stage/user/alice/../bob/",
        f"{root}/",
    ):
        for sql in (
            f"CREATE STAGE peek URL = '{url}' {credentials}",
            f"COPY INTO t FROM '{url}' {credentials}",
            f"COPY INTO '{url}' FROM t {credentials}",
        ):
            with pytest.raises(StageProgrammingError, match="stage root"):
                run(alice, sql)
    run(alice, f"CREATE STAGE up URL = 's3://{s3_bucket}/' {credentials}")
    assert run(alice, "LIST @up PATTERN = '.*bob.*'") == []
    with pytest.raises(StageProgrammingError, match="stage root"):
        run(alice, "REMOVE @up/app/stage/user/bob/")
    assert s3_server.keys(s3_bucket) == ["app/stage/user/bob/secret.csv"]
    assert s3_server.read(s3_bucket, "app/stage/user/bob/secret.csv") == SECRET.encode()


def test_other_filesystems_are_not_compared(users: Users) -> None:
    """A memory:// stage is nowhere near a local stage root."""
    run(users.alice, f"CREATE STAGE mem URL = 'memory://{users.root}/stage/user/bob/'")
    assert run(users.alice, "LIST @mem") == []
    users.untouched()


def test_chained_urls_over_the_stage_roots_filesystem_are_refused(users: Users) -> None:
    message = users.refused(f"CREATE STAGE c URL = 'simplecache::file://{users.bob_dir}/'")
    assert "chained URL" in message
    users.untouched()


def test_reach_errors_are_sqlalchemy_errors(users: Users) -> None:
    with pytest.raises(sa.exc.ProgrammingError):
        run(users.alice, f"CREATE STAGE peek URL = '{users.bob_dir}'")
    assert os.listdir(users.bob_dir) == ["secret.csv"]
