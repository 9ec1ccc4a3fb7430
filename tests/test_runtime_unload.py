"""COPY INTO <location> (unload) on the DuckDB runtime: files on disk, decoded."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pytest
import sqlalchemy as sa

from sqla_stage import CSV, JSON, CopyInto, FileFormat, Parquet, Stage
from sqla_stage.errors import StageArgumentError, StageRuntimeError

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

md = sa.MetaData()
orderstiny = sa.Table(
    "orderstiny",
    md,
    sa.Column("o_orderkey", sa.Integer),
    sa.Column("o_custkey", sa.Integer),
    sa.Column("o_comment", sa.String),
)
home_sales = sa.Table(
    "home_sales",
    md,
    *(sa.Column(name, sa.String) for name in ("city", "state", "zip", "type", "price")),
    sa.Column("sale_date", sa.String),
)
ORDERS = [
    (1, 36901, "nstructions sleep furiously among"),
    (2, 78002, " foxes. pending accounts at the pending, silent asymptot"),
    (3, 123314, 'sly final "accounts" boost'),
    (4, 136777, "sits. slyly regular warthogs"),
    (5, 44485, "quickly. bold deposits"),
    (6, 55624, "ironic"),
]
#: Unenclosed (Snowflake's default): the delimiter escaped as in spec 004's example, '"' data.
ORDER_LINES = [
    "1,36901,nstructions sleep furiously among",
    "2,78002, foxes. pending accounts at the pending\\, silent asymptot",
    '3,123314,sly final "accounts" boost',
    "4,136777,sits. slyly regular warthogs",
    "5,44485,quickly. bold deposits",
    "6,55624,ironic",
]


# Helpers


def stages(tmp_path: Path) -> Path:
    return tmp_path / "stages" / "stage"


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (scratch folders included), as sorted relative paths."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def gunzip_text(path: Path) -> str:
    with gzip.open(path, "rt", newline="") as stream:
        return stream.read()


def lines(text: str) -> list[str]:
    return text.splitlines()


def parquet_rows(path: Path | str, order: str = "1") -> list[tuple[Any, ...]]:
    with duckdb.connect() as db:
        return db.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY {order}").fetchall()


def parquet_columns(path: Path) -> list[str]:
    with duckdb.connect() as db:
        db.execute(f"SELECT * FROM read_parquet('{path}') LIMIT 0")
        return [column[0] for column in db.description]


@pytest.fixture
def db(engine: Any) -> Any:
    """The engine with ``orderstiny``, ``home_sales`` and the named format ``myformat``."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE orderstiny (o_orderkey INTEGER, o_custkey INTEGER, o_comment VARCHAR)"
        )
        conn.execute(
            orderstiny.insert(),
            [
                dict(zip(("o_orderkey", "o_custkey", "o_comment"), row, strict=True))
                for row in ORDERS
            ],
        )
        conn.exec_driver_sql(
            "CREATE TABLE home_sales (city VARCHAR, state VARCHAR, zip VARCHAR, type VARCHAR,"
            " price VARCHAR, sale_date VARCHAR)"
        )
        conn.exec_driver_sql(
            "INSERT INTO home_sales VALUES "
            "('Lexington', 'MA', '95815', 'Residential', '268880', '3/28/17'), "
            "('Belmont', 'MA', '95815', 'Residential', '', '2/21/17'), "
            "('Winchester', 'MA', NULL, 'Residential', '', '1/31/17')"
        )
        conn.exec_driver_sql("CREATE FILE FORMAT myformat TYPE = CSV")
        conn.exec_driver_sql("CREATE STAGE my_stage")
    return engine


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh ``memory://`` folder, removed afterwards."""
    root = f"sqla-unload-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{root}"):
        fs.rm(f"/{root}", recursive=True)


# The spec's examples, as text and as constructs


