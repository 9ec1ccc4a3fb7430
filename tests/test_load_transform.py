"""COPY INTO <table> FROM (SELECT ... FROM @stage): the COPY's options and VARIANT values.

The COPY's FILE_FORMAT and PATTERN apply to the staged location inside the query (as in
Snowflake's and Databend's transformation examples); other copy options are refused, not
ignored; a JSON element stored into a text column loses its JSON quotes, as a VARIANT
does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa


@pytest.fixture
def engine(engine: sa.Engine) -> sa.Engine:
    """The runtime engine of tests/conftest.py, with the tables the tests use."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE books (title VARCHAR, pages INTEGER)")
        conn.exec_driver_sql("CREATE STAGE s")
    return engine


def books(conn: sa.Connection) -> list[tuple[object, ...]]:
    return [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM books ORDER BY title")]


def test_the_copy_s_format_reads_the_staged_files_of_the_query(
    engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "b.csv").write_text("title|pages\nDune|412\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/b.csv @s/csv/")
        conn.exec_driver_sql(
            "COPY INTO books FROM (SELECT $1, $2 FROM @s/csv/) "
            "FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = '|' SKIP_HEADER = 1)"
        )
        assert books(conn) == [("Dune", 412)]  # the header line was skipped, not loaded


def test_the_copy_s_pattern_picks_the_files(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("Emma,474\n")
    (tmp_path / "a.txt").write_text("Not,1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/a.* @s/mixed/ AUTO_COMPRESS = FALSE")
        conn.exec_driver_sql(
            "COPY INTO books FROM (SELECT t.$1, t.$2 FROM @s/mixed/ t) PATTERN = '.*[.]csv'"
        )
        assert books(conn) == [("Emma", 474)]


def test_a_json_element_is_stored_as_its_value(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "b.ndjson").write_text('{"title": "Title_0", "pages": 7, "tags": ["a"]}\n')
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE books ADD COLUMN tags VARCHAR")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/b.ndjson @s/json/")
        conn.exec_driver_sql(
            "COPY INTO books FROM (SELECT $1:title, $1:pages, $1:tags FROM @s/json/) "
            "FILE_FORMAT = (TYPE = NDJSON)"
        )
        assert books(conn) == [("Title_0", 7, '["a"]')]


@pytest.mark.parametrize(
    ("clause", "named"),
    [("PURGE = TRUE", "PURGE"), ("FORCE = TRUE", "FORCE"), ("ON_ERROR = CONTINUE", "ON_ERROR")],
)
def test_options_a_transformation_does_not_honour_are_refused(
    engine: sa.Engine, tmp_path: Path, clause: str, named: str
) -> None:
    (tmp_path / "b.csv").write_text("Dune,412\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/b.csv @s/csv/")
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match=named):
        conn.exec_driver_sql(f"COPY INTO books FROM (SELECT $1, $2 FROM @s/csv/) {clause}")
    with engine.connect() as conn:
        assert books(conn) == []
        assert [row.name for row in conn.exec_driver_sql("LIST @s")] == ["csv/b.csv.gz"]
