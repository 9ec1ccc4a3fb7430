"""Stages in a MetaData: ``create_all`` creates tables then stages, ``drop_all`` drops
stages then tables, and ``checkfirst`` becomes IF NOT EXISTS / IF EXISTS.

DDL is captured two ways:

* ``create_mock_engine("snowflake://", executor)``, SQLAlchemy's documented way to
  capture DDL. A mock engine never checks the database, so it always runs the DDL
  with ``checkfirst=False``.
* a real SQLite engine, so ``checkfirst`` goes through ``create_all`` / ``drop_all``
  for real: the tables are created in SQLite, and a ``do_execute`` dialect event
  (SQLAlchemy's hook for custom execution) records the stage statements, which
  SQLite cannot run, instead of sending them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from sqla_stage import CreateStage, DropStage, Stage, StageArgumentError
from sqla_stage.metadata import INFO_KEY, stages_of


def build_metadata() -> tuple[sa.MetaData, Stage, Stage]:
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.ForeignKey("users.id")),
    )
    landing = Stage("landing", md)
    exports = Stage("exports", md, url="s3://bucket/exports/", comment="nightly")
    return md, landing, exports


class Recorder:
    """A mock engine for a dialect that keeps each statement's compiled text."""

    def __init__(self, url: str) -> None:
        self.statements: list[str] = []
        self.engine = sa.create_mock_engine(url, self.execute)

    def execute(self, sql: Any, *multiparams: Any, **params: Any) -> None:
        compiled = sql.compile(dialect=self.engine.dialect)
        self.statements.append(" ".join(str(compiled).split()))

    def heads(self) -> list[str]:
        """Each statement's first three words: ``CREATE TABLE users``."""
        return [" ".join(text.split()[:3]) for text in self.statements]


CREATE_ORDER = [
    "CREATE TABLE users",
    "CREATE TABLE orders",
    "CREATE STAGE landing",
    "CREATE STAGE exports",
]
DROP_ORDER = ["DROP STAGE exports", "DROP STAGE landing", "DROP TABLE orders", "DROP TABLE users"]


@pytest.mark.extra("snowflake")
def test_create_all_creates_tables_then_stages() -> None:
    md, _, _ = build_metadata()
    recorder = Recorder("snowflake://")
    md.create_all(recorder.engine)
    assert recorder.heads() == CREATE_ORDER
    assert recorder.statements[-1] == (
        "CREATE STAGE exports URL = 's3://bucket/exports/' COMMENT = 'nightly'"
    )


@pytest.mark.extra("snowflake")
def test_drop_all_drops_stages_first() -> None:
    md, _, _ = build_metadata()
    recorder = Recorder("snowflake://")
    md.drop_all(recorder.engine)
    assert recorder.statements == DROP_ORDER


@pytest.mark.extra("snowflake")
def test_mock_engine_runs_without_checkfirst() -> None:
    """A mock engine forces checkfirst=False, so the stage DDL is unconditional."""
    md, _, _ = build_metadata()
    recorder = Recorder("snowflake://")
    md.create_all(recorder.engine, checkfirst=True)
    md.drop_all(recorder.engine, checkfirst=True)
    assert "CREATE STAGE landing" in recorder.statements
    assert "DROP STAGE landing" in recorder.statements


@pytest.mark.extra("snowflake")
def test_stage_create_and_drop_on_a_mock_engine() -> None:
    _, landing, exports = build_metadata()
    recorder = Recorder("snowflake://")
    landing.create(recorder.engine, checkfirst=True)
    exports.create(recorder.engine)
    landing.drop(recorder.engine)
    exports.drop(recorder.engine, checkfirst=True)
    assert recorder.statements == [
        "CREATE STAGE IF NOT EXISTS landing",
        "CREATE STAGE exports URL = 's3://bucket/exports/' COMMENT = 'nightly'",
        "DROP STAGE landing",
        "DROP STAGE IF EXISTS exports",
    ]


@pytest.mark.extra("databend_sqlalchemy")
def test_metadata_ddl_on_other_dialects() -> None:
    md = sa.MetaData()
    Stage("one", md, url="/tmp/one", directory=True)
    matrixone = Recorder("mysql://")
    md.create_all(matrixone.engine)
    md.drop_all(matrixone.engine)
    databend = Recorder("databend://")
    md.drop_all(databend.engine)
    assert matrixone.statements == [
        "CREATE STAGE one URL = '/tmp/one' ENABLE = TRUE",
        "DROP STAGE one",
    ]
    assert databend.statements == ["DROP STAGE one"]


# --- checkfirst through a real engine ------------------------------------------------


