"""MAX_FILE_SIZE kept exactly (issue 16): every unloaded file within the limit.

A file larger than the limit is only spec 004's exception: it holds one record (text) or
one row (Parquet) that alone is larger. The files read back hold the source's rows
(EXCEPT ALL both ways), an ORDER BY's order survives across files, and PARTITION BY
partitions are cut too.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage.compressions import CODECS
from sqla_stage.runtime.unload.ranges import private_settings
from sqla_stage.runtime.unload.sizes import compressed_bound, plain_budget

ROWS = 200_000
#: The source: numbers, text, and (``s``) values that need quoting in CSV.
SOURCE = (
    "SELECT i, md5(CAST(i AS VARCHAR)) AS h, CAST(i * 0.5 AS DECIMAL(18, 1)) AS half, "
    "CASE WHEN i % 997 = 0 THEN 'two' || chr(10) || 'lines, \"quoted\"' "
    "ELSE 'v' || (i % 13) END AS s FROM range({rows}) t(i)"
)
#: DuckDB's types of the source, to read text files back.
TYPES = "{'i': 'BIGINT', 'h': 'VARCHAR', 'half': 'DECIMAL(18,1)', 's': 'VARCHAR'}"
#: Compressions DuckDB reads itself, by file suffix.
DUCKDB_READS = {".gz": "gzip", ".zst": "zstd"}


def _stage_files(root: Path) -> list[Path]:
    """The files under ``root``, by folder then by the file's number (``data_0_0_<n>``)."""

    def key(path: Path) -> tuple[str, int]:
        number = re.search(r"_0_0_(\d+)", path.name)
        return (str(path.parent), int(number.group(1)) if number else -1)

    return sorted((path for path in root.rglob("*") if path.is_file()), key=key)


def _plain_copy(path: Path, scratch: Path) -> tuple[str, str]:
    """A path DuckDB reads and its compression: bz2 and deflate decompressed here."""
    for codec in CODECS.values():
        if path.name.endswith(codec.suffix) and codec.name != "GZIP":
            decompressor = codec.decompressor()
            target = scratch / f"{len(list(scratch.iterdir()))}.plain"
            target.write_bytes(decompressor.decompress(path.read_bytes()))
            return str(target), "uncompressed"
    for suffix, name in DUCKDB_READS.items():
        if path.name.endswith(suffix):
            return str(path), name
    return str(path), "uncompressed"


def _plain_bytes(path: Path, scratch: Path) -> bytes:
    """A text file's plain bytes (every compression decompressed here)."""
    name, compression = _plain_copy(path, scratch)
    data = Path(name).read_bytes()
    if compression == "gzip":
        return gzip.decompress(data)
    if compression == "zstd":
        with pa.CompressedInputStream(pa.BufferReader(data), "zstd") as stream:
            return bytes(stream.read())
    return data


def _unescaped(path: Path, scratch: Path, delimiter: str, header: bool) -> str:
    r"""An unenclosed escaped CSV file (backslash before ``\``, the delimiters) rewritten
    as an RFC 4180 file in ``scratch``, read by DuckDB's own reader; its path."""
    text = _plain_bytes(path, scratch).decode()
    marks = {"\\\\": "\x00", "\\\n": "\x01", "\\" + delimiter: "\x02"}
    for escaped, mark in marks.items():
        text = text.replace(escaped, mark)
    records = text.split("\n")[:-1]
    target = scratch / f"{len(list(scratch.iterdir()))}.rfc.csv"
    with target.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for record in records[1 if header else 0 :]:
            fields = record.split(delimiter)
            for escaped, mark in marks.items():
                fields = [field.replace(mark, escaped[1:]) for field in fields]
            writer.writerow(fields)
    return str(target)


def _reader(kind: str, paths: list[Path], scratch: Path, header: bool) -> str:
    """SQL reading the files back, in order (one relation with the source's columns)."""
    scratch.mkdir(exist_ok=True)
    if kind == "parquet":
        return f"read_parquet({[str(path) for path in paths]})"
    parts = []
    for path in paths:
        name, compression = _plain_copy(path, scratch)
        if kind == "json":
            parts.append(
                f"SELECT * FROM read_json('{name}', columns = {TYPES}, "
                f"format = 'newline_delimited', compression = '{compression}')"
            )
        elif kind == "csv-enclosed":
            parts.append(
                f"SELECT * FROM read_csv('{name}', columns = {TYPES}, header = false, "
                f"auto_detect = false, compression = '{compression}', delim = ',')"
            )
        else:  # unenclosed, escaped (Snowflake's default)
            delimiter = "||" if kind == "csv-lines" else ","
            name = _unescaped(path, scratch, delimiter, header)
            parts.append(
                f"SELECT * FROM read_csv('{name}', columns = {TYPES}, header = false, "
                "auto_detect = false, delim = ',')"
            )
    return "(" + " UNION ALL ".join(parts) + ")"


