"""File format options the warehouses' docs use (issue 14): TSV, STRIP_OUTER_ARRAY, ...

Each option is checked in the constructs, rendered per engine (or refused with a
``CompileError``), and applied on the DuckDB runtime exactly or refused by name.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.exc import CompileError

from sqla_stage import CSV, JSON, TSV, CopyInto, CreateFileFormat, Parquet, Stage
from sqla_stage.errors import StageArgumentError

SNOWFLAKE = snowdialect.SnowflakeDialect()
DATABEND = databend_dialect.DatabendDialect()
t = sa.table("t", sa.column("a"))
TRICKY = ["tab\there", "line\nbreak", "back\\slash", "it's", "\\N", "", "cr\rlf", None]


def sql(construct: Any, dialect: Any) -> str:
    return str(construct.compile(dialect=dialect))


# -- constructs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "options"),
    [
        (CSV, {"parse_header": "yes"}),
        (CSV, {"error_on_column_count_mismatch": 1}),
        (CSV, {"output_header": None}),
        (JSON, {"strip_outer_array": "TRUE"}),
        (JSON, {"missing_field_as": "zero"}),
        (Parquet, {"use_vectorized_scanner": 1}),
        (Parquet, {"binary_as_text": "no"}),
        (TSV, {"null_if": ("x",)}),
    ],
)
def test_bad_values_are_refused(factory: Any, options: dict[str, Any]) -> None:
    with pytest.raises(StageArgumentError, match=next(iter(options))):
        factory(**options)


def test_new_options_are_part_of_equality() -> None:
    assert JSON(strip_outer_array=True) != JSON(strip_outer_array=False) != JSON()
    assert CSV(parse_header=True) != CSV()
    assert CSV(error_on_column_count_mismatch=False) != CSV(error_on_column_count_mismatch=True)
    assert CSV(output_header=True) != CSV()
    assert Parquet(binary_as_text=True) != Parquet(binary_as_text=False)
    assert Parquet(use_logical_type=True) != Parquet(use_vectorized_scanner=True)
    assert JSON(missing_field_as="null") == JSON(missing_field_as="NULL")
    assert TSV() != CSV() and isinstance(TSV(), CSV)
    assert repr(TSV(skip_header=1)) == "TSV(skip_header=1)"


# -- rendering ------------------------------------------------------------------------------


def test_snowflake_renders_its_options() -> None:
    fmt = CreateFileFormat("f", Parquet(use_vectorized_scanner=True, use_logical_type=True))
    assert sql(fmt, SNOWFLAKE) == (
        "CREATE FILE FORMAT f TYPE = PARQUET USE_LOGICAL_TYPE = TRUE USE_VECTORIZED_SCANNER = TRUE"
    )
    text = sql(CreateFileFormat("j", JSON(strip_outer_array=True)), SNOWFLAKE)
    assert text == "CREATE FILE FORMAT j TYPE = JSON STRIP_OUTER_ARRAY = TRUE"
    csv = CSV(parse_header=True, error_on_column_count_mismatch=False)
    assert sql(CreateFileFormat("c", csv), SNOWFLAKE) == (
        "CREATE FILE FORMAT c TYPE = CSV PARSE_HEADER = TRUE ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE"
    )


@pytest.mark.parametrize(
    ("spec", "feature"),
    [
        (TSV(), "TYPE = TSV"),
        (CSV(output_header=True), "OUTPUT_HEADER"),
        (JSON(missing_field_as="NULL"), "MISSING_FIELD_AS"),
    ],
)
def test_snowflake_refuses_databend_options(spec: Any, feature: str) -> None:
    with pytest.raises(CompileError, match=feature):
        sql(CreateFileFormat("f", spec), SNOWFLAKE)


def test_databend_renders_its_options() -> None:
    tsv = TSV(field_delimiter=",", skip_header=1, compression="auto")
    assert sql(CreateFileFormat("f", tsv), DATABEND) == (
        "CREATE FILE FORMAT f TYPE = TSV COMPRESSION = AUTO FIELD_DELIMITER = ',' SKIP_HEADER = 1"
    )
    csv = CSV(output_header=True, skip_header=1, error_on_column_count_mismatch=False)
    text = sql(CreateFileFormat("c", csv), DATABEND)
    assert "OUTPUT_HEADER = TRUE" in text and "ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE" in text
    load = CopyInto(t, Stage("s") / "", file_format=Parquet(missing_field_as="field_default"))
    assert "FILE_FORMAT = (TYPE = PARQUET MISSING_FIELD_AS = FIELD_DEFAULT)" in sql(load, DATABEND)


@pytest.mark.parametrize(
    ("spec", "feature"),
    [
        (JSON(strip_outer_array=True), "STRIP_OUTER_ARRAY"),
        (CSV(parse_header=True), "PARSE_HEADER"),
        (Parquet(binary_as_text=True), "binary_as_text"),
    ],
)
def test_databend_refuses_snowflake_options(spec: Any, feature: str) -> None:
    with pytest.raises(CompileError, match=feature):
        sql(CreateFileFormat("f", spec), DATABEND)


def test_databend_tsv_has_no_header() -> None:
    unload = CopyInto(Stage("s") / "out/", t, file_format=TSV(), header=True)
    with pytest.raises(CompileError, match="HEADER = TRUE for TSV"):
        sql(unload, DATABEND)


# -- runtime --------------------------------------------------------------------------------


@pytest.fixture
def run(make_engine: Callable[..., Any]) -> Callable[..., list[Any]]:
    engine = make_engine(stage_dialect="databend")

    def execute(*statements: str) -> list[Any]:
        rows: list[Any] = []
        with engine.begin() as conn:
            for statement in statements:
                result = conn.exec_driver_sql(statement)
                rows = list(result.fetchall()) if result.returns_rows else []
        return rows

    return execute


def staged_files(tmp_path: Path, pattern: str) -> list[Path]:
    return sorted((tmp_path / "stages").rglob(pattern))


def test_tsv_unload_escapes_and_loads_back(run: Callable[..., list[Any]], tmp_path: Path) -> None:
    rows = [f"({i}, {'NULL' if v is None else _sql_text(v)})" for i, v in enumerate(TRICKY)]
    run(
        "CREATE TABLE src (id INTEGER, v VARCHAR)",
        "INSERT INTO src VALUES " + ", ".join(rows),
        "CREATE STAGE s",
        "COPY INTO @s FROM (SELECT * FROM src ORDER BY id) "
        "FILE_FORMAT = (TYPE = TSV COMPRESSION = NONE)",
    )
    [written] = staged_files(tmp_path, "*.tsv")
    assert written.read_text().split("\n") == [
        "0\ttab\\there",
        "1\tline\\nbreak",
        "2\tback\\\\slash",
        "3\tit\\'s",
        "4\t\\\\N",
        "5\t",
        "6\tcr\\rlf",
        "7\t\\N",
        "",
    ]
    rows = run(
        "CREATE TABLE dst (id INTEGER, v VARCHAR)",
        "COPY INTO dst FROM @s FILE_FORMAT = (TYPE = TSV)",
        "SELECT v FROM dst ORDER BY id",
    )
    assert [row[0] for row in rows] == TRICKY
    queried = run("SELECT $2 FROM @s (FILE_FORMAT => 'TSV') ORDER BY $1::INTEGER")
    assert [row[0] for row in queried] == TRICKY


def _sql_text(value: str) -> str:
    parts = [f"chr({ord(c)})" if c in "\t\n\r" else "'" + c.replace("'", "''") + "'" for c in value]
    return " || ".join(parts) if parts else "''"


def test_tsv_load_converts_types_and_refuses_bad_values(
    run: Callable[..., list[Any]], tmp_path: Path
) -> None:
    run("CREATE STAGE s", "CREATE TABLE n (a INTEGER, b VARCHAR)")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.tsv").write_text("1\ta\\tb\n\\N\tc\n")
    run(f"PUT file://{folder}/good.tsv @s AUTO_COMPRESS = FALSE")
    run("COPY INTO n FROM @s FILE_FORMAT = (TYPE = TSV)")
    assert run("SELECT * FROM n ORDER BY a NULLS LAST") == [(1, "a\tb"), (None, "c")]
    (folder / "mixed.tsv").write_text("2\tok\nx\ty\n")
    run(f"PUT file://{folder}/mixed.tsv @s AUTO_COMPRESS = FALSE")
    [result] = run("COPY INTO n FROM @s/mixed.tsv FILE_FORMAT = (TYPE = TEXT) ON_ERROR = CONTINUE")
    assert result[1:7] == ("PARTIALLY_LOADED", 2, 1, 2, 1, "Cannot convert value 'x' to INTEGER")
    assert run("SELECT b FROM n WHERE a = 2") == [("ok",)]
    (folder / "bad.tsv").write_text("x\ty\n")
    run(f"PUT file://{folder}/bad.tsv @s AUTO_COMPRESS = FALSE")
    with pytest.raises(sa.exc.SQLAlchemyError, match="x"):
        run("COPY INTO n FROM @s/bad.tsv FILE_FORMAT = (TYPE = TSV)")


def test_tsv_refuses_what_it_cannot_write(run: Callable[..., list[Any]]) -> None:
    run("CREATE STAGE s")
    with pytest.raises(sa.exc.SQLAlchemyError, match="FIELD_DELIMITER"):
        run("COPY INTO @s FROM (SELECT 1 AS a) FILE_FORMAT = (TYPE = TSV FIELD_DELIMITER = ',')")
    with pytest.raises(sa.exc.SQLAlchemyError, match="BLOB"):
        run("COPY INTO @s FROM (SELECT 'a'::BLOB AS b) FILE_FORMAT = (TYPE = TSV)")


def test_strip_outer_array(run: Callable[..., list[Any]], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps([{"k": 1}, {"k": 2}, {"k": 3}], indent=1))
    run(
        "CREATE STAGE s",
        f"PUT file://{folder}/a.json @s AUTO_COMPRESS = FALSE",
        "CREATE TABLE j (k INTEGER)",
        "COPY INTO j FROM @s FILE_FORMAT = (TYPE = JSON STRIP_OUTER_ARRAY = TRUE)",
    )
    assert run("SELECT k FROM j ORDER BY 1") == [(1,), (2,), (3,)]
    # FALSE (Snowflake's default): the array is one value, not three rows; this runtime
    # matches JSON keys to columns, so an array is an error, and nothing is loaded.
    with pytest.raises(sa.exc.SQLAlchemyError, match="JSON"):
        run(
            "COPY INTO j FROM @s FILE_FORMAT = (TYPE = JSON STRIP_OUTER_ARRAY = FALSE) FORCE = TRUE"
        )
    assert run("SELECT count(*) FROM j") == [(3,)]


def test_error_on_column_count_mismatch(run: Callable[..., list[Any]], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "short.csv").write_text("a,b\nc,d\n")
    run(
        "CREATE STAGE s",
        f"PUT file://{folder}/short.csv @s AUTO_COMPRESS = FALSE",
        "CREATE TABLE w (x VARCHAR, y VARCHAR, z VARCHAR)",
    )
    with pytest.raises(sa.exc.SQLAlchemyError, match="3"):
        run("COPY INTO w FROM @s FILE_FORMAT = (TYPE = CSV)")
    run("COPY INTO w FROM @s FILE_FORMAT = (TYPE = CSV ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE)")
    assert run("SELECT * FROM w ORDER BY x") == [("a", "b", None), ("c", "d", None)]
    run("CREATE TABLE dflt (x VARCHAR, y VARCHAR, z VARCHAR DEFAULT 'q')")
    with pytest.raises(sa.exc.SQLAlchemyError, match="ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE"):
        run(
            "COPY INTO dflt FROM @s FILE_FORMAT = "
            "(TYPE = CSV ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE)"
        )
    assert run("SELECT count(*) FROM dflt") == [(0,)]


def test_parse_header(run: Callable[..., list[Any]], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "h.csv").write_text("b,a\n2,1\n")
    run(
        "CREATE STAGE s",
        f"PUT file://{folder}/h.csv @s AUTO_COMPRESS = FALSE",
        "CREATE TABLE p (a INTEGER, b INTEGER)",
        "COPY INTO p FROM @s FILE_FORMAT = (TYPE = CSV PARSE_HEADER = TRUE) "
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
    )
    assert run("SELECT * FROM p") == [(1, 2)]
    run("CREATE TABLE q (x INTEGER, y INTEGER)")
    run("COPY INTO q FROM @s FILE_FORMAT = (TYPE = CSV PARSE_HEADER = TRUE)")
    assert run("SELECT * FROM q") == [(2, 1)]
    with pytest.raises(sa.exc.SQLAlchemyError, match="PARSE_HEADER = TRUE with SKIP_HEADER"):
        run(
            "COPY INTO q FROM @s FILE_FORMAT = (TYPE = CSV PARSE_HEADER = TRUE SKIP_HEADER = 1) "
            "FORCE = TRUE"
        )


def test_output_header_in_a_named_format(run: Callable[..., list[Any]], tmp_path: Path) -> None:
    run(
        "CREATE STAGE s",
        "CREATE FILE FORMAT hf TYPE = CSV, COMPRESSION = gzip, OUTPUT_HEADER = true",
        "COPY INTO @s FROM (SELECT 1 AS a, 2 AS b) FILE_FORMAT = (FORMAT_NAME = 'hf')",
    )
    [written] = staged_files(tmp_path, "*.csv.gz")
    assert gzip.decompress(written.read_bytes()).decode() == "a,b\n1,2\n"


def test_parquet_options(run: Callable[..., list[Any]], tmp_path: Path) -> None:
    run(
        "CREATE STAGE s",
        f"COPY (SELECT 'hi'::BLOB AS b) TO '{tmp_path}/b.parquet' (FORMAT PARQUET)",
        f"PUT file://{tmp_path}/b.parquet @s AUTO_COMPRESS = FALSE",
    )
    run("CREATE TABLE bt (b VARCHAR)")
    run("COPY INTO bt FROM @s FILE_FORMAT = (TYPE = PARQUET BINARY_AS_TEXT = TRUE)")
    assert run("SELECT b FROM bt") == [("hi",)]
    run("CREATE TABLE bb (b BLOB)")
    run(
        "COPY INTO bb FROM @s FILE_FORMAT = "
        "(TYPE = PARQUET USE_VECTORIZED_SCANNER = TRUE BINARY_AS_TEXT = TRUE)"
    )
    assert run("SELECT b FROM bb") == [(b"hi",)]
    with pytest.raises(sa.exc.SQLAlchemyError, match="USE_LOGICAL_TYPE = FALSE"):
        run(
            "COPY INTO bb FROM @s FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = FALSE) "
            "FORCE = TRUE"
        )
    with pytest.raises(sa.exc.SQLAlchemyError, match="MISSING_FIELD_AS = FIELD_DEFAULT"):
        run(
            "COPY INTO bb FROM @s FILE_FORMAT = (TYPE = PARQUET MISSING_FIELD_AS = FIELD_DEFAULT) "
            "FORCE = TRUE"
        )
    assert run("SELECT count(*) FROM bb") == [(1,)]
