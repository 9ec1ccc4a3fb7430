"""Namespaces ``[database.]schema`` (issue 16): parsed, rendered and run.

The runtime cases use a DuckDB file with a second DuckDB file ATTACH-ed as ``db2``, and
check files on disk, rows and the registry tables of each database.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from snowflake.sqlalchemy import snowdialect

from sqla_stage import CopyInto, CreateStage, FileFormat, ShowStages, Stage, parse
from sqla_stage.errors import StageArgumentError, StageParseError, StageRuntimeError
from sqla_stage.namespaces import join_namespace, split_namespace

# -- the namespace text -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("s", ["s"]),
        ("db.s", ["db", "s"]),
        ('"my.db".s', ["my.db", "s"]),
        ('"My Db"."S"', ["My Db", "S"]),
        ('"a""b".c', ['a"b', "c"]),
    ],
)
def test_split_and_join_namespace(text: str, parts: list[str]) -> None:
    assert split_namespace(text) == parts
    assert split_namespace(join_namespace(parts)) == parts


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("a..b", "empty part"),
        ("a.", "empty part"),
        ('"a.b', "unclosed"),
        ('a"b".c', "quote the whole part"),
        ('"a"b.c', "text after a quoted part"),
        ("a.b.c", "3 parts; it is \\[database.\\]schema"),
    ],
)
def test_malformed_namespaces_are_refused(schema: str, message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        Stage("st", schema=schema)
    with pytest.raises(StageArgumentError, match=message):
        FileFormat("ff", schema=schema)


# -- parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "schema", "name"),
    [
        ("LIST @db.sch.st/p/", "db.sch", "st"),
        ('LIST @"My Db"."S".st', "My Db.S", "st"),
        ('LIST @"my.db".s.st/x', '"my.db".s', "st"),
        ("LIST @db.sch.%tbl/p/", "db.sch", "tbl"),
        ("DESC STAGE db.sch.st", "db.sch", "st"),
        ("DROP STAGE db.sch.st", "db.sch", "st"),
        ("CREATE STAGE db.sch.st", "db.sch", "st"),
        ("ALTER STAGE db.sch.st SET COMMENT = 'c'", "db.sch", "st"),
    ],
)
def test_stage_names_keep_their_namespace(sql: str, schema: str, name: str) -> None:
    statement = parse(sql)
    stage = statement.location.stage if hasattr(statement, "location") else statement.stage
    assert (stage.schema, stage.name) == (schema, name)
    text = str(statement)
    assert str(parse(text)) == text


def test_tables_and_format_names_keep_their_namespace() -> None:
    load = parse('COPY INTO "my.db".s.tbl FROM @db.s.st FILE_FORMAT = (FORMAT_NAME = db.s.ff)')
    assert (load.table.schema, load.table.name) == ('"my.db".s', "tbl")
    assert (load.file_format.schema, load.file_format.name) == ("db.s", "ff")
    unload = parse("COPY INTO @st FROM db.sch.tbl")
    assert (unload.table.schema, unload.table.name) == ("db.sch", "tbl")
    quoted = parse("""COPY INTO t FROM @st FILE_FORMAT = (FORMAT_NAME = '"my.db".s.ff')""")
    assert (quoted.file_format.schema, quoted.file_format.name) == ('"my.db".s', "ff")
    for statement in (load, unload, quoted):
        text = str(statement.compile(dialect=snowdialect.SnowflakeDialect()))
        again = parse(text.replace("%%", "%"))
        assert str(again.compile(dialect=snowdialect.SnowflakeDialect())) == text


@pytest.mark.parametrize(
    "sql", ["LIST @a.b.c.d/x", "COPY INTO a.b.c.d FROM @st", "DROP STAGE a.b.c.d"]
)
def test_four_part_names_are_refused(sql: str) -> None:
    with pytest.raises(StageParseError, match="at most three parts"):
        parse(sql)


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("SHOW STAGES IN ACCOUNT", ShowStages(in_account=True)),
        ("SHOW STAGES IN DATABASE", ShowStages(in_database=True)),
        ("SHOW STAGES IN DATABASE db2", ShowStages(in_database="db2")),
        ("SHOW STAGES LIKE 'a%' IN SCHEMA", ShowStages("a%", in_schema=True)),
        ("SHOW STAGES IN SCHEMA db2.s2", ShowStages(in_schema="db2.s2")),
        ('SHOW STAGES IN "My Db"."S"', ShowStages(in_schema="My Db.S")),
        ('SHOW STAGES IN SCHEMA "my.db".s', ShowStages(in_schema='"my.db".s')),
    ],
)
def test_show_stages_in_a_scope(sql: str, construct: ShowStages) -> None:
    parsed = parse(sql)
    assert parsed.scope == construct.scope and parsed.like == construct.like
    assert str(parse(str(parsed))) == str(parsed)
    text = str(construct.compile(dialect=snowdialect.SnowflakeDialect()))
    assert text.startswith("SHOW STAGES") and " IN " in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_account": True, "in_schema": "s"}, "give one of in_account, in_database"),
        ({"in_database": "a.b"}, "is not one database name"),
        ({"in_schema": "a.b.c"}, "3 parts"),
        ({"in_schema": ""}, "must be a name or True"),
    ],
)
def test_show_stages_scope_is_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        ShowStages(**kwargs)


def test_show_stages_in_three_part_schema_is_refused() -> None:
    with pytest.raises(StageParseError, match="at most two parts"):
        parse("SHOW STAGES IN SCHEMA a.b.c")


# -- runtime: a second DuckDB file ATTACH-ed as db2 -----------------------------------


@pytest.fixture
def two_databases(make_engine: Callable[..., Any], tmp_path: Path) -> Any:
    """An engine on ``app.duckdb`` whose every connection attaches ``other.duckdb`` as db2."""
    engine = make_engine(attach={"other.duckdb": "db2"})

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA db2.s2")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE db2.s2.tbl AS SELECT range AS id, 'v' || range AS v FROM range(3)"
        )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE db2.s2.tgt (id BIGINT, v VARCHAR)")
    return engine


def _run(conn: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    result = conn.exec_driver_sql(sql)
    return [tuple(row) for row in result] if result.returns_rows else []


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_stage_of_an_attached_database_is_registered_there(
    two_databases: Any, tmp_path: Path
) -> None:
    stages = tmp_path / "stages"
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE db2.s2.st")
        assert _run(conn, "SELECT namespace, name FROM db2.sqla_stage.stages") == [("s2", "st")]
        assert _run(conn, "SELECT count(*) FROM sqla_stage.stages") == [(0,)]
        assert _run(conn, "COPY INTO @db2.s2.st/x/ FROM db2.s2.tbl") == [(3, 15, 35)]
    [written] = _files(stages)
    assert written.startswith("stage/internal/db2%2Es2.st/x/")
    with gzip.open(stages / written, "rt") as stream:
        assert stream.read() == "0,v0\n1,v1\n2,v2\n"
    with two_databases.begin() as conn:
        assert [row[0] for row in _run(conn, "LIST @db2.s2.st")] == [written.split("st/", 1)[1]]
        assert _run(conn, "SELECT $1, $2 FROM @db2.s2.st/x/ ORDER BY 1") == [
            ("0", "v0"),
            ("1", "v1"),
            ("2", "v2"),
        ]
        loaded = _run(conn, "COPY INTO db2.s2.tgt FROM @db2.s2.st/x/")
        assert [row[1:3] for row in loaded] == [("LOADED", 3)]
        assert _run(conn, "SELECT * FROM db2.s2.tgt ORDER BY id") == [
            (0, "v0"),
            (1, "v1"),
            (2, "v2"),
        ]
        # the load history is in db2, beside the table: the file is not loaded twice
        assert _run(conn, "SELECT table_name FROM db2.sqla_stage.load_history") == [("s2.tgt",)]
        again = _run(conn, "COPY INTO db2.s2.tgt FROM @db2.s2.st/x/")
        assert again == [("Copy executed with 0 files processed.",)]
        assert _run(conn, "REMOVE @db2.s2.st/x/")[0][1] == "removed"
    assert _files(stages) == []
    with two_databases.begin() as conn:
        _run(conn, "DROP STAGE db2.s2.st")
        assert _run(conn, "SELECT count(*) FROM db2.sqla_stage.stages") == [(0,)]


def test_a_load_into_an_attached_database_from_a_stage_of_the_current_one(
    two_databases: Any,
) -> None:
    """DuckDB lets a transaction write one database: the load writes db2 only."""
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE st")
    with two_databases.begin() as conn:
        _run(conn, "COPY INTO @st/x/ FROM db2.s2.tbl")
    with two_databases.begin() as conn:
        loaded = _run(conn, "COPY INTO db2.s2.tgt FROM @st/x/")
        assert [row[1:3] for row in loaded] == [("LOADED", 3)]
        assert _run(conn, "SELECT count(*) FROM db2.s2.tgt") == [(3,)]
        assert _run(conn, "SELECT count(*) FROM sqla_stage.load_history") == [(0,)]


def test_table_stages_and_file_formats_of_an_attached_database(
    two_databases: Any, tmp_path: Path
) -> None:
    with two_databases.begin() as conn:
        _run(conn, "CREATE FILE FORMAT db2.s2.pipes TYPE = CSV FIELD_DELIMITER = '|'")
        assert _run(conn, "SELECT name FROM db2.sqla_stage.file_formats") == [("pipes",)]
    with two_databases.begin() as conn:
        unloaded = _run(
            conn,
            "COPY INTO @db2.s2.%tgt/y/ FROM (SELECT * FROM db2.s2.tbl) "
            "FILE_FORMAT = (FORMAT_NAME = db2.s2.pipes COMPRESSION = NONE)",
        )
        assert unloaded[0][0] == 3
    [written] = _files(tmp_path / "stages")
    assert written.startswith("stage/table/db2%2Es2.tgt/y/")
    assert (tmp_path / "stages" / written).read_text() == "0|v0\n1|v1\n2|v2\n"
    with two_databases.begin() as conn:
        loaded = _run(
            conn,
            "COPY INTO db2.s2.tgt FROM @db2.s2.%tgt/y/ FILE_FORMAT = (FORMAT_NAME = db2.s2.pipes)",
        )
        assert [row[1:3] for row in loaded] == [("LOADED", 3)]
        assert _run(conn, "SELECT v FROM db2.s2.tgt ORDER BY id") == [("v0",), ("v1",), ("v2",)]
    with two_databases.begin() as conn, pytest.raises(StageRuntimeError, match="nosuch"):
        _run(conn, "LIST @db2.s2.%nosuch")


def test_constructs_name_tables_and_stages_of_an_attached_database(
    two_databases: Any, tmp_path: Path
) -> None:
    md = sa.MetaData()
    tbl = sa.Table("tbl", md, sa.Column("id", sa.Integer), schema="db2.s2")
    stage = Stage("st", schema="db2.s2")
    with two_databases.begin() as conn:
        conn.execute(CreateStage(stage))
        conn.execute(CopyInto(stage / "c/", sa.select(tbl.c.id).where(tbl.c.id > 0)))
        assert [row.name for row in stage.list(conn)] == [
            name.split("st/", 1)[1] for name in _files(tmp_path / "stages")
        ]
        assert _run(conn, "SELECT $1 FROM @db2.s2.st/c/ ORDER BY 1") == [("1",), ("2",)]


def test_the_current_database_named_explicitly_is_the_same_namespace(two_databases: Any) -> None:
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE app.main.st")
        assert _run(conn, "SELECT namespace, name FROM sqla_stage.stages") == [("main", "st")]
        with pytest.raises(StageRuntimeError, match="already exists"):
            _run(conn, "CREATE STAGE main.st")
    with two_databases.begin() as conn:
        _run(conn, "COPY INTO @main.st/a/ FROM db2.s2.tbl")
        assert len(_run(conn, "LIST @app.main.st")) == 1


def test_a_database_that_is_not_attached_is_refused_before_anything_is_written(
    two_databases: Any, tmp_path: Path
) -> None:
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE st")
    for sql in (
        "CREATE STAGE nodb.s.st",
        "COPY INTO @nodb.s.st/x/ FROM db2.s2.tbl",
        "COPY INTO @st/x/ FROM nodb.s.tbl",
        "CREATE FILE FORMAT nodb.s.ff TYPE = CSV",
    ):
        with (
            two_databases.begin() as conn,
            pytest.raises(StageRuntimeError, match="database 'nodb' does not exist"),
        ):
            _run(conn, sql)
    assert _files(tmp_path / "stages") == []
    with two_databases.begin() as conn:
        assert [row[0] for row in _run(conn, "SHOW STAGES")] == ["st"]


def test_a_stage_does_not_move_to_another_database(two_databases: Any) -> None:
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE db2.s2.st")
    with (
        two_databases.begin() as conn,
        pytest.raises(StageRuntimeError, match="cannot move a stage to another database"),
    ):
        _run(conn, "ALTER STAGE db2.s2.st RENAME TO main.st")
    with two_databases.begin() as conn:
        _run(conn, "ALTER STAGE db2.s2.st RENAME TO db2.s2.st2")
        assert _run(conn, "SELECT namespace, name FROM db2.sqla_stage.stages") == [("s2", "st2")]
        assert _run(conn, "SELECT count(*) FROM sqla_stage.stages") == [(0,)]


def test_a_stage_created_in_a_rolled_back_transaction_is_gone(two_databases: Any) -> None:
    with two_databases.connect() as conn:
        conn.begin()
        _run(conn, "CREATE STAGE db2.s2.st")
        conn.rollback()
    with two_databases.begin() as conn, pytest.raises(StageRuntimeError, match="does not exist"):
        _run(conn, "LIST @db2.s2.st")


def test_a_read_only_database_without_a_registry(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    other = tmp_path / "ro.duckdb"
    duckdb.connect(str(other)).close()
    engine = make_engine(attach={"ro.duckdb": "ro (READ_ONLY)"})

    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="'ro' is read-only"):
        _run(conn, "CREATE STAGE ro.main.st")
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="does not exist"):
        _run(conn, "LIST @ro.main.st")


def test_quoted_database_and_schema_names(make_engine: Callable[..., Any], tmp_path: Path) -> None:
    engine = make_engine(attach={"quoted.duckdb": '"My Db"'})

    with engine.begin() as conn:
        _run(conn, 'CREATE SCHEMA "My Db"."S"')
    with engine.begin() as conn:
        _run(conn, 'CREATE TABLE "My Db"."S".t AS SELECT 42 AS answer')
    with engine.begin() as conn:
        _run(conn, 'CREATE STAGE "My Db"."S".st')
        assert _run(conn, 'SELECT namespace FROM "My Db".sqla_stage.stages') == [("S",)]
        _run(conn, 'COPY INTO @"My Db"."S".st/a/ FROM "My Db"."S".t')
        assert _run(conn, 'SELECT $1 FROM @"My Db"."S".st/a/') == [("42",)]


def test_the_stage_is_found_again_in_the_attached_file(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    """The registry is in the attached file: attached under another name, it is there."""
    other = tmp_path / "other.duckdb"
    outside = tmp_path / "outside"
    outside.mkdir()
    first = make_engine()
    with first.begin() as conn:
        _run(conn, f"ATTACH '{other}' AS db2")
        _run(conn, "CREATE SCHEMA db2.s2")
    with first.begin() as conn:
        _run(conn, f"CREATE STAGE db2.s2.ext URL = '{outside.as_uri()}/' COMMENT = 'here'")
    first.dispose()  # closes the connection, and with it db2
    (outside / "f.csv").write_text("1\n")
    second = make_engine(database="second.duckdb")
    with second.begin() as conn:
        _run(conn, f"ATTACH '{other}' AS db3")
        assert _run(conn, "SELECT $1 FROM @db3.s2.ext") == [("1",)]
        described = conn.exec_driver_sql("DESC STAGE db3.s2.ext").mappings().one()
        assert described["comment"] == "here"
        assert _run(conn, "SHOW STAGES") == []  # the current database's
        assert [row[0] for row in _run(conn, "SHOW STAGES IN DATABASE db3")] == ["ext"]
        assert [row[0] for row in _run(conn, "SHOW STAGES IN ACCOUNT")] == ["ext"]


def test_show_stages_lists_the_scope_it_is_given(two_databases: Any) -> None:
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE here")
        _run(conn, "CREATE STAGE main.also_here")
        _run(conn, "CREATE STAGE other.elsewhere")
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE db2.s2.there")

    def names(sql: str) -> list[str]:
        return sorted(row[0] for row in _run(conn, sql))

    with two_databases.begin() as conn:
        assert names("SHOW STAGES") == ["also_here", "elsewhere", "here"]
        assert names("SHOW STAGES IN DATABASE") == ["also_here", "elsewhere", "here"]
        assert names("SHOW STAGES IN SCHEMA") == ["also_here", "here"]
        assert names("SHOW STAGES IN SCHEMA other") == ["elsewhere"]
        assert names("SHOW STAGES IN DATABASE db2") == ["there"]
        assert names("SHOW STAGES IN db2.s2") == ["there"]
        assert names("SHOW STAGES IN SCHEMA db2.nothing") == []
        assert names("SHOW STAGES LIKE 'th%' IN ACCOUNT") == ["there"]
        assert names("SHOW STAGES IN ACCOUNT") == [
            "also_here",
            "elsewhere",
            "here",
            "there",
        ]
        with pytest.raises(StageRuntimeError, match="database 'nodb' does not exist"):
            _run(conn, "SHOW STAGES IN DATABASE nodb")


def test_snowflake_show_stages_names_the_database_and_schema(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine = make_engine(stage_dialect="snowflake", attach={"other.duckdb": "db2"})

    with engine.begin() as conn:
        _run(conn, "CREATE STAGE here")
    with engine.begin() as conn:
        _run(conn, "CREATE STAGE db2.s2.there")
    with engine.begin() as conn:
        rows = conn.exec_driver_sql("SHOW STAGES IN ACCOUNT").mappings().all()
        assert sorted((r["name"], r["database_name"], r["schema_name"]) for r in rows) == [
            ("HERE", "APP", "MAIN"),
            ("THERE", "DB2", "S2"),
        ]


# -- one stage, one name: a name without a schema is in the current schema ---------------


def _stage_rows(conn: sa.Connection) -> list[tuple[Any, ...]]:
    return _run(conn, "SELECT namespace, name FROM sqla_stage.stages ORDER BY ALL")


def test_every_name_of_a_stage_of_the_schema_main_is_that_stage(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine = make_engine()
    stages = tmp_path / "stages"
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE src AS SELECT range AS id FROM range(3)")
        _run(conn, "CREATE STAGE mx COMMENT = 'one'")
        assert _stage_rows(conn) == [("main", "mx")]
        for same in ("main.mx", "app.main.mx", "MAIN.mx"):
            with pytest.raises(StageRuntimeError, match="already exists"):
                _run(conn, f"CREATE STAGE {same}")
    with engine.begin() as conn:
        assert _run(conn, "COPY INTO @main.mx/a/ FROM src") == [(3, 6, 26)]
        assert _run(conn, "COPY INTO @app.main.mx/b/ FROM src")[0][0] == 3
    assert _files(stages) == [
        f"stage/internal/mx/{name}" for name in ("a/data_0_0_0.csv.gz", "b/data_0_0_0.csv.gz")
    ]
    with engine.begin() as conn:
        assert [row[0] for row in _run(conn, "LIST @mx")] == [
            "a/data_0_0_0.csv.gz",
            "b/data_0_0_0.csv.gz",
        ]
        assert _run(conn, "SELECT count(*) FROM @MAIN.mx/a/") == [(3,)]
        _run(conn, "ALTER STAGE main.mx SET COMMENT = 'two'")
        assert conn.exec_driver_sql("DESC STAGE mx").mappings().one()["comment"] == "two"
        assert [(row[0], row[5]) for row in _run(conn, "SHOW STAGES")] == [("mx", "two")]
        assert "successfully dropped" in _run(conn, "DROP STAGE app.main.mx")[0][0]
        assert _stage_rows(conn) == []
    assert _files(stages) == []
    with engine.begin() as conn, pytest.raises(StageRuntimeError, match="does not exist"):
        _run(conn, "LIST @main.mx")


def test_the_table_stage_of_main_t_is_that_of_t(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine = make_engine()
    with engine.begin() as conn:
        _run(conn, "CREATE TABLE src AS SELECT range AS id, 'v' || range AS v FROM range(3)")
        _run(conn, "CREATE TABLE tgt (id BIGINT, v VARCHAR)")
    with engine.begin() as conn:
        _run(conn, "COPY INTO @main.%tgt/x/ FROM src FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)")
    [written] = _files(tmp_path / "stages")
    assert written == "stage/table/tgt/x/data_0_0_0.csv"
    assert (tmp_path / "stages" / written).read_text() == "0,v0\n1,v1\n2,v2\n"
    with engine.begin() as conn:
        assert [row[0] for row in _run(conn, "LIST @%tgt")] == ["x/data_0_0_0.csv"]
        loaded = _run(conn, "COPY INTO tgt FROM @%tgt/x/")
        assert [row[1:3] for row in loaded] == [("LOADED", 3)]
        # one load history: main.tgt from @app.main.%tgt is the table and file just loaded
        again = _run(conn, "COPY INTO main.tgt FROM @app.main.%tgt/x/")
        assert again == [("Copy executed with 0 files processed.",)]
        assert _run(conn, "SELECT * FROM tgt ORDER BY id") == [(0, "v0"), (1, "v1"), (2, "v2")]
        assert _run(conn, "SELECT table_name FROM sqla_stage.load_history") == [("main.tgt",)]


def test_a_name_without_a_schema_is_in_the_current_schema(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    """Snowflake's rule: ``USE`` / ``SET schema`` change where ``st`` and ``%t`` are."""
    engine = make_engine(stage_dialect="snowflake")
    stages = tmp_path / "stages"
    with engine.begin() as conn:
        _run(conn, "CREATE SCHEMA other")
        _run(conn, "CREATE TABLE t AS SELECT 'main' AS here")
        _run(conn, "CREATE TABLE other.t AS SELECT 'other' AS here")
    with engine.connect() as conn:  # USE holds for this connection
        _run(conn, "USE other")
        _run(conn, "CREATE STAGE st")
        _run(conn, "COPY INTO @st/a/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)")
        _run(conn, "COPY INTO @%t/a/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)")
        conn.commit()
        assert _stage_rows(conn) == [("other", "st")]
        rows = conn.exec_driver_sql("SHOW STAGES").mappings().all()
        assert [(r["name"], r["schema_name"]) for r in rows] == [("ST", "OTHER")]
        _run(conn, "SET schema = 'main'")
        with pytest.raises(StageRuntimeError, match="stage @st does not exist"):
            _run(conn, "LIST @st")
        assert [row[0] for row in _run(conn, "LIST @other.st")] == ["a/data_0_0_0.csv"]
        # SHOW STAGES lists the current database's; IN SCHEMA the current schema's
        rows = conn.exec_driver_sql("SHOW STAGES").mappings().all()
        assert [(r["name"], r["schema_name"]) for r in rows] == [("ST", "OTHER")]
        assert _run(conn, "SHOW STAGES IN SCHEMA") == []
        _run(conn, "CREATE STAGE st")  # main.st: another stage
        _run(conn, "COPY INTO @%t/a/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)")
        conn.commit()
        assert _stage_rows(conn) == [("main", "st"), ("other", "st")]
        conn.rollback()
    assert _files(stages) == [
        "stage/internal/other.st/a/data_0_0_0.csv",
        "stage/table/other.t/a/data_0_0_0.csv",
        "stage/table/t/a/data_0_0_0.csv",
    ]
    assert (stages / "stage/table/other.t/a/data_0_0_0.csv").read_text() == "other\n"
    assert (stages / "stage/table/t/a/data_0_0_0.csv").read_text() == "main\n"
    assert (stages / "stage/internal/other.st/a/data_0_0_0.csv").read_text() == "other\n"