@pytest.fixture
def sqlite() -> Iterator[tuple[sa.Engine, list[str]]]:
    """A SQLite engine that runs table DDL and records (without sending) stage DDL."""
    engine = sa.create_engine("sqlite://")
    sent: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith(("CREATE", "DROP")):
            sent.append(" ".join(statement.split()))

    @event.listens_for(engine.dialect, "do_execute")
    def skip_stage_ddl(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        return isinstance(getattr(context.compiled, "statement", None), (CreateStage, DropStage))

    yield engine, sent
    engine.dispose()


def test_checkfirst_maps_to_if_not_exists_and_if_exists(sqlite: Any) -> None:
    engine, sent = sqlite
    md, _, _ = build_metadata()

    md.create_all(engine)  # checkfirst=True is the default
    assert [text.split(" (")[0] for text in sent] == [
        "CREATE TABLE users",
        "CREATE TABLE orders",
        "CREATE STAGE IF NOT EXISTS landing",
        "CREATE STAGE IF NOT EXISTS exports URL = 's3://bucket/exports/' COMMENT = 'nightly'",
    ]
    assert set(sa.inspect(engine).get_table_names()) == {"users", "orders"}

    sent.clear()
    md.create_all(engine)  # the tables exist: only the stages' IF NOT EXISTS is sent
    assert [text.split(" URL")[0] for text in sent] == [
        "CREATE STAGE IF NOT EXISTS landing",
        "CREATE STAGE IF NOT EXISTS exports",
    ]

    sent.clear()
    md.drop_all(engine)
    assert sent == [
        "DROP STAGE IF EXISTS exports",
        "DROP STAGE IF EXISTS landing",
        "DROP TABLE orders",
        "DROP TABLE users",
    ]
    assert sa.inspect(engine).get_table_names() == []


def test_checkfirst_false(sqlite: Any) -> None:
    engine, sent = sqlite
    md, _, _ = build_metadata()
    md.create_all(engine, checkfirst=False)
    md.drop_all(engine, checkfirst=False)
    assert [" ".join(text.split()[:3]) for text in sent] == [
        "CREATE TABLE users",
        "CREATE TABLE orders",
        "CREATE STAGE landing",
        "CREATE STAGE exports",
        "DROP STAGE exports",
        "DROP STAGE landing",
        "DROP TABLE orders",
        "DROP TABLE users",
    ]


def test_stage_create_and_drop_on_engine_and_connection(sqlite: Any) -> None:
    engine, sent = sqlite
    _, landing, _ = build_metadata()
    landing.create(engine, checkfirst=True)
    with engine.begin() as connection:
        landing.drop(connection, checkfirst=True)
        landing.create(connection)
    landing.drop(engine)
    assert sent == [
        "CREATE STAGE IF NOT EXISTS landing",
        "DROP STAGE IF EXISTS landing",
        "CREATE STAGE landing",
        "DROP STAGE landing",
    ]


# --- the MetaData's list of stages ---------------------------------------------------


def test_stages_are_listed_in_metadata_info() -> None:
    md, landing, exports = build_metadata()
    assert md.info[INFO_KEY] == {"landing": landing, "exports": exports}
    assert stages_of(md) == [landing, exports]
    assert landing.metadata is md


def test_schema_qualified_stages_are_keyed_by_schema() -> None:
    md = sa.MetaData()
    plain = Stage("s", md)
    qualified = Stage("s", md, schema="raw")
    assert list(md.info[INFO_KEY]) == ["s", "raw.s"]
    assert stages_of(md) == [plain, qualified]


def test_duplicate_stage_name_raises() -> None:
    md, landing, _ = build_metadata()
    with pytest.raises(StageArgumentError, match=r"Stage 'landing' is already defined"):
        Stage("landing", md, url="s3://other/")
    assert md.info[INFO_KEY]["landing"] is landing


@pytest.mark.extra("snowflake")
def test_stage_without_metadata_is_not_listed() -> None:
    md, _, _ = build_metadata()
    Stage("loose")
    assert "loose" not in md.info[INFO_KEY]
    recorder = Recorder("snowflake://")
    md.create_all(recorder.engine)
    assert "CREATE STAGE loose" not in recorder.statements


@pytest.mark.extra("snowflake")
def test_metadata_without_stages_emits_no_stage_ddl() -> None:
    md = sa.MetaData()
    sa.Table("only", md, sa.Column("id", sa.Integer))
    recorder = Recorder("snowflake://")
    md.create_all(recorder.engine)
    md.drop_all(recorder.engine)
    assert recorder.heads() == ["CREATE TABLE only", "DROP TABLE only"]
    assert INFO_KEY not in md.info


@pytest.mark.extra("snowflake")
def test_each_stage_is_created_once_however_many_join() -> None:
    md = sa.MetaData()
    for i in range(3):
        Stage(f"s{i}", md)
    recorder = Recorder("snowflake://")
    md.create_all(recorder.engine)
    assert recorder.statements == ["CREATE STAGE s0", "CREATE STAGE s1", "CREATE STAGE s2"]
