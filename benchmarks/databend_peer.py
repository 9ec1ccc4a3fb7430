"""Embedded Databend as a peer of the benchmarks: its unload, load, LIST and REMOVE.

:class:`Databend` loads the benchmark rows into an embedded Databend (PyPI ``databend``,
no server) and hands out :class:`~benchmarks.harness.Contender` objects named
``databend`` that run Databend's own statements for the same tasks as this runtime:
``COPY INTO @stage/... FROM bench`` (unload), ``COPY INTO <table> FROM @stage`` (load),
``LIST @stage`` and ``REMOVE @stage``. Each contender checks its result (rows unloaded,
rows loaded) so that a measured time is never the time of a statement that did nothing.

Embedded Databend resolves its storage against the current working directory (see
``tests/conftest.py``): the metadata store and the table data when ``databend`` is first
imported, internal stages when each statement runs. This module therefore imports
``databend`` lazily, inside the work folder, and runs every statement with the working
directory switched to that folder.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.data import Dataset
from benchmarks.harness import Contender

#: ``FILE_FORMAT`` of each unload format (``json`` is newline-delimited JSON).
UNLOAD_FORMATS = {
    "parquet": "TYPE = PARQUET",
    "csv": "TYPE = CSV",
    "csv_gzip": "TYPE = CSV COMPRESSION = GZIP",
    "json": "TYPE = NDJSON",
}

#: ``FILE_FORMAT`` of each load format (the CSV files of the dataset have a header line).
LOAD_FORMATS = {
    "parquet": "TYPE = PARQUET",
    "csv": "TYPE = CSV SKIP_HEADER = 1",
}

#: MAX_FILE_SIZE of a split unload (Snowflake's and this runtime's default).
SPLIT_SIZE = 16_000_000

#: MAX_FILE_SIZE of a one-file unload: larger than any benchmark output.
SINGLE_SIZE = 5 * 1024**3

#: The process's one embedded Databend: the folder it was started in, and its context.
_ENGINE: tuple[Path, Any] | None = None


def _engine(workdir: Path) -> tuple[Path, Any]:
    """Start embedded Databend under ``workdir``, or return the one already started."""
    global _ENGINE
    if _ENGINE is None:
        if "databend" in sys.modules:
            raise RuntimeError(
                "the databend module was imported before benchmarks.databend_peer started "
                "it, so its metadata store lives under the working directory of that "
                "import; let Databend() import it"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(workdir):
            module = importlib.import_module("databend")
            _ENGINE = (workdir, module.SessionContext())
    return _ENGINE


def _databend_type(kind: Any) -> str:
    """The Databend column type of an Arrow type of the dataset's Parquet file.

    Raises:
        ValueError: a type the benchmark data does not use.
    """
    if pa.types.is_integer(kind):
        return {8: "TINYINT", 16: "SMALLINT", 32: "INT", 64: "BIGINT"}[kind.bit_width]
    if pa.types.is_decimal(kind):
        return f"DECIMAL({kind.precision}, {kind.scale})"
    if pa.types.is_floating(kind):
        return "DOUBLE" if kind.bit_width == 64 else "FLOAT"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "VARCHAR"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    raise ValueError(f"no Databend type for the Arrow type {kind}")


def _quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _fs_url(folder: Path) -> str:
    """The ``fs://`` URL of an external stage on a local folder."""
    return f"fs://{folder.resolve()}/"


