r"""The text of CSV unloads (spec 004): enclosures, the escape inside them, empty strings.

Each test unloads a small table of nasty values as one uncompressed file, asserts its
bytes exactly, and loads it back with the same format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from csv_round_trip import load_back, unload_single

ROWS = (
    "SELECT * FROM (VALUES (1, 'say \"hi\", ok'), (2, 'semi''single'), (3, ''), (4, NULL), "
    "(5, 'hash#here')) t(id, s)"
)


def _unload(engine: Any, tmp_path: Path, options: str, folder: str) -> bytes:
    return unload_single(engine, tmp_path, ROWS, options, folder)


def _load_back(engine: Any, folder: str, options: str) -> list[tuple[Any, ...]]:
    return load_back(engine, folder, options, "id INTEGER, s VARCHAR")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # Spec 004: "Lorsqu'un champ contient ce caractère, effectuez un échappement en
        # utilisant le même caractère" -- the single quote is doubled, '"' is left alone.
        (
            "FIELD_OPTIONALLY_ENCLOSED_BY = '0x27'",
            b"1,'say \"hi\", ok'\n2,'semi''single'\n3,''\n4,\\N\n5,'hash#here'\n",
        ),
        (
            "FIELD_OPTIONALLY_ENCLOSED_BY = '\"'",
            b'1,"say ""hi"", ok"\n2,"semi\'single"\n3,""\n4,\\N\n5,"hash#here"\n',
        ),
        # ESCAPE names the character put before the enclosure (and before itself).
        (
            "FIELD_OPTIONALLY_ENCLOSED_BY = '0x27' ESCAPE = '#'",
            b"1,'say \"hi\", ok'\n2,'semi#'single'\n3,''\n4,\\N\n5,'hash##here'\n",
        ),
    ],
)
def test_the_enclosure_inside_a_value(
    engine: Any, tmp_path: Path, options: str, expected: bytes
) -> None:
    folder = f"e{abs(hash(options)) % 10**8}"
    assert _unload(engine, tmp_path, options, folder) == expected
    loaded = _load_back(engine, folder, options)
    # The enclosed empty string (row 3) is left out: how '' loads is the load side's.
    assert [row for row in loaded if row[0] != 3] == [
        (1, 'say "hi", ok'),
        (2, "semi'single"),
        (4, None),
        (5, "hash#here"),
    ]


@pytest.mark.parametrize("empty_field_as_null", ["", "EMPTY_FIELD_AS_NULL = FALSE"])
def test_null_if_empty_encloses_nothing(
    engine: Any, tmp_path: Path, empty_field_as_null: str
) -> None:
    """NULL_IF = () with no enclosure: NULL and '' are both an empty field (Snowflake's
    unload considerations: they are indistinguishable then), never '""'."""
    options = f"NULL_IF = () {empty_field_as_null}"
    folder = "n" + ("f" if empty_field_as_null else "t")
    data = _unload(engine, tmp_path, options + " FIELD_DELIMITER = '|'", folder)
    # (rows 1 and 5, holding '"' and '#', are enclosed by DuckDB's writer: the known open
    # case FIELD_OPTIONALLY_ENCLOSED_BY = NONE of the option matrix)
    assert data.split(b"\n")[1:4] == [b"2|semi'single", b"3|", b"4|"]
    loaded = _load_back(engine, folder, "NULL_IF = () FIELD_DELIMITER = '|'")
    assert loaded == [
        (1, 'say "hi", ok'),
        (2, "semi'single"),
        (3, None),  # an empty field loads as NULL (EMPTY_FIELD_AS_NULL = TRUE)
        (4, None),
        (5, "hash#here"),
    ]


def test_null_if_empty_with_an_enclosure_encloses_the_empty_string(
    engine: Any, tmp_path: Path
) -> None:
    """With an enclosure, '' is an enclosed empty string and NULL an empty field."""
    options = "NULL_IF = () FIELD_OPTIONALLY_ENCLOSED_BY = '\"'"
    data = _unload(engine, tmp_path, options, "ne")
    assert data == b'1,"say ""hi"", ok"\n2,"semi\'single"\n3,""\n4,\n5,"hash#here"\n'
