"""MAX_FILE_SIZE on the fast paths (issue 19): no ORDER BY, DuckDB's threads write the files.

A source without an ORDER BY (a table, a query without one) is written by DuckDB's
threads (``PER_THREAD_OUTPUT`` with ``FILE_SIZE_BYTES`` under the limit) and only the
files over the limit are cut; Parquet ranges are written many per COPY. The files stay
within the limit, hold the source's rows both ways, and an ORDER BY still holds.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sqla_stage.formats import CSV, JSON, FormatSpec, Parquet
from sqla_stage.runtime.unload.files import WrittenFile, collect
from sqla_stage.runtime.unload.formats import writer_for
from sqla_stage.runtime.unload.sizes import (
    PARALLEL_PARQUET_MIN,
    fit,
    ordered,
    parallel_options,
    split_parquet,
)
from sqla_stage.runtime.unload.writer import SourceColumn

ROWS = 300_000
COLUMNS = "{'i': 'BIGINT', 'h': 'VARCHAR', 's': 'VARCHAR'}"
SOURCE = (
    "SELECT i, md5(CAST(i AS VARCHAR)) AS h, "
    "CASE WHEN i % 991 = 0 THEN 'a' || chr(10) || 'b, \"c\"' ELSE 'v' || (i % 7) END AS s "
    "FROM range({rows}) t(i)"
)


def _rfc_copies(paths: list[str], scratch: Path, header: bool) -> list[str]:
    r"""Unenclosed escaped CSV files (Snowflake's default: ``\`` before the delimiters and
    itself) decoded by Python's ``csv`` module and rewritten as RFC 4180 files for DuckDB."""
    scratch.mkdir(exist_ok=True)
    copies = []
    for number, path in enumerate(paths):
        data = Path(path).read_bytes()
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
        rows = csv.reader(io.StringIO(text), escapechar="\\", quoting=csv.QUOTE_NONE)
        target = scratch / f"{number}.csv"
        with target.open("w", newline="") as out:
            csv.writer(out, lineterminator="\n").writerows(list(rows)[1 if header else 0 :])
        copies.append(str(target))
    return copies


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM t", False),
        ('SELECT * FROM "t" WHERE a > ?', False),
        ("SELECT a, row_number() OVER (ORDER BY a) FROM t", False),
        ("SELECT 'ORDER BY a' AS text FROM t", False),
        ("SELECT * FROM t ORDER BY a", True),
        ("SELECT a FROM t UNION ALL SELECT a FROM t ORDER BY 1", True),
        ("SELECT * FROM (SELECT * FROM t ORDER BY a) AS x", True),
        ("WITH x AS (SELECT * FROM t ORDER BY a) SELECT * FROM x", True),
        ("SELECT FROM WHERE (", True),  # not parsed: treated as ordered
    ],
)
def test_an_order_is_told_from_the_parsed_query(query: str, expected: bool) -> None:
    with duckdb.connect() as connection:
        assert ordered(connection.execute, query) is expected


def _same_rows(connection: Any, relation: str, source: str) -> None:
    for query in (
        f"SELECT * FROM ({source}) EXCEPT ALL SELECT * FROM {relation}",
        f"SELECT * FROM {relation} EXCEPT ALL SELECT * FROM ({source})",
    ):
        assert connection.execute(f"SELECT count(*) FROM ({query})").fetchone() == (0,)


@pytest.mark.parametrize(
    ("spec", "header", "limit"),
    [
        (CSV(compression="NONE"), True, 200_000),
        (CSV(compression="GZIP"), False, 100_000),
        (JSON(compression="NONE"), False, 150_000),
        (Parquet(), False, 400_000),
        (Parquet(), False, 90_000),
    ],
)
def test_per_thread_files_are_cut_to_the_limit(
    tmp_path: Path, spec: FormatSpec, header: bool, limit: int
) -> None:
    """DuckDB's own parallel files, then `fit`: within the limit, the source's rows."""
    writer = writer_for(spec, header)
    source = SOURCE.format(rows=ROWS)
    unloaded = f"SELECT src FROM ({source}) AS src" if isinstance(spec, JSON) else source
    output = tmp_path / "out"
    with duckdb.connect(config={"threads": 2}) as connection:
        described = connection.execute(f"DESCRIBE {unloaded}").fetchall()
        columns = [SourceColumn(str(row[0]), str(row[1])) for row in described]
        items = ", ".join(writer.select_items(columns))
        # Parquet under PARALLEL_PARQUET_MIN is written as one file; here DuckDB's own split.
        placement = parallel_options(writer, limit) or [
            "PER_THREAD_OUTPUT true",
            f"FILE_SIZE_BYTES {limit}",
        ]
        options = [*writer.copy_options(columns), *placement]
        stats = connection.execute(
            f"COPY (SELECT {items} FROM ({unloaded})) TO '{output}' ({', '.join(options)})"
        ).fetchall()
        written = collect(str(output), None)
        if writer.duckdb_format == "parquet":
            counts = {os.path.normpath(str(row[0])): int(row[1]) for row in stats}
            for file in written:
                file.rows = counts[os.path.normpath(file.path)]
        assert len(written) > 1  # DuckDB wrote several files itself
        files = fit(connection.execute, written, writer, limit, ROWS, 2)
        assert all(os.path.getsize(file.path) <= limit for file in files)
        paths = [file.path for file in files]
        if writer.duckdb_format == "parquet":
            assert sum(file.rows or 0 for file in files) == ROWS
            relation = f"read_parquet({paths})"
        elif isinstance(spec, JSON):
            relation = (
                f"read_json({paths}, columns = {{'i': 'BIGINT', 'h': 'VARCHAR', 's': 'VARCHAR'}}, "
                "format = 'newline_delimited')"
            )
        else:
            copies = _rfc_copies(paths, tmp_path / "rfc", header)
            relation = (
                f"read_csv({copies}, header = false, auto_detect = false, "
                "columns = {'i': 'BIGINT', 'h': 'VARCHAR', 's': 'VARCHAR'})"
            )
        if header:  # each file starts with the header, and holds records after it
            heads = {Path(path).read_bytes().split(b"\n", 1)[0] for path in paths}
            assert heads == {b"i,h,s"}
            assert all(os.path.getsize(path) > len(b"i,h,s\n") for path in paths)
        _same_rows(connection, relation, source)
    left = {str(path) for path in output.rglob("*") if path.is_file()}
    assert left == set(paths)  # the files cut or rewritten are gone


