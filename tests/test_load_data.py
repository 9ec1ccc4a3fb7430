"""MatrixOne's LOAD DATA (issue 14): the construct, its SQL, the parser and the runtime."""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb_engine
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

from sqla_stage import (
    LoadData,
    Stage,
    StageArgumentError,
    StageDataError,
    StageParseError,
    StageProgrammingError,
    parse,
)
from sqla_stage.runtime.load.load_data import duckdb_expression

t1 = sa.table("t1")

# -- compile and parse ----------------------------------------------------------------------

CONSTRUCTS = [
    LoadData(t1, Stage("stage_fs") / "t1.csv"),
    LoadData(t1, "stage://stage_fs/dir/t1.csv", ignore_lines=1),
    LoadData(
        sa.table("My Tab", schema="sch"),
        "/data/it's.csv",
        local=True,
        fields_terminated_by="|",
        enclosed_by='"',
        optionally_enclosed=True,
        escaped_by="\\",
        lines_terminated_by="\r\n",
        ignore_lines=2,
        columns=["a", "@b", "C d"],
        set={"e": "nullif(@b, 'null')", "f": sa.literal_column("a || 'x%y'")},
        character_set="utf8",
        parallel=False,
        strict=True,
    ),
    LoadData(t1, "/d/a.jl", format="jsonline", jsondata="array"),
    LoadData(t1, "/d/a.jl", format="jsonline"),
    LoadData(t1, "x.csv", escaped_by="", enclosed_by="", lines_starting_by="xx"),
    LoadData(t1, {"endpoint": "hdfs://127.0.0.1:9000", "filepath": "/user/t1.csv"}),
]
DIALECTS: list[tuple[str, Dialect | None]] = [
    ("mysql", mysql.dialect()),
    ("duckdb", duckdb_engine.Dialect()),
    ("default", None),
]


def compiled(construct: Any, dialect: Dialect | None) -> str:
    return str(construct) if dialect is None else str(construct.compile(dialect=dialect))


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=repr)
@pytest.mark.parametrize(("name", "dialect"), DIALECTS, ids=[d[0] for d in DIALECTS])
def test_compile_parse_round_trip(construct: LoadData, name: str, dialect: Dialect | None) -> None:
    text = compiled(construct, dialect)
    back = parse(text, dialect=dialect)
    assert isinstance(back, LoadData)
    assert compiled(back, dialect) == text
    assert back._sql_key == construct._sql_key


def test_matrixone_and_duckdb_text() -> None:
    element = CONSTRUCTS[2]
    assert compiled(element, mysql.dialect()) == (
        "LOAD DATA LOCAL INFILE '/data/it''s.csv' INTO TABLE sch.`My Tab` CHARACTER SET utf8 "
        "FIELDS TERMINATED BY '|' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\' "
        "LINES TERMINATED BY '\r\n' IGNORE 2 LINES (a, @b, `C d`) "
        "SET e = nullif(@b, 'null'), f = a || 'x%%y' PARALLEL 'FALSE' STRICT 'TRUE'"
    )
    assert compiled(element, None) == (
        "LOAD DATA LOCAL INFILE '/data/it''s.csv' INTO TABLE sch.\"My Tab\" CHARACTER SET utf8 "
        "FIELDS TERMINATED BY '|' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\' "
        "LINES TERMINATED BY '\r\n' IGNORE 2 LINES (a, @b, \"C d\") "
        "SET e = nullif(@b, 'null'), f = a || 'x%y' PARALLEL 'FALSE' STRICT 'TRUE'"
    )
    assert compiled(CONSTRUCTS[3], None) == (
        "LOAD DATA INFILE {'filepath'='/d/a.jl', 'format'='jsonline', 'jsondata'='array'} "
        "INTO TABLE t1"
    )


def test_duckdb_masks_s3option_secrets() -> None:
    element = LoadData(t1, {"filepath": "a.csv", "secret_access_key": "s3cr3t"})
    assert "s3cr3t" not in compiled(element, duckdb_engine.Dialect())
    assert "s3cr3t" not in repr(element)
    assert "s3cr3t" in compiled(element, mysql.dialect())


@pytest.mark.parametrize(
    "dialect", [snowdialect.SnowflakeDialect(), databend_dialect.DatabendDialect()]
)
def test_snowflake_and_databend_refuse(dialect: Dialect) -> None:
    with pytest.raises(sa.exc.CompileError, match=r"LOAD DATA.*MatrixOne.*CopyInto"):
        CONSTRUCTS[0].compile(dialect=dialect)


