"""MatrixOne's SQL inside queries on the runtime: mo_catalog.mo_stages, INTO OUTFILE's
FORMAT / FIELDS / LINES, load_file() / save_file() on DATALINKs, its missing-stage error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from sqla_stage import SelectIntoOutfile, parse
from sqla_stage.errors import StageArgumentError, StageProgrammingError


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'app.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp_path / "stages"),
        stage_dialect="matrixone",
    )
    yield engine
    engine.dispose()


def run(engine: sa.Engine, *statements: str) -> list[Any]:
    with engine.begin() as conn:
        result = None
        for statement in statements:
            result = conn.exec_driver_sql(statement)
        assert result is not None
        return [tuple(row) for row in result] if result.returns_rows else []


# mo_catalog.mo_stages


def test_mo_stages_has_matrixones_columns_and_rows(engine: sa.Engine, tmp_path: Path) -> None:
    run(
        engine,
        f"CREATE STAGE fs URL = 'file://{tmp_path}/fs' COMMENT = 'files'",
        "CREATE STAGE s3s URL = 's3://bucket/p/' CREDENTIALS = "
        "{'AWS_KEY_ID'='AKIA', 'AWS_SECRET_KEY'='hush'} ENABLE = TRUE",
    )
    with engine.connect() as conn:
        result = conn.exec_driver_sql("select * from mo_catalog.mo_stages")
        assert list(result.keys()) == [
            "stage_id",
            "stage_name",
            "url",
            "stage_credentials",
            "stage_status",
            "created_time",
            "comment",
        ]
        rows = [tuple(row) for row in result]
    assert [row[:5] + row[6:] for row in rows] == [
        (1, "fs", f"file://{tmp_path}/fs", "", "disabled", "files"),
        (2, "s3s", "s3://bucket/p/", "***", "enabled", ""),
    ]
    assert rows[0][5].microsecond == 0 and rows[0][5].tzinfo is None
    assert "hush" not in repr(rows)


def test_mo_stages_takes_where_alias_and_joins(engine: sa.Engine, tmp_path: Path) -> None:
    run(engine, f"CREATE STAGE a URL = 'file://{tmp_path}/a'", "CREATE TABLE t (n VARCHAR)")
    run(engine, "INSERT INTO t VALUES ('a'), ('b')")
    rows = run(
        engine,
        "SELECT t.n, s.stage_id FROM t LEFT JOIN mo_catalog.mo_stages AS s "
        "ON s.stage_name = t.n ORDER BY t.n",
    )
    assert rows == [("a", 1), ("b", None)]
    count = "SELECT count(*) FROM mo_catalog.mo_stages WHERE mo_stages.stage_name = 'zz'"
    assert run(engine, count) == [(0,)]


def test_mo_stages_writes_nothing_and_is_matrixone_only(tmp_path: Path, engine: sa.Engine) -> None:
    run(engine, "SELECT * FROM mo_catalog.mo_stages")
    assert run(
        engine, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'mo_catalog'"
    ) == [(0,)]
    plain = sa.create_engine(
        f"duckdb:///{tmp_path / 'plain.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp_path / "stages2"),
    )
    with pytest.raises(sa.exc.ProgrammingError, match="mo_catalog"):
        run(plain, "SELECT * FROM mo_catalog.mo_stages")
    plain.dispose()


# INTO OUTFILE: FORMAT, FIELDS, LINES


def _table(engine: sa.Engine) -> None:
    run(
        engine,
        "CREATE TABLE t (id INT, name VARCHAR)",
        "INSERT INTO t VALUES (1, 'a|b'), (2, 'it''s'), (NULL, NULL)",
    )


def test_outfile_fields_and_lines_are_written_as_given(engine: sa.Engine, tmp_path: Path) -> None:
    _table(engine)
    target = tmp_path / "out.txt"
    run(
        engine,
        f"SELECT * FROM t ORDER BY id NULLS LAST INTO OUTFILE '{target}' "
        "FIELDS TERMINATED BY '||' ENCLOSED BY '\\'' LINES TERMINATED BY ';\\n'",
    )
    assert target.read_bytes() == b"id||name;\n1||'a|b';\n2||'it''s';\n\\N||\\N;\n"


def test_outfile_without_enclosure(engine: sa.Engine, tmp_path: Path) -> None:
    _table(engine)
    target = tmp_path / "out.tsv"
    run(
        engine,
        f"SELECT * FROM t WHERE id = 1 INTO OUTFILE '{target}' "
        "FIELDS TERMINATED BY '\\t' ENCLOSED BY ''",
    )
    assert target.read_bytes() == b"id\tname\n1\ta|b\n"


def test_outfile_parquet_to_a_stage_url(engine: sa.Engine, tmp_path: Path) -> None:
    _table(engine)
    run(engine, f"CREATE STAGE out URL = 'file://{tmp_path}/out/'")
    rows = run(engine, "SELECT * FROM t INTO OUTFILE 'stage://out/t.parquet' FORMAT 'parquet'")
    assert rows[0][0] == "t.parquet" and rows[0][2] == 3
    table = pq.read_table(tmp_path / "out" / "t.parquet")
    assert table.column_names == ["id", "name"]
    assert sorted(table.to_pylist(), key=lambda r: r["id"] or 0) == [
        {"id": None, "name": None},
        {"id": 1, "name": "a|b"},
        {"id": 2, "name": "it's"},
    ]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("FIELDS ESCAPED BY '\\\\'", "ESCAPED BY is not supported"),
        ("LINES STARTING BY 'x'", "STARTING BY is not supported"),
    ],
)
def test_outfile_refuses_what_it_cannot_honour(
    engine: sa.Engine, tmp_path: Path, clause: str, message: str
) -> None:
    _table(engine)
    target = tmp_path / "x.csv"
    with pytest.raises(StageProgrammingError, match=message):
        run(engine, f"SELECT * FROM t INTO OUTFILE '{target}' {clause}")
    assert not target.exists()


def test_outfile_options_round_trip_and_checks() -> None:
    element = SelectIntoOutfile(
        sa.select(sa.literal_column("1")),
        "stage1:/x.csv",
        fields_terminated_by=";",
        enclosed_by='"',
        optionally_enclosed=True,
        lines_terminated_by="\r\n",
    )
    sql = str(element.compile())
    assert "FIELDS TERMINATED BY ';' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY" in sql
    again = parse(sql)
    assert again.text_options == element.text_options and again.optionally_enclosed
    with pytest.raises(StageArgumentError, match="not Parquet"):
        SelectIntoOutfile(sa.select(sa.literal_column("1")), "/x", format="parquet", enclosed_by="")
    with pytest.raises(StageArgumentError, match="format must be one of"):
        SelectIntoOutfile(sa.select(sa.literal_column("1")), "/x", format="json")


def test_missing_stage_has_matrixones_wording(engine: sa.Engine) -> None:
    _table(engine)
    with pytest.raises(StageProgrammingError) as caught:
        run(engine, "SELECT * FROM t INTO OUTFILE 'nope:/t.csv'")
    assert "internal error: stage 'nope' is not exists, please check" in str(caught.value)
    assert caught.value.error_code == 20101


# load_file() / save_file()


@pytest.fixture
def message(tmp_path: Path, engine: sa.Engine) -> Path:
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "t1.csv").write_text("this is a test message\n")
    run(engine, f"CREATE STAGE s1 URL = 'file://{folder}/'")
    return folder


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("", "this is a test message\n"),
        ("?size=2", "th"),
        ("?offset=4", " is a test message\n"),
        ("?offset=4&size=2", " i"),
        ("?offset=100", ""),
    ],
)
def test_load_file_reads_a_part_of_a_stage_or_local_file(
    engine: sa.Engine, message: Path, suffix: str, expected: str
) -> None:
    for link in (f"stage://s1/t1.csv{suffix}", f"file://{message}/t1.csv{suffix}"):
        assert run(engine, f"SELECT load_file(cast('{link}' as datalink)) AS c") == [(expected,)]


def test_load_file_inside_a_larger_query(engine: sa.Engine, message: Path) -> None:
    rows = run(
        engine,
        "SELECT n, length(load_file('stage://s1//t1.csv?size=4')) FROM range(2) r(n) ORDER BY n",
    )
    assert rows == [(0, 4), (1, 4)]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT load_file(cast('stage://s1/none.csv' as datalink))", "does not exist"),
        ("SELECT load_file(cast('stage://s1/t1.csv?from=1' as datalink))", "offset=<n>"),
        ("SELECT load_file(cast('http://x/t1.csv' as datalink))", "a DATALINK is 'file://"),
        ("SELECT load_file(cast('stage://nope/t1.csv' as datalink))", "is not exists"),
        ("SELECT load_file(name) FROM (SELECT 'stage://s1/t1.csv' AS name)", "from a column"),
    ],
)
def test_load_file_refusals(engine: sa.Engine, message: Path, sql: str, error: str) -> None:
    with pytest.raises(StageProgrammingError, match=error):
        run(engine, sql)


def test_load_file_of_bytes_that_are_not_text(engine: sa.Engine, message: Path) -> None:
    (message / "b.bin").write_bytes(b"\xff\xfe")
    with pytest.raises(sa.exc.SQLAlchemyError, match="not UTF-8 text"):
        run(engine, "SELECT load_file(cast('stage://s1/b.bin' as datalink))")


def test_save_file_writes_and_counts_bytes(engine: sa.Engine, message: Path) -> None:
    link = "stage://s1/sub/out.txt"
    assert run(engine, f"SELECT save_file(cast('{link}' as datalink), 'héllo');") == [(6,)]
    assert (message / "sub" / "out.txt").read_bytes() == "héllo".encode()
    assert run(engine, f"SELECT load_file(cast('{link}' as datalink))") == [("héllo",)]
    # Files are not transactional: a rollback keeps what save_file wrote.
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT save_file('file://{message}/rolled.txt', 'x')")
        conn.rollback()
    assert (message / "rolled.txt").read_text() == "x"
    assert not [p for p in message.rglob("*") if p.name.startswith(".")]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT save_file(cast('stage://s1/o.txt' as datalink), 'a'), 1",
        "SELECT save_file(cast('stage://s1/o.txt' as datalink), 'a') FROM range(3)",
        "SELECT save_file(cast('stage://s1/o.txt' as datalink), upper('a'))",
    ],
)
def test_save_file_refuses_calls_it_cannot_count(
    engine: sa.Engine, message: Path, sql: str
) -> None:
    with pytest.raises(StageProgrammingError, match="save_file"):
        run(engine, sql)
    assert not (message / "o.txt").exists()
