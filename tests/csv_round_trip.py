"""Test helpers for CSV text: unload rows into one plain file of alice's stage, load it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def unload_single(engine: Any, tmp_path: Path, rows: str, options: str, folder: str) -> bytes:
    """``COPY INTO @~/<folder>/ FROM (<rows>)`` as one plain CSV file; the file's bytes."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"COPY INTO @~/{folder}/ FROM ({rows}) FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE "
            f"{options}) SINGLE = TRUE"
        )
    return (tmp_path / "stages" / "stage" / "user" / "alice" / folder / "data").read_bytes()


def load_back(engine: Any, folder: str, options: str, columns: str) -> list[tuple[Any, ...]]:
    """Load ``@~/<folder>/`` into a new table ``back (<columns>)``; its rows by id."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE OR REPLACE TABLE back ({columns})")
        conn.exec_driver_sql(
            f"COPY INTO back FROM @~/{folder}/ FILE_FORMAT = (TYPE = CSV {options}) FORCE = TRUE"
        )
        return [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM back ORDER BY id")]
