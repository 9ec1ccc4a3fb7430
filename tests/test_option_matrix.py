"""The generated option matrix of spec 004 (issue 16): every option, value, format, location.

Each case of :mod:`option_matrix_cases` is written as SQL text, parsed with
``sqla_stage.parse``, compiled for Snowflake, Databend and MatrixOne (which has no
``COPY INTO <location>`` and must say so), executed on the DuckDB runtime over a table of
nasty values, and its files are checked by per-option oracles (magic numbers, extensions,
delimiters, enclosures, NULL and date spellings, sizes, names, result rows) and loaded back
through the runtime, equal to the source both ways (``EXCEPT ALL``). A refused case must
raise a ``SQLAlchemyError`` naming the option, value or cloud, and leave the location's
files unchanged. Cases where today's runtime is wrong are in :data:`KNOWN_OPEN`, and are
asserted to still fail, so an entry is removed when its fix lands.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from moto_server import MotoS3
from option_matrix_cases import KNOWN_OPEN, Case, cases, counts
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql

import sqla_stage
from sqla_stage import CSV, JSON, CopyInto, Parquet

UNLOAD_MD = Path(__file__).resolve().parent.parent / "docs" / "unload.md"
DIALECTS = {
    "snowflake": snowdialect.SnowflakeDialect(),
    "databend": databend_dialect.DatabendDialect(),
    "matrixone": mysql.dialect(),
}
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

#: Cases today's runtime gets wrong, and why. Each is asserted to STILL fail (strict): remove
#: the entry when the fix lands.
MATRIX = cases()


# -- where the files are -------------------------------------------------------------------


@dataclass
class World:
    """The module's runtime: an engine, its stage root, and the S3 bucket of the S3 forms."""

    engine: Any
    root: Path
    s3: MotoS3
    bucket: str

    def location(self, case: Case, slug: str) -> tuple[str, str, str]:
        """(the location as SQL, what follows it in an unload, the load's FROM clause)."""
        if case.location == "internal":
            return f"@mx/{slug}/", "", f"@mx/{slug}/"
        if case.location == "table":
            return f"@%src/{slug}/", "", f"@%src/{slug}/"
        if case.location == "user":
            return f"@~/{slug}/", "", f"@~/{slug}/"
        if case.location == "s3_stage":
            return f"@mxs3/{slug}/", "", f"@mxs3/{slug}/"
        if case.location == "s3_url":
            url = f"'s3://{self.bucket}/url/{slug}/'"
            return url, " " + self.s3.credentials_sql(), f"{url} {self.s3.credentials_sql()}"
        if case.location == "gcs_url":
            return f"'gcs://mx-bucket/{slug}/'", " STORAGE_INTEGRATION = gcs_int", ""
        url = f"'azure://mxaccount.blob.core.windows.net/mx/{slug}/'"
        return url, " STORAGE_INTEGRATION = azure_int", ""

    def files(self, case: Case, slug: str) -> dict[str, bytes]:
        """The files under the case's folder: path relative to it -> bytes."""
        if case.location in ("s3_stage", "s3_url"):
            prefix = f"{'ext' if case.location == 's3_stage' else 'url'}/{slug}/"
            keys = self.s3.keys(self.bucket, prefix)
            return {key[len(prefix) :]: self.s3.read(self.bucket, key) for key in keys}
        if case.location in ("gcs_url", "azure_url"):
            return {}
        sub = {"internal": "internal/mx", "table": "table/src", "user": "user/alice"}
        folder = self.root / "stage" / sub[case.location] / slug
        if not folder.exists():
            return {}
        return {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, s3_server: MotoS3) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    engine = sa.create_engine(
        f"duckdb:///{tmp / 'matrix.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp / "stages"),
        stage_user="alice",
    )
    bucket = s3_server.new_bucket("mx")
    with engine.begin() as conn:
        conn.exec_driver_sql(SOURCE)
        conn.exec_driver_sql(BIG)
        for create in JSON_TABLES:
            conn.exec_driver_sql(create)
        conn.exec_driver_sql("CREATE STAGE mx")
        conn.exec_driver_sql(
            f"CREATE STAGE mxs3 URL = 's3://{bucket}/ext/' {s3_server.credentials_sql()}"
        )
    yield World(engine, tmp / "stages", s3_server, bucket)
    engine.dispose()


# -- the statement -------------------------------------------------------------------------


def _slug(case: Case) -> str:
    readable = re.sub(r"[^A-Za-z0-9]+", "_", case.id).strip("_").lower()
    return f"{readable}_{zlib.crc32(case.id.encode()):08x}"  # values differing by punctuation


