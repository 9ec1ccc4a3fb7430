r"""Unenclosed CSV fields (Snowflake's default): ESCAPE_UNENCLOSED_FIELD written and read.

With FIELD_OPTIONALLY_ENCLOSED_BY = NONE a value holding the field delimiter, the record
delimiter or the escape has each of them preceded by the escape (spec 004's
``pending\, silent``), ``"`` is data, and loads and staged queries read the files back
equal to the source. The files' bytes are asserted exactly.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from csv_round_trip import load_back, unload_single

ROWS = (
    "SELECT * FROM (VALUES (1, 'pending, silent'), (2, E'back\\\\slash'), "
    "(3, E'l1\\nl2'), (4, NULL), (5, 'say \"hi\"'), (6, E'\\\\N'), (7, E'cr\\rhere')) t(id, s)"
)
EXPECTED = [
    (1, "pending, silent"),
    (2, "back\\slash"),
    (3, "l1\nl2"),
    (4, None),
    (5, 'say "hi"'),
    (6, "\\N"),
    (7, "cr\rhere"),
]
COLUMNS = "id INTEGER, s VARCHAR"


def _user_folder(tmp_path: Path, folder: str) -> Path:
    path = tmp_path / "stages" / "stage" / "user" / "alice" / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def _staged(engine: Any, folder: str, options: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT $1::INTEGER, $2 FROM @~/{folder}/ (FILE_FORMAT => "
            f"'{_named_format(conn, options)}') ORDER BY 1"
        )
        return [tuple(row) for row in rows]


def _named_format(conn: Any, options: str) -> str:
    conn.exec_driver_sql(f"CREATE OR REPLACE FILE FORMAT esc_fmt TYPE = CSV {options}")
    return "esc_fmt"


def test_default_escapes_the_delimiter_the_record_and_itself(engine: Any, tmp_path: Path) -> None:
    data = unload_single(engine, tmp_path, ROWS, "", "d")
    assert data == (
        b"1,pending\\, silent\n2,back\\\\slash\n3,l1\\\nl2\n4,\\N\n"
        b'5,say "hi"\n6,\\\\N\n7,cr\rhere\n'
    )
    assert load_back(engine, "d", "", COLUMNS) == EXPECTED
    assert _staged(engine, "d", "") == EXPECTED


def test_hash_escape_and_escape_overrides(engine: Any, tmp_path: Path) -> None:
    data = unload_single(engine, tmp_path, ROWS, "ESCAPE_UNENCLOSED_FIELD = '#'", "h")
    assert data.startswith(b"1,pending#, silent\n2,back\\slash\n3,l1#\nl2\n")
    assert load_back(engine, "h", "ESCAPE_UNENCLOSED_FIELD = '#'", COLUMNS)[:3] == EXPECTED[:3]
    # ESCAPE, when set, is the escape of unenclosed fields too (spec 004)
    data = unload_single(engine, tmp_path, ROWS, "ESCAPE = '#' ESCAPE_UNENCLOSED_FIELD = '!'", "e")
    assert data.startswith(b"1,pending#, silent\n")
    options = "ESCAPE = '#' ESCAPE_UNENCLOSED_FIELD = '!'"
    assert load_back(engine, "e", options, COLUMNS)[:3] == EXPECTED[:3]


def test_multi_character_delimiters_are_escaped_whole(engine: Any, tmp_path: Path) -> None:
    rows = "SELECT * FROM (VALUES (1, 'a~~b~c'), (2, E'x<EOR>y')) t(id, s)"
    options = "FIELD_DELIMITER = '~~' RECORD_DELIMITER = '\\r\\n'"
    data = unload_single(engine, tmp_path, rows, options, "m")
    assert data == b"1~~a\\~~b~c\r\n2~~x<EOR>y\r\n"
    assert load_back(engine, "m", options, COLUMNS) == [(1, "a~~b~c"), (2, "x<EOR>y")]


def test_escape_none_writes_values_as_they_are(engine: Any, tmp_path: Path) -> None:
    data = unload_single(engine, tmp_path, ROWS, "ESCAPE_UNENCLOSED_FIELD = NONE", "n")
    assert data.startswith(b"1,pending, silent\n2,back\\slash\n3,l1\nl2\n")
    # unreadable as declared: the first record has three fields
    with pytest.raises(Exception, match="nothing was loaded"):
        load_back(engine, "n", "ESCAPE_UNENCLOSED_FIELD = NONE", COLUMNS)


def test_null_if_compares_the_field_as_written(engine: Any, tmp_path: Path) -> None:
    folder = _user_folder(tmp_path, "nulls")
    (folder / "f.csv").write_bytes(b"1,\\N\n2,\\\\N\n3,NULL\n4,\n")
    assert load_back(engine, "nulls", "NULL_IF = ('\\N', 'NULL')", COLUMNS) == [
        (1, None),
        (2, "\\N"),
        (3, None),
        (4, None),
    ]


def test_a_file_written_by_hand_in_snowflakes_form(engine: Any, tmp_path: Path) -> None:
    folder = _user_folder(tmp_path, "hand")
    (folder / "orders.csv").write_bytes(
        b"2,78002,O,46929.18, foxes. pending accounts at the pending\\, silent asymptot\n"
        b"4,136777,O,32151.78,sits. slyly regular warthogs cajole. regular\\, regular\\|x\n"
    )
    columns = "id INTEGER, c INTEGER, st VARCHAR, price DECIMAL(12, 2), comment VARCHAR"
    rows = load_back(engine, "hand", "", columns)
    assert [row[4] for row in rows] == [
        " foxes. pending accounts at the pending, silent asymptot",
        "sits. slyly regular warthogs cajole. regular, regular\\|x",  # '|' is no delimiter
    ]


def test_gzip_and_zstd_files_are_read(engine: Any, tmp_path: Path) -> None:
    plain = b"1,a\\,b\n2,c\\\nd\n3,e\rf\n"
    folder = _user_folder(tmp_path, "z")
    (folder / "a.csv.gz").write_bytes(gzip.compress(plain))
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(plain)
    (folder / "b.csv.zst").write_bytes(sink.getvalue().to_pybytes())
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE OR REPLACE TABLE back ({COLUMNS})")
        for name in ("a.csv.gz", "b.csv.zst"):
            conn.exec_driver_sql(f"COPY INTO back FROM @~/z/{name}")
        rows = sorted(conn.exec_driver_sql("SELECT * FROM back"))
    assert rows == sorted([(1, "a,b"), (2, "c\nd"), (3, "e\rf")] * 2)


def test_unload_zstd_split_counted_and_read_back(engine: Any) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE many AS SELECT i AS id, 'v, ' || i || E'\\n\\\\' AS s "
            "FROM range(3000) t(i)"
        )
        result = conn.exec_driver_sql(
            "COPY INTO @~/many/ FROM many FILE_FORMAT = (TYPE = CSV COMPRESSION = ZSTD) "
            "MAX_FILE_SIZE = 10000 DETAILED_OUTPUT = TRUE"
        ).all()
        assert len(result) > 1 and sum(row.row_count for row in result) == 3000
        conn.exec_driver_sql("CREATE TABLE back AS SELECT * FROM many LIMIT 0")
        conn.exec_driver_sql("COPY INTO back FROM @~/many/ FILE_FORMAT = (TYPE = CSV)")
        differ = conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT * FROM many EXCEPT ALL SELECT * FROM back)"
        ).scalar()
        assert differ == 0 and conn.exec_driver_sql("SELECT count(*) FROM back").scalar() == 3000


def test_a_placeholder_character_in_a_file_is_refused(engine: Any, tmp_path: Path) -> None:
    folder = _user_folder(tmp_path, "pua")
    (folder / "f.csv").write_bytes("1,a\\,\ue000\n".encode())
    with pytest.raises(Exception, match="U\\+E000"):
        load_back(engine, "pua", "", COLUMNS)


def test_databend_keeps_enclosing(make_engine: Any, tmp_path: Path) -> None:
    engine = make_engine(stage_dialect="databend")
    rows = "SELECT * FROM (VALUES (1, 'a,b')) t(id, s)"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"COPY INTO @~/db/ FROM ({rows}) FILE_FORMAT = (TYPE = CSV) SINGLE = TRUE"
        )
    data = (tmp_path / "stages" / "stage" / "user" / "alice" / "db" / "data").read_bytes()
    assert data == b'1,"a,b"\n'
