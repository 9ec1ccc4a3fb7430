"""COPY INTO (load) on the runtime (being written)."""

from __future__ import annotations

from sqla_stage.copy import CopyInto
from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.context import StageContext
from sqla_stage.runtime.results import Rows


def run(context: StageContext, element: CopyInto) -> Rows:
    """Not yet."""
    raise StageRuntimeError("not yet")