def test_ordered_ranges_come_out_in_order_from_several_copies(tmp_path: Path) -> None:
    """One ordered Parquet file rewritten in ranges by three COPYs at once: still in order."""
    path = tmp_path / "ordered.parquet"
    with duckdb.connect() as connection:
        stats = connection.execute(
            f"COPY (SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range({ROWS}) t(i) ORDER BY h) "
            f"TO '{path}' (FORMAT parquet, RETURN_STATS true)"
        ).fetchall()
        file = WrittenFile(str(path), rows=int(stats[0][1]))
        limit = 200_000
        files = split_parquet(connection.execute, [file], writer_for(Parquet(), False), limit, 3)
        assert len(files) > 20
        assert not path.exists()
        assert all(os.path.getsize(piece.path) <= limit for piece in files)
        assert sum(piece.rows or 0 for piece in files) == ROWS
        got = [
            row[0]
            for piece in files
            for row in connection.execute(f"SELECT h FROM read_parquet('{piece.path}')").fetchall()
        ]
        expected = connection.execute(
            f"SELECT md5(CAST(i AS VARCHAR)) AS h FROM range({ROWS}) t(i) ORDER BY h"
        ).fetchall()
        assert got == [row[0] for row in expected]


@pytest.mark.parametrize(
    ("file_format", "reader"),
    [
        ("TYPE = CSV COMPRESSION = NONE", "csv"),
        ("TYPE = CSV", "csv"),
        ("TYPE = PARQUET", "read_parquet({})"),
    ],
)
def test_a_table_unloads_within_the_limit(
    engine: Any, tmp_path: Path, file_format: str, reader: str
) -> None:
    """A table has no order: its files come from DuckDB's threads, cut where over."""
    limit = 250_000
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE t AS {SOURCE.format(rows=ROWS)}")
        conn.exec_driver_sql("CREATE STAGE s")
        detailed = conn.exec_driver_sql(
            f"COPY INTO @s/out/ FROM t FILE_FORMAT = ({file_format}) HEADER = TRUE "
            f"MAX_FILE_SIZE = {limit} DETAILED_OUTPUT = TRUE"
        ).all()
    folder = tmp_path / "stages" / "stage" / "internal" / "s" / "out"
    paths = sorted(str(path) for path in folder.iterdir())
    assert len(paths) == len(detailed) > 5
    assert all(os.path.getsize(path) <= limit for path in paths)
    assert sum(row.row_count for row in detailed) == ROWS
    assert all(row.row_count > 0 for row in detailed)
    relation = reader.format(paths)
    if reader == "csv":  # escaped, unenclosed
        copies = _rfc_copies(paths, tmp_path / "rfc", header=True)
        relation = f"read_csv({copies}, header = false, columns = {COLUMNS})"
    with duckdb.connect() as connection:
        _same_rows(connection, relation, SOURCE.format(rows=ROWS))


def test_parallel_parquet_row_groups_are_sized_from_the_limit() -> None:
    writer = writer_for(Parquet(), False)
    assert parallel_options(writer, PARALLEL_PARQUET_MIN - 1) is None  # one file, then ranges
    assert parallel_options(writer, 16_000_000) == [
        "PER_THREAD_OUTPUT true",
        "FILENAME_PATTERN 'part_{i}'",
        "FILE_SIZE_BYTES 14400000",
        "ROW_GROUP_SIZE 31250",
    ]
    text = parallel_options(writer_for(CSV(compression="NONE"), False), 100_000)
    assert text is not None and "FILE_SIZE_BYTES 90000" in text
