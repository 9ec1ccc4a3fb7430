"""Secrets at rest: no SQL route through the database reveals a usable secret.

The registry keeps each secret value sealed with AES-256-GCM (docs/security.md, "Secrets at
rest"), the key outside the database: ``SQLA_STAGE_SECRET_KEY`` or a 0600 key file beside
the database file. Every route a SQL client has to the registry is tried (the tables, the
``duckdb_*`` functions, a second plain DuckDB connection, ``COPY ... TO``, ``EXPORT
DATABASE``, the database file's own bytes), the stages still work after the file is
reopened in a new process (moto S3, signatures checked), a missing or wrong key is refused
by name, a database of the old (plaintext) format is sealed on connect, and a rolled-back
``CREATE STAGE`` leaves nothing.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from conftest import run_python

from sqla_stage import CreateStage, DescribeStage, Stage
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.catalog.tables import ensure_registry

ENV = "SQLA_STAGE_SECRET_KEY"
MASTER_KEY = base64.b64encode(b"m" * 32).decode()
CONNECTION_SECRET = "conn-secret-5e7d1a"
SEALED = "sqla_stage:sealed:v1:"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def engine_on(path: Path, stage_root: Path, **kw: Any) -> sa.Engine:
    return sa.create_engine(
        f"duckdb:///{path}", plugins=["sqla_stage"], stage_root=str(stage_root), **kw
    )


def create_s3_stage(engine: sa.Engine, s3: Any, bucket: str, name: str = "s") -> None:
    """An S3 stage with real keys and an AWS_CSE master key, a file in it, a connection."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE {name} URL = 's3://{bucket}/p/' {s3.credentials_sql()} "
            f"ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY = '{MASTER_KEY}')"
        )
        conn.exec_driver_sql("CREATE TABLE t AS SELECT range AS a FROM range(5)")
        conn.exec_driver_sql(f"COPY INTO @{name}/out/ FROM t")
        conn.exec_driver_sql(
            f"CREATE CONNECTION c STORAGE_TYPE = 's3' ACCESS_KEY_ID = '{s3.key}' "
            f"SECRET_ACCESS_KEY = '{CONNECTION_SECRET}'"
        )


def secrets_of(s3: Any) -> list[str]:
    return [s3.key, s3.secret, MASTER_KEY, CONNECTION_SECRET]


def assert_hidden(text: str | bytes, secrets: list[str]) -> None:
    data = text if isinstance(text, bytes) else text.encode()
    leaked = [secret for secret in secrets if secret.encode() in data]
    assert leaked == []


def test_no_sql_route_shows_a_secret(tmp_path: Path, s3_server: Any, s3_bucket: str) -> None:
    database = tmp_path / "app.duckdb"
    engine = engine_on(database, tmp_path / "stages")
    secrets = secrets_of(s3_server)
    with s3_server.authenticated():
        create_s3_stage(engine, s3_server, s3_bucket)
    shown: list[str] = []
    with engine.connect() as conn:
        for table in ("stages", "connections"):
            rows = conn.exec_driver_sql(f"SELECT * FROM sqla_stage.{table}").all()
            assert SEALED in repr(rows)
            shown.append(repr(rows))
        for function in ("tables", "columns", "views", "settings", "secrets", "databases"):
            shown.append(repr(conn.exec_driver_sql(f"SELECT * FROM duckdb_{function}()").all()))
        copied = tmp_path / "stages.csv"
        conn.exec_driver_sql(f"COPY sqla_stage.stages TO '{copied}' (HEADER)")
        conn.exec_driver_sql(f"COPY sqla_stage.connections TO '{tmp_path / 'conns.parquet'}'")
        conn.exec_driver_sql(f"EXPORT DATABASE '{tmp_path / 'export'}'")
        conn.exec_driver_sql("CHECKPOINT")
        shown += [repr(conn.execute(DescribeStage("s")).all())]
        shown += [repr(conn.exec_driver_sql(sql).all()) for sql in ("SHOW STAGES", "DESC STAGE s")]
        shown += [repr(conn.exec_driver_sql(sql).all()) for sql in ("SHOW CONNECTIONS",)]
    engine.dispose()
    plain = duckdb.connect(str(database), read_only=True)  # a notebook or a BI tool
    for table in ("stages", "connections"):
        shown.append(repr(plain.execute(f"SELECT * FROM sqla_stage.{table}").fetchall()))
    plain.close()
    for text in shown:
        assert_hidden(text, secrets)
    written = [
        copied,
        tmp_path / "conns.parquet",
        *sorted((tmp_path / "export").iterdir()),
        database,  # the file's own bytes, checkpointed
    ]
    assert len(written) > 4
    for path in written:
        assert_hidden(path.read_bytes(), secrets)
    assert SEALED.encode() in copied.read_bytes()
    key_file = tmp_path / "app.duckdb.sqla_stage.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32


