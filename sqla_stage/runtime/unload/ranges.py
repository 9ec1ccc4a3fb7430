"""Parquet files over MAX_FILE_SIZE rewritten in ranges of rows, many ranges per COPY.

One ``COPY`` writes a run of consecutive ranges: with ``ROW_GROUP_SIZE <rows>`` and
``FILE_SIZE_BYTES 1`` DuckDB starts a new file after each row group, so each file is one
range. DuckDB's parallel writers number their files out of the rows' order, so each
``COPY`` runs on a private in-memory DuckDB with one thread (its scan reads the file in
order), and the file's rows are shared out in contiguous runs between such COPYs, run
at once on a thread pool (DuckDB releases the GIL): the files come out in the rows'
order, the work on every core. Each private DuckDB spills to the engine's
``temp_directory`` and gets its share of the engine's ``memory_limit``. A row group holds
whole chunks of `CHUNK_ROWS` rows (up to ``ROW_GROUP_SIZE + CHUNK_ROWS - 1``), so a range
is sized for that, and needs at least `CHUNK_ROWS` rows; smaller ranges, and a file still
over the limit, are for
`sizes`' range by range rewrite.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb

from sqla_stage.runtime.engine.literals import literal
from sqla_stage.runtime.unload.files import WrittenFile

#: Rows of a DuckDB chunk: a row group holds whole chunks (bar the first of a run).
CHUNK_ROWS = 2048
_NUMBER = re.compile(r"\d+")
#: A size as DuckDB shows a setting: ``18.8 GiB``, ``95.3 MiB``, ``512 bytes``.
_SIZE = re.compile(r"([0-9.]+)\s*([KMGTP]i?B|bytes)", re.IGNORECASE)
_UNITS = {
    "bytes": 1,
    **{f"{p}b": 1000**n for n, p in enumerate("kmgtp", 1)},
    **{f"{p}ib": 1024**n for n, p in enumerate("kmgtp", 1)},
}


def range_rows(rows: int, size: int, limit: int, fill: float) -> int:
    """The ROW_GROUP_SIZE whose files stay at ``fill`` of ``limit`` (0: ranges too small).

    Args:
        rows: The file's rows.
        size: Its size in bytes.
        limit: MAX_FILE_SIZE.
        fill: The share of the limit a range aims at.
    """
    most = int(rows * limit * fill / size)  # rows of a file at ``fill`` of the limit
    step = (most - CHUNK_ROWS) // CHUNK_ROWS * CHUNK_ROWS
    return step if step >= CHUNK_ROWS else 0


@dataclass(frozen=True)
class _Run:
    """Rows ``[start, stop)`` of one file, written in ranges of ``step`` rows."""

    file: WrittenFile
    start: int
    stop: int
    step: int
    folder: str


def _runs(file: WrittenFile, step: int, workers: int) -> list[_Run]:
    """``file``'s rows in up to ``workers`` contiguous runs of whole ranges."""
    rows = file.rows or 0
    ranges = math.ceil(rows / step)
    per_run = math.ceil(ranges / max(1, min(workers, ranges))) * step
    return [
        _Run(file, start, min(rows, start + per_run), step, f"{file.path}-r{number:04d}")
        for number, start in enumerate(range(0, rows, per_run))
    ]


def private_settings(memory_limit: str, temp_directory: str, workers: int) -> dict[str, str]:
    """The settings of each private DuckDB: the engine's memory shared among ``workers``.

    Args:
        memory_limit: The engine's ``memory_limit`` as DuckDB shows it (``'18.8 GiB'``).
        temp_directory: The engine's ``temp_directory`` ('' when spilling is off).
        workers: How many private DuckDBs run at once.
    """
    settings = {"threads": "1"}
    match = _SIZE.fullmatch(memory_limit.strip())
    if match:
        total = float(match.group(1)) * _UNITS[match.group(2).lower()]
        settings["memory_limit"] = f"{max(1, int(total / max(1, workers)) >> 20)}MiB"
    if temp_directory:
        settings["temp_directory"] = temp_directory
    return settings


def _write(part: _Run, compression: str, settings: dict[str, str]) -> list[WrittenFile]:
    """Write one run's ranges, one file each, in order (a private one-thread DuckDB)."""
    with duckdb.connect(":memory:", config=dict(settings)) as database:
        stats = database.execute(
            "COPY (SELECT * EXCLUDE (file_row_number) FROM "
            f"read_parquet({literal(part.file.path)}, file_row_number = true, "
            "hive_partitioning = false) "
            f"WHERE file_row_number >= {part.start} AND file_row_number < {part.stop}) "
            f"TO {literal(part.folder)} (FORMAT parquet, COMPRESSION {compression}, "
            f"ROW_GROUP_SIZE {part.step}, FILE_SIZE_BYTES 1, FILENAME_PATTERN 'part_{{i}}', "
            "RETURN_STATS true)"
        ).fetchall()
    counts = {os.path.basename(str(row[0])): int(row[1]) for row in stats}
    written = []
    for name in sorted(counts, key=lambda name: int(_NUMBER.findall(name)[-1])):
        path = os.path.join(part.folder, name)
        if counts[name]:
            written.append(WrittenFile(path, part.file.partition, rows=counts[name]))
        else:  # DuckDB's last file can be empty
            os.remove(path)
    return written


def rewrite(
    jobs: Sequence[tuple[WrittenFile, int]],
    compression: str,
    workers: int,
    settings: dict[str, str] | None = None,
) -> list[list[WrittenFile]]:
    """Rewrite each file in ranges of its step's rows; each file's pieces, in order.

    Args:
        jobs: The files (with their row counts) and the ROW_GROUP_SIZE of their ranges.
        compression: The Parquet compression.
        workers: How many COPYs run at once (DuckDB's threads).
        settings: The private DuckDBs' settings (`private_settings`; default: one thread).

    Returns:
        For each job, the files of its ranges in the rows' order (the file is removed).
    """
    runs = [part for file, step in jobs for part in _runs(file, step, workers)]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        config = settings or {"threads": "1"}
        written = list(pool.map(lambda part: _write(part, compression, config), runs))
    result: list[list[WrittenFile]] = []
    for file, _ in jobs:
        mine = [pieces for part, pieces in zip(runs, written, strict=True) if part.file is file]
        result.append([piece for pieces in mine for piece in pieces])
        os.remove(file.path)
    return result
