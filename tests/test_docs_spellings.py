"""Spellings the warehouses' documentation uses, read and run as the docs mean them (issue 14).

- ``FILE_FORMAT = my_format`` and ``FILE_FORMAT = 'my_format'``, without parentheses,
  name a file format (Snowflake's COPY examples, Databend's stage guide).
- ``COPY INTO mytable`` with no ``FROM`` loads the table's own stage ``@%mytable``
  (Snowflake's "Loading from a table stage"), also with PURGE and VALIDATION_MODE.
- ``COPY INTO mytable FROM s3://bucket/path/`` with the URL unquoted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sqla_stage import CopyInto, FileFormat, StageKind, StageParseError, parse


@pytest.fixture
def engine(engine: sa.Engine) -> sa.Engine:
    """The runtime engine of tests/conftest.py, with the tables the tests use."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE mytable (a INTEGER, b VARCHAR)")
    return engine


def table_rows(conn: sa.Connection) -> list[tuple[object, ...]]:
    return [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM mytable ORDER BY a")]


@pytest.mark.parametrize("name", ["my_csv_format", "'my_csv_format'", "public.my_csv_format"])
def test_file_format_named_without_parentheses(name: str) -> None:
    copy = parse(f"COPY INTO mytable FROM @my_stage FILE_FORMAT = {name}")
    assert isinstance(copy, CopyInto)
    assert isinstance(copy.file_format, FileFormat)
    assert copy.file_format.name == "my_csv_format"
    assert str(copy.compile()).endswith(f"FILE_FORMAT = (FORMAT_NAME = '{name.strip(chr(39))}')")


def test_a_named_format_without_parentheses_loads_with_that_format(
    engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "data.csv").write_text("a|b\n1|x\n2|y\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FILE FORMAT my_csv_format TYPE = CSV FIELD_DELIMITER = '|' SKIP_HEADER = 1"
        )
        conn.exec_driver_sql("CREATE STAGE my_stage")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/data.csv @my_stage")
        loaded = conn.exec_driver_sql(
            "COPY INTO mytable FROM @my_stage FILE_FORMAT = 'my_csv_format'"
        ).all()
        assert [(row.status, row.rows_loaded) for row in loaded] == [("LOADED", 2)]
        assert table_rows(conn) == [(1, "x"), (2, "y")]


def test_copy_without_from_reads_the_table_stage() -> None:
    copy = parse("COPY INTO mytable PURGE = TRUE")
    assert isinstance(copy, CopyInto)
    assert copy.location.stage.kind is StageKind.TABLE
    assert copy.location.stage.name == "mytable" and copy.location.path == ""
    assert str(copy.compile()) == "COPY INTO mytable FROM @%mytable PURGE = TRUE"


def test_copy_without_from_loads_and_purges_the_table_stage(
    engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "d.csv").write_text("1,x\n2,y\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/d.csv @%mytable")
        checked = conn.exec_driver_sql("COPY INTO mytable VALIDATION_MODE = RETURN_ERRORS").all()
        assert checked == [] and table_rows(conn) == []
        loaded = conn.exec_driver_sql("COPY INTO mytable PURGE = TRUE").all()
        assert [(row.file, row.status, row.rows_loaded) for row in loaded] == [
            ("d.csv.gz", "LOADED", 2)
        ]
        assert table_rows(conn) == [(1, "x"), (2, "y")]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("LIST @%mytable").all() == []  # purged after the commit


@pytest.mark.parametrize(
    ("sql", "url"),
    [
        (
            "COPY INTO mytable FROM s3://mybucket/data/files "
            "CREDENTIALS = (AWS_KEY_ID = 'k' AWS_SECRET_KEY = 's')",
            "s3://mybucket/data/files",
        ),
        ("COPY INTO s3://mybucket/unload/ FROM mytable", "s3://mybucket/unload/"),
        ("COPY INTO mytable FROM file:///tmp/in/ FILE_FORMAT = (TYPE = CSV)", "file:///tmp/in/"),
    ],
)
def test_an_unquoted_url_is_the_location(sql: str, url: str) -> None:
    copy = parse(sql)
    assert isinstance(copy, CopyInto)
    assert copy.location == url
    assert f"'{url}'" in str(copy.compile())


def test_an_unquoted_url_loads_from_a_local_folder(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rows.csv").write_text("7,z\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"COPY INTO mytable FROM {(tmp_path / 'in').as_uri()}/")
        assert table_rows(conn) == [(7, "z")]


def test_a_word_that_is_no_url_is_still_refused() -> None:
    with pytest.raises(StageParseError, match="expected a stage location"):
        parse("COPY INTO mytable FROM landing/p/")


def test_bendsql_fs_paths_are_local_files(engine: sa.Engine, tmp_path: Path) -> None:
    """BendSQL's ``PUT fs:///path/*.csv @stage`` (Databend's "Stage files" page)."""
    (tmp_path / "datas").mkdir()
    (tmp_path / "datas" / "a.csv").write_text("1,x\n")
    (tmp_path / "datas" / "b.csv").write_text("2,y\n")
    put = parse(f"PUT fs://{tmp_path}/datas/*.csv @my_stage")
    assert str(put.compile()) == f"PUT 'file://{tmp_path}/datas/*.csv' @my_stage"
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE my_stage")
        uploaded = conn.exec_driver_sql(f"PUT fs://{tmp_path}/datas/*.csv @my_stage").all()
        assert sorted(row.source for row in uploaded) == ["a.csv", "b.csv"]
        conn.exec_driver_sql(f"GET @my_stage/a.csv.gz fs://{tmp_path}/out/")
    assert (tmp_path / "out" / "a.csv.gz").is_file()


def test_a_url_location_ends_in_a_name_prefix(engine: sa.Engine, tmp_path: Path) -> None:
    """Snowflake's ``COPY INTO mytable FROM s3://mybucket/data/files``: ``files`` is a prefix."""
    (tmp_path / "data" / "files").mkdir(parents=True)
    (tmp_path / "data" / "files1.csv").write_text("1,a\n")
    (tmp_path / "data" / "files" / "x.csv").write_text("2,b\n")
    (tmp_path / "data" / "other.csv").write_text("3,c\n")
    with engine.begin() as conn:
        loaded = conn.exec_driver_sql(f"COPY INTO mytable FROM {tmp_path.as_uri()}/data/files")
        assert sorted(row.file for row in loaded) == ["files/x.csv", "files1.csv"]
        assert table_rows(conn) == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    "clause", ["FROM @my_stage/none/", "FROM @my_stage PATTERN = '.*[.]json'", "FROM @my_stage"]
)
def test_a_load_of_nothing_says_so(engine: sa.Engine, tmp_path: Path, clause: str) -> None:
    (tmp_path / "d.csv").write_text("1,x\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE my_stage")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/d.csv @my_stage")
        if clause == "FROM @my_stage":  # loaded once: the history leaves nothing
            conn.exec_driver_sql("COPY INTO mytable FROM @my_stage")
        result = conn.exec_driver_sql(f"COPY INTO mytable {clause}")
        assert list(result.keys()) == ["status"]
        assert result.all() == [("Copy executed with 0 files processed.",)]
