"""Warehouse functions inside embedded queries, on the runtime (issue 14).

Under ``stage_dialect=snowflake`` / ``databend`` the calls of the warehouse's functions
in staged-file queries, COPY transformations, unloads and PARTITION BY become DuckDB SQL
(`sqla_stage.runtime.queries.functions`); a body that calls none comes back byte for byte,
and under the default dialect nothing is translated.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from sqla_stage import StageProgrammingError
from sqla_stage.runtime.queries.functions import translate_text

UNCHANGED = [
    'SELECT "MixedCase", lower_case, "to_varchar" FROM t WHERE a = ? AND b = $2',
    "SELECT * FROM read_csv(['/s/a.csv'], columns={'column0': 'VARCHAR'}, header=false) AS x",
    "SELECT 'to_varchar(x, ''YYYY'')' AS s, x::INTEGER, [1, 2][1], {'a': 1}.a FROM t",
    "SELECT list_transform([1, 2], lambda v: v + 1), t.nextval_col FROM t -- to_date(x)",
    "COPY (SELECT 1) TO '/tmp/x.parquet' (FORMAT parquet)",
]


@pytest.mark.parametrize("dialect", [None, "snowflake", "databend", "matrixone"])
@pytest.mark.parametrize("body", UNCHANGED)
def test_a_body_without_warehouse_functions_is_returned_unchanged(
    body: str, dialect: str | None
) -> None:
    assert translate_text(body, dialect) is body


def test_only_the_calls_change() -> None:
    body = 'SELECT "Id",  x::INTEGER , to_varchar(d, \'YYYY-MM\') AS "M" FROM t WHERE y = $1'
    assert translate_text(body, "snowflake") == (
        'SELECT "Id",  x::INTEGER , strftime(__sqla_stage_snowflake_to_varchar_date(d), '
        "'%Y-%m') AS \"M\" FROM t WHERE y = $1"
    )
    assert translate_text(body, None) is body


def test_sqlglot_translates_the_shell_and_keeps_the_arguments() -> None:
    body = 'SELECT iff("A" > ?, nvl(read_x[1], 0), $2) FROM t'
    assert translate_text(body, "snowflake") == (
        'SELECT CASE WHEN ("A" > ?) THEN (COALESCE((read_x[1]), 0)) ELSE ($2) END FROM t'
    )


@pytest.fixture
def stage_engine(
    make_engine: Callable[..., sa.Engine], tmp_path: Path
) -> Callable[[str | None], sa.Engine]:
    """An engine with ``stage_dialect`` and a stage ``s`` holding ``rows.csv``."""

    def make(dialect: str | None) -> sa.Engine:
        data = tmp_path / "rows.csv"
        data.write_text("2022-01-31,snowflake,2.8\n2022-02-15,warehouse,-12.3\n")
        engine = make_engine(database=f"{dialect}.duckdb", stage_dialect=dialect)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE STAGE s FILE_FORMAT = (TYPE = CSV)")
            conn.exec_driver_sql(f"PUT file://{data} @s AUTO_COMPRESS = FALSE")
        return engine

    return make


def _rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.begin() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(sql).all()]


def test_snowflake_conversions_in_a_staged_query(stage_engine: Callable[..., sa.Engine]) -> None:
    engine = stage_engine("snowflake")
    rows = _rows(
        engine,
        "SELECT to_varchar($1::date, 'YYYY-MM'), to_char($1::date),"
        " to_varchar(to_timestamp_ntz($1)), to_binary($2, 'utf-8'),"
        " to_decimal($3, '99.9', 9, 1), to_number($3),"
        " iff($3::number > 0, 'pos', 'neg'), nvl(NULL, $2),"
        " date_part(month, $1::date)"
        " FROM @s/rows.csv ORDER BY 1",
    )
    assert rows == [
        (
            "2022-01",
            "2022-01-31",
            "2022-01-31 00:00:00.000",
            b"snowflake",
            decimal.Decimal("2.8"),
            decimal.Decimal("3"),
            "pos",
            "snowflake",
            1,
        ),
        (
            "2022-02",
            "2022-02-15",
            "2022-02-15 00:00:00.000",
            b"warehouse",
            decimal.Decimal("-12.3"),
            decimal.Decimal("-12"),
            "neg",
            "warehouse",
            2,
        ),
    ]


def test_snowflake_binary_formats_and_number_format_mismatch(
    stage_engine: Callable[..., sa.Engine],
) -> None:
    engine = stage_engine("snowflake")
    sql = "SELECT to_binary('736E6F77'), to_binary('c25vdw==', 'BASE64') FROM @s/rows.csv"
    assert _rows(engine, sql)[0] == (b"snow", b"snow")
    with pytest.raises(sa.exc.DBAPIError, match=r"does not match the format '9\.9'"):
        _rows(engine, "SELECT to_decimal($3, '9.9', 9, 1) FROM @s/rows.csv")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("to_varchar($3, '999.9')", "TO_VARCHAR: format '999.9' is not supported"),
        ("to_binary($2, 'UTF-16')", "TO_BINARY: binary format 'UTF-16'"),
        ("to_decimal($3, '$99')", r"TO_DECIMAL: number format '\$99' is not supported"),
        ("date_part(epoch_second, $1)", "DATE_PART: date part EPOCH_SECOND is not supported"),
        (
            "t.x FROM table(flatten(input => parse_json($1)))",
            "FLATTEN table function is not supported",
        ),
    ],
)
def test_snowflake_forms_the_runtime_does_not_honour_are_refused(
    stage_engine: Callable[..., sa.Engine], call: str, message: str
) -> None:
    engine = stage_engine("snowflake")
    sql = f"SELECT {call}" + ("" if " FROM " in call else " FROM @s/rows.csv")
    if "flatten" in call:
        sql = "SELECT t.x FROM @s/rows.csv t, table(flatten(input => parse_json($1)))"
    with pytest.raises(StageProgrammingError, match=message):
        _rows(engine, sql)


def test_a_sequence_and_a_path_on_parse_json(
    make_engine: Callable[..., sa.Engine], tmp_path: Path
) -> None:
    data = tmp_path / "d.json"
    data.write_text('{"a": {"b": "x1"}}\n{"a": {"b": "x2"}}\n')
    engine = make_engine(stage_dialect="snowflake")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE j FILE_FORMAT = (TYPE = JSON)")
        conn.exec_driver_sql(f"PUT file://{data} @j")
        conn.exec_driver_sql("CREATE SEQUENCE seq1")
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER, b VARCHAR)")
        conn.exec_driver_sql("COPY INTO t FROM (SELECT seq1.nextval, parse_json($1):a.b FROM @j)")
        rows = conn.exec_driver_sql(
            "SELECT parse_json($1):a.b, $1:a.b, parse_json($1):a.b::string FROM @j ORDER BY 3"
        ).all()
        loaded = conn.exec_driver_sql("SELECT * FROM t ORDER BY n").all()
    assert [row[2] for row in rows] == ["x1", "x2"]
    assert all(row[0] == row[1] for row in rows)  # as the runtime's own $1:a.b reads it
    assert [tuple(r) for r in loaded] == [(1, "x1"), (2, "x2")]


def test_under_the_default_dialect_duckdb_names_the_function(
    stage_engine: Callable[..., sa.Engine],
) -> None:
    engine = stage_engine(None)
    with pytest.raises(sa.exc.DBAPIError, match="to_varchar"):
        _rows(engine, "SELECT to_varchar($1, 'YYYY-MM') FROM @s/rows.csv")


def test_databend_dates(stage_engine: Callable[..., sa.Engine]) -> None:
    engine = stage_engine("databend")
    rows = _rows(
        engine,
        "SELECT DATE_ADD(MONTH, 1, $1::date), DATE_ADD('day', 1, '2022-01-01'),"
        " DATE_ADD(HOUR, 2, CAST($1 AS TIMESTAMP)), to_date(1), to_date('2022-01-02'),"
        " to_date('12/25/2022', '%m/%d/%Y'), to_varchar($1::date, 'YYYY-MM'),"
        " to_string($1, '%Y/%m'), typeof(DATE_ADD(DAY, 1, $1::date))"
        " FROM @s/rows.csv ORDER BY 1 LIMIT 1",
    )
    assert rows == [
        (
            dt.date(2022, 2, 28),
            dt.date(2022, 1, 2),
            dt.datetime(2022, 1, 31, 2, 0),
            dt.date(1970, 1, 2),
            dt.date(2022, 1, 2),
            dt.date(2022, 12, 25),
            "2022-01",
            "2022/01",
            "DATE",
        )
    ]
    with pytest.raises(sa.exc.DBAPIError, match="TO_DATE of a string with a time zone"):
        _rows(engine, "SELECT to_date('2022-01-02T01:12:00+07:00') FROM @s/rows.csv")
    with pytest.raises(StageProgrammingError, match="DATE_ADD: unit FORTNIGHT"):
        _rows(engine, "SELECT DATE_ADD(FORTNIGHT, 1, $1) FROM @s/rows.csv")


def test_databend_unload_partitioned_by_a_formatted_date(
    stage_engine: Callable[..., sa.Engine],
) -> None:
    engine = stage_engine("databend")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE sales (d DATE, n INT)")
        conn.exec_driver_sql("INSERT INTO sales VALUES ('2025-01-15', 1), ('2025-02-10', 2)")
        conn.exec_driver_sql(
            "COPY INTO @s/out/ FROM sales PARTITION BY ('m=' || to_varchar(d, 'YYYY-MM'))"
        )
        names = conn.exec_driver_sql("SELECT name FROM list_stage(location => '@s/out/')")
        folders = sorted(name.split("/")[1] for (name,) in names)
    assert folders == ["m=2025-01", "m=2025-02"]
