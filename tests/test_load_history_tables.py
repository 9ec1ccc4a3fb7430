"""Load history belongs to a table, not its name (issue 17).

A table dropped and created again, or replaced, starts with no history, and a renamed
table keeps its own (Snowflake's load metadata, Databend's copy history): checked by the
rows each ``COPY INTO`` loads, on DuckDB files, through ``exec_driver_sql`` and
SQLAlchemy's ``metadata.create_all`` / ``drop_all``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

SKIPPED = [("Copy executed with 0 files processed.",)]


@pytest.fixture
def folder(tmp_path: Path) -> str:
    """Two CSV files of two rows each, as a ``file://`` location."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.csv").write_text("1,a\n2,b\n")
    (files / "b.csv").write_text("3,c\n4,d\n")
    return f"file://{files}/"


def _run(conn: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    result = conn.exec_driver_sql(sql)
    return [tuple(row) for row in result] if result.returns_rows else []


def _load(conn: sa.Connection, table: str, folder: str) -> list[tuple[Any, ...]]:
    """``(status, rows)`` of each file the load processed, or `SKIPPED`."""
    rows = _run(conn, f"COPY INTO {table} FROM '{folder}'")
    if rows == SKIPPED:
        return rows
    return sorted((row[0].rsplit("/", 1)[-1], row[1], row[2]) for row in rows)


LOADED = [("a.csv", "LOADED", 2), ("b.csv", "LOADED", 2)]


def _count(conn: sa.Connection, table: str) -> int:
    return int(_run(conn, f"SELECT count(*) FROM {table}")[0][0])


@pytest.mark.parametrize(
    "recreate",
    [
        "DROP TABLE t; CREATE TABLE t (id INTEGER, v VARCHAR)",
        "DROP TABLE IF EXISTS main.t",
        'DROP TABLE "T"',
        "CREATE OR REPLACE TABLE t (id INTEGER, v VARCHAR)",
        "CREATE OR REPLACE TABLE t AS SELECT 0 AS id, 'z' AS v",
        "-- a comment first\nDROP TABLE t",
        "SELECT 'drop table t'; DROP TABLE t; SELECT 1",
    ],
)
def test_a_recreated_table_starts_with_no_history(engine: Any, folder: str, recreate: str) -> None:
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
        assert _load(conn, "t", folder) == SKIPPED
    with engine.begin() as conn:
        _run(conn, recreate)
        _run(conn, "CREATE TABLE IF NOT EXISTS t (id INTEGER, v VARCHAR)")
        before = _count(conn, "t")
        assert _load(conn, "t", folder) == LOADED
        assert _count(conn, "t") == before + 4
        assert _load(conn, "t", folder) == SKIPPED


def test_drop_and_create_in_one_transaction_with_the_load(engine: Any, folder: str) -> None:
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
        _run(conn, "DROP TABLE t")
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
        assert _run(conn, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,), (4,)]


def test_a_rolled_back_drop_keeps_the_history(engine: Any, folder: str) -> None:
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
    with engine.connect() as conn:
        with conn.begin() as transaction:
            _run(conn, "DROP TABLE t")
            assert _run(conn, "SELECT count(*) FROM sqla_stage.load_history") == [(0,)]
            transaction.rollback()
        with conn.begin():
            assert _count(conn, "t") == 4
            assert _load(conn, "t", folder) == SKIPPED
            assert _run(conn, "SELECT count(*) FROM sqla_stage.load_history") == [(2,)]


def test_a_renamed_table_keeps_its_history(engine: Any, folder: str) -> None:
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
    with engine.begin() as conn:
        _run(conn, "ALTER TABLE t RENAME TO u")
        assert _load(conn, "u", folder) == SKIPPED
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
        assert (_count(conn, "t"), _count(conn, "u")) == (4, 4)


def test_tables_swapped_by_renames_keep_their_own_history(
    engine: Any, folder: str, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.csv").write_text("5,e\n")
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR); CREATE TABLE u (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
        assert _load(conn, "u", f"file://{other}/") == [("c.csv", "LOADED", 1)]
    with engine.begin() as conn:
        _run(
            conn,
            "ALTER TABLE t RENAME TO tmp; ALTER TABLE u RENAME TO t; ALTER TABLE tmp RENAME TO u",
        )
        assert (_count(conn, "t"), _count(conn, "u")) == (1, 4)
        # t is the old u: it has c.csv, not a.csv and b.csv
        assert _load(conn, "t", folder) == LOADED
        assert _load(conn, "u", folder) == SKIPPED
        assert _load(conn, "t", f"file://{other}/") == SKIPPED
        assert _load(conn, "u", f"file://{other}/") == [("c.csv", "LOADED", 1)]


def test_schema_qualified_tables(engine: Any, folder: str) -> None:
    with engine.begin() as conn:
        _run(conn, "CREATE SCHEMA s; CREATE TABLE s.t (id INTEGER, v VARCHAR)")
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "s.t", folder) == LOADED
        assert _load(conn, "t", folder) == LOADED
    with engine.begin() as conn:
        _run(conn, "DROP TABLE s.t; CREATE TABLE s.t (id INTEGER, v VARCHAR)")
        # main.t is another table: its history stays
        assert _load(conn, "t", folder) == SKIPPED
        assert _load(conn, "s.t", folder) == LOADED
    with engine.begin() as conn:
        _run(conn, "DROP SCHEMA s CASCADE")
        _run(conn, "CREATE SCHEMA s; CREATE TABLE s.t (id INTEGER, v VARCHAR)")
        assert _load(conn, "s.t", folder) == LOADED
        assert _load(conn, "t", folder) == SKIPPED


