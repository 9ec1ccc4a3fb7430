"""The ORM-built staged queries of test_orm_staged.py on Snowflake and Databend.

Golden texts for every dialect (Snowflake refuses columns of staged files by name: it
reads them as ``$1`` or ``$1:name``), and the Databend text run on embedded Databend.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from test_compile_golden import MO_STAGED, Raises, check, golden
from test_orm_staged import Order, User, landing

from sqla_stage import FileFormat, Parquet, Stage, staged_entity

DATABEND = databend_dialect.DatabendDialect()

# The same ORM-built queries on Snowflake and Databend

_orders = staged_entity(Order, landing / "o/", file_format=FileFormat("hcsv"), alias="o")
_users = staged_entity(User, landing / "u/", file_format=Parquet())
_SNOWFLAKE_BY_NAME = Raises(r"^columns of staged files by name \(staged\(columns=...\)\) is not")

GOLDEN = [
    *golden(
        "orm-staged-entity-filter-order",
        sa.select(_orders).where(_orders.total > 5).order_by(_orders.id),
        "SELECT o.id, o.user_id, o.total \nFROM (SELECT CAST(id AS INTEGER) AS id, "
        "CAST(user_id AS INTEGER) AS user_id, CAST(total AS NUMERIC(10, 2)) AS total "
        "FROM @landing/o/ (FILE_FORMAT => 'hcsv')) AS o \nWHERE o.total > 5 ORDER BY o.id",
        snowflake=_SNOWFLAKE_BY_NAME,
        databend="SELECT o.id, o.user_id, o.total \nFROM (SELECT CAST(id AS INTEGER) AS id, "
        "CAST(user_id AS INTEGER) AS user_id, CAST(total AS DECIMAL(10, 2)) AS total "
        "FROM @landing/o/ (FILE_FORMAT => 'hcsv')) AS o \nWHERE o.total > 5 ORDER BY o.id",
        mysql=MO_STAGED,
    ),
    *golden(
        "orm-staged-join-table",
        sa.select(_orders.id, User.name).join(_orders.user).where(User.id == 1),
        "SELECT o.id, users.name \nFROM (SELECT CAST(id AS INTEGER) AS id, "
        "CAST(user_id AS INTEGER) AS user_id, CAST(total AS NUMERIC(10, 2)) AS total "
        "FROM @landing/o/ (FILE_FORMAT => 'hcsv')) AS o "
        "JOIN users ON users.id = o.user_id \nWHERE users.id = 1",
        snowflake=_SNOWFLAKE_BY_NAME,
        databend='SELECT o.id, "users".name \nFROM (SELECT CAST(id AS INTEGER) AS id, '
        "CAST(user_id AS INTEGER) AS user_id, CAST(total AS DECIMAL(10, 2)) AS total "
        "FROM @landing/o/ (FILE_FORMAT => 'hcsv')) AS o "
        'JOIN "users" ON "users".id = o.user_id \nWHERE "users".id = 1',
        mysql=MO_STAGED,
    ),
    *golden(
        "orm-staged-inline-parquet",
        sa.select(_users.name).where(_users.born < dt.date(2000, 1, 1)),
        "SELECT anon_1.name \nFROM (SELECT CAST(id AS INTEGER) AS id, "
        "CAST(name AS VARCHAR) AS name, CAST(born AS DATE) AS born "
        "FROM @landing/u/ (FILE_FORMAT => 'PARQUET')) AS anon_1 \n"
        "WHERE anon_1.born < '2000-01-01'",
        snowflake=Raises(r"an inline PARQUET format on staged files is not supported"),
        mysql=MO_STAGED,
    ),
]


@pytest.mark.parametrize(("construct", "dialect", "expected"), GOLDEN)
def test_golden(construct: Any, dialect: str, expected: str | Raises) -> None:
    check(construct, dialect, expected)


def test_the_databend_text_runs_on_embedded_databend(databend: Any, unique_name: Any) -> None:
    """Typed staged columns on Databend: the CASTs convert Parquet text to the types."""
    stage = Stage(unique_name("orm"))
    databend.sql(f"CREATE STAGE {stage.name}")
    folder = databend.stage_dir(stage.name) / "o"
    folder.mkdir(parents=True)
    table = pa.table(
        {"id": ["10", "11", "12"], "user_id": [1, 2, 1], "total": ["1.50", "2.25", "10.05"]}
    )
    pq.write_table(table, folder / "o.parquet")
    orders = staged_entity(Order, stage / "o/", file_format=Parquet())
    query = sa.select(orders.id, orders.total).where(orders.total > 2).order_by(orders.id)
    text = query.compile(dialect=DATABEND, compile_kwargs={"literal_binds": True})
    rows = databend.sql(str(text))
    assert [(row["id"], row["total"]) for row in rows] == [
        (11, Decimal("2.25")),
        (12, Decimal("10.05")),
    ]
