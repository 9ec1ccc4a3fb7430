r"""PATTERN: a regular expression matched by DuckDB's RE2, in linear time.

A PATTERN (LIST, REMOVE, GET, COPY INTO, ``FROM @s (PATTERN => ...)``) must match a whole
key, as in Snowflake and Databend. It is matched by DuckDB's ``regexp_full_match``, which
is Google's RE2: the time is linear in the length of the names, whatever the pattern, so a
pattern such as ``(a+)+$`` cannot stall a statement the way Python's backtracking ``re``
does (hours for one 40-character name). RE2's syntax is the warehouses' own family
(Databend's Rust ``regex`` crate has the same features; Snowflake's are POSIX extended
expressions with Perl's classes): backreferences (``\1``) and look-arounds (``(?=x)``)
are refused with an error naming the PATTERN (Databend's engine refuses them too).

The names of one statement are matched in one query, over a private in-memory DuckDB
database of the process (the statement's own connection may be inside a transaction the
runtime must not disturb), with the names as one JSON list literal (`literals`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import duckdb

from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine.literals import literal

_LOCK = threading.Lock()
_DATABASE: list[Any] = []


def _cursor() -> Any:
    """A new cursor of the process's private in-memory DuckDB database."""
    with _LOCK:
        if not _DATABASE:
            _DATABASE.append(duckdb.connect(":memory:", config={"threads": 1}))
        return _DATABASE[0].cursor()


class FilePattern:
    """A PATTERN checked by RE2, which matches a list of names at once.

    Attributes:
        pattern: The regular expression as written.
    """

    def __init__(self, pattern: str) -> None:
        """Check ``pattern`` with RE2.

        Raises:
            StageProgrammingError: ``pattern`` is not a regular expression RE2 reads.
        """
        self.pattern = pattern
        self._literal = literal(pattern)
        self._query(f"SELECT regexp_full_match('', {self._literal})")

    def _query(self, sql: str) -> Any:
        cursor = _cursor()
        try:
            return cursor.execute(sql).fetchone()
        except duckdb.Error as error:
            message = str(error).removeprefix("Invalid Input Error: ")
            raise StageProgrammingError(
                f"PATTERN {self.pattern!r} is not a regular expression: {message}"
            ) from None
        finally:
            cursor.close()

    def matching(self, names: Sequence[str]) -> list[bool]:
        """Whether each of ``names`` fully matches the pattern, in order."""
        if not names:
            return []
        text = literal(json.dumps(list(names), ensure_ascii=False))
        row = self._query(
            f"SELECT list_transform({text}::JSON::VARCHAR[], "
            f"n -> regexp_full_match(n, {self._literal}))"
        )
        return [bool(found) for found in row[0]]

    def select(self, names: Sequence[str]) -> list[str]:
        """The names that fully match the pattern, in order."""
        return [name for name, found in zip(names, self.matching(names), strict=True) if found]


def compile_pattern(pattern: str | None) -> FilePattern | None:
    """A PATTERN checked and ready to match (None for none).

    Raises:
        StageProgrammingError: ``pattern`` is not a valid regular expression.
    """
    return FilePattern(pattern) if pattern is not None else None


def glob_pattern(glob: str) -> FilePattern:
    r"""A file-name glob where ``*`` matches any run of characters, as a `FilePattern`.

    Every other character stands for itself (``\x{..}`` escapes it), so a glob of many
    stars (MatrixOne's ``stage_list('stage://s/*a*a*a*b')``) is linear time too.
    """
    parts = (
        "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in part)
        for part in glob.split("*")
    )
    return FilePattern(".*".join(parts))
