"""The deflate library (`sqla_stage.runtime.storage.deflate`): ISA-L or zlib, bytes every reader
takes.

Both libraries must write gzip members and raw deflate blocks that the standard library,
``zcat`` and DuckDB decode to the same bytes, each within zlib's worst case
(`deflate.block_bound`), which `unload_sizes` relies on to keep a file within
MAX_FILE_SIZE; the runtime must use ISA-L where it is installed (a core dependency here).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest
from isal import isal_zlib

from sqla_stage.runtime.storage import deflate
from sqla_stage.runtime.storage.compressions import DEFLATE, GZIP, RAW_DEFLATE, Codec, decompress

ISAL = deflate.isal()
#: Both libraries: the runtime's choice and its fallback.
DEFLATERS = [deflate.ZLIB, ISAL] if ISAL is not None else [deflate.ZLIB]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Plain CSV as DuckDB writes it: 60,000 rows, about 2.5 MB."""
    path = tmp_path_factory.mktemp("deflate") / "plain.csv"
    with duckdb.connect() as connection:
        connection.execute(
            "COPY (SELECT i, md5(CAST(i AS VARCHAR)) AS h, i * 0.5 AS half "
            f"FROM range(60000) t(i)) TO '{path}' (FORMAT csv, HEADER false)"
        )
    return path.read_bytes()


def test_the_runtime_compresses_with_isal_where_it_is_installed() -> None:
    assert ISAL is not None, "isal is a core dependency on this machine"
    assert deflate.fastest().name == "isal"
    assert deflate.fastest().level == deflate.ISAL_LEVEL


@pytest.mark.parametrize("deflater", DEFLATERS, ids=lambda d: d.name)
def test_gzip_members_are_read_by_gzip_zcat_and_duckdb(
    deflater: deflate.Deflater, plain: bytes, tmp_path: Path
) -> None:
    half = len(plain) // 2
    cut = plain.index(b"\n", half) + 1
    members = [deflater.gzip_member(plain[:cut]), deflater.gzip_member(plain[cut:])]
    path = tmp_path / "two.csv.gz"
    path.write_bytes(b"".join(members))
    assert all(len(member) < len(plain) // 2 for member in members)
    assert gzip.decompress(path.read_bytes()) == plain
    zcat = subprocess.run(["zcat", str(path)], capture_output=True, check=True)
    assert zcat.stdout == plain
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"SELECT count(*), sum(i) FROM read_csv('{path}', header = false, "
            "columns = {'i': 'BIGINT', 'h': 'VARCHAR', 'half': 'DOUBLE'})"
        ).fetchone()
    assert rows == (60_000, sum(range(60_000)))


@pytest.mark.parametrize("deflater", DEFLATERS, ids=lambda d: d.name)
@pytest.mark.parametrize("codec", [DEFLATE, RAW_DEFLATE], ids=lambda c: c.name)
def test_deflate_streams_of_several_blocks_are_read_by_zlib(
    deflater: deflate.Deflater, codec: Codec, plain: bytes
) -> None:
    blocks = [plain[: len(plain) // 3], plain[len(plain) // 3 :]]
    checksum = zlib.adler32(plain)
    stream = codec.header + b"".join(map(deflater.raw_block, blocks)) + codec.trailer(checksum)
    assert zlib.decompress(stream, 15 if codec is DEFLATE else -15) == plain


@pytest.mark.parametrize("codec", [GZIP, DEFLATE, RAW_DEFLATE], ids=lambda c: c.name)
def test_the_runtime_reads_back_what_zlib_writes(
    codec: Codec, plain: bytes, tmp_path: Path
) -> None:
    if codec is GZIP:
        written = zlib.compress(plain, 6, 31) * 2
    else:
        written = zlib.compress(plain, 6, 15 if codec is DEFLATE else -15)
    source, out = tmp_path / "in", tmp_path / "out"
    source.write_bytes(written)
    with source.open("rb") as reading, out.open("wb") as writing:
        decompress(reading, codec, writing)
    assert out.read_bytes() == (plain * 2 if codec is GZIP else plain)


def test_bytes_that_are_not_deflate_are_a_value_error(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.write_bytes(b"\x1f\x8b\x08\x00" + b"not deflate at all" * 10)
    with source.open("rb") as reading, pytest.raises(ValueError, match="not GZIP data"):
        decompress(reading, GZIP, (tmp_path / "out").open("wb"))


def test_a_block_past_zlibs_bound_is_compressed_again_by_zlib() -> None:
    # ISA-L's level 0 stores random bytes in more than zlib's worst case: the guard must
    # hand such a block to zlib so that MAX_FILE_SIZE still holds.
    assert ISAL is not None
    level0 = deflate.isal(0)
    assert level0 is not None
    block = os.urandom(1 << 20)
    compressor = isal_zlib.compressobj(0, zlib.DEFLATED, deflate.GZIP_WBITS)
    unguarded = compressor.compress(block) + compressor.flush()
    assert len(unguarded) > deflate.block_bound(len(block))
    member = level0.gzip_member(block)
    assert len(member) <= deflate.block_bound(len(block))
    assert gzip.decompress(member) == block
    raw = level0.raw_block(block)
    assert len(raw) <= deflate.block_bound(len(block))
    assert zlib.decompress(raw + b"\x03\x00", -15) == block


def test_puts_gzip_writer_writes_a_gzip_file_with_isal(plain: bytes, tmp_path: Path) -> None:
    path = tmp_path / "put.csv.gz"
    with path.open("wb") as stream:
        writer = deflate.gzip_writer(stream)
        assert type(writer).__module__.startswith("isal")
        with writer:
            writer.write(plain)
    assert gzip.decompress(path.read_bytes()) == plain
    assert subprocess.run(["zcat", str(path)], capture_output=True, check=True).stdout == plain
