"""Small statements against DuckDB's own (issue 19): tiny load, tiny unload, many tiny files.

- ``tiny load`` / ``tiny unload``: one two-line CSV file loaded into ``t (id BIGINT)``
  (``COPY INTO t FROM @s/one.csv ... FORCE = TRUE`` against DuckDB's ``COPY t FROM
  'one.csv' (HEADER)``), and one row unloaded (``COPY INTO @s/out/one.csv FROM (SELECT 1
  AS id) ... SINGLE = TRUE OVERWRITE = TRUE`` against ``COPY (SELECT 1 AS id) TO
  'one.csv' (HEADER)``), each timed over a loop of statements on an open connection,
  per statement. The runtime commits each statement (DuckDB autocommits its own).
- ``load of N tiny files``: N two-line CSV files (N = 10 / 100 / 1,000 / 5,000) loaded
  with ``FORCE = TRUE`` from a stage on their folder, against DuckDB's ``COPY t FROM
  '<folder>/*.csv' (HEADER)`` and embedded Databend's ``COPY INTO`` from an ``fs://``
  stage on the same folder. Every contender's table is emptied before each repetition.

The files are written in each case's untimed ``setup``, so ``--list`` writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from benchmarks import common
from benchmarks.cases_scaling import Runtime, write_tiny
from benchmarks.harness import Bench, Case, Contender, Target

GROUP = "Small statements"
#: Statements timed in one sample of the per-statement cases.
LOOP = 50
SMOKE_LOOP = 3
#: The series of tiny-file loads.
TINY_FILES = (10, 100, 1_000, 5_000)
SMOKE_TINY_FILES = (10,)
#: The size of the series the issue bounds.
TARGET_FILES = 1_000


class Small:
    """A runtime and a raw DuckDB database, made by the case's setup."""

    def __init__(self, folder: Path) -> None:
        """Remember where the case works; nothing is written yet."""
        self.folder = folder
        self.runtime: Runtime | None = None
        self.duck: duckdb.DuckDBPyConnection | None = None

    def open(self) -> None:
        """The runtime (stage ``s`` holding ``one.csv``) and DuckDB's database with ``t``."""
        self.runtime = Runtime(self.folder / "runtime")
        (self.runtime.stage_folder / "one.csv").write_text("id\n1\n")
        self.duck = duckdb.connect(str(self.folder / "duck.duckdb"))
        self.duck.execute("CREATE OR REPLACE TABLE t (id BIGINT)")

    def close(self) -> None:
        """Close both."""
        if self.runtime is not None:
            self.runtime.close()
        common.release(self.duck)
        self.runtime, self.duck = None, None

    def timed(self, name: str, loop: int, statement: Callable[[], object]) -> Contender:
        """A contender whose sample is the mean milliseconds of one ``statement()``."""

        def run() -> float:
            start = time.perf_counter()
            for _ in range(loop):
                statement()
            return (time.perf_counter() - start) * 1000 / loop

        return Contender(name, run)

    def run(self, sql: str) -> None:
        """One runtime statement."""
        assert self.runtime is not None
        self.runtime.run(sql)

    def duck_run(self, sql: str) -> None:
        """One DuckDB statement."""
        assert self.duck is not None
        self.duck.execute(sql).fetchall()


def per_statement(bench: Bench) -> list[Case]:
    """The tiny load and the tiny unload."""
    loop = SMOKE_LOOP if bench.smoke else LOOP
    cases = []
    for title in ("tiny load", "tiny unload"):
        small = Small(bench.workdir / "small" / title.replace(" ", "_"))
        one = small.folder / "runtime" / "st" / "stage" / "internal" / "s" / "one.csv"
        out = small.folder / "duck_out.csv"
        if title == "tiny load":
            ours = (
                "COPY INTO t FROM @s/one.csv FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) "
                "FORCE = TRUE"
            )
            theirs = f"COPY t FROM '{one}' (HEADER)"
        else:
            ours = (
                "COPY INTO @s/out/one.csv FROM (SELECT 1 AS id) FILE_FORMAT = (TYPE = CSV) "
                "HEADER = TRUE SINGLE = TRUE OVERWRITE = TRUE"
            )
            theirs = f"COPY (SELECT 1 AS id) TO '{out}' (HEADER)"
        contenders = [
            small.timed("sqla_stage", loop, lambda sql=ours, s=small: s.run(sql)),  # type: ignore[misc]
            small.timed("duckdb", loop, lambda sql=theirs, s=small: s.duck_run(sql)),  # type: ignore[misc]
        ]
        cases.append(
            Case(
                name=f"{title}, per statement",
                group=GROUP,
                contenders=contenders,
                targets=[Target("sqla_stage", "duckdb", 2.0, "≤ 2x DuckDB's own statement")],
                unit="ms",
                note=f"Mean of {loop} statements: `{ours}` against DuckDB's `{theirs}`.",
                setup=small.open,
                teardown=small.close,
            )
        )
    return cases


def tiny_files(bench: Bench, count: int) -> Case:
    """Load ``count`` tiny CSV files: the runtime, DuckDB and Databend."""
    folder = bench.workdir / "small" / f"tiny_{count}"
    small = Small(folder)
    files = folder / "files"
    sql = "COPY INTO t FROM @tiny FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) FORCE = TRUE"

    def open_case() -> None:
        common.fresh(folder)
        write_tiny(files, count)
        small.open()
        assert small.runtime is not None
        small.runtime.run(f"CREATE STAGE tiny URL = '{files}'")

    def ours() -> None:
        assert small.runtime is not None
        rows = small.runtime.run(sql)
        assert len(rows) == count, rows[:3]

    def empty_ours() -> None:
        assert small.runtime is not None
        small.runtime.run("DELETE FROM t")

    contenders = [
        Contender("sqla_stage", ours, empty_ours),
        Contender(
            "duckdb",
            lambda: small.duck_run(f"COPY t FROM '{files}/*.csv' (HEADER)"),
            lambda: small.duck_run("DELETE FROM t"),
        ),
        *common.present([common.databend(bench, lambda peer: peer.load_tiny(files, count))]),
    ]
    targets = []
    if count == TARGET_FILES:
        targets = [
            Target("sqla_stage", "duckdb", 1.15, "≤ 1.15x DuckDB's own COPY FROM"),
            Target("sqla_stage", "databend", 1.0, "faster than Databend"),
        ]
    return Case(
        name=f"load of {count} tiny CSV files",
        group=GROUP,
        contenders=contenders,
        targets=common.reachable(targets, contenders),
        note=(
            f"`{sql}` (an external stage on the files' folder, a result row per file) "
            f"against DuckDB's `COPY t FROM '<folder>/*.csv' (HEADER)`."
        ),
        setup=open_case,
        teardown=small.close,
    )


def cases(bench: Bench) -> list[Case]:
    """Per-statement costs, then the tiny-file loads."""
    counts = SMOKE_TINY_FILES if bench.smoke else TINY_FILES
    return [*per_statement(bench), *(tiny_files(bench, count) for count in counts)]
