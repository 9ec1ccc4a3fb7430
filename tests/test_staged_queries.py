"""Queries over staged files with Snowflake's semantics, on the DuckDB runtime.

The examples are those of Snowflake's "Querying data in staged files", "Querying
metadata for staged files" and "Transforming data during a load", with their documented
results; plus the header rule: CSV is never sniffed for a header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import CSV, CopyInto, FileFormat, Parquet, Stage, staged
from sqla_stage.errors import StageRuntimeError

METADATA_QUERY = (
    "SELECT METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, METADATA$FILE_CONTENT_KEY, "
    "METADATA$FILE_LAST_MODIFIED, METADATA$START_SCAN_TIME, t.$1, t.$2 "
    "FROM @mystage1 (file_format => myformat) t"
)


def internal(tmp_path: Path, name: str) -> Path:
    return tmp_path / "stages" / "stage" / "internal" / name


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def mystage1(engine: Any, tmp_path: Path) -> Any:
    """Snowflake's example: data1.csv and data2.csv PUT to @mystage1, format ``myformat``."""
    local = tmp_path / "local"
    write(local / "data1.csv", "a|b\nc|d\n")
    write(local / "data2.csv", "e|f\ng|h\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FILE FORMAT myformat TYPE = 'csv' FIELD_DELIMITER = '|'"
        )
        conn.exec_driver_sql("CREATE OR REPLACE STAGE mystage1")
        conn.exec_driver_sql(f"PUT file://{local}/data*.csv @mystage1")
    return engine


