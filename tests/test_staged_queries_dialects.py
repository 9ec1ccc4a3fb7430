"""Staged queries where Databend and MatrixOne differ from Snowflake, on the runtime.

Databend numbers a file's rows from 0 (``METADATA$FILE_ROW_NUMBER``), has the table
function ``numbers(N)`` and names NDJSON files ``.ndjson``; MatrixOne lists a stage with
``stage_list('stage://name/path')``. Snowflake's semantics stay the default.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import JSON
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.queries.rewrite import databend_numbers
from sqla_stage.runtime.queries.sources import embedded_query
from sqla_stage.runtime.unload.formats import writer_for


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def staged_rows(make_engine: Callable[..., Any], sql: str, **settings: Any) -> list[Any]:
    """Stage ``s`` with a CSV file and a Parquet file of two rows, then run ``sql``."""
    engine = make_engine(database=f"db_{settings.get('stage_dialect')}.duckdb", **settings)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE OR REPLACE STAGE s")
        conn.exec_driver_sql(
            "COPY INTO @s/p/ FROM (SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, name)) "
            "FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE OVERWRITE = TRUE"
        )
        conn.exec_driver_sql(
            "COPY INTO @s/c/ FROM (SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, name)) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) OVERWRITE = TRUE"
        )
        return [tuple(row) for row in conn.exec_driver_sql(sql)]


ROW_NUMBERS = [
    # Parquet: DuckDB's file_row_number; CSV: each file read WITH ORDINALITY.
    "SELECT METADATA$FILE_ROW_NUMBER, t.id FROM @s/p/ (FILE_FORMAT => 'PARQUET') t ORDER BY 2",
    "SELECT METADATA$FILE_ROW_NUMBER, $1 FROM @s/c/ (FILE_FORMAT => 'CSV') ORDER BY 2",
    # A file column named "filename" makes even the Parquet read wrapped.
    "SELECT METADATA$FILE_ROW_NUMBER, f.id FROM (SELECT 1) x, "
    "@s/p/ (FILE_FORMAT => 'PARQUET') f ORDER BY 2",
]


@pytest.mark.parametrize("sql", ROW_NUMBERS)
@pytest.mark.parametrize(("dialect", "first"), [(None, 1), ("snowflake", 1), ("databend", 0)])
def test_file_row_number_counts_from_the_warehouses_first_row(
    make_engine: Callable[..., Any], sql: str, dialect: str | None, first: int
) -> None:
    rows = staged_rows(make_engine, sql, stage_dialect=dialect)
    assert [row[0] for row in rows] == [first, first + 1]
    assert [str(row[1]) for row in rows] == ["1", "2"]


@pytest.mark.parametrize("dialect", [None, "databend"])
def test_wrapped_reads_count_rows_the_same_way(
    make_engine: Callable[..., Any], tmp_path: Path, dialect: str | None
) -> None:
    """A CSV whose columns hide DuckDB's virtual ones: the wrapped read's ordinality."""
    engine = make_engine(stage_dialect=dialect)
    folder = tmp_path / "stages" / "stage" / "internal" / "w"
    write(folder / "a.csv", "x,filename\ny,z\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE w")
        rows = conn.exec_driver_sql(
            "SELECT METADATA$FILE_ROW_NUMBER, $2 FROM @w (FILE_FORMAT => 'CSV') ORDER BY 1"
        ).all()
    first = 0 if dialect == "databend" else 1
    assert [tuple(row) for row in rows] == [(first, "filename"), (first + 1, "z")]


def test_databend_numbers_in_a_query_that_reads_a_stage(
    make_engine: Callable[..., Any],
) -> None:
    rows = staged_rows(
        make_engine,
        "SELECT t.name, number, numbers.number + 10, typeof(number) FROM @s/p/ t, numbers(2) "
        "ORDER BY 1, 2",
        stage_dialect="databend",
    )
    assert rows == [
        ("a", 0, 10, "UBIGINT"),
        ("a", 1, 11, "UBIGINT"),
        ("b", 0, 10, "UBIGINT"),
        ("b", 1, 11, "UBIGINT"),
    ]


def test_numbers_is_databends_only(make_engine: Callable[..., Any]) -> None:
    """Under Snowflake's semantics the text reaches DuckDB as written (it has no numbers)."""
    with pytest.raises(sa.exc.DBAPIError, match="numbers"):
        staged_rows(
            make_engine,
            "SELECT t.id FROM @s/p/ (FILE_FORMAT => 'PARQUET') t, numbers(2)",
            stage_dialect=None,
        )


def test_numbers_in_a_load_transformation(make_engine: Callable[..., Any]) -> None:
    staged_rows(make_engine, "SELECT 1", stage_dialect="databend")
    engine = make_engine(database="db_databend.duckdb", stage_dialect="databend")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE pairs (name VARCHAR, n BIGINT)")
        conn.exec_driver_sql(
            "COPY INTO pairs FROM (SELECT t.name, n.number FROM @s/p/ t JOIN numbers(3) AS n "
            "ON n.number < t.id) FILE_FORMAT = (TYPE = PARQUET)"
        )
        rows = conn.exec_driver_sql("SELECT * FROM pairs ORDER BY 1, 2").all()
    assert [tuple(row) for row in rows] == [("a", 0), ("b", 0), ("b", 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "SELECT number FROM numbers(3)",
            "SELECT number FROM (SELECT range::UBIGINT AS number FROM range(3)) AS numbers",
        ),
        (
            "SELECT n.number FROM numbers(3) AS n",
            "SELECT n.number FROM (SELECT range::UBIGINT AS number FROM range(3)) AS n",
        ),
        (
            "SELECT * FROM t JOIN numbers(2) n ON true WHERE numbers(1) = 1",
            "SELECT * FROM t JOIN (SELECT range::UBIGINT AS number FROM range(2)) n ON true "
            "WHERE numbers(1) = 1",
        ),
        ("SELECT numbers(3)", "SELECT numbers(3)"),  # not a FROM item: left alone
        ("SELECT 'numbers(3)' FROM t", "SELECT 'numbers(3)' FROM t"),
    ],
)
def test_databend_numbers_rewrites_only_the_table_function(text: str, expected: str) -> None:
    assert databend_numbers(text) == expected


