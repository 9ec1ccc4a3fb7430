"""MAX_FILE_SIZE kept exactly: an unload's output cut into files of at most the limit.

DuckDB's ``FILE_SIZE_BYTES`` checks a file's size only after writing a whole batch, so
its files pass the limit, and its parallel writers interleave an ORDER BY's rows across
files. So a source with an ORDER BY (`ordered`) is written by DuckDB as one ordered file
(one per partition with PARTITION BY) into the scratch area; a source without one is
written by DuckDB's threads, files aiming under the limit (`parallel_options`). This
module cuts the files over the limit:

- **CSV, TSV and JSON** are cut between records, by byte offsets: a file holds as many
  whole records as fit (each file of a CSV with ``HEADER = TRUE`` starts with the header,
  counted in its size). The limit bounds the stored file: for gzip, bzip2, deflate and
  zstd the plain text of a file is at most the largest size whose worst-case compressed
  size (`compressed_bound`) is within the limit, so a compressed file never passes it
  (and, with text that compresses, is well under it). A record delimiter counts as the
  end of a record only where it is one: when the files hold exactly one delimiter per
  record (plus the headers) every delimiter is; otherwise a value enclosed in quotes
  holds it, and an occurrence ends a record when an even number of quote characters
  precede it (the writer doubles a quote inside a value). With an ESCAPE character other
  than the quote, or a delimiter that can overlap itself (``'||'``), that cannot be told
  from the bytes, and an unload that needs more than one file is refused.
- **Parquet**: a file over the limit is rewritten by DuckDB in ranges of rows, sized
  from its bytes per row, many ranges per COPY (`ranges`); a range still over
  the limit (or too small for that) is rewritten alone (row groups of at most
  `ROW_GROUP_ROWS`), halved until it fits or holds one row. Each range reads only its
  own row groups (DuckDB prunes them by ``file_row_number``).
- **The exception** of spec 004 ("the amount of data in a set of rows can exceed the
  specified size"): a file larger than the limit holds exactly one record (text) or one
  row (Parquet) that alone is larger.

Only offsets and whole blocks of bytes pass through Python; the rows stay in DuckDB.
"""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, cast

import duckdb

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine.literals import literal
from sqla_stage.runtime.storage.deflate import block_bound
from sqla_stage.runtime.unload.compress import BLOCK_SIZE
from sqla_stage.runtime.unload.files import WrittenFile
from sqla_stage.runtime.unload.formats import CsvWriter, ParquetWriter
from sqla_stage.runtime.unload.ranges import private_settings, range_rows, rewrite
from sqla_stage.runtime.unload.tsv import TsvWriter
from sqla_stage.runtime.unload.writer import FileWriter

#: Bytes read or copied at once.
_PIECE = 16 * 1024 * 1024
#: The share of the limit a Parquet file's first estimate aims at.
_PARQUET_FILL = 0.9
#: The share of the limit (the plain budget for text) a parallel writer's file aims at.
_PARALLEL_FILL = 0.9
#: Parquet's limit at least for DuckDB's threads to write the files (measured, issue 19).
PARALLEL_PARQUET_MIN = 8_000_000
#: Bytes of the limit per row of a parallel Parquet row group: a row group of rows of
#: 32 bytes (compressed) is 1/16 of the limit, within the margin `_PARALLEL_FILL` leaves.
_BYTES_PER_ROW = 512
#: A parallel COPY's placement: a file per thread, numbered.
_PER_THREAD = ("PER_THREAD_OUTPUT true", "FILENAME_PATTERN 'part_{i}'")
#: Rows of a Parquet row group at most (DuckDB's default): larger ones are written on one thread.
ROW_GROUP_ROWS = 122_880
#: Compressions DuckDB itself applies to text pieces (the others: `compress`).
DUCKDB_COMPRESSED = ("zstd",)

#: Runs DuckDB SQL (the statement's cursor).
Run = Callable[[str], object]


