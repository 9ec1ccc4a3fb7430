"""Typed columns of staged files: the files read through a select that casts them.

``staged(..., columns=[sa.column("id", Integer), ...])`` (or ``columns=User``) renders
its files as ``(SELECT CAST(id AS INTEGER) AS id, ... FROM @s/p/ (...))``, so the engine
converts each value to its column's type (CSV fields are text) and fails on one that does
not convert, in every dialect that reads staged columns by name.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.sql.compiler import TypeCompiler
from sqlalchemy.sql.sqltypes import NullType

from sqla_stage.staged import StagedFiles


def typed_files(
    element: StagedFiles, files: str, quote: Callable[[str], str], types: TypeCompiler
) -> str:
    """``files`` (the rendered location) read as the typed columns of ``element`` declare.

    Untyped columns pass as they are; with no typed column, ``files`` is returned bare.

    Args:
        element: The staged files.
        files: Their rendered ``@stage/path (...)``.
        quote: Quotes one identifier for the dialect.
        types: The dialect's type compiler.
    """
    if all(isinstance(c.type, NullType) for c in element.columns):
        return files
    fields = []
    for each in element.columns:
        name = quote(str(each.name))
        if isinstance(each.type, NullType):
            fields.append(name)
        else:
            fields.append(f"CAST({name} AS {types.process(each.type)}) AS {name}")
    return f"(SELECT {', '.join(fields)} FROM {files})"
