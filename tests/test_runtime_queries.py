"""Queries over staged files and MatrixOne's INTO OUTFILE on the DuckDB runtime."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pytest
import sqlalchemy as sa

from sqla_stage import CSV, FileFormat, Parquet, SelectIntoOutfile, Stage, staged
from sqla_stage.errors import StageRuntimeError

# The spec's MySQL table, in DuckDB's quotes: DuckDB before 2.0 does not read backticks.
CREATE_USER = 'CREATE TABLE "user" ("id" int ,"user_name" varchar(255) ,"sex" varchar(255))'
INSERT_USERS = (
    "INSERT INTO user(id,user_name,sex) values('1', 'weder', 'man'), ('2', 'tom', 'man'), "
    "('3', 'wederTom', 'man')"
)
USER_CSV = 'id,user_name,sex\n1,"weder","man"\n2,"tom","man"\n3,"wederTom","man"\n'


def internal(tmp_path: Path, name: str) -> Path:
    return tmp_path / "stages" / "stage" / "internal" / name


def write_parquet(conn: Any, path: Path, select: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn.exec_driver_sql(f"COPY ({select}) TO '{path}' (FORMAT parquet)")


@pytest.fixture
def staged_parquet(engine: Any, tmp_path: Path) -> Any:
    """Stage ``s`` with p/a.parquet (a 0..4) and p/b.parquet (a 5..7), b = 'x<a>'."""
    folder = internal(tmp_path, "s") / "p"
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        write_parquet(
            conn, folder / "a.parquet", "SELECT range AS a, 'x' || range AS b FROM range(5)"
        )
        write_parquet(
            conn, folder / "b.parquet", "SELECT range AS a, 'x' || range AS b FROM range(5, 8)"
        )
    return engine


# Queries over staged files


def test_staged_construct_with_bind_parameter(staged_parquet: Any) -> None:
    files = staged(Stage("s") / "p/", file_format=Parquet(), columns=("a", "b"))
    query = sa.select(files.c.a, files.c.b).where(files.c.a >= 6).order_by(files.c.a)
    with staged_parquet.connect() as conn:
        assert conn.execute(query).all() == [(6, "x6"), (7, "x7")]


def test_staged_construct_with_pattern(staged_parquet: Any) -> None:
    files = staged(Stage("s") / "p/", file_format=Parquet(), pattern=r".*b\.parquet")
    query = sa.select(sa.func.count()).select_from(files)
    with staged_parquet.connect() as conn:
        assert conn.execute(query).scalar() == 3


def test_text_query(staged_parquet: Any) -> None:
    with staged_parquet.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT count(*), sum(a) FROM @s/p/ (FILE_FORMAT => 'parquet')"
        ).all()
        assert rows == [(8, 28)]
        rows = conn.exec_driver_sql(
            "select * from @s/p (file_format => 'PARQUET', pattern => '.*a[.]parquet') "
            "where a > $1 order by a",
            (2,),
        ).all()
        assert rows == [(3, "x3"), (4, "x4")]


def test_where_with_bind_parameters_after_the_files(staged_parquet: Any) -> None:
    with staged_parquet.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT b FROM @s/p/ (FILE_FORMAT => 'parquet') WHERE a BETWEEN :lo AND :hi "
                "ORDER BY a"
            ),
            {"lo": 4, "hi": 5},
        ).all()
    assert rows == [("x4",), ("x5",)]


def test_join_with_a_table_and_a_from_list(staged_parquet: Any) -> None:
    with staged_parquet.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE names (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("INSERT INTO names VALUES (1, 'one'), (6, 'six'), (9, 'nine')")
        joined = conn.exec_driver_sql(
            "SELECT n.name, f.b FROM names n JOIN @s/p/ (FILE_FORMAT => 'parquet') f "
            "ON f.a = n.id ORDER BY n.id"
        ).all()
        assert joined == [("one", "x1"), ("six", "x6")]
        listed = conn.exec_driver_sql(
            "SELECT count(*) FROM names n, @s/p/ (FILE_FORMAT => 'parquet') AS f WHERE f.a = n.id"
        ).scalar()
        assert listed == 2


def test_subquery_insert_select_and_create_table_as(staged_parquet: Any) -> None:
    with staged_parquet.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a BIGINT, b VARCHAR)")
        conn.exec_driver_sql(
            "INSERT INTO t (a, b) SELECT * FROM @s/p/ (FILE_FORMAT => 'parquet') WHERE a < 2"
        )
        conn.exec_driver_sql(
            "CREATE TABLE big AS SELECT a FROM @s/p/ (FILE_FORMAT => 'parquet') WHERE a > 6"
        )
        assert conn.exec_driver_sql("SELECT * FROM t ORDER BY a").all() == [(0, "x0"), (1, "x1")]
        assert conn.exec_driver_sql("SELECT * FROM big").all() == [(7,)]
        nested = conn.exec_driver_sql(
            "SELECT max(a) FROM (SELECT a FROM @s/p/ (FILE_FORMAT => 'parquet') "
            "WHERE a IN (SELECT a FROM t))"
        ).scalar()
        assert nested == 1


def test_stage_file_format_is_the_default(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE pq FILE_FORMAT = (TYPE = PARQUET)")
        write_parquet(conn, internal(tmp_path, "pq") / "x.parquet", "SELECT 42 AS answer")
        assert conn.exec_driver_sql("SELECT answer FROM @pq").all() == [(42,)]


def test_csv_header_only_from_the_format_and_positional_columns(
    engine: Any, tmp_path: Path
) -> None:
    folder = internal(tmp_path, "c") / "in"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("id,name\n1,ann\n2,bob\n")
    (folder / "raw.csv").write_text("10,x\n20,y\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE c")
        conn.exec_driver_sql(  # MatrixOne's INTO OUTFILE encloses in '"'
            "CREATE FILE FORMAT head TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"'"
        )
        rows = conn.exec_driver_sql(
            "SELECT id, name FROM @c/in/a.csv (FILE_FORMAT => 'head') ORDER BY id"
        ).all()
        assert rows == [("1", "ann"), ("2", "bob")]  # CSV fields are text, as in Snowflake
        # No header in the format: the first line is data (CSV is never header-sniffed).
        raw = conn.exec_driver_sql("SELECT $1, $2 FROM @c/in/a.csv (FILE_FORMAT => 'csv')")
        assert raw.all() == [("id", "name"), ("1", "ann"), ("2", "bob")]
        positional = conn.exec_driver_sql(
            "SELECT $2, $1::int + 1 FROM @c/in/ (PATTERN => '.*raw[.]csv') WHERE $1::int > 10"
        ).all()
        assert positional == [("y", 21)]


def test_json_and_explicit_no_header(engine: Any, tmp_path: Path) -> None:
    folder = internal(tmp_path, "j")
    folder.mkdir(parents=True)
    (folder / "a.ndjson").write_text('{"k": "a", "v": 1}\n{"k": "b", "v": 2}\n')
    (folder / "h.csv").write_text("k,v\na,1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE j")
        conn.exec_driver_sql("CREATE FILE FORMAT nohead TYPE = CSV SKIP_HEADER = 0")
        rows = conn.exec_driver_sql(
            "SELECT k, v FROM @j (FILE_FORMAT => 'json', PATTERN => '.*json') ORDER BY v"
        ).all()
        assert rows == [("a", 1), ("b", 2)]
        raw = conn.exec_driver_sql("SELECT * FROM @j/h.csv (FILE_FORMAT => 'nohead')").all()
        assert raw == [("k", "v"), ("a", "1")]


def test_named_csv_format(engine: Any, tmp_path: Path) -> None:
    folder = internal(tmp_path, "c")
    folder.mkdir(parents=True)
    (folder / "semi.txt").write_text("title line\nk;v\na;1\nb;NULL\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE c")
        conn.exec_driver_sql(
            "CREATE FILE FORMAT semi TYPE = CSV FIELD_DELIMITER = ';' SKIP_HEADER = 2 "
            "NULL_IF = ('NULL')"
        )
        rows = conn.exec_driver_sql(
            "SELECT k, v FROM @c (FILE_FORMAT => 'semi', PATTERN => '.*[.]txt') ORDER BY k"
        ).all()
        assert rows == [("a", "1"), ("b", None)]
        files = staged(Stage("c"), file_format=FileFormat("semi"), columns=("k",))
        assert conn.execute(sa.select(sa.func.count(files.c.k)).select_from(files)).scalar() == 2


def test_put_then_query_user_stage(engine: Any, tmp_path: Path) -> None:
    source = tmp_path / "local" / "people.csv"
    source.parent.mkdir()
    source.write_text("id,name\n7,gus\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{source} @~/up/")
        assert (tmp_path / "stages/stage/user/alice/up/people.csv.gz").exists()
        conn.exec_driver_sql(  # MatrixOne's INTO OUTFILE encloses in '"'
            "CREATE FILE FORMAT head TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"'"
        )
        named = conn.exec_driver_sql("SELECT name FROM @~/up/ (FILE_FORMAT => head) WHERE id = '7'")
        assert named.all() == [("gus",)]
        files = staged(Stage.user() / "up/", file_format=FileFormat("head"), columns=("id",))
        assert conn.execute(sa.select(files.c.id).select_from(files)).all() == [("7",)]
        positional = staged(Stage.user() / "up/", file_format=CSV())
        query = sa.select(sa.literal_column("$2")).select_from(positional)
        assert conn.execute(query).all() == [("name",), ("gus",)]


def test_memory_external_stage(engine: Any, tmp_path: Path) -> None:
    root = f"memory://sqla-q-{uuid.uuid4().hex}/data"
    fs = fsspec.filesystem("memory")
    local = tmp_path / "m.parquet"
    with engine.begin() as conn:
        write_parquet(conn, local, "SELECT 1 AS n UNION ALL SELECT 2")
        fs.put_file(str(local), root.removeprefix("memory://") + "/day=1/m.parquet")
        conn.exec_driver_sql(f"CREATE STAGE mem URL = '{root}'")
        total = conn.exec_driver_sql(
            "SELECT sum(n) FROM @mem/day=1/ (FILE_FORMAT => 'parquet')"
        ).scalar()
        assert total == 3
        listed = conn.exec_driver_sql("SELECT name FROM list_stage(location => '@mem')").all()
        assert listed == [("day=1/m.parquet",)]


def test_list_stage(staged_parquet: Any, tmp_path: Path) -> None:
    with staged_parquet.connect() as conn:
        result = conn.exec_driver_sql("SELECT * FROM list_stage(location => '@s')")
        assert list(result.keys()) == ["name", "size", "md5", "last_modified", "creator"]
        rows = result.all()
        assert [row.name for row in rows] == ["p/a.parquet", "p/b.parquet"]
        local = internal(tmp_path, "s") / "p" / "a.parquet"
        assert rows[0].size == local.stat().st_size
        assert len(rows[0].md5) == 32
        assert isinstance(rows[0].last_modified, dt.datetime)
        assert rows[0].creator is None
        pattern = conn.exec_driver_sql(
            "SELECT name FROM LIST_STAGE(LOCATION => '@s/p/', PATTERN => '.*b.*')"
        ).all()
        assert pattern == [("p/b.parquet",)]


def test_list_stage_among_other_parameters(staged_parquet: Any) -> None:
    with staged_parquet.connect() as conn:
        numeric = conn.exec_driver_sql(
            "SELECT $1 AS tag, name FROM list_stage(location => '@s') WHERE name LIKE $2",
            ("t", "%b%"),
        ).all()
        assert numeric == [("t", "p/b.parquet")]
        qmark = conn.exec_driver_sql(
            "SELECT ? AS tag, l.name FROM list_stage(location => '@s') l WHERE l.name LIKE ?",
            ("q", "%/a.%"),
        ).all()
        assert qmark == [("q", "p/a.parquet")]
        named = conn.exec_driver_sql(
            "SELECT count(*) FROM list_stage(location => '@s') WHERE size > $min",
            {"min": 0},
        ).scalar()
        assert named == 2
        joined = conn.exec_driver_sql(
            "SELECT count(*) FROM list_stage(location => '@s') l "
            "JOIN @s/p/ (FILE_FORMAT => 'parquet') f ON f.b = 'x' || $1 "
            "WHERE l.name LIKE $2",
            ("3", "%/a.%"),
        ).scalar()
        assert joined == 1


def test_list_stage_of_an_empty_stage(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE empty")
        assert conn.exec_driver_sql("SELECT * FROM list_stage(location => '@empty')").all() == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT '@x' AS s, 'FROM @s/p' AS t", [("@x", "FROM @s/p")]),
        ("SELECT @(-5)", [(5,)]),
        ("SELECT substring('abcdef' FROM @n FOR 2) FROM (SELECT -2 AS n)", [("bc",)]),
        ("SELECT 'list_stage(location => ''@s'')'", [("list_stage(location => '@s')",)]),
    ],
)
def test_statements_that_merely_contain_at_are_untouched(
    engine: Any, sql: str, expected: list[tuple[Any, ...]]
) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql(sql).all() == expected


def test_errors(staged_parquet: Any) -> None:
    with staged_parquet.connect() as conn:
        with pytest.raises(StageRuntimeError, match="stage @nope does not exist"):
            conn.exec_driver_sql("SELECT * FROM @nope/p/")
        with pytest.raises(StageRuntimeError, match=r"no staged file in @s/q.*PATTERN"):
            conn.exec_driver_sql("SELECT * FROM @s/q (FILE_FORMAT => 'parquet', PATTERN => 'x')")
        with pytest.raises(StageRuntimeError, match="file format 'nofmt' does not exist"):
            conn.exec_driver_sql("SELECT * FROM @s/p/ (FILE_FORMAT => 'nofmt')")
        with pytest.raises(StageRuntimeError, match="FILE_FORMAT"):
            conn.exec_driver_sql("SELECT * FROM @s/p/ (FILE_FORMAT => 1)")
        with pytest.raises(StageRuntimeError, match="location => '@stage/path' is required"):
            conn.exec_driver_sql("SELECT * FROM list_stage(pattern => '.*')")


# INTO OUTFILE


def test_matrixone_example_verbatim(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out = tmp_path / "mo"
    with engine.begin() as conn:
        conn.exec_driver_sql(CREATE_USER)
        conn.exec_driver_sql(INSERT_USERS)
        conn.exec_driver_sql(f"CREATE STAGE stage1 URL='{out}' ENABLE = TRUE;")
        result = conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'stage1:/user.csv';")
        assert result.all() == [("user.csv", len(USER_CSV), 3)]
        assert (out / "user.csv").read_text() == USER_CSV
        with pytest.raises(StageRuntimeError) as refused:
            conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE '~/tmp/csv2/user.txt'")
        assert refused.value.error_code == 20101
        assert str(refused.value) == (
            "stage exists, please try to check and use a stage instead (error 20101)"
        )
    assert not (tmp_path / "home").exists()
    assert sorted(os.listdir(out)) == ["user.csv"]


def test_outfile_plain_path_without_enabled_stage(engine: Any, tmp_path: Path) -> None:
    target = tmp_path / "exports" / "nested" / "user.txt"
    with engine.begin() as conn:
        conn.exec_driver_sql(CREATE_USER)
        conn.exec_driver_sql(INSERT_USERS)
        conn.exec_driver_sql(f"CREATE STAGE off URL='{tmp_path / 'off'}' ENABLE = FALSE")
        conn.exec_driver_sql("CREATE STAGE plain")
        conn.exec_driver_sql(f"SELECT * FROM user INTO OUTFILE '{target}'")
        assert target.read_text() == USER_CSV
        with pytest.raises(StageRuntimeError, match="already exists"):
            conn.exec_driver_sql(f"SELECT * FROM user INTO OUTFILE '{target}'")
        # An enabled stage, created later in the transaction, closes plain paths.
        conn.exec_driver_sql(f"CREATE STAGE on1 URL='{tmp_path / 'on'}' ENABLE = TRUE")
        with pytest.raises(StageRuntimeError, match=r"\(error 20101\)"):
            conn.exec_driver_sql(f"SELECT * FROM user INTO OUTFILE '{tmp_path / 'x.csv'}'")
    assert not (tmp_path / "x.csv").exists()


def test_outfile_construct_with_parameters(engine: Any, tmp_path: Path) -> None:
    md = sa.MetaData()
    users = sa.Table(
        "people",
        md,
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.String),
        sa.Column("born", sa.Date),
        sa.Column("ok", sa.Boolean),
        sa.Column("score", sa.Float),
    )
    stage = Stage("exp", url=str(tmp_path / "exp"), directory=True)
    with engine.begin() as conn:
        md.create_all(conn)
        conn.exec_driver_sql("CREATE STAGE exp URL = '" + str(tmp_path / "exp") + "' ENABLE = TRUE")
        conn.execute(
            users.insert(),
            [
                {
                    "id": 1,
                    "name": 'say "hi", ok',
                    "born": dt.date(2000, 1, 2),
                    "ok": True,
                    "score": 1.5,
                },
                {"id": 2, "name": None, "born": None, "ok": False, "score": None},
                {"id": 3, "name": "skip", "born": None, "ok": None, "score": 0.0},
            ],
        )
        query = (
            sa.select(users)
            .where(users.c.id.in_([1, 2]), users.c.id < sa.bindparam("top"))
            .order_by(users.c.id)
        )
        result = conn.execute(SelectIntoOutfile(query, stage / "d/people.csv"), {"top": 10})
        name, size, count = result.one()
        assert (name, count) == ("d/people.csv", 2)
        content = (tmp_path / "exp" / "d" / "people.csv").read_text()
        assert size == len(content)
        assert content == (
            'id,name,born,ok,score\n1,"say ""hi"", ok",2000-01-02,true,1.5\n2,\\N,\\N,false,\\N\n'
        )
        conn.execute(SelectIntoOutfile(sa.text('SELECT 1 AS "a,b", [1, 2] AS l'), "exp:/l.csv"))
        assert (tmp_path / "exp" / "l.csv").read_text() == '"a,b",l\n1,"[1, 2]"\n'


def test_outfile_reads_staged_files_and_writes_to_memory_stage(staged_parquet: Any) -> None:
    root = f"memory://sqla-out-{uuid.uuid4().hex}"
    with staged_parquet.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE mem URL = '{root}'")
        count = conn.exec_driver_sql(
            "SELECT a, b FROM @s/p/ (FILE_FORMAT => 'parquet') WHERE a < $1 ORDER BY a "
            "INTO OUTFILE 'mem:/out/small.csv'",
            (2,),
        ).one()[2]
        assert count == 2
        fs = fsspec.filesystem("memory")
        path = root.removeprefix("memory://") + "/out/small.csv"
        assert fs.cat_file(path).decode() == 'a,b\n0,"x0"\n1,"x1"\n'
        assert [p.rsplit("/", 1)[1] for p in fs.ls(path.rsplit("/", 1)[0], detail=False)] == [
            "small.csv"
        ]
        conn.exec_driver_sql(  # MatrixOne's INTO OUTFILE encloses in '"'
            "CREATE FILE FORMAT head TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"'"
        )
        back = conn.exec_driver_sql("SELECT b FROM @mem/out/ (FILE_FORMAT => head) ORDER BY a")
        assert back.all() == [("x0",), ("x1",)]


def test_outfile_failure_leaves_no_file(engine: Any, tmp_path: Path) -> None:
    out = tmp_path / "fail"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE f URL='{out}' ENABLE = TRUE")
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        conn.exec_driver_sql(
            "SELECT CASE WHEN range = 50000 THEN error('boom') ELSE range END AS r "
            "FROM range(100000) INTO OUTFILE 'f:/r.csv'"
        )
    assert not out.exists() or os.listdir(out) == []


def test_outfile_construct_with_in_list_given_at_execution(engine: Any) -> None:
    t = sa.table("user", sa.column("id"))
    query = sa.select(t).where(t.c.id.in_(sa.bindparam("ids", expanding=True)))
    with engine.begin() as conn:
        conn.exec_driver_sql(CREATE_USER)
        conn.exec_driver_sql("CREATE STAGE st")
        with pytest.raises(StageRuntimeError, match="IN list 'ids' needs its values"):
            conn.execute(SelectIntoOutfile(query, "st:/x.csv"), {"ids": [1]})


def test_outfile_errors(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(CREATE_USER)
        with pytest.raises(StageRuntimeError, match="stage @nostage does not exist"):
            conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'nostage:/user.csv'")
        conn.exec_driver_sql("CREATE STAGE st")
        with pytest.raises(StageRuntimeError, match="names a folder"):
            conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'st:/dir/'")