def compressed_bound(compression: str, size: int) -> int:
    """The most bytes ``size`` plain bytes can take once compressed (worst case).

    `deflate.block_bound` per 4 MiB block (`compress`; it holds whichever library
    compresses) and the DEFLATE stream's header and trailer; bzip2's documented 1 % + 600
    bytes per member; zstd's ``ZSTD_COMPRESSBOUND`` with a margin for DuckDB's frame and
    block headers.
    """
    blocks = max(1, math.ceil(size / BLOCK_SIZE))
    if compression in ("gzip", "deflate", "raw_deflate"):
        return block_bound(size) + 64 * (blocks - 1) + 16
    if compression == "bz2":
        return size + size // 100 + 600 * blocks
    if compression == "zstd":
        return size + size // 128 + 512
    return size


def plain_budget(compression: str, limit: int) -> int:
    """The largest plain size whose compressed bound is within ``limit`` (0 if none)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if compressed_bound(compression, middle) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


@contextmanager
def _mapped(path: str) -> Iterator[mmap.mmap]:
    """A non-empty file's bytes, mapped read-only."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        yield view


def _overlaps(text: bytes) -> bool:
    """Whether ``text`` can overlap itself (a proper prefix is also a suffix)."""
    return any(text[:n] == text[-n:] for n in range(1, len(text)))


@dataclass(frozen=True)
class TextLayout:
    """What cutting a text file between records needs to know.

    Attributes:
        record: The record delimiter's bytes.
        header: Whether each file starts with a header line.
        quote: The quote character's bytes when a quote inside a value is doubled (an
            even count of them before a delimiter means it ends a record); None when not.
        escape: The escape of unenclosed fields (`csv_escapes`): a delimiter ends a
            record when an even run of escapes comes right before it; None when none.
    """

    record: bytes
    header: bool
    quote: bytes | None
    escape: bytes | None = None


def text_layout(writer: FileWriter) -> TextLayout:
    """The layout of the text files ``writer`` has DuckDB write."""
    if isinstance(writer, CsvWriter) and writer.raw:
        escape = writer.unenclosed_escape
        return TextLayout(
            writer.record.encode(), writer.header, None, escape.encode() if escape else None
        )
    if isinstance(writer, CsvWriter):
        enclosure = (writer.enclosure or '"').encode()
        doubled = not writer.escape or writer.escape == writer.enclosure
        quote = enclosure if doubled and not _overlaps(enclosure) else None
        return TextLayout(writer.record.encode(), writer.header, quote)
    if isinstance(writer, TsvWriter):
        return TextLayout(writer.record.encode(), False, None)
    return TextLayout(b"\n", False, None)


def _count(view: mmap.mmap, text: bytes, start: int, end: int) -> int:
    """Occurrences of ``text`` (which cannot overlap itself) in ``view[start:end]``."""
    total, span = 0, len(text) - 1
    for offset in range(start, end, _PIECE):
        stop = min(end, offset + _PIECE)
        total += view[offset:stop].count(text)
        if span and stop < end:  # the occurrences across the blocks' boundary
            total += view[max(offset, stop - span) : min(end, stop + span)].count(text)
    return total


class _Cutter:
    """Finds where records end in one mapped text file."""

    def __init__(self, view: mmap.mmap, layout: TextLayout, parity: bool) -> None:
        self.view = view
        self.record = layout.record
        self.quote = layout.quote if parity else None
        self.escape = layout.escape if parity else None

    def _ends_record(self, start: int, found: int) -> bool:
        """Whether the delimiter at ``found`` ends a record (``start`` begins one)."""
        if self.escape is not None:
            size, run = len(self.escape), 0
            while (
                found - (run + 1) * size >= start
                and self.view[found - (run + 1) * size : found - run * size] == self.escape
            ):
                run += 1
            return run % 2 == 0
        return self.quote is None or _count(self.view, self.quote, start, found) % 2 == 0

    def last_end(self, start: int, limit: int) -> int | None:
        """The end of the last record within ``view[start:limit]``, if one ends there."""
        end = limit
        while (found := self.view.rfind(self.record, start, end)) >= 0:
            if self._ends_record(start, found):
                return found + len(self.record)
            end = found
        return None

    def first_end(self, start: int) -> int:
        """The end of the record that begins at ``start``."""
        found = self.view.find(self.record, start)
        while found >= 0 and not self._ends_record(start, found):
            found = self.view.find(self.record, found + len(self.record))
        return len(self.view) if found < 0 else found + len(self.record)


