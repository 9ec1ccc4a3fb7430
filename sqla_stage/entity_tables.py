"""Which table a mapped class stands for where ``CopyInto`` and ``Stage.table`` take one.

`sqla_stage.entities` resolves ORM objects to Core objects; this module decides what a
mapped class (or an ``aliased()`` entity) means in each place a ``Table`` is taken:

- as the source of an unload (`unload_source`), the rows and columns ``select(User)``
  returns as a subquery (deferred columns included, as in ``INSERT ... FROM SELECT``); the
  statement names the table itself when that is exactly the table (the form of the
  warehouses' docs, ``COPY INTO @s/p/ FROM users``), and is ``select(User)`` otherwise
  (inheritance criteria, ``column_property`` expressions, columns left unmapped);
- as the target of a load (`load_table`), the one table the class stores its rows in;
  a class whose rows span tables (joined inheritance), that needs a discriminator value
  (a single-table-inheritance subclass) or is mapped to a select is refused;
- for ``Stage.table`` (`stage_table`), the table the class is mapped to: ``@%users``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.util import AliasedInsp
from sqlalchemy.sql.expression import Alias, TableClause
from sqlalchemy.sql.selectable import Select

from sqla_stage.entities import entity_inspection
from sqla_stage.errors import StageArgumentError


def unload_source(value: object) -> TableClause | Select[Any] | None:
    """What an unload of ``value`` reads: its table, or ``select(value)``; None if no entity.

    A class mapped plainly to one table, with every column of it mapped (and no extra
    expressions) in the table's order, gives
    the ``Table``; any other mapped class or ``aliased()`` entity gives ``select(value)``,
    which is what the ORM itself returns for it.
    """
    inspected = entity_inspection(value)
    if inspected is None:
        return None
    if isinstance(inspected, Mapper) and _selects_the_whole_table(inspected):
        table: TableClause = inspected.local_table  # type: ignore[assignment]
        return table
    return sa.select(value)  # type: ignore[call-overload, no-any-return]


def load_table(owner: str, value: object) -> TableClause | None:
    """The one table a load into a mapped class fills; None if ``value`` is no entity.

    Raises:
        StageArgumentError: the class is mapped to more than one table or to a select,
            is a single-table-inheritance subclass, or the ``aliased()`` entity aliases
            a select rather than the class's table.
    """
    inspected = entity_inspection(value)
    if inspected is None:
        return None
    mapper = inspected.mapper
    label = _label(inspected)
    table = _mapped_table(owner, inspected)
    if mapper.single:
        base = mapper.base_mapper.class_.__name__
        raise StageArgumentError(
            f"{owner}: {label} is a single-table-inheritance subclass, whose rows need its "
            f"discriminator value; load into {base}, with the discriminator column in the files"
        )
    if mapper.persist_selectable is not table:
        raise StageArgumentError(
            f"{owner}: {label} stores its rows in more than one table (joined "
            "inheritance); COPY INTO loads one table: load each table's class"
        )
    return table


def stage_table(owner: str, value: object) -> TableClause | None:
    """The table whose stage (``@%table``) a mapped class names; None if no entity.

    Raises:
        StageArgumentError: the class is mapped to a select or a join, or the
            ``aliased()`` entity aliases a select rather than the class's table.
    """
    inspected = entity_inspection(value)
    if inspected is None:
        return None
    return _mapped_table(owner, inspected)


def _mapped_table(owner: str, inspected: Mapper[Any] | AliasedInsp[Any]) -> TableClause:
    """The class's own table; refused when it is a join or a select, or aliased to one."""
    mapper = inspected.mapper
    table = mapper.local_table
    label = _label(inspected)
    if not isinstance(table, TableClause):
        raise StageArgumentError(
            f"{owner}: {label} is mapped to {type(table).__name__.lower()}, not to a table"
        )
    if isinstance(inspected, AliasedInsp):
        selectable = inspected.selectable
        if not (isinstance(selectable, Alias) and selectable.element is table):
            raise StageArgumentError(
                f"{owner}: {label} aliases a select, not the table {table.name}; "
                "use the class, or aliased() without a selectable"
            )
    return table


def _selects_the_whole_table(mapper: Mapper[Any]) -> bool:
    """Whether ``select(cls)`` reads every row and every column of the table, in order."""
    table = mapper.local_table
    if (
        not isinstance(table, sa.Table)
        or mapper.inherits is not None
        or mapper.single
        or mapper.selectable is not table
    ):
        return False
    selected = [prop.columns[0] for prop in mapper.column_attrs]
    return len(selected) == len(table.c) and all(
        mine is theirs for mine, theirs in zip(selected, table.c, strict=True)
    )


def _label(inspected: Mapper[Any] | AliasedInsp[Any]) -> str:
    name = inspected.class_.__name__
    return f"aliased({name})" if isinstance(inspected, AliasedInsp) else name
