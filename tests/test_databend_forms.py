"""Databend's forms of issue 16: PARTITION BY, the bare ``~``, ``@#table`` and LIST's creator.

Each form is parsed, compiled for databend-sqlalchemy's dialect and run on the runtime with
``stage_dialect=databend``; where embedded Databend (1.2.453) has the statement, it runs
there too and the two must agree. That version predates PARTITION BY on unloads, so the
PARTITION BY behaviour follows the current COPY INTO <location> page (docs.databend.com).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect

from sqla_stage import CopyInto, Stage, StageArgumentError, parse
from sqla_stage.errors import StageProgrammingError

DIALECT = databend_dialect.DatabendDialect()

SALES = [
    "CREATE TABLE sales_data (sale_date DATE, region VARCHAR, amount INT)",
    "INSERT INTO sales_data VALUES ('2025-01-15', 'east', 100), ('2025-01-20', 'west', 200), "
    "('2025-02-10', 'east', 150), (NULL, 'west', 50)",
    "CREATE STAGE partitioned_stage",
]
#: The page's Example 4, verbatim.
PARTITIONED = """COPY INTO @partitioned_stage
    FROM sales_data
    PARTITION BY ('month=' || to_varchar(sale_date, 'YYYY-MM'))
    FILE_FORMAT = (TYPE = PARQUET);"""
#: Databend's unload file names: data_<query id>_0000_<8-digit number>.
DATABEND_NAME = r"data_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_0000_0000000\d"


@pytest.fixture
def databend_engine(make_engine: Callable[..., Any]) -> Any:
    """A runtime engine with Databend's semantics, holding the page's sales_data and stage."""
    engine = make_engine(stage_dialect="databend")
    with engine.begin() as conn:
        for statement in SALES:
            conn.exec_driver_sql(statement)
    return engine


def _names(conn: sa.Connection) -> list[str]:
    return [row[0] for row in conn.exec_driver_sql("LIST @partitioned_stage").fetchall()]


# -- PARTITION BY ---------------------------------------------------------------------------


def test_partition_by_is_parsed_and_compiled_in_databends_spelling() -> None:
    statement = parse(PARTITIONED, dialect=DIALECT)
    assert isinstance(statement, CopyInto) and statement.partition_by is not None
    compiled = str(statement.compile(dialect=DIALECT))
    assert compiled == (
        "COPY INTO @partitioned_stage FROM sales_data "
        "PARTITION BY ('month=' || to_varchar(sale_date, 'YYYY-MM')) "
        "FILE_FORMAT = (TYPE = PARQUET)"
    )
    region = sa.table("sales_data", sa.column("region")).c.region
    construct = CopyInto(Stage("partitioned_stage"), sa.table("sales_data"), partition_by=region)
    assert "FROM sales_data PARTITION BY (sales_data.region) FILE_FORMAT" in str(
        construct.compile(dialect=DIALECT)
    )


@pytest.mark.parametrize(
    ("option", "text"),
    [({"overwrite": True}, "OVERWRITE = TRUE"), ({"include_query_id": False}, "INCLUDE_QUERY_ID")],
)
def test_options_databend_refuses_with_partition_by_do_not_compile(
    option: dict[str, Any], text: str
) -> None:
    construct = CopyInto(Stage("s"), sa.table("t"), partition_by="region", **option)
    with pytest.raises(sa.exc.CompileError, match=f"PARTITION BY with {text}"):
        construct.compile(dialect=DIALECT)


def test_the_pages_partitioned_unload_runs_with_databends_folders_and_names(
    databend_engine: Any,
) -> None:
    with databend_engine.begin() as conn:
        summary = conn.exec_driver_sql(PARTITIONED).one()
        names = _names(conn)
        rows = conn.exec_driver_sql(
            "SELECT count(*) FROM @partitioned_stage (FILE_FORMAT => 'parquet')"
        ).scalar()
    assert summary[0] == 4 and rows == 4
    assert sorted(name.split("/")[0] for name in names) == [
        "_NULL_",
        "month=2025-01",
        "month=2025-02",
    ]
    for name in names:
        assert re.fullmatch(rf"[^/]+/{DATABEND_NAME}\.parquet", name), name
    # one query id for the whole unload, as in the page's listing
    assert len({re.search(r"data_([0-9a-f-]{36})_", name).group(1) for name in names}) == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("PARTITION BY (amount)", "must evaluate to a STRING, not INTEGER"),
        ("PARTITION BY (region) OVERWRITE = TRUE", "OVERWRITE = TRUE on Databend"),
        ("PARTITION BY (region) INCLUDE_QUERY_ID = FALSE", "INCLUDE_QUERY_ID = FALSE on Databend"),
        ("PARTITION BY (region) SINGLE = TRUE", "SINGLE = TRUE"),
        ("PARTITION BY ('../' || region)", r"'\.\./east' has a '\.\.' segment"),
    ],
)
def test_what_databend_refuses_with_partition_by_writes_nothing(
    databend_engine: Any, clause: str, message: str
) -> None:
    with databend_engine.begin() as conn:
        with pytest.raises(StageProgrammingError, match=message):
            conn.exec_driver_sql(f"COPY INTO @partitioned_stage/x/ FROM sales_data {clause}")
        assert _names(conn) == []


def test_a_dot_dot_partition_is_refused_under_snowflake_too(
    make_engine: Callable[..., Any],
) -> None:
    engine = make_engine(stage_dialect="snowflake")
    with engine.begin() as conn:
        for statement in SALES:
            conn.exec_driver_sql(statement)
        with pytest.raises(StageProgrammingError, match="path traversal"):
            conn.exec_driver_sql(
                "COPY INTO @partitioned_stage/x/ FROM sales_data PARTITION BY 'a/../' || region"
            )
        assert _names(conn) == []
        conn.exec_driver_sql("COPY INTO @partitioned_stage/x/ FROM sales_data PARTITION BY amount")
        assert "x/100/data_0_0_0.csv.gz" in _names(conn)


# -- the user stage as a bare ~ -------------------------------------------------------------

#: Each statement, and the refusal the runtime gives (Databend's own words in comments).
BARE_USER_STAGE = {
    # Databend: "user stage is not allowed to be created"
    "CREATE STAGE ~": "the user stage @~ cannot be created",
    # Databend: "user stage is not allowed to be dropped"
    "DROP STAGE ~": "the user stage @~ cannot be dropped",
    "DROP STAGE IF EXISTS ~": "the user stage @~ cannot be dropped",
    # Databend has no ALTER STAGE at all
    "ALTER STAGE ~ SET COMMENT = 'x'": "the user stage @~ cannot be altered",
    # Databend: a syntax error, "expecting <Ident>"; DESC STAGE @~ is the form it reads
    "DESC STAGE ~": r"a bare ~ is not a stage name .* DESC STAGE @~",
}


@pytest.mark.parametrize("statement", list(BARE_USER_STAGE))
def test_the_bare_user_stage_is_refused_by_name_not_as_a_parse_error(
    statement: str, databend_engine: Any
) -> None:
    message = BARE_USER_STAGE[statement]
    with pytest.raises(StageArgumentError, match=message):
        parse(statement, dialect=DIALECT)
    with databend_engine.begin() as conn, pytest.raises(StageProgrammingError, match=message):
        conn.exec_driver_sql(statement)


def test_embedded_databend_refuses_the_bare_user_stage_too(databend: Any) -> None:
    for statement, words in [
        ("CREATE STAGE ~", "user stage is not allowed to be created"),
        ("DROP STAGE ~", "user stage is not allowed to be dropped"),
        ("DESC STAGE ~", "unexpected `~`"),
    ]:
        with pytest.raises(RuntimeError, match=words):
            databend.sql(statement)
    assert databend.sql("DESC STAGE @~") == []


# -- @#table --------------------------------------------------------------------------------


def test_the_rfcs_table_stage_spelling_is_refused(databend_engine: Any, databend: Any) -> None:
    with pytest.raises(StageArgumentError, match=r"@#sales_data: .*Databend does not implement"):
        parse("LIST @#sales_data", dialect=DIALECT)
    with databend_engine.begin() as conn, pytest.raises(StageProgrammingError, match="@%table"):
        conn.exec_driver_sql("SELECT * FROM @#sales_data")
    # Databend itself reads '#sales_data' as the name of a stage, which does not exist
    with pytest.raises(RuntimeError, match="Stage '#sales_data' does not exist"):
        databend.sql("LIST @#sales_data")


# -- LIST's creator -------------------------------------------------------------------------


def test_list_has_databends_columns_under_stage_dialect_databend(
    databend_engine: Any, databend: Any
) -> None:
    databend.sql("CREATE STAGE IF NOT EXISTS listed")
    databend.sql("COPY INTO @listed FROM (SELECT 1 AS a)")
    expected = databend.sql("LIST @listed")
    with databend_engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE listed")
        conn.exec_driver_sql("COPY INTO @listed FROM (SELECT 1 AS a)")
        result = conn.exec_driver_sql("LIST @listed")
        columns, rows = list(result.keys()), result.fetchall()
    databend.sql("DROP STAGE listed")
    assert columns == list(expected[0]) == ["name", "size", "md5", "last_modified", "creator"]
    assert [row[4] for row in rows] == [row["creator"] for row in expected] == [None]