@pytest.mark.parametrize("form", ["text", "construct"])
def test_table_to_table_stage_with_named_format(db: Any, tmp_path: Path, form: str) -> None:
    with db.begin() as conn:
        if form == "text":
            result = conn.exec_driver_sql(
                "COPY INTO @%orderstiny/result/data_\n"
                "  FROM orderstiny FILE_FORMAT = (FORMAT_NAME ='myformat' COMPRESSION='GZIP');"
            )
        else:
            result = conn.execute(
                CopyInto(
                    Stage.table(orderstiny) / "result/data_",
                    orderstiny,
                    file_format=FileFormat("myformat", compression="gzip"),
                )
            )
        row = result.mappings().one()
    folder = stages(tmp_path) / "table" / "orderstiny"
    assert files_under(folder) == ["result/data_0_0_0.csv.gz"]
    text = gunzip_text(folder / "result" / "data_0_0_0.csv.gz")
    assert sorted(lines(text)) == ORDER_LINES
    assert dict(row) == {
        "rows_unloaded": 6,
        "input_bytes": len(text.encode()),
        "output_bytes": (folder / "result" / "data_0_0_0.csv.gz").stat().st_size,
    }


@pytest.mark.parametrize("form", ["text", "construct"])
def test_query_to_named_internal_stage(db: Any, tmp_path: Path, form: str) -> None:
    with db.begin() as conn:
        if form == "text":
            conn.exec_driver_sql(
                "COPY INTO @my_stage/result/data_ FROM (SELECT * FROM orderstiny)\n"
                "   file_format=(format_name='myformat' compression='gzip');"
            )
        else:
            conn.execute(
                CopyInto(
                    Stage("my_stage") / "result/data_",
                    sa.select(orderstiny),
                    file_format=FileFormat("myformat", compression="gzip"),
                )
            )
        listed = conn.exec_driver_sql("LIST @my_stage").all()
    folder = stages(tmp_path) / "internal" / "my_stage"
    assert files_under(folder) == ["result/data_0_0_0.csv.gz"]
    assert [r.name for r in listed] == ["result/data_0_0_0.csv.gz"]
    assert sorted(lines(gunzip_text(folder / "result" / "data_0_0_0.csv.gz"))) == ORDER_LINES


@pytest.mark.parametrize("form", ["text", "construct"])
def test_null_if_keeps_nulls_and_empty_fields(db: Any, tmp_path: Path, form: str) -> None:
    with db.begin() as conn:
        if form == "text":
            conn.exec_driver_sql(
                "copy into @~ from HOME_SALES\n"
                "file_format=(type=csv null_if = ('NULL', 'null')\n"
                "empty_field_as_null=false);"
            )
        else:
            conn.execute(
                CopyInto(
                    Stage.user(),
                    home_sales,
                    file_format=CSV(null_if=("NULL", "null"), empty_field_as_null=False),
                )
            )
    folder = stages(tmp_path) / "user" / "alice"
    assert files_under(folder) == ["data_0_0_0.csv.gz"]
    assert sorted(lines(gunzip_text(folder / "data_0_0_0.csv.gz"))) == [
        "Belmont,MA,95815,Residential,,2/21/17",
        "Lexington,MA,95815,Residential,268880,3/28/17",
        "Winchester,MA,NULL,Residential,,1/31/17",
    ]


@pytest.mark.parametrize("form", ["text", "construct"])
def test_single_file_is_named_data(db: Any, tmp_path: Path, form: str) -> None:
    with db.begin() as conn:
        if form == "text":
            conn.exec_driver_sql("copy into @~ from HOME_SALES\nsingle = true;")
        else:
            conn.execute(CopyInto(Stage.user(), home_sales, single=True))
    folder = stages(tmp_path) / "user" / "alice"
    assert files_under(folder) == ["data"]
    assert sorted(lines(gunzip_text(folder / "data"))) == [
        "Belmont,MA,95815,Residential,,2/21/17",
        "Lexington,MA,95815,Residential,268880,3/28/17",
        "Winchester,MA,\\N,Residential,,1/31/17",
    ]


