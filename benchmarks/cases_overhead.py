"""The cost of one small statement: LIST of a one-file stage, against DuckDB's ``glob``.

A sample is the mean time of one statement over a loop of :data:`LOOP` statements on an
open connection (milliseconds). The contenders show where the time goes:

- ``sqla_stage``: ``conn.execute(ListFiles(stage)).all()``: SQLAlchemy compiles the
  construct (once; then its cache), the runtime finds the stage in its registry, lists
  the folder and returns the rows.
- ``sqla_stage text``: ``conn.exec_driver_sql("LIST @one").all()``: the runtime parses
  the text instead.
- ``sqlalchemy glob``: ``SELECT * FROM glob(?)`` through the same engine: SQLAlchemy and
  the runtime's check that the text is not a stage statement, with DuckDB doing the work.
- ``duckdb``: ``SELECT * FROM glob(?)`` on a raw DuckDB connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import duckdb
import sqlalchemy as sa

from benchmarks import common
from benchmarks.harness import Bench, Case, Contender, Target
from sqla_stage import CreateStage, ListFiles, Stage

GROUP = "Overhead"
#: Statements timed in one sample.
LOOP = 200
SMOKE_LOOP = 20


class Overhead:
    """The engine, the raw connection and the one-file stage."""

    def __init__(self, bench: Bench) -> None:
        """Remember where the case works."""
        self.folder = bench.workdir / "overhead"
        self.stage = Stage("one")
        self.loop = SMOKE_LOOP if bench.smoke else LOOP
        self.engine: sa.Engine | None = None
        self.conn: sa.Connection | None = None
        self.duck: duckdb.DuckDBPyConnection | None = None

    @property
    def pattern(self) -> str:
        """DuckDB's glob of the stage's files."""
        return f"{self.folder}/st/stage/internal/one/**"

    def open(self) -> None:
        """Create the stage and its file, and open both connections."""
        common.fresh(self.folder)
        self.engine = common.runtime_engine(self.folder / "runtime.duckdb", self.folder / "st")
        with self.engine.begin() as conn:
            conn.execute(CreateStage(self.stage))
        stage_folder = self.folder / "st" / "stage" / "internal" / "one"
        stage_folder.mkdir(parents=True, exist_ok=True)
        (stage_folder / "data.csv").write_text("id\n1\n")
        self.conn = self.engine.connect()
        self.duck = duckdb.connect()

    def close(self) -> None:
        """Close both connections."""
        common.release(self.conn, self.engine, self.duck)
        self.conn, self.engine, self.duck = None, None, None

    def timed(self, name: str, statement: Callable[[], Sequence[object]]) -> Contender:
        """A contender whose sample is the mean milliseconds of one ``statement()``."""

        def run() -> float:
            start = time.perf_counter()
            for _ in range(self.loop):
                rows = statement()
            elapsed = time.perf_counter() - start
            assert len(rows) == 1, rows
            return elapsed * 1000 / self.loop

        return Contender(name, run)

    def contenders(self) -> list[Contender]:
        """The four ways of listing the stage."""
        construct = ListFiles(self.stage)

        def conn() -> sa.Connection:
            assert self.conn is not None
            return self.conn

        def duck() -> duckdb.DuckDBPyConnection:
            assert self.duck is not None
            return self.duck

        glob = "SELECT * FROM glob(?)"
        return [
            self.timed("sqla_stage", lambda: list(conn().execute(construct).all())),
            self.timed("sqla_stage text", lambda: list(conn().exec_driver_sql("LIST @one").all())),
            self.timed(
                "sqlalchemy glob",
                lambda: list(conn().exec_driver_sql(glob, (self.pattern,)).all()),
            ),
            self.timed("duckdb", lambda: duck().execute(glob, [self.pattern]).fetchall()),
        ]


def cases(bench: Bench) -> list[Case]:
    """LIST of a one-file stage, per statement."""
    overhead = Overhead(bench)
    return [
        Case(
            name="LIST of a one-file stage, per statement",
            group=GROUP,
            contenders=overhead.contenders(),
            baseline="sqlalchemy glob",
            targets=[
                Target(
                    "sqla_stage",
                    "sqlalchemy glob",
                    2.0,
                    "≤ 2x DuckDB's glob through duckdb-engine (issue 19)",
                )
            ],
            unit="ms",
            note=(
                f"Mean of {overhead.loop} statements on an open connection: the price of "
                "SQLAlchemy and the runtime on a statement that does almost nothing. "
                "Issue 19 bounds it against the same glob sent through the same engine."
            ),
            setup=overhead.open,
            teardown=overhead.close,
        )
    ]