@pytest.fixture
def records(engine: Any, tmp_path: Path) -> Any:
    """Stage ``r`` with one NDJSON file and one Parquet file of the same records."""
    write(
        internal(tmp_path, "r") / "j/data1.json",
        '{"a": {"b": "x1", "c": "y1"}, "arr": [1, 2], "n": "12.6", "Key": 1}\n'
        '{"a": {"b": "x2", "c": "y2"}, "arr": [3], "n": 7, "Key": 2}\n',
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE r")
        conn.exec_driver_sql("CREATE FILE FORMAT my_json_format TYPE = 'json'")
        path = internal(tmp_path, "r") / "p/data1.parquet"
        path.parent.mkdir(parents=True)
        conn.exec_driver_sql(
            "COPY (SELECT {'b': 'x' || i, 'c': 'y' || i} AS a, [i, i + 1] AS arr, i * 1.5 AS n, "
            f"i AS \"Key\" FROM range(1, 3) t(i)) TO '{path}' (FORMAT parquet)"
        )
    return engine


# No silent data loss: CSV is never header-sniffed


def test_one_line_csv_returns_its_row(engine: Any, tmp_path: Path) -> None:
    write(internal(tmp_path, "s") / "p/one.csv", "id,name\n")
    write(internal(tmp_path, "s") / "n/one.csv", "1,ann\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE TABLE t (a VARCHAR, b VARCHAR)")
        assert conn.exec_driver_sql("SELECT $1, $2 FROM @s/p/").all() == [("id", "name")]
        assert conn.exec_driver_sql("SELECT * FROM @s/n/").all() == [("1", "ann")]
        assert conn.exec_driver_sql("SELECT count(*) FROM @s/p/one.csv").scalar() == 1
        conn.exec_driver_sql("COPY INTO t FROM (SELECT $1, $2 FROM @s/p/)")
        assert conn.exec_driver_sql("SELECT * FROM t").all() == [("id", "name")]
        assert Stage("s").read_arrow(conn, "p/").num_rows == 1


@pytest.mark.extra("pandas")
def test_one_line_csv_reads_into_a_dataframe(engine: Any, tmp_path: Path) -> None:
    write(internal(tmp_path, "s") / "n/one.csv", "1,ann\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        assert Stage("s").read(conn, "n/").values.tolist() == [[1, "ann"]]


def test_skip_header_skips_exactly_its_lines(engine: Any, tmp_path: Path) -> None:
    write(internal(tmp_path, "s") / "h.csv", "k,v\nk,v\na,1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE FILE FORMAT one TYPE = CSV SKIP_HEADER = 1")
        conn.exec_driver_sql("CREATE FILE FORMAT two TYPE = CSV SKIP_HEADER = 2")
        # The second line looks like a header too: it is data, SKIP_HEADER = 1 skips one.
        rows = conn.exec_driver_sql("SELECT $1, $2 FROM @s (FILE_FORMAT => one)").all()
        assert rows == [("k", "v"), ("a", "1")]
        named = conn.exec_driver_sql("SELECT k, v FROM @s (FILE_FORMAT => 'two')").all()
        assert named == [("a", "1")]
        table = Stage("s").read_arrow(conn, file_format=CSV(skip_header=1))
        assert table.to_pylist() == [{"k": "k", "v": "v"}, {"k": "a", "v": "1"}]
        conn.exec_driver_sql("CREATE TABLE t (k VARCHAR, v VARCHAR)")
        conn.exec_driver_sql(
            "COPY INTO t FROM (SELECT t.$1, t.$2 FROM @s (FILE_FORMAT => 'one') t)"
        )
        assert conn.exec_driver_sql("SELECT * FROM t").all() == [("k", "v"), ("a", "1")]


# Querying metadata for staged files (Snowflake's examples)


def test_metadata_columns_of_csv_files(mystage1: Any, tmp_path: Path) -> None:
    staged_files = internal(tmp_path, "mystage1")
    before = dt.datetime.now(dt.UTC)
    with mystage1.connect() as conn:
        rows = conn.exec_driver_sql(METADATA_QUERY + " ORDER BY 1, 2").all()
        keys = list(conn.exec_driver_sql(METADATA_QUERY + " LIMIT 1").keys())
    assert [row[:2] + row[5:] for row in rows] == [
        ("data1.csv.gz", 1, "a", "b"),
        ("data1.csv.gz", 2, "c", "d"),
        ("data2.csv.gz", 1, "e", "f"),
        ("data2.csv.gz", 2, "g", "h"),
    ]
    assert keys == [
        "METADATA$FILENAME",
        "METADATA$FILE_ROW_NUMBER",
        "METADATA$FILE_CONTENT_KEY",
        "METADATA$FILE_LAST_MODIFIED",
        "METADATA$START_SCAN_TIME",
        "$1",
        "$2",
    ]
    for name, _, key, modified, scan, *_ in rows:
        local = staged_files / name
        assert key == hashlib.md5(local.read_bytes()).hexdigest()
        assert modified == dt.datetime.fromtimestamp(local.stat().st_mtime, dt.UTC).replace(
            tzinfo=None
        )
        assert before - dt.timedelta(seconds=1) <= scan <= dt.datetime.now(dt.UTC)
    assert len({row[4] for row in rows}) == 1  # one scan time for the statement


def test_without_the_file_format_a_line_is_one_column(mystage1: Any) -> None:
    with mystage1.connect() as conn:
        rows = conn.exec_driver_sql("SELECT t.$1, t.$2 FROM @mystage1 t ORDER BY 1").all()
    assert rows == [("a|b", None), ("c|d", None), ("e|f", None), ("g|h", None)]


def test_metadata_columns_of_json_files(records: Any) -> None:
    with records.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, $1:a "
            "FROM @r/j/data1.json (file_format => 'my_json_format') ORDER BY 2"
        ).all()
    assert rows == [
        ("j/data1.json", 1, {"b": "x1", "c": "y1"}),
        ("j/data1.json", 2, {"b": "x2", "c": "y2"}),
    ]


def test_copy_metadata_into_a_table(mystage1: Any, tmp_path: Path) -> None:
    with mystage1.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE TABLE table1 (filename varchar, file_row_number int, "
            "file_content_key varchar, col1 varchar, col2 varchar)"
        )
        conn.exec_driver_sql(
            "COPY INTO table1(filename, file_row_number, file_content_key, col1, col2) "
            "FROM (SELECT METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, "
            "METADATA$FILE_CONTENT_KEY, t.$1, t.$2 "
            "FROM @mystage1/data1.csv.gz (file_format => myformat) t)"
        )
        rows = conn.exec_driver_sql("SELECT * FROM table1 ORDER BY file_row_number").all()
    digest = hashlib.md5((internal(tmp_path, "mystage1") / "data1.csv.gz").read_bytes())
    assert rows == [
        ("data1.csv.gz", 1, digest.hexdigest(), "a", "b"),
        ("data1.csv.gz", 2, digest.hexdigest(), "c", "d"),
    ]


def test_star_leaves_out_the_metadata_readers_columns(mystage1: Any) -> None:
    with mystage1.connect() as conn:
        result = conn.exec_driver_sql(
            "SELECT *, METADATA$FILE_ROW_NUMBER FROM @mystage1/data2 (file_format => myformat) "
            "ORDER BY 3"
        )
        assert list(result.keys()) == ["column0", "column1", "METADATA$FILE_ROW_NUMBER"]
        assert result.all() == [("e", "f", 1), ("g", "h", 2)]
        qualified = conn.exec_driver_sql(
            "SELECT f.*, METADATA$FILE_ROW_NUMBER AS n FROM @mystage1 (file_format => myformat) "
            "AS f WHERE METADATA$FILENAME = 'data2.csv.gz' ORDER BY n"
        ).all()
        assert qualified == [("e", "f", 1), ("g", "h", 2)]


def test_parquet_row_numbers(records: Any) -> None:
    with records.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT METADATA$FILE_ROW_NUMBER, METADATA$FILENAME, $1:Key "
            "FROM @r/p/ (FILE_FORMAT => 'parquet') ORDER BY 1"
        ).all()
    assert rows == [(1, "p/data1.parquet", 1), (2, "p/data1.parquet", 2)]


