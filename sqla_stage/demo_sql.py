"""Print the SQL that sqla_stage's constructs compile to, engine by engine.

Run it with ``python -m sqla_stage.demo_sql`` (``python -m sqla_stage.demo`` runs the
statements for real on the embedded DuckDB runtime). It builds the example of the design brief
(a ``users`` table, an internal stage ``landing``, an external stage ``exports`` with
credentials and a gzip CSV format, the user stage ``@~`` and the table stage ``@%users``)
and compiles each construct for SQLAlchemy's default string form, DuckDB, Snowflake,
Databend and MatrixOne (SQLAlchemy's ``mysql`` dialect). A construct an engine has no
equivalent for is shown as ``not supported: <reason>``.

Only the core dependencies are needed. The Snowflake and Databend dialects come from
``snowflake-sqlalchemy`` and ``databend-sqlalchemy`` (test extras); when one is not
installed, its engine is skipped with a note. Nothing is executed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import CompileError, NoSuchModuleError

from sqla_stage import (
    CSV,
    CopyInto,
    CreateFileFormat,
    CreateStage,
    DescribeStage,
    DropFileFormat,
    DropStage,
    FileFormat,
    Get,
    ListFiles,
    Parquet,
    Presign,
    Put,
    RemoveFiles,
    SelectIntoOutfile,
    ShowStages,
    Stage,
    staged,
)

#: Width of the engine column in the printed sections.
LABEL_WIDTH = 12


@dataclass(frozen=True)
class Engine:
    """One column of the demo: a label and the dialect to compile with."""

    label: str
    dialect: Dialect | None  # None: SQLAlchemy's default string form


@dataclass(frozen=True)
class Example:
    """One construct to show, with a title saying what it is."""

    title: str
    statement: sa.sql.ClauseElement


def load_dialect(name: str) -> Dialect:
    """Instantiate the dialect registered under ``name`` (``snowflake``, ``duckdb``, ...).

    Raises:
        NoSuchModuleError: no dialect of that name is installed.
        ImportError: the dialect is installed but cannot be imported.
    """
    dialect_class: Callable[[], Dialect] = make_url(f"{name}://").get_dialect()
    return dialect_class()


def load_engines() -> tuple[list[Engine], list[str]]:
    """The engines to compile for, and a note for each one that is not installed."""
    engines = [Engine("default", None)]
    notes = []
    for label, name, package in (
        ("duckdb", "duckdb", "duckdb-engine"),
        ("snowflake", "snowflake", "snowflake-sqlalchemy"),
        ("databend", "databend", "databend-sqlalchemy"),
        ("matrixone", "mysql", "SQLAlchemy"),
    ):
        try:
            engines.append(Engine(label, load_dialect(name)))
        except (NoSuchModuleError, ImportError) as error:
            notes.append(f"{label}: skipped, cannot load its dialect from {package} ({error})")
    return engines, notes


@dataclass(frozen=True)
class Demo:
    """What the demo shows: the metadata, the external stage and the examples."""

    metadata: sa.MetaData
    exports: Stage
    examples: list[Example]


def build_demo() -> Demo:
    """The design brief's objects and one example of each main construct."""
    md = sa.MetaData()
    users = sa.Table("users", md, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
    landing = Stage("landing", md)
    exports = Stage(
        "exports",
        md,
        url="s3://bucket/exports/",
        credentials={
            "aws_key_id": "AKIAEXAMPLE",
            "aws_secret_key": "example-secret",
            "endpoint_url": "http://127.0.0.1:9000",
        },
        file_format=CSV(compression="gzip"),
        comment="nightly",
    )
    # MatrixOne's own example (spec 000): an export stage on a folder, ENABLE = TRUE.
    stage1 = Stage("stage1", url="/tmp/stage1/", directory=True)
    me = Stage.user()
    users_stage = Stage.table(users)

    examples = [
        Example("CREATE STAGE: internal stage", CreateStage(landing)),
        Example("CREATE STAGE: external stage, credentials, CSV gzip", CreateStage(exports)),
        Example(
            "CREATE STAGE IF NOT EXISTS: folder stage with ENABLE",
            CreateStage(stage1, if_not_exists=True),
        ),
        Example("DROP STAGE IF EXISTS", DropStage(exports, if_exists=True)),
        Example("DESC STAGE", DescribeStage(landing)),
        Example("SHOW STAGES", ShowStages()),
        Example(
            "COPY INTO <location>: unload a query as Parquet",
            CopyInto(
                landing / "daily/",
                sa.select(users),
                file_format=Parquet(),
                header=True,
                max_file_size=16_000_000,
            ),
        ),
        Example(
            "COPY INTO <location>: unload a table with the engine's default format",
            CopyInto(exports / "users/", users),
        ),
        Example(
            "COPY INTO <table>: load Parquet files",
            CopyInto(users, landing / "daily/", file_format=Parquet()),
        ),
        Example(
            "COPY INTO <table>: load CSV files from the user stage",
            CopyInto(
                users,
                me,
                file_format=CSV(skip_header=1),
                pattern=r".*\.csv",
                on_error="abort_statement",
            ),
        ),
        Example("LIST with a pattern", ListFiles(landing, pattern=r".*\.parquet")),
        Example("LIST the user stage", ListFiles(me)),
        Example("LIST a table stage", ListFiles(users_stage)),
        Example("REMOVE from the user stage", RemoveFiles(me, pattern="ontime.*")),
        Example("PRESIGN", Presign(landing / "daily/data_0.parquet", expire=3600)),
        Example("PUT into a table stage", Put("/tmp/users.csv", users_stage)),
        Example("GET", Get(landing / "daily/", "/tmp/out/")),
        Example(
            "SELECT ... INTO OUTFILE (MatrixOne)",
            SelectIntoOutfile(sa.select(users), stage1 / "user.csv"),
        ),
        Example(
            "SELECT from staged files",
            sa.select(sa.literal_column("$1"), sa.literal_column("$2")).select_from(
                staged(landing / "daily/", file_format=FileFormat("my_parquet"))
            ),
        ),
        Example(
            "CREATE FILE FORMAT",
            CreateFileFormat("my_csv", CSV(field_delimiter="|", skip_header=1)),
        ),
        Example("DROP FILE FORMAT IF EXISTS", DropFileFormat("my_csv", if_exists=True)),
    ]
    return Demo(md, exports, examples)


def render(statement: sa.sql.ClauseElement, engine: Engine) -> str:
    """The SQL of ``statement`` on ``engine``, or ``not supported: <reason>``."""
    try:
        compiled = statement.compile(dialect=engine.dialect)
    except CompileError as error:
        return f"not supported: {error}"
    return str(compiled).strip()


def format_section(example: Example, engines: list[Engine]) -> str:
    """One construct: a title line, then one line (or more) per engine."""
    lines = [f"== {example.title}"]
    indent = " " * (LABEL_WIDTH + 2)
    for engine in engines:
        sql_lines = [line.rstrip() for line in render(example.statement, engine).splitlines()]
        lines.append(f"  {engine.label:<{LABEL_WIDTH}}{sql_lines[0]}")
        lines.extend(indent + line for line in sql_lines[1:])
    return "\n".join(lines)


def metadata_ddl(metadata: sa.MetaData, dialect_name: str) -> list[str]:
    """The statements ``create_all`` and then ``drop_all`` emit, through a mock engine.

    A mock engine does not look at the database, so it never passes ``checkfirst``:
    with a real engine, ``create_all`` and ``drop_all`` check first by default and the
    stages get ``IF NOT EXISTS`` / ``IF EXISTS``.
    """
    statements: list[str] = []

    def record(statement: sa.sql.ClauseElement, *args: object, **kw: object) -> None:
        sql = str(statement.compile(dialect=engine.dialect)).strip()
        statements.append(" ".join(sql.split()))

    engine = sa.create_mock_engine(f"{dialect_name}://", record)
    metadata.create_all(engine)
    metadata.drop_all(engine)
    return statements


def main() -> None:
    """Print each construct's SQL for each engine."""
    engines, notes = load_engines()
    demo = build_demo()
    print("sqla_stage demo: the SQL each construct compiles to, per engine")
    print("engines: " + ", ".join(engine.label for engine in engines))
    print("(matrixone is compiled with SQLAlchemy's mysql dialect)")
    for note in notes:
        print(f"note: {note}")
    print(
        "On dialects with the format/pyformat paramstyle a literal % is written %% in the "
        "compiled SQL; the driver turns it back into %."
    )
    print()
    print("repr() masks secrets; the compiled SQL carries them, as the warehouse needs them:")
    print(f"  {demo.exports!r}")
    print()
    print("== MetaData.create_all, then drop_all (duckdb): tables first, stages after; reversed")
    for statement in metadata_ddl(demo.metadata, "duckdb"):
        print(f"  {statement}")
    for example in demo.examples:
        print()
        print(format_section(example, engines))


if __name__ == "__main__":
    main()
