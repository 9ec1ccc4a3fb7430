"""Shared by the compression tests: a 5,000-row source, its stage folder, unload checks.

`tests/test_compressions.py` (the core codecs) and `tests/test_compressions_brotli.py`
(the ``brotli`` extra) unload the same source and check the files the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS = 5_000
SOURCE = f"SELECT i AS n, 'row ' || i AS label FROM range({ROWS}) t(i)"
EXPECTED = [(i, f"row {i}") for i in range(ROWS)]


def stage_folder(tmp_path: Path, *parts: str) -> Path:
    """The folder of internal stage ``s`` under the test engine's stage root."""
    return tmp_path.joinpath("stages", "stage", "internal", "s", *parts)


def load(conn: Any, copy: str) -> list[tuple[Any, ...]]:
    """Run ``copy`` into a new table ``t (n, label)``; its rows in order."""
    conn.exec_driver_sql("CREATE OR REPLACE TABLE t (n INTEGER, label VARCHAR)")
    conn.exec_driver_sql(copy)
    return [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM t ORDER BY n")]


def unload_split_csv(
    conn: Any, tmp_path: Path, codec: str, suffix: str, decompress: Callable[[bytes], bytes]
) -> list[Path]:
    """Unload SOURCE to ``@s/out/`` as CSV in ``codec``, in files of at most 20,000 bytes.

    Checks that several files were written, each named ``.csv<suffix>``, whose
    decompressed lines are the source's, and that the result row counts the rows and the
    plain and stored bytes. Returns the files.
    """
    result = conn.exec_driver_sql(
        f"COPY INTO @s/out/ FROM ({SOURCE}) "
        f"FILE_FORMAT = (TYPE = CSV COMPRESSION = {codec}) MAX_FILE_SIZE = 20000"
    ).one()
    files = sorted(stage_folder(tmp_path, "out").iterdir())
    assert len(files) > 1 and all(f.name.endswith(".csv" + suffix) for f in files)
    plain = [decompress(f.read_bytes()) for f in files]
    lines = sorted(line for text in plain for line in text.decode().splitlines())
    assert lines == sorted(f"{n},{label}" for n, label in EXPECTED)
    assert (result.rows_unloaded, result.input_bytes, result.output_bytes) == (
        ROWS,
        sum(map(len, plain)),
        sum(f.stat().st_size for f in files),
    )
    return files


def check_detailed_output(engine: Any, codec: str, suffix: str) -> None:
    """DETAILED_OUTPUT of a split unload in ``codec`` counts every row, file by file."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        rows = conn.exec_driver_sql(
            f"COPY INTO @s/d/ FROM ({SOURCE}) FILE_FORMAT = (TYPE = CSV COMPRESSION = {codec}) "
            "MAX_FILE_SIZE = 20000 DETAILED_OUTPUT = TRUE"
        ).all()
    assert len(rows) > 1 and sum(row.row_count for row in rows) == ROWS
    assert all(row.file_name.endswith(".csv" + suffix) for row in rows)