def _unloaded(kind: str, source: str) -> str:
    """The query to unload: JSON takes the row as one object column, as in Snowflake."""
    return f"SELECT src FROM ({source}) AS src" if kind == "json" else source


def _records(kind: str, path: Path, scratch: Path) -> int:
    """How many rows one file holds."""
    with duckdb.connect() as connection:
        relation = _reader(kind, [path], scratch, header=kind == "csv-header")
        return int(connection.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])


def _assert_same_rows(kind: str, paths: list[Path], source: str, scratch: Path) -> None:
    """The files' rows are the source's, both ways, duplicates counted."""
    relation = _reader(kind, paths, scratch, header=kind == "csv-header")
    with duckdb.connect() as connection:
        for query in (
            f"SELECT * FROM ({source}) EXCEPT ALL SELECT * FROM {relation}",
            f"SELECT * FROM {relation} EXCEPT ALL SELECT * FROM ({source})",
        ):
            assert connection.execute(f"SELECT count(*) FROM ({query})").fetchone() == (0,)


CASES = [
    # (file format, kind read back, limit, partitioned)
    ("TYPE = CSV COMPRESSION = NONE", "csv", 100_000, False),
    ("TYPE = CSV COMPRESSION = NONE", "csv", 10_000, True),
    ("TYPE = CSV", "csv", 100_000, False),
    ("TYPE = CSV", "csv", 1_000_000, True),
    ("TYPE = CSV COMPRESSION = ZSTD", "csv", 100_000, False),
    ("TYPE = CSV COMPRESSION = ZSTD", "csv", 100_000, True),
    ("TYPE = CSV COMPRESSION = BZ2", "csv", 1_000_000, False),
    ("TYPE = CSV COMPRESSION = BZ2", "csv", 100_000, True),
    ("TYPE = CSV COMPRESSION = DEFLATE", "csv", 100_000, False),
    ("TYPE = CSV COMPRESSION = RAW_DEFLATE", "csv", 100_000, True),
    (
        "TYPE = CSV COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '\"'",
        "csv-enclosed",
        10_000,
        False,
    ),
    ("TYPE = CSV COMPRESSION = GZIP FIELD_DELIMITER = '||'", "csv-lines", 100_000, False),
    ("TYPE = JSON COMPRESSION = NONE", "json", 10_000, False),
    ("TYPE = JSON", "json", 100_000, False),
    ("TYPE = JSON COMPRESSION = ZSTD", "json", 1_000_000, False),
    ("TYPE = PARQUET", "parquet", 1_000_000, False),
    ("TYPE = PARQUET COMPRESSION = NONE", "parquet", 100_000, False),
    ("TYPE = PARQUET", "parquet", 1_000_000, True),
]


@pytest.mark.parametrize(("file_format", "kind", "limit", "partitioned"), CASES)
def test_every_file_is_within_the_limit(
    engine: Any, tmp_path: Path, file_format: str, kind: str, limit: int, partitioned: bool
) -> None:
    source = SOURCE.format(rows=ROWS)
    partition = "PARTITION BY ('p' || (i % 3)) " if partitioned else ""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        detailed = conn.exec_driver_sql(
            f"COPY INTO @s/out/ FROM ({_unloaded(kind, source)}) {partition}"
            f"FILE_FORMAT = ({file_format}) MAX_FILE_SIZE = {limit} DETAILED_OUTPUT = TRUE"
        ).all()
    folder = tmp_path / "stages" / "stage" / "internal" / "s" / "out"
    paths = _stage_files(folder)
    scratch = tmp_path / "plain"
    assert len(paths) == len(detailed) > 1
    assert {row.file_name for row in detailed} == {
        str(path.relative_to(folder.parent)) for path in paths
    }
    assert sum(row.row_count for row in detailed) == ROWS
    assert all(row.file_size == (folder.parent / row.file_name).stat().st_size for row in detailed)
    if partitioned:
        assert {path.parent.name for path in paths} == {"p0", "p1", "p2"}
    assert all(path.stat().st_size <= limit for path in paths)
    _assert_same_rows(kind, paths, source, scratch)