@pytest.mark.parametrize("form", ["text", "construct"])
def test_include_query_id_parquet(engine: Any, tmp_path: Path, form: str) -> None:
    t1 = sa.Table("t1", sa.MetaData(), sa.Column("a", sa.Integer), sa.Column("b", sa.String))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t1 (a INTEGER, b VARCHAR)")
        conn.exec_driver_sql("INSERT INTO t1 VALUES (1, 'x'), (2, 'y')")
        if form == "text":
            conn.exec_driver_sql(
                "COPY INTO @%t1\n  FROM t1\n  FILE_FORMAT=(TYPE=parquet)\n  INCLUDE_QUERY_ID=true;"
            )
        else:
            conn.execute(
                CopyInto(Stage.table(t1), t1, file_format=Parquet(), include_query_id=True)
            )
        listed = conn.exec_driver_sql("LS @%t1").all()
    folder = stages(tmp_path) / "table" / "t1"
    (name,) = files_under(folder)
    assert re.fullmatch(rf"data_{UUID}_0_0_0\.snappy\.parquet", name)
    assert [r.name for r in listed] == [name]
    assert parquet_rows(folder / name) == [(1, "x"), (2, "y")]
    assert parquet_columns(folder / name) == ["col1", "col2"]  # HEADER = FALSE: generic


@pytest.mark.parametrize("form", ["text", "construct"])
def test_validation_mode_returns_rows_and_writes_nothing(
    db: Any, tmp_path: Path, form: str
) -> None:
    with db.begin() as conn:
        if form == "text":
            result = conn.exec_driver_sql(
                "COPY INTO @my_stage\nFROM (SELECT * FROM orderstiny LIMIT 5)\n"
                "VALIDATION_MODE='RETURN_ROWS';"
            )
        else:
            result = conn.execute(
                CopyInto(
                    Stage("my_stage"),
                    sa.select(orderstiny).order_by(orderstiny.c.o_orderkey).limit(5),
                    validation_mode="RETURN_ROWS",
                )
            )
        rows = result.all()
    assert sorted(tuple(r) for r in rows) == ORDERS[:5]
    assert files_under(tmp_path / "stages") == []


# Copy options


def test_max_file_size_splits_into_several_files(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE big AS SELECT i AS id, md5(i::VARCHAR) AS h FROM range(60000) r(i)"
        )
        detail = conn.exec_driver_sql(
            "COPY INTO @~/big/part_ FROM big MAX_FILE_SIZE = 200000 DETAILED_OUTPUT = TRUE"
        ).all()
    folder = stages(tmp_path) / "user" / "alice" / "big"
    names = files_under(folder)
    assert len(names) > 2
    assert names == sorted(f"part_0_0_{n}.csv.gz" for n in range(len(names)))
    ids = []
    for name in names:
        size = (folder / name).stat().st_size
        assert size < 2 * 200000
        ids += [int(line.split(",")[0]) for line in lines(gunzip_text(folder / name))]
    assert sorted(ids) == list(range(60000))
    assert sorted(r.file_name for r in detail) == [f"big/{n}" for n in names]
    assert sum(r.row_count for r in detail) == 60000
    for r in detail:
        assert r.file_size == (folder / r.file_name.removeprefix("big/")).stat().st_size
        assert r.row_count == len(lines(gunzip_text(folder / r.file_name.removeprefix("big/"))))


def test_overwrite_false_refuses_and_true_replaces(db: Any, tmp_path: Path) -> None:
    folder = stages(tmp_path) / "internal" / "my_stage" / "out"
    (folder / "keep").mkdir(parents=True)
    (folder / "keep" / "other.csv").write_text("untouched")
    with db.begin() as conn:
        conn.exec_driver_sql("COPY INTO @my_stage/out/ FROM orderstiny")
    first = (folder / "data_0_0_0.csv.gz").read_bytes()
    with (
        db.begin() as conn,
        pytest.raises(StageRuntimeError, match="Files already existing at the unload"),
    ):
        conn.exec_driver_sql(
            "COPY INTO @my_stage/out/ FROM (SELECT * FROM orderstiny WHERE o_orderkey = 1)"
        )
    assert (folder / "data_0_0_0.csv.gz").read_bytes() == first
    assert files_under(folder) == ["data_0_0_0.csv.gz", "keep/other.csv"]
    with db.begin() as conn:
        conn.execute(
            CopyInto(
                Stage("my_stage") / "out/",
                sa.select(orderstiny).where(orderstiny.c.o_orderkey == 1),
                overwrite=True,
            )
        )
    assert lines(gunzip_text(folder / "data_0_0_0.csv.gz")) == [ORDER_LINES[0]]
    assert files_under(folder) == ["data_0_0_0.csv.gz", "keep/other.csv"]
    assert (folder / "keep" / "other.csv").read_text() == "untouched"


