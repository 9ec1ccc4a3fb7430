"""The same unload and load on the DuckDB runtime and on embedded Databend agree.

Each case builds one construct, runs it on the runtime and, compiled with the Databend
dialect, on embedded Databend (``databend`` fixture, conftest.py), over the same rows.
Both engines must report the same ``rows_unloaded``; the files each wrote, read back
with DuckDB, must hold the same data; and loading each engine's files into a fresh table
on that engine must give the same table. The runtime runs with ``stage_dialect=databend``.
Only statements embedded Databend 1.2.453 runs
are compared (see the session notes: no OVERWRITE, INCLUDE_QUERY_ID or VALIDATION_MODE).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect

from sqla_stage import CSV, JSON, CopyInto, CreateStage, Parquet, Stage
from sqla_stage.formats import FormatSpec

DIALECT = databend_dialect.DatabendDialect()
ROWS = [(1, "ada", 1.5), (2, "bob", None), (3, None, -2.25), (4, 'a,b "q"', 0.0)]
VALUES = ", ".join(
    "("
    + ", ".join(
        "NULL"
        if v is None
        else repr(v)
        if not isinstance(v, str)
        else "'" + v.replace("'", "''") + "'"
        for v in row
    )
    + ")"
    for row in ROWS
)
FORMATS = {
    "csv": CSV(compression=None),
    "csv-gzip": CSV(compression="gzip"),
    "parquet": Parquet(),
    "ndjson": JSON(compression=None),
}


@pytest.fixture
def engine(make_engine: Any) -> Any:
    """The runtime following Databend (``stage_dialect=databend``): its peer here.

    Under it a JSON unload writes Databend's NDJSON, one object a row; Snowflake's
    (the default) takes only one VARIANT column (test_unload_usage_notes.py).
    """
    return make_engine(stage_dialect="databend")


def _databend_sql(construct: Any) -> str:
    return str(construct.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True}))


def _read_back(files: list[Path], spec: FormatSpec) -> list[tuple[Any, ...]]:
    """The rows of the files, read by DuckDB, sorted."""
    names = [str(path) for path in files]
    if isinstance(spec, Parquet):
        relation = f"read_parquet({names!r})"
    elif isinstance(spec, JSON):
        relation = (
            f"read_json({names!r}, format = 'newline_delimited', "
            "columns = {'id': 'INTEGER', 'name': 'VARCHAR', 'amount': 'DOUBLE'})"
        )
    else:
        relation = (
            f"read_csv({names!r}, header = false, nullstr = '\\N', auto_detect = false, "
            "columns = {'id': 'INTEGER', 'name': 'VARCHAR', 'amount': 'DOUBLE'})"
        )
    rows = duckdb.sql(f"SELECT * FROM {relation}").fetchall()
    return sorted(rows, key=lambda row: row[0])


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def tables(engine: Any, databend: Any) -> tuple[sa.Table, sa.Table]:
    md = sa.MetaData()
    source = sa.Table(
        "src",
        md,
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.String),
        sa.Column("amount", sa.Float),
    )
    target = sa.Table("dst", md, *(sa.Column(c.name, c.type) for c in source.c))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO src VALUES {VALUES}")
    for name in ("src", "dst"):
        databend.sql(f"CREATE TABLE {name} (id INT NULL, name VARCHAR NULL, amount DOUBLE NULL)")
    databend.sql(f"INSERT INTO src VALUES {VALUES}")
    return source, target


@pytest.mark.parametrize("label", list(FORMATS))
def test_unload_and_load_agree(
    label: str,
    engine: Any,
    databend: Any,
    tables: tuple[sa.Table, sa.Table],
    unique_name: Any,
    tmp_path: Path,
) -> None:
    spec = FORMATS[label]
    source, target = tables
    stage = Stage(unique_name("diff"))
    unload = CopyInto(stage / "out/", source, file_format=spec)
    load = CopyInto(target, stage / "out/", file_format=spec)

    with engine.begin() as conn:
        conn.execute(CreateStage(stage))
        ours = conn.execute(unload).mappings().one()
    databend.sql(_databend_sql(CreateStage(stage)))
    theirs = databend.sql(_databend_sql(unload))[0]
    assert ours["rows_unloaded"] == theirs["rows_unloaded"] == len(ROWS)

    our_files = _files(tmp_path / "stages" / "stage" / "internal" / stage.name / "out")
    their_files = _files(databend.stage_dir(stage.name) / "out")
    assert our_files and their_files
    expected = sorted(ROWS, key=lambda row: row[0])
    assert _read_back(our_files, spec) == _read_back(their_files, spec) == expected

    with engine.begin() as conn:
        loaded = conn.execute(load).mappings().all()
        ours_table = conn.execute(sa.select(target).order_by(target.c.id)).all()
    their_load = databend.sql(_databend_sql(load))
    assert sum(row["rows_loaded"] for row in loaded) == sum(
        row["Rows_loaded"] for row in their_load
    )
    theirs_table = [
        (row["id"], row["name"], row["amount"])
        for row in databend.sql("SELECT * FROM dst ORDER BY id")
    ]
    assert [tuple(row) for row in ours_table] == theirs_table == expected
