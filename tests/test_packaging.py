"""The package as users get it: the built wheel, and a user's code under ``mypy --strict``.

The wheel is built for real with ``pip wheel`` from a copy of the source tree (so no
``build/`` folder lands in the checkout and no stale file from an earlier build gets in).
pip builds it in an isolated environment with setuptools from the package index, as an
install from a source distribution would.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Left out of the copy that is built: version control, virtual environments, caches,
#: build output and the databases the examples leave behind.
COPY_IGNORE = shutil.ignore_patterns(
    ".*",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    "site",
    "*.duckdb",
    "*.duckdb.*",
)


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE)
    out = tmp / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("sqla_stage-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(wheel_path: Path) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(wheel_path) as archive:
        yield archive


@pytest.fixture(scope="module")
def user_python(wheel_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with the wheel installed, as a user would have it.

    The wheel is unpacked into the environment's site-packages; the dependencies come from
    the test environment's site-packages, named in a .pth file. Paths a .pth file adds are
    not site directories, so the checkout's editable install (an import hook in a .pth
    file there) stays out: ``sqla_stage`` is the wheel's copy, and mypy sees it only if
    the wheel has ``py.typed``.
    """
    venv = tmp_path_factory.mktemp("user") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel_path) as archive:
        archive.extractall(purelib)
    (Path(purelib) / "test_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", "utf-8"
    )
    return python


def dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (member,) = [
        item
        for item in wheel.namelist()
        if item.split("/")[0].endswith(".dist-info") and item.split("/", 1)[1] == name
    ]
    return wheel.read(member).decode("utf-8")


def test_wheel_holds_the_package_and_py_typed(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in [
        "sqla_stage/__init__.py",
        "sqla_stage/runtime/engine/plugin.py",
        "sqla_stage/parser/__init__.py",
        "sqla_stage/alembic/__init__.py",
        "sqla_stage/dialects/__init__.py",
        "sqla_stage/py.typed",
    ]:
        assert module in names
    shipped = {name for name in names if name.startswith("sqla_stage/")}
    sources = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "sqla_stage").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources <= shipped, sorted(sources - shipped)


def test_wheel_leaves_out_tests_benchmarks_and_docs(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"sqla_stage", "sqla_stage-0.1.0.dist-info"}, tops
    for name in wheel.namelist():
        assert not name.startswith(("tests/", "benchmarks/", "docs/")), name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name


def test_wheel_entry_point_license_and_metadata(wheel: zipfile.ZipFile) -> None:
    entry_points = dist_info(wheel, "entry_points.txt")
    assert "[sqlalchemy.plugins]" in entry_points
    assert "sqla_stage = sqla_stage.runtime.engine.plugin:StagePlugin" in entry_points

    license_text = dist_info(wheel, "licenses/LICENSE")
    assert license_text == (ROOT / "LICENSE").read_text("utf-8")
    assert "MIT License" in license_text

    metadata = HeaderParser().parsestr(dist_info(wheel, "METADATA"))
    assert metadata["Name"] == "sqla-stage"
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Requires-Python"] == ">=3.11"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Development Status :: 3 - Alpha" in classifiers

    requires = metadata.get_all("Requires-Dist") or []
    core = {item.split(";")[0].strip() for item in requires if "extra ==" not in item}
    assert "pytz" in core  # DuckDB returns TIMESTAMPTZ through pytz (docs/runtime.md)
    assert {"duckdb<2,>=1.5", "duckdb-engine>=0.17", "tqdm>=4.60"} <= core
    assert "cryptography>=42" in core  # seals the registry's secrets (docs/security.md)
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"alembic", "brotli", "pandas", "polars", "snowflake", "databend"} <= extras
    assert 'brotli>=1.2; extra == "brotli"' in requires  # COMPRESSION = BROTLI
    assert 'snowflake-sqlalchemy>=1.7; extra == "snowflake"' in requires
    assert 'databend-sqlalchemy>=0.5; extra == "databend"' in requires
    assert 'alembic>=1.13; extra == "alembic"' in requires
    assert 'pandas>=2.0; extra == "pandas"' in requires
    assert 'cryptography>=42; extra == "encryption"' in requires
    # The long description is the README, with no link that breaks outside the repository.
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "](docs/" not in metadata.get_payload()


