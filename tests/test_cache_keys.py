"""Statement cache keys: two statements that differ in SQL never share compiled SQL.

SQLAlchemy caches the compiled form of executable statements by their cache key.
These tests use the default string dialect and SQLite's (duckdb-engine turns the
cache off, which would hide a stale-SQL bug), compile statement A and then a
statement B that differs in one option through the same compiled cache, and check
that B gets its own SQL. Equal statements must share a key (and hit the cache).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import default
from sqlalchemy.exc import SAWarning

from sqla_stage import (
    CSV,
    JSON,
    CopyInto,
    DescribeStage,
    FileFormat,
    Get,
    ListFiles,
    Parquet,
    Presign,
    Put,
    RemoveFiles,
    SelectIntoOutfile,
    ShowStages,
    Stage,
    staged,
)
from sqla_stage.options import (
    CSV_OPTIONS,
    JSON_OPTIONS,
    LOAD_OPTIONS,
    PARQUET_OPTIONS,
    UNLOAD_OPTIONS,
)

t = sa.table("t", sa.column("a"), sa.column("b"))
t2 = sa.table("t2", sa.column("a"))
s = Stage("s")
KEYS = {"aws_key_id": "AKIA1", "aws_secret_key": "SECRET1"}
_UNSET: Any = object()


def unload(*, target: Any = _UNSET, source: Any = _UNSET, **changes: Any) -> CopyInto:
    """A baseline unload, with ``changes`` applied (``_UNSET`` removes an option)."""
    options = {"file_format": CSV(compression="gzip"), "max_file_size": 100, **changes}
    return CopyInto(
        s / "out/" if target is _UNSET else target,
        t if source is _UNSET else source,
        **{name: value for name, value in options.items() if value is not _UNSET},
    )


def load(*, source: Any = _UNSET, **changes: Any) -> CopyInto:
    """A baseline load, with ``changes`` applied."""
    options = {"file_format": CSV(), "on_error": "continue", **changes}
    return CopyInto(
        t,
        s / "in/" if source is _UNSET else source,
        **{name: value for name, value in options.items() if value is not _UNSET},
    )


# Two values of every option, so each option's change is seen.
UNLOAD_VALUES: dict[str, tuple[Any, Any]] = {
    "overwrite": (False, True),
    "single": (False, True),
    "max_file_size": (100, 200),
    "include_query_id": (False, True),
    "detailed_output": (False, True),
    "validation_mode": (_UNSET, "RETURN_ROWS"),
    "header": (True, False),
}
LOAD_VALUES: dict[str, tuple[Any, Any]] = {
    "files": (("a.csv",), ("b.csv",)),
    "pattern": (".*a", ".*b"),
    "on_error": ("continue", "skip_file"),
    "force": (False, True),
    "purge": (False, True),
    "match_by_column_name": ("case_sensitive", "case_insensitive"),
    "validation_mode": ("return_errors", "return_5_rows"),
    "disable_variant_check": (False, True),
}
CSV_VALUES: dict[str, tuple[Any, Any]] = {
    "compression": ("gzip", "bz2"),
    "record_delimiter": (";", None),
    "field_delimiter": (None, "NONE"),  # the NONE keyword and the string 'NONE'
    "file_extension": ("NONE", None),
    "skip_header": (0, 1),
    "escape": ("\\", None),
    "escape_unenclosed_field": ("#", None),  # one character (spec 004), or NONE
    "date_format": ("auto", "YYYY-MM-DD"),
    "time_format": ("AUTO", "auto "),
    "timestamp_format": ("AUTO", "YYYY"),
    "binary_format": ("HEX", "BASE64"),
    "field_optionally_enclosed_by": ('"', None),
    "null_if": (("NULL",), ("NULL", "null")),
    "empty_field_as_null": (True, False),
    "parse_header": (False, True),
    "error_on_column_count_mismatch": (True, False),
    "output_header": (False, True),
}
JSON_VALUES: dict[str, tuple[Any, Any]] = {
    "compression": ("auto", "none"),
    "file_extension": ("json", "ndjson"),
    "strip_outer_array": (False, True),
    "missing_field_as": ("null", "error"),
}
PARQUET_VALUES: dict[str, tuple[Any, Any]] = {
    "compression": ("snappy", "lzo"),
    "snappy_compression": (True, False),
    "binary_as_text": (True, False),
    "use_logical_type": (False, True),
    "use_vectorized_scanner": (False, True),
    "missing_field_as": ("null", "field_default"),
}


def test_every_option_has_a_variant() -> None:
    assert set(UNLOAD_VALUES) == set(UNLOAD_OPTIONS)
    assert set(LOAD_VALUES) == set(LOAD_OPTIONS)
    assert set(CSV_VALUES) == set(CSV_OPTIONS)
    assert set(JSON_VALUES) == set(JSON_OPTIONS)
    assert set(PARQUET_VALUES) == set(PARQUET_OPTIONS)


def _pairs(prefix: str, build: Any, values: dict[str, tuple[Any, Any]]) -> list[Any]:
    return [
        pytest.param(build(name, a), build(name, b), id=f"{prefix}-{name}")
        for name, (a, b) in values.items()
    ]


def _format_pair(kind: Any) -> Any:
    return lambda name, value: unload(
        file_format=kind() if value is _UNSET else kind(**{name: value})
    )


COPY_PAIRS = [
    *_pairs("unload", lambda name, value: unload(**{name: value}), UNLOAD_VALUES),
    *_pairs("load", lambda name, value: load(**{name: value}), LOAD_VALUES),
    *_pairs("csv", _format_pair(CSV), CSV_VALUES),
    *_pairs("json", _format_pair(JSON), JSON_VALUES),
    *_pairs("parquet", _format_pair(Parquet), PARQUET_VALUES),
    pytest.param(unload(), unload(overwrite=True), id="unload-option-added"),
    pytest.param(unload(), unload(max_file_size=_UNSET), id="unload-option-removed"),
    pytest.param(load(), load(files=["a.csv"]), id="load-option-added"),
    pytest.param(unload(file_format=CSV()), unload(file_format=JSON()), id="format-type-csv-json"),
    pytest.param(
        unload(file_format=JSON()), unload(file_format=Parquet()), id="format-type-parquet"
    ),
    pytest.param(unload(file_format=CSV()), unload(file_format=_UNSET), id="format-removed"),
    pytest.param(
        unload(file_format=FileFormat("a")), unload(file_format=FileFormat("b")), id="format-name"
    ),
    pytest.param(
        unload(file_format=FileFormat("a")),
        unload(file_format=FileFormat("a", schema="x")),
        id="format-schema",
    ),
    pytest.param(
        unload(file_format=FileFormat("a")),
        unload(file_format=FileFormat("a", compression="gzip")),
        id="format-name-override",
    ),
    pytest.param(unload(target=s / "out/"), unload(target=s / "out2/"), id="location-path"),
    pytest.param(unload(target=s / "a b/"), unload(target=s / "a c/"), id="location-quoted-path"),
    pytest.param(unload(target=s), unload(target=Stage("s2")), id="location-stage"),
    pytest.param(
        unload(target=s), unload(target=Stage("s", schema="sch")), id="location-stage-schema"
    ),
    pytest.param(unload(target=Stage.user()), unload(target=Stage.table(t)), id="location-kind"),
    pytest.param(unload(target="s3://b/x/"), unload(target="s3://b/y/"), id="location-url"),
    pytest.param(unload(target="@s/x/"), unload(target="s3://s/x/"), id="location-url-vs-stage"),
    pytest.param(
        unload(target="s3://b/", credentials=KEYS),
        unload(target="s3://b/", credentials={**KEYS, "aws_secret_key": "SECRET2"}),
        id="credentials-value",
    ),
    pytest.param(
        unload(target="s3://b/", credentials=KEYS),
        unload(target="s3://b/", credentials={**KEYS, "aws_token": "T"}),
        id="credentials-token-added",
    ),
    pytest.param(
        unload(target="s3://b/", credentials=KEYS),
        unload(target="s3://b/", credentials={"aws_role": "arn"}),
        id="credentials-role",
    ),
    pytest.param(
        unload(target="s3://b/", credentials={**KEYS, "region": "r1"}),
        unload(target="s3://b/", credentials={**KEYS, "region": "r2"}),
        id="credentials-region",
    ),
    pytest.param(
        unload(target="s3://b/", credentials={**KEYS, "endpoint_url": "http://a"}),
        unload(target="s3://b/", credentials={**KEYS, "endpoint_url": "http://b"}),
        id="credentials-endpoint",
    ),
    pytest.param(
        unload(target="azure://a/c/", credentials={"azure_sas_token": "t1"}),
        unload(target="azure://a/c/", credentials={"azure_sas_token": "t2"}),
        id="credentials-sas",
    ),
    pytest.param(
        unload(target="s3://b/", storage_integration="i1"),
        unload(target="s3://b/", storage_integration="i2"),
        id="storage-integration",
    ),
    pytest.param(
        unload(target="s3://b/", encryption={"type": "AWS_SSE_S3"}),
        unload(target="s3://b/", encryption={"type": "AWS_SSE_KMS"}),
        id="encryption-type",
    ),
    pytest.param(
        unload(target="s3://b/", encryption={"master_key": "m1"}),
        unload(target="s3://b/", encryption={"master_key": "m2"}),
        id="encryption-master-key",
    ),
    pytest.param(
        unload(target="s3://b/", encryption={"type": "AWS_SSE_KMS", "kms_key_id": "k1"}),
        unload(target="s3://b/", encryption={"type": "AWS_SSE_KMS", "kms_key_id": "k2"}),
        id="encryption-kms-key",
    ),
    pytest.param(
        unload(partition_by=sa.literal_column("a")),
        unload(partition_by=sa.literal_column("b")),
        id="partition-by",
    ),
    pytest.param(unload(partition_by="a"), unload(), id="partition-by-removed"),
    pytest.param(
        unload(partition_by=t.c.a + 1), unload(partition_by=t.c.a - 1), id="partition-by-operator"
    ),
    pytest.param(load(columns=["a"]), load(columns=["a", "b"]), id="columns"),
    pytest.param(load(columns=["a", "b"]), load(columns=["b", "a"]), id="columns-order"),
    pytest.param(unload(source=t), unload(source=t2), id="source-table"),
    pytest.param(
        unload(source=sa.select(t.c.a)), unload(source=sa.select(t.c.b)), id="source-query"
    ),
    pytest.param(
        unload(source=sa.select(t.c.a)),
        unload(source=sa.select(t.c.a).where(t.c.b > 1)),
        id="source-query-where",
    ),
    pytest.param(unload(source=t), unload(source=sa.select(t)), id="source-table-vs-query"),
    pytest.param(load(source=s / "in/"), load(source=s / "in2/"), id="load-source-path"),
    pytest.param(load(source="s3://b/in/"), load(source=s / "in/"), id="load-source-url"),
    pytest.param(
        load(source=sa.select(sa.literal_column("$1")).select_from(staged(s))),
        load(source=sa.select(sa.literal_column("$2")).select_from(staged(s))),
        id="load-source-transform",
    ),
    pytest.param(load(source=s), unload(target=s, source=t), id="direction"),
]

OTHER_PAIRS = [
    pytest.param(ListFiles(s), ListFiles(s / "p/"), id="list-path"),
    pytest.param(ListFiles(s), ListFiles(Stage("s2")), id="list-stage"),
    pytest.param(ListFiles(s, pattern="a.*"), ListFiles(s, pattern="b.*"), id="list-pattern"),
    pytest.param(ListFiles(s), ListFiles(Stage.user()), id="list-user-stage"),
    pytest.param(ListFiles(s), RemoveFiles(s), id="list-vs-remove"),
    pytest.param(RemoveFiles(s / "a/"), RemoveFiles(s / "b/"), id="remove-path"),
    pytest.param(RemoveFiles(s, pattern="a"), RemoveFiles(s), id="remove-pattern"),
    pytest.param(Presign(s / "a"), Presign(s / "b"), id="presign-path"),
    pytest.param(Presign(s / "a", expire=1), Presign(s / "a", expire=2), id="presign-expire"),
    pytest.param(Presign(s / "a"), Presign(s / "a", method="upload"), id="presign-method"),
    pytest.param(Put("/a.csv", s), Put("/b.csv", s), id="put-local-path"),
    pytest.param(Put("/a.csv", s), Put("/a.csv", s / "p/"), id="put-location"),
    pytest.param(Put("/a", s, parallel=1), Put("/a", s, parallel=2), id="put-parallel"),
    pytest.param(
        Put("/a", s, auto_compress=True), Put("/a", s, auto_compress=False), id="put-auto-compress"
    ),
    pytest.param(
        Put("/a", s, source_compression="gzip"),
        Put("/a", s, source_compression="bz2"),
        id="put-source-compression",
    ),
    pytest.param(Put("/a", s, overwrite=True), Put("/a", s), id="put-overwrite"),
    pytest.param(Get(s, "/out/"), Get(s, "/out2/"), id="get-local-path"),
    pytest.param(Get(s, "/o/", pattern="a"), Get(s, "/o/", pattern="b"), id="get-pattern"),
    pytest.param(Get(s, "/o/", parallel=3), Get(s, "/o/", parallel=4), id="get-parallel"),
    pytest.param(DescribeStage("a"), DescribeStage("b"), id="describe-name"),
    pytest.param(DescribeStage("a"), DescribeStage(Stage("a", schema="x")), id="describe-schema"),
    pytest.param(DescribeStage(Stage.user()), DescribeStage(Stage.table("u")), id="describe-kind"),
    pytest.param(ShowStages(), ShowStages(like="a%"), id="show-like"),
    pytest.param(ShowStages(like="a%"), ShowStages(like="b%"), id="show-like-value"),
    pytest.param(
        SelectIntoOutfile(sa.select(t), "st:/a.csv"),
        SelectIntoOutfile(sa.select(t), "st:/b.csv"),
        id="outfile-location",
    ),
    pytest.param(
        SelectIntoOutfile(sa.select(t), "/tmp/a.csv"),
        SelectIntoOutfile(sa.select(t), Stage("tmp") / "a.csv"),
        id="outfile-path-vs-stage",
    ),
    pytest.param(
        SelectIntoOutfile(sa.select(t.c.a), "st:/a.csv"),
        SelectIntoOutfile(sa.select(t.c.b), "st:/a.csv"),
        id="outfile-query",
    ),
    pytest.param(
        sa.select(sa.literal_column("$1")).select_from(staged(s / "a/")),
        sa.select(sa.literal_column("$1")).select_from(staged(s / "b/")),
        id="staged-location",
    ),
    pytest.param(
        sa.select(sa.literal_column("$1")).select_from(staged(s, file_format=FileFormat("f"))),
        sa.select(sa.literal_column("$1")).select_from(staged(s, file_format=FileFormat("g"))),
        id="staged-format",
    ),
    pytest.param(
        sa.select(sa.literal_column("$1")).select_from(staged(s, file_format=Parquet)),
        sa.select(sa.literal_column("$1")).select_from(staged(s, file_format=JSON)),
        id="staged-format-type",
    ),
    pytest.param(
        sa.select(sa.literal_column("$1")).select_from(staged(s, pattern="a")),
        sa.select(sa.literal_column("$1")).select_from(staged(s, pattern="b")),
        id="staged-pattern",
    ),
    pytest.param(
        sa.select(staged(s, columns=["x"]).c.x),
        sa.select(staged(s, columns=["y"]).c.y),
        id="staged-columns",
    ),
    pytest.param(
        sa.select(sa.literal_column("$1")).select_from(staged(Stage.user())),
        sa.select(sa.literal_column("$1")).select_from(staged(Stage.table(t))),
        id="staged-stage-kind",
    ),
]

ALL_PAIRS = COPY_PAIRS + OTHER_PAIRS

DIALECTS = {
    "default": default.StrCompileDialect(),
    "sqlite": sa.create_engine("sqlite://").dialect,
}


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest) -> Any:
    return DIALECTS[request.param]


def fresh(statement: Any, dialect: Any) -> str:
    """The statement's SQL compiled without any cache."""
    return str(statement.compile(dialect=dialect))


