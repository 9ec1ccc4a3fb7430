"""The runtime's own SQL carries values as literals, and DuckDB reads them back unchanged.

The point of literals is memory: DuckDB's Python client imports pandas, NumPy and PyArrow
on the first statement with parameters. The last test runs a whole stage workflow in a
fresh interpreter and checks that none of them was imported.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqla_stage.runtime.engine.literals import columns_select, inline, value_literal

UTC = dt.UTC
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))


def _round_trip(value: object, kind: str) -> object:
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(f"SELECT {value_literal(value)}::{kind}").fetchone()[0]  # type: ignore[index]


@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    assert _round_trip(text, "VARCHAR") == text


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (None, "VARCHAR", None),
        (True, "BOOLEAN", True),
        (2**62, "BIGINT", 2**62),
        (-1.5e-300, "DOUBLE", -1.5e-300),
        (float("inf"), "DOUBLE", float("inf")),
        ('it\'s ? a "path"', "VARCHAR", 'it\'s ? a "path"'),
        ("a\0b", "VARCHAR", "a\0b"),
        (
            dt.datetime(2026, 11, 21, 10, 30, 1, 250, tzinfo=PLUS_TWO),
            "TIMESTAMPTZ",
            dt.datetime(2026, 11, 21, 8, 30, 1, 250, tzinfo=UTC),
        ),
        (dt.datetime(2026, 1, 2, 3, 4, 5), "TIMESTAMP", dt.datetime(2026, 1, 2, 3, 4, 5)),
        (dt.date(1999, 12, 31), "DATE", dt.date(1999, 12, 31)),
        (["x", None, "y'"], "VARCHAR[]", ["x", None, "y'"]),
        ([], "BIGINT[]", []),
    ],
)
def test_values_round_trip(value: object, kind: str, expected: object) -> None:
    assert _round_trip(value, kind) == expected


def test_nan_round_trips() -> None:
    assert math.isnan(_round_trip(float("nan"), "DOUBLE"))  # type: ignore[arg-type]


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError, match="no DuckDB literal for a bytes"):
        value_literal(b"x")


def test_inline_fills_placeholders_in_order() -> None:
    sql = inline("SELECT ? AS a, ?::VARCHAR[] AS b, ? IS NULL AS c", ["?'", ["?", "'"], None])
    with duckdb.connect() as connection:
        assert connection.execute(sql).fetchall() == [("?'", ["?", "'"], True)]


def test_inline_refuses_a_count_mismatch() -> None:
    with pytest.raises(ValueError, match="2 placeholders for 1 parameters"):
        inline("SELECT ?, ?", [1])


def test_columns_select_gives_rows() -> None:
    columns = [("name", "VARCHAR"), ("size", "BIGINT"), ('we"ird', "BOOLEAN")]
    rows = [["a", 1, True], ["b", None, False]]
    with duckdb.connect() as connection:
        cursor = connection.execute(f"SELECT {columns_select(columns, rows)}")
        assert [column[0] for column in cursor.description] == ["name", "size", 'we"ird']
        assert cursor.fetchall() == [("a", 1, True), ("b", None, False)]


_WORKFLOW = """
import sys
import sqlalchemy as sa
from sqla_stage import CopyInto, CreateStage, ListFiles, RemoveFiles, Stage

engine = sa.create_engine(
    "duckdb:///" + sys.argv[1] + "/db.duckdb", plugins=["sqla_stage"], stage_root=sys.argv[1]
)
stage = Stage("s")
with engine.begin() as connection:
    connection.exec_driver_sql("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    connection.execute(CreateStage(stage))
    connection.execute(CopyInto(stage / "out/", sa.table("t"))).fetchall()
    assert len(connection.execute(ListFiles(stage)).fetchall()) == 1
    connection.exec_driver_sql("CREATE TABLE u (i BIGINT)")
    connection.execute(CopyInto(sa.table("u"), stage / "out/")).fetchall()
    assert connection.exec_driver_sql("SELECT count(*) FROM u").scalar() == 10
    connection.execute(RemoveFiles(stage)).fetchall()
print(sorted(name for name in ("pandas", "numpy", "pyarrow") if name in sys.modules))
"""


def test_a_stage_workflow_imports_no_dataframe_library(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WORKFLOW), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_list_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(TypeError, match="Out of range float values"):
        value_literal([1.0, float("nan")])
    with pytest.raises(TypeError, match="no DuckDB literal for a bytes"):
        value_literal([b"x"])
