"""Stages and stage statement results as tables: HTML in Jupyter, plain text in a terminal.

Executing one of the package's constructs (``conn.execute(ListFiles(stage))``, a
``CopyInto``, ``CreateStage``, ...) returns a
[StageResult][sqla_stage.display.StageResult]: a SQLAlchemy `Result` (an ``IteratorResult``)
whose rows were fetched when the statement ran, so showing it consumes nothing. Jupyter shows
it with ``_repr_html_``; ``print()`` and ``repr()`` give a plain-text table. ``.all()``,
``.one()``, ``.scalar()``, ``.mappings()``, ``.keys()`` and iteration work as on any result;
public attributes that only a ``CursorResult`` has (``rowcount``, ``context``, ...) come from
the cursor result it was built from, `StageResult.raw`. A LIST result is a
[ListResult][sqla_stage.display.ListResult], which also reads the files it lists into pandas
or pyarrow.

Results of text statements (``conn.exec_driver_sql("LIST @~")``) are SQLAlchemy's own;
[tabulate][sqla_stage.display.tabulate] turns any result into a
[StageResult][sqla_stage.display.StageResult].
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.engine import IteratorResult, Result
from sqlalchemy.engine.result import SimpleResultMetaData

from sqla_stage.display_hooks import register_display
from sqla_stage.options import options_repr

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]
    import pyarrow

    from sqla_stage.formats import FormatSpec
    from sqla_stage.stage import Stage

#: Rows a table shows; more are summed up in a last line.
DISPLAY_ROWS = 50
#: Rows fetched when the statement runs; the rest of a longer result streams from the cursor.
BUFFER_ROWS = 10_000
#: Characters a plain-text cell shows (HTML shows every character).
MAX_CELL = 60


def cell_text(value: object) -> str:
    """A value as a table shows it: ``NULL`` for None, ISO text for dates and times."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _numeric_columns(width: int, rows: Sequence[Sequence[Any]]) -> list[bool]:
    """Per column: whether every value that is not None is a number (right-aligned)."""
    numeric = [True] * width
    seen = [False] * width
    for row in rows:
        for index, value in enumerate(row):
            if value is not None:
                seen[index] = True
                numeric[index] = numeric[index] and _is_number(value)
    return [n and s for n, s in zip(numeric, seen, strict=True)]


def _summary(shown: int, more: int | None) -> str:
    if more is None:
        return f"... more rows after the first {shown}"
    return f"... {more} more row{'s' if more != 1 else ''} ({shown + more} in all)"


