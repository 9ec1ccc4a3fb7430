"""The runtime's catalog: CREATE / DROP / DESC / SHOW of stages and file formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import (
    CSV,
    CreateFileFormat,
    CreateStage,
    DescribeStage,
    DropFileFormat,
    DropStage,
    ShowStages,
    Stage,
)
from sqla_stage.errors import StageRuntimeError


def _names(conn: sa.Connection) -> list[str]:
    return [row.name for row in conn.execute(ShowStages())]


def test_create_describe_show_drop_as_constructs(engine: Any) -> None:
    md = sa.MetaData()
    landing = Stage("landing", md, file_format=CSV(compression="gzip"), comment="in")
    Stage(
        "ext",
        md,
        url="memory://bucket/ext/",
        credentials={"aws_key_id": "AKIA", "aws_secret_key": "s3cr3t"},
    )
    md.create_all(engine)
    with engine.connect() as conn:
        assert _names(conn) == ["ext", "landing"]
        desc = conn.execute(DescribeStage(landing)).mappings().one()
        assert desc["stage_type"] == "Internal"
        assert desc["file_format_options"] == "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)"
        assert desc["comment"] == "in"
        assert desc["creator"] == "alice"
        ext = conn.execute(DescribeStage("ext")).mappings().one()
        assert "memory://bucket/ext/" in ext["stage_params"]
        assert "s3cr3t" not in str(ext) and "AKIA" not in str(ext)
    md.drop_all(engine)
    with engine.connect() as conn:
        assert _names(conn) == []


@pytest.mark.parametrize(
    "create",
    [
        "CREATE STAGE my_internal_stage",
        "create stage my_internal_stage",
        "Create Stage IF NOT EXISTS my_internal_stage comment = 'x'",
    ],
)
def test_text_forms_in_any_case(engine: Any, create: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(create)
        assert conn.exec_driver_sql("show stages").all()[0].name == "my_internal_stage"
        assert conn.execute(sa.text("DESC STAGE my_internal_stage")).one().stage_type == "Internal"
        conn.exec_driver_sql("drop stage my_internal_stage")
        assert conn.exec_driver_sql("SHOW STAGES").all() == []


def test_matrixone_enable_form(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE stage1 URL='/tmp' ENABLE = TRUE")
        assert conn.exec_driver_sql("SHOW STAGES").one().stage_type == "External"


def test_existing_stage_is_refused_and_nothing_changes(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(CreateStage(Stage("s", comment="first")))
    with engine.begin() as conn:
        with pytest.raises(StageRuntimeError, match="stage @s already exists"):
            conn.execute(CreateStage(Stage("s", comment="second")))
        assert conn.execute(DescribeStage("s")).one().comment == "first"
        conn.execute(CreateStage(Stage("s", comment="second"), if_not_exists=True))
        assert conn.execute(DescribeStage("s")).one().comment == "first"
        conn.execute(CreateStage(Stage("s", comment="third"), or_replace=True))
        assert conn.execute(DescribeStage("s")).one().comment == "third"


def test_unknown_stage_errors(engine: Any) -> None:
    with engine.begin() as conn:
        with pytest.raises(StageRuntimeError, match="stage @nope does not exist"):
            conn.execute(DropStage("nope"))
        conn.execute(DropStage("nope", if_exists=True))
        with pytest.raises(StageRuntimeError, match="stage @nope does not exist"):
            conn.exec_driver_sql("LIST @nope")
        with pytest.raises(StageRuntimeError, match="does not exist"):
            conn.exec_driver_sql("DESC STAGE nope")


def test_user_stage_cannot_be_created_or_dropped(engine: Any) -> None:
    with engine.begin() as conn:
        with pytest.raises(sa.exc.ProgrammingError, match="user stage"):
            conn.exec_driver_sql("CREATE STAGE @~")
        with pytest.raises(sa.exc.ProgrammingError, match="user stage"):
            conn.exec_driver_sql("DROP STAGE @~")
        assert conn.exec_driver_sql("DESC STAGE @~").one().stage_type == "User"


def test_stage_creation_rolls_back_with_the_transaction(engine: Any) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(CreateStage(Stage("s")))
        raise RuntimeError("abort")
    with engine.connect() as conn:
        assert _names(conn) == []


def test_stages_persist_across_reopening(make_engine: Any, tmp_path: Path) -> None:
    first = make_engine()
    with first.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE kept COMMENT = 'persisted'")
    first.dispose()
    second = make_engine()
    with second.connect() as conn:
        assert conn.exec_driver_sql("DESC STAGE kept").one().comment == "persisted"


def test_file_formats(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(CreateFileFormat("my_csv", CSV(field_delimiter="|")))
        with pytest.raises(StageRuntimeError, match="'my_csv' already exists"):
            conn.exec_driver_sql("CREATE FILE FORMAT my_csv TYPE = CSV")
        conn.exec_driver_sql(
            "CREATE OR REPLACE FILE FORMAT my_csv TYPE = CSV FIELD_DELIMITER = ';'"
        )
        conn.execute(DropFileFormat("my_csv"))
        with pytest.raises(StageRuntimeError, match="'my_csv' does not exist"):
            conn.execute(DropFileFormat("my_csv"))
        conn.execute(DropFileFormat("my_csv", if_exists=True))


def test_plugin_through_the_url(tmp_path: Path) -> None:
    url = (
        f"duckdb:///{tmp_path / 'u.duckdb'}"
        f"?plugin=sqla_stage&stage_root={tmp_path / 'r'}&stage_user=bob"
    )
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            (tmp_path / "f.csv").write_text("1\n")
            conn.exec_driver_sql(f"PUT file://{tmp_path / 'f.csv'} @~ AUTO_COMPRESS = FALSE")
        assert (tmp_path / "r" / "stage" / "user" / "bob" / "f.csv").read_text() == "1\n"
    finally:
        engine.dispose()


def test_default_stage_root_is_beside_the_database(tmp_path: Path) -> None:
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'd.duckdb'}", plugins=["sqla_stage"], stage_user="carol"
    )
    try:
        with engine.begin() as conn:
            (tmp_path / "f.csv").write_text("1\n")
            conn.exec_driver_sql(f"PUT file://{tmp_path / 'f.csv'} @~ AUTO_COMPRESS = FALSE")
        assert (tmp_path / "d.duckdb.stages" / "stage" / "user" / "carol" / "f.csv").exists()
    finally:
        engine.dispose()


def test_masked_secrets_are_refused(engine: Any) -> None:
    # DuckDB-compiled text masks secrets; replaying it must not create a useless stage.
    stage = Stage("s", url="memory://b/s/", credentials={"aws_key_id": "k", "aws_secret_key": "v"})
    import duckdb_engine

    masked_text = str(CreateStage(stage).compile(dialect=duckdb_engine.Dialect()))
    assert "'***'" in masked_text
    with engine.begin() as conn:
        with pytest.raises(StageRuntimeError, match="is the mask"):
            conn.exec_driver_sql(masked_text)
        assert _names(conn) == []
