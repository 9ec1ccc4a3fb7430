"""Load the dataset's files into an empty table: Parquet and CSV, one file and many.

The runtime runs ``COPY INTO target FROM @bench_in/<path> FILE_FORMAT = (...) FORCE =
TRUE`` through a SQLAlchemy engine, from a stage whose URL is the dataset's folder (so
every contender reads the same files). DuckDB's baseline is its own ``COPY target FROM
'<path or glob>' (...)``: the statement a DuckDB user writes to load files into an
existing table, typed by the table. ``duckdb read_csv`` is the other spelling a DuckDB
user reaches for, ``INSERT INTO target SELECT * FROM read_csv('<glob>')``, whose
auto-detection samples every file. Before every repetition (untimed) each contender's
``target`` table is dropped, created empty and checkpointed, so every repetition really
loads every row.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from benchmarks import common
from benchmarks.data import Dataset
from benchmarks.harness import Bench, Case, Contender, Target
from sqla_stage import CSV, CopyInto, CreateStage, Parquet, Stage

GROUP = "Load"


def source(data: Dataset, fmt: str, many: bool) -> Path:
    """The dataset file (or folder of files) a case loads."""
    if fmt == "parquet":
        return data.parquet_dir if many else data.parquet_file
    return data.csv_dir if many else data.csv_file


def duckdb_path(data: Dataset, fmt: str, many: bool) -> str:
    """The path DuckDB is given: the file, or a glob of the folder's files."""
    path = source(data, fmt, many)
    return f"{path}/*.{fmt}" if many else str(path)


class Loads:
    """A load case's connections, opened by its setup and closed after it."""

    def __init__(self, bench: Bench, fmt: str, many: bool) -> None:
        """Remember the case; nothing is opened yet."""
        self.bench = bench
        self.fmt = fmt
        self.many = many
        self.folder = bench.workdir / "load"
        self.stage = Stage("bench_in")
        self.ddl = ""
        self.engine: sa.Engine | None = None
        self.ducks: dict[str, duckdb.DuckDBPyConnection] = {}

    def open(self) -> None:
        """The runtime's engine and stage, and a DuckDB database per other contender."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = self.bench.data
        self.ddl = common.table_ddl(data, "target")
        self.engine = common.runtime_engine(self.folder / "runtime.duckdb", self.folder / "st")
        url = Stage("bench_in", url=f"{data.parquet_file.parent}/")
        with self.engine.begin() as conn:
            conn.execute(CreateStage(url, or_replace=True))

    def close(self) -> None:
        """Close every connection."""
        common.release(self.engine, *self.ducks.values())
        self.engine = None
        self.ducks.clear()

    def duck(self, name: str) -> duckdb.DuckDBPyConnection:
        """The DuckDB database of one contender (its own file)."""
        if name not in self.ducks:
            self.ducks[name] = duckdb.connect(str(self.folder / f"{name}.duckdb"))
        return self.ducks[name]

    def empty_duck(self, name: str) -> Callable[[], None]:
        """A prepare that gives contender ``name`` an empty, checkpointed ``target``."""

        def prepare() -> None:
            con = self.duck(name)
            con.execute("DROP TABLE IF EXISTS target")
            con.execute(self.ddl)
            con.execute("CHECKPOINT")

        return prepare

    def runtime(self) -> Contender:
        """``COPY INTO target FROM @bench_in/<path>`` through SQLAlchemy."""
        path = source(self.bench.data, self.fmt, self.many).name + ("/" if self.many else "")
        spec = Parquet() if self.fmt == "parquet" else CSV(skip_header=1)
        statement = CopyInto(sa.table("target"), self.stage / path, file_format=spec, force=True)
        expected = self.bench.data.many if self.many else 1

        def prepare() -> None:
            assert self.engine is not None
            with self.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS target")
                conn.exec_driver_sql(self.ddl)
            with self.engine.begin() as conn:
                conn.exec_driver_sql("CHECKPOINT")

        def run() -> None:
            assert self.engine is not None
            with self.engine.begin() as conn:
                loaded = conn.execute(statement).all()
            assert len(loaded) == expected, loaded

        return Contender("sqla_stage", run, prepare)

    def duckdb_copy(self) -> Contender:
        """DuckDB's ``COPY target FROM '<path>'``."""
        options = "FORMAT parquet" if self.fmt == "parquet" else "FORMAT csv, HEADER true"
        sql = f"COPY target FROM '{duckdb_path(self.bench.data, self.fmt, self.many)}' ({options})"
        return Contender(
            "duckdb", lambda: self.duck("duckdb").execute(sql).fetchall(), self.empty_duck("duckdb")
        )

    def duckdb_read_csv(self) -> Contender:
        """``INSERT INTO target SELECT * FROM read_csv('<path>')`` (auto-detection)."""
        path = duckdb_path(self.bench.data, self.fmt, self.many)
        sql = f"INSERT INTO target SELECT * FROM read_csv('{path}')"
        name = "duckdb read_csv"
        con = "duckdb_read_csv"
        return Contender(name, lambda: self.duck(con).execute(sql).fetchall(), self.empty_duck(con))

    def library(self) -> Contender:
        """A library reads the files (pyarrow Parquet, pandas CSV); DuckDB inserts the frame."""
        path = source(self.bench.data, self.fmt, self.many)
        read: Callable[[], Any]
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            name = "pyarrow"

            def read() -> Any:
                return pq.read_table(path)
        else:
            pd: Any = importlib.import_module("pandas")
            name = "pandas"
            files = sorted(path.glob("*.csv")) if self.many else [path]

            def read() -> Any:
                frames = [pd.read_csv(file) for file in files]
                return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

        def run() -> None:
            con = self.duck(name)
            con.register("incoming", read())
            try:
                con.execute("INSERT INTO target SELECT * FROM incoming")
            finally:
                con.unregister("incoming")

        return Contender(name, run, self.empty_duck(name))