def _clip(text: str) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def text_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, more: int | None = 0
) -> str:
    """Rows as a plain-text table: a header, a rule, one line a row (numbers to the right).

    Args:
        columns: The column names.
        rows: The rows to show.
        more: How many rows were left out (a last line says so); None when unknown but
            some were.
    """
    cells = [[str(name) for name in columns]]
    cells += [[_clip(cell_text(value)) for value in row] for row in rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    numeric = _numeric_columns(len(columns), rows)
    lines = [
        " | ".join(
            cell.rjust(width) if right and number else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for number, row in enumerate(cells)  # the header (row 0) is left-aligned
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    if not rows:
        lines.append("(no rows)")
    if more is None or more > 0:
        lines.append(_summary(len(rows), more))
    return "\n".join(lines)


def html_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, more: int | None = 0
) -> str:
    """Rows as an HTML ``<table>`` (values escaped); the arguments of `text_table`."""
    numeric = _numeric_columns(len(columns), rows)
    styles = ["text-align: right" if right else "text-align: left" for right in numeric]
    head = "".join(
        f'<th style="{style}">{html.escape(str(name))}</th>'
        for name, style in zip(columns, styles, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{style}">{html.escape(cell_text(value))}</td>'
            for value, style in zip(row, styles, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    notes = []
    if not rows:
        notes.append("no rows")
    if more is None or more > 0:
        notes.append(html.escape(_summary(len(rows), more)))
    foot = "".join(f"<p><small>{note}</small></p>" for note in notes)
    return (
        '<table class="sqla-stage">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}"
    )


# Stages


def stage_label(stage: Stage) -> str:
    """``@name``, ``@schema.name``, ``@~`` or ``@%table``."""
    from sqla_stage.stage import StageKind

    if stage.kind is StageKind.USER:
        return "@~"
    mark = "%" if stage.kind is StageKind.TABLE else ""
    return f"@{stage.schema + '.' if stage.schema else ''}{mark}{stage.name}"


def stage_properties(stage: Stage) -> list[tuple[str, str]]:
    """A stage's definition as (property, value) pairs, secrets masked; unset ones left out."""
    pairs = [("stage", stage_label(stage)), ("kind", stage.kind.value)]
    for name in ("schema", "url", "storage_integration", "file_format", "comment"):
        value = getattr(stage, name)
        if value is not None:
            pairs.append((name, value if isinstance(value, str) else repr(value)))
    for name in ("credentials", "encryption"):
        secrets = getattr(stage, name)
        if secrets is not None:
            pairs.append((name, ", ".join(f"{k}={v}" for k, v in secrets.masked().items())))
    if stage.copy_options:
        pairs.append(("copy_options", options_repr(stage.copy_options)))
    if stage.directory is not None:
        pairs.append(("directory", str(stage.directory)))
    if stage.temporary:
        pairs.append(("temporary", "True"))
    return pairs


def stage_html(stage: Stage) -> str:
    """A stage's properties as an HTML table (what Jupyter shows for a ``Stage``)."""
    return html_table(("property", "value"), stage_properties(stage))


def stage_text(stage: Stage) -> str:
    """A stage's properties as a plain-text table."""
    return text_table(("property", "value"), stage_properties(stage))


# Results


class StageResult(IteratorResult[Any]):
    """The result of a stage statement, fetched when it ran, shown as a table.

    Args:
        result: The statement's result (it must return rows); its first
            [BUFFER_ROWS][sqla_stage.display.BUFFER_ROWS] rows are fetched now, any further
            ones stream from it.
        statement: The construct that was executed, if any.
    """

    #: How many rows are fetched when the statement runs (None: every row).
    buffer_rows: ClassVar[int | None] = BUFFER_ROWS

    def __init__(self, result: Result[Any], statement: object = None) -> None:
        """Fetch the first rows of ``result``; see the class docstring."""
        keys = list(result.keys())
        limit = self.buffer_rows
        rows = result.fetchmany(limit) if limit is not None else result.fetchall()
        complete = limit is None or len(rows) < limit
        rest = iter(()) if complete else iter(result)
        super().__init__(SimpleResultMetaData(keys), itertools.chain(rows, rest), raw=result)
        self.statement = statement
        self._columns = keys
        self._fetched = rows
        self._head = rows[:DISPLAY_ROWS]
        self._more: int | None = len(rows) - len(self._head) if complete else None

    @property
    def rows(self) -> list[Any]:
        """The first [DISPLAY_ROWS][sqla_stage.display.DISPLAY_ROWS] rows, which a table shows."""
        return list(self._head)

    def __getattr__(self, name: str) -> Any:
        # Public attributes only a CursorResult has (rowcount, context, ...) come from it.
        if name.startswith("_") or name == "raw":
            raise AttributeError(name)
        return getattr(self.raw, name)

    def _repr_html_(self) -> str:
        return html_table(self._columns, self._head, more=self._more)

    def __str__(self) -> str:
        return text_table(self._columns, self._head, more=self._more)

    def __repr__(self) -> str:
        return str(self)


class ListResult(StageResult):
    """The result of ``ListFiles``: also reads the files it lists into pandas or pyarrow."""

    buffer_rows = None

    def _files(self) -> tuple[Any, Any, str]:
        from sqla_stage.errors import StageProgrammingError
        from sqla_stage.files import ListFiles

        statement = self.statement
        if not isinstance(statement, ListFiles):
            raise StageProgrammingError("only the result of ListFiles(...) can read its files")
        if not self._fetched:
            where = f"{stage_label(statement.location.stage)}/{statement.location.path}"
            raise StageProgrammingError(f"LIST {where} listed no file to read")
        connection = getattr(self.raw, "connection", None)
        if connection is None or connection.closed:
            raise StageProgrammingError(
                "the connection this LIST ran on is closed (Stage.list(engine) runs on a "
                "connection of its own): read the files with stage.read(engine, path), or "
                "list them on a connection you keep open"
            )
        pattern = "|".join(re.escape(str(row[0])) for row in self._fetched)
        return connection, statement.location, pattern

    def read(self, *, file_format: FormatSpec | str | None = None) -> pandas.DataFrame:
        """The listed files' rows as a pandas DataFrame ([read][sqla_stage.reading.read]).

        Args:
            file_format: How to read the files; by default the stage's format, else CSV.
        """
        from sqla_stage.reading import read

        bind, location, pattern = self._files()
        return read(bind, location, file_format=file_format, pattern=pattern)

    def read_arrow(self, *, file_format: FormatSpec | str | None = None) -> pyarrow.Table:
        """The listed files' rows as a pyarrow Table ([read_arrow][sqla_stage.reading.read_arrow]).

        Args:
            file_format: How to read the files; by default the stage's format, else CSV.
        """
        from sqla_stage.reading import read_arrow

        bind, location, pattern = self._files()
        return read_arrow(bind, location, file_format=file_format, pattern=pattern)


def wrap_result(result: Result[Any], statement: object) -> Result[Any]:
    """The result a construct's execution returns: a table-showing one when it has rows."""
    if not getattr(result, "returns_rows", True):
        return result
    from sqla_stage.files import ListFiles

    cls = ListResult if isinstance(statement, ListFiles) else StageResult
    return cls(result, statement)


def tabulate(result: Result[Any]) -> StageResult:
    """Any SQLAlchemy result as a [StageResult][sqla_stage.display.StageResult].

    A text statement's, say: ``tabulate(conn.exec_driver_sql("LIST @~"))`` shows as a table
    in Jupyter and prints as one; the rows stay available through the Result API.
    """
    return StageResult(result)


register_display(wrap_result, stage_html)