def revealed(statement: Any, dialect: Any) -> str:
    """The statement's SQL with its secrets (as a warehouse's text has them)."""
    return str(statement.compile(dialect=dialect, compile_kwargs={"render_secrets": True}))


def cached(statement: Any, dialect: Any, cache: dict[Any, Any]) -> tuple[str, Any]:
    # SQLAlchemy 2.0 returns (compiled, key, stats), 2.1 one more item before stats.
    result = statement._compile_w_cache(dialect, compiled_cache=cache, column_keys=[])
    return str(result[0]), result[-1]


@pytest.mark.parametrize(("a", "b"), ALL_PAIRS)
def test_one_difference_changes_key_and_sql(a: Any, b: Any, dialect: Any) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key_a, key_b = a._generate_cache_key(), b._generate_cache_key()
        assert key_a is not None  # None would mean "never cached"
        assert key_b is not None
        assert key_a != key_b

        sql_a, sql_b = fresh(a, dialect), fresh(b, dialect)
        if sql_a == sql_b:  # only a secret differs: masked in this text, not in the key
            assert "'***'" in sql_a
            assert revealed(a, dialect) != revealed(b, dialect)
        else:
            assert sql_a != sql_b
        cache: dict[Any, Any] = {}
        assert cached(a, dialect, cache) == (sql_a, dialect.CACHE_MISS)
        assert cached(b, dialect, cache) == (sql_b, dialect.CACHE_MISS)  # not A's stale SQL
        assert cached(a, dialect, cache) == (sql_a, dialect.CACHE_HIT)
        assert len(cache) == 2
    assert not [w for w in caught if issubclass(w.category, SAWarning)]