@pytest.mark.parametrize("detailed", [False, True])
def test_no_rows_writes_no_file(db: Any, tmp_path: Path, detailed: bool) -> None:
    with db.begin() as conn:
        result = conn.execute(
            CopyInto(
                Stage("my_stage") / "empty/",
                sa.select(orderstiny).where(orderstiny.c.o_orderkey > 100),
                detailed_output=detailed,
            )
        ).all()
    if detailed:
        assert result == []
    else:
        assert [tuple(r) for r in result] == [(0, 0, 0)]
    assert files_under(tmp_path / "stages") == []
    assert not (stages(tmp_path) / "internal" / "my_stage" / "empty").exists()


def test_select_with_bound_parameters(db: Any, tmp_path: Path) -> None:
    query = sa.select(orderstiny.c.o_orderkey, orderstiny.c.o_comment).where(
        orderstiny.c.o_orderkey > 3,
        orderstiny.c.o_comment.in_(["ironic", "quickly. bold deposits"]),
    )
    with db.begin() as conn:
        conn.execute(CopyInto(Stage.user() / "p/", query, file_format=CSV(compression=None)))
        conn.exec_driver_sql(
            "COPY INTO @~/q/ FROM (SELECT o_orderkey::VARCHAR || ':x' AS k FROM orderstiny "
            "WHERE o_orderkey < $1)"
            " FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)",
            (3,),
        )
        conn.execute(
            CopyInto(
                Stage.user() / "r/",
                sa.text("SELECT o_orderkey FROM orderstiny WHERE o_orderkey > :x").bindparams(x=4),
                file_format=CSV(compression=None),
            )
        )
        conn.execute(
            sa.text(
                "COPY INTO @~/s/ FROM (SELECT o_orderkey FROM orderstiny WHERE o_orderkey = :k)"
                " FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
            ),
            {"k": 2},
        )
    folder = stages(tmp_path) / "user" / "alice"
    assert sorted(lines((folder / "r" / "data_0_0_0.csv").read_text())) == ["5", "6"]
    assert lines((folder / "s" / "data_0_0_0.csv").read_text()) == ["2"]
    assert sorted(lines((folder / "p" / "data_0_0_0.csv").read_text())) == [
        "5,quickly. bold deposits",
        "6,ironic",
    ]
    assert sorted(lines((folder / "q" / "data_0_0_0.csv").read_text())) == ["1:x", "2:x"]


def test_detailed_output_rows(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        rows = conn.exec_driver_sql(
            "COPY INTO @my_stage/d/x_ FROM (SELECT orderstiny FROM orderstiny) "
            "FILE_FORMAT = (TYPE = JSON) "
            "DETAILED_OUTPUT = TRUE"
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "d/x_0_0_0.json.gz",
            (stages(tmp_path) / "internal" / "my_stage" / "d" / "x_0_0_0.json.gz").stat().st_size,
            6,
        )
    ]
    assert [c for c in rows[0]._fields] == ["file_name", "file_size", "row_count"]


