"""Run the Databend SQL the constructs compile to on embedded Databend, and check the rows.

Every statement here is built as a construct, compiled with databend-sqlalchemy's
dialect and executed on the embedded engine (``databend`` fixture, conftest.py).
Embedded Databend 1.2.453 lacks some documented options (OVERWRITE and
INCLUDE_QUERY_ID on unload, SHOW STAGES LIKE, stage comments, PRESIGN on local
storage): those are covered by the golden tests only.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect

from sqla_stage import (
    CSV,
    JSON,
    CopyInto,
    CreateFileFormat,
    CreateStage,
    DescribeStage,
    DropFileFormat,
    DropStage,
    FileFormat,
    ListFiles,
    Parquet,
    RemoveFiles,
    ShowStages,
    Stage,
    staged,
)

DIALECT = databend_dialect.DatabendDialect()

people = sa.table("people", sa.column("id"), sa.column("name"))
copies = sa.table("copies", sa.column("id"), sa.column("name"))
ROWS = [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}, {"id": 3, "name": None}]


def sql_of(construct: Any) -> str:
    text = str(construct.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True}))
    # pyformat text doubles '%'; these statements are sent as is, so they must have none.
    assert "%" not in text
    return text


@pytest.fixture
def run(databend: Any) -> Callable[[Any], list[dict[str, Any]]]:
    """Compile a construct for Databend and execute it; return the rows."""
    return lambda construct: databend.sql(sql_of(construct))


@pytest.fixture
def tables(databend: Any) -> None:
    databend.sql("CREATE TABLE people (id INT, name VARCHAR NULL)")
    databend.sql("CREATE TABLE copies (id INT, name VARCHAR NULL)")
    databend.sql("INSERT INTO people VALUES (1, 'ann'), (2, 'bob'), (3, NULL)")


@pytest.fixture
def stage(databend: Any, unique_name: Callable[[str], str], run: Any) -> Any:
    """An internal stage, dropped afterwards."""
    created = Stage(unique_name("st"))
    run(CreateStage(created))
    yield created
    run(DropStage(created, if_exists=True))


def stage_names(databend: Any) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in databend.sql(sql_of(ShowStages()))}


def files_under(root: Path) -> dict[str, int]:
    """Relative path -> size of every file under ``root``."""
    return {
        path.relative_to(root).as_posix(): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file()
    }


def listed(run: Any, location: Any, **kw: Any) -> dict[str, int]:
    return {row["name"]: row["size"] for row in run(ListFiles(location, **kw))}


def loaded(databend: Any) -> list[dict[str, Any]]:
    return databend.sql("SELECT id, name FROM copies ORDER BY id")


# --- stage DDL -------------------------------------------------------------------------


def test_internal_stage_lifecycle(databend: Any, run: Any, unique_name: Any) -> None:
    name = unique_name("lifecycle")
    target = Stage(name, comment="nightly")
    assert sql_of(CreateStage(target)) == f"CREATE STAGE {name} COMMENT = 'nightly'"
    assert run(CreateStage(target)) == []
    assert run(CreateStage(target, if_not_exists=True)) == []

    shown = stage_names(databend)[name]
    assert shown["stage_type"] == "Internal"
    assert shown["number_of_files"] == 0
    (described,) = run(DescribeStage(target))
    assert (described["name"], described["stage_type"]) == (name, "Internal")

    run(DropStage(target))
    assert name not in stage_names(databend)
    assert run(DropStage(name, if_exists=True)) == []


def test_create_or_replace_and_stage_defaults(databend: Any, run: Any, unique_name: Any) -> None:
    name = unique_name("defaults")
    run(CreateStage(Stage(name)))
    replacement = Stage(
        name,
        file_format=CSV(compression="gzip", field_delimiter="|"),
        copy_options={"size_limit": 10, "on_error": "continue"},
    )
    run(CreateStage(replacement, or_replace=True))
    (described,) = run(DescribeStage(name))
    assert "Csv(" in described["file_format_options"]
    assert "Gzip" in described["file_format_options"]
    assert 'field_delimiter: "|"' in described["file_format_options"]
    assert "size_limit: 10" in described["copy_options"]
    assert "on_error: Continue" in described["copy_options"]
    run(DropStage(name))


def test_create_stage_with_named_format(databend: Any, run: Any, unique_name: Any) -> None:
    fmt, name = unique_name("ndjson"), unique_name("withformat")
    run(CreateFileFormat(fmt, JSON(compression="gzip")))
    run(CreateStage(Stage(name, file_format=FileFormat(fmt))))
    (described,) = run(DescribeStage(name))
    assert "NdJson(" in described["file_format_options"]
    assert "compression: Gzip" in described["file_format_options"]
    run(DropStage(name))
    run(DropFileFormat(fmt))


# --- unload, LIST, load, REMOVE on an internal stage ----------------------------------


@pytest.mark.usefixtures("tables")
def test_unload_table_list_load_remove(databend: Any, run: Any, stage: Stage) -> None:
    (result,) = run(CopyInto(stage / "daily/", people))
    assert result["rows_unloaded"] == 3

    on_disk = files_under(databend.stage_dir(stage.name))
    assert len(on_disk) == 1
    (path,) = on_disk
    assert path.startswith("daily/data_")
    assert path.endswith(".csv.gz")  # the spec's defaults: CSV, gzip
    assert listed(run, stage) == on_disk
    assert listed(run, stage / "daily/") == on_disk
    assert result["output_bytes"] == on_disk[path]

    content = gzip.decompress((databend.stage_dir(stage.name) / path).read_bytes())
    assert content.decode().splitlines() == ['1,"ann"', '2,"bob"', "3,\\N"]

    (load,) = run(CopyInto(copies, stage / "daily/"))
    assert (load["File"], load["Rows_loaded"], load["Errors_seen"]) == (path, 3, 0)
    assert loaded(databend) == ROWS

    run(RemoveFiles(stage / "daily/"))
    assert listed(run, stage) == {}
    assert files_under(databend.stage_dir(stage.name)) == {}


@pytest.mark.usefixtures("tables")
def test_unload_query_with_literal_binds(databend: Any, run: Any, stage: Stage) -> None:
    query = sa.select(people.c.id, people.c.name).where(people.c.id > 1).order_by(people.c.id)
    assert sql_of(CopyInto(stage / "q/", query)) == (
        f"COPY INTO @{stage.name}/q/ FROM (SELECT people.id, people.name \nFROM people \n"
        "WHERE people.id > 1 ORDER BY people.id) FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)"
    )
    (result,) = run(CopyInto(stage / "q/", query))
    assert result["rows_unloaded"] == 2
    run(CopyInto(copies, stage / "q/"))
    assert loaded(databend) == ROWS[1:]


@pytest.mark.usefixtures("tables")
def test_remove_with_pattern(databend: Any, run: Any, stage: Stage) -> None:
    run(CopyInto(stage / "keep/", people))
    run(CopyInto(stage / "drop/", people, file_format=Parquet()))
    assert {name.split("/")[0] for name in listed(run, stage)} == {"keep", "drop"}

    run(RemoveFiles(stage, pattern=r".*[.]parquet"))
    remaining = listed(run, stage)
    assert [name.split("/")[0] for name in remaining] == ["keep"]
    assert files_under(databend.stage_dir(stage.name)) == remaining

    run(RemoveFiles(stage))
    assert listed(run, stage) == {}


@pytest.mark.usefixtures("tables")
def test_auto_compression_unloads_gzip(databend: Any, run: Any, stage: Stage) -> None:
    """The spec's COMPRESSION = AUTO means gzip on unload; Databend's own AUTO does not."""
    run(CopyInto(stage / "auto/", people, file_format=CSV(compression="auto")))
    run(CopyInto(stage / "json/", people, file_format=JSON(compression="auto")))
    paths = sorted(files_under(databend.stage_dir(stage.name)))
    assert [path.split("/")[0] for path in paths] == ["auto", "json"]
    assert paths[0].endswith(".csv.gz")
    assert paths[1].endswith(".ndjson.gz")
    for path in paths:
        assert gzip.decompress((databend.stage_dir(stage.name) / path).read_bytes())


@pytest.mark.usefixtures("tables")
def test_list_with_pattern(run: Any, stage: Stage) -> None:
    run(CopyInto(stage / "a/", people))
    run(CopyInto(stage / "b/", people, file_format=JSON()))
    names = listed(run, stage, pattern=r".*[.]ndjson[.]gz")
    assert len(names) == 1
    assert next(iter(names)).startswith("b/")


# --- external stage on a local folder --------------------------------------------------


@pytest.mark.usefixtures("tables")
def test_external_stage_on_local_folder(
    databend: Any, run: Any, unique_name: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    external = Stage(unique_name("ext"), url=str(folder) + "/", comment="local")
    assert sql_of(CreateStage(external)) == (
        f"CREATE STAGE {external.name} URL = 'fs://{folder}/' COMMENT = 'local'"
    )
    run(CreateStage(external))
    assert stage_names(databend)[external.name]["stage_type"] == "External"

    (result,) = run(CopyInto(external / "a/", sa.select(people).where(people.c.id < 3)))
    assert result["rows_unloaded"] == 2
    on_disk = files_under(folder)
    (path,) = on_disk
    assert path.startswith("a/data_")
    assert path.endswith(".csv.gz")
    assert gzip.decompress((folder / path).read_bytes()).decode() == '1,"ann"\n2,"bob"\n'
    assert listed(run, external) == on_disk

    run(CopyInto(copies, external, pattern=r".*[.]csv[.]gz"))
    assert loaded(databend) == ROWS[:2]

    run(RemoveFiles(external / "a/"))
    assert files_under(folder) == {}
    run(DropStage(external))
    assert external.name not in stage_names(databend)


@pytest.mark.usefixtures("tables")
def test_unload_to_local_url_and_load_back(databend: Any, run: Any, tmp_path: Path) -> None:
    (result,) = run(CopyInto(str(tmp_path) + "/direct/", people, file_format=CSV(compression=None)))
    assert result["rows_unloaded"] == 3
    (path,) = files_under(tmp_path)
    assert path.startswith("direct/") and path.endswith(".csv")
    assert (tmp_path / path).read_text().splitlines()[0] == '1,"ann"'

    run(CopyInto(copies, "file://" + str(tmp_path) + "/direct/", file_format=CSV))
    assert loaded(databend) == ROWS


# --- the user stage @~ -----------------------------------------------------------------


@pytest.mark.usefixtures("tables")
def test_user_stage(databend: Any, run: Any, unique_name: Any) -> None:
    me = Stage.user()
    prefix = unique_name("mine") + "/"
    (result,) = run(CopyInto(me / prefix, people))
    assert result["rows_unloaded"] == 3
    names = listed(run, me / prefix)
    (name,) = names
    assert name.startswith(prefix)
    assert name in listed(run, me)
    # The RFC's layout: user stages live under stage/user/{user_name}.
    user_file = databend.data_dir / "stage" / "user" / "root" / name
    assert user_file.stat().st_size == names[name]

    run(CopyInto(copies, me / prefix))
    assert loaded(databend) == ROWS

    run(RemoveFiles(me / prefix))
    assert listed(run, me / prefix) == {}


# --- file formats ----------------------------------------------------------------------


@pytest.mark.usefixtures("tables")
def test_named_file_format(databend: Any, run: Any, stage: Stage, unique_name: Any) -> None:
    name = unique_name("pipes")
    run(CreateFileFormat(name, CSV(field_delimiter="|", compression="none")))
    assert name in {row["name"] for row in databend.sql("SHOW FILE FORMATS")}

    run(CopyInto(stage / "f/", people, file_format=FileFormat(name)))
    (path,) = files_under(databend.stage_dir(stage.name))
    assert path.endswith(".csv")
    text = (databend.stage_dir(stage.name) / path).read_text()
    assert text.splitlines() == ['1|"ann"', '2|"bob"', "3|\\N"]

    query = sa.select(sa.literal_column("$1"), sa.literal_column("$2")).select_from(
        staged(stage / "f/", file_format=FileFormat(name))
    )
    assert [tuple(row.values()) for row in run(query)] == [("1", "ann"), ("2", "bob"), ("3", None)]

    run(CopyInto(copies, stage / "f/", file_format=FileFormat(name)))
    assert loaded(databend) == ROWS

    run(DropFileFormat(name))
    assert name not in {row["name"] for row in databend.sql("SHOW FILE FORMATS")}
    assert run(DropFileFormat(name, if_exists=True)) == []


@pytest.mark.usefixtures("tables")
def test_json_unload_reads_back(databend: Any, run: Any, stage: Stage) -> None:
    (result,) = run(CopyInto(stage / "j/", people, file_format=JSON()))
    assert result["rows_unloaded"] == 3
    (path,) = files_under(databend.stage_dir(stage.name))
    assert path.endswith(".ndjson.gz")
    lines = gzip.decompress((databend.stage_dir(stage.name) / path).read_bytes()).splitlines()
    assert [json.loads(line) for line in lines] == ROWS

    run(CopyInto(copies, stage / "j/", file_format=JSON))
    assert loaded(databend) == ROWS


@pytest.mark.usefixtures("tables")
def test_parquet_unload_reads_back(databend: Any, run: Any, stage: Stage) -> None:
    (result,) = run(CopyInto(stage / "p/", people, file_format=Parquet()))
    assert result["rows_unloaded"] == 3
    (path,) = files_under(databend.stage_dir(stage.name))
    assert path.endswith(".parquet")
    table = pq.read_table(io.BytesIO((databend.stage_dir(stage.name) / path).read_bytes()))
    assert table.to_pylist() == ROWS

    files = staged(stage / "p/", file_format=Parquet(), columns=["id", "name"])
    query = sa.select(files.c.id, files.c.name).order_by(files.c.id)
    assert run(query) == ROWS


@pytest.mark.usefixtures("tables")
def test_load_with_transformation(databend: Any, run: Any, stage: Stage) -> None:
    run(CopyInto(stage / "p/", people, file_format=Parquet()))
    files = staged(stage / "p/", file_format=Parquet(), pattern=r".*[.]parquet")
    query = sa.select(sa.literal_column("id") + 10, sa.func.upper(sa.literal_column("name")))
    statement = CopyInto(copies, query.select_from(files))
    assert sql_of(statement) == (
        "COPY INTO copies FROM (SELECT id + 10 AS anon_1, upper(name) AS upper_1 \n"
        f"FROM @{stage.name}/p/) PATTERN = '.*[.]parquet' FILE_FORMAT = (TYPE = PARQUET)"
    )
    run(statement)
    assert loaded(databend) == [
        {"id": 11, "name": "ANN"},
        {"id": 12, "name": "BOB"},
        {"id": 13, "name": None},
    ]


# --- copy options ----------------------------------------------------------------------


@pytest.mark.usefixtures("tables")
def test_header_single_and_max_file_size(databend: Any, run: Any, stage: Stage) -> None:
    statement = CopyInto(
        stage / "h/",
        people,
        file_format=CSV(compression="none"),
        header=True,
        single=True,
        max_file_size=1_000_000,
    )
    (result,) = run(statement)
    assert result["rows_unloaded"] == 3
    (path,) = files_under(databend.stage_dir(stage.name))
    lines = (databend.stage_dir(stage.name) / path).read_text().splitlines()
    assert lines == ['"id","name"', '1,"ann"', '2,"bob"', "3,\\N"]

    run(CopyInto(copies, stage / "h/", file_format=CSV(skip_header=1)))
    assert loaded(databend) == ROWS


@pytest.mark.usefixtures("tables")
def test_detailed_output(databend: Any, run: Any, stage: Stage) -> None:
    (row,) = run(CopyInto(stage / "d/", people, detailed_output=True))
    on_disk = files_under(databend.stage_dir(stage.name))
    assert on_disk == {row["file_name"]: row["file_size"]}
    assert row["row_count"] == 3


@pytest.mark.usefixtures("tables")
def test_load_options(databend: Any, run: Any, stage: Stage) -> None:
    run(CopyInto(stage / "one/", people))
    run(CopyInto(stage / "two/", sa.select(people).where(people.c.id == 1)))
    names = listed(run, stage)
    one = next(name for name in names if name.startswith("one/"))

    run(CopyInto(copies, stage, files=[one], on_error="abort_statement"))
    assert loaded(databend) == ROWS

    # A file that was loaded is skipped unless FORCE.
    assert run(CopyInto(copies, stage, files=[one])) == []
    (again,) = run(CopyInto(copies, stage, files=[one], force=True))
    assert again["Rows_loaded"] == 3

    databend.sql("DELETE FROM copies")
    (only_two,) = run(CopyInto(copies, stage, pattern="two/.*", purge=True, on_error="continue"))
    assert only_two["Rows_loaded"] == 1
    assert loaded(databend) == ROWS[:1]
    assert list(listed(run, stage)) == [one]  # PURGE removed the loaded file


@pytest.mark.usefixtures("tables")
def test_load_into_columns(databend: Any, run: Any, stage: Stage) -> None:
    run(CopyInto(stage / "ids/", sa.select(people.c.id)))
    run(CopyInto(copies, stage / "ids/", columns=[copies.c.id], on_error="skip_file_1"))
    assert loaded(databend) == [{"id": i, "name": None} for i in (1, 2, 3)]


@pytest.mark.usefixtures("tables")
def test_quoted_stage_path(databend: Any, run: Any, stage: Stage) -> None:
    statement = CopyInto(stage / "path 1/", people)
    assert sql_of(statement).startswith(f"COPY INTO '@{stage.name}/path 1/' FROM people")
    (result,) = run(statement)
    assert result["rows_unloaded"] == 3
    (path,) = files_under(databend.stage_dir(stage.name))
    assert path.startswith("path 1/data_")


def test_copy_through_a_stage_uses_the_stage_format(databend, unique_name):
    """A COPY without a format of its own reads and writes with its stage's format."""
    from sqla_stage import CopyInto, CreateStage, ListFiles, Parquet, Stage

    name = unique_name("pq")
    stage = Stage(name, file_format=Parquet())
    databend.sql("CREATE TABLE pq_src (id INT, name STRING)")
    databend.sql("INSERT INTO pq_src VALUES (1, 'a'), (2, 'b')")
    databend.sql("CREATE TABLE pq_dst (id INT, name STRING)")
    databend.sql(sql_of(CreateStage(stage)))
    unload = sql_of(CopyInto(stage / "d/", sa.table("pq_src")))
    assert "TYPE = PARQUET" in unload
    assert databend.sql(unload)[0]["rows_unloaded"] == 2
    names = [row["name"] for row in databend.sql(sql_of(ListFiles(stage / "d/")))]
    assert names and all(name.endswith(".parquet") for name in names)
    databend.sql(sql_of(CopyInto(sa.table("pq_dst"), stage / "d/")))
    assert sorted(r["id"] for r in databend.sql("SELECT id FROM pq_dst")) == [1, 2]