#: A user's program against the installed package. Every name from sqla_stage must be
#: typed for ``mypy --strict`` to pass: without py.typed mypy reports the imports as
#: "module is installed, but missing library stubs or py.typed marker".
USER_SCRIPT = '''\
"""Nightly export: unload the orders table to a stage and load it back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from sqla_stage import CSV, CopyInto, ListFiles, Parquet, Stage, StageParseError, parse, staged
from sqla_stage.runtime.engine.settings import RuntimeSettings, settings_of

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("customer", sa.String(50)),
    sa.Column("total", sa.Numeric(10, 2)),
)
archive = sa.Table(
    "orders_archive",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("customer", sa.String(50)),
    sa.Column("total", sa.Numeric(10, 2)),
)
exports = Stage("exports", metadata, comment="nightly exports")


def stage_root(engine: sa.Engine) -> Path:
    settings: RuntimeSettings | None = settings_of(engine)
    assert settings is not None and settings.stage_root is not None
    return Path(settings.stage_root)


def newest_file(conn: sa.Connection) -> tuple[str, int, dt.datetime] | None:
    newest: tuple[str, int, dt.datetime] | None = None
    for row in conn.execute(ListFiles(exports, pattern=r".*\\.parquet")):
        name: str = row.name
        size: int = row.size
        modified: dt.datetime = row.last_modified
        if newest is None or modified > newest[2]:
            newest = (name, size, modified)
    return newest


def export(database: str) -> int:
    engine = sa.create_engine(f"duckdb:///{database}", plugins=["sqla_stage"])
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(orders.insert(), [{"id": 1, "customer": "ada", "total": 9.5}])
        unload = CopyInto(exports / "orders/", orders, file_format=Parquet(), header=True)
        unloaded = conn.execute(unload).one()
        print("unloaded", unloaded.rows_unloaded)
        conn.execute(CopyInto(exports / "csv/", orders, file_format=CSV(field_delimiter=";")))
        print(newest_file(conn))
        loaded = 0
        for row in conn.execute(CopyInto(archive, exports / "orders/", file_format=Parquet())):
            loaded += int(row.rows_loaded)
        files = staged(exports / "orders/", file_format=Parquet(), columns=["id", "total"])
        total = conn.execute(sa.select(sa.func.sum(files.c.total))).scalar_one()
        print("total", total, "root", stage_root(engine))
    try:
        parse("COPY INTO @exports FROM orders FILE_FORMAT = (TYPE = XML)")
    except StageParseError as error:
        print(error)
    return loaded


if __name__ == "__main__":
    print(export("orders.duckdb"))
'''


