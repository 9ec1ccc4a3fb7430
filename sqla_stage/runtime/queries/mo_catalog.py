"""MatrixOne's stage catalog table, ``mo_catalog.mo_stages``, inside a query.

Under ``stage_dialect=matrixone``, ``mo_catalog.mo_stages`` where a FROM clause names a
table becomes a subquery of the runtime's stage registry with MatrixOne's columns (its
System-tables page): ``stage_id`` (INT UNSIGNED), ``stage_name``, ``url``,
``stage_credentials``, ``stage_status``, ``created_time`` (TIMESTAMP(0)) and ``comment``.
The rows travel as typed list literals (`literals.columns_select`), so nothing is written
into the user's database and the statement's own WHERE, joins and parameters apply as
written. As MatrixOne's ALTER STAGE page shows:

- ``stage_status`` is ``enabled`` for a stage created with ``ENABLE = TRUE`` and
  ``disabled`` otherwise;
- ``stage_credentials`` is empty for a stage without credentials; MatrixOne keeps them
  encrypted, the runtime shows ``***`` (a secret is never shown);
- ``url`` is the stage's URL (empty for an internal stage, which MatrixOne does not have);
- ``created_time`` is the creation time in UTC, to the second;
- ``stage_id`` numbers the stages by creation time from 1. MatrixOne's is a stored
  auto-increment id; the registry keeps none, so dropping a stage renumbers the later ones.

A name that is not qualified (``mo_stages``, after ``USE mo_catalog``) is left alone: it
may be the user's own table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqla_stage.credentials import MASK
from sqla_stage.parser.lexer import Kind, Token
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.literals import columns_select
from sqla_stage.runtime.queries.columns import Edit, names_alias

#: ``mo_catalog.mo_stages`` columns (MatrixOne's), with their DuckDB types.
MO_STAGES_COLUMNS = (
    ("stage_id", "UINTEGER"),
    ("stage_name", "VARCHAR"),
    ("url", "VARCHAR"),
    ("stage_credentials", "VARCHAR"),
    ("stage_status", "VARCHAR"),
    ("created_time", "TIMESTAMP"),
    ("comment", "VARCHAR"),
)

_NAME = ("mo_catalog", "mo_stages")


def _is_name(token: Token, name: str) -> bool:
    return token.kind in (Kind.WORD, Kind.QUOTED) and token.value.lower() == name


def mo_stages(
    context: StageContext, tokens: Sequence[Token], index: int, not_aliases: frozenset[str]
) -> Edit | None:
    """``mo_catalog.mo_stages [[AS] alias]`` at ``tokens[index]``, as a subquery.

    Args:
        context: The statement's runtime context (its registry is read).
        tokens: The statement's tokens.
        index: Where a FROM item starts.
        not_aliases: Words that cannot be the alias of a FROM item.

    Returns:
        The edit that puts the subquery in place, or None when the tokens name another
        table or the runtime does not follow MatrixOne.
    """
    if context.settings.stage_dialect != "matrixone" or index + 3 >= len(tokens):
        return None
    schema, dot, table = tokens[index : index + 3]
    if not (
        _is_name(schema, _NAME[0])
        and dot.kind is Kind.PUNCT
        and dot.value == "."
        and _is_name(table, _NAME[1])
    ):
        return None
    records = sorted(context.registry.stages(), key=lambda r: (r.created_on, r.stage.name))
    rows = []
    for number, record in enumerate(records, start=1):
        stage = record.stage
        created = record.created_on.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
        secret = stage.credentials is not None and not stage.credentials.is_empty
        rows.append(
            [
                number,
                stage.name,
                stage.url or "",
                MASK if secret else "",
                "enabled" if stage.directory else "disabled",
                created,
                stage.comment or "",
            ]
        )
    after = tokens[index + 3]
    aliased = after.upper == "AS" or names_alias(after, not_aliases)
    alias = "" if aliased else " AS mo_stages"
    sql = f"(SELECT {columns_select(MO_STAGES_COLUMNS, rows)}){alias}"
    return Edit(schema.start, table.end, sql)