class Databend:
    """An embedded Databend holding table ``bench``, and its contenders.

    Embedded Databend fixes its metadata store and table storage to the working
    directory of the first ``import databend``, and resolves internal stages against the
    working directory of each statement. So:

    * the first :class:`Databend` of a process imports ``databend`` with the working
      directory switched to ``workdir`` (``databend`` must not have been imported before
      by anyone else), and its data stays under ``workdir/.databend`` for the life of the
      process: keep that folder until the process ends;
    * a later :class:`Databend` shares that embedded Databend and its folder (its own
      ``workdir`` is then only created), with its own database and stages, so several
      case modules may each make one;
    * every statement runs with the working directory switched to that folder and back,
      so callers need not keep it anywhere; but the working directory is global to the
      process, so statements must not run from several threads at once (the harness
      runs one contender at a time).

    Attributes:
        root: The folder embedded Databend keeps its data under.
        data: The benchmark data.
        database: This instance's database (tables ``bench`` and the load targets).
    """

    def __init__(self, workdir: Path, data: Dataset) -> None:
        """Start (or join) embedded Databend and load ``data``'s rows into ``bench``.

        Args:
            workdir: Where embedded Databend keeps its data if this is the first
                instance of the process.
            data: The rows to load (read from ``data.parquet_file``).
        """
        workdir.mkdir(parents=True, exist_ok=True)
        self.root, self._context = _engine(workdir)
        self.data = data
        self._tag = uuid.uuid4().hex[:8]
        self.database = f"bench_{self._tag}"
        self._stages: list[str] = []
        schema = pq.read_schema(data.parquet_file)
        self._columns = ", ".join(
            f"{field.name} {_databend_type(field.type)} NULL" for field in schema
        )
        self._sql(f"CREATE DATABASE {self.database}")
        self._sql(f"CREATE TABLE {self.database}.bench ({self._columns})")
        source = self._stage("source", data.parquet_file.parent)
        loaded = self._loaded(
            f"COPY INTO {self.database}.bench FROM @{source} "
            f"FILES = ({_quote(data.parquet_file.name)}) FILE_FORMAT = (TYPE = PARQUET)"
        )
        if loaded != data.rows:
            raise RuntimeError(f"Databend loaded {loaded} rows into bench, not {data.rows}")

    # Statements

    def _sql(self, text: str) -> list[dict[str, Any]]:
        """Run one statement in Databend's folder; its rows as dicts."""
        with contextlib.chdir(self.root):
            batches = self._context.sql(text).to_py_arrow()
        return [row for batch in batches or () for row in batch.to_pylist()]

    def _count(self, text: str) -> int:
        """Run one statement in Databend's folder; how many rows it returned."""
        with contextlib.chdir(self.root):
            batches = self._context.sql(text).to_py_arrow()
        return sum(batch.num_rows for batch in batches or ())

    def _loaded(self, text: str) -> int:
        """Run a ``COPY INTO <table>``; the rows it loaded."""
        return sum(int(row["Rows_loaded"]) for row in self._sql(text))

    def _stage(self, purpose: str, folder: Path | None = None) -> str:
        """Create a stage: internal, or external on a local folder. Its name."""
        name = f"{purpose}_{self._tag}_{len(self._stages)}"
        url = "" if folder is None else f" URL = {_quote(_fs_url(folder))}"
        self._sql(f"CREATE STAGE {name}{url}")
        self._stages.append(name)
        return name

    def rows(self, table: str) -> int:
        """How many rows a table of this instance's database holds (for checks)."""
        (row,) = self._sql(f"SELECT count(*) AS n FROM {self.database}.{table}")
        return int(row["n"])

    # Contenders

    def unload(self, fmt: str, split: bool) -> Contender:
        """``COPY INTO @stage/out/ FROM bench`` into an internal stage.

        Args:
            fmt: ``parquet``, ``csv``, ``csv_gzip`` or ``json`` (NDJSON).
            split: Files of at most ``MAX_FILE_SIZE = 16000000``; else ``SINGLE = TRUE``
                with a ``MAX_FILE_SIZE`` larger than the output.

        Returns:
            The contender ``databend``; its ``prepare`` removes the previous output.
        """
        stage = self._stage(f"unload_{fmt}")
        placement = f"MAX_FILE_SIZE = {SPLIT_SIZE}"
        if not split:
            placement = f"SINGLE = TRUE MAX_FILE_SIZE = {SINGLE_SIZE}"
        statement = (
            f"COPY INTO @{stage}/out/ FROM {self.database}.bench "
            f"FILE_FORMAT = ({UNLOAD_FORMATS[fmt]}) {placement}"
        )

        def run() -> None:
            (row,) = self._sql(statement)
            if row["rows_unloaded"] != self.data.rows:
                raise RuntimeError(f"Databend unloaded {row['rows_unloaded']} rows")

        return Contender("databend", run, prepare=lambda: self._sql(f"REMOVE @{stage}"))

    def load(self, fmt: str, many: bool) -> Contender:
        """``COPY INTO <table> FROM @stage`` of the dataset's files, ``FORCE = TRUE``.

        The stage is external, on the folder of the files (``fs://``): the one file of
        the dataset is named with ``FILES = (...)``; with ``many``, the stage's folder
        holds exactly the files to load.

        Args:
            fmt: ``parquet`` or ``csv`` (with a header line, skipped).
            many: Load every file of ``parquet_dir`` / ``csv_dir``; else the one file.

        Returns:
            The contender ``databend``; its ``prepare`` empties the target table, and
            ``FORCE = TRUE`` makes every repetition load again despite the load history.
        """
        table = f"{self.database}.load_{fmt}_{'many' if many else 'one'}"
        self._sql(f"CREATE TABLE {table} ({self._columns})")
        if many:
            folder = self.data.parquet_dir if fmt == "parquet" else self.data.csv_dir
            files = ""
        else:
            file = self.data.parquet_file if fmt == "parquet" else self.data.csv_file
            folder, files = file.parent, f" FILES = ({_quote(file.name)})"
        stage = self._stage(f"load_{fmt}", folder)
        statement = (
            f"COPY INTO {table} FROM @{stage}{files} "
            f"FILE_FORMAT = ({LOAD_FORMATS[fmt]}) FORCE = TRUE"
        )

        def run() -> None:
            loaded = self._loaded(statement)
            if loaded != self.data.rows:
                raise RuntimeError(f"Databend loaded {loaded} rows, not {self.data.rows}")

        return Contender("databend", run, prepare=lambda: self._sql(f"TRUNCATE TABLE {table}"))

    def load_tiny(self, folder: Path, count: int) -> Contender:
        """``COPY INTO <table> (id BIGINT) FROM @stage ... FORCE = TRUE`` of ``count`` tiny CSVs.

        The stage is external, on ``folder`` (``fs://``), which holds exactly the files
        (one header line and one row each).

        Returns:
            The contender ``databend``; its ``prepare`` empties the table.
        """
        table = f"{self.database}.tiny_{count}"
        self._sql(f"CREATE TABLE {table} (id BIGINT)")
        stage = self._stage(f"tiny_{count}", folder)
        statement = (
            f"COPY INTO {table} FROM @{stage} FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) "
            "FORCE = TRUE"
        )

        def run() -> None:
            loaded = self._loaded(statement)
            if loaded != count:
                raise RuntimeError(f"Databend loaded {loaded} rows, not {count}")

        return Contender("databend", run, prepare=lambda: self._sql(f"TRUNCATE TABLE {table}"))

    def list_files(self, folder: Path) -> Contender:
        """``LIST @stage`` of an external stage on ``folder`` (``fs://<folder>/``).

        Returns:
            The contender ``databend``; its ``run`` checks that LIST saw every file
            (counted, untimed, by ``prepare``).
        """
        stage = self._stage("list", folder)
        expected: list[int] = [0]

        def prepare() -> None:
            expected[0] = sum(len(names) for _, _, names in os.walk(folder))

        def run() -> None:
            listed = self._count(f"LIST @{stage}")
            if listed != expected[0]:
                raise RuntimeError(f"Databend listed {listed} files, not {expected[0]}")

        return Contender("databend", run, prepare=prepare)

    def remove_files(self, folder: Path, refill: Callable[[], object]) -> Contender:
        """``REMOVE @stage`` of an external stage on ``folder``: every file in it.

        Args:
            folder: The folder whose files are removed.
            refill: Recreates the files in ``folder``; ``prepare`` calls it.

        Returns:
            The contender ``databend``.
        """
        stage = self._stage("remove", folder)
        return Contender("databend", lambda: self._sql(f"REMOVE @{stage}"), prepare=refill)

    def close(self) -> None:
        """Drop this instance's stages and database (embedded Databend keeps running)."""
        for stage in self._stages:
            with contextlib.suppress(Exception):
                self._sql(f"DROP STAGE IF EXISTS {stage}")
        with contextlib.suppress(Exception):
            self._sql(f"DROP DATABASE IF EXISTS {self.database}")
        self._stages.clear()
