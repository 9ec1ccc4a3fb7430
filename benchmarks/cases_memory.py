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
from benchmarks.cases_unload import FORMATS, SPLIT_OPTIONS, Format
from benchmarks.harness import Bench, Case, Contender, Target

GROUP = "Memory"
#: Issue 19's bound on the runtime's peak RSS against DuckDB's own statement.
TARGET = Target("sqla_stage", "duckdb", 1.15, "within 1.15x of DuckDB's own COPY")
#: What the ``sqlalchemy`` contender is, in each case's note.
FLOOR = (
    "`sqlalchemy` runs DuckDB's statement on the connection of a SQLAlchemy engine "
    "(SQLAlchemy and duckdb-engine imported, not the package): what any SQLAlchemy "
    "program on DuckDB pays (not in a smoke run, to keep it short)."
)
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
from sqla_stage import CSV, JSON, CopyInto, CreateStage, Parquet, Stage
engine = sa.create_engine(
    f"duckdb:///{args['database']}", plugins=["sqla_stage"],
    stage_root=args["stage_root"], stage_progress=False,
)
stage = Stage("memory")
file_format = eval(args["format"])  # the repr of a format of benchmarks.cases_unload
source = sa.text(args["source"])
with engine.begin() as conn:
    conn.execute(CreateStage(stage, if_not_exists=True))
idle = rss()
with engine.begin() as conn:
    conn.execute(CopyInto(stage / "out/", source, file_format=file_format, header=True))
report(idle)
"""

DUCKDB_STATEMENT = """
import duckdb
con = duckdb.connect(args["database"])
con.execute(args["setup"])
idle = rss()
con.execute(args["sql"])
report(idle)
"""

#: DuckDB's own statement in a process that imported SQLAlchemy and duckdb-engine and
#: holds an engine's connection, without the package: the floor of any SQLAlchemy program
#: on DuckDB. The statement goes to the pooled DuckDB connection itself: through
#: ``exec_driver_sql`` duckdb-engine passes parameters, and DuckDB's client then imports
#: pandas, NumPy and PyArrow (about 28 MiB), which the runtime avoids.
SQLALCHEMY_STATEMENT = """
import sqlalchemy as sa
engine = sa.create_engine(f"duckdb:///{args['database']}")
with engine.connect() as conn:
    duck = conn.connection.driver_connection
    duck.execute(args["setup"])
    idle = rss()
    duck.execute(args["sql"])
report(idle)
"""

RUNTIME_LOAD = """
import sqlalchemy as sa
from sqla_stage import CSV, CopyInto, CreateStage, Parquet, Stage
engine = sa.create_engine(
    f"duckdb:///{args['database']}", plugins=["sqla_stage"],
    stage_root=args["stage_root"], stage_progress=False,
)
stage = Stage("bench_in", url=args["folder"])
file_format = Parquet() if args["format"] == "parquet" else CSV(skip_header=1)
with engine.begin() as conn:
    conn.execute(CreateStage(stage, or_replace=True))
    conn.exec_driver_sql(args["ddl"])
idle = rss()
with engine.begin() as conn:
    conn.execute(CopyInto(sa.table("target"), stage / args["name"], file_format=file_format))
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