def test_parse_matrixone_spellings() -> None:
    element = parse(
        "load data local infile 'a.csv' into table s.t character set utf8mb4 columns escaped by "
        "'' optionally enclosed by '\"' terminated by '\\t' lines terminated by '\\r\\n' "
        "ignore 2 rows (a, @b) set c = nullif(@b, \"null\"), d = concat(a, ',') "
        "parallel 'false' strict 'true';",
        dialect=mysql.dialect(),
    )
    assert isinstance(element, LoadData)
    assert element.local and element.optionally_enclosed
    assert element.text_options == {
        "fields_terminated_by": "\t",
        "enclosed_by": '"',
        "escaped_by": "",
        "lines_terminated_by": "\r\n",
    }
    assert (element.ignore_lines, element.columns) == (2, ("a", "@b"))
    assert element.assignments == (("c", 'nullif(@b, "null")'), ("d", "concat(a, ',')"))
    assert (element.character_set, element.parallel, element.strict) == ("utf8mb4", False, True)


@pytest.mark.parametrize(
    ("sql", "position"),
    [
        ("LOAD DATA INTO TABLE t", 10),
        ("LOAD DATA INFILE 'a' INTO t", 26),
        ("LOAD DATA INFILE 'a' INTO TABLE t FIELDS", 40),
        ("LOAD DATA INFILE {'path'='a'} INTO TABLE t", 18),
        ("LOAD DATA INFILE {'filepath'='a','format'='xml'} INTO TABLE t", 17),
        ("LOAD DATA INFILE 'a' INTO TABLE t IGNORE x LINES", 41),
        ("LOAD DATA INFILE 'a' INTO TABLE t SET a =", 41),
        ("LOAD DATA INFILE 'a' INTO TABLE t PARALLEL 'maybe'", 43),
        ("LOAD DATA INFILE 'a' INTO TABLE t LINES STARTING BY 'x' STARTING BY 'y'", 56),
    ],
)
def test_parse_errors_have_positions(sql: str, position: int) -> None:
    with pytest.raises(StageParseError) as caught:
        parse(sql)
    assert caught.value.position == position


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"enclosed_by": "ab"}, "one character"),
        ({"fields_terminated_by": ""}, "cannot be empty"),
        ({"format": "jsonline", "fields_terminated_by": ","}, "JSON lines"),
        ({"columns": ["a", "A"]}, "twice"),
        ({"columns": ["@1x"]}, "@variable"),
        ({"set": {"a": 1}}, "SQL text"),
        ({"ignore_lines": -1}, "non-negative"),
        ({"jsondata": "array"}, "jsonline"),
    ],
)
def test_construct_refuses(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        LoadData(t1, "a.csv", **arguments)


def test_set_expressions_become_duckdb_sql() -> None:
    assert duckdb_expression('nullif(id,"null")') == "nullif(id,'null')"
    assert duckdb_expression("concat(`a b`, @v, 'x\\ty') >= 1") == (
        'concat("a b", "@v", \'x\ty\') >= 1'
    )
    with pytest.raises(StageProgrammingError):
        duckdb_expression("1; DROP TABLE t")


# -- the runtime -------------------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'app.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp_path / "stages"),
        stage_user="me",
    )
    yield engine
    engine.dispose()


def load(engine: sa.Engine, table: str, sql: str) -> list[tuple[Any, ...]]:
    with engine.begin() as conn:
        result = conn.exec_driver_sql(sql)
        assert [tuple(row) for row in result] == [(result_count(engine, table, conn),)]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table}")]


