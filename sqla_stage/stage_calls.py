"""The work behind the everyday stage calls: build the construct, run it where it belongs.

[Stage][sqla_stage.Stage]'s ``list``, ``remove``, ``put``, ``get``, ``unload``, ``load``,
``read``, ``read_arrow``, ``read_polars``, ``create`` and ``drop`` (declared in
`sqla_stage.stage_methods`) delegate here. This module sits above the constructs and the
readers, so it may use them all; importing it registers `StageCalls` with
[register_stage_calls][sqla_stage.stage_methods.register_stage_calls] (``import sqla_stage``
does).

Each call returns what executing its construct returns: ``landing.list(conn)`` is
``conn.execute(ListFiles(landing))``. Where it runs depends on ``bind``:

* a ``Connection``: ``connection.execute``, in the connection's transaction;
* an ``Engine``: a transaction of its own (``engine.begin()``), committed when the call
  returns; every row of the result is fetched before that, so the result stays readable
  after the connection is gone;
* an ORM ``Session`` or ``scoped_session``: ``session.execute``, inside the session's
  transaction (a rollback of the session undoes it, as it undoes the session's other work).

Mapped classes are taken where tables are, as `CopyInto` takes them
(`sqla_stage.entity_tables`): ``unload(conn, User)`` unloads what ``select(User)`` returns,
``unload(conn, select(User).where(...))`` a query, and ``load(conn, User)`` loads into
``users``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine, Result
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.expression import TableClause

from sqla_stage.copy import CopyInto
from sqla_stage.ddl import CreateStage, DropStage
from sqla_stage.display import wrap_result
from sqla_stage.entities import entity_table
from sqla_stage.errors import StageArgumentError
from sqla_stage.files import Get, ListFiles, Put, RemoveFiles
from sqla_stage.option_types import (
    FileFormatArg,
    GetOptions,
    LoadOptions,
    PutOptions,
    UnloadOptions,
)
from sqla_stage.reading import read, read_arrow, read_polars
from sqla_stage.stage_methods import StageBind, register_stage_calls

if TYPE_CHECKING:
    from sqla_stage.stage import Stage


def execute(bind: StageBind, statement: Executable, owner: str) -> Result[Any]:
    """Run ``statement`` on ``bind``: a Connection, an Engine or a Session (see above).

    Raises:
        StageArgumentError: ``bind`` cannot execute a statement.
    """
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            result = connection.execute(statement)
            if not result.returns_rows:
                return result
            return wrap_result(result.freeze()(), statement)
    run = getattr(bind, "execute", None)
    if not callable(run):
        raise StageArgumentError(
            f"{owner}: expected a Connection, an Engine or a Session, not {bind!r}"
        )
    executed: Result[Any] = run(statement)
    return executed


class StageCalls:
    """The [StageCallsHook][sqla_stage.stage_methods.StageCallsHook] of the package."""

    def create(self, bind: StageBind, stage: Stage, checkfirst: bool) -> None:
        """Run ``CreateStage(stage, if_not_exists=checkfirst)``."""
        execute(bind, CreateStage(stage, if_not_exists=checkfirst), "Stage.create")

    def drop(self, bind: StageBind, stage: Stage, checkfirst: bool) -> None:
        """Run ``DropStage(stage, if_exists=checkfirst)``."""
        execute(bind, DropStage(stage, if_exists=checkfirst), "Stage.drop")

    def list(self, bind: StageBind, stage: Stage, path: str, pattern: str | None) -> Result[Any]:
        """Run ``ListFiles(stage / path, pattern=pattern)``."""
        return execute(bind, ListFiles(stage / path, pattern=pattern), "Stage.list")

    def remove(self, bind: StageBind, stage: Stage, path: str, pattern: str | None) -> Result[Any]:
        """Run ``RemoveFiles(stage / path, pattern=pattern)``."""
        return execute(bind, RemoveFiles(stage / path, pattern=pattern), "Stage.remove")

    def put(
        self, bind: StageBind, stage: Stage, local_path: str, path: str, options: PutOptions
    ) -> Result[Any]:
        """Run ``Put(local_path, stage / path, **options)``."""
        return execute(bind, Put(local_path, stage / path, **options), "Stage.put")

    def get(
        self, bind: StageBind, stage: Stage, path: str, local_dir: str, options: GetOptions
    ) -> Result[Any]:
        """Run ``Get(stage / path, local_dir, **options)``."""
        return execute(bind, Get(stage / path, local_dir, **options), "Stage.get")

    def unload(
        self, bind: StageBind, stage: Stage, source: object, path: str, options: UnloadOptions
    ) -> Result[Any]:
        """Run ``CopyInto(stage / path, source, **options)``."""
        statement = CopyInto(stage / path, source, **options)
        return execute(bind, statement, "Stage.unload")

    def load(
        self, bind: StageBind, stage: Stage, target: object, path: str, options: LoadOptions
    ) -> Result[Any]:
        """Run ``CopyInto(target, stage / path, **options)``."""
        if not isinstance(target, TableClause) and entity_table(target) is None:
            raise StageArgumentError(
                "Stage.load: the target of a load must be a Table or a mapped class, "
                f"not {target!r}"
            )
        statement = CopyInto(target, stage / path, **options)
        return execute(bind, statement, "Stage.load")

    def read(
        self,
        bind: StageBind,
        stage: Stage,
        path: str,
        file_format: FileFormatArg,
        pattern: str | None,
        into: str,
    ) -> Any:
        """Read with [read][sqla_stage.reading.read], ``read_arrow`` or ``read_polars``."""
        reader = {"pandas": read, "arrow": read_arrow, "polars": read_polars}[into]
        return reader(bind, stage / path, file_format=file_format, pattern=pattern)


register_stage_calls(StageCalls())