def test_the_stage_works_after_reopening_in_a_new_process(
    tmp_path: Path, s3_server: Any, s3_bucket: str
) -> None:
    database, root = tmp_path / "app.duckdb", tmp_path / "stages"
    engine = engine_on(database, root)
    with s3_server.authenticated():
        create_s3_stage(engine, s3_server, s3_bucket)
    engine.dispose()
    with s3_server.authenticated():  # moto checks each request's signature
        out = run_python(
            f"""
            import sqlalchemy as sa
            engine = sa.create_engine("duckdb:///{database}", plugins=["sqla_stage"],
                                      stage_root={str(root)!r})
            with engine.begin() as conn:
                print(conn.exec_driver_sql("LIST @s").all()[0][0])
                conn.exec_driver_sql("CREATE TABLE back (a BIGINT)")
                conn.exec_driver_sql("COPY INTO back FROM @s/out/")
                print(conn.exec_driver_sql("SELECT sum(a) FROM back").scalar())
                conn.exec_driver_sql("COPY INTO @s/again/ FROM back")
            """
        )
    assert out.split() == ["out/data_0_0_0.csv.gz", "10"]
    assert s3_server.keys(s3_bucket) == ["p/again/data_0_0_0.csv.gz", "p/out/data_0_0_0.csv.gz"]
    # AWS_CSE: the objects are sealed with the master key the registry opened.
    assert b"\n" not in s3_server.read(s3_bucket, "p/again/data_0_0_0.csv.gz")[:2]


def test_a_wrong_or_missing_key_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "app.duckdb"
    monkeypatch.setenv(ENV, new_key())
    engine = engine_on(database, tmp_path / "stages")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE STAGE ext URL = 'memory://at-rest/ext/' "
            "CREDENTIALS = (AWS_KEY_ID = 'kid-0a1b' AWS_SECRET_KEY = 'sec-2c3d')"
        )
        conn.exec_driver_sql("CREATE STAGE ext2 URL = 'memory://at-rest/ext2/'")
    assert not (tmp_path / "app.duckdb.sqla_stage.key").exists()  # the variable's key
    engine.dispose()
    messages = []
    for key in (new_key(), None):  # another key; no key at all
        if key is None:
            monkeypatch.delenv(ENV)
        else:
            monkeypatch.setenv(ENV, key)
        engine = engine_on(database, tmp_path / "stages")
        with engine.connect() as conn:
            with pytest.raises(StageProgrammingError) as caught:
                conn.exec_driver_sql("LIST @ext")
            conn.rollback()
            messages.append(str(caught.value))
            error = caught.value
            assert error.__cause__ is None  # never a cryptography error underneath
            assert error.__context__ is None or error.__suppress_context__
            # What needs no secret still works: DESC, SHOW, another stage, DROP.
            assert "'***'" in conn.exec_driver_sql("DESC STAGE ext").one()[2]
            assert len(conn.exec_driver_sql("SHOW STAGES").all()) == 2
            assert conn.exec_driver_sql("LIST @ext2").all() == []
        engine.dispose()
    for message in messages:
        assert "stage ext:" in message
        assert ENV in message and "key file" in message and "app.duckdb.sqla_stage.key" in message
        assert "sec-2c3d" not in message and "kid-0a1b" not in message
    assert "keys tried: none found" in messages[1]
    monkeypatch.setenv(ENV, "not a key")
    engine = engine_on(database, tmp_path / "stages")
    with engine.connect() as conn, pytest.raises(StageProgrammingError) as bad:
        conn.exec_driver_sql("LIST @ext")
    assert f"the environment variable {ENV} does not hold a key" in str(bad.value)
    assert "not a key" not in str(bad.value)
    engine.dispose()
    monkeypatch.delenv(ENV)
    engine = engine_on(database, tmp_path / "stages")
    with engine.begin() as conn:  # a stage whose key is lost can be dropped and made again
        conn.exec_driver_sql("DROP STAGE ext")
        conn.exec_driver_sql(
            "CREATE STAGE ext URL = 'memory://at-rest/ext/' "
            "CREDENTIALS = (AWS_KEY_ID = 'kid-0a1b' AWS_SECRET_KEY = 'sec-2c3d')"
        )
        assert conn.exec_driver_sql("LIST @ext").all() == []
    engine.dispose()