def test_partition_by_writes_a_folder_per_value(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        rows = conn.exec_driver_sql(
            "COPY INTO @my_stage/sales/ FROM home_sales "
            "PARTITION BY ('zip=' || zip || '/state=' || state) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) DETAILED_OUTPUT = TRUE"
        ).all()
        conn.execute(
            CopyInto(
                Stage("my_stage") / "by_city/c_",
                home_sales,
                partition_by=sa.func.lower(home_sales.c.city),
                file_format=Parquet(),
                header=True,
            )
        )
    folder = stages(tmp_path) / "internal" / "my_stage"
    assert files_under(folder / "sales") == [
        "_NULL_/data_0_0_0.csv",
        "zip=95815/state=MA/data_0_0_0.csv",
    ]
    assert sorted((r.file_name, r.row_count) for r in rows) == [
        ("sales/_NULL_/data_0_0_0.csv", 1),
        ("sales/zip=95815/state=MA/data_0_0_0.csv", 2),
    ]
    assert lines((folder / "sales" / "_NULL_" / "data_0_0_0.csv").read_text()) == [
        "Winchester,MA,\\N,Residential,,1/31/17"
    ]
    assert files_under(folder / "by_city") == [
        f"{city}/c_0_0_0.snappy.parquet" for city in ("belmont", "lexington", "winchester")
    ]
    lexington = folder / "by_city" / "lexington" / "c_0_0_0.snappy.parquet"
    assert parquet_rows(lexington) == [
        ("Lexington", "MA", "95815", "Residential", "268880", "3/28/17")
    ]
    assert parquet_columns(lexington) == ["city", "state", "zip", "type", "price", "sale_date"]


def test_query_parameters_and_partition_literals_together(db: Any, tmp_path: Path) -> None:
    query = sa.select(home_sales).where(home_sales.c.city != sa.bindparam("skip"))
    with db.begin() as conn:
        result = conn.execute(
            CopyInto(
                Stage("my_stage") / "p/",
                query,
                partition_by=sa.func.concat(sa.literal("state="), home_sales.c.state),
                file_format=CSV(compression=None),
            ),
            {"skip": "Belmont"},
        ).one()
    assert result.rows_unloaded == 2
    folder = stages(tmp_path) / "internal" / "my_stage" / "p"
    assert files_under(folder) == ["state=MA/data_0_0_0.csv"]


def test_partition_by_cannot_be_single(db: Any) -> None:
    with db.begin() as conn, pytest.raises(StageRuntimeError, match="PARTITION BY"):
        conn.exec_driver_sql("COPY INTO @~/x/ FROM home_sales PARTITION BY (state) SINGLE = TRUE")


def test_single_named_file_and_size_limit(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO '@~/path 1/file 1.csv' FROM orderstiny "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) SINGLE = TRUE HEADER = TRUE"
        )
        with pytest.raises(StageRuntimeError, match=r"Max file size \(50\) exceeded"):
            conn.exec_driver_sql(
                "COPY INTO @~/big.csv FROM orderstiny SINGLE = TRUE MAX_FILE_SIZE = 50"
            )
    folder = stages(tmp_path) / "user" / "alice"
    assert files_under(folder) == ["path 1/file 1.csv"]
    text = (folder / "path 1" / "file 1.csv").read_text()
    assert lines(text)[0] == "o_orderkey,o_custkey,o_comment"
    assert sorted(lines(text)[1:]) == ORDER_LINES


# Format options


def test_header_and_delimiters(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO @~/h/ FROM (SELECT * FROM orderstiny WHERE o_orderkey <= 2) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE FIELD_DELIMITER = '|' "
            "RECORD_DELIMITER = '\\r\\n') HEADER = TRUE"
        )
    folder = stages(tmp_path) / "user" / "alice"
    data = (folder / "h" / "data_0_0_0.csv").read_bytes()
    assert data.split(b"\r\n") == [
        b"o_orderkey|o_custkey|o_comment",
        b"1|36901|nstructions sleep furiously among",
        b"2|78002| foxes. pending accounts at the pending, silent asymptot",
        b"",
    ]


def test_zstd_tab_and_hexadecimal_delimiters(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.execute(
            CopyInto(
                Stage.user() / "t/",
                sa.select(orderstiny).where(orderstiny.c.o_orderkey <= 2),
                file_format=CSV(compression="zstd", field_delimiter="\\t", record_delimiter="0x3B"),
            )
        )
    folder = stages(tmp_path) / "user" / "alice" / "t"
    assert files_under(folder) == ["data_0_0_0.csv.zst"]
    with duckdb.connect() as local:  # the whole decompressed file as one value
        (text,) = local.execute(
            f"SELECT * FROM read_csv('{folder / 'data_0_0_0.csv.zst'}', compression = 'zstd', "
            "header = false, auto_detect = false, columns = {'all': 'VARCHAR'}, "
            "delim = '\x01', quote = '', new_line = '\\n')"
        ).fetchone() or ("",)
    assert text.split(";") == [
        "1\t36901\tnstructions sleep furiously among",
        "2\t78002\t foxes. pending accounts at the pending, silent asymptot",
        "",
    ]


def test_enclosure_escape_and_file_extension(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO @~/e/ FROM (SELECT o_orderkey, o_comment, NULL::VARCHAR AS n, '' AS e "
            "FROM orderstiny WHERE o_orderkey IN (2, 3)) FILE_FORMAT = (TYPE = CSV "
            "COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE = '\\\\' "
            "NULL_IF = ('NULL') FILE_EXTENSION = 'txt')"
        )
        with pytest.raises(StageRuntimeError, match="NULL_IF"):
            conn.exec_driver_sql(
                "COPY INTO @~/e2/ FROM orderstiny FILE_FORMAT = (TYPE = CSV ESCAPE = '\\\\' "
                "FIELD_OPTIONALLY_ENCLOSED_BY = '\"')"
            )
    folder = stages(tmp_path) / "user" / "alice" / "e"
    assert files_under(folder) == ["data_0_0_0.txt"]
    assert sorted(lines((folder / "data_0_0_0.txt").read_text())) == [
        '2," foxes. pending accounts at the pending, silent asymptot",NULL,""',
        '3,"sly final \\"accounts\\" boost",NULL,""',
    ]


def test_dates_times_and_binary(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ev (d DATE, t TIME, ts TIMESTAMP, b BLOB)")
        conn.exec_driver_sql(
            "INSERT INTO ev VALUES (DATE '2024-03-09', TIME '07:05:03', "
            "TIMESTAMP '2024-03-09 07:05:03.250', '\\x00\\xFFhi'::BLOB)"
        )
        conn.exec_driver_sql(
            "COPY INTO @~/default/ FROM ev FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
        )
        conn.exec_driver_sql(
            "COPY INTO @~/fmt/ FROM ev FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE "
            "DATE_FORMAT = 'DD/MM/YYYY' TIME_FORMAT = 'HH24.MI' "
            "TIMESTAMP_FORMAT = 'YYYY-MM-DD\"T\"HH24:MI:SS.FF3' BINARY_FORMAT = BASE64)"
        )
        conn.execute(
            sa.text(
                "COPY INTO @~/utf8/ FROM (SELECT encode('hé') AS b) "
                "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE BINARY_FORMAT = UTF8)"
            )
        )
    folder = stages(tmp_path) / "user" / "alice"
    assert (folder / "default" / "data_0_0_0.csv").read_text() == (
        "2024-03-09,07:05:03,2024-03-09 07:05:03.25,00FF6869\n"
    )
    encoded = base64.b64encode(b"\x00\xffhi").decode()
    assert (folder / "fmt" / "data_0_0_0.csv").read_text() == (
        f"09/03/2024,07.05,2024-03-09T07:05:03.250,{encoded}\n"
    )
    assert (folder / "utf8" / "data_0_0_0.csv").read_text() == "hé\n"


def test_json_of_columns_refused_and_struct_column(db: Any, tmp_path: Path) -> None:
    with (
        db.begin() as conn,
        pytest.raises(StageRuntimeError, match="one and only one column of type variant"),
    ):
        conn.execute(
            CopyInto(
                Stage.user() / "j/",
                sa.select(orderstiny.c.o_orderkey, orderstiny.c.o_comment).where(
                    orderstiny.c.o_orderkey <= 2
                ),
                file_format=JSON(),
            )
        )
    assert files_under(tmp_path / "stages") == []
    with db.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO @~/v/ FROM (SELECT {'key': o_orderkey, 'tags': [o_custkey]} AS v "
            "FROM orderstiny WHERE o_orderkey = 1) FILE_FORMAT = (TYPE = JSON COMPRESSION = NONE)"
        )
    folder = stages(tmp_path) / "user" / "alice"
    assert json.loads((folder / "v" / "data_0_0_0.json").read_text()) == {
        "key": 1,
        "tags": [36901],
    }


def test_parquet_uncompressed_and_input_bytes(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        row = conn.execute(
            CopyInto(Stage.user(), orderstiny, file_format=Parquet(compression=None), header=True)
        ).one()
    path = stages(tmp_path) / "user" / "alice" / "data_0_0_0.parquet"
    assert parquet_rows(path) == ORDERS
    with duckdb.connect() as local:
        (uncompressed,) = local.execute(
            f"SELECT sum(total_uncompressed_size) FROM parquet_metadata('{path}')"
        ).fetchone() or (0,)
    assert tuple(row) == (6, uncompressed, path.stat().st_size)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("FILE_FORMAT = (TYPE = PARQUET COMPRESSION = LZO)", "COMPRESSION = LZO"),
        ("FILE_FORMAT = (TYPE = CSV RECORD_DELIMITER = NONE)", "RECORD_DELIMITER = NONE"),
    ],
)
def test_unsupported_format_options(db: Any, tmp_path: Path, options: str, message: str) -> None:
    with db.begin() as conn, pytest.raises(StageRuntimeError, match=re.escape(message)):
        conn.exec_driver_sql(f"COPY INTO @~/x/ FROM orderstiny {options}")
    assert files_under(tmp_path / "stages") == []


# Locations


def test_url_locations(db: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with db.begin() as conn:
        conn.exec_driver_sql(f"COPY INTO 'file://{out}/' FROM orderstiny")
        conn.execute(CopyInto(f"{tmp_path}/plain/rows_", orderstiny, file_format=Parquet()))
    assert files_under(out) == ["data_0_0_0.csv.gz"]
    assert sorted(lines(gunzip_text(out / "data_0_0_0.csv.gz"))) == ORDER_LINES
    assert files_under(tmp_path / "plain") == ["rows_0_0_0.snappy.parquet"]
    assert parquet_rows(tmp_path / "plain" / "rows_0_0_0.snappy.parquet") == ORDERS


def test_memory_external_stage(db: Any, memory_root: str) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE m URL='memory://{memory_root}/m/'")
        conn.exec_driver_sql("COPY INTO @m/p/ FROM orderstiny")
        conn.execute(CopyInto(Stage("m") / "q/pq_", orderstiny, file_format=Parquet()))
        listed = [r.name for r in conn.exec_driver_sql("LIST @m")]
        with pytest.raises(StageRuntimeError, match="Files already existing"):
            conn.exec_driver_sql("COPY INTO @m/p/ FROM orderstiny")
    assert listed == ["p/data_0_0_0.csv.gz", "q/pq_0_0_0.snappy.parquet"]
    fs = fsspec.filesystem("memory")
    with fs.open(f"/{memory_root}/m/p/data_0_0_0.csv.gz", "rb") as stream:
        text = gzip.decompress(stream.read()).decode()
    assert sorted(lines(text)) == ORDER_LINES
    with fs.open(f"/{memory_root}/m/q/pq_0_0_0.snappy.parquet", "rb") as stream:
        data = stream.read()
    with duckdb.connect() as local:
        local.register_filesystem(fs)
        rows = local.execute(
            f"SELECT * FROM read_parquet('memory:///{memory_root}/m/q/pq_0_0_0.snappy.parquet') "
            "ORDER BY 1"
        ).fetchall()
    assert data[:4] == b"PAR1"
    assert rows == ORDERS


def test_keywords_in_any_case(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "copy into @~/lc/ from orderstiny file_format=(type=csv compression=none) "
            "header=true detailed_output=true max_file_size=1000000"
        )
    text = (stages(tmp_path) / "user" / "alice" / "lc" / "data_0_0_0.csv").read_text()
    assert lines(text)[0] == "o_orderkey,o_custkey,o_comment"
    assert len(lines(text)) == 7


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("COPY INTO @nope/x/ FROM orderstiny", "stage @nope does not exist"),
        ("COPY INTO @%nope FROM orderstiny", "table nope does not exist"),
        (
            "COPY INTO @my_stage/x/ FROM orderstiny FILE_FORMAT = (FORMAT_NAME = 'missing')",
            "file format 'missing' does not exist",
        ),
        (
            "COPY INTO @~ FROM orderstiny FILE_FORMAT = (FORMAT_NAME = missing) "
            "VALIDATION_MODE = 'RETURN_ROWS'",
            "file format 'missing' does not exist",
        ),
    ],
)
def test_bad_input_writes_nothing(db: Any, tmp_path: Path, statement: str, message: str) -> None:
    def outside_database() -> list[str]:
        return [name for name in files_under(tmp_path) if not name.startswith("app.duckdb")]

    before = outside_database()
    with db.begin() as conn, pytest.raises(StageRuntimeError, match=re.escape(message)):
        conn.exec_driver_sql(statement)
    assert outside_database() == before
    assert files_under(tmp_path / "stages") == []


def test_failing_query_leaves_no_scratch(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn, pytest.raises(sa.exc.DBAPIError):
        conn.exec_driver_sql(
            "COPY INTO @my_stage/bad/ FROM (SELECT CAST(o_comment AS INTEGER) FROM orderstiny)"
        )
    assert files_under(tmp_path / "stages") == []


def test_include_query_id_with_overwrite_is_refused() -> None:
    with pytest.raises(StageArgumentError, match="include_query_id"):
        CopyInto(Stage.user(), orderstiny, include_query_id=True, overwrite=True)


def test_csv_reads_back_with_the_same_dialect(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO @~/rt/ FROM orderstiny FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
        )
    text = (stages(tmp_path) / "user" / "alice" / "rt" / "data_0_0_0.csv").read_text()
    unenclosed = csv.reader(io.StringIO(text), escapechar="\\", quoting=csv.QUOTE_NONE)
    parsed = sorted((int(a), int(b), c) for a, b, c in unenclosed)
    assert parsed == ORDERS


def test_single_parquet_detailed_and_stage_format(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        one = conn.exec_driver_sql(
            "COPY INTO @~/one.parquet FROM orderstiny FILE_FORMAT = (TYPE = PARQUET) "
            "SINGLE = TRUE DETAILED_OUTPUT = TRUE HEADER = TRUE"
        ).one()
        conn.exec_driver_sql("CREATE STAGE js FILE_FORMAT = (TYPE = JSON COMPRESSION = NONE)")
        conn.exec_driver_sql("COPY INTO @js FROM (SELECT {'a': 1} AS v)")
    path = stages(tmp_path) / "user" / "alice" / "one.parquet"
    assert tuple(one) == ("one.parquet", path.stat().st_size, 6)
    assert parquet_rows(path) == ORDERS
    js = stages(tmp_path) / "internal" / "js"
    assert files_under(js) == ["data_0_0_0.json"]
    assert json.loads((js / "data_0_0_0.json").read_text()) == {"a": 1}


def test_detailed_output_with_a_custom_record_delimiter(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE big AS SELECT i AS id, md5(i::VARCHAR) AS h FROM range(60000) r(i)"
        )
        one = conn.exec_driver_sql(
            "COPY INTO @~/one/ FROM (SELECT * FROM big LIMIT 10) "
            "FILE_FORMAT = (TYPE = CSV RECORD_DELIMITER = ';') DETAILED_OUTPUT = TRUE"
        ).one()
        assert tuple(one)[::2] == ("one/data_0_0_0.csv.gz", 10)
        # The runtime cuts the files at the delimiters it counted: it knows each file's rows.
        many = conn.exec_driver_sql(
            "COPY INTO @~/many/ FROM big FILE_FORMAT = (TYPE = CSV RECORD_DELIMITER = ';') "
            "MAX_FILE_SIZE = 100000 DETAILED_OUTPUT = TRUE"
        ).all()
    folder = stages(tmp_path) / "user" / "alice"
    assert len(many) > 5 and sum(row.row_count for row in many) == 60000
    for row in many:
        plain = gzip.decompress((folder / row.file_name).read_bytes())
        assert plain.count(b";") == row.row_count and row.file_size <= 100000


@pytest.mark.parametrize(
    ("empty_field_as_null", "expected"),
    [
        # TRUE, the default: no enclosure was asked for, so none is written; NULL and ''
        # are indistinguishable (Snowflake's unload considerations say so)
        (None, ["Belmont,", "Lexington,268880", "Winchester,"]),
        (False, ["Belmont,", "Lexington,268880", "Winchester,"]),
    ],
)
def test_null_as_empty_field_and_empty_strings(
    db: Any, tmp_path: Path, empty_field_as_null: bool | None, expected: list[str]
) -> None:
    query = sa.select(
        home_sales.c.city,
        sa.case((home_sales.c.city == "Belmont", sa.null()), else_=home_sales.c.price),
    )
    given = {} if empty_field_as_null is None else {"empty_field_as_null": empty_field_as_null}
    fmt = CSV(compression=None, null_if=(), **given)
    with db.begin() as conn:
        conn.execute(CopyInto(Stage.user() / "e/", query, file_format=fmt))
    text = (stages(tmp_path) / "user" / "alice" / "e" / "data_0_0_0.csv").read_text()
    assert sorted(lines(text)) == expected
