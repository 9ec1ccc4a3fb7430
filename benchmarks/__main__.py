"""``python -m benchmarks``: measure every case side by side and write the report.

The dataset is built once and cached under ``<workdir>/data`` (``.bench-data/`` by
default); each run works in ``<workdir>/run`` (emptied first, removed after). Progress
goes to stderr; the report replaces everything below the ``<!-- results -->`` marker of
``--out`` (``docs/performance.md``). A missed target is reported, not an error: the exit
status is 1 only when a case crashed.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import os
import platform
import pstats
import re
import shlex
import shutil
import sys
import time
import traceback
from pathlib import Path

from benchmarks import common
from benchmarks.data import make_dataset
from benchmarks.harness import Bench, Case, Outcome, measure, report, write_report

#: The case modules, in the report's order.
MODULES = [
    "benchmarks.cases_unload",
    "benchmarks.cases_load",
    "benchmarks.cases_files",
    "benchmarks.cases_s3",
    "benchmarks.cases_memory",
    "benchmarks.cases_overhead",
    "benchmarks.cases_scaling",
    "benchmarks.cases_small",
]
#: ``--smoke``: enough rows and files to run every case, nothing to conclude from.
SMOKE_ROWS = 20_000
SMOKE_FILES = 200
SMOKE_MANY = 20
#: Seconds of timed work a case aims at (``--budget``): slow cases repeat fewer times.
BUDGET = 60.0
#: Profile entries printed for a missed target.
PROFILE_TOP = 25


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of table bench")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of each case")
    parser.add_argument("--files", type=int, default=10_000, help="files of LIST / REMOVE")
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET,
        help="seconds of timed work per case: fewer repetitions (at least 3) when slower",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_ROWS} rows, 1 repetition, {SMOKE_FILES} files: keeps the cases working",
    )
    parser.add_argument("--only", default=None, help="only the cases whose name contains this")
    parser.add_argument("--out", type=Path, default=Path("docs/performance.md"))
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the contender of every missed target and print the top entries",
    )
    parser.add_argument("--workdir", type=Path, default=Path(".bench-data"))
    parser.add_argument(
        "--without",
        default="",
        help="peers to leave out, comma-separated (databend, fakesnow)",
    )
    parser.add_argument(
        "--list", action="store_true", help="print each case and contender, measure nothing"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.repeats, args.files = SMOKE_ROWS, 1, SMOKE_FILES
    return args


def machine() -> str:
    """Cores, memory, CPU and the versions that matter."""
    import duckdb
    import sqlalchemy

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()}; "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}"
    )


def collect(bench: Bench, only: str | None) -> list[Case]:
    """Every case of every module (the ``--only`` ones)."""
    found: list[Case] = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            print(f"benchmarks: no module {name}; its cases are left out", file=sys.stderr)
            continue
        found += module.cases(bench)
    if only:
        found = [case for case in found if only.lower() in case.name.lower()]
    return found


def slug(name: str) -> str:
    """A file name for a case."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def profile(case: Case, names: set[str], folder: Path) -> str:
    """Profile one more repetition of each named contender; where the text is saved."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug(case.name)}.txt"
    texts = []
    if case.setup is not None:
        case.setup()
    try:
        for contender in case.contenders:
            if contender.name not in names:
                continue
            if contender.prepare is not None:
                contender.prepare()
            profiler = cProfile.Profile()
            profiler.runcall(contender.run)
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            stats.sort_stats("cumulative").print_stats(PROFILE_TOP)
            texts.append(f"## {case.name}: {contender.name}\n{stream.getvalue()}")
    finally:
        if case.teardown is not None:
            case.teardown()
    path.write_text("\n".join(texts))
    print("\n".join(texts), file=sys.stderr)
    return str(path)


def missed(outcome: Outcome) -> set[str]:
    """The contenders of the targets an outcome misses."""
    return {t.contender for t in outcome.case.targets if not t.met(outcome)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 unless a case crashed."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    common.DISABLED.update(name.strip() for name in args.without.split(",") if name.strip())
    workdir = args.workdir.resolve()
    started = time.perf_counter()
    many = SMOKE_MANY if args.smoke else 100
    print(f"benchmarks: dataset of {args.rows} rows under {workdir / 'data'}", file=sys.stderr)
    data = make_dataset(workdir / "data", args.rows, many, build=not args.list)
    run_folder = workdir / "run" if args.list else common.fresh(workdir / "run")
    bench = Bench(run_folder, data, args.smoke, args.files)
    cases = collect(bench, args.only)
    if args.list:
        for case in cases:
            for contender in case.contenders:
                print(f"{case.name}\t{contender.name}")
        return 0
    outcomes: list[Outcome] = []
    crashed: list[str] = []
    try:
        for index, case in enumerate(cases, start=1):
            print(f"[{index}/{len(cases)}] {case.name} ...", file=sys.stderr, flush=True)
            begun = time.perf_counter()
            try:
                outcome = measure(case, args.repeats, args.budget)
            except Exception:
                traceback.print_exc()
                crashed.append(case.name)
                continue
            outcomes.append(outcome)
            shown = ", ".join(f"{c.name} {outcome.median(c.name):.3f}" for c in case.contenders)
            print(
                f"    {shown} ({case.unit}; {time.perf_counter() - begun:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
            for target in case.targets:
                verdict = "met" if target.met(outcome) else "MISSED"
                print(f"    {target.text}: {target.shown(outcome)} {verdict}", file=sys.stderr)
            if args.profile and missed(outcome):
                where = profile(case, missed(outcome), workdir / "profiles")
                print(f"    profile: {where}", file=sys.stderr)
    finally:
        common.close_peers()
        shutil.rmtree(run_folder, ignore_errors=True)
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    write_report(args.out, report(outcomes, command, machine()))
    minutes = (time.perf_counter() - started) / 60
    print(f"benchmarks: wrote {args.out} in {minutes:.1f} min", file=sys.stderr)
    if crashed:
        print(f"benchmarks: crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