def test_a_damaged_secret_is_refused_by_name(tmp_path: Path) -> None:
    database = tmp_path / "app.duckdb"
    engine = engine_on(database, tmp_path / "stages")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE STAGE ext URL = 'memory://at-rest/dmg/' "
            "CREDENTIALS = (AWS_KEY_ID = 'kid-0a1b' AWS_SECRET_KEY = 'sec-2c3d')"
        )
        # flip one character of the sealed AWS_SECRET_KEY (a hand edit, a bad copy)
        conn.exec_driver_sql(
            "UPDATE sqla_stage.stages SET definition = regexp_replace(definition, "
            "'(AWS_SECRET_KEY = ''sqla_stage:sealed:v1:[0-9a-f]+:)(.)', '\\1A\\2')"
        )
    with engine.connect() as conn, pytest.raises(StageProgrammingError) as caught:
        conn.exec_driver_sql("LIST @ext")
    assert "stage ext: a secret in the registry is damaged" in str(caught.value)
    engine.dispose()


def test_sealed_values_work_only_where_they_were_sealed(tmp_path: Path) -> None:
    """A row edited to send its secrets elsewhere, or a sealed value reused, is refused."""
    engine = engine_on(tmp_path / "app.duckdb", tmp_path / "stages")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE STAGE ext URL = 'memory://at-rest/bound/' CREDENTIALS = (AWS_KEY_ID = "
            "'kid-0a1b' AWS_SECRET_KEY = 'sec-2c3d' ENDPOINT_URL = 'http://127.0.0.1:9000')"
        )
        text = conn.exec_driver_sql("SELECT definition FROM sqla_stage.stages").scalar()
        sealed = text.split("AWS_SECRET_KEY = '")[1].split("'")[0]
        key_id = text.split("AWS_KEY_ID = '")[1].split("'")[0]
    for edit in (
        "replace(definition, '127.0.0.1:9000', '127.0.0.1:9999')",  # another endpoint
        "replace(definition, 'memory://at-rest/bound/', 'memory://at-rest/elsewhere/')",
    ):
        with engine.begin() as conn:  # as any SQL client of the database could
            conn.exec_driver_sql(f"UPDATE sqla_stage.stages SET definition = {edit}")
        with engine.connect() as conn, pytest.raises(StageProgrammingError) as caught:
            conn.exec_driver_sql("LIST @ext")
        assert "sealed for another URL, endpoint or field" in str(caught.value)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE sqla_stage.stages SET definition = ?", (text,))
            assert conn.exec_driver_sql("LIST @ext").all() == []
    with engine.connect() as conn, pytest.raises(StageProgrammingError) as reused:
        conn.exec_driver_sql(
            "CREATE STAGE copy URL = 'memory://at-rest/copy/' CREDENTIALS = ("
            f"AWS_KEY_ID = '{key_id}' AWS_SECRET_KEY = '{sealed}' "
            "ENDPOINT_URL = 'http://127.0.0.1:9000')"
        )
    assert "is a sealed registry value" in str(reused.value)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqla_stage.stages").scalar() == 1
    engine.dispose()


