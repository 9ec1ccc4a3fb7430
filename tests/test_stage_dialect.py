"""``stage_dialect``: the runtime answers as the warehouse whose text it is (issue 14).

SHOW STAGES, DESC STAGE and LIST take the columns of the warehouse the engine setting
names (as its documentation shows them), a stage with no format reads Databend's default
(Parquet) under ``databend``, and no answer shows a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from sqla_stage import StageArgumentError
from sqla_stage.runtime.engine.settings import settings_of

SECRET = "wJalrXUtnFEMI-secret-key"
EXTERNAL = (
    "CREATE STAGE ext URL = 's3://bucket/path/' "
    f"CREDENTIALS = (AWS_KEY_ID = 'AKIAEXAMPLE' AWS_SECRET_KEY = '{SECRET}') COMMENT = 'raw'"
)


@pytest.fixture
def engine_for(make_engine: Callable[..., sa.Engine]) -> Callable[[str | None], sa.Engine]:
    """An engine (of tests/conftest.py) with ``stage_dialect``, two stages and a file."""

    def make(dialect: str | None) -> sa.Engine:
        engine = make_engine(database=f"{dialect}.duckdb", stage_root=None, stage_dialect=dialect)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE STAGE landing ENABLE = TRUE")
            conn.exec_driver_sql(EXTERNAL)
            conn.exec_driver_sql("COPY INTO @landing/d/ FROM (SELECT 1 AS a)")
        return engine

    return make


def answer(engine: sa.Engine, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    with engine.connect() as conn:
        result = conn.exec_driver_sql(sql)
        return list(result.keys()), [tuple(row) for row in result]


def test_snowflake_show_stages(engine_for: Callable[[str | None], sa.Engine]) -> None:
    columns, rows = answer(engine_for("snowflake"), "SHOW STAGES")
    assert columns == [
        "created_on", "name", "database_name", "schema_name", "url", "has_credentials",
        "has_encryption_key", "owner", "comment", "region", "type", "cloud",
        "notification_channel", "storage_integration", "endpoint", "owner_role_type",
        "directory_enabled",
    ]  # fmt: skip
    by_name = {row[1]: dict(zip(columns, row, strict=True)) for row in rows}
    assert by_name["EXT"]["url"] == "s3://bucket/path/"
    assert by_name["EXT"]["has_credentials"] == "Y" and by_name["EXT"]["type"] == "EXTERNAL"
    assert by_name["EXT"]["cloud"] == "AWS" and by_name["EXT"]["comment"] == "raw"
    assert by_name["LANDING"]["type"] == "INTERNAL" and by_name["LANDING"]["url"] == ""
    assert by_name["LANDING"]["directory_enabled"] == "Y"


def test_snowflake_describe_is_a_row_per_property(
    engine_for: Callable[[str | None], sa.Engine],
) -> None:
    columns, rows = answer(engine_for("snowflake"), "DESC STAGE ext")
    assert columns == [
        "parent_property", "property", "property_type", "property_value", "property_default"
    ]  # fmt: skip
    found = {(row[0], row[1]): row[3] for row in rows}
    assert found[("STAGE_FILE_FORMAT", "TYPE")] == "CSV"
    assert found[("STAGE_FILE_FORMAT", "FIELD_DELIMITER")] == ","
    assert found[("STAGE_COPY_OPTIONS", "ON_ERROR")] == "ABORT_STATEMENT"
    assert found[("STAGE_LOCATION", "URL")] == '["s3://bucket/path/"]'
    assert found[("STAGE_CREDENTIALS", "AWS_KEY_ID")] == "true"  # present, never the value


def test_databend_show_desc_and_list(engine_for: Callable[[str | None], sa.Engine]) -> None:
    engine = engine_for("databend")
    databend_columns = [
        "name", "stage_type", "storage_type", "url", "endpoint", "has_credentials",
        "has_encryption_key", "storage_params", "file_format_options", "creator",
        "created_on", "comment", "owner",
    ]  # fmt: skip
    columns, rows = answer(engine, "SHOW STAGES")
    assert columns == databend_columns
    by_name = {row[0]: dict(zip(columns, row, strict=True)) for row in rows}
    assert by_name["ext"]["storage_type"] == "s3" and by_name["ext"]["has_credentials"] is True
    assert by_name["landing"]["stage_type"] == "Internal" and by_name["landing"]["url"] is None
    columns, rows = answer(engine, "DESC STAGE landing")
    assert columns == databend_columns and len(rows) == 1
    columns, rows = answer(engine, "LIST @landing")
    assert columns == ["name", "size", "md5", "last_modified", "creator"]
    # the default format, Parquet, and Databend's INCLUDE_QUERY_ID = TRUE
    assert [re.sub(r"[0-9a-f-]{36}", "<uuid>", row[0]) for row in rows] == [
        "d/data_<uuid>_0000_00000000.parquet"
    ]


def test_databend_reads_a_stage_without_format_as_parquet(
    engine_for: Callable[[str | None], sa.Engine],
) -> None:
    engine = engine_for("databend")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        loaded = conn.exec_driver_sql("COPY INTO t FROM @landing/d/").all()
        assert [(row.status, row.rows_loaded) for row in loaded] == [("LOADED", 1)]


def test_matrixone_show_stages(engine_for: Callable[[str | None], sa.Engine]) -> None:
    engine = engine_for("matrixone")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER STAGE ext SET ENABLE = FALSE")
    columns, rows = answer(engine, "SHOW STAGES")
    assert columns == ["STAGE_NAME", "URL", "STATUS", "COMMENT"]
    assert sorted(rows) == [
        ("ext", "s3://bucket/path/", "DISABLED", "raw"),
        ("landing", "", "ENABLED", ""),
    ]


@pytest.mark.parametrize("dialect", [None, "snowflake", "databend", "matrixone"])
def test_no_answer_shows_a_secret(
    engine_for: Callable[[str | None], sa.Engine], dialect: str | None
) -> None:
    engine = engine_for(dialect)
    for sql in ("SHOW STAGES", "DESC STAGE ext", "LIST @landing"):
        assert SECRET not in repr(answer(engine, sql)), sql
        assert "AKIAEXAMPLE" not in repr(answer(engine, sql)), sql


def test_the_default_keeps_the_runtime_s_own_answers(
    engine_for: Callable[[str | None], sa.Engine],
) -> None:
    engine = engine_for(None)
    assert answer(engine, "SHOW STAGES")[0] == [
        "name", "stage_type", "number_of_files", "creator", "created_on", "comment"
    ]  # fmt: skip
    assert answer(engine, "LIST @landing")[0] == ["name", "size", "md5", "last_modified"]
    assert [row[0] for row in answer(engine, "LIST @landing")[1]] == ["d/data_0_0_0.csv.gz"]


def test_the_setting_comes_from_the_url_too(tmp_path: Path) -> None:
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'a.duckdb'}?plugin=sqla_stage&stage_dialect=Databend"
    )
    settings = settings_of(engine)
    assert settings is not None and settings.stage_dialect == "databend"
    engine.dispose()


def test_an_unknown_stage_dialect_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StageArgumentError, match="stage_dialect must be one of snowflake"):
        sa.create_engine(
            f"duckdb:///{tmp_path / 'a.duckdb'}", plugins=["sqla_stage"], stage_dialect="oracle"
        )
