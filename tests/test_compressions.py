"""BZ2, DEFLATE and RAW_DEFLATE unloads, loads and staged queries; LZO refused.

DuckDB writes plain text that the runtime compresses
(:mod:`sqla_stage.runtime.storage.compressions`),
and reads those files from decompressed copies (:mod:`sqla_stage.runtime.storage.read_compression`),
with COMPRESSION = AUTO deciding by extension or magic bytes. BROTLI's round trips need the
``brotli`` extra (``tests/test_compressions_brotli.py``); here, with only the core
dependencies, are its refusals: without the package, and a ``.br`` file under AUTO.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

from sqla_stage.runtime.storage.compressions import CODECS, decompress

ROOT = Path(__file__).resolve().parent.parent


def _zlib(data: bytes) -> bytes:
    assert data[:2] == b"\x78\x9c"  # zlib's header (RFC 1950)
    return zlib.decompress(data)


#: How Python's own modules decompress each compression, and the file suffix.
DECOMPRESS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "GZIP": (".gz", gzip.decompress),
    "BZ2": (".bz2", bz2.decompress),
    "DEFLATE": (".deflate", _zlib),
    "RAW_DEFLATE": (".raw_deflate", lambda data: zlib.decompress(data, -15)),
}


@pytest.mark.parametrize("name", sorted(DECOMPRESS))
def test_csv_unload_compresses_loads_back_and_queries(
    engine: Any, tmp_path: Path, name: str
) -> None:
    suffix, python_decompress = DECOMPRESS[name]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        files = unload_split_csv(conn, tmp_path, name, suffix, python_decompress)
        # Loaded back with the compression named, and with AUTO (by extension).
        explicit = f"FILE_FORMAT = (TYPE = CSV COMPRESSION = {name})"
        assert load(conn, f"COPY INTO t FROM @s/out/ {explicit}") == EXPECTED
        assert (
            load(conn, "COPY INTO t FROM @s/out/ FILE_FORMAT = (TYPE = CSV) FORCE = TRUE")
            == EXPECTED
        )
        staged = conn.exec_driver_sql(
            "SELECT count(*), sum($1::INTEGER), count(DISTINCT METADATA$FILENAME) FROM @s/out/"
        ).one()
        assert tuple(staged) == (ROWS, sum(range(ROWS)), len(files))
        names = {
            row[0] for row in conn.exec_driver_sql("SELECT DISTINCT METADATA$FILENAME FROM @s/out/")
        }
        assert names == {f"out/{f.name}" for f in files}


@pytest.mark.parametrize("name", ["BZ2", "DEFLATE", "RAW_DEFLATE"])
def test_json_single_file_round_trip(engine: Any, tmp_path: Path, name: str) -> None:
    suffix, python_decompress = DECOMPRESS[name]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(
            f"COPY INTO @s/all.json{suffix} FROM (SELECT {{'n': n, 'label': label}} FROM "
            f"({SOURCE})) "
            f"FILE_FORMAT = (TYPE = JSON COMPRESSION = {name}) SINGLE = TRUE"
        )
        text = python_decompress(stage_folder(tmp_path, f"all.json{suffix}").read_bytes())
        assert [json.loads(line) for line in text.splitlines()] == [
            {"n": n, "label": label} for n, label in EXPECTED
        ]
        conn.exec_driver_sql(f"CREATE FILE FORMAT j TYPE = JSON COMPRESSION = {name}")
        rows = conn.exec_driver_sql(
            f"SELECT $1:n::INTEGER, $1:label::VARCHAR FROM @s/all.json{suffix} "
            "(FILE_FORMAT => 'j') ORDER BY 1"
        ).all()
        assert [tuple(row) for row in rows] == EXPECTED
        loaded = load(
            conn,
            f"COPY INTO t FROM @s/all.json{suffix} FILE_FORMAT = (FORMAT_NAME = 'j') "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
        )
        assert loaded == EXPECTED


def test_detailed_output_counts_rows_of_bz2_files(engine: Any) -> None:
    check_detailed_output(engine, "BZ2", ".bz2")


def test_auto_detects_bzip2_and_gzip_by_magic_bytes(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        folder = stage_folder(tmp_path, "m")
        folder.mkdir(parents=True)
        (folder / "a.csv").write_bytes(bz2.compress(b"1,one\n2,two\n"))
        (folder / "b.csv").write_bytes(gzip.compress(b"3,three\n"))
        (folder / "c.csv").write_bytes(b"4,four\n")
        assert load(conn, "COPY INTO t FROM @s/m/") == [
            (1, "one"),
            (2, "two"),
            (3, "three"),
            (4, "four"),
        ]


def test_a_file_that_is_not_of_its_compression_is_an_error(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        folder = stage_folder(tmp_path, "bad")
        folder.mkdir(parents=True)
        (folder / "a.csv.bz2").write_bytes(b"1,one\n")
        with pytest.raises(exc.OperationalError, match=r"a.csv.bz2.*: not BZ2 data"):
            load(conn, "COPY INTO t FROM @s/bad/")


def test_lzo_is_refused_and_a_br_file_under_auto_asks_for_brotli(
    engine: Any, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        with pytest.raises(exc.ProgrammingError, match="COMPRESSION = LZO"):
            conn.exec_driver_sql(
                f"COPY INTO @s/p/ FROM ({SOURCE}) FILE_FORMAT = (TYPE = PARQUET COMPRESSION = LZO)"
            )
        assert not stage_folder(tmp_path, "p").exists()
        folder = stage_folder(tmp_path, "br")
        folder.mkdir(parents=True)
        (folder / "a.csv.br").write_bytes(b"\x0b\x02\x80x\x03")  # brotli's "x"
        # Brotli has no magic number and Snowflake's AUTO does not detect it: not read as
        # plain text, refused with the option to give (the package is not needed for that).
        auto = r"COMPRESSION = AUTO on 'br/a.csv.br'.*give COMPRESSION = BROTLI"
        with pytest.raises(exc.ProgrammingError, match=auto):
            load(conn, "COPY INTO t FROM @s/br/")
        with pytest.raises(exc.ProgrammingError, match=auto):
            conn.exec_driver_sql("SELECT $1 FROM @s/br/").all()


#: A child interpreter where ``import brotli`` fails (as without the extra): BROTLI unloads,
#: loads and staged queries are refused, naming the extra, and nothing is written.
_WITHOUT_BROTLI = """
import pathlib, sys
sys.modules["brotli"] = None  # a real ImportError on import
import sqlalchemy as sa
from sqlalchemy import exc