def format_clause(case: Case) -> str:
    """``FILE_FORMAT = (TYPE = ... [OPTION = value])`` of the case."""
    option = f" {case.option} = {case.value}" if case.place == "format" and case.option else ""
    return f"FILE_FORMAT = (TYPE = {case.fmt}{option})"


def statement(case: Case, location: str, after_location: str, *, overwrite: bool = False) -> str:
    """The case as SQL text."""
    table = "big" if case.option == "MAX_FILE_SIZE" else "src"
    source = f"j{table}" if case.fmt == "JSON" else table
    partition = f" PARTITION BY {case.value}" if case.place == "clause" else ""
    copy = f" {case.option} = {case.value}" if case.place == "copy" else ""
    copy += " SINGLE = TRUE" if case.single else ""
    again = " OVERWRITE = TRUE" if overwrite else ""
    if case.place == "location":
        after_location += f" {case.option} = {case.value}"
    return (
        f"COPY INTO {location}{after_location} FROM {source}{partition} "
        f"{format_clause(case)}{copy}{again}"
    )


#: The format constructs, by TYPE.
FORMAT_CONSTRUCTS = {"CSV": CSV, "JSON": JSON, "PARQUET": Parquet}


def python_value(option: str, value: str) -> tuple[bool, Any]:
    """(whether the SQL value has a plain Python spelling, that spelling)."""
    if value in ("TRUE", "FALSE"):
        return True, value == "TRUE"
    if value.isdigit():
        return True, int(value)
    if value == "NONE":
        return option == "COMPRESSION", None  # compression=None is COMPRESSION = NONE
    if value.startswith("'") and "\\" not in value:
        return True, value[1:-1]
    if re.fullmatch(r"[A-Z_0-9]+", value):
        return True, value.lower()
    return False, None  # a list, a backslash escape, an expression


def construct_of(case: Case, location: str) -> CopyInto | None:
    """The case built with Python constructs, where that is simple (stage locations,
    options whose value has a plain Python spelling), else None."""
    if case.location not in ("internal", "table", "user", "s3_stage") or case.place == "clause":
        return None
    table = "big" if case.option == "MAX_FILE_SIZE" else "src"
    source = sa.table(f"j{table}" if case.fmt == "JSON" else table)
    format_options: dict[str, Any] = {}
    copy_options: dict[str, Any] = {"single": True} if case.single else {}
    if case.option is not None:
        simple, value = python_value(case.option, str(case.value))
        if not simple:
            return None
        target = format_options if case.place == "format" else copy_options
        target[case.option.lower()] = value
    file_format = FORMAT_CONSTRUCTS[case.fmt](**format_options)
    return CopyInto(location, source, file_format=file_format, **copy_options)


def check_same_sql(parsed: Any, built: CopyInto) -> None:
    """The construct compiles to the same SQL as the parsed text, for every engine."""
    for engine, dialect in DIALECTS.items():
        outcomes = []
        for statement_ in (parsed, built):
            try:
                outcomes.append(str(statement_.compile(dialect=dialect)))
            except sa.exc.CompileError as error:
                outcomes.append(f"refused: {error}")
        assert outcomes[0] == outcomes[1], (engine, outcomes)


def compile_refusal_words(case: Case) -> tuple[str, ...]:
    """What a dialect may refuse in this case, one of which its CompileError must name."""
    words = [case.option.split()[0]] if case.option else []
    words += {
        "table": ["table stage"],  # Databend has no table stages
        "s3_url": ["endpoint_url"],  # moto's endpoint: no ad hoc COPY option on Snowflake
        "gcs_url": ["STORAGE_INTEGRATION"],
        "azure_url": ["STORAGE_INTEGRATION"],
    }.get(case.location, [])
    return tuple(words)


def check_compiles(case: Case, construct: Any) -> dict[str, str]:
    """Snowflake and Databend compile it or refuse it naming the option or the location's
    feature; MatrixOne refuses ``COPY INTO <location>`` by name. Returns what compiled."""
    compiled: dict[str, str] = {}
    for engine in ("snowflake", "databend"):
        try:
            text = str(construct.compile(dialect=DIALECTS[engine]))
        except sa.exc.CompileError as error:
            message = str(error).lower()
            words = compile_refusal_words(case)
            assert any(word.lower() in message for word in words), (engine, str(error))
        else:
            assert text.startswith("COPY INTO "), text
            compiled[engine] = text
    if case.location not in ("s3_url", "table") and case.option != "HEADER":
        assert case.option is None or case.option in compiled["snowflake"]
    with pytest.raises(sa.exc.CompileError, match="COPY INTO is not supported on MatrixOne"):
        construct.compile(dialect=DIALECTS["matrixone"])
    return compiled


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


