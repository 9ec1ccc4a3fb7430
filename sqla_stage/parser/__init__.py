"""Parsing the documented stage SQL of Snowflake, Databend and MatrixOne into constructs."""

from __future__ import annotations

from typing import Any


def parse(sql: str, dialect: Any = None) -> Any:
    """Placeholder until the statement parser lands."""
    raise NotImplementedError