def _ranges(cutter: _Cutter, start: int, size: int, budget: int) -> list[tuple[int, int]]:
    """Byte ranges of whole records, each at most ``budget`` unless one record is larger."""
    ranges = []
    while start < size:
        if size - start <= budget:
            ranges.append((start, size))
            break
        end = cutter.last_end(start, start + budget) if budget > 0 else None
        end = end if end is not None else cutter.first_end(start)
        ranges.append((start, end))
        start = end
    return ranges


def _delimiters_are_records(files: Sequence[WrittenFile], layout: TextLayout, rows: int) -> bool:
    """Whether the files hold one record delimiter per record (and header), no more."""
    found = 0
    for file in files:
        if os.path.getsize(file.path):
            with _mapped(file.path) as view:
                found += _count(view, layout.record, 0, len(view))
    return found == rows + (len(files) if layout.header else 0)


def split_text(
    files: Sequence[WrittenFile], writer: FileWriter, limit: int, rows: int
) -> list[WrittenFile]:
    """Cut each plain text file DuckDB wrote into files of at most the plain budget.

    Args:
        files: The files DuckDB wrote, plain, in order.
        writer: Their format.
        limit: MAX_FILE_SIZE, which bounds the stored (compressed) file.
        rows: How many records they hold in all.

    Returns:
        The files, in order; a file cut in pieces is replaced by them (removed).

    Raises:
        StageProgrammingError: a file must be cut but its record ends cannot be told.
    """
    layout = text_layout(writer)
    budget = plain_budget(writer.compression, limit)
    if all(os.path.getsize(file.path) <= budget for file in files):
        return list(files)
    parity = False
    if _overlaps(layout.record) or not _delimiters_are_records(files, layout, rows):
        if (layout.quote is None and layout.escape is None) or _overlaps(layout.record):
            raise StageProgrammingError(
                f"MAX_FILE_SIZE = {limit}: the unloaded values hold the record delimiter "
                "and the runtime cannot tell where a record ends to cut the files (ESCAPE "
                "other than the enclosing character, or a RECORD_DELIMITER that can overlap "
                "itself); unload into one file (SINGLE = TRUE)"
            )
        parity = True
    result: list[WrittenFile] = []
    for file in files:
        if os.path.getsize(file.path) <= budget:
            result.append(file)
            continue
        result.extend(_cut(file, layout, budget, parity))
    for index, file in enumerate(result):
        file.index = index
    return result


def _cut(file: WrittenFile, layout: TextLayout, budget: int, parity: bool) -> list[WrittenFile]:
    """Cut one file into pieces beside it (``<path>-<n>``); the file itself is the first.

    The pieces are copied from the last one back, the file shortened after each, so the
    scratch area never holds much more than the file once.
    """
    with _mapped(file.path) as view:
        cutter = _Cutter(view, layout, parity)
        header = cutter.first_end(0) if layout.header else 0
        ranges = _ranges(cutter, header, len(view), budget - header)
        rows = [None if parity else _count(view, layout.record, *part) for part in ranges]
        head = view[:header]
    paths = [f"{file.path}-{number:06d}" for number in range(len(ranges))]
    with open(file.path, "r+b") as handle:
        for number in range(len(ranges) - 1, 0, -1):
            start, end = ranges[number]
            with open(paths[number], "wb") as out:
                out.write(head)
                out.flush()
                _copy_range(handle, out, start, end)
            handle.truncate(start)
    os.replace(file.path, paths[0])  # the header and the first range
    pairs = zip(paths, rows, strict=True)
    return [WrittenFile(path, file.partition, rows=count) for path, count in pairs]


