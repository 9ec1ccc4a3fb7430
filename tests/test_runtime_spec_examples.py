"""The statements of the Databend texts (spec 001/003 user-stage RFC, 002 stages) run on
the runtime verbatim as text, and as constructs, with their files checked on disk.

Spec 004's examples are in test_runtime_unload.py, spec 000's (MatrixOne) in
test_runtime_queries.py, and spec 002's external stage on S3 in test_runtime_s3.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import (
    CSV,
    CopyInto,
    CreateStage,
    ListFiles,
    Presign,
    Put,
    RemoveFiles,
    Stage,
)
from sqla_stage.errors import StageProgrammingError, StageRuntimeError

MY_TABLE_ROWS = [(1, "ontime"), (2, "late")]


@pytest.fixture
def db(engine: Any, tmp_path: Path) -> Any:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE my_table (id INTEGER, what VARCHAR)")
    data = tmp_path / "local"
    data.mkdir()
    (data / "data.csv").write_text("1,ontime\n2,late\n")
    (data / "ontime_2024.csv").write_text("3,x\n")
    return engine


def _rows(conn: sa.Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM my_table ORDER BY id")]


def test_named_internal_stage_as_text(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE @my_stage;")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/local/data.csv @my_stage")
        loaded = conn.exec_driver_sql("COPY INTO my_table FROM @my_stage;").mappings().all()
        assert [(r["file"], r["status"], r["rows_loaded"]) for r in loaded] == [
            ("data.csv.gz", "LOADED", 2)
        ]
        assert _rows(conn) == MY_TABLE_ROWS
    stored = tmp_path / "stages" / "stage" / "internal" / "my_stage" / "data.csv.gz"
    assert gzip.decompress(stored.read_bytes()) == b"1,ontime\n2,late\n"


def test_user_stage_statements_as_text(db: Any, tmp_path: Path) -> None:
    user_folder = tmp_path / "stages" / "stage" / "user" / "alice"
    with db.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/local/*.csv @~ AUTO_COMPRESS = FALSE")
        assert [row.name for row in conn.exec_driver_sql("LIST @~;")] == [
            "data.csv",
            "ontime_2024.csv",
        ]
        with pytest.raises(StageRuntimeError, match="cannot sign URLs"):
            conn.exec_driver_sql("PRESIGN @~/data.csv;")
        removed = conn.exec_driver_sql("REMOVE @~ PATTERN = 'ontime.*';").all()
        assert [row.name for row in removed] == ["ontime_2024.csv"]
        assert not (user_folder / "ontime_2024.csv").exists()
        conn.exec_driver_sql("COPY INTO my_table from @~;")
        assert _rows(conn) == MY_TABLE_ROWS
        # Loaded files are remembered: the RFC's second COPY loads nothing.
        assert conn.exec_driver_sql("COPY INTO my_table FROM @~;").all() == [
            ("Copy executed with 0 files processed.",)
        ]
        assert _rows(conn) == MY_TABLE_ROWS
    assert (user_folder / "data.csv").read_text() == "1,ontime\n2,late\n"


def test_the_user_stages_internal_name_is_not_a_stage(db: Any) -> None:
    with db.begin() as conn, pytest.raises(StageRuntimeError, match="does not exist"):
        conn.exec_driver_sql("COPY INTO my_table FROM @bend_internal_user_root;")


def test_table_stage_in_the_rfcs_spelling_is_refused(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/local/data.csv @%my_table")
        with pytest.raises(StageProgrammingError, match="Databend does not implement"):
            conn.exec_driver_sql("COPY INTO my_table FROM @#my_table;")
        assert _rows(conn) == []


def test_the_same_statements_as_constructs(db: Any, tmp_path: Path) -> None:
    my_table = sa.Table("my_table", sa.MetaData(), sa.Column("id"), sa.Column("what"))
    my_stage, me = Stage("my_stage"), Stage.user()
    with db.begin() as conn:
        conn.execute(CreateStage(my_stage))
        conn.execute(Put(str(tmp_path / "local" / "data.csv"), my_stage))
        conn.execute(CopyInto(my_table, my_stage, file_format=CSV()))
        conn.execute(Put(str(tmp_path / "local" / "*.csv"), me, auto_compress=False))
        assert [row.name for row in conn.execute(ListFiles(me))] == [
            "data.csv",
            "ontime_2024.csv",
        ]
        with pytest.raises(StageRuntimeError, match="cannot sign URLs"):
            conn.execute(Presign(me / "data.csv"))
        conn.execute(RemoveFiles(me, pattern="ontime.*"))
        conn.execute(CopyInto(my_table, me))
        assert _rows(conn) == sorted(MY_TABLE_ROWS * 2)
        conn.execute(Put(str(tmp_path / "local" / "data.csv"), Stage.table(my_table)))
        conn.execute(CopyInto(my_table, Stage.table(my_table)))
        assert len(_rows(conn)) == 6


def test_databend_stage_guide_examples(db: Any) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "-- Create an internal stage named my_internal_stage\nCREATE STAGE my_internal_stage;"
        )
        assert conn.exec_driver_sql("SHOW STAGES").one().name == "my_internal_stage"
        assert conn.exec_driver_sql("LIST @~;").all() == []


def test_put_of_a_missing_file_changes_nothing(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        with pytest.raises(StageRuntimeError, match="no local file matches"):
            conn.exec_driver_sql(f"PUT file://{tmp_path}/nothing/*.csv @~")
        assert conn.exec_driver_sql("LIST @~").all() == []
    assert not (tmp_path / "stages" / "stage" / "user").exists()
