"""LIST and REMOVE on a local stage of many small files (10,000; fewer when smoking).

The files are written (untimed) straight into an internal stage's folder, as ``PUT``
would leave them. LIST returns ``name, size, md5, last_modified`` for each; DuckDB's
nearest statement is ``SELECT * FROM glob('<folder>/**')``, which gives names only.
REMOVE deletes every file; DuckDB has no statement for that, so the baseline is what a
Python user writes without the runtime: fsspec's ``rm`` of the files ``find`` lists.
Before every REMOVE repetition the files are written again (untimed).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import fsspec
import sqlalchemy as sa

from benchmarks import common
from benchmarks.harness import Bench, Case, Contender, Target
from sqla_stage import CreateStage, ListFiles, RemoveFiles, Stage
from sqla_stage.runtime.storage import stage_storage as storage

GROUP = "Files"
#: The LIST target of issue 6, in seconds.
LIST_LIMIT = 0.5


def fill(folder: Path, count: int) -> None:
    """Write ``count`` small CSV files into ``folder`` (emptied first)."""
    common.fresh(folder)
    for index in range(count):
        (folder / f"part_{index:05d}.csv").write_text(
            f"id,label\n{index},item-{index}\n{index + 1},item-{index + 1}\n"
        )


class Files:
    """The stage of the files cases, with the runtime's engine."""

    def __init__(self, bench: Bench, case: str) -> None:
        """Remember where the case works; nothing is written yet."""
        self.bench = bench
        self.folder = bench.workdir / "files" / case
        self.stage = Stage("many_files")
        self.engine: sa.Engine | None = None

    @property
    def stage_folder(self) -> Path:
        """The local folder of ``@many_files``."""
        return self.folder / "st" / "stage" / "internal" / "many_files"

    def open(self) -> None:
        """Create the engine and the stage, and write the files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine = common.runtime_engine(self.folder / "runtime.duckdb", self.folder / "st")
        with self.engine.begin() as conn:
            conn.execute(CreateStage(self.stage, if_not_exists=True))
        self.refill()

    def refill(self) -> None:
        """Write the stage's files again."""
        fill(self.stage_folder, self.bench.files)

    def close(self) -> None:
        """Dispose of the engine."""
        common.release(self.engine)
        self.engine = None

    def statement(self, element: ListFiles | RemoveFiles) -> Contender:
        """Run ``element`` through SQLAlchemy and check it saw every file."""

        def run() -> None:
            assert self.engine is not None
            with self.engine.begin() as conn:
                rows = conn.execute(element).all()
            assert len(rows) == self.bench.files, len(rows)

        prepare = self.refill if isinstance(element, RemoveFiles) else None
        return Contender("sqla_stage", run, prepare)


def _clear_checksums() -> None:
    """Forget the MD5s LIST computed (the runtime keeps them per path, size and mtime)."""
    cache = getattr(storage, "_MD5_CACHE", None)
    if cache is not None:
        cache.clear()


def list_case(bench: Bench) -> Case:
    """LIST @many_files."""
    files = Files(bench, "list")
    runtime = files.statement(ListFiles(files.stage))
    first = Contender("sqla_stage first LIST", runtime.run, _clear_checksums)
    pattern = f"{files.stage_folder}/**"

    def glob() -> None:
        with duckdb.connect() as con:
            rows = con.execute("SELECT * FROM glob(?)", [pattern]).fetchall()
        assert len(rows) == bench.files, len(rows)

    contenders = [
        runtime,
        first,
        Contender("duckdb", glob),
        *common.present([common.databend(bench, lambda peer: peer.list_files(files.stage_folder))]),
    ]
    targets = [
        Target("sqla_stage", None, LIST_LIMIT, f"LIST of {bench.files} files under 0.5 s"),
        Target("sqla_stage", "databend", 1.0, "faster than Databend"),
    ]
    return Case(
        name=f"LIST {bench.files} files",
        group=GROUP,
        contenders=contenders,
        targets=common.reachable(targets, contenders),
        note=(
            "LIST reads every file once to give its MD5 and keeps it per path, size and "
            "modification time: `sqla_stage` is a LIST in a process that listed the stage "
            "before, `sqla_stage first LIST` one that did not. DuckDB's `glob` gives names "
            "only, with no size, checksum or time."
        ),
        setup=files.open,
        teardown=files.close,
    )


def remove_case(bench: Bench) -> Case:
    """REMOVE @many_files."""
    files = Files(bench, "remove")
    local = fsspec.filesystem("file")

    def rm() -> None:
        local.rm(local.find(str(files.stage_folder)))

    other = bench.workdir / "files" / "remove_databend"
    contenders = [
        files.statement(RemoveFiles(files.stage)),
        Contender("fsspec rm", rm, files.refill),
        *common.present(
            [
                common.databend(
                    bench,
                    lambda peer: peer.remove_files(other, lambda: fill(other, bench.files)),
                )
            ]
        ),
    ]
    targets = [Target("sqla_stage", "databend", 1.0, "faster than Databend")]

    def setup() -> None:
        files.open()
        fill(other, bench.files)

    return Case(
        name=f"REMOVE {bench.files} files",
        group=GROUP,
        contenders=contenders,
        baseline="fsspec rm",
        targets=common.reachable(targets, contenders),
        note=(
            "DuckDB has no statement that deletes files: the baseline is fsspec's "
            "`fs.rm(fs.find(folder))`."
        ),
        setup=setup,
        teardown=files.close,
    )


def cases(bench: Bench) -> list[Case]:
    """LIST and REMOVE on a stage of ``bench.files`` files."""
    return [list_case(bench), remove_case(bench)]
