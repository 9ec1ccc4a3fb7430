"""The main demo: a real stage workflow on the embedded DuckDB default.

Run it with ``python -m sqla_stage.demo [FOLDER]`` (``--help`` prints the usage). In a
temporary folder, or in ``FOLDER`` if given, it creates a DuckDB database with the stage
runtime enabled, a ``trips`` table of generated rows and an internal stage ``landing``;
it unloads the table into the stage as Parquet files, lists the files, loads them back
into a second table, queries the staged files in place, and prints every result as a
table. It ends with the SQL the same unload would send to Snowflake and Databend: moving
there is a change of engine URL.

Only the core dependencies are needed. ``python -m sqla_stage.demo_sql`` shows the SQL of
every construct for every engine.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sqla_stage import CopyInto, ListFiles, Parquet, Stage, staged
from sqla_stage.demo_sql import load_dialect
from sqla_stage.display import text_table


def show(title: str, result: sa.Result[Any]) -> None:
    """Print a statement's result under a title."""
    print(f"== {title}")
    print(text_table(list(result.keys()), result.all()))
    print()


def run(folder: Path, rows: int = 300_000) -> None:
    """Run the demo in ``folder``: create, unload, list, load back, query."""
    engine = sa.create_engine(
        f"duckdb:///{folder / 'demo.duckdb'}", plugins=["sqla_stage"], stage_user="demo"
    )
    md = sa.MetaData()
    trips = sa.Table(
        "trips",
        md,
        sa.Column("id", sa.Integer),
        sa.Column("city", sa.String),
        sa.Column("fare", sa.Numeric(10, 2)),
        sa.Column("started", sa.DateTime),
    )
    trips_copy = sa.Table("trips_copy", md, *(sa.Column(c.name, c.type) for c in trips.c))
    landing = Stage("landing", md, comment="raw trips")
    unload = CopyInto(
        landing / "daily/",
        trips,
        file_format=Parquet(),
        header=True,  # Parquet keeps the column names (else col1, col2, ...)
        max_file_size=1_000_000,
        detailed_output=True,
    )
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO trips SELECT i, ['Lyon', 'Oslo', 'Lima'][i % 3 + 1], "
                    "round(random() * 50, 2), TIMESTAMP '2026-01-01' + INTERVAL (i) MINUTE "
                    "FROM range(:n) t(i)"
                ),
                {"n": rows},
            )
            print(f"Database {folder / 'demo.duckdb'}; stages under {folder}/demo.duckdb.stages/")
            print()
            show(
                "COPY INTO @landing/daily/ FROM trips  (unload as Parquet, 1 MB files)",
                conn.execute(unload),
            )
            show("LIST @landing", conn.execute(ListFiles(landing)))
            show(
                "COPY INTO trips_copy FROM @landing/daily/  (load back)",
                conn.execute(CopyInto(trips_copy, landing / "daily/", file_format=Parquet())),
            )
            files = staged(landing / "daily/", file_format=Parquet(), columns=["city", "fare"])
            show(
                "SELECT city, count(*), sum(fare) FROM @landing/daily/  (query in place)",
                conn.execute(
                    sa.select(
                        files.c.city,
                        sa.func.count().label("trips"),
                        sa.func.sum(files.c.fare).label("fares"),
                    )
                    .group_by(files.c.city)
                    .order_by(files.c.city)
                ),
            )
            copied = conn.execute(sa.select(sa.func.count()).select_from(trips_copy)).scalar()
            print(f"trips: {rows} rows; trips_copy: {copied} rows")
            print()
        print("The same unload on a warehouse, by changing the engine URL:")
        for name in ("snowflake", "databend"):
            try:
                print(f"  {name:<10} {unload.compile(dialect=load_dialect(name))}")
            except (ImportError, sa.exc.NoSuchModuleError):
                print(f"  {name:<10} (install its SQLAlchemy dialect to see it)")
    finally:
        engine.dispose()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The demo's command line: an optional folder (``--help`` says what the demo does).

    Args:
        argv: The arguments, without the program name (``sys.argv[1:]`` when None).

    Returns:
        The parsed arguments: ``folder``, a path or None.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sqla_stage.demo",
        description=(
            "Run a real stage workflow on an embedded DuckDB database (no server): create a "
            "table of 300,000 generated trips and an internal stage, unload the table into "
            "the stage as Parquet files, list them, load them back into a second table, "
            "query the staged files in place, and print every result as a table. It ends "
            "with the SQL the same unload sends to Snowflake and Databend."
        ),
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        help="where to keep the database and its stages' files (created if missing; "
        "default: a temporary folder, removed at the end)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo in a temporary folder (or in the folder given as the argument).

    Args:
        argv: The command line's arguments, without the program name (``sys.argv[1:]``
            when None). ``--help`` prints the usage and exits.
    """
    folder: Path | None = parse_args(argv).folder
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        run(folder)
        return
    with tempfile.TemporaryDirectory(prefix="sqla_stage_demo_") as name:
        run(Path(name))


if __name__ == "__main__":
    main()