def result_count(engine: sa.Engine, table: str, conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def setup(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def test_delimiters_enclosures_and_crlf(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b'1,"a,b"\r\n2,"say ""hi"""\r\n3,plain\r\n')
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR)")
    rows = load(
        engine,
        "t",
        f"LOAD DATA INFILE '{path}' INTO TABLE t FIELDS TERMINATED BY ',' "
        "OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n'",
    )
    assert rows == [(1, "a,b"), (2, 'say "hi"'), (3, "plain")]


def test_multi_character_terminators(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text("1<>x<>2020-01-02##2<>y<>2021-03-04##")
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR, d DATE)")
    rows = load(
        engine,
        "t",
        f"LOAD DATA INFILE '{path}' INTO TABLE t FIELDS TERMINATED BY '<>' "
        "LINES TERMINATED BY '##'",
    )
    assert [(n, s, str(d)) for n, s, d in rows] == [(1, "x", "2020-01-02"), (2, "y", "2021-03-04")]


def test_escapes_null_and_empty_fields(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_text('1\ta\\tb\\nc\\\\d\n\\N\t\\N\n \t\n3\t"q\\"x"\n')
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR)")
    rows = load(engine, "t", f"LOAD DATA INFILE '{path}' INTO TABLE t")
    assert rows == [(1, "a\tb\nc\\d"), (None, None), (None, ""), (3, 'q"x')]


def test_ignore_lines_column_list_variables_and_set(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,skip,score\n1,ann,zz,10\nnull,bob,zz,n/a\n3,cy,zz,7\n")
    setup(engine, "CREATE TABLE t (id INT, name VARCHAR, score INT, doubled INT DEFAULT 0)")
    rows = load(
        engine,
        "t",
        f"LOAD DATA INFILE '{path}' INTO TABLE t FIELDS TERMINATED BY ',' IGNORE 1 LINES "
        '(id, name, @skip, @score) SET id = nullif(id, "null"), '
        "score = nullif(@score, 'n/a'), doubled = CAST(nullif(@score, 'n/a') AS INT) * 2",
    )
    assert rows == [(1, "ann", 10, 20), (None, "bob", None, None), (3, "cy", 7, 14)]


def test_stage_source_and_construct(engine: sa.Engine, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "t1.csv").write_text("1\ta\n2\tb\n")
    (folder / "t2.csv.gz").write_bytes(gzip.compress(b"3\tc\n"))
    setup(
        engine,
        f"CREATE STAGE fs URL = 'file://{folder}'",
        "CREATE TABLE t (n INT, s VARCHAR)",
    )
    with engine.begin() as conn:
        result = conn.execute(LoadData(sa.table("t"), Stage("fs") / "t1.csv"))
        assert [tuple(r) for r in result] == [(2,)]
        conn.exec_driver_sql("LOAD DATA INFILE 'stage://fs/t2.csv.gz' INTO TABLE t")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT * FROM t ORDER BY n").fetchall() == [
            (1, "a"),
            (2, "b"),
            (3, "c"),
        ]


def test_json_lines_object_and_array(engine: sa.Engine, tmp_path: Path) -> None:
    objects = tmp_path / "o.jl"
    objects.write_text(
        '{"ID": 1, "name": "x", "extra": 0, "doc": {"a": [1, 2.50]}}\n\n'
        '{"id": 2, "name": null, "doc": "s"}\n'
    )
    arrays = tmp_path / "a.jl"
    arrays.write_text('[true, 3, "z", [1]]\n["false", "4", "w", null]\n')
    setup(engine, "CREATE TABLE j (id INT, name VARCHAR, doc JSON)")
    setup(engine, "CREATE TABLE k (b BOOLEAN, n INT, s VARCHAR, doc JSON)")
    rows = load(
        engine,
        "j",
        f"LOAD DATA INFILE {{'filepath'='{objects}','format'='jsonline','jsondata'='object'}} "
        "INTO TABLE j",
    )
    assert rows == [(1, "x", {"a": [1, 2.5]}), (2, None, "s")]
    with engine.connect() as conn:
        texts = conn.exec_driver_sql("SELECT doc::VARCHAR FROM j ORDER BY id").scalars().all()
    # DuckDB's JSON text: nested values are written compactly, numbers as DuckDB reads them.
    assert texts == ['{"a":[1,2.5]}', '"s"']
    rows = load(
        engine,
        "k",
        f"LOAD DATA INFILE {{'filepath'='{arrays}','format'='jsonline','jsondata'='array'}} "
        "INTO TABLE k IGNORE 1 LINES",
    )
    assert rows == [(False, 4, "w", None)]


def test_mysql_reading_rules_in_sql(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "m.txt"
    path.write_text(
        '"aa"aa"|x\\|y\n'  # a stray quote is kept; an escaped terminator is text
        '""|"two\nlines"\n'  # an empty enclosed field; a line break inside an enclosure
        '"a""|b"|\\N\n'  # a doubled quote, then the terminator as text; \N is NULL
        '"\\N"|tail\\'  # an enclosed \N is "N"; a lone escape at the end is kept
    )
    setup(engine, "CREATE TABLE t (a VARCHAR, b VARCHAR)")
    rows = load(engine, "t", f"LOAD DATA INFILE '{path}' INTO TABLE t FIELDS TERMINATED BY '|'")
    assert rows == [
        ('aa"aa', "x|y"),
        ("", "two\nlines"),
        ('a"|b', None),
        ("N", "tail\\"),
    ]


def test_trailing_field_bz2_and_records_on_one_line(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "b.txt.bz2"
    path.write_bytes(bz2.compress(b"3,c#1,#2,b"))
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR)")
    sql = f"LOAD DATA INFILE '{path}' INTO TABLE t FIELDS TERMINATED BY ',' LINES TERMINATED BY '#'"
    assert load(engine, "t", sql) == [(3, "c"), (1, ""), (2, "b")]


def test_unclosed_field_that_regex_could_close_is_an_error(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # MatrixOne's reader pairs the "" and never closes the field; another cut would close it.
    path = tmp_path / "u.txt"
    path.write_text('1|ok\n2|"a""|b\n')
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR)")
    with pytest.raises(StageDataError, match="line 2: a field opened with"), engine.begin() as c:
        c.exec_driver_sql(f"LOAD DATA INFILE '{path}' INTO TABLE t FIELDS TERMINATED BY '|'")


def test_not_utf8_is_an_error(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_bytes(b"1\t\xe9t\xe9\n")
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR)")
    with pytest.raises(StageDataError, match="not UTF-8"), engine.begin() as conn:
        conn.exec_driver_sql(f"LOAD DATA INFILE '{path}' INTO TABLE t")


@pytest.mark.parametrize(
    ("content", "columns", "message"),
    [
        ('{"a": 1, "A": 2}\n', "(a INT)", "two keys for 'a'"),
        ('{"a": 0.12345678901234567}\n', "(a DECIMAL(18, 17))", "more than 15 significant"),
        ('{"a": 2.50}\n', "(a VARCHAR)", "number with a fraction or an exponent read into"),
        ('{"a": {"b": 1}}\n', "(a VARCHAR)", "a nested JSON value read into"),
    ],
)
def test_json_values_duckdb_cannot_keep_are_refused(
    engine: sa.Engine, tmp_path: Path, content: str, columns: str, message: str
) -> None:
    path = tmp_path / "j.jl"
    path.write_text(content)
    setup(engine, f"CREATE TABLE t {columns}")
    sql = f"LOAD DATA INFILE {{'filepath'='{path}','format'='jsonline'}} INTO TABLE t"
    with pytest.raises(StageProgrammingError, match=message), engine.begin() as conn:
        conn.exec_driver_sql(sql)


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("LINES STARTING BY 'x'", "LINES STARTING BY"),
        ("FIELDS ESCAPED BY '\"'", "ESCAPED BY equal to ENCLOSED BY"),
        ("FIELDS TERMINATED BY '|' ESCAPED BY '|'", "ESCAPED BY '|' inside the field"),
        ("PARALLEL 'TRUE'", "PARALLEL"),
        ("CHARACTER SET gbk", "CHARACTER SET gbk"),
    ],
)
def test_refusals_name_the_feature(
    engine: sa.Engine, tmp_path: Path, clause: str, message: str
) -> None:
    path = tmp_path / "r.txt"
    path.write_text("1\ta\n")
    setup(engine, "CREATE TABLE t (n INT, s VARCHAR)")
    sql = f"LOAD DATA INFILE '{path}' INTO TABLE t {clause}"
    with pytest.raises(StageProgrammingError, match=message), engine.begin() as conn:
        conn.exec_driver_sql(sql)
    with pytest.raises(StageProgrammingError, match="s3option"), engine.begin() as conn:
        conn.exec_driver_sql(
            "LOAD DATA URL s3option {'endpoint'='hdfs://127.0.0.1:9000','filepath'='/t1.csv'} "
            "INTO TABLE t"
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\ta\nx\tb\n", "line 2: cannot convert 'x' to INTEGER for column 'n'"),
        ("1\ta\n2\n", "line 2 has 1 fields"),
        ('1\t"open\n', "not closed"),
        ("1\ta\n\\N\tb\n", "NULL in the NOT NULL column 'n'"),
    ],
)
def test_a_failed_load_changes_nothing(
    engine: sa.Engine, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    setup(engine, "CREATE TABLE t (n INT NOT NULL, s VARCHAR)", "INSERT INTO t VALUES (0, 'old')")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (9, 'same transaction')")
        with pytest.raises(StageDataError, match=message):
            conn.exec_driver_sql(f"LOAD DATA INFILE '{path}' INTO TABLE t")
        # The transaction is still usable: the check ran before anything was written.
        conn.exec_driver_sql("INSERT INTO t VALUES (10, 'after')")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM t ORDER BY n").fetchall() == [
            (0,),
            (9,),
            (10,),
        ]


def test_missing_file_and_unknown_column(engine: sa.Engine, tmp_path: Path) -> None:
    setup(engine, "CREATE TABLE t (n INT)", f"CREATE STAGE fs URL = 'file://{tmp_path}'")
    with pytest.raises(sa.exc.SQLAlchemyError, match="cannot read"), engine.begin() as conn:
        conn.exec_driver_sql(f"LOAD DATA INFILE '{tmp_path}/none.csv' INTO TABLE t")
    with pytest.raises(StageProgrammingError, match="no file"), engine.begin() as conn:
        conn.exec_driver_sql("LOAD DATA INFILE 'stage://fs/none.csv' INTO TABLE t")
    with pytest.raises(StageProgrammingError, match="no column 'zz'"), engine.begin() as conn:
        conn.exec_driver_sql(f"LOAD DATA INFILE '{tmp_path}/x' INTO TABLE t (zz)")