def test_tables_of_an_attached_database(
    make_engine: Callable[..., Any], tmp_path: Path, folder: str
) -> None:
    engine = make_engine(attach={"other.duckdb": "db2"})

    with engine.begin() as conn:
        _run(conn, "CREATE SCHEMA db2.s2")
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE db2.s2.t (id INTEGER, v VARCHAR)")
    with engine.begin() as conn:
        assert _load(conn, "db2.s2.t", folder) == LOADED
    with engine.begin() as conn:
        _run(conn, "ALTER TABLE db2.s2.t RENAME TO u")
    with engine.begin() as conn:
        assert _load(conn, "db2.s2.u", folder) == SKIPPED
        assert _run(conn, "SELECT DISTINCT table_name FROM db2.sqla_stage.load_history") == [
            ("s2.u",)
        ]
    with engine.begin() as conn:
        _run(conn, "DROP TABLE db2.s2.u")
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE db2.s2.u (id INTEGER, v VARCHAR)")
    with engine.begin() as conn:
        assert _load(conn, "db2.s2.u", folder) == LOADED
        assert _count(conn, "db2.s2.u") == 4


def test_metadata_drop_all_and_create_all(engine: Any, folder: str) -> None:
    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("id", sa.Integer), sa.Column("v", sa.String))
    sa.Table(
        "t",
        metadata_s := sa.MetaData(schema="s"),
        sa.Column("id", sa.Integer),
        sa.Column("v", sa.String),
    )
    with engine.begin() as conn:
        _run(conn, "CREATE SCHEMA s")
        metadata.create_all(conn)
        metadata_s.create_all(conn)
        assert _load(conn, "t", folder) == LOADED
        assert _load(conn, "s.t", folder) == LOADED
    with engine.begin() as conn:
        metadata.drop_all(conn)
        metadata_s.drop_all(conn)
        metadata.create_all(conn)
        metadata_s.create_all(conn)
        assert _load(conn, "t", folder) == LOADED
        assert _load(conn, "s.t", folder) == LOADED
        assert (_count(conn, "t"), _count(conn, "s.t")) == (4, 4)


def test_the_history_survives_reopening_the_database(
    make_engine: Callable[..., Any], folder: str
) -> None:
    """DuckDB's table oids change when a file is opened again: no oid is kept."""
    engine = make_engine()
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
    engine.dispose()
    reopened = make_engine()
    with reopened.begin() as conn:
        _run(conn, "CREATE TABLE u (id INTEGER)")
        assert _load(conn, "t", folder) == SKIPPED
        _run(conn, "DROP TABLE u")
        assert _load(conn, "t", folder) == SKIPPED


def test_history_left_by_a_drop_outside_the_engine_goes_when_the_table_is_created(
    make_engine: Callable[..., Any], tmp_path: Path, folder: str
) -> None:
    engine = make_engine()
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
    engine.dispose()
    with duckdb.connect(str(tmp_path / "app.duckdb")) as plain:
        plain.execute("DROP TABLE t")
    with make_engine().begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED


def test_the_statement_result_is_kept(engine: Any) -> None:
    with engine.begin() as conn:
        assert _run(conn, "CREATE TABLE t AS SELECT * FROM range(3)") == [(3,)]
        assert _run(conn, "ALTER TABLE t RENAME TO u") == []
        assert _run(conn, "SELECT count(*) FROM u") == [(3,)]
        assert _run(conn, "DROP TABLE u; SELECT 42 AS answer") == [(42,)]
        assert _run(conn, "SELECT 'drop table x' AS words") == [("drop table x",)]


def test_the_runtime_follows_embedded_databend(databend: Any, engine: Any, folder: str) -> None:
    """The same statements on embedded Databend and on the runtime load the same files."""
    steps = [
        "CREATE TABLE t (id INT, v VARCHAR)",
        "COPY t",
        "COPY t",
        "ALTER TABLE t RENAME TO u",
        "COPY u",
        "CREATE TABLE t (id INT, v VARCHAR)",
        "COPY t",
        "DROP TABLE t",
        "CREATE TABLE t (id INT, v VARCHAR)",
        "COPY t",
        "CREATE OR REPLACE TABLE u (id INT, v VARCHAR)",
        "COPY u",
        "COPY u",
    ]
    location = f"'{folder.replace('file://', 'fs://')}' FILE_FORMAT = (TYPE = CSV)"
    on_databend: list[int] = []
    for step in steps:
        if step.startswith("COPY "):
            on_databend.append(len(databend.sql(f"COPY INTO {step[5:]} FROM {location}")))
        else:
            databend.sql(step)
    on_runtime: list[int] = []
    with engine.begin() as conn:
        for step in steps:
            if step.startswith("COPY "):
                loaded = _load(conn, step[5:], folder)
                on_runtime.append(0 if loaded == SKIPPED else len(loaded))
            else:
                _run(conn, step)
    assert on_databend == [2, 0, 0, 2, 2, 2, 0]
    assert on_runtime == on_databend


def test_a_failed_drop_changes_no_history(engine: Any, folder: str) -> None:
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE t (id INTEGER, v VARCHAR)")
        assert _load(conn, "t", folder) == LOADED
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="nope"):
        _run(conn, "DROP TABLE nope")
    with engine.begin() as conn:
        assert _load(conn, "t", folder) == SKIPPED