def mypy_strict(
    python: Path, folder: Path, script: str = USER_SCRIPT, name: str = "nightly.py"
) -> subprocess.CompletedProcess[str]:
    (folder / name).write_text(script, "utf-8")
    # cwd is the temporary folder, so the repository's [tool.mypy] settings do not apply;
    # --python-executable makes mypy look for installed packages where the user has them.
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    return subprocess.run(
        [*command, "--python-executable", str(python), name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.extra("mypy")
def test_user_code_passes_mypy_strict(user_python: Path, tmp_path: Path) -> None:
    result = mypy_strict(user_python, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


#: A user's program written against the ORM API: declarative models, the everyday stage
#: calls through a Connection, an Engine and a Session, CopyInto with mapped classes and
#: staged files read as mapped objects.
ORM_SCRIPT = '''\
"""Users and their orders, unloaded to a stage and loaded back, with the ORM."""

from __future__ import annotations

import polars
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column, relationship

from sqla_stage import CSV, CopyInto, Parquet, Stage, staged, staged_entity
from sqla_stage.stage_methods import StageBind


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str]
    orders: Mapped[list[Order]] = relationship(back_populates="user")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    total: Mapped[int]
    user: Mapped[User] = relationship(back_populates="orders")


landing = Stage("landing", Base.metadata, file_format=Parquet())


def file_names(bind: StageBind) -> list[str]:
    return [str(row.name) for row in landing.list(bind, pattern=r".*\\.parquet")]


def export(engine: sa.Engine) -> int:
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        done = landing.unload(conn, User, "u/", header=True, max_file_size=16_000_000)
        rows: int = done.one().rows_unloaded
        landing.unload(conn, sa.select(Order).where(Order.total > 5), "o/", single=True)
        conn.execute(CopyInto(landing / "users/", User, file_format=Parquet(), header=True))
    landing.put(engine, "/tmp/users.csv", "in/", overwrite=True, parallel=4)
    landing.get(engine, "in/", "/tmp/back/", pattern=r".*\\.gz")
    with Session(engine) as session, session.begin():
        loaded = landing.load(
            session, User, "in/", file_format=CSV(skip_header=1), on_error="CONTINUE",
            match_by_column_name="CASE_INSENSITIVE", purge=True,
        )
        for row in loaded:
            print(row.file, row.rows_loaded)
        session.execute(CopyInto(Order, landing / "o/", file_format=Parquet()))
        table_stage = Stage.table(User) / "in/"
        session.execute(CopyInto(User, table_stage, columns=[User.id, User.name]))
        staged_users = staged_entity(User, landing / "u/", file_format=Parquet())
        for person in session.scalars(sa.select(staged_users).order_by(staged_users.name)):
            print(person.id + 1)
        files = staged(landing / "u/", file_format=Parquet(), columns=["id", "name"])
        staged_user = aliased(User, files.alias("u"), adapt_on_names=True)
        for user in session.scalars(sa.select(staged_user).where(staged_user.id > 1)):
            print(user.name)
        landing.remove(session, path="o/")
    arrow = landing.read_arrow(engine, "u/")  # pyarrow ships no type hints
    frame: polars.DataFrame = landing.read_polars(engine, "u/", pattern=r".*\\.parquet")
    print(arrow.num_rows, frame.height, file_names(engine))
    return rows
'''

#: Misspelt or mistyped options, which an IDE and mypy flag.
ORM_MISTAKES = """\
from __future__ import annotations

import sqlalchemy as sa

from sqla_stage import Stage

landing = Stage("landing")
users = sa.Table("users", sa.MetaData(), sa.Column("id", sa.Integer))


def mistakes(conn: sa.Connection) -> None:
    landing.unload(conn, users, "u/", headr=True)
    landing.unload(conn, users, "u/", max_file_size="16MB")
    landing.load(conn, users, "u/", match_by_column_name="SOMETIMES")
    landing.put(conn, "/tmp/a.csv", parallel=True, overwrite=1)
"""


@pytest.mark.extra("mypy", "polars")
def test_orm_user_code_passes_mypy_strict(user_python: Path, tmp_path: Path) -> None:
    result = mypy_strict(user_python, tmp_path, ORM_SCRIPT, "orm_export.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.extra("mypy")
def test_mypy_flags_a_misspelt_or_mistyped_stage_option(user_python: Path, tmp_path: Path) -> None:
    result = mypy_strict(user_python, tmp_path, ORM_MISTAKES, "mistakes.py")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert 'Unexpected keyword argument "headr" for "unload"' in out
    assert (
        'Argument "max_file_size" to "unload" of "StageMethods" has incompatible type "str"' in out
    )
    assert 'Argument "match_by_column_name" to "load" of "StageMethods" has incompatible' in out
    assert 'Argument "overwrite" to "put" of "StageMethods" has incompatible type "int"' in out
    assert "Found 4 errors in 1 file" in out  # parallel=True: a bool is an int to mypy


@pytest.mark.extra("mypy")
def test_without_py_typed_mypy_refuses_the_package(user_python: Path, tmp_path: Path) -> None:
    """The check above is the one py.typed makes pass."""
    purelib = user_python.parent.parent / "lib"
    (marker,) = purelib.glob("python3*/site-packages/sqla_stage/py.typed")
    hidden = marker.with_name("py.typed.hidden")
    marker.rename(hidden)
    try:
        result = mypy_strict(user_python, tmp_path)
    finally:
        hidden.rename(marker)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "missing library stubs or py.typed marker" in result.stdout


def test_user_script_runs_on_the_wheel(user_python: Path, tmp_path: Path) -> None:
    (tmp_path / "nightly.py").write_text(USER_SCRIPT, "utf-8")
    probe = "import sqla_stage; print(sqla_stage.__file__)"
    where = subprocess.run(
        [str(user_python), "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert str(ROOT) not in where, where  # the wheel's copy, not the checkout
    result = subprocess.run(
        [str(user_python), "nightly.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "unloaded 1"
    assert lines[-1] == "1"
