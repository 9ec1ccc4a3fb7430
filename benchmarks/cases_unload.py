r"""Unload table ``bench`` to Parquet, CSV, gzip CSV and JSON, one file and split.

Each format is two cases: one file (``SINGLE = TRUE`` with ``MAX_FILE_SIZE`` at its 5 GiB
ceiling) and split by the default ``MAX_FILE_SIZE`` (16 MB). The runtime runs
``COPY INTO @bench_out/<path> FROM bench FILE_FORMAT = (...)`` through a SQLAlchemy
engine (JSON: ``FROM (SELECT bench FROM bench)``, the row as one object column, as
Snowflake's JSON unload takes one VARIANT column); DuckDB runs its own
``COPY bench TO '<path>' (...)`` with the options that write the same bytes
(``HEADER true`` and ``NULLSTR '\N'`` for CSV; for split output, ``FILE_SIZE_BYTES
16000000, PER_THREAD_OUTPUT true``, DuckDB's own split, whose files pass the limit; the
runtime writes one ordered file and cuts it). Each contender has its own copy of the
database file and its own output folder, emptied before every repetition (untimed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from benchmarks import common
from benchmarks.harness import Bench, Case, Contender, Target
from sqla_stage import CSV, JSON, CopyInto, CreateStage, Parquet, Stage
from sqla_stage.formats import FormatSpec
from sqla_stage.runtime.storage import deflate

GROUP = "Unload"
#: The default MAX_FILE_SIZE of an unload (Snowflake's, and the runtime's).
SPLIT_SIZE = 16_000_000
#: Repetitions of the gzip cases at most: gzip is the slowest writer by far.
GZIP_REPEATS = 3


@dataclass(frozen=True)
class Format:
    """One unloaded format: how the runtime and DuckDB spell it.

    Attributes:
        key: The peers' name of it (``parquet``, ``csv``, ``csv_gzip``, ``json``).
        title: How the report names it.
        spec: The runtime's ``FILE_FORMAT``.
        duckdb: DuckDB's ``COPY ... TO`` options writing the same files.
        extension: The one file's extension.
    """

    key: str
    title: str
    spec: FormatSpec
    duckdb: str
    extension: str


FORMATS = [
    Format("parquet", "Parquet", Parquet(), "FORMAT parquet", "snappy.parquet"),
    Format("csv", "CSV", CSV(compression=None), "FORMAT csv, HEADER true, NULLSTR '\\N'", "csv"),
    Format(
        "csv_gzip",
        "gzip CSV",
        CSV(compression="gzip"),
        "FORMAT csv, HEADER true, NULLSTR '\\N', COMPRESSION gzip",
        "csv.gz",
    ),
    Format("json", "JSON", JSON(compression=None), "FORMAT json", "json"),
]
#: The split placement DuckDB is asked for (by the runtime, and by its own baseline).
SPLIT_OPTIONS = f"FILE_SIZE_BYTES {SPLIT_SIZE}, PER_THREAD_OUTPUT true"


class Unloads:
    """The connections of the unload cases, opened by a case's setup, closed after it.

    Attributes:
        folder: This module's scratch folder.
        engine: The runtime's engine (on its own copy of the database).
        duck: A raw DuckDB connection (on another copy), for DuckDB and the libraries.
    """

    def __init__(self, bench: Bench) -> None:
        """Remember where things go; nothing is opened yet."""
        self.bench = bench
        self.folder = bench.workdir / "unload"
        self.stage = Stage("bench_out")
        self.engine: sa.Engine | None = None
        self.duck: duckdb.DuckDBPyConnection | None = None

    def open(self) -> None:
        """Open the engine (creating the stage) and the DuckDB connection."""
        data = self.bench.data
        runtime_db = common.copy_database(data, self.folder / "runtime.duckdb")
        self.engine = common.runtime_engine(runtime_db, self.folder / "stages")
        with self.engine.begin() as conn:
            conn.execute(CreateStage(self.stage, if_not_exists=True))
        duckdb_db = common.copy_database(data, self.folder / "duckdb.duckdb")
        self.duck = duckdb.connect(str(duckdb_db))

    def close(self) -> None:
        """Close both."""
        common.release(self.engine, self.duck)
        self.engine, self.duck = None, None

    def stage_folder(self, path: str) -> Path:
        """The local folder of ``@bench_out/<path>``."""
        return self.folder / "stages" / "stage" / "internal" / "bench_out" / path

    def runtime(self, fmt: Format, split: bool) -> Contender:
        """``COPY INTO @bench_out/... FROM bench`` through SQLAlchemy."""
        path = f"{fmt.key}_split/" if split else f"{fmt.key}_one/bench.{fmt.extension}"
        options: dict[str, Any] = {"header": True}
        if not split:
            options.update(single=True, max_file_size=common.SINGLE_MAX)
        # Snowflake's JSON unload takes one VARIANT column: the row as a struct, whose
        # lines are the bytes of DuckDB's own COPY bench TO ... (FORMAT json).
        source: Any = sa.table("bench")
        if isinstance(fmt.spec, JSON):
            source = sa.text("SELECT bench FROM bench")
        statement = CopyInto(self.stage / path, source, file_format=fmt.spec, **options)

        def run() -> None:
            assert self.engine is not None
            with self.engine.begin() as conn:
                conn.execute(statement).all()

        folder = self.stage_folder(path.split("/")[0])
        return Contender("sqla_stage", run, lambda: common.fresh(folder))

    def duckdb_copy(
        self, fmt: Format, split: bool, name: str = "duckdb", options: str | None = None
    ) -> Contender:
        """DuckDB's own ``COPY bench TO ...`` with the same options."""
        folder = self.folder / "duckdb_out" / name.replace(" ", "_") / fmt.key
        target = folder / "split" if split else folder / f"bench.{fmt.extension}"
        written = options or fmt.duckdb
        if split:
            written += f", {SPLIT_OPTIONS}"
        sql = f"COPY bench TO '{target}' ({written})"

        def run() -> None:
            assert self.duck is not None
            self.duck.execute(sql).fetchall()

        return Contender(name, run, lambda: common.fresh(folder))

    def library(self, fmt: Format) -> Contender | None:
        """What a Python user reaches for: pyarrow for Parquet, pandas for text files.

        The fetch from DuckDB is part of the time: that is the user's work too. pandas
        is far slower than the rest, so it runs once.
        """
        folder = self.folder / "library_out" / fmt.key
        target = folder / f"bench.{fmt.extension}"
        if fmt.key == "parquet":
            import pyarrow.parquet as pq

            def write_arrow() -> None:
                assert self.duck is not None
                pq.write_table(self.duck.execute("SELECT * FROM bench").to_arrow_table(), target)

            return Contender("pyarrow", write_arrow, lambda: common.fresh(folder))
        writers: dict[str, Callable[[Any], object]] = {
            "csv": lambda frame: frame.to_csv(target, index=False, na_rep="\\N"),
            "csv_gzip": lambda frame: frame.to_csv(
                target, index=False, na_rep="\\N", compression="gzip"
            ),
            "json": lambda frame: frame.to_json(
                target, orient="records", lines=True, date_format="iso"
            ),
        }
        write = writers[fmt.key]

        def write_pandas() -> None:
            assert self.duck is not None
            write(self.duck.execute("SELECT * FROM bench").df())

        return Contender("pandas", write_pandas, lambda: common.fresh(folder), runs=1)


