"""SELECT over staged files and INTO OUTFILE on the runtime (being written)."""

from __future__ import annotations

from typing import Any

from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.context import StageContext
from sqla_stage.runtime.results import Query, Rows


def rewrite(context: StageContext, text: str) -> Query | None:
    """Not yet."""
    return None


def into_outfile(context: StageContext, element: Any) -> Rows:
    """Not yet."""
    raise StageRuntimeError("not yet")
