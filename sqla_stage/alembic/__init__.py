"""Alembic support: ``import sqla_stage.alembic`` in ``env.py``.

The import registers, with Alembic's plugin APIs:

- the operations ``op.create_stage``, ``op.drop_stage`` and ``op.alter_stage``
  ([operations][sqla_stage.alembic.operations]), each with its reverse;
- autogenerate's comparison of the stages of ``target_metadata`` with the database's
  (`compare`, reading them with
  `reflect`), and the rendering of the operations into
  migration files without secrets (`render`);
- a plain Alembic implementation for the ``duckdb``, ``snowflake`` and ``databend``
  dialects where none is installed (Alembic needs one per dialect, and those packages
  ship none).

See ``docs/alembic.md``.
"""

from __future__ import annotations

from alembic.ddl import impl

from sqla_stage.alembic import compare, render
from sqla_stage.alembic.operations import AlterStageOp, CreateStageOp, DropStageOp
from sqla_stage.alembic.render import secret_variable

#: The dialects given a plain Alembic implementation, and whether their DDL is transactional.
_IMPLEMENTATIONS = {"duckdb": True, "snowflake": False, "databend": False}


def _register_implementations() -> None:
    registered = getattr(impl, "_impls", {})
    for name, transactional in _IMPLEMENTATIONS.items():
        if name not in registered:
            attributes = {"__dialect__": name, "transactional_ddl": transactional}
            type(f"SqlaStage{name.title()}Impl", (impl.DefaultImpl,), attributes)


_register_implementations()

__all__ = [
    "AlterStageOp",
    "CreateStageOp",
    "DropStageOp",
    "compare",
    "render",
    "secret_variable",
]
