"""Spec 004's usage notes on COPY INTO <location>, and options once accepted but ignored.

Each refusal is checked to leave the stages untouched (no file, no scratch folder): the
runtime refuses before it writes anything.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import CSV, CopyInto, CreateStage, Stage
from sqla_stage.errors import StageDataError, StageProgrammingError

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder``, as sorted relative paths."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def stage_folder(tmp_path: Path, name: str = "s") -> Path:
    return tmp_path / "stages" / "stage" / "internal" / name


@pytest.fixture
def db(engine: Any) -> Any:
    """Table ``t`` (two rows, three columns) and stage ``s`` with a file already in it."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR, city VARCHAR)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, 'Ryan', 'Salt Lake'), (2, NULL, 'Ely')")
        conn.exec_driver_sql("CREATE STAGE s")
    return engine


@pytest.fixture
def before(db: Any, tmp_path: Path) -> list[str]:
    """The stages' files before the statement: one file put in stage ``s``."""
    folder = stage_folder(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keep.txt").write_text("kept")
    return files_under(tmp_path / "stages")


def refused(
    engine: Any, sql: str, tmp_path: Path, before: list[str], match: str, error: type = Exception
) -> str:
    """Run ``sql``, expect ``error`` matching ``match``, and check nothing was written."""
    with engine.begin() as conn, pytest.raises(error, match=match) as caught:
        conn.exec_driver_sql(sql)
    assert files_under(tmp_path / "stages") == before
    return str(caught.value)


# 1. SINGLE = TRUE with an explicit COMPRESSION: the name carries the extension


@pytest.mark.parametrize(
    ("compression", "extension"),
    [("GZIP", ".gz"), ("BZ2", ".bz2"), ("ZSTD", ".zst"), ("DEFLATE", ".deflate"),
     ("RAW_DEFLATE", ".raw_deflate")],
)  # fmt: skip
def test_single_compressed_file_needs_the_extension(
    db: Any, tmp_path: Path, before: list[str], compression: str, extension: str
) -> None:
    message = refused(
        db,
        f"COPY INTO @s/c/out.csv FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = {compression}) "
        "SINGLE = TRUE",
        tmp_path,
        before,
        f"SINGLE = TRUE with COMPRESSION = {compression}",
        StageProgrammingError,
    )
    assert f"must end with {extension!r}" in message and "'out.csv'" in message
    with db.begin() as conn:
        conn.exec_driver_sql(
            f"COPY INTO @s/c/out.csv{extension} FROM t "
            f"FILE_FORMAT = (TYPE = CSV COMPRESSION = {compression}) SINGLE = TRUE"
        )
        conn.exec_driver_sql(
            f"COPY INTO @s/d/OUT{extension.upper()} FROM t "
            f"FILE_FORMAT = (TYPE = CSV COMPRESSION = {compression}) SINGLE = TRUE"
        )
    assert files_under(stage_folder(tmp_path)) == [
        f"c/out.csv{extension}",
        f"d/OUT{extension.upper()}",
        "keep.txt",
    ]


def test_single_gzip_json_and_the_named_format(db: Any, tmp_path: Path, before: list[str]) -> None:
    refused(
        db,
        "COPY INTO @s/out.json FROM (SELECT {'id': id} AS v FROM t) "
        "FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP) SINGLE = TRUE",
        tmp_path,
        before,
        r"must end with '\.gz'",
        StageProgrammingError,
    )
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE FILE FORMAT gz TYPE = CSV COMPRESSION = GZIP")
    refused(
        db,
        "COPY INTO @s/out.csv FROM t FILE_FORMAT = (FORMAT_NAME = 'gz') SINGLE = TRUE",
        tmp_path,
        before,
        r"must end with '\.gz'",
        StageProgrammingError,
    )


def test_single_compressed_into_a_folder_is_refused(
    db: Any, tmp_path: Path, before: list[str]
) -> None:
    message = refused(
        db,
        "COPY INTO @s/c/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP) SINGLE = TRUE",
        tmp_path,
        before,
        "a path ending with '/'",
        StageProgrammingError,
    )
    assert "'data.gz'" in message


def test_single_auto_and_none_ask_for_no_extension(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("COPY INTO @s/a/out.csv FROM t SINGLE = TRUE")
        conn.exec_driver_sql(
            "COPY INTO @s/b/out.csv FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO) "
            "SINGLE = TRUE"
        )
        conn.exec_driver_sql(
            "COPY INTO @s/n/out.txt FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) "
            "SINGLE = TRUE"
        )
        conn.exec_driver_sql("COPY INTO @s/f/ FROM t SINGLE = TRUE")
    folder = stage_folder(tmp_path)
    assert files_under(folder) == ["a/out.csv", "b/out.csv", "f/data", "n/out.txt"]
    for name in ("a/out.csv", "b/out.csv", "f/data"):  # AUTO: gzip, named as the path says
        assert gzip.decompress((folder / name).read_bytes()).decode().splitlines() == [
            "1,Ryan,Salt Lake",
            "2,\\N,Ely",
        ]
    assert (folder / "n" / "out.txt").read_text().splitlines() == ["1,Ryan,Salt Lake", "2,\\N,Ely"]


def test_single_extension_rule_is_not_databend(make_engine: Any, tmp_path: Path) -> None:
    engine = make_engine(stage_dialect="databend")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(
            "COPY INTO @s/out.csv FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP) "
            "SINGLE = TRUE"
        )
    assert gzip.decompress((stage_folder(tmp_path) / "out.csv").read_bytes()) == b"1\n"


# 2. JSON unloads one VARIANT column


@pytest.mark.parametrize("dialect", [None, "snowflake", "matrixone"])
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("t", "3 column(s): id INTEGER, name VARCHAR, city VARCHAR"),
        ("(SELECT name FROM t)", "1 column(s): name VARCHAR"),
    ],
)
def test_json_of_other_columns_is_snowflakes_error(
    make_engine: Any, tmp_path: Path, dialect: str | None, query: str, found: str
) -> None:
    engine = make_engine(**({"stage_dialect": dialect} if dialect else {}))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR, city VARCHAR)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, 'a', 'b')")
        conn.exec_driver_sql("CREATE STAGE s")
    before = files_under(tmp_path / "stages")
    message = refused(
        engine,
        f"COPY INTO @s/j/ FROM {query} FILE_FORMAT = (TYPE = JSON)",
        tmp_path,
        before,
        re.escape(
            "JSON file format can produce one and only one column of type variant or object "
            "or array. Use CSV file format if you want to load more than one column."
        ),
        StageProgrammingError,
    )
    assert found in message


