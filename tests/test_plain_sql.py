"""Text that is not a stage statement reaches DuckDB untouched (issue 17).

The runtime looks for stage statements and staged locations in every statement's text.
Words inside DuckDB's strings (``'...'``, ``E'...'``, ``$$...$$``, ``$tag$...$tag$``),
quoted identifiers and comments (block comments nest in DuckDB) are data, never a stage
location or a stage statement: each statement below runs in DuckDB as written and the
row holds the exact text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqla_stage.parser.lexer import Kind, tokenize

#: (SQL value expression, the text DuckDB stores for it).
VALUES = [
    ("$$from @inbox$$", "from @inbox"),
    ("$$x FROM @inbox$$", "x FROM @inbox"),
    ("$$ SELECT * FROM @inbox, @~ $$", " SELECT * FROM @inbox, @~ "),
    ("$t$ x FROM @inbox $t$", " x FROM @inbox "),
    ("$t$ it's FROM @inbox $$ $t$", " it's FROM @inbox $$ "),
    ("$T$ FROM @inbox $t$ $T$", " FROM @inbox $t$ "),
    ("$_1$FROM @inbox$_1$", "FROM @inbox"),
    ("E'from @inbox'", "from @inbox"),
    ("E'\\' FROM @inbox \\''", "' FROM @inbox '"),
    ("e'a\\nb FROM @inbox'", "a\nb FROM @inbox"),
    ("'it''s FROM @inbox'", "it's FROM @inbox"),
    ("'it''s @x'", "it's @x"),
    ("'x into outfile y'", "x into outfile y"),
    ("$$ into outfile '/tmp/x' $$", " into outfile '/tmp/x' "),
    ("'SELECT get_presigned_url(@inbox, ''f'')'", "SELECT get_presigned_url(@inbox, 'f')"),
    ("$$ SELECT * FROM list_stage(location => '@inbox') $$", None),
    ("/* FROM @inbox /* nested */ FROM @inbox */ 'a'", "a"),
    ("'b' -- FROM @inbox\n", "b"),
]


@pytest.fixture
def notes(engine: Any) -> Any:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE inbox")
        conn.exec_driver_sql("CREATE TABLE notes (t VARCHAR)")
    return engine


@pytest.mark.parametrize(("value", "stored"), VALUES)
def test_strings_and_comments_reach_duckdb_untouched(
    notes: Any, value: str, stored: str | None
) -> None:
    with notes.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO notes VALUES ({value})")
        expected = conn.exec_driver_sql(f"SELECT {value}").scalar()  # DuckDB's own reading
        assert conn.exec_driver_sql("SELECT t FROM notes").scalar() == expected
    if stored is not None:
        assert expected == stored
    else:
        assert expected == value.strip("$")


def test_quoted_identifiers_holding_at(notes: Any) -> None:
    with notes.begin() as conn:
        conn.exec_driver_sql('CREATE TABLE "FROM @inbox" ("x@inbox" VARCHAR)')
        conn.exec_driver_sql("""INSERT INTO "FROM @inbox" VALUES ('FROM @inbox')""")
        rows = conn.exec_driver_sql('SELECT "x@inbox" FROM "FROM @inbox"').all()
    assert rows == [("FROM @inbox",)]


def test_a_stage_statement_inside_a_nested_comment_is_not_run(notes: Any, tmp_path: Path) -> None:
    local = tmp_path / "data.csv"
    local.write_text("a\n")
    sql = f"/* a /* b */ PUT file://{local} @inbox */ SELECT 42"
    with notes.begin() as conn:
        assert conn.exec_driver_sql(sql).scalar() == 42
        assert conn.exec_driver_sql("LIST @inbox").all() == []


def test_a_stage_statement_after_a_nested_comment_runs(notes: Any, tmp_path: Path) -> None:
    local = tmp_path / "data.csv"
    local.write_text("a\n")
    with notes.begin() as conn:
        conn.exec_driver_sql(f"/* a /* b */ c */ PUT file://{local} @inbox")
        assert [row[0] for row in conn.exec_driver_sql("LIST @inbox")] == ["data.csv.gz"]


def test_dollar_and_escape_strings_in_stage_statements(notes: Any, tmp_path: Path) -> None:
    for name in ("a.csv", "b.txt"):
        (tmp_path / name).write_text("x\n")
        with notes.begin() as conn:
            conn.exec_driver_sql(f"PUT file://{tmp_path / name} @inbox")
    with notes.begin() as conn:
        assert [r[0] for r in conn.exec_driver_sql("LIST @inbox PATTERN = $$.*[.]csv.*$$")] == [
            "a.csv.gz"
        ]
        assert [r[0] for r in conn.exec_driver_sql("LIST @inbox PATTERN = E'.*\\\\.txt.gz'")] == [
            "b.txt.gz"
        ]


def test_tokens_of_duckdb_strings() -> None:
    tokens = tokenize("SELECT $a$ 'x' $$ $a$, E'\\'', $$@s$$, $1, METADATA$FILENAME")
    kinds = [(t.kind, t.value) for t in tokens if t.kind in (Kind.STRING, Kind.WORD)]
    assert kinds == [
        (Kind.WORD, "SELECT"),
        (Kind.STRING, " 'x' $$ "),
        (Kind.STRING, "'"),
        (Kind.STRING, "@s"),
        (Kind.WORD, "METADATA$FILENAME"),
    ]