def _targets(fmt: Format, split: bool) -> list[Target]:
    targets = [Target("sqla_stage", "duckdb", 1.05, "within 1.05x of DuckDB's own COPY")]
    if fmt.key == "csv_gzip" and split:
        targets.append(
            Target(
                "sqla_stage",
                "duckdb single gzip",
                1 / 4,
                "at least 4x faster than DuckDB's single-file gzip COPY",
            )
        )
        targets.append(
            Target("sqla_stage", "databend", 1 / 1.5, "at least 1.5x faster than Databend")
        )
    elif fmt.key == "parquet":
        targets.append(Target("sqla_stage", "databend", 1 / 3, "at least 3x faster than Databend"))
    else:
        targets.append(Target("sqla_stage", "databend", 1.0, "faster than Databend"))
    return targets


def _case(bench: Bench, fmt: Format, split: bool) -> Case:
    unloads = Unloads(bench)
    contenders = [unloads.runtime(fmt, split), unloads.duckdb_copy(fmt, split)]
    if fmt.key == "csv_gzip" and split:
        contenders.append(unloads.duckdb_copy(fmt, False, "duckdb single gzip"))
    contenders += common.present(
        [
            common.databend(bench, lambda peer: peer.unload(fmt.key, split)),
            None if split else unloads.library(fmt),
        ]
    )
    shape = f"split (MAX_FILE_SIZE {SPLIT_SIZE // 1_000_000} MB)" if split else "one file"
    note = ""
    if fmt.key == "csv_gzip":
        note = (
            "The runtime has DuckDB write plain CSV and compresses it in 1 MiB gzip "
            "members on every core (`sqla_stage.runtime.unload.compress`), with ISA-L "
            f"(`{deflate.fastest().name}` in this run, level {deflate.fastest().level}); "
            "`duckdb` compresses in DuckDB's writer (zlib, level 6), one stream per file."
        )
    if fmt.key == "csv_gzip" and split:
        note += (
            f" `duckdb single gzip` is `COPY bench TO 'bench.csv.gz' ({fmt.duckdb})`, "
            "one stream on one thread."
        )
    return Case(
        name=f"unload {fmt.title}, {shape}",
        group=GROUP,
        contenders=contenders,
        targets=common.reachable(_targets(fmt, split), contenders),
        note=note,
        setup=unloads.open,
        teardown=unloads.close,
        repeats=GZIP_REPEATS if fmt.key == "csv_gzip" else None,
    )


def cases(bench: Bench) -> list[Case]:
    """The eight unload cases: four formats, one file and split."""
    return [_case(bench, fmt, split) for fmt in FORMATS for split in (False, True)]
