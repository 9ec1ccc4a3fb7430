"""PATTERN runs on RE2 (DuckDB's ``regexp_full_match``): linear time, full matches (issue 17).

A catastrophic-backtracking pattern (``(a+)+$``) against 40-character names took hours on
Python's ``re``; on RE2 each statement below completes (the timeout marks bound them, no
timing is asserted) with the right answer. Patterns RE2 cannot read are refused before
anything runs, with an error naming the PATTERN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.storage.patterns import compile_pattern

EVIL = "(a+)+$"
#: 40-character names the evil pattern almost matches (the worst case of backtracking).
NAMES = ["a" * 39 + "!", "a" * 38 + "b!", "a" * 40]


@pytest.fixture
def stage(engine: Any, tmp_path: Path) -> Any:
    folder = tmp_path / "stages" / "stage" / "internal" / "s"
    folder.mkdir(parents=True)
    for name in NAMES:
        (folder / name).write_text("1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s FILE_FORMAT = (TYPE = CSV)")
        conn.exec_driver_sql("CREATE TABLE t (a INT)")
    return engine


@pytest.mark.timeout(30)
def test_evil_pattern_lists_quickly(stage: Any) -> None:
    with stage.begin() as conn:
        rows = conn.exec_driver_sql(f"LIST @s PATTERN = '{EVIL}'").all()
    assert [row[0] for row in rows] == ["a" * 40]


@pytest.mark.timeout(30)
def test_evil_pattern_loads_and_reads_quickly(stage: Any) -> None:
    with stage.begin() as conn:
        loaded = conn.exec_driver_sql(f"COPY INTO t FROM @s PATTERN = '{EVIL}'").all()
        assert [row[0] for row in loaded] == ["a" * 40]
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
        read = conn.exec_driver_sql(f"SELECT count(*) FROM @s (PATTERN => '{EVIL}')").scalar()
        assert read == 1
        removed = conn.exec_driver_sql(f"REMOVE @s PATTERN = '{EVIL}'").all()
        assert [row[0] for row in removed] == ["a" * 40]
        assert len(conn.exec_driver_sql("LIST @s").all()) == 2


@pytest.mark.timeout(30)
def test_evil_pattern_over_ten_thousand_names() -> None:
    names = [f"{i:05d}" + "a" * 35 for i in range(10_000)]
    assert sum(compile_pattern("[0-9]*" + EVIL).matching(names)) == 10_000  # type: ignore[union-attr]
    assert sum(compile_pattern(EVIL).matching(names)) == 0  # type: ignore[union-attr]


def test_full_match_and_odd_names() -> None:
    pattern = compile_pattern(".*[.]csv")
    assert pattern is not None
    names = ["a.csv", "a.csv.gz", "x/{b}.csv", "it's.csv", "é.csv", "a.csvx", ""]
    assert pattern.select(names) == ["a.csv", "x/{b}.csv", "it's.csv", "é.csv"]
    assert compile_pattern("é.*") is not None
    assert compile_pattern("é.*").select(names) == ["é.csv"]  # type: ignore[union-attr]
    assert compile_pattern(None) is None


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("[", "missing ]"),
        ("(a", "missing )"),
        (r"(a)\1", "invalid escape sequence"),
        ("(?=a)a", "invalid perl operator"),
        ("a{1001}", "invalid repetition size"),
    ],
)
def test_patterns_re2_cannot_read_are_refused(stage: Any, pattern: str, why: str) -> None:
    for sql in (
        f"LIST @s PATTERN = '{pattern}'",
        f"COPY INTO t FROM @s PATTERN = '{pattern}'",
        f"REMOVE @s PATTERN = '{pattern}'",
    ):
        with pytest.raises(StageProgrammingError) as caught, stage.begin() as conn:
            conn.exec_driver_sql(sql)
        assert isinstance(caught.value, sa.exc.ProgrammingError)
        assert f"PATTERN {pattern!r} is not a regular expression" in str(caught.value)
        assert why in str(caught.value)
    with stage.begin() as conn:
        assert len(conn.exec_driver_sql("LIST @s").all()) == 3
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


@pytest.mark.timeout(30)
def test_stage_list_glob_of_many_stars_lists_quickly(stage: Any, tmp_path: Path) -> None:
    """MatrixOne's ``stage_list('stage://s/*a*a...b')`` globs run on RE2 too."""
    glob = "*a" * 20 + "*"
    with stage.begin() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT file FROM stage_list('stage://s/{glob}!') AS f WHERE f.file <> '@'"
        ).all()
        assert sorted(Path(row[0]).name for row in rows) == ["a" * 39 + "!", "a" * 38 + "b!"]
        rows = conn.exec_driver_sql(
            f"SELECT file FROM stage_list('stage://s/{glob}b') AS f WHERE f.file <> '@'"
        ).all()
        assert rows == []
