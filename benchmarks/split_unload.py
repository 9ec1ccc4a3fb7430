"""MAX_FILE_SIZE unloads against DuckDB's own plain ``COPY ... TO`` of the same rows.

Run as ``python benchmarks/split_unload.py [rows]`` with ``PYTHONPATH`` naming the
checkout to measure (the runtime's code is imported from there). Table ``bench``
(`benchmarks.data`, 2,000,000 rows by default) is unloaded by the runtime
(``COPY INTO @s/<case>/ FROM bench | (SELECT * FROM bench ORDER BY id)``, with
``MAX_FILE_SIZE`` and, partitioned, ``PARTITION BY (id % 4)``), and by DuckDB
(``COPY bench | (SELECT * FROM bench ORDER BY id) TO '<file>'``, the same format, one
file, or ``PARTITION_BY`` a computed column). Each contender has its own copy of the
database file; outputs are emptied before each run (untimed); best of 3 runs.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import sqlalchemy as sa

from benchmarks.data import TABLE_SQL

RUNS = 3
#: (name, runtime FILE_FORMAT, MAX_FILE_SIZE, DuckDB's options, ordered, partitioned)
CASES = [
    ("CSV 16 MB", "TYPE = CSV COMPRESSION = NONE", 16_000_000, "FORMAT csv, HEADER true"),
    ("gzip CSV 16 MB", "TYPE = CSV", 16_000_000, "FORMAT csv, HEADER true, COMPRESSION gzip"),
    ("Parquet 16 MB", "TYPE = PARQUET", 16_000_000, "FORMAT parquet"),
    ("Parquet 1 MB", "TYPE = PARQUET", 1_000_000, "FORMAT parquet"),
]


def best(prepare: Callable[[], None], action: Callable[[], object]) -> float:
    """The shortest of `RUNS` timed runs of ``action`` (``prepare`` untimed before each)."""
    times = []
    for _ in range(RUNS):
        prepare()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main(rows: int) -> None:
    """Print one Markdown row per case: the runtime, DuckDB, and their ratio."""
    root = Path(tempfile.mkdtemp(prefix="split_unload_"))
    with duckdb.connect(str(root / "source.duckdb")) as connection:
        connection.execute(TABLE_SQL, [rows])
    for name in ("runtime", "duckdb"):
        shutil.copy(root / "source.duckdb", root / f"{name}.duckdb")
    engine = sa.create_engine(
        f"duckdb:///{root / 'runtime.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(root / "stages"),
        stage_user="bench",
        stage_progress=False,
    )
    baseline = duckdb.connect(str(root / "duckdb.duckdb"))
    out = root / "out"

    def empty() -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(root / "stages" / "stage" / "internal" / "s" / "o", ignore_errors=True)
        out.mkdir()

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
    print("| case | order | partitioned | runtime | DuckDB `COPY` | ratio |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for title, file_format, limit, options in CASES:
        for order in (False, True):
            for partitioned in (False, True) if "16 MB" in title else (False,):
                source = "(SELECT * FROM bench ORDER BY id)" if order else "bench"
                partition = " PARTITION BY (id % 4)" if partitioned else ""
                statement = (
                    f"COPY INTO @s/o/ FROM {source}{partition} FILE_FORMAT = ({file_format}) "
                    f"HEADER = TRUE MAX_FILE_SIZE = {limit}"
                )

                def runtime(statement: str = statement) -> None:
                    with engine.begin() as conn:
                        conn.exec_driver_sql(statement)

                select = "SELECT *" + (", id % 4 AS p" if partitioned else "") + " FROM bench"
                select += " ORDER BY id" if order else ""
                target = out / "x" if partitioned else out / "one"
                placement = ", PARTITION_BY (p)" if partitioned else ""
                own = f"COPY ({select}) TO '{target}' ({options}{placement})"

                def duckdb_copy(own: str = own) -> None:
                    baseline.execute(own)

                ours = best(empty, runtime)
                theirs = best(empty, duckdb_copy)
                print(
                    f"| {title} | {'ORDER BY' if order else 'none'} | "
                    f"{'yes' if partitioned else 'no'} | {ours:.2f} s | {theirs:.2f} s | "
                    f"{ours / theirs:.2f}x |",
                    flush=True,
                )
    baseline.close()
    engine.dispose()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000)