# Querying data in staged files: $n, aliases, element paths


@pytest.mark.parametrize(
    "location", ["@r/j/ (FILE_FORMAT => my_json_format)", "@r/p/ (FILE_FORMAT => 'parquet')"]
)
def test_element_paths_on_json_and_parquet(records: Any, location: str) -> None:
    with records.connect() as conn:
        rows = conn.exec_driver_sql(
            'SELECT $1:a.b, t.$1:a.c::string, $1:arr[0], $1:arr[1]::number, t.$1:"Key", '
            f"$1:n::number(10, 1), $1:missing FROM {location} t ORDER BY t.$1:Key::int"
        ).all()
    if "json" in location:
        expected = [
            ("x1", "y1", 1, Decimal(2), 1, Decimal("12.6"), None),
            ("x2", "y2", 3, None, 2, Decimal("7.0"), None),
        ]
    else:
        expected = [
            ("x1", "y1", 1, Decimal(2), 1, Decimal("1.5"), None),
            ("x2", "y2", 2, Decimal(3), 2, Decimal("3.0"), None),
        ]
    assert rows == expected


def test_whole_record_is_dollar_one(records: Any) -> None:
    with records.connect() as conn:
        record = conn.exec_driver_sql(
            "SELECT $1 FROM @r/j/ (FILE_FORMAT => 'my_json_format') WHERE $1:Key = 1"
        ).scalar()
        assert record == {"a": {"b": "x1", "c": "y1"}, "arr": [1, 2], "n": "12.6", "Key": 1}
        with pytest.raises(StageRuntimeError, match=r"one column, \$1, the whole record"):
            conn.exec_driver_sql("SELECT $2 FROM @r/p/ (FILE_FORMAT => 'parquet')")


def test_alias_joins_order_by_limit_and_create_table_as(mystage1: Any) -> None:
    with mystage1.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE names (letter VARCHAR, word VARCHAR)")
        conn.exec_driver_sql("INSERT INTO names VALUES ('a', 'apple'), ('g', 'grape')")
        joined = conn.exec_driver_sql(
            "SELECT n.word, t.$2 FROM names n JOIN @mystage1 (file_format => 'myformat') AS t "
            "ON t.$1 = n.letter ORDER BY n.word DESC LIMIT 1"
        ).all()
        assert joined == [("grape", "h")]
        conn.exec_driver_sql(
            "CREATE TABLE letters AS SELECT $1, $2 FROM @mystage1 (file_format => myformat)"
        )
        created = conn.exec_driver_sql('SELECT "$1", "$2" FROM letters ORDER BY 1').all()
        assert created == [("a", "b"), ("c", "d"), ("e", "f"), ("g", "h")]