def unload_case(bench: Bench, fmt: Format) -> Case:
    """Peak RSS of ``COPY INTO @memory/out/ FROM bench`` in ``fmt`` vs DuckDB's COPY."""
    children = Children(bench, f"unload_{fmt.key}")
    folder = children.folder
    # Snowflake's JSON unload takes one VARIANT column (as in `cases_unload`).
    source = "SELECT bench FROM bench" if fmt.key == "json" else "SELECT * FROM bench"
    runtime = children.child(
        "sqla_stage",
        RUNTIME_UNLOAD,
        {
            "database": str(folder / "runtime.duckdb"),
            "stage_root": str(folder / "out_stages"),
            "format": repr(fmt.spec),
            "source": source,
        },
    )
    copy = f"({fmt.duckdb}, {SPLIT_OPTIONS})"
    duck, floor = (
        children.child(
            name,
            body,
            {
                "database": str(folder / f"{name}.duckdb"),
                "setup": "SELECT 1",
                "sql": f"COPY bench TO '{folder / ('out_' + name)}' {copy}",
            },
        )
        for name, body in (("duckdb", DUCKDB_STATEMENT), ("sqlalchemy", SQLALCHEMY_STATEMENT))
    )

    def setup() -> None:
        common.fresh(folder)
        for name in ("runtime", "duckdb", "sqlalchemy"):
            common.copy_database(bench.data, folder / f"{name}.duckdb")

    head = (
        f"Peak RSS of a new process unloading table `bench` as {fmt.title}: `COPY INTO "
        f"@memory/out/ FROM bench FILE_FORMAT = {fmt.spec!r} HEADER = TRUE` against "
        f"`COPY bench TO 'out' ({fmt.duckdb}, {SPLIT_OPTIONS})`. {FLOOR}"
    )
    case = Case(
        name=f"peak RSS, unload {bench.data.rows} rows to {fmt.title}",
        group=GROUP,
        contenders=[runtime, duck] if bench.smoke else [runtime, duck, floor],
        targets=[TARGET],
        unit="MiB",
        setup=setup,
        teardown=lambda: setattr(case, "note", children.note(head)),
        repeats=3,
        note=head,
    )
    return case


#: The loaded files by format: how the report names it, and DuckDB's COPY options.
LOADS = {
    "parquet": ("Parquet", "FORMAT parquet"),
    "csv": ("CSV", "FORMAT csv, HEADER true"),
}


def load_case(bench: Bench, key: str) -> Case:
    """Peak RSS of ``COPY INTO target FROM @bench_in/<file>`` vs DuckDB's COPY."""
    title, options = LOADS[key]
    children = Children(bench, f"load_{key}")
    folder = children.folder
    data = bench.data
    file = data.parquet_file if key == "parquet" else data.csv_file
    ddl = f"CREATE TABLE target AS SELECT * FROM read_parquet('{data.parquet_file}') LIMIT 0"
    runtime = children.child(
        "sqla_stage",
        RUNTIME_LOAD,
        {
            "database": str(folder / "load_runtime.duckdb"),
            "stage_root": str(folder / "out_stages"),
            "folder": f"{file.parent}/",
            "name": file.name,
            "format": key,
            "ddl": ddl,
        },
    )
    duck, floor = (
        children.child(
            name,
            body,
            {
                "database": str(folder / f"load_{name}.duckdb"),
                "setup": ddl,
                "sql": f"COPY target FROM '{file}' ({options})",
            },
        )
        for name, body in (("duckdb", DUCKDB_STATEMENT), ("sqlalchemy", SQLALCHEMY_STATEMENT))
    )
    head = (
        f"Peak RSS of a new process loading the {title} file into an empty table: "
        f"`COPY INTO target FROM @bench_in/<file> FILE_FORMAT = (TYPE = {title.upper()}"
        f"{' SKIP_HEADER = 1' if key == 'csv' else ''})` against "
        f"`COPY target FROM '<file>' ({options})`. {FLOOR}"
    )
    case = Case(
        name=f"peak RSS, load {data.rows} rows from {title}",
        group=GROUP,
        contenders=[runtime, duck] if bench.smoke else [runtime, duck, floor],
        targets=[TARGET],
        unit="MiB",
        setup=lambda: common.fresh(folder),
        teardown=lambda: setattr(case, "note", children.note(head)),
        repeats=3,
        note=head,
    )
    return case


def cases(bench: Bench) -> list[Case]:
    """Peak RSS of an unload in every format and of a load of each file format."""
    return [unload_case(bench, fmt) for fmt in FORMATS] + [load_case(bench, key) for key in LOADS]
