"""Errors a user can act on, caught the way a warehouse driver's are (issue 13).

Everything runs through the real runtime: an engine on a DuckDB file with the plugin, stages
in a local folder. Each test asserts the class a warehouse driver would raise for the same
statement (``sqlalchemy.exc.ProgrammingError`` for an unknown stage, ``DataError`` for a bad
value, ``IntegrityError`` for a duplicate key, ``OperationalError`` for storage that cannot
be written), the package's own base class, and the message.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import (
    CopyInto,
    DescribeStage,
    DropStage,
    ListFiles,
    Parquet,
    RemoveFiles,
    Stage,
    StageArgumentError,
    StageDataError,
    StageError,
    StageIntegrityError,
    StageOperationalError,
    StageProgrammingError,
    StageRuntimeError,
)


@pytest.fixture
def engine(engine: sa.Engine) -> sa.Engine:
    """The runtime engine of tests/conftest.py, with a stage, a table and Parquet files."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE lake")
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "COPY INTO @lake/pq/ FROM (SELECT 1 AS a) FILE_FORMAT = (TYPE = PARQUET)"
        )
    return engine


def failure(engine: sa.Engine, statement: Any) -> sa.exc.SQLAlchemyError:
    """The error ``statement`` raises; the transaction is rolled back."""
    with engine.connect() as conn, pytest.raises(sa.exc.SQLAlchemyError) as caught:
        if isinstance(statement, str):
            conn.exec_driver_sql(statement).all()
        else:
            conn.execute(statement).all()
    return caught.value


def rows_of_t(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one())


# Caught as a driver's error


@pytest.mark.parametrize(
    "statement",
    ["LIST @nowhere", "SELECT * FROM @nowhere", "COPY INTO t FROM @nowhere", "DESC STAGE nowhere"],
)
def test_unknown_stage_is_a_programming_error_as_on_a_warehouse(
    engine: sa.Engine, statement: str
) -> None:
    error = failure(engine, statement)
    assert isinstance(error, sa.exc.ProgrammingError)
    assert isinstance(error, sa.exc.DBAPIError)  # what the Snowflake and Databend drivers raise
    assert isinstance(error, StageProgrammingError) and isinstance(error, StageError)
    assert str(error) == "stage @nowhere does not exist"
    assert error.orig is None and error.params is None  # no driver error, no parameters