def test_json_writes_each_value_as_it_is(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE v AS SELECT * FROM (VALUES "
            "(1, '{\"a\": 1, \"b\": [1, 2]}'::JSON, {'x': 1, 'y': 'q'}, MAP {'k': 1}, [1, 2]),"
            "(2, '\"text, with a comma\"'::JSON, NULL, NULL, NULL),"
            "(3, NULL, {'x': NULL, 'y': 'r'}, MAP {}, []))"
            " AS v(n, j, st, m, l)"
        )
        for column in ("j", "st", "m", "l"):
            conn.exec_driver_sql(
                f"COPY INTO @s/{column}/ FROM (SELECT {column} FROM v ORDER BY n) "
                "FILE_FORMAT = (TYPE = JSON COMPRESSION = NONE) SINGLE = TRUE"
            )
    folder = stage_folder(tmp_path)
    read = {c: (folder / c / "data").read_text().splitlines() for c in ("j", "st", "m", "l")}
    assert read == {
        "j": ['{"a":1,"b":[1,2]}', '"text, with a comma"', "null"],
        "st": ['{"x":1,"y":"q"}', "null", '{"x":null,"y":"r"}'],
        "m": ['{"k":1}', "null", "{}"],
        "l": ["[1,2]", "null", "[]"],
    }


def test_json_split_files_count_their_rows(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        rows = conn.exec_driver_sql(
            "COPY INTO @s/d/x_ FROM (SELECT t AS row FROM t) FILE_FORMAT = (TYPE = JSON) "
            "DETAILED_OUTPUT = TRUE"
        ).all()
    path = stage_folder(tmp_path) / "d" / "x_0_0_0.json.gz"
    assert [tuple(r) for r in rows] == [("d/x_0_0_0.json.gz", path.stat().st_size, 2)]
    assert [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()] == [
        {"id": 1, "name": "Ryan", "city": "Salt Lake"},
        {"id": 2, "name": None, "city": "Ely"},
    ]


def test_snowflake_object_construct_example(make_engine: Any, tmp_path: Path) -> None:
    """docs.snowflake.com, "Unloading a relational table to JSON" (data unload considerations)."""
    engine = make_engine(stage_dialect="snowflake")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE mytable (id INTEGER NOT NULL, first_name VARCHAR, last_name VARCHAR,"
            " city VARCHAR, state VARCHAR)"
        )
        conn.exec_driver_sql(
            "INSERT INTO mytable (id, first_name, last_name, city, state) VALUES "
            "(1, 'Ryan', 'Dalton', 'Salt Lake City', 'UT'), "
            "(2, 'Upton', 'Conway', 'Birmingham', 'AL'), "
            "(3, 'Kibo', 'Horton', 'Columbus', 'GA')"
        )
        conn.exec_driver_sql("CREATE STAGE mystage")
        conn.exec_driver_sql(
            "COPY INTO @mystage\n"
            " FROM (SELECT OBJECT_CONSTRUCT('id', id, 'first_name', first_name, 'last_name', "
            "last_name, 'city', city, 'state', state) FROM mytable)\n"
            " FILE_FORMAT = (TYPE = JSON);"
        )
        conn.exec_driver_sql("CREATE STAGE star")
        conn.exec_driver_sql(
            "COPY INTO @star FROM (SELECT OBJECT_CONSTRUCT(*) FROM mytable "
            "UNION ALL SELECT OBJECT_CONSTRUCT('id', 4, 'city', NULL)) FILE_FORMAT = (TYPE = JSON)"
        )
    folder = stage_folder(tmp_path, "mystage")
    assert files_under(folder) == ["data_0_0_0.json.gz"]
    text = gzip.decompress((folder / "data_0_0_0.json.gz").read_bytes()).decode()
    assert sorted(text.splitlines()) == sorted(
        [
            '{"city":"Salt Lake City","first_name":"Ryan","id":1,"last_name":"Dalton",'
            '"state":"UT"}',
            '{"city":"Birmingham","first_name":"Upton","id":2,"last_name":"Conway","state":"AL"}',
            '{"city":"Columbus","first_name":"Kibo","id":3,"last_name":"Horton","state":"GA"}',
        ]
    )
    star = [  # UNION ALL: DuckDB may write each side on its own thread, to its own file
        line
        for path in (stage_folder(tmp_path, "star")).iterdir()
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]
    assert sorted(star) == sorted([*text.splitlines(), '{"id":4}'])


def test_databend_writes_row_objects(make_engine: Any, tmp_path: Path) -> None:
    engine = make_engine(stage_dialect="databend")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, 'a'), (2, NULL)")
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("COPY INTO @s/j/ FROM t FILE_FORMAT = (TYPE = NDJSON)")
        conn.exec_driver_sql(
            "COPY INTO @s/v/ FROM (SELECT {'id': id} AS v FROM t) FILE_FORMAT = (TYPE = NDJSON)"
        )
    folder = stage_folder(tmp_path)
    (rows,) = (folder / "j").iterdir()
    assert rows.name.endswith(".ndjson")
    assert sorted(rows.read_text().splitlines()) == ['{"id":1,"name":"a"}', '{"id":2,"name":null}']
    (values,) = (folder / "v").iterdir()
    assert sorted(values.read_text().splitlines()) == ['{"v":{"id":1}}', '{"v":{"id":2}}']


# 3. A prefix without a trailing separator names the files as Snowflake does


def test_prefix_names(db: Any, tmp_path: Path) -> None:
    url = (tmp_path / "ext").as_uri()
    with db.begin() as conn:
        conn.exec_driver_sql("COPY INTO @s/result/data_ FROM t")
        conn.exec_driver_sql("COPY INTO @s/result FROM t")
        conn.exec_driver_sql("COPY INTO @s/other/ FROM t")
        conn.exec_driver_sql("COPY INTO @s/q/part FROM t INCLUDE_QUERY_ID = TRUE")
        conn.exec_driver_sql(f"COPY INTO '{url}/unload/x' FROM t")
        conn.exec_driver_sql(f"COPY INTO '{url}/unload/' FROM t")
        conn.exec_driver_sql(f"COPY INTO '{url}/unload/y_' FROM t")
        listed = sorted(r.name for r in conn.exec_driver_sql("LIST @s").all())
    names = files_under(stage_folder(tmp_path))
    assert names[:3] == ["other/data_0_0_0.csv.gz", "q/" + names[1][2:], "result/data_0_0_0.csv.gz"]
    assert re.fullmatch(rf"q/part_{UUID}_0_0_0\.csv\.gz", names[1])
    assert names[3:] == ["result_0_0_0.csv.gz"]
    assert listed == names
    assert files_under(tmp_path / "ext") == [
        "unload/data_0_0_0.csv.gz",
        "unload/x_0_0_0.csv.gz",
        "unload/y_0_0_0.csv.gz",
    ]


def test_prefix_names_construct(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.execute(CopyInto(Stage("s") / "result", sa.table("t")))
    assert files_under(stage_folder(tmp_path)) == ["result_0_0_0.csv.gz"]


# 4. EMPTY_FIELD_AS_NULL = TRUE needs an enclosing character


@pytest.mark.parametrize("enclosure", ["", "FIELD_OPTIONALLY_ENCLOSED_BY = NONE"])
def test_empty_field_as_null_true_needs_an_enclosure(
    db: Any, tmp_path: Path, before: list[str], enclosure: str
) -> None:
    refused(
        db,
        f"COPY INTO @s/e/ FROM t FILE_FORMAT = (TYPE = CSV EMPTY_FIELD_AS_NULL = TRUE {enclosure})",
        tmp_path,
        before,
        "EMPTY_FIELD_AS_NULL = TRUE on an unload needs FIELD_OPTIONALLY_ENCLOSED_BY",
        StageProgrammingError,
    )
    with db.begin() as conn, pytest.raises(StageProgrammingError, match="EMPTY_FIELD_AS_NULL"):
        conn.execute(
            CopyInto(Stage("s") / "e/", sa.table("t"), file_format=CSV(empty_field_as_null=True))
        )
    assert files_under(tmp_path / "stages") == before


def test_empty_field_as_null_with_an_enclosure_or_by_default(db: Any, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (3, '', 'x')")
        conn.exec_driver_sql(
            "COPY INTO @s/q/ FROM (SELECT * FROM t ORDER BY id) FILE_FORMAT = (TYPE = CSV "
            "COMPRESSION = NONE EMPTY_FIELD_AS_NULL = TRUE FIELD_OPTIONALLY_ENCLOSED_BY = '\"') "
            "SINGLE = TRUE"
        )
        conn.exec_driver_sql(
            "COPY INTO @s/d/ FROM (SELECT * FROM t ORDER BY id) "
            "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) SINGLE = TRUE"
        )
    folder = stage_folder(tmp_path)
    assert (folder / "q" / "data").read_text().splitlines() == [
        '1,"Ryan","Salt Lake"',
        '2,\\N,"Ely"',
        '3,"","x"',
    ]
    assert (folder / "d" / "data").read_text().splitlines() == [
        "1,Ryan,Salt Lake",
        "2,\\N,Ely",
        "3,,x",
    ]


# 5. BINARY_FORMAT = UTF8 over bytes that are not UTF-8


def test_binary_utf8_names_the_column(db: Any, tmp_path: Path, before: list[str]) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE b (id INTEGER, good BLOB, bad BLOB)")
        conn.exec_driver_sql(
            "INSERT INTO b VALUES (1, 'ok'::BLOB, 'fine'::BLOB), "
            "(2, NULL, '\\xC3\\x28secret'::BLOB)"
        )
    message = refused(
        db,
        "COPY INTO @s/b/ FROM b FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = UTF8)",
        tmp_path,
        before,
        "BINARY_FORMAT = UTF8: the column 'bad' holds bytes that are not UTF-8",
        StageDataError,
    )
    assert "secret" not in message and "good" not in message
    with db.begin() as conn:
        conn.exec_driver_sql(
            "COPY INTO @s/ok/ FROM (SELECT id, good FROM b ORDER BY id) "
            "FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = UTF8 COMPRESSION = NONE) SINGLE = TRUE"
        )
        conn.exec_driver_sql(
            "COPY INTO @s/hex/ FROM (SELECT bad FROM b ORDER BY id) "
            "FILE_FORMAT = (TYPE = CSV BINARY_FORMAT = BASE64 COMPRESSION = NONE) SINGLE = TRUE"
        )
    folder = stage_folder(tmp_path)
    assert (folder / "ok" / "data").read_text().splitlines() == ["1,ok", "2,\\N"]
    encoded = (folder / "hex" / "data").read_text().splitlines()
    assert [base64.b64decode(line) for line in encoded] == [b"fine", b"\xc3\x28secret"]


# 6. A query string in a URL location


def test_url_query_string_is_refused(db: Any, tmp_path: Path, before: list[str]) -> None:
    message = refused(
        db,
        "COPY INTO 's3://bucket/unload/?region=us-west-2&foo=bar' FROM t",
        tmp_path,
        before,
        r"s3://bucket/unload/ has a query string \(foo, region\)",
        StageProgrammingError,
    )
    assert "us-west-2" not in message
    for sql in (
        "CREATE STAGE q URL = 's3://bucket/p?region=x'",
        "COPY INTO t FROM 's3://bucket/p/?versionId=3'",
        "CREATE STAGE q URL = 'azure://acct.blob.core.windows.net/c/p/?sv=1&sig=SECRET'",
    ):
        message = refused(db, sql, tmp_path, before, "has a query string", StageProgrammingError)
        assert "SECRET" not in message
    with db.connect() as conn:
        assert conn.exec_driver_sql("SHOW STAGES LIKE 'q'").all() == []


def test_question_mark_in_a_local_name_is_a_character(db: Any, tmp_path: Path) -> None:
    url = (tmp_path / "ext").as_uri()
    with db.begin() as conn:
        conn.exec_driver_sql(f"COPY INTO '{url}/what?/a?b_' FROM t")
    assert files_under(tmp_path / "ext") == ["what?/a?b_0_0_0.csv.gz"]


# 7. SNOWFLAKE_SSE / SNOWFLAKE_FULL on internal stages


@pytest.mark.parametrize("kind", ["SNOWFLAKE_SSE", "SNOWFLAKE_FULL"])
def test_internal_stage_encryption_is_refused(
    db: Any, tmp_path: Path, before: list[str], kind: str
) -> None:
    refused(
        db,
        f"CREATE STAGE inner ENCRYPTION = (TYPE = '{kind}')",
        tmp_path,
        before,
        f"ENCRYPTION = \\(TYPE = '{kind}'\\) is not applied by the DuckDB runtime",
        StageProgrammingError,
    )
    with db.begin() as conn, pytest.raises(StageProgrammingError, match="stored unencrypted"):
        conn.execute(CreateStage(Stage("inner", encryption={"type": kind})))
    refused(
        db,
        f"ALTER STAGE s SET ENCRYPTION = (TYPE = '{kind}')",
        tmp_path,
        before,
        "is not applied by the DuckDB runtime",
        StageProgrammingError,
    )
    with db.begin() as conn:
        assert conn.exec_driver_sql("SHOW STAGES LIKE 'inner'").all() == []
        conn.exec_driver_sql("CREATE STAGE plain ENCRYPTION = (TYPE = 'NONE')")
        assert len(conn.exec_driver_sql("SHOW STAGES LIKE 'plain'").all()) == 1


def test_matrixone_stage_url_keys_become_credentials(make_engine: Any) -> None:
    engine = make_engine(stage_dialect="matrixone")
    url = (
        "s3://my-bucket/diff-output/?region=us-east-1&access_key_id=KEYID&secret_access_key=SEKRET"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE my_stage URL = '{url}'")
        shown = " ".join(str(v) for row in conn.exec_driver_sql("SHOW STAGES").all() for v in row)
        with pytest.raises(StageProgrammingError, match=r"query string \(foo\)"):
            conn.exec_driver_sql("CREATE STAGE other URL = 's3://my-bucket/p/?foo=1'")
        with pytest.raises(StageProgrammingError, match="'region' in CREDENTIALS; give it once"):
            conn.exec_driver_sql(
                "CREATE STAGE other URL = 's3://my-bucket/p/?region=x' "
                "CREDENTIALS = {'AWS_REGION' = 'y'}"
            )
    assert "s3://my-bucket/diff-output/" in shown
    assert "SEKRET" not in shown and "KEYID" not in shown and "?" not in shown
    with make_engine().connect() as conn:  # the runtime's own DESCRIBE STAGE: masked keys
        described = str(conn.exec_driver_sql("DESCRIBE STAGE my_stage").all())
    assert "us-east-1" in described and "'s3://my-bucket/diff-output/'" in described
    assert "SEKRET" not in described and "KEYID" not in described
