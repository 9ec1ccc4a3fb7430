"""Where the warehouses answer the same text differently, the runtime follows ``stage_dialect``.

Issue 14's families beyond the result shapes of tests/test_stage_dialect.py: GET's local
layout, VALIDATION_MODE's columns and RETURN_<n>_ROWS, PATTERN's base, the names of a second
unload, brace alternatives in URLs, how strings of stage SQL read backslashes, JSON
documents over several lines, Databend's VARIANT check, and the features refused by name.
Every test runs the real runtime on DuckDB files and local stage folders.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import CopyInto, Stage


def rows(engine: sa.Engine, *statements: str) -> list[tuple[Any, ...]]:
    """Run ``statements`` in one transaction; the rows of the last."""
    with engine.begin() as conn:
        for statement in statements[:-1]:
            conn.exec_driver_sql(statement)
        return [tuple(row) for row in conn.exec_driver_sql(statements[-1])]


def columns(engine: sa.Engine, statement: str) -> list[str]:
    with engine.begin() as conn:
        return list(conn.exec_driver_sql(statement).keys())


@pytest.fixture
def local(tmp_path: Path) -> Path:
    folder = tmp_path / "local"
    folder.mkdir()
    return folder


def test_snowflake_get_writes_file_names_only(
    make_engine: Callable[..., sa.Engine], local: Path, tmp_path: Path
) -> None:
    (local / "a.csv").write_text("1\n")
    engine = make_engine(stage_dialect="snowflake")
    rows(engine, f"PUT file://{local}/a.csv @~/in/deep/", "LIST @~")
    target = tmp_path / "flat"
    got = rows(engine, f"GET @~/in/ file://{target}/")
    assert [row[0] for row in got] == ["a.csv.gz"]
    assert gzip.decompress((target / "a.csv.gz").read_bytes()) == b"1\n"
    kept = tmp_path / "kept"  # the runtime's own answer keeps the path below the folder
    rows(make_engine(), f"GET @~/in/ file://{kept}/")
    assert (kept / "deep" / "a.csv.gz").is_file()


def test_snowflake_get_refuses_two_files_of_one_name_before_writing(
    make_engine: Callable[..., sa.Engine], local: Path, tmp_path: Path
) -> None:
    (local / "a.csv").write_text("1\n")
    engine = make_engine(stage_dialect="snowflake")
    rows(engine, f"PUT file://{local}/a.csv @~/x/", f"PUT file://{local}/a.csv @~/y/", "LIST @~")
    target = tmp_path / "out"
    with pytest.raises(
        sa.exc.ProgrammingError, match=re.escape("several files are named 'a.csv.gz'")
    ):
        rows(engine, f"GET @~ file://{target}/")
    assert not target.exists() or list(target.iterdir()) == []


TWO_BAD_FILES = {
    "data1.csv": "Joe Smith,456111,0\nTom Jones,111111,3400\nAnn Lee,222222,100,5\n",
    "data3.csv": ",555555,30\nCarl Ito,666666\n",
}


def test_return_errors_in_snowflake_columns(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    for name, text in TWO_BAD_FILES.items():
        (local / name).write_text(text)
    setup = [
        "CREATE TABLE mytable (name VARCHAR NOT NULL, id INTEGER, quota INTEGER)",
        f"PUT file://{local}/data*.csv @%mytable",
    ]
    snowflake = make_engine(stage_dialect="snowflake")
    rows(snowflake, *setup, "SELECT 1")
    statement = "COPY INTO mytable VALIDATION_MODE = 'RETURN_ERRORS'"
    assert columns(snowflake, statement) == [
        "ERROR", "FILE", "LINE", "CHARACTER", "BYTE_OFFSET", "CATEGORY", "CODE", "SQL_STATE",
        "COLUMN_NAME", "ROW_NUMBER", "ROW_START_LINE",
    ]  # fmt: skip
    found = rows(snowflake, statement)
    assert sorted((row[1], row[2]) for row in found if row[2] is not None) == [
        ("data1.csv.gz", 3),
        ("data3.csv.gz", 2),
    ]
    assert any("non-nullable" in row[0] and row[1] == "data3.csv.gz" for row in found)
    assert all(row[4] is None and row[6] is None and row[7] is None for row in found)
    own = make_engine(database="own.duckdb")  # the runtime's own columns
    rows(own, *setup, "SELECT 1")
    assert columns(own, statement)[:3] == ["error", "file", "line"]
    assert rows(snowflake, "SELECT count(*) FROM mytable") == [(0,)]  # nothing loaded


def test_return_n_rows_checks_only_the_rows_it_returns(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    (local / "data.csv").write_text("Joe Smith,456111,0\nTom Jones,111111,3400\n,222222,100\n")
    engine = make_engine()
    rows(
        engine,
        "CREATE TABLE mytable (name VARCHAR NOT NULL, id INTEGER, quota INTEGER)",
        f"PUT file://{local}/data.csv @%mytable",
        "SELECT 1",
    )
    assert rows(engine, "COPY INTO mytable VALIDATION_MODE = 'RETURN_2_ROWS'") == [
        ("Joe Smith", 456111, 0),
        ("Tom Jones", 111111, 3400),
    ]
    with pytest.raises(sa.exc.DataError, match=re.escape("file 'data.csv.gz', column 'name'")):
        rows(engine, "COPY INTO mytable VALIDATION_MODE = 'RETURN_3_ROWS'")


def test_unload_return_rows_names_columns_c1_under_snowflake(
    make_engine: Callable[..., sa.Engine],
) -> None:
    statement = "COPY INTO @~/v/ FROM (SELECT 1 AS a, 'x' AS b) VALIDATION_MODE = 'RETURN_ROWS'"
    assert columns(make_engine(stage_dialect="snowflake"), statement) == ["C1", "C2"]
    assert columns(make_engine(database="own.duckdb"), statement) == ["a", "b"]
    assert rows(make_engine(database="own.duckdb"), "LIST @~") == []  # nothing written


def test_databend_pattern_sees_the_path_after_the_location(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    (local / "s.csv").write_text("1\n")
    setup = [
        "CREATE STAGE sales",
        f"PUT file://{local}/s.csv @sales/raw/year=2025/ AUTO_COMPRESS = FALSE",
    ]
    relative = "LIST @sales/raw/ PATTERN = 'year=2025/.*[.]csv'"
    assert len(rows(make_engine(stage_dialect="databend"), *setup, relative)) == 1
    snowflake = make_engine(database="sf.duckdb", stage_root=str(local.parent / "sf"))
    assert rows(snowflake, *setup, relative) == []  # Snowflake: the whole path below the stage
    assert len(rows(snowflake, "LIST @sales/raw/ PATTERN = 'raw/year=2025/.*[.]csv'")) == 1


def test_databend_second_unload_lands_beside_the_first(
    make_engine: Callable[..., sa.Engine],
) -> None:
    engine = make_engine(stage_dialect="databend")
    unload = "COPY INTO @s FROM (SELECT 1 AS a) FILE_FORMAT = (TYPE = CSV)"
    names = [row[0] for row in rows(engine, "CREATE STAGE s", unload, unload, "LIST @s")]
    assert len(names) == 2
    assert all(re.fullmatch(r"data_[0-9a-f-]{36}_0000_00000000\.csv", name) for name in names)
    fixed = "COPY INTO @t FROM (SELECT 1 AS a) FILE_FORMAT = (TYPE = CSV) INCLUDE_QUERY_ID = FALSE"
    rows(engine, "CREATE STAGE t", fixed, "SELECT 1")
    with pytest.raises(sa.exc.ProgrammingError, match="Files already existing"):
        rows(engine, fixed, "SELECT 1")


def test_brace_alternatives_in_a_url_name_their_files(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    for year in (2005, 2006, 2007, 2008):
        (local / f"ontime_{year}.csv").write_text(f"{year}\n")
    engine = make_engine(stage_dialect="databend")
    rows(engine, "CREATE TABLE t (a INT)", "SELECT 1")
    load = f"COPY INTO t FROM 'file://{local}/ontime_200{{6,7,8}}.csv' FILE_FORMAT = (TYPE = CSV)"
    assert sorted(row[0] for row in rows(engine, load)) == [
        f"ontime_{year}.csv" for year in (2006, 2007, 2008)
    ]
    assert rows(engine, "SELECT a FROM t ORDER BY a") == [(2006,), (2007,), (2008,)]
    with pytest.raises(sa.exc.ProgrammingError, match="cannot be combined with PATTERN"):
        rows(engine, load + " PATTERN = '.*'")
    with pytest.raises(sa.exc.ProgrammingError, match="unbalanced or nested braces"):
        rows(engine, f"COPY INTO t FROM 'file://{local}/x{{a,{{b}}}}.csv'")


def test_warehouse_strings_read_backslash_escapes(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    (local / "t.tsv").write_text("1\tone\n2\ttwo\n")
    engine = make_engine(stage_dialect="snowflake")
    got = rows(
        engine,
        "CREATE TABLE t (a INT, b VARCHAR)",
        f"COPY INTO t FROM 'file://{local}/t.tsv' "
        "FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = '\\t' RECORD_DELIMITER = '\\n')",
        "SELECT * FROM t ORDER BY a",
    )
    assert got == [(1, "one"), (2, "two")]
    (local / "e.csv").write_text("3,a\\,b\n")
    escape = "FILE_FORMAT = (TYPE = CSV ESCAPE = '\\\\')"  # the SQL text has two backslashes
    got = rows(engine, f"COPY INTO t FROM 'file://{local}/e.csv' {escape}", "SELECT b FROM t")
    assert ("a,b",) in got  # one backslash: it escapes the comma of the unenclosed field
    stored = "SELECT definition FROM sqla_stage.file_formats"
    create = "CREATE FILE FORMAT f TYPE = CSV ESCAPE = '\\\\'"
    assert "ESCAPE = '\\'" in rows(engine, create, stored)[0][0]  # one backslash
    own = make_engine(database="own.duckdb")  # DuckDB's strings: two characters stay two
    assert "ESCAPE = '\\\\'" in rows(own, create, stored)[0][0]


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("CREATE FILE FORMAT f TYPE = LANCE", "TYPE = LANCE (Lance datasets)"),
        ("COPY INTO @s FROM t USE_RAW_PATH = TRUE", "USE_RAW_PATH"),
        ("COPY INTO t FROM @s SCHEMA_EVOLUTION = (SAMPLE_FILES = AUTO)", "SCHEMA_EVOLUTION"),
        ("COPY INTO t FROM @s LOAD_MODE = ADD_FILES_COPY", "LOAD_MODE (Iceberg tables)"),
        ("ALTER TABLE t SET STAGE_COPY_OPTIONS = (PURGE = TRUE)", "STAGE_COPY_OPTIONS of a table"),
    ],
)
def test_documented_features_refused_by_name(
    make_engine: Callable[..., sa.Engine], statement: str, named: str
) -> None:
    with pytest.raises(sa.exc.ProgrammingError, match="is not supported by sqla_stage") as caught:
        rows(make_engine(), "CREATE TABLE t (a INT)", statement)
    assert named in str(caught.value)


def test_staged_json_documents_over_several_lines(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    (local / "doc.json").write_text('{\n  "a": {"b": 1},\n  "t": [1,\n 2]\n}\n{"a": {"b": 2}}\n')
    (local / "commas.json").write_text('{"a": 1},\n{"a": 2}\n')
    engine = make_engine(stage_dialect="snowflake")
    got = rows(
        engine,
        f"PUT file://{local}/doc.json @~ AUTO_COMPRESS = FALSE",
        "CREATE FILE FORMAT j TYPE = JSON",
        "SELECT $1:a.b::number, METADATA$FILE_ROW_NUMBER FROM @~/doc.json "
        "(FILE_FORMAT => 'j') ORDER BY 2",
    )
    assert got == [(1, 1), (2, 2)]
    with pytest.raises(sa.exc.SQLAlchemyError, match="Malformed JSON"):
        rows(
            engine,
            f"PUT file://{local}/commas.json @~ AUTO_COMPRESS = FALSE",
            "SELECT $1 FROM @~/commas.json (FILE_FORMAT => 'j')",
        )


def test_databend_checks_variant_values_whatever_on_error_says(
    make_engine: Callable[..., sa.Engine], local: Path
) -> None:
    (local / "v.csv").write_text('5|{"k":"v"}\n6|[1,\n')
    setup = [
        "CREATE TABLE t2 (a VARCHAR, b JSON)",
        f"PUT file://{local}/v.csv @~ AUTO_COMPRESS = FALSE",
    ]
    load = "COPY INTO t2 FROM @~/v.csv FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = '|')"
    engine = make_engine(stage_dialect="databend")
    rows(engine, *setup, "SELECT 1")
    with pytest.raises(sa.exc.DataError, match="error parsing JSON for a VARIANT column"):
        rows(engine, load + " ON_ERROR = CONTINUE")
    assert rows(engine, "SELECT count(*) FROM t2") == [(0,)]
    rows(engine, load + " ON_ERROR = CONTINUE DISABLE_VARIANT_CHECK = TRUE")
    assert rows(engine, "SELECT a, b::VARCHAR FROM t2 ORDER BY a") == [
        ("5", '{"k":"v"}'),
        ("6", "null"),
    ]


@pytest.mark.extra("databend_sqlalchemy", "snowflake")
def test_disable_variant_check_is_databend_sql() -> None:
    from databend_sqlalchemy import databend_dialect
    from snowflake.sqlalchemy import snowdialect

    copy = CopyInto(sa.table("t2"), Stage("s"), disable_variant_check=True)
    databend = str(copy.compile(dialect=databend_dialect.DatabendDialect()))
    assert databend.endswith("DISABLE_VARIANT_CHECK = TRUE")
    with pytest.raises(sa.exc.CompileError, match="DISABLE_VARIANT_CHECK"):
        copy.compile(dialect=snowdialect.SnowflakeDialect())