# -- reading back --------------------------------------------------------------------------


def expected_source(case: Case) -> tuple[str, str, str]:
    """(the load-back table's columns, the columns compared, the source as the load gives it).

    CSV binary columns are compared only in the BINARY_FORMAT cases (which load with that
    format); elsewhere they are loaded as text and left out of the comparison.
    """
    if case.fmt == "JSON":
        return JSON_COLUMNS, "*", "id, s, d, tm, ts, n"
    if case.fmt == "PARQUET":
        return COLUMNS, "*", "*"
    s = "s"
    enclosed = case.option == "FIELD_OPTIONALLY_ENCLOSED_BY" and case.value != "NONE"
    if not enclosed and not (case.option == "EMPTY_FIELD_AS_NULL" and case.value == "FALSE"):
        s = "NULLIF(s, '')"  # an empty unenclosed field loads as NULL (EMPTY_FIELD_AS_NULL)
    if case.option == "NULL_IF" and case.value == "('NULL', 'null')":
        s = f"CASE WHEN s IN ('NULL', 'null') THEN NULL ELSE {s} END"
    if case.option == "BINARY_FORMAT":
        return COLUMNS, "*", f"id, {s} AS s, b, d, tm, ts, n"
    text_binary = COLUMNS.replace("b BLOB", "b VARCHAR")
    return text_binary, "id, s, d, tm, ts, n", f"id, {s} AS s, d, tm, ts, n"


def load_back(conn: Any, case: Case, from_clause: str, table: str) -> None:
    """COPY INTO the load-back table with the same format; equal to the source both ways."""
    columns, compared, projection = expected_source(case)
    conn.exec_driver_sql(f"CREATE OR REPLACE TABLE back ({columns})")
    fmt = format_clause(case)
    if case.fmt == "CSV" and case.option == "HEADER" and case.value == "TRUE":
        fmt = fmt[:-1] + " SKIP_HEADER = 1)"
    extra = " MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" if case.fmt == "JSON" else ""
    conn.exec_driver_sql(f"COPY INTO back FROM {from_clause} {fmt}{extra}")
    expected = f"SELECT {projection} FROM {table}"
    loaded = f"SELECT {compared} FROM back"
    missing = conn.exec_driver_sql(f"SELECT * FROM ({expected} EXCEPT ALL {loaded}) LIMIT 3").all()
    extra_rows = conn.exec_driver_sql(f"SELECT * FROM ({loaded} EXCEPT ALL {expected}) LIMIT 3")
    assert (missing, extra_rows.all()) == ([], []), "read back differs from the source"


# -- the oracles ---------------------------------------------------------------------------


def check_files(case: Case, files: dict[str, bytes], result: list[Any]) -> None:
    """Names, magic numbers, decoded text and result rows of a written case."""
    assert files, "nothing was written"
    rows = BIG_ROWS if case.option == "MAX_FILE_SIZE" else ROWS
    names = sorted(files)
    single = case.single or (case.option == "SINGLE" and case.value == "TRUE")
    if single:
        assert names == ["data"], names  # spec 004: SINGLE names the file `data`
    elif case.place == "clause":
        folders = {name.split("/")[0] for name in names}
        assert folders == {"y2024", "y1970", "y1", "y9999", "y2000", "_NULL_"} - {"y2000"}, names
    else:
        uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_"
        with_id = case.option == "INCLUDE_QUERY_ID" and case.value == "TRUE"
        pattern = (
            f"data_{uuid if with_id else ''}\\d+_\\d+_\\d+{re.escape(expected_extension(case))}"
        )
        for name in names:
            assert re.fullmatch(pattern, name), (pattern, names)
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
    for name, data in files.items():
        if case.fmt == "PARQUET":
            check_parquet(case, data)
            continue
        text = decode(case, name, data)
        if text is None or case.option in ("MAX_FILE_SIZE",) or case.place == "clause":
            continue
        if case.fmt == "CSV":
            check_csv_text(case, text)
        else:
            check_json_text(text)


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


# -- the test ------------------------------------------------------------------------------


