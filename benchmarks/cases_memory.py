"""Peak memory (RSS) of a full unload and a full load, each in a fresh process.

Every sample is a new Python process that imports what it needs, opens its own copy of
the database, runs one statement and prints its peak resident set size (``VmHWM`` of
``/proc/self/status``, DuckDB's threads included; not ``ru_maxrss``, which on Linux
keeps the high-water mark of the parent that forked the child). So the runtime's
number includes importing SQLAlchemy and the package, which the DuckDB process does not
import: that is part of what a user of the runtime pays. The unload is the default one
(Parquet, split by the default MAX_FILE_SIZE); the load reads the one Parquet file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks import common
from benchmarks.cases_unload import SPLIT_OPTIONS
from benchmarks.harness import Bench, Case, Contender, Target

GROUP = "Memory"
#: The repository, put on the children's ``PYTHONPATH``.
ROOT = Path(__file__).resolve().parent.parent

#: The child's prologue: what it reports.
_REPORT = """
import json, resource
def rss():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def report(idle):
    print(json.dumps({"idle": idle, "peak": rss()}))
"""

RUNTIME_UNLOAD = """
import sqlalchemy as sa
from sqla_stage import CopyInto, CreateStage, Parquet, Stage
engine = sa.create_engine(
    f"duckdb:///{args['database']}", plugins=["sqla_stage"],
    stage_root=args["stage_root"], stage_progress=False,
)
stage = Stage("memory")
with engine.begin() as conn:
    conn.execute(CreateStage(stage, if_not_exists=True))
idle = rss()
with engine.begin() as conn:
    conn.execute(CopyInto(stage / "out/", sa.table("bench"), file_format=Parquet(), header=True))
report(idle)
"""

DUCKDB_UNLOAD = """
import duckdb
con = duckdb.connect(args["database"])
idle = rss()
con.execute(f"COPY bench TO '{args['output']}' (FORMAT parquet, {args['split']})")
report(idle)
"""

RUNTIME_LOAD = """
import sqlalchemy as sa
from sqla_stage import CopyInto, CreateStage, Parquet, Stage
engine = sa.create_engine(
    f"duckdb:///{args['database']}", plugins=["sqla_stage"],
    stage_root=args["stage_root"], stage_progress=False,
)
stage = Stage("bench_in", url=args["folder"])
with engine.begin() as conn:
    conn.execute(CreateStage(stage, or_replace=True))
    conn.exec_driver_sql(args["ddl"])
idle = rss()
with engine.begin() as conn:
    conn.execute(CopyInto(sa.table("target"), stage / args["name"], file_format=Parquet()))
report(idle)
"""

DUCKDB_LOAD = """
import duckdb
con = duckdb.connect(args["database"])
con.execute(args["ddl"])
idle = rss()
con.execute(f"COPY target FROM '{args['file']}' (FORMAT parquet)")
report(idle)
"""


class Children:
    """The children of one memory case and what they last said."""

    def __init__(self, bench: Bench, case: str) -> None:
        """Remember where the case works."""
        self.bench = bench
        self.folder = bench.workdir / "memory" / case
        self.idle: dict[str, float] = {}

    def child(self, name: str, body: str, args: dict[str, str]) -> Contender:
        """A contender running ``body`` in a new process; its sample is the peak MiB."""
        script = _REPORT + f"args = {args!r}\n" + textwrap.dedent(body)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])

        def run() -> float:
            done = subprocess.run(
                [sys.executable, "-c", script],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{name} child failed:\n{done.stderr}")
            said = json.loads(done.stdout.strip().splitlines()[-1])
            self.idle[name] = float(said["idle"])
            return float(said["peak"])

        return Contender(name, run, self.clean)

    def clean(self) -> None:
        """Remove the outputs and databases the children wrote (untimed)."""
        for path in self.folder.glob("out_*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in self.folder.glob("load_*.duckdb*"):
            path.unlink()

    def note(self, head: str) -> str:
        """``head`` and the children's RSS before their statement, once measured."""
        idle = ", ".join(f"{name} {mib:.0f} MiB" for name, mib in sorted(self.idle.items()))
        return f"{head} Before the statement (imports and connection): {idle}."


def unload_case(bench: Bench) -> Case:
    """Peak RSS of ``COPY INTO @memory/out/ FROM bench`` (Parquet) vs DuckDB's COPY."""
    children = Children(bench, "unload")
    folder = children.folder
    runtime = children.child(
        "sqla_stage",
        RUNTIME_UNLOAD,
        {"database": str(folder / "runtime.duckdb"), "stage_root": str(folder / "out_stages")},
    )
    duck = children.child(
        "duckdb",
        DUCKDB_UNLOAD,
        {
            "database": str(folder / "duckdb.duckdb"),
            "output": str(folder / "out_duckdb"),
            "split": SPLIT_OPTIONS,
        },
    )

    def setup() -> None:
        common.fresh(folder)
        common.copy_database(bench.data, folder / "runtime.duckdb")
        common.copy_database(bench.data, folder / "duckdb.duckdb")

    head = (
        "Peak RSS of a new process unloading table `bench` as Parquet: `COPY INTO "
        "@memory/out/ FROM bench FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE` against "
        f"`COPY bench TO 'out' (FORMAT parquet, {SPLIT_OPTIONS})`."
    )
    case = Case(
        name=f"peak RSS, unload {bench.data.rows} rows to Parquet",
        group=GROUP,
        contenders=[runtime, duck],
        targets=[Target("sqla_stage", "duckdb", 1.2, "within 1.2x of DuckDB's own COPY")],
        unit="MiB",
        setup=setup,
        teardown=lambda: setattr(case, "note", children.note(head)),
        repeats=3,
        note=head,
    )
    return case


def load_case(bench: Bench) -> Case:
    """Peak RSS of ``COPY INTO target FROM @bench_in/<file>.parquet`` vs DuckDB's COPY."""
    children = Children(bench, "load")
    folder = children.folder
    data = bench.data
    ddl = f"CREATE TABLE target AS SELECT * FROM read_parquet('{data.parquet_file}') LIMIT 0"
    runtime = children.child(
        "sqla_stage",
        RUNTIME_LOAD,
        {
            "database": str(folder / "load_runtime.duckdb"),
            "stage_root": str(folder / "out_stages"),
            "folder": f"{data.parquet_file.parent}/",
            "name": data.parquet_file.name,
            "ddl": ddl,
        },
    )
    duck = children.child(
        "duckdb",
        DUCKDB_LOAD,
        {
            "database": str(folder / "load_duckdb.duckdb"),
            "file": str(data.parquet_file),
            "ddl": ddl,
        },
    )
    head = (
        "Peak RSS of a new process loading the Parquet file into an empty table: "
        "`COPY INTO target FROM @bench_in/<file> FILE_FORMAT = (TYPE = PARQUET)` against "
        "`COPY target FROM '<file>' (FORMAT parquet)`. The issue sets no target for it."
    )
    case = Case(
        name=f"peak RSS, load {data.rows} rows from Parquet",
        group=GROUP,
        contenders=[runtime, duck],
        unit="MiB",
        setup=lambda: common.fresh(folder),
        teardown=lambda: setattr(case, "note", children.note(head)),
        repeats=3,
        note=head,
    )
    return case


def cases(bench: Bench) -> list[Case]:
    """Peak RSS of an unload and of a load."""
    return [unload_case(bench), load_case(bench)]