@pytest.mark.parametrize("text", ["SELECT * FROM numbers(x)", "SELECT * FROM numbers(1, 2)"])
def test_numbers_takes_one_whole_number(text: str) -> None:
    with pytest.raises(StageProgrammingError, match=r"numbers\(\.\.\.\): Databend's"):
        databend_numbers(text)


def test_embedded_queries_use_databend_numbers_only_under_databend() -> None:
    query = sa.text("SELECT 'T' || CAST(number AS VARCHAR) AS title FROM numbers(2)")
    databend = embedded_query(None, query, "COPY", stage_dialect="databend")
    assert "range(2)" in databend.sql and "numbers(" not in databend.sql
    assert "FROM numbers(2)" in embedded_query(None, query, "COPY").sql


@pytest.mark.parametrize(
    ("dialect", "extension"),
    # Databend's default COMPRESSION is NONE; Snowflake's is AUTO (gzip).
    [(None, ".json.gz"), ("snowflake", ".json.gz"), ("databend", ".ndjson")],
)
def test_json_files_are_named_as_the_warehouse_names_them(
    dialect: str | None, extension: str
) -> None:
    assert writer_for(JSON(), False, stage_dialect=dialect).extension == extension
    assert writer_for(JSON(compression="NONE"), False, stage_dialect=dialect).extension == (
        extension.removesuffix(".gz")
    )
    gzipped = writer_for(JSON(compression="GZIP"), False, stage_dialect=dialect).extension
    assert gzipped == extension.removesuffix(".gz") + ".gz"
    # FILE_EXTENSION still replaces the default.
    given = writer_for(JSON(file_extension="txt"), False, stage_dialect=dialect)
    assert given.extension == ".txt"


@pytest.fixture
def case_folder(tmp_path: Path) -> Path:
    """MatrixOne's stage_list page: the files and folders of /Users/admin/case."""
    folder = tmp_path / "case"
    for name in ("student.csv", "t1.csv", "t2.txt", "user.txt", "customer/c.tbl", "t3/t3.csv"):
        write(folder / name, "x\n")
    return folder


STAGE_LISTS = [
    ("stage://stage_test", ["customer", "student.csv", "t1.csv", "t2.txt", "t3", "user.txt"]),
    ("stage://stage_test/", ["customer", "student.csv", "t1.csv", "t2.txt", "t3", "user.txt"]),
    ("stage://stage_test/t*", ["t1.csv", "t2.txt"]),
    ("stage://stage_test/*.csv", ["student.csv", "t1.csv"]),
    ("stage://stage_test/customer", []),
    ("stage://stage_test/customer/", ["customer/c.tbl"]),
    ("stage://stage_test/t3/*", ["t3/t3.csv"]),
    ("stage://stage_test/user.txt", ["user.txt"]),
    ("stage://stage_test/t.", []),
    ("stage://sub", ["customer", "student.csv", "t1.csv", "t2.txt", "t3", "user.txt"]),
    ("stage://sub/t3/", ["t3/t3.csv"]),
]


@pytest.mark.parametrize(("url", "names"), STAGE_LISTS)
@pytest.mark.parametrize("dialect", [None, "matrixone"])
def test_stage_list_lists_a_folder_as_matrixone_does(
    make_engine: Callable[..., Any],
    case_folder: Path,
    url: str,
    names: list[str],
    dialect: str | None,
) -> None:
    engine = make_engine(stage_dialect=dialect)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE stage_test URL = 'file://{case_folder}'")
        conn.exec_driver_sql("CREATE STAGE sub URL = 'stage://stage_test'")
        # (the '@' comparison routes plain text to the runtime's query rewriting)
        result = conn.exec_driver_sql(
            f"SELECT * FROM stage_list('{url}') AS f WHERE f.file <> '@' ORDER BY 1"
        )
        assert list(result.keys()) == ["file"]
        files = [row[0] for row in result]
    assert files == [str(case_folder / name) for name in names]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("stage://stage_test/t*/x.csv", "'\\*' matches file names only"),
        ("stage://nostage/", "nostage"),
    ],
)
def test_stage_list_refusals(
    make_engine: Callable[..., Any], case_folder: Path, url: str, error: str
) -> None:
    engine = make_engine(stage_dialect="matrixone")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE stage_test URL = 'file://{case_folder}'")
    with pytest.raises(sa.exc.DBAPIError, match=error), engine.begin() as conn:
        conn.exec_driver_sql(f"SELECT * FROM stage_list('{url}') WHERE '@' = '@'")


def test_stage_list_takes_one_url(make_engine: Callable[..., Any], case_folder: Path) -> None:
    engine = make_engine(stage_dialect="matrixone")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE stage_test URL = 'file://{case_folder}'")
    refused = pytest.raises(sa.exc.DBAPIError, match="expected one 'stage://name/path'")
    with refused, engine.begin() as conn:
        conn.exec_driver_sql("SELECT * FROM stage_list('stage://stage_test', 2) WHERE '@' = '@'")