EQUAL_PAIRS = [
    pytest.param(unload(), unload(), id="unload"),
    pytest.param(load(), load(), id="load"),
    pytest.param(
        unload(file_format=CSV(compression="GZIP", null_if="x")),
        unload(file_format=CSV(null_if=["x"], compression="gzip")),
        id="canonical-format-options",
    ),
    pytest.param(
        unload(target="@s/out/x"),
        unload(target=Stage("s") / "out" / "x"),
        id="location-text-or-path",
    ),
    pytest.param(
        unload(target="s3://b/", credentials={"aws_secret_key": "S", "aws_key_id": "K"}),
        unload(target="s3://b/", credentials={"aws_key_id": "K", "aws_secret_key": "S"}),
        id="credentials-order",
    ),
    pytest.param(
        load(on_error="continue", force=True),
        load(force=True, on_error="CONTINUE"),
        id="load-order",
    ),
    pytest.param(ListFiles(s, pattern="x"), ListFiles("@s", pattern="x"), id="list"),
    pytest.param(Put("/a", s, parallel=2), Put("file:///a", s, parallel=2), id="put"),
    pytest.param(DescribeStage("s"), DescribeStage(Stage("s")), id="describe"),
    pytest.param(
        SelectIntoOutfile(sa.select(t), "st:/a.csv"),
        SelectIntoOutfile(sa.select(t), Stage("st") / "a.csv"),
        id="outfile",
    ),
    pytest.param(
        sa.select(sa.literal_column("$1")).select_from(staged(s, file_format=Parquet())),
        sa.select(sa.literal_column("$1")).select_from(staged("@s", file_format="parquet")),
        id="staged",
    ),
]