def test_order_by_holds_within_and_across_files(engine: Any, tmp_path: Path) -> None:
    source = f"SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range({ROWS}) t(i) ORDER BY h"
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        for name, file_format in (("csv", "CSV"), ("parquet", "PARQUET"), ("json", "JSON")):
            query = source
            if name == "json":  # one object a row, built in the ordered query itself
                query = (
                    f"SELECT {{'i': i, 'h': md5(CAST(i AS VARCHAR))}} AS o FROM range({ROWS}) "
                    "t(i) ORDER BY md5(CAST(i AS VARCHAR))"
                )
            conn.exec_driver_sql(
                f"COPY INTO @s/{name}/ FROM ({query}) FILE_FORMAT = (TYPE = {file_format}) "
                "MAX_FILE_SIZE = 300000"
            )
    folder = tmp_path / "stages" / "stage" / "internal" / "s"
    with duckdb.connect() as connection:
        expected = [row[0] for row in connection.execute(source).fetchall()]
        for name in ("csv", "parquet", "json"):
            paths = _stage_files(folder / name)
            assert len(paths) > 5
            got: list[int] = []
            for path in paths:  # each file on its own, in file-name order
                reader = {
                    "csv": f"read_csv('{path}', header = false, columns = {{'i': 'BIGINT', "
                    "'h': 'VARCHAR'})",
                    "parquet": f"read_parquet('{path}')",
                    "json": f"read_json('{path}', columns = {{'i': 'BIGINT', 'h': 'VARCHAR'}})",
                }[name]
                column = "col1" if name == "parquet" else "i"
                rows = connection.execute(f"SELECT {column} FROM {reader}").fetchall()
                got += [row[0] for row in rows]
            assert got == expected, name


