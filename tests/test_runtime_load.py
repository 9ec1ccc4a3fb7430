"""The runtime's COPY INTO <table>: loading staged files into DuckDB tables."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pytest
import sqlalchemy as sa

from sqla_stage import CSV, JSON, CopyInto, FileFormat, Parquet, Stage
from sqla_stage.errors import StageRuntimeError

RESULT = [
    "file",
    "status",
    "rows_parsed",
    "rows_loaded",
    "error_limit",
    "errors_seen",
    "first_error",
    "first_error_line",
    "first_error_character",
    "first_error_column_name",
]


def internal(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "stages" / "stage" / "internal" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def write_parquet(path: Path, select: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.sql(f"COPY ({select}) TO '{path}' (FORMAT parquet)")


def rows(conn: sa.Connection, table: str = "t") -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY ALL")]


def count(engine: Any, table: str = "t") -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def history(engine: Any) -> int:
    with engine.connect() as conn:
        return int(
            conn.exec_driver_sql("SELECT count(*) FROM sqla_stage.load_history").scalar_one()
        )


#: What a load with no file left to load returns (Snowflake's status row).
NOTHING_LOADED = [{"status": "Copy executed with 0 files processed."}]


def results(conn: sa.Connection, statement: Any) -> list[dict[str, Any]]:
    if isinstance(statement, str):
        result = conn.exec_driver_sql(statement)
    else:
        result = conn.execute(statement)
    return [dict(r) for r in result.mappings()]


@pytest.fixture
def setup(engine: Any, tmp_path: Path) -> Callable[..., Path]:
    """Create table t (id INTEGER, name VARCHAR) and internal stage @s; return its folder."""

    def make(ddl: str = "CREATE TABLE t (id INTEGER, name VARCHAR)", stage: str = "s") -> Path:
        with engine.begin() as conn:
            conn.exec_driver_sql(ddl)
            conn.exec_driver_sql(f"CREATE STAGE {stage}")
        return internal(tmp_path, stage)

    return make


# Formats and places


def test_csv_from_internal_stage(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "a.csv", "1,a\n2,b\n")
    write(folder, "p/b.csv", "3,c\n")
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s")
        assert rows(conn) == [(1, "a"), (2, "b"), (3, "c")]
    assert got == [
        dict(zip(RESULT, ["a.csv", "LOADED", 2, 2, 1, 0, None, None, None, None], strict=True)),
        dict(zip(RESULT, ["p/b.csv", "LOADED", 1, 1, 1, 0, None, None, None, None], strict=True)),
    ]


def test_result_column_types(engine: Any, setup: Callable[..., Path]) -> None:
    write(setup(), "a.csv", "1,a\n")
    with engine.begin() as conn:
        result = conn.exec_driver_sql("COPY INTO t FROM @s")
        assert [d[0] for d in result.cursor.description] == RESULT
        assert result.all()[0].rows_loaded == 1


def test_gzip_csv_with_header_and_options(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "a.csv.gz", "id|name\n1|NULL\n2|\n")
    with engine.begin() as conn:
        got = results(
            conn,
            "COPY INTO t FROM @s FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 "
            "FIELD_DELIMITER = '|' NULL_IF = ('NULL'))",
        )
        assert rows(conn) == [(1, None), (2, None)]
    assert got[0]["file"] == "a.csv.gz" and got[0]["rows_loaded"] == 2


def test_json_load(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "a.json", '{"id": 1, "name": "a", "extra": true}\n{"name": "b", "id": 2}\n')
    write(folder, "b.json.gz", '{"id": 3}\n')
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s FILE_FORMAT = (TYPE = JSON)")
        assert rows(conn) == [(1, "a"), (2, "b"), (3, None)]
    assert [(r["file"], r["rows_loaded"]) for r in got] == [("a.json", 2), ("b.json.gz", 1)]


def test_parquet_load_counts_rows_per_file(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup("CREATE TABLE t (id BIGINT, name VARCHAR, day DATE)")
    write_parquet(
        folder / "d/1.parquet",
        "SELECT range AS id, 'n' || range AS name, DATE '2024-01-01' + range::INT AS day "
        "FROM range(5)",
    )
    write_parquet(folder / "d/2.parquet", "SELECT 9 AS id, 'z' AS name, DATE '2020-02-02' AS day")
    with engine.begin() as conn:
        got = results(conn, CopyInto(sa.table("t"), Stage("s") / "d/", file_format=Parquet()))
        assert conn.exec_driver_sql("SELECT count(*), sum(id) FROM t").one() == (6, 19)
    assert [(r["file"], r["rows_parsed"], r["rows_loaded"]) for r in got] == [
        ("d/1.parquet", 5, 5),
        ("d/2.parquet", 1, 1),
    ]


def test_stage_file_format_is_the_default(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("CREATE STAGE js FILE_FORMAT = (TYPE = JSON)")
    write(internal(tmp_path, "js"), "a.ndjson", '{"id": 7, "name": "x"}\n')
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @js")
        assert rows(conn) == [(7, "x")]


def test_user_stage_with_put(engine: Any, tmp_path: Path) -> None:
    local = tmp_path / "local" / "people.csv"
    write(local.parent, local.name, "1,a\n2,b\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql(f"PUT file://{local} @~/in/")
        got = results(conn, "COPY INTO t FROM @~/in/")
        assert rows(conn) == [(1, "a"), (2, "b")]
    assert got[0]["file"] == "in/people.csv.gz"
    assert (tmp_path / "stages/stage/user/alice/in/people.csv.gz").exists()


def test_table_stage(engine: Any, tmp_path: Path) -> None:
    md = sa.MetaData()
    t = sa.Table("t", md, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
    md.create_all(engine)
    write(tmp_path / "stages/stage/table/t", "x.csv", "5,e\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @%t")
        conn.execute(CopyInto(t, Stage.table(t), force=True))
        assert rows(conn) == [(5, "e"), (5, "e")]


def test_url_and_local_path(engine: Any, tmp_path: Path) -> None:
    folder = tmp_path / "outside"
    write(folder, "a.csv", "1,a\n")
    write(folder, "b.csv", "2,b\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        got = results(conn, f"COPY INTO t FROM 'file://{folder}/'")
        assert [r["file"] for r in got] == ["a.csv", "b.csv"]
        # The history: the same files, nothing left to load.
        assert results(conn, f"COPY INTO t FROM '{folder}/'") == NOTHING_LOADED
        one = results(conn, f"COPY INTO t FROM '{folder}/b.csv' FORCE = TRUE")
        assert [(r["file"], r["rows_loaded"]) for r in one] == [("b.csv", 1)]
        assert rows(conn) == [(1, "a"), (2, "b"), (2, "b")]


def test_memory_external_stage(engine: Any) -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/loadbucket/ext/a.csv", b"1,a\n2,b\n")
    fs.pipe("/loadbucket/ext/sub/b.csv", b"4,d\n")
    with fs.open("/loadbucket/ext/p.parquet", "wb") as stream:
        stream.write(_parquet_bytes("SELECT 3 AS id, 'c' AS name"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("CREATE STAGE ext URL = 'memory://loadbucket/ext/'")
        got = results(conn, "COPY INTO t FROM @ext PATTERN = '.*[.]csv'")
        assert [(r["file"], r["rows_loaded"]) for r in got] == [("a.csv", 2), ("sub/b.csv", 1)]
        got = results(
            conn,
            "COPY INTO t FROM @ext FILES = ('p.parquet') FILE_FORMAT = (TYPE = PARQUET) "
            "ON_ERROR = CONTINUE",
        )
        assert [(r["file"], r["rows_loaded"]) for r in got] == [("p.parquet", 1)]
        assert rows(conn) == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
        purged = results(conn, "COPY INTO t FROM @ext/sub/ FORCE = TRUE PURGE = TRUE")
        assert [r["file"] for r in purged] == ["sub/b.csv"]
    assert not fs.exists("/loadbucket/ext/sub/b.csv")
    fs.rm("/loadbucket", recursive=True)


def _parquet_bytes(select: str) -> bytes:
    import io

    import pyarrow.parquet as pq

    table = duckdb.sql(select).to_arrow_table()
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_table_created_in_the_same_transaction(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
    _good_and_bad(internal(tmp_path, "s"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE")
        assert [r["rows_loaded"] for r in got] == [2, 3, 1]
        assert len(rows(conn)) == 6


def test_load_with_transformation(engine: Any, setup: Callable[..., Path]) -> None:
    write(setup(), "a.csv", "1,a\n2,b\n")
    with engine.begin() as conn:
        got = results(
            conn, "COPY INTO t (name, id) FROM (SELECT upper($2), $1::number * 10 FROM @s)"
        )
        assert rows(conn) == [(10, "A"), (20, "B")]
    assert (got[0]["status"], got[0]["rows_loaded"]) == ("LOADED", 2)


def test_size_limit_from_the_stage(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("CREATE STAGE s COPY_OPTIONS = (SIZE_LIMIT = 5)")
    folder = internal(tmp_path, "s")
    for name in ("a", "b", "c"):
        write(folder, f"{name}.csv", "1,abcdef\n")
    with engine.begin() as conn:
        assert [r["file"] for r in results(conn, "COPY INTO t FROM @s")] == ["a.csv"]
        assert [r["file"] for r in results(conn, "COPY INTO t FROM @s")] == ["b.csv"]


# Choosing files and columns


def test_pattern_and_files(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "d/a.csv", "1,a\n")
    write(folder, "d/b.csv", "2,b\n")
    write(folder, "d/c.txt", "3,c\n")
    with engine.begin() as conn:
        got = results(conn, "copy into t from @s/d/ pattern='.*[.]csv'")
        assert [r["file"] for r in got] == ["d/a.csv", "d/b.csv"]
        got = results(conn, "COPY INTO t FROM @s/d FILES = ('c.txt', 'a.csv') FORCE = TRUE")
        assert [r["file"] for r in got] == ["d/c.txt", "d/a.csv"]
        assert rows(conn) == [(1, "a"), (1, "a"), (2, "b"), (3, "c")]
    with (
        engine.begin() as conn,
        pytest.raises(
            StageRuntimeError, match=r"FILES 'nope[.]csv' \(key 'd/nope[.]csv'\) not found"
        ),
    ):
        conn.exec_driver_sql("COPY INTO t FROM @s/d/ FILES = ('a.csv', 'nope.csv')")


def test_column_list(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup("CREATE TABLE t (id INTEGER, name VARCHAR, n INTEGER DEFAULT 7)")
    write(folder, "a.csv", "x,1\ny,2\n")
    with engine.begin() as conn:
        conn.execute(CopyInto(sa.table("t"), Stage("s"), columns=["name", "id"]))
        assert rows(conn) == [(1, "x", 7), (2, "y", 7)]
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="no column 'nope'"):
        conn.exec_driver_sql("COPY INTO t (id, nope) FROM @s FORCE = TRUE")


def test_match_by_column_name_parquet(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup("CREATE TABLE t (id INTEGER, name VARCHAR, note VARCHAR DEFAULT 'd')")
    write_parquet(folder / "a.parquet", "SELECT 'a' AS NAME, 1 AS Id, 42 AS unrelated")
    write_parquet(folder / "b.parquet", "SELECT 2 AS id")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO t FROM @s FILE_FORMAT = (TYPE = PARQUET) "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
        )
        assert rows(conn) == [(1, "a", "d"), (2, None, "d")]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO t FROM @s FILES = ('b.parquet') FILE_FORMAT = (TYPE = PARQUET) "
            "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE FORCE = TRUE"
        )
        assert rows(conn) == [(1, "a", "d"), (2, None, "d"), (2, None, "d")]
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="no column"):
        conn.exec_driver_sql(
            "COPY INTO t FROM @s FILES = ('a.parquet') FILE_FORMAT = (TYPE = PARQUET) "
            "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE FORCE = TRUE"
        )


def test_parquet_by_position_checks_the_column_count(
    engine: Any, setup: Callable[..., Path]
) -> None:
    folder = setup()
    write_parquet(folder / "a.parquet", "SELECT 'a' AS x, 1 AS y, 2 AS z")
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="have 3 columns"):
        conn.exec_driver_sql("COPY INTO t FROM @s FILE_FORMAT = (TYPE = PARQUET)")


def test_match_by_column_name_json_and_csv(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "a.json", '{"ID": 1, "Name": "a"}\n{"id": 2, "NAME": "b"}\n')
    write(folder, "h.csv", "junk line\nNAME,other,Id\nc,x,3\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO t FROM @s FILES = ('a.json') FILE_FORMAT = (TYPE = JSON) "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
        )
        conn.exec_driver_sql(
            "COPY INTO t FROM @s FILES = ('h.csv') FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 2) "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
        )
        assert rows(conn) == [(1, "a"), (2, "b"), (3, "c")]
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="SKIP_HEADER = 1"):
        conn.exec_driver_sql(
            "COPY INTO t FROM @s FILES = ('h.csv') MATCH_BY_COLUMN_NAME = CASE_SENSITIVE "
            "FORCE = TRUE"
        )


def test_json_exact_keys_by_default(engine: Any, setup: Callable[..., Path]) -> None:
    write(setup(), "a.json", '{"ID": 1, "name": "a"}\n')
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @s FILE_FORMAT = (TYPE = JSON)")
        assert rows(conn) == [(None, "a")]


# ON_ERROR


def _good_and_bad(folder: Path) -> None:
    write(folder, "a_good.csv", "1,a\n2,b\n")
    write(folder, "b_bad.csv", "3,c\nx,d\n5,e\n6,f\n")
    write(folder, "c_good.csv", "7,g\n")


def test_abort_statement_names_the_file_and_loads_nothing(
    engine: Any, setup: Callable[..., Path]
) -> None:
    _good_and_bad(setup())
    with pytest.raises(StageRuntimeError) as caught, engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @s")
    message = str(caught.value)
    assert "'b_bad.csv', line 2, column 'id'" in message
    assert 'Could not convert string "x"' in message and "nothing was loaded" in message
    assert count(engine) == 0 and history(engine) == 0


def test_abort_statement_is_the_default_of_constructs_too(
    engine: Any, setup: Callable[..., Path]
) -> None:
    _good_and_bad(setup())
    with pytest.raises(StageRuntimeError, match=r"b_bad[.]csv"), engine.begin() as conn:
        conn.execute(CopyInto(sa.table("t"), Stage("s"), on_error="ABORT_STATEMENT"))
    assert count(engine) == 0


def test_continue_loads_the_good_rows(engine: Any, setup: Callable[..., Path]) -> None:
    _good_and_bad(setup())
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE")
        assert [r[0] for r in rows(conn)] == [1, 2, 3, 5, 6, 7]
    bad = got[1]
    assert bad["file"] == "b_bad.csv" and bad["status"] == "PARTIALLY_LOADED"
    assert (bad["rows_parsed"], bad["rows_loaded"], bad["errors_seen"]) == (4, 3, 1)
    assert (bad["first_error_line"], bad["first_error_column_name"]) == (2, "id")
    assert "Could not convert" in bad["first_error"] and bad["error_limit"] == 4
    assert [r["status"] for r in got] == ["LOADED", "PARTIALLY_LOADED", "LOADED"]
    assert history(engine) == 3


def test_skip_file_skips_the_bad_file(engine: Any, setup: Callable[..., Path]) -> None:
    _good_and_bad(setup())
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = SKIP_FILE")
        assert [r[0] for r in rows(conn)] == [1, 2, 7]
    assert [(r["status"], r["rows_loaded"]) for r in got] == [
        ("LOADED", 2),
        ("LOAD_FAILED", 0),
        ("LOADED", 1),
    ]
    assert got[1]["errors_seen"] == 1 and got[1]["error_limit"] == 1
    # the skipped file is not in the history: a later CONTINUE loads it
    with engine.begin() as conn:
        again = results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE")
    assert [(r["file"], r["rows_loaded"]) for r in again] == [("b_bad.csv", 3)]


@pytest.mark.parametrize(
    ("on_error", "status", "limit"),
    [
        ("SKIP_FILE_2", "PARTIALLY_LOADED", 2),
        ("SKIP_FILE_1", "LOAD_FAILED", 1),
        ("'SKIP_FILE_30%'", "PARTIALLY_LOADED", 2),
        ("'SKIP_FILE_10%'", "LOAD_FAILED", 1),
    ],
)
def test_skip_file_limits(
    engine: Any, setup: Callable[..., Path], on_error: str, status: str, limit: int
) -> None:
    _good_and_bad(setup())
    with engine.begin() as conn:
        got = results(conn, f"COPY INTO t FROM @s FILES = ('b_bad.csv') ON_ERROR = {on_error}")
    assert (got[0]["status"], got[0]["error_limit"]) == (status, limit)
    assert count(engine) == (3 if status == "PARTIALLY_LOADED" else 0)


def test_on_error_from_the_stage_copy_options(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("CREATE STAGE s COPY_OPTIONS = (ON_ERROR = SKIP_FILE)")
    _good_and_bad(internal(tmp_path, "s"))
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s")
    assert [r["status"] for r in got] == ["LOADED", "LOAD_FAILED", "LOADED"]


def test_json_errors_with_continue(engine: Any, setup: Callable[..., Path]) -> None:
    write(setup(), "a.json", '{"id": 1}\nnot json\n{"id": "x"}\n[1]\n{"id": 5}\n')
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s FILE_FORMAT = (TYPE = JSON) ON_ERROR = CONTINUE")
        assert rows(conn) == [(1, None), (5, None)]
    assert (got[0]["rows_parsed"], got[0]["rows_loaded"], got[0]["errors_seen"]) == (5, 2, 3)
    assert got[0]["first_error_line"] == 2 and "JSON" in got[0]["first_error"]


@pytest.mark.parametrize(
    ("file_format", "make", "line"),
    [
        ("JSON", lambda f: write(f, "b.json", '{"id": 1}\n{"id": 2\n'), 2),
        ("JSON", lambda f: write(f, "b.json", '{"id": 1}\n{"id": "two"}\n'), 2),
        (
            "PARQUET",
            lambda f: write_parquet(f / "b.parquet", "SELECT * FROM (VALUES ('1'), ('x')) v(id)"),
            2,
        ),
    ],
)
def test_json_and_parquet_errors(
    engine: Any, setup: Callable[..., Path], file_format: str, make: Any, line: int
) -> None:
    folder = setup("CREATE TABLE t (id INTEGER)")
    make(folder)
    fmt = f"FILE_FORMAT = (TYPE = {file_format})"
    with pytest.raises(StageRuntimeError, match=f"line {line}"), engine.begin() as conn:
        conn.exec_driver_sql(f"COPY INTO t FROM @s {fmt}")
    assert count(engine) == 0
    with engine.begin() as conn:
        got = results(conn, f"COPY INTO t FROM @s {fmt} ON_ERROR = CONTINUE")
        assert rows(conn) == [(1,)]
        errors = results(conn, f"COPY INTO t FROM @s {fmt} VALIDATION_MODE = RETURN_ALL_ERRORS")
    assert (got[0]["status"], got[0]["errors_seen"], got[0]["first_error_line"]) == (
        "PARTIALLY_LOADED",
        1,
        line,
    )
    assert [(r["line"], r["row_number"]) for r in errors] == [(line, line)]


def test_not_null_rows_are_errors(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup("CREATE TABLE t (id INTEGER NOT NULL, name VARCHAR)")
    write(folder, "a.csv", "1,a\n,b\n3,c\n")
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE")
        assert rows(conn) == [(1, "a"), (3, "c")]
    assert got[0]["errors_seen"] == 1 and "non-nullable" in got[0]["first_error"]
    with pytest.raises(StageRuntimeError, match="non-nullable"), engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @s FORCE = TRUE")
    with pytest.raises(StageRuntimeError, match="'id' is NOT NULL"), engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t (name) FROM @s FORCE = TRUE")


def test_unreadable_file(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "b.parquet", "this is not parquet\n")  # listed first: no schema from it
    write_parquet(folder / "c.parquet", "SELECT 1 AS id, 'a' AS name")
    parquet = "FILE_FORMAT = (TYPE = PARQUET)"
    with pytest.raises(StageRuntimeError) as caught, engine.begin() as conn:
        conn.exec_driver_sql(f"COPY INTO t FROM @s {parquet}")
    assert "file 'b.parquet'" in str(caught.value) and str(folder) not in str(caught.value)
    assert count(engine) == 0
    with engine.begin() as conn:
        got = results(conn, f"COPY INTO t FROM @s {parquet} ON_ERROR = CONTINUE")
        assert rows(conn) == [(1, "a")]
    assert [(r["file"], r["status"]) for r in got] == [
        ("b.parquet", "LOAD_FAILED"),
        ("c.parquet", "LOADED"),
    ]
    assert "'b.parquet'" in got[0]["first_error"] and got[0]["errors_seen"] == 1


def test_bad_gzip_with_skip_file(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "a.csv", "1,a\n")
    (folder / "b.csv.gz").write_bytes(b"not gzip at all")
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = SKIP_FILE")
        assert rows(conn) == [(1, "a")]
    assert [r["status"] for r in got] == ["LOADED", "LOAD_FAILED"]


# Load history, FORCE, PURGE


def test_history_force_and_reopen(make_engine: Callable[..., Any], tmp_path: Path) -> None:
    engine = make_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("CREATE STAGE s")
    folder = internal(tmp_path, "s")
    write(folder, "a.csv", "1,a\n")
    with engine.begin() as conn:
        assert len(results(conn, "COPY INTO t FROM @s")) == 1
        assert results(conn, "COPY INTO t FROM @s") == NOTHING_LOADED
    engine.dispose()
    reopened = make_engine()
    with reopened.begin() as conn:
        assert results(conn, "COPY INTO t FROM @s") == NOTHING_LOADED
        assert len(results(conn, "COPY INTO t FROM @s FORCE = TRUE")) == 1
    assert count(reopened) == 2
    write(folder, "a.csv", "1,a\n2,b\n")  # changed: loaded again
    with reopened.begin() as conn:
        assert results(conn, "COPY INTO t FROM @s")[0]["rows_loaded"] == 2
    with reopened.begin() as conn:  # history is per table
        conn.exec_driver_sql("CREATE TABLE u (id INTEGER, name VARCHAR)")
        assert len(results(conn, "COPY INTO u FROM @s")) == 1


def test_rolled_back_load_leaves_no_history(engine: Any, setup: Callable[..., Path]) -> None:
    write(setup(), "a.csv", "1,a\n")
    with pytest.raises(RuntimeError, match="changed my mind"), engine.begin() as conn:
        assert len(results(conn, "COPY INTO t FROM @s")) == 1
        raise RuntimeError("changed my mind")
    assert count(engine) == 0 and history(engine) == 0
    with engine.begin() as conn:
        assert len(results(conn, "COPY INTO t FROM @s")) == 1
        assert results(conn, "COPY INTO t FROM @s") == NOTHING_LOADED
    assert count(engine) == 1 and history(engine) == 1


def test_purge_removes_loaded_files(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    _good_and_bad(folder)
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE PURGE = TRUE")
    assert [r["status"] for r in got] == ["LOADED", "PARTIALLY_LOADED", "LOADED"]
    assert sorted(p.name for p in folder.iterdir()) == ["b_bad.csv"]
    with engine.begin() as conn:
        assert conn.exec_driver_sql("LIST @s").all()[0].name == "b_bad.csv"


def test_purge_waits_for_commit(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    _good_and_bad(folder)
    names = sorted(p.name for p in folder.iterdir())
    with engine.connect() as conn:
        results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE PURGE = TRUE")
        assert sorted(p.name for p in folder.iterdir()) == names  # not before COMMIT
        conn.rollback()
    assert sorted(p.name for p in folder.iterdir()) == names  # a rollback keeps them
    assert count(engine) == 0 and history(engine) == 0
    with pytest.raises(ZeroDivisionError), engine.begin() as conn:
        results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE PURGE = TRUE")
        1 / 0  # noqa: B018 - the application fails after the load
    assert sorted(p.name for p in folder.iterdir()) == names
    with engine.connect() as conn:
        got = results(conn, "COPY INTO t FROM @s ON_ERROR = CONTINUE PURGE = TRUE")
        conn.commit()
        assert sorted(p.name for p in folder.iterdir()) == ["b_bad.csv"]
    assert count(engine) == sum(r["rows_loaded"] for r in got) and history(engine) == 3


# VALIDATION_MODE


def test_validation_mode_return_errors(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    _good_and_bad(folder)
    write(folder, "d_bad.csv", "1,a,extra\ny,b\n")
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s VALIDATION_MODE = RETURN_ERRORS")
    assert count(engine) == 0 and history(engine) == 0
    assert [(r["file"], r["line"], r["category"]) for r in got] == [
        ("b_bad.csv", 2, "conversion"),
        ("d_bad.csv", 1, "parsing"),
        ("d_bad.csv", 2, "conversion"),
    ]
    assert got[0]["rejected_record"] == "x,d" and got[0]["column_name"] == "id"


def test_validation_mode_return_all_errors_sees_loaded_files(
    engine: Any, setup: Callable[..., Path]
) -> None:
    _good_and_bad(setup())
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @s ON_ERROR = CONTINUE")
        assert results(conn, "COPY INTO t FROM @s VALIDATION_MODE = RETURN_ERRORS") == []
        got = results(conn, "COPY INTO t FROM @s VALIDATION_MODE = RETURN_ALL_ERRORS")
    assert [r["file"] for r in got] == ["b_bad.csv"]


def test_validation_mode_return_rows(engine: Any, setup: Callable[..., Path]) -> None:
    _good_and_bad(setup())
    with engine.begin() as conn:
        result = conn.exec_driver_sql("COPY INTO t FROM @s VALIDATION_MODE = RETURN_3_ROWS")
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(r) for r in result] == [(1, "a"), (2, "b"), (3, "c")]
    with pytest.raises(StageRuntimeError, match=r"b_bad[.]csv', line 2"), engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO t FROM @s VALIDATION_MODE = RETURN_4_ROWS")
    assert count(engine) == 0


# Spellings and bad input


@pytest.mark.parametrize(
    "statement",
    [
        "copy into t from @s pattern='.*[.]csv'",
        "Copy Into T From @S/ Pattern = '.*[.]csv' File_Format = (Type = 'csv')",
        "COPY INTO main.t FROM @s FILE_FORMAT = (FORMAT_NAME = 'plain') ON_ERROR = 'continue'",
    ],
)
def test_text_in_any_case(engine: Any, setup: Callable[..., Path], statement: str) -> None:
    write(setup(), "a.csv", "1,a\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE FILE FORMAT plain TYPE = CSV")
        assert len(results(conn, statement)) == 1
        assert rows(conn) == [(1, "a")]


def test_construct_with_format(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "p/a.csv", "id,name\n1,a\n")
    md = sa.MetaData()
    t = sa.Table("t", md, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
    with engine.begin() as conn:
        got = conn.execute(CopyInto(t, Stage("s") / "p/", file_format=CSV(skip_header=1))).all()
        assert got[0].file == "p/a.csv" and got[0].status == "LOADED"
        assert rows(conn) == [(1, "a")]
    with pytest.raises(StageRuntimeError, match="'missing' does not exist"), engine.begin() as conn:
        conn.execute(CopyInto(t, Stage("s") / "p/", file_format=FileFormat("missing")))


def test_json_construct(engine: Any, setup: Callable[..., Path]) -> None:
    write(setup(), "a.json", json.dumps({"id": 4, "name": "d"}) + "\n")
    with engine.begin() as conn:
        conn.execute(CopyInto(sa.table("t"), Stage("s"), file_format=JSON()))
        assert rows(conn) == [(4, "d")]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("COPY INTO t FROM @nope", "stage @nope does not exist"),
        ("COPY INTO t FROM @s FILE_FORMAT = (FORMAT_NAME = 'nope')", "'nope' does not exist"),
        ("COPY INTO nope FROM @s", "table nope does not exist"),
        ("COPY INTO t FROM @s PATTERN = '['", "not a regular expression"),
    ],
)
def test_bad_input(engine: Any, setup: Callable[..., Path], statement: str, message: str) -> None:
    write(setup(), "a.csv", "1,a\n")
    with pytest.raises(StageRuntimeError, match=message), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert count(engine) == 0 and history(engine) == 0


def test_no_files_no_rows(engine: Any, setup: Callable[..., Path]) -> None:
    setup()
    with engine.begin() as conn:
        assert results(conn, "COPY INTO t FROM @s") == NOTHING_LOADED


def test_glob_characters_in_names_are_literal(engine: Any, setup: Callable[..., Path]) -> None:
    folder = setup()
    write(folder, "a[1].csv", "1,a\n")
    write(folder, "a1.csv", "2,b\n")
    write(folder, "b*.csv", "3,c\n")
    with engine.begin() as conn:
        got = results(conn, "COPY INTO t FROM @s")
        assert rows(conn) == [(1, "a"), (2, "b"), (3, "c")]
    assert [(r["file"], r["rows_loaded"]) for r in got] == [
        ("a1.csv", 1),
        ("a[1].csv", 1),
        ("b*.csv", 1),
    ]