@pytest.mark.parametrize(("a", "b"), EQUAL_PAIRS)
def test_equal_statements_share_key_and_cache(a: Any, b: Any, dialect: Any) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert a._generate_cache_key() == b._generate_cache_key()
        cache: dict[Any, Any] = {}
        sql_a, miss = cached(a, dialect, cache)
        sql_b, hit = cached(b, dialect, cache)
        assert (miss, hit) == (dialect.CACHE_MISS, dialect.CACHE_HIT)
        assert sql_a == sql_b == fresh(b, dialect)
    assert not [w for w in caught if issubclass(w.category, SAWarning)]


def test_bound_values_are_parameters_not_part_of_the_key() -> None:
    """A query's literal values are extracted as parameters: same key, own values."""
    dialect = DIALECTS["sqlite"]
    one = unload(source=sa.select(t).where(t.c.a == 1))
    two = unload(source=sa.select(t).where(t.c.a == 2))
    assert one._generate_cache_key() == two._generate_cache_key()
    cache: dict[Any, Any] = {}
    cached(one, dialect, cache)
    result = two._compile_w_cache(dialect, compiled_cache=cache, column_keys=[])
    compiled, stats = result[0], result[-1]
    assert stats == dialect.CACHE_HIT
    assert compiled.construct_params(extracted_parameters=two._generate_cache_key()[1]) == {
        "a_1": 2
    }


def test_no_stale_sql_through_a_real_connection() -> None:
    """Execute through a real SQLite Connection with a compiled cache: each statement is
    compiled once and sent with its own SQL (SQLite then rejects the stage SQL, and the
    error carries the statement that was sent)."""
    engine = sa.create_engine("sqlite://")
    cache: dict[Any, Any] = {}
    statements = [
        unload(single=True),
        unload(single=False),
        unload(file_format=CSV(field_delimiter=None)),
        unload(file_format=CSV(field_delimiter="NONE")),
        unload(single=True),
        ListFiles(s, pattern="a"),
        ListFiles(s, pattern="b"),
    ]
    sent = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with engine.connect() as connection:
            connection = connection.execution_options(compiled_cache=cache)
            for statement in statements:
                with pytest.raises(sa.exc.OperationalError) as error:
                    connection.execute(statement)
                sent.append(error.value.statement)
    assert sent == [fresh(statement, engine.dialect) for statement in statements]
    assert "FIELD_DELIMITER = NONE)" in sent[2]
    assert "FIELD_DELIMITER = 'NONE')" in sent[3]
    assert len(cache) == len(statements) - 1  # the repeated statement hit the cache
    assert not [w for w in caught if issubclass(w.category, SAWarning)]