root = pathlib.Path(sys.argv[1])
engine = sa.create_engine(
    f"duckdb:///{root / 'app.duckdb'}", plugins=["sqla_stage"],
    stage_root=str(root / "stages"), stage_user="alice",
)
with engine.begin() as conn:
    conn.exec_driver_sql("CREATE STAGE s")
    conn.exec_driver_sql("CREATE TABLE t (n INTEGER, label VARCHAR)")
    conn.exec_driver_sql("CREATE FILE FORMAT b TYPE = CSV COMPRESSION = BROTLI")
for statement in sys.argv[2:]:
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(statement).all()
    except exc.ProgrammingError as error:
        print(type(error).__name__, str(error).splitlines()[0])
    else:
        print("ran", statement)
with engine.connect() as conn:
    print("rows loaded:", conn.exec_driver_sql("SELECT count(*) FROM t").scalar())
"""


def test_brotli_without_its_package_is_refused_naming_the_extra(tmp_path: Path) -> None:
    folder = stage_folder(tmp_path, "in")
    folder.mkdir(parents=True)
    (folder / "a.csv.br").write_bytes(b"\x0b\x02\x80x\x03")
    statements = [
        f"COPY INTO @s/out/ FROM ({SOURCE}) FILE_FORMAT = (TYPE = CSV COMPRESSION = BROTLI)",
        "COPY INTO @s/one.json.br FROM (SELECT {'n': 1}) "
        "FILE_FORMAT = (TYPE = JSON COMPRESSION = BROTLI) SINGLE = TRUE",
        "COPY INTO t FROM @s/in/ FILE_FORMAT = (TYPE = CSV COMPRESSION = BROTLI)",
        "SELECT $1 FROM @s/in/ (FILE_FORMAT => 'b')",
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    child = subprocess.run(
        [sys.executable, "-c", _WITHOUT_BROTLI, str(tmp_path), *statements],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    refusal = (
        "StageProgrammingError COMPRESSION = BROTLI needs the brotli package, which is not "
        'installed: pip install "sqla_stage[brotli]"'
    )
    assert child.stdout.splitlines() == [*[refusal] * len(statements), "rows loaded: 0"]
    assert not stage_folder(tmp_path, "out").exists()
    assert not stage_folder(tmp_path, "one.json.br").exists()


def test_decompressed_copies_are_removed_after_the_statement(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # a temporary folder of its own: other runs share /tmp
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = set(scratch.glob("sqla_stage-read-*"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(
            f"COPY INTO @s/x/ FROM ({SOURCE}) FILE_FORMAT = (TYPE = CSV COMPRESSION = DEFLATE)"
        )
        assert conn.exec_driver_sql("SELECT count(*) FROM @s/x/").scalar() == ROWS
    assert set(scratch.glob("sqla_stage-read-*")) == before


@pytest.mark.parametrize("codec", sorted(name for name, c in CODECS.items() if c.block))
def test_decompress_reads_concatenated_blocks(codec: str) -> None:
    chosen = CODECS[codec]
    assert chosen.block is not None
    data = bytes(range(256)) * 1000
    blocks = [data[:100_000], data[100_000:], b""]
    blob = chosen.header + b"".join(map(chosen.block, blocks)) + chosen.trailer(zlib.adler32(data))
    out = io.BytesIO()
    decompress(io.BytesIO(blob), chosen, out)
    assert out.getvalue() == data
    with pytest.raises(ValueError, match="cut short"):
        decompress(io.BytesIO(blob[: len(blob) // 2]), chosen, io.BytesIO())
