"""How constructs show their results and a stage shows in Jupyter: set from the display layer.

The constructs sit below `sqla_stage.display`, so they do not import it: `sqla_stage.display`
registers its result wrapper and its stage table here when it is imported (``import
sqla_stage`` imports it), as SQLAlchemy's ``@compiles`` registers a rule into the
construct. Until then a statement returns SQLAlchemy's own result and a stage shows as its
repr.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Result

#: Wraps a construct's result for display: ``(result, statement) -> result``.
ResultWrapper = Callable[[Result[Any], object], Result[Any]]
#: A stage's properties as HTML: ``(stage) -> html``.
StageHtml = Callable[[Any], str]

_result_wrapper: list[ResultWrapper] = []
_stage_html: list[StageHtml] = []


def register_display(result_wrapper: ResultWrapper, stage_html: StageHtml) -> None:
    """Set how results and stages are shown (called by `sqla_stage.display` on import)."""
    _result_wrapper[:] = [result_wrapper]
    _stage_html[:] = [stage_html]


def shown_result(result: Result[Any], statement: object) -> Result[Any]:
    """``result`` as the display layer shows it (unchanged before it registers)."""
    return _result_wrapper[0](result, statement) if _result_wrapper else result


def shown_stage(stage: object) -> str:
    """A stage as HTML for Jupyter (its escaped repr before the display layer registers)."""
    return _stage_html[0](stage) if _stage_html else f"<pre>{html.escape(repr(stage))}</pre>"
