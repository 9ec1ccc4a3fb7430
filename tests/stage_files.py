"""Test helpers shared by the safety tests: run one statement, snapshot a folder's files."""

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
