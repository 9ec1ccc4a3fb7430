"""ORM entities where the constructs take tables and columns.

A declarative user writes ``User`` (a mapped class), ``aliased(User)`` or ``User.name``
where the constructs take a ``Table`` or a column. `entity_table` and `column_name` turn
them into the Core objects the constructs keep, through SQLAlchemy's own inspection
(``sqlalchemy.inspect``), so any mapped class works: declarative, imperative, with a
``__table__`` or a mapped ``select()``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.util import AliasedInsp
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlalchemy.sql.expression import FromClause, TableClause


def entity_inspection(value: object) -> Mapper[Any] | AliasedInsp[Any] | None:
    """The mapper of a mapped class (or the inspection of an ``aliased()``), else None."""
    if isinstance(value, (TableClause, ColumnElement, str)) or value is None:
        return None
    try:
        inspected = sa.inspect(value, raiseerr=False)
    except exc.NoInspectionAvailable:  # pragma: no cover - raiseerr=False returns None
        return None
    if isinstance(inspected, (Mapper, AliasedInsp)):
        return inspected
    return None


def entity_table(value: object) -> FromClause | None:
    """The table a mapped class (or ``aliased()`` entity) is mapped to; None otherwise.

    A class mapped to one table gives that ``Table`` (``__table__``); an ``aliased()``
    entity gives its alias; a class mapped to a join or a select gives that selectable.
    """
    inspected = entity_inspection(value)
    if inspected is None:
        return None
    if isinstance(inspected, AliasedInsp):
        selectable: FromClause = inspected.selectable
        return selectable
    return inspected.local_table


def column_name(value: object) -> str | None:
    """The column name of an ORM attribute (``User.name``) or a Core column; else None.

    An attribute whose Python name differs from its column (``name = mapped_column("nm")``)
    gives the column's name, ``nm``: the name the table and the files share.
    """
    if isinstance(value, ColumnClause):
        return str(value.name)
    element = getattr(value, "__clause_element__", None)
    if element is None:
        return None
    clause = element()
    while isinstance(clause, ColumnElement) and not isinstance(clause, ColumnClause):
        inner = getattr(clause, "element", None)  # an annotated or labelled column
        if inner is None or inner is clause:
            break
        clause = inner
    return str(clause.name) if isinstance(clause, ColumnClause) else None
