"""Bookkeeping that must not grow with the load history or the stage (issue 19).

Each case is a series: one contender per size, all doing the same statement, so the
ratio of the largest to the smallest is the growth the issue bounds.

- ``FORCE = FALSE load of N files, history H``: a stage of N tiny CSV files, all loaded
  into ``t`` once (untimed), and ``H`` more history rows of other files of ``t``. The
  timed statement loads the stage again with ``FORCE = FALSE``: it lists the N files,
  checks them against the history, and loads none. That is the bookkeeping alone, the
  harshest measure of its growth (a load that loads rows hides it behind DuckDB's work).
- ``one-file COPY`` / ``one-file LIST`` on a stage of F files: ``@big/one.csv`` beside
  F other files in folders of :data:`FOLDER_FILES` (``part_0000/`` ...), as unloads
  and partitioned writers leave them. The statement reads the stage's top folder and
  the one file, not the F others. A flat folder of F files is a different cost: a
  local disk has no prefix listing, so the folder's names are read (without a ``stat``
  each); that is left out of the series and described in docs/performance.md.

Every series's stages and histories are written in the case's untimed ``setup``, so
``--list`` writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks import common
from benchmarks.harness import Bench, Case, Contender, Target

GROUP = "Scaling"
#: History rows of the FORCE = FALSE series, and the files it loads.
HISTORY = (0, 10_000, 100_000, 500_000)
SMOKE_HISTORY = (0, 1_000)
LOAD_FILES = 5_000
SMOKE_LOAD_FILES = 20
#: Files beside ``one.csv`` in the stage series, and how many a folder holds.
STAGE_FILES = (1, 10_000, 100_000)
SMOKE_STAGE_FILES = (1, 200)
FOLDER_FILES = 1_000
#: Statements timed in one sample of the one-file cases.
LOOP = 20
SMOKE_LOOP = 3


def size(count: int) -> str:
    """``10k`` for 10,000: a contender's name."""
    return f"{count // 1000}k" if count >= 1000 and count % 1000 == 0 else str(count)


def write_tiny(folder: Path, count: int, per_folder: int | None = None) -> None:
    """Write ``count`` two-line CSV files into ``folder`` (or its subfolders of ``per_folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        where = folder if per_folder is None else folder / f"part_{index // per_folder:04d}"
        if per_folder is not None and index % per_folder == 0:
            where.mkdir(exist_ok=True)
        (where / f"f_{index:06d}.csv").write_text(f"id\n{index}\n")


class Runtime:
    """One engine on its own database and stage root, with table ``t`` and stage ``s``."""

    def __init__(self, folder: Path) -> None:
        """Create the database, the stage and the table."""
        common.fresh(folder)
        self.engine = common.runtime_engine(folder / "runtime.duckdb", folder / "st")
        with self.engine.begin() as conn:
            conn.exec_driver_sql("CREATE STAGE s")
            conn.exec_driver_sql("CREATE TABLE t (id BIGINT)")
        self.stage_folder = folder / "st" / "stage" / "internal" / "s"
        self.stage_folder.mkdir(parents=True, exist_ok=True)
        self.conn = self.engine.connect()

    def run(self, sql: str) -> list[sa.Row[Any]]:
        """Run one statement in its own transaction; its rows."""
        rows = list(self.conn.exec_driver_sql(sql).all())
        self.conn.commit()
        return rows

    def close(self) -> None:
        """Close the connection and the engine."""
        common.release(self.conn, self.engine)


class Series:
    """Contenders that each own a `Runtime`, made in the case's setup."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        """Remember where the runtimes go; nothing is written yet."""
        self.folder = folder
        self.names = names
        self.runtimes: dict[str, Runtime] = {}

    def open(self, fill: Callable[[str, Runtime], None]) -> None:
        """Make each contender's runtime and ``fill`` it."""
        for name in self.names:
            runtime = Runtime(self.folder / common_slug(name))
            fill(name, runtime)
            self.runtimes[name] = runtime

    def close(self) -> None:
        """Close every runtime and remove their files."""
        for runtime in self.runtimes.values():
            runtime.close()
        self.runtimes.clear()
        common.fresh(self.folder)

    def contender(self, name: str, sql: str, loop: int, rows: int) -> Contender:
        """``name`` running ``sql`` ``loop`` times a sample: the mean milliseconds."""

        def run() -> float:
            runtime = self.runtimes[name]
            start = time.perf_counter()
            for _ in range(loop):
                found = runtime.run(sql)
            elapsed = time.perf_counter() - start
            assert len(found) == rows, (name, sql, found[:3])
            return elapsed * 1000 / loop

        return Contender(name, run)