def test_a_stage_registered_before_namespaces_is_the_stage_of_main(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    """Releases before namespaces keyed every stage ``""``, its files in ``internal/<name>``."""
    engine = make_engine()
    with engine.begin() as conn:
        _run(conn, "CREATE STAGE old")
        _run(conn, "CREATE FILE FORMAT pipes TYPE = CSV FIELD_DELIMITER = '|'")
    with engine.begin() as conn:  # as an earlier release left them
        _run(conn, "UPDATE sqla_stage.stages SET namespace = ''")
        _run(conn, "UPDATE sqla_stage.file_formats SET namespace = ''")
    folder = tmp_path / "stages" / "stage" / "internal" / "old" / "in"
    folder.mkdir(parents=True)
    (folder / "f.csv").write_text("1|a\n")
    with engine.begin() as conn:
        assert [row[0] for row in _run(conn, "LIST @old")] == ["in/f.csv"]
        assert _run(conn, "SELECT $2 FROM @main.old (FILE_FORMAT => 'main.pipes')") == [("a",)]
        with pytest.raises(StageRuntimeError, match="already exists"):
            _run(conn, "CREATE STAGE main.old")
        with pytest.raises(StageRuntimeError, match="already exists"):
            _run(conn, "CREATE FILE FORMAT main.pipes TYPE = CSV")
    with engine.connect() as conn:
        _run(conn, "CREATE SCHEMA other")
        _run(conn, "USE other")
        with pytest.raises(StageRuntimeError, match="stage @old does not exist"):
            _run(conn, "LIST @old")
        assert [row[0] for row in _run(conn, "SHOW STAGES IN SCHEMA main")] == ["old"]
        _run(conn, "ALTER STAGE main.old SET COMMENT = 'kept'")
        assert _run(conn, "DROP FILE FORMAT main.pipes")
        conn.commit()
        _run(conn, "USE main")  # the pooled connection keeps its schema
    with engine.begin() as conn:
        assert _run(conn, "SELECT namespace, name, comment FROM sqla_stage.stages") == [
            ("", "old", "kept")
        ]
        assert _run(conn, "SELECT count(*) FROM sqla_stage.file_formats") == [(0,)]
        _run(conn, "DROP STAGE old")
        assert _stage_rows(conn) == []
    assert _files(tmp_path / "stages") == []


def test_databend_stages_are_global_whatever_the_current_schema(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine = make_engine(stage_dialect="databend")
    with engine.connect() as conn:
        _run(conn, "CREATE SCHEMA other")
        _run(conn, "USE other")
        _run(conn, "CREATE STAGE g")
        _run(conn, "COPY INTO @g/a/ FROM (SELECT 1 AS one)")
        conn.commit()
        assert _stage_rows(conn) == [("main", "g")]
        _run(conn, "USE main")
        assert len(_run(conn, "LIST @g")) == 1
        conn.rollback()
    [written] = _files(tmp_path / "stages")
    assert written.startswith("stage/internal/g/a/")


def test_a_sub_stage_of_st_is_one_of_main_st(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine = make_engine()
    with engine.begin() as conn:
        _run(conn, "CREATE STAGE parent")
        _run(conn, "CREATE STAGE sub URL = 'stage://main.parent/part/'")
        _run(conn, "COPY INTO @sub/x/ FROM (SELECT 1 AS one)")
    assert _files(tmp_path / "stages") == ["stage/internal/parent/part/x/data_0_0_0.csv.gz"]
    with engine.begin() as conn:
        assert [row[0] for row in _run(conn, "LIST @parent")] == ["part/x/data_0_0_0.csv.gz"]
        _run(conn, "REMOVE @parent/part/")
    for name in ("parent", "app.main.parent"):
        with engine.begin() as conn, pytest.raises(StageRuntimeError, match="sub-stage of it"):
            _run(conn, f"ALTER STAGE {name} RENAME TO p2")


def test_reading_a_stage_follows_the_schema_of_the_connection(
    make_engine: Callable[..., Any],
) -> None:
    """``read_arrow`` reads through a cursor of its own, in the connection's schema."""
    engine = make_engine()
    with engine.connect() as conn:
        _run(conn, "CREATE SCHEMA other")
        _run(conn, "CREATE STAGE st")
        _run(conn, "COPY INTO @st/a/ FROM (SELECT 'main' AS here)")
        _run(conn, "USE other")
        _run(conn, "CREATE STAGE st")
        _run(conn, "COPY INTO @st/a/ FROM (SELECT 'other' AS here)")
        conn.commit()
        assert Stage("st").read_arrow(conn, "a/").column(0).to_pylist() == ["other"]
        assert Stage("st", schema="main").read_arrow(conn, "a/").column(0).to_pylist() == ["main"]
        _run(conn, "USE main")
        assert Stage("st").read_arrow(conn, "a/").column(0).to_pylist() == ["main"]


def test_names_are_refused_while_another_database_is_the_current_one(
    two_databases: Any, tmp_path: Path
) -> None:
    """``st`` of db2's main would take the folder of app's ``st``: refused, nothing written."""
    with two_databases.begin() as conn:
        _run(conn, "CREATE STAGE st")
    with two_databases.begin() as conn:
        _run(conn, "CREATE TABLE db2.main.t AS SELECT 1 AS one")
    with two_databases.connect() as conn:
        _run(conn, "USE db2")
        for sql in (
            "CREATE STAGE st",
            "COPY INTO @st/x/ FROM db2.s2.tbl",
            "COPY INTO @app.main.st/x/ FROM db2.s2.tbl",
            "COPY INTO @%t/x/ FROM db2.s2.tbl",
            "CREATE FILE FORMAT ff TYPE = CSV",
        ):
            with pytest.raises(StageRuntimeError, match="the current database is 'db2'"):
                _run(conn, sql)
            conn.rollback()
        _run(conn, "USE app")
        assert _run(conn, "COPY INTO @st/x/ FROM db2.s2.tbl")[0][0] == 3
        conn.commit()
    assert [name.rsplit("/", 1)[0] for name in _files(tmp_path / "stages")] == [
        "stage/internal/st/x"
    ]
    with two_databases.begin() as conn:  # nothing was registered in db2
        registry = "database_name = 'db2' AND schema_name = 'sqla_stage'"
        assert _run(conn, f"SELECT count(*) FROM duckdb_tables() WHERE {registry}") == [(0,)]