def run_case(world: World, case: Case) -> None:
    slug = _slug(case)
    location, after, from_clause = world.location(case, slug)
    sql = statement(case, location, after)
    construct = sqla_stage.parse(sql)
    check_compiles(case, construct)
    built = construct_of(case, location)
    if built is not None:
        check_same_sql(construct, built)
    before = world.files(case, slug)
    if case.outcome == "refused":
        with world.engine.begin() as conn, pytest.raises(sa.exc.SQLAlchemyError) as error:
            conn.execute(construct)
        message = str(error.value)
        assert all(word.lower() in message.lower() for word in case.refusal), message
        assert world.s3.secret not in message
        assert world.files(case, slug) == before, "a refused unload changed the files"
        return
    with world.engine.begin() as conn:
        result = conn.execute(construct).all()
    files = world.files(case, slug)
    if case.option == "VALIDATION_MODE":
        assert files == {}, files  # RETURN_ROWS writes nothing and returns the rows
        with world.engine.connect() as conn:
            source = conn.exec_driver_sql(
                f"SELECT * FROM {'jsrc' if case.fmt == 'JSON' else 'src'}"
            )
            assert sorted(map(repr, result)) == sorted(map(repr, source.all()))
        return
    check_files(case, files, result)
    if case.option == "ENCRYPTION":
        check_encryption(world, case, slug, files)
    if case.option == "OVERWRITE":
        check_overwrite(world, case, slug, location, after, files)
    source = "big" if case.option == "MAX_FILE_SIZE" else "src"
    if case.load_refusal:
        with world.engine.begin() as conn, pytest.raises(sa.exc.SQLAlchemyError) as error:
            load_back(conn, case, from_clause, source)
        assert all(word in str(error.value) for word in case.load_refusal), str(error.value)
        return
    with world.engine.begin() as conn:
        load_back(conn, case, from_clause, source)


#: ENCRYPTION -> each object's (ServerSideEncryption, SSEKMSKeyId) as S3 reports them.
SSE = {
    "(TYPE = 'AWS_SSE_S3')": ("AES256", None),
    "(TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = 'aws/key')": ("aws:kms", "aws/key"),
    "(TYPE = NONE)": (None, None),
}


def check_encryption(world: World, case: Case, slug: str, files: dict[str, bytes]) -> None:
    """Every object written is stored with the server-side encryption asked for."""
    for name in files:
        head = world.s3.s3.head_object(Bucket=world.bucket, Key=f"url/{slug}/{name}")
        seen = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
        assert seen == SSE[str(case.value)], (name, seen)


def check_overwrite(
    world: World, case: Case, slug: str, location: str, after: str, files: dict[str, bytes]
) -> None:
    """Run again: OVERWRITE = FALSE is refused and changes nothing; TRUE replaces."""
    again = sqla_stage.parse(statement(case, location, after))
    foreign = world.root / "stage" / "internal" / "mx" / slug / "keep.txt"
    assert case.location == "internal"
    foreign.write_bytes(b"not the unload's")
    files = {**files, "keep.txt": b"not the unload's"}
    if case.value == "FALSE":
        with world.engine.begin() as conn, pytest.raises(sa.exc.SQLAlchemyError, match="already"):
            conn.execute(again)
        assert world.files(case, slug) == files
    else:
        with world.engine.begin() as conn:
            conn.execute(again)
        assert world.files(case, slug) == files  # replaced, and the other file kept
    foreign.unlink()


@pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
def test_option_matrix(world: World, case: Case) -> None:
    if case.id not in KNOWN_OPEN:
        run_case(world, case)
        return
    # Strict: the case must still fail. When it passes, remove it from KNOWN_OPEN.
    with pytest.raises((AssertionError, sa.exc.SQLAlchemyError)):
        run_case(world, case)


def test_known_open_names_real_cases() -> None:
    ids = {case.id for case in MATRIX}
    assert set(KNOWN_OPEN) <= ids, set(KNOWN_OPEN) - ids


def report() -> str:
    """The matrix's figures as docs/unload.md states them."""
    figures = counts(MATRIX)
    return "\n".join(
        [
            "| cases | written and verified | of which the load back is refused "
            "| refused before writing | compile-only | known open (still failing) |",
            "|---|---|---|---|---|---|",
            f"| {figures['cases']} | {figures['written and verified']} "
            f"| {figures['read back refused']} | {figures['refused']} "
            f"| {figures['compile-only']} | {figures['known open']} |",
        ]
    )


def test_unload_md_states_the_matrix_counts() -> None:
    text = UNLOAD_MD.read_text("utf-8")
    pattern = r"<!-- matrix-figures -->\n(.*?)\n<!-- /matrix-figures -->"
    match = re.search(pattern, text, re.DOTALL)
    assert match, "docs/unload.md has no <!-- matrix-figures --> table"
    assert match.group(1).strip() == report(), (
        "docs/unload.md's matrix table should read:\n" + report()
    )
