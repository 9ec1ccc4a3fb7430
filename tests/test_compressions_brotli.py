"""COMPRESSION = BROTLI written, loaded back and queried (the ``brotli`` extra).

DuckDB writes plain text that the runtime compresses, one brotli stream a file
(:mod:`sqla_stage.runtime.storage.brotli_codec`); the files are read from decompressed
copies. The refusals without the package are in ``tests/test_compressions.py`` (they run
under ``pytest --core``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import brotli
import pytest
from compressed_files import (
    EXPECTED,
    ROWS,
    SOURCE,
    check_detailed_output,
    load,
    stage_folder,
    unload_split_csv,
)
from sqlalchemy import exc

from sqla_stage.runtime.storage.compressions import BROTLI, decompress

pytestmark = pytest.mark.extra("brotli")


def test_single_file_holds_exactly_the_text_duckdb_writes(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(
            f"COPY INTO @s/plain.csv FROM ({SOURCE}) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) SINGLE = TRUE"
        )
        result = conn.exec_driver_sql(
            f"COPY INTO @s/all.csv.br FROM ({SOURCE}) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = BROTLI) SINGLE = TRUE"
        ).one()
    plain = stage_folder(tmp_path, "plain.csv").read_bytes()
    compressed = stage_folder(tmp_path, "all.csv.br").read_bytes()
    assert brotli.decompress(compressed) == plain
    assert len(compressed) < len(plain) // 3
    assert tuple(result) == (ROWS, len(plain), len(compressed))


def test_csv_unload_loads_back_and_queries(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        files = unload_split_csv(conn, tmp_path, "BROTLI", ".br", brotli.decompress)
        loaded = load(
            conn, "COPY INTO t FROM @s/out/ FILE_FORMAT = (TYPE = CSV COMPRESSION = BROTLI)"
        )
        assert loaded == EXPECTED
        conn.exec_driver_sql("CREATE FILE FORMAT b TYPE = CSV COMPRESSION = BROTLI")
        staged = conn.exec_driver_sql(
            "SELECT count(*), sum($1::INTEGER), count(DISTINCT METADATA$FILENAME) "
            "FROM @s/out/ (FILE_FORMAT => 'b')"
        ).one()
        assert tuple(staged) == (ROWS, sum(range(ROWS)), len(files))
        # AUTO does not detect Brotli (nor does Snowflake's): refused, not read as text.
        with pytest.raises(exc.ProgrammingError, match="give COMPRESSION = BROTLI"):
            load(conn, "COPY INTO t FROM @s/out/ FILE_FORMAT = (TYPE = CSV) FORCE = TRUE")


def test_detailed_output_counts_rows_of_brotli_files(engine: Any) -> None:
    check_detailed_output(engine, "BROTLI", ".br")


def test_json_single_file_round_trip_and_its_extension(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        unload = (
            "COPY INTO @s/{name} FROM (SELECT {{'n': n, 'label': label}} FROM ({source})) "
            "FILE_FORMAT = (TYPE = JSON COMPRESSION = BROTLI) SINGLE = TRUE"
        )
        with pytest.raises(exc.ProgrammingError, match=r"'all\.json' must end with '\.br'"):
            conn.exec_driver_sql(unload.format(name="all.json", source=SOURCE))
        assert not stage_folder(tmp_path).exists() or not any(stage_folder(tmp_path).iterdir())
        conn.exec_driver_sql(unload.format(name="all.json.br", source=SOURCE))
        text = brotli.decompress(stage_folder(tmp_path, "all.json.br").read_bytes())
        assert [json.loads(line) for line in text.splitlines()] == [
            {"n": n, "label": label} for n, label in EXPECTED
        ]
        conn.exec_driver_sql("CREATE FILE FORMAT j TYPE = JSON COMPRESSION = BROTLI")
        rows = conn.exec_driver_sql(
            "SELECT $1:n::INTEGER, $1:label::VARCHAR FROM @s/all.json.br "
            "(FILE_FORMAT => 'j') ORDER BY 1"
        ).all()
        assert [tuple(row) for row in rows] == EXPECTED


def test_files_of_another_writer_are_read(engine: Any, tmp_path: Path) -> None:
    folder = stage_folder(tmp_path, "ext")
    folder.mkdir(parents=True)
    # The brotli package's defaults (quality 11), and a name without the .br extension.
    (folder / "a.csv.br").write_bytes(brotli.compress(b"1,one\n2,two\n"))
    (folder / "b.data").write_bytes(brotli.compress(b"3,three\n", quality=0))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        explicit = "FILE_FORMAT = (TYPE = CSV COMPRESSION = BROTLI)"
        assert load(conn, f"COPY INTO t FROM @s/ext/ {explicit}") == [
            (1, "one"),
            (2, "two"),
            (3, "three"),
        ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1,one\n", "not BROTLI data"),
        (brotli.compress(b"1,one\n" * 1000)[:-3], "the BROTLI data is cut short"),
        (brotli.compress(b"1,one\n") * 2, "not BROTLI data"),
    ],
    ids=["plain text", "cut short", "two streams"],
)
def test_bytes_that_are_not_one_brotli_stream_are_an_error(
    engine: Any, tmp_path: Path, data: bytes, message: str
) -> None:
    folder = stage_folder(tmp_path, "bad")
    folder.mkdir(parents=True)
    (folder / "a.csv.br").write_bytes(data)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        with pytest.raises(exc.OperationalError, match=rf"a\.csv\.br.*: {message}"):
            load(conn, "COPY INTO t FROM @s/bad/ FILE_FORMAT = (TYPE = CSV COMPRESSION = BROTLI)")
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_decompress_bounds_each_step_and_gives_every_byte() -> None:
    # 64 MiB of one byte compress to a few kilobytes: one input chunk, many output steps,
    # none of them holding the whole output.
    data = b"x" * (64 * 1024 * 1024)
    blob = brotli.compress(data, quality=1)
    assert len(blob) < 100_000

    class Sink(io.BytesIO):
        largest = 0

        def write(self, piece: Any, /) -> int:
            self.largest = max(self.largest, len(piece))
            return super().write(piece)

    out = Sink()
    decompress(io.BytesIO(blob), BROTLI, out)
    assert out.getvalue() == data
    assert 0 < out.largest <= len(data) // 4
