"""The everyday calls on a stage: the methods [Stage][sqla_stage.Stage] has besides its SQL.

``landing.list(conn)``, ``landing.put(conn, "/tmp/a.csv")``, ``landing.unload(conn, User)``,
``landing.load(conn, User)``, ``landing.read(conn)`` and the like are one-liners over the
constructs (``ListFiles``, ``Put``, ``CopyInto``, ...). They live in `StageMethods`, a base
class of ``Stage``, as typed delegations: the constructs and the readers they need sit in
the same layer as ``Stage`` or above it, so this module imports none of them. The work is
done by an implementation of the `StageCallsHook` protocol that a higher module registers
with `register_stage_calls` when it is imported (`sqla_stage.stage_calls`, which
``import sqla_stage`` always imports), as SQLAlchemy's ``@compiles`` registers a compiler.

``bind`` is a ``Connection`` (the statement runs in its transaction), an ``Engine`` (a
transaction of its own, ``engine.begin()``) or an ORM ``Session`` / ``scoped_session``
(``session.execute``, inside the session's transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Unpack, cast

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from sqla_stage.errors import StageProgrammingError
from sqla_stage.option_types import (
    FileFormatArg,
    GetOptions,
    LoadOptions,
    PutOptions,
    UnloadOptions,
)

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]
    import polars  # type: ignore[import-not-found, unused-ignore]
    import pyarrow
    from sqlalchemy.engine import Result

    from sqla_stage.stage import Stage

#: Where a stage call runs: a connection, an engine (a transaction of its own) or a Session.
StageBind = Connection | Engine | Session | scoped_session[Any]


class StageCallsHook(Protocol):
    """What does the work of [StageMethods][sqla_stage.stage_methods.StageMethods].

    Each method builds the construct the call names and runs it on ``bind``, returning
    what executing the construct returns.
    """

    def create(self, bind: StageBind, stage: Stage, checkfirst: bool) -> None:
        """Run ``CreateStage``."""

    def drop(self, bind: StageBind, stage: Stage, checkfirst: bool) -> None:
        """Run ``DropStage``."""

    def list(self, bind: StageBind, stage: Stage, path: str, pattern: str | None) -> Result[Any]:
        """Run ``ListFiles``."""

    def remove(self, bind: StageBind, stage: Stage, path: str, pattern: str | None) -> Result[Any]:
        """Run ``RemoveFiles``."""

    def put(
        self, bind: StageBind, stage: Stage, local_path: str, path: str, options: PutOptions
    ) -> Result[Any]:
        """Run ``Put``."""

    def get(
        self, bind: StageBind, stage: Stage, path: str, local_dir: str, options: GetOptions
    ) -> Result[Any]:
        """Run ``Get``."""

    def unload(
        self, bind: StageBind, stage: Stage, source: object, path: str, options: UnloadOptions
    ) -> Result[Any]:
        """Run ``CopyInto(stage / path, source)``."""

    def load(
        self, bind: StageBind, stage: Stage, target: object, path: str, options: LoadOptions
    ) -> Result[Any]:
        """Run ``CopyInto(target, stage / path)``."""

    def read(
        self,
        bind: StageBind,
        stage: Stage,
        path: str,
        file_format: FileFormatArg,
        pattern: str | None,
        into: str,
    ) -> Any:
        """Read the staged files into ``"pandas"``, ``"arrow"`` or ``"polars"``."""


_hook: list[StageCallsHook] = []


def register_stage_calls(hook: StageCallsHook) -> None:
    """Make ``hook`` do the work of the stage calls (the last one registered wins)."""
    _hook[:] = [hook]


def _calls() -> StageCallsHook:
    if not _hook:
        raise StageProgrammingError(  # pragma: no cover - import sqla_stage registers it
            "the stage calls are not registered: import sqla_stage (sqla_stage.stage_calls)"
        )
    return _hook[0]


class StageMethods:
    """The everyday calls of a [Stage][sqla_stage.Stage]; ``bind`` is a `StageBind`."""

    def create(self, bind: StageBind, checkfirst: bool = False) -> None:
        """Emit ``CREATE STAGE`` (``IF NOT EXISTS`` when ``checkfirst``).

        Args:
            bind: A Connection, an Engine (a transaction of its own) or a Session.
            checkfirst: Create the stage only if it does not exist.
        """
        _calls().create(bind, self._stage(), bool(checkfirst))

    def drop(self, bind: StageBind, checkfirst: bool = False) -> None:
        """Emit ``DROP STAGE`` (``IF EXISTS`` when ``checkfirst``).

        Args:
            bind: A Connection, an Engine (a transaction of its own) or a Session.
            checkfirst: Drop the stage only if it exists.
        """
        _calls().drop(bind, self._stage(), bool(checkfirst))

    def list(self, bind: StageBind, *, path: str = "", pattern: str | None = None) -> Result[Any]:
        """The files in the stage: ``ListFiles(stage / path, pattern=pattern)``, executed.

        Args:
            bind: Where it runs: a Connection, an Engine or a Session.
            path: Only the files under this folder or name prefix.
            pattern: A regular expression the files' names must match whole.

        Returns:
            One row a file: ``name, size, md5, last_modified``.
        """
        return _calls().list(bind, self._stage(), path, pattern)

    def remove(self, bind: StageBind, *, path: str = "", pattern: str | None = None) -> Result[Any]:
        """Delete files: ``RemoveFiles(stage / path, pattern=pattern)``, executed.

        The arguments are those of [list][sqla_stage.stage_methods.StageMethods.list].
        """
        return _calls().remove(bind, self._stage(), path, pattern)

    def put(
        self, bind: StageBind, local_path: str, path: str = "", **options: Unpack[PutOptions]
    ) -> Result[Any]:
        """Upload local files: ``Put(local_path, stage / path, **options)``, executed.

        Args:
            bind: Where it runs: a Connection, an Engine or a Session.
            local_path: A local file or glob (``/tmp/data/*.csv``).
            path: The folder in the stage to upload into.
            **options: ``parallel``, ``auto_compress``, ``source_compression``,
                ``overwrite``.
        """
        return _calls().put(bind, self._stage(), local_path, path, options)

    def get(
        self, bind: StageBind, path: str, local_dir: str, **options: Unpack[GetOptions]
    ) -> Result[Any]:
        """Download staged files: ``Get(stage / path, local_dir, **options)``, executed.

        Args:
            bind: Where it runs: a Connection, an Engine or a Session.
            path: The file or folder in the stage.
            local_dir: The local folder to download into.
            **options: ``parallel``, ``pattern``.
        """
        return _calls().get(bind, self._stage(), path, local_dir, options)

    def unload(
        self, bind: StageBind, source: object, path: str = "", **options: Unpack[UnloadOptions]
    ) -> Result[Any]:
        """Unload rows into files: ``CopyInto(stage / path, source, **options)``, executed.

        Args:
            bind: Where it runs: a Connection, an Engine or a Session.
            source: A ``Table``, a ``select()`` (ORM criteria too) or a mapped class.
            path: The folder or file-name prefix in the stage.
            **options: ``file_format``, ``partition_by`` and the unload copy options
                (``header``, ``max_file_size``, ``single``, ``overwrite``, ...).

        Returns:
            ``rows_unloaded, input_bytes, output_bytes`` (or one row a file with
            ``detailed_output=True``).
        """
        return _calls().unload(bind, self._stage(), source, path, options)

    def load(
        self, bind: StageBind, target: object, path: str = "", **options: Unpack[LoadOptions]
    ) -> Result[Any]:
        """Load files into a table: ``CopyInto(target, stage / path, **options)``, executed.

        Args:
            bind: Where it runs: a Connection, an Engine or a Session.
            target: A ``Table`` or a mapped class.
            path: The folder or file-name prefix in the stage.
            **options: ``file_format``, ``columns`` and the load copy options
                (``pattern``, ``on_error``, ``purge``, ``match_by_column_name``, ...).

        Returns:
            One row a file: ``file, status, rows_parsed, rows_loaded, ...``.
        """
        return _calls().load(bind, self._stage(), target, path, options)

    def read(
        self,
        bind: StageBind,
        path: str = "",
        *,
        file_format: FileFormatArg = None,
        pattern: str | None = None,
    ) -> pandas.DataFrame:
        """The rows of the files under ``path`` as a pandas DataFrame (DuckDB runtime).

        Args:
            bind: A Connection, an Engine or a Session of a DuckDB engine with the runtime.
            path: The folder or file-name prefix in the stage (``"daily/"``).
            file_format: ``Parquet()``, ``CSV(...)``, ``JSON()`` or ``FileFormat(name)``;
                by default the stage's format, else CSV.
            pattern: A regular expression the files' names must match whole.

        See [sqla_stage.reading.read][sqla_stage.reading.read].
        """
        return _calls().read(bind, self._stage(), path, file_format, pattern, "pandas")

    def read_arrow(
        self,
        bind: StageBind,
        path: str = "",
        *,
        file_format: FileFormatArg = None,
        pattern: str | None = None,
    ) -> pyarrow.Table:
        """The rows of the files under ``path`` as a pyarrow Table (DuckDB runtime).

        The arguments are those of [read][sqla_stage.stage_methods.StageMethods.read]. See
        [sqla_stage.reading.read_arrow][sqla_stage.reading.read_arrow].
        """
        return _calls().read(bind, self._stage(), path, file_format, pattern, "arrow")

    def read_polars(
        self,
        bind: StageBind,
        path: str = "",
        *,
        file_format: FileFormatArg = None,
        pattern: str | None = None,
    ) -> polars.DataFrame:
        """The rows of the files under ``path`` as a polars DataFrame (DuckDB runtime).

        The data goes from DuckDB to polars as Arrow, never as Python rows; polars is
        optional (``pip install 'sqla-stage[polars]'``). The arguments are those of
        [read][sqla_stage.stage_methods.StageMethods.read]. See
        [sqla_stage.reading.read_polars][sqla_stage.reading.read_polars].
        """
        frame: polars.DataFrame = _calls().read(
            bind, self._stage(), path, file_format, pattern, "polars"
        )
        return frame

    def _stage(self) -> Stage:
        return cast("Stage", self)  # StageMethods is a base of Stage only
