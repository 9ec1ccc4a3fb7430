r"""Loading back what an unload wrote, with the same FILE_FORMAT (issue 16).

COPY INTO <table> applies the CSV options the unload wrote with: TIME_FORMAT (12-hour
clock, AM/PM), BINARY_FORMAT (HEX by default, BASE64, UTF8), an enclosed empty string
(``""`` is '' and ``,,`` NULL), and NULL_IF = ('\\N') read as Snowflake SQL. JSON with
PARTITION BY writes one folder a value, or is refused when the expression does not bind.
Every check is on the real runtime: file bytes, rows, error messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from snowflake.sqlalchemy import snowdialect

import sqla_stage
from sqla_stage import CSV, CopyInto

SNOWFLAKE = snowdialect.SnowflakeDialect()
Run = Callable[..., list[Any]]


@pytest.fixture
def run(make_engine: Callable[..., Any]) -> Run:
    """Statements as text, on an engine that reads them as Snowflake SQL."""
    engine = make_engine(stage_dialect="snowflake")

    def execute(*statements: str) -> list[Any]:
        rows: list[Any] = []
        with engine.begin() as conn:
            for statement in statements:
                result = conn.exec_driver_sql(statement)
                rows = list(result.fetchall()) if result.returns_rows else []
        return rows

    return execute


def folder(tmp_path: Path, path: str) -> Path:
    """A folder of the internal stage ``s``."""
    return tmp_path / "stages" / "stage" / "internal" / "s" / path


def put(tmp_path: Path, path: str, text: str) -> None:
    """A file on the stage ``s``, bytes as given (a file another system wrote)."""
    target = folder(tmp_path, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode())


def only_file(tmp_path: Path, path: str) -> str:
    [written] = [p for p in folder(tmp_path, path).rglob("*") if p.is_file()]
    return written.read_text("utf-8")


# -- TIME_FORMAT ---------------------------------------------------------------------------


def test_twelve_hour_time_format_round_trips(run: Run, tmp_path: Path) -> None:
    run(
        "CREATE STAGE s",
        "CREATE TABLE src (id INTEGER, tm TIME, d DATE, ts TIMESTAMP)",
        "INSERT INTO src VALUES (1, TIME '23:59:58', DATE '2024-02-29', "
        "TIMESTAMP '2024-02-29 13:05:06.789'), (2, TIME '00:00:00.5', DATE '0001-01-01', "
        "TIMESTAMP '2000-01-01 00:00:00'), (3, TIME '12:00:00', NULL, NULL)",
    )
    fmt = (
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE TIME_FORMAT = 'HH12.MI.SS.FF3 AM' "
        "DATE_FORMAT = 'DD-MON-YYYY' TIMESTAMP_FORMAT = 'MM/DD/YYYY HH12:MI:SS.FF3 PM')"
    )
    run(f"COPY INTO @s/t/ FROM (SELECT * FROM src ORDER BY id) {fmt} SINGLE = TRUE")
    assert only_file(tmp_path, "t").splitlines() == [
        "1,11.59.58.000 PM,29-Feb-2024,02/29/2024 01:05:06.789 PM",
        "2,12.00.00.500 AM,01-Jan-0001,01/01/2000 12:00:00.000 AM",
        "3,12.00.00.000 PM,\\N,\\N",
    ]
    run("CREATE TABLE back (id INTEGER, tm TIME, d DATE, ts TIMESTAMP)")
    run(f"COPY INTO back FROM @s/t/ {fmt}")
    assert run("SELECT * FROM back ORDER BY id") == [
        (1, dt.time(23, 59, 58), dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 13, 5, 6, 789000)),
        (2, dt.time(0, 0, 0, 500000), dt.date(1, 1, 1), dt.datetime(2000, 1, 1)),
        (3, dt.time(12), None, None),
    ]


def test_a_time_not_in_the_format_is_an_error_naming_the_column(run: Run, tmp_path: Path) -> None:
    run("CREATE STAGE s", "CREATE TABLE back (id INTEGER, tm TIME)")
    put(tmp_path, "bad/a.csv", "1,11.59.58.000 PM\n2,23:59:58\n")
    fmt = "FILE_FORMAT = (TYPE = CSV TIME_FORMAT = 'HH12.MI.SS.FF3 AM')"
    with pytest.raises(sa.exc.SQLAlchemyError, match=r"column 'tm'.*23:59:58.*nothing was loaded"):
        run(f"COPY INTO back FROM @s/bad/ {fmt}")
    assert run("SELECT count(*) FROM back") == [(0,)]
    [result] = run(f"COPY INTO back FROM @s/bad/ {fmt} ON_ERROR = CONTINUE")
    assert result[1:4] == ("PARTIALLY_LOADED", 2, 1)
    assert run("SELECT * FROM back") == [(1, dt.time(23, 59, 58))]


def test_ff_is_nanoseconds_and_other_precisions_are_refused(run: Run, tmp_path: Path) -> None:
    run(
        "CREATE STAGE s",
        "CREATE TABLE src (id INTEGER, ts TIMESTAMP)",
        "INSERT INTO src VALUES (1, TIMESTAMP '2024-01-01 01:02:03.123456')",
    )
    fmt = (
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE "
        "TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF')"
    )
    run(f"COPY INTO @s/f/ FROM src {fmt} SINGLE = TRUE")
    assert only_file(tmp_path, "f") == "1,2024-01-01 01:02:03.123456000\n"  # FF is FF9
    run("CREATE TABLE back (id INTEGER, ts TIMESTAMP)", f"COPY INTO back FROM @s/f/ {fmt}")
    assert run("SELECT ts FROM back") == [(dt.datetime(2024, 1, 1, 1, 2, 3, 123456),)]
    odd = "FILE_FORMAT = (TYPE = CSV TIME_FORMAT = 'HH24:MI:SS.FF2')"
    with pytest.raises(sa.exc.SQLAlchemyError, match="FF2 is not supported"):
        run(f"COPY INTO @s/odd/ FROM src {odd}")
    assert not folder(tmp_path, "odd").exists()
    run("CREATE TABLE times (id INTEGER, tm TIME)")
    put(tmp_path, "t2/a.csv", "1,01:02:03.12\n")
    with pytest.raises(sa.exc.SQLAlchemyError, match="FF2 is not supported"):
        run(f"COPY INTO times FROM @s/t2/ {odd}")


# -- BINARY_FORMAT -------------------------------------------------------------------------

BYTES = [b"\x00\x01\xfe\xff", b"x", b"\\N", b"", None]


@pytest.mark.parametrize(
    ("binary_format", "spelled"),
    [
        ("HEX", ["0001FEFF", "78", "5C4E", "", "\\N"]),
        ("BASE64", ["AAH+/w==", "eA==", "XE4=", "", "\\N"]),
    ],
)
def test_binary_format_round_trips(
    run: Run, tmp_path: Path, binary_format: str, spelled: list[str]
) -> None:
    items = ", ".join(
        f"({i}, NULL)" if v is None else f"({i}, unhex('{v.hex()}'))" for i, v in enumerate(BYTES)
    )
    run(
        "CREATE STAGE s", "CREATE TABLE src (id INTEGER, b BLOB)", f"INSERT INTO src VALUES {items}"
    )
    fmt = f"FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE BINARY_FORMAT = {binary_format})"
    run(f"COPY INTO @s/b/ FROM (SELECT * FROM src ORDER BY id) {fmt} SINGLE = TRUE")
    assert only_file(tmp_path, "b").splitlines() == [
        f"{i},{text}" for i, text in enumerate(spelled)
    ]
    run("CREATE TABLE back (id INTEGER, b BLOB)", f"COPY INTO back FROM @s/b/ {fmt}")
    # The empty value is an empty unenclosed field: it loads as NULL (EMPTY_FIELD_AS_NULL).
    assert [row[0] for row in run("SELECT b FROM back ORDER BY id")] == [*BYTES[:3], None, None]


def test_binary_formats_decode_what_other_systems_wrote(run: Run, tmp_path: Path) -> None:
    run("CREATE STAGE s", "CREATE TABLE back (id INTEGER, b BLOB)")
    put(tmp_path, "hex/a.csv", "1,DEADbeef\n2,\\N\n")
    run("COPY INTO back FROM @s/hex/ FILE_FORMAT = (TYPE = CSV)")  # HEX is the default
    put(tmp_path, "b64/a.csv", "3,3q2+7w==\n")
    run("COPY INTO back FROM @s/b64/ FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = BASE64)")
    put(tmp_path, "utf8/a.csv", "4,h\u00e9\\x00\n")
    run("COPY INTO back FROM @s/utf8/ FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = UTF8)")
    assert run("SELECT * FROM back ORDER BY id") == [
        (1, b"\xde\xad\xbe\xef"),
        (2, None),
        (3, b"\xde\xad\xbe\xef"),
        (4, "h\u00e9\\x00".encode()),
    ]


@pytest.mark.parametrize(
    ("binary_format", "text"),
    [("HEX", "zz"), ("HEX", "ABC"), ("BASE64", "!!")],
)
def test_a_value_not_in_the_binary_format_is_an_error(
    run: Run, tmp_path: Path, binary_format: str, text: str
) -> None:
    run("CREATE STAGE s", "CREATE TABLE back (id INTEGER, b BLOB)")
    good = {"HEX": "78", "BASE64": "eA=="}[binary_format]
    put(tmp_path, "bad/a.csv", f"1,{good}\n2,{text}\n")
    fmt = f"FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = {binary_format})"
    with pytest.raises(sa.exc.SQLAlchemyError, match=f"column 'b'.*'{text}' to BLOB"):
        run(f"COPY INTO back FROM @s/bad/ {fmt}")
    assert run("SELECT count(*) FROM back") == [(0,)]
    [result] = run(f"COPY INTO back FROM @s/bad/ {fmt} ON_ERROR = CONTINUE")
    assert result[1:4] == ("PARTIALLY_LOADED", 2, 1)
    assert run("SELECT * FROM back") == [(1, b"x")]


def test_a_staged_query_returns_the_binary_text(run: Run, tmp_path: Path) -> None:
    # As Snowflake's $1 of a CSV file, a staged query's field is the text in the file.
    run("CREATE STAGE s")
    put(tmp_path, "q/a.csv", "1,DEADBEEF\n")
    fmt = "(FILE_FORMAT => 'f')"
    run("CREATE FILE FORMAT f TYPE = CSV BINARY_FORMAT = HEX")
    assert run(f"SELECT $2 FROM @s/q/ {fmt}") == [("DEADBEEF",)]


def test_a_transformation_decodes_binary_text_only_when_told(run: Run, tmp_path: Path) -> None:
    run("CREATE STAGE s", "CREATE TABLE back (id INTEGER, b BLOB)")
    put(tmp_path, "x/a.csv", "1,3q2+7w==\n")
    query = "(SELECT $1::INTEGER, {} FROM @s/x/) FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = BASE64)"
    with pytest.raises(sa.exc.SQLAlchemyError, match=r"'b' is BINARY.*TO_BINARY"):
        run("COPY INTO back FROM " + query.format("$2"))
    assert run("SELECT count(*) FROM back") == [(0,)]
    run("COPY INTO back FROM " + query.format("TO_BINARY($2, 'BASE64')"))
    assert run("SELECT * FROM back") == [(1, b"\xde\xad\xbe\xef")]


# -- FIELD_OPTIONALLY_ENCLOSED_BY: '' and NULL ------------------------------------------------


def test_an_enclosed_empty_string_loads_as_empty(run: Run, tmp_path: Path) -> None:
    run("CREATE STAGE s", "CREATE TABLE back (id INTEGER, s VARCHAR, b BLOB, n INTEGER)")
    put(
        tmp_path,
        "e/a.csv",
        '1,"",,\n2,,"",\n3,"\\N",\\N,\\N\n4,\\N,"78",7\n5,"NULL",,\n',
    )
    fmt = "TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"'"
    run(f"COPY INTO back FROM @s/e/ FILE_FORMAT = ({fmt})")
    assert run("SELECT * FROM back ORDER BY id") == [
        (1, "", None, None),
        (2, None, b"", None),
        (3, None, None, None),  # NULL_IF applies to an enclosed field too
        (4, None, b"x", 7),
        (5, "NULL", None, None),
    ]
    run("DELETE FROM back")
    nulls = "NULL_IF = ('\\\\N', '')"  # '' among them: an enclosed empty string is NULL too
    run(f"COPY INTO back FROM @s/e/ FILE_FORMAT = ({fmt} {nulls}) FORCE = TRUE")
    assert run("SELECT id, s FROM back ORDER BY id") == [
        (1, None),
        (2, None),
        (3, None),
        (4, None),
        (5, "NULL"),
    ]


def test_enclosed_unload_loads_back_empty_and_null(run: Run, tmp_path: Path) -> None:
    run(
        "CREATE STAGE s",
        "CREATE TABLE src (id INTEGER, s VARCHAR)",
        "INSERT INTO src VALUES (1, ''), (2, NULL), (3, 'a,b'), (4, '\\N')",
    )
    fmt = "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '\"')"
    run(f"COPY INTO @s/r/ FROM (SELECT * FROM src ORDER BY id) {fmt} SINGLE = TRUE")
    assert only_file(tmp_path, "r").splitlines() == ['1,""', "2,\\N", '3,"a,b"', '4,"\\N"']
    run("CREATE TABLE back (id INTEGER, s VARCHAR)", f"COPY INTO back FROM @s/r/ {fmt}")
    # A text '\N' is written enclosed, and NULL_IF then reads it as NULL (as Snowflake).
    assert run("SELECT * FROM back ORDER BY id") == [(1, ""), (2, None), (3, "a,b"), (4, None)]


# -- NULL_IF = ('\\N') as Snowflake SQL --------------------------------------------------------


def test_null_if_backslash_n_is_one_backslash_in_snowflake_sql(run: Run, tmp_path: Path) -> None:
    text = "COPY INTO @s/n/ FROM t FILE_FORMAT = (TYPE = CSV NULL_IF = ('\\\\N'))"
    assert sqla_stage.parse(text, SNOWFLAKE).file_format == CSV(null_if=("\\N",))
    assert sqla_stage.parse(text, backslash_escapes=True).file_format == CSV(null_if=("\\N",))
    # Without a dialect the text is standard SQL: the two backslashes are kept.
    assert sqla_stage.parse(text).file_format == CSV(null_if=("\\\\N",))
    built = CopyInto("@s/n/", sa.table("t"), file_format=CSV(null_if=["\\N"]))
    rendered = str(built.compile(dialect=SNOWFLAKE))
    assert "NULL_IF = ('\\\\N')" in rendered
    assert sqla_stage.parse(rendered, SNOWFLAKE).file_format == built.file_format
    run(
        "CREATE STAGE s",
        "CREATE TABLE t (id INTEGER, s VARCHAR)",
        "INSERT INTO t VALUES (1, NULL), (2, 'x')",
    )
    fmt = "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE NULL_IF = ('\\\\N'))"
    run(f"COPY INTO @s/n/ FROM (SELECT * FROM t ORDER BY id) {fmt} SINGLE = TRUE")
    assert only_file(tmp_path, "n") == "1,\\N\n2,x\n"
    run("CREATE TABLE back (id INTEGER, s VARCHAR)", f"COPY INTO back FROM @s/n/ {fmt}")
    assert run("SELECT * FROM back ORDER BY id") == [(1, None), (2, "x")]


# -- JSON with PARTITION BY ----------------------------------------------------------------


def test_json_partition_by_writes_a_folder_a_value(run: Run, tmp_path: Path) -> None:
    run(
        "CREATE STAGE s",
        "CREATE TABLE j AS SELECT {'id': 1, 'd': DATE '2024-01-02'} AS v UNION ALL "
        "SELECT {'id': 2, 'd': DATE '2023-05-06'} UNION ALL SELECT {'id': 3, 'd': NULL}",
    )
    run(
        "COPY INTO @s/p/ FROM j PARTITION BY ('y' || YEAR(v.d)) "
        "FILE_FORMAT = (TYPE = JSON COMPRESSION = NONE)"
    )
    written = {
        path.relative_to(folder(tmp_path, "p")).parent.as_posix(): path.read_text()
        for path in folder(tmp_path, "p").rglob("*.json")
    }
    assert written == {
        "y2024": '{"id":1,"d":"2024-01-02"}\n',
        "y2023": '{"id":2,"d":"2023-05-06"}\n',
        "_NULL_": '{"id":3,"d":null}\n',
    }
    run(
        "CREATE TABLE back (id INTEGER, d DATE)",
        "COPY INTO back FROM @s/p/ FILE_FORMAT = (TYPE = JSON) "
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
    )
    assert run("SELECT * FROM back ORDER BY id") == [
        (1, dt.date(2024, 1, 2)),
        (2, dt.date(2023, 5, 6)),
        (3, None),
    ]


def test_a_partition_expression_over_no_source_column_is_refused(run: Run, tmp_path: Path) -> None:
    run("CREATE STAGE s", "CREATE TABLE j AS SELECT {'d': DATE '2024-01-02'} AS v")
    with pytest.raises(
        sa.exc.SQLAlchemyError, match=r"PARTITION BY \('y' \|\| YEAR\(d\)\): .*\"d\" not found"
    ):
        run("COPY INTO @s/p/ FROM j PARTITION BY ('y' || YEAR(d)) FILE_FORMAT = (TYPE = JSON)")
    assert not folder(tmp_path, "p").exists()


# -- Databend: EMPTY_FIELD_AS applies to an enclosed empty field too -------------------------


@pytest.mark.parametrize("empty", ["NULL", "STRING"])
def test_databend_reads_enclosed_empty_as_its_empty_field_as(
    databend: Any, make_engine: Callable[..., Any], tmp_path: Path, empty: str
) -> None:
    put(tmp_path, "e/a.csv", '1,"",x\n2,,x\n3,"a",x\n')
    csv = folder(tmp_path, "e/a.csv")
    fmt = f"FILE_FORMAT = (TYPE = CSV QUOTE = '\"' EMPTY_FIELD_AS = {empty})"
    databend.sql("CREATE TABLE te (id INT, s VARCHAR NULL, c VARCHAR NULL)")
    databend.sql(f"COPY INTO te FROM 'fs://{csv.parent}/' PATTERN = 'a.csv' {fmt}")
    expected = [(r["id"], r["s"]) for r in databend.sql("SELECT id, s FROM te ORDER BY id")]
    empty_value = None if empty == "NULL" else ""
    assert expected == [(1, empty_value), (2, empty_value), (3, "a")]  # "" as ,,
    engine = make_engine(stage_dialect="databend")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("CREATE TABLE te (id INTEGER, s VARCHAR, c VARCHAR)")
        conn.exec_driver_sql(f"COPY INTO te FROM @s/e/ {fmt}")
        assert conn.exec_driver_sql("SELECT id, s FROM te ORDER BY id").all() == expected
