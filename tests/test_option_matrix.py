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

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from azurite_server import ACCOUNT, Azurite
from cse_envelope import decrypt_v2
from databend_sqlalchemy import databend_dialect
from gcs_server import FakeGCS
from moto_server import MotoS3
from option_matrix_cases import KNOWN_OPEN, Case, cases, counts
from option_matrix_files import (
    BIG,
    COLUMNS,
    JSON_COLUMNS,
    JSON_TABLES,
    SOURCE,
    check_files,
)
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
MATRIX = cases()


# -- where the files are -------------------------------------------------------------------


@dataclass
class World:
    """The module's runtime: an engine, its stage root, the S3 bucket of the S3 forms, the
    GCS bucket of the GCS form and the Azure container of the Azure form (reached through
    the environment's connection string, as a STORAGE_INTEGRATION stage would be)."""

    engine: Any
    root: Path
    s3: MotoS3
    bucket: str
    gcs: FakeGCS
    gcs_bucket: str
    azure: Azurite
    container: str

    def location(self, case: Case, slug: str) -> tuple[str, str, str]:
        """(the location as SQL, what follows it in an unload, the load's FROM clause)."""
        stage_forms = {
            "internal": f"@mx/{slug}/",
            "internal_ns": f"@main.mx/{slug}/",
            "quoted": f"'@mx/path 1/{slug}/'",
            "table": f"@%src/{slug}/",
            "table_ns": f"@main.%src/{slug}/",
        }
        if case.location in stage_forms:
            unload = stage_forms[case.location] + case.single_file  # a named single file
            return unload, "", stage_forms[case.location]
        if case.location == "user":
            return f"@~/{slug}/", "", f"@~/{slug}/"
        if case.location == "s3_stage":
            return f"@mxs3/{slug}/", "", f"@mxs3/{slug}/"
        if case.location == "s3_url":
            url = f"'s3://{self.bucket}/url/{slug}/'"
            return url, " " + self.s3.credentials_sql(), f"{url} {self.s3.credentials_sql()}"
        if case.location == "gcs_url":
            url = f"'gcs://{self.gcs_bucket}/url/{slug}/'"
            access = f"CREDENTIALS = (ENDPOINT_URL = '{self.gcs.endpoint_url}')"
            return url, " " + access, f"{url} {access}"
        url = f"'azure://{ACCOUNT}.blob.core.windows.net/{self.container}/{slug}/'"
        return url, " STORAGE_INTEGRATION = azure_int", f"{url} STORAGE_INTEGRATION = azure_int"

    def files(self, case: Case, slug: str) -> dict[str, bytes]:
        """The files under the case's folder: path relative to it -> bytes."""
        if case.location in ("s3_stage", "s3_url"):
            prefix = f"{'ext' if case.location == 's3_stage' else 'url'}/{slug}/"
            keys = self.s3.keys(self.bucket, prefix)
            return {key[len(prefix) :]: self.s3.read(self.bucket, key) for key in keys}
        if case.location == "gcs_url":
            prefix = f"url/{slug}/"
            keys = [key for key in self.gcs.keys(self.gcs_bucket) if key.startswith(prefix)]
            return {key[len(prefix) :]: self.gcs.read(self.gcs_bucket, key) for key in keys}
        if case.location == "azure_url":
            keys = [key for key in self.azure.keys(self.container) if key.startswith(f"{slug}/")]
            return {key[len(slug) + 1 :]: self.azure.read(self.container, key) for key in keys}
        sub = {
            "internal": "internal/mx",
            "internal_ns": "internal/mx",  # the same stage as @mx
            "quoted": "internal/mx/path 1",
            "table": "table/src",
            "table_ns": "table/src",  # the same table stage as @%src
            "user": "user/alice",
        }
        folder = self.root / "stage" / sub[case.location] / slug
        if not folder.exists():
            return {}
        return {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: MotoS3,
    gcs_server: FakeGCS,
    azurite: Azurite,
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    environment = pytest.MonkeyPatch()
    environment.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
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
    yield World(
        engine,
        tmp / "stages",
        s3_server,
        bucket,
        gcs_server,
        gcs_server.new_bucket(),
        azurite,
        azurite.new_container(),
    )
    engine.dispose()
    environment.undo()


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
    if case.place == "source":
        source = str(case.value)
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


def parse_snowflake(sql: str) -> Any:
    r"""The statement parsed as Snowflake SQL (spec 004's): a backslash in a string escapes
    the next character, so ``NULL_IF = ('\\N')`` is the two characters ``\N``."""
    return sqla_stage.parse(sql, backslash_escapes=True)


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
    if case.location not in ("internal", "table", "user", "s3_stage"):
        return None
    if case.place in ("clause", "source"):
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
        "table_ns": ["table stage"],
        "internal_ns": ["schema-qualified stage"],  # Databend's stages are global
        "s3_url": ["endpoint_url"],  # moto's endpoint: no ad hoc COPY option on Snowflake
        "gcs_url": ["endpoint_url"],  # fake-gcs-server's endpoint: no Snowflake option
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
        # Unenclosed, an empty binary value is an empty field too: it loads as NULL.
        return COLUMNS, "*", f"id, {s} AS s, NULLIF(b, ''::BLOB) AS b, d, tm, ts, n"
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
    conn.execute(parse_snowflake(f"COPY INTO back FROM {from_clause} {fmt}{extra}"))
    expected = f"SELECT {projection} FROM {table}"
    loaded = f"SELECT {compared} FROM back"
    missing = conn.exec_driver_sql(f"SELECT * FROM ({expected} EXCEPT ALL {loaded}) LIMIT 3").all()
    extra_rows = conn.exec_driver_sql(f"SELECT * FROM ({loaded} EXCEPT ALL {expected}) LIMIT 3")
    assert (missing, extra_rows.all()) == ([], []), "read back differs from the source"


# -- the test ------------------------------------------------------------------------------


def run_case(world: World, case: Case) -> None:
    slug = _slug(case)
    location, after, from_clause = world.location(case, slug)
    sql = statement(case, location, after)
    construct = parse_snowflake(sql)
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
    if case.option == "ENCRYPTION":
        files = check_encryption(world, case, slug, files)
        if "MASTER_KEY" in str(case.value):  # the load reads the files with the same key
            from_clause += f" ENCRYPTION = {case.value}"
    check_files(case, files, result)
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


def check_encryption(
    world: World, case: Case, slug: str, files: dict[str, bytes]
) -> dict[str, bytes]:
    """Every object is stored with the encryption asked for; the files as they were written.

    With AWS_CSE each object is decrypted by the S3 Encryption Client's documented scheme
    (`cse_envelope`); the per-option oracles then check the decrypted files.
    """
    master_key = re.search(r"MASTER_KEY = '([^']*)'", str(case.value))
    plain = {}
    for name, stored in files.items():
        key = f"url/{slug}/{name}"
        head = world.s3.s3.head_object(Bucket=world.bucket, Key=key)
        seen = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
        assert seen == SSE.get(str(case.value), (None, None)), (name, seen)
        if master_key is None:
            plain[name] = stored
            continue
        plain[name] = decrypt_v2(world.s3.s3, world.bucket, key, master_key[1])
        assert plain[name] not in stored and len(stored) == len(plain[name]) + 16
    return plain


def check_overwrite(
    world: World, case: Case, slug: str, location: str, after: str, files: dict[str, bytes]
) -> None:
    """Run again: OVERWRITE = FALSE is refused and changes nothing; TRUE replaces."""
    again = parse_snowflake(statement(case, location, after))
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
    # pytest.fail.Exception: an expected refusal that did not come ("DID NOT RAISE").
    with pytest.raises((AssertionError, sa.exc.SQLAlchemyError, pytest.fail.Exception)):
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
