"""gzip unloads: DuckDB writes plain text, :mod:`sqla_stage.runtime.unload.compress` compresses.

The files must be ordinary gzip (several members when they are large), hold exactly what
DuckDB's own plain COPY writes, and report their plain size as ``input_bytes``.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sqla_stage.runtime.storage.compressions import GZIP
from sqla_stage.runtime.unload import compress as unload_compress
from sqla_stage.runtime.unload.compress import compress_files

ROWS = 300_000
#: Enough plain CSV for several gzip members (BLOCK_SIZE is 1 MiB).
SOURCE = f"SELECT i, md5(CAST(i AS VARCHAR)) AS h, i * 0.5 AS half FROM range({ROWS}) t(i)"


def _members(data: bytes) -> int:
    """How many gzip members ``data`` holds."""
    count = 0
    while data:
        decompressor = zlib.decompressobj(31)
        decompressor.decompress(data)
        data = decompressor.unused_data
        count += 1
    return count


def _plain_csv(tmp_path: Path) -> bytes:
    target = tmp_path / "plain.csv"
    with duckdb.connect() as connection:
        connection.execute(f"COPY ({SOURCE}) TO '{target}' (FORMAT csv, HEADER false)")
    return target.read_bytes()


def test_single_gzip_file_is_duckdb_plain_csv_in_several_members(
    engine: Any, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        result = conn.exec_driver_sql(
            f"COPY INTO @s/all.csv.gz FROM ({SOURCE}) SINGLE = TRUE MAX_FILE_SIZE = 100000000"
        ).one()
    written = (tmp_path / "stages" / "stage" / "internal" / "s" / "all.csv.gz").read_bytes()
    plain = _plain_csv(tmp_path)
    assert len(plain) > 2 * unload_compress.BLOCK_SIZE
    assert gzip.decompress(written) == plain
    assert _members(written) == -(-len(plain) // unload_compress.BLOCK_SIZE)
    assert (result.rows_unloaded, result.input_bytes, result.output_bytes) == (
        ROWS,
        len(plain),
        len(written),
    )
    with duckdb.connect() as connection:
        path = tmp_path / "stages" / "stage" / "internal" / "s" / "all.csv.gz"
        assert connection.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone() == (ROWS,)


def test_split_gzip_bounds_the_plain_size(engine: Any, tmp_path: Path) -> None:
    limit = 1_000_000
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        result = conn.exec_driver_sql(
            f"COPY INTO @s/out/ FROM (SELECT s FROM ({SOURCE}) s) FILE_FORMAT = (TYPE = JSON) "
            f"MAX_FILE_SIZE = {limit}"
        ).one()
    folder = tmp_path / "stages" / "stage" / "internal" / "s" / "out"
    files = sorted(folder.iterdir())
    assert len(files) > 5
    assert all(path.name.endswith(".json.gz") for path in files)
    plain = [gzip.decompress(path.read_bytes()) for path in files]
    # DuckDB checks the size after each chunk it writes, so a file passes the limit by
    # less than one chunk; compressed, every file is far below it.
    assert all(len(text) < 2 * limit for text in plain)
    assert all(path.stat().st_size < limit for path in files)
    assert sum(text.count(b"\n") for text in plain) == ROWS
    assert result.input_bytes == sum(len(text) for text in plain)
    assert result.output_bytes == sum(path.stat().st_size for path in files)


def test_single_gzip_beyond_max_file_size_is_refused_after_compressing(
    engine: Any, tmp_path: Path
) -> None:
    plain_size = len(_plain_csv(tmp_path))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        # The plain file is larger than the limit, the compressed one is not: accepted.
        conn.exec_driver_sql(
            f"COPY INTO @s/ok.csv.gz FROM ({SOURCE}) SINGLE = TRUE "
            f"MAX_FILE_SIZE = {plain_size * 3 // 4}"
        )
        with pytest.raises(Exception, match=r"Max file size \(100000\) exceeded"):
            conn.exec_driver_sql(
                f"COPY INTO @s/big.csv.gz FROM ({SOURCE}) SINGLE = TRUE MAX_FILE_SIZE = 100000"
            )
    folder = tmp_path / "stages" / "stage" / "internal" / "s"
    assert sorted(path.name for path in folder.iterdir()) == ["ok.csv.gz"]


@pytest.mark.parametrize("workers", [1, 3])
def test_compress_files_keeps_every_byte_in_order(tmp_path: Path, workers: int) -> None:
    contents = [b"", b"x" * 10, bytes(range(256)) * 40_000]  # the last: 2.4 blocks
    paths = []
    for number, content in enumerate(contents):
        path = tmp_path / f"part_{number}.csv"
        path.write_bytes(content)
        paths.append(str(path))
    progressed: list[int] = []
    done = compress_files(paths, GZIP, workers, progressed.append)
    assert done == [
        (path + ".gz", len(content)) for path, content in zip(paths, contents, strict=True)
    ]
    assert [gzip.decompress(Path(path).read_bytes()) for path, _ in done] == contents
    assert sum(progressed) == sum(map(len, contents))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"part_{n}.csv.gz" for n in range(3)]


def test_compress_files_raises_what_the_disk_says(tmp_path: Path) -> None:
    path = tmp_path / "part_0.csv"
    path.write_bytes(b"a,b\n" * 1000)
    (tmp_path / "part_0.csv.gz").mkdir()  # the compressed file cannot be created
    with pytest.raises(IsADirectoryError):
        compress_files([str(path)], GZIP, 2, lambda size: None)
    assert path.read_bytes() == b"a,b\n" * 1000