def test_an_old_plaintext_database_is_sealed_on_connect(
    tmp_path: Path, s3_server: Any, s3_bucket: str
) -> None:
    database, root = tmp_path / "old.duckdb", tmp_path / "stages"
    plain = duckdb.connect(str(database))  # the tables and rows as a release before wrote them
    ensure_registry(plain)
    text = (
        f"CREATE STAGE legacy_s URL = 's3://{s3_bucket}/old/' CREDENTIALS = (AWS_KEY_ID = "
        f"'{s3_server.key}' AWS_SECRET_KEY = '{s3_server.secret}' ENDPOINT_URL = "
        f"'{s3_server.endpoint_url}')"
    )
    plain.execute(
        "INSERT INTO sqla_stage.stages "
        "VALUES ('', 'legacy_s', 'external', ?, ?, NULL, 'bob', now())",
        [f"s3://{s3_bucket}/old/", text],
    )
    plain.execute(
        "INSERT INTO sqla_stage.connections VALUES ('c', 's3', ?, 'bob', now())",
        [
            f"CREATE CONNECTION c STORAGE_TYPE = 's3' ACCESS_KEY_ID = '{s3_server.key}' "
            f"SECRET_ACCESS_KEY = '{CONNECTION_SECRET}'"
        ],
    )
    plain.close()
    s3_server.s3.put_object(Bucket=s3_bucket, Key="old/a.csv", Body=b"1\n2\n")
    engine = engine_on(database, root)
    with s3_server.authenticated(), engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT definition FROM sqla_stage.stages").all()
        connections = conn.exec_driver_sql("SELECT definition FROM sqla_stage.connections").all()
        assert conn.exec_driver_sql("LIST @legacy_s").one()[0] == "a.csv"
    engine.dispose()
    for found in (rows, connections):
        assert SEALED in repr(found)
        assert_hidden(repr(found), secrets_of(s3_server))
    assert rows[0][0].startswith(f"CREATE STAGE legacy_s URL = 's3://{s3_bucket}/old/' CREDENTIALS")
    assert s3_server.endpoint_url in rows[0][0]  # not a secret: stays readable


def test_a_rolled_back_create_stage_leaves_nothing(tmp_path: Path) -> None:
    engine = engine_on(tmp_path / "app.duckdb", tmp_path / "stages")
    create = CreateStage(
        Stage(
            "rb",
            url="memory://at-rest/rb/",
            credentials={"aws_key_id": "kid-rb", "aws_secret_key": "sec-rb"},
        )
    )
    with engine.connect() as conn:
        conn.execute(create)
        assert conn.exec_driver_sql("SELECT count(*) FROM sqla_stage.stages").scalar() == 1
        conn.rollback()
        assert conn.exec_driver_sql("SELECT count(*) FROM sqla_stage.stages").scalar() == 0
        conn.execute(create)
        conn.commit()
        assert conn.exec_driver_sql("LIST @rb").all() == []
    engine.dispose()


def test_attached_and_in_memory_databases_seal_too(tmp_path: Path) -> None:
    other = tmp_path / "db2.duckdb"
    duckdb.connect(str(other)).close()
    for url in (f"duckdb:///{tmp_path / 'app.duckdb'}", "duckdb:///:memory:"):
        engine = sa.create_engine(url, plugins=["sqla_stage"], stage_root=str(tmp_path / "st"))
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE STAGE here URL = 'memory://at-rest/here/' "
                "CREDENTIALS = (AWS_KEY_ID = 'kid-here' AWS_SECRET_KEY = 'sec-here')"
            )
            assert "sec-here" not in repr(
                conn.exec_driver_sql("SELECT * FROM sqla_stage.stages").all()
            )
            assert conn.exec_driver_sql("LIST @here").all() == []
        if url.endswith(":memory:"):
            engine.dispose()
            continue
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ATTACH '{other}' AS db2")
            conn.exec_driver_sql(
                "CREATE STAGE db2.main.there URL = 'memory://at-rest/there/' "
                "CREDENTIALS = (AWS_KEY_ID = 'kid-there' AWS_SECRET_KEY = 'sec-there')"
            )
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ATTACH IF NOT EXISTS '{other}' AS db2")
            assert conn.exec_driver_sql("LIST @db2.main.there").all() == []
        engine.dispose()
    assert (tmp_path / "db2.duckdb.sqla_stage.key").exists()  # the attached file's own key
    plain = duckdb.connect(str(other), read_only=True)
    rows = repr(plain.execute("SELECT * FROM sqla_stage.stages").fetchall())
    plain.close()
    assert SEALED in rows and "sec-there" not in rows and "kid-there" not in rows