def test_a_value_that_does_not_convert_is_a_data_error(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO @lake/bad/ FROM (SELECT 'x' AS a)")
    error = failure(engine, "COPY INTO t FROM @lake/bad/")
    assert isinstance(error, sa.exc.DataError) and isinstance(error, StageDataError)
    assert "Could not convert string \"x\" to 'INTEGER'" in str(error)
    assert "file 'bad/data_0_0_0.csv.gz', line 1, column 'a'" in str(error)
    assert "nothing was loaded" in str(error)
    assert rows_of_t(engine) == 0


@pytest.mark.parametrize("on_error", ["ABORT_STATEMENT", "CONTINUE"])
def test_a_duplicate_key_is_an_integrity_error(engine: sa.Engine, on_error: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("COPY INTO @lake/dup/ FROM (SELECT 1 AS a UNION ALL SELECT 1)")
    error = failure(engine, f"COPY INTO t FROM @lake/dup/ ON_ERROR = {on_error}")
    assert isinstance(error, sa.exc.IntegrityError) and isinstance(error, StageIntegrityError)
    assert 'duplicate key "1"' in str(error)
    assert rows_of_t(engine) == 0


def test_storage_that_cannot_be_written_is_an_operational_error(
    engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE blocked URL = '{(tmp_path / 'a_file').as_uri()}/sub/'")
    error = failure(engine, "COPY INTO @blocked/x/ FROM t")
    assert isinstance(error, sa.exc.OperationalError) and isinstance(error, StageOperationalError)
    assert "Not a directory" in str(error)
    assert (tmp_path / "a_file").read_text() == "not a folder"


def test_runtime_errors_pickle_with_their_class_and_message(engine: sa.Engine) -> None:
    error = failure(engine, "LIST @nowhere")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is StageProgrammingError and str(copy) == str(error)
    coded = pickle.loads(pickle.dumps(StageDataError("bad row", code=20101)))
    assert str(coded) == "bad row (error 20101)" and coded.error_code == 20101


def test_every_runtime_error_class_is_a_dbapi_error_under_the_package_base() -> None:
    pairs = {
        StageProgrammingError: sa.exc.ProgrammingError,
        StageDataError: sa.exc.DataError,
        StageIntegrityError: sa.exc.IntegrityError,
        StageOperationalError: sa.exc.OperationalError,
    }
    for ours, sqlalchemy_class in pairs.items():
        assert issubclass(ours, StageRuntimeError) and issubclass(ours, sqlalchemy_class)
        assert issubclass(ours, sa.exc.DBAPIError) and issubclass(ours, StageError)
    assert issubclass(StageArgumentError, StageError)
    assert issubclass(StageArgumentError, sa.exc.ArgumentError)


# Did you mean


@pytest.mark.parametrize(
    "statement",
    [
        "LIST @lkae",
        "LIST @LAKE2/p/",
        "SELECT * FROM @lkae/pq/",
        "COPY INTO t FROM @lkae",
        "COPY INTO @lkae/x/ FROM t",
        "REMOVE @lkae",
        "DESC STAGE lkae",
        "DROP STAGE lkae",
        ListFiles(Stage("lkae")),
        RemoveFiles(Stage("lkae")),
        DescribeStage("lkae"),
        DropStage("lkae"),
    ],
    ids=str,
)
def test_an_unknown_stage_suggests_the_near_name(engine: sa.Engine, statement: Any) -> None:
    error = failure(engine, statement)
    assert isinstance(error, StageProgrammingError)
    assert str(error).endswith("does not exist; did you mean @lake?"), str(error)


def test_no_suggestion_when_no_name_is_near(engine: sa.Engine) -> None:
    assert str(failure(engine, "LIST @warehouse")) == "stage @warehouse does not exist"


def test_the_suggestion_names_the_nearest_of_several(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE landing")
        conn.exec_driver_sql("CREATE STAGE lakes")
    assert str(failure(engine, "LIST @landnig")).endswith("did you mean @landing?")


# Parquet read as CSV


PARQUET_AS_CSV = (
    "'pq/data_0_0_0.snappy.parquet' is a Parquet file, but the statement reads CSV "
    "(its FILE_FORMAT, else the stage's, else CSV): give FILE_FORMAT = (TYPE = PARQUET)"
)


def test_loading_parquet_without_a_format_says_so(engine: sa.Engine) -> None:
    error = failure(engine, "COPY INTO t FROM @lake/pq/")
    assert isinstance(error, StageProgrammingError)
    assert str(error) == f"COPY INTO main.t: {PARQUET_AS_CSV}"
    assert "state machine" not in str(error)
    assert rows_of_t(engine) == 0
    with engine.begin() as conn:  # with the format, the same files load
        conn.execute(CopyInto(sa.table("t"), Stage("lake") / "pq/", file_format=Parquet()))
    assert rows_of_t(engine) == 1


@pytest.mark.parametrize("query", ["SELECT * FROM @lake/pq/", "SELECT $1 FROM @lake/pq/ AS f"])
def test_querying_parquet_without_a_format_says_so(engine: sa.Engine, query: str) -> None:
    error = failure(engine, query)
    assert isinstance(error, StageProgrammingError)
    assert str(error) == f"@lake/pq/: {PARQUET_AS_CSV}"


def test_a_stage_with_a_parquet_format_reads_parquet(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER STAGE lake SET FILE_FORMAT = (TYPE = PARQUET)")
        assert conn.exec_driver_sql("SELECT * FROM @lake/pq/").all() == [(1,)]


# A location without @ that names no URL scheme


@pytest.mark.parametrize(
    ("build", "direction"),
    [
        (lambda: CopyInto(sa.table("t"), "landing/p/"), "COPY INTO <table>"),
        (lambda: CopyInto("landing/p/", sa.table("t")), "COPY INTO <location>"),
    ],
)
def test_a_relative_location_is_refused_in_a_construct(build: Any, direction: str) -> None:
    with pytest.raises(StageArgumentError) as caught:
        build()
    assert str(caught.value) == (
        f"{direction}: 'landing/p/' is neither a stage location ('@stage/path') nor a URL "
        "('s3://bucket/path/', 'file:///abs/path/'): a relative path is never read as a "
        "location; did you mean '@landing/p/'?"
    )


@pytest.mark.parametrize(
    "statement", ["COPY INTO t FROM 'landing/p/'", "COPY INTO 'landing/p/' FROM t"]
)
def test_a_relative_location_is_refused_in_text_and_nothing_is_written(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statement: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "landing" / "p").mkdir(parents=True)
    (tmp_path / "landing" / "p" / "rows.csv").write_text("7\n")
    error = failure(engine, statement)
    assert isinstance(error, StageProgrammingError)
    assert "a relative path is never read as a location; did you mean '@landing/p/'?" in str(error)
    assert rows_of_t(engine) == 0
    assert sorted(p.name for p in (tmp_path / "landing" / "p").iterdir()) == ["rows.csv"]
