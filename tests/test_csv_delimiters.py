r"""CSV delimiters (spec 004): hex/octal spellings, multi-character delimiters, refusals.

The unloaded files' bytes are asserted, and the files are loaded back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from csv_round_trip import load_back, unload_single

from sqla_stage import CSV
from sqla_stage.delimiters import decode_character
from sqla_stage.errors import StageArgumentError

ROWS = "SELECT * FROM (VALUES (1, 'a,b', NULL), (2, 'x|y', 'q\"r')) t(id, s, u)"


def _unload(engine: Any, tmp_path: Path, options: str, folder: str = "d") -> bytes:
    return unload_single(engine, tmp_path, ROWS, options, folder)


def _load_back(engine: Any, folder: str, options: str) -> list[tuple[Any, ...]]:
    return load_back(engine, folder, options, "id INTEGER, s VARCHAR, u VARCHAR")


@pytest.mark.parametrize(
    ("spelled", "char"),
    [("0xDE", "Þ"), ("\\336", "Þ"), ("\\\\336", "Þ"), ("\\t", "\t"), ("\\\\t", "\t"), ("||", "||")],
)
def test_spellings_decode_to_characters(spelled: str, char: str) -> None:
    assert decode_character(spelled) == char


@pytest.mark.parametrize("spelled", ["0xDE", "\\\\336"])
def test_thorn_delimiter_is_written_and_read_back(
    engine: Any, tmp_path: Path, spelled: str
) -> None:
    data = _unload(engine, tmp_path, f"FIELD_DELIMITER = '{spelled}'")
    assert (
        data
        == "Þ".join(["1", "a,b", "\\N"]).encode()
        + b"\n"
        + "Þ".join(["2", "x|y", 'q"r']).encode()  # unenclosed: '"' is data
        + b"\n"
    )
    rows = _load_back(engine, "d", f"FIELD_DELIMITER = '{spelled}'")
    assert rows == [(1, "a,b", None), (2, "x|y", 'q"r')]
    with engine.connect() as conn:  # the database is still usable
        assert conn.exec_driver_sql("SELECT 42").scalar() == 42


def test_multi_character_delimiters_byte_for_byte(engine: Any, tmp_path: Path) -> None:
    data = _unload(engine, tmp_path, "FIELD_DELIMITER = '||' RECORD_DELIMITER = '\\r\\n'")
    assert data == b'1||a,b||\\N\r\n2||x|y||q"r\r\n'
    rows = _load_back(engine, "d", "FIELD_DELIMITER = '||' RECORD_DELIMITER = '\\r\\n'")
    assert rows == [(1, "a,b", None), (2, "x|y", 'q"r')]


def test_enclosure_escape_and_header_by_lines(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"COPY INTO @~/h/ FROM ({ROWS}) FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE "
            "FIELD_DELIMITER = 'aa' FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE = '\\\\' "
            "NULL_IF = ('NULL')) HEADER = TRUE SINGLE = TRUE"
        )
    data = (tmp_path / "stages" / "stage" / "user" / "alice" / "h" / "data").read_bytes()
    assert data == b'idaasaau\n1aa"a,b"aaNULL\n2aa"x|y"aa"q\\"r"\n'


def test_long_delimiter_is_written_but_refused_on_read(engine: Any, tmp_path: Path) -> None:
    data = _unload(engine, tmp_path, "FIELD_DELIMITER = '<-->'  RECORD_DELIMITER = '##'")
    assert data.startswith(b"1<-->a,b<-->\\N##2<-->")
    with pytest.raises(sa.exc.SQLAlchemyError, match="RECORD_DELIMITER = '##'"):
        _load_back(engine, "d", "FIELD_DELIMITER = '<-->' RECORD_DELIMITER = '##'")
    with pytest.raises(sa.exc.SQLAlchemyError, match="at most 4 bytes"):
        _load_back(engine, "d", "FIELD_DELIMITER = 'ÞÞÞ'")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"field_delimiter": "aa", "record_delimiter": "aabb"}, "substring"),
        ({"record_delimiter": ","}, "substring"),
        ({"field_delimiter": "x" * 21}, "at most 20"),
        ({"field_delimiter": ""}, "give NONE"),
        ({"field_delimiter": "|", "escape": "|"}, "ESCAPE = '|' occurs in FIELD_DELIMITER"),
        ({"field_delimiter": "'", "field_optionally_enclosed_by": "'"}, "occurs in"),
        ({"escape": "ab"}, "one character"),
        ({"field_delimiter": "0x110000"}, "not a valid UTF-8 character"),
    ],
)
def test_invalid_combinations_refused_at_construction(
    options: dict[str, str], message: str
) -> None:
    with pytest.raises(StageArgumentError, match=message):
        CSV(**options)


def test_invalid_combination_in_sql_writes_nothing(engine: Any, tmp_path: Path) -> None:
    with pytest.raises(sa.exc.SQLAlchemyError, match="substring"):
        _unload(engine, tmp_path, "FIELD_DELIMITER = 'aa' RECORD_DELIMITER = 'aabb'")
    assert not (tmp_path / "stages" / "stage" / "user" / "alice" / "d").exists()


def test_record_delimiter_none_refused_on_read(engine: Any, tmp_path: Path) -> None:
    _unload(engine, tmp_path, "")
    for name in ("RECORD_DELIMITER", "FIELD_DELIMITER"):
        with pytest.raises(sa.exc.SQLAlchemyError, match=f"{name} = NONE"):
            _load_back(engine, "d", f"{name} = NONE")