def common_slug(name: str) -> str:
    """A folder name for a contender."""
    return name.replace(" ", "_").replace("=", "")


def history_case(bench: Bench) -> Case:
    """FORCE = FALSE load of N already-loaded files against H other history rows."""
    histories = SMOKE_HISTORY if bench.smoke else HISTORY
    files = SMOKE_LOAD_FILES if bench.smoke else LOAD_FILES
    names = [f"sqla_stage H={size(h)}" for h in histories]
    series = Series(bench.workdir / "scaling" / "history", names)

    def fill(name: str, runtime: Runtime) -> None:
        write_tiny(runtime.stage_folder, files)
        runtime.run("COPY INTO t FROM @s FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)")
        history = histories[names.index(name)]
        runtime.conn.exec_driver_sql(
            "INSERT INTO sqla_stage.load_history SELECT 'main.t', "
            f"'file:///elsewhere/old_' || i || '.csv', 6, NULL, now(), 1, now() "
            f"FROM range({history}) AS r(i)"
        )
        runtime.conn.commit()

    sql = "COPY INTO t FROM @s FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) FORCE = FALSE"
    largest, smallest = names[-1], names[0]
    return Case(
        name=f"FORCE = FALSE load of {files} loaded files, by history rows",
        group=GROUP,
        contenders=[series.contender(name, sql, 1, 1) for name in names],
        baseline=smallest,
        targets=[Target(largest, smallest, 1.1, f"≤ 1.1x {smallest}")],
        unit="ms",
        note=(
            "Every file is already loaded, so the statement is its bookkeeping alone: "
            "the listing, one semi-join of the file urls with the table's history, and "
            f"one row per file saying it was skipped. {largest} has {size(histories[-1])} "
            "history rows of other files of the same table."
        ),
        setup=lambda: series.open(fill),
        teardown=series.close,
    )


def stage_cases(bench: Bench) -> list[Case]:
    """One-file COPY and LIST on stages of 1, 10k and 100k other files."""
    counts = SMOKE_STAGE_FILES if bench.smoke else STAGE_FILES
    loop = SMOKE_LOOP if bench.smoke else LOOP
    names = [f"sqla_stage F={size(count)}" for count in counts]
    cases = []
    statements = {
        "one-file COPY": (
            "COPY INTO t FROM @s/one.csv FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) FORCE = TRUE"
        ),
        "one-file LIST": "LIST @s/one.csv",
    }
    for title, sql in statements.items():
        series = Series(bench.workdir / "scaling" / common_slug(title), names)

        def fill(name: str, runtime: Runtime) -> None:
            count = counts[names.index(name)]
            write_tiny(runtime.stage_folder, count, FOLDER_FILES)
            (runtime.stage_folder / "one.csv").write_text("id\n1\n")

        largest, smallest = names[-1], names[0]
        cases.append(
            Case(
                name=f"{title} on a stage of F files",
                group=GROUP,
                contenders=[series.contender(name, sql, loop, 1) for name in names],
                baseline=smallest,
                targets=[Target(largest, smallest, 1.5, f"≤ 1.5x {smallest}")],
                unit="ms",
                note=(
                    f"Mean of {loop} statements. The F files are in folders of "
                    f"{FOLDER_FILES} beside one.csv; the statement names one.csv."
                ),
                setup=lambda series=series, fill=fill: series.open(fill),  # type: ignore[misc]
                teardown=series.close,
            )
        )
    return cases


def cases(bench: Bench) -> list[Case]:
    """The scaling series."""
    return [history_case(bench), *stage_cases(bench)]
