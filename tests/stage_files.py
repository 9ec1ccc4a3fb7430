"""Test helpers shared by the safety and cloud tests: statements, tables, folder snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa


def run(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    """One statement in its own transaction; its rows."""
    with engine.begin() as conn:
        result = conn.exec_driver_sql(sql)
        return [tuple(row) for row in result] if result.returns_rows else []


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden scratch files included) and its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


#: The rows of table ``t`` of the cloud tests (`create_table_t`).
FRUIT_ROWS: list[tuple[Any, ...]] = [(1, "apple"), (2, "pear"), (3, "plum"), (4, None)]


def create_table_t(engine: sa.Engine) -> str:
    """Create table ``t`` (``id INTEGER, name VARCHAR``) holding `FRUIT_ROWS`; its name."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')")
        conn.exec_driver_sql("INSERT INTO t VALUES (4, NULL)")
    return "t"


def rows_of(conn: sa.Connection, table: str) -> list[tuple[Any, ...]]:
    """The rows of ``table`` ordered by ``id``."""
    return [tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]