@pytest.mark.parametrize(
    ("file_format", "kind"),
    [
        ("TYPE = CSV COMPRESSION = NONE", "csv"),
        ("TYPE = CSV", "csv"),
        ("TYPE = CSV COMPRESSION = ZSTD", "csv"),
        ("TYPE = JSON COMPRESSION = BZ2", "json"),
        ("TYPE = PARQUET", "parquet"),
    ],
)
def test_a_row_larger_than_the_limit_is_a_file_alone(
    engine: Any, tmp_path: Path, file_format: str, kind: str
) -> None:
    """Spec 004: a set of rows can exceed a very small MAX_FILE_SIZE; here, one row."""
    limit = 20_000
    big = "(SELECT string_agg(md5(CAST(n AS VARCHAR)), '') FROM range(2000) r(n))"
    source = (
        f"SELECT i, md5(CAST(i AS VARCHAR)) AS h, CAST(i * 0.5 AS DECIMAL(18, 1)) AS half, "
        f"CASE WHEN i IN (500, 501, 1700) THEN {big} ELSE 'v' END AS s FROM range(3000) t(i)"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        result = conn.exec_driver_sql(
            f"COPY INTO @s/out/ FROM ({_unloaded(kind, source)}) "
            f"FILE_FORMAT = ({file_format}) MAX_FILE_SIZE = {limit}"
        ).one()
    assert result.rows_unloaded == 3000
    paths = _stage_files(tmp_path / "stages" / "stage" / "internal" / "s" / "out")
    scratch = tmp_path / "plain"
    over = [path for path in paths if path.stat().st_size > limit]
    assert len(over) == 3  # the three large rows, each alone
    assert all(_records(kind, path, scratch) == 1 for path in over)
    _assert_same_rows(kind, paths, source, scratch)


def test_header_is_in_every_file_and_counted(engine: Any, tmp_path: Path) -> None:
    source = SOURCE.format(rows=20_000) + " ORDER BY i"  # one file, cut: each piece filled
    limit = 10_000
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(
            f"COPY INTO @s/out/ FROM ({source}) FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) "
            f"HEADER = TRUE MAX_FILE_SIZE = {limit}"
        )
    paths = _stage_files(tmp_path / "stages" / "stage" / "internal" / "s" / "out")
    assert len(paths) > 50
    assert all(path.read_bytes().startswith(b"i,h,half,s\n") for path in paths)
    assert all(path.stat().st_size <= limit for path in paths)
    # Files are filled: each next record would not have fitted.
    assert sum(path.stat().st_size for path in paths) > 0.95 * limit * (len(paths) - 1)
    _assert_same_rows("csv-header", paths, source, tmp_path / "plain")


def test_values_with_the_delimiter_and_an_escape_cannot_be_cut(engine: Any, tmp_path: Path) -> None:
    """ESCAPE other than the quote: a cut could land inside a value, so it is refused."""
    source = SOURCE.format(rows=20_000)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        with pytest.raises(StageRuntimeError, match="cannot tell where a record ends"):
            conn.exec_driver_sql(
                f"COPY INTO @s/out/ FROM ({source}) FILE_FORMAT = (TYPE = CSV "
                "COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE = '\\\\' "
                "NULL_IF = ('NULL')) MAX_FILE_SIZE = 10000"
            )
        # The same values with no delimiter inside are cut.
        done = conn.exec_driver_sql(
            f"COPY INTO @s/ok/ FROM ({source.replace('chr(10)', chr(39) + ' ' + chr(39))}) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '\"' "
            "ESCAPE = '\\\\' NULL_IF = ('NULL')) MAX_FILE_SIZE = 10000"
        ).one()
    stage = tmp_path / "stages" / "stage" / "internal" / "s"
    assert not (stage / "out").exists()
    assert done.rows_unloaded == 20_000
    assert all(path.stat().st_size <= 10_000 for path in _stage_files(stage / "ok"))


@pytest.mark.parametrize("compression", ["gzip", "bz2", "deflate", "raw_deflate", "zstd"])
def test_the_plain_budget_is_the_largest_within_the_bound(compression: str) -> None:
    assert plain_budget(compression, 50) == 0  # every record alone: the exception
    for limit in (1_000, 100_000, 16_000_000, 5 * 1024**3):
        budget = plain_budget(compression, limit)
        assert compressed_bound(compression, budget) <= limit
        assert compressed_bound(compression, budget + 1) > limit
        assert budget > 0.95 * limit - 5000


def test_high_entropy_text_stays_within_the_limit(engine: Any, tmp_path: Path) -> None:
    """Text that hardly compresses: the plain budget leaves room for the codec's overhead."""
    source = (
        "SELECT to_base64(unhex(md5(CAST(i AS VARCHAR)) || md5(CAST(-i AS VARCHAR)))) AS r "
        "FROM range(50000) t(i)"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        for name in ("GZIP", "BZ2", "DEFLATE", "ZSTD"):
            conn.exec_driver_sql(
                f"COPY INTO @s/{name}/ FROM ({source}) "
                f"FILE_FORMAT = (TYPE = CSV COMPRESSION = {name}) MAX_FILE_SIZE = 5000"
            )
    stage = tmp_path / "stages" / "stage" / "internal" / "s"
    for name in ("GZIP", "BZ2", "DEFLATE", "ZSTD"):
        paths = _stage_files(stage / name)
        assert len(paths) > 10
        assert all(os.path.getsize(path) <= 5000 for path in paths), name


def test_pieces_are_the_same_bytes_without_copy_file_range(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the kernel cannot copy a range (not Linux), Python copies the same bytes."""
    source = SOURCE.format(rows=20_000) + " ORDER BY i"  # the same files both times
    unload = (
        f"FROM ({source}) FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) HEADER = TRUE "
        "MAX_FILE_SIZE = 50000"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(f"COPY INTO @s/kernel/ {unload}")
        monkeypatch.delattr(os, "copy_file_range", raising=False)
        conn.exec_driver_sql(f"COPY INTO @s/python/ {unload}")
    stage = tmp_path / "stages" / "stage" / "internal" / "s"
    kernel, python = _stage_files(stage / "kernel"), _stage_files(stage / "python")
    assert len(kernel) > 5
    assert [path.read_bytes() for path in kernel] == [path.read_bytes() for path in python]


def test_private_duckdbs_share_the_engines_memory_and_spill_folder(tmp_path: Path) -> None:
    """The one-thread DuckDBs that cut Parquet files keep within the engine's settings."""
    settings = private_settings("1.0 GiB", str(tmp_path / "spill"), 4)
    assert settings == {
        "threads": "1",
        "memory_limit": "256MiB",
        "temp_directory": str(tmp_path / "spill"),
    }
    with duckdb.connect(":memory:", config=settings) as database:
        limit, folder = database.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone() or ("", "")
    assert (limit, folder) == ("256.0 MiB", str(tmp_path / "spill"))
    assert private_settings("95.3 MB", "", 1) == {"threads": "1", "memory_limit": "90MiB"}
