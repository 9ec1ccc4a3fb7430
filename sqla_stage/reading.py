"""Staged files into pandas, polars or pyarrow, in one call, through DuckDB.

``stage.read(conn, "daily/", file_format=Parquet())`` (or [read][sqla_stage.reading.read])
and [Stage.read_arrow][sqla_stage.stage_methods.StageMethods.read_arrow] (or
[read_arrow][sqla_stage.reading.read_arrow]) select every row of the files under a stage
path: the files are listed as LIST lists them (``pattern`` must match a whole name), read
by DuckDB's ``read_parquet`` / ``read_csv`` / ``read_json`` as
``SELECT * FROM @stage/path`` reads them on the runtime, and handed over as Arrow data
(``to_arrow_table()``, ``df()``, ``pl()``): no row passes through Python. A CSV file's first line
is a header only where the format says so (``CSV(skip_header=1)``: the skipped line names
the columns); unlike the SQL form, which reads CSV fields as text as Snowflake does, the
columns are typed by DuckDB's sniffer. The format may carry options
(``CSV(skip_header=1, field_delimiter="|")``), which the SQL form cannot.

The query runs on the connection's own DuckDB connection, inside its transaction, so it
sees stages and files created there; long reads show a progress bar (see
`sqla_stage.runtime.engine.progress`). Only the DuckDB runtime can do this: elsewhere
(Snowflake, Databend) the rows would have to come through the driver, and a
[StageRuntimeError][sqla_stage.StageRuntimeError] says so. pandas and polars are
optional (``pip install 'sqla-stage[pandas]'``, ``'sqla-stage[polars]'``).

``bind`` may also be an ORM ``Session`` (or ``scoped_session``): the files are read on
``session.connection()``, inside the session's transaction.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from sqla_stage.errors import StageArgumentError, StageProgrammingError
from sqla_stage.formats import FormatSpec, coerce_format
from sqla_stage.locations import coerce_location
from sqla_stage.stage import StagePath

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]
    import polars  # type: ignore[import-not-found, unused-ignore]
    import pyarrow

#: What the readers read on: a connection, an engine (a connection of its own) or a Session.
ReadBind = Connection | Engine | Session | scoped_session[Any]


def _duckdb_connection(bind: Connection, owner: str) -> tuple[Any, Any]:
    """The engine's runtime settings and the DuckDB connection under ``bind``.

    Raises:
        StageRuntimeError: the engine is not a DuckDB engine with the runtime.
    """
    from sqla_stage.runtime.engine.settings import settings_of

    settings = settings_of(bind.engine)
    if settings is None:
        raise StageProgrammingError(
            f"{owner} reads staged files through the DuckDB runtime, and this "
            f"{bind.dialect.name!r} engine does not have it: create the engine as "
            "create_engine('duckdb:///...', plugins=['sqla_stage']), or on a warehouse "
            "run SELECT ... FROM @stage/path (staged()) and fetch its rows"
        )
    return settings, bind.connection.driver_connection


@contextlib.contextmanager
def _relation(
    bind: ReadBind,
    location: object,
    file_format: FormatSpec | type[FormatSpec] | str | None,
    pattern: str | None,
    owner: str,
) -> Iterator[Any]:
    """A DuckDB relation of every row of the staged files, while the connection is open."""
    if isinstance(bind, Engine):
        with (
            bind.connect() as connection,
            _relation(connection, location, file_format, pattern, owner) as relation,
        ):
            yield relation
        return
    if isinstance(bind, (Session, scoped_session)):
        bind = bind.connection()
    if not isinstance(bind, Connection):
        raise StageArgumentError(
            f"{owner}: expected a Connection, an Engine or a Session, not {bind!r}"
        )
    where = coerce_location(owner, location)
    if not isinstance(where, StagePath):
        raise StageArgumentError(f"{owner}: expected a stage or stage path, not {where!r}")
    if pattern is not None and not isinstance(pattern, str):
        raise StageArgumentError(f"{owner}: pattern must be a string, not {pattern!r}")
    spec = coerce_format(owner, file_format)
    from sqla_stage.runtime.engine import progress
    from sqla_stage.runtime.engine.context import StageContext, stage_label
    from sqla_stage.runtime.queries.rewrite import read_staged

    settings, duckdb_connection = _duckdb_connection(bind, owner)
    cursor = duckdb_connection.cursor()
    context = StageContext(settings, cursor, None)
    try:
        source = read_staged(context, where, spec, pattern)
        options = bind.get_execution_options()
        title = f"read {stage_label(where.stage)}/{where.path}"
        with progress.scope(settings.stage_progress, options), progress.tracked(cursor, title):
            yield cursor.sql(f"SELECT * FROM {source}")
    finally:
        context.close()


def _require(module: str, what: str) -> None:
    """Refuse to read into ``what`` without ``module`` (DuckDB builds it), naming the extra.

    Raises:
        ImportError: ``module`` is not installed.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"reading staged files into {what} needs {module}: "
            f"pip install 'sqla-stage[{module}]' (read_arrow() needs only pyarrow)"
        ) from None


def read(
    bind: ReadBind,
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
) -> pandas.DataFrame:
    """Every row of the staged files under ``location`` as a pandas DataFrame.

    Args:
        bind: A connection (or engine, or Session) of a DuckDB engine with the runtime.
        location: A stage, a stage path (``stage / "daily/"``) or ``"@stage/daily/"``.
        file_format: How to read the files: ``Parquet()``, ``CSV(...)``, ``JSON()`` or a
            named ``FileFormat``; by default the stage's format, else CSV.
        pattern: A regular expression the files' names must match whole.

    Raises:
        ImportError: pandas is not installed.
        StageRuntimeError: not the DuckDB runtime, no such stage, or no file to read.
    """
    _require("pandas", "a DataFrame")
    with _relation(bind, location, file_format, pattern, "read") as relation:
        return relation.df()


def read_arrow(
    bind: ReadBind,
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
) -> pyarrow.Table:
    """Every row of the staged files under ``location`` as a pyarrow Table.

    The arguments are those of [read][sqla_stage.reading.read].

    Raises:
        StageRuntimeError: not the DuckDB runtime, no such stage, or no file to read.
    """
    with _relation(bind, location, file_format, pattern, "read_arrow") as relation:
        if hasattr(relation, "to_arrow_table"):
            return relation.to_arrow_table()
        return relation.arrow()  # DuckDB before 1.4 # pragma: no cover


def read_polars(
    bind: ReadBind,
    location: object,
    *,
    file_format: FormatSpec | type[FormatSpec] | str | None = None,
    pattern: str | None = None,
) -> polars.DataFrame:
    """Every row of the staged files under ``location`` as a polars DataFrame.

    DuckDB hands the rows to polars as Arrow data (``pl()``), never as Python rows. The
    arguments are those of [read][sqla_stage.reading.read].

    Raises:
        ImportError: polars is not installed.
        StageRuntimeError: not the DuckDB runtime, no such stage, or no file to read.
    """
    _require("polars", "a polars DataFrame")
    with _relation(bind, location, file_format, pattern, "read_polars") as relation:
        frame: polars.DataFrame = relation.pl()
        return frame