def _copy_range(source: BinaryIO, target: BinaryIO, start: int, end: int) -> None:
    """Append ``source``'s bytes ``[start, end)`` to ``target`` (in the kernel when it can)."""
    offset = start
    kernel_copy = getattr(os, "copy_file_range", None)  # Linux only
    try:
        while kernel_copy is not None and offset < end:
            copied = kernel_copy(source.fileno(), target.fileno(), end - offset, offset)
            if copied == 0:
                break
            offset += copied
    except OSError:  # a file system without it: the rest through Python
        pass
    source.seek(offset)
    while offset < end:
        block = source.read(min(_PIECE, end - offset))
        if not block:
            break
        target.write(block)
        offset += len(block)


def zstd_pieces(run: Run, files: Sequence[WrittenFile], record: str) -> None:
    """Compress plain text files with DuckDB's zstd writer, each line byte for byte.

    DuckDB reads each file as one text value and writes it back, without quoting, as one
    line ended by the record delimiter (the file's own last delimiter, removed first).
    """
    for file in files:
        target = file.path + ".zst"
        value = f"left(content, length(content) - {len(record)})"
        run(
            f"COPY (SELECT {value} FROM read_text({literal(file.path)})) TO {literal(target)} "
            "(FORMAT csv, QUOTE '', ESCAPE '', NULLSTR '', HEADER false, "
            f"NEW_LINE {literal(record)}, COMPRESSION zstd)"
        )
        os.remove(file.path)
        file.path = target


def _engine_settings(run: Run, workers: int) -> dict[str, str]:
    """The private DuckDBs' settings: the engine's memory limit and spill folder, shared."""
    cursor = cast(
        "duckdb.DuckDBPyConnection",
        run("SELECT current_setting('memory_limit'), current_setting('temp_directory')"),
    )
    memory_limit, temp_directory = cursor.fetchone() or ("", "")
    return private_settings(str(memory_limit), str(temp_directory or ""), workers)


def split_parquet(
    run: Run, files: Sequence[WrittenFile], writer: FileWriter, limit: int, workers: int = 1
) -> list[WrittenFile]:
    """Rewrite each Parquet file larger than ``limit`` as ranges of its rows.

    A range's size is ``limit`` over the file's bytes per row (with a margin): the ranges
    are written many per COPY (`ranges`), and a range whose file is still too
    large (or too small a range for that) is rewritten alone, halved while too large.

    Args:
        run: Runs DuckDB SQL.
        files: The files DuckDB wrote, with their row counts, in order.
        writer: Their format (its compression).
        limit: MAX_FILE_SIZE.
        workers: How many DuckDB COPYs may run at once.

    Returns:
        The files, in order; a rewritten file is replaced by its pieces (removed).
    """
    over = [file for file in files if os.path.getsize(file.path) > limit and (file.rows or 0) > 1]
    steps = {id(file): _range_step(file, limit) for file in over}
    jobs = [(file, steps[id(file)]) for file in over if steps[id(file)]]
    settings = _engine_settings(run, workers) if jobs else None
    pieces_of = rewrite(jobs, writer.compression, workers, settings)
    rewritten = {id(file): pieces for (file, _), pieces in zip(jobs, pieces_of, strict=True)}
    result: list[WrittenFile] = []
    for file in files:
        for piece in rewritten.get(id(file), [file]):
            size, rows = os.path.getsize(piece.path), piece.rows or 0
            if size <= limit or rows <= 1:
                result.append(piece)
                continue
            step = max(1, int(rows * limit * _PARQUET_FILL / size))
            pieces: list[WrittenFile] = []
            for start in range(0, rows, step):
                bounds = (start, min(rows, start + step))
                _parquet_range(run, piece, writer.compression, bounds, limit, pieces)
            os.remove(piece.path)
            result.extend(pieces)
    for index, file in enumerate(result):
        file.index = index
    return result


def _range_step(file: WrittenFile, limit: int) -> int:
    """The rows of ``file``'s ranges when written many per COPY (0 when too few)."""
    return range_rows(file.rows or 0, os.path.getsize(file.path), limit, _PARQUET_FILL)