def test_snowflake_transformation_examples(engine: Any, tmp_path: Path) -> None:
    write(
        internal(tmp_path, "mystage") / "sales.csv",
        "Lexington,40503,KY,320000,2017-01-15\nBelmont,02478,MA,700000,2017-02-01\n",
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE mystage")
        conn.exec_driver_sql("CREATE FILE FORMAT mycsvformat TYPE = 'CSV' FIELD_DELIMITER = ','")
        conn.exec_driver_sql(
            "CREATE TABLE home_sales (city VARCHAR, zip VARCHAR, sale_date DATE, price NUMERIC)"
        )
        conn.exec_driver_sql(
            "COPY INTO home_sales(city, zip, sale_date, price) "
            "FROM (SELECT SUBSTR(t.$1, 4), t.$2, t.$5, t.$4 "
            "FROM @mystage (file_format => mycsvformat) t)"
        )
        rows = conn.exec_driver_sql("SELECT * FROM home_sales ORDER BY city").all()
    # CSV fields are text: the ZIP code keeps its leading zero.
    assert rows == [
        ("ington", "40503", dt.date(2017, 1, 15), 320000),
        ("mont", "02478", dt.date(2017, 2, 1), 700000),
    ]


def test_positional_and_named_parameters(mystage1: Any) -> None:
    with mystage1.connect() as conn:
        positional = conn.exec_driver_sql(
            "SELECT t.$2 FROM @mystage1 (file_format => myformat) t WHERE t.$1 = $1", ("c",)
        ).all()
        assert positional == [("d",)]
        # SQLAlchemy renders :x as $1 for DuckDB: qualified columns stay columns.
        named = conn.execute(
            sa.text("SELECT t.$2 FROM @mystage1 (file_format => myformat) t WHERE t.$1 = :x"),
            {"x": "e"},
        ).all()
        assert named == [("f",)]


def test_errors_name_the_feature(mystage1: Any, records: Any) -> None:
    with mystage1.connect() as conn:
        with pytest.raises(StageRuntimeError, match="is ambiguous"):
            conn.exec_driver_sql("SELECT $1 FROM @mystage1 a, @mystage1 b")
        with pytest.raises(StageRuntimeError, match="'x' is not the alias"):
            conn.exec_driver_sql("SELECT x.$1 FROM @mystage1 t")
        with pytest.raises(StageRuntimeError, match="metadata columns of staged files are"):
            conn.exec_driver_sql("SELECT METADATA$FILESIZE FROM @mystage1")
        with pytest.raises(StageRuntimeError, match="element path reads"):
            conn.exec_driver_sql("SELECT $1:a FROM @mystage1")
        with pytest.raises(StageRuntimeError, match="numbered from"):
            conn.exec_driver_sql("SELECT $0 FROM @mystage1")


# The staged() construct


def test_staged_columns_render_qualified_in_a_join(engine: Any, tmp_path: Path) -> None:
    folder = internal(tmp_path, "s") / "p"
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        folder.mkdir(parents=True)
        conn.exec_driver_sql(
            "COPY (SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) v(id, name)) "
            f"TO '{folder / 'a.parquet'}' (FORMAT parquet)"
        )
        conn.exec_driver_sql("CREATE TABLE people (pid INTEGER, name VARCHAR)")
        conn.exec_driver_sql("INSERT INTO people VALUES (10, 'ann'), (20, 'cid')")
        files = staged(Stage("s") / "p/", file_format=Parquet(), columns=["id", "name"])
        people = sa.table("people", sa.column("pid"), sa.column("name"))
        query = sa.select(files.c.id, people.c.pid).join_from(
            people, files, files.c.name == people.c.name
        )
        assert "anon_1.name = people.name" in str(query.compile(conn))
        assert conn.execute(query).all() == [(1, 10)]
        named = staged(Stage("s") / "p/", file_format=Parquet(), alias="f")
        dollar = sa.select(sa.literal_column("f.$1:name")).select_from(named)
        assert conn.execute(dollar).scalars().all() == ["ann", "bob"]


def test_staged_construct_in_a_transformation(mystage1: Any) -> None:
    raw = staged(Stage("mystage1"), file_format=FileFormat("myformat"), alias="t")
    target = sa.table("pairs", sa.column("a"), sa.column("b"))
    query = sa.select(sa.literal_column("t.$2"), sa.literal_column("t.$1")).select_from(raw)
    with mystage1.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE pairs (a VARCHAR, b VARCHAR)")
        conn.execute(CopyInto(target, query))
        rows = conn.exec_driver_sql("SELECT * FROM pairs ORDER BY 1").all()
    assert rows == [("b", "a"), ("d", "c"), ("f", "e"), ("h", "g")]
