"""The source of the option matrix and what its files must hold (per-option oracles).

:data:`SOURCE` is the table of nasty values every case unloads; the functions check a
case's files byte by byte: magic numbers, names and extensions, the delimiters,
enclosures, escapes, NULL and date / time / binary spellings of the decoded text, sizes,
``DETAILED_OUTPUT`` rows, Parquet codecs and column names, JSON objects. Used by
``tests/test_option_matrix.py``.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
from option_matrix_cases import Case

COLUMNS = "id INTEGER, s VARCHAR, b BLOB, d DATE, tm TIME, ts TIMESTAMP, n DECIMAL(12, 3)"
#: The source: NULLs, empty strings, quotes, delimiters, line breaks, unicode, binary,
#: dates, times and timestamps at the edges, decimals. Row 1 is plain (its line is predicted
#: exactly by the oracles), row 2 all NULL, row 3 empty.
SOURCE = r"""CREATE TABLE src AS SELECT * FROM (VALUES
 (1, 'plain', 'abc'::BLOB, DATE '2024-02-29', TIME '23:59:58', TIMESTAMP '2024-02-29 23:59:58.123',
  12345.678::DECIMAL(12, 3)),
 (2, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, '', ''::BLOB, DATE '1970-01-01', TIME '00:00:00', TIMESTAMP '1970-01-01 00:00:00', 0.000),
 (4, 'say "hi", ok', '\x00\x01\xFE\xFF'::BLOB, DATE '0001-01-01', TIME '12:00:00.5',
  TIMESTAMP '1999-12-31 23:59:59.999', -0.001),
 (5, E'line1\nline2\r\nline3', 'x'::BLOB, DATE '9999-12-31', TIME '01:02:03',
  TIMESTAMP '2000-01-01 00:00:00', 999999999.999),
 (6, E'tab\there|pipe;semi''single~~Þ<EOR>#', NULL, DATE '2024-01-01', NULL,
  TIMESTAMP '2024-01-01 01:01:01', NULL),
 (7, 'ünïcødé Þ 😀', '\xC3\xBC'::BLOB, NULL, TIME '23:00:00', NULL, 1.5),
 (8, 'back\slash \N', '\x5CN'::BLOB, DATE '2024-06-30', TIME '06:30:00',
  TIMESTAMP '2024-06-30 06:30:00', 2.25),
 (9, 'NULL', 'NULL'::BLOB, DATE '2024-07-01', TIME '07:00:00', TIMESTAMP '2024-07-01 07:00:00', 3)
) t(id, s, b, d, tm, ts, n)"""
ROWS = 9
#: A bigger source for MAX_FILE_SIZE: the nasty rows 4000 times (36,000 rows).
BIG = "CREATE TABLE big AS SELECT src.* REPLACE (id + 100 * i AS id) FROM src, range(4000) r(i)"
BIG_ROWS = 9 * 4000
#: JSON unloads one VARIANT column (spec 004): tables of one object column, NULLs kept
#: (``src`` and ``big`` without the binary column, which JSON has no type for).
JSON_TABLES = [
    f"CREATE TABLE j{table} AS SELECT {{'id': id, 's': s, 'd': d, 'tm': tm, 'ts': ts, 'n': n}} "
    f"AS v FROM {table}"
    for table in ("src", "big")
]
JSON_COLUMNS = "id INTEGER, s VARCHAR, d DATE, tm TIME, ts TIMESTAMP, n DECIMAL(12, 3)"


# -- decoding the files -------------------------------------------------------------------

#: COMPRESSION -> (extension, magic prefix or None, Python decompression or None).
CODECS: dict[str, tuple[str, bytes | None, Callable[[bytes], bytes] | None]] = {
    "GZIP": (".gz", b"\x1f\x8b", gzip.decompress),
    "BZ2": (".bz2", b"BZh", bz2.decompress),
    "ZSTD": (".zst", b"\x28\xb5\x2f\xfd", None),  # no zstd in Python's standard library
    "DEFLATE": (".deflate", b"\x78", zlib.decompress),
    "RAW_DEFLATE": (".raw_deflate", None, lambda data: zlib.decompress(data, -15)),
    "NONE": ("", None, lambda data: data),
}


def compression(case: Case) -> str:
    if case.option == "COMPRESSION":
        return "GZIP" if case.value == "AUTO" else str(case.value)
    return "GZIP"


def decode(case: Case, name: str, data: bytes) -> str | None:
    """A text file's content, after checking its magic number (None for ZSTD)."""
    _, magic, unpack = CODECS[compression(case)]
    if magic is not None:
        assert data.startswith(magic), (name, data[:8])
    else:
        assert not data.startswith((b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd")), name
    if unpack is None:
        return None
    return unpack(data).decode("utf-8")


def expected_extension(case: Case) -> str:
    if case.option == "FILE_EXTENSION" and case.value != "NONE":
        return ".txt"
    if case.fmt == "PARQUET":
        plain = case.value in ("NONE", "FALSE") and case.option in (
            "COMPRESSION",
            "SNAPPY_COMPRESSION",
        )
        return ".parquet" if plain else ".snappy.parquet"
    return f".{case.fmt.lower()}{CODECS[compression(case)][0]}"


# -- CSV text oracles ---------------------------------------------------------------------


def _unquote(value: str | None) -> str | None:
    """The character(s) of a SQL option value as the engine reads it."""
    if value is None or value == "NONE":
        return None
    text = value.strip("'")
    spellings = {"\\n": "\n", "\\r\\n": "\r\n", "\\t": "\t", "\\\\336": "Þ", "0xDE": "Þ"}
    spellings |= {"\\\\": "\\", "0x27": "'"}
    return spellings.get(text, text)


@dataclass
class CsvShape:
    """What a CSV case's options say the text looks like."""

    field: str = ","
    record: str = "\n"
    enclose: str | None = None
    null: str = "\\N"
    date: str = "2024-02-29"
    time: str = "23:59:58"
    timestamp: str = "2024-02-29 23:59:58.123"
    binary: str = "616263"

    @classmethod
    def of(cls, case: Case) -> CsvShape:
        shape = cls()
        value = case.value
        if case.option == "FIELD_DELIMITER" and value != "NONE":
            shape.field = str(_unquote(value))
        elif case.option == "RECORD_DELIMITER":
            shape.record = str(_unquote(value))
        elif case.option == "FIELD_OPTIONALLY_ENCLOSED_BY":
            shape.enclose = _unquote(value)
        elif case.option == "NULL_IF":
            shape.null = {"('NULL', 'null')": "NULL", "()": "", "('\\\\N')": "\\N"}[str(value)]
        elif case.option == "DATE_FORMAT":
            shape.date = {"'DD/MM/YYYY'": "29/02/2024", "'YYYYMMDD'": "20240229"}.get(
                str(value), shape.date
            )
        elif case.option == "TIME_FORMAT":
            shape.time = {
                "'HH24:MI:SS.FF3'": "23:59:58.000",
                "'HH12.MI.SS.FF3 AM'": "11.59.58.000 PM",
            }.get(str(value), shape.time)
        elif case.option == "TIMESTAMP_FORMAT" and value != "AUTO":
            shape.timestamp = "29/02/2024 23:59:58.123"
        elif case.option == "BINARY_FORMAT":
            shape.binary = {"HEX": "616263", "BASE64": base64.b64encode(b"abc").decode()}.get(
                str(value), "abc"
            )
        return shape

    def row_one(self) -> str:
        plain = f"{self.enclose}plain{self.enclose}" if self.enclose else "plain"
        fields = ["1", plain, self.binary, self.date, self.time, self.timestamp, "12345.678"]
        return self.field.join(fields)

    def row_two(self) -> str:
        return self.field.join(["2", *[self.null] * 6])

    def row_four(self, case: Case) -> str:
        """Row 4's string (quotes and the delimiter ``,``) as spec 004 writes it.

        Enclosed, the enclosure inside is doubled (or preceded by ESCAPE); unenclosed
        (FIELD_OPTIONALLY_ENCLOSED_BY = NONE, the default), the delimiter inside is preceded
        by ESCAPE, else ESCAPE_UNENCLOSED_FIELD (default backslash): the VALIDATION_MODE
        example of spec 004 shows ``pending\\, silent``.
        """
        value = 'say "hi", ok'
        escape = _unquote(case.value) if case.option == "ESCAPE" else None
        if self.enclose is not None:
            inner = value.replace(self.enclose, (escape or self.enclose) + self.enclose)
            return f"{self.enclose}{inner}{self.enclose}"
        unenclosed = "\\"
        if case.option == "ESCAPE_UNENCLOSED_FIELD":
            unenclosed = _unquote(case.value) or ""
        return value.replace(",", f"{escape or unenclosed},")


def check_csv_text(case: Case, text: str) -> None:
    """The options' marks in the decoded text of a CSV case."""
    shape = CsvShape.of(case)
    if case.option == "FIELD_DELIMITER" and case.value == "NONE":
        return  # one field a record: nothing to split on
    body = shape.record + text
    if case.option == "HEADER" and case.value == "TRUE":
        header = shape.field.join(["id", "s", "b", "d", "tm", "ts", "n"]) + shape.record
        assert text.startswith(header), text[:80]
        body = shape.record + text[len(header) :]
    assert text.endswith(shape.record), repr(text[-20:])
    assert f"{shape.record}{shape.row_one()}{shape.record}" in body, (shape.row_one(), text)
    assert f"{shape.record}{shape.row_two()}{shape.record}" in body, (shape.row_two(), text)
    if case.option in ("ESCAPE", "ESCAPE_UNENCLOSED_FIELD", "FIELD_OPTIONALLY_ENCLOSED_BY"):
        row_four = shape.row_four(case)
        assert f"{shape.field}{row_four}{shape.field}" in text, (row_four, text)
    empty = f"{shape.enclose}{shape.enclose}" if shape.enclose else ""
    assert f"{shape.record}3{shape.field}{empty}{shape.field}" in body, text


# -- the oracles ---------------------------------------------------------------------------


def check_files(case: Case, files: dict[str, bytes], result: list[Any]) -> None:
    """Names, magic numbers, decoded text and result rows of a written case."""
    assert files, "nothing was written"
    rows = BIG_ROWS if case.option == "MAX_FILE_SIZE" else ROWS
    names = sorted(files)
    single = case.single or (case.option == "SINGLE" and case.value == "TRUE")
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_"
    with_id = case.option == "INCLUDE_QUERY_ID" and case.value == "TRUE"
    pattern = f"data_{uuid if with_id else ''}\\d+_\\d+_\\d+{re.escape(expected_extension(case))}"
    if single:
        # spec 004: SINGLE writes the file the path names, or `data` for a path ending with '/'
        assert names == [case.single_file or "data"], names
    elif case.place == "clause":  # a folder a value of YEAR(d), _NULL_ for NULL
        folders = {name.split("/")[0] for name in names}
        assert folders == {"y2024", "y1970", "y1", "y9999", "_NULL_"}, names
        assert all(re.fullmatch(f"[^/]+/{pattern}", name) for name in names), names
    else:
        assert all(re.fullmatch(pattern, name) for name in names), (pattern, names)
    if case.option == "MAX_FILE_SIZE":
        limit = int(str(case.value))
        assert all(len(data) <= limit for data in files.values()), {
            name: len(data) for name, data in files.items()
        }
        if limit < 1_000_000:
            assert len(files) > 1, names
    if case.option == "DETAILED_OUTPUT" and case.value == "TRUE":
        described = {row.file_name.rsplit("/", 1)[-1]: row for row in result}
        assert sorted(described) == [name.rsplit("/", 1)[-1] for name in names]
        assert all(described[n.rsplit("/", 1)[-1]].file_size == len(d) for n, d in files.items())
        assert sum(row.row_count for row in result) == rows
    else:
        (summary,) = result
        assert summary.rows_unloaded == rows
        assert summary.output_bytes == sum(map(len, files.values()))
    plain_sizes = []
    for name, data in files.items():
        if case.fmt == "PARQUET":
            check_parquet(case, data)
            continue
        text = decode(case, name, data)
        if text is None:
            continue
        plain_sizes.append(len(text.encode()))
        if case.option in ("MAX_FILE_SIZE",) or case.place == "clause":
            continue
        if case.fmt == "CSV":
            check_csv_text(case, text)
        else:
            check_json_text(text)
    if len(plain_sizes) == len(files) and len(result) == 1 and "input_bytes" in result[0]._fields:
        # The one-row result: the size before compression (spec 004), after it.
        assert result[0].input_bytes == sum(plain_sizes), (result[0], plain_sizes)


def check_parquet(case: Case, data: bytes) -> None:
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    codecs = {
        meta.row_group(g).column(c).compression
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }
    plain = case.option in ("COMPRESSION", "SNAPPY_COMPRESSION") and case.value in ("NONE", "FALSE")
    assert codecs == ({"UNCOMPRESSED"} if plain else {"SNAPPY"}), codecs
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if case.option == "HEADER" and case.value == "TRUE":
        assert names == ["id", "s", "b", "d", "tm", "ts", "n"], names
    else:
        assert names == [f"col{i}" for i in range(1, 8)], names  # spec 004: HEADER = FALSE


def check_json_text(text: str) -> None:
    objects = [json.loads(line) for line in text.splitlines()]
    assert len(objects) == ROWS
    assert {
        "id": 1,
        "s": "plain",
        "d": "2024-02-29",
        "tm": "23:59:58",
        "ts": "2024-02-29 23:59:58.123",
        "n": 12345.678,
    } in objects, objects[:2]
