"""Issue 17: the files of one PARTITION BY unload never share a name (no silent data loss).

A partition value is a folder path: empty segments (a leading, trailing or doubled ``/``)
and ``.`` segments are dropped, so values such as ``'x'``, ``'/x'`` and ``'x/'`` name one
folder, and the files of that folder are numbered in turn. NULL and the string
``'_NULL_'`` share the ``_NULL_`` folder (as in Snowflake), each row keeping its value in
the file. Every row unloaded is in the stage afterwards, locally and on S3 (moto in
server mode). Keys that cannot coexist (a file where another file needs a folder) are
refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from moto_server import MotoS3
from stage_files import run, snapshot

from sqla_stage.errors import StageProgrammingError, StageRuntimeError
from sqla_stage.runtime.storage.stage_storage import open_storage
from sqla_stage.runtime.unload.files import WrittenFile, publish

CSV_PLAIN = "FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"


def user_stage(tmp_path: Path) -> Path:
    """alice's ``@~`` folder under the engine's stage root."""
    return tmp_path / "stages" / "stage" / "user" / "alice"


def make_table(engine: sa.Engine, values: list[str | None]) -> None:
    """Table ``t (n, p)``: row ``n`` has the partition value ``values[n]``."""
    run(engine, "CREATE TABLE t (n INTEGER, p VARCHAR)")
    for number, value in enumerate(values):
        literal = "NULL" if value is None else "'" + value.replace("'", "''") + "'"
        run(engine, f"INSERT INTO t VALUES ({number}, {literal})")


def rows_of(files: dict[str, bytes]) -> list[str]:
    """The CSV lines of every file, sorted."""
    return sorted(line for data in files.values() for line in data.decode().splitlines())


def test_issue_reproduction_keeps_every_row(engine: sa.Engine, tmp_path: Path) -> None:
    make_table(engine, ["x", "/x", "x/"])
    [(unloaded, _, _)] = run(engine, f"COPY INTO @~/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    assert unloaded == 3
    files = snapshot(user_stage(tmp_path) / "out")
    assert sorted(files) == [f"x/data_0_0_{n}.csv" for n in range(3)]
    assert rows_of(files) == ["0,x", "1,/x", "2,x/"]


def test_reading_the_stage_back_gives_every_row(engine: sa.Engine) -> None:
    make_table(engine, ["x", "/x", "x/", "//x//", "./x", "x/."])
    run(engine, f"COPY INTO @~/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    run(engine, "CREATE TABLE back (n INTEGER, p VARCHAR)")
    [*loaded] = run(engine, "COPY INTO back FROM @~/out/ FILE_FORMAT = (TYPE = CSV)")
    assert len(loaded) == 6
    assert run(engine, "SELECT n, p FROM back ORDER BY n") == run(
        engine, "SELECT n, p FROM t ORDER BY n"
    )


def test_null_and_the_string_null_share_the_null_folder(engine: sa.Engine, tmp_path: Path) -> None:
    make_table(engine, [None, "_NULL_", None])
    run(engine, f"COPY INTO @~/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    files = snapshot(user_stage(tmp_path) / "out")
    assert sorted(files) == ["_NULL_/data_0_0_0.csv"]  # one value for DuckDB: one file
    assert rows_of(files) == ["0,\\N", "1,_NULL_", "2,\\N"]  # NULL stays NULL in the data


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            ["a//b", "a/b", "a/./b"],
            ["a/b/data_0_0_0.csv", "a/b/data_0_0_1.csv", "a/b/data_0_0_2.csv"],
        ),
        (["", "/", "."], ["data_0_0_0.csv", "data_0_0_1.csv", "data_0_0_2.csv"]),
        (["a.b", ".a", "a."], [".a/data_0_0_0.csv", "a./data_0_0_0.csv", "a.b/data_0_0_0.csv"]),
        (["a", "A"], ["A/data_0_0_0.csv", "a/data_0_0_0.csv"]),
    ],
    ids=["doubled-and-dot-segments", "empty-values", "dots-in-names", "case"],
)
def test_values_naming_one_folder_number_their_files_in_turn(
    engine: sa.Engine, tmp_path: Path, values: list[str], expected: list[str]
) -> None:
    make_table(engine, values)
    run(engine, f"COPY INTO @~/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    files = snapshot(user_stage(tmp_path) / "out")
    assert sorted(files) == expected
    assert len(rows_of(files)) == len(values)


def test_size_splits_without_query_id_stay_unique(engine: sa.Engine, tmp_path: Path) -> None:
    run(
        engine,
        "CREATE TABLE t AS SELECT range AS n, ['x', '/x', 'x/'][range % 3 + 1] AS p "
        "FROM range(3000)",
    )
    run(
        engine,
        f"COPY INTO @~/out/ FROM t PARTITION BY (p) {CSV_PLAIN} "
        "MAX_FILE_SIZE = 4000 INCLUDE_QUERY_ID = FALSE",
    )
    files = snapshot(user_stage(tmp_path) / "out")
    assert len(files) > 3
    assert sorted(files) == sorted(f"x/data_0_0_{n}.csv" for n in range(len(files)))
    numbers = sorted(int(line.split(",")[0]) for line in rows_of(files))
    assert numbers == list(range(3000))


def test_a_file_where_another_needs_a_folder_is_refused(engine: sa.Engine, tmp_path: Path) -> None:
    make_table(engine, ["x", "x/data_0_0_0.csv"])
    run(engine, f"COPY INTO @~/out/kept/ FROM t {CSV_PLAIN}")
    before = snapshot(user_stage(tmp_path))
    with pytest.raises(StageProgrammingError, match="needs a folder") as caught:
        run(engine, f"COPY INTO @~/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    message = str(caught.value)
    assert "'out/x/data_0_0_0.csv'" in message and "nothing was written" in message
    assert snapshot(user_stage(tmp_path)) == before


def test_publish_refuses_two_files_with_one_key(tmp_path: Path) -> None:
    """The general guard: whatever names them, two files of one unload never share a key."""
    storage = open_storage(str(tmp_path / "root"), None)
    (tmp_path / "root").mkdir()
    files = []
    for number in range(2):
        path = tmp_path / f"f{number}.csv"
        path.write_text(f"{number}\n")
        files.append(WrittenFile(str(path), key=["d/a.csv", "d//a.csv"][number], size=2))
    with pytest.raises(StageRuntimeError, match=r"two files .* 'd/a\.csv'.*nothing was written"):
        publish(storage, files, overwrite=True, label="@s")
    assert snapshot(tmp_path / "root") == {}
    assert (tmp_path / "f0.csv").exists() and (tmp_path / "f1.csv").exists()


def test_s3_issue_reproduction_keeps_every_row(
    engine: sa.Engine, s3_server: MotoS3, s3_bucket: str
) -> None:
    run(engine, f"CREATE STAGE s3s URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}")
    make_table(engine, ["x", "/x", "x/", "a//b", "a/b", None, "_NULL_"])
    [(unloaded, _, _)] = run(engine, f"COPY INTO @s3s/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    assert unloaded == 7
    keys = s3_server.keys(s3_bucket)
    assert keys == [
        "p/out/_NULL_/data_0_0_0.csv",
        "p/out/a/b/data_0_0_0.csv",
        "p/out/a/b/data_0_0_1.csv",
        "p/out/x/data_0_0_0.csv",
        "p/out/x/data_0_0_1.csv",
        "p/out/x/data_0_0_2.csv",
    ]
    lines = rows_of({key: s3_server.read(s3_bucket, key) for key in keys})
    assert lines == ["0,x", "1,/x", "2,x/", "3,a//b", "4,a/b", "5,\\N", "6,_NULL_"]


def test_s3_file_where_another_needs_a_folder_is_refused(
    engine: sa.Engine, s3_server: MotoS3, s3_bucket: str
) -> None:
    run(engine, f"CREATE STAGE s3s URL = 's3://{s3_bucket}/p/' {s3_server.credentials_sql()}")
    make_table(engine, ["x", "x/data_0_0_0.csv"])
    with pytest.raises(StageProgrammingError, match="needs a folder"):
        run(engine, f"COPY INTO @s3s/out/ FROM t PARTITION BY (p) {CSV_PLAIN}")
    assert s3_server.keys(s3_bucket) == []