def _parquet_range(
    run: Run,
    file: WrittenFile,
    compression: str,
    rows: tuple[int, int],
    limit: int,
    pieces: list[WrittenFile],
) -> None:
    """Write rows ``[start, stop)`` of ``file`` as one file; halve it while too large."""
    start, stop = rows
    path = f"{file.path}-{len(pieces):06d}"
    run(
        "COPY (SELECT * EXCLUDE (file_row_number) FROM "
        f"read_parquet({literal(file.path)}, file_row_number = true, hive_partitioning = false) "
        f"WHERE file_row_number >= {start} AND file_row_number < {stop} "
        f"ORDER BY file_row_number) TO {literal(path)} "
        f"(FORMAT parquet, COMPRESSION {compression}, "
        f"ROW_GROUP_SIZE {min(stop - start, ROW_GROUP_ROWS)})"
    )
    if os.path.getsize(path) <= limit or stop - start == 1:
        pieces.append(WrittenFile(path, file.partition, rows=stop - start))
        return
    os.remove(path)
    middle = (start + stop) // 2
    _parquet_range(run, file, compression, (start, middle), limit, pieces)
    _parquet_range(run, file, compression, (middle, stop), limit, pieces)


def fit(
    run: Run,
    files: Sequence[WrittenFile],
    writer: FileWriter,
    limit: int,
    rows: int,
    workers: int = 1,
) -> list[WrittenFile]:
    """The files DuckDB wrote as files within ``limit``, in order.

    Args:
        run: Runs DuckDB SQL.
        files: The files DuckDB wrote (one ordered file, or `parallel_options`' files).
        writer: Their format.
        limit: MAX_FILE_SIZE.
        rows: The rows they hold in all.
        workers: How many DuckDB COPYs may run at once.

    Raises:
        StageProgrammingError: text files must be cut but their record ends cannot be told.
    """
    if isinstance(writer, ParquetWriter):
        return split_parquet(run, files, writer, limit, workers)
    files = _without_empty(files, text_layout(writer))
    result = split_text(files, writer, limit, rows)
    if writer.compression in DUCKDB_COMPRESSED:
        zstd_pieces(run, result, text_layout(writer).record.decode())
    return result


def _without_empty(files: Sequence[WrittenFile], layout: TextLayout) -> list[WrittenFile]:
    """The text files that hold a record (a parallel writer's file can hold only a header)."""
    kept = []
    for file in files:
        size = os.path.getsize(file.path)
        if size and layout.header:
            with _mapped(file.path) as view:
                size -= _Cutter(view, layout, parity=True).first_end(0)
        if size:
            kept.append(file)
        else:
            os.remove(file.path)
    return kept


def ordered(run: Run, query: str) -> bool:
    """Whether ``query`` (DuckDB SQL) may promise an order: it has an ORDER BY anywhere.

    DuckDB's parser tells (``json_serialize_sql``); a query it cannot serialize counts
    as ordered.
    """
    cursor = cast("duckdb.DuckDBPyConnection", run(f"SELECT json_serialize_sql({literal(query)})"))
    row = cursor.fetchone()
    tree = str(row[0]) if row else ""
    return '"error":false' not in tree or '"type":"ORDER_MODIFIER"' in tree


def parallel_options(writer: FileWriter, limit: int) -> list[str] | None:
    """COPY options of an unordered unload: DuckDB's threads each write files near the limit.

    ``FILE_SIZE_BYTES`` aims under the limit (the plain budget for text); a file passes
    its target by the last batch DuckDB wrote into it, and `fit` cuts those over it.
    Parquet's row groups (that batch) are sized from the limit (`_BYTES_PER_ROW`); under
    `PARALLEL_PARQUET_MIN` they would be so small that writing them costs more than one
    file cut in ranges (`split_parquet`): None, write one file.
    """
    if not isinstance(writer, ParquetWriter):
        target = plain_budget(writer.compression, limit) * _PARALLEL_FILL
        return [*_PER_THREAD, f"FILE_SIZE_BYTES {max(1, int(target))}"]
    if limit < PARALLEL_PARQUET_MIN:
        return None
    rows = min(ROW_GROUP_ROWS, limit // _BYTES_PER_ROW)
    return [
        *_PER_THREAD,
        f"FILE_SIZE_BYTES {int(limit * _PARALLEL_FILL)}",
        f"ROW_GROUP_SIZE {rows}",
    ]