def _targets(fmt: str, many: bool) -> list[Target]:
    targets = [Target("sqla_stage", "duckdb", 1.05, "within 1.05x of DuckDB's own COPY FROM")]
    if fmt == "parquet":
        targets.append(Target("sqla_stage", "databend", 1 / 3, "at least 3x faster than Databend"))
    else:
        targets.append(Target("sqla_stage", "databend", 1.0, "faster than Databend"))
    if many:
        targets.append(Target("sqla_stage", "fakesnow", 1.0, "faster than fakesnow"))
    return targets


def _case(bench: Bench, fmt: str, many: bool) -> Case:
    loads = Loads(bench, fmt, many)
    contenders = [loads.runtime(), loads.duckdb_copy()]
    if fmt == "csv":
        contenders.append(loads.duckdb_read_csv())
    contenders += common.present(
        [
            common.databend(bench, lambda peer: peer.load(fmt, many)),
            common.fakesnow(bench, fmt, many),
            loads.library(),
        ]
    )
    title = "Parquet" if fmt == "parquet" else "CSV"
    shape = f"{bench.data.many} files" if many else "one file"
    path = duckdb_path(bench.data, fmt, many).replace(str(bench.data.parquet_file.parent), "…")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    note = f"DuckDB's baseline: `COPY target FROM '{path}' ({options})`."
    if fmt == "csv":
        note += (
            f" `duckdb read_csv` is `INSERT INTO target SELECT * FROM read_csv('{path}')`, "
            "whose type and dialect detection samples each file."
        )
    return Case(
        name=f"load {title}, {shape}",
        group=GROUP,
        contenders=contenders,
        targets=common.reachable(_targets(fmt, many), contenders),
        note=note,
        setup=loads.open,
        teardown=loads.close,
    )


def cases(bench: Bench) -> list[Case]:
    """The four load cases: Parquet and CSV, one file and many."""
    return [_case(bench, fmt, many) for fmt in ("parquet", "csv") for many in (False, True)]
